/* SPDX-License-Identifier: MIT */
/*
 * Allocation that cannot fail: on out-of-memory these log and abort, so callers never check
 * for NULL. Tests: tests/unit/core/test_core.c.
 */
#ifndef ICESHOP_CORE_XALLOC_H
#define ICESHOP_CORE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Copy of a NUL-terminated string; caller frees with free(). */
char *xstrdup(const char *s);
/* Copy of (s, len) plus a terminating NUL; caller frees with free(). */
char *xstrndup(const char *s, size_t len);

#endif
