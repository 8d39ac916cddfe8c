/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the pure flash engine (src/domain/flash/engine.c, flash.c): haversine, the
 * grid against brute force, tiers, every score component on hand-built cities, ranking,
 * targets, start-time choice, opening hours, configuration checks and the window draft.
 * Table-driven; no clock, no database, no timing assertions (speed: bench/bench_flash.c).
 */
#include "domain/flash/engine.h"
#include "domain/flash/flash.h"
#include "core/arena.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EARTH_R   6371008.8
#define M_PER_DEG (EARTH_R * 3.14159265358979323846 / 180)
#define MIN_MS    INT64_C(60000)
#define NOW       INT64_C(1795252200000) /* 2026-11-21T09:10:00Z, a Saturday */
#define MONDAY_11 INT64_C(1795431600000) /* 2026-11-23T11:00:00Z: Monday 14:00 in Istanbul */
#define LAT0      41.0
#define LNG0      29.0

/* ======================== helpers ======================== */

static uint64_t rng = 88172645463325252u;

static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / (double)(UINT64_C(1) << 53);
}

/* A point `m` metres due north (negative: south) of (lat, lng): exact on the sphere. */
static double north(double lat, double m)
{
    return lat + m / M_PER_DEG;
}

static struct flash_demand demand_at(int64_t buyer, double lat, double lng, const char *cat)
{
    static char ids[64][16];
    snprintf(ids[buyer % 64], sizeof(ids[0]), "b%lld", (long long)buyer);
    return (struct flash_demand){
        .pk = buyer * 100,
        .buyer_pk = buyer,
        .buyer_id = ids[buyer % 64],
        .loc = {lat, lng, "", ""},
        .text = "",
        .product = "latte",
        .category = cat,
        .expires_at = NOW + 3600 * 1000,
        .reliability = 0.7,
        .consent = true,
    };
}

static struct flash_seller seller_at(double lat, double lng, const char *cat)
{
    return (struct flash_seller){
        .pk = 1,
        .id = "s1",
        .phone = "+905321234567",
        .name = "M Coffee",
        .category = cat,
        .loc = {lat, lng, "Kadıköy", "Moda"},
        .density = FLASH_DENSITY_MEDIUM,
        .stock_status = "",
        .currency = "TRY",
        .max_discount = 25,
        .capacity = 8,
        .opening_hours = "",
    };
}

static struct flash_scan_input input(const struct flash_config *cfg, const struct flash_seller *s,
                                     size_t ns, const struct flash_demand *d, size_t nd)
{
    return (struct flash_scan_input){
        .cfg = cfg, .sellers = s, .n_sellers = ns, .demand = d, .n_demand = nd, .now_ms = NOW};
}

/* The score of seller `idx` in a ranked list. */
static const struct flash_score *score_of(const struct flash_score *sc, size_t n, size_t idx)
{
    for (size_t i = 0; i < n; i++) {
        if (sc[i].seller_idx == idx)
            return &sc[i];
    }
    fail_msg("seller %zu not scored", idx);
    return NULL;
}

/* ======================== distance ======================== */

static void test_haversine(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        double lat1, lng1, lat2, lng2, want_m, tol_m;
    } cases[] = {
        {"same point", 41.0082, 28.9784, 41.0082, 28.9784, 0, 1e-9},
        /* Kadıköy pier (40.9917, 29.0233) to Moda Parkı (40.9806, 29.0264): ~1.26 km. */
        {"Kadikoy pier - Moda", 40.9917, 29.0233, 40.9806, 29.0264, 1261.40, 0.05},
        {"antipodes on the equator", 0, 0, 0, 180, 20015114.44, 0.05},
        {"pole to pole", 90, 0, -90, 0, 20015114.44, 0.05},
        {"1 degree of longitude at the equator", 0, 0, 0, 1, 111195.08, 0.01},
        {"across the antimeridian", 0, 179.5, 0, -179.5, 111195.08, 0.01},
        {"Sultanahmet - Ankara Kizilay", 41.0082, 28.9784, 39.9334, 32.8597, 349356.22, 0.05},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double d = flash_haversine_m(cases[i].lat1, cases[i].lng1, cases[i].lat2, cases[i].lng2);
        double back = flash_haversine_m(cases[i].lat2, cases[i].lng2, cases[i].lat1, cases[i].lng1);
        if (fabs(d - cases[i].want_m) > cases[i].tol_m || fabs(d - back) > 1e-6)
            fail_msg("%s: got %.3f m, want %.3f m", cases[i].what, d, cases[i].want_m);
    }
    /* Moda-Kadikoy is "about 1.3 km" in the product brief. */
    double moda = flash_haversine_m(40.9917, 29.0233, 40.9806, 29.0264);
    assert_true(moda > 1200 && moda < 1350);
}

struct hits {
    size_t n;
    double *dist; /* by demand index, -1 = not reported */
};

static void collect(void *ctx, size_t idx, double d)
{
    struct hits *h = ctx;
    assert_true(h->dist[idx] < 0); /* each point at most once */
    h->dist[idx] = d;
    h->n++;
}

/* Grid query = brute-force haversine, for points spread around `lat, lng` within `spread_m`. */
static void grid_vs_brute(double lat, double lng, double spread_m, double cell_m,
                          const double *radii, size_t n_radii)
{
    enum { N = 3000, Q = 40 };
    struct flash_demand *d = calloc(N, sizeof(*d));
    double dlat = spread_m / M_PER_DEG, dlng = dlat / cos(lat * 3.14159265358979323846 / 180);
    for (size_t i = 0; i < N; i++) {
        double plat = lat + (urand() * 2 - 1) * dlat, plng = lng + (urand() * 2 - 1) * dlng;
        if (plat > 90)
            plat = 180 - plat;
        if (plng > 180)
            plng -= 360;
        if (plng < -180)
            plng += 360;
        /* Every 7th point sits on a row boundary of the grid, to the last bit. */
        if (i % 7 == 0) {
            double rows = cell_m / M_PER_DEG;
            plat = floor((plat + 90) / rows) * rows - 90;
        }
        d[i] = demand_at((int64_t)i, plat, plng, "");
    }
    struct flash_grid *g = flash_grid_new(d, N, cell_m);
    struct hits h = {0, malloc(N * sizeof(double))};
    for (size_t r = 0; r < n_radii; r++) {
        for (int q = 0; q < Q; q++) {
            /* Queries at random points, at data points, and exactly a radius from a point. */
            double qlat = d[(size_t)q * 7].loc.lat, qlng = d[(size_t)q * 7].loc.lng;
            if (q % 3 == 1) {
                qlat = lat + (urand() * 2 - 1) * dlat;
                qlng = lng + (urand() * 2 - 1) * dlng;
                qlng = qlng > 180 ? qlng - 360 : qlng < -180 ? qlng + 360 : qlng;
                qlat = qlat > 90 ? 90 : qlat;
            } else if (q % 3 == 2 && fabs(qlat) < 80) {
                qlat = north(qlat, -radii[r]);
            }
            for (size_t i = 0; i < N; i++)
                h.dist[i] = -1;
            h.n = 0;
            size_t got = flash_grid_query(g, qlat, qlng, radii[r], collect, &h);
            assert_int_equal(got, h.n);
            for (size_t i = 0; i < N; i++) {
                double want = flash_haversine_m(qlat, qlng, d[i].loc.lat, d[i].loc.lng);
                bool in = want <= radii[r];
                bool reported = h.dist[i] >= 0;
                if (reported && fabs(h.dist[i] - want) > 1e-6)
                    fail_msg("distance %.9f vs haversine %.9f", h.dist[i], want);
                /* Within a micrometre of the edge either answer is rounding. */
                if (in != reported && fabs(want - radii[r]) > 1e-6)
                    fail_msg("r=%g cell=%g q=(%.6f,%.6f) point %zu at %.6f m: grid says %d",
                             radii[r], cell_m, qlat, qlng, i, want, reported);
            }
        }
    }
    free(h.dist);
    flash_grid_free(g);
    free(d);
}

static void test_grid_matches_brute_force(void **state)
{
    (void)state;
    static const double radii[] = {0, 50, 300, 1000, 2500};
    static const double big[] = {20000, 150000};
    static const double cells[] = {1000, 500, 137, 3000};
    for (size_t c = 0; c < sizeof(cells) / sizeof(cells[0]); c++)
        grid_vs_brute(LAT0, LNG0, 5000, cells[c], radii, 5);
    grid_vs_brute(LAT0, LNG0, 100000, 1000, big, 2);
    /* Across the antimeridian and next to a pole. */
    grid_vs_brute(-16.5, 179.99, 4000, 500, radii, 5);
    grid_vs_brute(89.98, 10, 3000, 500, radii, 5);
}

static void test_grid_edge_cases(void **state)
{
    (void)state;
    struct flash_demand d[3] = {
        demand_at(1, LAT0, LNG0, ""), demand_at(2, NAN, LNG0, ""), /* never indexed */
        demand_at(3, LAT0, 200.0, ""),                             /* out of range: never indexed */
    };
    struct hits h = {0, (double[3]){-1, -1, -1}};
    struct flash_grid *g = flash_grid_new(d, 3, 0); /* bad cell size: a default is used */
    assert_int_equal(flash_grid_query(g, LAT0, LNG0, 10, collect, &h), 1);
    assert_true(h.dist[0] == 0);
    assert_int_equal(flash_grid_query(g, NAN, LNG0, 10, collect, &h), 0);
    assert_int_equal(flash_grid_query(g, LAT0, LNG0, -1, collect, &h), 0);
    flash_grid_free(g);
    g = flash_grid_new(NULL, 0, 500);
    assert_int_equal(flash_grid_query(g, LAT0, LNG0, 1000, collect, &h), 0);
    flash_grid_free(g);
    flash_grid_free(NULL);
}

/* ======================== tiers ======================== */

static void test_tier_discount(void **state)
{
    (void)state;
    struct flash_config c;
    flash_config_default(&c);
    static const struct {
        double d;
        int seller_max, want;
    } cases[] = {
        {0, 90, 15},   {299.9, 90, 15},  {300, 90, 20}, {599, 90, 20},
        {600, 90, 30}, {899.99, 90, 30}, {900, 90, 0},  {5000, 90, 0}, /* beyond all tiers */
        {250, 10, 10}, {700, 25, 25},    {700, 0, 0},   {100, -5, 0},  /* seller caps */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = flash_tier_discount(&c, cases[i].d, cases[i].seller_max);
        if (got != cases[i].want)
            fail_msg("%.2f m, seller max %d: got %d%%, want %d%%", cases[i].d, cases[i].seller_max,
                     got, cases[i].want);
    }
    c.n_tiers = 0;
    assert_int_equal(flash_tier_discount(&c, 10, 50), 0);
}

/* ======================== scoring ======================== */

/*
 * The hand-built city: seller "coffee" at (41, 29), default config (radius 1000, demand target
 * 5, min participants 2, weights .35/.2/.15/.15/.15), density medium, 1 pre-commit.
 *   buyer 1: coffee 100 m north, and bakery at the same spot (one buyer, counted once)
 *   buyer 2: any category 400 m south
 *   buyer 3: bakery 200 m north
 *   buyer 4: coffee 1500 m north (outside the radius)
 *   buyer 5: coffee 50 m north but expired
 * nearby {1,2,3} = 3, matching {1,2} = 2, mean distance 250 m.
 *   demand 2/5 = 0.4; density 0.5; precommit 1/2 = 0.5; category 2/3; distance 1 - 250/1000
 *   = 0.75; total = .35*.4 + .2*.5 + .15*.5 + .15*(2/3) + .15*.75 = 0.5275 -> eligible.
 */
static size_t hand_city(struct flash_demand *d)
{
    size_t n = 0;
    d[n++] = demand_at(1, north(LAT0, 100), LNG0, "coffee");
    d[n++] = demand_at(1, north(LAT0, 100), LNG0, "bakery");
    d[n++] = demand_at(2, north(LAT0, -400), LNG0, "");
    d[n++] = demand_at(3, north(LAT0, 200), LNG0, "bakery");
    d[n++] = demand_at(4, north(LAT0, 1500), LNG0, "coffee");
    d[n] = demand_at(5, north(LAT0, 50), LNG0, "coffee");
    d[n++].expires_at = NOW;
    return n;
}

static void test_score_components(void **state)
{
    (void)state;
    struct flash_config cfg;
    flash_config_default(&cfg);
    struct flash_demand d[8];
    size_t nd = hand_city(d);
    struct flash_seller s = seller_at(LAT0, LNG0, "coffee");
    int pre = 1;
    struct flash_scan_input in = input(&cfg, &s, 1, d, nd);
    in.precommits = &pre;
    struct arena a;
    arena_init(&a);
    struct err e;
    err_init(&e);
    struct flash_score *sc;
    size_t n;

    static const struct {
        const char *what;
        enum flash_density density;
        enum flash_supply_kind supply;
        int64_t supply_until;
        double density_c, total;
    } cases[] = {
        {"medium, no signal", FLASH_DENSITY_MEDIUM, FLASH_SUPPLY_IDLE, 0, 0.5, 0.5275},
        {"low", FLASH_DENSITY_LOW, FLASH_SUPPLY_IDLE, 0, 1.0, 0.6275},
        {"high", FLASH_DENSITY_HIGH, FLASH_SUPPLY_IDLE, 0, 0.0, 0.4275},
        {"high but idle signal active", FLASH_DENSITY_HIGH, FLASH_SUPPLY_IDLE, NOW + 1, 1.0,
         0.6275},
        {"high, surplus signal expired", FLASH_DENSITY_HIGH, FLASH_SUPPLY_SURPLUS, NOW, 0.0,
         0.4275},
        {"high, promotion active", FLASH_DENSITY_HIGH, FLASH_SUPPLY_PROMOTION, NOW + 1, 1.0,
         0.6275},
        {"high, density report active", FLASH_DENSITY_HIGH, FLASH_SUPPLY_DENSITY, NOW + 1, 0.0,
         0.4275},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s.density = cases[i].density;
        s.supply_kind = cases[i].supply;
        s.supply_until = cases[i].supply_until;
        assert_int_equal(flash_scan(&in, &a, &sc, &n, &e), 0);
        assert_int_equal(n, 1);
        assert_int_equal(sc->nearby, 3);
        assert_int_equal(sc->matching, 2);
        assert_int_equal(sc->precommits, 1);
        assert_true(fabs(sc->mean_distance_m - 250) < 1e-6);
        assert_true(fabs(sc->components[FLASH_C_DEMAND] - 0.4) < 1e-9);
        assert_true(fabs(sc->components[FLASH_C_PRECOMMIT] - 0.5) < 1e-9);
        assert_true(fabs(sc->components[FLASH_C_CATEGORY] - 2.0 / 3) < 1e-9);
        assert_true(fabs(sc->components[FLASH_C_DISTANCE] - 0.75) < 1e-9);
        if (fabs(sc->components[FLASH_C_DENSITY] - cases[i].density_c) > 1e-9 ||
            fabs(sc->total - cases[i].total) > 1e-9)
            fail_msg("%s: density %.4f total %.6f, want %.4f %.6f", cases[i].what,
                     sc->components[FLASH_C_DENSITY], sc->total, cases[i].density_c,
                     cases[i].total);
        assert_int_equal(sc->eligible, cases[i].total >= cfg.threshold);
    }

    /* Saturation: 3 pre-commits over min 2, demand target 2 -> both components 1. */
    s.density = FLASH_DENSITY_MEDIUM;
    s.supply_until = 0;
    pre = 3;
    cfg.demand_target = 2;
    assert_int_equal(flash_scan(&in, &a, &sc, &n, &e), 0);
    assert_true(sc->components[FLASH_C_DEMAND] == 1.0);
    assert_true(sc->components[FLASH_C_PRECOMMIT] == 1.0);
    /* Weights are normalised by their sum: doubling them all changes nothing. */
    double before = sc->total;
    for (int k = 0; k < FLASH_N_COMPONENTS; k++)
        cfg.weights[k] *= 2;
    assert_int_equal(flash_scan(&in, &a, &sc, &n, &e), 0);
    assert_true(fabs(sc->total - before) < 1e-12);
    /* Only the distance weight: the total is the distance component. */
    memset(cfg.weights, 0, sizeof(cfg.weights));
    cfg.weights[FLASH_C_DISTANCE] = 1;
    assert_int_equal(flash_scan(&in, &a, &sc, &n, &e), 0);
    assert_true(fabs(sc->total - 0.75) < 1e-9);
    /* No precommits array at all. */
    in.precommits = NULL;
    assert_int_equal(flash_scan(&in, &a, &sc, &n, &e), 0);
    assert_int_equal(sc->precommits, 0);
    arena_release(&a);
}

static void test_matching_zero_never_eligible(void **state)
{
    (void)state;
    struct flash_config cfg;
    flash_config_default(&cfg);
    cfg.threshold = 0;
    struct flash_demand d[2] = {demand_at(1, north(LAT0, 10), LNG0, "bakery"),
                                demand_at(2, north(LAT0, 3000), LNG0, "coffee")};
    struct flash_seller s[3] = {seller_at(LAT0, LNG0, "coffee"), seller_at(LAT0, LNG0, ""),
                                seller_at(LAT0, LNG0, "butcher")};
    s[0].density = FLASH_DENSITY_LOW;
    struct flash_scan_input in = input(&cfg, s, 3, d, 2);
    struct arena a;
    arena_init(&a);
    struct err e;
    err_init(&e);
    struct flash_score *sc;
    size_t n;
    assert_int_equal(flash_scan(&in, &a, &sc, &n, &e), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(sc[i].nearby, 1);
        assert_int_equal(sc[i].matching, 0);
        assert_false(sc[i].eligible);
        assert_true(sc[i].components[FLASH_C_DISTANCE] == 0);
        assert_true(sc[i].components[FLASH_C_CATEGORY] == 0);
    }
    assert_true(score_of(sc, n, 0)->total > 0); /* density alone scores, yet no window */
    /* No demand at all. */
    in.n_demand = 0;
    assert_int_equal(flash_scan(&in, &a, &sc, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_int_equal(sc[0].nearby, 0);
    assert_false(sc[0].eligible);
    /* No sellers. */
    in.n_sellers = 0;
    assert_int_equal(flash_scan(&in, &a, &sc, &n, &e), 0);
    assert_int_equal(n, 0);
    arena_release(&a);
}

static void test_ranking_and_ties(void **state)
{
    (void)state;
    struct flash_config cfg;
    flash_config_default(&cfg);
    struct flash_demand d[4] = {
        demand_at(1, north(LAT0, 100), LNG0, "coffee"),
        demand_at(2, north(LAT0, 200), LNG0, "coffee"),
        demand_at(3, north(LAT0, 300), LNG0, "coffee"),
        demand_at(4, north(LAT0, -100), LNG0, "bakery"),
    };
    /* Sellers 0, 2, 3 are identical (a tie); seller 1 is idle, so it ranks first. */
    struct flash_seller s[5] = {seller_at(LAT0, LNG0, "coffee"), seller_at(LAT0, LNG0, "coffee"),
                                seller_at(LAT0, LNG0, "coffee"), seller_at(LAT0, LNG0, "coffee"),
                                seller_at(LAT0 + 1, LNG0, "coffee")};
    s[1].density = FLASH_DENSITY_LOW;
    struct flash_scan_input in = input(&cfg, s, 5, d, 4);
    struct arena a;
    arena_init(&a);
    struct err e;
    err_init(&e);
    struct flash_score *sc;
    size_t n;
    assert_int_equal(flash_scan(&in, &a, &sc, &n, &e), 0);
    static const size_t order[] = {1, 0, 2, 3, 4};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(sc[i].seller_idx, order[i]);
    for (size_t i = 1; i < 5; i++)
        assert_true(sc[i - 1].total >= sc[i].total);
    assert_true(sc[1].total == sc[2].total && sc[2].total == sc[3].total);
    assert_false(sc[4].eligible); /* far away */
    arena_release(&a);
}

/* A random city: scan with and without a prebuilt grid, against brute-force counts. */
static void test_scan_matches_brute_force(void **state)
{
    (void)state;
    enum { NS = 60, NB = 900 };
    static const char *const cats[] = {"coffee", "bakery", "", "market"};
    struct flash_config cfg;
    flash_config_default(&cfg);
    cfg.radius_m = 700;
    struct flash_seller *s = calloc(NS, sizeof(*s));
    struct flash_demand *d = calloc(2 * NB, sizeof(*d));
    size_t nd = 0;
    double span = 6000 / M_PER_DEG;
    for (size_t i = 0; i < NS; i++)
        s[i] = seller_at(LAT0 + urand() * span, LNG0 + urand() * span, cats[i % 4]);
    for (int64_t b = 0; b < NB; b++) {
        double lat = LAT0 + urand() * span, lng = LNG0 + urand() * span;
        int k = 1 + (b % 5 == 0);
        for (int j = 0; j < k; j++) {
            d[nd] = demand_at(b, lat, lng, cats[(size_t)(urand() * 4)]);
            if (urand() < 0.1)
                d[nd].expires_at = NOW - 1;
            nd++;
        }
    }
    struct arena a;
    arena_init(&a);
    struct err e;
    err_init(&e);
    struct flash_scan_input in = input(&cfg, s, NS, d, nd);
    struct flash_score *plain, *gridded;
    size_t n1, n2;
    assert_int_equal(flash_scan(&in, &a, &plain, &n1, &e), 0);
    struct flash_grid *g = flash_grid_new(d, nd, 333);
    in.grid = g;
    assert_int_equal(flash_scan(&in, &a, &gridded, &n2, &e), 0);
    assert_int_equal(n1, NS);
    assert_int_equal(n2, NS);
    for (size_t i = 0; i < NS; i++) {
        assert_int_equal(plain[i].seller_idx, gridded[i].seller_idx);
        assert_true(fabs(plain[i].total - gridded[i].total) < 1e-12);
    }
    bool *near = malloc(NB * sizeof(bool));
    double *best = malloc(NB * sizeof(double));
    for (size_t i = 0; i < NS; i++) {
        int nearby = 0, matching = 0;
        double sum = 0;
        for (int64_t b = 0; b < NB; b++) {
            near[b] = false;
            best[b] = INFINITY;
        }
        for (size_t k = 0; k < nd; k++) {
            if (d[k].expires_at <= NOW)
                continue;
            double dist = flash_haversine_m(s[i].loc.lat, s[i].loc.lng, d[k].loc.lat, d[k].loc.lng);
            if (dist > cfg.radius_m)
                continue;
            near[d[k].buyer_pk] = true;
            if ((!*d[k].category || strcmp(d[k].category, s[i].category) == 0) &&
                dist < best[d[k].buyer_pk])
                best[d[k].buyer_pk] = dist;
        }
        for (int64_t b = 0; b < NB; b++) {
            nearby += near[b];
            matching += isfinite(best[b]);
            sum += isfinite(best[b]) ? best[b] : 0;
        }
        const struct flash_score *sc = score_of(plain, NS, i);
        assert_int_equal(sc->nearby, nearby);
        assert_int_equal(sc->matching, matching);
        assert_true(fabs(sc->mean_distance_m - (matching ? sum / matching : 0)) < 1e-6);
    }
    free(near);
    free(best);
    /* A grid over another array is refused. */
    in.n_demand = nd - 1;
    assert_int_equal(flash_scan(&in, &a, &gridded, &n2, &e), ERR_INVALID);
    flash_grid_free(g);
    arena_release(&a);
    free(s);
    free(d);
}

static void test_scan_rejects_bad_config(void **state)
{
    (void)state;
    struct flash_config cfg;
    flash_config_default(&cfg);
    cfg.radius_m = -1;
    struct flash_seller s = seller_at(LAT0, LNG0, "coffee");
    struct flash_scan_input in = input(&cfg, &s, 1, NULL, 0);
    struct arena a;
    arena_init(&a);
    struct err e;
    err_init(&e);
    struct flash_score *sc;
    size_t n;
    assert_int_equal(flash_scan(&in, &a, &sc, &n, &e), ERR_INVALID);
    assert_string_equal(e.field, "radius_m");
    in.cfg = NULL;
    err_init(&e);
    assert_int_equal(flash_scan(&in, &a, &sc, &n, &e), ERR_INVALID);
    arena_release(&a);
}

/* ======================== targets ======================== */

static void test_targets(void **state)
{
    (void)state;
    struct flash_config cfg;
    flash_config_default(&cfg);
    struct flash_demand d[9] = {
        demand_at(1, north(LAT0, 500), LNG0, "coffee"),  /* 0 */
        demand_at(2, north(LAT0, 100), LNG0, ""),        /* 1: any category */
        demand_at(3, north(LAT0, 50), LNG0, "coffee"),   /* 2: no consent */
        demand_at(4, north(LAT0, 20), LNG0, "bakery"),   /* 3: other category */
        demand_at(5, north(LAT0, 1200), LNG0, "coffee"), /* 4: too far */
        demand_at(6, north(LAT0, 250), LNG0, "coffee"),  /* 5 */
        demand_at(1, north(LAT0, -700), LNG0, "coffee"), /* 6: buyer 1 again, farther */
        demand_at(7, north(LAT0, 30), LNG0, "coffee"),   /* 7: expired */
        demand_at(8, north(LAT0, 800), LNG0, "coffee"),  /* 8 */
    };
    d[2].consent = false;
    d[7].expires_at = NOW - 1;
    struct flash_seller s = seller_at(LAT0, LNG0, "coffee");
    s.max_discount = 25;
    struct flash_scan_input in = input(&cfg, &s, 1, d, 9);
    struct arena a;
    arena_init(&a);
    struct err e;
    err_init(&e);

    static const struct {
        size_t idx;
        int64_t buyer;
        double dist;
        int discount;
    } want[] = {{1, 2, 100, 15}, {5, 6, 250, 15}, {0, 1, 500, 20}, {8, 8, 800, 25}};
    for (int with_grid = 0; with_grid < 2; with_grid++) {
        struct flash_grid *g = with_grid ? flash_grid_new(d, 9, 200) : NULL;
        in.grid = g;
        for (size_t limit = 0; limit <= 5; limit++) {
            struct flash_target *t;
            size_t n;
            assert_int_equal(flash_targets(&in, 0, limit, &a, &t, &n, &e), 0);
            size_t expect = limit == 0 || limit > 4 ? 4 : limit;
            assert_int_equal(n, expect);
            for (size_t i = 0; i < n; i++) {
                assert_int_equal(t[i].demand_idx, want[i].idx);
                assert_int_equal(t[i].buyer_pk, want[i].buyer);
                assert_true(fabs(t[i].distance_m - want[i].dist) < 1e-6);
                assert_int_equal(t[i].discount, want[i].discount); /* 30 % capped at 25 */
            }
        }
        flash_grid_free(g);
        in.grid = NULL;
    }
    struct flash_target *t;
    size_t n;
    assert_int_equal(flash_targets(&in, 1, 0, &a, &t, &n, &e), ERR_INVALID);
    arena_release(&a);
}

/* Many candidates (past the stack buffer), duplicates per buyer: against a brute force. */
static void test_targets_many(void **state)
{
    (void)state;
    enum { NB = 1500 };
    struct flash_config cfg;
    flash_config_default(&cfg);
    struct flash_demand *d = calloc(2 * NB, sizeof(*d));
    size_t nd = 0;
    for (int64_t b = 0; b < NB; b++) {
        double lat = north(LAT0, (urand() * 2 - 1) * 900);
        d[nd++] = demand_at(b, lat, LNG0 + (urand() * 2 - 1) * 0.005, "coffee");
        if (b % 3 == 0)
            d[nd++] = demand_at(b, north(LAT0, (urand() * 2 - 1) * 900), LNG0, "");
    }
    struct flash_seller s = seller_at(LAT0, LNG0, "coffee");
    struct flash_scan_input in = input(&cfg, &s, 1, d, nd);
    struct flash_grid *g = flash_grid_new(d, nd, 500);
    struct arena a;
    arena_init(&a);
    struct err e;
    err_init(&e);
    double *best = malloc(NB * sizeof(double));
    for (int64_t b = 0; b < NB; b++)
        best[b] = INFINITY;
    for (size_t k = 0; k < nd; k++) {
        double dist = flash_haversine_m(LAT0, LNG0, d[k].loc.lat, d[k].loc.lng);
        /* within the radius and a walk that fits lead + window (5 + 10 min at 80/1.3 m/min) */
        double reach =
            (cfg.lead_minutes + cfg.window_minutes) * cfg.walk_m_per_min / cfg.walk_detour;
        if (dist <= cfg.radius_m && dist <= reach && dist < best[d[k].buyer_pk])
            best[d[k].buyer_pk] = dist;
    }
    size_t n_in = 0;
    for (int64_t b = 0; b < NB; b++)
        n_in += isfinite(best[b]);
    static const size_t limits[] = {0, 1, 7, 50, 400, 100000};
    for (int with_grid = 0; with_grid < 2; with_grid++) {
        in.grid = with_grid ? g : NULL;
        for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
            struct flash_target *t;
            size_t n;
            assert_int_equal(flash_targets(&in, 0, limits[l], &a, &t, &n, &e), 0);
            size_t expect = limits[l] && limits[l] < n_in ? limits[l] : n_in;
            assert_int_equal(n, expect);
            for (size_t i = 0; i < n; i++) {
                assert_true(fabs(t[i].distance_m - best[t[i].buyer_pk]) < 1e-6);
                assert_int_equal(d[t[i].demand_idx].buyer_pk, t[i].buyer_pk);
                if (i > 0)
                    assert_true(t[i - 1].distance_m <= t[i].distance_m);
                for (size_t j = 0; j < i; j++)
                    assert_true(t[j].buyer_pk != t[i].buyer_pk);
            }
        }
    }
    free(best);
    flash_grid_free(g);
    arena_release(&a);
    free(d);
}

/* ======================== arrival, products, minimums ======================== */

/* The case: 875 m is a 14-minute walk; it fits lead 5 + window 10, not 1 + 3. */
static void test_arrival(void **state)
{
    (void)state;
    struct flash_config cfg;
    flash_config_default(&cfg);
    assert_true(fabs(flash_walk_minutes(&cfg, 875) - 14.21875) < 1e-9);
    assert_true(fabs(flash_walk_minutes(&cfg, 0)) < 1e-12);
    static const struct {
        double d;
        int64_t lead_ms;
        int minutes;
        bool ok;
    } cases[] = {
        {875, 5 * MIN_MS, 10, true},  /* 14.2 <= 15 */
        {875, 57000, 3, false},       /* 14.2 > 3.95: the 57-second, 3-minute window */
        {923, 5 * MIN_MS, 10, true},  /* 14.9975 */
        {924, 5 * MIN_MS, 10, false}, /* 15.015 */
        {0, 0, 1, true},
        {160, 0, 1, false}, /* 2.6 min walk to a 1-minute window starting now */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (flash_can_arrive(&cfg, cases[i].d, cases[i].lead_ms, cases[i].minutes) != cases[i].ok)
            fail_msg("case %zu: %.0f m, lead %lld ms, %d min", i, cases[i].d,
                     (long long)cases[i].lead_ms, cases[i].minutes);
    }

    /* Targets: a buyer out of reach is dropped, with and without a grid. */
    struct flash_demand d[3] = {
        demand_at(1, north(LAT0, 200), LNG0, "coffee"),
        demand_at(2, north(LAT0, 875), LNG0, "coffee"),
        demand_at(3, north(LAT0, 950), LNG0, "coffee"), /* in the 1 km radius, 15.4 min away */
    };
    struct flash_seller s = seller_at(LAT0, LNG0, "coffee");
    struct flash_scan_input in = input(&cfg, &s, 1, d, 3);
    struct arena a;
    arena_init(&a);
    struct err e;
    err_init(&e);
    for (int with_grid = 0; with_grid < 2; with_grid++) {
        struct flash_grid *g = with_grid ? flash_grid_new(d, 3, 300) : NULL;
        in.grid = g;
        struct flash_target *t;
        size_t n;
        in.has_lead = false;
        assert_int_equal(flash_targets(&in, 0, 0, &a, &t, &n, &e), 0);
        assert_int_equal(n, 2);
        assert_int_equal(t[1].buyer_pk, 2);
        /* A caller's lead of 57 s and 3-minute window: only the buyer 200 m away (3.25 min). */
        in.has_lead = true;
        in.lead_ms = 57000;
        in.window_minutes = 3;
        assert_int_equal(flash_targets(&in, 0, 0, &a, &t, &n, &e), 0);
        assert_int_equal(n, 1);
        assert_int_equal(t[0].buyer_pk, 1);
        in.window_minutes = 0;
        flash_grid_free(g);
    }
    in.grid = NULL;
    in.has_lead = false;
    /* The draft leaves the farthest target time to walk: 14.2 min → starts in 15 min. */
    struct flash_score *sc;
    size_t ns;
    struct flash_target *t;
    size_t nt;
    assert_int_equal(flash_scan(&in, &a, &sc, &ns, &e), 0);
    assert_int_equal(flash_targets(&in, 0, 0, &a, &t, &nt, &e), 0);
    struct flash_draft dr;
    assert_int_equal(flash_draft_window(&in, sc, t, nt, "latte", NULL, 180, &a, &dr, &e), 0);
    assert_true(dr.start_ms == NOW + 15 * MIN_MS);
    assert_non_null(strstr(dr.trace_json, "15 min walk; window starts in 15 min"));
    assert_true(dr.min_participants >= 1);
    /* Asked to start now (the seed's lead_seconds 0): no time for pre-commits, no minimum. */
    in.has_lead = true;
    in.lead_ms = 0;
    assert_int_equal(flash_draft_window(&in, sc, t, 1, "latte", NULL, 180, &a, &dr, &e), 0);
    assert_int_equal(dr.min_participants, 0);
    assert_non_null(strstr(dr.trace_json, "too soon to gather pre-commits"));
    /* ...while two minutes are enough to ask for them */
    in.lead_ms = FLASH_PRECOMMIT_MIN_LEAD_MS;
    assert_int_equal(flash_draft_window(&in, sc, t, 1, "latte", NULL, 180, &a, &dr, &e), 0);
    assert_int_equal(dr.min_participants, 1);
    in.has_lead = false;
    /* A zeroed speed (a hand-built config) limits nothing. */
    cfg.walk_m_per_min = 0;
    assert_true(flash_can_arrive(&cfg, 1e6, 0, 1));
    arena_release(&a);
}

static void test_product_fits(void **state)
{
    (void)state;
    static const char *const own[] = {"dondurma_kup", NULL};
    static const struct {
        const char *product, *category;
        const char *const *own;
        bool fits;
    } cases[] = {
        {"latte", "coffee", NULL, true},
        {"latte", "dessert", NULL, false},
        {"künefe", "dessert", NULL, true},
        {"künefe", "coffee", NULL, false},
        {"simit", "bakery", NULL, true},
        {"simit", "barber", NULL, false},
        {"", "coffee", NULL, false},
        {"latte", "", NULL, false},
        {"dondurma_kup", "dessert", own, true}, /* the seller's own product */
        {"xyzzy", "coffee", NULL, false},       /* unknown, not the seller's */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (flash_product_fits(cases[i].product, cases[i].category, cases[i].own) != cases[i].fits)
            fail_msg("case %zu: %s at a %s seller", i, cases[i].product, cases[i].category);
    }
}

static void test_min_participants(void **state)
{
    (void)state;
    struct flash_config cfg;
    flash_config_default(&cfg);
    cfg.min_participants = 3;
    static const double r[] = {0.7, 0.7, 0.9, 0.95, 1.5, -1};
    double expected = 0;
    assert_int_equal(flash_min_participants(&cfg, r, 0, &expected), 1);
    assert_true(expected == 0);
    assert_int_equal(flash_min_participants(&cfg, r, 1, &expected), 1); /* 0.7 */
    assert_int_equal(flash_min_participants(&cfg, r, 2, &expected), 1); /* 1.4 */
    assert_int_equal(flash_min_participants(&cfg, r, 3, &expected), 2); /* 2.3 */
    assert_true(fabs(expected - 2.3) < 1e-9);
    assert_int_equal(flash_min_participants(&cfg, r, 6, &expected), 3); /* 4.25, capped at 3 */
    assert_true(fabs(expected - 4.25) < 1e-9); /* reliability clamped to 0..1 */
}

/* ======================== timing ======================== */

static void test_plan_start(void **state)
{
    (void)state;
    struct flash_config cfg;
    flash_config_default(&cfg);
    /* Hours of the week, Monday 00:00 local = 0: Monday 14:00 is 14, 15:00 is 15. */
    static const struct {
        const char *what;
        int64_t now;
        int tz;
        float busy14, busy15;
        int samples14, samples15;
        int64_t want_shift_min; /* from now */
    } cases[] = {
        {"quiet hour: now + lead", MONDAY_11, 180, 0.2f, 0, 5, 0, 5},
        {"busy 14:05, quiet 15:00 hour: first quiet step is 15:05", MONDAY_11, 180, 0.8f, 0, 4, 0,
         65},
        {"busy 14:55: next step 15:05 is quiet", MONDAY_11 + 50 * MIN_MS, 180, 0.8f, 0.1f, 4, 3,
         15},
        {"busy, next hour busy too: default kept", MONDAY_11, 180, 0.9f, 0.7f, 4, 4, 5},
        {"busy, next hour between .5 and .6: not quiet", MONDAY_11, 180, 0.9f, 0.55f, 4, 4, 5},
        {"exactly 0.6 over 2 samples is busy", MONDAY_11, 180, 0.6f, 0, 2, 0, 65},
        {"one sample is not enough to call it busy", MONDAY_11, 180, 1.0f, 0, 1, 0, 5},
        {"UTC city: 11:05 is not the busy hour", MONDAY_11, 0, 0.9f, 0.9f, 9, 9, 5},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct flash_busy_profile p;
        memset(&p, 0, sizeof(p));
        p.busy[14] = cases[i].busy14;
        p.samples[14] = cases[i].samples14;
        p.busy[15] = cases[i].busy15;
        p.samples[15] = cases[i].samples15;
        char why[200] = "";
        int64_t got = flash_plan_start(&cfg, &p, cases[i].now, cases[i].tz, why, sizeof(why));
        if (got != cases[i].now + cases[i].want_shift_min * MIN_MS)
            fail_msg("%s: start now + %lld min, want + %lld (%s)", cases[i].what,
                     (long long)((got - cases[i].now) / MIN_MS), (long long)cases[i].want_shift_min,
                     why);
        assert_true(strlen(why) > 0);
    }
    /* No profile, NULL why, another lead. */
    cfg.lead_minutes = 7;
    assert_true(flash_plan_start(&cfg, NULL, NOW, 180, NULL, 0) == NOW + 7 * MIN_MS);
    /* Sunday 23:xx wraps to Monday 00:00 (hour 0). */
    struct flash_busy_profile p;
    memset(&p, 0, sizeof(p));
    p.busy[167] = 1;
    p.samples[167] = 5;
    int64_t sunday_2350_local = MONDAY_11 - (14 * 60 + 10) * MIN_MS; /* Sun 23:50 local */
    cfg.lead_minutes = 5;
    char why[200];
    int64_t got = flash_plan_start(&cfg, &p, sunday_2350_local, 180, why, sizeof(why));
    assert_true(got == sunday_2350_local + 15 * MIN_MS); /* 23:55 busy -> Mon 00:05 */
    assert_non_null(strstr(why, "busy"));
}

static void test_seller_open(void **state)
{
    (void)state;
    struct flash_seller s = seller_at(LAT0, LNG0, "coffee");
    /* Local times on Monday 2026-11-23 (Istanbul, +03:00): MONDAY_11 is 14:00 local. */
#define AT(hh, mm) (MONDAY_11 + ((hh - 14) * 60 + (mm)) * MIN_MS)
    static const struct {
        const char *hours;
        int64_t start;
        int minutes;
        bool open;
    } cases[] = {
        {"", AT(3, 0), 10, true},
        {"08:00-20:00", AT(10, 0), 10, true},
        {"08:00-20:00", AT(8, 0), 10, true},
        {"08:00-20:00", AT(19, 50), 10, true},  /* ends exactly at closing */
        {"08:00-20:00", AT(19, 55), 10, false}, /* crosses closing time */
        {"08:00-20:00", AT(7, 55), 10, false},  /* starts before opening */
        {"08:00-20:00", AT(21, 0), 10, false},
        {"22:00-02:00", AT(23, 55), 10, true}, /* spans midnight */
        {"22:00-02:00", AT(1, 0), 10, true},   /* early morning part (Sunday's evening) */
        {"22:00-02:00", AT(1, 55), 10, false},
        {"22:00-02:00", AT(12, 0), 10, false},
        {"00:00-24:00", AT(23, 55), 10, true},
        {"09:00-09:00", AT(4, 0), 10, true}, /* equal times: all day */
        {"{\"mon\":[\"08:00\",\"20:00\"]}", AT(10, 0), 10, true},
        {"{\"mon\":[\"08:00\",\"20:00\"]}", AT(10, 0) + 1440 * MIN_MS, 10, false}, /* Tuesday */
        {"{\"mon\":\"08:00-20:00\",\"tue\":null}", AT(19, 0), 10, true},
        {"{\"sun\":[\"20:00\",\"01:00\"]}", AT(0, 30), 10, true}, /* Sunday night into Monday */
        {"{\"mon\":[\"00:00\",\"24:00\"],\"tue\":[\"00:00\",\"06:00\"]}", AT(23, 55), 10, true},
        {"{\"xyz\":[\"08:00\",\"20:00\"]}", AT(10, 0), 10, false}, /* unreadable: closed */
        {"8-20", AT(10, 0), 10, false},
        {"08:00-25:00", AT(10, 0), 10, false},
        {"{not json", AT(10, 0), 10, false},
    };
#undef AT
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s.opening_hours = cases[i].hours;
        bool got =
            flash_seller_open(&s, cases[i].start, cases[i].start + cases[i].minutes * MIN_MS, 180);
        if (got != cases[i].open)
            fail_msg("case %zu \"%s\": open %d, want %d", i, cases[i].hours, got, cases[i].open);
    }
    /* The tz offset moves the local clock: 10:00 local at +03:00 is 07:00 UTC. */
    s.opening_hours = "08:00-20:00";
    assert_true(flash_seller_open(&s, MONDAY_11 - 4 * 60 * MIN_MS, MONDAY_11, 180));
    assert_false(flash_seller_open(&s, MONDAY_11 - 4 * 60 * MIN_MS - 10 * MIN_MS,
                                   MONDAY_11 - 4 * 60 * MIN_MS, 0));
}

/* ======================== configuration and names ======================== */

static void test_config_validate(void **state)
{
    (void)state;
    struct flash_config c;
    flash_config_default(&c);
    struct err e;
    err_init(&e);
    assert_int_equal(flash_config_validate(&c, &e), 0);
    assert_true(c.weights[FLASH_C_DEMAND] == 0.35 && c.weights[FLASH_C_DENSITY] == 0.2);
    assert_true(c.threshold == 0.5 && c.radius_m == 1000 && c.n_tiers == 3);
    assert_true(c.tiers[0].max_m == 300 && c.tiers[0].discount == 15);
    assert_true(c.tiers[2].max_m == 900 && c.tiers[2].discount == 30);
    assert_int_equal(c.window_minutes, 10);
    assert_int_equal(c.lead_minutes, 5);
    assert_int_equal(c.min_participants, 2);
    assert_int_equal(c.scan_interval_s, 60);
    assert_int_equal(c.demand_target, 5);
    assert_int_equal(c.max_offers_per_buyer_per_day, 3);
    assert_int_equal(c.tz_offset_min, 180);

    static const struct {
        int which;
        const char *field;
    } cases[] = {
        {0, "weights.demand"},
        {1, "weights.distance"},
        {2, "weights"},
        {3, "threshold"},
        {4, "threshold"},
        {5, "radius_m"},
        {6, "tiers"},
        {7, "tiers[1].max_m"},
        {8, "tiers[2].discount"},
        {9, "tiers[0].max_m"},
        {10, "window_minutes"},
        {11, "min_participants"},
        {12, "demand_target"},
        {13, "tz_offset_min"},
        {14, "scan_interval_s"},
        {15, "lead_minutes"},
        {16, "max_offers_per_buyer_per_day"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        flash_config_default(&c);
        switch (cases[i].which) {
        case 0:
            c.weights[FLASH_C_DEMAND] = -0.1;
            break;
        case 1:
            c.weights[FLASH_C_DISTANCE] = 11;
            break;
        case 2:
            memset(c.weights, 0, sizeof(c.weights));
            break;
        case 3:
            c.threshold = 1.5;
            break;
        case 4:
            c.threshold = NAN;
            break;
        case 5:
            c.radius_m = 0;
            break;
        case 6:
            c.n_tiers = FLASH_MAX_TIERS + 1;
            break;
        case 7:
            c.tiers[1].max_m = 200;
            break; /* not ascending */
        case 8:
            c.tiers[2].discount = 95;
            break;
        case 9:
            c.tiers[0].max_m = -3;
            break;
        case 10:
            c.window_minutes = 0;
            break;
        case 11:
            c.min_participants = 0;
            break;
        case 12:
            c.demand_target = 0;
            break;
        case 13:
            c.tz_offset_min = 900;
            break;
        case 14:
            c.scan_interval_s = -1;
            break;
        case 15:
            c.lead_minutes = -1;
            break;
        case 16:
            c.max_offers_per_buyer_per_day = 101;
            break;
        }
        err_init(&e);
        assert_int_equal(flash_config_validate(&c, &e), ERR_INVALID);
        if (strcmp(e.field, cases[i].field) != 0)
            fail_msg("case %d: field \"%s\" (%s), want \"%s\"", cases[i].which, e.field, e.msg,
                     cases[i].field);
        assert_non_null(strstr(e.msg, cases[i].field));
    }
    /* No tiers at all: every buyer would get 0 %; a window needs one tier at least. */
    flash_config_default(&c);
    c.n_tiers = 0;
    err_init(&e);
    assert_int_equal(flash_config_validate(&c, &e), ERR_INVALID);
    assert_string_equal(e.field, "tiers");
    /* Edges that are fine: one tier, threshold 0 and 1, scans off. */
    flash_config_default(&c);
    c.n_tiers = 1;
    c.threshold = 1;
    c.scan_interval_s = 0;
    err_init(&e);
    assert_int_equal(flash_config_validate(&c, &e), 0);
}

static void test_names_and_predicates(void **state)
{
    (void)state;
    int v = -1;
    assert_int_equal(flash_enum_parse(flash_status_names, "SCHEDULED", &v), 0);
    assert_int_equal(v, FLASH_WINDOW_SCHEDULED);
    assert_int_equal(flash_enum_parse(flash_status_names, "CANCELLED", &v), 0);
    assert_int_equal(v, FLASH_WINDOW_CANCELLED);
    assert_int_equal(flash_enum_parse(flash_density_names, "high", &v), 0);
    assert_int_equal(v, FLASH_DENSITY_HIGH);
    assert_int_equal(flash_enum_parse(flash_supply_names, "promotion", &v), 0);
    assert_int_equal(v, FLASH_SUPPLY_PROMOTION);
    assert_int_equal(flash_enum_parse(flash_price_names, "premium", &v), 0);
    assert_int_equal(v, FLASH_PRICE_PREMIUM);
    assert_int_equal(flash_enum_parse(flash_component_names, "distance", &v), 0);
    assert_int_equal(v, FLASH_C_DISTANCE);
    v = -1;
    assert_int_equal(flash_enum_parse(flash_density_names, "HIGH", &v), ERR_INVALID);
    assert_int_equal(flash_enum_parse(flash_density_names, "", &v), ERR_INVALID);
    assert_int_equal(flash_enum_parse(flash_density_names, NULL, &v), ERR_INVALID);
    assert_int_equal(v, -1);

    static const struct {
        const char *s;
        bool id, phone;
    } cases[] = {
        {"B123", true, false},
        {"s_9f2c-AB", true, false},
        {"", false, false},
        {"a b", false, false},
        {"ş", false, false},
        {"+905321234567", false, true},
        {"905321234567", true, true},
        {"+1234567", false, false},           /* 7 digits */
        {"12345678", true, true},             /* 8 digits */
        {"+12345678901234567", false, false}, /* 17 digits */
        {"+90 532 123", false, false},
        {"++905321234567", false, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (flash_id_valid(cases[i].s) != cases[i].id ||
            flash_phone_valid(cases[i].s) != cases[i].phone)
            fail_msg("\"%s\": id %d phone %d", cases[i].s, flash_id_valid(cases[i].s),
                     flash_phone_valid(cases[i].s));
    }
    char id64[65], id65[66];
    memset(id64, 'a', 64);
    id64[64] = '\0';
    memset(id65, 'a', 65);
    id65[65] = '\0';
    assert_true(flash_id_valid(id64));
    assert_false(flash_id_valid(id65));
    assert_false(flash_id_valid(NULL));
    assert_false(flash_phone_valid(NULL));

    static const char *const extra[] = {"florist", NULL};
    assert_true(flash_category_known("coffee", NULL));
    assert_true(flash_category_known("florist", extra));
    assert_false(flash_category_known("florist", NULL));
    assert_false(flash_category_known("Coffee", extra));
    assert_false(flash_category_known(NULL, extra));

    struct flash_buyer b = {0};
    assert_true(fabs(flash_buyer_reliability(&b) - 0.7) < 1e-12); /* prior only */
    b.commits = 10;
    b.shows = 10;
    assert_true(fabs(flash_buyer_reliability(&b) - 12.1 / 13) < 1e-12);
    b.shows = 0;
    assert_true(fabs(flash_buyer_reliability(&b) - 2.1 / 13) < 1e-12);
    b.shows = 50; /* more shows than commits counts as all shown */
    assert_true(fabs(flash_buyer_reliability(&b) - 12.1 / 13) < 1e-12);
}

/* ======================== draft ======================== */

static void test_draft(void **state)
{
    (void)state;
    struct flash_config cfg;
    flash_config_default(&cfg);
    struct flash_demand d[8];
    size_t nd = hand_city(d);
    struct flash_seller s = seller_at(LAT0, LNG0, "coffee");
    s.max_discount = 18;
    s.auto_approve = true;
    s.opening_hours = "08:00-20:00";
    struct flash_scan_input in = input(&cfg, &s, 1, d, nd);
    in.now_ms = MONDAY_11;
    /* hand_city's demand expires an hour after NOW; keep it alive for this clock. */
    for (size_t i = 0; i < nd; i++)
        d[i].expires_at = d[i].expires_at == NOW ? MONDAY_11 : MONDAY_11 + 3600 * 1000;
    struct arena a;
    arena_init(&a);
    struct err e;
    err_init(&e);
    struct flash_score *sc;
    size_t n;
    struct flash_target *t;
    size_t nt;
    assert_int_equal(flash_scan(&in, &a, &sc, &n, &e), 0);
    assert_int_equal(flash_targets(&in, 0, 0, &a, &t, &nt, &e), 0);
    assert_int_equal(nt, 2); /* buyer 1 at 100 m (15 %), buyer 2 at 400 m (20 % -> 18) */
    assert_int_equal(t[1].discount, 18);

    struct flash_draft dr;
    assert_int_equal(flash_draft_window(&in, sc, t, nt, "latte", NULL, 180, &a, &dr, &e), 0);
    assert_int_equal(dr.status, FLASH_WINDOW_SCHEDULED);
    assert_int_equal(dr.discount_percent, 18); /* largest target discount, capped */
    /* buyer 2 walks 400 m · 1.3 / 80 = 6.5 min: the start moves from now + 5 to now + 7 */
    assert_true(dr.start_ms == MONDAY_11 + 7 * MIN_MS);
    assert_true(dr.end_ms == dr.start_ms + 10 * MIN_MS);
    assert_int_equal(dr.capacity, 8);
    /* expected arrivals 0.7 + 0.7 = 1.4: the minimum is 1, not the config's 2 */
    assert_int_equal(dr.min_participants, 1);
    assert_true(fabs(dr.expected - 1.4) < 1e-9);
    assert_string_equal(dr.title, "M Coffee: latte %18 indirim");
    assert_non_null(strstr(dr.description, "14:07-14:17"));
    assert_non_null(strstr(dr.description, "%18"));

    json_error_t jerr;
    json_t *root = json_loads(dr.trace_json, 0, &jerr);
    if (!root)
        fail_msg("trace does not parse: %s: %s", jerr.text, dr.trace_json);
    json_t *score = json_object_get(root, "score");
    assert_non_null(score);
    /* hand_city without its pre-commit: 0.5275 - .15 * .5 = 0.4525 (drafted all the same). */
    assert_true(fabs(json_real_value(json_object_get(score, "total")) - 0.4525) < 1e-4);
    assert_true(json_real_value(json_object_get(score, "threshold")) == 0.5);
    json_t *comp = json_object_get(score, "components");
    for (int k = 0; k < FLASH_N_COMPONENTS; k++) {
        assert_non_null(json_object_get(comp, flash_component_names[k]));
        assert_non_null(
            json_object_get(json_object_get(score, "weights"), flash_component_names[k]));
    }
    assert_true(fabs(json_real_value(json_object_get(comp, "distance")) - 0.75) < 1e-4);
    json_t *counts = json_object_get(root, "counts");
    assert_int_equal(json_integer_value(json_object_get(counts, "nearby")), 3);
    assert_int_equal(json_integer_value(json_object_get(counts, "matching")), 2);
    json_t *targets = json_object_get(root, "targets");
    assert_int_equal(json_array_size(targets), 2);
    json_t *t0 = json_array_get(targets, 0);
    assert_string_equal(json_string_value(json_object_get(t0, "buyer_id")), "b1");
    assert_true(fabs(json_real_value(json_object_get(t0, "distance_m")) - 100) < 0.1);
    assert_int_equal(json_integer_value(json_object_get(t0, "discount")), 15);
    assert_non_null(json_string_value(json_object_get(t0, "why")));
    assert_non_null(
        strstr(json_string_value(json_object_get(json_array_get(targets, 1), "why")), "capped"));
    assert_non_null(json_string_value(json_object_get(json_object_get(root, "discount"), "why")));
    json_t *timing = json_object_get(root, "timing");
    assert_string_equal(json_string_value(json_object_get(timing, "start")),
                        "2026-11-23T11:07:00.000Z");
    assert_string_equal(json_string_value(json_object_get(timing, "end")),
                        "2026-11-23T11:17:00.000Z");
    assert_non_null(strstr(json_string_value(json_object_get(timing, "why")), "walk"));
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(targets, 1), "why")),
                           "7 min walk; window starts in 7 min"));
    assert_true(fabs(json_real_value(json_object_get(json_array_get(targets, 1), "walk_min")) -
                     6.5) < 1e-9);
    json_t *minimum = json_object_get(root, "minimum");
    assert_int_equal(json_integer_value(json_object_get(minimum, "min")), 1);
    assert_true(fabs(json_real_value(json_object_get(minimum, "expected")) - 1.4) < 1e-9);
    assert_true(json_is_true(json_object_get(timing, "open")));
    assert_string_equal(json_string_value(json_object_get(root, "approval")), "standing");
    json_decref(root);

    /* Ask-first seller, no product, a busy hour that moves the start, closed by then. */
    s.auto_approve = false;
    s.opening_hours = "08:00-15:00";
    struct flash_busy_profile busy;
    memset(&busy, 0, sizeof(busy));
    busy.busy[14] = 0.9f;
    busy.samples[14] = 3;
    assert_int_equal(flash_draft_window(&in, sc, t, nt, NULL, &busy, 180, &a, &dr, &e), 0);
    assert_int_equal(dr.status, FLASH_WINDOW_PROPOSED);
    assert_true(dr.start_ms == MONDAY_11 + 65 * MIN_MS);
    assert_string_equal(dr.title, "M Coffee: %18 indirim");
    root = json_loads(dr.trace_json, 0, &jerr);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "approval")), "ask-first");
    assert_true(json_is_false(json_object_get(json_object_get(root, "timing"), "open")));
    assert_non_null(
        strstr(json_string_value(json_object_get(json_object_get(root, "timing"), "why")), "busy"));
    json_decref(root);

    /* No targets: no discount; a seller max below every tier caps the discount. */
    assert_int_equal(flash_draft_window(&in, sc, NULL, 0, "", NULL, 180, &a, &dr, &e), 0);
    assert_int_equal(dr.discount_percent, 0);
    assert_non_null(strstr(dr.title, "fırsat"));
    s.max_discount = 5;
    assert_int_equal(flash_targets(&in, 0, 0, &a, &t, &nt, &e), 0);
    assert_int_equal(flash_draft_window(&in, sc, t, nt, "latte", NULL, 180, &a, &dr, &e), 0);
    assert_int_equal(dr.discount_percent, 5);

    /* A long name is cut on a character boundary. */
    char name[400];
    size_t off = 0;
    while (off + 2 < sizeof(name)) {
        memcpy(name + off, "ş", 2);
        off += 2;
    }
    name[off] = '\0';
    s.name = name;
    assert_int_equal(flash_draft_window(&in, sc, t, nt, "latte", NULL, 180, &a, &dr, &e), 0);
    assert_true(strlen(dr.title) < sizeof(dr.title));
    assert_true(strlen(dr.title) % 2 == 0); /* whole "ş"s only */

    err_init(&e);
    assert_int_equal(flash_draft_window(&in, NULL, t, nt, "", NULL, 180, &a, &dr, &e), ERR_INVALID);
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_haversine),
        cmocka_unit_test(test_grid_matches_brute_force),
        cmocka_unit_test(test_grid_edge_cases),
        cmocka_unit_test(test_tier_discount),
        cmocka_unit_test(test_score_components),
        cmocka_unit_test(test_matching_zero_never_eligible),
        cmocka_unit_test(test_ranking_and_ties),
        cmocka_unit_test(test_scan_matches_brute_force),
        cmocka_unit_test(test_scan_rejects_bad_config),
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_targets_many),
        cmocka_unit_test(test_arrival),
        cmocka_unit_test(test_product_fits),
        cmocka_unit_test(test_min_participants),
        cmocka_unit_test(test_plan_start),
        cmocka_unit_test(test_seller_open),
        cmocka_unit_test(test_config_validate),
        cmocka_unit_test(test_names_and_predicates),
        cmocka_unit_test(test_draft),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
