/* SPDX-License-Identifier: MIT */
/*
 * The tenant's customer model from its orders (see intel_model.h): one ordered pass over the
 * orders, customers reduced to RFM summaries, then the fits. Tests:
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

/* The currency most of the tenant's counted orders are in. */
static int main_currency(struct db_conn *c, int64_t tenant, int64_t as_of_ms, char *out, size_t n,
                         struct err *e)
{
    out[0] = '\0';
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT currency, count(*) AS k FROM orders WHERE tenant_id = ? AND "
                        "status IN ('pending', 'paid', 'fulfilled', 'partially_refunded') AND "
                        "created_at <= ? GROUP BY currency "
                        "ORDER BY k DESC, currency LIMIT 1",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_time(s, 2, as_of_ms);
    int st = db_step(s, e);
    if (st == DB_ROW)
        str_copy(out, n, db_col_text(s, 0));
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

struct acc {
    int64_t customer;
    int64_t first_day, last_day, day; /* the occasion being summed */
    double day_spend, repeat_spend;
    int occasions;
};

/* Close the occasion being summed. */
static void close_day(struct acc *a)
{
    if (a->occasions > 1)
        a->repeat_spend += a->day_spend;
    a->day_spend = 0;
}

static void emit(const struct acc *a, int64_t as_of_day, struct intel_rfm *out, size_t *n)
{
    double T = (double)(as_of_day - a->first_day);
    if (T <= 0)
        return; /* first bought today: nothing to learn from yet */
    struct intel_rfm *r = &out[(*n)++];
    r->x = a->occasions - 1;
    r->t_x = (double)(a->last_day - a->first_day);
    r->T = T;
    r->zbar = r->x > 0 ? a->repeat_spend / r->x : 0;
}

int intel_model_fit(struct db_conn *c, int64_t tenant, int64_t as_of_ms, struct intel_model *out,
                    struct err *e)
{
    memset(out, 0, sizeof(*out));
    out->as_of_ms = as_of_ms;
    int rc = main_currency(c, tenant, as_of_ms, out->currency, sizeof(out->currency), e);
    if (rc)
        return rc;
    if (!out->currency[0]) {
        snprintf(out->reason, sizeof(out->reason), "no orders yet");
        return 0;
    }
    const struct money_currency *cur = NULL;
    struct err me;
    err_init(&me);
    double unit = money_currency_find(out->currency, &cur, &me) ? 100.0 : pow(10, cur->exponent);
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "SELECT customer_id, created_at, total_amount FROM orders WHERE tenant_id = ? "
                    "AND status IN ('pending', 'paid', 'fulfilled', 'partially_refunded') AND "
                    "created_at <= ? AND currency = ? "
                    "ORDER BY customer_id, created_at",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_time(s, 2, as_of_ms);
    db_bind_text(s, 3, out->currency);
    size_t cap = 1024, n = 0;
    struct intel_rfm *rows = xcalloc(cap, sizeof(*rows));
    struct acc a = {.customer = -1};
    int64_t as_of_day = as_of_ms / DAY_MS;
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        int64_t cust = db_col_i64(s, 0), day = db_col_time(s, 1) / DAY_MS;
        double value = (double)db_col_i64(s, 2) / unit;
        if (cust != a.customer) {
            if (a.customer >= 0) {
                close_day(&a);
                if (n == cap) {
                    cap *= 2;
                    rows = xrealloc(rows, cap * sizeof(*rows));
                }
                emit(&a, as_of_day, rows, &n);
            }
            a = (struct acc){
                .customer = cust, .first_day = day, .last_day = day, .day = day, .occasions = 1};
        } else if (day != a.day) {
            close_day(&a);
            a.day = a.last_day = day;
            a.occasions++;
        }
        a.day_spend += value;
    }
    db_stmt_done(s);
    if (st == DB_ERROR) {
        free(rows);
        return db_step_error(e);
    }
    if (a.customer >= 0) {
        close_day(&a);
        if (n == cap)
            rows = xrealloc(rows, ++cap * sizeof(*rows));
        emit(&a, as_of_day, rows, &n);
    }
    out->customers = (int)n;
    for (size_t i = 0; i < n; i++)
        out->repeat_customers += rows[i].x > 0;
    if (out->customers < INTEL_MIN_CUSTOMERS ||
        out->repeat_customers < INTEL_MIN_REPEAT_CUSTOMERS) {
        snprintf(out->reason, sizeof(out->reason),
                 "not enough history: %d customers and %d who came back (the models need %d and "
                 "%d)",
                 out->customers, out->repeat_customers, INTEL_MIN_CUSTOMERS,
                 INTEL_MIN_REPEAT_CUSTOMERS);
        free(rows);
        return 0;
    }
    struct err fe;
    err_init(&fe);
    if (intel_bgnbd_fit(rows, n, &out->bgnbd, &fe) ||
        intel_gg_fit(rows, n, &out->gamma_gamma, &fe)) {
        snprintf(out->reason, sizeof(out->reason), "the fit failed: %.120s", fe.msg);
        memset(&out->bgnbd, 0, sizeof(out->bgnbd));
        memset(&out->gamma_gamma, 0, sizeof(out->gamma_gamma));
    } else {
        out->fitted = true;
    }
    free(rows);
    return 0;
}
