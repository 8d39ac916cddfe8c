/* SPDX-License-Identifier: MIT */
/* Region allocator with deferred cleanups (see arena.h). */
#include "core/arena.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_MIN 4096

struct arena_block {
    struct arena_block *next;
    size_t cap;
    size_t off;
    _Alignas(16) unsigned char data[];
};

struct arena_defer {
    struct arena_defer *next;
    arena_defer_fn *fn;
    void *ptr;
};

void arena_init(struct arena *a)
{
    a->head = NULL;
    a->defers = NULL;
    a->used = 0;
}

void arena_release(struct arena *a)
{
    /* Deferred cleanups live in the arena's memory, so run them all before freeing blocks. */
    for (struct arena_defer *d = a->defers; d; d = d->next)
        d->fn(d->ptr);
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    arena_init(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need == 0)
        need = 16;
    struct arena_block *b = a->head;
    if (!b || b->cap - b->off < need) {
        size_t cap = need > BLOCK_MIN ? need : BLOCK_MIN;
        if (b && b->cap * 2 > cap && b->cap < 1024 * 1024)
            cap = b->cap * 2;
        struct arena_block *nb = xmalloc(sizeof(*nb) + cap);
        nb->cap = cap;
        nb->off = 0;
        nb->next = a->head;
        a->head = nb;
        b = nb;
    }
    void *p = b->data + b->off;
    b->off += need;
    a->used += need;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return arena_strdup(a, "");
    char *p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

void *arena_grow(struct arena *a, void *array, size_t n, size_t *cap, size_t elem)
{
    if (array && n < *cap)
        return array;
    size_t bigger = *cap ? *cap * 2 : 16;
    void *p = arena_alloc(a, bigger * elem);
    if (array && n)
        memcpy(p, array, n * elem);
    *cap = bigger;
    return p;
}

void arena_defer(struct arena *a, arena_defer_fn *fn, void *ptr)
{
    struct arena_defer *d = arena_alloc(a, sizeof(*d));
    d->fn = fn;
    d->ptr = ptr;
    d->next = a->defers;
    a->defers = d;
}
