/* SPDX-License-Identifier: MIT */
/*
 * A local fake of Meta's WhatsApp Cloud API send endpoint for tests and benches: libmicrohttpd
 * on 127.0.0.1 in its own threads. It checks the bearer token, the path
 * /{version}/{phone_number_id}/messages and the request's JSON shape, records every request, and
 * answers like Meta: a message id, or (when scripted) an error code in Meta's error envelope.
 */
#ifndef ICESHOP_TESTS_FAKE_WHATSAPP_H
#define ICESHOP_TESTS_FAKE_WHATSAPP_H

#include <stdbool.h>
#include <stddef.h>

#define FAKE_WA_VERSION "v21.0"

/* One request the fake accepted (valid auth, path and shape), as the test sees it. */
struct fake_wa_request {
    char to[32];
    char type[32];   /* "text" | "template" | "interactive" | ... */
    char text[1024]; /* text.body, or interactive.body.text */
    char template_name[128];
    char template_lang[16];
    char template_param[1024]; /* the first body parameter of a template */
    int n_template_params;
    char interactive_type[48]; /* "button" | "location_request_message" | ... */
    char button_ids[2][64];
    char button_titles[2][64];
    int answered_code;    /* 0 when answered with a message id, else the scripted error code */
    long answered_status; /* HTTP status of the answer */
};

struct fake_whatsapp;

/* Start on a free port; aborts the test process when it cannot. */
struct fake_whatsapp *fake_whatsapp_start(const char *token, const char *phone_number_id);
void fake_whatsapp_stop(struct fake_whatsapp *f);
int fake_whatsapp_port(const struct fake_whatsapp *f);
/* "http://127.0.0.1:<port>/v21.0": what ICESHOP_WHATSAPP_API_URL should be. */
const char *fake_whatsapp_url(const struct fake_whatsapp *f);

/*
 * Answer the next `n` valid requests with error `code` in Meta's envelope: HTTP 401 for 190,
 * 400 otherwise. The _status variant picks the HTTP status (e.g. 503).
 */
void fake_whatsapp_fail_next(struct fake_whatsapp *f, int code, int n);
void fake_whatsapp_fail_next_status(struct fake_whatsapp *f, int code, long status, int n);
/* Keep request details (default true); counting continues either way. */
void fake_whatsapp_set_recording(struct fake_whatsapp *f, bool on);

/* Valid requests seen (answered with success or a scripted error). */
size_t fake_whatsapp_count(struct fake_whatsapp *f);
/* Requests answered with a message id. */
size_t fake_whatsapp_accepted(struct fake_whatsapp *f);
/* Requests refused for bad auth, path, method or shape (the last reason in `why`). */
size_t fake_whatsapp_rejected(struct fake_whatsapp *f, char *why, size_t n);
/* The i-th recorded request (0 = first); false when there is none. */
bool fake_whatsapp_get(struct fake_whatsapp *f, size_t i, struct fake_wa_request *out);
/* Forget recorded requests, counters and the script. */
void fake_whatsapp_reset(struct fake_whatsapp *f);

#endif
