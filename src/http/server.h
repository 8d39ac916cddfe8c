/* SPDX-License-Identifier: MIT */
/*
 * The HTTP server: the only module that sees libmicrohttpd. It enforces the limits (connections,
 * per-IP connections, idle time, header and body size), routes through the route table,
 * authenticates, rate-limits, runs handlers on its thread pool, streams Server-Sent Events with
 * suspend/resume, and writes one JSON access-log line per request. Tests: tests/integration/.
 */
#ifndef ICESHOP_HTTP_SERVER_H
#define ICESHOP_HTTP_SERVER_H

#include "core/err.h"
#include "http/app.h"
#include "http/router.h"

#include <stddef.h>

struct http_server;

/* Listen on app->cfg's host:port and serve `routes`. */
int http_server_start(struct app *app, const struct http_route *routes, size_t n_routes,
                      struct http_server **out, struct err *e);
/* The bound port (useful with port 0). */
int http_server_port(struct http_server *s);
/* Requests currently being handled (not counting open event streams). */
int http_server_inflight(struct http_server *s);
/*
 * Graceful stop: stop accepting, end event streams, let requests in flight finish for up to
 * `grace_ms`, then close every connection and free the server.
 */
void http_server_stop(struct http_server *s, int grace_ms);

#endif
