/* SPDX-License-Identifier: MIT */
/*
 * The local webhook receiver (see fake_receiver.h): records every POST, checks its Standard
 * Webhooks signature with the route's secret at the current time, and answers 200 or the
 * scripted failure status.
 */
#include "fake_receiver.h"
#include "core/err.h"
#include "core/webhook_sig.h"
#include "fake_http.h"

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUTES_MAX 16

struct route {
    char path[128];
    char secret[128];
    long fail_status;
    int fail_left; /* < 0: always */
    struct fake_hook *hooks;
    size_t n, cap;
};

struct fake_receiver {
    struct fake_http *http;
    pthread_mutex_t mu;
    struct route routes[ROUTES_MAX];
    size_t n_routes;
};

static struct route *find(struct fake_receiver *f, const char *path)
{
    for (size_t i = 0; i < f->n_routes; i++) {
        if (strcmp(f->routes[i].path, path) == 0)
            return &f->routes[i];
    }
    return NULL;
}

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static void answer(struct fake_http_answer *a, unsigned status, const char *text)
{
    a->status = status;
    copy(a->content_type, sizeof(a->content_type), "text/plain");
    a->body = strdup(text);
}

static void handle(void *cls, const struct fake_http_request *q, struct fake_http_answer *a)
{
    struct fake_receiver *f = cls;
    if (strcmp(q->method, "POST") != 0) {
        answer(a, 405, "POST only");
        return;
    }
    const char *id = fake_http_header(q, WEBHOOK_SIG_HDR_ID);
    const char *ts = fake_http_header(q, WEBHOOK_SIG_HDR_TIMESTAMP);
    const char *sig = fake_http_header(q, WEBHOOK_SIG_HDR_SIGNATURE);
    struct fake_hook h;
    memset(&h, 0, sizeof(h));
    copy(h.path, sizeof(h.path), q->url);
    copy(h.id, sizeof(h.id), id);
    copy(h.timestamp, sizeof(h.timestamp), ts);
    snprintf(h.body, sizeof(h.body), "%.*s",
             (int)(q->len < sizeof(h.body) - 1 ? q->len : sizeof(h.body) - 1), q->body);
    json_t *root = json_loadb(q->body, q->len, 0, NULL);
    copy(h.type, sizeof(h.type), json_string_value(json_object_get(root, "type")));
    json_decref(root);

    pthread_mutex_lock(&f->mu);
    struct route *r = find(f, q->url);
    long status = 404;
    if (r) {
        struct err e;
        err_init(&e);
        h.verified = webhook_sig_verify(r->secret, id, ts, sig, q->body, q->len,
                                        (int64_t)time(NULL), &e) == 0;
        copy(h.why, sizeof(h.why), h.verified ? "" : e.msg);
        status = 200;
        if (r->fail_left != 0) {
            status = r->fail_status;
            if (r->fail_left > 0)
                r->fail_left--;
        }
        h.answered = status;
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 8;
            r->hooks = realloc(r->hooks, r->cap * sizeof(*r->hooks));
            if (!r->hooks)
                abort();
        }
        r->hooks[r->n++] = h;
    }
    pthread_mutex_unlock(&f->mu);
    answer(a, (unsigned)status, status == 200 ? "thanks" : "receiver says no");
}

struct fake_receiver *fake_receiver_start(void)
{
    struct fake_receiver *f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    pthread_mutex_init(&f->mu, NULL);
    f->http = fake_http_start(handle, f);
    if (!f->http) {
        fprintf(stderr, "fake_receiver: cannot start\n");
        fake_receiver_stop(f);
        return NULL;
    }
    return f;
}

void fake_receiver_stop(struct fake_receiver *f)
{
    if (!f)
        return;
    fake_http_stop(f->http);
    for (size_t i = 0; i < f->n_routes; i++)
        free(f->routes[i].hooks);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

const char *fake_receiver_url(const struct fake_receiver *f)
{
    return fake_http_url(f->http);
}

void fake_receiver_route(struct fake_receiver *f, const char *path, const char *secret)
{
    pthread_mutex_lock(&f->mu);
    struct route *r = find(f, path);
    if (!r && f->n_routes < ROUTES_MAX) {
        r = &f->routes[f->n_routes++];
        copy(r->path, sizeof(r->path), path);
    }
    if (r)
        copy(r->secret, sizeof(r->secret), secret);
    pthread_mutex_unlock(&f->mu);
}

void fake_receiver_fail(struct fake_receiver *f, const char *path, long status, int n)
{
    pthread_mutex_lock(&f->mu);
    struct route *r = find(f, path);
    if (r) {
        r->fail_status = status;
        r->fail_left = n;
    }
    pthread_mutex_unlock(&f->mu);
}

size_t fake_receiver_count(struct fake_receiver *f, const char *path)
{
    pthread_mutex_lock(&f->mu);
    struct route *r = find(f, path);
    size_t n = r ? r->n : 0;
    pthread_mutex_unlock(&f->mu);
    return n;
}

bool fake_receiver_get(struct fake_receiver *f, const char *path, size_t i, struct fake_hook *out)
{
    pthread_mutex_lock(&f->mu);
    struct route *r = find(f, path);
    bool ok = r && i < r->n;
    if (ok)
        *out = r->hooks[i];
    pthread_mutex_unlock(&f->mu);
    return ok;
}
