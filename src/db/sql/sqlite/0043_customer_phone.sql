-- SPDX-License-Identifier: MIT
-- One person, one customer, for SQLite: a WhatsApp buyer of the flash windows is the customer
-- with the same phone (E.164), found through this index when a redeemed visit becomes an order.
-- Keep in step with ../pg/0043_customer_phone.sql. Used by
-- src/domain/commerce/commerce_store.c (commerce_store_customer_by_phone) and
-- src/domain/flash/visit_order.c. Tests: tests/unit/domain/test_flash_service.c.
CREATE INDEX customer_tenant_phone ON customer (tenant_id, phone);
