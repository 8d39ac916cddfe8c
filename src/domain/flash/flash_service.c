/* SPDX-License-Identifier: MIT */
/*
 * Flash window operations (see flash_service.h): one transaction each, with their outbox
 * messages and lifecycle jobs. Rules come from engine.c, rows from flash_store.c; nothing here
 * reads the clock (callers pass `now`) or knows the database backend.
 * Tests: tests/unit/domain/test_flash_service.c, tests/integration/0004-flash.c, 0010-seed-flow.c.
 */
#include "domain/flash/flash_service.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/money.h"
#include "core/str.h"
#include "domain/flash/flash_messages.h"
#include "domain/flash/flash_webhooks.h"
#include "domain/flash/learning.h"
#include "domain/flash/live_index.h"
#include "domain/understand/understand.h"
#include "domain/flash/links.h"
#include "domain/commerce/commerce_store.h"
#include "domain/flash/visit_order.h"
#include "domain/notify/outbox.h"
#include "domain/payments/payments_service.h"
#include "jobs/queue.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS        60000LL
#define DAY_MS           (24 * 60 * MINUTE_MS)
#define BUSY_HISTORY_MS  (28 * DAY_MS)    /* density reports that shape the start time */
#define LINK_GRACE_MS    (60 * MINUTE_MS) /* links work this long after the window ends */
#define REMIND_BEFORE_MS (2 * MINUTE_MS)  /* reminders go out this long before the start */

/* ======================== transactions ======================== */

/* ======================== helpers ======================== */

static void local_hhmm(int64_t ms, int tz_offset_min, char out[6])
{
    int64_t local = ms / 1000 + (int64_t)tz_offset_min * 60;
    int64_t sod = ((local % 86400) + 86400) % 86400;
    snprintf(out, 6, "%02d:%02d", (int)(sod / 3600), (int)(sod / 60 % 60));
}

static int window_payload(char *out, size_t n, int64_t pk)
{
    return snprintf(out, n, "{\"window\":%lld}", (long long)pk);
}

/* Enqueue activation at the start and expiry at the end, once each. */
static int enqueue_lifecycle(struct db_conn *c, int64_t tenant, const struct flash_window *w,
                             int64_t now_ms, struct err *e)
{
    char payload[64], key[64];
    window_payload(payload, sizeof(payload), w->pk);
    snprintf(key, sizeof(key), "flash.activate:%lld", (long long)w->pk);
    struct job_spec act = {.name = FLASH_JOB_ACTIVATE,
                           .payload_json = payload,
                           .tenant_id = tenant,
                           .run_at_ms = w->start_ms,
                           .unique_key = key,
                           .max_attempts = 10};
    int64_t id;
    bool dedup;
    int rc = jobs_enqueue(c, &act, now_ms, &id, &dedup, e);
    if (rc)
        return rc;
    snprintf(key, sizeof(key), "flash.expire:%lld", (long long)w->pk);
    struct job_spec exp = act;
    exp.name = FLASH_JOB_EXPIRE;
    exp.run_at_ms = w->end_ms;
    exp.unique_key = key;
    rc = jobs_enqueue(c, &exp, now_ms, &id, &dedup, e);
    /* A reminder only makes sense when the start is not already upon us. */
    if (rc || w->start_ms - now_ms <= 2 * REMIND_BEFORE_MS)
        return rc;
    snprintf(key, sizeof(key), "flash.remind:%lld", (long long)w->pk);
    struct job_spec rem = act;
    rem.name = FLASH_JOB_REMIND;
    rem.run_at_ms = w->start_ms - REMIND_BEFORE_MS;
    rem.unique_key = key;
    return jobs_enqueue(c, &rem, now_ms, &id, &dedup, e);
}

static void vars_for_window(struct flash_msg_vars *v, const struct flash_window *w, int tz,
                            char start[6], char end[6])
{
    memset(v, 0, sizeof(*v));
    local_hhmm(w->start_ms, tz, start);
    local_hhmm(w->end_ms, tz, end);
    v->seller_name = w->seller_name;
    /* messages name the seller and the discount themselves: the title would repeat them */
    v->product = w->product && *w->product ? w->product : NULL;
    v->title = v->product;
    v->discount = w->discount_percent;
    v->minutes = (int)((w->end_ms - w->start_ms) / MINUTE_MS);
    v->start_hhmm = start;
    v->end_hhmm = end;
}

/* The buyer's or seller's page for the window, when links are configured. */
static const char *window_link(int64_t tenant, const struct flash_window *w, int64_t buyer_pk,
                               struct arena *a)
{
    struct flash_link l = {.kind = buyer_pk ? FLASH_LINK_BUYER : FLASH_LINK_SELLER,
                           .tenant = tenant,
                           .window = w->pk,
                           .buyer_pk = buyer_pk};
    return flash_link_url(&l, w->end_ms + LINK_GRACE_MS, a);
}

static int notify_buyer(struct db_conn *c, int64_t tenant, const struct flash_buyer *b,
                        const struct notify_kind *kind, const struct flash_window *w,
                        struct flash_msg_vars *v, int64_t now_ms, struct err *e)
{
    struct notify_message m;
    memset(&m, 0, sizeof(m));
    m.recipient_kind = "buyer";
    m.recipient_pk = b->pk;
    m.recipient_id = b->id;
    m.phone = b->phone;
    m.language = b->language && *b->language ? b->language : "tr";
    m.about_kind = FLASH_ABOUT_WINDOW;
    m.about_pk = w ? w->pk : 0;
    v->name = b->name;
    struct arena a;
    arena_init(&a);
    if (w && kind != &flash_msg_cancelled)
        v->link = window_link(tenant, w, b->pk, &a);
    int rc = notify_enqueue(c, tenant, kind, &m, v, now_ms, e);
    arena_release(&a);
    return rc;
}

static int notify_seller(struct db_conn *c, int64_t tenant, const struct flash_seller *s,
                         const struct notify_kind *kind, const struct flash_window *w,
                         struct flash_msg_vars *v, int64_t now_ms, struct err *e)
{
    struct notify_message m;
    memset(&m, 0, sizeof(m));
    m.recipient_kind = "seller";
    m.recipient_pk = s->pk;
    m.recipient_id = s->id;
    m.phone = s->phone;
    m.language = "tr";
    m.about_kind = FLASH_ABOUT_WINDOW;
    m.about_pk = w ? w->pk : 0;
    v->name = s->name;
    struct arena a;
    arena_init(&a);
    if (w && (kind == &flash_msg_question || kind == &flash_msg_opened ||
              kind == &flash_msg_seller_summary))
        v->link = window_link(tenant, w, 0, &a);
    int rc = notify_enqueue(c, tenant, kind, &m, v, now_ms, e);
    arena_release(&a);
    return rc;
}

/* Offers to the window's targets who consent and are under today's cap. */
static int send_offers(struct db_conn *c, int64_t tenant, const struct flash_config *cfg,
                       const struct flash_window *w, int64_t now_ms, struct arena *a, struct err *e)
{
    struct flash_window_target *t;
    size_t n;
    int rc = flash_store_window_targets(c, tenant, w->pk, a, &t, &n, e);
    char start[6], end[6];
    for (size_t i = 0; !rc && i < n; i++) {
        struct flash_buyer b = {0};
        rc = flash_store_buyer_get_pk(c, tenant, t[i].buyer_pk, a, &b, e);
        if (rc)
            break;
        if (!b.consent)
            continue;
        int offers = 0;
        rc = flash_store_offers_since(c, tenant, b.pk, now_ms - DAY_MS, &offers, e);
        /* this window already counts among the offers since it targets the buyer */
        if (rc || offers > cfg->max_offers_per_buyer_per_day)
            continue;
        struct flash_msg_vars v;
        vars_for_window(&v, w, cfg->tz_offset_min, start, end);
        v.discount = t[i].discount ? t[i].discount : w->discount_percent;
        rc = notify_buyer(c, tenant, &b, &flash_msg_offer, w, &v, now_ms, e);
    }
    return rc;
}

static int get_seller(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                      struct flash_seller *out, struct err *e)
{
    int rc = flash_store_seller_get(c, tenant, id, false, a, out, e);
    if (rc == ERR_NOT_FOUND) {
        err_init(e);
        return err_set_field(e, ERR_NOT_FOUND, "seller_id", "no seller %s", id);
    }
    return rc;
}

static int get_buyer(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                     struct flash_buyer *out, struct err *e)
{
    int rc = flash_store_buyer_get(c, tenant, id, false, a, out, e);
    if (rc == ERR_NOT_FOUND) {
        err_init(e);
        return err_set_field(e, ERR_NOT_FOUND, "buyer_id", "no buyer %s", id);
    }
    return rc;
}

static int get_window(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                      struct flash_window *out, struct err *e)
{
    int rc = flash_store_window_get(c, tenant, pk, a, out, e);
    if (rc == ERR_NOT_FOUND) {
        err_init(e);
        return err_set_field(e, ERR_NOT_FOUND, "id", "no flash window %lld", (long long)pk);
    }
    return rc;
}

static const char *status_name(enum flash_window_status s)
{
    return flash_status_names[s];
}

#define MASK(s) (1u << (s))

/* A guarded status change that dashboards hear about. */
static int transition(struct db_conn *c, int64_t tenant, int64_t pk, unsigned from_mask,
                      enum flash_window_status to, const char *reason, int64_t now_ms,
                      bool *changed, struct err *e)
{
    int rc =
        flash_store_window_transition(c, tenant, pk, from_mask, to, reason, now_ms, changed, e);
    if (!rc && *changed)
        db_on_commit_event(c, tenant, "window", pk, flash_status_names[to]);
    if (!rc && *changed)
        rc = flash_webhooks_window_moved(c, tenant, pk, to, now_ms, e);
    return rc;
}

/* ======================== learning ======================== */

/*
 * The learning policy's discount for a window of seller `s`: every target gets it, and *why
 * (arena) the trace's sentence ("20% chosen: posterior mean visit rate 0.31 vs 0.22 at 15%").
 * The draw is seeded by tenant, seller and time, so a repeated scan decides the same.
 */
static int learned_discount(struct db_conn *c, int64_t tenant, const struct flash_config *cfg,
                            const struct flash_seller *s, struct flash_target *t, size_t nt,
                            int64_t now_ms, struct arena *a, const char **why, struct err *e)
{
    struct flash_policy p;
    int rc =
        flash_learning_policy(c, tenant, s->pk, s->category, cfg, s->max_discount, &p, NULL, e);
    if (rc || p.n_arms == 0)
        return rc;
    uint64_t rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)tenant * 0xbf58476d1ce4e5b9ULL ^
                   (uint64_t)s->pk * 0x94d049bb133111ebULL ^ (uint64_t)now_ms;
    rng = rng ? rng : 1;
    char text[160];
    int disc = flash_policy_choose(&p, s->max_discount, cfg->learning == FLASH_LEARNING_EXPLORE,
                                   cfg->learning_max_regret, &rng, text, sizeof(text));
    for (size_t k = 0; k < nt; k++)
        t[k].discount = disc;
    *why = arena_strdup(a, text);
    return 0;
}

/* A window's outcome for the learning policy: its offers and the visits they brought. */
static int learn_outcome(struct db_conn *c, int64_t tenant, const struct flash_window *w,
                         int visits, int64_t now_ms, struct arena *a, struct err *e)
{
    if (!str_eq(w->origin, "engine") || w->targeted <= 0)
        return 0;
    struct flash_seller s = {0};
    int rc = flash_store_seller_get_pk(c, tenant, w->seller_pk, a, &s, e);
    if (!rc)
        rc = flash_learning_record(c, tenant, w->seller_pk, s.category, w->discount_percent,
                                   w->targeted, visits < w->targeted ? visits : w->targeted, now_ms,
                                   e);
    return rc;
}

/* ======================== registration and signals ======================== */

int flash_buyer_register(struct db_conn *c, int64_t tenant, struct flash_buyer *b, int64_t now_ms,
                         struct arena *a, bool *created, struct err *e)
{
    /* the store's upsert is atomic on its own */
    return flash_store_buyer_upsert(c, tenant, b, now_ms, a, created, e);
}

/* A currency flash prices may be in: an ISO 4217 code core/money.h knows ("TRY", "EUR"). */
static int check_currency(const char *code, const char *field, struct err *e)
{
    const struct money_currency *cur;
    struct err me;
    err_init(&me);
    if (code && *code && money_currency_find(code, &cur, &me))
        return err_set_field(e, ERR_INVALID, field, "%s must be an ISO 4217 code like TRY or EUR",
                             field);
    return 0;
}

int flash_seller_register(struct db_conn *c, int64_t tenant, struct flash_seller *s, int64_t now_ms,
                          struct arena *a, bool *created, struct err *e)
{
    int rc = check_currency(s->currency, "price_range.currency", e);
    if (!rc && s->price_max && s->price_min > s->price_max)
        rc = err_set_field(e, ERR_INVALID, "price_range.min",
                           "price_range.min is above price_range.max");
    if (rc)
        return rc;
    /* the store's upsert is atomic on its own */
    return flash_store_seller_upsert(c, tenant, s, now_ms, a, created, e);
}

/* One signal's write, run by db_group_write (possibly on another thread, possibly twice). */
struct buyer_signal {
    int64_t tenant;
    const char *buyer_id;
    struct flash_demand_in *d;
    int64_t now_ms;
    int64_t *pk;
};

static int buyer_signal_write(struct db_conn *c, void *ctx, struct err *e)
{
    struct buyer_signal *w = ctx;
    *w->pk = 0;
    return flash_store_demand_add_for(c, w->tenant, w->buyer_id, w->d, w->now_ms, w->pk, e);
}

int flash_buyer_signal(struct db_conn *c, int64_t tenant, const char *buyer_id,
                       struct flash_demand_in *d, int64_t now_ms, int64_t *pk, struct err *e)
{
    int rc = check_currency(d->currency, "currency", e);
    if (rc)
        return rc;
    struct buyer_signal w = {
        .tenant = tenant, .buyer_id = buyer_id, .d = d, .now_ms = now_ms, .pk = pk};
    /* concurrent signals share one commit; this returns once ours is durable */
    return db_group_write(c, buyer_signal_write, &w, e);
}

int flash_seller_signal(struct db_conn *c, int64_t tenant, const char *seller_id,
                        struct flash_supply_in *s, int64_t now_ms, int64_t *pk, struct err *e)
{
    struct arena a;
    arena_init(&a);
    struct flash_seller sl = {0};
    bool own;
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = get_seller(c, tenant, seller_id, &a, &sl, e);
    if (!rc) {
        s->seller_pk = sl.pk;
        rc = flash_store_supply_add(c, tenant, s, now_ms, pk, e);
    }
    rc = db_end_own(c, own, rc, e);
    arena_release(&a);
    return rc;
}

/* ======================== what a signal means ======================== */

/* An error from understanding names the field the text came in. */
static int text_error(int rc, struct err *e)
{
    if (e)
        snprintf(e->field, sizeof(e->field), "text");
    return rc;
}

int flash_supply_derive(const struct flash_supply_given *g, struct arena *a,
                        struct flash_supply_in *out, struct understanding *said, struct err *e)
{
    memset(out, 0, sizeof(*out));
    out->text = g->text ? g->text : "";
    out->product = g->product ? g->product : "";
    out->expires_at = g->expires_at;
    out->stock_status = g->stock >= 0 ? flash_stock_names[g->stock] : NULL;
    struct understanding u;
    memset(&u, 0, sizeof(u));
    u.intent = UNDERSTAND_UNKNOWN;
    if (said)
        *said = u;
    if (*out->text) {
        int rc = understand_text(out->text, UNDERSTAND_ROLE_SELLER, &u, e);
        if (rc)
            return text_error(rc, e);
        if (said)
            *said = u;
        if (u.confidence < UNDERSTAND_CONFIDENT)
            u.intent = UNDERSTAND_UNKNOWN;
    }
    /* what the words say, used where the fields are silent */
    int said_kind = -1, said_density = -1;
    if (u.intent == UNDERSTAND_SELLER_IDLE) {
        said_kind = FLASH_SUPPLY_IDLE;
        said_density = FLASH_DENSITY_LOW;
    } else if (u.intent == UNDERSTAND_SELLER_BUSY) {
        said_kind = FLASH_SUPPLY_DENSITY;
        said_density = FLASH_DENSITY_HIGH;
    } else if (u.intent == UNDERSTAND_SELLER_SURPLUS) {
        said_kind = FLASH_SUPPLY_SURPLUS;
    }
    int kind = g->signal_type;
    if (kind < 0 && g->stock >= 0 && strcmp(flash_stock_names[g->stock], "surplus") == 0)
        kind = FLASH_SUPPLY_SURPLUS;
    else if (kind < 0 && g->stock >= 0 && strcmp(flash_stock_names[g->stock], "promotion") == 0)
        kind = FLASH_SUPPLY_PROMOTION;
    else if (kind < 0 && g->density >= 0)
        kind = FLASH_SUPPLY_DENSITY;
    else if (kind < 0)
        kind = said_kind;
    if (kind < 0)
        return err_set_field(e, ERR_INVALID, "signal_type",
                             "signal_type is required: send signal_type (idle, density, surplus, "
                             "promotion), density_status, stock_status, or a text that says how "
                             "the shop is (\"Bu saat boşum\", \"Stok fazlası simit var\")");
    /* the words' density counts only when they also chose the kind ("idle" + "çok yoğunuz") */
    int density = g->density >= 0 ? g->density : kind == said_kind ? said_density : -1;
    /* "Bu saat boşum" means the shop is quiet: record it as low density too. */
    if (density < 0 && kind == FLASH_SUPPLY_IDLE)
        density = FLASH_DENSITY_LOW;
    if (kind == FLASH_SUPPLY_DENSITY && density < 0)
        return err_set_field(e, ERR_INVALID, "density_status",
                             "density_status is required for a density signal");
    out->kind = (enum flash_supply_kind)kind;
    out->has_density = density >= 0;
    out->density = density >= 0 ? (enum flash_density)density : FLASH_DENSITY_LOW;
    if (!*out->product && u.product[0])
        out->product = arena_strdup(a, u.product);
    return 0;
}

int flash_demand_understand(struct flash_demand_in *d, struct arena *a, struct understanding *said,
                            struct err *e)
{
    struct understanding u;
    memset(&u, 0, sizeof(u));
    u.intent = UNDERSTAND_UNKNOWN;
    if (said)
        *said = u;
    if (!d->text || !*d->text)
        return 0;
    int rc = understand_text(d->text, UNDERSTAND_ROLE_BUYER, &u, e);
    if (rc)
        return text_error(rc, e);
    if (said)
        *said = u;
    if (u.intent != UNDERSTAND_DEMAND || u.confidence < UNDERSTAND_CONFIDENT)
        return 0;
    if ((!d->category || !*d->category) && u.category[0])
        d->category = arena_strdup(a, u.category);
    if ((!d->product || !*d->product) && u.product[0])
        d->product = arena_strdup(a, u.product);
    if (!d->budget && u.budget) {
        d->budget = u.budget;
        d->currency = arena_strdup(a, u.currency[0] ? u.currency : "TRY");
    }
    return 0;
}

/* ======================== scan and generate ======================== */

int flash_scan_tenant(struct db_conn *c, int64_t tenant, int64_t now_ms, struct arena *a,
                      struct flash_scan_result *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    /* from the process's live index when there is one (live_index.h), else from the database */
    struct flash_live *live = flash_live_installed();
    struct flash_live_inputs li;
    int rc = live ? flash_live_get(live, c, tenant, now_ms, a, &li, e)
                  : flash_live_read(c, tenant, now_ms, a, &li, e);
    if (rc)
        return rc;
    out->cfg = li.cfg;
    out->sellers = li.sellers;
    out->n_sellers = li.n_sellers;
    out->demand = li.demand;
    out->n_demand = li.n_demand;
    out->precommits = li.precommits;
    struct flash_scan_input in = {.cfg = &out->cfg,
                                  .sellers = out->sellers,
                                  .n_sellers = out->n_sellers,
                                  .demand = out->demand,
                                  .n_demand = out->n_demand,
                                  .precommits = out->precommits,
                                  .now_ms = now_ms,
                                  .grid = li.grid};
    return flash_scan(&in, a, &out->scores, &out->n_scores, e);
}

/*
 * The product most often named among the targets' demands that the seller sells
 * (flash_product_fits): an ice-cream shop never offers künefe because a buyer wished for it.
 */
static const char *popular_product(const struct flash_scan_result *r, const struct flash_target *t,
                                   size_t n, const struct flash_seller *s)
{
    const char *best = "";
    int best_n = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = r->demand[t[i].demand_idx].product;
        if (!p || !*p || !flash_product_fits(p, s->category, NULL))
            continue;
        int k = 0;
        for (size_t j = 0; j < n; j++) {
            const char *q = r->demand[t[j].demand_idx].product;
            if (q && strcmp(p, q) == 0)
                k++;
        }
        if (k > best_n) {
            best_n = k;
            best = p;
        }
    }
    return best;
}

/* Insert a drafted window with its targets, then its offers or question, and its jobs. */
static int open_window(struct db_conn *c, int64_t tenant, const struct flash_config *cfg,
                       const struct flash_seller *s, struct flash_window *w,
                       const struct flash_window_target *targets, size_t n_targets, int64_t now_ms,
                       struct arena *a, struct err *e)
{
    w->seller_pk = s->pk;
    w->seller_id = s->id;
    w->seller_name = s->name;
    w->seller_loc = s->loc;
    if (!w->currency || !*w->currency)
        w->currency = s->currency && *s->currency ? s->currency : "TRY";
    int rc = flash_store_window_insert(c, tenant, w, targets, n_targets, now_ms, e);
    if (!rc)
        rc = enqueue_lifecycle(c, tenant, w, now_ms, e);
    if (!rc)
        rc = flash_webhooks_window_created(c, tenant, w->pk, now_ms, e);
    if (!rc)
        db_on_commit_event(c, tenant, "window", w->pk, flash_status_names[w->status]);
    if (rc)
        return rc;
    if (w->status == FLASH_WINDOW_PROPOSED || flash_window_on_signal(w)) {
        struct flash_msg_vars v;
        char start[6], end[6];
        vars_for_window(&v, w, cfg->tz_offset_min, start, end);
        v.count = (int)n_targets;
        bool asking = w->status == FLASH_WINDOW_PROPOSED;
        rc = notify_seller(c, tenant, s, asking ? &flash_msg_question : &flash_msg_opened, w, &v,
                           now_ms, e);
        if (rc || asking)
            return rc;
    }
    return send_offers(c, tenant, cfg, w, now_ms, a, e);
}

/* Keep only the scores of the named sellers (their rank order stays). */
static int restrict_scores(struct flash_scan_result *r, const char *const *ids, size_t n_ids,
                           struct err *e)
{
    if (!ids)
        return 0;
    for (size_t k = 0; k < n_ids; k++) {
        bool found = false;
        for (size_t i = 0; !found && i < r->n_sellers; i++)
            found = strcmp(r->sellers[i].id, ids[k]) == 0;
        if (!found) {
            char field[40];
            snprintf(field, sizeof(field), "seller_ids[%zu]", k);
            return err_set_field(e, ERR_NOT_FOUND, field, "%s: no seller %s", field, ids[k]);
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < r->n_scores; i++) {
        const char *id = r->sellers[r->scores[i].seller_idx].id;
        bool wanted = false;
        for (size_t k = 0; !wanted && k < n_ids; k++)
            wanted = strcmp(id, ids[k]) == 0;
        if (wanted)
            r->scores[kept++] = r->scores[i];
    }
    r->n_scores = kept;
    return 0;
}

int flash_scan_sellers(struct db_conn *c, int64_t tenant, const char *const *ids, size_t n_ids,
                       int64_t now_ms, struct arena *a, struct flash_scan_result *out,
                       struct err *e)
{
    int rc = flash_scan_tenant(c, tenant, now_ms, a, out, e);
    return rc ? rc : restrict_scores(out, ids, n_ids, e);
}

int flash_generate(struct db_conn *c, int64_t tenant, int64_t now_ms, struct arena *a,
                   struct flash_generated **out, size_t *n, struct err *e)
{
    return flash_generate_with(c, tenant, NULL, now_ms, a, out, n, e);
}

static int generate_once(struct db_conn *c, int64_t tenant, const struct flash_generate_opts *o,
                         int64_t now_ms, struct arena *a, struct flash_generated **out, size_t *n,
                         struct err *e);

/* Attempts of a generate that lost a race for a seller's one open window to a concurrent one. */
#define GENERATE_ATTEMPTS 3

/*
 * A concurrent generate may open a seller's window between our look and our insert: the
 * one-open-window index refuses ours (ERR_CONFLICT). In its own transaction the call is then
 * run again, and sees that window, answering as a repeated call would (idempotent).
 */
int flash_generate_with(struct db_conn *c, int64_t tenant, const struct flash_generate_opts *o,
                        int64_t now_ms, struct arena *a, struct flash_generated **out, size_t *n,
                        struct err *e)
{
    bool retry_ok = !db_in_transaction(c);
    for (int attempt = 1;; attempt++) {
        int rc = generate_once(c, tenant, o, now_ms, a, out, n, e);
        if (rc != ERR_CONFLICT || !retry_ok || attempt >= GENERATE_ATTEMPTS)
            return rc;
        err_init(e);
    }
}

static int generate_once(struct db_conn *c, int64_t tenant, const struct flash_generate_opts *o,
                         int64_t now_ms, struct arena *a, struct flash_generated **out, size_t *n,
                         struct err *e)
{
    static const struct flash_generate_opts none;
    if (!o)
        o = &none;
    if (o->has_lead && (o->lead_ms < 0 || o->lead_ms > FLASH_LEAD_MAX_S * 1000LL))
        return err_set_field(e, ERR_INVALID, "lead_seconds", "lead_seconds must be 0..%d",
                             FLASH_LEAD_MAX_S);
    if (o->minutes < 0 || o->minutes > FLASH_WINDOW_MAX_MINUTES)
        return err_set_field(e, ERR_INVALID, "duration_minutes", "duration_minutes must be 1..%d",
                             FLASH_WINDOW_MAX_MINUTES);
    bool own;
    int rc = db_begin_own(c, &own, e);
    struct flash_scan_result r;
    if (!rc)
        rc = flash_scan_sellers(c, tenant, o->seller_ids, o->n_seller_ids, now_ms, a, &r, e);
    if (rc)
        return db_end_own(c, own, rc, e);
    /* One grid for every seller's targets (flash_scan built and dropped its own). */
    struct flash_grid *grid = flash_grid_new(r.demand, r.n_demand, r.cfg.radius_m * 0.5);
    struct flash_scan_input in = {.cfg = &r.cfg,
                                  .sellers = r.sellers,
                                  .n_sellers = r.n_sellers,
                                  .demand = r.demand,
                                  .n_demand = r.n_demand,
                                  .precommits = r.precommits,
                                  .now_ms = now_ms,
                                  .grid = grid,
                                  .has_lead = o->has_lead,
                                  .lead_ms = o->lead_ms,
                                  .window_minutes = o->minutes};
    size_t cap = 0, used = 0;
    struct flash_generated *res = NULL;
    for (size_t i = 0; !rc && i < r.n_scores && r.scores[i].eligible; i++) {
        const struct flash_score *sc = &r.scores[i];
        const struct flash_seller *s = &r.sellers[sc->seller_idx];
        res = arena_grow(a, res, used, &cap, sizeof(*res));
        struct flash_generated *g = &res[used++];
        memset(g, 0, sizeof(*g));
        g->seller_id = s->id;
        g->score = sc->total;
        g->status = "skipped";
        g->reason = "";
        int64_t open_pk = 0;
        rc = flash_store_window_open_of_seller(c, tenant, s->pk, &open_pk, e);
        if (rc)
            break;
        if (open_pk) {
            g->window_pk = open_pk;
            g->reason = "already has an open window";
            continue;
        }
        in.seller_invited = false;
        if (!s->auto_approve) {
            /*
             * Respect: a question only outside the cool-down and under the daily cap. A seller
             * who asked for customers (and has not said no since) is not asked: that was a yes.
             */
            int asked = 0;
            bool cooling = false, unanswered = false;
            rc = flash_store_seller_respect(c, tenant, s->pk, now_ms - DAY_MS,
                                            now_ms - r.cfg.seller_cooldown_minutes * MINUTE_MS,
                                            &asked, &cooling, &unanswered, e);
            if (rc)
                break;
            in.seller_invited = !unanswered && flash_seller_asked_for_traffic(s, now_ms);
            if (cooling) {
                g->reason = arena_printf(a,
                                         "seller declined within the last %d min and has not "
                                         "reported idle since",
                                         r.cfg.seller_cooldown_minutes);
                continue;
            }
            if (!in.seller_invited && asked >= r.cfg.max_questions_per_seller_per_day) {
                g->reason = arena_printf(a, "seller already asked %d times today (max %d)", asked,
                                         r.cfg.max_questions_per_seller_per_day);
                continue;
            }
        }
        struct flash_target *t;
        size_t nt;
        /* Invite a few more than fit: not everyone who is asked comes. */
        size_t limit = (size_t)(s->capacity > 0 ? s->capacity : 10) * 3;
        rc = flash_targets(&in, sc->seller_idx, limit, a, &t, &nt, e);
        if (rc)
            break;
        if (nt == 0) {
            g->reason = "no consenting buyer with matching demand who can walk there in time";
            continue;
        }
        struct flash_busy_profile busy;
        rc = flash_store_busy_profile(c, tenant, s->pk, now_ms - BUSY_HISTORY_MS,
                                      r.cfg.tz_offset_min, &busy, e);
        if (rc)
            break;
        in.discount_why = NULL;
        if (r.cfg.learning != FLASH_LEARNING_OFF) {
            rc = learned_discount(c, tenant, &r.cfg, s, t, nt, now_ms, a, &in.discount_why, e);
            if (rc)
                break;
        }
        struct flash_draft d;
        const char *product = popular_product(&r, t, nt, s);
        rc = flash_draft_window(&in, sc, t, nt, product, &busy, r.cfg.tz_offset_min, a, &d, e);
        if (rc)
            break;
        /* Never two overlapping windows for one buyer: drop those already invited, redraft. */
        size_t kept = 0;
        for (size_t k = 0; !rc && k < nt; k++) {
            bool overlaps = false;
            rc = flash_store_buyer_overlaps(c, tenant, t[k].buyer_pk, d.start_ms, d.end_ms,
                                            &overlaps, e);
            if (!rc && !overlaps)
                t[kept++] = t[k];
        }
        if (rc)
            break;
        if (kept < nt) {
            /*
             * Invited meanwhile: on PostgreSQL each statement sees what committed before it, so
             * a concurrent generate may have opened this very seller's window since we looked.
             * Then answer as a repeated call does, naming that window.
             */
            rc = flash_store_window_open_of_seller(c, tenant, s->pk, &open_pk, e);
            if (rc)
                break;
            if (open_pk) {
                g->window_pk = open_pk;
                g->reason = "already has an open window";
                continue;
            }
        }
        if (kept == 0) {
            g->reason = "every target is already invited to an overlapping window";
            continue;
        }
        if (kept < nt) {
            nt = kept;
            product = popular_product(&r, t, nt, s);
            rc = flash_draft_window(&in, sc, t, nt, product, &busy, r.cfg.tz_offset_min, a, &d, e);
            if (rc)
                break;
        }
        if (!flash_seller_open(s, d.start_ms, d.end_ms, r.cfg.tz_offset_min)) {
            g->reason = "closed at the chosen time";
            continue;
        }
        struct flash_window w = {0};
        memset(&w, 0, sizeof(w));
        w.title = arena_strdup(a, d.title);
        w.product = product;
        w.description = arena_strdup(a, d.description);
        w.discount_percent = d.discount_percent;
        w.bundle_info = "";
        w.start_ms = d.start_ms;
        w.end_ms = d.end_ms;
        w.status = d.status;
        w.capacity = d.capacity;
        w.min_participants = d.min_participants;
        w.score = sc->total;
        w.trace_json = d.trace_json;
        w.cancel_reason = "";
        w.analytics_json = "";
        w.origin = "engine";
        /* prepay_default holds for the engine's windows too: buyers pay from the chat */
        w.prepay = r.cfg.prepay_default != 0;
        if (w.prepay) {
            int64_t amount = 0, list = 0;
            struct err why = {0};
            if (flash_prepay_price(&w, s, &amount, &list, &why)) {
                g->reason = "prepay_default is on and the seller has no price to charge "
                            "(price_range)";
                continue;
            }
        }
        struct flash_window_target *wt = arena_alloc(a, nt * sizeof(*wt));
        for (size_t k = 0; k < nt; k++) {
            wt[k].buyer_pk = t[k].buyer_pk;
            wt[k].buyer_id = r.demand[t[k].demand_idx].buyer_id;
            wt[k].distance_m = t[k].distance_m;
            wt[k].discount = t[k].discount;
        }
        rc = open_window(c, tenant, &r.cfg, s, &w, wt, nt, now_ms, a, e);
        if (!rc) {
            g->window_pk = w.pk;
            g->status = status_name(w.status);
        }
    }
    flash_grid_free(grid);
    if (!rc)
        rc = flash_store_scan_mark(c, tenant, now_ms, e);
    rc = db_end_own(c, own, rc, e);
    if (!rc) {
        *out = res;
        *n = used;
    }
    return rc;
}

/* The end of an operator's window: end_time (the seed's), duration_minutes, or the config's. */
static int window_end(const struct flash_manual *m, int64_t start_ms, int cfg_minutes,
                      int64_t *end_ms, struct err *e)
{
    if (!m->end_ms) {
        *end_ms = start_ms + (int64_t)(m->minutes ? m->minutes : cfg_minutes) * MINUTE_MS;
        return 0;
    }
    if (m->end_ms <= start_ms)
        return err_set_field(e, ERR_INVALID, "end_time", "end_time must be after start_time");
    if (m->end_ms - start_ms > FLASH_WINDOW_MAX_MINUTES * MINUTE_MS)
        return err_set_field(e, ERR_INVALID, "end_time",
                             "end_time must be at most %d minutes after start_time",
                             FLASH_WINDOW_MAX_MINUTES);
    if (m->minutes && m->end_ms - start_ms != (int64_t)m->minutes * MINUTE_MS)
        return err_set_field(e, ERR_INVALID, "end_time",
                             "end_time is %lld s after start_time but duration_minutes says %d "
                             "min; send one of them",
                             (long long)((m->end_ms - start_ms) / 1000), m->minutes);
    *end_ms = m->end_ms;
    return 0;
}

int flash_window_create(struct db_conn *c, int64_t tenant, struct flash_manual *m, int64_t now_ms,
                        struct arena *a, int64_t *pk, struct err *e)
{
    bool own;
    int rc = db_begin_own(c, &own, e);
    struct flash_config cfg = {0};
    struct flash_seller s = {0};
    if (!rc)
        rc = flash_store_config_get(c, tenant, &cfg, e);
    if (!rc)
        rc = get_seller(c, tenant, m->seller_id, a, &s, e);
    if (rc)
        return db_end_own(c, own, rc, e);
    if (m->discount_percent > s.max_discount) {
        rc = err_set_field(e, ERR_INVALID, "discount_percent",
                           "discount_percent %d is above the seller's maximum of %d",
                           m->discount_percent, s.max_discount);
        return db_end_own(c, own, rc, e);
    }
    int64_t open_pk = 0;
    rc = flash_store_window_open_of_seller(c, tenant, s.pk, &open_pk, e);
    if (!rc && open_pk)
        rc = err_set_field(e, ERR_CONFLICT, "seller_id",
                           "seller %s already has an open window (%lld)", s.id, (long long)open_pk);
    if (rc)
        return db_end_own(c, own, rc, e);

    struct flash_window w = {0};
    memset(&w, 0, sizeof(w));
    w.start_ms = m->start_ms ? m->start_ms : now_ms + cfg.lead_minutes * MINUTE_MS;
    if (w.start_ms < now_ms) {
        rc = err_set_field(e, ERR_INVALID, "start_time", "start_time is in the past");
        return db_end_own(c, own, rc, e);
    }
    if (w.start_ms - now_ms > (int64_t)FLASH_WINDOW_MAX_LEAD_DAYS * 24 * 60 * MINUTE_MS) {
        rc =
            err_set_field(e, ERR_INVALID, "start_time",
                          "start_time must be within %d days from now", FLASH_WINDOW_MAX_LEAD_DAYS);
        return db_end_own(c, own, rc, e);
    }
    rc = window_end(m, w.start_ms, cfg.window_minutes, &w.end_ms, e);
    if (rc)
        return db_end_own(c, own, rc, e);
    w.discount_percent = m->discount_percent;
    w.static_price = m->static_price;
    w.bundle_info = m->bundle_info ? m->bundle_info : "";
    w.title = m->title && *m->title
                  ? m->title
                  : (m->discount_percent
                         ? arena_printf(a, "%s: %%%d indirim", s.name, m->discount_percent)
                         : arena_printf(a, "%s: özel fırsat", s.name));
    w.product = m->product ? m->product : "";
    w.description = m->description && *m->description
                        ? m->description
                        : arena_printf(a, "%s, %d dakikalık fırsat penceresi.", s.name,
                                       (int)((w.end_ms - w.start_ms) / MINUTE_MS));
    w.status = FLASH_WINDOW_SCHEDULED;
    w.capacity = m->capacity ? m->capacity : s.capacity;
    w.cancel_reason = "";
    w.analytics_json = "";
    w.origin = "manual";
    w.prepay = m->prepay < 0 ? cfg.prepay_default != 0 : m->prepay != 0;
    if (w.prepay) {
        int64_t amount = 0, list = 0;
        rc = flash_prepay_price(&w, &s, &amount, &list, e);
        if (rc)
            return db_end_own(c, own, rc, e);
    }
    m->warnings_json = "[]";
    int minutes = (int)((w.end_ms - w.start_ms) / MINUTE_MS);
    json_t *warnings = json_array();
    double expected = 0;

    /* Targets: the named buyers, or buyers with matching demand nearby. */
    struct flash_window_target *wt = NULL;
    size_t nt = 0;
    if (m->buyer_ids) {
        wt = arena_alloc(a, (m->n_buyer_ids + 1) * sizeof(*wt));
        for (size_t i = 0; !rc && i < m->n_buyer_ids; i++) {
            struct flash_buyer b = {0};
            rc = get_buyer(c, tenant, m->buyer_ids[i], a, &b, e);
            if (rc)
                break;
            double d = flash_haversine_m(b.loc.lat, b.loc.lng, s.loc.lat, s.loc.lng);
            expected += flash_buyer_reliability(&b);
            if (!flash_can_arrive(&cfg, d, w.start_ms - now_ms, minutes))
                json_array_append_new(
                    warnings, json_sprintf("buyer %s is %.0f m away, a %.0f min walk: cannot "
                                           "arrive before the window ends",
                                           b.id, d, ceil(flash_walk_minutes(&cfg, d))));
            wt[nt].buyer_pk = b.pk;
            wt[nt].buyer_id = b.id;
            wt[nt].distance_m = d;
            wt[nt].discount = m->discount_percent;
            nt++;
        }
    } else {
        struct flash_demand *dem;
        size_t nd;
        rc = flash_store_demand_active(c, tenant, now_ms, a, &dem, &nd, e);
        struct flash_scan_input in = {.cfg = &cfg,
                                      .sellers = &s,
                                      .n_sellers = 1,
                                      .demand = dem,
                                      .n_demand = nd,
                                      .now_ms = now_ms,
                                      .has_lead = true,
                                      .lead_ms = w.start_ms - now_ms,
                                      .window_minutes = minutes > 0 ? minutes : 1};
        struct flash_target *t = NULL;
        if (!rc)
            rc = flash_targets(&in, 0, (size_t)w.capacity * 3, a, &t, &nt, e);
        if (!rc) {
            wt = arena_alloc(a, (nt + 1) * sizeof(*wt));
            for (size_t i = 0; i < nt; i++) {
                expected += dem[t[i].demand_idx].reliability;
                wt[i].buyer_pk = t[i].buyer_pk;
                wt[i].buyer_id = dem[t[i].demand_idx].buyer_id;
                wt[i].distance_m = t[i].distance_m;
                wt[i].discount = m->discount_percent;
            }
        }
    }
    if (!rc) {
        /* Minimums that fit: never more than the named buyers can give. */
        int floor_expected = (int)floor(expected + 1e-9);
        if (m->min_participants)
            w.min_participants = m->min_participants;
        else if (m->buyer_ids)
            w.min_participants = (int)nt < cfg.min_participants ? (int)nt : cfg.min_participants;
        else
            w.min_participants =
                floor_expected < cfg.min_participants ? floor_expected : cfg.min_participants;
        if (w.min_participants < 1)
            w.min_participants = 1;
        if (w.min_participants > (int)nt)
            json_array_append_new(warnings,
                                  json_sprintf("min_participants %d is more than the %zu targeted "
                                               "buyers: the window will be cancelled at its start",
                                               w.min_participants, nt));
        else if (w.min_participants > 1 && w.min_participants > expected + 1e-9)
            json_array_append_new(
                warnings, json_sprintf("min_participants %d is above the %.1f expected arrivals "
                                       "(sum of the targets' reliability): it may be cancelled",
                                       w.min_participants, expected));
        json_t *trace =
            json_pack("{s:s, s:I, s:s, s:s, s:f, s:i, s:O}", "origin", "manual", "targets",
                      (json_int_t)nt, "approval", "operator", "why", "created by an operator",
                      "expected_arrivals", round(expected * 100) / 100, "min_participants",
                      w.min_participants, "warnings", warnings);
        char *text = trace ? json_dumps(trace, JSON_COMPACT) : NULL;
        char *wtext = json_dumps(warnings, JSON_COMPACT);
        json_decref(trace);
        w.trace_json = arena_strdup(a, text ? text : "{}");
        m->warnings_json = arena_strdup(a, wtext ? wtext : "[]");
        free(text);
        free(wtext);
        rc = open_window(c, tenant, &cfg, &s, &w, wt, nt, now_ms, a, e);
    }
    json_decref(warnings);
    if (!rc)
        *pk = w.pk;
    return db_end_own(c, own, rc, e);
}

/* ======================== buyer actions ======================== */

int flash_precommit(struct db_conn *c, int64_t tenant, int64_t window_pk, const char *buyer_id,
                    int64_t now_ms, bool *created, struct err *e)
{
    struct arena a;
    arena_init(&a);
    bool own;
    struct flash_window w = {0};
    struct flash_buyer b = {0};
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = get_window(c, tenant, window_pk, &a, &w, e);
    if (!rc)
        rc = get_buyer(c, tenant, buyer_id, &a, &b, e);
    if (!rc && w.status != FLASH_WINDOW_PROPOSED && w.status != FLASH_WINDOW_SCHEDULED)
        rc = err_set(e, ERR_CONFLICT, "window %lld is %s; pre-commits close when it starts",
                     (long long)window_pk, status_name(w.status));
    if (!rc && w.prepay)
        rc = err_set_field(e, ERR_CONFLICT, "prepay",
                           "window %lld requires prepayment: join it to place the order; the "
                           "buyer is committed once it is paid",
                           (long long)window_pk);
    bool target = false;
    int discount = 0;
    if (!rc)
        rc = flash_store_window_target_of(c, tenant, window_pk, b.pk, &target, &discount, e);
    if (!rc && !target)
        rc = err_set_field(e, ERR_FORBIDDEN, "buyer_id", "buyer %s was not offered window %lld",
                           buyer_id, (long long)window_pk);
    if (!rc)
        rc = flash_store_precommit_add(c, tenant, window_pk, b.pk, now_ms, created, e);
    if (!rc && *created)
        db_on_commit_event(c, tenant, "window", window_pk, NULL);
    if (!rc && *created)
        rc = flash_webhooks_precommit(c, tenant, window_pk, buyer_id, now_ms, e);
    if (!rc && *created) {
        struct flash_config cfg = {0};
        rc = flash_store_config_get(c, tenant, &cfg, e);
        struct flash_msg_vars v;
        char start[6], end[6];
        vars_for_window(&v, &w, cfg.tz_offset_min, start, end);
        v.discount = discount ? discount : w.discount_percent;
        if (!rc)
            rc = notify_buyer(c, tenant, &b, &flash_msg_confirmation, &w, &v, now_ms, e);
    }
    rc = db_end_own(c, own, rc, e);
    arena_release(&a);
    return rc;
}

int flash_precommit_cancel(struct db_conn *c, int64_t tenant, int64_t window_pk,
                           const char *buyer_id, int64_t now_ms, struct err *e)
{
    struct arena a;
    arena_init(&a);
    bool own, changed = false;
    struct flash_window w = {0};
    struct flash_buyer b = {0};
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = get_window(c, tenant, window_pk, &a, &w, e);
    if (!rc)
        rc = get_buyer(c, tenant, buyer_id, &a, &b, e);
    if (!rc)
        rc = flash_store_precommit_cancel(c, tenant, window_pk, b.pk, now_ms, &changed, e);
    if (!rc && !changed)
        rc =
            err_set_field(e, ERR_NOT_FOUND, "buyer_id", "buyer %s has no pre-commit on window %lld",
                          buyer_id, (long long)window_pk);
    rc = db_end_own(c, own, rc, e);
    arena_release(&a);
    return rc;
}

/* A short code that is easy to read aloud: no 0/O, 1/I. */
static void make_code(char out[FLASH_CODE_LEN + 1])
{
    static const char alphabet[] = FLASH_CODE_ALPHABET;
    unsigned char rnd[FLASH_CODE_LEN];
    sec_random_bytes(rnd, sizeof(rnd));
    for (int i = 0; i < FLASH_CODE_LEN; i++)
        out[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
    out[FLASH_CODE_LEN] = '\0';
}

int flash_join(struct db_conn *c, int64_t tenant, int64_t window_pk, const char *buyer_id,
               int64_t now_ms, struct arena *a, const char **code, bool *created, struct err *e)
{
    struct flash_joined j;
    int rc = flash_join_order(c, tenant, window_pk, buyer_id, now_ms, a, &j, e);
    if (!rc && !j.code)
        rc = err_set_field(e, ERR_CONFLICT, "prepay",
                           "window %lld requires prepayment: order %s (%s) awaits payment",
                           (long long)window_pk, j.order_id, j.prepay_status);
    if (!rc) {
        *code = j.code;
        *created = j.created;
    }
    return rc;
}

/* A participant with a fresh code (or the code given before), told so. */
static int join_now(struct db_conn *c, int64_t tenant, const struct flash_window *w,
                    const struct flash_buyer *b, int discount, int64_t now_ms, struct arena *a,
                    const char **code, bool *created, struct err *e)
{
    bool full = w->capacity > 0 && w->joined >= w->capacity;
    char fresh[FLASH_CODE_LEN + 1];
    make_code(fresh); /* 32^6 codes per window: a collision is not worth a retry path */
    int rc = flash_store_join(c, tenant, w->pk, b->pk, fresh, now_ms, a, code, created, e);
    if (!rc && *created)
        db_on_commit_event(c, tenant, "window", w->pk, NULL);
    /* someone who joined earlier gets their code back even when the window is full */
    if (!rc && *created && full && !w->prepay)
        rc = err_set(e, ERR_CONFLICT, "window %lld is full (%d of %d)", (long long)w->pk, w->joined,
                     w->capacity);
    if (!rc && *created) {
        struct flash_config cfg = {0};
        rc = flash_store_config_get(c, tenant, &cfg, e);
        struct flash_msg_vars v;
        char start[6], end[6];
        vars_for_window(&v, w, cfg.tz_offset_min, start, end);
        v.discount = discount ? discount : w->discount_percent;
        v.code = *code;
        if (!rc)
            rc = notify_buyer(c, tenant, b, &flash_msg_confirmation, w, &v, now_ms, e);
    }
    return rc;
}

int flash_prepay_price(const struct flash_window *w, const struct flash_seller *s, int64_t *amount,
                       int64_t *list, struct err *e)
{
    visit_price(w, s, -1, amount, list);
    if (*amount > 0)
        return 0;
    return err_set_field(e, ERR_INVALID, "prepay",
                         "a prepaid window needs a price: static_price, or a seller whose "
                         "price_range is known");
}

/*
 * Place the order of a prepaid window for the buyer's customer (visit_order.h: the same customer,
 * external id and campaign a redeemed visit's order has) and link it (in the caller's
 * transaction).
 */
static int prepay_place(struct db_conn *c, int64_t tenant, const struct flash_window *w,
                        const struct flash_buyer *b, int64_t now_ms, struct arena *a,
                        struct flash_prepay *out, struct err *e)
{
    struct flash_seller s = {0};
    int64_t amount = 0, list = 0, order_pk = 0;
    const char *order_id = NULL, *customer_id = NULL;
    bool inserted = false;
    int rc = flash_store_seller_get_pk(c, tenant, w->seller_pk, a, &s, e);
    if (!rc)
        rc = flash_prepay_price(w, &s, &amount, &list, e);
    if (!rc)
        rc = visit_order_put(c, tenant, w, &s, b, COMMERCE_ORDER_PENDING, amount, list, now_ms, a,
                             &order_pk, &order_id, &customer_id, &inserted, e);
    if (!rc && !inserted)
        rc = err_set(e, ERR_CONFLICT, "the order of window %lld for buyer %s exists already",
                     (long long)w->pk, b->id);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    out->window_pk = w->pk;
    out->buyer_pk = b->pk;
    out->order_pk = order_pk;
    out->amount = amount;
    out->currency = w->currency && *w->currency ? w->currency : s.currency;
    rc = flash_store_prepay_insert(c, tenant, out, now_ms, e);
    bool found = false;
    if (!rc)
        rc = flash_store_prepay_get(c, tenant, out->pk, a, out, &found, e);
    if (!rc && !found)
        rc = err_set(e, ERR_INTERNAL, "the prepaid order just linked is not there");
    return rc;
}

int flash_join_order(struct db_conn *c, int64_t tenant, int64_t window_pk, const char *buyer_id,
                     int64_t now_ms, struct arena *a, struct flash_joined *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    bool own;
    struct flash_window w = {0};
    struct flash_buyer b = {0};
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = get_window(c, tenant, window_pk, a, &w, e);
    if (!rc)
        rc = get_buyer(c, tenant, buyer_id, a, &b, e);
    bool open = w.status == FLASH_WINDOW_ACTIVE || (w.prepay && w.status == FLASH_WINDOW_SCHEDULED);
    if (!rc && !open)
        rc =
            err_set(e, ERR_CONFLICT, "window %lld is %s; join while it is %s", (long long)window_pk,
                    status_name(w.status), w.prepay ? "SCHEDULED or ACTIVE" : "ACTIVE");
    bool target = false;
    int discount = 0;
    if (!rc)
        rc = flash_store_window_target_of(c, tenant, window_pk, b.pk, &target, &discount, e);
    if (!rc && !target)
        rc = err_set_field(e, ERR_FORBIDDEN, "buyer_id", "buyer %s was not offered window %lld",
                           buyer_id, (long long)window_pk);
    if (rc || !w.prepay) {
        if (!rc)
            rc = join_now(c, tenant, &w, &b, discount, now_ms, a, &out->code, &out->created, e);
        return db_end_own(c, own, rc, e);
    }
    struct flash_prepay p = {0};
    bool found = false;
    rc = flash_store_prepay_of_buyer(c, tenant, window_pk, b.pk, a, &p, &found, e);
    if (!rc && !found) {
        int taken = w.joined + (w.status == FLASH_WINDOW_SCHEDULED ? w.committed : 0);
        if (w.capacity > 0 && taken >= w.capacity)
            rc = err_set(e, ERR_CONFLICT, "window %lld is full (%d of %d)", (long long)window_pk,
                         taken, w.capacity);
        if (!rc)
            rc = prepay_place(c, tenant, &w, &b, now_ms, a, &p, e);
        out->created = !rc;
        if (!rc)
            db_on_commit_event(c, tenant, "window", window_pk, NULL);
    }
    /* paid and ACTIVE: the code (made at the payment, or now for one who paid before the start) */
    if (!rc && str_eq(p.status, "paid") && w.status == FLASH_WINDOW_ACTIVE) {
        bool made = false;
        rc = join_now(c, tenant, &w, &b, discount, now_ms, a, &out->code, &made, e);
    }
    if (!rc) {
        out->order_id = p.order_id;
        out->amount = p.amount;
        out->currency = p.currency;
        out->prepay_status = p.status;
        out->prepay_pk = p.pk;
    }
    return db_end_own(c, own, rc, e);
}

int flash_prepay_join(struct db_conn *c, int64_t tenant, int64_t window_pk, const char *buyer_id,
                      bool send_link, int64_t now_ms, struct arena *a, struct flash_joined *out,
                      struct err *e)
{
    memset(out, 0, sizeof(*out));
    bool own;
    struct flash_window w = {0};
    struct flash_buyer b = {0};
    struct flash_prepay p = {0};
    bool found = false;
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = get_window(c, tenant, window_pk, a, &w, e);
    if (!rc)
        rc = get_buyer(c, tenant, buyer_id, a, &b, e);
    if (!rc && !w.prepay)
        rc = err_set_field(e, ERR_CONFLICT, "prepay", "window %lld does not require prepayment",
                           (long long)window_pk);
    if (!rc)
        rc = flash_store_prepay_of_buyer(c, tenant, window_pk, b.pk, a, &p, &found, e);
    /* an order to pay needs a provider to pay it at: checked before anything is written */
    if (!rc && (!found || str_eq(p.status, "pending"))) {
        const char *currency = w.currency;
        struct flash_seller s = {0};
        if (!currency || !*currency) {
            rc = flash_store_seller_get_pk(c, tenant, w.seller_pk, a, &s, e);
            currency = s.currency;
        }
        enum payment_provider provider;
        if (!rc)
            rc = payments_hosted_provider(c, tenant, currency, a, &provider, e);
        if (rc == ERR_CONFLICT && str_eq(e->field, "provider")) {
            log_info("msg=\"prepaid join without a provider\" tenant=%lld window=%lld why=\"%s\"",
                     (long long)tenant, (long long)window_pk, e->msg);
            rc = err_replace(e, ERR_CONFLICT, "provider",
                             "This offer is prepaid, and this shop takes no online payments yet: "
                             "please ask the shop how to pay.");
        }
    }
    if (!rc)
        rc = flash_join_order(c, tenant, window_pk, buyer_id, now_ms, a, out, e);
    bool pending = !rc && str_eq(out->prepay_status, "pending");
    if (pending && !rc && send_link) {
        char payload[64], key[64];
        snprintf(payload, sizeof(payload), "{\"prepay\":%lld}", (long long)out->prepay_pk);
        snprintf(key, sizeof(key), "flash.pay_link:%lld", (long long)out->prepay_pk);
        struct job_spec j = {.name = FLASH_JOB_PAY_LINK,
                             .payload_json = payload,
                             .tenant_id = tenant,
                             .run_at_ms = now_ms,
                             .unique_key = key,
                             .max_attempts = 5};
        int64_t id;
        bool dedup;
        rc = jobs_enqueue(c, &j, now_ms, &id, &dedup, e);
    }
    return db_end_own(c, own, rc, e);
}

int flash_prepay_pay_url(struct db *db, int64_t tenant, int64_t prepay_pk, int64_t now_ms,
                         struct arena *a, const char **url, struct err *e)
{
    *url = NULL;
    struct db_conn *c;
    int rc = db_conn_acquire(db, &c, e);
    if (rc)
        return rc;
    struct flash_prepay p = {0};
    bool found = false;
    rc = flash_store_prepay_get(c, tenant, prepay_pk, a, &p, &found, e);
    db_conn_release(c);
    if (!rc && !found)
        rc = err_set(e, ERR_NOT_FOUND, "no prepaid order %lld", (long long)prepay_pk);
    if (!rc && !str_eq(p.status, "pending"))
        rc = err_set_field(e, ERR_CONFLICT, "status", "order %s of this window is %s", p.order_id,
                           p.status);
    if (rc)
        return rc;
    char key[64];
    snprintf(key, sizeof(key), "flash-pay-%lld", (long long)p.pk);
    return payments_start_hosted(db, tenant, p.order_id, key, now_ms, a, url, e);
}

int flash_prepay_send_link(struct db *db, int64_t tenant, int64_t prepay_pk, int64_t now_ms,
                           struct arena *a, struct err *e)
{
    const char *url = NULL;
    int rc = flash_prepay_pay_url(db, tenant, prepay_pk, now_ms, a, &url, e);
    if (rc == ERR_CONFLICT && str_eq(e->field, "status")) {
        /* paid (or closed) meanwhile: no link to send */
        err_init(e);
        return 0;
    }
    if (rc)
        return rc;
    struct db_conn *c;
    rc = db_conn_acquire(db, &c, e);
    if (rc)
        return rc;
    struct flash_prepay p = {0};
    struct flash_window w = {0};
    struct flash_buyer b = {0};
    struct flash_config cfg = {0};
    bool found = false;
    rc = db_begin(c, e);
    if (!rc)
        rc = flash_store_prepay_get(c, tenant, prepay_pk, a, &p, &found, e);
    bool send = !rc && found && str_eq(p.status, "pending") && p.buyer_pk;
    if (send)
        rc = flash_store_window_get(c, tenant, p.window_pk, a, &w, e);
    if (send && !rc)
        rc = flash_store_buyer_get_pk(c, tenant, p.buyer_pk, a, &b, e);
    if (send && !rc)
        rc = flash_store_config_get(c, tenant, &cfg, e);
    const struct money_currency *cur = NULL;
    if (send && !rc)
        rc = money_currency_find(p.currency, &cur, e);
    char amount[MONEY_TEXT_MAX];
    struct money m = {p.amount, cur};
    if (send && !rc)
        rc = money_format(&m, amount, sizeof(amount), e);
    if (send && !rc) {
        char start[6], end[6];
        struct flash_msg_vars v;
        vars_for_window(&v, &w, cfg.tz_offset_min, start, end);
        v.amount = arena_printf(a, "%s %s", amount, p.currency);
        v.pay_url = url;
        rc = notify_buyer(c, tenant, &b, &flash_msg_pay, &w, &v, now_ms, e);
    }
    if (rc)
        db_rollback(c);
    else
        rc = db_commit(c, e);
    db_conn_release(c);
    if (!rc && send)
        log_info("msg=\"prepaid order link sent\" tenant=%lld window=%lld order=%s",
                 (long long)tenant, (long long)p.window_pk, p.order_id);
    return rc;
}

int flash_prepay_view(struct db_conn *c, int64_t tenant, int64_t window_pk, int64_t buyer_pk,
                      struct arena *a, struct flash_prepay_view *out, bool *found, struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct flash_prepay p = {0};
    int rc = flash_store_prepay_of_buyer(c, tenant, window_pk, buyer_pk, a, &p, found, e);
    if (rc || !*found)
        return rc;
    out->order_id = p.order_id;
    out->amount = p.amount;
    out->currency = p.currency;
    out->status = p.status;
    if (!str_eq(p.status, "pending"))
        return 0;
    struct payment *rows = NULL;
    size_t n = 0;
    rc = payments_store_list_order(c, tenant, p.order_pk, a, &rows, &n, e);
    for (size_t i = 0; !rc && i < n; i++) {
        enum payment_status st = rows[i].state.status;
        if ((st == PAYMENT_CREATED || st == PAYMENT_PENDING) && rows[i].page_url &&
            *rows[i].page_url)
            out->pay_url = rows[i].page_url;
    }
    return rc;
}

/* Mark a paid row refunding and enqueue its refund (once per row). */
static int prepay_refund_due(struct db_conn *c, int64_t tenant, const struct flash_prepay *p,
                             const char *from, int64_t now_ms, struct err *e)
{
    bool changed = false;
    int rc =
        flash_store_prepay_set_status(c, tenant, p->pk, from, "refunding", now_ms, &changed, e);
    if (rc || !changed)
        return rc;
    char payload[64], key[64];
    snprintf(payload, sizeof(payload), "{\"prepay\":%lld}", (long long)p->pk);
    snprintf(key, sizeof(key), "flash.refund:%lld", (long long)p->pk);
    struct job_spec j = {.name = FLASH_JOB_REFUND,
                         .payload_json = payload,
                         .tenant_id = tenant,
                         .run_at_ms = now_ms,
                         .unique_key = key,
                         .max_attempts = 10};
    int64_t id;
    bool dedup;
    return jobs_enqueue(c, &j, now_ms, &id, &dedup, e);
}

/* A prepaid window was cancelled: refund the paid orders, forget the unpaid ones. */
static int prepay_cancelled(struct db_conn *c, int64_t tenant, const struct flash_window *w,
                            int64_t now_ms, struct arena *a, struct err *e)
{
    struct flash_prepay *rows = NULL;
    size_t n = 0;
    int rc = flash_store_prepay_list(c, tenant, w->pk, "paid", a, &rows, &n, e);
    for (size_t i = 0; !rc && i < n; i++)
        rc = prepay_refund_due(c, tenant, &rows[i], "paid", now_ms, e);
    if (!rc)
        rc = flash_store_prepay_list(c, tenant, w->pk, "pending", a, &rows, &n, e);
    for (size_t i = 0; !rc && i < n; i++) {
        bool changed;
        rc = flash_store_prepay_set_status(c, tenant, rows[i].pk, "pending", "dropped", now_ms,
                                           &changed, e);
    }
    return rc;
}

int flash_prepay_paid(struct db_conn *c, int64_t tenant, int64_t order_pk, int64_t now_ms,
                      struct err *e)
{
    struct arena a;
    arena_init(&a);
    struct flash_prepay p = {0};
    bool found = false;
    int rc = flash_store_prepay_of_order(c, tenant, order_pk, &a, &p, &found, e);
    struct flash_window w = {0};
    if (!rc && found && (str_eq(p.status, "pending") || str_eq(p.status, "dropped")))
        rc = flash_store_window_get(c, tenant, p.window_pk, &a, &w, e);
    else
        found = false;
    if (rc || !found)
        goto out;
    bool open = w.status == FLASH_WINDOW_SCHEDULED || w.status == FLASH_WINDOW_ACTIVE;
    if (!open || !p.buyer_pk || str_eq(p.status, "dropped")) {
        /* paid after the window closed (or for an erased buyer): the money goes back */
        rc = prepay_refund_due(c, tenant, &p, p.status, now_ms, e);
        goto out;
    }
    bool changed = false;
    rc = flash_store_prepay_set_status(c, tenant, p.pk, "pending", "paid", now_ms, &changed, e);
    if (rc || !changed)
        goto out;
    struct flash_buyer b = {0};
    rc = flash_store_buyer_get_pk(c, tenant, p.buyer_pk, &a, &b, e);
    bool target = false;
    int discount = 0;
    if (!rc)
        rc = flash_store_window_target_of(c, tenant, w.pk, b.pk, &target, &discount, e);
    if (rc)
        goto out;
    if (w.status == FLASH_WINDOW_ACTIVE) {
        const char *code = NULL;
        bool made = false;
        rc = join_now(c, tenant, &w, &b, discount, now_ms, &a, &code, &made, e);
        goto out;
    }
    /* before the start: a pre-commit, which the minimum and the seller's summary count */
    bool created = false;
    rc = flash_store_precommit_add(c, tenant, w.pk, b.pk, now_ms, &created, e);
    if (!rc && created)
        db_on_commit_event(c, tenant, "window", w.pk, NULL);
    if (!rc && created)
        rc = flash_webhooks_precommit(c, tenant, w.pk, b.id, now_ms, e);
    if (!rc && created) {
        struct flash_config cfg = {0};
        rc = flash_store_config_get(c, tenant, &cfg, e);
        struct flash_msg_vars v;
        char start[6], end[6];
        vars_for_window(&v, &w, cfg.tz_offset_min, start, end);
        v.discount = discount ? discount : w.discount_percent;
        if (!rc)
            rc = notify_buyer(c, tenant, &b, &flash_msg_confirmation, &w, &v, now_ms, e);
    }
out:
    arena_release(&a);
    return rc;
}

/* The payment of the order that succeeded (and what is left to refund of it). */
static int succeeded_payment(struct db_conn *c, int64_t tenant, int64_t order_pk, struct arena *a,
                             struct payment *out, bool *found, struct err *e)
{
    struct payment *rows = NULL;
    size_t n = 0;
    *found = false;
    int rc = payments_store_list_order(c, tenant, order_pk, a, &rows, &n, e);
    for (size_t i = 0; !rc && i < n; i++) {
        enum payment_status st = rows[i].state.status;
        if (st == PAYMENT_SUCCEEDED || st == PAYMENT_PARTIALLY_REFUNDED || st == PAYMENT_REFUNDED) {
            *out = rows[i];
            *found = true;
        }
    }
    return rc;
}

int flash_prepay_refund(struct db *db, int64_t tenant, int64_t prepay_pk, int64_t now_ms,
                        struct arena *a, struct err *e)
{
    struct db_conn *c;
    int rc = db_conn_acquire(db, &c, e);
    if (rc)
        return rc;
    struct flash_prepay p = {0};
    struct payment pay = {0};
    bool found = false, paid = false;
    rc = flash_store_prepay_get(c, tenant, prepay_pk, a, &p, &found, e);
    if (!rc && found && str_eq(p.status, "refunding"))
        rc = succeeded_payment(c, tenant, p.order_pk, a, &pay, &paid, e);
    db_conn_release(c);
    if (rc || !found || !str_eq(p.status, "refunding"))
        return rc;
    if (!paid)
        return err_set(e, ERR_CONFLICT, "order %s has no succeeded payment to refund yet",
                       p.order_id);
    if (pay.state.status != PAYMENT_REFUNDED) {
        char key[64], hash[65];
        snprintf(key, sizeof(key), "flash-refund-%lld", (long long)p.pk);
        payments_request_hash("POST", key, "", 0, hash);
        struct payments_request req = {.idem_key = key, .request_hash = hash};
        struct payments_answer ans;
        rc = payments_refund(db, tenant, pay.id, NULL, &req, now_ms, a, &ans, e);
        if (rc)
            return rc;
    }
    rc = db_conn_acquire(db, &c, e);
    if (rc)
        return rc;
    bool changed = false;
    struct flash_window w = {0};
    rc = db_begin(c, e);
    if (!rc)
        rc = flash_store_prepay_set_status(c, tenant, p.pk, "refunding", "refunded", now_ms,
                                           &changed, e);
    if (!rc && changed)
        rc = flash_store_window_get(c, tenant, p.window_pk, a, &w, e);
    if (!rc && changed && p.buyer_pk) {
        struct flash_buyer b = {0};
        struct flash_config cfg = {0};
        rc = flash_store_buyer_get_pk(c, tenant, p.buyer_pk, a, &b, e);
        if (!rc)
            rc = flash_store_config_get(c, tenant, &cfg, e);
        char start[6], end[6], amount[MONEY_TEXT_MAX];
        struct flash_msg_vars v;
        vars_for_window(&v, &w, cfg.tz_offset_min, start, end);
        v.reason = w.cancel_reason && *w.cancel_reason ? w.cancel_reason : NULL;
        const struct money_currency *cur = NULL;
        if (!rc)
            rc = money_currency_find(p.currency, &cur, e);
        struct money m = {p.amount, cur};
        if (!rc)
            rc = money_format(&m, amount, sizeof(amount), e);
        if (!rc) {
            v.amount = arena_printf(a, "%s %s", amount, p.currency);
            rc = notify_buyer(c, tenant, &b, &flash_msg_refunded, &w, &v, now_ms, e);
        }
    }
    if (rc) {
        db_rollback(c);
    } else {
        rc = db_commit(c, e);
        if (!rc && changed)
            log_info("msg=\"prepaid window order refunded\" tenant=%lld window=%lld order=%s",
                     (long long)tenant, (long long)p.window_pk, p.order_id);
    }
    db_conn_release(c);
    return rc;
}

/*
 * The micro-traffic fee of one redeemed visit, on the seller's ledger: the fee of the seller's
 * category as the configuration names it now (its category_fees entry, else traffic_fee).
 */
static int bill_visit(struct db_conn *c, int64_t tenant, const struct flash_window *w,
                      const struct flash_seller *s, int64_t buyer_pk, const char *code,
                      int64_t now_ms, struct err *e)
{
    struct flash_config cfg = {0};
    int rc = flash_store_config_get(c, tenant, &cfg, e);
    if (!rc)
        rc = flash_store_fee_add(c, tenant, s->pk, w->pk, buyer_pk, code, s->category,
                                 flash_config_fee(&cfg, s->category), s->currency, now_ms, e);
    return rc;
}

/*
 * A prepaid window's visit is the order the buyer paid: it becomes fulfilled (its price is what
 * was paid, whatever the seller says now); *done false when the buyer has no paid order there.
 */
static int prepay_fulfil(struct db_conn *c, int64_t tenant, const struct flash_window *w,
                         const struct flash_buyer *b, int64_t now_ms, struct arena *a,
                         struct flash_redemption *out, bool *done, struct err *e)
{
    struct flash_prepay p = {0};
    bool found = false;
    *done = false;
    int rc = flash_store_prepay_of_buyer(c, tenant, w->pk, b->pk, a, &p, &found, e);
    if (rc || !found || !str_eq(p.status, "paid"))
        return rc;
    rc = commerce_store_order_set_status(c, tenant, p.order_pk, COMMERCE_ORDER_PAID,
                                         COMMERCE_ORDER_FULFILLED, "redemption", 0, now_ms, e);
    struct commerce_order o;
    memset(&o, 0, sizeof(o));
    if (!rc)
        rc = commerce_store_order_get(c, tenant, p.order_id, a, &o, e);
    if (!rc) {
        out->order_id = o.id;
        out->customer_id = o.customer_id;
        *done = true;
    }
    return rc;
}

int flash_redeem_visit(struct db_conn *c, int64_t tenant, int64_t window_pk, const char *code,
                       const char *amount, int64_t now_ms, struct arena *a,
                       struct flash_redemption *out, struct err *e)
{
    bool own;
    struct flash_window w = {0};
    struct flash_seller s = {0};
    struct flash_buyer b = {0};
    struct money paid = {.minor = -1};
    int64_t buyer_pk = 0;
    memset(out, 0, sizeof(*out));
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = get_window(c, tenant, window_pk, a, &w, e);
    if (!rc && w.status != FLASH_WINDOW_ACTIVE && w.status != FLASH_WINDOW_EXPIRED)
        rc = err_set(e, ERR_CONFLICT, "window %lld is %s; codes are redeemed once it is ACTIVE",
                     (long long)window_pk, status_name(w.status));
    if (!rc)
        rc = flash_store_seller_get_pk(c, tenant, w.seller_pk, a, &s, e);
    if (!rc && amount) {
        rc =
            money_parse(amount, w.currency && w.currency[0] ? w.currency : s.currency, 0, &paid, e);
        if (rc) {
            err_init(e);
            rc = err_set_field(e, ERR_INVALID, "amount",
                               "amount must be a decimal amount of %s such as \"45.00\"",
                               w.currency && w.currency[0] ? w.currency : s.currency);
        }
    }
    if (!rc)
        rc = flash_store_redeem(c, tenant, window_pk, code, now_ms, &buyer_pk, e);
    if (!rc)
        rc = bill_visit(c, tenant, &w, &s, buyer_pk, code, now_ms, e);
    if (!rc)
        db_on_commit_event(c, tenant, "window", window_pk, NULL);
    if (!rc)
        rc = flash_store_buyer_record(c, tenant, buyer_pk, 0, 1, e);
    if (!rc)
        rc = flash_store_buyer_get_pk(c, tenant, buyer_pk, a, &b, e);
    if (!rc)
        out->buyer_id = b.id;
    bool prepaid = false;
    if (!rc && w.prepay)
        rc = prepay_fulfil(c, tenant, &w, &b, now_ms, a, out, &prepaid, e);
    if (!rc && !prepaid)
        rc = visit_order_record(c, tenant, &w, &s, &b, paid.minor, now_ms, a, &out->order_id,
                                &out->customer_id, e);
    if (!rc)
        rc = flash_webhooks_redemption(c, tenant, window_pk, b.id, now_ms, e);
    return db_end_own(c, own, rc, e);
}

int flash_redeem(struct db_conn *c, int64_t tenant, int64_t window_pk, const char *code,
                 int64_t now_ms, struct arena *a, const char **buyer_id, struct err *e)
{
    struct flash_redemption r;
    int rc = flash_redeem_visit(c, tenant, window_pk, code, NULL, now_ms, a, &r, e);
    if (!rc)
        *buyer_id = r.buyer_id;
    return rc;
}

/* ======================== seller decisions ======================== */

static int load_window_seller(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                              struct flash_window *w, struct flash_seller *s,
                              struct flash_config *cfg, struct err *e)
{
    int rc = get_window(c, tenant, pk, a, w, e);
    if (!rc)
        rc = flash_store_seller_get_pk(c, tenant, w->seller_pk, a, s, e);
    if (!rc)
        rc = flash_store_config_get(c, tenant, cfg, e);
    return rc;
}

int flash_seller_approve(struct db_conn *c, int64_t tenant, int64_t window_pk, int64_t now_ms,
                         struct err *e)
{
    struct arena a;
    arena_init(&a);
    bool own, changed = false;
    struct flash_window w = {0};
    struct flash_seller s = {0};
    struct flash_config cfg = {0};
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = load_window_seller(c, tenant, window_pk, &a, &w, &s, &cfg, e);
    if (!rc && w.start_ms <= now_ms)
        rc = err_set(e, ERR_CONFLICT,
                     "window %lld was due to start already; it is too late to "
                     "approve it",
                     (long long)window_pk);
    if (!rc)
        rc = transition(c, tenant, window_pk, MASK(FLASH_WINDOW_PROPOSED), FLASH_WINDOW_SCHEDULED,
                        "", now_ms, &changed, e);
    if (!rc && !changed && w.status != FLASH_WINDOW_SCHEDULED)
        rc = err_set(e, ERR_CONFLICT, "window %lld is %s, not PROPOSED", (long long)window_pk,
                     status_name(w.status));
    if (!rc && changed) {
        w.status = FLASH_WINDOW_SCHEDULED;
        rc = send_offers(c, tenant, &cfg, &w, now_ms, &a, e);
    }
    rc = db_end_own(c, own, rc, e);
    arena_release(&a);
    return rc;
}

/* Tell every committed buyer that the window will not happen. */
static int notify_cancelled(struct db_conn *c, int64_t tenant, const struct flash_config *cfg,
                            const struct flash_window *w, const char *reason, int64_t now_ms,
                            struct arena *a, struct err *e)
{
    int64_t *pks;
    size_t n;
    int rc = flash_store_precommit_buyers(c, tenant, w->pk, a, &pks, &n, e);
    char start[6], end[6];
    for (size_t i = 0; !rc && i < n; i++) {
        struct flash_buyer b = {0};
        rc = flash_store_buyer_get_pk(c, tenant, pks[i], a, &b, e);
        struct flash_msg_vars v;
        vars_for_window(&v, w, cfg->tz_offset_min, start, end);
        v.reason = reason;
        if (!rc)
            rc = notify_buyer(c, tenant, &b, &flash_msg_cancelled, w, &v, now_ms, e);
    }
    return rc;
}

int flash_seller_reject(struct db_conn *c, int64_t tenant, int64_t window_pk, int64_t now_ms,
                        struct err *e)
{
    struct arena a;
    arena_init(&a);
    bool own, changed = false;
    struct flash_window w = {0};
    struct flash_seller s = {0};
    struct flash_config cfg = {0};
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = load_window_seller(c, tenant, window_pk, &a, &w, &s, &cfg, e);
    /* A window opened on the seller's own call for customers may be declined until it starts. */
    unsigned from = MASK(FLASH_WINDOW_PROPOSED);
    if (!rc && w.status == FLASH_WINDOW_SCHEDULED && flash_window_on_signal(&w) &&
        w.start_ms > now_ms)
        from |= MASK(FLASH_WINDOW_SCHEDULED);
    if (!rc)
        rc = transition(c, tenant, window_pk, from, FLASH_WINDOW_CANCELLED, "seller declined",
                        now_ms, &changed, e);
    if (!rc && !changed)
        rc = err_set(e, ERR_CONFLICT, "window %lld is %s, not PROPOSED", (long long)window_pk,
                     status_name(w.status));
    if (!rc)
        rc = notify_cancelled(c, tenant, &cfg, &w, "seller declined", now_ms, &a, e);
    if (!rc && w.prepay)
        rc = prepay_cancelled(c, tenant, &w, now_ms, &a, e);
    rc = db_end_own(c, own, rc, e);
    arena_release(&a);
    return rc;
}

int flash_seller_cancel(struct db_conn *c, int64_t tenant, int64_t window_pk, const char *reason,
                        int64_t now_ms, struct err *e)
{
    struct arena a;
    arena_init(&a);
    bool own, changed = false;
    struct flash_window w = {0};
    struct flash_seller s = {0};
    struct flash_config cfg = {0};
    const char *why = reason && *reason ? reason : "seller cancelled";
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = load_window_seller(c, tenant, window_pk, &a, &w, &s, &cfg, e);
    if (!rc)
        rc = transition(c, tenant, window_pk,
                        MASK(FLASH_WINDOW_PROPOSED) | MASK(FLASH_WINDOW_SCHEDULED) |
                            MASK(FLASH_WINDOW_ACTIVE),
                        FLASH_WINDOW_CANCELLED, why, now_ms, &changed, e);
    if (!rc && !changed)
        rc = err_set(e, ERR_CONFLICT, "window %lld is already %s", (long long)window_pk,
                     status_name(w.status));
    if (!rc)
        rc = notify_cancelled(c, tenant, &cfg, &w, why, now_ms, &a, e);
    if (!rc && w.prepay)
        rc = prepay_cancelled(c, tenant, &w, now_ms, &a, e);
    rc = db_end_own(c, own, rc, e);
    arena_release(&a);
    return rc;
}

/* ======================== lifecycle ======================== */

int flash_activate(struct db_conn *c, int64_t tenant, int64_t window_pk, int64_t now_ms,
                   struct err *e)
{
    struct arena a;
    arena_init(&a);
    bool own, changed = false;
    struct flash_window w = {0};
    struct flash_seller s = {0};
    struct flash_config cfg = {0};
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = load_window_seller(c, tenant, window_pk, &a, &w, &s, &cfg, e);
    if (rc || (w.status != FLASH_WINDOW_PROPOSED && w.status != FLASH_WINDOW_SCHEDULED))
        goto out; /* already decided: activation is idempotent */
    if (w.status == FLASH_WINDOW_PROPOSED) {
        rc = transition(c, tenant, window_pk, MASK(FLASH_WINDOW_PROPOSED), FLASH_WINDOW_CANCELLED,
                        "seller did not answer", now_ms, &changed, e);
        goto out;
    }
    int64_t *pks;
    size_t n;
    rc = flash_store_precommit_buyers(c, tenant, window_pk, &a, &pks, &n, e);
    if (rc)
        goto out;
    if ((int)n < w.min_participants) {
        char *why = arena_printf(&a, "minimum not reached (%zu of %d)", n, w.min_participants);
        rc = transition(c, tenant, window_pk, MASK(FLASH_WINDOW_SCHEDULED), FLASH_WINDOW_CANCELLED,
                        why, now_ms, &changed, e);
        if (!rc && changed)
            rc = notify_cancelled(c, tenant, &cfg, &w, why, now_ms, &a, e);
        if (!rc && changed && w.prepay)
            rc = prepay_cancelled(c, tenant, &w, now_ms, &a, e);
        if (!rc && changed)
            rc = learn_outcome(c, tenant, &w, 0, now_ms, &a, e); /* offers that brought no one */
        goto out;
    }
    rc = transition(c, tenant, window_pk, MASK(FLASH_WINDOW_SCHEDULED), FLASH_WINDOW_ACTIVE, "",
                    now_ms, &changed, e);
    if (rc || !changed)
        goto out;
    w.status = FLASH_WINDOW_ACTIVE;
    /* The seller hears how many are coming, how far away they are, and whom to expect. */
    struct flash_window_target *t;
    size_t nt;
    rc = flash_store_window_targets(c, tenant, window_pk, &a, &t, &nt, e);
    double dist = 0, expected = 0;
    char start[6], end[6];
    for (size_t i = 0; !rc && i < n; i++) {
        for (size_t k = 0; k < nt; k++) {
            if (t[k].buyer_pk == pks[i])
                dist += t[k].distance_m;
        }
        struct flash_buyer b = {0};
        rc = flash_store_buyer_get_pk(c, tenant, pks[i], &a, &b, e);
        if (rc)
            break;
        expected += flash_buyer_reliability(&b);
        rc = flash_store_buyer_record(c, tenant, b.pk, 1, 0, e);
        struct flash_msg_vars v;
        vars_for_window(&v, &w, cfg.tz_offset_min, start, end);
        if (!rc)
            rc = notify_buyer(c, tenant, &b, &flash_msg_window_open, &w, &v, now_ms, e);
    }
    if (rc)
        goto out;
    struct flash_msg_vars v;
    vars_for_window(&v, &w, cfg.tz_offset_min, start, end);
    v.count = (int)n;
    v.avg_distance_m = n ? (int)lround(dist / (double)n) : 0;
    v.expected = (int)lround(expected);
    rc = notify_seller(c, tenant, &s, &flash_msg_seller_summary, &w, &v, now_ms, e);
out:
    rc = db_end_own(c, own, rc, e);
    arena_release(&a);
    return rc;
}

int flash_remind(struct db_conn *c, int64_t tenant, int64_t window_pk, int64_t now_ms,
                 struct err *e)
{
    struct arena a;
    arena_init(&a);
    bool own;
    struct flash_window w = {0};
    struct flash_config cfg = {0};
    int64_t *pks = NULL;
    size_t n = 0;
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = get_window(c, tenant, window_pk, &a, &w, e);
    if (!rc)
        rc = flash_store_config_get(c, tenant, &cfg, e);
    if (!rc && w.status == FLASH_WINDOW_SCHEDULED)
        rc = flash_store_precommit_buyers(c, tenant, window_pk, &a, &pks, &n, e);
    char start[6], end[6];
    for (size_t i = 0; !rc && i < n; i++) {
        struct flash_buyer b = {0};
        rc = flash_store_buyer_get_pk(c, tenant, pks[i], &a, &b, e);
        struct flash_msg_vars v;
        vars_for_window(&v, &w, cfg.tz_offset_min, start, end);
        v.minutes = (int)((w.start_ms - now_ms + MINUTE_MS - 1) / MINUTE_MS);
        if (v.minutes < 1)
            v.minutes = 1;
        if (!rc)
            rc = notify_buyer(c, tenant, &b, &flash_msg_reminder, &w, &v, now_ms, e);
    }
    rc = db_end_own(c, own, rc, e);
    arena_release(&a);
    return rc;
}

int flash_expire(struct db_conn *c, int64_t tenant, int64_t window_pk, int64_t now_ms,
                 struct err *e)
{
    struct arena a;
    arena_init(&a);
    bool own, changed = false;
    struct flash_window w = {0};
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = get_window(c, tenant, window_pk, &a, &w, e);
    if (!rc)
        rc = transition(c, tenant, window_pk, MASK(FLASH_WINDOW_ACTIVE), FLASH_WINDOW_EXPIRED, "",
                        now_ms, &changed, e);
    if (!rc && changed) {
        double conversion = w.targeted ? (double)w.redeemed / (double)w.targeted : 0.0;
        char *json = arena_printf(&a,
                                  "{\"targeted\":%d,\"committed\":%d,\"joined\":%d,"
                                  "\"redeemed\":%d,\"conversion\":%.4f}",
                                  w.targeted, w.committed, w.joined, w.redeemed, conversion);
        rc = flash_store_window_set_analytics(c, tenant, window_pk, json, e);
        if (!rc)
            rc = learn_outcome(c, tenant, &w, w.redeemed, now_ms, &a, e);
        if (!rc)
            log_info("msg=\"flash window expired\" tenant=%lld window=%lld targeted=%d "
                     "committed=%d joined=%d redeemed=%d",
                     (long long)tenant, (long long)window_pk, w.targeted, w.committed, w.joined,
                     w.redeemed);
    }
    rc = db_end_own(c, own, rc, e);
    arena_release(&a);
    return rc;
}

/* ======================== the seller's statement ======================== */

int flash_seller_statement(struct db_conn *c, int64_t tenant, const char *seller_id,
                           const char *month, int64_t now_ms, struct arena *a,
                           struct flash_statement *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct flash_config cfg = {0};
    struct flash_seller s = {0};
    int rc = flash_store_config_get(c, tenant, &cfg, e);
    if (rc)
        return rc;
    char now_iso[CLOCK_ISO_LEN];
    if (!month || !*month) {
        clock_format_iso(now_ms + (int64_t)cfg.tz_offset_min * MINUTE_MS, now_iso);
        now_iso[7] = '\0';
        month = now_iso;
    }
    int y = 0, m = 0;
    char tail = 0;
    bool digits = strlen(month) == 7 && month[4] == '-';
    for (int i = 0; digits && i < 7; i++)
        digits = i == 4 || (month[i] >= '0' && month[i] <= '9');
    if (!digits || sscanf(month, "%4d-%2d%c", &y, &m, &tail) != 2 || y < 2000 || y > 9999 ||
        m < 1 || m > 12)
        return err_set_field(e, ERR_INVALID, "month", "month must be YYYY-MM, e.g. 2026-12");
    snprintf(out->month, sizeof(out->month), "%04d-%02d", y, m);
    if (!rc) {
        rc = flash_store_seller_get(c, tenant, seller_id, false, a, &s, e);
        if (rc == ERR_NOT_FOUND)
            rc = err_replace(e, ERR_NOT_FOUND, "id", "no seller %s", seller_id);
    }
    if (rc)
        return rc;
    int64_t tz = (int64_t)cfg.tz_offset_min * MINUTE_MS;
    out->seller_id = s.id;
    out->from_ms = clock_days_from_civil(y, m, 1) * DAY_MS - tz;
    out->to_ms = clock_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * DAY_MS - tz;
    rc = flash_store_statement(c, tenant, s.pk, out->from_ms, out->to_ms, a, &out->lines,
                               &out->n_lines, e);
    if (rc)
        return rc;
    size_t cap = 0;
    for (size_t i = 0; i < out->n_lines; i++) {
        const struct flash_statement_line *l = &out->lines[i];
        size_t k = 0;
        while (k < out->n_totals && strcmp(out->totals[k].currency, l->currency) != 0)
            k++;
        if (k == out->n_totals) {
            out->totals = arena_grow(a, out->totals, out->n_totals, &cap, sizeof(*out->totals));
            out->totals[out->n_totals++] =
                (struct flash_statement_line){0, NULL, l->currency, 0, 0};
        }
        out->totals[k].visits += l->visits;
        out->totals[k].fees += l->fees;
    }
    return 0;
}
