/* SPDX-License-Identifier: MIT */
/*
 * The live index (domain/flash/live_index.h) on a real database (SQLite, and PostgreSQL with
 * TEST_PG_DSN): after every step of a seeded sequence of changes (buyers and sellers registered
 * and moved, demand signalled and expired, seller signals, settings, consent withdrawn, a person
 * erased, windows with pre-commits), a scan's inputs from memory equal the inputs read from the
 * database, and so do the scores. Two database handles, each with its own index, stand for two
 * processes on one database: one writes, both must follow. A scan with nothing changed reads
 * from memory.
 */
#include "core/crypto.h"
#include "core/log.h"
#include "domain/account/account.h"
#include "domain/flash/flash_service.h"
#include "domain/flash/flash_store.h"
#include "domain/flash/live_index.h"
#include "domain/notify/contacts.h"
#include "platform/privacy.h"
#include "support/testdb.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0     1795000000000LL
#define MIN_MS 60000LL

static enum db_backend backend;

struct fx {
    struct testdb t;
    struct db *db[2]; /* two handles on one database: two processes */
    struct db_conn *c[2];
    struct flash_live *live[2];
    int64_t tenant;
    struct arena a;
    uint64_t rng;
};

static void ok(int rc, const struct err *e)
{
    if (rc)
        fail_msg("%s (field %s)", e->msg, e->field);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->db[0] = testdb_open_migrated(&f->t, backend, "liveidx", NULL);
    f->db[1] = testdb_open(&f->t, NULL);
    for (int i = 0; i < 2; i++) {
        f->c[i] = testdb_acquire(f->db[i]);
        f->live[i] = flash_live_new();
    }
    arena_init(&f->a);
    struct err e;
    err_init(&e);
    ok(account_tenant_ensure(f->c[0], "moda", T0, &f->tenant, &e), &e);
    f->rng = 0x9e3779b97f4a7c15ull;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    arena_release(&f->a);
    for (int i = 0; i < 2; i++) {
        flash_live_free(f->live[i]);
        db_conn_release(f->c[i]);
        db_close(f->db[i]);
    }
    testdb_remove(&f->t);
    free(f);
    return 0;
}

static unsigned rnd(struct fx *f, unsigned n)
{
    f->rng ^= f->rng << 13;
    f->rng ^= f->rng >> 7;
    f->rng ^= f->rng << 17;
    return (unsigned)(f->rng % n);
}

static void same_str(const char *x, const char *y, const char *what, size_t i)
{
    if (strcmp(x ? x : "", y ? y : "") != 0)
        fail_msg("%s[%zu]: memory \"%s\", database \"%s\"", what, i, x ? x : "", y ? y : "");
}

static void same_inputs(const struct flash_live_inputs *m, const struct flash_live_inputs *d)
{
    json_t *jm = flash_config_to_json(&m->cfg), *jd = flash_config_to_json(&d->cfg);
    assert_true(json_equal(jm, jd));
    json_decref(jm);
    json_decref(jd);
    assert_int_equal(m->n_sellers, d->n_sellers);
    for (size_t i = 0; i < m->n_sellers; i++) {
        const struct flash_seller *x = &m->sellers[i], *y = &d->sellers[i];
        assert_int_equal(x->pk, y->pk);
        same_str(x->id, y->id, "seller id", i);
        same_str(x->category, y->category, "seller category", i);
        same_str(x->phone, y->phone, "seller phone", i);
        assert_true(x->loc.lat == y->loc.lat && x->loc.lng == y->loc.lng);
        assert_int_equal(x->density, y->density);
        assert_int_equal(x->supply_kind, y->supply_kind);
        assert_int_equal(x->supply_until, y->supply_until);
        assert_int_equal(x->max_discount, y->max_discount);
        assert_int_equal(x->updated_at, y->updated_at);
        assert_int_equal(m->precommits[i], d->precommits[i]);
    }
    assert_int_equal(m->n_demand, d->n_demand);
    for (size_t i = 0; i < m->n_demand; i++) {
        const struct flash_demand *x = &m->demand[i], *y = &d->demand[i];
        assert_int_equal(x->pk, y->pk);
        assert_int_equal(x->buyer_pk, y->buyer_pk);
        same_str(x->buyer_id, y->buyer_id, "demand buyer", i);
        same_str(x->category, y->category, "demand category", i);
        same_str(x->product, y->product, "demand product", i);
        assert_true(x->loc.lat == y->loc.lat && x->loc.lng == y->loc.lng);
        assert_int_equal(x->expires_at, y->expires_at);
        assert_true(x->reliability == y->reliability);
        assert_int_equal(x->consent, y->consent);
    }
}

static void scan(const struct flash_live_inputs *in, int64_t now_ms, struct arena *a,
                 struct flash_score **out, size_t *n)
{
    struct err e;
    err_init(&e);
    struct flash_scan_input si = {.cfg = &in->cfg,
                                  .sellers = in->sellers,
                                  .n_sellers = in->n_sellers,
                                  .demand = in->demand,
                                  .n_demand = in->n_demand,
                                  .precommits = in->precommits,
                                  .now_ms = now_ms,
                                  .grid = in->grid};
    ok(flash_scan(&si, a, out, n, &e), &e);
}

/* Index `k` (on its own handle) against a read from the database; returns from_memory. */
static bool check(struct fx *f, int k, int64_t now_ms)
{
    struct arena a;
    arena_init(&a);
    struct err e;
    err_init(&e);
    struct flash_live_inputs m, d;
    ok(flash_live_get(f->live[k], f->c[k], f->tenant, now_ms, &a, &m, &e), &e);
    ok(flash_live_read(f->c[k], f->tenant, now_ms, &a, &d, &e), &e);
    same_inputs(&m, &d);
    struct flash_score *sm, *sd;
    size_t nm, nd;
    scan(&m, now_ms, &a, &sm, &nm);
    scan(&d, now_ms, &a, &sd, &nd);
    assert_int_equal(nm, nd);
    for (size_t i = 0; i < nm; i++) {
        assert_int_equal(sm[i].seller_idx, sd[i].seller_idx);
        assert_true(sm[i].total == sd[i].total);
        assert_int_equal(sm[i].nearby, sd[i].nearby);
        assert_int_equal(sm[i].matching, sd[i].matching);
        assert_int_equal(sm[i].precommits, sd[i].precommits);
        assert_int_equal(sm[i].eligible, sd[i].eligible);
    }
    bool from_memory = m.from_memory;
    arena_release(&a);
    return from_memory;
}

static void seller(struct fx *f, int k, int i, int64_t now_ms)
{
    struct err e;
    err_init(&e);
    struct flash_seller s;
    memset(&s, 0, sizeof(s));
    s.id = arena_printf(&f->a, "s%d", i);
    s.phone = arena_printf(&f->a, "+90532%07d", i);
    s.name = s.id;
    s.category = rnd(f, 3) ? "coffee" : "bakery";
    s.loc = (struct flash_location){40.98 + rnd(f, 100) * 1e-4, 29.02 + rnd(f, 100) * 1e-4, "", ""};
    s.density = (enum flash_density)rnd(f, 3);
    s.stock_status = "";
    s.currency = "TRY";
    s.max_discount = 25;
    s.capacity = 5;
    s.auto_approve = true;
    s.opening_hours = "";
    bool created;
    ok(flash_seller_register(f->c[k], f->tenant, &s, now_ms, &f->a, &created, &e), &e);
}

static const char *phone_of(struct fx *f, int i)
{
    return arena_printf(&f->a, "+90533%07d", i);
}

static void buyer(struct fx *f, int k, int i, int64_t now_ms)
{
    struct err e;
    err_init(&e);
    struct flash_buyer b;
    memset(&b, 0, sizeof(b));
    b.id = arena_printf(&f->a, "b%d", i);
    b.phone = phone_of(f, i);
    b.name = b.id;
    b.loc = (struct flash_location){40.98 + rnd(f, 100) * 1e-4, 29.02 + rnd(f, 100) * 1e-4, "", ""};
    b.consent = true;
    b.language = "tr";
    bool created;
    ok(flash_buyer_register(f->c[k], f->tenant, &b, now_ms, &f->a, &created, &e), &e);
}

static void demand(struct fx *f, int k, int i, int64_t now_ms)
{
    struct err e;
    err_init(&e);
    struct flash_demand_in d = {.text = "latte",
                                .product = "latte",
                                .category = rnd(f, 4) ? "coffee" : "",
                                .currency = "TRY",
                                .expires_at = now_ms + (1 + rnd(f, 30)) * MIN_MS};
    int64_t pk;
    ok(flash_buyer_signal(f->c[k], f->tenant, arena_printf(&f->a, "b%d", i), &d, now_ms, &pk, &e),
       &e);
}

/* One random change through handle k. */
static void change(struct fx *f, int k, int *n_sellers, int *n_buyers, bool *erased, int64_t *now)
{
    struct err e;
    err_init(&e);
    switch (rnd(f, 9)) {
    case 0: /* a new seller, or one moved */
        seller(f, k, *n_sellers < 6 && rnd(f, 2) ? (*n_sellers)++ : (int)rnd(f, *n_sellers + 1),
               *now);
        if (*n_sellers == 0)
            (*n_sellers)++;
        break;
    case 1: { /* a new buyer with a wish */
        int i = (*n_buyers)++;
        buyer(f, k, i, *now);
        demand(f, k, i, *now);
        break;
    }
    case 2: /* another wish of a known buyer */
    case 3: {
        int i = *n_buyers ? (int)rnd(f, *n_buyers) : -1;
        if (i >= 0 && !erased[i])
            demand(f, k, i, *now);
        break;
    }
    case 4: /* time passes: some demand expires */
        *now += (1 + rnd(f, 12)) * MIN_MS;
        break;
    case 5: { /* settings: another radius and threshold */
        struct flash_config cfg;
        ok(flash_store_config_get(f->c[k], f->tenant, &cfg, &e), &e);
        cfg.radius_m = 300 + rnd(f, 8) * 100;
        cfg.threshold = 0.2 + rnd(f, 5) * 0.1;
        ok(flash_store_config_put(f->c[k], f->tenant, &cfg, *now, &e), &e);
        break;
    }
    case 6: { /* a buyer withdraws marketing consent */
        int i = *n_buyers ? (int)rnd(f, *n_buyers) : -1;
        if (i >= 0 && !erased[i])
            ok(contacts_set_consent(f->c[k], f->tenant, phone_of(f, i), CONTACT_MARKETING, false,
                                    *now, &e),
               &e);
        break;
    }
    case 7: { /* a person is erased */
        int i = *n_buyers ? (int)rnd(f, *n_buyers) : -1;
        if (i < 0 || erased[i])
            break;
        struct privacy_subject p;
        ok(privacy_subject_parse(phone_of(f, i), "", &p, &e), &e);
        json_t *counts = NULL;
        ok(privacy_erase(f->c[k], f->tenant, &p, *now, &counts, &e), &e);
        json_decref(counts);
        erased[i] = true;
        break;
    }
    case 8: { /* a seller signal, or windows opened and a pre-commit */
        if (!*n_sellers)
            break;
        if (rnd(f, 2)) {
            struct flash_supply_in s = {.kind = FLASH_SUPPLY_IDLE,
                                        .text = "",
                                        .product = "",
                                        .expires_at = *now + 20 * MIN_MS};
            int64_t pk;
            ok(flash_seller_signal(f->c[k], f->tenant,
                                   arena_printf(&f->a, "s%d", (int)rnd(f, *n_sellers)), &s, *now,
                                   &pk, &e),
               &e);
            break;
        }
        struct arena a;
        arena_init(&a);
        struct flash_generated *g;
        size_t n;
        ok(flash_generate(f->c[k], f->tenant, *now, &a, &g, &n, &e), &e);
        for (size_t j = 0; j < n && *n_buyers; j++) {
            if (!g[j].window_pk)
                continue;
            int i = (int)rnd(f, *n_buyers);
            bool created;
            struct err pe;
            err_init(&pe);
            /* a buyer the window does not target is refused: that changes nothing */
            if (!erased[i])
                (void)flash_precommit(f->c[k], f->tenant, g[j].window_pk,
                                      arena_printf(&a, "b%d", i), *now, &created, &pe);
            break;
        }
        arena_release(&a);
        break;
    }
    }
}

/* A seeded sequence of changes through either handle; both indexes follow every step. */
static void test_memory_equals_database(void **state)
{
    struct fx *f = *state;
    int n_sellers = 0, n_buyers = 0;
    bool erased[200] = {0};
    int64_t now = T0;
    for (int i = 0; i < 4; i++)
        seller(f, 0, n_sellers++, now);
    for (int i = 0; i < 12; i++) {
        buyer(f, 0, n_buyers, now);
        demand(f, 0, n_buyers++, now);
    }
    int hits = 0;
    for (int step = 0; step < 120 && n_buyers < 190; step++) {
        int k = (int)rnd(f, 2);
        change(f, k, &n_sellers, &n_buyers, erased, &now);
        /* the writer's own index, then the other process's */
        check(f, k, now);
        check(f, 1 - k, now);
        /* nothing changed since: both answer from memory (and still equal the database) */
        hits += check(f, 0, now) && check(f, 1, now);
    }
    assert_true(hits > 0);
}

/* An unchanged tenant is read once; a change anywhere reads it again; expiry does not. */
static void test_reads_only_on_change(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 3; i++)
        seller(f, 0, i, T0);
    for (int i = 0; i < 5; i++) {
        buyer(f, 0, i, T0);
        demand(f, 0, i, T0);
    }
    assert_false(check(f, 1, T0)); /* first scan reads */
    assert_true(check(f, 1, T0));
    assert_true(check(f, 1, T0 + MIN_MS));
    /* a wish written by the other process */
    demand(f, 0, 2, T0 + MIN_MS);
    assert_false(check(f, 1, T0 + MIN_MS));
    assert_true(check(f, 1, T0 + MIN_MS));
    /* an hour later every wish has expired: dropped in memory, not read */
    assert_true(check(f, 1, T0 + 60 * MIN_MS));
    struct flash_live_stats st;
    flash_live_stats(f->live[1], &st);
    assert_int_equal(st.tenants, 1);
    assert_int_equal(st.demand, 0);
    assert_int_equal(st.loads, 2);
    assert_true(st.compacts >= 1);
    /* a clock behind the snapshot reads again (the expired rows are not in memory) */
    assert_false(check(f, 1, T0));
}

/* Inside a transaction the index is used when current, and what the transaction read is not kept.
 */
static void test_transaction_not_kept(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    seller(f, 0, 0, T0);
    buyer(f, 0, 0, T0);
    demand(f, 0, 0, T0);
    assert_false(check(f, 0, T0));
    ok(db_begin(f->c[0], &e), &e);
    assert_true(check(f, 0, T0)); /* current: used */
    demand(f, 0, 0, T0);          /* our own uncommitted wish */
    assert_false(check(f, 0, T0));
    db_rollback(f->c[0]);
    assert_true(check(f, 0, T0)); /* the committed snapshot is still there, and right */
}

int main(void)
{
    log_set_level(LOG_WARN);
    sec_password_set_cost(SEC_PWHASH_MIN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_memory_equals_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_only_on_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transaction_not_kept, setup, teardown),
    };
    return TESTDB_RUN_GROUPS("live_index", tests, &backend);
}
