/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for message understanding (src/domain/understand): the first byte picks
 * the sender's role, the rest is the text, any bytes and any length (an exact-size, NUL-ended
 * copy). Aborts when an outcome is incoherent: an error that is not ERR_INVALID or lacks a
 * message, valid short UTF-8 refused, an intent or confidence out of range, or entity strings
 * that are not NUL-terminated valid UTF-8. Built and run by scripts/fuzz.sh; seeds in
 * fuzz/corpus/fuzz_understand/.
 */
#include "core/err.h"
#include "core/str.h"
#include "domain/understand/understand.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_field(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap || !str_utf8_valid(s, n))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    enum understand_role role = (data[0] & 1) ? UNDERSTAND_ROLE_SELLER : UNDERSTAND_ROLE_BUYER;
    size_t len = size - 1;
    char *text = malloc(len + 1);
    memcpy(text, data + 1, len);
    text[len] = '\0';
    struct understanding u;
    memset(&u, 0x5a, sizeof(u));
    struct err e;
    err_init(&e);
    int rc = understand_text(text, role, &u, &e);
    bool plain = strlen(text) == len && len <= UNDERSTAND_TEXT_MAX && str_utf8_valid(text, len);
    if (rc) {
        if (rc != ERR_INVALID || e.code != ERR_INVALID || !e.msg[0] || plain)
            abort();
    } else {
        if ((int)u.intent < 0 || u.intent >= UNDERSTAND_INTENT_COUNT)
            abort();
        if (!(u.confidence >= 0.0 && u.confidence <= 1.0))
            abort();
        check_field(u.product, sizeof(u.product));
        check_field(u.category, sizeof(u.category));
        check_field(u.currency, sizeof(u.currency));
        check_field(u.code, sizeof(u.code));
        if (u.choice < 0 || u.choice > 9 || u.quantity < 0 || u.budget < 0)
            abort();
    }
    free(text);
    return 0;
}
