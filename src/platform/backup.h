/* SPDX-License-Identifier: MIT */
/*
 * Backups of a SQLite database while the server runs, and restoring one. `iceshop backup FILE`
 * copies a consistent snapshot (SQLite's VACUUM INTO: one read transaction, so writers go on
 * and the copy holds exactly the transactions committed before it began); `iceshop restore
 * FILE` puts a backup in place of the configured database, only when no iceshop process holds
 * the database lock (platform/dblock.h) and only a file that is an Iceshop database. PostgreSQL
 * is backed up with pg_dump / pg_restore (docs/DEPLOY.md); both functions refuse it.
 * Tests: tests/unit/platform/test_backup.c, tests/integration/0017-ops.c.
 */
#ifndef ICESHOP_PLATFORM_BACKUP_H
#define ICESHOP_PLATFORM_BACKUP_H

#include "core/err.h"
#include "db/db.h"

#include <stddef.h>

/*
 * Write a consistent copy of SQLite database `db` to `dest`: first to dest.tmp, synced, then
 * renamed over `dest` (an existing file is replaced only by a complete copy). The database may
 * be in use by this and other processes meanwhile. The copy is of the schema as found: the
 * caller must not migrate first (a backup taken before an upgrade is of the old version).
 * ERR_INVALID for PostgreSQL (use pg_dump) and for a database with no Iceshop schema, ERR_DB /
 * ERR_INTERNAL when the copy or the file operations fail (dest is left untouched).
 */
int backup_make(struct db *db, const char *dest, struct err *e);

/*
 * Is `path` an Iceshop database this binary can run? A SQLite file (header), whose schema
 * passes SQLite's quick_check and has the tables `schema_migrations` and `tenants`, at a schema
 * version not above the binary's latest migration. *version gets its schema version. The file
 * is opened read-write (it may be switched to WAL mode): check a copy, not an original.
 * ERR_INVALID names what is wrong.
 */
int backup_check(const char *path, int *version, struct err *e);

/*
 * Replace the SQLite database of `database_url` with backup `src`. Refused (ERR_CONFLICT) while
 * any iceshop process holds the database lock; refused (ERR_INVALID) when `src` is not an
 * Iceshop database (backup_check) or the URL is not SQLite. `src` is copied next to the
 * database and checked there, then the current database (with its WAL) is moved to
 * PATH.before-restore and the copy renamed into place; `src` itself is only read.
 * *version gets the restored schema version; `previous` (n bytes) the path the old database was
 * moved to, or "" when there was none.
 */
int backup_restore(const char *database_url, const char *src, int *version, char *previous,
                   size_t n, struct err *e);

#endif
