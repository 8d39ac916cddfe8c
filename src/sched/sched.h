/* SPDX-License-Identifier: MIT */
/*
 * Periodic tasks that only ENQUEUE jobs (jobs/queue.h); the work itself runs in the job
 * workers. Across processes only the leader (db_leader_*) enqueues, and each time slot is
 * enqueued at most once, even when leadership moves: the slot is recorded in `sched_state` in
 * the same transaction as the job, which also carries unique_key "sched:<task>:<slot ms>".
 * Tests: tests/unit/sched/test_sched.c.
 */
#ifndef ICESHOP_SCHED_SCHED_H
#define ICESHOP_SCHED_SCHED_H

#include "core/clock.h"
#include "core/err.h"
#include "db/db.h"

#include <stdbool.h>
#include <stdint.h>

struct sched;

#define SCHED_TASK_NAME_MAX 64

struct sched_options {
    const char *leader_name; /* leadership key shared by all processes; NULL → "iceshop.sched" */
    int64_t leader_ttl_ms;   /* SQLite lease staleness before takeover; 0 → 5000 */
    int tick_ms;             /* how often the thread calls sched_tick(); 0 → 1000 */
};

/*
 * A scheduler over `db` reading time from `clk` (NULL = system clock); both borrowed and must
 * outlive it. `o` may be NULL. Add tasks, then sched_start() (or drive sched_tick() yourself).
 * Free with sched_free(). Errors: ERR_INVALID (bad options), ERR_DB (leader setup).
 */
int sched_new(struct db *db, struct clock *clk, const struct sched_options *o, struct sched **out,
              struct err *e);

/*
 * Every `interval_s` seconds: slots are aligned to the Unix epoch (slot = now - now % interval),
 * and the job is enqueued once per slot with run_at = the slot start. The first tick ever
 * enqueues the current slot; after downtime only the latest missed slot is enqueued.
 * Strings are copied. Call before sched_start(). Errors: ERR_INVALID (empty or long task name,
 * interval < 1 s or > 1 year, empty job name), ERR_CONFLICT (task name taken).
 */
int sched_every(struct sched *s, const char *task_name, int interval_s, const char *job_name,
                const char *payload_json, struct err *e);

/*
 * Daily at "HH:MM" UTC (00:00..23:59, exactly five characters). The first tick ever only
 * records the latest past slot, so a new task first runs at its next HH:MM; after downtime the
 * missed slot is enqueued once on return. Errors: as sched_every, and ERR_INVALID with field
 * "at" for a malformed time.
 */
int sched_daily(struct sched *s, const char *task_name, const char *hh_mm, const char *job_name,
                const char *payload_json, struct err *e);

/*
 * One step: try to take or keep leadership at `now_ms` and, when leader, enqueue every due
 * slot. Thread-compatible (not to be called concurrently with itself). *enqueued (may be NULL)
 * gets the number of jobs enqueued by this call. Errors: ERR_DB and friends; the next tick
 * retries.
 */
int sched_tick(struct sched *s, int64_t now_ms, int *enqueued, struct err *e);

/* Start a thread calling sched_tick(clock now) every tick_ms. ERR_CONFLICT if already started. */
int sched_start(struct sched *s, struct err *e);
/* Stop and join the thread (no-op when not started). Leadership is kept until sched_free(). */
void sched_stop(struct sched *s);
/* True while this scheduler held leadership at its last tick. Thread-safe. */
bool sched_is_leader(struct sched *s);
/* Stop, give up leadership and free. NULL is allowed. */
void sched_free(struct sched *s);

#endif
