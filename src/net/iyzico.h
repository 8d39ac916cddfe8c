/* SPDX-License-Identifier: MIT */
/*
 * A client for iyzico's hosted Checkout Form (Turkey), so card numbers never pass through
 * Iceshop: initialize (iyzico answers a token and the page the buyer pays on), then, after the
 * callback, retrieve the payment's result. Requests are JSON with IYZWSv2 authorization
 * (base64 of "apiKey:K&randomKey:R&signature:S", S = hex HMAC-SHA256 of R + the path + the body
 * under the secret key); answers are believed only when their `signature` (hex HMAC-SHA256 of
 * the documented fields joined by ':') verifies. Amounts are decimal strings written and read by
 * core/money.h. Through httpc: call it from jobs. Tests: tests/unit/net/test_iyzico.c against
 * tests/support/fake_iyzico.c.
 */
#ifndef ICESHOP_NET_IYZICO_H
#define ICESHOP_NET_IYZICO_H

#include "core/err.h"
#include "core/money.h"

#include <stdbool.h>
#include <stddef.h>

#define IYZICO_DEFAULT_API_URL "https://api.iyzipay.com"

struct iyzico_config {
    const char *api_url; /* NULL → IYZICO_DEFAULT_API_URL; the sandbox or the tests' fake */
    const char *api_key;
    const char *secret_key;
    long timeout_ms; /* 0 → 15 s */
};

struct iyzico_buyer {
    const char *id, *name, *surname, *email, *phone, *identity_number;
    const char *address, *city, *country, *ip;
};

struct iyzico_item {
    const char *id, *name, *category;
    struct money price;
};

struct iyzico_checkout_request {
    const char *conversation_id; /* ours, echoed back: the order's id */
    const char *basket_id;
    struct money price;      /* the items' sum */
    struct money paid_price; /* what the buyer pays (with any surcharge) */
    const char *callback_url;
    const char *locale; /* "tr" (default) or "en" */
    const struct iyzico_buyer *buyer;
    const struct iyzico_item *items;
    size_t n_items;
};

struct iyzico_checkout {
    char token[128];
    char page_url[512]; /* where the buyer pays */
};

struct iyzico_payment {
    char payment_status[16]; /* "SUCCESS", "FAILURE", "INIT_THREEDS", ... */
    char payment_id[40];
    char conversation_id[96];
    char basket_id[96];
    char token[128];
    struct money price, paid_price;
    char payment_transaction_id[40]; /* the first basket item's: what a refund names */
};

struct iyzico_refund {
    char payment_transaction_id[40];
    struct money price; /* what iyzico says it refunded */
};

/* What went wrong: iyzico's errorCode / errorMessage, and whether to try again later. */
struct iyzico_failure {
    long status;
    char code[32];
    char message[160];
    bool retryable;
};

/*
 * Initialize a Checkout Form. ERR_INVALID naming the field for a bad request (prices that do
 * not add up, a missing buyer field); ERR_UPSTREAM with *f when iyzico refused, was unreachable,
 * or answered without a valid signature (f->code "signature").
 */
int iyzico_checkout_init(const struct iyzico_config *c, const struct iyzico_checkout_request *req,
                         struct iyzico_checkout *out, struct iyzico_failure *f, struct err *e);
/* The result of the payment behind `token` (after the buyer's callback, or to reconcile). */
int iyzico_checkout_retrieve(const struct iyzico_config *c, const char *conversation_id,
                             const char *token, struct iyzico_payment *out,
                             struct iyzico_failure *f, struct err *e);

/*
 * Refund `amount` of the basket item `payment_transaction_id` (POST /payment/refund; a full or
 * partial refund, never more than is left of the item). iyzico takes no idempotency key: a
 * request whose answer was lost must not simply be sent again. ERR_UPSTREAM with *f when iyzico
 * refused or was unreachable, or answered another amount (f->code "amount").
 */
int iyzico_refund_create(const struct iyzico_config *c, const char *conversation_id,
                         const char *payment_transaction_id, const struct money *amount,
                         struct iyzico_refund *out, struct iyzico_failure *f, struct err *e);

/* The IYZWSv2 Authorization value for (random, path, body); for the fake and tests. */
void iyzico_auth_header(const char *api_key, const char *secret_key, const char *random,
                        const char *path, const char *body, char *out, size_t n);
/* A decimal the way iyzico signs it: the shortest form, no trailing ".0" ("1.2", "10"). */
void iyzico_sign_number(double v, char *out, size_t n);

#endif
