/* SPDX-License-Identifier: MIT */
/*
 * Outbound HTTP (see httpc.h): the ops switch and the libcurl backend. The only file that
 * includes <curl/curl.h>. One easy handle per call, so no state is shared between workers.
 * Tests: tests/unit/net/test_httpc.c (against a local libmicrohttpd server).
 */
#include "net/httpc.h"

#include "core/xalloc.h"

#include <curl/curl.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- responses */

void httpc_response_init(struct httpc_response *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body, BUF_MAX_RESPONSE);
}

static void headers_clear(struct httpc_response *r)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        free((char *)(uintptr_t)r->headers[i].name);
        free((char *)(uintptr_t)r->headers[i].value);
    }
    r->nheaders = 0;
    r->header_bytes = 0;
}

void httpc_response_release(struct httpc_response *r)
{
    headers_clear(r);
    free(r->headers);
    buf_release(&r->body);
    memset(r, 0, sizeof(*r));
}

const char *httpc_response_header(const struct httpc_response *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    }
    return NULL;
}

static void header_add(struct httpc_response *r, const char *name, size_t nlen, const char *value,
                       size_t vlen)
{
    if (r->nheaders == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->headers = xrealloc(r->headers, r->cap * sizeof(r->headers[0]));
    }
    r->headers[r->nheaders].name = xstrndup(name, nlen);
    r->headers[r->nheaders].value = xstrndup(value, vlen);
    r->nheaders++;
}

/* ---------------------------------------------------------------- ops switch */

static int curl_do(void *ctx, const struct httpc_request *req, struct httpc_response *resp,
                   struct err *e);

static const struct httpc_ops curl_ops = {.do_request = curl_do, .ctx = NULL};
static _Atomic(const struct httpc_ops *) current_ops;

const struct httpc_ops *httpc_ops_curl(void)
{
    return &curl_ops;
}

void httpc_set_ops(const struct httpc_ops *ops)
{
    atomic_store(&current_ops, ops);
}

int httpc_do(const struct httpc_request *req, struct httpc_response *resp, struct err *e)
{
    const struct httpc_ops *ops = atomic_load(&current_ops);
    if (!ops)
        ops = &curl_ops;
    return ops->do_request(ops->ctx, req, resp, e);
}

/* ---------------------------------------------------------------- global init */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_result;

static void init_curl(void)
{
    init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int httpc_global_init(struct err *e)
{
    pthread_once(&init_once, init_curl);
    if (init_result != CURLE_OK)
        return err_set(e, ERR_INTERNAL, "cannot initialise libcurl: %s",
                       curl_easy_strerror(init_result));
    return 0;
}

void httpc_global_cleanup(void)
{
    if (init_result == CURLE_OK)
        curl_global_cleanup();
}

/* ---------------------------------------------------------------- libcurl backend */

struct xfer {
    CURL *curl;
    struct httpc_response *resp;
    const struct httpc_request *req;
    size_t max_body;
    bool too_large;
    bool sink_failed;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct xfer *x = userp;
    size_t n = size * nmemb;
    long status = 0;
    if (x->req->sink)
        curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
    if (x->req->sink && status >= 200 && status < 300) {
        if (x->req->sink(x->req->sink_ctx, data, n)) {
            x->sink_failed = true;
            return 0;
        }
        return n;
    }
    if (x->resp->body.len + n > x->max_body || buf_append(&x->resp->body, data, n)) {
        x->too_large = true;
        return 0; /* anything but n aborts the transfer */
    }
    return n;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t on_header(char *data, size_t size, size_t nitems, void *userp)
{
    struct xfer *x = userp;
    size_t n = size * nitems;
    /* a status line starts a new response (100-continue, proxies): keep only the last */
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        headers_clear(x->resp);
        return n;
    }
    x->resp->header_bytes += n;
    if (x->resp->header_bytes > HTTPC_MAX_HEADER_BYTES) {
        x->too_large = true;
        return 0;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon || colon == data)
        return n; /* blank end-of-headers line, or an obsolete folded line: skip */
    size_t nlen = (size_t)(colon - data);
    const char *v = colon + 1;
    const char *end = data + n;
    while (v < end && is_space(*v))
        v++;
    while (end > v && is_space(end[-1]))
        end--;
    header_add(x->resp, data, nlen, v, (size_t)(end - v));
    return n;
}

static bool has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < 'A' || *s > 'Z')
            return false;
    }
    return true;
}

static bool has_header(const struct httpc_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0)
            return true;
    }
    return false;
}

/* Build the curl header list into *out; ERR_INVALID when a header is unsafe to send. */
static int build_headers(const struct httpc_request *req, struct curl_slist **out, struct err *e)
{
    struct curl_slist *list = NULL;
    struct buf line;
    buf_init(&line, HTTPC_MAX_HEADER_BYTES);
    int rc = 0;
    for (size_t i = 0; i < req->nheaders; i++) {
        const struct httpc_header *h = &req->headers[i];
        if (!h->name || !*h->name || !h->value || has_crlf(h->name) || has_crlf(h->value) ||
            strchr(h->name, ':')) {
            rc = err_set(e, ERR_INVALID, "invalid outbound header #%zu", i);
            goto out_free;
        }
        buf_reset(&line);
        /* "Name;" is curl's spelling of a header with an empty value */
        rc = *h->value ? buf_appendf(&line, "%s: %s", h->name, h->value)
                       : buf_appendf(&line, "%s;", h->name);
        if (rc) {
            rc = err_set(e, ERR_TOO_LARGE, "outbound header #%zu too large", i);
            goto out_free;
        }
        struct curl_slist *next = curl_slist_append(list, buf_str(&line));
        if (!next) {
            rc = err_set(e, ERR_INTERNAL, "out of memory building headers");
            goto out_free;
        }
        list = next;
    }
    /*
     * curl would send "Expect: 100-continue" for big bodies and wait a second for it. Not with
     * SigV4: curl signs every header in this list, and an empty one is never sent, so the
     * receiver's signature could not match (S3 answers 100-continue anyway).
     */
    if (!has_header(req, "Expect") && !req->aws_sigv4) {
        struct curl_slist *next = curl_slist_append(list, "Expect:");
        if (!next) {
            rc = err_set(e, ERR_INTERNAL, "out of memory building headers");
            goto out_free;
        }
        list = next;
    }
out_free:
    buf_release(&line);
    if (rc) {
        curl_slist_free_all(list);
        list = NULL;
    }
    *out = list;
    return rc;
}

static bool scheme_ok(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

static size_t on_upload(char *buf, size_t size, size_t nitems, void *userp)
{
    const struct httpc_request *req = userp;
    size_t n = req->upload_read(req->upload_ctx, buf, size * nitems);
    return n == (size_t)-1 ? CURL_READFUNC_ABORT : n;
}

static int set_method(CURL *c, const struct httpc_request *req, const char *method)
{
    if (req->upload_read) {
        CURLcode uc = curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        uc |= curl_easy_setopt(c, CURLOPT_READFUNCTION, on_upload);
        uc |= curl_easy_setopt(c, CURLOPT_READDATA, (void *)(uintptr_t)req);
        uc |= curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->upload_len);
        if (strcmp(method, "PUT") != 0)
            uc |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        return uc != CURLE_OK;
    }
    bool with_body = req->body_len > 0 || strcmp(method, "POST") == 0 ||
                     strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
    CURLcode cc = CURLE_OK;
    if (strcmp(method, "HEAD") == 0)
        return curl_easy_setopt(c, CURLOPT_NOBODY, 1L) != CURLE_OK;
    if (!with_body && strcmp(method, "GET") == 0)
        return curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    if (with_body) {
        /* POSTFIELDS with an explicit size sends binary bodies as is, without a copy */
        cc |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        cc |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
    }
    if (strcmp(method, "POST") != 0)
        cc |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    return cc != CURLE_OK;
}

static int map_error(CURLcode cc, const struct xfer *x, const char *errbuf, struct err *e)
{
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(cc);
    if (x->sink_failed)
        return err_set(e, ERR_UPSTREAM, "http response refused by its reader");
    if (x->too_large || cc == CURLE_FILESIZE_EXCEEDED)
        return err_set(e, ERR_TOO_LARGE, "http response larger than %zu bytes", x->max_body);
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        return err_set(e, ERR_TIMEOUT, "http request timed out: %s", detail);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return err_set(e, ERR_INVALID, "bad outbound url: %s", detail);
    case CURLE_FAILED_INIT:
    case CURLE_OUT_OF_MEMORY:
        return err_set(e, ERR_INTERNAL, "http client failure: %s", detail);
    default:
        return err_set(e, ERR_UPSTREAM, "http request failed: %s", detail);
    }
}

static int curl_do(void *ctx, const struct httpc_request *req, struct httpc_response *resp,
                   struct err *e)
{
    (void)ctx;
    const char *method = req->method ? req->method : "GET";
    if (!req->url || !scheme_ok(req->url))
        return err_set(e, ERR_INVALID, "outbound url must be http:// or https://");
    if (!is_token(method))
        return err_set(e, ERR_INVALID, "invalid http method");
    int rc = httpc_global_init(e);
    if (rc)
        return rc;

    struct curl_slist *hdrs = NULL;
    rc = build_headers(req, &hdrs, e);
    if (rc)
        return rc;
    CURL *c = curl_easy_init();
    if (!c) {
        rc = err_set(e, ERR_INTERNAL, "cannot create curl handle");
        goto out_headers;
    }

    struct xfer x = {
        .curl = c,
        .resp = resp,
        .req = req,
        .max_body = req->max_response ? req->max_response : BUF_MAX_RESPONSE,
    };
    char errbuf[CURL_ERROR_SIZE] = "";
    long timeout = req->timeout_ms > 0 ? req->timeout_ms : HTTPC_DEFAULT_TIMEOUT_MS;
    long ctimeout =
        req->connect_timeout_ms > 0 ? req->connect_timeout_ms : HTTPC_DEFAULT_CONNECT_TIMEOUT_MS;
    CURLcode cc = CURLE_OK;
    cc |= curl_easy_setopt(c, CURLOPT_URL, req->url);
    cc |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
    cc |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    cc |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    cc |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ctimeout);
    cc |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    cc |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    cc |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
#if LIBCURL_VERSION_NUM >= 0x075500
    cc |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    cc |= curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    cc |= curl_easy_setopt(c, CURLOPT_USERAGENT, "iceshop");
    cc |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    /* refuse early when Content-Length already says too much; on_body catches the rest */
    if (!req->sink)
        cc |= curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x.max_body);
    if (req->aws_sigv4) {
        cc |= curl_easy_setopt(c, CURLOPT_AWS_SIGV4, req->aws_sigv4);
        cc |= curl_easy_setopt(c, CURLOPT_USERPWD, req->userpwd ? req->userpwd : "");
    }
    cc |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    cc |= curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    cc |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    cc |= curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
    if (cc != CURLE_OK || set_method(c, req, method)) {
        rc = err_set(e, ERR_INTERNAL, "cannot configure curl handle");
        goto out_easy;
    }

    cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;
    if (cc != CURLE_OK)
        rc = map_error(cc, &x, errbuf, e);
out_easy:
    curl_easy_cleanup(c);
out_headers:
    curl_slist_free_all(hdrs);
    return rc;
}
