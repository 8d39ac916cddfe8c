/* SPDX-License-Identifier: MIT */
/*
 * The commerce SQL (commerce_store.h) through db.h and the store toolkit only. Public ids are
 * random; lists page by the internal key. Tests: tests/unit/domain/test_commerce_store.c.
 */
#include "domain/commerce/commerce_store.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIME_CHARS       7 /* base62 milliseconds: sortable until the year 2081 */
#define RANDOM_ID_LEN    6 /* random bytes after them: 8 url-safe characters */
#define PUBLIC_ID_MAX    (4 + TIME_CHARS + SEC_RANDOM_ID_SIZE(0, RANDOM_ID_LEN))
#define ITEMS_PER_INSERT 16 /* item rows per INSERT statement */

/*
 * "ord_" + the creation time in base62 (fixed width, so ids sort by time) + 8 random url-safe
 * characters. New ids land at the end of the public_id index instead of at random places in
 * it, which keeps bulk imports of millions of rows from touching the whole index.
 */
static int new_public_id(const char *prefix, int64_t now_ms, char out[PUBLIC_ID_MAX], struct err *e)
{
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    size_t n = strlen(prefix);
    if (n > 4)
        return err_set(e, ERR_INTERNAL, "public id prefix %s too long", prefix);
    memcpy(out, prefix, n);
    uint64_t t = now_ms > 0 ? (uint64_t)now_ms : 0;
    for (int i = TIME_CHARS - 1; i >= 0; i--) {
        out[n + (size_t)i] = digits[t % 62];
        t /= 62;
    }
    return sec_random_id(out + n + TIME_CHARS, PUBLIC_ID_MAX - n - TIME_CHARS, "", RANDOM_ID_LEN,
                         e);
}

static void bind_opt(struct db_stmt *s, int idx, const char *v)
{
    if (v)
        db_bind_text(s, idx, v);
    else
        db_bind_null(s, idx);
}

static void bind_opt_pk(struct db_stmt *s, int idx, int64_t pk)
{
    if (pk)
        db_bind_i64(s, idx, pk);
    else
        db_bind_null(s, idx);
}

/* The pk of the tenant's row with public id `id`, or ERR_NOT_FOUND naming `field`. */
static int resolve(struct db_conn *c, const char *sql, int64_t tenant, const char *id,
                   const char *field, int64_t *pk, struct err *e)
{
    int rc = db_find_pk(c, sql, tenant, id, pk, e);
    if (!rc && !*pk)
        rc = err_set_field(e, ERR_NOT_FOUND, field, "no %s %s in this tenant", field, id);
    return rc;
}

/* An insert's constraint failure: with the references checked, the external id is taken. */
static int insert_error(int rc, const char *what, struct err *e)
{
    if (rc == ERR_CONFLICT)
        return err_replace(e, ERR_CONFLICT, "external_id",
                           "a %s with this source and external_id already exists", what);
    return rc;
}

/* Step an INSERT … RETURNING pk once. */
static int insert_returning(struct db_stmt *s, int64_t *pk, struct err *e)
{
    bool found = false;
    int rc = db_one_i64(s, pk, &found, e);
    if (!rc && !found)
        rc = err_set(e, ERR_INTERNAL, "insert returned no row");
    return rc;
}

static int get_one(struct db_conn *c, const char *sql, int64_t tenant, const char *id,
                   db_row_fn *read, struct arena *a, void *out, const char *what, struct err *e)
{
    bool found = false;
    int rc = db_get_one(c, sql, tenant, id, 0, read, a, out, &found, e);
    if (!rc && !found)
        rc = err_set_field(e, ERR_NOT_FOUND, "id", "no %s %s", what, id);
    return rc;
}

static int list_page(struct db_conn *c, const char *sql, int64_t tenant, int64_t filter_pk,
                     const struct page *p, db_row_fn *read, size_t size, struct arena *a,
                     void **rows, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    int i = 1;
    db_bind_i64(s, i++, tenant);
    if (filter_pk >= 0) {
        db_bind_i64(s, i++, filter_pk);
        db_bind_i64(s, i++, filter_pk);
    }
    db_bind_i64(s, i++, p->after);
    db_bind_i64(s, i++, db_page_limit(p->limit, COMMERCE_LIST_DEFAULT, COMMERCE_LIST_MAX));
    return db_list(s, read, size, a, rows, n, e);
}

/* ======================== cities and climate ======================== */

#define CITY_COLS                                                                                  \
    "city_id, public_id, source, external_id, country_code, name, region_code, latitude, "         \
    "longitude, created_at"

static void read_city(struct db_stmt *s, struct arena *a, void *out)
{
    struct commerce_city *ci = out;
    ci->pk = db_col_i64(s, 0);
    ci->id = db_col_str(s, 1, a);
    ci->source = db_col_str(s, 2, a);
    ci->external_id = db_col_dup(s, 3, a);
    ci->country_code = db_col_str(s, 4, a);
    ci->name = db_col_str(s, 5, a);
    ci->region_code = db_col_dup(s, 6, a);
    ci->has_location = !db_col_is_null(s, 7) && !db_col_is_null(s, 8);
    ci->latitude = db_col_f64(s, 7);
    ci->longitude = db_col_f64(s, 8);
    ci->created_at = db_col_time(s, 9);
}

int commerce_store_city_create(struct db_conn *c, int64_t tenant, struct commerce_city *city,
                               int64_t now_ms, struct arena *a, struct err *e)
{
    int rc = commerce_source_check(city->source, "source", e);
    if (!rc)
        rc = commerce_text_check(city->external_id, "external_id", false, e);
    if (!rc)
        rc = commerce_country_check(city->country_code, "country_code", e);
    if (!rc)
        rc = commerce_text_check(city->name, "name", true, e);
    if (!rc)
        rc = commerce_text_check(city->region_code, "region_code", false, e);
    if (!rc && city->has_location && !(city->latitude >= -90 && city->latitude <= 90))
        rc = err_set_field(e, ERR_INVALID, "latitude", "latitude must be in -90..90");
    if (!rc && city->has_location && !(city->longitude >= -180 && city->longitude <= 180))
        rc = err_set_field(e, ERR_INVALID, "longitude", "longitude must be in -180..180");
    char id[PUBLIC_ID_MAX];
    if (!rc)
        rc = new_public_id("cty_", now_ms, id, e);
    struct db_stmt *s;
    if (!rc)
        rc = db_prepare(c, &s,
                        "INSERT INTO city (tenant_id, public_id, source, external_id, "
                        "country_code, name, region_code, latitude, longitude, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING city_id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, id);
    db_bind_text(s, 3, city->source);
    bind_opt(s, 4, city->external_id);
    db_bind_text(s, 5, city->country_code);
    db_bind_text(s, 6, city->name);
    bind_opt(s, 7, city->region_code);
    if (city->has_location) {
        db_bind_f64(s, 8, city->latitude);
        db_bind_f64(s, 9, city->longitude);
    } else {
        db_bind_null(s, 8);
        db_bind_null(s, 9);
    }
    db_bind_time(s, 10, now_ms);
    rc = insert_error(insert_returning(s, &city->pk, e), "city", e);
    if (rc)
        return rc;
    city->id = arena_strdup(a, id);
    city->created_at = now_ms;
    return 0;
}

int commerce_store_city_get(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                            struct commerce_city *out, struct err *e)
{
    return get_one(c, "SELECT " CITY_COLS " FROM city WHERE tenant_id = ? AND public_id = ?",
                   tenant, id, read_city, a, out, "city", e);
}

int commerce_store_city_list(struct db_conn *c, int64_t tenant, const struct page *p,
                             struct arena *a, struct commerce_city **rows, size_t *n, struct err *e)
{
    return list_page(c,
                     "SELECT " CITY_COLS " FROM city WHERE tenant_id = ? AND city_id > ? "
                     "ORDER BY city_id LIMIT ?",
                     tenant, -1, p, read_city, sizeof(**rows), a, (void **)rows, n, e);
}

static void bind_opt_f64(struct db_stmt *s, int idx, bool has, double v)
{
    if (has)
        db_bind_f64(s, idx, v);
    else
        db_bind_null(s, idx);
}

int commerce_store_climate_put(struct db_conn *c, int64_t tenant, int64_t city_pk,
                               const struct commerce_climate *months, size_t n, struct err *e)
{
    int rc = commerce_climate_check(months, n, e);
    if (rc)
        return rc;
    bool own;
    rc = db_begin_own(c, &own, e);
    struct db_stmt *s;
    if (!rc)
        rc = db_prepare(c, &s,
                        "DELETE FROM geo_climate_monthly WHERE tenant_id = ? AND city_id = ?", e);
    if (!rc) {
        db_bind_i64(s, 1, tenant);
        db_bind_i64(s, 2, city_pk);
        rc = db_exec_write(s, NULL, e);
    }
    for (size_t i = 0; !rc && i < n; i++) {
        rc = db_prepare(c, &s,
                        "INSERT INTO geo_climate_monthly (tenant_id, city_id, month, avg_temp_c, "
                        "rainfall_mm, humidity_pct, season_tag) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        e);
        if (rc)
            break;
        db_bind_i64(s, 1, tenant);
        db_bind_i64(s, 2, city_pk);
        db_bind_i64(s, 3, months[i].month);
        bind_opt_f64(s, 4, months[i].has_avg_temp_c, months[i].avg_temp_c);
        bind_opt_f64(s, 5, months[i].has_rainfall_mm, months[i].rainfall_mm);
        bind_opt_f64(s, 6, months[i].has_humidity_pct, months[i].humidity_pct);
        bind_opt(s, 7, months[i].season_tag);
        rc = db_exec_write(s, NULL, e);
    }
    return db_end_own(c, own, rc, e);
}

static void read_climate(struct db_stmt *s, struct arena *a, void *out)
{
    struct commerce_climate *m = out;
    m->month = (int)db_col_i64(s, 0);
    m->has_avg_temp_c = !db_col_is_null(s, 1);
    m->avg_temp_c = db_col_f64(s, 1);
    m->has_rainfall_mm = !db_col_is_null(s, 2);
    m->rainfall_mm = db_col_f64(s, 2);
    m->has_humidity_pct = !db_col_is_null(s, 3);
    m->humidity_pct = db_col_f64(s, 3);
    m->season_tag = db_col_dup(s, 4, a);
}

int commerce_store_climate_get(struct db_conn *c, int64_t tenant, int64_t city_pk, struct arena *a,
                               struct commerce_climate **rows, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT month, avg_temp_c, rainfall_mm, humidity_pct, season_tag "
                        "FROM geo_climate_monthly WHERE tenant_id = ? AND city_id = ? "
                        "ORDER BY month",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, city_pk);
    return db_list(s, read_climate, sizeof(**rows), a, (void **)rows, n, e);
}

/* ======================== customers ======================== */

#define CUSTOMER_COLS                                                                              \
    "cu.customer_id, cu.public_id, cu.source, cu.external_id, cu.email, cu.phone, "                \
    "cu.birth_date, cu.gender, ci.public_id, cu.city_id, cu.is_active, cu.created_at, "            \
    "cu.updated_at, cu.name FROM customer cu LEFT JOIN city ci ON ci.city_id = cu.city_id "

static void read_customer(struct db_stmt *s, struct arena *a, void *out)
{
    struct commerce_customer *cu = out;
    cu->pk = db_col_i64(s, 0);
    cu->id = db_col_str(s, 1, a);
    cu->source = db_col_str(s, 2, a);
    cu->external_id = db_col_dup(s, 3, a);
    cu->email = db_col_dup(s, 4, a);
    cu->phone = db_col_dup(s, 5, a);
    cu->birth_date = db_col_dup(s, 6, a);
    cu->gender = db_col_dup(s, 7, a);
    cu->city_id = db_col_dup(s, 8, a);
    cu->city_pk = db_col_is_null(s, 9) ? 0 : db_col_i64(s, 9);
    cu->is_active = db_col_bool(s, 10);
    cu->created_at = db_col_time(s, 11);
    cu->updated_at = db_col_time(s, 12);
    cu->name = db_col_dup(s, 13, a);
}

static int customer_insert(struct db_conn *c, int64_t tenant, const struct commerce_customer *cu,
                           int64_t now_ms, char id[PUBLIC_ID_MAX], int64_t *pk, struct err *e)
{
    int rc = new_public_id("cus_", now_ms, id, e);
    struct db_stmt *s;
    if (!rc)
        rc = db_prepare(
            c, &s,
            "INSERT INTO customer (tenant_id, public_id, source, external_id, email, "
            "phone, birth_date, gender, city_id, is_active, created_at, updated_at, name) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING customer_id",
            e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, id);
    db_bind_text(s, 3, cu->source);
    bind_opt(s, 4, cu->external_id);
    bind_opt(s, 5, cu->email);
    bind_opt(s, 6, cu->phone);
    bind_opt(s, 7, cu->birth_date);
    bind_opt(s, 8, cu->gender);
    bind_opt_pk(s, 9, cu->city_pk);
    db_bind_bool(s, 10, cu->is_active);
    db_bind_time(s, 11, now_ms);
    db_bind_time(s, 12, now_ms);
    bind_opt(s, 13, cu->name);
    return insert_returning(s, pk, e);
}

int commerce_store_customer_create(struct db_conn *c, int64_t tenant, struct commerce_customer *cu,
                                   int64_t now_ms, struct arena *a, struct err *e)
{
    int rc = commerce_customer_check(cu, e);
    if (!rc && cu->city_id)
        rc = resolve(c, "SELECT city_id FROM city WHERE tenant_id = ? AND public_id = ?", tenant,
                     cu->city_id, "city_id", &cu->city_pk, e);
    char id[PUBLIC_ID_MAX];
    if (!rc)
        rc = insert_error(customer_insert(c, tenant, cu, now_ms, id, &cu->pk, e), "customer", e);
    if (rc)
        return rc;
    cu->id = arena_strdup(a, id);
    cu->created_at = cu->updated_at = now_ms;
    return 0;
}

int commerce_store_customer_get(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                                struct commerce_customer *out, struct err *e)
{
    return get_one(c, "SELECT " CUSTOMER_COLS "WHERE cu.tenant_id = ? AND cu.public_id = ?", tenant,
                   id, read_customer, a, out, "customer", e);
}

int commerce_store_customer_list(struct db_conn *c, int64_t tenant, const struct page *p,
                                 struct arena *a, struct commerce_customer **rows, size_t *n,
                                 struct err *e)
{
    return list_page(c,
                     "SELECT " CUSTOMER_COLS "WHERE cu.tenant_id = ? AND cu.customer_id > ? "
                     "ORDER BY cu.customer_id LIMIT ?",
                     tenant, -1, p, read_customer, sizeof(**rows), a, (void **)rows, n, e);
}

int commerce_store_customer_search(struct db_conn *c, int64_t tenant, const char *q,
                                   const struct page *p, struct arena *a,
                                   struct commerce_customer **rows, size_t *n, struct err *e)
{
    /* the text as a LIKE pattern: its own %, _ and \ escaped, lower case for ASCII */
    size_t len = strlen(q);
    char *pat = arena_alloc(a, 2 * len + 3);
    size_t k = 0;
    pat[k++] = '%';
    for (size_t i = 0; i < len; i++) {
        char ch = q[i];
        if (ch == '%' || ch == '_' || ch == '\\')
            pat[k++] = '\\';
        pat[k++] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    pat[k++] = '%';
    pat[k] = '\0';
    struct db_stmt *s;
    int rc =
        db_prepare(c, &s,
                   "SELECT " CUSTOMER_COLS "WHERE cu.tenant_id = ? AND cu.customer_id > ? AND ("
                   "lower(cu.email) LIKE ? ESCAPE '\\' OR lower(cu.name) LIKE ? ESCAPE '\\' "
                   "OR cu.phone LIKE ? ESCAPE '\\' OR lower(cu.external_id) LIKE ? ESCAPE '\\' "
                   "OR lower(cu.public_id) LIKE ? ESCAPE '\\') "
                   "ORDER BY cu.customer_id LIMIT ?",
                   e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, p->after);
    for (int i = 3; i <= 7; i++)
        db_bind_text(s, i, pat);
    db_bind_i64(s, 8, db_page_limit(p->limit, COMMERCE_LIST_DEFAULT, COMMERCE_LIST_MAX));
    return db_list(s, read_customer, sizeof(**rows), a, (void **)rows, n, e);
}

/* ======================== categories ======================== */

#define CATEGORY_COLS "category_id, public_id, source, external_id, name, created_at"

static void read_category(struct db_stmt *s, struct arena *a, void *out)
{
    struct commerce_category *cat = out;
    cat->pk = db_col_i64(s, 0);
    cat->id = db_col_str(s, 1, a);
    cat->source = db_col_str(s, 2, a);
    cat->external_id = db_col_dup(s, 3, a);
    cat->name = db_col_str(s, 4, a);
    cat->created_at = db_col_time(s, 5);
}

static int category_insert(struct db_conn *c, int64_t tenant, const char *source,
                           const char *external_id, const char *name, int64_t now_ms,
                           char id[PUBLIC_ID_MAX], int64_t *pk, struct err *e)
{
    int rc = new_public_id("cat_", now_ms, id, e);
    struct db_stmt *s;
    if (!rc)
        rc = db_prepare(c, &s,
                        "INSERT INTO category (tenant_id, public_id, source, external_id, name, "
                        "created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING category_id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, id);
    db_bind_text(s, 3, source);
    bind_opt(s, 4, external_id);
    db_bind_text(s, 5, name);
    db_bind_time(s, 6, now_ms);
    return insert_returning(s, pk, e);
}

int commerce_store_category_create(struct db_conn *c, int64_t tenant, struct commerce_category *cat,
                                   int64_t now_ms, struct arena *a, struct err *e)
{
    int rc = commerce_source_check(cat->source, "source", e);
    if (!rc)
        rc = commerce_text_check(cat->external_id, "external_id", false, e);
    if (!rc)
        rc = commerce_text_check(cat->name, "name", true, e);
    char id[PUBLIC_ID_MAX];
    if (!rc)
        rc = insert_error(category_insert(c, tenant, cat->source, cat->external_id, cat->name,
                                          now_ms, id, &cat->pk, e),
                          "category", e);
    if (rc)
        return rc;
    cat->id = arena_strdup(a, id);
    cat->created_at = now_ms;
    return 0;
}

int commerce_store_category_get(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                                struct commerce_category *out, struct err *e)
{
    return get_one(c,
                   "SELECT " CATEGORY_COLS " FROM category WHERE tenant_id = ? AND public_id = ?",
                   tenant, id, read_category, a, out, "category", e);
}

int commerce_store_category_list(struct db_conn *c, int64_t tenant, const struct page *p,
                                 struct arena *a, struct commerce_category **rows, size_t *n,
                                 struct err *e)
{
    return list_page(c,
                     "SELECT " CATEGORY_COLS " FROM category WHERE tenant_id = ? AND "
                     "category_id > ? ORDER BY category_id LIMIT ?",
                     tenant, -1, p, read_category, sizeof(**rows), a, (void **)rows, n, e);
}

/* ======================== products ======================== */

#define PRODUCT_COLS                                                                               \
    "p.product_id, p.public_id, p.source, p.external_id, ca.public_id, p.category_id, p.name, "    \
    "p.price, p.currency, p.stock, p.created_at, p.updated_at FROM product p "                     \
    "LEFT JOIN category ca ON ca.category_id = p.category_id "

static void read_product(struct db_stmt *s, struct arena *a, void *out)
{
    struct commerce_product *pr = out;
    pr->pk = db_col_i64(s, 0);
    pr->id = db_col_str(s, 1, a);
    pr->source = db_col_str(s, 2, a);
    pr->external_id = db_col_dup(s, 3, a);
    pr->category_id = db_col_dup(s, 4, a);
    pr->category_pk = db_col_is_null(s, 5) ? 0 : db_col_i64(s, 5);
    pr->name = db_col_dup(s, 6, a);
    const char *cur = db_col_text(s, 8);
    pr->has_price = !db_col_is_null(s, 7) && cur &&
                    money_from_minor(db_col_i64(s, 7), cur, &pr->price, &(struct err){0}) == 0;
    pr->stock = db_col_i64(s, 9);
    pr->created_at = db_col_time(s, 10);
    pr->updated_at = db_col_time(s, 11);
}

static void bind_price(struct db_stmt *s, int idx, const struct commerce_product *pr)
{
    if (pr->has_price) {
        db_bind_i64(s, idx, pr->price.minor);
        db_bind_text(s, idx + 1, pr->price.currency->code);
    } else {
        db_bind_null(s, idx);
        db_bind_null(s, idx + 1);
    }
}

static int product_insert(struct db_conn *c, int64_t tenant, const struct commerce_product *pr,
                          int64_t now_ms, char id[PUBLIC_ID_MAX], int64_t *pk, struct err *e)
{
    int rc = new_public_id("prd_", now_ms, id, e);
    struct db_stmt *s;
    if (!rc)
        rc = db_prepare(c, &s,
                        "INSERT INTO product (tenant_id, public_id, source, external_id, "
                        "category_id, name, price, currency, stock, created_at, updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING product_id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, id);
    db_bind_text(s, 3, pr->source);
    bind_opt(s, 4, pr->external_id);
    bind_opt_pk(s, 5, pr->category_pk);
    bind_opt(s, 6, pr->name);
    bind_price(s, 7, pr);
    db_bind_i64(s, 9, pr->stock);
    db_bind_time(s, 10, now_ms);
    db_bind_time(s, 11, now_ms);
    return insert_returning(s, pk, e);
}

int commerce_store_product_create(struct db_conn *c, int64_t tenant, struct commerce_product *pr,
                                  int64_t now_ms, struct arena *a, struct err *e)
{
    int rc = commerce_product_check(pr, e);
    if (!rc && pr->category_id)
        rc = resolve(c, "SELECT category_id FROM category WHERE tenant_id = ? AND public_id = ?",
                     tenant, pr->category_id, "category_id", &pr->category_pk, e);
    char id[PUBLIC_ID_MAX];
    if (!rc)
        rc = insert_error(product_insert(c, tenant, pr, now_ms, id, &pr->pk, e), "product", e);
    if (rc)
        return rc;
    pr->id = arena_strdup(a, id);
    pr->created_at = pr->updated_at = now_ms;
    return 0;
}

int commerce_store_product_get(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                               struct commerce_product *out, struct err *e)
{
    return get_one(c, "SELECT " PRODUCT_COLS "WHERE p.tenant_id = ? AND p.public_id = ?", tenant,
                   id, read_product, a, out, "product", e);
}

int commerce_store_product_list(struct db_conn *c, int64_t tenant, const struct page *p,
                                struct arena *a, struct commerce_product **rows, size_t *n,
                                struct err *e)
{
    return list_page(c,
                     "SELECT " PRODUCT_COLS "WHERE p.tenant_id = ? AND p.product_id > ? "
                     "ORDER BY p.product_id LIMIT ?",
                     tenant, -1, p, read_product, sizeof(**rows), a, (void **)rows, n, e);
}

/* ======================== orders and carts ======================== */

/* What orders and carts share: header table, item table, their key columns. */
struct basket_kind {
    const char *what;       /* "order" */
    const char *prefix;     /* "ord_" */
    const char *table;      /* "orders" */
    const char *pk_col;     /* "order_id" */
    const char *item_table; /* "order_item" */
    bool has_status;
    const char *upsert_set; /* the SET of the batched upsert's ON CONFLICT DO UPDATE */
};

/* An upsert sets what commerce_store_order_upsert's and commerce_store_cart_upsert's UPDATEs set.
 */
static const struct basket_kind ORDER_KIND = {
    "order",
    "ord_",
    "orders",
    "order_id",
    "order_item",
    true,
    "customer_id = excluded.customer_id, status = excluded.status, currency = excluded.currency, "
    "total_amount = excluded.total_amount, created_at = excluded.created_at, "
    "updated_at = excluded.updated_at, campaign = excluded.campaign"};
static const struct basket_kind CART_KIND = {
    "cart",
    "crt_",
    "cart",
    "cart_id",
    "cart_item",
    false,
    "customer_id = excluded.customer_id, currency = excluded.currency, "
    "total_amount = excluded.total_amount, updated_at = excluded.updated_at"};

/* The header and items of an order or cart, as the two structs share them. */
struct basket {
    int64_t pk;
    const char *id, *source, *external_id, *customer_id, *customer_external_id;
    int64_t customer_pk;
    enum commerce_order_status status;
    const struct money_currency *currency;
    int64_t total_amount;
    struct commerce_item *items;
    size_t n_items;
    int64_t created_at, updated_at;
    const char *campaign; /* orders */
};

static void basket_from_order(struct basket *b, const struct commerce_order *o)
{
    *b = (struct basket){o->pk,           o->id,          o->source,
                         o->external_id,  o->customer_id, o->customer_external_id,
                         o->customer_pk,  o->status,      o->currency,
                         o->total_amount, o->items,       o->n_items,
                         o->created_at,   o->updated_at,  o->campaign};
}

static void basket_to_order(const struct basket *b, struct commerce_order *o)
{
    *o = (struct commerce_order){b->pk,           b->id,          b->source,
                                 b->external_id,  b->customer_id, b->customer_external_id,
                                 b->customer_pk,  b->status,      b->currency,
                                 b->total_amount, b->items,       b->n_items,
                                 b->created_at,   b->updated_at,  b->campaign};
}

static void basket_from_cart(struct basket *b, const struct commerce_cart *c)
{
    *b = (struct basket){c->pk,
                         c->id,
                         c->source,
                         c->external_id,
                         c->customer_id,
                         c->customer_external_id,
                         c->customer_pk,
                         COMMERCE_ORDER_PLACED,
                         c->currency,
                         c->total_amount,
                         c->items,
                         c->n_items,
                         c->created_at,
                         c->updated_at,
                         NULL};
}

static void basket_to_cart(const struct basket *b, struct commerce_cart *c)
{
    *c = (struct commerce_cart){b->pk,          b->id,          b->source,
                                b->external_id, b->customer_id, b->customer_external_id,
                                b->customer_pk, b->currency,    b->total_amount,
                                b->items,       b->n_items,     b->created_at,
                                b->updated_at};
}

/* The items, up to ITEMS_PER_INSERT rows per statement (one statement per order, usually). */
static int items_insert(struct db_conn *c, const struct basket_kind *k, int64_t tenant, int64_t pk,
                        const struct commerce_item *items, size_t n, struct err *e)
{
    for (size_t at = 0; at < n; at += ITEMS_PER_INSERT) {
        size_t rows = n - at < ITEMS_PER_INSERT ? n - at : ITEMS_PER_INSERT;
        char sql[200 + ITEMS_PER_INSERT * 24];
        int len =
            snprintf(sql, sizeof(sql),
                     "INSERT INTO %s (tenant_id, %s, product_id, quantity, price, list_price) "
                     "VALUES ",
                     k->item_table, k->pk_col);
        for (size_t i = 0; i < rows && len > 0 && (size_t)len < sizeof(sql); i++)
            len += snprintf(sql + len, sizeof(sql) - (size_t)len, "%s(?, ?, ?, ?, ?, ?)",
                            i ? ", " : "");
        struct db_stmt *s;
        int rc = db_prepare(c, &s, sql, e);
        if (rc)
            return rc;
        for (size_t i = 0; i < rows; i++) {
            const struct commerce_item *it = &items[at + i];
            int b = (int)i * 6;
            db_bind_i64(s, b + 1, tenant);
            db_bind_i64(s, b + 2, pk);
            db_bind_i64(s, b + 3, it->product_pk);
            db_bind_i64(s, b + 4, it->quantity);
            db_bind_i64(s, b + 5, it->unit_price);
            if (it->list_price > 0)
                db_bind_i64(s, b + 6, it->list_price);
            else
                db_bind_null(s, b + 6);
        }
        rc = db_exec_write(s, NULL, e);
        if (rc)
            return rc;
    }
    return 0;
}

/*
 * Insert the header and its items. With `skip_existing`, a header whose (source, external_id)
 * exists is left alone and *pk is 0 (nothing written): one statement tells "new" from "known".
 */
static int basket_insert(struct db_conn *c, const struct basket_kind *k, int64_t tenant,
                         const struct basket *b, int64_t now_ms, bool skip_existing,
                         char id[PUBLIC_ID_MAX], int64_t *pk, struct err *e)
{
    char sql[400];
    snprintf(sql, sizeof(sql),
             "INSERT INTO %s (tenant_id, public_id, source, external_id, customer_id, currency, "
             "total_amount, created_at, updated_at%s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?%s)%s",
             k->table, k->has_status ? ", status, campaign" : "", k->has_status ? ", ?, ?" : "",
             skip_existing ? " ON CONFLICT (tenant_id, source, external_id) DO NOTHING" : "");
    int rc = new_public_id(k->prefix, now_ms, id, e);
    struct db_stmt *s;
    if (!rc)
        rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, id);
    db_bind_text(s, 3, b->source);
    bind_opt(s, 4, b->external_id);
    db_bind_i64(s, 5, b->customer_pk);
    db_bind_text(s, 6, b->currency->code);
    db_bind_i64(s, 7, b->total_amount);
    db_bind_time(s, 8, b->created_at ? b->created_at : now_ms);
    db_bind_time(s, 9, now_ms);
    if (k->has_status) {
        db_bind_text(s, 10, commerce_order_status_names[b->status]);
        bind_opt(s, 11, b->campaign);
    }
    /*
     * No RETURNING: SQLite's costs more than finding the row again by the public id just
     * made (measured in bench/bench_import.c).
     */
    int64_t changes = 0;
    *pk = 0;
    rc = db_exec_write(s, &changes, e);
    if (rc || !changes)
        return rc; /* !changes: skip_existing met a known row */
    snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE tenant_id = ? AND public_id = ?", k->pk_col,
             k->table);
    rc = db_find_pk(c, sql, tenant, id, pk, e);
    if (!rc && !*pk)
        rc = err_set(e, ERR_INTERNAL, "the %s just inserted is not there", k->what);
    if (!rc)
        rc = items_insert(c, k, tenant, *pk, b->items, b->n_items, e);
    return rc;
}

static int basket_create(struct db_conn *c, const struct basket_kind *k, int64_t tenant,
                         struct basket *b, int64_t now_ms, struct arena *a, struct err *e)
{
    int rc = resolve(c, "SELECT customer_id FROM customer WHERE tenant_id = ? AND public_id = ?",
                     tenant, b->customer_id, "customer_id", &b->customer_pk, e);
    char field[64];
    for (size_t i = 0; !rc && i < b->n_items; i++) {
        snprintf(field, sizeof(field), "items[%zu].product_id", i);
        rc = resolve(c, "SELECT product_id FROM product WHERE tenant_id = ? AND public_id = ?",
                     tenant, b->items[i].product_id, field, &b->items[i].product_pk, e);
    }
    if (rc)
        return rc;
    bool own;
    char id[PUBLIC_ID_MAX];
    rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = insert_error(basket_insert(c, k, tenant, b, now_ms, false, id, &b->pk, e), k->what, e);
    rc = db_end_own(c, own, rc, e);
    if (rc)
        return rc;
    b->id = arena_strdup(a, id);
    if (!b->created_at)
        b->created_at = now_ms;
    b->updated_at = now_ms;
    return 0;
}

int commerce_store_order_create(struct db_conn *c, int64_t tenant, struct commerce_order *o,
                                int64_t now_ms, struct arena *a, struct err *e)
{
    int rc = commerce_order_check(o, e);
    if (rc)
        return rc;
    struct basket b;
    basket_from_order(&b, o);
    rc = basket_create(c, &ORDER_KIND, tenant, &b, now_ms, a, e);
    if (!rc)
        basket_to_order(&b, o);
    return rc;
}

int commerce_store_cart_create(struct db_conn *c, int64_t tenant, struct commerce_cart *cart,
                               int64_t now_ms, struct arena *a, struct err *e)
{
    int rc = commerce_cart_check(cart, e);
    if (rc)
        return rc;
    struct basket b;
    basket_from_cart(&b, cart);
    rc = basket_create(c, &CART_KIND, tenant, &b, now_ms, a, e);
    if (!rc)
        basket_to_cart(&b, cart);
    return rc;
}

/* Columns: pk, public_id, source, external_id, customer public id, customer pk, currency,
 * total, created, updated, item count, status (orders). */
static void read_basket(struct db_stmt *s, struct arena *a, void *out)
{
    struct basket *b = out;
    b->pk = db_col_i64(s, 0);
    b->id = db_col_str(s, 1, a);
    b->source = db_col_str(s, 2, a);
    b->external_id = db_col_dup(s, 3, a);
    b->customer_id = db_col_str(s, 4, a);
    b->customer_pk = db_col_i64(s, 5);
    const char *cur = db_col_text(s, 6);
    b->currency = NULL;
    if (cur)
        (void)money_currency_find(cur, &b->currency, &(struct err){0});
    b->total_amount = db_col_i64(s, 7);
    b->created_at = db_col_time(s, 8);
    b->updated_at = db_col_time(s, 9);
    b->n_items = (size_t)db_col_i64(s, 10);
    b->status = COMMERCE_ORDER_PENDING;
    b->campaign = NULL;
    if (db_col_count(s) > 11) {
        const char *st = db_col_text(s, 11);
        for (int i = 0; st && commerce_order_status_names[i]; i++) {
            if (strcmp(st, commerce_order_status_names[i]) == 0)
                b->status = (enum commerce_order_status)i;
        }
        b->campaign = db_col_dup(s, 12, a);
    }
}

static const char *basket_select(const struct basket_kind *k, char *sql, size_t n,
                                 const char *where)
{
    snprintf(sql, n,
             "SELECT h.%s, h.public_id, h.source, h.external_id, cu.public_id, h.customer_id, "
             "h.currency, h.total_amount, h.created_at, h.updated_at, "
             "(SELECT COUNT(*) FROM %s i WHERE i.%s = h.%s)%s FROM %s h "
             "JOIN customer cu ON cu.customer_id = h.customer_id %s",
             k->pk_col, k->item_table, k->pk_col, k->pk_col,
             k->has_status ? ", h.status, h.campaign" : "", k->table, where);
    return sql;
}

static void read_item(struct db_stmt *s, struct arena *a, void *out)
{
    struct commerce_item *it = out;
    it->product_pk = db_col_i64(s, 0);
    it->product_id = db_col_str(s, 1, a);
    it->product_external_id = db_col_dup(s, 2, a);
    it->quantity = db_col_i64(s, 3);
    it->unit_price = db_col_i64(s, 4);
    it->list_price = db_col_is_null(s, 5) ? 0 : db_col_i64(s, 5);
}

static int basket_get(struct db_conn *c, const struct basket_kind *k, int64_t tenant,
                      const char *id, struct arena *a, struct basket *out, struct err *e)
{
    char sql[600];
    basket_select(k, sql, sizeof(sql), "WHERE h.tenant_id = ? AND h.public_id = ?");
    int rc = get_one(c, sql, tenant, id, read_basket, a, out, k->what, e);
    if (rc)
        return rc;
    snprintf(sql, sizeof(sql),
             "SELECT i.product_id, p.public_id, p.external_id, i.quantity, i.price, i.list_price "
             "FROM %s i "
             "JOIN product p ON p.product_id = i.product_id WHERE i.tenant_id = ? AND i.%s = ? "
             "ORDER BY i.%s_item_id",
             k->item_table, k->pk_col, k->has_status ? "order" : "cart");
    struct db_stmt *s;
    rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, out->pk);
    return db_list(s, read_item, sizeof(*out->items), a, (void **)&out->items, &out->n_items, e);
}

static int basket_list(struct db_conn *c, const struct basket_kind *k, int64_t tenant,
                       int64_t customer_pk, const struct page *p, struct arena *a,
                       struct basket **rows, size_t *n, struct err *e)
{
    char where[200], sql[800];
    snprintf(where, sizeof(where),
             "WHERE h.tenant_id = ? AND (? = 0 OR h.customer_id = ?) AND h.%s > ? "
             "ORDER BY h.%s LIMIT ?",
             k->pk_col, k->pk_col);
    basket_select(k, sql, sizeof(sql), where);
    return list_page(c, sql, tenant, customer_pk, p, read_basket, sizeof(**rows), a, (void **)rows,
                     n, e);
}

int commerce_store_order_get(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                             struct commerce_order *out, struct err *e)
{
    struct basket b;
    memset(&b, 0, sizeof(b));
    int rc = basket_get(c, &ORDER_KIND, tenant, id, a, &b, e);
    if (!rc)
        basket_to_order(&b, out);
    return rc;
}

int commerce_store_cart_get(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                            struct commerce_cart *out, struct err *e)
{
    struct basket b;
    memset(&b, 0, sizeof(b));
    int rc = basket_get(c, &CART_KIND, tenant, id, a, &b, e);
    if (!rc)
        basket_to_cart(&b, out);
    return rc;
}

int commerce_store_order_list(struct db_conn *c, int64_t tenant, int64_t customer_pk,
                              const struct page *p, struct arena *a, struct commerce_order **rows,
                              size_t *n, struct err *e)
{
    struct basket *b = NULL;
    int rc = basket_list(c, &ORDER_KIND, tenant, customer_pk, p, a, &b, n, e);
    *rows = NULL;
    if (rc || !*n)
        return rc;
    *rows = arena_alloc(a, *n * sizeof(**rows));
    for (size_t i = 0; i < *n; i++)
        basket_to_order(&b[i], &(*rows)[i]);
    return 0;
}

int commerce_store_order_list_by_email(struct db_conn *c, int64_t tenant, const char *email,
                                       const struct page *p, struct arena *a,
                                       struct commerce_order **rows, size_t *n, struct err *e)
{
    *rows = NULL;
    *n = 0;
    char where[400], sql[1200];
    snprintf(where, sizeof(where),
             "WHERE h.tenant_id = ? AND h.customer_id IN (SELECT cu.customer_id FROM customer cu "
             "WHERE cu.tenant_id = ? AND lower(cu.email) = lower(?)) AND h.%s > ? ORDER BY h.%s "
             "LIMIT ?",
             ORDER_KIND.pk_col, ORDER_KIND.pk_col);
    basket_select(&ORDER_KIND, sql, sizeof(sql), where);
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, tenant);
    db_bind_text(s, 3, email);
    db_bind_i64(s, 4, p->after);
    db_bind_i64(s, 5, db_page_limit(p->limit, COMMERCE_LIST_DEFAULT, COMMERCE_LIST_MAX));
    struct basket *b = NULL;
    rc = db_list(s, read_basket, sizeof(*b), a, (void **)&b, n, e);
    if (rc || !*n)
        return rc;
    *rows = arena_alloc(a, *n * sizeof(**rows));
    for (size_t i = 0; i < *n; i++)
        basket_to_order(&b[i], &(*rows)[i]);
    return 0;
}

int commerce_store_cart_list(struct db_conn *c, int64_t tenant, int64_t customer_pk,
                             const struct page *p, struct arena *a, struct commerce_cart **rows,
                             size_t *n, struct err *e)
{
    struct basket *b = NULL;
    int rc = basket_list(c, &CART_KIND, tenant, customer_pk, p, a, &b, n, e);
    *rows = NULL;
    if (rc || !*n)
        return rc;
    *rows = arena_alloc(a, *n * sizeof(**rows));
    for (size_t i = 0; i < *n; i++)
        basket_to_cart(&b[i], &(*rows)[i]);
    return 0;
}

/* ======================== imports ======================== */

/* The pk column of a commerce table, NULL for any other name. */
static const char *table_pk_col(const char *table)
{
    static const char *const tables[][2] = {
        {"city", "city_id"},       {"customer", "customer_id"}, {"category", "category_id"},
        {"product", "product_id"}, {"orders", "order_id"},      {"cart", "cart_id"}};
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        if (strcmp(table, tables[i][0]) == 0)
            return tables[i][1];
    }
    return NULL;
}

int commerce_store_public_id(struct db_conn *c, const char *table, int64_t tenant, int64_t pk,
                             struct arena *a, const char **id, struct err *e)
{
    const char *col = table_pk_col(table);
    if (!col)
        return err_set(e, ERR_INTERNAL, "no commerce table %s", table);
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT public_id FROM %s WHERE tenant_id = ? AND %s = ?", table,
             col);
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, pk);
    int st = db_step(s, e);
    if (st == DB_ROW)
        *id = db_col_str(s, 0, a);
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    if (st == DB_DONE)
        return err_set_field(e, ERR_NOT_FOUND, "id", "no %s %lld in this tenant", table,
                             (long long)pk);
    return 0;
}

int commerce_store_customer_by_phone(struct db_conn *c, int64_t tenant, const char *phone,
                                     int64_t *pk, struct err *e)
{
    return db_find_pk(c,
                      "SELECT customer_id FROM customer WHERE tenant_id = ? AND phone = ? "
                      "ORDER BY customer_id LIMIT 1",
                      tenant, phone, pk, e);
}

int commerce_store_find_external(struct db_conn *c, const char *table, int64_t tenant,
                                 const char *source, const char *external_id, int64_t *pk,
                                 struct err *e)
{
    const char *col = table_pk_col(table);
    if (!col)
        return err_set(e, ERR_INTERNAL, "no commerce table %s", table);
    char sql[160];
    snprintf(sql, sizeof(sql),
             "SELECT %s FROM %s WHERE tenant_id = ? AND source = ? AND external_id = ?", col,
             table);
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, source);
    db_bind_text(s, 3, external_id);
    bool found = false;
    *pk = 0;
    return db_one_i64(s, pk, &found, e);
}

int commerce_store_city_by_external(struct db_conn *c, int64_t tenant, const char *source,
                                    const char *external_id, int64_t *pk, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT city_id FROM city WHERE tenant_id = ? AND external_id = ? "
                        "ORDER BY CASE WHEN source = ? THEN 0 ELSE 1 END, city_id LIMIT 1",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, external_id);
    db_bind_text(s, 3, source);
    bool found = false;
    *pk = 0;
    return db_one_i64(s, pk, &found, e);
}

int commerce_store_customer_ensure(struct db_conn *c, int64_t tenant, const char *source,
                                   const char *external_id, int64_t now_ms, int64_t *pk,
                                   bool *created, struct err *e)
{
    *created = false;
    int rc = commerce_store_find_external(c, "customer", tenant, source, external_id, pk, e);
    if (rc || *pk)
        return rc;
    struct commerce_customer cu = {.source = source, .external_id = external_id, .is_active = true};
    char id[PUBLIC_ID_MAX];
    rc = customer_insert(c, tenant, &cu, now_ms, id, pk, e);
    *created = !rc;
    return rc;
}

int commerce_store_product_ensure(struct db_conn *c, int64_t tenant, const char *source,
                                  const char *external_id, int64_t now_ms, int64_t *pk,
                                  bool *created, struct err *e)
{
    *created = false;
    int rc = commerce_store_find_external(c, "product", tenant, source, external_id, pk, e);
    if (rc || *pk)
        return rc;
    struct commerce_product pr = {.source = source, .external_id = external_id};
    char id[PUBLIC_ID_MAX];
    rc = product_insert(c, tenant, &pr, now_ms, id, pk, e);
    *created = !rc;
    return rc;
}

int commerce_store_category_ensure(struct db_conn *c, int64_t tenant, const char *source,
                                   const char *external_id, const char *name, int64_t now_ms,
                                   int64_t *pk, bool *created, struct err *e)
{
    *created = false;
    int rc = commerce_store_find_external(c, "category", tenant, source, external_id, pk, e);
    if (rc || *pk)
        return rc;
    char id[PUBLIC_ID_MAX];
    rc = category_insert(c, tenant, source, external_id, name ? name : external_id, now_ms, id, pk,
                         e);
    *created = !rc;
    return rc;
}

int commerce_store_customer_upsert(struct db_conn *c, int64_t tenant,
                                   const struct commerce_customer *cu, int64_t now_ms,
                                   bool *inserted, struct err *e)
{
    int64_t pk = 0;
    int rc =
        commerce_store_find_external(c, "customer", tenant, cu->source, cu->external_id, &pk, e);
    *inserted = false;
    if (rc)
        return rc;
    if (!pk) {
        char id[PUBLIC_ID_MAX];
        rc = customer_insert(c, tenant, cu, now_ms, id, &pk, e);
        *inserted = !rc;
        return rc;
    }
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "UPDATE customer SET email = ?, phone = ?, birth_date = ?, gender = ?, "
                    "city_id = ?, is_active = ?, updated_at = ?, name = ? WHERE customer_id = ?",
                    e);
    if (rc)
        return rc;
    bind_opt(s, 1, cu->email);
    bind_opt(s, 2, cu->phone);
    bind_opt(s, 3, cu->birth_date);
    bind_opt(s, 4, cu->gender);
    bind_opt_pk(s, 5, cu->city_pk);
    db_bind_bool(s, 6, cu->is_active);
    db_bind_time(s, 7, now_ms);
    bind_opt(s, 8, cu->name);
    db_bind_i64(s, 9, pk);
    return db_exec_write(s, NULL, e);
}

int commerce_store_product_upsert(struct db_conn *c, int64_t tenant,
                                  const struct commerce_product *pr, int64_t now_ms, bool *inserted,
                                  struct err *e)
{
    int64_t pk = 0;
    int rc =
        commerce_store_find_external(c, "product", tenant, pr->source, pr->external_id, &pk, e);
    *inserted = false;
    if (rc)
        return rc;
    if (!pk) {
        char id[PUBLIC_ID_MAX];
        rc = product_insert(c, tenant, pr, now_ms, id, &pk, e);
        *inserted = !rc;
        return rc;
    }
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "UPDATE product SET category_id = ?, name = ?, price = ?, currency = ?, "
                    "stock = ?, updated_at = ? WHERE product_id = ?",
                    e);
    if (rc)
        return rc;
    bind_opt_pk(s, 1, pr->category_pk);
    bind_opt(s, 2, pr->name);
    bind_price(s, 3, pr);
    db_bind_i64(s, 5, pr->stock);
    db_bind_time(s, 6, now_ms);
    db_bind_i64(s, 7, pk);
    return db_exec_write(s, NULL, e);
}

int commerce_store_order_upsert(struct db_conn *c, int64_t tenant, const struct commerce_order *o,
                                int64_t now_ms, bool *inserted, struct err *e)
{
    int64_t pk = 0;
    struct basket b;
    basket_from_order(&b, o);
    char id[PUBLIC_ID_MAX];
    /* a new order (the common case of an import) takes one statement, then its items */
    int rc = basket_insert(c, &ORDER_KIND, tenant, &b, now_ms, true, id, &pk, e);
    *inserted = !rc && pk;
    if (rc || pk)
        return rc;
    rc = commerce_store_find_external(c, "orders", tenant, o->source, o->external_id, &pk, e);
    if (!rc && !pk)
        rc = err_set(e, ERR_INTERNAL, "order %s neither inserted nor found", o->external_id);
    if (rc)
        return rc;
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "UPDATE orders SET customer_id = ?, status = ?, currency = ?, "
                    "total_amount = ?, created_at = ?, updated_at = ?, campaign = ? "
                    "WHERE order_id = ?",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, o->customer_pk);
    db_bind_text(s, 2, commerce_order_status_names[o->status]);
    db_bind_text(s, 3, o->currency->code);
    db_bind_i64(s, 4, o->total_amount);
    db_bind_time(s, 5, o->created_at ? o->created_at : now_ms);
    db_bind_time(s, 6, now_ms);
    bind_opt(s, 7, o->campaign);
    db_bind_i64(s, 8, pk);
    rc = db_exec_write(s, NULL, e);
    if (!rc)
        rc = db_prepare(c, &s, "DELETE FROM order_item WHERE order_id = ?", e);
    if (!rc) {
        db_bind_i64(s, 1, pk);
        rc = db_exec_write(s, NULL, e);
    }
    if (!rc)
        rc = items_insert(c, &ORDER_KIND, tenant, pk, o->items, o->n_items, e);
    return rc;
}

int commerce_store_cart_upsert(struct db_conn *c, int64_t tenant, struct commerce_cart *cart,
                               int64_t now_ms, bool *inserted, struct err *e)
{
    int64_t pk = 0;
    struct basket b;
    basket_from_cart(&b, cart);
    char id[PUBLIC_ID_MAX];
    int rc = basket_insert(c, &CART_KIND, tenant, &b, now_ms, true, id, &pk, e);
    *inserted = !rc && pk;
    if (rc)
        return rc;
    if (pk) {
        cart->pk = pk;
        return 0;
    }
    rc = commerce_store_find_external(c, "cart", tenant, cart->source, cart->external_id, &pk, e);
    if (!rc && !pk)
        rc = err_set(e, ERR_INTERNAL, "cart %s neither inserted nor found", cart->external_id);
    if (rc)
        return rc;
    cart->pk = pk;
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "UPDATE cart SET customer_id = ?, currency = ?, total_amount = ?, "
                    "updated_at = ? WHERE cart_id = ?",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, cart->customer_pk);
    db_bind_text(s, 2, cart->currency->code);
    db_bind_i64(s, 3, cart->total_amount);
    db_bind_time(s, 4, now_ms);
    db_bind_i64(s, 5, pk);
    rc = db_exec_write(s, NULL, e);
    if (!rc)
        rc = db_prepare(c, &s, "DELETE FROM cart_item WHERE cart_id = ?", e);
    if (!rc) {
        db_bind_i64(s, 1, pk);
        rc = db_exec_write(s, NULL, e);
    }
    if (!rc)
        rc = items_insert(c, &CART_KIND, tenant, pk, cart->items, cart->n_items, e);
    return rc;
}

/*
 * The batched upserts of orders and carts. Multi-row INSERTs of 64, 32, … 1 rows (a run of n
 * takes at most 7), IN lists of 8 or 64 (padded with their last value): few distinct statements
 * for the per-connection cache.
 */
static const size_t many_sizes[] = {64, 32, 16, 8, 4, 2, 1};
#define BASKETS_PER_RUN 64

static size_t many_size(size_t left)
{
    for (size_t z = 0; z < sizeof(many_sizes) / sizeof(many_sizes[0]); z++)
        if (many_sizes[z] <= left)
            return many_sizes[z];
    return 1;
}

/* Values in one IN list: up to 64 of `left`; *size is the list's length (8 or 64). */
static size_t in_take(size_t left, size_t *size)
{
    size_t k = left < 64 ? left : 64;
    *size = k > 8 ? 64 : 8;
    return k;
}

/* `head` then `rows` groups of `group` ("(?, ?)") joined by ", ", then `tail`. */
static int many_sql(struct buf *b, const char *head, const char *group, size_t rows,
                    const char *tail)
{
    buf_reset(b);
    size_t len = strlen(group);
    int rc = buf_appends(b, head);
    for (size_t i = 0; !rc && i < rows; i++) {
        /* plain copies: a format per group cost as much as the statement it built */
        rc = i ? buf_append(b, ", ", 2) : 0;
        if (!rc)
            rc = buf_append(b, group, len);
    }
    if (!rc)
        rc = buf_appends(b, tail);
    return rc ? ERR_NOMEM : 0;
}

/*
 * The headers of a run: one multi-row INSERT … ON CONFLICT DO UPDATE per many_size() rows,
 * which returns each row's pk by its external id; a row whose public id is the one just made for
 * it was inserted (an update keeps the old public id). Returning them costs less than looking
 * them up after (on PostgreSQL that lookup could not use the whole unique index while the
 * table's statistics were those of an empty table, and each one read every row of the source).
 */
static int run_headers(struct db_conn *c, const struct basket_kind *k, int64_t tenant,
                       struct basket *b, size_t n, int64_t now_ms, int64_t id_ms,
                       char ids[][PUBLIC_ID_MAX], bool *inserted, struct buf *sql, struct err *e)
{
    const int cols = k->has_status ? 11 : 9;
    char head[300], tail[400];
    snprintf(head, sizeof(head),
             "INSERT INTO %s (tenant_id, public_id, source, external_id, customer_id, currency, "
             "total_amount, created_at, updated_at%s) VALUES ",
             k->table, k->has_status ? ", status, campaign" : "");
    snprintf(tail, sizeof(tail),
             " ON CONFLICT (tenant_id, source, external_id) DO UPDATE SET %s "
             "RETURNING %s, external_id, public_id",
             k->upsert_set, k->pk_col);
    for (size_t i = 0; i < n; i++)
        b[i].pk = 0;
    const char *group =
        k->has_status ? "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?, ?, ?)";
    int rc = 0;
    for (size_t at = 0; !rc && at < n;) {
        size_t rows = many_size(n - at);
        if (many_sql(sql, head, group, rows, tail))
            return err_set(e, ERR_NOMEM, "%s upsert statement too long", k->what);
        struct db_stmt *s;
        rc = db_prepare(c, &s, buf_str(sql), e);
        for (size_t i = 0; !rc && i < rows; i++) {
            const struct basket *x = &b[at + i];
            rc = new_public_id(k->prefix, id_ms, ids[at + i], e);
            if (rc) {
                db_stmt_done(s);
                break;
            }
            int p = (int)i * cols;
            db_bind_i64(s, p + 1, tenant);
            db_bind_text(s, p + 2, ids[at + i]);
            db_bind_text(s, p + 3, x->source);
            db_bind_text(s, p + 4, x->external_id);
            db_bind_i64(s, p + 5, x->customer_pk);
            db_bind_text(s, p + 6, x->currency->code);
            db_bind_i64(s, p + 7, x->total_amount);
            db_bind_time(s, p + 8, x->created_at ? x->created_at : now_ms);
            db_bind_time(s, p + 9, now_ms);
            if (k->has_status) {
                db_bind_text(s, p + 10, commerce_order_status_names[x->status]);
                bind_opt(s, p + 11, x->campaign);
            }
        }
        int st = DB_DONE;
        while (!rc && (st = db_step(s, e)) == DB_ROW) {
            int64_t pk = db_col_i64(s, 0);
            const char *ext = db_col_text(s, 1), *pub = db_col_text(s, 2);
            for (size_t i = at; ext && i < at + rows; i++) {
                if (strcmp(b[i].external_id, ext) == 0) {
                    b[i].pk = pk;
                    inserted[i] = pub && strcmp(pub, ids[i]) == 0;
                }
            }
        }
        if (!rc) {
            db_stmt_done(s);
            if (st == DB_ERROR)
                rc = db_step_error(e);
        }
        at += rows;
    }
    for (size_t i = 0; !rc && i < n; i++)
        if (!b[i].pk)
            rc = err_set(e, ERR_INTERNAL, "%s %s neither inserted nor found", k->what,
                         b[i].external_id);
    return rc;
}

/* The items of a run: the updated rows' old items deleted, then all in multi-row INSERTs. */
static int run_items(struct db_conn *c, const struct basket_kind *k, int64_t tenant,
                     const struct basket *b, size_t n, const bool *inserted, struct buf *sql,
                     struct err *e)
{
    int64_t old[BASKETS_PER_RUN];
    size_t n_old = 0;
    for (size_t i = 0; i < n; i++)
        if (!inserted[i])
            old[n_old++] = b[i].pk;
    char head[200];
    snprintf(head, sizeof(head), "DELETE FROM %s WHERE tenant_id = ? AND %s IN (", k->item_table,
             k->pk_col);
    int rc = 0;
    struct db_stmt *s;
    for (size_t at = 0; !rc && at < n_old;) {
        size_t size, rows = in_take(n_old - at, &size);
        if (many_sql(sql, head, "?", size, ")"))
            return err_set(e, ERR_NOMEM, "%s item statement too long", k->what);
        rc = db_prepare(c, &s, buf_str(sql), e);
        if (rc)
            break;
        db_bind_i64(s, 1, tenant);
        for (size_t i = 0; i < size; i++)
            db_bind_i64(s, (int)i + 2, old[at + (i < rows ? i : rows - 1)]);
        rc = db_exec_write(s, NULL, e);
        at += rows;
    }
    snprintf(head, sizeof(head),
             "INSERT INTO %s (tenant_id, %s, product_id, quantity, price, list_price) VALUES ",
             k->item_table, k->pk_col);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += b[i].n_items;
    size_t x = 0, item = 0; /* the next item to write: b[x].items[item] */
    for (size_t done = 0; !rc && done < total;) {
        size_t rows = many_size(total - done);
        if (many_sql(sql, head, "(?, ?, ?, ?, ?, ?)", rows, ""))
            return err_set(e, ERR_NOMEM, "%s item statement too long", k->what);
        rc = db_prepare(c, &s, buf_str(sql), e);
        if (rc)
            break;
        for (size_t r = 0; r < rows; r++) {
            while (item >= b[x].n_items) {
                x++;
                item = 0;
            }
            const struct commerce_item *it = &b[x].items[item++];
            int p = (int)r * 6;
            db_bind_i64(s, p + 1, tenant);
            db_bind_i64(s, p + 2, b[x].pk);
            db_bind_i64(s, p + 3, it->product_pk);
            db_bind_i64(s, p + 4, it->quantity);
            db_bind_i64(s, p + 5, it->unit_price);
            if (it->list_price > 0)
                db_bind_i64(s, p + 6, it->list_price);
            else
                db_bind_null(s, p + 6);
        }
        rc = db_exec_write(s, NULL, e);
        done += rows;
    }
    return rc;
}

/*
 * Upsert n orders or carts as n basket upserts in order would: runs of up to BASKETS_PER_RUN of
 * one source with distinct external ids (a repeated one starts the next run, so the later one
 * wins as it would one call after another), each run in a few multi-row statements. Sets each
 * b[i].pk and inserted[i].
 */
static int basket_upsert_many(struct db_conn *c, const struct basket_kind *k, int64_t tenant,
                              struct basket *b, size_t n, int64_t now_ms, int64_t id_ms,
                              bool *inserted, struct err *e)
{
    for (size_t i = 0; i < n; i++)
        if (!b[i].external_id || !b[i].source)
            return err_set(e, ERR_INTERNAL, "a batched %s needs a source and an external id",
                           k->what);
    struct buf sql;
    buf_init(&sql, 16384);
    char ids[BASKETS_PER_RUN][PUBLIC_ID_MAX];
    int rc = 0;
    for (size_t at = 0; !rc && at < n;) {
        size_t end = at + 1;
        while (end < n && end - at < BASKETS_PER_RUN && strcmp(b[end].source, b[at].source) == 0) {
            bool dup = false;
            for (size_t j = at; !dup && j < end; j++)
                dup = strcmp(b[j].external_id, b[end].external_id) == 0;
            if (dup)
                break;
            end++;
        }
        size_t m = end - at;
        rc = run_headers(c, k, tenant, b + at, m, now_ms, id_ms, ids, inserted + at, &sql, e);
        if (!rc)
            rc = run_items(c, k, tenant, b + at, m, inserted + at, &sql, e);
        at = end;
    }
    buf_release(&sql);
    return rc;
}

int commerce_store_cart_upsert_many(struct db_conn *c, int64_t tenant, struct commerce_cart *carts,
                                    size_t n, int64_t now_ms, struct err *e)
{
    struct basket *b = xcalloc(n ? n : 1, sizeof(*b));
    bool *inserted = xcalloc(n ? n : 1, sizeof(*inserted));
    for (size_t i = 0; i < n; i++)
        basket_from_cart(&b[i], &carts[i]);
    int rc = basket_upsert_many(c, &CART_KIND, tenant, b, n, now_ms, now_ms, inserted, e);
    for (size_t i = 0; !rc && i < n; i++)
        carts[i].pk = b[i].pk;
    free(b);
    free(inserted);
    return rc;
}

int commerce_store_order_upsert_many(struct db_conn *c, int64_t tenant,
                                     struct commerce_order *orders, size_t n, int64_t now_ms,
                                     int64_t id_ms, bool *inserted, struct err *e)
{
    struct basket *b = xcalloc(n ? n : 1, sizeof(*b));
    for (size_t i = 0; i < n; i++)
        basket_from_order(&b[i], &orders[i]);
    int rc = basket_upsert_many(c, &ORDER_KIND, tenant, b, n, now_ms, id_ms, inserted, e);
    for (size_t i = 0; !rc && i < n; i++)
        orders[i].pk = b[i].pk;
    free(b);
    return rc;
}

/*
 * The batched ensure of customers or products: IN lookups of up to 64 external ids, then the
 * missing rows in multi-row INSERTs … RETURNING with the values one ensure gives them. A few
 * statements per 64 keys instead of one or two per key (on PostgreSQL each was a round trip).
 */
struct ensure_kind {
    const char *table, *pk_col, *prefix;
    const char *cols;  /* the INSERT's columns */
    const char *group; /* one row's placeholders */
    int n_cols;
};

static const struct ensure_kind CUSTOMER_ENSURE = {
    "customer",
    "customer_id",
    "cus_",
    "tenant_id, public_id, source, external_id, email, phone, birth_date, gender, city_id, "
    "is_active, created_at, updated_at, name",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    13};
static const struct ensure_kind PRODUCT_ENSURE = {
    "product",
    "product_id",
    "prd_",
    "tenant_id, public_id, source, external_id, category_id, name, price, currency, stock, "
    "created_at, updated_at",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    11};

/* pks[i] of the rows among exts[0..n) that exist; the others stay as they are. */
static int ensure_lookup(struct db_conn *c, const struct ensure_kind *k, int64_t tenant,
                         const char *source, const char *const *exts, size_t n, int64_t *pks,
                         struct buf *sql, struct err *e)
{
    char head[200];
    snprintf(head, sizeof(head),
             "SELECT %s, external_id FROM %s WHERE tenant_id = ? AND source = ? AND "
             "external_id IN (",
             k->pk_col, k->table);
    int rc = 0;
    for (size_t at = 0; !rc && at < n;) {
        size_t size, rows = in_take(n - at, &size);
        if (many_sql(sql, head, "?", size, ")"))
            return err_set(e, ERR_NOMEM, "%s lookup statement too long", k->table);
        struct db_stmt *s;
        rc = db_prepare(c, &s, buf_str(sql), e);
        if (rc)
            break;
        db_bind_i64(s, 1, tenant);
        db_bind_text(s, 2, source);
        for (size_t i = 0; i < size; i++)
            db_bind_text(s, (int)i + 3, exts[at + (i < rows ? i : rows - 1)]);
        int st;
        while ((st = db_step(s, e)) == DB_ROW) {
            const char *ext = db_col_text(s, 1);
            for (size_t i = 0; ext && i < rows; i++)
                if (strcmp(exts[at + i], ext) == 0)
                    pks[at + i] = db_col_i64(s, 0);
        }
        db_stmt_done(s);
        if (st == DB_ERROR)
            rc = db_step_error(e);
        at += rows;
    }
    return rc;
}

static void ensure_bind(const struct ensure_kind *k, struct db_stmt *s, int p, int64_t tenant,
                        const char *id, const char *source, const char *ext, int64_t now_ms)
{
    db_bind_i64(s, p + 1, tenant);
    db_bind_text(s, p + 2, id);
    db_bind_text(s, p + 3, source);
    db_bind_text(s, p + 4, ext);
    if (k == &CUSTOMER_ENSURE) { /* as customer_insert binds a customer of only its key */
        for (int i = 5; i <= 9; i++)
            db_bind_null(s, p + i);
        db_bind_bool(s, p + 10, true);
        db_bind_time(s, p + 11, now_ms);
        db_bind_time(s, p + 12, now_ms);
        db_bind_null(s, p + 13);
    } else { /* as product_insert binds a product of only its key */
        for (int i = 5; i <= 8; i++)
            db_bind_null(s, p + i);
        db_bind_i64(s, p + 9, 0);
        db_bind_time(s, p + 10, now_ms);
        db_bind_time(s, p + 11, now_ms);
    }
}

static int ensure_many(struct db_conn *c, const struct ensure_kind *k, int64_t tenant,
                       const char *source, const char *const *exts, size_t n, int64_t now_ms,
                       int64_t *pks, size_t *created, struct err *e)
{
    *created = 0;
    for (size_t i = 0; i < n; i++)
        pks[i] = 0;
    struct buf sql;
    buf_init(&sql, 16384);
    const char **missing = xcalloc(n ? n : 1, sizeof(*missing));
    size_t *where = xcalloc(n ? n : 1, sizeof(*where));
    int64_t *found = xcalloc(n ? n : 1, sizeof(*found));
    size_t m = 0;
    int rc = ensure_lookup(c, k, tenant, source, exts, n, pks, &sql, e);
    for (size_t i = 0; !rc && i < n; i++) {
        if (!pks[i]) {
            missing[m] = exts[i];
            where[m++] = i;
        }
    }
    char head[300], tail[100];
    snprintf(head, sizeof(head), "INSERT INTO %s (%s) VALUES ", k->table, k->cols);
    snprintf(tail, sizeof(tail), " RETURNING %s, external_id", k->pk_col);
    for (size_t at = 0; !rc && at < m;) {
        size_t rows = many_size(m - at);
        if (many_sql(&sql, head, k->group, rows, tail)) {
            rc = err_set(e, ERR_NOMEM, "%s insert statement too long", k->table);
            break;
        }
        struct db_stmt *s;
        rc = db_prepare(c, &s, buf_str(&sql), e);
        for (size_t i = 0; !rc && i < rows; i++) {
            char id[PUBLIC_ID_MAX];
            rc = new_public_id(k->prefix, now_ms, id, e);
            if (rc) {
                db_stmt_done(s);
                break;
            }
            ensure_bind(k, s, (int)i * k->n_cols, tenant, id, source, missing[at + i], now_ms);
        }
        int st = DB_DONE;
        while (!rc && (st = db_step(s, e)) == DB_ROW) {
            const char *ext = db_col_text(s, 1);
            for (size_t i = at; ext && i < at + rows; i++)
                if (strcmp(missing[i], ext) == 0)
                    found[i] = db_col_i64(s, 0);
        }
        if (!rc) {
            db_stmt_done(s);
            if (st == DB_ERROR)
                rc = db_step_error(e);
        }
        at += rows;
    }
    for (size_t i = 0; !rc && i < m; i++) {
        if (!found[i])
            rc = err_set(e, ERR_INTERNAL, "%s %s neither found nor inserted", k->table, missing[i]);
        else
            pks[where[i]] = found[i];
    }
    if (!rc)
        *created = m;
    free(missing);
    free(where);
    free(found);
    buf_release(&sql);
    return rc;
}

int commerce_store_customer_ensure_many(struct db_conn *c, int64_t tenant, const char *source,
                                        const char *const *external_ids, size_t n, int64_t now_ms,
                                        int64_t *pks, size_t *created, struct err *e)
{
    return ensure_many(c, &CUSTOMER_ENSURE, tenant, source, external_ids, n, now_ms, pks, created,
                       e);
}

int commerce_store_product_ensure_many(struct db_conn *c, int64_t tenant, const char *source,
                                       const char *const *external_ids, size_t n, int64_t now_ms,
                                       int64_t *pks, size_t *created, struct err *e)
{
    return ensure_many(c, &PRODUCT_ENSURE, tenant, source, external_ids, n, now_ms, pks, created,
                       e);
}

static void read_status(struct db_stmt *s, struct arena *a, void *out)
{
    (void)a;
    enum commerce_order_status *st = out;
    if (commerce_order_status_parse(db_col_text(s, 0), "status", st, &(struct err){0}))
        *st = COMMERCE_ORDER_PENDING;
}

int commerce_store_order_status(struct db_conn *c, int64_t tenant, int64_t order_pk,
                                enum commerce_order_status *out, struct err *e)
{
    bool found = false;
    int rc = db_get_one(c, "SELECT status FROM orders WHERE tenant_id = ? AND order_id = ?", tenant,
                        NULL, order_pk, read_status, NULL, out, &found, e);
    if (!rc && !found)
        rc = err_set_field(e, ERR_NOT_FOUND, "order_id", "no order %lld", (long long)order_pk);
    return rc;
}

int commerce_store_order_set_status(struct db_conn *c, int64_t tenant, int64_t order_pk,
                                    enum commerce_order_status from, enum commerce_order_status to,
                                    const char *cause, int64_t payment_pk, int64_t now_ms,
                                    struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE orders SET status = ?, updated_at = ? WHERE tenant_id = ? AND "
                        "order_id = ? AND status = ?",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, commerce_order_status_names[to]);
    db_bind_time(s, 2, now_ms);
    db_bind_i64(s, 3, tenant);
    db_bind_i64(s, 4, order_pk);
    db_bind_text(s, 5, commerce_order_status_names[from]);
    int64_t changed = 0;
    rc = db_exec_write(s, &changed, e);
    if (rc)
        return rc;
    if (changed != 1) {
        enum commerce_order_status now_st;
        rc = commerce_store_order_status(c, tenant, order_pk, &now_st, e);
        if (rc)
            return rc;
        return err_set_field(e, ERR_CONFLICT, "status", "the order is %s, not %s",
                             commerce_order_status_names[now_st],
                             commerce_order_status_names[from]);
    }
    rc = db_prepare(c, &s,
                    "INSERT INTO order_status_history (tenant_id, order_id, from_status, "
                    "to_status, cause, payment_id, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, order_pk);
    db_bind_text(s, 3, commerce_order_status_names[from]);
    db_bind_text(s, 4, commerce_order_status_names[to]);
    db_bind_text(s, 5, cause);
    if (payment_pk > 0)
        db_bind_i64(s, 6, payment_pk);
    else
        db_bind_null(s, 6);
    db_bind_time(s, 7, now_ms);
    return db_exec_write(s, NULL, e);
}

static void read_change(struct db_stmt *s, struct arena *a, void *out)
{
    struct commerce_status_change *ch = out;
    ch->from_status = db_col_str(s, 0, a);
    ch->to_status = db_col_str(s, 1, a);
    ch->cause = db_col_str(s, 2, a);
    ch->payment_id = db_col_dup(s, 3, a);
    ch->at = db_col_time(s, 4);
}

int commerce_store_order_history(struct db_conn *c, int64_t tenant, int64_t order_pk,
                                 struct arena *a, struct commerce_status_change **rows, size_t *n,
                                 struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT h.from_status, h.to_status, h.cause, p.public_id, h.at FROM "
                        "order_status_history h LEFT JOIN payments p ON p.id = h.payment_id AND "
                        "p.tenant_id = h.tenant_id WHERE h.tenant_id = ? AND h.order_id = ? "
                        "ORDER BY h.id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, order_pk);
    return db_list(s, read_change, sizeof(**rows), a, (void **)rows, n, e);
}
