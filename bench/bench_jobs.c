/* SPDX-License-Identifier: MIT */
/*
 * Job throughput for `make bench`: open and migrate the database at URL, enqueue N no-op jobs in
 * batched transactions, start a worker pool and time enqueue→done by polling
 * jobs_count_by_state. Prints one "key=value" line per figure.
 * Usage: bench_jobs URL [THREADS=4] [N=20000] [BATCH=500]
 */
#include "core/clock.h"
#include "core/err.h"
#include "db/db.h"
#include "db/migrate.h"
#include "jobs/queue.h"
#include "jobs/worker.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define BENCH_JOB   "bench.noop"
#define TIMEOUT_MS  (10 * 60 * 1000)
#define POLL_USLEEP (10 * 1000)

static int noop(struct job_ctx *ctx, struct err *e)
{
    (void)ctx;
    (void)e;
    return 0;
}

/* Decimal integer in [lo, hi], or -1. */
static long parse_long(const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    return v;
}

static int fail(const struct err *e, const char *what)
{
    fprintf(stderr, "bench_jobs: %s: %s\n", what, e->msg[0] ? e->msg : err_code_name(e->code));
    return 1;
}

static int enqueue_all(struct db *db, long n, long batch, struct err *e)
{
    struct db_conn *c;
    int rc = db_conn_acquire(db, &c, e);
    if (rc)
        return rc;
    struct job_spec spec = {.name = BENCH_JOB, .payload_json = "{}"};
    for (long done = 0; !rc && done < n;) {
        rc = db_begin(c, e);
        for (long i = 0; !rc && i < batch && done < n; i++, done++)
            rc = jobs_enqueue(c, &spec, clock_now_ms(NULL), NULL, NULL, e);
        if (rc)
            db_rollback(c);
        else
            rc = db_commit(c, e);
    }
    db_conn_release(c);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [THREADS] [N] [BATCH]\n", argv[0]);
        return 2;
    }
    long threads = argc > 2 ? parse_long(argv[2], 1, 256) : 4;
    long n = argc > 3 ? parse_long(argv[3], 1, 10000000) : 20000;
    long batch = argc > 4 ? parse_long(argv[4], 1, 100000) : 500;
    if (threads < 0 || n < 0 || batch < 0) {
        fprintf(stderr, "bench_jobs: bad THREADS, N or BATCH\n");
        return 2;
    }
    struct err e;
    err_init(&e);
    struct db *db = NULL;
    struct db_options o = {.pool_size = (int)threads + 4, .busy_timeout_ms = 10000};
    if (db_open(&db, argv[1], &o, &e))
        return fail(&e, "open");
    if (db_migrate(db, NULL, &e)) {
        db_close(db);
        return fail(&e, "migrate");
    }
    struct job_registry *reg = job_registry_new();
    if (job_registry_add(reg, BENCH_JOB, noop, NULL, 0, &e)) {
        job_registry_free(reg);
        db_close(db);
        return fail(&e, "register");
    }

    int64_t t0 = clock_mono_ms();
    if (enqueue_all(db, n, batch, &e)) {
        job_registry_free(reg);
        db_close(db);
        return fail(&e, "enqueue");
    }
    int64_t t1 = clock_mono_ms();

    struct job_workers *w = NULL;
    struct job_workers_options wo = {.threads = (int)threads, .poll_ms = 50};
    if (job_workers_start(db, reg, NULL, &wo, &w, &e)) {
        job_registry_free(reg);
        db_close(db);
        return fail(&e, "workers");
    }
    job_workers_wake(w);

    struct db_conn *c = NULL;
    int rc = db_conn_acquire(db, &c, &e);
    int64_t counts[JOB_STATE_COUNT] = {0};
    int64_t t2 = t1;
    while (!rc) {
        rc = jobs_count_by_state(c, JOBS_ALL_TENANTS, counts, &e);
        t2 = clock_mono_ms();
        if (rc || counts[JOB_STATE_DONE] + counts[JOB_STATE_DEAD] >= n)
            break;
        if (t2 - t0 > TIMEOUT_MS) {
            rc = err_set(&e, ERR_TIMEOUT, "jobs not done after %d s", TIMEOUT_MS / 1000);
            break;
        }
        usleep(POLL_USLEEP);
    }
    db_conn_release(c);
    struct job_worker_stats st;
    job_workers_stats(w, &st);
    job_workers_stop(w, 5000);
    job_registry_free(reg);
    const char *backend = db_backend_name(db);
    db_close(db);
    if (rc)
        return fail(&e, "wait");

    double enq_s = (double)(t1 - t0) / 1000.0;
    double run_s = (double)(t2 - t1) / 1000.0;
    double all_s = (double)(t2 - t0) / 1000.0;
    printf("backend=%s jobs=%ld threads=%ld batch=%ld\n", backend, n, threads, batch);
    printf("enqueue_s=%.3f enqueue_per_s=%.0f\n", enq_s, enq_s > 0 ? (double)n / enq_s : 0.0);
    printf("run_s=%.3f run_per_s=%.0f\n", run_s, run_s > 0 ? (double)n / run_s : 0.0);
    printf("total_s=%.3f jobs_per_s=%.0f\n", all_s, all_s > 0 ? (double)n / all_s : 0.0);
    printf("done=%" PRId64 " dead=%" PRId64 " succeeded=%" PRIu64 "\n", counts[JOB_STATE_DONE],
           counts[JOB_STATE_DEAD], st.succeeded);
    return 0;
}
