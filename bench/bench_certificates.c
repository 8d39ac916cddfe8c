/* SPDX-License-Identifier: MIT */
/*
 * Certificate rendering speed for `make bench`: what the generation job does on the CPU for each
 * certificate (the canonical data signed with Ed25519, then the A4 page drawn by cairo + pango
 * with its vector QR code into a PDF in memory), one thread, N certificates with different
 * owners. Prints certificates per second and the PDF sizes; never fails on them.
 * Usage: bench_certificates [N]   (default 500; the first is drawn before the clock starts, so
 * font loading is not counted)
 */
#include "core/buf.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/err.h"
#include "domain/certificates/certificates.h"
#include "pdf/pdf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOW_MS INT64_C(1786702200000) /* 2026-08-14T10:10:00Z */

static const char *const owners[] = {"Şükrü Çağlar",   "Ayşe Yılmaz", "İsmail Öztürk",
                                     "Gülşen Ağaoğlu", "Çağrı Işık",  "Ömer Faruk Şahin"};
static const char *const items[] = {"2 × Latte", "1 × Simit (susamlı)", "1 × Türk kahvesi"};

static int render_one(int i, const unsigned char sk[SEC_SIGN_SECRET_LEN], size_t *size,
                      struct err *e)
{
    char id[32], order[32];
    snprintf(id, sizeof(id), "crt_bench%06d", i);
    snprintf(order, sizeof(order), "ord_bench%06d", i);
    struct cert c = {.id = id,
                     .issuer = "Moda Kahve Evi",
                     .order_id = order,
                     .owner_name = owners[i % 6],
                     .place = "İstanbul",
                     .amount = 18500 + i,
                     .currency = "TRY",
                     .issued_at = NOW_MS,
                     .expires_at = NOW_MS + CERT_VALID_MS};
    char sig[CERT_SIG_B64_LEN + 1];
    int rc = cert_sign(&c, "k_bench", sk, sig, e);
    if (rc)
        return rc;
    char url[256];
    snprintf(url, sizeof(url), "https://shop.example.com/verify/%s?s=%s", id, sig);
    char issued[64], expires[64], place[96], amount[64];
    cert_date_tr(c.issued_at, issued, sizeof(issued));
    cert_date_tr(c.expires_at, expires, sizeof(expires));
    snprintf(place, sizeof(place), "İstanbul, %s", issued);
    snprintf(amount, sizeof(amount), "%" PRId64 ".%02" PRId64 " TRY", c.amount / 100,
             c.amount % 100);
    struct pdf_certificate doc = {.issuer = c.issuer,
                                  .cert_id = id,
                                  .order_id = order,
                                  .owner_name = c.owner_name,
                                  .place_date = place,
                                  .amount = amount,
                                  .issued = issued,
                                  .expires = expires,
                                  .verify_url = url,
                                  .key_id = "k_bench",
                                  .signature = sig,
                                  .items = items,
                                  .n_items = 1 + (size_t)(i % 3)};
    struct buf b;
    buf_init(&b, BUF_MAX_PDF);
    rc = pdf_certificate_render(&doc, &b, e);
    *size = b.len;
    buf_release(&b);
    return rc;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 500;
    if (n < 1)
        n = 500;
    unsigned char pk[SEC_SIGN_PUBLIC_LEN], sk[SEC_SIGN_SECRET_LEN];
    sec_sign_keypair(pk, sk);
    struct err e;
    err_init(&e);
    size_t size = 0, min = SIZE_MAX, max = 0, total = 0;
    if (render_one(0, sk, &size, &e)) {
        fprintf(stderr, "bench_certificates: %s\n", e.msg);
        return 1;
    }
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    int64_t t0 = clock_mono_ns();
    for (long i = 1; i <= n; i++) {
        if (render_one((int)i, sk, &size, &e)) {
            fprintf(stderr, "bench_certificates: %s\n", e.msg);
            return 1;
        }
        total += size;
        min = size < min ? size : min;
        max = size > max ? size : max;
    }
    double s = (double)(clock_mono_ns() - t0) / 1e9;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
    /* CPU time is what one core spent: on a shared machine wall time also counts waiting */
    printf("certificates: %ld signed and drawn on one thread: %.0f/s of CPU time (%.2f s), "
           "%.0f/s of wall time (aim >= 100/s)\n",
           n, (double)n / cpu, cpu, (double)n / s);
    printf("  PDF size: min %zu, mean %zu, max %zu bytes (aim <= 102400)\n", min, total / (size_t)n,
           max);
    return 0;
}
