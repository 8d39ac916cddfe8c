/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/platform/purge.c: the purge list covers every table of the live schema
 * that has a tenant_id column (so a new tenant table cannot be forgotten), a purge removes all
 * of one tenant's rows and none of another's, and the default tenant is refused; a reset
 * empties one tenant's business data and keeps its users, keys and settings. Runs on SQLite
 * and, with TEST_PG_DSN, on PostgreSQL.
 */
#include "platform/purge.h"
#include "core/crypto.h"
#include "core/xalloc.h"
#include "domain/account/account.h"
#include "domain/flash/flash_store.h"
#include "domain/notify/contacts.h"
#include "integrations/integration_store.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1795252200000

struct fixture {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    struct arena a;
};

static enum db_backend backend;

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->db = testdb_open_migrated(&f->t, backend, "purge", NULL);
    f->c = testdb_acquire(f->db);
    arena_init(&f->a);
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

static bool listed(const char *table)
{
    for (size_t i = 0; purge_tenant_tables[i].name; i++) {
        if (strcmp(purge_tenant_tables[i].name, table) == 0)
            return true;
    }
    return false;
}

/* Every table with a tenant_id column is in the purge list. */
static void test_list_covers_schema(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    struct db_stmt *s;
    const char *sql =
        db_backend(f->db) == DB_SQLITE
            ? "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE "
              "m.type = 'table' AND p.name = 'tenant_id'"
            : "SELECT table_name FROM information_schema.columns WHERE column_name = 'tenant_id' "
              "AND table_schema = current_schema()";
    assert_int_equal(db_prepare(f->c, &s, sql, &e), 0);
    int n = 0;
    while (db_step(s, &e) == DB_ROW) {
        const char *t = db_col_text(s, 0);
        if (!listed(t))
            fail_msg("table %s has a tenant_id but is not in purge_tenant_tables", t);
        n++;
    }
    db_stmt_done(s);
    assert_true(n >= 20);
}

static long long count(struct fixture *f, const char *table, int64_t tenant)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s WHERE tenant_id = %lld", table,
             (long long)tenant);
    struct err e;
    err_init(&e);
    struct db_stmt *s;
    assert_int_equal(db_prepare(f->c, &s, sql, &e), 0);
    assert_int_equal(db_step(s, &e), DB_ROW);
    long long v = db_col_i64(s, 0);
    db_stmt_done(s);
    return v;
}

static void fill(struct fixture *f, int64_t tenant)
{
    struct err e;
    err_init(&e);
    bool created;
    struct flash_buyer b = {.id = "B1",
                            .phone = "+905330000001",
                            .name = "Ayşe",
                            .loc = {.lat = 40.99, .lng = 29.03},
                            .consent = true,
                            .language = "tr"};
    assert_int_equal(flash_store_buyer_upsert(f->c, tenant, &b, NOW, &f->a, &created, &e), 0);
    unsigned char key[SEC_BOX_KEY_LEN] = {1};
    struct integration_kv kv[] = {{"app_secret", "s"}};
    assert_int_equal(integration_put(f->c, key, tenant, "whatsapp", kv, 1, NOW, &e), 0);
    struct account_key k;
    const char *plain;
    assert_int_equal(
        account_key_create(f->c, tenant, ROLE_ADMIN, "ops", NOW, &f->a, &k, &plain, &e), 0);
    assert_int_equal(contacts_touch_inbound(f->c, tenant, "+905551112233", NOW, &e), 0);
}

static void test_purge_one_tenant(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    int64_t def = 0, a = 0, b = 0;
    assert_int_equal(account_tenant_ensure(f->c, "default", NOW, &def, &e), 0);
    assert_int_equal(account_tenant_create(f->c, "demo", NOW, &a, &e), 0);
    assert_int_equal(account_tenant_create(f->c, "real", NOW, &b, &e), 0);
    fill(f, a);
    fill(f, b);
    assert_true(count(f, "buyers", a) == 1 && count(f, "contacts", a) == 2);
    int64_t rows = 0;
    assert_int_equal(purge_tenant(f->c, a, &rows, &e), 0);
    assert_true(rows >= 6);
    for (size_t i = 0; purge_tenant_tables[i].name; i++)
        assert_int_equal(count(f, purge_tenant_tables[i].name, a), 0);
    /* the other tenant keeps everything */
    assert_int_equal(count(f, "buyers", b), 1);
    assert_int_equal(count(f, "contacts", b), 2);
    assert_int_equal(count(f, "api_keys", b), 1);
    assert_int_equal(count(f, "integration_fields", b), 1);
    /* gone, and refused for the default tenant */
    assert_int_equal(purge_tenant(f->c, a, NULL, &e), ERR_NOT_FOUND);
    err_init(&e);
    assert_int_equal(purge_tenant(f->c, def, NULL, &e), ERR_FORBIDDEN);
}

static int64_t version_of(struct fixture *f, int64_t tenant)
{
    struct err e;
    err_init(&e);
    int64_t v = -1;
    assert_int_equal(flash_store_version(f->c, tenant, &v, &e), 0);
    return v;
}

/* A change to the tenant's seller (the sellers trigger bumps the flash version). */
static void touch_seller(struct fixture *f, int64_t tenant, int round)
{
    struct err e;
    err_init(&e);
    char name[32];
    snprintf(name, sizeof(name), "Kahveci %d", round);
    struct flash_seller s = {.id = "S1",
                             .phone = "+905320000001",
                             .name = name,
                             .category = "coffee",
                             .loc = {.lat = 40.99, .lng = 29.03},
                             .stock_status = "",
                             .currency = "TRY",
                             .max_discount = 20,
                             .capacity = 5};
    bool created;
    assert_int_equal(flash_store_seller_upsert(f->c, tenant, &s, NOW, &f->a, &created, &e), 0);
}

/*
 * A tenant's flash version never comes back to a value it had, across a reset and across a
 * deleted tenant whose id is taken again: a running server's cached bodies and clients' ETags
 * are keyed by (tenant, version), so a repeated value served erased or another tenant's windows.
 */
static void test_versions_never_repeat(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    int64_t a = 0;
    assert_int_equal(account_tenant_create(f->c, "shop", NOW, &a, &e), 0);
    for (int i = 0; i < 4; i++)
        touch_seller(f, a, i);
    int64_t before = version_of(f, a);
    assert_true(before > 0);
    assert_int_equal(purge_tenant_reset(f->c, a, NULL, &e), 0);
    touch_seller(f, a, 0);
    touch_seller(f, a, 1);
    int64_t after = version_of(f, a);
    if (after <= before)
        fail_msg("after a reset the version went from %lld back to %lld", (long long)before,
                 (long long)after);

    /* the last tenant deleted, a new one may get its id (SQLite reuses the largest rowid) */
    assert_int_equal(purge_tenant(f->c, a, NULL, &e), 0);
    int64_t b = 0;
    assert_int_equal(account_tenant_create(f->c, "next", NOW, &b, &e), 0);
    touch_seller(f, b, 0);
    touch_seller(f, b, 1);
    if (version_of(f, b) <= after)
        fail_msg("tenant %lld (was %lld) starts at version %lld, at or below %lld", (long long)b,
                 (long long)a, (long long)version_of(f, b), (long long)after);
}

/* A reset empties every business table of one tenant and keeps its access and settings. */
static void test_reset_keeps_access(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    int64_t def = 0, a = 0, b = 0;
    assert_int_equal(account_tenant_ensure(f->c, "default", NOW, &def, &e), 0);
    assert_int_equal(account_tenant_create(f->c, "shop", NOW, &a, &e), 0);
    assert_int_equal(account_tenant_create(f->c, "other", NOW, &b, &e), 0);
    fill(f, a);
    fill(f, b);
    int64_t user = 0;
    assert_int_equal(account_user_create(f->c, a, "ops@example.com", "a long password 123",
                                         ROLE_ADMIN, NOW, &user, &e),
                     0);
    assert_int_equal(count(f, "buyers", a), 1);
    int64_t rows = 0;
    assert_int_equal(purge_tenant_reset(f->c, a, &rows, &e), 0);
    assert_true(rows >= 3);
    size_t data_tables = 0;
    for (size_t i = 0; purge_tenant_tables[i].name; i++) {
        if (purge_tenant_tables[i].kind == PURGE_DATA) {
            assert_int_equal(count(f, purge_tenant_tables[i].name, a), 0);
            data_tables++;
        }
    }
    assert_true(data_tables >= 10);
    /* the tenant, its users, keys and provider settings stay */
    assert_int_equal(count(f, "api_keys", a), 1);
    assert_int_equal(count(f, "users", a), 1);
    assert_int_equal(count(f, "integration_fields", a), 1);
    struct account_tenant t;
    assert_int_equal(account_tenant_find(f->c, "shop", &f->a, &t, &e), 0);
    /* the other tenant keeps everything */
    assert_int_equal(count(f, "buyers", b), 1);
    assert_int_equal(count(f, "contacts", b), 2);
    /* allowed on the default tenant; refused for a tenant that does not exist */
    assert_int_equal(purge_tenant_reset(f->c, def, NULL, &e), 0);
    assert_int_equal(purge_tenant_reset(f->c, 999999, NULL, &e), ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_covers_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_one_tenant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_keeps_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_versions_never_repeat, setup, teardown),
    };
    return TESTDB_RUN_GROUPS("purge", tests, &backend) ? 1 : 0;
}
