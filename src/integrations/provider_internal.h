/* SPDX-License-Identifier: MIT */
/*
 * Inside src/integrations only: each provider's verify/identify pair and header list (one file
 * per provider, <name>.c) and the checks they share (provider.c). Callers outside use the table
 * in provider.h. Tests: tests/unit/integrations/test_verify.c.
 */
#ifndef ICESHOP_INTEGRATIONS_PROVIDER_INTERNAL_H
#define ICESHOP_INTEGRATIONS_PROVIDER_INTERNAL_H

#include "core/crypto.h"
#include "integrations/provider.h"
#include "json/json.h"

#include <stdbool.h>

#define WH_PROVIDER(p)                                                                             \
    extern const char *const wh_##p##_headers[];                                                   \
    wh_verify_fn wh_##p##_verify;                                                                  \
    wh_identify_fn wh_##p##_identify

WH_PROVIDER(meta);
WH_PROVIDER(vapi);
WH_PROVIDER(stripe);
WH_PROVIDER(iyzico);
WH_PROVIDER(shopify);
WH_PROVIDER(woocommerce);
WH_PROVIDER(standard_webhooks);

/* ERR_INVALID "<provider>: no secret configured" when secret is NULL or "". */
int wh_need_secret(const char *provider, const char *secret, struct err *e);

/*
 * The value of header `name`, which must appear exactly once and be non-empty:
 * ERR_UNAUTHORIZED "<provider>: <name> missing" / "... is empty" / "... appears more than once".
 * *out is "" on error, never NULL.
 */
int wh_need_header(const struct wh_headers *h, const char *provider, const char *name,
                   const char **out, struct err *e);

/*
 * Decode a MAC written as 64 hex digits (either case) into `mac`. False for any other text,
 * so a malformed signature can be told from a wrong one.
 */
bool wh_hex_mac(const char *hex, size_t len, unsigned char mac[SEC_HMAC_SHA256_LEN]);

/*
 * Shopify and WooCommerce: header `name` holds base64 (standard alphabet, padded) of
 * HMAC-SHA256(secret bytes, raw body). Full verifier body for both.
 */
int wh_verify_b64_body_hmac(const struct wh_headers *h, const char *provider, const char *name,
                            const char *body, size_t len, const char *secret, struct err *e);

/*
 * One identity taken from two headers: `id_name` (required, non-empty, once) and `type_name`
 * (optional; "" when absent). ERR_INVALID naming the header when the id is missing.
 */
int wh_identify_from_headers(const struct wh_headers *h, const char *provider, const char *id_name,
                             const char *type_name, struct arena *a, struct wh_event_id **ids,
                             size_t *n, struct err *e);

/* "sha256:<64 hex>" of the raw body, from `a`: the identity of a delivery that carries no id. */
const char *wh_body_key(const char *body, size_t len, struct arena *a);

/*
 * Parse a body that must be one JSON object (json_parse_object: root released with `a`).
 * ERR_INVALID "<provider>: <what is wrong>" otherwise.
 */
int wh_parse_object(const char *provider, const char *body, size_t len, struct arena *a,
                    json_t **root, struct err *e);

/* The string at `key` of object `o`, or NULL when absent or not a string. */
const char *wh_json_str(json_t *o, const char *key);

/* A one-element identity array from `a`. */
struct wh_event_id *wh_one_id(struct arena *a, const char *id, const char *type, size_t *n);

#endif
