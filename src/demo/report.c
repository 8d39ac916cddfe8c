/* SPDX-License-Identifier: MIT */
/*
 * The demo's summary: what the run achieved with flash windows, next to a model of the same
 * city without them (the same wishes, each turning into an unsynchronised full-price visit with
 * the buyer's base probability), and the command that repeats the run.
 */
#include "demo/demo_internal.h"

#include <stdio.h>
#include <stdlib.h>

void *demo_vec_grow(void *v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return v;
    size_t want = *cap ? *cap * 2 : 64;
    void *p = realloc(v, want * elem);
    if (p)
        *cap = want;
    return p;
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

/* One table row; the label is padded by characters, not bytes ("katıl"). */
static void row(const char *label, const char *with, const char *without)
{
    int chars = 0;
    for (const char *p = label; *p; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    printf("%s%*s %16s %18s\n", label, chars < 34 ? 34 - chars : 0, "", with, without);
}

static const char *num(char *out, size_t n, int v)
{
    snprintf(out, n, "%d", v);
    return out;
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
     * the live run, counted only when it happens before the run ended. With windows, a wish
     * that no window visit answered (no redemption by that buyer after it) behaves the same
     * way, with the same draw: the comparison is like with like and no wish counts twice.
     */
    bool *used = calloc(d->visits.n ? d->visits.n : 1, sizeof(bool));
    if (!used) {
        fprintf(stderr, "iceshop demo: out of memory for the summary\n");
        goto out;
    }
    int base_visits = 0, base_filled = 0, own_visits = 0;
    for (size_t i = 0; i < d->wishes.n; i++) {
        const struct demo_wish *w = &d->wishes.v[i];
        bool by_window = false;
        for (size_t k = 0; !by_window && k < d->visits.n; k++) {
            if (!used[k] && d->visits.v[k].buyer == w->buyer && d->visits.v[k].t >= w->t)
                by_window = used[k] = true;
        }
        double dist;
        int s = demo_nearest_seller(c, w->buyer, w->cat, &dist);
        if (s < 0)
            continue;
        double p = demo_attraction(c->buyers[w->buyer].price, 0) * demo_walk_factor(dist);
        if (demo_u01(c->seed, DEMO_TAG_BASE, (uint64_t)w->buyer, (uint64_t)w->nth) >= p)
            continue;
        double t = w->t + demo_walk_s(dist, demo_u01(c->seed, DEMO_TAG_BASE_WALK,
                                                     (uint64_t)w->buyer, (uint64_t)w->nth));
        if (t > d->sim_end)
            continue;
        base_visits++;
        served_base[w->buyer] = true;
        base_filled += fill(d, s, t, true);
        if (!by_window) {
            own_visits++;
            served[w->buyer] = true;
            filled += fill(d, s, t, false);
        }
    }
    free(used);
    int n_served = 0, n_served_base = 0;
    for (int b = 0; b < nb; b++) {
        n_served += served[b];
        n_served_base += served_base[b];
    }

    const struct demo_stats *st = &d->st;
    char a[64], b[64];
    int mins = (int)(d->sim_end / 60), secs = (int)d->sim_end % 60;
    printf("\n== iceshop demo summary ==\n");
    printf("seed %llu, %d sellers, %d buyers, speed %gx, %d min %02d s of city time\n",
           (unsigned long long)o->seed, c->n_sellers, c->n_buyers, o->speed, mins, secs);
    printf("repeat: iceshop demo --seed %llu --sellers %d --buyers %d --speed %g --duration "
           "%.0f%s\n\n",
           (unsigned long long)o->seed, c->n_sellers, c->n_buyers, o->speed,
           o->duration > 0 ? o->duration : d->wall_s,
           o->duration > 0 ? "" : "  (this run was stopped by Ctrl-C)");
    row("", "with windows", "without windows");
    row("wishes sent", num(a, sizeof(a), st->wishes), num(b, sizeof(b), st->wishes));
    row("seller idle/surplus reports", num(a, sizeof(a), st->idle_reports),
        num(b, sizeof(b), st->idle_reports));
    row("windows opened", num(a, sizeof(a), st->windows), "-");
    row("  went live (ACTIVE)", num(a, sizeof(a), st->by_status[2] + st->by_status[3]), "-");
    row("  cancelled (too few, no answer)", num(a, sizeof(a), st->by_status[4]), "-");
    row("offers received", num(a, sizeof(a), st->offers), "-");
    row("katıl answers", num(a, sizeof(a), st->katil), "-");
    row("pre-commits (server)", num(a, sizeof(a), st->precommits), "-");
    row("joins (codes)", num(a, sizeof(a), st->joins), "-");
    row("no-shows", num(a, sizeof(a), st->no_shows), "-");
    row("redemptions / visits", num(a, sizeof(a), st->redeemed + own_visits),
        num(b, sizeof(b), base_visits));
    row("  of which through windows", num(a, sizeof(a), st->redeemed), "-");
    pct(a, sizeof(a), n_served, n_wished);
    pct(b, sizeof(b), n_served_base, n_wished);
    row("demand served (buyers)", a, b);
    pct(a, sizeof(a), filled, capacity);
    pct(b, sizeof(b), base_filled, capacity);
    row("idle capacity filled (seats)", a, b);
    printf("\ndemand served = buyers with a redemption (visit) after their first wish / buyers "
           "who wished.\n"
           "idle capacity filled = visits inside a seller's reported idle/surplus hour / "
           "(reports x the seller's capacity).\n"
           "without windows = the same wishes, each a full-price visit to the nearest shop of "
           "its category\n"
           "  with the buyer's base probability (price sensitivity x walking distance), at no "
           "agreed time.\n"
           "with windows = window redemptions, plus the wishes no window visit answered, which "
           "behave as without\n"
           "  (same draw): each wish counts at most once.\n");
    if (st->redeem_failed || st->join_refused || st->too_late)
        printf("(codes not confirmed: %d; joins refused: %d; answers too late: %d)\n",
               st->redeem_failed, st->join_refused, st->too_late);
out:
    free(wished);
    free(served);
    free(served_base);
    free(first);
}
