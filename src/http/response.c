/* SPDX-License-Identifier: MIT */
/*
 * Replies, independent of the HTTP library: JSON and byte bodies, extra headers, the error
 * problem document and the one mapping from error codes to HTTP statuses.
 * Tests: tests/integration/.
 */
#include "http/request.h"
#include "core/str.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int http_status_from_err(enum err_code code)
{
    switch (code) {
    case ERR_OK:
        return 200;
    case ERR_INVALID:
        return 400;
    case ERR_UNAUTHORIZED:
        return 401;
    case ERR_FORBIDDEN:
        return 403;
    case ERR_NOT_FOUND:
        return 404;
    case ERR_NOT_ALLOWED:
        return 405;
    case ERR_CONFLICT:
        return 409;
    case ERR_TOO_LARGE:
        return 413;
    case ERR_UNSUPPORTED:
        return 415;
    case ERR_RATE_LIMITED:
        return 429;
    case ERR_UPSTREAM:
        return 502;
    case ERR_DB:
    case ERR_TIMEOUT:
        return 503;
    case ERR_NOMEM:
    case ERR_INTERNAL:
        return 500;
    case ERR_NOT_IMPLEMENTED:
        return 501;
    }
    return 500;
}

static void set_reply(struct http_req *r, int status, const char *content_type, char *body,
                      size_t len)
{
    free(r->reply_body);
    if (r->reply_is_file) {
        close(r->reply_fd);
        r->reply_is_file = false;
    }
    r->status = status;
    r->content_type = content_type;
    r->reply_body = body;
    r->reply_len = len;
    r->replied = true;
}

int http_reply_json(struct http_req *r, int status, json_t *body)
{
    char *s = json_dump_compact(body);
    json_decref(body);
    size_t n = strlen(s);
    /* a trailing newline keeps curl and terminals tidy */
    char *t = xrealloc(s, n + 2);
    t[n] = '\n';
    t[n + 1] = '\0';
    set_reply(r, status, "application/json", t, n + 1);
    return 0;
}

int http_reply_json_buf(struct http_req *r, int status, struct buf *b, int rc, struct err *e)
{
    /* the same trailing newline as http_reply_json */
    if (!rc)
        rc = buf_append(b, "\n", 1);
    if (rc) {
        buf_release(b);
        return err_set(e, ERR_TOO_LARGE, "the response is too large; ask for fewer rows");
    }
    size_t len;
    char *text = buf_detach(b, &len);
    set_reply(r, status, "application/json", text, len);
    return 0;
}

int http_reply_file(struct http_req *r, int status, const char *content_type, int fd, int64_t size)
{
    set_reply(r, status, content_type, NULL, 0);
    r->reply_is_file = true;
    r->reply_fd = fd;
    r->reply_fd_size = size;
    return 0;
}

int http_reply_bytes(struct http_req *r, int status, const char *content_type, const char *data,
                     size_t len)
{
    char *copy = xmalloc(len + 1);
    memcpy(copy, data, len);
    copy[len] = '\0';
    set_reply(r, status, content_type, copy, len);
    return 0;
}

void http_reply_header(struct http_req *r, const char *name, const char *value)
{
    for (int i = 0; i < r->n_reply_headers; i++) {
        if (strcmp(r->reply_headers[i].name, name) == 0) {
            r->reply_headers[i].value = arena_strdup(&r->arena, value);
            return;
        }
    }
    if (r->n_reply_headers >= HTTP_MAX_REPLY_HEADERS)
        return;
    r->reply_headers[r->n_reply_headers].name = arena_strdup(&r->arena, name);
    r->reply_headers[r->n_reply_headers].value = arena_strdup(&r->arena, value);
    r->n_reply_headers++;
}

void http_reply_error(struct http_req *r, const struct err *e)
{
    int status = http_status_from_err(e->code);
    const char *msg = e->msg[0] ? e->msg : err_code_name(e->code);
    /* Internal details stay in the log; the client gets a stable message and the request id. */
    if (status >= 500 && e->code != ERR_UPSTREAM && e->code != ERR_NOT_IMPLEMENTED)
        msg = e->code == ERR_DB || e->code == ERR_TIMEOUT
                  ? "the database is unavailable; try again shortly"
                  : "internal error; quote the request id when reporting it";
    /* Messages may quote the request (a path, a field); the document stays valid UTF-8. */
    char clean[sizeof(e->msg)], field[sizeof(e->field)];
    str_utf8_scrub(clean, sizeof(clean), msg);
    str_utf8_scrub(field, sizeof(field), e->field);
    json_t *err = json_pack("{s:s, s:s}", "code", err_code_name(e->code), "message", clean);
    if (field[0])
        json_object_set_new(err, "field", json_string(field));
    json_object_set_new(err, "request_id", json_string(r->request_id));
    if (status == 401)
        http_reply_header(r, "WWW-Authenticate", "Bearer realm=\"iceshop\"");
    http_reply_json(r, status, json_pack("{s:o}", "error", err));
}

int http_reply_sse(struct http_req *r, int64_t tenant_id)
{
    r->sse = true;
    r->sse_tenant_id = tenant_id;
    r->status = 200;
    r->replied = true;
    return 0;
}
