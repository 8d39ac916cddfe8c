/* SPDX-License-Identifier: MIT */
/*
 * The payments tables (migration 0023): payments, their status history, refunds, and the
 * Idempotency-Key records of the payment routes. Every query filters by tenant, except the
 * reconciliation scan, which lists (tenant, payment) pairs across tenants for the periodic job.
 * Single statements join the caller's transaction. SQL through db_* only.
 * Tests: tests/unit/domain/test_payments_store.c, tests/integration/0023-payments.c.
 */
#ifndef ICESHOP_DOMAIN_PAYMENTS_STORE_H
#define ICESHOP_DOMAIN_PAYMENTS_STORE_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "domain/payments/payments.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAYMENTS_ID_MAX 48

struct payment {
    int64_t pk, tenant_id;
    const char *id; /* "pay_…" */
    int64_t order_pk;
    const char *order_id; /* the order's public id */
    enum payment_provider provider;
    struct payment_state state; /* status, amount, refunded */
    const struct money_currency *currency;
    const char *provider_ref;        /* pi_… or the iyzico token; NULL before the provider knew */
    const char *provider_payment_id; /* iyzico's paymentId, NULL otherwise */
    const char *provider_txn_id;     /* iyzico's paymentTransactionId (what refunds name) */
    const char *client_secret;       /* Stripe: what the buyer's page confirms with */
    const char *page_url;            /* iyzico: where the buyer pays */
    const char *error;               /* the provider's last refusal, or NULL */
    bool disputed;
    int64_t created_at, updated_at;
};

struct payment_history_row {
    const char *from_status, *to_status, *cause, *detail;
    int64_t refunded;
    int64_t at;
};

struct payment_refund {
    int64_t pk;
    const char *id; /* "re_…" of ours: "pre_…" */
    int64_t payment_pk;
    int64_t amount;
    const char *status; /* "created", "succeeded", "failed" */
    const char *provider_ref;
    const char *error;
    int64_t created_at;
};

/* Insert a payment in status created for the order; out is filled (strings from `a`). */
int payments_store_create(struct db_conn *c, int64_t tenant, int64_t order_pk,
                          enum payment_provider provider, const struct money *amount,
                          int64_t now_ms, struct arena *a, struct payment *out, struct err *e);
/* One payment by public id; ERR_NOT_FOUND naming "id". */
int payments_store_get(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                       struct payment *out, struct err *e);
int payments_store_get_pk(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                          struct payment *out, struct err *e);
/* The payment the provider knows as `ref`; *found false when none (not an error). */
int payments_store_find_ref(struct db_conn *c, int64_t tenant, enum payment_provider provider,
                            const char *ref, struct arena *a, struct payment *out, bool *found,
                            struct err *e);
/* Every payment of an order, oldest first. */
int payments_store_list_order(struct db_conn *c, int64_t tenant, int64_t order_pk, struct arena *a,
                              struct payment **rows, size_t *n, struct err *e);
/*
 * Take the payment's row lock for the rest of the caller's transaction (PostgreSQL; SQLite's
 * single writer already serialises), so two refunds of one payment never both see the same
 * amount left. ERR_NOT_FOUND naming "id".
 */
int payments_store_lock(struct db_conn *c, int64_t tenant, int64_t pk, struct err *e);
/* The provider's handles of an opened payment. */
int payments_store_set_opened(struct db_conn *c, int64_t tenant, int64_t pk, const char *ref,
                              const char *client_secret, const char *page_url, int64_t now_ms,
                              struct err *e);
int payments_store_set_error(struct db_conn *c, int64_t tenant, int64_t pk, const char *error,
                             int64_t now_ms, struct err *e);
int payments_store_set_provider_payment_id(struct db_conn *c, int64_t tenant, int64_t pk,
                                           const char *payment_id, const char *txn_id,
                                           struct err *e);
int payments_store_set_disputed(struct db_conn *c, int64_t tenant, int64_t pk, int64_t now_ms,
                                struct err *e);
/*
 * Move a payment from `from` (its state as read in this transaction) to `to`, recording the
 * change and its cause in payment_history. ERR_CONFLICT when the row is no longer in `from`.
 */
int payments_store_transition(struct db_conn *c, int64_t tenant, int64_t pk,
                              const struct payment_state *from, const struct payment_state *to,
                              const char *cause, const char *detail, int64_t now_ms, struct err *e);
int payments_store_history(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                           struct payment_history_row **rows, size_t *n, struct err *e);

/* Payments (any tenant) still created or pending and untouched since `before_ms`. */
struct payment_ref {
    int64_t tenant, pk;
};
int payments_store_list_stale(struct db_conn *c, int64_t before_ms, int limit, struct arena *a,
                              struct payment_ref **rows, size_t *n, struct err *e);

/* How many times payments of each provider reached each status (payment_history), all tenants:
 * the payments_total counter of /metrics. rows[provider][status]. */
int payments_store_status_counts(struct db_conn *c, int64_t rows[2][PAYMENT_REFUNDED + 1],
                                 struct err *e);

/* Refunds. */
int payments_store_refund_create(struct db_conn *c, int64_t tenant, int64_t payment_pk,
                                 int64_t amount, int64_t now_ms, struct arena *a,
                                 struct payment_refund *out, struct err *e);
int payments_store_refund_finish(struct db_conn *c, int64_t tenant, int64_t pk, const char *status,
                                 const char *ref, const char *error, int64_t now_ms, struct err *e);
/* The sum of refunds created or succeeded (what is already asked for) of a payment. */
int payments_store_refund_reserved(struct db_conn *c, int64_t tenant, int64_t payment_pk,
                                   int64_t *sum, struct err *e);
int payments_store_refund_list(struct db_conn *c, int64_t tenant, int64_t payment_pk,
                               struct arena *a, struct payment_refund **rows, size_t *n,
                               struct err *e);

/* Idempotency-Key records. */
enum payments_idem_state {
    PAYMENTS_IDEM_NEW,      /* recorded now: go ahead */
    PAYMENTS_IDEM_REPLAY,   /* a finished answer to replay */
    PAYMENTS_IDEM_RESUME,   /* same request, not finished: try again (same resource) */
    PAYMENTS_IDEM_MISMATCH, /* the key was used for another request */
};
struct payments_idem {
    enum payments_idem_state state;
    int64_t resource_pk; /* 0 until set */
    int status;
    const char *body;
};
/* Look the key up; insert it (state NEW) when it is new. */
int payments_store_idem_begin(struct db_conn *c, int64_t tenant, const char *key, const char *hash,
                              int64_t now_ms, struct arena *a, struct payments_idem *out,
                              struct err *e);
int payments_store_idem_resource(struct db_conn *c, int64_t tenant, const char *key,
                                 int64_t resource_pk, struct err *e);
/* Keep the answer to replay. */
int payments_store_idem_finish(struct db_conn *c, int64_t tenant, const char *key, int status,
                               const char *body, struct err *e);

#endif
