/* SPDX-License-Identifier: MIT */
/*
 * Removing a tenant and everything it owns: every table with a tenant_id column, children
 * before parents, then the tenant row, in one transaction. The list of tables is written once
 * here; tests/unit/db/test_purge.c fails when the schema has a tenant table this list misses.
 * Each table is marked with what it holds, so a reset (`iceshop reset --tenant T --yes`) empties
 * a tenant's business data from the same list and keeps its access and settings.
 * Used by `iceshop tenants delete`, `iceshop demo --reset` and `iceshop reset`.
 */
#ifndef ICESHOP_PLATFORM_PURGE_H
#define ICESHOP_PLATFORM_PURGE_H

#include "core/err.h"
#include "db/db.h"

#include <stddef.h>
#include <stdint.h>

enum purge_kind {
    PURGE_DATA,     /* business data: people, signals, windows, messages, events, jobs */
    PURGE_SETTINGS, /* the tenant's configuration: engine settings, providers, endpoints */
    PURGE_ACCESS,   /* who may act for the tenant: users and API keys */
};

struct purge_table {
    const char *name;
    enum purge_kind kind;
};

/* The tables holding a tenant's rows, in the order they are emptied (ends with name NULL). */
extern const struct purge_table purge_tenant_tables[];

/*
 * Delete every row of tenant `tenant_id` and the tenant itself (one transaction, joins the
 * caller's). *rows (may be NULL) gets how many rows went. The tenant named "default" is
 * refused (ERR_FORBIDDEN): it holds the server's own jobs and is recreated at start.
 * ERR_NOT_FOUND when there is no such tenant.
 */
int purge_tenant(struct db_conn *c, int64_t tenant_id, int64_t *rows, struct err *e);

/*
 * Empty tenant `tenant_id`'s business data (every PURGE_DATA table, jobs included) and keep the
 * tenant, its settings and its access (one transaction, joins the caller's). Allowed for every
 * tenant, the default one too. *rows (may be NULL) gets how many rows went. ERR_NOT_FOUND when
 * there is no such tenant.
 */
int purge_tenant_reset(struct db_conn *c, int64_t tenant_id, int64_t *rows, struct err *e);

#endif
