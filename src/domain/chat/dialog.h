/* SPDX-License-Identifier: MIT */
/*
 * The conversation: one inbound message (or voice transcript) from a buyer, a seller or an
 * unknown number, understood and acted on in the job's transaction — a wish becomes a demand
 * signal, "katıl" a pre-commit (or a join with a code once the window is open), "dur" an
 * opt-out, a seller's "boşum" a supply signal, "evet" an approval, a code a redemption — with the
 * reply written to the outbox. Unknown numbers are asked for their location, then registered.
 * Tests: tests/integration/0005-whatsapp.c.
 */
#ifndef ICESHOP_DOMAIN_CHAT_DIALOG_H
#define ICESHOP_DOMAIN_CHAT_DIALOG_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "domain/chat/inbound.h"
#include "domain/notify/kinds.h"

struct job_registry;

/*
 * Handle one stored event. *outcome (static or arena text) says what was done, e.g.
 * "precommit:42", "demand", "asked_location", "unclear". Business refusals (no open offer, a
 * used code) are answered to the person and are not errors; only storage failures are.
 */
int chat_dialog_handle(struct db_conn *c, int64_t tenant, const struct chat_event *ev,
                       int64_t now_ms, struct arena *a, const char **outcome, struct err *e);

/* The onboarding message asking for a location ("location_request"). */
extern const struct notify_kind chat_msg_location_request;

/* Register the "chat.process" job handler and the message kinds the dialog sends. */
int chat_jobs_register(struct job_registry *reg, struct err *e);

#endif
