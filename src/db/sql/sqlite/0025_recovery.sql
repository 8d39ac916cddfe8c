-- SPDX-License-Identifier: MIT
-- Abandoned-cart recovery for SQLite: a tenant's recovery agents, each agent's shop
-- integrations (credentials sealed), the tenant's polling state, one row per polling cycle and
-- the recovery state of each cart a poll brought in. Keep in step with ../pg/0025_recovery.sql.
-- Times are ISO-8601 UTC text; booleans are 0/1; money is minor units. Used by
-- src/domain/recovery/recovery_store.c. Tests: tests/unit/domain/test_recovery.c,
-- tests/integration/0025-recovery.c.

-- An endpoint with direct set belongs to one sender (a recovery agent): it receives only what
-- is emitted to it by id, never the tenant's subscribed events.
ALTER TABLE webhook_endpoints ADD COLUMN direct INTEGER NOT NULL DEFAULT 0
    CHECK (direct IN (0, 1));

-- template_slug: only "ecommerce-abandoned-cart" agents are polled.
-- sequence: the WhatsApp steps as JSON, minutes after abandonment ("[0, 1440]": at once and a
-- reminder a day later); "[]" sends none.
-- endpoint_id: the direct webhook endpoint that carries the agent's recovery_url and secret.
CREATE TABLE company_agents (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants (id),
    name           TEXT NOT NULL,
    company        TEXT NOT NULL,
    template_slug  TEXT NOT NULL,
    is_active      INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    recovery_url   TEXT NOT NULL,
    cutoff_minutes INTEGER NOT NULL DEFAULT 60 CHECK (cutoff_minutes > 0),
    cooldown_days  INTEGER NOT NULL DEFAULT 7 CHECK (cooldown_days >= 0),
    sequence       TEXT NOT NULL DEFAULT '[0]',
    endpoint_id    INTEGER NULL REFERENCES webhook_endpoints (id) ON DELETE SET NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX company_agents_tenant_idx ON company_agents (tenant_id, id);

-- platform: shopify (shop_domain + sealed access_token), woocommerce (site_url + sealed
-- consumer_key and consumer_secret), custom (feed_url, optional sealed bearer token).
-- base_url: replaces the platform's address (proxies, fakes).
-- credentials: sealed JSON (core/crypto.h sec_box_seal), never returned.
-- watermark: the newest updated_at seen, in the platform's own text.
-- state: active, or unauthorized after a 401 until the credentials change.
CREATE TABLE agent_integrations (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants (id),
    agent_id       INTEGER NOT NULL REFERENCES company_agents (id) ON DELETE CASCADE,
    platform       TEXT NOT NULL CHECK (platform IN ('shopify', 'woocommerce', 'custom')),
    shop_domain    TEXT NULL,
    site_url       TEXT NULL,
    feed_url       TEXT NULL,
    base_url       TEXT NULL,
    credentials    TEXT NULL,
    watermark      TEXT NULL,
    state          TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'unauthorized')),
    failures       INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_error     TEXT NULL,
    last_polled_at TEXT NULL,
    last_ok_at     TEXT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX agent_integrations_agent_idx ON agent_integrations (tenant_id, agent_id, id);

-- One row per tenant once polling was started: a restart resumes what is stored here.
CREATE TABLE recovery_polling (
    tenant_id     INTEGER PRIMARY KEY REFERENCES tenants (id),
    running       INTEGER NOT NULL DEFAULT 0 CHECK (running IN (0, 1)),
    interval_s    INTEGER NOT NULL CHECK (interval_s > 0),
    started_at    TEXT NULL,
    last_cycle_at TEXT NULL,
    updated_at    TEXT NOT NULL
);

-- kind: schedule or test (test-once). jobs_pending counts integration jobs still to report;
-- the cycle is finished when it reaches 0. total_value: minor units, summed over currencies.
CREATE TABLE recovery_cycles (
    id                   INTEGER PRIMARY KEY,
    tenant_id            INTEGER NOT NULL REFERENCES tenants (id),
    kind                 TEXT NOT NULL CHECK (kind IN ('schedule', 'test')),
    started_at           TEXT NOT NULL,
    finished_at          TEXT NULL,
    agents_found         INTEGER NOT NULL DEFAULT 0,
    platforms_processed  INTEGER NOT NULL DEFAULT 0,
    jobs_pending         INTEGER NOT NULL DEFAULT 0,
    carts_fetched        INTEGER NOT NULL DEFAULT 0,
    total_value          INTEGER NOT NULL DEFAULT 0,
    deliveries_queued    INTEGER NOT NULL DEFAULT 0,
    errors               INTEGER NOT NULL DEFAULT 0,
    last_error           TEXT NULL,
    duration_ms          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX recovery_cycles_tenant_idx ON recovery_cycles (tenant_id, id);

-- The recovery state of one platform cart (platform_id: the platform's id), unique per
-- integration: open (not yet past the cut-off), abandoned (past it, not yet sent), sent
-- (delivered and/or messaged), completed (the customer finished it or ordered), skipped
-- (cooldown or no consent for anything). recovered_value counts only a completion within the
-- attribution window after a delivery or message. delivery_id, cycle_id: the delivery that
-- carried the cart and the cycle that sent it.
CREATE TABLE recovery_carts (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants (id),
    agent_id         INTEGER NOT NULL REFERENCES company_agents (id) ON DELETE CASCADE,
    integration_id   INTEGER NOT NULL REFERENCES agent_integrations (id) ON DELETE CASCADE,
    cart_id          INTEGER NOT NULL REFERENCES cart (cart_id),
    customer_id      INTEGER NOT NULL REFERENCES customer (customer_id),
    platform_id      TEXT NOT NULL,
    checkout_url     TEXT NULL,
    state            TEXT NOT NULL DEFAULT 'open'
        CHECK (state IN ('open', 'abandoned', 'sent', 'completed', 'skipped')),
    cart_updated_at  TEXT NOT NULL,
    completed_at     TEXT NULL,
    delivered_at     TEXT NULL,
    delivery_id      INTEGER NULL,
    cycle_id         INTEGER NULL,
    messages_sent    INTEGER NOT NULL DEFAULT 0,
    last_message_at  TEXT NULL,
    recovered_value  INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (tenant_id, integration_id, platform_id)
);
CREATE INDEX recovery_carts_customer_idx ON recovery_carts (tenant_id, customer_id, delivered_at);
CREATE INDEX recovery_carts_state_idx ON recovery_carts (tenant_id, state, id);
