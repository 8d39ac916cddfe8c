/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/http/ratelimit.h: bursts, Retry-After, refill over injected time,
 * independent keys, rate 0, many keys forcing shard sweeps while a hot key stays limited, and
 * concurrent takes from several threads never exceeding the budget.
 */
#include "http/ratelimit.h"
#include "core/clock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int take_n(struct ratelimit *rl, const char *key, int64_t now, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += ratelimit_take(rl, key, now, NULL);
    return ok;
}

static void test_burst_retry_after(void **state)
{
    (void)state;
    struct {
        double rate, burst;
        int allowed;     /* takes that succeed at one instant */
        int retry_after; /* seconds reported on the first refusal */
    } cases[] = {
        {1, 5, 5, 1},    {10, 3, 3, 1},   {0.5, 2, 2, 2},
        {0.1, 1, 1, 10}, {0.25, 0, 1, 4}, /* burst < 1 counts as 1 */
        {1000, 1, 1, 1}, {2, 1.5, 1, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ratelimit *rl = ratelimit_new(cases[i].rate, cases[i].burst);
        int64_t t = 1700000000000;
        for (int j = 0; j < cases[i].allowed; j++)
            assert_true(ratelimit_take(rl, "k", t, NULL));
        int ra = -1;
        assert_false(ratelimit_take(rl, "k", t, &ra));
        if (ra != cases[i].retry_after)
            fail_msg("case %zu: Retry-After %d, want %d", i, ra, cases[i].retry_after);
        assert_false(ratelimit_take(rl, "k", t, NULL)); /* NULL retry pointer is fine */
        /* Waiting exactly the advertised time is enough. */
        assert_true(ratelimit_take(rl, "k", t + (int64_t)ra * 1000, NULL));
        ratelimit_free(rl);
    }
    ratelimit_free(NULL);
}

static void test_refill(void **state)
{
    (void)state;
    struct clock c;
    clock_manual_init(&c, 1000000);
    struct ratelimit *rl = ratelimit_new(2, 4); /* 2/s, burst 4 */
    assert_int_equal(take_n(rl, "a", clock_now_ms(&c), 10), 4);
    clock_manual_advance(&c, 499);
    assert_int_equal(take_n(rl, "a", clock_now_ms(&c), 10), 0);
    clock_manual_advance(&c, 1); /* 500 ms: one token */
    assert_int_equal(take_n(rl, "a", clock_now_ms(&c), 10), 1);
    clock_manual_advance(&c, 1500); /* three tokens */
    int ra = 0;
    assert_int_equal(take_n(rl, "a", clock_now_ms(&c), 3), 3);
    assert_false(ratelimit_take(rl, "a", clock_now_ms(&c), &ra));
    assert_int_equal(ra, 1);
    clock_manual_advance(&c, 3600 * 1000); /* never more than the burst */
    assert_int_equal(take_n(rl, "a", clock_now_ms(&c), 10), 4);
    /* Time going backwards neither refills nor breaks the bucket. */
    assert_int_equal(take_n(rl, "a", clock_now_ms(&c) - 10000, 10), 0);
    clock_manual_advance(&c, 500);
    assert_int_equal(take_n(rl, "a", clock_now_ms(&c), 10), 1);
    ratelimit_free(rl);
}

static void test_keys_and_unlimited(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(1, 2);
    int64_t t = 5000;
    assert_int_equal(take_n(rl, "key:1", t, 5), 2);
    assert_int_equal(take_n(rl, "key:2", t, 5), 2);
    assert_int_equal(take_n(rl, "ip:10.0.0.1", t, 5), 2);
    assert_int_equal(take_n(rl, "", t, 5), 2);
    assert_int_equal(take_n(rl, "key:1", t, 5), 0);
    ratelimit_free(rl);

    struct {
        double rate, burst;
    } off[] = {{0, 1}, {0, 0}, {-1, 5}};
    for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
        rl = ratelimit_new(off[i].rate, off[i].burst);
        assert_int_equal(take_n(rl, "k", t, 10000), 10000);
        ratelimit_free(rl);
    }
}

/* Many distinct keys fill every shard and force sweeps; hot keys must stay limited. */
static void test_many_keys(void **state)
{
    (void)state;
    enum { HOT = 32 };
    struct ratelimit *rl = ratelimit_new(0.01, 3); /* one token per 100 s */
    int64_t t = 1000;
    char key[32];
    for (int h = 0; h < HOT; h++) {
        snprintf(key, sizeof(key), "hot:%d", h);
        assert_int_equal(take_n(rl, key, t, 3), 3);
    }
    int hot_ok = 0;
    for (int i = 0; i < 60000; i++) {
        t++; /* 60 s in total: a hot key earns 0.6 of a token */
        snprintf(key, sizeof(key), "ip:%d", i);
        assert_true(ratelimit_take(rl, key, t, NULL)); /* new keys start full */
        snprintf(key, sizeof(key), "hot:%d", i % HOT);
        hot_ok += ratelimit_take(rl, key, t, NULL);
    }
    assert_int_equal(hot_ok, 0);
    ratelimit_free(rl);

    /*
     * 8000 subjects like the server's ("key:12"; a shard holds 768 before sweeping): drained,
     * then revisited. They must spread over the shards, so none is forgotten and refilled.
     */
    rl = ratelimit_new(0.001, 1);
    for (int i = 0; i < 8000; i++) {
        snprintf(key, sizeof(key), "key:%d", i);
        assert_true(ratelimit_take(rl, key, 10, NULL));
    }
    int again = 0;
    for (int i = 0; i < 8000; i++) {
        snprintf(key, sizeof(key), "key:%d", i);
        again += ratelimit_take(rl, key, 20, NULL);
    }
    assert_int_equal(again, 0);
    ratelimit_free(rl);

    /* Keys drained in one instant, then revisited: none gets more than its burst. */
    rl = ratelimit_new(0.001, 1);
    int extra = 0;
    for (int i = 0; i < 60000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_true(ratelimit_take(rl, key, 10, NULL));
        extra += ratelimit_take(rl, key, 10, NULL);
    }
    assert_int_equal(extra, 0);
    ratelimit_free(rl);
}

struct race {
    struct ratelimit *rl;
    atomic_int ok;
    int64_t start_ms;
};

static void *race_thread(void *arg)
{
    struct race *r = arg;
    for (int i = 0; i < 20000; i++) {
        if (ratelimit_take(r->rl, "shared", clock_mono_ms(), NULL))
            atomic_fetch_add(&r->ok, 1);
        char k[32];
        snprintf(k, sizeof(k), "other:%d", i % 97);
        ratelimit_take(r->rl, k, clock_mono_ms(), NULL);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    const double rate = 50, burst = 20;
    struct race r = {.rl = ratelimit_new(rate, burst)};
    atomic_init(&r.ok, 0);
    int64_t start = clock_mono_ms();
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race_thread, &r), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    int64_t elapsed = clock_mono_ms() - start;
    int ok = atomic_load(&r.ok);
    double budget = burst + rate * (double)(elapsed + 1) / 1000.0;
    if (ok > (int)budget || ok < (int)burst)
        fail_msg("%d takes succeeded in %lld ms; budget %.1f", ok, (long long)elapsed, budget);
    ratelimit_free(r.rl);
}

/* Each key at its own rate: a bucket of twice the rate, refilled at the rate; peeking is free. */
static void test_per_key_rate(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(100, 200); /* the default, unused below */
    int64_t t = 1700000000000;
    const struct {
        const char *key;
        double rate;
        int burst;
    } cases[] = {{"key:1", 2, 4}, {"key:2", 5, 10}, {"key:3", 0.5, 1}, {"admin-key", 50, 100}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int ok = 0;
        for (int j = 0; j < 1000; j++)
            ok += ratelimit_take_rate(rl, cases[i].key, cases[i].rate, t, NULL);
        if (ok != cases[i].burst)
            fail_msg("%s: %d taken, want %d", cases[i].key, ok, cases[i].burst);
        int ra = 0;
        assert_true(ratelimit_exhausted(rl, cases[i].key, t, &ra));
        assert_int_equal(ra, (int)(1.0 / cases[i].rate + 0.999));
        /* two seconds refill the whole bucket */
        ok = 0;
        for (int j = 0; j < 1000; j++)
            ok += ratelimit_take_rate(rl, cases[i].key, cases[i].rate, t + 2000, NULL);
        assert_int_equal(ok, (int)(cases[i].rate * 2 < 1 ? 1 : cases[i].rate * 2));
    }
    /* rate 0: never limited, never remembered */
    for (int j = 0; j < 1000; j++)
        assert_true(ratelimit_take_rate(rl, "free", 0, t, NULL));
    assert_false(ratelimit_exhausted(rl, "free", t, NULL));
    /* peeking takes nothing */
    for (int j = 0; j < 1000; j++)
        assert_false(ratelimit_exhausted(rl, "fresh", t, NULL));
    assert_int_equal(take_n(rl, "fresh", t, 1000), 200);
    assert_true(ratelimit_exhausted(rl, "fresh", t, NULL));
    ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_key_rate), cmocka_unit_test(test_burst_retry_after),
        cmocka_unit_test(test_refill),       cmocka_unit_test(test_keys_and_unlimited),
        cmocka_unit_test(test_many_keys),    cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
