/* SPDX-License-Identifier: MIT */
/*
 * The durable job queue: one `jobs` table (src/db/sql/<backend>/0002_jobs.sql) shared by every
 * module that defers work. Enqueue joins the caller's open transaction (outbox pattern), so a
 * job exists exactly when the change that caused it commits. Workers live in worker.h.
 * Storage goes only through db.h. Tests: tests/unit/jobs/test_jobs.c.
 */
#ifndef ICESHOP_JOBS_QUEUE_H
#define ICESHOP_JOBS_QUEUE_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "db/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Lifecycle: pending → running → done, or back to pending (retry), or dead (gave up). */
enum job_state {
    JOB_STATE_PENDING = 0,
    JOB_STATE_RUNNING,
    JOB_STATE_DONE,
    JOB_STATE_DEAD,
    JOB_STATE_COUNT
};

/* "pending" | "running" | "done" | "dead"; "unknown" for an out-of-range value. Static. */
const char *job_state_name(enum job_state s);
/* Name → state; 0, or ERR_INVALID for anything else (NULL included). */
int job_state_parse(const char *s, enum job_state *out);

#define JOB_DEFAULT_MAX_ATTEMPTS 5
#define JOB_NAME_MAX             128
/* Longest last_error kept; longer messages are cut. */
#define JOB_ERROR_MAX 1024

struct job_spec {
    const char *name;         /* handler name; required, 1..JOB_NAME_MAX bytes */
    const char *payload_json; /* NULL → "{}"; stored as given (the handler parses it) */
    int64_t tenant_id;        /* 0 = system job, stored NULL */
    int64_t run_at_ms;        /* 0 = now */
    const char *unique_key;   /* NULL = none; see jobs_enqueue */
    int max_attempts;         /* 0 = JOB_DEFAULT_MAX_ATTEMPTS */
};

/*
 * Add a job. Runs inside the caller's transaction when one is open on `c` (so the job commits
 * or rolls back with the caller's change); otherwise in a transaction of its own.
 * With a unique key that a pending or running job already holds, nothing is inserted: *id_out
 * gets that job's id and *deduped_out true. A key held only by done/dead jobs is free again.
 * id_out and deduped_out may be NULL. Errors: ERR_INVALID (bad spec, e->field names it),
 * ERR_CONFLICT (e.g. unknown tenant), ERR_DB. On error inside the caller's transaction the
 * caller should roll back (PostgreSQL aborts the transaction).
 */
int jobs_enqueue(struct db_conn *c, const struct job_spec *spec, int64_t now_ms, int64_t *id_out,
                 bool *deduped_out, struct err *e);

/*
 * Add n jobs at once, as jobs_enqueue() would one after the other, in one transaction (the
 * caller's when one is open on `c`, else its own): either all are added or none. Jobs without a
 * unique key go in by one multi-row INSERT per JOBS_ENQUEUE_CHUNK, so a burst costs a few round
 * trips on PostgreSQL instead of one per job; keyed jobs are deduplicated one by one as in
 * jobs_enqueue(). ids_out (may be NULL) gets n ids in the order of specs, the holder's id for a
 * deduplicated one. Errors as jobs_enqueue(); e->field names the bad spec's field.
 */
#define JOBS_ENQUEUE_CHUNK 64
int jobs_enqueue_many(struct db_conn *c, const struct job_spec *specs, size_t n, int64_t now_ms,
                      int64_t *ids_out, struct err *e);

/* One row of `jobs`. Strings are NULL when the column is NULL; times are 0 when NULL. */
struct job_row {
    int64_t id;
    int64_t tenant_id; /* 0 = system job */
    const char *name;
    const char *payload;
    enum job_state state;
    const char *unique_key;
    int attempts;
    int max_attempts;
    int64_t run_at_ms;
    int64_t lease_until_ms;
    const char *locked_by;
    const char *last_error;
    int64_t created_at_ms;
    int64_t updated_at_ms;
    int64_t finished_at_ms;
    int64_t progress_done, progress_total; /* -1 when the job never reported progress */
};

/* Pass as tenant_id to see every tenant's jobs (operators only). */
#define JOBS_ALL_TENANTS        (-1)
#define JOBS_LIST_DEFAULT_LIMIT 50
#define JOBS_LIST_MAX_LIMIT     1000

/* Every field is optional (NULL / 0 = no filter). */
struct job_filter {
    const char *state; /* "pending" | "running" | "done" | "dead" */
    const char *name;  /* exact handler name */
    /*
     * Keyset pagination, newest first: page.after = the last id seen (only ids below it);
     * page.limit 0 → JOBS_LIST_DEFAULT_LIMIT, capped at JOBS_LIST_MAX_LIMIT.
     */
    struct page page;
};

/*
 * Tenant scope used by jobs_list/jobs_get/jobs_retry: a tenant (> 0) sees its own jobs, plus
 * system jobs (tenant NULL) when include_system; tenant 0 with include_system sees only system
 * jobs; JOBS_ALL_TENANTS sees everything.
 */

/*
 * Jobs visible to `tenant_id`, newest first (id desc). *rows is an array of *n rows allocated,
 * with all strings, from `a` (freed by arena_release). f may be NULL.
 * Errors: ERR_INVALID (bad state filter, field "state"), ERR_DB.
 */
int jobs_list(struct db_conn *c, int64_t tenant_id, bool include_system, const struct job_filter *f,
              struct arena *a, struct job_row **rows, size_t *n, struct err *e);

/* One job by id within the tenant scope; strings from `a`. ERR_NOT_FOUND when not visible. */
int jobs_get(struct db_conn *c, int64_t tenant_id, bool include_system, int64_t id, struct arena *a,
             struct job_row *out, struct err *e);

/*
 * Give a dead job another life: pending, attempts 0, run_at now (last_error is kept).
 * Errors: ERR_NOT_FOUND when not visible to the tenant; ERR_CONFLICT when not dead, or when a
 * live job already holds its unique key; ERR_DB.
 */
int jobs_retry(struct db_conn *c, int64_t tenant_id, bool include_system, int64_t id,
               int64_t now_ms, struct err *e);

/*
 * Jobs per state, indexed by enum job_state: of one tenant (> 0, its own jobs only), or of the
 * whole queue with JOBS_ALL_TENANTS.
 */
int jobs_count_by_state(struct db_conn *c, int64_t tenant_id, int64_t counts[JOB_STATE_COUNT],
                        struct err *e);

/*
 * Record how far a long job is (done of total units, 0 ≤ done ≤ total): what GET /api/jobs/{id}
 * shows. One statement, joining the caller's transaction when one is open, so progress that is
 * saved with a chunk of work commits with it. ERR_INVALID (field "progress") otherwise.
 */
int jobs_set_progress(struct db_conn *c, int64_t id, int64_t done, int64_t total, struct err *e);

/* Delete done and dead jobs that finished before older_than_ms; *deleted (may be NULL). */
int jobs_prune(struct db_conn *c, int64_t older_than_ms, int64_t *deleted, struct err *e);

#endif
