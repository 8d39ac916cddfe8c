/* SPDX-License-Identifier: MIT */
/*
 * Connection guard (see connguard.h): a locked list of live connections with their phase and
 * deadline. Tests: tests/unit/http/test_connguard.c, tests/integration/0014-hardening.c.
 */
#include "http/connguard.h"
#include "core/str.h"
#include "core/xalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum phase { PHASE_HEAD, PHASE_BODY, PHASE_BUSY };

struct connguard_conn {
    struct connguard_conn *prev, *next;
    char ip[64];
    int fd;
    enum phase phase;
    int64_t since_ms;
    int64_t body_bytes;
    bool cut;
};

struct connguard {
    pthread_mutex_t mu;
    struct connguard_limits lim;
    struct connguard_conn *head;
    int n;
    uint64_t cut_total;
};

struct connguard *connguard_new(const struct connguard_limits *lim)
{
    struct connguard *g = xcalloc(1, sizeof(*g));
    pthread_mutex_init(&g->mu, NULL);
    g->lim = *lim;
    return g;
}

void connguard_free(struct connguard *g)
{
    if (!g)
        return;
    while (g->head) {
        struct connguard_conn *c = g->head;
        g->head = c->next;
        free(c);
    }
    pthread_mutex_destroy(&g->mu);
    free(g);
}

bool connguard_admit(struct connguard *g, const char *ip)
{
    pthread_mutex_lock(&g->mu);
    bool ok = true;
    if (g->lim.reserve > 0 && g->n >= g->lim.max_connections - g->lim.reserve) {
        int held = 0;
        for (struct connguard_conn *c = g->head; c && held < g->lim.light; c = c->next) {
            if (strcmp(c->ip, ip) == 0)
                held++;
        }
        ok = held < g->lim.light;
    }
    pthread_mutex_unlock(&g->mu);
    return ok;
}

int connguard_ip_count(struct connguard *g, const char *ip)
{
    pthread_mutex_lock(&g->mu);
    int held = 0;
    for (struct connguard_conn *c = g->head; c; c = c->next) {
        if (strcmp(c->ip, ip) == 0)
            held++;
    }
    pthread_mutex_unlock(&g->mu);
    return held;
}

struct connguard_conn *connguard_open(struct connguard *g, const char *ip, int fd, int64_t now_ms)
{
    struct connguard_conn *c = xcalloc(1, sizeof(*c));
    str_copy(c->ip, sizeof(c->ip), ip);
    c->fd = fd;
    c->phase = PHASE_HEAD;
    c->since_ms = now_ms;
    pthread_mutex_lock(&g->mu);
    c->next = g->head;
    if (g->head)
        g->head->prev = c;
    g->head = c;
    g->n++;
    pthread_mutex_unlock(&g->mu);
    return c;
}

void connguard_close(struct connguard *g, struct connguard_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    g->n--;
    pthread_mutex_unlock(&g->mu);
    free(c);
}

static void set_phase(struct connguard *g, struct connguard_conn *c, enum phase p, int64_t now_ms)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->mu);
    c->phase = p;
    if (now_ms >= 0)
        c->since_ms = now_ms;
    c->body_bytes = 0;
    pthread_mutex_unlock(&g->mu);
}

void connguard_head_done(struct connguard *g, struct connguard_conn *c, int64_t now_ms)
{
    set_phase(g, c, PHASE_BODY, now_ms);
}

void connguard_body(struct connguard *g, struct connguard_conn *c, size_t n)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->mu);
    c->body_bytes += (int64_t)n;
    pthread_mutex_unlock(&g->mu);
}

void connguard_busy(struct connguard *g, struct connguard_conn *c)
{
    set_phase(g, c, PHASE_BUSY, -1);
}

void connguard_idle(struct connguard *g, struct connguard_conn *c, int64_t now_ms)
{
    set_phase(g, c, PHASE_HEAD, now_ms);
}

/* Whether `c` is past its deadline at now_ms. */
static bool overdue(const struct connguard_limits *lim, const struct connguard_conn *c,
                    int64_t now_ms)
{
    int64_t elapsed = now_ms - c->since_ms;
    if (c->phase == PHASE_HEAD)
        return lim->header_ms > 0 && elapsed > lim->header_ms;
    if (c->phase == PHASE_BODY && lim->body_min_rate > 0)
        return elapsed > lim->header_ms + c->body_bytes * 1000 / lim->body_min_rate;
    return false;
}

int connguard_sweep(struct connguard *g, int64_t now_ms, void (*cut)(int fd, void *ctx), void *ctx)
{
    int n = 0;
    pthread_mutex_lock(&g->mu);
    for (struct connguard_conn *c = g->head; c; c = c->next) {
        if (c->cut || !overdue(&g->lim, c, now_ms))
            continue;
        c->cut = true;
        g->cut_total++;
        n++;
        cut(c->fd, ctx);
    }
    pthread_mutex_unlock(&g->mu);
    return n;
}

int connguard_count(struct connguard *g)
{
    pthread_mutex_lock(&g->mu);
    int n = g->n;
    pthread_mutex_unlock(&g->mu);
    return n;
}

uint64_t connguard_cut_total(struct connguard *g)
{
    pthread_mutex_lock(&g->mu);
    uint64_t n = g->cut_total;
    pthread_mutex_unlock(&g->mu);
    return n;
}
