/* SPDX-License-Identifier: MIT */
/*
 * Outbound webhooks through the real binary against a local receiver (tests/support/
 * fake_receiver.c) that checks every delivery's Standard Webhooks signature with the endpoint's
 * secret: endpoint validation and tenancy; a window created over the API reaches a receiver that
 * answers 500 first and 200 next (two attempts, one webhook-id); a delivery that always fails goes
 * dead after eight attempts and arrives when replayed by hand; another tenant can neither see
 * nor replay it. The schedule runs 100,000 times faster (ICESHOP_WEBHOOK_RETRY_SCALE).
 * Runs on TEST_BACKEND.
 */
#include "support/fake_receiver.h"
#include "support/harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define ADMIN HARNESS_ADMIN_KEY

static struct server srv;
static struct fake_receiver *rcv;
static char other_key[200];  /* an admin of another tenant */
static char viewer_key[200]; /* a viewer of the default tenant */

static int setup(void **state)
{
    (void)state;
    rcv = fake_receiver_start();
    if (!rcv)
        return -1;
    const char *env[] = {"ICESHOP_WEBHOOK_RETRY_SCALE=0.00001", NULL};
    char url[600];
    harness_fresh_db(url, sizeof(url));
    if (server_start(&srv, url, env) != 0)
        return -1;
    char out[512];
    if (harness_cli(srv.db_url, "tenants create other", out, sizeof(out)) != 0 ||
        harness_cli(srv.db_url, "keys create --tenant other --role admin", other_key,
                    sizeof(other_key)) != 0 ||
        harness_cli(srv.db_url, "keys create --tenant default --role viewer", viewer_key,
                    sizeof(viewer_key)) != 0)
        return -1;
    other_key[strcspn(other_key, "\r\n")] = '\0';
    viewer_key[strcspn(viewer_key, "\r\n")] = '\0';
    return harness_manual_scans(&srv);
}

static int teardown(void **state)
{
    (void)state;
    int rc = server_stop(&srv);
    fake_receiver_stop(rcv);
    return rc == 0 ? 0 : -1;
}

static json_t *call(const char *method, const char *path, const char *key, const char *body,
                    long want)
{
    struct resp r;
    assert_int_equal(http_req(&srv, method, path, key, body ? "application/json" : NULL, body,
                              body ? strlen(body) : 0, NULL, &r),
                     0);
    if (r.status != want)
        fprintf(stderr, "%s %s -> %ld: %s\n", method, path, r.status, r.body);
    assert_int_equal(r.status, want);
    json_t *j = json_incref(r.json);
    resp_free(&r);
    return j;
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static long long num(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* A new endpoint at receiver path `path` for `events` (a JSON array); its id. */
static long long subscribe(const char *path, const char *events)
{
    char body[512];
    snprintf(body, sizeof(body), "{\"url\":\"%s%s\",\"events\":%s,\"description\":\"test\"}",
             fake_receiver_url(rcv), path, events);
    json_t *ep = call("POST", "/api/webhook-endpoints", ADMIN, body, 201);
    long long id = num(ep, "id");
    fake_receiver_route(rcv, path, str(ep, "secret"));
    json_decref(ep);
    return id;
}

/* A seller and an operator's window for it; the window's id. */
static long long open_window(const char *seller_id, const char *phone)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"phone_number\":\"%s\",\"name\":\"M Coffee\",\"category\":"
             "\"coffee\",\"location\":{\"lat\":40.987,\"lng\":29.026},\"max_discount\":25,"
             "\"auto_approve\":true}",
             seller_id, phone);
    json_decref(call("POST", "/api/sellers/register", ADMIN, body, 201));
    snprintf(body, sizeof(body),
             "{\"seller_id\":\"%s\",\"discount_percent\":20,\"duration_minutes\":10,"
             "\"buyer_ids\":[]}",
             seller_id);
    json_t *w = call("POST", "/api/flash-windows/create", ADMIN, body, 201);
    long long id = num(w, "id");
    json_decref(w);
    return id;
}

static bool wait_count(const char *path, size_t n)
{
    for (int i = 0; i < 200 && fake_receiver_count(rcv, path) < n; i++)
        harness_sleep_ms(50);
    return fake_receiver_count(rcv, path) >= n;
}

/* The only delivery of endpoint `ep` once it has `status` and `attempts`; NULL on timeout. */
static json_t *wait_delivery(long long ep, const char *status, int attempts)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/webhook-deliveries?endpoint_id=%lld", ep);
    for (int i = 0; i < 200; i++) {
        json_t *list = call("GET", path, ADMIN, NULL, 200);
        json_t *d = json_array_get(json_object_get(list, "deliveries"), 0);
        if (d && strcmp(str(d, "status"), status) == 0 && num(d, "attempts") == attempts) {
            json_incref(d);
            json_decref(list);
            return d;
        }
        json_decref(list);
        harness_sleep_ms(50);
    }
    return NULL;
}

static void test_endpoints(void **state)
{
    (void)state;
    json_t *r = call("POST", "/api/webhook-endpoints", ADMIN,
                     "{\"url\":\"ftp://example.com/x\",\"events\":[\"window.created\"]}", 400);
    assert_string_equal(str(json_object_get(r, "error"), "field"), "url");
    json_decref(r);
    r = call("POST", "/api/webhook-endpoints", ADMIN,
             "{\"url\":\"https://example.com/x\",\"events\":[\"window.created\","
             "\"message.failed\",\"window.exploded\"]}",
             400);
    assert_string_equal(str(json_object_get(r, "error"), "field"), "events[2]");
    json_decref(r);
    r = call("POST", "/api/webhook-endpoints", ADMIN,
             "{\"url\":\"https://example.com/x\",\"events\":[\"window.created\", 7]}", 400);
    assert_string_equal(str(json_object_get(r, "error"), "field"), "events[1]");
    json_decref(r);
    r = call("POST", "/api/webhook-endpoints", ADMIN,
             "{\"url\":\"https://example.com/x\",\"events\":[\"window.created\"],\"x\":1}", 400);
    json_decref(r);

    json_t *ep = call("POST", "/api/webhook-endpoints", ADMIN,
                      "{\"url\":\"https://example.com/x\",\"events\":[\"window.created\"]}", 201);
    assert_int_equal(strncmp(str(ep, "secret"), "whsec_", 6), 0);
    assert_false(json_is_true(json_object_get(ep, "disabled")));
    long long id = num(ep, "id");
    json_decref(ep);
    char path[96];
    snprintf(path, sizeof(path), "/api/webhook-endpoints/%lld", id);
    ep = call("GET", path, ADMIN, NULL, 200);
    assert_null(json_object_get(ep, "secret")); /* shown once only */
    assert_string_equal(str(ep, "url"), "https://example.com/x");
    json_decref(ep);
    json_t *list = call("GET", "/api/webhook-endpoints?limit=10", ADMIN, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(list, "endpoints")), 1);
    assert_null(json_object_get(json_array_get(json_object_get(list, "endpoints"), 0), "secret"));
    json_decref(list);

    /* Another tenant sees none of it. */
    json_decref(call("GET", path, other_key, NULL, 404));
    json_decref(call("DELETE", path, other_key, NULL, 404));
    list = call("GET", "/api/webhook-endpoints", other_key, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(list, "endpoints")), 0);
    json_decref(list);

    json_decref(call("DELETE", path, ADMIN, NULL, 200));
    json_decref(call("GET", path, ADMIN, NULL, 404));
}

static void test_retried_until_it_succeeds(void **state)
{
    (void)state;
    long long ep = subscribe("/a", "[\"window.created\"]");
    fake_receiver_fail(rcv, "/a", 500, 1);
    long long window = open_window("S1", "+905320000001");
    assert_true(wait_count("/a", 2));
    struct fake_hook first, second;
    assert_true(fake_receiver_get(rcv, "/a", 0, &first));
    assert_true(fake_receiver_get(rcv, "/a", 1, &second));
    if (!first.verified || !second.verified)
        fail_msg("signature: %s / %s", first.why, second.why);
    assert_int_equal(first.answered, 500);
    assert_int_equal(second.answered, 200);
    assert_string_equal(first.id, second.id); /* one message id for every attempt */
    assert_string_equal(second.type, "window.created");
    json_t *body = json_loads(second.body, 0, NULL);
    json_t *w = json_object_get(json_object_get(body, "data"), "window");
    assert_int_equal(num(w, "id"), window);
    assert_string_equal(str(w, "seller_id"), "S1");
    assert_string_equal(str(w, "status"), "SCHEDULED");
    assert_true(strlen(str(body, "timestamp")) > 0);
    json_decref(body);

    json_t *d = wait_delivery(ep, "succeeded", 2);
    assert_non_null(d);
    assert_int_equal(num(d, "last_status"), 200);
    assert_string_equal(str(d, "last_response"), "thanks");
    assert_string_equal(str(d, "webhook_id"), first.id);
    json_decref(d);
    /* Exactly two deliveries reached it. */
    harness_sleep_ms(300);
    assert_int_equal(fake_receiver_count(rcv, "/a"), 2);
    char path[96];
    snprintf(path, sizeof(path), "/api/webhook-endpoints/%lld", ep);
    json_decref(call("DELETE", path, ADMIN, NULL, 200));
}

static void test_dead_then_replayed(void **state)
{
    (void)state;
    long long ep = subscribe("/b", "[\"window.created\"]");
    fake_receiver_fail(rcv, "/b", 503, -1);
    open_window("S2", "+905320000002");
    json_t *d = wait_delivery(ep, "dead", 8);
    assert_non_null(d);
    assert_int_equal(num(d, "last_status"), 503);
    long long id = num(d, "id");
    json_decref(d);
    assert_int_equal(fake_receiver_count(rcv, "/b"), 8);

    /* Another tenant can neither see nor replay it. */
    char path[128];
    snprintf(path, sizeof(path), "/api/webhook-deliveries/%lld/retry", id);
    json_decref(call("POST", path, other_key, NULL, 404));
    json_t *list = call("GET", "/api/webhook-deliveries", other_key, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(list, "deliveries")), 0);
    json_decref(list);
    list = call("GET", "/api/webhook-deliveries?status=dead", ADMIN, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(list, "deliveries")), 1);
    json_decref(list);
    json_decref(call("GET", "/api/webhook-deliveries?status=lost", ADMIN, NULL, 400));
    /* A viewer reads deliveries but neither replays them nor manages endpoints. */
    list = call("GET", "/api/webhook-deliveries?status=dead", viewer_key, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(list, "deliveries")), 1);
    json_decref(list);
    json_decref(call("POST", path, viewer_key, NULL, 403));
    json_decref(call("GET", "/api/webhook-endpoints", viewer_key, NULL, 403));

    /* The receiver is fixed; a replay by hand arrives, with the same webhook-id. */
    fake_receiver_fail(rcv, "/b", 0, 0);
    d = call("POST", path, ADMIN, NULL, 202);
    assert_string_equal(str(d, "status"), "pending");
    json_decref(d);
    assert_true(wait_count("/b", 9));
    struct fake_hook first, replay;
    assert_true(fake_receiver_get(rcv, "/b", 0, &first));
    assert_true(fake_receiver_get(rcv, "/b", 8, &replay));
    if (!replay.verified)
        fail_msg("signature: %s", replay.why);
    assert_int_equal(replay.answered, 200);
    assert_string_equal(replay.id, first.id);
    d = wait_delivery(ep, "succeeded", 9);
    assert_non_null(d);
    json_decref(d);
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_retried_until_it_succeeds),
        cmocka_unit_test(test_dead_then_replayed),
    };
    return cmocka_run_group_tests_name(harness_backend(), tests, setup, teardown);
}
