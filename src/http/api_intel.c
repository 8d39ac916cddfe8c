/* SPDX-License-Identifier: MIT */
/*
 * HTTP for customer intelligence (domain/intel): the tenant's fitted customer model, customer
 * profiles and their batches, RFM segments. Tests: tests/integration/0018-commerce.c,
 * tests/integration/0022-profiles.c.
 */
#include "core/clock.h"
#include "core/money.h"
#include "domain/commerce/commerce_store.h"
#include "domain/intel/intel_model.h"
#include "domain/intel/profile_batch.h"
#include "domain/intel/profile_store.h"
#include "domain/intel/signals.h"
#include "json/json.h"
#include "http/app.h"
#include "http/handlers.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static json_t *num(double v)
{
    return json_real(round(v * 1e6) / 1e6);
}

/* GET /api/intel/model[?as_of=YYYY-MM-DD]: BG/NBD and Gamma-Gamma in days, or why not. */
int h_intel_model(struct http_req *r, struct err *e)
{
    int64_t as_of = clock_now_ms(r->app->clock);
    const char *q = http_req_query(r, "as_of");
    if (q) {
        char iso[40];
        snprintf(iso, sizeof(iso), "%.10sT23:59:59Z", q);
        if (strlen(q) != 10 || clock_parse_iso(iso, &as_of))
            return err_set_field(e, ERR_INVALID, "as_of", "as_of is a date like 2026-12-01");
    }
    struct db_conn *c = NULL;
    struct intel_model m;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = intel_model_fit(c, r->who.tenant_id, as_of, &m, e);
    if (rc)
        return rc;
    char ts[CLOCK_ISO_LEN];
    clock_format_iso(as_of, ts);
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:i, s:i}", "as_of", ts, "time_unit", "day", "currency",
                  m.currency, "customers", m.customers, "repeat_customers", m.repeat_customers);
    if (m.fitted) {
        json_object_set_new(body, "bgnbd",
                            json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "r", num(m.bgnbd.r),
                                      "alpha", num(m.bgnbd.alpha), "a", num(m.bgnbd.a), "b",
                                      num(m.bgnbd.b), "log_likelihood", num(m.bgnbd.log_likelihood),
                                      "penalizer", num(m.bgnbd.penalizer)));
        json_object_set_new(body, "gamma_gamma",
                            json_pack("{s:o, s:o, s:o, s:o}", "p", num(m.gamma_gamma.p), "q",
                                      num(m.gamma_gamma.q), "gamma", num(m.gamma_gamma.gamma),
                                      "penalizer", num(m.gamma_gamma.penalizer)));
        json_object_set_new(body, "reason", json_null());
    } else {
        json_object_set_new(body, "bgnbd", json_null());
        json_object_set_new(body, "gamma_gamma", json_null());
        json_object_set_new(body, "reason", json_string(m.reason));
    }
    return http_reply_json(r, 200, body);
}

/* ------------------------------------------------------------------ profiles */

/* The customer's pk from its public id {id}; 404 naming customer_id otherwise. */
static int customer_pk(struct http_req *r, struct db_conn *c, int64_t *pk, struct err *e)
{
    struct commerce_customer cu;
    const char *id = http_req_param(r, "id");
    int rc = commerce_store_customer_get(c, r->who.tenant_id, id, &r->arena, &cu, e);
    if (rc == ERR_NOT_FOUND)
        return err_replace(e, ERR_NOT_FOUND, "customer_id", "no customer %s", id);
    *pk = cu.pk;
    return rc;
}

/* POST /api/profiles/calculate/{id}: 202 {"job_id", "customer_id"} */
int h_profiles_calculate(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    int64_t pk = 0, job = 0;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = customer_pk(r, c, &pk, e);
    if (!rc)
        rc =
            intel_profiles_calculate(c, r->who.tenant_id, pk, clock_now_ms(r->app->clock), &job, e);
    if (rc)
        return rc;
    return http_reply_json(
        r, 202,
        json_pack("{s:I, s:s}", "job_id", (json_int_t)job, "customer_id", http_req_param(r, "id")));
}

/* POST /api/profiles/recompute [{"as_of": "YYYY-MM-DD" | ISO time}]: 202 {"job_id", "joined"} */
int h_profiles_recompute(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"as_of", NULL};
    int64_t now = clock_now_ms(r->app->clock), as_of = now;
    const char *text = NULL;
    int rc = 0;
    if (r->json) {
        rc = json_reject_unknown(r->json, "", fields, e);
        if (!rc)
            rc = json_get_strn(r->json, "as_of", false, 40, &text, e);
    }
    if (!rc && text) {
        char iso[48];
        if (strlen(text) == 10)
            snprintf(iso, sizeof(iso), "%sT23:59:59Z", text);
        else
            snprintf(iso, sizeof(iso), "%s", text);
        if (clock_parse_iso(iso, &as_of) || as_of > now)
            rc = err_set_field(e, ERR_INVALID, "as_of",
                               "as_of is a date like 2026-12-01 or an ISO-8601 time, not in the "
                               "future");
    }
    struct db_conn *c = NULL;
    int64_t job = 0;
    bool joined = false;
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = intel_profiles_recompute(c, r->who.tenant_id, as_of, now, &job, &joined, e);
    if (rc)
        return rc;
    return http_reply_json(r, 202,
                           json_pack("{s:I, s:b, s:o}", "job_id", (json_int_t)job, "joined", joined,
                                     "as_of", http_json_time(as_of)));
}

static json_t *num_or_null(bool has, double v)
{
    return has ? num(v) : json_null();
}

static json_t *profile_json(const struct profile_view *v, const struct profile_batch_row *b,
                            const char *customer_id)
{
    const char *cur = b->currency;
    const struct intel_budget_profile *bu = &v->budget;
    json_t *budget =
        json_pack("{s:o, s:o, s:I, s:o, s:o, s:s, s:o, s:o, s:o, s:o}", "spend_last_30",
                  http_json_amount_code(bu->spend_last_30, cur), "spend_last_90",
                  http_json_amount_code(bu->spend_last_90, cur), "orders_last_90",
                  (json_int_t)bu->orders_last_90, "avg_order_value",
                  http_json_amount_code(bu->avg_order_value, cur), "predicted_monthly_budget",
                  http_json_amount_code(bu->predicted_monthly_budget, cur), "budget_tier",
                  bu->budget_tier, "price_sensitivity_score",
                  num_or_null(bu->has_price_sensitivity, bu->price_sensitivity_score),
                  "discounted_share", num(bu->discounted_share), "campaign_share",
                  num(bu->campaign_share), "promo_order_share", num(bu->promo_order_share));
    const struct intel_loyalty_profile *l = &v->loyalty;
    json_t *loyalty =
        json_pack("{s:s, s:o, s:o, s:I, s:o, s:o, s:o}", "loyalty_tier", l->loyalty_tier,
                  "loyalty_score", num(l->loyalty_score), "reward_multiplier",
                  num(l->reward_multiplier), "lifetime_orders", (json_int_t)l->lifetime_orders,
                  "lifetime_spent", http_json_amount_code(l->lifetime_spent, cur), "last_order_at",
                  l->has_last_order ? http_json_time(l->last_order_at_ms) : json_null(),
                  "days_since_last_order",
                  l->has_last_order ? json_integer(l->days_since_last_order) : json_null());
    json_t *cats = json_array();
    for (size_t i = 0; i < v->n_categories; i++) {
        const struct profile_affinity_view *a = &v->categories[i];
        json_array_append_new(
            cats, json_pack("{s:s, s:s, s:o, s:I, s:o, s:o}", "category_id", a->category_id, "name",
                            a->name, "affinity_score", num(a->a.affinity_score), "orders_count",
                            (json_int_t)a->a.orders_count, "spend_total",
                            http_json_amount_code(a->a.spend_total, cur), "last_purchased_at",
                            http_json_time(a->a.last_purchased_at_ms)));
    }
    json_t *rep = json_array();
    for (size_t i = 0; i < v->n_replenishment; i++) {
        const struct profile_replenishment_view *p = &v->replenishment[i];
        const struct intel_replenishment *x = &p->r;
        json_array_append_new(
            rep,
            json_pack("{s:s, s:o, s:I, s:I, s:b, s:o, s:o, s:o, s:o, s:b, s:o, s:o}", "product_id",
                      p->product_id, "name", p->name ? json_string(p->name) : json_null(),
                      "purchases", (json_int_t)x->purchases, "replenishment_cycle_days",
                      (json_int_t)x->cycle_days, "is_recurring", x->is_recurring,
                      "last_purchased_at", http_json_time(x->last_purchased_at_ms),
                      "previous_purchased_at", http_json_time(x->previous_purchased_at_ms),
                      "current_cycle_start", http_json_time(x->current_cycle_start_ms),
                      "current_cycle_end", http_json_time(x->current_cycle_end_ms),
                      "purchased_in_current_cycle", x->purchased_in_current_cycle,
                      "next_expected_purchase_at", http_json_time(x->next_expected_purchase_at_ms),
                      "confidence_score", num(x->confidence_score)));
    }
    const struct intel_variety_profile *va = &v->variety;
    json_t *variety =
        json_pack("{s:o, s:o, s:I, s:I, s:s}", "variety_index", num(va->variety_index),
                  "repeat_ratio", num(va->repeat_ratio), "unique_sku_last_90",
                  (json_int_t)va->unique_sku_last_90, "total_items_last_90",
                  (json_int_t)va->total_items_last_90, "explorer_type", va->explorer_type);
    const struct profile_prediction_row *p = &v->prediction;
    json_t *rfm = p->has_rfm ? json_pack("{s:i, s:i, s:i, s:s}", "recency_score", p->r,
                                         "frequency_score", p->f, "monetary_score", p->m, "segment",
                                         p->segment ? p->segment : "")
                             : json_null();
    bool h = p->has_prediction;
    json_t *pred =
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "p_alive", num_or_null(h, p->p_alive),
                  "churn_probability", num_or_null(h, p->churn_probability),
                  "expected_purchases_90", num_or_null(h, p->expected_purchases_90),
                  "expected_order_value", num_or_null(h, p->expected_order_value), "predicted_clv",
                  num_or_null(h, p->predicted_clv), "expected_date_of_next_order",
                  h && p->has_next_order ? http_json_time(p->expected_next_order_ms) : json_null(),
                  "reason", !h && p->reason ? json_string(p->reason) : json_null());
    return json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "customer_id",
                     customer_id, "as_of", http_json_time(b->as_of_ms), "currency", cur,
                     "updated_at", http_json_time(v->updated_at_ms), "budget", budget, "loyalty",
                     loyalty, "category_affinity", cats, "replenishment", rep, "variety", variety,
                     "rfm", rfm, "predictions", pred);
}

/* GET /api/profiles/{id}: the customer's five profiles, RFM and predictions. */
int h_profiles_get(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    int64_t pk = 0;
    struct profile_batch_row b = {0};
    struct profile_view v = {0};
    bool found = false;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = customer_pk(r, c, &pk, e);
    if (!rc)
        rc = profile_store_current(c, r->who.tenant_id, &r->arena, &b, &found, e);
    if (!rc && found)
        rc = profile_store_read(c, r->who.tenant_id, b.id, pk, &r->arena, &v, e);
    if (rc)
        return rc;
    if (!found || !v.found)
        return err_set_field(e, ERR_NOT_FOUND, "profiles",
                             "no profiles of customer %s yet: POST /api/profiles/calculate/%s, or "
                             "wait for the nightly batch",
                             http_req_param(r, "id"), http_req_param(r, "id"));
    return http_reply_json(r, 200, profile_json(&v, &b, http_req_param(r, "id")));
}

/* GET /api/intel/segments: customers per RFM segment in the current batch. */
int h_intel_segments(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    struct profile_batch_row b = {0};
    bool found = false;
    const char **names = NULL;
    int64_t *counts = NULL;
    size_t n = 0;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = profile_store_current(c, r->who.tenant_id, &r->arena, &b, &found, e);
    if (!rc && found)
        rc = profile_store_segments(c, r->who.tenant_id, b.id, &r->arena, &names, &counts, &n, e);
    if (rc)
        return rc;
    json_t *segs = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            segs, json_pack("{s:s, s:I}", "segment", names[i], "customers", (json_int_t)counts[i]));
    return http_reply_json(r, 200,
                           json_pack("{s:o, s:o, s:o}", "as_of",
                                     found ? http_json_time(b.as_of_ms) : json_null(), "batch_id",
                                     found ? json_integer(b.id) : json_null(), "segments", segs));
}

/* ------------------------------------------------------------------ the seed's decision trace */

/* GET /api/campaigns/decision-trace/{id}: the seed's signals and visualizations. */
int h_campaigns_decision_trace(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    struct intel_signals s;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = intel_signals_collect(c, r->who.tenant_id, http_req_param(r, "id"), NULL,
                                   clock_now_ms(r->app->clock), &r->arena, &s, e);
    if (rc)
        return rc;
    json_t *sig = intel_signals_json(&s);
    json_t *vis =
        json_pack("{s:{s:o, s:s}, s:{s:s, s:o, s:o}, s:O, s:O, s:s, s:O}", "budgetGauge", "current",
                  num(s.predicted_monthly_budget), "tier", s.budget_tier, "loyaltyProgress",
                  "current", s.loyalty_tier, "score", num(s.loyalty_score), "multiplier",
                  num(s.reward_multiplier), "categoryChart", json_object_get(sig, "topCategories"),
                  "replenishmentList", json_object_get(sig, "replenishmentGaps"), "varietyType",
                  s.explorer_type, "climateInfo", json_object_get(sig, "city"));
    return http_reply_json(r, 200,
                           json_pack("{s:s, s:o, s:o}", "customerId", s.customer_id, "signals", sig,
                                     "visualizations", vis));
}
