/* SPDX-License-Identifier: MIT */
/* String helpers (see str.h). */
#include "core/str.h"
#include "core/err.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int str_to_i64(const char *s, int64_t *out)
{
    /* strtoll skips any leading white space ("\v1", "\r1"); a number must not have it. */
    if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+'))
        return ERR_INVALID;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || *end != '\0' || end == s)
        return ERR_INVALID;
    *out = (int64_t)v;
    return 0;
}

int str_to_i64_range(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    int64_t v;
    if (str_to_i64(s, &v) || v < lo || v > hi)
        return ERR_INVALID;
    *out = v;
    return 0;
}

bool str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

bool str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_copy(char *dst, size_t n, const char *src)
{
    if (n == 0)
        return false;
    size_t len = strlen(src);
    if (len >= n) {
        memcpy(dst, src, n - 1);
        dst[n - 1] = '\0';
        return false;
    }
    memcpy(dst, src, len + 1);
    return true;
}

/* Length of the well-formed UTF-8 sequence at s[0..len), or 0 when there is none. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing past U+10FFFF */
    } else {
        return 0;
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    }
    return n;
}

bool str_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(p + i, len - i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

void str_utf8_scrub(char *dst, size_t n, const char *src)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t len = strlen(src), o = 0;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq(p + i, len - i);
        if (!k) {
            if (o + 1 >= n)
                break;
            dst[o++] = '?';
            i++;
            continue;
        }
        if (o + k >= n)
            break;
        memcpy(dst + o, p + i, k);
        o += k;
        i += k;
    }
    dst[o] = '\0';
}
