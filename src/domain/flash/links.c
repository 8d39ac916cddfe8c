/* SPDX-License-Identifier: MIT */
/* Signed window links (see links.h). */
#include "domain/flash/links.h"
#include "core/crypto.h"
#include "core/str.h"
#include "core/token.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static unsigned char key[SEC_HMAC_SHA256_LEN];
static char base[256];
static bool ready;

void flash_links_configure(const unsigned char secret[32], const char *base_url)
{
    /* a key of its own: a login token can never pass as a link, nor the reverse */
    static const char label[] = "iceshop flash links v1";
    sec_hmac_sha256(key, secret, 32, label, sizeof(label) - 1);
    str_copy(base, sizeof(base), base_url ? base_url : "");
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        base[--n] = '\0';
    ready = true;
}

bool flash_links_ready(void)
{
    return ready;
}

int flash_link_token(const struct flash_link *l, int64_t exp_ms, struct arena *a,
                     const char **token, struct err *e)
{
    if (!ready)
        return err_set(e, ERR_INTERNAL, "links are not configured");
    char claims[192];
    snprintf(claims, sizeof(claims), "{\"k\":\"%c\",\"t\":%lld,\"w\":%lld,\"b\":%lld,\"exp\":%lld}",
             (char)l->kind, (long long)l->tenant, (long long)l->window, (long long)l->buyer_pk,
             (long long)(exp_ms / 1000));
    char *out;
    int rc = token_sign(a, key, sizeof(key), claims, &out, e);
    if (!rc)
        *token = out;
    return rc;
}

const char *flash_link_url(const struct flash_link *l, int64_t exp_ms, struct arena *a)
{
    const char *t;
    struct err e;
    err_init(&e);
    if (!ready || !base[0] || flash_link_token(l, exp_ms, a, &t, &e))
        return NULL;
    return arena_printf(a, "%s/%c/%s", base, (char)l->kind, t);
}

int flash_link_verify(const char *token, enum flash_link_kind kind, int64_t now_ms, struct arena *a,
                      struct flash_link *out, struct err *e)
{
    static const char *bad = "this link is not valid (expired, altered, or for another page)";
    if (!ready || !token || !*token)
        return err_set(e, ERR_UNAUTHORIZED, "%s", bad);
    char *claims = NULL;
    struct err te;
    err_init(&te);
    if (token_verify(a, key, sizeof(key), token, now_ms / 1000, &claims, &te))
        return err_set(e, ERR_UNAUTHORIZED, "%s", bad);
    json_t *o = json_loads(claims, 0, NULL);
    const char *k = json_string_value(json_object_get(o, "k"));
    json_t *t = json_object_get(o, "t"), *w = json_object_get(o, "w"), *b = json_object_get(o, "b");
    bool ok = k && k[0] == (char)kind && !k[1] && json_is_integer(t) && json_is_integer(w) &&
              json_is_integer(b) && json_integer_value(t) > 0 && json_integer_value(w) > 0 &&
              (kind == FLASH_LINK_SELLER || json_integer_value(b) > 0);
    if (ok) {
        out->kind = kind;
        out->tenant = (int64_t)json_integer_value(t);
        out->window = (int64_t)json_integer_value(w);
        out->buyer_pk = (int64_t)json_integer_value(b);
    }
    json_decref(o);
    return ok ? 0 : err_set(e, ERR_UNAUTHORIZED, "%s", bad);
}
