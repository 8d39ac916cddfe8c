-- SPDX-License-Identifier: MIT
-- Kept in step with ../pg/0041_jobs_notify.sql, which makes PostgreSQL send a NOTIFY when a job
-- becomes runnable so that worker pools in other processes wake at once. SQLite has no
-- notifications: pools in the process that commits are woken in-process (job_workers_wake_db),
-- others at their next poll. Nothing to change in the schema.
SELECT 1;
