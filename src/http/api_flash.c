/* SPDX-License-Identifier: MIT */
/*
 * Flash window endpoints with the field names of seed 000: buyers and sellers (register,
 * signal, get, list), campaigns (scan, generate, config), flash windows (active, list, one with
 * its decision trace, create, and the pre-commit / cancel / join / redeem / approve / reject /
 * seller-cancel actions) and the message outbox. Decode and validate, call
 * domain/flash/flash_service.h, reply. Tests: tests/integration/0004-flash.c, 0010-seed-flow.c.
 */
#include "core/clock.h"
#include "core/money.h"
#include "domain/flash/flash_service.h"
#include "domain/flash/learning.h"
#include "core/gzip.h"
#include "http/body_cache.h"
#include "domain/understand/understand_json.h"
#include "domain/notify/outbox.h"
#include "http/handlers.h"
#include "jobs/worker.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS 60000LL

static int64_t now_ms(struct http_req *r)
{
    return clock_now_ms(r->app->clock);
}

static int db(struct http_req *r, struct db_conn **c, struct err *e)
{
    return http_req_db(r, c, e);
}

/* ======================== decoding ======================== */

static int get_location(json_t *root, bool required, struct flash_location *loc, struct err *e)
{
    static const char *const fields[] = {"lat", "lng", "district", "neighborhood", NULL};
    json_t *o;
    int rc = json_get_object(root, "location", required, &o, e);
    if (rc || !o)
        return rc;
    loc->district = "";
    loc->neighborhood = "";
    rc = json_reject_unknown(root, "location", fields, e);
    if (!rc)
        rc = json_get_f64(root, "location.lat", true, -90, 90, &loc->lat, e);
    if (!rc)
        rc = json_get_f64(root, "location.lng", true, -180, 180, &loc->lng, e);
    if (!rc)
        rc = json_get_strn(root, "location.district", false, 80, &loc->district, e);
    if (!rc)
        rc = json_get_strn(root, "location.neighborhood", false, 80, &loc->neighborhood, e);
    return rc;
}

static int get_id(json_t *root, const char *path, bool required, const char **out, struct err *e)
{
    const char *v = NULL;
    int rc = json_get_strn(root, path, required, FLASH_ID_MAX, &v, e);
    if (rc || !v)
        return rc;
    if (!flash_id_valid(v))
        return err_set_field(e, ERR_INVALID, path,
                             "%s may contain only letters, digits, '_' and '-'", path);
    *out = v;
    return 0;
}

static int get_phone(json_t *root, bool required, const char **out, struct err *e)
{
    const char *v = NULL;
    int rc = json_get_strn(root, "phone_number", required, 20, &v, e);
    if (rc || !v)
        return rc;
    if (!flash_phone_valid(v))
        return err_set_field(e, ERR_INVALID, "phone_number",
                             "phone_number must look like +905321234567");
    *out = v;
    return 0;
}

/* A category: canonical or one of the tenant's own (cfg). */
static int get_category(json_t *root, const char *path, bool required,
                        const struct flash_config *cfg, const char **out, struct err *e)
{
    const char *v = NULL;
    int rc = json_get_strn(root, path, required, FLASH_CATEGORY_MAX, &v, e);
    if (rc || !v)
        return rc;
    if (!flash_config_category_known(cfg, v)) {
        char list[512] = "";
        size_t used = 0;
        for (int i = 0; flash_categories[i] && used < sizeof(list); i++) {
            int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
                             flash_categories[i]);
            used += w > 0 ? (size_t)w : 0;
        }
        for (int i = 0; i < cfg->n_extra_categories && used < sizeof(list); i++) {
            int w = snprintf(list + used, sizeof(list) - used, ", %s", cfg->extra_categories[i]);
            used += w > 0 ? (size_t)w : 0;
        }
        return err_set_field(e, ERR_INVALID, path, "%s must be one of: %s", path, list);
    }
    *out = v;
    return 0;
}

/* The tenant's configuration, for validating categories. */
static int tenant_config(struct http_req *r, struct flash_config *cfg, struct err *e)
{
    struct db_conn *c = NULL;
    int rc = http_req_db(r, &c, e);
    return rc ? rc : flash_store_config_get(c, r->who.tenant_id, cfg, e);
}

static int get_language(json_t *root, const char **out, struct err *e)
{
    static const char *const langs[] = {"tr", "en", NULL};
    int idx = 0;
    int rc = json_get_enum(root, "language", false, langs, &idx, e);
    if (!rc)
        *out = langs[idx];
    return rc;
}

/* ======================== JSON out ======================== */

static json_t *location_json(const struct flash_location *l)
{
    return json_pack("{s:f, s:f, s:s, s:s}", "lat", l->lat, "lng", l->lng, "district",
                     l->district ? l->district : "", "neighborhood",
                     l->neighborhood ? l->neighborhood : "");
}

static json_t *buyer_json(const struct flash_buyer *b)
{
    json_t *cats = json_array();
    for (int i = 0; i < b->n_categories; i++)
        json_array_append_new(cats, json_string(b->categories[i]));
    return json_pack("{s:s, s:s, s:s?, s:o, s:o, s:s, s:b, s:s, s:f, s:i, s:i, s:o, s:o}", "id",
                     b->id, "phone_number", b->phone, "name", b->name, "location",
                     location_json(&b->loc), "categories", cats, "price_sensitivity",
                     flash_price_names[b->price_sensitivity], "consent", b->consent, "language",
                     b->language, "reliability", flash_buyer_reliability(b), "commits", b->commits,
                     "shows", b->shows, "created_at", http_json_time(b->created_at), "updated_at",
                     http_json_time(b->updated_at));
}

static json_t *seller_json(const struct flash_seller *s)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:{s:I, s:I, s:s}, s:i, s:i, s:b, s:s, s:o, s:o}",
        "id", s->id, "phone_number", s->phone, "name", s->name, "category", s->category, "location",
        location_json(&s->loc), "density_status", flash_density_names[s->density], "stock_status",
        s->stock_status ? s->stock_status : "", "price_range", "min", (json_int_t)s->price_min,
        "max", (json_int_t)s->price_max, "currency", s->currency ? s->currency : "TRY",
        "max_discount", s->max_discount, "capacity", s->capacity, "auto_approve", s->auto_approve,
        "opening_hours", s->opening_hours ? s->opening_hours : "", "created_at",
        http_json_time(s->created_at), "updated_at", http_json_time(s->updated_at));
    json_object_set_new(o, "supply",
                        s->supply_until ? json_pack("{s:s, s:o}", "signal_type",
                                                    flash_supply_names[s->supply_kind], "until",
                                                    http_json_time(s->supply_until))
                                        : json_null());
    return o;
}

/*
 * Windows are written straight into a buffer rather than through a jansson tree: the active
 * list carries every active window of a city (thousands) and is polled by maps.
 * Appends the window's fields without the closing brace, so callers can add more.
 */
static int put_window(struct buf *b, const struct flash_window *w)
{
    char start[CLOCK_ISO_LEN], end[CLOCK_ISO_LEN];
    clock_format_iso(w->start_ms, start);
    clock_format_iso(w->end_ms, end);
    int rc = buf_appendf(b, "{\"id\":%lld,\"seller_id\":", (long long)w->pk);
    rc |= json_buf_string(b, w->seller_id);
    rc |= buf_appends(b, ",\"seller_name\":");
    rc |= json_buf_string(b, w->seller_name ? w->seller_name : "");
    rc |= buf_appends(b, ",\"title\":");
    rc |= json_buf_string(b, w->title);
    rc |= buf_appends(b, ",\"description\":");
    rc |= json_buf_string(b, w->description);
    rc |= buf_appends(b, ",\"product\":");
    rc |= json_buf_string(b, w->product ? w->product : "");
    if (w->discount_percent)
        rc |= buf_appendf(b, ",\"discount_percent\":%d", w->discount_percent);
    else
        rc |= buf_appends(b, ",\"discount_percent\":null");
    if (w->static_price)
        rc |= buf_appendf(b, ",\"static_price\":%lld", (long long)w->static_price);
    else
        rc |= buf_appends(b, ",\"static_price\":null");
    /* bundle_info is JSON this server wrote (a re-serialised object) */
    rc |= buf_appendf(b, ",\"bundle_info\":%s,\"currency\":",
                      w->bundle_info && *w->bundle_info ? w->bundle_info : "null");
    rc |= json_buf_string(b, w->currency ? w->currency : "TRY");
    rc |=
        buf_appendf(b,
                    ",\"start_time\":\"%s\",\"end_time\":\"%s\",\"status\":\"%s\",\"capacity\":%d,"
                    "\"min_participants\":%d,\"score\":%.4f,\"origin\":\"%s\",\"prepay\":%s,"
                    "\"counts\":{\"targeted\":%d,\"committed\":%d,\"joined\":%d,\"redeemed\":%d},"
                    "\"location\":{\"lat\":%.6f,\"lng\":%.6f}",
                    start, end, flash_status_names[w->status], w->capacity, w->min_participants,
                    w->score, w->origin && strcmp(w->origin, "manual") == 0 ? "manual" : "engine",
                    w->prepay ? "true" : "false", w->targeted, w->committed, w->joined, w->redeemed,
                    w->seller_loc.lat, w->seller_loc.lng);
    if (w->status == FLASH_WINDOW_CANCELLED) {
        rc |= buf_appends(b, ",\"cancel_reason\":");
        rc |= json_buf_string(b, w->cancel_reason ? w->cancel_reason : "");
    }
    return rc;
}

static int reply_buf(struct http_req *r, int status, struct buf *b, int rc, struct err *e)
{
    if (rc) {
        buf_release(b);
        return err_set(e, ERR_TOO_LARGE, "the response is too large; ask for fewer rows");
    }
    size_t len;
    char *text = buf_detach(b, &len);
    http_reply_bytes(r, status, "application/json", text, len);
    free(text);
    return 0;
}

/* A list reply with the keyset cursor for the next page. */
static int reply_list(struct http_req *r, const char *key, json_t *arr, size_t n, int limit,
                      json_t *next)
{
    json_t *body = json_object();
    json_object_set_new(body, key, arr);
    json_object_set_new(body, "next_after", n == (size_t)limit && n ? next : json_null());
    if (!(n == (size_t)limit && n))
        json_decref(next);
    return http_reply_json(r, 200, body);
}

/* ======================== buyers ======================== */

int h_buyers_register(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"id",       "phone_number", "name",
                                         "location", "categories",   "price_sensitivity",
                                         "consent",  "language",     NULL};
    struct flash_buyer b;
    memset(&b, 0, sizeof(b));
    b.language = "tr";
    b.consent = true;
    b.price_sensitivity = FLASH_PRICE_BALANCED;
    int price = FLASH_PRICE_BALANCED;
    json_t *cats = NULL;
    struct flash_config cfg;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = tenant_config(r, &cfg, e);
    if (!rc)
        rc = get_id(r->json, "id", false, &b.id, e);
    if (!rc)
        rc = get_phone(r->json, true, &b.phone, e);
    if (!rc)
        rc = json_get_strn(r->json, "name", false, FLASH_NAME_MAX, &b.name, e);
    if (!rc)
        rc = get_location(r->json, true, &b.loc, e);
    if (!rc)
        rc = json_get_array(r->json, "categories", false, &cats, e);
    if (!rc)
        rc = json_get_enum(r->json, "price_sensitivity", false, flash_price_names, &price, e);
    if (!rc)
        rc = json_get_bool(r->json, "consent", false, &b.consent, e);
    if (!rc)
        rc = get_language(r->json, &b.language, e);
    if (rc)
        return rc;
    b.price_sensitivity = (enum flash_price_sensitivity)price;
    if (json_array_size(cats) > FLASH_MAX_CATEGORIES)
        return err_set_field(e, ERR_INVALID, "categories", "at most %d categories",
                             FLASH_MAX_CATEGORIES);
    for (size_t i = 0; i < json_array_size(cats); i++) {
        char path[48];
        snprintf(path, sizeof(path), "categories[%zu]", i);
        /* the element under its own path as key, so messages and field say "categories[i]" */
        json_t *wrap = json_pack("{s:O}", path, json_array_get(cats, i));
        const char *cat = NULL;
        rc = get_category(wrap, path, true, &cfg, &cat, e);
        if (rc) {
            json_decref(wrap);
            return rc;
        }
        b.categories[b.n_categories++] = arena_strdup(&r->arena, cat);
        json_decref(wrap);
    }
    struct db_conn *c = NULL;
    bool created = false;
    rc = db(r, &c, e);
    if (!rc)
        rc = flash_buyer_register(c, r->who.tenant_id, &b, now_ms(r), &r->arena, &created, e);
    if (rc)
        return rc;
    struct flash_buyer out;
    rc = flash_store_buyer_get_pk(c, r->who.tenant_id, b.pk, &r->arena, &out, e);
    if (rc)
        return rc;
    json_t *body = buyer_json(&out);
    json_object_set_new(body, "created", json_boolean(created));
    return http_reply_json(r, created ? 201 : 200, body);
}

int h_buyers_signal(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"buyer_id",           "text",   "product",
                                         "category",           "budget", "currency",
                                         "expires_in_minutes", NULL};
    const char *buyer_id = NULL;
    struct flash_demand_in d;
    memset(&d, 0, sizeof(d));
    d.product = "";
    d.category = "";
    d.currency = "TRY";
    int64_t minutes = 60;
    struct flash_config cfg;
    struct db_conn *c = NULL;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = db(r, &c, e);
    if (!rc) /* only the tenant's categories are read from it: a second-old copy does */
        rc = flash_store_config_get_recent(c, r->who.tenant_id, &cfg, e);
    if (!rc)
        rc = get_id(r->json, "buyer_id", true, &buyer_id, e);
    if (!rc)
        rc = json_get_strn(r->json, "text", true, FLASH_TEXT_MAX, &d.text, e);
    if (!rc)
        rc = json_get_strn(r->json, "product", false, 80, &d.product, e);
    if (!rc)
        rc = get_category(r->json, "category", false, &cfg, &d.category, e);
    if (!rc)
        rc = json_get_i64(r->json, "budget", false, 0, INT64_MAX / 2, &d.budget, e);
    if (!rc)
        rc = json_get_strn(r->json, "currency", false, 3, &d.currency, e);
    if (!rc)
        rc = json_get_i64(r->json, "expires_in_minutes", false, 1, 24 * 60, &minutes, e);
    if (rc)
        return rc;
    int64_t now = now_ms(r);
    d.expires_at = now + minutes * MINUTE_MS;
    int64_t pk = 0;
    struct understanding u;
    rc = flash_demand_understand(&d, &r->arena, &u, e);
    if (!rc)
        rc = flash_buyer_signal(c, r->who.tenant_id, buyer_id, &d, now, &pk, e);
    if (rc)
        return rc;
    /* what was stored, and what the text was understood as (with its confidence) */
    return http_reply_json(
        r, 201,
        json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o}", "id", (json_int_t)pk, "buyer_id",
                  buyer_id, "text", d.text, "product", d.product, "category", d.category, "budget",
                  d.budget ? json_integer(d.budget) : json_null(), "currency",
                  d.currency ? d.currency : "TRY", "expires_at", http_json_time(d.expires_at),
                  "understood", *d.text ? understanding_json(&u) : json_null()));
}

int h_buyers_get(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    struct flash_buyer b;
    const char *id = http_req_param(r, "id");
    int rc = db(r, &c, e);
    if (!rc)
        rc = flash_store_buyer_get(c, r->who.tenant_id, id, false, &r->arena, &b, e);
    if (rc)
        return rc;
    struct flash_demand *d;
    size_t n;
    rc = flash_store_demand_of_buyer(c, r->who.tenant_id, b.pk, now_ms(r), &r->arena, &d, &n, e);
    if (rc)
        return rc;
    json_t *body = buyer_json(&b);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            arr, json_pack("{s:I, s:s, s:s, s:s, s:I, s:o}", "id", (json_int_t)d[i].pk, "text",
                           d[i].text, "product", d[i].product, "category", d[i].category, "budget",
                           (json_int_t)d[i].budget, "expires_at", http_json_time(d[i].expires_at)));
    json_object_set_new(body, "active_demand", arr);
    return http_reply_json(r, 200, body);
}

static int list_filter(struct http_req *r, struct flash_list_filter *f, struct err *e)
{
    memset(f, 0, sizeof(*f));
    int64_t limit = 0, after = 0;
    f->category = http_req_query(r, "category");
    f->district = http_req_query(r, "district");
    int rc = http_req_query_int(r, "limit", 1, FLASH_LIST_MAX, FLASH_LIST_DEFAULT, &limit, e);
    if (!rc)
        rc = http_req_query_int(r, "after", 0, INT64_MAX, 0, &after, e);
    f->limit = (int)limit;
    f->after_pk = after;
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Occurrences of `v` in the sorted array. */
static int count_of(const int64_t *sorted, size_t n, int64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    int k = 0;
    while (lo + (size_t)k < n && sorted[lo + (size_t)k] == v)
        k++;
    return k;
}

int h_buyers_list(struct http_req *r, struct err *e)
{
    struct flash_list_filter f;
    struct db_conn *c = NULL;
    struct flash_buyer *rows;
    size_t n;
    int rc = list_filter(r, &f, e);
    if (!rc)
        rc = db(r, &c, e);
    if (!rc)
        rc = flash_store_buyer_list(c, r->who.tenant_id, &f, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    /* how many unexpired wishes each buyer has (the dashboard's demand map) */
    struct flash_demand *d;
    size_t nd;
    rc = flash_store_demand_active(c, r->who.tenant_id, now_ms(r), &r->arena, &d, &nd, e);
    if (rc)
        return rc;
    int64_t *owners = arena_alloc(&r->arena, (nd + 1) * sizeof(int64_t));
    for (size_t i = 0; i < nd; i++)
        owners[i] = d[i].buyer_pk;
    qsort(owners, nd, sizeof(int64_t), cmp_i64);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *b = buyer_json(&rows[i]);
        json_object_set_new(b, "active_demand", json_integer(count_of(owners, nd, rows[i].pk)));
        json_array_append_new(arr, b);
    }
    return reply_list(r, "buyers", arr, n, f.limit, json_integer(n ? rows[n - 1].pk : 0));
}

/* ======================== sellers ======================== */

int h_sellers_register(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"id",
                                         "phone_number",
                                         "name",
                                         "category",
                                         "location",
                                         "density_status",
                                         "stock_status",
                                         "price_range",
                                         "max_discount",
                                         "capacity",
                                         "auto_approve",
                                         "opening_hours",
                                         NULL};
    static const char *const price_fields[] = {"min", "max", "currency", NULL};
    struct flash_seller s;
    memset(&s, 0, sizeof(s));
    s.stock_status = "";
    s.currency = "TRY";
    s.max_discount = 20;
    s.capacity = 10;
    s.opening_hours = "";
    int density = FLASH_DENSITY_LOW;
    int64_t max_discount = 20, capacity = 10;
    struct flash_config cfg;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = tenant_config(r, &cfg, e);
    if (!rc)
        rc = json_reject_unknown(r->json, "price_range", price_fields, e);
    if (!rc)
        rc = get_id(r->json, "id", false, &s.id, e);
    if (!rc)
        rc = get_phone(r->json, true, &s.phone, e);
    if (!rc)
        rc = json_get_strn(r->json, "name", true, FLASH_NAME_MAX, &s.name, e);
    if (!rc)
        rc = get_category(r->json, "category", true, &cfg, &s.category, e);
    if (!rc)
        rc = get_location(r->json, true, &s.loc, e);
    if (!rc)
        rc = json_get_enum(r->json, "density_status", false, flash_density_names, &density, e);
    if (!rc)
        rc = json_get_strn(r->json, "stock_status", false, 40, &s.stock_status, e);
    if (!rc)
        rc = json_get_i64(r->json, "price_range.min", false, 0, INT64_MAX / 2, &s.price_min, e);
    if (!rc)
        rc = json_get_i64(r->json, "price_range.max", false, 0, INT64_MAX / 2, &s.price_max, e);
    if (!rc)
        rc = json_get_strn(r->json, "price_range.currency", false, 3, &s.currency, e);
    if (!rc)
        rc = json_get_i64(r->json, "max_discount", false, 0, 90, &max_discount, e);
    if (!rc)
        rc = json_get_i64(r->json, "capacity", false, 1, 10000, &capacity, e);
    if (!rc)
        rc = json_get_bool(r->json, "auto_approve", false, &s.auto_approve, e);
    if (!rc)
        rc = json_get_strn(r->json, "opening_hours", false, 11, &s.opening_hours, e);
    if (rc)
        return rc;
    if (s.price_max && s.price_min > s.price_max)
        return err_set_field(e, ERR_INVALID, "price_range.min",
                             "price_range.min is above price_range.max");
    s.density = (enum flash_density)density;
    s.max_discount = (int)max_discount;
    s.capacity = (int)capacity;
    if (*s.opening_hours) {
        int h1, m1, h2, m2;
        char tail;
        if (sscanf(s.opening_hours, "%2d:%2d-%2d:%2d%c", &h1, &m1, &h2, &m2, &tail) != 4 ||
            h1 > 23 || h2 > 24 || m1 > 59 || m2 > 59 || h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0)
            return err_set_field(e, ERR_INVALID, "opening_hours",
                                 "opening_hours must be \"HH:MM-HH:MM\" (local time) or empty");
    }
    struct db_conn *c = NULL;
    bool created = false;
    rc = db(r, &c, e);
    if (!rc)
        rc = flash_seller_register(c, r->who.tenant_id, &s, now_ms(r), &r->arena, &created, e);
    struct flash_seller out;
    if (!rc)
        rc = flash_store_seller_get_pk(c, r->who.tenant_id, s.pk, &r->arena, &out, e);
    if (rc)
        return rc;
    json_t *body = seller_json(&out);
    json_object_set_new(body, "created", json_boolean(created));
    return http_reply_json(r, created ? 201 : 200, body);
}

int h_sellers_signal(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"seller_id",          "signal_type", "density_status",
                                         "stock_status",       "text",        "product",
                                         "expires_in_minutes", NULL};
    const char *seller_id = NULL;
    struct flash_supply_given g = {.signal_type = -1, .density = -1, .stock = -1};
    g.text = "";
    g.product = "";
    int64_t minutes = 60;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = get_id(r->json, "seller_id", true, &seller_id, e);
    if (!rc)
        rc = json_get_enum(r->json, "signal_type", false, flash_supply_names, &g.signal_type, e);
    if (!rc)
        rc = json_get_enum(r->json, "density_status", false, flash_density_names, &g.density, e);
    if (!rc)
        rc = json_get_enum(r->json, "stock_status", false, flash_stock_names, &g.stock, e);
    if (!rc)
        rc = json_get_strn(r->json, "text", false, FLASH_TEXT_MAX, &g.text, e);
    if (!rc)
        rc = json_get_strn(r->json, "product", false, 80, &g.product, e);
    if (!rc)
        rc = json_get_i64(r->json, "expires_in_minutes", false, 1, 24 * 60, &minutes, e);
    if (rc)
        return rc;
    int64_t now = now_ms(r);
    g.expires_at = now + minutes * MINUTE_MS;
    struct flash_supply_in s;
    struct db_conn *c = NULL;
    int64_t pk = 0;
    struct understanding u;
    rc = flash_supply_derive(&g, &r->arena, &s, &u, e);
    if (!rc)
        rc = db(r, &c, e);
    if (!rc)
        rc = flash_seller_signal(c, r->who.tenant_id, seller_id, &s, now, &pk, e);
    if (rc)
        return rc;
    return http_reply_json(
        r, 201,
        json_pack("{s:I, s:s, s:s, s:o, s:o, s:s, s:o, s:o}", "id", (json_int_t)pk, "seller_id",
                  seller_id, "signal_type", flash_supply_names[s.kind], "density_status",
                  s.has_density ? json_string(flash_density_names[s.density]) : json_null(),
                  "stock_status", s.stock_status ? json_string(s.stock_status) : json_null(),
                  "product", s.product, "expires_at", http_json_time(s.expires_at), "understood",
                  *s.text ? understanding_json(&u) : json_null()));
}

int h_sellers_get(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    struct flash_seller s;
    int rc = db(r, &c, e);
    if (!rc)
        rc = flash_store_seller_get(c, r->who.tenant_id, http_req_param(r, "id"), false, &r->arena,
                                    &s, e);
    if (rc)
        return rc;
    json_t *body = seller_json(&s);
    int64_t open_pk = 0;
    rc = flash_store_window_open_of_seller(c, r->who.tenant_id, s.pk, &open_pk, e);
    if (rc) {
        json_decref(body);
        return rc;
    }
    json_object_set_new(body, "open_window_id", open_pk ? json_integer(open_pk) : json_null());
    return http_reply_json(r, 200, body);
}

int h_sellers_statement(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    struct flash_statement st;
    int rc = db(r, &c, e);
    if (!rc)
        rc = flash_seller_statement(c, r->who.tenant_id, http_req_param(r, "id"),
                                    http_req_query(r, "month"), now_ms(r), &r->arena, &st, e);
    if (rc)
        return rc;
    json_t *windows = json_array(), *totals = json_array();
    for (size_t i = 0; i < st.n_lines; i++) {
        const struct flash_statement_line *l = &st.lines[i];
        json_array_append_new(
            windows,
            json_pack("{s:I, s:s, s:I, s:o, s:s}", "window_id", (json_int_t)l->window_pk, "title",
                      l->title ? l->title : "", "visits", (json_int_t)l->visits, "fees",
                      http_json_amount_code(l->fees, l->currency), "currency", l->currency));
    }
    int64_t visits = 0;
    for (size_t i = 0; i < st.n_totals; i++) {
        const struct flash_statement_line *l = &st.totals[i];
        visits += l->visits;
        json_array_append_new(totals, json_pack("{s:s, s:I, s:o}", "currency", l->currency,
                                                "visits", (json_int_t)l->visits, "fees",
                                                http_json_amount_code(l->fees, l->currency)));
    }
    return http_reply_json(
        r, 200,
        json_pack("{s:s, s:s, s:o, s:o, s:I, s:o, s:o}", "seller_id", st.seller_id, "month",
                  st.month, "from", http_json_time(st.from_ms), "to", http_json_time(st.to_ms),
                  "visits", (json_int_t)visits, "totals", totals, "windows", windows));
}

int h_sellers_list(struct http_req *r, struct err *e)
{
    struct flash_list_filter f;
    struct db_conn *c = NULL;
    struct flash_seller *rows;
    size_t n;
    int rc = list_filter(r, &f, e);
    if (!rc)
        rc = db(r, &c, e);
    if (!rc)
        rc = flash_store_seller_list(c, r->who.tenant_id, &f, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, seller_json(&rows[i]));
    return reply_list(r, "sellers", arr, n, f.limit, json_integer(n ? rows[n - 1].pk : 0));
}

/* ======================== campaigns ======================== */

/* Public ids from an optional array at `path` (NULL when absent), into the arena. */
static int get_id_list(struct http_req *r, const char *path, size_t max, const char *const **ids,
                       size_t *n, struct err *e)
{
    json_t *arr = NULL;
    int rc = json_get_array(r->json, path, false, &arr, e);
    if (rc || !arr)
        return rc;
    size_t k = json_array_size(arr);
    if (k < 1 || k > max)
        return err_set_field(e, ERR_INVALID, path, "%s must list 1..%zu ids", path, max);
    const char **out = arena_alloc(&r->arena, k * sizeof(*out));
    for (size_t i = 0; i < k; i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_string(v) || !flash_id_valid(json_string_value(v))) {
            char field[48];
            snprintf(field, sizeof(field), "%s[%zu]", path, i);
            return err_set_field(e, ERR_INVALID, field, "%s must be an id", field);
        }
        out[i] = json_string_value(v);
    }
    *ids = out;
    *n = k;
    return 0;
}

/*
 * The optional body of scan and generate. Scan only scores, so it takes seller_ids alone;
 * generate also takes the timing of the windows it opens.
 */
static int campaign_body(struct http_req *r, bool timing, struct flash_generate_opts *o,
                         struct err *e)
{
    static const char *const scan_fields[] = {"seller_ids", NULL};
    static const char *const gen_fields[] = {"lead_seconds", "duration_minutes", "seller_ids",
                                             NULL};
    memset(o, 0, sizeof(*o));
    if (!r->json)
        return 0;
    int rc = json_reject_unknown(r->json, "", timing ? gen_fields : scan_fields, e);
    if (!rc)
        rc = get_id_list(r, "seller_ids", FLASH_LIST_MAX, &o->seller_ids, &o->n_seller_ids, e);
    if (rc || !timing)
        return rc;
    int64_t lead = -1, minutes = 0;
    rc = json_get_i64(r->json, "lead_seconds", false, 0, FLASH_LEAD_MAX_S, &lead, e);
    if (!rc)
        rc = json_get_i64(r->json, "duration_minutes", false, 1, FLASH_WINDOW_MAX_MINUTES, &minutes,
                          e);
    o->has_lead = lead >= 0;
    o->lead_ms = lead >= 0 ? lead * 1000 : 0;
    o->minutes = (int)minutes;
    return rc;
}

int h_campaigns_scan(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    struct flash_scan_result res;
    struct flash_generate_opts o;
    memset(&o, 0, sizeof(o));
    int64_t limit = 0;
    double min_score = 0;
    /* the scores come best first: a caller may take the top `limit` or those from `min_score` */
    int rc = http_req_query_int(r, "limit", 1, INT32_MAX, INT32_MAX, &limit, e);
    if (!rc)
        rc = http_req_query_number(r, "min_score", 0, 1, 0, &min_score, e);
    if (!rc)
        rc = campaign_body(r, false, &o, e);
    if (!rc)
        rc = db(r, &c, e);
    if (!rc)
        rc = flash_scan_sellers(c, r->who.tenant_id, o.seller_ids, o.n_seller_ids, now_ms(r),
                                &r->arena, &res, e);
    if (rc)
        return rc;
    /*
     * Written straight into a buffer, like the window lists: a city's scan is thousands of rows
     * and building them as a jansson tree cost many times the scan itself. Scores, components
     * and distances carry 6 decimals.
     */
    int eligible = 0;
    for (size_t i = 0; i < res.n_scores; i++)
        eligible += res.scores[i].eligible;
    struct buf b;
    buf_init(&b, BUF_MAX_RESPONSE);
    int brc = buf_appends(&b, "{\"threshold\":");
    brc |= json_buf_fixed(&b, res.cfg.threshold, 6);
    brc |= buf_appendf(&b,
                       ",\"sellers\":%zu,\"active_demand\":%zu,\"eligible\":%d,"
                       "\"opportunity_count\":%d,\"scores\":[",
                       res.n_sellers, res.n_demand, eligible, eligible);
    int64_t written = 0;
    for (size_t i = 0; i < res.n_scores && !brc; i++) {
        const struct flash_score *s = &res.scores[i];
        const struct flash_seller *sl = &res.sellers[s->seller_idx];
        if (written >= limit || s->total < min_score)
            continue;
        brc |= buf_appends(&b, written++ ? ",{\"seller_id\":" : "{\"seller_id\":");
        brc |= json_buf_string(&b, sl->id);
        brc |= buf_appends(&b, ",\"name\":");
        brc |= json_buf_string(&b, sl->name);
        brc |= buf_appends(&b, ",\"category\":");
        brc |= json_buf_string(&b, sl->category);
        brc |= buf_appends(&b, ",\"score\":");
        brc |= json_buf_fixed(&b, s->total, 6);
        brc |= buf_appends(&b, s->eligible ? ",\"eligible\":true,\"components\":{"
                                           : ",\"eligible\":false,\"components\":{");
        for (int k = 0; k < FLASH_N_COMPONENTS; k++) {
            brc |= buf_appends(&b, k ? ",\"" : "\"");
            brc |= buf_appends(&b, flash_component_names[k]);
            brc |= buf_appends(&b, "\":");
            brc |= json_buf_fixed(&b, s->components[k], 6);
        }
        brc |= buf_appendf(&b, "},\"nearby\":%d,\"matching\":%d,\"mean_distance_m\":", s->nearby,
                           s->matching);
        brc |= json_buf_fixed(&b, s->mean_distance_m, 6);
        brc |= buf_appendf(&b, ",\"precommits\":%d}", s->precommits);
    }
    brc |= buf_appends(&b, "]}");
    return reply_buf(r, 200, &b, brc, e);
}

int h_campaigns_generate(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    struct flash_generated *g;
    size_t n;
    struct flash_generate_opts o;
    int rc = campaign_body(r, true, &o, e);
    if (!rc)
        rc = db(r, &c, e);
    if (!rc)
        rc = flash_generate_with(c, r->who.tenant_id, &o, now_ms(r), &r->arena, &g, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    int opened = 0;
    for (size_t i = 0; i < n; i++) {
        bool fresh = g[i].reason[0] == '\0';
        opened += fresh;
        json_array_append_new(
            arr,
            json_pack("{s:s, s:o, s:s, s:s, s:f}", "seller_id", g[i].seller_id, "window_id",
                      g[i].window_pk ? json_integer(g[i].window_pk) : json_null(), "status",
                      fresh ? g[i].status : "skipped", "reason", g[i].reason, "score", g[i].score));
    }
    return http_reply_json(
        r, 200,
        json_pack("{s:i, s:i, s:o}", "opened", opened, "created_count", opened, "windows", arr));
}

int h_campaigns_config_get(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    struct flash_config cfg;
    int rc = db(r, &c, e);
    if (!rc)
        rc = flash_store_config_get(c, r->who.tenant_id, &cfg, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, flash_config_to_json(&cfg));
}

/* PUT merges the given fields over the current configuration, then validates the whole. */
int h_campaigns_config_put(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    struct flash_config cfg;
    int rc = db(r, &c, e);
    if (!rc)
        rc = flash_store_config_get(c, r->who.tenant_id, &cfg, e);
    if (!rc)
        rc = flash_config_merge(&cfg, r->json, e);
    if (!rc)
        rc = flash_store_config_put(c, r->who.tenant_id, &cfg, now_ms(r), e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, flash_config_to_json(&cfg));
}

/* What the learning policy has learned, per seller, category and discount. */
int h_campaigns_learning(struct http_req *r, struct err *e)
{
    struct page p;
    struct db_conn *c = NULL;
    struct flash_config cfg;
    double prior = 0;
    int64_t offers = 0;
    struct flash_learning_row *rows;
    size_t n;
    int rc = http_req_page(r, 100, 500, &p, e);
    if (!rc)
        rc = db(r, &c, e);
    if (!rc)
        rc = flash_store_config_get(c, r->who.tenant_id, &cfg, e);
    if (!rc)
        rc = flash_learning_prior(c, r->who.tenant_id, &prior, &offers, e);
    if (!rc)
        rc = flash_learning_list(c, r->who.tenant_id, &p, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct flash_learning_row *x = &rows[i];
        double mean = flash_learning_mean(prior, x->offers, x->visits);
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:i, s:I, s:I, s:f, s:f, s:o}", "seller_id", x->seller_id,
                           "category", x->category, "discount", x->discount, "offers",
                           (json_int_t)x->offers, "visits", (json_int_t)x->visits, "posterior_mean",
                           round(mean * 1e4) / 1e4, "expected_value",
                           round(mean * (1.0 - x->discount / 100.0) * 1e4) / 1e4, "updated_at",
                           http_json_time(x->updated_at)));
    }
    json_t *body = http_page_body("arms", arr, &p, n, n ? rows[n - 1].pk : 0);
    static const char *const modes[] = {"off", "explore", "exploit"};
    json_object_set_new(
        body, "mode",
        json_string(modes[cfg.learning >= 0 && cfg.learning <= 2 ? cfg.learning : 0]));
    json_object_set_new(body, "prior",
                        json_pack("{s:f, s:I, s:f}", "visit_rate", round(prior * 1e4) / 1e4,
                                  "offers", (json_int_t)offers, "weight",
                                  FLASH_LEARNING_PRIOR_WEIGHT));
    return http_reply_json(r, 200, body);
}

/* ======================== flash windows ======================== */

/* The body of a window list into *b (initialised here); nonzero `*grew` when it did not fit. */
static int window_list_body(struct http_req *r, struct db_conn *c, struct flash_window_filter *f,
                            struct buf *b, int *grew, struct err *e)
{
    struct flash_window *rows;
    size_t n;
    int rc = flash_store_window_list(c, r->who.tenant_id, f, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    buf_init(b, BUF_MAX_RESPONSE);
    int brc = buf_appends(b, "{\"windows\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            brc |= buf_append(b, ",", 1);
        brc |= put_window(b, &rows[i]);
        brc |= buf_append(b, "}", 1);
    }
    if (n == (size_t)f->limit && n)
        brc |= buf_appendf(b, "],\"next_after\":%lld}", (long long)rows[n - 1].pk);
    else
        brc |= buf_appends(b, "],\"next_after\":null}");
    *grew = brc;
    return 0;
}

static int window_list(struct http_req *r, struct flash_window_filter *f, struct err *e)
{
    struct db_conn *c = NULL;
    struct buf b;
    int grew = 0;
    int rc = db(r, &c, e);
    if (!rc)
        rc = window_list_body(r, c, f, &b, &grew, e);
    return rc ? rc : reply_buf(r, 200, &b, grew, e);
}

static int window_filter_paging(struct http_req *r, struct flash_window_filter *f,
                                int64_t default_limit, struct err *e)
{
    int64_t limit = 0, after = 0;
    int rc = http_req_query_int(r, "limit", 1, FLASH_LIST_MAX, default_limit, &limit, e);
    if (!rc)
        rc = http_req_query_int(r, "after", 0, INT64_MAX, 0, &after, e);
    f->limit = (int)limit;
    f->after_pk = after;
    return rc;
}

/* Whether an If-None-Match value names `etag` (a list of entity tags, or "*"). */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    if (strcmp(inm, "*") == 0)
        return true;
    size_t n = strlen(etag);
    for (const char *p = inm; (p = strstr(p, etag)) != NULL; p += n) {
        char before = p == inm ? ',' : p[-1];
        char after = p[n];
        bool start = before == ',' || before == ' ' || before == '/'; /* W/"..." compares weakly */
        if (start && (after == '\0' || after == ',' || after == ' '))
            return true;
    }
    return false;
}

/*
 * Clients of the seed expect every active window at once (a map shows them all); dashboards
 * poll it. The answer carries an ETag of the tenant's window version (and the page asked for):
 * If-None-Match with it gets a 304 without a body, and the full list is built once per version
 * and then served from the body cache. A client that accepts gzip gets the list gzipped (a
 * city's list shrinks about twentyfold), its own ETag, and a compressed body cached the same way.
 */
int h_windows_active(struct http_req *r, struct err *e)
{
    struct flash_window_filter f = {.status = FLASH_WINDOW_ACTIVE};
    int rc = window_filter_paging(r, &f, FLASH_LIST_MAX, e);
    struct db_conn *c = NULL;
    int64_t version = 0;
    if (!rc)
        rc = db(r, &c, e);
    if (!rc)
        rc = flash_store_version(c, r->who.tenant_id, &version, e);
    if (rc)
        return rc;
    bool gz = gzip_accepted(http_req_header(r, "Accept-Encoding"));
    char etag[96];
    snprintf(etag, sizeof(etag), "\"w%lld-%d-%lld%s\"", (long long)version, f.limit,
             (long long)f.after_pk, gz ? "-gz" : "");
    http_reply_header(r, "ETag", etag);
    http_reply_header(r, "Cache-Control", "no-cache");
    http_reply_header(r, "Vary", "Accept-Encoding");
    if (etag_matches(http_req_header(r, "If-None-Match"), etag))
        return http_reply_bytes(r, 304, "application/json", "", 0);
    bool whole = f.limit == FLASH_LIST_MAX && f.after_pk == 0;
    const char *name = gz ? "windows.active.gz" : "windows.active";
    char *body;
    size_t len;
    if (whole && body_cache_get(r->who.tenant_id, name, version, &body, &len)) {
        if (gz)
            http_reply_header(r, "Content-Encoding", "gzip");
        http_reply_bytes(r, 200, "application/json", body, len);
        free(body);
        return 0;
    }
    /* the plain list: cached (a gzip client after a plain one), or built and cached */
    char *cached = NULL;
    struct buf b;
    buf_init(&b, BUF_MAX_RESPONSE);
    if (!(gz && whole &&
          body_cache_get(r->who.tenant_id, "windows.active", version, &cached, &len))) {
        int grew = 0;
        rc = window_list_body(r, c, &f, &b, &grew, e);
        if (rc) {
            buf_release(&b);
            return rc;
        }
        if (whole && !grew)
            body_cache_put(r->who.tenant_id, "windows.active", version, b.data, b.len);
        if (grew || !gz)
            return reply_buf(r, 200, &b, grew, e);
    }
    struct buf z;
    buf_init(&z, BUF_MAX_RESPONSE);
    rc = cached ? gzip_compress(cached, len, &z, e) : gzip_compress(b.data, b.len, &z, e);
    free(cached);
    buf_release(&b);
    if (!rc && whole)
        body_cache_put(r->who.tenant_id, name, version, z.data, z.len);
    if (!rc) {
        http_reply_header(r, "Content-Encoding", "gzip");
        http_reply_bytes(r, 200, "application/json", z.data, z.len);
    }
    buf_release(&z);
    return rc;
}

int h_windows_list(struct http_req *r, struct err *e)
{
    struct flash_window_filter f = {.status = -1};
    int rc = window_filter_paging(r, &f, FLASH_LIST_DEFAULT, e);
    const char *status = http_req_query(r, "status");
    if (!rc && status && flash_enum_parse(flash_status_names, status, &f.status))
        return err_set_field(e, ERR_INVALID, "status",
                             "status must be one of: PROPOSED, SCHEDULED, ACTIVE, EXPIRED, "
                             "CANCELLED");
    struct db_conn *c = NULL;
    const char *seller = http_req_query(r, "seller_id");
    const char *buyer = http_req_query(r, "buyer_id");
    if (!rc && (seller || buyer))
        rc = db(r, &c, e);
    if (!rc && seller) {
        struct flash_seller s;
        rc = flash_store_seller_get(c, r->who.tenant_id, seller, false, &r->arena, &s, e);
        f.seller_pk = s.pk;
    }
    if (!rc && buyer) {
        struct flash_buyer b;
        rc = flash_store_buyer_get(c, r->who.tenant_id, buyer, false, &r->arena, &b, e);
        f.buyer_pk = b.pk;
    }
    if (rc == ERR_NOT_FOUND) {
        /* an unknown seller or buyer has no windows: an empty page, not an error */
        err_init(e);
        return http_reply_json(r, 200, json_pack("{s:[], s:n}", "windows", "next_after"));
    }
    return rc ? rc : window_list(r, &f, e);
}

static int reply_window_with(struct http_req *r, struct db_conn *c, int64_t pk, bool detail,
                             int status, const char *warnings_json, struct err *e)
{
    struct flash_window w;
    int rc = flash_store_window_get(c, r->who.tenant_id, pk, &r->arena, &w, e);
    struct flash_window_target *t = NULL;
    size_t n = 0;
    if (!rc && detail)
        rc = flash_store_window_targets(c, r->who.tenant_id, pk, &r->arena, &t, &n, e);
    if (rc)
        return rc;
    struct buf b;
    buf_init(&b, BUF_MAX_RESPONSE);
    rc = put_window(&b, &w);
    if (detail) {
        rc |= buf_appends(&b, ",\"buyer_ids\":[");
        for (size_t i = 0; i < n; i++) {
            rc |= buf_appends(&b, i ? "," : "");
            rc |= json_buf_string(&b, t[i].buyer_id);
        }
        rc |= buf_appends(&b, "],\"targets\":[");
        for (size_t i = 0; i < n; i++) {
            rc |= buf_appends(&b, i ? ",{\"buyer_id\":" : "{\"buyer_id\":");
            rc |= json_buf_string(&b, t[i].buyer_id);
            rc |= buf_appendf(&b, ",\"distance_m\":%ld,\"discount\":%d}", lround(t[i].distance_m),
                              t[i].discount);
        }
        /* the trace and analytics are JSON this server wrote */
        rc |= buf_appendf(&b, "],\"decision_trace\":%s,\"analytics\":%s",
                          w.trace_json && *w.trace_json ? w.trace_json : "null",
                          w.analytics_json && *w.analytics_json ? w.analytics_json : "null");
    }
    /* the warnings are JSON the flash service wrote */
    if (warnings_json)
        rc |= buf_appendf(&b, ",\"warnings\":%s", warnings_json);
    rc |= buf_append(&b, "}", 1);
    return reply_buf(r, status, &b, rc, e);
}

static int reply_window(struct http_req *r, struct db_conn *c, int64_t pk, bool detail, int status,
                        struct err *e)
{
    return reply_window_with(r, c, pk, detail, status, NULL, e);
}

/* A created window with the service's warnings ("minimum above the expected arrivals"). */
static int reply_window_warn(struct http_req *r, struct db_conn *c, int64_t pk, int status,
                             const char *warnings_json, struct err *e)
{
    return reply_window_with(r, c, pk, true, status, warnings_json ? warnings_json : "[]", e);
}

int h_windows_get(struct http_req *r, struct err *e)
{
    int64_t pk = 0;
    struct db_conn *c = NULL;
    int rc = http_req_param_id(r, "id", &pk, e);
    if (!rc)
        rc = db(r, &c, e);
    return rc ? rc : reply_window(r, c, pk, true, 200, e);
}

int h_windows_create(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {
        "seller_id",        "title",      "description", "discount_percent", "static_price",
        "bundle_info",      "start_time", "end_time",    "duration_minutes", "capacity",
        "min_participants", "buyer_ids",  "product",     "prepay",           NULL};
    struct flash_manual m;
    memset(&m, 0, sizeof(m));
    m.title = "";
    m.description = "";
    m.product = "";
    m.prepay = -1;
    bool prepay = false;
    int64_t disc = 0, minutes = 0, capacity = 0, minp = 0;
    const char *start = NULL, *end = NULL;
    json_t *bundle = NULL, *buyers = NULL;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = get_id(r->json, "seller_id", true, &m.seller_id, e);
    if (!rc)
        rc = json_get_strn(r->json, "title", false, 150, &m.title, e);
    if (!rc)
        rc = json_get_strn(r->json, "description", false, 390, &m.description, e);
    if (!rc)
        rc = json_get_strn(r->json, "product", false, 60, &m.product, e);
    if (!rc)
        rc = json_get_i64(r->json, "discount_percent", false, 1, 90, &disc, e);
    if (!rc)
        rc = json_get_i64(r->json, "static_price", false, 1, INT64_MAX / 2, &m.static_price, e);
    if (!rc)
        rc = json_get_object(r->json, "bundle_info", false, &bundle, e);
    if (!rc)
        rc = json_get_strn(r->json, "start_time", false, 40, &start, e);
    if (!rc)
        rc = json_get_strn(r->json, "end_time", false, 40, &end, e);
    if (!rc)
        rc = json_get_i64(r->json, "duration_minutes", false, 1, FLASH_WINDOW_MAX_MINUTES, &minutes,
                          e);
    if (!rc)
        rc = json_get_i64(r->json, "capacity", false, 1, 10000, &capacity, e);
    if (!rc)
        rc = json_get_i64(r->json, "min_participants", false, 1, 10000, &minp, e);
    if (!rc)
        rc = json_get_array(r->json, "buyer_ids", false, &buyers, e);
    if (!rc)
        rc = json_get_bool(r->json, "prepay", false, &prepay, e);
    if (!rc && json_is_boolean(json_object_get(r->json, "prepay")))
        m.prepay = prepay ? 1 : 0;
    if (rc)
        return rc;
    if (!disc && !m.static_price && !bundle)
        return err_set_field(e, ERR_INVALID, "discount_percent",
                             "a window needs an advantage: discount_percent, static_price or "
                             "bundle_info");
    if (start && clock_parse_iso(start, &m.start_ms))
        return err_set_field(e, ERR_INVALID, "start_time",
                             "start_time must be an ISO-8601 time like 2026-11-21T14:00:00Z");
    if (end && clock_parse_iso(end, &m.end_ms))
        return err_set_field(e, ERR_INVALID, "end_time",
                             "end_time must be an ISO-8601 time like 2026-11-21T14:10:00Z");
    m.discount_percent = (int)disc;
    m.minutes = (int)minutes;
    m.capacity = (int)capacity;
    m.min_participants = (int)minp;
    if (bundle) {
        char *text = json_dump_compact(bundle);
        m.bundle_info = arena_strdup(&r->arena, text);
        free(text);
    }
    if (buyers) {
        size_t n = json_array_size(buyers);
        if (n > 1000)
            return err_set_field(e, ERR_INVALID, "buyer_ids", "at most 1000 buyer_ids");
        m.buyer_ids = arena_alloc(&r->arena, (n + 1) * sizeof(char *));
        for (size_t i = 0; i < n; i++) {
            json_t *v = json_array_get(buyers, i);
            if (!json_is_string(v) || !flash_id_valid(json_string_value(v))) {
                char field[32];
                snprintf(field, sizeof(field), "buyer_ids[%zu]", i);
                return err_set_field(e, ERR_INVALID, field, "%s must be a buyer id", field);
            }
            m.buyer_ids[i] = json_string_value(v);
        }
        m.n_buyer_ids = n;
    }
    struct db_conn *c = NULL;
    int64_t pk = 0;
    rc = db(r, &c, e);
    if (!rc)
        rc = flash_window_create(c, r->who.tenant_id, &m, now_ms(r), &r->arena, &pk, e);
    if (rc)
        return rc;
    return reply_window_warn(r, c, pk, 201, m.warnings_json, e);
}

/* Shared shape of the actions: window id from the path, then the action. */
static int action_target(struct http_req *r, int64_t *pk, struct db_conn **c, struct err *e)
{
    int rc = http_req_param_id(r, "id", pk, e);
    if (!rc)
        rc = db(r, c, e);
    return rc;
}

static int buyer_action_body(struct http_req *r, const char **buyer_id, struct err *e)
{
    static const char *const fields[] = {"buyer_id", NULL};
    int rc = json_reject_unknown(r->json, "", fields, e);
    return rc ? rc : get_id(r->json, "buyer_id", true, buyer_id, e);
}

int h_windows_precommit(struct http_req *r, struct err *e)
{
    int64_t pk = 0;
    struct db_conn *c = NULL;
    const char *buyer_id = NULL;
    bool created = false;
    int rc = buyer_action_body(r, &buyer_id, e);
    if (!rc)
        rc = action_target(r, &pk, &c, e);
    if (!rc)
        rc = flash_precommit(c, r->who.tenant_id, pk, buyer_id, now_ms(r), &created, e);
    if (rc)
        return rc;
    return http_reply_json(r, created ? 201 : 200,
                           json_pack("{s:I, s:s, s:b, s:b}", "window_id", (json_int_t)pk,
                                     "buyer_id", buyer_id, "committed", 1, "created", created));
}

int h_windows_cancel(struct http_req *r, struct err *e)
{
    int64_t pk = 0;
    struct db_conn *c = NULL;
    const char *buyer_id = NULL;
    int rc = buyer_action_body(r, &buyer_id, e);
    if (!rc)
        rc = action_target(r, &pk, &c, e);
    if (!rc)
        rc = flash_precommit_cancel(c, r->who.tenant_id, pk, buyer_id, now_ms(r), e);
    if (rc)
        return rc;
    return http_reply_json(r, 200,
                           json_pack("{s:I, s:s, s:b}", "window_id", (json_int_t)pk, "buyer_id",
                                     buyer_id, "committed", 0));
}

int h_windows_join(struct http_req *r, struct err *e)
{
    int64_t pk = 0;
    struct db_conn *c = NULL;
    const char *buyer_id = NULL;
    struct flash_joined j;
    int rc = buyer_action_body(r, &buyer_id, e);
    if (!rc)
        rc = action_target(r, &pk, &c, e);
    if (!rc)
        rc = flash_join_order(c, r->who.tenant_id, pk, buyer_id, now_ms(r), &r->arena, &j, e);
    if (rc)
        return rc;
    json_t *body =
        json_pack("{s:I, s:s, s:o, s:b}", "window_id", (json_int_t)pk, "buyer_id", buyer_id, "code",
                  j.code ? json_string(j.code) : json_null(), "created", j.created);
    if (j.order_id) {
        char amount[MONEY_TEXT_MAX] = "";
        const struct money_currency *cur = NULL;
        struct err me;
        err_init(&me);
        if (!money_currency_find(j.currency, &cur, &me))
            (void)money_format(&(struct money){j.amount, cur}, amount, sizeof(amount), &me);
        json_object_set_new(
            body, "order",
            json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", j.order_id, "amount", amount, "currency",
                      j.currency, "status", j.prepay_status, "pay",
                      arena_printf(&r->arena, "/api/orders/%s/payments", j.order_id)));
    }
    return http_reply_json(r, j.created ? 201 : 200, body);
}

int h_windows_redeem(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"code", "amount", NULL};
    int64_t pk = 0;
    struct db_conn *c = NULL;
    const char *code = NULL, *amount = NULL;
    struct flash_redemption out;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = json_get_strn(r->json, "code", true, 16, &code, e);
    if (!rc)
        rc = json_get_strn(r->json, "amount", false, 32, &amount, e);
    if (!rc)
        rc = action_target(r, &pk, &c, e);
    if (!rc)
        rc = flash_redeem_visit(c, r->who.tenant_id, pk, code, amount, now_ms(r), &r->arena, &out,
                                e);
    if (rc)
        return rc;
    return http_reply_json(r, 200,
                           json_pack("{s:I, s:s, s:s, s:b, s:s, s:s}", "window_id", (json_int_t)pk,
                                     "code", code, "buyer_id", out.buyer_id, "redeemed", 1,
                                     "customer_id", out.customer_id, "order_id", out.order_id));
}

int h_windows_approve(struct http_req *r, struct err *e)
{
    int64_t pk = 0;
    struct db_conn *c = NULL;
    int rc = action_target(r, &pk, &c, e);
    if (!rc)
        rc = flash_seller_approve(c, r->who.tenant_id, pk, now_ms(r), e);
    return rc ? rc : reply_window(r, c, pk, false, 200, e);
}

int h_windows_reject(struct http_req *r, struct err *e)
{
    int64_t pk = 0;
    struct db_conn *c = NULL;
    int rc = action_target(r, &pk, &c, e);
    if (!rc)
        rc = flash_seller_reject(c, r->who.tenant_id, pk, now_ms(r), e);
    return rc ? rc : reply_window(r, c, pk, false, 200, e);
}

int h_windows_seller_cancel(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"reason", NULL};
    int64_t pk = 0;
    struct db_conn *c = NULL;
    const char *reason = "";
    int rc = 0;
    if (r->json) {
        rc = json_reject_unknown(r->json, "", fields, e);
        if (!rc)
            rc = json_get_strn(r->json, "reason", false, 200, &reason, e);
    }
    if (!rc)
        rc = action_target(r, &pk, &c, e);
    if (!rc)
        rc = flash_seller_cancel(c, r->who.tenant_id, pk, reason, now_ms(r), e);
    return rc ? rc : reply_window(r, c, pk, false, 200, e);
}
