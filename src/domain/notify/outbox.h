/* SPDX-License-Identifier: MIT */
/*
 * The notification outbox: messages to people, of kinds their sending modules register
 * (kinds.h), written in the same transaction as the change that causes them, rendered in the
 * recipient's language (Turkish by default, English), and delivered later by a job
 * ("notify.deliver"). Until a messaging provider is
 * configured, the console adapter marks messages delivered and logs them.
 * Tests: tests/unit/domain/test_outbox.c.
 */
#ifndef ICESHOP_DOMAIN_NOTIFY_OUTBOX_H
#define ICESHOP_DOMAIN_NOTIFY_OUTBOX_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "domain/notify/kinds.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum notify_status {
    NOTIFY_PENDING = 0,
    NOTIFY_SENT,
    NOTIFY_DELIVERED,
    NOTIFY_READ,
    NOTIFY_FAILED,
};
extern const char *const notify_status_names[]; /* "pending", "sent", ..., NULL */

struct notify_message {
    int64_t pk;
    const char *recipient_kind; /* "buyer", "seller", or "contact" (a phone not yet registered) */
    int64_t recipient_pk;
    const char *recipient_id; /* public id */
    const char *phone;
    const char *language;
    const char *kind; /* a registered kind's name */
    const char *body;
    /*
     * What the message is about, in the sender's terms: about_kind "window" with the window's pk,
     * "order" with the order's; "" and 0 for nothing. The sender has checked that it belongs to
     * the tenant; reply buttons carry about_pk back.
     */
    const char *about_kind;
    int64_t about_pk;
    enum notify_status status;
    const char *error;       /* "" unless failed */
    const char *provider_id; /* the provider's message id once sent, "" before */
    int64_t created_at;
    int64_t updated_at;
    const char *channel; /* "whatsapp" (to phone) or "email" (to email, with subject) */
    const char *email;
    const char *subject;
};

/*
 * Store a message of `kind` as pending and enqueue its delivery job (unique per message), on the
 * caller's connection and transaction (one of its own when there is none). The body is rendered
 * by the kind from `vars` (the kind's own vars type); with `vars` NULL, or for a kind without a
 * renderer, m->body is sent as written. Sets m->kind and m->pk; registers `kind` if needed.
 * ERR_INVALID names the bad field ("kind", "recipient_kind", "body").
 */
int notify_enqueue(struct db_conn *c, int64_t tenant, const struct notify_kind *kind,
                   struct notify_message *m, const void *vars, int64_t now_ms, struct err *e);

struct notify_filter {
    const char *recipient_id; /* NULL = any */
    const char *kind;         /* NULL = any */
    int status;               /* -1 = any */
    const char *about_kind;   /* with about_pk > 0: only about that; NULL = any */
    int64_t about_pk;
    int64_t after_pk; /* keyset: pk < after_pk, newest first */
    int limit;        /* 0 → 50, capped at 500 */
};
int notify_list(struct db_conn *c, int64_t tenant, const struct notify_filter *f, struct arena *a,
                struct notify_message **rows, size_t *n, struct err *e);
/*
 * A message as the API and webhooks show it: id, recipient, language, kind, body, about
 * ({"kind", "id"} or null), window_id (about a window, else null), status, error, channel,
 * times, and email/subject for email. The caller owns the result.
 */
json_t *notify_message_json(const struct notify_message *m);
int notify_get(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
               struct notify_message *out, struct err *e);
/* Move a message to a later status (never backwards); `error`/`provider_id` may be NULL. */
int notify_set_status(struct db_conn *c, int64_t tenant, int64_t pk, enum notify_status status,
                      const char *error, const char *provider_id, int64_t now_ms, struct err *e);

/*
 * The same, for a provider's delivery report: finds the message by its provider id.
 * *found tells whether any message has that id (reports for unknown ids are ignored).
 */
int notify_set_status_by_provider(struct db_conn *c, int64_t tenant, const char *provider_id,
                                  enum notify_status status, const char *error, int64_t now_ms,
                                  bool *found, struct err *e);

/* ======================== email ======================== */

#define NOTIFY_SUBJECT_MAX     200
#define NOTIFY_ATTACHMENTS_MAX 10
#define NOTIFY_ATTACHMENT_MAX  (5 * 1024 * 1024) /* bytes of one attachment */

struct notify_attachment {
    const char *filename;     /* [A-Za-z0-9._-], 1..100, not starting with '.' */
    const char *content_type; /* "application/pdf" */
    const void *data;
    size_t len;
};

/*
 * An email through the outbox: m->email (one address), m->body (plain text, or rendered by
 * `kind` from `vars` when not NULL), `subject`, and up to NOTIFY_ATTACHMENTS_MAX attachments,
 * stored with the message and its delivery job in one transaction (joins the caller's). The same
 * job delivers it through SMTP with the same policy (marketing kinds need the contact's consent and
 * wait for quiet hours) and retries. ERR_INVALID names the bad field ("email", "subject",
 * "attachments[1].filename", ...).
 */
int notify_enqueue_email(struct db_conn *c, int64_t tenant, const struct notify_kind *kind,
                         struct notify_message *m, const void *vars, const char *subject,
                         const struct notify_attachment *att, size_t n_att, int64_t now_ms,
                         struct err *e);

/* The attachments of message `pk` (data from `a`), in order. */
int notify_attachments(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                       struct notify_attachment **out, size_t *n, struct err *e);

/* Job name of the delivery job; its payload is {"message": pk}, tenant is the message's. */
#define NOTIFY_DELIVER_JOB "notify.deliver"

#endif
