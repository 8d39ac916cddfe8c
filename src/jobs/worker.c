/* SPDX-License-Identifier: MIT */
/*
 * Worker pool (see worker.h). One dispatcher thread owns every write the pool makes to the
 * queue except JOB_IN_TX completions: each cycle it records finished jobs, renews leases and
 * claims new jobs in ONE transaction, so with SQLite's single writer the cost of a commit is
 * shared by a whole batch (group commit). Handler threads only run handlers.
 * Tests: tests/unit/jobs/test_jobs.c.
 */
#include "jobs/worker.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "jobs/queue.h"
#include "jobs/retry.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- registry */

struct handler {
    char *name;
    job_handler_fn *fn;
    void *userdata;
    unsigned flags;
    char *lane; /* NULL: the default lane */
};

struct job_registry {
    struct handler *v;
    size_t n;
    size_t cap;
};

struct job_registry *job_registry_new(void)
{
    return xcalloc(1, sizeof(struct job_registry));
}

void job_registry_free(struct job_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->n; i++) {
        free(reg->v[i].name);
        free(reg->v[i].lane);
    }
    free(reg->v);
    free(reg);
}

static const struct handler *registry_find(const struct job_registry *reg, const char *name)
{
    for (size_t i = 0; i < reg->n; i++) {
        if (strcmp(reg->v[i].name, name) == 0)
            return &reg->v[i];
    }
    return NULL;
}

bool job_registry_has(const struct job_registry *reg, const char *name)
{
    return reg && name && registry_find(reg, name) != NULL;
}

int job_registry_add(struct job_registry *reg, const char *name, job_handler_fn *fn, void *userdata,
                     unsigned flags, struct err *e)
{
    if (!name || !name[0] || strlen(name) > JOB_NAME_MAX)
        return err_set_field(e, ERR_INVALID, "name", "job name must be 1..%d bytes", JOB_NAME_MAX);
    if (!fn)
        return err_set(e, ERR_INVALID, "job %s: handler is NULL", name);
    if (flags & ~(unsigned)JOB_IN_TX)
        return err_set(e, ERR_INVALID, "job %s: unknown flags 0x%x", name, flags);
    if (registry_find(reg, name))
        return err_set(e, ERR_CONFLICT, "job %s: handler already registered", name);
    if (reg->n == reg->cap) {
        reg->cap = reg->cap ? reg->cap * 2 : 16;
        reg->v = xrealloc(reg->v, reg->cap * sizeof(*reg->v));
    }
    reg->v[reg->n++] = (struct handler){xstrdup(name), fn, userdata, flags, NULL};
    return 0;
}

static bool is_default_lane(const char *lane)
{
    return !lane || !*lane || str_eq(lane, JOB_LANE_DEFAULT);
}

static int check_lane(const char *lane, struct err *e)
{
    size_t n = lane ? strlen(lane) : 0;
    bool ok = n >= 1 && n <= JOB_LANE_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = (lane[i] >= 'a' && lane[i] <= 'z') || (lane[i] >= '0' && lane[i] <= '9') ||
             lane[i] == '_' || lane[i] == '-';
    if (!ok)
        return err_set_field(e, ERR_INVALID, "lane", "lane must be 1..%d of a-z 0-9 _ -",
                             JOB_LANE_MAX);
    return 0;
}

int job_registry_set_lane(struct job_registry *reg, const char *name, const char *lane,
                          struct err *e)
{
    int rc = check_lane(lane, e);
    if (rc)
        return rc;
    struct handler *h = (struct handler *)(uintptr_t)registry_find(reg, name ? name : "");
    if (!h)
        return err_set_field(e, ERR_NOT_FOUND, "name", "job %s is not registered",
                             name ? name : "(null)");
    free(h->lane);
    h->lane = is_default_lane(lane) ? NULL : xstrdup(lane);
    return 0;
}

const char *job_registry_lane_of(const struct job_registry *reg, const char *name)
{
    const struct handler *h = reg && name ? registry_find(reg, name) : NULL;
    return h && h->lane ? h->lane : JOB_LANE_DEFAULT;
}

size_t job_registry_lanes(const struct job_registry *reg, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; reg && i < reg->n; i++) {
        const char *lane = reg->v[i].lane;
        bool seen = !lane;
        for (size_t j = 0; !seen && j < n && j < max; j++)
            seen = str_eq(out[j], lane);
        if (seen)
            continue;
        if (n < max)
            out[n] = lane;
        n++;
    }
    return n;
}

/* ---------------------------------------------------------------- pool state */

/* Jobs per completion / lease-renewal statement, and the statement shapes (see pairs_sql). */
#define PAIRS_MAX    64
#define PAIRS_SHAPES 7 /* 1, 2, 4, ..., PAIRS_MAX */


/* What became of a claimed job; decides the UPDATE the dispatcher writes. */
enum item_kind {
    ITEM_CLAIMED = 0, /* waiting for or being run */
    ITEM_DONE,        /* handler succeeded (non-transactional handler) */
    ITEM_FAILED,      /* handler failed: retry or dead */
    ITEM_UNKNOWN,     /* no handler: dead */
    ITEM_OVERRUN,     /* reclaimed after lost leases more often than max_attempts: dead */
    ITEM_RELEASE,     /* claimed but never started (pool stopping): back to pending */
};

struct item {
    struct item *next;
    int64_t id;
    int64_t tenant_id;
    char *name;
    char *payload;
    int attempts; /* after the claim's increment: the run number */
    int max_attempts;
    const struct handler *h;
    enum item_kind kind;
    char *error;    /* last_error for FAILED/UNKNOWN/OVERRUN */
    bool went_dead; /* set while recording */
};

struct worker_arg {
    struct job_workers *w;
    int idx;
};

struct job_workers {
    struct job_workers *next_live; /* in the live list (live_mu), for job_workers_wake_db */
    struct db *db;
    struct job_registry *reg;
    struct clock *clk;
    struct job_workers_options o;
    char *worker_id;
    int max_inflight;
    char *claim_pending_sql;
    char *claim_expired_sql;
    char *done_sql[PAIRS_SHAPES];  /* mark_done_batch() */
    char *renew_sql[PAIRS_SHAPES]; /* renew_leases() */
    const char *lane;              /* JOB_LANE_DEFAULT or the registry's copy of the lane name */
    const char **lane_names;       /* claim only these names (lane) or all but these (default) */
    int n_lane_names;

    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* handler threads wait for ready items */
    pthread_cond_t disp_cv; /* the dispatcher waits for completions / wake / stop */
    pthread_cond_t idle_cv; /* stop waits for running handlers */
    struct item *ready_head, *ready_tail;
    int ready_n;
    struct item *done_head; /* finished items the dispatcher has not recorded yet */
    struct item **current;  /* per handler thread: the item it runs, for lease renewal */
    int inflight;           /* claimed and not yet recorded */
    int running;
    int exited;
    bool stopping;
    bool wake;
    bool disp_sleeping;
    atomic_bool abandoned; /* grace period over */

    pthread_t *threads;
    struct worker_arg *args;
    pthread_t disp;
    int n_threads_started;
    /* PostgreSQL: wake-ups from other processes (LISTEN, see listener_main); NULL on SQLite. */
    struct db_listener *listener;
    pthread_t listen_thread;
    int listen_stop[2]; /* a byte on [1] ends listener_main */
    uint32_t rng;       /* dispatcher only */

    atomic_uint_least64_t succeeded, retried, dead, unknown;
};

static void item_free(struct item *it)
{
    if (!it)
        return;
    free(it->name);
    free(it->payload);
    free(it->error);
    free(it);
}

static void list_free(struct item *it)
{
    while (it) {
        struct item *next = it->next;
        item_free(it);
        it = next;
    }
}

static void set_item_error(struct item *it, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_item_error(struct item *it, const char *fmt, ...)
{
    char msg[JOB_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    free(it->error);
    it->error = xstrdup(msg);
}

static void set_item_error_from(struct item *it, int rc, const struct err *e)
{
    if (e->code != ERR_OK && e->msg[0])
        set_item_error(it, "%s: %s", err_code_name(e->code), e->msg);
    else
        set_item_error(it, "%s: handler failed without a message",
                       err_code_name((enum err_code)rc));
}

static uint32_t next_rand(struct job_workers *w)
{
    /* xorshift32: spreads retries; nothing here needs to be unpredictable. */
    uint32_t x = w->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    w->rng = x;
    return x;
}

static void deadline_ts(int64_t mono_deadline_ms, struct timespec *ts)
{
    ts->tv_sec = (time_t)(mono_deadline_ms / 1000);
    ts->tv_nsec = (long)(mono_deadline_ms % 1000) * 1000000L;
}

static void init_mono_cond(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
}

/* ---------------------------------------------------------------- SQL steps */

#define DONE_SQL                                                                                   \
    "UPDATE jobs SET state = 'done', lease_until = NULL, updated_at = ?, finished_at = ? "         \
    "WHERE id = ? AND state = 'running' AND locked_by = ? AND attempts = ?"

/*
 * Completions and lease renewals are written PAIRS_MAX jobs per statement: on PostgreSQL each
 * statement is a round trip, so one per job would cost a round trip per job. The job list is
 * padded (with its last job, harmless twice) to a power of two, so each connection caches
 * PAIRS_SHAPES statements, not one per length. Every job keeps its own guard: the id narrows
 * the rows through the primary key, and (id, attempts) pairs keep the claim's attempt. The
 * pairs are cast: PostgreSQL would otherwise type parameters in VALUES as text.
 */

/* The shape for k jobs (1..PAIRS_MAX): the smallest s with 2^s >= k. */
static int pairs_shape(int k)
{
    int s = 0;
    while ((1 << s) < k)
        s++;
    return s;
}

/* `head` (ending in a WHERE condition) + the guard for 2^shape jobs + `tail`. */
static char *pairs_sql(const char *head, int shape, const char *tail)
{
    int width = 1 << shape;
    struct buf b;
    buf_init(&b, 8192);
    int rc = buf_appends(&b, head);
    rc |= buf_appends(&b, " AND id IN (");
    for (int i = 0; i < width; i++)
        rc |= buf_appends(&b, i ? ", ?" : "?");
    rc |= buf_appends(&b, ") AND (id, attempts) IN (VALUES ");
    for (int i = 0; i < width; i++)
        rc |= buf_appends(&b, i ? ", (CAST(? AS BIGINT), CAST(? AS INTEGER))"
                                : "(CAST(? AS BIGINT), CAST(? AS INTEGER))");
    rc |= buf_appends(&b, ")");
    rc |= buf_appends(&b, tail);
    if (rc) {
        log_error("msg=\"job batch statement exceeds its buffer\" jobs=%d", width);
        abort();
    }
    return buf_detach(&b, NULL);
}

/* Run a guarded single-job UPDATE; *changed gets the row count. */
static int step_update(struct db_stmt *s, int64_t *changed, struct err *e)
{
    int st = db_step(s, e);
    *changed = st == DB_DONE ? db_changes(s) : 0;
    db_stmt_done(s);
    return st == DB_ERROR ? e->code : 0;
}

static int mark_done(struct job_workers *w, struct db_conn *c, const struct item *it, int64_t now,
                     int64_t *changed, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, DONE_SQL, e);
    if (rc)
        return rc;
    db_bind_time(s, 1, now);
    db_bind_time(s, 2, now);
    db_bind_i64(s, 3, it->id);
    db_bind_text(s, 4, w->worker_id);
    db_bind_i64(s, 5, it->attempts);
    return step_update(s, changed, e);
}

static int mark_retry(struct job_workers *w, struct db_conn *c, const struct item *it, int64_t now,
                      int64_t run_at, int64_t *changed, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE jobs SET state = 'pending', run_at = ?, last_error = ?, "
                        "lease_until = NULL, updated_at = ? "
                        "WHERE id = ? AND state = 'running' AND locked_by = ? AND attempts = ?",
                        e);
    if (rc)
        return rc;
    db_bind_time(s, 1, run_at);
    db_bind_text(s, 2, it->error);
    db_bind_time(s, 3, now);
    db_bind_i64(s, 4, it->id);
    db_bind_text(s, 5, w->worker_id);
    db_bind_i64(s, 6, it->attempts);
    return step_update(s, changed, e);
}

static int mark_dead(struct job_workers *w, struct db_conn *c, const struct item *it, int64_t now,
                     int64_t *changed, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE jobs SET state = 'dead', last_error = ?, lease_until = NULL, "
                        "updated_at = ?, finished_at = ? "
                        "WHERE id = ? AND state = 'running' AND locked_by = ? AND attempts = ?",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, it->error);
    db_bind_time(s, 2, now);
    db_bind_time(s, 3, now);
    db_bind_i64(s, 4, it->id);
    db_bind_text(s, 5, w->worker_id);
    db_bind_i64(s, 6, it->attempts);
    return step_update(s, changed, e);
}

static int mark_released(struct job_workers *w, struct db_conn *c, const struct item *it,
                         int64_t now, int64_t *changed, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE jobs SET state = 'pending', attempts = attempts - 1, "
                        "lease_until = NULL, locked_by = NULL, updated_at = ? "
                        "WHERE id = ? AND state = 'running' AND locked_by = ? AND attempts = ?",
                        e);
    if (rc)
        return rc;
    db_bind_time(s, 1, now);
    db_bind_i64(s, 2, it->id);
    db_bind_text(s, 3, w->worker_id);
    db_bind_i64(s, 4, it->attempts);
    return step_update(s, changed, e);
}

static int record_item(struct job_workers *w, struct db_conn *c, struct item *it, int64_t now,
                       struct err *e)
{
    int64_t changed = 0;
    int rc = 0;
    it->went_dead = false;
    switch (it->kind) {
    case ITEM_DONE:
        rc = mark_done(w, c, it, now, &changed, e);
        break;
    case ITEM_FAILED:
        if (it->attempts < it->max_attempts) {
            int64_t delay = job_backoff_ms(it->attempts, w->o.backoff_base_ms, w->o.backoff_cap_ms,
                                           next_rand(w));
            rc = mark_retry(w, c, it, now, now + delay, &changed, e);
        } else {
            it->went_dead = true;
            rc = mark_dead(w, c, it, now, &changed, e);
        }
        break;
    case ITEM_UNKNOWN:
    case ITEM_OVERRUN:
        it->went_dead = true;
        rc = mark_dead(w, c, it, now, &changed, e);
        break;
    case ITEM_RELEASE:
        rc = mark_released(w, c, it, now, &changed, e);
        break;
    case ITEM_CLAIMED:
        break;
    }
    if (!rc && changed == 0 && it->kind != ITEM_CLAIMED)
        log_warn("msg=\"job lease lost before its result was recorded\" job_id=%lld name=%s "
                 "attempt=%d",
                 (long long)it->id, it->name, it->attempts);
    return rc;
}

struct lease_ref {
    int64_t id;
    int attempts;
};

static int renew_leases(struct job_workers *w, struct db_conn *c, const struct lease_ref *refs,
                        int n, int64_t now, struct err *e)
{
    for (int at = 0; at < n; at += PAIRS_MAX) {
        int k = n - at < PAIRS_MAX ? n - at : PAIRS_MAX;
        int shape = pairs_shape(k);
        struct db_stmt *s;
        int rc = db_prepare(c, &s, w->renew_sql[shape], e);
        if (rc)
            return rc;
        db_bind_time(s, 1, now + w->o.lease_ms);
        db_bind_text(s, 2, w->worker_id);
        int width = 1 << shape;
        for (int i = 0; i < width; i++) {
            const struct lease_ref *r = &refs[at + (i < k ? i : k - 1)]; /* pad with the last */
            db_bind_i64(s, 3 + i, r->id);
            db_bind_i64(s, 3 + width + 2 * i, r->id);
            db_bind_i64(s, 4 + width + 2 * i, r->attempts);
        }
        int64_t changed;
        rc = step_update(s, &changed, e);
        if (rc)
            return rc;
    }
    return 0;
}

/*
 * Mark the finished jobs of items[0..n) done, PAIRS_MAX per statement, each still guarded by
 * its claim (running, ours, same attempt). A job whose claim was lost meanwhile is left alone
 * and logged, as record_item() does for one.
 */
static int mark_done_batch(struct job_workers *w, struct db_conn *c, struct item **items, int n,
                           int64_t now, struct err *e)
{
    for (int at = 0; at < n; at += PAIRS_MAX) {
        int k = n - at < PAIRS_MAX ? n - at : PAIRS_MAX;
        int shape = pairs_shape(k);
        struct db_stmt *s;
        int rc = db_prepare(c, &s, w->done_sql[shape], e);
        if (rc)
            return rc;
        db_bind_time(s, 1, now);
        db_bind_time(s, 2, now);
        db_bind_text(s, 3, w->worker_id);
        int width = 1 << shape;
        for (int i = 0; i < width; i++) {
            const struct item *it = items[at + (i < k ? i : k - 1)]; /* pad with the last */
            db_bind_i64(s, 4 + i, it->id);
            db_bind_i64(s, 4 + width + 2 * i, it->id);
            db_bind_i64(s, 5 + width + 2 * i, it->attempts);
        }
        bool seen[PAIRS_MAX] = {false};
        int st;
        while ((st = db_step(s, e)) == DB_ROW) {
            int64_t id = db_col_i64(s, 0);
            for (int i = 0; i < k; i++)
                seen[i] = seen[i] || items[at + i]->id == id;
        }
        db_stmt_done(s);
        if (st == DB_ERROR)
            return e->code;
        for (int i = 0; i < k; i++) {
            if (!seen[i])
                log_warn("msg=\"job lease lost before its result was recorded\" job_id=%lld "
                         "name=%s attempt=%d",
                         (long long)items[at + i]->id, items[at + i]->name,
                         items[at + i]->attempts);
        }
    }
    return 0;
}

/* Claim with one of the two claim statements; claimed items are pushed onto *out. */
static int claim(struct job_workers *w, struct db_conn *c, const char *sql, int64_t now, int limit,
                 struct item **out, int *n_out, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_time(s, 1, now + w->o.lease_ms);
    db_bind_text(s, 2, w->worker_id);
    db_bind_time(s, 3, now);
    db_bind_time(s, 4, now);
    int idx = 5;
    for (int i = 0; i < w->n_lane_names; i++)
        db_bind_text(s, idx++, w->lane_names[i]);
    db_bind_i64(s, idx, limit);
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        struct item *it = xcalloc(1, sizeof(*it));
        it->id = db_col_i64(s, 0);
        const char *name = db_col_text(s, 1);
        it->name = xstrdup(name ? name : "");
        it->tenant_id = db_col_is_null(s, 2) ? 0 : db_col_i64(s, 2);
        const char *payload = db_col_text(s, 3);
        it->payload = xstrdup(payload ? payload : "{}");
        it->attempts = (int)db_col_i64(s, 4);
        it->max_attempts = (int)db_col_i64(s, 5);
        it->next = *out;
        *out = it;
        (*n_out)++;
    }
    db_stmt_done(s);
    return st == DB_ERROR ? e->code : 0;
}

struct cycle {
    struct item *done;       /* in: results to record */
    struct item **done_v;    /* scratch for the ITEM_DONE ones, as long as the list */
    struct lease_ref *renew; /* in: leases to renew */
    int n_renew;
    int claim_n;          /* in: how many to claim */
    bool claim_expired;   /* in: look for expired leases too (once per poll interval) */
    struct item *claimed; /* out */
    int n_claimed;        /* out */
};

/* One transaction: record results, renew leases, claim (expired leases first). */
static int run_cycle(struct job_workers *w, struct cycle *cy, struct err *e)
{
    struct db_conn *c;
    int rc = db_conn_acquire(w->db, &c, e);
    if (rc)
        return rc;
    int64_t now = clock_now_ms(w->clk);
    rc = db_begin(c, e);
    if (rc)
        goto out_release;
    int n_done = 0;
    for (struct item *it = cy->done; it && !rc; it = it->next) {
        if (it->kind == ITEM_DONE)
            cy->done_v[n_done++] = it;
        else
            rc = record_item(w, c, it, now, e);
    }
    if (!rc && n_done)
        rc = mark_done_batch(w, c, cy->done_v, n_done, now, e);
    if (!rc && cy->n_renew)
        rc = renew_leases(w, c, cy->renew, cy->n_renew, now, e);
    if (!rc && cy->claim_n > 0 && cy->claim_expired)
        rc = claim(w, c, w->claim_expired_sql, now, cy->claim_n, &cy->claimed, &cy->n_claimed, e);
    if (!rc && cy->claim_n > cy->n_claimed)
        rc = claim(w, c, w->claim_pending_sql, now, cy->claim_n - cy->n_claimed, &cy->claimed,
                   &cy->n_claimed, e);
    if (!rc)
        rc = db_commit(c, e);
    if (rc) {
        db_rollback(c);
        list_free(cy->claimed);
        cy->claimed = NULL;
        cy->n_claimed = 0;
    }
out_release:
    db_conn_release(c);
    return rc;
}

/* ---------------------------------------------------------------- dispatcher */

static void push_done_locked(struct job_workers *w, struct item *it)
{
    it->next = w->done_head;
    w->done_head = it;
    if (w->disp_sleeping)
        pthread_cond_signal(&w->disp_cv);
}

/* Sort freshly claimed items into the ready queue, or straight to done when unrunnable. */
static void accept_claimed_locked(struct job_workers *w, struct item *list)
{
    while (list) {
        struct item *it = list;
        list = it->next;
        it->next = NULL;
        it->h = registry_find(w->reg, it->name);
        if (it->attempts > it->max_attempts) {
            it->kind = ITEM_OVERRUN;
            set_item_error(it, "lease expired on %d attempts (worker crashed or hung)",
                           it->attempts - 1);
            push_done_locked(w, it);
        } else if (!it->h) {
            it->kind = ITEM_UNKNOWN;
            set_item_error(it, "no handler registered for job name '%s'", it->name);
            push_done_locked(w, it);
        } else if (w->ready_tail) {
            w->ready_tail->next = it;
            w->ready_tail = it;
            w->ready_n++;
        } else {
            w->ready_head = w->ready_tail = it;
            w->ready_n++;
        }
    }
}

static void count_recorded(struct job_workers *w, const struct item *list)
{
    for (const struct item *it = list; it; it = it->next) {
        switch (it->kind) {
        case ITEM_DONE:
            atomic_fetch_add(&w->succeeded, 1);
            break;
        case ITEM_FAILED:
            if (it->went_dead)
                atomic_fetch_add(&w->dead, 1);
            else
                atomic_fetch_add(&w->retried, 1);
            break;
        case ITEM_UNKNOWN:
            atomic_fetch_add(&w->unknown, 1);
            break;
        case ITEM_OVERRUN:
            atomic_fetch_add(&w->dead, 1);
            break;
        default:
            break;
        }
    }
}

static int list_len(const struct item *it)
{
    int n = 0;
    for (; it; it = it->next)
        n++;
    return n;
}

static void *dispatcher_main(void *arg)
{
    struct job_workers *w = arg;
    int64_t hb_every = w->o.lease_ms / 3 > 0 ? w->o.lease_ms / 3 : 1;
    int64_t next_poll = 0;
    int64_t next_hb = clock_mono_ms() + hb_every;
    bool more = true; /* the last claim was full: more work is likely waiting */
    int final_failures = 0;
    int64_t next_expired = 0; /* when to look for expired leases next */
    struct lease_ref *renew = xmalloc(sizeof(*renew) * (size_t)(w->max_inflight + 1));
    struct item **done_v = xmalloc(sizeof(*done_v) * (size_t)(w->max_inflight + 1));

    pthread_mutex_lock(&w->mu);
    for (;;) {
        int64_t now = clock_mono_ms();
        bool final = w->stopping && w->exited == w->o.threads;
        if (final && w->ready_head) {
            /* Never started: hand them back without spending an attempt. */
            struct item *it = w->ready_head;
            w->ready_head = w->ready_tail = NULL;
            w->ready_n = 0;
            while (it) {
                struct item *next = it->next;
                it->kind = ITEM_RELEASE;
                push_done_locked(w, it);
                it = next;
            }
        }
        if (final && !w->done_head)
            break;
        bool want_claim =
            !w->stopping && w->inflight < w->max_inflight && (w->wake || more || now >= next_poll);
        bool hb_due = now >= next_hb && !atomic_load(&w->abandoned) && w->inflight > 0;
        if (!want_claim && !w->done_head && !hb_due) {
            int64_t until = w->stopping ? now + 100 : next_poll;
            if (w->inflight > 0 && next_hb < until)
                until = next_hb;
            if (until <= now)
                until = now + 1;
            struct timespec ts;
            deadline_ts(until, &ts);
            w->disp_sleeping = true;
            pthread_cond_timedwait(&w->disp_cv, &w->mu, &ts);
            w->disp_sleeping = false;
            continue;
        }

        struct cycle cy = {0};
        cy.done_v = done_v;
        cy.done = w->done_head;
        w->done_head = NULL;
        int n_done = list_len(cy.done);
        if (want_claim) {
            cy.claim_n = w->max_inflight - w->inflight + n_done;
            if (cy.claim_n > w->o.batch)
                cy.claim_n = w->o.batch;
            /* Leases expire with time, not with enqueues: once per poll interval is enough. */
            cy.claim_expired = now >= next_expired;
        }
        if (hb_due) {
            for (struct item *it = w->ready_head; it; it = it->next)
                renew[cy.n_renew++] = (struct lease_ref){it->id, it->attempts};
            for (int i = 0; i < w->o.threads; i++) {
                if (w->current[i])
                    renew[cy.n_renew++] =
                        (struct lease_ref){w->current[i]->id, w->current[i]->attempts};
            }
            cy.renew = renew;
        }
        w->wake = false;
        pthread_mutex_unlock(&w->mu);

        struct err e;
        err_init(&e);
        int rc = run_cycle(w, &cy, &e);

        pthread_mutex_lock(&w->mu);
        now = clock_mono_ms();
        if (rc) {
            log_error("msg=\"job dispatcher cycle failed\" worker=%s code=%s err=\"%s\"",
                      w->worker_id, err_code_name(e.code), e.msg);
            /* Keep the results for the next cycle; back off before touching the db again. */
            struct item *tail = cy.done;
            while (tail && tail->next)
                tail = tail->next;
            if (tail) {
                tail->next = w->done_head;
                w->done_head = cy.done;
            }
            more = false;
            next_poll = now + w->o.poll_ms;
            if (final && ++final_failures >= 3) {
                log_error("msg=\"job results not recorded at stop; leases will expire\" "
                          "worker=%s",
                          w->worker_id);
                list_free(w->done_head);
                w->done_head = NULL;
            }
            struct timespec ts;
            deadline_ts(now + w->o.poll_ms, &ts);
            w->disp_sleeping = true;
            pthread_cond_timedwait(&w->disp_cv, &w->mu, &ts);
            w->disp_sleeping = false;
            continue;
        }
        count_recorded(w, cy.done);
        w->inflight -= n_done;
        list_free(cy.done);
        if (want_claim) {
            more = cy.n_claimed == cy.claim_n;
            next_poll = now + w->o.poll_ms;
            if (cy.claim_expired)
                next_expired = now + w->o.poll_ms;
        }
        if (hb_due)
            next_hb = now + hb_every;
        if (cy.n_claimed) {
            w->inflight += cy.n_claimed;
            accept_claimed_locked(w, cy.claimed);
            pthread_cond_broadcast(&w->work_cv);
        }
    }
    pthread_mutex_unlock(&w->mu);
    free(renew);
    free(done_v);
    return NULL;
}

/* ---------------------------------------------------------------- handler threads */

/*
 * Run one claimed item. Returns with it->kind set to DONE or FAILED for the dispatcher to
 * record, or ITEM_CLAIMED when the result is already settled (a JOB_IN_TX handler committed
 * with its done mark, or lost its lease and rolled back).
 */
static void run_item(struct job_workers *w, struct item *it, bool *committed)
{
    struct err e;
    err_init(&e);
    *committed = false;
    struct db_conn *c = NULL;
    int rc = db_conn_acquire(w->db, &c, &e);
    if (rc) {
        it->kind = ITEM_FAILED;
        set_item_error_from(it, rc, &e);
        return;
    }
    struct arena a;
    arena_init(&a);
    bool in_tx = it->h->flags & JOB_IN_TX;
    struct job_ctx ctx = {
        .db = w->db,
        .conn = c,
        .job_id = it->id,
        .name = it->name,
        .tenant_id = it->tenant_id,
        .payload = it->payload,
        .attempt = it->attempts,
        .max_attempts = it->max_attempts,
        .now_ms = clock_now_ms(w->clk),
        .arena = &a,
        .userdata = it->h->userdata,
        .pool = w,
    };
    if (in_tx)
        rc = db_begin(c, &e);
    if (!rc)
        rc = it->h->fn(&ctx, &e);
    /* Deferred cleanups (statements) must run before commit and before the conn goes back. */
    arena_release(&a);

    if (in_tx) {
        int64_t changed = 0;
        if (!rc)
            rc = mark_done(w, c, it, clock_now_ms(w->clk), &changed, &e);
        if (!rc && changed == 0) {
            db_rollback(c);
            log_warn("msg=\"job lease lost during run; handler work rolled back\" job_id=%lld "
                     "name=%s attempt=%d",
                     (long long)it->id, it->name, it->attempts);
            it->kind = ITEM_CLAIMED;
        } else if (!rc) {
            rc = db_commit(c, &e);
            if (!rc) {
                *committed = true;
                it->kind = ITEM_CLAIMED;
            }
        }
        if (rc)
            db_rollback(c);
    } else if (db_in_transaction(c)) {
        db_rollback(c);
        log_warn("msg=\"job handler left a transaction open; rolled back\" job_id=%lld name=%s",
                 (long long)it->id, it->name);
        if (!rc)
            rc = err_set(&e, ERR_INTERNAL, "handler left a transaction open");
    }
    db_conn_release(c);
    if (rc) {
        it->kind = ITEM_FAILED;
        set_item_error_from(it, rc, &e);
    } else if (!in_tx) {
        it->kind = ITEM_DONE;
    }
}

static void *worker_main(void *arg)
{
    struct worker_arg *wa = arg;
    struct job_workers *w = wa->w;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->ready_head && !w->stopping)
            pthread_cond_wait(&w->work_cv, &w->mu);
        if (w->stopping)
            break;
        struct item *it = w->ready_head;
        w->ready_head = it->next;
        if (!w->ready_head)
            w->ready_tail = NULL;
        w->ready_n--;
        it->next = NULL;
        w->current[wa->idx] = it;
        w->running++;
        /* Running low: let the dispatcher claim ahead while we work. */
        if (w->ready_n < w->o.threads && w->disp_sleeping)
            pthread_cond_signal(&w->disp_cv);
        pthread_mutex_unlock(&w->mu);

        bool committed;
        run_item(w, it, &committed);

        pthread_mutex_lock(&w->mu);
        w->current[wa->idx] = NULL;
        w->running--;
        if (committed)
            atomic_fetch_add(&w->succeeded, 1);
        if (it->kind == ITEM_CLAIMED || (it->kind == ITEM_FAILED && atomic_load(&w->abandoned))) {
            /* Settled already, or past the grace period: the lease recovers it. */
            w->inflight--;
            item_free(it);
            if (w->disp_sleeping)
                pthread_cond_signal(&w->disp_cv);
        } else {
            push_done_locked(w, it);
        }
        if (w->stopping && w->running == 0)
            pthread_cond_broadcast(&w->idle_cv);
    }
    w->exited++;
    pthread_cond_signal(&w->disp_cv);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* ---------------------------------------------------------------- LISTEN */

/* The channel migration 0041 notifies when a job becomes runnable (PostgreSQL). */
#define JOBS_CHANNEL "iceshop_jobs"

/*
 * Wakes the dispatcher when another process (or this one) commits a runnable job on
 * PostgreSQL, so pools in processes that enqueue nothing claim at once instead of at their
 * next poll. The dispatcher keeps polling every poll_ms: a notification lost while the
 * listening connection was down costs at most one poll interval.
 */
static void *listener_main(void *arg)
{
    struct job_workers *w = arg;
    for (;;) {
        struct err e;
        err_init(&e);
        bool notified = false;
        int rc = db_listen_wait(w->listener, 60000, w->listen_stop[0], &notified, &e);
        struct pollfd stop = {.fd = w->listen_stop[0], .events = POLLIN};
        if (poll(&stop, 1, 0) > 0)
            break;
        if (rc) {
            log_warn("msg=\"job listener failed; polling meanwhile\" worker=%s err=\"%s\"",
                     w->worker_id, e.msg);
            /* back off (bounded), still ending at once on stop */
            if (poll(&stop, 1, w->o.poll_ms > 1000 ? w->o.poll_ms : 1000) > 0)
                break;
            continue;
        }
        if (notified)
            job_workers_wake(w);
    }
    return NULL;
}

/* Start listening (PostgreSQL only); without it the pool polls. Never fails the pool. */
static void listener_start(struct job_workers *w)
{
    w->listen_stop[0] = w->listen_stop[1] = -1;
    if (db_backend(w->db) != DB_POSTGRES)
        return;
    struct err e;
    err_init(&e);
    if (db_listen_open(w->db, JOBS_CHANNEL, &w->listener, &e)) {
        log_warn("msg=\"job listener not started; polling\" worker=%s err=\"%s\"", w->worker_id,
                 e.msg);
        w->listener = NULL;
        return;
    }
    if (pipe(w->listen_stop) != 0) {
        log_warn("msg=\"job listener not started; polling\" worker=%s err=\"pipe: %s\"",
                 w->worker_id, strerror(errno));
        w->listen_stop[0] = w->listen_stop[1] = -1;
        db_listen_close(w->listener);
        w->listener = NULL;
        return;
    }
    int rc = pthread_create(&w->listen_thread, NULL, listener_main, w);
    if (rc) {
        log_warn("msg=\"job listener not started; polling\" worker=%s err=\"%s\"", w->worker_id,
                 strerror(rc));
        close(w->listen_stop[0]);
        close(w->listen_stop[1]);
        w->listen_stop[0] = w->listen_stop[1] = -1;
        db_listen_close(w->listener);
        w->listener = NULL;
    }
}

static void listener_stop(struct job_workers *w)
{
    if (!w->listener)
        return;
    char b = 's';
    while (write(w->listen_stop[1], &b, 1) < 0 && errno == EINTR) {
    }
    pthread_join(w->listen_thread, NULL);
    close(w->listen_stop[0]);
    close(w->listen_stop[1]);
    db_listen_close(w->listener);
    w->listener = NULL;
}

/* ---------------------------------------------------------------- lifecycle */

static atomic_int pool_counter;

static void pool_free(struct job_workers *w)
{
    list_free(w->ready_head);
    list_free(w->done_head);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->work_cv);
    pthread_cond_destroy(&w->disp_cv);
    pthread_cond_destroy(&w->idle_cv);
    free(w->current);
    free(w->threads);
    free(w->args);
    free(w->worker_id);
    free(w->claim_pending_sql);
    free(w->claim_expired_sql);
    for (int i = 0; i < PAIRS_SHAPES; i++) {
        free(w->done_sql[i]);
        free(w->renew_sql[i]);
    }
    free(w->lane_names);
    free(w);
}

/* Longest claim statement: the lane's names are bound as parameters, one "?, " each. */
#define BUF_MAX_CLAIM_SQL (64u * 1024)

/*
 * The names this pool's lane claims: a named lane claims exactly the names registered to it
 * (IN), the default lane every name not registered to another lane (NOT IN), so unknown names
 * still reach the default lane and go dead there. Returns the SQL condition (static).
 */
static const char *lane_scope(struct job_workers *w)
{
    w->lane_names = xcalloc(w->reg->n + 1, sizeof(*w->lane_names));
    bool named = !is_default_lane(w->lane);
    for (size_t i = 0; i < w->reg->n; i++) {
        const char *lane = w->reg->v[i].lane;
        if (named ? lane && str_eq(lane, w->lane) : lane != NULL)
            w->lane_names[w->n_lane_names++] = w->reg->v[i].name;
    }
    if (!w->n_lane_names)
        return "";
    return named ? " AND name IN (" : " AND name NOT IN (";
}

static char *claim_sql(struct job_workers *w, const char *head, const char *scope,
                       const char *order, const char *skip)
{
    struct buf b;
    buf_init(&b, BUF_MAX_CLAIM_SQL);
    int rc = buf_appends(&b, head);
    if (*scope) {
        rc |= buf_appends(&b, scope);
        for (int i = 0; i < w->n_lane_names; i++)
            rc |= buf_appends(&b, i ? ", ?" : "?");
        rc |= buf_appends(&b, ")");
    }
    rc |= buf_appendf(&b,
                      " ORDER BY %s LIMIT ?%s) "
                      "RETURNING id, name, tenant_id, payload, attempts, max_attempts",
                      order, skip);
    /* names are bound, not inlined: only a registry of thousands of jobs can overflow it */
    if (rc) {
        log_error("msg=\"job claim statement exceeds its buffer\" lane=%s names=%d", w->lane,
                  w->n_lane_names);
        abort();
    }
    return buf_detach(&b, NULL);
}

/*
 * The pools running in this process, so that a commit that enqueued jobs can wake the pools of
 * its database (job_workers_wake_db) without knowing them. A pool is in the list from the end
 * of job_workers_start() to the start of job_workers_stop(); live_mu is held while waking, so a
 * pool being stopped is never woken after it left the list.
 */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static struct job_workers *live;

static void live_add(struct job_workers *w)
{
    pthread_mutex_lock(&live_mu);
    w->next_live = live;
    live = w;
    pthread_mutex_unlock(&live_mu);
}

static void live_remove(struct job_workers *w)
{
    pthread_mutex_lock(&live_mu);
    for (struct job_workers **p = &live; *p; p = &(*p)->next_live) {
        if (*p == w) {
            *p = w->next_live;
            break;
        }
    }
    pthread_mutex_unlock(&live_mu);
}

void job_workers_wake_db(void *db)
{
    pthread_mutex_lock(&live_mu);
    for (struct job_workers *w = live; w; w = w->next_live) {
        if (w->db == db)
            job_workers_wake(w);
    }
    pthread_mutex_unlock(&live_mu);
}

int job_workers_start(struct db *db, struct job_registry *reg, struct clock *clk,
                      const struct job_workers_options *o, struct job_workers **out, struct err *e)
{
    static const struct job_workers_options defaults;
    if (!o)
        o = &defaults;
    if (o->threads < 0 || o->threads > 256 || o->lease_ms < 0 || o->poll_ms < 0 || o->batch < 0 ||
        o->batch > 10000 || o->backoff_base_ms < 0 || o->backoff_cap_ms < 0)
        return err_set(e, ERR_INVALID, "job worker options out of range");
    const char *lane = JOB_LANE_DEFAULT;
    if (!is_default_lane(o->lane)) {
        int rc = check_lane(o->lane, e);
        if (rc)
            return rc;
        lane = NULL;
        for (size_t i = 0; i < reg->n && !lane; i++)
            lane = reg->v[i].lane && str_eq(reg->v[i].lane, o->lane) ? reg->v[i].lane : NULL;
        if (!lane)
            return err_set_field(e, ERR_INVALID, "lane", "no job is registered to lane %s",
                                 o->lane);
    }
    struct job_workers *w = xcalloc(1, sizeof(*w));
    w->db = db;
    w->reg = reg;
    w->clk = clk ? clk : clock_system();
    w->o = *o;
    w->o.threads = o->threads ? o->threads : 4;
    w->o.lease_ms = o->lease_ms ? o->lease_ms : 30000;
    w->o.poll_ms = o->poll_ms ? o->poll_ms : 200;
    w->o.batch = o->batch ? o->batch : 64;
    w->o.backoff_base_ms = o->backoff_base_ms ? o->backoff_base_ms : 1000;
    w->o.backoff_cap_ms = o->backoff_cap_ms ? o->backoff_cap_ms : 3600000;
    int n = atomic_fetch_add(&pool_counter, 1);
    if (o->worker_id) {
        w->worker_id = xstrdup(o->worker_id);
    } else {
        char host[128] = "";
        gethostname(host, sizeof(host) - 1);
        char id[256];
        snprintf(id, sizeof(id), "%s:%ld:%d", host[0] ? host : "host", (long)getpid(), n);
        w->worker_id = xstrdup(id);
    }
    w->o.worker_id = w->worker_id;
    w->lane = lane;
    w->o.lane = lane;
    w->max_inflight = w->o.threads + w->o.batch;
    w->rng = (uint32_t)clock_mono_ns() ^ (uint32_t)(uintptr_t)w ^ 0x9e3779b9u;
    if (!w->rng)
        w->rng = 1;

    /*
     * Two claim statements instead of one OR: each walks its own index in order and stops at
     * LIMIT, where an OR would sort every due row on each claim once a backlog builds up.
     * Parameters: lease_until, locked_by, updated_at, now, the lane's names, limit.
     */
    const char *skip = db_sql(db, DB_SQL_SKIP_LOCKED);
    const char *scope = lane_scope(w);
    w->claim_pending_sql =
        claim_sql(w,
                  "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = ?, "
                  "locked_by = ?, updated_at = ? WHERE id IN (SELECT id FROM jobs WHERE "
                  "state = 'pending' AND run_at <= ?",
                  scope, "run_at", skip);
    w->claim_expired_sql =
        claim_sql(w,
                  "UPDATE jobs SET attempts = attempts + 1, lease_until = ?, locked_by = ?, "
                  "updated_at = ? WHERE id IN (SELECT id FROM jobs WHERE state = 'running' AND "
                  "lease_until < ?",
                  scope, "lease_until", skip);
    for (int i = 0; i < PAIRS_SHAPES; i++) {
        w->done_sql[i] = pairs_sql("UPDATE jobs SET state = 'done', lease_until = NULL, "
                                   "updated_at = ?, finished_at = ? WHERE state = 'running' "
                                   "AND locked_by = ?",
                                   i, " RETURNING id");
        w->renew_sql[i] = pairs_sql("UPDATE jobs SET lease_until = ? WHERE state = 'running' "
                                    "AND locked_by = ?",
                                    i, "");
    }

    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work_cv, NULL);
    init_mono_cond(&w->disp_cv);
    init_mono_cond(&w->idle_cv);
    w->current = xcalloc((size_t)w->o.threads, sizeof(*w->current));
    w->threads = xcalloc((size_t)w->o.threads, sizeof(*w->threads));
    w->args = xcalloc((size_t)w->o.threads, sizeof(*w->args));

    for (int i = 0; i < w->o.threads; i++) {
        w->args[i] = (struct worker_arg){w, i};
        int rc = pthread_create(&w->threads[i], NULL, worker_main, &w->args[i]);
        if (rc) {
            pthread_mutex_lock(&w->mu);
            w->stopping = true;
            w->exited += w->o.threads - i; /* never started */
            pthread_cond_broadcast(&w->work_cv);
            pthread_mutex_unlock(&w->mu);
            for (int j = 0; j < i; j++)
                pthread_join(w->threads[j], NULL);
            pool_free(w);
            return err_set(e, ERR_INTERNAL, "cannot start job worker thread: %s", strerror(rc));
        }
        w->n_threads_started++;
    }
    /* Listening before the first claim: a job committed after it is never missed. */
    listener_start(w);
    int rc = pthread_create(&w->disp, NULL, dispatcher_main, w);
    if (rc) {
        listener_stop(w);
        pthread_mutex_lock(&w->mu);
        w->stopping = true;
        pthread_cond_broadcast(&w->work_cv);
        pthread_mutex_unlock(&w->mu);
        for (int j = 0; j < w->o.threads; j++)
            pthread_join(w->threads[j], NULL);
        pool_free(w);
        return err_set(e, ERR_INTERNAL, "cannot start job dispatcher thread: %s", strerror(rc));
    }
    live_add(w);
    log_info("msg=\"job workers started\" worker=%s lane=%s threads=%d batch=%d listen=%s",
             w->worker_id, w->lane, w->o.threads, w->o.batch, w->listener ? "yes" : "no");
    *out = w;
    return 0;
}

void job_workers_stop(struct job_workers *w, int grace_ms)
{
    if (!w)
        return;
    live_remove(w);
    listener_stop(w);
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->work_cv);
    pthread_cond_signal(&w->disp_cv);
    int64_t deadline = clock_mono_ms() + (grace_ms > 0 ? grace_ms : 0);
    while (w->running > 0 && clock_mono_ms() < deadline) {
        struct timespec ts;
        deadline_ts(deadline, &ts);
        int rc = pthread_cond_timedwait(&w->idle_cv, &w->mu, &ts);
        if (rc == ETIMEDOUT)
            break;
    }
    if (w->running > 0) {
        atomic_store(&w->abandoned, true);
        log_warn("msg=\"job workers stopping with handlers still running; their leases will "
                 "expire\" worker=%s running=%d",
                 w->worker_id, w->running);
    }
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->o.threads; i++)
        pthread_join(w->threads[i], NULL);
    pthread_mutex_lock(&w->mu);
    pthread_cond_signal(&w->disp_cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->disp, NULL);
    log_info("msg=\"job workers stopped\" worker=%s succeeded=%llu", w->worker_id,
             (unsigned long long)atomic_load(&w->succeeded));
    pool_free(w);
}

void job_workers_wake(struct job_workers *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->wake = true;
    pthread_cond_signal(&w->disp_cv);
    pthread_mutex_unlock(&w->mu);
}

bool job_ctx_cancelled(const struct job_ctx *ctx)
{
    return ctx->pool && atomic_load(&ctx->pool->abandoned);
}

void job_workers_stats(struct job_workers *w, struct job_worker_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->succeeded = atomic_load(&w->succeeded);
    out->retried = atomic_load(&w->retried);
    out->dead = atomic_load(&w->dead);
    out->unknown_handler = atomic_load(&w->unknown);
    pthread_mutex_lock(&w->mu);
    out->running = w->running;
    pthread_mutex_unlock(&w->mu);
    out->threads = w->o.threads;
}
