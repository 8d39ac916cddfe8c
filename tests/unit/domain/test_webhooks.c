/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/webhooks and src/net/webhook_out.c: the Svix retry schedule, URL
 * and event validation, secrets, the signed POST (through a fake httpc backend, checked with
 * the Standard Webhooks verifier), and the store and operations on SQLite and, when TEST_PG_DSN
 * is set, PostgreSQL: endpoints per tenant, emit joining the caller's transaction (a rollback
 * leaves nothing), attempts and what follows them, disabling a failing endpoint, hand retries,
 * and the webhook.deliver job run by a real worker pool against the fake httpc.
 */
#include "domain/webhooks/webhooks.h"
#include "core/crypto.h"
#include "core/webhook_sig.h"
#include "core/xalloc.h"
#include "domain/account/account.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "net/httpc.h"
#include "net/webhook_out.h"
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
#include <time.h>
#include <unistd.h>

#define NOW  1795252200000LL /* 2026-11-21T09:10:00Z */
#define SEC  1000LL
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)

/* ======================== rules ======================== */

static void test_schedule(void **state)
{
    (void)state;
    /* The production schedule, attempt by attempt. */
    static const int64_t want[] = {0,        5 * SEC,  5 * MIN,   30 * MIN,
                                   2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR};
    assert_int_equal(sizeof(want) / sizeof(want[0]), WEBHOOKS_MAX_ATTEMPTS);
    for (int i = 0; i < WEBHOOKS_MAX_ATTEMPTS; i++) {
        int64_t got = webhooks_retry_delay_ms(i + 1, 1.0);
        if (got != want[i])
            fail_msg("attempt %d: delay %lld, want %lld", i + 1, (long long)got,
                     (long long)want[i]);
    }
    /* Dead after the eighth attempt; nonsense attempts have no delay either. */
    assert_int_equal(webhooks_retry_delay_ms(9, 1.0), -1);
    assert_int_equal(webhooks_retry_delay_ms(100, 1.0), -1);
    assert_int_equal(webhooks_retry_delay_ms(0, 1.0), -1);
    assert_int_equal(webhooks_retry_delay_ms(-3, 1.0), -1);
    /* A scale shrinks every delay; out-of-range scales mean the production schedule. */
    assert_int_equal(webhooks_retry_delay_ms(3, 0.001), 300);
    assert_int_equal(webhooks_retry_delay_ms(8, 0.0001), 3600);
    assert_int_equal(webhooks_retry_delay_ms(2, 0.0), 5 * SEC);
    assert_int_equal(webhooks_retry_delay_ms(2, 7.0), 5 * SEC);
    assert_int_equal(webhooks_retry_delay_ms(9, 0.001), -1);
}

static void test_rules(void **state)
{
    (void)state;
    assert_false(webhooks_endpoint_should_disable(0, NOW));
    assert_false(webhooks_endpoint_should_disable(NOW - 5 * DAY + 1, NOW));
    assert_true(webhooks_endpoint_should_disable(NOW - 5 * DAY, NOW));
    assert_true(webhooks_endpoint_should_disable(NOW - 9 * DAY, NOW));
    assert_true(webhooks_status_ok(200));
    assert_true(webhooks_status_ok(204));
    assert_true(webhooks_status_ok(299));
    assert_false(webhooks_status_ok(0));
    assert_false(webhooks_status_ok(199));
    assert_false(webhooks_status_ok(301));
    assert_false(webhooks_status_ok(410));
    assert_false(webhooks_status_ok(500));
    assert_true(webhooks_event_known("window.created"));
    assert_true(webhooks_event_known("message.failed"));
    assert_false(webhooks_event_known("window.created "));
    assert_false(webhooks_event_known(""));
    assert_false(webhooks_event_known(NULL));
}

static void test_url_validation(void **state)
{
    (void)state;
    static const char *const good[] = {
        "http://127.0.0.1:8080/hook", "https://example.com",      "https://a.example.com/x?y=1",
        "http://localhost/",          "https://[::1]:8443/hooks", "http://host_name:1/p#f",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        OK(webhooks_url_validate(good[i], e));
    static const char *const bad[] = {
        "",
        "ftp://example.com/x",
        "example.com/hook",
        "http://",
        "https:///path",
        "http://user:pw@example.com/",
        "http://exa mple.com/",
        "http://example.com:/x",
        "http://example.com:0/",
        "http://example.com:70000/",
        "http://example.com:80a/",
        "http://[::1/",
        "http://example.com/\n",
        "javascript:alert(1)",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err e;
        err_init(&e);
        if (webhooks_url_validate(bad[i], &e) != ERR_INVALID)
            fail_msg("url \"%s\" was accepted", bad[i]);
        assert_string_equal(e.field, "url");
    }
    struct err e;
    err_init(&e);
    assert_int_equal(webhooks_url_validate(NULL, &e), ERR_INVALID);
    char *long_url = xcalloc(1, WEBHOOKS_URL_MAX + 32);
    memcpy(long_url, "https://example.com/", 20);
    memset(long_url + 20, 'a', WEBHOOKS_URL_MAX);
    err_init(&e);
    assert_int_equal(webhooks_url_validate(long_url, &e), ERR_INVALID);
    free(long_url);
}

static void test_event_validation(void **state)
{
    (void)state;
    const char *ok[] = {"window.created", "message.failed"};
    OK(webhooks_events_validate(ok, 2, e));
    OK(webhooks_events_validate(webhooks_event_types, 7, e));
    const char *unknown[] = {"window.created", "window.activated", "window.exploded"};
    FAILS(ERR_INVALID, webhooks_events_validate(unknown, 3, e));
    assert_string_equal(check_last.field, "events[2]");
    const char *twice[] = {"window.created", "window.created"};
    FAILS(ERR_INVALID, webhooks_events_validate(twice, 2, e));
    assert_string_equal(check_last.field, "events[1]");
    FAILS(ERR_INVALID, webhooks_events_validate(NULL, 0, e));
    assert_string_equal(check_last.field, "events");
    const char *nul[] = {NULL};
    FAILS(ERR_INVALID, webhooks_events_validate(nul, 1, e));
    assert_string_equal(check_last.field, "events[0]");
}

static void test_secret_and_body(void **state)
{
    (void)state;
    char a[WEBHOOKS_SECRET_SIZE], b[WEBHOOKS_SECRET_SIZE];
    webhooks_secret_new(a);
    webhooks_secret_new(b);
    assert_int_equal(strncmp(a, "whsec_", 6), 0);
    assert_int_equal(strlen(a), WEBHOOKS_SECRET_SIZE - 1);
    assert_string_not_equal(a, b);
    unsigned char key[64];
    size_t n = 0;
    OK(sec_b64_decode(key, sizeof(key), &n, SEC_B64_STD, a + 6, strlen(a + 6), e));
    assert_int_equal(n, WEBHOOKS_SECRET_BYTES);
    /* The secret signs and verifies with the Standard Webhooks code. */
    char sig[WEBHOOK_SIG_SIZE];
    OK(webhook_sig_sign(sig, a, "msg_1", NOW / 1000, "{}", 2, e));
    OK(webhook_sig_verify(a, "msg_1", "1795252200", sig, "{}", 2, NOW / 1000, e));
    FAILS(ERR_UNAUTHORIZED,
          webhook_sig_verify(b, "msg_1", "1795252200", sig, "{}", 2, NOW / 1000, e));

    struct arena ar;
    arena_init(&ar);
    const char *body = webhooks_body("window.created", "{\"window\":{\"id\":7}}", NOW, &ar);
    assert_string_equal(body,
                        "{\"type\":\"window.created\",\"timestamp\":\"2026-11-21T09:10:00.000Z\","
                        "\"data\":{\"window\":{\"id\":7}}}");
    arena_release(&ar);
}

/* ======================== the signed POST, through a fake httpc ======================== */

struct fake_http {
    int calls;
    char secret[WEBHOOKS_SECRET_SIZE];
    int verified; /* requests whose signature checked out */
    char msg_id[64];
    long answer_status;
    const char *answer_body;
    size_t answer_len;
    int fail_with;  /* an error code instead of an answer */
    int fail_first; /* answer this many requests with 500 first */
    int64_t now_s;  /* the verifier's clock; 0 = the system clock */
};

static int fake_do(void *ctx, const struct httpc_request *req, struct httpc_response *resp,
                   struct err *e)
{
    struct fake_http *f = ctx;
    f->calls++;
    const char *id = NULL, *ts = NULL, *sig = NULL;
    for (size_t i = 0; i < req->nheaders; i++) {
        if (strcmp(req->headers[i].name, WEBHOOK_SIG_HDR_ID) == 0)
            id = req->headers[i].value;
        if (strcmp(req->headers[i].name, WEBHOOK_SIG_HDR_TIMESTAMP) == 0)
            ts = req->headers[i].value;
        if (strcmp(req->headers[i].name, WEBHOOK_SIG_HDR_SIGNATURE) == 0)
            sig = req->headers[i].value;
    }
    struct err ve;
    err_init(&ve);
    if (id && strcmp(req->method, "POST") == 0 &&
        webhook_sig_verify(f->secret, id, ts, sig, req->body, req->body_len,
                           f->now_s ? f->now_s : (int64_t)time(NULL), &ve) == 0)
        f->verified++;
    snprintf(f->msg_id, sizeof(f->msg_id), "%s", id ? id : "");
    if (f->fail_with)
        return err_set(e, (enum err_code)f->fail_with, "connection refused");
    resp->status = f->answer_status;
    if (f->fail_first > 0) {
        f->fail_first--;
        resp->status = 500;
    }
    if (f->answer_len)
        buf_append(&resp->body, f->answer_body, f->answer_len);
    return 0;
}

static void test_webhook_out(void **state)
{
    (void)state;
    struct fake_http f = {
        .answer_status = 200, .answer_body = "ok", .answer_len = 2, .now_s = NOW / 1000};
    webhooks_secret_new(f.secret);
    struct httpc_ops ops = {.do_request = fake_do, .ctx = &f};
    httpc_set_ops(&ops);
    const char *body = "{\"type\":\"window.created\",\"data\":{}}";
    struct webhook_out_msg m = {.url = "http://127.0.0.1:9/hook",
                                .secret = f.secret,
                                .msg_id = "msg_abc",
                                .timestamp_s = NOW / 1000,
                                .body = body,
                                .body_len = strlen(body)};
    struct webhook_out_result r;
    OK(webhook_out_send(&m, &r, e));
    assert_int_equal(f.calls, 1);
    assert_int_equal(f.verified, 1);
    assert_string_equal(f.msg_id, "msg_abc");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.response, "ok");
    assert_string_equal(r.error, "");

    /* A big answer is cut to 1 KiB; broken UTF-8 and a cut sequence become '?'. */
    char big[3000];
    memset(big, 'x', sizeof(big));
    big[0] = (char)0xff;
    big[WEBHOOK_OUT_KEEP - 1] = (char)0xc3; /* the first byte of "ç" at the very end */
    big[WEBHOOK_OUT_KEEP] = (char)0xa7;
    f.answer_status = 500;
    f.answer_body = big;
    f.answer_len = sizeof(big);
    OK(webhook_out_send(&m, &r, e));
    assert_int_equal(r.status, 500);
    assert_int_equal(strlen(r.response), WEBHOOK_OUT_KEEP);
    assert_int_equal(r.response[0], '?');
    assert_int_equal(r.response[1], 'x');
    assert_int_equal(r.response[WEBHOOK_OUT_KEEP - 1], '?');

    /* No answer: an attempt with an error, not a failure of the call. */
    f.fail_with = ERR_UPSTREAM;
    OK(webhook_out_send(&m, &r, e));
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.error, "connection refused"));

    /* A secret that cannot sign sends nothing. */
    int before = f.calls;
    m.secret = "whsec_***";
    FAILS(ERR_INVALID, webhook_out_send(&m, &r, e));
    assert_int_equal(f.calls, before);
    httpc_set_ops(NULL);
}

/* ======================== store and operations ======================== */

struct fixture {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    struct arena a;
    int64_t t1, t2;
};

static enum db_backend backend;

static int64_t tenant(struct fixture *f, const char *name)
{
    int64_t id = 0;
    OK(account_tenant_create(f->c, name, NOW, &id, e));
    return id;
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    struct db_options o = {.pool_size = 6};
    f->db = testdb_open_migrated(&f->t, backend, "webhooks", &o);
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

/* First column of `sql` (one integer parameter, or none when p < 0) as an integer. */
static int64_t count(struct fixture *f, const char *sql, int64_t p)
{
    struct db_stmt *s;
    OK(db_prepare(f->c, &s, sql, e));
    if (p >= 0)
        db_bind_i64(s, 1, p);
    struct err e;
    err_init(&e);
    int st = db_step(s, &e);
    int64_t v = st == DB_ROW ? db_col_i64(s, 0) : -1;
    db_stmt_done(s);
    if (st == DB_ERROR)
        fail_msg("%s: %s", sql, e.msg);
    return v;
}

static int64_t endpoint(struct fixture *f, int64_t t, const char *url, const char *const *events,
                        size_t n)
{
    struct webhook_endpoint_in in = {.url = url, .events = events, .n_events = n};
    struct webhook_endpoint ep;
    OK(webhooks_endpoint_create(f->c, t, &in, NOW, &f->a, &ep, e));
    return ep.id;
}

static const char *const window_events[] = {"window.created", "window.expired"};
static const char *const message_events[] = {"message.failed"};

static void test_endpoints(void **state)
{
    struct fixture *f = *state;
    struct webhook_endpoint_in in = {.url = "https://example.com/hooks",
                                     .events = window_events,
                                     .n_events = 2,
                                     .description = "orders system"};
    struct webhook_endpoint ep;
    OK(webhooks_endpoint_create(f->c, f->t1, &in, NOW, &f->a, &ep, e));
    assert_true(ep.id > 0);
    assert_int_equal(strncmp(ep.secret, "whsec_", 6), 0);

    struct webhook_endpoint got;
    OK(webhooks_endpoint_get(f->c, f->t1, ep.id, &f->a, &got, e));
    assert_string_equal(got.url, "https://example.com/hooks");
    assert_string_equal(got.description, "orders system");
    assert_int_equal(got.n_events, 2);
    assert_string_equal(got.events[0], "window.created");
    assert_string_equal(got.events[1], "window.expired");
    assert_false(got.disabled);
    assert_null(got.secret); /* never read back outside the delivery job */
    assert_int_equal(got.created_at_ms, NOW);
    OK(webhooks_store_endpoint_get(f->c, f->t1, ep.id, true, &f->a, &got, e));
    assert_string_equal(got.secret, ep.secret);

    /* Validation names the field; nothing is stored. */
    in.url = "ftp://example.com";
    FAILS(ERR_INVALID, webhooks_endpoint_create(f->c, f->t1, &in, NOW, &f->a, &ep, e));
    assert_string_equal(check_last.field, "url");
    const char *bad[] = {"window.created", "message.failed", "nope"};
    in.url = "https://example.com/hooks";
    in.events = bad;
    in.n_events = 3;
    FAILS(ERR_INVALID, webhooks_endpoint_create(f->c, f->t1, &in, NOW, &f->a, &ep, e));
    assert_string_equal(check_last.field, "events[2]");
    assert_int_equal(count(f, "SELECT COUNT(*) FROM webhook_endpoints WHERE tenant_id = ?", f->t1),
                     1);

    /* Another tenant sees nothing and deletes nothing. */
    FAILS(ERR_NOT_FOUND, webhooks_endpoint_get(f->c, f->t2, got.id, &f->a, &ep, e));
    FAILS(ERR_NOT_FOUND, webhooks_endpoint_delete(f->c, f->t2, got.id, e));
    struct webhook_endpoint *rows;
    size_t n;
    OK(webhooks_endpoint_list(f->c, f->t2, 0, 0, &f->a, &rows, &n, e));
    assert_int_equal(n, 0);

    /* Pages, newest first. */
    int64_t second = endpoint(f, f->t1, "https://example.com/2", message_events, 1);
    int64_t third = endpoint(f, f->t1, "https://example.com/3", message_events, 1);
    OK(webhooks_endpoint_list(f->c, f->t1, 0, 2, &f->a, &rows, &n, e));
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].id, third);
    assert_int_equal(rows[1].id, second);
    assert_null(rows[0].secret);
    OK(webhooks_endpoint_list(f->c, f->t1, rows[1].id, 2, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, got.id);

    OK(webhooks_endpoint_delete(f->c, f->t1, got.id, e));
    FAILS(ERR_NOT_FOUND, webhooks_endpoint_get(f->c, f->t1, got.id, &f->a, &ep, e));
    FAILS(ERR_NOT_FOUND, webhooks_endpoint_delete(f->c, f->t1, got.id, e));
}

static void test_emit(void **state)
{
    struct fixture *f = *state;
    int64_t win = endpoint(f, f->t1, "https://a.example/h", window_events, 2);
    int64_t msg = endpoint(f, f->t1, "https://b.example/h", message_events, 1);
    int64_t other = endpoint(f, f->t2, "https://c.example/h", window_events, 2);
    (void)other;
    OK(webhooks_emit(f->c, f->t1, "window.created", "{\"window\":{\"id\":1}}", NOW, e));

    struct webhook_delivery_filter all = {.status = -1};
    struct webhook_delivery *rows;
    size_t n;
    OK(webhooks_delivery_list(f->c, f->t1, &all, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].endpoint_id, win);
    assert_string_equal(rows[0].event_type, "window.created");
    assert_int_equal(rows[0].status, WEBHOOK_DELIVERY_PENDING);
    assert_int_equal(rows[0].attempts, 0);
    assert_int_equal(strncmp(rows[0].msg_id, "msg_", 4), 0);
    assert_non_null(strstr(rows[0].body, "\"data\":{\"window\":{\"id\":1}}"));
    /* Its first attempt is a job of the tenant, due now. */
    assert_int_equal(count(f,
                           "SELECT COUNT(*) FROM jobs WHERE name = 'webhook.deliver' AND "
                           "state = 'pending' AND tenant_id = ?",
                           f->t1),
                     1);
    OK(webhooks_emit(f->c, f->t2, "window.created", "{}", NOW, e));
    OK(webhooks_emit(f->c, f->t1, "message.failed", "{}", NOW, e));
    OK(webhooks_emit(f->c, f->t1, "precommit.created", "{}", NOW, e)); /* nobody subscribed */
    OK(webhooks_delivery_list(f->c, f->t1, &all, &f->a, &rows, &n, e));
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].endpoint_id, msg);
    assert_string_not_equal(rows[0].msg_id, rows[1].msg_id);
    struct webhook_delivery_filter by_ep = {.status = -1, .endpoint_id = win};
    OK(webhooks_delivery_list(f->c, f->t1, &by_ep, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    OK(webhooks_delivery_list(f->c, f->t2, &all, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    struct webhook_delivery d;
    FAILS(ERR_NOT_FOUND, webhooks_delivery_get(f->c, f->t2, rows[0].id + 1000, &f->a, &d, e));

    FAILS(ERR_INVALID, webhooks_emit(f->c, f->t1, "window.exploded", "{}", NOW, e));
    FAILS(ERR_INVALID, webhooks_emit(f->c, f->t1, "window.created", "[1]", NOW, e));
}

static void test_emit_rolled_back(void **state)
{
    struct fixture *f = *state;
    endpoint(f, f->t1, "https://a.example/h", window_events, 2);
    int64_t jobs_before = count(f, "SELECT COUNT(*) FROM jobs WHERE ? >= 0", 0);
    OK(db_begin(f->c, e));
    OK(webhooks_emit(f->c, f->t1, "window.created", "{\"window\":{\"id\":1}}", NOW, e));
    OK(webhooks_emit(f->c, f->t1, "window.expired", "{\"window\":{\"id\":1}}", NOW, e));
    /* Inside the transaction they exist... */
    assert_int_equal(count(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = ?", f->t1),
                     2);
    db_rollback(f->c);
    /* ...and the rollback takes them and their jobs away. */
    assert_int_equal(count(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = ?", f->t1),
                     0);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM jobs WHERE ? >= 0", 0), jobs_before);
    /* A committed one stays. */
    OK(db_begin(f->c, e));
    OK(webhooks_emit(f->c, f->t1, "window.created", "{}", NOW, e));
    OK(db_commit(f->c, e));
    assert_int_equal(count(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = ?", f->t1),
                     1);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM jobs WHERE ? >= 0", 0), jobs_before + 1);
}

/* The delivery emitted last for tenant t1. */
static struct webhook_delivery last_delivery(struct fixture *f)
{
    struct webhook_delivery_filter all = {.status = -1, .limit = 1};
    struct webhook_delivery *rows;
    size_t n;
    OK(webhooks_delivery_list(f->c, f->t1, &all, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    return rows[0];
}

static int64_t next_job_run_at(struct fixture *f, int64_t delivery, int attempt)
{
    char payload[96];
    snprintf(payload, sizeof(payload), "{\"delivery\":%lld,\"attempt\":%d}", (long long)delivery,
             attempt);
    struct db_stmt *s;
    OK(db_prepare(f->c, &s,
                  "SELECT run_at FROM jobs WHERE name = 'webhook.deliver' AND payload = ?", e));
    db_bind_text(s, 1, payload);
    struct err e;
    err_init(&e);
    int64_t at = db_step(s, &e) == DB_ROW ? db_col_time(s, 0) : -1;
    db_stmt_done(s);
    return at;
}

static void test_attempts(void **state)
{
    struct fixture *f = *state;
    int64_t ep = endpoint(f, f->t1, "https://a.example/h", window_events, 2);
    OK(webhooks_emit(f->c, f->t1, "window.created", "{}", NOW, e));
    struct webhook_delivery d = last_delivery(f);
    struct webhook_attempt fail = {.status = 500, .response = "oops"};
    bool recorded = false;
    int64_t t = NOW;

    /* Failures follow the schedule: each one enqueues the next attempt after its delay. */
    for (int attempt = 1; attempt < WEBHOOKS_MAX_ATTEMPTS; attempt++) {
        OK(webhooks_attempt_record(f->c, f->t1, d.id, attempt, &fail, 1.0, t, &recorded, e));
        assert_true(recorded);
        struct webhook_delivery g;
        OK(webhooks_delivery_get(f->c, f->t1, d.id, &f->a, &g, e));
        assert_int_equal(g.status, WEBHOOK_DELIVERY_PENDING);
        assert_int_equal(g.attempts, attempt);
        assert_int_equal(g.last_status, 500);
        assert_string_equal(g.last_response, "oops");
        int64_t delay = webhooks_retry_delay_ms(attempt + 1, 1.0);
        assert_int_equal(g.next_attempt_ms, t + delay);
        assert_int_equal(next_job_run_at(f, d.id, attempt + 1), t + delay);
        /* The same attempt recorded twice changes nothing. */
        OK(webhooks_attempt_record(f->c, f->t1, d.id, attempt, &fail, 1.0, t, &recorded, e));
        assert_false(recorded);
        t += delay;
    }
    /* The eighth failure is the last. */
    struct webhook_attempt neterr = {.status = 0, .error = "connection refused"};
    OK(webhooks_attempt_record(f->c, f->t1, d.id, 8, &neterr, 1.0, t, &recorded, e));
    assert_true(recorded);
    struct webhook_delivery g;
    OK(webhooks_delivery_get(f->c, f->t1, d.id, &f->a, &g, e));
    assert_int_equal(g.status, WEBHOOK_DELIVERY_DEAD);
    assert_int_equal(g.attempts, 8);
    assert_int_equal(g.last_status, 0);
    assert_null(g.last_response);
    assert_string_equal(g.last_error, "connection refused");
    assert_int_equal(g.next_attempt_ms, 0);
    assert_int_equal(next_job_run_at(f, d.id, 9), -1);
    struct webhook_endpoint epr;
    OK(webhooks_endpoint_get(f->c, f->t1, ep, &f->a, &epr, e));
    assert_int_equal(epr.failing_since_ms, NOW);
    assert_false(epr.disabled);

    /* By hand: pending again, attempt 9 now; a success clears the endpoint's failing state. */
    FAILS(ERR_NOT_FOUND, webhooks_delivery_retry(f->c, f->t2, d.id, t, NULL, NULL, e));
    /* the delivery as the retry left it, read before its commit wakes any worker */
    struct webhook_delivery rearmed = {.status = WEBHOOK_DELIVERY_DEAD};
    OK(webhooks_delivery_retry(f->c, f->t1, d.id, t, &f->a, &rearmed, e));
    assert_int_equal(rearmed.id, d.id);
    assert_int_equal(rearmed.status, WEBHOOK_DELIVERY_PENDING);
    OK(webhooks_delivery_get(f->c, f->t1, d.id, &f->a, &g, e));
    assert_int_equal(g.status, WEBHOOK_DELIVERY_PENDING);
    assert_int_equal(next_job_run_at(f, d.id, 9), t);
    struct webhook_attempt ok = {.status = 204, .response = ""};
    OK(webhooks_attempt_record(f->c, f->t1, d.id, 9, &ok, 1.0, t + 1, &recorded, e));
    assert_true(recorded);
    OK(webhooks_delivery_get(f->c, f->t1, d.id, &f->a, &g, e));
    assert_int_equal(g.status, WEBHOOK_DELIVERY_SUCCEEDED);
    assert_int_equal(g.attempts, 9);
    assert_int_equal(g.last_status, 204);
    assert_int_equal(g.delivered_at_ms, t + 1);
    assert_null(g.last_error);
    OK(webhooks_endpoint_get(f->c, f->t1, ep, &f->a, &epr, e));
    assert_int_equal(epr.failing_since_ms, 0);
}

static void test_disable_after_five_days(void **state)
{
    struct fixture *f = *state;
    int64_t ep = endpoint(f, f->t1, "https://a.example/h", window_events, 2);
    struct webhook_attempt fail = {.status = 503};
    bool recorded;
    /* Failing for four days: still enabled. */
    for (int day = 0; day <= 4; day++) {
        OK(webhooks_emit(f->c, f->t1, "window.created", "{}", NOW + day * DAY, e));
        struct webhook_delivery d = last_delivery(f);
        OK(webhooks_attempt_record(f->c, f->t1, d.id, 1, &fail, 1.0, NOW + day * DAY, &recorded,
                                   e));
    }
    struct webhook_endpoint epr;
    OK(webhooks_endpoint_get(f->c, f->t1, ep, &f->a, &epr, e));
    assert_false(epr.disabled);
    assert_int_equal(
        count(f, "SELECT COUNT(*) FROM alerts WHERE source = 'webhooks' AND tenant_id = ?", f->t1),
        0);
    /* Five days after the first failure: disabled, with a reason and one alert. */
    OK(webhooks_emit(f->c, f->t1, "window.created", "{}", NOW + 5 * DAY, e));
    struct webhook_delivery last = last_delivery(f);
    OK(webhooks_attempt_record(f->c, f->t1, last.id, 1, &fail, 1.0, NOW + 5 * DAY, &recorded, e));
    OK(webhooks_endpoint_get(f->c, f->t1, ep, &f->a, &epr, e));
    assert_true(epr.disabled);
    assert_non_null(strstr(epr.disabled_reason, "5 days"));
    assert_int_equal(epr.disabled_at_ms, NOW + 5 * DAY);
    assert_int_equal(
        count(f, "SELECT COUNT(*) FROM alerts WHERE source = 'webhooks' AND tenant_id = ?", f->t1),
        1);
    /* No more deliveries for it, and no hand retries either. */
    OK(webhooks_emit(f->c, f->t1, "window.created", "{}", NOW + 6 * DAY, e));
    assert_int_equal(last_delivery(f).id, last.id);
    FAILS(ERR_CONFLICT,
          webhooks_delivery_retry(f->c, f->t1, last.id, NOW + 6 * DAY, NULL, NULL, e));
}

static int64_t status_of(struct fixture *f, int64_t delivery, int *attempts)
{
    struct webhook_delivery d;
    OK(webhooks_delivery_get(f->c, f->t1, delivery, &f->a, &d, e));
    *attempts = d.attempts;
    return d.status;
}

/*
 * The job through a real worker pool: a delivery answered 500 then 200 succeeds on its second
 * attempt (one webhook-id, both signatures valid); one whose endpoint was disabled meanwhile goes
 * dead unsent; one whose endpoint was deleted leaves nothing behind. No job ends dead.
 */
static void test_deliver_job(void **state)
{
    struct fixture *f = *state;
    struct webhook_endpoint_in in = {
        .url = "http://127.0.0.1:9/a", .events = window_events, .n_events = 2};
    struct webhook_endpoint a, b, c;
    OK(webhooks_endpoint_create(f->c, f->t1, &in, NOW, &f->a, &a, e));
    in.url = "http://127.0.0.1:9/b";
    OK(webhooks_endpoint_create(f->c, f->t1, &in, NOW, &f->a, &b, e));
    in.url = "http://127.0.0.1:9/c";
    OK(webhooks_endpoint_create(f->c, f->t1, &in, NOW, &f->a, &c, e));
    OK(webhooks_emit(f->c, f->t1, "window.created", "{\"window\":{\"id\":3}}", NOW, e));
    struct webhook_delivery_filter fa = {.status = -1, .endpoint_id = a.id};
    struct webhook_delivery_filter fb = {.status = -1, .endpoint_id = b.id};
    struct webhook_delivery *rows;
    size_t n;
    OK(webhooks_delivery_list(f->c, f->t1, &fa, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    int64_t da = rows[0].id;
    OK(webhooks_delivery_list(f->c, f->t1, &fb, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);
    int64_t dead_one = rows[0].id;
    bool changed;
    OK(webhooks_store_endpoint_disable(f->c, f->t1, b.id, "by test", NOW, &changed, e));
    OK(webhooks_endpoint_delete(f->c, f->t1, c.id, e));

    /* a's secret verifies every request; b and c must never be called */
    struct fake_http fh = {
        .answer_status = 200, .answer_body = "ok", .answer_len = 2, .fail_first = 1};
    snprintf(fh.secret, sizeof(fh.secret), "%s", a.secret);
    struct httpc_ops ops = {.do_request = fake_do, .ctx = &fh};
    httpc_set_ops(&ops);
    setenv("ICESHOP_WEBHOOK_RETRY_SCALE", "0.00001", 1);
    struct job_registry *reg = job_registry_new();
    OK(webhooks_jobs_register(reg, e));
    struct job_workers_options wo = {.threads = 1, .poll_ms = 20};
    struct job_workers *w;
    OK(job_workers_start(f->db, reg, NULL, &wo, &w, e));
    int attempts_a = 0, attempts_b = 0;
    for (int i = 0; i < 300; i++) {
        if (status_of(f, da, &attempts_a) == WEBHOOK_DELIVERY_SUCCEEDED &&
            status_of(f, dead_one, &attempts_b) == WEBHOOK_DELIVERY_DEAD &&
            count(f, "SELECT COUNT(*) FROM jobs WHERE state IN ('pending', 'running') AND ? >= 0",
                  0) == 0)
            break;
        usleep(20 * 1000);
    }
    job_workers_stop(w, 1000);
    job_registry_free(reg);
    httpc_set_ops(NULL);
    unsetenv("ICESHOP_WEBHOOK_RETRY_SCALE");

    assert_int_equal(status_of(f, da, &attempts_a), WEBHOOK_DELIVERY_SUCCEEDED);
    assert_int_equal(attempts_a, 2);
    assert_int_equal(fh.calls, 2);
    assert_int_equal(fh.verified, 2);
    struct webhook_delivery d;
    OK(webhooks_delivery_get(f->c, f->t1, da, &f->a, &d, e));
    assert_string_equal(fh.msg_id, d.msg_id);
    assert_int_equal(d.last_status, 200);
    assert_string_equal(d.last_response, "ok");
    assert_int_equal(status_of(f, dead_one, &attempts_b), WEBHOOK_DELIVERY_DEAD);
    assert_int_equal(attempts_b, 0);
    OK(webhooks_delivery_get(f->c, f->t1, dead_one, &f->a, &d, e));
    assert_string_equal(d.last_error, "endpoint disabled");
    assert_int_equal(
        count(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = ?", c.id), 0);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM jobs WHERE state <> 'done' AND ? >= 0", 0), 0);
    /* two attempts of a, one of b, one of c */
    assert_int_equal(
        count(f, "SELECT COUNT(*) FROM jobs WHERE name = 'webhook.deliver' AND ? >= 0", 0), 4);
}

int main(void)

{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_schedule),        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_url_validation),  cmocka_unit_test(test_event_validation),
        cmocka_unit_test(test_secret_and_body), cmocka_unit_test(test_webhook_out),
    };
    const struct CMUnitTest db_tests[] = {
        cmocka_unit_test_setup_teardown(test_endpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emit_rolled_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attempts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disable_after_five_days, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deliver_job, setup, teardown),
    };
    if (sec_init(NULL))
        return 1;
    int failed = cmocka_run_group_tests_name("webhooks_rules", pure, NULL, NULL);
    failed += TESTDB_RUN_GROUPS("webhooks", db_tests, &backend);
    return failed ? 1 : 0;
}
