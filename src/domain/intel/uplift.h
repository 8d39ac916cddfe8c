/* SPDX-License-Identifier: MIT */
/*
 * Treatment against holdout: the difference in conversion rate and in revenue per customer,
 * each with a 95 % confidence interval. Pure. Tests: tests/unit/domain/test_intel_uplift.c.
 *
 * Exactly, for arms t (treatment) and h (holdout) with n customers, x of them converted, and
 * per-customer revenues r_i (0 for those who did not convert), S = Σ r_i, Q = Σ r_i²:
 *   conversion   p = x / n; diff = p_t − p_h; se = √(p_t(1 − p_t)/n_t + p_h(1 − p_h)/n_h)
 *                (Wald); defined when both n ≥ 1.
 *   revenue      m = S / n; s² = (Q − n·m²) / (n − 1) (sample variance, clamped at 0);
 *                diff = m_t − m_h; se = √(s_t²/n_t + s_h²/n_h) (Welch); defined when both n ≥ 2.
 *   interval     diff ± 1.959964 · se (normal approximation; with few customers or few
 *                conversions it is optimistic, and the report shows n and x beside it).
 */
#ifndef ICESHOP_DOMAIN_INTEL_UPLIFT_H
#define ICESHOP_DOMAIN_INTEL_UPLIFT_H

#include <stdbool.h>
#include <stdint.h>

#define UPLIFT_Z95 1.959964

struct uplift_arm {
    int64_t customers;
    int64_t converted;
    double revenue;    /* S: Σ per-customer revenue, minor units */
    double revenue_sq; /* Q: Σ of their squares */
};

struct uplift_diff {
    bool defined;
    double estimate, low, high;
};

struct uplift_result {
    double rate_t, rate_h;         /* conversion rates; 0 for an empty arm */
    double per_cust_t, per_cust_h; /* revenue per customer, minor units; 0 for an empty arm */
    struct uplift_diff conversion;
    struct uplift_diff revenue;
};

void uplift_compare(const struct uplift_arm *t, const struct uplift_arm *h,
                    struct uplift_result *out);

#endif
