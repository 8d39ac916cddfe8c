/* SPDX-License-Identifier: MIT */
/*
 * The tenant's customer model from its orders (see intel_model.h): one sequential scan of the
 * counted orders (all currencies: the main one is known at its end), sorted by customer and
 * time, customers reduced to RFM summaries, then the fits. Tests:
 * tests/unit/domain/test_intel_model.c.
 */
#include "domain/intel/intel_model.h"
#include "core/money.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "db/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

struct acc {
    struct intel_customer_summary sum;
    int64_t first_day, last_day, day; /* the occasion being summed */
    double day_spend, repeat_spend;
    int occasions;
};

/* A counted order as the fit reads it; cur: its currency's place in the scan's list of them. */
struct fit_order {
    int64_t customer, at, total, order;
    uint32_t cur;
};

/* By customer, then time, then order (a fixed order for equal times). */
static int cmp_fit_order(const void *x, const void *y)
{
    const struct fit_order *a = x, *b = y;
    if (a->customer != b->customer)
        return a->customer < b->customer ? -1 : 1;
    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

/* The currencies of the orders read, with how many counted orders each has. */
struct fit_currency {
    char *code; /* malloc'd */
    int64_t orders;
};

/* The place of `code` in cur[0..*n), added when new (*cap grows the array). */
static uint32_t currency_place(struct fit_currency **cur, size_t *n, size_t *cap, const char *code)
{
    for (size_t k = 0; k < *n; k++)
        if (strcmp((*cur)[k].code, code) == 0)
            return (uint32_t)k;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *cur = xrealloc(*cur, *cap * sizeof(**cur));
    }
    (*cur)[*n] = (struct fit_currency){.code = xstrdup(code)};
    return (uint32_t)(*n)++;
}

static void currencies_free(struct fit_currency *cur, size_t n)
{
    for (size_t k = 0; k < n; k++)
        free(cur[k].code);
    free(cur);
}

/*
 * The orders in the order the fit sums them (customer, time, order), as places in `o`: a
 * counting sort over the customers' range of ids, then each customer's few orders sorted;
 * qsort of the whole when the ids lie far apart. 4 bytes an order beside them.
 */
static uint32_t *fit_order_sort(struct fit_order *o, size_t n)
{
    uint32_t *idx = xcalloc(n ? n : 1, sizeof(*idx));
    if (n == 0)
        return idx;
    int64_t min = o[0].customer, max = min;
    for (size_t i = 1; i < n; i++) {
        min = o[i].customer < min ? o[i].customer : min;
        max = o[i].customer > max ? o[i].customer : max;
    }
    uint64_t range = (uint64_t)(max - min) + 1;
    if (range > 4 * (uint64_t)n + 1024) {
        qsort(o, n, sizeof(*o), cmp_fit_order);
        for (size_t i = 0; i < n; i++)
            idx[i] = (uint32_t)i;
        return idx;
    }
    uint32_t *start = xcalloc((size_t)range + 1, sizeof(*start));
    for (size_t i = 0; i < n; i++)
        start[o[i].customer - min + 1]++;
    for (size_t c = 0; c < range; c++)
        start[c + 1] += start[c];
    for (size_t i = 0; i < n; i++)
        idx[start[o[i].customer - min]++] = (uint32_t)i;
    free(start);
    for (size_t b = 0; b < n;) {
        size_t end = b + 1;
        while (end < n && o[idx[end]].customer == o[idx[b]].customer)
            end++;
        if (end - b > 32) {
            /* a customer with many orders: its orders sorted apart (qsort has no context) */
            struct fit_order *g = xcalloc(end - b, sizeof(*g));
            for (size_t i = b; i < end; i++) {
                g[i - b] = o[idx[i]];
                g[i - b].cur = idx[i]; /* its place, carried through the sort */
            }
            qsort(g, end - b, sizeof(*g), cmp_fit_order);
            for (size_t i = b; i < end; i++)
                idx[i] = g[i - b].cur;
            free(g);
        } else {
            /* insertion sort: a customer has few orders, mostly read in time order already */
            for (size_t i = b + 1; i < end; i++) {
                uint32_t t = idx[i];
                size_t j = i;
                for (; j > b && cmp_fit_order(&o[idx[j - 1]], &o[t]) > 0; j--)
                    idx[j] = idx[j - 1];
                idx[j] = t;
            }
        }
        b = end;
    }
    return idx;
}

/* Close the occasion being summed. */
static void close_day(struct acc *a)
{
    if (a->occasions > 1)
        a->repeat_spend += a->day_spend;
    a->day_spend = 0;
}

/* The summary of the customer just read, into out[*n]. */
static void emit(struct acc *a, int64_t as_of_day, struct intel_customer_summary *out, size_t *n)
{
    close_day(a);
    struct intel_customer_summary *r = &out[(*n)++];
    *r = a->sum;
    double T = (double)(as_of_day - a->first_day);
    r->observed = T > 0; /* first bought today: nothing to learn from yet */
    r->rfm.x = a->occasions - 1;
    r->rfm.t_x = (double)(a->last_day - a->first_day);
    r->rfm.T = T;
    r->rfm.zbar = r->rfm.x > 0 ? a->repeat_spend / r->rfm.x : 0;
}

int intel_model_fit(struct db_conn *c, int64_t tenant, int64_t as_of_ms, struct intel_model *out,
                    struct err *e)
{
    struct intel_customer_summary *rows = NULL;
    size_t n = 0;
    int rc = intel_model_fit_customers(c, tenant, as_of_ms, out, &rows, &n, e);
    free(rows);
    return rc;
}

int intel_model_fit_customers(struct db_conn *c, int64_t tenant, int64_t as_of_ms,
                              struct intel_model *out, struct intel_customer_summary **rows_out,
                              size_t *n_out, struct err *e)
{
    *rows_out = NULL;
    *n_out = 0;
    memset(out, 0, sizeof(*out));
    out->as_of_ms = as_of_ms;
    /* one sequential scan (a unary + keeps SQLite from the customer index, whose random reads
     * of the orders table cost more than the whole scan) of the counted orders in every
     * currency: the main currency is the one most of them are in (ties: the first by code),
     * and only its orders are summed */
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT customer_id, created_at, total_amount, order_id, currency FROM "
                        "orders WHERE +tenant_id = ? AND status IN ('pending', 'paid', "
                        "'fulfilled', 'partially_refunded') AND created_at <= ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_time(s, 2, as_of_ms);
    size_t ocap = 4096, on = 0, ncur = 0, curcap = 0;
    struct fit_order *orders = xcalloc(ocap, sizeof(*orders));
    struct fit_currency *curs = NULL;
    uint32_t last_cur = 0;
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        if (on == ocap) {
            ocap *= 2;
            orders = xrealloc(orders, ocap * sizeof(*orders));
        }
        const char *code = db_col_text(s, 4);
        code = code ? code : "";
        if (ncur == 0 || strcmp(curs[last_cur].code, code) != 0)
            last_cur = currency_place(&curs, &ncur, &curcap, code);
        curs[last_cur].orders++;
        orders[on++] = (struct fit_order){.customer = db_col_i64(s, 0),
                                          .at = db_col_time(s, 1),
                                          .total = db_col_i64(s, 2),
                                          .order = db_col_i64(s, 3),
                                          .cur = last_cur};
    }
    db_stmt_done(s);
    if (st == DB_ERROR) {
        free(orders);
        currencies_free(curs, ncur);
        return db_step_error(e);
    }
    if (on > UINT32_MAX) {
        free(orders);
        currencies_free(curs, ncur);
        return err_set(e, ERR_INTERNAL, "%zu orders to fit", on);
    }
    uint32_t main_cur = 0;
    for (size_t k = 1; k < ncur; k++)
        if (curs[k].orders > curs[main_cur].orders ||
            (curs[k].orders == curs[main_cur].orders &&
             strcmp(curs[k].code, curs[main_cur].code) < 0))
            main_cur = (uint32_t)k;
    /* a code too long for a currency is kept cut, and no order is in the cut one */
    if (ncur && !str_copy(out->currency, sizeof(out->currency), curs[main_cur].code))
        main_cur = UINT32_MAX;
    currencies_free(curs, ncur);
    if (!out->currency[0]) {
        free(orders);
        snprintf(out->reason, sizeof(out->reason), "no orders yet");
        return 0;
    }
    const struct money_currency *cur = NULL;
    struct err me;
    err_init(&me);
    double unit = money_currency_find(out->currency, &cur, &me) ? 100.0 : pow(10, cur->exponent);
    uint32_t *idx = fit_order_sort(orders, on);
    size_t cap = 1024, n = 0;
    struct intel_customer_summary *rows = xcalloc(cap, sizeof(*rows));
    struct acc a = {.sum.customer_pk = -1};
    int64_t as_of_day = as_of_ms / DAY_MS;
    for (size_t k = 0; k < on; k++) {
        const struct fit_order *o = &orders[idx[k]];
        if (o->cur != main_cur)
            continue;
        int64_t cust = o->customer, at = o->at, day = at / DAY_MS;
        double value = (double)o->total / unit;
        if (cust != a.sum.customer_pk) {
            if (a.sum.customer_pk >= 0) {
                if (n == cap) {
                    cap *= 2;
                    rows = xrealloc(rows, cap * sizeof(*rows));
                }
                emit(&a, as_of_day, rows, &n);
            }
            a = (struct acc){.sum.customer_pk = cust,
                             .first_day = day,
                             .last_day = day,
                             .day = day,
                             .occasions = 1};
        } else if (day != a.day) {
            close_day(&a);
            a.day = a.last_day = day;
            a.occasions++;
        }
        a.day_spend += value;
        a.sum.orders++;
        a.sum.spend += value;
        a.sum.last_order_ms = at;
    }
    free(orders);
    free(idx);
    if (a.sum.customer_pk >= 0) {
        if (n == cap)
            rows = xrealloc(rows, ++cap * sizeof(*rows));
        emit(&a, as_of_day, rows, &n);
    }
    *rows_out = rows;
    *n_out = n;
    /* the fit sees the observed customers only */
    size_t n_fit = 0;
    struct intel_rfm *fit = xcalloc(n ? n : 1, sizeof(*fit));
    for (size_t i = 0; i < n; i++)
        if (rows[i].observed)
            fit[n_fit++] = rows[i].rfm;
    out->customers = (int)n_fit;
    for (size_t i = 0; i < n_fit; i++)
        out->repeat_customers += fit[i].x > 0;
    if (out->customers < INTEL_MIN_CUSTOMERS ||
        out->repeat_customers < INTEL_MIN_REPEAT_CUSTOMERS) {
        snprintf(out->reason, sizeof(out->reason),
                 "not enough history: %d customers and %d who came back (the models need %d and "
                 "%d)",
                 out->customers, out->repeat_customers, INTEL_MIN_CUSTOMERS,
                 INTEL_MIN_REPEAT_CUSTOMERS);
        free(fit);
        return 0;
    }
    struct err fe;
    err_init(&fe);
    if (intel_bgnbd_fit(fit, n_fit, &out->bgnbd, &fe) ||
        intel_gg_fit(fit, n_fit, &out->gamma_gamma, &fe)) {
        snprintf(out->reason, sizeof(out->reason), "the fit failed: %.120s", fe.msg);
        memset(&out->bgnbd, 0, sizeof(out->bgnbd));
        memset(&out->gamma_gamma, 0, sizeof(out->gamma_gamma));
    } else {
        out->fitted = true;
    }
    free(fit);
    return 0;
}

void intel_model_predict(const struct intel_model *m, const struct intel_customer_summary *s,
                         struct intel_prediction *out)
{
    memset(out, 0, sizeof(*out));
    if (!m->fitted) {
        snprintf(out->reason, sizeof(out->reason), "%s", m->reason);
        return;
    }
    if (!s) {
        snprintf(out->reason, sizeof(out->reason), "no purchase in %s yet", m->currency);
        return;
    }
    if (!s->observed) {
        snprintf(out->reason, sizeof(out->reason), "first purchase on the day of the prediction");
        return;
    }
    const struct intel_rfm *c = &s->rfm;
    double e90 = intel_bgnbd_expected(&m->bgnbd, c, 90);
    double e365 = intel_bgnbd_expected(&m->bgnbd, c, 365);
    double value = intel_gg_expected_value(&m->gamma_gamma, c);
    if (!isfinite(e90) || !isfinite(e365) || !isfinite(value)) {
        snprintf(out->reason, sizeof(out->reason),
                 "the fitted model has no finite expectation (a ≤ 1 or q ≤ 1)");
        return;
    }
    out->has = true;
    out->p_alive = intel_bgnbd_p_alive(&m->bgnbd, c);
    out->churn_probability = 1 - out->p_alive;
    out->expected_purchases_90 = e90;
    out->expected_order_value = value;
    out->predicted_clv = e365 * value;
    if (out->p_alive >= 0.5) {
        double gap = (m->bgnbd.alpha + c->T) / (m->bgnbd.r + c->x);
        int64_t days = (int64_t)floor(gap + 0.5);
        out->has_next_order = true;
        out->next_order_ms = m->as_of_ms + (days < 1 ? 1 : days) * DAY_MS;
    }
}
