/* SPDX-License-Identifier: MIT */
/*
 * Fetching carts from an integration's platform (recovery_fetch.c): Shopify and WooCommerce
 * through src/net, a custom feed through httpc. For the module's service and jobs only; runs
 * outside any transaction. Tests: tests/integration/0025-recovery.c.
 */
#ifndef ICESHOP_DOMAIN_RECOVERY_FETCH_H
#define ICESHOP_DOMAIN_RECOVERY_FETCH_H

#include "domain/recovery/recovery.h"

/* Seal / open the credentials JSON with the server's key. */
int recovery_credentials_seal(const unsigned char *key, const struct recovery_integration_in *in,
                              struct arena *a, const char **sealed, struct err *e);
int recovery_credentials_open(const unsigned char *key, const char *sealed,
                              struct recovery_credentials *out, struct err *e);

/* How a fetch failed: the platform's status (0: none) and code, for the stage and the alert. */
struct recovery_failure {
    long status;
    char code[64];
    char error[256];
};

/*
 * The carts updated after `since_ms` (0: all), up to `max_pages` pages, oldest first;
 * *newest_ms gets the newest update seen (the next watermark). Platform failures are ERR_UPSTREAM
 * with *f filled (a 401 is f->status 401).
 */
int recovery_fetch(const struct recovery_integration *in, const struct recovery_credentials *cr,
                   int64_t since_ms, int max_pages, struct arena *a,
                   struct recovery_fetched **carts, size_t *n, int64_t *newest_ms,
                   struct recovery_failure *f, struct err *e);

#endif
