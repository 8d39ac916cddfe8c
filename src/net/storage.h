/* SPDX-License-Identifier: MIT */
/*
 * Where file bytes live, behind one interface (`struct storage_ops`): a local directory
 * (file://DIR, the default file://var/files) or an S3-compatible bucket
 * (s3://BUCKET?endpoint=URL&region=R; requests signed with AWS Signature V4 by libcurl,
 * presigned URLs by core/sigv4.c). An upload is first streamed into a staged temporary file,
 * then put under its key; nothing here holds a whole object in memory. Calls block: they run on
 * the request that moves the bytes (or a job), never under a database transaction.
 * Tests: tests/unit/net/test_storage.c (local) and tests/integration/0019-files.c (both).
 */
#ifndef ICESHOP_NET_STORAGE_H
#define ICESHOP_NET_STORAGE_H

#include "core/buf.h"
#include "core/err.h"

#include <pthread.h>
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

/* Backends, for storage_open (and tests). */
int storage_local_new(const char *dir, struct storage *s, struct err *e);
int storage_s3_new(const char *url, const char *access_key, const char *secret_key,
                   struct storage *s, struct err *e);

#endif
