/* SPDX-License-Identifier: MIT */
/*
 * The campaign planner at work and its decision log (see planner_service.h): SQL through db_*
 * only, the model through net/llm. Tests: tests/integration/0026-campaigns.c.
 */
#include "domain/intel/planner_service.h"
#include "domain/intel/intel_config.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/money.h"
#include "core/str.h"
#include "db/store.h"
#include "domain/commerce/commerce_store.h"
#include "domain/intel/planner.h"
#include "domain/intel/signals.h"
#include "jobs/queue.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void drop_json(void *p)
{
    json_decref(p);
}

static json_t *keep(struct arena *a, json_t *j)
{
    if (j)
        arena_defer(a, drop_json, j);
    return j;
}

static const char *dump(json_t *j, struct arena *a)
{
    if (!j)
        return NULL;
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    const char *out = s ? arena_strdup(a, s) : NULL;
    free(s);
    return out;
}

/* ------------------------------------------------------------------------------------ metrics */

static pthread_mutex_t metrics_mu = PTHREAD_MUTEX_INITIALIZER;
static struct planner_metrics metrics;

void planner_metrics_read(struct planner_metrics *out)
{
    pthread_mutex_lock(&metrics_mu);
    *out = metrics;
    pthread_mutex_unlock(&metrics_mu);
}

/* ---------------------------------------------------------------------------------- catalogue */

static double major(int64_t minor, const char *currency)
{
    const struct money_currency *cur = NULL;
    struct err e;
    err_init(&e);
    int exponent =
        currency && currency[0] && !money_currency_find(currency, &cur, &e) ? cur->exponent : 2;
    return (double)minor / pow(10, exponent);
}

/*
 * The products a plan may name: in stock, named and priced, at most PLANNER_CATALOG_MAX; the
 * customer's due products (up to 5) first, then those of their top categories, then the oldest.
 */
static int catalog_load(struct db_conn *c, int64_t tenant, const struct intel_signals *sig,
                        struct arena *a, struct planner_catalog *out, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT p.public_id, p.name, coalesce(g.public_id, ''), p.price, "
                        "p.currency, p.stock FROM product p "
                        "LEFT JOIN category g ON g.category_id = p.category_id "
                        "WHERE p.tenant_id = ? AND p.stock > 0 AND p.name IS NOT NULL "
                        "AND p.price IS NOT NULL ORDER BY "
                        "CASE WHEN p.public_id IN (?, ?, ?, ?, ?) THEN 0 "
                        "WHEN g.public_id IN (?, ?, ?) THEN 1 ELSE 2 END, p.product_id LIMIT ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    for (size_t i = 0; i < 5; i++) {
        if (i < sig->n_gaps)
            db_bind_text(s, 2 + (int)i, sig->gaps[i].product_id);
        else
            db_bind_null(s, 2 + (int)i);
    }
    for (size_t i = 0; i < 3; i++) {
        if (i < sig->n_top_categories)
            db_bind_text(s, 7 + (int)i, sig->top_categories[i].category_id);
        else
            db_bind_null(s, 7 + (int)i);
    }
    db_bind_i64(s, 10, PLANNER_CATALOG_MAX);
    struct planner_product *items = arena_alloc(a, PLANNER_CATALOG_MAX * sizeof(*items));
    size_t n = 0;
    int st;
    while ((st = db_step(s, e)) == DB_ROW && n < PLANNER_CATALOG_MAX) {
        struct planner_product *p = &items[n++];
        p->product_id = db_col_dup(s, 0, a);
        p->name = db_col_dup(s, 1, a);
        p->category_id = db_col_dup(s, 2, a);
        p->price = major(db_col_i64(s, 3), db_col_text(s, 4));
        p->stock = db_col_i64(s, 5);
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    out->items = items;
    out->n = n;
    struct intel_config cfg;
    rc = intel_config_get(c, tenant, &cfg, e);
    out->max_discount = cfg.max_discount;
    return rc;
}

/* A believed answer's products get their catalogue names, as the rules' have. */
static void name_products(json_t *campaign, const struct planner_catalog *cat)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(campaign, "recommendedProducts"), i, p)
    {
        const char *id = json_string_value(json_object_get(p, "productId"));
        for (size_t k = 0; id && k < cat->n; k++) {
            if (str_eq(cat->items[k].product_id, id)) {
                json_object_set_new(p, "name", json_string(cat->items[k].name));
                break;
            }
        }
    }
}

/* -------------------------------------------------------------------------------- the model */

typedef int check_fn(json_t *answer, const void *ctx, struct err *e);

struct ask {
    const char *system, *user; /* in */
    json_t *answer;            /* believed answer (owned by the arena), or NULL */
    const char *raw;           /* the last raw answer, or NULL */
    const char *model;
    char sha[2 * SEC_SHA256_LEN + 1];
    struct buf outcome;
    int attempts, refused;
    bool unreachable;
    int64_t latency_ms, prompt_tokens, completion_tokens;
};

static void ask_model(const struct llm_config *llm, struct ask *k, check_fn *check, const void *ctx,
                      struct arena *a)
{
    struct sec_sha256_state st;
    unsigned char d[SEC_SHA256_LEN];
    sec_sha256_init(&st);
    sec_sha256_update(&st, k->system, strlen(k->system));
    sec_sha256_update(&st, "\n", 1);
    sec_sha256_update(&st, k->user, strlen(k->user));
    sec_sha256_final(&st, d);
    struct err he;
    err_init(&he);
    sec_hex_encode(k->sha, sizeof(k->sha), d, sizeof(d), &he);
    k->model = llm->model ? llm->model : LLM_DEFAULT_MODEL;
    json_t *req = json_pack("{s:s, s:f, s:[{s:s, s:s}, {s:s, s:s}]}", "model", k->model,
                            "temperature", 0.7, "messages", "role", "system", "content", k->system,
                            "role", "user", "content", k->user);
    const char *body = dump(req, a);
    json_decref(req);
    bool retried = false;
    for (int attempt = 0; attempt < 2 && body; attempt++) {
        struct llm_reply r = {0};
        struct err e;
        err_init(&e);
        k->attempts++;
        int rc = llm_chat(llm, body, &r, &e);
        k->latency_ms += r.latency_ms;
        k->prompt_tokens += r.prompt_tokens;
        k->completion_tokens += r.completion_tokens;
        if (rc) {
            buf_appendf(&k->outcome, "%smodel not reached (status %ld): %s",
                        k->outcome.len ? "; " : "", r.status, e.msg);
            /*
             * A 429 or 5xx is asked once more after a short pause (Retry-After, at most
             * PLANNER_RETRY_MAX_MS); a timeout is not: the request already waited its budget.
             */
            bool again = !retried && r.retryable && r.status >= 429;
            int64_t pause = r.retry_after_ms > 0 ? r.retry_after_ms : PLANNER_RETRY_MIN_MS;
            llm_reply_release(&r);
            if (again) {
                retried = true;
                attempt--; /* a retry of the call, not another answer */
                struct timespec ts = {0, 0};
                pause = pause < PLANNER_RETRY_MAX_MS ? pause : PLANNER_RETRY_MAX_MS;
                ts.tv_sec = (time_t)(pause / 1000);
                ts.tv_nsec = (long)(pause % 1000) * 1000000L;
                nanosleep(&ts, NULL);
                continue;
            }
            k->unreachable = true;
            return; /* the rules answer */
        }
        k->raw = arena_strdup(a, r.content);
        llm_reply_release(&r);
        json_t *j = NULL;
        rc = planner_answer_parse(k->raw, &j, &e);
        if (!rc)
            rc = check(j, ctx, &e);
        if (!rc) {
            k->answer = keep(a, j);
            return;
        }
        json_decref(j);
        k->refused++;
        buf_appendf(&k->outcome, "%sanswer %d refused: %s: %s", k->outcome.len ? "; " : "",
                    attempt + 1, e.field, e.msg);
    }
}

/* ---------------------------------------------------------------------------------- the log */

struct log_row {
    const char *kind, *cart_id, *goal, *constraints, *target, *signals, *planner, *model;
    const char *sha, *answer, *campaign, *type, *outcome;
    int64_t customer_pk;
    bool has_threshold;
    double threshold;
    int attempts;
    int64_t latency_ms, prompt_tokens, completion_tokens;
};

static void bind_opt(struct db_stmt *s, int i, const char *v)
{
    if (v)
        db_bind_text(s, i, v);
    else
        db_bind_null(s, i);
}

/* A new decision-log id, cmp_ and 16 url-safe characters. */
static int new_log_id(char out[PLANNER_ID_SIZE], struct err *e)
{
    return sec_random_id(out, PLANNER_ID_SIZE, "cmp_", 12, e);
}

/* The row `w` under public id `want` (NULL: a new one), its id in *id. */
static int log_insert(struct db_conn *c, int64_t tenant, const struct log_row *w, const char *want,
                      int64_t now_ms, struct arena *a, const char **id, struct err *e)
{
    char pub[PLANNER_ID_SIZE];
    int rc = 0;
    if (!want)
        rc = new_log_id(pub, e);
    else if (!str_copy(pub, sizeof(pub), want))
        rc = err_set_field(e, ERR_INVALID, "id", "campaign id too long");
    if (rc)
        return rc;
    struct db_stmt *s;
    rc =
        db_prepare(c, &s,
                   "INSERT INTO campaigns (tenant_id, public_id, kind, customer_id, cart_id, goal, "
                   "constraints_json, target_json, signals_json, planner, model, prompt_sha256, "
                   "answer, campaign_json, campaign_type, threshold, outcome, attempts, "
                   "latency_ms, prompt_tokens, completion_tokens, created_at) VALUES (?, ?, ?, "
                   "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, pub);
    db_bind_text(s, 3, w->kind);
    if (w->customer_pk)
        db_bind_i64(s, 4, w->customer_pk);
    else
        db_bind_null(s, 4);
    bind_opt(s, 5, w->cart_id);
    bind_opt(s, 6, w->goal);
    bind_opt(s, 7, w->constraints);
    bind_opt(s, 8, w->target);
    bind_opt(s, 9, w->signals);
    db_bind_text(s, 10, w->planner);
    bind_opt(s, 11, w->model);
    db_bind_text(s, 12, w->sha ? w->sha : "");
    bind_opt(s, 13, w->answer);
    db_bind_text(s, 14, w->campaign);
    bind_opt(s, 15, w->type);
    if (w->has_threshold)
        db_bind_f64(s, 16, w->threshold);
    else
        db_bind_null(s, 16);
    db_bind_text(s, 17, w->outcome);
    db_bind_i64(s, 18, w->attempts);
    db_bind_i64(s, 19, w->latency_ms);
    db_bind_i64(s, 20, w->prompt_tokens);
    db_bind_i64(s, 21, w->completion_tokens);
    db_bind_time(s, 22, now_ms);
    rc = db_exec_write(s, NULL, e);
    if (!rc)
        *id = arena_strdup(a, pub);
    return rc;
}

static void count_plan(bool company, const struct ask *k)
{
    pthread_mutex_lock(&metrics_mu);
    metrics.plans[company ? 1 : 0][k->answer ? 0 : 1]++;
    metrics.refused += (uint64_t)k->refused;
    metrics.unreachable += k->unreachable ? 1 : 0;
    metrics.model_latency_ms += (uint64_t)k->latency_ms;
    metrics.prompt_tokens += (uint64_t)k->prompt_tokens;
    metrics.completion_tokens += (uint64_t)k->completion_tokens;
    pthread_mutex_unlock(&metrics_mu);
}

static void fill_from_ask(struct log_row *w, const struct ask *k, bool asked)
{
    if (!asked) {
        w->outcome = "ok: no model configured";
        return;
    }
    w->model = k->model;
    w->sha = k->sha;
    w->answer = k->raw;
    w->attempts = k->attempts;
    w->latency_ms = k->latency_ms;
    w->prompt_tokens = k->prompt_tokens;
    w->completion_tokens = k->completion_tokens;
    w->outcome = k->answer ? (k->outcome.len ? buf_str(&k->outcome) : "ok") : buf_str(&k->outcome);
}

/* ------------------------------------------------------------------------------- personal */

struct personal_ctx {
    const struct intel_signals *s;
    const struct planner_catalog *cat;
};

static int check_personal(json_t *answer, const void *ctx, struct err *e)
{
    const struct personal_ctx *p = ctx;
    return planner_personal_check(answer, p->s, p->cat, e);
}

int planner_personal_generate(struct db_conn *c, int64_t tenant, const struct llm_config *llm,
                              const char *customer_id, const char *cart_id, const char *id,
                              int64_t now_ms, struct arena *a, struct planner_result *out,
                              struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct intel_signals s;
    int rc = intel_signals_collect(c, tenant, customer_id, cart_id, now_ms, a, &s, e);
    if (rc)
        return rc;
    struct commerce_customer cu;
    rc = commerce_store_customer_get(c, tenant, customer_id, a, &cu, e);
    if (rc)
        return rc == ERR_NOT_FOUND ? err_replace(e, rc, "customerId", "no customer %s", customer_id)
                                   : rc;
    struct planner_catalog cat;
    rc = catalog_load(c, tenant, &s, a, &cat, e);
    if (rc)
        return rc;
    out->signals = keep(a, intel_signals_json(&s));
    struct ask k;
    memset(&k, 0, sizeof(k));
    buf_init(&k.outcome, 4096);
    bool asked = llm && llm_configured(llm);
    if (asked) {
        k.system = planner_personal_system(&cat, a);
        k.user = planner_personal_user(out->signals, a);
        struct personal_ctx ctx = {&s, &cat};
        ask_model(llm, &k, check_personal, &ctx, a);
    }
    if (k.answer)
        name_products(k.answer, &cat);
    out->planner = k.answer ? "llm" : "rules";
    out->campaign = k.answer ? k.answer : keep(a, planner_personal_rules(&s, &cat));
    struct log_row w = {.kind = "personal",
                        .customer_pk = cu.pk,
                        .cart_id = cart_id,
                        .signals = dump(out->signals, a),
                        .planner = out->planner,
                        .campaign = dump(out->campaign, a)};
    fill_from_ask(&w, &k, asked);
    w.type = json_string_value(json_object_get(out->campaign, "campaignType"));
    json_t *ta = json_object_get(out->campaign, "targetAmount");
    if (json_is_number(ta) && w.type && !str_eq(w.type, "DISCOUNT")) {
        w.has_threshold = true;
        w.threshold = json_number_value(ta);
    }
    rc = log_insert(c, tenant, &w, id, now_ms, a, &out->id, e);
    count_plan(false, &k);
    if (!rc)
        log_info("msg=\"campaign planned\" tenant=%lld id=%s kind=personal planner=%s "
                 "attempts=%d outcome=\"%s\"",
                 (long long)tenant, out->id, out->planner, w.attempts, w.outcome);
    buf_release(&k.outcome);
    return rc;
}

/* -------------------------------------------------------------------------------- company */

static int check_goal(const char *goal, struct err *e)
{
    if (!goal || !*goal || strlen(goal) > PLANNER_GOAL_MAX || !str_utf8_valid(goal, strlen(goal)))
        return err_set_field(e, ERR_INVALID, "goal", "goal must be 1..%d characters",
                             PLANNER_GOAL_MAX);
    return 0;
}

static int check_company(json_t *answer, const void *ctx, struct err *e)
{
    return planner_company_check(answer, *(const int *)ctx, e);
}

int planner_company_generate(struct db_conn *c, int64_t tenant, const struct llm_config *llm,
                             const char *goal, json_t *constraints, json_t *target, const char *id,
                             int64_t now_ms, struct arena *a, struct planner_result *out,
                             struct err *e)
{
    memset(out, 0, sizeof(*out));
    int rc = check_goal(goal, e);
    if (rc)
        return rc;
    /* the tenant's cap, lowered by the constraints' maxDiscount, for the model as for the rules */
    struct intel_config cfg;
    rc = intel_config_get(c, tenant, &cfg, e);
    if (rc)
        return rc;
    int bound = cfg.max_discount;
    json_t *md = constraints ? json_object_get(constraints, "maxDiscount") : NULL;
    if (json_is_number(md) && json_number_value(md) >= 0 && json_number_value(md) < bound)
        bound = (int)json_number_value(md);
    struct ask k;
    memset(&k, 0, sizeof(k));
    buf_init(&k.outcome, 4096);
    bool asked = llm && llm_configured(llm);
    if (asked) {
        k.system = planner_company_system(bound, a);
        k.user = planner_company_user(goal, constraints, target, a);
        ask_model(llm, &k, check_company, &bound, a);
    }
    out->planner = k.answer ? "llm" : "rules";
    out->campaign =
        k.answer ? k.answer : keep(a, planner_company_rules(goal, constraints, target, bound));
    struct log_row w = {.kind = "company",
                        .goal = goal,
                        .constraints = dump(constraints, a),
                        .target = dump(target, a),
                        .planner = out->planner,
                        .campaign = dump(out->campaign, a)};
    fill_from_ask(&w, &k, asked);
    rc = log_insert(c, tenant, &w, id, now_ms, a, &out->id, e);
    count_plan(true, &k);
    if (!rc)
        log_info("msg=\"campaign planned\" tenant=%lld id=%s kind=company planner=%s "
                 "attempts=%d outcome=\"%s\"",
                 (long long)tenant, out->id, out->planner, w.attempts, w.outcome);
    buf_release(&k.outcome);
    return rc;
}

/* -------------------------------------------------------------------------------- reading */

#define LOG_COLS                                                                                   \
    "m.id, m.public_id, m.kind, cu.public_id, m.cart_id, m.goal, m.constraints_json, "             \
    "m.target_json, m.planner, m.model, m.prompt_sha256, m.campaign_json, m.campaign_type, "       \
    "m.threshold, m.outcome, m.attempts, m.latency_ms, m.prompt_tokens, m.completion_tokens, "     \
    "m.created_at, m.signals_json, m.answer FROM campaigns m "                                     \
    "LEFT JOIN customer cu ON cu.customer_id = m.customer_id "

static json_t *json_col(struct db_stmt *s, int col)
{
    if (db_col_is_null(s, col))
        return json_null();
    json_t *j = json_loads(db_col_text(s, col), JSON_DECODE_ANY, NULL);
    return j ? j : json_null();
}

static json_t *str_col(struct db_stmt *s, int col)
{
    return db_col_is_null(s, col) ? json_null() : json_string(db_col_text(s, col));
}

static json_t *row_json(struct db_stmt *s, bool full)
{
    char ts[CLOCK_ISO_LEN];
    clock_format_iso(db_col_time(s, 19), ts);
    json_t *o = json_pack(
        "{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:s, s:o, s:o, s:o, s:s, s:I, s:I, s:{s:I, "
        "s:I}, s:s}",
        "id", db_col_text(s, 1), "kind", db_col_text(s, 2), "customerId", str_col(s, 3), "cartId",
        str_col(s, 4), "goal", str_col(s, 5), "constraints", json_col(s, 6), "target",
        json_col(s, 7), "planner", db_col_text(s, 8), "model", str_col(s, 9), "promptSha256",
        db_col_text(s, 10), "campaign", json_col(s, 11), "campaignType", str_col(s, 12),
        "threshold", db_col_is_null(s, 13) ? json_null() : json_real(db_col_f64(s, 13)),
        "validation", db_col_text(s, 14), "attempts", (json_int_t)db_col_i64(s, 15), "latencyMs",
        (json_int_t)db_col_i64(s, 16), "usage", "promptTokens", (json_int_t)db_col_i64(s, 17),
        "completionTokens", (json_int_t)db_col_i64(s, 18), "createdAt", ts);
    if (o && full) {
        json_object_set_new(o, "signals", json_col(s, 20));
        json_object_set_new(o, "answer", str_col(s, 21));
    }
    return o;
}

int planner_log_get(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                    json_t **out, struct err *e)
{
    *out = NULL;
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "SELECT " LOG_COLS "WHERE m.tenant_id = ? AND m.public_id = ?", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, id);
    int st = db_step(s, e);
    if (st == DB_ROW)
        *out = keep(a, row_json(s, true));
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    if (!*out)
        return err_set_field(e, ERR_NOT_FOUND, "id", "no campaign %s", id);
    return 0;
}

int planner_log_list(struct db_conn *c, int64_t tenant, const char *kind, const char *customer_id,
                     int64_t after, int64_t limit, struct arena *a, json_t **out, size_t *n,
                     int64_t *last_pk, struct err *e)
{
    *out = keep(a, json_array());
    *n = 0;
    *last_pk = 0;
    const char *sql =
        arena_printf(a,
                     "SELECT " LOG_COLS "WHERE m.tenant_id = ? AND m.id > ?%s%s "
                     "ORDER BY m.id LIMIT ?",
                     kind ? " AND m.kind = ?" : "", customer_id ? " AND cu.public_id = ?" : "");
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    int i = 1;
    db_bind_i64(s, i++, tenant);
    db_bind_i64(s, i++, after);
    if (kind)
        db_bind_text(s, i++, kind);
    if (customer_id)
        db_bind_text(s, i++, customer_id);
    db_bind_i64(s, i, limit);
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        json_array_append_new(*out, row_json(s, false));
        *last_pk = db_col_i64(s, 0);
        (*n)++;
    }
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

int planner_near(struct db_conn *c, int64_t tenant, const char *customer_id, const char *cart_id,
                 int64_t now_ms, struct arena *a, json_t **out, struct err *e)
{
    *out = NULL;
    struct intel_signals sig;
    int rc = intel_signals_collect(c, tenant, customer_id, cart_id, now_ms, a, &sig, e);
    if (rc)
        return rc;
    struct commerce_customer cu;
    rc = commerce_store_customer_get(c, tenant, customer_id, a, &cu, e);
    if (rc)
        return rc == ERR_NOT_FOUND ? err_replace(e, rc, "customerId", "no customer %s", customer_id)
                                   : rc;
    double current = sig.has_cart ? sig.cart_total : sig.avg_order_value;
    const char *currency = sig.has_cart ? sig.cart_currency : sig.currency;
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "SELECT " LOG_COLS "WHERE m.tenant_id = ? AND m.customer_id = ? "
                    "AND m.kind = 'personal' AND m.threshold IS NOT NULL "
                    "ORDER BY m.id DESC LIMIT ?",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, cu.pk);
    db_bind_i64(s, 3, PLANNER_NEAR_MAX);
    json_t *near = json_array();
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        double threshold = db_col_f64(s, 13);
        if (!(current < threshold && current >= PLANNER_NEAR_SHARE * threshold))
            continue;
        json_t *campaign = json_col(s, 11);
        json_t *title = json_object_get(campaign, "title");
        json_array_append_new(near, json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "id",
                                              db_col_text(s, 1), "campaignType", str_col(s, 12),
                                              "title", title ? json_incref(title) : json_null(),
                                              "targetAmount", json_real(threshold), "gap",
                                              json_real(round((threshold - current) * 100) / 100),
                                              "progress",
                                              json_real(round(current / threshold * 1000) / 10)));
        json_decref(campaign);
    }
    db_stmt_done(s);
    if (st == DB_ERROR) {
        json_decref(near);
        return db_step_error(e);
    }
    *out = keep(a, json_pack("{s:s, s:o, s:s, s:s, s:o}", "customerId", customer_id,
                             "currentAmount", json_real(round(current * 100) / 100), "basis",
                             sig.has_cart ? "cart" : "avgOrderValue", "currency",
                             currency ? currency : "", "nearCampaigns", near));
    return 0;
}

/* ------------------------------------------------------------------------- on its own lane */

/* Set once by planner_jobs_register() before workers start (see the header). */
static const unsigned char *plan_secret_key;
static int64_t plan_default_tenant;

int planner_enqueue(struct db_conn *c, int64_t tenant, const struct planner_request *q,
                    int64_t now_ms, struct arena *a, int64_t *job_id, const char **id,
                    struct err *e)
{
    *job_id = 0;
    *id = NULL;
    int rc = 0;
    if (q->company) {
        rc = check_goal(q->goal, e);
        if (rc)
            return rc;
    } else {
        struct intel_signals s; /* the checks the plan would fail at once: customer and cart */
        rc = intel_signals_collect(c, tenant, q->customer_id, q->cart_id, now_ms, a, &s, e);
        if (rc)
            return rc;
    }
    char pub[PLANNER_ID_SIZE];
    rc = new_log_id(pub, e);
    if (rc)
        return rc;
    json_t *p =
        keep(a, json_pack("{s:s, s:s}", "kind", q->company ? "company" : "personal", "id", pub));
    if (!p)
        return err_set(e, ERR_INTERNAL, "out of memory");
    if (q->company) {
        json_object_set_new(p, "goal", json_string(q->goal));
        if (q->constraints)
            json_object_set(p, "constraints", q->constraints);
        if (q->target)
            json_object_set(p, "target", q->target);
    } else {
        json_object_set_new(p, "customerId", json_string(q->customer_id));
        if (q->cart_id)
            json_object_set_new(p, "cartId", json_string(q->cart_id));
    }
    struct job_spec spec = {
        .name = PLANNER_JOB, .payload_json = dump(p, a), .tenant_id = tenant, .max_attempts = 3};
    rc = jobs_enqueue(c, &spec, now_ms, job_id, NULL, e);
    if (!rc)
        *id = arena_strdup(a, pub);
    return rc;
}

int planner_answer(struct db_conn *c, int64_t tenant, const char *id, struct arena *a, json_t **out,
                   struct err *e)
{
    *out = NULL;
    json_t *row;
    int rc = planner_log_get(c, tenant, id, a, &row, e);
    if (rc)
        return rc;
    json_t *campaign = json_object_get(row, "campaign");
    if (str_eq(json_string_value(json_object_get(row, "kind")), "company"))
        *out =
            json_pack("{s:O, s:O, s:O}", "proposals", json_object_get(campaign, "proposals"), "id",
                      json_object_get(row, "id"), "planner", json_object_get(row, "planner"));
    else
        *out = json_pack("{s:O, s:O, s:O, s:O}", "signals", json_object_get(row, "signals"),
                         "campaign", campaign, "id", json_object_get(row, "id"), "planner",
                         json_object_get(row, "planner"));
    if (!*out)
        return err_set(e, ERR_INTERNAL, "campaign %s: stored row is not readable", id);
    keep(a, *out);
    return 0;
}

/* PLANNER_JOB: plan what the payload asks for under its reserved id, once. */
static int run_plan(struct job_ctx *ctx, struct err *e)
{
    json_t *p = keep(ctx->arena, json_loads(ctx->payload ? ctx->payload : "", 0, NULL));
    const char *id = json_string_value(json_object_get(p, "id"));
    const char *kind = json_string_value(json_object_get(p, "kind"));
    if (!id || !kind || ctx->tenant_id <= 0)
        return err_set(e, ERR_INVALID, "job %lld: payload needs id and kind, and a tenant",
                       (long long)ctx->job_id);
    json_t *row;
    int rc = planner_log_get(ctx->conn, ctx->tenant_id, id, ctx->arena, &row, e);
    if (rc != ERR_NOT_FOUND)
        return rc; /* 0: a repeated run, the plan is logged already */
    err_init(e);
    struct llm_config llm;
    if (plan_secret_key)
        rc = llm_config_for_tenant(ctx->conn, plan_secret_key, ctx->tenant_id,
                                   ctx->tenant_id == plan_default_tenant, ctx->arena, &llm, e);
    else
        llm_config_from_env(&llm); /* registered without a key (tests): the environment's */
    if (rc)
        return rc;
    struct planner_result out;
    if (str_eq(kind, "company"))
        return planner_company_generate(
            ctx->conn, ctx->tenant_id, &llm, json_string_value(json_object_get(p, "goal")),
            json_object_get(p, "constraints"), json_object_get(p, "target"), id, ctx->now_ms,
            ctx->arena, &out, e);
    return planner_personal_generate(
        ctx->conn, ctx->tenant_id, &llm, json_string_value(json_object_get(p, "customerId")),
        json_string_value(json_object_get(p, "cartId")), id, ctx->now_ms, ctx->arena, &out, e);
}

int planner_jobs_register(struct job_registry *reg, const unsigned char *secret_key,
                          int64_t default_tenant, struct err *e)
{
    plan_secret_key = secret_key;
    plan_default_tenant = default_tenant;
    int rc = job_registry_add(reg, PLANNER_JOB, run_plan, NULL, 0, e);
    if (!rc)
        rc = job_registry_set_lane(reg, PLANNER_JOB, PLANNER_LANE, e);
    return rc;
}
