/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/http/multipart.c: well-formed bodies fed whole, byte by byte and split at
 * every offset (so every boundary is split across chunks), and hostile ones: no boundary, bad
 * boundaries, a truncated body, oversized part headers, too many parts, near-boundaries inside
 * the data, a huge part streamed without being held.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/buf.h"
#include "http/multipart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rec {
    struct buf log; /* "begin name=x file=y type=z|data...|end|" */
    size_t max_chunk;
    size_t total;
};

static int on_begin(void *ctx, const struct multipart_part *p, struct err *e)
{
    (void)e;
    struct rec *r = ctx;
    buf_appendf(&r->log, "[%s|%s|%s]", p->name, p->filename ? p->filename : "-", p->content_type);
    return 0;
}

static int on_data(void *ctx, const char *p, size_t n, struct err *e)
{
    (void)e;
    struct rec *r = ctx;
    if (n > r->max_chunk)
        r->max_chunk = n;
    r->total += n;
    if (r->log.len < 4096)
        buf_append(&r->log, p, n);
    return 0;
}

static int on_end(void *ctx, struct err *e)
{
    (void)e;
    struct rec *r = ctx;
    buf_appends(&r->log, "[/]");
    return 0;
}

static const struct multipart_cb cb = {on_begin, on_data, on_end};

/* Parse `body` in chunks of `chunk` bytes (0 = whole); returns the rc, the log in r. */
static int parse(const char *boundary, const char *body, size_t len, size_t chunk, struct rec *r,
                 struct err *e)
{
    buf_init(&r->log, 1 << 20);
    r->max_chunk = 0;
    r->total = 0;
    struct multipart *m = malloc(sizeof(*m));
    multipart_init(m, boundary, &cb, r);
    err_init(e);
    int rc = 0;
    for (size_t off = 0; !rc && off < len;) {
        size_t n = chunk && len - off > chunk ? chunk : len - off;
        rc = multipart_feed(m, body + off, n, e);
        off += n;
    }
    if (!rc)
        rc = multipart_finish(m, e);
    free(m);
    return rc;
}

#define BODY                                                                                       \
    "preamble\r\n"                                                                                 \
    "--XyZ\r\n"                                                                                    \
    "Content-Disposition: form-data; name=\"note\"\r\n"                                            \
    "\r\n"                                                                                         \
    "hello\r\n"                                                                                    \
    "--XyZ\r\n"                                                                                    \
    "Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".pdf\"\r\n"              \
    "Content-Type: application/pdf\r\n"                                                            \
    "\r\n"                                                                                         \
    "%PDF-1.4\r\n--XyNot a boundary\r\r\n-\r\n-XyZ\r\n"                                            \
    "--XyZ--\r\n"                                                                                  \
    "epilogue"
#define EXPECT                                                                                     \
    "[note|-|]hello[/][file|a \"b\".pdf|application/pdf]"                                          \
    "%PDF-1.4\r\n--XyNot a boundary\r\r\n-\r\n-XyZ[/]"

static void well_formed_every_split(void **state)
{
    (void)state;
    size_t len = strlen(BODY);
    for (size_t chunk = 0; chunk <= len; chunk++) {
        struct rec r;
        struct err e;
        int rc = parse("XyZ", BODY, len, chunk, &r, &e);
        if (rc)
            fail_msg("chunk %zu: %s", chunk, e.msg);
        if (strcmp(buf_str(&r.log), EXPECT) != 0)
            fail_msg("chunk %zu: got %s", chunk, buf_str(&r.log));
        buf_release(&r.log);
    }
    /* and split in two at every offset */
    for (size_t cut = 1; cut < len; cut++) {
        struct rec r;
        buf_init(&r.log, 1 << 20);
        struct multipart m;
        multipart_init(&m, "XyZ", &cb, &r);
        struct err e;
        err_init(&e);
        assert_int_equal(multipart_feed(&m, BODY, cut, &e), 0);
        assert_int_equal(multipart_feed(&m, BODY + cut, len - cut, &e), 0);
        assert_int_equal(multipart_finish(&m, &e), 0);
        assert_string_equal(buf_str(&r.log), EXPECT);
        buf_release(&r.log);
    }
}

static void starts_with_boundary(void **state)
{
    (void)state;
    const char *b = "--b\r\nContent-Disposition: form-data; name=x\r\n\r\n\r\n--b--";
    struct rec r;
    struct err e;
    assert_int_equal(parse("b", b, strlen(b), 0, &r, &e), 0);
    assert_string_equal(buf_str(&r.log), "[x|-|][/]");
    buf_release(&r.log);
}

static void boundary_header(void **state)
{
    (void)state;
    char b[MULTIPART_MAX_BOUNDARY + 1];
    struct err e;
    err_init(&e);
    assert_int_equal(multipart_boundary("multipart/form-data; boundary=abc", b, &e), 0);
    assert_string_equal(b, "abc");
    assert_int_equal(
        multipart_boundary("Multipart/Form-Data; charset=x; boundary=\"a b:c\"", b, &e), 0);
    assert_string_equal(b, "a b:c");
    struct {
        const char *ct;
        int rc;
    } bad[] = {
        {NULL, ERR_UNSUPPORTED},
        {"application/json", ERR_UNSUPPORTED},
        {"multipart/mixed; boundary=a", ERR_UNSUPPORTED},
        {"multipart/form-dataX; boundary=a", ERR_UNSUPPORTED},
        {"multipart/form-data", ERR_INVALID},
        {"multipart/form-data; boundary=", ERR_INVALID},
        {"multipart/form-data; boundary=\"\"", ERR_INVALID},
        {"multipart/form-data; boundary=\"a\r\nb\"", ERR_INVALID},
        {"multipart/form-data; boundary=\"ab \"", ERR_INVALID},
        {"multipart/form-data; boundary="
         "12345678901234567890123456789012345678901234567890123456789012345678901",
         ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_init(&e);
        if (multipart_boundary(bad[i].ct, b, &e) != bad[i].rc)
            fail_msg("case %zu (%s) not refused with %d", i, bad[i].ct ? bad[i].ct : "NULL",
                     bad[i].rc);
        assert_string_equal(e.field, "Content-Type");
    }
}

static void expect_invalid(const char *body, size_t chunk, const char *msg_part)
{
    struct rec r;
    struct err e;
    int rc = parse("b", body, strlen(body), chunk, &r, &e);
    buf_release(&r.log);
    if (rc != ERR_INVALID)
        fail_msg("accepted (%d): %s", rc, body);
    if (!strstr(e.msg, msg_part))
        fail_msg("'%s' does not say '%s'", e.msg, msg_part);
}

static void hostile_bodies(void **state)
{
    (void)state;
    for (size_t chunk = 0; chunk < 4; chunk++) {
        expect_invalid("", chunk, "no boundary");
        expect_invalid("just some text with no boundary at all", chunk, "no boundary");
        expect_invalid("--other\r\n\r\nx\r\n--other--", chunk, "no boundary");
        expect_invalid("--b\r\nContent-Disposition: form-data; name=x\r\n\r\ntruncated", chunk,
                       "closing boundary");
        expect_invalid("--b\r\nContent-Disposition: form-data; name=x\r\n", chunk,
                       "closing boundary");
        expect_invalid("--bX\r\n", chunk, "after a boundary");
        expect_invalid("--b\r\nno colon here\r\n\r\nx\r\n--b--", chunk, "colon");
        expect_invalid("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", chunk,
                       "Content-Disposition");
        expect_invalid("--b\r\nContent-Disposition: attachment\r\n\r\nx\r\n--b--", chunk,
                       "form-data");
    }
}

static void oversized_headers(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_appends(&b, "--b\r\nContent-Disposition: form-data; name=\"");
    for (int i = 0; i < MULTIPART_MAX_HEADERS; i++)
        buf_append(&b, "a", 1);
    buf_appends(&b, "\"\r\n\r\nx\r\n--b--");
    expect_invalid(buf_str(&b), 0, "part headers over");
    expect_invalid(buf_str(&b), 7, "part headers over");
    buf_release(&b);
}

static void too_many_parts(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 20);
    for (int i = 0; i < MULTIPART_MAX_PARTS; i++)
        buf_appendf(&b, "--b\r\nContent-Disposition: form-data; name=f%d\r\n\r\nv\r\n", i);
    struct rec r;
    struct err e;
    struct buf ok;
    buf_init(&ok, 1 << 20);
    buf_appendf(&ok, "%s--b--", buf_str(&b));
    assert_int_equal(parse("b", ok.data, ok.len, 0, &r, &e), 0);
    buf_release(&r.log);
    buf_release(&ok);
    buf_appendf(&b, "--b\r\nContent-Disposition: form-data; name=one-more\r\n\r\nv\r\n--b--");
    expect_invalid(buf_str(&b), 0, "more than 8 parts");
    expect_invalid(buf_str(&b), 3, "more than 8 parts");
    buf_release(&b);
}

/* A part of 8 MiB streams through in the feeder's chunks: nothing is held back. */
static void huge_part_streams(void **state)
{
    (void)state;
    size_t size = (size_t)8 << 20;
    struct buf b;
    buf_init(&b, size + 1024);
    buf_appends(&b, "--b\r\nContent-Disposition: form-data; name=f; filename=big.bin\r\n\r\n");
    size_t head = b.len;
    char block[4096];
    for (size_t i = 0; i < sizeof(block); i++)
        block[i] = (char)("\r\n-b"[i % 4]); /* near-boundaries everywhere */
    while (b.len - head < size)
        buf_append(&b, block, sizeof(block));
    buf_appends(&b, "\r\n--b--\r\n");
    struct rec r;
    struct err e;
    assert_int_equal(parse("b", b.data, b.len, 65536, &r, &e), 0);
    assert_int_equal(r.total, size);
    assert_true(r.max_chunk <= 65536);
    buf_release(&r.log);
    buf_release(&b);
}

static int refuse_data(void *ctx, const char *p, size_t n, struct err *e)
{
    (void)ctx;
    (void)p;
    (void)n;
    return err_set(e, ERR_TOO_LARGE, "stop");
}

static void callback_error_stops(void **state)
{
    (void)state;
    const struct multipart_cb stop = {NULL, refuse_data, NULL};
    struct multipart m;
    multipart_init(&m, "b", &stop, NULL);
    struct err e;
    err_init(&e);
    const char *body = "--b\r\nContent-Disposition: form-data; name=f\r\n\r\nxyz\r\n--b--";
    assert_int_equal(multipart_feed(&m, body, strlen(body), &e), ERR_TOO_LARGE);
    err_init(&e);
    assert_int_equal(multipart_feed(&m, "x", 1, &e), ERR_INVALID);
    assert_int_equal(multipart_finish(&m, &e), ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(well_formed_every_split), cmocka_unit_test(starts_with_boundary),
        cmocka_unit_test(boundary_header),         cmocka_unit_test(hostile_bodies),
        cmocka_unit_test(oversized_headers),       cmocka_unit_test(too_many_parts),
        cmocka_unit_test(huge_part_streams),       cmocka_unit_test(callback_error_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
