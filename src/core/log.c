/* SPDX-License-Identifier: MIT */
/* key=value logger to stderr (see log.h). */
#include "core/log.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/str.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static _Atomic int current_level = LOG_INFO;

static const char *names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level)
{
    current_level = (int)level;
}

enum log_level log_get_level(void)
{
    return (enum log_level)current_level;
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (int i = 0; i <= LOG_DEBUG; i++) {
        if (str_eq(s, names[i])) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return ERR_INVALID;
}

bool log_enabled(enum log_level level)
{
    return (int)level <= current_level;
}

void log_write(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char line[2048];
    char ts[CLOCK_ISO_LEN];
    clock_format_iso(clock_now_ms(NULL), ts);
    int n = snprintf(line, sizeof(line), "ts=%s level=%s ", ts, names[level]);
    if (n < 0 || (size_t)n >= sizeof(line))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    log_raw_line(line);
}

void log_raw_line(const char *line)
{
    /* One fputs per line under stdio's stream lock keeps lines whole across threads. */
    flockfile(stderr);
    fputs(line, stderr);
    fputc('\n', stderr);
    funlockfile(stderr);
}
