/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/commerce/commerce_store.c (commerce_store.h): create, get and page
 * cities (with their climate), customers, categories, products, orders and carts; references and
 * external ids that are not the tenant's; the import helpers (ensure, upsert) and the batched cart
 * upsert of cart recovery's polls. Runs on SQLite
 * and, with TEST_PG_DSN, on PostgreSQL.
 */
#include "domain/commerce/commerce_store.h"
#include "core/xalloc.h"
#include "domain/account/account.h"
#include "support/check.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1795252200000 /* 2026-11-21T09:10:00Z */

struct fixture {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    struct arena a;
    int64_t t1, t2;
};

static enum db_backend backend; /* set by testdb_run_groups */

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->db = testdb_open_migrated(&f->t, backend, "cstore", NULL);
    f->c = testdb_acquire(f->db);
    arena_init(&f->a);
    OK(account_tenant_create(f->c, "one", NOW, &f->t1, e));
    OK(account_tenant_create(f->c, "two", NOW, &f->t2, e));
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    arena_release(&f->a);
    db_conn_release(f->c);
    db_close(f->db);
    testdb_remove(&f->t);
    free(f);
    return 0;
}

static struct commerce_city city(const char *name, const char *ext)
{
    return (struct commerce_city){
        .source = "api", .external_id = ext, .country_code = "TR", .name = name};
}

static void test_cities_and_climate(void **state)
{
    struct fixture *f = *state;
    struct commerce_city a = city("İstanbul", "ist"), b = city("Ankara", NULL);
    a.has_location = true;
    a.latitude = 41.0082;
    a.longitude = 28.9784;
    OK(commerce_store_city_create(f->c, f->t1, &a, NOW, &f->a, e));
    OK(commerce_store_city_create(f->c, f->t1, &b, NOW + 1, &f->a, e));
    assert_true(strncmp(a.id, "cty_", 4) == 0);
    assert_true(strcmp(a.id, b.id) < 0); /* public ids sort by creation time */
    struct commerce_city dup = city("Other", "ist");
    FAILS(ERR_CONFLICT, commerce_store_city_create(f->c, f->t1, &dup, NOW, &f->a, e));
    assert_string_equal(check_last.field, "external_id");
    OK(commerce_store_city_create(f->c, f->t2, &dup, NOW, &f->a, e)); /* per tenant */
    struct commerce_city bad = city("x", NULL);
    bad.country_code = "Turkey";
    FAILS(ERR_INVALID, commerce_store_city_create(f->c, f->t1, &bad, NOW, &f->a, e));
    assert_string_equal(check_last.field, "country_code");

    struct commerce_city got;
    OK(commerce_store_city_get(f->c, f->t1, a.id, &f->a, &got, e));
    assert_string_equal(got.name, "İstanbul");
    assert_true(got.has_location);
    assert_true(got.latitude > 41.008 && got.latitude < 41.009);
    assert_string_equal(got.external_id, "ist");
    assert_int_equal(got.created_at, NOW);
    FAILS(ERR_NOT_FOUND, commerce_store_city_get(f->c, f->t2, a.id, &f->a, &got, e));
    assert_string_equal(check_last.field, "id");

    struct commerce_climate m[12];
    memset(m, 0, sizeof(m));
    for (int i = 0; i < 12; i++) {
        m[i].month = i + 1;
        m[i].has_avg_temp_c = true;
        m[i].avg_temp_c = 5.5 + i;
        m[i].season_tag = i < 2 || i == 11 ? "WINTER" : "OTHER";
    }
    OK(commerce_store_climate_put(f->c, f->t1, a.pk, m, 12, e));
    m[0].avg_temp_c = -2.25; /* a second put replaces the months */
    OK(commerce_store_climate_put(f->c, f->t1, a.pk, m, 12, e));
    struct commerce_climate *rows;
    size_t n;
    OK(commerce_store_climate_get(f->c, f->t1, a.pk, &f->a, &rows, &n, e));
    assert_int_equal(n, 12);
    assert_int_equal(rows[0].month, 1);
    assert_true(rows[0].avg_temp_c == -2.25);
    assert_false(rows[0].has_rainfall_mm);
    assert_string_equal(rows[11].season_tag, "WINTER");
    FAILS(ERR_INVALID, commerce_store_climate_put(f->c, f->t1, a.pk, m, 6, e));
    OK(commerce_store_climate_get(f->c, f->t2, a.pk, &f->a, &rows, &n, e));
    assert_int_equal(n, 0); /* another tenant's city has no climate for it */

    struct commerce_city *list;
    struct page p = {.after = 0, .limit = 1};
    OK(commerce_store_city_list(f->c, f->t1, &p, &f->a, &list, &n, e));
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, a.id);
    p.after = list[0].pk;
    OK(commerce_store_city_list(f->c, f->t1, &p, &f->a, &list, &n, e));
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, b.id);
    p.after = list[0].pk;
    OK(commerce_store_city_list(f->c, f->t1, &p, &f->a, &list, &n, e));
    assert_int_equal(n, 0);
}

/* A customer, two products in a category: what orders and carts need. */
struct world {
    struct commerce_city city;
    struct commerce_customer cu[2];
    struct commerce_category cat;
    struct commerce_product pr[2];
};

static void make_world(struct fixture *f, int64_t tenant, struct world *w)
{
    memset(w, 0, sizeof(*w));
    w->city = city("İzmir", NULL);
    OK(commerce_store_city_create(f->c, tenant, &w->city, NOW, &f->a, e));
    for (int i = 0; i < 2; i++) {
        w->cu[i] = (struct commerce_customer){.source = "api",
                                              .email = i ? "b@example.com" : "a@example.com",
                                              .birth_date = "1990-05-06",
                                              .city_id = w->city.id,
                                              .is_active = i == 0};
        OK(commerce_store_customer_create(f->c, tenant, &w->cu[i], NOW, &f->a, e));
    }
    w->cat = (struct commerce_category){.source = "api", .name = "Süt ürünleri"};
    OK(commerce_store_category_create(f->c, tenant, &w->cat, NOW, &f->a, e));
    for (int i = 0; i < 2; i++) {
        w->pr[i] = (struct commerce_product){.source = "api",
                                             .name = i ? "Peynir" : "Ayran",
                                             .category_id = w->cat.id,
                                             .has_price = true,
                                             .stock = 10 + i};
        OK(money_from_minor(i ? 9900 : 1250, "TRY", &w->pr[i].price, e));
        OK(commerce_store_product_create(f->c, tenant, &w->pr[i], NOW, &f->a, e));
    }
}

static void test_customers_and_products(void **state)
{
    struct fixture *f = *state;
    struct world w;
    make_world(f, f->t1, &w);
    struct commerce_customer cu;
    OK(commerce_store_customer_get(f->c, f->t1, w.cu[0].id, &f->a, &cu, e));
    assert_string_equal(cu.email, "a@example.com");
    assert_string_equal(cu.birth_date, "1990-05-06");
    assert_string_equal(cu.city_id, w.city.id);
    assert_true(cu.is_active);
    assert_null(cu.phone);
    OK(commerce_store_customer_get(f->c, f->t1, w.cu[1].id, &f->a, &cu, e));
    assert_false(cu.is_active);
    FAILS(ERR_NOT_FOUND, commerce_store_customer_get(f->c, f->t2, w.cu[0].id, &f->a, &cu, e));

    /* another tenant cannot point at this tenant's city or category */
    struct commerce_customer other = {.source = "api", .city_id = w.city.id, .is_active = true};
    FAILS(ERR_NOT_FOUND, commerce_store_customer_create(f->c, f->t2, &other, NOW, &f->a, e));
    assert_string_equal(check_last.field, "city_id");
    struct commerce_product op = {.source = "api", .name = "x", .category_id = w.cat.id};
    FAILS(ERR_NOT_FOUND, commerce_store_product_create(f->c, f->t2, &op, NOW, &f->a, e));
    assert_string_equal(check_last.field, "category_id");
    struct commerce_customer bad = {.source = "api", .birth_date = "1990-02-31"};
    FAILS(ERR_INVALID, commerce_store_customer_create(f->c, f->t1, &bad, NOW, &f->a, e));
    assert_string_equal(check_last.field, "birth_date");

    struct commerce_product pr;
    OK(commerce_store_product_get(f->c, f->t1, w.pr[1].id, &f->a, &pr, e));
    assert_string_equal(pr.name, "Peynir");
    assert_true(pr.has_price);
    assert_int_equal(pr.price.minor, 9900);
    assert_string_equal(pr.price.currency->code, "TRY");
    assert_string_equal(pr.category_id, w.cat.id);
    assert_int_equal(pr.stock, 11);
    struct commerce_category cat;
    OK(commerce_store_category_get(f->c, f->t1, w.cat.id, &f->a, &cat, e));
    assert_string_equal(cat.name, "Süt ürünleri");

    struct commerce_customer *cl;
    struct commerce_product *pl;
    struct commerce_category *kl;
    size_t n;
    struct page p = {.after = 0, .limit = 50};
    OK(commerce_store_customer_list(f->c, f->t1, &p, &f->a, &cl, &n, e));
    assert_int_equal(n, 2);
    OK(commerce_store_product_list(f->c, f->t1, &p, &f->a, &pl, &n, e));
    assert_int_equal(n, 2);
    OK(commerce_store_category_list(f->c, f->t1, &p, &f->a, &kl, &n, e));
    assert_int_equal(n, 1);
    OK(commerce_store_customer_list(f->c, f->t2, &p, &f->a, &cl, &n, e));
    assert_int_equal(n, 0);
    OK(commerce_store_product_list(f->c, f->t2, &p, &f->a, &pl, &n, e));
    assert_int_equal(n, 0);
}

static void test_orders_and_carts(void **state)
{
    struct fixture *f = *state;
    struct world w;
    make_world(f, f->t1, &w);
    struct commerce_item items[2] = {{.product_id = w.pr[0].id, .quantity = 2, .unit_price = 1177},
                                     {.product_id = w.pr[1].id, .quantity = 1, .unit_price = 300}};
    struct commerce_order o = {.source = "api",
                               .customer_id = w.cu[0].id,
                               .status = COMMERCE_ORDER_PAID,
                               .items = items,
                               .n_items = 2,
                               .created_at = NOW - 86400000};
    OK(money_currency_find("TRY", &o.currency, e));
    OK(commerce_store_order_create(f->c, f->t1, &o, NOW, &f->a, e));
    assert_int_equal(o.total_amount, 2654);
    struct commerce_order got;
    OK(commerce_store_order_get(f->c, f->t1, o.id, &f->a, &got, e));
    assert_int_equal(got.status, COMMERCE_ORDER_PAID);
    assert_int_equal(got.total_amount, 2654);
    assert_int_equal(got.created_at, NOW - 86400000);
    assert_string_equal(got.customer_id, w.cu[0].id);
    assert_int_equal(got.n_items, 2);
    assert_string_equal(got.items[1].product_id, w.pr[1].id);
    assert_int_equal(got.items[0].unit_price, 1177);
    FAILS(ERR_NOT_FOUND, commerce_store_order_get(f->c, f->t2, o.id, &f->a, &got, e));

    /* a second order for the other customer; the list filters by customer */
    struct commerce_order o2 = o;
    o2.id = NULL;
    o2.customer_id = w.cu[1].id;
    o2.status = COMMERCE_ORDER_REFUNDED;
    o2.n_items = 1;
    OK(commerce_store_order_create(f->c, f->t1, &o2, NOW, &f->a, e));
    struct commerce_order *rows;
    size_t n;
    struct page p = {.after = 0, .limit = 50};
    OK(commerce_store_order_list(f->c, f->t1, 0, &p, &f->a, &rows, &n, e));
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].n_items, 2);
    OK(commerce_store_order_list(f->c, f->t1, w.cu[1].pk, &p, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].status, COMMERCE_ORDER_REFUNDED);
    assert_false(commerce_order_status_counts(rows[0].status));
    OK(commerce_store_order_list(f->c, f->t2, 0, &p, &f->a, &rows, &n, e));
    assert_int_equal(n, 0);

    /* references must be the tenant's; the external id is unique per (tenant, source) */
    struct world w2;
    make_world(f, f->t2, &w2);
    struct commerce_item foreign = {.product_id = w2.pr[0].id, .quantity = 1, .unit_price = 1};
    struct commerce_order bad = o;
    bad.items = &foreign;
    bad.n_items = 1;
    FAILS(ERR_NOT_FOUND, commerce_store_order_create(f->c, f->t1, &bad, NOW, &f->a, e));
    assert_string_equal(check_last.field, "items[0].product_id");
    bad = o;
    bad.customer_id = w2.cu[0].id;
    FAILS(ERR_NOT_FOUND, commerce_store_order_create(f->c, f->t1, &bad, NOW, &f->a, e));
    assert_string_equal(check_last.field, "customer_id");
    bad = o;
    bad.external_id = "shop-1";
    OK(commerce_store_order_create(f->c, f->t1, &bad, NOW, &f->a, e));
    bad.external_id = "shop-1";
    FAILS(ERR_CONFLICT, commerce_store_order_create(f->c, f->t1, &bad, NOW, &f->a, e));
    assert_string_equal(check_last.field, "external_id");
    bad.source = "other";
    OK(commerce_store_order_create(f->c, f->t1, &bad, NOW, &f->a, e));

    struct commerce_cart cart = {
        .source = "api", .customer_id = w.cu[0].id, .items = items, .n_items = 1};
    OK(money_currency_find("TRY", &cart.currency, e));
    OK(commerce_store_cart_create(f->c, f->t1, &cart, NOW, &f->a, e));
    assert_int_equal(cart.total_amount, 2354);
    struct commerce_cart gc;
    OK(commerce_store_cart_get(f->c, f->t1, cart.id, &f->a, &gc, e));
    assert_int_equal(gc.n_items, 1);
    assert_int_equal(gc.items[0].quantity, 2);
    FAILS(ERR_NOT_FOUND, commerce_store_cart_get(f->c, f->t2, cart.id, &f->a, &gc, e));
    struct commerce_cart *cl;
    OK(commerce_store_cart_list(f->c, f->t1, w.cu[0].pk, &p, &f->a, &cl, &n, e));
    assert_int_equal(n, 1);
    OK(commerce_store_cart_list(f->c, f->t1, w.cu[1].pk, &p, &f->a, &cl, &n, e));
    assert_int_equal(n, 0);
}

static void test_import_helpers(void **state)
{
    struct fixture *f = *state;
    int64_t c1 = 0, c1b = 0, p1 = 0, k1 = 0, k1b = 0;
    bool created = false;
    OK(commerce_store_customer_ensure(f->c, f->t1, "shop", "c1", NOW, &c1, &created, e));
    assert_true(created && c1 > 0);
    OK(commerce_store_customer_ensure(f->c, f->t1, "shop", "c1", NOW, &c1b, &created, e));
    assert_false(created);
    assert_int_equal(c1, c1b);
    OK(commerce_store_customer_ensure(f->c, f->t2, "shop", "c1", NOW, &c1b, &created, e));
    assert_true(created && c1b != c1);
    OK(commerce_store_category_ensure(f->c, f->t1, "shop", "drinks", "İçecek", NOW, &k1, &created,
                                      e));
    OK(commerce_store_category_ensure(f->c, f->t1, "shop", "drinks", NULL, NOW, &k1b, &created, e));
    assert_int_equal(k1, k1b);
    OK(commerce_store_product_ensure(f->c, f->t1, "shop", "p1", NOW, &p1, &created, e));
    int64_t found = -1;
    OK(commerce_store_find_external(f->c, "product", f->t1, "shop", "p1", &found, e));
    assert_int_equal(found, p1);
    OK(commerce_store_find_external(f->c, "product", f->t2, "shop", "p1", &found, e));
    assert_int_equal(found, 0);

    /* upsert: insert, then update in place (items replaced, public id kept) */
    struct commerce_item items[2] = {{.product_pk = p1, .quantity = 1, .unit_price = 100},
                                     {.product_pk = p1, .quantity = 2, .unit_price = 50}};
    struct commerce_order o = {.source = "shop",
                               .external_id = "o1",
                               .customer_pk = c1,
                               .status = COMMERCE_ORDER_PLACED,
                               .items = items,
                               .n_items = 2,
                               .total_amount = 200,
                               .created_at = NOW - 1000};
    OK(money_currency_find("TRY", &o.currency, e));
    bool inserted = false;
    OK(commerce_store_order_upsert(f->c, f->t1, &o, NOW, &inserted, e));
    assert_true(inserted);
    struct commerce_order *rows;
    size_t n;
    struct page p = {.after = 0, .limit = 50};
    OK(commerce_store_order_list(f->c, f->t1, 0, &p, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    const char *id = rows[0].id;
    assert_int_equal(rows[0].n_items, 2);
    o.status = COMMERCE_ORDER_CANCELLED;
    o.n_items = 1;
    o.total_amount = 100;
    OK(commerce_store_order_upsert(f->c, f->t1, &o, NOW + 5, &inserted, e));
    assert_false(inserted);
    OK(commerce_store_order_list(f->c, f->t1, 0, &p, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].id, id);
    assert_int_equal(rows[0].n_items, 1);
    assert_int_equal(rows[0].status, COMMERCE_ORDER_CANCELLED);
    assert_int_equal(rows[0].total_amount, 100);
    assert_int_equal(rows[0].updated_at, NOW + 5);

    struct commerce_customer cu = {
        .source = "shop", .external_id = "c1", .email = "c@x.tr", .is_active = false};
    OK(commerce_store_customer_upsert(f->c, f->t1, &cu, NOW, &inserted, e));
    assert_false(inserted);
    cu.external_id = "c2";
    OK(commerce_store_customer_upsert(f->c, f->t1, &cu, NOW, &inserted, e));
    assert_true(inserted);
    struct commerce_customer *cl;
    OK(commerce_store_customer_list(f->c, f->t1, &p, &f->a, &cl, &n, e));
    assert_int_equal(n, 2);
    assert_string_equal(cl[0].email, "c@x.tr");
    assert_false(cl[0].is_active);
}

/* One integer of the row `pk` of `sql` ("SELECT x FROM t WHERE pk = ?"). */
static int64_t one_i64(struct fixture *f, const char *sql, int64_t pk)
{
    struct db_stmt *s;
    OK(db_prepare(f->c, &s, sql, e));
    db_bind_i64(s, 1, pk);
    struct err er;
    err_init(&er);
    assert_int_equal(db_step(s, &er), DB_ROW);
    int64_t v = db_col_i64(s, 0);
    db_stmt_done(s);
    return v;
}

static char *one_text(struct fixture *f, const char *sql, int64_t pk)
{
    struct db_stmt *s;
    OK(db_prepare(f->c, &s, sql, e));
    db_bind_i64(s, 1, pk);
    struct err er;
    err_init(&er);
    assert_int_equal(db_step(s, &er), DB_ROW);
    char *v = xstrdup(db_col_text(s, 0));
    db_stmt_done(s);
    return v;
}

/*
 * The batched cart upsert gives what one upsert after another gives: runs longer than 64 carts,
 * statements of 64, 4 and 2 rows, a repeated external id (the later cart wins, on the same row),
 * items replaced, the public id and created_at kept, another tenant's carts apart.
 */
/* The batched ensures find what exists (in this tenant) and make the rest as one ensure would. */
static void test_ensure_many(void **state)
{
    struct fixture *f = *state;
    enum { N = 70 };
    char ext[N][16];
    const char *exts[N];
    int64_t before[N] = {0};
    bool created = false;
    for (int i = 0; i < N; i++) {
        snprintf(ext[i], sizeof(ext[i]), "k%d", i);
        exts[i] = ext[i];
        if (i % 5 == 0) {
            OK(commerce_store_customer_ensure(f->c, f->t1, "shop", ext[i], NOW, &before[i],
                                              &created, e));
            OK(commerce_store_product_ensure(f->c, f->t1, "shop", ext[i], NOW, &before[i], &created,
                                             e));
        }
        int64_t other;
        if (i % 2 == 0) /* the same keys in another tenant must not be taken */
            OK(commerce_store_customer_ensure(f->c, f->t2, "shop", ext[i], NOW, &other, &created,
                                              e));
    }
    for (int kind = 0; kind < 2; kind++) {
        const char *table = kind ? "product" : "customer";
        int64_t pks[N];
        size_t made = 0;
        OK(db_begin(f->c, e));
        if (kind)
            OK(commerce_store_product_ensure_many(f->c, f->t1, "shop", exts, N, NOW, pks, &made,
                                                  e));
        else
            OK(commerce_store_customer_ensure_many(f->c, f->t1, "shop", exts, N, NOW, pks, &made,
                                                   e));
        OK(db_commit(f->c, e));
        assert_int_equal(made, N - (N + 4) / 5);
        for (int i = 0; i < N; i++) {
            int64_t found = 0;
            OK(commerce_store_find_external(f->c, table, f->t1, "shop", ext[i], &found, e));
            assert_true(found > 0);
            assert_int_equal(pks[i], found);
            if (i % 5 == 0 && kind)
                assert_int_equal(pks[i], before[i]); /* the products were ensured last */
        }
        /* a second time finds them all and makes nothing */
        int64_t again[N];
        OK(db_begin(f->c, e));
        if (kind)
            OK(commerce_store_product_ensure_many(f->c, f->t1, "shop", exts, N, NOW, again, &made,
                                                  e));
        else
            OK(commerce_store_customer_ensure_many(f->c, f->t1, "shop", exts, N, NOW, again, &made,
                                                   e));
        OK(db_commit(f->c, e));
        assert_int_equal(made, 0);
        assert_memory_equal(again, pks, sizeof(pks));
    }
    int64_t c1 = 0, p1 = 0;
    OK(commerce_store_find_external(f->c, "customer", f->t1, "shop", "k1", &c1, e));
    OK(commerce_store_find_external(f->c, "product", f->t1, "shop", "k1", &p1, e));
    assert_int_equal(one_i64(f,
                             "SELECT COUNT(*) FROM customer WHERE customer_id = ? AND is_active "
                             "AND name IS NULL AND email IS NULL AND city_id IS NULL",
                             c1),
                     1);
    assert_int_equal(one_i64(f,
                             "SELECT COUNT(*) FROM product WHERE product_id = ? AND stock = 0 "
                             "AND price IS NULL AND category_id IS NULL AND name IS NULL",
                             p1),
                     1);
    char *id = one_text(f, "SELECT public_id FROM customer WHERE customer_id = ?", c1);
    assert_true(strncmp(id, "cus_", 4) == 0);
    free(id);
}

/* The statuses the orders table takes, and no other (the check differs by backend, not its
 * meaning). */
static void test_order_status_check(void **state)
{
    struct fixture *f = *state;
    int64_t c1 = 0;
    bool created = false;
    OK(commerce_store_customer_ensure(f->c, f->t1, "shop", "c1", NOW, &c1, &created, e));
    const struct money_currency *try;
    OK(money_currency_find("TRY", &try, e));
    struct commerce_order o = {.source = "shop",
                               .external_id = "o1",
                               .customer_pk = c1,
                               .currency = try,
                               .status = COMMERCE_ORDER_PAID};
    bool inserted = false;
    OK(commerce_store_order_upsert(f->c, f->t1, &o, NOW, &inserted, e));
    int64_t pk = 0;
    OK(commerce_store_find_external(f->c, "orders", f->t1, "shop", "o1", &pk, e));
    static const char *const ok[] = {"pending",   "paid",     "fulfilled",
                                     "cancelled", "refunded", "partially_refunded"};
    static const char *const bad[] = {"shipped", "placed", "Paid", ""};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]) + sizeof(bad) / sizeof(bad[0]); i++) {
        bool good = i < sizeof(ok) / sizeof(ok[0]);
        const char *status = good ? ok[i] : bad[i - sizeof(ok) / sizeof(ok[0])];
        struct db_stmt *s;
        OK(db_prepare(f->c, &s, "UPDATE orders SET status = ? WHERE order_id = ?", e));
        db_bind_text(s, 1, status);
        db_bind_i64(s, 2, pk);
        struct err we;
        err_init(&we);
        int rc = db_exec_write(s, NULL, &we);
        if (good != (rc == 0))
            fail_msg("status \"%s\": %s", status, good ? we.msg : "accepted");
    }
    char *now = one_text(f, "SELECT status FROM orders WHERE order_id = ?", pk);
    assert_string_equal(now, "partially_refunded");
    free(now);
}

static void test_cart_upsert_many(void **state)
{
    struct fixture *f = *state;
    struct world w, w2;
    make_world(f, f->t1, &w);
    make_world(f, f->t2, &w2);
    const struct money_currency *try;
    OK(money_currency_find("TRY", &try, e));
    enum { N = 70 };
    struct commerce_cart carts[N];
    struct commerce_item items[N][3];
    char ext[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(ext[i], sizeof(ext[i]), "k%d", i);
        for (int k = 0; k < 3; k++)
            items[i][k] = (struct commerce_item){
                .product_pk = w.pr[k % 2].pk, .quantity = i + 1 + k, .unit_price = 100 + k};
        carts[i] = (struct commerce_cart){.source = "shop-1",
                                          .external_id = ext[i],
                                          .customer_pk = w.cu[i % 2].pk,
                                          .currency = try,
                                          .total_amount = 100 * i,
                                          .items = items[i],
                                          .n_items = (size_t)(i % 3 + 1),
                                          .created_at = NOW - 1000};
    }
    OK(commerce_store_cart_upsert_many(f->c, f->t1, carts, N, NOW, e));
    for (int i = 0; i < N; i++) {
        assert_true(carts[i].pk > 0);
        for (int j = 0; j < i; j++)
            assert_true(carts[j].pk != carts[i].pk);
        assert_int_equal(one_i64(f, "SELECT total_amount FROM cart WHERE cart_id = ?", carts[i].pk),
                         100 * i);
        assert_int_equal(one_i64(f, "SELECT customer_id FROM cart WHERE cart_id = ?", carts[i].pk),
                         w.cu[i % 2].pk);
        assert_int_equal(
            one_i64(f, "SELECT count(*) FROM cart_item WHERE cart_id = ?", carts[i].pk), i % 3 + 1);
        /* quantities i+1, i+2, i+3 for as many lines */
        int64_t want = 0;
        for (int k = 0; k <= i % 3; k++)
            want += i + 1 + k;
        assert_int_equal(
            one_i64(f, "SELECT sum(quantity) FROM cart_item WHERE cart_id = ?", carts[i].pk), want);
    }
    int64_t k1 = carts[1].pk;
    char *public_id = one_text(f, "SELECT public_id FROM cart WHERE cart_id = ?", k1);
    char *created = one_text(f, "SELECT created_at FROM cart WHERE cart_id = ?", k1);

    /* k1 twice in one call: the later one wins, on the same row */
    struct commerce_item x_items[1] = {{.product_pk = w.pr[0].pk, .quantity = 5, .unit_price = 1}};
    struct commerce_item z_items[2] = {{.product_pk = w.pr[1].pk, .quantity = 7, .unit_price = 2},
                                       {.product_pk = w.pr[0].pk, .quantity = 8, .unit_price = 3}};
    struct commerce_cart again[3] = {
        {.source = "shop-1",
         .external_id = "k1",
         .customer_pk = w.cu[0].pk,
         .currency = try,
         .total_amount = 5,
         .items = x_items,
         .n_items = 1,
         .created_at = NOW},
        {.source = "shop-2",
         .external_id = "k1",
         .customer_pk = w.cu[1].pk,
         .currency = try,
         .total_amount = 6,
         .items = x_items,
         .n_items = 1,
         .created_at = NOW},
        {.source = "shop-1",
         .external_id = "k1",
         .customer_pk = w.cu[1].pk,
         .currency = try,
         .total_amount = 9,
         .items = z_items,
         .n_items = 2,
         .created_at = NOW},
    };
    OK(commerce_store_cart_upsert_many(f->c, f->t1, again, 3, NOW + 5, e));
    assert_int_equal(again[0].pk, k1);
    assert_int_equal(again[2].pk, k1);
    assert_true(again[1].pk != k1); /* another source, another cart */
    assert_int_equal(one_i64(f, "SELECT total_amount FROM cart WHERE cart_id = ?", k1), 9);
    assert_int_equal(one_i64(f, "SELECT customer_id FROM cart WHERE cart_id = ?", k1), w.cu[1].pk);
    assert_int_equal(one_i64(f, "SELECT count(*) FROM cart_item WHERE cart_id = ?", k1), 2);
    assert_int_equal(one_i64(f, "SELECT sum(quantity) FROM cart_item WHERE cart_id = ?", k1), 15);
    char *public_after = one_text(f, "SELECT public_id FROM cart WHERE cart_id = ?", k1);
    char *created_after = one_text(f, "SELECT created_at FROM cart WHERE cart_id = ?", k1);
    assert_string_equal(public_after, public_id);
    assert_string_equal(created_after, created);
    /* the others are as they were */
    assert_int_equal(one_i64(f, "SELECT total_amount FROM cart WHERE cart_id = ?", carts[2].pk),
                     200);

    /* the same external id in another tenant is another cart */
    struct commerce_cart other = {.source = "shop-1",
                                  .external_id = "k1",
                                  .customer_pk = w2.cu[0].pk,
                                  .currency = try,
                                  .total_amount = 1,
                                  .items = x_items,
                                  .n_items = 1};
    OK(commerce_store_cart_upsert_many(f->c, f->t2, &other, 1, NOW, e));
    assert_true(other.pk != k1);
    assert_int_equal(one_i64(f, "SELECT total_amount FROM cart WHERE cart_id = ?", k1), 9);
    free(public_id);
    free(created);
    free(public_after);
    free(created_after);
}

/*
 * The batched order upsert gives what one order upsert after another gives: 70 orders (two
 * runs), some already there and some new, told apart in inserted[]; an order repeated in one
 * call is inserted once and then updated by the later one; updated orders have their items
 * replaced, status, total, created_at and campaign set, and keep their public id; new ids carry
 * the time given for them.
 */
static void test_order_upsert_many(void **state)
{
    struct fixture *f = *state;
    struct world w;
    make_world(f, f->t1, &w);
    const struct money_currency *try;
    OK(money_currency_find("TRY", &try, e));
    enum { N = 70 };
    struct commerce_order orders[N];
    struct commerce_item items[N][3];
    char ext[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(ext[i], sizeof(ext[i]), "m%d", i);
        for (int k = 0; k < 3; k++)
            items[i][k] = (struct commerce_item){
                .product_pk = w.pr[k % 2].pk, .quantity = i + 1 + k, .unit_price = 100 + k};
        orders[i] = (struct commerce_order){.source = "shop-1",
                                            .external_id = ext[i],
                                            .customer_pk = w.cu[i % 2].pk,
                                            .status = COMMERCE_ORDER_PAID,
                                            .currency = try,
                                            .total_amount = 100 * i,
                                            .items = items[i],
                                            .n_items = (size_t)(i % 3 + 1),
                                            .created_at = NOW - 1000};
    }
    /* every third order is there already, with other values and one item */
    int64_t before[N] = {0};
    char *public_before[N] = {0};
    for (int i = 0; i < N; i += 3) {
        struct commerce_order o = orders[i];
        o.status = COMMERCE_ORDER_PLACED;
        o.total_amount = 1;
        o.n_items = 1;
        o.created_at = NOW - 5000;
        bool ins = false;
        OK(commerce_store_order_upsert(f->c, f->t1, &o, NOW - 10, &ins, e));
        assert_true(ins);
        OK(commerce_store_find_external(f->c, "orders", f->t1, "shop-1", ext[i], &before[i], e));
        public_before[i] =
            one_text(f, "SELECT public_id FROM orders WHERE order_id = ?", before[i]);
    }
    orders[5].campaign = "SPRING";
    bool inserted[N];
    /* new ids carry the time given for them, not now */
    OK(commerce_store_order_upsert_many(f->c, f->t1, orders, N, NOW, NOW + 100000, inserted, e));
    for (int i = 0; i < N; i++) {
        assert_true(orders[i].pk > 0);
        assert_int_equal(inserted[i], i % 3 != 0);
        if (i % 3 == 0) {
            assert_int_equal(orders[i].pk, before[i]);
            char *pub = one_text(f, "SELECT public_id FROM orders WHERE order_id = ?", before[i]);
            assert_string_equal(pub, public_before[i]);
            free(pub);
            free(public_before[i]);
        }
        for (int j = 0; j < i; j++)
            assert_true(orders[j].pk != orders[i].pk);
        int64_t pk = orders[i].pk;
        assert_int_equal(one_i64(f, "SELECT total_amount FROM orders WHERE order_id = ?", pk),
                         100 * i);
        assert_int_equal(one_i64(f, "SELECT customer_id FROM orders WHERE order_id = ?", pk),
                         w.cu[i % 2].pk);
        assert_int_equal(
            one_i64(f, "SELECT count(*) FROM orders WHERE order_id = ? AND status = 'paid'", pk),
            1);
        assert_int_equal(one_i64(f, "SELECT count(*) FROM order_item WHERE order_id = ?", pk),
                         i % 3 + 1);
        int64_t want = 0;
        for (int k = 0; k <= i % 3; k++)
            want += i + 1 + k;
        assert_int_equal(one_i64(f, "SELECT sum(quantity) FROM order_item WHERE order_id = ?", pk),
                         want);
    }
    assert_int_equal(one_i64(f,
                             "SELECT count(*) FROM orders WHERE order_id = ? AND "
                             "campaign = 'SPRING'",
                             orders[5].pk),
                     1);
    assert_int_equal(one_i64(f, "SELECT count(*) FROM orders WHERE tenant_id = ?", f->t1), N);
    /* created_at is the order's own time, also on update */
    char *c0 = one_text(f, "SELECT created_at FROM orders WHERE order_id = ?", orders[0].pk);
    char *c1 = one_text(f, "SELECT created_at FROM orders WHERE order_id = ?", orders[1].pk);
    assert_string_equal(c0, c1);
    free(c0);
    free(c1);

    /* a new order twice in one call, and a known one twice: the later one wins each time */
    struct commerce_item x_items[1] = {{.product_pk = w.pr[0].pk, .quantity = 5, .unit_price = 1}};
    struct commerce_item z_items[2] = {{.product_pk = w.pr[1].pk, .quantity = 7, .unit_price = 2},
                                       {.product_pk = w.pr[0].pk, .quantity = 8, .unit_price = 3}};
    struct commerce_order again[4];
    for (int i = 0; i < 4; i++)
        again[i] =
            (struct commerce_order){.source = "shop-1",
                                    .external_id = i % 2 ? "m1" : "fresh",
                                    .customer_pk = w.cu[i / 2].pk,
                                    .status = i < 2 ? COMMERCE_ORDER_PAID : COMMERCE_ORDER_REFUNDED,
                                    .currency = try,
                                    .total_amount = 10 + i,
                                    .items = i < 2 ? x_items : z_items,
                                    .n_items = i < 2 ? 1 : 2,
                                    .created_at = NOW};
    bool ins2[4];
    OK(commerce_store_order_upsert_many(f->c, f->t1, again, 4, NOW + 5, NOW + 5, ins2, e));
    assert_true(ins2[0]);
    assert_false(ins2[1]);
    assert_false(ins2[2]);
    assert_false(ins2[3]);
    assert_int_equal(again[0].pk, again[2].pk);
    assert_int_equal(again[1].pk, orders[1].pk);
    assert_int_equal(again[3].pk, orders[1].pk);
    /* "fresh" was made at NOW + 5, m1 (new in the first call) with the time NOW + 100000 */
    char *fresh_id = one_text(f, "SELECT public_id FROM orders WHERE order_id = ?", again[0].pk);
    char *m1_id = one_text(f, "SELECT public_id FROM orders WHERE order_id = ?", orders[1].pk);
    assert_true(strcmp(fresh_id, m1_id) < 0);
    free(fresh_id);
    free(m1_id);
    for (int i = 2; i < 4; i++) {
        int64_t pk = again[i].pk;
        assert_int_equal(one_i64(f, "SELECT total_amount FROM orders WHERE order_id = ?", pk),
                         10 + i);
        assert_int_equal(one_i64(f, "SELECT customer_id FROM orders WHERE order_id = ?", pk),
                         w.cu[1].pk);
        assert_int_equal(
            one_i64(f, "SELECT count(*) FROM orders WHERE order_id = ? AND status = 'refunded'",
                    pk),
            1);
        assert_int_equal(one_i64(f, "SELECT count(*) FROM order_item WHERE order_id = ?", pk), 2);
        assert_int_equal(one_i64(f, "SELECT sum(quantity) FROM order_item WHERE order_id = ?", pk),
                         15);
    }
    assert_int_equal(one_i64(f, "SELECT count(*) FROM orders WHERE tenant_id = ?", f->t1), N + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cities_and_climate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_customers_and_products, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orders_and_carts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_helpers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cart_upsert_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_upsert_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_status_check, setup, teardown),
    };
    return TESTDB_RUN_GROUPS("commerce_store", tests, &backend) ? 1 : 0;
}
