-- A user's email is unique within a tenant, not across tenants: creating a user must never
-- reveal that an address exists in another tenant. SQLite cannot drop an inline UNIQUE, so the
-- table is rebuilt with the same rows.
CREATE TABLE users_v2 (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    disabled_at TEXT,
    UNIQUE (tenant_id, email)
);
INSERT INTO users_v2 (id, tenant_id, email, password_hash, role, created_at, disabled_at)
SELECT id, tenant_id, email, password_hash, role, created_at, disabled_at FROM users;
DROP TABLE users;
ALTER TABLE users_v2 RENAME TO users;
CREATE INDEX users_tenant_id ON users (tenant_id);
CREATE INDEX users_email ON users (email);
