/* SPDX-License-Identifier: MIT */
/*
 * What a handler sees of a request, and how it replies. Everything here is borrowed until the
 * request ends; allocate request-scoped memory from `r->arena`. A handler either calls one of the
 * http_reply_* functions and returns 0, or returns an error code with `e` filled, which the router
 * turns into a JSON problem {"error":{"code","message","field"}} via http_status_from_err().
 */
#ifndef ICESHOP_HTTP_REQUEST_H
#define ICESHOP_HTTP_REQUEST_H

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "db/store.h"
#include "domain/account/account.h"
#include "http/app.h"
#include "http/router.h"
#include "integrations/wh_headers.h"
#include "jobs/queue.h"
#include "json/json.h"

#include <stdbool.h>
#include <stdint.h>

struct http_header {
    const char *name;
    const char *value;
};

struct http_req;

/*
 * How a deferred request ends (http_req_defer): called on an HTTP thread once the wait is over,
 * with the job's state then (JOB_STATE_DONE or DEAD, or PENDING / RUNNING when the deadline
 * passed or the server is stopping first). It replies, or returns an error, as a handler does.
 */
typedef int http_defer_fn(struct http_req *r, enum job_state state, struct err *e);

enum http_defer_phase {
    HTTP_DEFER_NONE = 0,
    HTTP_DEFER_ASKED,
    HTTP_DEFER_PARKED,
    HTTP_DEFER_READY
};

#define HTTP_MAX_REPLY_HEADERS 8

/* How request.c reads the connection; provided by server.c (the only HTTP-library user). */
struct http_conn_ops {
    const char *(*header)(void *conn, const char *name);    /* case-insensitive; NULL if absent */
    const char *(*query_raw)(void *conn, const char *name); /* still percent-encoded */
};

struct http_req {
    struct arena arena;
    struct app *app;
    void *conn; /* the server's connection handle; only server.c looks inside */
    const struct http_conn_ops *conn_ops;
    const char *method;
    const char *path;
    char request_id[72];
    char client_ip[64];
    const struct http_route *route; /* NULL when no route matched */
    size_t route_index;
    struct router_params params;
    struct account_principal who; /* tenant/role of the caller; role ROLE_NONE when anonymous */
    struct buf body;
    bool body_too_large;
    size_t drained;                      /* bytes discarded after the body passed its limit */
    uint64_t streamed;                   /* HTTP_BODY_STREAM: body bytes handed over so far */
    json_t *json;                        /* parsed body for HTTP_BODY_JSON routes */
    enum http_stream_phase stream_phase; /* HTTP_BODY_STREAM routes: which call this is */
    const char *stream_data;             /* DATA: this piece of the body */
    size_t stream_len;
    void *stream_ctx;   /* a streamed route's state (set in BEGIN) */
    bool stream_failed; /* begin or data refused; stream_err says why */
    struct err stream_err;
    int64_t start_ns;
    struct db_conn *db; /* lazily acquired by http_req_db(); released at request end */

    /* the reply */
    int status;
    const char *content_type;
    char *reply_body; /* malloc'd; ownership passes to the server */
    size_t reply_len;
    bool reply_is_file; /* http_reply_file: the body is reply_fd's bytes (the fd is owned) */
    int reply_fd;
    int64_t reply_fd_size;
    struct http_header reply_headers[HTTP_MAX_REPLY_HEADERS];
    int n_reply_headers;
    bool replied;
    bool sse;   /* the handler turned this request into an event stream */
    bool close; /* close the connection after the reply (framing could not be trusted) */
    int64_t sse_tenant_id;

    /* http_req_defer(): the job the answer waits for; the rest belongs to server.c and defer.c */
    enum http_defer_phase defer_phase;
    int64_t defer_job;
    int64_t defer_deadline_ms; /* monotonic clock */
    http_defer_fn *defer_finish;
    void *defer_ctx; /* the handler's, for its finish function */
    enum job_state defer_state;
    struct http_req *defer_next;
};

/* Path parameter by name ({id}), or NULL. */
const char *http_req_param(struct http_req *r, const char *name);
/* Query-string argument by name, or NULL. */
const char *http_req_query(struct http_req *r, const char *name);
/* Request header by name (case-insensitive), or NULL. */
const char *http_req_header(struct http_req *r, const char *name);
/*
 * Whether a page that serves people and programs should answer JSON: ?format=json, or an
 * Accept header naming application/json and not text/html. Otherwise (a browser, or no Accept)
 * it answers its HTML page.
 */
bool http_req_wants_json(struct http_req *r);
/*
 * Fill `h` (initialised by the caller) with the request headers called `names` (NULL-terminated,
 * e.g. an integrations_provider's `headers`) that are present; the values are borrowed until
 * the request ends. Returns 0, or ERR_TOO_LARGE past WH_HEADERS_MAX.
 */
int http_req_webhook_headers(struct http_req *r, const char *const *names, struct wh_headers *h,
                             struct err *e);
/* A pooled database connection for this request, released when the request ends. */
int http_req_db(struct http_req *r, struct db_conn **out, struct err *e);
/*
 * The storage of `tenant` (net/storage.h storage_for_tenant), held until the request ends. Uses
 * the request's connection when it has one, else a pooled one just for the look-up (a streamed
 * upload does not keep a connection while its bytes arrive).
 */
struct storage;
int http_req_storage(struct http_req *r, int64_t tenant, struct storage **out, struct err *e);
/*
 * Parse path parameter `name` as a positive int64 id; ERR_NOT_FOUND when malformed (a bad id
 * names no resource).
 */
int http_req_param_id(struct http_req *r, const char *name, int64_t *out, struct err *e);
/* Integer query argument in [lo, hi], `def` when absent; ERR_INVALID naming it otherwise. */
int http_req_query_int(struct http_req *r, const char *name, int64_t lo, int64_t hi, int64_t def,
                       int64_t *out, struct err *e);

/* Number query argument in [lo, hi] (finite), `def` when absent; ERR_INVALID naming it otherwise.
 */
int http_req_query_number(struct http_req *r, const char *name, double lo, double hi, double def,
                          double *out, struct err *e);

/*
 * The page a list route was asked for: `limit` in 1..max_limit (def_limit when absent) and the
 * cursor `after` in 1..INT64_MAX (0 when absent: the first page). ERR_INVALID naming "limit" or
 * "after" otherwise. Every list route reads its page through this.
 */
int http_req_page(struct http_req *r, int def_limit, int max_limit, struct page *out,
                  struct err *e);
/*
 * The body of a list answer: {"<key>": items, "next_after": cursor or null}, the cursor being
 * db_page_next(p, n, last_id) (the id of the last of n rows). Takes the reference to `items`.
 */
json_t *http_page_body(const char *key, json_t *items, const struct page *p, size_t n,
                       int64_t last_id);

/*
 * How answers write times and money, the same on every route: a time (ms since the epoch) as
 * ISO-8601 UTC text, JSON null for 0 (not set); an amount of minor units as the currency's
 * decimal text ("11.77", "1200" in JPY), JSON null without a currency.
 */
struct money_currency;
json_t *http_json_time(int64_t ms);
json_t *http_json_amount(int64_t minor, const struct money_currency *cur);
/* The same for a currency code ("TRY"); JSON null for a code core/money.h does not know. */
json_t *http_json_amount_code(int64_t minor, const char *currency);

/* Reply with JSON; takes the reference to `body`. */
int http_reply_json(struct http_req *r, int status, json_t *body);
/*
 * Reply with the JSON text written into `b` (for hot paths that skip the jansson tree; the
 * buffer is taken over and left empty). `rc` is the result of the appends: when one failed
 * (the buffer's limit), the reply is not sent and ERR_TOO_LARGE is returned.
 */
int http_reply_json_buf(struct http_req *r, int status, struct buf *b, int rc, struct err *e);
/* Reply with bytes (copied). */
int http_reply_bytes(struct http_req *r, int status, const char *content_type, const char *data,
                     size_t len);
/*
 * Reply with `size` bytes read from `fd` (takes ownership: closed after sending, or at request
 * end if the reply is replaced), without loading them into memory.
 */
int http_reply_file(struct http_req *r, int status, const char *content_type, int fd, int64_t size);
/* Add a response header (copied into the arena); at most HTTP_MAX_REPLY_HEADERS. */
void http_reply_header(struct http_req *r, const char *name, const char *value);
/* The JSON error reply for `e` (status from http_status_from_err). */
void http_reply_error(struct http_req *r, const struct err *e);
/* Turn this request into a Server-Sent Events stream of `tenant_id`'s events. */
int http_reply_sse(struct http_req *r, int64_t tenant_id);

/*
 * Answer later, once job `job_id` (committed, of the caller's tenant) is done or dead, or after
 * `wait_ms`: the handler returns 0 without replying, the server parks the connection without
 * holding a thread or a database connection (http/defer.h), then calls `finish` with `ctx`
 * (kept in r->defer_ctx; allocate it from r->arena).
 */
void http_req_defer(struct http_req *r, int64_t job_id, int64_t wait_ms, http_defer_fn *finish,
                    void *ctx);
/*
 * Whether the client's Prefer header (RFC 7240) holds preference `name`, e.g. "respond-async".
 * A handler that honours it adds Preference-Applied.
 */
bool http_req_prefers(struct http_req *r, const char *name);

/* HTTP status for an error code: ERR_INVALID→400, ERR_UNAUTHORIZED→401, ... ERR_DB→503. */
int http_status_from_err(enum err_code code);

#endif
