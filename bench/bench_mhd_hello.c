/* SPDX-License-Identifier: MIT */
/*
 * Baseline for `make bench`: the smallest libmicrohttpd server that answers every request with a
 * fixed JSON body, run with the same threading as iceshop (internal polling thread, epoll, a
 * pool of ICESHOP_HTTP_THREADS default 4). Usage: bench_mhd_hello PORT [THREADS]
 * Runs until SIGINT/SIGTERM.
 */
#include <microhttpd.h>

#include <errno.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char body[] = "{\"status\":\"ok\"}";

static volatile sig_atomic_t stop;

/* Decimal integer in [lo, hi], or -1. */
static long parse_long(const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    return v;
}

static void on_signal(int sig)
{
    stop = sig;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload;
    if (*req_cls == NULL) {
        *req_cls = conn; /* first call: headers only */
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0; /* discard any body */
        return MHD_YES;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        sizeof(body) - 1, (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
        return 2;
    }
    long port = parse_long(argv[1], 1, 65535);
    long threads = argc > 2 ? parse_long(argv[2], 1, 256) : 4;
    if (port < 0 || threads < 0) {
        fprintf(stderr, "bench_mhd_hello: bad port or thread count\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, (uint16_t)port, NULL,
        NULL, on_request, NULL, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
        MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bench_mhd_hello: cannot listen on port %ld\n", port);
        return 1;
    }
    fprintf(stderr, "bench_mhd_hello: listening on %ld with %ld threads\n", port, threads);
    while (!stop)
        usleep(100 * 1000);
    MHD_stop_daemon(d);
    return 0;
}
