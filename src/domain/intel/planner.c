/* SPDX-License-Identifier: MIT */
/*
 * The campaign planner's rules, prompts and validator (see planner.h): pure functions over the
 * signals and the catalogue. Tests: tests/unit/domain/test_planner.c.
 */
#include "domain/intel/planner.h"
#include "core/str.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *num(double v)
{
    return json_real(round(v * 100) / 100);
}

static double ceil10(double v)
{
    return ceil(v / 10 - 1e-9) * 10;
}

static const struct planner_product *find_product(const struct planner_catalog *cat, const char *id)
{
    for (size_t i = 0; id && i < cat->n; i++) {
        if (str_eq(cat->items[i].product_id, id))
            return &cat->items[i];
    }
    return NULL;
}

static bool in_cart(const struct intel_signals *s, const char *product_id)
{
    for (size_t i = 0; s->has_cart && i < s->n_cart_items; i++) {
        if (str_eq(s->cart_items[i].product_id, product_id))
            return true;
    }
    return false;
}

static bool top_category(const struct intel_signals *s, const char *category_id)
{
    for (size_t i = 0; i < s->n_top_categories; i++) {
        if (*category_id && str_eq(s->top_categories[i].category_id, category_id))
            return true;
    }
    return false;
}

static bool listed(json_t *products, const char *id)
{
    size_t i;
    json_t *p;
    json_array_foreach(products, i, p)
    {
        if (str_eq(json_string_value(json_object_get(p, "productId")), id))
            return true;
    }
    return false;
}

static void add_product(json_t *products, const struct planner_product *p, const char *reason,
                        const char *priority)
{
    json_array_append_new(products,
                          json_pack("{s:s, s:s, s:s, s:s}", "productId", p->product_id, "name",
                                    p->name, "reason", reason, "priority", priority));
}

/* ------------------------------------------------------------------------------ personal rules */

static json_t *reasoning(const struct intel_signals *s)
{
    char budget[200], loyalty[200], category[200], repl[200], variety[200], seasonal[200];
    snprintf(budget, sizeof(budget),
             "budget tier %s, predicted monthly budget %.2f, average order %.2f, price "
             "sensitivity %.0f/100",
             s->budget_tier, s->predicted_monthly_budget, s->avg_order_value,
             s->price_sensitivity_score);
    snprintf(loyalty, sizeof(loyalty), "loyalty tier %s, score %.0f, reward multiplier %.2f",
             s->loyalty_tier, s->loyalty_score, s->reward_multiplier);
    if (s->n_top_categories)
        snprintf(category, sizeof(category), "favourite category %s (affinity %.0f)",
                 s->top_categories[0].name, s->top_categories[0].affinity_score);
    else
        snprintf(category, sizeof(category), "no category affinity known yet");
    if (s->n_gaps)
        snprintf(repl, sizeof(repl), "%zu product(s) due for restock, %s %lld day(s) late",
                 s->n_gaps, s->gaps[0].name ? s->gaps[0].name : s->gaps[0].product_id,
                 (long long)s->gaps[0].days_since_expected);
    else
        snprintf(repl, sizeof(repl), "no product is due for restock");
    snprintf(variety, sizeof(variety), "%s buyer (variety %.0f, repeat ratio %.0f)",
             s->explorer_type, s->variety_index, s->repeat_ratio);
    if (s->has_city && s->has_climate)
        snprintf(seasonal, sizeof(seasonal), "%s in month %d: %.1f C, %.0f mm rain, season %s",
                 s->city_name, s->month, s->avg_temp_c, s->rainfall_mm, s->season_tag);
    else if (s->has_city)
        snprintf(seasonal, sizeof(seasonal), "%s, climate not known", s->city_name);
    else
        snprintf(seasonal, sizeof(seasonal), "location not known");
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "budget", budget, "loyalty", loyalty,
                     "category", category, "replenishment", repl, "variety", variety, "seasonal",
                     seasonal);
}

json_t *planner_personal_rules(const struct intel_signals *s, const struct planner_catalog *cat)
{
    json_t *products = json_array();
    double gap_sum = 0;
    for (size_t i = 0; i < s->n_gaps && json_array_size(products) < 3; i++) {
        const struct planner_product *p = find_product(cat, s->gaps[i].product_id);
        if (!p || listed(products, p->product_id))
            continue;
        add_product(products, p, "due for restock", "HIGH");
        gap_sum += p->price;
    }
    size_t n_gap_products = json_array_size(products);
    for (size_t i = 0; i < cat->n && json_array_size(products) < 3; i++) {
        const struct planner_product *p = &cat->items[i];
        if (top_category(s, p->category_id) && !in_cart(s, p->product_id) &&
            !listed(products, p->product_id))
            add_product(products, p, "from a favourite category", "MEDIUM");
    }
    while (json_array_size(products) < 3) {
        const struct planner_product *cheapest = NULL;
        for (size_t i = 0; i < cat->n; i++) {
            const struct planner_product *p = &cat->items[i];
            if (!listed(products, p->product_id) && (!cheapest || p->price < cheapest->price))
                cheapest = p;
        }
        if (!cheapest)
            break;
        add_product(products, cheapest, "an easy addition", "LOW");
    }

    int max = cat->max_discount;
    double base = s->has_cart ? s->cart_total : s->avg_order_value;
    const char *type;
    char title[160], desc[300];
    json_t *c = json_object();
    if (n_gap_products) {
        type = "BUNDLE";
        int pct = max < 10 ? max : 10;
        double target = ceil(gap_sum - 1e-9);
        snprintf(title, sizeof(title), "Restock bundle: %d%% off", pct);
        snprintf(desc, sizeof(desc),
                 "Your usual products are due: get them together for %.2f "
                 "with %d%% off.",
                 target, pct);
        json_object_set_new(c, "targetAmount", num(target));
        json_object_set_new(c, "discountPercent", json_integer(pct));
    } else if ((str_eq(s->loyalty_tier, "GOLD") || str_eq(s->loyalty_tier, "PLATINUM")) &&
               base > 0) {
        type = "GIFT";
        double target = ceil10(1.2 * base);
        snprintf(title, sizeof(title), "A gift for you over %.0f", target);
        snprintf(desc, sizeof(desc),
                 "Thank you for your loyalty: spend %.2f and a gift is "
                 "yours.",
                 target);
        json_object_set_new(c, "targetAmount", num(target));
    } else if (base > 0) {
        type = "THRESHOLD";
        double target = ceil10(1.25 * base);
        snprintf(title, sizeof(title), "Reach %.0f for a reward", target);
        snprintf(desc, sizeof(desc), "Spend %.2f in one order and earn a reward.", target);
        json_object_set_new(c, "targetAmount", num(target));
    } else {
        type = "DISCOUNT";
        int pct = 5 + (int)lround(s->price_sensitivity_score / 10);
        if (pct > max)
            pct = max;
        snprintf(title, sizeof(title), "%d%% off your next order", pct);
        snprintf(desc, sizeof(desc), "A %d%% discount on your next order.", pct);
        json_object_set_new(c, "discountPercent", json_integer(pct));
    }
    double confidence = 30;
    if (s->has_profiles) {
        confidence = 50 + 5 * (double)s->lifetime_orders;
        if (confidence > 95)
            confidence = 95;
    }
    json_object_set_new(c, "campaignType", json_string(type));
    json_object_set_new(c, "title", json_string(title));
    json_object_set_new(c, "description", json_string(desc));
    json_object_set_new(c, "reasoning", reasoning(s));
    json_object_set_new(c, "recommendedProducts", products);
    json_object_set_new(c, "confidence", json_integer((json_int_t)confidence));
    json_object_set_new(
        c, "expectedImpact",
        json_string(str_eq(type, "DISCOUNT") ? "a returning order" : "a larger next order"));
    return c;
}

/* ------------------------------------------------------------------------------- company rules */

json_t *planner_company_rules(const char *goal, json_t *constraints, json_t *target,
                              int max_discount)
{
    static const char *const clearance[] = {"BUNDLE", "THRESHOLD", "GIFT"};
    static const char *const loyalty[] = {"GIFT", "THRESHOLD", "BUNDLE"};
    static const char *const aov[] = {"THRESHOLD", "BUNDLE", "GIFT"};
    static const char *const risk[] = {"LOW", "MEDIUM", "HIGH"};
    static const double roi[] = {1.8, 1.5, 1.2};
    const char *const *types = str_eq(goal, "STOCK_CLEARANCE")  ? clearance
                               : str_eq(goal, "LOYALTY_REWARD") ? loyalty
                                                                : aov;
    int pct = 15;
    json_t *md = constraints ? json_object_get(constraints, "maxDiscount") : NULL;
    if (json_is_number(md) && json_number_value(md) >= 0 && json_number_value(md) < pct)
        pct = (int)json_number_value(md);
    if (pct > max_discount)
        pct = max_discount;
    json_t *t = json_is_object(target) ? target : NULL;
    json_t *bt = t ? json_object_get(t, "budgetTier") : NULL;
    json_t *lt = t ? json_object_get(t, "loyaltyTier") : NULL;
    json_t *age = t ? json_object_get(t, "ageRange") : NULL;
    json_t *cities = t ? json_object_get(t, "cities") : NULL;
    json_t *proposals = json_array();
    for (int i = 0; i < 3; i++) {
        char name[160], why[300];
        snprintf(name, sizeof(name), "%s %s", goal, types[i]);
        snprintf(why, sizeof(why), "%s toward %s: rank %d of 3 for this goal, %d%% at most off",
                 types[i], goal, i + 1, pct);
        json_t *agev = json_is_array(age) ? json_incref(age) : json_pack("[i, i]", 18, 65);
        json_t *cityv = json_is_array(cities) ? json_incref(cities) : json_array();
        json_t *profile =
            json_pack("{s:s, s:s, s:o, s:o}", "budgetTier",
                      json_is_string(bt) ? json_string_value(bt) : "MID", "loyaltyTier",
                      json_is_string(lt) ? json_string_value(lt) : "SILVER", "ageRange", agev,
                      "cities", cityv);
        const char *include = str_eq(types[i], "BUNDLE")      ? "products with the most stock"
                              : str_eq(types[i], "THRESHOLD") ? "the whole catalogue"
                                                              : "low-cost gift items";
        json_array_append_new(
            proposals,
            json_pack("{s:s, s:s, s:o, s:{s:[s], s:[s]}, s:o, s:s, s:s, s:i, s:i}", "name", name,
                      "type", types[i], "targetProfile", profile, "productSelection", "include",
                      include, "exclude", "products out of stock", "expectedROI", num(roi[i]),
                      "risk", risk[i], "reasoning", why, "confidence", 70 - 10 * i,
                      "discountPercent", pct));
    }
    return json_pack("{s:o}", "proposals", proposals);
}

/* ---------------------------------------------------------------------------------- validation */

static bool one_of(const char *v, const char *const *values)
{
    for (size_t i = 0; v && values[i]; i++) {
        if (str_eq(v, values[i]))
            return true;
    }
    return false;
}

static int need_string(json_t *o, const char *key, const char *field, struct err *e)
{
    const char *v = json_string_value(json_object_get(o, key));
    if (!v || !*v)
        return err_set_field(e, ERR_INVALID, field, "%s must be a non-empty string", field);
    return 0;
}

static int need_number(json_t *o, const char *key, double lo, double hi, bool required, double *out,
                       struct err *e)
{
    json_t *v = json_object_get(o, key);
    if (!v && !required)
        return 0;
    if (!json_is_number(v))
        return err_set_field(e, ERR_INVALID, key, "%s must be a number", key);
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi))
        return err_set_field(e, ERR_INVALID, key, "%s %g is outside %g..%g", key, d, lo, hi);
    if (out)
        *out = d;
    return 0;
}

int planner_personal_check(json_t *c, const struct intel_signals *s,
                           const struct planner_catalog *cat, struct err *e)
{
    static const char *const types[] = {"BUNDLE", "THRESHOLD", "GIFT", "DISCOUNT", NULL};
    static const char *const priorities[] = {"HIGH", "MEDIUM", "LOW", NULL};
    static const char *const dims[] = {"budget",        "loyalty", "category",
                                       "replenishment", "variety", "seasonal"};
    if (!json_is_object(c))
        return err_set_field(e, ERR_INVALID, "answer", "the answer is not a JSON object");
    const char *type = json_string_value(json_object_get(c, "campaignType"));
    if (!one_of(type, types))
        return err_set_field(e, ERR_INVALID, "campaignType",
                             "campaignType must be BUNDLE, THRESHOLD, GIFT or DISCOUNT");
    int rc = need_string(c, "title", "title", e);
    if (!rc)
        rc = need_string(c, "description", "description", e);
    if (rc)
        return rc;
    json_t *r = json_object_get(c, "reasoning");
    if (!json_is_object(r))
        return err_set_field(e, ERR_INVALID, "reasoning", "reasoning must be an object");
    for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
        char field[64];
        snprintf(field, sizeof(field), "reasoning.%s", dims[i]);
        rc = need_string(r, dims[i], field, e);
        if (rc)
            return rc;
    }
    rc = need_number(c, "confidence", 0, 100, true, NULL, e);
    if (rc)
        return rc;
    bool discount_needed = str_eq(type, "DISCOUNT") || str_eq(type, "BUNDLE");
    json_t *dp = json_object_get(c, "discountPercent");
    if (dp || discount_needed) {
        if (!json_is_number(dp))
            return err_set_field(e, ERR_INVALID, "discountPercent",
                                 "discountPercent must be a number");
        double d = json_number_value(dp);
        if (d > cat->max_discount)
            return err_set_field(e, ERR_INVALID, "discountPercent",
                                 "discountPercent %g is above the maximum %d", d,
                                 cat->max_discount);
        if (!(d >= (discount_needed ? 1 : 0)))
            return err_set_field(e, ERR_INVALID, "discountPercent",
                                 "discountPercent %g is too small", d);
    }
    bool target_needed = str_eq(type, "THRESHOLD") || str_eq(type, "GIFT");
    json_t *ta = json_object_get(c, "targetAmount");
    if (ta || target_needed) {
        if (!json_is_number(ta) || !(json_number_value(ta) > 0))
            return err_set_field(e, ERR_INVALID, "targetAmount",
                                 "targetAmount must be a number above 0");
        double ref =
            s->has_cart && s->cart_total > s->avg_order_value ? s->cart_total : s->avg_order_value;
        if (ref <= 0)
            ref = s->predicted_monthly_budget;
        if (ref > 0 && json_number_value(ta) > 3 * ref)
            return err_set_field(e, ERR_INVALID, "targetAmount",
                                 "targetAmount %g is more than 3 x the customer's %.2f",
                                 json_number_value(ta), ref);
    }
    json_t *products = json_object_get(c, "recommendedProducts");
    if (!json_is_array(products) || json_array_size(products) > 10)
        return err_set_field(e, ERR_INVALID, "recommendedProducts",
                             "recommendedProducts must be an array of at most 10");
    size_t i;
    json_t *p;
    json_array_foreach(products, i, p)
    {
        const char *id = json_string_value(json_object_get(p, "productId"));
        if (!json_is_object(p) || !find_product(cat, id))
            return err_set_field(e, ERR_INVALID, "recommendedProducts",
                                 "recommendedProducts[%zu]: no product %s in stock", i,
                                 id ? id : "(none)");
        if (!json_is_string(json_object_get(p, "reason")) ||
            !one_of(json_string_value(json_object_get(p, "priority")), priorities))
            return err_set_field(e, ERR_INVALID, "recommendedProducts",
                                 "recommendedProducts[%zu] needs a reason and a priority "
                                 "HIGH, MEDIUM or LOW",
                                 i);
    }
    return 0;
}

int planner_company_check(json_t *answer, int max_discount, struct err *e)
{
    static const char *const types[] = {"BUNDLE", "THRESHOLD", "GIFT", NULL};
    static const char *const budget[] = {"LOW", "MID", "HIGH", "PREMIUM", NULL};
    static const char *const loyalty[] = {"NEW", "BRONZE", "SILVER", "GOLD", "PLATINUM", NULL};
    static const char *const risk[] = {"LOW", "MEDIUM", "HIGH", NULL};
    json_t *ps = json_is_object(answer) ? json_object_get(answer, "proposals") : NULL;
    if (!json_is_array(ps) || json_array_size(ps) < 3 || json_array_size(ps) > 5)
        return err_set_field(e, ERR_INVALID, "proposals", "proposals must be an array of 3 to 5");
    size_t i;
    json_t *p;
    json_array_foreach(ps, i, p)
    {
        json_t *tp = json_object_get(p, "targetProfile");
        int rc = 0;
        if (!json_is_object(p) || need_string(p, "name", "name", e) ||
            !one_of(json_string_value(json_object_get(p, "type")), types) || !json_is_object(tp) ||
            !one_of(json_string_value(json_object_get(tp, "budgetTier")), budget) ||
            !one_of(json_string_value(json_object_get(tp, "loyaltyTier")), loyalty) ||
            !json_is_object(json_object_get(p, "productSelection")) ||
            !json_is_number(json_object_get(p, "expectedROI")) ||
            !one_of(json_string_value(json_object_get(p, "risk")), risk) ||
            !json_is_string(json_object_get(p, "reasoning")))
            rc = err_replace(e, ERR_INVALID, "proposals",
                             "proposals[%zu] breaks the format (name, type, targetProfile, "
                             "productSelection, expectedROI, risk, reasoning)",
                             i);
        if (!rc)
            rc = need_number(p, "confidence", 0, 100, true, NULL, e);
        if (!rc)
            rc = need_number(p, "discountPercent", 0, max_discount, false, NULL, e);
        if (rc)
            return rc;
    }
    return 0;
}

int planner_answer_parse(const char *content, json_t **out, struct err *e)
{
    *out = NULL;
    if (!content)
        return err_set_field(e, ERR_INVALID, "answer", "no answer");
    const char *start = strchr(content, '{');
    const char *end = strrchr(content, '}');
    if (!start || !end || end < start)
        return err_set_field(e, ERR_INVALID, "answer", "the answer holds no JSON object");
    json_error_t je;
    json_t *j = json_loadb(start, (size_t)(end - start + 1), JSON_REJECT_DUPLICATES, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return err_set_field(e, ERR_INVALID, "answer", "the answer is not JSON: %s", je.text);
    }
    *out = j;
    return 0;
}

/* -------------------------------------------------------------------------------------- prompts */

static const char personal_system[] =
    "You are a Campaign Strategist AI for an e-commerce platform.\n"
    "Your goal is to create personalized campaign offers based on customer signals.\n\n"
    "Consider these 6 key dimensions:\n"
    "1. Budget: Customer's spending capacity and price sensitivity\n"
    "2. Loyalty: Reward tier and lifetime value\n"
    "3. Category Affinity: Preferred product categories\n"
    "4. Replenishment: Products due for restock\n"
    "5. Variety: Explorer vs Repeat buyer behavior\n"
    "6. Geo/Seasonal: Location and climate-based relevance\n\n"
    "Output format (JSON):\n"
    "{\n"
    "  \"campaignType\": \"BUNDLE|THRESHOLD|GIFT|DISCOUNT\",\n"
    "  \"title\": \"Campaign title\",\n"
    "  \"description\": \"User-friendly description\",\n"
    "  \"targetAmount\": number (if threshold),\n"
    "  \"discountPercent\": number (if discount),\n"
    "  \"reasoning\": {\n"
    "    \"budget\": \"explanation\",\n"
    "    \"loyalty\": \"explanation\",\n"
    "    \"category\": \"explanation\",\n"
    "    \"replenishment\": \"explanation\",\n"
    "    \"variety\": \"explanation\",\n"
    "    \"seasonal\": \"explanation\"\n"
    "  },\n"
    "  \"recommendedProducts\": [\n"
    "    {\n"
    "      \"productId\": \"an id from PRODUCTS IN STOCK\",\n"
    "      \"reason\": \"why this product\",\n"
    "      \"priority\": \"HIGH|MEDIUM|LOW\"\n"
    "    }\n"
    "  ],\n"
    "  \"confidence\": number (0-100),\n"
    "  \"expectedImpact\": \"description\"\n"
    "}\n";

const char *planner_personal_system(const struct planner_catalog *cat, struct arena *a)
{
    json_t *list = json_array();
    for (size_t i = 0; i < cat->n; i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:o}", "productId",
                                              cat->items[i].product_id, "name", cat->items[i].name,
                                              "price", num(cat->items[i].price)));
    char *products = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    const char *out = arena_printf(a,
                                   "%s\nAnswer with the JSON object only. discountPercent must not "
                                   "exceed %d. Recommend only these PRODUCTS IN STOCK:\n%s",
                                   personal_system, cat->max_discount, products ? products : "[]");
    free(products);
    return out;
}

const char *planner_personal_user(json_t *signals, struct arena *a)
{
    char *sig = json_dumps(signals, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    const char *out = arena_printf(a,
                                   "Generate a personalized campaign for this customer:\n\n"
                                   "CUSTOMER SIGNALS:\n%s\n\n"
                                   "Create the most relevant campaign offer considering all 6 "
                                   "dimensions.",
                                   sig ? sig : "{}");
    free(sig);
    return out;
}

static const char company_system[] =
    "You are a Campaign Orchestrator AI.\n"
    "Generate 3-5 campaign proposals for company-level campaigns.\n\n"
    "Consider:\n"
    "- Strategic goal (STOCK_CLEARANCE, AOV_INCREASE, LOYALTY_REWARD, etc.)\n"
    "- Budget constraints\n"
    "- Target audience\n"
    "- Seasonal relevance\n"
    "- Profit margins\n\n"
    "Output format (JSON):\n"
    "{\n"
    "  \"proposals\": [\n"
    "    {\n"
    "      \"name\": \"Campaign name\",\n"
    "      \"type\": \"BUNDLE|THRESHOLD|GIFT\",\n"
    "      \"targetProfile\": {\n"
    "        \"budgetTier\": \"LOW|MID|HIGH|PREMIUM\",\n"
    "        \"loyaltyTier\": \"NEW|BRONZE|SILVER|GOLD|PLATINUM\",\n"
    "        \"ageRange\": [min, max],\n"
    "        \"cities\": [\"city1\", \"city2\"]\n"
    "      },\n"
    "      \"productSelection\": {\n"
    "        \"include\": [\"criteria\"],\n"
    "        \"exclude\": [\"criteria\"]\n"
    "      },\n"
    "      \"expectedROI\": number,\n"
    "      \"risk\": \"LOW|MEDIUM|HIGH\",\n"
    "      \"reasoning\": \"detailed explanation\",\n"
    "      \"confidence\": number (0-100)\n"
    "    }\n"
    "  ]\n"
    "}\n";

const char *planner_company_system(int max_discount, struct arena *a)
{
    return arena_printf(a,
                        "%s\nAnswer with the JSON object only. A proposal's discountPercent, "
                        "when given, must not exceed %d.",
                        company_system, max_discount);
}

const char *planner_company_user(const char *goal, json_t *constraints, json_t *target,
                                 struct arena *a)
{
    char *c = constraints ? json_dumps(constraints, JSON_INDENT(2) | JSON_ENCODE_ANY) : NULL;
    char *t = target ? json_dumps(target, JSON_INDENT(2) | JSON_ENCODE_ANY) : NULL;
    const char *out = arena_printf(a,
                                   "Generate campaign proposals:\n\nGOAL: %s\nCONSTRAINTS: %s\n"
                                   "TARGET: %s\n\nProvide 3-5 diverse proposals.",
                                   goal, c ? c : "null", t ? t : "null");
    free(c);
    free(t);
    return out;
}
