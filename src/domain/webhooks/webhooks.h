/* SPDX-License-Identifier: MIT */
/*
 * Outbound webhooks, a platform service any domain module posts events through: endpoints a
 * tenant subscribes to event types, one delivery per event and endpoint, signed with Standard
 * Webhooks and retried durably on the Svix schedule by the "webhook.deliver" job. Rules in
 * webhooks.c (pure), SQL in webhooks_store.c, operations in webhooks_service.c, the job in
 * webhooks_jobs.c, the signed POST in src/net/webhook_out.c. This module includes no other
 * domain module. Tests: tests/unit/domain/test_webhooks.c, tests/integration/0009-webhooks-out.c.
 */
#ifndef ICESHOP_DOMAIN_WEBHOOKS_H
#define ICESHOP_DOMAIN_WEBHOOKS_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct job_registry;

#define WEBHOOKS_JOB_DELIVER "webhook.deliver"

/* The Svix schedule: attempt 1 at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
#define WEBHOOKS_MAX_ATTEMPTS 8
/* An endpoint whose attempts have failed for this long is disabled. */
#define WEBHOOKS_DISABLE_AFTER_MS (5LL * 24 * 3600 * 1000)
/* Longest response body kept from the last attempt, in bytes. */
#define WEBHOOKS_RESPONSE_MAX 1024
#define WEBHOOKS_URL_MAX      2048
#define WEBHOOKS_DESC_MAX     256
#define WEBHOOKS_MAX_EVENTS   32
/* "whsec_" + base64 of 32 random bytes + NUL. */
#define WEBHOOKS_SECRET_BYTES 32
#define WEBHOOKS_SECRET_SIZE  (6 + 44 + 1)
#define WEBHOOKS_LIST_DEFAULT 50
#define WEBHOOKS_LIST_MAX     500

/* ======================== rules (webhooks.c, pure) ======================== */

/* Every event type an endpoint may subscribe to, NULL-terminated. */
extern const char *const webhooks_event_types[];
bool webhooks_event_known(const char *type);

/*
 * Delay before attempt number `attempt` (1-based) after the previous one failed, scaled by
 * `scale` (1.0 in production; tests shrink it): 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
 * Returns -1 when `attempt` is past WEBHOOKS_MAX_ATTEMPTS (the delivery is dead) or below 1.
 */
int64_t webhooks_retry_delay_ms(int attempt, double scale);

/* Whether an endpoint failing since `failing_since_ms` (0 = not failing) is to be disabled. */
bool webhooks_endpoint_should_disable(int64_t failing_since_ms, int64_t now_ms);

/* 2xx is success; anything else (and no answer at all) is a failure. */
bool webhooks_status_ok(long status);

/* http:// or https:// with a host; ERR_INVALID naming field "url" otherwise. */
int webhooks_url_validate(const char *url, struct err *e);
/*
 * 1..WEBHOOKS_MAX_EVENTS known, distinct types; ERR_INVALID naming "events" or "events[i]".
 */
int webhooks_events_validate(const char *const *events, size_t n, struct err *e);

/* A new signing secret "whsec_<base64 of WEBHOOKS_SECRET_BYTES random bytes>". */
void webhooks_secret_new(char out[WEBHOOKS_SECRET_SIZE]);

/*
 * The body every attempt of a delivery sends: {"type","timestamp","data"} with `data_json` (a
 * JSON object's text, inserted as is) and the event time. Allocated from `a`; NULL when it would
 * exceed BUF_MAX_WEBHOOK.
 */
char *webhooks_body(const char *type, const char *data_json, int64_t now_ms, struct arena *a);

/* ======================== types ======================== */

struct webhook_endpoint {
    int64_t id;
    int64_t tenant_id;
    const char *url;
    const char *description;
    const char **events; /* n_events type names */
    size_t n_events;
    const char *secret; /* set only by webhooks_endpoint_create and for the delivery job */
    bool disabled;
    const char *disabled_reason; /* "" unless disabled */
    int64_t disabled_at_ms;      /* 0 unless disabled */
    int64_t failing_since_ms;    /* 0 while healthy */
    int64_t created_at_ms;
    int64_t updated_at_ms;
    /*
     * A direct endpoint belongs to one sender (a recovery agent): it gets only what is emitted
     * to it by id (webhooks_emit_to) and is not listed with the tenant's subscriptions.
     */
    bool direct;
};

enum webhook_delivery_status {
    WEBHOOK_DELIVERY_PENDING = 0, /* an attempt is due or scheduled */
    WEBHOOK_DELIVERY_SUCCEEDED,
    WEBHOOK_DELIVERY_DEAD, /* the schedule ran out, or the endpoint was disabled */
};
/* "pending", "succeeded", "dead", NULL-terminated. */
extern const char *const webhook_delivery_status_names[];

struct webhook_delivery {
    int64_t id;
    int64_t tenant_id;
    int64_t endpoint_id;
    const char *msg_id; /* the webhook-id header: the same on every attempt */
    const char *event_type;
    const char *body;
    enum webhook_delivery_status status;
    int attempts;
    int64_t next_attempt_ms;   /* 0 unless pending */
    int last_status;           /* HTTP status of the last attempt; 0 = none or no answer */
    const char *last_response; /* up to WEBHOOKS_RESPONSE_MAX bytes; NULL = none */
    const char *last_error;    /* NULL = none */
    int64_t created_at_ms;
    int64_t updated_at_ms;
    int64_t delivered_at_ms; /* 0 until succeeded */
};

/* What one attempt got; filled by the job from src/net/webhook_out.c. */
struct webhook_attempt {
    long status;          /* 0 when no answer arrived */
    const char *response; /* truncated body, may be NULL */
    const char *error;    /* NULL on an answer; the network error otherwise */
};

/* ======================== operations (webhooks_service.c) ======================== */

/*
 * Everything below runs on the caller's connection: inside the caller's transaction when one
 * is open, else in one of its own. Strings come from `a`. Tenant-scoped: another tenant's ids
 * are ERR_NOT_FOUND.
 */

struct webhook_endpoint_in {
    const char *url;
    const char *const *events;
    size_t n_events;
    const char *description; /* NULL → "" */
    /*
     * Direct: the endpoint of one sender. Its events are the types the sender emits to it,
     * checked only for shape (1..WEBHOOKS_MAX_EVENTS names of [a-z._]), not against
     * webhooks_event_types, since subscribers never receive them.
     */
    bool direct;
};
/*
 * Validate and store a new endpoint with a fresh secret; out->secret holds it (shown once).
 * ERR_INVALID naming "url", "events", "events[i]" or "description".
 */
int webhooks_endpoint_create(struct db_conn *c, int64_t tenant,
                             const struct webhook_endpoint_in *in, int64_t now_ms, struct arena *a,
                             struct webhook_endpoint *out, struct err *e);
/* Newest first; after_id = 0 for the first page (keyset: ids below it); limit clamped. */
int webhooks_endpoint_list(struct db_conn *c, int64_t tenant, int64_t after_id, int limit,
                           struct arena *a, struct webhook_endpoint **rows, size_t *n,
                           struct err *e);
/* One endpoint without its secret; ERR_NOT_FOUND (field "id"). */
int webhooks_endpoint_get(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                          struct webhook_endpoint *out, struct err *e);
/* Delete an endpoint and its deliveries; their pending jobs then find nothing to do. */
int webhooks_endpoint_delete(struct db_conn *c, int64_t tenant, int64_t id, struct err *e);

/*
 * Emit event `type` (a webhooks_event_types name) with `data_json` (a JSON object's text):
 * for every enabled endpoint of the tenant subscribed to `type`, insert a delivery and enqueue
 * its first attempt on `c` — inside the caller's transaction when one is open, so a rolled-back
 * change emits nothing. No side effect leaves the transaction: workers pick the jobs up on their
 * next poll after commit. ERR_INVALID for an unknown type or data that is not an object.
 */
int webhooks_emit(struct db_conn *c, int64_t tenant, const char *type, const char *data_json,
                  int64_t now_ms, struct err *e);

/*
 * Emit event `type` with `data_json` to one direct endpoint of the tenant, whatever its
 * subscriptions: one delivery (same body, signature, retries, dead letters and hand replay as
 * webhooks_emit) and its first attempt, on `c` inside the caller's transaction when one is open.
 * *delivery_id (may be NULL) gets the delivery's id. ERR_NOT_FOUND naming "endpoint_id" for
 * another tenant's or a missing endpoint, ERR_CONFLICT when it is disabled, ERR_INVALID for a
 * type the endpoint does not list or data that is not an object.
 */
int webhooks_emit_to(struct db_conn *c, int64_t tenant, int64_t endpoint_id, const char *type,
                     const char *data_json, int64_t now_ms, int64_t *delivery_id, struct err *e);
/* Point an endpoint at another URL (validated as webhooks_url_validate); ERR_NOT_FOUND. */
int webhooks_endpoint_set_url(struct db_conn *c, int64_t tenant, int64_t id, const char *url,
                              int64_t now_ms, struct err *e);

/*
 * Whether any enabled endpoint of the tenant subscribes to `type`, so emitters can skip building
 * a payload nobody wants.
 */
int webhooks_wanted(struct db_conn *c, int64_t tenant, const char *type, bool *wanted,
                    struct err *e);

struct webhook_delivery_filter {
    int64_t endpoint_id; /* 0 = any */
    int status;          /* -1 = any */
    int64_t after_id;    /* keyset: ids below it; 0 = first page */
    int limit;           /* 0 → WEBHOOKS_LIST_DEFAULT; clamped to WEBHOOKS_LIST_MAX */
};
int webhooks_delivery_list(struct db_conn *c, int64_t tenant,
                           const struct webhook_delivery_filter *f, struct arena *a,
                           struct webhook_delivery **rows, size_t *n, struct err *e);
int webhooks_delivery_get(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                          struct webhook_delivery *out, struct err *e);

/*
 * Send a delivery again by hand, whatever its status: pending, and a new attempt (number
 * attempts + 1) enqueued to run now. *out (may be NULL; text from `a`) gets the delivery as this
 * call left it, read in its own transaction: a worker may deliver it the moment it commits.
 * ERR_NOT_FOUND; ERR_CONFLICT when its endpoint is disabled.
 */
int webhooks_delivery_retry(struct db_conn *c, int64_t tenant, int64_t id, int64_t now_ms,
                            struct arena *a, struct webhook_delivery *out, struct err *e);

/*
 * Record attempt number `attempt` of a delivery and decide what follows, in one transaction:
 * succeeded on 2xx; otherwise the next attempt is enqueued after webhooks_retry_delay_ms(attempt
 * + 1, scale), or the delivery is dead when the schedule ran out. The endpoint's failing_since
 * is cleared on success and set on failure; an endpoint failing for WEBHOOKS_DISABLE_AFTER_MS
 * is disabled and an operator alert is raised. When the delivery is no longer pending at
 * attempt - 1 (another run recorded it), nothing changes and *recorded is false.
 */
int webhooks_attempt_record(struct db_conn *c, int64_t tenant, int64_t delivery_id, int attempt,
                            const struct webhook_attempt *at, double scale, int64_t now_ms,
                            bool *recorded, struct err *e);

/* ======================== store (webhooks_store.c, SQL only) ======================== */

int webhooks_store_endpoint_insert(struct db_conn *c, int64_t tenant, struct webhook_endpoint *ep,
                                   int64_t now_ms, struct err *e);
/* with_secret: fill ep->secret too (for the delivery job). ERR_NOT_FOUND when absent. */
int webhooks_store_endpoint_get(struct db_conn *c, int64_t tenant, int64_t id, bool with_secret,
                                struct arena *a, struct webhook_endpoint *out, struct err *e);
int webhooks_store_endpoint_list(struct db_conn *c, int64_t tenant, int64_t after_id, int limit,
                                 struct arena *a, struct webhook_endpoint **rows, size_t *n,
                                 struct err *e);
/* Enabled endpoints of the tenant subscribed to `type`: their ids. */
int webhooks_store_endpoint_subscribed(struct db_conn *c, int64_t tenant, const char *type,
                                       struct arena *a, int64_t **ids, size_t *n, struct err *e);
int webhooks_store_endpoint_set_url(struct db_conn *c, int64_t tenant, int64_t id, const char *url,
                                    int64_t now_ms, struct err *e);
/* *deleted false when there was no such endpoint. */
int webhooks_store_endpoint_delete(struct db_conn *c, int64_t tenant, int64_t id, bool *deleted,
                                   struct err *e);
/* Success clears failing_since; failure sets it when unset. *failing_since_ms gets the result. */
int webhooks_store_endpoint_health(struct db_conn *c, int64_t tenant, int64_t id, bool ok,
                                   int64_t now_ms, int64_t *failing_since_ms, struct err *e);
/* *changed false when it was disabled already. */
int webhooks_store_endpoint_disable(struct db_conn *c, int64_t tenant, int64_t id,
                                    const char *reason, int64_t now_ms, bool *changed,
                                    struct err *e);

int webhooks_store_delivery_insert(struct db_conn *c, int64_t tenant, struct webhook_delivery *d,
                                   int64_t now_ms, struct err *e);
int webhooks_store_delivery_get(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                                struct webhook_delivery *out, struct err *e);
int webhooks_store_delivery_list(struct db_conn *c, int64_t tenant,
                                 const struct webhook_delivery_filter *f, struct arena *a,
                                 struct webhook_delivery **rows, size_t *n, struct err *e);
/*
 * Write the outcome of attempt `attempt` when the delivery is pending with attempt - 1
 * attempts; *changed false otherwise. next_attempt_ms 0 stores NULL.
 */
int webhooks_store_delivery_attempted(struct db_conn *c, int64_t tenant, int64_t id, int attempt,
                                      enum webhook_delivery_status status,
                                      const struct webhook_attempt *at, int64_t next_attempt_ms,
                                      int64_t now_ms, bool *changed, struct err *e);
/* Pending again with the next attempt at `next_attempt_ms` (hand retry). */
int webhooks_store_delivery_rearm(struct db_conn *c, int64_t tenant, int64_t id,
                                  int64_t next_attempt_ms, int64_t now_ms, struct err *e);
/* Dead without an attempt (its endpoint is disabled). */
int webhooks_store_delivery_kill(struct db_conn *c, int64_t tenant, int64_t id, const char *why,
                                 int64_t now_ms, struct err *e);

/* ======================== job (webhooks_jobs.c) ======================== */

/*
 * Register "webhook.deliver" (payload {"delivery": id, "attempt": n}). The schedule scale comes
 * from ICESHOP_WEBHOOK_RETRY_SCALE (default 1; a number in (0, 1] that shrinks every delay, for
 * tests only); ERR_INVALID naming the variable when it is malformed.
 */
int webhooks_jobs_register(struct job_registry *reg, struct err *e);

#endif
