/* SPDX-License-Identifier: MIT */
/*
 * Outbound email over SMTP with libcurl: one message (plain text, optional HTML, attachments)
 * built as MIME by libcurl's mime API and sent to one SMTP server. Nothing here queues or
 * retries: the caller (the notification outbox, in a job) decides that from the error code.
 * Thread-safe: one curl handle per call. Tests: tests/unit/net/test_mail.c (a real SMTP sink).
 */
#ifndef ICESHOP_NET_MAIL_H
#define ICESHOP_NET_MAIL_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

#define MAIL_MAX_RECIPIENTS  50
#define MAIL_MAX_ATTACHMENTS 10
#define MAIL_ATTACHMENT_MAX  (10u * 1024 * 1024) /* bytes per attachment */

struct mail_server {
    const char *url;      /* "smtp://host:587" (STARTTLS when offered) or "smtps://host:465" */
    const char *username; /* NULL or "" = no AUTH */
    const char *password;
    bool require_tls; /* refuse to send unless the connection is encrypted (STARTTLS) */
    long timeout_ms;  /* whole transfer; 0 → 30000 */
};

struct mail_attachment {
    const char *filename;     /* "certificate.pdf"; [A-Za-z0-9._-], 1..100 chars */
    const char *content_type; /* "application/pdf" */
    const void *data;
    size_t len;
};

struct mail_message {
    const char *from;      /* "Iceshop <no-reply@example.com>" or a bare address */
    const char *const *to; /* bare addresses */
    size_t n_to;
    const char *subject; /* UTF-8; encoded as RFC 2047 when not ASCII */
    const char *text;    /* UTF-8 plain text body, required */
    const char *html;    /* NULL or an HTML alternative */
    const struct mail_attachment *attachments;
    size_t n_attachments;
    const char *message_id; /* NULL → none set here; "<id@host>" to make resends recognisable */
};

/*
 * Send `m` through `srv`. Errors: ERR_INVALID (bad message: no recipient, an address with
 * CR/LF or without '@', an attachment too large or badly named; e->field names it),
 * ERR_UPSTREAM (the server refused: the SMTP reply in the message; a 5xx reply sets
 * *permanent), ERR_TIMEOUT, ERR_INTERNAL (libcurl setup). `permanent` may be NULL.
 */
int mail_send(const struct mail_server *srv, const struct mail_message *m, bool *permanent,
              struct err *e);

#endif
