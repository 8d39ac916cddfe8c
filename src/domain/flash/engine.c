/* SPDX-License-Identifier: MIT */
/*
 * The flash engine (engine.h): haversine and the demand grid, tiers, the scan's five-component
 * score, targets, start-time choice, opening hours and the window draft with its trace.
 * Pure: no I/O, no clock reads, no state outside the caller's arguments.
 * Tests: tests/unit/domain/test_flash_engine.c; speed: bench/bench_flash.c.
 */
#include "domain/flash/engine.h"
#include "core/clock.h"
#include "core/xalloc.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EARTH_R_M 6371008.8
#define PI        3.14159265358979323846
#define RAD       (PI / 180.0)
#define M_PER_DEG (EARTH_R_M * RAD) /* metres per degree of latitude, 111195.08 */
#define MINUTE_MS INT64_C(60000)
#define DAY_MS    (1440 * MINUTE_MS)

/* ======================== distance ======================== */

double flash_haversine_m(double lat1, double lng1, double lat2, double lng2)
{
    double p1 = lat1 * RAD, p2 = lat2 * RAD;
    double sdp = sin((p2 - p1) / 2), sdl = sin((lng2 - lng1) * RAD / 2);
    double a = sdp * sdp + cos(p1) * cos(p2) * sdl * sdl;
    if (a > 1)
        a = 1;
    return 2 * EARTH_R_M * asin(sqrt(a));
}

/*
 * Points are kept as unit vectors: the squared chord c² between two of them is the haversine
 * term times four (a = c²/4), so rejecting a candidate costs no trigonometry and a hit costs a
 * square root. Every radius test in this file is the same `c² <= limit`, so the scan, the grid
 * query and the targets agree on who is inside; distances match flash_haversine_m to ~1e-9 m.
 */
struct vec3 {
    double x, y, z;
};

static struct vec3 unit_vec(double lat, double lng)
{
    double p = lat * RAD, l = lng * RAD, cp = cos(p);
    return (struct vec3){cp * cos(l), cp * sin(l), sin(p)};
}

static double chord2(const struct vec3 *a, const struct vec3 *b)
{
    double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
    return dx * dx + dy * dy + dz * dz;
}

/*
 * Arc length of a chord: 2R·asin(c/2). Below h = 0.004 (25 km) the series x + x³/6 + 3x⁵/40 is
 * exact to double precision (next term ≈ 2e-16 relative) and much cheaper than asin.
 */
static inline double chord2_to_m(double c2)
{
    double h = sqrt(c2) / 2;
    if (h < 0.004) {
        double h2 = h * h;
        return 2 * EARTH_R_M * h * (1 + h2 * (1.0 / 6 + h2 * (3.0 / 40)));
    }
    return 2 * EARTH_R_M * asin(h < 1 ? h : 1);
}

static bool coords_valid(double lat, double lng)
{
    return isfinite(lat) && isfinite(lng) && lat >= -90 && lat <= 90 && lng >= -180 && lng <= 180;
}

/* A radius query: the centre and the chord² limit of the radius. */
struct probe {
    struct vec3 q;
    double c2_max;
    double radius_m;
};

static void probe_init(struct probe *pr, double lat, double lng, double radius_m)
{
    double delta = radius_m / EARTH_R_M;
    double s = delta >= PI ? 1 : sin(delta / 2);
    pr->q = unit_vec(lat, lng);
    pr->c2_max = 4 * s * s;
    pr->radius_m = radius_m;
}

/* The distance of a point known to be inside, never reported beyond the radius by rounding. */
static double probe_dist(const struct probe *pr, double c2)
{
    double d = chord2_to_m(c2);
    return d < pr->radius_m ? d : pr->radius_m;
}

/* ======================== grid ======================== */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

static uint64_t str_hash(const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h;
}

static bool is_blank(const char *s)
{
    return !s || !*s;
}

/* Demand without an expiry (0) never expires. */
static bool expired(int64_t expires_at, int64_t now_ms)
{
    return expires_at != 0 && expires_at <= now_ms;
}

/* String → small id (1..), open addressing; the strings are borrowed. */
struct strtab {
    const char **keys;
    uint32_t *ids;
    size_t mask, n;
};

static void strtab_init(struct strtab *t)
{
    t->mask = 63;
    t->n = 0;
    t->keys = xcalloc(t->mask + 1, sizeof(*t->keys));
    t->ids = xcalloc(t->mask + 1, sizeof(*t->ids));
}

static void strtab_release(struct strtab *t)
{
    free(t->keys);
    free(t->ids);
}

/* Id of s (1..), 0 when absent; *slot gets where it is or would go. */
static uint32_t strtab_find(const struct strtab *t, const char *s, size_t *slot)
{
    size_t i = str_hash(s) & t->mask;
    for (; t->keys[i]; i = (i + 1) & t->mask) {
        if (t->keys[i] == s || strcmp(t->keys[i], s) == 0)
            break;
    }
    if (slot)
        *slot = i;
    return t->keys[i] ? t->ids[i] : 0;
}

/* Id of s (1..), added when new. */
static uint32_t strtab_add(struct strtab *t, const char *s)
{
    size_t i;
    uint32_t id = strtab_find(t, s, &i);
    if (id)
        return id;
    t->keys[i] = s;
    t->ids[i] = (uint32_t)++t->n;
    if (2 * t->n > t->mask + 1) {
        size_t old_mask = t->mask;
        const char **keys = t->keys;
        uint32_t *ids = t->ids;
        t->mask = 2 * (old_mask + 1) - 1;
        t->keys = xcalloc(t->mask + 1, sizeof(*t->keys));
        t->ids = xcalloc(t->mask + 1, sizeof(*t->ids));
        for (size_t k = 0; k <= old_mask; k++) {
            if (!keys[k])
                continue;
            size_t j = str_hash(keys[k]) & t->mask;
            while (t->keys[j])
                j = (j + 1) & t->mask;
            t->keys[j] = keys[k];
            t->ids[j] = ids[k];
        }
        free(keys);
        free(ids);
    }
    return (uint32_t)t->n;
}

struct gpoint {
    struct vec3 v;
    uint32_t idx; /* into the demand array */
    uint32_t cat; /* interned category (grid->cats), 0 for "" (any); | NO_CONSENT */
};

/* Category ids: 0 = any; CAT_NONE, a seller category no demand names, is never issued. */
#define NO_CONSENT  0x80000000u
#define CAT_ANY     0u
#define CAT_NONE    0x7fffffffu
#define CAT_EXPIRED UINT32_MAX /* in the scan's per-point table */

/* A cell being filled while the grid is built. */
struct gcell {
    int64_t key; /* row * n_lng + col */
    uint32_t start;
    uint32_t count;
};

/*
 * Cells are kept sorted by key = row * n_lng + col, and their points are stored in that order,
 * so the cells of one row between two columns hold one contiguous run of points: a query reads
 * one run per row (two where it wraps the antimeridian), found by binary search.
 */
struct flash_grid {
    const struct flash_demand *demand;
    size_t n_demand;
    double dlat, dlng; /* cell size in degrees */
    int64_t n_lat, n_lng;
    struct gpoint *pts; /* grouped by cell, cells in key order */
    size_t n_pts;
    int64_t *keys;   /* of the non-empty cells, ascending */
    uint32_t *start; /* first point of each cell; start[n_cells] = n_pts */
    size_t n_cells;
    uint32_t *row_first; /* first cell of rows row_min.., or NULL when rows are too sparse */
    int64_t row_min, row_max;
    /* Per point, in point order: read only for hits, so kept out of struct gpoint. */
    int64_t *buyer_pk;
    int64_t *expires_at;
    struct strtab cats; /* the demand's categories */
};

static int64_t row_of(const struct flash_grid *g, double lat)
{
    int64_t r = (int64_t)floor((lat + 90) / g->dlat);
    return r < 0 ? 0 : r >= g->n_lat ? g->n_lat - 1 : r;
}

static int64_t col_of(const struct flash_grid *g, double lng)
{
    int64_t c = (int64_t)floor((lng + 180) / g->dlng) % g->n_lng;
    return c < 0 ? c + g->n_lng : c;
}

/* Build-time map key → cell, open addressing over a growable cell array. */
struct cellmap {
    struct gcell *cells;
    size_t n, cap;
    uint32_t *slots; /* cell index + 1, 0 = empty */
    size_t mask;
};

static void cellmap_rehash(struct cellmap *m)
{
    memset(m->slots, 0, (m->mask + 1) * sizeof(*m->slots));
    for (uint32_t c = 0; c < m->n; c++) {
        size_t i = mix64((uint64_t)m->cells[c].key) & m->mask;
        while (m->slots[i])
            i = (i + 1) & m->mask;
        m->slots[i] = c + 1;
    }
}

/* Index of the cell for `key`, created when `add` and new; UINT32_MAX when absent. */
static uint32_t cellmap_get(struct cellmap *m, int64_t key, bool add)
{
    size_t i = mix64((uint64_t)key) & m->mask;
    for (; m->slots[i]; i = (i + 1) & m->mask) {
        if (m->cells[m->slots[i] - 1].key == key)
            return m->slots[i] - 1;
    }
    if (!add)
        return UINT32_MAX;
    if (m->n == m->cap) {
        m->cap *= 2;
        m->cells = xrealloc(m->cells, m->cap * sizeof(*m->cells));
    }
    uint32_t c = (uint32_t)m->n++;
    m->cells[c] = (struct gcell){key, 0, 0};
    if (2 * m->n > m->mask + 1) {
        free(m->slots);
        m->mask = 2 * (m->mask + 1) - 1;
        m->slots = xmalloc((m->mask + 1) * sizeof(*m->slots));
        cellmap_rehash(m);
    } else {
        m->slots[i] = c + 1;
    }
    return c;
}

static int cell_cmp(const void *pa, const void *pb)
{
    const struct gcell *a = pa, *b = pb;
    return (a->key > b->key) - (a->key < b->key);
}

/* Row index over the data's rows, unless they are spread far wider than there are cells. */
static void grid_index_rows(struct flash_grid *g)
{
    if (g->n_cells == 0)
        return;
    g->row_min = g->keys[0] / g->n_lng;
    g->row_max = g->keys[g->n_cells - 1] / g->n_lng;
    int64_t span = g->row_max - g->row_min + 1;
    if (span > 2 * (int64_t)g->n_cells + 1024)
        return;
    g->row_first = xmalloc((size_t)(span + 1) * sizeof(*g->row_first));
    size_t c = 0;
    for (int64_t r = 0; r <= span; r++) {
        while (c < g->n_cells && g->keys[c] / g->n_lng < g->row_min + r)
            c++;
        g->row_first[r] = (uint32_t)c;
    }
}

struct flash_grid *flash_grid_new(const struct flash_demand *demand, size_t n, double cell_m)
{
    struct flash_grid *g = xcalloc(1, sizeof(*g));
    g->demand = demand;
    g->n_demand = n;
    if (!isfinite(cell_m) || cell_m < 1)
        cell_m = 1000;

    /*
     * Rows are cell_m tall. Columns are cell_m / 2 wide at the highest latitude in the data
     * (capped at 89°): a query reads whole row runs, so narrow columns only trim their ends.
     */
    double lat_ref = 0;
    for (size_t i = 0; i < n; i++) {
        if (coords_valid(demand[i].loc.lat, demand[i].loc.lng) && fabs(demand[i].loc.lat) > lat_ref)
            lat_ref = fabs(demand[i].loc.lat);
    }
    if (lat_ref > 89)
        lat_ref = 89;
    g->dlat = cell_m / M_PER_DEG;
    if (g->dlat > 180)
        g->dlat = 180;
    g->n_lat = (int64_t)ceil(180 / g->dlat);
    double dlng = g->dlat / 2 / cos(lat_ref * RAD);
    g->n_lng = dlng >= 360 ? 1 : (int64_t)floor(360 / dlng);
    g->dlng = 360.0 / (double)g->n_lng;

    /* Counting sort by cell: count, order the cells by key, prefix sums, scatter. */
    struct cellmap m = {.cap = 64, .mask = 127};
    m.cells = xmalloc(m.cap * sizeof(*m.cells));
    m.slots = xcalloc(m.mask + 1, sizeof(*m.slots));
    int64_t *key_of = xmalloc((n ? n : 1) * sizeof(*key_of));
    for (size_t i = 0; i < n; i++) {
        double lat = demand[i].loc.lat, lng = demand[i].loc.lng;
        if (!coords_valid(lat, lng)) {
            key_of[i] = -1; /* left out: never within any radius */
            continue;
        }
        key_of[i] = row_of(g, lat) * g->n_lng + col_of(g, lng);
        uint32_t c = cellmap_get(&m, key_of[i], true); /* may move m.cells */
        m.cells[c].count++;
        g->n_pts++;
    }
    qsort(m.cells, m.n, sizeof(*m.cells), cell_cmp);
    cellmap_rehash(&m);
    g->n_cells = m.n;
    g->keys = xmalloc((m.n ? m.n : 1) * sizeof(*g->keys));
    g->start = xmalloc((m.n + 1) * sizeof(*g->start));
    uint32_t off = 0;
    for (size_t c = 0; c < m.n; c++) {
        g->keys[c] = m.cells[c].key;
        g->start[c] = m.cells[c].start = off;
        off += m.cells[c].count;
        m.cells[c].count = 0;
    }
    g->start[m.n] = off;
    size_t np = g->n_pts ? g->n_pts : 1;
    g->pts = xmalloc(np * sizeof(*g->pts));
    g->buyer_pk = xmalloc(np * sizeof(*g->buyer_pk));
    g->expires_at = xmalloc(np * sizeof(*g->expires_at));
    strtab_init(&g->cats);
    for (size_t i = 0; i < n; i++) {
        if (key_of[i] < 0)
            continue;
        struct gcell *c = &m.cells[cellmap_get(&m, key_of[i], false)];
        uint32_t pos = c->start + c->count++;
        const struct flash_demand *d = &demand[i];
        uint32_t cat = is_blank(d->category) ? 0 : strtab_add(&g->cats, d->category);
        g->pts[pos] = (struct gpoint){unit_vec(d->loc.lat, d->loc.lng), (uint32_t)i,
                                      cat | (d->consent ? 0 : NO_CONSENT)};
        g->buyer_pk[pos] = d->buyer_pk;
        g->expires_at[pos] = d->expires_at;
    }
    free(key_of);
    free(m.cells);
    free(m.slots);
    grid_index_rows(g);
    return g;
}

void flash_grid_free(struct flash_grid *g)
{
    if (!g)
        return;
    free(g->pts);
    free(g->keys);
    free(g->start);
    free(g->row_first);
    free(g->buyer_pk);
    free(g->expires_at);
    strtab_release(&g->cats);
    free(g);
}

size_t flash_grid_bytes(const struct flash_grid *g)
{
    if (!g)
        return 0;
    size_t np = g->n_pts ? g->n_pts : 1, rows = 0;
    if (g->row_first)
        rows = (size_t)(g->row_max - g->row_min + 2);
    return sizeof(*g) + np * (sizeof(*g->pts) + sizeof(*g->buyer_pk) + sizeof(*g->expires_at)) +
           (g->n_cells ? g->n_cells : 1) * sizeof(*g->keys) + (g->n_cells + 1) * sizeof(*g->start) +
           rows * sizeof(*g->row_first);
}

/*
 * The cells a radius query must visit: rows r0..r1, columns c0..c0+ncols-1 (mod n_lng, so the
 * antimeridian wraps). `none` when the query is invalid or the grid empty.
 */
struct qbox {
    int64_t r0, r1, c0, ncols;
    bool none;
};

static void query_box(const struct flash_grid *g, double lat, double lng, double radius_m,
                      struct qbox *b)
{
    memset(b, 0, sizeof(*b));
    if (!g || g->n_pts == 0 || !coords_valid(lat, lng) || !(radius_m >= 0) || !isfinite(radius_m)) {
        b->none = true;
        return;
    }
    /* The cap spans lat ± δ; its longitude half-width is asin(sin δ / cos φ) unless it holds a
     * pole. */
    double delta = radius_m / EARTH_R_M;
    double ddeg = delta / RAD + 1e-7;
    double lat_lo = lat - ddeg, lat_hi = lat + ddeg;
    b->r0 = row_of(g, lat_lo < -90 ? -90 : lat_lo);
    b->r1 = row_of(g, lat_hi > 90 ? 90 : lat_hi);
    if (b->r0 < g->row_min)
        b->r0 = g->row_min;
    if (b->r1 > g->row_max)
        b->r1 = g->row_max;
    b->ncols = g->n_lng;
    if (lat_lo > -90 && lat_hi < 90) {
        double s = sin(delta) / cos(lat * RAD);
        double half = (s >= 1 ? 90 : asin(s) / RAD) + 1e-7;
        int64_t lo = (int64_t)floor((lng - half + 180) / g->dlng);
        int64_t hi = (int64_t)floor((lng + half + 180) / g->dlng);
        if (hi - lo + 1 < g->n_lng) {
            b->c0 = ((lo % g->n_lng) + g->n_lng) % g->n_lng;
            b->ncols = hi - lo + 1;
        }
    }
}

/* First cell in [lo, hi) whose key is >= key. */
static size_t cells_lower(const struct flash_grid *g, size_t lo, size_t hi, int64_t key)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Walks the point runs of a query box, row by row. */
struct qiter {
    const struct flash_grid *g;
    const struct qbox *b;
    int64_t r;
    int part; /* 0: the row's first run, 1: its wrapped second run */
};

static void qiter_init(struct qiter *it, const struct flash_grid *g, const struct qbox *b)
{
    it->g = g;
    it->b = b;
    it->r = b->r0;
    it->part = 0;
}

/* The next run of candidate points as positions [*lo, *hi); false when the box is exhausted. */
static bool qiter_next(struct qiter *it, size_t *lo, size_t *hi)
{
    const struct flash_grid *g = it->g;
    const struct qbox *b = it->b;
    if (b->none)
        return false;
    while (it->r <= b->r1) {
        int64_t row = it->r;
        int64_t c_lo, c_hi; /* inclusive column span of this run */
        int64_t last = b->c0 + b->ncols - 1;
        if (it->part == 0) {
            c_lo = b->c0;
            c_hi = last < g->n_lng ? last : g->n_lng - 1;
            it->part = last < g->n_lng ? 0 : 1;
            if (it->part == 0)
                it->r++;
        } else {
            c_lo = 0;
            c_hi = last - g->n_lng;
            it->part = 0;
            it->r++;
        }
        size_t cell0 = 0, cell1 = g->n_cells; /* the row's cells */
        if (g->row_first) {
            cell0 = g->row_first[row - g->row_min];
            cell1 = g->row_first[row - g->row_min + 1];
        }
        size_t a = cells_lower(g, cell0, cell1, row * g->n_lng + c_lo);
        size_t z = cells_lower(g, a, cell1, row * g->n_lng + c_hi + 1);
        if (a < z) {
            *lo = g->start[a];
            *hi = g->start[z];
            return true;
        }
    }
    return false;
}

size_t flash_grid_query(const struct flash_grid *g, double lat, double lng, double radius_m,
                        flash_grid_fn *fn, void *ctx)
{
    struct qbox b;
    struct probe pr;
    size_t hits = 0;
    query_box(g, lat, lng, radius_m, &b);
    if (b.none)
        return 0;
    probe_init(&pr, lat, lng, radius_m);
    struct qiter it;
    size_t lo, hi;
    for (qiter_init(&it, g, &b); qiter_next(&it, &lo, &hi);) {
        for (size_t pos = lo; pos < hi; pos++) {
            double c2 = chord2(&pr.q, &g->pts[pos].v);
            if (c2 <= pr.c2_max) {
                fn(ctx, g->pts[pos].idx, probe_dist(&pr, c2));
                hits++;
            }
        }
    }
    return hits;
}

/* ======================== arrival, products, minimums ======================== */

double flash_walk_minutes(const struct flash_config *c, double distance_m)
{
    /* A config without a speed (zeroed by hand) means arrival is not limited. */
    if (!c || !(c->walk_m_per_min > 0))
        return 0;
    double detour = c->walk_detour >= 1 ? c->walk_detour : 1;
    return distance_m * detour / c->walk_m_per_min;
}

/* The farthest straight-line distance from which a buyer arrives within `minutes`. */
static double reach_m(const struct flash_config *c, double minutes)
{
    if (!(c->walk_m_per_min > 0))
        return INFINITY;
    double detour = c->walk_detour >= 1 ? c->walk_detour : 1;
    return minutes * c->walk_m_per_min / detour;
}

bool flash_can_arrive(const struct flash_config *c, double distance_m, int64_t lead_ms,
                      int window_minutes)
{
    double minutes = (double)lead_ms / (double)MINUTE_MS + window_minutes;
    return flash_walk_minutes(c, distance_m) <= minutes + 1e-9;
}

bool flash_product_fits(const char *product, const char *category, const char *const *own)
{
    if (!product || !*product || !category || !*category)
        return false;
    for (size_t i = 0; own && own[i]; i++) {
        if (strcmp(own[i], product) == 0)
            return true;
    }
    struct understanding u;
    struct err e = {0};
    if (understand_text(product, UNDERSTAND_ROLE_BUYER, &u, &e))
        return false;
    return u.category[0] && strcmp(u.category, category) == 0;
}

int flash_min_participants(const struct flash_config *c, const double *reliability, size_t n,
                           double *expected)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += reliability[i] > 0 ? (reliability[i] < 1 ? reliability[i] : 1) : 0;
    if (expected)
        *expected = sum;
    int min = (int)floor(sum + 1e-9);
    int cap = c && c->min_participants > 0 ? c->min_participants : 1;
    if (min > cap)
        min = cap;
    return min < 1 ? 1 : min;
}

/* ======================== tiers ======================== */

int flash_tier_discount(const struct flash_config *c, double distance_m, int seller_max)
{
    for (int i = 0; i < c->n_tiers && i < FLASH_MAX_TIERS; i++) {
        if (distance_m < c->tiers[i].max_m) {
            int d = c->tiers[i].discount;
            if (seller_max < 0)
                seller_max = 0;
            return d < seller_max ? d : seller_max;
        }
    }
    return 0;
}

/* ======================== scan ======================== */

/*
 * The scan's own grid has rows half the radius tall (columns a quarter): a query reads one run
 * of points per row, so thinner rows trim the box around the circle but add binary searches;
 * r/2 and r/4 measured alike in bench/bench_flash.c.
 */
#define CELL_PER_RADIUS 0.5

/* Per grid point, for the scan: dense buyer index and interned category (0 = any). */

struct pinfo {
    uint32_t buyer;
    uint32_t cat;
};

/* Per buyer, for the seller being scored; `seen`/`mseen` hold the seller's stamp. */
struct bstate {
    uint32_t seen;  /* counted as nearby */
    uint32_t mseen; /* counted as matching, closest distance in mdist */
    double mdist;
};

/*
 * Per grid point: dense buyer index (numbered in grid order, so buyers near each other get
 * near indexes and the per-buyer state stays cache-friendly) and category id. Returns the
 * number of buyers.
 */
static size_t scan_prepare(const struct flash_grid *g, int64_t now_ms, struct pinfo *info)
{
    size_t cap = 16;
    while (cap < 2 * g->n_pts)
        cap *= 2;
    size_t mask = cap - 1, n_buyers = 0;
    int64_t *keys = xmalloc(cap * sizeof(*keys));
    uint32_t *vals = xmalloc(cap * sizeof(*vals));
    memset(vals, 0xff, cap * sizeof(*vals));
    for (size_t pos = 0; pos < g->n_pts; pos++) {
        int64_t pk = g->buyer_pk[pos];
        size_t h = mix64((uint64_t)pk) & mask;
        while (vals[h] != UINT32_MAX && keys[h] != pk)
            h = (h + 1) & mask;
        if (vals[h] == UINT32_MAX) {
            keys[h] = pk;
            vals[h] = (uint32_t)n_buyers++;
        }
        info[pos].buyer = vals[h];
        info[pos].cat =
            expired(g->expires_at[pos], now_ms) ? CAT_EXPIRED : g->pts[pos].cat & ~NO_CONSENT;
    }
    free(keys);
    free(vals);
    return n_buyers;
}

bool flash_seller_asked_for_traffic(const struct flash_seller *s, int64_t now_ms)
{
    if (s->supply_until <= now_ms)
        return false;
    if (s->supply_kind == FLASH_SUPPLY_DENSITY)
        return s->density == FLASH_DENSITY_LOW;
    return true; /* idle, surplus, promotion */
}

static double density_component(const struct flash_seller *s, int64_t now_ms)
{
    if (s->supply_until > now_ms && s->supply_kind != FLASH_SUPPLY_DENSITY)
        return 1.0;
    switch (s->density) {
    case FLASH_DENSITY_LOW:
        return 1.0;
    case FLASH_DENSITY_MEDIUM:
        return 0.5;
    case FLASH_DENSITY_HIGH:
        return 0.0;
    }
    return 0.5;
}

static double clamp01(double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

static int score_cmp(const void *pa, const void *pb)
{
    const struct flash_score *a = pa, *b = pb;
    if (a->total != b->total)
        return a->total > b->total ? -1 : 1;
    return (a->seller_idx > b->seller_idx) - (a->seller_idx < b->seller_idx);
}

static int check_input(const struct flash_scan_input *in, struct err *e)
{
    if (!in || !in->cfg)
        return err_set(e, ERR_INVALID, "scan input without a configuration");
    int rc = flash_config_validate(in->cfg, e);
    if (rc)
        return rc;
    if ((in->n_sellers && !in->sellers) || (in->n_demand && !in->demand))
        return err_set(e, ERR_INVALID, "scan input without its arrays");
    if (in->n_demand >= CAT_NONE || in->n_sellers >= UINT32_MAX - 2)
        return err_set(e, ERR_INVALID, "scan input too large (%zu sellers, %zu demand)",
                       in->n_sellers, in->n_demand);
    if (in->grid && (in->grid->demand != in->demand || in->grid->n_demand != in->n_demand))
        return err_set(e, ERR_INVALID, "the grid indexes another demand array");
    return 0;
}

/* Nearby and matching buyers of one seller, and the sum of matching distances. */
static void scan_seller(const struct flash_grid *g, const struct pinfo *info, struct bstate *bs,
                        uint32_t stamp, uint32_t cat, const struct flash_location *loc,
                        double radius_m, struct flash_score *sc)
{
    struct qbox b;
    struct probe pr;
    int nearby = 0, matching = 0;
    double dsum = 0;
    query_box(g, loc->lat, loc->lng, radius_m, &b);
    if (!b.none)
        probe_init(&pr, loc->lat, loc->lng, radius_m);
    struct qiter it;
    size_t lo, hi;
    for (qiter_init(&it, g, &b); qiter_next(&it, &lo, &hi);) {
        for (size_t pos = lo; pos < hi; pos++) {
            double c2 = chord2(&pr.q, &g->pts[pos].v);
            if (c2 > pr.c2_max)
                continue;
            struct pinfo pi = info[pos];
            if (pi.cat == CAT_EXPIRED)
                continue;
            struct bstate *s = &bs[pi.buyer];
            nearby += s->seen != stamp;
            s->seen = stamp;
            if (pi.cat != CAT_ANY && pi.cat != cat)
                continue;
            double d = probe_dist(&pr, c2);
            if (s->mseen != stamp) {
                s->mseen = stamp;
                s->mdist = d;
                matching++;
                dsum += d;
            } else if (d < s->mdist) {
                dsum -= s->mdist - d;
                s->mdist = d;
            }
        }
    }
    sc->nearby = nearby;
    sc->matching = matching;
    sc->mean_distance_m = matching ? dsum / matching : 0;
}

int flash_scan(const struct flash_scan_input *in, struct arena *a, struct flash_score **out,
               size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    int rc = check_input(in, e);
    if (rc)
        return rc;
    const struct flash_config *cfg = in->cfg;
    double wsum = 0;
    for (int i = 0; i < FLASH_N_COMPONENTS; i++)
        wsum += cfg->weights[i];

    struct flash_score *scores =
        arena_alloc(a, (in->n_sellers ? in->n_sellers : 1) * sizeof(*scores));
    struct flash_grid *own = NULL;
    const struct flash_grid *g = in->grid;
    if (!g)
        g = own = flash_grid_new(in->demand, in->n_demand, cfg->radius_m * CELL_PER_RADIUS);

    struct pinfo *info = xmalloc((g->n_pts ? g->n_pts : 1) * sizeof(*info));
    size_t n_buyers = scan_prepare(g, in->now_ms, info);
    struct bstate *bs = xcalloc(n_buyers ? n_buyers : 1, sizeof(*bs));

    for (size_t i = 0; i < in->n_sellers; i++) {
        const struct flash_seller *sl = &in->sellers[i];
        struct flash_score *sc = &scores[i];
        uint32_t cat = is_blank(sl->category) ? 0 : strtab_find(&g->cats, sl->category, NULL);
        sc->seller_idx = i;
        scan_seller(g, info, bs, (uint32_t)i + 1, cat ? cat : CAT_NONE, &sl->loc, cfg->radius_m,
                    sc);
        sc->precommits = in->precommits && in->precommits[i] > 0 ? in->precommits[i] : 0;

        double *c = sc->components;
        c[FLASH_C_DEMAND] = clamp01((double)sc->matching / cfg->demand_target);
        c[FLASH_C_DENSITY] = density_component(sl, in->now_ms);
        c[FLASH_C_PRECOMMIT] = clamp01((double)sc->precommits / cfg->min_participants);
        c[FLASH_C_CATEGORY] = sc->nearby ? (double)sc->matching / sc->nearby : 0;
        c[FLASH_C_DISTANCE] = sc->matching ? clamp01(1 - sc->mean_distance_m / cfg->radius_m) : 0;
        double t = 0;
        for (int k = 0; k < FLASH_N_COMPONENTS; k++)
            t += cfg->weights[k] * c[k];
        sc->total = clamp01(t / wsum);
        sc->eligible = sc->matching > 0 && sc->total >= cfg->threshold;
    }
    qsort(scores, in->n_sellers, sizeof(*scores), score_cmp);

    free(bs);
    free(info);
    flash_grid_free(own);
    *out = scores;
    *n = in->n_sellers;
    return 0;
}

/* ======================== targets ======================== */

struct cand {
    double d;
    int64_t buyer_pk;
    size_t idx;
};

#define CAND_STACK 512

/* Candidates in a stack buffer that moves to the heap only for very dense spots. */
struct cands {
    struct cand *c;
    size_t n, cap;
    struct cand *heap;
};

static void cands_push(struct cands *t, double d, int64_t buyer_pk, size_t idx)
{
    if (t->n == t->cap) {
        t->cap *= 2;
        if (t->heap) {
            t->heap = xrealloc(t->heap, t->cap * sizeof(*t->heap));
        } else {
            t->heap = xmalloc(t->cap * sizeof(*t->heap));
            memcpy(t->heap, t->c, t->n * sizeof(*t->heap));
        }
        t->c = t->heap;
    }
    t->c[t->n++] = (struct cand){d, buyer_pk, idx};
}

/* Whether demand `dm` is a live, consented wish the seller of category `cat` can serve. */
static bool target_ok(const struct flash_demand *dm, const char *cat, int64_t now_ms)
{
    if (!dm->consent || expired(dm->expires_at, now_ms))
        return false;
    return is_blank(dm->category) || strcmp(dm->category, cat) == 0;
}

static bool cand_less(const struct cand *a, const struct cand *b)
{
    if (a->d != b->d)
        return a->d < b->d;
    if (a->buyer_pk != b->buyer_pk)
        return a->buyer_pk < b->buyer_pk;
    return a->idx < b->idx;
}

/*
 * Sort by (distance, buyer, demand): quicksort with an inlined comparison (qsort's indirect
 * calls dominated target selection) and insertion sort for short runs.
 */
static void cands_sort(struct cand *c, size_t n)
{
    while (n > 16) {
        struct cand *m = &c[n / 2], *z = &c[n - 1], tmp;
        /* Median of three to c[0]'s place as the pivot. */
        if (cand_less(m, c)) {
            tmp = *m, *m = *c, *c = tmp;
        }
        if (cand_less(z, m)) {
            tmp = *z, *z = *m, *m = tmp;
            if (cand_less(m, c)) {
                tmp = *m, *m = *c, *c = tmp;
            }
        }
        struct cand pivot = *m;
        size_t i = 0, j = n - 1;
        for (;;) {
            while (cand_less(&c[i], &pivot))
                i++;
            while (cand_less(&pivot, &c[j]))
                j--;
            if (i >= j)
                break;
            tmp = c[i], c[i] = c[j], c[j] = tmp;
            i++;
            j--;
        }
        /* Recurse into the smaller half, loop on the larger: O(log n) stack. */
        size_t left = j + 1;
        if (left < n - left) {
            cands_sort(c, left);
            c += left;
            n -= left;
        } else {
            cands_sort(c + left, n - left);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        struct cand x = c[i];
        size_t j = i;
        for (; j > 0 && cand_less(&x, &c[j - 1]); j--)
            c[j] = c[j - 1];
        c[j] = x;
    }
}

/*
 * Sort candidates whose distances lie in [0, radius]: counting sort into distance buckets
 * (about two candidates each, by `tmp`, n long), then each bucket on its own. Linear for the
 * usual spread; a crowded bucket (many buyers at one spot) falls back to cands_sort.
 */
#define MAX_BUCKETS 1024

static void cands_order(struct cand *c, size_t n, double radius_m, struct cand *tmp)
{
    uint32_t start[MAX_BUCKETS + 1];
    size_t nb = n / 2 < 16 ? 16 : n / 2 > MAX_BUCKETS ? MAX_BUCKETS : n / 2;
    double scale = radius_m > 0 ? (double)nb / radius_m : 0;
    memset(start, 0, (nb + 1) * sizeof(start[0]));
    for (size_t i = 0; i < n; i++) {
        size_t b = (size_t)(c[i].d * scale);
        start[(b < nb ? b : nb - 1) + 1]++;
    }
    for (size_t b = 0; b < nb; b++)
        start[b + 1] += start[b];
    for (size_t i = 0; i < n; i++) {
        size_t b = (size_t)(c[i].d * scale);
        tmp[start[b < nb ? b : nb - 1]++] = c[i];
    }
    /* start[b] now ends bucket b. */
    size_t lo = 0;
    for (size_t b = 0; b < nb; b++) {
        size_t hi = start[b];
        cands_sort(tmp + lo, hi - lo);
        lo = hi;
    }
    memcpy(c, tmp, n * sizeof(*c));
}

int flash_targets(const struct flash_scan_input *in, size_t seller_idx, size_t limit,
                  struct arena *a, struct flash_target **out, size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    int rc = check_input(in, e);
    if (rc)
        return rc;
    if (seller_idx >= in->n_sellers)
        return err_set(e, ERR_INVALID, "seller index %zu out of range", seller_idx);
    const struct flash_seller *sl = &in->sellers[seller_idx];
    const struct flash_config *cfg = in->cfg;
    const char *cat = sl->category ? sl->category : "";
    struct cand stack[CAND_STACK];
    struct cands t = {.c = stack, .cap = CAND_STACK};
    struct probe pr;
    /* Only buyers who can walk there before the window closes (engine.h, "Arrival"). */
    int64_t lead_ms = in->has_lead ? in->lead_ms : cfg->lead_minutes * MINUTE_MS;
    int minutes = in->window_minutes > 0 ? in->window_minutes : cfg->window_minutes;
    double reach = reach_m(cfg, (double)lead_ms / (double)MINUTE_MS + minutes) + 1e-6;

    if (coords_valid(sl->loc.lat, sl->loc.lng))
        probe_init(&pr, sl->loc.lat, sl->loc.lng, cfg->radius_m);
    if (in->grid) {
        /* The grid's interned categories and consent bits spare reading the demand rows. */
        const struct flash_grid *g = in->grid;
        uint32_t id = is_blank(cat) ? 0 : strtab_find(&g->cats, cat, NULL);
        uint32_t want_cat = id ? id : CAT_NONE;
        struct qbox b;
        struct qiter it;
        size_t lo, hi;
        query_box(g, sl->loc.lat, sl->loc.lng, cfg->radius_m, &b);
        for (qiter_init(&it, g, &b); qiter_next(&it, &lo, &hi);) {
            for (size_t pos = lo; pos < hi; pos++) {
                const struct gpoint *q = &g->pts[pos];
                double c2 = chord2(&pr.q, &q->v);
                if (c2 > pr.c2_max || (q->cat != CAT_ANY && q->cat != want_cat))
                    continue;
                double d = probe_dist(&pr, c2);
                if (d <= reach && !expired(g->expires_at[pos], in->now_ms))
                    cands_push(&t, d, g->buyer_pk[pos], q->idx);
            }
        }
    } else if (coords_valid(sl->loc.lat, sl->loc.lng)) {
        /* Without a grid one linear pass is cheaper than building one for a single query. */
        for (size_t i = 0; i < in->n_demand; i++) {
            const struct flash_demand *dm = &in->demand[i];
            if (!coords_valid(dm->loc.lat, dm->loc.lng) || !target_ok(dm, cat, in->now_ms))
                continue;
            struct vec3 v = unit_vec(dm->loc.lat, dm->loc.lng);
            double c2 = chord2(&pr.q, &v);
            double d = c2 <= pr.c2_max ? probe_dist(&pr, c2) : INFINITY;
            if (d <= reach)
                cands_push(&t, d, dm->buyer_pk, i);
        }
    }

    /* Closest first; a buyer's first appearance is then its closest matching demand. */
    size_t want = limit && limit < t.n ? limit : t.n;
    struct cand tmp_stack[CAND_STACK];
    struct cand *tmp = t.n <= CAND_STACK ? tmp_stack : xmalloc(t.n * sizeof(*tmp));
    cands_order(t.c, t.n, cfg->radius_m, tmp);
    if (tmp != tmp_stack)
        free(tmp);
    struct flash_target *res = arena_alloc(a, (want ? want : 1) * sizeof(*res));
    size_t cap = 16;
    while (cap < 2 * t.n)
        cap *= 2;
    int64_t set_stack[2 * CAND_STACK];
    bool used_stack[2 * CAND_STACK];
    int64_t *set = set_stack;
    bool *used = used_stack;
    if (cap > 2 * CAND_STACK) {
        set = xmalloc(cap * sizeof(*set));
        used = xmalloc(cap * sizeof(*used));
    }
    memset(used, 0, cap * sizeof(*used));
    size_t got = 0;
    for (size_t i = 0; i < t.n && got < want; i++) {
        size_t h = mix64((uint64_t)t.c[i].buyer_pk) & (cap - 1);
        while (used[h] && set[h] != t.c[i].buyer_pk)
            h = (h + 1) & (cap - 1);
        if (used[h])
            continue;
        used[h] = true;
        set[h] = t.c[i].buyer_pk;
        res[got++] = (struct flash_target){
            .demand_idx = t.c[i].idx,
            .buyer_pk = t.c[i].buyer_pk,
            .distance_m = t.c[i].d,
            .discount = flash_tier_discount(cfg, t.c[i].d, sl->max_discount),
        };
    }
    if (set != set_stack) {
        free(set);
        free(used);
    }
    free(t.heap);
    *out = res;
    *n = got;
    return 0;
}

/* ======================== timing ======================== */

#define HOUR_MS      (60 * MINUTE_MS)
#define BUSY_LEVEL   0.6f /* an hour this busy (over BUSY_SAMPLES reports) is avoided */
#define BUSY_SAMPLES 2
#define QUIET_LEVEL  0.5f /* an hour below this is quiet */
#define STEP_MIN     10
#define MAX_SHIFT    60

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if (a % b != 0 && (a < 0) != (b < 0))
        q--;
    return q;
}

/* Local day number (days since 1970-01-01 local) and its weekday, Monday = 0. */
static int64_t local_day(int64_t local_ms)
{
    return floor_div(local_ms, DAY_MS);
}

static int weekday_of(int64_t day)
{
    return (int)(((day + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
}

static int hour_of_week(int64_t ms, int tz_offset_min)
{
    int64_t local = ms + tz_offset_min * MINUTE_MS;
    int64_t day = local_day(local);
    return weekday_of(day) * 24 + (int)((local - day * DAY_MS) / HOUR_MS);
}

static bool hour_busy(const struct flash_busy_profile *p, int h)
{
    return p->samples[h] >= BUSY_SAMPLES && p->busy[h] >= BUSY_LEVEL;
}

static bool hour_quiet(const struct flash_busy_profile *p, int h)
{
    return p->samples[h] <= 0 || p->busy[h] < QUIET_LEVEL;
}

static void local_hhmm(int64_t ms, int tz_offset_min, char out[6])
{
    int64_t local = ms + tz_offset_min * MINUTE_MS;
    int64_t min = (local - local_day(local) * DAY_MS) / MINUTE_MS;
    int h = (int)(min / 60), m = (int)(min % 60);
    out[0] = (char)('0' + h / 10);
    out[1] = (char)('0' + h % 10);
    out[2] = ':';
    out[3] = (char)('0' + m / 10);
    out[4] = (char)('0' + m % 10);
    out[5] = '\0';
}

int64_t flash_plan_start(const struct flash_config *c, const struct flash_busy_profile *p,
                         int64_t now_ms, int tz_offset_min, char *why, size_t why_len)
{
    int lead = c ? c->lead_minutes : 5;
    int64_t start = now_ms + lead * MINUTE_MS;
    char hhmm[6];
    char buf[200];
    local_hhmm(start, tz_offset_min, hhmm);
    int h = hour_of_week(start, tz_offset_min);

    if (!p || !hour_busy(p, h)) {
        snprintf(buf, sizeof(buf), "now + %d min (%s local)%s", lead, hhmm,
                 p ? ", not a busy hour" : ", no busy profile");
    } else {
        int64_t chosen = start;
        int shift = 0;
        for (int k = STEP_MIN; k <= MAX_SHIFT; k += STEP_MIN) {
            if (hour_quiet(p, hour_of_week(start + k * MINUTE_MS, tz_offset_min))) {
                chosen = start + k * MINUTE_MS;
                shift = k;
                break;
            }
        }
        if (shift) {
            char at[6];
            local_hhmm(chosen, tz_offset_min, at);
            snprintf(buf, sizeof(buf),
                     "%s local is busy (%.2f over %d reports); moved %d min to %s, a quiet hour",
                     hhmm, (double)p->busy[h], p->samples[h], shift, at);
        } else {
            snprintf(buf, sizeof(buf),
                     "%s local is busy (%.2f over %d reports) and no 10-minute step within %d "
                     "min is quiet; kept now + %d min",
                     hhmm, (double)p->busy[h], p->samples[h], MAX_SHIFT, lead);
        }
        start = chosen;
    }
    if (why && why_len)
        snprintf(why, why_len, "%s", buf);
    return start;
}

/* ======================== opening hours ======================== */

/*
 * Accepted forms: "" (always open); "HH:MM-HH:MM" every day; and the JSON object of flash.h,
 * {"mon":["08:00","20:00"],...} (or "08:00-20:00" per day), where a missing or null day is
 * closed. A close before the open spans midnight; equal times or "00:00-24:00" mean all day.
 * Anything else is treated as closed: never send buyers to a shop whose hours we cannot read.
 */
struct hours {
    bool always;
    bool open_day[7];
    int open[7], close[7]; /* minutes of the local day */
};

static bool parse_hhmm(const char *s, int *min)
{
    if (!(s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] == ':' && s[3] >= '0' &&
          s[3] <= '5' && s[4] >= '0' && s[4] <= '9'))
        return false;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || (h == 24 && m != 0))
        return false;
    *min = h * 60 + m;
    return true;
}

static bool parse_range(const char *s, int *open, int *close)
{
    if (strlen(s) != 11 || s[5] != '-')
        return false;
    return parse_hhmm(s, open) && parse_hhmm(s + 6, close) && *open < 1440;
}

static bool parse_day(json_t *v, int *open, int *close)
{
    if (json_is_string(v))
        return parse_range(json_string_value(v), open, close);
    if (!json_is_array(v) || json_array_size(v) != 2)
        return false;
    json_t *o = json_array_get(v, 0), *c = json_array_get(v, 1);
    if (!json_is_string(o) || !json_is_string(c))
        return false;
    const char *so = json_string_value(o), *sc = json_string_value(c);
    return strlen(so) == 5 && strlen(sc) == 5 && parse_hhmm(so, open) && parse_hhmm(sc, close) &&
           *open < 1440;
}

static bool parse_hours(const char *s, struct hours *h)
{
    static const char *const days[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    memset(h, 0, sizeof(*h));
    if (is_blank(s)) {
        h->always = true;
        return true;
    }
    if (s[0] != '{') {
        int o, c;
        if (!parse_range(s, &o, &c))
            return false;
        for (int d = 0; d < 7; d++) {
            h->open_day[d] = true;
            h->open[d] = o;
            h->close[d] = c;
        }
        return true;
    }
    json_t *root = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
    bool ok = json_is_object(root);
    const char *key;
    json_t *v;
    json_object_foreach(ok ? root : NULL, key, v)
    {
        int d = 0;
        while (d < 7 && strcmp(days[d], key) != 0)
            d++;
        if (d == 7) {
            ok = false;
            break;
        }
        if (json_is_null(v))
            continue;
        if (!parse_day(v, &h->open[d], &h->close[d])) {
            ok = false;
            break;
        }
        h->open_day[d] = true;
    }
    json_decref(root);
    return ok;
}

/* The open interval starting on local day `day`, in local ms; false when closed that day. */
static bool day_interval(const struct hours *h, int64_t day, int64_t *lo, int64_t *hi)
{
    int wd = weekday_of(day);
    if (!h->open_day[wd])
        return false;
    int o = h->open[wd], c = h->close[wd];
    int64_t base = day * DAY_MS;
    *lo = base + o * MINUTE_MS;
    if (c > o)
        *hi = base + c * MINUTE_MS;
    else if (c == o)
        *hi = *lo + DAY_MS;
    else
        *hi = base + DAY_MS + c * MINUTE_MS;
    return true;
}

bool flash_seller_open(const struct flash_seller *s, int64_t start_ms, int64_t end_ms,
                       int tz_offset_min)
{
    struct hours h;
    if (!parse_hours(s->opening_hours, &h))
        return false;
    if (h.always)
        return true;
    if (end_ms <= start_ms)
        end_ms = start_ms + 1;
    int64_t lo = start_ms + tz_offset_min * MINUTE_MS;
    int64_t hi = end_ms + tz_offset_min * MINUTE_MS;
    if (hi - lo > 2 * DAY_MS)
        return false;

    /* Intervals that can touch [lo, hi): those starting the day before through two days on. */
    int64_t iv[4][2];
    int n = 0;
    int64_t d0 = local_day(lo);
    for (int64_t d = d0 - 1; d <= d0 + 2; d++) {
        if (day_interval(&h, d, &iv[n][0], &iv[n][1]))
            n++;
    }
    /* Walk forward through touching intervals until the window is covered. */
    int64_t cur = lo;
    while (cur < hi) {
        int64_t reach = cur;
        for (int i = 0; i < n; i++) {
            if (iv[i][0] <= cur && iv[i][1] > reach)
                reach = iv[i][1];
        }
        if (reach == cur)
            return false;
        cur = reach;
    }
    return true;
}

/* ======================== draft ======================== */

/* Cut a string truncated by snprintf back to a whole UTF-8 character. */
static void utf8_trim(char *s)
{
    size_t len = strlen(s);
    size_t i = len;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (len - (i - 1) < need)
        s[i - 1] = '\0';
}

static double round_to(double v, double unit)
{
    return round(v / unit) * unit;
}

static json_t *score_json(const struct flash_config *cfg, const struct flash_score *sc)
{
    json_t *w = json_object(), *c = json_object();
    for (int i = 0; i < FLASH_N_COMPONENTS; i++) {
        json_object_set_new(w, flash_component_names[i], json_real(cfg->weights[i]));
        json_object_set_new(c, flash_component_names[i],
                            json_real(round_to(sc->components[i], 1e-4)));
    }
    return json_pack("{s:f, s:f, s:o, s:o}", "total", round_to(sc->total, 1e-4), "threshold",
                     cfg->threshold, "weights", w, "components", c);
}

static json_t *targets_json(const struct flash_scan_input *in, const struct flash_seller *sl,
                            const struct flash_target *targets, size_t n, int64_t start_ms)
{
    const struct flash_config *cfg = in->cfg;
    json_t *arr = json_array();
    long starts_in = (long)ceil((double)(start_ms - in->now_ms) / (double)MINUTE_MS);
    for (size_t i = 0; i < n; i++) {
        const struct flash_target *t = &targets[i];
        const char *bid = t->demand_idx < in->n_demand ? in->demand[t->demand_idx].buyer_id : NULL;
        double walk = flash_walk_minutes(cfg, t->distance_m);
        char why[240], arrive[80];
        snprintf(arrive, sizeof(arrive), "%.0f min walk; window starts in %ld min", ceil(walk),
                 starts_in);
        int tier = 0;
        while (tier < cfg->n_tiers && !(t->distance_m < cfg->tiers[tier].max_m))
            tier++;
        if (in->discount_why)
            snprintf(why, sizeof(why), "%.0f m away, %s: the window's learned discount %d%%",
                     t->distance_m, arrive, t->discount);
        else if (tier == cfg->n_tiers)
            snprintf(why, sizeof(why), "%.0f m away, %s: beyond the tiers, no discount",
                     t->distance_m, arrive);
        else if (cfg->tiers[tier].discount > sl->max_discount)
            snprintf(why, sizeof(why),
                     "%.0f m away, %s: tier < %.0f m gives %d%%, capped at seller max %d%%",
                     t->distance_m, arrive, cfg->tiers[tier].max_m, cfg->tiers[tier].discount,
                     sl->max_discount);
        else
            snprintf(why, sizeof(why), "%.0f m away, %s: tier < %.0f m gives %d%%", t->distance_m,
                     arrive, cfg->tiers[tier].max_m, cfg->tiers[tier].discount);
        json_array_append_new(arr,
                              json_pack("{s:s, s:f, s:f, s:i, s:s}", "buyer_id", bid ? bid : "",
                                        "distance_m", round_to(t->distance_m, 0.1), "walk_min",
                                        round_to(walk, 0.1), "discount", t->discount, "why", why));
    }
    return arr;
}

int flash_draft_window(const struct flash_scan_input *in, const struct flash_score *score,
                       const struct flash_target *targets, size_t n_targets, const char *product,
                       const struct flash_busy_profile *busy, int tz_offset_min, struct arena *a,
                       struct flash_draft *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    int rc = check_input(in, e);
    if (rc)
        return rc;
    if (!score || score->seller_idx >= in->n_sellers)
        return err_set(e, ERR_INVALID, "draft without a scored seller");
    if (n_targets && !targets)
        return err_set(e, ERR_INVALID, "draft without its targets");
    const struct flash_config *cfg = in->cfg;
    const struct flash_seller *sl = &in->sellers[score->seller_idx];
    const char *name = !is_blank(sl->name) ? sl->name : sl->id ? sl->id : "";
    product = product ? product : "";

    /* Advantage: the largest discount any target earns, never above the seller's maximum. */
    int discount = 0;
    for (size_t i = 0; i < n_targets; i++) {
        if (targets[i].discount > discount)
            discount = targets[i].discount;
    }
    if (discount > sl->max_discount)
        discount = sl->max_discount > 0 ? sl->max_discount : 0;
    char dwhy[160];
    if (n_targets == 0)
        snprintf(dwhy, sizeof(dwhy), "no targets, no discount");
    else if (in->discount_why)
        snprintf(dwhy, sizeof(dwhy), "%s", in->discount_why);
    else
        snprintf(dwhy, sizeof(dwhy), "largest target discount %d%% (seller max %d%%)", discount,
                 sl->max_discount);

    char twhy[320];
    int minutes = in->window_minutes > 0 ? in->window_minutes : cfg->window_minutes;
    double walk_max = 0;
    for (size_t i = 0; i < n_targets; i++) {
        double w = flash_walk_minutes(cfg, targets[i].distance_m);
        walk_max = w > walk_max ? w : walk_max;
    }
    if (in->has_lead) {
        out->start_ms = in->now_ms + in->lead_ms;
        char at[6];
        local_hhmm(out->start_ms, tz_offset_min, at);
        snprintf(twhy, sizeof(twhy), "now + %lld s (%s local), as asked",
                 (long long)(in->lead_ms / 1000), at);
    } else {
        out->start_ms = flash_plan_start(cfg, busy, in->now_ms, tz_offset_min, twhy, sizeof(twhy));
        /* Leave the farthest target time to walk there by the start. */
        int64_t walk_start = in->now_ms + (int64_t)ceil(walk_max) * MINUTE_MS;
        if (walk_start > out->start_ms) {
            size_t len = strlen(twhy);
            snprintf(twhy + len, sizeof(twhy) - len,
                     "; moved to now + %.0f min so the farthest target can walk there",
                     ceil(walk_max));
            out->start_ms = walk_start;
        }
    }
    out->end_ms = out->start_ms + minutes * MINUTE_MS;
    bool open = flash_seller_open(sl, out->start_ms, out->end_ms, tz_offset_min);
    out->discount_percent = discount;
    out->capacity = sl->capacity > 0 ? sl->capacity : 1;
    double rel_stack[64] = {0};
    double *rel = n_targets <= 64 ? rel_stack : xmalloc(n_targets * sizeof(*rel));
    for (size_t i = 0; i < n_targets; i++)
        rel[i] = targets[i].demand_idx < in->n_demand
                     ? in->demand[targets[i].demand_idx].reliability
                     : 0.7;
    out->min_participants = flash_min_participants(cfg, rel, n_targets, &out->expected);
    if (rel != rel_stack)
        free(rel);
    char mwhy[200];
    if (in->has_lead && in->lead_ms < FLASH_PRECOMMIT_MIN_LEAD_MS) {
        out->min_participants = 0;
        snprintf(mwhy, sizeof(mwhy),
                 "starts in %lld s, too soon to gather pre-commits: no minimum, buyers join "
                 "while it runs (expected arrivals %.2f)",
                 (long long)(in->lead_ms / 1000), out->expected);
    } else {
        snprintf(mwhy, sizeof(mwhy),
                 "expected arrivals %.2f (sum of %zu targets' reliability); "
                 "minimum %d (config %d)",
                 out->expected, n_targets, out->min_participants, cfg->min_participants);
    }
    const char *approval, *awhy;
    char awhy_buf[160];
    if (sl->auto_approve) {
        approval = "standing";
        awhy = "standing approval within the seller's maximum discount";
        out->status = FLASH_WINDOW_SCHEDULED;
    } else if (in->seller_invited && flash_seller_asked_for_traffic(sl, in->now_ms)) {
        char until[6];
        local_hhmm(sl->supply_until, tz_offset_min, until);
        snprintf(awhy_buf, sizeof(awhy_buf),
                 "the seller asked for customers (%s signal, active until %s local) and has "
                 "not declined since: opened without asking again",
                 sl->supply_kind == FLASH_SUPPLY_DENSITY ? "density low"
                                                         : flash_supply_names[sl->supply_kind],
                 until);
        approval = "signal";
        awhy = awhy_buf;
        out->status = FLASH_WINDOW_SCHEDULED;
    } else {
        approval = "ask-first";
        awhy = "the seller approves each window: asked first";
        out->status = FLASH_WINDOW_PROPOSED;
    }

    char from[6], to[6];
    local_hhmm(out->start_ms, tz_offset_min, from);
    local_hhmm(out->end_ms, tz_offset_min, to);
    const char *sep = *product ? " " : "";
    if (discount > 0) {
        snprintf(out->title, sizeof(out->title), "%s: %s%s%%%d indirim", name, product, sep,
                 discount);
        snprintf(out->description, sizeof(out->description),
                 "%d dakikalık fırsat: %s%s%%%d indirim, %s-%s arası. En fazla %d kişi.", minutes,
                 product, sep, discount, from, to, out->capacity);
    } else {
        snprintf(out->title, sizeof(out->title), "%s: %s%sfırsat penceresi", name, product, sep);
        snprintf(out->description, sizeof(out->description),
                 "%d dakikalık fırsat: %s%s%s-%s arası. En fazla %d kişi.", minutes, product,
                 *product ? ", " : "", from, to, out->capacity);
    }
    utf8_trim(out->title);
    utf8_trim(out->description);

    char start_iso[CLOCK_ISO_LEN], end_iso[CLOCK_ISO_LEN];
    clock_format_iso(out->start_ms, start_iso);
    clock_format_iso(out->end_ms, end_iso);
    json_t *root = json_pack(
        "{s:s, s:o, s:{s:i, s:i, s:i, s:i, s:f}, s:o, s:{s:i, s:i, s:s}, s:{s:s, s:s, s:s, s:b}, "
        "s:{s:f, s:i, s:s}, s:s, s:s}",
        "seller_id", sl->id ? sl->id : "", "score", score_json(cfg, score), "counts", "nearby",
        score->nearby, "matching", score->matching, "precommits", score->precommits, "targets",
        (int)n_targets, "mean_distance_m", round_to(score->mean_distance_m, 0.1), "targets",
        targets_json(in, sl, targets, n_targets, out->start_ms), "discount", "percent", discount,
        "seller_max", sl->max_discount, "why", dwhy, "timing", "start", start_iso, "end", end_iso,
        "why", twhy, "open", open, "minimum", "expected", round_to(out->expected, 0.01), "min",
        out->min_participants, "why", mwhy, "approval", approval, "approval_why", awhy);
    char *text = root ? json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(root);
    if (!text)
        return err_set(e, ERR_INTERNAL, "cannot build the decision trace");
    out->trace_json = arena_strdup(a, text);
    free(text);
    return 0;
}
