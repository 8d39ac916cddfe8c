/* SPDX-License-Identifier: MIT */
/*
 * RFM scores and segments, pure: each customer's recency, frequency and monetary value scored 1–5
 * by quintiles of the tenant's customers, and named by a fixed table of segments.
 * Tests: tests/unit/domain/test_intel_rfm.c.
 *
 * Exactly:
 *   score   of a value v among n values, for a measure where more is better (frequency,
 *           monetary): 1 + ⌊5 · #{values < v} / n⌋, at most 5; for recency (days since the last
 *           order, fewer is better) #{values > v} instead. Ties share a score, and a quintile
 *           boundary never splits equal values.
 *   segment the first row that matches, R, F, M being the scores:
 *             champions        R ≥ 4, F ≥ 4, M ≥ 4
 *             cannot_lose      R ≤ 2, F ≥ 4, M ≥ 4
 *             loyal            R ≥ 3, F ≥ 4
 *             at_risk          R ≤ 2, F ≥ 3
 *             new              R = 5, F = 1
 *             promising        R = 4, F = 1
 *             potential_loyal  R ≥ 4, F ≤ 3
 *             need_attention   R = 3, F = 3
 *             about_to_sleep   R = 3, F ≤ 2
 *             lost             R = 1, F = 1
 *             hibernating      otherwise (R ≤ 2, F ≤ 2)
 */
#ifndef ICESHOP_DOMAIN_INTEL_RFM_H
#define ICESHOP_DOMAIN_INTEL_RFM_H

#include <stddef.h>

struct intel_rfm_input {
    double recency_days;
    double frequency; /* orders (cancelled and refunded ones never count) */
    double monetary;  /* spend, in the tenant's currency's major units */
};

struct intel_rfm_score {
    int r, f, m;         /* 1..5 */
    const char *segment; /* static: "champions", ... */
};

/* Score n customers (n ≥ 1) into out[0..n). O(n log n); `in` is not changed. */
void intel_rfm_score(const struct intel_rfm_input *in, size_t n, struct intel_rfm_score *out);

/* The segment of scores (r, f, m), each 1..5. */
const char *intel_rfm_segment(int r, int f, int m);

extern const char *const intel_rfm_segments[]; /* every name, in the table's order, NULL */

#endif
