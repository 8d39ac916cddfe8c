/* SPDX-License-Identifier: MIT */
/*
 * Payments: an order's attempts to take its money at a provider (Stripe PaymentIntents, iyzico
 * Checkout Forms), the pure state machine every provider event, answer and reconciliation goes
 * through, and what each step means for the order. This header holds the types and the pure
 * rules: no I/O, no clock. The store is payments_store.h, the operations payments_service.h, the
 * jobs payments_jobs.h. Tests: tests/unit/domain/test_payments.c.
 */
#ifndef ICESHOP_DOMAIN_PAYMENTS_H
#define ICESHOP_DOMAIN_PAYMENTS_H

#include "core/err.h"
#include "core/money.h"
#include "domain/commerce/commerce.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAYMENTS_IDEM_KEY_MAX 255

/*
 * A payment's status. It only moves forward, by rank:
 *
 *   created (0) → pending (1) → failed (2) / canceled (2) → succeeded (3)
 *               → partially_refunded (4) → refunded (5)
 *
 * An event that would move it to a lower or equal rank changes nothing (a late payment_failed
 * never undoes succeeded; a repeated event is a no-op). Failed and canceled share a rank, so
 * neither undoes the other. Succeeded outranks them: a card declined and then accepted on the
 * same PaymentIntent ends succeeded. A refund may arrive before the success it refunds (events
 * are delivered in any order): it implies the success, so the payment goes through succeeded
 * (the order becomes paid, its follow-ups run once) and on to the refund in one step.
 * Refunds are cumulative amounts (Stripe's amount_refunded), so the larger one wins whatever
 * the order of arrival; refunded is reached when the refunded amount is the whole amount.
 */
enum payment_status {
    PAYMENT_CREATED = 0,
    PAYMENT_PENDING,
    PAYMENT_FAILED,
    PAYMENT_CANCELED,
    PAYMENT_SUCCEEDED,
    PAYMENT_PARTIALLY_REFUNDED,
    PAYMENT_REFUNDED,
};
/* "created", "pending", "failed", "canceled", "succeeded", "partially_refunded", "refunded". */
const char *payment_status_name(enum payment_status s);
/* The status called `name`; ERR_INVALID naming `field` otherwise. */
int payment_status_parse(const char *name, const char *field, enum payment_status *out,
                         struct err *e);
/* The rank above: a transition happens only to a higher rank. */
int payment_status_rank(enum payment_status s);

enum payment_provider { PAYMENT_STRIPE = 0, PAYMENT_IYZICO };
const char *payment_provider_name(enum payment_provider p);
int payment_provider_parse(const char *name, const char *field, enum payment_provider *out,
                           struct err *e);

/* What happened, as the state machine reads it. */
enum payment_event_kind {
    PAYMENT_EV_OPENED,    /* the provider accepted the attempt (an intent, a form) */
    PAYMENT_EV_SUCCEEDED, /* the money was taken */
    PAYMENT_EV_FAILED,    /* this try failed (the buyer may try again) */
    PAYMENT_EV_CANCELED,  /* the attempt was abandoned or voided */
    PAYMENT_EV_REFUNDED,  /* `refunded` minor units refunded in total so far */
};

struct payment_event {
    enum payment_event_kind kind;
    int64_t refunded; /* PAYMENT_EV_REFUNDED: the cumulative refunded amount */
};

/* The part of a payment the state machine reads and writes. */
struct payment_state {
    enum payment_status status;
    int64_t amount;   /* minor units, > 0 */
    int64_t refunded; /* minor units refunded so far, 0..amount */
};

/* What a step means beyond the new state. */
struct payment_step {
    struct payment_state next;
    bool changed;      /* next differs from the state given */
    bool became_paid;  /* the payment reached succeeded (or beyond) for the first time: the
                          order becomes paid and its follow-ups run, exactly once */
    bool order_change; /* the order's status should become `order_status` */
    enum commerce_order_status order_status;
};

/*
 * Apply `ev` to `cur` (pure). Never fails: an event that does not move the payment forward
 * gives changed = false. A refund larger than the amount is clamped to it (the caller checks
 * amounts against the order before; see payments_amount_matches).
 */
void payment_apply(const struct payment_state *cur, const struct payment_event *ev,
                   struct payment_step *out);

/*
 * Whether an order in `order_status` may take a new payment: only a pending order can.
 * ERR_CONFLICT naming "status" otherwise.
 */
int payments_order_payable(enum commerce_order_status order_status, struct err *e);

/* What an operator may do to an order by hand. */
enum payments_order_action {
    PAYMENTS_ORDER_FULFIL, /* paid (or partially refunded) → fulfilled */
    PAYMENTS_ORDER_CANCEL, /* pending → cancelled (a payment that succeeds later still pays it) */
};
/*
 * The status `action` moves an order in `from` to. ERR_CONFLICT naming "status" when the order
 * is not in a status the action applies to.
 */
int payments_order_next(enum commerce_order_status from, enum payments_order_action action,
                        enum commerce_order_status *to, struct err *e);

/*
 * The refund amount to ask for: `requested` (NULL: all that is left) checked against what is
 * left of a payment in `st`. ERR_CONFLICT (field "status") unless the payment succeeded or is
 * partially refunded; ERR_INVALID (field "amount") for an amount ≤ 0, in another currency, or
 * more than what is left. *out is in the payment's currency.
 */
int payments_refund_amount(const struct payment_state *st, const struct money_currency *currency,
                           const struct money *requested, struct money *out, struct err *e);

/*
 * Whether a provider's amount matches the payment's: same currency (case-insensitive: Stripe
 * writes "try") and same minor units.
 */
bool payments_amount_matches(int64_t amount, const struct money_currency *currency,
                             int64_t seen_amount, const char *seen_currency);

/*
 * The SHA-256 (hex, 65 bytes with the NUL) of a request as the idempotency check compares it:
 * method, path and body. Two requests under one key must hash the same to be replays.
 */
void payments_request_hash(const char *method, const char *path, const char *body, size_t len,
                           char out[65]);

#endif
