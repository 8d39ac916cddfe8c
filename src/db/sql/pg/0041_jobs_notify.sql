-- SPDX-License-Identifier: MIT
-- Wake-ups for job workers in every process on one PostgreSQL database: a NOTIFY on channel
-- iceshop_jobs, sent by PostgreSQL when the transaction that made a job runnable commits (and
-- never when it rolls back). Once per INSERT statement (a multi-row jobs_enqueue_many is one),
-- and per row that becomes pending by UPDATE (jobs_retry, a failed run's retry, a released
-- claim). Identical notifications of one transaction are delivered once. Workers LISTEN on a
-- connection of their own (src/jobs/worker.c, db_listen in src/db/db.h) and still poll as a
-- fallback. SQLite has no counterpart (../sqlite/0041_jobs_notify.sql): its pools are woken
-- in-process at commit. Tests: tests/unit/jobs/test_jobs.c.
CREATE FUNCTION jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('iceshop_jobs', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_insert_notify AFTER INSERT ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_notify();
CREATE TRIGGER jobs_pending_notify AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (NEW.state = 'pending' AND OLD.state <> 'pending')
    EXECUTE FUNCTION jobs_notify();
