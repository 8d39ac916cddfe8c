/* SPDX-License-Identifier: MIT */
/*
 * Purchase certificates: one per paid order, drawn as a PDF (pdf/pdf.h) by a job on the slow
 * lane, stored through file storage, signed with the tenant's Ed25519 key and emailed to the
 * customer. certificates.c holds the pure rules (statuses, the canonical data and its signature,
 * the verdict of a verification, Turkish dates); certificates_store.c the SQL;
 * certificates_service.c the operations; certificates_jobs.c the generation job and the
 * order-paid hook. Tests: tests/unit/domain/test_certificates.c and
 * tests/integration/0024-certificates.c.
 *
 * The canonical data (what is signed), version 1: UTF-8, one "name=value" per line, each line
 * ending in "\n", exactly these lines in this order, nothing before or after:
 *
 *   iceshop-certificate/1
 *   id=<certificate id, "crt_…">
 *   issuer=<the issuing shop's name>
 *   order=<order id, "ord_…">
 *   owner=<owner name>
 *   place=<city name, may be empty>
 *   amount=<decimal amount> <ISO 4217 currency>       e.g. "amount=1250.00 TRY"
 *   issued_at=<UTC, YYYY-MM-DDTHH:MM:SS.mmmZ>
 *   expires_at=<UTC, same form>
 *   kid=<signing key id>
 *
 * Values never contain a newline or other control character (they are refused before a
 * certificate is made). The signature is Ed25519 (RFC 8032) over exactly those bytes, written as
 * url-safe base64 without padding (86 characters). A verifier takes the public key named by
 * kid from /.well-known/iceshop-certificate-keys.
 */
#ifndef ICESHOP_DOMAIN_CERTIFICATES_CERTIFICATES_H
#define ICESHOP_DOMAIN_CERTIFICATES_CERTIFICATES_H

#include "core/arena.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "db/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CERT_VALID_MS     ((int64_t)365 * 24 * 3600 * 1000) /* a certificate is valid a year */
#define CERT_OWNER_MAX    200                               /* bytes of an owner name */
#define CERT_LIST_DEFAULT 50
#define CERT_LIST_MAX     200
#define CERT_SIG_B64_LEN  86 /* url-safe base64 of 64 bytes, no padding */
#define CERT_KID_MAX      32

enum cert_status {
    CERT_PENDING = 0,
    CERT_GENERATING,
    CERT_READY,
    CERT_FAILED,
};
/* "PENDING", "GENERATING", "READY", "FAILED" */
const char *cert_status_name(enum cert_status s);
int cert_status_parse(const char *s, enum cert_status *out);

/* A certificate row. Strings borrowed from the arena it was read into. */
struct cert {
    int64_t pk;
    int64_t tenant_id;
    const char *id;       /* public: "crt_…" */
    const char *order_id; /* the order's public id */
    int64_t order_pk;
    int64_t customer_pk;
    const char *issuer;
    const char *owner_name;
    const char *owner_email; /* NULL when the customer has none */
    const char *place;
    int64_t amount; /* minor units */
    const char *currency;
    const char *items; /* PDF lines, "\n"-separated */
    enum cert_status status;
    const char *file_key; /* NULL until READY */
    const char *kid;      /* NULL until signed */
    const char *signature;
    const char *error; /* why it FAILED, or NULL */
    int64_t issued_at, expires_at;
    int64_t revoked_at;        /* 0 unless revoked */
    const char *revoke_reason; /* NULL unless revoked */
    const char *requested_by;
    int64_t created_at, updated_at;
};

bool cert_is_revoked(const struct cert *c);

/* The canonical data of `c` signed under key `kid` (see above), appended to `out`. */
int cert_canonical(const struct cert *c, const char *kid, struct buf *out, struct err *e);

/* Sign `c` under (kid, sk): the signature as base64url into `sig` (CERT_SIG_B64_LEN + 1). */
int cert_sign(const struct cert *c, const char *kid, const unsigned char sk[SEC_SIGN_SECRET_LEN],
              char sig[CERT_SIG_B64_LEN + 1], struct err *e);

/* True when `sig_b64` is a valid signature of `c`'s canonical data under kid's public key. */
bool cert_signature_ok(const struct cert *c, const char *kid, const char *sig_b64,
                       const unsigned char pk[SEC_SIGN_PUBLIC_LEN]);

/* What a verification found, in the order they are decided. */
enum cert_verdict {
    CERT_VERDICT_FORGED = 0, /* the signature does not match (or none), or the key is unknown */
    CERT_VERDICT_REVOKED,
    CERT_VERDICT_EXPIRED,
    CERT_VERDICT_VALID,
    CERT_VERDICT_NOT_ISSUED, /* not READY yet (pending, being drawn) or its drawing failed */
};
/* "forged", "revoked", "expired", "valid", "not_issued" */
const char *cert_verdict_name(enum cert_verdict v);
/*
 * The verdict for certificate `c` presented with signature `presented` (the one from the QR
 * code; NULL: the stored one is checked) under public key `pk` (NULL: the key is unknown), at
 * `now_ms`: not_issued unless READY (nothing was signed yet: a pending certificate is not a
 * forgery); forged unless the signature verifies under a known key; then revoked; then expired
 * (now at or after expires_at); else valid.
 */
enum cert_verdict cert_verdict(const struct cert *c, const char *presented, const unsigned char *pk,
                               int64_t now_ms);

/* "14 Ağustos 2026" (UTC) into out. */
void cert_date_tr(int64_t ms, char *out, size_t n);

/* An owner name: 1..CERT_OWNER_MAX bytes of UTF-8 without control characters; ERR_INVALID
 * naming `field`. */
int cert_owner_check(const char *name, const char *field, struct err *e);

/*
 * Certificates of any tenant whose owner was erased (revoke_reason "erased") and whose PDF is
 * still stored, oldest first, at most `limit`; strings from `a`.
 */
int cert_store_erased_with_pdf(struct db_conn *c, int limit, struct arena *a, struct cert **rows,
                               size_t *n, struct err *e);
/* Forget the PDF of certificate `pk`: file_key NULL, and the files row with that key deleted. */
int cert_store_drop_pdf(struct db_conn *c, int64_t tenant, int64_t pk, const char *file_key,
                        struct err *e);

/* ---------------------------------------------------------------- signing keys */

struct cert_key {
    int64_t pk;
    int64_t tenant_id;
    const char *kid;
    const char *public_key; /* base64url, 32 bytes */
    int64_t created_at;
};

/* ---------------------------------------------------------------- store (certificates_store.c) */

/* What a certificate needs from its order, read in one query. */
struct cert_order {
    int64_t pk;
    const char *id;
    const char *status;
    int64_t customer_pk;
    const char *customer_id;
    const char *customer_name; /* NULL when none */
    const char *email;         /* NULL when none */
    const char *city;          /* NULL when none */
    int64_t amount;
    const char *currency;
    const char *items; /* "2 × Latte\n1 × Simit": product names, else their ids */
};

/* The tenant's order by public id (ERR_NOT_FOUND naming "order_id") or by pk (id NULL). */
int cert_store_order(struct db_conn *c, int64_t tenant, const char *id, int64_t pk, struct arena *a,
                     struct cert_order *out, struct err *e);
/* The tenant's name (the issuer). */
int cert_store_issuer(struct db_conn *c, int64_t tenant, struct arena *a, const char **name,
                      struct err *e);
/* Insert `cert` (as PENDING); sets pk. ERR_CONFLICT when the order already has one. */
int cert_store_insert(struct db_conn *c, struct cert *cert, struct err *e);
/* By public id (`id`) or pk (id NULL), of the tenant (tenant 0: any tenant, for /verify). */
int cert_store_get(struct db_conn *c, int64_t tenant, const char *id, int64_t pk, struct arena *a,
                   struct cert *out, bool *found, struct err *e);
/* The certificate of order `order_pk`, if any. */
int cert_store_by_order(struct db_conn *c, int64_t tenant, int64_t order_pk, struct arena *a,
                        struct cert *out, bool *found, struct err *e);
/* Newest first; `email` not NULL: only certificates whose owner_email equals it (any case). */
int cert_store_list(struct db_conn *c, int64_t tenant, const char *email, const struct page *p,
                    struct arena *a, struct cert **rows, size_t *n, struct err *e);
/*
 * Move from one status to another, with what READY or FAILED brings (NULLs leave a column as
 * is). *moved is false when the row was not in `from` (another run took it).
 */
int cert_store_move(struct db_conn *c, int64_t tenant, int64_t pk, enum cert_status from,
                    enum cert_status to, const char *file_key, const char *kid,
                    const char *signature, const char *error, int64_t now_ms, bool *moved,
                    struct err *e);
int cert_store_revoke(struct db_conn *c, int64_t tenant, int64_t pk, const char *reason,
                      int64_t now_ms, struct err *e);

/* The tenant's current signing key (newest) with its sealed secret; *found false when none. */
int cert_store_key_current(struct db_conn *c, int64_t tenant, struct arena *a, struct cert_key *out,
                           const char **sealed, bool *found, struct err *e);
/* A key by kid (any tenant: kids are unique). */
int cert_store_key_get(struct db_conn *c, const char *kid, struct arena *a, struct cert_key *out,
                       bool *found, struct err *e);
int cert_store_key_insert(struct db_conn *c, const struct cert_key *k, const char *sealed,
                          struct err *e);
/* Every tenant's public keys, oldest first (the well-known document). */
int cert_store_keys_all(struct db_conn *c, struct arena *a, struct cert_key **rows, size_t *n,
                        struct err *e);

#endif
