/* SPDX-License-Identifier: MIT */
/*
 * The fake servers' common skeleton (see fake_http.h): body collection, the handler call, the
 * answer, and start/stop on a loopback port.
 */
#include "fake_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX (1u << 20)

struct fake_http {
    struct MHD_Daemon *daemon;
    char url[64];
    fake_http_fn *fn;
    void *cls;
};

struct conn {
    char *body;
    size_t len;
    bool too_big;
};

const char *fake_http_header(const struct fake_http_request *q, const char *name)
{
    return MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result reply(struct MHD_Connection *c, struct fake_http_answer *a)
{
    const char *body = a->body ? a->body : "";
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body,
                                                             MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type",
                            a->content_type[0] ? a->content_type : "application/json");
    if (a->retry_after[0])
        MHD_add_response_header(r, "Retry-After", a->retry_after);
    if (a->replayed)
        MHD_add_response_header(r, "Idempotent-Replayed", "true");
    if (a->header[0])
        MHD_add_response_header(r, a->header, a->header_value);
    enum MHD_Result ret = MHD_queue_response(c, a->status ? a->status : 200, r);
    MHD_destroy_response(r);
    free(a->body);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct fake_http *h = cls;
    struct conn *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof(*st));
        if (!st)
            return MHD_NO;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size) {
        if (st->len + *upload_size > BODY_MAX) {
            st->too_big = true;
        } else {
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
    struct fake_http_answer a;
    memset(&a, 0, sizeof(a));
    if (st->too_big) {
        a.status = 413;
        return reply(c, &a);
    }
    struct fake_http_request q = {
        .method = method, .url = url, .body = st->body ? st->body : "", .len = st->len, .conn = c};
    h->fn(h->cls, &q, &a);
    return reply(c, &a);
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

struct fake_http *fake_http_start(fake_http_fn *fn, void *cls)
{
    struct fake_http *h = calloc(1, sizeof(*h));
    if (!h)
        abort();
    h->fn = fn;
    h->cls = cls;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    h->daemon =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, on_request,
                         h, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                         NULL, MHD_OPTION_THREAD_POOL_SIZE, 4U, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        h->daemon ? MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info || info->port == 0) {
        fprintf(stderr, "fake_http: cannot start\n");
        fake_http_stop(h);
        return NULL;
    }
    snprintf(h->url, sizeof(h->url), "http://127.0.0.1:%u", (unsigned)info->port);
    return h;
}

void fake_http_stop(struct fake_http *h)
{
    if (!h)
        return;
    if (h->daemon)
        MHD_stop_daemon(h->daemon);
    free(h);
}

const char *fake_http_url(const struct fake_http *h)
{
    return h->url;
}
