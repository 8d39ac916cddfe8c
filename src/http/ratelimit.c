/* SPDX-License-Identifier: MIT */
/* Sharded token buckets (see ratelimit.h). */
#include "http/ratelimit.h"
#include "core/xalloc.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS      32
#define SHARD_SLOTS 1024 /* open addressing, power of two */

struct bucket {
    uint64_t hash; /* 0 = empty */
    double tokens;
    int64_t last_ms;
    double rate; /* this key's */
    double burst;
};

struct shard {
    pthread_mutex_t mu;
    size_t used;
    struct bucket slots[SHARD_SLOTS];
};

struct ratelimit {
    double rate;
    double burst;
    struct shard shards[SHARDS];
};

/*
 * FNV-1a, then murmur3's fmix64: FNV alone barely changes bits 32..36 (the shard) for keys
 * that differ only in their last characters ("key:1", "key:2"), crowding them into few shards.
 * Never 0.
 */
static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h ? h : 1;
}

struct ratelimit *ratelimit_new(double rate, double burst)
{
    struct ratelimit *rl = xcalloc(1, sizeof(*rl));
    rl->rate = rate;
    rl->burst = burst < 1 ? 1 : burst;
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_init(&rl->shards[i].mu, NULL);
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_destroy(&rl->shards[i].mu);
    free(rl);
}

static bool take(struct ratelimit *rl, const char *key, double rate, double burst, int64_t now_ms,
                 int *retry_after_s);

/* Most recently used first. */
static int by_recency(const void *a, const void *b)
{
    int64_t x = ((const struct bucket *)a)->last_ms, y = ((const struct bucket *)b)->last_ms;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Forget buckets that have refilled completely: they carry no information. */
static void sweep(struct shard *sh, int64_t now_ms)
{
    struct bucket keep[SHARD_SLOTS];
    size_t n = 0;
    for (size_t i = 0; i < SHARD_SLOTS; i++) {
        struct bucket *b = &sh->slots[i];
        if (!b->hash)
            continue;
        double t = b->tokens + (double)(now_ms - b->last_ms) / 1000.0 * b->rate;
        if (t < b->burst)
            keep[n++] = *b;
    }
    /* Still crowded (an attack from many keys): keep the most recent half. */
    if (n > SHARD_SLOTS / 2) {
        qsort(keep, n, sizeof(keep[0]), by_recency);
        n = SHARD_SLOTS / 2;
    }
    memset(sh->slots, 0, sizeof(sh->slots));
    sh->used = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = keep[i].hash & (SHARD_SLOTS - 1);
        while (sh->slots[j].hash)
            j = (j + 1) & (SHARD_SLOTS - 1);
        sh->slots[j] = keep[i];
        sh->used++;
    }
}

bool ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms, int *retry_after_s)
{
    return take(rl, key, rl->rate, rl->burst, now_ms, retry_after_s);
}

bool ratelimit_take_rate(struct ratelimit *rl, const char *key, double rate, int64_t now_ms,
                         int *retry_after_s)
{
    return take(rl, key, rate, rate * 2 < 1 ? 1 : rate * 2, now_ms, retry_after_s);
}

static bool take(struct ratelimit *rl, const char *key, double rate, double burst, int64_t now_ms,
                 int *retry_after_s)
{
    if (rate <= 0)
        return true;
    uint64_t h = hash_key(key);
    struct shard *sh = &rl->shards[(h >> 32) % SHARDS];
    pthread_mutex_lock(&sh->mu);
    size_t j = h & (SHARD_SLOTS - 1);
    while (sh->slots[j].hash && sh->slots[j].hash != h)
        j = (j + 1) & (SHARD_SLOTS - 1);
    if (!sh->slots[j].hash && sh->used >= SHARD_SLOTS * 3 / 4) {
        /* Sweep only to make room for a new key, so the key being taken is never forgotten. */
        sweep(sh, now_ms);
        j = h & (SHARD_SLOTS - 1);
        while (sh->slots[j].hash)
            j = (j + 1) & (SHARD_SLOTS - 1);
    }
    struct bucket *b = &sh->slots[j];
    if (!b->hash) {
        b->hash = h;
        b->tokens = burst;
        b->last_ms = now_ms;
        sh->used++;
    }
    b->rate = rate;
    b->burst = burst;
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) / 1000.0 * rate;
        b->last_ms = now_ms;
    }
    if (b->tokens > burst)
        b->tokens = burst;
    bool ok = b->tokens >= 1.0;
    if (ok) {
        b->tokens -= 1.0;
    } else if (retry_after_s) {
        double wait = (1.0 - b->tokens) / rate;
        int s = (int)ceil(wait);
        *retry_after_s = s < 1 ? 1 : s;
    }
    pthread_mutex_unlock(&sh->mu);
    return ok;
}

bool ratelimit_exhausted(struct ratelimit *rl, const char *key, int64_t now_ms, int *retry_after_s)
{
    if (rl->rate <= 0)
        return false;
    uint64_t h = hash_key(key);
    struct shard *sh = &rl->shards[(h >> 32) % SHARDS];
    pthread_mutex_lock(&sh->mu);
    size_t j = h & (SHARD_SLOTS - 1);
    while (sh->slots[j].hash && sh->slots[j].hash != h)
        j = (j + 1) & (SHARD_SLOTS - 1);
    bool empty = false;
    const struct bucket *b = &sh->slots[j];
    if (b->hash) {
        double t = b->tokens;
        if (now_ms > b->last_ms)
            t += (double)(now_ms - b->last_ms) / 1000.0 * b->rate;
        empty = t < 1.0;
        if (empty && retry_after_s) {
            int w = (int)ceil((1.0 - t) / b->rate);
            *retry_after_s = w < 1 ? 1 : w;
        }
    }
    pthread_mutex_unlock(&sh->mu);
    return empty;
}
