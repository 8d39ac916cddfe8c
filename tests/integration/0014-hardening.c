/* SPDX-License-Identifier: MIT */
/*
 * Hardening over real loopback HTTP: strict request framing (RFC 9112: conflicting
 * Content-Length, Transfer-Encoding with Content-Length, unknown transfer codings, HTTP/1.1
 * without Host), JSON error documents for paths that are not UTF-8, and slow clients that
 * trickle their request head. Runs on the backend TEST_BACKEND selects.
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

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_path_not_utf8),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
