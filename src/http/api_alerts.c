/* SPDX-License-Identifier: MIT */
/*
 * The tenant's operator alerts: GET /api/alerts (admin), newest first with keyset pagination
 * and a state filter. The rules and the storage live in domain/alerts.
 * Tests: tests/integration/0011-alerts.c.
 */
#include "core/clock.h"
#include "domain/alerts/alerts.h"
#include "http/handlers.h"

#include <string.h>

static json_t *alert_json(const struct alert *a)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:b}", "id", (json_int_t)a->id,
                     "kind", a->kind, "source", a->source, "code", a->code, "message", a->message,
                     "occurrences", (json_int_t)a->occurrences, "created_at",
                     http_json_time(a->created_at_ms), "last_seen_at",
                     http_json_time(a->last_seen_at_ms), "resolved_at",
                     http_json_time(a->resolved_at_ms), "open", a->resolved_at_ms == 0);
}

int h_alerts_list(struct http_req *r, struct err *e)
{
    struct alert_filter f;
    memset(&f, 0, sizeof(f));
    const char *state = http_req_query(r, "state");
    if (!state || strcmp(state, "all") == 0)
        f.state = ALERTS_ANY;
    else if (strcmp(state, "open") == 0)
        f.state = ALERTS_OPEN;
    else if (strcmp(state, "resolved") == 0)
        f.state = ALERTS_RESOLVED;
    else
        return err_set_field(e, ERR_INVALID, "state", "state must be one of: open, resolved, all");
    int rc = http_req_page(r, ALERTS_LIST_DEFAULT, ALERTS_LIST_MAX, &f.page, e);
    if (rc)
        return rc;
    struct db_conn *c;
    rc = http_req_db(r, &c, e);
    struct alert *rows = NULL;
    size_t n = 0;
    if (!rc)
        rc = alerts_list(c, r->who.tenant_id, &f, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, alert_json(&rows[i]));
    return http_reply_json(r, 200,
                           http_page_body("alerts", arr, &f.page, n, n ? rows[n - 1].id : 0));
}
