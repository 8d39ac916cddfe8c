/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/http/sse.h: tenant routing, event framing, partial reads, the
 * suspend/wake handshake, queue overflow, hub shutdown and the subscriber limit. Reads go
 * through a helper that drains a subscriber into a string.
 */
#include "http/sse.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELLO "retry: 3000\n: connected\n\n"

/* Drain everything queued for `s` into out (NUL-terminated); returns the byte count. */
static size_t drain(struct sse_sub *s, char *out, size_t cap, bool *closed)
{
    size_t used = 0;
    bool c = false;
    for (;;) {
        size_t n = sse_sub_read(s, out + used, cap - 1 - used, &c, NULL, NULL, NULL);
        used += n;
        if (n == 0 || used == cap - 1)
            break;
    }
    out[used] = '\0';
    if (closed)
        *closed = c;
    return used;
}

static void test_publish_routing(void **state)
{
    (void)state;
    struct sse_hub *h = sse_hub_new();
    struct sse_sub *t1 = sse_sub_new(h, 1), *t2 = sse_sub_new(h, 2), *t1b = sse_sub_new(h, 1);
    assert_non_null(t1);
    assert_non_null(t2);
    assert_non_null(t1b);
    assert_int_equal(sse_hub_subscribers(h), 3);
    char buf[4096];
    bool closed = true;
    assert_int_equal(drain(t1, buf, sizeof(buf), &closed), strlen(HELLO));
    assert_string_equal(buf, HELLO);
    assert_false(closed);
    drain(t2, buf, sizeof(buf), NULL);
    drain(t1b, buf, sizeof(buf), NULL);

    sse_hub_publish(h, 1, "job.done", "{\"id\":5}");
    sse_hub_publish(h, 0, "system", "{\"msg\":\"hi\"}");
    sse_hub_publish(h, 2, "job.failed", "{\"id\":6}");
    sse_hub_publish(h, 3, "nobody", "{}");

    struct {
        struct sse_sub *s;
        const char *want;
    } cases[] = {
        {t1, "id: 1\nevent: job.done\ndata: {\"id\":5}\n\n"
             "id: 2\nevent: system\ndata: {\"msg\":\"hi\"}\n\n"},
        {t1b, "id: 1\nevent: job.done\ndata: {\"id\":5}\n\n"
              "id: 2\nevent: system\ndata: {\"msg\":\"hi\"}\n\n"},
        {t2, "id: 2\nevent: system\ndata: {\"msg\":\"hi\"}\n\n"
             "id: 3\nevent: job.failed\ndata: {\"id\":6}\n\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        drain(cases[i].s, buf, sizeof(buf), &closed);
        assert_string_equal(buf, cases[i].want);
        assert_false(closed);
        assert_int_equal(drain(cases[i].s, buf, sizeof(buf), NULL), 0);
    }

    sse_hub_heartbeat(h);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        drain(cases[i].s, buf, sizeof(buf), NULL);
        assert_string_equal(buf, ": ping\n\n");
    }

    /* Oversized events are dropped whole, never cut. */
    char *big = malloc(8192);
    memset(big, 'x', 8191);
    big[8191] = '\0';
    sse_hub_publish(h, 0, "big", big);
    free(big);
    assert_int_equal(drain(t1, buf, sizeof(buf), NULL), 0);
    sse_hub_publish(h, 1, "after", "1");
    drain(t1, buf, sizeof(buf), NULL);
    assert_non_null(strstr(buf, "event: after\n"));

    sse_sub_free(t1);
    assert_int_equal(sse_hub_subscribers(h), 2);
    sse_sub_free(t2);
    sse_sub_free(t1b);
    assert_int_equal(sse_hub_subscribers(h), 0);
    sse_sub_free(NULL);
    sse_hub_free(h);
    sse_hub_free(NULL);
}

static void test_partial_reads(void **state)
{
    (void)state;
    struct sse_hub *h = sse_hub_new();
    struct sse_sub *s = sse_sub_new(h, 7);
    sse_hub_publish(h, 7, "e", "{\"a\":1}");
    const char *want = HELLO "id: 1\nevent: e\ndata: {\"a\":1}\n\n";
    static const size_t chunks[] = {1, 2, 3, 5, 7, 64};
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        if (c > 0) {
            sse_sub_free(s);
            s = sse_sub_new(h, 7);
            sse_hub_publish(h, 7, "e", "{\"a\":1}");
            want = NULL;
        }
        char got[512] = "";
        size_t used = 0, n;
        bool closed;
        char piece[64];
        while ((n = sse_sub_read(s, piece, chunks[c], &closed, NULL, NULL, NULL)) > 0) {
            assert_true(n <= chunks[c]);
            memcpy(got + used, piece, n);
            used += n;
        }
        got[used] = '\0';
        assert_false(closed);
        assert_int_equal(strncmp(got, HELLO "id: ", strlen(HELLO) + 4), 0);
        assert_non_null(strstr(got, "\nevent: e\ndata: {\"a\":1}\n\n"));
        if (want)
            assert_string_equal(got, want);
    }
    sse_sub_free(s);
    sse_hub_free(h);
}

/* A reader that never drains completely but keeps up must not be dropped. */
static void test_steady_reader(void **state)
{
    (void)state;
    struct sse_hub *h = sse_hub_new();
    struct sse_sub *s = sse_sub_new(h, 1);
    char data[1000];
    memset(data, 'd', sizeof(data) - 1);
    data[sizeof(data) - 1] = '\0';
    char buf[2048];
    bool closed = false;
    size_t total = 0;
    for (int i = 0; i < 2000; i++) { /* ~2 MB in all, far above SSE_QUEUE_MAX */
        sse_hub_publish(h, 1, "tick", data);
        /* Read a little less than one event each time: the backlog stays small. */
        total += sse_sub_read(s, buf, 1000, &closed, NULL, NULL, NULL);
        assert_false(closed);
    }
    total += drain(s, buf, sizeof(buf), &closed);
    while (drain(s, buf, sizeof(buf), &closed) > 0)
        ;
    assert_false(closed);
    assert_true(total > 1900 * 1000);
    sse_sub_free(s);
    sse_hub_free(h);
}

struct wake_log {
    int suspends, wakes;
    pthread_mutex_t mu;
};

static void on_suspend(void *ctx)
{
    struct wake_log *w = ctx;
    w->suspends++;
}

static void on_wake(void *ctx)
{
    struct wake_log *w = ctx;
    w->wakes++;
}

static void test_wake(void **state)
{
    (void)state;
    struct sse_hub *h = sse_hub_new();
    struct sse_sub *s = sse_sub_new(h, 1);
    struct wake_log w = {0};
    char buf[512];
    bool closed;

    /* Data queued: no suspend, no wake armed. */
    assert_true(sse_sub_read(s, buf, sizeof(buf), &closed, on_suspend, on_wake, &w) > 0);
    assert_int_equal(w.suspends, 0);
    /* Empty: suspend once, wake armed. */
    assert_int_equal(sse_sub_read(s, buf, sizeof(buf), &closed, on_suspend, on_wake, &w), 0);
    assert_int_equal(w.suspends, 1);
    assert_int_equal(w.wakes, 0);
    sse_hub_publish(h, 2, "other", "{}"); /* another tenant: no wake */
    assert_int_equal(w.wakes, 0);
    sse_hub_publish(h, 1, "a", "{}");
    assert_int_equal(w.wakes, 1);
    sse_hub_publish(h, 1, "b", "{}"); /* the wake is one-shot */
    sse_hub_heartbeat(h);
    assert_int_equal(w.wakes, 1);
    assert_true(sse_sub_read(s, buf, sizeof(buf), &closed, on_suspend, on_wake, &w) > 0);
    assert_int_equal(w.suspends, 1);

    /* Suspend without a wake function does nothing; NULL suspend is allowed. */
    assert_int_equal(sse_sub_read(s, buf, sizeof(buf), &closed, on_suspend, NULL, &w), 0);
    assert_int_equal(w.suspends, 1);
    assert_int_equal(sse_sub_read(s, buf, sizeof(buf), &closed, NULL, on_wake, &w), 0);
    sse_hub_publish(h, 0, "c", "{}");
    assert_int_equal(w.wakes, 2);

    /* Closing the hub wakes a waiting reader, which then sees the end. */
    assert_true(sse_sub_read(s, buf, sizeof(buf), &closed, on_suspend, on_wake, &w) > 0);
    assert_int_equal(sse_sub_read(s, buf, sizeof(buf), &closed, on_suspend, on_wake, &w), 0);
    assert_int_equal(w.suspends, 2);
    sse_hub_close(h);
    assert_int_equal(w.wakes, 3);
    assert_int_equal(sse_sub_read(s, buf, sizeof(buf), &closed, on_suspend, on_wake, &w), 0);
    assert_true(closed);
    assert_int_equal(w.suspends, 2); /* a closed stream never suspends */
    sse_hub_close(h);
    assert_int_equal(w.wakes, 3);
    sse_sub_free(s);
    sse_hub_free(h);
}

static void test_overflow(void **state)
{
    (void)state;
    struct sse_hub *h = sse_hub_new();
    struct sse_sub *slow = sse_sub_new(h, 1), *fast = sse_sub_new(h, 1);
    char data[1024];
    memset(data, 'o', sizeof(data) - 1);
    data[sizeof(data) - 1] = '\0';
    char *buf = malloc(SSE_QUEUE_MAX + 4096);
    bool closed = false;
    int published = 0;
    while ((size_t)published * sizeof(data) < SSE_QUEUE_MAX + 8 * sizeof(data)) {
        sse_hub_publish(h, 1, "fill", data);
        published++;
        drain(fast, buf, SSE_QUEUE_MAX, &closed);
        assert_false(closed);
    }
    /* The slow one got whole events up to the limit, then its stream ended. */
    size_t n = drain(slow, buf, SSE_QUEUE_MAX + 4096, &closed);
    assert_true(closed);
    assert_true(n <= SSE_QUEUE_MAX);
    assert_true(n > SSE_QUEUE_MAX - 2 * sizeof(data));
    assert_int_equal(strcmp(buf + n - 2, "\n\n"), 0);
    sse_hub_publish(h, 1, "late", "{}");
    assert_int_equal(drain(slow, buf, 4096, &closed), 0);
    assert_true(closed);
    /* The fast one is unaffected. */
    sse_hub_publish(h, 1, "late", "{}");
    drain(fast, buf, 4096, &closed);
    assert_false(closed);
    assert_non_null(strstr(buf, "event: late\n"));
    free(buf);
    sse_sub_free(slow);
    sse_sub_free(fast);
    sse_hub_free(h);
}

static void test_close_and_limit(void **state)
{
    (void)state;
    struct sse_hub *h = sse_hub_new();
    struct sse_sub *s = sse_sub_new(h, 1);
    sse_hub_publish(h, 1, "last", "{}");
    sse_hub_close(h);
    /* Queued data is still delivered; closed only after the drain. */
    char buf[512];
    bool closed = true;
    size_t n = sse_sub_read(s, buf, 10, &closed, NULL, NULL, NULL);
    assert_int_equal(n, 10);
    assert_false(closed);
    drain(s, buf, sizeof(buf), &closed);
    assert_non_null(strstr(buf, "event: last\n"));
    assert_true(closed);
    assert_null(sse_sub_new(h, 1)); /* closed hub: no new subscribers */
    sse_hub_publish(h, 1, "ignored", "{}");
    assert_int_equal(drain(s, buf, sizeof(buf), &closed), 0);
    assert_true(closed);
    sse_sub_free(s);
    sse_hub_free(h);

    h = sse_hub_new();
    struct sse_sub **subs = calloc(SSE_MAX_SUBSCRIBERS, sizeof(*subs));
    for (int i = 0; i < SSE_MAX_SUBSCRIBERS; i++) {
        subs[i] = sse_sub_new(h, i % 3 + 1);
        assert_non_null(subs[i]);
    }
    assert_int_equal(sse_hub_subscribers(h), SSE_MAX_SUBSCRIBERS);
    assert_null(sse_sub_new(h, 1));
    sse_sub_free(subs[10]);
    subs[10] = sse_sub_new(h, 1); /* a freed slot can be reused */
    assert_non_null(subs[10]);
    assert_null(sse_sub_new(h, 1));
    for (int i = 0; i < SSE_MAX_SUBSCRIBERS; i++)
        sse_sub_free(subs[i]);
    assert_int_equal(sse_hub_subscribers(h), 0);
    free(subs);
    sse_hub_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_routing), cmocka_unit_test(test_partial_reads),
        cmocka_unit_test(test_steady_reader),   cmocka_unit_test(test_wake),
        cmocka_unit_test(test_overflow),        cmocka_unit_test(test_close_and_limit),
    };
    return cmocka_run_group_tests_name("sse", tests, NULL, NULL);
}
