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

#define EARTH_R_M  6371008.8
#define PI         3.14159265358979323846
#define RAD        (PI / 180.0)
#define M_PER_DEG  (EARTH_R_M * RAD) /* metres per degree of latitude, 111195.08 */
#define MINUTE_MS  INT64_C(60000)
#define DAY_MS     (1440 * MINUTE_MS)
#define WEEK_HOURS 168

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
 * Points are kept as unit vectors: the squared chord c² between two of them gives the
 * haversine term directly (a = c²/4), so rejecting a candidate costs no trigonometry and a hit
 * costs one asin. The distance is the haversine distance up to rounding (~1e-9 m).
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

static double chord2_to_m(double c2)
{
    double h = sqrt(c2) / 2;
    return 2 * EARTH_R_M * asin(h < 1 ? h : 1);
}

static bool coords_valid(double lat, double lng)
{
    return isfinite(lat) && isfinite(lng) && lat >= -90 && lat <= 90 && lng >= -180 && lng <= 180;
}

/* A radius query's precomputed test: chord² bound (with slack) and the exact radius. */
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
    pr->c2_max = 4 * s * s * (1 + 1e-9) + 1e-24;
    pr->radius_m = radius_m;
}

/* Distance to p when within the radius (the exact test is on the distance itself). */
static bool probe_hit(const struct probe *pr, const struct vec3 *p, double *d)
{
    double c2 = chord2(&pr->q, p);
    if (c2 > pr->c2_max)
        return false;
    *d = chord2_to_m(c2);
    return *d <= pr->radius_m;
}

/* ======================== grid ======================== */

struct gpoint {
    struct vec3 v;
    uint32_t idx;
};

struct gcell {
    int64_t key; /* row * n_lng + col */
    uint32_t start;
    uint32_t count;
};

struct flash_grid {
    const struct flash_demand *demand;
    size_t n_demand;
    double dlat, dlng; /* cell size in degrees */
    int64_t n_lat, n_lng;
    struct gpoint *pts; /* grouped by cell */
    size_t n_pts;
    struct gcell *cells;
    size_t n_cells, cap_cells;
    uint32_t *slots; /* open addressing: cell index + 1, 0 = empty */
    size_t mask;
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

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

static const struct gcell *cell_find(const struct flash_grid *g, int64_t key)
{
    for (size_t i = mix64((uint64_t)key) & g->mask;; i = (i + 1) & g->mask) {
        uint32_t s = g->slots[i];
        if (s == 0)
            return NULL;
        if (g->cells[s - 1].key == key)
            return &g->cells[s - 1];
    }
}

static void slots_insert(struct flash_grid *g, uint32_t cell)
{
    size_t i = mix64((uint64_t)g->cells[cell].key) & g->mask;
    while (g->slots[i])
        i = (i + 1) & g->mask;
    g->slots[i] = cell + 1;
}

/* The cell for `key`, created when new (the table stays at most half full). */
static uint32_t cell_get(struct flash_grid *g, int64_t key)
{
    size_t i = mix64((uint64_t)key) & g->mask;
    for (; g->slots[i]; i = (i + 1) & g->mask) {
        if (g->cells[g->slots[i] - 1].key == key)
            return g->slots[i] - 1;
    }
    if (g->n_cells == g->cap_cells) {
        g->cap_cells *= 2;
        g->cells = xrealloc(g->cells, g->cap_cells * sizeof(*g->cells));
    }
    uint32_t c = (uint32_t)g->n_cells++;
    g->cells[c] = (struct gcell){key, 0, 0};
    if (2 * g->n_cells > g->mask + 1) {
        free(g->slots);
        g->mask = 2 * (g->mask + 1) - 1;
        g->slots = xcalloc(g->mask + 1, sizeof(*g->slots));
        for (uint32_t k = 0; k < g->n_cells; k++)
            slots_insert(g, k);
    } else {
        g->slots[i] = c + 1;
    }
    return c;
}

struct flash_grid *flash_grid_new(const struct flash_demand *demand, size_t n, double cell_m)
{
    struct flash_grid *g = xcalloc(1, sizeof(*g));
    g->demand = demand;
    g->n_demand = n;
    if (!isfinite(cell_m) || cell_m < 1)
        cell_m = 1000;

    /* Columns are at least cell_m wide at the highest latitude in the data (capped at 89°). */
    double lat_ref = 0;
    for (size_t i = 0; i < n; i++) {
        if (coords_valid(demand[i].loc.lat, demand[i].loc.lng) &&
            fabs(demand[i].loc.lat) > lat_ref)
            lat_ref = fabs(demand[i].loc.lat);
    }
    if (lat_ref > 89)
        lat_ref = 89;
    g->dlat = cell_m / M_PER_DEG;
    if (g->dlat > 180)
        g->dlat = 180;
    g->n_lat = (int64_t)ceil(180 / g->dlat);
    double dlng = g->dlat / cos(lat_ref * RAD);
    g->n_lng = dlng >= 360 ? 1 : (int64_t)floor(360 / dlng);
    g->dlng = 360.0 / (double)g->n_lng;

    g->cap_cells = 64;
    g->cells = xmalloc(g->cap_cells * sizeof(*g->cells));
    g->mask = 127;
    g->slots = xcalloc(g->mask + 1, sizeof(*g->slots));

    /* Counting sort by cell: count, prefix sums, scatter. Invalid coordinates are left out. */
    uint32_t *cell_of = xmalloc((n ? n : 1) * sizeof(*cell_of));
    for (size_t i = 0; i < n; i++) {
        double lat = demand[i].loc.lat, lng = demand[i].loc.lng;
        if (!coords_valid(lat, lng)) {
            cell_of[i] = UINT32_MAX;
            continue;
        }
        uint32_t c = cell_get(g, row_of(g, lat) * g->n_lng + col_of(g, lng));
        g->cells[c].count++;
        cell_of[i] = c;
        g->n_pts++;
    }
    uint32_t off = 0;
    for (size_t c = 0; c < g->n_cells; c++) {
        g->cells[c].start = off;
        off += g->cells[c].count;
        g->cells[c].count = 0;
    }
    g->pts = xmalloc((g->n_pts ? g->n_pts : 1) * sizeof(*g->pts));
    for (size_t i = 0; i < n; i++) {
        if (cell_of[i] == UINT32_MAX)
            continue;
        struct gcell *c = &g->cells[cell_of[i]];
        g->pts[c->start + c->count++] = (struct gpoint){
            unit_vec(demand[i].loc.lat, demand[i].loc.lng), (uint32_t)i};
    }
    free(cell_of);
    return g;
}

void flash_grid_free(struct flash_grid *g)
{
    if (!g)
        return;
    free(g->pts);
    free(g->cells);
    free(g->slots);
    free(g);
}

size_t flash_grid_query(const struct flash_grid *g, double lat, double lng, double radius_m,
                        flash_grid_fn *fn, void *ctx)
{
    if (!g || g->n_pts == 0 || !coords_valid(lat, lng) || !(radius_m >= 0) || !isfinite(radius_m))
        return 0;
    struct probe pr;
    probe_init(&pr, lat, lng, radius_m);
    size_t hits = 0;
    double d;

    /* The cap spans lat ± δ; its longitude half-width is asin(sin δ / cos φ) unless it holds a pole. */
    double delta = radius_m / EARTH_R_M;
    double ddeg = delta / RAD + 1e-7;
    double lat_lo = lat - ddeg, lat_hi = lat + ddeg;
    bool all_cols = lat_lo <= -90 || lat_hi >= 90;
    int64_t r0 = row_of(g, lat_lo < -90 ? -90 : lat_lo);
    int64_t r1 = row_of(g, lat_hi > 90 ? 90 : lat_hi);
    int64_t c0 = 0, ncols = g->n_lng;
    if (!all_cols) {
        double s = sin(delta) / cos(lat * RAD);
        double half = (s >= 1 ? 90 : asin(s) / RAD) + 1e-7;
        int64_t lo = (int64_t)floor((lng - half + 180) / g->dlng);
        int64_t hi = (int64_t)floor((lng + half + 180) / g->dlng);
        if (hi - lo + 1 < g->n_lng) {
            c0 = lo;
            ncols = hi - lo + 1;
        }
    }

    /* A huge radius would visit more empty cells than there are points: test them all. */
    if ((double)(r1 - r0 + 1) * (double)ncols > (double)g->n_cells) {
        for (size_t i = 0; i < g->n_pts; i++) {
            if (probe_hit(&pr, &g->pts[i].v, &d)) {
                fn(ctx, g->pts[i].idx, d);
                hits++;
            }
        }
        return hits;
    }
    for (int64_t r = r0; r <= r1; r++) {
        for (int64_t k = 0; k < ncols; k++) {
            int64_t col = (c0 + k) % g->n_lng;
            if (col < 0)
                col += g->n_lng;
            const struct gcell *c = cell_find(g, r * g->n_lng + col);
            if (!c)
                continue;
            const struct gpoint *p = g->pts + c->start, *end = p + c->count;
            for (; p < end; p++) {
                if (probe_hit(&pr, &p->v, &d)) {
                    fn(ctx, p->idx, d);
                    hits++;
                }
            }
        }
    }
    return hits;
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

/* Demand ids interned per scan: category id 0 matches any seller; EXPIRED never counts. */
#define CAT_ANY     0u
#define CAT_EXPIRED UINT32_MAX
#define CAT_NONE    (UINT32_MAX - 1) /* a seller category no demand names */

struct dinfo {
    uint32_t buyer; /* dense buyer index */
    uint32_t cat;
};

/* String → small id, open addressing; strings are borrowed from the scan input. */
struct strtab {
    const char **keys;
    uint32_t *ids;
    size_t mask, n;
};

static uint64_t str_hash(const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h;
}

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

/* Id of s (1..), added when `add`; 0 when absent and not added. */
static uint32_t strtab_id(struct strtab *t, const char *s, bool add)
{
    size_t i = str_hash(s) & t->mask;
    for (; t->keys[i]; i = (i + 1) & t->mask) {
        if (t->keys[i] == s || strcmp(t->keys[i], s) == 0)
            return t->ids[i];
    }
    if (!add)
        return 0;
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

/* Dense index per distinct buyer_pk; returns the number of buyers. */
static size_t dense_buyers(const struct flash_demand *d, size_t n, struct dinfo *info)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    size_t mask = cap - 1, n_buyers = 0;
    int64_t *keys = xmalloc(cap * sizeof(*keys));
    uint32_t *vals = xmalloc(cap * sizeof(*vals));
    memset(vals, 0xff, cap * sizeof(*vals));
    for (size_t i = 0; i < n; i++) {
        size_t h = mix64((uint64_t)d[i].buyer_pk) & mask;
        while (vals[h] != UINT32_MAX && keys[h] != d[i].buyer_pk)
            h = (h + 1) & mask;
        if (vals[h] == UINT32_MAX) {
            keys[h] = d[i].buyer_pk;
            vals[h] = (uint32_t)n_buyers++;
        }
        info[i].buyer = vals[h];
    }
    free(keys);
    free(vals);
    return n_buyers;
}

static bool is_blank(const char *s)
{
    return !s || !*s;
}

static bool demand_expired(const struct flash_demand *d, int64_t now_ms)
{
    return d->expires_at != 0 && d->expires_at <= now_ms;
}

/* Per-scan scratch, allocated once; buyer arrays are indexed by the dense buyer index. */
struct scan_ctx {
    const struct dinfo *info;
    uint32_t *seen;  /* seller stamp of the last nearby hit */
    uint32_t *mseen; /* seller stamp of the last matching hit */
    double *mdist;   /* closest matching distance for the current seller */
    uint32_t *mlist; /* matching buyers of the current seller */
    size_t n_match;
    int nearby;
    uint32_t stamp;
    uint32_t cat;
};

static void scan_visit(void *vctx, size_t idx, double d)
{
    struct scan_ctx *s = vctx;
    struct dinfo di = s->info[idx];
    if (di.cat == CAT_EXPIRED)
        return;
    if (s->seen[di.buyer] != s->stamp) {
        s->seen[di.buyer] = s->stamp;
        s->nearby++;
    }
    if (di.cat != CAT_ANY && di.cat != s->cat)
        return;
    if (s->mseen[di.buyer] != s->stamp) {
        s->mseen[di.buyer] = s->stamp;
        s->mdist[di.buyer] = d;
        s->mlist[s->n_match++] = di.buyer;
    } else if (d < s->mdist[di.buyer]) {
        s->mdist[di.buyer] = d;
    }
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

static void score_finish(const struct flash_config *cfg, struct flash_score *sc, double wsum)
{
    double t = 0;
    for (int i = 0; i < FLASH_N_COMPONENTS; i++)
        t += cfg->weights[i] * sc->components[i];
    sc->total = clamp01(t / wsum);
    sc->eligible = sc->matching > 0 && sc->total >= cfg->threshold;
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
    if (in->n_demand >= UINT32_MAX - 2)
        return err_set(e, ERR_INVALID, "too much demand for one scan (%zu)", in->n_demand);
    if (in->grid && (in->grid->demand != in->demand || in->grid->n_demand != in->n_demand))
        return err_set(e, ERR_INVALID, "the grid indexes another demand array");
    return 0;
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

    struct flash_score *scores = arena_alloc(a, (in->n_sellers ? in->n_sellers : 1) *
                                                    sizeof(*scores));
    struct flash_grid *own = NULL;
    const struct flash_grid *g = in->grid;
    if (!g && in->n_demand)
        g = own = flash_grid_new(in->demand, in->n_demand, cfg->radius_m);

    size_t nd = in->n_demand;
    struct dinfo *info = xmalloc((nd ? nd : 1) * sizeof(*info));
    size_t n_buyers = dense_buyers(in->demand, nd, info);
    struct strtab cats;
    strtab_init(&cats);
    for (size_t i = 0; i < nd; i++) {
        const struct flash_demand *d = &in->demand[i];
        if (demand_expired(d, in->now_ms))
            info[i].cat = CAT_EXPIRED;
        else
            info[i].cat = is_blank(d->category) ? CAT_ANY : strtab_id(&cats, d->category, true);
    }

    size_t nb = n_buyers ? n_buyers : 1;
    struct scan_ctx s = {
        .info = info,
        .seen = xcalloc(nb, sizeof(uint32_t)),
        .mseen = xcalloc(nb, sizeof(uint32_t)),
        .mdist = xmalloc(nb * sizeof(double)),
        .mlist = xmalloc(nb * sizeof(uint32_t)),
    };

    for (size_t i = 0; i < in->n_sellers; i++) {
        const struct flash_seller *sl = &in->sellers[i];
        struct flash_score *sc = &scores[i];
        sc->seller_idx = i;
        s.stamp = (uint32_t)i + 1;
        s.nearby = 0;
        s.n_match = 0;
        uint32_t cat = is_blank(sl->category) ? 0 : strtab_id(&cats, sl->category, false);
        s.cat = cat ? cat : CAT_NONE;
        flash_grid_query(g, sl->loc.lat, sl->loc.lng, cfg->radius_m, scan_visit, &s);

        double dsum = 0;
        for (size_t k = 0; k < s.n_match; k++)
            dsum += s.mdist[s.mlist[k]];
        sc->nearby = s.nearby;
        sc->matching = (int)s.n_match;
        sc->mean_distance_m = s.n_match ? dsum / (double)s.n_match : 0;
        sc->precommits = in->precommits && in->precommits[i] > 0 ? in->precommits[i] : 0;

        double *c = sc->components;
        c[FLASH_C_DEMAND] = clamp01((double)sc->matching / cfg->demand_target);
        c[FLASH_C_DENSITY] = density_component(sl, in->now_ms);
        c[FLASH_C_PRECOMMIT] = clamp01((double)sc->precommits / cfg->min_participants);
        c[FLASH_C_CATEGORY] = sc->nearby ? (double)sc->matching / sc->nearby : 0;
        c[FLASH_C_DISTANCE] =
            sc->matching ? clamp01(1 - sc->mean_distance_m / cfg->radius_m) : 0;
        score_finish(cfg, sc, wsum);
    }
    qsort(scores, in->n_sellers, sizeof(*scores), score_cmp);

    free(s.seen);
    free(s.mseen);
    free(s.mdist);
    free(s.mlist);
    strtab_release(&cats);
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

struct target_ctx {
    const struct flash_scan_input *in;
    const char *category; /* the seller's, "" = any */
    struct cand *c;
    size_t n, cap;
    struct cand *heap; /* c when it outgrew the stack buffer */
};

static void target_push(struct target_ctx *t, size_t idx, double d)
{
    const struct flash_demand *dm = &t->in->demand[idx];
    if (!dm->consent || demand_expired(dm, t->in->now_ms))
        return;
    if (!is_blank(dm->category) && strcmp(dm->category, t->category) != 0)
        return;
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
    t->c[t->n++] = (struct cand){d, dm->buyer_pk, idx};
}

static void target_visit(void *vctx, size_t idx, double d)
{
    target_push(vctx, idx, d);
}

static int cand_cmp(const void *pa, const void *pb)
{
    const struct cand *a = pa, *b = pb;
    if (a->d != b->d)
        return a->d < b->d ? -1 : 1;
    if (a->buyer_pk != b->buyer_pk)
        return a->buyer_pk < b->buyer_pk ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
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
    struct cand stack[CAND_STACK];
    struct target_ctx t = {
        .in = in,
        .category = sl->category ? sl->category : "",
        .c = stack,
        .cap = CAND_STACK,
    };

    /* Without a grid one linear pass is cheaper than building one for a single query. */
    if (in->grid) {
        flash_grid_query(in->grid, sl->loc.lat, sl->loc.lng, cfg->radius_m, target_visit, &t);
    } else if (coords_valid(sl->loc.lat, sl->loc.lng)) {
        struct probe pr;
        probe_init(&pr, sl->loc.lat, sl->loc.lng, cfg->radius_m);
        for (size_t i = 0; i < in->n_demand; i++) {
            const struct flash_location *l = &in->demand[i].loc;
            double d;
            struct vec3 v;
            if (!coords_valid(l->lat, l->lng))
                continue;
            v = unit_vec(l->lat, l->lng);
            if (probe_hit(&pr, &v, &d))
                target_push(&t, i, d);
        }
    }

    /* Closest first; a buyer's first appearance is then its closest matching demand. */
    qsort(t.c, t.n, sizeof(*t.c), cand_cmp);
    size_t want = limit && limit < t.n ? limit : t.n;
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
    if (!(s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] == ':' &&
          s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9'))
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
                            const struct flash_target *targets, size_t n)
{
    const struct flash_config *cfg = in->cfg;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct flash_target *t = &targets[i];
        const char *bid = t->demand_idx < in->n_demand ? in->demand[t->demand_idx].buyer_id : NULL;
        char why[160];
        int tier = 0;
        while (tier < cfg->n_tiers && !(t->distance_m < cfg->tiers[tier].max_m))
            tier++;
        if (tier == cfg->n_tiers)
            snprintf(why, sizeof(why), "%.0f m away: beyond the tiers, no discount", t->distance_m);
        else if (cfg->tiers[tier].discount > sl->max_discount)
            snprintf(why, sizeof(why), "%.0f m away: tier < %.0f m gives %d%%, capped at seller "
                     "max %d%%", t->distance_m, cfg->tiers[tier].max_m,
                     cfg->tiers[tier].discount, sl->max_discount);
        else
            snprintf(why, sizeof(why), "%.0f m away: tier < %.0f m gives %d%%", t->distance_m,
                     cfg->tiers[tier].max_m, cfg->tiers[tier].discount);
        json_array_append_new(arr, json_pack("{s:s, s:f, s:i, s:s}", "buyer_id", bid ? bid : "",
                                             "distance_m", round_to(t->distance_m, 0.1),
                                             "discount", t->discount, "why", why));
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
    else
        snprintf(dwhy, sizeof(dwhy), "largest target discount %d%% (seller max %d%%)", discount,
                 sl->max_discount);

    char twhy[200];
    out->start_ms = flash_plan_start(cfg, busy, in->now_ms, tz_offset_min, twhy, sizeof(twhy));
    out->end_ms = out->start_ms + cfg->window_minutes * MINUTE_MS;
    bool open = flash_seller_open(sl, out->start_ms, out->end_ms, tz_offset_min);
    out->discount_percent = discount;
    out->capacity = sl->capacity > 0 ? sl->capacity : 1;
    out->min_participants = cfg->min_participants;
    out->status = sl->auto_approve ? FLASH_WINDOW_SCHEDULED : FLASH_WINDOW_PROPOSED;

    char from[6], to[6];
    local_hhmm(out->start_ms, tz_offset_min, from);
    local_hhmm(out->end_ms, tz_offset_min, to);
    const char *sep = *product ? " " : "";
    if (discount > 0) {
        snprintf(out->title, sizeof(out->title), "%s: %s%s%%%d indirim", name, product, sep,
                 discount);
        snprintf(out->description, sizeof(out->description),
                 "%d dakikalık fırsat: %s%s%%%d indirim, %s-%s arası. En fazla %d kişi.",
                 cfg->window_minutes, product, sep, discount, from, to, out->capacity);
    } else {
        snprintf(out->title, sizeof(out->title), "%s: %s%sfırsat penceresi", name, product, sep);
        snprintf(out->description, sizeof(out->description),
                 "%d dakikalık fırsat: %s%s%s-%s arası. En fazla %d kişi.", cfg->window_minutes,
                 product, *product ? ", " : "", from, to, out->capacity);
    }
    utf8_trim(out->title);
    utf8_trim(out->description);

    char start_iso[CLOCK_ISO_LEN], end_iso[CLOCK_ISO_LEN];
    clock_format_iso(out->start_ms, start_iso);
    clock_format_iso(out->end_ms, end_iso);
    json_t *root = json_pack(
        "{s:s, s:o, s:{s:i, s:i, s:i, s:i, s:f}, s:o, s:{s:i, s:i, s:s}, s:{s:s, s:s, s:s, s:b}, "
        "s:s}",
        "seller_id", sl->id ? sl->id : "", "score", score_json(cfg, score), "counts", "nearby",
        score->nearby, "matching", score->matching, "precommits", score->precommits, "targets",
        (int)n_targets, "mean_distance_m", round_to(score->mean_distance_m, 0.1), "targets",
        targets_json(in, sl, targets, n_targets), "discount", "percent", discount, "seller_max",
        sl->max_discount, "why", dwhy, "timing", "start", start_iso, "end", end_iso, "why", twhy,
        "open", open, "approval", sl->auto_approve ? "standing" : "ask-first");
    char *text = root ? json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(root);
    if (!text)
        return err_set(e, ERR_INTERNAL, "cannot build the decision trace");
    out->trace_json = arena_strdup(a, text);
    free(text);
    return 0;
}
