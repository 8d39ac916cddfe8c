/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/platform/migrate_data.c: every table of the schema is copied or knowingly
 * skipped; and, with TEST_PG_DSN, a SQLite installation with tenants, people, windows, messages
 * and Turkish text copied into a fresh PostgreSQL schema: the same rows, times and flags, new
 * ids above the copied ones, and a second copy into the same database refused.
 */
#include "platform/migrate_data.h"
#include "platform/purge.h"
#include "domain/account/account.h"
#include "domain/flash/flash_service.h"
#include "domain/notify/outbox.h"
#include "support/check.h"
#include "support/testdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1795000000000LL

static bool listed(const char *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n && list[i]; i++) {
        if (strcmp(list[i], name) == 0)
            return true;
    }
    return false;
}

static void test_every_table_is_copied_or_skipped(void **state)
{
    (void)state;
    struct testdb t;
    struct db *db = testdb_open_migrated(&t, DB_SQLITE, "mdlist", NULL);
    struct db_conn *c = testdb_acquire(db);
    const char *tables[128];
    size_t n = migrate_data_tables(tables, 128);
    struct db_stmt *s;
    OK(db_prepare(c, &s, "SELECT name FROM sqlite_master WHERE type = 'table'", e));
    struct err se;
    err_init(&se);
    while (db_step(s, &se) == DB_ROW) {
        const char *name = db_col_text(s, 0);
        if (!listed(tables, n, name) && !listed(migrate_data_skipped, 64, name))
            fail_msg("table %s is neither copied nor skipped by migrate-data", name);
    }
    db_stmt_done(s);
    /* tenants come first, the purge list's first child last */
    assert_string_equal(tables[0], "tenants");
    assert_string_equal(tables[n - 1], purge_tenant_tables[0].name);
    db_conn_release(c);
    db_close(db);
    testdb_remove(&t);
}

static void test_copy_into_postgres(void **state)
{
    (void)state;
    if (!testdb_pg_dsn()) {
        printf("  (skipped: TEST_PG_DSN is not set)\n");
        return;
    }
    struct testdb ts, tp;
    struct db *from = testdb_open_migrated(&ts, DB_SQLITE, "mdfrom", NULL);
    struct db_conn *c = testdb_acquire(from);
    int64_t tenant = 0;
    OK(account_tenant_ensure(c, "moda", T0, &tenant, e));
    struct arena a;
    arena_init(&a);
    struct flash_seller s = {.id = "S1",
                             .phone = "+905320000001",
                             .name = "Şükrü'nün Kahvesi",
                             .category = "coffee",
                             .loc = {40.987, 29.026, "Kadıköy", "Moda"},
                             .stock_status = "",
                             .currency = "TRY",
                             .max_discount = 25,
                             .capacity = 5,
                             .auto_approve = true,
                             .opening_hours = ""};
    bool created;
    OK(flash_seller_register(c, tenant, &s, T0, &a, &created, e));
    for (int i = 0; i < 3; i++) {
        char id[16], phone[32];
        snprintf(id, sizeof(id), "B%d", i + 1);
        snprintf(phone, sizeof(phone), "+90533000000%d", i + 1);
        struct flash_buyer b = {.id = id,
                                .phone = phone,
                                .name = "Çağlar",
                                .loc = {40.9879, 29.026, "", ""},
                                .consent = i != 2,
                                .language = "tr"};
        OK(flash_buyer_register(c, tenant, &b, T0, &a, &created, e));
        struct flash_demand_in d = {.text = "Latte istiyorum",
                                    .product = "latte",
                                    .category = "coffee",
                                    .currency = "TRY",
                                    .expires_at = T0 + 3600000};
        int64_t dpk;
        OK(flash_buyer_signal(c, tenant, id, &d, T0, &dpk, e));
    }
    struct flash_generated *g;
    size_t ng;
    OK(flash_generate(c, tenant, T0, &a, &g, &ng, e));
    /* a shop's customer and order, whose ids are named customer_id and order_id */
    char sql[512];
    snprintf(sql, sizeof(sql),
             "INSERT INTO customer (customer_id, tenant_id, public_id, email, created_at, "
             "updated_at) VALUES (41, %lld, 'cus_1', 'a@example.com', '2026-11-18T10:00:00Z', "
             "'2026-11-18T10:00:00Z')",
             (long long)tenant);
    OK(db_exec(c, sql, e));
    snprintf(sql, sizeof(sql),
             "INSERT INTO orders (order_id, tenant_id, public_id, customer_id, status, currency, "
             "total_amount, created_at, updated_at) VALUES (77, %lld, 'ord_1', 41, 'paid', 'TRY', "
             "17100, '2026-11-18T10:00:00Z', '2026-11-18T10:00:00Z')",
             (long long)tenant);
    OK(db_exec(c, sql, e));
    int64_t windows_before = 0;
    struct db_stmt *q;
    OK(db_prepare(c, &q, "SELECT count(*) FROM flash_windows", e));
    bool found;
    OK(db_one_i64(q, &windows_before, &found, e));
    assert_true(windows_before >= 1);
    db_conn_release(c);

    testdb_fresh(&tp, DB_POSTGRES, "mdto");
    struct db *to = testdb_open(&tp, NULL);
    struct migrate_data_report r;
    OK(migrate_data_copy(from, to, NULL, &r, e));
    assert_true(r.tables > 20);
    assert_true(r.rows > 10);

    struct db_conn *p = testdb_acquire(to);
    int64_t n = 0;
    OK(db_prepare(p, &q, "SELECT count(*) FROM flash_windows", e));
    OK(db_one_i64(q, &n, &found, e));
    assert_int_equal(n, windows_before);
    /* text, flags and times read back as written */
    struct flash_seller s2;
    OK(flash_store_seller_get(p, tenant, "S1", false, &a, &s2, e));
    assert_string_equal(s2.name, "Şükrü'nün Kahvesi");
    assert_string_equal(s2.loc.district, "Kadıköy");
    assert_true(s2.auto_approve);
    assert_int_equal(s2.created_at, T0);
    struct flash_buyer b3;
    OK(flash_store_buyer_get(p, tenant, "B3", false, &a, &b3, e));
    assert_false(b3.consent);
    /* the server goes on where SQLite stopped: new ids above the copied ones */
    struct flash_buyer b4 = {.id = "B4",
                             .phone = "+905330000009",
                             .name = "Yeni",
                             .loc = {40.98, 29.02, "", ""},
                             .consent = true,
                             .language = "tr"};
    OK(flash_buyer_register(p, tenant, &b4, T0 + 1000, &a, &created, e));
    assert_true(created);
    assert_true(b4.pk > b3.pk);
    /* also for tables whose identity is not called id */
    snprintf(sql, sizeof(sql),
             "INSERT INTO orders (tenant_id, public_id, customer_id, status, currency, "
             "total_amount, created_at, updated_at) VALUES (%lld, 'ord_2', 41, 'pending', 'TRY', "
             "100, '2026-11-19T10:00:00Z', '2026-11-19T10:00:00Z')",
             (long long)tenant);
    OK(db_exec(p, sql, e));
    int64_t new_order = 0;
    OK(db_prepare(p, &q, "SELECT order_id FROM orders WHERE public_id = 'ord_2'", e));
    OK(db_one_i64(q, &new_order, &found, e));
    assert_true(new_order > 77);
    db_conn_release(p);
    /* into the same database again: refused, nothing doubled */
    FAILS(ERR_CONFLICT, migrate_data_copy(from, to, NULL, &r, e));
    /* the other way round is not offered */
    FAILS(ERR_INVALID, migrate_data_copy(to, from, NULL, &r, e));
    arena_release(&a);
    db_close(to);
    db_close(from);
    testdb_remove(&tp);
    testdb_remove(&ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_table_is_copied_or_skipped),
        cmocka_unit_test(test_copy_into_postgres),
    };
    return cmocka_run_group_tests_name("migrate_data", tests, NULL, NULL);
}
