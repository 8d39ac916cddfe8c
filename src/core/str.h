/* SPDX-License-Identifier: MIT */
/*
 * Small string helpers: strict number parsing (instead of atoi), comparisons and UTF-8 checks.
 * Tests: tests/unit/core/test_core.c.
 */
#ifndef ICESHOP_CORE_STR_H
#define ICESHOP_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parse a whole decimal integer (optional sign); 0 on success, ERR_INVALID otherwise. */
int str_to_i64(const char *s, int64_t *out);
/* Like str_to_i64 and also checks lo <= value <= hi. */
int str_to_i64_range(const char *s, int64_t lo, int64_t hi, int64_t *out);
bool str_eq(const char *a, const char *b);
bool str_has_prefix(const char *s, const char *prefix);
/* Copy src into dst of size n, always NUL-terminating; returns true when it fit. */
bool str_copy(char *dst, size_t n, const char *src);
/*
 * True when s[0..len) is well-formed UTF-8 (RFC 3629: shortest form, no surrogates, at most
 * U+10FFFF).
 */
bool str_utf8_valid(const char *s, size_t len);
/*
 * Copy NUL-terminated src into dst of size n (n >= 1), replacing every byte that is not part of
 * well-formed UTF-8 with '?' and cutting only at a character boundary; dst is always valid
 * UTF-8 and NUL-terminated.
 */
void str_utf8_scrub(char *dst, size_t n, const char *src);

#endif
