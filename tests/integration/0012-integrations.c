/* SPDX-License-Identifier: MIT */
/*
 * Provider settings over real HTTP and the real CLI: an admin sets a tenant's WhatsApp
 * settings, secrets are never returned and never stored in plaintext, unknown providers and
 * fields get a 4xx naming them, roles and tenants are enforced, a route value (the phone number
 * id) belongs to one tenant. Runs on the backend TEST_BACKEND selects.
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

static void key_for(const char *tenant, const char *role, char *out, size_t n)
{
    char args[160];
    snprintf(args, sizeof(args), "keys create --tenant %s --role %s", tenant, role);
    assert_int_equal(harness_cli(srv.db_url, args, out, n), 0);
    out[strcspn(out, "\r\n")] = '\0';
}

static int put(const char *key, const char *provider, const char *body, struct resp *r)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/integrations/%s", provider);
    const char *h[] = {NULL};
    return http_req(&srv, "PUT", path, key, "application/json", body, strlen(body), h, r);
}

static void test_settings_and_secrets(void **state)
{
    (void)state;
    struct resp r;
    assert_int_equal(put(ADMIN, "whatsapp",
                         "{\"phone_number_id\":\"10987654321\",\"app_secret\":\"APPSECRET-"
                         "MARKER\",\"access_token\":\"EAAG-TOKEN-MARKER\"}",
                         &r),
                     0);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, "MARKER")); /* secrets never come back */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r.json, "settings"), "phone_number_id")),
        "10987654321");
    assert_int_equal(json_array_size(json_object_get(r.json, "secrets_set")), 2);
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/integrations/whatsapp", ADMIN, &r), 0);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, "MARKER"));
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/integrations", ADMIN, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "integrations")), 9);
    assert_null(strstr(r.body, "MARKER"));
    resp_free(&r);
    /* the database holds sealed text only */
    assert_int_equal(harness_db_i64(srv.db_url, "SELECT COUNT(*) FROM integration_fields WHERE "
                                                "value LIKE '%MARKER%'"),
                     0);
    assert_int_equal(harness_db_i64(srv.db_url, "SELECT COUNT(*) FROM integration_fields WHERE "
                                                "is_secret = 1 AND value LIKE 'sb1.%'"),
                     2);
    /* the CLI sees the same, secrets as names */
    char out[1024];
    assert_int_equal(
        harness_cli(srv.db_url, "integrations show --tenant default whatsapp", out, sizeof(out)),
        0);
    assert_non_null(strstr(out, "10987654321"));
    assert_non_null(strstr(out, "app_secret\t(secret, set)"));
    assert_null(strstr(out, "MARKER"));
    /* null removes one field */
    assert_int_equal(put(ADMIN, "whatsapp", "{\"access_token\":null}", &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "secrets_set")), 1);
    resp_free(&r);
}

static void test_refusals(void **state)
{
    (void)state;
    struct resp r;
    assert_int_equal(put(ADMIN, "paypal", "{\"x\":\"y\"}", &r), 0);
    assert_int_equal(r.status, 404);
    assert_string_equal(resp_error_field(&r), "provider");
    resp_free(&r);
    assert_int_equal(put(ADMIN, "stripe", "{\"secret_key\":\"sk\",\"colour\":\"red\"}", &r), 0);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "colour");
    resp_free(&r);
    assert_int_equal(put(ADMIN, "stripe", "{\"secret_key\":42}", &r), 0);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "secret_key");
    resp_free(&r);
    assert_int_equal(put(ADMIN, "stripe", "{}", &r), 0);
    assert_int_equal(r.status, 400);
    resp_free(&r);
    /* nothing of the refused requests was stored */
    assert_int_equal(harness_db_i64(srv.db_url,
                                    "SELECT COUNT(*) FROM integration_fields WHERE provider = "
                                    "'stripe'"),
                     0);
    /* an operator may not read or write settings */
    char op[200];
    key_for("default", "operator", op, sizeof(op));
    assert_int_equal(http_get(&srv, "/api/integrations/stripe", op, &r), 0);
    assert_int_equal(r.status, 403);
    resp_free(&r);
    assert_int_equal(put(op, "stripe", "{\"secret_key\":\"sk\"}", &r), 0);
    assert_int_equal(r.status, 403);
    resp_free(&r);
}

/* Another tenant sees none of this tenant's settings and cannot claim its phone number id. */
static void test_tenants(void **state)
{
    (void)state;
    char out[256], other[200];
    assert_int_equal(harness_cli(srv.db_url, "tenants create izmir", out, sizeof(out)), 0);
    key_for("izmir", "admin", other, sizeof(other));
    struct resp r;
    assert_int_equal(put(ADMIN, "whatsapp", "{\"phone_number_id\":\"777000\"}", &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/integrations/whatsapp", other, &r), 0);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, "777000"));
    assert_false(json_is_true(json_object_get(r.json, "configured")));
    resp_free(&r);
    assert_int_equal(put(other, "whatsapp", "{\"phone_number_id\":\"777000\"}", &r), 0);
    assert_int_equal(r.status, 409);
    assert_string_equal(resp_error_field(&r), "phone_number_id");
    resp_free(&r);
    /* deleting is per tenant */
    assert_int_equal(
        http_req(&srv, "DELETE", "/api/integrations/whatsapp", other, NULL, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "removed")), 0);
    resp_free(&r);
    assert_int_equal(harness_cli(srv.db_url,
                                 "integrations set --tenant izmir whatsapp phone_number_id=888000",
                                 out, sizeof(out)),
                     0);
    assert_int_equal(harness_db_i64(srv.db_url, "SELECT COUNT(*) FROM integration_fields WHERE "
                                                "value = '888000'"),
                     1);
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_and_secrets),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_tenants),
    };
    return cmocka_run_group_tests_name(harness_backend(), tests, setup, teardown);
}
