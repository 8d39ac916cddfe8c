/* SPDX-License-Identifier: MIT */
/*
 * The headers of one inbound webhook as the verifiers see them: a small list of (name, value)
 * pairs, looked up case-insensitively, that the HTTP layer fills from a request (or a test, a
 * fuzzer, a replayed ledger row fills by hand). Nothing here allocates or copies.
 * Tests: tests/unit/integrations/test_verify.c.
 */
#ifndef ICESHOP_INTEGRATIONS_WH_HEADERS_H
#define ICESHOP_INTEGRATIONS_WH_HEADERS_H

#include "core/err.h"

#include <stddef.h>

/* No provider reads more than a handful of headers; this bounds what a caller may pass. */
#define WH_HEADERS_MAX 16

struct wh_header {
    const char *name;
    const char *value;
};

/*
 * Borrowed pointers only: every name and value must outlive the list (for a request, they are
 * the request's own strings, valid until it ends). One list belongs to one thread.
 */
struct wh_headers {
    struct wh_header items[WH_HEADERS_MAX];
    size_t n;
};

/* An empty list. */
void wh_headers_init(struct wh_headers *h);

/*
 * Append (name, value), both borrowed and non-NULL. A name may be added more than once (a
 * request may repeat a header); verifiers refuse a repeated signature header.
 * Returns 0, or ERR_TOO_LARGE when the list already holds WH_HEADERS_MAX entries.
 */
int wh_headers_add(struct wh_headers *h, const char *name, const char *value, struct err *e);

/* Value of the first header called `name` (ASCII case-insensitive), or NULL when absent. */
const char *wh_headers_get(const struct wh_headers *h, const char *name);

/* How many headers are called `name` (ASCII case-insensitive). */
size_t wh_headers_count(const struct wh_headers *h, const char *name);

/* Where wh_headers_collect() reads a header: the value or NULL when absent. */
typedef const char *wh_header_lookup_fn(void *ctx, const char *name);

/*
 * Add each of `names` (NULL-terminated) that `lookup` finds, under the name as written in
 * `names`. This is how the HTTP layer copies just the headers a provider reads (see
 * integrations_provider.headers). Returns 0, or ERR_TOO_LARGE as wh_headers_add().
 */
int wh_headers_collect(struct wh_headers *h, const char *const *names, wh_header_lookup_fn *lookup,
                       void *ctx, struct err *e);

#endif
