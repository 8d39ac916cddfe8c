/* SPDX-License-Identifier: MIT */
/*
 * WooCommerce's orders endpoint (see woocommerce.h): the URL with its filters, Basic auth, and
 * the orders read into woo_order. Tests: tests/unit/net/test_woocommerce.c.
 */
#include "net/woocommerce.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/str.h"
#include "net/httpc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy(char *dst, size_t n, const char *src)
{
    str_copy(dst, n, src ? src : "");
}

static bool loopback(const char *url)
{
    return strncmp(url, "http://127.0.0.1", 16) == 0 || strncmp(url, "http://localhost", 16) == 0 ||
           strncmp(url, "http://[::1]", 12) == 0;
}

/* WooCommerce writes GMT times without a zone: "2026-12-01T10:00:00" */
static int64_t gmt_ms(const char *s)
{
    char iso[40];
    int64_t ms = 0;
    if (!s || !*s)
        return 0;
    snprintf(iso, sizeof(iso), "%sZ", s);
    return clock_parse_iso(iso, &ms) ? 0 : ms;
}

static void read_order(json_t *o, struct woo_order *w)
{
    memset(w, 0, sizeof(*w));
    w->id = json_integer_value(json_object_get(o, "id"));
    copy(w->status, sizeof(w->status), json_string_value(json_object_get(o, "status")));
    w->modified_ms = gmt_ms(json_string_value(json_object_get(o, "date_modified_gmt")));
    const char *cur = json_string_value(json_object_get(o, "currency"));
    struct err e;
    err_init(&e);
    const char *total = json_string_value(json_object_get(o, "total"));
    if (!cur || !total || money_parse(total, cur, 0, &w->total, &e))
        memset(&w->total, 0, sizeof(w->total));
    json_t *b = json_object_get(o, "billing");
    copy(w->email, sizeof(w->email), json_string_value(json_object_get(b, "email")));
    copy(w->phone, sizeof(w->phone), json_string_value(json_object_get(b, "phone")));
    copy(w->first_name, sizeof(w->first_name), json_string_value(json_object_get(b, "first_name")));
    copy(w->last_name, sizeof(w->last_name), json_string_value(json_object_get(b, "last_name")));
    copy(w->payment_url, sizeof(w->payment_url),
         json_string_value(json_object_get(o, "payment_url")));
    size_t i;
    json_t *li;
    json_array_foreach(json_object_get(o, "line_items"), i, li)
    {
        if (w->n_lines == WOO_LINES_MAX)
            break;
        struct woo_line *l = &w->lines[w->n_lines++];
        copy(l->name, sizeof(l->name), json_string_value(json_object_get(li, "name")));
        copy(l->sku, sizeof(l->sku), json_string_value(json_object_get(li, "sku")));
        l->quantity = json_integer_value(json_object_get(li, "quantity"));
        json_t *p = json_object_get(li, "price");
        char text[32];
        if (json_is_number(p))
            snprintf(text, sizeof(text), "%.2f", json_number_value(p));
        else
            copy(text, sizeof(text), json_string_value(p));
        err_init(&e);
        if (!cur || money_parse(text, cur, 0, &l->price, &e))
            memset(&l->price, 0, sizeof(l->price));
    }
}

static int orders_page(const struct woo_config *c, const char *statuses, int64_t modified_after_ms,
                       int page, int per_page, struct woo_page *out, struct woo_failure *f,
                       struct err *e)
{
    memset(out, 0, sizeof(*out));
    memset(f, 0, sizeof(*f));
    if (!c->site_url || (strncmp(c->site_url, "https://", 8) != 0 && !loopback(c->site_url)) ||
        strpbrk(c->site_url, "?# "))
        return err_set_field(e, ERR_INVALID, "site_url",
                             "site_url must be the shop's https:// address");
    if (!c->consumer_key || !*c->consumer_key || !c->consumer_secret || !*c->consumer_secret)
        return err_set_field(e, ERR_INVALID, "consumer_key",
                             "consumer key and secret are required");
    if (page < 1)
        page = 1;
    if (per_page < 1 || per_page > WOO_PAGE_MAX)
        per_page = WOO_PAGE_MAX;
    char after[64] = "";
    if (modified_after_ms > 0) {
        char iso[CLOCK_ISO_LEN];
        clock_format_iso(modified_after_ms, iso);
        snprintf(after, sizeof(after), "&modified_after=%.19s&dates_are_gmt=true", iso);
    }
    size_t ul = strlen(c->site_url);
    while (ul && c->site_url[ul - 1] == '/')
        ul--;
    char url[1024];
    snprintf(url, sizeof(url),
             "%.*s/wp-json/wc/v3/orders?status=%s&orderby=modified&order=asc"
             "&per_page=%d&page=%d%s",
             (int)ul, c->site_url, statuses, per_page, page, after);
    char pair[512], b64[SEC_B64_SIZE(512)], auth[sizeof(b64) + 8];
    snprintf(pair, sizeof(pair), "%s:%s", c->consumer_key, c->consumer_secret);
    struct err be;
    err_init(&be);
    if (sec_b64_encode(b64, sizeof(b64), SEC_B64_STD, pair, strlen(pair), &be))
        return err_set_field(e, ERR_INVALID, "consumer_key", "consumer key or secret too long");
    sec_wipe(pair, sizeof(pair));
    snprintf(auth, sizeof(auth), "Basic %s", b64);
    struct httpc_header h[] = {{"Authorization", auth}, {"Accept", "application/json"}};
    struct httpc_request r = {.url = url,
                              .headers = h,
                              .nheaders = 2,
                              .timeout_ms = c->timeout_ms ? c->timeout_ms : 15000};
    struct httpc_response resp;
    httpc_response_init(&resp);
    struct err he;
    err_init(&he);
    int rc = httpc_do(&r, &resp, &he);
    sec_wipe(auth, sizeof(auth));
    f->status = resp.status;
    if (rc) {
        f->retryable = true;
        rc = err_set(e, ERR_UPSTREAM, "WooCommerce unreachable: %s", he.msg);
        httpc_response_release(&resp);
        return rc;
    }
    json_t *root = json_loadb(buf_str(&resp.body), resp.body.len, 0, NULL);
    if (resp.status != 200) {
        copy(f->code, sizeof(f->code), json_string_value(json_object_get(root, "code")));
        f->retryable = resp.status == 429 || resp.status >= 500;
        rc = err_set(e, ERR_UPSTREAM, "WooCommerce answered %ld (%s)", resp.status,
                     f->code[0] ? f->code : "no code");
    } else if (!json_is_array(root)) {
        copy(f->code, sizeof(f->code), "shape");
        rc = err_set(e, ERR_UPSTREAM, "WooCommerce's answer is not a list of orders");
    } else {
        size_t i;
        json_t *o;
        json_array_foreach(root, i, o)
        {
            if (out->n == WOO_PAGE_MAX)
                break;
            read_order(o, &out->items[out->n++]);
        }
        const char *tp = httpc_response_header(&resp, "X-WP-TotalPages");
        int64_t pages = 0;
        out->total_pages = tp && !str_to_i64(tp, &pages) && pages >= 0 ? (int)pages : 1;
    }
    json_decref(root);
    httpc_response_release(&resp);
    return rc;
}

int woo_unfinished_page(const struct woo_config *c, int64_t modified_after_ms, int page,
                        int per_page, struct woo_page *out, struct woo_failure *f, struct err *e)
{
    return orders_page(c, "checkout-draft,pending", modified_after_ms, page, per_page, out, f, e);
}

int woo_paid_page(const struct woo_config *c, int64_t modified_after_ms, int page, int per_page,
                  struct woo_page *out, struct woo_failure *f, struct err *e)
{
    return orders_page(c, "processing,completed", modified_after_ms, page, per_page, out, f, e);
}
