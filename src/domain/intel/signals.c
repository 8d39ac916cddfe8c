/* SPDX-License-Identifier: MIT */
/* The seed's CustomerSignals (see signals.h). */
#include "domain/intel/signals.h"
#include "core/clock.h"
#include "core/money.h"
#include "db/store.h"
#include "domain/commerce/commerce_store.h"
#include "domain/intel/profile_store.h"

#include <math.h>
#include <string.h>
#include <time.h>

#define DAY_MS 86400000LL

/* minor units of `currency` in major units (2 decimals when the currency is unknown) */
static double major(int64_t minor, const char *currency)
{
    const struct money_currency *cur = NULL;
    struct err e;
    err_init(&e);
    int exponent =
        currency && currency[0] && !money_currency_find(currency, &cur, &e) ? cur->exponent : 2;
    return (double)minor / pow(10, exponent);
}

static int city_name(struct db_conn *c, int64_t tenant, int64_t city_pk, struct arena *a,
                     const char **out, struct err *e)
{
    *out = NULL;
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "SELECT name FROM city WHERE tenant_id = ? AND city_id = ?", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, city_pk);
    int st = db_step(s, e);
    if (st == DB_ROW)
        *out = db_col_dup(s, 0, a);
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

static int product_name(struct db_conn *c, int64_t tenant, int64_t product_pk, struct arena *a,
                        const char **out, struct err *e)
{
    *out = NULL;
    struct db_stmt *s;
    int rc =
        db_prepare(c, &s, "SELECT name FROM product WHERE tenant_id = ? AND product_id = ?", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, product_pk);
    int st = db_step(s, e);
    if (st == DB_ROW)
        *out = db_col_dup(s, 0, a);
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

static void defaults(struct intel_signals *out)
{
    out->currency = "";
    out->budget_tier = "UNKNOWN";
    out->price_sensitivity_score = 50;
    out->loyalty_tier = "NEW";
    out->reward_multiplier = 1.0;
    out->explorer_type = "BALANCED";
    out->variety_index = 50;
    out->repeat_ratio = 50;
    out->season_tag = "UNKNOWN";
}

static void from_profiles(const struct profile_view *v, const char *cur, int64_t now_ms,
                          struct arena *a, struct intel_signals *out)
{
    out->has_profiles = true;
    out->budget_tier = v->budget.budget_tier;
    out->predicted_monthly_budget = major(v->budget.predicted_monthly_budget, cur);
    out->avg_order_value = major(v->budget.avg_order_value, cur);
    out->price_sensitivity_score = v->budget.price_sensitivity_score;
    out->loyalty_tier = v->loyalty.loyalty_tier;
    out->loyalty_score = v->loyalty.loyalty_score;
    out->reward_multiplier = v->loyalty.reward_multiplier;
    out->lifetime_orders = v->loyalty.lifetime_orders;
    out->lifetime_spent = major(v->loyalty.lifetime_spent, cur);
    for (size_t i = 0; i < v->n_categories && out->n_top_categories < 3; i++) {
        struct intel_signal_category *t = &out->top_categories[out->n_top_categories++];
        t->category_id = v->categories[i].category_id;
        t->name = v->categories[i].name;
        t->affinity_score = v->categories[i].a.affinity_score;
        t->spend_total = major(v->categories[i].a.spend_total, cur);
    }
    out->gaps = arena_alloc(a, (v->n_replenishment + 1) * sizeof(*out->gaps));
    for (size_t i = 0; i < v->n_replenishment; i++) {
        const struct intel_replenishment *r = &v->replenishment[i].r;
        if (r->purchased_in_current_cycle || r->next_expected_purchase_at_ms >= now_ms)
            continue;
        struct intel_signal_gap *g = &out->gaps[out->n_gaps++];
        g->product_id = v->replenishment[i].product_id;
        g->name = v->replenishment[i].name;
        g->days_since_expected = (now_ms - r->next_expected_purchase_at_ms) / DAY_MS;
        g->cycle_days = r->cycle_days;
    }
    out->explorer_type = v->variety.explorer_type;
    out->variety_index = v->variety.variety_index;
    out->repeat_ratio = v->variety.repeat_ratio;
}

int intel_signals_collect(struct db_conn *c, int64_t tenant, const char *customer_id,
                          const char *cart_id, int64_t now_ms, struct arena *a,
                          struct intel_signals *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    defaults(out);
    struct commerce_customer cu;
    int rc = commerce_store_customer_get(c, tenant, customer_id, a, &cu, e);
    if (rc == ERR_NOT_FOUND)
        return err_replace(e, ERR_NOT_FOUND, "customerId", "no customer %s", customer_id);
    if (rc)
        return rc;
    out->customer_id = cu.id;

    struct profile_batch_row b = {0};
    bool found = false;
    rc = profile_store_current(c, tenant, a, &b, &found, e);
    if (!rc && found) {
        struct profile_view v = {0};
        rc = profile_store_read(c, tenant, b.id, cu.pk, a, &v, e);
        if (!rc && v.found) {
            out->as_of_ms = b.as_of_ms;
            out->currency = b.currency;
            from_profiles(&v, b.currency, now_ms, a, out);
        }
    }

    time_t secs = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    out->month = tm.tm_mon + 1;
    if (!rc && cu.city_pk > 0) {
        rc = city_name(c, tenant, cu.city_pk, a, &out->city_name, e);
        out->has_city = !rc && out->city_name;
        struct commerce_climate *months = NULL;
        size_t n = 0;
        if (!rc)
            rc = commerce_store_climate_get(c, tenant, cu.city_pk, a, &months, &n, e);
        for (size_t i = 0; !rc && i < n; i++) {
            if (months[i].month != out->month)
                continue;
            out->has_climate = true;
            out->avg_temp_c = months[i].has_avg_temp_c ? months[i].avg_temp_c : 0;
            out->rainfall_mm = months[i].has_rainfall_mm ? months[i].rainfall_mm : 0;
            if (months[i].season_tag)
                out->season_tag = months[i].season_tag;
        }
    }

    if (!rc && cart_id) {
        struct commerce_cart cart;
        rc = commerce_store_cart_get(c, tenant, cart_id, a, &cart, e);
        if (rc == ERR_NOT_FOUND || (!rc && cart.customer_pk != cu.pk))
            return err_replace(e, ERR_NOT_FOUND, "cartId", "no cart %s of customer %s", cart_id,
                               customer_id);
        if (rc)
            return rc;
        out->has_cart = true;
        out->cart_id = cart.id;
        out->cart_currency = cart.currency ? cart.currency->code : "";
        out->cart_total = major(cart.total_amount, out->cart_currency);
        out->n_cart_items = cart.n_items;
        out->cart_items = arena_alloc(a, (cart.n_items + 1) * sizeof(*out->cart_items));
        for (size_t i = 0; !rc && i < cart.n_items; i++) {
            struct intel_signal_cart_item *it = &out->cart_items[i];
            it->product_id = cart.items[i].product_id;
            it->quantity = cart.items[i].quantity;
            it->price = major(cart.items[i].unit_price, out->cart_currency);
            rc = product_name(c, tenant, cart.items[i].product_pk, a, &it->name, e);
        }
    }
    return rc;
}

/* ------------------------------------------------------------------------------------ as JSON */

static json_t *num(double v)
{
    return json_real(round(v * 1e6) / 1e6);
}

static json_t *iso_time(int64_t ms)
{
    char ts[CLOCK_ISO_LEN];
    clock_format_iso(ms, ts);
    return json_string(ts);
}

json_t *intel_signals_json(const struct intel_signals *s)
{
    json_t *cats = json_array();
    for (size_t i = 0; i < s->n_top_categories; i++) {
        const struct intel_signal_category *t = &s->top_categories[i];
        json_array_append_new(cats,
                              json_pack("{s:s, s:s, s:o, s:o}", "categoryId", t->category_id,
                                        "categoryName", t->name, "affinityScore",
                                        num(t->affinity_score), "spendTotal", num(t->spend_total)));
    }
    json_t *gaps = json_array();
    for (size_t i = 0; i < s->n_gaps; i++) {
        const struct intel_signal_gap *g = &s->gaps[i];
        json_array_append_new(gaps,
                              json_pack("{s:s, s:o, s:I, s:I}", "productId", g->product_id,
                                        "productName", g->name ? json_string(g->name) : json_null(),
                                        "daysSinceExpected", (json_int_t)g->days_since_expected,
                                        "cycleDays", (json_int_t)g->cycle_days));
    }
    json_t *city = json_null();
    if (s->has_city)
        city = json_pack("{s:s, s:i, s:o, s:o, s:s}", "name", s->city_name, "currentMonth",
                         s->month, "avgTempC", num(s->avg_temp_c), "rainfallMm",
                         num(s->rainfall_mm), "seasonTag", s->season_tag);
    json_t *o = json_pack(
        "{s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:I, s:o, s:o, s:o, s:s, s:o, s:o, s:o}",
        "customerId", s->customer_id, "budgetTier", s->budget_tier, "predictedMonthlyBudget",
        num(s->predicted_monthly_budget), "avgOrderValue", num(s->avg_order_value),
        "priceSensitivityScore", num(s->price_sensitivity_score), "loyaltyTier", s->loyalty_tier,
        "loyaltyScore", num(s->loyalty_score), "rewardMultiplier", num(s->reward_multiplier),
        "lifetimeOrders", (json_int_t)s->lifetime_orders, "lifetimeSpent", num(s->lifetime_spent),
        "topCategories", cats, "replenishmentGaps", gaps, "explorerType", s->explorer_type,
        "varietyIndex", num(s->variety_index), "repeatRatio", num(s->repeat_ratio), "city", city);
    if (s->has_cart) {
        json_t *items = json_array();
        for (size_t i = 0; i < s->n_cart_items; i++) {
            const struct intel_signal_cart_item *it = &s->cart_items[i];
            json_array_append_new(
                items,
                json_pack("{s:s, s:o, s:I, s:o}", "productId", it->product_id ? it->product_id : "",
                          "productName", it->name ? json_string(it->name) : json_null(), "quantity",
                          (json_int_t)it->quantity, "price", num(it->price)));
        }
        json_object_set_new(o, "cart",
                            json_pack("{s:s, s:I, s:o, s:s, s:o}", "cartId", s->cart_id,
                                      "itemCount", (json_int_t)s->n_cart_items, "totalAmount",
                                      num(s->cart_total), "currency", s->cart_currency, "items",
                                      items));
    }
    /* beyond the seed: which batch the figures come from, and their currency */
    json_object_set_new(o, "profilesAsOf", s->has_profiles ? iso_time(s->as_of_ms) : json_null());
    json_object_set_new(o, "currency", json_string(s->currency));
    return o;
}
