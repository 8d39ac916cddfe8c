/* SPDX-License-Identifier: MIT */
/*
 * The operations on certificates: request one for a paid order (the route and the order-paid
 * hook), generate it (the job: sign, draw, store, email), revoke, verify, publish the keys.
 * Storage calls never run inside a database transaction: the PDF is put before the row that
 * names it is written, and removed again when that write fails.
 * Tests: tests/unit/domain/test_certificates.c and tests/integration/0024-certificates.c.
 */
#ifndef ICESHOP_DOMAIN_CERTIFICATES_SERVICE_H
#define ICESHOP_DOMAIN_CERTIFICATES_SERVICE_H

#include "core/clock.h"
#include "domain/certificates/certificates.h"
#include "domain/files/files.h"
#include "net/storage.h"

#define CERT_JOB_GENERATE "certificates.generate"
#define CERT_LANE         "slow" /* PDF rendering shares the slow lane with model calls */
#define CERT_FILE_OWNER   FILES_OWNER_CERTIFICATES /* the files row of a certificate's PDF */

/* What generation needs from the process; borrowed, must outlive the workers. */
struct cert_env {
    struct storage_tenants *storages; /* each certificate's PDF goes to its tenant's storage */
    const unsigned char *server_key;  /* SEC_BOX_KEY_LEN: seals the tenants' signing keys */
    const char *public_url;           /* base of verification links: "https://shop.example" */
    struct clock *clock;              /* NULL: the system clock */
};

/* Whether an order in status `status` counts as paid ("paid", and later "fulfilled"). */
bool cert_order_is_paid(const char *status);

/*
 * Queue a certificate for the tenant's order (public id `order_id`, or `order_pk` when the id is
 * NULL) for owner `owner_name` (NULL: the customer's id stands for the owner): one transaction
 * (joins the caller's) inserts it PENDING and enqueues its generation job. When the order already
 * has one, that one is answered and *created is false. ERR_NOT_FOUND naming "order_id";
 * ERR_CONFLICT naming "order_id" when the order is not paid; ERR_INVALID naming "owner_name".
 */
int cert_request(struct db_conn *c, int64_t tenant, const char *order_id, int64_t order_pk,
                 const char *owner_name, const char *requested_by, int64_t now_ms, struct arena *a,
                 struct cert *out, bool *created, struct err *e);

/*
 * The tenant's current signing key, made (and its secret sealed under env->server_key) when it
 * has none; the secret key into `sk` (wipe it after use). In a transaction of its own.
 */
int cert_key_current(struct db_conn *c, const struct cert_env *env, int64_t tenant, int64_t now_ms,
                     struct arena *a, struct cert_key *out, unsigned char sk[SEC_SIGN_SECRET_LEN],
                     struct err *e);

/* The verification link of a signed certificate: <public_url>/verify/<id>?s=<signature>. */
const char *cert_verify_url(struct arena *a, const char *public_url, const struct cert *c);

/*
 * Generate certificate `pk`: PENDING (or GENERATING after a crash) → GENERATING, sign, draw the
 * PDF, store it, then in one transaction record the file, move to READY and queue the email to
 * the owner with the PDF attached when there is an address. READY and FAILED certificates are
 * left alone. `last_attempt`: a failure moves it to FAILED with the reason.
 */
int cert_generate(struct db_conn *c, const struct cert_env *env, int64_t tenant, int64_t pk,
                  bool last_attempt, struct arena *a, struct err *e);

/* Revoke the tenant's certificate `id` (public) with `reason`; revoking twice keeps the first. */
int cert_revoke(struct db_conn *c, int64_t tenant, const char *id, const char *reason,
                int64_t now_ms, struct arena *a, struct cert *out, struct err *e);

/*
 * Verify certificate `id` (any tenant: the id is the certificate's own public name) presented
 * with signature `sig` (NULL: the stored one) at now_ms. ERR_NOT_FOUND naming "id" when there is
 * no such certificate.
 */
int cert_verify(struct db_conn *c, const char *id, const char *sig, int64_t now_ms, struct arena *a,
                struct cert *out, enum cert_verdict *verdict, struct err *e);


/*
 * Privacy: the PDFs of certificates whose owner was erased still name the person, so they are
 * removed from storage (then their files row and file_key), at most CERT_SWEEP_BATCH per call;
 * *removed counts them. An object storage cannot remove is tried again at the next sweep.
 */
#define CERT_SWEEP_BATCH 100
#define CERT_JOB_SWEEP   "certificates.sweep"
int cert_sweep_erased(struct db_conn *c, struct storage_tenants *ss, struct arena *a,
                      size_t *removed, struct err *e);

/*
 * The generation job (slow lane), the sweep job, the order-paid hook "certificate", the email
 * kind; certificates_jobs_schedule runs the sweep every 10 minutes.
 */
struct job_registry;
struct sched;
int certificates_jobs_register(struct job_registry *reg, const struct cert_env *env, struct err *e);
int certificates_jobs_schedule(struct sched *s, struct err *e);
/* The hook alone (certificates_jobs_register adds it): queue the paid order's certificate. */
int cert_on_order_paid(struct db_conn *c, int64_t tenant, int64_t order_pk, struct err *e);

#endif
