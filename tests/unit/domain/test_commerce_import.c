/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/commerce/import.c (import.h): the NDJSON and CSV line parsers
 * (quotes, bad decimals, unknown currencies, missing fields: each names its field), then import
 * sessions on SQLite and, with TEST_PG_DSN, PostgreSQL: bad lines rejected with their line while
 * good ones are kept, re-import updates instead of duplicating, pieces of any size, CSV orders
 * over several rows, batches past IMPORT_BATCH, and tenant isolation.
 */
#include "domain/commerce/import.h"
#include "core/buf.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "db/store.h"
#include "domain/account/account.h"
#include "domain/commerce/commerce_store.h"
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

/* ======================== parsers ======================== */

static int parse_order(const char *line, struct arena *a, struct commerce_order *o, struct err *e)
{
    return import_parse_order_json(line, strlen(line), a, o, e);
}

static void test_order_line_parses(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct commerce_order o;
    OK(parse_order("{\"external_id\":\"o1\",\"customer_external_id\":\"c1\",\"created_at\":"
                   "\"2026-01-31T10:00:00Z\",\"currency\":\"TRY\",\"items\":[{\"product_external_"
                   "id\":\"p1\",\"quantity\":2,\"unit_price\":\"11.77\"},{\"product_external_id\":"
                   "\"p2\",\"quantity\":1,\"unit_price\":\"3\"}],\"extra\":1}",
                   &a, &o, e));
    assert_string_equal(o.external_id, "o1");
    assert_string_equal(o.customer_external_id, "c1");
    assert_string_equal(o.currency->code, "TRY");
    assert_int_equal(o.status, COMMERCE_ORDER_PLACED);
    assert_int_equal(o.n_items, 2);
    assert_string_equal(o.items[1].product_external_id, "p2");
    assert_int_equal(o.items[0].unit_price, 1177);
    assert_int_equal(o.items[1].unit_price, 300);
    assert_int_equal(o.total_amount, 2 * 1177 + 300);
    assert_int_equal(o.created_at, 1769853600000);

    OK(parse_order("{\"external_id\":\"o2\",\"customer_external_id\":\"c1\",\"created_at\":"
                   "\"2026-01-31T10:00:00Z\",\"currency\":\"JPY\",\"status\":\"refunded\","
                   "\"items\":[{\"product_external_id\":\"p1\",\"quantity\":\"3\","
                   "\"unit_price\":\"1200\"}]}",
                   &a, &o, e));
    assert_int_equal(o.status, COMMERCE_ORDER_REFUNDED);
    assert_false(commerce_order_status_counts(o.status));
    assert_int_equal(o.total_amount, 3600);
    arena_release(&a);
}

/* Each bad line is refused naming the field that is wrong. */
static void test_order_line_errors_name_field(void **state)
{
    (void)state;
    static const struct {
        const char *line, *field;
    } cases[] = {
        /* bad decimals */
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"TRY\",\"items\":[{\"product_external_id\":\"p\",\"quantity\":1,"
         "\"unit_price\":\"11.777\"}]}",
         "items[0].unit_price"},
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"TRY\",\"items\":[{\"product_external_id\":\"p\",\"quantity\":1,"
         "\"unit_price\":\"1\"},{\"product_external_id\":\"p\",\"quantity\":1,\"unit_price\":"
         "\"11,77\"}]}",
         "items[1].unit_price"},
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"TRY\",\"items\":[{\"product_external_id\":\"p\",\"quantity\":1,"
         "\"unit_price\":11.77}]}",
         "items[0].unit_price"},
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"TRY\",\"items\":[{\"product_external_id\":\"p\",\"quantity\":1,"
         "\"unit_price\":\"-1.00\"}]}",
         "items[0].unit_price"},
        /* unknown currency */
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"XYZ\",\"items\":[{\"product_external_id\":\"p\",\"quantity\":1,"
         "\"unit_price\":\"1\"}]}",
         "currency"},
        /* missing fields */
        {"{\"external_id\":\"o\",\"created_at\":\"2026-01-01T00:00:00Z\",\"currency\":\"TRY\","
         "\"items\":[{\"product_external_id\":\"p\",\"quantity\":1,\"unit_price\":\"1\"}]}",
         "customer_external_id"},
        {"{\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:00Z\",\"currency\":"
         "\"TRY\",\"items\":[{\"product_external_id\":\"p\",\"quantity\":1,\"unit_price\":\"1\"}]}",
         "external_id"},
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"currency\":\"TRY\",\"items\":[{"
         "\"product_external_id\":\"p\",\"quantity\":1,\"unit_price\":\"1\"}]}",
         "created_at"},
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"items\":[{\"product_external_id\":\"p\",\"quantity\":1,\"unit_price\":\"1\"}]}",
         "currency"},
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"TRY\"}",
         "items"},
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"TRY\",\"items\":[{\"quantity\":1,\"unit_price\":\"1\"}]}",
         "items[0].product_external_id"},
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"TRY\",\"items\":[{\"product_external_id\":\"p\",\"unit_price\":"
         "\"1\"}]}",
         "items[0].quantity"},
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"TRY\",\"items\":[{\"product_external_id\":\"p\",\"quantity\":0,"
         "\"unit_price\":\"1\"}]}",
         "items[0].quantity"},
        /* bad values */
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"yesterday\","
         "\"currency\":\"TRY\",\"items\":[{\"product_external_id\":\"p\",\"quantity\":1,"
         "\"unit_price\":\"1\"}]}",
         "created_at"},
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"TRY\",\"status\":\"shipped\",\"items\":[{\"product_external_id\":"
         "\"p\",\"quantity\":1,\"unit_price\":\"1\"}]}",
         "status"},
        /* read without jansson up to the fault, then named by it */
        {"{\"external_id\":\"o\",\"external_id\":\"o\",\"customer_external_id\":\"c\","
         "\"created_at\":\"2026-01-01T00:00:00Z\",\"currency\":\"TRY\",\"items\":[{"
         "\"product_external_id\":\"p\",\"quantity\":1,\"unit_price\":\"1\"}]}",
         "line"},
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"TRY\",\"items\":[{\"product_external_id\":\"p\",\"quantity\":1,"
         "\"unit_price\":\"1\",\"n\":1,\"n\":2}]}",
         "line"},
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"TRY\",\"items\":[{\"product_external_id\":\"p\",\"quantity\":01,"
         "\"unit_price\":\"1\"}]}",
         "line"},
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"TRY\",\"items\":[{\"product_external_id\":\"p\",\"quantity\":1.0,"
         "\"unit_price\":\"1\"}]}",
         "items[0].quantity"},
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"TRY\",\"items\":[{\"product_external_id\":\"p\",\"quantity\":1,"
         "\"unit_price\":\"1\"}]} x",
         "line"},
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"TRY\",\"items\":{}}",
         "items"},
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"TRY\",\"items\":[{}]}",
         "items[0].product_external_id"},
        {"{\"external_id\":\"o\",\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"TRY\",\"items\":[{\"product_external_id\":\"p\",\"quantity\":1,"
         "\"unit_price\":\"1\",\"list_price\":2}]}",
         "items[0].list_price"},
        {"{\"external_id\":7,\"customer_external_id\":\"c\",\"created_at\":\"2026-01-01T00:00:"
         "00Z\",\"currency\":\"TRY\",\"items\":[{\"product_external_id\":\"p\",\"quantity\":1,"
         "\"unit_price\":\"1\"}]}",
         "external_id"},
        {"{\"external_id\":\"o\",", "line"},
        {"[1,2]", "line"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct arena a;
        arena_init(&a);
        struct commerce_order o;
        FAILS(ERR_INVALID, parse_order(cases[i].line, &a, &o, e));
        if (strcmp(check_last.field, cases[i].field) != 0)
            fail_msg("case %zu: field %s, want %s (%s)", i, check_last.field, cases[i].field,
                     check_last.msg);
        arena_release(&a);
    }
}

static void same_text(const char *a, const char *b, size_t line)
{
    if (!a || !b) {
        if (a != b)
            fail_msg("line %zu: %s against %s", line, a ? a : "NULL", b ? b : "NULL");
        return;
    }
    if (strcmp(a, b) != 0)
        fail_msg("line %zu: %s against %s", line, a, b);
}

/*
 * Plain lines are read without jansson; the same line with an escaped member added (which only
 * jansson reads) must give the same record, whichever path each takes.
 */
static void test_order_line_plain_and_escaped_agree(void **state)
{
    (void)state;
    struct buf big;
    buf_init(&big, 65536);
    buf_appends(&big, "{\"external_id\":\"big\",\"customer_external_id\":\"c\",\"created_at\":"
                      "\"2026-03-01T00:00:00+03:00\",\"currency\":\"TRY\",\"items\":[");
    for (int i = 0; i < 40; i++) /* more than are read without jansson */
        buf_appendf(&big,
                    "%s{\"product_external_id\":\"p%d\",\"quantity\":%d,\"unit_price\":"
                    "\"%d.05\"}",
                    i ? "," : "", i, 1 + i % 5, i);
    buf_appends(&big, "]}");
    const char *lines[] = {
        "{\"external_id\":\"o1\",\"customer_external_id\":\"c1\",\"created_at\":"
        "\"2026-01-31T10:00:00Z\",\"currency\":\"TRY\",\"status\":\"paid\",\"campaign\":\"SPRING\","
        "\"items\":[{\"product_external_id\":\"p1\",\"quantity\":2,\"unit_price\":\"11.77\","
        "\"list_price\":\"13.00\"},{\"product_external_id\":\"p2\",\"quantity\":100000,"
        "\"unit_price\":\"0\",\"note\":\"x\"}],\"a\":true,\"b\":false,\"c\":null,\"d\":-5,"
        "\"e\":0,\"f\":\"\"}",
        " \t{ \"items\" : [ { \"unit_price\" : \"3\" , \"quantity\" : 1 , \"product_external_id\""
        " : \"p 1\" , \"list_price\" : null } ] , \"currency\" : \"JPY\" , \"created_at\" : "
        "\"2026-11-21 09:10:00.5+03\" , \"customer_external_id\" : \"c/1\" , \"external_id\" : "
        "\"o-2\" , \"status\" : \"\" , \"campaign\" : null }  ",
        "{\"external_id\":\"o3\",\"customer_external_id\":\"c1\",\"created_at\":"
        "\"2026-01-31T10:00:00Z\",\"currency\":\"EUR\",\"status\":\"placed\",\"campaign\":\"\","
        "\"items\":[{\"product_external_id\":\"p1\",\"quantity\":\"3\",\"unit_price\":\"0.5\","
        "\"list_price\":\"\"}]}",
        buf_str(&big),
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct arena a;
        arena_init(&a);
        struct commerce_order plain, esc;
        OK(parse_order(lines[i], &a, &plain, e));
        /* the same object with one more member, escaped: only jansson reads it */
        const char *end = strrchr(lines[i], '}');
        char *escaped = arena_alloc(&a, strlen(lines[i]) + 32);
        size_t head = (size_t)(end - lines[i]);
        memcpy(escaped, lines[i], head);
        str_copy(escaped + head, strlen(lines[i]) + 32 - head, ",\"z\\u0041\":\"\\u00e7\"}");
        OK(parse_order(escaped, &a, &esc, e));
        same_text(plain.external_id, esc.external_id, i);
        same_text(plain.customer_external_id, esc.customer_external_id, i);
        same_text(plain.source, esc.source, i);
        same_text(plain.campaign, esc.campaign, i);
        assert_int_equal(plain.created_at, esc.created_at);
        assert_ptr_equal(plain.currency, esc.currency);
        assert_int_equal(plain.status, esc.status);
        assert_int_equal(plain.total_amount, esc.total_amount);
        assert_int_equal(plain.n_items, esc.n_items);
        for (size_t j = 0; j < plain.n_items; j++) {
            same_text(plain.items[j].product_external_id, esc.items[j].product_external_id, i);
            assert_int_equal(plain.items[j].quantity, esc.items[j].quantity);
            assert_int_equal(plain.items[j].unit_price, esc.items[j].unit_price);
            assert_int_equal(plain.items[j].list_price, esc.items[j].list_price);
        }
        arena_release(&a);
    }
    /* what the plain lines mean, so that agreeing on nothing cannot pass */
    struct arena a;
    arena_init(&a);
    struct commerce_order o;
    OK(parse_order(lines[0], &a, &o, e));
    assert_int_equal(o.status, COMMERCE_ORDER_PAID);
    assert_string_equal(o.campaign, "SPRING");
    assert_int_equal(o.items[0].list_price, 1300);
    assert_int_equal(o.items[1].quantity, 100000);
    assert_int_equal(o.total_amount, 2 * 1177);
    OK(parse_order(lines[1], &a, &o, e));
    assert_string_equal(o.external_id, "o-2");
    assert_string_equal(o.items[0].product_external_id, "p 1");
    assert_int_equal(o.items[0].unit_price, 3);
    assert_null(o.campaign);
    assert_int_equal(o.status, COMMERCE_ORDER_PLACED);
    OK(parse_order(lines[3], &a, &o, e));
    assert_int_equal(o.n_items, 40);
    assert_string_equal(o.items[39].product_external_id, "p39");
    arena_release(&a);
    buf_release(&big);
}

static void test_customer_and_product_lines(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct commerce_customer cu;
    const char *city = NULL;
    const char *l1 = "{\"external_id\":\"c1\",\"email\":\"a@b.tr\",\"birth_date\":\"1990-02-28\","
                     "\"city_external_id\":\"ist\",\"is_active\":false}";
    OK(import_parse_customer_json(l1, strlen(l1), &a, &cu, &city, e));
    assert_string_equal(cu.email, "a@b.tr");
    assert_string_equal(city, "ist");
    assert_false(cu.is_active);
    const char *l2 = "{\"external_id\":\"c1\",\"birth_date\":\"1990-02-30\"}";
    FAILS(ERR_INVALID, import_parse_customer_json(l2, strlen(l2), &a, &cu, &city, e));
    assert_string_equal(check_last.field, "birth_date");
    const char *l3 = "{\"external_id\":\"c1\",\"email\":\"nobody\"}";
    FAILS(ERR_INVALID, import_parse_customer_json(l3, strlen(l3), &a, &cu, &city, e));
    assert_string_equal(check_last.field, "email");

    struct commerce_product pr;
    const char *cat = NULL, *cat_name = NULL;
    const char *p1 = "{\"external_id\":\"p1\",\"name\":\"Ayran\",\"price\":\"12.50\","
                     "\"currency\":\"TRY\",\"stock\":7,\"category_external_id\":\"drinks\"}";
    OK(import_parse_product_json(p1, strlen(p1), &a, &pr, &cat, &cat_name, e));
    assert_true(pr.has_price);
    assert_int_equal(pr.price.minor, 1250);
    assert_int_equal(pr.stock, 7);
    assert_string_equal(cat, "drinks");
    const char *p2 = "{\"external_id\":\"p1\",\"price\":\"12.50\"}";
    FAILS(ERR_INVALID, import_parse_product_json(p2, strlen(p2), &a, &pr, &cat, &cat_name, e));
    assert_string_equal(check_last.field, "currency");
    const char *p3 = "{\"external_id\":\"p1\",\"stock\":-1}";
    FAILS(ERR_INVALID, import_parse_product_json(p3, strlen(p3), &a, &pr, &cat, &cat_name, e));
    assert_string_equal(check_last.field, "stock");
    arena_release(&a);
}

static void test_csv_split_quotes(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    char **f;
    size_t n;
    const char *r1 = "o1,\"Kadıköy, İstanbul\",\"say \"\"hi\"\"\",,\"two\nlines\"";
    OK(import_csv_split(r1, strlen(r1), &a, &f, &n, e));
    assert_int_equal(n, 5);
    assert_string_equal(f[0], "o1");
    assert_string_equal(f[1], "Kadıköy, İstanbul");
    assert_string_equal(f[2], "say \"hi\"");
    assert_string_equal(f[3], "");
    assert_string_equal(f[4], "two\nlines");
    OK(import_csv_split("", 0, &a, &f, &n, e));
    assert_int_equal(n, 1);
    OK(import_csv_split("a,", 2, &a, &f, &n, e));
    assert_int_equal(n, 2);
    assert_string_equal(f[1], "");
    const char *bad[] = {"a,\"open", "\"x\"y,b", "a,b\"c"};
    for (size_t i = 0; i < 3; i++) {
        FAILS(ERR_INVALID, import_csv_split(bad[i], strlen(bad[i]), &a, &f, &n, e));
        assert_string_equal(check_last.field, "line");
    }
    arena_release(&a);
}

/* ======================== sessions ======================== */

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
    f->db = testdb_open_migrated(&f->t, backend, "cimport", NULL);
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

static int64_t count(struct fixture *f, const char *sql, int64_t tenant)
{
    struct db_stmt *s;
    OK(db_prepare(f->c, &s, sql, e));
    db_bind_i64(s, 1, tenant);
    int64_t v = -1;
    bool found;
    OK(db_one_i64(s, &v, &found, e));
    return v;
}

/* Run a whole import, fed in pieces of `piece` bytes (0: all at once). */
static struct import_result run_import(struct fixture *f, int64_t tenant, enum import_kind kind,
                                       enum import_format fmt, const char *text, size_t piece)
{
    struct import *im;
    OK(import_new(f->c, tenant, kind, fmt, "shop", NOW, &im, e));
    size_t len = strlen(text);
    if (!piece)
        piece = len ? len : 1;
    for (size_t i = 0; i < len; i += piece)
        OK(import_feed(im, text + i, len - i < piece ? len - i : piece, e));
    OK(import_finish(im, e));
    struct import_result r = *import_result(im);
    import_free(im);
    return r;
}

#define ORDER(ext, cust, prod, price)                                                              \
    "{\"external_id\":\"" ext "\",\"customer_external_id\":\"" cust                                \
    "\",\"created_at\":\"2026-01-31T10:00:00Z\",\"currency\":\"TRY\",\"items\":[{\"product_"       \
    "external_id\":\"" prod "\",\"quantity\":2,\"unit_price\":\"" price "\"}]}\n"

static const char *const orders_ndjson = ORDER("o1", "c1", "p1", "11.77") /* line 1 */
    ORDER("o2", "c1", "p2", "11.777")                                     /* line 2: bad */
    "\n"                                                                  /* line 3: blank */
    ORDER("o3", "c2", "p1", "5")                                          /* line 4 */
    "{\"external_id\":\"o4\",\"currency\":\"TRY\"}\n"                     /* line 5: bad */
    "{\"external_id\":\"o5\",\"customer_external_id\":\"c3\",\"created_at\":\"2026-02-01T00:00:"
    "00Z\",\"currency\":\"TRY\",\"status\":\"paid\",\"items\":[{\"product_external_id\":\"p1\","
    "\"quantity\":1,\"unit_price\":\"1.00\"},{\"product_external_id\":\"p3\",\"quantity\":3,"
    "\"unit_price\":\"2.50\"}]}"; /* line 6, no final newline */

static void check_first_import(const struct import_result *r)
{
    assert_int_equal(r->inserted, 3);
    assert_int_equal(r->updated, 0);
    assert_int_equal(r->rejected, 2);
    assert_int_equal(r->n_rejects, 2);
    assert_int_equal(r->rejects[0].line, 2);
    assert_string_equal(r->rejects[0].field, "items[0].unit_price");
    assert_int_equal(r->rejects[1].line, 5);
    assert_string_equal(r->rejects[1].field, "customer_external_id");
}

static void test_import_orders_keeps_good_lines(void **state)
{
    struct fixture *f = *state;
    struct import_result r = run_import(f, f->t1, IMPORT_ORDERS, IMPORT_NDJSON, orders_ndjson, 0);
    check_first_import(&r);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM orders WHERE tenant_id = ?", f->t1), 3);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM order_item WHERE tenant_id = ?", f->t1), 4);
    /* customers and products named by the orders were created with their external id */
    assert_int_equal(count(f, "SELECT COUNT(*) FROM customer WHERE tenant_id = ?", f->t1), 3);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM product WHERE tenant_id = ?", f->t1), 2);
    assert_int_equal(count(f,
                           "SELECT total_amount FROM orders WHERE tenant_id = ? AND "
                           "external_id = 'o5'",
                           f->t1),
                     100 + 750);
    /* the other tenant sees none of it */
    assert_int_equal(count(f, "SELECT COUNT(*) FROM orders WHERE tenant_id = ?", f->t2), 0);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM customer WHERE tenant_id = ?", f->t2), 0);

    /* again: updated, not duplicated */
    r = run_import(f, f->t1, IMPORT_ORDERS, IMPORT_NDJSON, orders_ndjson, 0);
    assert_int_equal(r.inserted, 0);
    assert_int_equal(r.updated, 3);
    assert_int_equal(r.rejected, 2);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM orders WHERE tenant_id = ?", f->t1), 3);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM order_item WHERE tenant_id = ?", f->t1), 4);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM customer WHERE tenant_id = ?", f->t1), 3);

    /* a changed line updates its order: status and items */
    const char *changed = "{\"external_id\":\"o5\",\"customer_external_id\":\"c3\",\"created_at\":"
                          "\"2026-02-01T00:00:00Z\",\"currency\":\"TRY\",\"status\":\"cancelled\","
                          "\"items\":[{\"product_external_id\":\"p1\",\"quantity\":1,"
                          "\"unit_price\":\"9.99\"}]}\n";
    r = run_import(f, f->t1, IMPORT_ORDERS, IMPORT_NDJSON, changed, 0);
    assert_int_equal(r.updated, 1);
    assert_int_equal(count(f,
                           "SELECT COUNT(*) FROM orders WHERE tenant_id = ? AND "
                           "status = 'cancelled' AND total_amount = 999",
                           f->t1),
                     1);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM order_item WHERE tenant_id = ?", f->t1), 3);
}

/*
 * A batch mixing orders already imported with new ones, and external ids repeated inside the
 * batch: counted and written as one line after another would be (the later line wins).
 */
static void test_import_mixed_batch(void **state)
{
    struct fixture *f = *state;
    struct import_result r =
        run_import(f, f->t1, IMPORT_ORDERS, IMPORT_NDJSON,
                   ORDER("o1", "c1", "p1", "1") ORDER("o2", "c1", "p1", "2"), 0);
    assert_int_equal(r.inserted, 2);
    const char *text = ORDER("o2", "c2", "p2", "20")       /* known: updated */
        ORDER("n1", "c1", "p1", "3")                       /* new */
        ORDER("n1", "c3", "p3", "4")                       /* again: updated, wins */
        ORDER("o1", "c1", "p1", "5")                       /* known */
        ORDER("o1", "c1", "p2", "6")                       /* again: wins */
        "{\"external_id\":\"bad\",\"currency\":\"TRY\"}\n" /* rejected */
        ORDER("n2", "c1", "p1", "7");                      /* new */
    r = run_import(f, f->t1, IMPORT_ORDERS, IMPORT_NDJSON, text, 0);
    assert_int_equal(r.inserted, 2);
    assert_int_equal(r.updated, 4);
    assert_int_equal(r.rejected, 1);
    assert_int_equal(r.rejects[0].line, 6);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM orders WHERE tenant_id = ?", f->t1), 4);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM order_item WHERE tenant_id = ?", f->t1), 4);
    /* quantity 2 at the later line's price */
    assert_int_equal(count(f,
                           "SELECT total_amount FROM orders WHERE tenant_id = ? AND "
                           "external_id = 'n1'",
                           f->t1),
                     800);
    assert_int_equal(count(f,
                           "SELECT total_amount FROM orders WHERE tenant_id = ? AND "
                           "external_id = 'o1'",
                           f->t1),
                     1200);
    assert_int_equal(count(f,
                           "SELECT COUNT(*) FROM orders o JOIN customer c ON c.customer_id = "
                           "o.customer_id WHERE o.tenant_id = ? AND o.external_id = 'n1' AND "
                           "c.external_id = 'c3'",
                           f->t1),
                     1);
    assert_int_equal(count(f,
                           "SELECT COUNT(*) FROM order_item i JOIN orders o ON o.order_id = "
                           "i.order_id JOIN product p ON p.product_id = i.product_id WHERE "
                           "o.tenant_id = ? AND o.external_id = 'o1' AND p.external_id = 'p2' "
                           "AND i.price = 600",
                           f->t1),
                     1);
    assert_int_equal(count(f,
                           "SELECT COUNT(*) FROM orders o JOIN customer c ON c.customer_id = "
                           "o.customer_id WHERE o.tenant_id = ? AND o.external_id = 'o2' AND "
                           "c.external_id = 'c2' AND o.total_amount = 4000",
                           f->t1),
                     1);
}

/* The same input cut at every size gives the same answer (lines split across pieces). */
static void test_import_pieces(void **state)
{
    struct fixture *f = *state;
    static const size_t pieces[] = {1, 2, 7, 64};
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        struct import_result r =
            run_import(f, f->t2, IMPORT_ORDERS, IMPORT_NDJSON, orders_ndjson, pieces[i]);
        assert_int_equal(r.inserted + r.updated, 3);
        assert_int_equal(r.inserted, i == 0 ? 3 : 0);
        assert_int_equal(r.rejected, 2);
        assert_int_equal(r.rejects[0].line, 2);
        assert_int_equal(r.rejects[1].line, 5);
    }
    assert_int_equal(count(f, "SELECT COUNT(*) FROM orders WHERE tenant_id = ?", f->t2), 3);
}

static void test_import_csv_orders(void **state)
{
    struct fixture *f = *state;
    const char *csv =
        "\xEF\xBB\xBF"
        "external_id,customer_external_id,created_at,currency,status,product_external_id,"
        "quantity,unit_price\r\n"                                            /* line 1 */
        "o1,c1,2026-01-31T10:00:00Z,TRY,paid,p1,2,11.77\r\n"                 /* line 2 */
        "o1,c1,2026-01-31T10:00:00Z,TRY,paid,\"p,2\",1,3.00\r\n"             /* line 3 */
        "o2,\"c \"\"two\"\"\",2026-01-31T11:00:00Z,TRY,,p1,1,1\n"            /* line 4 */
        "o3,c1,2026-01-31T12:00:00Z,TRY,placed,p1,1,1.00\n"                  /* line 5 */
        "o3,c1,2026-01-31T12:00:00Z,TRY,placed,p1,1,1.005\n"                 /* line 6: bad */
        "o3,c1,2026-01-31T12:00:00Z,TRY,placed,p1,1,1.00\n"                  /* line 7 */
        "o4,c1,2026-01-31T12:00:00Z,XYZ,placed,p1,1,1.00\n"                  /* line 8: bad */
        "o5,c1,\"2026-01-31T12:00:00Z\",TRY,placed,\"multi\nline\",1,1.00\n" /* 9-10: bad */
        "o6,c1,2026-01-31T12:00:00Z,TRY,placed,p1,1\n";                      /* line 11: bad */
    struct import_result r = run_import(f, f->t1, IMPORT_ORDERS, IMPORT_CSV, csv, 0);
    assert_int_equal(r.inserted, 2); /* o1 (2 rows), o2 */
    assert_int_equal(r.rejected, 4);
    assert_int_equal(r.rejects[0].line, 6);
    assert_string_equal(r.rejects[0].field, "items[0].unit_price");
    assert_int_equal(r.rejects[1].line, 8);
    assert_string_equal(r.rejects[1].field, "currency");
    /* a quoted field may span lines (an id may not hold a newline): the record starts at 9 */
    assert_int_equal(r.rejects[2].line, 9);
    assert_string_equal(r.rejects[2].field, "items[0].product_external_id");
    assert_int_equal(r.rejects[3].line, 11);
    assert_string_equal(r.rejects[3].field, "line");
    assert_int_equal(count(f, "SELECT COUNT(*) FROM order_item WHERE tenant_id = ?", f->t1), 3);
    assert_int_equal(count(f,
                           "SELECT total_amount FROM orders WHERE tenant_id = ? AND "
                           "external_id = 'o1'",
                           f->t1),
                     2 * 1177 + 300);
    assert_int_equal(count(f,
                           "SELECT COUNT(*) FROM customer WHERE tenant_id = ? AND "
                           "external_id = 'c \"two\"'",
                           f->t1),
                     1);
    /* the CSV in 3-byte pieces: the same orders, now updated */
    r = run_import(f, f->t1, IMPORT_ORDERS, IMPORT_CSV, csv, 3);
    assert_int_equal(r.inserted, 0);
    assert_int_equal(r.updated, 2);
    assert_int_equal(r.rejected, 4);
    assert_int_equal(r.rejects[3].line, 11);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM order_item WHERE tenant_id = ?", f->t1), 3);
}

static void test_import_csv_header_errors(void **state)
{
    struct fixture *f = *state;
    struct import *im;
    OK(import_new(f->c, f->t1, IMPORT_CUSTOMERS, IMPORT_CSV, NULL, NOW, &im, e));
    const char *text = "external_id,shoe_size\nc1,44\n";
    FAILS(ERR_INVALID, import_feed(im, text, strlen(text), e));
    assert_string_equal(check_last.field, "header");
    import_free(im);
    OK(import_new(f->c, f->t1, IMPORT_ORDERS, IMPORT_CSV, NULL, NOW, &im, e));
    text = "external_id,currency\n";
    FAILS(ERR_INVALID, import_feed(im, text, strlen(text), e));
    assert_string_equal(check_last.field, "header");
    import_free(im);
    FAILS(ERR_INVALID,
          import_new(f->c, f->t1, IMPORT_ORDERS, IMPORT_CSV, "Bad Source", NOW, &im, e));
    assert_string_equal(check_last.field, "source");
    assert_int_equal(count(f, "SELECT COUNT(*) FROM customer WHERE tenant_id = ?", f->t1), 0);
}

static void test_import_customers_and_products(void **state)
{
    struct fixture *f = *state;
    struct commerce_city city = {
        .source = "api", .external_id = "ist", .country_code = "TR", .name = "İstanbul"};
    /* made through the API (source "api"): an import of another source still finds it */
    OK(commerce_store_city_create(f->c, f->t1, &city, NOW, &f->a, e));
    const char *customers = "external_id,email,birth_date,city_external_id,is_active\n"
                            "c1,a@b.tr,1990-01-02,ist,true\n"
                            "c2,,,,false\n"
                            "c3,,,ank,\n"
                            "c4,x@y.tr,1990-13-01,,\n";
    struct import_result r = run_import(f, f->t1, IMPORT_CUSTOMERS, IMPORT_CSV, customers, 0);
    assert_int_equal(r.inserted, 2);
    assert_int_equal(r.rejected, 2);
    assert_int_equal(r.rejects[0].line, 4);
    assert_string_equal(r.rejects[0].field, "city_external_id");
    assert_int_equal(r.rejects[1].line, 5);
    assert_string_equal(r.rejects[1].field, "birth_date");
    char sql[160];
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM customer WHERE tenant_id = ? AND city_id = %lld",
             (long long)city.pk);
    assert_int_equal(count(f, sql, f->t1), 1);
    /* with a city of the import's own source as well, that one is taken */
    struct commerce_city own = {
        .source = "shop", .external_id = "ist", .country_code = "TR", .name = "İstanbul (shop)"};
    OK(commerce_store_city_create(f->c, f->t1, &own, NOW, &f->a, e));
    r = run_import(f, f->t1, IMPORT_CUSTOMERS, IMPORT_CSV, "external_id,city_external_id\nc1,ist\n",
                   0);
    assert_int_equal(r.updated, 1);
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM customer WHERE tenant_id = ? AND city_id = %lld",
             (long long)own.pk);
    assert_int_equal(count(f, sql, f->t1), 1);

    const char *products =
        "{\"external_id\":\"p1\",\"name\":\"Ayran\",\"price\":\"12.50\",\"currency\":\"TRY\","
        "\"category_external_id\":\"drinks\",\"category_name\":\"İçecek\",\"stock\":3}\n"
        "{\"external_id\":\"p2\",\"category_external_id\":\"drinks\"}\n"
        "{\"external_id\":\"p3\",\"price\":\"1\",\"currency\":\"ABC\"}\n";
    r = run_import(f, f->t1, IMPORT_PRODUCTS, IMPORT_NDJSON, products, 0);
    assert_int_equal(r.inserted, 2);
    assert_int_equal(r.rejected, 1);
    assert_string_equal(r.rejects[0].field, "currency");
    assert_int_equal(count(f, "SELECT COUNT(*) FROM category WHERE tenant_id = ?", f->t1), 1);
    assert_int_equal(count(f,
                           "SELECT price FROM product WHERE tenant_id = ? AND "
                           "external_id = 'p1'",
                           f->t1),
                     1250);
}

/* More lines than one batch holds: every batch is committed; a long line is rejected. */
static void test_import_many_batches(void **state)
{
    struct fixture *f = *state;
    struct buf b;
    buf_init(&b, 8 * 1024 * 1024);
    const int n = IMPORT_BATCH + IMPORT_BATCH / 2;
    for (int i = 0; i < n; i++)
        buf_appendf(&b,
                    "{\"external_id\":\"o%d\",\"customer_external_id\":\"c%d\",\"created_at\":"
                    "\"2026-01-31T10:00:00Z\",\"currency\":\"TRY\",\"items\":[{\"product_external_"
                    "id\":\"p%d\",\"quantity\":1,\"unit_price\":\"1.00\"}]}\n",
                    i, i % 100, i % 10);
    /* a line past IMPORT_LINE_MAX, then one more good line */
    buf_appends(&b, "{\"external_id\":\"");
    for (int i = 0; i < IMPORT_LINE_MAX; i++)
        buf_appends(&b, "x");
    buf_appends(&b, "\"}\n");
    buf_appendf(&b, "%s", ORDER("last", "c1", "p1", "2"));
    struct import_result r = run_import(f, f->t1, IMPORT_ORDERS, IMPORT_NDJSON, buf_str(&b), 0);
    assert_int_equal(r.inserted, n + 1);
    assert_int_equal(r.rejected, 1);
    assert_int_equal(r.rejects[0].line, n + 1);
    assert_string_equal(r.rejects[0].field, "line");
    r = run_import(f, f->t1, IMPORT_ORDERS, IMPORT_NDJSON, buf_str(&b), 4096);
    assert_int_equal(r.updated, n + 1);
    assert_int_equal(r.rejected, 1);
    buf_release(&b);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM orders WHERE tenant_id = ?", f->t1), n + 1);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM customer WHERE tenant_id = ?", f->t1), 100);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM product WHERE tenant_id = ?", f->t1), 10);
}

/*
 * A record the database refuses (here a trigger; in life e.g. a constraint a check missed)
 * spoils its batch's transaction (on PostgreSQL the whole transaction aborts): the batch is
 * replayed record by record, the refused one is rejected with its line and the others kept.
 */
static void test_import_database_refusal_keeps_the_rest(void **state)
{
    struct fixture *f = *state;
    if (backend == DB_SQLITE) {
        OK(db_exec(f->c,
                   "CREATE TRIGGER boom BEFORE INSERT ON orders WHEN NEW.external_id = 'boom' "
                   "BEGIN SELECT RAISE(ABORT, 'boom refused'); END",
                   e));
    } else {
        OK(db_exec(f->c,
                   "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "IF NEW.external_id = 'boom' THEN RAISE EXCEPTION 'boom refused'; END IF; "
                   "RETURN NEW; END $$; CREATE TRIGGER boom BEFORE INSERT ON orders FOR EACH ROW "
                   "EXECUTE FUNCTION boom()",
                   e));
    }
    const char *text =
        ORDER("a", "c1", "p1", "1") ORDER("boom", "c2", "p2", "1") ORDER("c", "c3", "p3", "1");
    struct import_result r = run_import(f, f->t1, IMPORT_ORDERS, IMPORT_NDJSON, text, 0);
    assert_int_equal(r.inserted, 2);
    assert_int_equal(r.rejected, 1);
    assert_int_equal(r.rejects[0].line, 2);
    assert_true(strlen(r.rejects[0].reason) > 0); /* the database's words, as it gives them */
    assert_int_equal(count(f, "SELECT COUNT(*) FROM orders WHERE tenant_id = ?", f->t1), 2);
    /* the refused order wrote nothing, not even its new customer */
    assert_int_equal(count(f,
                           "SELECT COUNT(*) FROM customer WHERE tenant_id = ? AND "
                           "external_id = 'c2'",
                           f->t1),
                     0);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM order_item WHERE tenant_id = ?", f->t1), 2);
}

/* Only the first IMPORT_REJECTS_MAX rejects are listed, in line order; all are counted. */
static void test_import_reject_list_bounded(void **state)
{
    struct fixture *f = *state;
    struct buf b;
    buf_init(&b, 1024 * 1024);
    for (int i = 0; i < 250; i++)
        buf_appends(&b, "{\"external_id\":\"x\"}\n");
    struct import_result r = run_import(f, f->t1, IMPORT_ORDERS, IMPORT_NDJSON, buf_str(&b), 0);
    buf_release(&b);
    assert_int_equal(r.rejected, 250);
    assert_int_equal(r.n_rejects, IMPORT_REJECTS_MAX);
    for (size_t i = 0; i < r.n_rejects; i++)
        assert_int_equal(r.rejects[i].line, (int64_t)i + 1);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_order_line_parses),
        cmocka_unit_test(test_order_line_errors_name_field),
        cmocka_unit_test(test_order_line_plain_and_escaped_agree),
        cmocka_unit_test(test_customer_and_product_lines),
        cmocka_unit_test(test_csv_split_quotes),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_import_orders_keeps_good_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_mixed_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_csv_orders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_csv_header_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_customers_and_products, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_many_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_reject_list_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_database_refusal_keeps_the_rest, setup,
                                        teardown),
    };
    int failed = cmocka_run_group_tests_name("commerce_import_parsers", pure, NULL, NULL);
    failed += TESTDB_RUN_GROUPS("commerce_import", tests, &backend);
    return failed ? 1 : 0;
}
