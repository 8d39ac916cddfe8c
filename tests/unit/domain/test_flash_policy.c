/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the learning discount policy (src/domain/flash/policy.c): arms from the tiers
 * capped at the seller's maximum, the Beta update, the choice's bounds (never above the
 * maximum, exploration bounded by max_regret), convergence to the better arm, and the trace
 * sentence. Deterministic: the random state is the test's.
 */
#include "domain/flash/policy.h"
#include "domain/flash/flash.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

static void test_arms_and_update(void **state)
{
    (void)state;
    struct flash_config cfg;
    flash_config_default(&cfg); /* tiers 15 / 20 / 30 % */
    struct flash_policy p;
    flash_policy_init(&p, &cfg, 25, 0.3, 2);
    assert_int_equal(p.n_arms, 3);
    assert_int_equal(p.arms[0].discount, 15);
    assert_int_equal(p.arms[1].discount, 20);
    assert_int_equal(p.arms[2].discount, 25); /* 30 capped at the seller's 25 */
    assert_true(fabs(flash_policy_mean(&p, 0) - 0.3) < 1e-12);
    /* a seller max of 18: 15 and 18 (20 and 30 both cap to 18, one arm) */
    struct flash_policy q;
    flash_policy_init(&q, &cfg, 18, 0.3, 2);
    assert_int_equal(q.n_arms, 2);
    assert_int_equal(q.arms[1].discount, 18);

    flash_policy_update(&p, 20, 10, 4);
    assert_true(fabs(p.arms[1].alpha - (0.6 + 4)) < 1e-12);
    assert_true(fabs(p.arms[1].beta - (1.4 + 6)) < 1e-12);
    assert_true(fabs(flash_policy_mean(&p, 1) - 4.6 / 12) < 1e-12);
    /* visits above offers are clamped; unknown discounts are ignored */
    flash_policy_update(&p, 15, 2, 5);
    assert_true(fabs(p.arms[0].alpha - 2.6) < 1e-12 && fabs(p.arms[0].beta - 1.4) < 1e-12);
    struct flash_policy before = p;
    flash_policy_update(&p, 17, 10, 10);
    assert_memory_equal(&before, &p, sizeof(p));
}

static void test_never_above_the_maximum(void **state)
{
    (void)state;
    struct flash_config cfg;
    flash_config_default(&cfg);
    struct flash_policy p;
    flash_policy_init(&p, &cfg, 30, 0.3, 2);
    /* the 30 % arm looks best by far, but this seller now allows only 20 % */
    flash_policy_update(&p, 30, 100, 90);
    uint64_t rng = 42;
    for (int i = 0; i < 500; i++) {
        int d = flash_policy_choose(&p, 20, true, 1.0, &rng, NULL, 0);
        assert_true(d == 15 || d == 20);
    }
    assert_int_equal(flash_policy_choose(&p, 10, true, 1.0, &rng, NULL, 0), 0);
    assert_int_equal(flash_policy_choose(&p, 30, false, 0, &rng, NULL, 0), 30);
}

static void test_learns_and_bounds_exploration(void **state)
{
    (void)state;
    struct flash_config cfg;
    flash_config_default(&cfg);
    struct flash_policy p;
    flash_policy_init(&p, &cfg, 30, 0.3, 2);
    /* true visit rates: 15 % → 0.10, 20 % → 0.40, 30 % → 0.30; value 0.085 / 0.32 / 0.21 */
    static const double truth[] = {0.10, 0.40, 0.30};
    uint64_t rng = 7, world = 99;
    int picks[3] = {0};
    for (int round = 0; round < 400; round++) {
        int d = flash_policy_choose(&p, 30, true, 0.2, &rng, NULL, 0);
        int arm = d == 15 ? 0 : d == 20 ? 1 : 2;
        picks[arm]++;
        int visits = 0;
        for (int k = 0; k < 5; k++) {
            world = world * 6364136223846793005u + 1442695040888963407u;
            visits += (double)(world >> 11) / (double)(UINT64_C(1) << 53) < truth[arm];
        }
        flash_policy_update(&p, d, 5, visits);
    }
    assert_true(picks[1] > picks[0] && picks[1] > picks[2]);
    assert_true(picks[1] > 200);
    /* without exploration: the best posterior mean value, 20 % */
    assert_int_equal(flash_policy_choose(&p, 30, false, 0, &rng, NULL, 0), 20);
    /* bounded: with max_regret 0.05, the 15 % arm (mean value far below) is never drawn */
    for (int i = 0; i < 300; i++)
        assert_int_not_equal(flash_policy_choose(&p, 30, true, 0.05, &rng, NULL, 0), 15);
    char why[160];
    flash_policy_choose(&p, 30, false, 0, &rng, why, sizeof(why));
    assert_non_null(strstr(why, "20% chosen: posterior mean visit rate 0."));
    assert_non_null(strstr(why, " at 30%"));
}

/*
 * The exploration bound shuts an arm out once it is measured poor, never on its prior alone: an
 * untried 30 % arm (prior mean value 0.21) is still tried beside a well-measured 20 % arm (0.29).
 */
static void test_untried_arm_not_shut_out(void **state)
{
    (void)state;
    struct flash_config cfg;
    flash_config_default(&cfg);
    struct flash_policy p;
    flash_policy_init(&p, &cfg, 30, 0.3, 2);
    flash_policy_update(&p, 20, 100, 36);
    uint64_t rng = 11;
    int tried = 0;
    for (int i = 0; i < 300; i++)
        tried += flash_policy_choose(&p, 30, true, 0.05, &rng, NULL, 0) == 30;
    assert_true(tried > 0);
    /* measured poor (0.10 over 200 offers): shut out */
    flash_policy_update(&p, 30, 200, 20);
    for (int i = 0; i < 300; i++)
        assert_int_not_equal(flash_policy_choose(&p, 30, true, 0.05, &rng, NULL, 0), 30);
}

/* A pooled prior: what the other sellers saw at each discount, bounded by pool_max. */
static void test_pooled_prior(void **state)
{
    (void)state;
    struct flash_config cfg;
    flash_config_default(&cfg);
    struct flash_policy p;
    flash_policy_init(&p, &cfg, 30, 0.3, 2);
    static const struct flash_policy_evidence ev[] = {
        {30, 60, 30}, /* two sellers at 30 %: 90 offers, 45 visits */
        {30, 30, 15},
        {15, 10, 1},
        {25, 50, 50}, /* no 25 % arm: ignored */
    };
    flash_policy_pool(&p, ev, 4, 0.3, 2, 40);
    /* 30 %: mean (0.6 + 45) / 92, weight 2 + 40 */
    int i30 = p.arms[2].discount == 30 ? 2 : -1;
    assert_int_equal(i30, 2);
    double m = (0.3 * 2 + 45) / 92.0;
    assert_true(fabs(flash_policy_mean(&p, 2) - m) < 1e-9);
    assert_true(fabs(p.arms[2].alpha + p.arms[2].beta - 42) < 1e-9);
    /* 15 %: (0.6 + 1) / 12, weight 12 */
    assert_true(fabs(flash_policy_mean(&p, 0) - 1.6 / 12) < 1e-9);
    assert_true(fabs(p.arms[0].alpha + p.arms[0].beta - 12) < 1e-9);
    /* 20 %: nothing seen, the first prior */
    assert_true(fabs(flash_policy_mean(&p, 1) - 0.3) < 1e-9);
    /* the seller's own outcomes then count in full */
    flash_policy_update(&p, 20, 10, 9);
    assert_true(fabs(flash_policy_mean(&p, 1) - (0.6 + 9) / 12.0) < 1e-9);
    /* without exploration: the seller's own 9 of 10 at 20 % decide; without them, the pool's
     * 30 % (0.49 · 0.7 = 0.34 against the prior's 0.3 · 0.8 = 0.24) */
    uint64_t rng = 3;
    assert_int_equal(flash_policy_choose(&p, 30, false, 0, &rng, NULL, 0), 20);
    flash_policy_init(&p, &cfg, 30, 0.3, 2);
    flash_policy_pool(&p, ev, 4, 0.3, 2, 40);
    assert_int_equal(flash_policy_choose(&p, 30, false, 0, &rng, NULL, 0), 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arms_and_update),
        cmocka_unit_test(test_never_above_the_maximum),
        cmocka_unit_test(test_learns_and_bounds_exploration),
        cmocka_unit_test(test_untried_arm_not_shut_out),
        cmocka_unit_test(test_pooled_prior),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
