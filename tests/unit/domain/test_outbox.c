/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/notify (kinds.h, outbox.h): the registry of message kinds (a
 * module's own kinds, names, conflicts), and the outbox in the database (message + delivery job in
 * one transaction, lists, statuses that only move forward, a failure announced to webhook
 * subscribers once) on SQLite and, when TEST_PG_DSN is set, on PostgreSQL.
 */
#include "domain/notify/outbox.h"
#include "core/str.h"
#include "domain/account/account.h"
#include "domain/flash/flash_store.h"
#include "domain/webhooks/webhooks.h"
#include "jobs/queue.h"
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

/* ======================== kinds ======================== */

/* A module's own message kinds, as a new system would register them. */
struct test_vars {
    const char *name;
    int count;
};

static int render_note(const char *language, const void *vars, char *out, size_t n)
{
    const struct test_vars *v = vars;
    int r = snprintf(out, n,
                     str_eq(language, "en") ? "Hi %s, %d parcels are ready."
                                            : "Merhaba %s, %d paketiniz hazır.",
                     v->name, v->count);
    return r < 0 || (size_t)r >= n ? -1 : r;
}

static const struct notify_kind kind_note = {
    .name = "test.note", .purpose = NOTIFY_TRANSACTIONAL, .render = render_note};
static const struct notify_kind kind_promo = {.name = "test.promo",
                                              .purpose = NOTIFY_MARKETING,
                                              .render = render_note,
                                              .buttons = {{"take", "Al", "Take"}}};
static const struct test_vars full = {.name = "Ayşe", .count = 3};

#define KIND(m) notify_kind_find((m)->kind)

static void test_kinds(void **state)
{
    (void)state;
    OK(notify_kind_register(&kind_note, e));
    OK(notify_kind_register(&kind_note, e)); /* the same definition again: nothing happens */
    assert_ptr_equal(notify_kind_find("test.note"), &kind_note);
    assert_null(notify_kind_find("test.none"));
    assert_null(notify_kind_find(NULL));
    /* Another definition under a taken name. */
    static const struct notify_kind twin = {.name = "test.note"};
    FAILS(ERR_CONFLICT, notify_kind_register(&twin, e));
    assert_string_equal(check_last.field, "kind");
    assert_ptr_equal(notify_kind_find("test.note"), &kind_note);
    /* Bad names and buttons. */
    static const struct notify_kind bad[] = {
        {.name = ""},
        {.name = "Offer"},
        {.name = "9lives"},
        {.name = "a b"},
        {.name = NULL},
        {.name = "test.0123456789012345678901234567890123456789xyz", .buttons = {{"x", NULL, "X"}}},
        {.name = "test.button", .buttons = {{"go", "Git", NULL}}},
        {.name = "test.0123456789012345678901234567890123456789wxyz"}, /* 49 characters */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        FAILS(ERR_INVALID, notify_kind_register(&bad[i], e));
    FAILS(ERR_INVALID, notify_kind_register(NULL, e));
    assert_true(notify_kind_name_ok("order.receipt"));
    assert_true(notify_kind_name_ok("window_open"));
    assert_false(notify_kind_name_ok("order-receipt"));
    OK(notify_kind_register(&kind_promo, e));
    OK(notify_kind_register(&notify_kind_reply, e));
    const struct notify_kind *all[NOTIFY_KINDS_MAX];
    size_t n = notify_kinds_list(all, NOTIFY_KINDS_MAX);
    bool note = false, promo = false;
    for (size_t i = 0; i < n; i++) {
        note = note || all[i] == &kind_note;
        promo = promo || all[i] == &kind_promo;
    }
    assert_true(note && promo);
    assert_int_equal(notify_kinds_list(all, 1), 1);
    assert_string_equal(notify_status_names[NOTIFY_FAILED], "failed");
}

/* ======================== outbox ======================== */

struct fixture {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    struct arena a;
    int64_t t1, t2;
    int64_t buyer, seller, window;
};

static enum db_backend backend;

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
    f->db = testdb_open_migrated(&f->t, backend, "outbox", NULL);
    f->c = testdb_acquire(f->db);
    arena_init(&f->a);
    f->t1 = tenant(f, "one");
    f->t2 = tenant(f, "two");
    OK(notify_kind_register(&kind_note, e));
    OK(notify_kind_register(&kind_promo, e));
    struct flash_buyer b = {
        .id = "B1", .phone = "+905320000001", .name = "Ayşe", .loc = {41.0, 29.0, "", ""}};
    bool created;
    OK(flash_store_buyer_upsert(f->c, f->t1, &b, NOW, &f->a, &created, e));
    f->buyer = b.pk;
    struct flash_seller s = {.id = "S1",
                             .phone = "+905550000001",
                             .name = "M Coffee",
                             .category = "coffee",
                             .loc = {41.0, 29.0, "", ""},
                             .capacity = 3};
    OK(flash_store_seller_upsert(f->c, f->t1, &s, NOW, &f->a, &created, e));
    f->seller = s.pk;
    struct flash_window w = {.seller_pk = s.pk,
                             .title = "latte",
                             .start_ms = NOW,
                             .end_ms = NOW + 600000,
                             .status = FLASH_WINDOW_SCHEDULED,
                             .capacity = 3};
    OK(flash_store_window_insert(f->c, f->t1, &w, NULL, 0, NOW, e));
    f->window = w.pk;
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

static struct notify_message to_buyer(struct fixture *f, const struct notify_kind *kind,
                                      const char *lang)
{
    struct notify_message m = {
        .recipient_kind = "buyer",
        .recipient_pk = f->buyer,
        .recipient_id = "B1",
        .phone = "+905320000001",
        .language = lang,
        .kind = kind ? kind->name : "test.unregistered",
        .about_kind = "window",
        .about_pk = f->window,
    };
    return m;
}

static void test_enqueue(void **state)
{
    struct fixture *f = *state;
    struct notify_message m = to_buyer(f, &kind_promo, "tr");
    OK(notify_enqueue(f->c, f->t1, KIND(&m), &m, &full, NOW, e));
    assert_true(m.pk > 0);
    assert_int_equal(m.status, NOTIFY_PENDING);

    struct notify_message g;
    OK(notify_get(f->c, f->t1, m.pk, &f->a, &g, e));
    assert_int_equal(g.pk, m.pk);
    assert_string_equal(g.recipient_kind, "buyer");
    assert_int_equal(g.recipient_pk, f->buyer);
    assert_string_equal(g.recipient_id, "B1");
    assert_string_equal(g.phone, "+905320000001");
    assert_string_equal(g.language, "tr");
    assert_string_equal(g.kind, "test.promo");
    assert_string_equal(g.body, "Merhaba Ayşe, 3 paketiniz hazır.");
    assert_string_equal(g.about_kind, "window");
    assert_int_equal(g.about_pk, f->window);
    assert_int_equal(g.status, NOTIFY_PENDING);
    assert_string_equal(g.error, "");
    assert_string_equal(g.provider_id, "");
    assert_int_equal(g.created_at, NOW);
    assert_int_equal(g.updated_at, NOW);
    FAILS(ERR_NOT_FOUND, notify_get(f->c, f->t2, m.pk, &f->a, &g, e));

    /* Its delivery job: pending, named notify.deliver, unique per message. */
    struct job_row *jobs;
    size_t n;
    struct job_filter jf = {.name = NOTIFY_DELIVER_JOB, .state = "pending"};
    OK(jobs_list(f->c, f->t1, false, &jf, &f->a, &jobs, &n, e));
    assert_int_equal(n, 1);
    assert_string_equal(jobs[0].name, "notify.deliver");
    assert_int_equal(jobs[0].tenant_id, f->t1);
    char key[64], payload[64];
    snprintf(key, sizeof(key), "notify:%lld", (long long)m.pk);
    snprintf(payload, sizeof(payload), "{\"message\":%lld}", (long long)m.pk);
    assert_string_equal(jobs[0].unique_key, key);
    assert_string_equal(jobs[0].payload, payload);

    /* A seller message in English, without a window, in the caller's transaction. */
    struct err e0;
    err_init(&e0);
    assert_int_equal(db_begin(f->c, &e0), 0);
    struct notify_message s = {
        .recipient_kind = "seller",
        .recipient_pk = f->seller,
        .recipient_id = "S1",
        .language = "en",
        .kind = "test.note",
    };
    OK(notify_enqueue(f->c, f->t1, KIND(&s), &s, &full, NOW + 1, e));
    assert_int_equal(db_commit(f->c, &e0), 0);
    OK(notify_get(f->c, f->t1, s.pk, &f->a, &g, e));
    assert_string_equal(g.language, "en");
    assert_string_equal(g.about_kind, "");
    assert_int_equal(g.about_pk, 0);
    assert_string_equal(g.body, "Hi Ayşe, 3 parcels are ready.");

    /* Rolled back with the caller: neither message nor job. */
    assert_int_equal(db_begin(f->c, &e0), 0);
    struct notify_message r = to_buyer(f, &kind_note, "tr");
    OK(notify_enqueue(f->c, f->t1, KIND(&r), &r, &full, NOW + 2, e));
    int64_t gone = r.pk;
    db_rollback(f->c);
    FAILS(ERR_NOT_FOUND, notify_get(f->c, f->t1, gone, &f->a, &g, e));
    OK(jobs_list(f->c, f->t1, false, &jf, &f->a, &jobs, &n, e));
    assert_int_equal(n, 2);

    /* Free text when no vars are given. */
    struct notify_message t = to_buyer(f, &kind_note, "tr");
    t.body = "Teşekkürler, kaydınız alındı.";
    OK(notify_enqueue(f->c, f->t1, KIND(&t), &t, NULL, NOW + 3, e));
    OK(notify_get(f->c, f->t1, t.pk, &f->a, &g, e));
    assert_string_equal(g.body, "Teşekkürler, kaydınız alındı.");

    /* Bad input. */
    struct notify_message bad = to_buyer(f, &kind_promo, "tr");
    bad.recipient_kind = "admin";
    FAILS(ERR_INVALID, notify_enqueue(f->c, f->t1, KIND(&bad), &bad, &full, NOW, e));
    assert_string_equal(check_last.field, "recipient_kind");
    bad = to_buyer(f, NULL, "tr"); /* a kind nobody registered */
    FAILS(ERR_INVALID, notify_enqueue(f->c, f->t1, KIND(&bad), &bad, &full, NOW, e));
    assert_string_equal(check_last.field, "kind");
    bad = to_buyer(f, &kind_promo, "tr");
    FAILS(ERR_INVALID, notify_enqueue(f->c, f->t1, KIND(&bad), &bad, NULL, NOW, e));
    assert_string_equal(check_last.field, "body");
    /* About something without saying what. */
    bad = to_buyer(f, &kind_promo, "tr");
    bad.about_kind = "";
    FAILS(ERR_INVALID, notify_enqueue(f->c, f->t2, KIND(&bad), &bad, &full, NOW, e));
    assert_string_equal(check_last.field, "about_kind");
    OK(jobs_list(f->c, f->t2, false, NULL, &f->a, &jobs, &n, e));
    assert_int_equal(n, 0);
}

static void test_list(void **state)
{
    struct fixture *f = *state;
    int64_t pks[10];
    for (int i = 0; i < 10; i++) {
        struct notify_message m = to_buyer(f, i % 2 ? &kind_promo : &kind_note, "tr");
        if (i >= 7) {
            m.recipient_kind = "seller";
            m.recipient_pk = f->seller;
            m.recipient_id = "S1";
            m.about_pk = 0;
        }
        OK(notify_enqueue(f->c, f->t1, KIND(&m), &m, &full, NOW + i, e));
        pks[i] = m.pk;
    }
    OK(notify_set_status(f->c, f->t1, pks[0], NOTIFY_SENT, NULL, "wamid.1", NOW + 20, e));

    struct notify_message *rows;
    size_t n;
    OK(notify_list(f->c, f->t1, NULL, &f->a, &rows, &n, e));
    assert_int_equal(n, 10);
    assert_int_equal(rows[0].pk, pks[9]); /* newest first */
    struct notify_filter fl = {.status = -1, .limit = 4};
    OK(notify_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 4);
    fl.after_pk = rows[3].pk;
    OK(notify_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 4);
    assert_int_equal(rows[0].pk, pks[5]);
    fl = (struct notify_filter){.recipient_id = "S1", .status = -1};
    OK(notify_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 3);
    fl = (struct notify_filter){.kind = "test.promo", .status = -1};
    OK(notify_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 5);
    fl = (struct notify_filter){.status = NOTIFY_SENT};
    OK(notify_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].pk, pks[0]);
    assert_string_equal(rows[0].provider_id, "wamid.1");
    fl = (struct notify_filter){.status = -1, .about_kind = "window", .about_pk = f->window};
    OK(notify_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 7);
    fl =
        (struct notify_filter){.recipient_id = "B1", .kind = "test.note", .status = NOTIFY_PENDING};
    OK(notify_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 3); /* 2, 4, 6 (0 is sent) */
    OK(notify_list(f->c, f->t2, NULL, &f->a, &rows, &n, e));
    assert_int_equal(n, 0);
}

static void test_status(void **state)
{
    struct fixture *f = *state;
    struct notify_message m = to_buyer(f, &kind_promo, "tr");
    OK(notify_enqueue(f->c, f->t1, KIND(&m), &m, &full, NOW, e));
    struct notify_message g;

    OK(notify_set_status(f->c, f->t1, m.pk, NOTIFY_SENT, NULL, "wamid.A", NOW + 1, e));
    OK(notify_get(f->c, f->t1, m.pk, &f->a, &g, e));
    assert_int_equal(g.status, NOTIFY_SENT);
    assert_string_equal(g.provider_id, "wamid.A");
    assert_int_equal(g.updated_at, NOW + 1);
    /* Read arrives before delivered: read wins, delivered is ignored. */
    OK(notify_set_status(f->c, f->t1, m.pk, NOTIFY_READ, NULL, NULL, NOW + 3, e));
    OK(notify_set_status(f->c, f->t1, m.pk, NOTIFY_DELIVERED, NULL, NULL, NOW + 4, e));
    OK(notify_set_status(f->c, f->t1, m.pk, NOTIFY_PENDING, NULL, NULL, NOW + 5, e));
    OK(notify_set_status(f->c, f->t1, m.pk, NOTIFY_FAILED, "late failure", NULL, NOW + 6, e));
    OK(notify_get(f->c, f->t1, m.pk, &f->a, &g, e));
    assert_int_equal(g.status, NOTIFY_READ);
    assert_string_equal(g.provider_id, "wamid.A");
    assert_string_equal(g.error, "");
    assert_int_equal(g.updated_at, NOW + 3);

    /* Failed from pending, with its error; nothing after failed. */
    struct notify_message x = to_buyer(f, &kind_promo, "en");
    OK(notify_enqueue(f->c, f->t1, KIND(&x), &x, &full, NOW, e));
    OK(notify_set_status(f->c, f->t1, x.pk, NOTIFY_FAILED, "number not on WhatsApp", NULL, NOW + 1,
                         e));
    OK(notify_set_status(f->c, f->t1, x.pk, NOTIFY_DELIVERED, NULL, NULL, NOW + 2, e));
    OK(notify_get(f->c, f->t1, x.pk, &f->a, &g, e));
    assert_int_equal(g.status, NOTIFY_FAILED);
    assert_string_equal(g.error, "number not on WhatsApp");
    /* Failed from sent. */
    struct notify_message y = to_buyer(f, &kind_promo, "tr");
    OK(notify_enqueue(f->c, f->t1, KIND(&y), &y, &full, NOW, e));
    OK(notify_set_status(f->c, f->t1, y.pk, NOTIFY_SENT, NULL, "wamid.Y", NOW + 1, e));
    OK(notify_set_status(f->c, f->t1, y.pk, NOTIFY_FAILED, "expired", NULL, NOW + 2, e));
    OK(notify_get(f->c, f->t1, y.pk, &f->a, &g, e));
    assert_int_equal(g.status, NOTIFY_FAILED);
    /* Pending straight to delivered is forward. */
    struct notify_message d = to_buyer(f, &kind_promo, "tr");
    OK(notify_enqueue(f->c, f->t1, KIND(&d), &d, &full, NOW, e));
    OK(notify_set_status(f->c, f->t1, d.pk, NOTIFY_DELIVERED, NULL, "console", NOW + 1, e));
    OK(notify_get(f->c, f->t1, d.pk, &f->a, &g, e));
    assert_int_equal(g.status, NOTIFY_DELIVERED);
    assert_string_equal(g.provider_id, "console");

    /* Missing, another tenant's, and a bad status. */
    FAILS(ERR_NOT_FOUND, notify_set_status(f->c, f->t1, 999999, NOTIFY_SENT, NULL, NULL, NOW, e));
    FAILS(ERR_NOT_FOUND, notify_set_status(f->c, f->t2, d.pk, NOTIFY_READ, NULL, NULL, NOW, e));
    FAILS(ERR_INVALID,
          notify_set_status(f->c, f->t1, d.pk, (enum notify_status)9, NULL, NULL, NOW, e));
    OK(notify_get(f->c, f->t1, d.pk, &f->a, &g, e));
    assert_int_equal(g.status, NOTIFY_DELIVERED);
}

static int64_t failed_deliveries(struct fixture *f)
{
    struct db_stmt *s;
    OK(db_prepare(f->c, &s,
                  "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = ? AND "
                  "event_type = 'message.failed'",
                  e));
    db_bind_i64(s, 1, f->t1);
    struct err e;
    err_init(&e);
    int64_t n = db_step(s, &e) == DB_ROW ? db_col_i64(s, 0) : -1;
    db_stmt_done(s);
    return n;
}

static void test_failed_emits_webhook(void **state)
{
    struct fixture *f = *state;
    const char *events[] = {"message.failed"};
    struct webhook_endpoint_in in = {
        .url = "https://example.com/hooks", .events = events, .n_events = 1};
    struct webhook_endpoint ep;
    OK(webhooks_endpoint_create(f->c, f->t1, &in, NOW, &f->a, &ep, e));
    struct notify_message m = to_buyer(f, &kind_promo, "tr");
    OK(notify_enqueue(f->c, f->t1, KIND(&m), &m, &full, NOW, e));
    OK(notify_set_status(f->c, f->t1, m.pk, NOTIFY_SENT, NULL, "wamid.F", NOW + 1, e));
    assert_int_equal(failed_deliveries(f), 0);
    /* Failed inside a transaction that rolls back: nothing. */
    OK(db_begin(f->c, e));
    OK(notify_set_status(f->c, f->t1, m.pk, NOTIFY_FAILED, "blocked", NULL, NOW + 2, e));
    assert_int_equal(failed_deliveries(f), 1);
    db_rollback(f->c);
    assert_int_equal(failed_deliveries(f), 0);
    /* Failed for real: one delivery naming the message; a repeated report adds none. */
    OK(notify_set_status(f->c, f->t1, m.pk, NOTIFY_FAILED, "blocked", NULL, NOW + 3, e));
    OK(notify_set_status(f->c, f->t1, m.pk, NOTIFY_FAILED, "blocked", NULL, NOW + 4, e));
    assert_int_equal(failed_deliveries(f), 1);
    struct webhook_delivery_filter all = {.status = -1};
    struct webhook_delivery *rows;
    size_t n;
    OK(webhooks_delivery_list(f->c, f->t1, &all, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    char want[64];
    snprintf(want, sizeof(want), "\"message\":{\"id\":%lld,", (long long)m.pk);
    assert_non_null(strstr(rows[0].body, want));
    assert_non_null(strstr(rows[0].body, "\"error\":\"blocked\""));
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_kinds),
    };
    const struct CMUnitTest db_tests[] = {
        cmocka_unit_test_setup_teardown(test_enqueue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_emits_webhook, setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("outbox_kinds", pure, NULL, NULL);
    failed += TESTDB_RUN_GROUPS("outbox", db_tests, &backend);
    return failed ? 1 : 0;
}
