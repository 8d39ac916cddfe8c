/* SPDX-License-Identifier: MIT */
/*
 * Where file bytes live, behind one interface (`struct storage_ops`): a local directory
 * (file://DIR, the default file://var/files) or an S3-compatible bucket
 * (s3://BUCKET?endpoint=URL&region=R; requests signed with AWS Signature V4 by libcurl,
 * presigned URLs by core/sigv4.c). An upload is first streamed into a staged temporary file,
 * then put under its key; nothing here holds a whole object in memory. Calls block: they run on
 * the request that moves the bytes (or a job), never under a database transaction.
 * Each tenant may choose its own storage through the `storage` integration (storage_for_tenant,
 * in storage_tenants.c); tenants that do not use the server's.
 * Tests: tests/unit/net/test_storage.c (local), tests/unit/net/test_storage_tenants.c (the
 * per-tenant resolver) and tests/integration/0019-files.c (both backends, tenants on each).
 */
#ifndef ICESHOP_NET_STORAGE_H
#define ICESHOP_NET_STORAGE_H

#include "core/arena.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORAGE_PATH_MAX 1024

/* What storage_open needs; all borrowed for the call. */
struct storage_config {
    const char *url;        /* file://DIR or s3://BUCKET?endpoint=…&region=… */
    const char *staging;    /* directory for staged uploads; "" = DIR/.staging, or /tmp for S3 */
    const char *access_key; /* S3 only */
    const char *secret_key; /* S3 only */
};

/* Receives an object's bytes in order; a non-zero return stops the read with that code. */
typedef int storage_sink_fn(void *ctx, const char *p, size_t n, struct err *e);

/*
 * A backend. Every function follows the contract of its storage_* wrapper below; `ctx` is the
 * backend's own state. Tests may build one of their own.
 */
struct storage_ops {
    const char *kind; /* "file" or "s3" */
    int (*put_file)(void *ctx, const char *key, const char *path, int64_t size,
                    const char *sha256_hex, const char *content_type, struct err *e);
    int (*open_read)(void *ctx, const char *key, int *fd, int64_t *size, struct err *e);
    int (*read)(void *ctx, const char *key, storage_sink_fn *sink, void *sink_ctx, struct err *e);
    int (*remove)(void *ctx, const char *key, struct err *e);
    int (*presign)(void *ctx, const char *method, const char *key, int64_t now_s, int64_t expires_s,
                   struct buf *url, struct err *e);
    int (*health)(void *ctx, struct err *e);
    void (*free)(void *ctx);
};

struct storage {
    const struct storage_ops *ops;
    void *ctx;
    _Atomic int refs; /* storage_open gives 1; storage_free drops one, frees at the last */
    char staging[STORAGE_PATH_MAX];
    /* the last health probe, reused for STORAGE_HEALTH_CACHE_MS (the route is public) */
    pthread_mutex_t health_mu;
    int64_t health_at_ms; /* monotonic; 0 = never probed */
    struct err health_err;
};

#define STORAGE_HEALTH_CACHE_MS 5000

/*
 * Open the storage `cfg->url` names (creating a local directory and the staging directory when
 * missing). Caller frees with storage_free(). ERR_INVALID naming ICESHOP_STORAGE_URL for a
 * malformed or unknown URL, ICESHOP_S3_ACCESS_KEY when S3 keys are missing; ERR_INTERNAL when a
 * directory cannot be made.
 */
int storage_open(const struct storage_config *cfg, struct storage **out, struct err *e);
/* Drop one reference (storage_open's, or storage_for_tenant's); the last frees. NULL is fine. */
void storage_free(struct storage *s);
const char *storage_kind(const struct storage *s);

/*
 * A new empty temporary file in the staging directory, opened for writing (mode 0600): its
 * path into `path` and its descriptor into *fd. The caller writes, closes, and either hands it
 * to storage_put_file or unlinks it. ERR_INTERNAL when it cannot be made.
 */
int storage_stage(struct storage *s, char path[STORAGE_PATH_MAX], int *fd, struct err *e);

/*
 * Store the staged file at `path` (`size` bytes, SHA-256 `sha256_hex`) under `key`. The staged
 * file is consumed on success (renamed, or uploaded and removed) and left to the caller on
 * failure. S3 signs the payload hash, so the bucket refuses bytes that changed on the way.
 * ERR_UPSTREAM / ERR_TIMEOUT when the bucket fails or cannot be reached; ERR_INTERNAL locally.
 */
int storage_put_file(struct storage *s, const char *key, const char *path, int64_t size,
                     const char *sha256_hex, const char *content_type, struct err *e);
/*
 * A local object's descriptor for reading (caller closes) and size; ERR_NOT_IMPLEMENTED for
 * backends whose objects are fetched through a presigned URL instead; ERR_NOT_FOUND when absent.
 */
int storage_open_read(struct storage *s, const char *key, int *fd, int64_t *size, struct err *e);
/* Stream an object's bytes to `sink`; ERR_NOT_FOUND when absent; the sink's error as is. */
int storage_read(struct storage *s, const char *key, storage_sink_fn *sink, void *sink_ctx,
                 struct err *e);
/* Delete an object; deleting what is not there is not an error. */
int storage_remove(struct storage *s, const char *key, struct err *e);
/*
 * A presigned URL for `method` ("GET" or "PUT") on `key`, valid `expires_s` seconds from `now_s`
 * (Unix seconds), appended to `url`. ERR_NOT_IMPLEMENTED for a local directory (the files
 * module signs its own upload links then).
 */
int storage_presign(struct storage *s, const char *method, const char *key, int64_t now_s,
                    int64_t expires_s, struct buf *url, struct err *e);
/*
 * 0 when the storage answers (directory writable, bucket reachable); the reason otherwise. The
 * answer is probed at most once per STORAGE_HEALTH_CACHE_MS (a bucket probe is a round trip).
 * Thread-safe.
 */
int storage_health(struct storage *s, struct err *e);

/* ======================== per tenant ======================== */

struct db_conn;
struct storage_tenants;

/*
 * The per-tenant resolver. `server` is the server's own storage configuration
 * (ICESHOP_STORAGE_URL, ICESHOP_STORAGE_STAGING, ICESHOP_S3_*; copied), opened at once so a bad
 * one stops the start; `key` opens sealed integration secrets (copied); `default_tenant` is the
 * tenant whose unset fields fall back to the server's configuration. Caller frees with
 * storage_tenants_free() after every storage it handed out is released.
 */
int storage_tenants_new(const struct storage_config *server,
                        const unsigned char key[SEC_BOX_KEY_LEN], int64_t default_tenant,
                        struct storage_tenants **out, struct err *e);
void storage_tenants_free(struct storage_tenants *t);
/* The server's own storage (what tenants without a `storage` integration use); borrowed. */
struct storage *storage_tenants_server(struct storage_tenants *t);

/*
 * The storage of `tenant`, the one function every caller uses: the `storage` integration's
 * url, access_key_id and secret_access_key when the tenant set a url (the default tenant's
 * unset keys fall back to ICESHOP_S3_*), the server's storage otherwise. A non-default tenant
 * may only name an s3:// bucket, with its own keys: a local directory is the server's choice.
 * Opened storages are cached per tenant and reused while the tenant's settings stay the same;
 * a change (from this process or another) opens the new one at the next call, and
 * storage_tenants_forget drops one at once. *out stays valid until `a` is released (it holds a
 * reference). Reads the settings through `c` (joins its transaction, if any).
 * ERR_INVALID naming the field (url, access_key_id) for settings that cannot work; the
 * integration store's errors as they are. Messages never hold a secret. Thread-safe.
 */
int storage_for_tenant(struct storage_tenants *t, struct db_conn *c, int64_t tenant,
                       struct arena *a, struct storage **out, struct err *e);
/* Drop the cached storage of `tenant` (its settings changed); in-flight users keep theirs. */
void storage_tenants_forget(struct storage_tenants *t, int64_t tenant);
/*
 * Check a `storage` integration url before it is stored: file://DIR (only when `local_ok`: the
 * default tenant) or s3://BUCKET?endpoint=http(s)://host[:port]&region=R. ERR_INVALID with
 * field "url" otherwise.
 */
int storage_url_check(const char *url, bool local_ok, struct err *e);

/* Backends, for storage_open (and tests). */
int storage_local_new(const char *dir, struct storage *s, struct err *e);
int storage_s3_new(const char *url, const char *access_key, const char *secret_key,
                   struct storage *s, struct err *e);

#endif
