-- Per-tenant provider settings (WhatsApp, VAPI, Stripe, iyzico, Shopify, WooCommerce): one row
-- per field. Secret fields hold sealed text (secretbox under the server's key file or
-- ICESHOP_SECRET_KEY), never plaintext. Route fields (a WhatsApp phone_number_id, a Stripe
-- account id) say which tenant an inbound webhook belongs to, so each value has one owner.
CREATE TABLE integration_fields (
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    provider   TEXT NOT NULL,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    is_secret  INTEGER NOT NULL DEFAULT 0,
    is_route   INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, provider, name)
);
CREATE UNIQUE INDEX integration_fields_route_idx ON integration_fields (provider, name, value)
    WHERE is_route = 1;
