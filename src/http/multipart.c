/* SPDX-License-Identifier: MIT */
/*
 * The streaming multipart/form-data parser (see multipart.h). The delimiter "\r\n--boundary" is
 * matched byte by byte with the count of matched bytes kept between chunks, so a boundary split
 * anywhere is found; since boundary characters never include CR, a failed partial match can
 * only restart at a CR, and the held bytes are re-emitted from the delimiter itself.
 * Tests: tests/unit/http/test_multipart.c.
 */
#include "http/multipart.h"
#include "core/str.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static bool bchar(unsigned char c)
{
    return isalnum(c) || strchr("'()+_,-./:=? ", c) != NULL;
}

/* Value of parameter `name` in a header value ("a; name=x; b=\"y\"") into out; false if absent. */
static bool header_param(const char *v, const char *name, char *out, size_t out_size)
{
    size_t nlen = strlen(name);
    const char *s = strchr(v, ';');
    while (s) {
        s++;
        while (*s == ' ' || *s == '\t')
            s++;
        if (strncasecmp(s, name, nlen) == 0 && s[nlen] == '=') {
            s += nlen + 1;
            size_t o = 0;
            if (*s == '"') {
                for (s++; *s && *s != '"'; s++) {
                    if (*s == '\\' && s[1])
                        s++;
                    if (o + 1 < out_size)
                        out[o++] = *s;
                }
            } else {
                for (; *s && *s != ';' && *s != ' ' && *s != '\t'; s++) {
                    if (o + 1 < out_size)
                        out[o++] = *s;
                }
            }
            out[o] = '\0';
            return true;
        }
        s = strchr(s, ';');
    }
    return false;
}

int multipart_boundary(const char *ct, char out[MULTIPART_MAX_BOUNDARY + 1], struct err *e)
{
    out[0] = '\0';
    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0 ||
        (ct[19] && ct[19] != ';' && ct[19] != ' '))
        return err_set_field(e, ERR_UNSUPPORTED, "Content-Type",
                             "Content-Type must be multipart/form-data, got %s", ct ? ct : "none");
    char b[MULTIPART_MAX_BOUNDARY + 2];
    if (!header_param(ct, "boundary", b, sizeof(b)) || !b[0])
        return err_set_field(e, ERR_INVALID, "Content-Type",
                             "multipart/form-data needs a boundary parameter");
    size_t len = strlen(b);
    if (len > MULTIPART_MAX_BOUNDARY)
        return err_set_field(e, ERR_INVALID, "Content-Type", "boundary longer than %d characters",
                             MULTIPART_MAX_BOUNDARY);
    for (size_t i = 0; i < len; i++) {
        if (!bchar((unsigned char)b[i]))
            return err_set_field(e, ERR_INVALID, "Content-Type",
                                 "boundary has a character RFC 2046 does not allow");
    }
    if (b[len - 1] == ' ')
        return err_set_field(e, ERR_INVALID, "Content-Type", "boundary ends with a space");
    memcpy(out, b, len + 1);
    return 0;
}

void multipart_init(struct multipart *m, const char *boundary, const struct multipart_cb *cb,
                    void *ctx)
{
    memset(m, 0, sizeof(*m));
    size_t len = strlen(boundary);
    if (len > MULTIPART_MAX_BOUNDARY)
        len = MULTIPART_MAX_BOUNDARY;
    memcpy(m->delim, "\r\n--", 4);
    memcpy(m->delim + 4, boundary, len);
    m->dlen = 4 + len;
    m->matched = 2; /* the body may start with "--boundary": act as if a CRLF came first */
    m->state = MP_PREAMBLE;
    m->cb = cb;
    m->ctx = ctx;
}

static int fail(struct multipart *m, struct err *e, const char *msg)
{
    m->state = MP_FAILED;
    return err_set_field(e, ERR_INVALID, "body", "malformed multipart body: %s", msg);
}

/* Parse the collected headers of a part and announce it. */
static int part_begin(struct multipart *m, struct err *e)
{
    char name[MULTIPART_MAX_FIELD] = "", filename[MULTIPART_MAX_FIELD] = "",
         ctype[MULTIPART_MAX_FIELD] = "";
    bool has_file = false, has_disp = false;
    m->headers[m->hlen] = '\0';
    char *line = m->headers;
    while (line && *line) {
        char *end = strstr(line, "\r\n");
        if (end)
            *end = '\0';
        if (!str_utf8_valid(line, strlen(line)))
            return fail(m, e, "part header is not UTF-8");
        char *colon = strchr(line, ':');
        if (!colon && *line)
            return fail(m, e, "part header line without a colon");
        if (colon) {
            *colon = '\0';
            const char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            if (strcasecmp(line, "Content-Disposition") == 0) {
                if (strncasecmp(v, "form-data", 9) != 0)
                    return fail(m, e, "part disposition is not form-data");
                has_disp = true;
                header_param(v, "name", name, sizeof(name));
                has_file = header_param(v, "filename", filename, sizeof(filename));
            } else if (strcasecmp(line, "Content-Type") == 0) {
                str_copy(ctype, sizeof(ctype), v);
            }
        }
        line = end ? end + 2 : NULL;
    }
    if (!has_disp)
        return fail(m, e, "part without Content-Disposition");
    if (++m->parts > MULTIPART_MAX_PARTS) {
        m->state = MP_FAILED;
        return err_set_field(e, ERR_INVALID, "body", "malformed multipart body: more than %d parts",
                             MULTIPART_MAX_PARTS);
    }
    struct multipart_part p = {name, has_file ? filename : NULL, ctype};
    int rc = m->cb->part_begin ? m->cb->part_begin(m->ctx, &p, e) : 0;
    if (rc)
        m->state = MP_FAILED;
    return rc;
}

static int emit(struct multipart *m, const char *p, size_t n, struct err *e)
{
    if (!n || m->state != MP_DATA || !m->cb->part_data)
        return 0;
    int rc = m->cb->part_data(m->ctx, p, n, e);
    if (rc)
        m->state = MP_FAILED;
    return rc;
}

/*
 * Scan p[*i..n) for the delimiter; data bytes go to emit() in MP_DATA (dropped in the
 * preamble). Returns 0 with *found set when the delimiter completed (then *i is just past it).
 */
static int scan(struct multipart *m, const char *p, size_t n, size_t *i, bool *found, struct err *e)
{
    int rc;
    size_t run = *i;
    bool have_run = m->matched == 0;
    *found = false;
    for (; *i < n; (*i)++) {
        char c = p[*i];
        if (c == m->delim[m->matched]) {
            if (m->matched == 0 && have_run) {
                rc = emit(m, p + run, *i - run, e);
                if (rc)
                    return rc;
                have_run = false;
            }
            if (++m->matched == m->dlen) {
                m->matched = 0;
                (*i)++;
                *found = true;
                return 0;
            }
            continue;
        }
        if (m->matched) {
            /* the held bytes were data after all */
            rc = emit(m, m->delim, m->matched, e);
            if (rc)
                return rc;
            m->matched = 0;
            if (c == m->delim[0]) {
                m->matched = 1;
                continue;
            }
            run = *i;
            have_run = true;
        }
    }
    return have_run ? emit(m, p + run, n - run, e) : 0;
}

int multipart_feed(struct multipart *m, const char *p, size_t n, struct err *e)
{
    size_t i = 0;
    int rc;
    if (m->state == MP_FAILED)
        return err_set_field(e, ERR_INVALID, "body", "malformed multipart body");
    while (i < n) {
        switch (m->state) {
        case MP_PREAMBLE:
        case MP_DATA: {
            bool found;
            rc = scan(m, p, n, &i, &found, e);
            if (rc)
                return rc;
            if (found) {
                if (m->state == MP_DATA && m->cb->part_end) {
                    rc = m->cb->part_end(m->ctx, e);
                    if (rc) {
                        m->state = MP_FAILED;
                        return rc;
                    }
                }
                m->state = MP_AFTER_BOUNDARY;
                m->tail = 0;
            }
            break;
        }
        case MP_AFTER_BOUNDARY: {
            char c = p[i++];
            if (!m->tail) {
                if (c == '-' || c == '\r')
                    m->tail = c;
                else if (c != ' ' && c != '\t')
                    return fail(m, e, "unexpected bytes after a boundary");
            } else if (m->tail == '-' && c == '-') {
                m->state = MP_END;
            } else if (m->tail == '\r' && c == '\n') {
                m->state = MP_HEADERS;
                m->hlen = 0;
            } else {
                return fail(m, e, "unexpected bytes after a boundary");
            }
            break;
        }
        case MP_HEADERS: {
            if (m->hlen >= MULTIPART_MAX_HEADERS) {
                m->state = MP_FAILED;
                return err_set_field(e, ERR_INVALID, "body",
                                     "malformed multipart body: part headers over %d bytes",
                                     MULTIPART_MAX_HEADERS);
            }
            m->headers[m->hlen++] = p[i++];
            bool done = (m->hlen == 2 && memcmp(m->headers, "\r\n", 2) == 0) ||
                        (m->hlen >= 4 && memcmp(m->headers + m->hlen - 4, "\r\n\r\n", 4) == 0);
            if (done) {
                m->hlen -= 2; /* drop the blank line's CRLF */
                m->state = MP_DATA;
                m->matched = 0;
                rc = part_begin(m, e);
                if (rc)
                    return rc;
            }
            break;
        }
        case MP_END:
            return 0; /* the epilogue is ignored */
        case MP_FAILED:
            return err_set_field(e, ERR_INVALID, "body", "malformed multipart body");
        }
    }
    return 0;
}

int multipart_finish(struct multipart *m, struct err *e)
{
    if (m->state == MP_END)
        return 0;
    if (m->state == MP_FAILED)
        return err_set_field(e, ERR_INVALID, "body", "malformed multipart body");
    if (m->state == MP_PREAMBLE)
        return fail(m, e, "no boundary found");
    return fail(m, e, "body ends before the closing boundary");
}
