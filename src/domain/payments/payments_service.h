/* SPDX-License-Identifier: MIT */
/*
 * Payment operations: start a payment of an order at a provider, refund it, apply what a
 * provider says (webhook events, the answer of a check, reconciliation) through the state
 * machine of payments.h, and the order's side of each step (pending → paid with the order's
 * follow-ups, order_hooks_run_paid, in the same transaction; refunds). Requests to a provider
 * are made outside any transaction; the rows before and after them in transactions of their own.
 * Provider settings are the tenant's integration settings ("stripe", "iyzico"), the default
 * tenant falling back to ICESHOP_STRIPE_* / ICESHOP_IYZICO_*.
 * Tests: tests/unit/domain/test_payments.c, tests/integration/0023-payments.c.
 */
#ifndef ICESHOP_DOMAIN_PAYMENTS_SERVICE_H
#define ICESHOP_DOMAIN_PAYMENTS_SERVICE_H

#include "core/arena.h"
#include "core/crypto.h"
#include "core/err.h"
#include "db/db.h"
#include "domain/payments/payments_store.h"

#include <jansson.h>
#include <stdint.h>

/* Process-wide settings, given once at startup (main.c) before threads start. */
struct payments_options {
    const unsigned char *secret_key; /* opens the tenants' sealed provider secrets; borrowed */
    int64_t default_tenant;          /* its settings fall back to the environment */
    const char *public_url;          /* base of iyzico's callback URL; copied */
    int pending_after_s;             /* reconciliation asks about payments pending this long */
};
void payments_configure(const struct payments_options *o);

/* A request under an Idempotency-Key, as the HTTP layer hands it over. */
struct payments_request {
    const char *idem_key;     /* required, 1..PAYMENTS_IDEM_KEY_MAX bytes */
    const char *request_hash; /* payments_request_hash of method, path and body */
};

/* An answer to send (a new one, or the first one replayed). */
struct payments_answer {
    int status;       /* 200, 201 */
    const char *body; /* JSON text, from the arena */
    bool replayed;
};

/*
 * Start a payment of order `order_id` (public id) at `provider` ("stripe", "iyzico"), for the
 * order's total in its currency. Stripe: a PaymentIntent (the answer has client_secret);
 * iyzico: a Checkout Form (the answer has page_url and the token). The same key and request
 * replay the first answer; the same key with another request is ERR_CONFLICT naming
 * "Idempotency-Key". A provider that refused or could not be reached gives ERR_UPSTREAM and
 * leaves the key open: the same request may be sent again (the provider call is repeated with
 * the same provider idempotency key). ERR_NOT_FOUND naming "id" for an order of another tenant;
 * ERR_CONFLICT naming "status" for an order that is not pending.
 */
int payments_start(struct db *db, int64_t tenant, const char *order_id, const char *provider,
                   const struct payments_request *req, int64_t now_ms, struct arena *a,
                   struct payments_answer *out, struct err *e);

/*
 * The provider that takes `tenant`'s hosted payments (a page of the provider's where the buyer
 * pays, so card data never reaches Iceshop) in `currency`: the one the tenant has set up (its
 * integration settings, the default tenant's environment), and with both iyzico for TRY and
 * Stripe otherwise. Reads settings only (no request to a provider). ERR_CONFLICT naming
 * "provider" when the tenant has none.
 */
int payments_hosted_provider(struct db_conn *c, int64_t tenant, const char *currency,
                             struct arena *a, enum payment_provider *out, struct err *e);

/*
 * Start a payment of order `order_id` on the hosted page of payments_hosted_provider (iyzico's
 * Checkout Form) under the Idempotency-Key `idem_key`, and give the page's address in *url
 * (arena). Outside any transaction: the provider is called as by payments_start, whose
 * idempotency makes a second call with the same key give the same page without asking the
 * provider again. Errors as payments_start's.
 */
int payments_start_hosted(struct db *db, int64_t tenant, const char *order_id, const char *idem_key,
                          int64_t now_ms, struct arena *a, const char **url, struct err *e);

/*
 * Refund `amount` (decimal text in the payment's currency, NULL: all that is left) of payment
 * `payment_id` through the provider's refund API, idempotent like payments_start. Never more
 * than what is left (refunds asked for and not failed count). ERR_CONFLICT naming "status" for
 * a payment that has not succeeded or is refunded already; ERR_INVALID naming "amount".
 */
int payments_refund(struct db *db, int64_t tenant, const char *payment_id, const char *amount,
                    const struct payments_request *req, int64_t now_ms, struct arena *a,
                    struct payments_answer *out, struct err *e);

/*
 * Fulfil or cancel order `order_id` by hand (cause "api"), recorded in its status history;
 * *out gets its new status. ERR_NOT_FOUND naming "id"; ERR_CONFLICT naming "status".
 */
int payments_order_act(struct db_conn *c, int64_t tenant, const char *order_id,
                       enum payments_order_action action, int64_t now_ms, struct arena *a,
                       enum commerce_order_status *out, struct err *e);

/*
 * The buyer came back from iyzico's page for payment `payment_id` of `tenant`: enqueue a check
 * (cause "callback"); nothing the browser sends is believed. ERR_NOT_FOUND naming "id" unless
 * the tenant has such an iyzico payment.
 */
int payments_iyzico_callback(struct db_conn *c, int64_t tenant, const char *payment_id,
                             int64_t now_ms, struct arena *a, struct err *e);

/* The JSON of a payment (with its history and refunds when `full`); a new reference. */
json_t *payments_json(struct db_conn *c, const struct payment *p, bool full, struct arena *a);
/* GET: one payment with its history and refunds; ERR_NOT_FOUND naming "id". */
int payments_get_json(struct db_conn *c, int64_t tenant, const char *payment_id, struct arena *a,
                      json_t **out, struct err *e);
/* GET: an order's payments ({"data": [...]}); ERR_NOT_FOUND naming "id" for an unknown order. */
int payments_list_json(struct db_conn *c, int64_t tenant, const char *order_id, struct arena *a,
                       json_t **out, struct err *e);

/* GET: an order's status changes with their causes ({"data": [...]}); ERR_NOT_FOUND naming "id". */
int payments_order_history_json(struct db_conn *c, int64_t tenant, const char *order_id,
                                struct arena *a, json_t **out, struct err *e);

/*
 * Apply `ev` to payment `pk` of `tenant` in the caller's transaction: the state machine, the
 * payment's history (with `cause` and `detail`), and the order: pending → paid (running the
 * order's paid hooks and enqueueing the customer's notification) the first time the payment
 * succeeds, then partially_refunded / refunded. An event that does not move the payment forward
 * changes nothing and is not an error.
 */
int payments_apply(struct db_conn *c, int64_t tenant, int64_t pk, const struct payment_event *ev,
                   const char *cause, const char *detail, int64_t now_ms, struct arena *a,
                   struct err *e);

/*
 * Ask the provider about payment `pk` (outside any transaction) and apply its answer with
 * `cause` ("callback", "webhook", "reconciliation"). Stripe: the PaymentIntent; iyzico: the
 * Checkout Form's result. An answer whose amount or currency differs from the payment raises
 * an alert and changes nothing.
 */
int payments_check(struct db *db, int64_t tenant, int64_t pk, const char *cause, int64_t now_ms,
                   struct arena *a, struct err *e);

/*
 * Whether `provider`'s amount (`amount` minor units of `currency`, any case) is the payment's;
 * when not, raise the "payments.amount_mismatch" alert for the tenant (in the caller's
 * transaction) and return false.
 */
int payments_check_amount(struct db_conn *c, const struct payment *p, int64_t amount,
                          const char *currency, const char *source, int64_t now_ms, bool *ok,
                          struct err *e);

#endif
