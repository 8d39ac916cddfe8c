/* SPDX-License-Identifier: MIT */
/*
 * Abandoned-cart recovery: a tenant's recovery agents (company_agents), each agent's shop
 * integrations (Shopify, WooCommerce, a custom JSON feed; credentials sealed, never returned),
 * the polling state, the cycles and the recovery state of each cart. Rules in recovery.c (pure),
 * SQL in recovery_store.c, operations in recovery_service.c, the jobs in recovery_jobs.c. Uses
 * commerce (carts land there), webhooks (deliveries to the agent's recovery_url go through a
 * direct endpoint) and alerts; nothing includes this module. Tests:
 * tests/unit/domain/test_recovery.c, tests/integration/0025-recovery.c.
 */
#ifndef ICESHOP_DOMAIN_RECOVERY_H
#define ICESHOP_DOMAIN_RECOVERY_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct job_registry;
struct sched;

#define RECOVERY_TEMPLATE_SLUG "ecommerce-abandoned-cart"
/* The event type an agent's recovery_url receives (Standard Webhooks body "type"). */
#define RECOVERY_EVENT    "cart.recovery"
#define RECOVERY_JOB_TICK "recovery.tick"
#define RECOVERY_JOB_POLL "recovery.poll"
/* The lane of the poll jobs: its pool's threads bound how many integrations are polled at once. */
#define RECOVERY_LANE "slow"

#define RECOVERY_NAME_MAX       128
#define RECOVERY_URL_MAX        2048
#define RECOVERY_SEQUENCE_MAX   3     /* WhatsApp steps per cart */
#define RECOVERY_STEP_MAX_MIN   43200 /* a step at most 30 days after abandonment */
#define RECOVERY_CUTOFF_MAX_MIN 10080 /* a week */
#define RECOVERY_COOLDOWN_MAX_D 365
#define RECOVERY_INTERVAL_MIN_S 1
/* The scheduler looks for due tenants this often: shorter intervals run once per tick. */
#define RECOVERY_TICK_S         5
#define RECOVERY_INTERVAL_MAX_S 86400
#define RECOVERY_CYCLES_SHOWN   20 /* cycles GET /polling/status shows */
#define RECOVERY_PAGES_MAX      20 /* pages fetched per integration and cycle */
#define RECOVERY_FAILURES_ALERT 3  /* consecutive failures that raise an alert */
/* A completion this long after a delivery or message counts as recovered revenue. */
#define RECOVERY_ATTRIBUTION_MS (7LL * 24 * 3600 * 1000)
#define RECOVERY_ALERT_KIND     "recovery.integration"
/* The commerce source of the customers polls bring in: one per person and tenant. */
#define RECOVERY_CUSTOMER_SOURCE "recovery"

/* ======================== types ======================== */

struct recovery_agent {
    int64_t id;
    const char *name, *company, *template_slug;
    bool is_active;
    const char *recovery_url;
    int cutoff_minutes;                  /* a cart untouched this long is abandoned */
    int cooldown_days;                   /* a customer is not recovered twice within this */
    int sequence[RECOVERY_SEQUENCE_MAX]; /* WhatsApp steps, minutes after abandonment */
    size_t n_sequence;
    int64_t endpoint_id; /* the direct webhook endpoint carrying recovery_url and the secret */
    int64_t created_at_ms, updated_at_ms;
};

enum recovery_platform { RECOVERY_SHOPIFY = 0, RECOVERY_WOOCOMMERCE, RECOVERY_CUSTOM };
/* "shopify", "woocommerce", "custom", NULL-terminated. */
extern const char *const recovery_platform_names[];

/* An integration as shown: never its credentials, only whether they are set. */
struct recovery_integration {
    int64_t id, agent_id;
    enum recovery_platform platform;
    const char *shop_domain, *site_url, *feed_url, *base_url; /* NULL when not set */
    bool has_credentials;
    const char *watermark; /* ISO time of the newest update seen, NULL before the first */
    const char *state;     /* "active" or "unauthorized" */
    int failures;
    const char *last_error;
    int64_t last_polled_at_ms, last_ok_at_ms, created_at_ms, updated_at_ms;
};

/* Credentials in clear, only inside the poll job and the connection test. */
struct recovery_credentials {
    char access_token[256];    /* shopify; custom: an optional bearer token */
    char consumer_key[256];    /* woocommerce */
    char consumer_secret[256]; /* woocommerce */
};

/* What an integration write carries; NULL fields are left as they are on update. */
struct recovery_integration_in {
    const char *platform; /* create only */
    const char *shop_domain, *site_url, *feed_url, *base_url;
    const char *access_token, *consumer_key, *consumer_secret;
};

/* One cart as a platform gave it, normalised. Money in minor units of `currency`. */
struct recovery_line {
    const char *title, *sku;
    int64_t quantity, unit_price;
};
struct recovery_fetched {
    const char *platform_id;
    int64_t updated_ms, completed_ms; /* completed 0: not completed */
    const char *checkout_url;         /* may be NULL */
    const char *currency;
    int64_t total;
    const char *email, *phone, *first_name, *last_name; /* may be NULL */
    struct recovery_line *lines;
    size_t n_lines;
    /*
     * Only news that the platform's order was paid (completed_ms set): it completes a cart
     * already in recovery and lands nothing new (WooCommerce's processing/completed orders).
     */
    bool paid_only;
};

/* A cart ready for the agent's payload (read back from the database). */
struct recovery_payload_cart {
    int64_t recovery_id;
    const char *cart_id; /* commerce public id */
    const char *platform_id;
    const char *email, *phone; /* may be NULL */
    const char *currency;
    int64_t total;
    int64_t abandoned_ms; /* the cart's last update: it was abandoned from then */
    const char *checkout_url;
    struct recovery_line *lines;
    size_t n_lines;
};

struct recovery_cycle {
    int64_t id;
    const char *kind; /* schedule or test */
    int64_t started_at_ms, finished_at_ms;
    int agents_found, platforms_processed, jobs_pending, carts_fetched;
    int64_t total_value;
    int deliveries_queued, deliveries_succeeded, deliveries_failed, errors;
    const char *last_error;
    int64_t duration_ms;
};

/* Recovered revenue in one currency. */
struct recovery_recovered {
    const char *currency;
    int64_t carts, value; /* value: minor units of `currency` */
};

struct recovery_status {
    bool running;
    int interval_s; /* 0 before the first start */
    int64_t started_at_ms, last_cycle_at_ms;
    int64_t recovered_carts, recovered_value; /* recovered revenue, minor units */
    struct recovery_recovered *by_currency;   /* the same per currency, by currency code */
    size_t n_by_currency;
    struct recovery_cycle *cycles; /* newest first, at most RECOVERY_CYCLES_SHOWN */
    size_t n_cycles;
};

/* ======================== rules (recovery.c, pure) ======================== */

/*
 * Names, template, URL (http:// or https:// with a host), cut-off 1..RECOVERY_CUTOFF_MAX_MIN,
 * cooldown 0..RECOVERY_COOLDOWN_MAX_D, sequence ascending within 0..RECOVERY_STEP_MAX_MIN.
 * ERR_INVALID naming "name", "company", "template_slug", "settings.recovery_url",
 * "settings.cutoff_minutes", "settings.cooldown_days" or "settings.sequence[i]".
 */
int recovery_agent_check(const struct recovery_agent *ag, struct err *e);

/* "shopify" … into *out; ERR_INVALID naming "platform". */
int recovery_platform_parse(const char *text, enum recovery_platform *out, struct err *e);

/*
 * What a platform needs: shopify a shop_domain ("x.myshopify.com"-like host) and access_token,
 * woocommerce an https:// site_url (http:// only on loopback) and both consumer fields, custom
 * an http(s) feed_url; base_url when set must be http(s). `creating` requires the credentials;
 * on update they may be absent (kept). ERR_INVALID naming the field.
 */
int recovery_integration_check(enum recovery_platform p, const struct recovery_integration_in *in,
                               bool creating, struct err *e);

/* The decision for one stored cart at `now_ms`. */
enum recovery_verdict {
    RECOVERY_WAIT = 0,  /* not past the cut-off yet */
    RECOVERY_SEND,      /* abandoned: deliver to the agent (and message) */
    RECOVERY_COMPLETED, /* completed or the customer ordered: leaves recovery */
    RECOVERY_COOLDOWN,  /* the customer was recovered within the cooldown */
    RECOVERY_NO_CONSENT /* the customer withdrew marketing consent */
};
struct recovery_cart_facts {
    int64_t updated_ms;        /* the cart's last update on the platform */
    int64_t completed_ms;      /* 0: not completed */
    bool ordered_since;        /* the customer placed an order after the cart's update */
    int64_t last_recovered_ms; /* the customer's last delivery (another cart), 0 = never */
    bool marketing_consent;
};
enum recovery_verdict recovery_cart_decide(const struct recovery_cart_facts *f, int cutoff_minutes,
                                           int cooldown_days, int64_t now_ms);

/*
 * Whether WhatsApp step `sent` (0-based: how many were sent) of `sequence` is due for a cart
 * abandoned at `abandoned_ms` (its update + the cut-off).
 */
bool recovery_message_due(const int *sequence, size_t n, int sent, int64_t abandoned_ms,
                          int64_t now_ms);

/* Whether a completion at `completed_ms` after a delivery/message at `sent_ms` is recovered. */
bool recovery_is_recovered(int64_t sent_ms, int64_t completed_ms);

/*
 * The stage a failed call stopped at, for the connection test: "dns", "connect", "tls",
 * "timeout", "unauthorized" (401), "forbidden" (403), "wrong_shop" (404), "missing_scope"
 * (Shopify's ACCESS_DENIED on a 200), "throttled", "server_error", "bad_response" (not the
 * expected JSON), or "http". Static strings.
 */
const char *recovery_probe_stage(long status, const char *code, const char *error);

/*
 * The body data sent to the agent's recovery_url (the seed's shape): {"agent_info": {id, name,
 * company}, "abandoned_carts": [{cart_id, platform_id, customer {email, phone}, items [{title,
 * sku, quantity, unit_price}], currency, total_value, abandoned_at, checkout_url}],
 * "recovery_analytics": {total_carts, total_value, currency_totals, platform, integration_id,
 * cycle_id}}. Amounts are decimal text in the cart's currency ("159.99"). Allocated from `a`;
 * NULL when a currency is unknown.
 */
char *recovery_payload(const struct recovery_agent *ag, const char *platform,
                       int64_t integration_id, int64_t cycle_id,
                       const struct recovery_payload_cart *carts, size_t n, struct arena *a);

/* ======================== operations (recovery_service.c) ======================== */

/*
 * Agents: tenant-scoped; another tenant's ids are ERR_NOT_FOUND (field "id"). Create makes the
 * agent's direct webhook endpoint and fills `secret` (whsec_…, shown once; WEBHOOKS_SECRET_SIZE).
 */
int recovery_agent_create(struct db_conn *c, int64_t tenant, struct recovery_agent *ag,
                          int64_t now_ms, char *secret, size_t secret_size, struct err *e);
int recovery_agent_get(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                       struct recovery_agent *out, struct err *e);
int recovery_agent_list(struct db_conn *c, int64_t tenant, int64_t after, int limit,
                        struct arena *a, struct recovery_agent **rows, size_t *n, struct err *e);
/* `ag` holds the merged agent (the caller applied the changes onto the stored one). */
int recovery_agent_update(struct db_conn *c, int64_t tenant, const struct recovery_agent *ag,
                          int64_t now_ms, struct err *e);
int recovery_agent_delete(struct db_conn *c, int64_t tenant, int64_t id, struct err *e);

/* Integrations; `key` seals and opens credentials (SEC_BOX_KEY_LEN bytes). */
int recovery_integration_create(struct db_conn *c, const unsigned char *key, int64_t tenant,
                                int64_t agent_id, const struct recovery_integration_in *in,
                                int64_t now_ms, struct arena *a, struct recovery_integration *out,
                                struct err *e);
/* New credentials reset an unauthorized integration to active. */
int recovery_integration_update(struct db_conn *c, const unsigned char *key, int64_t tenant,
                                int64_t agent_id, int64_t id,
                                const struct recovery_integration_in *in, int64_t now_ms,
                                struct arena *a, struct recovery_integration *out, struct err *e);
int recovery_integration_get(struct db_conn *c, int64_t tenant, int64_t agent_id, int64_t id,
                             struct arena *a, struct recovery_integration *out, struct err *e);
int recovery_integration_list(struct db_conn *c, int64_t tenant, int64_t agent_id, struct arena *a,
                              struct recovery_integration **rows, size_t *n, struct err *e);
int recovery_integration_delete(struct db_conn *c, int64_t tenant, int64_t agent_id, int64_t id,
                                struct err *e);

/* What a connection test found. */
struct recovery_probe {
    bool ok;
    const char *stage; /* "ok" or recovery_probe_stage() */
    long status;       /* the platform's HTTP status, 0 when none */
    char message[256];
    int carts_seen; /* on success: carts on the first page */
};
/*
 * One small request to the platform with the stored credentials, outside any transaction (the
 * caller waits for the answer). A failure of the platform is reported in *out, not as an error;
 * errors are the database's or ERR_NOT_FOUND.
 */
int recovery_integration_probe(struct db_conn *c, const unsigned char *key, int64_t tenant,
                               int64_t agent_id, int64_t id, int64_t now_ms,
                               struct recovery_probe *out, struct err *e);

/* Polling, per tenant; the state is stored so a restart resumes it. */
int recovery_polling_start(struct db_conn *c, int64_t tenant, int interval_s, int64_t now_ms,
                           struct err *e);
int recovery_polling_stop(struct db_conn *c, int64_t tenant, int64_t now_ms, struct err *e);
/*
 * Start a cycle now: one poll job per active integration of the tenant's active recovery
 * agents (the slow lane). *cycle_id gets the cycle; *jobs how many were enqueued.
 */
int recovery_cycle_start(struct db_conn *c, int64_t tenant, const char *kind, int64_t now_ms,
                         int64_t *cycle_id, int *jobs, struct err *e);
int recovery_status_get(struct db_conn *c, int64_t tenant, struct arena *a,
                        struct recovery_status *out, struct err *e);

/* One cart in recovery as the dashboard lists it (GET /api/recovery/carts). */
struct recovery_cart_view {
    int64_t id, agent_id, integration_id;
    const char *platform, *platform_id, *cart_id; /* cart_id: the commerce cart's public id */
    const char *state, *currency, *checkout_url;
    int64_t total, recovered_value; /* minor units of `currency` */
    int64_t cart_updated_ms, delivered_ms, completed_ms, updated_ms;
    int messages_sent;
};
/*
 * The tenant's carts in recovery by id, after `after`; `state` NULL or "" for every state, else
 * one of open, abandoned, sent, completed, skipped (ERR_INVALID naming "state" otherwise).
 */
int recovery_cart_list(struct db_conn *c, int64_t tenant, const char *state, int64_t after,
                       int limit, struct arena *a, struct recovery_cart_view **rows, size_t *n,
                       struct err *e);

/* ======================== WhatsApp (recovery_messages.c) ======================== */

/* What the "cart.recovery" message says: the company, the cart's value ("120.50 TRY"), the link
 * that finishes the checkout, and which step of the agent's sequence it is (0 = the first). */
struct recovery_msg_vars {
    const char *company, *total, *link;
    int step;
};
struct notify_kind;
extern const struct notify_kind recovery_msg_cart;
int recovery_messages_register(struct err *e);

/* ======================== jobs (recovery_jobs.c) ======================== */

/*
 * Register "recovery.tick" (every RECOVERY_TICK_S on the scheduler: starts the due cycles) and
 * "recovery.poll" (one integration, lane RECOVERY_LANE). `key` opens the credentials; it must
 * be the server key (copied).
 */
int recovery_jobs_register(struct job_registry *reg, const unsigned char *key, struct err *e);
int recovery_jobs_schedule(struct sched *s, struct err *e);

/* Process-wide counters for /metrics. */
struct recovery_metrics {
    uint64_t cycles, polls_ok, polls_failed, carts_fetched, deliveries_queued, messages_queued;
    uint64_t duration_buckets[8]; /* cycle durations ≤ 0.1, 0.5, 1, 2.5, 5, 10, 30 s, +Inf */
    double duration_sum_s;
};
extern const double recovery_duration_bounds[7];
void recovery_metrics_read(struct recovery_metrics *out);

#endif
