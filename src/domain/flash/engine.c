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
