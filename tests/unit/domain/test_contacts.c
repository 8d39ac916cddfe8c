/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/notify/contacts.c: phone normalisation, one contact per phone and
 * tenant, consent per purpose, the time a person last wrote, the conversation state, and a
 * flash buyer's consent read from their contact. Runs on SQLite and, with TEST_PG_DSN, on
 * PostgreSQL.
 */
#include "domain/notify/contacts.h"
#include "domain/account/account.h"
#include "domain/flash/flash_store.h"
#include "core/xalloc.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

static enum db_backend backend;

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->db = testdb_open_migrated(&f->t, backend, "contacts", NULL);
    f->c = testdb_acquire(f->db);
    arena_init(&f->a);
    struct err e;
    err_init(&e);
    assert_int_equal(account_tenant_create(f->c, "one", NOW, &f->t1, &e), 0);
    assert_int_equal(account_tenant_create(f->c, "two", NOW, &f->t2, &e), 0);
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

static void test_phone_norm(void **state)
{
    (void)state;
    char p[20];
    assert_true(contacts_phone_norm("905321234567", p));
    assert_string_equal(p, "+905321234567");
    assert_true(contacts_phone_norm("+905321234567", p));
    assert_string_equal(p, "+905321234567");
    assert_false(contacts_phone_norm("+90 532", p));
    assert_false(contacts_phone_norm("1234567", p));
    assert_false(contacts_phone_norm("+1234567890123456", p));
    assert_false(contacts_phone_norm(NULL, p));
}

static void test_contact_lifecycle(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    struct contact ct;
    bool found = true;
    assert_int_equal(contacts_get_by_phone(f->c, f->t1, "+905321234567", &f->a, &ct, &found, &e),
                     0);
    assert_false(found);
    /* the person writes: a contact with the window open, consenting by default */
    assert_int_equal(contacts_touch_inbound(f->c, f->t1, "905321234567", NOW, &e), 0);
    assert_int_equal(contacts_get_by_phone(f->c, f->t1, "+905321234567", &f->a, &ct, &found, &e),
                     0);
    assert_true(found);
    assert_int_equal(ct.last_inbound_at, NOW);
    assert_true(ct.marketing_consent);
    assert_true(ct.transactional_consent);
    assert_string_equal(ct.language, "tr");
    /* "dur": marketing off, transactional kept; the same phone without '+' is the same person */
    assert_int_equal(
        contacts_set_consent(f->c, f->t1, "905321234567", CONTACT_MARKETING, false, NOW + 1, &e),
        0);
    assert_int_equal(contacts_upsert_phone(f->c, f->t1, "+905321234567", "en", -1, NOW + 2, &e), 0);
    assert_int_equal(contacts_get_by_phone(f->c, f->t1, "905321234567", &f->a, &ct, &found, &e), 0);
    assert_false(ct.marketing_consent);
    assert_true(ct.transactional_consent);
    assert_string_equal(ct.language, "en");
    assert_int_equal(ct.last_inbound_at, NOW);
    /* the conversation state */
    const char *st = NULL;
    assert_int_equal(contacts_state(f->c, f->t1, "+905321234567", &f->a, &st, &e), 0);
    assert_string_equal(st, "");
    assert_int_equal(contacts_set_state(f->c, f->t1, "+905321234567", "deals:4,9", NOW, &e), 0);
    assert_int_equal(contacts_state(f->c, f->t1, "+905321234567", &f->a, &st, &e), 0);
    assert_string_equal(st, "deals:4,9");
    /* one row for the phone; the other tenant has none */
    struct db_stmt *s;
    assert_int_equal(db_prepare(f->c, &s, "SELECT COUNT(*) FROM contacts", &e), 0);
    assert_int_equal(db_step(s, &e), DB_ROW);
    assert_int_equal(db_col_i64(s, 0), 1);
    db_stmt_done(s);
    assert_int_equal(contacts_get_by_phone(f->c, f->t2, "+905321234567", &f->a, &ct, &found, &e),
                     0);
    assert_false(found);
    /* not a phone: refused, naming the field */
    assert_int_equal(contacts_touch_inbound(f->c, f->t1, "call me", NOW, &e), ERR_INVALID);
    assert_string_equal(e.field, "phone");
}

/* A flash buyer's consent is their contact's: registration writes it, "dur" withdraws it. */
static void test_buyer_consent_lives_on_contact(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    struct flash_buyer b = {.id = "B1",
                            .phone = "+905330000001",
                            .name = "Ayşe",
                            .loc = {.lat = 40.99, .lng = 29.03},
                            .consent = true,
                            .language = "tr"};
    bool created;
    assert_int_equal(flash_store_buyer_upsert(f->c, f->t1, &b, NOW, &f->a, &created, &e), 0);
    assert_true(b.consent);
    assert_int_equal(
        contacts_set_consent(f->c, f->t1, "+905330000001", CONTACT_MARKETING, false, NOW + 1, &e),
        0);
    struct flash_buyer g;
    assert_int_equal(flash_store_buyer_get(f->c, f->t1, "B1", false, &f->a, &g, &e), 0);
    assert_false(g.consent);
    /* registering again with consent true turns offers back on */
    b.consent = true;
    assert_int_equal(flash_store_buyer_upsert(f->c, f->t1, &b, NOW + 2, &f->a, &created, &e), 0);
    assert_true(b.consent);
    struct contact ct;
    bool found;
    assert_int_equal(contacts_get_by_phone(f->c, f->t1, "+905330000001", &f->a, &ct, &found, &e),
                     0);
    assert_true(found && ct.marketing_consent);
}

int main(void)
{
    const struct CMUnitTest common[] = {cmocka_unit_test(test_phone_norm)};
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_contact_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buyer_consent_lives_on_contact, setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("contacts_common", common, NULL, NULL);
    failed += TESTDB_RUN_GROUPS("contacts", tests, &backend);
    return failed ? 1 : 0;
}
