/* SPDX-License-Identifier: MIT */
/*
 * The shared body of the fuzz_verify_<provider> targets: the input is header lines
 * "Name: value\n" up to an empty line, then the raw body; it runs the provider's verifier and
 * identity extractor and aborts when an outcome breaks the contract in provider.h (an error
 * without a message naming the provider, a success without identities, an unexpected code).
 * The body is an exact-size copy, so ASan catches any read past its end.
 * Built and run by scripts/fuzz.sh; seeds in fuzz/corpus/fuzz_verify_<provider>/.
 */
#ifndef ICESHOP_FUZZ_WEBHOOK_FUZZ_H
#define ICESHOP_FUZZ_WEBHOOK_FUZZ_H

#include "core/arena.h"
#include "core/err.h"
#include "integrations/provider.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The clock every target runs at (seeds with timestamps use it). */
#define WEBHOOK_FUZZ_NOW 1700000000LL

static void webhook_fuzz_check(const char *provider, int rc, const struct err *e, int allowed)
{
    if (rc == 0 && e->code != ERR_OK)
        abort();
    if (rc != 0 && (rc != (int)e->code || rc != allowed || e->msg[0] == '\0' ||
                    strncmp(e->msg, provider, strlen(provider)) != 0))
        abort();
}

static int webhook_fuzz_one(const char *provider, const char *secret, const uint8_t *data,
                            size_t size)
{
    const struct integrations_provider *p = integrations_provider_find(provider);
    if (!p)
        abort();
    /* split a NUL-terminated copy into header lines; the body is what follows "\n\n" */
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct wh_headers h;
    wh_headers_init(&h);
    size_t at = 0;
    while (at < size) {
        char *line = text + at;
        char *nl = memchr(line, '\n', size - at);
        size_t len = nl ? (size_t)(nl - line) : size - at;
        at += len + (nl ? 1 : 0);
        if (len == 0)
            break;
        line[len] = '\0';
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        if (wh_headers_add(&h, line, v, NULL))
            break;
    }
    size_t blen = size - at;
    char *body = malloc(blen ? blen : 1);
    memcpy(body, data + at, blen);

    struct err e;
    err_init(&e);
    int rc = p->verify(&h, body, blen, secret, WEBHOOK_FUZZ_NOW, &e);
    webhook_fuzz_check(provider, rc, &e, ERR_UNAUTHORIZED);

    /* identify runs on every input: it must cope with anything, verified or not */
    struct arena a;
    arena_init(&a);
    struct wh_event_id *ids = NULL;
    size_t n = 0;
    err_init(&e);
    rc = p->identify(&h, body, blen, &a, &ids, &n, &e);
    webhook_fuzz_check(provider, rc, &e, ERR_INVALID);
    if (rc == 0) {
        if (n == 0 || !ids)
            abort();
        for (size_t i = 0; i < n; i++) {
            if (!ids[i].id || !ids[i].id[0] || !ids[i].type)
                abort();
        }
    }
    arena_release(&a);
    free(body);
    free(text);
    return 0;
}

#endif
