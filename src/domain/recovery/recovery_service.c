/* SPDX-License-Identifier: MIT */
/*
 * Cart recovery's operations: agents (each with its direct webhook endpoint, whose secret signs
 * the agent's deliveries), integrations (credentials sealed), the connection test, polling state,
 * starting a cycle and the status. Each write runs in one transaction. Tests:
 * tests/integration/0025-recovery.c.
 */
#include "domain/recovery/recovery.h"
#include "core/log.h"
#include "domain/recovery/recovery_fetch.h"
#include "domain/recovery/recovery_store.h"
#include "domain/webhooks/webhooks.h"
#include "jobs/queue.h"

#include <stdio.h>
#include <string.h>

static int not_found(struct err *e, const char *what, int64_t id)
{
    return err_set_field(e, ERR_NOT_FOUND, "id", "no %s %lld", what, (long long)id);
}

int recovery_agent_create(struct db_conn *c, int64_t tenant, struct recovery_agent *ag,
                          int64_t now_ms, char *secret, size_t secret_size, struct err *e)
{
    int rc = recovery_agent_check(ag, e);
    if (rc)
        return rc;
    struct arena a;
    arena_init(&a);
    const char *events[] = {RECOVERY_EVENT};
    char desc[RECOVERY_NAME_MAX + 32];
    snprintf(desc, sizeof(desc), "recovery agent %.128s", ag->name);
    struct webhook_endpoint_in in = {.url = ag->recovery_url,
                                     .events = events,
                                     .n_events = 1,
                                     .description = desc,
                                     .direct = true};
    struct webhook_endpoint ep = {0};
    bool own;
    rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = webhooks_endpoint_create(c, tenant, &in, now_ms, &a, &ep, e);
    if (rc && e->code == ERR_INVALID && strcmp(e->field, "url") == 0)
        snprintf(e->field, sizeof(e->field), "settings.recovery_url");
    if (!rc) {
        ag->endpoint_id = ep.id;
        rc = recovery_store_agent_insert(c, tenant, ag, now_ms, e);
    }
    rc = db_end_own(c, own, rc, e);
    if (!rc)
        snprintf(secret, secret_size, "%s", ep.secret);
    arena_release(&a);
    return rc;
}

int recovery_agent_get(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                       struct recovery_agent *out, struct err *e)
{
    bool found = false;
    int rc = recovery_store_agent_get(c, tenant, id, a, out, &found, e);
    if (!rc && !found)
        rc = not_found(e, "agent", id);
    return rc;
}

int recovery_agent_list(struct db_conn *c, int64_t tenant, int64_t after, int limit,
                        struct arena *a, struct recovery_agent **rows, size_t *n, struct err *e)
{
    return recovery_store_agent_list(c, tenant, after, limit, a, rows, n, e);
}

int recovery_agent_update(struct db_conn *c, int64_t tenant, const struct recovery_agent *ag,
                          int64_t now_ms, struct err *e)
{
    int rc = recovery_agent_check(ag, e);
    if (rc)
        return rc;
    bool own, found = false;
    rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = recovery_store_agent_update(c, tenant, ag, now_ms, &found, e);
    if (!rc && !found)
        rc = not_found(e, "agent", ag->id);
    /* the recovery_url lives on the agent's endpoint too: deliveries go where the agent says */
    if (!rc && ag->endpoint_id)
        rc = webhooks_endpoint_set_url(c, tenant, ag->endpoint_id, ag->recovery_url, now_ms, e);
    return db_end_own(c, own, rc, e);
}

int recovery_agent_delete(struct db_conn *c, int64_t tenant, int64_t id, struct err *e)
{
    struct arena a;
    arena_init(&a);
    struct recovery_agent ag = {0};
    bool own, found = false;
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = recovery_store_agent_get(c, tenant, id, &a, &ag, &found, e);
    if (!rc && !found)
        rc = not_found(e, "agent", id);
    if (!rc)
        rc = recovery_store_agent_delete(c, tenant, id, &found, e);
    if (!rc && ag.endpoint_id) {
        rc = webhooks_endpoint_delete(c, tenant, ag.endpoint_id, e);
        if (rc == ERR_NOT_FOUND) {
            /* its endpoint was already gone */
            err_init(e);
            rc = 0;
        }
    }
    rc = db_end_own(c, own, rc, e);
    arena_release(&a);
    return rc;
}

/* ---- integrations ---- */

static int agent_exists(struct db_conn *c, int64_t tenant, int64_t agent_id, struct err *e)
{
    return db_check_owned(c, "SELECT 1 FROM company_agents WHERE id = ? AND tenant_id = ?", tenant,
                          agent_id, "id", e);
}

int recovery_integration_get(struct db_conn *c, int64_t tenant, int64_t agent_id, int64_t id,
                             struct arena *a, struct recovery_integration *out, struct err *e)
{
    bool found = false;
    int rc = recovery_store_integration_get(c, tenant, agent_id, id, a, out, NULL, &found, e);
    if (!rc && !found)
        rc =
            err_set_field(e, ERR_NOT_FOUND, "integration_id", "no integration %lld", (long long)id);
    return rc;
}

int recovery_integration_create(struct db_conn *c, const unsigned char *key, int64_t tenant,
                                int64_t agent_id, const struct recovery_integration_in *in,
                                int64_t now_ms, struct arena *a, struct recovery_integration *out,
                                struct err *e)
{
    enum recovery_platform p;
    int rc = agent_exists(c, tenant, agent_id, e);
    if (!rc)
        rc = recovery_platform_parse(in->platform, &p, e);
    if (!rc)
        rc = recovery_integration_check(p, in, true, e);
    const char *sealed = NULL;
    if (!rc)
        rc = recovery_credentials_seal(key, in, a, &sealed, e);
    int64_t id = 0;
    if (!rc)
        rc = recovery_store_integration_insert(c, tenant, agent_id, p, in, sealed, now_ms, &id, e);
    if (!rc)
        rc = recovery_integration_get(c, tenant, agent_id, id, a, out, e);
    return rc;
}

int recovery_integration_update(struct db_conn *c, const unsigned char *key, int64_t tenant,
                                int64_t agent_id, int64_t id,
                                const struct recovery_integration_in *in, int64_t now_ms,
                                struct arena *a, struct recovery_integration *out, struct err *e)
{
    struct recovery_integration cur;
    int rc = recovery_integration_get(c, tenant, agent_id, id, a, &cur, e);
    if (!rc)
        rc = recovery_integration_check(cur.platform, in, false, e);
    const char *sealed = NULL;
    if (!rc && (in->access_token || in->consumer_key || in->consumer_secret)) {
        /* a partial change of WooCommerce's pair keeps the other half */
        struct recovery_integration_in merged = *in;
        struct recovery_credentials old;
        const char *old_sealed = NULL;
        bool found = false;
        rc = recovery_store_integration_get(c, tenant, agent_id, id, a, &cur, &old_sealed, &found,
                                            e);
        if (!rc)
            rc = recovery_credentials_open(key, old_sealed, &old, e);
        if (rc == ERR_CONFLICT) {
            err_init(e);
            rc = 0;
            memset(&old, 0, sizeof(old));
        }
        if (!merged.access_token && old.access_token[0])
            merged.access_token = old.access_token;
        if (!merged.consumer_key && old.consumer_key[0])
            merged.consumer_key = old.consumer_key;
        if (!merged.consumer_secret && old.consumer_secret[0])
            merged.consumer_secret = old.consumer_secret;
        if (!rc)
            rc = recovery_credentials_seal(key, &merged, a, &sealed, e);
        explicit_bzero(&old, sizeof(old));
    }
    bool found = false;
    if (!rc)
        rc = recovery_store_integration_update(c, tenant, agent_id, id, in, sealed, now_ms, &found,
                                               e);
    if (!rc)
        rc = recovery_integration_get(c, tenant, agent_id, id, a, out, e);
    return rc;
}

int recovery_integration_list(struct db_conn *c, int64_t tenant, int64_t agent_id, struct arena *a,
                              struct recovery_integration **rows, size_t *n, struct err *e)
{
    int rc = agent_exists(c, tenant, agent_id, e);
    return rc ? rc : recovery_store_integration_list(c, tenant, agent_id, a, rows, n, e);
}

int recovery_integration_delete(struct db_conn *c, int64_t tenant, int64_t agent_id, int64_t id,
                                struct err *e)
{
    bool own, found = false;
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = recovery_store_integration_delete(c, tenant, agent_id, id, &found, e);
    if (!rc && !found)
        rc =
            err_set_field(e, ERR_NOT_FOUND, "integration_id", "no integration %lld", (long long)id);
    return db_end_own(c, own, rc, e);
}

int recovery_integration_probe(struct db_conn *c, const unsigned char *key, int64_t tenant,
                               int64_t agent_id, int64_t id, int64_t now_ms,
                               struct recovery_probe *out, struct err *e)
{
    (void)now_ms;
    memset(out, 0, sizeof(*out));
    struct arena a;
    arena_init(&a);
    struct recovery_integration in;
    const char *sealed = NULL;
    bool found = false;
    struct recovery_credentials cr;
    memset(&cr, 0, sizeof(cr));
    int rc = recovery_store_integration_get(c, tenant, agent_id, id, &a, &in, &sealed, &found, e);
    if (!rc && !found)
        rc =
            err_set_field(e, ERR_NOT_FOUND, "integration_id", "no integration %lld", (long long)id);
    if (!rc) {
        rc = recovery_credentials_open(key, sealed, &cr, e);
        if (rc == ERR_CONFLICT) {
            out->stage = "credentials";
            snprintf(out->message, sizeof(out->message), "%s", e->msg);
            err_init(e);
            rc = 0;
            arena_release(&a);
            return 0;
        }
    }
    if (rc) {
        arena_release(&a);
        return rc;
    }
    /* one page, from now back a day: enough to prove address, credentials and scope */
    struct recovery_fetched *carts;
    size_t n = 0;
    int64_t newest;
    struct recovery_failure f;
    struct err fe;
    err_init(&fe);
    int frc = recovery_fetch(&in, &cr, 0, 1, &a, &carts, &n, &newest, &f, &fe);
    explicit_bzero(&cr, sizeof(cr));
    out->status = f.status;
    if (frc) {
        out->stage = recovery_probe_stage(f.status, f.code, fe.msg);
        snprintf(out->message, sizeof(out->message), "%s", fe.msg);
    } else {
        out->ok = true;
        out->stage = "ok";
        out->carts_seen = (int)n;
        snprintf(out->message, sizeof(out->message), "connected");
    }
    arena_release(&a);
    return 0;
}

/* ---- polling ---- */

int recovery_polling_start(struct db_conn *c, int64_t tenant, int interval_s, int64_t now_ms,
                           struct err *e)
{
    if (interval_s < RECOVERY_INTERVAL_MIN_S || interval_s > RECOVERY_INTERVAL_MAX_S)
        return err_set_field(e, ERR_INVALID, "interval", "interval must be %d..%d seconds",
                             RECOVERY_INTERVAL_MIN_S, RECOVERY_INTERVAL_MAX_S);
    return recovery_store_polling_set(c, tenant, true, interval_s, now_ms, e);
}

int recovery_polling_stop(struct db_conn *c, int64_t tenant, int64_t now_ms, struct err *e)
{
    return recovery_store_polling_set(c, tenant, false, 0, now_ms, e);
}

int recovery_cycle_start(struct db_conn *c, int64_t tenant, const char *kind, int64_t now_ms,
                         int64_t *cycle_id, int *jobs, struct err *e)
{
    struct arena a;
    arena_init(&a);
    int64_t *ids = NULL;
    size_t n = 0;
    int agents = 0;
    *jobs = 0;
    bool own;
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = recovery_store_pollable(c, tenant, &a, &ids, &n, &agents, e);
    /*
     * One job per integration, unique per integration: an integration still being polled from
     * the last cycle is not polled twice at once (and does not count in this cycle).
     */
    int64_t *fresh = arena_alloc(&a, (n ? n : 1) * sizeof(*fresh));
    size_t nf = 0;
    if (!rc)
        rc = recovery_store_cycle_insert(c, tenant, kind, agents, (int)n, now_ms, cycle_id, e);
    for (size_t i = 0; !rc && i < n; i++) {
        char payload[96], unique[64];
        snprintf(payload, sizeof(payload), "{\"integration\":%lld,\"cycle\":%lld}",
                 (long long)ids[i], (long long)*cycle_id);
        snprintf(unique, sizeof(unique), "recovery:poll:%lld", (long long)ids[i]);
        struct job_spec spec = {.name = RECOVERY_JOB_POLL,
                                .payload_json = payload,
                                .tenant_id = tenant,
                                .unique_key = unique,
                                .max_attempts = 1};
        bool deduped = false;
        rc = jobs_enqueue(c, &spec, now_ms, NULL, &deduped, e);
        if (!rc && !deduped)
            fresh[nf++] = ids[i];
    }
    if (!rc && nf != n) {
        /* the cycle waits only for the jobs it enqueued */
        struct db_stmt *s;
        rc = db_prepare(c, &s,
                        "UPDATE recovery_cycles SET jobs_pending = ?, finished_at = CASE WHEN ? = "
                        "0 THEN started_at ELSE NULL END WHERE tenant_id = ? AND id = ?",
                        e);
        if (!rc) {
            db_bind_i64(s, 1, (int64_t)nf);
            db_bind_i64(s, 2, (int64_t)nf);
            db_bind_i64(s, 3, tenant);
            db_bind_i64(s, 4, *cycle_id);
            rc = db_exec_write(s, NULL, e);
        }
    }
    rc = db_end_own(c, own, rc, e);
    if (!rc)
        *jobs = (int)nf;
    arena_release(&a);
    return rc;
}

int recovery_status_get(struct db_conn *c, int64_t tenant, struct arena *a,
                        struct recovery_status *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    bool found = false;
    int rc = recovery_store_polling_get(c, tenant, out, &found, e);
    if (!rc)
        rc = recovery_store_cycle_list(c, tenant, RECOVERY_CYCLES_SHOWN, a, &out->cycles,
                                       &out->n_cycles, e);
    if (!rc)
        rc = recovery_store_recovered(c, tenant, &out->recovered_carts, &out->recovered_value, e);
    if (!rc)
        rc = recovery_store_recovered_by_currency(c, tenant, a, &out->by_currency,
                                                  &out->n_by_currency, e);
    return rc;
}

int recovery_cart_list(struct db_conn *c, int64_t tenant, const char *state, int64_t after,
                       int limit, struct arena *a, struct recovery_cart_view **rows, size_t *n,
                       struct err *e)
{
    static const char *const states[] = {"open", "abandoned", "sent", "completed", "skipped"};
    bool known = !state || !state[0];
    for (size_t i = 0; !known && i < sizeof(states) / sizeof(states[0]); i++)
        known = strcmp(state, states[i]) == 0;
    if (!known)
        return err_set_field(e, ERR_INVALID, "state",
                             "state must be open, abandoned, sent, completed or skipped");
    return recovery_store_cart_list(c, tenant, state, after, limit, a, rows, n, e);
}
