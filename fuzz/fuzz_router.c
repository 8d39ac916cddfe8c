/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for path matching: router_match over the real route table (src/http/routes.c)
 * with input "METHOD\nPATH" (no newline: GET). Invariants: FOUND means the route's method
 * matches (HEAD as GET), the path has the pattern's shape, and every parameter is non-empty,
 * NUL-terminated and free of '/'. Built and run by scripts/fuzz.sh.
 */
#include "http/router.h"
#include "http/routes.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char method[16] = "GET";
    const uint8_t *nl = memchr(data, '\n', size < sizeof(method) ? size : sizeof(method));
    if (nl) {
        size_t ml = (size_t)(nl - data);
        memcpy(method, data, ml);
        method[ml] = '\0';
        size -= ml + 1;
        data = nl + 1;
    }
    char *path = malloc(size + 1);
    if (!path)
        return 0;
    memcpy(path, data, size);
    path[size] = '\0';

    struct router_params params;
    memset(&params, 0xA5, sizeof(params));
    size_t index = (size_t)-1;
    char allow[64];
    enum router_result r = router_match(http_routes, http_routes_count, method, path, &params,
                                        &index, allow, sizeof(allow));
    switch (r) {
    case ROUTER_FOUND: {
        if (index >= http_routes_count)
            abort();
        const struct http_route *rt = &http_routes[index];
        const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
        if (strcmp(rt->method, want) != 0)
            abort();
        if (path[0] != '/' || strlen(path) > ROUTER_MAX_PATH)
            abort();
        if (count_char(path, '/') != count_char(rt->pattern, '/'))
            abort();
        if (params.n != (int)count_char(rt->pattern, '{') || params.n > ROUTER_MAX_PARAMS)
            abort();
        for (int i = 0; i < params.n; i++) {
            const char *v = params.values[i];
            size_t len = strnlen(v, ROUTER_PARAM_BYTES);
            if (len == 0 || len == ROUTER_PARAM_BYTES || strchr(v, '/'))
                abort();
            if (params.name_lens[i] == 0 || params.names[i] < rt->pattern ||
                params.names[i] >= rt->pattern + strlen(rt->pattern))
                abort();
        }
        for (int i = 0; i < params.n; i++) {
            char name[64];
            if (params.name_lens[i] >= sizeof(name))
                abort();
            memcpy(name, params.names[i], params.name_lens[i]);
            name[params.name_lens[i]] = '\0';
            if (!router_param(&params, name))
                abort();
        }
        break;
    }
    case ROUTER_METHOD_NOT_ALLOWED:
        if (allow[0] == '\0')
            abort();
        break;
    case ROUTER_NOT_FOUND:
    case ROUTER_BAD_PATH:
        break;
    default:
        abort();
    }
    free(path);
    return 0;
}
