/* SPDX-License-Identifier: MIT */
/*
 * The commerce rules (commerce.h): order status, field checks and totals. Pure: no I/O, no
 * clock. Tests: tests/unit/domain/test_commerce.c.
 */
#include "domain/commerce/commerce.h"
#include "core/str.h"

#include <stdio.h>
#include <string.h>

const char *const commerce_order_status_names[] = {
    "pending", "paid", "cancelled", "refunded", "fulfilled", "partially_refunded", NULL};

int commerce_order_status_parse(const char *text, const char *field,
                                enum commerce_order_status *out, struct err *e)
{
    if (text && strcmp(text, "placed") == 0) {
        *out = COMMERCE_ORDER_PENDING; /* the name before payments: not yet paid */
        return 0;
    }
    for (int i = 0; text && commerce_order_status_names[i]; i++) {
        if (strcmp(text, commerce_order_status_names[i]) == 0) {
            *out = (enum commerce_order_status)i;
            return 0;
        }
    }
    return err_set_field(
        e, ERR_INVALID, field,
        "%s must be one of: pending (or placed), paid, fulfilled, cancelled, refunded, "
        "partially_refunded",
        field);
}

bool commerce_order_status_counts(enum commerce_order_status s)
{
    return s == COMMERCE_ORDER_PENDING || s == COMMERCE_ORDER_PAID ||
           s == COMMERCE_ORDER_FULFILLED || s == COMMERCE_ORDER_PARTIALLY_REFUNDED;
}

int commerce_text_check(const char *s, const char *field, bool required, struct err *e)
{
    if (!s) {
        if (required)
            return err_set_field(e, ERR_INVALID, field, "%s is required", field);
        return 0;
    }
    size_t n = strlen(s);
    if (n == 0 || n > COMMERCE_TEXT_MAX)
        return err_set_field(e, ERR_INVALID, field, "%s must be 1..%d bytes", field,
                             COMMERCE_TEXT_MAX);
    if (!str_utf8_valid(s, n))
        return err_set_field(e, ERR_INVALID, field, "%s is not valid UTF-8", field);
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return err_set_field(e, ERR_INVALID, field, "%s contains a control character", field);
    }
    return 0;
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

int commerce_date_check(const char *s, const char *field, struct err *e)
{
    if (!s)
        return 0;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4) || !digits(s + 5, 2) ||
        !digits(s + 8, 2))
        return err_set_field(e, ERR_INVALID, field, "%s must be a date YYYY-MM-DD", field);
    int y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1800 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap))
        return err_set_field(e, ERR_INVALID, field, "%s is not a calendar date: %s", field, s);
    return 0;
}

int commerce_country_check(const char *s, const char *field, struct err *e)
{
    if (!s || strlen(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z')
        return err_set_field(e, ERR_INVALID, field,
                             "%s must be an ISO 3166-1 code of two upper-case letters", field);
    return 0;
}

int commerce_email_check(const char *s, const char *field, struct err *e)
{
    if (!s)
        return 0;
    int rc = commerce_text_check(s, field, false, e);
    if (rc)
        return rc;
    const char *at = strchr(s, '@');
    if (!at || at == s || !at[1] || strchr(at + 1, '@') || strchr(s, ' '))
        return err_set_field(e, ERR_INVALID, field, "%s is not an email address", field);
    return 0;
}

int commerce_source_check(const char *s, const char *field, struct err *e)
{
    size_t n = s ? strlen(s) : 0;
    bool ok = n >= 1 && n <= 64;
    for (size_t i = 0; ok && i < n; i++) {
        char c = s[i];
        ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    }
    if (!ok)
        return err_set_field(e, ERR_INVALID, field, "%s must be 1..64 of a-z 0-9 _ - .", field);
    return 0;
}

int commerce_items_total(const struct commerce_item *items, size_t n, int64_t *total, struct err *e)
{
    if (n == 0 || n > COMMERCE_ITEMS_MAX)
        return err_set_field(e, ERR_INVALID, "items", "items must hold 1..%d lines",
                             COMMERCE_ITEMS_MAX);
    int64_t sum = 0;
    char field[64];
    for (size_t i = 0; i < n; i++) {
        const struct commerce_item *it = &items[i];
        int64_t line;
        const char *bad = NULL;
        bool too_large = false;
        if (it->quantity < 1 || it->quantity > COMMERCE_QUANTITY_MAX)
            bad = "quantity";
        else if (it->unit_price < 0)
            bad = "unit_price";
        else if (it->list_price < 0)
            bad = "list_price";
        else if (__builtin_mul_overflow(it->unit_price, it->quantity, &line) ||
                 __builtin_add_overflow(sum, line, &sum))
            bad = "unit_price", too_large = true;
        if (!bad)
            continue;
        /* the field's name is made only for the error (a format per item cost 2 % of an import) */
        snprintf(field, sizeof(field), "items[%zu].%s", i, bad);
        if (strcmp(bad, "quantity") == 0)
            return err_set_field(e, ERR_INVALID, field, "%s must be 1..%d", field,
                                 COMMERCE_QUANTITY_MAX);
        if (too_large)
            return err_set_field(e, ERR_INVALID, field, "the total of the items is too large");
        return err_set_field(e, ERR_INVALID, field, "%s must not be negative", field);
    }
    *total = sum;
    return 0;
}

static int ids_check(const char *source, const char *external_id, struct err *e)
{
    int rc = commerce_source_check(source, "source", e);
    if (!rc)
        rc = commerce_text_check(external_id, "external_id", false, e);
    return rc;
}

int commerce_customer_check(const struct commerce_customer *c, struct err *e)
{
    int rc = ids_check(c->source, c->external_id, e);
    if (!rc)
        rc = commerce_text_check(c->name, "name", false, e);
    if (!rc)
        rc = commerce_email_check(c->email, "email", e);
    if (!rc)
        rc = commerce_text_check(c->phone, "phone", false, e);
    if (!rc)
        rc = commerce_date_check(c->birth_date, "birth_date", e);
    if (!rc)
        rc = commerce_text_check(c->gender, "gender", false, e);
    return rc;
}

int commerce_product_check(const struct commerce_product *p, struct err *e)
{
    int rc = ids_check(p->source, p->external_id, e);
    if (!rc)
        rc = commerce_text_check(p->name, "name", false, e);
    if (!rc && p->has_price && (p->price.minor < 0 || !p->price.currency))
        rc = err_set_field(e, ERR_INVALID, "price", "price must be a non-negative amount");
    if (!rc && p->stock < 0)
        rc = err_set_field(e, ERR_INVALID, "stock", "stock must not be negative");
    return rc;
}

int commerce_order_check(struct commerce_order *o, struct err *e)
{
    int rc = ids_check(o->source, o->external_id, e);
    if (!rc)
        rc = commerce_text_check(o->campaign, "campaign", false, e);
    if (!rc && !o->currency)
        rc = err_set_field(e, ERR_INVALID, "currency", "currency is required");
    if (!rc)
        rc = commerce_items_total(o->items, o->n_items, &o->total_amount, e);
    return rc;
}

int commerce_cart_check(struct commerce_cart *c, struct err *e)
{
    int rc = ids_check(c->source, c->external_id, e);
    if (!rc && !c->currency)
        rc = err_set_field(e, ERR_INVALID, "currency", "currency is required");
    if (!rc)
        rc = commerce_items_total(c->items, c->n_items, &c->total_amount, e);
    return rc;
}

int commerce_climate_check(const struct commerce_climate *m, size_t n, struct err *e)
{
    if (n != 12)
        return err_set_field(e, ERR_INVALID, "months", "months must hold the 12 months, got %zu",
                             n);
    bool seen[13] = {false};
    char field[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(field, sizeof(field), "months[%zu].month", i);
        if (m[i].month < 1 || m[i].month > 12)
            return err_set_field(e, ERR_INVALID, field, "%s must be 1..12", field);
        if (seen[m[i].month])
            return err_set_field(e, ERR_INVALID, field, "month %d is given twice", m[i].month);
        seen[m[i].month] = true;
        snprintf(field, sizeof(field), "months[%zu].avg_temp_c", i);
        if (m[i].has_avg_temp_c && !(m[i].avg_temp_c >= -90 && m[i].avg_temp_c <= 60))
            return err_set_field(e, ERR_INVALID, field, "%s must be in -90..60", field);
        snprintf(field, sizeof(field), "months[%zu].rainfall_mm", i);
        if (m[i].has_rainfall_mm && !(m[i].rainfall_mm >= 0 && m[i].rainfall_mm <= 100000))
            return err_set_field(e, ERR_INVALID, field, "%s must be in 0..100000", field);
        snprintf(field, sizeof(field), "months[%zu].humidity_pct", i);
        if (m[i].has_humidity_pct && !(m[i].humidity_pct >= 0 && m[i].humidity_pct <= 100))
            return err_set_field(e, ERR_INVALID, field, "%s must be in 0..100", field);
        snprintf(field, sizeof(field), "months[%zu].season_tag", i);
        int rc = commerce_text_check(m[i].season_tag, field, false, e);
        if (rc)
            return rc;
    }
    return 0;
}
