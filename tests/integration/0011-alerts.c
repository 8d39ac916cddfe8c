/* SPDX-License-Identifier: MIT */
/*
 * Alerts stay with their tenant: the public /health/detailed answer names no tenant's alerts or
 * backlog; with a credential it adds only that tenant's; GET /api/alerts lists only the
 * caller's tenant's alerts and needs an admin. Runs on the backend TEST_BACKEND selects.
 */
#include "support/harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static struct server srv;
#define ADMIN HARNESS_ADMIN_KEY

/* What each tenant's provider said; must never reach anyone else. */
#define ACME_SECRET "acme token rejected for phone +905551110001 account 111"
#define BETA_SECRET "beta token rejected for phone +905552220002 account 222"

static char acme_key[200], beta_key[200], beta_viewer[200];

static void trim(char *s)
{
    s[strcspn(s, "\r\n")] = '\0';
}

static void make_key(const char *tenant, const char *role, char *out, size_t n)
{
    char args[128];
    snprintf(args, sizeof(args), "keys create --tenant %s --role %s", tenant, role);
    assert_int_equal(harness_cli(srv.db_url, args, out, n), 0);
    trim(out);
}

static void insert_alert(const char *tenant, const char *kind, const char *message)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "INSERT INTO alerts (tenant_id, kind, source, code, message, created_at, "
             "last_seen_at) SELECT id, '%s', 'whatsapp', '190', '%s', "
             "'2026-11-21T09:10:00.000Z', '2026-11-21T09:10:00.000Z' FROM tenants "
             "WHERE name = '%s'",
             kind, message, tenant);
    harness_db_exec(srv.db_url, sql);
}

static int setup(void **state)
{
    (void)state;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    if (server_start(&srv, url, NULL))
        return -1;
    char out[256];
    if (harness_cli(srv.db_url, "tenants create acme", out, sizeof(out)) ||
        harness_cli(srv.db_url, "tenants create beta", out, sizeof(out)))
        return -1;
    make_key("acme", "admin", acme_key, sizeof(acme_key));
    make_key("beta", "admin", beta_key, sizeof(beta_key));
    make_key("beta", "viewer", beta_viewer, sizeof(beta_viewer));
    insert_alert("acme", "whatsapp.auth", ACME_SECRET);
    insert_alert("beta", "whatsapp.auth", BETA_SECRET);
    insert_alert("beta", "shop.poll", "beta poller failing");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return server_stop(&srv) == 0 ? 0 : -1;
}

static bool body_has(const struct resp *r, const char *needle)
{
    return r->body && strstr(r->body, needle) != NULL;
}

static void test_public_health_names_no_tenant(void **state)
{
    (void)state;
    struct resp r;
    assert_int_equal(http_get(&srv, "/health/detailed", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_false(body_has(&r, ACME_SECRET));
    assert_false(body_has(&r, BETA_SECRET));
    assert_false(body_has(&r, "whatsapp"));
    assert_null(json_object_get(r.json, "tenant"));
    json_t *checks = json_object_get(r.json, "checks");
    assert_null(json_object_get(checks, "alerts"));
    /* the server's own health is still there */
    assert_true(json_is_true(json_object_get(json_object_get(checks, "database"), "ok")));
    assert_non_null(json_object_get(json_object_get(checks, "scheduler"), "leader"));
    assert_non_null(json_object_get(json_object_get(checks, "jobs"), "pending"));
    resp_free(&r);

    /* a bad credential is refused, not ignored */
    assert_int_equal(http_get(&srv, "/health/detailed", "isk_000000000000_nope", &r), 0);
    assert_int_equal(r.status, 401);
    resp_free(&r);
}

static void test_credential_adds_only_its_tenant(void **state)
{
    (void)state;
    /* a job waiting in beta's queue shows in beta's backlog, not acme's */
    struct resp r;
    assert_int_equal(
        http_post_json(&srv, "/api/jobs", beta_key, "{\"name\":\"test.ok\",\"delay_s\":3600}", &r),
        0);
    assert_int_equal(r.status, 202);
    resp_free(&r);

    assert_int_equal(http_get(&srv, "/health/detailed", acme_key, &r), 0);
    assert_int_equal(r.status, 200);
    assert_true(body_has(&r, ACME_SECRET));
    assert_false(body_has(&r, BETA_SECRET));
    assert_false(body_has(&r, "beta poller"));
    json_t *t = json_object_get(r.json, "tenant");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "alerts"), "open")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "jobs"), "pending")), 0);
    resp_free(&r);

    assert_int_equal(http_get(&srv, "/health/detailed", beta_viewer, &r), 0);
    assert_int_equal(r.status, 200);
    assert_false(body_has(&r, ACME_SECRET));
    t = json_object_get(r.json, "tenant");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "alerts"), "open")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "jobs"), "pending")), 1);
    resp_free(&r);

    /* the default tenant's admin key sees neither */
    assert_int_equal(http_get(&srv, "/health/detailed", ADMIN, &r), 0);
    assert_false(body_has(&r, ACME_SECRET));
    assert_false(body_has(&r, BETA_SECRET));
    t = json_object_get(r.json, "tenant");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "alerts"), "open")), 0);
    assert_true(json_is_null(json_object_get(json_object_get(t, "alerts"), "latest")));
    resp_free(&r);
}

static void test_alerts_list_is_tenant_scoped(void **state)
{
    (void)state;
    struct resp r;
    assert_int_equal(http_get(&srv, "/api/alerts", acme_key, &r), 0);
    assert_int_equal(r.status, 200);
    json_t *alerts = json_object_get(r.json, "alerts");
    assert_int_equal(json_array_size(alerts), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(alerts, 0), "message")),
                        ACME_SECRET);
    assert_false(body_has(&r, BETA_SECRET));
    resp_free(&r);

    assert_int_equal(http_get(&srv, "/api/alerts?limit=1&state=open", beta_key, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "alerts")), 1);
    json_int_t next = json_integer_value(json_object_get(r.json, "next_after"));
    assert_true(next > 0);
    assert_false(body_has(&r, ACME_SECRET));
    resp_free(&r);
    char path[96];
    snprintf(path, sizeof(path), "/api/alerts?limit=1&state=open&after=%lld", (long long)next);
    assert_int_equal(http_get(&srv, path, beta_key, &r), 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "alerts")), 1);
    assert_false(body_has(&r, ACME_SECRET));
    resp_free(&r);

    assert_int_equal(http_get(&srv, "/api/alerts", ADMIN, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "alerts")), 0);
    resp_free(&r);

    /* admins only; bad filters name their field */
    assert_int_equal(http_get(&srv, "/api/alerts", beta_viewer, &r), 0);
    assert_int_equal(r.status, 403);
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/alerts", NULL, &r), 0);
    assert_int_equal(r.status, 401);
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/alerts?state=maybe", beta_key, &r), 0);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "state");
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/alerts?limit=0", beta_key, &r), 0);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "limit");
    resp_free(&r);
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_public_health_names_no_tenant),
        cmocka_unit_test(test_credential_adds_only_its_tenant),
        cmocka_unit_test(test_alerts_list_is_tenant_scoped),
    };
    return cmocka_run_group_tests_name(harness_backend(), tests, setup, teardown);
}
