/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the streaming multipart/form-data parser (src/http/multipart.c): the
 * input is a body for boundary "b" (its first byte also picks a chunk size). Invariant: the body
 * parsed whole and parsed in chunks gives the same result and the same parts, bytes and ends,
 * so where the pieces split never changes what is read. Built and run by scripts/fuzz.sh.
 */
#include "core/buf.h"
#include "http/multipart.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_begin(void *ctx, const struct multipart_part *p, struct err *e)
{
    (void)e;
    struct buf *b = ctx;
    buf_appendf(b, "[%s|%s|%s]", p->name, p->filename ? p->filename : "-", p->content_type);
    return 0;
}

static int on_data(void *ctx, const char *p, size_t n, struct err *e)
{
    (void)e;
    return buf_append(ctx, p, n) ? ERR_TOO_LARGE : 0;
}

static int on_end(void *ctx, struct err *e)
{
    (void)e;
    return buf_appends(ctx, "[/]") ? ERR_TOO_LARGE : 0;
}

static const struct multipart_cb cb = {on_begin, on_data, on_end};

static int parse(const uint8_t *data, size_t size, size_t chunk, struct buf *log)
{
    struct multipart *m = malloc(sizeof(*m));
    if (!m)
        return -1;
    multipart_init(m, "b", &cb, log);
    struct err e;
    err_init(&e);
    int rc = 0;
    for (size_t off = 0; !rc && off < size;) {
        size_t n = chunk && size - off > chunk ? chunk : size - off;
        rc = multipart_feed(m, (const char *)data + off, n, &e);
        off += n;
    }
    if (!rc)
        rc = multipart_finish(m, &e);
    free(m);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (size_t)(data[0] % 17) + 1;
    struct buf whole, pieces;
    buf_init(&whole, 1 << 20);
    buf_init(&pieces, 1 << 20);
    int a = parse(data + 1, size - 1, 0, &whole);
    int b = parse(data + 1, size - 1, chunk, &pieces);
    if (a != b || whole.len != pieces.len ||
        (whole.len && memcmp(whole.data, pieces.data, whole.len) != 0))
        abort();
    buf_release(&whole);
    buf_release(&pieces);
    return 0;
}
