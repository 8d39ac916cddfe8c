/* SPDX-License-Identifier: MIT */
/*
 * The inbound-event ledger: each verified provider event is stored once per (tenant, provider,
 * event id) in the same transaction that enqueues its processing job, and only then
 * acknowledged. A redelivery (same id) is acknowledged and not acted on again. The job hands
 * the event to the handler its provider registered; a provider without one is recorded as
 * ignored. Order-independence (a refund before its payment, a late "created") is each
 * handler's rule, written in the handler's header.
 * SQL through db_* only. Tests: tests/unit/integrations/test_inbound_ledger.c.
 */
#ifndef ICESHOP_INTEGRATIONS_INBOUND_LEDGER_H
#define ICESHOP_INTEGRATIONS_INBOUND_LEDGER_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "jobs/worker.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INBOUND_JOB            "integrations.event"
#define INBOUND_EVENT_ID_MAX   255
#define INBOUND_EVENT_TYPE_MAX 128

struct inbound_event {
    int64_t id;
    int64_t tenant_id;
    const char *provider;
    const char *event_id;
    const char *event_type;
    const char *body; /* the raw body as received (NUL-terminated) */
    const char *body_sha256;
    const char *status; /* "received", "processed", "ignored" */
    const char *error;
    int duplicates; /* redeliveries acknowledged since */
    int64_t received_at;
    int64_t processed_at; /* 0 while received */
};

/*
 * Record one verified event and enqueue INBOUND_JOB for it, in one transaction (the caller's
 * when one is open). When (tenant, provider, event_id) is already recorded nothing is enqueued:
 * *duplicate is true, *id is the first row's id and its duplicate count goes up; *changed_body
 * says whether this delivery's body differs from the first (a replay with another body is
 * logged by the caller, never acted on). ERR_INVALID for an empty or over-long id or type.
 * Without a caller's transaction the record goes through db_group_write() (db.h): concurrent
 * deliveries share one commit, and this returns 0 only once that commit holding ours succeeded.
 */
int inbound_record(struct db_conn *c, int64_t tenant, const char *provider, const char *event_id,
                   const char *event_type, const char *body, size_t len, int64_t now_ms,
                   int64_t *id, bool *duplicate, bool *changed_body, struct err *e);

/* One event of the tenant; ERR_NOT_FOUND when there is none. Strings from `a`. */
int inbound_get(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                struct inbound_event *out, struct err *e);

/*
 * A provider's event handler. Runs inside the job's transaction (exactly once on success);
 * returning an error rolls the handler's writes back and the job is retried with backoff.
 */
typedef int inbound_handler_fn(struct db_conn *c, const struct inbound_event *ev, struct arena *a,
                               int64_t now_ms, struct err *e);

struct inbound_handler {
    const char *provider;
    inbound_handler_fn *fn;
};

/*
 * Register INBOUND_JOB with the handlers (borrowed: a static table that outlives the workers;
 * `n` entries, one per provider at most). A provider missing from the table gets its events
 * marked ignored.
 */
int inbound_jobs_register(struct job_registry *reg, const struct inbound_handler *handlers,
                          size_t n, struct err *e);

#endif
