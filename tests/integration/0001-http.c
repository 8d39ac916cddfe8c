/* SPDX-License-Identifier: MIT */
/*
 * The HTTP surface over real loopback HTTP: health, request ids, JSON errors for every
 * refusal (404/405/413/415/400/401/403/429), hostile raw input, slow clients, metrics accepted
 * by promtool, Server-Sent Events, graceful shutdown. Runs on the backend TEST_BACKEND selects.
 */
#include "support/harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

static struct server srv;
#define ADMIN HARNESS_ADMIN_KEY

static int setup(void **state)
{
    (void)state;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    return server_start(&srv, url, NULL);
}

static int teardown(void **state)
{
    (void)state;
    return server_stop(&srv) == 0 ? 0 : -1;
}

/* Count API keys of the caller's tenant: proof that refused requests wrote nothing. */
static size_t key_count(void)
{
    struct resp r;
    assert_int_equal(http_get(&srv, "/api/keys", ADMIN, &r), 0);
    assert_int_equal(r.status, 200);
    size_t n = json_array_size(json_object_get(r.json, "keys"));
    resp_free(&r);
    return n;
}

static void test_health(void **state)
{
    (void)state;
    struct resp r;
    assert_int_equal(http_get(&srv, "/health", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "healthy");
    char rid[128];
    assert_true(resp_header(&r, "X-Request-Id", rid, sizeof(rid)));
    assert_true(strlen(rid) > 4);
    resp_free(&r);

    const char *hdr[] = {"X-Request-Id: trace-abc.123", NULL};
    assert_int_equal(http_req(&srv, "GET", "/health", NULL, NULL, NULL, 0, hdr, &r), 0);
    assert_true(resp_header(&r, "X-Request-Id", rid, sizeof(rid)));
    assert_string_equal(rid, "trace-abc.123");
    resp_free(&r);

    assert_int_equal(http_get(&srv, "/health/detailed", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    json_t *checks = json_object_get(r.json, "checks");
    assert_true(json_is_true(json_object_get(json_object_get(checks, "database"), "ok")));
    assert_non_null(json_object_get(json_object_get(checks, "jobs"), "pending"));
    assert_non_null(json_object_get(json_object_get(checks, "scheduler"), "leader"));
    assert_non_null(json_object_get(r.json, "uptime_s"));
    assert_non_null(json_object_get(r.json, "version"));
    resp_free(&r);
}

static void test_not_found_and_method(void **state)
{
    (void)state;
    struct resp r;
    assert_int_equal(http_get(&srv, "/nope", NULL, &r), 0);
    assert_int_equal(r.status, 404);
    assert_string_equal(resp_error_code(&r), "not_found");
    resp_free(&r);

    assert_int_equal(http_req(&srv, "PUT", "/api/keys", ADMIN, NULL, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 405);
    assert_string_equal(resp_error_code(&r), "method_not_allowed");
    char allow[64];
    assert_true(resp_header(&r, "Allow", allow, sizeof(allow)));
    assert_non_null(strstr(allow, "GET"));
    assert_non_null(strstr(allow, "POST"));
    resp_free(&r);

    /* A bad id names nothing: 404, not 500. */
    assert_int_equal(http_get(&srv, "/api/jobs/abc", ADMIN, &r), 0);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/jobs/%zz", ADMIN, &r), 0);
    assert_int_equal(r.status, 400);
    resp_free(&r);
}

static void test_bad_bodies(void **state)
{
    (void)state;
    size_t before = key_count();
    struct resp r;
    /* malformed JSON */
    assert_int_equal(http_post_json(&srv, "/api/keys", ADMIN, "{\"role\": ", &r), 0);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_code(&r), "invalid");
    assert_non_null(
        strstr(json_string_value(json_object_get(json_object_get(r.json, "error"), "message")),
               "malformed JSON"));
    resp_free(&r);
    /* not an object */
    assert_int_equal(http_post_json(&srv, "/api/keys", ADMIN, "[1,2]", &r), 0);
    assert_int_equal(r.status, 400);
    resp_free(&r);
    /* wrong type */
    assert_int_equal(http_post_json(&srv, "/api/keys", ADMIN, "{\"role\": 7}", &r), 0);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "role");
    resp_free(&r);
    /* unknown enum value */
    assert_int_equal(http_post_json(&srv, "/api/keys", ADMIN, "{\"role\": \"king\"}", &r), 0);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "role");
    resp_free(&r);
    /* missing field */
    assert_int_equal(http_post_json(&srv, "/api/keys", ADMIN, "{\"name\": \"x\"}", &r), 0);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "role");
    resp_free(&r);
    /* unknown field */
    assert_int_equal(
        http_post_json(&srv, "/api/keys", ADMIN, "{\"role\": \"viewer\", \"colour\": 1}", &r), 0);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "colour");
    resp_free(&r);
    /* duplicate keys are ambiguous */
    assert_int_equal(
        http_post_json(&srv, "/api/keys", ADMIN, "{\"role\": \"viewer\", \"role\": \"admin\"}", &r),
        0);
    assert_int_equal(r.status, 400);
    resp_free(&r);
    /* wrong content type */
    assert_int_equal(http_req(&srv, "POST", "/api/keys", ADMIN, "text/plain",
                              "{\"role\":\"viewer\"}", 17, NULL, &r),
                     0);
    assert_int_equal(r.status, 415);
    assert_string_equal(resp_error_code(&r), "unsupported_media_type");
    resp_free(&r);
    /* oversized body (route limit 4 KiB) */
    size_t big = 64 * 1024;
    char *body = malloc(big + 1);
    memset(body, ' ', big);
    body[0] = '{';
    body[big - 1] = '}';
    body[big] = '\0';
    assert_int_equal(http_post_json(&srv, "/api/keys", ADMIN, body, &r), 0);
    assert_int_equal(r.status, 413);
    assert_string_equal(resp_error_code(&r), "too_large");
    resp_free(&r);
    /* oversized and chunked: no Content-Length to refuse early */
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    assert_int_equal(
        http_req(&srv, "POST", "/api/keys", ADMIN, "application/json", body, big, chunked, &r), 0);
    assert_int_equal(r.status, 413);
    resp_free(&r);
    free(body);
    /* a body where none is taken */
    assert_int_equal(
        http_req(&srv, "GET", "/api/keys", ADMIN, "application/json", "{}", 2, NULL, &r), 0);
    assert_int_equal(r.status, 413);
    resp_free(&r);
    assert_int_equal(key_count(), before);
}

static void test_auth_errors(void **state)
{
    (void)state;
    size_t before = key_count();
    struct resp r;
    assert_int_equal(http_post_json(&srv, "/api/keys", NULL, "{\"role\":\"admin\"}", &r), 0);
    assert_int_equal(r.status, 401);
    assert_string_equal(resp_error_code(&r), "unauthorized");
    char www[64];
    assert_true(resp_header(&r, "WWW-Authenticate", www, sizeof(www)));
    resp_free(&r);
    assert_int_equal(
        http_post_json(&srv, "/api/keys", "isk_000000000000_nope", "{\"role\":\"admin\"}", &r), 0);
    assert_int_equal(r.status, 401);
    resp_free(&r);
    const char *basic[] = {"Authorization: Basic YWRtaW46YWRtaW4=", NULL};
    assert_int_equal(http_req(&srv, "GET", "/api/me", NULL, NULL, NULL, 0, basic, &r), 0);
    assert_int_equal(r.status, 401);
    resp_free(&r);

    /* A viewer key may read but not administer. */
    assert_int_equal(http_post_json(&srv, "/api/keys", ADMIN, "{\"role\":\"viewer\"}", &r), 0);
    assert_int_equal(r.status, 201);
    char viewer[160];
    snprintf(viewer, sizeof(viewer), "%s", json_string_value(json_object_get(r.json, "key")));
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/me", viewer, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "role")), "viewer");
    resp_free(&r);
    assert_int_equal(http_post_json(&srv, "/api/keys", viewer, "{\"role\":\"admin\"}", &r), 0);
    assert_int_equal(r.status, 403);
    assert_string_equal(resp_error_code(&r), "forbidden");
    resp_free(&r);
    assert_int_equal(key_count(), before + 1);
}

static int raw_exchange(const char *req, size_t len, char *out, size_t n, int timeout_s)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)srv.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        close(fd);
        return -1;
    }
    struct timeval tv = {.tv_sec = timeout_s, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (len)
        (void)!write(fd, req, len);
    size_t used = 0;
    ssize_t got;
    while (used + 1 < n && (got = read(fd, out + used, n - 1 - used)) > 0)
        used += (size_t)got;
    out[used] = '\0';
    close(fd);
    return (int)used;
}

static void test_hostile_raw(void **state)
{
    (void)state;
    char out[4096];
    static const char garbage[] = "\x16\x03\x01 GARBAGE\r\n\r\n";
    raw_exchange(garbage, sizeof(garbage) - 1, out, sizeof(out), 5);
    assert_non_null(strstr(out, "HTTP/1.1 400"));

    static const char traversal[] = "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n"
                                    "Connection: close\r\n\r\n";
    raw_exchange(traversal, sizeof(traversal) - 1, out, sizeof(out), 5);
    assert_null(strstr(out, "root:"));
    assert_non_null(strstr(out, "HTTP/1.1 4"));

    /* Headers far larger than the per-connection limit. */
    size_t big = 200 * 1024;
    char *req = malloc(big + 128);
    int n = snprintf(req, 128, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(req + n, 'a', big);
    memcpy(req + n + big, "\r\n\r\n", 5);
    raw_exchange(req, (size_t)n + big + 4, out, sizeof(out), 5);
    free(req);
    assert_null(strstr(out, "HTTP/1.1 200"));

    /* Still serving. */
    struct resp r;
    assert_int_equal(http_get(&srv, "/health", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

static void test_metrics_promtool(void **state)
{
    (void)state;
    struct resp r;
    assert_int_equal(http_get(&srv, "/metrics", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "iceshop_http_requests_total{method=\"GET\",route=\"/health\""));
    assert_non_null(strstr(r.body, "iceshop_http_request_duration_seconds_bucket"));
    assert_non_null(strstr(r.body, "iceshop_jobs{state=\"pending\"}"));
    assert_non_null(strstr(r.body, "iceshop_db_errors_total"));
    char path[256];
    const char *dir = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
    snprintf(path, sizeof(path), "%s/metrics-%d.txt", dir, (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fwrite(r.body, 1, r.len, f);
    fclose(f);
    resp_free(&r);
    char cmd[400], out[4096];
    snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
    int st = harness_sh(cmd, out, sizeof(out));
    if (st != 0)
        fprintf(stderr, "promtool: %s\n", out);
    assert_int_equal(st, 0);
    unlink(path);
}

static void test_events_stream(void **state)
{
    (void)state;
    /* Make a dead job to retry, so the retry publishes an event. */
    struct resp r;
    assert_int_equal(
        http_post_json(&srv, "/api/jobs", ADMIN, "{\"name\":\"test.fail\",\"max_attempts\":1}", &r),
        0);
    assert_int_equal(r.status, 202);
    long long id = (long long)json_integer_value(json_object_get(r.json, "id"));
    resp_free(&r);
    char path[64];
    snprintf(path, sizeof(path), "/api/jobs/%lld", id);
    for (long long end = harness_deadline(20000);; harness_sleep_ms(50)) {
        assert_int_equal(http_get(&srv, path, ADMIN, &r), 0);
        int dead = strcmp(json_string_value(json_object_get(r.json, "state")), "dead") == 0;
        resp_free(&r);
        if (dead || !harness_before(end))
            break;
    }
    /* Open the stream with a raw socket, then trigger the event from here. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)srv.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    struct timeval tv = {.tv_sec = 5, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char req[256];
    int n =
        snprintf(req, sizeof(req),
                 "GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", ADMIN);
    assert_int_equal(write(fd, req, (size_t)n), n);
    char buf[8192];
    size_t used = 0;
    ssize_t got = read(fd, buf, sizeof(buf) - 1);
    assert_true(got > 0);
    used = (size_t)got;
    buf[used] = '\0';
    assert_non_null(strstr(buf, "text/event-stream"));
    snprintf(path, sizeof(path), "/api/jobs/%lld/retry", id);
    assert_int_equal(http_req(&srv, "POST", path, ADMIN, NULL, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    while (!strstr(buf, "event: job.retried") && used + 1 < sizeof(buf)) {
        got = read(fd, buf + used, sizeof(buf) - 1 - used);
        if (got <= 0)
            break;
        used += (size_t)got;
        buf[used] = '\0';
    }
    close(fd);
    assert_non_null(strstr(buf, "event: job.retried"));
}

static void test_slow_client(void **state)
{
    (void)state;
    /* A second server with a 1 s idle limit: a client that never finishes its headers is cut. */
    struct server s2;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    const char *env[] = {"ICESHOP_IDLE_TIMEOUT=1", NULL};
    assert_int_equal(server_start(&s2, url, env), 0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)s2.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(write(fd, "GET /health HTTP/1.1\r\nHo", 24), 24);
    struct timeval tv = {.tv_sec = 10, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct timeval t0, t1;
    gettimeofday(&t0, NULL);
    char b[256];
    /* Meanwhile others are served. */
    struct resp r;
    assert_int_equal(http_get(&s2, "/health", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    ssize_t got = read(fd, b, sizeof(b));
    gettimeofday(&t1, NULL);
    close(fd);
    (void)got; /* closed (0), timed out, or an error reply: the wait is what counts */
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_usec - t0.tv_usec) / 1e6;
    assert_true(waited < 5.0);
    assert_int_equal(server_stop(&s2), 0);
}

/*
 * ICESHOP_RATE_LIMIT_KEY=2: a key gets 2 requests a second (a bucket of 4 refilled at 2/s).
 * Requests go out as fast as this machine allows until three 429s came back; however slow the
 * machine, the 200s can never exceed the bucket plus what refilled while the test ran.
 */
static void test_rate_limit(void **state)
{
    (void)state;
    struct server s2;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    const char *env[] = {"ICESHOP_RATE_LIMIT_KEY=2", "ICESHOP_RATE_LIMIT_ADMIN=2", NULL};
    assert_int_equal(server_start(&s2, url, env), 0);
    int limited = 0, ok = 0;
    struct resp r;
    long long started = harness_deadline(0);
    for (long long end = harness_deadline(30000); limited < 3 && harness_before(end);) {
        assert_int_equal(http_get(&s2, "/api/me", ADMIN, &r), 0);
        if (r.status == 429) {
            limited++;
            char ra[16];
            assert_true(resp_header(&r, "Retry-After", ra, sizeof(ra)));
            assert_true(strtol(ra, NULL, 10) >= 1);
            assert_string_equal(resp_error_code(&r), "rate_limited");
        } else {
            assert_int_equal(r.status, 200);
            ok++;
        }
        resp_free(&r);
    }
    long long elapsed_ms = harness_deadline(0) - started;
    assert_int_equal(limited, 3);
    assert_true(ok >= 4);                                 /* the bucket's worth went through */
    assert_true(ok <= 4 + 2 * (elapsed_ms + 999) / 1000); /* and no more than the rate */
    assert_int_equal(server_stop(&s2), 0);
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health),        cmocka_unit_test(test_not_found_and_method),
        cmocka_unit_test(test_bad_bodies),    cmocka_unit_test(test_auth_errors),
        cmocka_unit_test(test_hostile_raw),   cmocka_unit_test(test_metrics_promtool),
        cmocka_unit_test(test_events_stream), cmocka_unit_test(test_slow_client),
        cmocka_unit_test(test_rate_limit),
    };
    return cmocka_run_group_tests_name(harness_backend(), tests, setup, teardown);
}
