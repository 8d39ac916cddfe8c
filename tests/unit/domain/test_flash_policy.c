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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arms_and_update),
        cmocka_unit_test(test_never_above_the_maximum),
        cmocka_unit_test(test_learns_and_bounds_exploration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
