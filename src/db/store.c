/* SPDX-License-Identifier: MIT */
/*
 * The store toolkit (see store.h): small helpers over db.h shared by every module's store.
 * Backend-neutral; nothing here includes a database library. Tests: tests/unit/db/test_store.c.
 */
#include "db/store.h"

#include <stdio.h>
#include <string.h>

int db_one_i64(struct db_stmt *s, int64_t *out, bool *found, struct err *e)
{
    int st = db_step(s, e);
    *found = st == DB_ROW;
    if (st == DB_ROW)
        *out = db_col_i64(s, 0);
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

int db_exec_write(struct db_stmt *s, int64_t *changes, struct err *e)
{
    int st = db_step(s, e);
    if (changes)
        *changes = st == DB_ERROR ? 0 : db_changes(s);
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

int db_check_owned(struct db_conn *c, const char *sql, int64_t tenant, int64_t pk,
                   const char *field, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, pk);
    db_bind_i64(s, 2, tenant);
    int64_t one = 0;
    bool found = false;
    rc = db_one_i64(s, &one, &found, e);
    if (!rc && !found)
        rc = err_set_field(e, ERR_NOT_FOUND, field, "no %s %lld in this tenant", field,
                           (long long)pk);
    return rc;
}

int db_find_pk(struct db_conn *c, const char *sql, int64_t tenant, const char *key, int64_t *pk,
               struct err *e)
{
    *pk = 0;
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, key);
    bool found = false;
    return db_one_i64(s, pk, &found, e);
}

const char *db_col_str(struct db_stmt *s, int col, struct arena *a)
{
    const char *t = db_col_text(s, col);
    return arena_strdup(a, t ? t : "");
}

const char *db_col_dup(struct db_stmt *s, int col, struct arena *a)
{
    const char *t = db_col_text(s, col);
    return t ? arena_strdup(a, t) : NULL;
}

int db_list(struct db_stmt *s, db_row_fn *read, size_t elem_size, struct arena *a, void **rows,
            size_t *n, struct err *e)
{
    *rows = NULL;
    *n = 0;
    size_t cap = 0, used = 0;
    char *out = NULL;
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        out = arena_grow(a, out, used, &cap, elem_size);
        void *elem = out + used * elem_size;
        memset(elem, 0, elem_size);
        read(s, a, elem);
        used++;
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    *rows = out;
    *n = used;
    return 0;
}

int db_page_limit(int limit, int def, int max)
{
    if (limit <= 0)
        return def;
    return limit > max ? max : limit;
}

int64_t db_page_next(const struct page *p, size_t n, int64_t last_id)
{
    return p->limit > 0 && n == (size_t)p->limit ? last_id : 0;
}

int db_settings_get(struct db_conn *c, const char *table, int64_t tenant, struct arena *a,
                    const char **text, struct err *e)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT config FROM %s WHERE tenant_id = ?", table);
    *text = NULL;
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    int st = db_step(s, e);
    if (st == DB_ROW)
        *text = db_col_dup(s, 0, a);
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

int db_settings_put(struct db_conn *c, const char *table, int64_t tenant, const char *text,
                    int64_t now_ms, struct err *e)
{
    char sql[300];
    snprintf(sql, sizeof(sql),
             "INSERT INTO %s (tenant_id, config, updated_at) VALUES (?, ?, ?) "
             "ON CONFLICT (tenant_id) DO UPDATE SET config = excluded.config, "
             "updated_at = excluded.updated_at",
             table);
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, text);
    db_bind_time(s, 3, now_ms);
    return db_exec_write(s, NULL, e);
}
