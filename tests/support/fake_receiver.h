/* SPDX-License-Identifier: MIT */
/*
 * A local webhook receiver for tests: libmicrohttpd on 127.0.0.1 in its own threads. Each
 * route (a path) has the endpoint's secret; every POST to it is checked with the Standard
 * Webhooks verifier (src/core/webhook_sig.c) and recorded with its headers, body and the
 * status it was answered with (200, or a scripted failure). Used by
 * tests/integration/0009-webhooks-out.c.
 */
#ifndef ICESHOP_TESTS_FAKE_RECEIVER_H
#define ICESHOP_TESTS_FAKE_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>

struct fake_hook {
    char path[128];
    char id[128];       /* webhook-id */
    char timestamp[32]; /* webhook-timestamp */
    char type[64];      /* the body's "type" */
    char body[4096];    /* the start of the raw body */
    bool verified;      /* the signature matched the route's secret */
    char why[256];      /* why verification failed, or "" */
    long answered;      /* the status it got */
};

struct fake_receiver;

/* Start on a free port; NULL (with a message) when it cannot. */
struct fake_receiver *fake_receiver_start(void);
void fake_receiver_stop(struct fake_receiver *f);
/* "http://127.0.0.1:<port>" */
const char *fake_receiver_url(const struct fake_receiver *f);
/* Verify requests to `path` with `secret` (copied); a path without a route answers 404. */
void fake_receiver_route(struct fake_receiver *f, const char *path, const char *secret);
/* Answer the next `n` requests to `path` with `status` (n < 0: every request from now on). */
void fake_receiver_fail(struct fake_receiver *f, const char *path, long status, int n);
/* Requests recorded for `path`, and the i-th of them (0 = first); false when there is none. */
size_t fake_receiver_count(struct fake_receiver *f, const char *path);
bool fake_receiver_get(struct fake_receiver *f, const char *path, size_t i, struct fake_hook *out);

#endif
