/* SPDX-License-Identifier: MIT */
/*
 * POST /api/orders/{id}/payments against a local fake Stripe, for `make bench`: the real server
 * (release build) with the tests' fake Stripe on loopback. N pending orders are made first; then
 * each payment is started under its own Idempotency-Key, one request at a time, and the time from
 * sending the request to the 201 is taken (the server's rows before and after, and its
 * PaymentIntent request to the fake, whose own work is a few microseconds). Prints the median,
 * p95, p99 and max; exits 1 only when a step fails.
 * Usage: bench_pay_start [N]   (default 1000; ICESHOP_BIN, TEST_BACKEND, TEST_TMPDIR as the tests)
 */
#include "support/fake_stripe.h"
#include "support/harness.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SK "sk_test_bench_pay"

static struct server srv;

static long long mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* POST with the admin key; the value of string `key` in the answer into out. */
static int call(const char *path, const char *body, const char *idem, long want, const char *key,
                char *out, size_t n)
{
    char h[128];
    snprintf(h, sizeof(h), "Idempotency-Key: %s", idem ? idem : "");
    const char *const headers[] = {h, NULL};
    struct resp r;
    if (http_req(&srv, "POST", path, HARNESS_ADMIN_KEY, "application/json", body, strlen(body),
                 idem ? headers : NULL, &r))
        return -1;
    const char *v = json_string_value(json_object_get(r.json, key));
    int rc = r.status == want && v ? 0 : -1;
    if (rc)
        fprintf(stderr, "POST %s -> %ld: %.300s\n", path, r.status, r.body);
    else if (out)
        snprintf(out, n, "%s", v);
    resp_free(&r);
    return rc;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Nearest rank of percentile p (0..100) in n sorted values. */
static int rank(int n, int p)
{
    int k = (n * p + 99) / 100 - 1;
    return k < 0 ? 0 : k;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    if (n < 1 || n > 100000)
        n = 1000;
    struct fake_stripe *stripe = fake_stripe_start(SK);
    if (!stripe) {
        fprintf(stderr, "bench_pay_start: the fake Stripe did not start\n");
        return 1;
    }
    char env[2][300], url[600];
    snprintf(env[0], sizeof(env[0]), "ICESHOP_STRIPE_SECRET_KEY=%s", SK);
    snprintf(env[1], sizeof(env[1]), "ICESHOP_STRIPE_API_URL=%s", fake_stripe_url(stripe));
    const char *const extra[] = {env[0], env[1], NULL};
    harness_fresh_db(url, sizeof(url));
    int rc = server_start(&srv, url, extra);
    char product[64], customer[64];
    if (!rc)
        rc = call("/api/products", "{\"name\":\"Simit\",\"price\":\"10\",\"currency\":\"TRY\"}",
                  NULL, 201, "id", product, sizeof(product));
    if (!rc)
        rc = call("/api/customers", "{\"email\":\"bench@bench.test\"}", NULL, 201, "id", customer,
                  sizeof(customer));
    char(*orders)[64] = calloc((size_t)n, sizeof(*orders));
    long long *us = calloc((size_t)n, sizeof(*us));
    for (int i = 0; !rc && i < n; i++) {
        char body[400];
        snprintf(body, sizeof(body),
                 "{\"customer_id\":\"%s\",\"currency\":\"TRY\",\"items\":[{\"product_id\":\"%s\","
                 "\"quantity\":2,\"unit_price\":\"42.50\"}]}",
                 customer, product);
        rc = call("/api/orders", body, NULL, 201, "id", orders[i], sizeof(orders[i]));
    }
    size_t before = fake_stripe_intents(stripe);
    int done = 0;
    long long t_all = mono_us();
    for (int i = 0; !rc && i < n; i++) {
        char path[200], idem[64];
        snprintf(idem, sizeof(idem), "bench-pay-%d", i);
        snprintf(path, sizeof(path), "/api/orders/%s/payments", orders[i]);
        long long t0 = mono_us();
        rc = call(path, "{\"provider\":\"stripe\"}", idem, 201, "client_secret", NULL, 0);
        if (!rc)
            us[done++] = mono_us() - t0;
    }
    t_all = mono_us() - t_all;
    if (!rc && fake_stripe_intents(stripe) != before + (size_t)done) {
        fprintf(stderr, "bench_pay_start: %zu intents at the fake for %d payments\n",
                fake_stripe_intents(stripe) - before, done);
        rc = -1;
    }
    if (done) {
        qsort(us, (size_t)done, sizeof(*us), cmp_ll);
        printf("%d payments started, %s, one at a time: median %.2f ms, p95 %.2f ms, p99 %.2f ms, "
               "max %.2f ms (%.0f/s)\n",
               done, harness_backend(), us[done / 2] / 1000.0, us[rank(done, 95)] / 1000.0,
               us[rank(done, 99)] / 1000.0, us[done - 1] / 1000.0,
               t_all > 0 ? done * 1e6 / (double)t_all : 0.0);
    }
    free(us);
    free(orders);
    server_stop(&srv);
    fake_stripe_stop(stripe);
    return rc ? 1 : 0;
}
