/* SPDX-License-Identifier: MIT */
/*
 * Cart recovery's SQL (recovery_store.c), for the module's own service and jobs only. Every
 * query filters by tenant. Tests: tests/integration/0025-recovery.c.
 */
#ifndef ICESHOP_DOMAIN_RECOVERY_STORE_H
#define ICESHOP_DOMAIN_RECOVERY_STORE_H

#include "domain/recovery/recovery.h"

/* Agents. The sequence travels as JSON text ("[0,1440]"). */
int recovery_store_agent_insert(struct db_conn *c, int64_t tenant, struct recovery_agent *ag,
                                int64_t now_ms, struct err *e);
/* *found false when absent. */
int recovery_store_agent_get(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                             struct recovery_agent *out, bool *found, struct err *e);
int recovery_store_agent_list(struct db_conn *c, int64_t tenant, int64_t after, int limit,
                              struct arena *a, struct recovery_agent **rows, size_t *n,
                              struct err *e);
int recovery_store_agent_update(struct db_conn *c, int64_t tenant, const struct recovery_agent *ag,
                                int64_t now_ms, bool *found, struct err *e);
/* Deletes its carts' recovery state and integrations too. */
int recovery_store_agent_delete(struct db_conn *c, int64_t tenant, int64_t id, bool *found,
                                struct err *e);

/* Integrations; `sealed` is the credentials' sealed JSON (NULL: none / keep). */
int recovery_store_integration_insert(struct db_conn *c, int64_t tenant, int64_t agent_id,
                                      enum recovery_platform p,
                                      const struct recovery_integration_in *in, const char *sealed,
                                      int64_t now_ms, int64_t *id, struct err *e);
int recovery_store_integration_update(struct db_conn *c, int64_t tenant, int64_t agent_id,
                                      int64_t id, const struct recovery_integration_in *in,
                                      const char *sealed, int64_t now_ms, bool *found,
                                      struct err *e);
/* With `sealed` non-NULL it gets the sealed credentials (or NULL). agent_id 0: any agent. */
int recovery_store_integration_get(struct db_conn *c, int64_t tenant, int64_t agent_id, int64_t id,
                                   struct arena *a, struct recovery_integration *out,
                                   const char **sealed, bool *found, struct err *e);
int recovery_store_integration_list(struct db_conn *c, int64_t tenant, int64_t agent_id,
                                    struct arena *a, struct recovery_integration **rows, size_t *n,
                                    struct err *e);
int recovery_store_integration_delete(struct db_conn *c, int64_t tenant, int64_t agent_id,
                                      int64_t id, bool *found, struct err *e);
/* Ids of the active integrations of the tenant's active recovery agents; *agents their count. */
int recovery_store_pollable(struct db_conn *c, int64_t tenant, struct arena *a, int64_t **ids,
                            size_t *n, int *agents, struct err *e);
/* After a poll: ok clears failures (and sets the watermark when not NULL); a failure counts. */
int recovery_store_integration_polled(struct db_conn *c, int64_t tenant, int64_t id, bool ok,
                                      const char *watermark, const char *error, bool unauthorized,
                                      int64_t now_ms, int *failures, struct err *e);

/* Polling state. */
int recovery_store_polling_set(struct db_conn *c, int64_t tenant, bool running, int interval_s,
                               int64_t now_ms, struct err *e);
int recovery_store_polling_get(struct db_conn *c, int64_t tenant, struct recovery_status *out,
                               bool *found, struct err *e);
/* Tenants whose polling runs and whose interval has passed since their last cycle. */
int recovery_store_polling_due(struct db_conn *c, int64_t now_ms, struct arena *a,
                               int64_t **tenants, size_t *n, struct err *e);
/* Record that a cycle started now (the tick job runs on the scheduler's leader only). */
int recovery_store_polling_take(struct db_conn *c, int64_t tenant, int64_t now_ms, struct err *e);

/* Cycles. */
int recovery_store_cycle_insert(struct db_conn *c, int64_t tenant, const char *kind,
                                int agents_found, int jobs, int64_t now_ms, int64_t *id,
                                struct err *e);
/* Add one integration's figures; the cycle finishes (duration, finished_at) when it was the last.
 */
int recovery_store_cycle_report(struct db_conn *c, int64_t tenant, int64_t id, int carts,
                                int64_t value, int deliveries, const char *error, int64_t now_ms,
                                bool *finished, int64_t *duration_ms, struct err *e);
int recovery_store_cycle_list(struct db_conn *c, int64_t tenant, int limit, struct arena *a,
                              struct recovery_cycle **rows, size_t *n, struct err *e);

/* Carts. One row per (integration, platform id). */
struct recovery_cart_row {
    int64_t id, cart_pk, customer_pk;
    const char *state;
    int64_t updated_ms, completed_ms, delivered_ms, last_message_ms;
    int messages_sent;
};
/*
 * The platform says its order `platform_id` was paid at completed_ms: the integration's cart of
 * that id, when one is still in recovery, completes as recovery_store_cart_put_many's completed
 * carts do (recovered `total` when a delivery or message preceded it in the window). *known: there
 * was one. Nothing is inserted for an order the integration never fetched as a cart.
 */
int recovery_store_cart_paid(struct db_conn *c, int64_t tenant, int64_t integration_id,
                             const char *platform_id, int64_t completed_ms, int64_t total,
                             int64_t now_ms, bool *known, struct err *e);
/* Open carts of the integration past the cut-off, and ones sent after `sent_after_ms`. */
int recovery_store_cart_candidates(struct db_conn *c, int64_t tenant, int64_t integration_id,
                                   int64_t updated_before_ms, int64_t sent_after_ms,
                                   struct arena *a, struct recovery_cart_row **rows, size_t *n,
                                   struct err *e);
/* Leaves recovery: completed (the customer ordered); `recovered` counts the cart's value. */
int recovery_store_cart_complete(struct db_conn *c, int64_t tenant, int64_t id,
                                 int64_t completed_ms, bool recovered, struct err *e);
int recovery_store_cart_messaged(struct db_conn *c, int64_t tenant, int64_t id, int64_t now_ms,
                                 struct err *e);
/* The payload view of one cart: commerce cart, customer, items with product names. */
int recovery_store_cart_payload(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                                struct recovery_payload_cart *out, struct err *e);
int recovery_store_recovered(struct db_conn *c, int64_t tenant, int64_t *carts, int64_t *value,
                             struct err *e);

/*
 * A poll's carts are written and read in batches: a multi-row statement (or an IN list) per up
 * to 64 carts instead of a round trip per cart, which is what PostgreSQL's cycles spent their
 * time on.
 */
struct recovery_cart_in {
    int64_t cart_pk, customer_pk;
    const char *platform_id, *checkout_url;
    int64_t updated_ms, completed_ms, total;
};
/*
 * Insert or refresh each cart's row (one per integration and platform id; the platform ids must
 * be distinct); a completed cart leaves recovery (recovered revenue when a delivery or message
 * preceded it within the window).
 */
int recovery_store_cart_put_many(struct db_conn *c, int64_t tenant, int64_t agent_id,
                                 int64_t integration_id, const struct recovery_cart_in *rows,
                                 size_t n, int64_t now_ms, struct err *e);
/*
 * The facts the rules need about each cart's customer (rows: carts of the integration);
 * facts[i] and phones[i] answer rows[i]. The statements name the integration as well as the ids:
 * its index then leads the plan even where the table's statistics still think the tenant has a few
 * rows.
 */
int recovery_store_cart_facts_many(struct db_conn *c, int64_t tenant, int64_t integration_id,
                                   const struct recovery_cart_row *rows, size_t n,
                                   struct recovery_cart_facts *facts, const char **phones,
                                   struct arena *a, struct err *e);
/*
 * Set the state of each cart (ids of the integration's carts); delivered_ms 0 keeps
 * delivered_at, delivery_id and cycle_id as they are.
 */
int recovery_store_cart_state_many(struct db_conn *c, int64_t tenant, int64_t integration_id,
                                   const int64_t *ids, size_t n, const char *state,
                                   int64_t delivered_ms, int64_t delivery_id, int64_t cycle_id,
                                   int64_t now_ms, struct err *e);
/*
 * The tenant's customers (source, external_ids[i]): pks[i] (0 when there is none) and the email
 * and phone each has now (NULL when unknown).
 */
int recovery_store_customer_contacts(struct db_conn *c, int64_t tenant, const char *source,
                                     const char *const *external_ids, size_t n, struct arena *a,
                                     int64_t *pks, const char **emails, const char **phones,
                                     struct err *e);
/* Recovered carts and value per currency, by currency code. */
int recovery_store_recovered_by_currency(struct db_conn *c, int64_t tenant, struct arena *a,
                                         struct recovery_recovered **rows, size_t *n,
                                         struct err *e);
/* `state` NULL or "": every state. */
int recovery_store_cart_list(struct db_conn *c, int64_t tenant, const char *state, int64_t after,
                             int limit, struct arena *a, struct recovery_cart_view **rows,
                             size_t *n, struct err *e);

#endif
