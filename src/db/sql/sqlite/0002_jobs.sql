-- SPDX-License-Identifier: MIT
-- Durable job queue (src/jobs/queue.c, worker.c) and scheduler slot memory (src/sched/sched.c).
-- Keep in step with ../pg/0002_jobs.sql. Times are ISO-8601 UTC text with milliseconds, so
-- text comparison orders them. Tests: tests/unit/jobs/test_jobs.c, tests/unit/sched/test_sched.c.

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    INTEGER NULL REFERENCES tenants(id),
    name         TEXT NOT NULL,
    payload      TEXT NOT NULL DEFAULT '{}',
    state        TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'dead')),
    unique_key   TEXT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL CHECK (max_attempts > 0),
    run_at       TEXT NOT NULL,
    lease_until  TEXT NULL,
    locked_by    TEXT NULL,
    last_error   TEXT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    finished_at  TEXT NULL
);

-- At most one live job per unique key; finished jobs free the key again.
CREATE UNIQUE INDEX jobs_unique_key_idx ON jobs (unique_key)
    WHERE state IN ('pending', 'running');
-- Claiming due jobs in run_at order, and pruning finished ones.
CREATE INDEX jobs_claim_idx ON jobs (state, run_at);
-- Recovering jobs whose worker's lease expired.
CREATE INDEX jobs_lease_idx ON jobs (state, lease_until);
-- Listing one tenant's jobs, newest first.
CREATE INDEX jobs_tenant_idx ON jobs (tenant_id, id);

-- The last slot each scheduled task enqueued, so a leadership change never repeats a slot.
CREATE TABLE sched_state (
    task         TEXT PRIMARY KEY,
    last_slot_ms INTEGER NOT NULL,
    updated_at   TEXT NOT NULL
);
