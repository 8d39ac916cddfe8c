/* SPDX-License-Identifier: MIT */
/*
 * Compact JWS / JWT with HS256 only: sign claims, verify a token and get its claims back.
 * Claims travel as JSON text the caller builds and parses; this module reads only `alg`,
 * `crit`, `exp` and `nbf`. It never reads the clock: callers pass `now` in Unix seconds.
 * Tests: tests/unit/core/test_token.c.
 */
#ifndef ICESHOP_CORE_TOKEN_H
#define ICESHOP_CORE_TOKEN_H

#include "core/arena.h"
#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

/* RFC 7518 §3.2: an HS256 key must be at least as long as the hash output. */
#define TOKEN_MIN_KEY_LEN 32
/* Tokens longer than this are rejected before any parsing. */
#define TOKEN_MAX_LEN 8192

/*
 * Sign `claims_json` (a JSON object, sent as these exact bytes) with header
 * {"alg":"HS256","typ":"JWT"}. *out gets the compact token "h.p.s", allocated from `a`
 * (valid until arena_release). Tokens should carry `exp`: token_verify() rejects those
 * without it. Returns 0; ERR_INVALID when the key is shorter than TOKEN_MIN_KEY_LEN or
 * `claims_json` is not a JSON object; ERR_TOO_LARGE when the token would exceed TOKEN_MAX_LEN.
 */
int token_sign(struct arena *a, const void *key, size_t key_len, const char *claims_json,
               char **out, struct err *e);

/*
 * Verify a compact HS256 token at time `now_s` (Unix seconds). Checks, in order: shape (three
 * base64url segments), header is a JSON object with alg exactly "HS256" and no `crit`, the
 * signature over the received bytes (constant time), the payload is a JSON object with a
 * numeric `exp` and now_s < exp, and now_s >= nbf when `nbf` is present.
 * On success *claims_json (may be NULL if unwanted) gets the payload's exact bytes as a
 * NUL-terminated string allocated from `a`. Returns 0; ERR_UNAUTHORIZED for any bad, forged,
 * expired or malformed token (the message says which check failed; it is safe to log but
 * should not be shown to clients verbatim); ERR_INTERNAL when the key is shorter than
 * TOKEN_MIN_KEY_LEN (a configuration bug).
 */
int token_verify(struct arena *a, const void *key, size_t key_len, const char *token, int64_t now_s,
                 char **claims_json, struct err *e);

#endif
