/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/payments/payments_store.c and payments_apply (payments_service.h)
 * on SQLite and, with TEST_PG_DSN, PostgreSQL: Idempotency-Key records (new, resumed, replayed,
 * another request under the same key, per tenant), payments per tenant, a transition that lost
 * a race, and the order's side of the state machine: paid once with its hooks run once, then
 * partially refunded and refunded, each change in the order's history with its cause.
 */
#include "domain/payments/payments_service.h"
#include "domain/payments/payments_store.h"
#include "core/xalloc.h"
#include "db/store.h"
#include "domain/account/account.h"
#include "domain/commerce/commerce_store.h"
#include "domain/commerce/order_hooks.h"
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
    struct commerce_order order;
};

static enum db_backend backend;
static int hook_calls;

static int count_hook(struct db_conn *conn, int64_t tenant, int64_t order_pk, struct err *e)
{
    (void)conn;
    (void)tenant;
    (void)order_pk;
    (void)e;
    hook_calls++;
    return 0;
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->db = testdb_open_migrated(&f->t, backend, "pstore", NULL);
    f->c = testdb_acquire(f->db);
    arena_init(&f->a);
    OK(account_tenant_create(f->c, "one", NOW, &f->t1, e));
    OK(account_tenant_create(f->c, "two", NOW, &f->t2, e));
    struct commerce_customer cu = {.source = "api", .email = "a@example.com", .is_active = true};
    OK(commerce_store_customer_create(f->c, f->t1, &cu, NOW, &f->a, e));
    struct commerce_product pr = {.source = "api", .name = "Ayran", .has_price = true};
    OK(money_from_minor(1250, "TRY", &pr.price, e));
    OK(commerce_store_product_create(f->c, f->t1, &pr, NOW, &f->a, e));
    static struct commerce_item item;
    item = (struct commerce_item){.product_id = pr.id, .quantity = 2, .unit_price = 1250};
    f->order = (struct commerce_order){.source = "api",
                                       .customer_id = cu.id,
                                       .status = COMMERCE_ORDER_PENDING,
                                       .items = &item,
                                       .n_items = 1};
    OK(money_currency_find("TRY", &f->order.currency, e));
    OK(commerce_store_order_create(f->c, f->t1, &f->order, NOW, &f->a, e));
    order_hooks_reset();
    hook_calls = 0;
    OK(order_hooks_add_paid("test", count_hook, e));
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    order_hooks_reset();
    arena_release(&f->a);
    db_conn_release(f->c);
    db_close(f->db);
    testdb_remove(&f->t);
    free(f);
    return 0;
}

static void test_idempotency(void **state)
{
    struct fixture *f = *state;
    struct payments_idem idem;
    OK(payments_store_idem_begin(f->c, f->t1, "key-1", "hash-a", NOW, &f->a, &idem, e));
    assert_int_equal(idem.state, PAYMENTS_IDEM_NEW);
    /* the same request again before an answer: resumed, with the resource it made */
    OK(payments_store_idem_resource(f->c, f->t1, "key-1", 42, e));
    OK(payments_store_idem_begin(f->c, f->t1, "key-1", "hash-a", NOW, &f->a, &idem, e));
    assert_int_equal(idem.state, PAYMENTS_IDEM_RESUME);
    assert_int_equal(idem.resource_pk, 42);
    /* answered: replayed as it was */
    OK(payments_store_idem_finish(f->c, f->t1, "key-1", 201, "{\"id\":\"pay_x\"}", e));
    OK(payments_store_idem_begin(f->c, f->t1, "key-1", "hash-a", NOW, &f->a, &idem, e));
    assert_int_equal(idem.state, PAYMENTS_IDEM_REPLAY);
    assert_int_equal(idem.status, 201);
    assert_string_equal(idem.body, "{\"id\":\"pay_x\"}");
    /* another request under the key */
    OK(payments_store_idem_begin(f->c, f->t1, "key-1", "hash-b", NOW, &f->a, &idem, e));
    assert_int_equal(idem.state, PAYMENTS_IDEM_MISMATCH);
    /* keys are per tenant */
    OK(payments_store_idem_begin(f->c, f->t2, "key-1", "hash-b", NOW, &f->a, &idem, e));
    assert_int_equal(idem.state, PAYMENTS_IDEM_NEW);
}

static void test_payments_per_tenant(void **state)
{
    struct fixture *f = *state;
    struct money amount = {f->order.total_amount, f->order.currency};
    struct payment p, got;
    OK(payments_store_create(f->c, f->t1, f->order.pk, PAYMENT_STRIPE, &amount, NOW, &f->a, &p, e));
    assert_true(strncmp(p.id, "pay_", 4) == 0);
    assert_int_equal(p.state.status, PAYMENT_CREATED);
    assert_int_equal(p.state.amount, 2500);
    assert_string_equal(p.order_id, f->order.id);
    OK(payments_store_set_opened(f->c, f->t1, p.pk, "pi_1", "pi_1_secret", NULL, NOW, e));
    bool found = false;
    OK(payments_store_find_ref(f->c, f->t1, PAYMENT_STRIPE, "pi_1", &f->a, &got, &found, e));
    assert_true(found);
    assert_string_equal(got.client_secret, "pi_1_secret");
    OK(payments_store_find_ref(f->c, f->t2, PAYMENT_STRIPE, "pi_1", &f->a, &got, &found, e));
    assert_false(found);
    FAILS(ERR_NOT_FOUND, payments_store_get(f->c, f->t2, p.id, &f->a, &got, e));
    assert_string_equal(check_last.field, "id");
    /* a transition from a state the row is no longer in lost a race */
    struct payment_state from = p.state, to = p.state;
    to.status = PAYMENT_PENDING;
    OK(payments_store_transition(f->c, f->t1, p.pk, &from, &to, "api", "", NOW, e));
    FAILS(ERR_CONFLICT,
          payments_store_transition(f->c, f->t1, p.pk, &from, &to, "api", "", NOW, e));
    struct payment_history_row *h;
    size_t n;
    OK(payments_store_history(f->c, f->t1, p.pk, &f->a, &h, &n, e));
    assert_int_equal(n, 1);
    assert_string_equal(h[0].to_status, "pending");
}

static const char *order_status(struct fixture *f)
{
    enum commerce_order_status st;
    OK(commerce_store_order_status(f->c, f->t1, f->order.pk, &st, e));
    return commerce_order_status_names[st];
}

static void apply(struct fixture *f, int64_t pk, enum payment_event_kind k, int64_t refunded,
                  const char *cause)
{
    OK(db_begin(f->c, e));
    OK(payments_apply(f->c, f->t1, pk, &(struct payment_event){k, refunded}, cause, "", NOW, &f->a,
                      e));
    OK(db_commit(f->c, e));
}

static void test_apply_moves_the_order(void **state)
{
    struct fixture *f = *state;
    struct money amount = {f->order.total_amount, f->order.currency};
    struct payment p;
    OK(payments_store_create(f->c, f->t1, f->order.pk, PAYMENT_STRIPE, &amount, NOW, &f->a, &p, e));
    apply(f, p.pk, PAYMENT_EV_OPENED, 0, "api");
    assert_string_equal(order_status(f), "pending");
    apply(f, p.pk, PAYMENT_EV_SUCCEEDED, 0, "webhook");
    apply(f, p.pk, PAYMENT_EV_SUCCEEDED, 0, "webhook");
    apply(f, p.pk, PAYMENT_EV_FAILED, 0, "webhook");
    assert_string_equal(order_status(f), "paid");
    assert_int_equal(hook_calls, 1);
    apply(f, p.pk, PAYMENT_EV_REFUNDED, 1000, "refund");
    assert_string_equal(order_status(f), "partially_refunded");
    apply(f, p.pk, PAYMENT_EV_REFUNDED, 500, "webhook"); /* an older total */
    assert_string_equal(order_status(f), "partially_refunded");
    apply(f, p.pk, PAYMENT_EV_REFUNDED, 2500, "refund");
    assert_string_equal(order_status(f), "refunded");
    assert_int_equal(hook_calls, 1);
    struct db_stmt *s;
    int64_t rows = 0;
    bool found;
    OK(db_prepare(f->c, &s,
                  "SELECT count(*) FROM order_status_history WHERE tenant_id = ? AND order_id = ?",
                  e));
    db_bind_i64(s, 1, f->t1);
    db_bind_i64(s, 2, f->order.pk);
    OK(db_one_i64(s, &rows, &found, e));
    assert_int_equal(rows, 3); /* paid, partially_refunded, refunded */
    OK(db_prepare(f->c, &s,
                  "SELECT count(*) FROM jobs WHERE tenant_id = ? AND name = 'payments.paid_notice'",
                  e));
    db_bind_i64(s, 1, f->t1);
    OK(db_one_i64(s, &rows, &found, e));
    assert_int_equal(rows, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payments_per_tenant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_moves_the_order, setup, teardown),
    };
    return TESTDB_RUN_GROUPS("payments_store", tests, &backend) ? 1 : 0;
}
