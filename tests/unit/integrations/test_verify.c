/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/integrations: the header list, the provider table and, for every provider,
 * a valid signature built here from the documented rule, a wrong secret, a tampered body, a
 * missing / repeated / malformed header, the published vectors (Meta, Stripe, iyzico, Shopify,
 * Standard Webhooks), Stripe's several v1 values and 300 s tolerance edges, and the event
 * identities the ledger deduplicates on; and for every provider every malformed form of its
 * authenticating headers (empty, prefix only, truncated, too long, changed, sent twice).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/crypto.h"
#include "core/webhook_sig.h"
#include "integrations/provider.h"
#include "support/check.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define NOW 1700000000LL

/* ---------------------------------------------------------------- helpers */

static const struct integrations_provider *prov(const char *name)
{
    const struct integrations_provider *p = integrations_provider_find(name);
    if (!p)
        fail_msg("no provider %s", name);
    return p;
}

/* Headers from "Name: value" strings (NULL-terminated); the strings are split in `store`. */
struct hdrs {
    struct wh_headers h;
    char store[WH_HEADERS_MAX][512];
};

static struct wh_headers *headers(struct hdrs *s, const char *const *lines)
{
    wh_headers_init(&s->h);
    for (size_t i = 0; lines && lines[i]; i++) {
        assert_true(i < WH_HEADERS_MAX);
        assert_true(strlen(lines[i]) < sizeof(s->store[i]));
        memcpy(s->store[i], lines[i], strlen(lines[i]) + 1);
        char *colon = strchr(s->store[i], ':');
        assert_non_null(colon);
        *colon = '\0';
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        OK(wh_headers_add(&s->h, s->store[i], v, e));
    }
    return &s->h;
}

static int verify_at(const char *name, const char *const *lines, const char *body, size_t len,
                     const char *secret, int64_t now, struct err *e)
{
    struct hdrs s;
    err_init(e);
    return prov(name)->verify(headers(&s, lines), body, len, secret, now, e);
}

static void expect_ok(const char *name, const char *const *lines, const char *body,
                      const char *secret, int64_t now)
{
    struct err e;
    int rc = verify_at(name, lines, body, strlen(body), secret, now, &e);
    if (rc)
        fail_msg("%s: expected a match, got %d: %s", name, rc, e.msg);
}

/* Refused with `code` and a message that starts with the provider and contains `part`. */
static void expect_refused(const char *name, const char *const *lines, const char *body, size_t len,
                           const char *secret, int64_t now, int code, const char *part)
{
    struct err e;
    int rc = verify_at(name, lines, body, len, secret, now, &e);
    if (rc != code)
        fail_msg("%s: expected code %d (%s), got %d: %s", name, code, part, rc, e.msg);
    if (strncmp(e.msg, name, strlen(name)) != 0 || !strstr(e.msg, part))
        fail_msg("%s: message \"%s\" lacks \"%s\"", name, e.msg, part);
}

static void expect_unauth(const char *name, const char *const *lines, const char *body,
                          const char *secret, int64_t now, const char *part)
{
    expect_refused(name, lines, body, strlen(body), secret, now, ERR_UNAUTHORIZED, part);
}

/*
 * Every malformed form of the authenticating header of a valid request must be refused:
 * `lines` verify with `body` and `secret`; header `idx` is the one that authenticates. Its value
 * is replaced by: nothing, only what precedes the first '=' plus it ("sha256=", "t="), its first
 * half, all but its last character, itself plus one more character, itself plus "==", its
 * first character changed; and the header is sent twice, and twice with different values.
 */
static void expect_malformed_refused(const char *name, const char *const *lines, size_t idx,
                                     const char *body, const char *secret, int64_t now)
{
    expect_ok(name, lines, body, secret, now);
    const char *line = lines[idx];
    const char *colon = strchr(line, ':');
    assert_non_null(colon);
    int hlen = (int)(colon - line);
    const char *value = colon + 1;
    while (*value == ' ')
        value++;
    size_t vlen = strlen(value);
    assert_true(vlen >= 2);
    const char *eq = strchr(value, '=');
    char forms[9][600];
    int nf = 0;
    snprintf(forms[nf++], 600, "%.*s:", hlen, line);
    if (eq && eq > value && eq[1])
        snprintf(forms[nf++], 600, "%.*s: %.*s", hlen, line, (int)(eq - value + 1), value);
    snprintf(forms[nf++], 600, "%.*s: %.*s", hlen, line, (int)(vlen / 2), value);
    snprintf(forms[nf++], 600, "%.*s: %.*s", hlen, line, (int)(vlen - 1), value);
    snprintf(forms[nf++], 600, "%.*s: %s0", hlen, line, value);
    snprintf(forms[nf++], 600, "%.*s: %sA", hlen, line, value);
    snprintf(forms[nf++], 600, "%.*s: %s==", hlen, line, value);
    snprintf(forms[nf++], 600, "%.*s: %c%s", hlen, line, value[0] == 'x' ? 'y' : 'x', value + 1);
    for (int f = 0; f < nf; f++) {
        const char *mut[WH_HEADERS_MAX + 1];
        size_t n = 0;
        for (; lines[n]; n++)
            mut[n] = n == idx ? forms[f] : lines[n];
        mut[n] = NULL;
        struct err e;
        int rc = verify_at(name, mut, body, strlen(body), secret, now, &e);
        if (rc == 0)
            fail_msg("%s: malformed header accepted: \"%s\"", name, forms[f]);
        if (rc != ERR_UNAUTHORIZED || strncmp(e.msg, name, strlen(name)) != 0)
            fail_msg("%s: \"%s\": want a 401 naming the provider, got %d: %s", name, forms[f], rc,
                     e.msg);
    }
    /* the header twice: identical, and with a wrong second value */
    for (int twice = 0; twice < 2; twice++) {
        const char *mut[WH_HEADERS_MAX + 1];
        size_t n = 0;
        for (size_t i = 0; lines[i]; i++)
            mut[n++] = lines[i];
        mut[n++] = twice ? forms[nf - 1] : line;
        mut[n] = NULL;
        struct err e;
        if (verify_at(name, mut, body, strlen(body), secret, now, &e) == 0)
            fail_msg("%s: header %.*s sent twice was accepted", name, hlen, line);
    }
}

/* The same body with byte `i` changed. */
static char *tamper(const char *body, size_t i, char buf[], size_t size)
{
    assert_true(strlen(body) < size && i < strlen(body));
    memcpy(buf, body, strlen(body) + 1);
    buf[i] ^= 0x01;
    return buf;
}

static void hex_mac(char out[SEC_HMAC_SHA256_HEX_SIZE], const char *key, const char *msg)
{
    sec_hmac_sha256_hex(out, key, strlen(key), msg, strlen(msg));
}

static void b64_mac(char out[SEC_HMAC_SHA256_B64_SIZE], const char *key, const char *msg)
{
    sec_hmac_sha256_b64(out, SEC_B64_STD, key, strlen(key), msg, strlen(msg));
}

/* ---------------------------------------------------------------- header list, table */

static const char *table_lookup(void *ctx, const char *name)
{
    const char *const *kv = ctx;
    for (size_t i = 0; kv[i]; i += 2) {
        if (strcasecmp(kv[i], name) == 0)
            return kv[i + 1];
    }
    return NULL;
}

static void test_headers(void **state)
{
    (void)state;
    struct wh_headers h;
    wh_headers_init(&h);
    assert_null(wh_headers_get(&h, "x-a"));
    OK(wh_headers_add(&h, "X-A", "1", e));
    OK(wh_headers_add(&h, "x-b", "2", e));
    OK(wh_headers_add(&h, "x-a", "3", e));
    assert_string_equal(wh_headers_get(&h, "x-A"), "1"); /* the first, any case */
    assert_string_equal(wh_headers_get(&h, "X-B"), "2");
    assert_int_equal(wh_headers_count(&h, "X-a"), 2);
    assert_int_equal(wh_headers_count(&h, "x-c"), 0);
    for (size_t i = h.n; i < WH_HEADERS_MAX; i++)
        OK(wh_headers_add(&h, "x-fill", "v", e));
    FAILS(ERR_TOO_LARGE, wh_headers_add(&h, "x-over", "v", e));
    assert_int_equal(h.n, WH_HEADERS_MAX);

    /* collect copies just the names asked for, under the names as asked */
    const char *kv[] = {"x-shopify-hmac-sha256", "sig", "X-Other", "o", NULL};
    wh_headers_init(&h);
    OK(wh_headers_collect(&h, prov("shopify")->headers, table_lookup, (void *)kv, e));
    assert_int_equal(h.n, 1);
    assert_string_equal(h.items[0].name, "X-Shopify-Hmac-Sha256");
    assert_string_equal(h.items[0].value, "sig");
}

static void test_table(void **state)
{
    (void)state;
    static const char *const names[] = {"meta",    "vapi",        "stripe",           "iyzico",
                                        "shopify", "woocommerce", "standard-webhooks"};
    size_t n = 0;
    const struct integrations_provider *all = integrations_provider_list(&n);
    assert_int_equal(n, sizeof(names) / sizeof(names[0]));
    for (size_t i = 0; i < n; i++) {
        const struct integrations_provider *p = integrations_provider_find(names[i]);
        assert_non_null(p);
        assert_ptr_equal(p, &all[i]);
        assert_string_equal(p->name, names[i]);
        assert_non_null(p->verify);
        assert_non_null(p->identify);
        assert_non_null(p->headers);
        assert_non_null(p->headers[0]);
        /* every provider refuses without a secret, and without headers */
        struct wh_headers h;
        wh_headers_init(&h);
        FAILS(ERR_INVALID, p->verify(&h, "{}", 2, NULL, NOW, e));
        assert_non_null(strstr(check_last.msg, "no secret configured"));
        FAILS(ERR_INVALID, p->verify(&h, "{}", 2, "", NOW, e));
        FAILS(ERR_UNAUTHORIZED,
              p->verify(&h, "{}", 2, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La", NOW, e));
        assert_int_equal(strncmp(check_last.msg, p->name, strlen(p->name)), 0);
    }
    assert_null(integrations_provider_find("Stripe"));
    assert_null(integrations_provider_find("paypal"));
    assert_null(integrations_provider_find(""));
    assert_null(integrations_provider_find(NULL));
    assert_int_equal(prov("stripe")->tolerance_s, 300);
    assert_int_equal(prov("standard-webhooks")->tolerance_s, 300);
    assert_int_equal(prov("meta")->tolerance_s, 0);
}

/* ---------------------------------------------------------------- Meta */

#define META_SECRET "app-secret-of-this-test"

/* pywa tests/test_server.py::test_webhook_updates_validator: a real delivery */
#define META_VEC_SECRET "1222e786b144d0e85b9f365372d93676"
#define META_VEC_SIG    "sha256=54edfa1d7259e0eb13c677cc7d73d1b5c86cfa12433d19156e058ab9251bc441"
#define META_VEC_BODY                                                                              \
    "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"264937493375603\","            \
    "\"changes\":[{\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{\"display_phone_"   \
    "number\":\"15550953877\",\"phone_number_id\":\"277321005464405\"},\"contacts\":[{"            \
    "\"profile\":"                                                                                 \
    "{\"name\":\"PyWa Tests\"},\"wa_id\":\"972544401243\"}],\"messages\":[{\"from\":"              \
    "\"972544401243\",\"id\":\"wamid.HBgMOTcyNTQ0NDAxMjQzFQIAEhggM0RFQTNCMEEwRTY3QzUwODYzMDc4NjQ4" \
    "QzM4ODAxM0YA\",\"timestamp\":\"1730231903\",\"text\":{\"body\":\"Hey there! I am using "      \
    "PyWa.\"},\"type\":\"text\"}]},\"field\":\"messages\"}]}]}"

static void test_meta(void **state)
{
    (void)state;
    const char *body = "{\"object\":\"whatsapp_business_account\",\"entry\":[]}";
    char hex[SEC_HMAC_SHA256_HEX_SIZE], line[128], upper[128], buf[256];
    hex_mac(hex, META_SECRET, body);
    snprintf(line, sizeof(line), "X-Hub-Signature-256: sha256=%s", hex);
    const char *good[] = {line, NULL};
    expect_ok("meta", good, body, META_SECRET, NOW);
    expect_malformed_refused("meta", good, 0, body, META_SECRET, NOW);
    /* any header case, any hex case; the clock plays no part */
    snprintf(upper, sizeof(upper), "x-hub-signature-256: sha256=%s", hex);
    for (char *c = upper + strlen("x-hub-signature-256: sha256="); *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'f' ? *c - 32 : *c);
    const char *up[] = {upper, NULL};
    expect_ok("meta", up, body, META_SECRET, 0);

    expect_unauth("meta", good, body, META_SECRET "x", NOW, "does not match the body");
    for (size_t i = 0; i < strlen(body); i += 7)
        expect_unauth("meta", good, tamper(body, i, buf, sizeof(buf)), META_SECRET, NOW,
                      "does not match the body");
    /* a body cut short by one byte */
    expect_refused("meta", good, body, strlen(body) - 1, META_SECRET, NOW, ERR_UNAUTHORIZED,
                   "does not match");
    expect_unauth("meta", NULL, body, META_SECRET, NOW, "X-Hub-Signature-256 missing");
    const char *other[] = {"X-Hub-Signature: sha1=abc", NULL};
    expect_unauth("meta", other, body, META_SECRET, NOW, "X-Hub-Signature-256 missing");
    const char *twice[] = {line, line, NULL};
    expect_unauth("meta", twice, body, META_SECRET, NOW, "appears more than once");
    const char *empty[] = {"X-Hub-Signature-256:", NULL};
    expect_unauth("meta", empty, body, META_SECRET, NOW, "is empty");
    const char *md5[] = {"X-Hub-Signature-256: md5=abc", NULL};
    expect_unauth("meta", md5, body, META_SECRET, NOW, "must be sha256=<hex>");
    char nohdr[128];
    snprintf(nohdr, sizeof(nohdr), "X-Hub-Signature-256: %s", hex);
    const char *noprefix[] = {nohdr, NULL};
    expect_unauth("meta", noprefix, body, META_SECRET, NOW, "must be sha256=<hex>");
    char shorter[128];
    snprintf(shorter, sizeof(shorter), "X-Hub-Signature-256: sha256=%.63s", hex);
    const char *shrt[] = {shorter, NULL};
    expect_unauth("meta", shrt, body, META_SECRET, NOW, "64 hex digits");
    char nonhex[128];
    snprintf(nonhex, sizeof(nonhex), "X-Hub-Signature-256: sha256=%.63sg", hex);
    const char *nh[] = {nonhex, NULL};
    expect_unauth("meta", nh, body, META_SECRET, NOW, "64 hex digits");

    /* the published vector */
    const char *vec[] = {"X-Hub-Signature-256: " META_VEC_SIG, NULL};
    expect_ok("meta", vec, META_VEC_BODY, META_VEC_SECRET, NOW);
    hex_mac(hex, META_VEC_SECRET, META_VEC_BODY);
    assert_string_equal(hex, META_VEC_SIG + 7);
    expect_unauth("meta", vec, META_VEC_BODY, META_SECRET, NOW, "does not match");
}

static void test_meta_identity(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct wh_headers h;
    wh_headers_init(&h);
    struct wh_event_id *ids = NULL;
    size_t n = 0;
    OK(prov("meta")->identify(&h, META_VEC_BODY, strlen(META_VEC_BODY), &a, &ids, &n, e));
    assert_int_equal(n, 1);
    assert_string_equal(ids[0].id,
                        "wamid.HBgMOTcyNTQ0NDAxMjQzFQIAEhggM0RFQTNCMEEwRTY3QzUwODYzMDc4NjQ4QzM4ODAx"
                        "M0YA");
    assert_string_equal(ids[0].type, "message");

    /* two messages and a status in one delivery: three identities, as chat dedupes them */
    const char *batch = "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{"
                        "\"field\":\"messages\",\"value\":{\"messages\":[{\"id\":\"wamid.A\"},"
                        "{\"id\":\"wamid.B\"}],\"statuses\":[{\"id\":\"wamid.C\",\"status\":"
                        "\"read\"}]}}]}]}";
    OK(prov("meta")->identify(&h, batch, strlen(batch), &a, &ids, &n, e));
    assert_int_equal(n, 3);
    assert_string_equal(ids[0].id, "wamid.A");
    assert_string_equal(ids[1].id, "wamid.B");
    assert_string_equal(ids[2].id, "wamid.C:read");
    assert_string_equal(ids[2].type, "status");

    /* another subscription field: the body's digest, typed by the field */
    const char *other = "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{"
                        "\"field\":\"message_template_status_update\",\"value\":{}}]}]}";
    OK(prov("meta")->identify(&h, other, strlen(other), &a, &ids, &n, e));
    assert_int_equal(n, 1);
    assert_string_equal(ids[0].type, "message_template_status_update");
    unsigned char d[SEC_SHA256_LEN];
    char hex[SEC_HEX_SIZE(SEC_SHA256_LEN)], want[80];
    sec_sha256(d, other, strlen(other));
    OK(sec_hex_encode(hex, sizeof(hex), d, sizeof(d), e));
    snprintf(want, sizeof(want), "sha256:%s", hex);
    assert_string_equal(ids[0].id, want);

    FAILS(ERR_INVALID, prov("meta")->identify(&h, "{}", 2, &a, &ids, &n, e));
    assert_string_equal(check_last.field, "entry");
    const char *noid =
        "{\"entry\":[{\"changes\":[{\"value\":{\"messages\":[{\"from\":\"1\"}]}}]}]}";
    FAILS(ERR_INVALID, prov("meta")->identify(&h, noid, strlen(noid), &a, &ids, &n, e));
    assert_string_equal(check_last.field, "entry.changes.value.messages.id");
    const char *nost = "{\"entry\":[{\"changes\":[{\"value\":{\"statuses\":[{\"id\":\"x\"}]}}]}]}";
    FAILS(ERR_INVALID, prov("meta")->identify(&h, nost, strlen(nost), &a, &ids, &n, e));
    FAILS(ERR_INVALID, prov("meta")->identify(&h, "[1]", 3, &a, &ids, &n, e));
    FAILS(ERR_INVALID, prov("meta")->identify(&h, "{\"entry\":", 9, &a, &ids, &n, e));
    arena_release(&a);
}

/* ---------------------------------------------------------------- VAPI */

static void test_vapi(void **state)
{
    (void)state;
    const char *body = "{\"message\":{\"type\":\"status-update\",\"status\":\"ended\"}}";
    const char *good[] = {"x-vapi-secret: shared-secret-1", NULL};
    expect_ok("vapi", good, body, "shared-secret-1", NOW);
    const char *cased[] = {"X-Vapi-Secret: shared-secret-1", NULL};
    expect_ok("vapi", cased, body, "shared-secret-1", NOW);
    /* the body is not signed: any body passes with the right secret */
    expect_ok("vapi", good, "{}", "shared-secret-1", NOW);
    expect_malformed_refused("vapi", good, 0, body, "shared-secret-1", NOW);
    expect_unauth("vapi", good, body, "shared-secret-2", NOW, "x-vapi-secret does not match");
    expect_unauth("vapi", good, body, "shared-secret-", NOW, "does not match");
    expect_unauth("vapi", good, body, "shared-secret-11", NOW, "does not match");
    const char *wrong[] = {"x-vapi-secret: shared-secret-1 ", NULL};
    expect_unauth("vapi", wrong, body, "shared-secret-1", NOW, "does not match");
    expect_unauth("vapi", NULL, body, "shared-secret-1", NOW, "x-vapi-secret missing");
    const char *empty[] = {"x-vapi-secret:", NULL};
    expect_unauth("vapi", empty, body, "shared-secret-1", NOW, "is empty");
    const char *twice[] = {"x-vapi-secret: shared-secret-1", "X-VAPI-SECRET: shared-secret-1",
                           NULL};
    expect_unauth("vapi", twice, body, "shared-secret-1", NOW, "more than once");
}

static void test_vapi_identity(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct wh_headers h;
    wh_headers_init(&h);
    struct wh_event_id *ids = NULL;
    size_t n = 0;
    const char *seed = "{\"event_type\":\"message\",\"message_id\":\"m-42\",\"from\":\"+90555\"}";
    OK(prov("vapi")->identify(&h, seed, strlen(seed), &a, &ids, &n, e));
    assert_int_equal(n, 1);
    assert_string_equal(ids[0].id, "m-42");
    assert_string_equal(ids[0].type, "message");
    const char *noid = "{\"event_type\":\"message\",\"from\":\"+90555\"}";
    OK(prov("vapi")->identify(&h, noid, strlen(noid), &a, &ids, &n, e));
    assert_true(strncmp(ids[0].id, "sha256:", 7) == 0 && strlen(ids[0].id) == 7 + 64);
    const char *first = ids[0].id;
    /* the same bytes again: the same identity; one byte more: another */
    OK(prov("vapi")->identify(&h, noid, strlen(noid), &a, &ids, &n, e));
    assert_string_equal(ids[0].id, first);
    const char *noid2 = "{\"event_type\":\"message\",\"from\":\"+905550\"}";
    OK(prov("vapi")->identify(&h, noid2, strlen(noid2), &a, &ids, &n, e));
    assert_string_not_equal(ids[0].id, first);
    const char *server = "{\"message\":{\"type\":\"transcript\",\"role\":\"user\"}}";
    OK(prov("vapi")->identify(&h, server, strlen(server), &a, &ids, &n, e));
    assert_string_equal(ids[0].type, "transcript");
    assert_true(strncmp(ids[0].id, "sha256:", 7) == 0);
    FAILS(ERR_INVALID, prov("vapi")->identify(&h, "nope", 4, &a, &ids, &n, e));
    assert_non_null(strstr(check_last.msg, "vapi: "));
    arena_release(&a);
}

/* ---------------------------------------------------------------- Stripe */

#define STRIPE_SECRET "whsec_stripe_secret_of_this_test"
#define STRIPE_BODY   "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"payment_intent.succeeded\"}"

/* The stripe-python algorithm on stripe-python's test constants (SOURCE.md: DERIVED) */
#define STRIPE_VEC_SECRET "whsec_test_secret"
#define STRIPE_VEC_BODY                                                                            \
    "{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\",\n  \"data\": { \"object\": { "   \
    "\"id\": \"rdr_123\", \"object\": \"terminal.reader\" } }\n}"
#define STRIPE_VEC_HEADER                                                                          \
    "Stripe-Signature: "                                                                           \
    "t=1492774577,v1=d21d91b425674689e03346536b8fec6384a8721d43ebe269a1689a3ad22cba9c"

/* "Stripe-Signature: t=<t>,<extra>v1=<sig of t.body under key>" */
static void stripe_line(char *out, size_t size, int64_t t, const char *key, const char *body,
                        const char *extra)
{
    char msg[512], hex[SEC_HMAC_SHA256_HEX_SIZE];
    snprintf(msg, sizeof(msg), "%" PRId64 ".%s", t, body);
    hex_mac(hex, key, msg);
    snprintf(out, size, "Stripe-Signature: t=%" PRId64 ",%sv1=%s", t, extra ? extra : "", hex);
}

static void test_stripe(void **state)
{
    (void)state;
    char line[512], buf[256];
    const char *h[] = {line, NULL};
    stripe_line(line, sizeof(line), NOW, STRIPE_SECRET, STRIPE_BODY, NULL);
    expect_ok("stripe", h, STRIPE_BODY, STRIPE_SECRET, NOW);
    expect_malformed_refused("stripe", h, 0, STRIPE_BODY, STRIPE_SECRET, NOW);
    expect_unauth("stripe", h, STRIPE_BODY, "whsec_other", NOW, "no v1 signature matches");
    for (size_t i = 0; i < strlen(STRIPE_BODY); i += 5)
        expect_unauth("stripe", h, tamper(STRIPE_BODY, i, buf, sizeof(buf)), STRIPE_SECRET, NOW,
                      "no v1 signature matches");
    expect_unauth("stripe", NULL, STRIPE_BODY, STRIPE_SECRET, NOW, "Stripe-Signature missing");
    const char *twice[] = {line, line, NULL};
    expect_unauth("stripe", twice, STRIPE_BODY, STRIPE_SECRET, NOW, "more than once");

    /* the signature binds the timestamp: the same v1 under another t fails */
    char moved[512];
    memcpy(moved, line, strlen(line) + 1);
    moved[strlen("Stripe-Signature: t=") + 9] ^= 1; /* last digit of t */
    const char *mv[] = {moved, NULL};
    expect_unauth("stripe", mv, STRIPE_BODY, STRIPE_SECRET, NOW, "no v1 signature matches");

    /* several v1 values: any may match, wherever it stands; v0 is ignored */
    stripe_line(line, sizeof(line), NOW, STRIPE_SECRET, STRIPE_BODY,
                "v1=0000000000000000000000000000000000000000000000000000000000000000,v0=abc,");
    expect_ok("stripe", h, STRIPE_BODY, STRIPE_SECRET, NOW);
    char right_first[600];
    stripe_line(line, sizeof(line), NOW, STRIPE_SECRET, STRIPE_BODY, NULL);
    snprintf(right_first, sizeof(right_first), "%s,v1=%064d,v1=zz", line, 0);
    const char *rf[] = {right_first, NULL};
    expect_ok("stripe", rf, STRIPE_BODY, STRIPE_SECRET, NOW);
    /* the old secret's and the new secret's signatures (a rolled secret sends both) */
    char old_new[600], old_line[512];
    stripe_line(old_line, sizeof(old_line), NOW, "whsec_old", STRIPE_BODY, NULL);
    snprintf(old_new, sizeof(old_new), "%s,%s", old_line, strstr(line, "v1="));
    const char *on[] = {old_new, NULL};
    expect_ok("stripe", on, STRIPE_BODY, STRIPE_SECRET, NOW);
    expect_ok("stripe", on, STRIPE_BODY, "whsec_old", NOW);
    expect_unauth("stripe", on, STRIPE_BODY, "whsec_neither", NOW, "no v1 signature matches");

    /* tolerance: exactly 300 s either way is accepted, 301 is not */
    stripe_line(line, sizeof(line), NOW, STRIPE_SECRET, STRIPE_BODY, NULL);
    expect_ok("stripe", h, STRIPE_BODY, STRIPE_SECRET, NOW + 300);
    expect_ok("stripe", h, STRIPE_BODY, STRIPE_SECRET, NOW - 300);
    expect_unauth("stripe", h, STRIPE_BODY, STRIPE_SECRET, NOW + 301, "more than 300 s old");
    expect_unauth("stripe", h, STRIPE_BODY, STRIPE_SECRET, NOW - 301, "in the future");
    expect_unauth("stripe", h, STRIPE_BODY, STRIPE_SECRET, NOW + 86400, "old");

    /* malformed headers */
    char hex[SEC_HMAC_SHA256_HEX_SIZE];
    hex_mac(hex, STRIPE_SECRET, "1700000000." STRIPE_BODY);
    /* each line is "Stripe-Signature: " head + the first `use` hex digits of the MAC + tail */
    static const struct {
        const char *head;
        int use;
        const char *tail;
        const char *why;
    } bad[] = {
        {"v1=", 64, "", "no t= timestamp"},
        {"t=1700000000", 0, "", "no v1 signature"},
        {"t=1700000000,v0=", 64, "", "no v1 signature"},
        {"t=1700000000,v2=", 64, "", "no v1 signature"},
        {"t=abc,v1=", 64, "", "t= is not an integer"},
        {"t=,v1=", 64, "", "t= is not an integer"},
        {"t=-1700000000,v1=", 64, "", "t= is not an integer"},
        {"t=1700000000 ,v1=", 64, "", "t= is not an integer"},
        {"t=99999999999999999999,v1=", 64, "", "t= is not an integer"},
        {"t=1700000000,t=1700000000,v1=", 64, "", "more than one t="},
        {"t=1700000000,v1=", 64, ",", "not key=value"},
        {",t=1700000000,v1=", 64, "", "not key=value"},
        {"t=1700000000;v1=", 64, "", "t= is not an integer"},
        {"t=1700000000,garbage,v1=", 64, "", "not key=value"},
        {"t=1700000000,=x,v1=", 64, "", "not key=value"},
        {"1700000000.", 64, "", "not key=value"},
        {"t=1700000000,v1=", 63, "", "no v1 signature matches"},
        {"t=1700000000,v1=", 64, "ff", "no v1 signature matches"},
        {"t=1700000000,v1=", 0, "", "no v1 signature matches"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char l[512];
        snprintf(l, sizeof(l), "Stripe-Signature: %s%.*s%s", bad[i].head, bad[i].use, hex,
                 bad[i].tail);
        const char *bh[] = {l, NULL};
        expect_unauth("stripe", bh, STRIPE_BODY, STRIPE_SECRET, NOW, bad[i].why);
    }
    /* the well-formed control of the table above */
    char l[512];
    snprintf(l, sizeof(l), "Stripe-Signature: t=1700000000,v1=%s", hex);
    const char *ctl[] = {l, NULL};
    expect_ok("stripe", ctl, STRIPE_BODY, STRIPE_SECRET, NOW);

    /* the derived vector: the secret is used whole, whsec_ included, not decoded */
    const char *vec[] = {STRIPE_VEC_HEADER, NULL};
    expect_ok("stripe", vec, STRIPE_VEC_BODY, STRIPE_VEC_SECRET, 1492774577);
    expect_unauth("stripe", vec, STRIPE_VEC_BODY, STRIPE_VEC_SECRET, NOW, "old");
    expect_unauth("stripe", vec, STRIPE_VEC_BODY, "test_secret", 1492774577, "matches");
}

static void test_stripe_identity(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct wh_headers h;
    wh_headers_init(&h);
    struct wh_event_id *ids = NULL;
    size_t n = 0;
    OK(prov("stripe")->identify(&h, STRIPE_BODY, strlen(STRIPE_BODY), &a, &ids, &n, e));
    assert_int_equal(n, 1);
    assert_string_equal(ids[0].id, "evt_1");
    assert_string_equal(ids[0].type, "payment_intent.succeeded");
    const char *noid = "{\"type\":\"charge.refunded\"}";
    FAILS(ERR_INVALID, prov("stripe")->identify(&h, noid, strlen(noid), &a, &ids, &n, e));
    assert_string_equal(check_last.field, "id");
    const char *numid = "{\"id\":7,\"type\":\"charge.refunded\"}";
    FAILS(ERR_INVALID, prov("stripe")->identify(&h, numid, strlen(numid), &a, &ids, &n, e));
    const char *notype = "{\"id\":\"evt_2\"}";
    FAILS(ERR_INVALID, prov("stripe")->identify(&h, notype, strlen(notype), &a, &ids, &n, e));
    assert_string_equal(check_last.field, "type");
    arena_release(&a);
}

/* ---------------------------------------------------------------- iyzico */

#define IYZ_SECRET "sandbox-secret-key-of-this-test"
#define IYZ_DIRECT                                                                                 \
    "{\"paymentConversationId\":\"conv-1\",\"merchantId\":1,\"paymentId\":555,\"status\":"         \
    "\"SUCCESS\",\"iyziEventType\":\"API_AUTH\",\"iyziEventTime\":1,\"iyziPaymentId\":555}"
#define IYZ_HPP                                                                                    \
    "{\"paymentConversationId\":\"conv-2\",\"merchantId\":1,\"token\":\"tok-9\",\"status\":"       \
    "\"FAILURE\",\"iyziEventType\":\"CHECKOUT_FORM_AUTH\",\"iyziPaymentId\":777}"

/* iyzipay-php samples/webhook_Signature_Validation.php */
#define IYZ_VEC_SECRET "sandbox-UuLnD7wZa0a3DmytfIrwHQqAMfqCNJrs"
#define IYZ_VEC_DIRECT                                                                             \
    "{\"paymentConversationId\":\"conversationId\",\"merchantId\":3382172,\"paymentId\":22484059," \
    "\"status\":\"SUCCESS\",\"iyziReferenceCode\":\"a9af8e6b-4401-4928-b6b8-40419aaa3d0f\","       \
    "\"iyziEventType\":\"API_AUTH\",\"iyziEventTime\":1721825828467,\"iyziPaymentId\":22484059}"
#define IYZ_VEC_DIRECT_SIG "92c7a72b7741bc83eb696066605c894778c87297b2c88d6037670666230e18ae"
#define IYZ_VEC_HPP                                                                                \
    "{\"paymentConversationId\":\"conversationId\",\"merchantId\":3382172,\"token\":"              \
    "\"e828c62d-fd12-4b1a-ad5a-380f15fe6596\",\"status\":\"SUCCESS\",\"iyziReferenceCode\":"       \
    "\"77e1635c-6b39-475a-8b7b-ca15ad0cd4ac\",\"iyziEventType\":\"CHECKOUT_FORM_AUTH\","           \
    "\"iyziEventTime\":1721825036103,\"iyziPaymentId\":22483975}"
#define IYZ_VEC_HPP_SIG "4031c575763486a2d2bf3f7ace0baebfcd6bed65393ab4df3fe80c00d5fd6878"

static void iyz_line(char *out, size_t size, const char *key, const char *signed_fields)
{
    char msg[512], hex[SEC_HMAC_SHA256_HEX_SIZE];
    snprintf(msg, sizeof(msg), "%s%s", key, signed_fields);
    hex_mac(hex, key, msg);
    snprintf(out, size, "X-IYZ-SIGNATURE-V3: %s", hex);
}

static void test_iyzico(void **state)
{
    (void)state;
    char line[160], buf[512];
    const char *h[] = {line, NULL};
    /* direct: eventType + paymentId + paymentConversationId + status */
    iyz_line(line, sizeof(line), IYZ_SECRET, "API_AUTH555conv-1SUCCESS");
    expect_ok("iyzico", h, IYZ_DIRECT, IYZ_SECRET, NOW);
    expect_malformed_refused("iyzico", h, 0, IYZ_DIRECT, IYZ_SECRET, NOW);
    expect_unauth("iyzico", h, IYZ_DIRECT, IYZ_SECRET "x", NOW, "does not match the body");
    /* a signed field changed */
    const char *paid_other = "{\"paymentConversationId\":\"conv-1\",\"paymentId\":556,\"status\":"
                             "\"SUCCESS\",\"iyziEventType\":\"API_AUTH\"}";
    expect_unauth("iyzico", h, paid_other, IYZ_SECRET, NOW, "does not match the body");
    const char *failed = "{\"paymentConversationId\":\"conv-1\",\"paymentId\":555,\"status\":"
                         "\"FAILURE\",\"iyziEventType\":\"API_AUTH\"}";
    expect_unauth("iyzico", h, failed, IYZ_SECRET, NOW, "does not match the body");
    /* the payment id may come as a string; the signed text is the same */
    const char *pid_text = "{\"paymentConversationId\":\"conv-1\",\"paymentId\":\"555\",\"status\":"
                           "\"SUCCESS\",\"iyziEventType\":\"API_AUTH\"}";
    expect_ok("iyzico", h, pid_text, IYZ_SECRET, NOW);
    /* unsigned fields may change; a byte flipped in a signed value may not */
    size_t at = (size_t)(strstr(IYZ_DIRECT, "conv-1") - IYZ_DIRECT);
    expect_unauth("iyzico", h, tamper(IYZ_DIRECT, at, buf, sizeof(buf)), IYZ_SECRET, NOW,
                  "does not match");
    /* a body without a signed field cannot be verified: the field is named */
    const char *no_status = "{\"paymentConversationId\":\"conv-1\",\"paymentId\":555,"
                            "\"iyziEventType\":\"API_AUTH\"}";
    expect_unauth("iyzico", h, no_status, IYZ_SECRET, NOW, "status is missing");
    struct err e;
    verify_at("iyzico", h, no_status, strlen(no_status), IYZ_SECRET, NOW, &e);
    assert_string_equal(e.field, "status");
    expect_unauth("iyzico", h, "not json", IYZ_SECRET, NOW, "not a JSON object");
    expect_unauth("iyzico", h, "[]", IYZ_SECRET, NOW, "not a JSON object");

    /* checkout form: eventType + iyziPaymentId + token + paymentConversationId + status */
    iyz_line(line, sizeof(line), IYZ_SECRET, "CHECKOUT_FORM_AUTH777tok-9conv-2FAILURE");
    expect_ok("iyzico", h, IYZ_HPP, IYZ_SECRET, NOW);
    at = (size_t)(strstr(IYZ_HPP, "tok-9") - IYZ_HPP);
    expect_unauth("iyzico", h, tamper(IYZ_HPP, at, buf, sizeof(buf)), IYZ_SECRET, NOW,
                  "does not match");
    /* the direct string does not verify a checkout-form delivery */
    iyz_line(line, sizeof(line), IYZ_SECRET, "CHECKOUT_FORM_AUTH777conv-2FAILURE");
    expect_unauth("iyzico", h, IYZ_HPP, IYZ_SECRET, NOW, "does not match");

    /* header checks */
    expect_unauth("iyzico", NULL, IYZ_DIRECT, IYZ_SECRET, NOW, "X-IYZ-SIGNATURE-V3 missing");
    const char *v2[] = {"X-IYZ-SIGNATURE-V2: abc", NULL};
    expect_unauth("iyzico", v2, IYZ_DIRECT, IYZ_SECRET, NOW, "X-IYZ-SIGNATURE-V3 missing");
    const char *shrt[] = {"X-IYZ-SIGNATURE-V3: abcdef", NULL};
    expect_unauth("iyzico", shrt, IYZ_DIRECT, IYZ_SECRET, NOW, "not 64 hex digits");
    const char *twice[] = {line, line, NULL};
    expect_unauth("iyzico", twice, IYZ_DIRECT, IYZ_SECRET, NOW, "more than once");

    /* the published vectors, header name as the sample writes it */
    const char *vd[] = {"X-Iyz-Signature-V3: " IYZ_VEC_DIRECT_SIG, NULL};
    expect_ok("iyzico", vd, IYZ_VEC_DIRECT, IYZ_VEC_SECRET, NOW);
    const char *vh[] = {"X-Iyz-Signature-V3: " IYZ_VEC_HPP_SIG, NULL};
    expect_ok("iyzico", vh, IYZ_VEC_HPP, IYZ_VEC_SECRET, NOW);
    expect_unauth("iyzico", vd, IYZ_VEC_HPP, IYZ_VEC_SECRET, NOW, "does not match");
    char hex[SEC_HMAC_SHA256_HEX_SIZE];
    hex_mac(hex, IYZ_VEC_SECRET, IYZ_VEC_SECRET "API_AUTH22484059conversationIdSUCCESS");
    assert_string_equal(hex, IYZ_VEC_DIRECT_SIG);
}

static void test_iyzico_identity(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct wh_headers h;
    wh_headers_init(&h);
    struct wh_event_id *ids = NULL;
    size_t n = 0;
    OK(prov("iyzico")->identify(&h, IYZ_VEC_DIRECT, strlen(IYZ_VEC_DIRECT), &a, &ids, &n, e));
    assert_int_equal(n, 1);
    assert_string_equal(ids[0].id, "API_AUTH:22484059:SUCCESS");
    assert_string_equal(ids[0].type, "API_AUTH");
    OK(prov("iyzico")->identify(&h, IYZ_HPP, strlen(IYZ_HPP), &a, &ids, &n, e));
    assert_string_equal(ids[0].id, "CHECKOUT_FORM_AUTH:777:FAILURE");
    const char *direct_only = "{\"paymentId\":12,\"status\":\"INIT_THREEDS\",\"iyziEventType\":"
                              "\"THREE_DS_AUTH\"}";
    OK(prov("iyzico")->identify(&h, direct_only, strlen(direct_only), &a, &ids, &n, e));
    assert_string_equal(ids[0].id, "THREE_DS_AUTH:12:INIT_THREEDS");
    const char *no_type = "{\"paymentId\":12,\"status\":\"SUCCESS\"}";
    FAILS(ERR_INVALID, prov("iyzico")->identify(&h, no_type, strlen(no_type), &a, &ids, &n, e));
    assert_string_equal(check_last.field, "iyziEventType");
    const char *no_pid = "{\"iyziEventType\":\"API_AUTH\",\"status\":\"SUCCESS\"}";
    FAILS(ERR_INVALID, prov("iyzico")->identify(&h, no_pid, strlen(no_pid), &a, &ids, &n, e));
    assert_string_equal(check_last.field, "paymentId");
    arena_release(&a);
}

/* ---------------------------------------------------------------- Shopify, WooCommerce */

/* a third-party vector (SOURCE.md: not Shopify-published), the same construction for both */
#define B64_VEC_SECRET "test-webhook-secret"
#define B64_VEC_BODY                                                                               \
    "{\"id\":1234567890,\"email\":\"customer@example.com\",\"total_price\":\"123.45\"}"
#define B64_VEC_SIG "QNyObTlKbMx2qDlPF/ZOZcBqg5OgPg+2oky3zldc0Gw="

static void check_b64_provider(const char *name, const char *header)
{
    const char *body = "{\"id\":820982911946154508,\"email\":\"jon@example.com\"}";
    const char *secret = "shpss_or_wc_secret_of_this_test";
    char sig[SEC_HMAC_SHA256_B64_SIZE], line[160], buf[256];
    b64_mac(sig, secret, body);
    snprintf(line, sizeof(line), "%s: %s", header, sig);
    const char *h[] = {line, NULL};
    expect_ok(name, h, body, secret, NOW);
    expect_malformed_refused(name, h, 0, body, secret, NOW);
    expect_unauth(name, h, body, "another-secret", NOW, "does not match the body");
    for (size_t i = 0; i < strlen(body); i += 6)
        expect_unauth(name, h, tamper(body, i, buf, sizeof(buf)), secret, NOW,
                      "does not match the body");
    expect_unauth(name, NULL, body, secret, NOW, "missing");
    const char *twice[] = {line, line, NULL};
    expect_unauth(name, twice, body, secret, NOW, "more than once");
    /* malformed: hex instead of base64, url-safe alphabet, no padding, cut short, too long */
    char hex[SEC_HMAC_SHA256_HEX_SIZE], url[SEC_HMAC_SHA256_B64_SIZE], bad[5][160];
    hex_mac(hex, secret, body);
    sec_hmac_sha256_b64(url, SEC_B64_URL, secret, strlen(secret), body, strlen(body));
    snprintf(bad[0], sizeof(bad[0]), "%s: %s", header, hex);
    snprintf(bad[1], sizeof(bad[1]), "%s: %s=", header, url);
    snprintf(bad[2], sizeof(bad[2]), "%s: %.43s", header, sig);
    snprintf(bad[3], sizeof(bad[3]), "%s: %.40s", header, sig);
    snprintf(bad[4], sizeof(bad[4]), "%s: %sAAAA", header, sig);
    /* only a MAC with '+' or '/' reads differently in the url-safe alphabet */
    int url_differs = strncmp(url, sig, strlen(url)) != 0;
    for (size_t i = 0; i < 5; i++) {
        if (i == 1 && !url_differs)
            continue;
        const char *bh[] = {bad[i], NULL};
        expect_unauth(name, bh, body, secret, NOW, "is not base64 of a 32-byte HMAC");
    }
    /* the vector */
    snprintf(line, sizeof(line), "%s: %s", header, B64_VEC_SIG);
    expect_ok(name, h, B64_VEC_BODY, B64_VEC_SECRET, NOW);
    b64_mac(sig, B64_VEC_SECRET, B64_VEC_BODY);
    assert_string_equal(sig, B64_VEC_SIG);
}

static void test_shopify(void **state)
{
    (void)state;
    check_b64_provider("shopify", "X-Shopify-Hmac-Sha256");
    /* the header names of one provider do not sign for the other */
    char sig[SEC_HMAC_SHA256_B64_SIZE], line[160];
    b64_mac(sig, "k", "{}");
    snprintf(line, sizeof(line), "X-WC-Webhook-Signature: %s", sig);
    const char *h[] = {line, NULL};
    expect_unauth("shopify", h, "{}", "k", NOW, "X-Shopify-Hmac-Sha256 missing");
    expect_ok("woocommerce", h, "{}", "k", NOW);
}

static void test_woocommerce(void **state)
{
    (void)state;
    check_b64_provider("woocommerce", "X-WC-Webhook-Signature");
}

static void test_header_identities(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct wh_event_id *ids = NULL;
    size_t n = 0;
    struct hdrs s;
    const char *shop[] = {"x-shopify-webhook-id: b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
                          "X-Shopify-Topic: checkouts/create", NULL};
    OK(prov("shopify")->identify(headers(&s, shop), "{}", 2, &a, &ids, &n, e));
    assert_int_equal(n, 1);
    assert_string_equal(ids[0].id, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
    assert_string_equal(ids[0].type, "checkouts/create");
    const char *shop_no_id[] = {"X-Shopify-Topic: checkouts/create", NULL};
    FAILS(ERR_INVALID,
          prov("shopify")->identify(headers(&s, shop_no_id), "{}", 2, &a, &ids, &n, e));
    assert_string_equal(check_last.field, "X-Shopify-Webhook-Id");

    const char *wc[] = {"X-WC-Webhook-Delivery-ID: 9f2c", "X-WC-Webhook-Topic: order.updated",
                        "X-WC-Webhook-ID: 3", NULL};
    OK(prov("woocommerce")->identify(headers(&s, wc), "", 0, &a, &ids, &n, e));
    assert_string_equal(ids[0].id, "9f2c");
    assert_string_equal(ids[0].type, "order.updated");
    const char *wc_no_topic[] = {"X-WC-Webhook-Delivery-ID: 9f2d", NULL};
    OK(prov("woocommerce")->identify(headers(&s, wc_no_topic), "", 0, &a, &ids, &n, e));
    assert_string_equal(ids[0].type, "");
    const char *wc_webhook_id_only[] = {"X-WC-Webhook-ID: 3", NULL};
    FAILS(ERR_INVALID,
          prov("woocommerce")->identify(headers(&s, wc_webhook_id_only), "", 0, &a, &ids, &n, e));
    assert_string_equal(check_last.field, "X-WC-Webhook-Delivery-ID");
    const char *wc_twice[] = {"X-WC-Webhook-Delivery-ID: 1", "X-WC-Webhook-Delivery-ID: 2", NULL};
    FAILS(ERR_INVALID,
          prov("woocommerce")->identify(headers(&s, wc_twice), "", 0, &a, &ids, &n, e));
    arena_release(&a);
}

/* ---------------------------------------------------------------- Standard Webhooks */

/* libraries/<lang>/tests "sign function works" */
#define SW_SECRET  "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_ID      "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SW_TS      1614265330
#define SW_PAYLOAD "{\"test\": 2432232314}"
#define SW_SIG     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static void test_standard_webhooks(void **state)
{
    (void)state;
    const char *vec[] = {"webhook-id: " SW_ID, "webhook-timestamp: 1614265330",
                         "webhook-signature: " SW_SIG, NULL};
    expect_ok("standard-webhooks", vec, SW_PAYLOAD, SW_SECRET, SW_TS);
    expect_ok("standard-webhooks", vec, SW_PAYLOAD, SW_SECRET, SW_TS + 300);
    expect_ok("standard-webhooks", vec, SW_PAYLOAD, SW_SECRET, SW_TS - 300);
    expect_unauth("standard-webhooks", vec, SW_PAYLOAD, SW_SECRET, SW_TS + 301, "too old");
    expect_unauth("standard-webhooks", vec, SW_PAYLOAD, SW_SECRET, SW_TS - 301, "future");

    /* our own message, signed by core/webhook_sig.c's signer */
    const char *secret = "whsec_dGhpcy1pcy1hLTI0LWJ5dGUta2V5LWZvci10ZXN0cyE=";
    const char *body = "{\"type\":\"order.paid\",\"data\":{\"id\":9}}";
    char sig[WEBHOOK_SIG_SIZE], sline[96], buf[128];
    OK(webhook_sig_sign(sig, secret, "msg_1", NOW, body, strlen(body), e));
    snprintf(sline, sizeof(sline), "Webhook-Signature: %s", sig);
    const char *h[] = {"Webhook-Id: msg_1", "WEBHOOK-TIMESTAMP: 1700000000", sline, NULL};
    expect_ok("standard-webhooks", h, body, secret, NOW);
    for (size_t i = 0; i < 3; i++)
        expect_malformed_refused("standard-webhooks", h, i, body, secret, NOW);
    expect_unauth("standard-webhooks", h, body, SW_SECRET, NOW, "no webhook-signature v1 entry");
    for (size_t i = 0; i < strlen(body); i += 4)
        expect_unauth("standard-webhooks", h, tamper(body, i, buf, sizeof(buf)), secret, NOW,
                      "matches");
    const char *no_id[] = {"webhook-timestamp: 1700000000", sline, NULL};
    expect_unauth("standard-webhooks", no_id, body, secret, NOW, "missing webhook-id");
    const char *no_sig[] = {"webhook-id: msg_1", "webhook-timestamp: 1700000000", NULL};
    expect_unauth("standard-webhooks", no_sig, body, secret, NOW, "missing webhook-signature");
    const char *bad_ts[] = {"webhook-id: msg_1", "webhook-timestamp: 17e8", sline, NULL};
    expect_unauth("standard-webhooks", bad_ts, body, secret, NOW, "not an integer");
    const char *v2[] = {"webhook-id: msg_1", "webhook-timestamp: 1700000000",
                        "webhook-signature: v2,abc", NULL};
    expect_unauth("standard-webhooks", v2, body, secret, NOW, "has no v1 entry");
    const char *twice[] = {"webhook-id: msg_1", "webhook-id: msg_2",
                           "webhook-timestamp: 1700000000", sline, NULL};
    expect_unauth("standard-webhooks", twice, body, secret, NOW, "more than once");
    /* a secret that is not base64 is a configuration problem, not a forged request */
    expect_refused("standard-webhooks", h, body, strlen(body), "whsec_!!!", NOW, ERR_INVALID,
                   "whsec_");

    /* identity: webhook-id, and the body's type when there is one */
    struct arena a;
    arena_init(&a);
    struct wh_event_id *ids = NULL;
    size_t n = 0;
    struct hdrs s;
    OK(prov("standard-webhooks")->identify(headers(&s, h), body, strlen(body), &a, &ids, &n, e));
    assert_int_equal(n, 1);
    assert_string_equal(ids[0].id, "msg_1");
    assert_string_equal(ids[0].type, "order.paid");
    OK(prov("standard-webhooks")->identify(headers(&s, h), "plain", 5, &a, &ids, &n, e));
    assert_string_equal(ids[0].type, "");
    FAILS(ERR_INVALID, prov("standard-webhooks")
                           ->identify(headers(&s, no_id), body, strlen(body), &a, &ids, &n, e));
    assert_string_equal(check_last.field, "webhook-id");
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_meta),
        cmocka_unit_test(test_meta_identity),
        cmocka_unit_test(test_vapi),
        cmocka_unit_test(test_vapi_identity),
        cmocka_unit_test(test_stripe),
        cmocka_unit_test(test_stripe_identity),
        cmocka_unit_test(test_iyzico),
        cmocka_unit_test(test_iyzico_identity),
        cmocka_unit_test(test_shopify),
        cmocka_unit_test(test_woocommerce),
        cmocka_unit_test(test_header_identities),
        cmocka_unit_test(test_standard_webhooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
