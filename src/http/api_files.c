/* SPDX-License-Identifier: MIT */
/*
 * Files over HTTP: POST /api/files/upload (multipart/form-data, streamed through the multipart
 * parser into the files module chunk by chunk), presigned uploads and their completion, the
 * local upload links, metadata, downloads and deletion, the tenant's upload limit. Thin: the
 * rules and storage live in domain/files and net/storage. Tests: tests/integration/0019-files.c.
 */
#include "core/clock.h"
#include "core/str.h"
#include "domain/files/files_service.h"
#include "http/handlers.h"
#include "http/multipart.h"
#include "net/storage.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Bytes a multipart body may carry beyond the file itself (boundaries, headers, small fields). */
#define MULTIPART_OVERHEAD ((int64_t)64 * 1024)

static json_t *file_json(const struct files_file *f)
{
    char dl[96];
    snprintf(dl, sizeof(dl), "/api/files/%lld?download=1", (long long)f->id);
    return json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:o, s:o, s:s*}", "id", (json_int_t)f->id,
                     "name", f->name, "mime", f->mime, "size", (json_int_t)f->size, "sha256",
                     f->sha256, "state", files_state_name(f->state), "owner", f->owner,
                     "created_at", http_json_time(f->created_at), "expires_at",
                     http_json_time(f->expires_at), "download_url",
                     f->state == FILES_STATE_READY ? dl : NULL);
}

static struct files_caller caller(struct http_req *r)
{
    return (struct files_caller){r->who.tenant_id, r->who.subject, r->who.role >= ROLE_ADMIN};
}

static int64_t now_ms(struct http_req *r)
{
    return clock_now_ms(r->app->clock);
}

/* The tenant's upload limit, read on a connection of its own (an upload may last long). */
static int tenant_limit(struct http_req *r, int64_t tenant, int64_t *limit, struct err *e)
{
    struct db_conn *c = NULL;
    int rc = db_conn_acquire(r->app->db, &c, e);
    if (rc)
        return rc;
    rc = files_store_limit(c, tenant, r->app->cfg.files_max_bytes, limit, e);
    db_conn_release(c);
    return rc;
}

/* 413 before a byte is read when the declared length already says too much. */
static int declared_length_check(struct http_req *r, int64_t limit, int64_t overhead, struct err *e)
{
    const char *cl = http_req_header(r, "Content-Length");
    int64_t n;
    if (cl && !str_to_i64(cl, &n) && n > limit + overhead)
        return err_set_field(e, ERR_TOO_LARGE, "file",
                             "upload of %lld bytes exceeds the limit of %lld bytes", (long long)n,
                             (long long)limit);
    return 0;
}

/* ======================== POST /api/files/upload ======================== */

struct upload_req {
    struct http_req *r;
    struct multipart mp;
    struct files_upload up;
    struct storage *st;
    int64_t limit;
    bool in_file;
    bool have_file;
};

static int part_begin(void *ctx, const struct multipart_part *p, struct err *e)
{
    struct upload_req *u = ctx;
    if (strcmp(p->name, "file") != 0)
        return 0; /* other fields are read past */
    if (!p->filename)
        return err_set_field(e, ERR_INVALID, "file", "the file part needs a filename");
    if (u->have_file)
        return err_set_field(e, ERR_INVALID, "file", "one file per upload");
    int rc = files_upload_begin(&u->up, u->st, p->filename, u->limit, e);
    arena_defer(&u->r->arena, files_upload_abort, &u->up);
    if (rc)
        return rc;
    u->in_file = true;
    u->have_file = true;
    return 0;
}

static int part_data(void *ctx, const char *p, size_t n, struct err *e)
{
    struct upload_req *u = ctx;
    return u->in_file ? files_upload_write(&u->up, p, n, e) : 0;
}

static int part_end(void *ctx, struct err *e)
{
    (void)e;
    struct upload_req *u = ctx;
    u->in_file = false;
    return 0;
}

static const struct multipart_cb upload_cb = {part_begin, part_data, part_end};

int h_files_upload(struct http_req *r, struct err *e)
{
    struct upload_req *u = r->stream_ctx;
    switch (r->stream_phase) {
    case HTTP_STREAM_BEGIN: {
        char boundary[MULTIPART_MAX_BOUNDARY + 1];
        int rc = multipart_boundary(http_req_header(r, "Content-Type"), boundary, e);
        u = arena_alloc(&r->arena, sizeof(*u));
        u->r = r;
        u->up.fd = -1;
        if (!rc)
            rc = tenant_limit(r, r->who.tenant_id, &u->limit, e);
        if (!rc)
            rc = http_req_storage(r, r->who.tenant_id, &u->st, e);
        if (!rc)
            rc = declared_length_check(r, u->limit, MULTIPART_OVERHEAD, e);
        if (rc)
            return rc;
        multipart_init(&u->mp, boundary, &upload_cb, u);
        r->stream_ctx = u;
        return 0;
    }
    case HTTP_STREAM_DATA:
        return multipart_feed(&u->mp, r->stream_data, r->stream_len, e);
    case HTTP_STREAM_END:
        break;
    }
    if (!u)
        return err_set_field(e, ERR_INVALID, "file", "no body");
    int rc = multipart_finish(&u->mp, e);
    if (!rc && !u->have_file)
        rc = err_set_field(e, ERR_INVALID, "file", "the form has no part named file");
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct files_caller who = caller(r);
    struct files_file f;
    if (!rc)
        rc = files_upload_commit(&u->up, c, &who, now_ms(r), &r->arena, &f, e);
    if (rc)
        return rc;
    return http_reply_json(r, 201, file_json(&f));
}

/* ======================== presigned uploads ======================== */

int h_files_presign(struct http_req *r, struct err *e)
{
    const char *name;
    int rc = json_get_strn(r->json, "name", true, 1024, &name, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct files_caller who = caller(r);
    struct files_presigned p;
    struct storage *st = NULL;
    if (!rc)
        rc = http_req_storage(r, who.tenant_id, &st, e);
    if (!rc)
        rc =
            files_presign_upload(c, st, r->app->token_key, &who, name, now_ms(r), &r->arena, &p, e);
    if (rc)
        return rc;
    const char *url =
        p.local ? arena_printf(&r->arena, "%s%s", r->app->cfg.public_url, p.url) : p.url;
    json_t *upload = json_pack("{s:s, s:s, s:o, s:I}", "method", "PUT", "url", url, "expires_at",
                               http_json_time(p.file.expires_at), "max_bytes",
                               (json_int_t)r->app->cfg.files_max_bytes);
    json_t *body = file_json(&p.file);
    json_object_set_new(body, "upload", upload);
    return http_reply_json(r, 201, body);
}

struct link_req {
    struct files_upload up;
    int64_t tenant;
    const char *owner;
};

/* PUT /api/files/uploads/{token}: a local presigned upload; the token is the credential. */
int h_files_upload_link(struct http_req *r, struct err *e)
{
    struct link_req *l = r->stream_ctx;
    switch (r->stream_phase) {
    case HTTP_STREAM_BEGIN: {
        int64_t tenant = 0, id = 0, limit = 0;
        int rc = files_upload_link_check(r->app->token_key, http_req_param(r, "token"), now_ms(r),
                                         &r->arena, &tenant, &id, e);
        struct files_file f;
        struct db_conn *c = NULL;
        if (!rc)
            rc = db_conn_acquire(r->app->db, &c, e);
        if (rc)
            return rc;
        rc = files_store_get(c, tenant, id, &r->arena, &f, e);
        if (!rc)
            rc = files_store_limit(c, tenant, r->app->cfg.files_max_bytes, &limit, e);
        db_conn_release(c);
        if (!rc && f.state != FILES_STATE_PENDING)
            rc = err_set_field(e, ERR_CONFLICT, "token", "this file is already uploaded");
        if (!rc)
            rc = declared_length_check(r, limit, 0, e);
        struct storage *st = NULL;
        if (!rc)
            rc = http_req_storage(r, tenant, &st, e);
        if (rc)
            return rc;
        l = arena_alloc(&r->arena, sizeof(*l));
        l->up.fd = -1;
        rc = files_upload_begin(&l->up, st, f.name, limit, e);
        arena_defer(&r->arena, files_upload_abort, &l->up);
        l->up.pending_id = id;
        l->tenant = tenant;
        l->owner = f.owner;
        r->stream_ctx = l;
        return rc;
    }
    case HTTP_STREAM_DATA:
        return files_upload_write(&l->up, r->stream_data, r->stream_len, e);
    case HTTP_STREAM_END:
        break;
    }
    if (!l)
        return err_set_field(e, ERR_INVALID, "file", "file is empty");
    struct db_conn *c = NULL;
    int rc = http_req_db(r, &c, e);
    struct files_caller who = {l->tenant, l->owner, false};
    struct files_file f;
    if (!rc)
        rc = files_upload_commit(&l->up, c, &who, now_ms(r), &r->arena, &f, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, file_json(&f));
}

int h_files_complete(struct http_req *r, struct err *e)
{
    int64_t id;
    int rc = http_req_param_id(r, "id", &id, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct files_caller who = caller(r);
    struct files_file f;
    if (!rc)
        rc = files_get(c, &who, id, &r->arena, &f, e);
    if (!rc && f.state == FILES_STATE_READY)
        return http_reply_json(r, 200, file_json(&f)); /* completing twice changes nothing */
    int64_t limit = 0;
    if (!rc)
        rc = files_store_limit(c, who.tenant_id, r->app->cfg.files_max_bytes, &limit, e);
    struct storage *st = NULL;
    if (!rc)
        rc = http_req_storage(r, who.tenant_id, &st, e);
    if (!rc)
        rc = files_complete(c, st, &who, id, limit, &r->arena, &f, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, file_json(&f));
}

/* ======================== reading, deleting, listing ======================== */

/* Content-Disposition for a sanitised name: ASCII fallback plus the UTF-8 form (RFC 6266). */
static const char *disposition(struct http_req *r, const char *name)
{
    struct buf b;
    buf_init(&b, 2048);
    buf_appends(&b, "attachment; filename=\"");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        char c = *p < 0x80 && *p != '"' && *p != '\\' ? (char)*p : '_';
        buf_append(&b, &c, 1);
    }
    buf_appends(&b, "\"; filename*=UTF-8''");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '.' || *p == '-' || *p == '_')
            buf_append(&b, p, 1);
        else
            buf_appendf(&b, "%%%02X", *p);
    }
    const char *s = arena_strdup(&r->arena, buf_str(&b));
    buf_release(&b);
    return s;
}

static int download(struct http_req *r, const struct files_file *f, struct err *e)
{
    if (f->state != FILES_STATE_READY)
        return err_set_field(e, ERR_CONFLICT, "id", "file %lld has not been uploaded yet",
                             (long long)f->id);
    int fd = -1;
    int64_t size = 0;
    struct storage *st = NULL;
    int rc = http_req_storage(r, f->tenant_id, &st, e);
    if (!rc)
        rc = storage_open_read(st, f->storage_key, &fd, &size, e);
    if (rc == ERR_NOT_IMPLEMENTED) {
        /* the bucket serves the bytes: a short-lived signed link */
        err_init(e);
        struct buf url;
        buf_init(&url, 8192);
        rc = storage_presign(st, "GET", f->storage_key, now_ms(r) / 1000, FILES_PRESIGN_TTL_S, &url,
                             e);
        if (!rc) {
            http_reply_header(r, "Location", buf_str(&url));
            rc = http_reply_json(r, 302, json_pack("{s:s}", "url", buf_str(&url)));
        }
        buf_release(&url);
        return rc;
    }
    if (rc == ERR_NOT_FOUND)
        return err_set_field(e, ERR_NOT_FOUND, "id", "the bytes of file %lld are missing",
                             (long long)f->id);
    if (rc)
        return rc;
    http_reply_header(r, "Content-Disposition", disposition(r, f->name));
    return http_reply_file(r, 200, f->mime, fd, size);
}

int h_files_get(struct http_req *r, struct err *e)
{
    int64_t id;
    int rc = http_req_param_id(r, "id", &id, e);
    const char *dl = http_req_query(r, "download");
    if (!rc && dl && strcmp(dl, "1") != 0 && strcmp(dl, "0") != 0)
        rc = err_set_field(e, ERR_INVALID, "download", "download must be 0 or 1");
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct files_caller who = caller(r);
    struct files_file f;
    if (!rc)
        rc = files_get(c, &who, id, &r->arena, &f, e);
    if (rc)
        return rc;
    if (dl && strcmp(dl, "1") == 0)
        return download(r, &f, e);
    return http_reply_json(r, 200, file_json(&f));
}

int h_files_delete(struct http_req *r, struct err *e)
{
    int64_t id;
    int rc = http_req_param_id(r, "id", &id, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct files_caller who = caller(r);
    struct storage *st = NULL;
    if (!rc)
        rc = http_req_storage(r, who.tenant_id, &st, e);
    if (!rc)
        rc = files_delete(c, st, &who, id, e);
    if (rc)
        return rc;
    return http_reply_bytes(r, 204, "application/json", "", 0);
}

int h_files_list(struct http_req *r, struct err *e)
{
    struct page p;
    int rc = http_req_page(r, FILES_LIST_DEFAULT, FILES_LIST_MAX, &p, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct files_file *rows = NULL;
    size_t n = 0;
    if (!rc)
        rc =
            files_store_list(c, r->who.tenant_id, r->who.role >= ROLE_ADMIN ? NULL : r->who.subject,
                             &p, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, file_json(&rows[i]));
    return http_reply_json(r, 200, http_page_body("files", arr, &p, n, n ? rows[n - 1].id : 0));
}

static int settings_reply(struct http_req *r, struct db_conn *c, struct err *e)
{
    int64_t limit;
    int rc = files_store_limit(c, r->who.tenant_id, r->app->cfg.files_max_bytes, &limit, e);
    struct storage *st = NULL;
    if (!rc)
        rc = http_req_storage(r, r->who.tenant_id, &st, e);
    if (rc)
        return rc;
    return http_reply_json(
        r, 200,
        json_pack("{s:I, s:s}", "max_bytes", (json_int_t)limit, "storage", storage_kind(st)));
}

int h_files_settings_get(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    int rc = http_req_db(r, &c, e);
    return rc ? rc : settings_reply(r, c, e);
}

int h_files_settings_put(struct http_req *r, struct err *e)
{
    int64_t max;
    int rc = json_get_i64(r->json, "max_bytes", true, 1, FILES_MAX_LIMIT, &max, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = files_store_set_limit(c, r->who.tenant_id, max, e);
    return rc ? rc : settings_reply(r, c, e);
}
