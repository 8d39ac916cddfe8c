/* SPDX-License-Identifier: MIT */
/*
 * The certificate page and QR codes (see pdf.h). One drawing function serves the PDF and the
 * PNG surfaces, so what the tests look at is what customers get. The QR code is drawn as one
 * filled path of rectangles (runs of dark modules merged per row): vectors, sharp at any zoom.
 */
#include "pdf/pdf.h"


#include <cairo.h>
#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#include <qrencode.h>

#include <string.h>

#define A4_W 595.276 /* points */
#define A4_H 841.890

/* Colours: a deep teal for frames and headings, warm gold for accents, near-black text. */
#define INK   0.13, 0.15, 0.17
#define TEAL  0.05, 0.29, 0.33
#define GOLD  0.72, 0.56, 0.24
#define MUTED 0.40, 0.43, 0.46
#define PAPER 1.00, 0.995, 0.98

static bool empty(const char *s)
{
    return !s || !*s;
}

/* Draw `text` with font `font` at (x, y) (top left), `width` wide, aligned; returns its height. */
/* One Pango context per page: layouts share it instead of making one each. */
static __thread PangoContext *page_ctx;

static double text_at(cairo_t *cr, const char *font, const char *text, double x, double y,
                      double width, PangoAlignment align)
{
    PangoLayout *l = page_ctx ? pango_layout_new(page_ctx) : pango_cairo_create_layout(cr);
    PangoFontDescription *fd = pango_font_description_from_string(font);
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    pango_layout_set_width(l, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(l, align);
    /* ids, URLs and signatures break anywhere; a hyphen at the break would change them */
    PangoAttrList *attrs = pango_attr_list_new();
    pango_attr_list_insert(attrs, pango_attr_insert_hyphens_new(FALSE));
    pango_layout_set_attributes(l, attrs);
    pango_attr_list_unref(attrs);
    pango_layout_set_text(l, text, -1);
    cairo_move_to(cr, x, y);
    pango_cairo_show_layout(cr, l);
    int w, h;
    pango_layout_get_size(l, &w, &h);
    g_object_unref(l);
    return (double)h / PANGO_SCALE;
}

/* The QR code of `text`; NULL when it cannot be encoded. Caller frees with QRcode_free. */
static QRcode *qr_encode(const char *text)
{
    return QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
}

#define QR_WIDTH_MAX 177 /* version 40 */

/*
 * The dark modules of `q` as rectangles of `module` points at (x, y), filled in the colour set:
 * each rectangle is a run of dark modules in a row, grown down over the rows below that are dark
 * and unclaimed in the same columns, so the path is short (fewer operators to write and
 * compress) and still covers exactly the dark modules.
 */
static void qr_draw(cairo_t *cr, const QRcode *q, double x, double y, double module)
{
    int n = q->width;
    static __thread unsigned char taken[QR_WIDTH_MAX * QR_WIDTH_MAX];
    memset(taken, 0, (size_t)n * (size_t)n);
#define DARK(r, c)                                                                                 \
    ((q->data[(size_t)(r) * (size_t)n + (size_t)(c)] & 1) &&                                       \
     !taken[(size_t)(r) * (size_t)n + (size_t)(c)])
    for (int row = 0; row < n; row++) {
        int col = 0;
        while (col < n) {
            if (!DARK(row, col)) {
                col++;
                continue;
            }
            int start = col;
            while (col < n && DARK(row, col))
                col++;
            int h = 1;
            for (bool full = true; full && row + h < n; h += full) {
                for (int k = start; full && k < col; k++)
                    full = DARK(row + h, k);
            }
            for (int r = row; r < row + h; r++)
                memset(taken + (size_t)r * (size_t)n + (size_t)start, 1, (size_t)(col - start));
            cairo_rectangle(cr, x + start * module, y + row * module, (col - start) * module,
                            h * module);
        }
    }
#undef DARK
    cairo_fill(cr);
}

static void rule(cairo_t *cr, double x0, double x1, double y, double width)
{
    cairo_set_line_width(cr, width);
    cairo_move_to(cr, x0, y);
    cairo_line_to(cr, x1, y);
    cairo_stroke(cr);
}

/* One labelled row of the details table; returns the next row's y. */
static double detail(cairo_t *cr, const char *label_tr, const char *label_en, const char *value,
                     double x, double y, double width)
{
    if (empty(value))
        return y;
    char label[128];
    snprintf(label, sizeof(label), "%s / %s", label_tr, label_en);
    cairo_set_source_rgb(cr, MUTED);
    text_at(cr, "DejaVu Sans 8", label, x, y + 2, 150, PANGO_ALIGN_LEFT);
    cairo_set_source_rgb(cr, INK);
    double h = text_at(cr, "DejaVu Sans 11", value, x + 160, y, width - 160, PANGO_ALIGN_LEFT);
    return y + (h > 16 ? h : 16) + 8;
}

static int draw_page(cairo_t *cr, const struct pdf_certificate *c, const QRcode *q);

static int draw(cairo_t *cr, const struct pdf_certificate *c, const QRcode *q)
{
    page_ctx = pango_cairo_create_context(cr);
    int rc = draw_page(cr, c, q);
    g_object_unref(page_ctx);
    page_ctx = NULL;
    return rc;
}

static int draw_page(cairo_t *cr, const struct pdf_certificate *c, const QRcode *q)
{
    double m = 36; /* page margin to the outer frame */
    cairo_set_source_rgb(cr, PAPER);
    cairo_paint(cr);

    /* frames: a heavy teal one and a fine gold one inside it */
    cairo_set_source_rgb(cr, TEAL);
    cairo_set_line_width(cr, 3);
    cairo_rectangle(cr, m, m, A4_W - 2 * m, A4_H - 2 * m);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, GOLD);
    cairo_set_line_width(cr, 0.8);
    cairo_rectangle(cr, m + 7, m + 7, A4_W - 2 * m - 14, A4_H - 2 * m - 14);
    cairo_stroke(cr);

    double x = 80, w = A4_W - 160, y = 84;
    cairo_set_source_rgb(cr, TEAL);
    y += text_at(cr, "DejaVu Sans Bold 12", c->issuer, x, y, w, PANGO_ALIGN_CENTER) + 26;
    cairo_set_source_rgb(cr, INK);
    y +=
        text_at(cr, "DejaVu Serif Bold 25", "Satın Alma Sertifikası", x, y, w, PANGO_ALIGN_CENTER) +
        2;
    cairo_set_source_rgb(cr, MUTED);
    y += text_at(cr, "DejaVu Serif Bold 13", "Certificate of Purchase", x, y, w,
                 PANGO_ALIGN_CENTER) +
         18;
    cairo_set_source_rgb(cr, GOLD);
    rule(cr, A4_W / 2 - 60, A4_W / 2 + 60, y, 1.2);
    y += 26;

    cairo_set_source_rgb(cr, MUTED);
    y += text_at(cr, "DejaVu Sans 10",
                 "Bu belge, aşağıdaki siparişin sahibine verilmiştir · "
                 "This certifies the owner of the order below",
                 x, y, w, PANGO_ALIGN_CENTER) +
         14;
    cairo_set_source_rgb(cr, TEAL);
    y += text_at(cr, "DejaVu Serif Bold 24", c->owner_name, x, y, w, PANGO_ALIGN_CENTER) + 6;
    if (!empty(c->place_date)) {
        cairo_set_source_rgb(cr, INK);
        y += text_at(cr, "DejaVu Sans 13", c->place_date, x, y, w, PANGO_ALIGN_CENTER);
    }
    y += 34;

    /* details */
    cairo_set_source_rgb(cr, GOLD);
    rule(cr, x, x + w, y, 0.6);
    y += 14;
    y = detail(cr, "Sertifika no", "Certificate no", c->cert_id, x, y, w);
    y = detail(cr, "Sipariş", "Order", c->order_id, x, y, w);
    y = detail(cr, "Tutar", "Amount", c->amount, x, y, w);
    if (c->n_items) {
        char items[1024] = "";
        size_t len = 0, n = c->n_items < PDF_ITEMS_MAX ? c->n_items : PDF_ITEMS_MAX;
        for (size_t i = 0; i < n && len < sizeof(items); i++) {
            int k = snprintf(items + len, sizeof(items) - len, "%s%s", i ? "\n" : "",
                             c->items[i] ? c->items[i] : "");
            len += k > 0 ? (size_t)k : 0;
        }
        if (c->n_items > n && len < sizeof(items))
            snprintf(items + len, sizeof(items) - len, "\n+%zu", c->n_items - n);
        y = detail(cr, "Ürünler", "Items", items, x, y, w);
    }
    y = detail(cr, "Düzenlenme", "Issued", c->issued, x, y, w);
    y = detail(cr, "Geçerlilik", "Valid until", c->expires, x, y, w);
    cairo_set_source_rgb(cr, GOLD);
    rule(cr, x, x + w, y + 2, 0.6);

    /* verification: the QR code below the details, the signature beside it */
    double qr_size = 120, qy = y + 30;
    if (qy > A4_H - m - 60 - qr_size)
        qy = A4_H - m - 60 - qr_size;
    double module = qr_size / (q->width + 8); /* four modules of quiet zone each side */
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, x, qy, qr_size, qr_size);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    qr_draw(cr, q, x + 4 * module, qy + 4 * module, module);

    double sx = x + qr_size + 20, sw = w - qr_size - 20, sy = qy + 4;
    cairo_set_source_rgb(cr, TEAL);
    sy += text_at(cr, "DejaVu Sans Bold 10", "Doğrulama · Verification", sx, sy, sw,
                  PANGO_ALIGN_LEFT) +
          4;
    cairo_set_source_rgb(cr, INK);
    sy += text_at(cr, "DejaVu Sans 8",
                  "Kodu okutun ya da adresi açın; sertifikanın geçerli olduğunu, iptal edilip "
                  "edilmediğini gösterir. Scan the code or open the address to check it.",
                  sx, sy, sw, PANGO_ALIGN_LEFT) +
          6;
    cairo_set_source_rgb(cr, MUTED);
    sy += text_at(cr, "DejaVu Sans 6.5", c->verify_url, sx, sy, sw, PANGO_ALIGN_LEFT) + 6;
    if (!empty(c->signature)) {
        char sig[256];
        snprintf(sig, sizeof(sig), "Ed25519 · %s\n%s", empty(c->key_id) ? "" : c->key_id,
                 c->signature);
        text_at(cr, "DejaVu Sans 6.5", sig, sx, sy, sw, PANGO_ALIGN_LEFT);
    }

    cairo_set_source_rgb(cr, MUTED);
    char foot[320];
    snprintf(foot, sizeof(foot), "%s · Iceshop", c->issuer);
    text_at(cr, "DejaVu Sans 7.5", foot, x, A4_H - m - 34, w, PANGO_ALIGN_CENTER);
    return cairo_status(cr) == CAIRO_STATUS_SUCCESS ? 0 : -1;
}

static int check(const struct pdf_certificate *c, struct err *e)
{
    if (empty(c->issuer))
        return err_set_field(e, ERR_INVALID, "issuer", "the certificate needs an issuer");
    if (empty(c->cert_id))
        return err_set_field(e, ERR_INVALID, "cert_id", "the certificate needs an id");
    if (empty(c->order_id))
        return err_set_field(e, ERR_INVALID, "order_id", "the certificate needs an order");
    if (empty(c->owner_name))
        return err_set_field(e, ERR_INVALID, "owner_name", "the certificate needs an owner");
    if (empty(c->verify_url))
        return err_set_field(e, ERR_INVALID, "verify_url", "the certificate needs a verify url");
    return 0;
}

struct sink {
    struct buf *out;
    int rc;
};

static cairo_status_t write_buf(void *closure, const unsigned char *data, unsigned int len)
{
    struct sink *s = closure;
    if (s->rc)
        return CAIRO_STATUS_WRITE_ERROR;
    s->rc = buf_append(s->out, data, len);
    return s->rc ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

int pdf_certificate_render(const struct pdf_certificate *c, struct buf *out, struct err *e)
{
    int rc = check(c, e);
    if (rc)
        return rc;
    QRcode *q = qr_encode(c->verify_url);
    if (!q)
        return err_set_field(e, ERR_INVALID, "verify_url", "verify url cannot be a QR code");
    struct sink s = {out, 0};
    cairo_surface_t *surf = cairo_pdf_surface_create_for_stream(write_buf, &s, A4_W, A4_H);
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_TITLE, "Satın Alma Sertifikası");
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_AUTHOR, c->issuer);
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATOR, "Iceshop");
    cairo_t *cr = cairo_create(surf);
    int drawn = draw(cr, c, q);
    cairo_destroy(cr);
    cairo_surface_finish(surf);
    cairo_status_t st = cairo_surface_status(surf);
    cairo_surface_destroy(surf);
    QRcode_free(q);
    if (s.rc)
        return err_set(e, ERR_TOO_LARGE, "certificate pdf over %zu bytes", out->max);
    if (drawn || st != CAIRO_STATUS_SUCCESS)
        return err_set(e, ERR_INTERNAL, "cannot draw certificate: %s", cairo_status_to_string(st));
    return 0;
}

int pdf_certificate_png(const struct pdf_certificate *c, const char *path, double dpi,
                        struct err *e)
{
    int rc = check(c, e);
    if (rc)
        return rc;
    QRcode *q = qr_encode(c->verify_url);
    if (!q)
        return err_set_field(e, ERR_INVALID, "verify_url", "verify url cannot be a QR code");
    double k = dpi / 72.0;
    cairo_surface_t *surf =
        cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)(A4_W * k), (int)(A4_H * k));
    cairo_t *cr = cairo_create(surf);
    cairo_scale(cr, k, k);
    int drawn = draw(cr, c, q);
    cairo_destroy(cr);
    cairo_status_t st = drawn ? CAIRO_STATUS_NO_MEMORY : cairo_surface_write_to_png(surf, path);
    cairo_surface_destroy(surf);
    QRcode_free(q);
    if (st != CAIRO_STATUS_SUCCESS)
        return err_set(e, ERR_INTERNAL, "cannot write %s: %s", path, cairo_status_to_string(st));
    return 0;
}

int pdf_qr_svg(const char *text, struct buf *out, struct err *e)
{
    if (empty(text))
        return err_set_field(e, ERR_INVALID, "text", "nothing to encode");
    QRcode *q = qr_encode(text);
    if (!q)
        return err_set_field(e, ERR_INVALID, "text", "text too long for a QR code");
    int n = q->width, side = n + 8;
    int rc = buf_appendf(out,
                         "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                         "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
                         "fill=\"#fff\"/><path fill=\"#000\" d=\"",
                         side, side, side, side);
    for (int row = 0; !rc && row < n; row++) {
        const unsigned char *line = q->data + (size_t)row * (size_t)n;
        int col = 0;
        while (!rc && col < n) {
            if (!(line[col] & 1)) {
                col++;
                continue;
            }
            int start = col;
            while (col < n && (line[col] & 1))
                col++;
            rc = buf_appendf(out, "M%d %dh%dv1h-%dz", start + 4, row + 4, col - start, col - start);
        }
    }
    if (!rc)
        rc = buf_appends(out, "\"/></svg>");
    QRcode_free(q);
    if (rc)
        return err_set(e, ERR_TOO_LARGE, "qr svg over %zu bytes", out->max);
    return 0;
}
