/* SPDX-License-Identifier: MIT */
/*
 * Customer profiles (see profiles.h): one pass over the counted orders for budget, loyalty and
 * price sensitivity, which also lays their items out as records; the records sorted by category
 * give the affinities, sorted by product the replenishment cycles and the variety. Pure: memory
 * only from the caller's arena. Tests: tests/unit/domain/test_intel_profiles.c.
 */
#include "domain/intel/profiles.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY INTEL_DAY_MS

const char *const intel_budget_tier_names[] = {"LOW", "MID", "HIGH", "PREMIUM", NULL};
const char *const intel_loyalty_tier_names[] = {"NEW",  "BRONZE",   "SILVER",
                                                "GOLD", "PLATINUM", NULL};
const char *const intel_explorer_type_names[] = {"BALANCED", "EXPLORER", "REPEAT_BUYER", NULL};

/* ---- History ----------------------------------------------------------------------------- */

void intel_profile_history_init(struct intel_profile_history *h)
{
    memset(h, 0, sizeof(*h));
}

void intel_profile_history_reset(struct intel_profile_history *h)
{
    h->n_orders = 0;
    h->n_items = 0;
}

void intel_profile_history_add_order(struct intel_profile_history *h, struct arena *a,
                                     const struct intel_profile_order *o)
{
    h->orders = arena_grow(a, h->orders, h->n_orders, &h->cap_orders, sizeof(*h->orders));
    h->orders[h->n_orders] = *o;
    h->orders[h->n_orders].n_items = 0;
    h->n_orders++;
}

void intel_profile_history_add_item(struct intel_profile_history *h, struct arena *a,
                                    const struct intel_profile_item *it)
{
    assert(h->n_orders > 0);
    h->items = arena_grow(a, h->items, h->n_items, &h->cap_items, sizeof(*h->items));
    h->items[h->n_items++] = *it;
    h->orders[h->n_orders - 1].n_items++;
}

/* ---- Configuration ----------------------------------------------------------------------- */

void intel_profile_config_default(struct intel_profile_config *c, int exponent)
{
    int64_t major = 1; /* minor units in one major unit */
    for (int i = 0; i < exponent; i++)
        major *= 10;
    *c = (struct intel_profile_config){
        .budget_mid_above = 500 * major,
        .budget_high_above = 1000 * major,
        .budget_premium_above = 2000 * major,
        .loyalty =
            {
                [INTEL_LOYALTY_NEW] = {0, 0, 1.0},
                [INTEL_LOYALTY_BRONZE] = {2, 0, 1.1},
                [INTEL_LOYALTY_SILVER] = {5, 2000 * major, 1.2},
                [INTEL_LOYALTY_GOLD] = {10, 5000 * major, 1.5},
                [INTEL_LOYALTY_PLATINUM] = {20, 10000 * major, 2.0},
            },
        .loyalty_points_per_order = 5,
        .loyalty_spend_per_point = 100 * major,
        .affinity_half_life_days = 90,
        .replenish_min_purchases = 3,
        .replenish_full_support_gaps = 4,
        .replenish_recurring_max_cv = 0.5,
        .variety_min_purchases = 3,
        .explorer_min_variety = 60,
        .explorer_max_repeat = 40,
        .repeat_buyer_min_repeat = 60,
    };
}

static bool in_range(double v, double lo, double hi)
{
    return isfinite(v) && v >= lo && v <= hi;
}

int intel_profile_config_check(const struct intel_profile_config *c, struct err *e)
{
    if (c->budget_mid_above < 0 || c->budget_high_above < c->budget_mid_above ||
        c->budget_premium_above < c->budget_high_above || c->budget_premium_above > INT64_MAX / 3)
        return err_set_field(e, ERR_INVALID, "budget", "budget thresholds must ascend from 0");
    for (int t = 0; t < INTEL_LOYALTY_TIERS; t++) {
        const struct intel_loyalty_rule *r = &c->loyalty[t];
        if (r->min_orders < 0 || r->min_spent < 0 || !in_range(r->reward_multiplier, 0, 100))
            return err_set_field(e, ERR_INVALID, "loyalty",
                                 "loyalty tier %s: minimums must be >= 0 and the multiplier 0..100",
                                 intel_loyalty_tier_names[t]);
    }
    if (!in_range(c->loyalty_points_per_order, 0, 100) || c->loyalty_spend_per_point <= 0)
        return err_set_field(e, ERR_INVALID, "loyalty_score",
                             "loyalty points per order must be 0..100 and spend per point > 0");
    if (!in_range(c->affinity_half_life_days, 1e-3, 1e6))
        return err_set_field(e, ERR_INVALID, "affinity_half_life_days",
                             "the affinity half-life must be 0.001..1e6 days");
    if (c->replenish_min_purchases < 3 || c->replenish_full_support_gaps < 1 ||
        !in_range(c->replenish_recurring_max_cv, 0, 1e6))
        return err_set_field(e, ERR_INVALID, "replenishment",
                             "replenishment needs >= 3 purchases, >= 1 gap for full support and a "
                             "maximum variation >= 0");
    if (c->variety_min_purchases < 1 || !in_range(c->explorer_min_variety, 0, 100) ||
        !in_range(c->explorer_max_repeat, 0, 100) || !in_range(c->repeat_buyer_min_repeat, 0, 100))
        return err_set_field(e, ERR_INVALID, "variety",
                             "variety needs >= 1 purchase and thresholds 0..100");
    return 0;
}

/* ---- Checks ------------------------------------------------------------------------------ */

/* Year 9999 ends here: times are refused beyond, so day and window arithmetic cannot overflow. */
#define TIME_MAX_MS 253402300799999LL

static int invalid_at(struct err *e, const char *what, size_t i, const char *msg)
{
    char field[64];
    snprintf(field, sizeof(field), "%s[%zu]", what, i);
    return err_set_field(e, ERR_INVALID, field, "%s %s", field, msg);
}

/*
 * Every order and item, counted or not, is checked, and the sums over all of them must fit: then
 * no partial sum below can overflow.
 */
static int check_history(const struct intel_profile_history *h, struct err *e)
{
    int64_t totals = 0, spend = 0, quantity = 0;
    size_t items = 0;
    for (size_t i = 0; i < h->n_orders; i++) {
        const struct intel_profile_order *o = &h->orders[i];
        if (o->created_at_ms < 0 || o->created_at_ms > TIME_MAX_MS)
            return invalid_at(e, "orders", i, "was created outside years 1970..9999");
        if (i > 0 && o->created_at_ms < h->orders[i - 1].created_at_ms)
            return invalid_at(e, "orders", i, "is older than the order before it");
        if ((unsigned)o->status > COMMERCE_ORDER_PARTIALLY_REFUNDED)
            return invalid_at(e, "orders", i, "has an unknown status");
        if (o->total < 0 || __builtin_add_overflow(totals, o->total, &totals))
            return invalid_at(e, "orders", i, "has a negative total or totals beyond int64");
        if (o->n_items > h->n_items - items)
            return invalid_at(e, "orders", i, "has more items than the history holds");
        items += o->n_items;
    }
    if (items != h->n_items)
        return err_set_field(e, ERR_INVALID, "items", "%zu items given, the orders have %zu",
                             h->n_items, items);
    for (size_t i = 0; i < h->n_items; i++) {
        const struct intel_profile_item *it = &h->items[i];
        int64_t line;
        if (it->product_id <= 0 || it->category_id < 0)
            return invalid_at(e, "items", i, "has a product id <= 0 or a negative category id");
        if (it->quantity <= 0 || it->unit_price < 0 || it->list_price < 0)
            return invalid_at(e, "items", i, "has a quantity <= 0 or a negative price");
        if (__builtin_mul_overflow(it->quantity, it->unit_price, &line) ||
            __builtin_add_overflow(spend, line, &spend) ||
            __builtin_add_overflow(quantity, it->quantity, &quantity))
            return invalid_at(e, "items", i, "takes spend or quantity beyond int64");
    }
    return 0;
}

/* ---- Rules ------------------------------------------------------------------------------- */

/* round(a / b), half up, for a ≥ 0, b > 0 */
static int64_t round_div(int64_t a, int64_t b)
{
    int64_t r = a % b;
    return a / b + (r >= b - r);
}

static double share(int64_t part, int64_t whole)
{
    return whole > 0 ? (double)part / (double)whole : 0.0;
}

/* One item of a counted order. */
struct rec {
    int64_t product, category, at, day, spend, quantity;
    size_t order; /* index in the history */
};

static int cmp_i64(int64_t x, int64_t y)
{
    return (x > y) - (x < y);
}

static int by_category(const void *pa, const void *pb)
{
    const struct rec *a = pa, *b = pb;
    int c = cmp_i64(a->category, b->category);
    return c ? c : (a->order > b->order) - (a->order < b->order);
}

static int by_product(const void *pa, const void *pb)
{
    const struct rec *a = pa, *b = pb;
    int c = cmp_i64(a->product, b->product);
    if (!c)
        c = cmp_i64(a->at, b->at);
    return c ? c : (a->order > b->order) - (a->order < b->order);
}

static int by_affinity(const void *pa, const void *pb)
{
    const struct intel_category_affinity *a = pa, *b = pb;
    if (a->affinity_score != b->affinity_score)
        return a->affinity_score > b->affinity_score ? -1 : 1;
    if (a->spend_total != b->spend_total)
        return a->spend_total > b->spend_total ? -1 : 1;
    return cmp_i64(a->category_id, b->category_id);
}

static int by_value(const void *pa, const void *pb)
{
    return cmp_i64(*(const int64_t *)pa, *(const int64_t *)pb);
}

static bool is_discounted(const struct intel_profile_item *it)
{
    return it->discounted || (it->list_price > 0 && it->list_price > it->unit_price);
}

static void budget_and_loyalty(struct intel_profiles *out, const struct intel_profile_config *cfg,
                               int64_t items_spend, int64_t discounted_spend,
                               int64_t campaign_spend, int64_t promo_orders)
{
    struct intel_budget_profile *b = &out->budget;
    b->avg_order_value = b->orders_last_90 ? round_div(b->spend_last_90, b->orders_last_90) : 0;
    b->predicted_monthly_budget = round_div(b->spend_last_90, 3);
    /* spend/3 > T exactly, without rounding the prediction first */
    if (b->spend_last_90 > 3 * cfg->budget_premium_above)
        b->tier = INTEL_BUDGET_PREMIUM;
    else if (b->spend_last_90 > 3 * cfg->budget_high_above)
        b->tier = INTEL_BUDGET_HIGH;
    else if (b->spend_last_90 > 3 * cfg->budget_mid_above)
        b->tier = INTEL_BUDGET_MID;
    else
        b->tier = INTEL_BUDGET_LOW;
    b->budget_tier = intel_budget_tier_names[b->tier];

    struct intel_loyalty_profile *l = &out->loyalty;
    b->price_sensitivity_score = 50;
    if (out->counted_orders > 0 && (items_spend > 0 || l->lifetime_spent > 0)) {
        b->has_price_sensitivity = true;
        b->discounted_share = share(discounted_spend, items_spend);
        b->campaign_share = share(campaign_spend, l->lifetime_spent);
        b->promo_order_share = share(promo_orders, out->counted_orders);
        b->price_sensitivity_score = 100.0 * (0.4 * b->discounted_share + 0.3 * b->campaign_share +
                                              0.3 * b->promo_order_share);
    }

    l->tier = INTEL_LOYALTY_NEW;
    for (int t = INTEL_LOYALTY_PLATINUM; t > INTEL_LOYALTY_NEW; t--)
        if (l->lifetime_orders >= cfg->loyalty[t].min_orders &&
            l->lifetime_spent >= cfg->loyalty[t].min_spent) {
            l->tier = (enum intel_loyalty_tier)t;
            break;
        }
    l->loyalty_tier = intel_loyalty_tier_names[l->tier];
    l->reward_multiplier = cfg->loyalty[l->tier].reward_multiplier;
    l->loyalty_score =
        fmin(100.0, cfg->loyalty_points_per_order * (double)l->lifetime_orders +
                        (double)l->lifetime_spent / (double)cfg->loyalty_spend_per_point);
    if (l->has_last_order)
        l->days_since_last_order = (out->as_of_ms - l->last_order_at_ms) / DAY;
}

/* recs sorted by category, then order */
static void affinities(struct intel_profiles *out, const struct intel_profile_config *cfg,
                       struct rec *recs, size_t n, struct arena *a)
{
    qsort(recs, n, sizeof(*recs), by_category);
    size_t groups = 0;
    for (size_t i = 0; i < n; i++)
        groups += recs[i].category > 0 && (i == 0 || recs[i].category != recs[i - 1].category);
    if (!groups)
        return;
    struct intel_category_affinity *cat = arena_alloc(a, groups * sizeof(*cat));
    double *weighted = arena_alloc(a, groups * sizeof(*weighted));
    double half_life_ms = cfg->affinity_half_life_days * (double)DAY, all = 0;
    size_t g = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        if (recs[i].category <= 0) {
            while (j < n && recs[j].category == recs[i].category)
                j++;
            i = j;
            continue;
        }
        struct intel_category_affinity *c = &cat[g];
        c->category_id = recs[i].category;
        for (; j < n && recs[j].category == recs[i].category; j++) {
            const struct rec *r = &recs[j];
            c->orders_count += j == i || r->order != recs[j - 1].order;
            c->spend_total += r->spend;
            if (r->at > c->last_purchased_at_ms)
                c->last_purchased_at_ms = r->at;
            weighted[g] += exp2(-(double)(out->as_of_ms - r->at) / half_life_ms) * (double)r->spend;
        }
        all += weighted[g];
        g++;
        i = j;
    }
    for (g = 0; g < groups; g++)
        cat[g].affinity_score = all > 0 ? 100.0 * weighted[g] / all : 0.0;
    qsort(cat, groups, sizeof(*cat), by_affinity);
    out->categories = cat;
    out->n_categories = groups;
}

/* One product's distinct purchase days (n ≥ min) into a replenishment row. */
static void cycle(struct intel_replenishment *r, const struct intel_profile_config *cfg,
                  const int64_t *days, size_t n, int64_t as_of_ms, int64_t *gaps)
{
    size_t k = n - 1;
    double sum = 0, sq = 0;
    for (size_t i = 0; i < k; i++) {
        gaps[i] = days[i + 1] - days[i];
        sum += (double)gaps[i];
    }
    double mean = sum / (double)k;
    for (size_t i = 0; i < k; i++)
        sq += ((double)gaps[i] - mean) * ((double)gaps[i] - mean);
    qsort(gaps, k, sizeof(*gaps), by_value);
    r->purchases = (int64_t)n;
    r->cycle_days = k % 2 ? gaps[k / 2] : round_div(gaps[k / 2 - 1] + gaps[k / 2], 2);
    r->gap_cv = sqrt(sq / (double)k) / mean;
    r->is_recurring = r->gap_cv <= cfg->replenish_recurring_max_cv;
    r->confidence_score = 100.0 * fmax(0.0, 1.0 - r->gap_cv) *
                          fmin(1.0, (double)k / (double)cfg->replenish_full_support_gaps);
    int64_t last_day = days[n - 1], C = r->cycle_days;
    int64_t cycles = (as_of_ms / DAY - last_day) / C;
    r->current_cycle_start_ms = (last_day + cycles * C) * DAY;
    r->current_cycle_end_ms = (last_day + (cycles + 1) * C - 1) * DAY;
    r->purchased_in_current_cycle = cycles == 0;
    r->next_expected_purchase_at_ms = r->last_purchased_at_ms + C * DAY;
}

/* recs sorted by product, then time, then order */
static void products(struct intel_profiles *out, const struct intel_profile_config *cfg,
                     struct rec *recs, size_t n, struct arena *a)
{
    qsort(recs, n, sizeof(*recs), by_product);
    int64_t window = out->as_of_ms - 90 * DAY;
    size_t min = (size_t)cfg->replenish_min_purchases;
    assert(min >= 3); /* intel_profile_config_check */
    struct intel_replenishment *rep = NULL;
    int64_t *days = NULL, *last_on_day = NULL, *gaps = NULL;
    if (n >= min) {
        rep = arena_alloc(a, (n / min) * sizeof(*rep));
        days = arena_alloc(a, n * sizeof(*days));
        last_on_day = arena_alloc(a, n * sizeof(*last_on_day));
        gaps = arena_alloc(a, n * sizeof(*gaps));
    }
    struct intel_variety_profile *v = &out->variety;
    for (size_t i = 0; i < n;) {
        size_t j = i, nd = 0;
        bool in_window = false;
        for (; j < n && recs[j].product == recs[i].product; j++) {
            const struct rec *r = &recs[j];
            bool new_purchase = j == i || r->order != recs[j - 1].order;
            if (r->at >= window) {
                in_window = true;
                v->total_items_last_90 += r->quantity;
                v->purchases_last_90 += new_purchase;
                v->repeats_last_90 += new_purchase && r->at > recs[i].at;
            }
            if (!days)
                continue;
            if (nd == 0 || r->day != days[nd - 1])
                days[nd++] = r->day;
            last_on_day[nd - 1] = r->at; /* sorted by time: the latest wins */
        }
        v->unique_sku_last_90 += in_window;
        if (days && nd >= min) {
            struct intel_replenishment *r = &rep[out->n_replenishment++];
            r->product_id = recs[i].product;
            r->last_purchased_at_ms = last_on_day[nd - 1];
            r->previous_purchased_at_ms = last_on_day[nd - 2];
            cycle(r, cfg, days, nd, out->as_of_ms, gaps);
        }
        i = j;
    }
    out->replenishment = out->n_replenishment ? rep : NULL;

    int64_t L = v->purchases_last_90;
    v->variety_index = L ? 100.0 * (double)v->unique_sku_last_90 / (double)L : 0.0;
    v->repeat_ratio = L ? 100.0 * (double)v->repeats_last_90 / (double)L : 0.0;
    v->type = INTEL_EXPLORER_BALANCED; /* the seed's default, and below the gate */
    if (L >= cfg->variety_min_purchases) {
        if (v->repeat_ratio >= cfg->repeat_buyer_min_repeat)
            v->type = INTEL_EXPLORER_REPEAT_BUYER;
        else if (v->variety_index >= cfg->explorer_min_variety &&
                 v->repeat_ratio <= cfg->explorer_max_repeat)
            v->type = INTEL_EXPLORER_EXPLORER;
    }
    v->explorer_type = intel_explorer_type_names[v->type];
}

int intel_profiles_compute(const struct intel_profile_history *h, int64_t as_of_ms,
                           const struct intel_profile_config *cfg, struct arena *a,
                           struct intel_profiles *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (as_of_ms < 0 || as_of_ms > TIME_MAX_MS)
        return err_set_field(e, ERR_INVALID, "as_of", "as_of is outside years 1970..9999");
    int rc = intel_profile_config_check(cfg, e);
    if (rc)
        return rc;
    rc = check_history(h, e);
    if (rc)
        return rc;
    out->as_of_ms = as_of_ms;

    struct rec *recs = arena_alloc(a, (h->n_items ? h->n_items : 1) * sizeof(*recs));
    size_t n = 0, next_item = 0;
    int64_t items_spend = 0, discounted_spend = 0, campaign_spend = 0, promo_orders = 0;
    struct intel_budget_profile *b = &out->budget;
    struct intel_loyalty_profile *l = &out->loyalty;
    for (size_t i = 0; i < h->n_orders; i++) {
        const struct intel_profile_order *o = &h->orders[i];
        const struct intel_profile_item *items = &h->items[next_item];
        next_item += o->n_items;
        if (!commerce_order_status_counts(o->status) || o->created_at_ms > as_of_ms)
            continue;
        out->counted_orders++;
        l->lifetime_orders++;
        l->lifetime_spent += o->total;
        l->has_last_order = true;
        l->last_order_at_ms = o->created_at_ms; /* oldest first: the last one seen is the latest */
        if (o->created_at_ms >= as_of_ms - 90 * DAY) {
            b->spend_last_90 += o->total;
            b->orders_last_90++;
        }
        if (o->created_at_ms >= as_of_ms - 30 * DAY)
            b->spend_last_30 += o->total;
        if (o->campaign)
            campaign_spend += o->total;
        bool promo = o->campaign;
        for (size_t k = 0; k < o->n_items; k++) {
            const struct intel_profile_item *it = &items[k];
            int64_t spend = it->quantity * it->unit_price;
            items_spend += spend;
            if (is_discounted(it)) {
                discounted_spend += spend;
                promo = true;
            }
            recs[n++] = (struct rec){.product = it->product_id,
                                     .category = it->category_id,
                                     .at = o->created_at_ms,
                                     .day = o->created_at_ms / DAY,
                                     .spend = spend,
                                     .quantity = it->quantity,
                                     .order = i};
        }
        promo_orders += promo;
    }
    budget_and_loyalty(out, cfg, items_spend, discounted_spend, campaign_spend, promo_orders);
    affinities(out, cfg, recs, n, a);
    products(out, cfg, recs, n, a);
    return 0;
}
