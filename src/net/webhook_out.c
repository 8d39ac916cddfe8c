/* SPDX-License-Identifier: MIT */
/*
 * Signed outbound webhook POSTs (see webhook_out.h): sign with core/webhook_sig.c, send with
 * httpc_do(), keep the status and the first WEBHOOK_OUT_KEEP bytes of the answer. Never logs
 * bodies or secrets. Tests: tests/unit/domain/test_webhooks.c,
 * tests/integration/0009-webhooks-out.c.
 */
#include "net/webhook_out.h"
#include "core/str.h"
#include "core/webhook_sig.h"
#include "net/httpc.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Answers bigger than this are cut off as too large; we only keep WEBHOOK_OUT_KEEP anyway. */
#define RESPONSE_CAP (64u * 1024)

/*
 * Copy at most `max` bytes of `src` as valid UTF-8: a sequence that is malformed or cut by the
 * limit becomes '?', and NUL ends the copy, so the text can go into a database and into JSON.
 */
static void copy_utf8(char *dst, const unsigned char *src, size_t len, size_t max)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o < max && src[i];) {
        unsigned char c = src[i];
        size_t need = c < 0x80             ? 0
                      : (c & 0xe0) == 0xc0 ? 1
                      : (c & 0xf0) == 0xe0 ? 2
                      : (c & 0xf8) == 0xf0 ? 3
                                           : 4;
        bool good =
            need < 4 && i + need < len && o + need < max && !(c >= 0x80 && c < 0xc2) && c <= 0xf4;
        for (size_t k = 1; good && k <= need; k++)
            good = (src[i + k] & 0xc0) == 0x80;
        /* no overlong forms, surrogates or code points past U+10FFFF */
        if (good && need >= 2) {
            unsigned char c1 = src[i + 1];
            good = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0) &&
                   !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
        }
        if (!good) {
            dst[o++] = '?';
            i++;
            continue;
        }
        memcpy(dst + o, src + i, need + 1);
        o += need + 1;
        i += need + 1;
    }
    dst[o] = '\0';
}

int webhook_out_send(const struct webhook_out_msg *m, struct webhook_out_result *r, struct err *e)
{
    memset(r, 0, sizeof(*r));
    char sig[WEBHOOK_SIG_SIZE];
    int rc = webhook_sig_sign(sig, m->secret, m->msg_id, m->timestamp_s, m->body, m->body_len, e);
    if (rc)
        return rc;
    char ts[24];
    snprintf(ts, sizeof(ts), "%" PRId64, m->timestamp_s);
    const struct httpc_header headers[] = {
        {"Content-Type", "application/json"}, {"User-Agent", "iceshop-webhooks"},
        {WEBHOOK_SIG_HDR_ID, m->msg_id},      {WEBHOOK_SIG_HDR_TIMESTAMP, ts},
        {WEBHOOK_SIG_HDR_SIGNATURE, sig},
    };
    struct httpc_request req = {
        .method = "POST",
        .url = m->url,
        .headers = headers,
        .nheaders = sizeof(headers) / sizeof(headers[0]),
        .body = m->body,
        .body_len = m->body_len,
        .timeout_ms = WEBHOOK_OUT_TIMEOUT_MS,
        .max_response = RESPONSE_CAP,
    };
    struct httpc_response resp;
    httpc_response_init(&resp);
    struct err he;
    err_init(&he);
    rc = httpc_do(&req, &resp, &he);
    if (rc == ERR_INVALID) {
        httpc_response_release(&resp);
        return err_set_field(e, ERR_INVALID, "url", "%s", he.msg);
    }
    if (rc == 0 || (rc == ERR_TOO_LARGE && resp.status > 0)) {
        r->status = resp.status;
        copy_utf8(r->response, (const unsigned char *)resp.body.data, resp.body.len,
                  WEBHOOK_OUT_KEEP);
    } else {
        r->status = 0;
        str_copy(r->error, sizeof(r->error), he.msg[0] ? he.msg : err_code_name(he.code));
    }
    httpc_response_release(&resp);
    return 0;
}
