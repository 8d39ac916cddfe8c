/* SPDX-License-Identifier: MIT */
/*
 * A client for the parts of Stripe's REST API that payments use: create and read a
 * PaymentIntent, create a refund. Requests are form-encoded with a bearer secret key and the
 * caller's Idempotency-Key (Stripe replays the first answer for the same key and body and refuses
 * the same key with another body); amounts come from core/money.h (minor units, the currency
 * lower-cased as Stripe writes it). Through httpc, so call it from jobs, never a request thread.
 * Tests: tests/unit/net/test_stripe.c against tests/support/fake_stripe.c.
 */
#ifndef ICESHOP_NET_STRIPE_H
#define ICESHOP_NET_STRIPE_H

#include "core/err.h"
#include "core/money.h"

#include <stdbool.h>
#include <stdint.h>

#define STRIPE_DEFAULT_API_URL "https://api.stripe.com"

struct stripe_config {
    const char *api_url;    /* NULL → STRIPE_DEFAULT_API_URL (tests point it at the fake) */
    const char *secret_key; /* "sk_live_…" / "sk_test_…" */
    long timeout_ms;        /* 0 → 15 s */
};

/* What Stripe said when it refused: its error object, and whether trying again may work. */
struct stripe_failure {
    long status;    /* HTTP status, 0 when no answer arrived */
    char type[48];  /* "card_error", "invalid_request_error", "idempotency_error", ... */
    char code[64];  /* "card_declined", ... or "" */
    char param[64]; /* the parameter it names, or "" */
    bool retryable; /* network, 409 lock, 429, 5xx: the same request (same key) may be retried */
};

struct stripe_intent {
    char id[64];             /* "pi_…" */
    char client_secret[160]; /* what the buyer's page needs to confirm the payment */
    char status[40];         /* "requires_payment_method", "succeeded", ... */
    int64_t amount;          /* minor units */
    char currency[8];        /* lower case */
    bool replayed;           /* Stripe answered from its idempotency cache */
};

struct stripe_refund {
    char id[64]; /* "re_…" */
    char status[24];
    int64_t amount;
    bool replayed;
};

/*
 * Create a PaymentIntent for `amount` with metadata[order_id] and automatic payment methods.
 * 0 on success; ERR_UPSTREAM with *f filled when Stripe refused or could not be reached;
 * ERR_INVALID for a bad argument (field named).
 */
int stripe_intent_create(const struct stripe_config *c, const struct money *amount,
                         const char *order_id, const char *idempotency_key,
                         struct stripe_intent *out, struct stripe_failure *f, struct err *e);
/* Read a PaymentIntent by id (reconciliation). */
int stripe_intent_get(const struct stripe_config *c, const char *id, struct stripe_intent *out,
                      struct stripe_failure *f, struct err *e);
/* Refund `amount` (NULL: all that is left) of a PaymentIntent. */
int stripe_refund_create(const struct stripe_config *c, const char *intent_id,
                         const struct money *amount, const char *idempotency_key,
                         struct stripe_refund *out, struct stripe_failure *f, struct err *e);

#endif
