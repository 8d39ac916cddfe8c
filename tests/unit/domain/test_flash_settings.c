/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the flash settings table (src/domain/flash/flash.c, flash.h): every declared
 * setting has its default inside its range, survives the JSON round trip, and is refused by a
 * merge (PUT) just outside its range or with the wrong type, naming the field and changing
 * nothing; the tier list and unknown fields; and the lenient decode of stored JSON.
 */
#include "domain/flash/flash.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The setting's value in c, as a double. */
static double value(const struct flash_config *c, const struct settings_field *f)
{
    const char *p = (const char *)c + f->offset;
    if (f->type != SETTINGS_NUMBER) {
        int v;
        memcpy(&v, p, sizeof(v));
        return v;
    }
    double v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* {"a": v} or {"weights": {"a": v}} for a setting's dotted name; `v` is JSON text. */
static json_t *patch_of(const char *name, const char *v)
{
    char text[256];
    const char *dot = strchr(name, '.');
    if (dot)
        snprintf(text, sizeof(text), "{\"%.*s\":{\"%s\":%s}}", (int)(dot - name), name, dot + 1, v);
    else
        snprintf(text, sizeof(text), "{\"%s\":%s}", name, v);
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    return j;
}

/* Merge must fail naming `field` and leave the configuration as it was. */
static void refused(const char *patch_text, json_t *patch, const char *field)
{
    struct flash_config c, before;
    flash_config_default(&c);
    c.threshold = 0.42; /* not a default: a reset would show */
    before = c;
    struct err e;
    err_init(&e);
    int rc = flash_config_merge(&c, patch, &e);
    if (rc != ERR_INVALID || strcmp(e.field, field) != 0)
        fail_msg("%s: rc %d field \"%s\" (%s), want %s", patch_text, rc, e.field, e.msg, field);
    assert_memory_equal(&c, &before, sizeof(c));
    json_decref(patch);
}

static void test_table(void **state)
{
    (void)state;
    struct flash_config c;
    flash_config_default(&c);
    struct err e;
    err_init(&e);
    assert_int_equal(flash_config_validate(&c, &e), 0);
    assert_true(flash_settings_count >= 14);
    for (size_t i = 0; i < flash_settings_count; i++) {
        const struct settings_field *f = &flash_settings[i];
        assert_true(f->min <= f->def && f->def <= f->max);
        assert_true(value(&c, f) == f->def);
        assert_non_null(f->doc);
        for (size_t k = 0; k < i; k++) {
            if (strcmp(flash_settings[k].name, f->name) == 0 ||
                flash_settings[k].offset == f->offset)
                fail_msg("%s is declared twice", f->name);
        }
    }
    /* the seed's defaults */
    assert_true(c.radius_m == 1000 && c.window_minutes == 10 && c.n_tiers == 3);
    assert_true(c.tiers[0].max_m == 300 && c.tiers[0].discount == 15);
    assert_true(c.tiers[2].max_m == 900 && c.tiers[2].discount == 30);
}

/* Each setting at its min and max goes through merge, JSON and decode unchanged. */
static void test_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < flash_settings_count; i++) {
        const struct settings_field *f = &flash_settings[i];
        double edges[2] = {f->min, f->max};
        for (int k = 0; k < 2; k++) {
            /* weights may not all be 0: others keep their defaults, so the sum stays positive */
            char v[64];
            if (f->type == SETTINGS_BOOL)
                snprintf(v, sizeof(v), "%s", edges[k] != 0 ? "true" : "false");
            else
                snprintf(v, sizeof(v), f->type == SETTINGS_INT ? "%.0f" : "%.17g", edges[k]);
            json_t *patch = patch_of(f->name, v);
            struct flash_config c;
            flash_config_default(&c);
            struct err e;
            err_init(&e);
            if (flash_config_merge(&c, patch, &e))
                fail_msg("%s = %s: %s", f->name, v, e.msg);
            json_decref(patch);
            assert_true(value(&c, f) == edges[k]);
            json_t *j = flash_config_to_json(&c);
            char *text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
            json_decref(j);
            struct flash_config back;
            assert_int_equal(flash_config_decode(text, &back, &e), 0);
            free(text);
            assert_memory_equal(&back, &c, sizeof(c));
        }
    }
}

/* Just outside the range, or the wrong type: refused, naming the setting, nothing changed. */
static void test_merge_refuses(void **state)
{
    (void)state;
    for (size_t i = 0; i < flash_settings_count; i++) {
        const struct settings_field *f = &flash_settings[i];
        const double step = f->type == SETTINGS_INT ? 1 : 0.001;
        char v[64];
        snprintf(v, sizeof(v), "%.17g", f->min - step);
        refused(v, patch_of(f->name, v), f->name);
        snprintf(v, sizeof(v), "%.17g", f->max + step);
        refused(v, patch_of(f->name, v), f->name);
        refused("\"5\"", patch_of(f->name, "\"5\""), f->name);
        if (f->type == SETTINGS_INT)
            refused("1.5", patch_of(f->name, "1.5"), f->name);
    }
    /* unknown fields, at the top and inside weights */
    refused("speed", json_pack("{s:i}", "speed", 2), "speed");
    refused("weights.luck", json_pack("{s:{s:f}}", "weights", "luck", 1.0), "weights.luck");
    refused("weights", json_pack("{s:i}", "weights", 3), "weights");
    /* all weights 0 */
    refused("weights 0",
            json_pack("{s:{s:i,s:i,s:i,s:i,s:i}}", "weights", "demand", 0, "density", 0,
                      "precommit", 0, "category", 0, "distance", 0),
            "weights");
    /* tiers: the list and each entry */
    refused("tiers []", json_pack("{s:[]}", "tiers"), "tiers");
    refused("tiers 9",
            json_loads("{\"tiers\":[{\"max_m\":1,\"discount\":1},{\"max_m\":2,"
                       "\"discount\":1},{\"max_m\":3,\"discount\":1},{\"max_m\":4,"
                       "\"discount\":1},{\"max_m\":5,\"discount\":1},{\"max_m\":6,"
                       "\"discount\":1},{\"max_m\":7,\"discount\":1},{\"max_m\":8,"
                       "\"discount\":1},{\"max_m\":9,\"discount\":1}]}",
                       0, NULL),
            "tiers");
    refused("tiers[1].max_m",
            json_loads("{\"tiers\":[{\"max_m\":300,\"discount\":10},"
                       "{\"max_m\":200,\"discount\":20}]}",
                       0, NULL),
            "tiers[1].max_m");
    refused("tiers[1].discount",
            json_loads("{\"tiers\":[{\"max_m\":300,\"discount\":10},"
                       "{\"max_m\":600,\"discount\":91}]}",
                       0, NULL),
            "tiers[1].discount");
    refused("tiers[0].max_m",
            json_loads("{\"tiers\":[{\"max_m\":50000,\"discount\":10}]}", 0, NULL),
            "tiers[0].max_m");
    refused("tiers[0].discount missing", json_loads("{\"tiers\":[{\"max_m\":300}]}", 0, NULL),
            "tiers[0].discount");
    refused("tiers[0].color",
            json_loads("{\"tiers\":[{\"max_m\":300,\"discount\":1,\"color\":1}]}", 0, NULL),
            "tiers[0].color");
    refused("tiers[0] number", json_loads("{\"tiers\":[3]}", 0, NULL), "tiers[0]");
    refused("extra_categories[1]",
            json_loads("{\"extra_categories\":[\"florist\",\"Bad\"]}", 0, NULL),
            "extra_categories[1]");
    refused("extra_categories[0]", json_loads("{\"extra_categories\":[\"coffee\"]}", 0, NULL),
            "extra_categories[0]");
    refused("category_fees unknown category",
            json_loads("{\"category_fees\":{\"florist\":10}}", 0, NULL), "category_fees.florist");
    refused("category_fees negative", json_loads("{\"category_fees\":{\"coffee\":-1}}", 0, NULL),
            "category_fees.coffee");
    refused("category_fees decimal", json_loads("{\"category_fees\":{\"coffee\":1.5}}", 0, NULL),
            "category_fees.coffee");
    refused("category_fees too big",
            json_loads("{\"category_fees\":{\"coffee\":100000001}}", 0, NULL),
            "category_fees.coffee");
    refused("category_fees list", json_loads("{\"category_fees\":[1]}", 0, NULL), "category_fees");
}

/* Fees per category: an extra category may have one; the rest pay traffic_fee. */
static void test_category_fees(void **state)
{
    (void)state;
    struct flash_config c;
    flash_config_default(&c);
    struct err e;
    err_init(&e);
    json_t *patch = json_loads("{\"traffic_fee\":150,\"extra_categories\":[\"florist\"],"
                               "\"category_fees\":{\"coffee\":120,\"florist\":0}}",
                               0, NULL);
    assert_int_equal(flash_config_merge(&c, patch, &e), 0);
    json_decref(patch);
    assert_int_equal(flash_config_fee(&c, "coffee"), 120);
    assert_int_equal(flash_config_fee(&c, "florist"), 0);
    assert_int_equal(flash_config_fee(&c, "bakery"), 150);
    assert_int_equal(flash_config_fee(&c, ""), 150);
    /* stored and read back */
    json_t *j = flash_config_to_json(&c);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    struct flash_config back;
    assert_int_equal(flash_config_decode(text, &back, &e), 0);
    free(text);
    assert_int_equal(back.n_category_fees, 2);
    assert_int_equal(flash_config_fee(&back, "coffee"), 120);
    assert_int_equal(flash_config_fee(&back, "florist"), 0);
    /* dropping the extra category while its fee stays is refused, naming the fee */
    patch = json_loads("{\"extra_categories\":[]}", 0, NULL);
    assert_int_equal(flash_config_merge(&c, patch, &e), ERR_INVALID);
    json_decref(patch);
    assert_string_equal(e.field, "category_fees.florist");
    /* the map is replaced as a whole */
    err_init(&e);
    patch = json_loads("{\"category_fees\":{}}", 0, NULL);
    assert_int_equal(flash_config_merge(&c, patch, &e), 0);
    json_decref(patch);
    assert_int_equal(c.n_category_fees, 0);
    assert_int_equal(flash_config_fee(&c, "coffee"), 150);
    /* a stored fee of a category no longer known, or out of range, is dropped */
    assert_int_equal(flash_config_decode("{\"category_fees\":{\"florist\":5,\"coffee\":-3,"
                                         "\"bakery\":70}}",
                                         &back, &e),
                     0);
    assert_int_equal(back.n_category_fees, 1);
    assert_int_equal(flash_config_fee(&back, "bakery"), 70);
    assert_int_equal(flash_config_fee(&back, "florist"), 0);
}

/* A merge changes only what it names; lists are replaced. */
static void test_merge_applies(void **state)
{
    (void)state;
    struct flash_config c, def;
    flash_config_default(&c);
    def = c;
    json_t *patch = json_loads("{\"weights\":{\"distance\":2.5},\"radius_m\":1500,"
                               "\"tiers\":[{\"max_m\":400,\"discount\":10}],"
                               "\"extra_categories\":[\"florist\"],\"window_minutes\":20}",
                               0, NULL);
    struct err e;
    err_init(&e);
    assert_int_equal(flash_config_merge(&c, patch, &e), 0);
    json_decref(patch);
    assert_true(c.weights[FLASH_C_DISTANCE] == 2.5);
    assert_true(c.weights[FLASH_C_DEMAND] == def.weights[FLASH_C_DEMAND]);
    assert_true(c.radius_m == 1500 && c.window_minutes == 20);
    assert_true(c.threshold == def.threshold && c.lead_minutes == def.lead_minutes);
    assert_int_equal(c.n_tiers, 1);
    assert_true(c.tiers[0].max_m == 400 && c.tiers[0].discount == 10);
    assert_int_equal(c.n_extra_categories, 1);
    assert_string_equal(c.extra_categories[0], "florist");
}

/* Stored JSON: what is missing, mistyped or out of today's range keeps its default. */
static void test_decode_lenient(void **state)
{
    (void)state;
    struct flash_config c, def;
    flash_config_default(&def);
    struct err e;
    err_init(&e);
    assert_int_equal(flash_config_decode("", &c, &e), 0);
    assert_memory_equal(&c, &def, sizeof(c));
    assert_int_equal(flash_config_decode("{\"radius_m\":5,\"window_minutes\":1000,\"threshold\":"
                                         "\"x\",\"lead_minutes\":7,\"tiers\":[{\"max_m\":10}],"
                                         "\"weights\":{\"demand\":2}}",
                                         &c, &e),
                     0);
    assert_true(c.radius_m == def.radius_m);                /* below today's minimum */
    assert_int_equal(c.window_minutes, def.window_minutes); /* above today's maximum */
    assert_true(c.threshold == def.threshold);              /* wrong type */
    assert_int_equal(c.lead_minutes, 7);                    /* fine */
    assert_true(c.weights[FLASH_C_DEMAND] == 2);
    assert_int_equal(c.n_tiers, def.n_tiers); /* an incomplete tier keeps the default tiers */
    assert_int_equal(flash_config_validate(&c, &e), 0);
    assert_int_equal(flash_config_decode("[1,2]", &c, &e), ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),          cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_merge_refuses),  cmocka_unit_test(test_merge_applies),
        cmocka_unit_test(test_decode_lenient), cmocka_unit_test(test_category_fees),
    };
    return cmocka_run_group_tests_name("flash_settings", tests, NULL, NULL);
}
