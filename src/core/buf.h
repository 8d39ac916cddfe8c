/* SPDX-License-Identifier: MIT */
/*
 * Growable byte buffer with a hard maximum. Appends past `max` fail with ERR_TOO_LARGE and
 * leave the buffer unchanged; the contents are always NUL-terminated. Heap-owned: release with
 * buf_release(). Tests: tests/unit/core/test_core.c.
 */
#ifndef ICESHOP_CORE_BUF_H
#define ICESHOP_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>

/* Named maxima for every growable buffer in the server. */
#define BUF_MAX_REQ_BODY (8u * 1024 * 1024)  /* hard ceiling; routes set lower limits */
#define BUF_MAX_RESPONSE (32u * 1024 * 1024) /* outbound HTTP response bodies */
#define BUF_MAX_WEBHOOK  (1u * 1024 * 1024)  /* inbound webhook bodies */
#define BUF_MAX_METRICS  (4u * 1024 * 1024)  /* /metrics exposition */

struct buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t cap;
    size_t max;
};

/* An empty buffer that never grows beyond `max` bytes of content. */
void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
/* Empty the buffer, keeping its memory. */
void buf_reset(struct buf *b);
/* Returns 0, or ERR_TOO_LARGE when the result would exceed the maximum. */
int buf_append(struct buf *b, const void *p, size_t len);
int buf_appends(struct buf *b, const char *s);
int buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes the contents; caller frees with free(). The buffer is left empty. */
char *buf_detach(struct buf *b, size_t *len);
/* The contents as a string, "" when empty. Borrowed until the next append. */
const char *buf_str(const struct buf *b);

#endif
