/* SPDX-License-Identifier: MIT */
/*
 * The demo's summary: what the run achieved with flash windows, next to a model of the same
 * city without them (the same wishes, each turning into an unsynchronised full-price visit with
 * the buyer's base probability), and the command that repeats the run.
 */
#include "demo/demo_internal.h"

#include <stdio.h>
#include <stdlib.h>

int demo_vec_grow(void **v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t want = *cap ? *cap * 2 : 64;
    void *p = realloc(*v, want * elem);
    if (!p)
        return -1;
    *v = p;
    *cap = want;
    return 0;
}

/*
 * A visit at seller `s` at city time `t` fills idle capacity when it falls inside one of the
 * seller's idle/surplus report hours that still has room (capacity per report).
 */
static bool fill(struct demo_state *d, int s, double t, bool baseline)
{
    int cap = d->city.sellers[s].capacity;
    for (size_t i = d->reports.n; i-- > 0;) {
        struct demo_report *r = &d->reports.v[i];
        if (r->seller != s || t < r->t || t >= r->t + DEMO_REPORT_S)
            continue;
        int *n = baseline ? &r->fill_baseline : &r->fill_windows;
        if (*n < cap) {
            (*n)++;
            return true;
        }
    }
    return false;
}

static void pct(char *out, size_t n, int a, int b)
{
    if (b <= 0)
        snprintf(out, n, "%d/%d", a, b);
    else
        snprintf(out, n, "%d/%d = %.0f%%", a, b, 100.0 * a / b);
}

void demo_report_print(struct demo_state *d)
{
    const struct demo_opts *o = d->o;
    const struct demo_city *c = &d->city;
    int nb = c->n_buyers;
    bool *wished = calloc((size_t)nb, sizeof(bool));
    bool *served = calloc((size_t)nb, sizeof(bool));
    bool *served_base = calloc((size_t)nb, sizeof(bool));
    double *first = calloc((size_t)nb, sizeof(double));
    if (!wished || !served || !served_base || !first) {
        fprintf(stderr, "iceshop demo: out of memory for the summary\n");
        goto out;
    }
    int capacity = 0;
    for (size_t i = 0; i < d->reports.n; i++) {
        capacity += c->sellers[d->reports.v[i].seller].capacity;
        d->reports.v[i].fill_windows = d->reports.v[i].fill_baseline = 0;
    }
    for (size_t i = 0; i < d->wishes.n; i++) {
        int b = d->wishes.v[i].buyer;
        if (!wished[b])
            first[b] = d->wishes.v[i].t;
        wished[b] = true;
    }
    int n_wished = 0;
    for (int b = 0; b < nb; b++)
        n_wished += wished[b];

    /* with windows: confirmed redemptions */
    int filled = 0;
    for (size_t i = 0; i < d->visits.n; i++) {
        const struct demo_visit *v = &d->visits.v[i];
        if (wished[v->buyer] && v->t >= first[v->buyer])
            served[v->buyer] = true;
        filled += fill(d, v->seller, v->t, false);
    }

    /*
     * Without windows: every wish sent becomes a visit to the nearest shop of its category with
     * the buyer's full-price probability times the walking factor, after the same walk as in
     * the live run, counted only when it happens before the run ended.
     */
    int base_visits = 0, base_filled = 0;
    for (size_t i = 0; i < d->wishes.n; i++) {
        const struct demo_wish *w = &d->wishes.v[i];
        double dist;
        int s = demo_nearest_seller(c, w->buyer, w->cat, &dist);
        if (s < 0)
            continue;
        double p = demo_attraction(c->buyers[w->buyer].price, 0) * demo_walk_factor(dist);
        if (demo_u01(c->seed, DEMO_TAG_BASE, (uint64_t)w->buyer, (uint64_t)w->nth) >= p)
            continue;
        double t = w->t + 20 + dist / 8 +
                   40 * demo_u01(c->seed, DEMO_TAG_BASE_WALK, (uint64_t)w->buyer,
                                 (uint64_t)w->nth);
        if (t > d->sim_end)
            continue;
        base_visits++;
        served_base[w->buyer] = true;
        base_filled += fill(d, s, t, true);
    }
    int n_served = 0, n_served_base = 0;
    for (int b = 0; b < nb; b++) {
        n_served += served[b];
        n_served_base += served_base[b];
    }

    const struct demo_stats *st = &d->st;
    char a[64], b[64], rep[40];
    int mins = (int)(d->sim_end / 60), secs = (int)d->sim_end % 60;
    printf("\n== iceshop demo summary ==\n");
    printf("seed %llu, %d sellers, %d buyers, speed %gx, %d min %02d s of city time\n",
           (unsigned long long)o->seed, c->n_sellers, c->n_buyers, o->speed, mins, secs);
    printf("repeat: iceshop demo --seed %llu --sellers %d --buyers %d --speed %g --duration %g\n\n",
           (unsigned long long)o->seed, c->n_sellers, c->n_buyers, o->speed, o->duration);
    printf("%-34s %16s %18s\n", "", "with windows", "without windows");
    printf("%-34s %16d %18d\n", "wishes sent", st->wishes, st->wishes);
    snprintf(rep, sizeof(rep), "%d", st->idle_reports);
    printf("%-34s %16s %18s\n", "seller idle/surplus reports", rep, rep);
    printf("%-34s %16d %18s\n", "windows opened", st->windows, "-");
    printf("%-34s %16d %18s\n", "  went live (ACTIVE)", st->by_status[2] + st->by_status[3],
           "-");
    printf("%-34s %16d %18s\n", "  cancelled (too few, no answer)", st->by_status[4], "-");
    printf("%-34s %16d %18s\n", "offers received", st->offers, "-");
    printf("%-34s %16d %18s\n", "katıl answers", st->katil, "-");
    printf("%-34s %16d %18s\n", "pre-commits (server)", st->precommits, "-");
    printf("%-34s %16d %18s\n", "joins (codes)", st->joins, "-");
    printf("%-34s %16d %18s\n", "no-shows", st->no_shows, "-");
    printf("%-34s %16d %18d\n", "redemptions / visits", st->redeemed, base_visits);
    pct(a, sizeof(a), n_served, n_wished);
    pct(b, sizeof(b), n_served_base, n_wished);
    printf("%-34s %16s %18s\n", "demand served (buyers)", a, b);
    pct(a, sizeof(a), filled, capacity);
    pct(b, sizeof(b), base_filled, capacity);
    printf("%-34s %16s %18s\n", "idle capacity filled (seats)", a, b);
    printf("\ndemand served = buyers with a redemption (visit) after their first wish / buyers "
           "who wished.\n"
           "idle capacity filled = visits inside a seller's reported idle/surplus hour / "
           "(reports x the seller's capacity).\n"
           "without windows = the same wishes, each a full-price visit to the nearest shop of "
           "its category\n"
           "  with the buyer's base probability (price sensitivity x walking distance), at no "
           "agreed time.\n");
    if (st->redeem_failed || st->join_refused || st->too_late)
        printf("(codes not confirmed: %d; joins refused: %d; answers too late: %d)\n",
               st->redeem_failed, st->join_refused, st->too_late);
out:
    free(wished);
    free(served);
    free(served_base);
    free(first);
}
