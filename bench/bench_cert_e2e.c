/* SPDX-License-Identifier: MIT */
/*
 * Payment webhook → certificate email, end to end, for `make bench`: the real server (release
 * build) with a local fake Stripe and a real SMTP sink (aiosmtpd). For each of N orders: a
 * customer with its own address, an order, a Stripe payment; then the clock starts, the signed
 * payment_intent.succeeded webhook is posted, and it stops when the certificate email with the
 * PDF reaches the sink (the webhook's ledger job marks the order paid, the order-paid hook
 * queues the certificate, the slow lane renders and stores it, the email job sends it).
 * One order at a time, so each figure is one certificate's latency, not a queue's. Prints the
 * median, p95 and max; exits 1 only when an email never arrives (60 s) or a step fails.
 * Usage: bench_cert_e2e [N]   (default 20; ICESHOP_BIN, TEST_BACKEND, TEST_TMPDIR as the tests)
 */
#include "support/fake_stripe.h"
#include "support/harness.h"
#include "support/smtp_sink.h"
#include "core/crypto.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SK    "sk_test_bench_e2e"
#define WHSEC "whsec_bench_e2e"

static struct server srv;

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* POST/GET with the admin key; the value of string `key` in the answer into out. */
static int call(const char *method, const char *path, const char *body, const char *idem, long want,
                const char *key, char *out, size_t n)
{
    char h[128];
    snprintf(h, sizeof(h), "Idempotency-Key: %s", idem ? idem : "");
    const char *const headers[] = {h, NULL};
    struct resp r;
    if (http_req(&srv, method, path, HARNESS_ADMIN_KEY, body ? "application/json" : NULL, body,
                 body ? strlen(body) : 0, idem ? headers : NULL, &r))
        return -1;
    const char *v = key ? json_string_value(json_object_get(r.json, key)) : "";
    int rc = r.status == want && v ? 0 : -1;
    if (rc)
        fprintf(stderr, "%s %s -> %ld: %.300s\n", method, path, r.status, r.body);
    else if (out)
        snprintf(out, n, "%s", v);
    resp_free(&r);
    return rc;
}

static int webhook(const char *evt, const char *pi, long long amount)
{
    char body[600];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"object\":\"event\",\"type\":\"payment_intent.succeeded\",\"data\":"
             "{\"object\":{\"id\":\"%s\",\"object\":\"payment_intent\",\"amount\":%lld,"
             "\"currency\":\"try\"}}}",
             evt, pi, amount);
    struct resp r;
    if (harness_stripe_post(&srv, "/api/webhooks/stripe", WHSEC, 0, body, &r))
        return -1;
    int rc = r.status == 200 ? 0 : -1;
    if (rc)
        fprintf(stderr, "webhook -> %ld: %.300s\n", r.status, r.body);
    resp_free(&r);
    return rc;
}

/* Whether the sink holds the certificate email (the PDF attachment) sent to `email`. */
static bool cert_mail_arrived(const struct smtp_sink *sink, const char *email)
{
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/new", sink->dir);
    DIR *d = opendir(dir);
    bool found = false;
    struct dirent *de;
    static char buf[1 << 22];
    while (!found && d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[600];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        found = strstr(buf, email) && strstr(buf, "sertifika-");
    }
    if (d)
        closedir(d);
    return found;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20;
    if (n < 1 || n > 1000)
        n = 20;
    struct smtp_sink sink;
    struct fake_stripe *stripe = fake_stripe_start(SK);
    if (!stripe || smtp_sink_start(&sink, 0)) {
        fprintf(stderr, "bench_cert_e2e: the fake Stripe or the SMTP sink did not start\n");
        return 1;
    }
    char env[4][300], url[600];
    snprintf(env[0], sizeof(env[0]), "ICESHOP_STRIPE_SECRET_KEY=%s", SK);
    snprintf(env[1], sizeof(env[1]), "ICESHOP_STRIPE_API_URL=%s", fake_stripe_url(stripe));
    snprintf(env[2], sizeof(env[2]), "ICESHOP_STRIPE_WEBHOOK_SECRET=%s", WHSEC);
    snprintf(env[3], sizeof(env[3]), "ICESHOP_SMTP_URL=%s", sink.url);
    const char *const extra[] = {env[0],
                                 env[1],
                                 env[2],
                                 env[3],
                                 "ICESHOP_SMTP_FROM=Iceshop <no-reply@iceshop.test>",
                                 "ICESHOP_PUBLIC_URL=https://shop.example.test",
                                 NULL};
    harness_fresh_db(url, sizeof(url));
    int rc = server_start(&srv, url, extra);
    char product[64];
    if (!rc)
        rc = call("POST", "/api/products",
                  "{\"name\":\"Simit\",\"price\":\"10\",\"currency\":\"TRY\"}", NULL, 201, "id",
                  product, sizeof(product));
    long long *ms = calloc((size_t)n, sizeof(*ms));
    int done = 0;
    for (int i = 0; !rc && i < n; i++) {
        char body[400], path[200], customer[64], order[64], pi[64], email[96], evt[64];
        snprintf(email, sizeof(email), "buyer%d-%d@bench.test", i, (int)getpid());
        snprintf(body, sizeof(body), "{\"email\":\"%s\",\"name\":\"Ayşe Yılmaz %d\"}", email, i);
        rc = call("POST", "/api/customers", body, NULL, 201, "id", customer, sizeof(customer));
        if (!rc) {
            snprintf(body, sizeof(body),
                     "{\"customer_id\":\"%s\",\"currency\":\"TRY\",\"items\":[{\"product_id\":"
                     "\"%s\",\"quantity\":2,\"unit_price\":\"42.50\"}]}",
                     customer, product);
            rc = call("POST", "/api/orders", body, NULL, 201, "id", order, sizeof(order));
        }
        if (!rc) {
            char idem[64];
            snprintf(idem, sizeof(idem), "bench-%d", i);
            snprintf(path, sizeof(path), "/api/orders/%s/payments", order);
            rc = call("POST", path, "{\"provider\":\"stripe\"}", idem, 201, "provider_ref", pi,
                      sizeof(pi));
        }
        if (rc)
            break;
        snprintf(evt, sizeof(evt), "evt_bench_%d", i);
        long long t0 = mono_ms();
        rc = webhook(evt, pi, 8500);
        bool arrived = false;
        while (!rc && !(arrived = cert_mail_arrived(&sink, email)) && mono_ms() - t0 < 60000)
            harness_sleep_ms(10);
        if (!arrived) {
            fprintf(stderr, "bench_cert_e2e: no certificate email for order %s in 60 s\n", order);
            rc = -1;
            break;
        }
        ms[done++] = mono_ms() - t0;
    }
    if (done) {
        qsort(ms, (size_t)done, sizeof(*ms), cmp_ll);
        int p95 = (done * 95 + 99) / 100 - 1; /* nearest rank */
        printf("%d certificates, %s: webhook → email median %.2f s, p95 %.2f s, max %.2f s "
               "(aim < 30 s)\n",
               done, harness_backend(), ms[done / 2] / 1000.0, ms[p95] / 1000.0,
               ms[done - 1] / 1000.0);
    }
    free(ms);
    server_stop(&srv);
    smtp_sink_stop(&sink);
    fake_stripe_stop(stripe);
    return rc ? 1 : 0;
}
