/* SPDX-License-Identifier: MIT */
/*
 * Contacts: the people messages go to, whichever module knows them (a flash buyer, a seller, a
 * customer, a phone that wrote first). One row per phone (E.164, "+905...") or email per
 * tenant, with the language, consent per purpose, when the person last wrote to us (the
 * WhatsApp 24-hour window) and the conversation's state. The one place that says whether a
 * person may get a marketing message. SQL through db_* only; every function joins the
 * caller's transaction. Tests: tests/unit/domain/test_contacts.c.
 */
#ifndef ICESHOP_DOMAIN_NOTIFY_CONTACTS_H
#define ICESHOP_DOMAIN_NOTIFY_CONTACTS_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"

#include <stdbool.h>
#include <stdint.h>

enum contact_purpose {
    CONTACT_MARKETING = 0, /* offers, reminders: need consent, wait for quiet hours */
    CONTACT_TRANSACTIONAL, /* confirmations, cancellations, receipts, replies */
};

struct contact {
    int64_t id;
    const char *phone; /* "+905..." or "" */
    const char *email; /* "" when none */
    const char *language;
    bool marketing_consent;
    bool transactional_consent;
    int64_t last_inbound_at; /* 0 = never wrote */
    const char *state;       /* the conversation's state, "" when none */
};

/* "905321234567" or "+905321234567" → "+905321234567" into out; false when not a phone. */
bool contacts_phone_norm(const char *raw, char out[20]);

/* The contact with `phone`; *found false when there is none. Strings from `a`. */
int contacts_get_by_phone(struct db_conn *c, int64_t tenant, const char *phone, struct arena *a,
                          struct contact *out, bool *found, struct err *e);

/* The contact with `email` (compared as given, case-insensitively); *found false when none. */
int contacts_get_by_email(struct db_conn *c, int64_t tenant, const char *email, struct arena *a,
                          struct contact *out, bool *found, struct err *e);

/*
 * Create or update the contact of `phone`: `language` ("tr"/"en") when not NULL, marketing
 * consent when `marketing` is 0 or 1 (-1 keeps it; a new contact consents). ERR_INVALID
 * (field "phone") when `phone` is not a phone number.
 */
int contacts_upsert_phone(struct db_conn *c, int64_t tenant, const char *phone,
                          const char *language, int marketing, int64_t now_ms, struct err *e);

/* Consent for one purpose ("dur"/"stop" withdraws marketing); creates the contact if needed. */
int contacts_set_consent(struct db_conn *c, int64_t tenant, const char *phone,
                         enum contact_purpose purpose, bool on, int64_t now_ms, struct err *e);

/* The person wrote to us at `now_ms` (opens the 24-hour window); creates the contact. */
int contacts_touch_inbound(struct db_conn *c, int64_t tenant, const char *phone, int64_t now_ms,
                           struct err *e);

/* The conversation's state ("" when none or no contact) and setting it. */
int contacts_state(struct db_conn *c, int64_t tenant, const char *phone, struct arena *a,
                   const char **state, struct err *e);
int contacts_set_state(struct db_conn *c, int64_t tenant, const char *phone, const char *state,
                       int64_t now_ms, struct err *e);

/*
 * SQL for "may this buyer get marketing?" as a scalar subquery, for stores that read people
 * with their consent in one statement: `phone_expr` is the SQL of the person's phone column,
 * e.g. CONTACTS_MARKETING_SQL("b.tenant_id", "b.phone"). A person without a contact row
 * consents (a row is made on registration).
 */
#define CONTACTS_MARKETING_SQL(tenant_expr, phone_expr)                                            \
    "COALESCE((SELECT ct.marketing_consent FROM contacts ct WHERE ct.tenant_id = " tenant_expr     \
    " AND ct.phone = " phone_expr "), 1)"

/*
 * The same for a person known by phone and/or email (a shop's customer): 0 when a contact with
 * that phone, or with that email (case-insensitively), refused marketing; 1 otherwise.
 */
#define CONTACTS_PERSON_MARKETING_SQL(tenant_expr, phone_expr, email_expr)                         \
    "COALESCE((SELECT min(ct.marketing_consent) FROM contacts ct WHERE ct.tenant_id "              \
    "= " tenant_expr " AND (ct.phone = " phone_expr " OR (ct.email <> '' AND lower(ct.email) = "   \
    "lower(" email_expr ")))), 1)"

#endif
