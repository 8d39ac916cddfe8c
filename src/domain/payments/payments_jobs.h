/* SPDX-License-Identifier: MIT */
/*
 * The payments jobs and the providers' webhook event handlers:
 *   payments.check       ask the provider about one payment and apply its answer (no
 *                        transaction while asking); unique per payment
 *   payments.reconcile   periodic: every payment still created/pending after
 *                        ICESHOP_PAYMENTS_PENDING_AFTER seconds gets a payments.check with cause
 *                        "reconciliation" (each correction is in the payment's history and the
 *                        order's status history under that cause)
 *   payments.paid_notice tell the customer their order is paid (JOB_IN_TX; enqueued in the
 *                        transaction that marks the order paid)
 * Webhook events (integrations/inbound_ledger.h handlers, run once each in the ledger job's
 * transaction): Stripe payment_intent.succeeded / .payment_failed / .canceled, charge.refunded,
 * charge.dispute.created; iyzico's checkout notifications, which carry no amount, enqueue a
 * payments.check (cause "webhook") whose retrieve answer carries it. Events for payments this
 * tenant does not have are recorded and ignored; an amount or currency that differs from the
 * payment's raises the payments.amount_mismatch alert and changes nothing.
 * Tests: tests/integration/0023-payments.c.
 */
#ifndef ICESHOP_DOMAIN_PAYMENTS_JOBS_H
#define ICESHOP_DOMAIN_PAYMENTS_JOBS_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "integrations/inbound_ledger.h"

#include <stdint.h>

struct job_registry;
struct sched;

#define PAYMENTS_JOB_CHECK       "payments.check"
#define PAYMENTS_JOB_RECONCILE   "payments.reconcile"
#define PAYMENTS_JOB_PAID_NOTICE "payments.paid_notice"
#define PAYMENTS_NOTICE_KIND     "payment.received"

int payments_jobs_register(struct job_registry *reg, struct err *e);
/* payments.reconcile every `interval_s` seconds (leader only). */
int payments_jobs_schedule(struct sched *s, int interval_s, struct err *e);

/* Enqueue payments.check for payment `pk` with `cause` (unique per payment while pending). */
int payments_jobs_enqueue_check(struct db_conn *c, int64_t tenant, int64_t pk, const char *cause,
                                int64_t now_ms, struct err *e);
/* Enqueue payments.paid_notice for payment `pk` in the caller's transaction. */
int payments_jobs_enqueue_paid_notice(struct db_conn *c, int64_t tenant, int64_t pk, int64_t now_ms,
                                      struct err *e);

/* The inbound ledger handlers of "stripe" and "iyzico". */
int payments_stripe_event(struct db_conn *c, const struct inbound_event *ev, struct arena *a,
                          int64_t now_ms, struct err *e);
int payments_iyzico_event(struct db_conn *c, const struct inbound_event *ev, struct arena *a,
                          int64_t now_ms, struct err *e);

/*
 * Webhook latency: seconds from an event's receipt to payments acting on it, per provider, as
 * a histogram kept in this process (the processes that run the jobs observe).
 */
#define PAYMENTS_LATENCY_BOUNDS 10
extern const double payments_latency_bounds[PAYMENTS_LATENCY_BOUNDS]; /* seconds, ascending */
struct payments_latency {
    uint64_t buckets[PAYMENTS_LATENCY_BOUNDS + 1]; /* cumulative; the last is +Inf (= count) */
    double sum_s;
};
/* A snapshot for `provider` (0 stripe, 1 iyzico: enum payment_provider). */
void payments_latency_snapshot(int provider, struct payments_latency *out);

/* Seconds a payment may stay pending before reconciliation asks (payments_configure). */
int payments_pending_after_s(void);

#endif
