/* SPDX-License-Identifier: MIT */
/*
 * Cart recovery's SQL through db_* only (see recovery_store.h). Every statement filters by
 * tenant. Tests: tests/integration/0025-recovery.c.
 */
#include "domain/recovery/recovery_store.h"
#include "core/buf.h"
#include "core/clock.h"
#include "db/store.h"
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGENT_COLS                                                                                 \
    "id, name, company, template_slug, is_active, recovery_url, cutoff_minutes, cooldown_days, "   \
    "sequence, endpoint_id, created_at, updated_at"

static void sequence_text(const struct recovery_agent *ag, char *out, size_t n)
{
    size_t used = (size_t)snprintf(out, n, "[");
    for (size_t i = 0; i < ag->n_sequence && used < n; i++)
        used += (size_t)snprintf(out + used, n - used, "%s%d", i ? "," : "", ag->sequence[i]);
    if (used < n)
        snprintf(out + used, n - used, "]");
}

static void sequence_read(const char *text, struct recovery_agent *ag)
{
    ag->n_sequence = 0;
    json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
    for (size_t i = 0; i < json_array_size(arr) && ag->n_sequence < RECOVERY_SEQUENCE_MAX; i++)
        ag->sequence[ag->n_sequence++] = (int)json_integer_value(json_array_get(arr, i));
    json_decref(arr);
}

static void read_agent(struct db_stmt *s, struct arena *a, void *out)
{
    struct recovery_agent *ag = out;
    ag->id = db_col_i64(s, 0);
    ag->name = db_col_str(s, 1, a);
    ag->company = db_col_str(s, 2, a);
    ag->template_slug = db_col_str(s, 3, a);
    ag->is_active = db_col_bool(s, 4);
    ag->recovery_url = db_col_str(s, 5, a);
    ag->cutoff_minutes = (int)db_col_i64(s, 6);
    ag->cooldown_days = (int)db_col_i64(s, 7);
    sequence_read(db_col_text(s, 8), ag);
    ag->endpoint_id = db_col_i64(s, 9);
    ag->created_at_ms = db_col_time(s, 10);
    ag->updated_at_ms = db_col_time(s, 11);
}

int recovery_store_agent_insert(struct db_conn *c, int64_t tenant, struct recovery_agent *ag,
                                int64_t now_ms, struct err *e)
{
    char seq[128];
    sequence_text(ag, seq, sizeof(seq));
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO company_agents (tenant_id, name, company, template_slug, "
                        "is_active, recovery_url, cutoff_minutes, cooldown_days, sequence, "
                        "endpoint_id, created_at, updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, ag->name);
    db_bind_text(s, 3, ag->company);
    db_bind_text(s, 4, ag->template_slug);
    db_bind_bool(s, 5, ag->is_active);
    db_bind_text(s, 6, ag->recovery_url);
    db_bind_i64(s, 7, ag->cutoff_minutes);
    db_bind_i64(s, 8, ag->cooldown_days);
    db_bind_text(s, 9, seq);
    db_bind_i64(s, 10, ag->endpoint_id);
    db_bind_time(s, 11, now_ms);
    db_bind_time(s, 12, now_ms);
    bool found = false;
    rc = db_one_i64(s, &ag->id, &found, e);
    if (!rc && !found)
        rc = err_set(e, ERR_INTERNAL, "agent insert returned no row");
    ag->created_at_ms = ag->updated_at_ms = now_ms;
    return rc;
}

int recovery_store_agent_get(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                             struct recovery_agent *out, bool *found, struct err *e)
{
    memset(out, 0, sizeof(*out));
    return db_get_one(c, "SELECT " AGENT_COLS " FROM company_agents WHERE tenant_id = ? AND id = ?",
                      tenant, NULL, id, read_agent, a, out, found, e);
}

int recovery_store_agent_list(struct db_conn *c, int64_t tenant, int64_t after, int limit,
                              struct arena *a, struct recovery_agent **rows, size_t *n,
                              struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT " AGENT_COLS " FROM company_agents WHERE tenant_id = ? AND id > ? "
                        "ORDER BY id LIMIT ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, after);
    db_bind_i64(s, 3, limit);
    return db_list(s, read_agent, sizeof(**rows), a, (void **)rows, n, e);
}

int recovery_store_agent_update(struct db_conn *c, int64_t tenant, const struct recovery_agent *ag,
                                int64_t now_ms, bool *found, struct err *e)
{
    char seq[128];
    sequence_text(ag, seq, sizeof(seq));
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE company_agents SET name = ?, company = ?, template_slug = ?, "
                        "is_active = ?, recovery_url = ?, cutoff_minutes = ?, cooldown_days = ?, "
                        "sequence = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, ag->name);
    db_bind_text(s, 2, ag->company);
    db_bind_text(s, 3, ag->template_slug);
    db_bind_bool(s, 4, ag->is_active);
    db_bind_text(s, 5, ag->recovery_url);
    db_bind_i64(s, 6, ag->cutoff_minutes);
    db_bind_i64(s, 7, ag->cooldown_days);
    db_bind_text(s, 8, seq);
    db_bind_time(s, 9, now_ms);
    db_bind_i64(s, 10, tenant);
    db_bind_i64(s, 11, ag->id);
    int64_t changed = 0;
    rc = db_exec_write(s, &changed, e);
    *found = changed > 0;
    return rc;
}

static int delete_where(struct db_conn *c, const char *sql, int64_t tenant, int64_t id,
                        int64_t *changed, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, id);
    return db_exec_write(s, changed, e);
}

int recovery_store_agent_delete(struct db_conn *c, int64_t tenant, int64_t id, bool *found,
                                struct err *e)
{
    int64_t changed = 0;
    int rc = delete_where(c, "DELETE FROM recovery_carts WHERE tenant_id = ? AND agent_id = ?",
                          tenant, id, NULL, e);
    if (!rc)
        rc = delete_where(c, "DELETE FROM agent_integrations WHERE tenant_id = ? AND agent_id = ?",
                          tenant, id, NULL, e);
    if (!rc)
        rc = delete_where(c, "DELETE FROM company_agents WHERE tenant_id = ? AND id = ?", tenant,
                          id, &changed, e);
    *found = changed > 0;
    return rc;
}

/* ---- integrations ---- */

#define INTEGRATION_COLS                                                                           \
    "id, agent_id, platform, shop_domain, site_url, feed_url, base_url, credentials, watermark, "  \
    "state, failures, last_error, last_polled_at, last_ok_at, created_at, updated_at"

struct integration_read {
    struct recovery_integration *out;
    const char **sealed;
};

static void fill_integration(struct db_stmt *s, struct arena *a, struct recovery_integration *r,
                             const char **sealed)
{
    r->id = db_col_i64(s, 0);
    r->agent_id = db_col_i64(s, 1);
    const char *p = db_col_text(s, 2);
    r->platform = RECOVERY_SHOPIFY;
    for (int i = 0; p && recovery_platform_names[i]; i++) {
        if (strcmp(p, recovery_platform_names[i]) == 0)
            r->platform = (enum recovery_platform)i;
    }
    r->shop_domain = db_col_dup(s, 3, a);
    r->site_url = db_col_dup(s, 4, a);
    r->feed_url = db_col_dup(s, 5, a);
    r->base_url = db_col_dup(s, 6, a);
    r->has_credentials = !db_col_is_null(s, 7);
    if (sealed)
        *sealed = db_col_dup(s, 7, a);
    r->watermark = db_col_dup(s, 8, a);
    r->state = db_col_str(s, 9, a);
    r->failures = (int)db_col_i64(s, 10);
    r->last_error = db_col_dup(s, 11, a);
    r->last_polled_at_ms = db_col_time(s, 12);
    r->last_ok_at_ms = db_col_time(s, 13);
    r->created_at_ms = db_col_time(s, 14);
    r->updated_at_ms = db_col_time(s, 15);
}

static void read_integration(struct db_stmt *s, struct arena *a, void *out)
{
    struct integration_read *r = out;
    fill_integration(s, a, r->out, r->sealed);
}

static void read_integration_row(struct db_stmt *s, struct arena *a, void *out)
{
    fill_integration(s, a, out, NULL);
}

static void bind_opt(struct db_stmt *s, int idx, const char *v)
{
    if (v)
        db_bind_text(s, idx, v);
    else
        db_bind_null(s, idx);
}

int recovery_store_integration_insert(struct db_conn *c, int64_t tenant, int64_t agent_id,
                                      enum recovery_platform p,
                                      const struct recovery_integration_in *in, const char *sealed,
                                      int64_t now_ms, int64_t *id, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO agent_integrations (tenant_id, agent_id, platform, "
                        "shop_domain, site_url, feed_url, base_url, credentials, created_at, "
                        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, agent_id);
    db_bind_text(s, 3, recovery_platform_names[p]);
    bind_opt(s, 4, in->shop_domain);
    bind_opt(s, 5, in->site_url);
    bind_opt(s, 6, in->feed_url);
    bind_opt(s, 7, in->base_url);
    bind_opt(s, 8, sealed);
    db_bind_time(s, 9, now_ms);
    db_bind_time(s, 10, now_ms);
    bool found = false;
    rc = db_one_i64(s, id, &found, e);
    if (!rc && !found)
        rc = err_set(e, ERR_INTERNAL, "integration insert returned no row");
    return rc;
}

int recovery_store_integration_update(struct db_conn *c, int64_t tenant, int64_t agent_id,
                                      int64_t id, const struct recovery_integration_in *in,
                                      const char *sealed, int64_t now_ms, bool *found,
                                      struct err *e)
{
    /* new credentials: the integration is active again and its failures forgotten */
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE agent_integrations SET shop_domain = COALESCE(?, shop_domain), "
                        "site_url = COALESCE(?, site_url), feed_url = COALESCE(?, feed_url), "
                        "base_url = COALESCE(?, base_url), credentials = COALESCE(?, credentials), "
                        "state = CASE WHEN ? = 1 THEN 'active' ELSE state END, "
                        "failures = CASE WHEN ? = 1 THEN 0 ELSE failures END, updated_at = ? "
                        "WHERE tenant_id = ? AND agent_id = ? AND id = ?",
                        e);
    if (rc)
        return rc;
    bind_opt(s, 1, in->shop_domain);
    bind_opt(s, 2, in->site_url);
    bind_opt(s, 3, in->feed_url);
    bind_opt(s, 4, in->base_url);
    bind_opt(s, 5, sealed);
    db_bind_i64(s, 6, sealed ? 1 : 0);
    db_bind_i64(s, 7, sealed ? 1 : 0);
    db_bind_time(s, 8, now_ms);
    db_bind_i64(s, 9, tenant);
    db_bind_i64(s, 10, agent_id);
    db_bind_i64(s, 11, id);
    int64_t changed = 0;
    rc = db_exec_write(s, &changed, e);
    *found = changed > 0;
    return rc;
}

int recovery_store_integration_get(struct db_conn *c, int64_t tenant, int64_t agent_id, int64_t id,
                                   struct arena *a, struct recovery_integration *out,
                                   const char **sealed, bool *found, struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT " INTEGRATION_COLS " FROM agent_integrations WHERE tenant_id = ? "
                        "AND id = ? AND (agent_id = ? OR ? = 0)",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, id);
    db_bind_i64(s, 3, agent_id);
    db_bind_i64(s, 4, agent_id);
    struct integration_read r = {out, sealed};
    int st = db_step(s, e);
    *found = st == DB_ROW;
    if (st == DB_ROW)
        read_integration(s, a, &r);
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

int recovery_store_integration_list(struct db_conn *c, int64_t tenant, int64_t agent_id,
                                    struct arena *a, struct recovery_integration **rows, size_t *n,
                                    struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT " INTEGRATION_COLS " FROM agent_integrations WHERE tenant_id = ? "
                        "AND agent_id = ? ORDER BY id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, agent_id);
    return db_list(s, read_integration_row, sizeof(**rows), a, (void **)rows, n, e);
}

int recovery_store_integration_delete(struct db_conn *c, int64_t tenant, int64_t agent_id,
                                      int64_t id, bool *found, struct err *e)
{
    struct db_stmt *s;
    int rc =
        db_prepare(c, &s,
                   "DELETE FROM recovery_carts WHERE tenant_id = ? AND integration_id = ? "
                   "AND integration_id IN (SELECT id FROM agent_integrations WHERE agent_id = ?)",
                   e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, id);
    db_bind_i64(s, 3, agent_id);
    rc = db_exec_write(s, NULL, e);
    if (!rc)
        rc = db_prepare(c, &s,
                        "DELETE FROM agent_integrations WHERE tenant_id = ? AND id = ? AND "
                        "agent_id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, id);
    db_bind_i64(s, 3, agent_id);
    int64_t changed = 0;
    rc = db_exec_write(s, &changed, e);
    *found = changed > 0;
    return rc;
}

static void read_i64(struct db_stmt *s, struct arena *a, void *out)
{
    (void)a;
    *(int64_t *)out = db_col_i64(s, 0);
}

int recovery_store_pollable(struct db_conn *c, int64_t tenant, struct arena *a, int64_t **ids,
                            size_t *n, int *agents, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT count(*) FROM company_agents WHERE tenant_id = ? AND is_active = ? "
                        "AND template_slug = ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_bool(s, 2, true);
    db_bind_text(s, 3, RECOVERY_TEMPLATE_SLUG);
    int64_t count = 0;
    bool found = false;
    rc = db_one_i64(s, &count, &found, e);
    *agents = (int)count;
    if (!rc)
        rc = db_prepare(c, &s,
                        "SELECT i.id FROM agent_integrations i JOIN company_agents g ON g.id = "
                        "i.agent_id WHERE i.tenant_id = ? AND g.is_active = ? AND "
                        "g.template_slug = ? AND i.state = 'active' ORDER BY i.id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_bool(s, 2, true);
    db_bind_text(s, 3, RECOVERY_TEMPLATE_SLUG);
    return db_list(s, read_i64, sizeof(**ids), a, (void **)ids, n, e);
}

int recovery_store_integration_polled(struct db_conn *c, int64_t tenant, int64_t id, bool ok,
                                      const char *watermark, const char *error, bool unauthorized,
                                      int64_t now_ms, int *failures, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s,
        ok ? "UPDATE agent_integrations SET failures = 0, last_error = NULL, last_polled_at = ?, "
             "last_ok_at = ?, watermark = COALESCE(?, watermark), state = COALESCE(?, state) "
             "WHERE tenant_id = ? AND id = ? RETURNING failures"
           : "UPDATE agent_integrations SET failures = failures + 1, last_error = ?, "
             "last_polled_at = ?, state = COALESCE(?, state) "
             "WHERE tenant_id = ? AND id = ? RETURNING failures",
        e);
    if (rc)
        return rc;
    if (ok) {
        db_bind_time(s, 1, now_ms);
        db_bind_time(s, 2, now_ms);
        bind_opt(s, 3, watermark);
        db_bind_null(s, 4);
        db_bind_i64(s, 5, tenant);
        db_bind_i64(s, 6, id);
    } else {
        db_bind_text(s, 1, error ? error : "failed");
        db_bind_time(s, 2, now_ms);
        bind_opt(s, 3, unauthorized ? "unauthorized" : NULL);
        db_bind_i64(s, 4, tenant);
        db_bind_i64(s, 5, id);
    }
    int64_t f = 0;
    bool found = false;
    rc = db_one_i64(s, &f, &found, e);
    *failures = (int)f;
    return rc;
}

/* ---- polling ---- */

int recovery_store_polling_set(struct db_conn *c, int64_t tenant, bool running, int interval_s,
                               int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s,
        "INSERT INTO recovery_polling (tenant_id, running, interval_s, started_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET running = excluded.running, "
        "interval_s = CASE WHEN excluded.running THEN excluded.interval_s "
        "ELSE recovery_polling.interval_s END, "
        "started_at = CASE WHEN excluded.running THEN excluded.started_at "
        "ELSE recovery_polling.started_at END, updated_at = excluded.updated_at",
        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_bool(s, 2, running);
    db_bind_i64(s, 3, interval_s > 0 ? interval_s : 30);
    db_bind_time(s, 4, now_ms);
    db_bind_time(s, 5, now_ms);
    return db_exec_write(s, NULL, e);
}

static void read_polling(struct db_stmt *s, struct arena *a, void *out)
{
    (void)a;
    struct recovery_status *st = out;
    st->running = db_col_bool(s, 0);
    st->interval_s = (int)db_col_i64(s, 1);
    st->started_at_ms = db_col_time(s, 2);
    st->last_cycle_at_ms = db_col_time(s, 3);
}

int recovery_store_polling_get(struct db_conn *c, int64_t tenant, struct recovery_status *out,
                               bool *found, struct err *e)
{
    return db_get_one(c,
                      "SELECT running, interval_s, started_at, last_cycle_at FROM "
                      "recovery_polling WHERE tenant_id = ? AND ? = 0",
                      tenant, NULL, 0, read_polling, NULL, out, found, e);
}

struct due_row {
    int64_t tenant;
    int64_t interval_ms, last_ms;
};

static void read_due(struct db_stmt *s, struct arena *a, void *out)
{
    (void)a;
    struct due_row *d = out;
    d->tenant = db_col_i64(s, 0);
    d->interval_ms = db_col_i64(s, 1) * 1000;
    d->last_ms = db_col_time(s, 2);
}

int recovery_store_polling_due(struct db_conn *c, int64_t now_ms, struct arena *a,
                               int64_t **tenants, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT tenant_id, interval_s, last_cycle_at FROM recovery_polling "
                        "WHERE running = ? ORDER BY tenant_id",
                        e);
    if (rc)
        return rc;
    db_bind_bool(s, 1, true);
    struct due_row *rows = NULL;
    size_t nr = 0;
    rc = db_list(s, read_due, sizeof(*rows), a, (void **)&rows, &nr, e);
    if (rc)
        return rc;
    *tenants = arena_alloc(a, (nr ? nr : 1) * sizeof(**tenants));
    *n = 0;
    for (size_t i = 0; i < nr; i++) {
        if (!rows[i].last_ms || now_ms - rows[i].last_ms >= rows[i].interval_ms)
            (*tenants)[(*n)++] = rows[i].tenant;
    }
    return 0;
}

int recovery_store_polling_take(struct db_conn *c, int64_t tenant, int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    int rc =
        db_prepare(c, &s, "UPDATE recovery_polling SET last_cycle_at = ? WHERE tenant_id = ?", e);
    if (rc)
        return rc;
    db_bind_time(s, 1, now_ms);
    db_bind_i64(s, 2, tenant);
    return db_exec_write(s, NULL, e);
}

/* ---- cycles ---- */

int recovery_store_cycle_insert(struct db_conn *c, int64_t tenant, const char *kind,
                                int agents_found, int jobs, int64_t now_ms, int64_t *id,
                                struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO recovery_cycles (tenant_id, kind, started_at, agents_found, "
                        "jobs_pending, finished_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, kind);
    db_bind_time(s, 3, now_ms);
    db_bind_i64(s, 4, agents_found);
    db_bind_i64(s, 5, jobs);
    if (jobs)
        db_bind_null(s, 6);
    else
        db_bind_time(s, 6, now_ms);
    bool found = false;
    return db_one_i64(s, id, &found, e);
}

int recovery_store_cycle_report(struct db_conn *c, int64_t tenant, int64_t id, int carts,
                                int64_t value, int deliveries, const char *error, int64_t now_ms,
                                bool *finished, int64_t *duration_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE recovery_cycles SET platforms_processed = platforms_processed + 1, "
                        "jobs_pending = jobs_pending - 1, carts_fetched = carts_fetched + ?, "
                        "total_value = total_value + ?, deliveries_queued = deliveries_queued + "
                        "?, errors = errors + ?, last_error = COALESCE(?, last_error) "
                        "WHERE tenant_id = ? AND id = ? AND jobs_pending > 0 RETURNING "
                        "jobs_pending, started_at",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, carts);
    db_bind_i64(s, 2, value);
    db_bind_i64(s, 3, deliveries);
    db_bind_i64(s, 4, error ? 1 : 0);
    bind_opt(s, 5, error);
    db_bind_i64(s, 6, tenant);
    db_bind_i64(s, 7, id);
    int st = db_step(s, e);
    int64_t pending = -1, started = 0;
    if (st == DB_ROW) {
        pending = db_col_i64(s, 0);
        started = db_col_time(s, 1);
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    *finished = pending == 0;
    *duration_ms = now_ms - started;
    if (!*finished)
        return 0;
    rc = db_prepare(c, &s,
                    "UPDATE recovery_cycles SET finished_at = ?, duration_ms = ? "
                    "WHERE tenant_id = ? AND id = ?",
                    e);
    if (rc)
        return rc;
    db_bind_time(s, 1, now_ms);
    db_bind_i64(s, 2, *duration_ms);
    db_bind_i64(s, 3, tenant);
    db_bind_i64(s, 4, id);
    return db_exec_write(s, NULL, e);
}

static void read_cycle(struct db_stmt *s, struct arena *a, void *out)
{
    struct recovery_cycle *cy = out;
    cy->id = db_col_i64(s, 0);
    cy->kind = db_col_str(s, 1, a);
    cy->started_at_ms = db_col_time(s, 2);
    cy->finished_at_ms = db_col_time(s, 3);
    cy->agents_found = (int)db_col_i64(s, 4);
    cy->platforms_processed = (int)db_col_i64(s, 5);
    cy->jobs_pending = (int)db_col_i64(s, 6);
    cy->carts_fetched = (int)db_col_i64(s, 7);
    cy->total_value = db_col_i64(s, 8);
    cy->deliveries_queued = (int)db_col_i64(s, 9);
    cy->errors = (int)db_col_i64(s, 10);
    cy->last_error = db_col_dup(s, 11, a);
    cy->duration_ms = db_col_i64(s, 12);
    cy->deliveries_succeeded = (int)db_col_i64(s, 13);
    cy->deliveries_failed = (int)db_col_i64(s, 14);
}

int recovery_store_cycle_list(struct db_conn *c, int64_t tenant, int limit, struct arena *a,
                              struct recovery_cycle **rows, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s,
        "SELECT y.id, y.kind, y.started_at, y.finished_at, y.agents_found, y.platforms_processed, "
        "y.jobs_pending, y.carts_fetched, y.total_value, y.deliveries_queued, y.errors, "
        "y.last_error, y.duration_ms, "
        "(SELECT count(DISTINCT d.id) FROM recovery_carts r JOIN webhook_deliveries d ON d.id = "
        "r.delivery_id WHERE r.tenant_id = y.tenant_id AND r.cycle_id = y.id AND "
        "d.status = 'succeeded'), "
        "(SELECT count(DISTINCT d.id) FROM recovery_carts r JOIN webhook_deliveries d ON d.id = "
        "r.delivery_id WHERE r.tenant_id = y.tenant_id AND r.cycle_id = y.id AND "
        "(d.status = 'dead' OR (d.status = 'pending' AND d.attempts > 0))) "
        "FROM recovery_cycles y WHERE y.tenant_id = ? ORDER BY y.id DESC LIMIT ?",
        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, limit);
    return db_list(s, read_cycle, sizeof(**rows), a, (void **)rows, n, e);
}

/* ---- carts ---- */

/*
 * A cart of the integration still in recovery completes at completed_ms: it leaves recovery, and
 * its `total` is recovered revenue when a delivery or message preceded it within the window.
 * *known (when not NULL) says whether there was such a cart.
 */
static int complete_open(struct db_conn *c, int64_t tenant, int64_t integration_id,
                         const char *platform_id, int64_t completed_ms, int64_t total,
                         int64_t now_ms, bool *known, struct err *e)
{
    if (known)
        *known = false;
    struct db_stmt *s;
    int rc =
        db_prepare(c, &s,
                   "SELECT delivered_at, last_message_at FROM recovery_carts WHERE tenant_id = ? "
                   "AND integration_id = ? AND platform_id = ? AND state <> 'completed'",
                   e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, integration_id);
    db_bind_text(s, 3, platform_id);
    int st = db_step(s, e);
    bool open = st == DB_ROW;
    int64_t sent = 0;
    if (open) {
        sent = db_col_time(s, 0);
        int64_t msg = db_col_time(s, 1);
        if (msg && (!sent || msg < sent))
            sent = msg;
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    if (!open)
        return 0;
    if (known)
        *known = true;
    rc = db_prepare(c, &s,
                    "UPDATE recovery_carts SET state = 'completed', completed_at = ?, "
                    "recovered_value = ?, updated_at = ? WHERE tenant_id = ? AND "
                    "integration_id = ? AND platform_id = ?",
                    e);
    if (rc)
        return rc;
    db_bind_time(s, 1, completed_ms);
    db_bind_i64(s, 2, recovery_is_recovered(sent, completed_ms) ? total : 0);
    db_bind_time(s, 3, now_ms);
    db_bind_i64(s, 4, tenant);
    db_bind_i64(s, 5, integration_id);
    db_bind_text(s, 6, platform_id);
    return db_exec_write(s, NULL, e);
}

int recovery_store_cart_paid(struct db_conn *c, int64_t tenant, int64_t integration_id,
                             const char *platform_id, int64_t completed_ms, int64_t total,
                             int64_t now_ms, bool *known, struct err *e)
{
    return complete_open(c, tenant, integration_id, platform_id, completed_ms, total, now_ms, known,
                         e);
}

static void read_cart_row(struct db_stmt *s, struct arena *a, void *out)
{
    struct recovery_cart_row *r = out;
    r->id = db_col_i64(s, 0);
    r->cart_pk = db_col_i64(s, 1);
    r->customer_pk = db_col_i64(s, 2);
    r->state = db_col_str(s, 3, a);
    r->updated_ms = db_col_time(s, 4);
    r->completed_ms = db_col_time(s, 5);
    r->delivered_ms = db_col_time(s, 6);
    r->last_message_ms = db_col_time(s, 7);
    r->messages_sent = (int)db_col_i64(s, 8);
}

int recovery_store_cart_candidates(struct db_conn *c, int64_t tenant, int64_t integration_id,
                                   int64_t updated_before_ms, int64_t sent_after_ms,
                                   struct arena *a, struct recovery_cart_row **rows, size_t *n,
                                   struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT id, cart_id, customer_id, state, cart_updated_at, completed_at, "
                        "delivered_at, last_message_at, messages_sent FROM recovery_carts "
                        "WHERE tenant_id = ? AND integration_id = ? AND ((state = 'open' AND "
                        "cart_updated_at <= ?) OR (state = 'sent' AND delivered_at >= ?)) "
                        "ORDER BY id LIMIT 500",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, integration_id);
    db_bind_time(s, 3, updated_before_ms);
    db_bind_time(s, 4, sent_after_ms);
    return db_list(s, read_cart_row, sizeof(**rows), a, (void **)rows, n, e);
}

int recovery_store_cart_complete(struct db_conn *c, int64_t tenant, int64_t id,
                                 int64_t completed_ms, bool recovered, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE recovery_carts SET state = 'completed', completed_at = ?, "
                        "updated_at = ?, recovered_value = CASE WHEN ? = 1 THEN (SELECT "
                        "ca.total_amount FROM cart ca WHERE ca.cart_id = recovery_carts.cart_id) "
                        "ELSE 0 END WHERE tenant_id = ? AND id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_time(s, 1, completed_ms);
    db_bind_time(s, 2, completed_ms);
    db_bind_i64(s, 3, recovered ? 1 : 0);
    db_bind_i64(s, 4, tenant);
    db_bind_i64(s, 5, id);
    return db_exec_write(s, NULL, e);
}

int recovery_store_cart_messaged(struct db_conn *c, int64_t tenant, int64_t id, int64_t now_ms,
                                 struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE recovery_carts SET messages_sent = messages_sent + 1, "
                        "last_message_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_time(s, 1, now_ms);
    db_bind_time(s, 2, now_ms);
    db_bind_i64(s, 3, tenant);
    db_bind_i64(s, 4, id);
    return db_exec_write(s, NULL, e);
}

static void read_line(struct db_stmt *s, struct arena *a, void *out)
{
    struct recovery_line *l = out;
    l->title = db_col_dup(s, 0, a);
    l->sku = db_col_dup(s, 1, a);
    l->quantity = db_col_i64(s, 2);
    l->unit_price = db_col_i64(s, 3);
}

int recovery_store_cart_payload(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                                struct recovery_payload_cart *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT r.id, ca.public_id, r.platform_id, cu.email, cu.phone, "
                        "ca.currency, ca.total_amount, r.cart_updated_at, r.checkout_url, "
                        "ca.cart_id FROM recovery_carts r JOIN cart ca ON ca.cart_id = r.cart_id "
                        "JOIN customer cu ON cu.customer_id = r.customer_id "
                        "WHERE r.tenant_id = ? AND r.id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, id);
    int st = db_step(s, e);
    int64_t cart_pk = 0;
    if (st == DB_ROW) {
        out->recovery_id = db_col_i64(s, 0);
        out->cart_id = db_col_str(s, 1, a);
        out->platform_id = db_col_str(s, 2, a);
        out->email = db_col_dup(s, 3, a);
        out->phone = db_col_dup(s, 4, a);
        out->currency = db_col_str(s, 5, a);
        out->total = db_col_i64(s, 6);
        out->abandoned_ms = db_col_time(s, 7);
        out->checkout_url = db_col_dup(s, 8, a);
        cart_pk = db_col_i64(s, 9);
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    if (st != DB_ROW)
        return err_set(e, ERR_NOT_FOUND, "no recovery cart %lld", (long long)id);
    rc = db_prepare(c, &s,
                    "SELECT p.name, p.external_id, i.quantity, i.price FROM cart_item i JOIN "
                    "product p ON p.product_id = i.product_id WHERE i.cart_id = ? AND "
                    "i.tenant_id = ? ORDER BY i.cart_item_id",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, cart_pk);
    db_bind_i64(s, 2, tenant);
    return db_list(s, read_line, sizeof(*out->lines), a, (void **)&out->lines, &out->n_lines, e);
}

int recovery_store_recovered(struct db_conn *c, int64_t tenant, int64_t *carts, int64_t *value,
                             struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT count(*), COALESCE(sum(recovered_value), 0) FROM recovery_carts "
                        "WHERE tenant_id = ? AND recovered_value > 0",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    int st = db_step(s, e);
    if (st == DB_ROW) {
        *carts = db_col_i64(s, 0);
        *value = db_col_i64(s, 1);
    }
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

static void read_recovered(struct db_stmt *s, struct arena *a, void *out)
{
    struct recovery_recovered *r = out;
    r->currency = db_col_str(s, 0, a);
    r->carts = db_col_i64(s, 1);
    r->value = db_col_i64(s, 2);
}

int recovery_store_recovered_by_currency(struct db_conn *c, int64_t tenant, struct arena *a,
                                         struct recovery_recovered **rows, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT k.currency, count(*), COALESCE(sum(r.recovered_value), 0) "
                        "FROM recovery_carts r JOIN cart k ON k.cart_id = r.cart_id "
                        "WHERE r.tenant_id = ? AND r.recovered_value > 0 "
                        "GROUP BY k.currency ORDER BY k.currency",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    return db_list(s, read_recovered, sizeof(**rows), a, (void **)rows, n, e);
}

static void read_cart_view(struct db_stmt *s, struct arena *a, void *out)
{
    struct recovery_cart_view *v = out;
    v->id = db_col_i64(s, 0);
    v->agent_id = db_col_i64(s, 1);
    v->integration_id = db_col_i64(s, 2);
    v->platform = db_col_str(s, 3, a);
    v->platform_id = db_col_str(s, 4, a);
    v->cart_id = db_col_str(s, 5, a);
    v->state = db_col_str(s, 6, a);
    v->currency = db_col_str(s, 7, a);
    v->total = db_col_i64(s, 8);
    v->recovered_value = db_col_i64(s, 9);
    v->checkout_url = db_col_dup(s, 10, a);
    v->cart_updated_ms = db_col_time(s, 11);
    v->delivered_ms = db_col_time(s, 12);
    v->completed_ms = db_col_time(s, 13);
    v->messages_sent = (int)db_col_i64(s, 14);
    v->updated_ms = db_col_time(s, 15);
}

int recovery_store_cart_list(struct db_conn *c, int64_t tenant, const char *state, int64_t after,
                             int limit, struct arena *a, struct recovery_cart_view **rows,
                             size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s,
        "SELECT r.id, r.agent_id, r.integration_id, i.platform, r.platform_id, k.public_id, "
        "r.state, k.currency, k.total_amount, r.recovered_value, r.checkout_url, "
        "r.cart_updated_at, r.delivered_at, r.completed_at, r.messages_sent, r.updated_at "
        "FROM recovery_carts r JOIN cart k ON k.cart_id = r.cart_id "
        "JOIN agent_integrations i ON i.id = r.integration_id "
        "WHERE r.tenant_id = ? AND r.id > ? AND (? = '' OR r.state = ?) ORDER BY r.id LIMIT ?",
        e);
    if (rc)
        return rc;
    const char *st = state ? state : "";
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, after);
    db_bind_text(s, 3, st);
    db_bind_text(s, 4, st);
    db_bind_i64(s, 5, limit);
    return db_list(s, read_cart_view, sizeof(**rows), a, (void **)rows, n, e);
}

/* ---- batched ---- */

/* Multi-row INSERTs of 64, 32, … 1 rows (a run of n takes at most 7), IN lists of 8 or 64
 * (padded with their last value): few distinct statements for the per-connection cache. */
static const size_t many_sizes[] = {64, 32, 16, 8, 4, 2, 1};

static size_t many_size(size_t left)
{
    for (size_t z = 0; z < sizeof(many_sizes) / sizeof(many_sizes[0]); z++)
        if (many_sizes[z] <= left)
            return many_sizes[z];
    return 1;
}

/* Values in one IN list: up to 64 of `left`; *size is the list's length (8 or 64). */
static size_t in_take(size_t left, size_t *size)
{
    size_t k = left < 64 ? left : 64;
    *size = k > 8 ? 64 : 8;
    return k;
}

/* `head`, then `rows` copies of `group` joined by ", ", then `tail`, into `b`. */
static int many_sql(struct buf *b, const char *head, const char *group, size_t rows,
                    const char *tail, struct err *e)
{
    buf_reset(b);
    int rc = buf_appends(b, head);
    for (size_t i = 0; !rc && i < rows; i++)
        rc = buf_appendf(b, "%s%s", i ? ", " : "", group);
    if (!rc)
        rc = buf_appends(b, tail);
    return rc ? err_set(e, ERR_INTERNAL, "batched statement too long") : 0;
}

int recovery_store_cart_put_many(struct db_conn *c, int64_t tenant, int64_t agent_id,
                                 int64_t integration_id, const struct recovery_cart_in *rows,
                                 size_t n, int64_t now_ms, struct err *e)
{
    struct buf sql;
    buf_init(&sql, 16384);
    int rc = 0;
    for (size_t at = 0; !rc && at < n;) {
        size_t k = many_size(n - at);
        rc = many_sql(&sql,
                      "INSERT INTO recovery_carts (tenant_id, agent_id, integration_id, cart_id, "
                      "customer_id, platform_id, checkout_url, state, cart_updated_at, "
                      "created_at, updated_at) VALUES ",
                      "(?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)", k,
                      " ON CONFLICT (tenant_id, integration_id, platform_id) DO UPDATE SET "
                      "customer_id = excluded.customer_id, checkout_url = excluded.checkout_url, "
                      "cart_updated_at = excluded.cart_updated_at, updated_at = "
                      "excluded.updated_at, state = CASE WHEN recovery_carts.state IN "
                      "('skipped') AND excluded.cart_updated_at > recovery_carts.cart_updated_at "
                      "THEN 'open' ELSE recovery_carts.state END",
                      e);
        struct db_stmt *s;
        if (!rc)
            rc = db_prepare(c, &s, buf_str(&sql), e);
        if (rc)
            break;
        for (size_t i = 0; i < k; i++) {
            const struct recovery_cart_in *r = &rows[at + i];
            int b = (int)i * 10;
            db_bind_i64(s, b + 1, tenant);
            db_bind_i64(s, b + 2, agent_id);
            db_bind_i64(s, b + 3, integration_id);
            db_bind_i64(s, b + 4, r->cart_pk);
            db_bind_i64(s, b + 5, r->customer_pk);
            db_bind_text(s, b + 6, r->platform_id);
            bind_opt(s, b + 7, r->checkout_url);
            db_bind_time(s, b + 8, r->updated_ms);
            db_bind_time(s, b + 9, now_ms);
            db_bind_time(s, b + 10, now_ms);
        }
        rc = db_exec_write(s, NULL, e);
        at += k;
    }
    buf_release(&sql);
    for (size_t i = 0; !rc && i < n; i++)
        if (rows[i].completed_ms)
            rc = complete_open(c, tenant, integration_id, rows[i].platform_id, rows[i].completed_ms,
                               rows[i].total, now_ms, NULL, e);
    return rc;
}

int recovery_store_cart_facts_many(struct db_conn *c, int64_t tenant, int64_t integration_id,
                                   const struct recovery_cart_row *rows, size_t n,
                                   struct recovery_cart_facts *facts, const char **phones,
                                   struct arena *a, struct err *e)
{
    bool *seen = arena_alloc(a, (n ? n : 1) * sizeof(*seen));
    for (size_t i = 0; i < n; i++) {
        memset(&facts[i], 0, sizeof(facts[i]));
        facts[i].updated_ms = rows[i].updated_ms;
        facts[i].completed_ms = rows[i].completed_ms;
        phones[i] = NULL;
        seen[i] = false;
    }
    struct buf sql;
    buf_init(&sql, 16384);
    int rc = 0;
    for (size_t at = 0; !rc && at < n;) {
        size_t size, k = in_take(n - at, &size);
        /* orders since the cart's own update, the customer's last delivery of another cart,
         * consent; the customer joined by its key alone (r is the tenant's), so the plan starts
         * from the carts' ids */
        rc = many_sql(
            &sql,
            "SELECT r.id, cu.phone, "
            "(SELECT count(*) FROM orders o WHERE o.tenant_id = cu.tenant_id AND o.customer_id = "
            "cu.customer_id AND o.created_at >= r.cart_updated_at), "
            "(SELECT max(x.delivered_at) FROM recovery_carts x WHERE x.tenant_id = cu.tenant_id "
            "AND x.customer_id = cu.customer_id AND x.id <> r.id), "
            "COALESCE((SELECT min(ct.marketing_consent) FROM contacts ct "
            "WHERE ct.tenant_id = cu.tenant_id AND (ct.phone = cu.phone OR (ct.email <> '' AND "
            "lower(ct.email) = lower(cu.email)))), 1) "
            "FROM recovery_carts r JOIN customer cu ON cu.customer_id = r.customer_id "
            "WHERE r.tenant_id = ? AND r.integration_id = ? AND r.id IN (",
            "?", size, ")", e);
        struct db_stmt *s;
        if (!rc)
            rc = db_prepare(c, &s, buf_str(&sql), e);
        if (rc)
            break;
        db_bind_i64(s, 1, tenant);
        db_bind_i64(s, 2, integration_id);
        for (size_t i = 0; i < size; i++)
            db_bind_i64(s, (int)i + 3, rows[at + (i < k ? i : k - 1)].id);
        int st;
        while ((st = db_step(s, e)) == DB_ROW) {
            int64_t id = db_col_i64(s, 0);
            for (size_t i = at; i < at + k; i++) {
                if (rows[i].id != id)
                    continue;
                phones[i] = db_col_dup(s, 1, a);
                facts[i].ordered_since = db_col_i64(s, 2) > 0;
                facts[i].last_recovered_ms = db_col_time(s, 3);
                facts[i].marketing_consent = db_col_i64(s, 4) != 0;
                seen[i] = true;
            }
        }
        db_stmt_done(s);
        if (st == DB_ERROR)
            rc = db_step_error(e);
        at += k;
    }
    buf_release(&sql);
    for (size_t i = 0; !rc && i < n; i++)
        if (!seen[i])
            rc = err_set(e, ERR_NOT_FOUND, "customer of cart %lld is gone", (long long)rows[i].id);
    return rc;
}

int recovery_store_cart_state_many(struct db_conn *c, int64_t tenant, int64_t integration_id,
                                   const int64_t *ids, size_t n, const char *state,
                                   int64_t delivered_ms, int64_t delivery_id, int64_t cycle_id,
                                   int64_t now_ms, struct err *e)
{
    struct buf sql;
    buf_init(&sql, 8192);
    int rc = 0;
    for (size_t at = 0; !rc && at < n;) {
        size_t size, k = in_take(n - at, &size);
        rc = many_sql(&sql,
                      delivered_ms ? "UPDATE recovery_carts SET state = ?, delivered_at = ?, "
                                     "delivery_id = ?, cycle_id = ?, updated_at = ? "
                                     "WHERE tenant_id = ? AND integration_id = ? AND id IN ("
                                   : "UPDATE recovery_carts SET state = ?, updated_at = ? "
                                     "WHERE tenant_id = ? AND integration_id = ? AND id IN (",
                      "?", size, ")", e);
        struct db_stmt *s;
        if (!rc)
            rc = db_prepare(c, &s, buf_str(&sql), e);
        if (rc)
            break;
        int b = 1;
        db_bind_text(s, b++, state);
        if (delivered_ms) {
            db_bind_time(s, b++, delivered_ms);
            db_bind_i64(s, b++, delivery_id);
            db_bind_i64(s, b++, cycle_id);
        }
        db_bind_time(s, b++, now_ms);
        db_bind_i64(s, b++, tenant);
        db_bind_i64(s, b++, integration_id);
        for (size_t i = 0; i < size; i++)
            db_bind_i64(s, b++, ids[at + (i < k ? i : k - 1)]);
        rc = db_exec_write(s, NULL, e);
        at += k;
    }
    buf_release(&sql);
    return rc;
}

int recovery_store_customer_contacts(struct db_conn *c, int64_t tenant, const char *source,
                                     const char *const *external_ids, size_t n, struct arena *a,
                                     int64_t *pks, const char **emails, const char **phones,
                                     struct err *e)
{
    for (size_t i = 0; i < n; i++) {
        pks[i] = 0;
        emails[i] = phones[i] = NULL;
    }
    struct buf sql;
    buf_init(&sql, 8192);
    int rc = 0;
    for (size_t at = 0; !rc && at < n;) {
        size_t size, k = in_take(n - at, &size);
        rc = many_sql(&sql,
                      "SELECT external_id, email, phone, customer_id FROM customer WHERE "
                      "tenant_id = ? AND source = ? AND external_id IN (",
                      "?", size, ")", e);
        struct db_stmt *s;
        if (!rc)
            rc = db_prepare(c, &s, buf_str(&sql), e);
        if (rc)
            break;
        db_bind_i64(s, 1, tenant);
        db_bind_text(s, 2, source);
        for (size_t i = 0; i < size; i++)
            db_bind_text(s, (int)i + 3, external_ids[at + (i < k ? i : k - 1)]);
        int st;
        while ((st = db_step(s, e)) == DB_ROW) {
            const char *ext = db_col_text(s, 0);
            for (size_t i = at; ext && i < at + k; i++) {
                if (strcmp(external_ids[i], ext) != 0)
                    continue;
                emails[i] = db_col_dup(s, 1, a);
                phones[i] = db_col_dup(s, 2, a);
                pks[i] = db_col_i64(s, 3);
            }
        }
        db_stmt_done(s);
        if (st == DB_ERROR)
            rc = db_step_error(e);
        at += k;
    }
    buf_release(&sql);
    return rc;
}
