/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/intel/bgnbd.c: the published fits on the CDNOW sample
 * (data/intel/cdnow_summary.csv: BG/NBD r 0.243, α 4.414, a 0.793, b 2.426, LL −9582.4; the
 * paper's 39-week prediction for a heavy buyer; Gamma-Gamma p 6.25, q 3.74, γ 15.44), both
 * gradients against central finite differences, a population drawn from known parameters whose
 * fit finds them again, the shared terms of whole-day histories, and refused histories.
 */
#include "domain/intel/bgnbd.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CDNOW "data/intel/cdnow_summary.csv"

static struct intel_rfm *load_cdnow(size_t *n)
{
    FILE *f = fopen(CDNOW, "r");
    if (!f)
        fail_msg("cannot open %s (run from the repository root)", CDNOW);
    struct intel_rfm *c = calloc(4000, sizeof(*c));
    char line[256];
    *n = 0;
    if (!fgets(line, sizeof(line), f)) /* the header */
        fail_msg("%s is empty", CDNOW);
    while (*n < 4000 && fgets(line, sizeof(line), f)) {
        int id;
        struct intel_rfm *r = &c[*n];
        if (sscanf(line, "%d,%lf,%lf,%lf,%lf", &id, &r->x, &r->t_x, &r->T, &r->zbar) == 5)
            (*n)++;
    }
    fclose(f);
    return c;
}

static void near(double got, double want, double rel, const char *what)
{
    if (fabs(got - want) > rel * fabs(want))
        fail_msg("%s: %.6g, want %.6g (within %.2g%%)", what, got, want, rel * 100);
}

static void test_cdnow_published(void **state)
{
    (void)state;
    size_t n;
    struct intel_rfm *c = load_cdnow(&n);
    assert_int_equal(n, 2357);
    struct err e;
    err_init(&e);
    struct intel_bgnbd m;
    if (intel_bgnbd_fit(c, n, &m, &e))
        fail_msg("fit: %s", e.msg);
    near(m.r, 0.243, 0.005, "r");
    near(m.alpha, 4.414, 0.005, "alpha");
    near(m.a, 0.793, 0.005, "a");
    near(m.b, 2.426, 0.005, "b");
    near(m.log_likelihood, -9582.4, 0.0001, "log-likelihood");
    /* the paper's heavy buyer: 26 repeat purchases, the last in week 30.86 of 31 */
    struct intel_rfm heavy = {.x = 26, .t_x = 30.86, .T = 31};
    near(intel_bgnbd_expected(&m, &heavy, 39), 25.46, 0.005, "E[X(39)] of the heavy buyer");
    assert_true(intel_bgnbd_p_alive(&m, &heavy) > 0.9);
    /* one who bought often, then stopped long ago, is probably gone */
    struct intel_rfm gone = {.x = 10, .t_x = 5, .T = 38};
    assert_true(intel_bgnbd_p_alive(&m, &gone) < 0.05);
    struct intel_rfm once = {.x = 0, .t_x = 0, .T = 38};
    assert_true(intel_bgnbd_p_alive(&m, &once) == 1.0);

    struct intel_gamma_gamma g;
    if (intel_gg_fit(c, n, &g, &e))
        fail_msg("Gamma-Gamma fit: %s", e.msg);
    near(g.p, 6.25, 0.005, "p");
    near(g.q, 3.74, 0.005, "q");
    near(g.gamma, 15.44, 0.005, "gamma");
    /* a buyer's expected value lies between their own mean and the population's */
    struct intel_rfm spender = {.x = 10, .t_x = 30, .T = 38, .zbar = 100};
    double ev = intel_gg_expected_value(&g, &spender), pop = g.p * g.gamma / (g.q - 1);
    assert_true(ev < 100 && ev > pop);
    free(c);
}

static void test_gradients(void **state)
{
    (void)state;
    static const struct intel_rfm cs[] = {{.x = 0, .t_x = 0, .T = 38.86},
                                          {.x = 2, .t_x = 30.43, .T = 38.86, .zbar = 22.35},
                                          {.x = 1, .t_x = 1.71, .T = 38.86, .zbar = 11.77},
                                          {.x = 29, .t_x = 37.71, .T = 38, .zbar = 7.3}};
    struct intel_bgnbd m = {.r = 0.4, .alpha = 3.1, .a = 0.9, .b = 2.2};
    for (size_t k = 0; k < sizeof(cs) / sizeof(cs[0]); k++) {
        double g[4];
        intel_bgnbd_ll(&m, &cs[k], g);
        double *p[4] = {&m.r, &m.alpha, &m.a, &m.b};
        for (int i = 0; i < 4; i++) {
            double keep = *p[i], h = 1e-6 * keep;
            *p[i] = keep + h;
            double up = intel_bgnbd_ll(&m, &cs[k], NULL);
            *p[i] = keep - h;
            double down = intel_bgnbd_ll(&m, &cs[k], NULL);
            *p[i] = keep;
            double fd = (up - down) / (2 * h);
            if (fabs(fd - g[i]) > 1e-5 * (1 + fabs(fd)))
                fail_msg("BG/NBD d/dθ%d for customer %zu: analytic %.9g, numeric %.9g", i, k, g[i],
                         fd);
        }
    }
    struct intel_gamma_gamma gg = {.p = 5.1, .q = 3.2, .gamma = 14};
    for (size_t k = 1; k < sizeof(cs) / sizeof(cs[0]); k++) {
        double g[3];
        intel_gg_ll(&gg, &cs[k], g);
        double *p[3] = {&gg.p, &gg.q, &gg.gamma};
        for (int i = 0; i < 3; i++) {
            double keep = *p[i], h = 1e-6 * keep;
            *p[i] = keep + h;
            double up = intel_gg_ll(&gg, &cs[k], NULL);
            *p[i] = keep - h;
            double down = intel_gg_ll(&gg, &cs[k], NULL);
            *p[i] = keep;
            double fd = (up - down) / (2 * h);
            if (fabs(fd - g[i]) > 1e-5 * (1 + fabs(fd)))
                fail_msg("Gamma-Gamma d/dθ%d for customer %zu: analytic %.9g, numeric %.9g", i, k,
                         g[i], fd);
        }
    }
    /* ψ against known values: ψ(1) = −γ, ψ(0.5) = −γ − 2 ln 2 */
    near(intel_digamma(1), -0.5772156649015329, 1e-12, "psi(1)");
    near(intel_digamma(0.5), -1.9635100260214235, 1e-12, "psi(0.5)");
}

/* xorshift64* uniform in (0, 1) */
static double u01(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return ((double)((*s * 0x2545F4914F6CDD1DULL) >> 11) + 0.5) / 9007199254740992.0;
}

/* Gamma(shape k, scale 1) by Marsaglia and Tsang (with the k < 1 boost). */
static double gamma_draw(double k, uint64_t *s)
{
    if (k < 1)
        return gamma_draw(k + 1, s) * pow(u01(s), 1 / k);
    double d = k - 1.0 / 3, cc = 1 / sqrt(9 * d);
    for (;;) {
        double x, v;
        do {
            double u1 = u01(s), u2 = u01(s);
            x = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
            v = 1 + cc * x;
        } while (v <= 0);
        v = v * v * v;
        double u = u01(s);
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

/* The BG/NBD story: λ ~ Gamma(r, 1/α), p ~ Beta(a, b); buy at rate λ, drop out after each buy. */
static void test_recovers_known_parameters(void **state)
{
    (void)state;
    const double r = 0.5, alpha = 6, a = 1.2, b = 3.5, T = 52;
    enum { N = 6000 };
    struct intel_rfm *c = calloc(N, sizeof(*c));
    uint64_t s = 42;
    for (int i = 0; i < N; i++) {
        double lambda = gamma_draw(r, &s) / alpha;
        double ga = gamma_draw(a, &s), gb = gamma_draw(b, &s), p = ga / (ga + gb);
        double t = 0, last = 0;
        int x = 0;
        for (;;) {
            t += -log(u01(&s)) / lambda;
            if (t > T)
                break;
            x++;
            last = t;
            if (u01(&s) < p)
                break; /* gone after this purchase */
        }
        c[i] = (struct intel_rfm){.x = x, .t_x = last, .T = T};
    }
    struct err e;
    err_init(&e);
    struct intel_bgnbd m;
    if (intel_bgnbd_fit(c, N, &m, &e))
        fail_msg("fit: %s", e.msg);
    near(m.r, r, 0.15, "r");
    near(m.alpha, alpha, 0.2, "alpha");
    near(m.a, a, 0.35, "a");
    near(m.b, b, 0.45, "b");
    assert_true(m.penalizer == 0); /* an interior maximum: plain maximum likelihood */
    /*
     * the fit shares the terms of equal repeat counts between customers; at its maximum the
     * gradient summed customer by customer (in log parameters, per customer) is zero too
     */
    double g[4] = {0}, th[4] = {m.r, m.alpha, m.a, m.b};
    for (int i = 0; i < N; i++) {
        double gi[4];
        intel_bgnbd_ll(&m, &c[i], gi);
        for (int k = 0; k < 4; k++)
            g[k] += gi[k] * th[k] / N;
    }
    for (int k = 0; k < 4; k++)
        if (fabs(g[k]) > 1e-6)
            fail_msg("gradient %d at the fit: %g", k, g[k]);
    free(c);
}

/*
 * In whole days (as the model's histories are) the fits also share ln(α + t) and Gamma-Gamma's
 * terms of equal repeat counts between customers: at both maxima the gradients summed customer
 * by customer through the public likelihoods are zero.
 */
static void test_whole_days_shared(void **state)
{
    (void)state;
    const double r = 0.7, alpha = 20, a = 1.1, b = 2.5, T = 400;
    enum { N = 4000 };
    struct intel_rfm *c = calloc(N, sizeof(*c));
    uint64_t s = 7;
    for (int i = 0; i < N; i++) {
        double lambda = gamma_draw(r, &s) / alpha;
        double ga = gamma_draw(a, &s), gb = gamma_draw(b, &s), p = ga / (ga + gb);
        double t = 0, last = 0, spend = 0, mean = 20 + 60 * u01(&s);
        int x = 0;
        for (;;) {
            t += -log(u01(&s)) / lambda;
            if (t > T)
                break;
            x++;
            last = t;
            spend += mean * (0.5 + u01(&s));
            if (u01(&s) < p)
                break;
        }
        /* T of each customer a whole number of days of its own */
        double Ti = T - floor(100 * u01(&s));
        double tx = floor(last) < Ti ? floor(last) : Ti;
        c[i] = (struct intel_rfm){.x = x, .t_x = tx, .T = Ti, .zbar = x ? spend / x : 0};
    }
    struct err e;
    err_init(&e);
    struct intel_bgnbd m;
    if (intel_bgnbd_fit(c, N, &m, &e))
        fail_msg("fit: %s", e.msg);
    assert_true(m.penalizer == 0);
    double g[4] = {0}, th[4] = {m.r, m.alpha, m.a, m.b};
    for (int i = 0; i < N; i++) {
        double gi[4];
        intel_bgnbd_ll(&m, &c[i], gi);
        for (int k = 0; k < 4; k++)
            g[k] += gi[k] * th[k] / N;
    }
    for (int k = 0; k < 4; k++)
        if (fabs(g[k]) > 1e-6)
            fail_msg("BG/NBD gradient %d at the fit: %g", k, g[k]);
    struct intel_gamma_gamma gg;
    if (intel_gg_fit(c, N, &gg, &e))
        fail_msg("Gamma-Gamma fit: %s", e.msg);
    assert_true(gg.penalizer == 0);
    double h[3] = {0}, ph[3] = {gg.p, gg.q, gg.gamma};
    int used = 0;
    for (int i = 0; i < N; i++)
        used += c[i].x >= 1;
    for (int i = 0; i < N; i++) {
        if (c[i].x < 1)
            continue;
        double hi[3];
        intel_gg_ll(&gg, &c[i], hi);
        for (int k = 0; k < 3; k++)
            h[k] += hi[k] * ph[k] / used;
    }
    for (int k = 0; k < 3; k++)
        if (fabs(h[k]) > 1e-6)
            fail_msg("Gamma-Gamma gradient %d at the fit: %g", k, h[k]);
    free(c);
}

/*
 * Everyone drops out with the same p = 0.25: the likelihood can grow without end as a and b grow
 * with a/(a+b) near 0.25 (for this sample it does), so the plain fit cannot converge; the
 * penalized fallback does, keeps the purchase rate and roughly the mean drop-out, and says it
 * was penalized. The likelihood stays exact
 * at huge a and b (it lost every digit through differences of ln Γ before).
 */
static void test_boundary_falls_back(void **state)
{
    (void)state;
    const double r = 0.8, alpha = 10, p = 0.25, T = 60;
    enum { N = 4000 };
    struct intel_rfm *c = calloc(N, sizeof(*c));
    uint64_t s = 8; /* a sample whose plain maximum lies on the boundary */
    for (int i = 0; i < N; i++) {
        double lambda = gamma_draw(r, &s) / alpha;
        double t = 0, last = 0;
        int x = 0;
        for (;;) {
            t += -log(u01(&s)) / lambda;
            if (t > T)
                break;
            x++;
            last = t;
            if (u01(&s) < p)
                break;
        }
        c[i] = (struct intel_rfm){.x = x, .t_x = last, .T = T};
    }
    struct err e;
    err_init(&e);
    struct intel_bgnbd m;
    if (intel_bgnbd_fit(c, N, &m, &e))
        fail_msg("fit: %s", e.msg);
    if (!(m.penalizer > 0))
        fail_msg("plain fit converged: r %g alpha %g a %g b %g", m.r, m.alpha, m.a, m.b);
    /* the penalty shrinks a and b, which moves the mean drop-out: close, not exact */
    near(m.a / (m.a + m.b), p, 0.3, "mean drop-out a/(a+b)");
    near(m.r / m.alpha, r / alpha, 0.1, "mean rate r/alpha");
    assert_true(isfinite(m.log_likelihood));
    /* at a = b = 1e10 the ratio B(a, b+x)/B(a, b) is 2^-x exactly enough */
    struct intel_bgnbd huge = {.r = 1, .alpha = 1, .a = 1e10, .b = 1e10};
    struct intel_rfm one = {.x = 3, .t_x = 5, .T = 10};
    struct intel_bgnbd unit = {.r = 1, .alpha = 1, .a = 1, .b = 1};
    double ll = intel_bgnbd_ll(&huge, &one, NULL);
    /* A1 and the A3/A4 mix do not depend on a, b except through a/(b+x−1) → 1 */
    double expect =
        lgamma(4) - lgamma(1) + 0 + 3 * log(0.5) + log(exp(-4 * log(11.0)) + exp(-4 * log(6.0)));
    near(ll, expect, 1e-6, "ll at huge a, b");
    assert_true(isfinite(intel_bgnbd_ll(&unit, &one, NULL)));
    free(c);
}

static void test_refused(void **state)
{
    (void)state;
    struct err e;
    err_init(&e);
    struct intel_bgnbd m;
    struct intel_rfm bad[] = {{.x = 1, .t_x = 40, .T = 38}};
    assert_int_equal(intel_bgnbd_fit(bad, 1, &m, &e), ERR_INVALID);
    assert_int_equal(intel_bgnbd_fit(NULL, 0, &m, &e), ERR_INVALID);
    struct intel_gamma_gamma g;
    struct intel_rfm none[] = {{.x = 0, .t_x = 0, .T = 10}};
    assert_int_equal(intel_gg_fit(none, 1, &g, &e), ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cdnow_published),           cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_recovers_known_parameters), cmocka_unit_test(test_whole_days_shared),
        cmocka_unit_test(test_boundary_falls_back),       cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests_name("intel_bgnbd", tests, NULL, NULL);
}
