/* SPDX-License-Identifier: MIT */
/*
 * Cart recovery's jobs. "recovery.tick" runs every RECOVERY_TICK_S seconds on the scheduler's
 * leader and starts a cycle for each tenant whose polling interval has passed. "recovery.poll"
 * (lane RECOVERY_LANE, one per integration and cycle) fetches the integration's carts since its
 * watermark outside any transaction, then in one transaction lands them in commerce carts (in
 * runs of up to 64 carts, each run a handful of multi-row statements rather than a round trip
 * per cart), decides each cart (cut-off, completion, consent, cooldown; the facts of all
 * candidates read together, the skipped and sent ones updated together), emits one delivery to the
 * agent's recovery_url with the abandoned ones and reports to the cycle. A failed fetch advances
 * nothing, so nothing is sent twice; a 401 stops polling the integration until its credentials
 * change. Tests: tests/integration/0025-recovery.c.
 */
#include "domain/recovery/recovery.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/money.h"
#include "domain/alerts/alerts.h"
#include "domain/commerce/commerce.h"
#include "domain/commerce/commerce_store.h"
#include "domain/notify/contacts.h"
#include "domain/notify/outbox.h"
#include "domain/recovery/recovery_fetch.h"
#include "domain/recovery/recovery_store.h"
#include "domain/webhooks/webhooks.h"
#include "jobs/worker.h"
#include "json/json.h"
#include "sched/sched.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- metrics ---- */

const double recovery_duration_bounds[7] = {0.1, 0.5, 1, 2.5, 5, 10, 30};
static pthread_mutex_t metrics_mu = PTHREAD_MUTEX_INITIALIZER;
static struct recovery_metrics metrics;

void recovery_metrics_read(struct recovery_metrics *out)
{
    pthread_mutex_lock(&metrics_mu);
    *out = metrics;
    pthread_mutex_unlock(&metrics_mu);
}

static void count_poll(bool ok, int carts, int deliveries, bool cycle_done, int64_t duration_ms)
{
    pthread_mutex_lock(&metrics_mu);
    if (ok)
        metrics.polls_ok++;
    else
        metrics.polls_failed++;
    metrics.carts_fetched += (uint64_t)carts;
    metrics.deliveries_queued += (uint64_t)deliveries;
    if (cycle_done) {
        double s = (double)duration_ms / 1000.0;
        size_t b = 0;
        while (b < 7 && s > recovery_duration_bounds[b])
            b++;
        metrics.duration_buckets[b]++;
        metrics.duration_sum_s += s;
        metrics.cycles++;
    }
    pthread_mutex_unlock(&metrics_mu);
}

static unsigned char poll_key[SEC_BOX_KEY_LEN];

static void count_empty_cycle(void)
{
    pthread_mutex_lock(&metrics_mu);
    metrics.duration_buckets[0]++;
    metrics.cycles++;
    pthread_mutex_unlock(&metrics_mu);
}

/* ---- tick ---- */

static int tick(struct job_ctx *ctx, struct err *e)
{
    int64_t *tenants = NULL;
    size_t n = 0;
    int rc = recovery_store_polling_due(ctx->conn, ctx->now_ms, ctx->arena, &tenants, &n, e);
    for (size_t i = 0; !rc && i < n; i++) {
        int64_t cycle = 0;
        int jobs = 0;
        bool own;
        rc = db_begin_own(ctx->conn, &own, e);
        if (!rc)
            rc = recovery_store_polling_take(ctx->conn, tenants[i], ctx->now_ms, e);
        if (!rc)
            rc = recovery_cycle_start(ctx->conn, tenants[i], "schedule", ctx->now_ms, &cycle, &jobs,
                                      e);
        rc = db_end_own(ctx->conn, own, rc, e);
        if (!rc && !jobs)
            count_empty_cycle();
    }
    return rc;
}

/* ---- poll ---- */

struct poll_result {
    int carts;
    int64_t value;
    int deliveries, messages;
};

static bool str_same(const char *x, const char *y)
{
    return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

static const char *customer_key(const struct recovery_fetched *f, char *buf, size_t n)
{
    if (f->email) {
        size_t i = 0;
        for (; f->email[i] && i + 1 < n; i++)
            buf[i] =
                (f->email[i] >= 'A' && f->email[i] <= 'Z') ? (char)(f->email[i] + 32) : f->email[i];
        buf[i] = '\0';
        return buf;
    }
    if (f->phone) {
        snprintf(buf, n, "%s", f->phone);
        return buf;
    }
    snprintf(buf, n, "cart:%s", f->platform_id);
    return buf;
}

/*
 * The products one poll has written already, so carts naming the same product at the same
 * price and title do not write it again. Within one transaction, so the pks stay valid.
 */
#define PRODUCTS_CACHED 64
struct product_seen {
    const char *ext, *title;
    const struct money_currency *cur;
    int64_t price, pk;
};
struct products {
    struct product_seen seen[PRODUCTS_CACHED];
    size_t n;
};

static int64_t products_cached(const struct products *pc, const char *ext,
                               const struct money_currency *cur, int64_t price, const char *title)
{
    for (size_t i = 0; i < pc->n; i++) {
        const struct product_seen *p = &pc->seen[i];
        if (strcmp(p->ext, ext) == 0 && p->cur == cur && p->price == price &&
            str_same(p->title, title))
            return p->pk;
    }
    return 0;
}

static void products_remember(struct products *pc, const char *ext,
                              const struct money_currency *cur, int64_t price, const char *title,
                              int64_t pk, struct arena *a)
{
    if (pc->n == PRODUCTS_CACHED)
        return;
    pc->seen[pc->n++] = (struct product_seen){
        arena_strdup(a, ext), title ? arena_strdup(a, title) : NULL, cur, price, pk};
}

/* The largest run of fetched carts landed together (statements of up to 64 rows). */
#define LAND_RUN 64

/*
 * A run of fetched carts (distinct platform ids, at most LAND_RUN) into commerce (customer,
 * products, cart) and their recovery rows, as landing them one by one would: the customers are
 * looked up in one statement, the carts and recovery rows written in multi-row statements. The
 * customer is one per tenant (source RECOVERY_CUSTOMER_SOURCE, keyed by email, else phone), so
 * the cooldown holds across the tenant's shops; products and carts belong to their integration.
 * A cart with an unknown currency (or refused as invalid) is counted in *refused and left out.
 */
static int land_run(struct db_conn *c, int64_t tenant, const struct recovery_agent *ag,
                    const struct recovery_integration *in, const char *source,
                    const struct recovery_fetched *const *run, size_t n, struct products *pc,
                    int64_t now_ms, struct arena *a, struct poll_result *res, int *refused,
                    struct err *e)
{
    const struct money_currency **curs = arena_alloc(a, n * sizeof(*curs));
    const char **keys = arena_alloc(a, n * sizeof(*keys));
    const char **norm = arena_alloc(a, n * sizeof(*norm));
    int64_t *pks = arena_alloc(a, n * sizeof(*pks));
    const char **emails = arena_alloc(a, n * sizeof(*emails));
    const char **phones = arena_alloc(a, n * sizeof(*phones));
    bool *ok = arena_alloc(a, n * sizeof(*ok));
    for (size_t i = 0; i < n; i++) {
        const struct recovery_fetched *f = run[i];
        struct err ce;
        err_init(&ce);
        ok[i] = money_currency_find(f->currency ? f->currency : "", &curs[i], &ce) == 0;
        if (!ok[i])
            (*refused)++;
        char key[256], phone[20];
        keys[i] = arena_strdup(a, customer_key(f, key, sizeof(key)));
        norm[i] = f->phone && contacts_phone_norm(f->phone, phone) ? arena_strdup(a, phone) : NULL;
    }
    int rc = recovery_store_customer_contacts(c, tenant, RECOVERY_CUSTOMER_SOURCE, keys, n, a, pks,
                                              emails, phones, e);
    struct commerce_cart *carts = arena_alloc(a, n * sizeof(*carts));
    struct recovery_cart_in *rows = arena_alloc(a, n * sizeof(*rows));
    size_t nc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        if (!ok[i])
            continue;
        const struct recovery_fetched *f = run[i];
        struct commerce_customer cu = {
            .source = RECOVERY_CUSTOMER_SOURCE,
            .external_id = keys[i],
            .email = f->email,
            .phone = norm[i],
            .is_active = true,
        };
        /*
         * A known customer whose email and phone are unchanged is not written again (polls of
         * several shops then do not queue on the same row); a cart without a phone (or email)
         * keeps what an earlier cart told us.
         */
        if (!cu.email)
            cu.email = emails[i];
        if (!cu.phone)
            cu.phone = phones[i];
        int64_t customer_pk = pks[i];
        bool same = customer_pk && str_same(cu.email, emails[i]) && str_same(cu.phone, phones[i]);
        struct err le;
        err_init(&le);
        bool inserted;
        int lrc = 0;
        if (!same)
            lrc = commerce_store_customer_upsert(c, tenant, &cu, now_ms, &inserted, &le);
        if (!lrc && !customer_pk)
            lrc = commerce_store_find_external(c, "customer", tenant, RECOVERY_CUSTOMER_SOURCE,
                                               cu.external_id, &customer_pk, &le);
        /* later carts of the same customer in this run see what this one wrote */
        for (size_t j = i + 1; !lrc && j < n; j++) {
            if (strcmp(keys[j], keys[i]) != 0)
                continue;
            pks[j] = customer_pk;
            emails[j] = cu.email;
            phones[j] = cu.phone;
        }
        struct commerce_item *items =
            arena_alloc(a, (f->n_lines ? f->n_lines : 1) * sizeof(*items));
        size_t ni = 0;
        for (size_t k = 0; !lrc && k < f->n_lines; k++) {
            const struct recovery_line *l = &f->lines[k];
            if (l->quantity < 1 || l->unit_price < 0)
                continue;
            const char *ext = l->sku ? l->sku : l->title ? l->title : "item";
            struct commerce_product pr = {.source = source,
                                          .external_id = ext,
                                          .name = l->title ? l->title : ext,
                                          .has_price = true,
                                          .price = {l->unit_price, curs[i]}};
            int64_t pk = products_cached(pc, ext, curs[i], l->unit_price, l->title);
            if (!pk) {
                lrc = commerce_store_product_upsert(c, tenant, &pr, now_ms, &inserted, &le);
                if (!lrc)
                    lrc = commerce_store_find_external(c, "product", tenant, source, ext, &pk, &le);
                if (!lrc)
                    products_remember(pc, ext, curs[i], l->unit_price, l->title, pk, a);
            }
            if (!lrc)
                items[ni++] = (struct commerce_item){
                    .product_pk = pk, .quantity = l->quantity, .unit_price = l->unit_price};
        }
        if (lrc) {
            if (le.code != ERR_UPSTREAM && le.code != ERR_INVALID) {
                rc = err_set(e, le.code, "%s", le.msg);
                break;
            }
            (*refused)++;
            continue;
        }
        int64_t total = f->total >= 0 ? f->total : 0;
        carts[nc] = (struct commerce_cart){.source = source,
                                           .external_id = f->platform_id,
                                           .customer_pk = customer_pk,
                                           .currency = curs[i],
                                           .total_amount = total,
                                           .items = items,
                                           .n_items = ni,
                                           .created_at = f->updated_ms};
        rows[nc] = (struct recovery_cart_in){.customer_pk = customer_pk,
                                             .platform_id = f->platform_id,
                                             .checkout_url = f->checkout_url,
                                             .updated_ms = f->updated_ms,
                                             .completed_ms = f->completed_ms,
                                             .total = total};
        nc++;
    }
    if (!rc && nc)
        rc = commerce_store_cart_upsert_many(c, tenant, carts, nc, now_ms, e);
    for (size_t i = 0; !rc && i < nc; i++)
        rows[i].cart_pk = carts[i].pk;
    if (!rc && nc)
        rc = recovery_store_cart_put_many(c, tenant, ag->id, in->id, rows, nc, now_ms, e);
    for (size_t i = 0; !rc && i < nc; i++) {
        res->carts++;
        res->value += rows[i].total;
    }
    return rc;
}

/* The WhatsApp step `step` of a cart to its customer's phone (consent and quiet hours are the
 * outbox's to honour too). Carts without a phone or a link get none. */
static int message(struct db_conn *c, int64_t tenant, const struct recovery_agent *ag,
                   const struct recovery_payload_cart *pc, int step, int64_t now_ms, bool *sent,
                   struct err *e)
{
    *sent = false;
    if (!pc->phone || !pc->phone[0] || !pc->checkout_url)
        return 0;
    struct money m;
    char amount[MONEY_TEXT_MAX], total[MONEY_TEXT_MAX + 8];
    struct err me;
    err_init(&me);
    if (money_from_minor(pc->total, pc->currency, &m, &me) ||
        money_format(&m, amount, sizeof(amount), &me))
        return 0;
    snprintf(total, sizeof(total), "%s %s", amount, pc->currency);
    struct recovery_msg_vars vars = {
        .company = ag->company, .total = total, .link = pc->checkout_url, .step = step};
    struct notify_message msg = {.recipient_kind = "contact",
                                 .recipient_id = pc->phone,
                                 .phone = pc->phone,
                                 .language = "tr",
                                 .about_kind = "cart",
                                 .about_pk = pc->recovery_id,
                                 .channel = "whatsapp"};
    int rc = notify_enqueue(c, tenant, &recovery_msg_cart, &msg, &vars, now_ms, e);
    if (!rc)
        rc = recovery_store_cart_messaged(c, tenant, pc->recovery_id, now_ms, e);
    *sent = !rc;
    return rc;
}

/* Decide every candidate of the integration; the abandoned ones go out in one delivery. */
static int decide(struct db_conn *c, int64_t tenant, const struct recovery_agent *ag,
                  const struct recovery_integration *in, int64_t cycle, int64_t now_ms,
                  struct arena *a, struct poll_result *res, struct err *e)
{
    struct recovery_cart_row *rows = NULL;
    size_t n = 0;
    int rc = recovery_store_cart_candidates(c, tenant, in->id,
                                            now_ms - (int64_t)ag->cutoff_minutes * 60000,
                                            now_ms - RECOVERY_ATTRIBUTION_MS, a, &rows, &n, e);
    struct recovery_payload_cart *send = arena_alloc(a, (n ? n : 1) * sizeof(*send));
    size_t ns = 0;
    /* the facts of every candidate in a few statements; nothing below changes them */
    struct recovery_cart_facts *facts = arena_alloc(a, (n ? n : 1) * sizeof(*facts));
    const char **phones = arena_alloc(a, (n ? n : 1) * sizeof(*phones));
    int64_t *skipped = arena_alloc(a, (n ? n : 1) * sizeof(*skipped));
    size_t nskipped = 0;
    if (!rc)
        rc = recovery_store_cart_facts_many(c, tenant, in->id, rows, n, facts, phones, a, e);
    for (size_t i = 0; !rc && i < n; i++) {
        bool sent = strcmp(rows[i].state, "sent") == 0;
        enum recovery_verdict v =
            recovery_cart_decide(&facts[i], ag->cutoff_minutes, ag->cooldown_days, now_ms);
        if (sent) {
            /* already delivered: it only leaves recovery when the customer orders */
            if (v == RECOVERY_COMPLETED) {
                rc = recovery_store_cart_complete(
                    c, tenant, rows[i].id, now_ms,
                    recovery_is_recovered(rows[i].delivered_ms, now_ms), e);
                continue;
            }
            /* the next WhatsApp step of the agent's sequence, when due */
            int64_t abandoned = rows[i].updated_ms + (int64_t)ag->cutoff_minutes * 60000;
            if (v != RECOVERY_NO_CONSENT &&
                recovery_message_due(ag->sequence, ag->n_sequence, rows[i].messages_sent, abandoned,
                                     now_ms)) {
                struct recovery_payload_cart pc;
                bool done = false;
                rc = recovery_store_cart_payload(c, tenant, rows[i].id, a, &pc, e);
                if (!rc)
                    rc = message(c, tenant, ag, &pc, rows[i].messages_sent, now_ms, &done, e);
                res->messages += done;
            }
            continue;
        }
        switch (v) {
        case RECOVERY_WAIT:
            break;
        case RECOVERY_COMPLETED:
            rc = recovery_store_cart_complete(c, tenant, rows[i].id, now_ms, false, e);
            break;
        case RECOVERY_COOLDOWN:
        case RECOVERY_NO_CONSENT:
            skipped[nskipped++] = rows[i].id;
            break;
        case RECOVERY_SEND:
            rc = recovery_store_cart_payload(c, tenant, rows[i].id, a, &send[ns], e);
            if (!rc)
                ns++;
            break;
        }
    }
    if (!rc && nskipped)
        rc = recovery_store_cart_state_many(c, tenant, in->id, skipped, nskipped, "skipped", 0, 0,
                                            0, now_ms, e);
    if (rc || !ns)
        return rc;
    const char *body =
        recovery_payload(ag, recovery_platform_names[in->platform], in->id, cycle, send, ns, a);
    if (!body)
        return err_set(e, ERR_INTERNAL, "cannot build the recovery payload");
    int64_t delivery = 0;
    rc = webhooks_emit_to(c, tenant, ag->endpoint_id, RECOVERY_EVENT, body, now_ms, &delivery, e);
    int64_t *ids = arena_alloc(a, ns * sizeof(*ids));
    for (size_t i = 0; i < ns; i++)
        ids[i] = send[i].recovery_id;
    if (!rc)
        rc = recovery_store_cart_state_many(c, tenant, in->id, ids, ns, "sent", now_ms, delivery,
                                            cycle, now_ms, e);
    for (size_t i = 0; !rc && i < ns; i++) {
        /* the first WhatsApp step goes with the delivery when it is due already */
        bool done = false;
        if (recovery_message_due(ag->sequence, ag->n_sequence, 0,
                                 send[i].abandoned_ms + (int64_t)ag->cutoff_minutes * 60000,
                                 now_ms))
            rc = message(c, tenant, ag, &send[i], 0, now_ms, &done, e);
        res->messages += done;
    }
    if (!rc)
        res->deliveries = 1;
    return rc;
}

static int poll_fail(struct db_conn *c, int64_t tenant, int64_t integration, int64_t cycle,
                     const struct recovery_failure *f, const char *agent_name, int64_t now_ms,
                     bool *cycle_done, int64_t *duration, struct err *e)
{
    bool unauthorized = f->status == 401;
    int failures = 0;
    char msg[320];
    snprintf(msg, sizeof(msg), "%s%s", unauthorized ? "unauthorized (401): " : "", f->error);
    bool own;
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = recovery_store_integration_polled(c, tenant, integration, false, NULL, msg,
                                               unauthorized, now_ms, &failures, e);
    if (!rc && (unauthorized || failures >= RECOVERY_FAILURES_ALERT)) {
        char text[480];
        snprintf(text, sizeof(text), "integration %lld of agent %.64s: %s%s",
                 (long long)integration, agent_name, msg,
                 unauthorized ? "; polling it stopped until its credentials change" : "");
        struct alert_spec spec = {.kind = RECOVERY_ALERT_KIND,
                                  .source = "recovery",
                                  .code = unauthorized ? "unauthorized" : "failing",
                                  .message = text};
        rc = alerts_raise(c, tenant, &spec, now_ms, NULL, e);
    }
    if (!rc && cycle)
        rc = recovery_store_cycle_report(c, tenant, cycle, 0, 0, 0, msg, now_ms, cycle_done,
                                         duration, e);
    return db_end_own(c, own, rc, e);
}

/* What a poll fetched, into the database in one transaction (see the file's comment). */
struct landing {
    const struct recovery_agent *ag;
    const struct recovery_integration *in;
    const char *source;
    const struct recovery_fetched *carts;
    size_t n;
    int64_t newest, cycle, now_ms;
    struct poll_result res;
    bool cycle_done;
    int64_t duration;
};

static int apply(struct db_conn *c, int64_t tenant, struct landing *l, struct arena *a,
                 struct err *e)
{
    memset(&l->res, 0, sizeof(l->res));
    struct products *pc = arena_alloc(a, sizeof(*pc));
    pc->n = 0;
    int landed_errors = 0;
    bool own;
    int rc = db_begin_own(c, &own, e);
    /* in order, in runs of distinct platform ids; a paid order ends the run before it */
    const struct recovery_fetched **run = arena_alloc(a, LAND_RUN * sizeof(*run));
    size_t nrun = 0;
    for (size_t i = 0; !rc && i <= l->n; i++) {
        const struct recovery_fetched *f = i < l->n ? &l->carts[i] : NULL;
        bool dup = false;
        for (size_t k = 0; f && !f->paid_only && !dup && k < nrun; k++)
            dup = strcmp(run[k]->platform_id, f->platform_id) == 0;
        if (nrun && (!f || f->paid_only || dup || nrun == LAND_RUN)) {
            rc = land_run(c, tenant, l->ag, l->in, l->source, run, nrun, pc, l->now_ms, a, &l->res,
                          &landed_errors, e);
            nrun = 0;
        }
        if (rc || !f)
            continue;
        if (f->paid_only) {
            /* an order paid since: completes its cart when we hold one, else nothing */
            rc = recovery_store_cart_paid(c, tenant, l->in->id, f->platform_id, f->completed_ms,
                                          f->total, l->now_ms, NULL, e);
            continue;
        }
        run[nrun++] = f;
    }
    if (!rc)
        rc = decide(c, tenant, l->ag, l->in, l->cycle, l->now_ms, a, &l->res, e);
    char wm[CLOCK_ISO_LEN];
    clock_format_iso(l->newest, wm);
    int failures = 0;
    if (!rc)
        rc = recovery_store_integration_polled(c, tenant, l->in->id, true, l->newest ? wm : NULL,
                                               NULL, false, l->now_ms, &failures, e);
    char note[96];
    snprintf(note, sizeof(note), "%d cart(s) refused as malformed", landed_errors);
    if (!rc && l->cycle)
        rc = recovery_store_cycle_report(c, tenant, l->cycle, l->res.carts, l->res.value,
                                         l->res.deliveries, landed_errors ? note : NULL, l->now_ms,
                                         &l->cycle_done, &l->duration, e);
    return db_end_own(c, own, rc, e);
}

static int poll(struct job_ctx *ctx, struct err *e)
{
    const unsigned char *key = ctx->userdata;
    json_t *p = json_loads(ctx->payload, 0, NULL);
    int64_t integration = 0, cycle = 0;
    int rc = json_get_i64(p, "integration", true, 1, INT64_MAX, &integration, e);
    if (!rc)
        rc = json_get_i64(p, "cycle", false, 0, INT64_MAX, &cycle, e);
    json_decref(p);
    if (rc)
        return rc;
    int64_t tenant = ctx->tenant_id;
    struct db_conn *c = ctx->conn;
    struct arena *a = ctx->arena;
    struct recovery_integration in;
    const char *sealed = NULL;
    bool found = false;
    struct recovery_agent ag;
    bool agent_found = false;
    rc = recovery_store_integration_get(c, tenant, 0, integration, a, &in, &sealed, &found, e);
    if (!rc && found)
        rc = recovery_store_agent_get(c, tenant, in.agent_id, a, &ag, &agent_found, e);
    bool cycle_done = false;
    int64_t duration = 0;
    if (!rc && (!found || !agent_found || strcmp(in.state, "active") != 0 || !ag.is_active)) {
        /* deleted or stopped since the cycle began: report nothing fetched */
        if (cycle)
            rc = recovery_store_cycle_report(c, tenant, cycle, 0, 0, 0, NULL, ctx->now_ms,
                                             &cycle_done, &duration, e);
        return rc;
    }
    if (rc)
        return rc;
    struct recovery_credentials cr;
    struct recovery_failure f;
    memset(&f, 0, sizeof(f));
    struct err fe;
    err_init(&fe);
    int frc = recovery_credentials_open(key, sealed, &cr, &fe);
    int64_t since = 0;
    if (in.watermark && clock_parse_iso(in.watermark, &since))
        since = 0;
    struct recovery_fetched *carts = NULL;
    size_t n = 0;
    int64_t newest = since;
    if (!frc)
        frc = recovery_fetch(&in, &cr, since, RECOVERY_PAGES_MAX, a, &carts, &n, &newest, &f, &fe);
    else
        snprintf(f.error, sizeof(f.error), "%s", fe.msg);
    explicit_bzero(&cr, sizeof(cr));
    int64_t now_ms = ctx->now_ms;
    if (frc) {
        log_warn(
            "msg=\"recovery poll failed\" tenant=%lld integration=%lld status=%ld error=\"%s\"",
            (long long)tenant, (long long)integration, f.status, f.error);
        rc = poll_fail(c, tenant, integration, cycle, &f, ag.name, now_ms, &cycle_done, &duration,
                       e);
        count_poll(false, 0, 0, cycle_done, duration);
        return rc;
    }
    char source[64];
    snprintf(source, sizeof(source), "%s-%lld", recovery_platform_names[in.platform],
             (long long)in.id);
    struct landing l = {.ag = &ag,
                        .in = &in,
                        .source = source,
                        .carts = carts,
                        .n = n,
                        .newest = newest,
                        .cycle = cycle,
                        .now_ms = now_ms};
    rc = apply(c, tenant, &l, a, e);
    if (rc == ERR_CONFLICT) {
        /* another shop's poll inserted the same person at the same moment: it has committed
         * now, so the same work again finds the row */
        err_init(e);
        rc = apply(c, tenant, &l, a, e);
    }
    cycle_done = l.cycle_done;
    duration = l.duration;
    struct poll_result res = l.res;
    if (!rc) {
        count_poll(true, res.carts, res.deliveries, cycle_done, duration);
        return 0;
    }
    /* rolled back: nothing landed or was sent; the cycle still hears of it, and so does the
     * integration's failure count (repeated failures raise the alert) */
    struct recovery_failure rf;
    memset(&rf, 0, sizeof(rf));
    snprintf(rf.error, sizeof(rf.error), "%s", e->msg);
    struct err re;
    err_init(&re);
    if (poll_fail(c, tenant, integration, cycle, &rf, ag.name, now_ms, &cycle_done, &duration, &re))
        log_warn("msg=\"recovery poll not recorded\" integration=%lld error=\"%s\"",
                 (long long)integration, re.msg);
    count_poll(false, 0, 0, cycle_done, duration);
    return rc;
}

int recovery_jobs_register(struct job_registry *reg, const unsigned char *key, struct err *e)
{
    /* one server key per process: a copy outlives the caller's buffer */
    memcpy(poll_key, key, sizeof(poll_key));
    int rc = recovery_messages_register(e);
    if (!rc)
        rc = job_registry_add(reg, RECOVERY_JOB_TICK, tick, NULL, 0, e);
    if (!rc)
        rc = job_registry_add(reg, RECOVERY_JOB_POLL, poll, poll_key, 0, e);
    if (!rc)
        rc = job_registry_set_lane(reg, RECOVERY_JOB_POLL, RECOVERY_LANE, e);
    return rc;
}

int recovery_jobs_schedule(struct sched *s, struct err *e)
{
    /* Tenants choose their own interval; this only looks for due ones. */
    return sched_every(s, "recovery.tick", RECOVERY_TICK_S, RECOVERY_JOB_TICK, "{}", e);
}
