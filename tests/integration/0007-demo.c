/* SPDX-License-Identifier: MIT */
/*
 * `iceshop demo` against a real server: a short fast run (6 sellers, 30 buyers, 20x for 25 s)
 * exits 0 with the summary and leaves windows, messages and at least one redemption behind;
 * its wishes are exactly the seeded plan's (`--plan`, no server), which two invocations with the
 * same seed print identically; and a missing or wrong WhatsApp app secret is a clear error.
 * The shop (--shop-only): a year of orders imported, the profile batch run once (RFM segments
 * counting the customers, profiles with predictions, the decision trace with its climate), a
 * few personal campaigns logged; a second run leaves the seeded tenant alone.
 * Runs on the backend TEST_BACKEND selects.
 */
#include "support/harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define ADMIN      HARNESS_ADMIN_KEY
#define APP_SECRET "meta-app-secret-for-the-demo"
#define CITY       "--seed 7 --sellers 6 --buyers 30 --speed 60 --duration 40 --shop-customers 0"
#define OUT_MAX    (512 * 1024)

static struct server srv;
static char live_out[OUT_MAX];

static const char *bin(void)
{
    return getenv("ICESHOP_BIN") ? getenv("ICESHOP_BIN") : "build/debug/iceshop";
}

static int setup(void **state)
{
    (void)state;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    const char *env[] = {"ICESHOP_WHATSAPP_APP_SECRET=" APP_SECRET, "ICESHOP_ACCESS_LOG=0", NULL};
    return server_start(&srv, url, env) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return server_stop(&srv) == 0 ? 0 : -1;
}

/* Run the demo with `env` ("" or "NAME=value ...") and `args`; output (both streams) in out. */
static int demo(const char *env, const char *args, char *out, size_t n)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "env -u ICESHOP_WHATSAPP_APP_SECRET -u ICESHOP_ADMIN_KEY %s %s demo %s 2>&1", env,
             bin(), args);
    return harness_sh(cmd, out, n);
}

/* The number after `label` on its line of the summary, or -1. */
static long summary_value(const char *out, const char *label)
{
    const char *p = strstr(out, label);
    if (!p)
        return -1;
    p += strlen(label);
    while (*p == ' ')
        p++;
    return strtol(p, NULL, 10);
}

/* Copy the lines of `text` that contain `needle` into out, newline-separated. */
static void lines_with(const char *text, const char *needle, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len < 400) {
            char buf[400];
            memcpy(buf, line, len);
            buf[len] = '\0';
            if (strstr(buf, needle) && used + len + 2 < n) {
                memcpy(out + used, buf, len);
                used += len;
                out[used++] = '\n';
                out[used] = '\0';
            }
        }
        line = end ? end + 1 : NULL;
    }
}

static json_t *get(const char *path)
{
    struct resp r;
    assert_int_equal(http_get(&srv, path, ADMIN, &r), 0);
    assert_int_equal(r.status, 200);
    json_t *j = json_incref(r.json);
    resp_free(&r);
    return j;
}

static void test_live_run(void **state)
{
    (void)state;
    char args[512];
    snprintf(args, sizeof(args), "--url %s --key %s " CITY, srv.base, ADMIN);
    int st = demo("ICESHOP_WHATSAPP_APP_SECRET=" APP_SECRET, args, live_out, sizeof(live_out));
    if (st != 0 || !strstr(live_out, "== iceshop demo summary =="))
        fprintf(stderr, "demo exited %d:\n%s\n", st, live_out);
    assert_int_equal(st, 0);
    assert_non_null(strstr(live_out, "== iceshop demo summary =="));
    assert_non_null(strstr(live_out, "repeat: iceshop demo --seed 7 --sellers 6 --buyers 30"));
    assert_non_null(strstr(live_out, "without windows"));
    long wishes = summary_value(live_out, "wishes sent");
    assert_true(wishes > 0);
    assert_true(summary_value(live_out, "windows opened") > 0);
    assert_true(summary_value(live_out, "redemptions / visits") >= 1);
    assert_non_null(strstr(live_out, "demand served (buyers)"));
    assert_non_null(strstr(live_out, "idle capacity filled"));

    /* the server agrees: windows of the demo's sellers, messages, and redeemed codes */
    json_t *w = get("/api/flash-windows?limit=200");
    json_t *arr = json_object_get(w, "windows");
    assert_true(json_array_size(arr) > 0);
    long long redeemed = 0;
    size_t i;
    json_t *row;
    json_array_foreach(arr, i, row)
    {
        const char *seller = json_string_value(json_object_get(row, "seller_id"));
        assert_non_null(strstr(seller, "demo-s"));
        redeemed += json_integer_value(json_object_get(json_object_get(row, "counts"), "redeemed"));
    }
    assert_true(redeemed >= 1);
    assert_int_equal(redeemed, summary_value(live_out, "of which through windows"));
    /* with windows = window redemptions + wishes no window answered, behaving as without */
    assert_true(summary_value(live_out, "redemptions / visits") >= redeemed);
    json_decref(w);
    json_t *m = get("/api/messages?kind=offer&limit=10");
    assert_true(json_array_size(json_object_get(m, "messages")) > 0);
    json_decref(m);
    json_t *b = get("/api/buyers/demo-b0001");
    assert_string_equal(json_string_value(json_object_get(b, "phone_number")),
                        "+99927000001"); /* unassigned code */
    json_decref(b);
}

static void test_same_seed_same_wishes(void **state)
{
    (void)state;
    static char plan1[OUT_MAX], plan2[OUT_MAX], other[OUT_MAX];
    static char live_wishes[64 * 1024], plan_wishes[64 * 1024];
    assert_int_equal(demo("", "--plan 200 " CITY, plan1, sizeof(plan1)), 0);
    assert_int_equal(demo("", "--plan 200 " CITY, plan2, sizeof(plan2)), 0);
    assert_string_equal(plan1, plan2);
    assert_int_equal(demo("", "--plan 200 --seed 8 --sellers 6 --buyers 30", other, sizeof(other)),
                     0);
    assert_string_not_equal(plan1, other);

    /* the live run above sent exactly the plan's wishes, in its order */
    long planned = summary_value(plan1, "planned wishes in 40 s at speed 60:");
    assert_true(planned > 0);
    assert_int_equal(planned, summary_value(live_out, "wishes sent"));
    lines_with(live_out, "] wish demo-b", live_wishes, sizeof(live_wishes));
    lines_with(plan1, "] wish demo-b", plan_wishes, sizeof(plan_wishes));
    assert_true(strlen(live_wishes) > 0);
    assert_int_equal(strncmp(live_wishes, plan_wishes, strlen(live_wishes)), 0);
}

static void test_secret_errors(void **state)
{
    (void)state;
    char out[8192], args[512];
    snprintf(args, sizeof(args), "--url %s --key %s " CITY, srv.base, ADMIN);
    /* no secret: refused before anything is sent, with how to set it */
    assert_int_equal(demo("", args, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "ICESHOP_WHATSAPP_APP_SECRET is not set"));
    assert_non_null(strstr(out, "export ICESHOP_WHATSAPP_APP_SECRET="));
    /* a secret the server does not share: the first webhook is refused and the demo stops */
    snprintf(args, sizeof(args),
             "--url %s --key %s --seed 7 --sellers 2 --buyers 3 --speed 50 "
             "--duration 10 --quiet --shop-customers 0",
             srv.base, ADMIN);
    assert_int_equal(demo("ICESHOP_WHATSAPP_APP_SECRET=not-the-servers", args, out, sizeof(out)),
                     1);
    assert_non_null(strstr(out, "refused the webhook signature"));
    /* no server */
    assert_int_equal(demo("ICESHOP_WHATSAPP_APP_SECRET=x",
                          "--url http://127.0.0.1:1 --key " ADMIN " --duration 1", out,
                          sizeof(out)),
                     1);
    assert_non_null(strstr(out, "no Iceshop server answers"));
}

static void test_shop(void **state)
{
    (void)state;
    static char out[OUT_MAX];
    char args[512];
    snprintf(args, sizeof(args), "--url %s --key %s --seed 3 --shop-only --shop-customers 200",
             srv.base, ADMIN);
    int st = demo("", args, out, sizeof(out));
    if (st != 0)
        fprintf(stderr, "demo exited %d:\n%s\n", st, out);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "shop: 200 customers, 29 products, "));
    long orders = summary_value(out, "29 products,");
    assert_true(orders > 200);

    json_t *seg = get("/api/intel/segments");
    long long counted = 0;
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(seg, "segments"), i, row)
    {
        assert_true(json_integer_value(json_object_get(row, "customers")) > 0);
        counted += json_integer_value(json_object_get(row, "customers"));
    }
    assert_true(json_array_size(json_object_get(seg, "segments")) >= 5);
    /*
     * The shop's 200, and the city's buyers whose redeemed visits made them customers (one
     * person, one customer) — each profiled at most once.
     */
    long long customers = 0;
    char page[96] = "/api/customers?limit=500";
    for (;;) {
        json_t *l = get(page);
        customers += (long long)json_array_size(json_object_get(l, "customers"));
        json_t *next = json_object_get(l, "next_after");
        bool more = json_is_integer(next);
        if (more)
            snprintf(page, sizeof(page), "/api/customers?limit=500&after=%lld",
                     (long long)json_integer_value(next));
        json_decref(l);
        if (!more)
            break;
    }
    assert_true(customers >= 200);
    assert_true(counted > 150 && counted <= customers);
    json_decref(seg);

    /* a customer of the shop (the city's redeemed visits made customers too, without a city) */
    json_t *list = get("/api/customers?limit=500");
    const char *id = NULL;
    json_array_foreach(json_object_get(list, "customers"), i, row)
    {
        if (!id && strcmp(json_string_value(json_object_get(row, "source")), "flash") != 0)
            id = json_string_value(json_object_get(row, "id"));
    }
    assert_non_null(id);
    char path[200];
    snprintf(path, sizeof(path), "/api/profiles/%s", id);
    json_t *p = get(path);
    assert_non_null(json_string_value(json_object_get(json_object_get(p, "rfm"), "segment")));
    json_t *pred = json_object_get(p, "predictions"); /* a number, or why not */
    assert_true(json_is_number(json_object_get(pred, "p_alive")) ||
                json_is_string(json_object_get(pred, "reason")));
    json_decref(p);
    snprintf(path, sizeof(path), "/api/campaigns/decision-trace/%s", id);
    json_t *t = get(path);
    json_t *vis = json_object_get(t, "visualizations");
    json_t *climate = json_object_get(vis, "climateInfo");
    assert_true(json_is_object(climate));
    assert_non_null(json_string_value(json_object_get(climate, "seasonTag")));
    assert_true(json_array_size(json_object_get(vis, "categoryChart")) > 0);
    json_decref(t);
    snprintf(path, sizeof(path), "/api/campaigns?customerId=%s", id);
    json_t *c = get(path);
    assert_int_equal(json_array_size(json_object_get(c, "campaigns")), 1);
    json_decref(c);
    json_decref(list);

    /* seeded once: a second run writes nothing */
    assert_int_equal(demo("", args, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "shop: already seeded"));
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_run),
        cmocka_unit_test(test_same_seed_same_wishes),
        cmocka_unit_test(test_secret_errors),
        cmocka_unit_test(test_shop),
    };
    return cmocka_run_group_tests_name(harness_backend(), tests, setup, teardown);
}
