/* SPDX-License-Identifier: MIT */
/*
 * A local Stripe API for tests, on fake_http: POST /v1/payment_intents, GET
 * /v1/payment_intents/{id}, POST /v1/refunds, with Stripe's documented behaviour where payments
 * depend on it: a bearer secret key, form-encoded bodies (a request that breaks the encoding or
 * misses a parameter gets Stripe's invalid_request_error naming the param), and idempotency keys
 * (the same key and body replay the first answer with Idempotent-Replayed: true; the same key
 * with another body is refused with an idempotency_error). Failures can be scripted.
 * Used by tests/unit/net/test_stripe.c and tests/integration/0023-payments.c.
 */
#ifndef ICESHOP_TESTS_FAKE_STRIPE_H
#define ICESHOP_TESTS_FAKE_STRIPE_H

#include <stddef.h>
#include <stdint.h>

struct fake_stripe;

struct fake_stripe *fake_stripe_start(const char *secret_key);
void fake_stripe_stop(struct fake_stripe *f);
const char *fake_stripe_url(const struct fake_stripe *f); /* "http://127.0.0.1:<port>" */
/* The next request answers `status` with an error object of `type` and `code` (may be ""). */
void fake_stripe_fail_next(struct fake_stripe *f, unsigned status, const char *type,
                           const char *code);
/*
 * The next request is acted on at once (an intent is created, its idempotency key kept) but its
 * answer is held for `ms`: as when the caller dies before the answer reaches it.
 */
void fake_stripe_delay_next(struct fake_stripe *f, int ms);
/* Requests seen, and the PaymentIntents created (not replays). */
size_t fake_stripe_requests(struct fake_stripe *f);
size_t fake_stripe_intents(struct fake_stripe *f);
/* The raw body of the last request (static storage of the fake; valid until the next one). */
void fake_stripe_last_body(struct fake_stripe *f, char *out, size_t n);

/* What GET /v1/payment_intents/{id} answers as the intent's status from now on ("succeeded"). */
void fake_stripe_set_status(struct fake_stripe *f, const char *intent_id, const char *status);
/* The amount refunded on an intent so far; -1 for an unknown intent. */
int64_t fake_stripe_refunded(struct fake_stripe *f, const char *intent_id);

#endif
