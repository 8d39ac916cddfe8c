/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for `iceshop simulate` (src/demo/sim.c): the same seed gives the same report; a
 * one-seller, one-buyer city whose outcome is worked out by hand in each arm (a window's visit,
 * a wish no window changes, an offer turned down, a no-show) counts every wish at most once;
 * bad options are refused. No timing assertions.
 */
#include "demo/sim.h"
#include "demo/city.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void test_same_seed_same_report(void **state)
{
    (void)state;
    struct sim_opts o;
    sim_opts_default(&o);
    o.seeds = 3;
    o.days = 2;
    struct err e;
    err_init(&e);
    struct sim_run a, b;
    assert_int_equal(sim_city_run(&o, 5, &a, &e), 0);
    assert_int_equal(sim_city_run(&o, 5, &b, &e), 0);
    assert_memory_equal(&a, &b, sizeof(a));
    assert_true(a.with.wishes > 0 && a.with.wishes == a.without.wishes);
    struct sim_run c;
    assert_int_equal(sim_city_run(&o, 6, &c, &e), 0);
    assert_true(memcmp(&a, &c, sizeof(a)) != 0); /* another seed, another city */

    struct sim_report r1, r2;
    assert_int_equal(sim_report_run(&o, &r1, &e), 0);
    assert_int_equal(sim_report_run(&o, &r2, &e), 0);
    json_t *j1 = sim_report_json(&r1), *j2 = sim_report_json(&r2);
    char *s1 = json_dumps(j1, JSON_COMPACT | JSON_SORT_KEYS);
    char *s2 = json_dumps(j2, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s1, s2);
    /* the documented shape */
    static const char *const keys[] = {"demand_served", "idle_capacity_filled", "visits",
                                       "seller_revenue", "discount_given"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *f = json_object_get(j1, keys[i]);
        assert_non_null(json_object_get(f, "with"));
        assert_non_null(json_object_get(f, "without"));
        assert_non_null(json_object_get(f, "uplift"));
        assert_int_equal(json_array_size(json_object_get(f, "ci95")), 2);
    }
    assert_non_null(json_object_get(json_object_get(j1, "learning"), "first_day"));
    assert_non_null(json_object_get(json_object_get(j1, "learning"), "last_day"));
    free(s1);
    free(s2);
    json_decref(j1);
    json_decref(j2);
}

/* One coffee seller; its one buyer 100 m north (a 1.6-minute walk, tier < 300 m: 15 %). */
static void tiny_city(struct demo_city *c)
{
    c->sellers[0].cat = DEMO_COFFEE;
    c->sellers[0].max_discount = 25;
    c->sellers[0].capacity = 4;
    c->sellers[0].auto_approve = true;
    c->sellers[0].price_min = 6000;
    c->sellers[0].price_max = 14000; /* mid price 100 TRY */
    c->buyers[0].cats[0] = DEMO_COFFEE;
    c->buyers[0].n_cats = 1;
    c->buyers[0].lat = c->sellers[0].lat + 100.0 / 111195.08;
    c->buyers[0].lng = c->sellers[0].lng;
}

static void tiny_opts(struct sim_opts *o, double p_base, double p_offer, double reliability)
{
    sim_opts_default(o);
    o->seeds = 1;
    o->days = 1;
    o->sellers = 1;
    o->buyers = 1;
    o->p_wish = 1;   /* the buyer wishes */
    o->p_idle = 1;   /* every hour idle: 12 hours x 4 seats */
    o->p_accept = 1; /* unused: the seller has standing approval */
    o->force_p_base = p_base;
    o->force_p_offer = p_offer;
    o->force_reliability = reliability;
    o->edit_city = tiny_city;
}

static void test_tiny_city_by_hand(void **state)
{
    (void)state;
    struct sim_opts o;
    struct sim_run r;
    struct err e;
    err_init(&e);

    /*
     * Alone the buyer never goes (p_base 0); offered a window they always take it and come.
     * Score 0.35·(1/5) + 0.2·1 + 0.15·0 + 0.15·1 + 0.15·0.9 = 0.555 >= 0.5: a window opens.
     */
    tiny_opts(&o, 0, 1, 1);
    assert_int_equal(sim_city_run(&o, 1, &r, &e), 0);
    assert_int_equal(r.windows, 1);
    assert_int_equal(r.with.wishes, 1);
    assert_int_equal(r.with.visits, 1);
    assert_int_equal(r.with.served, 1);
    assert_int_equal(r.with.idle_seats, 48);
    assert_int_equal(r.with.idle_filled, 1);
    assert_int_equal(r.with.revenue, 8500); /* 100 TRY at 15 % off */
    assert_int_equal(r.with.discount, 1500);
    assert_int_equal(r.without.visits, 0);
    assert_int_equal(r.without.revenue, 0);

    /* The buyer would go anyway: one visit in each arm, never two. */
    tiny_opts(&o, 1, 1, 1);
    assert_int_equal(sim_city_run(&o, 1, &r, &e), 0);
    assert_int_equal(r.with.visits, 1);
    assert_int_equal(r.without.visits, 1);
    assert_int_equal(r.without.revenue, 10000);
    assert_int_equal(r.without.discount, 0);

    /* Offer turned down: the wish behaves as without (full price, same visit). */
    tiny_opts(&o, 1, 0, 1);
    assert_int_equal(sim_city_run(&o, 1, &r, &e), 0);
    assert_int_equal(r.windows, 1);
    assert_int_equal(r.commits, 0);
    assert_int_equal(r.with.visits, 1);
    assert_int_equal(r.with.revenue, 10000);
    assert_int_equal(r.with.discount, 0);

    /* Committed, then a no-show: no visit anywhere that day. */
    tiny_opts(&o, 1, 1, 0);
    assert_int_equal(sim_city_run(&o, 1, &r, &e), 0);
    assert_int_equal(r.commits, 1);
    assert_int_equal(r.no_shows, 1);
    assert_int_equal(r.with.visits, 0);
    assert_int_equal(r.without.visits, 1);

    /* The report over one seed: the uplift is exactly with − without, the interval a point. */
    tiny_opts(&o, 0, 1, 1);
    struct sim_report rep;
    assert_int_equal(sim_report_run(&o, &rep, &e), 0);
    assert_true(rep.demand_served.with == 1.0 && rep.demand_served.without == 0.0);
    assert_true(rep.demand_served.uplift == 1.0);
    assert_true(rep.demand_served.lo == 1.0 && rep.demand_served.hi == 1.0);
}

/*
 * The learning comparison is like for like: a policy that forgets every night, on the same city,
 * differs from the learning one only after day 1 (on day 1 both know the same), and the report
 * carries the comparison only when the policy learns.
 */
static void test_learning_like_for_like(void **state)
{
    (void)state;
    struct sim_opts o;
    sim_opts_default(&o);
    o.seeds = 3;
    o.days = 1;
    o.learn = true;
    struct err e;
    err_init(&e);
    struct sim_run learned, forgetting;
    assert_int_equal(sim_city_run(&o, 9, &learned, &e), 0);
    struct sim_opts fo = o;
    fo.forget_daily = true;
    assert_int_equal(sim_city_run(&fo, 9, &forgetting, &e), 0);
    assert_memory_equal(&learned, &forgetting, sizeof(learned)); /* one day: the same run */
    o.days = 3;
    fo.days = 3;
    assert_int_equal(sim_city_run(&o, 9, &learned, &e), 0);
    assert_int_equal(sim_city_run(&fo, 9, &forgetting, &e), 0);
    assert_memory_equal(&learned.first_day, &forgetting.first_day, sizeof(learned.first_day));
    assert_true(memcmp(&learned.last_day, &forgetting.last_day, sizeof(learned.last_day)) != 0);
    struct sim_report r;
    assert_int_equal(sim_report_run(&o, &r, &e), 0);
    json_t *j = sim_report_json(&r);
    json_t *cmp = json_object_get(json_object_get(j, "learning"), "learned_vs_day1");
    assert_non_null(json_object_get(cmp, "learned"));
    assert_non_null(json_object_get(cmp, "day1"));
    assert_int_equal(json_array_size(json_object_get(cmp, "ci95")), 2);
    json_decref(j);
    o.learn = false;
    assert_int_equal(sim_report_run(&o, &r, &e), 0);
    j = sim_report_json(&r);
    assert_null(json_object_get(json_object_get(j, "learning"), "learned_vs_day1"));
    json_decref(j);
}

static void test_bad_options(void **state)
{
    (void)state;
    struct sim_opts o;
    struct sim_run r;
    struct err e;
    sim_opts_default(&o);
    o.days = 0;
    err_init(&e);
    assert_int_equal(sim_city_run(&o, 1, &r, &e), ERR_INVALID);
    assert_string_equal(e.field, "days");
    sim_opts_default(&o);
    o.seeds = 0;
    struct sim_report rep;
    err_init(&e);
    assert_int_equal(sim_report_run(&o, &rep, &e), ERR_INVALID);
    assert_string_equal(e.field, "seeds");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_report),
        cmocka_unit_test(test_tiny_city_by_hand),
        cmocka_unit_test(test_learning_like_for_like),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
