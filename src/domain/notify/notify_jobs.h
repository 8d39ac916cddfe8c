/* SPDX-License-Identifier: MIT */
/*
 * Delivery of outbox messages: the "notify.deliver" job applies the policy of channel.h (opt-outs
 * and quiet hours for marketing, the 24-hour window and templates, provider errors) and sends
 * through the configured provider. Without one, the console adapter delivers: it logs the
 * message (ids, kind, language; never the phone number) and marks it delivered, so
 * GET /api/messages shows the whole conversation.
 * Tests: tests/unit/domain/test_channel.c, tests/integration/0004-flash.c.
 */
#ifndef ICESHOP_DOMAIN_NOTIFY_JOBS_H
#define ICESHOP_DOMAIN_NOTIFY_JOBS_H

#include "core/err.h"
#include "domain/notify/channel.h"

struct job_registry;

/* What one registration of the delivery job sends with. */
struct notify_senders; /* per-tenant providers, made on first use (notify_jobs.c) */

struct notify_delivery {
    struct channel_provider *provider; /* borrowed: the default tenant's (environment) provider */
    struct channel_config cfg;         /* by value; its strings are borrowed */
    /*
     * Per-tenant WhatsApp settings (integration_store.h "whatsapp": access_token,
     * phone_number_id, api_url): a tenant that has them sends through its own number; the
     * default tenant without them uses `provider`; any other tenant without them gets the
     * console adapter, never another tenant's number. `secret_key` NULL turns this off (every
     * tenant uses `provider`).
     */
    const unsigned char *secret_key;
    int64_t default_tenant;
    struct notify_senders *senders; /* NULL until the first tenant sender is made */
};

/*
 * Register the delivery job with the provider channel_config_from_env() selects, created
 * once per process and kept until exit; tenants' own settings are opened with `secret_key`
 * (borrowed, lives until exit).
 */
int notify_jobs_register(struct job_registry *reg, const unsigned char *secret_key,
                         int64_t default_tenant, struct err *e);
/* Register with `d` (borrowed: it and its provider must outlive every pool using `reg`). */
int notify_jobs_register_with(struct job_registry *reg, struct notify_delivery *d, struct err *e);

#endif
