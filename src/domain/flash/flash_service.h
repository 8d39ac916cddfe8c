/* SPDX-License-Identifier: MIT */
/*
 * Flash windows, the operations: each call is one transaction on the caller's connection that
 * changes the domain, writes the notifications it causes to the outbox and enqueues the jobs
 * that follow (activation at the start, expiry at the end). Used by the HTTP handlers and by the
 * job handlers registered with flash_jobs_register(). Tests: tests/integration/0004-flash.c.
 */
#ifndef ICESHOP_DOMAIN_FLASH_SERVICE_H
#define ICESHOP_DOMAIN_FLASH_SERVICE_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "domain/flash/engine.h"
#include "domain/flash/flash.h"
#include "domain/flash/flash_store.h"

#include <stdbool.h>
#include <stdint.h>

struct job_registry;
struct sched;

/* Job names. Payloads are {"window": pk}; the tenant is the job's. */
#define FLASH_JOB_ACTIVATE "flash.activate"
#define FLASH_JOB_EXPIRE   "flash.expire"
#define FLASH_JOB_REMIND                                                                           \
    "flash.remind"                      /* REMIND_BEFORE_MS before the start, when there is time   \
                                         */
#define FLASH_JOB_SCAN   "flash.scan"   /* periodic: scan + generate for every tenant that is due */
#define FLASH_JOB_REFUND "flash.refund" /* {"prepay": pk}: refund a cancelled window's order */
#define FLASH_JOB_PAY_LINK                                                                         \
    "flash.pay_link" /* {"prepay": pk}: start the hosted payment, send the buyer its link */

/* Register the buyer (insert or update) in one transaction. */
int flash_buyer_register(struct db_conn *c, int64_t tenant, struct flash_buyer *b, int64_t now_ms,
                         struct arena *a, bool *created, struct err *e);
int flash_seller_register(struct db_conn *c, int64_t tenant, struct flash_seller *s, int64_t now_ms,
                          struct arena *a, bool *created, struct err *e);
/*
 * Record a buyer's wish; the buyer is named by public id. *pk gets the signal. Without a caller's
 * transaction it goes through db_group_write() (db.h): concurrent signals share one commit, and
 * this returns 0 only once the commit holding this one succeeded (ERR_NOT_FOUND for an unknown
 * buyer is this signal's own error; the others in its batch still commit).
 */
int flash_buyer_signal(struct db_conn *c, int64_t tenant, const char *buyer_id,
                       struct flash_demand_in *d, int64_t now_ms, int64_t *pk, struct err *e);
int flash_seller_signal(struct db_conn *c, int64_t tenant, const char *seller_id,
                        struct flash_supply_in *s, int64_t now_ms, int64_t *pk, struct err *e);

/* What a seller's signal carried, as sent (seed 000's fields); -1 / NULL / "" = not given. */
struct flash_supply_given {
    int signal_type;     /* enum flash_supply_kind or -1 */
    int density;         /* enum flash_density or -1 */
    int stock;           /* index into flash_stock_names or -1 */
    const char *text;    /* the seller's words, "" when none */
    const char *product; /* "" when none */
    int64_t expires_at;
};
/*
 * The signal a seller meant (pure, no I/O). In order: an explicit signal_type (density needs a
 * density_status); stock_status surplus or promotion; a density_status; else the text,
 * understood as a seller's message (understand/understand.h): idle → idle (density low), busy →
 * density high, surplus → surplus. A confident understanding also fills a missing density and
 * product. Nothing to derive → ERR_INVALID naming "signal_type". Strings of *out point into
 * `g` or `a`. *u (may be NULL) gets what the text was understood as (intent UNDERSTAND_UNKNOWN
 * and confidence 0 without a text), for the caller to show.
 */
int flash_supply_derive(const struct flash_supply_given *g, struct arena *a,
                        struct flash_supply_in *out, struct understanding *u, struct err *e);
/*
 * A buyer's wish given as text alone: the category, product and budget the text names
 * (understood as a buyer's message, when confident), filled in where `d` has none. *u (may be
 * NULL) gets the whole understanding, confident or not. Never fails on text it does not
 * understand.
 */
int flash_demand_understand(struct flash_demand_in *d, struct arena *a, struct understanding *u,
                            struct err *e);

/* A scan's inputs and scores, all in the arena. */
struct flash_scan_result {
    struct flash_config cfg;
    struct flash_seller *sellers;
    size_t n_sellers;
    struct flash_demand *demand;
    size_t n_demand;
    int *precommits;
    struct flash_score *scores; /* ranked */
    size_t n_scores;
};
int flash_scan_tenant(struct db_conn *c, int64_t tenant, int64_t now_ms, struct arena *a,
                      struct flash_scan_result *out, struct err *e);

/* What generate did for one eligible seller. */
struct flash_generated {
    const char *seller_id;
    int64_t window_pk;  /* 0 when skipped */
    const char *status; /* the new window's status, or "skipped" */
    const char *reason; /* why skipped ("already has an open window", "closed", ...) or "" */
    double score;
};
/*
 * Scan, then open a window for every eligible seller without an open one: targets, advantage,
 * timing, status (SCHEDULED with standing approval, else PROPOSED with a question to the
 * seller), offers to the targets of scheduled windows, and the lifecycle jobs. Idempotent: a
 * second call opens nothing new for the same sellers.
 */
int flash_generate(struct db_conn *c, int64_t tenant, int64_t now_ms, struct arena *a,
                   struct flash_generated **out, size_t *n, struct err *e);

/* A caller's choices for one scan or generate; zeroed = the configuration's. */
struct flash_generate_opts {
    bool has_lead;                 /* windows start at now + lead_ms exactly (0 = at once) */
    int64_t lead_ms;               /* 0..FLASH_LEAD_MAX_S seconds */
    int minutes;                   /* window length, 1..FLASH_WINDOW_MAX_MINUTES; 0 → config */
    const char *const *seller_ids; /* only these sellers; NULL → all */
    size_t n_seller_ids;
};
#define FLASH_LEAD_MAX_S (24 * 3600)
/*
 * flash_generate with options (o may be NULL). ERR_NOT_FOUND naming "seller_ids[i]" for a
 * seller that does not exist in the tenant.
 */
int flash_generate_with(struct db_conn *c, int64_t tenant, const struct flash_generate_opts *o,
                        int64_t now_ms, struct arena *a, struct flash_generated **out, size_t *n,
                        struct err *e);
/* flash_scan_tenant restricted to some sellers (ids may be NULL = all); as above for unknown. */
int flash_scan_sellers(struct db_conn *c, int64_t tenant, const char *const *ids, size_t n_ids,
                       int64_t now_ms, struct arena *a, struct flash_scan_result *out,
                       struct err *e);

struct flash_manual {
    const char *seller_id;
    const char *title;       /* "" → generated */
    const char *description; /* "" → generated */
    const char *product;     /* what the offer is about ("latte"); "" = not one thing */
    int discount_percent;    /* 0 = none; must not exceed the seller's maximum */
    int64_t static_price;    /* minor units, 0 = none */
    const char *bundle_info; /* JSON object text or "" */
    int64_t start_ms;        /* 0 → now + lead */
    int64_t end_ms;          /* 0 → start + minutes; else after the start, within a day */
    int minutes;             /* 0 → end_ms - start_ms, or the config's window length */
    int capacity;            /* 0 → the seller's */
    int min_participants;    /* 0 → the config's, at most the number of named buyers; without
                                names flash_min_participants over the matched targets */
    const char **buyer_ids;  /* NULL → buyers with matching demand nearby who can arrive */
    size_t n_buyer_ids;
    int prepay; /* -1 → the config's prepay_default, 0 no, 1 joining places an order */
    /* out: JSON array of warnings for the caller ("[]" when none), in the arena */
    const char *warnings_json;
};
/*
 * An operator's window: SCHEDULED at once, offers sent, jobs enqueued. *pk gets it.
 * Warnings (m->warnings_json): a minimum above the targets or above their expected arrivals
 * (Σ reliability), and named buyers who cannot walk there before the window ends.
 * ERR_INVALID naming "end_time" when the end is not after the start, more than a day after it,
 * or disagrees with `minutes` when both are given; "start_time" when the start is past.
 */
int flash_window_create(struct db_conn *c, int64_t tenant, struct flash_manual *m, int64_t now_ms,
                        struct arena *a, int64_t *pk, struct err *e);

/* Buyer actions, by public buyer id. ERR_CONFLICT when the window's state forbids it. */
int flash_precommit(struct db_conn *c, int64_t tenant, int64_t window_pk, const char *buyer_id,
                    int64_t now_ms, bool *created, struct err *e);
int flash_precommit_cancel(struct db_conn *c, int64_t tenant, int64_t window_pk,
                           const char *buyer_id, int64_t now_ms, struct err *e);
/* Join an ACTIVE window; *code (arena) is the buyer's redemption code. A prepaid window's join
 * that leaves an order to pay is ERR_CONFLICT naming "prepay" (use flash_join_order). */
int flash_join(struct db_conn *c, int64_t tenant, int64_t window_pk, const char *buyer_id,
               int64_t now_ms, struct arena *a, const char **code, bool *created, struct err *e);

/* What a join gave: a code, or (a prepaid window not paid yet) the order to pay. */
struct flash_joined {
    const char *code; /* NULL until the buyer takes part */
    bool created;     /* a participant or an order was made now */
    /* prepaid windows only (order_id NULL otherwise) */
    const char *order_id;
    int64_t amount; /* minor units of `currency` */
    const char *currency;
    const char *prepay_status; /* "pending", "paid", ... */
    int64_t prepay_pk;         /* the flash_prepay row */
};
/*
 * Join a window. An ordinary window: as flash_join. A prepaid window (SCHEDULED or ACTIVE): the
 * first join places a commerce order of the buyer's customer (visit_order.h; source "flash", the
 * external id and campaign a visit's order has) for the discounted price (flash_prepay_price) and
 * links it to the window
 * and the buyer; the buyer takes part only once the order is paid (flash_prepay_paid, an
 * order-paid hook): a pre-commit while SCHEDULED (counted for the minimum and the seller's
 * summary), a participant with a code while ACTIVE. A later join gives the same order back, or
 * the code once paid and ACTIVE.
 */
int flash_join_order(struct db_conn *c, int64_t tenant, int64_t window_pk, const char *buyer_id,
                     int64_t now_ms, struct arena *a, struct flash_joined *out, struct err *e);

/*
 * A buyer's "katıl" on a prepaid window from the chat or the buyer's page: flash_join_order, in
 * one transaction (the caller's, or its own) with a check that the tenant takes hosted payments
 * in the window's currency (payments_hosted_provider: ERR_CONFLICT naming "provider" when it
 * does not, and nothing is placed). With `send_link`, an order still to pay also gets a
 * FLASH_JOB_PAY_LINK job (one at a time per row), which starts the payment after the commit and
 * sends the buyer the page's link (flash_msg_pay); a second "katıl" sends the same link again.
 */
int flash_prepay_join(struct db_conn *c, int64_t tenant, int64_t window_pk, const char *buyer_id,
                      bool send_link, int64_t now_ms, struct arena *a, struct flash_joined *out,
                      struct err *e);

/*
 * The hosted payment page of prepaid row `prepay_pk`'s order (payments_start_hosted under the
 * key "flash-pay-<prepay pk>": one payment per row however often it is asked for). Outside any
 * transaction; the provider is called the first time only. ERR_CONFLICT naming "status" when
 * the row is no longer pending (paid, dropped, refunded).
 */
int flash_prepay_pay_url(struct db *db, int64_t tenant, int64_t prepay_pk, int64_t now_ms,
                         struct arena *a, const char **url, struct err *e);

/*
 * Job FLASH_JOB_PAY_LINK: flash_prepay_pay_url, then the buyer's flash_msg_pay message with the
 * amount and the link, in a transaction of its own, if the row is still pending.
 */
int flash_prepay_send_link(struct db *db, int64_t tenant, int64_t prepay_pk, int64_t now_ms,
                           struct arena *a, struct err *e);

/*
 * What the buyer's page shows of a prepaid window's order: the row of (window, buyer) and the
 * page of its open hosted payment (NULL when none was started, or it is no longer open).
 */
struct flash_prepay_view {
    const char *order_id;
    int64_t amount;
    const char *currency;
    const char *status;  /* the flash_prepay row's */
    const char *pay_url; /* NULL unless pending with an open hosted payment */
};
int flash_prepay_view(struct db_conn *c, int64_t tenant, int64_t window_pk, int64_t buyer_pk,
                      struct arena *a, struct flash_prepay_view *out, bool *found, struct err *e);

/*
 * The price a prepaid window's buyer pays, minor units (pure): a visit's price (visit_price of
 * visit_order.h: static_price, else the middle of the seller's price range less the window's
 * discount); *list the price before the discount. ERR_INVALID naming "prepay" when there is no
 * price to charge (no static_price and a seller without prices).
 */
int flash_prepay_price(const struct flash_window *w, const struct flash_seller *s, int64_t *amount,
                       int64_t *list, struct err *e);

/*
 * An order was paid (in the payment's transaction; flash_jobs_register adds it as an order-paid
 * hook, order_hooks.h): when it is a prepaid window's, the buyer takes part as flash_join_order
 * says; paid after the window closed (cancelled, expired), the payment is refunded instead.
 * Orders of no window are left alone.
 */
int flash_prepay_paid(struct db_conn *c, int64_t tenant, int64_t order_pk, int64_t now_ms,
                      struct err *e);

/*
 * The refund of one paid order of a cancelled prepaid window (job FLASH_JOB_REFUND): the order's
 * succeeded payment refunded in full through payments_refund under the key
 * "flash-refund-<prepay pk>" (so a retry never refunds twice), then the row marked refunded and
 * the buyer told (flash_msg_refunded) in one transaction. A row no longer refunding is left alone.
 */
int flash_prepay_refund(struct db *db, int64_t tenant, int64_t prepay_pk, int64_t now_ms,
                        struct arena *a, struct err *e);
/*
 * The seller confirms a visit with the buyer's code; *buyer_id (arena) gets who it was. The
 * visit is billed to the seller in the same transaction (the ledger, flash_store_fee_add) at the
 * fee of the seller's category as configured at that moment (flash_config_fee: category_fees,
 * else traffic_fee), in the seller's currency.
 */
int flash_redeem(struct db_conn *c, int64_t tenant, int64_t window_pk, const char *code,
                 int64_t now_ms, struct arena *a, const char **buyer_id, struct err *e);

/*
 * As flash_redeem, and the seller may say what the buyer paid: `amount` is decimal text in the
 * window's currency ("45.00"), or NULL. In every redemption the visit also becomes an order of
 * the buyer's customer, in the same transaction (visit_order.h: one person, one customer); in a
 * prepaid window it is the buyer's paid order, which becomes fulfilled (`amount` is ignored);
 * *out gets the buyer's, the customer's and the order's public ids (arena).
 * ERR_INVALID naming "amount" for a malformed or negative amount, before anything is written.
 */
struct flash_redemption {
    const char *buyer_id, *customer_id, *order_id;
};
int flash_redeem_visit(struct db_conn *c, int64_t tenant, int64_t window_pk, const char *code,
                       const char *amount, int64_t now_ms, struct arena *a,
                       struct flash_redemption *out, struct err *e);

/*
 * The seller's statement for one month of the tenant's local time ("2026-12": from the 1st,
 * 00:00 local, to the next month's; NULL or "": the month of now_ms): billed visits per window
 * and the totals per currency. ERR_INVALID naming "month" for anything but YYYY-MM;
 * ERR_NOT_FOUND naming "id" for an unknown seller.
 */
struct flash_statement {
    const char *seller_id;
    char month[8]; /* "2026-12" */
    int64_t from_ms, to_ms;
    struct flash_statement_line *lines; /* by window, oldest first */
    size_t n_lines;
    struct flash_statement_line *totals; /* per currency (window_pk 0, title NULL) */
    size_t n_totals;
};
int flash_seller_statement(struct db_conn *c, int64_t tenant, const char *seller_id,
                           const char *month, int64_t now_ms, struct arena *a,
                           struct flash_statement *out, struct err *e);

/* Seller decisions. */
int flash_seller_approve(struct db_conn *c, int64_t tenant, int64_t window_pk, int64_t now_ms,
                         struct err *e);
int flash_seller_reject(struct db_conn *c, int64_t tenant, int64_t window_pk, int64_t now_ms,
                        struct err *e);
int flash_seller_cancel(struct db_conn *c, int64_t tenant, int64_t window_pk, const char *reason,
                        int64_t now_ms, struct err *e);

/* Lifecycle, run by the jobs (exposed for tests). Safe to run twice. */
int flash_activate(struct db_conn *c, int64_t tenant, int64_t window_pk, int64_t now_ms,
                   struct err *e);
int flash_expire(struct db_conn *c, int64_t tenant, int64_t window_pk, int64_t now_ms,
                 struct err *e);
/* Remind the committed buyers of a SCHEDULED window that it starts soon. */
int flash_remind(struct db_conn *c, int64_t tenant, int64_t window_pk, int64_t now_ms,
                 struct err *e);

/* Register the lifecycle and scan job handlers, and the periodic scan task. */
int flash_jobs_register(struct job_registry *reg, struct err *e);
int flash_jobs_schedule(struct sched *s, struct err *e);

#endif
