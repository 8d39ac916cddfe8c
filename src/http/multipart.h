/* SPDX-License-Identifier: MIT */
/*
 * A streaming multipart/form-data parser (RFC 7578 over RFC 2046): fed the body chunk by chunk
 * as it arrives, it calls back at each part's start (with its name, filename and type), with
 * the part's bytes as they come, and at its end, so a file part is never held in memory. Pure:
 * no I/O; a boundary split across chunks is handled. Bounded: part headers at most
 * MULTIPART_MAX_HEADERS bytes, at most MULTIPART_MAX_PARTS parts.
 * Tests: tests/unit/http/test_multipart.c (hostile bodies fed in every chunking).
 */
#ifndef ICESHOP_HTTP_MULTIPART_H
#define ICESHOP_HTTP_MULTIPART_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

#define MULTIPART_MAX_BOUNDARY 70 /* RFC 2046 */
#define MULTIPART_MAX_HEADERS  4096
#define MULTIPART_MAX_PARTS    8
#define MULTIPART_MAX_FIELD    256 /* bytes of a name, filename or content type kept */

/* What a part's headers said; borrowed for the duration of the part_begin call. */
struct multipart_part {
    const char *name;         /* Content-Disposition name; "" when absent */
    const char *filename;     /* NULL when the part is not a file */
    const char *content_type; /* "" when absent (text/plain by default) */
};

/* Callbacks return 0 to go on, or an error code with `e` filled, which stops the parse. */
struct multipart_cb {
    int (*part_begin)(void *ctx, const struct multipart_part *part, struct err *e);
    int (*part_data)(void *ctx, const char *p, size_t n, struct err *e);
    int (*part_end)(void *ctx, struct err *e);
};

enum multipart_state { MP_PREAMBLE, MP_AFTER_BOUNDARY, MP_HEADERS, MP_DATA, MP_END, MP_FAILED };

struct multipart {
    char delim[MULTIPART_MAX_BOUNDARY + 5]; /* "\r\n--" + boundary */
    size_t dlen;
    size_t matched; /* bytes of delim matched so far */
    enum multipart_state state;
    char tail; /* first byte seen after a boundary */
    char headers[MULTIPART_MAX_HEADERS + 1];
    size_t hlen;
    int parts;
    const struct multipart_cb *cb;
    void *ctx;
};

/*
 * The boundary of a Content-Type header value. Returns 0 with the boundary in `out`;
 * ERR_UNSUPPORTED when the type is not multipart/form-data; ERR_INVALID (field "Content-Type")
 * when the boundary is missing, empty, too long or has characters RFC 2046 does not allow.
 */
int multipart_boundary(const char *content_type, char out[MULTIPART_MAX_BOUNDARY + 1],
                       struct err *e);

/* Start a parse; `boundary` as multipart_boundary gave it; cb and ctx borrowed. */
void multipart_init(struct multipart *m, const char *boundary, const struct multipart_cb *cb,
                    void *ctx);
/*
 * Feed the next (p, n) bytes of the body. Returns 0; ERR_INVALID for a malformed body (which
 * check failed is in the message) or a callback's error. After an error, further feeds fail.
 */
int multipart_feed(struct multipart *m, const char *p, size_t n, struct err *e);
/* The body ended: ERR_INVALID unless the closing boundary was seen. */
int multipart_finish(struct multipart *m, struct err *e);

#endif
