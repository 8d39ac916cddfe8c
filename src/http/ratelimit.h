/* SPDX-License-Identifier: MIT */
/*
 * Token-bucket rate limiting by key (API key subject or client IP). Buckets live in memory,
 * sharded behind mutexes; a shard that fills up forgets its idlest half (limits are a shield,
 * not an accounting system). Tests: tests/unit/http/test_ratelimit.c.
 */
#ifndef ICESHOP_HTTP_RATELIMIT_H
#define ICESHOP_HTTP_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit;

/* `rate` tokens per second, bucket of `burst` tokens. rate 0 → every take succeeds. */
struct ratelimit *ratelimit_new(double rate, double burst);
void ratelimit_free(struct ratelimit *rl);
/*
 * Take one token for `key` at time `now_ms`. false when the bucket is empty; then
 * *retry_after_s is the whole seconds until a token is available (at least 1).
 */
bool ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms, int *retry_after_s);
/*
 * The same with this key's own rate: `rate` tokens per second, a bucket of twice that (at
 * least 1). rate <= 0 → succeeds. A key keeps the rate of its latest call.
 */
/*
 * Whether `key` has no token left at `now_ms` (at the limiter's own rate), without taking one;
 * then *retry_after_s is set as by ratelimit_take.
 */
bool ratelimit_exhausted(struct ratelimit *rl, const char *key, int64_t now_ms, int *retry_after_s);
bool ratelimit_take_rate(struct ratelimit *rl, const char *key, double rate, int64_t now_ms,
                         int *retry_after_s);

#endif
