/* SPDX-License-Identifier: MIT */
/*
 * The database lock: every iceshop process that opens a SQLite database holds a shared
 * flock(2) on the file PATH.lock beside it for as long as it runs; `iceshop restore` takes it
 * exclusively, so a restore never replaces the file under a running server and no server starts
 * during one. PostgreSQL needs none. Tests: tests/unit/platform/test_backup.c,
 * tests/integration/0017-ops.c.
 */
#ifndef ICESHOP_PLATFORM_DBLOCK_H
#define ICESHOP_PLATFORM_DBLOCK_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * The SQLite file of a database URL ("sqlite://var/x.db?..." → "var/x.db") into out (n bytes).
 * False for any other URL, for ":memory:" and when it does not fit.
 */
bool dblock_sqlite_path(const char *database_url, char *out, size_t n);

/*
 * Take the lock of SQLite file `db_path` without waiting: shared (a server or command using
 * the database) or exclusive (a restore). ERR_CONFLICT when the other kind is held, with a
 * message that says who holds it; ERR_INTERNAL when the lock file cannot be opened.
 * On success *fd is the lock's descriptor: the lock lasts until dblock_release(*fd) or exit.
 */
int dblock_take(const char *db_path, bool exclusive, int *fd, struct err *e);
/* Release a lock taken by dblock_take; a negative fd is ignored. */
void dblock_release(int fd);

#endif
