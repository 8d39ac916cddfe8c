/* SPDX-License-Identifier: MIT */
/*
 * The SQLite and PostgreSQL schemas agree after every migration: the same tables, the same
 * columns, each column of the same kind (integer, text, real) and nullability. Migrations are
 * written twice, once per backend; this catches the copy that was forgotten or mistyped.
 * Times are TEXT in SQLite and timestamptz in PostgreSQL, booleans INTEGER and boolean: both
 * count as the same kind. Needs TEST_PG_DSN; skipped with a message without it.
 */
#include "db/db.h"
#include "db/migrate.h"
#include "core/str.h"
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

struct column {
    char table[64];
    char name[64];
    char kind[16]; /* "integer" | "text" | "real" | "other:<type>" */
    bool not_null;
};

struct schema {
    struct column *cols;
    size_t n, cap;
};

static void schema_add(struct schema *s, const char *table, const char *name, const char *kind,
                       bool not_null)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->cols = xrealloc(s->cols, s->cap * sizeof(*s->cols));
    }
    struct column *c = &s->cols[s->n++];
    memset(c, 0, sizeof(*c));
    str_copy(c->table, sizeof(c->table), table);
    str_copy(c->name, sizeof(c->name), name);
    str_copy(c->kind, sizeof(c->kind), kind);
    c->not_null = not_null;
}

static bool has(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

/* SQLite's type affinity rules (datatype3.html §3.1) on the declared type, upper-cased. */
static const char *sqlite_kind(const char *decl)
{
    char up[64];
    size_t i = 0;
    for (; decl && decl[i] && i + 1 < sizeof(up); i++)
        up[i] = (char)(decl[i] >= 'a' && decl[i] <= 'z' ? decl[i] - 32 : decl[i]);
    up[i] = '\0';
    if (has(up, "INT") || has(up, "BOOL"))
        return "integer";
    if (has(up, "CHAR") || has(up, "CLOB") || has(up, "TEXT") || has(up, "JSON"))
        return "text";
    if (has(up, "REAL") || has(up, "FLOA") || has(up, "DOUB"))
        return "real";
    return up[0] ? "other" : "text";
}

static const char *pg_kind(const char *type)
{
    static const char *const integer[] = {"bigint", "integer", "smallint", "boolean", NULL};
    static const char *const text[] = {
        "text", "character varying", "jsonb", "json", "timestamp with time zone",
        "uuid", "character",         NULL};
    static const char *const real[] = {"double precision", "real", "numeric", NULL};
    for (int i = 0; integer[i]; i++)
        if (str_eq(type, integer[i]))
            return "integer";
    for (int i = 0; text[i]; i++)
        if (str_eq(type, text[i]))
            return "text";
    for (int i = 0; real[i]; i++)
        if (str_eq(type, real[i]))
            return "real";
    return "other";
}

static int by_name(const void *a, const void *b)
{
    const struct column *x = a, *y = b;
    int c = strcmp(x->table, y->table);
    return c ? c : strcmp(x->name, y->name);
}

/*
 * Print every difference between the two sorted schemas; returns how many. A column present on
 * one side only, or with another kind or nullability, is one difference each.
 */
static int schema_diff(struct schema *a, const char *an, struct schema *b, const char *bn)
{
    qsort(a->cols, a->n, sizeof(*a->cols), by_name);
    qsort(b->cols, b->n, sizeof(*b->cols), by_name);
    int diffs = 0;
    size_t i = 0, j = 0;
    while (i < a->n || j < b->n) {
        int c = i == a->n ? 1 : j == b->n ? -1 : by_name(&a->cols[i], &b->cols[j]);
        if (c < 0) {
            printf("schema: %s.%s exists on %s only\n", a->cols[i].table, a->cols[i].name, an);
            i++;
            diffs++;
            continue;
        }
        if (c > 0) {
            printf("schema: %s.%s exists on %s only\n", b->cols[j].table, b->cols[j].name, bn);
            j++;
            diffs++;
            continue;
        }
        const struct column *x = &a->cols[i++], *y = &b->cols[j++];
        if (!str_eq(x->kind, y->kind)) {
            printf("schema: %s.%s is %s on %s but %s on %s\n", x->table, x->name, x->kind, an,
                   y->kind, bn);
            diffs++;
        }
        if (x->not_null != y->not_null) {
            printf("schema: %s.%s is %s on %s but %s on %s\n", x->table, x->name,
                   x->not_null ? "NOT NULL" : "nullable", an, y->not_null ? "NOT NULL" : "nullable",
                   bn);
            diffs++;
        }
    }
    return diffs;
}

static struct db *migrated(struct testdb *t, enum db_backend backend)
{
    return testdb_open_migrated(t, backend, "parity", NULL);
}

/*
 * SQLite has no sequences: each of these one-row tables stands in for the PostgreSQL sequence of
 * the same name. They are left out of the column comparison, and each side is checked to have
 * its own kind of object.
 */
static const char *const sequences[] = {"flash_version_seq", NULL};

static bool is_sequence(const char *table)
{
    for (size_t i = 0; sequences[i]; i++) {
        if (str_eq(sequences[i], table))
            return true;
    }
    return false;
}

/* How many objects named `name` of the kind the backend keeps sequences as. */
static int64_t sequence_objects(struct db *db, const char *name)
{
    struct db_conn *c = testdb_acquire(db);
    struct err e;
    err_init(&e);
    struct db_stmt *s;
    const char *sql = db_backend(db) == DB_SQLITE
                          ? "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
                          : "SELECT count(*) FROM pg_class WHERE relkind = 'S' AND relname = ?";
    if (db_prepare(c, &s, sql, &e))
        fail_msg("sequence %s: %s", name, e.msg);
    db_bind_text(s, 1, name);
    int64_t n = db_step(s, &e) == DB_ROW ? db_col_i64(s, 0) : -1;
    db_stmt_done(s);
    db_conn_release(c);
    return n;
}

static void read_sqlite(struct db *db, struct schema *out)
{
    struct db_conn *c = testdb_acquire(db);
    struct err e;
    err_init(&e);
    struct db_stmt *s;
    if (db_prepare(c, &s,
                   "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk FROM sqlite_master m "
                   "JOIN pragma_table_info(m.name) p WHERE m.type = 'table' "
                   "AND m.name NOT LIKE 'sqlite_%'",
                   &e))
        fail_msg("sqlite schema: %s", e.msg);
    int st;
    while ((st = db_step(s, &e)) == DB_ROW) {
        /* An INTEGER PRIMARY KEY is the rowid: never NULL, whatever table_info says. */
        bool not_null = db_col_i64(s, 3) != 0 || db_col_i64(s, 4) != 0;
        if (is_sequence(db_col_text(s, 0)))
            continue;
        schema_add(out, db_col_text(s, 0), db_col_text(s, 1), sqlite_kind(db_col_text(s, 2)),
                   not_null);
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        fail_msg("sqlite schema: %s", e.msg);
    db_conn_release(c);
}

static void read_pg(struct db *db, struct schema *out)
{
    struct db_conn *c = testdb_acquire(db);
    struct err e;
    err_init(&e);
    struct db_stmt *s;
    if (db_prepare(c, &s,
                   "SELECT c.table_name, c.column_name, c.data_type, c.is_nullable "
                   "FROM information_schema.columns c JOIN information_schema.tables t "
                   "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
                   "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'",
                   &e))
        fail_msg("pg schema: %s", e.msg);
    int st;
    while ((st = db_step(s, &e)) == DB_ROW)
        schema_add(out, db_col_text(s, 0), db_col_text(s, 1), pg_kind(db_col_text(s, 2)),
                   str_eq(db_col_text(s, 3), "NO"));
    db_stmt_done(s);
    if (st == DB_ERROR)
        fail_msg("pg schema: %s", e.msg);
    db_conn_release(c);
}

/* The comparison itself must be able to fail: feed it schemas that differ. */
static void test_diff_finds_differences(void **state)
{
    (void)state;
    struct schema a = {0}, b = {0};
    schema_add(&a, "t", "id", "integer", true);
    schema_add(&a, "t", "only_a", "text", false);
    schema_add(&a, "t", "kind", "text", true);
    schema_add(&a, "t", "null", "text", true);
    schema_add(&b, "t", "null", "text", false);
    schema_add(&b, "t", "kind", "integer", true);
    schema_add(&b, "u", "only_b", "text", false);
    schema_add(&b, "t", "id", "integer", true);
    assert_int_equal(schema_diff(&a, "a", &b, "b"), 4);
    assert_int_equal(schema_diff(&a, "a", &a, "a"), 0);
    assert_string_equal(sqlite_kind("TEXT"), "text");
    assert_string_equal(sqlite_kind("INTEGER"), "integer");
    assert_string_equal(sqlite_kind("bigint"), "integer");
    assert_string_equal(sqlite_kind("REAL"), "real");
    assert_string_equal(pg_kind("timestamp with time zone"), "text");
    assert_string_equal(pg_kind("boolean"), "integer");
    free(a.cols);
    free(b.cols);
}

static void test_sqlite_and_pg_schemas_match(void **state)
{
    (void)state;
    struct testdb ts, tp;
    struct db *sq = migrated(&ts, DB_SQLITE);
    struct db *pg = migrated(&tp, DB_POSTGRES);
    struct schema a = {0}, b = {0};
    read_sqlite(sq, &a);
    read_pg(pg, &b);
    for (size_t i = 0; sequences[i]; i++) {
        assert_int_equal(sequence_objects(sq, sequences[i]), 1);
        assert_int_equal(sequence_objects(pg, sequences[i]), 1);
    }
    db_close(sq);
    db_close(pg);
    testdb_remove(&ts);
    testdb_remove(&tp);
    assert_true(a.n > 20); /* the migrations ran: the comparison is not of two empty sets */
    int diffs = schema_diff(&a, "sqlite", &b, "postgres");
    free(a.cols);
    free(b.cols);
    if (diffs)
        fail_msg("%d schema difference(s) between sqlite and postgres (listed above)", diffs);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_diff_finds_differences),
    };
    const struct CMUnitTest both[] = {
        cmocka_unit_test(test_sqlite_and_pg_schemas_match),
    };
    int failed = cmocka_run_group_tests_name("schema_parity_pure", pure, NULL, NULL);
    if (testdb_pg_dsn())
        failed += cmocka_run_group_tests_name("schema_parity", both, NULL, NULL);
    else
        printf("[  SKIPPED ] schema_parity: TEST_PG_DSN is not set\n");
    return failed ? 1 : 0;
}
