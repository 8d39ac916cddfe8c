/* SPDX-License-Identifier: MIT */
/*
 * The inbound webhook header list (see wh_headers.h): fixed capacity, borrowed strings,
 * case-insensitive lookup. Tests: tests/unit/integrations/test_verify.c.
 */
#include "integrations/wh_headers.h"

#include <strings.h>

void wh_headers_init(struct wh_headers *h)
{
    h->n = 0;
}

int wh_headers_add(struct wh_headers *h, const char *name, const char *value, struct err *e)
{
    if (h->n >= WH_HEADERS_MAX)
        return err_set(e, ERR_TOO_LARGE, "more than %d webhook headers", WH_HEADERS_MAX);
    h->items[h->n].name = name;
    h->items[h->n].value = value;
    h->n++;
    return 0;
}

const char *wh_headers_get(const struct wh_headers *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcasecmp(h->items[i].name, name) == 0)
            return h->items[i].value;
    }
    return NULL;
}

size_t wh_headers_count(const struct wh_headers *h, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (strcasecmp(h->items[i].name, name) == 0)
            n++;
    }
    return n;
}

int wh_headers_collect(struct wh_headers *h, const char *const *names, wh_header_lookup_fn *lookup,
                       void *ctx, struct err *e)
{
    for (size_t i = 0; names[i]; i++) {
        const char *v = lookup(ctx, names[i]);
        if (!v)
            continue;
        int rc = wh_headers_add(h, names[i], v, e);
        if (rc)
            return rc;
    }
    return 0;
}
