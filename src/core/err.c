/* SPDX-License-Identifier: MIT */
/* Error struct helpers (see err.h). */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_init(struct err *e)
{
    memset(e, 0, sizeof(*e));
}

static int vset(struct err *e, enum err_code code, const char *field, const char *fmt, va_list ap)
{
    if (!e)
        return code;
    if (e->code != ERR_OK)
        return e->code;
    e->code = code;
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    if (field)
        snprintf(e->field, sizeof(e->field), "%s", field);
    else
        e->field[0] = '\0';
    return code;
}

int err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vset(e, code, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

int err_set_field(struct err *e, enum err_code code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vset(e, code, field, fmt, ap);
    va_end(ap);
    return rc;
}

int err_replace(struct err *e, enum err_code code, const char *field, const char *fmt, ...)
{
    if (e)
        err_init(e);
    va_list ap;
    va_start(ap, fmt);
    int rc = vset(e, code, field, fmt, ap);
    va_end(ap);
    return rc;
}

const char *err_code_name(enum err_code code)
{
    switch (code) {
    case ERR_OK:
        return "ok";
    case ERR_NOMEM:
        return "out_of_memory";
    case ERR_INVALID:
        return "invalid";
    case ERR_NOT_FOUND:
        return "not_found";
    case ERR_NOT_ALLOWED:
        return "method_not_allowed";
    case ERR_CONFLICT:
        return "conflict";
    case ERR_UNAUTHORIZED:
        return "unauthorized";
    case ERR_FORBIDDEN:
        return "forbidden";
    case ERR_TOO_LARGE:
        return "too_large";
    case ERR_UNSUPPORTED:
        return "unsupported_media_type";
    case ERR_RATE_LIMITED:
        return "rate_limited";
    case ERR_DB:
        return "database_error";
    case ERR_UPSTREAM:
        return "upstream_error";
    case ERR_TIMEOUT:
        return "timeout";
    case ERR_INTERNAL:
        return "internal";
    case ERR_NOT_IMPLEMENTED:
        return "not_implemented";
    }
    return "internal";
}
