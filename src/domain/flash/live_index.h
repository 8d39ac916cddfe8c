/* SPDX-License-Identifier: MIT */
/*
 * The live index: what a scan reads, kept in memory per tenant so a scan over an unchanged
 * tenant reads one row (its versions) instead of every seller, buyer and demand.
 *
 * Per tenant it keeps a snapshot: the flash configuration, every seller, the demand that was
 * active when it was read (joined with its buyer and consent, as flash_store_demand_active
 * gives it) and the demand grid (engine.h) over it; beside the snapshot, the sellers' pre-commit
 * counts. A snapshot is labelled with the tenant's scan version (flash_store_scan_version), which
 * triggers move in the writing transaction of any change to sellers, buyers, demand, contacts or
 * the configuration, from any process on the database; the counts are labelled with the window
 * version. A scan whose versions equal the labels reads nothing else; demand that expired since
 * is dropped in memory (a new, smaller snapshot sharing the old one's rows). Any other change
 * reads the tenant again, once, and later scans share the result.
 *
 * Freshness: the versions are read before the rows, so a snapshot is never older than its
 * label. A scan inside a transaction uses a current snapshot but never stores what it read
 * (the read may include the transaction's own uncommitted writes).
 *
 * Memory: sellers and demand as the store reads them (strings included) plus the grid; see
 * flash_live_stats and the README for the measured cost per buyer. At most FLASH_LIVE_TENANTS
 * tenants are kept; the least recently scanned one is dropped first.
 *
 * Thread-safe. Snapshots are shared read-only; a scan holds its snapshot until its arena is
 * released. Tests: tests/unit/domain/test_live_index.c; speed: bench/bench_scan.c.
 */
#ifndef ICESHOP_DOMAIN_FLASH_LIVE_INDEX_H
#define ICESHOP_DOMAIN_FLASH_LIVE_INDEX_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "domain/flash/engine.h"
#include "domain/flash/flash.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLASH_LIVE_TENANTS 64

/* A scan's inputs. Sellers, demand and grid are shared and read-only (borrowed until `a` ends). */
struct flash_live_inputs {
    struct flash_config cfg;
    struct flash_seller *sellers;
    size_t n_sellers;
    struct flash_demand *demand; /* active at now_ms, by demand id */
    size_t n_demand;
    int *precommits;               /* per seller, in `a` */
    const struct flash_grid *grid; /* over demand, cells of cfg.radius_m / 2; NULL when empty */
    bool from_memory;              /* the rows were not read for this call */
};

struct flash_live;

/* A new, empty index (caller frees with flash_live_free). */
struct flash_live *flash_live_new(void);
/* Drop every snapshot (those held by running scans live until their arenas end) and the index. */
void flash_live_free(struct flash_live *l);

/* The inputs of a scan of `tenant` at now_ms, from memory when they are current (see above). */
int flash_live_get(struct flash_live *l, struct db_conn *c, int64_t tenant, int64_t now_ms,
                   struct arena *a, struct flash_live_inputs *out, struct err *e);

/* The same inputs read from the database alone (no index; grid NULL), in `a`. */
int flash_live_read(struct db_conn *c, int64_t tenant, int64_t now_ms, struct arena *a,
                    struct flash_live_inputs *out, struct err *e);

struct flash_live_stats {
    size_t tenants;    /* kept now */
    size_t demand;     /* demand rows kept, over all tenants */
    size_t sellers;    /* sellers kept */
    size_t bytes;      /* heap held by the snapshots (rows, strings, grids) */
    uint64_t hits;     /* scans answered from memory */
    uint64_t loads;    /* tenants read from the database */
    uint64_t compacts; /* snapshots rebuilt in memory after demand expired */
};
void flash_live_stats(struct flash_live *l, struct flash_live_stats *out);

/*
 * The process's index, used by flash_scan_tenant; NULL (the default) reads the database on every
 * scan. The server installs one at start; pass NULL to remove it (the caller frees it).
 */
void flash_live_install(struct flash_live *l);
struct flash_live *flash_live_installed(void);

#endif
