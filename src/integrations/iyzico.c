/* SPDX-License-Identifier: MIT */
/*
 * iyzico payment webhooks. Signature: X-IYZ-SIGNATURE-V3 = hex HMAC-SHA256(key = secret key,
 * message = secret key + fields of the JSON body), where the fields depend on the integration:
 *   checkout form / Pay with iyzico (the body has "token"):
 *       iyziEventType + iyziPaymentId + token + paymentConversationId + status
 *   direct API payments (no "token"):
 *       iyziEventType + paymentId + paymentConversationId + status
 * Payment ids are JSON integers (or strings) and are signed as decimal text. iyzico deliveries
 * carry no event id, so the identity is built from the same signed fields, which a retry repeats
 * and a new event changes: ("<iyziEventType>:<payment id>:<status>", iyziEventType), with the
 * payment id from iyziPaymentId, else paymentId. Tests: tests/unit/integrations/test_verify.c.
 */
#include "integrations/provider_internal.h"

#include <stdio.h>
#include <string.h>

#define P      "iyzico"
#define HEADER "X-IYZ-SIGNATURE-V3"

const char *const wh_iyzico_headers[] = {HEADER, NULL};

/* A required body field as text: a non-empty string, or an integer written in decimal. */
static int field_text(json_t *root, const char *key, char *buf, size_t size, const char **out,
                      enum err_code code, struct err *e)
{
    json_t *v = json_object_get(root, key);
    if (json_is_string(v) && json_string_length(v) > 0) {
        *out = json_string_value(v);
        return 0;
    }
    if (json_is_integer(v)) {
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *out = buf;
        return 0;
    }
    return err_set_field(e, code, key, P ": body field %s is missing (a string or integer)", key);
}

/* The fields a delivery signs, in signing order, as text (numbers kept in `num`). */
struct signed_fields {
    const char *v[5];
    char num[5][24];
    size_t n;
};

static const char *const hpp_fields[] = {"iyziEventType",         "iyziPaymentId", "token",
                                         "paymentConversationId", "status",        NULL};
static const char *const direct_fields[] = {"iyziEventType", "paymentId", "paymentConversationId",
                                            "status", NULL};

static int signed_fields(json_t *root, struct signed_fields *f, enum err_code code, struct err *e)
{
    const char *const *names = json_object_get(root, "token") ? hpp_fields : direct_fields;
    f->n = 0;
    for (size_t i = 0; names[i]; i++) {
        int rc = field_text(root, names[i], f->num[i], sizeof(f->num[i]), &f->v[i], code, e);
        if (rc)
            return rc;
        f->n++;
    }
    return 0;
}

int wh_iyzico_verify(const struct wh_headers *h, const char *body, size_t len, const char *secret,
                     int64_t now_s, struct err *e)
{
    (void)now_s;
    const char *sig = NULL;
    int rc = wh_need_secret(P, secret, e);
    if (!rc)
        rc = wh_need_header(h, P, HEADER, &sig, e);
    if (rc)
        return rc;
    unsigned char got[SEC_HMAC_SHA256_LEN];
    if (!wh_hex_mac(sig, strlen(sig), got))
        return err_set(e, ERR_UNAUTHORIZED, P ": " HEADER " is not 64 hex digits");

    /* the signed fields live in the body: an unreadable body cannot be authenticated */
    struct arena a;
    arena_init(&a);
    json_t *root = NULL;
    struct err pe;
    err_init(&pe);
    if (json_parse_object(body, len, &a, &root, &pe)) {
        rc = err_set(e, ERR_UNAUTHORIZED, P ": body is not a JSON object, nothing to verify (%s)",
                     pe.msg);
        goto out_arena;
    }
    struct signed_fields f;
    rc = signed_fields(root, &f, ERR_UNAUTHORIZED, e);
    if (rc)
        goto out_arena;
    struct sec_slice parts[6]; /* the secret, then up to 5 fields */
    size_t np = 0;
    parts[np].p = secret;
    parts[np++].len = strlen(secret);
    for (size_t i = 0; i < f.n; i++) {
        parts[np].p = f.v[i];
        parts[np++].len = strlen(f.v[i]);
    }
    unsigned char want[SEC_HMAC_SHA256_LEN];
    sec_hmac_sha256_v(want, secret, strlen(secret), parts, np);
    bool ok = sec_equal(got, sizeof(got), want, sizeof(want));
    sec_wipe(want, sizeof(want));
    if (!ok)
        rc = err_set(e, ERR_UNAUTHORIZED, P ": " HEADER " does not match the body");
out_arena:
    arena_release(&a);
    return rc;
}

int wh_iyzico_identify(const struct wh_headers *h, const char *body, size_t len, struct arena *a,
                       struct wh_event_id **ids, size_t *n, struct err *e)
{
    (void)h;
    json_t *root = NULL;
    int rc = wh_parse_object(P, body, len, a, &root, e);
    if (rc)
        return rc;
    char tbuf[24], pbuf[24], sbuf[24];
    const char *type = NULL, *pid = NULL, *status = NULL;
    rc = field_text(root, "iyziEventType", tbuf, sizeof(tbuf), &type, ERR_INVALID, e);
    if (!rc && json_object_get(root, "iyziPaymentId"))
        rc = field_text(root, "iyziPaymentId", pbuf, sizeof(pbuf), &pid, ERR_INVALID, e);
    else if (!rc)
        rc = field_text(root, "paymentId", pbuf, sizeof(pbuf), &pid, ERR_INVALID, e);
    if (!rc)
        rc = field_text(root, "status", sbuf, sizeof(sbuf), &status, ERR_INVALID, e);
    if (rc)
        return rc;
    *ids = wh_one_id(a, arena_printf(a, "%s:%s:%s", type, pid, status), arena_strdup(a, type), n);
    return 0;
}
