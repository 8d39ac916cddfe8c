/* SPDX-License-Identifier: MIT */
/*
 * The flash window lifecycle with an injected clock, through the service functions on a real
 * database (SQLite, and PostgreSQL with TEST_PG_DSN): generate at T0, pre-commit, activate at
 * the start (or cancel under the minimum, or when an ask-first seller never answered), join,
 * redeem, expire with analytics; every lifecycle step is idempotent and emits its outbound
 * webhook event exactly once, in its own transaction.
 */
#include "core/crypto.h"
#include "core/events.h"
#include "core/log.h"
#include "domain/account/account.h"
#include "domain/flash/flash_messages.h"
#include "core/clock.h"
#include "domain/flash/flash_service.h"
#include "domain/commerce/commerce_store.h"
#include "domain/flash/learning.h"
#include "domain/flash/visit_order.h"
#include "domain/notify/outbox.h"
#include "domain/webhooks/webhooks.h"
#include "support/testdb.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#define T0     1795000000000LL /* 2026-11-18T... UTC, a fixed start */
#define MIN_MS 60000LL

static enum db_backend backend;
static int64_t TENANT; /* the test tenant, made in setup */

struct fx {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    struct arena a;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->db = testdb_open_migrated(&f->t, backend, "flashsvc", NULL);
    f->c = testdb_acquire(f->db);
    arena_init(&f->a);
    struct err e;
    err_init(&e);
    if (account_tenant_ensure(f->c, "moda", T0, &TENANT, &e))
        fail_msg("tenant: %s", e.msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    arena_release(&f->a);
    db_conn_release(f->c);
    db_close(f->db);
    testdb_remove(&f->t);
    free(f);
    return 0;
}


static void ok(int rc, const struct err *e)
{
    if (rc)
        fail_msg("%s (field %s)", e->msg, e->field);
}

static void add_seller(struct fx *f, const char *id, double lat, double lng, bool auto_approve,
                       const char *hours)
{
    struct err e;
    err_init(&e);
    struct flash_seller s;
    memset(&s, 0, sizeof(s));
    s.id = id;
    char phone[32];
    snprintf(phone, sizeof(phone), "+90532%07d", (int)(strlen(id) * 7919 + (unsigned char)id[1]));
    s.phone = arena_strdup(&f->a, phone);
    s.name = id;
    s.category = "coffee";
    s.loc = (struct flash_location){lat, lng, "Kadıköy", "Moda"};
    s.density = FLASH_DENSITY_LOW;
    s.stock_status = "";
    s.currency = "TRY";
    s.max_discount = 25;
    s.capacity = 5;
    s.auto_approve = auto_approve;
    s.opening_hours = hours;
    bool created;
    ok(flash_seller_register(f->c, TENANT, &s, T0, &f->a, &created, &e), &e);
}

static void add_buyer(struct fx *f, const char *id, const char *phone, double lat, double lng)
{
    struct err e;
    err_init(&e);
    struct flash_buyer b;
    memset(&b, 0, sizeof(b));
    b.id = id;
    b.phone = phone;
    b.name = id;
    b.loc = (struct flash_location){lat, lng, "", ""};
    b.consent = true;
    b.language = "tr";
    bool created;
    ok(flash_buyer_register(f->c, TENANT, &b, T0, &f->a, &created, &e), &e);
    struct flash_demand_in d = {.text = "Latte istiyorum",
                                .product = "latte",
                                .category = "coffee",
                                .currency = "TRY",
                                .expires_at = T0 + 60 * MIN_MS};
    int64_t pk;
    ok(flash_buyer_signal(f->c, TENANT, id, &d, T0, &pk, &e), &e);
}

static struct flash_window get_window(struct fx *f, int64_t pk)
{
    struct err e;
    err_init(&e);
    struct flash_window w;
    ok(flash_store_window_get(f->c, TENANT, pk, &f->a, &w, &e), &e);
    return w;
}

static int messages(struct fx *f, int64_t window, const struct notify_kind *kind)
{
    struct err e;
    err_init(&e);
    struct notify_filter nf = {.kind = kind->name,
                               .status = -1,
                               .about_kind = FLASH_ABOUT_WINDOW,
                               .about_pk = window,
                               .limit = 500};
    struct notify_message *rows;
    size_t n;
    ok(notify_list(f->c, TENANT, &nf, &f->a, &rows, &n, &e), &e);
    return (int)n;
}

/* Generate at T0 and return the one window opened. */
static int64_t generate_one(struct fx *f, const char *want_status)
{
    struct err e;
    err_init(&e);
    struct flash_generated *g;
    size_t n;
    ok(flash_generate(f->c, TENANT, T0, &f->a, &g, &n, &e), &e);
    int64_t pk = 0;
    for (size_t i = 0; i < n; i++) {
        if (g[i].reason[0] == '\0') {
            assert_int_equal(pk, 0);
            pk = g[i].window_pk;
            assert_string_equal(g[i].status, want_status);
        }
    }
    assert_true(pk > 0);
    return pk;
}

static void moda(struct fx *f, bool auto_approve)
{
    add_seller(f, "S1", 40.987, 29.026, auto_approve, "");
    add_buyer(f, "B1", "+905330000001", 40.9879, 29.026);
    add_buyer(f, "B2", "+905330000002", 40.9900, 29.026);
    add_buyer(f, "B3", "+905330000003", 40.9870, 29.031);
}

static void test_full_life(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    moda(f, true);
    int64_t pk = generate_one(f, "SCHEDULED");
    struct flash_window w = get_window(f, pk);
    /* default lead 5 min, but B3 (≈ 420 m, a 6.9-minute walk) needs 7 */
    assert_int_equal(w.start_ms, T0 + 7 * MIN_MS);
    assert_int_equal(w.end_ms, w.start_ms + 10 * MIN_MS);
    assert_int_equal(w.targeted, 3);
    assert_int_equal(messages(f, pk, &flash_msg_offer), 3);

    /* a second generate opens nothing for S1 */
    struct flash_generated *g;
    size_t n;
    ok(flash_generate(f->c, TENANT, T0 + MIN_MS, &f->a, &g, &n, &e), &e);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(g[i].reason, "already has an open window");

    bool created;
    ok(flash_precommit(f->c, TENANT, pk, "B1", T0 + MIN_MS, &created, &e), &e);
    ok(flash_precommit(f->c, TENANT, pk, "B2", T0 + MIN_MS, &created, &e), &e);

    /* two minutes before the start the committed buyers are reminded */
    ok(flash_remind(f->c, TENANT, pk, w.start_ms - 2 * MIN_MS, &e), &e);
    assert_int_equal(messages(f, pk, &flash_msg_reminder), 2);

    ok(flash_activate(f->c, TENANT, pk, w.start_ms, &e), &e);
    w = get_window(f, pk);
    assert_int_equal(w.status, FLASH_WINDOW_ACTIVE);
    /* a late reminder for a window already running sends nothing */
    ok(flash_remind(f->c, TENANT, pk, w.start_ms + 1000, &e), &e);
    assert_int_equal(messages(f, pk, &flash_msg_reminder), 2);
    assert_int_equal(messages(f, pk, &flash_msg_seller_summary), 1);
    assert_int_equal(messages(f, pk, &flash_msg_window_open), 2);
    /* run again (a retried job): nothing changes, nothing is sent twice */
    ok(flash_activate(f->c, TENANT, pk, w.start_ms + 1000, &e), &e);
    assert_int_equal(messages(f, pk, &flash_msg_seller_summary), 1);

    const char *code;
    ok(flash_join(f->c, TENANT, pk, "B1", w.start_ms + MIN_MS, &f->a, &code, &created, &e), &e);
    const char *who;
    ok(flash_redeem(f->c, TENANT, pk, code, w.start_ms + 2 * MIN_MS, &f->a, &who, &e), &e);
    assert_string_equal(who, "B1");
    assert_int_equal(flash_redeem(f->c, TENANT, pk, code, w.start_ms + 3 * MIN_MS, &f->a, &who, &e),
                     ERR_CONFLICT);
    err_init(&e);

    ok(flash_expire(f->c, TENANT, pk, w.end_ms, &e), &e);
    w = get_window(f, pk);
    assert_int_equal(w.status, FLASH_WINDOW_EXPIRED);
    assert_non_null(strstr(w.analytics_json, "\"redeemed\":1"));
    assert_non_null(strstr(w.analytics_json, "\"targeted\":3"));
    ok(flash_expire(f->c, TENANT, pk, w.end_ms + 1000, &e), &e); /* idempotent */

    /* reliability: B1 committed and came, B2 committed and did not */
    struct flash_buyer b1, b2;
    ok(flash_store_buyer_get(f->c, TENANT, "B1", false, &f->a, &b1, &e), &e);
    ok(flash_store_buyer_get(f->c, TENANT, "B2", false, &f->a, &b2, &e), &e);
    assert_int_equal(b1.commits, 1);
    assert_int_equal(b1.shows, 1);
    assert_int_equal(b2.commits, 1);
    assert_int_equal(b2.shows, 0);
    assert_true(flash_buyer_reliability(&b1) > flash_buyer_reliability(&b2));
}

/* ======================== races: several connections at once ======================== */

#define RACERS 6

enum race_op { RACE_ACTIVATE, RACE_PRECOMMIT, RACE_REDEEM };

struct racer {
    struct fx *f;
    pthread_barrier_t *go;
    enum race_op op;
    int64_t window;
    int64_t now;
    const char *arg; /* buyer id or code */
    int rc;
    bool created;
    char msg[256];
};

static void *race_one(void *p)
{
    struct racer *r = p;
    struct db_conn *c = testdb_acquire(r->f->db);
    struct arena a;
    arena_init(&a);
    struct err e;
    err_init(&e);
    const char *who = NULL;
    pthread_barrier_wait(r->go);
    switch (r->op) {
    case RACE_ACTIVATE:
        r->rc = flash_activate(c, TENANT, r->window, r->now, &e);
        break;
    case RACE_PRECOMMIT:
        r->rc = flash_precommit(c, TENANT, r->window, r->arg, r->now, &r->created, &e);
        break;
    case RACE_REDEEM:
        r->rc = flash_redeem(c, TENANT, r->window, r->arg, r->now, &a, &who, &e);
        break;
    }
    snprintf(r->msg, sizeof(r->msg), "%s", e.msg);
    arena_release(&a);
    db_conn_release(c);
    return NULL;
}

/* Runs RACERS copies of one call, released together; fills r[]. */
static void race(struct fx *f, enum race_op op, int64_t window, int64_t now, const char *arg,
                 struct racer r[RACERS])
{
    pthread_t th[RACERS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        r[i] =
            (struct racer){.f = f, .go = &go, .op = op, .window = window, .now = now, .arg = arg};
        assert_int_equal(pthread_create(&th[i], NULL, race_one, &r[i]), 0);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
}

/* Every racer succeeds (`conflict_ok`: or is refused with a conflict, never another error). */
static void assert_raced_cleanly(const struct racer *r, bool conflict_ok)
{
    if (r->rc && !(conflict_ok && r->rc == ERR_CONFLICT))
        fail_msg("a racer failed with %d: %s", r->rc, r->msg);
}

/*
 * Two jobs (or two processes) activating one window at once: one activation happens, the seller
 * gets one summary and each committed buyer one "it started" message.
 */
static void test_race_activate(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    moda(f, true);
    int64_t pk = generate_one(f, "SCHEDULED");
    bool created;
    ok(flash_precommit(f->c, TENANT, pk, "B1", T0 + MIN_MS, &created, &e), &e);
    ok(flash_precommit(f->c, TENANT, pk, "B2", T0 + MIN_MS, &created, &e), &e);
    struct flash_window w = get_window(f, pk);
    struct racer r[RACERS];
    race(f, RACE_ACTIVATE, pk, w.start_ms, NULL, r);
    for (int i = 0; i < RACERS; i++)
        assert_raced_cleanly(&r[i], false); /* activation is idempotent */
    w = get_window(f, pk);
    assert_int_equal(w.status, FLASH_WINDOW_ACTIVE);
    assert_int_equal(messages(f, pk, &flash_msg_seller_summary), 1);
    assert_int_equal(messages(f, pk, &flash_msg_window_open), 2);
    /* each committed buyer was counted as coming once */
    struct flash_buyer b1;
    ok(flash_store_buyer_get(f->c, TENANT, "B1", false, &f->a, &b1, &e), &e);
    assert_int_equal(b1.commits, 1);
}

/* One buyer's "katıl" arriving several times at once: one pre-commit, one confirmation. */
static void test_race_precommit(void **state)
{
    struct fx *f = *state;
    moda(f, true);
    int64_t pk = generate_one(f, "SCHEDULED");
    struct racer r[RACERS];
    race(f, RACE_PRECOMMIT, pk, T0 + MIN_MS, "B1", r);
    int created = 0;
    for (int i = 0; i < RACERS; i++) {
        assert_raced_cleanly(&r[i], false); /* a repeated pre-commit is not an error */
        created += !r[i].rc && r[i].created;
    }
    assert_int_equal(created, 1);
    assert_int_equal(get_window(f, pk).committed, 1);
    assert_int_equal(messages(f, pk, &flash_msg_confirmation), 1);
}

/* A code shown at two tills at once: one redemption succeeds, the others are refused. */
static void test_race_redeem(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    moda(f, true);
    int64_t pk = generate_one(f, "SCHEDULED");
    bool created;
    ok(flash_precommit(f->c, TENANT, pk, "B1", T0 + MIN_MS, &created, &e), &e);
    ok(flash_precommit(f->c, TENANT, pk, "B2", T0 + MIN_MS, &created, &e), &e); /* the minimum */
    struct flash_window w = get_window(f, pk);
    ok(flash_activate(f->c, TENANT, pk, w.start_ms, &e), &e);
    const char *code;
    ok(flash_join(f->c, TENANT, pk, "B1", w.start_ms + MIN_MS, &f->a, &code, &created, &e), &e);
    struct racer r[RACERS];
    race(f, RACE_REDEEM, pk, w.start_ms + 2 * MIN_MS, code, r);
    int won = 0;
    for (int i = 0; i < RACERS; i++) {
        assert_raced_cleanly(&r[i], true); /* "already redeemed" */
        won += r[i].rc == 0;
    }
    assert_int_equal(won, 1);
    assert_int_equal(get_window(f, pk).redeemed, 1);
    struct flash_buyer b1;
    ok(flash_store_buyer_get(f->c, TENANT, "B1", false, &f->a, &b1, &e), &e);
    assert_int_equal(b1.shows, 1);
}

/* ======================== faults: a failure at any step leaves nothing half-done =========== */

/* What a flow may have changed: counted after each failed attempt, compared with before. */
struct trace {
    int64_t messages, jobs, events, precommits, joins, redeemed, window_updated, windows, targets,
        commits_shows, commerce;
};

static int64_t count_sql(struct fx *f, const char *sql)
{
    struct err e;
    err_init(&e);
    struct db_stmt *st;
    ok(db_prepare(f->c, &st, sql, &e), &e);
    int64_t n = db_step(st, &e) == DB_ROW ? db_col_i64(st, 0) : -1;
    db_stmt_done(st);
    return n;
}

static struct trace trace_of(struct fx *f)
{
    db_fault_after(f->db, 0);
    struct trace t = {
        .messages = count_sql(f, "SELECT count(*) FROM messages"),
        .jobs = count_sql(f, "SELECT count(*) FROM jobs"),
        .events = count_sql(f, "SELECT count(*) FROM webhook_deliveries"),
        .precommits = count_sql(f, "SELECT count(*) FROM precommits WHERE status = 'active'"),
        .joins = count_sql(f, "SELECT count(*) FROM participants"),
        .redeemed = count_sql(f, "SELECT count(*) FROM participants WHERE redeemed_at IS NOT NULL"),
        .window_updated = count_sql(f, "SELECT count(*) FROM flash_windows "
                                       "WHERE status <> 'SCHEDULED'"),
        .windows = count_sql(f, "SELECT count(*) FROM flash_windows"),
        .targets = count_sql(f, "SELECT count(*) FROM window_targets"),
        .commits_shows =
            count_sql(f, "SELECT coalesce(sum(commits * 1000 + shows), 0) FROM buyers"),
        /* a redeemed visit's customer, category, product, order and item */
        .commerce = count_sql(f, "SELECT (SELECT count(*) FROM customer) * 10000 + "
                                 "(SELECT count(*) FROM product) * 100 + "
                                 "(SELECT count(*) FROM orders) * 10 + "
                                 "(SELECT count(*) FROM order_item) + "
                                 "(SELECT count(*) FROM category) * 1000"),
    };
    return t;
}

static void assert_same_trace(const struct trace *a, const struct trace *b, int64_t k)
{
    if (memcmp(a, b, sizeof(*a)) != 0)
        fail_msg("a fault at call %lld left a change behind: messages %lld->%lld, jobs %lld->%lld, "
                 "webhook deliveries %lld->%lld, pre-commits %lld->%lld, joins %lld->%lld, "
                 "redeemed %lld->%lld, windows moved %lld->%lld, windows %lld->%lld, targets "
                 "%lld->%lld, buyers' commits/shows %lld->%lld, commerce rows %lld->%lld",
                 (long long)k, (long long)a->messages, (long long)b->messages, (long long)a->jobs,
                 (long long)b->jobs, (long long)a->events, (long long)b->events,
                 (long long)a->precommits, (long long)b->precommits, (long long)a->joins,
                 (long long)b->joins, (long long)a->redeemed, (long long)b->redeemed,
                 (long long)a->window_updated, (long long)b->window_updated, (long long)a->windows,
                 (long long)b->windows, (long long)a->targets, (long long)b->targets,
                 (long long)a->commits_shows, (long long)b->commits_shows, (long long)a->commerce,
                 (long long)b->commerce);
}

typedef int (*flow_fn)(struct fx *f, int64_t window, const char *arg, int64_t now, struct err *e);

/*
 * Fails the flow's 1st database call, then its 2nd, ... until it runs through: every failed
 * attempt must return an error and leave the database as it was; the run that succeeds must
 * change it. Returns how many calls were failed in turn.
 */
static int64_t fail_each_call(struct fx *f, flow_fn flow, int64_t window, const char *arg,
                              int64_t now)
{
    struct trace before = trace_of(f);
    for (int64_t k = 1; k < 2000; k++) {
        struct err e;
        err_init(&e);
        db_fault_after(f->db, k);
        int rc = flow(f, window, arg, now, &e);
        int64_t calls = db_fault_calls(f->db);
        db_fault_after(f->db, 0);
        if (calls < k) { /* it finished before the k-th call: no fault happened */
            ok(rc, &e);
            struct trace after = trace_of(f);
            assert_true(memcmp(&before, &after, sizeof(before)) != 0);
            return k - 1;
        }
        if (!rc)
            fail_msg("the flow succeeded although call %lld failed", (long long)k);
        struct trace left = trace_of(f);
        assert_same_trace(&before, &left, k);
    }
    fail_msg("the flow never finished");
    return 0;
}

static int flow_webhook_endpoint(struct fx *f)
{
    struct err e;
    err_init(&e);
    struct webhook_endpoint_in in = {
        .url = "https://example.com/hooks", .events = webhooks_event_types, .n_events = 7};
    struct webhook_endpoint ep;
    return webhooks_endpoint_create(f->c, TENANT, &in, T0, &f->a, &ep, &e);
}

static int flow_precommit(struct fx *f, int64_t window, const char *arg, int64_t now, struct err *e)
{
    bool created;
    return flash_precommit(f->c, TENANT, window, arg, now, &created, e);
}

static int flow_activate(struct fx *f, int64_t window, const char *arg, int64_t now, struct err *e)
{
    (void)arg;
    return flash_activate(f->c, TENANT, window, now, e);
}

static int flow_join(struct fx *f, int64_t window, const char *arg, int64_t now, struct err *e)
{
    const char *code;
    bool created;
    return flash_join(f->c, TENANT, window, arg, now, &f->a, &code, &created, e);
}

static int flow_redeem(struct fx *f, int64_t window, const char *arg, int64_t now, struct err *e)
{
    const char *who;
    return flash_redeem(f->c, TENANT, window, arg, now, &f->a, &who, e);
}

static int flow_generate(struct fx *f, int64_t window, const char *arg, int64_t now, struct err *e)
{
    (void)window;
    (void)arg;
    struct flash_generated *g;
    size_t n;
    return flash_generate(f->c, TENANT, now, &f->a, &g, &n, e);
}

/*
 * The flows that send messages or record a visit, with a failure injected at every database
 * call in turn (and webhook subscribers listening, so events are part of what must not leak).
 */
static void test_faults_leave_nothing_behind(void **state)
{
    struct fx *f = *state;
    moda(f, true);
    assert_int_equal(flow_webhook_endpoint(f), 0);
    int64_t steps = fail_each_call(f, flow_generate, 0, NULL, T0);
    int64_t pk = 0;
    {
        struct notify_filter nf = {.kind = "offer", .status = -1, .limit = 1};
        struct notify_message *rows;
        size_t n;
        struct err e;
        err_init(&e);
        ok(notify_list(f->c, TENANT, &nf, &f->a, &rows, &n, &e), &e);
        assert_int_equal(n, 1);
        pk = rows[0].about_pk;
    }
    assert_int_equal(messages(f, pk, &flash_msg_offer), 3);
    steps += fail_each_call(f, flow_precommit, pk, "B1", T0 + MIN_MS);
    steps += fail_each_call(f, flow_precommit, pk, "B2", T0 + MIN_MS);
    assert_int_equal(messages(f, pk, &flash_msg_confirmation), 2);
    int64_t start = get_window(f, pk).start_ms;
    steps += fail_each_call(f, flow_activate, pk, NULL, start);
    assert_int_equal(get_window(f, pk).status, FLASH_WINDOW_ACTIVE);
    assert_int_equal(messages(f, pk, &flash_msg_seller_summary), 1);
    assert_int_equal(messages(f, pk, &flash_msg_window_open), 2);
    steps += fail_each_call(f, flow_join, pk, "B1", start + MIN_MS);
    struct err e;
    err_init(&e);
    const char *code;
    bool created;
    ok(flash_join(f->c, TENANT, pk, "B1", start + MIN_MS, &f->a, &code, &created, &e), &e);
    assert_false(created);
    steps += fail_each_call(f, flow_redeem, pk, code, start + 2 * MIN_MS);
    assert_int_equal(get_window(f, pk).redeemed, 1);
    /* enough calls were failed for this to mean something */
    assert_true(steps > 40);
}

/* ======================== the learning policy ======================== */

static int64_t learned(struct fx *f, const char *sql)
{
    return count_sql(f, sql);
}

/*
 * Outcomes are recorded when a window ends, whatever the setting; with the policy on, a window's
 * discount is the arm with the best learned value, the same for every target, never above the
 * seller's maximum, and the trace says why.
 */
static void test_learning(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    moda(f, true);
    int64_t pk = generate_one(f, "SCHEDULED");
    struct flash_window w = get_window(f, pk);
    assert_int_equal(w.discount_percent, 20); /* off: the distance tiers (B3, 420 m: 20%) */
    bool created;
    ok(flash_precommit(f->c, TENANT, pk, "B1", T0 + MIN_MS, &created, &e), &e);
    ok(flash_precommit(f->c, TENANT, pk, "B2", T0 + MIN_MS, &created, &e), &e);
    ok(flash_activate(f->c, TENANT, pk, w.start_ms, &e), &e);
    const char *code;
    ok(flash_join(f->c, TENANT, pk, "B1", w.start_ms + MIN_MS, &f->a, &code, &created, &e), &e);
    const char *who;
    ok(flash_redeem(f->c, TENANT, pk, code, w.start_ms + 2 * MIN_MS, &f->a, &who, &e), &e);
    assert_int_equal(learned(f, "SELECT count(*) FROM flash_learning"), 0);
    ok(flash_expire(f->c, TENANT, pk, w.end_ms, &e), &e);
    ok(flash_expire(f->c, TENANT, pk, w.end_ms + 1000, &e), &e); /* counted once */
    assert_int_equal(learned(f, "SELECT count(*) FROM flash_learning WHERE category = 'coffee' "
                                "AND discount = 20 AND offers = 3 AND visits = 1"),
                     1);

    /*
     * History says 15% brings nobody and 25% brings many: the policy, switched on, picks 25%,
     * the seller's maximum (the 30% tier is capped to it, never exceeded).
     */
    int64_t s1 = get_window(f, pk).seller_pk;
    ok(flash_learning_record(f->c, TENANT, s1, "coffee", 15, 40, 0, T0, &e), &e);
    ok(flash_learning_record(f->c, TENANT, s1, "coffee", 25, 40, 30, T0, &e), &e);
    struct flash_policy p;
    double prior = 0;
    ok(flash_learning_policy(f->c, TENANT, s1, "coffee", &(struct flash_config){0}, 25, &p, &prior,
                             &e),
       &e);
    assert_true(prior > 0.3 && prior < 0.5); /* the tenant's own rate: 31 of 83 */
    struct flash_config cfg;
    ok(flash_store_config_get(f->c, TENANT, &cfg, &e), &e);
    cfg.learning = FLASH_LEARNING_EXPLOIT;
    ok(flash_store_config_put(f->c, TENANT, &cfg, T0, &e), &e);
    /* the buyers want coffee again, later */
    int64_t later = w.end_ms + 60 * MIN_MS;
    static const char *const ids[] = {"B1", "B2", "B3"};
    for (int i = 0; i < 3; i++) {
        struct flash_demand_in d = {.text = "Latte istiyorum",
                                    .product = "latte",
                                    .category = "coffee",
                                    .currency = "TRY",
                                    .expires_at = later + 60 * MIN_MS};
        int64_t dpk;
        ok(flash_buyer_signal(f->c, TENANT, ids[i], &d, later, &dpk, &e), &e);
    }
    struct flash_generated *g;
    size_t n;
    ok(flash_generate(f->c, TENANT, later, &f->a, &g, &n, &e), &e);
    int64_t pk2 = 0;
    for (size_t i = 0; i < n; i++)
        pk2 = g[i].reason[0] ? pk2 : g[i].window_pk;
    assert_true(pk2 > 0);
    w = get_window(f, pk2);
    assert_int_equal(w.discount_percent, 25);
    struct flash_window_target *t;
    size_t nt;
    ok(flash_store_window_targets(f->c, TENANT, pk2, &f->a, &t, &nt, &e), &e);
    assert_true(nt > 0);
    for (size_t i = 0; i < nt; i++)
        assert_int_equal(t[i].discount, 25);
    assert_non_null(strstr(w.trace_json, "25% chosen: posterior mean visit rate"));
    assert_non_null(strstr(w.trace_json, "learned discount 25%"));

    /*
     * A new coffee seller starts from what S1 learned (pooled prior, at most
     * FLASH_POLICY_POOL_MAX of its offers per discount); a bakery does not.
     */
    add_seller(f, "S9", 40.99, 29.03, true, "");
    struct flash_seller s9;
    ok(flash_store_seller_get(f->c, TENANT, "S9", false, &f->a, &s9, &e), &e);
    ok(flash_learning_policy(f->c, TENANT, s9.pk, "coffee", &cfg, 25, &p, &prior, &e), &e);
    int i25 = -1, i15 = -1;
    for (int i = 0; i < p.n_arms; i++) {
        i25 = p.arms[i].discount == 25 ? i : i25;
        i15 = p.arms[i].discount == 15 ? i : i15;
    }
    assert_true(i25 >= 0 && i15 >= 0);
    assert_true(flash_policy_mean(&p, i25) > 0.6); /* 30 of 40 at 25% */
    assert_true(flash_policy_mean(&p, i15) < 0.1); /* 0 of 40 at 15% */
    assert_true(p.arms[i25].alpha + p.arms[i25].beta <=
                FLASH_LEARNING_PRIOR_WEIGHT + FLASH_POLICY_POOL_MAX + 1e-9);
    ok(flash_learning_policy(f->c, TENANT, s9.pk, "bakery", &cfg, 25, &p, &prior, &e), &e);
    for (int i = 0; i < p.n_arms; i++)
        assert_true(fabs(flash_policy_mean(&p, i) - prior) < 1e-9);
}

/*
 * The micro-traffic fee: each redeemed visit is billed on the seller's ledger at the tenant's
 * traffic_fee of that moment, once; the statement sums a month of the tenant's local time.
 */
#define DAY_MS_T 86400000LL

static void test_seller_statement(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    moda(f, true);
    int64_t pk = generate_one(f, "SCHEDULED");
    struct flash_window w = get_window(f, pk);
    bool created;
    ok(flash_precommit(f->c, TENANT, pk, "B1", T0 + MIN_MS, &created, &e), &e);
    ok(flash_precommit(f->c, TENANT, pk, "B2", T0 + MIN_MS, &created, &e), &e);
    ok(flash_activate(f->c, TENANT, pk, w.start_ms, &e), &e);
    const char *c1, *c2, *who;
    ok(flash_join(f->c, TENANT, pk, "B1", w.start_ms + MIN_MS, &f->a, &c1, &created, &e), &e);
    ok(flash_join(f->c, TENANT, pk, "B2", w.start_ms + MIN_MS, &f->a, &c2, &created, &e), &e);
    /* no fee set: the visit is counted, at 0 */
    ok(flash_redeem(f->c, TENANT, pk, c1, w.start_ms + 2 * MIN_MS, &f->a, &who, &e), &e);
    struct flash_config cfg;
    ok(flash_store_config_get(f->c, TENANT, &cfg, &e), &e);
    cfg.traffic_fee = 150;
    ok(flash_store_config_put(f->c, TENANT, &cfg, T0, &e), &e);
    ok(flash_redeem(f->c, TENANT, pk, c2, w.start_ms + 3 * MIN_MS, &f->a, &who, &e), &e);
    /* a second redemption of a code bills nothing */
    assert_int_equal(flash_redeem(f->c, TENANT, pk, c2, w.start_ms + 4 * MIN_MS, &f->a, &who, &e),
                     ERR_CONFLICT);
    err_init(&e);
    /* a later fee does not rewrite the past */
    cfg.traffic_fee = 990;
    ok(flash_store_config_put(f->c, TENANT, &cfg, T0, &e), &e);

    struct flash_statement st;
    ok(flash_seller_statement(f->c, TENANT, "S1", "2026-11", 0, &f->a, &st, &e), &e);
    assert_string_equal(st.month, "2026-11");
    /* November in Istanbul (UTC+3): from Oct 31, 21:00 UTC */
    assert_int_equal(st.from_ms, clock_days_from_civil(2026, 11, 1) * DAY_MS_T - 3 * 3600000LL);
    assert_int_equal(st.to_ms, clock_days_from_civil(2026, 12, 1) * DAY_MS_T - 3 * 3600000LL);
    assert_int_equal(st.n_lines, 1);
    assert_int_equal(st.lines[0].window_pk, pk);
    assert_int_equal(st.lines[0].visits, 2);
    assert_int_equal(st.lines[0].fees, 150);
    assert_int_equal(st.n_totals, 1);
    assert_string_equal(st.totals[0].currency, "TRY");
    assert_int_equal(st.totals[0].fees, 150);
    /* the month of now, when none is named */
    ok(flash_seller_statement(f->c, TENANT, "S1", NULL, T0, &f->a, &st, &e), &e);
    assert_string_equal(st.month, "2026-11");
    ok(flash_seller_statement(f->c, TENANT, "S1", "2026-10", 0, &f->a, &st, &e), &e);
    assert_int_equal(st.n_lines, 0);
    assert_int_equal(st.n_totals, 0);
    assert_int_equal(flash_seller_statement(f->c, TENANT, "S1", "2026-13", 0, &f->a, &st, &e),
                     ERR_INVALID);
    assert_string_equal(e.field, "month");
    err_init(&e);
    assert_int_equal(flash_seller_statement(f->c, TENANT, "S1", "2026-1x", 0, &f->a, &st, &e),
                     ERR_INVALID);
    err_init(&e);
    assert_int_equal(flash_seller_statement(f->c, TENANT, "S1", "2026- 1", 0, &f->a, &st, &e),
                     ERR_INVALID);
    err_init(&e);
    assert_int_equal(flash_seller_statement(f->c, TENANT, "S404", "2026-11", 0, &f->a, &st, &e),
                     ERR_NOT_FOUND);
    assert_string_equal(e.field, "id");
}

/*
 * A fee per category: a visit is billed at the fee of its seller's category as configured at the
 * redemption (category_fees, else traffic_fee); a later change never rewrites the ledger.
 */
static void test_category_fee(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    moda(f, true); /* S1 sells coffee */
    int64_t pk = generate_one(f, "SCHEDULED");
    struct flash_window w = get_window(f, pk);
    bool created;
    ok(flash_precommit(f->c, TENANT, pk, "B1", T0 + MIN_MS, &created, &e), &e);
    ok(flash_precommit(f->c, TENANT, pk, "B2", T0 + MIN_MS, &created, &e), &e);
    ok(flash_activate(f->c, TENANT, pk, w.start_ms, &e), &e);
    const char *c1, *c2, *who;
    ok(flash_join(f->c, TENANT, pk, "B1", w.start_ms + MIN_MS, &f->a, &c1, &created, &e), &e);
    ok(flash_join(f->c, TENANT, pk, "B2", w.start_ms + MIN_MS, &f->a, &c2, &created, &e), &e);
    struct flash_config cfg;
    ok(flash_store_config_get(f->c, TENANT, &cfg, &e), &e);
    json_t *patch = json_loads("{\"traffic_fee\":100,\"category_fees\":{\"coffee\":250,"
                               "\"bakery\":40}}",
                               0, NULL);
    ok(flash_config_merge(&cfg, patch, &e), &e);
    json_decref(patch);
    ok(flash_store_config_put(f->c, TENANT, &cfg, T0, &e), &e);
    ok(flash_redeem(f->c, TENANT, pk, c1, w.start_ms + 2 * MIN_MS, &f->a, &who, &e), &e);
    /* coffee loses its own fee: the tenant's default applies to the next visit */
    patch = json_loads("{\"category_fees\":{\"bakery\":40}}", 0, NULL);
    ok(flash_config_merge(&cfg, patch, &e), &e);
    json_decref(patch);
    ok(flash_store_config_put(f->c, TENANT, &cfg, T0, &e), &e);
    ok(flash_redeem(f->c, TENANT, pk, c2, w.start_ms + 3 * MIN_MS, &f->a, &who, &e), &e);
    /* and a later coffee fee rewrites neither visit */
    patch = json_loads("{\"traffic_fee\":7,\"category_fees\":{\"coffee\":9999}}", 0, NULL);
    ok(flash_config_merge(&cfg, patch, &e), &e);
    json_decref(patch);
    ok(flash_store_config_put(f->c, TENANT, &cfg, T0, &e), &e);
    struct flash_statement st;
    ok(flash_seller_statement(f->c, TENANT, "S1", "2026-11", 0, &f->a, &st, &e), &e);
    assert_int_equal(st.n_lines, 1);
    assert_int_equal(st.lines[0].visits, 2);
    assert_int_equal(st.lines[0].fees, 250 + 100);
    assert_int_equal(st.n_totals, 1);
    assert_int_equal(st.totals[0].fees, 350);
}

/* The window version (what ETags and the body cache rest on) moves with every change a list shows.
 */
static void test_version_moves(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    int64_t v0, v;
    ok(flash_store_version(f->c, TENANT, &v0, &e), &e);
    assert_int_equal(v0, 0);
    moda(f, true);
#define MOVED()                                                                                    \
    do {                                                                                           \
        ok(flash_store_version(f->c, TENANT, &v, &e), &e);                                         \
        assert_true(v > v0);                                                                       \
        v0 = v;                                                                                    \
    } while (0)
    int64_t pk = generate_one(f, "SCHEDULED");
    MOVED(); /* a window and its targets */
    bool created;
    ok(flash_precommit(f->c, TENANT, pk, "B1", T0 + MIN_MS, &created, &e), &e);
    MOVED();
    ok(flash_precommit_cancel(f->c, TENANT, pk, "B1", T0 + MIN_MS, &e), &e);
    MOVED();
    ok(flash_precommit(f->c, TENANT, pk, "B1", T0 + MIN_MS, &created, &e), &e);
    ok(flash_precommit(f->c, TENANT, pk, "B2", T0 + MIN_MS, &created, &e), &e);
    ok(flash_store_version(f->c, TENANT, &v0, &e), &e);
    struct flash_window w = get_window(f, pk);
    ok(flash_activate(f->c, TENANT, pk, w.start_ms, &e), &e);
    MOVED();
    const char *code;
    ok(flash_join(f->c, TENANT, pk, "B1", w.start_ms + MIN_MS, &f->a, &code, &created, &e), &e);
    MOVED();
    const char *who;
    ok(flash_redeem(f->c, TENANT, pk, code, w.start_ms + 2 * MIN_MS, &f->a, &who, &e), &e);
    MOVED();
    /* a seller's change shows in the lists (name, place) */
    ok(flash_store_version(f->c, TENANT, &v0, &e), &e);
    add_seller(f, "S1", 40.9871, 29.026, true, "");
    MOVED();
    /* reading changes nothing; another tenant's version is its own */
    ok(flash_store_version(f->c, TENANT, &v, &e), &e);
    assert_int_equal(v, v0);
    ok(flash_store_version(f->c, TENANT + 1000, &v, &e), &e);
    assert_int_equal(v, 0);
#undef MOVED
}

static void test_under_minimum(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    moda(f, true);
    int64_t pk = generate_one(f, "SCHEDULED");
    bool created;
    ok(flash_precommit(f->c, TENANT, pk, "B3", T0 + MIN_MS, &created, &e), &e);
    struct flash_window w = get_window(f, pk);
    ok(flash_activate(f->c, TENANT, pk, w.start_ms, &e), &e);
    w = get_window(f, pk);
    assert_int_equal(w.status, FLASH_WINDOW_CANCELLED);
    assert_non_null(strstr(w.cancel_reason, "minimum not reached (1 of 2)"));
    assert_int_equal(messages(f, pk, &flash_msg_cancelled), 1);
    assert_int_equal(messages(f, pk, &flash_msg_seller_summary), 0);
    /* the seller may get a new window now */
    int64_t again = generate_one(f, "SCHEDULED");
    assert_true(again != pk);
}

static void test_ask_first_unanswered(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    moda(f, false);
    int64_t pk = generate_one(f, "PROPOSED");
    assert_int_equal(messages(f, pk, &flash_msg_question), 1);
    assert_int_equal(messages(f, pk, &flash_msg_offer), 0);
    struct flash_window w = get_window(f, pk);
    ok(flash_activate(f->c, TENANT, pk, w.start_ms, &e), &e);
    w = get_window(f, pk);
    assert_int_equal(w.status, FLASH_WINDOW_CANCELLED);
    assert_string_equal(w.cancel_reason, "seller did not answer");
    /* too late to approve now */
    assert_int_equal(flash_seller_approve(f->c, TENANT, pk, w.start_ms + 1, &e), ERR_CONFLICT);
}

static void test_ask_first_approved(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    moda(f, false);
    int64_t pk = generate_one(f, "PROPOSED");
    ok(flash_seller_approve(f->c, TENANT, pk, T0 + MIN_MS, &e), &e);
    assert_int_equal(get_window(f, pk).status, FLASH_WINDOW_SCHEDULED);
    assert_int_equal(messages(f, pk, &flash_msg_offer), 3);
    /* saying yes twice is fine and sends nothing twice */
    ok(flash_seller_approve(f->c, TENANT, pk, T0 + 2 * MIN_MS, &e), &e);
    assert_int_equal(messages(f, pk, &flash_msg_offer), 3);
    /* a rejected window cannot be approved */
    ok(flash_seller_cancel(f->c, TENANT, pk, "", T0 + 3 * MIN_MS, &e), &e);
    assert_int_equal(flash_seller_approve(f->c, TENANT, pk, T0 + 4 * MIN_MS, &e), ERR_CONFLICT);
}

static void test_closed_seller_gets_no_window(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    /* T0 is 2026-11-18 (UTC); local +3h. A shop open 01:00-02:00 local is closed then. */
    add_seller(f, "S9", 40.987, 29.026, true, "01:00-02:00");
    add_buyer(f, "B1", "+905330000001", 40.9879, 29.026);
    add_buyer(f, "B2", "+905330000002", 40.9900, 29.026);
    struct flash_generated *g;
    size_t n;
    ok(flash_generate(f->c, TENANT, T0, &f->a, &g, &n, &e), &e);
    assert_int_equal(n, 1);
    assert_int_equal(g[0].window_pk, 0);
    assert_string_equal(g[0].reason, "closed at the chosen time");
}

/* Deliveries of `type` for the tenant's endpoints (one endpoint subscribes to everything). */
static int deliveries(struct fx *f, const char *type)
{
    struct db_stmt *s;
    struct err e;
    err_init(&e);
    ok(db_prepare(f->c, &s,
                  "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = ? AND event_type = ?",
                  &e),
       &e);
    db_bind_i64(s, 1, TENANT);
    db_bind_text(s, 2, type);
    int n = db_step(s, &e) == DB_ROW ? (int)db_col_i64(s, 0) : -1;
    db_stmt_done(s);
    return n;
}

static void test_webhook_events(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    struct webhook_endpoint_in in = {
        .url = "https://example.com/hooks", .events = webhooks_event_types, .n_events = 7};
    struct webhook_endpoint ep;
    ok(webhooks_endpoint_create(f->c, TENANT, &in, T0, &f->a, &ep, &e), &e);
    moda(f, true);
    int64_t pk = generate_one(f, "SCHEDULED");
    assert_int_equal(deliveries(f, "window.created"), 1);
    bool created;
    ok(flash_precommit(f->c, TENANT, pk, "B1", T0 + MIN_MS, &created, &e), &e);
    ok(flash_precommit(f->c, TENANT, pk, "B1", T0 + MIN_MS, &created, &e), &e); /* again */
    ok(flash_precommit(f->c, TENANT, pk, "B2", T0 + MIN_MS, &created, &e), &e);
    assert_int_equal(deliveries(f, "precommit.created"), 2);
    /* a refused pre-commit rolls back and emits nothing */
    assert_int_equal(flash_precommit(f->c, TENANT, pk, "NOBODY", T0 + MIN_MS, &created, &e),
                     ERR_NOT_FOUND);
    err_init(&e);
    assert_int_equal(deliveries(f, "precommit.created"), 2);

    struct flash_window w = get_window(f, pk);
    ok(flash_activate(f->c, TENANT, pk, w.start_ms, &e), &e);
    ok(flash_activate(f->c, TENANT, pk, w.start_ms + 1000, &e), &e);
    assert_int_equal(deliveries(f, "window.activated"), 1);
    const char *code, *who;
    ok(flash_join(f->c, TENANT, pk, "B1", w.start_ms + MIN_MS, &f->a, &code, &created, &e), &e);
    ok(flash_redeem(f->c, TENANT, pk, code, w.start_ms + 2 * MIN_MS, &f->a, &who, &e), &e);
    assert_int_equal(deliveries(f, "redemption.created"), 1);
    ok(flash_expire(f->c, TENANT, pk, w.end_ms, &e), &e);
    ok(flash_expire(f->c, TENANT, pk, w.end_ms + 1000, &e), &e);
    assert_int_equal(deliveries(f, "window.expired"), 1);
    assert_int_equal(deliveries(f, "window.cancelled"), 0);

    /* the payload carries the window and, for buyer events, the buyer */
    struct db_stmt *s;
    ok(db_prepare(f->c, &s,
                  "SELECT body FROM webhook_deliveries WHERE tenant_id = ? AND "
                  "event_type = 'redemption.created'",
                  &e),
       &e);
    db_bind_i64(s, 1, TENANT);
    assert_int_equal(db_step(s, &e), DB_ROW);
    char want[64];
    snprintf(want, sizeof(want), "\"window\":{\"id\":%lld,", (long long)pk);
    assert_non_null(strstr(db_col_text(s, 0), want));
    assert_non_null(strstr(db_col_text(s, 0), "\"buyer_id\":\"B1\""));
    db_stmt_done(s);

    /* under its minimum the next window is cancelled */
    int64_t next = generate_one(f, "SCHEDULED");
    w = get_window(f, next);
    ok(flash_activate(f->c, TENANT, next, w.start_ms, &e), &e);
    assert_int_equal(deliveries(f, "window.cancelled"), 1);
    assert_int_equal(deliveries(f, "window.created"), 2);
}

static int window_events;

static void count_window_events(void *ctx, int64_t tenant, const char *type, const char *json)
{
    (void)ctx;
    (void)json;
    if (tenant == TENANT && strcmp(type, "window") == 0)
        window_events++;
}

/* Dashboards hear of a change only once it commits: a rolled-back pre-commit says nothing. */
static void test_events_after_commit_only(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    moda(f, true);
    int64_t pk = generate_one(f, "SCHEDULED");
    window_events = 0;
    events_set_sink(count_window_events, NULL);
    bool created = false;
    ok(db_begin(f->c, &e), &e);
    ok(flash_precommit(f->c, TENANT, pk, "B1", T0 + MIN_MS, &created, &e), &e);
    assert_true(created);
    assert_int_equal(window_events, 0); /* not yet: the caller's transaction is open */
    db_rollback(f->c);
    assert_int_equal(window_events, 0);
    ok(flash_precommit(f->c, TENANT, pk, "B1", T0 + MIN_MS, &created, &e), &e);
    assert_true(created);
    assert_int_equal(window_events, 1);
    events_set_sink(NULL, NULL);
}

/* What generate at `now` did for seller S1: its reason ("" = opened) and the window. */
static const char *generate_s1(struct fx *f, int64_t now, int64_t *pk)
{
    struct err e;
    err_init(&e);
    struct flash_generated *g;
    size_t n;
    ok(flash_generate(f->c, TENANT, now, &f->a, &g, &n, &e), &e);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(g[i].seller_id, "S1") == 0) {
            *pk = g[i].window_pk;
            return g[i].reason;
        }
    }
    fail_msg("S1 not eligible at %lld", (long long)now);
    return NULL;
}

/* Demand that stays alive for the whole test (add_buyer's lasts an hour). */
static void refresh_demand(struct fx *f, int64_t now)
{
    static const char *const ids[] = {"B1", "B2", "B3"};
    struct err e;
    err_init(&e);
    for (size_t i = 0; i < 3; i++) {
        struct flash_demand_in d = {.text = "Latte istiyorum",
                                    .product = "latte",
                                    .category = "coffee",
                                    .currency = "TRY",
                                    .expires_at = now + 60 * MIN_MS};
        int64_t pk;
        ok(flash_buyer_signal(f->c, TENANT, ids[i], &d, now, &pk, &e), &e);
    }
}

/*
 * Respect for a seller who said no: no new question within the cool-down (default 120 min)
 * unless they report idle again; at most max_questions_per_seller_per_day questions a day.
 */
static void test_seller_respect(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    moda(f, false);
    int64_t pk = 0;
    assert_string_equal(generate_s1(f, T0, &pk), "");
    ok(flash_seller_reject(f->c, TENANT, pk, T0 + MIN_MS, &e), &e);

    /* 3 s, then 60 min later: still cooling down, nobody is asked */
    assert_non_null(strstr(generate_s1(f, T0 + MIN_MS + 3000, &pk), "declined"));
    refresh_demand(f, T0 + 60 * MIN_MS);
    assert_non_null(strstr(generate_s1(f, T0 + 61 * MIN_MS, &pk), "declined"));
    /* after the cool-down the engine may ask again */
    refresh_demand(f, T0 + 122 * MIN_MS);
    assert_string_equal(generate_s1(f, T0 + 122 * MIN_MS, &pk), "");
    ok(flash_seller_reject(f->c, TENANT, pk, T0 + 123 * MIN_MS, &e), &e);
    assert_non_null(strstr(generate_s1(f, T0 + 124 * MIN_MS, &pk), "declined"));

    /* reporting idle again lifts the cool-down at once */
    struct flash_supply_in in = {.kind = FLASH_SUPPLY_IDLE,
                                 .text = "Bu saat boşum",
                                 .product = "",
                                 .expires_at = T0 + 200 * MIN_MS};
    int64_t spk;
    ok(flash_seller_signal(f->c, TENANT, "S1", &in, T0 + 125 * MIN_MS, &spk, &e), &e);
    /* ...and is a yes: the window opens without a question, the seller is told and may say no */
    assert_string_equal(generate_s1(f, T0 + 126 * MIN_MS, &pk), "");
    struct flash_window w = get_window(f, pk);
    assert_int_equal(w.status, FLASH_WINDOW_SCHEDULED);
    assert_true(flash_window_on_signal(&w));
    assert_int_equal(messages(f, pk, &flash_msg_question), 0);
    assert_int_equal(messages(f, pk, &flash_msg_opened), 1);
    assert_int_equal(messages(f, pk, &flash_msg_offer), 3);
    int64_t latest = 0;
    ok(flash_store_latest_proposal(f->c, TENANT, get_window(f, pk).seller_pk, &latest, &e), &e);
    assert_int_equal(latest, pk);
    bool created;
    ok(flash_precommit(f->c, TENANT, pk, "B1", T0 + 126 * MIN_MS + 1000, &created, &e), &e);
    ok(flash_seller_reject(f->c, TENANT, pk, T0 + 127 * MIN_MS, &e), &e);
    assert_int_equal(get_window(f, pk).status, FLASH_WINDOW_CANCELLED);
    assert_int_equal(messages(f, pk, &flash_msg_cancelled), 1); /* B1, who had said yes */
    /* that no answers the signal: cooling down again, and no more windows on it */
    assert_non_null(strstr(generate_s1(f, T0 + 128 * MIN_MS, &pk), "declined"));

    /* the daily cap: two questions so far (the signal's window was none); with a cap of 2 the
     * third is not asked */
    struct flash_config cfg;
    ok(flash_store_config_get(f->c, TENANT, &cfg, &e), &e);
    cfg.max_questions_per_seller_per_day = 2;
    cfg.seller_cooldown_minutes = 0;
    ok(flash_store_config_put(f->c, TENANT, &cfg, T0 + 128 * MIN_MS, &e), &e);
    refresh_demand(f, T0 + 130 * MIN_MS);
    assert_non_null(strstr(generate_s1(f, T0 + 130 * MIN_MS, &pk), "asked 2 times today"));
    /* a day after the first question, one has aged out */
    refresh_demand(f, T0 + 1441 * MIN_MS);
    assert_string_equal(generate_s1(f, T0 + 1441 * MIN_MS, &pk), "");
    assert_int_equal(get_window(f, pk).status, FLASH_WINDOW_PROPOSED);
}

/*
 * An ask-first seller who says they want customers (idle, surplus, a promotion, density low) is
 * not asked again; a medium (or busy) report, or an expired signal, still means a question; the
 * daily cap counts questions only.
 */
static void test_seller_signal_is_a_yes(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    moda(f, false);
    struct flash_config cfg;
    ok(flash_store_config_get(f->c, TENANT, &cfg, &e), &e);
    cfg.max_questions_per_seller_per_day = 1;
    cfg.seller_cooldown_minutes = 0;
    ok(flash_store_config_put(f->c, TENANT, &cfg, T0, &e), &e);
    int64_t spk, pk = 0;
    /* a medium density report: a question */
    struct flash_supply_in busy = {.kind = FLASH_SUPPLY_DENSITY,
                                   .has_density = true,
                                   .density = FLASH_DENSITY_MEDIUM,
                                   .text = "Yoğunluk orta",
                                   .product = "",
                                   .expires_at = T0 + 60 * MIN_MS};
    ok(flash_seller_signal(f->c, TENANT, "S1", &busy, T0, &spk, &e), &e);
    assert_string_equal(generate_s1(f, T0, &pk), "");
    assert_int_equal(get_window(f, pk).status, FLASH_WINDOW_PROPOSED);
    assert_int_equal(messages(f, pk, &flash_msg_question), 1);
    ok(flash_seller_cancel(f->c, TENANT, pk, "operator", T0 + MIN_MS, &e), &e);
    /* the cap of one question is reached */
    assert_non_null(strstr(generate_s1(f, T0 + 2 * MIN_MS, &pk), "asked 1 times today"));
    /* "Yoğunluk düşük": a yes, cap or not */
    struct flash_supply_in low = {.kind = FLASH_SUPPLY_DENSITY,
                                  .has_density = true,
                                  .density = FLASH_DENSITY_LOW,
                                  .text = "Yoğunluk düşük",
                                  .product = "",
                                  .expires_at = T0 + 30 * MIN_MS};
    ok(flash_seller_signal(f->c, TENANT, "S1", &low, T0 + 3 * MIN_MS, &spk, &e), &e);
    assert_string_equal(generate_s1(f, T0 + 3 * MIN_MS, &pk), "");
    struct flash_window w = get_window(f, pk);
    assert_int_equal(w.status, FLASH_WINDOW_SCHEDULED);
    assert_non_null(strstr(w.trace_json, "\"approval\":\"signal\""));
    assert_non_null(strstr(w.trace_json, "density low signal"));
    assert_int_equal(messages(f, pk, &flash_msg_opened), 1);
    /* once it is due to start it can no longer be declined (only cancelled) */
    assert_int_equal(flash_seller_reject(f->c, TENANT, pk, w.start_ms + 1, &e), ERR_CONFLICT);
    err_init(&e);
    ok(flash_seller_cancel(f->c, TENANT, pk, "closing early", w.start_ms + 2, &e), &e);
    /* the signal has expired: a question again, and the cap holds */
    refresh_demand(f, T0 + 40 * MIN_MS);
    assert_non_null(strstr(generate_s1(f, T0 + 40 * MIN_MS, &pk), "asked 1 times today"));
}

/* A buyer targeted by an open window is not targeted by another that overlaps it. */
/* prepay_default holds for the engine's windows: prepaid when the seller has prices, none without.
 */
static void test_engine_prepay_default(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    moda(f, true);
    struct flash_config cfg;
    ok(flash_store_config_get(f->c, TENANT, &cfg, &e), &e);
    cfg.prepay_default = 1;
    ok(flash_store_config_put(f->c, TENANT, &cfg, T0, &e), &e);
    struct flash_generated *g;
    size_t n;
    ok(flash_generate(f->c, TENANT, T0, &f->a, &g, &n, &e), &e);
    int skipped = 0;
    for (size_t i = 0; i < n; i++) {
        assert_string_not_equal(g[i].reason, "");
        skipped += strstr(g[i].reason, "prepay_default") != NULL;
    }
    assert_int_equal(skipped, 1);
    /* the seller gives prices: the window opens, prepaid */
    struct flash_seller s;
    ok(flash_store_seller_get(f->c, TENANT, "S1", false, &f->a, &s, &e), &e);
    s.price_min = 3000;
    s.price_max = 6000;
    bool created;
    ok(flash_seller_register(f->c, TENANT, &s, T0, &f->a, &created, &e), &e);
    int64_t pk = generate_one(f, "SCHEDULED");
    assert_true(get_window(f, pk).prepay);
}

static void test_no_overlapping_offers(void **state)
{
    struct fx *f = *state;
    moda(f, true);
    add_seller(f, "S2", 40.9875, 29.027, true, "");
    struct err e;
    err_init(&e);
    struct flash_generated *g;
    size_t n;
    ok(flash_generate(f->c, TENANT, T0, &f->a, &g, &n, &e), &e);
    int opened = 0, skipped_overlap = 0;
    for (size_t i = 0; i < n; i++) {
        opened += g[i].reason[0] == '\0';
        skipped_overlap += strstr(g[i].reason, "overlapping") != NULL;
    }
    assert_int_equal(opened, 1);
    assert_int_equal(skipped_overlap, 1);
}

/* An operator's window for one named buyer needs that one buyer, not the config's 2. */
static void test_manual_minimum(void **state)
{
    struct fx *f = *state;
    moda(f, true);
    struct err e;
    err_init(&e);
    const char *one[] = {"B1"};
    struct flash_manual m = {.seller_id = "S1", .buyer_ids = one, .n_buyer_ids = 1};
    int64_t pk;
    ok(flash_window_create(f->c, TENANT, &m, T0, &f->a, &pk, &e), &e);
    assert_int_equal(get_window(f, pk).min_participants, 1);
    assert_string_equal(m.warnings_json, "[]");
    bool created;
    ok(flash_precommit(f->c, TENANT, pk, "B1", T0 + MIN_MS, &created, &e), &e);
    ok(flash_activate(f->c, TENANT, pk, get_window(f, pk).start_ms, &e), &e);
    assert_int_equal(get_window(f, pk).status, FLASH_WINDOW_ACTIVE);

    /* an explicit minimum above the named buyers is kept, with a warning */
    add_seller(f, "S2", 40.9875, 29.027, true, "");
    struct flash_manual m2 = {
        .seller_id = "S2", .buyer_ids = one, .n_buyer_ids = 1, .min_participants = 3};
    ok(flash_window_create(f->c, TENANT, &m2, T0 + 20 * MIN_MS, &f->a, &pk, &e), &e);
    assert_int_equal(get_window(f, pk).min_participants, 3);
    assert_non_null(strstr(m2.warnings_json, "more than the 1 targeted"));
}

/* generate's options: an exact lead, a length, and only the sellers asked for. */
static void test_generate_options(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    moda(f, true);
    add_seller(f, "S2", 40.9875, 29.027, true, "");
    const char *only[] = {"S2"};
    struct flash_generate_opts o = {.has_lead = true,
                                    .lead_ms = 90 * 1000,
                                    .minutes = 25,
                                    .seller_ids = only,
                                    .n_seller_ids = 1};
    struct flash_generated *g;
    size_t n;
    ok(flash_generate_with(f->c, TENANT, &o, T0, &f->a, &g, &n, &e), &e);
    assert_int_equal(n, 1);
    assert_string_equal(g[0].seller_id, "S2");
    if (!g[0].window_pk)
        fail_msg("S2 got no window: %s", g[0].reason);
    struct flash_window w = get_window(f, g[0].window_pk);
    assert_int_equal(w.start_ms, T0 + 90 * 1000);
    assert_int_equal(w.end_ms, w.start_ms + 25 * MIN_MS);
    assert_non_null(strstr(w.description, "25 dakikalık"));
    /*
     * S1 was not touched by the options: asked alone, with S2's window gone (its buyers cannot
     * be in two overlapping windows), it gets the default length and at least the default lead.
     */
    ok(flash_seller_cancel(f->c, TENANT, g[0].window_pk, "", T0 + 1, &e), &e);
    const char *s1_only[] = {"S1"};
    struct flash_generate_opts plain = {.seller_ids = s1_only, .n_seller_ids = 1};
    ok(flash_generate_with(f->c, TENANT, &plain, T0 + 2, &f->a, &g, &n, &e), &e);
    bool s1 = false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(g[i].seller_id, "S1") == 0) {
            if (!g[i].window_pk)
                fail_msg("S1 got no window: %s", g[i].reason);
            w = get_window(f, g[i].window_pk);
            assert_int_equal(w.end_ms, w.start_ms + 10 * MIN_MS); /* the default length */
            assert_true(w.start_ms >= T0 + 2 + 5 * MIN_MS);       /* at least the default lead */
            s1 = true;
        }
    }
    assert_true(s1);
    /* an unknown seller, and out-of-range options, name their field */
    const char *nope[] = {"S2", "S9"};
    struct flash_generate_opts bad = {.seller_ids = nope, .n_seller_ids = 2};
    err_init(&e);
    assert_int_equal(flash_generate_with(f->c, TENANT, &bad, T0, &f->a, &g, &n, &e), ERR_NOT_FOUND);
    assert_string_equal(e.field, "seller_ids[1]");
    struct flash_generate_opts late = {.has_lead = true, .lead_ms = -1};
    err_init(&e);
    assert_int_equal(flash_generate_with(f->c, TENANT, &late, T0, &f->a, &g, &n, &e), ERR_INVALID);
    assert_string_equal(e.field, "lead_seconds");
    struct flash_generate_opts longw = {.minutes = FLASH_WINDOW_MAX_MINUTES + 1};
    err_init(&e);
    assert_int_equal(flash_generate_with(f->c, TENANT, &longw, T0, &f->a, &g, &n, &e), ERR_INVALID);
    assert_string_equal(e.field, "duration_minutes");
}

/* What a seller's signal means: fields first, then the words; nothing → signal_type. */
/* A prepaid window's price: its static price, else the middle of the seller's range less the
 * window's discount (a visit's price); none known, refused naming prepay. */
static void test_prepay_price(void **state)
{
    (void)state;
    struct flash_window w = {.discount_percent = 25};
    struct flash_seller s = {.price_min = 3000, .price_max = 6000};
    int64_t amount = -1, list = -1;
    struct err e;
    err_init(&e);
    /* (3000 + 6000) / 2 = 4500 less 25 % */
    assert_int_equal(flash_prepay_price(&w, &s, &amount, &list, &e), 0);
    assert_true(amount == 3375 && list == 4500);
    /* one end of the range only */
    s.price_min = 0;
    s.price_max = 999;
    w.discount_percent = 0;
    assert_int_equal(flash_prepay_price(&w, &s, &amount, &list, &e), 0);
    assert_true(amount == 999 && list == 999);
    /* a static price wins */
    w.static_price = 2500;
    assert_int_equal(flash_prepay_price(&w, &s, &amount, &list, &e), 0);
    assert_true(amount == 2500);
    /* nothing to charge: no static price and a seller without prices */
    w.static_price = 0;
    s.price_min = s.price_max = 0;
    w.discount_percent = 25;
    assert_int_equal(flash_prepay_price(&w, &s, &amount, &list, &e), ERR_INVALID);
    assert_string_equal(e.field, "prepay");
}

static void test_supply_derive(void **state)
{
    (void)state;
    enum { NONE = -1 };
    static const struct {
        int signal_type, density, stock;
        const char *text;
        int want_kind;    /* or NONE: refused */
        int want_density; /* or NONE: not reported */
        const char *want_field;
        const char *want_product;
    } cases[] = {
        /* the seed driver's shapes: the seller's fields with the words */
        {NONE, FLASH_DENSITY_LOW, 0, "Yoğunluk düşük, stok fazlası ürün var", FLASH_SUPPLY_SURPLUS,
         FLASH_DENSITY_LOW, "", ""},
        {NONE, FLASH_DENSITY_MEDIUM, 2, "Normal yoğunluk, promosyon ürünümüz var",
         FLASH_SUPPLY_PROMOTION, FLASH_DENSITY_MEDIUM, "", ""},
        {NONE, FLASH_DENSITY_HIGH, 1, "Kalabalık, stok kritik", FLASH_SUPPLY_DENSITY,
         FLASH_DENSITY_HIGH, "", ""},
        {NONE, FLASH_DENSITY_MEDIUM, NONE, "Yoğunluk orta", FLASH_SUPPLY_DENSITY,
         FLASH_DENSITY_MEDIUM, "", ""},
        /* words alone */
        {NONE, NONE, NONE, "Bu saat boşum", FLASH_SUPPLY_IDLE, FLASH_DENSITY_LOW, "", ""},
        {NONE, NONE, NONE, "Şu an çok yoğunuz", FLASH_SUPPLY_DENSITY, FLASH_DENSITY_HIGH, "", ""},
        {NONE, NONE, NONE, "Stok fazlası simit var", FLASH_SUPPLY_SURPLUS, NONE, "", "simit"},
        /* an explicit signal_type wins, and words that disagree do not set the density */
        {FLASH_SUPPLY_IDLE, NONE, NONE, "çok yoğunuz", FLASH_SUPPLY_IDLE, FLASH_DENSITY_LOW, "",
         ""},
        {FLASH_SUPPLY_PROMOTION, NONE, NONE, "", FLASH_SUPPLY_PROMOTION, NONE, "", ""},
        /* nothing to derive */
        {NONE, NONE, NONE, "", NONE, NONE, "signal_type", ""},
        {NONE, NONE, NONE, "merhaba", NONE, NONE, "signal_type", ""},
        {NONE, NONE, 1, "", NONE, NONE, "signal_type", ""}, /* critical stock alone says nothing */
        {FLASH_SUPPLY_DENSITY, NONE, NONE, "", NONE, NONE, "density_status", ""},
        {NONE, NONE, NONE, "\xff\xfe", NONE, NONE, "text", ""},
    };
    struct arena a;
    arena_init(&a);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct flash_supply_given g = {.signal_type = cases[i].signal_type,
                                       .density = cases[i].density,
                                       .stock = cases[i].stock,
                                       .text = cases[i].text,
                                       .product = "",
                                       .expires_at = T0 + MIN_MS};
        struct flash_supply_in s;
        struct err e;
        err_init(&e);
        int rc = flash_supply_derive(&g, &a, &s, NULL, &e);
        if (cases[i].want_kind == NONE) {
            if (!rc || strcmp(e.field, cases[i].want_field) != 0)
                fail_msg("case %zu: rc %d field \"%s\", want %s", i, rc, e.field,
                         cases[i].want_field);
            continue;
        }
        if (rc)
            fail_msg("case %zu: %s", i, e.msg);
        if ((int)s.kind != cases[i].want_kind)
            fail_msg("case %zu: kind %s, want %s", i, flash_supply_names[s.kind],
                     flash_supply_names[cases[i].want_kind]);
        assert_int_equal(s.has_density, cases[i].want_density != NONE);
        if (s.has_density)
            assert_int_equal(s.density, cases[i].want_density);
        assert_string_equal(s.product, cases[i].want_product);
        assert_int_equal(s.expires_at, T0 + MIN_MS);
        if (cases[i].stock != NONE)
            assert_string_equal(s.stock_status, flash_stock_names[cases[i].stock]);
        else
            assert_null(s.stock_status);
    }
    arena_release(&a);
}

/* A buyer's words fill the category and product they name; what was given wins. */
static void test_demand_understand(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct err e;
    err_init(&e);
    struct flash_demand_in d = {.text = "Latte istiyorum", .product = "", .category = ""};
    assert_int_equal(flash_demand_understand(&d, &a, NULL, &e), 0);
    assert_string_equal(d.category, "coffee");
    assert_string_equal(d.product, "latte");
    struct flash_demand_in given = {.text = "Latte istiyorum", .product = "", .category = "bakery"};
    assert_int_equal(flash_demand_understand(&given, &a, NULL, &e), 0);
    assert_string_equal(given.category, "bakery");
    assert_string_equal(given.product, "latte");
    struct flash_demand_in vague = {.text = "merhaba", .product = "", .category = ""};
    assert_int_equal(flash_demand_understand(&vague, &a, NULL, &e), 0);
    assert_string_equal(vague.category, "");
    arena_release(&a);
}

/* ======================== one person, one customer ======================== */

static int64_t customer_of(struct fx *f, const char *order_id, const char **customer_id)
{
    struct err e;
    err_init(&e);
    struct commerce_order o;
    ok(commerce_store_order_get(f->c, TENANT, order_id, &f->a, &o, &e), &e);
    *customer_id = o.customer_id;
    return o.customer_pk;
}

static void test_visit_becomes_order(void **state)
{
    struct fx *f = *state;
    struct err e;
    err_init(&e);
    moda(f, true);
    /* the shop already knows B2 as a customer, by the same phone */
    struct commerce_customer known = {.source = "shop",
                                      .external_id = "C-2",
                                      .name = "Ayşe",
                                      .phone = "+905330000002",
                                      .is_active = true};
    ok(commerce_store_customer_create(f->c, TENANT, &known, T0, &f->a, &e), &e);
    int64_t pk = generate_one(f, "SCHEDULED");
    struct flash_window w = get_window(f, pk);
    bool created;
    ok(flash_precommit(f->c, TENANT, pk, "B1", T0 + MIN_MS, &created, &e), &e);
    ok(flash_precommit(f->c, TENANT, pk, "B2", T0 + MIN_MS, &created, &e), &e);
    ok(flash_activate(f->c, TENANT, pk, w.start_ms, &e), &e);
    w = get_window(f, pk);
    assert_true(w.discount_percent > 0 && w.discount_percent < 100);

    const char *c1, *c2;
    ok(flash_join(f->c, TENANT, pk, "B1", w.start_ms + MIN_MS, &f->a, &c1, &created, &e), &e);
    ok(flash_join(f->c, TENANT, pk, "B2", w.start_ms + MIN_MS, &f->a, &c2, &created, &e), &e);

    /* a malformed amount is refused before anything is written: the code stays unused */
    struct flash_redemption r;
    assert_int_equal(
        flash_redeem_visit(f->c, TENANT, pk, c1, "45,00", w.start_ms + 2 * MIN_MS, &f->a, &r, &e),
        ERR_INVALID);
    assert_string_equal(e.field, "amount");
    err_init(&e);
    assert_int_equal(count_sql(f, "SELECT count(*) FROM orders"), 0);

    /* B1 is new to the shop: a customer is made from the buyer, and the order has the amount */
    ok(flash_redeem_visit(f->c, TENANT, pk, c1, "45.00", w.start_ms + 2 * MIN_MS, &f->a, &r, &e),
       &e);
    assert_string_equal(r.buyer_id, "B1");
    struct commerce_order o;
    ok(commerce_store_order_get(f->c, TENANT, r.order_id, &f->a, &o, &e), &e);
    assert_int_equal(o.status, COMMERCE_ORDER_FULFILLED);
    assert_int_equal(o.total_amount, 4500);
    assert_string_equal(o.currency->code, "TRY");
    assert_string_equal(o.source, "flash");
    assert_string_equal(o.campaign, arena_printf(&f->a, "flash-window-%lld", (long long)pk));
    assert_int_equal(o.n_items, 1);
    assert_int_equal(o.items[0].quantity, 1);
    assert_int_equal(o.items[0].unit_price, 4500);
    /* the price before the window's discount */
    assert_int_equal(o.items[0].list_price,
                     (4500 * 100 + (100 - w.discount_percent) / 2) / (100 - w.discount_percent));
    struct commerce_customer cu;
    ok(commerce_store_customer_get(f->c, TENANT, r.customer_id, &f->a, &cu, &e), &e);
    assert_string_equal(cu.source, "flash");
    assert_string_equal(cu.external_id, "B1");
    assert_string_equal(cu.phone, "+905330000001");
    assert_string_equal(cu.name, "B1");
    const char *cid;
    assert_int_equal(customer_of(f, r.order_id, &cid), cu.pk);

    /* B2 is the customer the shop knew; no price was said and none is known: 0, no list price */
    ok(flash_redeem_visit(f->c, TENANT, pk, c2, NULL, w.start_ms + 3 * MIN_MS, &f->a, &r, &e), &e);
    ok(commerce_store_customer_get(f->c, TENANT, known.id, &f->a, &cu, &e), &e);
    assert_string_equal(r.customer_id, known.id);
    ok(commerce_store_order_get(f->c, TENANT, r.order_id, &f->a, &o, &e), &e);
    assert_int_equal(o.customer_pk, cu.pk);
    assert_int_equal(o.total_amount, 0);
    assert_int_equal(o.items[0].list_price, 0);

    /* a code redeemed twice is a conflict and makes no second order */
    assert_int_equal(
        flash_redeem_visit(f->c, TENANT, pk, c2, "10.00", w.start_ms + 4 * MIN_MS, &f->a, &r, &e),
        ERR_CONFLICT);
    err_init(&e);
    assert_int_equal(count_sql(f, "SELECT count(*) FROM orders"), 2);
    assert_int_equal(count_sql(f, "SELECT count(*) FROM customer"), 2);
    /* both visits are the same product of the same seller, in the seller's category */
    assert_int_equal(count_sql(f, "SELECT count(*) FROM product"), 1);
    assert_int_equal(count_sql(f, "SELECT count(*) FROM category WHERE name = 'coffee'"), 1);

    /* the buyer stays linked to their customer even when another customer takes the phone */
    struct flash_buyer b1;
    ok(flash_store_buyer_get(f->c, TENANT, "B1", false, &f->a, &b1, &e), &e);
    int64_t again = 0;
    const char *again_id;
    ok(visit_customer(f->c, TENANT, &b1, T0, &f->a, &again, &again_id, &created, &e), &e);
    assert_false(created);
    assert_string_equal(again_id, cid);
}

/* The price rule, case by case (visit_order.h). */
static void test_visit_price(void **state)
{
    (void)state;
    struct flash_window w = {.discount_percent = 20};
    struct flash_seller s = {.price_min = 4000, .price_max = 6001};
    int64_t unit, list;
    visit_price(&w, &s, 3600, &unit, &list); /* said at redemption */
    assert_int_equal(unit, 3600);
    assert_int_equal(list, 4500);
    w.static_price = 4000; /* the window's fixed price */
    visit_price(&w, &s, -1, &unit, &list);
    assert_int_equal(unit, 4000);
    assert_int_equal(list, 5000);
    w.static_price = 0; /* the middle of the range (5000.5 → 5001), less 20 % */
    visit_price(&w, &s, -1, &unit, &list);
    assert_int_equal(list, 5001);
    assert_int_equal(unit, 4001);
    s.price_max = 0; /* only a minimum */
    visit_price(&w, &s, -1, &unit, &list);
    assert_int_equal(list, 4000);
    assert_int_equal(unit, 3200);
    w.discount_percent = 0;
    visit_price(&w, &s, -1, &unit, &list);
    assert_int_equal(unit, 4000);
    assert_int_equal(list, 4000);
    s.price_min = 0; /* nobody knows */
    visit_price(&w, &s, -1, &unit, &list);
    assert_int_equal(unit, 0);
    assert_int_equal(list, 0);
}

int main(void)
{
    log_set_level(LOG_WARN);
    sec_password_set_cost(SEC_PWHASH_MIN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_life, setup, teardown),
        cmocka_unit_test_setup_teardown(test_under_minimum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ask_first_unanswered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ask_first_approved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_closed_seller_gets_no_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_webhook_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_after_commit_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seller_respect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seller_signal_is_a_yes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_overlapping_offers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_prepay_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manual_minimum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generate_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_activate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_precommit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_redeem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faults_leave_nothing_behind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_learning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seller_statement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_category_fee, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_moves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visit_becomes_order, setup, teardown),
        cmocka_unit_test(test_visit_price),
        cmocka_unit_test(test_supply_derive),
        cmocka_unit_test(test_prepay_price),
        cmocka_unit_test(test_demand_understand),
    };
    return TESTDB_RUN_GROUPS("flash_service", tests, &backend);
}
