/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the connection guard (src/http/connguard.c): head deadlines, the body's
 * minimum rate, no deadline while busy, fresh deadlines for keep-alive, slots kept for light
 * addresses.
 */
#include "http/connguard.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

struct cuts {
    int fds[16];
    int n;
};

static void record(int fd, void *ctx)
{
    struct cuts *c = ctx;
    if (c->n < 16)
        c->fds[c->n++] = fd;
}

static const struct connguard_limits lim = {
    .max_connections = 10, .reserve = 2, .light = 3, .header_ms = 1000, .body_min_rate = 100};

static void test_head_deadline(void **state)
{
    (void)state;
    struct connguard *g = connguard_new(&lim);
    struct connguard_conn *a = connguard_open(g, "10.0.0.1", 7, 0);
    struct cuts cuts = {0};
    assert_int_equal(connguard_sweep(g, 1000, record, &cuts), 0); /* at the deadline: fine */
    assert_int_equal(connguard_sweep(g, 1001, record, &cuts), 1);
    assert_int_equal(cuts.fds[0], 7);
    assert_int_equal(connguard_sweep(g, 5000, record, &cuts), 0); /* cut once only */
    assert_int_equal((int)connguard_cut_total(g), 1);
    connguard_close(g, a);
    assert_int_equal(connguard_count(g), 0);
    connguard_free(g);
}

static void test_body_rate_and_busy(void **state)
{
    (void)state;
    struct connguard *g = connguard_new(&lim);
    struct connguard_conn *a = connguard_open(g, "10.0.0.1", 7, 0);
    struct cuts cuts = {0};
    connguard_head_done(g, a, 900); /* the body gets header_ms plus 1 s per 100 bytes */
    connguard_body(g, a, 100);
    assert_int_equal(connguard_sweep(g, 2900, record, &cuts), 0);
    assert_int_equal(connguard_sweep(g, 2901, record, &cuts), 1);
    struct connguard_conn *b = connguard_open(g, "10.0.0.2", 8, 0);
    connguard_head_done(g, b, 0);
    connguard_busy(g, b); /* a handler may take its time */
    assert_int_equal(connguard_sweep(g, 100000, record, &cuts), 0);
    connguard_idle(g, b, 100000); /* keep-alive: a fresh head deadline */
    assert_int_equal(connguard_sweep(g, 101000, record, &cuts), 0);
    assert_int_equal(connguard_sweep(g, 101001, record, &cuts), 1);
    assert_int_equal(cuts.fds[1], 8);
    connguard_close(g, a);
    connguard_close(g, b);
    connguard_free(g);
}

static void test_reserve_for_light_addresses(void **state)
{
    (void)state;
    struct connguard *g = connguard_new(&lim);
    struct connguard_conn *held[10];
    int n = 0;
    /* A heavy address fills slots until only the reserve is left. */
    while (connguard_admit(g, "10.0.0.9") && n < 10) {
        held[n] = connguard_open(g, "10.0.0.9", n, 0);
        n++;
    }
    assert_int_equal(n, 8);
    assert_int_equal(connguard_ip_count(g, "10.0.0.9"), 8);
    assert_int_equal(connguard_ip_count(g, "10.0.0.1"), 0);
    /* A light address still gets in, until it holds `light` connections itself. */
    assert_true(connguard_admit(g, "10.0.0.1"));
    held[n++] = connguard_open(g, "10.0.0.1", 100, 0);
    assert_true(connguard_admit(g, "10.0.0.1"));
    assert_false(connguard_admit(g, "10.0.0.9"));
    connguard_close(g, held[0]); /* below the reserve line again: anyone */
    connguard_close(g, held[1]);
    assert_true(connguard_admit(g, "10.0.0.9"));
    assert_int_equal(connguard_ip_count(g, "10.0.0.9"), 6);
    assert_int_equal(connguard_ip_count(g, "10.0.0.1"), 1);
    for (int i = 2; i < n; i++)
        connguard_close(g, held[i]);
    assert_int_equal(connguard_count(g), 0);
    connguard_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_head_deadline),
        cmocka_unit_test(test_body_rate_and_busy),
        cmocka_unit_test(test_reserve_for_light_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
