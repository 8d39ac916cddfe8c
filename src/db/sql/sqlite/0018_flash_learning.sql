-- What the flash system has learned about discounts: per seller, category and discount, the
-- offers sent and the visits (redemptions) they brought, added when a window ends. The learning
-- policy reads these as Beta posteriors (src/domain/flash/learning.h).
CREATE TABLE flash_learning (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    seller_id  INTEGER NOT NULL REFERENCES sellers (id),
    category   TEXT NOT NULL,
    discount   INTEGER NOT NULL CHECK (discount BETWEEN 0 AND 100),
    offers     INTEGER NOT NULL CHECK (offers >= 0),
    visits     INTEGER NOT NULL CHECK (visits >= 0 AND visits <= offers),
    updated_at TEXT NOT NULL,
    UNIQUE (tenant_id, seller_id, category, discount)
);
