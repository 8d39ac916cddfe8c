/* SPDX-License-Identifier: MIT */
/*
 * The store toolkit: what every module's *_store.c needs on top of db.h, so stores hold their
 * SQL and row readers and nothing else. Running a statement for one integer or for its row
 * count, "does this tenant own row pk", "which pk has this key", copying text columns into an
 * arena, the list row loop, and one page type for keyset pagination. Like db.h these are
 * single statements: they join the caller's transaction when one is open.
 * Tests: tests/unit/db/test_store.c (SQLite, and PostgreSQL when TEST_PG_DSN is set).
 */
#ifndef ICESHOP_DB_STORE_H
#define ICESHOP_DB_STORE_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Step `s` (prepared and bound by the caller) for at most one row whose first column is an
 * integer: *found tells whether there was a row, *out gets the value (left alone without one).
 * `s` is finished (db_stmt_done) in every case. Errors: as db_step.
 */
int db_one_i64(struct db_stmt *s, int64_t *out, bool *found, struct err *e);

/*
 * Step a prepared INSERT/UPDATE/DELETE once; *changes (may be NULL) gets the rows it touched.
 * `s` is finished in every case. Errors: as db_step (ERR_CONFLICT for constraints).
 */
int db_exec_write(struct db_stmt *s, int64_t *changes, struct err *e);

/*
 * ERR_NOT_FOUND naming `field` ("no <field> <pk> in this tenant") unless `sql` finds a row;
 * `sql` takes the pk, then the tenant: "SELECT 1 FROM t WHERE id = ? AND tenant_id = ?".
 */
int db_check_owned(struct db_conn *c, const char *sql, int64_t tenant, int64_t pk,
                   const char *field, struct err *e);

/*
 * The integer `sql` finds for the tenant and a text key ("SELECT id FROM t WHERE tenant_id = ?
 * AND phone = ?"); *pk is 0 when there is no row, which is not an error.
 */
int db_find_pk(struct db_conn *c, const char *sql, int64_t tenant, const char *key, int64_t *pk,
               struct err *e);

/* Text column copied into `a`: db_col_str gives "" for NULL, db_col_dup keeps NULL. */
const char *db_col_str(struct db_stmt *s, int col, struct arena *a);
const char *db_col_dup(struct db_stmt *s, int col, struct arena *a);

/*
 * A tenant's settings kept as one JSON text per tenant in `table` (columns tenant_id primary key,
 * config, updated_at; `table` is a constant of the caller's). db_settings_get: *text is the
 * stored text copied into `a`, or NULL without a row (not an error). db_settings_put inserts or
 * replaces it, stamped `now_ms`.
 */
int db_settings_get(struct db_conn *c, const char *table, int64_t tenant, struct arena *a,
                    const char **text, struct err *e);
int db_settings_put(struct db_conn *c, const char *table, int64_t tenant, const char *text,
                    int64_t now_ms, struct err *e);

/*
 * The row loop. Step `s` (prepared and bound) to the end; for each row grow an array of
 * `elem_size` elements in `a` and call read(s, a, &element) to fill the (zeroed) element.
 * On success *rows is the array (NULL when there are none) and *n its length. `s` is finished
 * in every case; on error *rows is NULL and *n 0. Errors: as db_step.
 */
int db_list(struct db_stmt *s, db_row_fn *read, size_t elem_size, struct arena *a, void **rows,
            size_t *n, struct err *e);

/*
 * One page of a list in keyset order. `after` is the cursor: the id of the last row of the
 * previous page (0 = the first page); the list continues past it in the list's own order (ids
 * below it for newest-first lists, above it for oldest-first ones). `limit` is the page size.
 */
struct page {
    int64_t after;
    int limit;
};

/* `limit` clamped to 1..max, with `def` for 0 or less: what stores pass to LIMIT. */
int db_page_limit(int limit, int def, int max);

/*
 * The cursor for the page after this one: the id of its last row when the page came back full
 * (more may follow), else 0 (this was the last page).
 */
int64_t db_page_next(const struct page *p, size_t n, int64_t last_id);

#endif
