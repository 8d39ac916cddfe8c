/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/intel/rfm.c: quintile scores computed by hand for ten customers,
 * ties sharing a score (also across a quintile boundary), recency scored the other way round, a
 * single customer, and the segment table row by row.
 */
#include "domain/intel/rfm.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

static void test_scores_by_hand(void **state)
{
    (void)state;
    /* frequency 1..10: #below = 0..9, score 1 + ⌊5k/10⌋ = 1,1,2,2,3,3,4,4,5,5 */
    struct intel_rfm_input in[10];
    for (int i = 0; i < 10; i++)
        in[i] = (struct intel_rfm_input){
            .recency_days = 10 * (i + 1), .frequency = i + 1, .monetary = 100};
    struct intel_rfm_score s[10];
    intel_rfm_score(in, 10, s);
    static const int want[10] = {1, 1, 2, 2, 3, 3, 4, 4, 5, 5};
    for (int i = 0; i < 10; i++) {
        assert_int_equal(s[i].f, want[i]);
        assert_int_equal(s[i].r, want[9 - i]); /* the most recent scores highest */
        assert_int_equal(s[i].m, 1);           /* all equal: nobody is below anybody */
    }
    assert_string_equal(s[0].segment, "new");     /* R 5, F 1 */
    assert_string_equal(s[9].segment, "at_risk"); /* R 1, F 5, M 1 */
}

static void test_ties(void **state)
{
    (void)state;
    /* 1,1,1,1,1,1,2,3,4,5: the six ones share score 1; 2 is above six of ten → 1 + 3 = 4 */
    static const double f[10] = {1, 1, 1, 1, 1, 1, 2, 3, 4, 5};
    struct intel_rfm_input in[10];
    for (int i = 0; i < 10; i++)
        in[i] = (struct intel_rfm_input){.recency_days = 5, .frequency = f[i], .monetary = f[i]};
    struct intel_rfm_score s[10];
    intel_rfm_score(in, 10, s);
    for (int i = 0; i < 6; i++)
        assert_int_equal(s[i].f, 1);
    assert_int_equal(s[6].f, 4);
    assert_int_equal(s[7].f, 4);
    assert_int_equal(s[8].f, 5);
    assert_int_equal(s[9].f, 5);
    struct intel_rfm_input one = {.recency_days = 3, .frequency = 2, .monetary = 9};
    struct intel_rfm_score s1;
    intel_rfm_score(&one, 1, &s1);
    assert_int_equal(s1.r, 1);
    assert_int_equal(s1.f, 1);
}

static void test_segments(void **state)
{
    (void)state;
    static const struct {
        int r, f, m;
        const char *seg;
    } rows[] = {
        {5, 5, 5, "champions"},      {4, 4, 4, "champions"},
        {1, 5, 5, "cannot_lose"},    {3, 5, 1, "loyal"},
        {2, 3, 1, "at_risk"},        {5, 1, 1, "new"},
        {4, 1, 3, "promising"},      {4, 3, 1, "potential_loyal"},
        {3, 3, 3, "need_attention"}, {3, 1, 5, "about_to_sleep"},
        {1, 1, 1, "lost"},           {2, 2, 2, "hibernating"},
        {1, 2, 5, "hibernating"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *got = intel_rfm_segment(rows[i].r, rows[i].f, rows[i].m);
        if (strcmp(got, rows[i].seg) != 0)
            fail_msg("R%d F%d M%d: %s, want %s", rows[i].r, rows[i].f, rows[i].m, got, rows[i].seg);
    }
    /* every cell of the 5x5x5 grid lands in a named segment */
    for (int r = 1; r <= 5; r++)
        for (int f = 1; f <= 5; f++)
            for (int m = 1; m <= 5; m++) {
                const char *got = intel_rfm_segment(r, f, m);
                bool named = false;
                for (int k = 0; intel_rfm_segments[k]; k++)
                    named = named || strcmp(intel_rfm_segments[k], got) == 0;
                assert_true(named);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scores_by_hand),
        cmocka_unit_test(test_ties),
        cmocka_unit_test(test_segments),
    };
    return cmocka_run_group_tests_name("intel_rfm", tests, NULL, NULL);
}
