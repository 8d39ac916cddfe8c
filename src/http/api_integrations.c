/* SPDX-License-Identifier: MIT */
/*
 * Provider settings per tenant (admin): which providers and fields exist, what is set (secrets
 * by name only, never their values), merge new values, remove a provider. The rules live in
 * integrations/integration_store.c. Tests: tests/integration/0009-integrations.c.
 */
#include "core/clock.h"
#include "http/app.h"
#include "http/handlers.h"
#include "integrations/integration_store.h"

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
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = integration_put(c, r->app->secret_key, r->who.tenant_id, spec->provider, kv, k,
                             clock_now_ms(r->app->clock), e);
    if (rc)
        return rc;
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
    return http_reply_json(
        r, 200,
        json_pack("{s:s, s:I}", "provider", spec->provider, "removed", (json_int_t)removed));
}
