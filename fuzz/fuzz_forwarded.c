/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for core/ipnet.c: input "TRUSTED\nX-FORWARDED-FOR" (no newline: the whole
 * input is the header, trusted = loopback). Invariants: a list that parses holds at most
 * IPNET_LIST_MAX networks; the client address from a valid peer is always an address, in
 * canonical form, and is the peer itself when the peer is not trusted. Built and run by
 * scripts/fuzz.sh.
 */
#include "core/ipnet.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    const char *list = "127.0.0.1, ::1";
    char *xff = text;
    char *nl = strchr(text, '\n');
    if (nl) {
        *nl = '\0';
        list = text;
        xff = nl + 1;
    }
    struct ipnet_list trusted;
    struct err e;
    err_init(&e);
    if (ipnet_list_parse(&trusted, list, "ICESHOP_TRUSTED_PROXIES", &e)) {
        free(text);
        return 0;
    }
    if (trusted.n > IPNET_LIST_MAX)
        abort();
    static const char *peers[] = {"127.0.0.1", "::1", "203.0.113.5", "::ffff:10.0.0.1"};
    for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
        char out[IPNET_TEXT_MAX], again[IPNET_TEXT_MAX];
        ipnet_forwarded_client(&trusted, peers[i], xff, out, sizeof(out));
        if (memchr(out, '\0', sizeof(out)) == NULL)
            abort();
        if (!ipnet_canonical(out, again, sizeof(again)) || strcmp(out, again) != 0)
            abort();
        char peer[IPNET_TEXT_MAX];
        ipnet_canonical(peers[i], peer, sizeof(peer));
        if (!ipnet_list_contains(&trusted, peers[i]) && strcmp(out, peer) != 0)
            abort();
    }
    free(text);
    return 0;
}
