/* SPDX-License-Identifier: MIT */
/*
 * A local iyzico for tests, on fake_http: the Checkout Form's initialize and retrieve endpoints,
 * checking IYZWSv2 (the HMAC over random key, path and body recomputed with the secret key) and
 * that the basket adds up to the price, answering with iyzico's response signature. The payment
 * behind a token succeeds unless scripted otherwise; answers can be given a forged signature.
 * Refunds (POST /payment/refund) by basket item, at most what is left of it.
 * Used by tests/unit/net/test_iyzico.c and tests/integration/0023-payments.c.
 */
#ifndef ICESHOP_TESTS_FAKE_IYZICO_H
#define ICESHOP_TESTS_FAKE_IYZICO_H

#include <stdbool.h>
#include <stddef.h>

struct fake_iyzico;

struct fake_iyzico *fake_iyzico_start(const char *api_key, const char *secret_key);
void fake_iyzico_stop(struct fake_iyzico *f);
const char *fake_iyzico_url(const struct fake_iyzico *f);
/* The next retrieve reports this paymentStatus ("FAILURE", ...) instead of SUCCESS. */
void fake_iyzico_next_status(struct fake_iyzico *f, const char *status);
/* The next answer carries a signature made with another key. */
void fake_iyzico_forge_next(struct fake_iyzico *f);
size_t fake_iyzico_requests(struct fake_iyzico *f);
/* Why the last refused request was refused ("" when none was). */
void fake_iyzico_last_refusal(struct fake_iyzico *f, char *out, size_t n);

/* What has been refunded of the payment behind `token` (major units); -1 for an unknown token. */
double fake_iyzico_refunded(struct fake_iyzico *f, const char *token);

#endif
