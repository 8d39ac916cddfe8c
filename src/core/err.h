/* SPDX-License-Identifier: MIT */
/*
 * Error codes and the error struct every fallible function fills. Functions return the code
 * (0 = ok) and take `struct err *e` last. The first error set wins, so the root cause is kept.
 * Tests: tests/unit/core/test_core.c.
 */
#ifndef ICESHOP_CORE_ERR_H
#define ICESHOP_CORE_ERR_H

enum err_code {
    ERR_OK = 0,
    ERR_NOMEM,
    ERR_INVALID,      /* bad input: 400 */
    ERR_NOT_FOUND,    /* 404 */
    ERR_NOT_ALLOWED,  /* 405: method not allowed on this path */
    ERR_CONFLICT,     /* 409 */
    ERR_UNAUTHORIZED, /* 401: no or bad credentials */
    ERR_FORBIDDEN,    /* 403: authenticated, wrong role */
    ERR_TOO_LARGE,    /* 413 */
    ERR_UNSUPPORTED,  /* 415 */
    ERR_RATE_LIMITED, /* 429 */
    ERR_DB,
    ERR_UPSTREAM,
    ERR_TIMEOUT,
    ERR_INTERNAL,
    ERR_NOT_IMPLEMENTED, /* 501: e.g. a transfer coding the server does not implement */
};

struct err {
    enum err_code code;
    char msg[256];
    char field[64]; /* JSON path of the offending input, e.g. "location.lat"; may be empty */
};

/* Reset to "no error". */
void err_init(struct err *e);

/*
 * Record an error unless one is already recorded; returns the code of the recorded error
 * (which is `code` unless an earlier error is kept). `e` may be NULL.
 */
int err_set(struct err *e, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like err_set, and names the offending input field. */
int err_set_field(struct err *e, enum err_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Record this error even when one is already recorded: for replacing what a lower layer said
 * (a raw database message) with an error the caller can act on. `field` may be NULL.
 * Returns `code`. `e` may be NULL.
 */
int err_replace(struct err *e, enum err_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Stable machine-readable name of a code, e.g. "not_found". */
const char *err_code_name(enum err_code code);

#endif
