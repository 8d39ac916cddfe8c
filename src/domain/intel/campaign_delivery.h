/* SPDX-License-Identifier: MIT */
/*
 * Delivering a planned campaign (planner_service.h) to people, and measuring what it did.
 *
 * Sending. POST /api/campaigns/{id}/send. A campaign is sent at most once (ERR_CONFLICT after).
 *   audience  personal: the campaign's customer. company: the active customers of the tenant's
 *             current profile batch whose budget_tier and loyalty_tier equal the chosen
 *             proposal's targetProfile, whose age (from birth_date, at the send) lies in its
 *             ageRange when the birth date is known, and whose city (name or id) is in its
 *             cities when that list is not empty. Either way only customers reachable on the
 *             channel (a phone for whatsapp, an email for email) with marketing consent (their
 *             contact by phone or email has not refused it; no contact consents) are chosen.
 *             An empty audience is ERR_INVALID naming "audience".
 *   holdout   company only: the tenant's campaigns.holdout_pct (intel_config.h) unless the
 *             request names one (0..50). Every chosen customer gets the key
 *             SHA-256(campaign public id ":" customer public id); sorted by key, the first
 *             round(n · pct / 100) are the holdout and get nothing; the rest are the treatment.
 *             The split is exact, reproducible and independent of the customers' order or
 *             anything the campaign knows about them. A personal campaign has no holdout (a
 *             holdout_pct above 0 is ERR_INVALID naming "holdout_pct").
 *   messages  the send, its recipients and the first run of the job "campaign.send" (slow lane)
 *             commit together; each run writes up to CAMPAIGN_SEND_CHUNK treatment messages of
 *             the marketing kind "campaign.offer" to the outbox (which honours consent and quiet
 *             hours again at delivery) and queues the next run in the same transaction, so the
 *             send resumes after a crash and never writes a recipient's message twice. The send
 *             is "sent" when every treatment recipient has a message.
 *
 * Measuring. GET /api/campaigns/{id}/uplift. The attribution window is [sent_at, sent_at +
 * attribution_days) (the days are the tenant's at the send, kept with it). A customer converts
 * when they place an order that counts as spend (commerce_order_status_counts) in the window;
 * their revenue is the sum of those orders' totals, per currency. Treatment and holdout are
 * compared with uplift.h: conversion rate and revenue per customer, each difference with a 95 %
 * confidence interval. The report says whether the window is still open.
 *
 * Tests: tests/unit/domain/test_intel_uplift.c, tests/integration/0026-campaigns.c.
 */
#ifndef ICESHOP_DOMAIN_INTEL_CAMPAIGN_DELIVERY_H
#define ICESHOP_DOMAIN_INTEL_CAMPAIGN_DELIVERY_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "domain/notify/kinds.h"

#include <jansson.h>
#include <stdint.h>

#define CAMPAIGN_SEND_JOB    "campaign.send"
#define CAMPAIGN_SEND_CHUNK  200
#define CAMPAIGN_MESSAGE_MAX 500 /* characters of an operator's own text */

struct campaign_send_req {
    const char *campaign_id; /* public id */
    const char *channel;     /* "whatsapp" or "email"; NULL = whatsapp */
    int proposal;            /* company: which proposal, 0-based */
    int holdout_pct;         /* -1 = the tenant's setting (company) or none (personal) */
    const char *message;     /* NULL or "": written from the campaign */
};

struct campaign_send_row {
    const char *campaign_id, *kind, *channel, *status, *offer_type;
    int proposal, holdout_pct, attribution_days, discount;
    int64_t audience, treatment, holdout, queued;
    int64_t sent_at_ms;
};

/*
 * Send campaign `req->campaign_id` of `tenant` as described above, on the caller's connection
 * (a transaction of its own). ERR_NOT_FOUND naming "id" for another tenant's or no campaign;
 * ERR_CONFLICT when it was sent already; ERR_INVALID naming the field for a bad channel,
 * proposal, holdout_pct or message, or an empty audience.
 */
int campaign_send(struct db_conn *c, int64_t tenant, const struct campaign_send_req *req,
                  int64_t now_ms, struct arena *a, struct campaign_send_row *out, struct err *e);

/* The send of a campaign; ERR_NOT_FOUND naming "id" when none (or not this tenant's). */
int campaign_send_get(struct db_conn *c, int64_t tenant, const char *campaign_id, struct arena *a,
                      struct campaign_send_row *out, struct err *e);

/* {"campaign_id", "kind", "channel", "status", "proposal", "offer_type", "discount",
 *  "holdout_pct", "attribution_days", "audience", "treatment", "holdout", "queued", "sent_at"} */
json_t *campaign_send_json(const struct campaign_send_row *s);

/*
 * The uplift report of a sent campaign as of `now_ms`: the send, the window ("from", "to",
 * "open"), and per currency seen in either arm {"currency", "treatment": {customers, converted,
 * conversion_rate, revenue, revenue_per_customer}, "holdout": {...}, "conversion_diff":
 * {estimate, ci95_low, ci95_high} or null, "revenue_per_customer_diff": {...} or null}; without
 * any attributed order, one entry for no currency ("currency": null, zero revenue). The caller
 * owns *out.
 */
int campaign_uplift(struct db_conn *c, int64_t tenant, const char *campaign_id, int64_t now_ms,
                    struct arena *a, json_t **out, struct err *e);

/* The message kind "campaign.offer" and the job; call once per process before the pools. */
struct job_registry;
int campaign_delivery_jobs_register(struct job_registry *reg, struct err *e);

extern const struct notify_kind campaign_msg_offer;

#endif
