/* SPDX-License-Identifier: MIT */
/*
 * A local WooCommerce REST API (v3) for tests, on fake_http: GET /wp-json/wc/v3/orders with
 * HTTP Basic (consumer key and secret), the `status` list (comma-separated, any status),
 * `modified_after`, `per_page` and `page` honoured, pages counted in X-WP-TotalPages, errors as
 * WooCommerce writes them. Used by tests/unit/net/test_woocommerce.c.
 */
#ifndef ICESHOP_TESTS_FAKE_WOOCOMMERCE_H
#define ICESHOP_TESTS_FAKE_WOOCOMMERCE_H

#include <stdbool.h>
#include <stddef.h>

struct fake_woo;

struct fake_woo *fake_woo_start(const char *key, const char *secret);
void fake_woo_stop(struct fake_woo *f);
const char *fake_woo_url(const struct fake_woo *f);
/* An order: id, status ("pending", "checkout-draft", "completed", ...), modified GMT time. */
void fake_woo_add(struct fake_woo *f, int id, const char *status, const char *modified_gmt,
                  const char *email, const char *total);
/*
 * Order `id` changes status ("processing" once paid, ...) at `modified_gmt`, as a shop's order
 * does when the customer pays later; false when there is no such order.
 */
bool fake_woo_set_status(struct fake_woo *f, int id, const char *status, const char *modified_gmt);
/* The last request's query string. */
void fake_woo_last_query(struct fake_woo *f, char *out, size_t n);

#endif
