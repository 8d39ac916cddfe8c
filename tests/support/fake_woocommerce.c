/* SPDX-License-Identifier: MIT */
/*
 * The fake WooCommerce orders endpoint (see fake_woocommerce.h).
 */
#include "fake_woocommerce.h"
#include "core/crypto.h"
#include "fake_http.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ORDERS 256

struct order {
    int id;
    char status[24], modified[24], email[96], total[24];
};

struct fake_woo {
    struct fake_http *http;
    char auth[400];
    pthread_mutex_t mu;
    struct order o[MAX_ORDERS];
    size_t n;
    char last_query[512];
};

static int atoi_safe(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return *end || v < 0 || v > 100000 ? -1 : (int)v;
}

static const char *arg(const struct fake_http_request *q, const char *name)
{
    return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* Whether `status` is one of the comma-separated `list`. */
static bool listed(const char *list, const char *status)
{
    size_t n = strlen(status);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, status, n) == 0)
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

static void handle(void *cls, const struct fake_http_request *q, struct fake_http_answer *a)
{
    struct fake_woo *f = cls;
    const char *auth = fake_http_header(q, "Authorization");
    const char *status = arg(q, "status");
    const char *after = arg(q, "modified_after");
    const char *pp = arg(q, "per_page"), *pg = arg(q, "page");
    int per_page = pp ? atoi_safe(pp) : 10, page = pg ? atoi_safe(pg) : 1;
    (void)per_page;
    pthread_mutex_lock(&f->mu);
    snprintf(f->last_query, sizeof(f->last_query),
             "status=%s&modified_after=%s&per_page=%s&page=%s", status ? status : "",
             after ? after : "", pp ? pp : "", pg ? pg : "");
    json_t *ans;
    if (strcmp(q->url, "/wp-json/wc/v3/orders") != 0) {
        a->status = 404;
        ans = json_pack("{s:s, s:s}", "code", "rest_no_route", "message", "No route");
    } else if (!auth || strcmp(auth, f->auth) != 0) {
        a->status = 401;
        ans = json_pack("{s:s, s:s, s:{s:i}}", "code", "woocommerce_rest_cannot_view", "message",
                        "Sorry, you cannot list resources.", "data", "status", 401);
    } else {
        size_t match[MAX_ORDERS], nm = 0;
        for (size_t i = 0; i < f->n; i++) {
            if (!status || !listed(status, f->o[i].status))
                continue;
            if (after && strcmp(f->o[i].modified, after) <= 0)
                continue;
            match[nm++] = i;
        }
        if (per_page < 1)
            per_page = 10;
        int pages = (int)((nm + (size_t)per_page - 1) / (size_t)per_page);
        ans = json_array();
        for (size_t k = (size_t)(page - 1) * (size_t)per_page;
             k < nm && k < (size_t)page * (size_t)per_page; k++) {
            const struct order *o = &f->o[match[k]];
            char pay[128];
            snprintf(pay, sizeof(pay), "https://shop.example/checkout/order-pay/%d/", o->id);
            json_array_append_new(
                ans, json_pack("{s:i, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:s, "
                               "s:[{s:s, s:s, s:i, s:f}]}",
                               "id", o->id, "status", o->status, "date_modified_gmt", o->modified,
                               "currency", "TRY", "total", o->total, "billing", "first_name",
                               "Elif", "last_name", "Şahin", "email", o->email, "phone",
                               "+905330000002", "payment_url", pay, "line_items", "name", "Baklava",
                               "sku", "BK-1", "quantity", 1, "price", 42.5));
        }
        snprintf(a->header, sizeof(a->header), "X-WP-TotalPages");
        snprintf(a->header_value, sizeof(a->header_value), "%d", pages);
    }
    pthread_mutex_unlock(&f->mu);
    a->body = json_dumps(ans, JSON_COMPACT);
    json_decref(ans);
}

struct fake_woo *fake_woo_start(const char *key, const char *secret)
{
    struct fake_woo *f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    pthread_mutex_init(&f->mu, NULL);
    char pair[256], b64[SEC_B64_SIZE(256)];
    snprintf(pair, sizeof(pair), "%s:%s", key, secret);
    struct err e;
    err_init(&e);
    if (sec_b64_encode(b64, sizeof(b64), SEC_B64_STD, pair, strlen(pair), &e))
        abort();
    snprintf(f->auth, sizeof(f->auth), "Basic %s", b64);
    f->http = fake_http_start(handle, f);
    if (!f->http) {
        fake_woo_stop(f);
        return NULL;
    }
    return f;
}

void fake_woo_stop(struct fake_woo *f)
{
    if (!f)
        return;
    fake_http_stop(f->http);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

const char *fake_woo_url(const struct fake_woo *f)
{
    return fake_http_url(f->http);
}

void fake_woo_add(struct fake_woo *f, int id, const char *status, const char *modified_gmt,
                  const char *email, const char *total)
{
    pthread_mutex_lock(&f->mu);
    if (f->n < MAX_ORDERS) {
        struct order *o = &f->o[f->n++];
        o->id = id;
        snprintf(o->status, sizeof(o->status), "%s", status);
        snprintf(o->modified, sizeof(o->modified), "%s", modified_gmt);
        snprintf(o->email, sizeof(o->email), "%s", email);
        snprintf(o->total, sizeof(o->total), "%s", total);
    }
    pthread_mutex_unlock(&f->mu);
}

bool fake_woo_set_status(struct fake_woo *f, int id, const char *status, const char *modified_gmt)
{
    bool found = false;
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->n; i++) {
        if (f->o[i].id == id) {
            snprintf(f->o[i].status, sizeof(f->o[i].status), "%s", status);
            snprintf(f->o[i].modified, sizeof(f->o[i].modified), "%s", modified_gmt);
            found = true;
        }
    }
    pthread_mutex_unlock(&f->mu);
    return found;
}

void fake_woo_last_query(struct fake_woo *f, char *out, size_t n)
{
    pthread_mutex_lock(&f->mu);
    snprintf(out, n, "%s", f->last_query);
    pthread_mutex_unlock(&f->mu);
}
