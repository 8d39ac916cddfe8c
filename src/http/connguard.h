/* SPDX-License-Identifier: MIT */
/*
 * Connection guard against slow clients: a deadline for each request head (from the moment the
 * connection opens or its previous request ends), a minimum rate for request bodies, and
 * connection slots kept for addresses that hold few connections. It knows no HTTP library: the
 * server reports each connection's phases and cuts (shutdown(2)) what connguard_sweep returns.
 * Tests: tests/unit/http/test_connguard.c, tests/integration/0014-hardening.c.
 */
#ifndef ICESHOP_HTTP_CONNGUARD_H
#define ICESHOP_HTTP_CONNGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct connguard;
struct connguard_conn;

struct connguard_limits {
    int max_connections;   /* the server's connection limit */
    int reserve;           /* slots only addresses below `light` connections may take */
    int light;             /* an address holding fewer connections than this is "light" */
    int64_t header_ms;     /* deadline for a whole request head; also the body's base allowance */
    int64_t body_min_rate; /* bytes/s a body must keep up past header_ms; 0 = no body limit */
};

/* Thread-safe: every function may be called from any server thread. */
struct connguard *connguard_new(const struct connguard_limits *lim);
void connguard_free(struct connguard *g);

/*
 * May a new connection from `ip` be accepted? False when the free slots are down to the
 * reserve and `ip` already holds `light` connections or more.
 */
bool connguard_admit(struct connguard *g, const char *ip);
/* Connections tracked now from `ip` (a per-address limit the server applies itself). */
int connguard_ip_count(struct connguard *g, const char *ip);
/*
 * Track a new connection (socket `fd`) from `ip`, opened at `now_ms`; its head deadline starts.
 * The handle is owned by the guard until connguard_close.
 */
struct connguard_conn *connguard_open(struct connguard *g, const char *ip, int fd, int64_t now_ms);
/* The connection is gone (before its socket is closed); frees `c`. NULL is ignored. */
void connguard_close(struct connguard *g, struct connguard_conn *c);
/* The request head arrived at now_ms: the body phase starts (its rate is now watched). */
void connguard_head_done(struct connguard *g, struct connguard_conn *c, int64_t now_ms);
/* `n` body bytes arrived. */
void connguard_body(struct connguard *g, struct connguard_conn *c, size_t n);
/* The body is complete (or not wanted): no deadline while the request is handled and answered. */
void connguard_busy(struct connguard *g, struct connguard_conn *c);
/* The request ended at now_ms; the connection waits for the next head, under a fresh deadline. */
void connguard_idle(struct connguard *g, struct connguard_conn *c, int64_t now_ms);

/*
 * Call `cut(fd, ctx)` for each connection past its deadline at now_ms (once per connection),
 * with the guard locked, so the socket cannot be closed and its number reused meanwhile.
 * Returns how many were cut.
 */
int connguard_sweep(struct connguard *g, int64_t now_ms, void (*cut)(int fd, void *ctx), void *ctx);
/* Connections tracked now, and ever cut for being slow. */
int connguard_count(struct connguard *g);
uint64_t connguard_cut_total(struct connguard *g);

#endif
