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
