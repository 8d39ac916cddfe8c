/* SPDX-License-Identifier: MIT */
/*
 * AWS Signature Version 4, pure: the canonical request, the string to sign, the derived key and
 * the signature, for an Authorization header or for a presigned URL (query-string auth). No
 * clock reads (callers pass `now` in Unix seconds), no I/O; derived keys are wiped.
 * Tests: tests/unit/core/test_sigv4.c (AWS's published S3 examples).
 */
#ifndef ICESHOP_CORE_SIGV4_H
#define ICESHOP_CORE_SIGV4_H

#include "core/buf.h"
#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SIGV4_MAX_EXPIRES      604800 /* seven days: the longest a presigned URL may live */
#define SIGV4_MAX_HEADERS      16
#define SIGV4_MAX_SECRET       256 /* characters of a secret key (AWS's are 40) */

/* Who signs, and for what scope. All borrowed. */
struct sigv4_key {
    const char *access_key;
    const char *secret_key;
    const char *region;  /* "us-east-1" */
    const char *service; /* "s3" */
};

struct sigv4_header {
    const char *name; /* any case; signed lowercased */
    const char *value;
};

/*
 * Append the AWS URI encoding of (s, len) to `out`: every byte but A-Z a-z 0-9 - . _ ~ becomes
 * %XX (uppercase hex); '/' is kept when keep_slash (object paths) and encoded otherwise (query
 * values). Returns 0, or ERR_TOO_LARGE past the buffer's maximum.
 */
int sigv4_uri_encode(struct buf *out, const char *s, size_t len, bool keep_slash);

/*
 * The Authorization header value for a request: `path` is the raw (not yet encoded) absolute
 * path, `query` the canonical query string (already sorted and encoded; "" for none), `headers`
 * every header to sign (Host and X-Amz-Date among them, at most SIGV4_MAX_HEADERS), and
 * `payload_hash` the lowercase hex SHA-256 of the body or SIGV4_UNSIGNED_PAYLOAD. `now` must be
 * the instant the X-Amz-Date header states. Writes "AWS4-HMAC-SHA256 Credential=…,
 * SignedHeaders=…, Signature=…" into `out` (out_size bytes). Returns 0; ERR_INVALID naming the
 * check that failed (a missing key part, a bad header, too many headers, a relative path);
 * ERR_TOO_LARGE when `out` is too small.
 */
int sigv4_authorization(const struct sigv4_key *k, const char *method, const char *path,
                        const char *query, const struct sigv4_header *headers, size_t nheaders,
                        const char *payload_hash, int64_t now, char *out, size_t out_size,
                        struct err *e);

/*
 * A presigned URL, "<scheme>://<host><path>?X-Amz-Algorithm=…&X-Amz-Signature=…", signing only
 * the Host header with an unsigned payload, valid `expires_s` seconds (1..SIGV4_MAX_EXPIRES)
 * from `now`. `host` is the Host header as the client will send it (with ":port" when not the
 * scheme's default). The URL is written into `out` (a buf the caller owns; appended to).
 * Returns 0; ERR_INVALID naming the failed check; ERR_TOO_LARGE past the buffer's maximum.
 */
int sigv4_presign(const struct sigv4_key *k, const char *scheme, const char *method,
                  const char *host, const char *path, int64_t now, int64_t expires_s,
                  struct buf *out, struct err *e);

#endif
