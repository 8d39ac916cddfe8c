/* SPDX-License-Identifier: MIT */
/*
 * The test SMTP sink (see smtp_sink.h): aiosmtpd in a child process.
 */
#include "support/smtp_sink.h"

#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    socklen_t len = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    int port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

int smtp_sink_start(struct smtp_sink *s, int port)
{
    const char *tmp = getenv("TEST_TMPDIR");
    s->port = port ? port : free_port();
    snprintf(s->dir, sizeof(s->dir), "%s/smtp-sink-%d-%d", tmp && *tmp ? tmp : "/tmp",
             (int)getpid(), s->port);
    snprintf(s->url, sizeof(s->url), "smtp://127.0.0.1:%d", s->port);
    char listen[32];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", s->port);
    s->pid = fork();
    if (s->pid == 0) {
        execl("/usr/bin/python3", "python3", "-m", "aiosmtpd", "-n", "-l", listen, "-c",
              "aiosmtpd.handlers.Mailbox", s->dir, (char *)NULL);
        _exit(127);
    }
    for (long long end = mono_ms() + 5000; mono_ms() < end;) {
        if (port_open(s->port))
            return 0;
        usleep(50 * 1000);
    }
    fprintf(stderr, "the SMTP sink (python3 -m aiosmtpd) did not start\n");
    return -1;
}

void smtp_sink_stop(struct smtp_sink *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

char *smtp_sink_find(const struct smtp_sink *s, const char *needle, int timeout_ms)
{
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/new", s->dir);
    for (long long end = mono_ms() + timeout_ms;; usleep(20 * 1000)) {
        DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            char path[600];
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            FILE *f = fopen(path, "rb");
            if (!f)
                continue;
            char *buf = calloc(1, 1 << 22);
            size_t n = fread(buf, 1, (1 << 22) - 1, f);
            fclose(f);
            buf[n] = '\0';
            if (strstr(buf, needle)) {
                closedir(d);
                return buf;
            }
            free(buf);
        }
        if (d)
            closedir(d);
        if (mono_ms() >= end)
            return NULL;
    }
}
