/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/net/httpc.c against a real HTTP server: a tiny libmicrohttpd daemon on
 * 127.0.0.1 (port picked by the kernel) started in this process. Covers methods, headers,
 * bodies, status codes, the response cap, timeouts, refused connections and the ops switch.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/str.h"
#include "net/httpc.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- the test server */

static struct MHD_Daemon *daemon_;
static unsigned short port;

struct conn_state {
    struct buf body;
};

static int64_t query_num(struct MHD_Connection *c, const char *key, int64_t dflt)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
    int64_t n;
    if (!v || str_to_i64(v, &n))
        return dflt;
    return n;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned int status, const char *text,
                                 size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "text/plain");
    MHD_add_response_header(r, "X-Reply", "  yes  ");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static ssize_t chunk_reader(void *cls, uint64_t pos, char *out, size_t max)
{
    size_t total = *(size_t *)cls;
    if (pos >= total)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = total - (size_t)pos < max ? total - (size_t)pos : max;
    memset(out, 'c', n);
    return (ssize_t)n;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct conn_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof(*st));
        buf_init(&st->body, 1u << 20);
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size) {
        buf_append(&st->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }

    if (strcmp(url, "/echo") == 0) {
        const char *xt = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Test");
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        struct buf out;
        buf_init(&out, 1u << 20);
        buf_appendf(&out, "method=%s x-test=%s ct=%s body=%s", method, xt ? xt : "-", ct ? ct : "-",
                    buf_str(&st->body));
        enum MHD_Result ret = send_text(c, 200, buf_str(&out), out.len);
        buf_release(&out);
        return ret;
    }
    if (strncmp(url, "/status/", 8) == 0) {
        int64_t code = 0;
        if (str_to_i64(url + 8, &code))
            code = 400;
        return send_text(c, (unsigned int)code, "status", 6);
    }
    if (strcmp(url, "/big") == 0) {
        size_t n = (size_t)query_num(c, "n", 0);
        char *p = malloc(n + 1);
        memset(p, 'b', n);
        enum MHD_Result ret = send_text(c, 200, p, n);
        free(p);
        return ret;
    }
    if (strcmp(url, "/chunked") == 0) {
        size_t *n = malloc(sizeof(*n));
        *n = (size_t)query_num(c, "n", 0);
        struct MHD_Response *r =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, chunk_reader, n, free);
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (strcmp(url, "/sleep") == 0) {
        int64_t ms = query_num(c, "ms", 0);
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
        return send_text(c, 200, "late", 4);
    }
    return send_text(c, 404, "not found", 9);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct conn_state *st = *con_cls;
    if (st) {
        buf_release(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

static int server_start(void **state)
{
    (void)state;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                               NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sa,
                               MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
    if (!daemon_)
        return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || info->port == 0)
        return -1;
    port = info->port;
    struct err e;
    err_init(&e);
    return httpc_global_init(&e) ? -1 : 0;
}

static int server_stop(void **state)
{
    (void)state;
    MHD_stop_daemon(daemon_);
    httpc_global_cleanup();
    return 0;
}

static const char *url_for(char *buf, size_t n, const char *path)
{
    snprintf(buf, n, "http://127.0.0.1:%u%s", port, path);
    return buf;
}

/* ---------------------------------------------------------------- tests */

static void test_get(void **state)
{
    (void)state;
    char url[128];
    struct httpc_header hdrs[] = {{"X-Test", "hello"}};
    struct httpc_request req = {
        .url = url_for(url, sizeof(url), "/echo"), .headers = hdrs, .nheaders = 1};
    struct httpc_response resp;
    httpc_response_init(&resp);
    struct err e;
    err_init(&e);
    int rc = httpc_do(&req, &resp, &e);
    if (rc)
        fail_msg("get: %s", e.msg);
    assert_int_equal(resp.status, 200);
    assert_string_equal(buf_str(&resp.body), "method=GET x-test=hello ct=- body=");
    /* header lookup ignores case and trims */
    assert_string_equal(httpc_response_header(&resp, "x-reply"), "yes");
    assert_string_equal(httpc_response_header(&resp, "CONTENT-TYPE"), "text/plain");
    assert_non_null(httpc_response_header(&resp, "Content-Length"));
    assert_null(httpc_response_header(&resp, "X-Absent"));
    httpc_response_release(&resp);
}

static void test_post_and_methods(void **state)
{
    (void)state;
    char url[128];
    const char *body = "{\"a\":1}";
    struct httpc_header hdrs[] = {{"Content-Type", "application/json"}, {"X-Test", "p"}};
    struct httpc_request req = {.method = "POST",
                                .url = url_for(url, sizeof(url), "/echo"),
                                .headers = hdrs,
                                .nheaders = 2,
                                .body = body,
                                .body_len = strlen(body)};
    struct httpc_response resp;
    httpc_response_init(&resp);
    struct err e;
    err_init(&e);
    assert_int_equal(httpc_do(&req, &resp, &e), 0);
    assert_int_equal(resp.status, 200);
    assert_string_equal(buf_str(&resp.body),
                        "method=POST x-test=p ct=application/json body={\"a\":1}");
    httpc_response_release(&resp);

    /* PUT and PATCH carry a body too; DELETE without one */
    static const char *methods[] = {"PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < 3; i++) {
        req.method = methods[i];
        req.body_len = i < 2 ? strlen(body) : 0;
        httpc_response_init(&resp);
        err_init(&e);
        assert_int_equal(httpc_do(&req, &resp, &e), 0);
        char want[128];
        snprintf(want, sizeof(want), "method=%s x-test=p ct=application/json body=%s", methods[i],
                 i < 2 ? body : "");
        assert_string_equal(buf_str(&resp.body), want);
        httpc_response_release(&resp);
    }

    /* a large body goes out without waiting for 100-continue */
    size_t big_len = 2u << 20;
    char *big = malloc(big_len);
    memset(big, 'z', big_len);
    req.method = "POST";
    req.url = url_for(url, sizeof(url), "/status/201");
    req.body = big;
    req.body_len = big_len;
    req.timeout_ms = 5000;
    httpc_response_init(&resp);
    err_init(&e);
    assert_int_equal(httpc_do(&req, &resp, &e), 0);
    assert_int_equal(resp.status, 201);
    httpc_response_release(&resp);
    free(big);

    /* HEAD: status and headers, no body */
    struct httpc_request head = {.method = "HEAD", .url = url_for(url, sizeof(url), "/echo")};
    httpc_response_init(&resp);
    assert_int_equal(httpc_do(&head, &resp, &e), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body.len, 0);
    httpc_response_release(&resp);
}

static void test_status_codes(void **state)
{
    (void)state;
    static const long codes[] = {200, 204, 301, 400, 404, 429, 500, 503};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        char path[32], url[128];
        snprintf(path, sizeof(path), "/status/%ld", codes[i]);
        struct httpc_request req = {.url = url_for(url, sizeof(url), path)};
        struct httpc_response resp;
        httpc_response_init(&resp);
        struct err e;
        err_init(&e);
        /* an error status is still a completed call */
        assert_int_equal(httpc_do(&req, &resp, &e), 0);
        assert_int_equal(resp.status, codes[i]);
        httpc_response_release(&resp);
    }
}

static void test_response_cap(void **state)
{
    (void)state;
    char url[128];
    struct httpc_response resp;
    struct err e;
    /* exactly at the cap is fine */
    struct httpc_request req = {.url = url_for(url, sizeof(url), "/big?n=1000"),
                                .max_response = 1000};
    httpc_response_init(&resp);
    err_init(&e);
    assert_int_equal(httpc_do(&req, &resp, &e), 0);
    assert_int_equal(resp.body.len, 1000);
    httpc_response_release(&resp);

    /* over the cap with a Content-Length */
    req.url = url_for(url, sizeof(url), "/big?n=100000");
    httpc_response_init(&resp);
    err_init(&e);
    assert_int_equal(httpc_do(&req, &resp, &e), ERR_TOO_LARGE);
    assert_int_equal(e.code, ERR_TOO_LARGE);
    assert_true(resp.body.len <= 1000);
    httpc_response_release(&resp);

    /* over the cap, chunked: no length up front, the body callback aborts */
    req.url = url_for(url, sizeof(url), "/chunked?n=100000");
    httpc_response_init(&resp);
    err_init(&e);
    assert_int_equal(httpc_do(&req, &resp, &e), ERR_TOO_LARGE);
    assert_true(resp.body.len <= 1000);
    httpc_response_release(&resp);

    /* chunked under the cap */
    req.url = url_for(url, sizeof(url), "/chunked?n=900");
    httpc_response_init(&resp);
    err_init(&e);
    assert_int_equal(httpc_do(&req, &resp, &e), 0);
    assert_int_equal(resp.body.len, 900);
    httpc_response_release(&resp);
}

static void test_timeout(void **state)
{
    (void)state;
    char url[128];
    struct httpc_request req = {.url = url_for(url, sizeof(url), "/sleep?ms=1000"),
                                .timeout_ms = 200};
    struct httpc_response resp;
    httpc_response_init(&resp);
    struct err e;
    err_init(&e);
    assert_int_equal(httpc_do(&req, &resp, &e), ERR_TIMEOUT);
    assert_int_equal(e.code, ERR_TIMEOUT);
    httpc_response_release(&resp);
}

static void test_refused(void **state)
{
    (void)state;
    /* a port that was just free: bind, read it, close */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t len = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);

    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", ntohs(sa.sin_port));
    struct httpc_request req = {.url = url, .timeout_ms = 2000};
    struct httpc_response resp;
    httpc_response_init(&resp);
    struct err e;
    err_init(&e);
    assert_int_equal(httpc_do(&req, &resp, &e), ERR_UPSTREAM);
    assert_int_equal(resp.status, 0);
    httpc_response_release(&resp);
}

static void test_invalid_requests(void **state)
{
    (void)state;
    char url[128];
    struct httpc_response resp;
    struct err e;
    struct httpc_request bad[] = {
        {.url = NULL},
        {.url = "ftp://127.0.0.1/x"},
        {.url = "file:///etc/passwd"},
        {.url = url_for(url, sizeof(url), "/echo"), .method = "get"},
        {.url = url_for(url, sizeof(url), "/echo"), .method = "GE T"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        httpc_response_init(&resp);
        err_init(&e);
        int rc = httpc_do(&bad[i], &resp, &e);
        if (rc != ERR_INVALID)
            fail_msg("bad request %zu: rc %d", i, rc);
        httpc_response_release(&resp);
    }
    /* header injection */
    struct httpc_header inj[][1] = {
        {{"X-Test", "a\r\nX-Evil: 1"}}, {{"X-Te\nst", "a"}}, {{"X:Test", "a"}}, {{"", "a"}}};
    for (size_t i = 0; i < sizeof(inj) / sizeof(inj[0]); i++) {
        struct httpc_request req = {
            .url = url_for(url, sizeof(url), "/echo"), .headers = inj[i], .nheaders = 1};
        httpc_response_init(&resp);
        err_init(&e);
        assert_int_equal(httpc_do(&req, &resp, &e), ERR_INVALID);
        httpc_response_release(&resp);
    }
}

/* ---------------------------------------------------------------- ops switch */

struct fake {
    int calls;
    int fail_on; /* 1-based call that fails; 0 = never */
};

static int fake_do(void *ctx, const struct httpc_request *req, struct httpc_response *resp,
                   struct err *e)
{
    struct fake *f = ctx;
    f->calls++;
    if (f->calls == f->fail_on)
        return err_set(e, ERR_UPSTREAM, "fake failure on call %d", f->calls);
    resp->status = 202;
    return buf_appends(&resp->body, req->url);
}

static void test_ops_swap(void **state)
{
    (void)state;
    struct fake f = {.fail_on = 2};
    struct httpc_ops ops = {.do_request = fake_do, .ctx = &f};
    httpc_set_ops(&ops);
    struct httpc_request req = {.url = "http://fake.invalid/x"};
    struct httpc_response resp;
    struct err e;

    httpc_response_init(&resp);
    err_init(&e);
    assert_int_equal(httpc_do(&req, &resp, &e), 0);
    assert_int_equal(resp.status, 202);
    assert_string_equal(buf_str(&resp.body), "http://fake.invalid/x");
    httpc_response_release(&resp);

    httpc_response_init(&resp);
    err_init(&e);
    assert_int_equal(httpc_do(&req, &resp, &e), ERR_UPSTREAM);
    assert_int_equal(f.calls, 2);
    httpc_response_release(&resp);

    /* back to the real backend */
    httpc_set_ops(NULL);
    char url[128];
    req.url = url_for(url, sizeof(url), "/status/200");
    httpc_response_init(&resp);
    err_init(&e);
    assert_int_equal(httpc_do(&req, &resp, &e), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(f.calls, 2);
    httpc_response_release(&resp);
    assert_true(httpc_ops_curl()->do_request != NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_post_and_methods),
        cmocka_unit_test(test_status_codes),
        cmocka_unit_test(test_response_cap),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_invalid_requests),
        cmocka_unit_test(test_ops_swap),
    };
    return cmocka_run_group_tests(tests, server_start, server_stop);
}
