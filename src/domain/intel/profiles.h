/* SPDX-License-Identifier: MIT */
/*
 * The five customer profiles of the campaign-intelligence seed (budget, loyalty, category
 * affinity, replenishment, variety) for ONE customer, computed from that customer's order history
 * as of a given instant. Pure: no database, no clock, no I/O; memory only from the caller's arena.
 * Tests: tests/unit/domain/test_intel_profiles.c.
 *
 * Exactly. Times are Unix milliseconds (UTC); DAY is 86 400 000 ms; day(t) = ⌊t / DAY⌋, the UTC
 * calendar day; money is integer minor units of one currency throughout (the caller passes the
 * orders of one currency only); "round" is round half up, on non-negative integers.
 *   counted   an order counts when its status counts as spend (placed, paid:
 *             commerce_order_status_counts) and created_at ≤ as_of. Cancelled and refunded
 *             orders, and orders after as_of, are ignored by every rule below (their items too).
 *             An order's spend is its `total`; an item's spend is quantity × unit_price.
 *   windows   "last N days" is as_of − N·DAY ≤ created_at ≤ as_of, both ends included.
 *   budget    spend_last_30/90 = Σ spend of the counted orders in the window; orders_last_90
 *             their number; avg_order_value = round(spend_last_90 / orders_last_90), 0 without;
 *             predicted_monthly_budget = round(spend_last_90 / 3) (the seed's 3-month average).
 *             budget_tier: PREMIUM when spend_last_90 > 3·premium_above, else HIGH when
 *             > 3·high_above, else MID when > 3·mid_above, else LOW: the seed's
 *             `predicted > threshold` on the unrounded prediction. Seed defaults 500, 1000, 2000
 *             major units.
 *   price sensitivity (instead of the seed's placeholder 50), over all counted orders:
 *             an item is discounted when its `discounted` flag is set or list_price > unit_price
 *             (list_price 0 = unknown); an order is a promo order when it is a campaign order or
 *             has a discounted item.
 *               D = Σ spend of discounted items / Σ spend of all items
 *               C = Σ spend of campaign orders / Σ spend of all orders
 *               P = promo orders / orders
 *             score = 100 · (0.4·D + 0.3·C + 0.3·P), in [0, 100]. A share whose denominator is 0
 *             counts 0. Without counted orders, or when both spend sums are 0, it is unknown:
 *             has_price_sensitivity false and the score the seed's neutral 50.
 *   loyalty   lifetime_orders, lifetime_spent = the counted orders and Σ their spend;
 *             days_since_last_order = ⌊(as_of − created_at of the last counted order) / DAY⌋ (the
 *             seed's Math.floor: whole 24-hour periods), has_last_order false without counted
 *             orders.
 *             tier: the first of PLATINUM, GOLD, SILVER, BRONZE whose min_orders ≤ lifetime_orders
 *             and min_spent ≤ lifetime_spent, else NEW; reward_multiplier is the tier's. Seed
 *             defaults (orders, major units, multiplier): PLATINUM 20, 10000, 2.0; GOLD 10, 5000,
 *             1.5; SILVER 5, 2000, 1.2; BRONZE 2, 0, 1.1; NEW 1.0.
 *             loyalty_score = min(100, 5·lifetime_orders + lifetime_spent / (100 major units))
 *             (loyalty_points_per_order, loyalty_spend_per_point). Unlike the seed, which summed
 *             every order, cancelled and refunded ones never count.
 *   affinity  per category (category_id > 0; items without a category are left out) over the
 *             items of counted orders: orders_count = distinct orders with an item of it,
 *             spend_total = Σ item spend, last_purchased_at = the latest such order's created_at.
 *             Each item weighs w = 2^(−(as_of − created_at) / (half_life·DAY)) (exact ages, not
 *             whole days; default half-life 90 days), and
 *               affinity_score = 100 · Σ w·spend (this category) / Σ w·spend (every category),
 *             so the scores sum to 100; all 0 when that denominator is 0. Sorted by affinity_score
 *             descending, then spend_total descending, then category_id ascending.
 *   replenishment per product bought on at least replenish_min_purchases (default 3) distinct
 *             days d_1 < … < d_n, i.e. n − 1 ≥ 2 gaps g_i = d_{i+1} − d_i ≥ 1 whole days
 *             (several orders on one day are one purchase):
 *               cycle_days = the median of the gaps; of an even count, round of the mean of the
 *                            two middle ones
 *               gap_cv     = population standard deviation of the gaps / their mean
 *               confidence_score = 100 · max(0, 1 − gap_cv) · min(1, (n − 1) / full_support_gaps)
 *                            (default 4 gaps, i.e. 5 purchases, for full support)
 *               is_recurring = gap_cv ≤ recurring_max_cv (default 0.5)
 *               last_purchased_at = the latest created_at of the product's orders;
 *               previous_purchased_at = the latest created_at on day d_{n−1}
 *               cycles are cycle_days long from d_n: k = ⌊(day(as_of) − d_n) / cycle_days⌋, the
 *               current cycle is days d_n + k·cycle_days … d_n + (k+1)·cycle_days − 1 (start and
 *               end given as midnight of those days), purchased_in_current_cycle = (k = 0)
 *               next_expected_purchase_at = last_purchased_at + cycle_days·DAY
 *             Products bought on fewer days get no row. Sorted by product_id ascending.
 *   variety   over the counted orders of the last 90 days: a purchase is one (order, product)
 *             pair (the same product twice in one order is one purchase); L purchases,
 *             unique_sku_last_90 = distinct products, total_items_last_90 = Σ quantity;
 *             variety_index = 100 · unique_sku_last_90 / L; a purchase is a repeat when the
 *             product was in a counted order created strictly earlier (before the window too),
 *             repeat_ratio = 100 · repeats / L; both 0 when L = 0.
 *             explorer_type: with L < variety_min_purchases (default 3) the seed's default
 *             BALANCED; else REPEAT_BUYER when repeat_ratio ≥ repeat_buyer_min_repeat (60), else
 *             EXPLORER when variety_index ≥ explorer_min_variety (60) and repeat_ratio ≤
 *             explorer_max_repeat (40), else BALANCED. The seed names EXPLORER and BALANCED
 *             only; REPEAT_BUYER is its "repeat buyer" and the thresholds are ours.
 */
#ifndef ICESHOP_DOMAIN_INTEL_PROFILES_H
#define ICESHOP_DOMAIN_INTEL_PROFILES_H

#include "core/arena.h"
#include "core/err.h"
#include "domain/commerce/commerce.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INTEL_DAY_MS 86400000LL

/* ---- Input ------------------------------------------------------------------------------- */

/* One line of an order. */
struct intel_profile_item {
    int64_t product_id;  /* > 0 */
    int64_t category_id; /* the product's category; 0 = none */
    int64_t quantity;    /* > 0 */
    int64_t unit_price;  /* minor units paid per unit, ≥ 0 */
    /*
     * minor units per unit before any discount, ≥ 0; 0 = unknown. The batch reads the item's
     * own list_price (order_item.list_price) and, where an order did not say, the product's
     * price today (an approximation for old orders: the tables keep no price history).
     */
    int64_t list_price;
    bool discounted; /* sold at a discount (also implied by list_price > unit_price) */
};

/* One order; its n_items items follow the previous order's in the history's item array. */
struct intel_profile_order {
    int64_t created_at_ms;
    enum commerce_order_status status;
    int64_t total;  /* minor units, ≥ 0 */
    bool campaign;  /* placed under a campaign (orders.campaign is set) */
    size_t n_items; /* 0 is allowed */
};

/*
 * One customer's orders, oldest first (created_at non-decreasing; equal times in any order), with
 * all their items in one array in the same order: exactly what a query
 *   ... ORDER BY customer_id, created_at, order_id, order_item_id
 * yields, read row by row with the _add functions below and computed when the customer changes.
 * Orders of every status and time may be given; the rules choose.
 */
struct intel_profile_history {
    struct intel_profile_order *orders;
    size_t n_orders, cap_orders;
    struct intel_profile_item *items;
    size_t n_items, cap_items;
};

/* An empty history (no allocation). */
void intel_profile_history_init(struct intel_profile_history *h);
/*
 * Empty it again for the next customer, keeping its arrays; they live in the arena they grew in,
 * so after releasing that arena use _init instead. A batch keeps one arena for the history and
 * releases another, given to intel_profiles_compute, after each customer is stored.
 */
void intel_profile_history_reset(struct intel_profile_history *h);
/* Append a copy of *o with n_items 0; its items come next with _add_item. Arrays grow in `a`. */
void intel_profile_history_add_order(struct intel_profile_history *h, struct arena *a,
                                     const struct intel_profile_order *o);
/* Append a copy of *it to the last order added (there must be one). */
void intel_profile_history_add_item(struct intel_profile_history *h, struct arena *a,
                                    const struct intel_profile_item *it);

/* ---- Per-tenant configuration ------------------------------------------------------------ */

enum intel_budget_tier {
    INTEL_BUDGET_LOW = 0,
    INTEL_BUDGET_MID,
    INTEL_BUDGET_HIGH,
    INTEL_BUDGET_PREMIUM,
};
/* "LOW", "MID", "HIGH", "PREMIUM", NULL: indexed by the enum. */
extern const char *const intel_budget_tier_names[];

enum intel_loyalty_tier {
    INTEL_LOYALTY_NEW = 0,
    INTEL_LOYALTY_BRONZE,
    INTEL_LOYALTY_SILVER,
    INTEL_LOYALTY_GOLD,
    INTEL_LOYALTY_PLATINUM,
    INTEL_LOYALTY_TIERS, /* how many */
};
/* "NEW", "BRONZE", "SILVER", "GOLD", "PLATINUM", NULL: indexed by the enum. */
extern const char *const intel_loyalty_tier_names[];

enum intel_explorer_type {
    INTEL_EXPLORER_BALANCED = 0,
    INTEL_EXPLORER_EXPLORER,
    INTEL_EXPLORER_REPEAT_BUYER,
};
/* "BALANCED", "EXPLORER", "REPEAT_BUYER", NULL: indexed by the enum. */
extern const char *const intel_explorer_type_names[];

struct intel_loyalty_rule {
    int64_t min_orders;
    int64_t min_spent; /* minor units */
    double reward_multiplier;
};

struct intel_profile_config {
    /* budget tiers: the monthly budget above which each applies, minor units, ascending */
    int64_t budget_mid_above, budget_high_above, budget_premium_above;
    /* indexed by enum intel_loyalty_tier; [INTEL_LOYALTY_NEW] matches everyone */
    struct intel_loyalty_rule loyalty[INTEL_LOYALTY_TIERS];
    double loyalty_points_per_order;     /* 5 */
    int64_t loyalty_spend_per_point;     /* minor units per loyalty point: 100 major units */
    double affinity_half_life_days;      /* > 0 */
    int64_t replenish_min_purchases;     /* distinct days, ≥ 3 (at least two gaps) */
    int64_t replenish_full_support_gaps; /* ≥ 1 */
    double replenish_recurring_max_cv;
    int64_t variety_min_purchases;                                             /* ≥ 1 */
    double explorer_min_variety, explorer_max_repeat, repeat_buyer_min_repeat; /* 0..100 */
};

/*
 * The seed's defaults (see "Exactly" above) for a currency with `exponent` decimals (TRY 2: the
 * MID threshold 500 becomes 50000 minor units). exponent 0..4, as struct money_currency has.
 */
void intel_profile_config_default(struct intel_profile_config *c, int exponent);

/* ERR_INVALID naming the field when `c` breaks a bound stated in the struct. */
int intel_profile_config_check(const struct intel_profile_config *c, struct err *e);

/* ---- Output ------------------------------------------------------------------------------ */

struct intel_budget_profile {
    int64_t spend_last_30, spend_last_90; /* minor units */
    int64_t orders_last_90;
    int64_t avg_order_value;          /* minor units */
    int64_t predicted_monthly_budget; /* minor units */
    enum intel_budget_tier tier;
    const char *budget_tier; /* static: intel_budget_tier_names[tier] */
    bool has_price_sensitivity;
    double price_sensitivity_score;                             /* 0..100; 50 when unknown */
    double discounted_share, campaign_share, promo_order_share; /* D, C, P: 0..1 */
};

struct intel_loyalty_profile {
    enum intel_loyalty_tier tier;
    const char *loyalty_tier; /* static */
    double reward_multiplier;
    double loyalty_score; /* 0..100 */
    int64_t lifetime_orders;
    int64_t lifetime_spent; /* minor units */
    bool has_last_order;
    int64_t last_order_at_ms;
    int64_t days_since_last_order;
};

struct intel_category_affinity {
    int64_t category_id;
    int64_t orders_count;
    int64_t spend_total; /* minor units */
    int64_t last_purchased_at_ms;
    double affinity_score; /* 0..100 */
};

struct intel_replenishment {
    int64_t product_id;
    int64_t purchases; /* distinct days, n */
    int64_t cycle_days;
    double gap_cv;
    bool is_recurring;
    int64_t last_purchased_at_ms, previous_purchased_at_ms;
    int64_t current_cycle_start_ms, current_cycle_end_ms; /* midnight UTC of the first, last day */
    bool purchased_in_current_cycle;
    int64_t next_expected_purchase_at_ms;
    double confidence_score; /* 0..100 */
};

struct intel_variety_profile {
    int64_t purchases_last_90; /* L */
    int64_t unique_sku_last_90;
    int64_t total_items_last_90;
    int64_t repeats_last_90;
    double variety_index, repeat_ratio; /* 0..100 */
    enum intel_explorer_type type;
    const char *explorer_type; /* static */
};

struct intel_profiles {
    int64_t as_of_ms;
    int64_t counted_orders;
    struct intel_budget_profile budget;
    struct intel_loyalty_profile loyalty;
    struct intel_category_affinity *categories; /* in `a`; NULL when none */
    size_t n_categories;
    struct intel_replenishment *replenishment; /* in `a`; NULL when none */
    size_t n_replenishment;
    struct intel_variety_profile variety;
};

/*
 * Compute all five profiles of the customer whose history is `h`, as of `as_of_ms`, under `cfg`.
 * The arrays in *out, and scratch of about 100 bytes per item of the history, come from `a` (a
 * batch releases or reuses one arena per customer or per chunk of customers). ERR_INVALID naming
 * the field for a bad config, an item count that does not add up, orders out of time order, a
 * quantity ≤ 0, a negative price or total, a product_id ≤ 0 or sums beyond int64; *out is
 * then zeroed.
 */
int intel_profiles_compute(const struct intel_profile_history *h, int64_t as_of_ms,
                           const struct intel_profile_config *cfg, struct arena *a,
                           struct intel_profiles *out, struct err *e);

#endif
