-- SPDX-License-Identifier: MIT
-- A customer's name for PostgreSQL: the person a paid order's certificate names (before, the
-- certificate could only name the customer by id). NULL when unknown; erasure sets it NULL.
-- Keep in step with ../sqlite/0029_customer_name.sql. Used by src/domain/commerce/commerce_store.c
-- and src/domain/certificates/certificates_store.c. Tests: tests/integration/0018-commerce.c,
-- tests/integration/0024-certificates.c, tests/unit/platform/test_privacy.c.
ALTER TABLE customer ADD COLUMN name TEXT NULL;
