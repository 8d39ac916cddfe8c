/* SPDX-License-Identifier: MIT */
/*
 * The notification outbox: messages to buyers and sellers, written in the same transaction as
 * the change that causes them, rendered in the recipient's language (Turkish by default,
 * English), and delivered later by a job ("notify.deliver"). Until a messaging provider is
 * configured, the console adapter marks messages delivered and logs them.
 * Tests: tests/unit/domain/test_outbox.c.
 */
#ifndef ICESHOP_DOMAIN_NOTIFY_OUTBOX_H
#define ICESHOP_DOMAIN_NOTIFY_OUTBOX_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum notify_kind {
    NOTIFY_OFFER = 0,        /* to a buyer: a window they may join ("Katıl" / "Hayır") */
    NOTIFY_QUESTION,         /* to an ask-first seller: open this window? */
    NOTIFY_WINDOW_OPEN,      /* to committed buyers: it has started, come now */
    NOTIFY_SELLER_SUMMARY,   /* to the seller at start: "3 kişi geliyor, ortalama mesafe 350 m" */
    NOTIFY_CANCELLED,        /* to committed buyers (and the seller): it will not happen */
    NOTIFY_REMINDER,         /* to committed buyers before the start */
    NOTIFY_CONFIRMATION,     /* to a buyer who joined or committed: their code / their seat */
    NOTIFY_REPLY,            /* a conversational answer (the body is given, not rendered) */
    NOTIFY_LOCATION_REQUEST, /* onboarding: please share your location */
    NOTIFY_KIND_COUNT
};
extern const char *const notify_kind_names[]; /* "offer", "question", ..., NULL */

enum notify_status {
    NOTIFY_PENDING = 0,
    NOTIFY_SENT,
    NOTIFY_DELIVERED,
    NOTIFY_READ,
    NOTIFY_FAILED,
};
extern const char *const notify_status_names[]; /* "pending", "sent", ..., NULL */

/* Everything a template may mention; unused fields may stay zero/NULL. */
struct notify_vars {
    const char *name; /* recipient's name, may be NULL */
    const char *seller_name;
    const char *title; /* the window's title */
    const char *product;
    int discount; /* percent */
    int count;    /* committed buyers */
    int expected; /* expected to come, given reliability */
    int avg_distance_m;
    int minutes;            /* window length, or minutes until the start */
    const char *start_hhmm; /* local "14:00" */
    const char *end_hhmm;
    const char *code;   /* redemption code */
    const char *reason; /* why cancelled */
    const char *link;   /* a page for the window, may be NULL */
};

/*
 * Render `kind` in `language` ("tr" or "en"; anything else → "tr") into out (size n), e.g. the
 * seller summary "3 kişi geliyor, ortalama mesafe 350 m. Güvenilirliğe göre 2 kişi bekleniyor."
 * Returns the length, or -1 when it did not fit (out is then truncated but terminated).
 */
int notify_render(enum notify_kind kind, const char *language, const struct notify_vars *v,
                  char *out, size_t n);

struct notify_message {
    int64_t pk;
    const char *recipient_kind; /* "buyer", "seller", or "contact" (a phone not yet registered) */
    int64_t recipient_pk;
    const char *recipient_id; /* public id */
    const char *phone;
    const char *language;
    enum notify_kind kind;
    const char *body;
    int64_t window_pk; /* 0 = none */
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
 * Render and store a message as pending, and enqueue its delivery job (unique per message), on
 * the caller's connection and transaction. m->pk is set.
 */
int notify_enqueue(struct db_conn *c, int64_t tenant, struct notify_message *m,
                   const struct notify_vars *v, int64_t now_ms, struct err *e);

struct notify_filter {
    const char *recipient_id; /* NULL = any */
    int kind;                 /* -1 = any */
    int status;               /* -1 = any */
    int64_t window_pk;        /* 0 = any */
    int64_t after_pk;         /* keyset: pk < after_pk, newest first */
    int limit;                /* 0 → 50, capped at 500 */
};
int notify_list(struct db_conn *c, int64_t tenant, const struct notify_filter *f, struct arena *a,
                struct notify_message **rows, size_t *n, struct err *e);
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
 * An email through the outbox: m->email (one address), m->body (plain text, or rendered from
 * `v` when not NULL), `subject`, and up to NOTIFY_ATTACHMENTS_MAX attachments, stored with the
 * message and its delivery job in one transaction (joins the caller's). The same job delivers
 * it through SMTP with the same policy (marketing kinds need the contact's consent and wait for
 * quiet hours) and retries. ERR_INVALID names the bad field ("email", "subject",
 * "attachments[1].filename", ...).
 */
int notify_enqueue_email(struct db_conn *c, int64_t tenant, struct notify_message *m,
                         const struct notify_vars *v, const char *subject,
                         const struct notify_attachment *att, size_t n_att, int64_t now_ms,
                         struct err *e);

/* The attachments of message `pk` (data from `a`), in order. */
int notify_attachments(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                       struct notify_attachment **out, size_t *n, struct err *e);

/* Job name of the delivery job; its payload is {"message": pk}, tenant is the message's. */
#define NOTIFY_DELIVER_JOB "notify.deliver"

#endif
