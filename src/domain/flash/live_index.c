/* SPDX-License-Identifier: MIT */
/*
 * The live index (live_index.h): per tenant, a shared read-only snapshot of a scan's inputs
 * labelled with the scan version, and the pre-commit counts labelled with the window version.
 */
#include "domain/flash/live_index.h"
#include "core/xalloc.h"
#include "domain/flash/flash_store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/*
 * One tenant's inputs as read at read_ms. A compacted snapshot (demand expired since dropped)
 * keeps its own demand array and grid and borrows the rest from `base`, which it holds.
 */
struct snap {
    atomic_int refs;
    struct snap *base;   /* holds sellers and every string; NULL: this snapshot does */
    struct arena arena;  /* the rows (or, compacted, the kept demand array) */
    int64_t version;     /* flash_store_scan_version when it was read */
    int64_t read_ms;     /* demand expired at this time is left out */
    int64_t next_expiry; /* the earliest expiry of the kept demand; INT64_MAX when none */
    struct flash_config cfg;
    struct flash_seller *sellers;
    size_t n_sellers;
    struct flash_demand *demand;
    size_t n_demand;
    struct flash_grid *grid;
    size_t bytes; /* own heap: struct, arena, grid */
};

struct slot {
    int64_t tenant; /* 0 = free */
    struct snap *snap;
    int64_t windows; /* flash_store_version the counts were read at; 0 = no counts */
    int *counts;     /* per seller of snap (a compaction keeps the sellers) */
    uint64_t used;   /* tick of the last scan, for eviction */
};

struct flash_live {
    pthread_mutex_t mu;
    struct slot slots[FLASH_LIVE_TENANTS];
    uint64_t tick;
    uint64_t hits, loads, compacts;
};

static _Atomic(struct flash_live *) installed;

void flash_live_install(struct flash_live *l)
{
    atomic_store(&installed, l);
}

struct flash_live *flash_live_installed(void)
{
    return atomic_load(&installed);
}

static struct snap *snap_ref(struct snap *s)
{
    atomic_fetch_add(&s->refs, 1);
    return s;
}

static void snap_release(void *p)
{
    struct snap *s = p;
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    flash_grid_free(s->grid);
    arena_release(&s->arena);
    snap_release(s->base);
    free(s);
}

static struct snap *snap_new(int64_t version, int64_t read_ms)
{
    struct snap *s = xcalloc(1, sizeof(*s));
    atomic_init(&s->refs, 1);
    arena_init(&s->arena);
    s->version = version;
    s->read_ms = read_ms;
    return s;
}

/* The grid, the earliest expiry and the size, once the rows are in. */
static void snap_finish(struct snap *s)
{
    s->next_expiry = INT64_MAX;
    for (size_t i = 0; i < s->n_demand; i++) {
        if (s->demand[i].expires_at < s->next_expiry)
            s->next_expiry = s->demand[i].expires_at;
    }
    /* the cell size flash_scan gives its own grid (engine.c, CELL_PER_RADIUS) */
    if (s->n_demand)
        s->grid = flash_grid_new(s->demand, s->n_demand, s->cfg.radius_m * 0.5);
    s->bytes = sizeof(*s) + s->arena.used + flash_grid_bytes(s->grid);
}

/* The snapshot without the demand expired at now_ms (same sellers, same order). */
static struct snap *snap_compact(struct snap *s, int64_t now_ms)
{
    struct snap *k = snap_new(s->version, now_ms);
    k->base = snap_ref(s->base ? s->base : s);
    k->cfg = s->cfg;
    k->sellers = s->sellers;
    k->n_sellers = s->n_sellers;
    k->demand = arena_alloc(&k->arena, (s->n_demand ? s->n_demand : 1) * sizeof(*k->demand));
    for (size_t i = 0; i < s->n_demand; i++) {
        if (s->demand[i].expires_at > now_ms)
            k->demand[k->n_demand++] = s->demand[i];
    }
    snap_finish(k);
    return k;
}

struct flash_live *flash_live_new(void)
{
    struct flash_live *l = xcalloc(1, sizeof(*l));
    pthread_mutex_init(&l->mu, NULL);
    return l;
}

static void slot_clear(struct slot *sl)
{
    snap_release(sl->snap);
    free(sl->counts);
    memset(sl, 0, sizeof(*sl));
}

void flash_live_free(struct flash_live *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < FLASH_LIVE_TENANTS; i++)
        slot_clear(&l->slots[i]);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static struct slot *slot_find(struct flash_live *l, int64_t tenant)
{
    for (size_t i = 0; i < FLASH_LIVE_TENANTS; i++) {
        if (l->slots[i].tenant == tenant)
            return &l->slots[i];
    }
    return NULL;
}

/* The tenant's slot, else a free one, else the least recently used one (emptied). */
static struct slot *slot_take(struct flash_live *l, int64_t tenant)
{
    struct slot *sl = slot_find(l, tenant);
    if (sl)
        return sl;
    struct slot *old = &l->slots[0];
    for (size_t i = 0; i < FLASH_LIVE_TENANTS; i++) {
        if (!l->slots[i].tenant) {
            old = &l->slots[i];
            break;
        }
        if (l->slots[i].used < old->used)
            old = &l->slots[i];
    }
    slot_clear(old);
    old->tenant = tenant;
    return old;
}

static int read_counts(struct db_conn *c, int64_t tenant, const struct flash_seller *sellers,
                       size_t n, struct arena *a, int **out, struct err *e)
{
    int *counts = arena_alloc(a, (n + 1) * sizeof(*counts));
    memset(counts, 0, (n + 1) * sizeof(*counts));
    *out = counts;
    if (!n)
        return 0;
    int64_t *pks = arena_alloc(a, n * sizeof(*pks));
    for (size_t i = 0; i < n; i++)
        pks[i] = sellers[i].pk;
    return flash_store_precommit_counts(c, tenant, pks, n, counts, e);
}

int flash_live_read(struct db_conn *c, int64_t tenant, int64_t now_ms, struct arena *a,
                    struct flash_live_inputs *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    int rc = flash_store_config_get(c, tenant, &out->cfg, e);
    if (!rc)
        rc = flash_store_seller_all(c, tenant, a, &out->sellers, &out->n_sellers, e);
    if (!rc)
        rc = flash_store_demand_active(c, tenant, now_ms, a, &out->demand, &out->n_demand, e);
    if (!rc)
        rc = read_counts(c, tenant, out->sellers, out->n_sellers, a, &out->precommits, e);
    return rc;
}

/* Read the tenant into a new snapshot labelled `version`. */
static int snap_read(struct db_conn *c, int64_t tenant, int64_t version, int64_t now_ms,
                     struct snap **out, struct err *e)
{
    struct snap *s = snap_new(version, now_ms);
    int rc = flash_store_config_get(c, tenant, &s->cfg, e);
    if (!rc)
        rc = flash_store_seller_all(c, tenant, &s->arena, &s->sellers, &s->n_sellers, e);
    if (!rc)
        rc = flash_store_demand_active(c, tenant, now_ms, &s->arena, &s->demand, &s->n_demand, e);
    if (rc) {
        snap_release(s);
        return rc;
    }
    snap_finish(s);
    *out = s;
    return 0;
}

/*
 * The current snapshot of the tenant (a reference for the caller): the slot's when its label is
 * `version` and it was read no later than now_ms, compacted when demand expired since; else
 * read. *counts gets a copy of the slot's counts in `a` when they are labelled `windows`.
 */
static int snap_get(struct flash_live *l, struct db_conn *c, int64_t tenant, int64_t version,
                    int64_t windows, int64_t now_ms, bool keep, struct arena *a, struct snap **out,
                    int **counts, bool *hit, struct err *e)
{
    struct snap *s = NULL;
    *counts = NULL;
    pthread_mutex_lock(&l->mu);
    struct slot *sl = slot_find(l, tenant);
    if (sl && sl->snap && version && sl->snap->version == version && now_ms >= sl->snap->read_ms) {
        s = snap_ref(sl->snap);
        sl->used = ++l->tick;
        l->hits++;
        if (windows && sl->windows == windows && sl->counts) {
            *counts = arena_alloc(a, (s->n_sellers + 1) * sizeof(**counts));
            memcpy(*counts, sl->counts, (s->n_sellers + 1) * sizeof(**counts));
        }
    }
    pthread_mutex_unlock(&l->mu);
    *hit = s != NULL;
    if (s && now_ms >= s->next_expiry) {
        struct snap *k = snap_compact(s, now_ms);
        pthread_mutex_lock(&l->mu);
        l->compacts++;
        sl = slot_find(l, tenant);
        if (sl && sl->snap == s) {
            sl->snap = snap_ref(k);
            snap_release(s); /* the slot's reference */
        }
        pthread_mutex_unlock(&l->mu);
        snap_release(s);
        s = k;
    }
    if (!s) {
        int rc = snap_read(c, tenant, version, now_ms, &s, e);
        if (rc)
            return rc;
        pthread_mutex_lock(&l->mu);
        l->loads++;
        if (keep && version) {
            sl = slot_take(l, tenant);
            snap_release(sl->snap);
            free(sl->counts);
            sl->counts = NULL;
            sl->windows = 0;
            sl->snap = snap_ref(s);
            sl->used = ++l->tick;
        }
        pthread_mutex_unlock(&l->mu);
    }
    *out = s;
    return 0;
}

/* Keep counts read at `windows` for the sellers of `s`, when the slot still holds them. */
static void counts_keep(struct flash_live *l, int64_t tenant, const struct snap *s, int64_t windows,
                        const int *counts)
{
    pthread_mutex_lock(&l->mu);
    struct slot *sl = slot_find(l, tenant);
    if (sl && sl->snap && sl->snap->sellers == s->sellers) {
        free(sl->counts);
        sl->counts = xmalloc((s->n_sellers + 1) * sizeof(*sl->counts));
        memcpy(sl->counts, counts, (s->n_sellers + 1) * sizeof(*sl->counts));
        sl->windows = windows;
    }
    pthread_mutex_unlock(&l->mu);
}

int flash_live_get(struct flash_live *l, struct db_conn *c, int64_t tenant, int64_t now_ms,
                   struct arena *a, struct flash_live_inputs *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    /* the versions before the rows: a snapshot is never older than its label */
    int64_t version, windows;
    int rc = flash_store_scan_version(c, tenant, &version, &windows, e);
    if (rc)
        return rc;
    /* a transaction's reads may include its own uncommitted writes: use, never keep */
    bool keep = !db_in_transaction(c);
    struct snap *s;
    int *counts;
    bool hit;
    rc = snap_get(l, c, tenant, version, windows, now_ms, keep, a, &s, &counts, &hit, e);
    if (rc)
        return rc;
    arena_defer(a, snap_release, s);
    if (!counts) {
        rc = read_counts(c, tenant, s->sellers, s->n_sellers, a, &counts, e);
        if (rc)
            return rc;
        if (keep && windows)
            counts_keep(l, tenant, s, windows, counts);
    }
    out->cfg = s->cfg;
    out->sellers = s->sellers;
    out->n_sellers = s->n_sellers;
    out->demand = s->demand;
    out->n_demand = s->n_demand;
    out->precommits = counts;
    out->grid = s->grid;
    out->from_memory = hit;
    return 0;
}

void flash_live_stats(struct flash_live *l, struct flash_live_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < FLASH_LIVE_TENANTS; i++) {
        const struct snap *s = l->slots[i].snap;
        if (!s)
            continue;
        out->tenants++;
        out->demand += s->n_demand;
        out->sellers += s->n_sellers;
        out->bytes += s->bytes + (s->base ? s->base->bytes : 0) +
                      (l->slots[i].counts ? (s->n_sellers + 1) * sizeof(int) : 0);
    }
    out->hits = l->hits;
    out->loads = l->loads;
    out->compacts = l->compacts;
    pthread_mutex_unlock(&l->mu);
}
