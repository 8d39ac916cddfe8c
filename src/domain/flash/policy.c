/* SPDX-License-Identifier: MIT */
/*
 * The learning discount policy (policy.h): Beta posteriors per discount arm and Thompson
 * sampling with bounded exploration. Pure: no I/O, no clock; randomness from the caller's state.
 * Tests: tests/unit/domain/test_flash_policy.c.
 */
#include "domain/flash/policy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define PI 3.14159265358979323846

void flash_policy_init(struct flash_policy *p, const struct flash_config *c, int seller_max,
                       double prior_rate, double prior_weight)
{
    memset(p, 0, sizeof(*p));
    if (seller_max < 0)
        seller_max = 0;
    double rate = prior_rate > 0.01 ? (prior_rate < 0.99 ? prior_rate : 0.99) : 0.01;
    double w = prior_weight > 0.1 ? prior_weight : 0.1;
    for (int i = 0; c && i < c->n_tiers && i < FLASH_MAX_TIERS; i++) {
        int d = c->tiers[i].discount < seller_max ? c->tiers[i].discount : seller_max;
        bool seen = false;
        for (int k = 0; k < p->n_arms; k++)
            seen = seen || p->arms[k].discount == d;
        if (seen)
            continue;
        /* insertion keeps the arms ascending */
        int k = p->n_arms++;
        while (k > 0 && p->arms[k - 1].discount > d) {
            p->arms[k] = p->arms[k - 1];
            k--;
        }
        p->arms[k] = (struct flash_policy_arm){d, rate * w, (1 - rate) * w};
    }
}

void flash_policy_pool(struct flash_policy *p, const struct flash_policy_evidence *ev, size_t n,
                       double prior_rate, double prior_weight, double pool_max)
{
    double rate = prior_rate > 0.01 ? (prior_rate < 0.99 ? prior_rate : 0.99) : 0.01;
    double w = prior_weight > 0.1 ? prior_weight : 0.1;
    for (int k = 0; k < p->n_arms; k++) {
        double offers = 0, visits = 0;
        for (size_t i = 0; i < n; i++) {
            if (ev[i].discount == p->arms[k].discount && ev[i].offers > 0) {
                offers += ev[i].offers;
                visits += ev[i].visits < ev[i].offers ? (ev[i].visits > 0 ? ev[i].visits : 0)
                                                      : ev[i].offers;
            }
        }
        double m = (rate * w + visits) / (w + offers);
        double wd = w + (offers < pool_max ? offers : (pool_max > 0 ? pool_max : 0));
        p->arms[k].alpha = m * wd;
        p->arms[k].beta = (1 - m) * wd;
    }
}

void flash_policy_update(struct flash_policy *p, int discount, int offers, int visits)
{
    if (offers < 0)
        offers = 0;
    if (visits < 0)
        visits = 0;
    if (visits > offers)
        visits = offers;
    for (int i = 0; i < p->n_arms; i++) {
        if (p->arms[i].discount == discount) {
            p->arms[i].alpha += visits;
            p->arms[i].beta += offers - visits;
            return;
        }
    }
}

double flash_policy_mean(const struct flash_policy *p, int i)
{
    const struct flash_policy_arm *a = &p->arms[i];
    return a->alpha / (a->alpha + a->beta);
}

/* xorshift64*: a uniform in (0, 1). */
static double uniform(uint64_t *s)
{
    if (!*s)
        *s = 0x9E3779B97F4A7C15u;
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    uint64_t x = *s * 0x2545F4914F6CDD1Du;
    return ((double)(x >> 11) + 0.5) / (double)(UINT64_C(1) << 53);
}

static double normal(uint64_t *s)
{
    double u1 = uniform(s), u2 = uniform(s);
    return sqrt(-2 * log(u1)) * cos(2 * PI * u2);
}

/* Gamma(k, 1): Marsaglia and Tsang; k < 1 through Gamma(k + 1)·U^(1/k). */
static double gamma_draw(double k, uint64_t *s)
{
    if (k < 1)
        return gamma_draw(k + 1, s) * pow(uniform(s), 1 / k);
    double d = k - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double x = normal(s), v = 1 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = uniform(s);
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

static double beta_draw(double a, double b, uint64_t *s)
{
    double x = gamma_draw(a, s), y = gamma_draw(b, s);
    return x + y > 0 ? x / (x + y) : 0.5;
}

static double margin(int discount)
{
    return 1 - discount / 100.0;
}

/*
 * An optimistic visit rate for the exploration bound: the posterior mean plus two standard
 * deviations (at most 1). An arm little tried keeps a wide bound, so it is not shut out on its
 * prior alone; a well-measured poor arm is.
 */
static double upper_rate(const struct flash_policy_arm *a)
{
    double n = a->alpha + a->beta;
    if (n <= 0)
        return 1;
    double m = a->alpha / n;
    double sd = sqrt(a->alpha * a->beta / (n * n * (n + 1)));
    double u = m + 2 * sd;
    return u < 1 ? u : 1;
}

int flash_policy_choose(const struct flash_policy *p, int seller_max, bool explore,
                        double max_regret, uint64_t *rng, char *why, size_t why_len)
{
    int best_mean = -1;
    for (int i = 0; i < p->n_arms; i++) {
        if (p->arms[i].discount > seller_max)
            continue;
        if (best_mean < 0 ||
            flash_policy_mean(p, i) * margin(p->arms[i].discount) >
                flash_policy_mean(p, best_mean) * margin(p->arms[best_mean].discount))
            best_mean = i;
    }
    if (best_mean < 0) {
        if (why && why_len)
            snprintf(why, why_len, "no discount arm within the seller's maximum %d%%", seller_max);
        return 0;
    }
    double best_value = flash_policy_mean(p, best_mean) * margin(p->arms[best_mean].discount);
    int chosen = best_mean;
    if (explore) {
        double top = -1;
        for (int i = 0; i < p->n_arms; i++) {
            const struct flash_policy_arm *a = &p->arms[i];
            if (a->discount > seller_max)
                continue;
            /* always draw, so the stream does not depend on which arms are bounded out */
            double theta = beta_draw(a->alpha, a->beta, rng);
            if (upper_rate(a) * margin(a->discount) < best_value - max_regret)
                continue;
            if (theta * margin(a->discount) > top) {
                top = theta * margin(a->discount);
                chosen = i;
            }
        }
    }
    if (why && why_len) {
        /* compare with the runner-up by posterior mean */
        int other = -1;
        for (int i = 0; i < p->n_arms; i++) {
            if (i == chosen || p->arms[i].discount > seller_max)
                continue;
            if (other < 0 || flash_policy_mean(p, i) > flash_policy_mean(p, other))
                other = i;
        }
        if (other < 0)
            snprintf(why, why_len, "%d%% chosen: posterior mean visit rate %.2f, the only arm",
                     p->arms[chosen].discount, flash_policy_mean(p, chosen));
        else
            snprintf(why, why_len, "%d%% chosen%s: posterior mean visit rate %.2f vs %.2f at %d%%",
                     p->arms[chosen].discount, chosen != best_mean ? " (exploring)" : "",
                     flash_policy_mean(p, chosen), flash_policy_mean(p, other),
                     p->arms[other].discount);
    }
    return p->arms[chosen].discount;
}
