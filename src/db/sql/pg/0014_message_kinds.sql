-- Message kinds are registered by the modules that send them, not a closed list, and a message
-- is about a generic subject (about_kind + about_pk: "window" 42, later "order" 7) instead of a
-- flash window.
ALTER TABLE messages DROP CONSTRAINT messages_kind_check;
ALTER TABLE messages ADD CONSTRAINT messages_kind_check CHECK (char_length(kind) BETWEEN 1 AND 48);
ALTER TABLE messages ADD COLUMN about_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN about_pk BIGINT NULL;
UPDATE messages SET about_kind = 'window', about_pk = window_id WHERE window_id IS NOT NULL;
DROP INDEX IF EXISTS messages_window_idx;
ALTER TABLE messages DROP COLUMN window_id;
CREATE INDEX messages_about_idx ON messages (tenant_id, about_kind, about_pk);
