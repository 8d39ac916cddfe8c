-- The inbound-event ledger: every verified provider webhook event (Stripe, iyzico, Shopify,
-- WooCommerce, Standard Webhooks senders) is kept once per (tenant, provider, event id),
-- stored in the same transaction that enqueues its processing job, before the 2xx goes out.
-- A redelivery finds its row and is acknowledged without being acted on again.
CREATE TABLE inbound_events (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    provider     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    event_type   TEXT NOT NULL DEFAULT '',
    body_sha256  TEXT NOT NULL, -- hex of the raw body, to tell a true replay from a changed one
    body         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'received'
        CHECK (status IN ('received', 'processed', 'ignored')),
    error        TEXT NOT NULL DEFAULT '',
    duplicates   INTEGER NOT NULL DEFAULT 0,
    received_at  TEXT NOT NULL,
    processed_at TEXT,
    UNIQUE (tenant_id, provider, event_id)
);
CREATE INDEX inbound_events_list_idx ON inbound_events (tenant_id, id);
