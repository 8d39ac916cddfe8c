/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/integrations/integration_store.c: provider fields, merge and removal,
 * secrets sealed at rest (the database never holds the plaintext), a wrong server key is a
 * clear error, route values belong to one tenant, the default tenant's environment fallback.
 * Runs on SQLite and, with TEST_PG_DSN, on PostgreSQL.
 */
#include "integrations/integration_store.h"
#include "domain/account/account.h"
#include "core/xalloc.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1795252200000 /* 2026-11-21T09:10:00Z */

struct fixture {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    struct arena a;
    int64_t t1, t2;
    unsigned char key[SEC_BOX_KEY_LEN];
};

static enum db_backend backend;

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->db = testdb_open_migrated(&f->t, backend, "integ", NULL);
    f->c = testdb_acquire(f->db);
    arena_init(&f->a);
    struct err e;
    err_init(&e);
    assert_int_equal(account_tenant_create(f->c, "one", NOW, &f->t1, &e), 0);
    assert_int_equal(account_tenant_create(f->c, "two", NOW, &f->t2, &e), 0);
    sec_random_bytes(f->key, sizeof(f->key));
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    arena_release(&f->a);
    db_conn_release(f->c);
    db_close(f->db);
    testdb_remove(&f->t);
    free(f);
    return 0;
}

static void test_put_get_merge_remove(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    struct integration_kv kv[] = {{"phone_number_id", "1098765"},
                                  {"app_secret", "meta-app-secret-value"},
                                  {"api_url", "http://127.0.0.1:9/v21.0"}};
    assert_int_equal(integration_put(f->c, f->key, f->t1, "whatsapp", kv, 3, NOW, &e), 0);
    struct integration it;
    assert_int_equal(integration_get(f->c, f->key, f->t1, "whatsapp", false, &f->a, &it, &e), 0);
    assert_int_equal(it.n_fields, 3);
    assert_string_equal(integration_value(&it, "app_secret"), "meta-app-secret-value");
    assert_string_equal(integration_value(&it, "phone_number_id"), "1098765");
    /* without the key: secrets by name only */
    assert_int_equal(integration_get(f->c, NULL, f->t1, "whatsapp", false, &f->a, &it, &e), 0);
    assert_int_equal(it.n_fields, 3);
    assert_null(integration_value(&it, "app_secret"));
    assert_string_equal(integration_value(&it, "api_url"), "http://127.0.0.1:9/v21.0");
    /* merge: one changed, one removed, the rest kept */
    struct integration_kv upd[] = {{"app_secret", "rotated"}, {"api_url", NULL}};
    assert_int_equal(integration_put(f->c, f->key, f->t1, "whatsapp", upd, 2, NOW + 1, &e), 0);
    assert_int_equal(integration_get(f->c, f->key, f->t1, "whatsapp", false, &f->a, &it, &e), 0);
    assert_int_equal(it.n_fields, 2);
    assert_string_equal(integration_value(&it, "app_secret"), "rotated");
    assert_null(integration_value(&it, "api_url"));
    /* the other tenant sees nothing */
    assert_int_equal(integration_get(f->c, f->key, f->t2, "whatsapp", false, &f->a, &it, &e), 0);
    assert_int_equal(it.n_fields, 0);
    int64_t removed = 0;
    assert_int_equal(integration_delete(f->c, f->t1, "whatsapp", &removed, &e), 0);
    assert_int_equal(removed, 2);
    assert_int_equal(integration_get(f->c, f->key, f->t1, "whatsapp", false, &f->a, &it, &e), 0);
    assert_int_equal(it.n_fields, 0);
}

/* The plaintext of a secret is nowhere in the table. */
static void test_secrets_sealed_at_rest(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    struct integration_kv kv[] = {{"secret_key", "sk_test_PLAINTEXT_MARKER"}};
    assert_int_equal(integration_put(f->c, f->key, f->t1, "stripe", kv, 1, NOW, &e), 0);
    struct db_stmt *s;
    assert_int_equal(db_prepare(f->c, &s, "SELECT value, is_secret FROM integration_fields", &e),
                     0);
    int rows = 0;
    while (db_step(s, &e) == DB_ROW) {
        rows++;
        const char *v = db_col_text(s, 0);
        assert_null(strstr(v, "PLAINTEXT_MARKER"));
        assert_int_equal(strncmp(v, "sb1.", 4), 0);
        assert_int_equal(db_col_i64(s, 1), 1);
    }
    db_stmt_done(s);
    assert_int_equal(rows, 1);
}

/* Sealed under one key, read under another: a clear error naming the field, no garbage. */
static void test_wrong_key(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    struct integration_kv kv[] = {{"webhook_secret", "shpss_abc"},
                                  {"shop_domain", "x.myshopify.com"}};
    assert_int_equal(integration_put(f->c, f->key, f->t1, "shopify", kv, 2, NOW, &e), 0);
    unsigned char other[SEC_BOX_KEY_LEN];
    memcpy(other, f->key, sizeof(other));
    other[0] ^= 1;
    struct integration it;
    assert_int_equal(integration_get(f->c, other, f->t1, "shopify", false, &f->a, &it, &e),
                     ERR_CONFLICT);
    assert_string_equal(e.field, "webhook_secret");
    assert_non_null(strstr(e.msg, "key"));
}

static void test_bad_input(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    struct integration_kv unknown[] = {{"app_secret", "x"}, {"nope", "y"}};
    assert_int_equal(integration_put(f->c, f->key, f->t1, "whatsapp", unknown, 2, NOW, &e),
                     ERR_INVALID);
    assert_string_equal(e.field, "nope");
    /* nothing of the refused request was written */
    struct integration it;
    assert_int_equal(integration_get(f->c, f->key, f->t1, "whatsapp", false, &f->a, &it, &e), 0);
    assert_int_equal(it.n_fields, 0);
    err_init(&e);
    struct integration_kv ctl[] = {{"app_secret", "line\nbreak"}};
    assert_int_equal(integration_put(f->c, f->key, f->t1, "whatsapp", ctl, 1, NOW, &e),
                     ERR_INVALID);
    err_init(&e);
    assert_int_equal(integration_put(f->c, f->key, f->t1, "paypal", ctl, 1, NOW, &e),
                     ERR_NOT_FOUND);
    char *big = xmalloc(INTEGRATION_VALUE_MAX + 2);
    memset(big, 'a', INTEGRATION_VALUE_MAX + 1);
    big[INTEGRATION_VALUE_MAX + 1] = '\0';
    err_init(&e);
    struct integration_kv huge[] = {{"access_token", big}};
    assert_int_equal(integration_put(f->c, f->key, f->t1, "whatsapp", huge, 1, NOW, &e),
                     ERR_INVALID);
    free(big);
}

/* A route value finds its tenant, and a second tenant cannot claim it. */
static void test_routes(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    struct integration_kv kv[] = {{"phone_number_id", "555000"}};
    assert_int_equal(integration_put(f->c, f->key, f->t2, "whatsapp", kv, 1, NOW, &e), 0);
    int64_t owner = 0;
    bool found = false;
    assert_int_equal(
        integration_find_tenant(f->c, "whatsapp", "phone_number_id", "555000", &owner, &found, &e),
        0);
    assert_true(found);
    assert_int_equal(owner, f->t2);
    assert_int_equal(
        integration_find_tenant(f->c, "whatsapp", "phone_number_id", "999", &owner, &found, &e), 0);
    assert_false(found);
    /* the same tenant may set it again; another may not */
    assert_int_equal(integration_put(f->c, f->key, f->t2, "whatsapp", kv, 1, NOW, &e), 0);
    assert_int_equal(integration_put(f->c, f->key, f->t1, "whatsapp", kv, 1, NOW, &e),
                     ERR_CONFLICT);
    assert_string_equal(e.field, "phone_number_id");
}

/* The default tenant falls back to the environment for fields it has not stored. */
static void test_env_fallback(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    setenv("ICESHOP_WHATSAPP_APP_SECRET", "from-env", 1);
    setenv("ICESHOP_WHATSAPP_API_URL", "http://env.example/v21.0", 1);
    struct integration it;
    assert_int_equal(integration_get(f->c, f->key, f->t1, "whatsapp", true, &f->a, &it, &e), 0);
    assert_string_equal(integration_value(&it, "app_secret"), "from-env");
    assert_false(it.stored);
    /* a stored value wins over the environment */
    struct integration_kv kv[] = {{"app_secret", "stored"}};
    assert_int_equal(integration_put(f->c, f->key, f->t1, "whatsapp", kv, 1, NOW, &e), 0);
    assert_int_equal(integration_get(f->c, f->key, f->t1, "whatsapp", true, &f->a, &it, &e), 0);
    assert_string_equal(integration_value(&it, "app_secret"), "stored");
    assert_string_equal(integration_value(&it, "api_url"), "http://env.example/v21.0");
    /* other tenants never see the environment */
    assert_int_equal(integration_get(f->c, f->key, f->t2, "whatsapp", false, &f->a, &it, &e), 0);
    assert_int_equal(it.n_fields, 0);
    unsetenv("ICESHOP_WHATSAPP_APP_SECRET");
    unsetenv("ICESHOP_WHATSAPP_API_URL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_merge_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secrets_sealed_at_rest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_fallback, setup, teardown),
    };
    return TESTDB_RUN_GROUPS("integration_store", tests, &backend) ? 1 : 0;
}
