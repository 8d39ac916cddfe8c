/* SPDX-License-Identifier: MIT */
/*
 * Requests of a person about their own data (KVKK / GDPR): everything one tenant holds about a
 * phone number and/or an email, exported as JSON, or erased. The tables that hold a person are
 * listed once in privacy.c, each with how it is found (the phone, the email, the buyer rows of
 * the phone) and what erasure does to it (delete the row, or redact what names the person while
 * keeping what other records need: a delivery ledger's key, a shop's windows). Every request is
 * recorded in privacy_requests with only a hash of the person. Tests: tests/integration/
 * 0021-privacy.c (both backends), tests/unit/platform/test_privacy.c.
 */
#ifndef ICESHOP_PLATFORM_PRIVACY_H
#define ICESHOP_PLATFORM_PRIVACY_H

#include "core/err.h"
#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

/*
 * The i-th table that export and erasure visit, NULL past the last (for the test that every
 * table of the schema able to hold a person is visited or declared not to).
 */
const char *privacy_table(size_t i);

/* A person: a phone (E.164 "+905...") and/or an email (lower case); "" for none. */
struct privacy_subject {
    char phone[20];
    char email[256];
};

/*
 * Normalise what a caller gave ("905321234567" or "+90 532..." style phones are refused:
 * digits with an optional leading '+'; an email with one '@'). ERR_INVALID naming "phone" or
 * "email" when malformed, or "phone" when neither is given.
 */
int privacy_subject_parse(const char *phone, const char *email, struct privacy_subject *out,
                          struct err *e);

/*
 * Everything tenant `tenant` holds about the person: {"subject": {"phone","email"}, "<table>":
 * [rows as objects of column: text or null], ...}; new reference in *out. Records the request.
 * One transaction (joins the caller's).
 */
int privacy_export(struct db_conn *c, int64_t tenant, const struct privacy_subject *p,
                   int64_t now_ms, json_t **out, struct err *e);

/*
 * Erase the person from the tenant: their buyer rows and everything hanging from them, their
 * contact, the messages to them and their attachments are deleted; chat events from them and
 * provider webhook bodies that name them are redacted (the rows stay, so a redelivery is still
 * recognised); a seller with their phone keeps its shop but loses the phone. *counts (new
 * reference) says how many rows each table lost or had redacted. One transaction; recorded.
 */
int privacy_erase(struct db_conn *c, int64_t tenant, const struct privacy_subject *p,
                  int64_t now_ms, json_t **counts, struct err *e);

/*
 * Retention, for every tenant: messages whose delivery is settled (sent, delivered, read,
 * failed) created before `messages_before_ms`, with their attachments; inbound webhook events
 * and chat events handled before `inbound_before_ms`. A cutoff of 0 keeps everything of its kind.
 * Deleted in batches of PRIVACY_RETENTION_BATCH rows per transaction, so a long backlog never
 * holds the database's writer for long. *deleted (may be NULL) gets the rows removed.
 */
#define PRIVACY_RETENTION_BATCH 2000
int privacy_retention(struct db_conn *c, int64_t messages_before_ms, int64_t inbound_before_ms,
                      int64_t *deleted, struct err *e);

#endif
