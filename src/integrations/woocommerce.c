/* SPDX-License-Identifier: MIT */
/*
 * WooCommerce webhooks. Signature: X-WC-Webhook-Signature = base64 of HMAC-SHA256(key = the
 * webhook's secret as entered in WooCommerce, raw body); no timestamp. Identity:
 * (X-WC-Webhook-Delivery-ID, X-WC-Webhook-Topic), e.g. "order.updated"; a redelivery of the same
 * delivery repeats its id. Tests: tests/unit/integrations/test_verify.c.
 */
#include "integrations/provider_internal.h"

#define P         "woocommerce"
#define HEADER    "X-WC-Webhook-Signature"
#define HEADER_ID "X-WC-Webhook-Delivery-ID"
#define HEADER_TY "X-WC-Webhook-Topic"

const char *const wh_woocommerce_headers[] = {HEADER, HEADER_ID, HEADER_TY, NULL};

int wh_woocommerce_verify(const struct wh_headers *h, const char *body, size_t len,
                          const char *secret, int64_t now_s, struct err *e)
{
    (void)now_s;
    return wh_verify_b64_body_hmac(h, P, HEADER, body, len, secret, e);
}

int wh_woocommerce_identify(const struct wh_headers *h, const char *body, size_t len,
                            struct arena *a, struct wh_event_id **ids, size_t *n, struct err *e)
{
    (void)body;
    (void)len;
    return wh_identify_from_headers(h, P, HEADER_ID, HEADER_TY, a, ids, n, e);
}
