/* SPDX-License-Identifier: MIT */
/*
 * The fake Shopify Admin GraphQL endpoint (see fake_shopify.h).
 */
#include "fake_shopify.h"
#include "core/clock.h"
#include "fake_http.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHECKOUTS 256

struct checkout {
    int n;
    char updated[32], completed[32], email[96], phone[32], total[24], currency[8];
};

struct fake_shopify {
    struct fake_http *http;
    char token[128];
    pthread_mutex_t mu;
    struct checkout co[MAX_CHECKOUTS];
    size_t n_co, requests;
    bool throttle;
    double throttle_available;
    char last_filter[128];
};

/* Whether ISO time `t` is after `since` (compared as instants, as Shopify's search does). */
static bool after_since(const char *t, const char *since)
{
    int64_t a = 0, b = 0;
    if (!since[0])
        return true;
    if (clock_parse_iso(t, &a) || clock_parse_iso(since, &b))
        return false;
    return a > b;
}

static int by_updated(const void *a, const void *b)
{
    const struct checkout *x = a, *y = b;
    int c = strcmp(x->updated, y->updated);
    return c ? c : x->n - y->n;
}

static json_t *cost(double requested, double available)
{
    return json_pack("{s:{s:f, s:n, s:{s:f, s:f, s:f}}}", "cost", "requestedQueryCost", requested,
                     "actualQueryCost", "throttleStatus", "maximumAvailable", 1000.0,
                     "currentlyAvailable", available, "restoreRate", 50.0);
}

static void handle(void *cls, const struct fake_http_request *q, struct fake_http_answer *a)
{
    struct fake_shopify *f = cls;
    const char *token = fake_http_header(q, "X-Shopify-Access-Token");
    json_t *req = json_loadb(q->body, q->len, 0, NULL);
    json_t *vars = json_object_get(req, "variables");
    const char *query = json_string_value(json_object_get(req, "query"));
    pthread_mutex_lock(&f->mu);
    f->requests++;
    const char *filter = json_string_value(json_object_get(vars, "query"));
    snprintf(f->last_filter, sizeof(f->last_filter), "%s", filter ? filter : "");
    json_t *ans = NULL;
    if (strcmp(q->method, "POST") != 0 || strncmp(q->url, "/admin/api/", 11) != 0 ||
        !strstr(q->url, "/graphql.json")) {
        a->status = 404;
    } else if (!token || strcmp(token, f->token) != 0) {
        a->status = 401;
        ans = json_pack("{s:s}", "errors", "[API] Invalid API key or access token");
    } else if (!query || !strstr(query, "abandonedCheckouts")) {
        ans = json_pack("{s:[{s:s}]}", "errors", "message", "unknown query");
    } else if (f->throttle) {
        f->throttle = false;
        ans = json_pack("{s:[{s:s, s:{s:s}}], s:o}", "errors", "message", "Throttled", "extensions",
                        "code", "THROTTLED", "extensions", cost(52, f->throttle_available));
    } else {
        int first = (int)json_integer_value(json_object_get(vars, "first"));
        const char *after = json_string_value(json_object_get(vars, "after"));
        char since[40] = "";
        if (filter)
            sscanf(filter, "updated_at:>'%39[^']'", since);
        qsort(f->co, f->n_co, sizeof(f->co[0]), by_updated);
        size_t start = 0;
        if (after) {
            int idx = -1;
            if (sscanf(after, "cursor-%d", &idx) == 1)
                start = (size_t)idx + 1;
        }
        json_t *nodes = json_array();
        size_t i = start, taken = 0, last = start;
        for (; i < f->n_co && taken < (size_t)(first > 0 ? first : 50); i++) {
            const struct checkout *c = &f->co[i];
            if (!after_since(c->updated, since))
                continue;
            char id[64], url[128];
            snprintf(id, sizeof(id), "gid://shopify/AbandonedCheckout/%d", c->n);
            snprintf(url, sizeof(url), "https://shop.example/checkouts/recover/%d", c->n);
            json_array_append_new(
                nodes,
                json_pack("{s:s, s:s, s:s, s:s?, s:s, s:{s:{s:s, s:s}}, s:{s:s, s:s?, s:s, s:s}, "
                          "s:{s:[{s:s, s:i, s:s, s:{s:{s:s, s:s}}}]}}",
                          "id", id, "createdAt", c->updated, "updatedAt", c->updated, "completedAt",
                          c->completed[0] ? c->completed : NULL, "abandonedCheckoutUrl", url,
                          "totalPriceSet", "shopMoney", "amount", c->total, "currencyCode",
                          c->currency, "customer", "email", c->email, "phone",
                          c->phone[0] ? c->phone : NULL, "firstName", "Ayşe", "lastName", "Yılmaz",
                          "lineItems", "nodes", "title", "Latte", "quantity", 2, "sku", "LT-1",
                          "originalUnitPriceSet", "shopMoney", "amount", c->total, "currencyCode",
                          c->currency));
            taken++;
            last = i;
        }
        bool more = false;
        for (size_t k = last + 1; taken && k < f->n_co; k++)
            more = more || after_since(f->co[k].updated, since);
        char cursor[32];
        snprintf(cursor, sizeof(cursor), "cursor-%zu", last);
        ans = json_pack("{s:{s:{s:{s:b, s:s?}, s:o}}, s:o}", "data", "abandonedCheckouts",
                        "pageInfo", "hasNextPage", more, "endCursor", taken ? cursor : NULL,
                        "nodes", nodes, "extensions", cost(first + 2.0, 1000 - first - 2.0));
    }
    pthread_mutex_unlock(&f->mu);
    json_decref(req);
    if (ans) {
        a->body = json_dumps(ans, JSON_COMPACT);
        json_decref(ans);
    }
}

struct fake_shopify *fake_shopify_start(const char *token)
{
    struct fake_shopify *f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    pthread_mutex_init(&f->mu, NULL);
    snprintf(f->token, sizeof(f->token), "%s", token);
    f->http = fake_http_start(handle, f);
    if (!f->http) {
        fake_shopify_stop(f);
        return NULL;
    }
    return f;
}

void fake_shopify_stop(struct fake_shopify *f)
{
    if (!f)
        return;
    fake_http_stop(f->http);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

const char *fake_shopify_url(const struct fake_shopify *f)
{
    return fake_http_url(f->http);
}

void fake_shopify_add(struct fake_shopify *f, int n, const char *updated_iso,
                      const char *completed_iso, const char *email, const char *phone,
                      const char *total, const char *currency)
{
    pthread_mutex_lock(&f->mu);
    if (f->n_co < MAX_CHECKOUTS) {
        struct checkout *c = &f->co[f->n_co++];
        memset(c, 0, sizeof(*c));
        c->n = n;
        snprintf(c->updated, sizeof(c->updated), "%s", updated_iso);
        snprintf(c->completed, sizeof(c->completed), "%s", completed_iso ? completed_iso : "");
        snprintf(c->email, sizeof(c->email), "%s", email ? email : "");
        snprintf(c->phone, sizeof(c->phone), "%s", phone ? phone : "");
        snprintf(c->total, sizeof(c->total), "%s", total);
        snprintf(c->currency, sizeof(c->currency), "%s", currency);
    }
    pthread_mutex_unlock(&f->mu);
}

void fake_shopify_throttle_next(struct fake_shopify *f, double available)
{
    pthread_mutex_lock(&f->mu);
    f->throttle = true;
    f->throttle_available = available;
    pthread_mutex_unlock(&f->mu);
}

size_t fake_shopify_requests(struct fake_shopify *f)
{
    pthread_mutex_lock(&f->mu);
    size_t n = f->requests;
    pthread_mutex_unlock(&f->mu);
    return n;
}

void fake_shopify_last_filter(struct fake_shopify *f, char *out, size_t n)
{
    pthread_mutex_lock(&f->mu);
    snprintf(out, n, "%s", f->last_filter);
    pthread_mutex_unlock(&f->mu);
}
