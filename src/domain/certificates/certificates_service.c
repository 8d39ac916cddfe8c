/* SPDX-License-Identifier: MIT */
/*
 * The certificate operations (see certificates_service.h): request, keys, generation, revoke,
 * verify, and the job, hook and email kind that drive them.
 */
#include "domain/certificates/certificates_service.h"

#include "core/log.h"
#include "core/money.h"
#include "core/str.h"
#include "domain/commerce/order_hooks.h"
#include "domain/files/files.h"
#include "domain/notify/outbox.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "json/json.h"
#include "pdf/pdf.h"
#include "sched/sched.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool cert_order_is_paid(const char *status)
{
    return str_eq(status, "paid") || str_eq(status, "fulfilled");
}

/* ---------------------------------------------------------------- request */

static int enqueue_generate(struct db_conn *c, int64_t tenant, int64_t pk, int64_t now_ms,
                            struct err *e)
{
    char payload[64], key[64];
    snprintf(payload, sizeof(payload), "{\"certificate\":%" PRId64 "}", pk);
    snprintf(key, sizeof(key), "cert:%" PRId64, pk);
    struct job_spec spec = {.name = CERT_JOB_GENERATE,
                            .payload_json = payload,
                            .tenant_id = tenant,
                            .unique_key = key,
                            .max_attempts = 5};
    return jobs_enqueue(c, &spec, now_ms, NULL, NULL, e);
}

/* The customer's name when it can stand on a certificate, else the customer's id. */
static const char *owner_of(const struct cert_order *o)
{
    struct err ignored;
    err_init(&ignored);
    if (o->customer_name && !cert_owner_check(o->customer_name, "name", &ignored))
        return o->customer_name;
    return o->customer_id;
}

int cert_request(struct db_conn *c, int64_t tenant, const char *order_id, int64_t order_pk,
                 const char *owner_name, const char *requested_by, int64_t now_ms, struct arena *a,
                 struct cert *out, bool *created, struct err *e)
{
    *created = false;
    if (owner_name) {
        int rc = cert_owner_check(owner_name, "owner_name", e);
        if (rc)
            return rc;
    }
    bool own;
    int rc = db_begin_own(c, &own, e);
    if (rc)
        return rc;
    struct cert_order o;
    rc = cert_store_order(c, tenant, order_id, order_pk, a, &o, e);
    bool found = false;
    if (!rc)
        rc = cert_store_by_order(c, tenant, o.pk, a, out, &found, e);
    if (!rc && !found && !cert_order_is_paid(o.status))
        rc = err_set_field(e, ERR_CONFLICT, "order_id",
                           "order %s is %s, not paid: certificates are issued for paid orders only",
                           o.id, o.status);
    if (!rc && !found) {
        char rand[SEC_RANDOM_ID_SIZE(4, 16)];
        rc = sec_random_id(rand, sizeof(rand), "crt_", 16, e);
        memset(out, 0, sizeof(*out));
        out->tenant_id = tenant;
        out->id = arena_strdup(a, rand);
        out->order_id = o.id;
        out->order_pk = o.pk;
        out->customer_pk = o.customer_pk;
        out->owner_name = owner_name ? owner_name : owner_of(&o);
        out->owner_email = o.email;
        out->place = o.city ? o.city : "";
        out->amount = o.amount;
        out->currency = o.currency;
        out->items = o.items;
        out->issued_at = now_ms;
        out->expires_at = now_ms + CERT_VALID_MS;
        out->requested_by = requested_by ? requested_by : "";
        out->created_at = now_ms;
        if (!rc)
            rc = cert_store_issuer(c, tenant, a, &out->issuer, e);
        if (!rc)
            rc = cert_store_insert(c, out, e);
        if (!rc)
            rc = enqueue_generate(c, tenant, out->pk, now_ms, e);
        *created = !rc;
    }
    return db_end_own(c, own, rc, e);
}

/* ---------------------------------------------------------------- keys */

int cert_key_current(struct db_conn *c, const struct cert_env *env, int64_t tenant, int64_t now_ms,
                     struct arena *a, struct cert_key *out, unsigned char sk[SEC_SIGN_SECRET_LEN],
                     struct err *e)
{
    const char *sealed = NULL;
    bool found = false;
    int rc = cert_store_key_current(c, tenant, a, out, &sealed, &found, e);
    if (rc)
        return rc;
    if (found) {
        size_t got = 0;
        rc = sec_box_open(sk, SEC_SIGN_SECRET_LEN, &got, env->server_key, sealed, e);
        if (!rc && got != SEC_SIGN_SECRET_LEN)
            rc = err_set(e, ERR_INTERNAL, "signing key %s has the wrong length", out->kid);
        if (rc == ERR_FORBIDDEN)
            err_replace(e, ERR_CONFLICT, "secret_key",
                        "signing key %s was sealed under another server key", out->kid);
        return rc;
    }
    unsigned char pk[SEC_SIGN_PUBLIC_LEN];
    sec_sign_keypair(pk, sk);
    char kid[SEC_RANDOM_ID_SIZE(2, 9)], pub[SEC_B64_SIZE(SEC_SIGN_PUBLIC_LEN)];
    char sealed_buf[SEC_BOX_SEALED_SIZE(SEC_SIGN_SECRET_LEN)];
    rc = sec_random_id(kid, sizeof(kid), "k_", 9, e);
    if (!rc)
        rc = sec_b64_encode(pub, sizeof(pub), SEC_B64_URL, pk, sizeof(pk), e);
    if (!rc)
        rc = sec_box_seal(sealed_buf, sizeof(sealed_buf), env->server_key, sk, SEC_SIGN_SECRET_LEN,
                          e);
    if (rc)
        return rc;
    *out = (struct cert_key){.tenant_id = tenant,
                             .kid = arena_strdup(a, kid),
                             .public_key = arena_strdup(a, pub),
                             .created_at = now_ms};
    rc = cert_store_key_insert(c, out, sealed_buf, e);
    if (!rc)
        log_info("msg=\"certificate signing key created\" tenant=%" PRId64 " kid=%s", tenant, kid);
    return rc;
}

const char *cert_verify_url(struct arena *a, const char *public_url, const struct cert *c)
{
    const char *base = public_url && *public_url ? public_url : "http://127.0.0.1:8080";
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    return arena_printf(a, "%.*s/verify/%s?s=%s", (int)n, base, c->id,
                        c->signature ? c->signature : "");
}

/* ---------------------------------------------------------------- generation */

/* The message the owner receives with the PDF. */
struct cert_mail_vars {
    const char *owner, *order, *issuer, *url;
};

static int render_ready(const char *language, const void *vars, char *out, size_t n)
{
    const struct cert_mail_vars *v = vars;
    if (!v)
        return -1;
    int k;
    if (str_eq(language, "en"))
        k = snprintf(out, n,
                     "Hello %s,\n\nthe certificate of your order %s from %s is attached.\n"
                     "Anyone can check it at %s\n",
                     v->owner, v->order, v->issuer, v->url);
    else
        k = snprintf(out, n,
                     "Merhaba %s,\n\n%s siparişinizin %s tarafından düzenlenen sertifikası "
                     "ektedir.\nDoğrulamak için: %s\n",
                     v->owner, v->order, v->issuer, v->url);
    return k < 0 || (size_t)k >= n ? -1 : k;
}

static const struct notify_kind cert_kind_ready = {
    .name = "certificate.ready",
    .purpose = NOTIFY_TRANSACTIONAL,
    .render = render_ready,
};

static int fail(struct db_conn *c, int64_t tenant, int64_t pk, const struct err *why,
                int64_t now_ms)
{
    struct err e2;
    err_init(&e2);
    bool moved = false;
    /* the failure may have come before the move to GENERATING */
    int rc = cert_store_move(c, tenant, pk, CERT_GENERATING, CERT_FAILED, NULL, NULL, NULL,
                             why->msg, now_ms, &moved, &e2);
    if (!rc && !moved)
        rc = cert_store_move(c, tenant, pk, CERT_PENDING, CERT_FAILED, NULL, NULL, NULL, why->msg,
                             now_ms, &moved, &e2);
    if (rc)
        log_error("msg=\"cannot mark certificate failed\" pk=%" PRId64 " err=\"%s\"", pk, e2.msg);
    return rc;
}

/* Write `pdf` to a staged file and put it in storage under a new key; *key gets the key. */
static int store_pdf(struct storage *st, int64_t tenant, const struct buf *pdf, struct arena *a,
                     const char **key, char sha_hex[SEC_HEX_SIZE(SEC_SHA256_LEN)], struct err *e)
{
    char path[STORAGE_PATH_MAX];
    int fd;
    int rc = storage_stage(st, path, &fd, e);
    if (rc)
        return rc;
    size_t off = 0;
    while (off < pdf->len) {
        ssize_t w = write(fd, pdf->data + off, pdf->len - off);
        if (w <= 0) {
            close(fd);
            unlink(path);
            return err_set(e, ERR_INTERNAL, "cannot write staged certificate");
        }
        off += (size_t)w;
    }
    close(fd);
    unsigned char sha[SEC_SHA256_LEN];
    sec_sha256(sha, pdf->data, pdf->len);
    rc = sec_hex_encode(sha_hex, SEC_HEX_SIZE(SEC_SHA256_LEN), sha, sizeof(sha), e);
    char rand[SEC_RANDOM_ID_SIZE(0, 18)];
    if (!rc)
        rc = sec_random_id(rand, sizeof(rand), "", 18, e);
    if (!rc) {
        *key = files_storage_key(a, tenant, rand);
        rc = storage_put_file(st, *key, path, (int64_t)pdf->len, sha_hex, "application/pdf", e);
    }
    if (rc)
        unlink(path);
    return rc;
}

static int finish(struct db_conn *c, const struct cert_env *env, struct cert *ce, const char *key,
                  const char *sha_hex, const struct buf *pdf, const char *url, int64_t now_ms,
                  struct arena *a, bool *moved, struct err *e)
{
    int rc = db_begin(c, e);
    if (rc)
        return rc;
    struct files_file f = {.tenant_id = ce->tenant_id,
                           .owner = CERT_FILE_OWNER,
                           .name = arena_printf(a, "certificate-%s.pdf", ce->id),
                           .mime = "application/pdf",
                           .sha256 = sha_hex,
                           .storage_key = key,
                           .size = (int64_t)pdf->len,
                           .state = FILES_STATE_READY,
                           .created_at = now_ms};
    int64_t file_id;
    rc = files_store_insert(c, &f, &file_id, e);
    if (!rc)
        rc = cert_store_move(c, ce->tenant_id, ce->pk, CERT_GENERATING, CERT_READY, key, ce->kid,
                             ce->signature, NULL, now_ms, moved, e);
    if (!rc && *moved && ce->owner_email && *ce->owner_email) {
        struct notify_message m;
        memset(&m, 0, sizeof(m));
        m.recipient_kind = "contact";
        m.recipient_id = ce->owner_email;
        m.email = ce->owner_email;
        m.language = "tr";
        m.about_kind = "order";
        m.about_pk = ce->order_pk;
        struct cert_mail_vars v = {ce->owner_name, ce->order_id, ce->issuer, url};
        struct notify_attachment att = {
            .content_type = "application/pdf", .data = pdf->data, .len = pdf->len};
        att.filename = arena_printf(a, "sertifika-%s.pdf", ce->id);
        const char *subject = arena_printf(a, "Sertifikanız hazır · %s", ce->order_id);
        rc = notify_enqueue_email(c, ce->tenant_id, &cert_kind_ready, &m, &v, subject, &att, 1,
                                  now_ms, e);
    }
    if (!rc && !*moved)
        rc = ERR_CONFLICT; /* another run finished it: keep nothing of this one */
    if (rc) {
        db_rollback(c);
        return rc;
    }
    (void)env;
    return db_commit(c, e);
}

int cert_generate(struct db_conn *c, const struct cert_env *env, int64_t tenant, int64_t pk,
                  bool last_attempt, struct arena *a, struct err *e)
{
    int64_t now_ms = clock_now_ms(env->clock);
    struct cert ce;
    bool found = false;
    int rc = cert_store_get(c, tenant, NULL, pk, a, &ce, &found, e);
    if (rc)
        return rc;
    if (!found || ce.status == CERT_READY || ce.status == CERT_FAILED)
        return 0; /* gone, or already decided: nothing to do */
    bool moved = false;
    if (ce.status == CERT_PENDING) {
        rc = cert_store_move(c, tenant, pk, CERT_PENDING, CERT_GENERATING, NULL, NULL, NULL, NULL,
                             now_ms, &moved, e);
        if (rc) {
            if (last_attempt)
                fail(c, tenant, pk, e, now_ms);
            return rc;
        }
        ce.status = CERT_GENERATING;
    }
    struct cert_key key;
    unsigned char sk[SEC_SIGN_SECRET_LEN];
    char sig[CERT_SIG_B64_LEN + 1];
    rc = cert_key_current(c, env, tenant, now_ms, a, &key, sk, e);
    if (!rc) {
        rc = cert_sign(&ce, key.kid, sk, sig, e);
        sec_wipe(sk, sizeof(sk));
    }
    struct buf pdf;
    buf_init(&pdf, BUF_MAX_PDF);
    const char *url = NULL, *file_key = NULL;
    char sha_hex[SEC_HEX_SIZE(SEC_SHA256_LEN)];
    if (!rc) {
        ce.kid = key.kid;
        ce.signature = arena_strdup(a, sig);
        url = cert_verify_url(a, env->public_url, &ce);
        struct money m;
        char amount[MONEY_TEXT_MAX];
        rc = money_from_minor(ce.amount, ce.currency, &m, e);
        if (!rc)
            rc = money_format(&m, amount, sizeof(amount), e);
        char issued[64], expires[64];
        cert_date_tr(ce.issued_at, issued, sizeof(issued));
        cert_date_tr(ce.expires_at, expires, sizeof(expires));
        const char *lines[PDF_ITEMS_MAX + 1];
        size_t n_lines = 0;
        char *items = arena_strdup(a, ce.items);
        for (char *p = items; p && *p && n_lines < PDF_ITEMS_MAX + 1;) {
            lines[n_lines++] = p;
            char *nl = strchr(p, '\n');
            if (!nl)
                break;
            *nl = 0;
            p = nl + 1;
        }
        struct pdf_certificate doc = {
            .issuer = ce.issuer,
            .cert_id = ce.id,
            .order_id = ce.order_id,
            .owner_name = ce.owner_name,
            .place_date = *ce.place ? arena_printf(a, "%s, %s", ce.place, issued) : issued,
            .amount = arena_printf(a, "%s %s", amount, ce.currency),
            .issued = issued,
            .expires = expires,
            .verify_url = url,
            .key_id = ce.kid,
            .signature = ce.signature,
            .items = lines,
            .n_items = n_lines,
        };
        if (!rc)
            rc = pdf_certificate_render(&doc, &pdf, e);
    }
    struct storage *st = NULL;
    if (!rc)
        rc = storage_for_tenant(env->storages, c, tenant, a, &st, e);
    if (!rc)
        rc = store_pdf(st, tenant, &pdf, a, &file_key, sha_hex, e);
    if (!rc) {
        rc = finish(c, env, &ce, file_key, sha_hex, &pdf, url, now_ms, a, &moved, e);
        if (rc) {
            struct err e2;
            err_init(&e2);
            storage_remove(st, file_key, &e2);
            if (rc == ERR_CONFLICT && !moved) {
                err_init(e);
                rc = 0;
            }
        }
    }
    buf_release(&pdf);
    if (rc && last_attempt)
        fail(c, tenant, pk, e, now_ms);
    if (!rc)
        log_info("msg=\"certificate ready\" tenant=%" PRId64 " id=%s", tenant, ce.id);
    return rc;
}

/* ---------------------------------------------------------------- revoke, verify */

int cert_revoke(struct db_conn *c, int64_t tenant, const char *id, const char *reason,
                int64_t now_ms, struct arena *a, struct cert *out, struct err *e)
{
    bool found = false;
    int rc = cert_store_get(c, tenant, id, 0, a, out, &found, e);
    if (!rc && !found)
        rc = err_set_field(e, ERR_NOT_FOUND, "id", "no certificate %s in this tenant", id);
    if (!rc)
        rc = cert_store_revoke(c, tenant, out->pk, reason ? reason : "revoked", now_ms, e);
    if (!rc)
        rc = cert_store_get(c, tenant, id, 0, a, out, &found, e);
    return rc;
}

int cert_verify(struct db_conn *c, const char *id, const char *sig, int64_t now_ms, struct arena *a,
                struct cert *out, enum cert_verdict *verdict, struct err *e)
{
    bool found = false;
    int rc = cert_store_get(c, 0, id, 0, a, out, &found, e);
    if (!rc && !found)
        rc = err_set_field(e, ERR_NOT_FOUND, "id", "no certificate %s", id);
    if (rc)
        return rc;
    unsigned char pk[SEC_B64_DECODED_MAX(64)];
    const unsigned char *key = NULL;
    if (out->kid) {
        struct cert_key k;
        rc = cert_store_key_get(c, out->kid, a, &k, &found, e);
        if (rc)
            return rc;
        size_t got = 0;
        struct err e2;
        err_init(&e2);
        if (found && k.tenant_id == out->tenant_id &&
            !sec_b64_decode(pk, sizeof(pk), &got, SEC_B64_URL, k.public_key, strlen(k.public_key),
                            &e2) &&
            got == SEC_SIGN_PUBLIC_LEN)
            key = pk;
    }
    *verdict = cert_verdict(out, sig, key, now_ms);
    return 0;
}

int cert_sweep_erased(struct db_conn *c, struct storage_tenants *ss, struct arena *a,
                      size_t *removed, struct err *e)
{
    *removed = 0;
    struct cert *rows;
    size_t n;
    int rc = cert_store_erased_with_pdf(c, CERT_SWEEP_BATCH, a, &rows, &n, e);
    for (size_t i = 0; !rc && i < n; i++) {
        struct err e2;
        err_init(&e2);
        struct storage *st = NULL;
        if (storage_for_tenant(ss, c, rows[i].tenant_id, a, &st, &e2) ||
            storage_remove(st, rows[i].file_key, &e2)) {
            log_warn("msg=\"cannot remove an erased certificate's pdf\" id=%s err=\"%s\"",
                     rows[i].id, e2.msg);
            continue;
        }
        rc = cert_store_drop_pdf(c, rows[i].tenant_id, rows[i].pk, rows[i].file_key, e);
        if (!rc)
            (*removed)++;
    }
    return rc;
}

/* ---------------------------------------------------------------- job and hook */

static struct cert_env hook_env;

static int generate_job(struct job_ctx *ctx, struct err *e)
{
    const struct cert_env *env = ctx->userdata;
    json_t *root = NULL;
    int64_t pk = 0;
    int rc = json_parse_object(ctx->payload, strlen(ctx->payload), ctx->arena, &root, e);
    if (!rc)
        rc = json_get_i64(root, "certificate", true, 1, INT64_MAX, &pk, e);
    if (rc)
        return rc;
    return cert_generate(ctx->conn, env, ctx->tenant_id, pk, ctx->attempt >= ctx->max_attempts,
                         ctx->arena, e);
}

static int sweep_job(struct job_ctx *ctx, struct err *e)
{
    const struct cert_env *env = ctx->userdata;
    size_t removed = 0;
    int rc = cert_sweep_erased(ctx->conn, env->storages, ctx->arena, &removed, e);
    if (removed)
        log_info("msg=\"erased owners' certificate pdfs removed\" count=%zu", removed);
    return rc;
}

int cert_on_order_paid(struct db_conn *c, int64_t tenant, int64_t order_pk, struct err *e)
{
    struct arena a;
    arena_init(&a);
    struct cert out;
    bool created;
    int rc = cert_request(c, tenant, NULL, order_pk, NULL, "order.paid",
                          clock_now_ms(hook_env.clock), &a, &out, &created, e);
    arena_release(&a);
    return rc;
}

int certificates_jobs_register(struct job_registry *reg, const struct cert_env *env, struct err *e)
{
    hook_env = *env;
    int rc = job_registry_add(reg, CERT_JOB_GENERATE, generate_job, &hook_env, 0, e);
    if (!rc)
        rc = job_registry_set_lane(reg, CERT_JOB_GENERATE, CERT_LANE, e);
    if (!rc)
        rc = job_registry_add(reg, CERT_JOB_SWEEP, sweep_job, &hook_env, 0, e);
    if (!rc)
        rc = notify_kind_register(&cert_kind_ready, e);
    if (!rc)
        rc = order_hooks_add_paid("certificate", cert_on_order_paid, e);
    return rc;
}

int certificates_jobs_schedule(struct sched *s, struct err *e)
{
    return sched_every(s, "certificates.sweep", 600, CERT_JOB_SWEEP, "{}", e);
}
