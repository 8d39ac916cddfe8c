/* SPDX-License-Identifier: MIT */
/*
 * Standard Webhooks (standardwebhooks.com, the Svix scheme) symmetric signatures: sign outbound
 * webhooks and verify inbound ones. Signed content is id "." timestamp "." raw body, MACed with
 * HMAC-SHA256 under the base64-decoded secret. No clock reads: callers pass `now` in seconds.
 * Tests: tests/unit/core/test_webhook_sig.c.
 */
#ifndef ICESHOP_CORE_WEBHOOK_SIG_H
#define ICESHOP_CORE_WEBHOOK_SIG_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

/* Header names, lowercase as the spec writes them. */
#define WEBHOOK_SIG_HDR_ID        "webhook-id"
#define WEBHOOK_SIG_HDR_TIMESTAMP "webhook-timestamp"
#define WEBHOOK_SIG_HDR_SIGNATURE "webhook-signature"

/* Accepted clock skew, both directions, as in the reference libraries. */
#define WEBHOOK_SIG_TOLERANCE_S 300
/* "v1," + 44 base64 chars + NUL: the size of one signature from webhook_sig_sign(). */
#define WEBHOOK_SIG_SIZE 48
/* Longest accepted decoded secret, in bytes (the spec asks for 24-64). */
#define WEBHOOK_SIG_MAX_KEY 128

/*
 * Sign a message: `out` gets "v1,<base64 HMAC>" for the webhook-signature header. `secret` is
 * "whsec_<base64>" or the bare base64; `timestamp_s` goes in the webhook-timestamp header as a
 * decimal integer. Returns 0, or ERR_INVALID when the secret is not valid base64 (or is empty
 * or longer than WEBHOOK_SIG_MAX_KEY bytes decoded) or `msg_id` is NULL or ""; `out` is "" then.
 */
int webhook_sig_sign(char out[WEBHOOK_SIG_SIZE], const char *secret, const char *msg_id,
                     int64_t timestamp_s, const void *body, size_t body_len, struct err *e);

/*
 * Verify an inbound webhook from its three header values (NULL when the header is missing)
 * and the raw body bytes, at `now_s`. The signature header is a space-separated list of
 * "version,base64"; every v1 entry is tried (constant-time compare), other versions are
 * ignored. Returns 0 when one v1 entry matches; ERR_UNAUTHORIZED when a header is missing, the
 * timestamp is not an integer or is more than WEBHOOK_SIG_TOLERANCE_S away from now_s, or no
 * v1 signature matches (the message names the check); ERR_INVALID when `secret` itself is
 * malformed (a configuration bug, checked first).
 */
int webhook_sig_verify(const char *secret, const char *msg_id, const char *timestamp,
                       const char *signature, const void *body, size_t body_len, int64_t now_s,
                       struct err *e);

#endif
