/* SPDX-License-Identifier: MIT */
/*
 * Bulk import (import.h): the line splitter, the NDJSON and CSV parsers (a CSV row becomes the
 * same JSON object an NDJSON line is, so both share one set of checks), and the batches that
 * write records through commerce_store. Tests: tests/unit/domain/test_commerce_import.c.
 */
#include "domain/commerce/import.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "domain/commerce/commerce_store.h"
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_MAX (256 * 1024) /* external ids remembered per kind before the cache starts over */

const char *const import_kind_names[] = {"customers", "products", "orders", NULL};

/* ======================== field readers ======================== */

/* Rename the field of the error just set (the getters name paths relative to an item). */
static int prefix_field(struct err *e, const char *prefix)
{
    char field[160], msg[400]; /* room for both; err_replace keeps what fits */
    snprintf(field, sizeof(field), "%s%s", prefix, e->field);
    snprintf(msg, sizeof(msg), "%s%s", prefix, e->msg);
    return err_replace(e, e->code, field, "%s", msg);
}

/* Text member `key`: absent, null or "" give NULL; anything but a string is refused. */
static int opt_text(json_t *o, const char *key, struct arena *a, const char **out, struct err *e)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return err_set_field(e, ERR_INVALID, key, "%s must be a string", key);
    size_t n = json_string_length(v);
    if (n == 0)
        return 0;
    if (n > COMMERCE_TEXT_MAX)
        return err_set_field(e, ERR_INVALID, key, "%s must be 1..%d bytes", key, COMMERCE_TEXT_MAX);
    *out = arena_strndup(a, json_string_value(v), n);
    return commerce_text_check(*out, key, false, e);
}

static int req_text(json_t *o, const char *key, struct arena *a, const char **out, struct err *e)
{
    int rc = opt_text(o, key, a, out, e);
    if (!rc && !*out)
        rc = err_set_field(e, ERR_INVALID, key, "%s is required", key);
    return rc;
}

/* An integer member: a JSON integer or decimal digits in a string (CSV). */
static int opt_int(json_t *o, const char *key, int64_t lo, int64_t hi, bool *has, int64_t *out,
                   struct err *e)
{
    json_t *v = json_object_get(o, key);
    *has = false;
    if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
        return 0;
    int64_t x;
    if (json_is_integer(v))
        x = (int64_t)json_integer_value(v);
    else if (!json_is_string(v) || str_to_i64(json_string_value(v), &x))
        return err_set_field(e, ERR_INVALID, key, "%s must be an integer", key);
    if (x < lo || x > hi)
        return err_set_field(e, ERR_INVALID, key, "%s must be in %lld..%lld", key, (long long)lo,
                             (long long)hi);
    *has = true;
    *out = x;
    return 0;
}

static int opt_bool(json_t *o, const char *key, bool *out, struct err *e)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
        return 0;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 0;
    }
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
        *out = true;
    else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
        *out = false;
    else
        return err_set_field(e, ERR_INVALID, key, "%s must be true or false", key);
    return 0;
}

/* A decimal amount in the currency's major unit, given as text ("11.77"). */
static int amount(json_t *o, const char *key, const struct money_currency *cur, int64_t *minor,
                  struct err *e)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return err_set_field(e, ERR_INVALID, key, "%s is required", key);
    if (!json_is_string(v))
        return err_set_field(e, ERR_INVALID, key, "%s must be decimal text such as \"11.77\"", key);
    struct money m;
    struct err me;
    err_init(&me);
    if (money_parse(json_string_value(v), cur->code, 0, &m, &me))
        return err_set_field(e, ERR_INVALID, key, "%s: %s", key, me.msg);
    *minor = m.minor;
    return 0;
}

static int currency(json_t *o, const char *key, bool required, const struct money_currency **out,
                    struct err *e)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        if (required)
            return err_set_field(e, ERR_INVALID, key, "%s is required", key);
        return 0;
    }
    struct err me;
    err_init(&me);
    if (!json_is_string(v) || money_currency_find(json_string_value(v), out, &me))
        return err_set_field(e, ERR_INVALID, key, "%s must be a known ISO 4217 code", key);
    return 0;
}

/* ======================== records from objects ======================== */

static int customer_from(json_t *o, struct arena *a, struct commerce_customer *cu,
                         const char **city_ext, struct err *e)
{
    memset(cu, 0, sizeof(*cu));
    cu->is_active = true;
    cu->source = IMPORT_SOURCE_DEFAULT;
    int rc = req_text(o, "external_id", a, &cu->external_id, e);
    if (!rc)
        rc = opt_text(o, "name", a, &cu->name, e);
    if (!rc)
        rc = opt_text(o, "email", a, &cu->email, e);
    if (!rc)
        rc = commerce_email_check(cu->email, "email", e);
    if (!rc)
        rc = opt_text(o, "phone", a, &cu->phone, e);
    if (!rc)
        rc = opt_text(o, "birth_date", a, &cu->birth_date, e);
    if (!rc)
        rc = commerce_date_check(cu->birth_date, "birth_date", e);
    if (!rc)
        rc = opt_text(o, "gender", a, &cu->gender, e);
    if (!rc)
        rc = opt_text(o, "city_external_id", a, city_ext, e);
    if (!rc)
        rc = opt_bool(o, "is_active", &cu->is_active, e);
    return rc;
}

static int product_from(json_t *o, struct arena *a, struct commerce_product *pr,
                        const char **cat_ext, const char **cat_name, struct err *e)
{
    memset(pr, 0, sizeof(*pr));
    pr->source = IMPORT_SOURCE_DEFAULT;
    const struct money_currency *cur = NULL;
    bool has_stock = false;
    int rc = req_text(o, "external_id", a, &pr->external_id, e);
    if (!rc)
        rc = opt_text(o, "name", a, &pr->name, e);
    if (!rc)
        rc = opt_text(o, "category_external_id", a, cat_ext, e);
    if (!rc)
        rc = opt_text(o, "category_name", a, cat_name, e);
    if (!rc)
        rc = currency(o, "currency", false, &cur, e);
    json_t *price = json_object_get(o, "price");
    bool has_price =
        price && !json_is_null(price) && !(json_is_string(price) && json_string_length(price) == 0);
    if (!rc && has_price && !cur)
        rc = err_set_field(e, ERR_INVALID, "currency", "currency is required with a price");
    if (!rc && has_price) {
        rc = amount(o, "price", cur, &pr->price.minor, e);
        pr->price.currency = cur;
        pr->has_price = !rc;
    }
    if (!rc)
        rc = opt_int(o, "stock", 0, INT64_MAX, &has_stock, &pr->stock, e);
    return rc;
}

static int item_from(json_t *it, size_t i, const struct money_currency *cur, struct arena *a,
                     struct commerce_item *out, struct err *e)
{
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "items[%zu].", i);
    memset(out, 0, sizeof(*out));
    if (!json_is_object(it))
        return err_set_field(e, ERR_INVALID, "items", "%sitems must be objects", prefix);
    bool has_q = false;
    int rc = req_text(it, "product_external_id", a, &out->product_external_id, e);
    if (!rc)
        rc = opt_int(it, "quantity", 1, COMMERCE_QUANTITY_MAX, &has_q, &out->quantity, e);
    if (!rc && !has_q)
        rc = err_set_field(e, ERR_INVALID, "quantity", "quantity is required");
    if (!rc)
        rc = amount(it, "unit_price", cur, &out->unit_price, e);
    json_t *lp = json_object_get(it, "list_price");
    if (!rc && lp && !json_is_null(lp) && !(json_is_string(lp) && json_string_length(lp) == 0))
        rc = amount(it, "list_price", cur, &out->list_price, e);
    return rc ? prefix_field(e, prefix) : 0;
}

static int order_header_from(json_t *o, struct arena *a, struct commerce_order *ord, struct err *e)
{
    memset(ord, 0, sizeof(*ord));
    ord->source = IMPORT_SOURCE_DEFAULT;
    const char *created = NULL, *status = NULL;
    int rc = req_text(o, "external_id", a, &ord->external_id, e);
    if (!rc)
        rc = req_text(o, "customer_external_id", a, &ord->customer_external_id, e);
    if (!rc)
        rc = req_text(o, "created_at", a, &created, e);
    if (!rc && clock_parse_iso(created, &ord->created_at))
        rc = err_set_field(e, ERR_INVALID, "created_at",
                           "created_at must be an ISO-8601 time such as 2026-01-31T10:00:00Z");
    if (!rc)
        rc = currency(o, "currency", true, &ord->currency, e);
    if (!rc)
        rc = opt_text(o, "status", a, &status, e);
    if (!rc && status)
        rc = commerce_order_status_parse(status, "status", &ord->status, e);
    if (!rc)
        rc = opt_text(o, "campaign", a, &ord->campaign, e);
    return rc;
}

static int order_from(json_t *o, struct arena *a, struct commerce_order *ord, struct err *e)
{
    int rc = order_header_from(o, a, ord, e);
    json_t *items = json_object_get(o, "items");
    if (!rc && (!json_is_array(items) || json_array_size(items) == 0))
        rc = err_set_field(e, ERR_INVALID, "items", "items must be a non-empty array");
    if (!rc && json_array_size(items) > COMMERCE_ITEMS_MAX)
        rc = err_set_field(e, ERR_INVALID, "items", "items must hold at most %d lines",
                           COMMERCE_ITEMS_MAX);
    if (rc)
        return rc;
    ord->n_items = json_array_size(items);
    ord->items = arena_alloc(a, ord->n_items * sizeof(*ord->items));
    for (size_t i = 0; !rc && i < ord->n_items; i++)
        rc = item_from(json_array_get(items, i), i, ord->currency, a, &ord->items[i], e);
    if (!rc)
        rc = commerce_items_total(ord->items, ord->n_items, &ord->total_amount, e);
    return rc;
}

/* Parse a line that must be one JSON object; `root` lives until `scratch` is released. */
static int line_object(const char *line, size_t len, struct arena *scratch, json_t **root,
                       struct err *e)
{
    struct err je;
    err_init(&je);
    if (json_parse_object(line, len, scratch, root, &je))
        return err_set_field(e, ERR_INVALID, "line", "%s", je.msg);
    return 0;
}

/* ======================== plain order lines without jansson ======================== */

/*
 * Most order lines are plain: one object whose strings are printable ASCII without escapes,
 * whose numbers are small integers, with the items array and nothing else nested. fast_order()
 * reads such a line straight into the record, at a fraction of the cost of a jansson tree
 * (which was a quarter of an import's time). It declines anything else (an escape, a byte
 * outside printable ASCII, a fraction or exponent, nesting in an unknown member, a duplicate
 * member, more than FAST_ITEMS_MAX items) and any value the checks would refuse; the line then
 * takes the jansson path, which
 * gives the same record or names the fault. So both paths agree on every line.
 */

enum fast_type { FAST_ABSENT = 0, FAST_NULL, FAST_STR, FAST_INT, FAST_OTHER };

struct fast_val {
    enum fast_type type;
    const char *s; /* FAST_STR: the text between the quotes */
    size_t len;
    int64_t i; /* FAST_INT */
};

struct fast_item {
    struct fast_val product, quantity, unit_price, list_price;
};

struct fast_scan {
    const char *p, *end;
};

static void fast_ws(struct fast_scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
        s->p++;
}

static bool fast_char(struct fast_scan *s, char c)
{
    fast_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

/* A string of printable ASCII without escapes. */
static bool fast_string(struct fast_scan *s, const char **out, size_t *len)
{
    if (!fast_char(s, '"'))
        return false;
    const char *start = s->p;
    for (; s->p < s->end; s->p++) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            *out = start;
            *len = (size_t)(s->p - start);
            s->p++;
            return true;
        }
        if (c < 0x20 || c >= 0x7f || c == '\\')
            return false;
    }
    return false;
}

/* A scalar: string, integer of at most 18 digits without leading zeros, true, false, null. */
static bool fast_value(struct fast_scan *s, struct fast_val *v)
{
    fast_ws(s);
    if (s->p >= s->end)
        return false;
    char c = *s->p;
    if (c == '"') {
        v->type = FAST_STR;
        return fast_string(s, &v->s, &v->len);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        bool neg = c == '-';
        if (neg)
            s->p++;
        const char *d = s->p;
        int64_t x = 0;
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9' && s->p - d < 19)
            x = x * 10 + (*s->p++ - '0');
        size_t n = (size_t)(s->p - d);
        if (n == 0 || n > 18 || (n > 1 && *d == '0'))
            return false;
        if (s->p < s->end &&
            (*s->p == '.' || *s->p == 'e' || *s->p == 'E' || (*s->p >= '0' && *s->p <= '9')))
            return false;
        v->type = FAST_INT;
        v->i = neg ? -x : x;
        return true;
    }
    static const struct {
        const char *word;
        size_t len;
        enum fast_type type;
    } words[] = {{"null", 4, FAST_NULL}, {"true", 4, FAST_OTHER}, {"false", 5, FAST_OTHER}};
    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
        if ((size_t)(s->end - s->p) >= words[k].len &&
            memcmp(s->p, words[k].word, words[k].len) == 0) {
            s->p += words[k].len;
            v->type = words[k].type;
            return true;
        }
    }
    return false;
}

/*
 * The members of one object: known keys fill their slot of `vals`; the slot of "items" (when
 * `items` is given) takes an array of item objects. Unknown members with scalar values are
 * passed over as jansson would ignore them; duplicates of any key decline.
 */
#define FAST_UNKNOWN_MAX 16
#define FAST_ITEMS_MAX   32 /* items of a line read here; a longer order takes the jansson path */

static bool fast_items(struct fast_scan *s, struct fast_item *items, size_t *n);

static bool fast_object(struct fast_scan *s, const char *const *keys, struct fast_val *vals,
                        int items_key, struct fast_item *items, size_t *n_items)
{
    const char *unknown[FAST_UNKNOWN_MAX];
    size_t unknown_len[FAST_UNKNOWN_MAX], n_unknown = 0;
    bool seen_items = false;
    if (!fast_char(s, '{') || fast_char(s, '}'))
        return false;
    do {
        const char *key;
        size_t len;
        if (!fast_string(s, &key, &len) || !fast_char(s, ':'))
            return false;
        int k = 0;
        while (keys[k] && !(strlen(keys[k]) == len && memcmp(keys[k], key, len) == 0))
            k++;
        if (keys[k] && k == items_key) {
            if (seen_items || !fast_items(s, items, n_items))
                return false;
            seen_items = true;
            vals[k].type = FAST_OTHER;
            continue;
        }
        struct fast_val v;
        if (!fast_value(s, &v))
            return false;
        if (keys[k]) {
            if (vals[k].type != FAST_ABSENT)
                return false;
            vals[k] = v;
            continue;
        }
        for (size_t u = 0; u < n_unknown; u++)
            if (unknown_len[u] == len && memcmp(unknown[u], key, len) == 0)
                return false;
        if (n_unknown == FAST_UNKNOWN_MAX)
            return false;
        unknown[n_unknown] = key;
        unknown_len[n_unknown++] = len;
    } while (fast_char(s, ','));
    return fast_char(s, '}');
}

static const char *const fast_item_keys[] = {"product_external_id", "quantity", "unit_price",
                                             "list_price", NULL};

static bool fast_items(struct fast_scan *s, struct fast_item *items, size_t *n)
{
    *n = 0;
    if (!fast_char(s, '[') || fast_char(s, ']'))
        return false;
    do {
        if (*n == FAST_ITEMS_MAX)
            return false;
        struct fast_val vals[4] = {0};
        if (!fast_object(s, fast_item_keys, vals, -1, NULL, NULL))
            return false;
        items[*n].product = vals[0];
        items[*n].quantity = vals[1];
        items[*n].unit_price = vals[2];
        items[*n].list_price = vals[3];
        (*n)++;
    } while (fast_char(s, ','));
    return fast_char(s, ']');
}

static bool fast_blank(const struct fast_val *v)
{
    return v->type == FAST_ABSENT || v->type == FAST_NULL || (v->type == FAST_STR && !v->len);
}

/* What opt_text would keep (NULL for a blank value); false where opt_text would refuse. */
static bool fast_text(const struct fast_val *v, const char *key, struct arena *a, const char **out)
{
    *out = NULL;
    if (fast_blank(v))
        return true;
    if (v->type != FAST_STR || v->len > COMMERCE_TEXT_MAX)
        return false;
    struct err te;
    err_init(&te);
    *out = arena_strndup(a, v->s, v->len);
    return commerce_text_check(*out, key, false, &te) == 0;
}

/* What amount() would give; false where it would refuse. */
static bool fast_amount(const struct fast_val *v, const struct money_currency *cur, int64_t *minor)
{
    char text[64];
    if (v->type != FAST_STR || !v->len || v->len >= sizeof(text))
        return false;
    memcpy(text, v->s, v->len);
    text[v->len] = '\0';
    struct money m;
    struct err me;
    err_init(&me);
    if (money_parse(text, cur->code, 0, &m, &me))
        return false;
    *minor = m.minor;
    return true;
}

enum { F_EXT, F_CUSTOMER, F_CREATED, F_CURRENCY, F_STATUS, F_CAMPAIGN, F_ITEMS, F_N };
static const char *const fast_order_keys[] = {
    "external_id", "customer_external_id", "created_at", "currency", "status", "campaign", "items",
    NULL};

/* The record order_from() would make of the line, or false to let it decide. */
static bool fast_order(const char *line, size_t len, struct arena *a, struct commerce_order *ord)
{
    struct fast_scan s = {line, line + len};
    struct fast_val v[F_N] = {0};
    struct fast_item items[FAST_ITEMS_MAX];
    size_t n = 0;
    if (!fast_object(&s, fast_order_keys, v, F_ITEMS, items, &n))
        return false;
    fast_ws(&s);
    if (s.p != s.end || v[F_ITEMS].type == FAST_ABSENT)
        return false;
    memset(ord, 0, sizeof(*ord));
    ord->source = IMPORT_SOURCE_DEFAULT;
    const char *created, *status;
    char code[8];
    struct err fe;
    err_init(&fe);
    if (!fast_text(&v[F_EXT], "external_id", a, &ord->external_id) || !ord->external_id ||
        !fast_text(&v[F_CUSTOMER], "customer_external_id", a, &ord->customer_external_id) ||
        !ord->customer_external_id || !fast_text(&v[F_CREATED], "created_at", a, &created) ||
        !created || clock_parse_iso(created, &ord->created_at))
        return false;
    if (v[F_CURRENCY].type != FAST_STR || !v[F_CURRENCY].len || v[F_CURRENCY].len >= sizeof(code))
        return false;
    memcpy(code, v[F_CURRENCY].s, v[F_CURRENCY].len);
    code[v[F_CURRENCY].len] = '\0';
    if (money_currency_find(code, &ord->currency, &fe) ||
        !fast_text(&v[F_STATUS], "status", a, &status) ||
        (status && commerce_order_status_parse(status, "status", &ord->status, &fe)) ||
        !fast_text(&v[F_CAMPAIGN], "campaign", a, &ord->campaign))
        return false;
    ord->n_items = n;
    ord->items = arena_alloc(a, n * sizeof(*ord->items));
    for (size_t i = 0; i < n; i++) {
        struct commerce_item *it = &ord->items[i];
        const struct fast_item *f = &items[i];
        memset(it, 0, sizeof(*it));
        if (!fast_text(&f->product, "product_external_id", a, &it->product_external_id) ||
            !it->product_external_id || f->quantity.type != FAST_INT || f->quantity.i < 1 ||
            f->quantity.i > COMMERCE_QUANTITY_MAX ||
            !fast_amount(&f->unit_price, ord->currency, &it->unit_price))
            return false;
        it->quantity = f->quantity.i;
        if (!fast_blank(&f->list_price) &&
            !fast_amount(&f->list_price, ord->currency, &it->list_price))
            return false;
    }
    return commerce_items_total(ord->items, ord->n_items, &ord->total_amount, &fe) == 0;
}

int import_parse_customer_json(const char *line, size_t len, struct arena *a,
                               struct commerce_customer *out, const char **city_external_id,
                               struct err *e)
{
    struct arena scratch;
    arena_init(&scratch);
    json_t *o;
    *city_external_id = NULL;
    int rc = line_object(line, len, &scratch, &o, e);
    if (!rc)
        rc = customer_from(o, a, out, city_external_id, e);
    arena_release(&scratch);
    return rc;
}

int import_parse_product_json(const char *line, size_t len, struct arena *a,
                              struct commerce_product *out, const char **category_external_id,
                              const char **category_name, struct err *e)
{
    struct arena scratch;
    arena_init(&scratch);
    json_t *o;
    *category_external_id = *category_name = NULL;
    int rc = line_object(line, len, &scratch, &o, e);
    if (!rc)
        rc = product_from(o, a, out, category_external_id, category_name, e);
    arena_release(&scratch);
    return rc;
}

int import_parse_order_json(const char *line, size_t len, struct arena *a,
                            struct commerce_order *out, struct err *e)
{
    if (fast_order(line, len, a, out))
        return 0;
    struct arena scratch;
    arena_init(&scratch);
    json_t *o;
    int rc = line_object(line, len, &scratch, &o, e);
    if (!rc)
        rc = order_from(o, a, out, e);
    arena_release(&scratch);
    return rc;
}

/* ======================== CSV ======================== */

int import_csv_split(const char *rec, size_t len, struct arena *a, char ***fields, size_t *n,
                     struct err *e)
{
    size_t cap = 0, count = 0;
    char **out = NULL;
    char *val = arena_alloc(a, len + 1); /* every field fits: the record's own length */
    size_t i = 0;
    for (;;) {
        size_t v = 0;
        if (i < len && rec[i] == '"') {
            i++;
            for (;;) {
                if (i >= len)
                    return err_set_field(e, ERR_INVALID, "line",
                                         "field %zu: a quoted field is not closed", count + 1);
                if (rec[i] == '"') {
                    if (i + 1 < len && rec[i + 1] == '"') {
                        val[v++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                val[v++] = rec[i++];
            }
            if (i < len && rec[i] != ',')
                return err_set_field(e, ERR_INVALID, "line",
                                     "field %zu: text after the closing quote", count + 1);
        } else {
            while (i < len && rec[i] != ',') {
                if (rec[i] == '"')
                    return err_set_field(e, ERR_INVALID, "line",
                                         "field %zu: a quote inside an unquoted field", count + 1);
                val[v++] = rec[i++];
            }
        }
        out = arena_grow(a, out, count, &cap, sizeof(*out));
        out[count++] = arena_strndup(a, val, v);
        if (i >= len)
            break;
        i++; /* the comma */
    }
    *fields = out;
    *n = count;
    return 0;
}

/* The columns each kind accepts in CSV; the first is required. */
static const char *const csv_columns[][12] = {
    [IMPORT_CUSTOMERS] = {"external_id", "name", "email", "phone", "birth_date", "gender",
                          "city_external_id", "is_active", NULL},
    [IMPORT_PRODUCTS] = {"external_id", "name", "category_external_id", "category_name", "price",
                         "currency", "stock", NULL},
    [IMPORT_ORDERS] = {"external_id", "customer_external_id", "created_at", "currency", "status",
                       "product_external_id", "quantity", "unit_price", "campaign", "list_price",
                       NULL},
};

/* ======================== the session ======================== */

struct cache_slot {
    char *key;
    int64_t pk;
};

/* external id → pk of rows known committed (cleared when a batch rolls back) */
struct cache {
    struct cache_slot *slots;
    size_t cap, n;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void cache_clear(struct cache *c)
{
    for (size_t i = 0; i < c->cap; i++)
        free(c->slots[i].key);
    free(c->slots);
    memset(c, 0, sizeof(*c));
}

static int64_t cache_get(const struct cache *c, const char *key)
{
    if (!c->cap)
        return 0;
    for (size_t i = hash(key) & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        if (!c->slots[i].key)
            return 0;
        if (strcmp(c->slots[i].key, key) == 0)
            return c->slots[i].pk;
    }
}

static void cache_put(struct cache *c, const char *key, int64_t pk)
{
    if (c->n >= CACHE_MAX)
        cache_clear(c);
    if ((c->n + 1) * 2 > c->cap) {
        struct cache old = *c;
        c->cap = old.cap ? old.cap * 2 : 1024;
        c->slots = xcalloc(c->cap, sizeof(*c->slots));
        c->n = 0;
        for (size_t i = 0; i < old.cap; i++) {
            if (old.slots[i].key) {
                size_t j = hash(old.slots[i].key) & (c->cap - 1);
                while (c->slots[j].key)
                    j = (j + 1) & (c->cap - 1);
                c->slots[j] = old.slots[i];
                c->n++;
            }
        }
        free(old.slots);
    }
    size_t i = hash(key) & (c->cap - 1);
    while (c->slots[i].key && strcmp(c->slots[i].key, key) != 0)
        i = (i + 1) & (c->cap - 1);
    if (!c->slots[i].key) {
        c->slots[i].key = xstrdup(key);
        c->n++;
    }
    c->slots[i].pk = pk;
}

/* One parsed record waiting in the batch. */
struct rec {
    int64_t line;
    bool rejected;
    union {
        struct {
            struct commerce_customer cu;
            const char *city_ext;
        } customer;
        struct {
            struct commerce_product pr;
            const char *cat_ext, *cat_name;
        } product;
        struct commerce_order order;
    } u;
};

struct import {
    struct db_conn *c;
    int64_t tenant;
    enum import_kind kind;
    enum import_format format;
    char source[65];
    int64_t now;
    struct import_result res;

    /* the record being read */
    struct buf line;
    bool in_quotes, skipping, at_start;
    int64_t line_no, rec_line;

    /* CSV */
    bool have_header;
    int col_of[12]; /* csv_columns index → field index in a row, or -1 */
    size_t n_cols;

    /* CSV orders: the order whose rows are being gathered, and an order being skipped */
    struct arena pend_arena;
    bool have_pending;
    struct commerce_order pending;
    size_t pending_cap;
    int64_t pending_line;
    char *bad_order; /* external id of an order with a rejected row (xmalloc) */

    /* the batch */
    struct arena batch_arena;
    struct rec *batch;
    size_t n_batch, batch_cap;

    struct cache customers, products, categories, cities;
    bool failed;
    int64_t batches; /* flushed so far: the time of a batch's public ids is now + batches (ms) */
};

const struct import_result *import_result(const struct import *im)
{
    return &im->res;
}

int import_new(struct db_conn *c, int64_t tenant, enum import_kind kind, enum import_format format,
               const char *source, int64_t now_ms, struct import **out, struct err *e)
{
    if (!source)
        source = IMPORT_SOURCE_DEFAULT;
    int rc = commerce_source_check(source, "source", e);
    if (rc)
        return rc;
    struct import *im = xcalloc(1, sizeof(*im));
    im->c = c;
    im->tenant = tenant;
    im->kind = kind;
    im->format = format;
    str_copy(im->source, sizeof(im->source), source);
    im->now = now_ms;
    im->at_start = true;
    im->line_no = 1;
    im->rec_line = 1;
    buf_init(&im->line, IMPORT_LINE_MAX);
    arena_init(&im->pend_arena);
    arena_init(&im->batch_arena);
    *out = im;
    return 0;
}

void import_free(struct import *im)
{
    if (!im)
        return;
    buf_release(&im->line);
    arena_release(&im->pend_arena);
    arena_release(&im->batch_arena);
    cache_clear(&im->customers);
    cache_clear(&im->products);
    cache_clear(&im->categories);
    cache_clear(&im->cities);
    free(im->bad_order);
    free(im);
}

/* Keep the IMPORT_REJECTS_MAX rejects with the lowest line numbers, in line order. */
static void reject(struct import *im, int64_t line, const char *field, const char *reason)
{
    struct import_result *r = &im->res;
    r->rejected++;
    size_t pos = r->n_rejects;
    while (pos > 0 && r->rejects[pos - 1].line > line)
        pos--;
    if (pos >= IMPORT_REJECTS_MAX)
        return;
    size_t keep = r->n_rejects < IMPORT_REJECTS_MAX ? r->n_rejects : IMPORT_REJECTS_MAX - 1;
    memmove(&r->rejects[pos + 1], &r->rejects[pos], (keep - pos) * sizeof(r->rejects[0]));
    if (r->n_rejects < IMPORT_REJECTS_MAX)
        r->n_rejects++;
    struct import_reject *x = &r->rejects[pos];
    x->line = line;
    str_copy(x->field, sizeof(x->field), field ? field : "");
    str_utf8_scrub(x->reason, sizeof(x->reason), reason);
}

static void reject_err(struct import *im, int64_t line, const struct err *e)
{
    reject(im, line, e->field[0] ? e->field : "line", e->msg[0] ? e->msg : "rejected");
}

/* ---- writing one record ---- */

/*
 * A cached or looked-up pk of `table`'s row with this external id, created when `ensure`.
 * ERR_NOT_FOUND naming `field` when it does not exist and may not be created.
 */
static int ref_pk(struct import *im, struct cache *cache, const char *table, const char *ext,
                  const char *name, const char *field, int64_t *pk, struct err *e)
{
    *pk = cache_get(cache, ext);
    if (*pk)
        return 0;
    int rc;
    bool created = false;
    if (strcmp(table, "customer") == 0)
        rc = commerce_store_customer_ensure(im->c, im->tenant, im->source, ext, im->now, pk,
                                            &created, e);
    else if (strcmp(table, "product") == 0)
        rc = commerce_store_product_ensure(im->c, im->tenant, im->source, ext, im->now, pk,
                                           &created, e);
    else if (strcmp(table, "category") == 0)
        rc = commerce_store_category_ensure(im->c, im->tenant, im->source, ext, name, im->now, pk,
                                            &created, e);
    else
        rc = commerce_store_city_by_external(im->c, im->tenant, im->source, ext, pk, e);
    if (!rc && !*pk)
        return err_set_field(e, ERR_NOT_FOUND, field, "no %s with external_id %s", table, ext);
    if (!rc)
        cache_put(cache, ext, *pk);
    return rc;
}

/* An order's customer and products, created when missing (an order is never refused here). */
static int order_refs(struct import *im, struct commerce_order *o, struct err *e)
{
    o->source = im->source;
    int rc = ref_pk(im, &im->customers, "customer", o->customer_external_id, NULL,
                    "customer_external_id", &o->customer_pk, e);
    for (size_t i = 0; !rc && i < o->n_items; i++)
        rc = ref_pk(im, &im->products, "product", o->items[i].product_external_id, NULL,
                    "product_external_id", &o->items[i].product_pk, e);
    return rc;
}

/*
 * Write one record. *refused tells that the record itself is at fault and nothing of it was
 * written (its error is in `e`); any other error spoils the transaction.
 */
static int apply(struct import *im, struct rec *r, bool *inserted, bool *refused, struct err *e)
{
    *refused = false;
    int rc = 0;
    switch (im->kind) {
    case IMPORT_CUSTOMERS: {
        struct commerce_customer *cu = &r->u.customer.cu;
        cu->source = im->source;
        if (r->u.customer.city_ext) {
            rc = ref_pk(im, &im->cities, "city", r->u.customer.city_ext, NULL, "city_external_id",
                        &cu->city_pk, e);
            if (rc == ERR_NOT_FOUND) {
                *refused = true;
                return rc;
            }
        }
        if (!rc)
            rc = commerce_store_customer_upsert(im->c, im->tenant, cu, im->now, inserted, e);
        break;
    }
    case IMPORT_PRODUCTS: {
        struct commerce_product *pr = &r->u.product.pr;
        pr->source = im->source;
        if (r->u.product.cat_ext)
            rc = ref_pk(im, &im->categories, "category", r->u.product.cat_ext,
                        r->u.product.cat_name, "category_external_id", &pr->category_pk, e);
        if (!rc)
            rc = commerce_store_product_upsert(im->c, im->tenant, pr, im->now, inserted, e);
        break;
    }
    case IMPORT_ORDERS: {
        struct commerce_order *o = &r->u.order;
        rc = order_refs(im, o, e);
        if (!rc)
            rc = commerce_store_order_upsert(im->c, im->tenant, o, im->now, inserted, e);
        break;
    }
    }
    return rc;
}

static void batch_reset(struct import *im)
{
    arena_release(&im->batch_arena);
    arena_init(&im->batch_arena);
    im->batch = NULL;
    im->n_batch = im->batch_cap = 0;
}

static void forget_refs(struct import *im)
{
    cache_clear(&im->customers);
    cache_clear(&im->products);
    cache_clear(&im->categories);
    cache_clear(&im->cities);
}

/* After a batch failed as a whole: each record in its own transaction, the bad ones rejected. */
static int replay(struct import *im, struct err *e)
{
    for (size_t i = 0; i < im->n_batch; i++) {
        struct rec *r = &im->batch[i];
        if (r->rejected)
            continue;
        int rc = db_begin(im->c, e);
        if (rc)
            return rc;
        struct err re;
        err_init(&re);
        bool inserted = false, refused = false;
        rc = apply(im, r, &inserted, &refused, &re);
        if (!rc)
            rc = db_commit(im->c, &re);
        if (rc) {
            db_rollback(im->c);
            forget_refs(im);
            if (rc == ERR_TIMEOUT)
                return err_set(e, rc, "%s", re.msg);
            reject_err(im, r->line, &re);
            continue;
        }
        if (inserted)
            im->res.inserted++;
        else
            im->res.updated++;
    }
    return 0;
}

/*
 * The customers (products when `products`) that the batch's orders name and the cache does not
 * know: looked up and the missing ones made, a few statements per 64, then cached.
 */
static int batch_refs(struct import *im, bool products, struct err *e)
{
    struct cache *cache = products ? &im->products : &im->customers;
    struct cache wanted = {0}; /* external id → 1, each once */
    const char **exts = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < im->n_batch; i++) {
        const struct commerce_order *o = &im->batch[i].u.order;
        if (im->batch[i].rejected)
            continue;
        size_t k = products ? o->n_items : 1;
        for (size_t j = 0; j < k; j++) {
            const char *ext = products ? o->items[j].product_external_id : o->customer_external_id;
            if (cache_get(cache, ext) || cache_get(&wanted, ext))
                continue;
            cache_put(&wanted, ext, 1);
            exts = arena_grow(&im->batch_arena, exts, n, &cap, sizeof(*exts));
            exts[n++] = ext;
        }
    }
    cache_clear(&wanted);
    if (!n)
        return 0;
    int64_t *pks = arena_alloc(&im->batch_arena, n * sizeof(*pks));
    size_t created;
    int rc = products ? commerce_store_product_ensure_many(im->c, im->tenant, im->source, exts, n,
                                                           im->now, pks, &created, e)
                      : commerce_store_customer_ensure_many(im->c, im->tenant, im->source, exts, n,
                                                            im->now, pks, &created, e);
    for (size_t i = 0; !rc && i < n; i++)
        cache_put(cache, exts[i], pks[i]);
    return rc;
}

/*
 * The orders of the batch: their references first (batch_refs, so that order_refs finds them
 * in the caches), then all of them through commerce_store_order_upsert_many, whose multi-row
 * statements cost a fraction of one upsert per order. The counts are those of one upsert after
 * another.
 */
static int flush_orders(struct import *im, int64_t *ins, int64_t *upd, struct err *e)
{
    struct commerce_order *orders =
        arena_alloc(&im->batch_arena, im->n_batch * sizeof(*orders) + 1);
    bool *inserted = arena_alloc(&im->batch_arena, im->n_batch * sizeof(*inserted) + 1);
    size_t n = 0;
    int rc = batch_refs(im, false, e);
    if (!rc)
        rc = batch_refs(im, true, e);
    for (size_t i = 0; !rc && i < im->n_batch; i++) {
        struct rec *r = &im->batch[i];
        if (r->rejected)
            continue;
        rc = order_refs(im, &r->u.order, e);
        orders[n++] = r->u.order;
    }
    if (!rc)
        rc = commerce_store_order_upsert_many(im->c, im->tenant, orders, n, im->now,
                                              im->now + im->batches, inserted, e);
    for (size_t i = 0; !rc && i < n; i++)
        *(inserted[i] ? ins : upd) += 1;
    return rc;
}

static int flush(struct import *im, struct err *e)
{
    if (!im->n_batch)
        return 0;
    int rc = db_begin(im->c, e);
    if (rc)
        return rc;
    int64_t ins = 0, upd = 0;
    struct err be;
    err_init(&be);
    if (im->kind == IMPORT_ORDERS)
        rc = flush_orders(im, &ins, &upd, &be);
    for (size_t i = 0; im->kind != IMPORT_ORDERS && !rc && i < im->n_batch; i++) {
        struct rec *r = &im->batch[i];
        bool inserted = false, refused = false;
        rc = apply(im, r, &inserted, &refused, &be);
        if (rc && refused) {
            reject_err(im, r->line, &be);
            r->rejected = true;
            err_init(&be);
            rc = 0;
            continue;
        }
        if (!rc)
            *(inserted ? &ins : &upd) += 1;
    }
    if (!rc)
        rc = db_commit(im->c, &be);
    if (!rc) {
        im->res.inserted += ins;
        im->res.updated += upd;
    } else {
        /* one record spoiled the transaction: find it, keep the others */
        db_rollback(im->c);
        forget_refs(im);
        rc = replay(im, e);
    }
    im->batches++;
    batch_reset(im);
    return rc;
}

static struct rec *batch_add(struct import *im, int64_t line)
{
    im->batch =
        arena_grow(&im->batch_arena, im->batch, im->n_batch, &im->batch_cap, sizeof(*im->batch));
    struct rec *r = &im->batch[im->n_batch++];
    memset(r, 0, sizeof(*r));
    r->line = line;
    return r;
}

static int batch_full(struct import *im, struct err *e)
{
    return im->n_batch >= IMPORT_BATCH ? flush(im, e) : 0;
}

/* ---- records ---- */

static int ndjson_record(struct import *im, const char *line, size_t len, struct err *e)
{
    struct err le;
    err_init(&le);
    struct rec *r = batch_add(im, im->rec_line);
    int rc;
    switch (im->kind) {
    case IMPORT_CUSTOMERS:
        rc = import_parse_customer_json(line, len, &im->batch_arena, &r->u.customer.cu,
                                        &r->u.customer.city_ext, &le);
        break;
    case IMPORT_PRODUCTS:
        rc = import_parse_product_json(line, len, &im->batch_arena, &r->u.product.pr,
                                       &r->u.product.cat_ext, &r->u.product.cat_name, &le);
        break;
    default:
        rc = import_parse_order_json(line, len, &im->batch_arena, &r->u.order, &le);
        break;
    }
    if (rc) {
        im->n_batch--;
        reject_err(im, im->rec_line, &le);
        return 0;
    }
    return batch_full(im, e);
}

static int csv_header(struct import *im, char **f, size_t n, struct err *e)
{
    const char *const *cols = csv_columns[im->kind];
    for (int k = 0; k < 12; k++)
        im->col_of[k] = -1;
    for (size_t i = 0; i < n; i++) {
        int k = -1;
        for (int j = 0; cols[j]; j++) {
            if (strcmp(f[i], cols[j]) == 0)
                k = j;
        }
        if (k < 0)
            return err_set_field(e, ERR_INVALID, "header",
                                 "unknown column \"%.60s\" for %s; columns are the fields "
                                 "import.h lists",
                                 f[i], import_kind_names[im->kind]);
        if (im->col_of[k] >= 0)
            return err_set_field(e, ERR_INVALID, "header", "column %s is given twice", cols[k]);
        im->col_of[k] = (int)i;
    }
    int needed = im->kind == IMPORT_ORDERS ? 8 : 1; /* orders: the first 8 but status */
    for (int j = 0; j < needed; j++) {
        if (im->col_of[j] < 0 && !(im->kind == IMPORT_ORDERS && j == 4))
            return err_set_field(e, ERR_INVALID, "header", "column %s is missing", cols[j]);
    }
    im->n_cols = n;
    im->have_header = true;
    return 0;
}

/* A CSV row as the object an NDJSON line would be (orders: one item). */
static json_t *csv_object(struct import *im, char **f)
{
    const char *const *cols = csv_columns[im->kind];
    json_t *o = json_object();
    json_t *item = im->kind == IMPORT_ORDERS ? json_object() : NULL;
    for (int j = 0; cols[j]; j++) {
        if (im->col_of[j] < 0)
            continue;
        json_t *v = json_string(f[im->col_of[j]]);
        if (!v)
            v = json_integer(0); /* not UTF-8: refused as "must be a string" */
        bool item_col =
            item &&
            (strcmp(cols[j], "product_external_id") == 0 || strcmp(cols[j], "quantity") == 0 ||
             strcmp(cols[j], "unit_price") == 0 || strcmp(cols[j], "list_price") == 0);
        json_object_set_new(item_col ? item : o, cols[j], v);
    }
    if (item)
        json_object_set_new(o, "items", json_pack("[o]", item));
    return o;
}

static void order_copy(struct arena *a, const struct commerce_order *src,
                       struct commerce_order *dst, size_t cap)
{
    *dst = *src;
    dst->external_id = arena_strdup(a, src->external_id);
    dst->customer_external_id = arena_strdup(a, src->customer_external_id);
    dst->campaign = src->campaign ? arena_strdup(a, src->campaign) : NULL;
    dst->items = arena_alloc(a, (cap > src->n_items ? cap : src->n_items) * sizeof(*dst->items));
    for (size_t i = 0; i < src->n_items; i++) {
        dst->items[i] = src->items[i];
        dst->items[i].product_external_id = arena_strdup(a, src->items[i].product_external_id);
    }
}

/* The gathered CSV order goes to the batch (rejected when its items are too many). */
static int pending_push(struct import *im, struct err *e)
{
    if (!im->have_pending)
        return 0;
    im->have_pending = false;
    struct err le;
    err_init(&le);
    if (commerce_items_total(im->pending.items, im->pending.n_items, &im->pending.total_amount,
                             &le)) {
        reject_err(im, im->pending_line, &le);
    } else {
        struct rec *r = batch_add(im, im->pending_line);
        order_copy(&im->batch_arena, &im->pending, &r->u.order, 0);
    }
    arena_release(&im->pend_arena);
    arena_init(&im->pend_arena);
    return batch_full(im, e);
}

static int csv_order_row(struct import *im, char **f, json_t *o, struct err *e)
{
    const char *ext = im->col_of[0] >= 0 ? f[im->col_of[0]] : "";
    if (im->bad_order && strcmp(im->bad_order, ext) == 0)
        return 0; /* another row of an order already rejected */
    struct arena scratch;
    arena_init(&scratch);
    struct commerce_order row;
    struct err le;
    err_init(&le);
    int rc = order_from(o, &scratch, &row, &le);
    bool same = im->have_pending && strcmp(im->pending.external_id, ext) == 0;
    if (rc) {
        reject_err(im, im->rec_line, &le);
        free(im->bad_order);
        im->bad_order = xstrdup(ext);
        if (same) { /* the order's earlier rows go with it */
            im->have_pending = false;
            arena_release(&im->pend_arena);
            arena_init(&im->pend_arena);
        }
        arena_release(&scratch);
        return 0;
    }
    rc = 0;
    if (same) {
        if (im->pending.n_items == im->pending_cap) {
            struct commerce_order grown;
            order_copy(&im->pend_arena, &im->pending, &grown, im->pending_cap * 2);
            im->pending = grown;
            im->pending_cap *= 2;
        }
        struct commerce_item *it = &im->pending.items[im->pending.n_items++];
        *it = row.items[0];
        it->product_external_id = arena_strdup(&im->pend_arena, row.items[0].product_external_id);
    } else {
        rc = pending_push(im, e);
        free(im->bad_order);
        im->bad_order = NULL;
        im->pending_cap = 8;
        order_copy(&im->pend_arena, &row, &im->pending, im->pending_cap);
        im->pending_line = im->rec_line;
        im->have_pending = true;
    }
    arena_release(&scratch);
    return rc;
}

static int csv_record(struct import *im, const char *rec, size_t len, struct err *e)
{
    struct arena scratch;
    arena_init(&scratch);
    char **f = NULL;
    size_t n = 0;
    struct err le;
    err_init(&le);
    int rc = import_csv_split(rec, len, &scratch, &f, &n, &le);
    if (rc && !im->have_header) {
        arena_release(&scratch);
        return err_set_field(e, ERR_INVALID, "header", "header: %s", le.msg);
    }
    if (!rc && !im->have_header) {
        rc = csv_header(im, f, n, e);
        arena_release(&scratch);
        return rc;
    }
    if (!rc && n != im->n_cols)
        rc = err_set_field(&le, ERR_INVALID, "line", "%zu fields where the header has %zu", n,
                           im->n_cols);
    if (rc) {
        reject_err(im, im->rec_line, &le);
        arena_release(&scratch);
        return 0;
    }
    json_t *o = csv_object(im, f);
    if (im->kind == IMPORT_ORDERS) {
        rc = csv_order_row(im, f, o, e);
    } else {
        struct rec *r = batch_add(im, im->rec_line);
        if (im->kind == IMPORT_CUSTOMERS)
            rc =
                customer_from(o, &im->batch_arena, &r->u.customer.cu, &r->u.customer.city_ext, &le);
        else
            rc = product_from(o, &im->batch_arena, &r->u.product.pr, &r->u.product.cat_ext,
                              &r->u.product.cat_name, &le);
        if (rc) {
            im->n_batch--;
            reject_err(im, im->rec_line, &le);
            rc = 0;
        } else {
            rc = batch_full(im, e);
        }
    }
    json_decref(o);
    arena_release(&scratch);
    return rc;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t')
            return false;
    }
    return true;
}

/* A whole record has been read (without its newline). */
static int record(struct import *im, const char *rec, size_t len, struct err *e)
{
    im->res.lines = im->line_no;
    if (im->skipping) {
        im->skipping = false;
        char reason[80];
        snprintf(reason, sizeof(reason), "line longer than %d bytes", IMPORT_LINE_MAX);
        reject(im, im->rec_line, "line", reason);
        return 0;
    }
    if (im->at_start && len >= 3 && memcmp(rec, "\xEF\xBB\xBF", 3) == 0) {
        rec += 3; /* a byte order mark */
        len -= 3;
    }
    im->at_start = false;
    if (len && rec[len - 1] == '\r')
        len--;
    if (blank(rec, len))
        return 0;
    if (im->format == IMPORT_CSV)
        return csv_record(im, rec, len, e);
    return ndjson_record(im, rec, len, e);
}

/* Append to the record being read, or start skipping it when it grows too long. */
static void take(struct import *im, const char *p, size_t n)
{
    if (im->skipping || !n)
        return;
    if (buf_append(&im->line, p, n)) {
        im->skipping = true;
        buf_reset(&im->line);
    }
}

static int end_record(struct import *im, struct err *e)
{
    int rc = record(im, buf_str(&im->line), im->line.len, e);
    buf_reset(&im->line);
    im->in_quotes = false;
    im->rec_line = im->line_no;
    return rc;
}

int import_feed(struct import *im, const char *data, size_t len, struct err *e)
{
    if (im->failed)
        return err_set(e, ERR_INTERNAL, "import already failed");
    size_t i = 0;
    int rc = 0;
    while (!rc && i < len) {
        const char *p = data + i;
        size_t rest = len - i, k;
        if (im->format == IMPORT_NDJSON) {
            const char *nl = memchr(p, '\n', rest);
            k = nl ? (size_t)(nl - p) : rest;
        } else {
            /* CSV: a newline inside quotes belongs to the field */
            for (k = 0; k < rest; k++) {
                if (p[k] == '"')
                    im->in_quotes = !im->in_quotes;
                else if (p[k] == '\n' && !im->in_quotes)
                    break;
                else if (p[k] == '\n')
                    im->line_no++;
            }
        }
        if (k == rest) {
            take(im, p, k);
            break;
        }
        /* fast path: a whole line inside this piece with nothing gathered before it */
        if (!im->line.len && !im->skipping) {
            if (k > IMPORT_LINE_MAX) {
                im->skipping = true;
                rc = record(im, p, 0, e);
            } else {
                rc = record(im, p, k, e);
            }
            im->in_quotes = false;
        } else {
            take(im, p, k);
            rc = end_record(im, e);
        }
        im->line_no++;
        im->rec_line = im->line_no;
        i += k + 1;
    }
    if (rc)
        im->failed = true;
    return rc;
}

int import_finish(struct import *im, struct err *e)
{
    if (im->failed)
        return err_set(e, ERR_INTERNAL, "import already failed");
    int rc = 0;
    if (im->line.len || im->skipping)
        rc = end_record(im, e);
    else
        im->res.lines = im->line_no - 1;
    if (!rc && im->format == IMPORT_CSV && !im->have_header)
        rc = err_set_field(e, ERR_INVALID, "header", "the CSV has no header line");
    if (!rc)
        rc = pending_push(im, e);
    if (!rc)
        rc = flush(im, e);
    if (rc)
        im->failed = true;
    return rc;
}
