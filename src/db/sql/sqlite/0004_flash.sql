-- SPDX-License-Identifier: MIT
-- Flash windows for SQLite: per-tenant engine configuration, buyers and sellers, their signal
-- history, windows with targets, pre-commits and participants, and the notification outbox.
-- Keep in step with ../pg/0004_flash.sql. Times are ISO-8601 UTC text; booleans are 0/1.
-- Used by src/domain/flash/flash_store.c and src/domain/notify/outbox.c.

-- config is the JSON of struct flash_config (NULL = defaults); last_scan_at for the scheduler.
CREATE TABLE flash_config (
    tenant_id    INTEGER PRIMARY KEY REFERENCES tenants (id),
    config       TEXT NULL,
    last_scan_at TEXT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE buyers (
    id                INTEGER PRIMARY KEY,
    tenant_id         INTEGER NOT NULL REFERENCES tenants (id),
    public_id         TEXT NOT NULL,
    phone             TEXT NULL,
    name              TEXT NOT NULL DEFAULT '',
    lat               REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lng               REAL NOT NULL CHECK (lng BETWEEN -180 AND 180),
    district          TEXT NOT NULL DEFAULT '',
    neighborhood      TEXT NOT NULL DEFAULT '',
    categories        TEXT NOT NULL DEFAULT '[]',
    price_sensitivity TEXT NOT NULL DEFAULT 'balanced'
        CHECK (price_sensitivity IN ('low', 'balanced', 'premium')),
    consent           INTEGER NOT NULL DEFAULT 1 CHECK (consent IN (0, 1)),
    language          TEXT NOT NULL DEFAULT 'tr' CHECK (language IN ('tr', 'en')),
    commits           INTEGER NOT NULL DEFAULT 0 CHECK (commits >= 0),
    shows             INTEGER NOT NULL DEFAULT 0 CHECK (shows >= 0),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (tenant_id, public_id),
    UNIQUE (tenant_id, phone)
);
CREATE INDEX buyers_tenant_district_idx ON buyers (tenant_id, district);

CREATE TABLE sellers (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants (id),
    public_id      TEXT NOT NULL,
    phone          TEXT NULL,
    name           TEXT NOT NULL DEFAULT '',
    category       TEXT NOT NULL,
    lat            REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lng            REAL NOT NULL CHECK (lng BETWEEN -180 AND 180),
    district       TEXT NOT NULL DEFAULT '',
    neighborhood   TEXT NOT NULL DEFAULT '',
    density        TEXT NOT NULL DEFAULT 'medium' CHECK (density IN ('low', 'medium', 'high')),
    stock_status   TEXT NOT NULL DEFAULT '',
    price_min      INTEGER NOT NULL DEFAULT 0 CHECK (price_min >= 0),
    price_max      INTEGER NOT NULL DEFAULT 0 CHECK (price_max >= 0),
    currency       TEXT NOT NULL DEFAULT 'TRY',
    max_discount   INTEGER NOT NULL DEFAULT 0 CHECK (max_discount BETWEEN 0 AND 90),
    capacity       INTEGER NOT NULL DEFAULT 1 CHECK (capacity >= 1),
    auto_approve   INTEGER NOT NULL DEFAULT 0 CHECK (auto_approve IN (0, 1)),
    opening_hours  TEXT NOT NULL DEFAULT '',
    supply_kind    TEXT NOT NULL DEFAULT 'idle'
        CHECK (supply_kind IN ('idle', 'density', 'surplus', 'promotion')),
    supply_until   TEXT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (tenant_id, public_id),
    UNIQUE (tenant_id, phone)
);
CREATE INDEX sellers_tenant_category_idx ON sellers (tenant_id, category);
CREATE INDEX sellers_tenant_district_idx ON sellers (tenant_id, district);

-- What buyers asked for; active while expires_at is in the future.
CREATE TABLE demand_signals (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    buyer_id   INTEGER NOT NULL REFERENCES buyers (id),
    text       TEXT NOT NULL DEFAULT '',
    product    TEXT NOT NULL DEFAULT '',
    category   TEXT NOT NULL DEFAULT '',
    budget     INTEGER NOT NULL DEFAULT 0 CHECK (budget >= 0),
    currency   TEXT NOT NULL DEFAULT 'TRY',
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX demand_signals_active_idx ON demand_signals (tenant_id, expires_at);
CREATE INDEX demand_signals_buyer_idx ON demand_signals (buyer_id, expires_at);

-- What sellers reported; density is set for density reports (the busy profile reads them).
CREATE TABLE supply_signals (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    seller_id  INTEGER NOT NULL REFERENCES sellers (id),
    kind       TEXT NOT NULL CHECK (kind IN ('idle', 'density', 'surplus', 'promotion')),
    density    TEXT NULL CHECK (density IN ('low', 'medium', 'high')),
    text       TEXT NOT NULL DEFAULT '',
    product    TEXT NOT NULL DEFAULT '',
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX supply_signals_seller_idx ON supply_signals (seller_id, created_at);
CREATE INDEX supply_signals_tenant_idx ON supply_signals (tenant_id, created_at);

CREATE TABLE flash_windows (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants (id),
    seller_id        INTEGER NOT NULL REFERENCES sellers (id),
    title            TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    product          TEXT NOT NULL DEFAULT '', -- what the offer is about, e.g. 'latte'
    discount_percent INTEGER NOT NULL DEFAULT 0 CHECK (discount_percent BETWEEN 0 AND 100),
    static_price     INTEGER NOT NULL DEFAULT 0 CHECK (static_price >= 0),
    bundle_info      TEXT NOT NULL DEFAULT '',
    currency         TEXT NOT NULL DEFAULT 'TRY',
    start_at         TEXT NOT NULL,
    end_at           TEXT NOT NULL,
    status           TEXT NOT NULL
        CHECK (status IN ('PROPOSED', 'SCHEDULED', 'ACTIVE', 'EXPIRED', 'CANCELLED')),
    capacity         INTEGER NOT NULL CHECK (capacity >= 1),
    min_participants INTEGER NOT NULL DEFAULT 0 CHECK (min_participants >= 0),
    score            REAL NOT NULL DEFAULT 0,
    trace            TEXT NOT NULL DEFAULT '',
    cancel_reason    TEXT NOT NULL DEFAULT '',
    analytics        TEXT NOT NULL DEFAULT '',
    origin           TEXT NOT NULL DEFAULT 'engine' CHECK (origin IN ('engine', 'manual')),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX flash_windows_status_idx ON flash_windows (tenant_id, status, id);
CREATE INDEX flash_windows_seller_idx ON flash_windows (seller_id, status, id);
-- At most one open window per seller, even when two processes generate at once.
CREATE UNIQUE INDEX flash_windows_one_open_idx ON flash_windows (seller_id)
    WHERE status IN ('PROPOSED', 'SCHEDULED', 'ACTIVE');

-- The buyers a window is offered to; created_at is the window's, for per-day offer caps.
CREATE TABLE window_targets (
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    window_id  INTEGER NOT NULL REFERENCES flash_windows (id),
    buyer_id   INTEGER NOT NULL REFERENCES buyers (id),
    distance_m REAL NOT NULL CHECK (distance_m >= 0),
    discount   INTEGER NOT NULL DEFAULT 0 CHECK (discount BETWEEN 0 AND 100),
    created_at TEXT NOT NULL,
    PRIMARY KEY (window_id, buyer_id)
);
CREATE INDEX window_targets_buyer_idx ON window_targets (buyer_id, created_at);

-- A cancelled row also records a buyer who declined without committing.
CREATE TABLE precommits (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    window_id  INTEGER NOT NULL REFERENCES flash_windows (id),
    buyer_id   INTEGER NOT NULL REFERENCES buyers (id),
    status     TEXT NOT NULL CHECK (status IN ('active', 'cancelled')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (window_id, buyer_id)
);
CREATE INDEX precommits_buyer_idx ON precommits (buyer_id);

CREATE TABLE participants (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    window_id   INTEGER NOT NULL REFERENCES flash_windows (id),
    buyer_id    INTEGER NOT NULL REFERENCES buyers (id),
    code        TEXT NOT NULL,
    joined_at   TEXT NOT NULL,
    redeemed_at TEXT NULL,
    UNIQUE (window_id, buyer_id),
    UNIQUE (window_id, code)
);
CREATE INDEX participants_buyer_idx ON participants (buyer_id);

-- The outbox; recipient_pk is a buyers or sellers id depending on recipient_kind.
CREATE TABLE messages (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants (id),
    recipient_kind TEXT NOT NULL CHECK (recipient_kind IN ('buyer', 'seller', 'contact')),
    recipient_pk   INTEGER NOT NULL,
    recipient_id   TEXT NOT NULL DEFAULT '',
    phone          TEXT NOT NULL DEFAULT '',
    language       TEXT NOT NULL DEFAULT 'tr' CHECK (language IN ('tr', 'en')),
    kind           TEXT NOT NULL CHECK (kind IN ('offer', 'question', 'window_open',
                                                 'seller_summary', 'cancelled', 'reminder',
                                                 'confirmation', 'reply', 'location_request')),
    body           TEXT NOT NULL,
    window_id      INTEGER NULL REFERENCES flash_windows (id),
    status         TEXT NOT NULL
        CHECK (status IN ('pending', 'sent', 'delivered', 'read', 'failed')),
    error          TEXT NOT NULL DEFAULT '',
    provider_id    TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX messages_tenant_idx ON messages (tenant_id, id);
CREATE INDEX messages_status_idx ON messages (tenant_id, status, id);
CREATE INDEX messages_recipient_idx ON messages (tenant_id, recipient_id, id);
CREATE INDEX messages_window_idx ON messages (window_id);
CREATE INDEX messages_provider_idx ON messages (provider_id) WHERE provider_id <> '';
