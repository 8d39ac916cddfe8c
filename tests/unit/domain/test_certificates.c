/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/certificates: the canonical data byte for byte; the signature
 * verifies, and fails when one byte of the signature or of the signed data changes, or under
 * another key; the verdicts (valid, expired, revoked, forged, not issued); Turkish dates; owner
 * names. With the database (SQLite, and PostgreSQL with TEST_PG_DSN): the order-paid hook queues
 * the certificate and its job inside the paying transaction (a rollback leaves neither), once
 * per order; a placed order is refused; generation signs, stores the PDF, records its files
 * row, moves to READY and queues the email with the PDF; the signing key is sealed (not stored
 * in clear); verification finds it valid and another tenant cannot read it.
 */
#include "domain/certificates/certificates_service.h"
#include "domain/account/account.h"
#include "domain/commerce/commerce_store.h"
#include "domain/commerce/order_hooks.h"
#include "domain/notify/outbox.h"
#include "integrations/integration_store.h"
#include "jobs/worker.h"
#include "platform/privacy.h"
#include "core/xalloc.h"
#include "support/check.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#define NOW 1786702200000 /* 2026-08-14T10:10:00Z */

static struct cert sample(void)
{
    return (struct cert){.id = "crt_test1",
                         .issuer = "Moda Kahve Evi",
                         .order_id = "ord_test1",
                         .owner_name = "Şükrü Çağlar",
                         .place = "İstanbul",
                         .amount = 18500,
                         .currency = "TRY",
                         .status = CERT_READY,
                         .issued_at = NOW,
                         .expires_at = NOW + CERT_VALID_MS};
}

static void canonical_exact(void **state)
{
    (void)state;
    struct cert c = sample();
    struct buf b;
    buf_init(&b, 4096);
    OK(cert_canonical(&c, "k_abc", &b, e));
    assert_string_equal(buf_str(&b), "iceshop-certificate/1\n"
                                     "id=crt_test1\n"
                                     "issuer=Moda Kahve Evi\n"
                                     "order=ord_test1\n"
                                     "owner=Şükrü Çağlar\n"
                                     "place=İstanbul\n"
                                     "amount=185.00 TRY\n"
                                     "issued_at=2026-08-14T10:10:00.000Z\n"
                                     "expires_at=2027-08-14T10:10:00.000Z\n"
                                     "kid=k_abc\n");
    buf_release(&b);
    /* a control character can never reach the signed bytes */
    c.owner_name = "a\nkid=evil";
    buf_init(&b, 4096);
    FAILS(ERR_INVALID, cert_canonical(&c, "k_abc", &b, e));
    buf_release(&b);
}

static void signature_and_tampering(void **state)
{
    (void)state;
    unsigned char pk[SEC_SIGN_PUBLIC_LEN], sk[SEC_SIGN_SECRET_LEN];
    unsigned char pk2[SEC_SIGN_PUBLIC_LEN], sk2[SEC_SIGN_SECRET_LEN];
    sec_sign_keypair(pk, sk);
    sec_sign_keypair(pk2, sk2);
    struct cert c = sample();
    char sig[CERT_SIG_B64_LEN + 1];
    OK(cert_sign(&c, "k_abc", sk, sig, e));
    assert_int_equal(strlen(sig), CERT_SIG_B64_LEN);
    assert_true(cert_signature_ok(&c, "k_abc", sig, pk));
    assert_false(cert_signature_ok(&c, "k_abc", sig, pk2)); /* another key */
    assert_false(cert_signature_ok(&c, "k_abd", sig, pk));  /* another kid is other data */
    /* every character of the signature, changed: never verifies */
    for (size_t i = 0; i < CERT_SIG_B64_LEN; i++) {
        char bad[CERT_SIG_B64_LEN + 1];
        memcpy(bad, sig, sizeof(bad));
        bad[i] = sig[i] == 'A' ? 'B' : 'A';
        if (i == CERT_SIG_B64_LEN - 1)
            bad[i] = sig[i] == 'A' ? 'Q' : 'A'; /* the last character carries 2 bits only */
        assert_false(cert_signature_ok(&c, "k_abc", bad, pk));
    }
    /* one byte of the signed data changed: the owner's "ü" becomes "u", the amount one kuruş */
    struct cert t = c;
    t.owner_name = "Şukrü Çağlar";
    assert_false(cert_signature_ok(&t, "k_abc", sig, pk));
    t = c;
    t.amount = 18501;
    assert_false(cert_signature_ok(&t, "k_abc", sig, pk));
    t = c;
    t.expires_at += 1;
    assert_false(cert_signature_ok(&t, "k_abc", sig, pk));
    assert_false(cert_signature_ok(&c, "k_abc", "short", pk));
    assert_false(cert_signature_ok(&c, "k_abc", NULL, pk));
}

static void verdicts(void **state)
{
    (void)state;
    unsigned char pk[SEC_SIGN_PUBLIC_LEN], sk[SEC_SIGN_SECRET_LEN];
    sec_sign_keypair(pk, sk);
    struct cert c = sample();
    c.kid = "k_abc";
    char sig[CERT_SIG_B64_LEN + 1];
    OK(cert_sign(&c, "k_abc", sk, sig, e));
    c.signature = sig;
    assert_int_equal(cert_verdict(&c, NULL, pk, NOW + 1000), CERT_VERDICT_VALID);
    assert_int_equal(cert_verdict(&c, sig, pk, NOW + 1000), CERT_VERDICT_VALID);
    assert_int_equal(cert_verdict(&c, sig, pk, c.expires_at), CERT_VERDICT_EXPIRED);
    assert_int_equal(cert_verdict(&c, sig, NULL, NOW), CERT_VERDICT_FORGED); /* key unknown */
    char bad[CERT_SIG_B64_LEN + 1];
    memcpy(bad, sig, sizeof(bad));
    bad[0] = bad[0] == 'A' ? 'B' : 'A';
    assert_int_equal(cert_verdict(&c, bad, pk, NOW), CERT_VERDICT_FORGED);
    struct cert r = c;
    r.revoke_reason = "refunded";
    r.revoked_at = NOW + 5;
    assert_int_equal(cert_verdict(&r, sig, pk, NOW + 10), CERT_VERDICT_REVOKED);
    assert_int_equal(cert_verdict(&r, bad, pk, NOW + 10), CERT_VERDICT_FORGED);
    struct cert p = c;
    p.status = CERT_PENDING;
    /* nothing signed yet: not a forgery, not issued */
    assert_int_equal(cert_verdict(&p, sig, pk, NOW), CERT_VERDICT_NOT_ISSUED);
    assert_string_equal(cert_verdict_name(CERT_VERDICT_NOT_ISSUED), "not_issued");
    p.status = CERT_FAILED;
    assert_int_equal(cert_verdict(&p, NULL, pk, NOW), CERT_VERDICT_NOT_ISSUED);
    assert_string_equal(cert_verdict_name(CERT_VERDICT_VALID), "valid");
    assert_string_equal(cert_verdict_name(CERT_VERDICT_FORGED), "forged");
}

static void dates_and_names(void **state)
{
    (void)state;
    char d[64];
    cert_date_tr(NOW, d, sizeof(d));
    assert_string_equal(d, "14 Ağustos 2026");
    cert_date_tr(1767225600000, d, sizeof(d)); /* 2026-01-01 */
    assert_string_equal(d, "1 Ocak 2026");
    OK(cert_owner_check("Şükrü Çağlar", "owner_name", e));
    FAILS(ERR_INVALID, cert_owner_check("", "owner_name", e));
    assert_string_equal(check_last.field, "owner_name");
    FAILS(ERR_INVALID, cert_owner_check("a\tb", "owner_name", e));
    FAILS(ERR_INVALID, cert_owner_check("\xff\xfe", "owner_name", e));
    assert_true(cert_order_is_paid("paid"));
    assert_true(cert_order_is_paid("fulfilled"));
    assert_false(cert_order_is_paid("placed"));
    assert_false(cert_order_is_paid("refunded"));
}

/* ---------------------------------------------------------------- with the database */

struct fixture {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    struct arena a;
    struct storage_tenants *ss;
    struct storage *st; /* the server's, which both tenants use (borrowed from ss) */
    struct job_registry *reg;
    struct cert_env env;
    char dir[256];
    int64_t t1, t2;
    int64_t paid_pk, placed_pk;
    const char *paid_id;
};

static enum db_backend backend;
static const unsigned char server_key[32] = "0123456789abcdef0123456789abcdef";

static int64_t make_order(struct fixture *f, int64_t tenant, enum commerce_order_status status,
                          const char *email, const char **id)
{
    struct commerce_city city = {.source = "api", .country_code = "TR", .name = "İstanbul"};
    OK(commerce_store_city_create(f->c, tenant, &city, NOW, &f->a, e));
    struct commerce_customer cu = {
        .source = "api", .email = email, .city_id = city.id, .is_active = true};
    OK(commerce_store_customer_create(f->c, tenant, &cu, NOW, &f->a, e));
    struct commerce_product pr = {.source = "api", .name = "Latte", .has_price = true};
    OK(money_from_minor(8500, "TRY", &pr.price, e));
    OK(commerce_store_product_create(f->c, tenant, &pr, NOW, &f->a, e));
    struct commerce_item items[1] = {{.product_id = pr.id, .quantity = 2, .unit_price = 8500}};
    struct commerce_order o = {
        .source = "api", .customer_id = cu.id, .status = status, .items = items, .n_items = 1};
    OK(money_currency_find("TRY", &o.currency, e));
    OK(commerce_store_order_create(f->c, tenant, &o, NOW, &f->a, e));
    if (id)
        *id = o.id;
    return o.pk;
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->db = testdb_open_migrated(&f->t, backend, "certs", NULL);
    f->c = testdb_acquire(f->db);
    arena_init(&f->a);
    OK(account_tenant_create(f->c, "moda-kahve", NOW, &f->t1, e));
    OK(account_tenant_create(f->c, "two", NOW, &f->t2, e));
    const char *tmp = getenv("TEST_TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/certs-unit-%d-%s", tmp && *tmp ? tmp : "/tmp",
             (int)getpid(), f->t.name);
    char url[300];
    snprintf(url, sizeof(url), "file://%s", f->dir);
    struct storage_config sc = {.url = url};
    OK(storage_tenants_new(&sc, server_key, 0, &f->ss, e));
    f->st = storage_tenants_server(f->ss);
    f->env = (struct cert_env){f->ss, server_key, "https://shop.example.test", NULL};
    order_hooks_reset();
    f->reg = job_registry_new();
    OK(certificates_jobs_register(f->reg, &f->env, e));
    f->paid_pk = make_order(f, f->t1, COMMERCE_ORDER_PAID, "sukru@example.com", &f->paid_id);
    f->placed_pk = make_order(f, f->t1, COMMERCE_ORDER_PLACED, NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", f->dir);
    storage_tenants_free(f->ss);
    job_registry_free(f->reg);
    order_hooks_reset();
    arena_release(&f->a);
    db_conn_release(f->c);
    db_close(f->db);
    testdb_remove(&f->t);
    free(f);
    return 0;
}

static int64_t count(struct fixture *f, const char *sql)
{
    struct db_stmt *s;
    OK(db_prepare(f->c, &s, sql, e));
    int64_t n = -1;
    bool found;
    OK(db_one_i64(s, &n, &found, e));
    return n;
}

static void hook_in_paying_transaction(void **state)
{
    struct fixture *f = *state;
    /* rolled back with the payment: nothing stays */
    OK(db_begin(f->c, e));
    OK(order_hooks_run_paid(f->c, f->t1, f->paid_pk, e));
    db_rollback(f->c);
    assert_int_equal(count(f, "SELECT count(*) FROM certificates"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM jobs WHERE name = 'certificates.generate'"), 0);
    /* committed: the certificate and its job */
    OK(db_begin(f->c, e));
    OK(order_hooks_run_paid(f->c, f->t1, f->paid_pk, e));
    OK(db_commit(f->c, e));
    assert_int_equal(count(f, "SELECT count(*) FROM certificates WHERE status = 'PENDING'"), 1);
    assert_int_equal(count(f, "SELECT count(*) FROM jobs WHERE name = 'certificates.generate'"), 1);
    /* never two for one order */
    OK(order_hooks_run_paid(f->c, f->t1, f->paid_pk, e));
    struct cert out;
    bool created = true;
    OK(cert_request(f->c, f->t1, f->paid_id, 0, "Şükrü Çağlar", "key:1", NOW, &f->a, &out, &created,
                    e));
    assert_false(created);
    assert_int_equal(count(f, "SELECT count(*) FROM certificates"), 1);
    /* a placed order, and another tenant's order */
    FAILS(ERR_CONFLICT, cert_request(f->c, f->t1, NULL, f->placed_pk, NULL, "key:1", NOW, &f->a,
                                     &out, &created, e));
    assert_string_equal(check_last.field, "order_id");
    FAILS(ERR_NOT_FOUND,
          cert_request(f->c, f->t2, f->paid_id, 0, NULL, "key:1", NOW, &f->a, &out, &created, e));
    /* the queued job is on the slow lane */
    assert_string_equal(job_registry_lane_of(f->reg, CERT_JOB_GENERATE), "slow");
}

static void generate_store_email_verify(void **state)
{
    struct fixture *f = *state;
    struct cert ce;
    bool created = false;
    OK(cert_request(f->c, f->t1, f->paid_id, 0, "Şükrü Çağlar", "key:1", NOW, &f->a, &ce, &created,
                    e));
    assert_true(created);
    assert_int_equal(ce.status, CERT_PENDING);
    OK(cert_generate(f->c, &f->env, f->t1, ce.pk, false, &f->a, e));
    struct cert got;
    bool found = false;
    OK(cert_store_get(f->c, f->t1, ce.id, 0, &f->a, &got, &found, e));
    assert_true(found);
    assert_int_equal(got.status, CERT_READY);
    assert_non_null(got.file_key);
    assert_non_null(got.kid);
    /* the PDF is in storage, named by file_key, and recorded as a files row */
    int fd = -1;
    int64_t size = 0;
    OK(storage_open_read(f->st, got.file_key, &fd, &size, e));
    char head[5];
    assert_int_equal(read(fd, head, 5), 5);
    close(fd);
    assert_memory_equal(head, "%PDF-", 5);
    assert_true(size > 1000 && size <= 100 * 1024);
    assert_int_equal(count(f, "SELECT count(*) FROM files WHERE owner = 'certificates' AND "
                              "mime = 'application/pdf' AND state = 'ready'"),
                     1);
    /* the email with the PDF */
    assert_int_equal(count(f, "SELECT count(*) FROM messages WHERE channel = 'email' AND email = "
                              "'sukru@example.com' AND kind = 'certificate.ready'"),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM message_attachments WHERE content_type = "
                              "'application/pdf'"),
                     1);
    /* the key is sealed, never in clear */
    assert_int_equal(count(f, "SELECT count(*) FROM certificate_keys WHERE secret_sealed LIKE "
                              "'sb1.%'"),
                     1);
    /* generating again changes nothing */
    OK(cert_generate(f->c, &f->env, f->t1, ce.pk, false, &f->a, e));
    assert_int_equal(count(f, "SELECT count(*) FROM files"), 1);
    assert_int_equal(count(f, "SELECT count(*) FROM messages"), 1);

    enum cert_verdict v;
    struct cert seen;
    OK(cert_verify(f->c, ce.id, got.signature, NOW + 1000, &f->a, &seen, &v, e));
    assert_int_equal(v, CERT_VERDICT_VALID);
    assert_string_equal(seen.owner_name, "Şükrü Çağlar");
    assert_string_equal(seen.place, "İstanbul");
    assert_string_equal(seen.issuer, "moda-kahve");
    OK(cert_verify(f->c, ce.id, NULL, NOW + 1000, &f->a, &seen, &v, e));
    assert_int_equal(v, CERT_VERDICT_VALID);
    /* a row changed behind the signature's back is forged */
    OK(db_exec(f->c, "UPDATE certificates SET amount = 1", e));
    OK(cert_verify(f->c, ce.id, got.signature, NOW + 1000, &f->a, &seen, &v, e));
    assert_int_equal(v, CERT_VERDICT_FORGED);

    /* another tenant sees nothing */
    OK(cert_store_get(f->c, f->t2, ce.id, 0, &f->a, &got, &found, e));
    assert_false(found);
    FAILS(ERR_NOT_FOUND, cert_revoke(f->c, f->t2, ce.id, "x", NOW, &f->a, &got, e));
    OK(cert_revoke(f->c, f->t1, ce.id, "refunded", NOW, &f->a, &got, e));
    assert_true(cert_is_revoked(&got));
}

/* Regular files under `dir` (recursively), leaving out the staging directory. */
static int objects_in(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char p[700];
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (de->d_type == DT_DIR)
            n += objects_in(p);
        else
            n++;
    }
    closedir(d);
    return n;
}

/*
 * Fail the n-th database call of generation, for every n: what is left is either a READY
 * certificate with its files row, its stored object and its email, or no READY certificate and
 * no row, object or email; a retry then finishes it; on the last attempt it is FAILED.
 */
/* The PDF goes to the storage of the certificate's tenant (here its own directory). */
static void generate_to_tenant_storage(void **state)
{
    struct fixture *f = *state;
    char own[320], url[330];
    snprintf(own, sizeof(own), "%s-own", f->dir);
    snprintf(url, sizeof(url), "file://%s", own);
    const struct integration_kv kv = {"url", url};
    OK(integration_put(f->c, server_key, f->t1, "storage", &kv, 1, NOW, e));
    /* t1 is the default tenant of this set: a directory is its to choose */
    char server_url[300];
    snprintf(server_url, sizeof(server_url), "file://%s", f->dir);
    const struct storage_config sc = {.url = server_url};
    struct storage_tenants *ss = NULL;
    OK(storage_tenants_new(&sc, server_key, f->t1, &ss, e));
    struct cert_env env = f->env;
    env.storages = ss;
    struct cert ce;
    bool created = false;
    OK(cert_request(f->c, f->t1, f->paid_id, 0, NULL, "key:own", NOW, &f->a, &ce, &created, e));
    OK(cert_generate(f->c, &env, f->t1, ce.pk, false, &f->a, e));
    struct cert got;
    bool found = false;
    OK(cert_store_get(f->c, f->t1, ce.id, 0, &f->a, &got, &found, e));
    assert_int_equal(got.status, CERT_READY);
    char path[700];
    snprintf(path, sizeof(path), "%s/%s", own, got.file_key);
    assert_int_equal(access(path, R_OK), 0);
    int fd = -1;
    int64_t size = 0;
    FAILS(ERR_NOT_FOUND, storage_open_read(f->st, got.file_key, &fd, &size, e));
    storage_tenants_free(ss);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", own);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", own);
}

static void generate_under_faults(void **state)
{
    struct fixture *f = *state;
    struct cert ce;
    bool created = false;
    OK(cert_request(f->c, f->t1, f->paid_id, 0, "Ayşe", "key:1", NOW, &f->a, &ce, &created, e));
    int64_t calls = 0;
    for (int64_t n = 1; n < 200; n++) {
        OK(db_exec(f->c, "UPDATE certificates SET status = 'PENDING'", e));
        OK(db_exec(f->c, "DELETE FROM message_attachments", e));
        OK(db_exec(f->c, "DELETE FROM messages", e));
        OK(db_exec(f->c, "DELETE FROM jobs WHERE name = 'notify.deliver'", e));
        OK(db_exec(f->c, "DELETE FROM files", e));
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "find %s -type f ! -path '*/.staging/*' -delete", f->dir);
        assert_int_equal(system(cmd), 0);
        db_fault_after(f->db, n);
        struct err fe;
        err_init(&fe);
        int rc = cert_generate(f->c, &f->env, f->t1, ce.pk, false, &f->a, &fe);
        calls = db_fault_calls(f->db);
        db_fault_after(f->db, 0);
        struct cert got;
        bool found;
        OK(cert_store_get(f->c, f->t1, ce.id, 0, &f->a, &got, &found, e));
        int64_t rows = count(f, "SELECT count(*) FROM files");
        int64_t mails = count(f, "SELECT count(*) FROM messages");
        int objects = objects_in(f->dir);
        if (got.status == CERT_READY) {
            assert_int_equal(rows, 1);
            assert_int_equal(mails, 1);
            assert_int_equal(objects, 1);
        } else {
            assert_true(rc != 0);
            assert_int_equal(rows, 0);
            assert_int_equal(mails, 0);
            assert_int_equal(objects, 0);
            /* the retry finishes it */
            OK(cert_generate(f->c, &f->env, f->t1, ce.pk, false, &f->a, e));
            OK(cert_store_get(f->c, f->t1, ce.id, 0, &f->a, &got, &found, e));
            assert_int_equal(got.status, CERT_READY);
        }
        if (rc == 0 && calls < n)
            break; /* the fault came after the last call: every call has failed once */
    }
    assert_true(calls > 5);
    /* the last attempt's failure is recorded */
    OK(db_exec(f->c, "UPDATE certificates SET status = 'PENDING'", e));
    OK(db_exec(f->c, "DELETE FROM files", e));
    db_fault_after(f->db, 3);
    struct err fe;
    err_init(&fe);
    assert_int_not_equal(cert_generate(f->c, &f->env, f->t1, ce.pk, true, &f->a, &fe), 0);
    db_fault_after(f->db, 0);
    struct cert got;
    bool found;
    OK(cert_store_get(f->c, f->t1, ce.id, 0, &f->a, &got, &found, e));
    assert_int_equal(got.status, CERT_FAILED);
    assert_non_null(got.error);
}

/* Erasure blanks the owner and revokes: the page says revoked, not forged. */
static void erased_owner(void **state)
{
    struct fixture *f = *state;
    struct cert ce;
    bool created = false;
    OK(cert_request(f->c, f->t1, f->paid_id, 0, "Şükrü Çağlar", "key:1", NOW, &f->a, &ce, &created,
                    e));
    OK(cert_generate(f->c, &f->env, f->t1, ce.pk, false, &f->a, e));
    struct privacy_subject p;
    OK(privacy_subject_parse(NULL, "Sukru@Example.com", &p, e));
    json_t *out = NULL;
    OK(privacy_export(f->c, f->t1, &p, NOW, &out, e));
    assert_int_equal(json_array_size(json_object_get(out, "certificates")), 1);
    json_decref(out);
    OK(privacy_erase(f->c, f->t1, &p, NOW, &out, e));
    assert_int_equal(json_integer_value(json_object_get(out, "certificates")), 1);
    json_decref(out);
    enum cert_verdict v;
    struct cert seen;
    OK(cert_verify(f->c, ce.id, NULL, NOW + 1000, &f->a, &seen, &v, e));
    assert_int_equal(v, CERT_VERDICT_REVOKED);
    assert_string_equal(seen.owner_name, "");
    assert_null(seen.owner_email);
    /* the stored PDF still names them: the sweep removes it, its files row and file_key */
    assert_int_equal(objects_in(f->dir), 1);
    size_t removed = 0;
    OK(cert_sweep_erased(f->c, f->ss, &f->a, &removed, e));
    assert_int_equal(removed, 1);
    assert_int_equal(objects_in(f->dir), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM files"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM certificates WHERE file_key IS NULL"), 1);
    OK(cert_sweep_erased(f->c, f->ss, &f->a, &removed, e));
    assert_int_equal(removed, 0);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(canonical_exact),
        cmocka_unit_test(signature_and_tampering),
        cmocka_unit_test(verdicts),
        cmocka_unit_test(dates_and_names),
    };
    int failed = cmocka_run_group_tests_name("certificates_rules", pure, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hook_in_paying_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(generate_store_email_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(generate_to_tenant_storage, setup, teardown),
        cmocka_unit_test_setup_teardown(generate_under_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(erased_owner, setup, teardown),
    };
    failed += TESTDB_RUN_GROUPS("certificates", tests, &backend);
    return failed ? 1 : 0;
}
