/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/json/json.h: strict object parsing (malformed input, non-object roots,
 * duplicates, depth, NUL bytes) and the typed getters, table-driven over one document, checking
 * the return code and the exact `field` path each error names.
 */
#include "json/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse `s` (must succeed) into a root released with `a`. */
static json_t *parse_ok(struct arena *a, const char *s)
{
    struct err e;
    err_init(&e);
    json_t *root = NULL;
    if (json_parse_object(s, strlen(s), a, &root, &e))
        fail_msg("parse %s: %s", s, e.msg);
    return root;
}

/* ======================== parsing ======================== */

static void test_parse(void **state)
{
    (void)state;
    struct {
        const char *body;
        size_t len; /* 0 = strlen */
        int rc;
        const char *msg_has; /* substring of the message, or NULL */
    } cases[] = {
        {"{}", 0, 0, NULL},
        {" {\"a\": 1} \n", 0, 0, NULL},
        {"", 0, ERR_INVALID, "empty"},
        {"{", 0, ERR_INVALID, "line 1 column"},
        {"{\n  \"a\": 1,\n  \"b\": }", 0, ERR_INVALID, "line 3 column"},
        {"{\"a\": 1,}", 0, ERR_INVALID, "malformed JSON"},
        {"{'a': 1}", 0, ERR_INVALID, "malformed JSON"},
        {"{} {}", 0, ERR_INVALID, "malformed JSON"},
        {"[1, 2]", 0, ERR_INVALID, "must be a JSON object"},
        {"[]", 0, ERR_INVALID, "must be a JSON object"},
        {"\"str\"", 0, ERR_INVALID, NULL},
        {"42", 0, ERR_INVALID, NULL},
        {"null", 0, ERR_INVALID, NULL},
        {"{\"a\": 1, \"a\": 2}", 0, ERR_INVALID, "duplicate"},
        {"{\"o\": {\"k\": 1, \"k\": 1}}", 0, ERR_INVALID, "duplicate"},
        {"{\"a\": \"x\\u0000y\"}", 0, ERR_INVALID, "malformed JSON"},
        {"{\"a\": \"x\0y\"}", 11, ERR_INVALID, "malformed JSON"},
        {"{\"a\": 1}\0", 9, ERR_INVALID, "malformed JSON"},
        {"{\"n\": 99999999999999999999}", 0, ERR_INVALID, "malformed JSON"},
        {"{\"n\": 1e400}", 0, ERR_INVALID, "malformed JSON"},
        {"{\"n\": NaN}", 0, ERR_INVALID, "malformed JSON"},
        {"{\"n\": Infinity}", 0, ERR_INVALID, "malformed JSON"},
        {"{\"s\": \"\xff\"}", 0, ERR_INVALID, "malformed JSON"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct arena a;
        arena_init(&a);
        struct err e;
        err_init(&e);
        json_t *root = NULL;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].body);
        int rc = json_parse_object(cases[i].body, len, &a, &root, &e);
        if (rc != cases[i].rc)
            fail_msg("case %zu: rc %d, want %d (%s)", i, rc, cases[i].rc, e.msg);
        if (rc == 0)
            assert_true(json_is_object(root));
        else
            assert_int_equal(e.code, cases[i].rc);
        if (cases[i].msg_has && !strstr(e.msg, cases[i].msg_has))
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, e.msg, cases[i].msg_has);
        arena_release(&a); /* releases the root: LeakSanitizer checks it */
    }
    struct arena a;
    arena_init(&a);
    struct err e;
    err_init(&e);
    json_t *root;
    assert_int_equal(json_parse_object(NULL, 0, &a, &root, &e), ERR_INVALID);
    arena_release(&a);
}

/* `levels` nested objects {"a":{"a":...}} with `leaf` ("" for none) in the innermost one. */
static char *nested(int levels, const char *leaf, bool arrays)
{
    size_t cap = (size_t)levels * 8 + strlen(leaf) + 16;
    char *s = malloc(cap);
    size_t o = 0;
    o += (size_t)snprintf(s + o, cap - o, "{");
    for (int i = 1; i < levels; i++)
        o += (size_t)snprintf(s + o, cap - o, arrays ? "\"a\":[{" : "\"a\":{");
    o += (size_t)snprintf(s + o, cap - o, "%s", leaf);
    for (int i = 1; i < levels; i++)
        o += (size_t)snprintf(s + o, cap - o, arrays ? "}]" : "}");
    snprintf(s + o, cap - o, "}");
    return s;
}

static void test_depth(void **state)
{
    (void)state;
    struct {
        int levels; /* nested containers, counting the root */
        const char *leaf;
        bool arrays;
        int rc;
    } cases[] = {
        {JSON_MAX_DEPTH, "", false, 0},
        {JSON_MAX_DEPTH, "\"x\":1", false, 0},
        {JSON_MAX_DEPTH, "\"x\":[]", false, ERR_INVALID},
        {JSON_MAX_DEPTH + 1, "", false, ERR_INVALID},
        {JSON_MAX_DEPTH + 1, "\"x\":1", false, ERR_INVALID},
        {JSON_MAX_DEPTH / 2, "", true, 0}, /* object+array per level: 31 containers */
        {JSON_MAX_DEPTH / 2 + 1, "", true, ERR_INVALID},
        {5000, "", false, ERR_INVALID}, /* deeper than jansson's own limit */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *body = nested(cases[i].levels, cases[i].leaf, cases[i].arrays);
        struct arena a;
        arena_init(&a);
        struct err e;
        err_init(&e);
        json_t *root = NULL;
        int rc = json_parse_object(body, strlen(body), &a, &root, &e);
        if (rc != cases[i].rc)
            fail_msg("depth case %zu (%d levels): rc %d, want %d (%s)", i, cases[i].levels, rc,
                     cases[i].rc, e.msg);
        arena_release(&a);
        free(body);
    }
}

/* ======================== getters ======================== */

static const char doc[] = "{"
                          "\"name\": \"Ada\","
                          "\"empty\": \"\","
                          "\"nul\": null,"
                          "\"n\": 42,"
                          "\"neg\": -7,"
                          "\"big\": 9223372036854775807,"
                          "\"small\": -9223372036854775808,"
                          "\"f\": 1.5,"
                          "\"huge\": 1e300,"
                          "\"t\": true,"
                          "\"no\": false,"
                          "\"arr\": [1, 2],"
                          "\"numstr\": \"1\","
                          "\"location\": {\"lat\": \"north\", \"lng\": 12.5, \"deep\": {\"x\": 1}},"
                          "\"num_parent\": 5,"
                          "\"null_parent\": null,"
                          "\"color\": \"blue\""
                          "}";

enum getter { G_STR, G_STRN, G_I64, G_F64, G_BOOL, G_OBJ, G_ARR };

static void test_getters(void **state)
{
    (void)state;
    struct {
        enum getter g;
        const char *path;
        bool required;
        int rc;
        const char *field; /* expected e.field on error */
        const char *msg;   /* expected e.msg on error, or NULL */
    } cases[] = {
        /* strings */
        {G_STR, "name", true, 0, NULL, NULL},
        {G_STR, "name", false, 0, NULL, NULL},
        {G_STR, "missing", true, ERR_INVALID, "missing", "missing is required"},
        {G_STR, "missing", false, 0, NULL, NULL},
        {G_STR, "nul", true, ERR_INVALID, "nul", "nul is required"},
        {G_STR, "nul", false, 0, NULL, NULL},
        {G_STR, "n", true, ERR_INVALID, "n", "n must be a string"},
        {G_STR, "n", false, ERR_INVALID, "n", "n must be a string"},
        {G_STR, "empty", true, ERR_INVALID, "empty", "empty must not be empty"},
        {G_STR, "empty", false, 0, NULL, NULL},
        {G_STRN, "name", true, 0, NULL, NULL},
        {G_STRN, "color", true, ERR_INVALID, "color", "color is longer than 3 bytes"},
        {G_STR, "location.lat", true, 0, NULL, NULL},
        {G_STR, "location.lng", true, ERR_INVALID, "location.lng", "location.lng must be a string"},
        {G_STR, "location.nope", true, ERR_INVALID, "location.nope", "location.nope is required"},
        {G_STR, "location.deep.x", false, ERR_INVALID, "location.deep.x", NULL},
        {G_STR, "num_parent.lat", true, ERR_INVALID, "num_parent", "num_parent must be an object"},
        {G_STR, "num_parent.lat", false, ERR_INVALID, "num_parent", NULL},
        {G_STR, "name.first", false, ERR_INVALID, "name", "name must be an object"},
        {G_STR, "location.lat.x", false, ERR_INVALID, "location.lat", NULL},
        {G_STR, "absent.lat", true, ERR_INVALID, "absent.lat", "absent.lat is required"},
        {G_STR, "absent.lat", false, 0, NULL, NULL},
        {G_STR, "null_parent.lat", false, 0, NULL, NULL},
        {G_STR, "null_parent.lat", true, ERR_INVALID, "null_parent.lat", NULL},
        {G_STR, "withnul", true, ERR_INVALID, "withnul", NULL},
        /* integers */
        {G_I64, "n", true, 0, NULL, NULL},
        {G_I64, "neg", true, 0, NULL, NULL},
        {G_I64, "big", true, 0, NULL, NULL},
        {G_I64, "small", true, 0, NULL, NULL},
        {G_I64, "f", true, ERR_INVALID, "f", "f must be an integer"},
        {G_I64, "numstr", true, ERR_INVALID, "numstr", "numstr must be an integer"},
        {G_I64, "t", true, ERR_INVALID, "t", NULL},
        {G_I64, "missing", true, ERR_INVALID, "missing", "missing is required"},
        {G_I64, "missing", false, 0, NULL, NULL},
        {G_I64, "location.lat", true, ERR_INVALID, "location.lat", NULL},
        /* numbers */
        {G_F64, "f", true, 0, NULL, NULL},
        {G_F64, "n", true, 0, NULL, NULL},
        {G_F64, "location.lng", true, 0, NULL, NULL},
        {G_F64, "location.lat", true, ERR_INVALID, "location.lat", "location.lat must be a number"},
        {G_F64, "location.lat", false, ERR_INVALID, "location.lat", NULL},
        {G_F64, "num_parent.lat", true, ERR_INVALID, "num_parent", NULL},
        {G_F64, "numstr", true, ERR_INVALID, "numstr", NULL},
        {G_F64, "nul", false, 0, NULL, NULL},
        /* booleans */
        {G_BOOL, "t", true, 0, NULL, NULL},
        {G_BOOL, "no", true, 0, NULL, NULL},
        {G_BOOL, "n", true, ERR_INVALID, "n", "n must be true or false"},
        {G_BOOL, "name", false, ERR_INVALID, "name", NULL},
        {G_BOOL, "missing", true, ERR_INVALID, "missing", NULL},
        {G_BOOL, "missing", false, 0, NULL, NULL},
        /* objects and arrays */
        {G_OBJ, "location", true, 0, NULL, NULL},
        {G_OBJ, "location.deep", true, 0, NULL, NULL},
        {G_OBJ, "arr", true, ERR_INVALID, "arr", "arr must be an object"},
        {G_OBJ, "missing", true, ERR_INVALID, "missing", NULL},
        {G_OBJ, "missing", false, 0, NULL, NULL},
        {G_OBJ, "", true, 0, NULL, NULL},
        {G_ARR, "arr", true, 0, NULL, NULL},
        {G_ARR, "location", true, ERR_INVALID, "location", "location must be an array"},
        {G_ARR, "nul", true, ERR_INVALID, "nul", NULL},
        {G_ARR, "nul", false, 0, NULL, NULL},
    };
    struct arena a;
    arena_init(&a);
    json_t *root = parse_ok(&a, doc);
    /* JSON text cannot carry "\u0000" past the parser; build such a string directly. */
    json_object_set_new(root, "withnul", json_stringn("a\0b", 3));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err e;
        err_init(&e);
        const char *s = "untouched";
        int64_t iv = -1;
        double dv = -1;
        bool bv = false;
        json_t *jv = (json_t *)&bv;
        int rc = -1;
        const char *p = cases[i].path;
        bool req = cases[i].required;
        switch (cases[i].g) {
        case G_STR:
            rc = json_get_str(root, p, req, &s, &e);
            break;
        case G_STRN:
            rc = json_get_strn(root, p, req, 3, &s, &e);
            break;
        case G_I64:
            rc = json_get_i64(root, p, req, INT64_MIN, INT64_MAX, &iv, &e);
            break;
        case G_F64:
            rc = json_get_f64(root, p, req, -1e308, 1e308, &dv, &e);
            break;
        case G_BOOL:
            rc = json_get_bool(root, p, req, &bv, &e);
            break;
        case G_OBJ:
            rc = json_get_object(root, p, req, &jv, &e);
            break;
        case G_ARR:
            rc = json_get_array(root, p, req, &jv, &e);
            break;
        }
        if (rc != cases[i].rc)
            fail_msg("case %zu (%s, required=%d): rc %d, want %d (%s)", i, p, req, rc, cases[i].rc,
                     e.msg);
        if (rc) {
            assert_int_equal(e.code, rc);
            if (strcmp(e.field, cases[i].field) != 0)
                fail_msg("case %zu (%s): field \"%s\", want \"%s\"", i, p, e.field, cases[i].field);
            if (cases[i].msg && strcmp(e.msg, cases[i].msg) != 0)
                fail_msg("case %zu (%s): msg \"%s\", want \"%s\"", i, p, e.msg, cases[i].msg);
        } else {
            assert_int_equal(e.code, ERR_OK);
        }
    }
    arena_release(&a);
}

static void test_getter_values(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    json_t *root = parse_ok(&a, doc);
    struct err e;
    err_init(&e);
    const char *s = NULL;
    assert_int_equal(json_get_str(root, "location.lat", true, &s, &e), 0);
    assert_string_equal(s, "north");
    s = "keep";
    assert_int_equal(json_get_str(root, "missing", false, &s, &e), 0);
    assert_string_equal(s, "keep");
    assert_int_equal(json_get_strn(root, "name", true, 3, &s, &e), 0);
    assert_string_equal(s, "Ada");
    assert_int_equal(json_get_strn(root, "empty", false, 0, &s, &e), 0);
    assert_string_equal(s, "");

    int64_t v = 0;
    assert_int_equal(json_get_i64(root, "big", true, INT64_MIN, INT64_MAX, &v, &e), 0);
    assert_int_equal(v, INT64_MAX);
    assert_int_equal(json_get_i64(root, "small", true, INT64_MIN, INT64_MAX, &v, &e), 0);
    assert_int_equal(v, INT64_MIN);
    bool b = false;
    assert_int_equal(json_get_bool(root, "t", true, &b, &e), 0);
    assert_true(b);
    assert_int_equal(json_get_bool(root, "no", true, &b, &e), 0);
    assert_false(b);
    double d = 0;
    assert_int_equal(json_get_f64(root, "n", true, 0, 100, &d, &e), 0);
    assert_true(d == 42.0);
    assert_int_equal(e.code, ERR_OK);

    /* Ranges are inclusive; out of range names the field and the bounds. */
    struct {
        const char *path;
        int64_t lo, hi;
        int rc;
    } irange[] = {
        {"n", 42, 42, 0},
        {"n", 0, 41, ERR_INVALID},
        {"n", 43, 100, ERR_INVALID},
        {"neg", -7, 0, 0},
        {"neg", 0, 10, ERR_INVALID},
        {"big", 0, INT64_MAX - 1, ERR_INVALID},
        {"small", INT64_MIN + 1, 0, ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof(irange) / sizeof(irange[0]); i++) {
        err_init(&e);
        v = 12345;
        assert_int_equal(
            json_get_i64(root, irange[i].path, true, irange[i].lo, irange[i].hi, &v, &e),
            irange[i].rc);
        if (irange[i].rc) {
            assert_string_equal(e.field, irange[i].path);
            assert_non_null(strstr(e.msg, "must be between"));
            assert_int_equal(v, 12345);
        }
    }
    err_init(&e);
    assert_int_equal(json_get_i64(root, "n", true, 0, 10, &v, &e), ERR_INVALID);
    assert_string_equal(e.msg, "n must be between 0 and 10");

    struct {
        const char *path;
        double lo, hi;
        int rc;
    } frange[] = {
        {"f", 1.5, 1.5, 0},
        {"f", 0, 1.4999, ERR_INVALID},
        {"huge", 0, 1e308, 0},
        {"huge", 0, 1e299, ERR_INVALID},
        {"location.lng", -180, 180, 0},
        {"location.lng", -10, 10, ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof(frange) / sizeof(frange[0]); i++) {
        err_init(&e);
        d = -5;
        assert_int_equal(
            json_get_f64(root, frange[i].path, true, frange[i].lo, frange[i].hi, &d, &e),
            frange[i].rc);
        if (frange[i].rc) {
            assert_string_equal(e.field, frange[i].path);
            assert_true(d == -5);
        }
    }

    /* Only the first error is kept. */
    err_init(&e);
    assert_int_equal(json_get_str(root, "n", true, &s, &e), ERR_INVALID);
    assert_int_equal(json_get_bool(root, "name", true, &b, &e), ERR_INVALID);
    assert_string_equal(e.field, "n");

    json_t *o = NULL;
    assert_int_equal(json_get_object(root, "location.deep", true, &o, &e), 0);
    assert_int_equal(json_integer_value(json_object_get(o, "x")), 1);
    assert_int_equal(json_get_object(root, "missing", false, &o, &e), 0);
    assert_null(o);

    char *dump = json_dump_compact(json_object_get(root, "arr"));
    assert_string_equal(dump, "[1,2]");
    free(dump);
    arena_release(&a);
}

static void test_enum(void **state)
{
    (void)state;
    static const char *const colors[] = {"red", "green", "blue", NULL};
    struct arena a;
    arena_init(&a);
    json_t *root =
        parse_ok(&a, "{\"c\": \"blue\", \"bad\": \"pink\", \"n\": 1, \"case\": \"RED\"}");
    struct err e;
    err_init(&e);
    int idx = -1;
    assert_int_equal(json_get_enum(root, "c", true, colors, &idx, &e), 0);
    assert_int_equal(idx, 2);
    idx = -1;
    assert_int_equal(json_get_enum(root, "missing", false, colors, &idx, &e), 0);
    assert_int_equal(idx, -1);

    struct {
        const char *path;
        const char *field, *msg;
    } bad[] = {
        {"bad", "bad", "bad must be one of: red, green, blue"},
        {"case", "case", "case must be one of: red, green, blue"},
        {"n", "n", "n must be a string"},
        {"missing", "missing", "missing is required"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_init(&e);
        assert_int_equal(json_get_enum(root, bad[i].path, true, colors, &idx, &e), ERR_INVALID);
        assert_string_equal(e.field, bad[i].field);
        assert_string_equal(e.msg, bad[i].msg);
        assert_int_equal(idx, -1);
    }

    /* Many long values: the list is cut, never overflowed. */
    static const char *const many[] = {
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
        "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
        NULL,
    };
    err_init(&e);
    assert_int_equal(json_get_enum(root, "bad", true, many, &idx, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "bad must be one of: aaaa"));
    arena_release(&a);
}

static void test_reject_unknown(void **state)
{
    (void)state;
    static const char *const top[] = {"name", "location", NULL};
    static const char *const loc[] = {"lat", "lng", NULL};
    struct {
        const char *body, *path;
        const char *const *allowed;
        int rc;
        const char *field;
    } cases[] = {
        {"{\"name\": \"x\"}", "", top, 0, NULL},
        {"{}", "", top, 0, NULL},
        {"{\"name\": \"x\", \"nmae\": 1}", "", top, ERR_INVALID, "nmae"},
        {"{\"location\": {\"lat\": 1, \"lng\": 2}}", "location", loc, 0, NULL},
        {"{\"location\": {\"lat\": 1, \"alt\": 2}}", "location", loc, ERR_INVALID, "location.alt"},
        {"{\"name\": \"x\"}", "location", loc, 0, NULL},    /* absent: nothing to check */
        {"{\"location\": null}", "location", loc, 0, NULL}, /* null: likewise */
        {"{\"location\": 3}", "location", loc, ERR_INVALID, "location"},
        {"{\"a\": {\"b\": {\"zz\": 1}}}", "a.b", loc, ERR_INVALID, "a.b.zz"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct arena a;
        arena_init(&a);
        json_t *root = parse_ok(&a, cases[i].body);
        struct err e;
        err_init(&e);
        int rc = json_reject_unknown(root, cases[i].path, cases[i].allowed, &e);
        if (rc != cases[i].rc)
            fail_msg("case %zu: rc %d, want %d (%s)", i, rc, cases[i].rc, e.msg);
        if (rc) {
            assert_string_equal(e.field, cases[i].field);
            assert_non_null(strstr(e.msg, cases[i].field));
        }
        arena_release(&a);
    }
    /* NULL path means the root too. */
    struct arena a;
    arena_init(&a);
    json_t *root = parse_ok(&a, "{\"x\": 1}");
    struct err e;
    err_init(&e);
    assert_int_equal(json_reject_unknown(root, NULL, top, &e), ERR_INVALID);
    assert_string_equal(e.field, "x");
    assert_string_equal(e.msg, "unknown field x");
    arena_release(&a);
}

/* ======================== fixed-point numbers ======================== */

static void test_buf_fixed(void **state)
{
    (void)state;
    struct {
        double x;
        int decimals;
        const char *want;
    } cases[] = {
        {1.0, 6, "1.000000"},
        {0.0, 6, "0.000000"},
        {-0.0000001, 6, "0.000000"}, /* rounds to zero: no sign */
        {-0.25, 6, "-0.250000"},
        {0.1234567, 6, "0.123457"},
        {123456.5, 1, "123456.5"},
        {999999999.9999, 3, "1000000000.000"}, /* rounds up across the integer part */
        {2.5e12, 2, "2500000000000.00"},       /* printf above 1e9 */
        {0.5, 0, "0.5"},                       /* decimals below 1 are 1 */
        {0.123456789012, 12, "0.123456789"},   /* above 9 are 9 */
        {NAN, 6, "null"},
        {INFINITY, 6, "null"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b;
        buf_init(&b, 1024);
        assert_int_equal(json_buf_fixed(&b, cases[i].x, cases[i].decimals), 0);
        assert_int_equal(buf_append(&b, "", 1), 0);
        if (strcmp(b.data, cases[i].want) != 0)
            fail_msg("case %zu: %s, want %s", i, b.data, cases[i].want);
        /* it reads back as a real, the same value to the decimals written */
        if (isfinite(cases[i].x) && cases[i].decimals >= 1 && cases[i].decimals <= 9) {
            json_t *v = json_loads(b.data, JSON_DECODE_ANY, NULL);
            assert_true(json_is_real(v));
            assert_true(fabs(json_real_value(v) - cases[i].x) <=
                        0.5 * pow(10, -cases[i].decimals) + 1e-9 * fabs(cases[i].x));
            json_decref(v);
        }
        buf_release(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),          cmocka_unit_test(test_buf_fixed),
        cmocka_unit_test(test_depth),          cmocka_unit_test(test_getters),
        cmocka_unit_test(test_getter_values),  cmocka_unit_test(test_enum),
        cmocka_unit_test(test_reject_unknown),
    };
    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
