/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/flash/flash_store.c (flash_store.h): configuration, buyers, sellers,
 * signals, windows, targets, pre-commits, participants and redemption against a migrated
 * database, on SQLite and, when TEST_PG_DSN is set, on PostgreSQL.
 */
#include "domain/flash/flash_store.h"
#include "domain/account/account.h"
#include "core/xalloc.h"
#include "support/check.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW    1795252200000 /* 2026-11-21T09:10:00Z, a Saturday */
#define MINUTE INT64_C(60000)
#define HOUR   INT64_C(3600000)

struct fixture {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    struct arena a;
    int64_t t1, t2; /* two tenants */
};

static enum db_backend backend; /* set by testdb_run_groups */

static int64_t tenant(struct fixture *f, const char *name)
{
    struct err e;
    err_init(&e);
    int64_t id = 0;
    if (account_tenant_create(f->c, name, NOW, &id, &e))
        fail_msg("tenant %s: %s", name, e.msg);
    return id;
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->db = testdb_open_migrated(&f->t, backend, "fstore", NULL);
    f->c = testdb_acquire(f->db);
    arena_init(&f->a);
    f->t1 = tenant(f, "one");
    f->t2 = tenant(f, "two");
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

static struct flash_buyer buyer(const char *id, const char *phone, const char *name, double lat,
                                double lng)
{
    struct flash_buyer b = {
        .id = id,
        .phone = phone,
        .name = name,
        .loc = {.lat = lat, .lng = lng, .district = "Kadıköy", .neighborhood = "Moda"},
        .categories = {"coffee", "bakery"},
        .n_categories = 2,
        .price_sensitivity = FLASH_PRICE_LOW,
        .consent = true,
        .language = "tr",
    };
    return b;
}

static struct flash_seller seller(const char *id, const char *phone, const char *category)
{
    struct flash_seller s = {
        .id = id,
        .phone = phone,
        .name = "M Coffee",
        .category = category,
        .loc = {.lat = 40.99, .lng = 29.03, .district = "Kadıköy", .neighborhood = "Moda"},
        .density = FLASH_DENSITY_LOW,
        .stock_status = "",
        .price_min = 5000,
        .price_max = 12000,
        .currency = "TRY",
        .max_discount = 30,
        .capacity = 5,
        .auto_approve = true,
        .opening_hours = "08:00-20:00",
    };
    return s;
}

static int64_t add_buyer(struct fixture *f, int64_t t, const char *id, const char *phone)
{
    struct flash_buyer b = buyer(id, phone, "Ayşe", 40.991, 29.031);
    bool created = false;
    OK(flash_store_buyer_upsert(f->c, t, &b, NOW, &f->a, &created, e));
    assert_true(created);
    return b.pk;
}

static int64_t add_seller(struct fixture *f, int64_t t, const char *id, const char *phone)
{
    struct flash_seller s = seller(id, phone, "coffee");
    bool created = false;
    OK(flash_store_seller_upsert(f->c, t, &s, NOW, &f->a, &created, e));
    assert_true(created);
    return s.pk;
}

static int64_t add_window(struct fixture *f, int64_t t, int64_t seller_pk,
                          enum flash_window_status st, const int64_t *buyers, size_t n)
{
    struct flash_window w = {
        .seller_pk = seller_pk,
        .title = "latte %20 indirim",
        .description = "Yakındaki kahve severlere",
        .discount_percent = 20,
        .currency = "TRY",
        .start_ms = NOW + 5 * MINUTE,
        .end_ms = NOW + 15 * MINUTE,
        .status = st,
        .capacity = 5,
        .min_participants = 2,
        .score = 0.75,
        .trace_json = "{\"score\":{\"total\":0.75}}",
        .origin = "engine",
    };
    struct flash_window_target tg[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        tg[i] = (struct flash_window_target){
            .buyer_pk = buyers[i], .distance_m = 100.0 * (double)(i + 1), .discount = 30};
    OK(flash_store_window_insert(f->c, t, &w, tg, n, NOW, e));
    assert_true(w.pk > 0);
    return w.pk;
}

/* ======================== configuration ======================== */

static void test_config(void **state)
{
    struct fixture *f = *state;
    struct flash_config got, def;
    flash_config_default(&def);
    OK(flash_store_config_get(f->c, f->t1, &got, e));
    assert_memory_equal(&got, &def, sizeof(def));

    struct flash_config cfg = def;
    cfg.weights[FLASH_C_DISTANCE] = 2.5;
    cfg.threshold = 0.4;
    cfg.radius_m = 1500;
    cfg.n_tiers = 2;
    cfg.tiers[0] = (struct flash_tier){400, 10};
    cfg.tiers[1] = (struct flash_tier){1200, 25};
    memset(&cfg.tiers[2], 0, sizeof(cfg.tiers) - 2 * sizeof(cfg.tiers[0]));
    cfg.window_minutes = 20;
    cfg.scan_interval_s = 0;
    cfg.tz_offset_min = 120;
    OK(flash_store_config_put(f->c, f->t1, &cfg, NOW, e));
    OK(flash_store_config_get(f->c, f->t1, &got, e));
    assert_memory_equal(&got, &cfg, sizeof(cfg));
    /* Another tenant still sees the defaults. */
    OK(flash_store_config_get(f->c, f->t2, &got, e));
    assert_memory_equal(&got, &def, sizeof(def));
    /* Saving again replaces. */
    cfg.threshold = 0.6;
    OK(flash_store_config_put(f->c, f->t1, &cfg, NOW + 1, e));
    OK(flash_store_config_get(f->c, f->t1, &got, e));
    assert_true(fabs(got.threshold - 0.6) < 1e-9);

    /* An invalid configuration is refused. */
    struct flash_config bad = def;
    bad.threshold = 7;
    FAILS(ERR_INVALID, flash_store_config_put(f->c, f->t2, &bad, NOW, e));
    assert_true(check_last.field[0] != '\0');
}

static void test_scan_due(void **state)
{
    struct fixture *f = *state;
    int64_t *ts = NULL;
    size_t n = 9;
    /* No sellers anywhere: nothing to scan. */
    OK(flash_store_scan_due(f->c, NOW, &f->a, &ts, &n, e));
    assert_int_equal(n, 0);
    add_seller(f, f->t1, "s1", NULL);
    add_seller(f, f->t2, "s1", NULL);
    OK(flash_store_scan_due(f->c, NOW, &f->a, &ts, &n, e));
    assert_int_equal(n, 2);
    assert_int_equal(ts[0], f->t1);
    assert_int_equal(ts[1], f->t2);

    OK(flash_store_scan_mark(f->c, f->t1, NOW, e));
    OK(flash_store_scan_due(f->c, NOW + 30000, &f->a, &ts, &n, e));
    assert_int_equal(n, 1);
    assert_int_equal(ts[0], f->t2);
    OK(flash_store_scan_due(f->c, NOW + 60000, &f->a, &ts, &n, e));
    assert_int_equal(n, 2);

    /* The mark keeps a saved configuration; interval 0 turns automatic scans off. */
    struct flash_config cfg;
    flash_config_default(&cfg);
    cfg.scan_interval_s = 0;
    OK(flash_store_config_put(f->c, f->t2, &cfg, NOW, e));
    OK(flash_store_scan_mark(f->c, f->t2, NOW, e));
    struct flash_config got;
    OK(flash_store_config_get(f->c, f->t2, &got, e));
    assert_int_equal(got.scan_interval_s, 0);
    OK(flash_store_scan_due(f->c, NOW + 10 * HOUR, &f->a, &ts, &n, e));
    assert_int_equal(n, 1);
    assert_int_equal(ts[0], f->t1);
}

/* ======================== buyers ======================== */

static void test_buyer_upsert(void **state)
{
    struct fixture *f = *state;
    bool created = false;

    /* New without an id: a generated one. */
    struct flash_buyer b = buyer(NULL, "+905321110001", "Ayşe", 40.991, 29.031);
    OK(flash_store_buyer_upsert(f->c, f->t1, &b, NOW, &f->a, &created, e));
    assert_true(created);
    assert_true(b.pk > 0);
    assert_true(strncmp(b.id, "b_", 2) == 0 && strlen(b.id) > 6);
    assert_true(flash_id_valid(b.id));
    assert_int_equal(b.created_at, NOW);
    const char *gen = b.id;
    int64_t pk = b.pk;

    /* Update by id. */
    struct flash_buyer u = buyer(gen, NULL, "Ayşe Yılmaz", 41.0, 29.0);
    u.language = "en";
    u.n_categories = 1;
    u.categories[0] = "flowers";
    u.consent = false;
    OK(flash_store_buyer_upsert(f->c, f->t1, &u, NOW + 1000, &f->a, &created, e));
    assert_false(created);
    assert_int_equal(u.pk, pk);
    assert_int_equal(u.created_at, NOW);
    assert_int_equal(u.updated_at, NOW + 1000);
    struct flash_buyer g;
    OK(flash_store_buyer_get(f->c, f->t1, gen, false, &f->a, &g, e));
    assert_string_equal(g.name, "Ayşe Yılmaz");
    assert_string_equal(g.phone, "+905321110001"); /* kept: no phone given */
    assert_string_equal(g.language, "en");
    assert_false(g.consent);
    assert_int_equal(g.n_categories, 1);
    assert_string_equal(g.categories[0], "flowers");
    assert_string_equal(g.loc.district, "Kadıköy");
    assert_true(fabs(g.loc.lat - 41.0) < 1e-9);
    assert_int_equal(g.price_sensitivity, FLASH_PRICE_LOW);

    /* Update by phone (no id): same buyer, id kept. */
    struct flash_buyer p = buyer(NULL, "+905321110001", "Ayşe Y.", 41.0, 29.0);
    OK(flash_store_buyer_upsert(f->c, f->t1, &p, NOW + 2000, &f->a, &created, e));
    assert_false(created);
    assert_int_equal(p.pk, pk);
    assert_string_equal(p.id, gen);
    assert_string_equal(p.name, "Ayşe Y.");

    /* New with an explicit id. */
    int64_t other = add_buyer(f, f->t1, "B2", "+905321110002");
    assert_true(other != pk);
    /* An id and a phone naming two buyers: conflict on the phone. */
    struct flash_buyer x = buyer("B2", "+905321110001", "X", 41.0, 29.0);
    FAILS(ERR_CONFLICT, flash_store_buyer_upsert(f->c, f->t1, &x, NOW, &f->a, &created, e));
    assert_string_equal(check_last.field, "phone");
    /* A new id with a taken phone is also a conflict. */
    struct flash_buyer y = buyer("B3", "+905321110001", "Y", 41.0, 29.0);
    FAILS(ERR_CONFLICT, flash_store_buyer_upsert(f->c, f->t1, &y, NOW, &f->a, &created, e));
    assert_string_equal(check_last.field, "phone");
    /* Changing a buyer's phone to a free one works. */
    struct flash_buyer z = buyer("B2", "+905321110009", "Zeynep", 41.0, 29.0);
    OK(flash_store_buyer_upsert(f->c, f->t1, &z, NOW, &f->a, &created, e));
    assert_false(created);
    assert_int_equal(z.pk, other);
    OK(flash_store_buyer_get(f->c, f->t1, "+905321110009", true, &f->a, &g, e));
    assert_string_equal(g.id, "B2");

    /* Bad input. */
    struct flash_buyer bad = buyer("bad id!", NULL, "X", 41.0, 29.0);
    FAILS(ERR_INVALID, flash_store_buyer_upsert(f->c, f->t1, &bad, NOW, &f->a, &created, e));
    assert_string_equal(check_last.field, "id");
    bad = buyer("B9", NULL, "X", 91.0, 29.0);
    FAILS(ERR_INVALID, flash_store_buyer_upsert(f->c, f->t1, &bad, NOW, &f->a, &created, e));
    assert_string_equal(check_last.field, "location.lat");

    /* Get by id / phone / pk; misses. */
    OK(flash_store_buyer_get(f->c, f->t1, "+905321110001", true, &f->a, &g, e));
    assert_int_equal(g.pk, pk);
    OK(flash_store_buyer_get_pk(f->c, f->t1, other, &f->a, &g, e));
    assert_string_equal(g.id, "B2");
    FAILS(ERR_NOT_FOUND, flash_store_buyer_get(f->c, f->t1, "nope", false, &f->a, &g, e));
    FAILS(ERR_NOT_FOUND, flash_store_buyer_get(f->c, f->t1, "+90000", true, &f->a, &g, e));

    /* Record and consent. */
    OK(flash_store_buyer_record(f->c, f->t1, pk, 2, 1, e));
    OK(flash_store_buyer_record(f->c, f->t1, pk, 1, 1, e));
    OK(flash_store_buyer_set_consent(f->c, f->t1, pk, true, NOW + 5000, e));
    OK(flash_store_buyer_get_pk(f->c, f->t1, pk, &f->a, &g, e));
    assert_int_equal(g.commits, 3);
    assert_int_equal(g.shows, 2);
    assert_true(g.consent); /* read from the buyer's contact, where consent lives */
    FAILS(ERR_NOT_FOUND, flash_store_buyer_record(f->c, f->t1, 999999, 1, 0, e));
    FAILS(ERR_NOT_FOUND, flash_store_buyer_set_consent(f->c, f->t1, 999999, true, NOW, e));
}

static void test_buyer_tenants(void **state)
{
    struct fixture *f = *state;
    int64_t pk = add_buyer(f, f->t1, "B1", "+905321110001");
    struct flash_buyer g;
    FAILS(ERR_NOT_FOUND, flash_store_buyer_get(f->c, f->t2, "B1", false, &f->a, &g, e));
    FAILS(ERR_NOT_FOUND, flash_store_buyer_get(f->c, f->t2, "+905321110001", true, &f->a, &g, e));
    FAILS(ERR_NOT_FOUND, flash_store_buyer_get_pk(f->c, f->t2, pk, &f->a, &g, e));
    FAILS(ERR_NOT_FOUND, flash_store_buyer_record(f->c, f->t2, pk, 1, 1, e));
    FAILS(ERR_NOT_FOUND, flash_store_buyer_set_consent(f->c, f->t2, pk, false, NOW, e));
    /* The same id and phone in another tenant is another buyer. */
    int64_t pk2 = add_buyer(f, f->t2, "B1", "+905321110001");
    assert_true(pk2 != pk);
    OK(flash_store_buyer_get(f->c, f->t1, "B1", false, &f->a, &g, e));
    assert_int_equal(g.pk, pk);
    struct flash_buyer *rows;
    size_t n;
    OK(flash_store_buyer_list(f->c, f->t2, NULL, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].pk, pk2);
}

static void test_buyer_list(void **state)
{
    struct fixture *f = *state;
    int64_t pks[12];
    for (int i = 0; i < 12; i++) {
        char id[16];
        snprintf(id, sizeof(id), "B%02d", i);
        struct flash_buyer b = buyer(id, NULL, "Ali", 41.0, 29.0);
        b.loc.district = i % 2 ? "Beşiktaş" : "Kadıköy";
        b.n_categories = 1;
        b.categories[0] = i % 3 == 0 ? "coffee" : "bakery_x";
        bool created;
        OK(flash_store_buyer_upsert(f->c, f->t1, &b, NOW, &f->a, &created, e));
        pks[i] = b.pk;
    }
    struct flash_buyer *rows;
    size_t n;
    OK(flash_store_buyer_list(f->c, f->t1, NULL, &f->a, &rows, &n, e));
    assert_int_equal(n, 12);
    struct flash_list_filter fl = {.limit = 5};
    OK(flash_store_buyer_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 5);
    assert_int_equal(rows[0].pk, pks[0]);
    fl.after_pk = rows[4].pk;
    OK(flash_store_buyer_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 5);
    assert_int_equal(rows[0].pk, pks[5]);
    fl.after_pk = rows[4].pk;
    OK(flash_store_buyer_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 2);

    struct flash_list_filter cat = {.category = "coffee"};
    OK(flash_store_buyer_list(f->c, f->t1, &cat, &f->a, &rows, &n, e));
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(rows[i].categories[0], "coffee");
    /* LIKE wildcards in the filter are literal. */
    struct flash_list_filter wild = {.category = "bakery%"};
    OK(flash_store_buyer_list(f->c, f->t1, &wild, &f->a, &rows, &n, e));
    assert_int_equal(n, 0);
    struct flash_list_filter under = {.category = "bakery_x"};
    OK(flash_store_buyer_list(f->c, f->t1, &under, &f->a, &rows, &n, e));
    assert_int_equal(n, 8);
    struct flash_list_filter dist = {.district = "Beşiktaş", .category = "coffee"};
    OK(flash_store_buyer_list(f->c, f->t1, &dist, &f->a, &rows, &n, e));
    assert_int_equal(n, 2); /* i = 3, 9 */
    assert_string_equal(rows[0].id, "B03");
    assert_string_equal(rows[1].id, "B09");
}

/* ======================== sellers ======================== */

static void test_sellers(void **state)
{
    struct fixture *f = *state;
    bool created;
    struct flash_seller s = seller(NULL, "+905551112233", "coffee");
    OK(flash_store_seller_upsert(f->c, f->t1, &s, NOW, &f->a, &created, e));
    assert_true(created);
    assert_true(strncmp(s.id, "s_", 2) == 0);
    int64_t pk = s.pk;
    const char *id = s.id;

    struct flash_seller g;
    OK(flash_store_seller_get(f->c, f->t1, id, false, &f->a, &g, e));
    assert_int_equal(g.pk, pk);
    assert_string_equal(g.name, "M Coffee");
    assert_string_equal(g.category, "coffee");
    assert_string_equal(g.phone, "+905551112233");
    assert_string_equal(g.opening_hours, "08:00-20:00");
    assert_int_equal(g.density, FLASH_DENSITY_LOW);
    assert_int_equal(g.price_min, 5000);
    assert_int_equal(g.price_max, 12000);
    assert_int_equal(g.max_discount, 30);
    assert_int_equal(g.capacity, 5);
    assert_true(g.auto_approve);
    assert_int_equal(g.supply_until, 0);
    assert_string_equal(g.loc.neighborhood, "Moda");

    /* Update by id, then by phone. */
    struct flash_seller u = seller(id, NULL, "bakery");
    u.auto_approve = false;
    u.max_discount = 10;
    u.density = FLASH_DENSITY_HIGH;
    OK(flash_store_seller_upsert(f->c, f->t1, &u, NOW + 1, &f->a, &created, e));
    assert_false(created);
    assert_int_equal(u.pk, pk);
    assert_string_equal(u.category, "bakery");
    assert_string_equal(u.phone, "+905551112233");
    assert_false(u.auto_approve);
    assert_int_equal(u.density, FLASH_DENSITY_HIGH);
    struct flash_seller p = seller(NULL, "+905551112233", "coffee");
    p.name = "M Kahve";
    OK(flash_store_seller_upsert(f->c, f->t1, &p, NOW + 2, &f->a, &created, e));
    assert_false(created);
    assert_string_equal(p.id, id);
    assert_string_equal(p.name, "M Kahve");
    OK(flash_store_seller_get(f->c, f->t1, "+905551112233", true, &f->a, &g, e));
    assert_int_equal(g.pk, pk);
    OK(flash_store_seller_get_pk(f->c, f->t1, pk, &f->a, &g, e));
    assert_string_equal(g.name, "M Kahve");

    /* Conflict, bad input, tenants. */
    add_seller(f, f->t1, "S2", "+905551112299");
    struct flash_seller x = seller("S2", "+905551112233", "coffee");
    FAILS(ERR_CONFLICT, flash_store_seller_upsert(f->c, f->t1, &x, NOW, &f->a, &created, e));
    assert_string_equal(check_last.field, "phone");
    struct flash_seller bad = seller("S3", NULL, "coffee");
    bad.capacity = 0;
    FAILS(ERR_INVALID, flash_store_seller_upsert(f->c, f->t1, &bad, NOW, &f->a, &created, e));
    assert_string_equal(check_last.field, "capacity");
    bad = seller("S3", NULL, "coffee");
    bad.max_discount = 95;
    FAILS(ERR_INVALID, flash_store_seller_upsert(f->c, f->t1, &bad, NOW, &f->a, &created, e));
    assert_string_equal(check_last.field, "max_discount");
    FAILS(ERR_NOT_FOUND, flash_store_seller_get(f->c, f->t2, id, false, &f->a, &g, e));
    FAILS(ERR_NOT_FOUND, flash_store_seller_get_pk(f->c, f->t2, pk, &f->a, &g, e));
    int64_t other = add_seller(f, f->t2, "S2", "+905551112299");
    assert_true(other > 0);

    /* Lists. */
    for (int i = 0; i < 6; i++) {
        char sid[16];
        snprintf(sid, sizeof(sid), "L%d", i);
        struct flash_seller l = seller(sid, NULL, i % 2 ? "flowers" : "coffee");
        l.loc.district = i < 3 ? "Üsküdar" : "Kadıköy";
        OK(flash_store_seller_upsert(f->c, f->t1, &l, NOW, &f->a, &created, e));
    }
    struct flash_seller *rows;
    size_t n;
    OK(flash_store_seller_all(f->c, f->t1, &f->a, &rows, &n, e));
    assert_int_equal(n, 8);
    OK(flash_store_seller_all(f->c, f->t2, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    struct flash_list_filter fl = {.category = "flowers"};
    OK(flash_store_seller_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 3);
    fl = (struct flash_list_filter){.category = "coffee", .district = "Üsküdar"};
    OK(flash_store_seller_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].id, "L0");
    assert_string_equal(rows[1].id, "L2");
    fl = (struct flash_list_filter){.limit = 3};
    OK(flash_store_seller_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 3);
    fl.after_pk = rows[2].pk;
    fl.limit = 100;
    OK(flash_store_seller_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 5);
}

/* ======================== signals ======================== */

static void test_supply(void **state)
{
    struct fixture *f = *state;
    int64_t spk = add_seller(f, f->t1, "S1", NULL);
    struct flash_supply_in in = {
        .seller_pk = spk,
        .kind = FLASH_SUPPLY_DENSITY,
        .has_density = true,
        .density = FLASH_DENSITY_HIGH,
        .text = "Yoğunluk yüksek",
        .expires_at = NOW + HOUR,
    };
    int64_t pk = 0;
    OK(flash_store_supply_add(f->c, f->t1, &in, NOW, &pk, e));
    assert_true(pk > 0);
    struct flash_seller g;
    OK(flash_store_seller_get_pk(f->c, f->t1, spk, &f->a, &g, e));
    assert_int_equal(g.density, FLASH_DENSITY_HIGH);
    assert_int_equal(g.supply_kind, FLASH_SUPPLY_DENSITY);
    assert_int_equal(g.supply_until, NOW + HOUR);
    assert_int_equal(g.updated_at, NOW);

    struct flash_supply_in sur = {
        .seller_pk = spk,
        .kind = FLASH_SUPPLY_SURPLUS,
        .text = "Stok fazlası ürün var",
        .product = "poğaça",
        .expires_at = NOW + 2 * HOUR,
    };
    OK(flash_store_supply_add(f->c, f->t1, &sur, NOW + 1, NULL, e));
    OK(flash_store_seller_get_pk(f->c, f->t1, spk, &f->a, &g, e));
    assert_int_equal(g.density, FLASH_DENSITY_HIGH); /* kept: no density reported */
    assert_int_equal(g.supply_kind, FLASH_SUPPLY_SURPLUS);
    assert_int_equal(g.supply_until, NOW + 2 * HOUR);
    assert_string_equal(g.stock_status, "surplus");

    /* An upsert of the seller keeps the supply state. */
    struct flash_seller u = seller("S1", NULL, "coffee");
    bool created;
    OK(flash_store_seller_upsert(f->c, f->t1, &u, NOW + 2, &f->a, &created, e));
    assert_int_equal(u.supply_kind, FLASH_SUPPLY_SURPLUS);
    assert_int_equal(u.supply_until, NOW + 2 * HOUR);

    /* Another tenant's seller is not found, and nothing is recorded. */
    in.seller_pk = spk;
    FAILS(ERR_NOT_FOUND, flash_store_supply_add(f->c, f->t2, &in, NOW, &pk, e));
    assert_string_equal(check_last.field, "seller");
}

static void test_demand(void **state)
{
    struct fixture *f = *state;
    int64_t b1 = add_buyer(f, f->t1, "B1", "+905320000001");
    int64_t b2 = add_buyer(f, f->t1, "B2", "+905320000002");
    OK(flash_store_buyer_record(f->c, f->t1, b2, 10, 10, e));
    OK(flash_store_buyer_set_consent(f->c, f->t1, b2, false, NOW, e));
    struct flash_demand_in d = {
        .buyer_pk = b1,
        .text = "latte istiyorum",
        .product = "latte",
        .category = "coffee",
        .budget = 8000,
        .currency = "TRY",
        .expires_at = NOW + 30 * MINUTE,
    };
    int64_t d1 = 0, d2 = 0, d3 = 0;
    OK(flash_store_demand_add(f->c, f->t1, &d, NOW, &d1, e));
    d.expires_at = NOW - MINUTE; /* already expired */
    OK(flash_store_demand_add(f->c, f->t1, &d, NOW, &d2, e));
    d.buyer_pk = b2;
    d.category = "";
    d.product = "";
    d.budget = 0;
    d.expires_at = NOW + HOUR;
    OK(flash_store_demand_add(f->c, f->t1, &d, NOW, &d3, e));
    /* Someone else's buyer. */
    d.buyer_pk = b1;
    FAILS(ERR_NOT_FOUND, flash_store_demand_add(f->c, f->t2, &d, NOW, NULL, e));
    assert_string_equal(check_last.field, "buyer");

    struct flash_demand *rows;
    size_t n;
    OK(flash_store_demand_active(f->c, f->t1, NOW, &f->a, &rows, &n, e));
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].pk, d1);
    assert_int_equal(rows[0].buyer_pk, b1);
    assert_string_equal(rows[0].buyer_id, "B1");
    assert_string_equal(rows[0].product, "latte");
    assert_string_equal(rows[0].category, "coffee");
    assert_string_equal(rows[0].loc.district, "Kadıköy");
    assert_true(fabs(rows[0].loc.lat - 40.991) < 1e-9);
    assert_int_equal(rows[0].budget, 8000);
    assert_int_equal(rows[0].expires_at, NOW + 30 * MINUTE);
    assert_true(rows[0].consent);
    assert_true(fabs(rows[0].reliability - 0.7) < 1e-9);
    assert_int_equal(rows[1].pk, d3);
    assert_false(rows[1].consent);
    struct flash_buyer rb = {.commits = 10, .shows = 10};
    assert_true(fabs(rows[1].reliability - flash_buyer_reliability(&rb)) < 1e-9);
    assert_string_equal(rows[1].category, "");

    /* Later, the first expired too. */
    OK(flash_store_demand_active(f->c, f->t1, NOW + 30 * MINUTE, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].pk, d3);
    OK(flash_store_demand_active(f->c, f->t2, NOW, &f->a, &rows, &n, e));
    assert_int_equal(n, 0);

    /* Per buyer, newest first. */
    d.buyer_pk = b1;
    d.expires_at = NOW + 2 * HOUR;
    int64_t d4 = 0;
    OK(flash_store_demand_add(f->c, f->t1, &d, NOW + 1, &d4, e));
    OK(flash_store_demand_of_buyer(f->c, f->t1, b1, NOW, &f->a, &rows, &n, e));
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].pk, d4);
    assert_int_equal(rows[1].pk, d1);
    OK(flash_store_demand_of_buyer(f->c, f->t2, b1, NOW, &f->a, &rows, &n, e));
    assert_int_equal(n, 0);
}

static void test_busy_profile(void **state)
{
    struct fixture *f = *state;
    int64_t spk = add_seller(f, f->t1, "S1", NULL);
    /* Monday 2026-11-16 12:30 local (+03:00) = 09:30Z. */
    int64_t mon1230 = NOW - 5 * 24 * HOUR + 20 * MINUTE;
    struct {
        int64_t at;
        enum flash_density d;
    } reports[] = {
        {mon1230, FLASH_DENSITY_HIGH},
        {mon1230 + 10 * MINUTE, FLASH_DENSITY_MEDIUM},
        {mon1230 + 7 * 24 * HOUR, FLASH_DENSITY_HIGH}, /* the Monday after: same hour */
        {mon1230 + HOUR, FLASH_DENSITY_LOW},
        {mon1230 - 30 * 24 * HOUR, FLASH_DENSITY_HIGH}, /* before `since` */
    };
    for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
        struct flash_supply_in in = {
            .seller_pk = spk,
            .kind = FLASH_SUPPLY_DENSITY,
            .has_density = true,
            .density = reports[i].d,
            .expires_at = reports[i].at + HOUR,
        };
        OK(flash_store_supply_add(f->c, f->t1, &in, reports[i].at, NULL, e));
    }
    /* A signal without density is not a report. */
    struct flash_supply_in idle = {
        .seller_pk = spk, .kind = FLASH_SUPPLY_IDLE, .expires_at = mon1230 + HOUR};
    OK(flash_store_supply_add(f->c, f->t1, &idle, mon1230, NULL, e));

    struct flash_busy_profile p;
    OK(flash_store_busy_profile(f->c, f->t1, spk, mon1230 - 7 * 24 * HOUR, 180, &p, e));
    int h12 = 12, h13 = 13;
    assert_int_equal(p.samples[h12], 3);
    assert_true(fabs(p.busy[h12] - (1.0 + 0.5 + 1.0) / 3) < 1e-6);
    assert_int_equal(p.samples[h13], 1);
    assert_true(p.busy[h13] == 0.0f);
    int total = 0;
    for (int h = 0; h < 168; h++)
        total += p.samples[h];
    assert_int_equal(total, 4);

    /* In UTC the same reports fall at 09:00 Monday. */
    OK(flash_store_busy_profile(f->c, f->t1, spk, mon1230 - 7 * 24 * HOUR, 0, &p, e));
    assert_int_equal(p.samples[9], 3);
    /* Another tenant sees nothing. */
    OK(flash_store_busy_profile(f->c, f->t2, spk, 0, 180, &p, e));
    for (int h = 0; h < 168; h++)
        assert_int_equal(p.samples[h], 0);
}

/* ======================== windows ======================== */

static void test_windows(void **state)
{
    struct fixture *f = *state;
    int64_t s1 = add_seller(f, f->t1, "S1", NULL);
    int64_t s2 = add_seller(f, f->t1, "S2", NULL);
    int64_t b[3] = {add_buyer(f, f->t1, "B1", NULL), add_buyer(f, f->t1, "B2", NULL),
                    add_buyer(f, f->t1, "B3", NULL)};
    int64_t w1 = add_window(f, f->t1, s1, FLASH_WINDOW_SCHEDULED, b, 3);
    int64_t w2 = add_window(f, f->t1, s2, FLASH_WINDOW_PROPOSED, b + 1, 1);

    struct flash_window w;
    OK(flash_store_window_get(f->c, f->t1, w1, &f->a, &w, e));
    assert_int_equal(w.pk, w1);
    assert_int_equal(w.seller_pk, s1);
    assert_string_equal(w.seller_id, "S1");
    assert_string_equal(w.seller_name, "M Coffee");
    assert_string_equal(w.seller_loc.district, "Kadıköy");
    assert_string_equal(w.title, "latte %20 indirim");
    assert_int_equal(w.discount_percent, 20);
    assert_int_equal(w.start_ms, NOW + 5 * MINUTE);
    assert_int_equal(w.end_ms, NOW + 15 * MINUTE);
    assert_int_equal(w.status, FLASH_WINDOW_SCHEDULED);
    assert_int_equal(w.capacity, 5);
    assert_int_equal(w.min_participants, 2);
    assert_true(fabs(w.score - 0.75) < 1e-9);
    assert_string_equal(w.trace_json, "{\"score\":{\"total\":0.75}}");
    assert_string_equal(w.origin, "engine");
    assert_string_equal(w.cancel_reason, "");
    assert_string_equal(w.analytics_json, "");
    assert_int_equal(w.targeted, 3);
    assert_int_equal(w.committed, 0);
    assert_int_equal(w.joined, 0);
    assert_int_equal(w.redeemed, 0);
    assert_int_equal(w.created_at, NOW);

    /* A second open window for the same seller is refused by the database itself. */
    struct flash_window twin = w;
    twin.status = FLASH_WINDOW_PROPOSED;
    FAILS(ERR_CONFLICT, flash_store_window_insert(f->c, f->t1, &twin, NULL, 0, NOW, e));

    /* Insert errors: another tenant's seller or buyer, a duplicate target, bad fields. */
    struct flash_window bad = w;
    bad.seller_pk = s1;
    bad.status = FLASH_WINDOW_EXPIRED; /* S1 already has an open window: one at a time */
    FAILS(ERR_NOT_FOUND, flash_store_window_insert(f->c, f->t2, &bad, NULL, 0, NOW, e));
    assert_string_equal(check_last.field, "seller");
    int64_t other_b = add_buyer(f, f->t2, "X1", NULL);
    struct flash_window_target tg[2] = {{.buyer_pk = other_b, .distance_m = 5}};
    FAILS(ERR_NOT_FOUND, flash_store_window_insert(f->c, f->t1, &bad, tg, 1, NOW, e));
    assert_string_equal(check_last.field, "buyer");
    tg[0] = (struct flash_window_target){.buyer_pk = b[0], .distance_m = 5};
    tg[1] = tg[0];
    FAILS(ERR_CONFLICT, flash_store_window_insert(f->c, f->t1, &bad, tg, 2, NOW, e));
    bad.end_ms = bad.start_ms;
    FAILS(ERR_INVALID, flash_store_window_insert(f->c, f->t1, &bad, NULL, 0, NOW, e));
    assert_string_equal(check_last.field, "end");
    /* Nothing of the failed inserts stayed. */
    struct flash_window *rows;
    size_t n;
    OK(flash_store_window_list(f->c, f->t1, NULL, &f->a, &rows, &n, e));
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].pk, w2); /* newest first */
    assert_int_equal(rows[1].pk, w1);

    FAILS(ERR_NOT_FOUND, flash_store_window_get(f->c, f->t2, w1, &f->a, &w, e));

    /* Filters. */
    struct flash_window_filter fl = {.status = FLASH_WINDOW_PROPOSED};
    OK(flash_store_window_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].pk, w2);
    fl = (struct flash_window_filter){.status = -1, .seller_pk = s1};
    OK(flash_store_window_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].pk, w1);
    assert_int_equal(rows[0].targeted, 3);
    fl = (struct flash_window_filter){.status = -1, .buyer_pk = b[0]};
    OK(flash_store_window_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    fl = (struct flash_window_filter){.status = -1, .buyer_pk = b[1]};
    OK(flash_store_window_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 2);
    fl = (struct flash_window_filter){.status = -1, .after_pk = w2};
    OK(flash_store_window_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].pk, w1);
    fl = (struct flash_window_filter){.status = -1, .limit = 1};
    OK(flash_store_window_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    OK(flash_store_window_list(f->c, f->t2, NULL, &f->a, &rows, &n, e));
    assert_int_equal(n, 0);

    /* Open window of a seller; latest proposal. */
    int64_t pk = -1;
    OK(flash_store_window_open_of_seller(f->c, f->t1, s1, &pk, e));
    assert_int_equal(pk, w1);
    OK(flash_store_latest_proposal(f->c, f->t1, s2, &pk, e));
    assert_int_equal(pk, w2);
    OK(flash_store_latest_proposal(f->c, f->t1, s1, &pk, e));
    assert_int_equal(pk, 0);

    /* Guarded transitions. */
    bool changed = true;
    unsigned from_proposed = 1u << FLASH_WINDOW_PROPOSED;
    OK(flash_store_window_transition(f->c, f->t1, w1, from_proposed, FLASH_WINDOW_ACTIVE, NULL, NOW,
                                     &changed, e));
    assert_false(changed);
    unsigned from_open = from_proposed | 1u << FLASH_WINDOW_SCHEDULED | 1u << FLASH_WINDOW_ACTIVE;
    OK(flash_store_window_transition(f->c, f->t1, w2, from_proposed, FLASH_WINDOW_SCHEDULED,
                                     "ignored", NOW + 1, &changed, e));
    assert_true(changed);
    OK(flash_store_window_get(f->c, f->t1, w2, &f->a, &w, e));
    assert_int_equal(w.status, FLASH_WINDOW_SCHEDULED);
    assert_string_equal(w.cancel_reason, "");
    assert_int_equal(w.updated_at, NOW + 1);
    OK(flash_store_window_transition(f->c, f->t1, w2, from_open, FLASH_WINDOW_CANCELLED,
                                     "too few participants", NOW + 2, &changed, e));
    assert_true(changed);
    OK(flash_store_window_transition(f->c, f->t1, w2, from_open, FLASH_WINDOW_ACTIVE, NULL, NOW + 3,
                                     &changed, e));
    assert_false(changed);
    OK(flash_store_window_get(f->c, f->t1, w2, &f->a, &w, e));
    assert_int_equal(w.status, FLASH_WINDOW_CANCELLED);
    assert_string_equal(w.cancel_reason, "too few participants");
    OK(flash_store_window_open_of_seller(f->c, f->t1, s2, &pk, e));
    assert_int_equal(pk, 0);
    /* Another tenant cannot move it; a missing window is an error. */
    FAILS(ERR_NOT_FOUND,
          flash_store_window_transition(f->c, f->t2, w1, from_open, FLASH_WINDOW_ACTIVE, NULL, NOW,
                                        &changed, e));
    assert_false(changed);
    fl = (struct flash_window_filter){.status = -1, .open_only = true};
    OK(flash_store_window_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].pk, w1);

    /* Analytics. */
    OK(flash_store_window_set_analytics(f->c, f->t1, w1, "{\"joined\":2}", e));
    OK(flash_store_window_get(f->c, f->t1, w1, &f->a, &w, e));
    assert_string_equal(w.analytics_json, "{\"joined\":2}");
    FAILS(ERR_NOT_FOUND, flash_store_window_set_analytics(f->c, f->t2, w1, "{}", e));

    /* Targets. */
    struct flash_window_target *ts;
    OK(flash_store_window_targets(f->c, f->t1, w1, &f->a, &ts, &n, e));
    assert_int_equal(n, 3);
    assert_int_equal(ts[0].buyer_pk, b[0]);
    assert_string_equal(ts[0].buyer_id, "B1");
    assert_true(fabs(ts[0].distance_m - 100) < 1e-9);
    assert_int_equal(ts[2].buyer_pk, b[2]);
    assert_int_equal(ts[2].discount, 30);
    OK(flash_store_window_targets(f->c, f->t2, w1, &f->a, &ts, &n, e));
    assert_int_equal(n, 0);
    bool is_target = false;
    int discount = -1;
    OK(flash_store_window_target_of(f->c, f->t1, w1, b[1], &is_target, &discount, e));
    assert_true(is_target);
    assert_int_equal(discount, 30);
    OK(flash_store_window_target_of(f->c, f->t1, w1, other_b, &is_target, &discount, e));
    assert_false(is_target);
    assert_int_equal(discount, 0);
    OK(flash_store_window_target_of(f->c, f->t2, w1, b[1], &is_target, &discount, e));
    assert_false(is_target);
}

static void test_precommits(void **state)
{
    struct fixture *f = *state;
    int64_t s1 = add_seller(f, f->t1, "S1", NULL);
    int64_t s2 = add_seller(f, f->t1, "S2", NULL);
    int64_t s3 = add_seller(f, f->t1, "S3", NULL);
    int64_t b[3] = {add_buyer(f, f->t1, "B1", NULL), add_buyer(f, f->t1, "B2", NULL),
                    add_buyer(f, f->t1, "B3", NULL)};
    int64_t w1 = add_window(f, f->t1, s1, FLASH_WINDOW_SCHEDULED, b, 3);
    int64_t w2 = add_window(f, f->t1, s2, FLASH_WINDOW_ACTIVE, b, 2);
    int64_t w3 = add_window(f, f->t1, s3, FLASH_WINDOW_EXPIRED, b, 1);

    bool created = false;
    OK(flash_store_precommit_add(f->c, f->t1, w1, b[0], NOW, &created, e));
    assert_true(created);
    OK(flash_store_precommit_add(f->c, f->t1, w1, b[0], NOW + 1, &created, e));
    assert_false(created);
    OK(flash_store_precommit_add(f->c, f->t1, w1, b[1], NOW, &created, e));
    assert_true(created);
    OK(flash_store_precommit_add(f->c, f->t1, w2, b[0], NOW, &created, e));
    OK(flash_store_precommit_add(f->c, f->t1, w3, b[0], NOW, &created, e));
    FAILS(ERR_NOT_FOUND, flash_store_precommit_add(f->c, f->t2, w1, b[2], NOW, &created, e));

    struct flash_window w;
    OK(flash_store_window_get(f->c, f->t1, w1, &f->a, &w, e));
    assert_int_equal(w.committed, 2);

    int64_t *pks;
    size_t n;
    OK(flash_store_precommit_buyers(f->c, f->t1, w1, &f->a, &pks, &n, e));
    assert_int_equal(n, 2);
    assert_int_equal(pks[0], b[0]);
    assert_int_equal(pks[1], b[1]);

    /* Counts per seller on open windows only; a seller may be listed twice. */
    int64_t sellers[5] = {s3, s1, s2, 424242, s1};
    int counts[5] = {9, 9, 9, 9, 9};
    OK(flash_store_precommit_counts(f->c, f->t1, sellers, 5, counts, e));
    assert_int_equal(counts[0], 0); /* expired */
    assert_int_equal(counts[1], 2);
    assert_int_equal(counts[2], 1);
    assert_int_equal(counts[3], 0);
    assert_int_equal(counts[4], 2);
    OK(flash_store_precommit_counts(f->c, f->t2, sellers, 5, counts, e));
    assert_int_equal(counts[1], 0);

    /* Cancel, again, revive. */
    bool changed = false;
    OK(flash_store_precommit_cancel(f->c, f->t1, w1, b[1], NOW + 2, &changed, e));
    assert_true(changed);
    OK(flash_store_precommit_cancel(f->c, f->t1, w1, b[1], NOW + 3, &changed, e));
    assert_false(changed);
    OK(flash_store_window_get(f->c, f->t1, w1, &f->a, &w, e));
    assert_int_equal(w.committed, 1);
    OK(flash_store_precommit_add(f->c, f->t1, w1, b[1], NOW + 4, &created, e));
    assert_true(created);
    OK(flash_store_precommit_buyers(f->c, f->t1, w1, &f->a, &pks, &n, e));
    assert_int_equal(n, 2);
    FAILS(ERR_NOT_FOUND, flash_store_precommit_cancel(f->c, f->t2, w1, b[0], NOW, &changed, e));
    OK(flash_store_precommit_buyers(f->c, f->t1, w1, &f->a, &pks, &n, e));
    assert_int_equal(n, 2);

    /* Latest offer: newest SCHEDULED/ACTIVE window targeting the buyer, not declined. */
    int64_t pk = -1;
    OK(flash_store_latest_offer(f->c, f->t1, b[0], &pk, e));
    assert_int_equal(pk, w2);
    OK(flash_store_latest_offer(f->c, f->t1, b[2], &pk, e));
    assert_int_equal(pk, w1);
    OK(flash_store_precommit_cancel(f->c, f->t1, w1, b[2], NOW, &changed, e));
    assert_false(changed); /* a refusal without a pre-commit */
    OK(flash_store_latest_offer(f->c, f->t1, b[2], &pk, e));
    assert_int_equal(pk, 0);
    OK(flash_store_latest_offer(f->c, f->t2, b[0], &pk, e));
    assert_int_equal(pk, 0);
    /* A PROPOSED window was never offered. */
    int64_t s4 = add_seller(f, f->t1, "S4", NULL);
    add_window(f, f->t1, s4, FLASH_WINDOW_PROPOSED, b, 1);
    OK(flash_store_latest_offer(f->c, f->t1, b[0], &pk, e));
    assert_int_equal(pk, w2);
}

static void test_join_redeem(void **state)
{
    struct fixture *f = *state;
    int64_t s1 = add_seller(f, f->t1, "S1", NULL);
    int64_t b[2] = {add_buyer(f, f->t1, "B1", NULL), add_buyer(f, f->t1, "B2", NULL)};
    int64_t w1 = add_window(f, f->t1, s1, FLASH_WINDOW_ACTIVE, b, 2);

    const char *code = NULL;
    bool created = false;
    OK(flash_store_join(f->c, f->t1, w1, b[0], "ABC123", NOW, &f->a, &code, &created, e));
    assert_true(created);
    assert_string_equal(code, "ABC123");
    OK(flash_store_join(f->c, f->t1, w1, b[0], "ZZZ999", NOW + 1, &f->a, &code, &created, e));
    assert_false(created);
    assert_string_equal(code, "ABC123");
    /* The same code for another buyer of the window: conflict on the code. */
    FAILS(ERR_CONFLICT,
          flash_store_join(f->c, f->t1, w1, b[1], "ABC123", NOW, &f->a, &code, &created, e));
    assert_string_equal(check_last.field, "code");
    OK(flash_store_join(f->c, f->t1, w1, b[1], "DEF456", NOW, &f->a, &code, &created, e));
    assert_true(created);
    FAILS(ERR_NOT_FOUND,
          flash_store_join(f->c, f->t2, w1, b[1], "QQQ", NOW, &f->a, &code, &created, e));

    /* A taken code inside the caller's transaction leaves it usable (PostgreSQL too). */
    int64_t b3 = add_buyer(f, f->t1, "B3", NULL);
    struct err e0;
    err_init(&e0);
    assert_int_equal(db_begin(f->c, &e0), 0);
    FAILS(ERR_CONFLICT,
          flash_store_join(f->c, f->t1, w1, b3, "ABC123", NOW, &f->a, &code, &created, e));
    OK(flash_store_join(f->c, f->t1, w1, b3, "GHI789", NOW, &f->a, &code, &created, e));
    assert_true(created);
    assert_int_equal(db_commit(f->c, &e0), 0);

    struct flash_window w;
    OK(flash_store_window_get(f->c, f->t1, w1, &f->a, &w, e));
    assert_int_equal(w.joined, 3);
    assert_int_equal(w.redeemed, 0);

    int64_t who = 0;
    OK(flash_store_redeem(f->c, f->t1, w1, "DEF456", NOW + 5, &who, e));
    assert_int_equal(who, b[1]);
    FAILS(ERR_CONFLICT, flash_store_redeem(f->c, f->t1, w1, "DEF456", NOW + 6, &who, e));
    assert_string_equal(check_last.field, "code");
    FAILS(ERR_NOT_FOUND, flash_store_redeem(f->c, f->t1, w1, "NOPE00", NOW, &who, e));
    assert_string_equal(check_last.field, "code");
    FAILS(ERR_NOT_FOUND, flash_store_redeem(f->c, f->t2, w1, "ABC123", NOW, &who, e));
    OK(flash_store_window_get(f->c, f->t1, w1, &f->a, &w, e));
    assert_int_equal(w.joined, 3);
    assert_int_equal(w.redeemed, 1);
}

static void test_offers_since(void **state)
{
    struct fixture *f = *state;
    int64_t s1 = add_seller(f, f->t1, "S1", NULL);
    int64_t b[2] = {add_buyer(f, f->t1, "B1", NULL), add_buyer(f, f->t1, "B2", NULL)};
    struct flash_window w = {
        .seller_pk = s1,
        .title = "t",
        .start_ms = NOW,
        .end_ms = NOW + 10 * MINUTE,
        .status = FLASH_WINDOW_SCHEDULED,
        .capacity = 3,
    };
    struct flash_window_target tg[2] = {{.buyer_pk = b[0], .distance_m = 10},
                                        {.buyer_pk = b[1], .distance_m = 20}};
    /* earlier windows of the seller are over: one open window per seller */
    w.status = FLASH_WINDOW_EXPIRED;
    OK(flash_store_window_insert(f->c, f->t1, &w, tg, 2, NOW - 30 * HOUR, e));
    OK(flash_store_window_insert(f->c, f->t1, &w, tg, 2, NOW - 2 * HOUR, e));
    w.status = FLASH_WINDOW_SCHEDULED;
    OK(flash_store_window_insert(f->c, f->t1, &w, tg, 1, NOW - HOUR, e));
    int count = -1;
    OK(flash_store_offers_since(f->c, f->t1, b[0], NOW - 24 * HOUR, &count, e));
    assert_int_equal(count, 2);
    OK(flash_store_offers_since(f->c, f->t1, b[1], NOW - 24 * HOUR, &count, e));
    assert_int_equal(count, 1);
    OK(flash_store_offers_since(f->c, f->t1, b[0], 0, &count, e));
    assert_int_equal(count, 3);
    OK(flash_store_offers_since(f->c, f->t2, b[0], 0, &count, e));
    assert_int_equal(count, 0);
}

/* A caller's transaction that rolls back takes the writes with it. */
static void test_caller_transaction(void **state)
{
    struct fixture *f = *state;
    struct err e0;
    err_init(&e0);
    assert_int_equal(db_begin(f->c, &e0), 0);
    add_buyer(f, f->t1, "B1", NULL);
    int64_t s1 = add_seller(f, f->t1, "S1", NULL);
    add_window(f, f->t1, s1, FLASH_WINDOW_SCHEDULED, NULL, 0);
    db_rollback(f->c);
    struct flash_buyer *rows;
    size_t n;
    OK(flash_store_buyer_list(f->c, f->t1, NULL, &f->a, &rows, &n, e));
    assert_int_equal(n, 0);
    struct flash_window *ws;
    OK(flash_store_window_list(f->c, f->t1, NULL, &f->a, &ws, &n, e));
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_due, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buyer_upsert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buyer_tenants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buyer_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sellers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_supply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_demand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_profile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_windows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precommits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_join_redeem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offers_since, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caller_transaction, setup, teardown),
    };
    return TESTDB_RUN_GROUPS("flash_store", tests, &backend) ? 1 : 0;
}
