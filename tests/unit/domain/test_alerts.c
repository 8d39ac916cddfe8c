/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/alerts (alerts.h): raise with dedupe of the open alert of a kind,
 * resolve, list with state filter and keyset pages, and tenant isolation. Runs on SQLite and,
 * when TEST_PG_DSN is set, on PostgreSQL.
 */
#include "domain/alerts/alerts.h"
#include "domain/account/account.h"
#include "core/xalloc.h"
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
    f->db = testdb_open_migrated(&f->t, backend, "alerts", NULL);
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

static struct alert_spec spec(const char *kind, const char *message)
{
    return (struct alert_spec){
        .kind = kind, .source = "whatsapp", .code = "190", .message = message};
}

static size_t list(struct fixture *f, int64_t tenant, enum alert_state st, int64_t after, int limit,
                   struct alert **rows)
{
    struct alert_filter flt = {.state = st, .page = {.after = after, .limit = limit}};
    size_t n = 0;
    OK(alerts_list(f->c, tenant, &flt, &f->a, rows, &n, e));
    return n;
}

static void test_raise_dedupes_open_kind(void **state)
{
    struct fixture *f = *state;
    struct alert_spec s1 = spec("whatsapp.auth", "token expired");
    struct alert_spec s2 = spec("whatsapp.auth", "token still expired");
    int64_t id1 = 0, id2 = 0, id3 = 0;
    OK(alerts_raise(f->c, f->t1, &s1, NOW, &id1, e));
    OK(alerts_raise(f->c, f->t1, &s2, NOW + 5000, &id2, e));
    assert_true(id1 > 0);
    assert_int_equal(id1, id2);
    struct alert *rows;
    assert_int_equal(list(f, f->t1, ALERTS_ANY, 0, 0, &rows), 1);
    assert_int_equal(rows[0].occurrences, 2);
    assert_string_equal(rows[0].message, "token still expired");
    assert_string_equal(rows[0].kind, "whatsapp.auth");
    assert_int_equal(rows[0].created_at_ms, NOW);
    assert_int_equal(rows[0].last_seen_at_ms, NOW + 5000);
    assert_int_equal(rows[0].resolved_at_ms, 0);

    /* the same kind in another tenant is its own alert */
    OK(alerts_raise(f->c, f->t2, &s1, NOW, &id3, e));
    assert_true(id3 != id1);
    /* another kind is its own alert */
    struct alert_spec s3 = spec("shop.poll", "poller failing");
    OK(alerts_raise(f->c, f->t1, &s3, NOW, NULL, e));
    int64_t open = 0;
    OK(alerts_count_open(f->c, f->t1, &open, e));
    assert_int_equal(open, 2);

    /* once resolved, the next failure opens a new alert */
    OK(alerts_resolve(f->c, f->t1, id1, NOW + 6000, e));
    OK(alerts_resolve(f->c, f->t1, id1, NOW + 7000, e)); /* again: no error, time kept */
    OK(alerts_raise(f->c, f->t1, &s1, NOW + 8000, &id2, e));
    assert_true(id2 != id1);
    assert_int_equal(list(f, f->t1, ALERTS_RESOLVED, 0, 0, &rows), 1);
    assert_int_equal(rows[0].id, id1);
    assert_int_equal(rows[0].resolved_at_ms, NOW + 6000);
    assert_int_equal(list(f, f->t1, ALERTS_OPEN, 0, 0, &rows), 2);

    bool resolved = false;
    OK(alerts_resolve_kind(f->c, f->t1, "whatsapp.auth", NOW + 9000, &resolved, e));
    assert_true(resolved);
    OK(alerts_resolve_kind(f->c, f->t1, "whatsapp.auth", NOW + 9000, &resolved, e));
    assert_false(resolved);
    OK(alerts_count_open(f->c, f->t1, &open, e));
    assert_int_equal(open, 1);
    OK(alerts_count_open(f->c, f->t2, &open, e));
    assert_int_equal(open, 1);
}

static void test_tenants_are_isolated(void **state)
{
    struct fixture *f = *state;
    struct alert_spec s = spec("whatsapp.auth", "secret detail of tenant two");
    int64_t id = 0;
    OK(alerts_raise(f->c, f->t2, &s, NOW, &id, e));
    struct alert *rows;
    assert_int_equal(list(f, f->t1, ALERTS_ANY, 0, 0, &rows), 0);
    FAILS(ERR_NOT_FOUND, alerts_resolve(f->c, f->t1, id, NOW, e));
    assert_string_equal(check_last.field, "id");
    assert_int_equal(list(f, f->t2, ALERTS_OPEN, 0, 0, &rows), 1);
}

static void test_list_pages(void **state)
{
    struct fixture *f = *state;
    char kind[32];
    for (int i = 0; i < 5; i++) {
        snprintf(kind, sizeof(kind), "k.%d", i);
        struct alert_spec s = spec(kind, "m");
        OK(alerts_raise(f->c, f->t1, &s, NOW + i, NULL, e));
    }
    struct alert *rows;
    assert_int_equal(list(f, f->t1, ALERTS_ANY, 0, 2, &rows), 2);
    assert_string_equal(rows[0].kind, "k.4");
    assert_string_equal(rows[1].kind, "k.3");
    assert_int_equal(list(f, f->t1, ALERTS_ANY, rows[1].id, 2, &rows), 2);
    assert_string_equal(rows[0].kind, "k.2");
    assert_int_equal(list(f, f->t1, ALERTS_ANY, rows[1].id, 2, &rows), 1);
    assert_string_equal(rows[0].kind, "k.0");
}

static void test_bad_input_names_field(void **state)
{
    struct fixture *f = *state;
    struct alert_spec s = spec("Bad Kind", "m");
    FAILS(ERR_INVALID, alerts_raise(f->c, f->t1, &s, NOW, NULL, e));
    assert_string_equal(check_last.field, "kind");
    s = spec("ok.kind", "");
    FAILS(ERR_INVALID, alerts_raise(f->c, f->t1, &s, NOW, NULL, e));
    assert_string_equal(check_last.field, "message");
    s = spec("ok.kind", "m");
    s.source = NULL;
    FAILS(ERR_INVALID, alerts_raise(f->c, f->t1, &s, NOW, NULL, e));
    assert_string_equal(check_last.field, "source");
    s = spec("ok.kind", "m");
    FAILS(ERR_INVALID, alerts_raise(f->c, 0, &s, NOW, NULL, e));
    assert_string_equal(check_last.field, "tenant_id");
    FAILS(ERR_CONFLICT, alerts_raise(f->c, 999999, &s, NOW, NULL, e));

    /* a long message is cut at a character boundary, not refused */
    char big[ALERT_MESSAGE_MAX + 64];
    size_t n = 0;
    big[n++] = 'x'; /* then "ç" (two bytes) repeated: byte ALERT_MESSAGE_MAX falls inside one */
    while (n + 2 < sizeof(big)) {
        big[n++] = (char)0xC3;
        big[n++] = (char)0xA7;
    }
    big[n] = '\0';
    s = spec("long.message", big);
    OK(alerts_raise(f->c, f->t1, &s, NOW, NULL, e));
    struct alert *rows;
    assert_int_equal(list(f, f->t1, ALERTS_OPEN, 0, 1, &rows), 1);
    size_t len = strlen(rows[0].message);
    assert_int_equal(len, ALERT_MESSAGE_MAX - 1);
    assert_int_equal((unsigned char)rows[0].message[len - 1], 0xA7); /* ends whole */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_raise_dedupes_open_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tenants_are_isolated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_names_field, setup, teardown),
    };
    return TESTDB_RUN_GROUPS("alerts", tests, &backend) ? 1 : 0;
}
