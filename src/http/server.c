/* SPDX-License-Identifier: MIT */
/*
 * libmicrohttpd glue: request lifecycle, limits, routing, auth, handler dispatch, replies,
 * Server-Sent Events and the access log. Nothing else includes <microhttpd.h>.
 * Tests: tests/integration/ (hostile input, limits, SSE, shutdown).
 */
#include "http/server.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/ipnet.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "http/auth.h"
#include "http/connguard.h"
#include "http/defer.h"
#include "http/metrics.h"
#include "http/ratelimit.h"
#include "http/request.h"
#include "http/sse.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEADER_MEMORY_LIMIT     (32 * 1024) /* per-connection buffer: bounds request headers */
#define SSE_CHUNK               4096
#define GUARD_LIGHT_CONNECTIONS 4 /* fewer than this, an address may use the reserved slots */

struct http_server {
    struct MHD_Daemon *d;
    struct app *app;
    const struct http_route *routes;
    size_t n_routes;
    _Atomic int inflight;
    _Atomic int streams;
    int port;
    struct connguard *guard; /* slow-client deadlines and slots kept for light addresses */
    pthread_t sweeper;
    _Atomic bool stopping;
    struct defer_room *room; /* requests waiting for a job (http_req_defer) */
};

/* Stream state for an SSE reply; owned by the MHD response (freed by its free callback). */
struct sse_stream {
    struct sse_sub *sub;
    struct MHD_Connection *conn;
    struct http_server *srv;
};

static _Atomic uint64_t request_seq;
static char process_tag[9];

/* ======================== request accessors for request.c ======================== */

static const char *conn_header(void *conn, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)conn, MHD_HEADER_KIND, name);
}

static const char *conn_query(void *conn, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)conn, MHD_GET_ARGUMENT_KIND, name);
}

static const struct http_conn_ops conn_ops = {.header = conn_header, .query_raw = conn_query};

/* ======================== replies ======================== */

static void add_headers(struct http_req *r, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    for (int i = 0; i < r->n_reply_headers; i++)
        MHD_add_response_header(resp, r->reply_headers[i].name, r->reply_headers[i].value);
}

static enum MHD_Result queue_reply(struct http_req *r, struct MHD_Connection *conn)
{
    if (!r->replied) {
        struct err e;
        err_init(&e);
        err_set(&e, ERR_INTERNAL, "handler produced no reply");
        http_reply_error(r, &e);
    }
    struct MHD_Response *resp;
    if (r->reply_is_file) {
        /* libmicrohttpd reads the descriptor as it sends and closes it */
        resp = MHD_create_response_from_fd64((uint64_t)r->reply_fd_size, r->reply_fd);
        if (!resp)
            close(r->reply_fd);
        r->reply_is_file = false;
    } else {
        resp =
            MHD_create_response_from_buffer_with_free_callback(r->reply_len, r->reply_body, free);
        r->reply_body = NULL; /* the response owns it now */
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type",
                            r->content_type ? r->content_type : "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (r->close)
        MHD_add_response_header(resp, "Connection", "close");
    add_headers(r, resp);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void sse_suspend(void *ctx)
{
    struct sse_stream *st = ctx;
    MHD_suspend_connection(st->conn);
}

static void sse_wake(void *ctx)
{
    struct sse_stream *st = ctx;
    MHD_resume_connection(st->conn);
}

static ssize_t sse_reader(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    struct sse_stream *st = cls;
    bool closed = false;
    size_t n = sse_sub_read(st->sub, out, max, &closed, sse_suspend, sse_wake, st);
    if (n)
        return (ssize_t)n;
    if (closed)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return 0; /* suspended until the hub wakes us */
}

static void sse_free(void *cls)
{
    struct sse_stream *st = cls;
    sse_sub_free(st->sub);
    atomic_fetch_sub(&st->srv->streams, 1);
    free(st);
}

static enum MHD_Result queue_sse(struct http_server *srv, struct http_req *r,
                                 struct MHD_Connection *conn)
{
    struct sse_sub *sub = sse_sub_new(srv->app->hub, r->sse_tenant_id);
    if (!sub) {
        struct err e;
        err_init(&e);
        err_set(&e, ERR_RATE_LIMITED, "too many event streams open; try again later");
        http_reply_header(r, "Retry-After", "5");
        http_reply_error(r, &e);
        return queue_reply(r, conn);
    }
    struct sse_stream *st = xcalloc(1, sizeof(*st));
    st->sub = sub;
    st->conn = conn;
    st->srv = srv;
    atomic_fetch_add(&srv->streams, 1);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_CHUNK, sse_reader, st, sse_free);
    if (!resp) {
        sse_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    add_headers(r, resp);
    enum MHD_Result ret = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ======================== request lifecycle ======================== */

static bool valid_request_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return false;
    }
    return true;
}

static void addr_text(const struct sockaddr *sa, char *out, size_t n);

/* Collects every X-Forwarded-For header, in order, joined with commas. */
struct xff_acc {
    char text[1024];
    size_t len;
    bool seen;
};

static enum MHD_Result collect_xff(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    struct xff_acc *x = cls;
    if (!key || strcasecmp(key, "X-Forwarded-For") != 0 || !value)
        return MHD_YES;
    int n = snprintf(x->text + x->len, sizeof(x->text) - x->len, "%s%s", x->seen ? "," : "", value);
    if (n < 0 || (size_t)n >= sizeof(x->text) - x->len) {
        /* too long to trust whole: an entry cut in two reads as garbage, which stops the walk */
        x->len = sizeof(x->text) - 1;
    } else {
        x->len += (size_t)n;
    }
    x->seen = true;
    return MHD_YES;
}

/*
 * The client's address: the socket peer, or, when the peer is a trusted proxy
 * (ICESHOP_TRUSTED_PROXIES), the right-most untrusted address of X-Forwarded-For.
 */
static void fill_client_ip(struct http_req *r, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char peer[64];
    addr_text(ci ? ci->client_addr : NULL, peer, sizeof(peer));
    const struct ipnet_list *trusted = &r->app->cfg.trusted_proxies;
    if (trusted->n == 0 || !ipnet_list_contains(trusted, peer)) {
        str_copy(r->client_ip, sizeof(r->client_ip), peer);
        return;
    }
    struct xff_acc x = {.len = 0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_xff, &x);
    ipnet_forwarded_client(trusted, peer, x.seen ? x.text : NULL, r->client_ip,
                           sizeof(r->client_ip));
}

/* "req_" + the process tag + the sequence number in at least ten digits, without printf. */
static void new_request_id(char out[72], uint64_t seq)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + seq % 10);
        seq /= 10;
    } while (seq);
    size_t o = 0;
    memcpy(out, "req_", 4);
    o += 4;
    size_t tag = strlen(process_tag);
    memcpy(out + o, process_tag, tag);
    o += tag;
    for (size_t pad = n; pad < 10; pad++)
        out[o++] = '0';
    while (n)
        out[o++] = digits[--n];
    out[o] = '\0';
}

static struct http_req *req_new(struct http_server *srv, struct MHD_Connection *conn,
                                const char *method, const char *url)
{
    struct http_req *r = xcalloc(1, sizeof(*r));
    arena_init(&r->arena);
    r->start_ns = clock_mono_ns();
    r->app = srv->app;
    r->conn = conn;
    r->conn_ops = &conn_ops;
    r->method = arena_strdup(&r->arena, method);
    r->path = arena_strdup(&r->arena, url);
    r->route_index = srv->n_routes;
    r->status = 0;
    buf_init(&r->body, 0);
    const char *rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    if (rid && valid_request_id(rid))
        str_copy(r->request_id, sizeof(r->request_id), rid);
    else
        new_request_id(r->request_id, atomic_fetch_add(&request_seq, 1));
    fill_client_ip(r, conn);
    return r;
}

static bool content_type_is_json(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0)
        return false;
    ct += n;
    while (*ct == ' ')
        ct++;
    return *ct == '\0' || *ct == ';';
}

static bool has_body(struct MHD_Connection *conn, int64_t *content_length)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
    *content_length = -1;
    if (cl) {
        int64_t v;
        if (!str_to_i64(cl, &v))
            *content_length = v;
        return *content_length != 0;
    }
    return te != NULL;
}

/* What framing headers a request carries, gathered in one pass over its headers. */
struct framing {
    int n_cl, n_te, n_host;
    bool cl_differ, cl_bad;
    const char *cl, *te;
};

/* True when a Transfer-Encoding value is exactly "chunked" (any case, optional spaces). */
static bool coding_is_chunked(const char *te)
{
    while (*te == ' ' || *te == '\t')
        te++;
    size_t n = strlen("chunked");
    if (strncasecmp(te, "chunked", n) != 0)
        return false;
    for (te += n; *te == ' ' || *te == '\t'; te++)
        ;
    return *te == '\0';
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
    }
    return true;
}

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    struct framing *f = cls;
    if (!value)
        value = "";
    if (strcasecmp(key, "Content-Length") == 0) {
        if (!all_digits(value))
            f->cl_bad = true;
        if (f->n_cl++ && strcmp(f->cl, value) != 0)
            f->cl_differ = true;
        f->cl = value;
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->n_te++;
        f->te = value;
    } else if (strcasecmp(key, "Host") == 0) {
        f->n_host++;
    }
    return MHD_YES;
}

/*
 * Message framing as RFC 9112 §6.3 and §3.2 require, checked before anything else so that no
 * proxy in front can read a request's length differently from us: at most one Content-Length
 * value, never with Transfer-Encoding, "chunked" as the only transfer coding (501 otherwise),
 * and exactly one Host on HTTP/1.1. Returns 0, or ERR_INVALID (400) / ERR_NOT_IMPLEMENTED (501);
 * the connection is closed after that reply.
 */
static int framing_check(struct MHD_Connection *conn, const char *version, struct err *e)
{
    struct framing f;
    memset(&f, 0, sizeof(f));
    MHD_get_connection_values(conn, MHD_HEADER_KIND, framing_header, &f);
    if (f.n_te && f.n_cl)
        return err_set_field(e, ERR_INVALID, "Transfer-Encoding",
                             "a request must not carry both Transfer-Encoding and Content-Length");
    if (f.cl_differ)
        return err_set_field(e, ERR_INVALID, "Content-Length", "conflicting Content-Length values");
    if (f.cl_bad)
        return err_set_field(e, ERR_INVALID, "Content-Length",
                             "Content-Length must be a decimal number of bytes");
    if (f.n_te > 1 || (f.n_te && !coding_is_chunked(f.te))) {
        return err_set_field(e, ERR_NOT_IMPLEMENTED, "Transfer-Encoding",
                             "transfer coding not implemented; only chunked is accepted");
    }
    if (version && strcmp(version, MHD_HTTP_VERSION_1_1) == 0 && f.n_host != 1)
        return err_set_field(e, ERR_INVALID, "Host",
                             f.n_host ? "more than one Host header"
                                      : "an HTTP/1.1 request must carry a Host header");
    return 0;
}

/*
 * Checks that need no body: rate limit by IP, route, auth, role, size and type. Returns 0 to
 * go on, or an error code with the reply prepared.
 */
static int too_many(struct http_req *r, int retry, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A 429 with Retry-After; the message says which limit was hit and its value. */
static int too_many(struct http_req *r, int retry, struct err *e, const char *fmt, ...)
{
    char ra[16];
    snprintf(ra, sizeof(ra), "%d", retry);
    http_reply_header(r, "Retry-After", ra);
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_set(e, ERR_RATE_LIMITED, "%s; retry in %ds", msg, retry);
}

/* The credential's requests per second: its own, the admin key's, or the default; 0 = none. */
static int credential_rate(const struct app *app, const struct account_principal *who)
{
    if (who->rate_limit == ACCOUNT_RATE_UNLIMITED)
        return 0;
    return who->rate_limit > 0 ? who->rate_limit : app->cfg.rate_limit_key;
}

/*
 * Checks that need no body: route, rate limits, auth, role, size and type. Returns 0 to go on,
 * or an error code with the reply prepared. Anonymous traffic (public routes, unknown paths,
 * failed credentials) is limited per client address; an authenticated request by its
 * credential's own limit instead, so many clients behind one address, or one busy integration,
 * are told apart by key. An address that has used up its anonymous budget is refused before its
 * credential is looked up.
 */
static int precheck(struct http_server *srv, struct http_req *r, struct MHD_Connection *conn,
                    struct err *e)
{
    struct app *app = srv->app;
    int retry = 0;
    int64_t now = clock_now_ms(app->clock);
    const int ip_rate = app->cfg.rate_limit_ip;
    char allow[128];
    size_t idx = 0;
    enum router_result rr = router_match(srv->routes, srv->n_routes, r->method, r->path, &r->params,
                                         &idx, allow, sizeof(allow));
    bool anonymous = rr != ROUTER_FOUND || srv->routes[idx].role == ROLE_NONE;
    if (app->rl_ip && anonymous && !ratelimit_take(app->rl_ip, r->client_ip, now, &retry))
        return too_many(r, retry, e, "rate limit per address exceeded: %d requests/s (burst %d)",
                        ip_rate, ip_rate * 2);
    if (rr == ROUTER_BAD_PATH)
        return err_set(e, ERR_INVALID, "malformed request path");
    if (rr == ROUTER_NOT_FOUND)
        return err_set(e, ERR_NOT_FOUND, "no route for %s %s", r->method, r->path);
    if (rr == ROUTER_METHOD_NOT_ALLOWED) {
        http_reply_header(r, "Allow", allow);
        return err_set(e, ERR_NOT_ALLOWED, "method %s not allowed here; allowed: %s", r->method,
                       allow);
    }
    r->route = &srv->routes[idx];
    r->route_index = idx;
    if (!anonymous) {
        if (app->rl_ip && ratelimit_exhausted(app->rl_ip, r->client_ip, now, &retry))
            return too_many(r, retry, e,
                            "rate limit per address exceeded: %d requests/s (burst %d)", ip_rate,
                            ip_rate * 2);
        int rc = auth_request(r, e);
        if (rc == ERR_UNAUTHORIZED && app->rl_ip)
            (void)ratelimit_take(app->rl_ip, r->client_ip, now, NULL); /* guessing costs */
        if (rc)
            return rc;
        int rate = credential_rate(app, &r->who);
        if (rate > 0 && !ratelimit_take_rate(app->rl_key, r->who.subject, rate, now, &retry))
            return too_many(r, retry, e,
                            "rate limit of this credential (%s) exceeded: %d requests/s (burst %d)",
                            r->who.subject, rate, rate * 2);
    }
    int64_t cl;
    if (has_body(conn, &cl)) {
        if (r->route->max_body == 0)
            return err_set(e, ERR_TOO_LARGE, "%s %s takes no request body", r->method,
                           r->route->pattern);
        if (cl > (int64_t)r->route->max_body)
            return err_set(e, ERR_TOO_LARGE, "request body of %lld bytes exceeds the limit of %zu",
                           (long long)cl, r->route->max_body);
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        if ((r->route->flags & HTTP_BODY_JSON) && !content_type_is_json(ct))
            return err_set(e, ERR_UNSUPPORTED, "Content-Type must be application/json, got %s",
                           ct ? ct : "none");
    }
    bool stream = r->route->flags & HTTP_BODY_STREAM;
    buf_init(&r->body, stream ? 0 : r->route->max_body);
    if (stream) {
        r->stream_phase = HTTP_STREAM_BEGIN;
        return r->route->handler(r, e);
    }
    return 0;
}

/* A handler's error becomes the reply; the server's own faults are logged. */
static void reply_failure(struct http_req *r, int rc, struct err *e)
{
    if (e->code == ERR_OK)
        err_set(e, (enum err_code)rc, "request failed");
    r->replied = false;
    r->defer_phase = HTTP_DEFER_NONE;
    http_reply_error(r, e);
    if (e->code == ERR_DB || e->code == ERR_INTERNAL)
        log_error("msg=\"request failed\" request_id=%s route=\"%s\" code=%s error=\"%s\"",
                  r->request_id, r->route->pattern, err_code_name(e->code), e->msg);
}

static void run_handler(struct http_req *r)
{
    struct err e;
    err_init(&e);
    int rc = 0;
    if ((r->route->flags & HTTP_BODY_JSON) &&
        (r->body.len > 0 || !(r->route->flags & HTTP_BODY_OPTIONAL)))
        rc = json_parse_object(buf_str(&r->body), r->body.len, &r->arena, &r->json, &e);
    if (!rc)
        rc = r->route->handler(r, &e);
    if (rc)
        reply_failure(r, rc, &e);
}

/* A deferred request's wait is over: its finish function answers (http_req_defer). */
static void run_deferred(struct http_req *r)
{
    struct err e;
    err_init(&e);
    r->defer_phase = HTTP_DEFER_NONE;
    int rc = r->defer_finish(r, r->defer_state, &e);
    if (rc)
        reply_failure(r, rc, &e);
}

static void resume_conn(void *conn)
{
    MHD_resume_connection(conn);
}

static void reply_too_large(struct http_req *r)
{
    struct err e;
    err_init(&e);
    err_set(&e, ERR_TOO_LARGE, "request body exceeds the limit of %zu bytes", r->route->max_body);
    http_reply_error(r, &e);
}

/* A streamed body was refused: answer its error (logged when it is the server's fault). */
static void reply_stream_error(struct http_req *r)
{
    if (r->stream_err.code == ERR_OK)
        err_set(&r->stream_err, ERR_INTERNAL, "request body refused");
    http_reply_error(r, &r->stream_err);
    if (r->stream_err.code == ERR_DB || r->stream_err.code == ERR_INTERNAL)
        log_error("msg=\"request failed\" request_id=%s route=\"%s\" code=%s error=\"%s\"",
                  r->request_id, r->route->pattern, err_code_name(r->stream_err.code),
                  r->stream_err.msg);
}

/* The guard's record of this connection (set when it opened), or NULL. */
static struct connguard_conn *guard_conn(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* The peer's address as text; an IPv4 peer of a dual-stack socket (::ffff:a.b.c.d) as IPv4. */
static void addr_text(const struct sockaddr *sa, char *out, size_t n)
{
    str_copy(out, n, "unknown");
    if (sa && sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)n);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, a->s6_addr + 12, out, (socklen_t)n);
        else
            inet_ntop(AF_INET6, a, out, (socklen_t)n);
    }
}

/*
 * Accept policy: when the free slots are down to the reserve, only light addresses get one.
 * With trusted proxies the per-address limit is applied here instead of by libmicrohttpd, so
 * that a proxy, which carries many clients' connections, is held to neither.
 */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addrlen;
    struct http_server *srv = cls;
    const struct config *cfg = &srv->app->cfg;
    char ip[64];
    addr_text(addr, ip, sizeof(ip));
    if (cfg->trusted_proxies.n) {
        if (ipnet_list_contains(&cfg->trusted_proxies, ip))
            return MHD_YES;
        if (cfg->max_connections_per_ip > 0 &&
            connguard_ip_count(srv->guard, ip) >= cfg->max_connections_per_ip)
            return MHD_NO;
    }
    return connguard_admit(srv->guard, ip) ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        /* called before libmicrohttpd closes the socket, so the sweeper never sees a reused fd */
        connguard_close(srv->guard, *socket_context);
        *socket_context = NULL;
        return;
    }
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *ca =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char ip[64];
    addr_text(ca ? ca->client_addr : NULL, ip, sizeof(ip));
    *socket_context = fd ? connguard_open(srv->guard, ip, fd->connect_fd, clock_mono_ms()) : NULL;
}

/* Cutting a slow connection: the poll loop then sees the end of its stream and closes it. */
static void cut_slow(int fd, void *ctx)
{
    (void)ctx;
    shutdown(fd, SHUT_RDWR);
}

static void *sweep_loop(void *arg)
{
    struct http_server *srv = arg;
    while (!atomic_load(&srv->stopping)) {
        int n = connguard_sweep(srv->guard, clock_mono_ms(), cut_slow, NULL);
        if (n)
            log_info("msg=\"closed slow connections\" count=%d", n);
        usleep(100 * 1000);
    }
    return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_server *srv = cls;
    struct http_req *r = *con_cls;
    struct connguard_conn *gc = guard_conn(conn);
    if (!r) {
        connguard_head_done(srv->guard, gc, clock_mono_ms());
        r = req_new(srv, conn, method, url);
        *con_cls = r;
        atomic_fetch_add(&srv->inflight, 1);
        struct err e;
        err_init(&e);
        if (framing_check(conn, version, &e)) {
            /* Unsure where this request ends, so nothing after it on the connection is read. */
            http_reply_error(r, &e);
            r->close = true;
            connguard_busy(srv->guard, gc);
            return queue_reply(r, conn);
        }
        if (precheck(srv, r, conn, &e)) {
            /* Answer now: the body (if any) is never read and MHD closes the connection. */
            http_reply_error(r, &e);
            connguard_busy(srv->guard, gc);
            return queue_reply(r, conn);
        }
        return MHD_YES;
    }
    if (*upload_data_size && r->route && (r->route->flags & HTTP_BODY_STREAM)) {
        connguard_body(srv->guard, gc, *upload_data_size);
        r->streamed += *upload_data_size;
        if (!r->stream_failed && r->streamed > r->route->max_body) {
            /* a chunked body that grows past the route's limit: refused as it crosses it */
            err_set(&r->stream_err, ERR_TOO_LARGE, "request body exceeds the limit of %zu bytes",
                    r->route->max_body);
            r->stream_failed = true;
        }
        if (!r->stream_failed) {
            r->stream_phase = HTTP_STREAM_DATA;
            r->stream_data = upload_data;
            r->stream_len = *upload_data_size;
            if (r->route->handler(r, &r->stream_err))
                r->stream_failed = true;
            r->stream_data = NULL;
            r->stream_len = 0;
        }
        if (r->stream_failed) {
            /* drain a modest rest so the client reads the answer, as for bodies too large */
            r->drained += *upload_data_size;
            if (r->drained > BUF_MAX_REQ_BODY && !r->replied) {
                *upload_data_size = 0;
                reply_stream_error(r);
                return queue_reply(r, conn);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        connguard_body(srv->guard, gc, *upload_data_size);
        if (!r->body_too_large && buf_append(&r->body, upload_data, *upload_data_size)) {
            r->body_too_large = true;
            buf_release(&r->body);
        }
        if (r->body_too_large) {
            /*
             * Drain a modest overflow so the client can read our 413 (a reset mid-upload hides
             * it); past the hard ceiling, answer at once and let the connection close.
             */
            r->drained += *upload_data_size;
            if (r->drained > BUF_MAX_REQ_BODY && !r->replied) {
                *upload_data_size = 0;
                reply_too_large(r);
                return queue_reply(r, conn);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    connguard_busy(srv->guard, gc);
    if (r->defer_phase == HTTP_DEFER_READY) {
        run_deferred(r);
        return queue_reply(r, conn);
    }
    if (r->replied)
        return MHD_YES; /* answered early while draining */
    if (r->body_too_large) {
        reply_too_large(r);
        return queue_reply(r, conn);
    }
    if (r->stream_failed) {
        reply_stream_error(r);
        return queue_reply(r, conn);
    }
    if (r->route->flags & HTTP_BODY_STREAM)
        r->stream_phase = HTTP_STREAM_END;
    run_handler(r);
    if (r->sse)
        return queue_sse(srv, r, conn);
    if (r->defer_phase == HTTP_DEFER_ASKED) {
        /* park: no thread and no database connection are held while the job runs */
        if (r->db) {
            db_conn_release(r->db);
            r->db = NULL;
        }
        MHD_suspend_connection(conn);
        defer_room_park(srv->room, r);
        return MHD_YES;
    }
    return queue_reply(r, conn);
}

static void json_escape_into(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            buf_appendf(b, "\\%c", c);
        else if (c < 0x20)
            buf_appendf(b, "\\u%04x", c);
        else
            buf_append(b, s, 1);
    }
}

/*
 * Is this request's access line kept? Every answer of 400 and above is; others with the
 * probability ICESHOP_ACCESS_LOG_SAMPLE.
 */
static bool access_sampled(const struct config *cfg, int status)
{
    if (status >= 400 || cfg->access_log_sample >= 1.0)
        return true;
    if (cfg->access_log_sample <= 0.0)
        return false;
    uint32_t x;
    sec_random_bytes(&x, sizeof(x));
    return (double)x < cfg->access_log_sample * 4294967296.0;
}

static void access_log(struct http_server *srv, struct http_req *r, int64_t dur_ns)
{
    if (!srv->app->cfg.access_log || !access_sampled(&srv->app->cfg, r->status))
        return;
    char ts[CLOCK_ISO_LEN];
    clock_format_iso(clock_now_ms(NULL), ts);
    struct buf b;
    buf_init(&b, 8192);
    buf_appendf(&b, "{\"ts\":\"%s\",\"type\":\"access\",\"request_id\":\"%s\",\"method\":\"", ts,
                r->request_id);
    json_escape_into(&b, r->method);
    buf_appends(&b, "\",\"path\":\"");
    json_escape_into(&b, r->path);
    buf_appendf(&b, "\",\"route\":\"%s\",\"status\":%d,\"duration_ms\":%.3f,\"ip\":\"%s\"",
                r->route ? r->route->pattern : "", r->status, (double)dur_ns / 1e6, r->client_ip);
    if (r->who.subject[0])
        buf_appendf(&b, ",\"tenant_id\":%lld,\"subject\":\"%s\"", (long long)r->who.tenant_id,
                    r->who.subject);
    buf_appends(&b, "}");
    log_raw_line(buf_str(&b));
    buf_release(&b);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    struct http_server *srv = cls;
    struct http_req *r = *con_cls;
    if (!r)
        return;
    *con_cls = NULL;
    connguard_idle(srv->guard, guard_conn(conn), clock_mono_ms());
    int64_t dur = clock_mono_ns() - r->start_ns;
    if (r->status == 0)
        r->status = 499; /* client went away before a reply */
    metrics_observe(srv->app->metrics, r->route_index, r->status, dur);
    access_log(srv, r, dur);
    if (r->db)
        db_conn_release(r->db);
    free(r->reply_body);
    if (r->reply_is_file)
        close(r->reply_fd);
    buf_release(&r->body);
    arena_release(&r->arena);
    free(r);
    atomic_fetch_sub(&srv->inflight, 1);
}

/* Keep %2F and friends escaped in the path; query values are decoded by http_req_query. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    for (char *p = msg; *p; p++) {
        if (*p == '"')
            *p = '\'';
    }
    log_debug("msg=\"http: %s\"", msg);
}

/*
 * The listening address from ICESHOP_LISTEN's host: an IPv4 literal, or an IPv6 one in brackets
 * ("[::]" listens on IPv6 and IPv4 (dual stack), "[::1]" on IPv6 only). *flags gets the
 * libmicrohttpd flags that go with it.
 */
static int listen_addr(const struct config *cfg, struct sockaddr_storage *ss, unsigned *flags,
                       struct err *e)
{
    memset(ss, 0, sizeof(*ss));
    const char *host = cfg->listen_host;
    size_t len = strlen(host);
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        char v6[64];
        snprintf(v6, sizeof(v6), "%.*s", (int)(len - 2), host + 1);
        struct sockaddr_in6 *sa = (struct sockaddr_in6 *)(void *)ss;
        sa->sin6_family = AF_INET6;
        sa->sin6_port = htons((uint16_t)cfg->listen_port);
        if (inet_pton(AF_INET6, v6, &sa->sin6_addr) != 1)
            return err_set_field(e, ERR_INVALID, "ICESHOP_LISTEN",
                                 "listen host must be an IPv4 address or [IPv6 address], got %s",
                                 host);
        *flags |= IN6_IS_ADDR_UNSPECIFIED(&sa->sin6_addr) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
        return 0;
    }
    struct sockaddr_in *sa = (struct sockaddr_in *)(void *)ss;
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)cfg->listen_port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return err_set_field(e, ERR_INVALID, "ICESHOP_LISTEN",
                             "listen host must be an IPv4 address or [IPv6 address], got %s", host);
    return 0;
}

int http_server_start(struct app *app, const struct http_route *routes, size_t n_routes,
                      struct http_server **out, struct err *e)
{
    struct sockaddr_storage sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG;
    int rc = listen_addr(&app->cfg, &sa, &flags, e);
    if (rc)
        return rc;
    if (!process_tag[0])
        snprintf(process_tag, sizeof(process_tag), "%08x",
                 (unsigned)(getpid() ^ (unsigned)clock_mono_ns()));
    struct http_server *srv = xcalloc(1, sizeof(*srv));
    srv->app = app;
    srv->routes = routes;
    srv->n_routes = n_routes;
    struct connguard_limits lim = {
        .max_connections = app->cfg.max_connections,
        .reserve = app->cfg.max_connections / 8,
        .light = GUARD_LIGHT_CONNECTIONS,
        .header_ms = (int64_t)app->cfg.header_timeout_s * 1000,
        .body_min_rate = app->cfg.body_min_rate,
    };
    srv->guard = connguard_new(&lim);
    /* with trusted proxies, on_accept applies the per-address limit (it exempts the proxies) */
    unsigned per_ip = app->cfg.trusted_proxies.n ? 0u : (unsigned)app->cfg.max_connections_per_ip;
    srv->d = MHD_start_daemon(
        flags, (uint16_t)app->cfg.listen_port, on_accept, srv, on_request, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)app->cfg.http_threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)app->cfg.max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)app->cfg.idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)HEADER_MEMORY_LIMIT, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (!srv->d) {
        connguard_free(srv->guard);
        free(srv);
        return err_set(e, ERR_INTERNAL, "cannot listen on %s:%d (in use, or not allowed)",
                       app->cfg.listen_host, app->cfg.listen_port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : app->cfg.listen_port;
    srv->room = defer_room_new(app->db, resume_conn);
    if (!srv->room || pthread_create(&srv->sweeper, NULL, sweep_loop, srv)) {
        defer_room_free(srv->room);
        MHD_stop_daemon(srv->d);
        connguard_free(srv->guard);
        free(srv);
        return err_set(e, ERR_INTERNAL, "cannot start the slow-connection sweeper");
    }
    *out = srv;
    return 0;
}

int http_server_port(struct http_server *s)
{
    return s->port;
}

int http_server_inflight(struct http_server *s)
{
    return atomic_load(&s->inflight) - atomic_load(&s->streams);
}

void http_server_stop(struct http_server *s, int grace_ms)
{
    if (!s)
        return;
    int fd = (int)MHD_quiesce_daemon(s->d);
    if (fd >= 0)
        close(fd);
    sse_hub_close(s->app->hub);
    defer_room_close(s->room); /* parked requests are answered with where their jobs stand */
    int64_t deadline = clock_mono_ms() + grace_ms;
    while (atomic_load(&s->inflight) > 0 && clock_mono_ms() < deadline)
        usleep(10 * 1000);
    if (atomic_load(&s->inflight) > 0)
        log_warn("msg=\"closing connections with requests in flight\" inflight=%d",
                 atomic_load(&s->inflight));
    atomic_store(&s->stopping, true);
    pthread_join(s->sweeper, NULL);
    MHD_stop_daemon(s->d);
    defer_room_free(s->room);
    connguard_free(s->guard);
    free(s);
}
