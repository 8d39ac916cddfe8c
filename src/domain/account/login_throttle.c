/* SPDX-License-Identifier: MIT */
/*
 * Login throttling (see login_throttle.h): a small locked table of failure counts keyed by
 * "a:<email>" and "i:<address>", and a counting gate for password hashes.
 * Tests: tests/unit/domain/test_login_throttle.c, tests/integration/0014-hardening.c.
 */
#include "domain/account/login_throttle.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY_MAX 272

struct entry {
    char key[KEY_MAX];
    int failures;
    int64_t last_ms;       /* last failure */
    int64_t blocked_until; /* no attempt before this */
};

struct login_throttle {
    pthread_mutex_t mu;
    pthread_cond_t freed;
    struct login_throttle_limits lim;
    struct entry *entries;
    int n;
    int hashing;
    uint64_t failures, refusals;
};

void login_throttle_limits_default(struct login_throttle_limits *lim)
{
    lim->account_free = 5;
    lim->address_free = 20;
    lim->first_wait_ms = 1000;
    lim->max_wait_ms = 15 * 60 * 1000;
    lim->decay_ms = 15 * 60 * 1000;
    lim->max_hashing = 2;
    lim->max_keys = 10000;
}

struct login_throttle *login_throttle_new(const struct login_throttle_limits *lim)
{
    struct login_throttle *t = xcalloc(1, sizeof(*t));
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->freed, NULL);
    t->lim = *lim;
    if (t->lim.max_keys < 2)
        t->lim.max_keys = 2;
    if (t->lim.max_hashing < 1)
        t->lim.max_hashing = 1;
    t->entries = xcalloc((size_t)t->lim.max_keys, sizeof(*t->entries));
    return t;
}

void login_throttle_free(struct login_throttle *t)
{
    if (!t)
        return;
    pthread_cond_destroy(&t->freed);
    pthread_mutex_destroy(&t->mu);
    free(t->entries);
    free(t);
}

static void make_key(char *out, char kind, const char *s)
{
    size_t o = 0;
    out[o++] = kind;
    out[o++] = ':';
    for (; *s && o + 1 < KEY_MAX; s++)
        out[o++] = (char)tolower((unsigned char)*s);
    out[o] = '\0';
}

/* The entry for `key` (NULL when absent); decayed entries count as absent. Locked. */
static struct entry *find(struct login_throttle *t, const char *key, int64_t now_ms)
{
    for (int i = 0; i < t->n; i++) {
        struct entry *en = &t->entries[i];
        if (strcmp(en->key, key) != 0)
            continue;
        if (now_ms - en->last_ms > t->lim.decay_ms && now_ms >= en->blocked_until) {
            *en = t->entries[--t->n];
            return NULL;
        }
        return en;
    }
    return NULL;
}

/* A new entry for `key`, forgetting the stalest when the table is full. Locked. */
static struct entry *add(struct login_throttle *t, const char *key, int64_t now_ms)
{
    struct entry *en;
    if (t->n < t->lim.max_keys) {
        en = &t->entries[t->n++];
    } else {
        en = &t->entries[0];
        for (int i = 1; i < t->n; i++) {
            if (t->entries[i].last_ms < en->last_ms)
                en = &t->entries[i];
        }
    }
    memset(en, 0, sizeof(*en));
    snprintf(en->key, sizeof(en->key), "%s", key);
    en->last_ms = now_ms;
    return en;
}

static int64_t blocked_for(struct login_throttle *t, const char *key, int64_t now_ms)
{
    struct entry *en = find(t, key, now_ms);
    return en && en->blocked_until > now_ms ? en->blocked_until - now_ms : 0;
}

int login_throttle_check(struct login_throttle *t, const char *email, const char *ip,
                         int64_t now_ms, int *retry_s, struct err *e)
{
    if (!t)
        return 0;
    char ka[KEY_MAX], ki[KEY_MAX];
    make_key(ka, 'a', email);
    make_key(ki, 'i', ip);
    pthread_mutex_lock(&t->mu);
    int64_t wa = blocked_for(t, ka, now_ms), wi = blocked_for(t, ki, now_ms);
    if (wa || wi)
        t->refusals++;
    pthread_mutex_unlock(&t->mu);
    int64_t w = wa > wi ? wa : wi;
    if (!w)
        return 0;
    *retry_s = (int)((w + 999) / 1000);
    return err_set(e, ERR_RATE_LIMITED, "too many failed logins %s; retry in %ds",
                   wa >= wi ? "for this account" : "from this address", *retry_s);
}

static void fail_key(struct login_throttle *t, const char *key, int free_failures, int64_t now_ms)
{
    struct entry *en = find(t, key, now_ms);
    if (!en)
        en = add(t, key, now_ms);
    en->failures++;
    en->last_ms = now_ms;
    int over = en->failures - free_failures;
    if (over <= 0)
        return;
    int64_t wait = t->lim.first_wait_ms;
    for (int i = 1; i < over && wait < t->lim.max_wait_ms; i++)
        wait *= 2;
    if (wait > t->lim.max_wait_ms)
        wait = t->lim.max_wait_ms;
    en->blocked_until = now_ms + wait;
}

void login_throttle_fail(struct login_throttle *t, const char *email, const char *ip,
                         int64_t now_ms)
{
    if (!t)
        return;
    char ka[KEY_MAX], ki[KEY_MAX];
    make_key(ka, 'a', email);
    make_key(ki, 'i', ip);
    pthread_mutex_lock(&t->mu);
    t->failures++;
    fail_key(t, ka, t->lim.account_free, now_ms);
    fail_key(t, ki, t->lim.address_free, now_ms);
    pthread_mutex_unlock(&t->mu);
}

void login_throttle_success(struct login_throttle *t, const char *email)
{
    if (!t)
        return;
    char ka[KEY_MAX];
    make_key(ka, 'a', email);
    pthread_mutex_lock(&t->mu);
    for (int i = 0; i < t->n; i++) {
        if (strcmp(t->entries[i].key, ka) == 0) {
            t->entries[i] = t->entries[--t->n];
            break;
        }
    }
    pthread_mutex_unlock(&t->mu);
}

uint64_t login_throttle_failures(struct login_throttle *t)
{
    if (!t)
        return 0;
    pthread_mutex_lock(&t->mu);
    uint64_t n = t->failures;
    pthread_mutex_unlock(&t->mu);
    return n;
}

uint64_t login_throttle_refusals(struct login_throttle *t)
{
    if (!t)
        return 0;
    pthread_mutex_lock(&t->mu);
    uint64_t n = t->refusals;
    pthread_mutex_unlock(&t->mu);
    return n;
}

int login_throttle_hash_enter(struct login_throttle *t, int64_t wait_ms, struct err *e)
{
    if (!t)
        return 0;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(wait_ms / 1000);
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&t->mu);
    int rc = 0;
    while (t->hashing >= t->lim.max_hashing && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&t->freed, &t->mu, &until);
    bool got = t->hashing < t->lim.max_hashing;
    if (got)
        t->hashing++;
    pthread_mutex_unlock(&t->mu);
    if (!got)
        return err_set(e, ERR_RATE_LIMITED, "too many logins in progress; retry in 1s");
    return 0;
}

void login_throttle_hash_leave(struct login_throttle *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->hashing--;
    pthread_cond_signal(&t->freed);
    pthread_mutex_unlock(&t->mu);
}
