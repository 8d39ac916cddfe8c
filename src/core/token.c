/* SPDX-License-Identifier: MIT */
/*
 * Compact JWS HS256 sign/verify (see token.h). The signature always covers the segments as
 * received, never re-serialised JSON. jansson is used only to read alg/crit/exp/nbf.
 * Tests: tests/unit/core/test_token.c.
 */
#include "core/token.h"

#include "core/crypto.h"

#include <jansson.h>

#include <stdbool.h>
#include <string.h>

static const char header_json[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

/* Parse (p, len) as a JSON object; NULL when it is not one. Caller json_decref()s. */
static json_t *load_object(const char *p, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root && !json_is_object(root)) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int token_sign(struct arena *a, const void *key, size_t key_len, const char *claims_json,
               char **out, struct err *e)
{
    *out = NULL;
    if (key_len < TOKEN_MIN_KEY_LEN)
        return err_set(e, ERR_INVALID, "token key shorter than %d bytes", TOKEN_MIN_KEY_LEN);
    size_t clen = strlen(claims_json);
    json_t *claims = load_object(claims_json, clen);
    if (!claims)
        return err_set(e, ERR_INVALID, "token claims are not a json object");
    json_decref(claims);

    size_t hsize = SEC_B64_SIZE(sizeof(header_json) - 1);
    size_t psize = SEC_B64_SIZE(clen);
    size_t ssize = SEC_B64_SIZE(SEC_HMAC_SHA256_LEN);
    if (clen > TOKEN_MAX_LEN || hsize + psize + ssize > TOKEN_MAX_LEN)
        return err_set(e, ERR_TOO_LARGE, "token claims too large");

    /* h '.' p '.' s, each encoded in place; the size bound includes room for both dots */
    size_t cap = hsize + psize + ssize;
    char *tok = arena_alloc(a, cap);
    int rc = sec_b64_encode(tok, cap, SEC_B64_URL, header_json, sizeof(header_json) - 1, e);
    if (rc)
        return rc;
    size_t pos = strlen(tok);
    tok[pos++] = '.';
    rc = sec_b64_encode(tok + pos, cap - pos, SEC_B64_URL, claims_json, clen, e);
    if (rc)
        return rc;
    pos += strlen(tok + pos);

    unsigned char mac[SEC_HMAC_SHA256_LEN];
    sec_hmac_sha256(mac, key, key_len, tok, pos);
    tok[pos++] = '.';
    rc = sec_b64_encode(tok + pos, cap - pos, SEC_B64_URL, mac, sizeof(mac), e);
    if (rc)
        return rc;
    *out = tok;
    return 0;
}

/* Decode one base64url segment into a NUL-terminated arena string; NULL when malformed. */
static char *decode_segment(struct arena *a, const char *s, size_t len, size_t *out_len)
{
    size_t cap = SEC_B64_DECODED_MAX(len) + 1;
    char *p = arena_alloc(a, cap);
    if (sec_b64_decode(p, cap - 1, out_len, SEC_B64_URL, s, len, NULL))
        return NULL;
    p[*out_len] = '\0';
    return p;
}

/* true when now_s >= the numeric claim's value (a JSON integer or real) */
static bool time_reached(const json_t *v, int64_t now_s)
{
    if (json_is_integer(v))
        return now_s >= (int64_t)json_integer_value(v);
    return (double)now_s >= json_real_value(v);
}

static int check_header(struct arena *a, const char *seg, size_t len, struct err *e)
{
    size_t n;
    char *text = decode_segment(a, seg, len, &n);
    if (!text)
        return err_set(e, ERR_UNAUTHORIZED, "token header is not base64url");
    json_t *hdr = load_object(text, n);
    if (!hdr)
        return err_set(e, ERR_UNAUTHORIZED, "token header is not a json object");
    int rc = 0;
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    if (!alg || strcmp(alg, "HS256") != 0) {
        /* covers "none", "HS512", "RS256" (key confusion) and a missing alg */
        rc = err_set(e, ERR_UNAUTHORIZED, "token alg is not HS256");
        goto out_decref;
    }
    if (json_object_get(hdr, "crit")) {
        /* RFC 7515 §4.1.11: we understand no extensions, so any crit list is fatal */
        rc = err_set(e, ERR_UNAUTHORIZED, "token header has unsupported crit");
        goto out_decref;
    }
out_decref:
    json_decref(hdr);
    return rc;
}

static int check_claims(struct arena *a, const char *seg, size_t len, int64_t now_s,
                        char **claims_json, struct err *e)
{
    size_t n;
    char *text = decode_segment(a, seg, len, &n);
    if (!text)
        return err_set(e, ERR_UNAUTHORIZED, "token payload is not base64url");
    if (memchr(text, '\0', n))
        return err_set(e, ERR_UNAUTHORIZED, "token payload contains a nul byte");
    json_t *claims = load_object(text, n);
    if (!claims)
        return err_set(e, ERR_UNAUTHORIZED, "token payload is not a json object");
    int rc = 0;
    const json_t *exp = json_object_get(claims, "exp");
    const json_t *nbf = json_object_get(claims, "nbf");
    if (!exp || !json_is_number(exp)) {
        rc = err_set(e, ERR_UNAUTHORIZED, "token has no numeric exp");
        goto out_decref;
    }
    if (time_reached(exp, now_s)) {
        rc = err_set(e, ERR_UNAUTHORIZED, "token expired");
        goto out_decref;
    }
    if (nbf && (!json_is_number(nbf) || !time_reached(nbf, now_s))) {
        rc = err_set(e, ERR_UNAUTHORIZED, "token not valid yet (nbf)");
        goto out_decref;
    }
    if (claims_json)
        *claims_json = text;
out_decref:
    json_decref(claims);
    return rc;
}

int token_verify(struct arena *a, const void *key, size_t key_len, const char *token, int64_t now_s,
                 char **claims_json, struct err *e)
{
    if (claims_json)
        *claims_json = NULL;
    if (key_len < TOKEN_MIN_KEY_LEN)
        return err_set(e, ERR_INTERNAL, "token key shorter than %d bytes", TOKEN_MIN_KEY_LEN);
    if (!token)
        return err_set(e, ERR_UNAUTHORIZED, "no token");
    size_t len = strnlen(token, TOKEN_MAX_LEN + 1);
    if (len > TOKEN_MAX_LEN)
        return err_set(e, ERR_UNAUTHORIZED, "token too long");

    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return err_set(e, ERR_UNAUTHORIZED, "token is not three dot-separated segments");
    size_t hlen = (size_t)(dot1 - token);
    size_t plen = (size_t)(dot2 - dot1 - 1);
    size_t slen = len - (size_t)(dot2 + 1 - token);
    if (hlen == 0 || plen == 0 || slen == 0)
        return err_set(e, ERR_UNAUTHORIZED, "token has an empty segment");

    int rc = check_header(a, token, hlen, e);
    if (rc)
        return rc;

    unsigned char got[SEC_HMAC_SHA256_LEN + 3];
    size_t got_len = 0;
    if (sec_b64_decode(got, sizeof(got), &got_len, SEC_B64_URL, dot2 + 1, slen, NULL) ||
        got_len != SEC_HMAC_SHA256_LEN)
        return err_set(e, ERR_UNAUTHORIZED, "token signature is malformed");
    unsigned char want[SEC_HMAC_SHA256_LEN];
    sec_hmac_sha256(want, key, key_len, token, (size_t)(dot2 - token));
    if (!sec_equal(got, got_len, want, sizeof(want)))
        return err_set(e, ERR_UNAUTHORIZED, "token signature mismatch");

    return check_claims(a, dot1 + 1, plen, now_s, claims_json, e);
}
