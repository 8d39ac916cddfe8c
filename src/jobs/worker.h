/* SPDX-License-Identifier: MIT */
/*
 * The worker pool that runs jobs from the durable queue (queue.h). One dispatcher thread per
 * pool claims due jobs in batches (FOR UPDATE SKIP LOCKED on PostgreSQL), records finished
 * ones in one transaction, and renews the leases of jobs in hand; N threads run handlers.
 * Any number of pools, in any number of processes, may share a database.
 * Tests: tests/unit/jobs/test_jobs.c.
 */
#ifndef ICESHOP_JOBS_WORKER_H
#define ICESHOP_JOBS_WORKER_H

#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "db/db.h"

#include <stdbool.h>
#include <stdint.h>

struct job_workers;

/* What a handler gets for one run. Everything is borrowed for the duration of the run. */
struct job_ctx {
    struct db *db;
    /*
     * A connection held for this run. With JOB_IN_TX a transaction is open on it and must be
     * left open (the pool commits or rolls back); without the flag no transaction is open and
     * the handler may begin/commit its own.
     */
    struct db_conn *conn;
    int64_t job_id;
    const char *name;
    int64_t tenant_id;   /* 0 = system job */
    const char *payload; /* the JSON text given at enqueue */
    int attempt;         /* 1 on the first run */
    int max_attempts;
    int64_t now_ms; /* the pool clock when the run started */
    /*
     * Per-run; released right after the handler returns, before the pool commits, so
     * statements the handler registered with arena_defer() are finished first.
     */
    struct arena *arena;
    void *userdata;           /* from job_registry_add */
    struct job_workers *pool; /* for job_ctx_cancelled() */
};

/*
 * A handler returns 0 on success, or an error code with `e` filled; the message becomes the
 * job's last_error and the job is retried with backoff until max_attempts, then dead.
 * Handlers run on pool threads, several at once.
 */
typedef int job_handler_fn(struct job_ctx *ctx, struct err *e);

enum job_handler_flags {
    /*
     * Run inside the transaction that marks the job done: the handler's DB writes commit
     * together with `done` or roll back together with a failure, so DB-only work happens
     * exactly once. Without it the handler runs with no transaction open and the job is
     * marked done afterwards: work outside the database (HTTP calls) may repeat after a crash,
     * so such handlers must be idempotent. That mark is written by the pool's dispatcher a
     * moment after the handler returns, batched with other finished jobs (up to 64 per
     * statement, one transaction per cycle); a process that dies before that transaction
     * commits leaves the job running under its lease, and once the lease expires another
     * worker runs it again (at least once, never lost).
     */
    JOB_IN_TX = 1u << 0,
};

/* Handler table: fill it before job_workers_start(), then it is read-only. */
struct job_registry;

struct job_registry *job_registry_new(void);
/* NULL is allowed. Must outlive every pool started with it. */
void job_registry_free(struct job_registry *reg);
/*
 * Register `fn` for jobs called `name` (copied). `userdata` is passed to every run, borrowed.
 * `flags` is 0 or JOB_IN_TX. Errors: ERR_INVALID (empty or too long name, NULL fn, unknown
 * flag), ERR_CONFLICT (name already registered).
 */
int job_registry_add(struct job_registry *reg, const char *name, job_handler_fn *fn, void *userdata,
                     unsigned flags, struct err *e);

/* True when a handler is registered for `name`. */
bool job_registry_has(const struct job_registry *reg, const char *name);

/*
 * Lanes keep slow work from delaying urgent work. Every job name belongs to one lane, the
 * default lane unless put in another with job_registry_set_lane(); a pool serves one lane
 * (job_workers_options.lane) and claims only that lane's jobs, so a lane of slow jobs (LLM
 * calls, pollers, PDF rendering) can fill its own threads while the default lane's pool keeps
 * running time-critical jobs (window activation, message delivery). Every guarantee below
 * (leases, JOB_IN_TX, retries, unique keys) holds per job whatever its lane. Start one pool
 * per lane in use (job_registry_lanes()); jobs of a lane no pool serves wait.
 */
#define JOB_LANE_DEFAULT "default"
#define JOB_LANE_MAX     32
/*
 * Put registered job `name` in `lane` (1..JOB_LANE_MAX of a-z 0-9 _ -; JOB_LANE_DEFAULT moves
 * it back). Call before starting pools. Errors: ERR_INVALID (field "lane"), ERR_NOT_FOUND
 * (field "name": not registered).
 */
int job_registry_set_lane(struct job_registry *reg, const char *name, const char *lane,
                          struct err *e);
/* The lane of `name`: JOB_LANE_DEFAULT for default-lane and unregistered names. */
const char *job_registry_lane_of(const struct job_registry *reg, const char *name);
/*
 * The lanes other than the default one that have jobs, each once, into out[0..max); returns how
 * many there are (may exceed max). Strings are the registry's.
 */
size_t job_registry_lanes(const struct job_registry *reg, const char **out, size_t max);

struct job_workers_options {
    int threads;             /* handler threads; 0 → 4 */
    int64_t lease_ms;        /* a claim is valid this long, renewed every lease/3; 0 → 30000 */
    int poll_ms;             /* idle poll interval; 0 → 200 */
    int batch;               /* claim up to this many per query; 0 → 64 */
    int64_t backoff_base_ms; /* 0 → 1000 */
    int64_t backoff_cap_ms;  /* 0 → 3600000 */
    const char *worker_id;   /* stored in jobs.locked_by; NULL → "<host>:<pid>:<n>"; copied */
    const char *lane;        /* the lane this pool serves; NULL → JOB_LANE_DEFAULT */
};

/*
 * Start a pool on `db` for one lane (o->lane; ERR_INVALID, field "lane", when no job is
 * registered to a named lane), reading time from `clk` (run_at, leases; NULL = system clock).
 * Connections: each running handler holds one for its run and the dispatcher takes one per
 * cycle, so size the db pool (db_options.pool_size) at least threads + 2 per pool, plus what
 * the rest of the process uses; otherwise runs wait for a connection and may fail ERR_TIMEOUT.
 * On PostgreSQL each pool also keeps one connection of its own, outside that pool, on which it
 * LISTENs for jobs committed by other processes (count it against max_connections); if it
 * cannot listen it logs a warning and relies on polling every poll_ms.
 * `db`, `reg` and `clk` are borrowed and must outlive the pool. `o` may be NULL.
 * On success *out owns threads and connections until job_workers_stop().
 * Errors: ERR_INVALID (bad options), ERR_INTERNAL (thread creation).
 */
int job_workers_start(struct db *db, struct job_registry *reg, struct clock *clk,
                      const struct job_workers_options *o, struct job_workers **out, struct err *e);

/*
 * Stop claiming, hand back claimed jobs that have not started, wait up to `grace_ms` for
 * running handlers, then free the pool. A handler still running after the grace period sees
 * job_ctx_cancelled() turn true and stops renewing its lease, so another worker recovers the
 * job once the lease expires; its failure is not recorded. C has no safe way to interrupt a
 * thread, so stop still joins it before freeing: long handlers should poll
 * job_ctx_cancelled(). NULL is allowed.
 */
void job_workers_stop(struct job_workers *w, int grace_ms);

/*
 * Hint that jobs were enqueued: an idle pool claims now instead of at its next poll. Callers
 * rarely need it: jobs_enqueue() and jobs_retry() wake every pool of the process on their
 * database once their transaction commits (job_workers_wake_db through db_on_commit).
 */
void job_workers_wake(struct job_workers *w);
/*
 * Wake every running pool of this process whose database is `db` (a `struct db *`, passed as
 * void * to fit db_commit_fn). Safe from any thread, also while pools start and stop.
 */
void job_workers_wake_db(void *db);

/* True once the pool is stopping past its grace period; long handlers should return. */
bool job_ctx_cancelled(const struct job_ctx *ctx);

/* Counters since start. */
struct job_worker_stats {
    uint64_t succeeded;       /* runs that ended with the job done */
    uint64_t retried;         /* failed runs put back as pending with backoff */
    uint64_t dead;            /* jobs that went dead: failures past max_attempts, lost leases */
    uint64_t unknown_handler; /* jobs that went dead because no handler was registered */
    int running;              /* handlers running now */
    int threads;
};

void job_workers_stats(struct job_workers *w, struct job_worker_stats *out);

#endif
