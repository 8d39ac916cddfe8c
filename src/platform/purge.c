/* SPDX-License-Identifier: MIT */
/*
 * A tenant's rows, removed or reset (see purge.h). Tests: tests/unit/platform/test_purge.c.
 */
#include "platform/purge.h"
#include "db/store.h"

#include <stdio.h>

/* Children first: a row is deleted before the rows it references. */
const struct purge_table purge_tenant_tables[] = {
    {"campaign_recipients", PURGE_DATA}, /* campaigns sent: who got them, in which arm */
    {"campaign_sends", PURGE_DATA},
    {"campaigns", PURGE_DATA},        /* the campaign planner's decision log */
    {"intel_config", PURGE_SETTINGS}, /* customer intelligence's settings */
    /* customer profiles (derived from the commerce rows below; recomputed by the next batch) */
    {"customer_prediction", PURGE_DATA},
    {"customer_variety_profile", PURGE_DATA},
    {"customer_replenishment_profile", PURGE_DATA},
    {"customer_category_affinity", PURGE_DATA},
    {"customer_loyalty_profile", PURGE_DATA},
    {"customer_budget_profile", PURGE_DATA},
    {"profile_current", PURGE_DATA},
    {"profile_batch", PURGE_DATA},
    {"certificates", PURGE_DATA}, /* their PDFs are files rows: removed with the files' objects */
    {"certificate_keys", PURGE_SETTINGS}, /* a reset keeps the tenant's signing keys */
    {"recovery_carts", PURGE_DATA},
    {"recovery_cycles", PURGE_DATA},
    {"recovery_polling", PURGE_SETTINGS},
    {"agent_integrations", PURGE_SETTINGS},
    {"company_agents", PURGE_SETTINGS},
    {"flash_prepay", PURGE_DATA}, /* prepaid windows' orders: before orders and windows */
    {"payment_history", PURGE_DATA},
    {"payment_refunds", PURGE_DATA},
    {"payments", PURGE_DATA},
    {"payment_idempotency", PURGE_DATA},
    {"order_status_history", PURGE_DATA},
    {"order_item", PURGE_DATA},
    {"orders", PURGE_DATA},
    {"cart_item", PURGE_DATA},
    {"cart", PURGE_DATA},
    {"product", PURGE_DATA},
    {"category", PURGE_DATA},
    {"customer", PURGE_DATA},
    {"geo_climate_monthly", PURGE_SETTINGS}, /* reference data: kept by a reset */
    {"city", PURGE_SETTINGS},
    {"message_attachments", PURGE_DATA},
    {"messages", PURGE_DATA},
    {"seller_fees", PURGE_DATA}, /* the sellers' ledger of billed visits */
    {"participants", PURGE_DATA},
    {"precommits", PURGE_DATA},
    {"window_targets", PURGE_DATA},
    {"flash_windows", PURGE_DATA},
    {"flash_learning", PURGE_DATA},
    {"flash_versions", PURGE_DATA},
    {"privacy_requests", PURGE_SETTINGS}, /* the record that a person was answered: kept */
    {"demand_signals", PURGE_DATA},
    {"supply_signals", PURGE_DATA},
    {"buyers", PURGE_DATA},
    {"sellers", PURGE_DATA},
    {"flash_config", PURGE_SETTINGS},
    {"chat_events", PURGE_DATA},
    {"contacts", PURGE_DATA},
    {"flash_scan_versions", PURGE_DATA}, /* after every table whose triggers bump it */
    {"alerts", PURGE_DATA},
    {"webhook_deliveries", PURGE_DATA},
    {"webhook_endpoints", PURGE_SETTINGS},
    {"integration_fields", PURGE_SETTINGS},
    {"inbound_events", PURGE_DATA},
    {"files", PURGE_DATA}, /* the stored objects go first: files_purge_objects (main.c) */
    {"files_limits", PURGE_SETTINGS},
    {"jobs", PURGE_DATA},
    {"api_keys", PURGE_ACCESS},
    {"users", PURGE_ACCESS},
    {NULL, PURGE_DATA},
};

/* Delete tenant `tenant_id`'s rows of every listed table, or with `reset` only PURGE_DATA ones. */
static int delete_rows(struct db_conn *c, int64_t tenant_id, bool reset, int64_t *total,
                       struct err *e)
{
    for (size_t i = 0; purge_tenant_tables[i].name; i++) {
        if (reset && purge_tenant_tables[i].kind != PURGE_DATA)
            continue;
        /* the names come from the list above, never from input */
        char sql[128];
        snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE tenant_id = ?",
                 purge_tenant_tables[i].name);
        struct db_stmt *s;
        int rc = db_prepare(c, &s, sql, e);
        if (rc)
            return rc;
        db_bind_i64(s, 1, tenant_id);
        int64_t n = 0;
        rc = db_exec_write(s, &n, e);
        if (rc)
            return rc;
        *total += n;
    }
    return 0;
}

static int tenant_exists(struct db_conn *c, int64_t tenant_id, int64_t *is_default, struct err *e)
{
    struct db_stmt *q;
    int rc = db_prepare(c, &q, "SELECT name = 'default' FROM tenants WHERE id = ?", e);
    if (rc)
        return rc;
    bool found = false;
    db_bind_i64(q, 1, tenant_id);
    rc = db_one_i64(q, is_default, &found, e);
    if (!rc && !found)
        rc = err_set(e, ERR_NOT_FOUND, "no tenant %lld", (long long)tenant_id);
    return rc;
}

int purge_tenant(struct db_conn *c, int64_t tenant_id, int64_t *rows, struct err *e)
{
    if (rows)
        *rows = 0;
    bool own;
    int rc = db_begin_own(c, &own, e);
    int64_t is_default = 0;
    if (!rc)
        rc = tenant_exists(c, tenant_id, &is_default, e);
    if (!rc && is_default)
        rc = err_set(e, ERR_FORBIDDEN, "the default tenant cannot be removed");
    int64_t total = 0;
    if (!rc)
        rc = delete_rows(c, tenant_id, false, &total, e);
    if (!rc) {
        struct db_stmt *s;
        rc = db_prepare(c, &s, "DELETE FROM tenants WHERE id = ?", e);
        if (!rc) {
            db_bind_i64(s, 1, tenant_id);
            int64_t n = 0;
            rc = db_exec_write(s, &n, e);
            total += n;
        }
    }
    rc = db_end_own(c, own, rc, e);
    if (!rc && rows)
        *rows = total;
    return rc;
}

int purge_tenant_reset(struct db_conn *c, int64_t tenant_id, int64_t *rows, struct err *e)
{
    if (rows)
        *rows = 0;
    bool own;
    int rc = db_begin_own(c, &own, e);
    int64_t is_default = 0;
    if (!rc)
        rc = tenant_exists(c, tenant_id, &is_default, e);
    int64_t total = 0;
    if (!rc)
        rc = delete_rows(c, tenant_id, true, &total, e);
    rc = db_end_own(c, own, rc, e);
    if (!rc && rows)
        *rows = total;
    return rc;
}
