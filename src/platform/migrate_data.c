/* SPDX-License-Identifier: MIT */
/*
 * SQLite to PostgreSQL (see migrate_data.h): read each table with SELECT *, insert its rows by
 * column name as text (PostgreSQL reads each value as its column's type), then check counts
 * and id sums. Tests: tests/unit/platform/test_migrate_data.c (with TEST_PG_DSN).
 */
#include "platform/migrate_data.h"
#include "core/buf.h"
#include "db/migrate.h"
#include "db/store.h"
#include "platform/purge.h"

#include <string.h>

/* Tables without a tenant, parents of the others; copied first. */
static const char *const head[] = {"tenants", "settings", "sched_state", NULL};

const char *const migrate_data_skipped[] = {
    "schema_migrations", /* the destination has its own, from db_migrate */
    "leases",            /* who leads the scheduler now: the new installation decides */
    "sqlite_sequence",   /* SQLite's own */
    "flash_version_seq", /* a sequence in PostgreSQL: moved on past the source's value below */
    NULL};

size_t migrate_data_tables(const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; head[i] && n < max; i++)
        out[n++] = head[i];
    size_t k = 0;
    while (purge_tenant_tables[k].name)
        k++;
    while (k-- > 0 && n < max)
        out[n++] = purge_tenant_tables[k].name;
    return n;
}

/* Row count and the sum of column `id_col` ("" for none) of `table`. */
static int count_and_sum(struct db_conn *c, const char *table, const char *id_col, int64_t *count,
                         int64_t *sum, struct err *e)
{
    char sql[256];
    if (*id_col)
        snprintf(sql, sizeof(sql), "SELECT count(*), coalesce(sum(%s), 0) FROM %s", id_col, table);
    else
        snprintf(sql, sizeof(sql), "SELECT count(*), 0 FROM %s", table);
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    int st = db_step(s, e);
    if (st == DB_ROW) {
        *count = db_col_i64(s, 0);
        *sum = db_col_i64(s, 1);
    }
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

/*
 * The destination table's identity column (PostgreSQL; "id", "order_id", ...) into out, or ""
 * when it has none.
 */
static int identity_column(struct db_conn *dst, const char *table, char *out, size_t n,
                           struct err *e)
{
    out[0] = '\0';
    struct db_stmt *s;
    int rc = db_prepare(dst, &s,
                        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                        "current_schema() AND table_name = ? AND is_identity = 'YES'",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, table);
    int st = db_step(s, e);
    if (st == DB_ROW && db_col_text(s, 0))
        snprintf(out, n, "%s", db_col_text(s, 0));
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

/* Copy one table's rows; *n gets how many. */
static int copy_table(struct db_conn *src, struct db_conn *dst, const char *table, int64_t *n,
                      struct err *e)
{
    *n = 0;
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT * FROM %s", table);
    struct db_stmt *s;
    int rc = db_prepare(src, &s, sql, e);
    if (rc)
        return rc;
    struct db_stmt *ins = NULL;
    int cols = 0, st;
    while ((st = db_step(s, e)) == DB_ROW) {
        if (!ins) {
            cols = db_col_count(s);
            struct buf q;
            buf_init(&q, 8192);
            buf_appendf(&q, "INSERT INTO %s (", table);
            for (int i = 0; i < cols; i++)
                buf_appendf(&q, "%s%s", i ? ", " : "", db_col_name(s, i));
            /* ids are copied as they are, also into GENERATED ALWAYS identity columns */
            buf_appends(&q, ") OVERRIDING SYSTEM VALUE VALUES (");
            for (int i = 0; i < cols; i++)
                buf_appends(&q, i ? ", ?" : "?");
            buf_appends(&q, ")");
            rc = db_prepare(dst, &ins, buf_str(&q), e);
            buf_release(&q);
            if (rc)
                break;
        }
        for (int i = 0; i < cols; i++) {
            const char *v = db_col_text(s, i);
            if (v)
                db_bind_text(ins, i + 1, v);
            else
                db_bind_null(ins, i + 1);
        }
        rc = db_exec_write(ins, NULL, e); /* finishes the statement; it is prepared again */
        ins = NULL;
        if (rc)
            break;
        (*n)++;
    }
    db_stmt_done(s);
    if (!rc && st == DB_ERROR)
        rc = db_step_error(e);
    if (rc)
        err_set(e, e->code ? e->code : ERR_DB, "table %s, row %lld: %s", table, (long long)*n + 1,
                e->msg);
    return rc;
}

int migrate_data_copy(struct db *from, struct db *to, FILE *progress,
                      struct migrate_data_report *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (db_backend(from) != DB_SQLITE || db_backend(to) != DB_POSTGRES)
        return err_set(e, ERR_INVALID, "migrate-data copies a SQLite database into PostgreSQL");
    int rc = db_migrate(to, NULL, e);
    if (rc)
        return rc;
    struct db_conn *src = NULL, *dst = NULL;
    rc = db_conn_acquire(from, &src, e);
    if (!rc)
        rc = db_conn_acquire(to, &dst, e);
    int64_t tenants = 0, ignored = 0;
    if (!rc)
        rc = count_and_sum(dst, "tenants", "", &tenants, &ignored, e);
    if (!rc && tenants > 0)
        rc = err_set(e, ERR_CONFLICT,
                     "the PostgreSQL database already holds %lld tenant(s); migrate into an "
                     "empty one",
                     (long long)tenants);
    /* a consistent read of the source, one write transaction on the destination */
    if (!rc)
        rc = db_begin(src, e);
    if (!rc)
        rc = db_begin(dst, e);
    /* flash versions go on from where the source left them (ETags never name two states) */
    if (!rc) {
        int64_t seq = 0, seq_rows = 0;
        rc = count_and_sum(src, "flash_version_seq", "value", &seq_rows, &seq, e);
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT setval('flash_version_seq', %lld)",
                 (long long)(seq > 0 ? seq + 1 : 1));
        if (!rc)
            rc = db_exec(dst, sql, e);
    }
    const char *tables[128];
    size_t nt = migrate_data_tables(tables, 128);
    for (size_t i = 0; !rc && i < nt; i++) {
        int64_t n = 0, c1 = 0, s1 = 0, c2 = 0, s2 = 0;
        char id_col[64];
        rc = identity_column(dst, tables[i], id_col, sizeof(id_col), e);
        if (!rc)
            rc = copy_table(src, dst, tables[i], &n, e);
        if (!rc && id_col[0]) {
            char sql[512];
            snprintf(sql, sizeof(sql),
                     "SELECT setval(pg_get_serial_sequence('%s', '%s'), "
                     "greatest(coalesce(max(%s), 0), 1), max(%s) IS NOT NULL) FROM %s",
                     tables[i], id_col, id_col, id_col, tables[i]);
            rc = db_exec(dst, sql, e);
        }
        if (!rc)
            rc = count_and_sum(src, tables[i], id_col, &c1, &s1, e);
        if (!rc)
            rc = count_and_sum(dst, tables[i], id_col, &c2, &s2, e);
        if (!rc && (c1 != c2 || s1 != s2))
            rc = err_set(e, ERR_INTERNAL,
                         "table %s differs after the copy: %lld rows (ids %lld) in SQLite, %lld "
                         "(ids %lld) in PostgreSQL",
                         tables[i], (long long)c1, (long long)s1, (long long)c2, (long long)s2);
        if (!rc) {
            out->tables++;
            out->rows += n;
            if (progress)
                fprintf(progress, "  %-24s %10lld rows, checked\n", tables[i], (long long)n);
        }
    }
    if (dst && db_in_transaction(dst))
        rc = rc ? (db_rollback(dst), rc) : db_commit(dst, e);
    if (src && db_in_transaction(src))
        db_rollback(src);
    db_conn_release(dst);
    db_conn_release(src);
    return rc;
}

int migrate_data_main(int argc, char **argv)
{
    const char *from = NULL, *to = NULL;
    for (int i = 0; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--from") == 0)
            from = argv[i + 1];
        else if (strcmp(argv[i], "--to") == 0)
            to = argv[i + 1];
    }
    if (!from || !to || argc != 4) {
        fputs("usage: iceshop migrate-data --from sqlite://PATH --to postgres://USER@HOST/DB\n"
              "  copies every row into a migrated, empty PostgreSQL database and checks each\n"
              "  table; stop the server first, and keep the same secret key file\n",
              stderr);
        return 2;
    }
    struct err e;
    err_init(&e);
    struct db *src = NULL, *dst = NULL;
    int rc = db_open(&src, from, NULL, &e);
    if (!rc)
        rc = db_open(&dst, to, NULL, &e);
    struct migrate_data_report r;
    if (!rc) {
        fprintf(stderr, "copying %s into %s\n", db_backend_name(src), db_backend_name(dst));
        rc = migrate_data_copy(src, dst, stderr, &r, &e);
    }
    db_close(dst);
    db_close(src);
    if (rc) {
        fprintf(stderr, "iceshop: migrate-data: %s\n", e.msg);
        return 1;
    }
    printf("copied %lld rows in %d tables; every table checked (rows and ids)\n", (long long)r.rows,
           r.tables);
    return 0;
}
