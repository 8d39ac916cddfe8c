/* SPDX-License-Identifier: MIT */
/*
 * Inbound webhook providers: one descriptor per provider with a pure signature verifier and a
 * pure event-identity extractor, in one table looked up by name. This is the single way a
 * webhook body is authenticated before anything else reads it. No I/O, no clock reads, no
 * globals that change: safe from any thread. Tests: tests/unit/integrations/test_verify.c;
 * fuzzed by fuzz/fuzz_verify_<provider>.c.
 */
#ifndef ICESHOP_INTEGRATIONS_PROVIDER_H
#define ICESHOP_INTEGRATIONS_PROVIDER_H

#include "core/arena.h"
#include "core/err.h"
#include "integrations/wh_headers.h"

#include <stddef.h>
#include <stdint.h>

/* Timestamped schemes (Stripe, Standard Webhooks) accept this much clock skew, both ways. */
#define INTEGRATIONS_TOLERANCE_S 300

/*
 * Verify one delivery: the headers, the raw body bytes exactly as received (body may hold any
 * bytes, NUL included; it need not be NUL-terminated) and the provider secret for the tenant it
 * is addressed to, at `now_s` (Unix seconds, from the caller's clock).
 *
 * Contract, shared by every provider:
 *  - pure: reads only its arguments; signatures are compared in constant time; keys, expected
 *    MACs and other copies of secrets are wiped before returning;
 *  - returns 0 when the delivery is authentic;
 *  - ERR_INVALID when `secret` is NULL, empty or malformed for the scheme (a configuration
 *    problem; checked before the request is looked at, so it says nothing about the request);
 *  - ERR_UNAUTHORIZED for every other refusal, the message naming the provider and the check,
 *    e.g. "stripe: no v1 signature matches", "meta: X-Hub-Signature-256 missing". A header
 *    that must appear once and is repeated is refused as malformed. Body fields a scheme signs
 *    (iyzico) name themselves in e->field.
 */
typedef int wh_verify_fn(const struct wh_headers *h, const char *body, size_t len,
                         const char *secret, int64_t now_s, struct err *e);

/* The identity of one event, for deduplication in an inbound-event ledger. */
struct wh_event_id {
    const char *id;   /* unique per provider (and tenant); never NULL or "" */
    const char *type; /* the provider's event type or topic; "" when it sends none */
};

/*
 * Extract the identities of the events in a delivery: most providers send one event per
 * delivery (*n = 1); Meta batches messages and statuses, so its deliveries give one identity
 * each. Call only after verify() accepted the delivery. *ids is allocated from `a` and its
 * strings live there too (borrowed until the arena is released). Pure, like verify.
 * Returns 0 with *n >= 1, or ERR_INVALID when the id the provider documents is missing or not
 * a string, naming the header or body field in the message and e->field.
 */
typedef int wh_identify_fn(const struct wh_headers *h, const char *body, size_t len,
                           struct arena *a, struct wh_event_id **ids, size_t *n, struct err *e);

/*
 * One provider. The rules each one follows (headers, string to sign, identity) are written
 * above its row in provider.c and in its file src/integrations/<name>.c.
 */
struct integrations_provider {
    const char *name;           /* lowercase, URL-safe: "stripe", "standard-webhooks" */
    const char *const *headers; /* every header verify and identify read, NULL-terminated, for
                                   wh_headers_collect() */
    int64_t tolerance_s;        /* accepted timestamp skew; 0 when the scheme has no timestamp */
    wh_verify_fn *verify;
    wh_identify_fn *identify;
};

/*
 * The provider called `name` (exact, lowercase), or NULL when there is none. The result points
 * into a static table: never freed, valid for the life of the process.
 */
const struct integrations_provider *integrations_provider_find(const char *name);

/* The whole table, in a fixed order (for listings and tests); *n gets its length. */
const struct integrations_provider *integrations_provider_list(size_t *n);

#endif
