/* SPDX-License-Identifier: MIT */
/*
 * HTTP for privacy requests (KVKK / GDPR; the rules are in platform/privacy.h): an admin exports
 * or erases everything the tenant holds about a phone and/or an email.
 * Tests: tests/integration/0021-privacy.c.
 */
#include "core/clock.h"
#include "http/app.h"
#include "http/handlers.h"
#include "json/json.h"
#include "platform/privacy.h"

int h_privacy_export(struct http_req *r, struct err *e)
{
    struct privacy_subject p;
    int rc = privacy_subject_parse(http_req_query(r, "phone"), http_req_query(r, "email"), &p, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    json_t *out = NULL;
    if (!rc)
        rc = privacy_export(c, r->who.tenant_id, &p, clock_now_ms(r->app->clock), &out, e);
    return rc ? rc : http_reply_json(r, 200, out);
}

int h_privacy_erase(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"phone", "email", NULL};
    const char *phone = NULL, *email = NULL;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = json_get_strn(r->json, "phone", false, 32, &phone, e);
    if (!rc)
        rc = json_get_strn(r->json, "email", false, 254, &email, e);
    struct privacy_subject p;
    if (!rc)
        rc = privacy_subject_parse(phone, email, &p, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    json_t *counts = NULL;
    if (!rc)
        rc = privacy_erase(c, r->who.tenant_id, &p, clock_now_ms(r->app->clock), &counts, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, json_pack("{s:b, s:o}", "erased", 1, "rows", counts));
}
