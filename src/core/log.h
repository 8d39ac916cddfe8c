/* SPDX-License-Identifier: MIT */
/*
 * Structured logging: one line per event, key=value, to stderr, or to the file log_open_file
 * names (ICESHOP_LOG_FILE), reopened by log_reopen (after SIGHUP, for logrotate). Never log
 * secrets, tokens or raw webhook bodies; log ids. Thread-safe.
 * Tests: tests/unit/core/test_core.c, tests/integration/0017-ops.c.
 */
#ifndef ICESHOP_CORE_LOG_H
#define ICESHOP_CORE_LOG_H

#include "core/err.h"

#include <stdbool.h>

/* Longest line written to a log file (longer ones are cut); access lines are built below it. */
#define LOG_LINE_MAX 16384

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "error" | "warn" | "info" | "debug" → level; 0 or ERR_INVALID. */
int log_level_parse(const char *s, enum log_level *out);
bool log_enabled(enum log_level level);

/* `fmt` produces the key=value tail of the line, e.g. "msg=\"listening\" port=8080". */
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Write one pre-formatted line (e.g. a JSON access-log record) as is. */
void log_raw_line(const char *line);

/*
 * Send every line to the file at `path` (appended, created with mode 0640) instead of stderr.
 * ERR_INVALID naming ICESHOP_LOG_FILE when it cannot be opened.
 */
int log_open_file(const char *path, struct err *e);
/*
 * Open the log file's path again and switch to it (after logrotate moved the old one away).
 * Call from normal code, never from a signal handler (it allocates a descriptor and locks).
 * On failure the old file stays in use. Nothing to do (0) without a log file.
 */
int log_reopen(struct err *e);
/* Back to stderr; closes the file. */
void log_close_file(void);

#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_write(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_enabled(LOG_DEBUG))                                                                \
            log_write(LOG_DEBUG, __VA_ARGS__);                                                     \
    } while (0)

#endif
