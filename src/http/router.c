/* SPDX-License-Identifier: MIT */
/* Path matching for the route table (see router.h). */
#include "http/router.h"
#include "core/str.h"

#include <stdio.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Percent-decode one segment into out; false on bad encoding, NUL, '/', overflow, or a result
 * that is not UTF-8 (ids and names are text, and error messages quote them).
 */
static bool decode_segment(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len)
                return false;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0)
                return false;
            c = (char)(h * 16 + l);
            if (c == '\0' || c == '/')
                return false;
            i += 2;
        }
        if (o + 1 >= cap)
            return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return str_utf8_valid(out, o);
}

/*
 * Match one pattern; true when the path fits it, filling params. One pass over both strings: a
 * literal segment is compared as it is walked, so most patterns fail at their first differing
 * byte (the table is tried in order for every request).
 */
static bool match_pattern(const char *pattern, const char *path, struct router_params *params,
                          bool *bad)
{
    const char *p = pattern, *s = path;
    params->n = 0;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return false;
        p++;
        s++;
        if (*p == '{') {
            const char *pe = p;
            while (*pe && *pe != '/')
                pe++;
            size_t pl = (size_t)(pe - p);
            if (pl >= 2 && pe[-1] == '}') {
                const char *se = s;
                while (*se && *se != '/')
                    se++;
                size_t sl = (size_t)(se - s);
                if (sl == 0 || params->n >= ROUTER_MAX_PARAMS)
                    return false;
                int i = params->n;
                if (!decode_segment(s, sl, params->values[i], ROUTER_PARAM_BYTES)) {
                    *bad = true;
                    return false;
                }
                params->names[i] = p + 1;
                params->name_lens[i] = pl - 2;
                params->n++;
                p = pe;
                s = se;
                continue;
            }
        }
        /* a literal segment: the same bytes, ending where the path's segment ends */
        for (; *p && *p != '/'; p++, s++) {
            if (*s != *p)
                return false;
        }
        if (*s && *s != '/')
            return false;
    }
    return *p == '\0' && *s == '\0';
}

/* Every "%XX" in the path is valid and not %00, whether or not a parameter covers it. */
static bool path_encoding_ok(const char *path)
{
    for (const char *p = strchr(path, '%'); p; p = strchr(p + 1, '%')) {
        int h = hexval(p[1]), l = h < 0 ? -1 : hexval(p[2]);
        if (h < 0 || l < 0 || h * 16 + l == 0)
            return false;
    }
    return true;
}

enum router_result router_match(const struct http_route *routes, size_t n, const char *method,
                                const char *path, struct router_params *params, size_t *index,
                                char *allow, size_t allow_len)
{
    if (!path || path[0] != '/' || strlen(path) > ROUTER_MAX_PATH || !path_encoding_ok(path))
        return ROUTER_BAD_PATH;
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
    bool path_known = false;
    size_t allow_used = 0;
    if (allow && allow_len)
        allow[0] = '\0';
    /*
     * A path that a route names literally belongs to it: "GET /api/campaigns/scan" is a wrong
     * method for POST /api/campaigns/scan (405), not a campaign called "scan" of GET
     * /api/campaigns/{id}. So a route with parameters answers only when no literal route of
     * another method names the path.
     */
    size_t found = n;
    bool other_literal = false;
    char lit[128] = "";
    size_t lit_used = 0;
    for (size_t i = 0; i < n; i++) {
        bool bad = false;
        if (!match_pattern(routes[i].pattern, path, params, &bad)) {
            if (bad)
                return ROUTER_BAD_PATH;
            continue;
        }
        bool literal = strchr(routes[i].pattern, '{') == NULL;
        if (strcmp(routes[i].method, m) == 0) {
            if (literal) {
                *index = i;
                return ROUTER_FOUND;
            }
            if (found == n)
                found = i;
            continue;
        }
        path_known = true;
        other_literal = other_literal || literal;
        if (allow && allow_used < allow_len) {
            int w = snprintf(allow + allow_used, allow_len - allow_used, "%s%s",
                             allow_used ? ", " : "", routes[i].method);
            if (w > 0)
                allow_used += (size_t)w;
        }
        if (literal && lit_used < sizeof(lit)) {
            int w = snprintf(lit + lit_used, sizeof(lit) - lit_used, "%s%s", lit_used ? ", " : "",
                             routes[i].method);
            if (w > 0)
                lit_used += (size_t)w;
        }
    }
    if (found < n && !other_literal) {
        bool bad = false;
        params->n = 0;
        (void)match_pattern(routes[found].pattern, path, params, &bad);
        *index = found;
        return ROUTER_FOUND;
    }
    params->n = 0;
    if (other_literal && allow && allow_len) /* the methods of the routes that name the path */
        snprintf(allow, allow_len, "%s", lit);
    return path_known ? ROUTER_METHOD_NOT_ALLOWED : ROUTER_NOT_FOUND;
}

const char *router_param(const struct router_params *p, const char *name)
{
    size_t len = strlen(name);
    for (int i = 0; i < p->n; i++) {
        if (p->name_lens[i] == len && memcmp(p->names[i], name, len) == 0)
            return p->values[i];
    }
    return NULL;
}
