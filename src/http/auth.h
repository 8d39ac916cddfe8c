/* SPDX-License-Identifier: MIT */
/*
 * Authentication and role checks for routes that need a role: resolves the bearer credential
 * (ICESHOP_ADMIN_KEY, an API key "isk_...", or a login token) to `r->who`, then compares the
 * caller's role with the route's. ERR_UNAUTHORIZED for missing/bad credentials, ERR_FORBIDDEN
 * for a role too low. Tests: tests/integration/0002-access.c.
 */
#ifndef ICESHOP_HTTP_AUTH_H
#define ICESHOP_HTTP_AUTH_H

#include "http/request.h"

int auth_request(struct http_req *r, struct err *e);

/*
 * Forget remembered API-key lookups (call after revoking a key). Lookups are otherwise reused
 * for up to a second, so a revocation made by another process applies here within a second.
 */
void auth_key_cache_clear(void);

/* Issue a login token for `who`, valid for the configured TTL; *token in r->arena. */
int auth_token_issue(struct http_req *r, const struct account_principal *who, const char **token,
                     int64_t *expires_ms, struct err *e);

#endif
