/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/net/mail.c against a real SMTP server: Debian's aiosmtpd
 * (tests/support/smtp_sink.c) on a free loopback port with its Maildir handler, so each test
 * reads back exactly what arrived
 * (headers, the Turkish subject, text and HTML, the attachment's bytes). Also the refusals that
 * never reach a server.
 */
#include "net/mail.h"
#include "core/crypto.h"
#include "net/httpc.h"
#include "support/smtp_sink.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static struct smtp_sink sink;
static char sink_url[64];

static int start_sink(void **state)
{
    (void)state;
    struct err e;
    err_init(&e);
    if (httpc_global_init(&e) || smtp_sink_start(&sink, 0))
        return -1;
    snprintf(sink_url, sizeof(sink_url), "%s", sink.url);
    return 0;
}

static int stop_sink(void **state)
{
    (void)state;
    smtp_sink_stop(&sink);
    return 0;
}

static char *received(const char *needle)
{
    return smtp_sink_find(&sink, needle, 2000);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    socklen_t len = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    int port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static void test_send_with_attachment(void **state)
{
    (void)state;
    struct err e;
    err_init(&e);
    unsigned char pdf[3000];
    for (size_t i = 0; i < sizeof(pdf); i++)
        pdf[i] = (unsigned char)(i * 7 + 3);
    memcpy(pdf, "%PDF-1.7", 8);
    const char *to[] = {"ayse@example.com", "ops@example.com"};
    struct mail_attachment att = {"certificate.pdf", "application/pdf", pdf, sizeof(pdf)};
    struct mail_message m = {.from = "Iceshop <no-reply@iceshop.test>",
                             .to = to,
                             .n_to = 2,
                             .subject = "Sertifikanız hazır",
                             .text = "Merhaba Ayşe,\nsertifikanız ektedir. marker-7731\n",
                             .html = "<p>Merhaba Ayşe, sertifikanız ektedir.</p>",
                             .attachments = &att,
                             .n_attachments = 1,
                             .message_id = "<cert-42@iceshop.test>"};
    struct mail_server srv = {.url = sink_url, .timeout_ms = 10000};
    bool permanent = true;
    assert_int_equal(mail_send(&srv, &m, &permanent, &e), 0);
    assert_false(permanent);
    char *msg = received("cert-42@iceshop.test");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "From: Iceshop <no-reply@iceshop.test>"));
    assert_non_null(strstr(msg, "To: ayse@example.com, ops@example.com"));
    /* the subject as RFC 2047 base64 of its UTF-8 */
    char enc[128];
    sec_b64_encode(enc, sizeof(enc), SEC_B64_STD, m.subject, strlen(m.subject), &e);
    char want[200];
    snprintf(want, sizeof(want), "Subject: =?UTF-8?B?%s?=", enc);
    assert_non_null(strstr(msg, want));
    assert_non_null(strstr(msg, "multipart/alternative"));
    assert_non_null(strstr(msg, "text/html"));
    assert_non_null(strstr(msg, "marker-7731"));
    assert_non_null(strstr(msg, "filename=\"certificate.pdf\""));
    /* the attachment's bytes: the base64 lines after its headers decode to what was sent */
    const char *part = strstr(msg, "filename=\"certificate.pdf\"");
    const char *body = strstr(part, "\r\n\r\n");
    if (!body)
        body = strstr(part, "\n\n");
    assert_non_null(body);
    char *b64 = calloc(1, 8192);
    size_t k = 0;
    for (const char *p = body; *p && *p != '-' && k < 8191; p++) {
        if (*p != '\r' && *p != '\n' && *p != ' ')
            b64[k++] = *p;
    }
    unsigned char back[4096];
    size_t n = 0;
    assert_int_equal(sec_b64_decode(back, sizeof(back), &n, SEC_B64_STD, b64, k, &e), 0);
    assert_int_equal(n, sizeof(pdf));
    assert_memory_equal(back, pdf, sizeof(pdf));
    free(b64);
    free(msg);
}

static void test_refusals(void **state)
{
    (void)state;
    struct err e;
    const char *to[] = {"ayse@example.com"};
    const char *bad_to[] = {"ayse@example.com\r\nBcc: x@evil.test"};
    struct mail_server srv = {.url = sink_url};
    struct mail_message m = {
        .from = "no-reply@iceshop.test", .to = to, .n_to = 1, .subject = "s", .text = "t"};
    struct mail_message bad = m;
    bad.to = bad_to;
    err_init(&e);
    assert_int_equal(mail_send(&srv, &bad, NULL, &e), ERR_INVALID);
    assert_string_equal(e.field, "to");
    bad = m;
    bad.subject = "a\r\nBcc: x@evil.test";
    err_init(&e);
    assert_int_equal(mail_send(&srv, &bad, NULL, &e), ERR_INVALID);
    assert_string_equal(e.field, "subject");
    bad = m;
    bad.n_to = 0;
    err_init(&e);
    assert_int_equal(mail_send(&srv, &bad, NULL, &e), ERR_INVALID);
    struct mail_attachment att = {"../../etc/passwd", "text/plain", "x", 1};
    bad = m;
    bad.attachments = &att;
    bad.n_attachments = 1;
    err_init(&e);
    assert_int_equal(mail_send(&srv, &bad, NULL, &e), ERR_INVALID);
    assert_string_equal(e.field, "attachments");
    struct mail_server http = {.url = "http://127.0.0.1:1"};
    err_init(&e);
    assert_int_equal(mail_send(&http, &m, NULL, &e), ERR_INVALID);
    /* nothing listening: an upstream error, not permanent */
    char closed[64];
    snprintf(closed, sizeof(closed), "smtp://127.0.0.1:%d", free_port());
    struct mail_server down = {.url = closed, .timeout_ms = 3000};
    bool permanent = true;
    err_init(&e);
    assert_int_equal(mail_send(&down, &m, &permanent, &e), ERR_UPSTREAM);
    assert_false(permanent);
    /* a server that demands TLS it cannot have: refused, never sent in clear */
    struct mail_server tls = {.url = sink_url, .require_tls = true, .timeout_ms = 3000};
    err_init(&e);
    assert_int_not_equal(mail_send(&tls, &m, NULL, &e), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_with_attachment),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name("mail", tests, start_sink, stop_sink);
}
