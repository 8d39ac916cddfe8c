/* SPDX-License-Identifier: MIT */
/*
 * The storage interface (see storage.h): opening by URL, the wrappers that check keys, staging,
 * and the local-directory backend (objects are files under DIR, put by rename from the staging
 * directory inside DIR, so a half-written object is never visible under its key).
 * Tests: tests/unit/net/test_storage.c and tests/integration/0019-files.c.
 */
#include "net/storage.h"
#include "core/clock.h"
#include "core/str.h"
#include "core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Keys are ours ("t12/AbC-_x"), but check anyway: no way out of the directory or bucket. */
static int key_check(const char *key, struct err *e)
{
    size_t n = key ? strlen(key) : 0;
    if (!n || n > 512 || key[0] == '/' || key[n - 1] == '/' || strstr(key, "//"))
        return err_set(e, ERR_INVALID, "storage key is empty, too long or malformed");
    for (const char *p = key; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '/';
        if (!ok)
            return err_set(e, ERR_INVALID, "storage key has a character outside [A-Za-z0-9/_-]");
    }
    return 0;
}

static int mkdirs(const char *path, struct err *e)
{
    char tmp[STORAGE_PATH_MAX];
    if (!str_copy(tmp, sizeof(tmp), path))
        return err_set(e, ERR_INVALID, "storage path too long");
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) && errno != EEXIST)
            return err_set(e, ERR_INTERNAL, "cannot create directory %s: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0700) && errno != EEXIST)
        return err_set(e, ERR_INTERNAL, "cannot create directory %s: %s", tmp, strerror(errno));
    return 0;
}

/* ---------------------------------------------------------------- the interface */

int storage_open(const struct storage_config *cfg, struct storage **out, struct err *e)
{
    *out = NULL;
    struct storage *s = xcalloc(1, sizeof(*s));
    atomic_init(&s->refs, 1);
    pthread_mutex_init(&s->health_mu, NULL);
    const char *url = cfg->url ? cfg->url : "";
    int rc;
    if (str_has_prefix(url, "file://")) {
        rc = storage_local_new(url + 7, s, e);
    } else if (str_has_prefix(url, "s3://")) {
        rc = storage_s3_new(url, cfg->access_key, cfg->secret_key, s, e);
        if (!rc && !str_copy(s->staging, sizeof(s->staging), "/tmp"))
            rc = err_set(e, ERR_INTERNAL, "staging path too long");
    } else {
        rc = err_set_field(e, ERR_INVALID, "ICESHOP_STORAGE_URL",
                           "storage URL must be file://DIR or s3://BUCKET?endpoint=…, got %s", url);
    }
    if (!rc && cfg->staging && *cfg->staging &&
        !str_copy(s->staging, sizeof(s->staging), cfg->staging))
        rc = err_set_field(e, ERR_INVALID, "ICESHOP_STORAGE_STAGING", "staging path too long");
    if (!rc)
        rc = mkdirs(s->staging, e);
    if (rc) {
        storage_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void storage_free(struct storage *s)
{
    if (!s)
        return;
    /* a storage a test built by hand has no count (0): it is freed at once, as before */
    if (atomic_fetch_sub(&s->refs, 1) > 1)
        return;
    if (s->ops && s->ops->free)
        s->ops->free(s->ctx);
    pthread_mutex_destroy(&s->health_mu);
    free(s);
}

const char *storage_kind(const struct storage *s)
{
    return s->ops->kind;
}

int storage_stage(struct storage *s, char path[STORAGE_PATH_MAX], int *fd, struct err *e)
{
    int n = snprintf(path, STORAGE_PATH_MAX, "%s/upload-XXXXXX", s->staging);
    if (n < 0 || n >= STORAGE_PATH_MAX)
        return err_set(e, ERR_INTERNAL, "staging path too long");
    *fd = mkstemp(path);
    if (*fd < 0) {
        path[0] = '\0'; /* nothing to remove */
        return err_set(e, ERR_INTERNAL, "cannot stage an upload in %s: %s", s->staging,
                       strerror(errno));
    }
    return 0;
}

int storage_put_file(struct storage *s, const char *key, const char *path, int64_t size,
                     const char *sha256_hex, const char *content_type, struct err *e)
{
    int rc = key_check(key, e);
    return rc ? rc : s->ops->put_file(s->ctx, key, path, size, sha256_hex, content_type, e);
}

int storage_open_read(struct storage *s, const char *key, int *fd, int64_t *size, struct err *e)
{
    int rc = key_check(key, e);
    if (rc)
        return rc;
    if (!s->ops->open_read)
        return err_set(e, ERR_NOT_IMPLEMENTED, "%s storage has no local objects", s->ops->kind);
    return s->ops->open_read(s->ctx, key, fd, size, e);
}

int storage_read(struct storage *s, const char *key, storage_sink_fn *sink, void *sink_ctx,
                 struct err *e)
{
    int rc = key_check(key, e);
    return rc ? rc : s->ops->read(s->ctx, key, sink, sink_ctx, e);
}

int storage_remove(struct storage *s, const char *key, struct err *e)
{
    int rc = key_check(key, e);
    return rc ? rc : s->ops->remove(s->ctx, key, e);
}

int storage_presign(struct storage *s, const char *method, const char *key, int64_t now_s,
                    int64_t expires_s, struct buf *url, struct err *e)
{
    int rc = key_check(key, e);
    if (rc)
        return rc;
    if (!s->ops->presign)
        return err_set(e, ERR_NOT_IMPLEMENTED, "%s storage cannot presign", s->ops->kind);
    return s->ops->presign(s->ctx, method, key, now_s, expires_s, url, e);
}

int storage_health(struct storage *s, struct err *e)
{
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&s->health_mu);
    bool fresh = s->health_at_ms && now - s->health_at_ms < STORAGE_HEALTH_CACHE_MS;
    struct err cached = s->health_err;
    pthread_mutex_unlock(&s->health_mu);
    if (!fresh) {
        /* probed outside the lock: a slow bucket must not queue every caller behind it */
        err_init(&cached);
        s->ops->health(s->ctx, &cached);
        pthread_mutex_lock(&s->health_mu);
        s->health_err = cached;
        s->health_at_ms = clock_mono_ms();
        pthread_mutex_unlock(&s->health_mu);
    }
    if (cached.code == ERR_OK)
        return 0;
    *e = cached;
    return cached.code;
}

/* ---------------------------------------------------------------- local directory */

struct local {
    char dir[STORAGE_PATH_MAX];
};

static int local_path(const struct local *l, const char *key, char out[STORAGE_PATH_MAX],
                      struct err *e)
{
    int n = snprintf(out, STORAGE_PATH_MAX, "%s/%s", l->dir, key);
    if (n < 0 || n >= STORAGE_PATH_MAX)
        return err_set(e, ERR_INTERNAL, "storage path too long");
    return 0;
}

static int local_put_file(void *ctx, const char *key, const char *path, int64_t size,
                          const char *sha256_hex, const char *content_type, struct err *e)
{
    (void)size;
    (void)sha256_hex;
    (void)content_type;
    struct local *l = ctx;
    char dest[STORAGE_PATH_MAX];
    int rc = local_path(l, key, dest, e);
    if (rc)
        return rc;
    char *slash = strrchr(dest, '/');
    *slash = '\0';
    rc = mkdirs(dest, e);
    *slash = '/';
    if (rc)
        return rc;
    if (rename(path, dest))
        return err_set(e, ERR_INTERNAL, "cannot store object %s: %s", key, strerror(errno));
    return 0;
}

static int local_open_read(void *ctx, const char *key, int *fd, int64_t *size, struct err *e)
{
    struct local *l = ctx;
    char p[STORAGE_PATH_MAX];
    int rc = local_path(l, key, p, e);
    if (rc)
        return rc;
    *fd = open(p, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return errno == ENOENT
                   ? err_set(e, ERR_NOT_FOUND, "object %s is not in storage", key)
                   : err_set(e, ERR_INTERNAL, "cannot open object %s: %s", key, strerror(errno));
    struct stat st;
    if (fstat(*fd, &st)) {
        close(*fd);
        *fd = -1;
        return err_set(e, ERR_INTERNAL, "cannot stat object %s", key);
    }
    *size = (int64_t)st.st_size;
    return 0;
}

static int local_read(void *ctx, const char *key, storage_sink_fn *sink, void *sink_ctx,
                      struct err *e)
{
    int fd;
    int64_t size;
    int rc = local_open_read(ctx, key, &fd, &size, e);
    if (rc)
        return rc;
    char block[65536];
    for (;;) {
        ssize_t n = read(fd, block, sizeof(block));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = err_set(e, ERR_INTERNAL, "cannot read object %s", key);
            break;
        }
        if (n == 0)
            break;
        rc = sink(sink_ctx, block, (size_t)n, e);
        if (rc)
            break;
    }
    close(fd);
    return rc;
}

static int local_remove(void *ctx, const char *key, struct err *e)
{
    struct local *l = ctx;
    char p[STORAGE_PATH_MAX];
    int rc = local_path(l, key, p, e);
    if (rc)
        return rc;
    if (unlink(p) && errno != ENOENT)
        return err_set(e, ERR_INTERNAL, "cannot delete object %s: %s", key, strerror(errno));
    return 0;
}

static int local_health(void *ctx, struct err *e)
{
    struct local *l = ctx;
    if (access(l->dir, W_OK | X_OK))
        return err_set(e, ERR_UPSTREAM, "storage directory is not writable: %s", strerror(errno));
    return 0;
}

static const struct storage_ops local_ops = {
    .kind = "file",
    .put_file = local_put_file,
    .open_read = local_open_read,
    .read = local_read,
    .remove = local_remove,
    .presign = NULL,
    .health = local_health,
    .free = free,
};

int storage_local_new(const char *dir, struct storage *s, struct err *e)
{
    size_t n = dir ? strlen(dir) : 0;
    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (!n || n >= STORAGE_PATH_MAX - 64 || memchr(dir, '?', n))
        return err_set_field(e, ERR_INVALID, "ICESHOP_STORAGE_URL",
                             "file:// storage needs a directory");
    struct local *l = xcalloc(1, sizeof(*l));
    memcpy(l->dir, dir, n);
    int rc = mkdirs(l->dir, e);
    if (rc) {
        free(l);
        return rc;
    }
    s->ops = &local_ops;
    s->ctx = l;
    memcpy(s->staging, l->dir, n);
    memcpy(s->staging + n, "/.staging", 10); /* n < STORAGE_PATH_MAX - 64: it fits */
    return 0;
}
