/* SPDX-License-Identifier: MIT */
/*
 * Standard Webhooks HMAC signatures (see webhook_sig.h). Works on the raw body bytes and never
 * copies them: the HMAC is fed id, timestamp and body as separate slices. Keys are wiped after
 * use. Tests: tests/unit/core/test_webhook_sig.c.
 */
#include "core/webhook_sig.h"

#include "core/crypto.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define SECRET_PREFIX "whsec_"

/* Decode the secret into key; returns the key length, or 0 when malformed. */
static size_t decode_secret(unsigned char key[WEBHOOK_SIG_MAX_KEY], const char *secret)
{
    if (!secret)
        return 0;
    size_t plen = strlen(SECRET_PREFIX);
    if (strncmp(secret, SECRET_PREFIX, plen) == 0)
        secret += plen;
    size_t n = 0;
    if (sec_b64_decode(key, WEBHOOK_SIG_MAX_KEY, &n, SEC_B64_STD, secret, strlen(secret), NULL))
        return 0;
    return n;
}

/* The MAC of id "." ts "." body, with ts written canonically (as the reference libs do). */
static void compute(unsigned char mac[SEC_HMAC_SHA256_LEN], const unsigned char *key,
                    size_t key_len, const char *msg_id, int64_t ts, const void *body,
                    size_t body_len)
{
    char ts_text[24];
    int n = snprintf(ts_text, sizeof(ts_text), "%" PRId64, ts);
    struct sec_slice parts[] = {
        {msg_id, strlen(msg_id)}, {".", 1}, {ts_text, (size_t)n}, {".", 1}, {body, body_len},
    };
    sec_hmac_sha256_v(mac, key, key_len, parts, sizeof(parts) / sizeof(parts[0]));
}

int webhook_sig_sign(char out[WEBHOOK_SIG_SIZE], const char *secret, const char *msg_id,
                     int64_t timestamp_s, const void *body, size_t body_len, struct err *e)
{
    unsigned char key[WEBHOOK_SIG_MAX_KEY];
    out[0] = '\0';
    size_t key_len = decode_secret(key, secret);
    if (key_len == 0)
        return err_set(e, ERR_INVALID, "webhook secret is not whsec_ + base64");
    if (!msg_id || !*msg_id) {
        sec_wipe(key, sizeof(key));
        return err_set(e, ERR_INVALID, "webhook message id is empty");
    }
    unsigned char mac[SEC_HMAC_SHA256_LEN];
    compute(mac, key, key_len, msg_id, timestamp_s, body, body_len);
    sec_wipe(key, sizeof(key));
    memcpy(out, "v1,", 3);
    return sec_b64_encode(out + 3, WEBHOOK_SIG_SIZE - 3, SEC_B64_STD, mac, sizeof(mac), e);
}

/* Strict unsigned decimal: the header is an integer number of seconds, nothing else. */
static bool parse_timestamp(const char *s, int64_t *out)
{
    int64_t v = 0;
    if (!*s || strlen(s) > 18)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

/* Does any "v1,<b64>" entry of the space-separated list equal `want`? */
static bool any_v1_matches(const char *list, const unsigned char want[SEC_HMAC_SHA256_LEN],
                           bool *saw_v1)
{
    bool ok = false;
    const char *p = list;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 3 && memcmp(p, "v1,", 3) == 0) {
            unsigned char got[SEC_HMAC_SHA256_LEN + 3];
            size_t got_len = 0;
            *saw_v1 = true;
            /* no early exit on a match: every entry costs the same */
            if (sec_b64_decode(got, sizeof(got), &got_len, SEC_B64_STD, p + 3, len - 3, NULL) ==
                    0 &&
                sec_equal(got, got_len, want, SEC_HMAC_SHA256_LEN))
                ok = true;
        }
        p += len;
    }
    return ok;
}

int webhook_sig_verify(const char *secret, const char *msg_id, const char *timestamp,
                       const char *signature, const void *body, size_t body_len, int64_t now_s,
                       struct err *e)
{
    unsigned char key[WEBHOOK_SIG_MAX_KEY];
    size_t key_len = decode_secret(key, secret);
    if (key_len == 0)
        return err_set(e, ERR_INVALID, "webhook secret is not whsec_ + base64");

    int rc = 0;
    int64_t ts = 0;
    if (!msg_id || !*msg_id) {
        rc = err_set(e, ERR_UNAUTHORIZED, "missing webhook-id header");
        goto out_wipe;
    }
    if (!timestamp || !*timestamp) {
        rc = err_set(e, ERR_UNAUTHORIZED, "missing webhook-timestamp header");
        goto out_wipe;
    }
    if (!signature || !*signature) {
        rc = err_set(e, ERR_UNAUTHORIZED, "missing webhook-signature header");
        goto out_wipe;
    }
    if (!parse_timestamp(timestamp, &ts)) {
        rc = err_set(e, ERR_UNAUTHORIZED, "webhook-timestamp is not an integer");
        goto out_wipe;
    }
    if (ts < now_s - WEBHOOK_SIG_TOLERANCE_S) {
        rc = err_set(e, ERR_UNAUTHORIZED, "webhook-timestamp too old");
        goto out_wipe;
    }
    if (ts > now_s + WEBHOOK_SIG_TOLERANCE_S) {
        rc = err_set(e, ERR_UNAUTHORIZED, "webhook-timestamp too far in the future");
        goto out_wipe;
    }

    unsigned char want[SEC_HMAC_SHA256_LEN];
    compute(want, key, key_len, msg_id, ts, body, body_len);
    bool saw_v1 = false;
    if (!any_v1_matches(signature, want, &saw_v1)) {
        rc = err_set(e, ERR_UNAUTHORIZED, "%s",
                     saw_v1 ? "no webhook-signature v1 entry matches"
                            : "webhook-signature has no v1 entry");
        goto out_wipe;
    }
out_wipe:
    sec_wipe(key, sizeof(key));
    return rc;
}
