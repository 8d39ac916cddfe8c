/* SPDX-License-Identifier: MIT */
/*
 * One signed outbound webhook POST: the Standard Webhooks headers (webhook-id,
 * webhook-timestamp, webhook-signature from core/webhook_sig.h) over the exact body, sent with
 * httpc_do(). Blocking: call it from job handlers only, never inside a database transaction.
 * Tests: tests/unit/domain/test_webhooks.c (through a fake httpc backend), and
 * tests/integration/0009-webhooks-out.c (a real receiver).
 */
#ifndef ICESHOP_NET_WEBHOOK_OUT_H
#define ICESHOP_NET_WEBHOOK_OUT_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

/* Response body bytes kept from the receiver; the rest is read and dropped by the cap. */
#define WEBHOOK_OUT_KEEP       1024
#define WEBHOOK_OUT_TIMEOUT_MS 15000

struct webhook_out_msg {
    const char *url;
    const char *secret; /* "whsec_<base64>" */
    const char *msg_id; /* the webhook-id: the same on every attempt of one delivery */
    int64_t timestamp_s;
    const char *body;
    size_t body_len;
};

struct webhook_out_result {
    long status;                         /* 0 when no answer arrived */
    char response[WEBHOOK_OUT_KEEP + 1]; /* the start of the answer's body, NUL-terminated */
    char error[256];                     /* "" on an answer; the network error otherwise */
};

/*
 * Sign and POST `m`. Returns 0 when an answer arrived (any status: the caller judges it) or
 * when the network failed (r->error says how; r->status 0): both are attempts to record.
 * Returns ERR_INVALID, with nothing sent, when the message cannot be signed (bad secret or
 * empty id) or the request is malformed.
 */
int webhook_out_send(const struct webhook_out_msg *m, struct webhook_out_result *r, struct err *e);

#endif
