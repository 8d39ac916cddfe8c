/* SPDX-License-Identifier: MIT */
/*
 * Drawn documents: the purchase certificate as an A4 PDF (cairo + pango with the DejaVu fonts,
 * so Turkish letters come out right) with its verification QR code drawn as vector rectangles
 * (libqrencode), and QR codes as SVG for web pages. The only file that includes <cairo.h>,
 * pango and <qrencode.h> is pdf.c. Rendering is CPU work: call it from jobs (the slow lane),
 * never on a request thread, except the small SVG QR codes. Nothing here reads a clock or the
 * database. Tests: tests/unit/pdf/test_pdf.c.
 */
#ifndef ICESHOP_PDF_PDF_H
#define ICESHOP_PDF_PDF_H

#include "core/buf.h"
#include "core/err.h"

#include <stddef.h>

#define BUF_MAX_PDF   (2u * 1024 * 1024) /* one certificate PDF; they are ~20-40 KB */
#define BUF_MAX_SVG   (256u * 1024)      /* one QR code as SVG */
#define PDF_ITEMS_MAX 8                  /* item lines drawn; more are summarised as "+N" */

/*
 * What a certificate shows, all UTF-8 text supplied by the caller (borrowed for the call).
 * Dates are already formatted (pdf draws, it does not decide). NULL or "" fields are left out,
 * except the ones marked required.
 */
struct pdf_certificate {
    const char *issuer;       /* required: who issues it (the shop) */
    const char *cert_id;      /* required */
    const char *order_id;     /* required */
    const char *owner_name;   /* required: whom it is for */
    const char *place_date;   /* "İstanbul, 14 Ağustos 2026" */
    const char *amount;       /* "1.250,00 TRY" */
    const char *issued;       /* "14 Ağustos 2026" */
    const char *expires;      /* "14 Ağustos 2027" */
    const char *verify_url;   /* required: what the QR code carries */
    const char *key_id;       /* signing key id */
    const char *signature;    /* base64url Ed25519 signature, printed small */
    const char *const *items; /* item lines ("2 × Latte") */
    size_t n_items;
};

/*
 * Draw `c` as a one-page A4 PDF appended to `out` (which should have BUF_MAX_PDF as maximum).
 * ERR_INVALID naming the missing field; ERR_TOO_LARGE when `out` overflows; ERR_INTERNAL when
 * cairo fails.
 */
int pdf_certificate_render(const struct pdf_certificate *c, struct buf *out, struct err *e);

/*
 * The same page as a PNG file at `dpi` (72 = one pixel per point), for tests and previews.
 * Errors as above, ERR_INTERNAL when the file cannot be written.
 */
int pdf_certificate_png(const struct pdf_certificate *c, const char *path, double dpi,
                        struct err *e);

/*
 * `text` as a QR code (error correction M, 8-bit mode) in SVG: one path of the dark modules on
 * a white square with a four-module quiet zone, `viewBox` in modules, appended to `out`.
 * ERR_INVALID for empty text or text too long for a QR code; ERR_TOO_LARGE when `out` overflows.
 */
int pdf_qr_svg(const char *text, struct buf *out, struct err *e);

#endif
