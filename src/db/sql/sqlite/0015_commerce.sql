-- SPDX-License-Identifier: MIT
-- Commerce data for SQLite: cities with monthly climate, customers, categories, products, orders
-- with items and carts with items, per tenant. Names follow the customer-intelligence seed
-- (its Prisma @map's): city_id, avg_temp_c, birth_date, is_active ...; `orders` is the seed's
-- Order (ORDER is an SQL keyword). Money is integer minor units plus an ISO 4217 `currency`.
-- Rows from outside carry (source, external_id), unique per tenant, so imports are idempotent.
-- Keep in step with ../pg/0015_commerce.sql. Used by src/domain/commerce/commerce_store.c.

CREATE TABLE city (
    city_id      INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    public_id    TEXT NOT NULL,
    source       TEXT NOT NULL DEFAULT 'api',
    external_id  TEXT NULL,
    country_code TEXT NOT NULL CHECK (length(country_code) = 2),
    name         TEXT NOT NULL,
    region_code  TEXT NULL,
    latitude     REAL NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude    REAL NULL CHECK (longitude BETWEEN -180 AND 180),
    created_at   TEXT NOT NULL,
    UNIQUE (tenant_id, public_id),
    UNIQUE (tenant_id, source, external_id)
);

CREATE TABLE geo_climate_monthly (
    climate_id   INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    city_id      INTEGER NOT NULL REFERENCES city (city_id),
    month        INTEGER NOT NULL CHECK (month BETWEEN 1 AND 12),
    avg_temp_c   REAL NULL,
    rainfall_mm  REAL NULL CHECK (rainfall_mm >= 0),
    humidity_pct REAL NULL CHECK (humidity_pct BETWEEN 0 AND 100),
    season_tag   TEXT NULL,
    UNIQUE (city_id, month)
);

CREATE TABLE customer (
    customer_id INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    public_id   TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT 'api',
    external_id TEXT NULL,
    email       TEXT NULL,
    phone       TEXT NULL,
    birth_date  TEXT NULL, -- YYYY-MM-DD
    gender      TEXT NULL,
    city_id     INTEGER NULL REFERENCES city (city_id),
    is_active   INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (tenant_id, public_id),
    UNIQUE (tenant_id, source, external_id)
);

CREATE TABLE category (
    category_id INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    public_id   TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT 'api',
    external_id TEXT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (tenant_id, public_id),
    UNIQUE (tenant_id, source, external_id)
);

-- name, price and currency are NULL for a product an imported order named before it was known.
CREATE TABLE product (
    product_id  INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    public_id   TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT 'api',
    external_id TEXT NULL,
    category_id INTEGER NULL REFERENCES category (category_id),
    name        TEXT NULL,
    price       INTEGER NULL CHECK (price >= 0),
    currency    TEXT NULL,
    stock       INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (tenant_id, public_id),
    UNIQUE (tenant_id, source, external_id)
);

-- total_amount is the sum of the items; cancelled and refunded orders never count as spend.
CREATE TABLE orders (
    order_id     INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    public_id    TEXT NOT NULL,
    source       TEXT NOT NULL DEFAULT 'api',
    external_id  TEXT NULL,
    customer_id  INTEGER NOT NULL REFERENCES customer (customer_id),
    status       TEXT NOT NULL DEFAULT 'placed'
        CHECK (status IN ('placed', 'paid', 'cancelled', 'refunded')),
    currency     TEXT NOT NULL,
    total_amount INTEGER NOT NULL CHECK (total_amount >= 0),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (tenant_id, public_id),
    UNIQUE (tenant_id, source, external_id)
);
CREATE INDEX orders_customer_idx ON orders (tenant_id, customer_id, order_id);

CREATE TABLE order_item (
    order_item_id INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    order_id      INTEGER NOT NULL REFERENCES orders (order_id),
    product_id    INTEGER NOT NULL REFERENCES product (product_id),
    quantity      INTEGER NOT NULL CHECK (quantity > 0),
    price         INTEGER NOT NULL CHECK (price >= 0) -- unit price, minor units of the order's currency
);
CREATE INDEX order_item_order_idx ON order_item (order_id);

CREATE TABLE cart (
    cart_id      INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    public_id    TEXT NOT NULL,
    source       TEXT NOT NULL DEFAULT 'api',
    external_id  TEXT NULL,
    customer_id  INTEGER NOT NULL REFERENCES customer (customer_id),
    currency     TEXT NOT NULL,
    total_amount INTEGER NOT NULL CHECK (total_amount >= 0),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (tenant_id, public_id),
    UNIQUE (tenant_id, source, external_id)
);
CREATE INDEX cart_customer_idx ON cart (tenant_id, customer_id, cart_id);

CREATE TABLE cart_item (
    cart_item_id INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    cart_id      INTEGER NOT NULL REFERENCES cart (cart_id),
    product_id   INTEGER NOT NULL REFERENCES product (product_id),
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    price        INTEGER NOT NULL CHECK (price >= 0)
);
CREATE INDEX cart_item_cart_idx ON cart_item (cart_id);
