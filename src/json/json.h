/* SPDX-License-Identifier: MIT */
/*
 * The jansson wrapper: strict body parsing and typed getters by dotted path that name the
 * offending field in `struct err` ("location.lat must be a number"). Handlers build responses
 * with jansson's own json_pack/json_object_set_new. Tests: tests/unit/json/test_json.c;
 * fuzzed by fuzz/fuzz_json_body.c.
 */
#ifndef ICESHOP_JSON_JSON_H
#define ICESHOP_JSON_JSON_H

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 32 /* nesting allowed in request bodies */

/*
 * Parse a request body that must be one JSON object. The root is released with the arena.
 * ERR_INVALID on malformed JSON (message has line/column), a non-object root, NUL bytes or
 * nesting deeper than JSON_MAX_DEPTH.
 */
int json_parse_object(const char *body, size_t len, struct arena *a, json_t **out, struct err *e);

/*
 * Typed getters. `path` is dotted ("location.lat"). A missing (or null) value is ERR_INVALID
 * "<path> is required" when `required`, otherwise leaves *out untouched and returns 0.
 * A value of the wrong type is always ERR_INVALID naming the path.
 */
int json_get_str(json_t *root, const char *path, bool required, const char **out, struct err *e);
/* Strings also get a length check in bytes (1..max_len when required, 0..max_len otherwise). */
int json_get_strn(json_t *root, const char *path, bool required, size_t max_len, const char **out,
                  struct err *e);
/* Integers only (1.5 and "1" are rejected); inclusive range check. */
int json_get_i64(json_t *root, const char *path, bool required, int64_t lo, int64_t hi,
                 int64_t *out, struct err *e);
/* Any number; inclusive range check. */
int json_get_f64(json_t *root, const char *path, bool required, double lo, double hi, double *out,
                 struct err *e);
int json_get_bool(json_t *root, const char *path, bool required, bool *out, struct err *e);
/*
 * A string that must be one of `values` (NULL-terminated); *out gets its index.
 * ERR_INVALID "<path> must be one of: a, b, c" otherwise.
 */
int json_get_enum(json_t *root, const char *path, bool required, const char *const *values,
                  int *out, struct err *e);
/* The object at `path`, or NULL (with an error when required or of the wrong type). */
int json_get_object(json_t *root, const char *path, bool required, json_t **out, struct err *e);
int json_get_array(json_t *root, const char *path, bool required, json_t **out, struct err *e);
/*
 * Reject members of the object at `path` ("" for the root) not listed in `allowed`
 * (NULL-terminated): ERR_INVALID naming the first unknown field.
 */
int json_reject_unknown(json_t *root, const char *path, const char *const *allowed, struct err *e);

/*
 * Append `s` as a quoted JSON string (escaping quotes, backslashes and control characters; UTF-8
 * passes through, so `s` must be valid UTF-8, as everything decoded by jansson is). For hot
 * paths that write JSON straight into a buffer instead of building a jansson tree.
 * Returns 0 or ERR_TOO_LARGE from the buffer.
 */
int json_buf_string(struct buf *b, const char *s);

/*
 * Append `x` as a JSON number with exactly `decimals` (1..9) digits after the point, so it reads
 * back as a real ("1.000000", "-0.250000", "0.000000" for -0.0000001); null when x is not finite.
 * Rounds half away from zero. Integer arithmetic below 1e9 (the hot case: scores, distances),
 * printf above. Returns 0 or ERR_TOO_LARGE from the buffer.
 */
int json_buf_fixed(struct buf *b, double x, int decimals);

/* Serialise compactly, reals rounded to 12 significant digits; caller frees with free(). */
char *json_dump_compact(const json_t *v);

#endif
