/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/notify (outbox.h): the Turkish and English templates of every kind,
 * and the outbox in the database (message + delivery job in one transaction, lists, statuses
 * that only move forward, a failure announced to webhook subscribers once) on SQLite and, when
 * TEST_PG_DSN is set, on PostgreSQL.
 */
#include "domain/notify/outbox.h"
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

/* ======================== templates ======================== */

static const struct notify_vars full = {
    .name = "Ayşe",
    .seller_name = "M Coffee",
    .title = "latte",
    .product = "latte",
    .discount = 20,
    .count = 3,
    .expected = 2,
    .avg_distance_m = 350,
    .minutes = 10,
    .start_hhmm = "14:00",
    .end_hhmm = "14:10",
    .code = "K7P2QX",
    .reason = "yeterli katılım olmadı",
};

/* Valid UTF-8, no control characters. */
static void assert_clean_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int extra = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : -1;
        if (extra < 0)
            fail_msg("bad UTF-8 lead byte in \"%s\"", s);
        if (*p < 0x20)
            fail_msg("control character in \"%s\"", s);
        p++;
        for (int i = 0; i < extra; i++, p++) {
            if ((*p & 0xc0) != 0x80)
                fail_msg("bad UTF-8 continuation in \"%s\"", s);
        }
    }
}

static void test_render_exact(void **state)
{
    (void)state;
    char out[512];
    int n = notify_render(NOTIFY_OFFER, "tr", &full, out, sizeof(out));
    assert_string_equal(out, "Merhaba Ayşe, M Coffee şu an latte: %20 indirim, 14:00-14:10. "
                             "Katılmak için KATIL yaz.");
    assert_int_equal(n, (int)strlen(out));
    notify_render(NOTIFY_SELLER_SUMMARY, "tr", &full, out, sizeof(out));
    assert_string_equal(out, "3 kişi geliyor, ortalama mesafe 350 m. Güvenilirliğe göre 2 kişi "
                             "bekleniyor.");
    notify_render(NOTIFY_SELLER_SUMMARY, "en", &full, out, sizeof(out));
    assert_string_equal(out, "3 people are coming, average distance 350 m. Based on reliability, "
                             "2 are expected.");
    notify_render(NOTIFY_OFFER, "en", &full, out, sizeof(out));
    assert_string_equal(out, "Hi Ayşe, M Coffee has latte: 20% off, 14:00-14:10. Reply JOIN to "
                             "take part.");
    /* Unknown languages fall back to Turkish. */
    char tr[512];
    notify_render(NOTIFY_OFFER, "de", &full, out, sizeof(out));
    notify_render(NOTIFY_OFFER, NULL, &full, tr, sizeof(tr));
    assert_string_equal(out, tr);
    assert_non_null(strstr(out, "Merhaba"));
}

static void test_render_all(void **state)
{
    (void)state;
    static const char *const langs[] = {"tr", "en"};
    for (int k = 0; k < NOTIFY_KIND_COUNT; k++) {
        for (int l = 0; l < 2; l++) {
            char out[512];
            int n = notify_render((enum notify_kind)k, langs[l], &full, out, sizeof(out));
            if (n <= 0)
                fail_msg("%s/%s: rc %d", notify_kind_names[k], langs[l], n);
            assert_int_equal(n, (int)strlen(out));
            assert_clean_utf8(out);
            /* The numbers and codes each kind is about. */
            switch ((enum notify_kind)k) {
            case NOTIFY_OFFER:
            case NOTIFY_QUESTION:
                assert_non_null(strstr(out, "20"));
                assert_non_null(strstr(out, "14:00"));
                break;
            case NOTIFY_WINDOW_OPEN:
                assert_non_null(strstr(out, "K7P2QX"));
                assert_non_null(strstr(out, "14:10"));
                break;
            case NOTIFY_SELLER_SUMMARY:
                assert_non_null(strstr(out, "3"));
                assert_non_null(strstr(out, "350 m"));
                assert_non_null(strstr(out, "2"));
                break;
            case NOTIFY_CANCELLED:
                assert_non_null(strstr(out, "yeterli katılım olmadı"));
                assert_non_null(strstr(out, "M Coffee"));
                break;
            case NOTIFY_REMINDER:
                assert_non_null(strstr(out, "10"));
                assert_non_null(strstr(out, "14:00"));
                assert_non_null(strstr(out, "K7P2QX"));
                break;
            case NOTIFY_CONFIRMATION:
                assert_non_null(strstr(out, "K7P2QX"));
                assert_non_null(strstr(out, "M Coffee"));
                break;
            default:
                break;
            }
            if (l == 1) {
                /* English has no Turkish words from the templates. */
                assert_null(strstr(out, "Merhaba"));
                assert_null(strstr(out, "Kodunuz"));
            }
        }
    }
    /* Turkish characters of the templates themselves. */
    char out[512];
    notify_render(NOTIFY_QUESTION, "tr", &full, out, sizeof(out));
    assert_non_null(strstr(out, "yakınınızda 3 kişi ilgileniyor"));
    assert_non_null(strstr(out, "açalım mı?"));
    notify_render(NOTIFY_WINDOW_OPEN, "tr", &full, out, sizeof(out));
    assert_non_null(strstr(out, "başladı"));
    notify_render(NOTIFY_REMINDER, "tr", &full, out, sizeof(out));
    assert_non_null(strstr(out, "Hatırlatma: M Coffee kampanyası 10 dakika sonra başlıyor"));
    notify_render(NOTIFY_CANCELLED, "tr", &full, out, sizeof(out));
    assert_non_null(strstr(out, "iptal edildi: yeterli katılım olmadı."));
    notify_render(NOTIFY_CONFIRMATION, "tr", &full, out, sizeof(out));
    assert_non_null(strstr(out, "Kodunuz: K7P2QX"));
}

static void test_render_sparse(void **state)
{
    (void)state;
    static const struct notify_vars empty;
    static const char *const langs[] = {"tr", "en"};
    for (int k = 0; k < NOTIFY_KIND_COUNT; k++) {
        if (k == NOTIFY_REPLY)
            continue; /* replies carry their own body: checked below */
        for (int l = 0; l < 2; l++) {
            char out[512];
            int n = notify_render((enum notify_kind)k, langs[l], &empty, out, sizeof(out));
            if (n <= 0)
                fail_msg("%s/%s empty: rc %d", notify_kind_names[k], langs[l], n);
            assert_null(strstr(out, "(null)"));
            assert_null(strstr(out, "%0"));
            assert_null(strstr(out, " 0%"));
            assert_clean_utf8(out);
            n = notify_render((enum notify_kind)k, langs[l], NULL, out, sizeof(out));
            assert_true(n > 0);
        }
    }
    char out[512];
    assert_int_equal(notify_render(NOTIFY_REPLY, "tr", &empty, out, sizeof(out)), -1);
    struct notify_vars said = {.reason = "Not aldım: latte."};
    assert_true(notify_render(NOTIFY_REPLY, "tr", &said, out, sizeof(out)) > 0);
    assert_string_equal(out, "Not aldım: latte.");
    notify_render(NOTIFY_OFFER, "tr", &empty, out, sizeof(out));
    assert_true(strncmp(out, "Merhaba, ", 9) == 0);
    /* A link is appended. */
    struct notify_vars v = full;
    v.link = "https://shop.example/w/7";
    notify_render(NOTIFY_OFFER, "tr", &v, out, sizeof(out));
    assert_non_null(strstr(out, " https://shop.example/w/7"));

    /* Too small: -1, truncated but terminated. */
    char small[16];
    assert_int_equal(notify_render(NOTIFY_OFFER, "tr", &full, small, sizeof(small)), -1);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_int_equal(notify_render(NOTIFY_OFFER, "tr", &full, small, 0), -1);
    assert_int_equal(notify_render((enum notify_kind)99, "tr", &full, out, sizeof(out)), -1);
    assert_string_equal(notify_kind_names[NOTIFY_SELLER_SUMMARY], "seller_summary");
    assert_null(notify_kind_names[NOTIFY_KIND_COUNT]);
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

static struct notify_message to_buyer(struct fixture *f, enum notify_kind kind, const char *lang)
{
    struct notify_message m = {
        .recipient_kind = "buyer",
        .recipient_pk = f->buyer,
        .recipient_id = "B1",
        .phone = "+905320000001",
        .language = lang,
        .kind = kind,
        .window_pk = f->window,
    };
    return m;
}

static void test_enqueue(void **state)
{
    struct fixture *f = *state;
    struct notify_message m = to_buyer(f, NOTIFY_OFFER, "tr");
    OK(notify_enqueue(f->c, f->t1, &m, &full, NOW, e));
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
    assert_int_equal(g.kind, NOTIFY_OFFER);
    char want[512];
    notify_render(NOTIFY_OFFER, "tr", &full, want, sizeof(want));
    assert_string_equal(g.body, want);
    assert_int_equal(g.window_pk, f->window);
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
        .kind = NOTIFY_SELLER_SUMMARY,
    };
    OK(notify_enqueue(f->c, f->t1, &s, &full, NOW + 1, e));
    assert_int_equal(db_commit(f->c, &e0), 0);
    OK(notify_get(f->c, f->t1, s.pk, &f->a, &g, e));
    assert_string_equal(g.language, "en");
    assert_int_equal(g.window_pk, 0);
    assert_string_equal(g.body, "3 people are coming, average distance 350 m. Based on "
                                "reliability, 2 are expected.");

    /* Rolled back with the caller: neither message nor job. */
    assert_int_equal(db_begin(f->c, &e0), 0);
    struct notify_message r = to_buyer(f, NOTIFY_REMINDER, "tr");
    OK(notify_enqueue(f->c, f->t1, &r, &full, NOW + 2, e));
    int64_t gone = r.pk;
    db_rollback(f->c);
    FAILS(ERR_NOT_FOUND, notify_get(f->c, f->t1, gone, &f->a, &g, e));
    OK(jobs_list(f->c, f->t1, false, &jf, &f->a, &jobs, &n, e));
    assert_int_equal(n, 2);

    /* Free text when no vars are given. */
    struct notify_message t = to_buyer(f, NOTIFY_CONFIRMATION, "tr");
    t.body = "Teşekkürler, kaydınız alındı.";
    OK(notify_enqueue(f->c, f->t1, &t, NULL, NOW + 3, e));
    OK(notify_get(f->c, f->t1, t.pk, &f->a, &g, e));
    assert_string_equal(g.body, "Teşekkürler, kaydınız alındı.");

    /* Bad input. */
    struct notify_message bad = to_buyer(f, NOTIFY_OFFER, "tr");
    bad.recipient_kind = "admin";
    FAILS(ERR_INVALID, notify_enqueue(f->c, f->t1, &bad, &full, NOW, e));
    assert_string_equal(check_last.field, "recipient_kind");
    bad = to_buyer(f, (enum notify_kind)42, "tr");
    FAILS(ERR_INVALID, notify_enqueue(f->c, f->t1, &bad, &full, NOW, e));
    assert_string_equal(check_last.field, "kind");
    bad = to_buyer(f, NOTIFY_OFFER, "tr");
    FAILS(ERR_INVALID, notify_enqueue(f->c, f->t1, &bad, NULL, NOW, e));
    assert_string_equal(check_last.field, "body");
    /* Another tenant's window. */
    bad = to_buyer(f, NOTIFY_OFFER, "tr");
    FAILS(ERR_NOT_FOUND, notify_enqueue(f->c, f->t2, &bad, &full, NOW, e));
    assert_string_equal(check_last.field, "window");
    OK(jobs_list(f->c, f->t2, false, NULL, &f->a, &jobs, &n, e));
    assert_int_equal(n, 0);
}

static void test_list(void **state)
{
    struct fixture *f = *state;
    int64_t pks[10];
    for (int i = 0; i < 10; i++) {
        struct notify_message m = to_buyer(f, i % 2 ? NOTIFY_OFFER : NOTIFY_REMINDER, "tr");
        if (i >= 7) {
            m.recipient_kind = "seller";
            m.recipient_pk = f->seller;
            m.recipient_id = "S1";
            m.window_pk = 0;
        }
        OK(notify_enqueue(f->c, f->t1, &m, &full, NOW + i, e));
        pks[i] = m.pk;
    }
    OK(notify_set_status(f->c, f->t1, pks[0], NOTIFY_SENT, NULL, "wamid.1", NOW + 20, e));

    struct notify_message *rows;
    size_t n;
    OK(notify_list(f->c, f->t1, NULL, &f->a, &rows, &n, e));
    assert_int_equal(n, 10);
    assert_int_equal(rows[0].pk, pks[9]); /* newest first */
    struct notify_filter fl = {.kind = -1, .status = -1, .limit = 4};
    OK(notify_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 4);
    fl.after_pk = rows[3].pk;
    OK(notify_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 4);
    assert_int_equal(rows[0].pk, pks[5]);
    fl = (struct notify_filter){.recipient_id = "S1", .kind = -1, .status = -1};
    OK(notify_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 3);
    fl = (struct notify_filter){.kind = NOTIFY_OFFER, .status = -1};
    OK(notify_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 5);
    fl = (struct notify_filter){.kind = -1, .status = NOTIFY_SENT};
    OK(notify_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].pk, pks[0]);
    assert_string_equal(rows[0].provider_id, "wamid.1");
    fl = (struct notify_filter){.kind = -1, .status = -1, .window_pk = f->window};
    OK(notify_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 7);
    fl = (struct notify_filter){
        .recipient_id = "B1", .kind = NOTIFY_REMINDER, .status = NOTIFY_PENDING};
    OK(notify_list(f->c, f->t1, &fl, &f->a, &rows, &n, e));
    assert_int_equal(n, 3); /* 2, 4, 6 (0 is sent) */
    OK(notify_list(f->c, f->t2, NULL, &f->a, &rows, &n, e));
    assert_int_equal(n, 0);
}

static void test_status(void **state)
{
    struct fixture *f = *state;
    struct notify_message m = to_buyer(f, NOTIFY_OFFER, "tr");
    OK(notify_enqueue(f->c, f->t1, &m, &full, NOW, e));
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
    struct notify_message x = to_buyer(f, NOTIFY_OFFER, "en");
    OK(notify_enqueue(f->c, f->t1, &x, &full, NOW, e));
    OK(notify_set_status(f->c, f->t1, x.pk, NOTIFY_FAILED, "number not on WhatsApp", NULL, NOW + 1,
                         e));
    OK(notify_set_status(f->c, f->t1, x.pk, NOTIFY_DELIVERED, NULL, NULL, NOW + 2, e));
    OK(notify_get(f->c, f->t1, x.pk, &f->a, &g, e));
    assert_int_equal(g.status, NOTIFY_FAILED);
    assert_string_equal(g.error, "number not on WhatsApp");
    /* Failed from sent. */
    struct notify_message y = to_buyer(f, NOTIFY_OFFER, "tr");
    OK(notify_enqueue(f->c, f->t1, &y, &full, NOW, e));
    OK(notify_set_status(f->c, f->t1, y.pk, NOTIFY_SENT, NULL, "wamid.Y", NOW + 1, e));
    OK(notify_set_status(f->c, f->t1, y.pk, NOTIFY_FAILED, "expired", NULL, NOW + 2, e));
    OK(notify_get(f->c, f->t1, y.pk, &f->a, &g, e));
    assert_int_equal(g.status, NOTIFY_FAILED);
    /* Pending straight to delivered is forward. */
    struct notify_message d = to_buyer(f, NOTIFY_OFFER, "tr");
    OK(notify_enqueue(f->c, f->t1, &d, &full, NOW, e));
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
    struct notify_message m = to_buyer(f, NOTIFY_OFFER, "tr");
    OK(notify_enqueue(f->c, f->t1, &m, &full, NOW, e));
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
        cmocka_unit_test(test_render_exact),
        cmocka_unit_test(test_render_all),
        cmocka_unit_test(test_render_sparse),
    };
    const struct CMUnitTest db_tests[] = {
        cmocka_unit_test_setup_teardown(test_enqueue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_emits_webhook, setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("outbox_render", pure, NULL, NULL);
    failed += TESTDB_RUN_GROUPS("outbox", db_tests, &backend);
    return failed ? 1 : 0;
}
