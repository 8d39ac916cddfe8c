-- SPDX-License-Identifier: MIT
-- Prepaid flash windows for SQLite: a window may require prepayment (prepay), and each buyer who
-- joins one gets a commerce order for the discounted price, linked here to the window and the
-- buyer. The buyer is a participant once the order is paid; a cancelled window refunds every paid
-- order. Keep in step with ../pg/0039_flash_prepay.sql. Times are ISO-8601 UTC text; money is
-- minor units. Used by src/domain/flash/flash_store.c. Tests:
-- tests/unit/domain/test_flash_service.c, tests/integration/0004-flash.c.

ALTER TABLE flash_windows ADD COLUMN prepay INTEGER NOT NULL DEFAULT 0 CHECK (prepay IN (0, 1));

-- status: pending (order placed, not paid), paid (the buyer is a participant), refunding (the
-- window was cancelled; a flash.refund job is due), refunded, dropped (cancelled before payment).
-- buyer_id: NULL once the buyer was erased (the order stays, as the law keeps it).
CREATE TABLE flash_prepay (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    window_id  INTEGER NOT NULL REFERENCES flash_windows (id),
    buyer_id   INTEGER NULL REFERENCES buyers (id),
    order_id   INTEGER NOT NULL UNIQUE REFERENCES orders (order_id),
    amount     INTEGER NOT NULL CHECK (amount >= 0),
    currency   TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'paid', 'refunding', 'refunded', 'dropped')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (window_id, buyer_id)
);
CREATE INDEX flash_prepay_window_idx ON flash_prepay (tenant_id, window_id, status);
