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

/* One row of the orders read for profiles: an order with one of its items (or none). */
struct order_row {
    int64_t customer, order, created_at_ms, total, item, product, category, unit_price, list_price;
    int32_t quantity;
    uint8_t status; /* enum commerce_order_status */
    bool campaign, has_item;
};

/* A product as an order item's row needs it: what a join with the product table gave. */
struct product_info {
    int64_t id, category, price;
    bool priced; /* a price in the orders' currency */
};

/* The orders of customers in (lo, hi] read so far, in the order compute_rows needs. */
struct order_rows {
    struct order_row *v; /* malloc'd, in the order read */
    uint32_t *idx;       /* malloc'd: v's rows by customer, created_at, order, item */
    size_t n, cap, next; /* next: the first of idx not yet given to a customer */
    int64_t lo, hi;
    bool loaded;
    /* the products the scans' items name, by id (malloc'd; read once for all scans) */
    struct product_info *products;
    size_t n_products, products_cap;
    bool products_loaded;
};

static void order_rows_free(struct order_rows *r)
{
    free(r->v);
    free(r->idx);
    free(r->products);
    memset(r, 0, sizeof(*r));
}

static void product_fill(struct db_stmt *s, const char *currency, struct product_info *p)
{
    p->category = !db_col_is_null(s, 1) ? db_col_i64(s, 1) : 0;
    const char *pcur = db_col_text(s, 3);
    p->priced = pcur && str_eq(pcur, currency) && !db_col_is_null(s, 2);
    p->price = p->priced ? db_col_i64(s, 2) : 0;
}

static void products_add(struct order_rows *r, const struct product_info *p)
{
    if (r->n_products == r->products_cap) {
        r->products_cap = r->products_cap ? r->products_cap * 2 : 256;
        r->products = xrealloc(r->products, r->products_cap * sizeof(*r->products));
    }
    /* kept by id: the tenant's come in that order, any other is put in its place */
    size_t k = r->n_products;
    for (; k > 0 && r->products[k - 1].id > p->id; k--)
        r->products[k] = r->products[k - 1];
    r->products[k] = *p;
    r->n_products++;
}

/* The tenant's products, read once: a scan's items look theirs up here instead of a join. */
static int products_load(struct db_conn *c, int64_t tenant, const char *currency,
                         struct order_rows *r, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT product_id, category_id, price, currency FROM product WHERE "
                        "tenant_id = ? ORDER BY product_id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    int stp;
    while ((stp = db_step(s, e)) == DB_ROW) {
        struct product_info p = {.id = db_col_i64(s, 0)};
        product_fill(s, currency, &p);
        products_add(r, &p);
    }
    db_stmt_done(s);
    if (stp == DB_ERROR)
        return db_step_error(e);
    r->products_loaded = true;
    return 0;
}

static int cmp_product(const void *k, const void *v)
{
    int64_t key = *(const int64_t *)k, id = ((const struct product_info *)v)->id;
    return key < id ? -1 : key > id;
}

/*
 * Product `id` as the join gave it: from r->products, else read (another tenant's product,
 * one added since) and kept; not found: no category and no price, as a join without a match.
 */
static int product_get(struct db_conn *c, const char *currency, struct order_rows *r, int64_t id,
                       const struct product_info **out, struct err *e)
{
    *out = r->n_products
               ? bsearch(&id, r->products, r->n_products, sizeof(*r->products), cmp_product)
               : NULL;
    if (*out)
        return 0;
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s, "SELECT product_id, category_id, price, currency FROM product WHERE product_id = ?",
        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, id);
    struct product_info p = {.id = id};
    int stp = db_step(s, e);
    if (stp == DB_ROW)
        product_fill(s, currency, &p);
    db_stmt_done(s);
    if (stp == DB_ERROR)
        return db_step_error(e);
    products_add(r, &p);
    *out = bsearch(&id, r->products, r->n_products, sizeof(*r->products), cmp_product);
    return 0;
}

static int cmp_order_row(const void *x, const void *y)
{
    const struct order_row *a = x, *b = y;
    if (a->customer != b->customer)
        return a->customer < b->customer ? -1 : 1;
    if (a->created_at_ms != b->created_at_ms)
        return a->created_at_ms < b->created_at_ms ? -1 : 1;
    if (a->order != b->order)
        return a->order < b->order ? -1 : 1;
    return (a->item > b->item) - (a->item < b->item);
}

/* A row's place among its customer's rows. */
struct row_key {
    int64_t at, order, item;
    uint32_t pos;
};

static int cmp_row_key(const void *x, const void *y)
{
    const struct row_key *a = x, *b = y;
    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    if (a->order != b->order)
        return a->order < b->order ? -1 : 1;
    return (a->item > b->item) - (a->item < b->item);
}

static void sort_keys(struct row_key *k, size_t n)
{
    if (n > 16) {
        qsort(k, n, sizeof(*k), cmp_row_key);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        struct row_key t = k[i];
        size_t j = i;
        for (; j > 0 && cmp_row_key(&k[j - 1], &t) > 0; j--)
            k[j] = k[j - 1];
        k[j] = t;
    }
}

/*
 * r->idx: the rows by customer (a counting sort over the customers' range of ids), then each
 * customer's by created_at, order, item. 4 bytes a row beside the rows, where sorting the rows
 * themselves would need a copy of them.
 */
static void order_rows_sort(struct order_rows *r)
{
    free(r->idx);
    r->idx = xcalloc(r->n ? r->n : 1, sizeof(*r->idx));
    if (r->n == 0)
        return;
    int64_t min = r->v[0].customer, max = min;
    for (size_t i = 1; i < r->n; i++) {
        min = r->v[i].customer < min ? r->v[i].customer : min;
        max = r->v[i].customer > max ? r->v[i].customer : max;
    }
    uint64_t range = (uint64_t)(max - min) + 1;
    if (range > 4 * (uint64_t)r->n + 1024) {
        /* ids far apart (other tenants' customers between them): the rows themselves sorted */
        qsort(r->v, r->n, sizeof(*r->v), cmp_order_row);
        for (size_t i = 0; i < r->n; i++)
            r->idx[i] = (uint32_t)i;
        return;
    } else {
        uint32_t *start = xcalloc((size_t)range + 1, sizeof(*start));
        for (size_t i = 0; i < r->n; i++)
            start[r->v[i].customer - min + 1]++;
        for (size_t c = 0; c < range; c++)
            start[c + 1] += start[c];
        for (size_t i = 0; i < r->n; i++)
            r->idx[start[r->v[i].customer - min]++] = (uint32_t)i;
        free(start);
    }
    /* each customer's rows by created_at, order, item */
    size_t cap = 64;
    struct row_key *k = xcalloc(cap, sizeof(*k));
    for (size_t b = 0; b < r->n;) {
        int64_t cust = r->v[r->idx[b]].customer;
        size_t end = b;
        while (end < r->n && r->v[r->idx[end]].customer == cust)
            end++;
        if (end - b > cap) {
            cap = end - b;
            free(k);
            k = xcalloc(cap, sizeof(*k));
        }
        for (size_t i = b; i < end; i++) {
            const struct order_row *o = &r->v[r->idx[i]];
            k[i - b] = (struct row_key){
                .at = o->created_at_ms, .order = o->order, .item = o->item, .pos = r->idx[i]};
        }
        sort_keys(k, end - b);
        for (size_t i = b; i < end; i++)
            r->idx[i] = k[i - b].pos;
        b = end;
    }
    free(k);
}

/*
 * Read the orders in `currency` of the customers in (lo, hi] of `tenant` with their items into
 * r, sorted by customer, created_at, order, item. `scan` reads the whole orders table in storage
 * order (one sequential pass, for a range holding many customers); otherwise the customer index
 * is used (a few customers).
 */
static int order_rows_load(struct db_conn *c, int64_t tenant, const char *currency, int64_t lo,
                           int64_t hi, bool scan, struct order_rows *r, struct err *e)
{
    r->n = r->next = 0;
    r->lo = lo;
    r->hi = hi;
    r->loaded = true;
    struct db_stmt *s;
    /* a scan: a unary + keeps SQLite from the customer index (its random reads of the orders
     * table are what a sequential scan avoids), and the products come from r->products
     * instead of a join (a lookup a row) */
    int rc = scan && !r->products_loaded ? products_load(c, tenant, currency, r, e) : 0;
    if (!rc)
        rc = db_prepare(
            c, &s,
            scan ? "SELECT o.customer_id, o.order_id, o.created_at, o.status, o.total_amount, "
                   "i.order_item_id, i.product_id, NULL, i.quantity, i.price, NULL, NULL, "
                   "i.list_price, o.campaign FROM orders o LEFT JOIN order_item i ON "
                   "i.order_id = o.order_id WHERE +o.tenant_id = ? AND +o.customer_id > ? AND "
                   "+o.customer_id <= ? AND o.currency = ?"
                 : "SELECT o.customer_id, o.order_id, o.created_at, o.status, o.total_amount, "
                   "i.order_item_id, i.product_id, p.category_id, i.quantity, i.price, p.price, "
                   "p.currency, i.list_price, o.campaign FROM orders o LEFT JOIN order_item i ON "
                   "i.order_id = o.order_id LEFT "
                   "JOIN product p ON p.product_id = i.product_id WHERE o.tenant_id = ? AND "
                   "o.customer_id > ? AND o.customer_id <= ? AND o.currency = ?",
            e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, lo);
    db_bind_i64(s, 3, hi);
    db_bind_text(s, 4, currency);
    int stp;
    int64_t last_order = -1;
    uint8_t last_status = COMMERCE_ORDER_CANCELLED;
    const struct product_info *last_product = NULL;
    while ((stp = db_step(s, e)) == DB_ROW) {
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 4096;
            r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
        }
        struct order_row *o = &r->v[r->n++];
        o->customer = db_col_i64(s, 0);
        o->order = db_col_i64(s, 1);
        o->created_at_ms = db_col_time(s, 2);
        if (o->order != last_order) {
            /* a status the profiles do not know never counts */
            enum commerce_order_status status = COMMERCE_ORDER_CANCELLED;
            struct err se;
            err_init(&se);
            if (commerce_order_status_parse(db_col_text(s, 3), "status", &status, &se))
                status = COMMERCE_ORDER_CANCELLED;
            last_status = (uint8_t)status;
            last_order = o->order;
        }
        o->status = last_status;
        o->campaign = !db_col_is_null(s, 13);
        o->total = db_col_i64(s, 4);
        o->has_item = !db_col_is_null(s, 6);
        o->item = o->has_item ? db_col_i64(s, 5) : 0;
        o->product = o->has_item ? db_col_i64(s, 6) : 0;
        o->quantity = o->has_item ? (int32_t)db_col_i64(s, 8) : 0;
        o->unit_price = o->has_item ? db_col_i64(s, 9) : 0;
        /* the item's own list price, else the product's price today (in this currency) */
        bool own_list = o->has_item && !db_col_is_null(s, 12);
        o->list_price = own_list ? db_col_i64(s, 12) : 0;
        if (o->has_item && scan) {
            if (!last_product || last_product->id != o->product) {
                rc = product_get(c, currency, r, o->product, &last_product, e);
                if (rc)
                    break;
            }
            o->category = last_product->category;
            if (!own_list)
                o->list_price = last_product->price;
        } else if (o->has_item) {
            o->category = !db_col_is_null(s, 7) ? db_col_i64(s, 7) : 0;
            const char *pcur = db_col_text(s, 11);
            if (!own_list)
                o->list_price = pcur && str_eq(pcur, currency) && !db_col_is_null(s, 10)
                                    ? db_col_i64(s, 10)
                                    : 0;
        } else {
            o->category = 0;
        }
    }
    db_stmt_done(s);
    if (rc)
        return rc;
    if (stp == DB_ERROR)
        return db_step_error(e);
    if (r->n > UINT32_MAX)
        return err_set(e, ERR_INTERNAL, "%zu order rows in one scan", r->n);
    order_rows_sort(r);
    return 0;
}

/*
 * Compute the customers ids[0..n) (ascending, within (r->lo, r->hi]) from the rows r holds:
 * out[i] for ids[i], memory from `a`.
 */
static int compute_rows(struct order_rows *r, int64_t as_of_ms, const struct run_state *st,
                        const int64_t *ids, size_t n, struct arena *a, struct computed *out,
                        struct err *e)
{
    int rc = 0;
    for (size_t k = 0; k < n && !rc; k++) {
        struct intel_profile_history h;
        intel_profile_history_init(&h);
        /* rows of customers without a row of their own here (inactive ones) are passed over */
        while (r->next < r->n && r->v[r->idx[r->next]].customer < ids[k])
            r->next++;
        int64_t last_order = -1;
        for (; r->next < r->n && r->v[r->idx[r->next]].customer == ids[k]; r->next++) {
            const struct order_row *o = &r->v[r->idx[r->next]];
            if (o->order != last_order) {
                last_order = o->order;
                struct intel_profile_order po = {.created_at_ms = o->created_at_ms,
                                                 .status = (enum commerce_order_status)o->status,
                                                 .total = o->total,
                                                 .campaign = o->campaign};
                intel_profile_history_add_order(&h, a, &po);
            }
            if (o->has_item) {
                struct intel_profile_item it = {.product_id = o->product,
                                                .category_id = o->category,
                                                .quantity = o->quantity,
                                                .unit_price = o->unit_price,
                                                .list_price = o->list_price};
                intel_profile_history_add_item(&h, a, &it);
            }
        }
        out[k].pk = ids[k];
        rc = intel_profiles_compute(&h, as_of_ms, &st->cfg, a, &out[k].profiles, e);
        predict(st, ids[k], a, &out[k].pred);
    }
    return rc;
}

static int64_t pass_orders = INTEL_PROFILE_PASS_ORDERS;

void intel_profiles_set_pass_orders(int64_t orders)
{
    pass_orders = orders > 0 ? orders : INTEL_PROFILE_PASS_ORDERS;
}

/*
 * The end of the range of customers after `after` whose orders one scan reads: about
 * pass_orders counted orders by the run's summaries, at least `first`.
 */
static int64_t pass_end(const struct run_state *st, int64_t after, int64_t first)
{
    int64_t orders = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (st->sums[i].customer_pk <= after)
            continue;
        orders += st->sums[i].orders;
        if (orders >= pass_orders)
            return st->sums[i].customer_pk > first ? st->sums[i].customer_pk : first;
    }
    return INT64_MAX;
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
    if (advance) {
        struct profile_store_row *rows = xcalloc(n ? n : 1, sizeof(*rows));
        for (size_t i = 0; i < n; i++)
            rows[i] = (struct profile_store_row){
                .customer = out[i].pk, .profiles = &out[i].profiles, .pred = &out[i].pred};
        rc = profile_store_insert_many(c, tenant, batch, rows, n, now_ms, e);
        free(rows);
    }
    for (size_t i = 0; i < n && !rc && !advance; i++)
        rc = profile_store_write(c, tenant, batch, out[i].pk, &out[i].profiles, &out[i].pred,
                                 now_ms, e);
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
    struct order_rows rows = {0};
    while (!rc) {
        struct arena ca;
        arena_init(&ca);
        size_t n = 0;
        rc = chunk_customers(c, tenant, after, 0, ids, &n, e);
        if (!rc && n == 0) {
            arena_release(&ca);
            break;
        }
        if (!rc && (!rows.loaded || ids[0] > rows.hi))
            rc = order_rows_load(c, tenant, st.model.currency, after, pass_end(&st, after, ids[0]),
                                 true, &rows, e);
        while (!rc && n > 0 && ids[n - 1] > rows.hi)
            n--; /* the rest in the next pass */
        if (!rc)
            rc = compute_rows(&rows, as_of, &st, ids, n, &ca, out, e);
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
    order_rows_free(&rows);
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
    struct order_rows rows = {0};
    if (!rc)
        rc = order_rows_load(c, tenant, st.model.currency, ids[0] - 1, ids[0], false, &rows, e);
    if (!rc)
        rc = compute_rows(&rows, now_ms, &st, ids, n, &a, out, e);
    order_rows_free(&rows);
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
