/* SPDX-License-Identifier: MIT */
/*
 * Outbound webhooks in the database (see webhooks.h, "store"): endpoints and deliveries, SQL
 * through db_* only, every statement filtered by tenant. No rules here: callers decide.
 * Tests: tests/unit/domain/test_webhooks.c (SQLite and PostgreSQL).
 */
#include "domain/webhooks/webhooks.h"
#include "core/buf.h"
#include "db/store.h"

#include <stdio.h>
#include <string.h>

#define SQL_MAX 1024

static const char *nz(const char *s)
{
    return s ? s : "";
}

static int status_index(const char *s)
{
    for (int i = 0; s && webhook_delivery_status_names[i]; i++) {
        if (strcmp(s, webhook_delivery_status_names[i]) == 0)
            return i;
    }
    return WEBHOOK_DELIVERY_PENDING;
}

/* "a,b,c" → array of names from the arena. */
static void split_events(const char *text, struct arena *a, const char ***out, size_t *n)
{
    size_t cap = 0, used = 0;
    const char **arr = NULL;
    const char *p = nz(text);
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len) {
            arr = arena_grow(a, arr, used, &cap, sizeof(*arr));
            arr[used++] = arena_strndup(a, p, len);
        }
        p += len;
        if (*p == ',')
            p++;
    }
    *out = arr;
    *n = used;
}

/* ======================== endpoints ======================== */

#define ENDPOINT_COLS                                                                              \
    "id, tenant_id, url, description, events, disabled, disabled_reason, disabled_at, "            \
    "failing_since, created_at, updated_at, secret, direct"

struct endpoint_read {
    struct webhook_endpoint *ep;
    bool with_secret;
};

static void read_endpoint(struct db_stmt *s, struct arena *a, struct webhook_endpoint *ep,
                          bool with_secret)
{
    memset(ep, 0, sizeof(*ep));
    ep->id = db_col_i64(s, 0);
    ep->tenant_id = db_col_i64(s, 1);
    ep->url = arena_strdup(a, nz(db_col_text(s, 2)));
    ep->description = arena_strdup(a, nz(db_col_text(s, 3)));
    split_events(db_col_text(s, 4), a, &ep->events, &ep->n_events);
    ep->disabled = db_col_bool(s, 5);
    ep->disabled_reason = arena_strdup(a, nz(db_col_text(s, 6)));
    ep->disabled_at_ms = db_col_time(s, 7);
    ep->failing_since_ms = db_col_time(s, 8);
    ep->created_at_ms = db_col_time(s, 9);
    ep->updated_at_ms = db_col_time(s, 10);
    ep->secret = with_secret ? arena_strdup(a, nz(db_col_text(s, 11))) : NULL;
    ep->direct = db_col_bool(s, 12);
}

static void endpoint_row(struct db_stmt *s, struct arena *a, void *out)
{
    struct endpoint_read *r = out;
    read_endpoint(s, a, r->ep, r->with_secret);
}

int webhooks_store_endpoint_insert(struct db_conn *c, int64_t tenant, struct webhook_endpoint *ep,
                                   int64_t now_ms, struct err *e)
{
    struct buf ev;
    buf_init(&ev, SQL_MAX * 4);
    for (size_t i = 0; i < ep->n_events; i++) {
        if (i)
            buf_appends(&ev, ",");
        buf_appends(&ev, ep->events[i]);
    }
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO webhook_endpoints (tenant_id, url, description, events, "
                        "secret, created_at, updated_at, direct) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                        "RETURNING id",
                        e);
    if (rc) {
        buf_release(&ev);
        return rc;
    }
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, ep->url);
    db_bind_text(s, 3, nz(ep->description));
    db_bind_text(s, 4, buf_str(&ev));
    db_bind_text(s, 5, ep->secret);
    db_bind_time(s, 6, now_ms);
    db_bind_time(s, 7, now_ms);
    db_bind_bool(s, 8, ep->direct);
    int st = db_step(s, e);
    if (st == DB_ROW)
        ep->id = db_col_i64(s, 0);
    db_stmt_done(s);
    buf_release(&ev);
    if (st == DB_ERROR)
        return db_step_error(e);
    ep->tenant_id = tenant;
    ep->created_at_ms = now_ms;
    ep->updated_at_ms = now_ms;
    return 0;
}

int webhooks_store_endpoint_get(struct db_conn *c, int64_t tenant, int64_t id, bool with_secret,
                                struct arena *a, struct webhook_endpoint *out, struct err *e)
{
    bool found = false;
    struct endpoint_read r = {out, with_secret};
    int rc = db_get_one(c,
                        "SELECT " ENDPOINT_COLS " FROM webhook_endpoints "
                        "WHERE tenant_id = ? AND id = ?",
                        tenant, NULL, id, endpoint_row, a, &r, &found, e);
    if (!rc && !found)
        rc = err_set_field(e, ERR_NOT_FOUND, "id", "no webhook endpoint %lld", (long long)id);
    return rc;
}

int webhooks_store_endpoint_list(struct db_conn *c, int64_t tenant, int64_t after_id, int limit,
                                 struct arena *a, struct webhook_endpoint **rows, size_t *n,
                                 struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        after_id > 0 ? "SELECT " ENDPOINT_COLS " FROM webhook_endpoints "
                                       "WHERE tenant_id = ? AND id < ? AND direct = ? "
                                       "ORDER BY id DESC LIMIT ?"
                                     : "SELECT " ENDPOINT_COLS " FROM webhook_endpoints "
                                       "WHERE tenant_id = ? AND ? = 0 AND direct = ? "
                                       "ORDER BY id DESC LIMIT ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, after_id > 0 ? after_id : 0);
    db_bind_bool(s, 3, false);
    db_bind_i64(s, 4, limit);
    size_t cap = 0, used = 0;
    struct webhook_endpoint *out = NULL;
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        out = arena_grow(a, out, used, &cap, sizeof(*out));
        read_endpoint(s, a, &out[used++], false);
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    *rows = out;
    *n = used;
    return 0;
}

int webhooks_store_endpoint_subscribed(struct db_conn *c, int64_t tenant, const char *type,
                                       struct arena *a, int64_t **ids, size_t *n, struct err *e)
{
    /* Type names are validated ([a-z.]), so they carry no LIKE wildcards. */
    char pattern[96];
    snprintf(pattern, sizeof(pattern), "%%,%s,%%", type);
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT id FROM webhook_endpoints WHERE tenant_id = ? AND disabled = ? "
                        "AND direct = ? AND (',' || events || ',') LIKE ? ORDER BY id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_bool(s, 2, false);
    db_bind_bool(s, 3, false);
    db_bind_text(s, 4, pattern);
    size_t cap = 0, used = 0;
    int64_t *out = NULL;
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        out = arena_grow(a, out, used, &cap, sizeof(*out));
        out[used++] = db_col_i64(s, 0);
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    *ids = out;
    *n = used;
    return 0;
}

int webhooks_store_endpoint_set_url(struct db_conn *c, int64_t tenant, int64_t id, const char *url,
                                    int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE webhook_endpoints SET url = ?, updated_at = ? "
                        "WHERE tenant_id = ? AND id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, url);
    db_bind_time(s, 2, now_ms);
    db_bind_i64(s, 3, tenant);
    db_bind_i64(s, 4, id);
    int64_t n = 0;
    rc = db_exec_write(s, &n, e);
    if (!rc && n == 0)
        rc = err_set_field(e, ERR_NOT_FOUND, "id", "no webhook endpoint %lld", (long long)id);
    return rc;
}

int webhooks_store_endpoint_delete(struct db_conn *c, int64_t tenant, int64_t id, bool *deleted,
                                   struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "DELETE FROM webhook_endpoints WHERE tenant_id = ? AND id = ?", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, id);
    int st = db_step(s, e);
    *deleted = st != DB_ERROR && db_changes(s) > 0;
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

int webhooks_store_endpoint_health(struct db_conn *c, int64_t tenant, int64_t id, bool ok,
                                   int64_t now_ms, int64_t *failing_since_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        ok ? "UPDATE webhook_endpoints SET failing_since = NULL, updated_at = ? "
                             "WHERE tenant_id = ? AND id = ? RETURNING failing_since"
                           : "UPDATE webhook_endpoints SET failing_since = "
                             "COALESCE(failing_since, ?), updated_at = ? "
                             "WHERE tenant_id = ? AND id = ? RETURNING failing_since",
                        e);
    if (rc)
        return rc;
    int i = 1;
    if (!ok)
        db_bind_time(s, i++, now_ms);
    db_bind_time(s, i++, now_ms);
    db_bind_i64(s, i++, tenant);
    db_bind_i64(s, i, id);
    *failing_since_ms = 0;
    int st = db_step(s, e);
    if (st == DB_ROW)
        *failing_since_ms = db_col_time(s, 0);
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

int webhooks_store_endpoint_disable(struct db_conn *c, int64_t tenant, int64_t id,
                                    const char *reason, int64_t now_ms, bool *changed,
                                    struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE webhook_endpoints SET disabled = ?, disabled_reason = ?, "
                        "disabled_at = ?, updated_at = ? "
                        "WHERE tenant_id = ? AND id = ? AND disabled = ?",
                        e);
    if (rc)
        return rc;
    db_bind_bool(s, 1, true);
    db_bind_text(s, 2, reason);
    db_bind_time(s, 3, now_ms);
    db_bind_time(s, 4, now_ms);
    db_bind_i64(s, 5, tenant);
    db_bind_i64(s, 6, id);
    db_bind_bool(s, 7, false);
    int st = db_step(s, e);
    *changed = st != DB_ERROR && db_changes(s) > 0;
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

/* ======================== deliveries ======================== */

#define DELIVERY_COLS                                                                              \
    "id, tenant_id, endpoint_id, msg_id, event_type, body, status, attempts, next_attempt_at, "    \
    "last_status, last_response, last_error, created_at, updated_at, delivered_at"

static void read_delivery(struct db_stmt *s, struct arena *a, void *out)
{
    struct webhook_delivery *d = out;
    memset(d, 0, sizeof(*d));
    d->id = db_col_i64(s, 0);
    d->tenant_id = db_col_i64(s, 1);
    d->endpoint_id = db_col_i64(s, 2);
    d->msg_id = arena_strdup(a, nz(db_col_text(s, 3)));
    d->event_type = arena_strdup(a, nz(db_col_text(s, 4)));
    d->body = arena_strdup(a, nz(db_col_text(s, 5)));
    d->status = (enum webhook_delivery_status)status_index(db_col_text(s, 6));
    d->attempts = (int)db_col_i64(s, 7);
    d->next_attempt_ms = db_col_time(s, 8);
    d->last_status = db_col_is_null(s, 9) ? 0 : (int)db_col_i64(s, 9);
    d->last_response = db_col_is_null(s, 10) ? NULL : arena_strdup(a, db_col_text(s, 10));
    d->last_error = db_col_is_null(s, 11) ? NULL : arena_strdup(a, db_col_text(s, 11));
    d->created_at_ms = db_col_time(s, 12);
    d->updated_at_ms = db_col_time(s, 13);
    d->delivered_at_ms = db_col_time(s, 14);
}

static void delivery_row(struct db_stmt *s, struct arena *a, void *out)
{
    read_delivery(s, a, out);
}

int webhooks_store_delivery_insert(struct db_conn *c, int64_t tenant, struct webhook_delivery *d,
                                   int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO webhook_deliveries (tenant_id, endpoint_id, msg_id, "
                        "event_type, body, status, attempts, next_attempt_at, created_at, "
                        "updated_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?) RETURNING id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, d->endpoint_id);
    db_bind_text(s, 3, d->msg_id);
    db_bind_text(s, 4, d->event_type);
    db_bind_text(s, 5, d->body);
    db_bind_time(s, 6, d->next_attempt_ms ? d->next_attempt_ms : now_ms);
    db_bind_time(s, 7, now_ms);
    db_bind_time(s, 8, now_ms);
    int st = db_step(s, e);
    if (st == DB_ROW)
        d->id = db_col_i64(s, 0);
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    d->tenant_id = tenant;
    d->status = WEBHOOK_DELIVERY_PENDING;
    d->created_at_ms = now_ms;
    d->updated_at_ms = now_ms;
    return 0;
}

int webhooks_store_delivery_get(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                                struct webhook_delivery *out, struct err *e)
{
    bool found = false;
    int rc = db_get_one(c,
                        "SELECT " DELIVERY_COLS " FROM webhook_deliveries "
                        "WHERE tenant_id = ? AND id = ?",
                        tenant, NULL, id, delivery_row, a, out, &found, e);
    if (!rc && !found)
        rc = err_set_field(e, ERR_NOT_FOUND, "id", "no webhook delivery %lld", (long long)id);
    return rc;
}

int webhooks_store_delivery_list(struct db_conn *c, int64_t tenant,
                                 const struct webhook_delivery_filter *f, struct arena *a,
                                 struct webhook_delivery **rows, size_t *n, struct err *e)
{
    bool by_status = f->status >= WEBHOOK_DELIVERY_PENDING && f->status <= WEBHOOK_DELIVERY_DEAD;
    struct buf q;
    buf_init(&q, SQL_MAX);
    buf_appends(&q, "SELECT " DELIVERY_COLS " FROM webhook_deliveries WHERE tenant_id = ?");
    if (f->endpoint_id > 0)
        buf_appends(&q, " AND endpoint_id = ?");
    if (by_status)
        buf_appends(&q, " AND status = ?");
    if (f->after_id > 0)
        buf_appends(&q, " AND id < ?");
    buf_appends(&q, " ORDER BY id DESC LIMIT ?");
    struct db_stmt *s;
    int rc = db_prepare(c, &s, buf_str(&q), e);
    buf_release(&q);
    if (rc)
        return rc;
    int i = 1;
    db_bind_i64(s, i++, tenant);
    if (f->endpoint_id > 0)
        db_bind_i64(s, i++, f->endpoint_id);
    if (by_status)
        db_bind_text(s, i++, webhook_delivery_status_names[f->status]);
    if (f->after_id > 0)
        db_bind_i64(s, i++, f->after_id);
    int limit = f->limit <= 0 ? WEBHOOKS_LIST_DEFAULT
                              : (f->limit > WEBHOOKS_LIST_MAX ? WEBHOOKS_LIST_MAX : f->limit);
    db_bind_i64(s, i, limit);
    void *out;
    int rc_list = db_list(s, read_delivery, sizeof(struct webhook_delivery), a, &out, n, e);
    *rows = out;
    return rc_list;
}

int webhooks_store_delivery_attempted(struct db_conn *c, int64_t tenant, int64_t id, int attempt,
                                      enum webhook_delivery_status status,
                                      const struct webhook_attempt *at, int64_t next_attempt_ms,
                                      int64_t now_ms, bool *changed, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE webhook_deliveries SET status = ?, attempts = ?, "
                        "next_attempt_at = ?, last_status = ?, last_response = ?, "
                        "last_error = ?, updated_at = ?, "
                        "delivered_at = COALESCE(?, delivered_at) "
                        "WHERE tenant_id = ? AND id = ? AND status = 'pending' AND attempts = ?",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, webhook_delivery_status_names[status]);
    db_bind_i64(s, 2, attempt);
    if (next_attempt_ms)
        db_bind_time(s, 3, next_attempt_ms);
    else
        db_bind_null(s, 3);
    if (at->status > 0)
        db_bind_i64(s, 4, at->status);
    else
        db_bind_null(s, 4);
    if (at->response)
        db_bind_textn(s, 5, at->response, strnlen(at->response, WEBHOOKS_RESPONSE_MAX));
    else
        db_bind_null(s, 5);
    db_bind_text(s, 6, at->error);
    db_bind_time(s, 7, now_ms);
    if (status == WEBHOOK_DELIVERY_SUCCEEDED)
        db_bind_time(s, 8, now_ms);
    else
        db_bind_null(s, 8);
    db_bind_i64(s, 9, tenant);
    db_bind_i64(s, 10, id);
    db_bind_i64(s, 11, attempt - 1);
    int st = db_step(s, e);
    *changed = st != DB_ERROR && db_changes(s) > 0;
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

int webhooks_store_delivery_rearm(struct db_conn *c, int64_t tenant, int64_t id,
                                  int64_t next_attempt_ms, int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, "
                        "updated_at = ? WHERE tenant_id = ? AND id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_time(s, 1, next_attempt_ms);
    db_bind_time(s, 2, now_ms);
    db_bind_i64(s, 3, tenant);
    db_bind_i64(s, 4, id);
    int st = db_step(s, e);
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

int webhooks_store_delivery_kill(struct db_conn *c, int64_t tenant, int64_t id, const char *why,
                                 int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE webhook_deliveries SET status = 'dead', next_attempt_at = NULL, "
                        "last_error = ?, updated_at = ? "
                        "WHERE tenant_id = ? AND id = ? AND status = 'pending'",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, why);
    db_bind_time(s, 2, now_ms);
    db_bind_i64(s, 3, tenant);
    db_bind_i64(s, 4, id);
    int st = db_step(s, e);
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}
