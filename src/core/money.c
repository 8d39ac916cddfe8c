/* SPDX-License-Identifier: MIT */
/*
 * Money (see money.h): the ISO 4217 table and decimal text ↔ minor units with checked integer
 * arithmetic. Tests: tests/unit/core/test_money.c.
 */
#include "core/money.h"

#include <string.h>

/*
 * ISO 4217 codes in use by the people we serve and by the payment providers we talk to, with
 * their exponents (ISO 4217 "minor unit" column). Sorted by code for a binary search.
 */
static const struct money_currency currencies[] = {
    {"AED", 2}, {"ARS", 2}, {"AUD", 2}, {"AZN", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0}, {"BRL", 2},
    {"CAD", 2}, {"CHF", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"CZK", 2}, {"DJF", 0},
    {"DKK", 2}, {"EGP", 2}, {"EUR", 2}, {"GBP", 2}, {"GEL", 2}, {"GNF", 0}, {"HKD", 2}, {"HUF", 2},
    {"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"ISK", 0}, {"JOD", 3}, {"JPY", 0}, {"KMF", 0},
    {"KRW", 0}, {"KWD", 3}, {"KZT", 2}, {"LYD", 3}, {"MAD", 2}, {"MXN", 2}, {"MYR", 2}, {"NGN", 2},
    {"NOK", 2}, {"NZD", 2}, {"OMR", 3}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2},
    {"RON", 2}, {"RSD", 2}, {"RUB", 2}, {"RWF", 0}, {"SAR", 2}, {"SEK", 2}, {"SGD", 2}, {"THB", 2},
    {"TND", 3}, {"TRY", 2}, {"TWD", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"UYI", 0}, {"UYU", 2},
    {"UYW", 4}, {"UZS", 2}, {"VND", 0}, {"VUV", 0}, {"XAF", 0}, {"XOF", 0}, {"XPF", 0}, {"ZAR", 2},
};
#define N_CURRENCIES (sizeof(currencies) / sizeof(currencies[0]))

static bool is_code(const char *s)
{
    if (!s)
        return false;
    for (int i = 0; i < 3; i++) {
        if (s[i] < 'A' || s[i] > 'Z')
            return false;
    }
    return s[3] == '\0';
}

int money_currency_find(const char *code, const struct money_currency **out, struct err *e)
{
    *out = NULL;
    if (!is_code(code))
        return err_set_field(e, ERR_INVALID, "currency",
                             "currency must be an ISO 4217 code of three upper-case letters");
    size_t lo = 0, hi = N_CURRENCIES;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(code, currencies[mid].code);
        if (c == 0) {
            *out = &currencies[mid];
            return 0;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return err_set_field(e, ERR_INVALID, "currency", "currency %s is not supported", code);
}

int money_from_minor(int64_t minor, const char *currency, struct money *out, struct err *e)
{
    const struct money_currency *cur;
    int rc = money_currency_find(currency, &cur, e);
    if (rc)
        return rc;
    out->minor = minor;
    out->currency = cur;
    return 0;
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static int amount_error(struct err *e, const char *why)
{
    return err_set_field(e, ERR_INVALID, "amount", "amount %s", why);
}

int money_parse(const char *text, const char *currency, unsigned flags, struct money *out,
                struct err *e)
{
    const struct money_currency *cur;
    int rc = money_currency_find(currency, &cur, e);
    if (rc)
        return rc;
    const char *p = text ? text : "";
    bool negative = *p == '-';
    if (negative) {
        if (!(flags & MONEY_ALLOW_NEGATIVE))
            return amount_error(e, "must not be negative");
        p++;
    }
    if (!is_digit(*p))
        return amount_error(e, "must be a decimal number such as 12.50");
    /*
     * Accumulate the magnitude as a negative number: int64's negative range is one larger, so
     * "-9223372036854775808" in a currency of exponent 0 still fits.
     */
    int64_t v = 0;
    for (; is_digit(*p); p++) {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_sub_overflow(v, *p - '0', &v))
            return amount_error(e, "is too large");
    }
    int decimals = 0;
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return amount_error(e, "needs digits after the decimal point");
        for (; is_digit(*p); p++, decimals++) {
            if (decimals == cur->exponent)
                return cur->exponent == 0 ? err_set_field(e, ERR_INVALID, "amount",
                                                          "amount in %s has no decimals", cur->code)
                                          : err_set_field(e, ERR_INVALID, "amount",
                                                          "amount in %s has at most %d decimals",
                                                          cur->code, cur->exponent);
            if (__builtin_mul_overflow(v, 10, &v) || __builtin_sub_overflow(v, *p - '0', &v))
                return amount_error(e, "is too large");
        }
    }
    if (*p)
        return amount_error(e, "must be a decimal number such as 12.50");
    for (; decimals < cur->exponent; decimals++) {
        if (__builtin_mul_overflow(v, 10, &v))
            return amount_error(e, "is too large");
    }
    if (!negative && v == INT64_MIN)
        return amount_error(e, "is too large");
    out->minor = negative ? v : -v;
    out->currency = cur;
    return 0;
}

int money_format(const struct money *m, char *buf, size_t n, struct err *e)
{
    if (!m->currency)
        return err_set_field(e, ERR_INVALID, "amount", "amount has no currency");
    /* Digits of the magnitude, least significant first; unsigned so INT64_MIN is fine. */
    uint64_t mag = m->minor < 0 ? (uint64_t)0 - (uint64_t)m->minor : (uint64_t)m->minor;
    char digits[24];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag);
    int exp = m->currency->exponent;
    while (nd <= exp) /* at least one digit before the point */
        digits[nd++] = '0';
    size_t need = (m->minor < 0 ? 1u : 0u) + (size_t)nd + (exp ? 1u : 0u) + 1u;
    if (!buf || n < need)
        return err_set_field(e, ERR_INVALID, "amount", "amount does not fit in %zu bytes", n);
    size_t o = 0;
    if (m->minor < 0)
        buf[o++] = '-';
    for (int i = nd - 1; i >= 0; i--) {
        buf[o++] = digits[i];
        if (i == exp && exp)
            buf[o++] = '.';
    }
    buf[o] = '\0';
    return 0;
}

int money_add(const struct money *a, const struct money *b, struct money *out, struct err *e)
{
    if (!a->currency || a->currency != b->currency)
        return err_set_field(e, ERR_INVALID, "currency", "cannot add %s to %s",
                             b->currency ? b->currency->code : "no currency",
                             a->currency ? a->currency->code : "no currency");
    int64_t sum;
    if (__builtin_add_overflow(a->minor, b->minor, &sum))
        return err_set_field(e, ERR_INVALID, "amount", "amount is too large");
    out->minor = sum;
    out->currency = a->currency;
    return 0;
}

bool money_eq(const struct money *a, const struct money *b)
{
    return a->currency == b->currency && a->minor == b->minor;
}
