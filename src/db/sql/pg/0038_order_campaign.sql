-- SPDX-License-Identifier: MIT
-- What price sensitivity needs to be measured rather than guessed, for PostgreSQL: the campaign an
-- order was placed under and each item's undiscounted price. Keep in step with
-- ../sqlite/0038_order_campaign.sql. Used by src/domain/commerce/commerce_store.c and
-- src/domain/intel/profile_batch.c. Tests: tests/integration/0018-commerce.c,
-- tests/unit/domain/test_profile_batch.c.

-- campaign: an Iceshop campaign id or an outside code (a shop's discount code); NULL = none. Not a
-- reference: the decision log may be erased while the order is kept.
ALTER TABLE orders ADD COLUMN campaign TEXT NULL;
-- list_price: the unit price before any discount, minor units; NULL = not known.
ALTER TABLE order_item ADD COLUMN list_price BIGINT NULL CHECK (list_price >= 0);
ALTER TABLE cart_item ADD COLUMN list_price BIGINT NULL CHECK (list_price >= 0);
