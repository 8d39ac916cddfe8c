/* SPDX-License-Identifier: MIT */
/*
 * Moving an installation from SQLite to PostgreSQL: every row of every table copied, parents
 * before children, into a migrated and empty PostgreSQL database in one transaction, identity
 * sequences moved past the copied ids, then each table checked (row count and sum of ids on both
 * sides). The table order comes from the tenant purge list (platform/purge.h) read backwards,
 * after the tables without a tenant; tests/unit/platform/test_migrate_data.c fails when the schema
 * grows a table that is neither copied nor knowingly skipped. Sealed secrets are copied as they
 * are: keep the same key file. `iceshop migrate-data --from sqlite://… --to postgres://…`.
 */
#ifndef ICESHOP_PLATFORM_MIGRATE_DATA_H
#define ICESHOP_PLATFORM_MIGRATE_DATA_H

#include "core/err.h"
#include "db/db.h"

#include <stdint.h>
#include <stdio.h>

/* The tables copied, parents first (NULL-terminated), and those knowingly not copied. */
extern const char *const migrate_data_skipped[]; /* schema_migrations, leases, ... NULL */
/* Fill out[0..max) with the copy order; returns how many. */
size_t migrate_data_tables(const char **out, size_t max);

struct migrate_data_report {
    int tables;
    int64_t rows;
};

/*
 * Copy `from` (SQLite) into `to` (PostgreSQL; migrated here, and refused with ERR_CONFLICT unless
 * it holds no tenant yet). `progress` (may be NULL) gets a line per table. ERR_INVALID for
 * another pair of backends; ERR_INTERNAL naming the table when a check after the copy fails (the
 * copy is then rolled back).
 */
int migrate_data_copy(struct db *from, struct db *to, FILE *progress,
                      struct migrate_data_report *out, struct err *e);

/* The subcommand: `iceshop migrate-data --from sqlite://PATH --to postgres://…`; exit status. */
int migrate_data_main(int argc, char **argv);

#endif
