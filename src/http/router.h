/* SPDX-License-Identifier: MIT */
/*
 * Route table types and path matching. Patterns are literal segments and `{name}` parameters
 * ("/api/jobs/{id}/retry"); a parameter matches one non-empty segment. Matching is pure (no
 * I/O), so it is unit-tested in tests/unit/http/test_router.c and fuzzed in fuzz/fuzz_router.c.
 */
#ifndef ICESHOP_HTTP_ROUTER_H
#define ICESHOP_HTTP_ROUTER_H

#include "core/err.h"
#include "domain/account/account.h"

#include <stdbool.h>
#include <stddef.h>

struct http_req;

/* Handlers reply through request.h and return 0, or an error code with `e` filled. */
typedef int http_handler_fn(struct http_req *r, struct err *e);

enum http_route_flags {
    HTTP_BODY_JSON = 1 << 0, /* body must be an application/json object; parsed before the call */
    HTTP_SSE = 1 << 1,       /* streams Server-Sent Events */
    HTTP_BODY_OPTIONAL = 1 << 2, /* with HTTP_BODY_JSON: an empty body is fine (r->json NULL) */
    /*
     * The body is streamed, never gathered: the handler runs before the body is read and takes
     * it with http_req_stream() (request.h), piece by piece as it arrives, up to max_body.
     */
    HTTP_BODY_STREAM = 1 << 3,
};

struct http_route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/api/jobs/{id}" */
    http_handler_fn *handler;
    enum account_role role; /* ROLE_NONE = public */
    size_t max_body;        /* bytes; 0 = no body accepted */
    unsigned flags;
};

#define ROUTER_MAX_PARAMS  8
#define ROUTER_MAX_PATH    2048
#define ROUTER_PARAM_BYTES 256

struct router_params {
    int n;
    const char *names[ROUTER_MAX_PARAMS]; /* borrowed from the route pattern (not terminated) */
    size_t name_lens[ROUTER_MAX_PARAMS];
    char values[ROUTER_MAX_PARAMS][ROUTER_PARAM_BYTES]; /* percent-decoded */
};

enum router_result {
    ROUTER_FOUND = 0,
    ROUTER_NOT_FOUND,          /* no pattern matches the path */
    ROUTER_METHOD_NOT_ALLOWED, /* a pattern matches, not with this method */
    ROUTER_BAD_PATH,           /* too long, bad percent-encoding, NUL, or a parameter too long */
};

/*
 * Find the route for (method, path). `path` excludes the query string. On ROUTER_FOUND,
 * *index is the route's position and `params` holds the decoded parameters. On
 * ROUTER_METHOD_NOT_ALLOWED, `allow` (if not NULL, size `allow_len`) lists allowed methods
 * ("GET, POST"). HEAD is matched as GET.
 */
enum router_result router_match(const struct http_route *routes, size_t n, const char *method,
                                const char *path, struct router_params *params, size_t *index,
                                char *allow, size_t allow_len);

/* Value of parameter `name`, or NULL. */
const char *router_param(const struct router_params *p, const char *name);

#endif
