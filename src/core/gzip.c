/* SPDX-License-Identifier: MIT */
/*
 * gzip through zlib (gzip.h): one deflate stream with the gzip wrapper (windowBits 15 + 16),
 * written into the caller's buffer in chunks; the Accept-Encoding grammar read by hand, since
 * it is one comma-separated list of tokens with optional ";q=" weights.
 */
#include "core/gzip.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CHUNK 16384

int gzip_compress(const void *in, size_t len, struct buf *out, struct err *e)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return err_set(e, ERR_INTERNAL, "gzip: deflateInit2 failed: %s", z.msg ? z.msg : "?");
    const unsigned char *p = in;
    size_t left = len;
    unsigned char chunk[CHUNK];
    int rc = 0, zr;
    do {
        /* avail_in is 32 bits: feed large inputs in slices */
        if (z.avail_in == 0 && left > 0) {
            uInt n = left > (size_t)1 << 30 ? (uInt)1 << 30 : (uInt)left;
            z.next_in = (Bytef *)(uintptr_t)p;
            z.avail_in = n;
            p += n;
            left -= n;
        }
        z.next_out = chunk;
        z.avail_out = CHUNK;
        zr = deflate(&z, left == 0 ? Z_FINISH : Z_NO_FLUSH);
        if (zr == Z_STREAM_ERROR) {
            rc = err_set(e, ERR_INTERNAL, "gzip: deflate failed: %s", z.msg ? z.msg : "?");
            break;
        }
        size_t have = CHUNK - z.avail_out;
        if (have && buf_append(out, chunk, have)) {
            rc = err_set(e, ERR_TOO_LARGE, "gzip: the compressed body passes its limit");
            break;
        }
    } while (zr != Z_STREAM_END);
    deflateEnd(&z);
    return rc;
}

/* The q-value of one list member's parameters ("; q=0.5"), 1 when absent; -1 when malformed. */
static double qvalue(const char *p, const char *end)
{
    while (p < end) {
        while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
            p++;
        if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            char num[16];
            size_t n = 0;
            for (p += 2; p < end && *p != ';' && *p != ' ' && n + 1 < sizeof(num); p++)
                num[n++] = *p;
            num[n] = '\0';
            char *stop;
            double q = strtod(num, &stop);
            return n == 0 || *stop || q < 0 || q > 1 ? -1 : q;
        }
        while (p < end && *p != ';')
            p++;
    }
    return 1;
}

static bool token_is(const char *p, size_t n, const char *want)
{
    size_t w = strlen(want);
    if (n != w)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (tolower((unsigned char)p[i]) != want[i])
            return false;
    }
    return true;
}

bool gzip_accepted(const char *accept_encoding)
{
    if (!accept_encoding)
        return false;
    double gzip_q = -1, star_q = -1;
    const char *p = accept_encoding;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *t = p;
        while (t < end && (*t == ' ' || *t == '\t'))
            t++;
        const char *te = t;
        while (te < end && *te != ';' && *te != ' ' && *te != '\t')
            te++;
        double q = qvalue(te, end);
        if (token_is(t, (size_t)(te - t), "gzip") || token_is(t, (size_t)(te - t), "x-gzip"))
            gzip_q = q;
        else if (token_is(t, (size_t)(te - t), "*"))
            star_q = q;
        p = *end ? end + 1 : end;
    }
    if (gzip_q >= 0)
        return gzip_q > 0;
    return star_q > 0;
}
