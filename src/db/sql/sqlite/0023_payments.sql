-- SPDX-License-Identifier: MIT
-- Payments for SQLite: an order's payments at a provider (Stripe, iyzico), their refunds, the
-- idempotency keys of the payment routes, and the history of every status change of a payment and
-- of an order with its cause. Orders' statuses become pending → paid → fulfilled, or cancelled /
-- refunded / partially_refunded; the old 'placed' (an order not yet paid) is 'pending' from now
-- on (imports still accept "placed" and store it as pending). SQLite cannot alter a CHECK, so
-- `orders` is rebuilt: copied aside, dropped, created again and refilled, with foreign keys
-- deferred to the commit (order_item and payments point at it by name).
-- Keep in step with ../pg/0023_payments.sql. Used by src/domain/payments/payments_store.c.

PRAGMA defer_foreign_keys = ON;

CREATE TABLE orders_0023 AS SELECT * FROM orders;
DROP TABLE orders;
CREATE TABLE orders (
    order_id     INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    public_id    TEXT NOT NULL,
    source       TEXT NOT NULL DEFAULT 'api',
    external_id  TEXT NULL,
    customer_id  INTEGER NOT NULL REFERENCES customer (customer_id),
    status       TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'paid', 'fulfilled', 'cancelled', 'refunded',
                          'partially_refunded')),
    currency     TEXT NOT NULL,
    total_amount INTEGER NOT NULL CHECK (total_amount >= 0),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (tenant_id, public_id),
    UNIQUE (tenant_id, source, external_id)
);
INSERT INTO orders (order_id, tenant_id, public_id, source, external_id, customer_id, status,
                    currency, total_amount, created_at, updated_at)
SELECT order_id, tenant_id, public_id, source, external_id, customer_id,
       CASE status WHEN 'placed' THEN 'pending' ELSE status END,
       currency, total_amount, created_at, updated_at
FROM orders_0023;
DROP TABLE orders_0023;
CREATE INDEX orders_customer_idx ON orders (tenant_id, customer_id, order_id);

-- Every change of an order's status and why: 'payment' (a provider event or answer), 'refund',
-- 'reconciliation' (the provider asked about a payment left pending), 'api', 'import'.
CREATE TABLE order_status_history (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    order_id    INTEGER NOT NULL REFERENCES orders (order_id),
    from_status TEXT NULL,
    to_status   TEXT NOT NULL,
    cause       TEXT NOT NULL,
    payment_id  INTEGER NULL,
    at          TEXT NOT NULL
);
CREATE INDEX order_status_history_order_idx ON order_status_history (tenant_id, order_id, id);

-- One attempt to take an order's money at a provider. The amount and currency are the order's
-- when the attempt was made. provider_ref is the PaymentIntent (pi_…) or the iyzico Checkout Form
-- token; status moves only forward (src/domain/payments/payments.h).
CREATE TABLE payments (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    public_id       TEXT NOT NULL,
    order_id        INTEGER NOT NULL REFERENCES orders (order_id),
    provider        TEXT NOT NULL CHECK (provider IN ('stripe', 'iyzico')),
    status          TEXT NOT NULL DEFAULT 'created'
        CHECK (status IN ('created', 'pending', 'failed', 'canceled', 'succeeded',
                          'partially_refunded', 'refunded')),
    currency        TEXT NOT NULL,
    amount          INTEGER NOT NULL CHECK (amount > 0),
    refunded_amount INTEGER NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
    provider_ref    TEXT NULL,
    provider_payment_id TEXT NULL,
    provider_txn_id TEXT NULL, -- iyzico: the basket item's paymentTransactionId (refunds)
    client_secret   TEXT NULL,
    page_url        TEXT NULL,
    disputed        INTEGER NOT NULL DEFAULT 0,
    error           TEXT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (tenant_id, public_id),
    UNIQUE (provider, provider_ref)
);
CREATE INDEX payments_order_idx ON payments (tenant_id, order_id, id);
CREATE INDEX payments_status_idx ON payments (status, updated_at);

-- Every change of a payment's status (and of what it has refunded) and why.
CREATE TABLE payment_history (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    payment_id  INTEGER NOT NULL REFERENCES payments (id),
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    refunded_amount INTEGER NOT NULL DEFAULT 0,
    cause       TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    at          TEXT NOT NULL
);
CREATE INDEX payment_history_payment_idx ON payment_history (tenant_id, payment_id, id);

CREATE TABLE payment_refunds (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    public_id    TEXT NOT NULL,
    payment_id   INTEGER NOT NULL REFERENCES payments (id),
    amount       INTEGER NOT NULL CHECK (amount > 0),
    status       TEXT NOT NULL DEFAULT 'created'
        CHECK (status IN ('created', 'succeeded', 'failed')),
    provider_ref TEXT NULL,
    error        TEXT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (tenant_id, public_id)
);
CREATE INDEX payment_refunds_payment_idx ON payment_refunds (tenant_id, payment_id, id);

-- Idempotency-Key of the payment routes, as Stripe's own API: the first answer is kept and
-- replayed for the same key and request; the same key with another request is refused.
-- response_status is NULL while the first request is still running (or failed in a way the
-- client may retry with the same key).
CREATE TABLE payment_idempotency (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    idem_key        TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    resource_id     INTEGER NULL,
    response_status INTEGER NULL,
    response_body   TEXT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (tenant_id, idem_key)
);
