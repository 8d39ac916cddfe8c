/* SPDX-License-Identifier: MIT */
/*
 * Settings declared once. A module that keeps per-tenant settings declares one table of rows
 * (name, type, inclusive range, default, offset into its own struct, one line of documentation)
 * and gets from here, driven by that table: the defaults, the range check, the JSON form (GET
 * and storage), the strict merge of a PUT body, and the lenient decode of what was stored.
 * Nothing about a setting is written twice: the OpenAPI tests read the same tables.
 *
 * Names are JSON paths with at most one dot: "radius_m" is a member of the root,
 * "weights.demand" the member "demand" of the object "weights". Values live in the caller's
 * struct at `offset`: an `int` for SETTINGS_INT, a `double` for SETTINGS_NUMBER.
 *
 * Pure: no I/O, no clock, no globals. Tests: tests/unit/json/test_settings.c.
 */
#ifndef ICESHOP_JSON_SETTINGS_H
#define ICESHOP_JSON_SETTINGS_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* SETTINGS_BOOL lives in an `int` (0 or 1, range 0..1) and is a JSON boolean. */
enum settings_type { SETTINGS_INT = 0, SETTINGS_NUMBER, SETTINGS_BOOL };

struct settings_field {
    const char *name; /* "radius_m", "weights.demand" */
    enum settings_type type;
    double min; /* inclusive */
    double max; /* inclusive */
    double def;
    size_t offset;   /* of an int (SETTINGS_INT, SETTINGS_BOOL) or a double (SETTINGS_NUMBER) */
    const char *doc; /* one line for people */
};

/* The value of field `f` in the struct at `base`, as a double (ints convert exactly). */
double settings_get(const void *base, const struct settings_field *f);
/* Store `v` into field `f` of the struct at `base` (truncated to int for SETTINGS_INT). */
void settings_set(void *base, const struct settings_field *f, double v);

/* Every field of the table at its default; other members of the struct are left alone. */
void settings_defaults(const struct settings_field *fields, size_t n, void *base);

/*
 * ERR_INVALID naming the first field out of its range ("radius_m must be between 50 and
 * 20000"). `prefix` (may be NULL) is put before the name in the field and the message, e.g.
 * "tiers[1]." for the rows of a list.
 */
int settings_check(const struct settings_field *fields, size_t n, const void *base,
                   const char *prefix, struct err *e);

/* Whether JSON value `v` fits `f`: an integer for SETTINGS_INT, a boolean for SETTINGS_BOOL, a
 * number otherwise, in range. */
bool settings_json_fits(json_t *v, const struct settings_field *f);

/* The member at dotted `name` of `root` ("weights.demand"), or NULL. */
json_t *settings_member(json_t *root, const char *name);

/* Add every field to the JSON object `root`, nested objects made as needed. */
void settings_to_json(const struct settings_field *fields, size_t n, const void *base,
                      json_t *root);

/*
 * Read field `f` at `path` of `root` into the struct at `base` when present. Strict: a wrong type
 * or a value out of range is ERR_INVALID naming `path`. Absent (or null) leaves the value as it is.
 */
int settings_merge_one(json_t *root, const char *path, const struct settings_field *f, void *base,
                       struct err *e);

/*
 * Strict merge of a PUT body: reject members of `patch` (and of its nested objects) that neither
 * the table nor `extra_top` (NULL-terminated names the caller handles itself, may be NULL)
 * declares, then read every field present. ERR_INVALID names the field. On error the struct may
 * hold part of the patch: merge into a copy and keep it only on success.
 */
int settings_merge(const struct settings_field *fields, size_t n, json_t *patch,
                   const char *const *extra_top, void *base, struct err *e);

/*
 * Lenient read of what was stored: each field of `root` that fits its row replaces the value in
 * the struct; a missing field, a wrong type or a value outside today's range keeps what is there
 * (the default, after settings_defaults). Never fails.
 */
void settings_decode(const struct settings_field *fields, size_t n, json_t *root, void *base);

#endif
