/* SPDX-License-Identifier: MIT */
/*
 * The seed's CustomerSignals: what a campaign planner knows about one customer, gathered from
 * the tenant's current profile batch (profile_store.h), the customer's city with this month's
 * climate, and optionally one of the customer's carts. Tests: tests/integration/0022-profiles.c.
 *
 * Exactly (as the seed's SignalCollectorService, with its defaults when the customer has no
 * profiles yet: budget tier "UNKNOWN", price sensitivity 50, loyalty "NEW" with multiplier 1,
 * explorer "BALANCED" with variety index and repeat ratio 50):
 *   top categories    the three with the highest affinity (ties: more spend, then older id)
 *   replenishment gaps products whose current cycle has no purchase yet and whose expected
 *                     purchase is before now; days_since_expected = whole days since then
 *   city              the customer's city and the climate of now's month (UTC), when known
 *   cart              the given cart, which must be this customer's
 * Money is in the currency's major units (the seed's numbers), in the profiles' currency for the
 * profile figures and the cart's own for the cart.
 */
#ifndef ICESHOP_DOMAIN_INTEL_SIGNALS_H
#define ICESHOP_DOMAIN_INTEL_SIGNALS_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "json/json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct intel_signal_category {
    const char *category_id, *name;
    double affinity_score, spend_total;
};

struct intel_signal_gap {
    const char *product_id, *name;
    int64_t days_since_expected, cycle_days;
};

struct intel_signal_cart_item {
    const char *product_id, *name;
    int64_t quantity;
    double price;
};

struct intel_signals {
    const char *customer_id;
    bool has_profiles;    /* false: the seed's defaults below */
    int64_t as_of_ms;     /* the profiles' batch, when has_profiles */
    const char *currency; /* the profiles' currency ("" without) */
    const char *budget_tier;
    double predicted_monthly_budget, avg_order_value, price_sensitivity_score;
    const char *loyalty_tier;
    double loyalty_score, reward_multiplier;
    int64_t lifetime_orders;
    double lifetime_spent;
    struct intel_signal_category top_categories[3];
    size_t n_top_categories;
    struct intel_signal_gap *gaps;
    size_t n_gaps;
    const char *explorer_type;
    double variety_index, repeat_ratio;
    bool has_city;
    const char *city_name;
    int month; /* 1..12 */
    bool has_climate;
    double avg_temp_c, rainfall_mm;
    const char *season_tag; /* "UNKNOWN" when not given */
    bool has_cart;
    const char *cart_id, *cart_currency;
    double cart_total;
    struct intel_signal_cart_item *cart_items;
    size_t n_cart_items;
};

/*
 * Collect the signals of customer `customer_id` (public id) of `tenant` at `now_ms`, with the
 * cart `cart_id` (public id, may be NULL). Strings and arrays from `a`. ERR_NOT_FOUND naming
 * "customerId" or "cartId" (also for a cart of another customer).
 */
int intel_signals_collect(struct db_conn *c, int64_t tenant, const char *customer_id,
                          const char *cart_id, int64_t now_ms, struct arena *a,
                          struct intel_signals *out, struct err *e);

/*
 * The signals in the seed's CustomerSignals JSON (camelCase; "cart" only with a cart), plus
 * "profilesAsOf" and "currency". A new reference (caller decrefs).
 */
json_t *intel_signals_json(const struct intel_signals *s);

#endif
