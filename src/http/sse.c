/* SPDX-License-Identifier: MIT */
/* Server-Sent Events hub (see sse.h). */
#include "http/sse.h"
#include "core/buf.h"
#include "core/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sse_sub {
    struct sse_hub *hub;
    struct sse_sub *next;
    int64_t tenant_id;
    pthread_mutex_t mu;
    struct buf queue;
    size_t head; /* bytes of queue already read */
    bool closed;
    sse_wake_fn *wake;
    void *wake_ctx;
};

struct sse_hub {
    pthread_mutex_t mu;
    struct sse_sub *subs;
    size_t count;
    bool closed;
    uint64_t next_id;
};

struct sse_hub *sse_hub_new(void)
{
    struct sse_hub *h = xcalloc(1, sizeof(*h));
    pthread_mutex_init(&h->mu, NULL);
    return h;
}

/* Caller holds s->mu. */
static void fire_wake(struct sse_sub *s)
{
    sse_wake_fn *fn = s->wake;
    if (fn) {
        s->wake = NULL;
        fn(s->wake_ctx);
    }
}

static void sub_append(struct sse_sub *s, const char *data, size_t len)
{
    pthread_mutex_lock(&s->mu);
    if (!s->closed) {
        if (s->head > 0) {
            /* Drop what was read, so only the unread backlog counts towards SSE_QUEUE_MAX. */
            size_t left = s->queue.len - s->head;
            memmove(s->queue.data, s->queue.data + s->head, left);
            s->queue.len = left;
            s->queue.data[left] = '\0';
            s->head = 0;
        }
        if (buf_append(&s->queue, data, len))
            s->closed = true; /* a client this far behind is gone or too slow: end it */
        fire_wake(s);
    }
    pthread_mutex_unlock(&s->mu);
}

void sse_hub_close(struct sse_hub *h)
{
    pthread_mutex_lock(&h->mu);
    h->closed = true;
    for (struct sse_sub *s = h->subs; s; s = s->next) {
        pthread_mutex_lock(&s->mu);
        s->closed = true;
        fire_wake(s);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&h->mu);
}

void sse_hub_free(struct sse_hub *h)
{
    if (!h)
        return;
    sse_hub_close(h);
    /* Subscribers belong to their streams; they unlink themselves in sse_sub_free. */
    pthread_mutex_destroy(&h->mu);
    free(h);
}

void sse_hub_publish(struct sse_hub *h, int64_t tenant_id, const char *event, const char *data)
{
    char line[4096];
    pthread_mutex_lock(&h->mu);
    uint64_t id = ++h->next_id;
    int n = snprintf(line, sizeof(line), "id: %llu\nevent: %s\ndata: %s\n\n",
                     (unsigned long long)id, event, data);
    if (n < 0 || (size_t)n >= sizeof(line)) {
        pthread_mutex_unlock(&h->mu);
        return;
    }
    for (struct sse_sub *s = h->subs; s; s = s->next) {
        if (tenant_id == 0 || s->tenant_id == tenant_id)
            sub_append(s, line, (size_t)n);
    }
    pthread_mutex_unlock(&h->mu);
}

void sse_hub_heartbeat(struct sse_hub *h)
{
    static const char ping[] = ": ping\n\n";
    pthread_mutex_lock(&h->mu);
    for (struct sse_sub *s = h->subs; s; s = s->next)
        sub_append(s, ping, sizeof(ping) - 1);
    pthread_mutex_unlock(&h->mu);
}

size_t sse_hub_subscribers(struct sse_hub *h)
{
    pthread_mutex_lock(&h->mu);
    size_t n = h->count;
    pthread_mutex_unlock(&h->mu);
    return n;
}

struct sse_sub *sse_sub_new(struct sse_hub *h, int64_t tenant_id)
{
    pthread_mutex_lock(&h->mu);
    if (h->closed || h->count >= SSE_MAX_SUBSCRIBERS) {
        pthread_mutex_unlock(&h->mu);
        return NULL;
    }
    struct sse_sub *s = xcalloc(1, sizeof(*s));
    s->hub = h;
    s->tenant_id = tenant_id;
    pthread_mutex_init(&s->mu, NULL);
    buf_init(&s->queue, SSE_QUEUE_MAX);
    /* Tell the client how long to wait before reconnecting, and open the stream. */
    buf_appends(&s->queue, "retry: 3000\n: connected\n\n");
    s->next = h->subs;
    h->subs = s;
    h->count++;
    pthread_mutex_unlock(&h->mu);
    return s;
}

size_t sse_sub_read(struct sse_sub *s, char *out, size_t max, bool *closed, sse_wake_fn *suspend,
                    sse_wake_fn *wake, void *ctx)
{
    pthread_mutex_lock(&s->mu);
    size_t avail = s->queue.len - s->head;
    size_t n = avail < max ? avail : max;
    if (n) {
        memcpy(out, s->queue.data + s->head, n);
        s->head += n;
    }
    *closed = s->closed && s->head == s->queue.len;
    if (n == 0 && !*closed && wake) {
        if (suspend)
            suspend(ctx);
        s->wake = wake;
        s->wake_ctx = ctx;
    }
    pthread_mutex_unlock(&s->mu);
    return n;
}

void sse_sub_free(struct sse_sub *s)
{
    if (!s)
        return;
    struct sse_hub *h = s->hub;
    pthread_mutex_lock(&h->mu);
    for (struct sse_sub **pp = &h->subs; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            h->count--;
            break;
        }
    }
    pthread_mutex_unlock(&h->mu);
    buf_release(&s->queue);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
