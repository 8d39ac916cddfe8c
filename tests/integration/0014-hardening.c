/* SPDX-License-Identifier: MIT */
/*
 * Hardening over real loopback HTTP: strict request framing (RFC 9112: conflicting
 * Content-Length, Transfer-Encoding with Content-Length, unknown transfer codings, HTTP/1.1
 * without Host), JSON error documents for paths that are not UTF-8, slow clients that
 * trickle their request head or body, and password guessing. Runs on the backend TEST_BACKEND
 * selects.
 */
#include "support/harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
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

/* Connect from loopback address `from` (127.0.0.x: each is its own client address). */
static int connect_from(int port, const char *from)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in local;
    memset(&local, 0, sizeof(local));
    local.sin_family = AF_INET;
    inet_pton(AF_INET, from, &local.sin_addr);
    if (bind(fd, (struct sockaddr *)&local, sizeof(local))) {
        close(fd);
        return -1;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        close(fd);
        return -1;
    }
    return fd;
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * Send `req` and read until the server closes or `timeout_s` passes; returns true when the
 * server closed the connection itself (what a request of untrusted framing must end in).
 */
static bool raw_exchange(const char *req, char *out, size_t n, int timeout_s)
{
    int fd = connect_to(srv.port);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = timeout_s, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    size_t len = strlen(req);
    assert_int_equal(write(fd, req, len), (ssize_t)len);
    size_t used = 0;
    ssize_t got = 0;
    while (used + 1 < n && (got = read(fd, out + used, n - 1 - used)) > 0)
        used += (size_t)got;
    out[used] = '\0';
    close(fd);
    return got == 0;
}

/* The reply's status line is `status`, its body a JSON error naming `code` and `field`. */
static void assert_json_error(const char *out, const char *status, const char *code,
                              const char *field)
{
    char line[64];
    snprintf(line, sizeof(line), "HTTP/1.1 %s", status);
    if (strncmp(out, line, strlen(line)) != 0)
        fail_msg("expected %s, got: %.200s", line, out);
    if (!strstr(out, "Content-Type: application/json"))
        fail_msg("not a JSON reply: %.300s", out);
    const char *body = strstr(out, "\r\n\r\n");
    assert_non_null(body);
    json_error_t je;
    json_t *doc = json_loads(body + 4, 0, &je);
    if (!doc)
        fail_msg("body is not JSON: %.200s", body + 4);
    json_t *err = json_object_get(doc, "error");
    assert_non_null(err);
    assert_string_equal(json_string_value(json_object_get(err, "code")), code);
    if (field)
        assert_string_equal(json_string_value(json_object_get(err, "field")), field);
    json_decref(doc);
}

static void test_framing(void **state)
{
    (void)state;
    char out[8192];
    /* Two different lengths: which one a proxy believes is anyone's guess. */
    assert_true(raw_exchange("POST /api/auth/login HTTP/1.1\r\nHost: x\r\n"
                             "Content-Type: application/json\r\nContent-Length: 2\r\n"
                             "Content-Length: 5\r\n\r\n{}",
                             out, sizeof(out), 5));
    assert_json_error(out, "400", "invalid", "Content-Length");
    assert_true(raw_exchange("POST /api/auth/login HTTP/1.1\r\nHost: x\r\n"
                             "Content-Type: application/json\r\nContent-Length: 2, 2\r\n\r\n{}",
                             out, sizeof(out), 5));
    /* libmicrohttpd refuses a list itself, before we see the request (its own HTML body) */
    assert_non_null(strstr(out, "HTTP/1.1 400"));
    /* Both framings at once: the smuggling classic. */
    assert_true(raw_exchange("POST /api/auth/login HTTP/1.1\r\nHost: x\r\n"
                             "Content-Type: application/json\r\nContent-Length: 2\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                             out, sizeof(out), 5));
    assert_json_error(out, "400", "invalid", "Transfer-Encoding");
    /* A transfer coding we do not implement, and one listed twice. */
    assert_true(raw_exchange("POST /api/auth/login HTTP/1.1\r\nHost: x\r\n"
                             "Content-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n{}",
                             out, sizeof(out), 5));
    assert_json_error(out, "501", "not_implemented", "Transfer-Encoding");
    assert_true(raw_exchange("POST /api/auth/login HTTP/1.1\r\nHost: x\r\n"
                             "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                             out, sizeof(out), 5));
    assert_json_error(out, "501", "not_implemented", "Transfer-Encoding");
    /* HTTP/1.1 without Host (and with two). */
    assert_true(raw_exchange("GET /health HTTP/1.1\r\n\r\n", out, sizeof(out), 5));
    assert_json_error(out, "400", "invalid", "Host");
    assert_true(
        raw_exchange("GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", out, sizeof(out), 5));
    assert_json_error(out, "400", "invalid", "Host");
    /* HTTP/1.0 needs no Host; well-framed chunked bodies still work. */
    raw_exchange("GET /health HTTP/1.0\r\n\r\n", out, sizeof(out), 5);
    assert_non_null(strstr(out, "HTTP/1.1 200"));
    raw_exchange("POST /api/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                 "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "2\r\n{}\r\n0\r\n\r\n",
                 out, sizeof(out), 5);
    assert_json_error(out, "400", "invalid", NULL); /* reached the handler: fields missing */
}

static void test_path_not_utf8(void **state)
{
    (void)state;
    char out[8192], req[256];
    snprintf(req, sizeof(req),
             "GET /api/jobs/%%FF HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
             "Connection: close\r\n\r\n",
             ADMIN);
    raw_exchange(req, out, sizeof(out), 5);
    assert_json_error(out, "400", "invalid", NULL);
    snprintf(req, sizeof(req),
             "GET /api/jobs/%%C3%%A9 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
             "Connection: close\r\n\r\n",
             ADMIN);
    raw_exchange(req, out, sizeof(out), 5);
    assert_json_error(out, "404", "not_found", NULL); /* valid UTF-8, not an id */
}

/* Milliseconds until the server ends a connection that writes `step` every 250 ms. */
static long long trickle_until_closed(int port, const char *head, const char *step, int limit_ms)
{
    int fd = connect_to(port);
    assert_true(fd >= 0);
    long long t0 = harness_deadline(0);
    assert_int_equal(send(fd, head, strlen(head), MSG_NOSIGNAL), (ssize_t)strlen(head));
    for (long long end = t0 + limit_ms; harness_deadline(0) < end;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 250) > 0) {
            char b[512];
            if (read(fd, b, sizeof(b)) <= 0)
                break;
            continue;
        }
        if (send(fd, step, strlen(step), MSG_NOSIGNAL) < 0)
            break;
    }
    close(fd);
    return harness_deadline(0) - t0;
}

/*
 * A head sent one line at a time is never silent, so the idle timeout (30 s here) never fires;
 * the head deadline (2 s) does. So does a body below the minimum rate.
 */
static void test_slow_head_and_body(void **state)
{
    (void)state;
    struct server s2;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    const char *env[] = {"ICESHOP_IDLE_TIMEOUT=30", "ICESHOP_HEADER_TIMEOUT=2",
                         "ICESHOP_BODY_MIN_RATE=500", NULL};
    assert_int_equal(server_start(&s2, url, env), 0);
    long long ms = trickle_until_closed(s2.port, "GET /health HTTP/1.1\r\nHost: x\r\n",
                                        "X-Slow: 1\r\n", 15000);
    assert_true(ms >= 1500);
    assert_true(ms < 8000);
    ms = trickle_until_closed(s2.port,
                              "POST /api/auth/login HTTP/1.1\r\nHost: x\r\n"
                              "Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n",
                              " ", 15000);
    assert_true(ms >= 1500);
    assert_true(ms < 8000);
    assert_int_equal(server_stop(&s2), 0);
}

/* The trickle attack, small: two addresses hold all they can while another keeps being served. */
struct attack {
    int port;
    _Atomic bool stop;
    _Atomic int opened;
};

#define ATTACK_CONNS 24

static void *attack_run(void *arg)
{
    struct attack *a = arg;
    int fds[ATTACK_CONNS];
    for (int i = 0; i < ATTACK_CONNS; i++)
        fds[i] = -1;
    static const char *const from[] = {"127.0.0.2", "127.0.0.3"};
    while (!atomic_load(&a->stop)) {
        for (int i = 0; i < ATTACK_CONNS; i++) {
            if (fds[i] < 0) {
                fds[i] = connect_from(a->port, from[i % 2]);
                if (fds[i] >= 0) {
                    atomic_fetch_add(&a->opened, 1);
                    static const char head[] = "GET /health HTTP/1.1\r\nHost: x\r\n";
                    if (send(fds[i], head, sizeof(head) - 1, MSG_NOSIGNAL) < 0) {
                        close(fds[i]);
                        fds[i] = -1;
                    }
                }
                continue;
            }
            struct pollfd p = {.fd = fds[i], .events = POLLIN};
            char b[256];
            if ((poll(&p, 1, 0) > 0 && read(fds[i], b, sizeof(b)) <= 0) ||
                send(fds[i], "X-Slow: 1\r\n", 11, MSG_NOSIGNAL) < 0) {
                close(fds[i]);
                fds[i] = -1;
            }
        }
        harness_sleep_ms(200);
    }
    for (int i = 0; i < ATTACK_CONNS; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
    }
    return NULL;
}

/*
 * One GET /health from 127.0.0.1 with a 2 s limit, well under the 5 s head deadline: served by a
 * reserved slot, not by waiting for an attacker's connection to be cut. Its status, 0 on none.
 */
static int light_request(int port)
{
    int fd = connect_from(port, "127.0.0.1");
    if (fd < 0)
        return 0;
    struct timeval tv = {.tv_sec = 2, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    static const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    int status = 0;
    char b[1024];
    if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)sizeof(req) - 1) {
        ssize_t n = read(fd, b, sizeof(b) - 1);
        if (n > 12) {
            b[n] = '\0';
            status = (int)strtol(b + 9, NULL, 10);
        }
    }
    close(fd);
    return status;
}

static void test_trickle_attack(void **state)
{
    (void)state;
    struct server s2;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    const char *env[] = {"ICESHOP_MAX_CONNECTIONS=16", "ICESHOP_HEADER_TIMEOUT=5",
                         "ICESHOP_IDLE_TIMEOUT=30", NULL};
    assert_int_equal(server_start(&s2, url, env), 0);
    struct attack a = {.port = s2.port};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, attack_run, &a), 0);
    /* Wait until the attack holds more connections than there are slots. */
    for (long long end = harness_deadline(10000);
         atomic_load(&a.opened) < ATTACK_CONNS && harness_before(end);)
        harness_sleep_ms(50);
    int ok = 0, failed = 0;
    for (long long end = harness_deadline(7000); harness_before(end);) {
        if (light_request(s2.port) == 200)
            ok++;
        else
            failed++;
        harness_sleep_ms(100);
    }
    atomic_store(&a.stop, true);
    pthread_join(t, NULL);
    if (failed)
        fail_msg("%d of %d requests from a light address failed under the trickle attack", failed,
                 ok + failed);
    assert_true(ok >= 3);
    assert_true(server_log_contains(&s2, "closed slow connections"));
    assert_int_equal(server_stop(&s2), 0);
}

static int login(const struct server *s, const char *password, struct resp *r)
{
    char body[200];
    snprintf(body, sizeof(body), "{\"email\":\"guess@example.com\",\"password\":\"%s\"}", password);
    return http_post_json(s, "/api/auth/login", NULL, body, r);
}

/*
 * Password guessing: after the free failures (3 here) each failure doubles a wait answered with
 * 429 and Retry-After, even for the right password; once the wait is over the right password
 * works again, and /metrics counts both.
 */
static void test_login_guessing(void **state)
{
    (void)state;
    struct server s2;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    const char *env[] = {"ICESHOP_LOGIN_FREE_FAILURES=3", NULL};
    assert_int_equal(server_start(&s2, url, env), 0);
    struct resp r;
    assert_int_equal(http_post_json(&s2, "/api/users", ADMIN,
                                    "{\"email\":\"guess@example.com\",\"password\":\"right "
                                    "password 1\",\"role\":\"viewer\"}",
                                    &r),
                     0);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(login(&s2, "wrong password", &r), 0);
        assert_int_equal(r.status, 401);
        resp_free(&r);
    }
    int limited = 0;
    char ra[16] = "";
    for (int i = 0; i < 3; i++) {
        assert_int_equal(login(&s2, i == 2 ? "right password 1" : "wrong password", &r), 0);
        if (r.status == 429) {
            limited++;
            assert_true(resp_header(&r, "Retry-After", ra, sizeof(ra)));
            assert_string_equal(resp_error_code(&r), "rate_limited");
        }
        resp_free(&r);
    }
    assert_int_equal(limited, 3);
    /* The wait decays: the right password works once it is over. */
    int status = 0;
    for (long long end = harness_deadline(20000); status != 200 && harness_before(end);) {
        harness_sleep_ms(250);
        assert_int_equal(login(&s2, "right password 1", &r), 0);
        status = r.status;
        resp_free(&r);
    }
    assert_int_equal(status, 200);
    assert_int_equal(http_get(&s2, "/metrics", NULL, &r), 0);
    assert_non_null(strstr(r.body, "iceshop_login_failures_total 4\n"));
    const char *th = strstr(r.body, "\niceshop_login_throttled_total ");
    assert_non_null(th);
    assert_true(strtol(th + strlen("\niceshop_login_throttled_total "), NULL, 10) >= 3);
    resp_free(&r);
    assert_true(server_log_contains(&s2, "login failed"));
    assert_int_equal(server_stop(&s2), 0);
}

/*
 * The per-address limit, which the harness turns off everywhere else: ICESHOP_RATE_LIMIT_IP=2
 * allows a burst of 4 refilled at 2/s to anonymous requests, and a failed credential costs
 * the address as much; a key's requests are not counted against it.
 */
static void test_ip_rate_limit(void **state)
{
    (void)state;
    struct server s2;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    const char *env[] = {"ICESHOP_RATE_LIMIT_IP=2", NULL};
    assert_int_equal(server_start(&s2, url, env), 0);
    struct resp r;
    int limited = 0, ok = 0;
    long long started = harness_deadline(0);
    for (long long end = harness_deadline(30000); limited < 3 && harness_before(end);) {
        assert_int_equal(http_get(&s2, (ok + limited) % 2 ? "/health" : "/api/me", "wrong-key", &r),
                         0);
        if (r.status == 429) {
            limited++;
            char ra[16];
            assert_true(resp_header(&r, "Retry-After", ra, sizeof(ra)));
            assert_true(strtol(ra, NULL, 10) >= 1);
            assert_non_null(strstr(r.body, "per address"));
        } else {
            assert_true(r.status == 200 || r.status == 401);
            ok++;
        }
        resp_free(&r);
    }
    long long elapsed_ms = harness_deadline(0) - started;
    assert_int_equal(limited, 3);
    assert_true(ok >= 2);
    assert_true(ok <= 4 + 2 * (elapsed_ms + 999) / 1000);
    assert_int_equal(server_stop(&s2), 0);
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_path_not_utf8),
        cmocka_unit_test(test_slow_head_and_body),
        cmocka_unit_test(test_trickle_attack),
        cmocka_unit_test(test_login_guessing),
        cmocka_unit_test(test_ip_rate_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
