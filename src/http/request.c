/* SPDX-License-Identifier: MIT */
/*
 * What handlers read of a request (see request.h): headers and query arguments through the
 * server's connection ops, typed path and query parameters, and the per-request database
 * connection. Tests: tests/integration/.
 */
#include "http/request.h"
#include "core/clock.h"
#include "core/money.h"
#include "core/str.h"
#include "net/storage.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *http_req_header(struct http_req *r, const char *name)
{
    return r->conn_ops->header(r->conn, name);
}

bool http_req_wants_json(struct http_req *r)
{
    const char *fmt = http_req_query(r, "format");
    if (fmt && str_eq(fmt, "json"))
        return true;
    const char *accept = http_req_header(r, "Accept");
    return accept && strstr(accept, "application/json") && !strstr(accept, "text/html");
}

bool http_req_prefers(struct http_req *r, const char *name)
{
    const char *p = http_req_header(r, "Prefer");
    size_t n = strlen(name);
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t len = strcspn(p, "=;, \t");
        if (len == n && strncasecmp(p, name, n) == 0)
            return true;
        p = strchr(p, ','); /* the next preference */
    }
    return false;
}

void http_req_defer(struct http_req *r, int64_t job_id, int64_t wait_ms, http_defer_fn *finish,
                    void *ctx)
{
    r->defer_phase = HTTP_DEFER_ASKED;
    r->defer_job = job_id;
    r->defer_deadline_ms = clock_mono_ms() + wait_ms;
    r->defer_finish = finish;
    r->defer_ctx = ctx;
    r->defer_state = JOB_STATE_PENDING;
}

static const char *lookup_header(void *ctx, const char *name)
{
    return http_req_header(ctx, name);
}

int http_req_webhook_headers(struct http_req *r, const char *const *names, struct wh_headers *h,
                             struct err *e)
{
    return wh_headers_collect(h, names, lookup_header, r, e);
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Query values arrive raw (the server keeps %2F escaped in paths), so decode them here. */
const char *http_req_query(struct http_req *r, const char *name)
{
    const char *raw = r->conn_ops->query_raw(r->conn, name);
    if (!raw)
        return NULL;
    size_t len = strlen(raw);
    char *out = arena_alloc(&r->arena, len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (raw[i] == '+') {
            out[o++] = ' ';
        } else if (raw[i] == '%' && i + 2 < len && hexv(raw[i + 1]) >= 0 && hexv(raw[i + 2]) >= 0) {
            char c = (char)(hexv(raw[i + 1]) * 16 + hexv(raw[i + 2]));
            if (c == '\0')
                return NULL;
            out[o++] = c;
            i += 2;
        } else {
            out[o++] = raw[i];
        }
    }
    out[o] = '\0';
    return out;
}

const char *http_req_param(struct http_req *r, const char *name)
{
    return router_param(&r->params, name);
}

int http_req_param_id(struct http_req *r, const char *name, int64_t *out, struct err *e)
{
    const char *v = http_req_param(r, name);
    int64_t id;
    if (!v || str_to_i64(v, &id) || id <= 0)
        return err_set_field(e, ERR_NOT_FOUND, name, "no such %s: %s", name, v ? v : "");
    *out = id;
    return 0;
}

int http_req_query_int(struct http_req *r, const char *name, int64_t lo, int64_t hi, int64_t def,
                       int64_t *out, struct err *e)
{
    const char *v = http_req_query(r, name);
    if (!v) {
        *out = def;
        return 0;
    }
    if (str_to_i64_range(v, lo, hi, out))
        return err_set_field(e, ERR_INVALID, name,
                             "query parameter %s must be an integer in "
                             "%lld..%lld",
                             name, (long long)lo, (long long)hi);
    return 0;
}

int http_req_query_number(struct http_req *r, const char *name, double lo, double hi, double def,
                          double *out, struct err *e)
{
    const char *v = http_req_query(r, name);
    if (!v) {
        *out = def;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    double d = *v ? strtod(v, &end) : 0;
    if (!*v || errno || !end || *end || !isfinite(d) || d < lo || d > hi)
        return err_set_field(e, ERR_INVALID, name, "query parameter %s must be a number in %g..%g",
                             name, lo, hi);
    *out = d;
    return 0;
}

int http_req_page(struct http_req *r, int def_limit, int max_limit, struct page *out, struct err *e)
{
    int64_t limit = 0, after = 0;
    int rc = http_req_query_int(r, "limit", 1, max_limit, def_limit, &limit, e);
    if (!rc)
        rc = http_req_query_int(r, "after", 1, INT64_MAX, 0, &after, e);
    if (rc)
        return rc;
    out->limit = (int)limit;
    out->after = after;
    return 0;
}

json_t *http_page_body(const char *key, json_t *items, const struct page *p, size_t n,
                       int64_t last_id)
{
    int64_t next = db_page_next(p, n, last_id);
    return json_pack("{s:o, s:o}", key, items, "next_after",
                     next ? json_integer(next) : json_null());
}

int http_req_db(struct http_req *r, struct db_conn **out, struct err *e)
{
    if (!r->db) {
        int rc = db_conn_acquire(r->app->db, &r->db, e);
        if (rc)
            return rc;
    }
    *out = r->db;
    return 0;
}

int http_req_storage(struct http_req *r, int64_t tenant, struct storage **out, struct err *e)
{
    if (r->db)
        return storage_for_tenant(r->app->storages, r->db, tenant, &r->arena, out, e);
    struct db_conn *c = NULL;
    int rc = db_conn_acquire(r->app->db, &c, e);
    if (rc)
        return rc;
    rc = storage_for_tenant(r->app->storages, c, tenant, &r->arena, out, e);
    db_conn_release(c);
    return rc;
}

json_t *http_json_time(int64_t ms)
{
    if (!ms)
        return json_null();
    char ts[CLOCK_ISO_LEN];
    clock_format_iso(ms, ts);
    return json_string(ts);
}

json_t *http_json_amount(int64_t minor, const struct money_currency *cur)
{
    struct money m = {minor, cur};
    char text[MONEY_TEXT_MAX];
    struct err e;
    err_init(&e);
    if (!cur || money_format(&m, text, sizeof(text), &e))
        return json_null();
    return json_string(text);
}

json_t *http_json_amount_code(int64_t minor, const char *currency)
{
    const struct money_currency *cur = NULL;
    struct err e;
    err_init(&e);
    if (!currency || money_currency_find(currency, &cur, &e))
        cur = NULL;
    return http_json_amount(minor, cur);
}
