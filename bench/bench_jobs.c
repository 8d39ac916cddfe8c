/* SPDX-License-Identifier: MIT */
/*
 * Job throughput for `make bench`: enqueue → done of N no-op jobs through worker pools of
 * THREADS threads in PROCS processes on the database at URL. The pools start first and idle;
 * then the parent enqueues the jobs in transactions of BATCH (jobs_enqueue_many), and the clock
 * runs from the first enqueue until the pools have finished every job. Pools in the process
 * that enqueues nothing learn of new jobs from the database (LISTEN/NOTIFY on PostgreSQL) or
 * their poll. Each worker process counts its finished jobs in shared memory, so watching the
 * progress costs the database nothing; the job rows are checked once at the end.
 * Prints one "key=value" line per figure.
 * Usage: bench_jobs URL [THREADS=4] [N=20000] [BATCH=500] [PROCS=1] [CLAIM=0]
 * (CLAIM: the pools' claim batch, job_workers_options.batch; 0 = the default).
 */
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "db/db.h"
#include "db/migrate.h"
#include "jobs/queue.h"
#include "jobs/worker.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define BENCH_JOB   "bench.noop"
#define TIMEOUT_MS  (10 * 60 * 1000)
#define POLL_USLEEP 1000
#define PROCS_MAX   8

/* Shared between the parent and the worker processes (MAP_SHARED). */
struct shared {
    atomic_int ready;                      /* worker processes with a running pool */
    atomic_int failed;                     /* worker processes that could not start */
    atomic_int stop;                       /* set by the parent: stop and exit */
    atomic_uint_least64_t done[PROCS_MAX]; /* jobs each process finished */
    atomic_uint_least64_t failed_jobs[PROCS_MAX];
};

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

static int open_db(const char *url, long threads, struct db **out, struct err *e)
{
    struct db_options o = {.pool_size = (int)threads + 4, .busy_timeout_ms = 10000};
    return db_open(out, url, &o, e);
}

/* A worker process: a pool until the parent says stop, its progress in sh->done[idx]. */
static int claim_batch; /* the pools' claim batch; 0 = the default */

static int worker_process(const char *url, long threads, struct shared *sh, int idx)
{
    struct err e;
    err_init(&e);
    struct db *db = NULL;
    struct job_registry *reg = job_registry_new();
    struct job_workers *w = NULL;
    struct job_workers_options wo = {.threads = (int)threads, .poll_ms = 50, .batch = claim_batch};
    if (open_db(url, threads, &db, &e) || job_registry_add(reg, BENCH_JOB, noop, NULL, 0, &e) ||
        job_workers_start(db, reg, NULL, &wo, &w, &e)) {
        fail(&e, "worker process");
        atomic_fetch_add(&sh->failed, 1);
        job_registry_free(reg);
        db_close(db);
        return 1;
    }
    atomic_fetch_add(&sh->ready, 1);
    struct job_worker_stats st;
    while (!atomic_load(&sh->stop)) {
        job_workers_stats(w, &st);
        atomic_store(&sh->done[idx], st.succeeded);
        atomic_store(&sh->failed_jobs[idx], st.retried + st.dead + st.unknown_handler);
        usleep(POLL_USLEEP);
    }
    job_workers_stop(w, 5000);
    job_registry_free(reg);
    db_close(db);
    return 0;
}

static int enqueue_all(struct db *db, long n, long batch, struct err *e)
{
    struct db_conn *c;
    int rc = db_conn_acquire(db, &c, e);
    if (rc)
        return rc;
    struct job_spec *specs = xcalloc((size_t)batch, sizeof(*specs));
    for (long i = 0; i < batch; i++)
        specs[i] = (struct job_spec){.name = BENCH_JOB, .payload_json = "{}"};
    for (long done = 0; !rc && done < n; done += batch) {
        long k = n - done < batch ? n - done : batch;
        rc = jobs_enqueue_many(c, specs, (size_t)k, clock_now_ms(NULL), NULL, e);
    }
    free(specs);
    db_conn_release(c);
    return rc;
}

static uint64_t sum(atomic_uint_least64_t *v, long n)
{
    uint64_t s = 0;
    for (long i = 0; i < n; i++)
        s += atomic_load(&v[i]);
    return s;
}

static void stop_children(struct shared *sh, pid_t *pids, long procs)
{
    atomic_store(&sh->stop, 1);
    for (long i = 0; i < procs; i++) {
        if (pids[i] > 0)
            waitpid(pids[i], NULL, 0);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [THREADS] [N] [BATCH] [PROCS] [CLAIM]\n", argv[0]);
        return 2;
    }
    long threads = argc > 2 ? parse_long(argv[2], 1, 256) : 4;
    long n = argc > 3 ? parse_long(argv[3], 1, 10000000) : 20000;
    long batch = argc > 4 ? parse_long(argv[4], 1, 100000) : 500;
    long procs = argc > 5 ? parse_long(argv[5], 1, PROCS_MAX) : 1;
    long claim = argc > 6 ? parse_long(argv[6], 0, 10000) : 0;
    if (threads < 0 || n < 0 || batch < 0 || procs < 0 || claim < 0) {
        fprintf(stderr, "bench_jobs: bad THREADS, N, BATCH, PROCS or CLAIM\n");
        return 2;
    }
    claim_batch = (int)claim;
    const char *url = argv[1];
    struct err e;
    err_init(&e);
    /* Migrate, then close: no connection may cross fork(). */
    struct db *db = NULL;
    if (open_db(url, threads, &db, &e))
        return fail(&e, "open");
    int rc = db_migrate(db, NULL, &e);
    const char *backend = db_backend(db) == DB_POSTGRES ? "postgres" : "sqlite";
    db_close(db);
    db = NULL;
    if (rc)
        return fail(&e, "migrate");

    struct shared *sh =
        mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        perror("bench_jobs: mmap");
        return 1;
    }
    pid_t pids[PROCS_MAX] = {0};
    fflush(NULL);
    for (long i = 0; i < procs; i++) {
        pids[i] = fork();
        if (pids[i] < 0) {
            perror("bench_jobs: fork");
            stop_children(sh, pids, i);
            return 1;
        }
        if (pids[i] == 0)
            _exit(worker_process(url, threads, sh, (int)i));
    }
    int64_t until = clock_mono_ms() + 60000;
    while (atomic_load(&sh->ready) + atomic_load(&sh->failed) < procs && clock_mono_ms() < until)
        usleep(POLL_USLEEP);
    if (atomic_load(&sh->ready) < procs) {
        stop_children(sh, pids, procs);
        fprintf(stderr, "bench_jobs: worker processes did not start\n");
        return 1;
    }
    usleep(100 * 1000); /* every pool has made its first (empty) claim and is idle */

    if (open_db(url, threads, &db, &e)) {
        stop_children(sh, pids, procs);
        return fail(&e, "open");
    }
    int64_t t0 = clock_mono_ms();
    rc = enqueue_all(db, n, batch, &e);
    int64_t t1 = clock_mono_ms();
    int64_t t2 = t1;
    while (!rc) {
        t2 = clock_mono_ms();
        if (sum(sh->done, procs) + sum(sh->failed_jobs, procs) >= (uint64_t)n)
            break;
        if (t2 - t0 > TIMEOUT_MS) {
            rc = err_set(&e, ERR_TIMEOUT, "jobs not done after %d s", TIMEOUT_MS / 1000);
            break;
        }
        usleep(POLL_USLEEP);
    }
    stop_children(sh, pids, procs);
    int64_t counts[JOB_STATE_COUNT] = {0};
    struct db_conn *c = NULL;
    if (!rc)
        rc = db_conn_acquire(db, &c, &e);
    if (!rc)
        rc = jobs_count_by_state(c, JOBS_ALL_TENANTS, counts, &e);
    db_conn_release(c);
    db_close(db);
    if (rc)
        return fail(&e, "run");

    double enq_s = (double)(t1 - t0) / 1000.0;
    double all_s = (double)(t2 - t0) / 1000.0;
    printf("backend=%s jobs=%ld threads=%ld batch=%ld procs=%ld\n", backend, n, threads, batch,
           procs);
    printf("enqueue_s=%.3f enqueue_per_s=%.0f\n", enq_s, enq_s > 0 ? (double)n / enq_s : 0.0);
    printf("total_s=%.3f jobs_per_s=%.0f\n", all_s, all_s > 0 ? (double)n / all_s : 0.0);
    printf("done=%" PRId64 " dead=%" PRId64 " succeeded=%" PRIu64, counts[JOB_STATE_DONE],
           counts[JOB_STATE_DEAD], sum(sh->done, procs));
    for (long i = 0; i < procs; i++)
        printf(" proc%ld=%" PRIu64, i + 1, (uint64_t)atomic_load(&sh->done[i]));
    printf("\n");
    munmap(sh, sizeof(*sh));
    return counts[JOB_STATE_DONE] == n ? 0 : 1;
}
