/* SPDX-License-Identifier: MIT */
/* The profile batch (see profile_batch.h). */
#include "domain/intel/profile_batch.h"
#include "domain/intel/intel_config.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/money.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "db/store.h"
#include "domain/commerce/commerce.h"
#include "domain/flash/flash_store.h"
#include "domain/intel/intel_model.h"
#include "domain/intel/profile_store.h"
#include "domain/intel/profiles.h"
#include "domain/intel/rfm.h"
#include "jobs/queue.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LANE "slow"

/* ------------------------------------------------------------------ queueing */

int intel_profiles_recompute(struct db_conn *c, int64_t tenant, int64_t as_of_ms, int64_t now_ms,
                             int64_t *job_id, bool *joined, struct err *e)
{
    *job_id = 0;
    *joined = false;
    bool own;
    int rc = db_begin_own(c, &own, e);
    if (rc)
        return rc;
    rc = profile_store_running_job(c, tenant, job_id, e);
    if (!rc && *job_id) {
        *joined = true;
        return db_end_own(c, own, 0, e);
    }
    int64_t batch = 0;
    if (!rc)
        rc = profile_store_batch_create(c, tenant, as_of_ms, 0, now_ms, &batch, e);
    char payload[64], key[64];
    snprintf(payload, sizeof(payload), "{\"batch_id\": %lld}", (long long)batch);
    snprintf(key, sizeof(key), "%s:%lld", INTEL_JOB_PROFILES, (long long)tenant);
    struct job_spec spec = {.name = INTEL_JOB_PROFILES,
                            .payload_json = payload,
                            .tenant_id = tenant,
                            .unique_key = key,
                            .max_attempts = 10};
    bool deduped = false;
    if (!rc)
        rc = jobs_enqueue(c, &spec, now_ms, job_id, &deduped, e);
    if (!rc && deduped) {
        /* a batch whose job holds the key (begun by another process meanwhile): join it */
        *joined = true;
        rc = profile_store_fail(c, batch, now_ms, e);
    } else if (!rc) {
        rc = profile_store_batch_set_job(c, batch, *job_id, e);
    }
    return db_end_own(c, own, rc, e);
}

int intel_profiles_calculate(struct db_conn *c, int64_t tenant, int64_t customer_pk, int64_t now_ms,
                             int64_t *job_id, struct err *e)
{
    char payload[64], key[96];
    snprintf(payload, sizeof(payload), "{\"customer\": %lld}", (long long)customer_pk);
    snprintf(key, sizeof(key), "%s:%lld:%lld", INTEL_JOB_PROFILE_ONE, (long long)tenant,
             (long long)customer_pk);
    struct job_spec spec = {.name = INTEL_JOB_PROFILE_ONE,
                            .payload_json = payload,
                            .tenant_id = tenant,
                            .unique_key = key};
    return jobs_enqueue(c, &spec, now_ms, job_id, NULL, e);
}

/* ------------------------------------------------------------------ computing */

/* What one run knows about the tenant: the model, every customer's summary and RFM scores. */
struct run_state {
    struct intel_model model;
    struct intel_customer_summary *sums; /* malloc'd, by customer pk */
    struct intel_rfm_score *scores;      /* malloc'd, parallel to sums */
    size_t n;
    struct intel_profile_config cfg;
};

static void run_state_free(struct run_state *st)
{
    free(st->sums);
    free(st->scores);
}

static int cmp_summary(const void *k, const void *v)
{
    int64_t key = *(const int64_t *)k, pk = ((const struct intel_customer_summary *)v)->customer_pk;
    return key < pk ? -1 : key > pk;
}

static int run_state_load(struct db_conn *c, int64_t tenant, int64_t as_of_ms, struct run_state *st,
                          struct err *e)
{
    memset(st, 0, sizeof(*st));
    int rc = intel_model_fit_customers(c, tenant, as_of_ms, &st->model, &st->sums, &st->n, e);
    if (rc)
        return rc;
    if (st->n) {
        struct intel_rfm_input *in = xcalloc(st->n, sizeof(*in));
        st->scores = xcalloc(st->n, sizeof(*st->scores));
        for (size_t i = 0; i < st->n; i++) {
            in[i].recency_days = (double)(as_of_ms - st->sums[i].last_order_ms) / INTEL_DAY_MS;
            in[i].frequency = (double)st->sums[i].orders;
            in[i].monetary = st->sums[i].spend;
        }
        intel_rfm_score(in, st->n, st->scores);
        free(in);
    }
    const struct money_currency *cur = NULL;
    struct err me;
    err_init(&me);
    int exponent = st->model.currency[0] && !money_currency_find(st->model.currency, &cur, &me)
                       ? cur->exponent
                       : 2;
    struct intel_config cfg;
    rc = intel_config_get(c, tenant, &cfg, e);
    intel_config_profile(&cfg, exponent, &st->cfg);
    return rc; /* the caller frees st either way */
}

static char *model_json(const struct intel_model *m)
{
    json_t *o =
        json_pack("{s:s, s:i, s:i, s:b}", "currency", m->currency, "customers", m->customers,
                  "repeat_customers", m->repeat_customers, "fitted", m->fitted);
    if (m->fitted) {
        json_object_set_new(o, "bgnbd",
                            json_pack("{s:f, s:f, s:f, s:f}", "r", m->bgnbd.r, "alpha",
                                      m->bgnbd.alpha, "a", m->bgnbd.a, "b", m->bgnbd.b));
        json_object_set_new(o, "gamma_gamma",
                            json_pack("{s:f, s:f, s:f}", "p", m->gamma_gamma.p, "q",
                                      m->gamma_gamma.q, "gamma", m->gamma_gamma.gamma));
    } else {
        json_object_set_new(o, "reason", json_string(m->reason));
    }
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* The prediction row of customer `pk` (its arena strings from `a`). */
static void predict(const struct run_state *st, int64_t pk, struct arena *a,
                    struct profile_prediction_row *out)
{
    memset(out, 0, sizeof(*out));
    const struct intel_customer_summary *s =
        st->n ? bsearch(&pk, st->sums, st->n, sizeof(*st->sums), cmp_summary) : NULL;
    if (s) {
        const struct intel_rfm_score *sc = &st->scores[s - st->sums];
        out->has_rfm = true;
        out->r = sc->r;
        out->f = sc->f;
        out->m = sc->m;
        out->segment = sc->segment;
    }
    struct intel_prediction p;
    intel_model_predict(&st->model, s, &p);
    out->has_prediction = p.has;
    out->p_alive = p.p_alive;
    out->churn_probability = p.churn_probability;
    out->expected_purchases_90 = p.expected_purchases_90;
    out->expected_order_value = p.expected_order_value;
    out->predicted_clv = p.predicted_clv;
    out->has_next_order = p.has_next_order;
    out->expected_next_order_ms = p.next_order_ms;
    out->reason = p.has ? NULL : arena_strdup(a, p.reason);
}

/* The customers after `after`, at most INTEL_PROFILE_CHUNK; `only` > 0 takes that one only. */
static int chunk_customers(struct db_conn *c, int64_t tenant, int64_t after, int64_t only,
                           int64_t *ids, size_t *n, struct err *e)
{
    *n = 0;
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT customer_id FROM customer WHERE tenant_id = ? AND customer_id > ? "
                        "AND (? = 0 OR customer_id = ?) AND is_active = (1 = 1) ORDER BY "
                        "customer_id LIMIT ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, after);
    db_bind_i64(s, 3, only);
    db_bind_i64(s, 4, only);
    db_bind_i64(s, 5, INTEL_PROFILE_CHUNK);
    int stp;
    while ((stp = db_step(s, e)) == DB_ROW)
        ids[(*n)++] = db_col_i64(s, 0);
    db_stmt_done(s);
    return stp == DB_ERROR ? db_step_error(e) : 0;
}

struct computed {
    int64_t pk;
    struct intel_profiles profiles;
    struct profile_prediction_row pred;
};

/*
 * Compute the customers ids[0..n) (ascending) of `tenant` from their orders in the run's
 * currency: out[i] for ids[i], memory from `a`.
 */
static int compute_chunk(struct db_conn *c, int64_t tenant, int64_t as_of_ms,
                         const struct run_state *st, const int64_t *ids, size_t n, struct arena *a,
                         struct computed *out, struct err *e)
{
    if (n == 0)
        return 0;
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s,
        "SELECT o.customer_id, o.order_id, o.created_at, o.status, o.total_amount, i.product_id, "
        "p.category_id, i.quantity, i.price, p.price, p.currency, i.list_price, o.campaign "
        "FROM orders o LEFT JOIN "
        "order_item i ON i.order_id = o.order_id LEFT JOIN product p ON p.product_id = "
        "i.product_id WHERE o.tenant_id = ? AND o.customer_id >= ? AND o.customer_id <= ? AND "
        "o.currency = ? ORDER BY o.customer_id, o.created_at, o.order_id, i.order_item_id",
        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, ids[0]);
    db_bind_i64(s, 3, ids[n - 1]);
    db_bind_text(s, 4, st->model.currency);
    struct intel_profile_history h;
    size_t k = 0; /* the customer being read: ids[k] */
    intel_profile_history_init(&h);
    int64_t last_order = -1;
    int stp = DB_DONE;
    /* finish customers up to (not including) pk `upto` */
    rc = 0;
#define FLUSH_UPTO(upto)                                                                           \
    while (!rc && k < n && ids[k] < (upto)) {                                                      \
        out[k].pk = ids[k];                                                                        \
        rc = intel_profiles_compute(&h, as_of_ms, &st->cfg, a, &out[k].profiles, e);               \
        predict(st, ids[k], a, &out[k].pred);                                                      \
        intel_profile_history_init(&h);                                                            \
        k++;                                                                                       \
    }
    while (!rc && (stp = db_step(s, e)) == DB_ROW) {
        int64_t cust = db_col_i64(s, 0), order = db_col_i64(s, 1);
        FLUSH_UPTO(cust);
        if (rc)
            break;
        if (order != last_order) {
            last_order = order;
            enum commerce_order_status status = COMMERCE_ORDER_CANCELLED;
            struct err se;
            err_init(&se);
            /* a status the profiles do not know never counts */
            if (commerce_order_status_parse(db_col_text(s, 3), "status", &status, &se))
                status = COMMERCE_ORDER_CANCELLED;
            struct intel_profile_order o = {.created_at_ms = db_col_time(s, 2),
                                            .status = status,
                                            .total = db_col_i64(s, 4),
                                            .campaign = !db_col_is_null(s, 12)};
            intel_profile_history_add_order(&h, a, &o);
        }
        if (!db_col_is_null(s, 5)) {
            const char *pcur = db_col_text(s, 10);
            bool same = pcur && str_eq(pcur, st->model.currency);
            struct intel_profile_item it = {
                .product_id = db_col_i64(s, 5),
                .category_id = db_col_is_null(s, 6) ? 0 : db_col_i64(s, 6),
                .quantity = db_col_i64(s, 7),
                .unit_price = db_col_i64(s, 8),
                /* the item's own list price, else the product's price today */
                .list_price = !db_col_is_null(s, 11)          ? db_col_i64(s, 11)
                              : same && !db_col_is_null(s, 9) ? db_col_i64(s, 9)
                                                              : 0};
            intel_profile_history_add_item(&h, a, &it);
        }
    }
    db_stmt_done(s);
    if (!rc && stp == DB_ERROR)
        rc = db_step_error(e);
    FLUSH_UPTO(INT64_MAX);
#undef FLUSH_UPTO
    return rc;
}

static int count_customers(struct db_conn *c, int64_t tenant, int64_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s, "SELECT count(*) FROM customer WHERE tenant_id = ? AND is_active = (1 = 1)", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    bool found;
    *n = 0;
    return db_one_i64(s, n, &found, e);
}

/* Write out[0..n) into `batch`, then the resume point and progress, in one transaction. */
static int write_chunk(struct db_conn *c, int64_t tenant, int64_t batch, int64_t job_id,
                       const struct computed *out, size_t n, int64_t processed, int64_t total,
                       int64_t now_ms, bool advance, struct err *e)
{
    int rc = db_begin(c, e);
    if (rc)
        return rc;
    /* a batch being written holds no row of these customers yet; the current one may */
    for (size_t i = 0; i < n && !rc; i++)
        rc = advance ? profile_store_insert(c, tenant, batch, out[i].pk, &out[i].profiles,
                                            &out[i].pred, now_ms, e)
                     : profile_store_write(c, tenant, batch, out[i].pk, &out[i].profiles,
                                           &out[i].pred, now_ms, e);
    if (!rc && advance)
        rc = profile_store_batch_advance(c, batch, out[n - 1].pk, processed, e);
    if (!rc && job_id > 0)
        rc = jobs_set_progress(c, job_id, processed, total, e);
    if (rc) {
        db_rollback(c);
        return rc;
    }
    return db_commit(c, e);
}

int intel_profiles_run(struct db_conn *c, int64_t tenant, int64_t batch_id, int64_t job_id,
                       int64_t now_ms, intel_progress_fn *progress, intel_stop_fn *stop, void *ctx,
                       struct err *e)
{
    struct arena a;
    arena_init(&a);
    struct profile_batch_row b;
    bool found = false;
    int rc = profile_store_batch_get(c, tenant, batch_id, &a, &b, &found, e);
    if (!rc && !found)
        rc = err_set_field(e, ERR_NOT_FOUND, "batch_id", "no profile batch %lld in this tenant",
                           (long long)batch_id);
    if (rc || !str_eq(b.status, "running")) {
        arena_release(&a);
        return rc;
    }
    int64_t as_of = b.as_of_ms, after = b.resume_after, processed = b.processed, total = 0;
    struct run_state st;
    rc = run_state_load(c, tenant, as_of, &st, e);
    if (!rc)
        rc = count_customers(c, tenant, &total, e);
    if (!rc) {
        char *mj = model_json(&st.model);
        rc = profile_store_batch_begin_run(c, batch_id, st.model.currency, mj, total, e);
        free(mj);
    }
    if (!rc && job_id > 0)
        rc = jobs_set_progress(c, job_id, processed < total ? processed : total, total, e);
    int64_t *ids = xcalloc(INTEL_PROFILE_CHUNK, sizeof(*ids));
    struct computed *out = xcalloc(INTEL_PROFILE_CHUNK, sizeof(*out));
    while (!rc) {
        struct arena ca;
        arena_init(&ca);
        size_t n = 0;
        rc = chunk_customers(c, tenant, after, 0, ids, &n, e);
        if (!rc && n == 0) {
            arena_release(&ca);
            break;
        }
        if (!rc)
            rc = compute_chunk(c, tenant, as_of, &st, ids, n, &ca, out, e);
        processed += (int64_t)n;
        if (processed > total)
            total = processed; /* customers added while the batch runs */
        if (!rc)
            rc =
                write_chunk(c, tenant, batch_id, job_id, out, n, processed, total, now_ms, true, e);
        arena_release(&ca);
        if (rc)
            break;
        after = ids[n - 1];
        if (progress)
            progress(ctx, processed, total);
        if (stop && stop(ctx))
            rc = err_set(e, ERR_TIMEOUT, "stopped after %lld of %lld customers; resumes",
                         (long long)processed, (long long)total);
    }
    free(ids);
    free(out);
    run_state_free(&st);
    if (!rc)
        rc = profile_store_finish(c, tenant, batch_id, now_ms, e);
    int64_t deleted = 0;
    if (!rc)
        rc = profile_store_prune(c, tenant, &deleted, e);
    if (!rc)
        log_info("msg=\"profiles computed\" tenant=%lld batch=%lld customers=%lld "
                 "old_rows_deleted=%lld",
                 (long long)tenant, (long long)batch_id, (long long)processed, (long long)deleted);
    arena_release(&a);
    return rc;
}

int intel_profiles_run_one(struct db_conn *c, int64_t tenant, int64_t customer_pk, int64_t now_ms,
                           struct err *e)
{
    struct arena a;
    arena_init(&a);
    struct run_state st;
    int rc = run_state_load(c, tenant, now_ms, &st, e);
    int64_t ids[1];
    size_t n = 0;
    struct computed out[1];
    memset(out, 0, sizeof(out));
    if (!rc)
        rc = chunk_customers(c, tenant, 0, customer_pk, ids, &n, e);
    if (!rc && n == 0)
        rc = err_set_field(e, ERR_NOT_FOUND, "customer_id",
                           "no active customer %lld in this tenant", (long long)customer_pk);
    if (!rc)
        rc = compute_chunk(c, tenant, now_ms, &st, ids, n, &a, out, e);
    struct profile_batch_row cur = {0};
    bool found = false;
    if (!rc)
        rc = profile_store_current(c, tenant, &a, &cur, &found, e);
    if (!rc && found) {
        rc = write_chunk(c, tenant, cur.id, 0, out, n, 0, 0, now_ms, false, e);
    } else if (!rc) {
        /* no finished batch yet: one holding this customer becomes current */
        int64_t batch = 0;
        rc = db_begin(c, e);
        if (!rc)
            rc = profile_store_batch_create(c, tenant, now_ms, 0, now_ms, &batch, e);
        if (!rc) {
            char *mj = model_json(&st.model);
            rc = profile_store_batch_begin_run(c, batch, st.model.currency, mj, 1, e);
            free(mj);
        }
        if (!rc)
            rc = profile_store_write(c, tenant, batch, out[0].pk, &out[0].profiles, &out[0].pred,
                                     now_ms, e);
        if (!rc)
            rc = profile_store_batch_advance(c, batch, out[0].pk, 1, e);
        if (!rc)
            rc = profile_store_finish(c, tenant, batch, now_ms, e);
        if (rc)
            db_rollback(c);
        else
            rc = db_commit(c, e);
    }
    run_state_free(&st);
    arena_release(&a);
    return rc;
}

/* ------------------------------------------------------------------ jobs */

static int64_t payload_i64(const char *payload, const char *key)
{
    json_t *root = json_loads(payload ? payload : "{}", 0, NULL);
    json_t *v = root ? json_object_get(root, key) : NULL;
    int64_t out = json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
    json_decref(root);
    return out;
}

static bool job_stop(void *ctx)
{
    return job_ctx_cancelled(ctx);
}

static int job_profiles(struct job_ctx *ctx, struct err *e)
{
    int64_t batch = payload_i64(ctx->payload, "batch_id");
    int rc = intel_profiles_run(ctx->conn, ctx->tenant_id, batch, ctx->job_id, ctx->now_ms, NULL,
                                job_stop, ctx, e);
    if (rc && rc != ERR_TIMEOUT && ctx->attempt >= ctx->max_attempts) {
        struct err fe;
        err_init(&fe);
        if (profile_store_fail(ctx->conn, batch, ctx->now_ms, &fe))
            log_warn("msg=\"cannot mark profile batch failed\" batch=%lld error=\"%s\"",
                     (long long)batch, fe.msg);
    }
    return rc;
}

static int job_profile_one(struct job_ctx *ctx, struct err *e)
{
    return intel_profiles_run_one(ctx->conn, ctx->tenant_id, payload_i64(ctx->payload, "customer"),
                                  ctx->now_ms, e);
}

/* Start a batch for every tenant with customers whose local hour is INTEL_NIGHTLY_HOUR. */
static int job_nightly(struct job_ctx *ctx, struct err *e)
{
    int64_t after = 0;
    for (;;) {
        struct db_stmt *s;
        int rc = db_prepare(ctx->conn, &s,
                            "SELECT DISTINCT tenant_id FROM customer WHERE tenant_id > ? ORDER "
                            "BY 1 LIMIT 256",
                            e);
        if (rc)
            return rc;
        db_bind_i64(s, 1, after);
        int64_t tenants[256];
        size_t n = 0;
        int stp;
        while ((stp = db_step(s, e)) == DB_ROW)
            tenants[n++] = db_col_i64(s, 0);
        db_stmt_done(s);
        if (stp == DB_ERROR)
            return db_step_error(e);
        if (n == 0)
            return 0;
        for (size_t i = 0; i < n; i++) {
            struct flash_config cfg;
            rc = flash_store_config_get(ctx->conn, tenants[i], &cfg, e);
            if (rc)
                return rc;
            int64_t local = ctx->now_ms + (int64_t)cfg.tz_offset_min * 60000;
            int hour = (int)((local / 3600000) % 24);
            if (hour < 0)
                hour += 24;
            if (hour != INTEL_NIGHTLY_HOUR)
                continue;
            int64_t job = 0;
            bool joined = false;
            rc = intel_profiles_recompute(ctx->conn, tenants[i], ctx->now_ms, ctx->now_ms, &job,
                                          &joined, e);
            if (rc)
                return rc;
        }
        after = tenants[n - 1];
    }
}

int intel_profiles_jobs_register(struct job_registry *reg, struct err *e)
{
    int rc = job_registry_add(reg, INTEL_JOB_PROFILES, job_profiles, NULL, 0, e);
    if (!rc)
        rc = job_registry_add(reg, INTEL_JOB_PROFILE_ONE, job_profile_one, NULL, 0, e);
    if (!rc)
        rc = job_registry_add(reg, INTEL_JOB_NIGHTLY, job_nightly, NULL, JOB_IN_TX, e);
    if (!rc)
        rc = job_registry_set_lane(reg, INTEL_JOB_PROFILES, LANE, e);
    if (!rc)
        rc = job_registry_set_lane(reg, INTEL_JOB_PROFILE_ONE, LANE, e);
    return rc;
}

int intel_profiles_schedule(struct sched *s, struct err *e)
{
    return sched_every(s, INTEL_JOB_NIGHTLY, 3600, INTEL_JOB_NIGHTLY, "{}", e);
}
