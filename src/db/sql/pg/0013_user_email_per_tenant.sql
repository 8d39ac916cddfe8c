-- A user's email is unique within a tenant, not across tenants: creating a user must never
-- reveal that an address exists in another tenant.
ALTER TABLE users DROP CONSTRAINT users_email_key;
ALTER TABLE users ADD CONSTRAINT users_tenant_id_email_key UNIQUE (tenant_id, email);
CREATE INDEX users_email ON users (email);
