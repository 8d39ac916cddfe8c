/* SPDX-License-Identifier: MIT */
/*
 * Provider settings per tenant (admin): which providers and fields exist, what is set (secrets
 * by name only, never their values), merge new values, remove a provider. The rules live in
 * integrations/integration_store.c. Tests: tests/integration/0009-integrations.c.
 */
#include "core/clock.h"
#include "http/app.h"
#include "http/handlers.h"
#include "core/log.h"
#include "core/str.h"
#include "domain/account/account.h"
#include "integrations/inbound_ledger.h"
#include "integrations/inbound_route.h"
#include "integrations/integration_store.h"
#include "integrations/provider.h"
#include "jobs/worker.h"
#include "net/storage.h"

static const struct integration_spec *spec_of(struct http_req *r, struct err *e)
{
    const char *name = http_req_param(r, "provider");
    const struct integration_spec *spec = integration_spec_find(name);
    if (!spec)
        err_set_field(e, ERR_NOT_FOUND, "provider", "no provider named %s", name ? name : "");
    return spec;
}

static json_t *fields_json(const struct integration_spec *spec)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < spec->n_fields; i++) {
        const struct integration_field_spec *f = &spec->fields[i];
        json_array_append_new(arr, json_pack("{s:s, s:b, s:b, s:s}", "name", f->name, "secret",
                                             f->secret, "route", f->route, "about", f->about));
    }
    return arr;
}

/* The tenant's view of one provider: plain settings, the names of the secrets that are set. */
static json_t *integration_json(const struct integration_spec *spec, const struct integration *it)
{
    json_t *settings = json_object(), *secrets = json_array(), *from_env = json_array();
    for (size_t i = 0; i < it->n_fields; i++) {
        const struct integration_field *f = &it->fields[i];
        if (f->secret)
            json_array_append_new(secrets, json_string(f->name));
        else
            json_object_set_new(settings, f->name, json_string(f->value ? f->value : ""));
        if (f->from_env)
            json_array_append_new(from_env, json_string(f->name));
    }
    return json_pack("{s:s, s:b, s:o, s:o, s:o, s:o}", "provider", spec->provider, "configured",
                     it->n_fields > 0, "settings", settings, "secrets_set", secrets,
                     "from_environment", from_env, "fields", fields_json(spec));
}

static int get_one(struct http_req *r, const struct integration_spec *spec, json_t **out,
                   struct err *e)
{
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    if (rc)
        return rc;
    struct integration it;
    bool env = r->who.tenant_id == r->app->default_tenant_id;
    rc = integration_get(c, NULL, r->who.tenant_id, spec->provider, env, &r->arena, &it, e);
    if (!rc)
        *out = integration_json(spec, &it);
    return rc;
}

int h_integrations_list(struct http_req *r, struct err *e)
{
    json_t *arr = json_array();
    int rc = 0;
    for (size_t i = 0; !rc && integration_spec_at(i); i++) {
        json_t *one = NULL;
        rc = get_one(r, integration_spec_at(i), &one, e);
        if (!rc)
            json_array_append_new(arr, one);
    }
    if (rc) {
        json_decref(arr);
        return rc;
    }
    return http_reply_json(r, 200, json_pack("{s:o}", "integrations", arr));
}

int h_integrations_get(struct http_req *r, struct err *e)
{
    const struct integration_spec *spec = spec_of(r, e);
    if (!spec)
        return e->code;
    json_t *one = NULL;
    int rc = get_one(r, spec, &one, e);
    return rc ? rc : http_reply_json(r, 200, one);
}

/* Body: {"field": "value" | null, ...}; null removes a field. */
int h_integrations_put(struct http_req *r, struct err *e)
{
    const struct integration_spec *spec = spec_of(r, e);
    if (!spec)
        return e->code;
    size_t n = json_object_size(r->json);
    if (!n)
        return err_set(e, ERR_INVALID, "give at least one field of %s", spec->provider);
    struct integration_kv *kv = arena_alloc(&r->arena, n * sizeof(*kv));
    size_t k = 0;
    const char *name;
    json_t *v;
    json_object_foreach(r->json, name, v)
    {
        if (!integration_field_find(spec, name))
            return err_set_field(e, ERR_INVALID, name, "%s has no field %s", spec->provider, name);
        if (!json_is_string(v) && !json_is_null(v))
            return err_set_field(e, ERR_INVALID, name, "%s must be a string or null", name);
        kv[k].name = name;
        kv[k].value = json_is_null(v) ? NULL : json_string_value(v);
        k++;
    }
    bool storage = str_eq(spec->provider, "storage");
    for (size_t i = 0; storage && i < k; i++) {
        if (str_eq(kv[i].name, "url") && kv[i].value) {
            int rc =
                storage_url_check(kv[i].value, r->who.tenant_id == r->app->default_tenant_id, e);
            if (rc)
                return rc;
        }
    }
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = integration_put(c, r->app->secret_key, r->who.tenant_id, spec->provider, kv, k,
                             clock_now_ms(r->app->clock), e);
    if (rc)
        return rc;
    if (storage && r->app->storages)
        storage_tenants_forget(r->app->storages, r->who.tenant_id); /* the next use reopens */
    json_t *one = NULL;
    rc = get_one(r, spec, &one, e);
    return rc ? rc : http_reply_json(r, 200, one);
}

int h_integrations_delete(struct http_req *r, struct err *e)
{
    const struct integration_spec *spec = spec_of(r, e);
    if (!spec)
        return e->code;
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    int64_t removed = 0;
    if (!rc)
        rc = integration_delete(c, r->who.tenant_id, spec->provider, &removed, e);
    if (rc)
        return rc;
    if (str_eq(spec->provider, "storage") && r->app->storages)
        storage_tenants_forget(r->app->storages, r->who.tenant_id);
    return http_reply_json(
        r, 200,
        json_pack("{s:s, s:I}", "provider", spec->provider, "removed", (json_int_t)removed));
}

/*
 * POST /api/webhooks/{provider}[/{tenant}]: a provider's webhook (Stripe, iyzico, Shopify,
 * WooCommerce, Standard Webhooks). The tenant comes from the URL or from the account the
 * delivery names (integrations/inbound_route.h); its secret verifies the raw body; each event
 * is recorded once in the inbound ledger with its processing job before the 200 goes out.
 * A redelivery is acknowledged and not acted on again. Nothing is stored for a refusal.
 */
int h_webhooks_inbound(struct http_req *r, struct err *e)
{
    const char *name = http_req_param(r, "provider");
    if (str_eq(name, "meta") || str_eq(name, "vapi") || str_eq(name, "whatsapp"))
        return err_set_field(e, ERR_NOT_FOUND, "provider",
                             "WhatsApp and VAPI webhooks go to /api/whatsapp/webhook");
    const struct integrations_provider *p = integrations_provider_find(name);
    if (!p)
        return err_set_field(e, ERR_NOT_FOUND, "provider", "no webhooks from %s", name ? name : "");
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    if (rc)
        return rc;
    int64_t forced = 0;
    const char *tenant_name = http_req_param(r, "tenant");
    if (tenant_name) {
        struct account_tenant t;
        struct err nf;
        err_init(&nf);
        if (account_tenant_find(c, tenant_name, &r->arena, &t, &nf))
            return err_set_field(e, ERR_NOT_FOUND, "tenant", "no such tenant");
        forced = t.id;
    }
    struct wh_headers h;
    wh_headers_init(&h);
    rc = http_req_webhook_headers(r, p->headers, &h, e);
    if (!rc)
        rc = http_req_webhook_headers(r, inbound_route_headers, &h, e);
    struct inbound_target t;
    if (!rc)
        rc = inbound_resolve(c, r->app->secret_key, p->name, &h, buf_str(&r->body), r->body.len,
                             r->app->default_tenant_id, forced, &r->arena, &t, e);
    if (rc)
        return rc;
    if (!t.secret)
        return err_set(e, ERR_UNAUTHORIZED,
                       "%s webhooks are not configured: set %s with PUT /api/integrations/%s",
                       p->name, t.secret_field, t.settings_provider);
    int64_t now = clock_now_ms(r->app->clock);
    rc = p->verify(&h, buf_str(&r->body), r->body.len, t.secret, now / 1000, e);
    struct wh_event_id *ids = NULL;
    size_t n = 0;
    if (!rc)
        rc = p->identify(&h, buf_str(&r->body), r->body.len, &r->arena, &ids, &n, e);
    size_t dups = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        int64_t id;
        bool dup, changed;
        rc = inbound_record(c, t.tenant, p->name, ids[i].id, ids[i].type, buf_str(&r->body),
                            r->body.len, now, &id, &dup, &changed, e);
        dups += dup;
        if (!rc && changed)
            log_warn("msg=\"webhook redelivered with another body; kept the first\" provider=%s "
                     "event=%lld",
                     p->name, (long long)id);
    }
    if (rc)
        return rc;
    return http_reply_json(
        r, 200, json_pack("{s:I, s:I}", "received", (json_int_t)n, "duplicates", (json_int_t)dups));
}
