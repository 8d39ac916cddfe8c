/* SPDX-License-Identifier: MIT */
/*
 * A client for the WooCommerce REST API (v3), for cart recovery: the orders a shop keeps for
 * unfinished checkouts (statuses checkout-draft and pending) modified after a watermark, and the
 * paid ones (processing, completed) modified after it, so an order paid later is seen; one
 * page at a time (`per_page`, `page`, the total in X-WP-TotalPages), over HTTP Basic with the
 * consumer key and secret — only over HTTPS, unless the caller's base URL is a loopback address
 * (the tests' fake). Through httpc: call it from jobs. Tests: tests/unit/net/test_woocommerce.c
 * against tests/support/fake_woocommerce.c.
 */
#ifndef ICESHOP_NET_WOOCOMMERCE_H
#define ICESHOP_NET_WOOCOMMERCE_H

#include "core/err.h"
#include "core/money.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WOO_PAGE_MAX  50
#define WOO_LINES_MAX 20

struct woo_config {
    const char *site_url; /* "https://shop.example" */
    const char *consumer_key;
    const char *consumer_secret;
    long timeout_ms; /* 0 → 15 s */
};

struct woo_line {
    char name[128];
    char sku[64];
    int64_t quantity;
    struct money price;
};

struct woo_order {
    int64_t id;
    char status[24];
    int64_t modified_ms;
    struct money total;
    char email[256], phone[32], first_name[64], last_name[64];
    char payment_url[512]; /* the checkout link the customer can finish from */
    struct woo_line lines[WOO_LINES_MAX];
    size_t n_lines;
};

struct woo_page {
    struct woo_order items[WOO_PAGE_MAX];
    size_t n;
    int total_pages;
};

struct woo_failure {
    long status;
    char code[64]; /* WooCommerce's error code ("woocommerce_rest_cannot_view", ...) or "" */
    bool retryable;
};

/* Page `page` (1-based) of the unfinished orders modified after `modified_after_ms` (0: all). */
int woo_unfinished_page(const struct woo_config *c, int64_t modified_after_ms, int page,
                        int per_page, struct woo_page *out, struct woo_failure *f, struct err *e);
/*
 * Page `page` of the paid orders (processing, completed) modified after `modified_after_ms`:
 * an unfinished order that was paid later shows up here, with the time of that change.
 */
int woo_paid_page(const struct woo_config *c, int64_t modified_after_ms, int page, int per_page,
                  struct woo_page *out, struct woo_failure *f, struct err *e);

#endif
