/* SPDX-License-Identifier: MIT */
/*
 * Signed links to a window's pages, sent in WhatsApp messages: one per buyer (/w/<token>: the
 * offer, a countdown, join and cancel, the code) and one per seller (/s/<token>: live counts and
 * redemption). A token is an HS256 JWT (core/token.h) under a key derived from the server secret,
 * naming the kind, tenant, window and buyer, valid until an hour after the window ends. No login.
 * Tests: tests/unit/domain/test_links.c, tests/integration/0008-pages.c.
 */
#ifndef ICESHOP_DOMAIN_FLASH_LINKS_H
#define ICESHOP_DOMAIN_FLASH_LINKS_H

#include "core/arena.h"
#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

enum flash_link_kind { FLASH_LINK_BUYER = 'w', FLASH_LINK_SELLER = 's' };

struct flash_link {
    enum flash_link_kind kind;
    int64_t tenant;
    int64_t window;
    int64_t buyer_pk; /* 0 for seller links */
};

/*
 * Configure once at start-up: the server secret the key is derived from, and the public base
 * URL links start with ("http://127.0.0.1:8080"; trailing '/' ignored). Until configured, links
 * are not made (flash_link_url gives NULL) and every token is refused.
 */
void flash_links_configure(const unsigned char secret[32], const char *base_url);
bool flash_links_ready(void);

/* A token for `l`, valid until exp_ms; allocated from `a`. */
int flash_link_token(const struct flash_link *l, int64_t exp_ms, struct arena *a,
                     const char **token, struct err *e);
/* The full URL (base + "/w/" or "/s/" + token), or NULL when links are not configured. */
const char *flash_link_url(const struct flash_link *l, int64_t exp_ms, struct arena *a);
/*
 * Check a token of the expected kind at now_ms. ERR_UNAUTHORIZED for anything tampered, expired,
 * of the other kind or malformed.
 */
int flash_link_verify(const char *token, enum flash_link_kind kind, int64_t now_ms, struct arena *a,
                      struct flash_link *out, struct err *e);

#endif
