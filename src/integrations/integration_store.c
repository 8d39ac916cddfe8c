/* SPDX-License-Identifier: MIT */
/*
 * Provider settings per tenant: the field table of every provider, and rows in
 * integration_fields with secrets sealed. Never logs a value.
 * Tests: tests/unit/integrations/test_integration_store.c.
 */
#include "integrations/integration_store.h"
#include "core/str.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* ======================== the providers' fields ======================== */

#define F(n, s, r, env, about)                                                                     \
    {                                                                                              \
        n, s, r, env, about                                                                        \
    }
static const struct integration_field_spec whatsapp_fields[] = {
    F("phone_number_id", false, true, "ICESHOP_WHATSAPP_PHONE_NUMBER_ID",
      "the Cloud API phone number id; inbound webhooks naming it belong to this tenant"),
    F("access_token", true, false, "ICESHOP_WHATSAPP_TOKEN", "Cloud API access token"),
    F("app_secret", true, false, "ICESHOP_WHATSAPP_APP_SECRET",
      "Meta app secret: the X-Hub-Signature-256 key"),
    F("verify_token", true, false, "ICESHOP_WHATSAPP_VERIFY_TOKEN",
      "answers Meta's verification handshake"),
    F("api_url", false, false, "ICESHOP_WHATSAPP_API_URL", "Cloud API base URL"),
};
static const struct integration_field_spec vapi_fields[] = {
    F("assistant_id", false, true, NULL, "the VAPI assistant whose calls belong to this tenant"),
    F("secret", true, false, "ICESHOP_VAPI_SECRET", "the x-vapi-secret header VAPI sends"),
    F("api_key", true, false, "ICESHOP_VAPI_KEY", "VAPI API key for sending"),
    F("url", false, false, "ICESHOP_VAPI_URL", "VAPI send URL"),
};
static const struct integration_field_spec stripe_fields[] = {
    F("account_id", false, true, NULL, "the Stripe account (acct_...) of this tenant"),
    F("secret_key", true, false, "ICESHOP_STRIPE_SECRET_KEY", "Stripe secret API key"),
    F("webhook_secret", true, false, "ICESHOP_STRIPE_WEBHOOK_SECRET",
      "whsec_... of the webhook endpoint: the Stripe-Signature key"),
    F("api_url", false, false, "ICESHOP_STRIPE_API_URL", "Stripe API base URL"),
};
static const struct integration_field_spec iyzico_fields[] = {
    F("merchant_id", false, true, NULL, "the iyzico merchant id of this tenant"),
    F("api_key", true, false, "ICESHOP_IYZICO_API_KEY", "iyzico API key"),
    F("secret_key", true, false, "ICESHOP_IYZICO_SECRET_KEY",
      "iyzico secret key: signs requests and X-IYZ-SIGNATURE-V3"),
    F("api_url", false, false, "ICESHOP_IYZICO_API_URL", "iyzico API base URL"),
};
static const struct integration_field_spec shopify_fields[] = {
    F("shop_domain", false, true, NULL, "the shop (name.myshopify.com) of this tenant"),
    F("access_token", true, false, NULL, "Admin API access token"),
    F("webhook_secret", true, false, NULL, "the app's secret: the X-Shopify-Hmac-Sha256 key"),
    F("api_version", false, false, NULL, "Admin API version, e.g. 2024-04"),
};
static const struct integration_field_spec woocommerce_fields[] = {
    F("store_url", false, true, NULL, "the store's base URL"),
    F("consumer_key", true, false, NULL, "REST API consumer key (ck_...)"),
    F("consumer_secret", true, false, NULL, "REST API consumer secret (cs_...)"),
    F("webhook_secret", true, false, NULL, "the X-WC-Webhook-Signature key"),
};
static const struct integration_field_spec standard_webhooks_fields[] = {
    F("secret", true, false, NULL,
      "whsec_... shared with the sender: the webhook-signature key (Standard Webhooks)"),
};
static const struct integration_field_spec storage_fields[] = {
    F("url", false, false, "ICESHOP_STORAGE_URL",
      "where the tenant's files live: s3://BUCKET?endpoint=http(s)://host[:port]&region=R "
      "(file://DIR for the default tenant only); unset: the server's storage"),
    F("access_key_id", false, false, "ICESHOP_S3_ACCESS_KEY", "the bucket's access key id"),
    F("secret_access_key", true, false, "ICESHOP_S3_SECRET_KEY", "the bucket's secret access key"),
};
static const struct integration_field_spec llm_fields[] = {
    F("url", false, false, "ICESHOP_LLM_URL",
      "the campaign planner's OpenAI-compatible chat-completions base URL (https://.../v1); "
      "unset: the deterministic rules plan"),
    F("api_key", true, false, "ICESHOP_LLM_KEY", "the model's bearer key"),
    F("model", false, false, "ICESHOP_LLM_MODEL", "the model's name (default gpt-4o-mini)"),
};
#undef F

#define SPEC(p, f)                                                                                 \
    {                                                                                              \
        p, f, sizeof(f) / sizeof(f[0])                                                             \
    }
static const struct integration_spec specs[] = {
    SPEC("whatsapp", whatsapp_fields),
    SPEC("vapi", vapi_fields),
    SPEC("stripe", stripe_fields),
    SPEC("iyzico", iyzico_fields),
    SPEC("shopify", shopify_fields),
    SPEC("woocommerce", woocommerce_fields),
    SPEC("standard-webhooks", standard_webhooks_fields),
    SPEC("storage", storage_fields),
    SPEC("llm", llm_fields),
};
#undef SPEC

const struct integration_spec *integration_spec_find(const char *provider)
{
    for (size_t i = 0; provider && i < sizeof(specs) / sizeof(specs[0]); i++) {
        if (str_eq(specs[i].provider, provider))
            return &specs[i];
    }
    return NULL;
}

const struct integration_spec *integration_spec_at(size_t i)
{
    return i < sizeof(specs) / sizeof(specs[0]) ? &specs[i] : NULL;
}

const struct integration_field_spec *integration_field_find(const struct integration_spec *spec,
                                                            const char *name)
{
    for (size_t i = 0; spec && name && i < spec->n_fields; i++) {
        if (str_eq(spec->fields[i].name, name))
            return &spec->fields[i];
    }
    return NULL;
}

/* ======================== storage ======================== */

static int check_value(const char *provider, const char *name, const char *v, struct err *e)
{
    size_t len = strnlen(v, INTEGRATION_VALUE_MAX + 1);
    if (len > INTEGRATION_VALUE_MAX)
        return err_set_field(e, ERR_INVALID, name, "%s.%s is longer than %d bytes", provider, name,
                             INTEGRATION_VALUE_MAX);
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return err_set_field(e, ERR_INVALID, name, "%s.%s holds a control character", provider,
                                 name);
    }
    return 0;
}

static int put_one(struct db_conn *c, const unsigned char key[SEC_BOX_KEY_LEN], int64_t tenant,
                   const struct integration_spec *spec, const struct integration_kv *kv,
                   int64_t now_ms, struct err *e)
{
    const struct integration_field_spec *f = integration_field_find(spec, kv->name);
    if (!f)
        return err_set_field(e, ERR_INVALID, kv->name ? kv->name : "", "%s has no field %s",
                             spec->provider, kv->name ? kv->name : "");
    struct db_stmt *s;
    int rc;
    if (!kv->value) {
        rc = db_prepare(c, &s,
                        "DELETE FROM integration_fields WHERE tenant_id = ? AND provider = ? AND "
                        "name = ?",
                        e);
        if (rc)
            return rc;
        db_bind_i64(s, 1, tenant);
        db_bind_text(s, 2, spec->provider);
        db_bind_text(s, 3, f->name);
        rc = db_step(s, e) == DB_ERROR ? db_step_error(e) : 0;
        db_stmt_done(s);
        return rc;
    }
    rc = check_value(spec->provider, f->name, kv->value, e);
    if (rc)
        return rc;
    char *stored = NULL;
    size_t vlen = strlen(kv->value);
    if (f->secret) {
        size_t cap = SEC_BOX_SEALED_SIZE(vlen);
        stored = xmalloc(cap);
        rc = sec_box_seal(stored, cap, key, kv->value, vlen, e);
        if (rc) {
            free(stored);
            return rc;
        }
    }
    if (f->route) {
        int64_t owner = 0;
        bool found = false;
        rc = integration_find_tenant(c, spec->provider, f->name, kv->value, &owner, &found, e);
        if (!rc && found && owner != tenant)
            rc = err_set_field(e, ERR_CONFLICT, f->name,
                               "%s.%s is already configured for another tenant", spec->provider,
                               f->name);
        if (rc) {
            free(stored);
            return rc;
        }
    }
    rc = db_prepare(c, &s,
                    "INSERT INTO integration_fields (tenant_id, provider, name, value, is_secret, "
                    "is_route, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, "
                    "provider, name) DO UPDATE SET value = excluded.value, is_secret = "
                    "excluded.is_secret, is_route = excluded.is_route, updated_at = "
                    "excluded.updated_at",
                    e);
    if (!rc) {
        db_bind_i64(s, 1, tenant);
        db_bind_text(s, 2, spec->provider);
        db_bind_text(s, 3, f->name);
        db_bind_text(s, 4, stored ? stored : kv->value);
        db_bind_i64(s, 5, f->secret ? 1 : 0);
        db_bind_i64(s, 6, f->route ? 1 : 0);
        db_bind_time(s, 7, now_ms);
        if (db_step(s, e) == DB_ERROR) {
            rc = db_step_error(e);
            if (rc == ERR_CONFLICT) {
                err_init(e);
                rc = err_set_field(e, ERR_CONFLICT, f->name,
                                   "%s.%s is already configured for another tenant", spec->provider,
                                   f->name);
            }
        }
        db_stmt_done(s);
    }
    if (stored) {
        sec_wipe(stored, strlen(stored));
        free(stored);
    }
    return rc;
}

int integration_put(struct db_conn *c, const unsigned char key[SEC_BOX_KEY_LEN], int64_t tenant,
                    const char *provider, const struct integration_kv *kv, size_t n, int64_t now_ms,
                    struct err *e)
{
    const struct integration_spec *spec = integration_spec_find(provider);
    if (!spec)
        return err_set_field(e, ERR_NOT_FOUND, "provider", "no provider named %s",
                             provider ? provider : "");
    /* every name first, so a bad field changes nothing */
    for (size_t i = 0; i < n; i++) {
        if (!integration_field_find(spec, kv[i].name))
            return err_set_field(e, ERR_INVALID, kv[i].name ? kv[i].name : "", "%s has no field %s",
                                 provider, kv[i].name ? kv[i].name : "");
    }
    bool own;
    int rc = db_begin_own(c, &own, e);
    for (size_t i = 0; !rc && i < n; i++)
        rc = put_one(c, key, tenant, spec, &kv[i], now_ms, e);
    return db_end_own(c, own, rc, e);
}

static int open_secret(const unsigned char *key, const char *provider, const char *name,
                       const char *sealed, struct arena *a, const char **out, struct err *e)
{
    size_t cap = strlen(sealed);
    char *plain = arena_alloc(a, cap + 1);
    size_t n = 0;
    struct err inner;
    err_init(&inner);
    int rc = sec_box_open(plain, cap + 1, &n, key, sealed, &inner);
    if (rc == ERR_FORBIDDEN || rc == ERR_INVALID)
        return err_set_field(e, ERR_CONFLICT, name,
                             "%s.%s cannot be opened with this server's key (was "
                             "ICESHOP_SECRET_KEY or the key file changed?); set it again",
                             provider, name);
    if (rc)
        return err_set(e, (enum err_code)rc, "%s", inner.msg);
    *out = plain;
    return 0;
}

int integration_get(struct db_conn *c, const unsigned char *key, int64_t tenant,
                    const char *provider, bool env_fallback, struct arena *a,
                    struct integration *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    const struct integration_spec *spec = integration_spec_find(provider);
    if (!spec)
        return err_set_field(e, ERR_NOT_FOUND, "provider", "no provider named %s",
                             provider ? provider : "");
    out->provider = spec->provider;
    out->fields = arena_alloc(a, spec->n_fields * sizeof(*out->fields));
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT name, value, is_secret, updated_at FROM integration_fields WHERE "
                        "tenant_id = ? AND provider = ? ORDER BY name",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, spec->provider);
    int st;
    bool seen[64] = {false};
    while (!rc && (st = db_step(s, e)) == DB_ROW) {
        const struct integration_field_spec *f = integration_field_find(spec, db_col_text(s, 0));
        if (!f)
            continue; /* a field a later version dropped */
        struct integration_field *o = &out->fields[out->n_fields++];
        o->name = f->name;
        o->secret = f->secret;
        o->updated_at = db_col_time(s, 3);
        seen[f - spec->fields] = true;
        out->stored = true;
        if (!f->secret)
            o->value = arena_strdup(a, db_col_text(s, 1));
        else if (key)
            rc = open_secret(key, spec->provider, f->name, db_col_text(s, 1), a, &o->value, e);
    }
    if (!rc && st == DB_ERROR)
        rc = db_step_error(e);
    db_stmt_done(s);
    for (size_t i = 0; !rc && env_fallback && i < spec->n_fields; i++) {
        const struct integration_field_spec *f = &spec->fields[i];
        const char *v = f->env ? getenv(f->env) : NULL;
        if (seen[i] || !v || !*v)
            continue;
        struct integration_field *o = &out->fields[out->n_fields++];
        o->name = f->name;
        o->secret = f->secret;
        o->from_env = true;
        o->value = f->secret && !key ? NULL : arena_strdup(a, v);
    }
    return rc;
}

const char *integration_value(const struct integration *it, const char *name)
{
    for (size_t i = 0; it && i < it->n_fields; i++) {
        if (str_eq(it->fields[i].name, name))
            return it->fields[i].value && *it->fields[i].value ? it->fields[i].value : NULL;
    }
    return NULL;
}

int integration_delete(struct db_conn *c, int64_t tenant, const char *provider, int64_t *removed,
                       struct err *e)
{
    *removed = 0;
    if (!integration_spec_find(provider))
        return err_set_field(e, ERR_NOT_FOUND, "provider", "no provider named %s",
                             provider ? provider : "");
    struct db_stmt *s;
    int rc =
        db_prepare(c, &s, "DELETE FROM integration_fields WHERE tenant_id = ? AND provider = ?", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, provider);
    if (db_step(s, e) == DB_ERROR)
        rc = db_step_error(e);
    else
        *removed = db_changes(s);
    db_stmt_done(s);
    return rc;
}

int integration_find_tenant(struct db_conn *c, const char *provider, const char *name,
                            const char *value, int64_t *tenant, bool *found, struct err *e)
{
    *found = false;
    *tenant = 0;
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT tenant_id FROM integration_fields WHERE provider = ? AND name = ? "
                        "AND value = ? AND is_route = 1",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, provider);
    db_bind_text(s, 2, name);
    db_bind_text(s, 3, value);
    int st = db_step(s, e);
    if (st == DB_ROW) {
        *tenant = db_col_i64(s, 0);
        *found = true;
    } else if (st == DB_ERROR) {
        rc = db_step_error(e);
    }
    db_stmt_done(s);
    return rc;
}
