/* SPDX-License-Identifier: MIT */
/*
 * THE table of inbound webhook providers (see provider.h) and the checks their verifiers share.
 * Adding a provider = one file <name>.c with its verify/identify pair, one WH_PROVIDER line in
 * provider_internal.h, one row here. Tests: tests/unit/integrations/test_verify.c.
 */
#include "integrations/provider_internal.h"

#include <string.h>

static const struct integrations_provider providers[] = {
    /* Meta WhatsApp Cloud API: X-Hub-Signature-256, one identity per message / status */
    {"meta", wh_meta_headers, 0, wh_meta_verify, wh_meta_identify},
    /* VAPI server URL: the shared x-vapi-secret; message_id or the body's SHA-256 */
    {"vapi", wh_vapi_headers, 0, wh_vapi_verify, wh_vapi_identify},
    /* Stripe: Stripe-Signature t=,v1= over "<t>.<body>"; body id / type */
    {"stripe", wh_stripe_headers, INTEGRATIONS_TOLERANCE_S, wh_stripe_verify, wh_stripe_identify},
    /* iyzico: X-IYZ-SIGNATURE-V3 over body fields; event type, payment id and status */
    {"iyzico", wh_iyzico_headers, 0, wh_iyzico_verify, wh_iyzico_identify},
    /* Shopify: X-Shopify-Hmac-Sha256; X-Shopify-Webhook-Id / X-Shopify-Topic */
    {"shopify", wh_shopify_headers, 0, wh_shopify_verify, wh_shopify_identify},
    /* WooCommerce: X-WC-Webhook-Signature; X-WC-Webhook-Delivery-ID / X-WC-Webhook-Topic */
    {"woocommerce", wh_woocommerce_headers, 0, wh_woocommerce_verify, wh_woocommerce_identify},
    /* Standard Webhooks (core/webhook_sig.c): webhook-id / body type */
    {"standard-webhooks", wh_standard_webhooks_headers, INTEGRATIONS_TOLERANCE_S,
     wh_standard_webhooks_verify, wh_standard_webhooks_identify},
};

#define N_PROVIDERS (sizeof(providers) / sizeof(providers[0]))

const struct integrations_provider *integrations_provider_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < N_PROVIDERS; i++) {
        if (strcmp(providers[i].name, name) == 0)
            return &providers[i];
    }
    return NULL;
}

const struct integrations_provider *integrations_provider_list(size_t *n)
{
    *n = N_PROVIDERS;
    return providers;
}

/* ---------------------------------------------------------------- shared checks */

int wh_need_secret(const char *provider, const char *secret, struct err *e)
{
    if (!secret || !*secret)
        return err_set(e, ERR_INVALID, "%s: no secret configured", provider);
    return 0;
}

int wh_need_header(const struct wh_headers *h, const char *provider, const char *name,
                   const char **out, struct err *e)
{
    *out = ""; /* never NULL, even on the error paths */
    size_t count = wh_headers_count(h, name);
    if (count == 0)
        return err_set(e, ERR_UNAUTHORIZED, "%s: %s missing", provider, name);
    if (count > 1)
        return err_set(e, ERR_UNAUTHORIZED, "%s: %s appears more than once", provider, name);
    const char *v = wh_headers_get(h, name);
    if (!*v)
        return err_set(e, ERR_UNAUTHORIZED, "%s: %s is empty", provider, name);
    *out = v;
    return 0;
}

bool wh_hex_mac(const char *hex, size_t len, unsigned char mac[SEC_HMAC_SHA256_LEN])
{
    size_t n = 0;
    if (len != SEC_HMAC_SHA256_LEN * 2)
        return false;
    return sec_hex_decode(mac, SEC_HMAC_SHA256_LEN, &n, hex, len, NULL) == 0 &&
           n == SEC_HMAC_SHA256_LEN;
}

int wh_verify_b64_body_hmac(const struct wh_headers *h, const char *provider, const char *name,
                            const char *body, size_t len, const char *secret, struct err *e)
{
    int rc = wh_need_secret(provider, secret, e);
    const char *sig = NULL;
    if (!rc)
        rc = wh_need_header(h, provider, name, &sig, e);
    if (rc)
        return rc;
    unsigned char got[SEC_B64_DECODED_MAX(SEC_HMAC_SHA256_B64_SIZE)];
    size_t got_len = 0;
    size_t sig_len = strlen(sig);
    if (sig_len != SEC_HMAC_SHA256_B64_SIZE - 1 ||
        sec_b64_decode(got, sizeof(got), &got_len, SEC_B64_STD, sig, sig_len, NULL) ||
        got_len != SEC_HMAC_SHA256_LEN)
        return err_set(e, ERR_UNAUTHORIZED, "%s: %s is not base64 of a 32-byte HMAC", provider,
                       name);
    unsigned char want[SEC_HMAC_SHA256_LEN];
    sec_hmac_sha256(want, secret, strlen(secret), body, len);
    bool ok = sec_equal(got, got_len, want, sizeof(want));
    sec_wipe(want, sizeof(want));
    if (!ok)
        return err_set(e, ERR_UNAUTHORIZED, "%s: %s does not match the body", provider, name);
    return 0;
}

struct wh_event_id *wh_one_id(struct arena *a, const char *id, const char *type, size_t *n)
{
    struct wh_event_id *ids = arena_alloc(a, sizeof(*ids));
    ids->id = id;
    ids->type = type;
    *n = 1;
    return ids;
}

int wh_identify_from_headers(const struct wh_headers *h, const char *provider, const char *id_name,
                             const char *type_name, struct arena *a, struct wh_event_id **ids,
                             size_t *n, struct err *e)
{
    const char *id = wh_headers_get(h, id_name);
    if (!id || !*id || wh_headers_count(h, id_name) > 1)
        return err_set_field(e, ERR_INVALID, id_name, "%s: %s must be given once, not empty",
                             provider, id_name);
    const char *type = wh_headers_get(h, type_name);
    *ids = wh_one_id(a, arena_strdup(a, id), arena_strdup(a, type ? type : ""), n);
    return 0;
}

const char *wh_body_key(const char *body, size_t len, struct arena *a)
{
    unsigned char d[SEC_SHA256_LEN];
    char hex[SEC_HEX_SIZE(SEC_SHA256_LEN)];
    sec_sha256(d, body, len);
    sec_hex_encode(hex, sizeof(hex), d, sizeof(d), NULL);
    return arena_printf(a, "sha256:%s", hex);
}

int wh_parse_object(const char *provider, const char *body, size_t len, struct arena *a,
                    json_t **root, struct err *e)
{
    struct err pe;
    err_init(&pe);
    if (json_parse_object(body, len, a, root, &pe))
        return err_set(e, ERR_INVALID, "%s: %s", provider, pe.msg);
    return 0;
}

const char *wh_json_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}
