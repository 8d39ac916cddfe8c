/* SPDX-License-Identifier: MIT */
/*
 * The SQL of files (see files.h, store section): rows in `files`, limits in `files_limits`.
 * Every query filters by tenant. Tests: tests/unit/domain/test_files.c (SQLite and PostgreSQL).
 */
#include "domain/files/files.h"

#include <stdint.h>
#include <string.h>

#define FILE_COLS                                                                                  \
    "id, tenant_id, owner, name, mime, size, sha256, storage_key, state, created_at, expires_at"

static void read_file(struct db_stmt *s, struct arena *a, void *out)
{
    struct files_file *f = out;
    f->id = db_col_i64(s, 0);
    f->tenant_id = db_col_i64(s, 1);
    f->owner = db_col_str(s, 2, a);
    f->name = db_col_str(s, 3, a);
    f->mime = db_col_str(s, 4, a);
    f->size = db_col_i64(s, 5);
    f->sha256 = db_col_str(s, 6, a);
    f->storage_key = db_col_str(s, 7, a);
    const char *st = db_col_text(s, 8);
    f->state = st && strcmp(st, "ready") == 0 ? FILES_STATE_READY : FILES_STATE_PENDING;
    f->created_at = db_col_time(s, 9);
    f->expires_at = db_col_is_null(s, 10) ? 0 : db_col_time(s, 10);
}

int files_store_insert(struct db_conn *c, const struct files_file *f, int64_t *id, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO files (tenant_id, owner, name, mime, size, sha256, "
                        "storage_key, state, created_at, expires_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, f->tenant_id);
    db_bind_text(s, 2, f->owner);
    db_bind_text(s, 3, f->name);
    db_bind_text(s, 4, f->mime ? f->mime : "");
    db_bind_i64(s, 5, f->size);
    db_bind_text(s, 6, f->sha256 ? f->sha256 : "");
    db_bind_text(s, 7, f->storage_key);
    db_bind_text(s, 8, files_state_name(f->state));
    db_bind_time(s, 9, f->created_at);
    if (f->expires_at)
        db_bind_time(s, 10, f->expires_at);
    else
        db_bind_null(s, 10);
    bool found = false;
    return db_one_i64(s, id, &found, e);
}

int files_store_get(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                    struct files_file *out, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "SELECT " FILE_COLS " FROM files WHERE id = ? AND tenant_id = ?", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, id);
    db_bind_i64(s, 2, tenant);
    struct files_file *rows;
    size_t n;
    rc = db_list(s, read_file, sizeof(*rows), a, (void **)&rows, &n, e);
    if (rc)
        return rc;
    if (!n)
        return err_set_field(e, ERR_NOT_FOUND, "id", "no file %lld", (long long)id);
    *out = rows[0];
    return 0;
}

int files_store_mark_ready(struct db_conn *c, int64_t tenant, int64_t id, const char *mime,
                           int64_t size, const char *sha256, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE files SET state = 'ready', mime = ?, size = ?, sha256 = ?, "
                        "expires_at = NULL WHERE id = ? AND tenant_id = ? AND state = 'pending'",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, mime);
    db_bind_i64(s, 2, size);
    db_bind_text(s, 3, sha256);
    db_bind_i64(s, 4, id);
    db_bind_i64(s, 5, tenant);
    int64_t n = 0;
    rc = db_exec_write(s, &n, e);
    if (!rc && !n)
        rc = err_set_field(e, ERR_CONFLICT, "id", "file %lld is not waiting for its upload",
                           (long long)id);
    return rc;
}

int files_store_delete(struct db_conn *c, int64_t tenant, int64_t id, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "DELETE FROM files WHERE id = ? AND tenant_id = ?", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, id);
    db_bind_i64(s, 2, tenant);
    int64_t n = 0;
    rc = db_exec_write(s, &n, e);
    if (!rc && !n)
        rc = err_set_field(e, ERR_NOT_FOUND, "id", "no file %lld", (long long)id);
    return rc;
}

int files_store_list(struct db_conn *c, int64_t tenant, const char *owner, const struct page *p,
                     struct arena *a, struct files_file **rows, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT " FILE_COLS " FROM files WHERE tenant_id = ? AND id < ? "
                        "AND (? = '' OR owner = ?) AND owner <> '" FILES_OWNER_CERTIFICATES "' "
                        "ORDER BY id DESC LIMIT ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, p && p->after > 0 ? p->after : INT64_MAX);
    db_bind_text(s, 3, owner ? owner : "");
    db_bind_text(s, 4, owner ? owner : "");
    db_bind_i64(s, 5, db_page_limit(p ? p->limit : 0, FILES_LIST_DEFAULT, FILES_LIST_MAX));
    return db_list(s, read_file, sizeof(**rows), a, (void **)rows, n, e);
}

int files_store_expired(struct db_conn *c, int64_t before_ms, int limit, struct arena *a,
                        struct files_file **rows, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT " FILE_COLS " FROM files WHERE state = 'pending' "
                        "AND expires_at < ? ORDER BY id LIMIT ?",
                        e);
    if (rc)
        return rc;
    db_bind_time(s, 1, before_ms);
    db_bind_i64(s, 2, limit);
    return db_list(s, read_file, sizeof(**rows), a, (void **)rows, n, e);
}

static void read_key(struct db_stmt *s, struct arena *a, void *out)
{
    *(const char **)out = db_col_str(s, 0, a);
}

int files_store_keys(struct db_conn *c, int64_t tenant, struct arena *a, const char ***keys,
                     size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "SELECT storage_key FROM files WHERE tenant_id = ? ORDER BY id", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    return db_list(s, read_key, sizeof(**keys), a, (void **)keys, n, e);
}

int files_store_limit(struct db_conn *c, int64_t tenant, int64_t def, int64_t *out, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "SELECT max_bytes FROM files_limits WHERE tenant_id = ?", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    bool found = false;
    *out = def;
    return db_one_i64(s, out, &found, e);
}

int files_store_set_limit(struct db_conn *c, int64_t tenant, int64_t max_bytes, struct err *e)
{
    if (max_bytes < 1 || max_bytes > FILES_MAX_LIMIT)
        return err_set_field(e, ERR_INVALID, "max_bytes", "max_bytes must be 1..%lld",
                             (long long)FILES_MAX_LIMIT);
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO files_limits (tenant_id, max_bytes) VALUES (?, ?) "
                        "ON CONFLICT (tenant_id) DO UPDATE SET max_bytes = excluded.max_bytes",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, max_bytes);
    return db_exec_write(s, NULL, e);
}
