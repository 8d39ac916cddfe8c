/* SPDX-License-Identifier: MIT */
/*
 * The certificates' pure rules (see certificates.h): statuses, the canonical data, signing and
 * checking it, the verdict of a verification, Turkish dates. No I/O, no clock.
 */
#include "domain/certificates/certificates.h"

#include "core/clock.h"
#include "core/money.h"
#include "core/str.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const status_names[] = {"PENDING", "GENERATING", "READY", "FAILED"};

const char *cert_status_name(enum cert_status s)
{
    return (unsigned)s < 4 ? status_names[s] : "FAILED";
}

int cert_status_parse(const char *s, enum cert_status *out)
{
    for (int i = 0; i < 4; i++) {
        if (str_eq(s, status_names[i])) {
            *out = (enum cert_status)i;
            return 0;
        }
    }
    return ERR_INVALID;
}

bool cert_is_revoked(const struct cert *c)
{
    return c->revoke_reason != NULL || c->revoked_at != 0;
}

static bool clean(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return false;
    }
    return true;
}

int cert_canonical(const struct cert *c, const char *kid, struct buf *out, struct err *e)
{
    const char *fields[] = {c->id, c->issuer, c->order_id, c->owner_name, c->place, kid};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (!fields[i] || !clean(fields[i]))
            return err_set(e, ERR_INVALID,
                           "certificate %s: a field is missing or has control "
                           "characters",
                           c->id ? c->id : "?");
    }
    struct money m;
    char amount[MONEY_TEXT_MAX];
    int rc = money_from_minor(c->amount, c->currency, &m, e);
    if (!rc)
        rc = money_format(&m, amount, sizeof(amount), e);
    if (rc)
        return rc;
    char issued[CLOCK_ISO_LEN], expires[CLOCK_ISO_LEN];
    clock_format_iso(c->issued_at, issued);
    clock_format_iso(c->expires_at, expires);
    rc = buf_appendf(out,
                     "iceshop-certificate/1\nid=%s\nissuer=%s\norder=%s\nowner=%s\nplace=%s\n"
                     "amount=%s %s\nissued_at=%s\nexpires_at=%s\nkid=%s\n",
                     c->id, c->issuer, c->order_id, c->owner_name, c->place, amount, c->currency,
                     issued, expires, kid);
    if (rc)
        return err_set(e, ERR_TOO_LARGE, "certificate %s: canonical data too long", c->id);
    return 0;
}

int cert_sign(const struct cert *c, const char *kid, const unsigned char sk[SEC_SIGN_SECRET_LEN],
              char sig[CERT_SIG_B64_LEN + 1], struct err *e)
{
    struct buf b;
    buf_init(&b, 8192);
    int rc = cert_canonical(c, kid, &b, e);
    if (!rc) {
        unsigned char raw[SEC_SIGN_LEN];
        sec_sign(raw, b.data, b.len, sk);
        char tmp[SEC_B64_SIZE(SEC_SIGN_LEN)];
        rc = sec_b64_encode(tmp, sizeof(tmp), SEC_B64_URL, raw, sizeof(raw), e);
        if (!rc)
            str_copy(sig, CERT_SIG_B64_LEN + 1, tmp);
    }
    buf_release(&b);
    return rc;
}

bool cert_signature_ok(const struct cert *c, const char *kid, const char *sig_b64,
                       const unsigned char pk[SEC_SIGN_PUBLIC_LEN])
{
    if (!sig_b64 || !kid || strlen(sig_b64) != CERT_SIG_B64_LEN)
        return false;
    unsigned char raw[SEC_B64_DECODED_MAX(CERT_SIG_B64_LEN)];
    size_t got = 0;
    struct err e;
    err_init(&e);
    if (sec_b64_decode(raw, sizeof(raw), &got, SEC_B64_URL, sig_b64, CERT_SIG_B64_LEN, &e) ||
        got != SEC_SIGN_LEN)
        return false;
    struct buf b;
    buf_init(&b, 8192);
    bool ok = cert_canonical(c, kid, &b, &e) == 0 && sec_sign_verify(raw, b.data, b.len, pk);
    buf_release(&b);
    return ok;
}

const char *cert_verdict_name(enum cert_verdict v)
{
    switch (v) {
    case CERT_VERDICT_REVOKED:
        return "revoked";
    case CERT_VERDICT_EXPIRED:
        return "expired";
    case CERT_VERDICT_VALID:
        return "valid";
    case CERT_VERDICT_NOT_ISSUED:
        return "not_issued";
    case CERT_VERDICT_FORGED:
        break;
    }
    return "forged";
}

enum cert_verdict cert_verdict(const struct cert *c, const char *presented, const unsigned char *pk,
                               int64_t now_ms)
{
    /* an erased owner can no longer be checked against the signature: revoked says why */
    if (cert_is_revoked(c) && c->status == CERT_READY &&
        str_eq(c->revoke_reason ? c->revoke_reason : "", "erased"))
        return CERT_VERDICT_REVOKED;
    if (c->status != CERT_READY)
        return CERT_VERDICT_NOT_ISSUED;
    if (!pk || !c->kid)
        return CERT_VERDICT_FORGED;
    const char *sig = presented ? presented : c->signature;
    if (!cert_signature_ok(c, c->kid, sig, pk))
        return CERT_VERDICT_FORGED;
    if (cert_is_revoked(c))
        return CERT_VERDICT_REVOKED;
    if (now_ms >= c->expires_at)
        return CERT_VERDICT_EXPIRED;
    return CERT_VERDICT_VALID;
}

void cert_date_tr(int64_t ms, char *out, size_t n)
{
    static const char *const months[] = {"Ocak",   "Şubat",   "Mart",  "Nisan", "Mayıs", "Haziran",
                                         "Temmuz", "Ağustos", "Eylül", "Ekim",  "Kasım", "Aralık"};
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, n, "%d %s %d", tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900);
}

int cert_owner_check(const char *name, const char *field, struct err *e)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0)
        return err_set_field(e, ERR_INVALID, field, "%s must not be empty", field);
    if (len > CERT_OWNER_MAX)
        return err_set_field(e, ERR_INVALID, field, "%s is longer than %d bytes", field,
                             CERT_OWNER_MAX);
    if (!str_utf8_valid(name, len) || !clean(name))
        return err_set_field(e, ERR_INVALID, field,
                             "%s must be UTF-8 text without control characters", field);
    return 0;
}
