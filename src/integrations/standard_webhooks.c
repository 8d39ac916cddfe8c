/* SPDX-License-Identifier: MIT */
/*
 * Standard Webhooks (standardwebhooks.com): the checks are core/webhook_sig.c's
 * webhook_sig_verify (webhook-id, webhook-timestamp within 300 s both ways, webhook-signature
 * "v1,<base64>" list over "<id>.<timestamp>.<body>", whsec_ secrets); this file only reads the
 * headers and names the provider in the errors. Identity: (webhook-id, the body's "type" when it
 * is a JSON object with a string type, else ""). Tests: tests/unit/integrations/test_verify.c.
 */
#include "integrations/provider_internal.h"

#include "core/webhook_sig.h"

#define P "standard-webhooks"

const char *const wh_standard_webhooks_headers[] = {WEBHOOK_SIG_HDR_ID, WEBHOOK_SIG_HDR_TIMESTAMP,
                                                    WEBHOOK_SIG_HDR_SIGNATURE, NULL};

/* The value of a header that must not repeat; NULL when absent or repeated (*repeated set). */
static const char *once(const struct wh_headers *h, const char *name, bool *repeated)
{
    if (wh_headers_count(h, name) > 1) {
        *repeated = true;
        return NULL;
    }
    return wh_headers_get(h, name);
}

int wh_standard_webhooks_verify(const struct wh_headers *h, const char *body, size_t len,
                                const char *secret, int64_t now_s, struct err *e)
{
    int rc = wh_need_secret(P, secret, e);
    if (rc)
        return rc;
    bool repeated = false;
    const char *id = once(h, WEBHOOK_SIG_HDR_ID, &repeated);
    const char *ts = once(h, WEBHOOK_SIG_HDR_TIMESTAMP, &repeated);
    const char *sig = once(h, WEBHOOK_SIG_HDR_SIGNATURE, &repeated);
    if (repeated)
        return err_set(e, ERR_UNAUTHORIZED, P ": a webhook-* header appears more than once");
    struct err ve;
    err_init(&ve);
    rc = webhook_sig_verify(secret, id, ts, sig, body, len, now_s, &ve);
    if (rc)
        return err_set(e, ve.code, P ": %s", ve.msg);
    return 0;
}

int wh_standard_webhooks_identify(const struct wh_headers *h, const char *body, size_t len,
                                  struct arena *a, struct wh_event_id **ids, size_t *n,
                                  struct err *e)
{
    const char *id = wh_headers_get(h, WEBHOOK_SIG_HDR_ID);
    if (!id || !*id || wh_headers_count(h, WEBHOOK_SIG_HDR_ID) > 1)
        return err_set_field(e, ERR_INVALID, WEBHOOK_SIG_HDR_ID,
                             P ": " WEBHOOK_SIG_HDR_ID " must be given once, not empty");
    /* the type is a courtesy: a body that is not a JSON object still has its identity */
    json_t *root = NULL;
    const char *type = NULL;
    struct err pe;
    err_init(&pe);
    if (json_parse_object(body, len, a, &root, &pe) == 0)
        type = wh_json_str(root, "type");
    *ids = wh_one_id(a, arena_strdup(a, id), arena_strdup(a, type ? type : ""), n);
    return 0;
}
