/* SPDX-License-Identifier: MIT */
/*
 * Flash windows in the database: buyers, sellers, signal history, windows with their targets,
 * pre-commits, participants and redemptions, and the per-tenant configuration. SQL through
 * db/db.h only; every function is scoped by tenant; callers own transactions (every function
 * works inside or outside one). Strings returned live in the given arena.
 * Tests: tests/unit/domain/test_flash_store.c (SQLite, and PostgreSQL with TEST_PG_DSN).
 */
#ifndef ICESHOP_DOMAIN_FLASH_STORE_H
#define ICESHOP_DOMAIN_FLASH_STORE_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "domain/flash/engine.h"
#include "domain/flash/flash.h"

#include <stdbool.h>
#include <stdint.h>

#define FLASH_LIST_DEFAULT 50
#define FLASH_LIST_MAX     2000

/* ======================== configuration ======================== */

/* The tenant's configuration, or the defaults when it never saved one. */
int flash_store_config_get(struct db_conn *c, int64_t tenant, struct flash_config *out,
                           struct err *e);
/*
 * The same, as this process read it at most FLASH_CONFIG_RECENT_MS ago: for hot paths that only
 * check input against it (a demand signal's category). A change saved through this process is
 * seen at once (from its commit on); one saved by another process within FLASH_CONFIG_RECENT_MS.
 */
#define FLASH_CONFIG_RECENT_MS 1000
int flash_store_config_get_recent(struct db_conn *c, int64_t tenant, struct flash_config *out,
                                  struct err *e);
int flash_store_config_put(struct db_conn *c, int64_t tenant, const struct flash_config *cfg,
                           int64_t now_ms, struct err *e);
/* Tenants whose automatic scan is due (last scan older than their interval); for the scheduler. */
int flash_store_scan_due(struct db_conn *c, int64_t now_ms, struct arena *a, int64_t **tenants,
                         size_t *n, struct err *e);
int flash_store_scan_mark(struct db_conn *c, int64_t tenant, int64_t now_ms, struct err *e);

/* ======================== buyers ======================== */

/*
 * Insert or update. A buyer is found by `b->id` when given, else by `b->phone`; an id and a
 * phone that name two different buyers is ERR_CONFLICT (field "phone"). A new buyer without an
 * id gets "b_<random>". On return b->pk, b->id, created_at are set; *created tells which.
 */
int flash_store_buyer_upsert(struct db_conn *c, int64_t tenant, struct flash_buyer *b,
                             int64_t now_ms, struct arena *a, bool *created, struct err *e);
/* By public id, or by phone when `by_phone`. ERR_NOT_FOUND when absent. */
int flash_store_buyer_get(struct db_conn *c, int64_t tenant, const char *key, bool by_phone,
                          struct arena *a, struct flash_buyer *out, struct err *e);
int flash_store_buyer_get_pk(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                             struct flash_buyer *out, struct err *e);
struct flash_list_filter {
    const char *category; /* buyers: has it; sellers: is it */
    const char *district;
    int64_t after_pk; /* keyset pagination: rows with pk > after_pk, ascending */
    int limit;        /* 0 → FLASH_LIST_DEFAULT; capped at FLASH_LIST_MAX */
};
int flash_store_buyer_list(struct db_conn *c, int64_t tenant, const struct flash_list_filter *f,
                           struct arena *a, struct flash_buyer **rows, size_t *n, struct err *e);
/* Add to a buyer's commitment record (reliability). */
int flash_store_buyer_record(struct db_conn *c, int64_t tenant, int64_t buyer_pk, int commits,
                             int shows, struct err *e);
int flash_store_buyer_set_consent(struct db_conn *c, int64_t tenant, int64_t buyer_pk, bool consent,
                                  int64_t now_ms, struct err *e);

/* ======================== sellers ======================== */

/* As for buyers; a new seller without an id gets "s_<random>". */
int flash_store_seller_upsert(struct db_conn *c, int64_t tenant, struct flash_seller *s,
                              int64_t now_ms, struct arena *a, bool *created, struct err *e);
int flash_store_seller_get(struct db_conn *c, int64_t tenant, const char *key, bool by_phone,
                           struct arena *a, struct flash_seller *out, struct err *e);
int flash_store_seller_get_pk(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                              struct flash_seller *out, struct err *e);
int flash_store_seller_list(struct db_conn *c, int64_t tenant, const struct flash_list_filter *f,
                            struct arena *a, struct flash_seller **rows, size_t *n, struct err *e);
/* Every seller of the tenant, for a scan (no pagination). */
int flash_store_seller_all(struct db_conn *c, int64_t tenant, struct arena *a,
                           struct flash_seller **rows, size_t *n, struct err *e);

/* ======================== signals ======================== */

struct flash_demand_in {
    int64_t buyer_pk;
    const char *text;
    const char *product;  /* "" = unknown */
    const char *category; /* "" = any */
    int64_t budget;       /* minor units, 0 = none */
    const char *currency;
    int64_t expires_at;
};
int flash_store_demand_add(struct db_conn *c, int64_t tenant, const struct flash_demand_in *d,
                           int64_t now_ms, int64_t *pk, struct err *e);
/*
 * The same for the tenant's buyer with public id `buyer_id` (d->buyer_pk is filled): two
 * statements, a primary-key lookup and the insert, for the signal's hot path. ERR_NOT_FOUND
 * naming the field buyer_id when the tenant has no such buyer.
 */
int flash_store_demand_add_for(struct db_conn *c, int64_t tenant, const char *buyer_id,
                               struct flash_demand_in *d, int64_t now_ms, int64_t *pk,
                               struct err *e);
/* Unexpired demand joined with its buyer (location, consent, reliability), for a scan. */
int flash_store_demand_active(struct db_conn *c, int64_t tenant, int64_t now_ms, struct arena *a,
                              struct flash_demand **rows, size_t *n, struct err *e);
/* The buyer's unexpired demand, newest first. */
int flash_store_demand_of_buyer(struct db_conn *c, int64_t tenant, int64_t buyer_pk, int64_t now_ms,
                                struct arena *a, struct flash_demand **rows, size_t *n,
                                struct err *e);

struct flash_supply_in {
    int64_t seller_pk;
    enum flash_supply_kind kind;
    bool has_density; /* a density report: also updates the seller's density_status */
    enum flash_density density;
    const char *text;
    const char *product;
    const char *stock_status; /* one of flash_stock_names, or NULL/"" = unchanged */
    int64_t expires_at;
};
/*
 * Record the signal in history and keep the latest state on the seller: kind and expiry,
 * density when reported, stock_status when given (a surplus signal without one marks it
 * "surplus").
 */
int flash_store_supply_add(struct db_conn *c, int64_t tenant, const struct flash_supply_in *s,
                           int64_t now_ms, int64_t *pk, struct err *e);
/* Busy profile from the seller's density reports since `since_ms` (high 1, medium 0.5, low 0). */
int flash_store_busy_profile(struct db_conn *c, int64_t tenant, int64_t seller_pk, int64_t since_ms,
                             int tz_offset_min, struct flash_busy_profile *out, struct err *e);

/* ======================== windows ======================== */

struct flash_window {
    int64_t pk; /* the public id too */
    int64_t seller_pk;
    const char *seller_id;
    const char *seller_name;
    struct flash_location seller_loc;
    const char *title;
    const char *description;
    const char *product;     /* what it is about ("latte"), "" when not one thing */
    int discount_percent;    /* 0 = none */
    int64_t static_price;    /* minor units, 0 = none */
    const char *bundle_info; /* JSON text or "" */
    const char *currency;
    int64_t start_ms;
    int64_t end_ms;
    enum flash_window_status status;
    int capacity;
    int min_participants;
    double score;
    const char *trace_json;     /* decision trace */
    const char *cancel_reason;  /* "" unless CANCELLED */
    const char *analytics_json; /* "" until EXPIRED */
    const char *origin;         /* "engine" or "manual" */
    int targeted;               /* counts, computed */
    int committed;              /* active pre-commits */
    int joined;
    int redeemed;
    int64_t created_at;
    int64_t updated_at;
    bool prepay; /* joining places an order; the buyer takes part once it is paid */
};

struct flash_window_target {
    int64_t buyer_pk;
    const char *buyer_id;
    double distance_m;
    int discount;
};

/* Insert a window and its targets. w->pk is set. */
int flash_store_window_insert(struct db_conn *c, int64_t tenant, struct flash_window *w,
                              const struct flash_window_target *targets, size_t n_targets,
                              int64_t now_ms, struct err *e);
int flash_store_window_get(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                           struct flash_window *out, struct err *e);
struct flash_window_filter {
    int status;        /* -1 = any */
    int64_t seller_pk; /* 0 = any */
    int64_t buyer_pk;  /* 0 = any; else windows targeting this buyer */
    bool open_only;    /* PROPOSED, SCHEDULED or ACTIVE */
    int64_t after_pk;  /* keyset: pk < after_pk, newest first */
    int limit;
};
int flash_store_window_list(struct db_conn *c, int64_t tenant, const struct flash_window_filter *f,
                            struct arena *a, struct flash_window **rows, size_t *n, struct err *e);
/* The seller's open (PROPOSED/SCHEDULED/ACTIVE) window, 0 when none. */
int flash_store_window_open_of_seller(struct db_conn *c, int64_t tenant, int64_t seller_pk,
                                      int64_t *pk, struct err *e);
/*
 * Guarded transition: only from a status in `from_mask` (bit per enum value). *changed tells
 * whether it happened. `reason` is kept for CANCELLED ("" otherwise).
 */
int flash_store_window_transition(struct db_conn *c, int64_t tenant, int64_t pk, unsigned from_mask,
                                  enum flash_window_status to, const char *reason, int64_t now_ms,
                                  bool *changed, struct err *e);
int flash_store_window_set_analytics(struct db_conn *c, int64_t tenant, int64_t pk,
                                     const char *json, struct err *e);
int flash_store_window_targets(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                               struct flash_window_target **rows, size_t *n, struct err *e);
/* Whether the buyer is one of the window's targets; *discount gets their advantage. */
int flash_store_window_target_of(struct db_conn *c, int64_t tenant, int64_t pk, int64_t buyer_pk,
                                 bool *is_target, int *discount, struct err *e);
/* Active pre-commits on each seller's open windows: parallel to `seller_pks`. */
int flash_store_precommit_counts(struct db_conn *c, int64_t tenant, const int64_t *seller_pks,
                                 size_t n, int *counts, struct err *e);
/* The buyer's latest open window offer (targeted, not cancelled by them), 0 when none. */
int flash_store_latest_offer(struct db_conn *c, int64_t tenant, int64_t buyer_pk,
                             int64_t *window_pk, struct err *e);
/* A LIKE pattern for the trace of a window opened on the seller's own call for customers. */
#define FLASH_TRACE_ON_SIGNAL "%\"approval\":\"signal\"%"
/* Whether the engine opened the window on the seller's own call for customers ("signal"). */
bool flash_window_on_signal(const struct flash_window *w);
/*
 * The seller's latest window waiting for their word, 0 when none: PROPOSED, or SCHEDULED on
 * the seller's own call for customers, which they may still decline before it starts.
 */
int flash_store_latest_proposal(struct db_conn *c, int64_t tenant, int64_t seller_pk,
                                int64_t *window_pk, struct err *e);

/*
 * Respect for sellers: *asked gets the engine's questions to the seller (windows drafted
 * ask-first) created since since_ms. A decline is "unanswered" while the seller has not
 * reported idle capacity (an idle, surplus or promotion signal, or density low) after it:
 * *unanswered is true when any decline is, *cooling when one at or after declined_since_ms is.
 */
int flash_store_seller_respect(struct db_conn *c, int64_t tenant, int64_t seller_pk,
                               int64_t since_ms, int64_t declined_since_ms, int *asked,
                               bool *cooling, bool *unanswered, struct err *e);
/* Whether the buyer is a target of an open window overlapping [start_ms, end_ms). */
int flash_store_buyer_overlaps(struct db_conn *c, int64_t tenant, int64_t buyer_pk,
                               int64_t start_ms, int64_t end_ms, bool *overlaps, struct err *e);

/* ======================== pre-commits, participants, redemption ======================== */

/* Idempotent: *created false when the buyer had already committed (an active pre-commit). */
int flash_store_precommit_add(struct db_conn *c, int64_t tenant, int64_t window_pk,
                              int64_t buyer_pk, int64_t now_ms, bool *created, struct err *e);
int flash_store_precommit_cancel(struct db_conn *c, int64_t tenant, int64_t window_pk,
                                 int64_t buyer_pk, int64_t now_ms, bool *changed, struct err *e);
/* Buyers with an active pre-commit on the window. */
int flash_store_precommit_buyers(struct db_conn *c, int64_t tenant, int64_t window_pk,
                                 struct arena *a, int64_t **buyer_pks, size_t *n, struct err *e);

/*
 * Record the buyer as a participant with redemption `code` (unique within the window).
 * Idempotent: when already joined, *code_out is their existing code and *created false.
 */
/*
 * Prepaid windows (migration 0039): the order of one buyer in one window. Status "pending",
 * "paid", "refunding", "refunded" or "dropped" (the window was cancelled before it was paid).
 */
struct flash_prepay {
    int64_t pk, window_pk, buyer_pk; /* buyer_pk 0 once the buyer was erased */
    int64_t order_pk;
    const char *order_id; /* the order's public id */
    int64_t amount;       /* minor units */
    const char *currency;
    const char *status;
};
int flash_store_prepay_insert(struct db_conn *c, int64_t tenant, struct flash_prepay *p,
                              int64_t now_ms, struct err *e);
/* The row of (window, buyer), or of the order; *found false when none (not an error). */
int flash_store_prepay_of_buyer(struct db_conn *c, int64_t tenant, int64_t window_pk,
                                int64_t buyer_pk, struct arena *a, struct flash_prepay *out,
                                bool *found, struct err *e);
int flash_store_prepay_of_order(struct db_conn *c, int64_t tenant, int64_t order_pk,
                                struct arena *a, struct flash_prepay *out, bool *found,
                                struct err *e);
int flash_store_prepay_get(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                           struct flash_prepay *out, bool *found, struct err *e);
/* The window's rows in `status`, oldest first. */
int flash_store_prepay_list(struct db_conn *c, int64_t tenant, int64_t window_pk,
                            const char *status, struct arena *a, struct flash_prepay **rows,
                            size_t *n, struct err *e);
/* Move a row from `from` to `to`; *changed false when it was not in `from`. */
int flash_store_prepay_set_status(struct db_conn *c, int64_t tenant, int64_t pk, const char *from,
                                  const char *to, int64_t now_ms, bool *changed, struct err *e);

int flash_store_join(struct db_conn *c, int64_t tenant, int64_t window_pk, int64_t buyer_pk,
                     const char *code, int64_t now_ms, struct arena *a, const char **code_out,
                     bool *created, struct err *e);
/*
 * Redeem `code` on the window: ERR_NOT_FOUND (field "code") when no participant has it,
 * ERR_CONFLICT when it was already redeemed. *buyer_pk gets the participant.
 */
int flash_store_redeem(struct db_conn *c, int64_t tenant, int64_t window_pk, const char *code,
                       int64_t now_ms, int64_t *buyer_pk, struct err *e);

/* ======================== the seller's ledger ======================== */

/*
 * Bill one redeemed visit: `fee` minor units of `currency` (0 allowed: the visit is still
 * counted), idempotent on (window, code). Joins the caller's transaction.
 */
int flash_store_fee_add(struct db_conn *c, int64_t tenant, int64_t seller_pk, int64_t window_pk,
                        int64_t buyer_pk, const char *code, const char *category, int64_t fee,
                        const char *currency, int64_t at_ms, struct err *e);
/* One line of a statement: a window's billed visits in one currency. */
struct flash_statement_line {
    int64_t window_pk;
    const char *title;
    const char *currency;
    int64_t visits;
    int64_t fees; /* minor units */
};
/* The seller's billed visits with visited_at in [from_ms, to_ms), by window, oldest first. */
int flash_store_statement(struct db_conn *c, int64_t tenant, int64_t seller_pk, int64_t from_ms,
                          int64_t to_ms, struct arena *a, struct flash_statement_line **lines,
                          size_t *n, struct err *e);
/*
 * Where a buyer stands with a window: *committed (an active pre-commit), *code (their
 * redemption code from the arena, "" when they have not joined) and *redeemed.
 */
int flash_store_buyer_state(struct db_conn *c, int64_t tenant, int64_t window_pk, int64_t buyer_pk,
                            struct arena *a, bool *committed, const char **code, bool *redeemed,
                            struct err *e);

/*
 * The tenant's window version: it changes (in the writing transaction, by triggers of
 * 0019_flash_version.sql) whenever a window, its targets, pre-commits, participants or its
 * seller change, so two equal reads mean the window lists are unchanged. 0 before any window.
 * A value is never given twice, across resets and deleted tenants (0021: one shared sequence).
 */
int flash_store_version(struct db_conn *c, int64_t tenant, int64_t *version, struct err *e);
/*
 * What a scan reads, versioned: *scan moves (0036_flash_scan_version.sql) whenever a seller, buyer,
 * demand, contact or the configuration of the tenant changes; *windows is flash_store_version.
 * Both never come back to a value they had; 0 = no change recorded yet (or the tenant was reset).
 */
int flash_store_scan_version(struct db_conn *c, int64_t tenant, int64_t *scan, int64_t *windows,
                             struct err *e);

/* Offers sent to the buyer since `since_ms` (targets of windows created since), for caps. */
int flash_store_offers_since(struct db_conn *c, int64_t tenant, int64_t buyer_pk, int64_t since_ms,
                             int *count, struct err *e);

#endif
