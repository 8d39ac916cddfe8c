/* SPDX-License-Identifier: MIT */
/*
 * The waiting room: requests whose answer waits for a job (http_req_defer, request.h) are parked
 * here while their connection is suspended, so no HTTP thread is held while, say, a campaign is
 * planned by a language model on its job lane. One thread looks up every parked request's job
 * every DEFER_POLL_MS (one indexed read each, within the request's tenant) and hands a request
 * back through `resume` once its job is done or dead, or its deadline has passed; the server
 * then runs the request's finish function on an HTTP thread. Thread-safe.
 * Tests: tests/integration/0026-campaigns.c (a planned campaign answered while the only HTTP
 * thread serves other requests).
 */
#ifndef ICESHOP_HTTP_DEFER_H
#define ICESHOP_HTTP_DEFER_H

#include "db/db.h"

#define DEFER_POLL_MS 50

struct http_req;
struct defer_room;

/* Called from the room's thread with the parked request's server connection handle. */
typedef void defer_resume_fn(void *conn);

/* A room reading jobs through `db`; NULL when its thread cannot start. */
struct defer_room *defer_room_new(struct db *db, defer_resume_fn *resume);

/*
 * Park `r` (its defer_* fields set by http_req_defer, its connection already suspended, its
 * database connection given back). After close, `r` is handed back at once.
 */
void defer_room_park(struct defer_room *room, struct http_req *r);

/*
 * Stop waiting (server shutdown): every parked request is handed back with its job's state as
 * last seen, and later parks are handed back at once. Joins the thread. NULL is allowed.
 */
void defer_room_close(struct defer_room *room);

/* Frees a closed room. NULL is allowed. */
void defer_room_free(struct defer_room *room);

#endif
