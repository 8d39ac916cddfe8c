/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/net/storage.c and storage_s3.c without a network: the local directory
 * (stage, put by rename, read back, open for download, remove twice, health), keys that could
 * leave the directory refused, and S3 URLs parsed (path style with an endpoint, virtual-hosted
 * without) into presigned URLs; every configuration error names its variable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "net/storage.h"
#include "support/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[512];

static struct storage *open_local(void)
{
    const char *tmp = getenv("TEST_TMPDIR");
    snprintf(dir, sizeof(dir), "%s/storage-unit-%d", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    char url[600];
    snprintf(url, sizeof(url), "file://%s/", dir);
    struct storage_config sc = {.url = url};
    struct storage *st = NULL;
    OK(storage_open(&sc, &st, e));
    assert_string_equal(storage_kind(st), "file");
    return st;
}

struct collect {
    char data[64];
    size_t n;
};

static int collect(void *ctx, const char *p, size_t n, struct err *e)
{
    (void)e;
    struct collect *c = ctx;
    assert_true(c->n + n < sizeof(c->data));
    memcpy(c->data + c->n, p, n);
    c->n += n;
    return 0;
}

static void local_roundtrip(void **state)
{
    (void)state;
    struct storage *st = open_local();
    OK(storage_health(st, e));
    char path[STORAGE_PATH_MAX];
    int fd;
    OK(storage_stage(st, path, &fd, e));
    assert_non_null(strstr(path, "/.staging/upload-"));
    assert_int_equal(write(fd, "%PDF-1.4", 8), 8);
    close(fd);
    OK(storage_put_file(st, "t1/abc_DEF-9", path, 8, "", "application/pdf", e));
    assert_int_not_equal(access(path, F_OK), 0); /* consumed */

    struct collect c = {.n = 0};
    OK(storage_read(st, "t1/abc_DEF-9", collect, &c, e));
    assert_int_equal(c.n, 8);
    assert_memory_equal(c.data, "%PDF-1.4", 8);
    int64_t size = 0;
    OK(storage_open_read(st, "t1/abc_DEF-9", &fd, &size, e));
    assert_int_equal(size, 8);
    close(fd);

    struct buf url;
    buf_init(&url, 1024);
    FAILS(ERR_NOT_IMPLEMENTED, storage_presign(st, "PUT", "t1/abc_DEF-9", 0, 600, &url, e));
    buf_release(&url);

    OK(storage_remove(st, "t1/abc_DEF-9", e));
    OK(storage_remove(st, "t1/abc_DEF-9", e)); /* gone already: fine */
    FAILS(ERR_NOT_FOUND, storage_read(st, "t1/abc_DEF-9", collect, &c, e));
    FAILS(ERR_NOT_FOUND, storage_open_read(st, "t1/abc_DEF-9", &fd, &size, e));

    /* keys that could reach outside, or be hidden, are refused before any file operation */
    const char *bad[] = {"",    "../etc/passwd", "/abs", "a//b", "a/", "t1/.staging",
                         "a b", "t1/%2e%2e",     "x\\y"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        FAILS(ERR_INVALID, storage_remove(st, bad[i], e));
        FAILS(ERR_INVALID, storage_read(st, bad[i], collect, &c, e));
    }
    storage_free(st);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void s3_urls(void **state)
{
    (void)state;
    struct storage_config sc = {
        .url = "s3://my-bucket?endpoint=http://127.0.0.1:9000&region=eu-central-1",
        .staging = "",
        .access_key = "AKIAIOSFODNN7EXAMPLE",
        .secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    };
    struct storage *st = NULL;
    OK(storage_open(&sc, &st, e));
    assert_string_equal(storage_kind(st), "s3");
    struct buf url;
    buf_init(&url, 4096);
    OK(storage_presign(st, "PUT", "t1/k", 1369353600, 600, &url, e));
    const char *want = "http://127.0.0.1:9000/my-bucket/t1/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                       "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Feu-central-1%2Fs3%2F"
                       "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=600"
                       "&X-Amz-SignedHeaders=host&X-Amz-Signature=";
    assert_true(strncmp(buf_str(&url), want, strlen(want)) == 0);
    assert_int_equal(strlen(buf_str(&url)), strlen(want) + 64);
    storage_free(st);

    /* without an endpoint: AWS, virtual-hosted, https */
    sc.url = "s3://examplebucket";
    OK(storage_open(&sc, &st, e));
    buf_reset(&url);
    OK(storage_presign(st, "GET", "test", 1369353600, 600, &url, e));
    assert_true(
        strncmp(buf_str(&url), "https://examplebucket.s3.us-east-1.amazonaws.com/test?", 54) == 0);
    storage_free(st);
    buf_release(&url);

    struct {
        const char *url, *access, *field;
    } bad[] = {
        {"s3://my-bucket", "", "ICESHOP_S3_ACCESS_KEY"},
        {"s3://My_Bucket", "a", "ICESHOP_STORAGE_URL"},
        {"s3://ab", "a", "ICESHOP_STORAGE_URL"},
        {"s3://my-bucket?endpoint=ftp://x", "a", "ICESHOP_STORAGE_URL"},
        {"s3://my-bucket?endpoint=http://user@host", "a", "ICESHOP_STORAGE_URL"},
        {"s3://my-bucket?endpoint=http://host/path", "a", "ICESHOP_STORAGE_URL"},
        {"s3://my-bucket?region=EU_1", "a", "ICESHOP_STORAGE_URL"},
        {"ftp://x", "a", "ICESHOP_STORAGE_URL"},
        {"file://", "a", "ICESHOP_STORAGE_URL"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct storage_config b = {
            .url = bad[i].url, .access_key = bad[i].access, .secret_key = "s"};
        st = NULL;
        FAILS(ERR_INVALID, storage_open(&b, &st, e));
        assert_null(st);
        if (strcmp(check_last.field, bad[i].field) != 0)
            fail_msg("case %zu (%s): field %s, want %s", i, bad[i].url, check_last.field,
                     bad[i].field);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(local_roundtrip),
        cmocka_unit_test(s3_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
