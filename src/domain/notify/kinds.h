/* SPDX-License-Identifier: MIT */
/*
 * Message kinds: what the outbox knows about a kind of message is declared by the module that
 * sends it (flash offers, chat's location request, an order receipt later), not by the
 * notification module: its name, whether it is marketing or transactional, the WhatsApp template
 * that replaces it outside the 24-hour window, how it is rendered per language, its reply
 * buttons. Tests: tests/unit/domain/test_outbox.c.
 */
#ifndef ICESHOP_DOMAIN_NOTIFY_KINDS_H
#define ICESHOP_DOMAIN_NOTIFY_KINDS_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

#define NOTIFY_KIND_NAME_MAX 48 /* [a-z][a-z0-9_.]*: "offer", "order.receipt" */
#define NOTIFY_KINDS_MAX     128
#define NOTIFY_BUTTONS_MAX   3 /* WhatsApp's limit for reply buttons */

/* Marketing messages need the person's marketing consent and wait out quiet hours. */
enum notify_purpose {
    NOTIFY_TRANSACTIONAL = 0,
    NOTIFY_MARKETING,
};

/*
 * A reply button. Its payload id is "<action>:<about_pk>" (e.g. "join:42"): the inbound side of
 * the module that registered the kind reads it back. Titles are at most 20 characters.
 */
struct notify_button {
    const char *action;
    const char *title_tr;
    const char *title_en;
};

/*
 * Renders the body for `language` ("tr" or "en"; anything else means "tr") from `vars`, whose
 * type the registering module defines, into out (size n, always terminated). Returns the length,
 * or -1 when it did not fit or `vars` lacks what the kind needs.
 */
typedef int (*notify_render_fn)(const char *language, const void *vars, char *out, size_t n);

struct notify_kind {
    const char *name;
    enum notify_purpose purpose;
    /*
     * The approved WhatsApp template sent instead outside the 24-hour window, with the body as its
     * one parameter; NULL = none (such messages then fail there). ICESHOP_WHATSAPP_TEMPLATE_<NAME>
     * (the name upper-cased, '.' as '_') overrides it.
     */
    const char *template_name;
    notify_render_fn render; /* NULL: the sender writes the body itself */
    /* Reply buttons, sent only with messages about something (about_pk > 0); action NULL ends. */
    struct notify_button buttons[NOTIFY_BUTTONS_MAX];
    bool location_request; /* ask the recipient to share their location */
};

/*
 * Adds `k` to the process-wide registry; `k` must outlive the process (a static definition).
 * Registering the same definition again is a no-op; another definition under a taken name is
 * ERR_CONFLICT; a bad name is ERR_INVALID. Thread-safe. Owning modules register their kinds in
 * their *_jobs_register() (so every process that delivers knows them); notify_enqueue()
 * registers the kind it is given as well.
 */
int notify_kind_register(const struct notify_kind *k, struct err *e);

/* The registered kind called `name`, or NULL. Thread-safe. */
const struct notify_kind *notify_kind_find(const char *name);

/* Whether `name` is a well-formed kind name. */
bool notify_kind_name_ok(const char *name);

/* Up to `max` registered kinds into out, in registration order; returns how many. */
size_t notify_kinds_list(const struct notify_kind **out, size_t max);

/* "reply": a transactional answer in a conversation, whose body the sender writes. */
extern const struct notify_kind notify_kind_reply;

#endif
