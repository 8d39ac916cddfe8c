-- Message kinds are registered by the modules that send them, not a closed list, and a message
-- is about a generic subject (about_kind + about_pk: "window" 42, later "order" 7) instead of a
-- flash window. SQLite cannot drop a CHECK or a column with a foreign key in place, so the table
-- is rebuilt, and message_attachments (which points at it) with it: the new tables are filled,
-- the old ones dropped children first, and the new ones renamed (the rename carries the
-- attachments' reference over to the new messages table).

CREATE TABLE messages_new (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants (id),
    recipient_kind TEXT NOT NULL CHECK (recipient_kind IN ('buyer', 'seller', 'contact')),
    recipient_pk   INTEGER NOT NULL,
    recipient_id   TEXT NOT NULL DEFAULT '',
    phone          TEXT NOT NULL DEFAULT '',
    language       TEXT NOT NULL DEFAULT 'tr' CHECK (language IN ('tr', 'en')),
    kind           TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 48),
    body           TEXT NOT NULL,
    about_kind     TEXT NOT NULL DEFAULT '',
    about_pk       INTEGER NULL,
    status         TEXT NOT NULL
        CHECK (status IN ('pending', 'sent', 'delivered', 'read', 'failed')),
    error          TEXT NOT NULL DEFAULT '',
    provider_id    TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    channel        TEXT NOT NULL DEFAULT 'whatsapp' CHECK (channel IN ('whatsapp', 'email')),
    email          TEXT NOT NULL DEFAULT '',
    subject        TEXT NOT NULL DEFAULT ''
);

INSERT INTO messages_new (id, tenant_id, recipient_kind, recipient_pk, recipient_id, phone,
                          language, kind, body, about_kind, about_pk, status, error, provider_id,
                          created_at, updated_at, channel, email, subject)
SELECT id, tenant_id, recipient_kind, recipient_pk, recipient_id, phone, language, kind, body,
       CASE WHEN window_id IS NULL THEN '' ELSE 'window' END, window_id, status, error,
       provider_id, created_at, updated_at, channel, email, subject
FROM messages;

CREATE TABLE message_attachments_new (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    message_id   INTEGER NOT NULL REFERENCES messages_new (id),
    position     INTEGER NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    content      TEXT NOT NULL, -- base64
    UNIQUE (message_id, position)
);
INSERT INTO message_attachments_new (id, tenant_id, message_id, position, filename, content_type,
                                     size, content)
SELECT id, tenant_id, message_id, position, filename, content_type, size, content
FROM message_attachments;

DROP TABLE message_attachments;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
ALTER TABLE message_attachments_new RENAME TO message_attachments;

CREATE INDEX messages_tenant_idx ON messages (tenant_id, id);
CREATE INDEX messages_status_idx ON messages (tenant_id, status, id);
CREATE INDEX messages_recipient_idx ON messages (tenant_id, recipient_id, id);
CREATE INDEX messages_about_idx ON messages (tenant_id, about_kind, about_pk);
CREATE INDEX messages_provider_idx ON messages (provider_id) WHERE provider_id <> '';
