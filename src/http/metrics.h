/* SPDX-License-Identifier: MIT */
/*
 * Request metrics for /metrics: counts by route pattern and status code, and a latency
 * histogram per route, rendered in the Prometheus text format (0.0.4). Lock-free on the hot
 * path (atomics). Tests: tests/unit/http/test_metrics.c (and promtool in tests/integration).
 */
#ifndef ICESHOP_HTTP_METRICS_H
#define ICESHOP_HTTP_METRICS_H

#include "core/buf.h"
#include "http/router.h"

#include <stddef.h>
#include <stdint.h>

struct metrics;

/* One slot per route plus one for requests that matched none. */
struct metrics *metrics_new(const struct http_route *routes, size_t n_routes);
void metrics_free(struct metrics *m);
/* route_index = n_routes (or larger) for an unmatched request. */
void metrics_observe(struct metrics *m, size_t route_index, int status, int64_t duration_ns);
/* Append the iceshop_http_* families. */
int metrics_render(struct metrics *m, struct buf *out);
/* Escape a label value for the text format into `out` (size n). */
void metrics_label_escape(const char *in, char *out, size_t n);

#endif
