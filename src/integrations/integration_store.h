/* SPDX-License-Identifier: MIT */
/*
 * Per-tenant provider settings and secrets ("integrations"): which fields each provider takes,
 * and their storage. Secret fields are sealed with the server's key (core/crypto.h
 * sec_box_seal) before they reach the database and are opened only for the code that uses them;
 * the API never returns them. Route fields (WhatsApp phone_number_id, Stripe account_id, ...)
 * find the tenant of an inbound webhook; a route value belongs to one tenant at most.
 * Environment variables (ICESHOP_WHATSAPP_APP_SECRET, ...) stay the default tenant's fallback.
 * SQL through db_* only. Tests: tests/unit/integrations/test_integration_store.c.
 */
#ifndef ICESHOP_INTEGRATIONS_INTEGRATION_STORE_H
#define ICESHOP_INTEGRATIONS_INTEGRATION_STORE_H

#include "core/arena.h"
#include "core/crypto.h"
#include "core/err.h"
#include "db/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INTEGRATION_VALUE_MAX 4096 /* bytes of one field's value */

/* One field a provider takes. */
struct integration_field_spec {
    const char *name;  /* "app_secret" */
    bool secret;       /* write-only, sealed at rest */
    bool route;        /* identifies the tenant of inbound webhooks */
    const char *env;   /* the default tenant's fallback variable, or NULL */
    const char *about; /* one line for the API document and errors */
};

struct integration_spec {
    const char *provider; /* "whatsapp", "vapi", "stripe", "iyzico", "shopify", "woocommerce",
                             "standard-webhooks", "storage", "llm" */
    const struct integration_field_spec *fields;
    size_t n_fields;
};

/* The spec of `provider`, or NULL when there is no such provider. */
const struct integration_spec *integration_spec_find(const char *provider);
/* Every provider, NULL-terminated order of the table. */
const struct integration_spec *integration_spec_at(size_t i);
const struct integration_field_spec *integration_field_find(const struct integration_spec *spec,
                                                            const char *name);

/* A field to set: value NULL removes the field. */
struct integration_kv {
    const char *name;
    const char *value;
};

/* A tenant's settings for one provider. Strings are from the caller's arena. */
struct integration_field {
    const char *name;
    const char *value; /* NULL for a secret when opened without secrets */
    bool secret;
    bool from_env; /* the default tenant's environment fallback, not a stored row */
    int64_t updated_at;
};
struct integration {
    const char *provider;
    struct integration_field *fields;
    size_t n_fields;
    bool stored; /* at least one stored row */
};

/*
 * Merge `kv` into the tenant's settings of `provider` in one transaction (joins the caller's):
 * unknown provider → ERR_NOT_FOUND; unknown field → ERR_INVALID naming it; a value over
 * INTEGRATION_VALUE_MAX or with control characters → ERR_INVALID; a route value another tenant
 * holds → ERR_CONFLICT naming the field. Secrets are sealed with `key` before they are written.
 */
int integration_put(struct db_conn *c, const unsigned char key[SEC_BOX_KEY_LEN], int64_t tenant,
                    const char *provider, const struct integration_kv *kv, size_t n, int64_t now_ms,
                    struct err *e);

/*
 * The tenant's settings of `provider`. With `key` non-NULL secrets are opened (a secret sealed
 * under another key → ERR_CONFLICT saying the server key changed); with `key` NULL secret
 * values are NULL (names only). With `env_fallback` (the default tenant), fields without a
 * row take their environment variable when it is set. An unconfigured provider is not an
 * error: n_fields is 0.
 */
int integration_get(struct db_conn *c, const unsigned char *key, int64_t tenant,
                    const char *provider, bool env_fallback, struct arena *a,
                    struct integration *out, struct err *e);

/* The value of `name` in `it` ("" → NULL), or NULL. */
const char *integration_value(const struct integration *it, const char *name);

/* Remove every stored field of the tenant's provider; *removed is the count. */
int integration_delete(struct db_conn *c, int64_t tenant, const char *provider, int64_t *removed,
                       struct err *e);

/* The tenant owning route value `value` of `provider`'s route field `name`; *found false if none.
 */
int integration_find_tenant(struct db_conn *c, const char *provider, const char *name,
                            const char *value, int64_t *tenant, bool *found, struct err *e);

#endif
