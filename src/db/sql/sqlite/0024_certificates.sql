-- SPDX-License-Identifier: MIT
-- Purchase certificates for SQLite: one per paid order (unique), with what it states (owner,
-- place, amount, issuer, dates) kept as issued, its Ed25519 signature and the key that made it,
-- its PDF in file storage (file_key, the key of a files row), and its lifecycle PENDING ->
-- GENERATING -> READY | FAILED; revoked when revoke_reason is set. Signing keys are per tenant;
-- the secret half is sealed under the server key (core/crypto.h sec_box_seal) like provider
-- secrets. Keep in step with ../pg/0024_certificates.sql. Used by src/domain/certificates.

CREATE TABLE certificate_keys (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    kid           TEXT NOT NULL UNIQUE,
    alg           TEXT NOT NULL DEFAULT 'Ed25519' CHECK (alg = 'Ed25519'),
    public_key    TEXT NOT NULL, -- base64url of the 32-byte public key
    secret_sealed TEXT NOT NULL, -- "sb1." sealed 64-byte secret key
    created_at    TEXT NOT NULL
);
CREATE INDEX certificate_keys_tenant_idx ON certificate_keys (tenant_id, id);

CREATE TABLE certificates (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    public_id     TEXT NOT NULL UNIQUE,
    order_id      INTEGER NOT NULL REFERENCES orders (order_id),
    customer_id   INTEGER NOT NULL REFERENCES customer (customer_id),
    issuer        TEXT NOT NULL,
    owner_name    TEXT NOT NULL,
    owner_email   TEXT NULL,
    place         TEXT NOT NULL DEFAULT '',
    amount        INTEGER NOT NULL CHECK (amount >= 0),
    currency      TEXT NOT NULL,
    items         TEXT NOT NULL DEFAULT '', -- the PDF's item lines, one per line
    status        TEXT NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'GENERATING', 'READY', 'FAILED')),
    file_key      TEXT NULL,
    kid           TEXT NULL,
    signature     TEXT NULL, -- base64url Ed25519 signature of the canonical data
    error         TEXT NULL,
    issued_at     TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT NULL,
    revoke_reason TEXT NULL,
    requested_by  TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (tenant_id, order_id)
);
CREATE INDEX certificates_tenant_idx ON certificates (tenant_id, id);
CREATE INDEX certificates_customer_idx ON certificates (tenant_id, customer_id);
