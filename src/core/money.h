/* SPDX-License-Identifier: MIT */
/*
 * Money: an integer count of the currency's minor units plus its ISO 4217 currency, whose
 * exponent says how many minor units make a major one (TRY 2: 1250 = 12.50; JPY 0; KWD 3).
 * Parsing and formatting work on decimal text with integers only: no floating point anywhere.
 * Pure; no I/O. Tests: tests/unit/core/test_money.c.
 */
#ifndef ICESHOP_CORE_MONEY_H
#define ICESHOP_CORE_MONEY_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One ISO 4217 currency: "TRY", 2. The table is static; pointers stay valid forever. */
struct money_currency {
    const char *code;
    int exponent; /* 0..4 */
};

struct money {
    int64_t minor; /* in the currency's minor units; may be negative (refunds, adjustments) */
    const struct money_currency *currency;
};

/* Longest text money_format writes: sign, 19 digits, point, NUL. */
#define MONEY_TEXT_MAX 24

/*
 * The currency with ISO 4217 code `code` (three upper-case letters, as ISO writes them).
 * ERR_INVALID with field "currency" for anything else, unknown codes included.
 */
int money_currency_find(const char *code, const struct money_currency **out, struct err *e);

/* `minor` units of `currency` (a code as above); ERR_INVALID (field "currency"). */
int money_from_minor(int64_t minor, const char *currency, struct money *out, struct err *e);

enum money_parse_flags {
    /* Accept a leading '-'. Without it a sign is refused, so a price can never be negative. */
    MONEY_ALLOW_NEGATIVE = 1u << 0,
};

/*
 * Parse a decimal amount of `currency`: digits, then optionally '.' and at most `exponent`
 * digits ("12.50", "12", "0.5" in TRY → 1250, 1200, 50; "1200" in JPY → 1200). A leading '-' is
 * accepted only with MONEY_ALLOW_NEGATIVE ("-0.5" → -50; "-0" → 0). Nothing else: no '+', no
 * spaces, no thousands separators, no exponent, no bare "." or ".5" or "5.", and no decimals
 * for a currency whose exponent is 0. Errors: ERR_INVALID with field "currency" (unknown code)
 * or "amount" (bad syntax, too many decimals, a refused sign, or a value outside int64 minor
 * units). *out is untouched on error.
 */
int money_parse(const char *text, const char *currency, unsigned flags, struct money *out,
                struct err *e);

/*
 * Write `m` as decimal text with exactly `exponent` decimals ("12.50", "-0.05", "1200" for
 * JPY, "1.234" for KWD) into buf (n bytes; MONEY_TEXT_MAX always fits). ERR_INVALID (field
 * "amount") when it does not fit or m has no currency.
 */
int money_format(const struct money *m, char *buf, size_t n, struct err *e);

/*
 * a + b into *out. ERR_INVALID (field "currency") when the currencies differ, (field "amount")
 * on overflow; *out is untouched on error.
 */
int money_add(const struct money *a, const struct money *b, struct money *out, struct err *e);

/* True when both have the same currency and amount. */
bool money_eq(const struct money *a, const struct money *b);

#endif
