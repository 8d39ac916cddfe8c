/* SPDX-License-Identifier: MIT */
/*
 * gzip (RFC 1952) through zlib, and whether a request's Accept-Encoding allows it (RFC 9110
 * §12.5.3). Pure: no I/O, no clock. Tests: tests/unit/core/test_gzip.c (round trips through
 * zlib's inflate, the header's grammar: q-values, q=0 refusals, "*", "x-gzip", case).
 */
#ifndef ICESHOP_CORE_GZIP_H
#define ICESHOP_CORE_GZIP_H

#include "core/buf.h"
#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * Append the gzip member of `len` bytes at `in` to `out` (zlib's default level). ERR_TOO_LARGE
 * when `out` would pass its limit, ERR_INTERNAL naming zlib's message otherwise.
 */
int gzip_compress(const void *in, size_t len, struct buf *out, struct err *e);

/*
 * Whether an Accept-Encoding value (NULL when the header is absent) accepts gzip: "gzip" or
 * "x-gzip" with a q-value above 0, or else "*" with a q-value above 0. Absent or empty: no (an
 * absent header allows any coding, but identity is what a client that sent nothing expects).
 */
bool gzip_accepted(const char *accept_encoding);

#endif
