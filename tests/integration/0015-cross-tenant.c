/* SPDX-License-Identifier: MIT */
/*
 * Cross-tenant isolation generated from the route table (src/http/routes.c): tenant A's data
 * carries a marker; tenant B's admin key then calls every authenticated route, with every one
 * of A's ids in each {id}. No answer to B may be a 2xx for A's ids or show A's marker. A new
 * route is covered the day it is added. Runs on the backend TEST_BACKEND selects.
 */
#include "support/harness.h"

#include "http/routes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#define ADMIN  HARNESS_ADMIN_KEY
#define MARKER "xtenanta"

static struct server srv;
static char other_key[200];

static int setup(void **state)
{
    (void)state;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    return server_start(&srv, url, NULL);
}

static int teardown(void **state)
{
    (void)state;
    return server_stop(&srv) == 0 ? 0 : -1;
}

static json_t *call(const char *method, const char *path, const char *key, const char *body,
                    long want)
{
    struct resp r;
    assert_int_equal(http_req(&srv, method, path, key, body ? "application/json" : NULL, body,
                              body ? strlen(body) : 0, NULL, &r),
                     0);
    if (r.status != want)
        fail_msg("%s %s -> %ld (want %ld): %s", method, path, r.status, want, r.body);
    json_t *j = json_incref(r.json);
    resp_free(&r);
    return j;
}

static long long id_of(json_t *j)
{
    long long id = (long long)json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    assert_true(id > 0);
    return id;
}

static bool has_marker(const char *body)
{
    return body && strcasestr(body, MARKER) != NULL;
}

/* `pattern` with every {param} replaced by `value`. */
static void fill(char *out, size_t n, const char *pattern, const char *value)
{
    size_t o = 0;
    for (const char *p = pattern; *p && o + 1 < n;) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            assert_non_null(end);
            int w = snprintf(out + o, n - o, "%s", value);
            o += (size_t)w < n - o ? (size_t)w : n - o - 1;
            p = end + 1;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

static void test_every_route_with_other_tenants_ids(void **state)
{
    (void)state;
    /* Tenant B and its admin key. */
    char out[400];
    assert_int_equal(harness_cli(srv.db_url, "tenants create other", out, sizeof(out)), 0);
    assert_int_equal(harness_cli(srv.db_url, "keys create --tenant other --role admin --name b",
                                 other_key, sizeof(other_key)),
                     0);
    other_key[strcspn(other_key, " \r\n")] = '\0';
    json_t *me = call("GET", "/api/me", other_key, NULL, 200);
    char own_key_id[32];
    snprintf(own_key_id, sizeof(own_key_id), "%lld",
             (long long)json_integer_value(json_object_get(me, "key_id")));
    json_decref(me);

    /* Tenant A's data, each carrying the marker. */
    char ids[8][32];
    int n_ids = 0;
    snprintf(ids[n_ids++], 32, "%lld",
             id_of(call("POST", "/api/jobs", ADMIN,
                        "{\"name\":\"test.ok\",\"payload\":{\"note\":\"" MARKER "\"}}", 202)));
    snprintf(
        ids[n_ids++], 32, "%lld",
        id_of(call("POST", "/api/webhook-endpoints", ADMIN,
                   "{\"url\":\"http://127.0.0.1:9/" MARKER "\",\"events\":[\"window.created\"]}",
                   201)));
    snprintf(ids[n_ids++], 32, "%lld",
             id_of(call("POST", "/api/keys", ADMIN, "{\"name\":\"" MARKER "\",\"role\":\"viewer\"}",
                        201)));
    json_decref(call("POST", "/api/users", ADMIN,
                     "{\"email\":\"" MARKER "@example.com\",\"password\":\"a long password 1\","
                     "\"role\":\"viewer\"}",
                     201));
    json_decref(
        call("POST", "/api/sellers/register", ADMIN,
             "{\"id\":\"SX1\",\"phone_number\":\"+905320000991\",\"name\":\"" MARKER
             " shop\",\"category\":\"coffee\",\"location\":{\"lat\":40.9875,\"lng\":29.0260}"
             ",\"max_discount\":25,\"capacity\":5,\"auto_approve\":true}",
             201));
    json_decref(call("POST", "/api/buyers/register", ADMIN,
                     "{\"id\":\"BX1\",\"phone_number\":\"+905330000991\",\"name\":\"" MARKER
                     " buyer\",\"location\":{\"lat\":40.9876,\"lng\":29.0261}}",
                     201));
    snprintf(ids[n_ids++], 32, "%lld",
             id_of(call("POST", "/api/flash-windows/create", ADMIN,
                        "{\"seller_id\":\"SX1\",\"discount_percent\":10,\"title\":\"" MARKER
                        " window\"}",
                        201)));
    snprintf(ids[n_ids++], 32, "SX1");
    snprintf(ids[n_ids++], 32, "BX1");

    /* Control: A sees its marker, so B not seeing it means something. */
    static const char *const lists[] = {"/api/jobs",  "/api/webhook-endpoints", "/api/keys",
                                        "/api/users", "/api/sellers",           "/api/buyers"};
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        struct resp r;
        assert_int_equal(http_get(&srv, lists[i], ADMIN, &r), 0);
        if (r.status != 200 || !has_marker(r.body))
            fail_msg("control: A's %s lacks its own marker (%ld)", lists[i], r.status);
        resp_free(&r);
    }

    int calls = 0;
    for (size_t i = 0; i < http_routes_count; i++) {
        const struct http_route *rt = &http_routes[i];
        if (rt->role == ROLE_NONE || strstr(rt->pattern, "{provider}"))
            continue; /* public (tokens, assets, signed webhooks) or the tenant's own settings */
        if (strcmp(rt->pattern, "/api/events") == 0)
            continue; /* an endless event stream: its tenant filter is tested in 0001 */
        bool param = strchr(rt->pattern, '{') != NULL;
        const char *body = rt->max_body ? "{}" : NULL;
        for (int k = 0; k < (param ? n_ids : 1); k++) {
            if (param && strstr(rt->pattern, "/api/keys/") && strcmp(ids[k], own_key_id) == 0)
                continue; /* B's own key, which B may revoke */
            char path[512];
            fill(path, sizeof(path), rt->pattern, param ? ids[k] : "");
            struct resp r;
            if (http_req(&srv, rt->method, path, other_key, body ? "application/json" : NULL, body,
                         body ? strlen(body) : 0, NULL, &r) != 0)
                fail_msg("%s %s as tenant B: no answer", rt->method, path);
            calls++;
            if (has_marker(r.body))
                fail_msg("%s %s as tenant B shows tenant A's data: %.300s", rt->method, path,
                         r.body);
            if (param && r.status >= 200 && r.status < 300)
                fail_msg("%s %s as tenant B answered %ld for tenant A's id: %.300s", rt->method,
                         path, r.status, r.body);
            if (r.status >= 500)
                fail_msg("%s %s as tenant B: %ld %.300s", rt->method, path, r.status, r.body);
            resp_free(&r);
        }
    }
    print_message("%d calls as tenant B\n", calls);
    assert_true(calls > 40);
    json_decref(call("GET", "/api/me", other_key, NULL, 200)); /* B was itself throughout */
    /* and A's data is all still there, untouched by B's calls */
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        struct resp r;
        assert_int_equal(http_get(&srv, lists[i], ADMIN, &r), 0);
        assert_true(has_marker(r.body));
        resp_free(&r);
    }
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_route_with_other_tenants_ids),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
