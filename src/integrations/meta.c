/* SPDX-License-Identifier: MIT */
/*
 * Meta (WhatsApp Cloud API) webhooks. Signature: X-Hub-Signature-256 = "sha256=" + hex of
 * HMAC-SHA256(key = app secret bytes, raw body); no timestamp, so no replay window. Identity:
 * one per item, the same keys src/domain/chat/inbound.c dedupes on: each
 * entry[].changes[].value.messages[] gives (id, "message"); each statuses[] gives
 * ("<id>:<status>", "status"); a delivery with neither (another subscription field) gives
 * ("sha256:<hex of body>", the first change's field). Tests: tests/unit/integrations/test_verify.c.
 */
#include "integrations/provider_internal.h"

#include <string.h>

#define P      "meta"
#define HEADER "X-Hub-Signature-256"
#define PREFIX "sha256="

const char *const wh_meta_headers[] = {HEADER, NULL};

int wh_meta_verify(const struct wh_headers *h, const char *body, size_t len, const char *secret,
                   int64_t now_s, struct err *e)
{
    (void)now_s;
    const char *sig = NULL;
    int rc = wh_need_secret(P, secret, e);
    if (!rc)
        rc = wh_need_header(h, P, HEADER, &sig, e);
    if (rc)
        return rc;
    size_t plen = strlen(PREFIX);
    if (strncmp(sig, PREFIX, plen) != 0)
        return err_set(e, ERR_UNAUTHORIZED, P ": " HEADER " must be sha256=<hex>");
    unsigned char got[SEC_HMAC_SHA256_LEN];
    if (!wh_hex_mac(sig + plen, strlen(sig + plen), got))
        return err_set(e, ERR_UNAUTHORIZED, P ": " HEADER " is not sha256= and 64 hex digits");
    unsigned char want[SEC_HMAC_SHA256_LEN];
    sec_hmac_sha256(want, secret, strlen(secret), body, len);
    bool ok = sec_equal(got, sizeof(got), want, sizeof(want));
    sec_wipe(want, sizeof(want));
    if (!ok)
        return err_set(e, ERR_UNAUTHORIZED, P ": " HEADER " does not match the body");
    return 0;
}

int wh_meta_identify(const struct wh_headers *h, const char *body, size_t len, struct arena *a,
                     struct wh_event_id **ids, size_t *n, struct err *e)
{
    (void)h;
    json_t *root = NULL;
    int rc = wh_parse_object(P, body, len, a, &root, e);
    if (rc)
        return rc;
    json_t *entries = json_object_get(root, "entry");
    if (!json_is_array(entries))
        return err_set_field(e, ERR_INVALID, "entry", P ": entry must be an array");
    struct wh_event_id *out = NULL;
    size_t used = 0, cap = 0;
    const char *first_field = NULL;
    /* index loops: jansson's foreach macros nest badly under clang-format */
    for (size_t i = 0; i < json_array_size(entries); i++) {
        json_t *changes = json_object_get(json_array_get(entries, i), "changes");
        for (size_t j = 0; j < json_array_size(changes); j++) {
            json_t *change = json_array_get(changes, j);
            json_t *value = json_object_get(change, "value");
            json_t *messages = json_object_get(value, "messages");
            json_t *statuses = json_object_get(value, "statuses");
            if (!first_field)
                first_field = wh_json_str(change, "field");
            for (size_t k = 0; k < json_array_size(messages); k++) {
                const char *id = wh_json_str(json_array_get(messages, k), "id");
                if (!id || !*id)
                    return err_set_field(e, ERR_INVALID, "entry.changes.value.messages.id",
                                         P ": a message has no id");
                out = arena_grow(a, out, used, &cap, sizeof(*out));
                out[used].id = arena_strdup(a, id);
                out[used++].type = "message";
            }
            for (size_t k = 0; k < json_array_size(statuses); k++) {
                json_t *st = json_array_get(statuses, k);
                const char *id = wh_json_str(st, "id"), *status = wh_json_str(st, "status");
                if (!id || !*id || !status || !*status)
                    return err_set_field(e, ERR_INVALID, "entry.changes.value.statuses",
                                         P ": a status needs id and status");
                out = arena_grow(a, out, used, &cap, sizeof(*out));
                out[used].id = arena_printf(a, "%s:%s", id, status);
                out[used++].type = "status";
            }
        }
    }
    if (used == 0) {
        *ids = wh_one_id(a, wh_body_key(body, len, a),
                         arena_strdup(a, first_field ? first_field : ""), n);
        return 0;
    }
    *ids = out;
    *n = used;
    return 0;
}
