/* SPDX-License-Identifier: MIT */
/*
 * Files over real HTTP, against a local storage directory AND a real S3-compatible server
 * (s3rver behind a proxy that recomputes every AWS Signature V4 it receives): multipart upload
 * (hostile name sanitised, SHA-256 stored, type from the bytes), metadata, download (bytes from
 * disk, or a 302 to a presigned GET), delete; presigned upload + PUT + complete; a file of
 * another tenant or another owner is 404; a renamed executable is 415 naming what it is; an
 * upload over the limit is 413 and leaves no row, no object and no staged file; the tenant's own
 * limit; storage health; purging a tenant removes its objects; a tenant on its own bucket (the
 * `storage` integration) beside one on the server's directory. Runs on TEST_BACKEND's backend.
 */
#include "support/harness.h"
#include "support/s3_server.h"
#include "core/crypto.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define ADMIN    HARNESS_ADMIN_KEY
#define BOUNDARY "----iceshop-test-7MA4YWxkTrZu0gW"
#define LIMIT    (10 * 1024 * 1024)

static struct s3_server s3;
static struct server local_srv, s3_srv;
static char local_dir[512], local_staging[600], s3_staging[512];

struct env {
    struct server *srv;
    bool s3;
    const char *staging;
};

static int setup(void **state)
{
    (void)state;
    if (s3_server_start(&s3))
        return -1;
    const char *tmp = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
    snprintf(local_dir, sizeof(local_dir), "%s/files-local-%d", tmp, (int)getpid());
    snprintf(local_staging, sizeof(local_staging), "%s/.staging", local_dir);
    snprintf(s3_staging, sizeof(s3_staging), "%s/files-s3-staging-%d", tmp, (int)getpid());
    static char local_env[700], s3_env[400], staging_env[600];
    snprintf(local_env, sizeof(local_env), "ICESHOP_STORAGE_URL=file://%s", local_dir);
    snprintf(s3_env, sizeof(s3_env), "ICESHOP_STORAGE_URL=%s", s3.url);
    snprintf(staging_env, sizeof(staging_env), "ICESHOP_STORAGE_STAGING=%s", s3_staging);
    char url[600];
    harness_fresh_db(url, sizeof(url));
    const char *lenv[] = {local_env, NULL};
    if (server_start(&local_srv, url, lenv))
        return -1;
    harness_fresh_db(url, sizeof(url));
    const char *senv[] = {s3_env, staging_env, "ICESHOP_S3_ACCESS_KEY=" S3_TEST_ACCESS_KEY,
                          "ICESHOP_S3_SECRET_KEY=" S3_TEST_SECRET_KEY, NULL};
    return server_start(&s3_srv, url, senv);
}

static int teardown(void **state)
{
    (void)state;
    int rc = server_stop(&local_srv) == 0 ? 0 : -1;
    if (server_stop(&s3_srv) != 0)
        rc = -1;
    s3_server_stop(&s3);
    return rc;
}

/* ---------------------------------------------------------------- helpers */

static int count_files(const char *dir, bool skip_staging)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (skip_staging && !strcmp(de->d_name, ".staging"))
            continue;
        char p[1024];
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        struct stat sb;
        if (!lstat(p, &sb) && S_ISDIR(sb.st_mode))
            n += count_files(p, false);
        else
            n++;
    }
    closedir(d);
    return n;
}

static int objects(const struct env *v)
{
    return v->s3 ? s3_server_object_count(&s3) : count_files(local_dir, true);
}

static long long rows(const struct env *v)
{
    return harness_db_i64(v->srv->db_url, "SELECT COUNT(*) FROM files");
}

static char *multipart_body(const char *filename, const char *ctype, const void *data, size_t n,
                            size_t *len)
{
    char head[1024];
    int h = snprintf(head, sizeof(head),
                     "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n"
                     "a note field\r\n--" BOUNDARY "\r\nContent-Disposition: form-data; "
                     "name=\"file\"; filename=\"%s\"\r\nContent-Type: %s\r\n\r\n",
                     filename, ctype);
    const char *tail = "\r\n--" BOUNDARY "--\r\n";
    *len = (size_t)h + n + strlen(tail);
    char *b = malloc(*len + 1);
    memcpy(b, head, (size_t)h);
    memcpy(b + h, data, n);
    memcpy(b + h + n, tail, strlen(tail));
    b[*len] = '\0';
    return b;
}

static void upload(const struct env *v, const char *key, const char *filename, const char *ctype,
                   const void *data, size_t n, const char *const *extra, struct resp *r)
{
    size_t len;
    char *b = multipart_body(filename, ctype, data, n, &len);
    assert_int_equal(http_req(v->srv, "POST", "/api/files/upload", key,
                              "multipart/form-data; boundary=" BOUNDARY, b, len, extra, r),
                     0);
    free(b);
}

static void sha_hex(const void *p, size_t n, char out[65])
{
    unsigned char d[SEC_SHA256_LEN];
    struct err e;
    err_init(&e);
    sec_sha256(d, p, n);
    sec_hex_encode(out, 65, d, sizeof(d), &e);
}

/* A request to an absolute URL (a presigned link): split into a server base and a path. */
static int http_abs(const char *method, const char *url, const void *body, size_t n, struct resp *r)
{
    struct server s;
    memset(&s, 0, sizeof(s));
    const char *p = strchr(url + strlen("http://"), '/');
    assert_non_null(p);
    snprintf(s.base, sizeof(s.base), "%.*s", (int)(p - url), url);
    return http_req(&s, method, p, NULL, body ? "application/octet-stream" : NULL, body, n, NULL,
                    r);
}

static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
#define PNG_LEN (sizeof(png) - 1)
static const char pdf[] = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";
#define PDF_LEN (sizeof(pdf) - 1)
static const char exe[] = "MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0This program";
#define EXE_LEN (sizeof(exe) - 1)

/* Download file `id` and compare its bytes. */
static void expect_download(const struct env *v, long long id, const void *want, size_t n)
{
    char path[64];
    snprintf(path, sizeof(path), "/api/files/%lld?download=1", id);
    struct resp r;
    assert_int_equal(http_get(v->srv, path, ADMIN, &r), 0);
    if (v->s3) {
        if (r.status != 302)
            fail_msg("download from S3 storage: %ld %s", r.status, r.body);
        char loc[2048];
        assert_true(resp_header(&r, "Location", loc, sizeof(loc)));
        assert_non_null(strstr(loc, "X-Amz-Signature="));
        assert_non_null(strstr(loc, "X-Amz-Expires=600"));
        resp_free(&r);
        assert_int_equal(http_abs("GET", loc, NULL, 0, &r), 0);
    }
    if (r.status != 200 || r.len != n || memcmp(r.body, want, n) != 0)
        fail_msg("download: %ld, %zu bytes (want %zu)", r.status, r.len, n);
    resp_free(&r);
}

/* ---------------------------------------------------------------- flows */

static void flow_upload_download_delete(const struct env *v)
{
    int before = objects(v);
    struct resp r;
    upload(v, ADMIN, "../../etc/my \\\"photo\\\".png", "text/plain", png, PNG_LEN, NULL, &r);
    if (r.status != 201)
        fail_msg("upload: %ld %s", r.status, r.body);
    long long id = (long long)json_integer_value(json_object_get(r.json, "id"));
    char want_sha[65];
    sha_hex(png, PNG_LEN, want_sha);
    assert_string_equal(json_string_value(json_object_get(r.json, "sha256")), want_sha);
    assert_string_equal(json_string_value(json_object_get(r.json, "mime")), "image/png");
    assert_string_equal(json_string_value(json_object_get(r.json, "name")), "my _photo_.png");
    assert_int_equal(json_integer_value(json_object_get(r.json, "size")), PNG_LEN);
    assert_string_equal(json_string_value(json_object_get(r.json, "state")), "ready");
    resp_free(&r);
    assert_int_equal(objects(v), before + 1);

    char path[64];
    snprintf(path, sizeof(path), "/api/files/%lld", id);
    assert_int_equal(http_get(v->srv, path, ADMIN, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "sha256")), want_sha);
    resp_free(&r);
    expect_download(v, id, png, PNG_LEN);

    assert_int_equal(http_req(v->srv, "DELETE", path, ADMIN, NULL, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 204);
    resp_free(&r);
    assert_int_equal(http_get(v->srv, path, ADMIN, &r), 0);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    assert_int_equal(objects(v), before);
}

static void flow_presign_put_complete(const struct env *v)
{
    int before = objects(v);
    struct resp r;
    assert_int_equal(
        http_post_json(v->srv, "/api/files/presign-upload", ADMIN, "{\"name\":\"scan.pdf\"}", &r),
        0);
    if (r.status != 201)
        fail_msg("presign: %ld %s", r.status, r.body);
    long long id = (long long)json_integer_value(json_object_get(r.json, "id"));
    assert_string_equal(json_string_value(json_object_get(r.json, "state")), "pending");
    json_t *up = json_object_get(r.json, "upload");
    assert_string_equal(json_string_value(json_object_get(up, "method")), "PUT");
    char url[4096];
    snprintf(url, sizeof(url), "%s", json_string_value(json_object_get(up, "url")));
    resp_free(&r);
    if (v->s3)
        assert_non_null(strstr(url, "X-Amz-Expires=600"));

    /* a tampered link is refused by whoever checks it */
    char bad[4096];
    snprintf(bad, sizeof(bad), "%s", url);
    char *last = bad + strlen(bad) - 1;
    *last = *last == 'a' ? 'b' : 'a';
    int rejected = atomic_load(&s3.rejected);
    assert_int_equal(http_abs("PUT", bad, pdf, PDF_LEN, &r), 0);
    assert_int_equal(r.status, v->s3 ? 403 : 401);
    resp_free(&r);
    if (v->s3) {
        assert_int_equal(atomic_load(&s3.rejected), rejected + 1);
        atomic_store(&s3.rejected, rejected);
    }

    assert_int_equal(http_abs("PUT", url, pdf, PDF_LEN, &r), 0);
    if (r.status != 200)
        fail_msg("PUT to the presigned URL: %ld %s", r.status, r.body);
    resp_free(&r);
    char path[64];
    snprintf(path, sizeof(path), "/api/files/%lld/complete", id);
    assert_int_equal(http_req(v->srv, "POST", path, ADMIN, NULL, NULL, 0, NULL, &r), 0);
    if (r.status != 200)
        fail_msg("complete: %ld %s", r.status, r.body);
    char want_sha[65];
    sha_hex(pdf, PDF_LEN, want_sha);
    assert_string_equal(json_string_value(json_object_get(r.json, "state")), "ready");
    assert_string_equal(json_string_value(json_object_get(r.json, "mime")), "application/pdf");
    assert_string_equal(json_string_value(json_object_get(r.json, "sha256")), want_sha);
    resp_free(&r);
    expect_download(v, id, pdf, PDF_LEN);
    assert_int_equal(objects(v), before + 1);

    /* an executable PUT through a presigned link is refused at completion and removed */
    assert_int_equal(
        http_post_json(v->srv, "/api/files/presign-upload", ADMIN, "{\"name\":\"x.pdf\"}", &r), 0);
    long long id2 = (long long)json_integer_value(json_object_get(r.json, "id"));
    snprintf(url, sizeof(url), "%s",
             json_string_value(json_object_get(json_object_get(r.json, "upload"), "url")));
    resp_free(&r);
    assert_int_equal(http_abs("PUT", url, exe, EXE_LEN, &r), 0);
    long put_status = r.status;
    resp_free(&r);
    if (v->s3) {
        assert_int_equal(put_status, 200); /* the bucket takes anything; completion checks */
        snprintf(path, sizeof(path), "/api/files/%lld/complete", id2);
        assert_int_equal(http_req(v->srv, "POST", path, ADMIN, NULL, NULL, 0, NULL, &r), 0);
        assert_int_equal(r.status, 415);
        resp_free(&r);
    } else {
        assert_int_equal(put_status, 415); /* the local link checks as the bytes arrive */
    }
    snprintf(path, sizeof(path), "/api/files/%lld", id2);
    assert_int_equal(http_get(v->srv, path, ADMIN, &r), 0);
    assert_int_equal(r.status, v->s3 ? 404 : 200); /* local: still pending, link reusable */
    resp_free(&r);
    assert_int_equal(objects(v), before + 1);
    /* a refused upload's staged file goes when its request ends, just after the answer */
    WAIT_FOR(count_files(v->staging, false) == 0, 5000);
    assert_int_equal(count_files(v->staging, false), 0);
}

static void flow_other_tenant_and_owner(const struct env *v)
{
    char out[512], key_b[256], key_op[256];
    assert_int_equal(harness_cli(v->srv->db_url, "tenants create other", out, sizeof(out)), 0);
    assert_int_equal(harness_cli(v->srv->db_url, "keys create --tenant other --role admin --name b",
                                 key_b, sizeof(key_b)),
                     0);
    key_b[strcspn(key_b, " \r\n")] = '\0';
    assert_int_equal(harness_cli(v->srv->db_url,
                                 "keys create --tenant default --role operator --name op", key_op,
                                 sizeof(key_op)),
                     0);
    key_op[strcspn(key_op, " \r\n")] = '\0';

    struct resp r;
    upload(v, ADMIN, "a.png", "image/png", png, PNG_LEN, NULL, &r);
    assert_int_equal(r.status, 201);
    long long id = (long long)json_integer_value(json_object_get(r.json, "id"));
    resp_free(&r);
    const char *suffix[] = {"", "?download=1", "/complete"};
    const char *methods[] = {"GET", "GET", "POST"};
    const char *keys[] = {key_b, key_op};
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < 3; i++) {
            char path[96];
            snprintf(path, sizeof(path), "/api/files/%lld%s", id, suffix[i]);
            assert_int_equal(http_req(v->srv, methods[i], path, keys[k], NULL, NULL, 0, NULL, &r),
                             0);
            if (r.status != 404)
                fail_msg("%s %s with %s key: %ld %s", methods[i], path, k ? "owner" : "tenant",
                         r.status, r.body);
            resp_free(&r);
        }
        char path[64];
        snprintf(path, sizeof(path), "/api/files/%lld", id);
        assert_int_equal(http_req(v->srv, "DELETE", path, keys[k], NULL, NULL, 0, NULL, &r), 0);
        assert_int_equal(r.status, 404);
        resp_free(&r);
        assert_int_equal(http_get(v->srv, "/api/files", keys[k], &r), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_array_size(json_object_get(r.json, "files")), 0);
        resp_free(&r);
    }
    /* the operator's own file is theirs; the tenant's admin sees it too */
    upload(v, key_op, "op.pdf", "application/pdf", pdf, PDF_LEN, NULL, &r);
    assert_int_equal(r.status, 201);
    long long op_id = (long long)json_integer_value(json_object_get(r.json, "id"));
    resp_free(&r);
    char path[64];
    snprintf(path, sizeof(path), "/api/files/%lld", op_id);
    assert_int_equal(http_get(v->srv, path, key_op, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(http_get(v->srv, path, ADMIN, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    expect_download(v, id, png, PNG_LEN); /* still there for its owner */
}

static void flow_refusals_leave_nothing(const struct env *v)
{
    long long rows_before = rows(v);
    int objs_before = objects(v);
    struct resp r;
    /* a renamed executable, declared as a PDF */
    upload(v, ADMIN, "invoice.pdf", "application/pdf", exe, EXE_LEN, NULL, &r);
    if (r.status != 415)
        fail_msg("renamed executable: %ld %s", r.status, r.body);
    assert_string_equal(resp_error_field(&r), "file");
    assert_non_null(strstr(r.body, "Windows executable"));
    resp_free(&r);

    /* over the limit by one byte: declared (refused before reading) and chunked (mid-stream) */
    size_t n = (size_t)LIMIT + 1;
    char *big = malloc(n);
    memset(big, 'a', n);
    memcpy(big, "%PDF-1.4\n", 9);
    upload(v, ADMIN, "big.pdf", "application/pdf", big, n, NULL, &r);
    if (r.status != 413)
        fail_msg("over the limit: %ld %s", r.status, r.body);
    assert_string_equal(resp_error_field(&r), "file");
    resp_free(&r);
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    upload(v, ADMIN, "big.pdf", "application/pdf", big, n, chunked, &r);
    if (r.status != 413)
        fail_msg("over the limit, chunked: %ld %s", r.status, r.body);
    resp_free(&r);
    /* exactly at the limit is fine */
    upload(v, ADMIN, "edge.pdf", "application/pdf", big, n - 1, NULL, &r);
    if (r.status != 201)
        fail_msg("at the limit: %ld %s", r.status, r.body);
    long long edge = (long long)json_integer_value(json_object_get(r.json, "id"));
    resp_free(&r);
    free(big);
    char path[64];
    snprintf(path, sizeof(path), "/api/files/%lld", edge);
    assert_int_equal(http_req(v->srv, "DELETE", path, ADMIN, NULL, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 204);
    resp_free(&r);

    /* the tenant's own limit */
    assert_int_equal(http_req(v->srv, "PUT", "/api/files/settings", ADMIN, "application/json",
                              "{\"max_bytes\":20}", 16, NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "max_bytes")), 20);
    resp_free(&r);
    upload(v, ADMIN, "p.pdf", "application/pdf", pdf, PDF_LEN, NULL, &r);
    assert_int_equal(r.status, 413);
    resp_free(&r);
    /* the same file through a presigned link: refused as it arrives (local) or at completion */
    assert_int_equal(
        http_post_json(v->srv, "/api/files/presign-upload", ADMIN, "{\"name\":\"p.pdf\"}", &r), 0);
    long long pid = (long long)json_integer_value(json_object_get(r.json, "id"));
    char purl[4096];
    snprintf(purl, sizeof(purl), "%s",
             json_string_value(json_object_get(json_object_get(r.json, "upload"), "url")));
    resp_free(&r);
    assert_int_equal(http_abs("PUT", purl, pdf, PDF_LEN, &r), 0);
    assert_int_equal(r.status, v->s3 ? 200 : 413);
    resp_free(&r);
    char cpath[64];
    snprintf(cpath, sizeof(cpath), "/api/files/%lld/complete", pid);
    assert_int_equal(http_req(v->srv, "POST", cpath, ADMIN, NULL, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, v->s3 ? 413 : 404); /* local: nothing was stored to complete */
    resp_free(&r);
    if (!v->s3) {
        snprintf(cpath, sizeof(cpath), "/api/files/%lld", pid);
        assert_int_equal(http_req(v->srv, "DELETE", cpath, ADMIN, NULL, NULL, 0, NULL, &r), 0);
        assert_int_equal(r.status, 204);
        resp_free(&r);
    }
    assert_int_equal(http_req(v->srv, "PUT", "/api/files/settings", ADMIN, "application/json",
                              "{\"max_bytes\":0}", 15, NULL, &r),
                     0);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "max_bytes");
    resp_free(&r);
    char lim[64];
    int ln = snprintf(lim, sizeof(lim), "{\"max_bytes\":%d}", LIMIT);
    assert_int_equal(http_req(v->srv, "PUT", "/api/files/settings", ADMIN, "application/json", lim,
                              (size_t)ln, NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    resp_free(&r);

    /* malformed bodies name what is wrong, never 500 */
    const char *bad = "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"file\"; "
                      "filename=\"a.pdf\"\r\n\r\n%PDF-1.4 truncated";
    assert_int_equal(http_req(v->srv, "POST", "/api/files/upload", ADMIN,
                              "multipart/form-data; boundary=" BOUNDARY, bad, strlen(bad), NULL,
                              &r),
                     0);
    assert_int_equal(r.status, 400);
    resp_free(&r);
    assert_int_equal(http_req(v->srv, "POST", "/api/files/upload", ADMIN, "multipart/form-data",
                              "x", 1, NULL, &r),
                     0);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "Content-Type");
    resp_free(&r);
    assert_int_equal(
        http_req(v->srv, "POST", "/api/files/upload", ADMIN, "application/json", "{}", 2, NULL, &r),
        0);
    assert_int_equal(r.status, 415);
    resp_free(&r);

    assert_int_equal(rows(v), rows_before);
    assert_int_equal(objects(v), objs_before);
    /* a refused upload's staged file goes when its request ends, just after the answer */
    WAIT_FOR(count_files(v->staging, false) == 0, 5000);
    assert_int_equal(count_files(v->staging, false), 0);
}

static void flow_health(const struct env *v)
{
    struct resp r;
    assert_int_equal(http_get(v->srv, "/health/detailed", ADMIN, &r), 0);
    json_t *st0 = json_object_get(json_object_get(r.json, "checks"), "storage");
    if (strcmp(json_string_value(json_object_get(st0, "status")), "up") != 0)
        fail_msg("storage down: %s (proxy: %s)", r.body, s3.last_reject);
    resp_free(&r);
    assert_int_equal(http_get(v->srv, "/health/detailed", NULL, &r), 0);
    json_t *st = json_object_get(json_object_get(r.json, "checks"), "storage");
    assert_string_equal(json_string_value(json_object_get(st, "status")), "up");
    assert_null(json_object_get(st, "kind")); /* the public answer says up or down only */
    resp_free(&r);
    assert_int_equal(http_get(v->srv, "/health/detailed", ADMIN, &r), 0);
    st = json_object_get(json_object_get(r.json, "checks"), "storage");
    if (strcmp(json_string_value(json_object_get(st, "status")), "up") != 0)
        fail_msg("storage down: %s", r.body);
    assert_string_equal(json_string_value(json_object_get(st, "kind")), v->s3 ? "s3" : "file");
    resp_free(&r);
}

static void run_all(const struct env *v)
{
    flow_health(v);
    flow_upload_download_delete(v);
    flow_presign_put_complete(v);
    flow_refusals_leave_nothing(v);
    flow_other_tenant_and_owner(v);
}

static void test_local_storage(void **state)
{
    (void)state;
    struct env v = {&local_srv, false, local_staging};
    run_all(&v);
}

static void test_s3_storage(void **state)
{
    (void)state;
    struct env v = {&s3_srv, true, s3_staging};
    run_all(&v);
    /* every request that reached the bucket carried a signature that recomputes */
    if (atomic_load(&s3.rejected) != 0)
        fail_msg("the S3 proxy refused %d request(s); last: %s", atomic_load(&s3.rejected),
                 s3.last_reject);
    assert_true(atomic_load(&s3.verified) >= 10);
    print_message("s3: %d signatures verified\n", atomic_load(&s3.verified));
}

/* Purging a tenant removes its stored objects with its rows (the local server's CLI). */
static void test_purge_removes_objects(void **state)
{
    (void)state;
    struct env v = {&local_srv, false, local_staging};
    char out[512], key_p[256];
    assert_int_equal(harness_cli(v.srv->db_url, "tenants create purgeme", out, sizeof(out)), 0);
    assert_int_equal(harness_cli(v.srv->db_url,
                                 "keys create --tenant purgeme --role admin --name p", key_p,
                                 sizeof(key_p)),
                     0);
    key_p[strcspn(key_p, " \r\n")] = '\0';
    struct resp r;
    upload(&v, key_p, "p.png", "image/png", png, PNG_LEN, NULL, &r);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    int before = objects(&v);
    char env[700];
    snprintf(env, sizeof(env), "file://%s", local_dir);
    setenv("ICESHOP_STORAGE_URL", env, 1);
    int rc = harness_cli(v.srv->db_url, "tenants delete purgeme", out, sizeof(out));
    unsetenv("ICESHOP_STORAGE_URL");
    if (rc)
        fail_msg("tenants delete: %s", out);
    assert_non_null(strstr(out, "1 stored files"));
    assert_int_equal(objects(&v), before - 1);
}

/* ---------------------------------------------------------------- storage per tenant */

static void put_storage(const char *key, const char *json, struct resp *r)
{
    assert_int_equal(http_req(&local_srv, "PUT", "/api/integrations/storage", key,
                              "application/json", json, strlen(json), NULL, r),
                     0);
}

static long long upload_id(const struct env *v, const char *key, struct resp *r)
{
    upload(v, key, "t.png", "image/png", png, PNG_LEN, NULL, r);
    return r->status == 201 ? (long long)json_integer_value(json_object_get(r->json, "id")) : 0;
}

static long get_status(const char *path, const char *key)
{
    struct resp r;
    assert_int_equal(http_get(&local_srv, path, key, &r), 0);
    long st = r.status;
    resp_free(&r);
    return st;
}

/* The tenant part of /health/detailed for `key`: "status kind own" (own: 1 or 0). */
static void tenant_health(const char *key, char *out, size_t n, char *error, size_t en)
{
    struct resp r;
    assert_int_equal(http_get(&local_srv, "/health/detailed", key, &r), 0);
    json_t *st = json_object_get(json_object_get(r.json, "tenant"), "storage");
    const char *kind = json_string_value(json_object_get(st, "kind"));
    snprintf(out, n, "%s %s %d", json_string_value(json_object_get(st, "status")),
             kind ? kind : "-", json_is_true(json_object_get(st, "own")));
    const char *why = json_string_value(json_object_get(st, "error"));
    snprintf(error, en, "%s", why ? why : "");
    assert_null(strstr(r.body, S3_TEST_SECRET_KEY_B));
    assert_null(strstr(r.body, "wrong-secret"));
    resp_free(&r);
}

/*
 * On the local server, the default tenant keeps the server's directory while tenant bshop puts
 * its files in its own bucket with its own keys (the `storage` integration): bytes land where
 * their tenant's settings say, each tenant reaches only its own, wrong keys give a 502 naming
 * storage and never the secret, and fixing the keys takes effect at the next request.
 */
static void test_tenant_storage(void **state)
{
    (void)state;
    struct env v = {&local_srv, false, local_staging};
    char out[512], key_b[256];
    assert_int_equal(harness_cli(v.srv->db_url, "tenants create bshop", out, sizeof(out)), 0);
    assert_int_equal(harness_cli(v.srv->db_url, "keys create --tenant bshop --role admin --name b",
                                 key_b, sizeof(key_b)),
                     0);
    key_b[strcspn(key_b, " \r\n")] = '\0';
    struct resp r;

    /* a tenant cannot choose a directory of the server's disk */
    put_storage(key_b, "{\"url\":\"file:///tmp/elsewhere\"}", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "url");
    resp_free(&r);
    assert_int_not_equal(harness_cli(v.srv->db_url,
                                     "integrations set --tenant bshop storage url=file:///tmp/x",
                                     out, sizeof(out)),
                         0);
    assert_int_equal(harness_db_i64(v.srv->db_url, "SELECT COUNT(*) FROM integration_fields "
                                                   "WHERE provider = 'storage'"),
                     0);
    /* an s3:// url without its keys is refused at first use, naming the missing field */
    char json[1024];
    snprintf(json, sizeof(json), "{\"url\":\"%s\"}", s3.url_b);
    put_storage(key_b, json, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    upload(&v, key_b, "t.png", "image/png", png, PNG_LEN, NULL, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "access_key_id");
    resp_free(&r);

    snprintf(json, sizeof(json),
             "{\"access_key_id\":\"" S3_TEST_ACCESS_KEY_B
             "\",\"secret_access_key\":\"" S3_TEST_SECRET_KEY_B "\"}");
    put_storage(key_b, json, &r);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, S3_TEST_SECRET_KEY_B));
    json_t *secrets = json_object_get(r.json, "secrets_set");
    assert_int_equal(json_array_size(secrets), 1);
    assert_string_equal(json_string_value(json_array_get(secrets, 0)), "secret_access_key");
    resp_free(&r);
    assert_int_equal(http_get(v.srv, "/api/integrations", key_b, &r), 0);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, S3_TEST_SECRET_KEY_B));
    resp_free(&r);

    int local0 = count_files(local_dir, true),
        bucket0 = s3_server_bucket_count(&s3, S3_TEST_BUCKET_B),
        server_bucket0 = s3_server_object_count(&s3);
    long long id_b = upload_id(&v, key_b, &r);
    if (!id_b)
        fail_msg("tenant upload to its bucket: %ld %s (proxy: %s)", r.status, r.body,
                 s3.last_reject);
    resp_free(&r);
    assert_int_equal(s3_server_bucket_count(&s3, S3_TEST_BUCKET_B), bucket0 + 1);
    assert_int_equal(count_files(local_dir, true), local0);
    assert_int_equal(s3_server_object_count(&s3), server_bucket0);
    long long id_a = upload_id(&v, ADMIN, &r);
    assert_int_not_equal(id_a, 0);
    resp_free(&r);
    assert_int_equal(count_files(local_dir, true), local0 + 1);
    assert_int_equal(s3_server_bucket_count(&s3, S3_TEST_BUCKET_B), bucket0 + 1);

    /* b's download is a link into its bucket, signed with its key; the bytes come back */
    char path[96];
    snprintf(path, sizeof(path), "/api/files/%lld?download=1", id_b);
    assert_int_equal(http_get(v.srv, path, key_b, &r), 0);
    if (r.status != 302)
        fail_msg("tenant download: %ld %s", r.status, r.body);
    char loc[2048];
    assert_true(resp_header(&r, "Location", loc, sizeof(loc)));
    resp_free(&r);
    assert_non_null(strstr(loc, "/" S3_TEST_BUCKET_B "/"));
    assert_non_null(strstr(loc, S3_TEST_ACCESS_KEY_B));
    assert_int_equal(http_abs("GET", loc, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, PNG_LEN);
    assert_memory_equal(r.body, png, PNG_LEN);
    resp_free(&r);
    /* and the default tenant's download still comes from the directory */
    snprintf(path, sizeof(path), "/api/files/%lld?download=1", id_a);
    assert_int_equal(http_get(v.srv, path, ADMIN, &r), 0);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, png, PNG_LEN);
    resp_free(&r);
    /* each tenant reaches only its own files */
    snprintf(path, sizeof(path), "/api/files/%lld?download=1", id_b);
    assert_int_equal(get_status(path, ADMIN), 404);
    snprintf(path, sizeof(path), "/api/files/%lld?download=1", id_a);
    assert_int_equal(get_status(path, key_b), 404);
    assert_int_equal(http_get(v.srv, "/api/files/settings", key_b, &r), 0);
    assert_string_equal(json_string_value(json_object_get(r.json, "storage")), "s3");
    resp_free(&r);
    assert_int_equal(http_get(v.srv, "/api/files/settings", ADMIN, &r), 0);
    assert_string_equal(json_string_value(json_object_get(r.json, "storage")), "file");
    resp_free(&r);

    /* each tenant's health shows its own storage */
    char h[64], why[512];
    tenant_health(key_b, h, sizeof(h), why, sizeof(why));
    if (strcmp(h, "up s3 1") != 0)
        fail_msg("tenant b's storage health: %s %s (proxy: %s)", h, why, s3.last_reject);
    tenant_health(ADMIN, h, sizeof(h), why, sizeof(why));
    assert_string_equal(h, "up file 0");

    /* wrong keys: the bucket refuses, the answer names storage and not the secret */
    put_storage(key_b, "{\"secret_access_key\":\"wrong-secret-5e1d\"}", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    tenant_health(key_b, h, sizeof(h), why, sizeof(why));
    assert_string_equal(h, "down s3 1");
    assert_non_null(strstr(why, "storage"));
    assert_non_null(strstr(why, "403"));
    int rejected = atomic_load(&s3.rejected);
    upload(&v, key_b, "t.png", "image/png", png, PNG_LEN, NULL, &r);
    assert_int_equal(r.status, 502);
    assert_non_null(strstr(r.body, "storage"));
    assert_null(strstr(r.body, "wrong-secret"));
    assert_null(strstr(r.body, S3_TEST_SECRET_KEY_B));
    resp_free(&r);
    assert_true(atomic_load(&s3.rejected) > rejected);
    atomic_store(&s3.rejected, rejected);
    assert_int_equal(s3_server_bucket_count(&s3, S3_TEST_BUCKET_B), bucket0 + 1);

    /* the right keys again: the next request uses them */
    put_storage(key_b, "{\"secret_access_key\":\"" S3_TEST_SECRET_KEY_B "\"}", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    long long id_b2 = upload_id(&v, key_b, &r);
    if (!id_b2)
        fail_msg("upload after the keys were fixed: %ld %s", r.status, r.body);
    resp_free(&r);
    assert_int_equal(s3_server_bucket_count(&s3, S3_TEST_BUCKET_B), bucket0 + 2);
    snprintf(path, sizeof(path), "/api/files/%lld", id_b2);
    assert_int_equal(http_req(v.srv, "DELETE", path, key_b, NULL, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 204);
    resp_free(&r);
    assert_int_equal(s3_server_bucket_count(&s3, S3_TEST_BUCKET_B), bucket0 + 1);

    /* purging the tenant empties its bucket, not the server's directory */
    int local1 = count_files(local_dir, true);
    char env[700];
    snprintf(env, sizeof(env), "file://%s", local_dir);
    setenv("ICESHOP_STORAGE_URL", env, 1);
    int rc = harness_cli(v.srv->db_url, "tenants delete bshop", out, sizeof(out));
    unsetenv("ICESHOP_STORAGE_URL");
    if (rc)
        fail_msg("tenants delete: %s", out);
    assert_int_equal(s3_server_bucket_count(&s3, S3_TEST_BUCKET_B), bucket0);
    assert_int_equal(count_files(local_dir, true), local1);

    /* no secret reached the log */
    assert_false(server_log_contains(v.srv, S3_TEST_SECRET_KEY_B));
    assert_false(server_log_contains(v.srv, "wrong-secret"));
}

static const char *storage_status(const struct server *srv)
{
    static char status[16];
    status[0] = '\0';
    struct resp r;
    if (http_get(srv, "/health/detailed", NULL, &r) == 0) {
        json_t *st = json_object_get(json_object_get(r.json, "checks"), "storage");
        const char *v = json_string_value(json_object_get(st, "status"));
        snprintf(status, sizeof(status), "%s", v ? v : "");
        resp_free(&r);
    }
    return status;
}

/* Storage going away shows as down on the public health answer. */
static void test_storage_down(void **state)
{
    (void)state;
    kill(s3.pid, SIGTERM);
    waitpid(s3.pid, NULL, 0);
    s3.pid = 0;
    /* the probe is cached for a few seconds (the route is public): wait for the next one */
    WAIT_FOR(strcmp(storage_status(&s3_srv), "down") == 0, 15000);
    assert_string_equal(storage_status(&s3_srv), "down");
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_storage),         cmocka_unit_test(test_s3_storage),
        cmocka_unit_test(test_purge_removes_objects), cmocka_unit_test(test_tenant_storage),
        cmocka_unit_test(test_storage_down),
    };
    return cmocka_run_group_tests_name(harness_backend(), tests, setup, teardown);
}
