/* SPDX-License-Identifier: MIT */
/*
 * Server-Sent Events hub: modules publish events per tenant; each open stream is a subscriber
 * with a bounded queue. Publishing never blocks on a slow client: a subscriber whose queue is
 * full is closed. Thread-safe. Tests: tests/unit/http/test_sse.c and tests/integration.
 */
#ifndef ICESHOP_HTTP_SSE_H
#define ICESHOP_HTTP_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSE_MAX_SUBSCRIBERS 512
#define SSE_QUEUE_MAX       (256u * 1024) /* bytes queued per subscriber before it is dropped */

struct sse_hub;
struct sse_sub;

/* Called (under the subscriber's lock) when data arrives for a waiting subscriber. */
typedef void sse_wake_fn(void *ctx);

struct sse_hub *sse_hub_new(void);
/* Closes every subscriber first. NULL is allowed. */
void sse_hub_free(struct sse_hub *h);
/* Close all streams (shutdown); later subscriptions fail. */
void sse_hub_close(struct sse_hub *h);
/*
 * Queue `event` with one-line JSON `data` for subscribers of `tenant_id` (0 = every tenant).
 * `event` and `data` must not contain newlines.
 */
void sse_hub_publish(struct sse_hub *h, int64_t tenant_id, const char *event, const char *data);
/* A comment line to every subscriber, to keep idle proxies and clients honest. */
void sse_hub_heartbeat(struct sse_hub *h);
size_t sse_hub_subscribers(struct sse_hub *h);

/* NULL when the hub is closed or full. */
struct sse_sub *sse_sub_new(struct sse_hub *h, int64_t tenant_id);
/*
 * Copy up to `max` queued bytes into `out`. Returns the count; 0 means "nothing now": then, if
 * `wake` is given, `suspend(ctx)` runs and `wake(ctx)` is armed to run once data arrives; both
 * under the subscriber's lock, so a wake can never overtake its suspend.
 * *closed becomes true once the stream has ended and the queue is drained.
 */
size_t sse_sub_read(struct sse_sub *s, char *out, size_t max, bool *closed, sse_wake_fn *suspend,
                    sse_wake_fn *wake, void *ctx);
void sse_sub_free(struct sse_sub *s);

#endif
