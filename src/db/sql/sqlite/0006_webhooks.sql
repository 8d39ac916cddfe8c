-- SPDX-License-Identifier: MIT
-- Outbound webhooks for SQLite: endpoints a tenant subscribes to events, and one delivery per
-- event and endpoint with its attempts. Keep in step with ../pg/0006_webhooks.sql. Times are
-- ISO-8601 UTC text; booleans are 0/1. Used by src/domain/webhooks/webhooks_store.c.
-- Tests: tests/unit/domain/test_webhooks.c, tests/integration/0009-webhooks-out.c.

-- events: the subscribed event types joined by commas ("window.created,message.failed").
-- secret: "whsec_<base64>", needed in clear to sign; never returned after creation.
-- failing_since: the first failed attempt since the last success (NULL while healthy).
CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    url             TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    events          TEXT NOT NULL,
    secret          TEXT NOT NULL,
    disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    disabled_reason TEXT NOT NULL DEFAULT '',
    disabled_at     TEXT NULL,
    failing_since   TEXT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_tenant_idx ON webhook_endpoints (tenant_id, id);

-- msg_id: the webhook-id header, the same on every attempt so receivers can deduplicate.
-- body: the exact JSON sent on every attempt.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    msg_id          TEXT NOT NULL UNIQUE,
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'succeeded', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TEXT NULL,
    last_status     INTEGER NULL,
    last_response   TEXT NULL,
    last_error      TEXT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    delivered_at    TEXT NULL
);
CREATE INDEX webhook_deliveries_tenant_idx ON webhook_deliveries (tenant_id, id);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id);
