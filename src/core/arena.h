/* SPDX-License-Identifier: MIT */
/*
 * Region allocator for request- and job-scoped memory, with deferred cleanups for non-memory
 * resources (statements, connections, json roots). Everything allocated from an arena is freed
 * by arena_release(); deferred functions run first, in reverse order of registration.
 * Not thread-safe: one arena belongs to one request or job. Tests: tests/unit/core/test_core.c.
 */
#ifndef ICESHOP_CORE_ARENA_H
#define ICESHOP_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_block;
struct arena_defer;

struct arena {
    struct arena_block *head;
    struct arena_defer *defers;
    size_t used; /* total bytes handed out, for diagnostics */
};

typedef void arena_defer_fn(void *ptr);

void arena_init(struct arena *a);
/* Runs deferred cleanups (last registered first) and frees all memory; `a` may be reused. */
void arena_release(struct arena *a);

/* Zeroed, 16-byte aligned memory valid until arena_release(). Cannot fail. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t len);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/*
 * Room for one more element in an arena-backed array: when *n == *cap, moves the `elem`-sized
 * elements to a block twice as large (at least 16) and updates *cap. Returns the array.
 */
void *arena_grow(struct arena *a, void *array, size_t n, size_t *cap, size_t elem);
/* Run fn(ptr) when the arena is released. */
void arena_defer(struct arena *a, arena_defer_fn *fn, void *ptr);

#endif
