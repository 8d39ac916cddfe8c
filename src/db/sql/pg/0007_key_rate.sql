-- SPDX-License-Identifier: MIT
-- Per-key request rate: NULL = the server's default (ICESHOP_RATE_LIMIT_KEY), 0 = unlimited,
-- N = N requests per second (burst twice that). Keep in step with sqlite/0007_key_rate.sql.

ALTER TABLE api_keys ADD COLUMN rate_limit INTEGER CHECK (rate_limit >= 0);
