/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/intel/uplift.c against figures computed by hand (the formulas are
 * in uplift.h): a conversion difference with its Wald interval, revenue per customer with its
 * Welch interval, and the cases where an arm is too small for an interval.
 */
#include "domain/intel/uplift.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void test_conversion(void **state)
{
    (void)state;
    /* treatment 30 of 100, holdout 2 of 20: rates 0.3 and 0.1, diff 0.2;
     * se = sqrt(0.3·0.7/100 + 0.1·0.9/20) = sqrt(0.0021 + 0.0045) = sqrt(0.0066) */
    struct uplift_arm t = {.customers = 100, .converted = 30};
    struct uplift_arm h = {.customers = 20, .converted = 2};
    struct uplift_result u;
    uplift_compare(&t, &h, &u);
    NEAR(u.rate_t, 0.3);
    NEAR(u.rate_h, 0.1);
    assert_true(u.conversion.defined);
    NEAR(u.conversion.estimate, 0.2);
    double se = sqrt(0.0066);
    NEAR(u.conversion.low, 0.2 - 1.959964 * se);
    NEAR(u.conversion.high, 0.2 + 1.959964 * se);
    /* 0.2 ± 0.15923: the interval excludes 0 */
    assert_true(u.conversion.low > 0.04 && u.conversion.low < 0.041);
}

static void test_revenue(void **state)
{
    (void)state;
    /* treatment revenues {100, 0, 200, 0}: S = 300, Q = 50 000, mean 75,
     *   s² = (50 000 − 4·75²) / 3 = (50 000 − 22 500) / 3 = 9 166.67
     * holdout revenues {50, 0, 0}: S = 50, Q = 2 500, mean 16.67,
     *   s² = (2 500 − 3·(50/3)²) / 2 = (2 500 − 833.33) / 2 = 833.33
     * diff = 58.33; se = sqrt(9 166.67/4 + 833.33/3) = sqrt(2 291.67 + 277.78) */
    struct uplift_arm t = {.customers = 4, .converted = 2, .revenue = 300, .revenue_sq = 50000};
    struct uplift_arm h = {.customers = 3, .converted = 1, .revenue = 50, .revenue_sq = 2500};
    struct uplift_result u;
    uplift_compare(&t, &h, &u);
    NEAR(u.per_cust_t, 75);
    NEAR(u.per_cust_h, 50.0 / 3);
    assert_true(u.revenue.defined);
    NEAR(u.revenue.estimate, 75 - 50.0 / 3);
    double se = sqrt((27500.0 / 3) / 4 + ((2500 - 2500.0 / 3) / 2) / 3);
    NEAR(u.revenue.high - u.revenue.estimate, 1.959964 * se);
    assert_true(se > 50.68 && se < 50.70); /* sqrt(2569.44) = 50.69 */
}

static void test_small_arms(void **state)
{
    (void)state;
    struct uplift_arm t = {.customers = 1, .converted = 1, .revenue = 10, .revenue_sq = 100};
    struct uplift_arm none = {0};
    struct uplift_result u;
    uplift_compare(&t, &none, &u);
    assert_false(u.conversion.defined); /* no holdout: nothing to compare with */
    assert_false(u.revenue.defined);
    NEAR(u.rate_t, 1);
    NEAR(u.rate_h, 0);
    struct uplift_arm h = {.customers = 1};
    uplift_compare(&t, &h, &u);
    assert_true(u.conversion.defined); /* one each: a rate difference, se 0 */
    NEAR(u.conversion.low, 1);
    assert_false(u.revenue.defined); /* a variance needs two */
    /* identical revenues: the sample variance rounds to 0 and is clamped, never negative */
    struct uplift_arm a = {.customers = 3, .converted = 3, .revenue = 0.3, .revenue_sq = 0.03};
    uplift_compare(&a, &a, &u);
    assert_true(u.revenue.defined);
    NEAR(u.revenue.estimate, 0);
    assert_true(u.revenue.low <= 0 && u.revenue.high >= 0 && !isnan(u.revenue.low));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conversion),
        cmocka_unit_test(test_revenue),
        cmocka_unit_test(test_small_arms),
    };
    return cmocka_run_group_tests_name("intel_uplift", tests, NULL, NULL);
}
