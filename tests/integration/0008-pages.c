/* SPDX-License-Identifier: MIT */
/*
 * Web pages and signed links over real HTTP: the pages and vendored libraries are served (and
 * nothing outside them is), a buyer's offer carries a link that opens exactly that offer, joins
 * before and after the start, shows the code; the seller's link shows live counts and redeems
 * the code; tampered tokens and a buyer's token on the seller's page are refused.
 */
#include "support/harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#define ADMIN HARNESS_ADMIN_KEY

static struct server srv;

static int setup(void **state)
{
    (void)state;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    if (server_start(&srv, url, NULL) != 0)
        return -1;
    return harness_manual_scans(&srv);
}

static int teardown(void **state)
{
    (void)state;
    return server_stop(&srv) == 0 ? 0 : -1;
}

static long status_of(const char *path, char *type, size_t n)
{
    struct resp r;
    assert_int_equal(http_get(&srv, path, NULL, &r), 0);
    long st = r.status;
    if (type && !resp_header(&r, "Content-Type", type, n))
        type[0] = '\0';
    resp_free(&r);
    return st;
}

static void test_static_files(void **state)
{
    (void)state;
    char type[128];
    assert_int_equal(status_of("/vendor/leaflet/leaflet.js", type, sizeof(type)), 200);
    assert_non_null(strstr(type, "javascript"));
    assert_int_equal(status_of("/vendor/leaflet/leaflet.css", type, sizeof(type)), 200);
    assert_non_null(strstr(type, "text/css"));
    assert_int_equal(status_of("/vendor/leaflet/images/marker-icon.png", type, sizeof(type)), 200);
    assert_int_equal(status_of("/admin", type, sizeof(type)), 200);
    assert_non_null(strstr(type, "text/html"));
    assert_int_equal(status_of("/openapi.json", type, sizeof(type)), 200);
    assert_int_equal(status_of("/docs", type, sizeof(type)), 200);
    /* nothing but the files themselves */
    assert_int_equal(status_of("/assets/.gitignore", NULL, 0), 404);
    assert_int_not_equal(status_of("/assets/..", NULL, 0), 200); /* resolves to "/" at most */
    long st = status_of("/vendor/leaflet/..%2F..%2F..%2Fetc%2Fpasswd", NULL, 0);
    assert_true(st == 400 || st == 404);
    assert_int_equal(status_of("/assets/nope.js", NULL, 0), 404);
    /* / leads to the dashboard */
    assert_int_equal(status_of("/", NULL, 0), 302);
}

static json_t *call(const char *method, const char *path, const char *body, long want)
{
    struct resp r;
    assert_int_equal(http_req(&srv, method, path, ADMIN, body ? "application/json" : NULL, body,
                              body ? strlen(body) : 0, NULL, &r),
                     0);
    if (r.status != want)
        fprintf(stderr, "%s %s -> %ld (want %ld): %s\n", method, path, r.status, want, r.body);
    assert_int_equal(r.status, want);
    json_t *j = json_incref(r.json);
    resp_free(&r);
    return j;
}

/* The token of the first /w/ or /s/ link in the latest message of `kind` to `who`. */
static void link_token(const char *who, const char *kind, char which, char *out, size_t n)
{
    char path[160], needle[4] = {'/', which, '/', 0};
    snprintf(path, sizeof(path), "/api/messages?recipient_id=%s&kind=%s", who, kind);
    for (long long end = harness_deadline(20000); harness_before(end); harness_sleep_ms(100)) {
        json_t *m = call("GET", path, NULL, 200);
        json_t *msg = json_array_get(json_object_get(m, "messages"), 0);
        const char *body = msg ? json_string_value(json_object_get(msg, "body")) : NULL;
        const char *at = body ? strstr(body, needle) : NULL;
        if (at) {
            at += 3;
            size_t len = strcspn(at, " \n");
            snprintf(out, n, "%.*s", (int)len, at);
            json_decref(m);
            return;
        }
        json_decref(m);
    }
    fail_msg("no %s link in a %s message to %s", which == 'w' ? "buyer" : "seller", kind, who);
}

static void test_signed_links(void **state)
{
    (void)state;
    json_decref(call("POST", "/api/sellers/register",
                     "{\"id\":\"S1\",\"phone_number\":\"+905320000001\",\"name\":\"M Coffee\","
                     "\"category\":\"coffee\",\"location\":{\"lat\":40.987,\"lng\":29.026}}",
                     201));
    json_decref(call("POST", "/api/buyers/register",
                     "{\"id\":\"B1\",\"phone_number\":\"+905330000001\",\"location\":{\"lat\":"
                     "40.9879,\"lng\":29.026}}",
                     201));
    char body[300], start[40];
    time_t t = time(NULL) + 600; /* started below, once B1 has said "katıl" */
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(body, sizeof(body),
             "{\"seller_id\":\"S1\",\"discount_percent\":20,\"start_time\":\"%s\","
             "\"min_participants\":1,\"buyer_ids\":[\"B1\"]}",
             start);
    json_t *created = call("POST", "/api/flash-windows/create", body, 201);
    long long window_id = (long long)json_integer_value(json_object_get(created, "id"));
    json_decref(created);

    char token[400], path[512];
    link_token("B1", "offer", 'w', token, sizeof(token));
    snprintf(path, sizeof(path), "/api/public/w/%s", token);
    struct resp r;
    assert_int_equal(http_get(&srv, path, NULL, &r), 0); /* no credentials needed */
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "state")), "offered");
    assert_true(
        json_integer_value(json_object_get(json_object_get(r.json, "buyer"), "distance_m")) > 50);
    resp_free(&r);
    /* the page itself */
    char page[512];
    snprintf(page, sizeof(page), "/w/%s", token);
    assert_int_equal(status_of(page, NULL, 0), 200);

    /* "Katıl" before the start: a pre-commit */
    snprintf(path, sizeof(path), "/api/public/w/%s/join", token);
    assert_int_equal(http_req(&srv, "POST", path, NULL, NULL, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "state")), "committed");
    resp_free(&r);

    /* no code yet: no QR code either */
    snprintf(path, sizeof(path), "/api/public/w/%s/qr.svg", token);
    assert_int_equal(status_of(path, NULL, 0), 404);

    /* once it is on, joining gives the code */
    harness_window_start_now(srv.db_url, window_id);
    snprintf(path, sizeof(path), "/api/public/w/%s", token);
    for (long long end = harness_deadline(20000);; harness_sleep_ms(100)) {
        assert_int_equal(http_get(&srv, path, NULL, &r), 0);
        bool on =
            strcmp(json_string_value(json_object_get(json_object_get(r.json, "window"), "status")),
                   "ACTIVE") == 0;
        resp_free(&r);
        if (on || !harness_before(end))
            break;
    }
    snprintf(path, sizeof(path), "/api/public/w/%s/join", token);
    assert_int_equal(http_req(&srv, "POST", path, NULL, NULL, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "state")), "joined");
    char code[16];
    snprintf(code, sizeof(code), "%s", json_string_value(json_object_get(r.json, "code")));
    resp_free(&r);

    /* the code as a QR code the server draws: SVG vectors, for this buyer's link only */
    snprintf(path, sizeof(path), "/api/public/w/%s/qr.svg", token);
    assert_int_equal(http_get(&srv, path, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    char ctype[64];
    assert_true(resp_header(&r, "Content-Type", ctype, sizeof(ctype)));
    assert_string_equal(ctype, "image/svg+xml");
    assert_true(strncmp(r.body, "<svg xmlns=", 11) == 0);
    assert_non_null(strstr(r.body, "<path fill=\"#000\" d=\"M"));
    assert_null(strstr(r.body, "<image"));
    resp_free(&r);

    /* the seller's page: counts, and the code redeemed */
    char stoken[400];
    link_token("S1", "seller_summary", 's', stoken, sizeof(stoken));
    snprintf(path, sizeof(path), "/api/public/s/%s", stoken);
    assert_int_equal(http_get(&srv, path, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(r.json, "counts"), "joined")), 1);
    resp_free(&r);
    snprintf(path, sizeof(path), "/api/public/s/%s/redeem", stoken);
    snprintf(body, sizeof(body), "{\"code\":\"%s\"}", code);
    assert_int_equal(
        http_req(&srv, "POST", path, NULL, "application/json", body, strlen(body), NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(r.json, "counts"), "redeemed")), 1);
    resp_free(&r);

    /* refusals: tampered, the buyer's token on the seller's page, garbage */
    char bad[400];
    snprintf(bad, sizeof(bad), "%s", token);
    char *dot = strchr(bad, '.');
    dot[2] = dot[2] == 'A' ? 'B' : 'A';
    const char *paths[] = {"/api/public/w/", "/api/public/s/"};
    const char *tokens[] = {bad, token};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s%s", paths[i], tokens[i]);
        assert_int_equal(http_get(&srv, path, NULL, &r), 0);
        assert_int_equal(r.status, 401);
        resp_free(&r);
    }
    assert_int_equal(http_get(&srv, "/api/public/w/not-a-token", NULL, &r), 0);
    assert_int_equal(r.status, 401);
    resp_free(&r);
}

/* The page's "Katıl" on a prepaid window: refused by name, and no order is placed. */
static void test_prepaid_window_page(void **state)
{
    (void)state;
    json_decref(call("POST", "/api/sellers/register",
                     "{\"id\":\"S9\",\"phone_number\":\"+905320000009\",\"name\":\"Fırın\","
                     "\"category\":\"bakery\",\"location\":{\"lat\":40.987,\"lng\":29.026},"
                     "\"price_range\":{\"min\":2000,\"max\":3000}}",
                     201));
    json_decref(call("POST", "/api/buyers/register",
                     "{\"id\":\"B9\",\"phone_number\":\"+905330000009\",\"location\":{\"lat\":"
                     "40.9879,\"lng\":29.026}}",
                     201));
    char body[300], start[40];
    time_t t = time(NULL) + 600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(body, sizeof(body),
             "{\"seller_id\":\"S9\",\"discount_percent\":10,\"start_time\":\"%s\","
             "\"min_participants\":1,\"buyer_ids\":[\"B9\"],\"prepay\":true}",
             start);
    json_decref(call("POST", "/api/flash-windows/create", body, 201));
    char token[400], path[512];
    link_token("B9", "offer", 'w', token, sizeof(token));
    snprintf(path, sizeof(path), "/api/public/w/%s/join", token);
    struct resp r;
    assert_int_equal(http_post_json(&srv, path, NULL, NULL, &r), 0);
    assert_int_equal(r.status, 409);
    json_t *err = json_object_get(r.json, "error");
    /* this tenant has no payment provider: the page cannot take the payment */
    assert_string_equal(json_string_value(json_object_get(err, "field")), "provider");
    /* said to the buyer, not to a developer */
    assert_non_null(strstr(json_string_value(json_object_get(err, "message")), "ask the shop"));
    resp_free(&r);
    /* no order, so B9 was not even made a customer */
    json_t *found = call("GET", "/api/customers?q=905330000009", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(found, "customers")), 0);
    json_decref(found);
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_files),
        cmocka_unit_test(test_signed_links),
        cmocka_unit_test(test_prepaid_window_page),
    };
    return cmocka_run_group_tests_name(harness_backend(), tests, setup, teardown);
}
