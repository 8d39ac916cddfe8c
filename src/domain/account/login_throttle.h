/* SPDX-License-Identifier: MIT */
/*
 * Login throttling, in memory per process: failed logins counted per account (e-mail) and per
 * client address; past a threshold each further failure doubles a wait (capped), answered with
 * ERR_RATE_LIMITED and a retry time; failures decay, so no one is locked out for ever. Also
 * bounds how many password hashes run at once (each costs tens of ms of CPU).
 * Tests: tests/unit/domain/test_login_throttle.c, tests/integration/0014-hardening.c.
 */
#ifndef ICESHOP_DOMAIN_ACCOUNT_LOGIN_THROTTLE_H
#define ICESHOP_DOMAIN_ACCOUNT_LOGIN_THROTTLE_H

#include "core/err.h"

#include <stdint.h>

struct login_throttle;

struct login_throttle_limits {
    int account_free;      /* failures per account before waits start (e.g. 5) */
    int address_free;      /* failures per address before waits start (e.g. 20) */
    int64_t first_wait_ms; /* the first wait; each further failure doubles it */
    int64_t max_wait_ms;   /* the cap on one wait */
    int64_t decay_ms;      /* a key with no failure for this long starts afresh */
    int max_hashing;       /* password hashes running at once */
    int max_keys;          /* keys remembered; the stalest is forgotten past it */
};

/* Defaults: 5 / 20 failures, 1 s doubling to 15 min, decay 15 min, 2 hashes, 10000 keys. */
void login_throttle_limits_default(struct login_throttle_limits *lim);
/*
 * Thread-safe object; owned by the caller, freed with login_throttle_free. Every function below
 * accepts NULL for `t` as "no throttle" (allows everything, counts nothing).
 */
struct login_throttle *login_throttle_new(const struct login_throttle_limits *lim);
void login_throttle_free(struct login_throttle *t);

/*
 * May `email` try to log in from `ip` at now_ms? 0, or ERR_RATE_LIMITED with *retry_s (>= 1)
 * the seconds until it may.
 */
int login_throttle_check(struct login_throttle *t, const char *email, const char *ip,
                         int64_t now_ms, int *retry_s, struct err *e);
/* A failed attempt: counts against both the account and the address. */
void login_throttle_fail(struct login_throttle *t, const char *email, const char *ip,
                         int64_t now_ms);
/* A successful login clears the account's count (not the address's). */
void login_throttle_success(struct login_throttle *t, const char *email);
/* Failed logins since start (for /metrics). */
uint64_t login_throttle_failures(struct login_throttle *t);
/* Logins refused by the throttle since start (for /metrics). */
uint64_t login_throttle_refusals(struct login_throttle *t);

/*
 * Take one of the max_hashing slots, waiting up to wait_ms; ERR_RATE_LIMITED when none freed.
 * Every successful enter is paired with login_throttle_hash_leave.
 */
int login_throttle_hash_enter(struct login_throttle *t, int64_t wait_ms, struct err *e);
void login_throttle_hash_leave(struct login_throttle *t);

#endif
