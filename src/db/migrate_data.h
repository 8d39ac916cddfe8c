/* SPDX-License-Identifier: MIT */
/*
 * The migration SQL files, embedded at build time by scripts/embed_sql.sh from
 * src/db/sql/<backend>/NNNN_name.sql. Read only by migrate.c.
 */
#ifndef ICESHOP_DB_MIGRATE_DATA_H
#define ICESHOP_DB_MIGRATE_DATA_H

#include <stddef.h>

struct migration_file {
    const char *backend; /* "sqlite" or "pg" */
    int version;         /* NNNN */
    const char *name;    /* "0001_core" */
    const char *sql;
};

extern const struct migration_file migration_files[];
extern const size_t migration_files_count;

#endif
