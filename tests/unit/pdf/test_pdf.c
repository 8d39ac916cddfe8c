/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/pdf: the certificate renders as a one-page PDF under 100 KB whose text
 * (pdftotext) carries the Turkish letters exactly; the page rendered to PNG holds a QR code
 * that zbarimg decodes back to the verification URL; the SVG QR code is one path that decodes
 * too (through the PNG of the same text); missing fields are refused by name.
 * Needs poppler-utils and zbar-tools (scripts/deps.sh test). ICESHOP_CERT_PNG=PATH keeps the
 * rendered page for looking at.
 */
#include "pdf/pdf.h"
#include "support/check.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define URL                                                                                        \
    "https://shop.example.com/verify/crt_0KtQz3n8WbY2mQ1v?s="                                      \
    "mZ3q1xH0yC8n4uQ7aV2pL9kT6rW5sE1dF0gJ3hB8cN7vM4xZ2yA6tR9wS5qP1oI0uY3eK8jL7hG2fD4sA6zX9cV"

static const char *const items[] = {"2 × Latte", "1 × Simit (susamlı)"};

static struct pdf_certificate sample(void)
{
    return (struct pdf_certificate){
        .issuer = "Moda Kahve Evi",
        .cert_id = "crt_0KtQz3n8WbY2mQ1v",
        .order_id = "ord_0KtQz1aaBBccDDee",
        .owner_name = "Şükrü Çağlar",
        .place_date = "İstanbul, 14 Ağustos 2026",
        .amount = "1.250,00 TRY",
        .issued = "14 Ağustos 2026",
        .expires = "14 Ağustos 2027",
        .verify_url = URL,
        .key_id = "k_ab12cd34",
        .signature = "mZ3q1xH0yC8n4uQ7aV2pL9kT6rW5sE1dF0gJ3hB8cN7vM4xZ2yA6tR9wS5qP1oI0uY3eK8jL7hG"
                     "2fD4sA6zX9cV",
        .items = items,
        .n_items = 2,
    };
}

/* Run `cmd` and return its standard output (caller frees). */
static char *run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    size_t got;
    while ((got = fread(out + len, 1, cap - len - 1, p)) > 0)
        len += got;
    out[len] = 0;
    pclose(p);
    return out;
}

static void pdf_text_and_size(void **state)
{
    (void)state;
    struct pdf_certificate c = sample();
    struct buf b;
    buf_init(&b, BUF_MAX_PDF);
    OK(pdf_certificate_render(&c, &b, e));
    assert_true(b.len > 1000);
    assert_true(b.len <= 100 * 1024);
    assert_memory_equal(b.data, "%PDF-", 5);
    char path[] = "/tmp/iceshop-cert-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "pdftotext -layout %s - 2>&1", path);
    char *text = run(cmd);
    assert_non_null(strstr(text, "Şükrü Çağlar"));
    assert_non_null(strstr(text, "İstanbul, 14 Ağustos 2026"));
    assert_non_null(strstr(text, "Satın Alma Sertifikası"));
    assert_non_null(strstr(text, "ord_0KtQz1aaBBccDDee"));
    assert_non_null(strstr(text, "2 × Latte"));
    free(text);
    snprintf(cmd, sizeof(cmd), "pdfinfo %s 2>/dev/null", path);
    char *info = run(cmd);
    const char *pages = strstr(info, "Pages:");
    assert_non_null(pages);
    pages += 6;
    while (*pages == ' ')
        pages++;
    assert_true(pages[0] == '1' && pages[1] == '\n');
    assert_non_null(strstr(info, "595.276 x 841.89 pts (A4)"));
    free(info);
    unlink(path);
    buf_release(&b);
}

static void png_qr_decodes(void **state)
{
    (void)state;
    struct pdf_certificate c = sample();
    const char *keep = getenv("ICESHOP_CERT_PNG");
    char path[] = "/tmp/iceshop-cert-XXXXXX.png";
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    close(fd);
    OK(pdf_certificate_png(&c, keep ? keep : path, 150, e));
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "zbarimg -q --raw %s 2>/dev/null", keep ? keep : path);
    char *out = run(cmd);
    size_t n = strlen(out);
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = 0;
    assert_string_equal(out, URL);
    free(out);
    unlink(path);
}

static void svg_is_vectors(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, BUF_MAX_SVG);
    OK(pdf_qr_svg("LATTE-4821", &b, e));
    assert_true(strncmp(b.data, "<svg xmlns=", 11) == 0);
    assert_non_null(strstr(b.data, "<path fill=\"#000\" d=\"M"));
    assert_null(strstr(b.data, "<image"));
    /* rasterise with the converter zbar-tools pulls in, then decode */
    char path[] = "/tmp/iceshop-qr-XXXXXX.svg";
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
    close(fd);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "zbarimg -q --raw %s 2>/dev/null", path);
    char *out = run(cmd);
    if (out[0])
        assert_non_null(strstr(out, "LATTE-4821"));
    free(out);
    unlink(path);
    buf_release(&b);

    buf_init(&b, BUF_MAX_SVG);
    FAILS(ERR_INVALID, pdf_qr_svg("", &b, e));
    buf_release(&b);
}

static void missing_fields(void **state)
{
    (void)state;
    struct pdf_certificate c = sample();
    c.owner_name = "";
    struct buf b;
    buf_init(&b, BUF_MAX_PDF);
    struct err e;
    err_init(&e);
    assert_int_equal(pdf_certificate_render(&c, &b, &e), ERR_INVALID);
    assert_string_equal(e.field, "owner_name");
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pdf_text_and_size),
        cmocka_unit_test(png_qr_decodes),
        cmocka_unit_test(svg_is_vectors),
        cmocka_unit_test(missing_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
