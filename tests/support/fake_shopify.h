/* SPDX-License-Identifier: MIT */
/*
 * A local Shopify Admin GraphQL endpoint for tests, on fake_http: POST
 * /admin/api/<version>/graphql.json with X-Shopify-Access-Token, answering the
 * abandonedCheckouts connection from checkouts the test adds, sorted by update time, filtered by
 * the query's "updated_at:>'…'", paged by opaque cursors, with the cost extension Shopify sends;
 * throttling (a THROTTLED error with the bucket's state) can be scripted.
 * Used by tests/unit/net/test_shopify.c.
 */
#ifndef ICESHOP_TESTS_FAKE_SHOPIFY_H
#define ICESHOP_TESTS_FAKE_SHOPIFY_H

#include <stdbool.h>
#include <stddef.h>

struct fake_shopify;

struct fake_shopify *fake_shopify_start(const char *token);
void fake_shopify_stop(struct fake_shopify *f);
const char *fake_shopify_url(const struct fake_shopify *f);
/* Add checkout `n` updated at `updated_iso` (completed at `completed_iso`, or NULL). */
void fake_shopify_add(struct fake_shopify *f, int n, const char *updated_iso,
                      const char *completed_iso, const char *email, const char *phone,
                      const char *total, const char *currency);
/* The next request is throttled: the bucket holds `available` of what the query costs. */
void fake_shopify_throttle_next(struct fake_shopify *f, double available);
size_t fake_shopify_requests(struct fake_shopify *f);
/* The `query` variable of the last request ("" when none). */
void fake_shopify_last_filter(struct fake_shopify *f, char *out, size_t n);

#endif
