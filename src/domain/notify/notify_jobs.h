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
struct notify_delivery {
    struct channel_provider *provider; /* borrowed */
    struct channel_config cfg;         /* by value; its strings are borrowed */
};

/*
 * Register the delivery job with the provider channel_config_from_env() selects, created
 * once per process and kept until exit.
 */
int notify_jobs_register(struct job_registry *reg, struct err *e);
/* Register with `d` (borrowed: it and its provider must outlive every pool using `reg`). */
int notify_jobs_register_with(struct job_registry *reg, struct notify_delivery *d, struct err *e);

#endif
