/* SPDX-License-Identifier: MIT */
/*
 * The probabilistic customer model of customer intelligence, pure: BG/NBD (Fader, Hardie and
 * Lee 2005) for how often and how long customers buy, and Gamma-Gamma (Fader and Hardie 2013)
 * for how much, each fitted by maximum likelihood; then per customer the expected purchases in
 * the next t time units, the probability of being alive, and the expected value of a purchase.
 * Counting as the literature and its reference implementations count: x = repeat purchases
 * (purchase occasions after the first, several orders on one day are one occasion), t_x = time
 * of the last purchase and T = time of observation, both from the first purchase, in the
 * caller's time unit (days or weeks: the fit's parameters are in that unit).
 * Tests: tests/unit/domain/test_intel_bgnbd.c (CDNOW's published fits, gradients against
 * finite differences, a synthetic population drawn from known parameters).
 *
 * Exactly:
 *   BG/NBD      per customer LL = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
 *               + ln[(α+T)^−(r+x) + [x>0] a/(b+x−1) (α+t_x)^−(r+x)]
 *   P(alive)    1 / (1 + [x>0] a/(b+x−1) ((α+T)/(α+t_x))^(r+x))
 *   E[X(t)]     (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))]
 *               · P(alive)            (a > 1; otherwise the expectation diverges: NAN)
 *   Gamma-Gamma per repeat customer LL = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ
 *               + (px−1) ln z̄ + px ln x − (px+q) ln(γ + x z̄)    (z̄ > 0, x ≥ 1)
 *   E[value]    p (γ + x z̄) / (p x + q − 1)    (q > 1)
 *   fit         BFGS on the mean negative log-likelihood over the log-parameters, with the
 *               analytic gradient; converged when the gradient's largest component < 1e-7.
 *               Log-parameters stay within ±25. When the likelihood has its maximum on a
 *               boundary (a population whose drop-out probability is nearly the same for all:
 *               a and b grow without end), the plain fit cannot converge; it is then fitted
 *               again with 0.001 · (a² + b²) added to the objective (the parameters that drift;
 *               the lifetimes library's penalizer_coef penalizes all four), and `penalizer` says
 *               so. Gamma-Gamma falls back the same way with 0.001 · (p² + q² + γ²).
 *               For a whole x the Beta-function ratio is the exact product Π (b+i)/(a+b+i).
 */
#ifndef ICESHOP_DOMAIN_INTEL_BGNBD_H
#define ICESHOP_DOMAIN_INTEL_BGNBD_H

#include "core/err.h"

#include <stddef.h>

struct intel_rfm {
    double x;    /* repeat purchases */
    double t_x;  /* time of the last purchase, from the first */
    double T;    /* time observed, from the first purchase */
    double zbar; /* mean value of the repeat purchases (Gamma-Gamma), 0 without */
};

struct intel_bgnbd {
    double r, alpha, a, b;
    double log_likelihood; /* the sum over the customers fitted */
    int iterations;
    double penalizer; /* 0, or the fallback fit's weight (see "fit") */
};

struct intel_gamma_gamma {
    double p, q, gamma;
    double log_likelihood;
    int iterations;
    double penalizer; /* 0, or the fallback fit's weight (see "fit") */
};

/* The BG/NBD log-likelihood of one customer; grad (may be NULL) gets d/d(r, α, a, b). */
double intel_bgnbd_ll(const struct intel_bgnbd *m, const struct intel_rfm *c, double grad[4]);
/* Fit to n customers (n ≥ 1). ERR_INVALID for impossible data (t_x > T, x < 0, x > 0 with
 * t_x = 0 is allowed), ERR_INTERNAL naming why when the optimiser does not converge. */
int intel_bgnbd_fit(const struct intel_rfm *c, size_t n, struct intel_bgnbd *out, struct err *e);
double intel_bgnbd_p_alive(const struct intel_bgnbd *m, const struct intel_rfm *c);
double intel_bgnbd_expected(const struct intel_bgnbd *m, const struct intel_rfm *c, double t);

/* The Gamma-Gamma log-likelihood of one repeat customer; grad (may be NULL): d/d(p, q, γ). */
double intel_gg_ll(const struct intel_gamma_gamma *m, const struct intel_rfm *c, double grad[3]);
/* Fit to the customers with x ≥ 1 and zbar > 0 among c (others are skipped; none: ERR_INVALID). */
int intel_gg_fit(const struct intel_rfm *c, size_t n, struct intel_gamma_gamma *out, struct err *e);
double intel_gg_expected_value(const struct intel_gamma_gamma *m, const struct intel_rfm *c);

/* ψ, the digamma function (x > 0). */
double intel_digamma(double x);

#endif
