-- SPDX-License-Identifier: MIT
-- The check of an order's status as a chain of comparisons, for SQLite: SQLite evaluated
-- `status IN ('pending', …)` by building a small temporary index of the six names for every row
-- written (inserted or updated), which was about a sixth of the instructions of a bulk import
-- of orders (bench/bench_import.c). Same statuses, same meaning. SQLite cannot alter a CHECK,
-- so `orders` is rebuilt as in 0023, with foreign keys deferred to the commit (order_item,
-- order_status_history, payments, certificates and flash_prepay point at it by name; none
-- cascades). PostgreSQL's check needs no change (../pg/0048_order_status_check.sql).
-- Used by src/domain/commerce/commerce_store.c. Tests: tests/unit/domain/test_commerce_store.c.

PRAGMA defer_foreign_keys = ON;

CREATE TABLE orders_0048 AS SELECT * FROM orders;
DROP TABLE orders;
CREATE TABLE orders (
    order_id     INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    public_id    TEXT NOT NULL,
    source       TEXT NOT NULL DEFAULT 'api',
    external_id  TEXT NULL,
    customer_id  INTEGER NOT NULL REFERENCES customer (customer_id),
    status       TEXT NOT NULL DEFAULT 'pending'
        CHECK (status = 'pending' OR status = 'paid' OR status = 'fulfilled' OR
               status = 'cancelled' OR status = 'refunded' OR status = 'partially_refunded'),
    currency     TEXT NOT NULL,
    total_amount INTEGER NOT NULL CHECK (total_amount >= 0),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    campaign     TEXT NULL,
    UNIQUE (tenant_id, public_id),
    UNIQUE (tenant_id, source, external_id)
);
INSERT INTO orders (order_id, tenant_id, public_id, source, external_id, customer_id, status,
                    currency, total_amount, created_at, updated_at, campaign)
SELECT order_id, tenant_id, public_id, source, external_id, customer_id, status, currency,
       total_amount, created_at, updated_at, campaign
FROM orders_0048;
DROP TABLE orders_0048;
CREATE INDEX orders_customer_idx ON orders (tenant_id, customer_id, order_id);
