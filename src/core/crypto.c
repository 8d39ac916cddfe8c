/* SPDX-License-Identifier: MIT */
/*
 * Security primitives on libsodium (see crypto.h). The only file that includes <sodium.h>.
 * Size checks happen here before calling libsodium, because libsodium aborts the process on
 * a too-small output buffer. Tests: tests/unit/core/test_crypto.c.
 */
#include "core/crypto.h"
#include "core/xalloc.h"

#include <sodium.h>

#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(SEC_SHA256_LEN == crypto_hash_sha256_BYTES, "sha256 size");
_Static_assert(SEC_HMAC_SHA256_LEN == crypto_auth_hmacsha256_BYTES, "hmac size");
_Static_assert(SEC_PASSWORD_HASH_SIZE == crypto_pwhash_argon2id_STRBYTES, "pwhash size");
_Static_assert(SEC_SIGN_PUBLIC_LEN == crypto_sign_PUBLICKEYBYTES, "ed25519 public key size");
_Static_assert(SEC_SIGN_SECRET_LEN == crypto_sign_SECRETKEYBYTES, "ed25519 secret key size");
_Static_assert(SEC_SIGN_LEN == crypto_sign_BYTES, "ed25519 signature size");

static atomic_bool initialised;
static atomic_int pwhash_cost = SEC_PWHASH_INTERACTIVE;

int sec_init(struct err *e)
{
    if (atomic_load(&initialised))
        return 0;
    /* sodium_init() is itself thread-safe and returns 1 when already done */
    if (sodium_init() < 0)
        return err_set(e, ERR_INTERNAL, "cannot initialise libsodium");
    atomic_store(&initialised, true);
    return 0;
}

/* The random and password functions need an initialised library; failing here is fatal. */
static void ensure_init(void)
{
    if (atomic_load(&initialised))
        return;
    int rc = sec_init(NULL);
    assert(rc == 0);
    (void)rc;
}

static int b64_sodium_variant(enum sec_b64 variant)
{
    return variant == SEC_B64_URL ? sodium_base64_VARIANT_URLSAFE_NO_PADDING
                                  : sodium_base64_VARIANT_ORIGINAL;
}

/* ---------------------------------------------------------------- hashes and MACs */

void sec_sha256(unsigned char out[SEC_SHA256_LEN], const void *p, size_t len)
{
    crypto_hash_sha256(out, p, len);
}

_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(((struct sec_sha256_state *)0)->opaque),
               "sec_sha256_state too small for libsodium's state");

void sec_sha256_init(struct sec_sha256_state *st)
{
    crypto_hash_sha256_init((crypto_hash_sha256_state *)(void *)st->opaque);
}

void sec_sha256_update(struct sec_sha256_state *st, const void *p, size_t len)
{
    crypto_hash_sha256_update((crypto_hash_sha256_state *)(void *)st->opaque, p, len);
}

void sec_sha256_final(struct sec_sha256_state *st, unsigned char out[SEC_SHA256_LEN])
{
    crypto_hash_sha256_final((crypto_hash_sha256_state *)(void *)st->opaque, out);
    sodium_memzero(st->opaque, sizeof(st->opaque));
}

void sec_hmac_sha256_v(unsigned char out[SEC_HMAC_SHA256_LEN], const void *key, size_t key_len,
                       const struct sec_slice *parts, size_t n)
{
    crypto_auth_hmacsha256_state st;
    /* the _init form takes keys of any length and hashes long ones first (RFC 2104) */
    crypto_auth_hmacsha256_init(&st, key, key_len);
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len)
            crypto_auth_hmacsha256_update(&st, parts[i].p, parts[i].len);
    }
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof(st));
}

void sec_hmac_sha256(unsigned char out[SEC_HMAC_SHA256_LEN], const void *key, size_t key_len,
                     const void *data, size_t len)
{
    struct sec_slice part = {data, len};
    sec_hmac_sha256_v(out, key, key_len, &part, 1);
}

void sec_hmac_sha256_hex(char out[SEC_HMAC_SHA256_HEX_SIZE], const void *key, size_t key_len,
                         const void *data, size_t len)
{
    unsigned char mac[SEC_HMAC_SHA256_LEN];
    sec_hmac_sha256(mac, key, key_len, data, len);
    sodium_bin2hex(out, SEC_HMAC_SHA256_HEX_SIZE, mac, sizeof(mac));
}

void sec_hmac_sha256_b64(char out[SEC_HMAC_SHA256_B64_SIZE], enum sec_b64 variant, const void *key,
                         size_t key_len, const void *data, size_t len)
{
    unsigned char mac[SEC_HMAC_SHA256_LEN];
    sec_hmac_sha256(mac, key, key_len, data, len);
    sodium_bin2base64(out, SEC_HMAC_SHA256_B64_SIZE, mac, sizeof(mac), b64_sodium_variant(variant));
}

/* ---------------------------------------------------------------- encodings */

int sec_hex_encode(char *out, size_t out_size, const void *p, size_t len, struct err *e)
{
    if (len > (SIZE_MAX - 1) / 2 || out_size < SEC_HEX_SIZE(len)) {
        if (out_size > 0)
            out[0] = '\0';
        return err_set(e, ERR_TOO_LARGE, "hex output buffer too small");
    }
    sodium_bin2hex(out, out_size, p, len);
    return 0;
}

int sec_hex_decode(void *out, size_t out_cap, size_t *out_len, const char *s, size_t len,
                   struct err *e)
{
    *out_len = 0;
    if (len % 2)
        return err_set(e, ERR_INVALID, "hex text has an odd length");
    if (out_cap < len / 2)
        return err_set(e, ERR_TOO_LARGE, "hex output buffer too small");
    size_t n = 0;
    /* hex_end NULL: anything but a full parse of (s, len) fails */
    if (sodium_hex2bin(out, out_cap, s, len, NULL, &n, NULL) != 0 || n != len / 2)
        return err_set(e, ERR_INVALID, "invalid hex text");
    *out_len = n;
    return 0;
}

int sec_b64_encode(char *out, size_t out_size, enum sec_b64 variant, const void *p, size_t len,
                   struct err *e)
{
    int v = b64_sodium_variant(variant);
    if (len > SIZE_MAX / 4 - 4 || out_size < sodium_base64_ENCODED_LEN(len, v)) {
        if (out_size > 0)
            out[0] = '\0';
        return err_set(e, ERR_TOO_LARGE, "base64 output buffer too small");
    }
    sodium_bin2base64(out, out_size, p, len, v);
    return 0;
}

/*
 * Exact decoded size of well-shaped base64 text, or -1 when its length cannot be valid.
 * Computed here so that "output too small" and "bad text" stay apart: libsodium reports a
 * missing pad with the same errno as a full output buffer.
 */
static long long b64_decoded_len(enum sec_b64 variant, const char *s, size_t len)
{
    size_t whole = len / 4 * 3;
    if (variant == SEC_B64_STD) {
        if (len % 4)
            return -1;
        size_t pad = 0;
        if (len >= 1 && s[len - 1] == '=')
            pad++;
        if (len >= 2 && s[len - 2] == '=')
            pad++;
        return (long long)(whole - pad);
    }
    switch (len % 4) {
    case 0:
        return (long long)whole;
    case 2:
        return (long long)whole + 1;
    case 3:
        return (long long)whole + 2;
    default:
        return -1;
    }
}

int sec_b64_decode(void *out, size_t out_cap, size_t *out_len, enum sec_b64 variant, const char *s,
                   size_t len, struct err *e)
{
    *out_len = 0;
    long long want = b64_decoded_len(variant, s, len);
    if (want < 0)
        return err_set(e, ERR_INVALID, "invalid base64 length");
    if ((unsigned long long)want > out_cap)
        return err_set(e, ERR_TOO_LARGE, "base64 output buffer too small");
    if (want == 0)
        return 0;
    size_t n = 0;
    /* b64_end NULL: a stray character anywhere fails instead of stopping the parse */
    int rc = sodium_base642bin(out, out_cap, s, len, NULL, &n, NULL, b64_sodium_variant(variant));
    if (rc != 0 || n != (size_t)want)
        return err_set(e, ERR_INVALID, "invalid base64 text");
    *out_len = n;
    return 0;
}

bool sec_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    if (alen != blen)
        return false;
    if (alen == 0)
        return true;
    return sodium_memcmp(a, b, alen) == 0;
}

void sec_wipe(void *p, size_t len)
{
    if (len)
        sodium_memzero(p, len);
}

/* ---------------------------------------------------------------- randomness */

void sec_random_bytes(void *p, size_t len)
{
    ensure_init();
    randombytes_buf(p, len);
}

int sec_random_id(char *out, size_t out_size, const char *prefix, size_t nbytes, struct err *e)
{
    if (nbytes == 0 || nbytes > SEC_RANDOM_ID_MAX_BYTES) {
        if (out_size > 0)
            out[0] = '\0';
        return err_set(e, ERR_INVALID, "random id size %zu out of range", nbytes);
    }
    size_t plen = prefix ? strlen(prefix) : 0;
    size_t need =
        plen + sodium_base64_ENCODED_LEN(nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (out_size < need) {
        if (out_size > 0)
            out[0] = '\0';
        return err_set(e, ERR_TOO_LARGE, "random id buffer too small");
    }
    unsigned char raw[SEC_RANDOM_ID_MAX_BYTES];
    sec_random_bytes(raw, nbytes);
    if (plen)
        memcpy(out, prefix, plen);
    sodium_bin2base64(out + plen, out_size - plen, raw, nbytes,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    return 0;
}

/* ---------------------------------------------------------------- passwords */

static void cost_limits(enum sec_pwhash_cost cost, unsigned long long *ops, size_t *mem)
{
    switch (cost) {
    case SEC_PWHASH_MODERATE:
        *ops = crypto_pwhash_argon2id_OPSLIMIT_MODERATE;
        *mem = crypto_pwhash_argon2id_MEMLIMIT_MODERATE;
        break;
    case SEC_PWHASH_MIN:
        *ops = crypto_pwhash_argon2id_OPSLIMIT_MIN;
        *mem = crypto_pwhash_argon2id_MEMLIMIT_MIN;
        break;
    case SEC_PWHASH_INTERACTIVE:
    default:
        *ops = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
        *mem = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
        break;
    }
}

void sec_password_set_cost(enum sec_pwhash_cost cost)
{
    atomic_store(&pwhash_cost, (int)cost);
}

int sec_password_hash(char out[SEC_PASSWORD_HASH_SIZE], const char *password, size_t len,
                      struct err *e)
{
    unsigned long long ops;
    size_t mem;
    ensure_init();
    cost_limits((enum sec_pwhash_cost)atomic_load(&pwhash_cost), &ops, &mem);
    if (crypto_pwhash_argon2id_str(out, password, len, ops, mem) != 0) {
        out[0] = '\0';
        return err_set(e, ERR_INTERNAL, "cannot hash password (out of memory)");
    }
    return 0;
}

static bool is_argon2_string(const char *hash)
{
    if (!hash)
        return false;
    if (strncmp(hash, "$argon2id$", 10) != 0 && strncmp(hash, "$argon2i$", 9) != 0)
        return false;
    return strlen(hash) < SEC_PASSWORD_HASH_SIZE;
}

int sec_password_verify(const char *hash, const char *password, size_t len, struct err *e)
{
    ensure_init();
    if (!is_argon2_string(hash))
        return err_set(e, ERR_INVALID, "stored password hash is not an argon2 hash");
    /* also fails for a malformed tail; that cannot be told apart from a mismatch here */
    if (crypto_pwhash_str_verify(hash, password, len) != 0)
        return err_set(e, ERR_UNAUTHORIZED, "password does not match");
    return 0;
}

bool sec_password_needs_rehash(const char *hash)
{
    unsigned long long ops;
    size_t mem;
    if (!is_argon2_string(hash))
        return true;
    cost_limits((enum sec_pwhash_cost)atomic_load(&pwhash_cost), &ops, &mem);
    return crypto_pwhash_argon2id_str_needs_rehash(hash, ops, mem) != 0;
}

/* ======================== secrets at rest ======================== */

#define BOX_PREFIX "sb1."

int sec_box_seal(char *out, size_t out_size, const unsigned char key[SEC_BOX_KEY_LEN],
                 const void *p, size_t len, struct err *e)
{
    if (out_size > 0)
        out[0] = '\0';
    if (len > (1u << 20) || out_size < SEC_BOX_SEALED_SIZE(len))
        return err_set(e, ERR_TOO_LARGE, "sealed output buffer too small");
    if (sec_init(e))
        return e->code;
    size_t n = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
    unsigned char *raw = xmalloc(n);
    randombytes_buf(raw, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(raw + crypto_secretbox_NONCEBYTES, p, len, raw, key);
    memcpy(out, BOX_PREFIX, 4);
    int rc = sec_b64_encode(out + 4, out_size - 4, SEC_B64_URL, raw, n, e);
    free(raw);
    return rc;
}

int sec_box_open(void *out, size_t out_cap, size_t *out_len,
                 const unsigned char key[SEC_BOX_KEY_LEN], const char *sealed, struct err *e)
{
    *out_len = 0;
    size_t slen = sealed ? strlen(sealed) : 0;
    if (slen < 4 || memcmp(sealed, BOX_PREFIX, 4) != 0)
        return err_set(e, ERR_INVALID, "not sealed text (no sb1. prefix)");
    size_t cap = SEC_B64_DECODED_MAX(slen - 4);
    unsigned char *raw = xmalloc(cap + 1);
    size_t n = 0;
    int rc = sec_b64_decode(raw, cap, &n, SEC_B64_URL, sealed + 4, slen - 4, e);
    if (rc)
        goto out;
    if (n < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
        rc = err_set(e, ERR_INVALID, "sealed text is too short");
        goto out;
    }
    size_t plain = n - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    if (plain > out_cap) {
        rc = err_set(e, ERR_TOO_LARGE, "opened output buffer too small");
        goto out;
    }
    if (crypto_secretbox_open_easy(out, raw + crypto_secretbox_NONCEBYTES,
                                   n - crypto_secretbox_NONCEBYTES, raw, key) != 0) {
        sodium_memzero(out, plain);
        rc = err_set(e, ERR_FORBIDDEN, "cannot open sealed text: wrong key or altered text");
        goto out;
    }
    *out_len = plain;
    if (plain < out_cap)
        ((char *)out)[plain] = '\0';
out:
    free(raw);
    return rc;
}

void sec_sign_keypair(unsigned char pk[SEC_SIGN_PUBLIC_LEN], unsigned char sk[SEC_SIGN_SECRET_LEN])
{
    struct err e;
    err_init(&e);
    (void)sec_init(&e);
    crypto_sign_keypair(pk, sk);
}

void sec_sign(unsigned char sig[SEC_SIGN_LEN], const void *msg, size_t len,
              const unsigned char sk[SEC_SIGN_SECRET_LEN])
{
    crypto_sign_detached(sig, NULL, msg, len, sk);
}

bool sec_sign_verify(const unsigned char sig[SEC_SIGN_LEN], const void *msg, size_t len,
                     const unsigned char pk[SEC_SIGN_PUBLIC_LEN])
{
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0;
}
