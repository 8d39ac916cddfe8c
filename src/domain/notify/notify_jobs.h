/* SPDX-License-Identifier: MIT */
/*
 * Delivery of outbox messages. Until a messaging provider is configured, the console adapter
 * delivers: it logs the message (ids, kind, language; never the phone number) and marks it
 * delivered, so GET /api/messages shows the whole conversation.
 * Tests: tests/integration/0004-flash.c.
 */
#ifndef ICESHOP_DOMAIN_NOTIFY_JOBS_H
#define ICESHOP_DOMAIN_NOTIFY_JOBS_H

#include "core/err.h"

struct job_registry;

int notify_jobs_register(struct job_registry *reg, struct err *e);

#endif
