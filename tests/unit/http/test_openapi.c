/* SPDX-License-Identifier: MIT */
/*
 * assets/openapi.json against THE route table (src/http/routes.c): every route is documented
 * with its method, every documented operation is a route, and each operation states the route's
 * role, security, body limit, request body, path parameters and error answers. With
 * ICESHOP_OPENAPI_CHECK=1 it also runs scripts/openapi-check.sh (a real OpenAPI 3.1 validator).
 */
#include "domain/flash/flash.h"
#include "domain/intel/intel_config.h"
#include "http/router.h"
#include "http/routes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const methods[] = {"get",  "put",   "post",  "delete", "options",
                                      "head", "patch", "trace", NULL};

struct fixture {
    json_t *doc;
    char path[PATH_MAX]; /* where the document was found */
    char root[64];       /* the repository root ("", "../", ...), for the script */
};

static struct fixture fx;

/* ======================== loading ======================== */

static bool readable(const char *path)
{
    return access(path, R_OK) == 0;
}

/* The repository root: the working directory or one of its parents (build dirs run tests too). */
static bool find_root(char *out, size_t len)
{
    static const char *const ups[] = {
        "", "../", "../../", "../../../", "../../../../", "../../../../../", NULL};
    for (int i = 0; ups[i]; i++) {
        char probe[PATH_MAX];
        snprintf(probe, sizeof(probe), "%sassets/openapi.json", ups[i]);
        if (readable(probe)) {
            snprintf(out, len, "%s", ups[i]);
            return true;
        }
    }
    return false;
}

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof(fx));
    bool have_root = find_root(fx.root, sizeof(fx.root));
    const char *dir = getenv("ICESHOP_ASSETS_DIR");
    if (dir && *dir)
        snprintf(fx.path, sizeof(fx.path), "%s/openapi.json", dir);
    else if (have_root)
        snprintf(fx.path, sizeof(fx.path), "%sassets/openapi.json", fx.root);
    else {
        fprintf(stderr, "assets/openapi.json not found (run from the repository root or set "
                        "ICESHOP_ASSETS_DIR)\n");
        return -1;
    }
    json_error_t je;
    fx.doc = json_load_file(fx.path, 0, &je);
    if (!fx.doc) {
        fprintf(stderr, "%s:%d:%d: %s\n", fx.path, je.line, je.column, je.text);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(fx.doc);
    fx.doc = NULL;
    return 0;
}

/* ======================== helpers ======================== */

static void lower(const char *in, char *out, size_t len)
{
    size_t i = 0;
    for (; in[i] && i + 1 < len; i++)
        out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] - 'A' + 'a' : in[i]);
    out[i] = '\0';
}

/* The node a local "#/a/b~1c" JSON pointer names, or NULL. */
static json_t *pointer(json_t *doc, const char *ref)
{
    if (strncmp(ref, "#/", 2) != 0)
        return NULL;
    json_t *node = doc;
    const char *p = ref + 2;
    while (node && *p) {
        char key[256];
        size_t k = 0;
        for (; *p && *p != '/'; p++) {
            char c = *p;
            if (c == '~' && (p[1] == '0' || p[1] == '1'))
                c = *++p == '0' ? '~' : '/';
            if (k + 1 >= sizeof(key))
                return NULL;
            key[k++] = c;
        }
        key[k] = '\0';
        if (*p == '/')
            p++;
        node = json_object_get(node, key);
    }
    return node;
}

/* Follow $ref (a few hops) to the object it names. */
static json_t *resolve(json_t *node)
{
    for (int hops = 0; node && hops < 8; hops++) {
        const char *ref = json_string_value(json_object_get(node, "$ref"));
        if (!ref)
            return node;
        node = pointer(fx.doc, ref);
    }
    return node;
}

static json_t *operation(const char *method, const char *pattern)
{
    char m[16];
    lower(method, m, sizeof(m));
    return json_object_get(json_object_get(json_object_get(fx.doc, "paths"), pattern), m);
}

static const struct http_route *route_of(const char *method, const char *pattern)
{
    for (size_t i = 0; i < http_routes_count; i++) {
        char m[16];
        lower(http_routes[i].method, m, sizeof(m));
        if (strcmp(m, method) == 0 && strcmp(http_routes[i].pattern, pattern) == 0)
            return &http_routes[i];
    }
    return NULL;
}

static bool is_error_schema(json_t *schema)
{
    const char *ref = json_string_value(json_object_get(schema, "$ref"));
    return ref && strcmp(ref, "#/components/schemas/Error") == 0;
}

/* The response for `code` answers with the shared Error body. */
static bool error_response(json_t *op, const char *code)
{
    json_t *r = resolve(json_object_get(json_object_get(op, "responses"), code));
    json_t *media = json_object_get(json_object_get(r, "content"), "application/json");
    return is_error_schema(json_object_get(media, "schema"));
}

static bool has_4xx_error(json_t *op)
{
    const char *code;
    json_t *r;
    json_object_foreach(json_object_get(op, "responses"), code, r)
    {
        (void)r;
        if (code[0] == '4' && error_response(op, code))
            return true;
    }
    return false;
}

/* A path parameter `name` is declared on the operation or its path item. */
static bool has_path_param(json_t *item, json_t *op, const char *name)
{
    json_t *lists[] = {json_object_get(op, "parameters"), json_object_get(item, "parameters")};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *p;
        json_array_foreach(lists[l], i, p)
        {
            p = resolve(p);
            const char *in = json_string_value(json_object_get(p, "in"));
            const char *n = json_string_value(json_object_get(p, "name"));
            if (in && n && strcmp(in, "path") == 0 && strcmp(n, name) == 0 &&
                json_is_true(json_object_get(p, "required")))
                return true;
        }
    }
    return false;
}

static const char *role_name(enum account_role role)
{
    switch (role) {
    case ROLE_NONE:
        return "public";
    case ROLE_VIEWER:
        return "viewer";
    case ROLE_OPERATOR:
        return "operator";
    case ROLE_ADMIN:
        return "admin";
    }
    return "?";
}

/* ======================== the tests ======================== */

static void test_document(void **state)
{
    (void)state;
    assert_string_equal(json_string_value(json_object_get(fx.doc, "openapi")), "3.1.0");
    json_t *info = json_object_get(fx.doc, "info");
    assert_string_equal(json_string_value(json_object_get(info, "title")), "Iceshop API");
    assert_string_equal(json_string_value(json_object_get(info, "version")), "0.1.0");
    json_t *err = resolve(pointer(fx.doc, "#/components/schemas/Error"));
    assert_non_null(err);
    json_t *inner = json_object_get(json_object_get(err, "properties"), "error");
    const char *want[] = {"code", "message", "field", "request_id"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!json_object_get(json_object_get(inner, "properties"), want[i]))
            fail_msg("Error schema lacks error.%s", want[i]);
}

/* Every (method, pattern) of the route table is documented. */
static void test_every_route_documented(void **state)
{
    (void)state;
    int missing = 0;
    for (size_t i = 0; i < http_routes_count; i++) {
        const struct http_route *r = &http_routes[i];
        if (!json_is_object(operation(r->method, r->pattern))) {
            fprintf(stderr, "undocumented route: %s %s (add it to %s)\n", r->method, r->pattern,
                    fx.path);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
}

/* Every documented operation is a route: no stale docs. */
static void test_no_stale_operations(void **state)
{
    (void)state;
    int stale = 0;
    const char *pattern;
    json_t *item;
    json_object_foreach(json_object_get(fx.doc, "paths"), pattern, item)
    {
        int ops = 0;
        for (int m = 0; methods[m]; m++) {
            if (!json_object_get(item, methods[m]))
                continue;
            ops++;
            if (!route_of(methods[m], pattern)) {
                fprintf(stderr, "documented but not in src/http/routes.c: %s %s\n", methods[m],
                        pattern);
                stale++;
            }
        }
        if (ops == 0) {
            fprintf(stderr, "path without operations: %s\n", pattern);
            stale++;
        }
    }
    assert_int_equal(stale, 0);
}

/* Each operation states what the route table says: role, security, body, parameters, errors. */
static void check_operation(const struct http_route *r, json_t *item, json_t *op, int *bad)
{
#define PROBLEM(...)                                                                               \
    do {                                                                                           \
        fprintf(stderr, "%s %s: ", r->method, r->pattern);                                         \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        (*bad)++;                                                                                  \
    } while (0)

    const char *role = json_string_value(json_object_get(op, "x-iceshop-role"));
    if (!role)
        PROBLEM("no x-iceshop-role");
    else if (r->role == ROLE_NONE ? strcmp(role, "public") != 0 && strcmp(role, "signed") != 0
                                  : strcmp(role, role_name(r->role)) != 0)
        PROBLEM("x-iceshop-role is %s, the route table says %s", role, role_name(r->role));

    json_t *max = json_object_get(op, "x-iceshop-max-body");
    if (!json_is_integer(max) || (size_t)json_integer_value(max) != r->max_body)
        PROBLEM("x-iceshop-max-body must be %zu", r->max_body);

    json_t *sec = json_object_get(op, "security");
    if (r->role == ROLE_NONE && !(json_is_array(sec) && json_array_size(sec) == 0))
        PROBLEM("a public route needs \"security\": []");
    if (r->role != ROLE_NONE && json_is_array(sec) && json_array_size(sec) == 0)
        PROBLEM("an authenticated route must not say \"security\": []");
    if (!json_string_value(json_object_get(op, "summary")))
        PROBLEM("no summary");
    if (!json_string_value(json_object_get(op, "operationId")))
        PROBLEM("no operationId");

    json_t *body = resolve(json_object_get(op, "requestBody"));
    if (r->max_body == 0 && body)
        PROBLEM("documents a request body; the route takes none");
    if (r->max_body > 0 && !body)
        PROBLEM("no requestBody; the route takes up to %zu bytes", r->max_body);
    if (body && (r->flags & HTTP_BODY_JSON)) {
        if (!json_object_get(json_object_get(body, "content"), "application/json"))
            PROBLEM("the request body must be application/json");
        bool required = json_is_true(json_object_get(body, "required"));
        if (required == ((r->flags & HTTP_BODY_OPTIONAL) != 0))
            PROBLEM("requestBody.required must be %s",
                    (r->flags & HTTP_BODY_OPTIONAL) ? "false" : "true");
    }

    /* every {name} of the pattern is a required path parameter */
    for (const char *p = strchr(r->pattern, '{'); p; p = strchr(p + 1, '{')) {
        const char *end = strchr(p, '}');
        char name[64];
        if (!end || (size_t)(end - p) >= sizeof(name))
            break;
        snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1), p + 1);
        if (!has_path_param(item, op, name))
            PROBLEM("no required path parameter %s", name);
    }

    json_t *responses = json_object_get(op, "responses");
    bool success = false;
    const char *code;
    json_t *v;
    json_object_foreach(responses, code, v)
    {
        (void)v;
        success = success || code[0] == '2' || code[0] == '3';
    }
    if (!success)
        PROBLEM("no 2xx or 3xx response");
    if (r->flags & HTTP_SSE) {
        json_t *ok = resolve(json_object_get(responses, "200"));
        if (!json_object_get(json_object_get(ok, "content"), "text/event-stream"))
            PROBLEM("an event stream answers 200 text/event-stream");
    }

    /* errors the server itself produces for this route */
    const char *need[8];
    int n_need = 0;
    need[n_need++] = "429";
    if (r->role != ROLE_NONE)
        need[n_need++] = "401";
    if (r->role > ROLE_VIEWER)
        need[n_need++] = "403";
    if (r->flags & HTTP_BODY_JSON) {
        need[n_need++] = "400";
        need[n_need++] = "413";
        need[n_need++] = "415";
    }
    if (strchr(r->pattern, '{') && r->role != ROLE_NONE)
        need[n_need++] = "404";
    for (int i = 0; i < n_need; i++)
        if (!error_response(op, need[i]))
            PROBLEM("no %s response with the Error schema", need[i]);

    bool takes_input =
        body || json_array_size(json_object_get(op, "parameters")) > 0 || strchr(r->pattern, '{');
    if ((takes_input || r->role != ROLE_NONE) && !has_4xx_error(op))
        PROBLEM("takes input or needs auth but has no 4xx response with the Error schema");
#undef PROBLEM
}

static void test_operations_match_table(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < http_routes_count; i++) {
        const struct http_route *r = &http_routes[i];
        json_t *item = json_object_get(json_object_get(fx.doc, "paths"), r->pattern);
        json_t *op = operation(r->method, r->pattern);
        if (op)
            check_operation(r, item, op, &bad);
    }
    assert_int_equal(bad, 0);
}

/* Documented operations outside the table (if any) still answer errors in the shared shape. */
static void test_error_responses_resolve(void **state)
{
    (void)state;
    int bad = 0;
    const char *pattern;
    json_t *item;
    json_object_foreach(json_object_get(fx.doc, "paths"), pattern, item)
    {
        for (int m = 0; methods[m]; m++) {
            json_t *op = json_object_get(item, methods[m]);
            const char *code;
            json_t *resp;
            json_object_foreach(json_object_get(op, "responses"), code, resp)
            {
                if (!resolve(resp)) {
                    fprintf(stderr, "%s %s %s: $ref points nowhere\n", methods[m], pattern, code);
                    bad++;
                } else if (code[0] >= '4' && !error_response(op, code) &&
                           strcmp(pattern, "/health/detailed") != 0) {
                    fprintf(stderr, "%s %s %s: error answers use the Error schema\n", methods[m],
                            pattern, code);
                    bad++;
                }
            }
        }
    }
    assert_int_equal(bad, 0);
}

/* ICESHOP_OPENAPI_CHECK=1: the real validator (npm) must accept the document too. */
/* ======================== the flash settings ======================== */

static double num_of(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

/* One setting's schema: its type, minimum, maximum (and default when `with_default`). */
static void check_setting(const char *where, json_t *schema, const struct settings_field *f,
                          bool with_default)
{
    if (!schema)
        fail_msg("%s: %s is not documented", where, f->name);
    const char *type = json_string_value(json_object_get(schema, "type"));
    const char *want = f->type == SETTINGS_INT    ? "integer"
                       : f->type == SETTINGS_BOOL ? "boolean"
                                                  : "number";
    if (!type || strcmp(type, want) != 0)
        fail_msg("%s: %s is \"%s\", the table says %s", where, f->name, type ? type : "?", want);
    if (f->type == SETTINGS_BOOL) {
        json_t *def = json_object_get(schema, "default");
        if (with_default && (!json_is_boolean(def) || json_is_true(def) != (f->def != 0)))
            fail_msg("%s: %s default is not %s, as the table says", where, f->name,
                     f->def != 0 ? "true" : "false");
        return;
    }
    if (!json_is_number(json_object_get(schema, "minimum")) || num_of(schema, "minimum") != f->min)
        fail_msg("%s: %s minimum %g, the table says %g", where, f->name, num_of(schema, "minimum"),
                 f->min);
    if (!json_is_number(json_object_get(schema, "maximum")) || num_of(schema, "maximum") != f->max)
        fail_msg("%s: %s maximum %g, the table says %g", where, f->name, num_of(schema, "maximum"),
                 f->max);
    if (with_default && (!json_is_number(json_object_get(schema, "default")) ||
                         num_of(schema, "default") != f->def))
        fail_msg("%s: %s default %g, the table says %g", where, f->name, num_of(schema, "default"),
                 f->def);
}

/*
 * Config and ConfigUpdate state each setting's range and default as flash_settings[] declares
 * them (src/domain/flash/flash.c), the distance tiers as flash_tier_fields[], and the lists'
 * limits as flash.h.
 */
static void test_flash_settings_match(void **state)
{
    (void)state;
    const char *names[] = {"Config", "ConfigUpdate"};
    json_t *tier = resolve(pointer(fx.doc, "#/components/schemas/DistanceTier"));
    assert_non_null(tier);
    for (size_t k = 0; k < flash_tier_fields_count; k++)
        check_setting(
            "DistanceTier",
            json_object_get(json_object_get(tier, "properties"), flash_tier_fields[k].name),
            &flash_tier_fields[k], false);
    struct flash_config def;
    flash_config_default(&def);
    for (size_t n = 0; n < 2; n++) {
        char ref[64];
        snprintf(ref, sizeof(ref), "#/components/schemas/%s", names[n]);
        json_t *props = json_object_get(resolve(pointer(fx.doc, ref)), "properties");
        assert_non_null(props);
        size_t documented = 0;
        for (size_t i = 0; i < flash_settings_count; i++) {
            const struct settings_field *f = &flash_settings[i];
            const char *dot = strchr(f->name, '.');
            json_t *schema;
            if (dot) {
                char parent[64];
                snprintf(parent, sizeof(parent), "%.*s", (int)(dot - f->name), f->name);
                schema = json_object_get(
                    json_object_get(json_object_get(props, parent), "properties"), dot + 1);
            } else {
                schema = json_object_get(props, f->name);
                documented++;
            }
            check_setting(names[n], schema, f, true);
        }
        /* nothing documented that the table does not declare */
        size_t parents = 0;
        const char *key;
        json_t *v;
        json_object_foreach(props, key, v)
        {
            if (strcmp(key, "tiers") == 0 || strcmp(key, "extra_categories") == 0 ||
                strcmp(key, "category_fees") == 0)
                continue;
            bool declared = false;
            for (size_t i = 0; i < flash_settings_count && !declared; i++) {
                const char *nm = flash_settings[i].name;
                declared = strcmp(nm, key) == 0 ||
                           (strncmp(nm, key, strlen(key)) == 0 && nm[strlen(key)] == '.');
            }
            if (!declared)
                fail_msg("%s documents %s, which flash_settings[] does not declare", names[n], key);
            parents += strchr(key, '.') == NULL && json_object_get(v, "properties") != NULL;
        }
        assert_true(documented + parents + 3 == json_object_size(props));
        json_t *tiers = json_object_get(props, "tiers");
        assert_int_equal(json_integer_value(json_object_get(tiers, "minItems")), 1);
        assert_int_equal(json_integer_value(json_object_get(tiers, "maxItems")), FLASH_MAX_TIERS);
        json_t *dt = json_object_get(tiers, "default");
        assert_int_equal(json_array_size(dt), (size_t)def.n_tiers);
        for (int i = 0; i < def.n_tiers; i++) {
            assert_true(num_of(json_array_get(dt, (size_t)i), "max_m") == def.tiers[i].max_m);
            assert_true(num_of(json_array_get(dt, (size_t)i), "discount") == def.tiers[i].discount);
        }
        assert_int_equal(json_integer_value(json_object_get(
                             json_object_get(props, "extra_categories"), "maxItems")),
                         FLASH_MAX_EXTRA_CATEGORIES);
        json_t *fees = json_object_get(props, "category_fees");
        assert_int_equal(json_integer_value(json_object_get(fees, "maxProperties")),
                         FLASH_MAX_CATEGORY_FEES);
        json_t *fee = json_object_get(fees, "additionalProperties");
        assert_int_equal(json_integer_value(json_object_get(fee, "maximum")), FLASH_FEE_MAX);
        assert_int_equal(json_integer_value(json_object_get(fee, "minimum")), 0);
    }
}

/* The schema of a setting named "a" or "a.b" in `props`, or NULL. */
static json_t *setting_schema(json_t *props, const char *name)
{
    const char *dot = strchr(name, '.');
    if (!dot)
        return json_object_get(props, name);
    char parent[64];
    snprintf(parent, sizeof(parent), "%.*s", (int)(dot - name), name);
    return json_object_get(json_object_get(json_object_get(props, parent), "properties"), dot + 1);
}

/*
 * IntelConfig and IntelConfigUpdate state each setting's range and default as intel_settings[]
 * declares them (src/domain/intel/intel_config.c), and document nothing else.
 */
static void test_intel_settings_match(void **state)
{
    (void)state;
    const char *names[] = {"IntelConfig", "IntelConfigUpdate"};
    for (size_t n = 0; n < 2; n++) {
        char ref[64];
        snprintf(ref, sizeof(ref), "#/components/schemas/%s", names[n]);
        json_t *props = json_object_get(resolve(pointer(fx.doc, ref)), "properties");
        assert_non_null(props);
        size_t leaves = 0;
        for (size_t i = 0; i < intel_settings_count; i++)
            check_setting(names[n], setting_schema(props, intel_settings[i].name),
                          &intel_settings[i], true);
        const char *key;
        json_t *v;
        json_object_foreach(props, key, v)
        {
            json_t *sub = json_object_get(v, "properties");
            const char *leaf;
            json_t *lv;
            json_object_foreach(sub, leaf, lv)
            {
                char full[128];
                snprintf(full, sizeof(full), "%s.%s", key, leaf);
                bool declared = false;
                for (size_t i = 0; i < intel_settings_count && !declared; i++)
                    declared = strcmp(intel_settings[i].name, full) == 0;
                if (!declared)
                    fail_msg("%s documents %s, which intel_settings[] does not declare", names[n],
                             full);
                leaves++;
            }
            if (!sub)
                fail_msg("%s documents %s, which intel_settings[] does not declare", names[n], key);
        }
        assert_int_equal(leaves, intel_settings_count);
    }
}

static void test_validator(void **state)
{
    (void)state;
    const char *on = getenv("ICESHOP_OPENAPI_CHECK");
    if (!on || strcmp(on, "1") != 0) {
        printf("openapi: validator not run (set ICESHOP_OPENAPI_CHECK=1)\n");
        skip();
    }
    char doc[PATH_MAX], script[PATH_MAX + 32];
    if (!realpath(fx.path, doc))
        fail_msg("cannot resolve %s", fx.path);
    snprintf(script, sizeof(script), "%sscripts/openapi-check.sh", fx.root);
    if (strchr(doc, '\'') || strchr(script, '\''))
        fail_msg("paths with quotes are not supported: %s", doc);
    char cmd[2 * PATH_MAX + 64];
    snprintf(cmd, sizeof(cmd), "'%s' '%s' 2>&1", script, doc);
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[1024];
    while (fgets(line, sizeof(line), p))
        fputs(line, stdout);
    fflush(stdout);
    int status = pclose(p);
    if (status != 0)
        fail_msg("%s failed (exit status %d)", script,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document),
        cmocka_unit_test(test_every_route_documented),
        cmocka_unit_test(test_no_stale_operations),
        cmocka_unit_test(test_operations_match_table),
        cmocka_unit_test(test_error_responses_resolve),
        cmocka_unit_test(test_flash_settings_match),
        cmocka_unit_test(test_intel_settings_match),
        cmocka_unit_test(test_validator),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
