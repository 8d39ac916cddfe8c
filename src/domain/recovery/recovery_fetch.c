/* SPDX-License-Identifier: MIT */
/*
 * Carts from the platforms, normalised to struct recovery_fetched: Shopify's abandonedCheckouts
 * (net/shopify.c: watermark as its search, cursor pages, throttling waits), WooCommerce's
 * checkout-draft and pending orders and the ones paid since (net/woocommerce.c: modified_after,
 * page count), and the
 * custom feed (GET <feed_url>?updated_after=<ISO> answering {"carts": [...]}, the shape in
 * docs/ARCHITECTURE.md). Credentials are sealed JSON, opened only here. No transaction is open
 * while this runs. Tests: tests/integration/0025-recovery.c.
 */
#include "domain/recovery/recovery_fetch.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/money.h"
#include "json/json.h"
#include "net/httpc.h"
#include "net/shopify.h"
#include "net/woocommerce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CREDENTIALS_MAX 1024

int recovery_credentials_seal(const unsigned char *key, const struct recovery_integration_in *in,
                              struct arena *a, const char **sealed, struct err *e)
{
    *sealed = NULL;
    if (!in->access_token && !in->consumer_key && !in->consumer_secret)
        return 0;
    json_t *o = json_object();
    if (in->access_token)
        json_object_set_new(o, "access_token", json_string(in->access_token));
    if (in->consumer_key)
        json_object_set_new(o, "consumer_key", json_string(in->consumer_key));
    if (in->consumer_secret)
        json_object_set_new(o, "consumer_secret", json_string(in->consumer_secret));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        return err_set(e, ERR_NOMEM, "cannot encode credentials");
    size_t len = strlen(text);
    size_t size = SEC_BOX_SEALED_SIZE(len);
    char *out = arena_alloc(a, size);
    int rc = len > CREDENTIALS_MAX
                 ? err_set_field(e, ERR_INVALID, "access_token", "credentials are too long")
                 : sec_box_seal(out, size, key, text, len, e);
    explicit_bzero(text, len);
    free(text);
    if (!rc)
        *sealed = out;
    return rc;
}

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

int recovery_credentials_open(const unsigned char *key, const char *sealed,
                              struct recovery_credentials *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (!sealed)
        return 0;
    char text[CREDENTIALS_MAX + 1];
    size_t len = 0;
    int rc = sec_box_open(text, sizeof(text), &len, key, sealed, e);
    if (rc) {
        if (rc == ERR_FORBIDDEN)
            return err_replace(e, ERR_CONFLICT, "credentials",
                               "the credentials were sealed under another key: set them again");
        return rc;
    }
    text[len < sizeof(text) ? len : sizeof(text) - 1] = '\0';
    json_t *o = json_loads(text, 0, NULL);
    explicit_bzero(text, sizeof(text));
    copy(out->access_token, sizeof(out->access_token),
         json_string_value(json_object_get(o, "access_token")));
    copy(out->consumer_key, sizeof(out->consumer_key),
         json_string_value(json_object_get(o, "consumer_key")));
    copy(out->consumer_secret, sizeof(out->consumer_secret),
         json_string_value(json_object_get(o, "consumer_secret")));
    json_decref(o);
    return 0;
}

static const char *nonempty(struct arena *a, const char *s)
{
    return s && s[0] ? arena_strdup(a, s) : NULL;
}

static void push(struct arena *a, struct recovery_fetched **carts, size_t *n, size_t *cap,
                 const struct recovery_fetched *c)
{
    *carts = arena_grow(a, *carts, *n, cap, sizeof(**carts));
    (*carts)[(*n)++] = *c;
}

/* ---- Shopify ---- */

static int fetch_shopify(const struct recovery_integration *in,
                         const struct recovery_credentials *cr, int64_t since_ms, int max_pages,
                         struct arena *a, struct recovery_fetched **carts, size_t *n, size_t *cap,
                         struct recovery_failure *f, struct err *e)
{
    struct shopify_config cfg = {
        .shop_domain = in->shop_domain, .access_token = cr->access_token, .base_url = in->base_url};
    struct shopify_page *page = malloc(sizeof(*page));
    if (!page)
        return err_set(e, ERR_NOMEM, "shopify page");
    char cursor[256] = "";
    int rc = 0;
    for (int p = 0; !rc && p < max_pages; p++) {
        struct shopify_failure sf;
        memset(&sf, 0, sizeof(sf));
        rc = shopify_abandoned_page(&cfg, since_ms, cursor[0] ? cursor : NULL, SHOPIFY_PAGE_MAX,
                                    page, &sf, e);
        if (rc && sf.retryable && strcmp(sf.code, "THROTTLED") == 0 && sf.retry_after_ms < 10000) {
            /* the cost bucket refills: wait what Shopify says, once */
            struct timespec ts = {(time_t)(sf.retry_after_ms / 1000),
                                  (long)(sf.retry_after_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            err_init(e);
            rc = shopify_abandoned_page(&cfg, since_ms, cursor[0] ? cursor : NULL, SHOPIFY_PAGE_MAX,
                                        page, &sf, e);
        }
        if (rc) {
            f->status = sf.status;
            copy(f->code, sizeof(f->code), sf.code);
            break;
        }
        for (size_t i = 0; i < page->n; i++) {
            const struct shopify_checkout *k = &page->items[i];
            struct recovery_fetched c = {
                .platform_id = arena_strdup(a, k->id),
                .updated_ms = k->updated_ms,
                .completed_ms = k->completed_ms,
                .checkout_url = nonempty(a, k->recovery_url),
                .currency = k->total.currency ? k->total.currency->code : NULL,
                .total = k->total.minor,
                .email = nonempty(a, k->email),
                .phone = nonempty(a, k->phone),
                .first_name = nonempty(a, k->first_name),
                .last_name = nonempty(a, k->last_name),
            };
            c.lines = arena_alloc(a, (k->n_lines ? k->n_lines : 1) * sizeof(*c.lines));
            for (size_t l = 0; l < k->n_lines; l++) {
                c.lines[c.n_lines++] = (struct recovery_line){
                    nonempty(a, k->lines[l].title), nonempty(a, k->lines[l].sku),
                    k->lines[l].quantity, k->lines[l].unit_price.minor};
            }
            push(a, carts, n, cap, &c);
        }
        if (!page->has_next || !page->next_cursor[0])
            break;
        copy(cursor, sizeof(cursor), page->next_cursor);
    }
    free(page);
    return rc;
}

/* ---- WooCommerce ---- */

typedef int woo_page_fn(const struct woo_config *c, int64_t modified_after_ms, int page,
                        int per_page, struct woo_page *out, struct woo_failure *f, struct err *e);

/* Pages of one WooCommerce listing; *more is true when max_pages stopped it before its end. */
static int woo_list(woo_page_fn *fn, bool paid, const struct woo_config *cfg, int64_t since_ms,
                    int max_pages, struct woo_page *page, struct arena *a,
                    struct recovery_fetched **carts, size_t *n, size_t *cap, bool *more,
                    struct recovery_failure *f, struct err *e)
{
    *more = false;
    int rc = 0;
    for (int p = 1; !rc && p <= max_pages; p++) {
        struct woo_failure wf;
        memset(&wf, 0, sizeof(wf));
        rc = fn(cfg, since_ms, p, WOO_PAGE_MAX, page, &wf, e);
        if (rc) {
            f->status = wf.status;
            copy(f->code, sizeof(f->code), wf.code);
            break;
        }
        for (size_t i = 0; i < page->n; i++) {
            const struct woo_order *o = &page->items[i];
            char id[32];
            snprintf(id, sizeof(id), "%lld", (long long)o->id);
            struct recovery_fetched c = {
                .platform_id = arena_strdup(a, id),
                .updated_ms = o->modified_ms,
                .completed_ms = paid ? (o->modified_ms ? o->modified_ms : 1) : 0,
                .checkout_url = nonempty(a, o->payment_url),
                .currency = o->total.currency ? o->total.currency->code : NULL,
                .total = o->total.minor,
                .email = nonempty(a, o->email),
                .phone = nonempty(a, o->phone),
                .first_name = nonempty(a, o->first_name),
                .last_name = nonempty(a, o->last_name),
                .paid_only = paid,
            };
            c.lines = arena_alloc(a, (o->n_lines ? o->n_lines : 1) * sizeof(*c.lines));
            for (size_t l = 0; !paid && l < o->n_lines; l++) {
                c.lines[c.n_lines++] = (struct recovery_line){
                    nonempty(a, o->lines[l].name), nonempty(a, o->lines[l].sku),
                    o->lines[l].quantity, o->lines[l].price.minor};
            }
            push(a, carts, n, cap, &c);
        }
        if (p >= page->total_pages)
            break;
        if (p == max_pages)
            *more = true;
    }
    return rc;
}

/*
 * The unfinished orders (checkout-draft, pending), then the paid ones (processing, completed)
 * modified since the same watermark: an order paid after it was fetched is no longer
 * unfinished, so only the second listing tells that its cart completed. The watermark is the
 * newest change seen, so it may not pass what a listing cut by max_pages has not read: when the
 * first is cut the second waits for a later poll; when the second is cut, what changed after
 * its last order waits. The first poll (no watermark) asks only for unfinished orders.
 */
static int fetch_woo(const struct recovery_integration *in, const struct recovery_credentials *cr,
                     int64_t since_ms, int max_pages, struct arena *a,
                     struct recovery_fetched **carts, size_t *n, size_t *cap,
                     struct recovery_failure *f, struct err *e)
{
    struct woo_config cfg = {.site_url = in->base_url ? in->base_url : in->site_url,
                             .consumer_key = cr->consumer_key,
                             .consumer_secret = cr->consumer_secret};
    struct woo_page *page = malloc(sizeof(*page));
    if (!page)
        return err_set(e, ERR_NOMEM, "woocommerce page");
    bool more = false;
    int rc = woo_list(woo_unfinished_page, false, &cfg, since_ms, max_pages, page, a, carts, n, cap,
                      &more, f, e);
    /* the first poll (no watermark) holds no carts a paid order could complete */
    if (!rc && !more && since_ms > 0) {
        size_t unfinished = *n;
        rc = woo_list(woo_paid_page, true, &cfg, since_ms, max_pages, page, a, carts, n, cap, &more,
                      f, e);
        if (!rc && more) {
            /* the paid listing stopped at `newest`: keep the watermark there by leaving what
             * changed after it to a later poll (unfinished orders are landed idempotently) */
            int64_t newest = 0;
            for (size_t i = unfinished; i < *n; i++) {
                if ((*carts)[i].updated_ms > newest)
                    newest = (*carts)[i].updated_ms;
            }
            size_t k = 0;
            for (size_t i = 0; i < *n; i++) {
                if ((*carts)[i].updated_ms <= newest)
                    (*carts)[k++] = (*carts)[i];
            }
            *n = k;
        }
    }
    free(page);
    return rc;
}

/* ---- custom feed ---- */

static int64_t amount_of(json_t *v, const char *currency)
{
    struct money m;
    struct err e;
    err_init(&e);
    const char *text = json_string_value(v);
    return text && currency && !money_parse(text, currency, 0, &m, &e) ? m.minor : -1;
}

static int feed_cart(json_t *o, struct arena *a, struct recovery_fetched *c, struct err *e)
{
    memset(c, 0, sizeof(*c));
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *updated = json_string_value(json_object_get(o, "updated_at"));
    const char *completed = json_string_value(json_object_get(o, "completed_at"));
    const char *currency = json_string_value(json_object_get(o, "currency"));
    if (!id || !id[0] || !updated || clock_parse_iso(updated, &c->updated_ms) ||
        (completed && clock_parse_iso(completed, &c->completed_ms)) || !currency)
        return err_set(e, ERR_UPSTREAM, "feed cart without id, updated_at or currency");
    c->platform_id = arena_strdup(a, id);
    c->currency = arena_strdup(a, currency);
    c->total = amount_of(json_object_get(o, "total"), currency);
    c->checkout_url = nonempty(a, json_string_value(json_object_get(o, "checkout_url")));
    json_t *cu = json_object_get(o, "customer");
    c->email = nonempty(a, json_string_value(json_object_get(cu, "email")));
    c->phone = nonempty(a, json_string_value(json_object_get(cu, "phone")));
    c->first_name = nonempty(a, json_string_value(json_object_get(cu, "first_name")));
    c->last_name = nonempty(a, json_string_value(json_object_get(cu, "last_name")));
    json_t *items = json_object_get(o, "items");
    size_t ni = json_array_size(items);
    c->lines = arena_alloc(a, (ni ? ni : 1) * sizeof(*c->lines));
    for (size_t i = 0; i < ni && i < 100; i++) {
        json_t *it = json_array_get(items, i);
        struct recovery_line *l = &c->lines[c->n_lines++];
        l->title = nonempty(a, json_string_value(json_object_get(it, "title")));
        l->sku = nonempty(a, json_string_value(json_object_get(it, "sku")));
        l->quantity = json_integer_value(json_object_get(it, "quantity"));
        l->unit_price = amount_of(json_object_get(it, "unit_price"), currency);
        if (l->quantity < 1 || l->unit_price < 0)
            return err_set(e, ERR_UPSTREAM, "feed cart %s has a bad item", id);
    }
    if (c->total < 0)
        return err_set(e, ERR_UPSTREAM, "feed cart %s has no total", id);
    return 0;
}

static int fetch_custom(const struct recovery_integration *in,
                        const struct recovery_credentials *cr, int64_t since_ms, struct arena *a,
                        struct recovery_fetched **carts, size_t *n, size_t *cap,
                        struct recovery_failure *f, struct err *e)
{
    char url[RECOVERY_URL_MAX + 64];
    char iso[CLOCK_ISO_LEN] = "";
    if (since_ms)
        clock_format_iso(since_ms, iso);
    snprintf(url, sizeof(url), "%s%supdated_after=%s", in->feed_url,
             strchr(in->feed_url, '?') ? "&" : "?", iso);
    char auth[300];
    struct httpc_header h[2] = {{"Accept", "application/json"}, {"Authorization", auth}};
    snprintf(auth, sizeof(auth), "Bearer %s", cr->access_token);
    struct httpc_request r = {.method = "GET",
                              .url = url,
                              .headers = h,
                              .nheaders = cr->access_token[0] ? 2 : 1,
                              .timeout_ms = 15000};
    struct httpc_response resp;
    httpc_response_init(&resp);
    struct err he;
    err_init(&he);
    int rc = httpc_do(&r, &resp, &he);
    explicit_bzero(auth, sizeof(auth));
    f->status = resp.status;
    if (rc) {
        rc = err_set(e, ERR_UPSTREAM, "feed unreachable: %s", he.msg);
    } else if (resp.status != 200) {
        rc = err_set(e, ERR_UPSTREAM, "feed answered %ld", resp.status);
    } else {
        json_t *root = json_loadb(buf_str(&resp.body), resp.body.len, 0, NULL);
        json_t *list = json_object_get(root, "carts");
        if (!json_is_array(list)) {
            copy(f->code, sizeof(f->code), "SHAPE");
            rc = err_set(e, ERR_UPSTREAM, "the feed's answer has no carts array");
        }
        for (size_t i = 0; !rc && i < json_array_size(list); i++) {
            struct recovery_fetched c;
            rc = feed_cart(json_array_get(list, i), a, &c, e);
            if (rc)
                copy(f->code, sizeof(f->code), "SHAPE");
            else
                push(a, carts, n, cap, &c);
        }
        json_decref(root);
    }
    httpc_response_release(&resp);
    return rc;
}

int recovery_fetch(const struct recovery_integration *in, const struct recovery_credentials *cr,
                   int64_t since_ms, int max_pages, struct arena *a,
                   struct recovery_fetched **carts, size_t *n, int64_t *newest_ms,
                   struct recovery_failure *f, struct err *e)
{
    memset(f, 0, sizeof(*f));
    *carts = NULL;
    *n = 0;
    size_t cap = 0;
    int rc;
    switch (in->platform) {
    case RECOVERY_SHOPIFY:
        rc = fetch_shopify(in, cr, since_ms, max_pages, a, carts, n, &cap, f, e);
        break;
    case RECOVERY_WOOCOMMERCE:
        rc = fetch_woo(in, cr, since_ms, max_pages, a, carts, n, &cap, f, e);
        break;
    default:
        rc = fetch_custom(in, cr, since_ms, a, carts, n, &cap, f, e);
        break;
    }
    if (rc)
        copy(f->error, sizeof(f->error), e->msg);
    *newest_ms = since_ms;
    for (size_t i = 0; i < *n; i++) {
        if ((*carts)[i].updated_ms > *newest_ms)
            *newest_ms = (*carts)[i].updated_ms;
    }
    return rc;
}
