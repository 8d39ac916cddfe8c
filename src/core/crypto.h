/* SPDX-License-Identifier: MIT */
/*
 * Security primitives on libsodium: SHA-256, HMAC-SHA256, hex/base64, constant-time compare,
 * secure random bytes and ids, argon2id password hashes. The only file that includes <sodium.h>
 * is crypto.c. Outputs always go into caller-provided buffers with explicit sizes (size macros
 * below), so secrets can live on the stack and be wiped; nothing here allocates.
 * Tests: tests/unit/core/test_crypto.c.
 */
#ifndef ICESHOP_CORE_CRYPTO_H
#define ICESHOP_CORE_CRYPTO_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

#define SEC_SHA256_LEN      32 /* raw digest bytes */
#define SEC_HMAC_SHA256_LEN 32 /* raw MAC bytes */

/* Buffer sizes, including the terminating NUL, for encoding `n` bytes. */
#define SEC_HEX_SIZE(n) ((size_t)(n)*2 + 1)
#define SEC_B64_SIZE(n) (((size_t)(n) + 2) / 3 * 4 + 1) /* enough for both variants */
/* Upper bound of the bytes that base64 text of `len` characters decodes to. */
#define SEC_B64_DECODED_MAX(len) ((size_t)(len) / 4 * 3 + 3)

#define SEC_HMAC_SHA256_HEX_SIZE SEC_HEX_SIZE(SEC_HMAC_SHA256_LEN) /* 65 */
#define SEC_HMAC_SHA256_B64_SIZE SEC_B64_SIZE(SEC_HMAC_SHA256_LEN) /* 45 */

/* Random ids: at most this many random bytes; buffer size for a prefix of `plen` chars. */
#define SEC_RANDOM_ID_MAX_BYTES          64
#define SEC_RANDOM_ID_SIZE(plen, nbytes) ((size_t)(plen) + SEC_B64_SIZE(nbytes))

/* An argon2id hash string ("$argon2id$v=19$m=...") with its NUL fits in this many bytes. */
#define SEC_PASSWORD_HASH_SIZE 128

/* Base64 alphabets: standard with '=' padding (RFC 4648 §4), url-safe without padding (§5). */
enum sec_b64 { SEC_B64_STD = 0, SEC_B64_URL = 1 };

/* Cost of new password hashes. Verification reads the cost from the stored hash. */
enum sec_pwhash_cost {
    SEC_PWHASH_INTERACTIVE = 0, /* default: libsodium OPSLIMIT/MEMLIMIT_INTERACTIVE (64 MiB) */
    SEC_PWHASH_MODERATE,        /* 256 MiB; for admin accounts on big machines */
    SEC_PWHASH_MIN,             /* libsodium minimum: tests only, never in production */
};

/* One piece of a message that is MACed as the concatenation of all pieces. */
struct sec_slice {
    const void *p;
    size_t len;
};

/*
 * Initialise libsodium. Call once at startup before threads start; calling it again (also
 * concurrently) is harmless. The random and password functions call it themselves when needed.
 * Returns 0, or ERR_INTERNAL when libsodium cannot initialise (no entropy source).
 */
int sec_init(struct err *e);

/* SHA-256 of (p, len) into `out`. Cannot fail. */
void sec_sha256(unsigned char out[SEC_SHA256_LEN], const void *p, size_t len);

/*
 * SHA-256 over data that arrives in pieces (an upload streamed to storage): init, update for
 * each piece, final. The state is plain memory (no allocation); final wipes it.
 */
struct sec_sha256_state {
    _Alignas(16) unsigned char opaque[128];
};
void sec_sha256_init(struct sec_sha256_state *st);
void sec_sha256_update(struct sec_sha256_state *st, const void *p, size_t len);
void sec_sha256_final(struct sec_sha256_state *st, unsigned char out[SEC_SHA256_LEN]);

/*
 * HMAC-SHA256 of (data, len) under a key of any length (keys longer than 64 bytes are hashed
 * first, per RFC 2104). Cannot fail.
 */
void sec_hmac_sha256(unsigned char out[SEC_HMAC_SHA256_LEN], const void *key, size_t key_len,
                     const void *data, size_t len);
/* HMAC-SHA256 of the concatenation of `n` slices, without copying them together. */
void sec_hmac_sha256_v(unsigned char out[SEC_HMAC_SHA256_LEN], const void *key, size_t key_len,
                       const struct sec_slice *parts, size_t n);
/* HMAC-SHA256 as lowercase hex (64 chars + NUL). */
void sec_hmac_sha256_hex(char out[SEC_HMAC_SHA256_HEX_SIZE], const void *key, size_t key_len,
                         const void *data, size_t len);
/* HMAC-SHA256 as base64 in the given alphabet (44 or 43 chars + NUL). */
void sec_hmac_sha256_b64(char out[SEC_HMAC_SHA256_B64_SIZE], enum sec_b64 variant, const void *key,
                         size_t key_len, const void *data, size_t len);

/*
 * Lowercase hex of (p, len) into `out` of `out_size` bytes (needs SEC_HEX_SIZE(len)).
 * Returns 0, or ERR_TOO_LARGE when `out` is too small (then `out` is "" if out_size > 0).
 */
int sec_hex_encode(char *out, size_t out_size, const void *p, size_t len, struct err *e);
/*
 * Decode hex text (s, len), either case, into `out` of `out_cap` bytes; *out_len gets the byte
 * count. Returns 0; ERR_INVALID for an odd length or a non-hex character; ERR_TOO_LARGE when
 * `out` is too small (needs len / 2).
 */
int sec_hex_decode(void *out, size_t out_cap, size_t *out_len, const char *s, size_t len,
                   struct err *e);

/*
 * Base64 of (p, len) into `out` of `out_size` bytes (needs SEC_B64_SIZE(len)).
 * Returns 0, or ERR_TOO_LARGE when `out` is too small.
 */
int sec_b64_encode(char *out, size_t out_size, enum sec_b64 variant, const void *p, size_t len,
                   struct err *e);
/*
 * Strict base64 decode of (s, len) into `out` of `out_cap` bytes; *out_len gets the byte count.
 * SEC_B64_STD requires correct '=' padding; SEC_B64_URL rejects padding. No whitespace, no
 * mixing of alphabets, no non-zero trailing bits. Returns 0; ERR_INVALID for malformed text;
 * ERR_TOO_LARGE when `out` is too small (SEC_B64_DECODED_MAX(len) is always enough).
 */
int sec_b64_decode(void *out, size_t out_cap, size_t *out_len, enum sec_b64 variant, const char *s,
                   size_t len, struct err *e);

/*
 * Constant-time equality of (a, alen) and (b, blen). Different lengths give false at once:
 * only the lengths leak, never the contents. Two empty inputs are equal.
 */
bool sec_equal(const void *a, size_t alen, const void *b, size_t blen);

/*
 * Overwrite (p, len) with zeros in a way the compiler cannot drop, for keys, MACs and other
 * secrets in buffers that are about to die. `p` may be NULL when len is 0.
 */
void sec_wipe(void *p, size_t len);

/* Fill (p, len) with cryptographically secure random bytes. Cannot fail. */
void sec_random_bytes(void *p, size_t len);

/*
 * A random identifier: `prefix` (may be NULL or "") followed by `nbytes` random bytes in
 * url-safe base64 without padding, e.g. sec_random_id(buf, sizeof(buf), "isk_", 24, e) gives
 * "isk_" + 32 chars. `out` needs SEC_RANDOM_ID_SIZE(strlen(prefix), nbytes) bytes.
 * Returns 0; ERR_INVALID when nbytes is 0 or above SEC_RANDOM_ID_MAX_BYTES; ERR_TOO_LARGE when
 * `out` is too small.
 */
int sec_random_id(char *out, size_t out_size, const char *prefix, size_t nbytes, struct err *e);

/*
 * Set the cost of new password hashes, process-wide. Call at startup (or in a test's setup)
 * before threads hash passwords; existing hashes keep verifying whatever the setting.
 */
void sec_password_set_cost(enum sec_pwhash_cost cost);

/*
 * Hash a password (password, len) with argon2id and a random salt into `out` (a NUL-terminated
 * "$argon2id$..." string to store as is). Slow on purpose (~50-100 ms at INTERACTIVE): call it
 * from a worker or the request thread of a rare endpoint only. Returns 0, or ERR_INTERNAL when
 * the memory for the hash cannot be had.
 */
int sec_password_hash(char out[SEC_PASSWORD_HASH_SIZE], const char *password, size_t len,
                      struct err *e);
/*
 * Check a password against a stored hash from sec_password_hash(). Returns 0 when it matches;
 * ERR_UNAUTHORIZED when it does not; ERR_INVALID when `hash` is not an argon2 hash string
 * (a stored-data bug, not a wrong password; callers answering a login treat both as 401).
 */
int sec_password_verify(const char *hash, const char *password, size_t len, struct err *e);
/* True when `hash` was made with another cost than the current one (rehash after login). */
bool sec_password_needs_rehash(const char *hash);


/*
 * Secrets at rest: libsodium secretbox (XSalsa20-Poly1305) under a 32-byte key, with a fresh
 * random nonce per seal. Sealed text is "sb1." + url-safe base64 of nonce || MAC || ciphertext,
 * so it is storable as TEXT and says which scheme made it. SEC_BOX_SEALED_SIZE(n) is the buffer
 * size (with NUL) for n plaintext bytes.
 */
#define SEC_BOX_KEY_LEN        32
#define SEC_BOX_OVERHEAD       (24 + 16) /* nonce + MAC */
#define SEC_BOX_SEALED_SIZE(n) (4 + SEC_B64_SIZE((size_t)(n) + SEC_BOX_OVERHEAD))
/* Seal (p, len) into out. ERR_TOO_LARGE when out_size is below SEC_BOX_SEALED_SIZE(len). */
int sec_box_seal(char *out, size_t out_size, const unsigned char key[SEC_BOX_KEY_LEN],
                 const void *p, size_t len, struct err *e);
/*
 * Open sealed text into out (out_cap bytes; *out_len gets the plaintext length; a NUL is added
 * when room is left). ERR_INVALID when the text is not sealed text; ERR_FORBIDDEN when the MAC
 * fails (the wrong key, or the text was changed); ERR_TOO_LARGE when out is too small.
 * Nothing of the plaintext is left in out on failure.
 */
int sec_box_open(void *out, size_t out_cap, size_t *out_len,
                 const unsigned char key[SEC_BOX_KEY_LEN], const char *sealed, struct err *e);

/*
 * Ed25519 signatures (libsodium's crypto_sign): a key pair from the system's randomness, a
 * detached signature of a message, and its verification (constant time, false for anything that
 * is not a valid signature of exactly this message under this public key).
 */
#define SEC_SIGN_PUBLIC_LEN 32
#define SEC_SIGN_SECRET_LEN 64
#define SEC_SIGN_LEN        64
void sec_sign_keypair(unsigned char pk[SEC_SIGN_PUBLIC_LEN], unsigned char sk[SEC_SIGN_SECRET_LEN]);
void sec_sign(unsigned char sig[SEC_SIGN_LEN], const void *msg, size_t len,
              const unsigned char sk[SEC_SIGN_SECRET_LEN]);
bool sec_sign_verify(const unsigned char sig[SEC_SIGN_LEN], const void *msg, size_t len,
                     const unsigned char pk[SEC_SIGN_PUBLIC_LEN]);

#endif
