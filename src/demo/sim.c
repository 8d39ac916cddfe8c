/* SPDX-License-Identifier: MIT */
/*
 * `iceshop simulate` (sim.h): the demo city on a virtual clock, with and without the flash
 * engine's rules, on the same wishes and the same random draws; the model is written in sim.h.
 * No I/O but the subcommand's printing, no clock reads. Tests: tests/unit/demo/test_sim.c.
 */
#include "demo/sim.h"
#include "core/arena.h"
#include "core/xalloc.h"
#include "demo/city.h"
#include "domain/flash/engine.h"
#include "domain/flash/flash.h"
#include "domain/flash/policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOURS        12 /* 08:00-20:00 */
#define DAY_START_S  (8 * 3600.0)
#define SCAN_S       300.0 /* the engine scans every 5 virtual minutes */
#define COOLDOWN_S   (120 * 60.0)
#define WISH_TTL_MIN 60
#define EPOCH_MS     INT64_C(1798761600000) /* 2027-01-01T00:00:00Z: day 0 of every run */
#define DAY_MS       INT64_C(86400000)
/* the learning policy's prior, as a server tenant without history (domain/flash/learning.h) */
#define SIM_PRIOR_RATE   0.3
#define SIM_PRIOR_WEIGHT 2.0
#define SIM_POOL_MAX     FLASH_POLICY_POOL_MAX

/* Random streams, apart from the live demo's (demo_internal.h) so the two never correlate. */
enum {
    TAG_IDLE = 101,
    TAG_WISH,
    TAG_WISH_T,
    TAG_WISH_CAT,
    TAG_DECIDE, /* shared by both arms: the same buyer, the same mood */
    TAG_WALK,
    TAG_SHOW,
    TAG_ACCEPT,
};

void sim_opts_default(struct sim_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->seed = 1;
    o->seeds = 20;
    o->days = 7;
    o->sellers = 12;
    o->buyers = 150;
    o->p_wish = 0.6;
    o->p_idle = 0.35;
    o->p_accept = 0.7;
    o->force_p_base = -1;
    o->force_p_offer = -1;
    o->force_reliability = -1;
    o->learn = false;
    o->max_regret = 0.05;
}

struct wish {
    int buyer;
    enum demo_cat cat;
    double t; /* seconds since midnight */
    int nth;  /* day * n_buyers + buyer: the draw key */
};

static int wish_cmp(const void *a, const void *b)
{
    const struct wish *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->buyer - y->buyer;
}

struct day {
    const struct sim_opts *o;
    const struct demo_city *c;
    uint64_t seed;
    int dayno;
    bool *idle;    /* [seller * HOURS + h] */
    int *seats[2]; /* idle seats left per arm: 0 with, 1 without */
    struct sim_arm *arm[2];
};

static int64_t price_of(const struct demo_seller *s)
{
    return (s->price_min + s->price_max) / 2;
}

/* Record a visit of a wish in one arm. */
static void visit(struct day *d, int armi, int seller, double t, int discount)
{
    struct sim_arm *a = d->arm[armi];
    int64_t p = price_of(&d->c->sellers[seller]);
    a->visits++;
    a->served++;
    a->revenue += p * (100 - discount) / 100;
    a->discount += p - p * (100 - discount) / 100;
    int h = (int)floor((t - DAY_START_S) / 3600.0);
    if (h >= 0 && h < HOURS && d->seats[armi][seller * HOURS + h] > 0) {
        d->seats[armi][seller * HOURS + h]--;
        a->idle_filled++;
    }
}

static double p_base(const struct day *d, const struct wish *w, double dist)
{
    if (d->o->force_p_base >= 0)
        return d->o->force_p_base;
    return demo_attraction(d->c->buyers[w->buyer].price, 0) * demo_walk_factor(dist);
}

/* What a wish does without Iceshop (and with it, when no window took it): same draws. */
static void behave_alone(struct day *d, int armi, const struct wish *w)
{
    double dist;
    int s = demo_nearest_seller(d->c, w->buyer, w->cat, &dist);
    if (s < 0)
        return;
    double u = demo_u01(d->seed, TAG_DECIDE, (uint64_t)w->nth, 0);
    if (u >= p_base(d, w, dist))
        return;
    double t = w->t + demo_walk_s(dist, demo_u01(d->seed, TAG_WALK, (uint64_t)w->nth, 0));
    visit(d, armi, s, t, 0);
}

struct engine_state {
    struct flash_config cfg;
    struct flash_seller *sellers;
    double *busy_until; /* per seller: an open window until then */
    double *cool_until; /* per seller: declined, not asked until then */
    /* per seller (one category each): outcomes at each discount, by arm index */
    struct flash_policy_evidence (*seen)[FLASH_POLICY_ARMS];
    uint64_t rng;           /* the policy's draws */
    struct run_counts *run; /* windows, declines, commits, no-shows */
};

struct run_counts {
    int windows, declined, commits, no_shows;
};

/* Add an outcome to seller s's evidence. */
static void sim_seen(struct engine_state *es, int s, int discount, int offers, int visits)
{
    for (int k = 0; k < FLASH_POLICY_ARMS; k++) {
        struct flash_policy_evidence *v = &es->seen[s][k];
        if (v->offers > 0 && v->discount != discount)
            continue;
        v->discount = discount;
        v->offers += offers;
        v->visits += visits;
        return;
    }
}

/*
 * Seller s's policy as the server builds it (domain/flash/learning.h): the prior pooled from the
 * other sellers of its category, then its own outcomes.
 */
static void sim_policy(const struct engine_state *es, const struct demo_city *c, int s,
                       struct flash_policy *p)
{
    flash_policy_init(p, &es->cfg, c->sellers[s].max_discount, SIM_PRIOR_RATE, SIM_PRIOR_WEIGHT);
    struct flash_policy_evidence others[64 * FLASH_POLICY_ARMS];
    size_t n = 0;
    for (int o = 0; o < c->n_sellers && n + FLASH_POLICY_ARMS <= 64 * FLASH_POLICY_ARMS; o++) {
        if (o == s || c->sellers[o].cat != c->sellers[s].cat)
            continue;
        for (int k = 0; k < FLASH_POLICY_ARMS; k++) {
            if (es->seen[o][k].offers > 0)
                others[n++] = es->seen[o][k];
        }
    }
    flash_policy_pool(p, others, n, SIM_PRIOR_RATE, SIM_PRIOR_WEIGHT, SIM_POOL_MAX);
    for (int k = 0; k < FLASH_POLICY_ARMS; k++) {
        const struct flash_policy_evidence *v = &es->seen[s][k];
        if (v->offers > 0)
            flash_policy_update(p, v->discount, (int)v->offers, (int)v->visits);
    }
}

/* One scan at `t` over the wishes made since the previous one (wishes[lo, hi)). */
static int scan(struct day *d, struct engine_state *es, double t, const struct wish *wishes,
                size_t lo, size_t hi, bool *reached, struct err *e)
{
    const struct demo_city *c = d->c;
    int64_t now_ms = EPOCH_MS + d->dayno * DAY_MS + (int64_t)(t * 1000);
    int h = (int)floor((t - DAY_START_S) / 3600.0);
    for (int s = 0; s < c->n_sellers; s++) {
        bool idle = h >= 0 && h < HOURS && d->idle[s * HOURS + h];
        es->sellers[s].supply_until = idle ? now_ms + 3600 * 1000 : 0;
        es->sellers[s].supply_kind = FLASH_SUPPLY_IDLE;
        es->sellers[s].density = idle ? FLASH_DENSITY_LOW : FLASH_DENSITY_HIGH;
    }
    size_t nd = hi - lo;
    struct flash_demand *dem = xcalloc(nd ? nd : 1, sizeof(*dem));
    for (size_t i = 0; i < nd; i++) {
        const struct wish *w = &wishes[lo + i];
        const struct demo_buyer *b = &c->buyers[w->buyer];
        dem[i] = (struct flash_demand){
            .pk = (int64_t)(lo + i + 1),
            .buyer_pk = w->buyer + 1,
            .buyer_id = b->id,
            .loc = {b->lat, b->lng, "", ""},
            .text = "",
            .product = "",
            .category = demo_cat_names[w->cat],
            .expires_at = now_ms + WISH_TTL_MIN * 60000,
            .reliability = d->o->force_reliability >= 0 ? d->o->force_reliability : b->reliability,
            .consent = true,
        };
    }
    struct flash_scan_input in = {.cfg = &es->cfg,
                                  .sellers = es->sellers,
                                  .n_sellers = (size_t)c->n_sellers,
                                  .demand = dem,
                                  .n_demand = nd,
                                  .now_ms = now_ms};
    struct arena a;
    arena_init(&a);
    struct flash_score *sc;
    size_t ns;
    int rc = nd ? flash_scan(&in, &a, &sc, &ns, e) : 0;
    for (size_t k = 0; !rc && nd && k < ns && sc[k].eligible; k++) {
        int s = (int)sc[k].seller_idx;
        const struct demo_seller *ds = &c->sellers[s];
        if (es->busy_until[s] > t || es->cool_until[s] > t)
            continue;
        struct flash_target *tg;
        size_t nt;
        rc = flash_targets(&in, (size_t)s, (size_t)ds->capacity * 3, &a, &tg, &nt, e);
        if (rc)
            break;
        size_t kept = 0;
        for (size_t i = 0; i < nt; i++) {
            if (!reached[lo + tg[i].demand_idx])
                tg[kept++] = tg[i];
        }
        nt = kept;
        if (nt == 0)
            continue;
        struct flash_draft dr;
        rc = flash_draft_window(&in, &sc[k], tg, nt, "", NULL, 0, &a, &dr, e);
        if (rc)
            break;
        /* as the live engine: a seller in an idle hour has asked for customers (its signal) */
        bool yes = ds->auto_approve || flash_seller_asked_for_traffic(&es->sellers[s], now_ms) ||
                   demo_u01(d->seed, TAG_ACCEPT, (uint64_t)s, (uint64_t)now_ms) < d->o->p_accept;
        if (!yes) {
            es->cool_until[s] = t + COOLDOWN_S;
            es->run->declined++;
            continue;
        }
        if (d->o->learn) {
            struct flash_policy pol;
            sim_policy(es, c, s, &pol);
            int disc = flash_policy_choose(&pol, ds->max_discount, true, d->o->max_regret, &es->rng,
                                           NULL, 0);
            for (size_t i = 0; i < nt; i++)
                tg[i].discount = disc;
            dr.discount_percent = disc;
        }
        es->run->windows++;
        double start = t + (double)(dr.start_ms - now_ms) / 1000.0;
        double end = t + (double)(dr.end_ms - now_ms) / 1000.0;
        es->busy_until[s] = end;
        int commits = 0, shows = 0;
        d->arm[0]->offers += (int64_t)nt;
        for (size_t i = 0; i < nt; i++) {
            size_t wi = lo + tg[i].demand_idx;
            const struct wish *w = &wishes[wi];
            reached[wi] = true;
            double u = demo_u01(d->seed, TAG_DECIDE, (uint64_t)w->nth, 0);
            double p = d->o->force_p_offer >= 0
                           ? d->o->force_p_offer
                           : demo_attraction(c->buyers[w->buyer].price, tg[i].discount) *
                                 demo_walk_factor(tg[i].distance_m);
            if (u >= p || commits >= dr.capacity) {
                behave_alone(d, 0, w);
                continue;
            }
            commits++;
            es->run->commits++;
            double rel = d->o->force_reliability >= 0 ? d->o->force_reliability
                                                      : c->buyers[w->buyer].reliability;
            if (demo_u01(d->seed, TAG_SHOW, (uint64_t)w->nth, 0) >= rel) {
                es->run->no_shows++;
                continue;
            }
            double arrive =
                t + demo_walk_s(tg[i].distance_m, demo_u01(d->seed, TAG_WALK, (uint64_t)w->nth, 0));
            double at = arrive > start ? arrive : start;
            visit(d, 0, s, at < end ? at : end, tg[i].discount);
            d->arm[0]->reward_bp += 100 * (100 - tg[i].discount);
            shows++;
        }
        if (d->o->learn)
            sim_seen(es, s, dr.discount_percent, (int)nt, shows);
    }
    arena_release(&a);
    free(dem);
    return rc;
}

static int check_opts(const struct sim_opts *o, struct err *e)
{
    if (o->seeds < 1 || o->seeds > 1000)
        return err_set_field(e, ERR_INVALID, "seeds", "--seeds must be 1..1000");
    if (o->days < 1 || o->days > 60)
        return err_set_field(e, ERR_INVALID, "days", "--days must be 1..60");
    if (o->sellers < 1 || o->sellers > DEMO_MAX_SELLERS)
        return err_set_field(e, ERR_INVALID, "sellers", "--sellers must be 1..%d",
                             DEMO_MAX_SELLERS);
    if (o->buyers < 1 || o->buyers > DEMO_MAX_BUYERS)
        return err_set_field(e, ERR_INVALID, "buyers", "--buyers must be 1..%d", DEMO_MAX_BUYERS);
    return 0;
}

static void arm_add(struct sim_arm *to, const struct sim_arm *a)
{
    to->wishes += a->wishes;
    to->visits += a->visits;
    to->served += a->served;
    to->idle_seats += a->idle_seats;
    to->idle_filled += a->idle_filled;
    to->revenue += a->revenue;
    to->discount += a->discount;
    to->offers += a->offers;
    to->reward_bp += a->reward_bp;
}

int sim_city_run(const struct sim_opts *o, uint64_t seed, struct sim_run *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    int rc = check_opts(o, e);
    if (rc)
        return rc;
    struct demo_city c;
    rc = demo_city_init(&c, seed, o->sellers, o->buyers, e);
    if (rc)
        return rc;
    if (o->edit_city)
        o->edit_city(&c);
    int ns = c.n_sellers;
    size_t nb = (size_t)c.n_buyers;
    struct engine_state es;
    flash_config_default(&es.cfg);
    es.sellers = xcalloc((size_t)ns, sizeof(*es.sellers));
    es.busy_until = xcalloc((size_t)ns, sizeof(double));
    es.cool_until = xcalloc((size_t)ns, sizeof(double));
    struct run_counts counts = {0};
    es.run = &counts;
    es.seen = xcalloc((size_t)ns, sizeof(*es.seen));
    es.rng = seed * 0x9E3779B97F4A7C15u + 1;
    for (int s = 0; s < ns; s++) {
        const struct demo_seller *x = &c.sellers[s];
        es.sellers[s] = (struct flash_seller){
            .pk = s + 1,
            .id = x->id,
            .phone = x->phone,
            .name = x->name,
            .category = demo_cat_names[x->cat],
            .loc = {x->lat, x->lng, "", ""},
            .stock_status = "",
            .price_min = x->price_min,
            .price_max = x->price_max,
            .currency = "TRY",
            .max_discount = x->max_discount,
            .capacity = x->capacity,
            .auto_approve = true, /* the sim draws the seller's answer itself */
            .opening_hours = "",
        };
    }
    bool *idle = xcalloc((size_t)ns * HOURS, sizeof(bool));
    int *seats0 = xcalloc((size_t)ns * HOURS, sizeof(int));
    int *seats1 = xcalloc((size_t)ns * HOURS, sizeof(int));
    struct wish *wishes = xcalloc(nb, sizeof(*wishes));
    bool *reached = xcalloc(nb, sizeof(bool));
    for (int day = 0; !rc && day < o->days; day++) {
        struct sim_arm with = {0}, without = {0};
        if (o->forget_daily && day > 0)
            memset(es.seen, 0, (size_t)ns * sizeof(*es.seen));
        struct day d = {.o = o,
                        .c = &c,
                        .seed = seed,
                        .dayno = day,
                        .idle = idle,
                        .seats = {seats0, seats1},
                        .arm = {&with, &without}};
        for (int s = 0; s < ns; s++) {
            es.busy_until[s] = 0;
            es.cool_until[s] = 0;
            for (int h = 0; h < HOURS; h++) {
                int k = s * HOURS + h;
                idle[k] =
                    demo_u01(seed, TAG_IDLE, (uint64_t)s, (uint64_t)(day * HOURS + h)) < o->p_idle;
                seats0[k] = seats1[k] = idle[k] ? c.sellers[s].capacity : 0;
                with.idle_seats += seats0[k];
            }
        }
        without.idle_seats = with.idle_seats;
        size_t nw = 0;
        for (int b = 0; b < (int)nb; b++) {
            uint64_t key = (uint64_t)day * (uint64_t)nb + (uint64_t)b;
            if (demo_u01(seed, TAG_WISH, key, 0) >= o->p_wish)
                continue;
            const struct demo_buyer *y = &c.buyers[b];
            int ci = (int)(demo_u01(seed, TAG_WISH_CAT, key, 0) * y->n_cats);
            wishes[nw++] = (struct wish){
                .buyer = b,
                .cat = y->cats[ci < y->n_cats ? ci : 0],
                /* a wish leaves at least the last hour for a window to reach */
                .t = DAY_START_S + demo_u01(seed, TAG_WISH_T, key, 0) * (HOURS - 1) * 3600.0,
                .nth = (int)key,
            };
        }
        qsort(wishes, nw, sizeof(*wishes), wish_cmp);
        for (size_t i = 0; i < nw; i++)
            reached[i] = false; /* by wish index */
        with.wishes = without.wishes = (int64_t)nw;
        /* (b) without: every wish on its own */
        for (size_t i = 0; i < nw; i++)
            behave_alone(&d, 1, &wishes[i]);
        /* (a) with: scans every 5 minutes; each wish meets exactly one scan */
        size_t lo = 0;
        for (double t = DAY_START_S + SCAN_S; !rc && lo < nw; t += SCAN_S) {
            size_t hi = lo;
            while (hi < nw && wishes[hi].t <= t)
                hi++;
            rc = scan(&d, &es, t, wishes, lo, hi, reached, e);
            for (size_t i = lo; i < hi; i++) {
                if (!reached[i])
                    behave_alone(&d, 0, &wishes[i]);
            }
            lo = hi;
        }
        arm_add(&out->with, &with);
        arm_add(&out->without, &without);
        if (day == 0)
            out->first_day = with;
        if (day == o->days - 1)
            out->last_day = with;
    }
    out->windows = counts.windows;
    out->declined = counts.declined;
    out->commits = counts.commits;
    out->no_shows = counts.no_shows;
    free(reached);
    free(wishes);
    free(seats1);
    free(seats0);
    free(idle);
    free(es.seen);
    free(es.cool_until);
    free(es.busy_until);
    free(es.sellers);
    demo_city_free(&c);
    return rc;
}

/* Two-sided 95 % Student t quantiles for 1..30 degrees of freedom; 1.96 beyond. */
static double t95(int df)
{
    static const double q[] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
                               2.306, 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                               2.120, 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
                               2.064, 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
    return df >= 1 && df <= 30 ? q[df] : 1.96;
}

static double ratio(int64_t a, int64_t b)
{
    return b > 0 ? (double)a / (double)b : 0;
}

static void stat_fill(struct sim_stat *st, const double *w, const double *wo, int n)
{
    double sw = 0, swo = 0, su = 0;
    for (int i = 0; i < n; i++) {
        sw += w[i];
        swo += wo[i];
        su += w[i] - wo[i];
    }
    st->with = sw / n;
    st->without = swo / n;
    st->uplift = su / n;
    double var = 0;
    for (int i = 0; i < n; i++) {
        double dv = (w[i] - wo[i]) - st->uplift;
        var += dv * dv;
    }
    double half = n > 1 ? t95(n - 1) * sqrt(var / (n - 1)) / sqrt((double)n) : 0;
    st->lo = st->uplift - half;
    st->hi = st->uplift + half;
}

enum { F_SERVED = 0, F_IDLE, F_VISITS, F_REVENUE, F_DISCOUNT, F_N };

int sim_report_run(const struct sim_opts *o, struct sim_report *r, struct err *e)
{
    memset(r, 0, sizeof(*r));
    int rc = check_opts(o, e);
    if (rc)
        return rc;
    int n = o->seeds;
    double *v = xcalloc((size_t)n * F_N * 2, sizeof(double));
    double first = 0, last = 0, windows = 0;
    double *learned = xcalloc((size_t)n * 2, sizeof(double)); /* learned, then forgetting */
    for (int k = 0; !rc && k < n; k++) {
        struct sim_run run;
        rc = sim_city_run(o, o->seed + (uint64_t)k, &run, e);
        if (rc)
            break;
        if (o->learn) {
            struct sim_opts fo = *o;
            fo.forget_daily = true;
            struct sim_run fresh;
            rc = sim_city_run(&fo, o->seed + (uint64_t)k, &fresh, e);
            if (rc)
                break;
            learned[k] = ratio(run.last_day.reward_bp, run.last_day.offers) / 10000.0;
            learned[n + k] = ratio(fresh.last_day.reward_bp, fresh.last_day.offers) / 10000.0;
        }
        const struct sim_arm *arms[2] = {&run.with, &run.without};
        for (int a = 0; a < 2; a++) {
            double *row = &v[((size_t)a * F_N) * (size_t)n];
            row[F_SERVED * n + k] = ratio(arms[a]->served, arms[a]->wishes);
            row[F_IDLE * n + k] = ratio(arms[a]->idle_filled, arms[a]->idle_seats);
            row[F_VISITS * n + k] = (double)arms[a]->visits / o->days;
            row[F_REVENUE * n + k] = (double)arms[a]->revenue / 100.0 / o->days;
            row[F_DISCOUNT * n + k] = (double)arms[a]->discount / 100.0 / o->days;
        }
        first += ratio(run.first_day.reward_bp, run.first_day.offers) / 10000.0;
        last += ratio(run.last_day.reward_bp, run.last_day.offers) / 10000.0;
        windows += (double)run.windows / o->days;
    }
    if (!rc) {
        struct sim_stat *st[F_N] = {&r->demand_served, &r->idle_filled, &r->visits, &r->revenue,
                                    &r->discount};
        for (int f = 0; f < F_N; f++)
            stat_fill(st[f], &v[(size_t)f * n], &v[((size_t)F_N + f) * n], n);
        r->seeds = n;
        r->days = o->days;
        r->first_day = first / n;
        r->last_day = last / n;
        r->windows = windows / n;
        r->learn = o->learn;
        if (o->learn)
            stat_fill(&r->learned, learned, learned + n, n);
    }
    free(learned);
    free(v);
    return rc;
}

static json_t *stat_json(const struct sim_stat *s)
{
    return json_pack("{s:f, s:f, s:f, s:[f, f]}", "with", s->with, "without", s->without, "uplift",
                     s->uplift, "ci95", s->lo, s->hi);
}

json_t *sim_report_json(const struct sim_report *r)
{
    json_t *j = json_pack("{s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:{s:f, s:f, s:s}, s:f}", "seeds",
                          r->seeds, "days", r->days, "demand_served", stat_json(&r->demand_served),
                          "idle_capacity_filled", stat_json(&r->idle_filled), "visits",
                          stat_json(&r->visits), "seller_revenue", stat_json(&r->revenue),
                          "discount_given", stat_json(&r->discount), "learning", "first_day",
                          r->first_day, "last_day", r->last_day, "policy",
                          r->learn ? "learning (Thompson sampling)" : "distance tiers",
                          "windows_per_day", r->windows);
    if (r->learn)
        json_object_set_new(json_object_get(j, "learning"), "learned_vs_day1",
                            json_pack("{s:f, s:f, s:f, s:[f, f]}", "learned", r->learned.with,
                                      "day1", r->learned.without, "uplift", r->learned.uplift,
                                      "ci95", r->learned.lo, r->learned.hi));
    return j;
}

static const char usage[] =
    "usage: iceshop simulate [--seed N] [--seeds K] [--days D] [--sellers N] [--buyers N]\n"
    "                        [--learn] [--json]\n"
    "  An A/B of the demo city on a virtual clock: the same buyers, wishes and random draws\n"
    "  with the flash engine's decisions and without them (the model: src/demo/sim.h).\n"
    "  --learn: the learning policy picks each window's discount (else the distance tiers).\n"
    "  Defaults: --seed 1 --seeds 20 --days 7 --sellers 12 --buyers 150.\n";

/* One table row; `decimals` digits after the point, values times `scale`. */
static void row(const char *name, const struct sim_stat *s, int decimals, double scale)
{
    printf("%-28s %12.*f %12.*f %+12.*f   [%+.*f, %+.*f]\n", name, decimals, s->with * scale,
           decimals, s->without * scale, decimals, s->uplift * scale, decimals, s->lo * scale,
           decimals, s->hi * scale);
}

static bool num_arg(const char *v, double lo, double hi, double *out)
{
    char *end;
    double x = v ? strtod(v, &end) : 0;
    if (!v || *end != '\0' || !(x >= lo && x <= hi))
        return false;
    *out = x;
    return true;
}

int sim_main(int argc, char **argv)
{
    struct sim_opts o;
    sim_opts_default(&o);
    bool json = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x = 0;
        if (strcmp(a, "--json") == 0) {
            json = true;
            continue;
        }
        if (strcmp(a, "--learn") == 0) {
            o.learn = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        bool ok = true;
        if (strcmp(a, "--seed") == 0 && (ok = num_arg(v, 0, 1e15, &x)))
            o.seed = (uint64_t)x;
        else if (strcmp(a, "--seeds") == 0 && (ok = num_arg(v, 1, 1000, &x)))
            o.seeds = (int)x;
        else if (strcmp(a, "--days") == 0 && (ok = num_arg(v, 1, 60, &x)))
            o.days = (int)x;
        else if (strcmp(a, "--sellers") == 0 && (ok = num_arg(v, 1, DEMO_MAX_SELLERS, &x)))
            o.sellers = (int)x;
        else if (strcmp(a, "--buyers") == 0 && (ok = num_arg(v, 1, DEMO_MAX_BUYERS, &x)))
            o.buyers = (int)x;
        else
            ok = false;
        if (!ok) {
            fprintf(stderr, "iceshop simulate: bad option %s %s\n\n%s", a, v ? v : "", usage);
            return 2;
        }
        i++;
    }
    struct sim_report r;
    struct err e;
    err_init(&e);
    if (sim_report_run(&o, &r, &e)) {
        fprintf(stderr, "iceshop simulate: %s\n", e.msg);
        return 1;
    }
    if (json) {
        json_t *j = sim_report_json(&r);
        char *text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
        json_decref(j);
        printf("%s\n", text ? text : "{}");
        free(text);
        return 0;
    }
    printf("iceshop simulate: seeds %llu..%llu, %d days, %d sellers, %d buyers\n",
           (unsigned long long)o.seed, (unsigned long long)(o.seed + (uint64_t)o.seeds - 1), o.days,
           o.sellers, o.buyers);
    printf("%-28s %12s %12s %12s   %s\n", "", "with", "without", "uplift", "95% CI of uplift");
    row("demand served (%)", &r.demand_served, 1, 100);
    row("idle capacity filled (%)", &r.idle_filled, 1, 100);
    row("visits / day", &r.visits, 1, 1);
    row("seller revenue / day (TRY)", &r.revenue, 0, 1);
    row("discount given / day (TRY)", &r.discount, 0, 1);
    printf("windows / day (with): %.1f\n", r.windows);
    printf("policy: %s; reward per offer (visit x margin) day 1 %.3f, day %d %.3f\n",
           r.learn ? "learning (Thompson sampling over tiers)" : "distance tiers", r.first_day,
           r.days, r.last_day);
    if (r.learn)
        printf("learning, like for like on day %d: learned %.3f vs day-1 knowledge %.3f per offer, "
               "uplift %+.3f, 95%% CI [%+.3f, %+.3f]\n",
               r.days, r.learned.with, r.learned.without, r.learned.uplift, r.learned.lo,
               r.learned.hi);
    printf("same wishes and draws in both arms; model in src/demo/sim.h\n");
    return 0;
}
