/* SPDX-License-Identifier: MIT */
/*
 * The operations on files (see files_service.h): uploads through the scan into storage,
 * presigned uploads and their completion, access by owner, deletion, purging a tenant's objects.
 * Tests: tests/unit/domain/test_files.c and tests/integration/0019-files.c.
 */
#include "domain/files/files_service.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/str.h"
#include "core/token.h"
#include "jobs/worker.h"
#include "sched/sched.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LINK_KEY_LABEL "iceshop files upload link v1"

int files_upload_begin(struct files_upload *u, struct storage *st, const char *name, int64_t limit,
                       struct err *e)
{
    memset(u, 0, sizeof(*u));
    u->fd = -1;
    u->storage = st;
    files_scan_init(&u->scan, limit);
    files_name_sanitize(name, u->name);
    return storage_stage(st, u->path, &u->fd, e);
}

int files_upload_write(struct files_upload *u, const void *p, size_t n, struct err *e)
{
    int rc = files_scan_update(&u->scan, p, n, e);
    if (rc)
        return rc;
    const char *b = p;
    while (n) {
        ssize_t w = write(u->fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return err_set(e, ERR_INTERNAL, "cannot write the staged upload: %s", strerror(errno));
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

void files_upload_abort(void *upload)
{
    struct files_upload *u = upload;
    if (u->fd >= 0) {
        close(u->fd);
        u->fd = -1;
    }
    if (u->path[0]) {
        unlink(u->path);
        u->path[0] = '\0';
    }
}

static int new_key(struct arena *a, int64_t tenant, const char **key, struct err *e)
{
    char rnd[SEC_RANDOM_ID_SIZE(0, 24)];
    int rc = sec_random_id(rnd, sizeof(rnd), "", 24, e);
    if (rc)
        return rc;
    *key = files_storage_key(a, tenant, rnd);
    return 0;
}

int files_upload_commit(struct files_upload *u, struct db_conn *c, const struct files_caller *who,
                        int64_t now_ms, struct arena *a, struct files_file *out, struct err *e)
{
    char sha[SEC_HEX_SIZE(SEC_SHA256_LEN)];
    int rc = files_scan_finish(&u->scan, sha, e);
    if (rc)
        return rc;
    if (close(u->fd)) {
        u->fd = -1;
        return err_set(e, ERR_INTERNAL, "cannot close the staged upload");
    }
    u->fd = -1;
    struct files_file f = {0};
    if (u->pending_id) {
        rc = files_store_get(c, who->tenant_id, u->pending_id, a, &f, e);
        if (!rc && f.state != FILES_STATE_PENDING)
            rc = err_set_field(e, ERR_CONFLICT, "id", "file %lld is already uploaded",
                               (long long)f.id);
    } else {
        f = (struct files_file){
            .tenant_id = who->tenant_id,
            .owner = who->subject,
            .name = arena_strdup(a, u->name),
            .state = FILES_STATE_READY,
            .created_at = now_ms,
        };
        rc = new_key(a, who->tenant_id, &f.storage_key, e);
    }
    if (rc)
        return rc;
    f.mime = u->scan.kind->mime;
    f.size = u->scan.size;
    f.sha256 = arena_strdup(a, sha);
    rc = storage_put_file(u->storage, f.storage_key, u->path, f.size, sha, f.mime, e);
    if (rc)
        return rc;
    u->path[0] = '\0'; /* consumed by storage */
    if (u->pending_id) {
        rc = files_store_mark_ready(c, who->tenant_id, f.id, f.mime, f.size, f.sha256, e);
        f.state = FILES_STATE_READY;
        f.expires_at = 0;
    } else {
        rc = files_store_insert(c, &f, &f.id, e);
    }
    if (rc) {
        struct err ignore;
        err_init(&ignore);
        if (storage_remove(u->storage, f.storage_key, &ignore))
            log_warn("msg=\"orphan object after a failed insert\" key=%s", f.storage_key);
        return rc;
    }
    *out = f;
    return 0;
}

/* ---------------------------------------------------------------- presigned uploads */

static void link_key_derive(const unsigned char key[32], unsigned char out[32])
{
    sec_hmac_sha256(out, key, 32, LINK_KEY_LABEL, strlen(LINK_KEY_LABEL));
}

int files_presign_upload(struct db_conn *c, struct storage *st, const unsigned char link_key[32],
                         const struct files_caller *who, const char *name, int64_t now_ms,
                         struct arena *a, struct files_presigned *out, struct err *e)
{
    if (!name || !*name)
        return err_set_field(e, ERR_INVALID, "name", "name is required");
    char clean[FILES_NAME_MAX + 1];
    files_name_sanitize(name, clean);
    struct files_file f = {
        .tenant_id = who->tenant_id,
        .owner = who->subject,
        .name = arena_strdup(a, clean),
        .mime = "",
        .sha256 = "",
        .state = FILES_STATE_PENDING,
        .created_at = now_ms,
        .expires_at = now_ms + (int64_t)FILES_PRESIGN_TTL_S * 1000,
    };
    int rc = new_key(a, who->tenant_id, &f.storage_key, e);
    if (rc)
        return rc;
    struct buf url;
    buf_init(&url, 8192);
    rc = storage_presign(st, "PUT", f.storage_key, now_ms / 1000, FILES_PRESIGN_TTL_S, &url, e);
    bool local = rc == ERR_NOT_IMPLEMENTED;
    if (local) {
        err_init(e);
        rc = 0;
    }
    if (!rc)
        rc = files_store_insert(c, &f, &f.id, e);
    if (!rc && local) {
        unsigned char k[32];
        link_key_derive(link_key, k);
        char claims[160];
        snprintf(claims, sizeof(claims), "{\"files_upload\":%lld,\"tenant\":%lld,\"exp\":%lld}",
                 (long long)f.id, (long long)f.tenant_id, (long long)(f.expires_at / 1000));
        char *tok = NULL;
        rc = token_sign(a, k, sizeof(k), claims, &tok, e);
        sec_wipe(k, sizeof(k));
        if (!rc)
            buf_appendf(&url, "/api/files/uploads/%s", tok);
    }
    if (!rc) {
        out->file = f;
        out->url = arena_strdup(a, buf_str(&url));
        out->local = local;
    }
    buf_release(&url);
    return rc;
}

int files_upload_link_check(const unsigned char link_key[32], const char *token, int64_t now_ms,
                            struct arena *a, int64_t *tenant, int64_t *id, struct err *e)
{
    unsigned char k[32];
    link_key_derive(link_key, k);
    char *claims = NULL;
    int rc = token_verify(a, k, sizeof(k), token, now_ms / 1000, &claims, e);
    sec_wipe(k, sizeof(k));
    if (rc)
        return rc == ERR_INTERNAL ? rc : err_set(e, ERR_UNAUTHORIZED, "upload link is not valid");
    json_t *j = json_loads(claims, 0, NULL);
    json_t *f = j ? json_object_get(j, "files_upload") : NULL;
    json_t *t = j ? json_object_get(j, "tenant") : NULL;
    if (!json_is_integer(f) || !json_is_integer(t))
        rc = err_set(e, ERR_UNAUTHORIZED, "upload link names no file");
    else {
        *id = json_integer_value(f);
        *tenant = json_integer_value(t);
    }
    json_decref(j);
    return rc;
}

struct complete_ctx {
    struct files_scan *scan;
};

static int scan_sink(void *ctx, const char *p, size_t n, struct err *e)
{
    struct complete_ctx *cc = ctx;
    return files_scan_update(cc->scan, p, n, e);
}

int files_complete(struct db_conn *c, struct storage *st, const struct files_caller *who,
                   int64_t id, int64_t limit, struct arena *a, struct files_file *out,
                   struct err *e)
{
    struct files_file f;
    int rc = files_get(c, who, id, a, &f, e);
    if (rc)
        return rc;
    if (f.state != FILES_STATE_PENDING)
        return err_set_field(e, ERR_CONFLICT, "id", "file %lld is already uploaded", (long long)id);
    struct files_scan scan;
    files_scan_init(&scan, limit);
    struct complete_ctx cc = {&scan};
    rc = storage_read(st, f.storage_key, scan_sink, &cc, e);
    if (rc == ERR_NOT_FOUND)
        return err_set_field(e, ERR_NOT_FOUND, "id", "file %lld was not uploaded yet",
                             (long long)id);
    char sha[SEC_HEX_SIZE(SEC_SHA256_LEN)];
    if (!rc)
        rc = files_scan_finish(&scan, sha, e);
    if (rc == ERR_TOO_LARGE || rc == ERR_UNSUPPORTED || rc == ERR_INVALID) {
        /* refused: nothing of it stays */
        struct err ignore;
        err_init(&ignore);
        if (storage_remove(st, f.storage_key, &ignore))
            log_warn("msg=\"refused object not removed\" key=%s error=\"%s\"", f.storage_key,
                     ignore.msg);
        err_init(&ignore);
        files_store_delete(c, who->tenant_id, id, &ignore);
        return rc;
    }
    if (rc)
        return rc;
    rc = files_store_mark_ready(c, who->tenant_id, id, scan.kind->mime, scan.size, sha, e);
    if (rc)
        return rc;
    f.state = FILES_STATE_READY;
    f.mime = scan.kind->mime;
    f.size = scan.size;
    f.sha256 = arena_strdup(a, sha);
    f.expires_at = 0;
    *out = f;
    return 0;
}

/* ---------------------------------------------------------------- reading, deleting */

int files_get(struct db_conn *c, const struct files_caller *who, int64_t id, struct arena *a,
              struct files_file *out, struct err *e)
{
    int rc = files_store_get(c, who->tenant_id, id, a, out, e);
    if (rc)
        return rc;
    if (!files_may_access(out, who->subject, who->admin))
        return err_set_field(e, ERR_NOT_FOUND, "id", "no file %lld", (long long)id);
    return 0;
}

int files_delete(struct db_conn *c, struct storage *st, const struct files_caller *who, int64_t id,
                 struct err *e)
{
    struct arena a;
    arena_init(&a);
    struct files_file f;
    int rc = files_get(c, who, id, &a, &f, e);
    if (!rc)
        rc = files_store_delete(c, who->tenant_id, id, e);
    if (!rc) {
        /* the row is gone (committed: no transaction is open here), so the object can go */
        struct err re;
        err_init(&re);
        if (storage_remove(st, f.storage_key, &re))
            log_warn("msg=\"object of a deleted file not removed\" key=%s error=\"%s\"",
                     f.storage_key, re.msg);
    }
    arena_release(&a);
    return rc;
}

int files_purge_objects(struct db_conn *c, struct storage *st, int64_t tenant, size_t *removed,
                        size_t *failed, struct err *e)
{
    struct arena a;
    arena_init(&a);
    const char **keys = NULL;
    size_t n = 0;
    *removed = 0;
    *failed = 0;
    int rc = files_store_keys(c, tenant, &a, &keys, &n, e);
    for (size_t i = 0; !rc && i < n; i++) {
        struct err re;
        err_init(&re);
        if (storage_remove(st, keys[i], &re)) {
            (*failed)++;
            log_warn("msg=\"object not removed while purging\" key=%s error=\"%s\"", keys[i],
                     re.msg);
        } else {
            (*removed)++;
        }
    }
    arena_release(&a);
    return rc;
}

/* ---------------------------------------------------------------- sweeping */

int files_sweep_expired(struct db_conn *c, struct storage_tenants *ss, int64_t now_ms,
                        size_t *removed, struct err *e)
{
    struct arena a;
    arena_init(&a);
    struct files_file *rows = NULL;
    size_t n = 0;
    *removed = 0;
    int rc = files_store_expired(c, now_ms - (int64_t)FILES_SWEEP_GRACE_S * 1000, FILES_SWEEP_BATCH,
                                 &a, &rows, &n, e);
    for (size_t i = 0; !rc && i < n; i++) {
        struct err re;
        err_init(&re);
        struct storage *st = NULL;
        if (storage_for_tenant(ss, c, rows[i].tenant_id, &a, &st, &re) ||
            storage_remove(st, rows[i].storage_key, &re)) {
            log_warn("msg=\"expired upload's object not removed\" key=%s error=\"%s\"",
                     rows[i].storage_key, re.msg);
            continue;
        }
        err_init(&re);
        if (files_store_delete(c, rows[i].tenant_id, rows[i].id, &re) == 0)
            (*removed)++;
    }
    arena_release(&a);
    return rc;
}

static int sweep_job(struct job_ctx *ctx, struct err *e)
{
    size_t removed = 0;
    int rc = files_sweep_expired(ctx->conn, ctx->userdata, ctx->now_ms, &removed, e);
    if (!rc && removed)
        log_info("msg=\"expired uploads removed\" count=%zu", removed);
    return rc;
}

int files_jobs_register(struct job_registry *reg, struct storage_tenants *ss, struct err *e)
{
    return job_registry_add(reg, FILES_JOB_SWEEP, sweep_job, ss, 0, e);
}

int files_jobs_schedule(struct sched *s, struct err *e)
{
    return sched_every(s, "files.sweep", 600, FILES_JOB_SWEEP, "{}", e);
}
