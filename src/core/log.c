/* SPDX-License-Identifier: MIT */
/*
 * key=value logger to stderr or a log file (see log.h). The file is written with one write(2)
 * per line under a mutex, which log_reopen also takes to swap descriptors, so no line is split
 * or written to a closed descriptor. Tests: tests/unit/core/test_core.c.
 */
#include "core/log.h"
#include "core/clock.h"
#include "core/str.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* The log file: its path and descriptor, -1 while lines go to stderr. */
static pthread_mutex_t file_mu = PTHREAD_MUTEX_INITIALIZER;
static int file_fd = -1;
static char file_path[512];
static atomic_bool to_file;

static int open_log(const char *path, int *fd, struct err *e)
{
    *fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (*fd < 0)
        return err_set_field(e, ERR_INVALID, "ICESHOP_LOG_FILE", "cannot open log file %s: %s",
                             path, strerror(errno));
    return 0;
}

int log_open_file(const char *path, struct err *e)
{
    if (!str_copy(file_path, sizeof(file_path), path))
        return err_set_field(e, ERR_INVALID, "ICESHOP_LOG_FILE", "log file path too long");
    return log_reopen(e);
}

int log_reopen(struct err *e)
{
    if (!file_path[0])
        return 0;
    int fd;
    int rc = open_log(file_path, &fd, e);
    if (rc)
        return rc; /* the old file stays in use */
    pthread_mutex_lock(&file_mu);
    int old = file_fd;
    file_fd = fd;
    atomic_store(&to_file, true);
    pthread_mutex_unlock(&file_mu);
    if (old >= 0)
        close(old);
    return 0;
}

void log_close_file(void)
{
    pthread_mutex_lock(&file_mu);
    if (file_fd >= 0)
        close(file_fd);
    file_fd = -1;
    atomic_store(&to_file, false);
    file_path[0] = '\0';
    pthread_mutex_unlock(&file_mu);
}

void log_raw_line(const char *line)
{
    if (atomic_load(&to_file)) {
        size_t n = strlen(line);
        char buf[LOG_LINE_MAX + 1];
        if (n > LOG_LINE_MAX - 1)
            n = LOG_LINE_MAX - 1;
        memcpy(buf, line, n);
        buf[n++] = '\n';
        pthread_mutex_lock(&file_mu);
        if (file_fd >= 0) {
            /* O_APPEND and one write per line: lines stay whole, even with logrotate's copy */
            for (size_t off = 0; off < n;) {
                ssize_t w = write(file_fd, buf + off, n - off);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0)
                    break;
                off += (size_t)w;
            }
            pthread_mutex_unlock(&file_mu);
            return;
        }
        pthread_mutex_unlock(&file_mu);
    }
    /* One fputs per line under stdio's stream lock keeps lines whole across threads. */
    flockfile(stderr);
    fputs(line, stderr);
    fputc('\n', stderr);
    funlockfile(stderr);
}
