/* SPDX-License-Identifier: MIT */
/*
 * The WhatsApp channel's endpoints: the Meta verification handshake (GET), the webhook (POST:
 * Meta bodies signed with X-Hub-Signature-256, VAPI bodies with the x-vapi-secret header, both
 * checked by src/integrations' verifiers on the raw body before anything is parsed; a webhook
 * whose secret is not configured is refused), the seed's test notification, and "what did you
 * understand" for people and tools. Tests: tests/integration/0005-whatsapp.c.
 */
#include "core/clock.h"
#include "core/crypto.h"
#include "core/str.h"
#include "domain/chat/inbound.h"
#include "domain/understand/understand_json.h"
#include "domain/flash/flash_store.h"
#include "domain/notify/outbox.h"
#include "http/handlers.h"
#include "http/app.h"
#include "integrations/inbound_route.h"
#include "integrations/provider.h"
#include "jobs/worker.h"

#include <stdio.h>
#include <string.h>

int h_whatsapp_verify(struct http_req *r, struct err *e)
{
    const char *want = r->app->cfg.whatsapp_verify_token;
    const char *mode = http_req_query(r, "hub.mode");
    const char *token = http_req_query(r, "hub.verify_token");
    const char *challenge = http_req_query(r, "hub.challenge");
    if (!*want)
        return err_set(e, ERR_FORBIDDEN,
                       "webhook verification is not configured (ICESHOP_WHATSAPP_VERIFY_TOKEN)");
    if (!mode || strcmp(mode, "subscribe") != 0)
        return err_set_field(e, ERR_INVALID, "hub.mode", "hub.mode must be subscribe");
    if (!challenge || !*challenge || strlen(challenge) > 256)
        return err_set_field(e, ERR_INVALID, "hub.challenge", "hub.challenge is required");
    if (!token || !sec_equal(token, strlen(token), want, strlen(want)))
        return err_set_field(e, ERR_FORBIDDEN, "hub.verify_token",
                             "hub.verify_token does not match");
    return http_reply_bytes(r, 200, "text/plain", challenge, strlen(challenge));
}

/*
 * Which provider signed this delivery (Meta when X-Hub-Signature-256 is present, else VAPI when
 * x-vapi-secret is), which tenant it belongs to (integrations/inbound_route.h: the Cloud API
 * phone_number_id or the VAPI assistant, else the default tenant), and that tenant's secret
 * checked by the provider's verifier on the raw body. A tenant without a secret is refused
 * with what to set.
 */
static int verify_webhook(struct http_req *r, struct db_conn *c, bool *is_meta, int64_t *tenant,
                          struct err *e)
{
    const char *name;
    *is_meta = http_req_header(r, "X-Hub-Signature-256") != NULL;
    if (*is_meta)
        name = "meta";
    else if (http_req_header(r, "X-Vapi-Secret"))
        name = "vapi";
    else
        return err_set(e, ERR_UNAUTHORIZED,
                       "unsigned webhook: send X-Hub-Signature-256 (WhatsApp) or x-vapi-secret "
                       "(VAPI)");
    const struct integrations_provider *p = integrations_provider_find(name);
    struct wh_headers h;
    wh_headers_init(&h);
    int rc = http_req_webhook_headers(r, p->headers, &h, e);
    if (rc)
        return rc;
    struct inbound_target t;
    rc = inbound_resolve(c, r->app->secret_key, name, &h, buf_str(&r->body), r->body.len,
                         r->app->default_tenant_id, 0, &r->arena, &t, e);
    if (rc)
        return rc;
    if (!t.secret)
        return err_set(
            e, ERR_UNAUTHORIZED,
            "%s webhooks are not configured: set %s with PUT /api/integrations/%s%s",
            *is_meta ? "WhatsApp" : "VAPI", t.secret_field, t.settings_provider,
            t.tenant == r->app->default_tenant_id
                ? (*is_meta ? " or ICESHOP_WHATSAPP_APP_SECRET" : " or ICESHOP_VAPI_SECRET")
                : "");
    *tenant = t.tenant;
    return p->verify(&h, buf_str(&r->body), r->body.len, t.secret,
                     clock_now_ms(r->app->clock) / 1000, e);
}

int h_whatsapp_webhook(struct http_req *r, struct err *e)
{
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    if (rc)
        return rc;
    bool meta = false;
    int64_t tenant = 0;
    rc = verify_webhook(r, c, &meta, &tenant, e);
    if (rc)
        return rc;
    if (r->body.len == 0)
        return err_set(e, ERR_INVALID, "request body is empty; a JSON object is required");
    int64_t now = clock_now_ms(r->app->clock);
    struct chat_event *events = NULL;
    size_t n = 0, fresh = 0;
    rc = meta ? chat_parse_meta(buf_str(&r->body), r->body.len, now, &r->arena, &events, &n, e)
              : chat_parse_vapi(buf_str(&r->body), r->body.len, now, &r->arena, &events, &n, e);
    if (!rc && n)
        rc = chat_inbound_store(c, tenant, events, n, now, &fresh, e);
    if (rc)
        return rc;
    return http_reply_json(
        r, 200, json_pack("{s:I, s:I}", "received", (json_int_t)n, "new", (json_int_t)fresh));
}

int h_whatsapp_test_notification(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"to", "message", NULL};
    const char *to = NULL, *text = NULL;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = json_get_strn(r->json, "to", true, FLASH_ID_MAX, &to, e);
    if (!rc)
        rc = json_get_strn(r->json, "message", true, 1000, &text, e);
    if (rc)
        return rc;
    struct db_conn *c;
    rc = http_req_db(r, &c, e);
    if (rc)
        return rc;
    struct notify_message m;
    memset(&m, 0, sizeof(m));
    m.body = text;
    struct flash_buyer b;
    struct flash_seller s;
    struct err nf;
    err_init(&nf);
    if (!flash_store_buyer_get(c, r->who.tenant_id, to, false, &r->arena, &b, &nf)) {
        m.recipient_kind = "buyer";
        m.recipient_pk = b.pk;
        m.recipient_id = b.id;
        m.phone = b.phone;
        m.language = b.language;
    } else if (err_init(&nf),
               !flash_store_seller_get(c, r->who.tenant_id, to, false, &r->arena, &s, &nf)) {
        m.recipient_kind = "seller";
        m.recipient_pk = s.pk;
        m.recipient_id = s.id;
        m.phone = s.phone;
        m.language = "tr";
    } else {
        return err_set_field(e, ERR_NOT_FOUND, "to", "no buyer or seller with id %s", to);
    }
    rc = notify_enqueue(c, r->who.tenant_id, &notify_kind_reply, &m, NULL,
                        clock_now_ms(r->app->clock), e);
    if (rc)
        return rc;
    return http_reply_json(r, 202,
                           json_pack("{s:I, s:s, s:s}", "message_id", (json_int_t)m.pk, "to",
                                     m.recipient_id, "status", "pending"));
}

int h_chat_understand(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"text", "role", NULL};
    const char *text = NULL;
    int role = UNDERSTAND_ROLE_BUYER;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = json_get_strn(r->json, "text", true, UNDERSTAND_TEXT_MAX, &text, e);
    if (!rc)
        rc = json_get_enum(r->json, "role", false, understand_role_names, &role, e);
    if (rc)
        return rc;
    struct understanding u;
    rc = understand_text(text, (enum understand_role)role, &u, e);
    if (rc) {
        if (!e->field[0])
            snprintf(e->field, sizeof(e->field), "text");
        return rc;
    }
    return http_reply_json(r, 200, understanding_json(&u));
}

int h_chat_events(struct http_req *r, struct err *e)
{
    int64_t limit = 0, after = 0;
    int rc = http_req_query_int(r, "limit", 1, 500, 50, &limit, e);
    if (!rc)
        rc = http_req_query_int(r, "after", 0, INT64_MAX, 0, &after, e);
    struct db_conn *c;
    struct chat_event_row *rows;
    size_t n;
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = chat_event_list(c, r->who.tenant_id, after, (int)limit, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char rec[CLOCK_ISO_LEN], proc[CLOCK_ISO_LEN];
        clock_format_iso(rows[i].received_at, rec);
        clock_format_iso(rows[i].processed_at, proc);
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "id",
                                             (json_int_t)rows[i].pk, "provider", rows[i].provider,
                                             "kind", rows[i].kind, "from", rows[i].from, "type",
                                             rows[i].type, "text", rows[i].text, "received_at", rec,
                                             "processed_at",
                                             rows[i].processed_at ? json_string(proc) : json_null(),
                                             "outcome", rows[i].outcome));
    }
    json_t *body = json_pack("{s:o}", "events", arr);
    json_object_set_new(body, "next_after",
                        n == (size_t)limit && n ? json_integer(rows[n - 1].pk) : json_null());
    return http_reply_json(r, 200, body);
}
