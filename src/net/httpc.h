/* SPDX-License-Identifier: MIT */
/*
 * Outbound HTTP client for job handlers (webhooks out, provider APIs). One blocking call,
 * httpc_do(), behind `struct httpc_ops` so tests can swap in a fake (or fail the Nth call).
 * The real backend is libcurl; httpc.c is the only file that includes <curl/curl.h>.
 * Never call it on a request thread: enqueue a job. Tests: tests/unit/net/test_httpc.c.
 */
#ifndef ICESHOP_NET_HTTPC_H
#define ICESHOP_NET_HTTPC_H

#include "core/buf.h"
#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

#define HTTPC_DEFAULT_TIMEOUT_MS         10000
#define HTTPC_DEFAULT_CONNECT_TIMEOUT_MS 5000
/* Cap on the response header bytes kept (status line excluded). */
#define HTTPC_MAX_HEADER_BYTES ((size_t)64 * 1024)

struct httpc_header {
    const char *name;
    const char *value;
};

/*
 * One request. Everything is borrowed for the duration of httpc_do(). Zero fields take the
 * defaults, so `struct httpc_request r = {.url = u};` is a GET with a 10 s timeout.
 */
struct httpc_request {
    const char *method; /* "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"; NULL → "GET" */
    const char *url;    /* http:// or https:// only; redirects are not followed */
    const struct httpc_header *headers; /* sent as given; no CR/LF allowed */
    size_t nheaders;
    const void *body; /* sent when body_len > 0 (or for POST/PUT/PATCH, even empty) */
    size_t body_len;
    long timeout_ms;         /* whole transfer; 0 → HTTPC_DEFAULT_TIMEOUT_MS */
    long connect_timeout_ms; /* 0 → HTTPC_DEFAULT_CONNECT_TIMEOUT_MS */
    size_t max_response;     /* body cap in bytes; 0 → BUF_MAX_RESPONSE */
    /*
     * A streamed upload instead of `body` (method PUT): upload_read fills up to `max` bytes and
     * returns how many, 0 at the end, or (size_t)-1 to abort; upload_len is the exact length.
     */
    size_t (*upload_read)(void *ctx, char *buf, size_t max);
    void *upload_ctx;
    int64_t upload_len;
    /*
     * A streamed response: each piece of a 2xx body goes to sink (not to resp->body, and with
     * no max_response cap; other statuses' bodies still go to resp->body); a non-zero return
     * aborts the transfer with ERR_UPSTREAM.
     */
    int (*sink)(void *ctx, const char *p, size_t n);
    void *sink_ctx;
    /* AWS Signature V4 by libcurl: "aws:amz:<region>:<service>" with "<access>:<secret>". */
    const char *aws_sigv4;
    const char *userpwd;
};

/*
 * A response. Owns its memory: init before the call, release after use. A 4xx/5xx status is
 * a successful call (httpc_do returns 0); the caller decides what the status means.
 */
struct httpc_response {
    long status;                  /* e.g. 200; 0 when no response arrived */
    struct buf body;              /* raw body bytes, NUL-terminated */
    struct httpc_header *headers; /* of the final response; names and values owned */
    size_t nheaders;
    size_t cap;          /* internal: allocated header slots */
    size_t header_bytes; /* internal: header bytes received, against HTTPC_MAX_HEADER_BYTES */
};

void httpc_response_init(struct httpc_response *r);
/* Free the body and headers; the struct can be init'ed and reused. */
void httpc_response_release(struct httpc_response *r);
/*
 * Value of the first response header named `name` (case-insensitive), without surrounding
 * whitespace; NULL when absent. Borrowed until httpc_response_release().
 */
const char *httpc_response_header(const struct httpc_response *r, const char *name);

/*
 * A backend. do_request fills `resp` (already init'ed by the caller) and follows the
 * httpc_do() error contract. `ctx` is passed back untouched.
 */
struct httpc_ops {
    int (*do_request)(void *ctx, const struct httpc_request *req, struct httpc_response *resp,
                      struct err *e);
    void *ctx;
};

/* The libcurl backend (the default). */
const struct httpc_ops *httpc_ops_curl(void);
/*
 * Route every httpc_do() call through `ops` (borrowed; must outlive its use); NULL restores
 * the libcurl backend. For tests and wiring in main.c; set it before workers start.
 */
void httpc_set_ops(const struct httpc_ops *ops);

/*
 * Initialise libcurl once for the process (thread-safe, idempotent). Call from main before
 * threads start; httpc_do() calls it too. Returns 0 or ERR_INTERNAL.
 */
int httpc_global_init(struct err *e);
/* Undo httpc_global_init() at exit, after every worker has stopped. */
void httpc_global_cleanup(void);

/*
 * Perform `req` and fill `resp` (init'ed by the caller; on error it may hold a partial
 * response, and must still be released). TLS peers and host names are always verified.
 * Returns 0 once a full response arrived (any status); ERR_INVALID for a bad request (no url,
 * unsupported scheme, CR/LF in a header); ERR_TIMEOUT when timeout_ms or connect_timeout_ms
 * passed; ERR_TOO_LARGE when the body exceeds max_response or the headers exceed
 * HTTPC_MAX_HEADER_BYTES (the transfer is aborted); ERR_UPSTREAM for DNS, connection, TLS and
 * protocol failures; ERR_INTERNAL when libcurl cannot start.
 */
int httpc_do(const struct httpc_request *req, struct httpc_response *resp, struct err *e);

#endif
