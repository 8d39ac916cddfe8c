/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/db/store.c (store.h), the store toolkit: one-integer and write helpers,
 * ownership and key lookups, text columns, the db_list row loop (empty, growing past its first
 * block, errors) and the page helpers. Runs on SQLite and, with TEST_PG_DSN, on PostgreSQL.
 */
#include "db/store.h"
#include "core/xalloc.h"
#include "support/check.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    struct arena a;
};

static enum db_backend backend; /* set by testdb_run_groups */

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    testdb_fresh(&f->t, backend, "store");
    f->db = testdb_open(&f->t, NULL);
    f->c = testdb_acquire(f->db);
    arena_init(&f->a);
    OK(db_exec(f->c,
               "CREATE TABLE things (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, "
               "code TEXT NOT NULL UNIQUE, note TEXT)",
               e));
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

static struct db_stmt *prep(struct fixture *f, const char *sql)
{
    struct db_stmt *s = NULL;
    OK(db_prepare(f->c, &s, sql, e));
    return s;
}

static void insert(struct fixture *f, int64_t id, int64_t tenant, const char *code,
                   const char *note)
{
    struct db_stmt *s =
        prep(f, "INSERT INTO things (id, tenant_id, code, note) VALUES (?, ?, ?, ?)");
    db_bind_i64(s, 1, id);
    db_bind_i64(s, 2, tenant);
    db_bind_text(s, 3, code);
    db_bind_text(s, 4, note);
    int64_t changes = -1;
    OK(db_exec_write(s, &changes, e));
    assert_int_equal(changes, 1);
}

static void test_one_and_write(void **state)
{
    struct fixture *f = *state;
    insert(f, 1, 10, "a", "first");
    insert(f, 2, 10, "b", NULL);
    insert(f, 3, 20, "c", "other tenant");

    int64_t v = -1;
    bool found = false;
    OK(db_one_i64(prep(f, "SELECT COUNT(*) FROM things"), &v, &found, e));
    assert_true(found);
    assert_int_equal(v, 3);
    v = -1;
    OK(db_one_i64(prep(f, "SELECT id FROM things WHERE code = 'zz'"), &v, &found, e));
    assert_false(found);
    assert_int_equal(v, -1); /* untouched without a row */

    /* a write reports the rows it touched; a constraint is ERR_CONFLICT and the statement ends */
    struct db_stmt *s = prep(f, "UPDATE things SET note = 'x' WHERE tenant_id = ?");
    db_bind_i64(s, 1, 10);
    int64_t changes = -1;
    OK(db_exec_write(s, &changes, e));
    assert_int_equal(changes, 2);
    s = prep(f, "INSERT INTO things (id, tenant_id, code) VALUES (9, 10, 'a')");
    FAILS(ERR_CONFLICT, db_exec_write(s, &changes, e));
    assert_int_equal(changes, 0);
    OK(db_exec_write(prep(f, "DELETE FROM things WHERE id = 9"), NULL, e));
}

static void test_owned_and_find(void **state)
{
    struct fixture *f = *state;
    insert(f, 1, 10, "a", NULL);
    insert(f, 3, 20, "c", NULL);
    const char *owned = "SELECT 1 FROM things WHERE id = ? AND tenant_id = ?";
    OK(db_check_owned(f->c, owned, 10, 1, "thing", e));
    FAILS(ERR_NOT_FOUND, db_check_owned(f->c, owned, 10, 3, "thing", e));
    assert_string_equal(check_last.field, "thing");
    assert_string_equal(check_last.msg, "no thing 3 in this tenant");
    FAILS(ERR_NOT_FOUND, db_check_owned(f->c, owned, 10, 99, "thing", e));

    const char *by_code = "SELECT id FROM things WHERE tenant_id = ? AND code = ?";
    int64_t pk = -1;
    OK(db_find_pk(f->c, by_code, 20, "c", &pk, e));
    assert_int_equal(pk, 3);
    OK(db_find_pk(f->c, by_code, 10, "c", &pk, e)); /* another tenant's row is not found */
    assert_int_equal(pk, 0);
    FAILS(ERR_DB,
          db_find_pk(f->c, "SELECT id FROM no_such_table WHERE a = ? AND b = ?", 10, "c", &pk, e));
}

struct thing {
    int64_t id;
    const char *code;
    const char *note;     /* "" for NULL */
    const char *note_dup; /* NULL for NULL */
    int64_t zero;         /* never set by the reader: db_list hands over zeroed elements */
};

static void read_thing(struct db_stmt *s, struct arena *a, void *out)
{
    struct thing *t = out;
    t->id = db_col_i64(s, 0);
    t->code = db_col_str(s, 1, a);
    t->note = db_col_str(s, 2, a);
    t->note_dup = db_col_dup(s, 2, a);
}

static size_t list(struct fixture *f, int64_t tenant, const struct page *p, struct thing **rows)
{
    struct db_stmt *s = prep(f, "SELECT id, code, note FROM things WHERE tenant_id = ? AND id > ? "
                                "ORDER BY id LIMIT ?");
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, p->after);
    db_bind_i64(s, 3, db_page_limit(p->limit, 5, 40));
    void *out = (void *)1;
    size_t n = 99;
    OK(db_list(s, read_thing, sizeof(struct thing), &f->a, &out, &n, e));
    *rows = out;
    return n;
}

static void test_list_and_pages(void **state)
{
    struct fixture *f = *state;
    struct thing *rows;
    struct page p = {0};
    assert_int_equal(list(f, 10, &p, &rows), 0);
    assert_null(rows);

    OK(db_begin(f->c, e));
    char code[16];
    for (int i = 1; i <= 37; i++) { /* more than the arena array's first block of 16 */
        snprintf(code, sizeof(code), "c%02d", i);
        insert(f, i, 10, code, i % 2 ? code : NULL);
    }
    insert(f, 100, 20, "x", "other tenant");
    OK(db_commit(f->c, e));

    p = (struct page){.after = 0, .limit = 40};
    assert_int_equal(list(f, 10, &p, &rows), 37);
    for (int i = 0; i < 37; i++) {
        snprintf(code, sizeof(code), "c%02d", i + 1);
        assert_int_equal(rows[i].id, i + 1);
        assert_string_equal(rows[i].code, code);
        if ((i + 1) % 2) {
            assert_string_equal(rows[i].note, code);
            assert_string_equal(rows[i].note_dup, code);
        } else {
            assert_string_equal(rows[i].note, "");
            assert_null(rows[i].note_dup);
        }
        assert_int_equal(rows[i].zero, 0);
    }
    assert_int_equal(db_page_next(&p, 37, rows[36].id), 0); /* not full: the last page */

    /* walk it in pages of 10: 10, 10, 10, 7 */
    size_t seen = 0, pages = 0;
    p = (struct page){.after = 0, .limit = 10};
    for (;;) {
        size_t n = list(f, 10, &p, &rows);
        seen += n;
        pages++;
        int64_t next = db_page_next(&p, n, n ? rows[n - 1].id : 0);
        if (!next)
            break;
        assert_int_equal(next, rows[n - 1].id);
        p.after = next;
    }
    assert_int_equal(seen, 37);
    assert_int_equal(pages, 4);

    /* an error: nothing handed out, the statement finished (the connection can go on) */
    struct db_stmt *s = prep(f, "INSERT INTO things (id, tenant_id, code) VALUES (1, 10, 'dup') "
                                "RETURNING id, code, note");
    void *out = (void *)1;
    size_t n = 99;
    FAILS(ERR_CONFLICT, db_list(s, read_thing, sizeof(struct thing), &f->a, &out, &n, e));
    assert_null(out);
    assert_int_equal(n, 0);
    assert_int_equal(list(f, 20, &(struct page){0}, &rows), 1);
}

static void test_page_helpers(void **state)
{
    (void)state;
    static const struct {
        int limit, def, max, want;
    } limits[] = {{0, 50, 1000, 50},    {-3, 50, 1000, 50},     {1, 50, 1000, 1},
                  {999, 50, 1000, 999}, {1000, 50, 1000, 1000}, {1001, 50, 1000, 1000}};
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
        assert_int_equal(db_page_limit(limits[i].limit, limits[i].def, limits[i].max),
                         limits[i].want);
    struct page p = {.after = 0, .limit = 3};
    assert_int_equal(db_page_next(&p, 3, 42), 42);
    assert_int_equal(db_page_next(&p, 2, 42), 0);
    assert_int_equal(db_page_next(&p, 0, 0), 0);
    p.limit = 0;
    assert_int_equal(db_page_next(&p, 0, 0), 0);
}

/* One JSON text per tenant: none until put, replaced by a second put, other tenants apart. */
static void test_settings_rows(void **state)
{
    struct fixture *f = *state;
    OK(db_exec(f->c,
               "CREATE TABLE prefs (tenant_id INTEGER PRIMARY KEY, config TEXT NOT NULL, "
               "updated_at TEXT NOT NULL)",
               e));
    const char *text = "x";
    OK(db_settings_get(f->c, "prefs", 10, &f->a, &text, e));
    assert_null(text);
    OK(db_settings_put(f->c, "prefs", 10, "{\"a\":1}", 1000, e));
    OK(db_settings_put(f->c, "prefs", 20, "{\"b\":2}", 1000, e));
    OK(db_settings_put(f->c, "prefs", 10, "{\"a\":3}", 2000, e));
    OK(db_settings_get(f->c, "prefs", 10, &f->a, &text, e));
    assert_string_equal(text, "{\"a\":3}");
    OK(db_settings_get(f->c, "prefs", 20, &f->a, &text, e));
    assert_string_equal(text, "{\"b\":2}");
    struct db_stmt *s = prep(f, "SELECT count(*) FROM prefs");
    int64_t n = 0;
    bool found = false;
    OK(db_one_i64(s, &n, &found, e));
    assert_int_equal(n, 2);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_page_helpers),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_and_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owned_and_find, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_and_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings_rows, setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("store_pure", pure, NULL, NULL);
    failed += TESTDB_RUN_GROUPS("store", tests, &backend);
    return failed ? 1 : 0;
}
