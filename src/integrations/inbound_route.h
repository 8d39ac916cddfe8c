/* SPDX-License-Identifier: MIT */
/*
 * Which tenant an inbound webhook belongs to, and the secret to verify it with. The delivery
 * names its account in a provider-specific place (Meta: the phone_number_id in the body; VAPI:
 * the assistant id; Stripe: "account"; iyzico: "merchantId"; Shopify: X-Shopify-Shop-Domain;
 * WooCommerce: X-WC-Webhook-Source), read before verification only to look the tenant up among
 * the tenants' route fields (integration_store.h). No match, or a provider without a route
 * field, is the default tenant, whose settings fall back to the environment. A tenant named in
 * the URL (/api/webhooks/{provider}/{tenant}) wins. The secret is then that tenant's, so a
 * delivery signed for one tenant never verifies as another's.
 * Tests: tests/unit/integrations/test_inbound_route.c.
 */
#ifndef ICESHOP_INTEGRATIONS_INBOUND_ROUTE_H
#define ICESHOP_INTEGRATIONS_INBOUND_ROUTE_H

#include "core/arena.h"
#include "core/crypto.h"
#include "core/err.h"
#include "db/db.h"
#include "integrations/wh_headers.h"

#include <stdbool.h>
#include <stdint.h>

/* Headers the routing reads besides a provider's own (for wh_headers_collect), NULL-ended. */
extern const char *const inbound_route_headers[];

struct inbound_target {
    int64_t tenant;
    const char *settings_provider; /* the integration that holds the secret: "whatsapp", ... */
    const char *secret;            /* NULL when the tenant has not configured one */
    const char *secret_field;      /* its field name, for the error that says what to set */
    bool routed;                   /* found through a route value (not the default) */
};

/*
 * Resolve `provider` (a name of integrations/provider.h: "meta", "vapi", "stripe", ...).
 * `forced_tenant` > 0 is a tenant named in the URL. Strings of `out` live in `a`.
 * ERR_NOT_FOUND for a provider without settings; ERR_CONFLICT when the secret was sealed
 * under another server key.
 */
int inbound_resolve(struct db_conn *c, const unsigned char key[SEC_BOX_KEY_LEN],
                    const char *provider, const struct wh_headers *h, const char *body, size_t len,
                    int64_t default_tenant, int64_t forced_tenant, struct arena *a,
                    struct inbound_target *out, struct err *e);

#endif
