/* SPDX-License-Identifier: MIT */
/*
 * The inbound-event ledger (inbound_events) and the job that hands each event to its
 * provider's handler. Never logs a body. Tests: tests/unit/integrations/test_inbound_ledger.c.
 */
#include "integrations/inbound_ledger.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/str.h"
#include "jobs/queue.h"
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_text(const char *what, const char *v, size_t max, bool required, struct err *e)
{
    size_t len = v ? strnlen(v, max + 1) : 0;
    if (required && !len)
        return err_set_field(e, ERR_INVALID, what, "%s is missing", what);
    if (len > max)
        return err_set_field(e, ERR_INVALID, what, "%s is longer than %zu bytes", what, max);
    return 0;
}

/* The first row for the key, if any: its id and body hash. */
static int find(struct db_conn *c, int64_t tenant, const char *provider, const char *event_id,
                int64_t *id, char hash[SEC_HEX_SIZE(SEC_SHA256_LEN)], bool *found, struct err *e)
{
    *found = false;
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT id, body_sha256 FROM inbound_events WHERE tenant_id = ? AND "
                        "provider = ? AND event_id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, provider);
    db_bind_text(s, 3, event_id);
    int st = db_step(s, e);
    if (st == DB_ROW) {
        *found = true;
        *id = db_col_i64(s, 0);
        snprintf(hash, SEC_HEX_SIZE(SEC_SHA256_LEN), "%s", db_col_text(s, 1));
    } else if (st == DB_ERROR) {
        rc = db_step_error(e);
    }
    db_stmt_done(s);
    return rc;
}

static int count_duplicate(struct db_conn *c, int64_t id, struct err *e)
{
    struct db_stmt *s;
    int rc =
        db_prepare(c, &s, "UPDATE inbound_events SET duplicates = duplicates + 1 WHERE id = ?", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, id);
    if (db_step(s, e) == DB_ERROR)
        rc = db_step_error(e);
    db_stmt_done(s);
    return rc;
}

static int insert(struct db_conn *c, int64_t tenant, const char *provider, const char *event_id,
                  const char *event_type, const char *body, size_t len, const char *hash,
                  int64_t now_ms, int64_t *id, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO inbound_events (tenant_id, provider, event_id, event_type, "
                        "body_sha256, body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, provider);
    db_bind_text(s, 3, event_id);
    db_bind_text(s, 4, event_type ? event_type : "");
    db_bind_text(s, 5, hash);
    db_bind_textn(s, 6, body, len);
    db_bind_time(s, 7, now_ms);
    int st = db_step(s, e);
    if (st == DB_ROW)
        *id = db_col_i64(s, 0);
    else
        rc = st == DB_ERROR ? db_step_error(e) : err_set(e, ERR_DB, "insert returned no id");
    db_stmt_done(s);
    return rc;
}

/* One delivery's write, run by db_group_write (possibly on another thread, possibly twice). */
struct record {
    int64_t tenant;
    const char *provider, *event_id, *event_type, *body, *hash;
    size_t len;
    int64_t now_ms;
    int64_t *id;
    bool *duplicate, *changed_body;
};

static int record(struct db_conn *c, void *ctx, struct err *e)
{
    struct record *w = ctx;
    *w->id = 0;
    *w->duplicate = false;
    *w->changed_body = false;
    char seen[SEC_HEX_SIZE(SEC_SHA256_LEN)] = "";
    bool found = false;
    int rc = find(c, w->tenant, w->provider, w->event_id, w->id, seen, &found, e);
    if (rc)
        return rc;
    if (found) {
        *w->duplicate = true;
        *w->changed_body = !str_eq(seen, w->hash);
        return count_duplicate(c, *w->id, e);
    }
    rc = insert(c, w->tenant, w->provider, w->event_id, w->event_type, w->body, w->len, w->hash,
                w->now_ms, w->id, e);
    if (rc)
        return rc;
    char payload[64], key[96];
    snprintf(payload, sizeof(payload), "{\"event\":%lld}", (long long)*w->id);
    snprintf(key, sizeof(key), "inbound:%lld", (long long)*w->id);
    struct job_spec spec = {
        .name = INBOUND_JOB, .payload_json = payload, .tenant_id = w->tenant, .unique_key = key};
    return jobs_enqueue(c, &spec, w->now_ms, NULL, NULL, e);
}

int inbound_record(struct db_conn *c, int64_t tenant, const char *provider, const char *event_id,
                   const char *event_type, const char *body, size_t len, int64_t now_ms,
                   int64_t *id, bool *duplicate, bool *changed_body, struct err *e)
{
    *id = 0;
    *duplicate = false;
    *changed_body = false;
    int rc = check_text("event_id", event_id, INBOUND_EVENT_ID_MAX, true, e);
    if (!rc)
        rc = check_text("event_type", event_type, INBOUND_EVENT_TYPE_MAX, false, e);
    if (!rc)
        rc = check_text("provider", provider, 64, true, e);
    if (rc)
        return rc;
    unsigned char digest[SEC_SHA256_LEN];
    char hash[SEC_HEX_SIZE(SEC_SHA256_LEN)];
    sec_sha256(digest, body, len);
    rc = sec_hex_encode(hash, sizeof(hash), digest, sizeof(digest), e);
    if (rc)
        return rc;
    struct record w = {.tenant = tenant,
                       .provider = provider,
                       .event_id = event_id,
                       .event_type = event_type,
                       .body = body,
                       .hash = hash,
                       .len = len,
                       .now_ms = now_ms,
                       .id = id,
                       .duplicate = duplicate,
                       .changed_body = changed_body};
    /* concurrent deliveries share one commit; this returns once ours is durable */
    return db_group_write(c, record, &w, e);
}

static void read_row(struct db_stmt *s, struct arena *a, void *out)
{
    struct inbound_event *ev = out;
    ev->id = db_col_i64(s, 0);
    ev->tenant_id = db_col_i64(s, 1);
    ev->provider = arena_strdup(a, db_col_text(s, 2));
    ev->event_id = arena_strdup(a, db_col_text(s, 3));
    ev->event_type = arena_strdup(a, db_col_text(s, 4));
    ev->body_sha256 = arena_strdup(a, db_col_text(s, 5));
    ev->body = arena_strdup(a, db_col_text(s, 6));
    ev->status = arena_strdup(a, db_col_text(s, 7));
    ev->error = arena_strdup(a, db_col_text(s, 8));
    ev->duplicates = (int)db_col_i64(s, 9);
    ev->received_at = db_col_time(s, 10);
    ev->processed_at = db_col_is_null(s, 11) ? 0 : db_col_time(s, 11);
}

int inbound_get(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                struct inbound_event *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    bool found = false;
    int rc = db_get_one(c,
                        "SELECT id, tenant_id, provider, event_id, event_type, body_sha256, body, "
                        "status, error, duplicates, received_at, processed_at FROM inbound_events "
                        "WHERE tenant_id = ? AND id = ?",
                        tenant, NULL, id, read_row, a, out, &found, e);
    if (!rc && !found)
        rc = err_set(e, ERR_NOT_FOUND, "no inbound event %lld", (long long)id);
    return rc;
}

static int finish(struct db_conn *c, int64_t id, const char *status, const char *error,
                  int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE inbound_events SET status = ?, error = ?, processed_at = ? WHERE "
                        "id = ? AND status = 'received'",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, status);
    db_bind_text(s, 2, error);
    db_bind_time(s, 3, now_ms);
    db_bind_i64(s, 4, id);
    if (db_step(s, e) == DB_ERROR)
        rc = db_step_error(e);
    db_stmt_done(s);
    return rc;
}

struct handlers {
    const struct inbound_handler *h;
    size_t n;
};

static int process(struct job_ctx *ctx, struct err *e)
{
    const struct handlers *hs = ctx->userdata;
    json_t *root = json_loads(ctx->payload ? ctx->payload : "", 0, NULL);
    int64_t id = (int64_t)json_integer_value(json_object_get(root, "event"));
    json_decref(root);
    if (id <= 0 || ctx->tenant_id <= 0)
        return err_set(e, ERR_INVALID, "job %lld: payload needs {\"event\": id} and a tenant",
                       (long long)ctx->job_id);
    struct inbound_event ev;
    int rc = inbound_get(ctx->conn, ctx->tenant_id, id, ctx->arena, &ev, e);
    if (rc || !str_eq(ev.status, "received"))
        return rc; /* already decided */
    inbound_handler_fn *fn = NULL;
    for (size_t i = 0; i < hs->n; i++) {
        if (str_eq(hs->h[i].provider, ev.provider))
            fn = hs->h[i].fn;
    }
    if (!fn)
        return finish(ctx->conn, id, "ignored", "no handler for this provider", ctx->now_ms, e);
    rc = fn(ctx->conn, &ev, ctx->arena, ctx->now_ms, e);
    if (!rc)
        rc = finish(ctx->conn, id, "processed", "", ctx->now_ms, e);
    if (!rc)
        log_info("msg=\"inbound event processed\" tenant=%lld provider=%s event=%lld type=%s",
                 (long long)ctx->tenant_id, ev.provider, (long long)id, ev.event_type);
    return rc;
}

int inbound_jobs_register(struct job_registry *reg, const struct inbound_handler *handlers,
                          size_t n, struct err *e)
{
    /* one registry per process; the table it points to is static */
    static struct handlers hs;
    hs.h = handlers;
    hs.n = n;
    return job_registry_add(reg, INBOUND_JOB, process, &hs, JOB_IN_TX, e);
}
