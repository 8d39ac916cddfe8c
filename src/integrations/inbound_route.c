/* SPDX-License-Identifier: MIT */
/*
 * Inbound webhooks to tenants (see inbound_route.h). Reads route hints from unverified input
 * only to pick whose secret verifies it. Tests: tests/unit/integrations/test_inbound_route.c.
 */
#include "integrations/inbound_route.h"
#include "core/str.h"
#include "integrations/integration_store.h"
#include "json/json.h"

#include <string.h>

const char *const inbound_route_headers[] = {"X-Shopify-Shop-Domain", "X-WC-Webhook-Source", NULL};

struct route {
    const char *provider; /* the verifier's name */
    const char *settings; /* the integration holding its settings */
    const char *secret;   /* the field that verifies deliveries */
    const char *field;    /* the route field, or NULL */
};

static const struct route routes[] = {
    {"meta", "whatsapp", "app_secret", "phone_number_id"},
    {"vapi", "vapi", "secret", "assistant_id"},
    {"stripe", "stripe", "webhook_secret", "account_id"},
    {"iyzico", "iyzico", "secret_key", "merchant_id"},
    {"shopify", "shopify", "webhook_secret", "shop_domain"},
    {"woocommerce", "woocommerce", "webhook_secret", "store_url"},
    {"standard-webhooks", "standard-webhooks", "secret", NULL},
};

/* A string at a path of nested objects, or NULL. */
static const char *str_at(json_t *o, const char *const *keys)
{
    for (; o && *keys; keys++)
        o = json_object_get(o, *keys);
    return json_is_string(o) && *json_string_value(o) ? json_string_value(o) : NULL;
}

static const char *first_meta_phone_id(json_t *root)
{
    json_t *entry = json_array_get(json_object_get(root, "entry"), 0);
    json_t *change = json_array_get(json_object_get(entry, "changes"), 0);
    static const char *const path[] = {"value", "metadata", "phone_number_id", NULL};
    return str_at(change, path);
}

static const char *vapi_assistant(json_t *root)
{
    static const char *const a[] = {"message", "assistant", "id", NULL};
    static const char *const b[] = {"message", "call", "assistantId", NULL};
    static const char *const c[] = {"message", "assistantId", NULL};
    static const char *const d[] = {"metadata", "assistant_id", NULL};
    const char *v = str_at(root, a);
    if (!v)
        v = str_at(root, b);
    if (!v)
        v = str_at(root, c);
    if (!v)
        v = str_at(root, d);
    return v;
}

/* The route value a delivery names, or NULL. Unverified: used only to find a tenant. */
static const char *hint(const struct route *rt, const struct wh_headers *h, const char *body,
                        size_t len, struct arena *a)
{
    if (str_eq(rt->provider, "shopify"))
        return wh_headers_get(h, "X-Shopify-Shop-Domain");
    if (str_eq(rt->provider, "woocommerce")) {
        const char *src = wh_headers_get(h, "X-WC-Webhook-Source");
        size_t n = src ? strlen(src) : 0;
        while (n && src[n - 1] == '/')
            n--;
        return n ? arena_strndup(a, src, n) : NULL;
    }
    if (!rt->field)
        return NULL;
    json_t *root = NULL;
    struct err ignored;
    err_init(&ignored);
    if (json_parse_object(body, len, a, &root, &ignored))
        return NULL;
    const char *v = NULL;
    if (str_eq(rt->provider, "meta"))
        v = first_meta_phone_id(root);
    else if (str_eq(rt->provider, "vapi"))
        v = vapi_assistant(root);
    else if (str_eq(rt->provider, "stripe"))
        v = json_string_value(json_object_get(root, "account"));
    else if (str_eq(rt->provider, "iyzico"))
        v = json_string_value(json_object_get(root, "merchantId"));
    return v ? arena_strdup(a, v) : NULL;
}

int inbound_resolve(struct db_conn *c, const unsigned char key[SEC_BOX_KEY_LEN],
                    const char *provider, const struct wh_headers *h, const char *body, size_t len,
                    int64_t default_tenant, int64_t forced_tenant, struct arena *a,
                    struct inbound_target *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    const struct route *rt = NULL;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (str_eq(routes[i].provider, provider))
            rt = &routes[i];
    }
    if (!rt)
        return err_set_field(e, ERR_NOT_FOUND, "provider", "no webhooks from %s",
                             provider ? provider : "");
    out->settings_provider = rt->settings;
    out->secret_field = rt->secret;
    out->tenant = forced_tenant > 0 ? forced_tenant : default_tenant;
    int rc = 0;
    if (forced_tenant <= 0) {
        const char *v = hint(rt, h, body, len, a);
        bool found = false;
        int64_t t = 0;
        if (v && rt->field)
            rc = integration_find_tenant(c, rt->settings, rt->field, v, &t, &found, e);
        if (!rc && found) {
            out->tenant = t;
            out->routed = true;
        }
    }
    if (rc)
        return rc;
    struct integration it;
    rc = integration_get(c, key, out->tenant, rt->settings, out->tenant == default_tenant, a, &it,
                         e);
    if (!rc)
        out->secret = integration_value(&it, rt->secret);
    return rc;
}
