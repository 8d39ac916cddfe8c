/* SPDX-License-Identifier: MIT */
/*
 * Shopify webhooks. Signature: X-Shopify-Hmac-Sha256 = base64 of HMAC-SHA256(key = the app's
 * API secret key, raw body); no timestamp. Identity: (X-Shopify-Webhook-Id, X-Shopify-Topic),
 * the id Shopify documents for idempotency. Tests: tests/unit/integrations/test_verify.c.
 */
#include "integrations/provider_internal.h"

#define P         "shopify"
#define HEADER    "X-Shopify-Hmac-Sha256"
#define HEADER_ID "X-Shopify-Webhook-Id"
#define HEADER_TY "X-Shopify-Topic"

const char *const wh_shopify_headers[] = {HEADER, HEADER_ID, HEADER_TY, NULL};

int wh_shopify_verify(const struct wh_headers *h, const char *body, size_t len, const char *secret,
                      int64_t now_s, struct err *e)
{
    (void)now_s;
    return wh_verify_b64_body_hmac(h, P, HEADER, body, len, secret, e);
}

int wh_shopify_identify(const struct wh_headers *h, const char *body, size_t len, struct arena *a,
                        struct wh_event_id **ids, size_t *n, struct err *e)
{
    (void)body;
    (void)len;
    return wh_identify_from_headers(h, P, HEADER_ID, HEADER_TY, a, ids, n, e);
}
