-- Alerts get a kind (what went wrong, e.g. 'whatsapp.auth'), a repeat count and the time they
-- were last seen, so a repeated failure bumps one open alert per tenant and kind instead of
-- adding rows; a partial unique index makes that dedupe safe under concurrent raisers.
ALTER TABLE alerts ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN occurrences BIGINT NOT NULL DEFAULT 1;
ALTER TABLE alerts ADD COLUMN last_seen_at TIMESTAMPTZ;
UPDATE alerts SET kind = source || '.' || code, last_seen_at = created_at;
CREATE UNIQUE INDEX alerts_open_kind_idx ON alerts (tenant_id, kind) WHERE resolved_at IS NULL;
CREATE INDEX alerts_tenant_idx ON alerts (tenant_id, id);
