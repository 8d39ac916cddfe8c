/* SPDX-License-Identifier: MIT */
/*
 * Shopify's abandonedCheckouts over the Admin GraphQL API (see shopify.h): the query with its
 * variables, the answer's nodes read into shopify_checkout, and the cost extension read for
 * throttling. Tests: tests/unit/net/test_shopify.c.
 */
#include "net/shopify.h"
#include "core/clock.h"
#include "core/str.h"
#include "net/httpc.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char query[] =
    "query Abandoned($first: Int!, $after: String, $query: String) {"
    " abandonedCheckouts(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {"
    " pageInfo { hasNextPage endCursor }"
    " nodes { id createdAt updatedAt completedAt abandonedCheckoutUrl"
    " totalPriceSet { shopMoney { amount currencyCode } }"
    " customer { email phone firstName lastName }"
    " lineItems(first: 20) { nodes { title quantity sku"
    " originalUnitPriceSet { shopMoney { amount currencyCode } } } } } } }";

static void copy(char *dst, size_t n, const char *src)
{
    str_copy(dst, n, src ? src : "");
}

static int64_t iso_ms(const char *s)
{
    int64_t ms = 0;
    if (!s || clock_parse_iso(s, &ms))
        return 0;
    return ms;
}

static void read_money(json_t *set, struct money *out)
{
    json_t *shop = json_object_get(set, "shopMoney");
    struct err e;
    err_init(&e);
    const char *amount = json_string_value(json_object_get(shop, "amount"));
    const char *cur = json_string_value(json_object_get(shop, "currencyCode"));
    if (!amount || !cur || money_parse(amount, cur, 0, out, &e))
        memset(out, 0, sizeof(*out));
}

static void read_checkout(json_t *n, struct shopify_checkout *c)
{
    memset(c, 0, sizeof(*c));
    copy(c->id, sizeof(c->id), json_string_value(json_object_get(n, "id")));
    c->created_ms = iso_ms(json_string_value(json_object_get(n, "createdAt")));
    c->updated_ms = iso_ms(json_string_value(json_object_get(n, "updatedAt")));
    c->completed_ms = iso_ms(json_string_value(json_object_get(n, "completedAt")));
    copy(c->recovery_url, sizeof(c->recovery_url),
         json_string_value(json_object_get(n, "abandonedCheckoutUrl")));
    read_money(json_object_get(n, "totalPriceSet"), &c->total);
    json_t *cu = json_object_get(n, "customer");
    copy(c->email, sizeof(c->email), json_string_value(json_object_get(cu, "email")));
    copy(c->phone, sizeof(c->phone), json_string_value(json_object_get(cu, "phone")));
    copy(c->first_name, sizeof(c->first_name), json_string_value(json_object_get(cu, "firstName")));
    copy(c->last_name, sizeof(c->last_name), json_string_value(json_object_get(cu, "lastName")));
    size_t i;
    json_t *li;
    json_array_foreach(json_object_get(json_object_get(n, "lineItems"), "nodes"), i, li)
    {
        if (c->n_lines == SHOPIFY_LINES_MAX)
            break;
        struct shopify_line *l = &c->lines[c->n_lines++];
        copy(l->title, sizeof(l->title), json_string_value(json_object_get(li, "title")));
        copy(l->sku, sizeof(l->sku), json_string_value(json_object_get(li, "sku")));
        l->quantity = json_integer_value(json_object_get(li, "quantity"));
        read_money(json_object_get(li, "originalUnitPriceSet"), &l->unit_price);
    }
}

/* The cost bucket, and how long until it holds what the query asked for. */
static void read_cost(json_t *root, struct shopify_page *page, struct shopify_failure *f)
{
    json_t *cost = json_object_get(json_object_get(root, "extensions"), "cost");
    json_t *ts = json_object_get(cost, "throttleStatus");
    double req = json_number_value(json_object_get(cost, "requestedQueryCost"));
    double avail = json_number_value(json_object_get(ts, "currentlyAvailable"));
    double rate = json_number_value(json_object_get(ts, "restoreRate"));
    if (page) {
        page->available = avail;
        page->restore_rate = rate;
    }
    if (f && rate > 0 && req > avail)
        f->retry_after_ms = (int64_t)ceil((req - avail) / rate * 1000);
}

int shopify_abandoned_page(const struct shopify_config *c, int64_t updated_after_ms,
                           const char *cursor, int first, struct shopify_page *out,
                           struct shopify_failure *f, struct err *e)
{
    memset(out, 0, sizeof(*out));
    memset(f, 0, sizeof(*f));
    if (!c->access_token || !*c->access_token)
        return err_set_field(e, ERR_INVALID, "access_token", "no Shopify access token");
    if (!c->base_url && (!c->shop_domain || !strstr(c->shop_domain, ".myshopify.com") ||
                         strpbrk(c->shop_domain, "/?#@ ")))
        return err_set_field(e, ERR_INVALID, "shop_domain",
                             "shop_domain must be the shop's name.myshopify.com");
    if (first < 1 || first > SHOPIFY_PAGE_MAX)
        first = SHOPIFY_PAGE_MAX;
    char filter[96] = "";
    if (updated_after_ms > 0) {
        char iso[CLOCK_ISO_LEN];
        clock_format_iso(updated_after_ms, iso);
        snprintf(filter, sizeof(filter), "updated_at:>'%s'", iso);
    }
    json_t *body = json_pack("{s:s, s:{s:i, s:s?, s:s?}}", "query", query, "variables", "first",
                             first, "after", cursor, "query", filter[0] ? filter : NULL);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    char url[512];
    snprintf(url, sizeof(url), "%s/admin/api/%s/graphql.json",
             c->base_url ? c->base_url : "https://", SHOPIFY_API_VERSION);
    if (!c->base_url)
        snprintf(url, sizeof(url), "https://%s/admin/api/%s/graphql.json", c->shop_domain,
                 SHOPIFY_API_VERSION);
    struct httpc_header h[] = {{"X-Shopify-Access-Token", c->access_token},
                               {"Content-Type", "application/json"}};
    struct httpc_request r = {.method = "POST",
                              .url = url,
                              .headers = h,
                              .nheaders = 2,
                              .body = text,
                              .body_len = text ? strlen(text) : 0,
                              .timeout_ms = c->timeout_ms ? c->timeout_ms : 15000};
    struct httpc_response resp;
    httpc_response_init(&resp);
    struct err he;
    err_init(&he);
    int rc = text ? httpc_do(&r, &resp, &he) : err_set(&he, ERR_NOMEM, "query");
    free(text);
    f->status = resp.status;
    if (rc) {
        f->retryable = true;
        rc = err_set(e, ERR_UPSTREAM, "Shopify unreachable: %s", he.msg);
        httpc_response_release(&resp);
        return rc;
    }
    json_t *root = json_loadb(buf_str(&resp.body), resp.body.len, 0, NULL);
    const char *ra = httpc_response_header(&resp, "Retry-After");
    if (resp.status == 429 || resp.status >= 500) {
        f->retryable = true;
        copy(f->code, sizeof(f->code), resp.status == 429 ? "THROTTLED" : "SERVER_ERROR");
        double secs = ra ? strtod(ra, NULL) : 0;
        f->retry_after_ms = secs > 0 ? (int64_t)(secs * 1000) : 1000;
        rc = err_set(e, ERR_UPSTREAM, "Shopify answered %ld", resp.status);
    } else if (resp.status != 200) {
        copy(f->code, sizeof(f->code),
             resp.status == 401 || resp.status == 403 ? "ACCESS_DENIED" : "HTTP");
        rc = err_set(e, ERR_UPSTREAM, "Shopify refused the request (%ld)", resp.status);
    } else if (json_array_size(json_object_get(root, "errors")) > 0) {
        json_t *first_err = json_array_get(json_object_get(root, "errors"), 0);
        copy(f->code, sizeof(f->code),
             json_string_value(json_object_get(json_object_get(first_err, "extensions"), "code")));
        f->retryable = strcmp(f->code, "THROTTLED") == 0;
        read_cost(root, NULL, f);
        rc = err_set(e, ERR_UPSTREAM, "Shopify: %s",
                     json_string_value(json_object_get(first_err, "message"))
                         ? json_string_value(json_object_get(first_err, "message"))
                         : "error");
    } else {
        json_t *conn = json_object_get(json_object_get(root, "data"), "abandonedCheckouts");
        json_t *nodes = json_object_get(conn, "nodes");
        if (!json_is_array(nodes)) {
            copy(f->code, sizeof(f->code), "SHAPE");
            rc = err_set(e, ERR_UPSTREAM, "Shopify's answer has no abandonedCheckouts.nodes");
        } else {
            size_t i;
            json_t *n;
            json_array_foreach(nodes, i, n)
            {
                if (out->n == SHOPIFY_PAGE_MAX)
                    break;
                read_checkout(n, &out->items[out->n++]);
            }
            json_t *pi = json_object_get(conn, "pageInfo");
            out->has_next = json_is_true(json_object_get(pi, "hasNextPage"));
            copy(out->next_cursor, sizeof(out->next_cursor),
                 json_string_value(json_object_get(pi, "endCursor")));
            read_cost(root, out, NULL);
        }
    }
    json_decref(root);
    httpc_response_release(&resp);
    return rc;
}
