/* SPDX-License-Identifier: MIT */
/*
 * Abandoned-cart recovery over HTTP: agents (the creation answer carries the signing secret,
 * shown once), their integrations (credentials write-only), the connection test, and the
 * poller (/polling/… and /api/polling/…). Thin: rules and storage live in src/domain/recovery.
 * Tests: tests/integration/0025-recovery.c.
 */
#include "core/clock.h"
#include "domain/recovery/recovery.h"
#include "domain/webhooks/webhooks.h"
#include "http/app.h"
#include "http/handlers.h"

#include <stdio.h>
#include <string.h>

static int64_t now_ms(struct http_req *r)
{
    return clock_now_ms(r->app->clock);
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *agent_json(const struct recovery_agent *ag)
{
    json_t *seq = json_array();
    for (size_t i = 0; i < ag->n_sequence; i++)
        json_array_append_new(seq, json_integer(ag->sequence[i]));
    return json_pack(
        "{s:I, s:s, s:s, s:s, s:b, s:{s:s, s:i, s:i, s:o}, s:o, s:o}", "id", (json_int_t)ag->id,
        "name", ag->name, "company", ag->company, "template_slug", ag->template_slug, "is_active",
        ag->is_active, "settings", "recovery_url", ag->recovery_url, "cutoff_minutes",
        ag->cutoff_minutes, "cooldown_days", ag->cooldown_days, "sequence", seq, "created_at",
        http_json_time(ag->created_at_ms), "updated_at", http_json_time(ag->updated_at_ms));
}

/* Apply a body's fields onto `ag` (defaults already in it). */
static int agent_decode(json_t *body, bool creating, struct recovery_agent *ag, struct err *e)
{
    static const char *const fields[] = {"name",      "company",  "template_slug",
                                         "is_active", "settings", NULL};
    static const char *const settings_fields[] = {"recovery_url", "cutoff_minutes", "cooldown_days",
                                                  "sequence", NULL};
    int rc = json_reject_unknown(body, "", fields, e);
    if (!rc)
        rc = json_get_strn(body, "name", creating, RECOVERY_NAME_MAX, &ag->name, e);
    if (!rc)
        rc = json_get_strn(body, "company", creating, RECOVERY_NAME_MAX, &ag->company, e);
    if (!rc)
        rc = json_get_strn(body, "template_slug", false, 64, &ag->template_slug, e);
    if (!rc)
        rc = json_get_bool(body, "is_active", false, &ag->is_active, e);
    json_t *settings = NULL;
    if (!rc)
        rc = json_get_object(body, "settings", creating, &settings, e);
    if (rc || !settings)
        return rc;
    rc = json_reject_unknown(settings, "settings", settings_fields, e);
    if (!rc)
        rc = json_get_strn(body, "settings.recovery_url", creating, RECOVERY_URL_MAX,
                           &ag->recovery_url, e);
    int64_t v = ag->cutoff_minutes;
    if (!rc)
        rc =
            json_get_i64(body, "settings.cutoff_minutes", false, 1, RECOVERY_CUTOFF_MAX_MIN, &v, e);
    ag->cutoff_minutes = (int)v;
    v = ag->cooldown_days;
    if (!rc)
        rc = json_get_i64(body, "settings.cooldown_days", false, 0, RECOVERY_COOLDOWN_MAX_D, &v, e);
    ag->cooldown_days = (int)v;
    json_t *seq = NULL;
    if (!rc)
        rc = json_get_array(body, "settings.sequence", false, &seq, e);
    if (!rc && seq) {
        if (json_array_size(seq) > RECOVERY_SEQUENCE_MAX)
            return err_set_field(e, ERR_INVALID, "settings.sequence",
                                 "settings.sequence has more than %d steps", RECOVERY_SEQUENCE_MAX);
        ag->n_sequence = 0;
        for (size_t i = 0; i < json_array_size(seq); i++) {
            json_t *step = json_array_get(seq, i);
            if (!json_is_integer(step)) {
                char field[40];
                snprintf(field, sizeof(field), "settings.sequence[%zu]", i);
                return err_set_field(e, ERR_INVALID, field, "%s must be minutes", field);
            }
            json_int_t m = json_integer_value(step);
            ag->sequence[ag->n_sequence++] = m < 0                       ? -1
                                             : m > RECOVERY_STEP_MAX_MIN ? RECOVERY_STEP_MAX_MIN + 1
                                                                         : (int)m;
        }
    }
    return rc;
}

int h_agents_create(struct http_req *r, struct err *e)
{
    struct recovery_agent ag = {.template_slug = RECOVERY_TEMPLATE_SLUG,
                                .is_active = true,
                                .cutoff_minutes = 60,
                                .cooldown_days = 7,
                                .sequence = {0},
                                .n_sequence = 1};
    int rc = agent_decode(r->json, true, &ag, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    char secret[WEBHOOKS_SECRET_SIZE];
    if (!rc)
        rc = recovery_agent_create(c, r->who.tenant_id, &ag, now_ms(r), secret, sizeof(secret), e);
    if (rc)
        return rc;
    json_t *body = agent_json(&ag);
    json_object_set_new(body, "secret", json_string(secret));
    explicit_bzero(secret, sizeof(secret));
    return http_reply_json(r, 201, body);
}

int h_agents_list(struct http_req *r, struct err *e)
{
    struct page p;
    int rc = http_req_page(r, 50, 500, &p, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct recovery_agent *rows = NULL;
    size_t n = 0;
    if (!rc)
        rc = recovery_agent_list(c, r->who.tenant_id, p.after, p.limit, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, agent_json(&rows[i]));
    return http_reply_json(r, 200, http_page_body("agents", arr, &p, n, n ? rows[n - 1].id : 0));
}

int h_agents_get(struct http_req *r, struct err *e)
{
    int64_t id;
    int rc = http_req_param_id(r, "id", &id, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct recovery_agent ag;
    if (!rc)
        rc = recovery_agent_get(c, r->who.tenant_id, id, &r->arena, &ag, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, agent_json(&ag));
}

int h_agents_update(struct http_req *r, struct err *e)
{
    int64_t id;
    int rc = http_req_param_id(r, "id", &id, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct recovery_agent ag;
    if (!rc)
        rc = recovery_agent_get(c, r->who.tenant_id, id, &r->arena, &ag, e);
    if (!rc)
        rc = agent_decode(r->json, false, &ag, e);
    if (!rc)
        rc = recovery_agent_update(c, r->who.tenant_id, &ag, now_ms(r), e);
    if (!rc)
        rc = recovery_agent_get(c, r->who.tenant_id, id, &r->arena, &ag, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, agent_json(&ag));
}

int h_agents_delete(struct http_req *r, struct err *e)
{
    int64_t id;
    int rc = http_req_param_id(r, "id", &id, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = recovery_agent_delete(c, r->who.tenant_id, id, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "deleted", 1));
}

/* ---- integrations ---- */

static json_t *integration_json(const struct recovery_integration *in)
{
    return json_pack(
        "{s:I, s:I, s:s, s:o, s:o, s:o, s:o, s:b, s:o, s:s, s:i, s:o, s:o, s:o, "
        "s:o, s:o}",
        "id", (json_int_t)in->id, "agent_id", (json_int_t)in->agent_id, "platform",
        recovery_platform_names[in->platform], "shop_domain", str_or_null(in->shop_domain),
        "site_url", str_or_null(in->site_url), "feed_url", str_or_null(in->feed_url), "base_url",
        str_or_null(in->base_url), "has_credentials", in->has_credentials, "watermark",
        str_or_null(in->watermark), "state", in->state, "failures", in->failures, "last_error",
        str_or_null(in->last_error), "last_polled_at", http_json_time(in->last_polled_at_ms),
        "last_ok_at", http_json_time(in->last_ok_at_ms), "created_at",
        http_json_time(in->created_at_ms), "updated_at", http_json_time(in->updated_at_ms));
}

static int integration_decode(json_t *body, bool creating, struct recovery_integration_in *in,
                              struct err *e)
{
    static const char *const fields[] = {"platform",     "shop_domain",     "site_url",
                                         "feed_url",     "base_url",        "access_token",
                                         "consumer_key", "consumer_secret", NULL};
    memset(in, 0, sizeof(*in));
    int rc = json_reject_unknown(body, "", fields, e);
    if (!rc)
        rc = json_get_strn(body, "platform", creating, 32, &in->platform, e);
    if (!rc && !creating && in->platform)
        rc = err_set_field(e, ERR_INVALID, "platform", "platform cannot change");
    if (!rc)
        rc = json_get_strn(body, "shop_domain", false, 255, &in->shop_domain, e);
    if (!rc)
        rc = json_get_strn(body, "site_url", false, RECOVERY_URL_MAX, &in->site_url, e);
    if (!rc)
        rc = json_get_strn(body, "feed_url", false, RECOVERY_URL_MAX, &in->feed_url, e);
    if (!rc)
        rc = json_get_strn(body, "base_url", false, RECOVERY_URL_MAX, &in->base_url, e);
    if (!rc)
        rc = json_get_strn(body, "access_token", false, 255, &in->access_token, e);
    if (!rc)
        rc = json_get_strn(body, "consumer_key", false, 255, &in->consumer_key, e);
    if (!rc)
        rc = json_get_strn(body, "consumer_secret", false, 255, &in->consumer_secret, e);
    return rc;
}

static int ids(struct http_req *r, int64_t *agent, int64_t *id, struct err *e)
{
    int rc = http_req_param_id(r, "id", agent, e);
    if (!rc && id) {
        rc = http_req_param_id(r, "integration_id", id, e);
        if (rc)
            snprintf(e->field, sizeof(e->field), "integration_id");
    }
    return rc;
}

int h_agent_integrations_create(struct http_req *r, struct err *e)
{
    int64_t agent;
    struct recovery_integration_in in;
    int rc = ids(r, &agent, NULL, e);
    if (!rc)
        rc = integration_decode(r->json, true, &in, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct recovery_integration out;
    if (!rc)
        rc = recovery_integration_create(c, r->app->secret_key, r->who.tenant_id, agent, &in,
                                         now_ms(r), &r->arena, &out, e);
    if (rc)
        return rc;
    return http_reply_json(r, 201, integration_json(&out));
}

int h_agent_integrations_list(struct http_req *r, struct err *e)
{
    int64_t agent;
    int rc = ids(r, &agent, NULL, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct recovery_integration *rows = NULL;
    size_t n = 0;
    if (!rc)
        rc = recovery_integration_list(c, r->who.tenant_id, agent, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, integration_json(&rows[i]));
    return http_reply_json(r, 200, json_pack("{s:o}", "integrations", arr));
}

int h_agent_integrations_get(struct http_req *r, struct err *e)
{
    int64_t agent, id;
    int rc = ids(r, &agent, &id, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct recovery_integration out;
    if (!rc)
        rc = recovery_integration_get(c, r->who.tenant_id, agent, id, &r->arena, &out, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, integration_json(&out));
}

int h_agent_integrations_update(struct http_req *r, struct err *e)
{
    int64_t agent, id;
    struct recovery_integration_in in;
    int rc = ids(r, &agent, &id, e);
    if (!rc)
        rc = integration_decode(r->json, false, &in, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct recovery_integration out;
    if (!rc)
        rc = recovery_integration_update(c, r->app->secret_key, r->who.tenant_id, agent, id, &in,
                                         now_ms(r), &r->arena, &out, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, integration_json(&out));
}

int h_agent_integrations_delete(struct http_req *r, struct err *e)
{
    int64_t agent, id;
    int rc = ids(r, &agent, &id, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = recovery_integration_delete(c, r->who.tenant_id, agent, id, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "deleted", 1));
}

int h_agent_integrations_test(struct http_req *r, struct err *e)
{
    int64_t agent, id;
    int rc = ids(r, &agent, &id, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct recovery_probe p;
    if (!rc)
        rc = recovery_integration_probe(c, r->app->secret_key, r->who.tenant_id, agent, id,
                                        now_ms(r), &p, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200,
                           json_pack("{s:b, s:s, s:o, s:s, s:i}", "ok", p.ok, "stage", p.stage,
                                     "status", p.status ? json_integer(p.status) : json_null(),
                                     "message", p.message, "carts_seen", p.carts_seen));
}

/* ---- polling ---- */

static json_t *status_json(const struct recovery_status *st)
{
    json_t *cycles = json_array();
    for (size_t i = 0; i < st->n_cycles; i++) {
        const struct recovery_cycle *cy = &st->cycles[i];
        json_array_append_new(
            cycles,
            json_pack("{s:I, s:s, s:o, s:o, s:b, s:i, s:i, s:i, s:I, s:i, s:i, s:i, s:i, s:o, "
                      "s:I}",
                      "id", (json_int_t)cy->id, "kind", cy->kind, "started_at",
                      http_json_time(cy->started_at_ms), "finished_at",
                      http_json_time(cy->finished_at_ms), "finished", cy->finished_at_ms != 0,
                      "agents_found", cy->agents_found, "platforms_processed",
                      cy->platforms_processed, "carts_fetched", cy->carts_fetched, "total_value",
                      (json_int_t)cy->total_value, "deliveries_queued", cy->deliveries_queued,
                      "deliveries_succeeded", cy->deliveries_succeeded, "deliveries_failed",
                      cy->deliveries_failed, "errors", cy->errors, "last_error",
                      str_or_null(cy->last_error), "duration_ms", (json_int_t)cy->duration_ms));
    }
    json_t *by_currency = json_array();
    for (size_t i = 0; i < st->n_by_currency; i++) {
        const struct recovery_recovered *x = &st->by_currency[i];
        json_array_append_new(by_currency,
                              json_pack("{s:s, s:I, s:I, s:o}", "currency", x->currency, "carts",
                                        (json_int_t)x->carts, "value", (json_int_t)x->value,
                                        "amount", http_json_amount_code(x->value, x->currency)));
    }
    return json_pack("{s:s, s:b, s:o, s:o, s:o, s:{s:I, s:I, s:o}, s:o}", "state",
                     st->running ? "running" : "stopped", "running", st->running, "interval_s",
                     st->interval_s ? json_integer(st->interval_s) : json_null(), "started_at",
                     http_json_time(st->started_at_ms), "last_cycle_at",
                     http_json_time(st->last_cycle_at_ms), "recovered", "carts",
                     (json_int_t)st->recovered_carts, "value", (json_int_t)st->recovered_value,
                     "by_currency", by_currency, "cycles", cycles);
}

static int reply_status(struct http_req *r, struct db_conn *c, int status, struct err *e)
{
    struct recovery_status st;
    int rc = recovery_status_get(c, r->who.tenant_id, &r->arena, &st, e);
    if (rc)
        return rc;
    return http_reply_json(r, status, status_json(&st));
}

int h_polling_start(struct http_req *r, struct err *e)
{
    int64_t interval;
    int rc = http_req_query_int(r, "interval", RECOVERY_INTERVAL_MIN_S, RECOVERY_INTERVAL_MAX_S, 30,
                                &interval, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = recovery_polling_start(c, r->who.tenant_id, (int)interval, now_ms(r), e);
    return rc ? rc : reply_status(r, c, 200, e);
}

int h_polling_stop(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = recovery_polling_stop(c, r->who.tenant_id, now_ms(r), e);
    return rc ? rc : reply_status(r, c, 200, e);
}

int h_polling_status(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    int rc = http_req_db(r, &c, e);
    return rc ? rc : reply_status(r, c, 200, e);
}

int h_polling_test_once(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    int rc = http_req_db(r, &c, e);
    int64_t cycle = 0;
    int jobs = 0;
    if (!rc)
        rc = recovery_cycle_start(c, r->who.tenant_id, "test", now_ms(r), &cycle, &jobs, e);
    if (rc)
        return rc;
    return http_reply_json(r, 202,
                           json_pack("{s:I, s:i}", "cycle_id", (json_int_t)cycle, "jobs", jobs));
}

/* ---- carts in recovery ---- */

static json_t *cart_view_json(const struct recovery_cart_view *v)
{
    return json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, "
                     "s:i, s:o}",
                     "id", (json_int_t)v->id, "agent_id", (json_int_t)v->agent_id, "integration_id",
                     (json_int_t)v->integration_id, "platform", v->platform, "platform_id",
                     v->platform_id, "cart_id", v->cart_id, "state", v->state, "currency",
                     v->currency, "total", http_json_amount_code(v->total, v->currency),
                     "recovered_value", http_json_amount_code(v->recovered_value, v->currency),
                     "checkout_url", str_or_null(v->checkout_url), "cart_updated_at",
                     http_json_time(v->cart_updated_ms), "delivered_at",
                     http_json_time(v->delivered_ms), "completed_at",
                     http_json_time(v->completed_ms), "messages_sent", v->messages_sent,
                     "updated_at", http_json_time(v->updated_ms));
}

int h_recovery_carts_list(struct http_req *r, struct err *e)
{
    struct page p;
    int rc = http_req_page(r, 50, 500, &p, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct recovery_cart_view *rows = NULL;
    size_t n = 0;
    if (!rc)
        rc = recovery_cart_list(c, r->who.tenant_id, http_req_query(r, "state"), p.after, p.limit,
                                &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, cart_view_json(&rows[i]));
    return http_reply_json(r, 200, http_page_body("carts", arr, &p, n, n ? rows[n - 1].id : 0));
}
