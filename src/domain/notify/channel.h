/* SPDX-License-Identifier: MIT */
/*
 * Sending messages to people: the provider adapters (Meta WhatsApp Cloud API, VAPI, and the
 * console adapter used when none is configured) behind one struct of function pointers, and the
 * delivery policy the "notify.deliver" job applies before and after a send: opt-outs, quiet
 * hours, the 24-hour customer-service window (a template outside it), the per-number rate and the
 * per-recipient pace, and what each provider error means (retry later, switch to the template,
 * raise an alert, or give up). Tests: tests/unit/domain/test_channel.c against the fake Cloud API
 * in tests/support/fake_whatsapp.c.
 */
#ifndef ICESHOP_DOMAIN_NOTIFY_CHANNEL_H
#define ICESHOP_DOMAIN_NOTIFY_CHANNEL_H

#include "core/err.h"
#include "domain/notify/outbox.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One outbound message, ready for a provider. */
struct channel_message {
    const char *to_phone;               /* E.164 with '+' */
    const char *body;                   /* the rendered text */
    const char *language;               /* "tr" | "en" */
    const char *kind;                   /* the message kind's name, for logs */
    bool use_template;                  /* outside the 24-hour window: send the approved template */
    const char *template_name;          /* per kind (channel_template_name) */
    const char *const *template_params; /* body parameters, in order */
    size_t n_template_params;
    size_t n_buttons; /* reply buttons, e.g. "Katıl" / "Hayır" on offers */
    struct {
        const char *id;    /* payload id, e.g. "join:42" */
        const char *title; /* in the message's language */
    } buttons[NOTIFY_BUTTONS_MAX];
    bool location_request; /* ask the recipient to share their location */
};

enum channel_outcome {
    CHANNEL_SENT = 0,          /* accepted by the provider; provider_id set */
    CHANNEL_RETRY,             /* rate limited or transient: try again after retry_after_ms */
    CHANNEL_NEEDS_TEMPLATE,    /* outside the service window (131047): resend as a template */
    CHANNEL_AUTH_FAILED,       /* the access token is bad (190): alert an operator, retry later */
    CHANNEL_PERMANENT_FAILURE, /* will never succeed as is: mark failed, do not retry */
};

struct channel_result {
    enum channel_outcome outcome;
    char provider_id[128]; /* the provider's message id, e.g. "wamid...." */
    int provider_code;     /* the provider's error code (130429, 131056, ...) or 0 */
    int64_t retry_after_ms;
    char error[256];
};

/* What a provider can do; the delivery job asks these, never the provider's name. */
enum channel_caps {
    CHANNEL_CAP_TEMPLATES = 1u << 0,   /* free text only inside a service window; templates out */
    CHANNEL_CAP_BUTTONS = 1u << 1,     /* reply buttons ("Katıl" / "Hayır") on offers */
    CHANNEL_CAP_LOCATION = 1u << 2,    /* ask the recipient to share a location */
    CHANNEL_CAP_DELIVERS_NOW = 1u << 3 /* a send is a delivery (no later report): console */
};

struct channel_provider {
    const char *name;         /* "meta", "vapi", "console": for logs and metrics only */
    const char *alert_source; /* what operators' alerts about its credentials name */
    unsigned caps;            /* enum channel_caps */
    /* Send one message; fills `r`. Returns 0 when `r` says what happened (even a failure the
     * provider reported), or an error code when the attempt itself failed (network: retry). */
    int (*send)(struct channel_provider *p, const struct channel_message *m,
                struct channel_result *r, struct err *e);
    void (*free)(struct channel_provider *p);
    void *state;
};

struct channel_config {
    /* Meta WhatsApp Cloud API; the provider is Meta when token and phone_number_id are set */
    const char *api_url; /* default https://graph.facebook.com/v21.0 */
    const char *token;
    const char *phone_number_id;
    /* VAPI outbound (optional) */
    const char *vapi_url;
    const char *vapi_key;
    /* policy */
    int rate_per_s;          /* per sending number, default 80 */
    int recipient_gap_ms;    /* at least this long between two messages to one person, 1000 */
    const char *quiet_hours; /* local "22:00-08:00", "" = none; marketing waits until after */
    int tz_offset_min;       /* local time, default 180 */
    /* template names per kind from ICESHOP_WHATSAPP_TEMPLATE_<KIND>, overriding the kinds' own */
    struct {
        char kind[NOTIFY_KIND_NAME_MAX + 1]; /* "window_open", "order.receipt" */
        const char *name;
    } templates[NOTIFY_KINDS_MAX];
    size_t n_templates;
    /* email over SMTP; without smtp_url email messages go to the console adapter */
    const char *smtp_url;  /* "smtp://host:587" (STARTTLS when offered) or "smtps://host" */
    const char *smtp_from; /* "Iceshop <no-reply@example.com>" */
    const char *smtp_user; /* NULL = no AUTH */
    const char *smtp_password;
    bool smtp_require_tls; /* refuse to send unencrypted */
};

/*
 * Defaults, then ICESHOP_WHATSAPP_* / ICESHOP_VAPI_* / ICESHOP_QUIET_HOURS / ICESHOP_SMTP_* from
 * the environment.
 */
void channel_config_from_env(struct channel_config *c);

/* The provider the configuration selects: Meta, else VAPI, else the console. Caller frees. */
struct channel_provider *channel_provider_new(const struct channel_config *c);
struct channel_provider *channel_provider_console(void);

/*
 * The WhatsApp template for `kind` outside the 24-hour window: the configured override, else the
 * kind's own, else "" (none).
 */
const char *channel_template_name(const struct channel_config *c, const struct notify_kind *kind);
/* Whether local time `now_ms` falls inside `quiet_hours`; *until_ms gets its end. */
bool channel_in_quiet_hours(const char *quiet_hours, int tz_offset_min, int64_t now_ms,
                            int64_t *until_ms);

#endif
