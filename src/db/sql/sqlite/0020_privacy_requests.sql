-- Requests of people about their own data (KVKK / GDPR): an export or an erasure, when, and what
-- it touched. The person is kept only as the SHA-256 of their normalised phone and email, so a
-- later question ("was this number erased?") can be answered without keeping the number.
CREATE TABLE privacy_requests (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    kind         TEXT NOT NULL CHECK (kind IN ('export', 'erase')),
    subject_hash TEXT NOT NULL,
    summary      TEXT NOT NULL, -- JSON: rows per table
    created_at   TEXT NOT NULL
);
CREATE INDEX privacy_requests_tenant_idx ON privacy_requests (tenant_id, id);
