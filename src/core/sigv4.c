/* SPDX-License-Identifier: MIT */
/*
 * AWS Signature Version 4 (see sigv4.h), following the published algorithm step by step:
 * canonical request, string to sign, derived key, signature. Pure; every error names its check.
 * Tests: tests/unit/core/test_sigv4.c.
 */
#include "core/sigv4.h"
#include "core/crypto.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_TEXT_MAX  ((size_t)64 * 1024)

struct stamp {
    char amz_date[17]; /* 20130524T000000Z */
    char date[9];      /* 20130524 */
};

static int make_stamp(int64_t now, struct stamp *st, struct err *e)
{
    time_t t = (time_t)now;
    struct tm tm;
    if (now < 0 || !gmtime_r(&t, &tm))
        return err_set(e, ERR_INVALID, "sigv4: time %lld is out of range", (long long)now);
    if (strftime(st->amz_date, sizeof(st->amz_date), "%Y%m%dT%H%M%SZ", &tm) != 16 ||
        strftime(st->date, sizeof(st->date), "%Y%m%d", &tm) != 8)
        return err_set(e, ERR_INVALID, "sigv4: time %lld is out of range", (long long)now);
    return 0;
}

static int check_key(const struct sigv4_key *k, struct err *e)
{
    if (!k || !k->access_key || !*k->access_key)
        return err_set(e, ERR_INVALID, "sigv4: access key is missing");
    if (!k->secret_key || !*k->secret_key)
        return err_set(e, ERR_INVALID, "sigv4: secret key is missing");
    if (strlen(k->secret_key) > SIGV4_MAX_SECRET)
        return err_set(e, ERR_INVALID, "sigv4: secret key longer than %d characters",
                       SIGV4_MAX_SECRET);
    if (!k->region || !*k->region || strchr(k->region, '/'))
        return err_set(e, ERR_INVALID, "sigv4: region is missing or contains '/'");
    if (!k->service || !*k->service || strchr(k->service, '/'))
        return err_set(e, ERR_INVALID, "sigv4: service is missing or contains '/'");
    return 0;
}

static bool unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int sigv4_uri_encode(struct buf *out, const char *s, size_t len, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        if (unreserved(c) || (keep_slash && c == '/')) {
            rc = buf_append(out, &s[i], 1);
        } else {
            char pct[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = buf_append(out, pct, 3);
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* The signature (hex) of `sts` under the key derived for the scope's date. */
static void sign(const struct sigv4_key *k, const char *date, const char *sts,
                 char out[SEC_HMAC_SHA256_HEX_SIZE])
{
    unsigned char kd[SEC_HMAC_SHA256_LEN], kr[SEC_HMAC_SHA256_LEN];
    /* kDate = HMAC("AWS4" + secret, date); check_key bounds the secret's length */
    size_t slen = strlen(k->secret_key);
    char secret[4 + SIGV4_MAX_SECRET + 1];
    memcpy(secret, "AWS4", 4);
    memcpy(secret + 4, k->secret_key, slen + 1);
    sec_hmac_sha256(kd, secret, slen + 4, date, strlen(date));
    sec_wipe(secret, sizeof(secret));
    sec_hmac_sha256(kr, kd, sizeof(kd), k->region, strlen(k->region));
    sec_hmac_sha256(kd, kr, sizeof(kr), k->service, strlen(k->service));
    sec_hmac_sha256(kr, kd, sizeof(kd), "aws4_request", 12);
    sec_hmac_sha256_hex(out, kr, sizeof(kr), sts, strlen(sts));
    sec_wipe(kd, sizeof(kd));
    sec_wipe(kr, sizeof(kr));
}

/* "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of the canonical request>" */
static int string_to_sign(const struct stamp *st, const char *scope, const struct buf *creq,
                          struct buf *sts)
{
    unsigned char h[SEC_SHA256_LEN];
    char hex[SEC_HEX_SIZE(SEC_SHA256_LEN)];
    sec_sha256(h, creq->data ? creq->data : "", creq->len);
    struct err ignore;
    err_init(&ignore);
    sec_hex_encode(hex, sizeof(hex), h, sizeof(h), &ignore);
    return buf_appendf(sts, SIGV4_ALGORITHM "\n%s\n%s\n%s", st->amz_date, scope, hex);
}

struct lheader {
    char name[64];
    const char *value;
};

static int cmp_header(const void *a, const void *b)
{
    return strcmp(((const struct lheader *)a)->name, ((const struct lheader *)b)->name);
}

/* Append a header value trimmed, with runs of spaces collapsed to one. */
static int append_trimmed(struct buf *b, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    bool space = false;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = true;
            continue;
        }
        if (space && buf_append(b, " ", 1))
            return ERR_TOO_LARGE;
        space = false;
        if (buf_append(b, v, 1))
            return ERR_TOO_LARGE;
    }
    return 0;
}

int sigv4_authorization(const struct sigv4_key *k, const char *method, const char *path,
                        const char *query, const struct sigv4_header *headers, size_t nheaders,
                        const char *payload_hash, int64_t now, char *out, size_t out_size,
                        struct err *e)
{
    struct stamp st;
    int rc = check_key(k, e);
    if (!rc)
        rc = make_stamp(now, &st, e);
    if (rc)
        return rc;
    if (!method || !*method)
        return err_set(e, ERR_INVALID, "sigv4: method is missing");
    if (!path || path[0] != '/')
        return err_set(e, ERR_INVALID, "sigv4: path must start with '/'");
    if (!payload_hash || !*payload_hash)
        return err_set(e, ERR_INVALID, "sigv4: payload hash is missing");
    if (nheaders == 0 || nheaders > SIGV4_MAX_HEADERS)
        return err_set(e, ERR_INVALID, "sigv4: 1 to %d headers must be signed, got %zu",
                       SIGV4_MAX_HEADERS, nheaders);
    struct lheader lh[SIGV4_MAX_HEADERS];
    for (size_t i = 0; i < nheaders; i++) {
        const char *n = headers[i].name;
        size_t len = n ? strlen(n) : 0;
        if (!len || len >= sizeof(lh[i].name) || !headers[i].value ||
            strpbrk(headers[i].value, "\r\n"))
            return err_set(e, ERR_INVALID, "sigv4: header #%zu is empty, too long or has CR/LF", i);
        for (size_t j = 0; j <= len; j++)
            lh[i].name[j] = (char)tolower((unsigned char)n[j]);
        lh[i].value = headers[i].value;
    }
    qsort(lh, nheaders, sizeof(lh[0]), cmp_header);
    for (size_t i = 1; i < nheaders; i++) {
        if (strcmp(lh[i - 1].name, lh[i].name) == 0)
            return err_set(e, ERR_INVALID, "sigv4: header %s is given twice", lh[i].name);
    }

    struct buf creq, signed_h, sts, scope;
    buf_init(&creq, SIGV4_TEXT_MAX);
    buf_init(&signed_h, SIGV4_TEXT_MAX);
    buf_init(&sts, SIGV4_TEXT_MAX);
    buf_init(&scope, SIGV4_TEXT_MAX);
    rc = buf_appendf(&creq, "%s\n", method);
    rc = rc ? rc : sigv4_uri_encode(&creq, path, strlen(path), true);
    rc = rc ? rc : buf_appendf(&creq, "\n%s\n", query ? query : "");
    for (size_t i = 0; !rc && i < nheaders; i++) {
        rc = buf_appendf(&creq, "%s:", lh[i].name);
        rc = rc ? rc : append_trimmed(&creq, lh[i].value);
        rc = rc ? rc : buf_append(&creq, "\n", 1);
        rc = rc ? rc : buf_appendf(&signed_h, "%s%s", i ? ";" : "", lh[i].name);
    }
    rc = rc ? rc : buf_appendf(&creq, "\n%s\n%s", buf_str(&signed_h), payload_hash);
    rc = rc ? rc : buf_appendf(&scope, "%s/%s/%s/aws4_request", st.date, k->region, k->service);
    rc = rc ? rc : string_to_sign(&st, buf_str(&scope), &creq, &sts);
    if (rc) {
        rc = err_set(e, ERR_TOO_LARGE, "sigv4: canonical request too large");
        goto out;
    }
    char sig[SEC_HMAC_SHA256_HEX_SIZE];
    sign(k, st.date, buf_str(&sts), sig);
    int n =
        snprintf(out, out_size, SIGV4_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                 k->access_key, buf_str(&scope), buf_str(&signed_h), sig);
    if (n < 0 || (size_t)n >= out_size)
        rc =
            err_set(e, ERR_TOO_LARGE, "sigv4: authorization needs %d bytes, have %zu", n, out_size);
out:
    buf_release(&creq);
    buf_release(&signed_h);
    buf_release(&sts);
    buf_release(&scope);
    return rc;
}

int sigv4_presign(const struct sigv4_key *k, const char *scheme, const char *method,
                  const char *host, const char *path, int64_t now, int64_t expires_s,
                  struct buf *out, struct err *e)
{
    struct stamp st;
    int rc = check_key(k, e);
    if (!rc)
        rc = make_stamp(now, &st, e);
    if (rc)
        return rc;
    if (!scheme || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
        return err_set(e, ERR_INVALID, "sigv4: scheme must be http or https");
    if (!method || !*method)
        return err_set(e, ERR_INVALID, "sigv4: method is missing");
    if (!host || !*host || strpbrk(host, "/?#@ \r\n"))
        return err_set(e, ERR_INVALID, "sigv4: host is missing or malformed");
    if (!path || path[0] != '/')
        return err_set(e, ERR_INVALID, "sigv4: path must start with '/'");
    if (expires_s < 1 || expires_s > SIGV4_MAX_EXPIRES)
        return err_set(e, ERR_INVALID, "sigv4: expiry must be 1..%d seconds, got %lld",
                       SIGV4_MAX_EXPIRES, (long long)expires_s);

    struct buf cred, query, creq, sts;
    buf_init(&cred, SIGV4_TEXT_MAX);
    buf_init(&query, SIGV4_TEXT_MAX);
    buf_init(&creq, SIGV4_TEXT_MAX);
    buf_init(&sts, SIGV4_TEXT_MAX);
    char scope[128];
    int n = snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", st.date, k->region, k->service);
    if (n < 0 || (size_t)n >= sizeof(scope)) {
        rc = err_set(e, ERR_INVALID, "sigv4: region or service too long");
        goto out;
    }
    rc = buf_appendf(&cred, "%s/%s", k->access_key, scope);
    /* the query parameters in their canonical (sorted) order */
    rc = rc ? rc : buf_appends(&query, "X-Amz-Algorithm=" SIGV4_ALGORITHM "&X-Amz-Credential=");
    rc = rc ? rc : sigv4_uri_encode(&query, cred.data, cred.len, false);
    rc = rc ? rc
            : buf_appendf(&query, "&X-Amz-Date=%s&X-Amz-Expires=%lld&X-Amz-SignedHeaders=host",
                          st.amz_date, (long long)expires_s);
    rc = rc ? rc : buf_appendf(&creq, "%s\n", method);
    rc = rc ? rc : sigv4_uri_encode(&creq, path, strlen(path), true);
    rc = rc ? rc
            : buf_appendf(&creq, "\n%s\nhost:%s\n\nhost\n" SIGV4_UNSIGNED_PAYLOAD, buf_str(&query),
                          host);
    rc = rc ? rc : string_to_sign(&st, scope, &creq, &sts);
    if (rc) {
        rc = err_set(e, ERR_TOO_LARGE, "sigv4: presigned request too large");
        goto out;
    }
    char sig[SEC_HMAC_SHA256_HEX_SIZE];
    sign(k, st.date, buf_str(&sts), sig);
    rc = buf_appendf(out, "%s://%s", scheme, host);
    rc = rc ? rc : sigv4_uri_encode(out, path, strlen(path), true);
    rc = rc ? rc : buf_appendf(out, "?%s&X-Amz-Signature=%s", buf_str(&query), sig);
    if (rc)
        rc = err_set(e, ERR_TOO_LARGE, "sigv4: presigned url too large");
out:
    buf_release(&cred);
    buf_release(&query);
    buf_release(&creq);
    buf_release(&sts);
    return rc;
}
