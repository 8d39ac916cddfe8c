/* SPDX-License-Identifier: MIT */
/*
 * BG/NBD and Gamma-Gamma (see bgnbd.h): the likelihoods with their gradients, a small BFGS over
 * log-parameters, and the per-customer predictions. Pure. Tests:
 * tests/unit/domain/test_intel_bgnbd.c.
 */
#include "domain/intel/bgnbd.h"
#include "core/xalloc.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIM     4
#define MAX_ITERS   500
#define GRAD_TOL    1e-7
#define WHOLE_MAX   100000 /* repeat counts up to this use the exact products */
#define XTERMS_MAX  10000  /* repeat counts up to this share their terms in a fit */
#define DAYS_MAX    100000 /* whole-day times up to this share their ln(α + t) in a fit */
#define PHI_MAX     25     /* |log-parameter| beyond this is outside the search (e^25 ≈ 7e10) */
#define PHI_DRIFT   20     /* a fit past this is heading for a boundary */
#define PENALIZER   1e-3
#define STALL_EVERY 25 /* iterations between checks that the objective still improves */
#define STALL_GAIN                                                                                  \
    1e-9 /* relative improvement over them below which the fit has stalled */ /* the fallback       \
                                                                                 fit's weight on Σ \
                                                                                 θ² */

double intel_digamma(double x)
{
    double r = 0;
    while (x < 10) {
        r -= 1 / x;
        x += 1;
    }
    double f = 1 / (x * x);
    return r + log(x) - 0.5 / x -
           f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
}

/* ln(e^u + e^v) without overflow */
static double logsumexp(double u, double v)
{
    double m = u > v ? u : v;
    if (m == -INFINITY)
        return -INFINITY;
    return m + log(exp(u - m) + exp(v - m));
}

/*
 * The terms of a customer's log-likelihood that depend on the parameters and a whole x only,
 * for x = 0..max: the same sums in the same order as for one customer, so a fit over many
 * customers computes them once per evaluation instead of once per customer (Σ x logarithms).
 */
struct xterms {
    double A1, A2, s_ab, s_b, d1r;
};

static void xterms_fill(const struct intel_bgnbd *m, size_t max, struct xterms *t)
{
    double r = m->r, al = m->alpha, a = m->a, b = m->b;
    double lg_r = lgamma(r), log_al = log(al), dg_r = intel_digamma(r);
    double A2 = 0, s_ab = 0, s_b = 0;
    for (size_t x = 0; x <= max; x++) {
        if (x > 0) {
            double i = (double)(x - 1);
            A2 += log((b + i) / (a + b + i));
            s_ab += 1 / (a + b + i);
            s_b += 1 / (b + i);
        }
        t[x] = (struct xterms){.A1 = lgamma(r + (double)x) - lg_r + r * log_al,
                               .A2 = A2,
                               .s_ab = s_ab,
                               .s_b = s_b,
                               .d1r = intel_digamma(r + (double)x) - dg_r + log_al};
    }
}

struct problem;
static double log_al(const struct problem *pb, double al, double v);

/*
 * As intel_bgnbd_ll; t: the x terms of c->x (a whole number), or NULL to compute them; pb: the
 * fit's table of ln(α + days), or NULL.
 */
static double bgnbd_ll(const struct problem *pb, const struct intel_bgnbd *m,
                       const struct intel_rfm *c, const struct xterms *t, double grad[4])
{
    double r = m->r, al = m->alpha, a = m->a, b = m->b, x = c->x;
    double A1 = t ? t->A1 : lgamma(r + x) - lgamma(r) + r * log(al);
    /*
     * ln B(a, b+x) − ln B(a, b): for a whole x as the product it is, Π (b+i)/(a+b+i), since the
     * difference of ln Γ at large a and b (a fit drifting to a boundary) loses every digit
     */
    bool whole = x == floor(x) && x <= WHOLE_MAX;
    double A2 = 0, s_ab = 0, s_b = 0; /* Σ 1/(a+b+i), Σ 1/(b+i) */
    if (t) {
        A2 = t->A2;
        s_ab = t->s_ab;
        s_b = t->s_b;
    } else if (whole) {
        for (int i = 0; i < (int)x; i++) {
            A2 += log((b + i) / (a + b + i));
            s_ab += 1 / (a + b + i);
            s_b += 1 / (b + i);
        }
    } else {
        A2 = lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x);
    }
    double log_T = pb ? log_al(pb, al, c->T) : log(al + c->T);
    double log_tx = x > 0 ? (pb ? log_al(pb, al, c->t_x) : log(al + c->t_x)) : 0;
    double A3 = -(r + x) * log_T;
    double A4 = x > 0 ? log(a) - log(b + x - 1) - (r + x) * log_tx : -INFINITY;
    double L = logsumexp(A3, A4);
    if (grad) {
        double w4 = x > 0 ? exp(A4 - L) : 0, w3 = 1 - w4;
        double d1r = t ? t->d1r : intel_digamma(r + x) - intel_digamma(r) + log(al), d1al = r / al;
        double dab = whole ? -s_ab : intel_digamma(a + b) - intel_digamma(a + b + x);
        double d2a = dab, d2b = dab + (whole ? s_b : intel_digamma(b + x) - intel_digamma(b));
        double d3r = -log_T, d3al = -(r + x) / (al + c->T);
        double d4r = 0, d4al = 0, d4a = 0, d4b = 0;
        if (x > 0) {
            d4r = -log_tx;
            d4al = -(r + x) / (al + c->t_x);
            d4a = 1 / a;
            d4b = -1 / (b + x - 1);
        }
        grad[0] = d1r + w3 * d3r + w4 * d4r;
        grad[1] = d1al + w3 * d3al + w4 * d4al;
        grad[2] = d2a + w4 * d4a;
        grad[3] = d2b + w4 * d4b;
    }
    return A1 + A2 + L;
}

double intel_bgnbd_ll(const struct intel_bgnbd *m, const struct intel_rfm *c, double grad[4])
{
    return bgnbd_ll(NULL, m, c, NULL, grad);
}

double intel_gg_ll(const struct intel_gamma_gamma *m, const struct intel_rfm *c, double grad[3])
{
    double p = m->p, q = m->q, g = m->gamma, x = c->x, z = c->zbar;
    double px = p * x;
    double ll = lgamma(px + q) - lgamma(px) - lgamma(q) + q * log(g) + (px - 1) * log(z) +
                px * log(x) - (px + q) * log(g + x * z);
    if (grad) {
        grad[0] = x * intel_digamma(px + q) - x * intel_digamma(px) + x * log(z) + x * log(x) -
                  x * log(g + x * z);
        grad[1] = intel_digamma(px + q) - intel_digamma(q) + log(g) - log(g + x * z);
        grad[2] = q / g - (px + q) / (g + x * z);
    }
    return ll;
}

/*
 * Gamma-Gamma's terms that depend on the parameters and a whole x only, for x = 1..max, and
 * those of the parameters alone: the same calls on the same arguments as intel_gg_ll makes, so
 * a fit computes them once per evaluation instead of once per customer.
 */
struct ggterms {
    double lg_pxq, lg_px, dg_pxq, dg_px, log_x;
};

struct ggconst {
    double lg_q, dg_q, log_g;
};

static void ggterms_fill(const struct intel_gamma_gamma *m, size_t max, struct ggterms *t,
                         struct ggconst *k)
{
    double p = m->p, q = m->q;
    for (size_t i = 1; i <= max; i++) {
        double x = (double)i, px = p * x;
        t[i] = (struct ggterms){.lg_pxq = lgamma(px + q),
                                .lg_px = lgamma(px),
                                .dg_pxq = intel_digamma(px + q),
                                .dg_px = intel_digamma(px),
                                .log_x = log(x)};
    }
    *k = (struct ggconst){.lg_q = lgamma(q), .dg_q = intel_digamma(q), .log_g = log(m->gamma)};
}

/* intel_gg_ll with a whole x's terms from t and k (and ln z̄ from log_z), term for term. */
static double gg_ll(const struct intel_gamma_gamma *m, const struct intel_rfm *c,
                    const struct ggterms *t, const struct ggconst *k, double log_z, double grad[3])
{
    double p = m->p, q = m->q, g = m->gamma, x = c->x, z = c->zbar;
    double px = p * x;
    double log_gxz = log(g + x * z);
    double ll = t->lg_pxq - t->lg_px - k->lg_q + q * k->log_g + (px - 1) * log_z + px * t->log_x -
                (px + q) * log_gxz;
    grad[0] = x * t->dg_pxq - x * t->dg_px + x * log_z + x * t->log_x - x * log_gxz;
    grad[1] = t->dg_pxq - k->dg_q + k->log_g - log_gxz;
    grad[2] = q / g - (px + q) / (g + x * z);
    return ll;
}

/* ======================== the optimiser ======================== */

struct problem {
    int dim;
    const struct intel_rfm *c;
    size_t n;
    bool gg;           /* Gamma-Gamma, else BG/NBD */
    double pen;        /* weight of the penalty Σ θ² (0: plain maximum likelihood) */
    int pen_from;      /* the penalty applies to θ[pen_from..dim) */
    struct xterms *xt; /* BG/NBD: room for x = 0..xt_max (NULL: none) */
    size_t xt_max;
    /* BG/NBD: ln(α + d) for whole days d = 0..lt_max, the times T and t_x are */
    double *lt;
    size_t lt_max;
    /* Gamma-Gamma: room for x = 1..xt_max, and each customer's ln z̄ (n of them) */
    struct ggterms *gt;
    double *log_z;
};

/* ln(α + v) from pb->lt when v is a whole number of days in it: the same value log gives. */
static double log_al(const struct problem *pb, double al, double v)
{
    if (pb->lt && v == floor(v) && v >= 0 && v <= (double)pb->lt_max)
        return pb->lt[(size_t)v];
    return log(al + v);
}

/* Mean negative log-likelihood at log-parameters phi, its gradient in phi into g. */
static double objective(const struct problem *pb, const double *phi, double *g)
{
    double th[MAX_DIM] = {0}, acc[MAX_DIM] = {0}, sum = 0;
    size_t used = 0;
    for (int i = 0; i < pb->dim; i++) {
        if (!(fabs(phi[i]) <= PHI_MAX))
            return NAN; /* outside the search: the line search steps back */
        th[i] = exp(phi[i]);
    }
    struct intel_bgnbd bm = {.r = th[0], .alpha = th[1], .a = th[2], .b = th[3]};
    struct intel_gamma_gamma gm = {.p = th[0], .q = th[1], .gamma = th[2]};
    struct ggconst gk = {0};
    if (!pb->gg && pb->xt)
        xterms_fill(&bm, pb->xt_max, pb->xt);
    if (!pb->gg && pb->lt)
        for (size_t d = 0; d <= pb->lt_max; d++)
            pb->lt[d] = log(bm.alpha + (double)d);
    if (pb->gg && pb->gt)
        ggterms_fill(&gm, pb->xt_max, pb->gt, &gk);
    for (size_t k = 0; k < pb->n; k++) {
        double gr[MAX_DIM];
        double ll;
        if (pb->gg) {
            if (pb->c[k].x < 1 || pb->c[k].zbar <= 0)
                continue;
            double x = pb->c[k].x;
            if (pb->gt && x == floor(x) && x <= (double)pb->xt_max)
                ll = gg_ll(&gm, &pb->c[k], &pb->gt[(size_t)x], &gk, pb->log_z[k], gr);
            else
                ll = intel_gg_ll(&gm, &pb->c[k], gr);
        } else {
            double x = pb->c[k].x;
            bool tabled = pb->xt && x == floor(x) && x <= (double)pb->xt_max;
            ll = bgnbd_ll(pb, &bm, &pb->c[k], tabled ? &pb->xt[(size_t)x] : NULL, gr);
        }
        sum += ll;
        for (int i = 0; i < pb->dim; i++)
            acc[i] += gr[i];
        used++;
    }
    double nn = used ? (double)used : 1, penalty = 0;
    for (int i = 0; i < pb->dim; i++) {
        double w = i >= pb->pen_from ? pb->pen : 0;
        g[i] = -acc[i] * th[i] / nn + w * 2 * th[i] * th[i]; /* d/dφ = θ d/dθ */
        penalty += w * th[i] * th[i];
    }
    return -sum / nn + penalty;
}

/* BFGS with a backtracking (Armijo) line search; phi in and out. Returns iterations, or -1. */
static int bfgs(const struct problem *pb, double *phi)
{
    int d = pb->dim;
    double H[MAX_DIM][MAX_DIM] = {{0}}, g[MAX_DIM], gn[MAX_DIM], p[MAX_DIM], s[MAX_DIM], y[MAX_DIM],
           xn[MAX_DIM];
    for (int i = 0; i < d; i++)
        H[i][i] = 1;
    double f = objective(pb, phi, g), f_then = f;
    for (int it = 1; it <= MAX_ITERS; it++) {
        double gmax = 0;
        for (int i = 0; i < d; i++)
            gmax = fabs(g[i]) > gmax ? fabs(g[i]) : gmax;
        if (gmax < GRAD_TOL)
            return it;
        if (it % STALL_EVERY == 0) {
            /* creeping along a flat ridge towards a boundary: no interior maximum to reach */
            if (f_then - f < STALL_GAIN * (1 + fabs(f)))
                return gmax < 1e-4 ? it : -1;
            f_then = f;
        }
        double slope = 0;
        for (int i = 0; i < d; i++) {
            p[i] = 0;
            for (int j = 0; j < d; j++)
                p[i] -= H[i][j] * g[j];
            slope += p[i] * g[i];
        }
        if (slope >= 0) { /* not a descent direction: start over from steepest descent */
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++)
                    H[i][j] = i == j;
                p[i] = -g[i];
            }
            slope = 0;
            for (int i = 0; i < d; i++)
                slope += p[i] * g[i];
        }
        double step = 1, fn = 0;
        bool moved = false;
        for (int ls = 0; ls < 60; ls++, step *= 0.5) {
            for (int i = 0; i < d; i++)
                xn[i] = phi[i] + step * p[i];
            fn = objective(pb, xn, gn);
            if (isfinite(fn) && fn <= f + 1e-4 * step * slope) {
                moved = true;
                break;
            }
        }
        if (!moved)
            return gmax < 1e-4 ? it : -1; /* no progress possible: fine only near the optimum */
        double sy = 0;
        for (int i = 0; i < d; i++) {
            s[i] = xn[i] - phi[i];
            y[i] = gn[i] - g[i];
            sy += s[i] * y[i];
        }
        if (sy > 1e-12) {
            double Hy[MAX_DIM], yHy = 0;
            for (int i = 0; i < d; i++) {
                Hy[i] = 0;
                for (int j = 0; j < d; j++)
                    Hy[i] += H[i][j] * y[j];
                yHy += y[i] * Hy[i];
            }
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++)
                    H[i][j] +=
                        ((sy + yHy) * s[i] * s[j]) / (sy * sy) - (Hy[i] * s[j] + s[i] * Hy[j]) / sy;
        }
        memcpy(phi, xn, sizeof(double) * (size_t)d);
        memcpy(g, gn, sizeof(double) * (size_t)d);
        f = fn;
        for (int i = 0; i < d; i++)
            if (fabs(phi[i]) > PHI_DRIFT)
                return -1; /* heading for a boundary: no interior maximum */
    }
    return -1;
}

static int check_rfm(const struct intel_rfm *c, size_t n, struct err *e)
{
    if (!c || n == 0)
        return err_set(e, ERR_INVALID, "no customers to fit");
    for (size_t k = 0; k < n; k++) {
        if (!(c[k].x >= 0) || !(c[k].t_x >= 0) || !(c[k].T > 0) || c[k].t_x > c[k].T ||
            (c[k].x > 0 && !(c[k].t_x >= 0)))
            return err_set(e, ERR_INVALID,
                           "customer %zu: x %.3g, t_x %.3g, T %.3g are not a purchase history", k,
                           c[k].x, c[k].t_x, c[k].T);
    }
    return 0;
}

int intel_bgnbd_fit(const struct intel_rfm *c, size_t n, struct intel_bgnbd *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    int rc = check_rfm(c, n, e);
    out->penalizer = 0;
    if (rc)
        return rc;
    double meanT = 0;
    for (size_t k = 0; k < n; k++)
        meanT += c[k].T / (double)n;
    /* start: r = a = b = 1, α at a tenth of the observation time (its scale is the time unit) */
    double phi[4] = {0, log(meanT / 10 > 1 ? meanT / 10 : 1), 0, 0};
    double start[4];
    memcpy(start, phi, sizeof(start));
    struct problem pb = {.dim = 4, .c = c, .n = n, .gg = false, .pen_from = 2};
    /* whole repeat counts (as purchase occasions always are) share their x terms */
    double max_x = 0;
    for (size_t k = 0; k < n; k++)
        if (c[k].x == floor(c[k].x) && c[k].x <= XTERMS_MAX && c[k].x > max_x)
            max_x = c[k].x;
    pb.xt_max = (size_t)max_x;
    pb.xt = xcalloc(pb.xt_max + 1, sizeof(*pb.xt));
    /* and whole days (as the model's times are) their ln(α + days) */
    double max_T = 0;
    for (size_t k = 0; k < n; k++)
        if (c[k].T == floor(c[k].T) && c[k].T <= DAYS_MAX && c[k].T > max_T)
            max_T = c[k].T;
    pb.lt_max = (size_t)max_T;
    pb.lt = xcalloc(pb.lt_max + 1, sizeof(*pb.lt));
    int it = bfgs(&pb, phi);
    if (it < 0) {
        memcpy(phi, start, sizeof(start));
        pb.pen = PENALIZER;
        it = bfgs(&pb, phi);
        out->penalizer = PENALIZER;
    }
    free(pb.xt);
    free(pb.lt);
    if (it < 0)
        return err_set(e, ERR_INTERNAL, "the BG/NBD fit did not converge in %d iterations",
                       MAX_ITERS);
    out->r = exp(phi[0]);
    out->alpha = exp(phi[1]);
    out->a = exp(phi[2]);
    out->b = exp(phi[3]);
    out->iterations = it;
    for (size_t k = 0; k < n; k++)
        out->log_likelihood += intel_bgnbd_ll(out, &c[k], NULL);
    return 0;
}

int intel_gg_fit(const struct intel_rfm *c, size_t n, struct intel_gamma_gamma *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    size_t used = 0;
    double meanz = 0;
    for (size_t k = 0; k < n; k++) {
        if (c[k].x >= 1 && c[k].zbar > 0) {
            used++;
            meanz += c[k].zbar;
        }
    }
    if (!used)
        return err_set(e, ERR_INVALID, "no repeat customer with a purchase value to fit");
    meanz /= (double)used;
    double phi[3] = {0, 0, log(meanz > 1 ? meanz : 1)};
    double start[3];
    memcpy(start, phi, sizeof(start));
    struct problem pb = {.dim = 3, .c = c, .n = n, .gg = true, .pen_from = 0};
    /* whole repeat counts share their terms; each customer's ln z̄ is taken once */
    double max_x = 0;
    pb.log_z = xcalloc(n, sizeof(*pb.log_z));
    for (size_t k = 0; k < n; k++) {
        if (c[k].x >= 1 && c[k].zbar > 0) {
            pb.log_z[k] = log(c[k].zbar);
            if (c[k].x == floor(c[k].x) && c[k].x <= XTERMS_MAX && c[k].x > max_x)
                max_x = c[k].x;
        }
    }
    pb.xt_max = (size_t)max_x;
    pb.gt = xcalloc(pb.xt_max + 1, sizeof(*pb.gt));
    int it = bfgs(&pb, phi);
    if (it < 0) {
        memcpy(phi, start, sizeof(start));
        pb.pen = PENALIZER;
        it = bfgs(&pb, phi);
        out->penalizer = PENALIZER;
    }
    free(pb.gt);
    free(pb.log_z);
    if (it < 0)
        return err_set(e, ERR_INTERNAL, "the Gamma-Gamma fit did not converge in %d iterations",
                       MAX_ITERS);
    out->p = exp(phi[0]);
    out->q = exp(phi[1]);
    out->gamma = exp(phi[2]);
    out->iterations = it;
    for (size_t k = 0; k < n; k++) {
        if (c[k].x >= 1 && c[k].zbar > 0)
            out->log_likelihood += intel_gg_ll(out, &c[k], NULL);
    }
    return 0;
}

/* ======================== predictions ======================== */

double intel_bgnbd_p_alive(const struct intel_bgnbd *m, const struct intel_rfm *c)
{
    if (c->x <= 0)
        return 1;
    double l = log(m->a) - log(m->b + c->x - 1) +
               (m->r + c->x) * (log(m->alpha + c->T) - log(m->alpha + c->t_x));
    return 1 / (1 + exp(l));
}

/* Gauss's ₂F₁(a, b; c; z) for 0 ≤ z < 1 by its series. */
static double hyp2f1(double a, double b, double c, double z)
{
    double term = 1, sum = 1;
    for (int k = 0; k < 1000000; k++) {
        term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z;
        sum += term;
        if (fabs(term) < 1e-15 * fabs(sum))
            break;
    }
    return sum;
}

double intel_bgnbd_expected(const struct intel_bgnbd *m, const struct intel_rfm *c, double t)
{
    if (!(m->a > 1) || t <= 0)
        return t <= 0 ? 0 : NAN;
    double r = m->r, al = m->alpha, a = m->a, b = m->b, x = c->x;
    double z = t / (al + c->T + t);
    double f = hyp2f1(r + x, b + x, a + b + x - 1, z);
    double head = (a + b + x - 1) / (a - 1);
    double tail = 1 - pow((al + c->T) / (al + c->T + t), r + x) * f;
    return head * tail * intel_bgnbd_p_alive(m, c);
}

double intel_gg_expected_value(const struct intel_gamma_gamma *m, const struct intel_rfm *c)
{
    if (!(m->q > 1))
        return NAN;
    if (c->x < 1 || c->zbar <= 0)
        return m->p * m->gamma / (m->q - 1); /* the population mean */
    return m->p * (m->gamma + c->x * c->zbar) / (m->p * c->x + m->q - 1);
}
