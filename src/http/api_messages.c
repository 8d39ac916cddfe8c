/* SPDX-License-Identifier: MIT */
/*
 * Sending an email through the outbox (operators; other modules enqueue theirs directly):
 * the address, subject, text and attachments are validated by the outbox, stored with the
 * delivery job in one transaction, and delivered over SMTP by the same job and retries as
 * WhatsApp messages. Tests: tests/integration/0016-email.c.
 */
#include "core/clock.h"
#include "core/crypto.h"
#include "domain/notify/outbox.h"
#include "http/app.h"
#include "http/handlers.h"

#include <stdio.h>
#include <string.h>

/* "attachments": [{"filename", "content_type", "content_base64"}] */
static int decode_attachments(struct http_req *r, struct notify_attachment **out, size_t *n,
                              struct err *e)
{
    static const char *const fields[] = {"filename", "content_type", "content_base64", NULL};
    json_t *arr = NULL;
    *out = NULL;
    *n = 0;
    int rc = json_get_array(r->json, "attachments", false, &arr, e);
    if (rc || !arr)
        return rc;
    size_t count = json_array_size(arr);
    if (count > NOTIFY_ATTACHMENTS_MAX)
        return err_set_field(e, ERR_INVALID, "attachments", "at most %d attachments",
                             NOTIFY_ATTACHMENTS_MAX);
    struct notify_attachment *att = arena_alloc(&r->arena, (count ? count : 1) * sizeof(*att));
    for (size_t i = 0; !rc && i < count; i++) {
        char path[32];
        snprintf(path, sizeof(path), "attachments[%zu]", i);
        json_t *o = json_array_get(arr, i);
        if (!json_is_object(o))
            return err_set_field(e, ERR_INVALID, path, "%s must be an object", path);
        const char *b64 = NULL;
        rc = json_reject_unknown(o, path, fields, e);
        if (!rc)
            rc = json_get_strn(o, "filename", true, 100, &att[i].filename, e);
        if (!rc)
            rc = json_get_strn(o, "content_type", true, 100, &att[i].content_type, e);
        if (!rc)
            rc = json_get_str(o, "content_base64", true, &b64, e);
        if (rc) {
            /* name the field with its index, as the caller wrote it */
            char field[sizeof(e->field)];
            snprintf(field, sizeof(field), "%.20s.%.40s", path, e->field);
            memcpy(e->field, field, sizeof(field));
            return rc;
        }
        size_t len = strlen(b64), got = 0;
        unsigned char *data = arena_alloc(&r->arena, SEC_B64_DECODED_MAX(len) + 1);
        struct err be;
        err_init(&be);
        if (sec_b64_decode(data, SEC_B64_DECODED_MAX(len) + 1, &got, SEC_B64_STD, b64, len, &be)) {
            rc = err_set(e, ERR_INVALID, "%s.content_base64 is not base64", path);
            snprintf(e->field, sizeof(e->field), "%.20s.content_base64", path);
            return rc;
        }
        att[i].data = data;
        att[i].len = got;
    }
    *out = att;
    *n = count;
    return rc;
}

int h_messages_email(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"to", "subject", "text", "language", "attachments", NULL};
    const char *to = NULL, *subject = NULL, *text = NULL, *language = "tr";
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = json_get_strn(r->json, "to", true, 254, &to, e);
    if (!rc)
        rc = json_get_strn(r->json, "subject", true, NOTIFY_SUBJECT_MAX, &subject, e);
    if (!rc)
        rc = json_get_strn(r->json, "text", true, 8000, &text, e);
    if (!rc)
        rc = json_get_strn(r->json, "language", false, 2, &language, e);
    struct notify_attachment *att = NULL;
    size_t n_att = 0;
    if (!rc)
        rc = decode_attachments(r, &att, &n_att, e);
    if (rc)
        return rc;
    struct db_conn *c;
    rc = http_req_db(r, &c, e);
    if (rc)
        return rc;
    struct notify_message m;
    memset(&m, 0, sizeof(m));
    m.recipient_kind = "contact";
    m.recipient_id = to;
    m.email = to;
    m.language = strcmp(language, "en") == 0 ? "en" : "tr";
    m.body = text;
    rc = notify_enqueue_email(c, r->who.tenant_id, &notify_kind_reply, &m, NULL, subject, att,
                              n_att, clock_now_ms(r->app->clock), e);
    if (rc) {
        if (!strcmp(e->field, "email"))
            snprintf(e->field, sizeof(e->field), "to");
        return rc;
    }
    return http_reply_json(r, 202,
                           json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t)m.pk, "channel",
                                     "email", "status", "pending", "to", to, "attachments",
                                     (json_int_t)n_att));
}

/* ======================== the outbox ======================== */

int h_messages_list(struct http_req *r, struct err *e)
{
    struct notify_filter f = {.status = -1};
    struct page p;
    int64_t window = 0, about_id = 0;
    const char *status = http_req_query(r, "status");
    f.kind = http_req_query(r, "kind");
    f.recipient_id = http_req_query(r, "recipient_id");
    const char *about = http_req_query(r, "about_kind");
    int rc = http_req_page(r, 50, 500, &p, e);
    if (!rc)
        rc = http_req_query_int(r, "window_id", 0, INT64_MAX, 0, &window, e);
    if (!rc)
        rc = http_req_query_int(r, "about_id", 0, INT64_MAX, 0, &about_id, e);
    if (!rc && f.kind && !notify_kind_find(f.kind))
        rc = err_set_field(e, ERR_INVALID, "kind", "no message kind called \"%.48s\"", f.kind);
    if (!rc && about && !notify_kind_name_ok(about))
        rc = err_set_field(e, ERR_INVALID, "about_kind", "about_kind is a name like \"window\"");
    if (!rc && !about != !about_id)
        rc = err_set_field(e, ERR_INVALID, about ? "about_id" : "about_kind",
                           "about_kind and about_id go together");
    if (!rc && window && about)
        rc = err_set_field(e, ERR_INVALID, "window_id",
                           "give window_id or about_kind/about_id, not both");
    for (int i = 0; !rc && status && notify_status_names[i]; i++) {
        if (!strcmp(notify_status_names[i], status))
            f.status = i;
    }
    if (!rc && status && f.status < 0)
        rc = err_set_field(e, ERR_INVALID, "status",
                           "status must be one of: pending, sent, delivered, read, failed");
    if (rc)
        return rc;
    f.about_kind = window ? "window" : about;
    f.about_pk = window ? window : about_id;
    f.limit = p.limit;
    f.after_pk = p.after;
    struct db_conn *c = NULL;
    struct notify_message *rows;
    size_t n;
    rc = http_req_db(r, &c, e);
    if (!rc)
        rc = notify_list(c, r->who.tenant_id, &f, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, notify_message_json(&rows[i]));
    return http_reply_json(r, 200, http_page_body("messages", arr, &p, n, n ? rows[n - 1].pk : 0));
}
