/* SPDX-License-Identifier: MIT */
/*
 * A tenant's rows, removed (see purge.h). Tests: tests/unit/db/test_purge.c.
 */
#include "platform/purge.h"
#include "db/store.h"

#include <stdio.h>

/* Children first: a row is deleted before the rows it references. */
const char *const purge_tenant_tables[] = {
    "order_item",
    "orders",
    "cart_item",
    "cart",
    "product",
    "category",
    "customer",
    "geo_climate_monthly",
    "city",
    "message_attachments",
    "messages",
    "participants",
    "precommits",
    "window_targets",
    "flash_windows",
    "demand_signals",
    "supply_signals",
    "buyers",
    "sellers",
    "flash_config",
    "chat_events",
    "contacts",
    "alerts",
    "webhook_deliveries",
    "webhook_endpoints",
    "integration_fields",
    "inbound_events",
    "jobs",
    "api_keys",
    "users",
    NULL,
};

int purge_tenant(struct db_conn *c, int64_t tenant_id, int64_t *rows, struct err *e)
{
    if (rows)
        *rows = 0;
    bool own;
    int rc = db_begin_own(c, &own, e);
    int64_t is_default = 0;
    if (!rc) {
        struct db_stmt *q;
        rc = db_prepare(c, &q, "SELECT COUNT(*) FROM tenants WHERE id = ? AND name = 'default'", e);
        if (!rc) {
            bool found = false;
            db_bind_i64(q, 1, tenant_id);
            rc = db_one_i64(q, &is_default, &found, e);
        }
    }
    if (!rc && is_default)
        rc = err_set(e, ERR_FORBIDDEN, "the default tenant cannot be removed");
    int64_t total = 0;
    for (size_t i = 0; !rc && purge_tenant_tables[i]; i++) {
        /* the names come from the list above, never from input */
        char sql[128];
        snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE tenant_id = ?", purge_tenant_tables[i]);
        struct db_stmt *s;
        rc = db_prepare(c, &s, sql, e);
        if (rc)
            break;
        db_bind_i64(s, 1, tenant_id);
        int64_t n = 0;
        rc = db_exec_write(s, &n, e);
        total += n;
    }
    if (!rc) {
        struct db_stmt *s;
        rc = db_prepare(c, &s, "DELETE FROM tenants WHERE id = ?", e);
        if (!rc) {
            db_bind_i64(s, 1, tenant_id);
            int64_t n = 0;
            rc = db_exec_write(s, &n, e);
            total += n;
            if (!rc && !n)
                rc = err_set(e, ERR_NOT_FOUND, "no tenant %lld", (long long)tenant_id);
        }
    }
    rc = db_end_own(c, own, rc, e);
    if (!rc && rows)
        *rows = total;
    return rc;
}
