/* SPDX-License-Identifier: MIT */
/*
 * The demo's shop: a year of a Turkish online grocery's order history, drawn from a seed and
 * loaded into a running server through its public interfaces only (cities with their climate
 * over the REST API, then customers, products and orders through POST /api/import/{kind}), after
 * which the customer profile batch is run once (POST /api/profiles/recompute, waited for) and a
 * few personal campaigns are planned, so the dashboard's Customers tab is full on first start.
 *
 * The model, per customer: a city (Istanbul, Ankara, İzmir, Antalya), a purchase rate and a
 * chance to stop buying after each order (the population the BG/NBD model assumes), a spending
 * level, two or three favourite categories, and for about a third a staple bought on a personal
 * cycle (detergent, nappies, tea, coffee beans). Products have a season (ice cream and sun cream
 * in summer, tea and blankets in winter, notebooks in September) and the whole shop is busier in
 * December and in summer. Orders are paid, a few cancelled or refunded; some carry a discount.
 * The same seed and day give the same shop; the import is idempotent on the external ids
 * ("shop-c00001", ...), and a tenant whose profile batch already ran is left alone.
 * Tests: tests/integration/0007-demo.c.
 */
#ifndef ICESHOP_DEMO_SHOP_H
#define ICESHOP_DEMO_SHOP_H

#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

#define DEMO_SHOP_CUSTOMERS     3000 /* default number of customers */
#define DEMO_SHOP_MAX_CUSTOMERS 100000

struct demo_shop_opts {
    const char *url;  /* the server, without a trailing slash */
    const char *auth; /* "Bearer KEY": a tenant admin (the batch is an admin's call) */
    uint64_t seed;
    int customers;
    int64_t now_ms; /* the history ends here; its day (UTC) fixes the dates */
    bool quiet;
};

/* What was seeded, with the wall time of each step in seconds. */
struct demo_shop_result {
    bool skipped; /* the tenant's profile batch had already run: nothing written */
    int customers, products, orders, items, campaigns;
    double import_s, profiles_s, total_s;
};

/*
 * Seed the shop into the tenant of opts->auth and run the profile batch, waiting for it (at
 * most 10 minutes). ERR_UPSTREAM naming the call that failed.
 */
int demo_shop_seed(const struct demo_shop_opts *o, struct demo_shop_result *res, struct err *e);

#endif
