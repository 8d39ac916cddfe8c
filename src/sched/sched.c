/* SPDX-License-Identifier: MIT */
/*
 * Scheduler (see sched.h): a leader-only tick that turns due time slots into jobs. Each slot is
 * claimed by a guarded UPDATE of sched_state in the same transaction as the enqueue, so two
 * processes that both believe they lead (a stale SQLite lease) still enqueue it once.
 * Never runs work itself. Tests: tests/unit/sched/test_sched.c.
 */
#include "sched/sched.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "jobs/queue.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_MS       86400000LL
#define MAX_INTERVAL (366 * 86400)

enum task_kind { TASK_EVERY, TASK_DAILY };

struct task {
    char *name;
    enum task_kind kind;
    int64_t interval_ms;
    int64_t offset_ms; /* slot starts are offset + k * interval */
    char *job_name;
    char *payload;
    int64_t known_slot; /* latest slot known to be taken (by us or another leader) */
};

struct sched {
    struct db *db;
    struct clock *clk;
    struct db_leader *leader;
    int tick_ms;
    struct task *tasks;
    size_t n_tasks;
    size_t cap_tasks;
    atomic_bool is_leader;

    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

int sched_new(struct db *db, struct clock *clk, const struct sched_options *o, struct sched **out,
              struct err *e)
{
    static const struct sched_options defaults;
    if (!o)
        o = &defaults;
    if (o->leader_ttl_ms < 0 || o->tick_ms < 0)
        return err_set(e, ERR_INVALID, "scheduler options out of range");
    struct db_leader *leader;
    int rc = db_leader_new(db, o->leader_name ? o->leader_name : "iceshop.sched",
                           o->leader_ttl_ms ? o->leader_ttl_ms : 5000, &leader, e);
    if (rc)
        return rc;
    struct sched *s = xcalloc(1, sizeof(*s));
    s->db = db;
    s->clk = clk ? clk : clock_system();
    s->leader = leader;
    s->tick_ms = o->tick_ms ? o->tick_ms : 1000;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &attr);
    pthread_condattr_destroy(&attr);
    *out = s;
    return 0;
}

static int add_task(struct sched *s, const char *task_name, enum task_kind kind,
                    int64_t interval_ms, int64_t offset_ms, const char *job_name,
                    const char *payload_json, struct err *e)
{
    if (!task_name || !task_name[0] || strlen(task_name) > SCHED_TASK_NAME_MAX)
        return err_set_field(e, ERR_INVALID, "task", "task name must be 1..%d bytes",
                             SCHED_TASK_NAME_MAX);
    if (!job_name || !job_name[0] || strlen(job_name) > JOB_NAME_MAX)
        return err_set_field(e, ERR_INVALID, "job", "task %s: job name must be 1..%d bytes",
                             task_name, JOB_NAME_MAX);
    if (s->started)
        return err_set(e, ERR_CONFLICT, "task %s: add tasks before sched_start", task_name);
    for (size_t i = 0; i < s->n_tasks; i++) {
        if (strcmp(s->tasks[i].name, task_name) == 0)
            return err_set(e, ERR_CONFLICT, "task %s already scheduled", task_name);
    }
    if (s->n_tasks == s->cap_tasks) {
        s->cap_tasks = s->cap_tasks ? s->cap_tasks * 2 : 8;
        s->tasks = xrealloc(s->tasks, s->cap_tasks * sizeof(*s->tasks));
    }
    s->tasks[s->n_tasks++] = (struct task){
        .name = xstrdup(task_name),
        .kind = kind,
        .interval_ms = interval_ms,
        .offset_ms = offset_ms,
        .job_name = xstrdup(job_name),
        .payload = xstrdup(payload_json ? payload_json : "{}"),
        .known_slot = INT64_MIN,
    };
    return 0;
}

int sched_every(struct sched *s, const char *task_name, int interval_s, const char *job_name,
                const char *payload_json, struct err *e)
{
    if (interval_s < 1 || interval_s > MAX_INTERVAL)
        return err_set_field(e, ERR_INVALID, "interval",
                             "task %s: interval must be 1..%d seconds, got %d",
                             task_name ? task_name : "", MAX_INTERVAL, interval_s);
    return add_task(s, task_name, TASK_EVERY, (int64_t)interval_s * 1000, 0, job_name, payload_json,
                    e);
}

/* "HH:MM" → ms after midnight; exactly two digits, a colon, two digits. */
static int parse_hh_mm(const char *t, int64_t *out)
{
    if (!t || strlen(t) != 5 || t[2] != ':')
        return ERR_INVALID;
    const int digits[4] = {0, 1, 3, 4};
    for (int i = 0; i < 4; i++) {
        if (t[digits[i]] < '0' || t[digits[i]] > '9')
            return ERR_INVALID;
    }
    int hh = (t[0] - '0') * 10 + (t[1] - '0');
    int mm = (t[3] - '0') * 10 + (t[4] - '0');
    if (hh > 23 || mm > 59)
        return ERR_INVALID;
    *out = (int64_t)hh * 3600000 + (int64_t)mm * 60000;
    return 0;
}

int sched_daily(struct sched *s, const char *task_name, const char *hh_mm, const char *job_name,
                const char *payload_json, struct err *e)
{
    int64_t offset;
    if (parse_hh_mm(hh_mm, &offset))
        return err_set_field(e, ERR_INVALID, "at",
                             "task %s: daily time must be \"HH:MM\" in UTC (00:00..23:59), "
                             "got \"%s\"",
                             task_name ? task_name : "", hh_mm ? hh_mm : "(null)");
    return add_task(s, task_name, TASK_DAILY, DAY_MS, offset, job_name, payload_json, e);
}

/* Start of the latest slot at or before now. */
static int64_t slot_at(const struct task *t, int64_t now_ms)
{
    int64_t x = now_ms - t->offset_ms;
    int64_t k = x / t->interval_ms;
    if (x % t->interval_ms < 0)
        k--;
    return k * t->interval_ms + t->offset_ms;
}

/*
 * Take `slot` for task `t` and enqueue its job, in one transaction. *enqueued tells whether a
 * job was added (false when another leader took the slot first, or when a new daily task only
 * records its baseline).
 */
static int take_slot(struct db_conn *c, struct task *t, int64_t slot, int64_t now_ms,
                     bool *enqueued, struct err *e)
{
    *enqueued = false;
    int rc = db_begin(c, e);
    if (rc)
        return rc;
    struct db_stmt *st;
    rc = db_prepare(c, &st,
                    "INSERT INTO sched_state (task, last_slot_ms, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (task) DO NOTHING",
                    e);
    if (rc)
        goto out_rollback;
    db_bind_text(st, 1, t->name);
    db_bind_i64(st, 2, slot);
    db_bind_time(st, 3, now_ms);
    int r = db_step(st, e);
    int64_t inserted = r == DB_DONE ? db_changes(st) : 0;
    db_stmt_done(st);
    if (r == DB_ERROR) {
        rc = e->code;
        goto out_rollback;
    }
    bool take;
    if (inserted) {
        /* First sight of this task anywhere: a daily task waits for its next HH:MM. */
        take = t->kind == TASK_EVERY;
    } else {
        rc = db_prepare(c, &st,
                        "UPDATE sched_state SET last_slot_ms = ?, updated_at = ? "
                        "WHERE task = ? AND last_slot_ms < ?",
                        e);
        if (rc)
            goto out_rollback;
        db_bind_i64(st, 1, slot);
        db_bind_time(st, 2, now_ms);
        db_bind_text(st, 3, t->name);
        db_bind_i64(st, 4, slot);
        r = db_step(st, e);
        take = r == DB_DONE && db_changes(st) == 1;
        db_stmt_done(st);
        if (r == DB_ERROR) {
            rc = e->code;
            goto out_rollback;
        }
    }
    if (take) {
        char key[SCHED_TASK_NAME_MAX + 32];
        snprintf(key, sizeof(key), "sched:%s:%lld", t->name, (long long)slot);
        struct job_spec spec = {
            .name = t->job_name,
            .payload_json = t->payload,
            .run_at_ms = slot,
            .unique_key = key,
        };
        rc = jobs_enqueue(c, &spec, now_ms, NULL, NULL, e);
        if (rc)
            goto out_rollback;
    }
    rc = db_commit(c, e);
    if (rc)
        goto out_rollback;
    *enqueued = take;
    return 0;

out_rollback:
    db_rollback(c);
    return rc;
}

int sched_tick(struct sched *s, int64_t now_ms, int *enqueued, struct err *e)
{
    if (enqueued)
        *enqueued = 0;
    bool leader = false;
    int rc = db_leader_try(s->leader, now_ms, &leader, e);
    if (rc) {
        atomic_store(&s->is_leader, false);
        return rc;
    }
    bool was = atomic_exchange(&s->is_leader, leader);
    if (was != leader)
        log_info("msg=\"scheduler leadership %s\"", leader ? "acquired" : "lost");
    if (!leader)
        return 0;

    struct db_conn *c = NULL;
    for (size_t i = 0; i < s->n_tasks; i++) {
        struct task *t = &s->tasks[i];
        int64_t slot = slot_at(t, now_ms);
        if (slot <= t->known_slot)
            continue;
        if (!c) {
            rc = db_conn_acquire(s->db, &c, e);
            if (rc)
                return rc;
        }
        bool added;
        rc = take_slot(c, t, slot, now_ms, &added, e);
        if (rc) {
            log_error("msg=\"scheduled task failed to enqueue\" task=%s code=%s err=\"%s\"",
                      t->name, err_code_name(e->code), e->msg);
            break;
        }
        t->known_slot = slot;
        if (added) {
            log_debug("msg=\"scheduled job enqueued\" task=%s job=%s slot=%lld", t->name,
                      t->job_name, (long long)slot);
            if (enqueued)
                (*enqueued)++;
        }
    }
    db_conn_release(c);
    return rc;
}

static void *sched_main(void *arg)
{
    struct sched *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        pthread_mutex_unlock(&s->mu);
        struct err e;
        err_init(&e);
        if (sched_tick(s, clock_now_ms(s->clk), NULL, &e))
            log_warn("msg=\"scheduler tick failed\" code=%s err=\"%s\"", err_code_name(e.code),
                     e.msg);
        pthread_mutex_lock(&s->mu);
        if (s->stop)
            break;
        int64_t until = clock_mono_ms() + s->tick_ms;
        struct timespec ts = {.tv_sec = (time_t)(until / 1000),
                              .tv_nsec = (long)(until % 1000) * 1000000L};
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int sched_start(struct sched *s, struct err *e)
{
    if (s->started)
        return err_set(e, ERR_CONFLICT, "scheduler already started");
    s->stop = false;
    int rc = pthread_create(&s->thread, NULL, sched_main, s);
    if (rc)
        return err_set(e, ERR_INTERNAL, "cannot start scheduler thread: %s", strerror(rc));
    s->started = true;
    return 0;
}

void sched_stop(struct sched *s)
{
    if (!s || !s->started)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    s->started = false;
}

bool sched_is_leader(struct sched *s)
{
    return atomic_load(&s->is_leader);
}

void sched_free(struct sched *s)
{
    if (!s)
        return;
    sched_stop(s);
    db_leader_free(s->leader);
    for (size_t i = 0; i < s->n_tasks; i++) {
        free(s->tasks[i].name);
        free(s->tasks[i].job_name);
        free(s->tasks[i].payload);
    }
    free(s->tasks);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
