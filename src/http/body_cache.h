/* SPDX-License-Identifier: MIT */
/*
 * Response bodies kept between requests: a few per process, each under a tenant, a name and the
 * version of the data it was built from (e.g. flash_store_version), so a handler that reads the
 * same version again answers from memory instead of rebuilding. Entries are replaced when their
 * version moves on, or the least recently used one when the cache is full. Thread-safe.
 * Tests: tests/unit/http/test_body_cache.c.
 */
#ifndef ICESHOP_HTTP_BODY_CACHE_H
#define ICESHOP_HTTP_BODY_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BODY_CACHE_SLOTS 32
#define BODY_CACHE_NAME  48

/* A copy (malloc'd, the caller frees) of the body under (tenant, name) at `version`, or false. */
bool body_cache_get(int64_t tenant, const char *name, int64_t version, char **body, size_t *len);
/* Keep a copy of `body` under (tenant, name) at `version`. */
void body_cache_put(int64_t tenant, const char *name, int64_t version, const char *body,
                    size_t len);
/* Forget everything (tests). */
void body_cache_clear(void);

#endif
