/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for request bodies: json_parse_object on the raw bytes, then every typed
 * getter of src/json/json.h on the paths handlers use ("name", "role", "location.lat", ...)
 * and json_reject_unknown. Checks that a failing getter always sets an error message.
 * Built and run by scripts/fuzz.sh; seeds in fuzz/corpus/fuzz_json_body/.
 */
#include "core/arena.h"
#include "core/err.h"
#include "json/json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[] = {
    "",        "name",       "role",         "email",        "password", "payload",
    "items",   "location",   "location.lat", "location.lng", "a.b.c",    "max_attempts",
    "delay_s", "unique_key", "enabled",      "name.first",   "..",       "x.",
};

static const char *const roles[] = {"admin", "operator", "viewer", NULL};
static const char *const root_fields[] = {"name",       "payload",      "run_at",   "delay_s",
                                          "unique_key", "max_attempts", "location", NULL};
static const char *const location_fields[] = {"lat", "lng", NULL};

/* A getter's outcome must be coherent: 0 leaves no error, non-zero names one. */
static void check(int rc, const struct err *e)
{
    if (rc == 0 && e->code != ERR_OK)
        abort();
    if (rc != 0 && (e->code == ERR_OK || e->msg[0] == '\0'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    arena_init(&a);
    struct err e;
    err_init(&e);
    json_t *root = NULL;
    int rc = json_parse_object((const char *)data, size, &a, &root, &e);
    check(rc, &e);
    if (rc == 0) {
        if (!json_is_object(root))
            abort();
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
            const char *p = paths[i];
            bool req = (i % 2) == 0;
            const char *s = NULL;
            int64_t n = 0;
            double d = 0;
            bool b = false;
            int idx = -1;
            json_t *sub = NULL;

            err_init(&e);
            check(json_get_str(root, p, req, &s, &e), &e);
            err_init(&e);
            check(json_get_strn(root, p, req, 16, &s, &e), &e);
            err_init(&e);
            check(json_get_i64(root, p, req, -1000, INT64_MAX, &n, &e), &e);
            err_init(&e);
            check(json_get_f64(root, p, req, -90.0, 90.0, &d, &e), &e);
            err_init(&e);
            check(json_get_bool(root, p, req, &b, &e), &e);
            err_init(&e);
            rc = json_get_enum(root, p, req, roles, &idx, &e);
            check(rc, &e);
            if (rc == 0 && idx != -1 && (idx < 0 || idx > 2))
                abort();
            err_init(&e);
            check(json_get_object(root, p, req, &sub, &e), &e);
            err_init(&e);
            check(json_get_array(root, p, req, &sub, &e), &e);
        }
        err_init(&e);
        check(json_reject_unknown(root, "", root_fields, &e), &e);
        err_init(&e);
        check(json_reject_unknown(root, "location", location_fields, &e), &e);
        char *text = json_dump_compact(root);
        free(text);
    }
    arena_release(&a);
    return 0;
}
