/* SPDX-License-Identifier: MIT */
/*
 * The skeleton of the tests' fake upstream servers: libmicrohttpd on 127.0.0.1 (a free port) in
 * its own threads, each request's body collected (up to 1 MiB; more is answered 413), then handed
 * whole to the fake's handler, which fills the answer. Used by fake_receiver.c and fake_llm.c.
 */
#ifndef ICESHOP_TESTS_FAKE_HTTP_H
#define ICESHOP_TESTS_FAKE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct fake_http;
struct MHD_Connection;

struct fake_http_request {
    const char *method;
    const char *url; /* the path */
    const char *body;
    size_t len;
    struct MHD_Connection *conn; /* for fake_http_header */
};

/* A request header, or NULL. */
const char *fake_http_header(const struct fake_http_request *q, const char *name);

struct fake_http_answer {
    unsigned status;        /* 200 unless set */
    char content_type[64];  /* "application/json" unless set */
    char *body;             /* malloc'd by the handler, freed by fake_http; NULL = empty */
    char retry_after[16];   /* a Retry-After header when not empty */
    bool replayed;          /* Stripe's "Idempotent-Replayed: true" */
    char header[64];        /* one more header when not empty: its name ... */
    char header_value[128]; /* ... and value */
};

typedef void fake_http_fn(void *cls, const struct fake_http_request *q, struct fake_http_answer *a);

/* Start serving `fn`; NULL (with a message) when it cannot. */
struct fake_http *fake_http_start(fake_http_fn *fn, void *cls);
void fake_http_stop(struct fake_http *h);
/* "http://127.0.0.1:<port>" */
const char *fake_http_url(const struct fake_http *h);

#endif
