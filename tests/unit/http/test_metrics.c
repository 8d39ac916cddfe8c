/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/http/metrics.h: request counts by route and status, the unmatched label,
 * cumulative histogram buckets with +Inf equal to the count, label escaping, and (when promtool
 * is on PATH) `promtool check metrics` on the rendered text.
 */
#include "http/metrics.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct http_route routes[] = {
    {"GET", "/health", NULL, ROLE_NONE, 0, 0},
    {"POST", "/api/jobs", NULL, ROLE_ADMIN, 1024, HTTP_BODY_JSON},
    {"GET", "/api/jobs/{id}", NULL, ROLE_VIEWER, 0, 0},
    {"GET", "/odd/\"quoted\"\\path", NULL, ROLE_NONE, 0, 0},
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))
#define MS       1000000LL

/* The value of the sample line starting with `prefix` (e.g. `name{labels}`), or -1. */
static double sample(const char *text, const char *prefix)
{
    size_t pl = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, prefix, pl) == 0 && p[pl] == ' ')
            return strtod(p + pl + 1, NULL);
    }
    return -1;
}

static void render(struct metrics *m, struct buf *b)
{
    buf_init(b, BUF_MAX_METRICS);
    assert_int_equal(metrics_render(m, b), 0);
}

static void test_counts(void **state)
{
    (void)state;
    struct metrics *m = metrics_new(routes, N_ROUTES);
    struct {
        size_t route;
        int status, times;
    } obs[] = {
        {0, 200, 3}, {1, 201, 2},        {1, 400, 1},
        {2, 404, 4}, {N_ROUTES, 404, 5}, {N_ROUTES + 100, 405, 1}, /* unmatched */
        {0, 42, 1},  {0, 600, 1}, /* out of range statuses count as 500 */
    };
    for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
        for (int t = 0; t < obs[i].times; t++)
            metrics_observe(m, obs[i].route, obs[i].status, 3 * MS);
    struct buf b;
    render(m, &b);
    const char *text = buf_str(&b);
    struct {
        const char *line;
        double want;
    } want[] = {
        {"iceshop_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"}", 3},
        {"iceshop_http_requests_total{method=\"GET\",route=\"/health\",status=\"500\"}", 2},
        {"iceshop_http_requests_total{method=\"POST\",route=\"/api/jobs\",status=\"201\"}", 2},
        {"iceshop_http_requests_total{method=\"POST\",route=\"/api/jobs\",status=\"400\"}", 1},
        {"iceshop_http_requests_total{method=\"GET\",route=\"/api/jobs/{id}\",status=\"404\"}", 4},
        {"iceshop_http_requests_total{method=\"\",route=\"unmatched\",status=\"404\"}", 5},
        {"iceshop_http_requests_total{method=\"\",route=\"unmatched\",status=\"405\"}", 1},
        {"iceshop_http_requests_total{method=\"GET\",route=\"/health\",status=\"404\"}", -1},
        {"iceshop_http_request_duration_seconds_count{method=\"GET\",route=\"/health\"}", 5},
        {"iceshop_http_request_duration_seconds_count{method=\"\",route=\"unmatched\"}", 6},
        /* No samples at all for a route never hit. */
        {"iceshop_http_request_duration_seconds_count{method=\"GET\",route=\"/odd/\\\"quoted\\\""
         "\\\\path\"}",
         -1},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        double v = sample(text, want[i].line);
        if (v != want[i].want)
            fail_msg("%s = %g, want %g\n%s", want[i].line, v, want[i].want, text);
    }
    assert_non_null(strstr(text, "# TYPE iceshop_http_requests_total counter\n"));
    assert_non_null(strstr(text, "# TYPE iceshop_http_request_duration_seconds histogram\n"));
    buf_release(&b);
    metrics_free(m);
    metrics_free(NULL);
}

static void test_histogram(void **state)
{
    (void)state;
    struct metrics *m = metrics_new(routes, N_ROUTES);
    static const int64_t durations_ns[] = {
        0,         -5,     /* clock hiccup: counted in the first bucket, adds 0 */
        400000,    500000, /* 0.4 ms, exactly 0.5 ms */
        700000,    2 * MS,     5 * MS,    30 * MS,
        90 * MS,   1000 * MS,  2500 * MS, /* exactly the last bound */
        2600 * MS, 60000 * MS,            /* beyond every bound: only +Inf */
    };
    const size_t n = sizeof(durations_ns) / sizeof(durations_ns[0]);
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        metrics_observe(m, 3, 200, durations_ns[i]);
        sum += durations_ns[i] > 0 ? durations_ns[i] : 0;
    }
    struct buf b;
    render(m, &b);
    const char *text = buf_str(&b);
    char labels[128];
    metrics_label_escape(routes[3].pattern, labels, sizeof(labels));
    assert_string_equal(labels, "/odd/\\\"quoted\\\"\\\\path");
    struct {
        const char *le;
        double want;
    } buckets[] = {
        {"0.0005", 4}, {"0.001", 5}, {"0.0025", 6}, {"0.005", 7}, {"0.01", 7},
        {"0.025", 7},  {"0.05", 8},  {"0.1", 9},    {"0.25", 9},  {"0.5", 9},
        {"1", 10},     {"2.5", 11},  {"+Inf", 13},
    };
    double prev = 0;
    for (size_t i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++) {
        char line[256];
        snprintf(line, sizeof(line),
                 "iceshop_http_request_duration_seconds_bucket{method=\"GET\",route=\"%s\","
                 "le=\"%s\"}",
                 labels, buckets[i].le);
        double v = sample(text, line);
        if (v != buckets[i].want)
            fail_msg("%s = %g, want %g\n%s", line, v, buckets[i].want, text);
        assert_true(v >= prev); /* cumulative */
        prev = v;
    }
    char line[256];
    snprintf(line, sizeof(line),
             "iceshop_http_request_duration_seconds_count{method=\"GET\",route=\"%s\"}", labels);
    assert_true(sample(text, line) == (double)n);
    snprintf(line, sizeof(line),
             "iceshop_http_request_duration_seconds_sum{method=\"GET\",route=\"%s\"}", labels);
    double s = sample(text, line);
    assert_true(s > (double)sum / 1e9 - 1e-6 && s < (double)sum / 1e9 + 1e-6);
    buf_release(&b);

    /* A buffer too small for the text reports ERR_TOO_LARGE. */
    buf_init(&b, 64);
    assert_int_equal(metrics_render(m, &b), ERR_TOO_LARGE);
    buf_release(&b);
    metrics_free(m);
}

static void test_label_escape(void **state)
{
    (void)state;
    struct {
        const char *in;
        size_t n;
        const char *want;
    } cases[] = {
        {"/plain/{id}", 64, "/plain/{id}"},
        {"a\"b", 64, "a\\\"b"},
        {"a\\b", 64, "a\\\\b"},
        {"line\nbreak", 64, "line\\nbreak"},
        {"", 64, ""},
        {"abcdef", 4, "a"},          /* cut, always terminated */
        {"\"\"\"\"", 6, "\\\"\\\""}, /* never half an escape */
        {"ü", 64, "ü"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[64];
        memset(out, 'Z', sizeof(out));
        metrics_label_escape(cases[i].in, out, cases[i].n);
        assert_string_equal(out, cases[i].want);
        assert_true(strlen(out) < cases[i].n);
    }
}

static bool have_promtool(void)
{
    const char *path = getenv("PATH");
    if (!path)
        return false;
    char *copy = strdup(path);
    bool found = false;
    for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir && !found;
         dir = strtok_r(NULL, ":", &save)) {
        char p[4096];
        snprintf(p, sizeof(p), "%s/promtool", dir);
        found = access(p, X_OK) == 0;
    }
    free(copy);
    return found;
}

static void test_promtool(void **state)
{
    (void)state;
    if (!have_promtool()) {
        printf("[  SKIPPED ] test_promtool: promtool is not on PATH\n");
        skip();
    }
    struct metrics *m = metrics_new(routes, N_ROUTES);
    for (size_t r = 0; r <= N_ROUTES; r++)
        for (int i = 0; i < 20; i++)
            metrics_observe(m, r, i % 3 ? 200 : 404, (int64_t)(i * i) * MS);
    struct buf b;
    render(m, &b);
    char path[] = "/tmp/iceshop-metrics-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096];
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    int rc = pclose(p);
    unlink(path);
    if (rc != 0)
        fail_msg("promtool check metrics failed (%d):\n%s\n--- input ---\n%s", rc, out,
                 buf_str(&b));
    buf_release(&b);
    metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_label_escape),
        cmocka_unit_test(test_promtool),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
