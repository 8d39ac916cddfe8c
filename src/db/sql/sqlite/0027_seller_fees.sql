-- SPDX-License-Identifier: MIT
-- The seller's ledger for SQLite (seed 000's "micro-traffic fee"): one row per redeemed visit
-- of a flash window, with the fee the tenant's traffic_fee setting named at that moment, so a
-- later change of the setting never rewrites a past statement. Keep in step with
-- ../pg/0027_seller_fees.sql. Times are ISO-8601 UTC text; money is minor units. Used by
-- src/domain/flash/flash_store.c. Tests: tests/unit/domain/test_flash_service.c,
-- tests/integration/0004-flash.c.

-- buyer_id: NULL once the buyer was erased (the seller's bill keeps the visit, not the person).
-- code: the redemption code, unique in its window, so a visit is billed once.
CREATE TABLE seller_fees (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    seller_id  INTEGER NOT NULL REFERENCES sellers (id),
    window_id  INTEGER NOT NULL REFERENCES flash_windows (id),
    buyer_id   INTEGER NULL REFERENCES buyers (id),
    code       TEXT NOT NULL,
    category   TEXT NOT NULL DEFAULT '',
    fee        INTEGER NOT NULL CHECK (fee >= 0),
    currency   TEXT NOT NULL,
    visited_at TEXT NOT NULL,
    UNIQUE (window_id, code)
);
CREATE INDEX seller_fees_seller_idx ON seller_fees (tenant_id, seller_id, visited_at);
