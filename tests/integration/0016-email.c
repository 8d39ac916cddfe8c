/* SPDX-License-Identifier: MIT */
/*
 * Email through the outbox over real HTTP and real SMTP: POST /api/messages/email stores the
 * message and its attachment with the delivery job; the job sends it to a real SMTP sink
 * (aiosmtpd), where the subject, text and the attachment's bytes are checked; while the mail
 * server is down the message waits and is retried, then arrives once it is back; bad input
 * names its field; roles are enforced. Runs on the backend TEST_BACKEND selects.
 */
#include "support/harness.h"
#include "support/smtp_sink.h"
#include "core/crypto.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static struct server srv;
static struct smtp_sink sink;
#define ADMIN HARNESS_ADMIN_KEY

static int setup(void **state)
{
    (void)state;
    if (smtp_sink_start(&sink, 0))
        return -1;
    char url[600], smtp_env[96];
    harness_fresh_db(url, sizeof(url));
    snprintf(smtp_env, sizeof(smtp_env), "ICESHOP_SMTP_URL=%s", sink.url);
    const char *env[] = {smtp_env, "ICESHOP_SMTP_FROM=Iceshop <no-reply@iceshop.test>",
                         "ICESHOP_JOB_BACKOFF_MS=200", NULL};
    return server_start(&srv, url, env);
}

static int teardown(void **state)
{
    (void)state;
    int rc = server_stop(&srv) == 0 ? 0 : -1;
    smtp_sink_stop(&sink);
    return rc;
}

static const char *status_of(long long id)
{
    static char st[32];
    st[0] = '\0';
    struct resp r;
    if (http_get(&srv, "/api/messages?limit=50", ADMIN, &r) == 0) {
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(r.json, "messages"), i, m)
        {
            if (json_integer_value(json_object_get(m, "id")) == id)
                snprintf(st, sizeof(st), "%s", json_string_value(json_object_get(m, "status")));
        }
    }
    resp_free(&r);
    return st;
}

static long long send_email(const char *body, long want_status)
{
    struct resp r;
    assert_int_equal(http_post_json(&srv, "/api/messages/email", ADMIN, body, &r), 0);
    if (r.status != want_status)
        fail_msg("POST /api/messages/email -> %ld %s", r.status, r.body);
    long long id = (long long)json_integer_value(json_object_get(r.json, "id"));
    resp_free(&r);
    return id;
}

static void test_email_with_attachment(void **state)
{
    (void)state;
    unsigned char pdf[2000];
    for (size_t i = 0; i < sizeof(pdf); i++)
        pdf[i] = (unsigned char)(i * 13 + 1);
    memcpy(pdf, "%PDF-1.7", 8);
    char b64[SEC_B64_SIZE(sizeof(pdf))];
    struct err e;
    err_init(&e);
    assert_int_equal(sec_b64_encode(b64, sizeof(b64), SEC_B64_STD, pdf, sizeof(pdf), &e), 0);
    size_t cap = strlen(b64) + 512;
    char *body = malloc(cap);
    snprintf(body, cap,
             "{\"to\":\"ayse@example.com\",\"subject\":\"Sertifikanız hazır\",\"text\":\"Merhaba "
             "Ayşe, sertifikanız ektedir. mark-5521\",\"attachments\":[{\"filename\":"
             "\"sertifika.pdf\",\"content_type\":\"application/pdf\",\"content_base64\":\"%s\"}]}",
             b64);
    long long id = send_email(body, 202);
    free(body);
    WAIT_FOR(strcmp(status_of(id), "sent") == 0, 20000);
    assert_string_equal(status_of(id), "sent");
    char *msg = smtp_sink_find(&sink, "mark-5521", 5000);
    if (!msg)
        msg = smtp_sink_find(&sink, "sertifika.pdf", 1000); /* the text may be encoded */
    assert_non_null(msg);
    assert_non_null(strstr(msg, "To: ayse@example.com"));
    assert_non_null(strstr(msg, "From: Iceshop <no-reply@iceshop.test>"));
    assert_non_null(strstr(msg, "filename=\"sertifika.pdf\""));
    assert_non_null(strstr(msg, "application/pdf"));
    /* the attachment's bytes, decoded back */
    const char *part = strstr(msg, "filename=\"sertifika.pdf\"");
    const char *data = strstr(part, "\r\n\r\n");
    if (!data)
        data = strstr(part, "\n\n");
    assert_non_null(data);
    char *text = calloc(1, 8192);
    size_t k = 0;
    for (const char *p = data; *p && *p != '-' && k < 8191; p++) {
        if (*p != '\r' && *p != '\n' && *p != ' ')
            text[k++] = *p;
    }
    unsigned char back[4096];
    size_t n = 0;
    assert_int_equal(sec_b64_decode(back, sizeof(back), &n, SEC_B64_STD, text, k, &e), 0);
    assert_int_equal(n, sizeof(pdf));
    assert_memory_equal(back, pdf, sizeof(pdf));
    free(text);
    free(msg);
}

/* The mail server is down: the message waits and is retried; it arrives once it is back. */
static void test_retried_until_the_server_is_back(void **state)
{
    (void)state;
    int port = sink.port;
    smtp_sink_stop(&sink);
    long long id = send_email("{\"to\":\"ops@example.com\",\"subject\":\"Retry\",\"text\":\"mark-"
                              "7788 after a retry\"}",
                              202);
    char sql[200];
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM jobs WHERE name = 'notify.deliver' AND attempts >= 1 AND "
             "state = 'pending' AND payload LIKE '%%\"message\":%lld%%'",
             id);
    WAIT_FOR(harness_db_i64(srv.db_url, sql) == 1, 20000);
    assert_int_equal(harness_db_i64(srv.db_url, sql), 1);
    assert_string_equal(status_of(id), "pending");
    assert_int_equal(smtp_sink_start(&sink, port), 0);
    WAIT_FOR(strcmp(status_of(id), "sent") == 0, 30000);
    assert_string_equal(status_of(id), "sent");
    char *msg = smtp_sink_find(&sink, "mark-7788", 5000);
    assert_non_null(msg);
    free(msg);
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *field;
    } bad[] = {
        {"{\"to\":\"not-an-address\",\"subject\":\"s\",\"text\":\"t\"}", "to"},
        {"{\"to\":\"a@b.c\",\"subject\":\"\",\"text\":\"t\"}", "subject"},
        {"{\"to\":\"a@b.c\",\"subject\":\"s\"}", "text"},
        {"{\"to\":\"a@b.c\",\"subject\":\"s\",\"text\":\"t\",\"bcc\":\"x@y.z\"}", "bcc"},
        {"{\"to\":\"a@b.c\",\"subject\":\"s\",\"text\":\"t\",\"attachments\":[{\"filename\":\"../"
         "x\",\"content_type\":\"text/plain\",\"content_base64\":\"eA==\"}]}",
         "attachments[0].filename"},
        {"{\"to\":\"a@b.c\",\"subject\":\"s\",\"text\":\"t\",\"attachments\":[{\"filename\":\"x."
         "txt\",\"content_type\":\"text/plain\",\"content_base64\":\"not base64!\"}]}",
         "attachments[0].content_base64"},
    };
    long long before =
        harness_db_i64(srv.db_url, "SELECT COUNT(*) FROM messages WHERE channel = 'email'");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct resp r;
        assert_int_equal(http_post_json(&srv, "/api/messages/email", ADMIN, bad[i].body, &r), 0);
        if (r.status != 400 || strcmp(resp_error_field(&r), bad[i].field) != 0)
            fail_msg("%s -> %ld %s (want 400 naming %s)", bad[i].body, r.status, r.body,
                     bad[i].field);
        resp_free(&r);
    }
    assert_int_equal(
        harness_db_i64(srv.db_url, "SELECT COUNT(*) FROM messages WHERE channel = 'email'"),
        before);
    /* a viewer may not send */
    char viewer[200];
    assert_int_equal(harness_cli(srv.db_url, "keys create --tenant default --role viewer", viewer,
                                 sizeof(viewer)),
                     0);
    viewer[strcspn(viewer, "\r\n")] = '\0';
    struct resp r;
    assert_int_equal(http_post_json(&srv, "/api/messages/email", viewer,
                                    "{\"to\":\"a@b.c\",\"subject\":\"s\",\"text\":\"t\"}", &r),
                     0);
    assert_int_equal(r.status, 403);
    resp_free(&r);
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email_with_attachment),
        cmocka_unit_test(test_retried_until_the_server_is_back),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name(harness_backend(), tests, setup, teardown);
}
