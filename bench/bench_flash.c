/* SPDX-License-Identifier: MIT */
/*
 * Flash engine speed for `make bench`: a deterministic synthetic city (fixed-seed PRNG, mixed
 * categories, about one demand per buyer at Istanbul density), timed through grid build +
 * flash_scan + flash_targets for every eligible seller, single thread.
 * Usage: bench_flash [small|big|rss|all]   (rss: one small-city pass, then peak RSS; run it in
 * its own process so a big city does not inflate it). Prints figures; never fails on them.
 */
#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "domain/flash/engine.h"
#include "domain/flash/flash.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define NOW_MS       INT64_C(1795252200000) /* 2026-11-21T09:10:00Z */
#define TARGET_LIMIT 50
#define SMALL_RUNS   9

/* The small city spans lat 40.95..41.10, lng 28.95..29.10; a big one keeps its density. */
#define SMALL_SPAN     0.15
#define CENTER_LAT     41.025
#define CENTER_LNG     29.025
#define SMALL_SELLERS  2000
#define SMALL_BUYERS   20000
#define BIG_SELLERS    100000
#define BIG_BUYERS     1000000
#define ANY_CATEGORY_P 0.2 /* share of demand with no category */

struct city {
    struct flash_seller *sellers;
    size_t n_sellers;
    struct flash_demand *demand;
    size_t n_demand;
    int *precommits;
    char *pool; /* ids and category strings, one block */
};

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static double rng_unit(void)
{
    return (double)(rng_next() >> 11) / (double)(UINT64_C(1) << 53);
}

static size_t rng_below(size_t n)
{
    return (size_t)(rng_unit() * (double)n);
}

static size_t n_categories(void)
{
    size_t n = 0;
    while (flash_categories[n])
        n++;
    return n;
}

/* Copy s into the pool at *off; strings live as long as the city. */
static const char *pool_put(struct city *c, size_t *off, const char *s)
{
    size_t len = strlen(s) + 1;
    char *p = c->pool + *off;
    memcpy(p, s, len);
    *off += len;
    return p;
}

static void city_build(struct city *c, size_t n_sellers, size_t n_buyers, uint64_t seed)
{
    rng_state = seed;
    double span = SMALL_SPAN * sqrt((double)n_buyers / SMALL_BUYERS); /* same density */
    double lat0 = CENTER_LAT - span / 2, lng0 = CENTER_LNG - span / 2;
    size_t ncat = n_categories();

    memset(c, 0, sizeof(*c));
    c->n_sellers = n_sellers;
    c->sellers = xcalloc(n_sellers, sizeof(*c->sellers));
    c->precommits = xcalloc(n_sellers, sizeof(*c->precommits));
    /* Buyers: 80 % one demand, 10 % two, 10 % none: about one demand per buyer. */
    size_t cap = n_buyers + n_buyers / 10 + 1;
    c->demand = xcalloc(cap, sizeof(*c->demand));
    c->pool = xmalloc((n_sellers + cap) * 32 + 64);
    size_t off = 0;
    char buf[32];

    for (size_t i = 0; i < n_sellers; i++) {
        struct flash_seller *s = &c->sellers[i];
        snprintf(buf, sizeof(buf), "s%zu", i);
        s->pk = (int64_t)i + 1;
        s->id = pool_put(c, &off, buf);
        s->name = s->id;
        s->category = pool_put(c, &off, flash_categories[rng_below(ncat)]);
        s->loc.lat = lat0 + rng_unit() * span;
        s->loc.lng = lng0 + rng_unit() * span;
        s->loc.district = "";
        s->loc.neighborhood = "";
        s->density = (enum flash_density)rng_below(3);
        if (rng_unit() < 0.3) {
            s->supply_kind = FLASH_SUPPLY_IDLE;
            s->supply_until = NOW_MS + 30 * 60000;
        }
        s->max_discount = 10 + (int)rng_below(31);
        s->capacity = 5 + (int)rng_below(20);
        s->auto_approve = rng_unit() < 0.5;
        s->opening_hours = "";
        c->precommits[i] = rng_unit() < 0.1 ? (int)rng_below(4) : 0;
    }
    for (size_t b = 0; b < n_buyers; b++) {
        double r = rng_unit();
        int k = r < 0.8 ? 1 : r < 0.9 ? 2 : 0;
        double lat = lat0 + rng_unit() * span, lng = lng0 + rng_unit() * span;
        bool consent = rng_unit() < 0.9;
        snprintf(buf, sizeof(buf), "b%zu", b);
        const char *bid = k ? pool_put(c, &off, buf) : NULL;
        for (int j = 0; j < k; j++) {
            struct flash_demand *d = &c->demand[c->n_demand++];
            d->pk = (int64_t)c->n_demand;
            d->buyer_pk = (int64_t)b + 1;
            d->buyer_id = bid;
            d->loc.lat = lat;
            d->loc.lng = lng;
            d->loc.district = "";
            d->loc.neighborhood = "";
            d->text = "";
            d->product = "";
            d->category = rng_unit() < ANY_CATEGORY_P
                              ? ""
                              : pool_put(c, &off, flash_categories[rng_below(ncat)]);
            d->expires_at = NOW_MS + (rng_unit() < 0.05 ? -60000 : 3600000);
            d->reliability = 0.7;
            d->consent = consent;
        }
    }
}

static void city_free(struct city *c)
{
    free(c->sellers);
    free(c->demand);
    free(c->precommits);
    free(c->pool);
}

struct run {
    double grid_ms, scan_ms, targets_ms, total_ms;
    size_t eligible, targets;
};

/* One pass: grid, scan, targets for every eligible seller. Exits on an engine error. */
static struct run run_once(const struct city *c, const struct flash_config *cfg)
{
    struct run r = {0};
    struct arena a;
    struct err e;
    arena_init(&a);
    err_init(&e);
    int64_t t0 = clock_mono_ns();
    struct flash_grid *g = flash_grid_new(c->demand, c->n_demand, cfg->radius_m / 2);
    int64_t t1 = clock_mono_ns();
    struct flash_scan_input in = {
        .cfg = cfg,
        .sellers = c->sellers,
        .n_sellers = c->n_sellers,
        .demand = c->demand,
        .n_demand = c->n_demand,
        .precommits = c->precommits,
        .now_ms = NOW_MS,
        .grid = g,
    };
    struct flash_score *scores;
    size_t n;
    if (flash_scan(&in, &a, &scores, &n, &e)) {
        fprintf(stderr, "bench_flash: scan: %s\n", e.msg);
        exit(1);
    }
    int64_t t2 = clock_mono_ns();
    for (size_t i = 0; i < n && scores[i].eligible; i++) {
        struct flash_target *t;
        size_t nt;
        if (flash_targets(&in, scores[i].seller_idx, TARGET_LIMIT, &a, &t, &nt, &e)) {
            fprintf(stderr, "bench_flash: targets: %s\n", e.msg);
            exit(1);
        }
        r.eligible++;
        r.targets += nt;
    }
    int64_t t3 = clock_mono_ns();
    flash_grid_free(g);
    arena_release(&a);
    r.grid_ms = (double)(t1 - t0) / 1e6;
    r.scan_ms = (double)(t2 - t1) / 1e6;
    r.targets_ms = (double)(t3 - t2) / 1e6;
    r.total_ms = (double)(t3 - t0) / 1e6;
    return r;
}

static int dbl_cmp(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static int run_cmp(const void *pa, const void *pb)
{
    const struct run *a = pa, *b = pb;
    return (a->total_ms > b->total_ms) - (a->total_ms < b->total_ms);
}

static void bench_small(const struct flash_config *cfg)
{
    struct city c;
    city_build(&c, SMALL_SELLERS, SMALL_BUYERS, 42);
    struct run runs[SMALL_RUNS];
    run_once(&c, cfg); /* warm-up */
    for (int i = 0; i < SMALL_RUNS; i++)
        runs[i] = run_once(&c, cfg);
    qsort(runs, SMALL_RUNS, sizeof(runs[0]), run_cmp);
    struct run *m = &runs[SMALL_RUNS / 2];
    /* The scan (what POST /api/campaigns/scan does) is grid + scores; targets come after, only
     * for the eligible sellers, when windows are generated. */
    double scan_ms[SMALL_RUNS];
    for (int i = 0; i < SMALL_RUNS; i++)
        scan_ms[i] = runs[i].grid_ms + runs[i].scan_ms;
    qsort(scan_ms, SMALL_RUNS, sizeof(scan_ms[0]), dbl_cmp);
    printf("  scan %dx%d (grid + every seller's score): median %.2f ms (aim <= 10 ms)\n",
           SMALL_SELLERS, SMALL_BUYERS, scan_ms[SMALL_RUNS / 2]);
    printf("    with targets for the %zu eligible sellers (generate): median %.2f ms   [grid %.2f, "
           "scan %.2f, targets %.2f ms; %zu demand, %.1f targets each; %d runs]\n",
           m->eligible, m->total_ms, m->grid_ms, m->scan_ms, m->targets_ms, c.n_demand,
           m->eligible ? (double)m->targets / (double)m->eligible : 0, SMALL_RUNS);
    city_free(&c);
}

static void bench_big(const struct flash_config *cfg)
{
    struct city c;
    int64_t t0 = clock_mono_ns();
    city_build(&c, BIG_SELLERS, BIG_BUYERS, 4242);
    double build_s = (double)(clock_mono_ns() - t0) / 1e9;
    struct run r = run_once(&c, cfg);
    printf("  scan %dx%d (grid + every seller's score, one core): %.2f s (aim <= 1 s)\n",
           BIG_SELLERS, BIG_BUYERS, (r.grid_ms + r.scan_ms) / 1e3);
    printf("    with targets for the %zu eligible sellers (generate): %.2f s   [grid %.2f, scan "
           "%.2f, targets %.2f s; %zu demand; city generated in %.2f s]\n",
           r.eligible, r.total_ms / 1e3, r.grid_ms / 1e3, r.scan_ms / 1e3, r.targets_ms / 1e3,
           c.n_demand, build_s);
    city_free(&c);
}

static void bench_rss(const struct flash_config *cfg)
{
    struct city c;
    city_build(&c, SMALL_SELLERS, SMALL_BUYERS, 42);
    run_once(&c, cfg);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("  peak RSS %dx%d (city + scan + targets): %.1f MB (aim < 50 MB)\n", SMALL_SELLERS,
           SMALL_BUYERS, (double)ru.ru_maxrss / 1024.0);
    city_free(&c);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "all";
    struct flash_config cfg;
    flash_config_default(&cfg);
    if (strcmp(mode, "small") == 0) {
        bench_small(&cfg);
    } else if (strcmp(mode, "big") == 0) {
        bench_big(&cfg);
    } else if (strcmp(mode, "rss") == 0) {
        bench_rss(&cfg);
    } else if (strcmp(mode, "all") == 0) {
        bench_small(&cfg);
        bench_big(&cfg);
    } else {
        fprintf(stderr, "usage: bench_flash [small|big|rss|all]\n");
        return 2;
    }
    return 0;
}
