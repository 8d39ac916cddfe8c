/* SPDX-License-Identifier: MIT */
/*
 * The S3-compatible storage backend (see storage.h): s3://BUCKET?endpoint=URL&region=R. With an
 * endpoint, objects are addressed path-style (URL/BUCKET/KEY, what MinIO and test servers
 * serve); without one, virtual-hosted at https://BUCKET.s3.REGION.amazonaws.com/KEY. Requests
 * go through httpc, signed by libcurl's AWS Signature V4 with the payload's SHA-256 (so the
 * bucket refuses altered bytes); presigned URLs come from core/sigv4.c.
 * Tests: tests/integration/0019-files.c against a real S3-compatible server.
 */
#include "net/storage.h"
#include "core/sigv4.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "net/httpc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S3_TIMEOUT_MS (120 * 1000)
/* S3 wants the payload's SHA-256 in every signed request; this is the empty body's. */
#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const struct httpc_header empty_payload[] = {{"x-amz-content-sha256", S3_EMPTY_SHA256}};

struct s3 {
    char scheme[8];
    char host[256];      /* Host header: "127.0.0.1:4568" or "bucket.s3.eu-west-1.amazonaws.com" */
    char base_path[320]; /* "" (virtual-hosted) or "/bucket" (path style) */
    char region[64];
    char provider[96]; /* "aws:amz:<region>:s3" for CURLOPT_AWS_SIGV4 */
    char *userpwd;     /* "<access>:<secret>" */
    char *access_key;
    char *secret_key;
};

static void s3_free(void *ctx)
{
    struct s3 *s = ctx;
    if (!s)
        return;
    free(s->userpwd);
    free(s->access_key);
    free(s->secret_key);
    free(s);
}

static char *object_url(const struct s3 *s, const char *key)
{
    struct buf b;
    buf_init(&b, 4096);
    buf_appendf(&b, "%s://%s%s/%s", s->scheme, s->host, s->base_path, key);
    return buf_detach(&b, NULL);
}

static int upstream(const char *what, const char *key, const struct httpc_response *r,
                    struct err *e)
{
    const char *code = strstr(buf_str(&r->body), "<Code>");
    char c[64] = "";
    if (code) {
        code += 6;
        const char *end = strchr(code, '<');
        size_t n = end ? (size_t)(end - code) : 0;
        if (n < sizeof(c)) {
            memcpy(c, code, n);
            c[n] = '\0';
        }
    }
    return err_set(e, ERR_UPSTREAM, "storage: the bucket refused %s of %s: HTTP %ld %s", what, key,
                   r->status, c);
}

static size_t read_fd(void *ctx, char *buf, size_t max)
{
    int fd = *(int *)ctx;
    for (;;) {
        ssize_t n = read(fd, buf, max);
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 ? (size_t)-1 : (size_t)n;
    }
}

static int s3_put_file(void *ctx, const char *key, const char *path, int64_t size,
                       const char *sha256_hex, const char *content_type, struct err *e)
{
    struct s3 *s = ctx;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, ERR_INTERNAL, "cannot open staged upload: %s", strerror(errno));
    char *url = object_url(s, key);
    const struct httpc_header h[] = {
        {"Content-Type", content_type && *content_type ? content_type : "application/octet-stream"},
        {"x-amz-content-sha256", sha256_hex},
    };
    struct httpc_request req = {
        .method = "PUT",
        .url = url,
        .headers = h,
        .nheaders = 2,
        .timeout_ms = S3_TIMEOUT_MS,
        .upload_read = read_fd,
        .upload_ctx = &fd,
        .upload_len = size,
        .aws_sigv4 = s->provider,
        .userpwd = s->userpwd,
    };
    struct httpc_response r;
    httpc_response_init(&r);
    int rc = httpc_do(&req, &r, e);
    if (!rc && (r.status < 200 || r.status >= 300))
        rc = upstream("PUT", key, &r, e);
    httpc_response_release(&r);
    free(url);
    close(fd);
    if (!rc)
        unlink(path);
    return rc;
}

struct sink_bridge {
    storage_sink_fn *sink;
    void *ctx;
    struct err err;
};

static int bridge(void *ctx, const char *p, size_t n)
{
    struct sink_bridge *b = ctx;
    return b->sink(b->ctx, p, n, &b->err);
}

static int s3_read(void *ctx, const char *key, storage_sink_fn *sink, void *sink_ctx, struct err *e)
{
    struct s3 *s = ctx;
    char *url = object_url(s, key);
    struct sink_bridge b = {.sink = sink, .ctx = sink_ctx};
    err_init(&b.err);
    struct httpc_request req = {
        .method = "GET",
        .headers = empty_payload,
        .nheaders = 1,
        .url = url,
        .timeout_ms = S3_TIMEOUT_MS,
        .max_response = 64 * 1024,
        .sink = bridge,
        .sink_ctx = &b,
        .aws_sigv4 = s->provider,
        .userpwd = s->userpwd,
    };
    struct httpc_response r;
    httpc_response_init(&r);
    int rc = httpc_do(&req, &r, e);
    if (rc && b.err.code != ERR_OK) {
        /* the sink's own refusal (e.g. too large) is the cause, not the transfer */
        *e = b.err;
        rc = b.err.code;
    } else if (!rc && r.status == 404) {
        rc = err_set(e, ERR_NOT_FOUND, "object %s is not in the bucket", key);
    } else if (!rc && (r.status < 200 || r.status >= 300)) {
        rc = upstream("GET", key, &r, e);
    }
    httpc_response_release(&r);
    free(url);
    return rc;
}

static int s3_remove(void *ctx, const char *key, struct err *e)
{
    struct s3 *s = ctx;
    char *url = object_url(s, key);
    struct httpc_request req = {
        .method = "DELETE",
        .headers = empty_payload,
        .nheaders = 1,
        .url = url,
        .timeout_ms = S3_TIMEOUT_MS,
        .aws_sigv4 = s->provider,
        .userpwd = s->userpwd,
    };
    struct httpc_response r;
    httpc_response_init(&r);
    int rc = httpc_do(&req, &r, e);
    if (!rc && r.status != 404 && (r.status < 200 || r.status >= 300))
        rc = upstream("DELETE", key, &r, e);
    httpc_response_release(&r);
    free(url);
    return rc;
}

static int s3_presign(void *ctx, const char *method, const char *key, int64_t now_s,
                      int64_t expires_s, struct buf *url, struct err *e)
{
    struct s3 *s = ctx;
    char path[1024];
    int n = snprintf(path, sizeof(path), "%s/%s", s->base_path, key);
    if (n < 0 || (size_t)n >= sizeof(path))
        return err_set(e, ERR_INVALID, "storage key too long");
    const struct sigv4_key k = {s->access_key, s->secret_key, s->region, "s3"};
    return sigv4_presign(&k, s->scheme, method, s->host, path, now_s, expires_s, url, e);
}

static int s3_health(void *ctx, struct err *e)
{
    struct s3 *s = ctx;
    struct buf b;
    buf_init(&b, 1024);
    buf_appendf(&b, "%s://%s%s/", s->scheme, s->host, s->base_path);
    struct httpc_request req = {
        .method = "HEAD",
        .headers = empty_payload,
        .nheaders = 1,
        .url = buf_str(&b),
        .timeout_ms = 3000,
        .connect_timeout_ms = 2000,
        .aws_sigv4 = s->provider,
        .userpwd = s->userpwd,
    };
    struct httpc_response r;
    httpc_response_init(&r);
    int rc = httpc_do(&req, &r, e);
    if (!rc && (r.status < 200 || r.status >= 300))
        rc = err_set(e, ERR_UPSTREAM, "storage: the bucket answered HTTP %ld", r.status);
    httpc_response_release(&r);
    buf_release(&b);
    return rc;
}

static const struct storage_ops s3_ops = {
    .kind = "s3",
    .put_file = s3_put_file,
    .open_read = NULL,
    .read = s3_read,
    .remove = s3_remove,
    .presign = s3_presign,
    .health = s3_health,
    .free = s3_free,
};

/* Copy query parameter `name` of `q` ("a=1&b=2") into out; false when absent or too long. */
static bool query_param(const char *q, const char *name, char *out, size_t out_size)
{
    size_t nlen = strlen(name);
    for (const char *p = q; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            size_t vlen = len - nlen - 1;
            if (vlen >= out_size)
                return false;
            memcpy(out, p + nlen + 1, vlen);
            out[vlen] = '\0';
            return true;
        }
        p = amp ? amp + 1 : NULL;
    }
    return false;
}

static bool bucket_ok(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63)
        return false;
    for (const char *p = b; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
            return false;
    }
    return true;
}

int storage_s3_new(const char *url, const char *access_key, const char *secret_key,
                   struct storage *st, struct err *e)
{
    const char *field = "ICESHOP_STORAGE_URL";
    if (!access_key || !*access_key || !secret_key || !*secret_key)
        return err_set_field(e, ERR_INVALID, "ICESHOP_S3_ACCESS_KEY",
                             "s3:// storage needs ICESHOP_S3_ACCESS_KEY and ICESHOP_S3_SECRET_KEY");
    const char *b = url + 5;
    const char *q = strchr(b, '?');
    size_t blen = q ? (size_t)(q - b) : strlen(b);
    char bucket[64];
    if (blen >= sizeof(bucket))
        return err_set_field(e, ERR_INVALID, field, "bucket name longer than 63 characters");
    memcpy(bucket, b, blen);
    bucket[blen] = '\0';
    if (!bucket_ok(bucket))
        return err_set_field(e, ERR_INVALID, field,
                             "bucket name must be 3-63 of [a-z0-9.-], got '%s'", bucket);
    struct s3 *s = xcalloc(1, sizeof(*s));
    char endpoint[256] = "";
    if (!q || !query_param(q + 1, "region", s->region, sizeof(s->region)) || !s->region[0])
        str_copy(s->region, sizeof(s->region), "us-east-1");
    int rc = 0;
    if (q && query_param(q + 1, "endpoint", endpoint, sizeof(endpoint))) {
        const char *h = NULL;
        if (str_has_prefix(endpoint, "http://")) {
            str_copy(s->scheme, sizeof(s->scheme), "http");
            h = endpoint + 7;
        } else if (str_has_prefix(endpoint, "https://")) {
            str_copy(s->scheme, sizeof(s->scheme), "https");
            h = endpoint + 8;
        }
        size_t hlen = h ? strcspn(h, "/?#") : 0;
        if (!h || !hlen || hlen >= sizeof(s->host) || strpbrk(h, "@ ") ||
            (h[hlen] && strcmp(h + hlen, "/") != 0))
            rc = err_set_field(e, ERR_INVALID, field,
                               "endpoint must be http(s)://host[:port], got '%s'", endpoint);
        if (!rc && h) {
            memcpy(s->host, h, hlen);
            snprintf(s->base_path, sizeof(s->base_path), "/%s", bucket);
        }
    } else {
        str_copy(s->scheme, sizeof(s->scheme), "https");
        int n = snprintf(s->host, sizeof(s->host), "%s.s3.%s.amazonaws.com", bucket, s->region);
        if (n < 0 || (size_t)n >= sizeof(s->host))
            rc = err_set_field(e, ERR_INVALID, field, "bucket and region too long");
    }
    for (const char *p = s->region; !rc && *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            rc = err_set_field(e, ERR_INVALID, field, "region must be of [a-z0-9-]");
    }
    if (rc) {
        s3_free(s);
        return rc;
    }
    snprintf(s->provider, sizeof(s->provider), "aws:amz:%s:s3", s->region);
    s->access_key = xstrdup(access_key);
    s->secret_key = xstrdup(secret_key);
    size_t up = strlen(access_key) + strlen(secret_key) + 2;
    s->userpwd = xmalloc(up);
    snprintf(s->userpwd, up, "%s:%s", access_key, secret_key);
    st->ops = &s3_ops;
    st->ctx = s;
    return 0;
}
