/* SPDX-License-Identifier: MIT */
/* Strict JSON decoding helpers over jansson (see json.h). */
#include "json/json.h"
#include "core/xalloc.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void decref(void *p)
{
    json_decref((json_t *)p);
}

/* `depth` containers enclose v; v itself adds one when it is an object or array. */
static int depth_ok(json_t *v, int depth)
{
    if ((json_is_object(v) || json_is_array(v)) && depth >= JSON_MAX_DEPTH)
        return 0; /* counting v, more than JSON_MAX_DEPTH levels, even when v is empty */
    if (json_is_object(v)) {
        const char *k;
        json_t *child;
        json_object_foreach(v, k, child)
        {
            if (!depth_ok(child, depth + 1))
                return 0;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child)
        {
            if (!depth_ok(child, depth + 1))
                return 0;
        }
    }
    return 1;
}

int json_parse_object(const char *body, size_t len, struct arena *a, json_t **out, struct err *e)
{
    json_error_t je;
    if (!body || len == 0)
        return err_set(e, ERR_INVALID, "request body is empty; a JSON object is required");
    /* JSON_REJECT_DUPLICATES: {"a":1,"a":2} is ambiguous, refuse it. */
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return err_set(e, ERR_INVALID, "malformed JSON at line %d column %d: %s", je.line,
                       je.column, je.text);
    arena_defer(a, decref, root);
    if (!json_is_object(root))
        return err_set(e, ERR_INVALID, "request body must be a JSON object");
    if (!depth_ok(root, 0))
        return err_set(e, ERR_INVALID, "JSON nested deeper than %d levels", JSON_MAX_DEPTH);
    *out = root;
    return 0;
}

/* Walk a dotted path; sets *parent_missing when an intermediate member is not an object. */
static json_t *lookup(json_t *root, const char *path, struct err *e, int *bad)
{
    *bad = 0;
    if (!path || !*path)
        return root;
    json_t *cur = root;
    const char *p = path;
    char key[128];
    while (cur) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof(key)) {
            *bad = 1;
            err_set_field(e, ERR_INVALID, path, "%s: path too long", path);
            return NULL;
        }
        memcpy(key, p, n);
        key[n] = '\0';
        if (!json_is_object(cur)) {
            *bad = 1;
            char parent[128];
            size_t pn = (size_t)(p - path);
            pn = pn ? pn - 1 : 0;
            snprintf(parent, sizeof(parent), "%.*s", (int)pn, path);
            err_set_field(e, ERR_INVALID, parent, "%s must be an object", parent);
            return NULL;
        }
        cur = json_object_get(cur, key);
        if (!dot)
            return cur;
        if (json_is_null(cur))
            return NULL; /* {"location": null}: location.lat is missing, like the parent */
        p = dot + 1;
    }
    return NULL;
}

static int fetch(json_t *root, const char *path, bool required, json_t **v, struct err *e)
{
    int bad;
    *v = lookup(root, path, e, &bad);
    if (bad)
        return ERR_INVALID;
    if (!*v || json_is_null(*v)) {
        *v = NULL;
        if (required)
            return err_set_field(e, ERR_INVALID, path, "%s is required", path);
    }
    return 0;
}

int json_get_str(json_t *root, const char *path, bool required, const char **out, struct err *e)
{
    return json_get_strn(root, path, required, 1u << 20, out, e);
}

int json_get_strn(json_t *root, const char *path, bool required, size_t max_len, const char **out,
                  struct err *e)
{
    json_t *v;
    int rc = fetch(root, path, required, &v, e);
    if (rc || !v)
        return rc;
    if (!json_is_string(v))
        return err_set_field(e, ERR_INVALID, path, "%s must be a string", path);
    size_t n = json_string_length(v);
    if (strlen(json_string_value(v)) != n)
        return err_set_field(e, ERR_INVALID, path, "%s must not contain NUL characters", path);
    if (required && n == 0)
        return err_set_field(e, ERR_INVALID, path, "%s must not be empty", path);
    if (n > max_len)
        return err_set_field(e, ERR_INVALID, path, "%s is longer than %zu bytes", path, max_len);
    *out = json_string_value(v);
    return 0;
}

int json_get_i64(json_t *root, const char *path, bool required, int64_t lo, int64_t hi,
                 int64_t *out, struct err *e)
{
    json_t *v;
    int rc = fetch(root, path, required, &v, e);
    if (rc || !v)
        return rc;
    if (!json_is_integer(v))
        return err_set_field(e, ERR_INVALID, path, "%s must be an integer", path);
    int64_t x = (int64_t)json_integer_value(v);
    if (x < lo || x > hi)
        return err_set_field(e, ERR_INVALID, path, "%s must be between %lld and %lld", path,
                             (long long)lo, (long long)hi);
    *out = x;
    return 0;
}

int json_get_f64(json_t *root, const char *path, bool required, double lo, double hi, double *out,
                 struct err *e)
{
    json_t *v;
    int rc = fetch(root, path, required, &v, e);
    if (rc || !v)
        return rc;
    if (!json_is_number(v))
        return err_set_field(e, ERR_INVALID, path, "%s must be a number", path);
    double x = json_number_value(v);
    if (!isfinite(x) || x < lo || x > hi)
        return err_set_field(e, ERR_INVALID, path, "%s must be between %g and %g", path, lo, hi);
    *out = x;
    return 0;
}

int json_get_bool(json_t *root, const char *path, bool required, bool *out, struct err *e)
{
    json_t *v;
    int rc = fetch(root, path, required, &v, e);
    if (rc || !v)
        return rc;
    if (!json_is_boolean(v))
        return err_set_field(e, ERR_INVALID, path, "%s must be true or false", path);
    *out = json_is_true(v);
    return 0;
}

int json_get_enum(json_t *root, const char *path, bool required, const char *const *values,
                  int *out, struct err *e)
{
    const char *s = NULL;
    int rc = json_get_str(root, path, required, &s, e);
    if (rc || !s)
        return rc;
    for (int i = 0; values[i]; i++) {
        if (strcmp(values[i], s) == 0) {
            *out = i;
            return 0;
        }
    }
    char list[192] = "";
    size_t used = 0;
    for (int i = 0; values[i] && used < sizeof(list); i++) {
        int n = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", values[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return err_set_field(e, ERR_INVALID, path, "%s must be one of: %s", path, list);
}

int json_get_object(json_t *root, const char *path, bool required, json_t **out, struct err *e)
{
    json_t *v;
    *out = NULL;
    int rc = fetch(root, path, required, &v, e);
    if (rc || !v)
        return rc;
    if (!json_is_object(v))
        return err_set_field(e, ERR_INVALID, path, "%s must be an object", path);
    *out = v;
    return 0;
}

int json_get_array(json_t *root, const char *path, bool required, json_t **out, struct err *e)
{
    json_t *v;
    *out = NULL;
    int rc = fetch(root, path, required, &v, e);
    if (rc || !v)
        return rc;
    if (!json_is_array(v))
        return err_set_field(e, ERR_INVALID, path, "%s must be an array", path);
    *out = v;
    return 0;
}

int json_reject_unknown(json_t *root, const char *path, const char *const *allowed, struct err *e)
{
    json_t *obj;
    int rc = json_get_object(root, path, false, &obj, e);
    if (rc || !obj)
        return rc;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        int known = 0;
        for (int i = 0; allowed[i]; i++) {
            if (strcmp(allowed[i], k) == 0) {
                known = 1;
                break;
            }
        }
        if (!known) {
            char field[64];
            if (path && *path)
                snprintf(field, sizeof(field), "%s.%s", path, k);
            else
                snprintf(field, sizeof(field), "%s", k);
            return err_set_field(e, ERR_INVALID, field, "unknown field %s", field);
        }
    }
    return 0;
}

int json_buf_string(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    int rc = buf_append(b, "\"", 1);
    const char *run = s;
    for (; !rc && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = buf_append(b, run, (size_t)(s - run));
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        if (!rc && (c == '"' || c == '\\')) {
            esc[1] = (char)c;
            rc = buf_append(b, esc, 2);
        } else if (!rc && c == '\n') {
            rc = buf_append(b, "\\n", 2);
        } else if (!rc) {
            rc = buf_append(b, esc, 6);
        }
        run = s + 1;
    }
    if (!rc)
        rc = buf_append(b, run, (size_t)(s - run));
    return rc ? rc : buf_append(b, "\"", 1);
}

int json_buf_fixed(struct buf *b, double x, int decimals)
{
    if (!isfinite(x))
        return buf_append(b, "null", 4);
    if (decimals < 1)
        decimals = 1;
    if (decimals > 9)
        decimals = 9;
    if (fabs(x) >= 1e9)
        return buf_appendf(b, "%.*f", decimals, x);
    uint64_t scale = 1;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    uint64_t v = (uint64_t)llround(fabs(x) * (double)scale);
    char out[32];
    size_t n = sizeof(out);
    for (int i = 0; i < decimals; i++, v /= 10)
        out[--n] = (char)('0' + v % 10);
    out[--n] = '.';
    bool zero = true;
    for (size_t k = n; k < sizeof(out); k++)
        zero = zero && (out[k] == '0' || out[k] == '.');
    do {
        out[--n] = (char)('0' + v % 10);
        zero = zero && v % 10 == 0;
        v /= 10;
    } while (v);
    if (x < 0 && !zero)
        out[--n] = '-';
    return buf_append(b, out + n, sizeof(out) - n);
}

char *json_dump_compact(const json_t *v)
{
    /* 12 significant digits: 0.7 stays 0.7 (not 0.69999999999999996); coordinates keep 1e-9 deg */
    char *s = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(12));
    if (!s)
        return xstrdup("null");
    return s;
}
