/* SPDX-License-Identifier: MIT */
/*
 * A real SMTP server for tests: Debian's aiosmtpd (python3 -m aiosmtpd) on a free loopback
 * port with its Maildir handler, so a test reads back exactly what arrived. Start, stop,
 * and find a received message by a string it contains.
 */
#ifndef ICESHOP_TESTS_SMTP_SINK_H
#define ICESHOP_TESTS_SMTP_SINK_H

#include <stdbool.h>
#include <sys/types.h>

struct smtp_sink {
    pid_t pid;
    int port;
    char dir[256]; /* the Maildir */
    char url[64];  /* smtp://127.0.0.1:PORT */
};

/* Start on a free port (port 0) or on `port`; 0, or -1 when it did not come up in 5 s. */
int smtp_sink_start(struct smtp_sink *s, int port);
void smtp_sink_stop(struct smtp_sink *s);
/*
 * The newest received message containing `needle`, read whole (caller frees), waiting up to
 * `timeout_ms`; NULL when none arrived.
 */
char *smtp_sink_find(const struct smtp_sink *s, const char *needle, int timeout_ms);

#endif
