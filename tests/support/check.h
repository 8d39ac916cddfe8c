/* SPDX-License-Identifier: MIT */
/*
 * Assertions for calls that take `struct err *e` last: write the call with a bare `e`, e.g.
 * OK(flash_store_buyer_get(c, t, "B1", false, a, &b, e)). OK fails the test with the error's
 * message and field; FAILS expects a code and leaves the error in `check_last` for field checks.
 */
#ifndef ICESHOP_TESTS_CHECK_H
#define ICESHOP_TESTS_CHECK_H

#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define OK(call)                                                                                   \
    do {                                                                                           \
        struct err e_;                                                                             \
        err_init(&e_);                                                                             \
        struct err *e = &e_;                                                                       \
        int rc_ = (call);                                                                          \
        if (rc_)                                                                                   \
            fail_msg("%s: rc %d: %s (field %s)", #call, rc_, e_.msg, e_.field);                    \
    } while (0)

/* The error of the last FAILS. */
static struct err check_last __attribute__((unused));

#define FAILS(code, call)                                                                          \
    do {                                                                                           \
        err_init(&check_last);                                                                     \
        struct err *e = &check_last;                                                               \
        int rc_ = (call);                                                                          \
        if (rc_ != (code))                                                                         \
            fail_msg("%s: rc %d, want %d (%s)", #call, rc_, (int)(code), check_last.msg);          \
    } while (0)

#endif
