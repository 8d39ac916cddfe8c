/* SPDX-License-Identifier: MIT */
/*
 * The local webhook receiver (see fake_receiver.h): records every POST, checks its Standard
 * Webhooks signature with the route's secret at the current time, and answers 200 or the
 * scripted failure status.
 */
#include "fake_receiver.h"
#include "core/err.h"
#include "core/webhook_sig.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUTES_MAX 16
#define BODY_MAX   (1u << 20)

struct route {
    char path[128];
    char secret[128];
    long fail_status;
    int fail_left; /* < 0: always */
    struct fake_hook *hooks;
    size_t n, cap;
};

struct fake_receiver {
    struct MHD_Daemon *daemon;
    char url[64];
    pthread_mutex_t mu;
    struct route routes[ROUTES_MAX];
    size_t n_routes;
};

struct conn {
    char *body;
    size_t len;
};

static struct route *find(struct fake_receiver *f, const char *path)
{
    for (size_t i = 0; i < f->n_routes; i++) {
        if (strcmp(f->routes[i].path, path) == 0)
            return &f->routes[i];
    }
    return NULL;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned int status, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text,
                                                             MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "text/plain");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static enum MHD_Result handle(struct fake_receiver *f, struct MHD_Connection *c, const char *url,
                              const char *method, struct conn *st)
{
    if (strcmp(method, "POST") != 0)
        return answer(c, 405, "POST only");
    const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, WEBHOOK_SIG_HDR_ID);
    const char *ts = MHD_lookup_connection_value(c, MHD_HEADER_KIND, WEBHOOK_SIG_HDR_TIMESTAMP);
    const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, WEBHOOK_SIG_HDR_SIGNATURE);
    struct fake_hook h;
    memset(&h, 0, sizeof(h));
    copy(h.path, sizeof(h.path), url);
    copy(h.id, sizeof(h.id), id);
    copy(h.timestamp, sizeof(h.timestamp), ts);
    snprintf(h.body, sizeof(h.body), "%.*s",
             (int)(st->len < sizeof(h.body) - 1 ? st->len : sizeof(h.body) - 1),
             st->body ? st->body : "");
    json_t *root = json_loadb(st->body ? st->body : "", st->len, 0, NULL);
    copy(h.type, sizeof(h.type), json_string_value(json_object_get(root, "type")));
    json_decref(root);

    pthread_mutex_lock(&f->mu);
    struct route *r = find(f, url);
    long status = 404;
    if (r) {
        struct err e;
        err_init(&e);
        h.verified = webhook_sig_verify(r->secret, id, ts, sig, st->body ? st->body : "", st->len,
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
    return answer(c, (unsigned int)status, status == 200 ? "thanks" : "receiver says no");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct conn *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof(*st));
        if (!st)
            return MHD_NO;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size) {
        if (st->len + *upload_size <= BODY_MAX) {
            char *nb = realloc(st->body, st->len + *upload_size + 1);
            if (!nb)
                return MHD_NO;
            memcpy(nb + st->len, upload, *upload_size);
            st->len += *upload_size;
            nb[st->len] = '\0';
            st->body = nb;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    return handle(cls, c, url, method, st);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct conn *st = *con_cls;
    if (st) {
        free(st->body);
        free(st);
        *con_cls = NULL;
    }
}

struct fake_receiver *fake_receiver_start(void)
{
    struct fake_receiver *f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    pthread_mutex_init(&f->mu, NULL);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    f->daemon =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, on_request,
                         f, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                         NULL, MHD_OPTION_THREAD_POOL_SIZE, 2U, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        f->daemon ? MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info || info->port == 0) {
        fprintf(stderr, "fake_receiver: cannot start\n");
        fake_receiver_stop(f);
        return NULL;
    }
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u", (unsigned)info->port);
    return f;
}

void fake_receiver_stop(struct fake_receiver *f)
{
    if (!f)
        return;
    if (f->daemon)
        MHD_stop_daemon(f->daemon);
    for (size_t i = 0; i < f->n_routes; i++)
        free(f->routes[i].hooks);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

const char *fake_receiver_url(const struct fake_receiver *f)
{
    return f->url;
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
