-- SPDX-License-Identifier: MIT
-- Customer intelligence's per-tenant settings and the delivery of campaigns, for SQLite. Keep in
-- step with ../pg/0032_campaign_delivery.sql. Times are ISO-8601 UTC text. Used by
-- src/domain/intel/intel_config.c and campaign_delivery.c. Tests:
-- tests/unit/domain/test_intel_config.c, tests/integration/0026-campaigns.c.

-- config: the JSON of intel_config_to_json (intel_config.h), read back over the defaults.
CREATE TABLE intel_config (
    tenant_id  INTEGER PRIMARY KEY REFERENCES tenants (id),
    config     TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- One send of a campaign (a campaign is sent at most once). holdout_pct and attribution_days
-- are the values used, so a later settings change never rewrites a past report. audience,
-- treatment and holdout count the recipients chosen at the send; queued counts the messages
-- written so far by the sending job. sent_at starts the attribution window. offer_type,
-- discount and target_text are what the message says (rendered in each recipient's language);
-- message, when not '', is the operator's own text sent instead.
CREATE TABLE campaign_sends (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants (id),
    campaign_id      INTEGER NOT NULL UNIQUE REFERENCES campaigns (id),
    channel          TEXT NOT NULL CHECK (channel IN ('whatsapp', 'email')),
    proposal         INTEGER NOT NULL DEFAULT 0,
    offer_type       TEXT NOT NULL,
    discount         INTEGER NOT NULL DEFAULT 0,
    target_text      TEXT NOT NULL DEFAULT '',
    message          TEXT NOT NULL DEFAULT '',
    holdout_pct      INTEGER NOT NULL CHECK (holdout_pct BETWEEN 0 AND 50),
    attribution_days INTEGER NOT NULL CHECK (attribution_days BETWEEN 1 AND 90),
    audience         INTEGER NOT NULL,
    treatment        INTEGER NOT NULL,
    holdout          INTEGER NOT NULL,
    queued           INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL CHECK (status IN ('sending', 'sent')),
    sent_at          TEXT NOT NULL
);
CREATE INDEX campaign_sends_tenant_idx ON campaign_sends (tenant_id, id);

-- Who was chosen, and in which arm. message_id: the outbox message once queued (treatment).
CREATE TABLE campaign_recipients (
    send_id     INTEGER NOT NULL REFERENCES campaign_sends (id),
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    customer_id INTEGER NOT NULL REFERENCES customer (customer_id),
    arm         TEXT NOT NULL CHECK (arm IN ('treatment', 'holdout')),
    message_id  INTEGER NULL,
    PRIMARY KEY (send_id, customer_id)
);
CREATE INDEX campaign_recipients_customer_idx ON campaign_recipients (tenant_id, customer_id);
