/* SPDX-License-Identifier: MIT */
/*
 * Stripe webhooks. Signature: Stripe-Signature = "t=<unix s>,v1=<hex>[,v1=<hex>...][,v0=...]",
 * comma-separated key=value elements without spaces; each v1 is hex HMAC-SHA256(key = the whole
 * endpoint secret "whsec_..." as bytes, not decoded, "<t>.<raw body>"); any v1 may match, other
 * schemes are ignored. t must lie within INTEGRATIONS_TOLERANCE_S of now, both ways (Stripe's
 * libraries only refuse old ones; we refuse the future too). Identity: the event's "id"
 * ("evt_...") and "type" from the body. Tests: tests/unit/integrations/test_verify.c.
 */
#include "integrations/provider_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define P      "stripe"
#define HEADER "Stripe-Signature"

const char *const wh_stripe_headers[] = {HEADER, NULL};

/* Strict unsigned decimal of 1..18 digits. */
static bool parse_ts(const char *s, size_t len, int64_t *out)
{
    int64_t v = 0;
    if (len == 0 || len > 18)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* The header's elements, in two passes: first t (and the shape), then the v1 values. */
struct parsed {
    int64_t t;
    size_t n_v1;
};

static int parse_header(const char *sig, struct parsed *p, struct err *e)
{
    bool have_t = false;
    p->n_v1 = 0;
    for (const char *s = sig;;) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *eq = memchr(s, '=', len);
        if (!eq || eq == s)
            return err_set(e, ERR_UNAUTHORIZED,
                           P ": " HEADER " is malformed (an element is not key=value)");
        size_t klen = (size_t)(eq - s), vlen = len - klen - 1;
        if (klen == 1 && s[0] == 't') {
            if (have_t)
                return err_set(e, ERR_UNAUTHORIZED, P ": " HEADER " has more than one t=");
            if (!parse_ts(eq + 1, vlen, &p->t))
                return err_set(e, ERR_UNAUTHORIZED, P ": " HEADER " t= is not an integer");
            have_t = true;
        } else if (klen == 2 && memcmp(s, "v1", 2) == 0) {
            p->n_v1++;
        }
        if (!end)
            break;
        s = end + 1;
    }
    if (!have_t)
        return err_set(e, ERR_UNAUTHORIZED, P ": " HEADER " has no t= timestamp");
    if (p->n_v1 == 0)
        return err_set(e, ERR_UNAUTHORIZED, P ": " HEADER " has no v1 signature");
    return 0;
}

/* Does any v1 element equal `want`? Every v1 costs the same: no early exit. */
static bool any_v1_matches(const char *sig, const unsigned char want[SEC_HMAC_SHA256_LEN])
{
    bool ok = false;
    for (const char *s = sig;;) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        if (len > 3 && memcmp(s, "v1=", 3) == 0) {
            unsigned char got[SEC_HMAC_SHA256_LEN];
            if (wh_hex_mac(s + 3, len - 3, got) &&
                sec_equal(got, sizeof(got), want, SEC_HMAC_SHA256_LEN))
                ok = true;
        }
        if (!end)
            break;
        s = end + 1;
    }
    return ok;
}

int wh_stripe_verify(const struct wh_headers *h, const char *body, size_t len, const char *secret,
                     int64_t now_s, struct err *e)
{
    const char *sig = NULL;
    int rc = wh_need_secret(P, secret, e);
    if (!rc)
        rc = wh_need_header(h, P, HEADER, &sig, e);
    struct parsed p = {0, 0};
    if (!rc)
        rc = parse_header(sig, &p, e);
    if (rc)
        return rc;
    if (p.t < now_s - INTEGRATIONS_TOLERANCE_S)
        return err_set(e, ERR_UNAUTHORIZED, P ": timestamp t=%" PRId64 " is more than %d s old",
                       p.t, INTEGRATIONS_TOLERANCE_S);
    if (p.t > now_s + INTEGRATIONS_TOLERANCE_S)
        return err_set(e, ERR_UNAUTHORIZED,
                       P ": timestamp t=%" PRId64 " is more than %d s in the future", p.t,
                       INTEGRATIONS_TOLERANCE_S);
    /* Stripe signs the integer t as printed (leading zeros dropped), not the header text */
    char ts[24];
    int tn = snprintf(ts, sizeof(ts), "%" PRId64, p.t);
    struct sec_slice parts[] = {{ts, (size_t)tn}, {".", 1}, {body, len}};
    unsigned char want[SEC_HMAC_SHA256_LEN];
    sec_hmac_sha256_v(want, secret, strlen(secret), parts, sizeof(parts) / sizeof(parts[0]));
    bool ok = any_v1_matches(sig, want);
    sec_wipe(want, sizeof(want));
    if (!ok)
        return err_set(e, ERR_UNAUTHORIZED, P ": no v1 signature matches");
    return 0;
}

int wh_stripe_identify(const struct wh_headers *h, const char *body, size_t len, struct arena *a,
                       struct wh_event_id **ids, size_t *n, struct err *e)
{
    (void)h;
    json_t *root = NULL;
    int rc = wh_parse_object(P, body, len, a, &root, e);
    if (rc)
        return rc;
    const char *id = wh_json_str(root, "id"), *type = wh_json_str(root, "type");
    if (!id || !*id)
        return err_set_field(e, ERR_INVALID, "id", P ": event id is missing");
    if (!type || !*type)
        return err_set_field(e, ERR_INVALID, "type", P ": event type is missing");
    *ids = wh_one_id(a, arena_strdup(a, id), arena_strdup(a, type), n);
    return 0;
}
