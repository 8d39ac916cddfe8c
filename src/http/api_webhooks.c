/* SPDX-License-Identifier: MIT */
/*
 * Outbound webhook endpoints: create (the secret is shown this once), list, get and delete
 * subscriptions; list deliveries with their last attempt, and send one again by hand. Thin:
 * rules and storage live in src/domain/webhooks. Tests: tests/integration/0009-webhooks-out.c.
 */
#include "core/clock.h"
#include "domain/webhooks/webhooks.h"
#include "http/handlers.h"
#include "jobs/worker.h"

#include <stdio.h>
#include <string.h>

static json_t *endpoint_json(const struct webhook_endpoint *ep)
{
    json_t *events = json_array();
    for (size_t i = 0; i < ep->n_events; i++)
        json_array_append_new(events, json_string(ep->events[i]));
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:o, s:b, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)ep->id, "url",
        ep->url, "description", ep->description, "events", events, "disabled", ep->disabled,
        "disabled_reason", ep->disabled ? json_string(ep->disabled_reason) : json_null(),
        "disabled_at", http_json_time(ep->disabled_at_ms), "failing_since",
        http_json_time(ep->failing_since_ms), "created_at", http_json_time(ep->created_at_ms),
        "updated_at", http_json_time(ep->updated_at_ms));
    return o;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *delivery_json(const struct webhook_delivery *d)
{
    return json_pack(
        "{s:I, s:I, s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
        (json_int_t)d->id, "endpoint_id", (json_int_t)d->endpoint_id, "webhook_id", d->msg_id,
        "type", d->event_type, "status", webhook_delivery_status_names[d->status], "attempts",
        d->attempts, "next_attempt_at", http_json_time(d->next_attempt_ms), "last_status",
        d->last_status ? json_integer(d->last_status) : json_null(), "last_response",
        str_or_null(d->last_response), "last_error", str_or_null(d->last_error), "created_at",
        http_json_time(d->created_at_ms), "updated_at", http_json_time(d->updated_at_ms),
        "delivered_at", http_json_time(d->delivered_at_ms));
}

int h_webhook_endpoints_create(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"url", "events", "description", NULL};
    const char *url = NULL, *description = NULL;
    json_t *events = NULL;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = json_get_strn(r->json, "url", true, WEBHOOKS_URL_MAX, &url, e);
    if (!rc)
        rc = json_get_array(r->json, "events", true, &events, e);
    if (!rc)
        rc = json_get_strn(r->json, "description", false, WEBHOOKS_DESC_MAX, &description, e);
    if (rc)
        return rc;
    size_t n = json_array_size(events);
    if (n > WEBHOOKS_MAX_EVENTS)
        return err_set_field(e, ERR_INVALID, "events", "events has more than %d entries",
                             WEBHOOKS_MAX_EVENTS);
    const char **names = arena_alloc(&r->arena, (n ? n : 1) * sizeof(*names));
    for (size_t i = 0; i < n; i++) {
        names[i] = json_string_value(json_array_get(events, i));
        if (!names[i]) {
            char field[32];
            snprintf(field, sizeof(field), "events[%zu]", i);
            return err_set_field(e, ERR_INVALID, field, "%s must be a string", field);
        }
    }
    struct webhook_endpoint_in in = {
        .url = url, .events = names, .n_events = n, .description = description};
    struct db_conn *c;
    rc = http_req_db(r, &c, e);
    struct webhook_endpoint ep;
    if (!rc)
        rc = webhooks_endpoint_create(c, r->who.tenant_id, &in, clock_now_ms(r->app->clock),
                                      &r->arena, &ep, e);
    if (rc)
        return rc;
    json_t *body = endpoint_json(&ep);
    json_object_set_new(body, "secret", json_string(ep.secret));
    return http_reply_json(r, 201, body);
}

int h_webhook_endpoints_list(struct http_req *r, struct err *e)
{
    int64_t limit, after;
    int rc = http_req_query_int(r, "limit", 1, WEBHOOKS_LIST_MAX, WEBHOOKS_LIST_DEFAULT, &limit, e);
    if (!rc)
        rc = http_req_query_int(r, "after", 1, INT64_MAX, 0, &after, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct webhook_endpoint *rows = NULL;
    size_t n = 0;
    if (!rc)
        rc =
            webhooks_endpoint_list(c, r->who.tenant_id, after, (int)limit, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, endpoint_json(&rows[i]));
    return http_reply_json(
        r, 200,
        json_pack("{s:o, s:o}", "endpoints", arr, "next_after",
                  n && n == (size_t)limit ? json_integer(rows[n - 1].id) : json_null()));
}

int h_webhook_endpoints_get(struct http_req *r, struct err *e)
{
    int64_t id;
    int rc = http_req_param_id(r, "id", &id, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct webhook_endpoint ep;
    if (!rc)
        rc = webhooks_endpoint_get(c, r->who.tenant_id, id, &r->arena, &ep, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, endpoint_json(&ep));
}

int h_webhook_endpoints_delete(struct http_req *r, struct err *e)
{
    int64_t id;
    int rc = http_req_param_id(r, "id", &id, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = webhooks_endpoint_delete(c, r->who.tenant_id, id, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "deleted", 1));
}

int h_webhook_deliveries_list(struct http_req *r, struct err *e)
{
    struct webhook_delivery_filter f = {.status = -1};
    const char *status = http_req_query(r, "status");
    if (status) {
        for (int i = 0; webhook_delivery_status_names[i]; i++) {
            if (strcmp(status, webhook_delivery_status_names[i]) == 0)
                f.status = i;
        }
        if (f.status < 0)
            return err_set_field(e, ERR_INVALID, "status",
                                 "status must be one of: pending, succeeded, dead");
    }
    int64_t limit, after, endpoint;
    int rc = http_req_query_int(r, "limit", 1, WEBHOOKS_LIST_MAX, WEBHOOKS_LIST_DEFAULT, &limit, e);
    if (!rc)
        rc = http_req_query_int(r, "after", 1, INT64_MAX, 0, &after, e);
    if (!rc)
        rc = http_req_query_int(r, "endpoint_id", 1, INT64_MAX, 0, &endpoint, e);
    if (rc)
        return rc;
    f.limit = (int)limit;
    f.after_id = after;
    f.endpoint_id = endpoint;
    struct db_conn *c;
    rc = http_req_db(r, &c, e);
    struct webhook_delivery *rows = NULL;
    size_t n = 0;
    if (!rc)
        rc = webhooks_delivery_list(c, r->who.tenant_id, &f, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, delivery_json(&rows[i]));
    return http_reply_json(
        r, 200,
        json_pack("{s:o, s:o}", "deliveries", arr, "next_after",
                  n && n == (size_t)limit ? json_integer(rows[n - 1].id) : json_null()));
}

int h_webhook_deliveries_retry(struct http_req *r, struct err *e)
{
    int64_t id;
    int rc = http_req_param_id(r, "id", &id, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct webhook_delivery d;
    if (!rc)
        rc = webhooks_delivery_retry(c, r->who.tenant_id, id, clock_now_ms(r->app->clock),
                                     &r->arena, &d, e);
    if (rc)
        return rc;
    return http_reply_json(r, 202, delivery_json(&d));
}
