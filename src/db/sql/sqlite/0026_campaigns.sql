-- SPDX-License-Identifier: MIT
-- The campaign planner's decision log for SQLite: one row per generated campaign (personal, for
-- one customer, or company proposals), with what the planner knew, what it was asked and
-- answered, and whether the answer was believed. Keep in step with ../pg/0026_campaigns.sql.
-- Times are ISO-8601 UTC text. Used by src/domain/intel/planner_store.c.
-- Tests: tests/unit/domain/test_planner.c, tests/integration/0026-campaigns.c.

-- kind: personal (customer_id set) or company (goal, constraints_json, target_json set).
-- planner: llm when the model's answer was believed, rules when the deterministic planner
-- answered (no model configured, or the model's answers were refused: see outcome).
-- prompt_sha256: hex of the system and user prompts as sent ("" for rules without a model).
-- answer: the model's last raw answer (NULL without one). campaign_json: the validated
-- campaign (personal) or {"proposals": [...]} (company). outcome: "ok", or why each refused
-- answer was refused, in order. threshold: targetAmount of a THRESHOLD or BUNDLE campaign
-- (NULL otherwise), in the signals' currency, for GET /api/campaigns/near.
CREATE TABLE campaigns (
    id                INTEGER PRIMARY KEY,
    tenant_id         INTEGER NOT NULL REFERENCES tenants (id),
    public_id         TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL CHECK (kind IN ('personal', 'company')),
    customer_id       INTEGER NULL REFERENCES customer (customer_id),
    cart_id           TEXT NULL,
    goal              TEXT NULL,
    constraints_json  TEXT NULL,
    target_json       TEXT NULL,
    signals_json      TEXT NULL,
    planner           TEXT NOT NULL CHECK (planner IN ('llm', 'rules')),
    model             TEXT NULL,
    prompt_sha256     TEXT NOT NULL DEFAULT '',
    answer            TEXT NULL,
    campaign_json     TEXT NOT NULL,
    campaign_type     TEXT NULL,
    threshold         REAL NULL,
    outcome           TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    latency_ms        INTEGER NOT NULL DEFAULT 0,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL
);
CREATE INDEX campaigns_tenant_idx ON campaigns (tenant_id, id);
CREATE INDEX campaigns_customer_idx ON campaigns (tenant_id, customer_id, id);
