/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/integrations/inbound_ledger.c: an event is stored with its job in one
 * transaction, a redelivery is acknowledged and not acted on again (a changed body is noticed),
 * a rolled-back record leaves nothing, and the job hands each event to its provider's handler
 * exactly once (no handler: ignored; a failing handler: retried, nothing half-done).
 * Runs on SQLite and, with TEST_PG_DSN, on PostgreSQL.
 */
#include "integrations/inbound_ledger.h"
#include "domain/account/account.h"
#include "core/xalloc.h"
#include "jobs/queue.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOW 1795252200000 /* 2026-11-21T09:10:00Z */

struct fixture {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    struct arena a;
    int64_t tenant;
};

static enum db_backend backend;

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    struct db_options o = {.pool_size = 8};
    f->db = testdb_open_migrated(&f->t, backend, "ledger", &o);
    f->c = testdb_acquire(f->db);
    arena_init(&f->a);
    struct err e;
    err_init(&e);
    assert_int_equal(account_tenant_create(f->c, "shop", NOW, &f->tenant, &e), 0);
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

static long long count(struct fixture *f, const char *sql)
{
    struct err e;
    err_init(&e);
    struct db_stmt *s;
    assert_int_equal(db_prepare(f->c, &s, sql, &e), 0);
    assert_int_equal(db_step(s, &e), DB_ROW);
    long long n = db_col_i64(s, 0);
    db_stmt_done(s);
    return n;
}

static const char BODY[] = "{\"id\":\"evt_1\",\"type\":\"payment_intent.succeeded\"}";

static void test_record_and_dedupe(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    int64_t id = 0, id2 = 0;
    bool dup = true, changed = true;
    assert_int_equal(inbound_record(f->c, f->tenant, "stripe", "evt_1", "payment_intent.succeeded",
                                    BODY, strlen(BODY), NOW, &id, &dup, &changed, &e),
                     0);
    assert_true(id > 0);
    assert_false(dup);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM jobs WHERE name = 'integrations.event'"), 1);
    /* the same delivery again: acknowledged, nothing new to do */
    assert_int_equal(inbound_record(f->c, f->tenant, "stripe", "evt_1", "payment_intent.succeeded",
                                    BODY, strlen(BODY), NOW + 5, &id2, &dup, &changed, &e),
                     0);
    assert_true(dup);
    assert_false(changed);
    assert_int_equal(id2, id);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM jobs WHERE name = 'integrations.event'"), 1);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM inbound_events"), 1);
    /* the same id with another body: still not acted on, but noticed */
    assert_int_equal(inbound_record(f->c, f->tenant, "stripe", "evt_1", "", "{}", 2, NOW + 6, &id2,
                                    &dup, &changed, &e),
                     0);
    assert_true(dup);
    assert_true(changed);
    struct inbound_event ev;
    assert_int_equal(inbound_get(f->c, f->tenant, id, &f->a, &ev, &e), 0);
    assert_int_equal(ev.duplicates, 2);
    assert_string_equal(ev.body, BODY);
    assert_string_equal(ev.status, "received");
    assert_int_equal(strlen(ev.body_sha256), 64);
    /* the same id from another provider is another event */
    assert_int_equal(inbound_record(f->c, f->tenant, "shopify", "evt_1", "orders/create", BODY,
                                    strlen(BODY), NOW, &id2, &dup, &changed, &e),
                     0);
    assert_false(dup);
    /* another tenant cannot read it */
    int64_t other = 0;
    assert_int_equal(account_tenant_create(f->c, "other", NOW, &other, &e), 0);
    assert_int_equal(inbound_get(f->c, other, id, &f->a, &ev, &e), ERR_NOT_FOUND);
}

static void test_rollback_leaves_nothing(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    assert_int_equal(db_begin(f->c, &e), 0);
    int64_t id;
    bool dup, changed;
    assert_int_equal(inbound_record(f->c, f->tenant, "stripe", "evt_9", "x", BODY, strlen(BODY),
                                    NOW, &id, &dup, &changed, &e),
                     0);
    db_rollback(f->c);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM inbound_events"), 0);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM jobs"), 0);
    /* bad ids are refused before anything is written */
    assert_int_equal(inbound_record(f->c, f->tenant, "stripe", "", "x", BODY, strlen(BODY), NOW,
                                    &id, &dup, &changed, &e),
                     ERR_INVALID);
    assert_string_equal(e.field, "event_id");
}

static atomic_int handled;
static atomic_int failures_left;

static int stripe_handler(struct db_conn *c, const struct inbound_event *ev, struct arena *a,
                          int64_t now_ms, struct err *e)
{
    (void)a;
    (void)now_ms;
    /* a write of the handler's own, to show it commits with the event's status */
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO settings (name, value, updated_at) VALUES (?, 'x', "
                        "'2026-01-01T00:00:00.000Z')",
                        e);
    if (rc)
        return rc;
    char name[64];
    snprintf(name, sizeof(name), "handled:%s", ev->event_id);
    db_bind_text(s, 1, name);
    if (db_step(s, e) == DB_ERROR)
        rc = db_step_error(e);
    db_stmt_done(s);
    if (!rc && atomic_fetch_sub(&failures_left, 1) > 0)
        return err_set(e, ERR_UPSTREAM, "handler failed on purpose");
    if (!rc)
        atomic_fetch_add(&handled, 1);
    return rc;
}

static void wait_status(struct fixture *f, int64_t id, const char *want)
{
    struct err e;
    for (int i = 0; i < 1000; i++) {
        struct inbound_event ev;
        err_init(&e);
        struct arena a;
        arena_init(&a);
        assert_int_equal(inbound_get(f->c, f->tenant, id, &a, &ev, &e), 0);
        bool done = strcmp(ev.status, want) == 0;
        arena_release(&a);
        if (done)
            return;
        usleep(10 * 1000);
    }
    fail_msg("event %lld never became %s", (long long)id, want);
}

static void test_job_hands_events_to_handlers(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    static const struct inbound_handler handlers[] = {{"stripe", stripe_handler}};
    struct job_registry *reg = job_registry_new();
    assert_int_equal(inbound_jobs_register(reg, handlers, 1, &e), 0);
    atomic_store(&handled, 0);
    atomic_store(&failures_left, 1); /* the first run fails and rolls back */
    int64_t a_id, b_id;
    bool dup, changed;
    assert_int_equal(inbound_record(f->c, f->tenant, "stripe", "evt_a", "charge.refunded", BODY,
                                    strlen(BODY), NOW, &a_id, &dup, &changed, &e),
                     0);
    assert_int_equal(inbound_record(f->c, f->tenant, "woocommerce", "d-1", "order.updated", BODY,
                                    strlen(BODY), NOW, &b_id, &dup, &changed, &e),
                     0);
    struct job_workers_options o = {.threads = 2, .poll_ms = 10, .backoff_base_ms = 20};
    struct job_workers *w;
    assert_int_equal(job_workers_start(f->db, reg, NULL, &o, &w, &e), 0);
    wait_status(f, a_id, "processed");
    wait_status(f, b_id, "ignored");
    job_workers_stop(w, 2000);
    job_registry_free(reg);
    /* handled once; the failed run's write rolled back with it */
    assert_int_equal(atomic_load(&handled), 1);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM settings WHERE name = 'handled:evt_a'"), 1);
    struct inbound_event ev;
    assert_int_equal(inbound_get(f->c, f->tenant, b_id, &f->a, &ev, &e), 0);
    assert_non_null(strstr(ev.error, "no handler"));
    assert_true(ev.processed_at > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_record_and_dedupe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_hands_events_to_handlers, setup, teardown),
    };
    return TESTDB_RUN_GROUPS("inbound_ledger", tests, &backend) ? 1 : 0;
}
