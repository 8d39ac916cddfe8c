/* SPDX-License-Identifier: MIT */
/*
 * Removing a tenant and everything it owns: every table with a tenant_id column, children
 * before parents, then the tenant row, in one transaction. The list of tables is written once
 * here; tests/unit/db/test_purge.c fails when the schema has a tenant table this list misses.
 * Used by `iceshop tenants delete` and `iceshop demo --reset`.
 */
#ifndef ICESHOP_PLATFORM_PURGE_H
#define ICESHOP_PLATFORM_PURGE_H

#include "core/err.h"
#include "db/db.h"

#include <stddef.h>
#include <stdint.h>

/* The tables holding a tenant's rows, in the order they are emptied (NULL-terminated). */
extern const char *const purge_tenant_tables[];

/*
 * Delete every row of tenant `tenant_id` and the tenant itself (one transaction, joins the
 * caller's). *rows (may be NULL) gets how many rows went. The tenant named "default" is
 * refused (ERR_FORBIDDEN): it holds the server's own jobs and is recreated at start.
 * ERR_NOT_FOUND when there is no such tenant.
 */
int purge_tenant(struct db_conn *c, int64_t tenant_id, int64_t *rows, struct err *e);

#endif
