/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/intel/planner.c: the personal rules case by case (BUNDLE from a
 * restock gap, GIFT for gold, THRESHOLD over a cart, DISCOUNT from price sensitivity, the
 * discount bound), the company rules' order by goal and discount, the validator accepting the
 * rules' own plans and refusing each broken field by name, and reading a model's answer.
 */
#include "domain/intel/planner.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct planner_product products[] = {
    {"p_latte", "Latte", "c_coffee", 50.0, 10},
    {"p_simit", "Simit", "c_bakery", 15.0, 5},
    {"p_beans", "Beans", "c_coffee", 120.0, 2},
};
static const struct planner_catalog catalog = {products, 3, 30};

/* A profiled BRONZE customer with an average order of 90.00, no gap, no cart. */
static void base_signals(struct intel_signals *s)
{
    memset(s, 0, sizeof(*s));
    s->customer_id = "cu_1";
    s->has_profiles = true;
    s->currency = "TRY";
    s->budget_tier = "LOW";
    s->predicted_monthly_budget = 270;
    s->avg_order_value = 90;
    s->price_sensitivity_score = 70;
    s->loyalty_tier = "BRONZE";
    s->loyalty_score = 40;
    s->reward_multiplier = 1.1;
    s->lifetime_orders = 3;
    s->top_categories[0] = (struct intel_signal_category){"c_coffee", "Coffee", 80, 270};
    s->n_top_categories = 1;
    s->explorer_type = "REPEAT";
    s->season_tag = "UNKNOWN";
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

static const char *type_of(json_t *c)
{
    return json_string_value(json_object_get(c, "campaignType"));
}

static void check_ok(json_t *c, const struct intel_signals *s)
{
    struct err e;
    err_init(&e);
    if (planner_personal_check(c, s, &catalog, &e))
        fail_msg("the rules' own plan refused: %s: %s", e.field, e.msg);
}

static void test_threshold_from_average_order(void **state)
{
    (void)state;
    struct intel_signals s;
    base_signals(&s);
    json_t *c = planner_personal_rules(&s, &catalog);
    /* ceil10(1.25 × 90 = 112.5) = 120 */
    assert_string_equal(type_of(c), "THRESHOLD");
    assert_float_equal(num(c, "targetAmount"), 120, 1e-9);
    assert_null(json_object_get(c, "discountPercent"));
    /* coffee products first (MEDIUM, catalogue order), then the cheapest other (LOW) */
    json_t *ps = json_object_get(c, "recommendedProducts");
    assert_int_equal(json_array_size(ps), 3);
    const char *want[3][2] = {{"p_latte", "MEDIUM"}, {"p_beans", "MEDIUM"}, {"p_simit", "LOW"}};
    for (size_t i = 0; i < 3; i++) {
        json_t *p = json_array_get(ps, i);
        assert_string_equal(json_string_value(json_object_get(p, "productId")), want[i][0]);
        assert_string_equal(json_string_value(json_object_get(p, "priority")), want[i][1]);
    }
    /* 50 + 5 × 3 orders */
    assert_float_equal(num(c, "confidence"), 65, 1e-9);
    check_ok(c, &s);
    json_decref(c);
}

static void test_threshold_from_cart(void **state)
{
    (void)state;
    struct intel_signals s;
    base_signals(&s);
    struct intel_signal_cart_item items[] = {{"p_latte", "Latte", 3, 50}};
    s.has_cart = true;
    s.cart_id = "ca_1";
    s.cart_currency = "TRY";
    s.cart_total = 150;
    s.cart_items = items;
    s.n_cart_items = 1;
    json_t *c = planner_personal_rules(&s, &catalog);
    /* ceil10(1.25 × 150 = 187.5) = 190; the latte in the cart is not recommended again */
    assert_string_equal(type_of(c), "THRESHOLD");
    assert_float_equal(num(c, "targetAmount"), 190, 1e-9);
    json_t *first = json_array_get(json_object_get(c, "recommendedProducts"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "productId")), "p_beans");
    check_ok(c, &s);
    json_decref(c);
}

static void test_bundle_from_gaps(void **state)
{
    (void)state;
    struct intel_signals s;
    base_signals(&s);
    struct intel_signal_gap gaps[] = {{"p_simit", "Simit", 4, 7},
                                      {"p_gone", "Gone", 9, 30}, /* not in stock: skipped */
                                      {"p_latte", "Latte", 2, 14}};
    s.gaps = gaps;
    s.n_gaps = 3;
    json_t *c = planner_personal_rules(&s, &catalog);
    /* simit + latte = 65.00, 10 % off */
    assert_string_equal(type_of(c), "BUNDLE");
    assert_float_equal(num(c, "targetAmount"), 65, 1e-9);
    assert_float_equal(num(c, "discountPercent"), 10, 1e-9);
    json_t *ps = json_object_get(c, "recommendedProducts");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ps, 0), "productId")),
                        "p_simit");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ps, 1), "priority")),
                        "HIGH");
    check_ok(c, &s);
    json_decref(c);
}

static void test_gift_for_gold(void **state)
{
    (void)state;
    struct intel_signals s;
    base_signals(&s);
    s.loyalty_tier = "GOLD";
    s.lifetime_orders = 20;
    json_t *c = planner_personal_rules(&s, &catalog);
    /* ceil10(1.2 × 90 = 108) = 110; confidence capped at 95 */
    assert_string_equal(type_of(c), "GIFT");
    assert_float_equal(num(c, "targetAmount"), 110, 1e-9);
    assert_float_equal(num(c, "confidence"), 95, 1e-9);
    check_ok(c, &s);
    json_decref(c);
}

static void test_discount_and_its_bound(void **state)
{
    (void)state;
    struct intel_signals s;
    base_signals(&s);
    s.avg_order_value = 0;
    s.has_profiles = false;
    json_t *c = planner_personal_rules(&s, &catalog);
    /* 5 + round(70 / 10) = 12 %; confidence 30 without profiles */
    assert_string_equal(type_of(c), "DISCOUNT");
    assert_float_equal(num(c, "discountPercent"), 12, 1e-9);
    assert_float_equal(num(c, "confidence"), 30, 1e-9);
    check_ok(c, &s);
    json_decref(c);
    const struct planner_catalog tight = {products, 3, 8};
    c = planner_personal_rules(&s, &tight);
    assert_float_equal(num(c, "discountPercent"), 8, 1e-9);
    json_decref(c);
}

static void test_company_rules(void **state)
{
    (void)state;
    static const struct {
        const char *goal;
        const char *types[3];
    } cases[] = {
        {"STOCK_CLEARANCE", {"BUNDLE", "THRESHOLD", "GIFT"}},
        {"LOYALTY_REWARD", {"GIFT", "THRESHOLD", "BUNDLE"}},
        {"AOV_INCREASE", {"THRESHOLD", "BUNDLE", "GIFT"}},
        {"SOMETHING_ELSE", {"THRESHOLD", "BUNDLE", "GIFT"}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *a = planner_company_rules(cases[i].goal, NULL, NULL, 30);
        json_t *ps = json_object_get(a, "proposals");
        assert_int_equal(json_array_size(ps), 3);
        for (size_t k = 0; k < 3; k++)
            assert_string_equal(json_string_value(json_object_get(json_array_get(ps, k), "type")),
                                cases[i].types[k]);
        struct err e;
        err_init(&e);
        assert_int_equal(planner_company_check(a, 30, &e), 0);
        json_decref(a);
    }
    /* discount: min(15, constraints.maxDiscount, the bound); target copied */
    json_t *cons = json_pack("{s:i}", "maxDiscount", 12);
    json_t *target = json_pack("{s:s, s:[i, i]}", "loyaltyTier", "GOLD", "ageRange", 25, 40);
    json_t *a = planner_company_rules("AOV_INCREASE", cons, target, 30);
    json_t *p = json_array_get(json_object_get(a, "proposals"), 0);
    assert_float_equal(num(p, "discountPercent"), 12, 1e-9);
    json_t *tp = json_object_get(p, "targetProfile");
    assert_string_equal(json_string_value(json_object_get(tp, "loyaltyTier")), "GOLD");
    assert_string_equal(json_string_value(json_object_get(tp, "budgetTier")), "MID");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(tp, "ageRange"), 1)), 40);
    json_decref(a);
    a = planner_company_rules("AOV_INCREASE", NULL, NULL, 5);
    assert_float_equal(num(json_array_get(json_object_get(a, "proposals"), 2), "discountPercent"),
                       5, 1e-9);
    json_decref(a);
    json_decref(cons);
    json_decref(target);
}

/* A plan the validator accepts, with one key replaced by `patch` (JSON) or removed (NULL). */
static json_t *plan_with(const char *key, const char *patch)
{
    json_t *c = json_pack(
        "{s:s, s:s, s:s, s:i, s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:[{s:s, s:s, s:s}], s:i}",
        "campaignType", "DISCOUNT", "title", "t", "description", "d", "discountPercent", 20,
        "reasoning", "budget", "b", "loyalty", "l", "category", "c", "replenishment", "r",
        "variety", "v", "seasonal", "s", "recommendedProducts", "productId", "p_latte", "reason",
        "x", "priority", "HIGH", "confidence", 70);
    if (key && patch)
        json_object_set_new(c, key, json_loads(patch, JSON_DECODE_ANY, NULL));
    else if (key)
        json_object_del(c, key);
    return c;
}

static void test_validator(void **state)
{
    (void)state;
    struct intel_signals s;
    base_signals(&s);
    static const struct {
        const char *key, *patch, *field;
    } cases[] = {
        {NULL, NULL, ""},
        {"campaignType", "\"FREE\"", "campaignType"},
        {"title", "\"\"", "title"},
        {"description", NULL, "description"},
        {"reasoning", "{\"budget\":\"b\"}", "reasoning.loyalty"},
        {"reasoning", "[]", "reasoning"},
        {"confidence", "101", "confidence"},
        {"confidence", NULL, "confidence"},
        {"discountPercent", "31", "discountPercent"},
        {"discountPercent", "0", "discountPercent"},
        {"discountPercent", NULL, "discountPercent"},
        {"discountPercent", "30", ""},
        /* a DISCOUNT may name a sane target; 3 × 90 = 270 is the most */
        {"targetAmount", "270", ""},
        {"targetAmount", "271", "targetAmount"},
        {"targetAmount", "0", "targetAmount"},
        {"recommendedProducts",
         "[{\"productId\":\"p_nope\",\"reason\":\"x\",\"priority\":"
         "\"HIGH\"}]",
         "recommendedProducts"},
        {"recommendedProducts",
         "[{\"productId\":\"p_latte\",\"reason\":\"x\",\"priority\":"
         "\"URGENT\"}]",
         "recommendedProducts"},
        {"recommendedProducts", "{}", "recommendedProducts"},
        {"recommendedProducts", "[]", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *c = plan_with(cases[i].key, cases[i].patch);
        struct err e;
        err_init(&e);
        int rc = planner_personal_check(c, &s, &catalog, &e);
        if (*cases[i].field ? rc != ERR_INVALID || strcmp(e.field, cases[i].field) != 0 : rc != 0)
            fail_msg("case %zu (%s): rc %d field \"%s\" (want \"%s\"): %s", i,
                     cases[i].key ? cases[i].key : "-", rc, e.field, cases[i].field, e.msg);
        json_decref(c);
    }
    /* a THRESHOLD needs its target */
    json_t *c = plan_with("campaignType", "\"THRESHOLD\"");
    json_object_del(c, "discountPercent");
    struct err e;
    err_init(&e);
    assert_int_equal(planner_personal_check(c, &s, &catalog, &e), ERR_INVALID);
    assert_string_equal(e.field, "targetAmount");
    json_decref(c);
    /* the reference amount: the larger of cart and average order, else the monthly budget */
    static const struct {
        bool cart;
        double cart_total, aov, budget, target;
        bool ok;
    } refs[] = {
        {true, 200, 90, 270, 600, true}, /* 3 × the cart's 200 */
        {true, 200, 90, 270, 601, false},
        {false, 0, 0, 100, 300, true}, /* 3 × the monthly budget */
        {false, 0, 0, 100, 301, false},
        {false, 0, 0, 0, 1e6, true}, /* nothing known: any target above 0 */
    };
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        struct intel_signals r;
        base_signals(&r);
        r.has_cart = refs[i].cart;
        r.cart_total = refs[i].cart_total;
        r.avg_order_value = refs[i].aov;
        r.predicted_monthly_budget = refs[i].budget;
        json_t *t = plan_with("targetAmount", "1");
        json_object_set_new(t, "targetAmount", json_real(refs[i].target));
        err_init(&e);
        int rc = planner_personal_check(t, &r, &catalog, &e);
        if (refs[i].ok ? rc != 0 : rc != ERR_INVALID || strcmp(e.field, "targetAmount") != 0)
            fail_msg("reference case %zu: rc %d %s", i, rc, e.msg);
        json_decref(t);
    }
    /* company: two proposals are too few; a proposal's discount is bounded */
    json_t *a = json_pack("{s:[{}, {}]}", "proposals");
    err_init(&e);
    assert_int_equal(planner_company_check(a, 30, &e), ERR_INVALID);
    assert_string_equal(e.field, "proposals");
    json_decref(a);
    a = planner_company_rules("AOV_INCREASE", NULL, NULL, 30);
    json_object_set_new(json_array_get(json_object_get(a, "proposals"), 1), "discountPercent",
                        json_integer(40));
    err_init(&e);
    assert_int_equal(planner_company_check(a, 30, &e), ERR_INVALID);
    assert_string_equal(e.field, "discountPercent");
    json_decref(a);
}

static void test_answer_parse(void **state)
{
    (void)state;
    json_t *j = NULL;
    struct err e;
    err_init(&e);
    assert_int_equal(planner_answer_parse("```json\n{\"a\": 1}\n```", &j, &e), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
    json_decref(j);
    static const char *const bad[] = {"no json here", "{\"a\": ", "{\"a\":1,\"a\":2}", "[1]", NULL};
    for (size_t i = 0; i < 5; i++) {
        err_init(&e);
        assert_int_equal(planner_answer_parse(bad[i], &j, &e), ERR_INVALID);
        assert_null(j);
        assert_string_equal(e.field, "answer");
    }
}

static void test_prompts(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    const char *sys = planner_personal_system(&catalog, &a);
    assert_non_null(strstr(sys, "Consider these 6 key dimensions"));
    assert_non_null(strstr(sys, "must not exceed 30"));
    assert_non_null(strstr(sys, "\"productId\":\"p_beans\""));
    json_t *sig = json_pack("{s:s}", "customerId", "cu_1");
    const char *user = planner_personal_user(sig, &a);
    assert_non_null(strstr(user, "CUSTOMER SIGNALS:\n{\n  \"customerId\": \"cu_1\"\n}"));
    json_decref(sig);
    const char *cu = planner_company_user("AOV_INCREASE", NULL, NULL, &a);
    assert_non_null(strstr(cu, "GOAL: AOV_INCREASE\nCONSTRAINTS: null\nTARGET: null"));
    assert_non_null(strstr(planner_company_system(30, &a), "Generate 3-5 campaign proposals"));
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threshold_from_average_order),
        cmocka_unit_test(test_threshold_from_cart),
        cmocka_unit_test(test_bundle_from_gaps),
        cmocka_unit_test(test_gift_for_gold),
        cmocka_unit_test(test_discount_and_its_bound),
        cmocka_unit_test(test_company_rules),
        cmocka_unit_test(test_validator),
        cmocka_unit_test(test_answer_parse),
        cmocka_unit_test(test_prompts),
    };
    return cmocka_run_group_tests_name("planner", tests, NULL, NULL);
}
