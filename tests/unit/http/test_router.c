/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/http/router.h against a local route table (literals, parameters, several
 * methods on one path), and sanity checks on the real table in src/http/routes.h: patterns,
 * duplicates, body limits and roles.
 */
#include "http/router.h"
#include "http/routes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct http_route routes[] = {
    {"GET", "/health", NULL, ROLE_NONE, 0, 0},                          /* 0 */
    {"GET", "/api/items", NULL, ROLE_VIEWER, 0, 0},                     /* 1 */
    {"POST", "/api/items", NULL, ROLE_ADMIN, 1024, HTTP_BODY_JSON},     /* 2 */
    {"GET", "/api/items/{id}", NULL, ROLE_VIEWER, 0, 0},                /* 3 */
    {"PUT", "/api/items/{id}", NULL, ROLE_ADMIN, 1024, HTTP_BODY_JSON}, /* 4 */
    {"DELETE", "/api/items/{id}", NULL, ROLE_ADMIN, 0, 0},              /* 5 */
    {"POST", "/api/items/{id}/retry", NULL, ROLE_OPERATOR, 0, 0},       /* 6 */
    {"GET", "/api/shops/{shop}/items/{item}", NULL, ROLE_VIEWER, 0, 0}, /* 7 */
    {"GET", "/api/items/special", NULL, ROLE_VIEWER, 0, 0},             /* 8: literal, beats 3 */
    {"POST", "/api/only-post", NULL, ROLE_VIEWER, 0, 0},                /* 9 */
    {"POST", "/api/items/import", NULL, ROLE_ADMIN, 0, 0},              /* 10: named literally */
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

static void test_match(void **state)
{
    (void)state;
    static char long_param[ROUTER_PARAM_BYTES + 16];
    static char max_param[ROUTER_PARAM_BYTES + 16];
    static char long_path[ROUTER_MAX_PATH + 16];
    static char max_path[ROUTER_MAX_PATH + 16];
    /* "/api/items/" + 256 'x': one byte more than a parameter holds (with its NUL). */
    snprintf(long_param, sizeof(long_param), "/api/items/%0*d", ROUTER_PARAM_BYTES, 0);
    snprintf(max_param, sizeof(max_param), "/api/items/%0*d", ROUTER_PARAM_BYTES - 1, 0);
    memset(long_path, 'a', ROUTER_MAX_PATH + 1);
    long_path[0] = '/';
    long_path[ROUTER_MAX_PATH + 1] = '\0';
    memset(max_path, 'a', ROUTER_MAX_PATH);
    max_path[0] = '/';
    max_path[ROUTER_MAX_PATH] = '\0';

    struct {
        const char *method, *path;
        enum router_result want;
        size_t index;                  /* on FOUND */
        const char *allow;             /* on METHOD_NOT_ALLOWED */
        const char *p1, *v1, *p2, *v2; /* expected params on FOUND */
    } cases[] = {
        {"GET", "/health", ROUTER_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"HEAD", "/health", ROUTER_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/items", ROUTER_FOUND, 1, NULL, NULL, NULL, NULL, NULL},
        {"POST", "/api/items", ROUTER_FOUND, 2, NULL, NULL, NULL, NULL, NULL},
        {"HEAD", "/api/items", ROUTER_FOUND, 1, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/items/42", ROUTER_FOUND, 3, NULL, "id", "42", NULL, NULL},
        {"PUT", "/api/items/42", ROUTER_FOUND, 4, NULL, "id", "42", NULL, NULL},
        {"DELETE", "/api/items/a%20b", ROUTER_FOUND, 5, NULL, "id", "a b", NULL, NULL},
        {"GET", "/api/items/m%C3%BCller", ROUTER_FOUND, 3, NULL, "id", "m\xc3\xbcller", NULL, NULL},
        {"GET", "/api/items/%7e%7E", ROUTER_FOUND, 3, NULL, "id", "~~", NULL, NULL},
        {"GET", "/api/items/a+b", ROUTER_FOUND, 3, NULL, "id", "a+b", NULL, NULL},
        /* a path a route names literally is that route's, wherever it stands in the table */
        {"GET", "/api/items/special", ROUTER_FOUND, 8, NULL, NULL, NULL, NULL, NULL},
        /* ...so another method on it is a 405, not GET /api/items/{id} with id "import" */
        {"GET", "/api/items/import", ROUTER_METHOD_NOT_ALLOWED, 0, "POST", NULL, NULL, NULL, NULL},
        {"POST", "/api/items/import", ROUTER_FOUND, 10, NULL, NULL, NULL, NULL, NULL},
        {"POST", "/api/items/7/retry", ROUTER_FOUND, 6, NULL, "id", "7", NULL, NULL},
        {"GET", "/api/shops/s1/items/i%2d2", ROUTER_FOUND, 7, NULL, "shop", "s1", "item", "i-2"},
        {"GET", max_param, ROUTER_FOUND, 3, NULL, NULL, NULL, NULL, NULL},
        /* a literal's prefix or extension is another segment: here a parameter's value */
        {"GET", "/api/items/specialx", ROUTER_FOUND, 3, NULL, "id", "specialx", NULL, NULL},
        {"GET", "/api/items/specia", ROUTER_FOUND, 3, NULL, "id", "specia", NULL, NULL},
        /* not found */
        {"GET", "/", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/nope", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/healthz", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/healt", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/item", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/itemsx/1", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"POST", "/api/items/7/retr", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"POST", "/api/items/7/retryx", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/health/", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/items/", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/items/42/", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api//items", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/items//retry", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"POST", "/api/items//retry", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/shops//items/x", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/API/items", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/items/1/2", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "//health", ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", max_path, ROUTER_NOT_FOUND, 0, NULL, NULL, NULL, NULL, NULL},
        /* method not allowed, with the exact Allow list in table order */
        {"DELETE", "/api/items", ROUTER_METHOD_NOT_ALLOWED, 0, "GET, POST", NULL, NULL, NULL, NULL},
        {"POST", "/health", ROUTER_METHOD_NOT_ALLOWED, 0, "GET", NULL, NULL, NULL, NULL},
        {"POST", "/api/items/9", ROUTER_METHOD_NOT_ALLOWED, 0, "GET, PUT, DELETE", NULL, NULL, NULL,
         NULL},
        {"GET", "/api/items/9/retry", ROUTER_METHOD_NOT_ALLOWED, 0, "POST", NULL, NULL, NULL, NULL},
        {"HEAD", "/api/only-post", ROUTER_METHOD_NOT_ALLOWED, 0, "POST", NULL, NULL, NULL, NULL},
        {"get", "/health", ROUTER_METHOD_NOT_ALLOWED, 0, "GET", NULL, NULL, NULL, NULL},
        /* bad paths */
        {"GET", "", ROUTER_BAD_PATH, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "health", ROUTER_BAD_PATH, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "*", ROUTER_BAD_PATH, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", long_path, ROUTER_BAD_PATH, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/items/%zz", ROUTER_BAD_PATH, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/items/%2", ROUTER_BAD_PATH, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/items/abc%", ROUTER_BAD_PATH, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/items/%00", ROUTER_BAD_PATH, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/items/a%00b", ROUTER_BAD_PATH, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/items/a%2Fb", ROUTER_BAD_PATH, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/api/items/a%2fb", ROUTER_BAD_PATH, 0, NULL, NULL, NULL, NULL, NULL},
        {"POST", "/api/items/%zz/retry", ROUTER_BAD_PATH, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", long_param, ROUTER_BAD_PATH, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/health%zz", ROUTER_BAD_PATH, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/nope/%00", ROUTER_BAD_PATH, 0, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/nope/%", ROUTER_BAD_PATH, 0, NULL, NULL, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct router_params params;
        memset(&params, 0x5a, sizeof(params));
        size_t index = 999;
        char allow[64] = "junk";
        enum router_result r = router_match(routes, N_ROUTES, cases[i].method, cases[i].path,
                                            &params, &index, allow, sizeof(allow));
        if (r != cases[i].want)
            fail_msg("case %zu %s %.60s: result %d, want %d", i, cases[i].method, cases[i].path, r,
                     cases[i].want);
        if (r == ROUTER_FOUND) {
            assert_int_equal(index, cases[i].index);
            int n = (cases[i].p1 ? 1 : 0) + (cases[i].p2 ? 1 : 0);
            if (cases[i].p1 || strchr(routes[index].pattern, '{') == NULL)
                assert_int_equal(params.n, n);
            if (cases[i].p1)
                assert_string_equal(router_param(&params, cases[i].p1), cases[i].v1);
            if (cases[i].p2)
                assert_string_equal(router_param(&params, cases[i].p2), cases[i].v2);
        } else if (r == ROUTER_METHOD_NOT_ALLOWED) {
            assert_string_equal(allow, cases[i].allow);
        }
    }
}

static void test_params(void **state)
{
    (void)state;
    struct router_params params;
    size_t index;
    assert_int_equal(router_match(routes, N_ROUTES, "GET", "/api/shops/north/items/ice%20cream",
                                  &params, &index, NULL, 0),
                     ROUTER_FOUND);
    assert_int_equal(params.n, 2);
    assert_string_equal(router_param(&params, "shop"), "north");
    assert_string_equal(router_param(&params, "item"), "ice cream");
    assert_null(router_param(&params, "id"));
    assert_null(router_param(&params, "sho"));
    assert_null(router_param(&params, "shopx"));
    assert_null(router_param(&params, ""));
    assert_int_equal(params.name_lens[0], 4);
    assert_memory_equal(params.names[0], "shop", 4);

    /* The longest parameter that fits is kept whole. */
    char path[ROUTER_PARAM_BYTES + 32];
    char want[ROUTER_PARAM_BYTES];
    memset(want, 'p', sizeof(want) - 1);
    want[sizeof(want) - 1] = '\0';
    snprintf(path, sizeof(path), "/api/items/%s", want);
    assert_int_equal(router_match(routes, N_ROUTES, "GET", path, &params, &index, NULL, 0),
                     ROUTER_FOUND);
    assert_string_equal(router_param(&params, "id"), want);
    /* Percent-encoded bytes count decoded: 255 × "%41" fits. */
    char enc[3 * ROUTER_PARAM_BYTES + 32] = "/api/items/";
    size_t used = strlen(enc);
    for (int i = 0; i < ROUTER_PARAM_BYTES - 1; i++, used += 3)
        memcpy(enc + used, "%41", 4);
    assert_int_equal(router_match(routes, N_ROUTES, "GET", enc, &params, &index, NULL, 0),
                     ROUTER_FOUND);
    assert_int_equal(strlen(router_param(&params, "id")), ROUTER_PARAM_BYTES - 1);

    /* No params after a failed match; a tiny Allow buffer is cut, not overflowed. */
    assert_int_equal(router_match(routes, N_ROUTES, "GET", "/nope", &params, &index, NULL, 0),
                     ROUTER_NOT_FOUND);
    assert_int_equal(params.n, 0);
    char allow[6];
    assert_int_equal(router_match(routes, N_ROUTES, "PATCH", "/api/items/1", &params, &index, allow,
                                  sizeof(allow)),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_int_equal(params.n, 0);
    assert_true(strlen(allow) < sizeof(allow));
    assert_int_equal(strncmp(allow, "GET, ", strlen(allow)), 0);
}

/* ======================== the real table ======================== */

static void test_real_routes(void **state)
{
    (void)state;
    assert_true(http_routes_count > 0);
    for (size_t i = 0; i < http_routes_count; i++) {
        const struct http_route *r = &http_routes[i];
        assert_non_null(r->method);
        assert_non_null(r->pattern);
        assert_non_null(r->handler);
        if (r->pattern[0] != '/')
            fail_msg("route %s %s: pattern must start with '/'", r->method, r->pattern);
        if (strlen(r->pattern) > 1 && r->pattern[strlen(r->pattern) - 1] == '/')
            fail_msg("route %s %s: trailing '/' never matches", r->method, r->pattern);
        if (strstr(r->pattern, "//"))
            fail_msg("route %s %s: empty segment", r->method, r->pattern);
        static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
        bool known = false;
        for (int m = 0; methods[m]; m++)
            known |= strcmp(methods[m], r->method) == 0;
        if (!known)
            fail_msg("route %s %s: unknown method", r->method, r->pattern);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(http_routes[j].method, r->method) == 0 &&
                strcmp(http_routes[j].pattern, r->pattern) == 0)
                fail_msg("route %s %s appears twice", r->method, r->pattern);
        }
        if ((r->flags & HTTP_BODY_JSON) && r->max_body == 0)
            fail_msg("route %s %s: JSON body with max_body 0", r->method, r->pattern);
        /* a streamed body (uploads) is never collected, so only its route's limit bounds it */
        if (!(r->flags & HTTP_BODY_STREAM) && r->max_body > 8u * 1024 * 1024)
            fail_msg("route %s %s: max_body above BUF_MAX_REQ_BODY", r->method, r->pattern);
        if ((r->flags & HTTP_BODY_STREAM) && (r->max_body == 0 || (r->flags & HTTP_BODY_JSON)))
            fail_msg("route %s %s: a streamed body needs a limit and no JSON", r->method,
                     r->pattern);
        /* public API routes are few and known: login, and webhooks that check signatures */
        bool public_ok = strcmp(r->pattern, "/api/auth/login") == 0 ||
                         strcmp(r->pattern, "/api/whatsapp/webhook") == 0 ||
                         strncmp(r->pattern, "/api/webhooks/", 14) == 0 ||
                         strncmp(r->pattern, "/api/public/", 12) == 0 ||
                         strncmp(r->pattern, "/api/files/uploads/", 19) == 0 ||
                         strncmp(r->pattern, "/api/", 5) != 0;
        if (!public_ok && r->role <= ROLE_NONE)
            fail_msg("route %s %s: API route without a role", r->method, r->pattern);
        assert_true(r->role >= ROLE_NONE && r->role <= ROLE_ADMIN);

        /* Every route is reachable: a path built from its pattern routes back to it. */
        char path[256];
        size_t o = 0;
        for (const char *p = r->pattern; *p && o + 2 < sizeof(path);) {
            if (*p == '{') {
                path[o++] = '7';
                p = strchr(p, '}') + 1;
            } else {
                path[o++] = *p++;
            }
        }
        path[o] = '\0';
        struct router_params params;
        size_t index = 999;
        assert_int_equal(
            router_match(http_routes, http_routes_count, r->method, path, &params, &index, NULL, 0),
            ROUTER_FOUND);
        if (index != i)
            fail_msg("route %s %s is shadowed by %s %s", r->method, r->pattern,
                     http_routes[index].method, http_routes[index].pattern);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_real_routes),
    };
    return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
