/* SPDX-License-Identifier: MIT */
/*
 * The alerts store (see alerts.h). Every statement is scoped by tenant; the dedupe of open
 * alerts is one upsert against the partial unique index alerts_open_kind_idx (migration 0008),
 * so two workers raising the same alert at once still leave one open row.
 * Tests: tests/unit/domain/test_alerts.c.
 */
#include "domain/alerts/alerts.h"
#include <string.h>

#define ALERT_COLS                                                                                 \
    "id, tenant_id, kind, source, code, message, occurrences, created_at, last_seen_at, "          \
    "resolved_at"

static void read_alert(struct db_stmt *s, struct arena *a, void *out)
{
    struct alert *r = out;
    r->id = db_col_i64(s, 0);
    r->tenant_id = db_col_i64(s, 1);
    r->kind = db_col_str(s, 2, a);
    r->source = db_col_str(s, 3, a);
    r->code = db_col_str(s, 4, a);
    r->message = db_col_str(s, 5, a);
    r->occurrences = db_col_i64(s, 6);
    r->created_at_ms = db_col_time(s, 7);
    r->last_seen_at_ms = db_col_time(s, 8);
    r->resolved_at_ms = db_col_time(s, 9);
}

static bool kind_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
           ch == '-';
}

static int check_text(const char *field, const char *v, size_t max, bool kind_chars, struct err *e)
{
    size_t n = v ? strlen(v) : 0;
    if (n == 0 || n > max)
        return err_set_field(e, ERR_INVALID, field, "%s must be 1..%zu bytes", field, max);
    for (size_t i = 0; kind_chars && i < n; i++) {
        if (!kind_char(v[i]))
            return err_set_field(e, ERR_INVALID, field, "%s may hold only a-z 0-9 . _ -", field);
    }
    return 0;
}

/* Bytes of `s` to keep so that at most `max` are kept and no UTF-8 sequence is split. */
static size_t cut_utf8(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

int alerts_raise(struct db_conn *c, int64_t tenant, const struct alert_spec *spec, int64_t now_ms,
                 int64_t *id, struct err *e)
{
    if (id)
        *id = 0;
    if (tenant <= 0)
        return err_set_field(e, ERR_INVALID, "tenant_id", "an alert needs a tenant");
    const char *code = spec->code ? spec->code : "";
    int rc = check_text("kind", spec->kind, ALERT_KIND_MAX, true, e);
    if (!rc)
        rc = check_text("source", spec->source, ALERT_SOURCE_MAX, false, e);
    if (!rc && strlen(code) > ALERT_CODE_MAX)
        rc = err_set_field(e, ERR_INVALID, "code", "code must be at most %d bytes", ALERT_CODE_MAX);
    if (!rc && (!spec->message || !*spec->message))
        rc = err_set_field(e, ERR_INVALID, "message", "message must not be empty");
    if (rc)
        return rc;

    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "INSERT INTO alerts (tenant_id, kind, source, code, message, created_at, "
                    "last_seen_at, occurrences) VALUES (?, ?, ?, ?, ?, ?, ?, 1) "
                    "ON CONFLICT (tenant_id, kind) WHERE resolved_at IS NULL DO UPDATE SET "
                    "source = excluded.source, code = excluded.code, message = excluded.message, "
                    "last_seen_at = excluded.last_seen_at, occurrences = alerts.occurrences + 1 "
                    "RETURNING id",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, spec->kind);
    db_bind_text(s, 3, spec->source);
    db_bind_text(s, 4, code);
    db_bind_textn(s, 5, spec->message, cut_utf8(spec->message, ALERT_MESSAGE_MAX));
    db_bind_time(s, 6, now_ms);
    db_bind_time(s, 7, now_ms);
    int st = db_step(s, e);
    if (st == DB_ROW && id)
        *id = db_col_i64(s, 0);
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

int alerts_resolve(struct db_conn *c, int64_t tenant, int64_t id, int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE alerts SET resolved_at = COALESCE(resolved_at, ?) "
                        "WHERE tenant_id = ? AND id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_time(s, 1, now_ms);
    db_bind_i64(s, 2, tenant);
    db_bind_i64(s, 3, id);
    int64_t changed = 0;
    rc = db_exec_write(s, &changed, e);
    if (rc)
        return rc;
    if (changed == 0)
        return err_set_field(e, ERR_NOT_FOUND, "id", "no alert %lld in this tenant", (long long)id);
    return 0;
}

int alerts_resolve_kind(struct db_conn *c, int64_t tenant, const char *kind, int64_t now_ms,
                        bool *resolved, struct err *e)
{
    if (resolved)
        *resolved = false;
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE alerts SET resolved_at = ? "
                        "WHERE tenant_id = ? AND kind = ? AND resolved_at IS NULL",
                        e);
    if (rc)
        return rc;
    db_bind_time(s, 1, now_ms);
    db_bind_i64(s, 2, tenant);
    db_bind_text(s, 3, kind);
    int64_t changed = 0;
    rc = db_exec_write(s, &changed, e);
    if (resolved)
        *resolved = changed > 0;
    return rc;
}

int alerts_list(struct db_conn *c, int64_t tenant, const struct alert_filter *f, struct arena *a,
                struct alert **rows, size_t *n, struct err *e)
{
    static const char *const sql[] = {
        [ALERTS_ANY] = "SELECT " ALERT_COLS " FROM alerts WHERE tenant_id = ? AND id < ? "
                       "ORDER BY id DESC LIMIT ?",
        [ALERTS_OPEN] = "SELECT " ALERT_COLS " FROM alerts WHERE tenant_id = ? AND id < ? "
                        "AND resolved_at IS NULL ORDER BY id DESC LIMIT ?",
        [ALERTS_RESOLVED] = "SELECT " ALERT_COLS " FROM alerts WHERE tenant_id = ? AND id < ? "
                            "AND resolved_at IS NOT NULL ORDER BY id DESC LIMIT ?",
    };
    static const struct alert_filter none;
    if (!f)
        f = &none;
    *rows = NULL;
    *n = 0;
    int limit = db_page_limit(f->page.limit, ALERTS_LIST_DEFAULT, ALERTS_LIST_MAX);
    int state = f->state >= ALERTS_ANY && f->state <= ALERTS_RESOLVED ? (int)f->state : 0;
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql[state], e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, f->page.after > 0 ? f->page.after : INT64_MAX);
    db_bind_i64(s, 3, limit);
    void *out;
    rc = db_list(s, read_alert, sizeof(struct alert), a, &out, n, e);
    *rows = out;
    return rc;
}

int alerts_count_open(struct db_conn *c, int64_t tenant, int64_t *open, struct err *e)
{
    *open = 0;
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s, "SELECT COUNT(*) FROM alerts WHERE tenant_id = ? AND resolved_at IS NULL", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    bool found;
    return db_one_i64(s, open, &found, e);
}
