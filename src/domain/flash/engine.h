/* SPDX-License-Identifier: MIT */
/*
 * The flash engine's rules, pure: no I/O, no clock reads (callers pass `now`). Distance and the
 * spatial grid, distance tiers, the five-component score, target selection, start-time choice,
 * opening hours, and the window draft with its decision trace.
 * Tests: tests/unit/domain/test_flash_engine.c; speed: bench/bench_flash.c (`make bench`).
 *
 * Scoring, exactly (each component in 0..1; total = Σ w_i·c_i / Σ w_i):
 *   nearby   = buyers with an unexpired demand within cfg.radius_m of the seller (any category)
 *   matching = of those, buyers with a demand whose category is "" or the seller's category
 *   demand    = min(1, matching / cfg.demand_target)
 *   density   = 1.0 when an idle/surplus/promotion supply signal is active, else
 *               low 1.0, medium 0.5, high 0.0
 *   precommit = min(1, precommits / cfg.min_participants)
 *   category  = matching / nearby (0 when nearby = 0)
 *   distance  = mean over matching buyers of (1 − d / radius)   (0 when matching = 0)
 * A seller with matching = 0 never opens a window, whatever its score.
 *
 * Arrival, exactly: walk_min(d) = d · cfg.walk_detour / cfg.walk_m_per_min (defaults 1.3 and
 * 80 m/min, so 875 m is a 14-minute walk). A buyer is a target only when walk_min(d) ≤ lead +
 * window length (they can reach the seller before the window closes); a draft then starts no
 * earlier than now + the longest target walk, so every target can be there at the start.
 * Minimum, exactly: expected = Σ reliability of the targets; min_participants =
 * clamp(floor(expected), 1, cfg.min_participants).
 */
#ifndef ICESHOP_DOMAIN_FLASH_ENGINE_H
#define ICESHOP_DOMAIN_FLASH_ENGINE_H

#include "core/arena.h"
#include "core/err.h"
#include "domain/flash/flash.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Great-circle distance in metres (haversine, mean Earth radius 6371008.8 m). */
double flash_haversine_m(double lat1, double lng1, double lat2, double lng2);

/*
 * Spatial index over demand points: a uniform lat/lng grid whose cells are about `cell_m`
 * wide, so a radius query visits only nearby cells. Built once per scan; read-only after.
 * Holds indexes into the caller's demand array (which must outlive the grid).
 */
struct flash_grid;
struct flash_grid *flash_grid_new(const struct flash_demand *demand, size_t n, double cell_m);
void flash_grid_free(struct flash_grid *g);
/* Heap bytes the grid holds (its own arrays, not the demand it indexes). */
size_t flash_grid_bytes(const struct flash_grid *g);
/* Call fn for each demand within radius_m of (lat, lng); returns how many matched. */
typedef void flash_grid_fn(void *ctx, size_t demand_idx, double distance_m);
size_t flash_grid_query(const struct flash_grid *g, double lat, double lng, double radius_m,
                        flash_grid_fn *fn, void *ctx);

/* Minutes to walk `distance_m` (straight line) at the configured speed and detour. */
double flash_walk_minutes(const struct flash_config *c, double distance_m);
/* Whether a buyer `distance_m` away reaches a window starting in lead_ms before it ends. */
bool flash_can_arrive(const struct flash_config *c, double distance_m, int64_t lead_ms,
                      int window_minutes);
/*
 * Whether a seller of `category` sells `product` (a lemma such as "latte"): the product's
 * category in the understanding vocabulary is the seller's. "" fits nobody; a product the
 * vocabulary does not know fits only when it is one of `own` (the seller's own products,
 * NULL-terminated, may be NULL).
 */
bool flash_product_fits(const char *product, const char *category, const char *const *own);
/*
 * A draft asked to start sooner than this (has_lead, lead_ms below it) leaves no time to gather
 * pre-commits: it has no minimum (0), and buyers join while it runs, as in the seed's flow.
 */
#define FLASH_PRECOMMIT_MIN_LEAD_MS (120 * 1000LL)
/* The engine's minimum for targets of these reliabilities (see the header comment). */
int flash_min_participants(const struct flash_config *c, const double *reliability, size_t n,
                           double *expected);

/* Discount of the first tier with distance < max_m, capped at seller_max; 0 beyond all tiers. */
int flash_tier_discount(const struct flash_config *c, double distance_m, int seller_max);

struct flash_scan_input {
    const struct flash_config *cfg;
    const struct flash_seller *sellers;
    size_t n_sellers;
    const struct flash_demand *demand; /* active (unexpired) demand; several per buyer allowed */
    size_t n_demand;
    const int *precommits; /* per seller (same index), may be NULL */
    int64_t now_ms;
    /*
     * Optional index over `demand` (flash_grid_new, borrowed). NULL: flash_scan builds its own
     * and flash_targets scans linearly. Pass one when drafting many windows from one scan.
     */
    const struct flash_grid *grid;
    /*
     * Optional timing for drafts (flash_draft_window): has_lead starts windows exactly at
     * now + lead_ms (no move to a quieter slot: the caller chose); window_minutes 0 → cfg's.
     */
    bool has_lead;
    int64_t lead_ms;
    int window_minutes;
    /*
     * Optional: the caller gave every target the same discount itself (the learning policy);
     * this is the trace's reason for it. NULL: the distance tiers' reasoning.
     */
    const char *discount_why;
    /*
     * Optional: the seller (ask-first) asked for traffic themselves — an active idle, surplus or
     * promotion signal, or density low, and no "no" to a window since (the caller checks that
     * against the store). The draft is then SCHEDULED, "approval":"signal". Set per seller.
     */
    bool seller_invited;
};

/*
 * Whether the seller's latest supply signal, still active at now_ms, asks for traffic: idle,
 * surplus stock, a promotion, or a density report of low. A "busy" or medium report does not.
 */
bool flash_seller_asked_for_traffic(const struct flash_seller *s, int64_t now_ms);

struct flash_score {
    size_t seller_idx;
    double total; /* weighted, 0..1 */
    double components[FLASH_N_COMPONENTS];
    int nearby;             /* distinct buyers */
    int matching;           /* distinct buyers */
    double mean_distance_m; /* over matching buyers, 0 when none */
    int precommits;
    bool eligible; /* total >= threshold and matching > 0 */
};

/*
 * Score every seller. *out (from `a`) is ranked by total, highest first (ties by seller
 * index). Uses a grid when n_demand is large. ERR_INVALID for a bad config.
 */
int flash_scan(const struct flash_scan_input *in, struct arena *a, struct flash_score **out,
               size_t *n, struct err *e);

struct flash_target {
    size_t demand_idx; /* the buyer's closest matching demand */
    int64_t buyer_pk;
    double distance_m;
    int discount; /* tier discount, capped by the seller's max */
};

/*
 * The buyers a window for seller `seller_idx` should target: distinct buyers with matching
 * demand within the radius who consented and can arrive (flash_can_arrive with the input's
 * lead and length, or the configuration's), closest first, at most `limit` (0 = all).
 */
int flash_targets(const struct flash_scan_input *in, size_t seller_idx, size_t limit,
                  struct arena *a, struct flash_target **out, size_t *n, struct err *e);

/* Average busyness of the seller per hour of the week (0 = Monday 00:00 local), 0..1. */
struct flash_busy_profile {
    float busy[168];
    int samples[168]; /* density reports seen per hour; an hour with none counts as quiet */
};

/*
 * Start time: now + lead. When that hour is busy (busy >= 0.6 over at least 2 samples), try
 * 10-minute steps up to 60 minutes later and take the first quiet one (busy < 0.5); when none
 * is quiet keep the default. `tz_offset_min` maps UTC to the tenant's local time (Istanbul:
 * 180). `why` (may be NULL, size why_len) explains the choice for the trace.
 */
int64_t flash_plan_start(const struct flash_config *c, const struct flash_busy_profile *p,
                         int64_t now_ms, int tz_offset_min, char *why, size_t why_len);

/*
 * Whether the seller is open for the whole of [start, end). opening_hours is "" (always) or
 * "HH:MM-HH:MM" in local time, the same every day (an end before the start spans midnight).
 */
bool flash_seller_open(const struct flash_seller *s, int64_t start_ms, int64_t end_ms,
                       int tz_offset_min);

struct flash_draft {
    char title[160];       /* Turkish, e.g. "M Coffee: latte %20 indirim" */
    char description[400]; /* Turkish */
    int discount_percent;  /* the largest target discount (≤ seller max) */
    int64_t start_ms;
    int64_t end_ms;
    int capacity;
    int min_participants;            /* flash_min_participants over the targets */
    double expected;                 /* expected arrivals: Σ reliability of the targets */
    enum flash_window_status status; /* SCHEDULED (standing approval, or invited) or PROPOSED */
    char *trace_json;                /* decision trace, allocated from the arena */
};

/*
 * Draft a window for a scored seller and its targets: advantage, timing, status, and the trace
 * {"score":{"total","threshold","weights":{...},"components":{...}},"counts":{...},
 *  "targets":[{"buyer_id","distance_m","walk_min","discount","why"}],"discount":{"why"},
 *  "timing":{"start","end","why"},"minimum":{"expected","min","why"},
 *  "approval":"standing|signal|ask-first","approval_why"}. "signal": an ask-first seller who
 *  asked for traffic (in->seller_invited) is not asked again.
 * Without has_lead the start is the later of flash_plan_start and now + the longest target walk
 * (rounded up to a minute). `product` is the most wanted product among the targets that the
 * seller sells ("" when none).
 */
int flash_draft_window(const struct flash_scan_input *in, const struct flash_score *score,
                       const struct flash_target *targets, size_t n_targets, const char *product,
                       const struct flash_busy_profile *busy, int tz_offset_min, struct arena *a,
                       struct flash_draft *out, struct err *e);

#endif
