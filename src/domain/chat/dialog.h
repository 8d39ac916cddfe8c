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

/* The job that asks a language model about a message the rules were unsure of (lane "slow"). */
#define CHAT_JOB_MODEL  "chat.model" /* payload {"event": id, "role": "buyer" | "seller"} */
#define CHAT_LANE_MODEL "slow"

/* How a turn reads the message. */
struct chat_reading {
    /* What a language model said about it (checked against the intent schema, the rules'
     * entities kept), or NULL: understand the text here. */
    const struct understanding *given;
    /* An unsure reading (below acting confidence) of a buyer's or seller's text is first sent
     * to the model: the turn then only enqueues CHAT_JOB_MODEL (outcome "asked_model"), whose
     * run takes the turn again with the model's reading, or with the rules' if the model fails. */
    bool model_may_be_asked;
};

/*
 * Handle one stored event. *outcome (static or arena text) says what was done, e.g.
 * "precommit:42", "demand", "asked_location", "unclear". Business refusals (no open offer, a
 * used code) are answered to the person and are not errors; only storage failures are.
 * `how` NULL: the rules alone.
 */
int chat_dialog_handle(struct db_conn *c, int64_t tenant, const struct chat_event *ev,
                       const struct chat_reading *how, int64_t now_ms, struct arena *a,
                       const char **outcome, struct err *e);

/* The onboarding message asking for a location ("location_request"). */
extern const struct notify_kind chat_msg_location_request;

/*
 * Register the "chat.process" and "chat.model" job handlers and the message kinds the dialog
 * sends. The language model is the tenant's (its `llm` integration, opened with `secret_key`; the
 * default tenant's falls back to ICESHOP_LLM_*: net/llm.h llm_config_for_tenant), looked up at
 * each turn; with `secret_key` NULL every tenant uses the environment's. Without one, unsure
 * messages are asked back as before.
 */
int chat_jobs_register(struct job_registry *reg, const unsigned char *secret_key,
                       int64_t default_tenant, struct err *e);

#endif
