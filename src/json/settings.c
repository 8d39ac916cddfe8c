/* SPDX-License-Identifier: MIT */
/* Settings declared once: see settings.h. */
#include "json/settings.h"
#include "json/json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NAME_MAX_LEN     64 /* a setting's name, a nested object's name */
#define MAX_TOP_MEMBERS  64
#define MAX_NESTED_NAMES 32

double settings_get(const void *base, const struct settings_field *f)
{
    const char *p = (const char *)base + f->offset;
    if (f->type != SETTINGS_NUMBER) {
        int v;
        memcpy(&v, p, sizeof(v));
        return v;
    }
    double v;
    memcpy(&v, p, sizeof(v));
    return v;
}

void settings_set(void *base, const struct settings_field *f, double v)
{
    char *p = (char *)base + f->offset;
    if (f->type != SETTINGS_NUMBER) {
        int i = f->type == SETTINGS_BOOL ? v != 0 : (int)v;
        memcpy(p, &i, sizeof(i));
    } else {
        memcpy(p, &v, sizeof(v));
    }
}

static bool in_range(double v, double lo, double hi)
{
    return isfinite(v) && v >= lo && v <= hi;
}

void settings_defaults(const struct settings_field *fields, size_t n, void *base)
{
    for (size_t i = 0; i < n; i++)
        settings_set(base, &fields[i], fields[i].def);
}

int settings_check(const struct settings_field *fields, size_t n, const void *base,
                   const char *prefix, struct err *e)
{
    char field[2 * NAME_MAX_LEN];
    for (size_t i = 0; i < n; i++) {
        const struct settings_field *f = &fields[i];
        if (in_range(settings_get(base, f), f->min, f->max))
            continue;
        snprintf(field, sizeof(field), "%s%s", prefix ? prefix : "", f->name);
        return err_set_field(e, ERR_INVALID, field, "%s must be between %g and %g", field, f->min,
                             f->max);
    }
    return 0;
}

bool settings_json_fits(json_t *v, const struct settings_field *f)
{
    if (f->type == SETTINGS_INT)
        return json_is_integer(v) && in_range((double)json_integer_value(v), f->min, f->max);
    if (f->type == SETTINGS_BOOL)
        return json_is_boolean(v);
    return json_is_number(v) && in_range(json_number_value(v), f->min, f->max);
}

/* Split "a.b" into parent "a" (or "" without a dot) and return the part after the dot. */
static const char *split(const char *name, char parent[NAME_MAX_LEN])
{
    const char *dot = strchr(name, '.');
    if (!dot) {
        parent[0] = '\0';
        return name;
    }
    snprintf(parent, NAME_MAX_LEN, "%.*s", (int)(dot - name), name);
    return dot + 1;
}

json_t *settings_member(json_t *root, const char *name)
{
    char parent[NAME_MAX_LEN];
    const char *leaf = split(name, parent);
    if (!parent[0])
        return json_object_get(root, name);
    return json_object_get(json_object_get(root, parent), leaf);
}

static json_t *json_value(const void *base, const struct settings_field *f)
{
    double v = settings_get(base, f);
    if (f->type == SETTINGS_BOOL)
        return json_boolean(v != 0);
    return f->type == SETTINGS_INT ? json_integer((json_int_t)v) : json_real(v);
}

void settings_to_json(const struct settings_field *fields, size_t n, const void *base, json_t *root)
{
    for (size_t i = 0; i < n; i++) {
        const struct settings_field *f = &fields[i];
        char parent[NAME_MAX_LEN];
        const char *leaf = split(f->name, parent);
        if (!parent[0]) {
            json_object_set_new(root, f->name, json_value(base, f));
            continue;
        }
        json_t *o = json_object_get(root, parent);
        if (!o) {
            o = json_object();
            json_object_set_new(root, parent, o);
        }
        json_object_set_new(o, leaf, json_value(base, f));
    }
}

int settings_merge_one(json_t *root, const char *path, const struct settings_field *f, void *base,
                       struct err *e)
{
    if (f->type == SETTINGS_BOOL) {
        bool v = settings_get(base, f) != 0;
        int rc = json_get_bool(root, path, false, &v, e);
        if (!rc)
            settings_set(base, f, v ? 1 : 0);
        return rc;
    }
    if (f->type == SETTINGS_INT) {
        int64_t v = (int64_t)settings_get(base, f);
        int rc = json_get_i64(root, path, false, (int64_t)f->min, (int64_t)f->max, &v, e);
        if (!rc)
            settings_set(base, f, (double)v);
        return rc;
    }
    double v = settings_get(base, f);
    int rc = json_get_f64(root, path, false, f->min, f->max, &v, e);
    if (!rc)
        settings_set(base, f, v);
    return rc;
}

/* Whether `name` is among the first n of `names`. */
static bool listed(const char *const *names, size_t n, const char *name)
{
    for (size_t k = 0; k < n; k++) {
        if (strcmp(names[k], name) == 0)
            return true;
    }
    return false;
}

/* Unknown members of `patch` and of its nested objects, from the table's names. */
static int reject_unknown(const struct settings_field *fields, size_t n, json_t *patch,
                          const char *const *extra_top, struct err *e)
{
    const char *top[MAX_TOP_MEMBERS + 1];
    char parents[MAX_TOP_MEMBERS][NAME_MAX_LEN];
    size_t nt = 0, np = 0;
    for (const char *const *x = extra_top; x && *x && nt < MAX_TOP_MEMBERS; x++)
        top[nt++] = *x;
    for (size_t i = 0; i < n; i++) {
        char parent[NAME_MAX_LEN];
        split(fields[i].name, parent);
        const char *member = parent[0] ? parent : fields[i].name;
        if (listed(top, nt, member))
            continue;
        if (nt == MAX_TOP_MEMBERS)
            return err_set(e, ERR_INTERNAL, "too many settings");
        if (!parent[0]) {
            top[nt++] = fields[i].name;
            continue;
        }
        snprintf(parents[np], NAME_MAX_LEN, "%s", parent);
        top[nt++] = parents[np++];
        /* a nested object: its own members */
        const char *sub[MAX_NESTED_NAMES + 1];
        size_t m = 0;
        size_t plen = strlen(parent);
        for (size_t j = 0; j < n && m < MAX_NESTED_NAMES; j++) {
            const char *nj = fields[j].name;
            if (strncmp(nj, parent, plen) == 0 && nj[plen] == '.')
                sub[m++] = nj + plen + 1;
        }
        sub[m] = NULL;
        json_t *o = NULL;
        int rc = json_get_object(patch, parent, false, &o, e);
        if (!rc && o)
            rc = json_reject_unknown(patch, parent, sub, e);
        if (rc)
            return rc;
    }
    top[nt] = NULL;
    return json_reject_unknown(patch, "", top, e);
}

int settings_merge(const struct settings_field *fields, size_t n, json_t *patch,
                   const char *const *extra_top, void *base, struct err *e)
{
    if (!json_is_object(patch))
        return err_set(e, ERR_INVALID, "the settings must be a JSON object");
    int rc = reject_unknown(fields, n, patch, extra_top, e);
    for (size_t i = 0; !rc && i < n; i++)
        rc = settings_merge_one(patch, fields[i].name, &fields[i], base, e);
    return rc;
}

void settings_decode(const struct settings_field *fields, size_t n, json_t *root, void *base)
{
    for (size_t i = 0; i < n; i++) {
        json_t *v = settings_member(root, fields[i].name);
        if (settings_json_fits(v, &fields[i]))
            settings_set(base, &fields[i],
                         json_is_boolean(v) ? (json_is_true(v) ? 1 : 0) : json_number_value(v));
    }
}
