/* SPDX-License-Identifier: MIT */
/*
 * Numbered SQL migrations per backend (src/db/sql/sqlite, src/db/sql/pg), embedded in the
 * binary, each applied in its own transaction and recorded in `schema_migrations`.
 * Safe to run from several processes at once. Tests: tests/unit/db/test_db.c.
 */
#ifndef ICESHOP_DB_MIGRATE_H
#define ICESHOP_DB_MIGRATE_H

#include "core/err.h"
#include "db/db.h"

/* Apply every migration not yet recorded; *applied (may be NULL) gets how many ran. */
int db_migrate(struct db *db, int *applied, struct err *e);
/* Highest applied version, 0 for a fresh database. */
int db_schema_version(struct db *db, int *version, struct err *e);
/* Highest migration this binary carries for the database's backend (what db_migrate reaches). */
int db_migrate_latest(struct db *db);

#endif
