/* SPDX-License-Identifier: MIT */
/*
 * VAPI server-URL webhooks. Authentication: the static shared secret in x-vapi-secret (VAPI's
 * legacy Bearer credential without prefix), compared in constant time through SHA-256 digests
 * so not even its length leaks. Identity, as src/domain/chat/inbound.c dedupes: the seed's shape
 * {"event_type", "message_id", ...} gives (message_id, event_type), or the body's
 * "sha256:<hex>" when message_id is absent; a server message {"message": {"type": ...}} carries
 * no id, so ("sha256:<hex of body>", message.type): an identical redelivery is a duplicate.
 * Tests: tests/unit/integrations/test_verify.c.
 */
#include "integrations/provider_internal.h"

#include <string.h>

#define P      "vapi"
#define HEADER "x-vapi-secret"

const char *const wh_vapi_headers[] = {HEADER, NULL};

int wh_vapi_verify(const struct wh_headers *h, const char *body, size_t len, const char *secret,
                   int64_t now_s, struct err *e)
{
    (void)body;
    (void)len;
    (void)now_s;
    const char *got = NULL;
    int rc = wh_need_secret(P, secret, e);
    if (!rc)
        rc = wh_need_header(h, P, HEADER, &got, e);
    if (rc)
        return rc;
    unsigned char dg[SEC_SHA256_LEN], dw[SEC_SHA256_LEN];
    sec_sha256(dg, got, strlen(got));
    sec_sha256(dw, secret, strlen(secret));
    bool ok = sec_equal(dg, sizeof(dg), dw, sizeof(dw));
    sec_wipe(dw, sizeof(dw));
    if (!ok)
        return err_set(e, ERR_UNAUTHORIZED, P ": " HEADER " does not match");
    return 0;
}

int wh_vapi_identify(const struct wh_headers *h, const char *body, size_t len, struct arena *a,
                     struct wh_event_id **ids, size_t *n, struct err *e)
{
    (void)h;
    json_t *root = NULL;
    int rc = wh_parse_object(P, body, len, a, &root, e);
    if (rc)
        return rc;
    json_t *msg = json_object_get(root, "message");
    if (json_is_object(msg)) {
        const char *type = wh_json_str(msg, "type");
        *ids = wh_one_id(a, wh_body_key(body, len, a), arena_strdup(a, type ? type : ""), n);
        return 0;
    }
    const char *type = wh_json_str(root, "event_type");
    const char *mid = wh_json_str(root, "message_id");
    const char *id = mid && *mid ? arena_strdup(a, mid) : wh_body_key(body, len, a);
    *ids = wh_one_id(a, id, arena_strdup(a, type ? type : ""), n);
    return 0;
}
