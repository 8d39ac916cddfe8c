/* SPDX-License-Identifier: MIT */
/*
 * The payments tables (payments_store.h): SQL through db_* and the store toolkit only.
 * Tests: tests/unit/domain/test_payments_store.c, tests/integration/0023-payments.c.
 */
#include "domain/payments/payments_store.h"

#include "core/crypto.h"
#include "db/store.h"

#include <stdio.h>
#include <string.h>

#define PAY_COLS                                                                                   \
    "p.id, p.tenant_id, p.public_id, p.order_id, o.public_id, p.provider, p.status, p.currency, "  \
    "p.amount, p.refunded_amount, p.provider_ref, p.provider_payment_id, p.client_secret, "        \
    "p.page_url, p.error, p.disputed, p.created_at, p.updated_at, p.provider_txn_id FROM "         \
    "payments p JOIN orders o ON o.order_id = p.order_id "

static void read_payment(struct db_stmt *s, struct arena *a, void *out)
{
    struct payment *p = out;
    p->pk = db_col_i64(s, 0);
    p->tenant_id = db_col_i64(s, 1);
    p->id = db_col_str(s, 2, a);
    p->order_pk = db_col_i64(s, 3);
    p->order_id = db_col_str(s, 4, a);
    (void)payment_provider_parse(db_col_text(s, 5), "provider", &p->provider, &(struct err){0});
    (void)payment_status_parse(db_col_text(s, 6), "status", &p->state.status, &(struct err){0});
    (void)money_currency_find(db_col_text(s, 7), &p->currency, &(struct err){0});
    p->state.amount = db_col_i64(s, 8);
    p->state.refunded = db_col_i64(s, 9);
    p->provider_ref = db_col_dup(s, 10, a);
    p->provider_payment_id = db_col_dup(s, 11, a);
    p->client_secret = db_col_dup(s, 12, a);
    p->page_url = db_col_dup(s, 13, a);
    p->error = db_col_dup(s, 14, a);
    p->disputed = db_col_i64(s, 15) != 0;
    p->created_at = db_col_time(s, 16);
    p->updated_at = db_col_time(s, 17);
    p->provider_txn_id = db_col_dup(s, 18, a);
}

static void bind_opt(struct db_stmt *s, int idx, const char *v)
{
    if (v)
        db_bind_text(s, idx, v);
    else
        db_bind_null(s, idx);
}

int payments_store_create(struct db_conn *c, int64_t tenant, int64_t order_pk,
                          enum payment_provider provider, const struct money *amount,
                          int64_t now_ms, struct arena *a, struct payment *out, struct err *e)
{
    char id[PAYMENTS_ID_MAX];
    int rc = sec_random_id(id, sizeof(id), "pay_", 12, e);
    if (rc)
        return rc;
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "INSERT INTO payments (tenant_id, public_id, order_id, provider, status, "
                    "currency, amount, created_at, updated_at) VALUES (?, ?, ?, ?, 'created', ?, "
                    "?, ?, ?) RETURNING id",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, id);
    db_bind_i64(s, 3, order_pk);
    db_bind_text(s, 4, payment_provider_name(provider));
    db_bind_text(s, 5, amount->currency->code);
    db_bind_i64(s, 6, amount->minor);
    db_bind_time(s, 7, now_ms);
    db_bind_time(s, 8, now_ms);
    int64_t pk = 0;
    bool found = false;
    rc = db_one_i64(s, &pk, &found, e);
    if (!rc && !found)
        rc = err_set(e, ERR_DB, "insert returned no id");
    if (!rc)
        rc = payments_store_get_pk(c, tenant, pk, a, out, e);
    return rc;
}

int payments_store_get(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                       struct payment *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    bool found = false;
    int rc = db_get_one(c, "SELECT " PAY_COLS "WHERE p.tenant_id = ? AND p.public_id = ?", tenant,
                        id ? id : "", 0, read_payment, a, out, &found, e);
    if (!rc && !found)
        rc = err_set_field(e, ERR_NOT_FOUND, "id", "no payment %s", id ? id : "");
    return rc;
}

int payments_store_get_pk(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                          struct payment *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    bool found = false;
    int rc = db_get_one(c, "SELECT " PAY_COLS "WHERE p.tenant_id = ? AND p.id = ?", tenant, NULL,
                        pk, read_payment, a, out, &found, e);
    if (!rc && !found)
        rc = err_set_field(e, ERR_NOT_FOUND, "id", "no payment %lld", (long long)pk);
    return rc;
}

int payments_store_find_ref(struct db_conn *c, int64_t tenant, enum payment_provider provider,
                            const char *ref, struct arena *a, struct payment *out, bool *found,
                            struct err *e)
{
    memset(out, 0, sizeof(*out));
    *found = false;
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s, "SELECT " PAY_COLS "WHERE p.tenant_id = ? AND p.provider = ? AND p.provider_ref = ?",
        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, payment_provider_name(provider));
    db_bind_text(s, 3, ref);
    struct payment *rows = NULL;
    size_t n = 0;
    rc = db_list(s, read_payment, sizeof(*rows), a, (void **)&rows, &n, e);
    if (!rc && n > 0) {
        *out = rows[0];
        *found = true;
    }
    return rc;
}

int payments_store_list_order(struct db_conn *c, int64_t tenant, int64_t order_pk, struct arena *a,
                              struct payment **rows, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s, "SELECT " PAY_COLS "WHERE p.tenant_id = ? AND p.order_id = ? ORDER BY p.id", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, order_pk);
    return db_list(s, read_payment, sizeof(**rows), a, (void **)rows, n, e);
}

int payments_store_lock(struct db_conn *c, int64_t tenant, int64_t pk, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s, "UPDATE payments SET updated_at = updated_at WHERE tenant_id = ? AND id = ?", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, pk);
    int64_t n = 0;
    rc = db_exec_write(s, &n, e);
    if (!rc && n != 1)
        rc = err_set_field(e, ERR_NOT_FOUND, "id", "no payment %lld", (long long)pk);
    return rc;
}

int payments_store_set_opened(struct db_conn *c, int64_t tenant, int64_t pk, const char *ref,
                              const char *client_secret, const char *page_url, int64_t now_ms,
                              struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE payments SET provider_ref = ?, client_secret = ?, page_url = ?, "
                        "error = NULL, updated_at = ? WHERE tenant_id = ? AND id = ?",
                        e);
    if (rc)
        return rc;
    bind_opt(s, 1, ref);
    bind_opt(s, 2, client_secret);
    bind_opt(s, 3, page_url);
    db_bind_time(s, 4, now_ms);
    db_bind_i64(s, 5, tenant);
    db_bind_i64(s, 6, pk);
    return db_exec_write(s, NULL, e);
}

int payments_store_set_error(struct db_conn *c, int64_t tenant, int64_t pk, const char *error,
                             int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s, "UPDATE payments SET error = ?, updated_at = ? WHERE tenant_id = ? AND id = ?", e);
    if (rc)
        return rc;
    bind_opt(s, 1, error);
    db_bind_time(s, 2, now_ms);
    db_bind_i64(s, 3, tenant);
    db_bind_i64(s, 4, pk);
    return db_exec_write(s, NULL, e);
}

int payments_store_set_provider_payment_id(struct db_conn *c, int64_t tenant, int64_t pk,
                                           const char *payment_id, const char *txn_id,
                                           struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE payments SET provider_payment_id = ?, provider_txn_id = "
                        "COALESCE(?, provider_txn_id) WHERE tenant_id = ? AND id = ?",
                        e);
    if (rc)
        return rc;
    bind_opt(s, 1, payment_id);
    bind_opt(s, 2, txn_id);
    db_bind_i64(s, 3, tenant);
    db_bind_i64(s, 4, pk);
    return db_exec_write(s, NULL, e);
}

int payments_store_set_disputed(struct db_conn *c, int64_t tenant, int64_t pk, int64_t now_ms,
                                struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s, "UPDATE payments SET disputed = 1, updated_at = ? WHERE tenant_id = ? AND id = ?",
        e);
    if (rc)
        return rc;
    db_bind_time(s, 1, now_ms);
    db_bind_i64(s, 2, tenant);
    db_bind_i64(s, 3, pk);
    return db_exec_write(s, NULL, e);
}

int payments_store_transition(struct db_conn *c, int64_t tenant, int64_t pk,
                              const struct payment_state *from, const struct payment_state *to,
                              const char *cause, const char *detail, int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE payments SET status = ?, refunded_amount = ?, updated_at = ? "
                        "WHERE tenant_id = ? AND id = ? AND status = ? AND refunded_amount = ?",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, payment_status_name(to->status));
    db_bind_i64(s, 2, to->refunded);
    db_bind_time(s, 3, now_ms);
    db_bind_i64(s, 4, tenant);
    db_bind_i64(s, 5, pk);
    db_bind_text(s, 6, payment_status_name(from->status));
    db_bind_i64(s, 7, from->refunded);
    int64_t changed = 0;
    rc = db_exec_write(s, &changed, e);
    if (!rc && changed != 1)
        return err_set(e, ERR_CONFLICT, "payment %lld changed meanwhile", (long long)pk);
    if (rc)
        return rc;
    rc = db_prepare(c, &s,
                    "INSERT INTO payment_history (tenant_id, payment_id, from_status, to_status, "
                    "refunded_amount, cause, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, pk);
    db_bind_text(s, 3, payment_status_name(from->status));
    db_bind_text(s, 4, payment_status_name(to->status));
    db_bind_i64(s, 5, to->refunded);
    db_bind_text(s, 6, cause);
    db_bind_text(s, 7, detail ? detail : "");
    db_bind_time(s, 8, now_ms);
    return db_exec_write(s, NULL, e);
}

static void read_history(struct db_stmt *s, struct arena *a, void *out)
{
    struct payment_history_row *h = out;
    h->from_status = db_col_str(s, 0, a);
    h->to_status = db_col_str(s, 1, a);
    h->refunded = db_col_i64(s, 2);
    h->cause = db_col_str(s, 3, a);
    h->detail = db_col_str(s, 4, a);
    h->at = db_col_time(s, 5);
}

int payments_store_history(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                           struct payment_history_row **rows, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT from_status, to_status, refunded_amount, cause, detail, at FROM "
                        "payment_history WHERE tenant_id = ? AND payment_id = ? ORDER BY id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, pk);
    return db_list(s, read_history, sizeof(**rows), a, (void **)rows, n, e);
}

static void read_ref(struct db_stmt *s, struct arena *a, void *out)
{
    (void)a;
    struct payment_ref *r = out;
    r->tenant = db_col_i64(s, 0);
    r->pk = db_col_i64(s, 1);
}

int payments_store_list_stale(struct db_conn *c, int64_t before_ms, int limit, struct arena *a,
                              struct payment_ref **rows, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT tenant_id, id FROM payments WHERE status IN ('created', 'pending') "
                        "AND provider_ref IS NOT NULL AND updated_at < ? ORDER BY updated_at, id "
                        "LIMIT ?",
                        e);
    if (rc)
        return rc;
    db_bind_time(s, 1, before_ms);
    db_bind_i64(s, 2, limit);
    return db_list(s, read_ref, sizeof(**rows), a, (void **)rows, n, e);
}

int payments_store_status_counts(struct db_conn *c, int64_t rows[2][PAYMENT_REFUNDED + 1],
                                 struct err *e)
{
    memset(rows, 0, sizeof(int64_t) * 2 * (PAYMENT_REFUNDED + 1));
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT p.provider, h.to_status, count(*) FROM payment_history h JOIN "
                        "payments p ON p.id = h.payment_id GROUP BY p.provider, h.to_status",
                        e);
    if (rc)
        return rc;
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        enum payment_provider pv;
        enum payment_status ps;
        struct err ignore;
        err_init(&ignore);
        if (payment_provider_parse(db_col_text(s, 0), "provider", &pv, &ignore) ||
            payment_status_parse(db_col_text(s, 1), "status", &ps, &ignore))
            continue;
        rows[pv][ps] += db_col_i64(s, 2);
    }
    if (st == DB_ERROR)
        rc = db_step_error(e);
    db_stmt_done(s);
    return rc;
}

/* ---- refunds ---- */

#define REFUND_COLS                                                                                \
    "id, public_id, payment_id, amount, status, provider_ref, error, created_at FROM "             \
    "payment_refunds "

static void read_refund(struct db_stmt *s, struct arena *a, void *out)
{
    struct payment_refund *r = out;
    r->pk = db_col_i64(s, 0);
    r->id = db_col_str(s, 1, a);
    r->payment_pk = db_col_i64(s, 2);
    r->amount = db_col_i64(s, 3);
    r->status = db_col_str(s, 4, a);
    r->provider_ref = db_col_dup(s, 5, a);
    r->error = db_col_dup(s, 6, a);
    r->created_at = db_col_time(s, 7);
}

int payments_store_refund_create(struct db_conn *c, int64_t tenant, int64_t payment_pk,
                                 int64_t amount, int64_t now_ms, struct arena *a,
                                 struct payment_refund *out, struct err *e)
{
    char id[PAYMENTS_ID_MAX];
    int rc = sec_random_id(id, sizeof(id), "pre_", 12, e);
    if (rc)
        return rc;
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "INSERT INTO payment_refunds (tenant_id, public_id, payment_id, amount, "
                    "status, created_at, updated_at) VALUES (?, ?, ?, ?, 'created', ?, ?) "
                    "RETURNING id",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, id);
    db_bind_i64(s, 3, payment_pk);
    db_bind_i64(s, 4, amount);
    db_bind_time(s, 5, now_ms);
    db_bind_time(s, 6, now_ms);
    int64_t pk = 0;
    bool found = false;
    rc = db_one_i64(s, &pk, &found, e);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    found = false;
    rc = db_get_one(c, "SELECT " REFUND_COLS "WHERE tenant_id = ? AND id = ?", tenant, NULL, pk,
                    read_refund, a, out, &found, e);
    if (!rc && !found)
        rc = err_set(e, ERR_DB, "refund %lld vanished", (long long)pk);
    return rc;
}

int payments_store_refund_finish(struct db_conn *c, int64_t tenant, int64_t pk, const char *status,
                                 const char *ref, const char *error, int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE payment_refunds SET status = ?, provider_ref = ?, error = ?, "
                        "updated_at = ? WHERE tenant_id = ? AND id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, status);
    bind_opt(s, 2, ref);
    bind_opt(s, 3, error);
    db_bind_time(s, 4, now_ms);
    db_bind_i64(s, 5, tenant);
    db_bind_i64(s, 6, pk);
    return db_exec_write(s, NULL, e);
}

int payments_store_refund_reserved(struct db_conn *c, int64_t tenant, int64_t payment_pk,
                                   int64_t *sum, struct err *e)
{
    struct db_stmt *s;
    *sum = 0;
    int rc = db_prepare(c, &s,
                        "SELECT COALESCE(SUM(amount), 0) FROM payment_refunds WHERE tenant_id = ? "
                        "AND payment_id = ? AND status IN ('created', 'succeeded')",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, payment_pk);
    bool found = false;
    return db_one_i64(s, sum, &found, e);
}

int payments_store_refund_list(struct db_conn *c, int64_t tenant, int64_t payment_pk,
                               struct arena *a, struct payment_refund **rows, size_t *n,
                               struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s, "SELECT " REFUND_COLS "WHERE tenant_id = ? AND payment_id = ? ORDER BY id", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, payment_pk);
    return db_list(s, read_refund, sizeof(**rows), a, (void **)rows, n, e);
}

/* ---- idempotency keys ---- */

struct idem_row {
    const char *hash;
    int64_t resource_pk;
    bool finished;
    int status;
    const char *body;
};

static void read_idem(struct db_stmt *s, struct arena *a, void *out)
{
    struct idem_row *r = out;
    r->hash = db_col_str(s, 0, a);
    r->resource_pk = db_col_is_null(s, 1) ? 0 : db_col_i64(s, 1);
    r->finished = !db_col_is_null(s, 2);
    r->status = r->finished ? (int)db_col_i64(s, 2) : 0;
    r->body = db_col_dup(s, 3, a);
}

int payments_store_idem_begin(struct db_conn *c, int64_t tenant, const char *key, const char *hash,
                              int64_t now_ms, struct arena *a, struct payments_idem *out,
                              struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct idem_row row;
    memset(&row, 0, sizeof(row));
    bool found = false;
    int rc = db_get_one(c,
                        "SELECT request_hash, resource_id, response_status, response_body FROM "
                        "payment_idempotency WHERE tenant_id = ? AND idem_key = ?",
                        tenant, key, 0, read_idem, a, &row, &found, e);
    if (rc)
        return rc;
    if (found) {
        out->resource_pk = row.resource_pk;
        if (strcmp(row.hash, hash) != 0)
            out->state = PAYMENTS_IDEM_MISMATCH;
        else if (row.finished)
            out->state = PAYMENTS_IDEM_REPLAY;
        else
            out->state = PAYMENTS_IDEM_RESUME;
        out->status = row.status;
        out->body = row.body;
        return 0;
    }
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "INSERT INTO payment_idempotency (tenant_id, idem_key, request_hash, "
                    "created_at) VALUES (?, ?, ?, ?)",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, key);
    db_bind_text(s, 3, hash);
    db_bind_time(s, 4, now_ms);
    out->state = PAYMENTS_IDEM_NEW;
    return db_exec_write(s, NULL, e);
}

int payments_store_idem_resource(struct db_conn *c, int64_t tenant, const char *key,
                                 int64_t resource_pk, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE payment_idempotency SET resource_id = ? WHERE tenant_id = ? AND "
                        "idem_key = ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, resource_pk);
    db_bind_i64(s, 2, tenant);
    db_bind_text(s, 3, key);
    return db_exec_write(s, NULL, e);
}

int payments_store_idem_finish(struct db_conn *c, int64_t tenant, const char *key, int status,
                               const char *body, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE payment_idempotency SET response_status = ?, response_body = ? "
                        "WHERE tenant_id = ? AND idem_key = ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, status);
    db_bind_text(s, 2, body);
    db_bind_i64(s, 3, tenant);
    db_bind_text(s, 4, key);
    return db_exec_write(s, NULL, e);
}
