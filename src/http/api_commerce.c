/* SPDX-License-Identifier: MIT */
/*
 * Commerce data over HTTP: cities (and their monthly climate), customers, categories,
 * products, orders and carts (create, get by public id, list by page), and the streamed bulk
 * import POST /api/import/{kind}. Thin: decode, call src/domain/commerce, reply.
 * Tests: tests/integration/0018-commerce.c.
 */
#include "core/clock.h"
#include "domain/account/account.h"
#include "domain/commerce/commerce_store.h"
#include "domain/commerce/import.h"
#include "http/handlers.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ======================== shared ======================== */

static int64_t now_ms(struct http_req *r)
{
    return clock_now_ms(r->app->clock);
}

static json_t *str_json(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* The optional text member `name` (1..COMMERCE_TEXT_MAX bytes). */
static int opt_str(struct http_req *r, const char *name, const char **out, struct err *e)
{
    return json_get_strn(r->json, name, false, COMMERCE_TEXT_MAX, out, e);
}

/* The ids every created resource may carry: source (default "api") and external_id. */
static int origin(struct http_req *r, const char **source, const char **external_id, struct err *e)
{
    *source = COMMERCE_SOURCE_DEFAULT;
    *external_id = NULL;
    int rc = json_get_strn(r->json, "source", false, 64, source, e);
    if (!rc)
        rc = opt_str(r, "external_id", external_id, e);
    return rc;
}

/* A decimal amount of `cur` at `path` in `o`; ERR_INVALID naming `field`. */
static int decimal(json_t *o, const char *path, const char *field, bool required,
                   const struct money_currency *cur, bool *has, int64_t *minor, struct err *e)
{
    const char *text = NULL;
    *has = false;
    int rc = json_get_strn(o, path, required, MONEY_TEXT_MAX, &text, e);
    if (rc || !text)
        return rc == ERR_INVALID ? err_replace(e, ERR_INVALID, field,
                                               "%s must be decimal text such as \"11.77\"", field)
                                 : rc;
    struct money m;
    struct err me;
    err_init(&me);
    if (money_parse(text, cur->code, 0, &m, &me))
        return err_set_field(e, ERR_INVALID, field, "%s: %s", field, me.msg);
    *has = true;
    *minor = m.minor;
    return 0;
}

static int currency_of(struct http_req *r, bool required, const struct money_currency **out,
                       struct err *e)
{
    const char *code = NULL;
    *out = NULL;
    int rc = json_get_strn(r->json, "currency", required, 8, &code, e);
    if (!rc && code)
        rc = money_currency_find(code, out, e);
    return rc;
}

/* Put `prefix` ("items[2].") before the field and message of the error just set. */
static int prefixed(struct err *e, const char *prefix)
{
    char field[160], msg[400];
    snprintf(field, sizeof(field), "%s%s", prefix, e->field);
    snprintf(msg, sizeof(msg), "%s%s", prefix, e->msg);
    return err_replace(e, ERR_INVALID, field, "%s", msg);
}

static int page_of(struct http_req *r, struct page *p, struct err *e)
{
    return http_req_page(r, COMMERCE_LIST_DEFAULT, COMMERCE_LIST_MAX, p, e);
}

/* ======================== cities ======================== */

static json_t *climate_json(const struct commerce_climate *m, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            arr,
            json_pack("{s:i, s:o, s:o, s:o, s:o}", "month", m[i].month, "avg_temp_c",
                      m[i].has_avg_temp_c ? json_real(m[i].avg_temp_c) : json_null(), "rainfall_mm",
                      m[i].has_rainfall_mm ? json_real(m[i].rainfall_mm) : json_null(),
                      "humidity_pct",
                      m[i].has_humidity_pct ? json_real(m[i].humidity_pct) : json_null(),
                      "season_tag", str_json(m[i].season_tag)));
    return arr;
}

static json_t *city_json(const struct commerce_city *c)
{
    return json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:o}", "id", c->id, "source",
                     c->source, "external_id", str_json(c->external_id), "country_code",
                     c->country_code, "name", c->name, "region_code", str_json(c->region_code),
                     "latitude", c->has_location ? json_real(c->latitude) : json_null(),
                     "longitude", c->has_location ? json_real(c->longitude) : json_null(),
                     "created_at", http_json_time(c->created_at));
}

/* The city with its climate months. */
static int reply_city(struct http_req *r, struct db_conn *c, struct commerce_city *city, int status,
                      struct err *e)
{
    struct commerce_climate *m = NULL;
    size_t n = 0;
    int rc = commerce_store_climate_get(c, r->who.tenant_id, city->pk, &r->arena, &m, &n, e);
    if (rc)
        return rc;
    json_t *body = city_json(city);
    json_object_set_new(body, "climate", climate_json(m, n));
    return http_reply_json(r, status, body);
}

int h_cities_create(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"source",      "external_id", "country_code", "name",
                                         "region_code", "latitude",    "longitude",    NULL};
    struct commerce_city city;
    memset(&city, 0, sizeof(city));
    double lat = 1000, lng = 1000;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = origin(r, &city.source, &city.external_id, e);
    if (!rc)
        rc = json_get_strn(r->json, "country_code", true, 2, &city.country_code, e);
    if (!rc)
        rc = json_get_strn(r->json, "name", true, COMMERCE_TEXT_MAX, &city.name, e);
    if (!rc)
        rc = opt_str(r, "region_code", &city.region_code, e);
    if (!rc)
        rc = json_get_f64(r->json, "latitude", false, -90, 90, &lat, e);
    if (!rc)
        rc = json_get_f64(r->json, "longitude", false, -180, 180, &lng, e);
    if (!rc && (lat == 1000) != (lng == 1000))
        rc = err_set_field(e, ERR_INVALID, lat == 1000 ? "latitude" : "longitude",
                           "latitude and longitude go together");
    if (rc)
        return rc;
    city.has_location = lat != 1000;
    city.latitude = lat;
    city.longitude = lng;
    struct db_conn *c;
    rc = http_req_db(r, &c, e);
    if (!rc)
        rc = commerce_store_city_create(c, r->who.tenant_id, &city, now_ms(r), &r->arena, e);
    if (rc)
        return rc;
    return reply_city(r, c, &city, 201, e);
}

int h_cities_get(struct http_req *r, struct err *e)
{
    struct commerce_city city;
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = commerce_store_city_get(c, r->who.tenant_id, http_req_param(r, "id"), &r->arena, &city,
                                     e);
    if (rc)
        return rc;
    return reply_city(r, c, &city, 200, e);
}

int h_cities_list(struct http_req *r, struct err *e)
{
    struct page p;
    struct db_conn *c;
    struct commerce_city *rows = NULL;
    size_t n = 0;
    int rc = page_of(r, &p, e);
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = commerce_store_city_list(c, r->who.tenant_id, &p, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, city_json(&rows[i]));
    return http_reply_json(r, 200, http_page_body("cities", arr, &p, n, n ? rows[n - 1].pk : 0));
}

static int climate_month(json_t *o, size_t i, struct commerce_climate *m, struct err *e)
{
    static const char *const fields[] = {"month",        "avg_temp_c", "rainfall_mm",
                                         "humidity_pct", "season_tag", NULL};
    int64_t month = 0;
    double v;
    int rc = json_reject_unknown(o, "", fields, e);
    if (!rc)
        rc = json_get_i64(o, "month", true, 1, 12, &month, e);
    m->month = (int)month;
    v = NAN;
    if (!rc)
        rc = json_get_f64(o, "avg_temp_c", false, -1e9, 1e9, &v, e);
    m->has_avg_temp_c = !isnan(v);
    m->avg_temp_c = v;
    v = NAN;
    if (!rc)
        rc = json_get_f64(o, "rainfall_mm", false, -1e9, 1e9, &v, e);
    m->has_rainfall_mm = !isnan(v);
    m->rainfall_mm = v;
    v = NAN;
    if (!rc)
        rc = json_get_f64(o, "humidity_pct", false, -1e9, 1e9, &v, e);
    m->has_humidity_pct = !isnan(v);
    m->humidity_pct = v;
    if (!rc)
        rc = json_get_strn(o, "season_tag", false, COMMERCE_TEXT_MAX, &m->season_tag, e);
    if (rc) {
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "months[%zu].", i);
        return prefixed(e, prefix);
    }
    return 0;
}

int h_cities_climate_put(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"months", NULL};
    json_t *months = NULL;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = json_get_array(r->json, "months", true, &months, e);
    if (rc)
        return rc;
    size_t n = json_array_size(months);
    if (n != 12)
        return err_set_field(e, ERR_INVALID, "months", "months must hold the 12 months, got %zu",
                             n);
    struct commerce_climate m[12];
    memset(m, 0, sizeof(m));
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *o = json_array_get(months, i);
        if (!json_is_object(o))
            rc = err_set_field(e, ERR_INVALID, "months", "months[%zu] must be an object", i);
        else
            rc = climate_month(o, i, &m[i], e);
    }
    struct commerce_city city;
    memset(&city, 0, sizeof(city));
    struct db_conn *c;
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = commerce_store_city_get(c, r->who.tenant_id, http_req_param(r, "id"), &r->arena, &city,
                                     e);
    if (!rc)
        rc = commerce_store_climate_put(c, r->who.tenant_id, city.pk, m, n, e);
    if (rc)
        return rc;
    return reply_city(r, c, &city, 200, e);
}

/* ======================== customers ======================== */

static json_t *customer_json(const struct commerce_customer *cu)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o}", "id", cu->id,
                     "source", cu->source, "external_id", str_json(cu->external_id), "name",
                     str_json(cu->name), "email", str_json(cu->email), "phone", str_json(cu->phone),
                     "birth_date", str_json(cu->birth_date), "gender", str_json(cu->gender),
                     "city_id", str_json(cu->city_id), "is_active", cu->is_active, "created_at",
                     http_json_time(cu->created_at), "updated_at", http_json_time(cu->updated_at));
}

int h_customers_create(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"source",    "external_id", "name",   "email",
                                         "phone",     "birth_date",  "gender", "city_id",
                                         "is_active", NULL};
    struct commerce_customer cu;
    memset(&cu, 0, sizeof(cu));
    cu.is_active = true;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = origin(r, &cu.source, &cu.external_id, e);
    if (!rc)
        rc = opt_str(r, "name", &cu.name, e);
    if (!rc)
        rc = opt_str(r, "email", &cu.email, e);
    if (!rc)
        rc = opt_str(r, "phone", &cu.phone, e);
    if (!rc)
        rc = opt_str(r, "birth_date", &cu.birth_date, e);
    if (!rc)
        rc = opt_str(r, "gender", &cu.gender, e);
    if (!rc)
        rc = opt_str(r, "city_id", &cu.city_id, e);
    if (!rc)
        rc = json_get_bool(r->json, "is_active", false, &cu.is_active, e);
    struct db_conn *c;
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = commerce_store_customer_create(c, r->who.tenant_id, &cu, now_ms(r), &r->arena, e);
    if (rc)
        return rc;
    return http_reply_json(r, 201, customer_json(&cu));
}

int h_customers_get(struct http_req *r, struct err *e)
{
    struct commerce_customer cu;
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = commerce_store_customer_get(c, r->who.tenant_id, http_req_param(r, "id"), &r->arena,
                                         &cu, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, customer_json(&cu));
}

int h_customers_list(struct http_req *r, struct err *e)
{
    struct page p;
    struct db_conn *c;
    struct commerce_customer *rows = NULL;
    size_t n = 0;
    int rc = page_of(r, &p, e);
    if (!rc)
        rc = http_req_db(r, &c, e);
    /* ?q= finds customers by a piece of their email, name, phone or ids */
    const char *q = http_req_query(r, "q");
    if (!rc && q && (!*q || strlen(q) > 100))
        rc = err_set_field(e, ERR_INVALID, "q", "q must be 1..100 characters");
    if (!rc && q)
        rc = commerce_store_customer_search(c, r->who.tenant_id, q, &p, &r->arena, &rows, &n, e);
    else if (!rc)
        rc = commerce_store_customer_list(c, r->who.tenant_id, &p, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, customer_json(&rows[i]));
    return http_reply_json(r, 200, http_page_body("customers", arr, &p, n, n ? rows[n - 1].pk : 0));
}

/* ======================== categories ======================== */

static json_t *category_json(const struct commerce_category *cat)
{
    return json_pack("{s:s, s:s, s:o, s:s, s:o}", "id", cat->id, "source", cat->source,
                     "external_id", str_json(cat->external_id), "name", cat->name, "created_at",
                     http_json_time(cat->created_at));
}

int h_categories_create(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"source", "external_id", "name", NULL};
    struct commerce_category cat;
    memset(&cat, 0, sizeof(cat));
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = origin(r, &cat.source, &cat.external_id, e);
    if (!rc)
        rc = json_get_strn(r->json, "name", true, COMMERCE_TEXT_MAX, &cat.name, e);
    struct db_conn *c;
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = commerce_store_category_create(c, r->who.tenant_id, &cat, now_ms(r), &r->arena, e);
    if (rc)
        return rc;
    return http_reply_json(r, 201, category_json(&cat));
}

int h_categories_get(struct http_req *r, struct err *e)
{
    struct commerce_category cat;
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = commerce_store_category_get(c, r->who.tenant_id, http_req_param(r, "id"), &r->arena,
                                         &cat, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, category_json(&cat));
}

int h_categories_list(struct http_req *r, struct err *e)
{
    struct page p;
    struct db_conn *c;
    struct commerce_category *rows = NULL;
    size_t n = 0;
    int rc = page_of(r, &p, e);
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = commerce_store_category_list(c, r->who.tenant_id, &p, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, category_json(&rows[i]));
    return http_reply_json(r, 200,
                           http_page_body("categories", arr, &p, n, n ? rows[n - 1].pk : 0));
}

/* ======================== products ======================== */

static json_t *product_json(const struct commerce_product *pr)
{
    return json_pack(
        "{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o}", "id", pr->id, "source", pr->source,
        "external_id", str_json(pr->external_id), "category_id", str_json(pr->category_id), "name",
        str_json(pr->name), "price",
        pr->has_price ? http_json_amount(pr->price.minor, pr->price.currency) : json_null(),
        "currency", pr->has_price ? json_string(pr->price.currency->code) : json_null(), "stock",
        (json_int_t)pr->stock, "created_at", http_json_time(pr->created_at), "updated_at",
        http_json_time(pr->updated_at));
}

int h_products_create(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"source", "external_id", "category_id", "name",
                                         "price",  "currency",    "stock",       NULL};
    struct commerce_product pr;
    memset(&pr, 0, sizeof(pr));
    const struct money_currency *cur = NULL;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = origin(r, &pr.source, &pr.external_id, e);
    if (!rc)
        rc = opt_str(r, "category_id", &pr.category_id, e);
    if (!rc)
        rc = json_get_strn(r->json, "name", true, COMMERCE_TEXT_MAX, &pr.name, e);
    if (!rc)
        rc = currency_of(r, true, &cur, e);
    if (!rc)
        rc = decimal(r->json, "price", "price", true, cur, &pr.has_price, &pr.price.minor, e);
    pr.price.currency = cur;
    if (!rc)
        rc = json_get_i64(r->json, "stock", false, 0, INT64_MAX, &pr.stock, e);
    struct db_conn *c;
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = commerce_store_product_create(c, r->who.tenant_id, &pr, now_ms(r), &r->arena, e);
    if (rc)
        return rc;
    return http_reply_json(r, 201, product_json(&pr));
}

int h_products_get(struct http_req *r, struct err *e)
{
    struct commerce_product pr;
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = commerce_store_product_get(c, r->who.tenant_id, http_req_param(r, "id"), &r->arena,
                                        &pr, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, product_json(&pr));
}

int h_products_list(struct http_req *r, struct err *e)
{
    struct page p;
    struct db_conn *c;
    struct commerce_product *rows = NULL;
    size_t n = 0;
    int rc = page_of(r, &p, e);
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = commerce_store_product_list(c, r->who.tenant_id, &p, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, product_json(&rows[i]));
    return http_reply_json(r, 200, http_page_body("products", arr, &p, n, n ? rows[n - 1].pk : 0));
}

/* ======================== orders and carts ======================== */

static json_t *items_json(const struct commerce_item *items, size_t n,
                          const struct money_currency *cur)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            arr, json_pack("{s:s, s:o, s:I, s:o, s:o}", "product_id", items[i].product_id,
                           "product_external_id", str_json(items[i].product_external_id),
                           "quantity", (json_int_t)items[i].quantity, "unit_price",
                           http_json_amount(items[i].unit_price, cur), "list_price",
                           items[i].list_price > 0 ? http_json_amount(items[i].list_price, cur)
                                                   : json_null()));
    return arr;
}

/* The header shared by orders and carts; `items` NULL lists only their count. */
static json_t *basket_json(const char *id, const char *source, const char *external_id,
                           const char *customer_id, const struct money_currency *cur, int64_t total,
                           const struct commerce_item *items, size_t n, int64_t created_at,
                           int64_t updated_at)
{
    json_t *o = json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:I, s:o, s:o}", "id", id, "source",
                          source, "external_id", str_json(external_id), "customer_id", customer_id,
                          "currency", cur ? cur->code : "", "total_amount",
                          http_json_amount(total, cur), "item_count", (json_int_t)n, "created_at",
                          http_json_time(created_at), "updated_at", http_json_time(updated_at));
    if (items)
        json_object_set_new(o, "items", items_json(items, n, cur));
    return o;
}

static json_t *order_json(const struct commerce_order *ord, bool with_items)
{
    json_t *o = basket_json(ord->id, ord->source, ord->external_id, ord->customer_id, ord->currency,
                            ord->total_amount, with_items ? ord->items : NULL, ord->n_items,
                            ord->created_at, ord->updated_at);
    json_object_set_new(o, "status", json_string(commerce_order_status_names[ord->status]));
    json_object_set_new(o, "counts_as_spend",
                        json_boolean(commerce_order_status_counts(ord->status)));
    json_object_set_new(o, "campaign", str_json(ord->campaign));
    return o;
}

static json_t *cart_json(const struct commerce_cart *c, bool with_items)
{
    return basket_json(c->id, c->source, c->external_id, c->customer_id, c->currency,
                       c->total_amount, with_items ? c->items : NULL, c->n_items, c->created_at,
                       c->updated_at);
}

/* items[]: {product_id, quantity, unit_price, list_price? (decimal text)} in the currency `cur`. */
static int items_of(struct http_req *r, const struct money_currency *cur,
                    struct commerce_item **out, size_t *n, struct err *e)
{
    static const char *const fields[] = {"product_id", "quantity", "unit_price", "list_price",
                                         NULL};
    json_t *arr = NULL;
    int rc = json_get_array(r->json, "items", true, &arr, e);
    if (rc)
        return rc;
    *n = json_array_size(arr);
    if (*n == 0 || *n > COMMERCE_ITEMS_MAX)
        return err_set_field(e, ERR_INVALID, "items", "items must hold 1..%d lines",
                             COMMERCE_ITEMS_MAX);
    *out = arena_alloc(&r->arena, *n * sizeof(**out));
    for (size_t i = 0; i < *n; i++) {
        json_t *it = json_array_get(arr, i);
        struct commerce_item *x = &(*out)[i];
        char field[64];
        bool has;
        snprintf(field, sizeof(field), "items[%zu]", i);
        if (!json_is_object(it))
            return err_set_field(e, ERR_INVALID, field, "%s must be an object", field);
        rc = json_reject_unknown(it, "", fields, e);
        if (!rc)
            rc = json_get_strn(it, "product_id", true, COMMERCE_TEXT_MAX, &x->product_id, e);
        if (!rc)
            rc = json_get_i64(it, "quantity", true, 1, COMMERCE_QUANTITY_MAX, &x->quantity, e);
        if (rc) {
            char prefix[40];
            snprintf(prefix, sizeof(prefix), "items[%zu].", i);
            return prefixed(e, prefix);
        }
        snprintf(field, sizeof(field), "items[%zu].unit_price", i);
        rc = decimal(it, "unit_price", field, true, cur, &has, &x->unit_price, e);
        snprintf(field, sizeof(field), "items[%zu].list_price", i);
        if (!rc)
            rc = decimal(it, "list_price", field, false, cur, &has, &x->list_price, e);
        if (rc)
            return rc;
    }
    return 0;
}

int h_orders_create(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"source", "external_id", "customer_id",
                                         "status", "currency",    "created_at",
                                         "items",  "campaign",    NULL};
    struct commerce_order o;
    memset(&o, 0, sizeof(o));
    const char *status = NULL, *created = NULL;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = origin(r, &o.source, &o.external_id, e);
    if (!rc)
        rc = json_get_strn(r->json, "customer_id", true, COMMERCE_TEXT_MAX, &o.customer_id, e);
    if (!rc)
        rc = json_get_strn(r->json, "status", false, 16, &status, e);
    if (!rc && status)
        rc = commerce_order_status_parse(status, "status", &o.status, e);
    if (!rc)
        rc = json_get_strn(r->json, "campaign", false, COMMERCE_TEXT_MAX, &o.campaign, e);
    if (!rc)
        rc = json_get_strn(r->json, "created_at", false, 64, &created, e);
    if (!rc && created && clock_parse_iso(created, &o.created_at))
        rc = err_set_field(e, ERR_INVALID, "created_at", "created_at must be an ISO-8601 time");
    if (!rc)
        rc = currency_of(r, true, &o.currency, e);
    if (!rc)
        rc = items_of(r, o.currency, &o.items, &o.n_items, e);
    struct db_conn *c;
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = commerce_store_order_create(c, r->who.tenant_id, &o, now_ms(r), &r->arena, e);
    if (!rc)
        rc = commerce_store_order_get(c, r->who.tenant_id, o.id, &r->arena, &o, e);
    if (rc)
        return rc;
    return http_reply_json(r, 201, order_json(&o, true));
}

int h_orders_get(struct http_req *r, struct err *e)
{
    struct commerce_order o;
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = commerce_store_order_get(c, r->who.tenant_id, http_req_param(r, "id"), &r->arena, &o,
                                      e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, order_json(&o, true));
}

/* ?customer_id=: the customer's pk (an unknown customer is 404 naming customer_id). */
static int customer_filter(struct http_req *r, struct db_conn *c, int64_t *pk, struct err *e)
{
    const char *id = http_req_query(r, "customer_id");
    *pk = 0;
    if (!id)
        return 0;
    struct commerce_customer cu;
    int rc = commerce_store_customer_get(c, r->who.tenant_id, id, &r->arena, &cu, e);
    if (rc == ERR_NOT_FOUND)
        return err_replace(e, ERR_NOT_FOUND, "customer_id", "no customer %s", id);
    *pk = cu.pk;
    return rc;
}

int h_orders_list(struct http_req *r, struct err *e)
{
    struct page p;
    struct db_conn *c;
    struct commerce_order *rows = NULL;
    size_t n = 0;
    int64_t customer = 0;
    int rc = page_of(r, &p, e);
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = customer_filter(r, c, &customer, e);
    if (!rc)
        rc = commerce_store_order_list(c, r->who.tenant_id, customer, &p, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, order_json(&rows[i], false));
    return http_reply_json(r, 200, http_page_body("orders", arr, &p, n, n ? rows[n - 1].pk : 0));
}

/*
 * GET /api/me/orders: the signed-in person's orders (of the customers with their email). An API
 * key, or a user without an email, is nobody's customer: an empty list.
 */
int h_me_orders(struct http_req *r, struct err *e)
{
    struct page p;
    struct db_conn *c;
    struct commerce_order *rows = NULL;
    size_t n = 0;
    const char *email = NULL;
    int rc = page_of(r, &p, e);
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc && r->who.user_id)
        rc = account_user_email(c, r->who.tenant_id, r->who.user_id, &r->arena, &email, e);
    if (!rc && email && *email)
        rc = commerce_store_order_list_by_email(c, r->who.tenant_id, email, &p, &r->arena, &rows,
                                                &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, order_json(&rows[i], false));
    return http_reply_json(r, 200, http_page_body("orders", arr, &p, n, n ? rows[n - 1].pk : 0));
}

int h_carts_create(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"source",   "external_id", "customer_id",
                                         "currency", "items",       NULL};
    struct commerce_cart cart;
    memset(&cart, 0, sizeof(cart));
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = origin(r, &cart.source, &cart.external_id, e);
    if (!rc)
        rc = json_get_strn(r->json, "customer_id", true, COMMERCE_TEXT_MAX, &cart.customer_id, e);
    if (!rc)
        rc = currency_of(r, true, &cart.currency, e);
    if (!rc)
        rc = items_of(r, cart.currency, &cart.items, &cart.n_items, e);
    struct db_conn *c;
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = commerce_store_cart_create(c, r->who.tenant_id, &cart, now_ms(r), &r->arena, e);
    if (!rc)
        rc = commerce_store_cart_get(c, r->who.tenant_id, cart.id, &r->arena, &cart, e);
    if (rc)
        return rc;
    return http_reply_json(r, 201, cart_json(&cart, true));
}

int h_carts_get(struct http_req *r, struct err *e)
{
    struct commerce_cart cart;
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = commerce_store_cart_get(c, r->who.tenant_id, http_req_param(r, "id"), &r->arena, &cart,
                                     e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, cart_json(&cart, true));
}

int h_carts_list(struct http_req *r, struct err *e)
{
    struct page p;
    struct db_conn *c;
    struct commerce_cart *rows = NULL;
    size_t n = 0;
    int64_t customer = 0;
    int rc = page_of(r, &p, e);
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (!rc)
        rc = customer_filter(r, c, &customer, e);
    if (!rc)
        rc = commerce_store_cart_list(c, r->who.tenant_id, customer, &p, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, cart_json(&rows[i], false));
    return http_reply_json(r, 200, http_page_body("carts", arr, &p, n, n ? rows[n - 1].pk : 0));
}

/* ======================== bulk import ======================== */

/* The media type without parameters: NDJSON or CSV, else ERR_UNSUPPORTED. */
static int import_format_of(const char *ct, enum import_format *out, struct err *e)
{
    static const struct {
        const char *type;
        enum import_format format;
    } types[] = {{"application/x-ndjson", IMPORT_NDJSON},
                 {"application/ndjson", IMPORT_NDJSON},
                 {"text/csv", IMPORT_CSV}};
    size_t n = 0;
    while (ct && ct[n] && ct[n] != ';' && ct[n] != ' ')
        n++;
    for (size_t i = 0; ct && i < sizeof(types) / sizeof(types[0]); i++) {
        if (strlen(types[i].type) == n && strncasecmp(ct, types[i].type, n) == 0) {
            *out = types[i].format;
            return 0;
        }
    }
    return err_set_field(e, ERR_UNSUPPORTED, "Content-Type",
                         "Content-Type must be application/x-ndjson or text/csv, got %s",
                         ct ? ct : "none");
}

static void import_release(void *p)
{
    import_free(p);
}

static int import_end(struct http_req *r, void *ctx, struct err *e)
{
    int rc = import_finish(ctx, e);
    if (rc)
        return rc;
    const struct import_result *res = import_result(ctx);
    json_t *rejects = json_array();
    for (size_t i = 0; i < res->n_rejects; i++)
        json_array_append_new(
            rejects, json_pack("{s:I, s:s, s:s}", "line", (json_int_t)res->rejects[i].line, "field",
                               res->rejects[i].field, "reason", res->rejects[i].reason));
    const char *kind = http_req_param(r, "kind");
    return http_reply_json(r, 200,
                           json_pack("{s:s, s:I, s:I, s:I, s:I, s:o}", "kind", kind, "lines",
                                     (json_int_t)res->lines, "inserted", (json_int_t)res->inserted,
                                     "updated", (json_int_t)res->updated, "rejected",
                                     (json_int_t)res->rejected, "rejects", rejects));
}

/*
 * A streamed route (router.h): set up at HTTP_STREAM_BEGIN, before any byte of the body; each
 * piece is fed to the import as it arrives; the answer is written at HTTP_STREAM_END.
 */
int h_import(struct http_req *r, struct err *e)
{
    switch (r->stream_phase) {
    case HTTP_STREAM_DATA:
        return import_feed(r->stream_ctx, r->stream_data, r->stream_len, e);
    case HTTP_STREAM_END:
        return import_end(r, r->stream_ctx, e);
    case HTTP_STREAM_BEGIN:
        break;
    }
    const char *kind_name = http_req_param(r, "kind");
    int kind = -1;
    for (int i = 0; import_kind_names[i]; i++) {
        if (strcmp(kind_name, import_kind_names[i]) == 0)
            kind = i;
    }
    if (kind < 0)
        return err_set_field(e, ERR_NOT_FOUND, "kind",
                             "no import of %s; kinds are customers, products, orders", kind_name);
    enum import_format format = IMPORT_NDJSON;
    int rc = import_format_of(http_req_header(r, "Content-Type"), &format, e);
    if (rc)
        return rc;
    struct db_conn *c;
    struct import *im = NULL;
    rc = http_req_db(r, &c, e);
    if (!rc)
        rc = import_new(c, r->who.tenant_id, (enum import_kind)kind, format,
                        http_req_query(r, "source"), now_ms(r), &im, e);
    if (rc)
        return rc;
    arena_defer(&r->arena, import_release, im);
    r->stream_ctx = im;
    return 0;
}
