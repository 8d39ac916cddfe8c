/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/intel/profiles.c, every figure computed by hand (in the comments):
 * no countable orders, only cancelled/refunded/later orders, one order, the 30/90-day windows at
 * their boundaries, budget tiers on the unrounded prediction, round half up, price sensitivity
 * from discounted items, list prices and campaign orders, the loyalty tier table, affinity with
 * its half-life and its ties, replenishment cycles (odd and even gap counts, several orders on
 * one day, a product bought on two days only), variety and explorer types at their thresholds
 * and with orders at the same instant, refused input, and a history reused for a second customer.
 */
#include "domain/intel/profiles.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY   INTEL_DAY_MS
#define HOUR  3600000LL
#define D0    (20000 * DAY)    /* midnight of the as_of day (2024-10-04) */
#define AS_OF (D0 + 12 * HOUR) /* noon that day */

/* midnight of day `day` (relative to as_of's), plus `hour` hours */
static int64_t at(int64_t day, int64_t hour)
{
    return D0 + day * DAY + hour * HOUR;
}

struct fx {
    struct arena a;
    struct intel_profile_history h;
    struct intel_profile_config cfg;
    struct intel_profiles p;
    struct err e;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    arena_init(&f->a);
    intel_profile_history_init(&f->h);
    intel_profile_config_default(&f->cfg, 2); /* TRY: 2 decimals */
    err_init(&f->e);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    arena_release(&f->a);
    free(f);
    return 0;
}

/* An order with total 0; itm() adds each line's spend to it, set_total() overrides. */
static void ord_full(struct fx *f, int64_t t, enum commerce_order_status st, bool campaign)
{
    struct intel_profile_order o = {.created_at_ms = t, .status = st, .campaign = campaign};
    intel_profile_history_add_order(&f->h, &f->a, &o);
}

static void ord(struct fx *f, int64_t t)
{
    ord_full(f, t, COMMERCE_ORDER_PLACED, false);
}

static void itm_full(struct fx *f, int64_t product, int64_t category, int64_t qty, int64_t price,
                     int64_t list, bool discounted)
{
    struct intel_profile_item it = {.product_id = product,
                                    .category_id = category,
                                    .quantity = qty,
                                    .unit_price = price,
                                    .list_price = list,
                                    .discounted = discounted};
    intel_profile_history_add_item(&f->h, &f->a, &it);
    f->h.orders[f->h.n_orders - 1].total += qty * price;
}

static void itm(struct fx *f, int64_t product, int64_t category, int64_t qty, int64_t price)
{
    itm_full(f, product, category, qty, price, 0, false);
}

static void set_total(struct fx *f, int64_t total)
{
    f->h.orders[f->h.n_orders - 1].total = total;
}

static void run(struct fx *f)
{
    if (intel_profiles_compute(&f->h, AS_OF, &f->cfg, &f->a, &f->p, &f->e))
        fail_msg("compute: %s (%s)", f->e.msg, f->e.field);
}

static void near(double got, double want, const char *what)
{
    if (fabs(got - want) > 1e-6)
        fail_msg("%s: %.9f, want %.9f", what, got, want);
}

/* What a customer without a counted order gets. */
static void assert_empty(const struct intel_profiles *p)
{
    assert_int_equal(p->counted_orders, 0);
    assert_int_equal(p->budget.spend_last_30, 0);
    assert_int_equal(p->budget.spend_last_90, 0);
    assert_int_equal(p->budget.orders_last_90, 0);
    assert_int_equal(p->budget.avg_order_value, 0);
    assert_int_equal(p->budget.predicted_monthly_budget, 0);
    assert_string_equal(p->budget.budget_tier, "LOW");
    assert_false(p->budget.has_price_sensitivity);
    near(p->budget.price_sensitivity_score, 50, "unknown sensitivity");
    assert_string_equal(p->loyalty.loyalty_tier, "NEW");
    near(p->loyalty.reward_multiplier, 1.0, "multiplier");
    near(p->loyalty.loyalty_score, 0, "loyalty score");
    assert_int_equal(p->loyalty.lifetime_orders, 0);
    assert_int_equal(p->loyalty.lifetime_spent, 0);
    assert_false(p->loyalty.has_last_order);
    assert_int_equal(p->n_categories, 0);
    assert_null(p->categories);
    assert_int_equal(p->n_replenishment, 0);
    assert_null(p->replenishment);
    assert_int_equal(p->variety.purchases_last_90, 0);
    assert_int_equal(p->variety.unique_sku_last_90, 0);
    assert_int_equal(p->variety.total_items_last_90, 0);
    near(p->variety.variety_index, 0, "variety index");
    near(p->variety.repeat_ratio, 0, "repeat ratio");
    assert_string_equal(p->variety.explorer_type, "BALANCED");
}

static void test_no_orders(void **state)
{
    struct fx *f = *state;
    run(f);
    assert_int_equal(f->p.as_of_ms, AS_OF);
    assert_empty(&f->p);
}

/* Cancelled and refunded orders and orders after as_of count for nothing, their items neither. */
static void test_only_uncounted_orders(void **state)
{
    struct fx *f = *state;
    for (int d = -40; d <= -10; d += 10) {
        ord_full(f, at(d, 9), COMMERCE_ORDER_CANCELLED, true);
        itm_full(f, 1, 7, 3, 5000, 9000, true);
        ord_full(f, at(d, 10), COMMERCE_ORDER_REFUNDED, false);
        itm(f, 2, 8, 1, 300000);
    }
    ord(f, AS_OF + 1); /* one millisecond late */
    itm(f, 1, 7, 1, 1000);
    ord_full(f, at(3, 0), COMMERCE_ORDER_PAID, false);
    itm(f, 3, 7, 1, 1000);
    run(f);
    assert_empty(&f->p);
}

/*
 * Fulfilled and partially refunded orders (the statuses payments and redeemed flash visits add)
 * count as spend like paid ones; before, the checks refused them and the tenant's whole profile
 * batch failed.
 */
static void test_fulfilled_orders_count(void **state)
{
    struct fx *f = *state;
    ord_full(f, at(-20, 9), COMMERCE_ORDER_FULFILLED, false);
    itm(f, 1, 7, 1, 4000);
    ord_full(f, at(-10, 9), COMMERCE_ORDER_PARTIALLY_REFUNDED, false);
    itm(f, 2, 7, 1, 6000);
    run(f);
    assert_int_equal(f->p.budget.orders_last_90, 2);
    assert_int_equal(f->p.budget.spend_last_90, 10000);
    assert_int_equal(f->p.loyalty.lifetime_orders, 2);
}

/*
 * One order 10 days ago: 2 × 50.00 in category 7, 1 × 20.00 in category 8. Both items weigh the
 * same, so the affinities are 100.00/120.00 and 20.00/120.00.
 */
static void test_one_order(void **state)
{
    struct fx *f = *state;
    ord(f, at(-10, 12));
    itm(f, 1, 7, 2, 5000);
    itm(f, 2, 8, 1, 2000);
    run(f);
    const struct intel_profiles *p = &f->p;
    assert_int_equal(p->counted_orders, 1);
    assert_int_equal(p->budget.spend_last_30, 12000);
    assert_int_equal(p->budget.spend_last_90, 12000);
    assert_int_equal(p->budget.avg_order_value, 12000);
    assert_int_equal(p->budget.predicted_monthly_budget, 4000);
    assert_string_equal(p->budget.budget_tier, "LOW");
    assert_true(p->budget.has_price_sensitivity); /* known, and nothing was on offer: 0 */
    near(p->budget.price_sensitivity_score, 0, "sensitivity");
    assert_string_equal(p->loyalty.loyalty_tier, "NEW");
    near(p->loyalty.loyalty_score, 5 + 12000.0 / 10000, "5 per order + 1 per 100.00");
    assert_true(p->loyalty.has_last_order);
    assert_int_equal(p->loyalty.last_order_at_ms, at(-10, 12));
    assert_int_equal(p->loyalty.days_since_last_order, 10);
    assert_int_equal(p->n_categories, 2);
    assert_int_equal(p->categories[0].category_id, 7);
    assert_int_equal(p->categories[0].orders_count, 1);
    assert_int_equal(p->categories[0].spend_total, 10000);
    assert_int_equal(p->categories[0].last_purchased_at_ms, at(-10, 12));
    near(p->categories[0].affinity_score, 100.0 * 10000 / 12000, "affinity 7");
    assert_int_equal(p->categories[1].category_id, 8);
    near(p->categories[1].affinity_score, 100.0 * 2000 / 12000, "affinity 8");
    assert_int_equal(p->n_replenishment, 0);
    /* two purchases, both new: variety 100, repeats 0, but below the gate of 3: BALANCED */
    assert_int_equal(p->variety.purchases_last_90, 2);
    assert_int_equal(p->variety.unique_sku_last_90, 2);
    assert_int_equal(p->variety.total_items_last_90, 3);
    near(p->variety.variety_index, 100, "variety");
    near(p->variety.repeat_ratio, 0, "repeat");
    assert_string_equal(p->variety.explorer_type, "BALANCED");
}

/*
 * Windows include both ends; totals, not items, are spend.
 *   A −91 d          1000.00  (before the 90 days)
 *   B −90 d exactly   300.01  (first instant of the 90 days)
 *   D −30 d − 1 ms     50.00  (90 days only)
 *   C −30 d exactly   200.00  (first instant of the 30 days)
 *   E at as_of       1000.00  (paid)
 *   F as_of + 1 ms   9999.99  (ignored)
 * 90 d: 300.01 + 50 + 200 + 1000 = 1550.01 over 4 orders, avg round(387.5025) = 387.50,
 * predicted 1550.01 / 3 = 516.67 exactly: MID. 30 d: 1200.00. Lifetime: 5 orders, 2550.01: SILVER
 * (5 orders, ≥ 2000.00), score 25 + 25.5001.
 */
static void test_budget_windows(void **state)
{
    struct fx *f = *state;
    ord(f, AS_OF - 91 * DAY);
    set_total(f, 100000);
    ord(f, AS_OF - 90 * DAY);
    set_total(f, 30001);
    ord(f, AS_OF - 30 * DAY - 1);
    set_total(f, 5000);
    ord(f, AS_OF - 30 * DAY);
    set_total(f, 20000);
    ord_full(f, AS_OF, COMMERCE_ORDER_PAID, false);
    set_total(f, 100000);
    ord(f, AS_OF + 1);
    set_total(f, 999999);
    run(f);
    const struct intel_budget_profile *b = &f->p.budget;
    assert_int_equal(b->spend_last_90, 155001);
    assert_int_equal(b->orders_last_90, 4);
    assert_int_equal(b->spend_last_30, 120000);
    assert_int_equal(b->avg_order_value, 38750);
    assert_int_equal(b->predicted_monthly_budget, 51667);
    assert_string_equal(b->budget_tier, "MID");
    const struct intel_loyalty_profile *l = &f->p.loyalty;
    assert_int_equal(l->lifetime_orders, 5);
    assert_int_equal(l->lifetime_spent, 255001);
    assert_string_equal(l->loyalty_tier, "SILVER");
    near(l->reward_multiplier, 1.2, "SILVER multiplier");
    near(l->loyalty_score, 25 + 25.5001, "loyalty score");
    assert_int_equal(l->last_order_at_ms, AS_OF);
    assert_int_equal(l->days_since_last_order, 0);
    /* orders without items: no categories, no purchases, and no item spend for D */
    assert_int_equal(f->p.n_categories, 0);
    assert_int_equal(f->p.variety.purchases_last_90, 0);
}

/*
 * The tier compares the unrounded prediction, spend_90 / 3 > threshold: 1500.01 predicts 500.00
 * when rounded but is MID. Rounding is half up.
 */
static void test_budget_tiers_and_rounding(void **state)
{
    struct fx *f = *state;
    static const struct {
        int64_t spend; /* one order today */
        int64_t predicted;
        const char *tier;
    } rows[] = {
        {150000, 50000, "LOW"},
        {150001, 50000, "MID"},
        {300000, 100000, "MID"},
        {300001, 100000, "HIGH"},
        {600000, 200000, "HIGH"},
        {600001, 200000, "PREMIUM"},
        {1, 0, "LOW"},
        {2, 1, "LOW"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        intel_profile_history_reset(&f->h);
        ord(f, AS_OF);
        set_total(f, rows[i].spend);
        run(f);
        assert_int_equal(f->p.budget.predicted_monthly_budget, rows[i].predicted);
        if (strcmp(f->p.budget.budget_tier, rows[i].tier) != 0)
            fail_msg("spend %lld: %s, want %s", (long long)rows[i].spend, f->p.budget.budget_tier,
                     rows[i].tier);
    }
    /* avg of 0.01 and 0.02 is 0.015: rounds half up to 0.02 */
    intel_profile_history_reset(&f->h);
    ord(f, AS_OF - DAY);
    set_total(f, 1);
    ord(f, AS_OF);
    set_total(f, 2);
    run(f);
    assert_int_equal(f->p.budget.avg_order_value, 2);
    assert_int_equal(f->p.budget.predicted_monthly_budget, 1);
    /* the thresholds are the tenant's: MID from 10.00 a month */
    f->cfg.budget_mid_above = 1000;
    intel_profile_history_reset(&f->h);
    ord(f, AS_OF);
    set_total(f, 3001);
    run(f);
    assert_string_equal(f->p.budget.budget_tier, "MID");
}

/*
 * O1 campaign, 100.00: 2 × 30.00 flagged discounted (60.00), 1 × 40.00 at its list price
 * O2 200.00: 1 × 150.00 listed at 200.00 (discounted by its list price), 1 × 50.00 list unknown
 * O3 100.00: 1 × 100.00 listed at 90.00 (the price rose: not a discount)
 * O4 cancelled campaign of discounted items: ignored
 * D = (60 + 150) / 400 = 0.525, C = 100 / 400 = 0.25, P = 2 / 3 promo orders (O1, O2)
 * score = 100 · (0.4 · 0.525 + 0.3 · 0.25 + 0.3 · 2/3) = 21 + 7.5 + 20 = 48.5
 */
static void test_price_sensitivity(void **state)
{
    struct fx *f = *state;
    ord_full(f, at(-50, 10), COMMERCE_ORDER_PAID, true);
    itm_full(f, 1, 1, 2, 3000, 0, true);
    itm_full(f, 2, 1, 1, 4000, 4000, false);
    ord_full(f, at(-40, 10), COMMERCE_ORDER_CANCELLED, true);
    itm_full(f, 1, 1, 10, 1000, 3000, true);
    ord(f, at(-30, 10));
    itm_full(f, 3, 2, 1, 15000, 20000, false);
    itm_full(f, 4, 2, 1, 5000, 0, false);
    ord(f, at(-20, 10));
    itm_full(f, 5, 2, 1, 10000, 9000, false);
    run(f);
    const struct intel_budget_profile *b = &f->p.budget;
    assert_true(b->has_price_sensitivity);
    near(b->discounted_share, 0.525, "D");
    near(b->campaign_share, 0.25, "C");
    near(b->promo_order_share, 2.0 / 3, "P");
    near(b->price_sensitivity_score, 48.5, "score");

    /* a customer who only ever bought free things: counted, but nothing to measure */
    intel_profile_history_reset(&f->h);
    ord(f, at(-3, 10));
    itm_full(f, 1, 4, 1, 0, 500, true);
    run(f);
    assert_int_equal(f->p.counted_orders, 1);
    assert_false(f->p.budget.has_price_sensitivity);
    near(f->p.budget.price_sensitivity_score, 50, "unknown");
    assert_int_equal(f->p.n_categories, 1); /* bought in, at no spend: affinity 0 */
    near(f->p.categories[0].affinity_score, 0, "free affinity");
    near(f->p.loyalty.loyalty_score, 5, "one order, no spend");
}

/*
 * The seed's tier table, rows (orders, spend): the first of PLATINUM (20, 10000.00), GOLD (10,
 * 5000.00), SILVER (5, 2000.00), BRONZE (2, -) that both reach, else NEW. The first order carries
 * all the spend; the last is 36 hours old: one whole day since. Score min(100, 5·n + spend/100.00).
 */
static void test_loyalty_tiers(void **state)
{
    struct fx *f = *state;
    static const struct {
        int orders;
        int64_t spent;
        const char *tier;
        double multiplier, score;
    } rows[] = {
        {1, 100000000, "NEW", 1.0, 100},     {2, 0, "BRONZE", 1.1, 10},
        {5, 199999, "BRONZE", 1.1, 44.9999}, {5, 200000, "SILVER", 1.2, 45},
        {10, 500000, "GOLD", 1.5, 100},      {19, 10000000, "GOLD", 1.5, 100},
        {20, 1000000, "PLATINUM", 2.0, 100}, {25, 999999, "GOLD", 1.5, 100},
        {3, 1000, "BRONZE", 1.1, 15.1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        intel_profile_history_reset(&f->h);
        for (int k = 0; k < rows[i].orders; k++) {
            ord(f, AS_OF - 36 * HOUR - (rows[i].orders - 1 - k) * DAY);
            set_total(f, k == 0 ? rows[i].spent : 0);
        }
        run(f);
        const struct intel_loyalty_profile *l = &f->p.loyalty;
        if (strcmp(l->loyalty_tier, rows[i].tier) != 0)
            fail_msg("%d orders, %lld: %s, want %s", rows[i].orders, (long long)rows[i].spent,
                     l->loyalty_tier, rows[i].tier);
        near(l->reward_multiplier, rows[i].multiplier, rows[i].tier);
        near(l->loyalty_score, rows[i].score, "loyalty score");
        assert_int_equal(l->lifetime_orders, rows[i].orders);
        assert_int_equal(l->lifetime_spent, rows[i].spent);
        assert_int_equal(l->days_since_last_order, 1);
    }
}

/*
 * Half-life 90 days, ages exact multiples of it (weights 1/4, 1/2, 1):
 *   O1 −180 d: cat 1 80.00, cat 2 20.00
 *   O2  −90 d: cat 2 2 × 20.00, uncategorised 500.00 (left out)
 *   O3 as_of : cat 3 10.00, cat 2 5.00 and a free cat 2 item (same order: counted once)
 * weighted: cat 1 8000/4 = 2000; cat 2 2000/4 + 4000/2 + 500 = 3000; cat 3 1000; all 6000
 */
static void test_affinity(void **state)
{
    struct fx *f = *state;
    ord(f, AS_OF - 180 * DAY);
    itm(f, 1, 1, 1, 8000);
    itm(f, 2, 2, 1, 2000);
    ord(f, AS_OF - 90 * DAY);
    itm(f, 3, 2, 2, 2000);
    itm(f, 4, 0, 1, 50000);
    ord(f, AS_OF);
    itm(f, 5, 3, 1, 1000);
    itm(f, 6, 2, 1, 500);
    itm(f, 7, 2, 1, 0);
    run(f);
    const struct intel_category_affinity *c = f->p.categories;
    assert_int_equal(f->p.n_categories, 3);
    assert_int_equal(c[0].category_id, 2);
    near(c[0].affinity_score, 50, "cat 2");
    assert_int_equal(c[0].orders_count, 3);
    assert_int_equal(c[0].spend_total, 6500);
    assert_int_equal(c[0].last_purchased_at_ms, AS_OF);
    assert_int_equal(c[1].category_id, 1);
    near(c[1].affinity_score, 100.0 / 3, "cat 1");
    assert_int_equal(c[1].orders_count, 1);
    assert_int_equal(c[1].spend_total, 8000);
    assert_int_equal(c[1].last_purchased_at_ms, AS_OF - 180 * DAY);
    assert_int_equal(c[2].category_id, 3);
    near(c[2].affinity_score, 100.0 / 6, "cat 3");

    /* the half-life is the tenant's: at 180 days O1 weighs 1/2, O2 2^-1/2 */
    f->cfg.affinity_half_life_days = 180;
    run(f);
    double w2 = exp2(-0.5);
    double c1 = 8000 * 0.5, c2 = 2000 * 0.5 + 4000 * w2 + 500, c3 = 1000;
    near(f->p.categories[0].affinity_score, 100 * c2 / (c1 + c2 + c3), "cat 2 at 180 d");
    near(f->p.categories[1].affinity_score, 100 * c1 / (c1 + c2 + c3), "cat 1 at 180 d");
}

/*
 * Equal scores: the higher spend first, then the lower category id. Cats 9 and 4 and 6 each 10.00
 * today, cat 5 20.00 ninety days ago: all weigh 1000, 25 each.
 */
static void test_affinity_ties(void **state)
{
    struct fx *f = *state;
    ord(f, AS_OF - 90 * DAY);
    itm(f, 1, 5, 1, 2000);
    ord(f, AS_OF);
    itm(f, 2, 9, 1, 1000);
    itm(f, 3, 4, 1, 1000);
    itm(f, 4, 6, 1, 1000);
    run(f);
    static const int64_t want[] = {5, 4, 6, 9};
    assert_int_equal(f->p.n_categories, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(f->p.categories[i].category_id, want[i]);
        near(f->p.categories[i].affinity_score, 25, "tied");
    }
}

/*
 * as_of is day 0, 12:00. Purchase days per product (several orders on one day are one purchase):
 *   p10 −40 −30 −20 −10(15:00): gaps 10 10 10, median 10, cv 0, confidence 100·1·3/4 = 75;
 *       k = ⌊10/10⌋ = 1: cycle days 0..9, not bought in it; next −10d15h + 10 d = day 0 15:00.
 *       (a cancelled order on day −5 and one after as_of do not count)
 *   p11 −50 −45 −35 −5(08:00 and 20:00): gaps 5 10 30, median 10, mean 15,
 *       sd √((100+25+225)/3) = 10.801234, cv 0.720082, confidence 100·0.279918·3/4 = 20.993828;
 *       k = ⌊5/10⌋ = 0: cycle days −5..4, bought in it; previous −35; next day 5 20:00.
 *   p13 −100 −90 −69 −39 −35: gaps 10 21 30 4, median (10+21)/2 = 15.5 → 16, mean 16.25,
 *       sd √(400.75/4) = 10.009371, cv 0.615961, confidence 100·0.384039·1 = 38.403873;
 *       k = ⌊35/16⌋ = 2: cycle days −3..12, not bought in it; next −35 + 16 = day −19.
 *   p12 bought on two days only, p14 three times on one day (twice at the same instant): no row.
 */
static void test_replenishment(void **state)
{
    struct fx *f = *state;
    ord(f, at(-100, 10));
    itm(f, 13, 1, 1, 100);
    ord(f, at(-90, 10));
    itm(f, 13, 1, 1, 100);
    ord(f, at(-69, 10));
    itm(f, 13, 1, 1, 100);
    ord(f, at(-50, 10));
    itm(f, 11, 1, 1, 100);
    ord(f, at(-45, 10));
    itm(f, 11, 1, 1, 100);
    ord(f, at(-40, 10));
    itm(f, 10, 1, 1, 100);
    itm(f, 12, 1, 1, 100);
    ord(f, at(-39, 10));
    itm(f, 13, 1, 1, 100);
    ord(f, at(-35, 10));
    itm(f, 11, 1, 1, 100);
    itm(f, 13, 1, 2, 100);
    ord(f, at(-30, 10));
    itm(f, 10, 1, 1, 100);
    ord(f, at(-20, 10));
    itm(f, 10, 1, 1, 100);
    itm(f, 12, 1, 1, 100);
    ord(f, at(-10, 15));
    itm(f, 10, 1, 1, 100);
    ord(f, at(-7, 9));
    itm(f, 14, 1, 1, 100);
    ord(f, at(-7, 9));
    itm(f, 14, 1, 1, 100);
    ord(f, at(-7, 10));
    itm(f, 14, 1, 1, 100);
    ord(f, at(-5, 8));
    itm(f, 11, 1, 1, 100);
    ord_full(f, at(-5, 9), COMMERCE_ORDER_CANCELLED, false);
    itm(f, 10, 1, 1, 100);
    ord(f, at(-5, 20));
    itm(f, 11, 1, 1, 100);
    ord(f, at(1, 10));
    itm(f, 10, 1, 1, 100);
    itm(f, 12, 1, 1, 100);
    run(f);
    const struct intel_replenishment *r = f->p.replenishment;
    assert_int_equal(f->p.n_replenishment, 3);

    assert_int_equal(r[0].product_id, 10);
    assert_int_equal(r[0].purchases, 4);
    assert_int_equal(r[0].cycle_days, 10);
    near(r[0].gap_cv, 0, "p10 cv");
    assert_true(r[0].is_recurring);
    near(r[0].confidence_score, 75, "p10 confidence");
    assert_int_equal(r[0].last_purchased_at_ms, at(-10, 15));
    assert_int_equal(r[0].previous_purchased_at_ms, at(-20, 10));
    assert_int_equal(r[0].current_cycle_start_ms, at(0, 0));
    assert_int_equal(r[0].current_cycle_end_ms, at(9, 0));
    assert_false(r[0].purchased_in_current_cycle);
    assert_int_equal(r[0].next_expected_purchase_at_ms, at(0, 15));

    assert_int_equal(r[1].product_id, 11);
    assert_int_equal(r[1].purchases, 4);
    assert_int_equal(r[1].cycle_days, 10);
    near(r[1].gap_cv, 0.7200822998, "p11 cv");
    assert_false(r[1].is_recurring);
    near(r[1].confidence_score, 20.9938275133, "p11 confidence");
    assert_int_equal(r[1].last_purchased_at_ms, at(-5, 20));
    assert_int_equal(r[1].previous_purchased_at_ms, at(-35, 10));
    assert_int_equal(r[1].current_cycle_start_ms, at(-5, 0));
    assert_int_equal(r[1].current_cycle_end_ms, at(4, 0));
    assert_true(r[1].purchased_in_current_cycle);
    assert_int_equal(r[1].next_expected_purchase_at_ms, at(5, 20));

    assert_int_equal(r[2].product_id, 13);
    assert_int_equal(r[2].purchases, 5);
    assert_int_equal(r[2].cycle_days, 16);
    near(r[2].gap_cv, 0.6159612683, "p13 cv");
    assert_false(r[2].is_recurring);
    near(r[2].confidence_score, 38.4038731718, "p13 confidence");
    assert_int_equal(r[2].last_purchased_at_ms, at(-35, 10));
    assert_int_equal(r[2].previous_purchased_at_ms, at(-39, 10));
    assert_int_equal(r[2].current_cycle_start_ms, at(-3, 0));
    assert_int_equal(r[2].current_cycle_end_ms, at(12, 0));
    assert_false(r[2].purchased_in_current_cycle);
    assert_int_equal(r[2].next_expected_purchase_at_ms, at(-19, 10));

    /* a tenant that wants 5 purchase days keeps p13 only; cv 0.7 makes p13 recurring */
    f->cfg.replenish_min_purchases = 5;
    f->cfg.replenish_recurring_max_cv = 0.7;
    run(f);
    assert_int_equal(f->p.n_replenishment, 1);
    assert_int_equal(f->p.replenishment[0].product_id, 13);
    assert_true(f->p.replenishment[0].is_recurring);
}

/* Bought twice (the minimum is three days), and bought three times on one day: no row. */
static void test_replenishment_below_minimum(void **state)
{
    struct fx *f = *state;
    ord(f, at(-20, 10));
    itm(f, 1, 1, 1, 100);
    itm(f, 2, 1, 1, 100);
    ord(f, at(-10, 10));
    itm(f, 1, 1, 1, 100);
    itm(f, 2, 1, 1, 100);
    ord(f, at(-10, 11));
    itm(f, 2, 1, 1, 100);
    run(f);
    assert_int_equal(f->p.n_replenishment, 0);
    assert_null(f->p.replenishment);
}

/*
 * The last 90 days (from −90 d 12:00):
 *   O1 −100 d: p1, p2 (before the window, but makes p1 a repeat later)
 *   O2 −60 d: p1 ×2 (repeat), p3 ×1 (new)
 *   O3 −30 d: p1 ×1 and p1 ×3 (one purchase, repeat), p4 ×1 (new)
 *   O4 −10 d: p3 ×1 (repeat), p5 ×2 (new)
 *   cancelled −5 d: p6 ×9; after as_of: p7: ignored
 * L = 6, unique 4 (p1 p3 p4 p5), items 11, repeats 3: variety 66.67, repeat 50: BALANCED.
 */
static void test_variety(void **state)
{
    struct fx *f = *state;
    ord(f, at(-100, 10));
    itm(f, 1, 1, 1, 100);
    itm(f, 2, 1, 1, 100);
    ord(f, at(-60, 10));
    itm(f, 1, 1, 2, 100);
    itm(f, 3, 1, 1, 100);
    ord(f, at(-30, 10));
    itm(f, 1, 1, 1, 100);
    itm(f, 1, 1, 3, 100);
    itm(f, 4, 1, 1, 100);
    ord(f, at(-10, 10));
    itm(f, 3, 1, 1, 100);
    itm(f, 5, 1, 2, 100);
    ord_full(f, at(-5, 10), COMMERCE_ORDER_CANCELLED, false);
    itm(f, 6, 1, 9, 100);
    ord(f, at(2, 10));
    itm(f, 7, 1, 1, 100);
    run(f);
    const struct intel_variety_profile *v = &f->p.variety;
    assert_int_equal(v->purchases_last_90, 6);
    assert_int_equal(v->unique_sku_last_90, 4);
    assert_int_equal(v->total_items_last_90, 11);
    assert_int_equal(v->repeats_last_90, 3);
    near(v->variety_index, 200.0 / 3, "variety");
    near(v->repeat_ratio, 50, "repeat");
    assert_string_equal(v->explorer_type, "BALANCED");
}

/* One order today per group of products; the same product in several orders is a repeat. */
static void explorer_case(struct fx *f, const int64_t *products, size_t n, const char *want,
                          double variety, double repeat)
{
    intel_profile_history_reset(&f->h);
    for (size_t i = 0; i < n; i++) {
        ord(f, AS_OF - (int64_t)(n - i) * DAY);
        itm(f, products[i], 1, 1, 100);
    }
    run(f);
    near(f->p.variety.variety_index, variety, want);
    near(f->p.variety.repeat_ratio, repeat, want);
    assert_string_equal(f->p.variety.explorer_type, want);
}

static void test_explorer_types(void **state)
{
    struct fx *f = *state;
    static const int64_t explorer[] = {1, 2, 3};    /* 100 / 0 */
    static const int64_t repeater[] = {1, 1, 1, 1}; /* 25 / 75 */
    static const int64_t at_60[] = {1, 1, 1, 1, 2}; /* 40 / 60: REPEAT_BUYER from 60 */
    static const int64_t edge[] = {1, 1, 1, 2, 3};  /* 60 / 40: EXPLORER at both limits */
    static const int64_t balanced[] = {1, 1, 2, 2}; /* 50 / 50 */
    static const int64_t too_few[] = {1, 2};        /* 100 / 0, below the gate of 3 */
    explorer_case(f, explorer, 3, "EXPLORER", 100, 0);
    explorer_case(f, repeater, 4, "REPEAT_BUYER", 25, 75);
    explorer_case(f, at_60, 5, "REPEAT_BUYER", 40, 60);
    explorer_case(f, edge, 5, "EXPLORER", 60, 40);
    explorer_case(f, balanced, 4, "BALANCED", 50, 50);
    explorer_case(f, too_few, 2, "BALANCED", 100, 0);
    static const int64_t mixed[] = {1, 1, 2, 3, 4, 5, 1}; /* 5/7 = 71.4, 2/7 = 28.6 */
    explorer_case(f, mixed, 7, "EXPLORER", 500.0 / 7, 200.0 / 7);
    f->cfg.explorer_min_variety = 80; /* a stricter tenant */
    explorer_case(f, mixed, 7, "BALANCED", 500.0 / 7, 200.0 / 7);
}

/*
 * Orders at the same instant: neither is "strictly earlier", so buying p1 in both is two
 * purchases and no repeat; they are one purchase day for replenishment; and either may come first.
 */
static void test_same_instant(void **state)
{
    struct fx *f = *state;
    ord(f, at(-1, 9));
    itm(f, 1, 3, 1, 700);
    ord_full(f, at(-1, 9), COMMERCE_ORDER_PAID, true);
    itm(f, 1, 3, 1, 700);
    ord(f, at(-1, 10));
    itm(f, 2, 3, 1, 700);
    run(f);
    const struct intel_variety_profile *v = &f->p.variety;
    assert_int_equal(v->purchases_last_90, 3);
    assert_int_equal(v->unique_sku_last_90, 2);
    assert_int_equal(v->repeats_last_90, 0);
    assert_string_equal(v->explorer_type, "EXPLORER");
    assert_int_equal(f->p.categories[0].orders_count, 3);
    assert_int_equal(f->p.loyalty.lifetime_orders, 3);
    assert_int_equal(f->p.loyalty.days_since_last_order, 1); /* 26 hours */
}

static void expect_invalid(struct fx *f, int64_t as_of, const char *field)
{
    struct err e;
    err_init(&e);
    memset(&f->p, 0xff, sizeof(f->p));
    int rc = intel_profiles_compute(&f->h, as_of, &f->cfg, &f->a, &f->p, &e);
    assert_int_equal(rc, ERR_INVALID);
    assert_int_equal(e.code, ERR_INVALID);
    if (strcmp(e.field, field) != 0)
        fail_msg("field %s, want %s (%s)", e.field, field, e.msg);
    assert_int_equal(f->p.counted_orders, 0); /* zeroed */
    assert_null(f->p.categories);
}

static void test_refused(void **state)
{
    struct fx *f = *state;
    ord(f, at(-2, 0));
    itm(f, 1, 1, 1, 100);
    ord(f, at(-3, 0)); /* older than the one before */
    expect_invalid(f, AS_OF, "orders[1]");

    intel_profile_history_reset(&f->h);
    ord(f, at(-2, 0));
    itm(f, 1, 1, 1, 100);
    f->h.items[0].quantity = 0;
    expect_invalid(f, AS_OF, "items[0]");
    f->h.items[0].quantity = 1;
    f->h.items[0].unit_price = -1;
    expect_invalid(f, AS_OF, "items[0]");
    f->h.items[0].unit_price = INT64_MAX / 2;
    f->h.items[0].quantity = 3; /* spend beyond int64 */
    expect_invalid(f, AS_OF, "items[0]");
    f->h.items[0].quantity = 1;
    f->h.items[0].unit_price = 100;
    f->h.items[0].product_id = 0;
    expect_invalid(f, AS_OF, "items[0]");
    f->h.items[0].product_id = 1;
    f->h.orders[0].n_items = 2; /* more than there are */
    expect_invalid(f, AS_OF, "orders[0]");
    f->h.orders[0].n_items = 0; /* fewer */
    expect_invalid(f, AS_OF, "items");
    f->h.orders[0].n_items = 1;
    f->h.orders[0].total = -5;
    expect_invalid(f, AS_OF, "orders[0]");
    f->h.orders[0].total = 100;
    expect_invalid(f, -1, "as_of");

    f->cfg.replenish_min_purchases = 2;
    expect_invalid(f, AS_OF, "replenishment");
    intel_profile_config_default(&f->cfg, 2);
    f->cfg.budget_high_above = f->cfg.budget_mid_above - 1;
    expect_invalid(f, AS_OF, "budget");
    intel_profile_config_default(&f->cfg, 2);
    f->cfg.affinity_half_life_days = 0;
    expect_invalid(f, AS_OF, "affinity_half_life_days");
    intel_profile_config_default(&f->cfg, 2);
    f->cfg.explorer_max_repeat = NAN;
    expect_invalid(f, AS_OF, "variety");
    intel_profile_config_default(&f->cfg, 2);
    run(f);
    assert_int_equal(f->p.counted_orders, 1);
}

/* The seed's figures are major units: scaled by the currency's decimals. */
static void test_config_defaults(void **state)
{
    (void)state;
    struct intel_profile_config c;
    struct err e;
    err_init(&e);
    intel_profile_config_default(&c, 2);
    assert_int_equal(c.budget_mid_above, 50000);
    assert_int_equal(c.budget_high_above, 100000);
    assert_int_equal(c.budget_premium_above, 200000);
    assert_int_equal(c.loyalty[INTEL_LOYALTY_PLATINUM].min_spent, 1000000);
    assert_int_equal(c.loyalty_spend_per_point, 10000);
    assert_int_equal(intel_profile_config_check(&c, &e), 0);
    intel_profile_config_default(&c, 0); /* JPY */
    assert_int_equal(c.budget_mid_above, 500);
    assert_int_equal(c.loyalty[INTEL_LOYALTY_GOLD].min_spent, 5000);
    assert_int_equal(c.loyalty_spend_per_point, 100);
    assert_int_equal(intel_profile_config_check(&c, &e), 0);
    assert_string_equal(intel_budget_tier_names[INTEL_BUDGET_PREMIUM], "PREMIUM");
    assert_string_equal(intel_loyalty_tier_names[INTEL_LOYALTY_BRONZE], "BRONZE");
    assert_string_equal(intel_explorer_type_names[INTEL_EXPLORER_REPEAT_BUYER], "REPEAT_BUYER");
}

/* A batch reuses one history: the second customer sees nothing of the first. */
static void test_history_reuse(void **state)
{
    struct fx *f = *state;
    for (int d = -60; d <= -20; d += 10) {
        ord(f, at(d, 10));
        itm(f, 1, 1, 1, 50000);
    }
    run(f);
    assert_int_equal(f->p.loyalty.lifetime_orders, 5);
    assert_int_equal(f->p.n_replenishment, 1);
    intel_profile_history_reset(&f->h);
    assert_int_equal(f->h.n_orders, 0);
    assert_int_equal(f->h.n_items, 0);
    ord(f, at(-1, 10));
    itm(f, 2, 2, 1, 100);
    run(f);
    assert_int_equal(f->p.loyalty.lifetime_orders, 1);
    assert_int_equal(f->p.n_replenishment, 0);
    assert_int_equal(f->p.n_categories, 1);
    assert_int_equal(f->p.categories[0].category_id, 2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_no_orders),
        T(test_only_uncounted_orders),
        T(test_fulfilled_orders_count),
        T(test_one_order),
        T(test_budget_windows),
        T(test_budget_tiers_and_rounding),
        T(test_price_sensitivity),
        T(test_loyalty_tiers),
        T(test_affinity),
        T(test_affinity_ties),
        T(test_replenishment),
        T(test_replenishment_below_minimum),
        T(test_variety),
        T(test_explorer_types),
        T(test_same_instant),
        T(test_refused),
        T(test_config_defaults),
        T(test_history_reuse),
    };
    return cmocka_run_group_tests_name("intel_profiles", tests, NULL, NULL);
}
