/* SPDX-License-Identifier: MIT */
/*
 * A client for Shopify's Admin GraphQL API, for cart recovery: one page of the shop's
 * `abandonedCheckouts` changed after a watermark, sorted by update time, with the recovery link
 * (abandonedCheckoutUrl), completion time, total, customer contact and line items; cursor
 * pagination; and Shopify's cost-based throttling read from the answer (a THROTTLED error, or a
 * 429, tells how long to wait for the bucket to refill). Pinned API version. Through httpc: call
 * it from jobs. Tests: tests/unit/net/test_shopify.c against tests/support/fake_shopify.c.
 */
#ifndef ICESHOP_NET_SHOPIFY_H
#define ICESHOP_NET_SHOPIFY_H

#include "core/err.h"
#include "core/money.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHOPIFY_API_VERSION "2024-10"
#define SHOPIFY_PAGE_MAX    50 /* checkouts per page */
#define SHOPIFY_LINES_MAX   20 /* line items kept per checkout */

struct shopify_config {
    const char *shop_domain;  /* "acme.myshopify.com" */
    const char *access_token; /* Admin API access token */
    const char *base_url;     /* replaces "https://<shop_domain>" (proxies, the tests' fake) */
    long timeout_ms;          /* 0 → 15 s */
};

struct shopify_line {
    char title[128];
    char sku[64];
    int64_t quantity;
    struct money unit_price;
};

struct shopify_checkout {
    char id[96]; /* "gid://shopify/AbandonedCheckout/123" */
    int64_t created_ms, updated_ms;
    int64_t completed_ms;   /* 0: not completed */
    char recovery_url[512]; /* abandonedCheckoutUrl */
    struct money total;
    char email[256], phone[32], first_name[64], last_name[64];
    struct shopify_line lines[SHOPIFY_LINES_MAX];
    size_t n_lines;
};

struct shopify_page {
    struct shopify_checkout items[SHOPIFY_PAGE_MAX];
    size_t n;
    bool has_next;
    char next_cursor[256];
    double available, restore_rate; /* the cost bucket after this call */
};

struct shopify_failure {
    long status;
    char code[48]; /* "THROTTLED", "ACCESS_DENIED", ... or "" */
    bool retryable;
    int64_t retry_after_ms; /* when throttled: until the bucket holds what the query costs */
};

/*
 * One page (at most `first`, ≤ SHOPIFY_PAGE_MAX) of checkouts updated after `updated_after_ms`
 * (0: all), after `cursor` (NULL: the first page). 0, or ERR_UPSTREAM with *f (throttling,
 * refused token, unreachable shop, an answer that is not the expected shape).
 */
int shopify_abandoned_page(const struct shopify_config *c, int64_t updated_after_ms,
                           const char *cursor, int first, struct shopify_page *out,
                           struct shopify_failure *f, struct err *e);

#endif
