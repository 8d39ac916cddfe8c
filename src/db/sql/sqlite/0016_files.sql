-- Files people upload (PDF, PNG, JPEG, WebP): one row per file, owned by a tenant and by the
-- credential that uploaded it; the bytes live in storage under storage_key (never derived from
-- the name). A presigned upload is 'pending' until it is completed and checked. The per-tenant
-- upload limit overrides the server's default when a row exists.
CREATE TABLE files (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    owner       TEXT NOT NULL,
    name        TEXT NOT NULL,
    mime        TEXT NOT NULL DEFAULT '',
    size        INTEGER NOT NULL DEFAULT 0,
    sha256      TEXT NOT NULL DEFAULT '',
    storage_key TEXT NOT NULL UNIQUE,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'ready')),
    created_at  TEXT NOT NULL,
    expires_at  TEXT
);
CREATE INDEX files_tenant_idx ON files (tenant_id, id);

CREATE TABLE files_limits (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants (id),
    max_bytes INTEGER NOT NULL CHECK (max_bytes > 0)
);
