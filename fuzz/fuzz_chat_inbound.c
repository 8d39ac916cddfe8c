/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the inbound chat body parsers of src/domain/chat/inbound.c: the first
 * byte picks chat_parse_meta (even) or chat_parse_vapi (odd), the rest is the body (an
 * exact-size copy, so ASan sees reads past its end). Aborts when an outcome is incoherent: an
 * error without a message, or an event without provider, kind, key, sender or text.
 * Built and run by scripts/fuzz.sh; seeds in fuzz/corpus/fuzz_chat_inbound/.
 */
#include "core/arena.h"
#include "core/err.h"
#include "domain/chat/inbound.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS 1700000000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool meta = (data[0] & 1) == 0;
    size_t len = size - 1;
    char *body = malloc(len ? len : 1);
    memcpy(body, data + 1, len);
    struct arena a;
    arena_init(&a);
    struct err e;
    err_init(&e);
    struct chat_event *events = NULL;
    size_t n = 0;
    int rc = meta ? chat_parse_meta(body, len, NOW_MS, &a, &events, &n, &e)
                  : chat_parse_vapi(body, len, NOW_MS, &a, &events, &n, &e);
    if (rc != 0 && (rc != (int)e.code || e.msg[0] == '\0'))
        abort();
    if (rc == 0) {
        if (e.code != ERR_OK || (n > 0 && !events))
            abort();
        for (size_t i = 0; i < n; i++) {
            const struct chat_event *ev = &events[i];
            if (!ev->provider || !ev->kind || !ev->key || !ev->key[0] || !ev->from || !ev->text ||
                !ev->type)
                abort();
        }
    }
    arena_release(&a);
    free(body);
    return 0;
}
