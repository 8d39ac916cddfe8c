/* SPDX-License-Identifier: MIT */
/* Request counters and latency histograms in Prometheus text format (see metrics.h). */
#include "http/metrics.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Latency bucket upper bounds in seconds. */
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define N_BOUNDS   (sizeof(bounds) / sizeof(bounds[0]))
#define N_STATUSES 600

struct route_metrics {
    _Atomic uint64_t by_status[N_STATUSES];
    _Atomic uint64_t buckets[N_BOUNDS]; /* non-cumulative; rendered cumulative */
    _Atomic uint64_t count;
    _Atomic uint64_t sum_ns;
};

struct metrics {
    const struct http_route *routes;
    size_t n_routes;
    struct route_metrics *slots; /* n_routes + 1 */
};

struct metrics *metrics_new(const struct http_route *routes, size_t n_routes)
{
    struct metrics *m = xcalloc(1, sizeof(*m));
    m->routes = routes;
    m->n_routes = n_routes;
    m->slots = xcalloc(n_routes + 1, sizeof(*m->slots));
    return m;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    free(m->slots);
    free(m);
}

void metrics_observe(struct metrics *m, size_t route_index, int status, int64_t duration_ns)
{
    if (route_index > m->n_routes)
        route_index = m->n_routes;
    struct route_metrics *rm = &m->slots[route_index];
    if (status < 100 || status >= N_STATUSES)
        status = 500;
    atomic_fetch_add_explicit(&rm->by_status[status], 1, memory_order_relaxed);
    double secs = (double)duration_ns / 1e9;
    for (size_t i = 0; i < N_BOUNDS; i++) {
        if (secs <= bounds[i]) {
            atomic_fetch_add_explicit(&rm->buckets[i], 1, memory_order_relaxed);
            break;
        }
    }
    atomic_fetch_add_explicit(&rm->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&rm->sum_ns, duration_ns > 0 ? (uint64_t)duration_ns : 0,
                              memory_order_relaxed);
}

void metrics_label_escape(const char *in, char *out, size_t n)
{
    size_t o = 0;
    for (; *in && o + 3 < n; in++) {
        if (*in == '\\' || *in == '"') {
            out[o++] = '\\';
            out[o++] = *in;
        } else if (*in == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *in;
        }
    }
    out[o] = '\0';
}

static void route_labels(struct metrics *m, size_t i, char *out, size_t n)
{
    char pat[256];
    if (i < m->n_routes) {
        metrics_label_escape(m->routes[i].pattern, pat, sizeof(pat));
        snprintf(out, n, "method=\"%s\",route=\"%s\"", m->routes[i].method, pat);
    } else {
        snprintf(out, n, "method=\"\",route=\"unmatched\"");
    }
}

int metrics_render(struct metrics *m, struct buf *out)
{
    int rc = 0;
    char labels[320];
    rc |= buf_appends(out, "# HELP iceshop_http_requests_total HTTP requests by route and "
                           "status.\n# TYPE iceshop_http_requests_total counter\n");
    for (size_t i = 0; i <= m->n_routes; i++) {
        route_labels(m, i, labels, sizeof(labels));
        for (int s = 100; s < N_STATUSES; s++) {
            uint64_t v = atomic_load_explicit(&m->slots[i].by_status[s], memory_order_relaxed);
            if (v)
                rc |= buf_appendf(out, "iceshop_http_requests_total{%s,status=\"%d\"} %llu\n",
                                  labels, s, (unsigned long long)v);
        }
    }
    rc |= buf_appends(out, "# HELP iceshop_http_request_duration_seconds Time from request start "
                           "to response queued.\n# TYPE iceshop_http_request_duration_seconds "
                           "histogram\n");
    for (size_t i = 0; i <= m->n_routes; i++) {
        struct route_metrics *rm = &m->slots[i];
        uint64_t count = atomic_load_explicit(&rm->count, memory_order_relaxed);
        if (!count)
            continue;
        route_labels(m, i, labels, sizeof(labels));
        uint64_t cum = 0;
        for (size_t b = 0; b < N_BOUNDS; b++) {
            cum += atomic_load_explicit(&rm->buckets[b], memory_order_relaxed);
            rc |= buf_appendf(out,
                              "iceshop_http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n",
                              labels, bounds[b], (unsigned long long)cum);
        }
        /* Observations race with rendering; keep the histogram monotonic all the same. */
        if (count < cum)
            count = cum;
        rc |=
            buf_appendf(out, "iceshop_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n",
                        labels, (unsigned long long)count);
        rc |= buf_appendf(out, "iceshop_http_request_duration_seconds_sum{%s} %.9f\n", labels,
                          (double)atomic_load_explicit(&rm->sum_ns, memory_order_relaxed) / 1e9);
        rc |= buf_appendf(out, "iceshop_http_request_duration_seconds_count{%s} %llu\n", labels,
                          (unsigned long long)count);
    }
    return rc ? ERR_TOO_LARGE : 0;
}
