/* SPDX-License-Identifier: MIT */
/*
 * Running Iceshop for real, over the real binary: `iceshop backup` of a live SQLite database
 * under write load and `iceshop restore` of it (every row acknowledged before the backup began
 * comes back; a running server's database and files that are not Iceshop databases are
 * refused; PostgreSQL points to pg_dump / pg_restore), `iceshop reset` and `iceshop demo
 * --reset`; ICESHOP_LOG_FILE reopened on SIGHUP, access-log sampling that keeps every error,
 * and known secrets driven through requests that log, then looked for in the log;
 * X-Forwarded-For believed only from ICESHOP_TRUSTED_PROXIES (per-address rate limits and logs),
 * and listening on IPv6 with ICESHOP_LISTEN=[::]:PORT; `iceshop doctor` on a good and a broken
 * configuration.
 * Runs on the backend TEST_BACKEND selects.
 */
#include "support/harness.h"
#include "support/fake_whatsapp.h"
#include "core/crypto.h"

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#define ADMIN     HARNESS_ADMIN_KEY
#define MAX_ACKED 100000

static bool is_sqlite(void)
{
    return strcmp(harness_backend(), "sqlite") == 0;
}

static const char *tmpdir(void)
{
    return getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
}

/* A path for a file of this test under TEST_TMPDIR. */
static void tmp_path(char *out, size_t n, const char *what)
{
    static int seq;
    snprintf(out, n, "%s/ops-%d-%d-%s", tmpdir(), (int)getpid(), seq++, what);
}

/* ======================== backup under write load ======================== */

struct writer {
    const struct server *s;
    atomic_bool stop;
    atomic_long acked; /* ids[0..acked) were answered 202 */
    long long *ids;
    atomic_int errors;
};

static void *write_loop(void *arg)
{
    struct writer *w = arg;
    while (!atomic_load(&w->stop) && atomic_load(&w->acked) < MAX_ACKED) {
        struct resp r;
        if (http_post_json(w->s, "/api/jobs", ADMIN, "{\"name\":\"test.ok\"}", &r) ||
            r.status != 202) {
            atomic_fetch_add(&w->errors, 1);
        } else {
            long n = atomic_load(&w->acked);
            w->ids[n] = (long long)json_integer_value(json_object_get(r.json, "id"));
            atomic_store(&w->acked, n + 1);
        }
        resp_free(&r);
    }
    return NULL;
}

/* How many of ids[0..n) are rows of `jobs` in the database at url. */
static long long present(const char *url, const long long *ids, long n)
{
    long long found = 0;
    char sql[8192];
    for (long i = 0; i < n;) {
        int used = snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM jobs WHERE id IN (");
        long j = i;
        for (; j < n && j < i + 500; j++)
            used += snprintf(sql + used, sizeof(sql) - (size_t)used, "%s%lld", j > i ? "," : "",
                             ids[j]);
        snprintf(sql + used, sizeof(sql) - (size_t)used, ")");
        found += harness_db_i64(url, sql);
        i = j;
    }
    return found;
}

static void test_backup_under_load_and_restore(void **state)
{
    (void)state;
    if (!is_sqlite()) {
        fprintf(stderr, "skip: iceshop backup copies SQLite files; PostgreSQL is backed up with "
                        "pg_dump (the refusal is checked below)\n");
        skip();
        return;
    }
    struct server s;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    assert_int_equal(server_start(&s, url, NULL), 0);

    struct writer w = {.s = &s, .ids = calloc(MAX_ACKED, sizeof(long long))};
    assert_non_null(w.ids);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, write_loop, &w), 0);
    WAIT_FOR(atomic_load(&w.acked) >= 200, 20000);
    long before = atomic_load(&w.acked);
    assert_true(before >= 200);

    char file[512], cmd[700], out[4096];
    tmp_path(file, sizeof(file), "backup.db");
    snprintf(cmd, sizeof(cmd), "backup %s 2>&1", file);
    assert_int_equal(harness_cli(url, cmd, out, sizeof(out)), 0);
    /* the writes went on during the backup */
    long at_end = atomic_load(&w.acked);
    WAIT_FOR(atomic_load(&w.acked) >= at_end + 50, 20000);
    assert_true(atomic_load(&w.acked) >= at_end + 50);

    /* a running server's database is never replaced */
    snprintf(cmd, sizeof(cmd), "restore %s 2>&1", file);
    assert_int_equal(harness_cli(url, cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "in use"));

    atomic_store(&w.stop, true);
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&w.errors), 0);
    long total = atomic_load(&w.acked);
    fprintf(stderr, "backup: %ld rows acknowledged before it, %ld when it ended, %ld in all\n",
            before, at_end, total);
    assert_int_equal(server_stop(&s), 0);

    /* restore over an existing database: it is kept aside, the backup takes its place */
    char target[600];
    harness_fresh_db(target, sizeof(target));
    assert_int_equal(harness_cli(target, "migrate", out, sizeof(out)), 0);
    harness_db_exec(target, "INSERT INTO tenants (name, created_at) VALUES "
                            "('only-in-target', '2026-12-01T00:00:00.000Z')");
    assert_int_equal(harness_cli(target, cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "before-restore"));
    assert_int_equal(
        harness_db_i64(target, "SELECT COUNT(*) FROM tenants WHERE name = 'only-in-target'"), 0);
    /* every row acknowledged before the backup began is there */
    assert_int_equal(present(target, w.ids, before), before);
    /*
     * and nothing the backup could not have seen: rows acknowledged after it ended are absent
     * (but the one request that may have been in flight when it ended)
     */
    assert_true(present(target, w.ids + at_end + 1, total - at_end - 1) == 0);

    /* the restored database serves */
    assert_int_equal(server_start(&s, target, NULL), 0);
    char path[64];
    snprintf(path, sizeof(path), "/api/jobs/%lld", w.ids[before - 1]);
    struct resp r;
    assert_int_equal(http_get(&s, path, ADMIN, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(server_stop(&s), 0);
    free(w.ids);
}

/* ======================== backup before an upgrade ======================== */

/*
 * A database one migration behind this binary (as before an upgrade) is backed up as it is: the
 * backup does not migrate it, and the copy is of the old version. An empty file is refused.
 */
static void test_backup_takes_the_schema_as_found(void **state)
{
    (void)state;
    if (!is_sqlite()) {
        skip();
        return;
    }
    char url[600], cmd[700], out[4096], file[512], file_url[600];
    harness_fresh_db(url, sizeof(url));
    assert_int_equal(harness_cli(url, "migrate", out, sizeof(out)), 0);
    long long latest = harness_db_i64(url, "SELECT MAX(version) FROM schema_migrations");
    assert_true(latest > 1);
    char sql[128];
    /* migration numbers may have gaps (a number taken by work not merged yet) */
    snprintf(sql, sizeof(sql), "SELECT MAX(version) FROM schema_migrations WHERE version < %lld",
             latest);
    long long previous = harness_db_i64(url, sql);
    snprintf(sql, sizeof(sql), "DELETE FROM schema_migrations WHERE version = %lld", latest);
    harness_db_exec(url, sql);

    tmp_path(file, sizeof(file), "before-upgrade.db");
    snprintf(cmd, sizeof(cmd), "backup %s 2>&1", file);
    if (harness_cli(url, cmd, out, sizeof(out)) != 0)
        fail_msg("backup of a database one version behind: %s", out);
    assert_int_equal(harness_db_i64(url, "SELECT MAX(version) FROM schema_migrations"), previous);
    snprintf(file_url, sizeof(file_url), "sqlite://%s", file);
    assert_int_equal(harness_db_i64(file_url, "SELECT MAX(version) FROM schema_migrations"),
                     previous);

    /* a database that was never migrated has nothing to back up */
    char empty[512], empty_url[600];
    tmp_path(empty, sizeof(empty), "never-served.db");
    snprintf(empty_url, sizeof(empty_url), "sqlite://%s", empty);
    assert_int_equal(harness_cli(empty_url, cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "no Iceshop schema"));
}

/* ======================== restore refusals ======================== */

static void test_restore_refuses_what_is_not_iceshop(void **state)
{
    (void)state;
    char target[600], cmd[700], out[4096];
    harness_fresh_db(target, sizeof(target));
    if (!is_sqlite()) {
        assert_int_equal(harness_cli(target, "backup /tmp/x.db 2>&1", out, sizeof(out)), 1);
        assert_non_null(strstr(out, "pg_dump"));
        assert_int_equal(harness_cli(target, "restore /tmp/x.db 2>&1", out, sizeof(out)), 1);
        assert_non_null(strstr(out, "pg_restore"));
        return;
    }
    assert_int_equal(harness_cli(target, "migrate", out, sizeof(out)), 0);
    long long tenants = harness_db_i64(target, "SELECT COUNT(*) FROM schema_migrations");

    /* a text file */
    char junk[512];
    tmp_path(junk, sizeof(junk), "junk.txt");
    FILE *f = fopen(junk, "w");
    assert_non_null(f);
    fputs("SELECT 1; -- not a database\n", f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "restore %s 2>&1", junk);
    assert_int_equal(harness_cli(target, cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "not an Iceshop database"));

    /* a SQLite database of something else */
    char other[512], other_url[600];
    tmp_path(other, sizeof(other), "other.db");
    snprintf(other_url, sizeof(other_url), "sqlite://%s", other);
    harness_db_exec(other_url, "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)");
    snprintf(cmd, sizeof(cmd), "restore %s 2>&1", other);
    assert_int_equal(harness_cli(target, cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "not an Iceshop database"));

    /* a missing file */
    assert_int_equal(harness_cli(target, "restore /nonexistent/backup.db 2>&1", out, sizeof(out)),
                     1);
    /* the target was left alone */
    assert_int_equal(harness_db_i64(target, "SELECT COUNT(*) FROM schema_migrations"), tenants);
}

/* ======================== reset ======================== */

static long long buyers_of(const char *url, const char *tenant)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM buyers b JOIN tenants t ON t.id = b.tenant_id WHERE t.name = "
             "'%s'",
             tenant);
    return harness_db_i64(url, sql);
}

static void register_buyer(const struct server *s, const char *key, const char *id)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"phone_number\":\"+99900000%s\",\"name\":\"%s\","
             "\"location\":{\"lat\":40.99,\"lng\":29.03},\"categories\":[\"coffee\"]}",
             id, id + 1, id);
    struct resp r;
    assert_int_equal(http_post_json(s, "/api/buyers/register", key, body, &r), 0);
    if (r.status != 201 && r.status != 200)
        fail_msg("register buyer: %ld %s", r.status, r.body);
    resp_free(&r);
}

static void test_reset_tenant(void **state)
{
    (void)state;
    struct server s;
    char url[600], out[4096];
    harness_fresh_db(url, sizeof(url));
    assert_int_equal(server_start(&s, url, NULL), 0);
    assert_int_equal(harness_cli(url, "tenants create shop", out, sizeof(out)), 0);
    assert_int_equal(harness_cli(url, "keys create --tenant shop --role admin", out, sizeof(out)),
                     0);
    char key[256];
    snprintf(key, sizeof(key), "%.*s", (int)strcspn(out, "\r\n"), out);
    register_buyer(&s, key, "B1");
    register_buyer(&s, key, "B2");
    register_buyer(&s, ADMIN, "B3"); /* the default tenant's */
    assert_int_equal(buyers_of(url, "shop"), 2);

    /* refused without --yes, saying why */
    assert_int_equal(harness_cli(url, "reset --tenant shop 2>&1", out, sizeof(out)), 2);
    assert_non_null(strstr(out, "--yes"));
    assert_non_null(strstr(out, "cannot be undone"));
    assert_int_equal(buyers_of(url, "shop"), 2);
    assert_int_equal(harness_cli(url, "reset --tenant nosuch --yes 2>&1", out, sizeof(out)), 1);
    assert_non_null(strstr(out, "no tenant named nosuch"));

    assert_int_equal(harness_cli(url, "reset --tenant shop --yes", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "tenant shop reset"));
    assert_int_equal(buyers_of(url, "shop"), 0);
    assert_int_equal(buyers_of(url, "default"), 1);
    /* the tenant and its key still work */
    struct resp r;
    assert_int_equal(http_get(&s, "/api/buyers", key, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    register_buyer(&s, key, "B4");
    assert_int_equal(buyers_of(url, "shop"), 1);

    /* demo --reset still removes the demo tenant */
    assert_int_equal(harness_cli(url, "tenants create demo", out, sizeof(out)), 0);
    assert_int_equal(harness_cli(url, "demo --reset", out, sizeof(out)), 0);
    assert_int_equal(harness_db_i64(url, "SELECT COUNT(*) FROM tenants WHERE name = 'demo'"), 0);
    assert_int_equal(server_stop(&s), 0);
}

/* ======================== logs ======================== */

/* The whole file at `path` (malloc'd, NUL-terminated; "" when missing). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (f) {
        char chunk[4096];
        size_t got;
        while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
            fwrite(chunk, 1, got, m);
        fclose(f);
    }
    fclose(m);
    return buf;
}

static int occurrences(const char *path, const char *needle)
{
    char *text = slurp(path);
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    free(text);
    return n;
}

static long get_status(const struct server *s, const char *path)
{
    struct resp r;
    assert_int_equal(http_get(s, path, NULL, &r), 0);
    long st = r.status;
    resp_free(&r);
    return st;
}

static void test_log_file_reopen_and_sampling(void **state)
{
    (void)state;
    char url[600], log[512], rotated[600], env_file[600];
    harness_fresh_db(url, sizeof(url));
    tmp_path(log, sizeof(log), "iceshop.log");
    snprintf(env_file, sizeof(env_file), "ICESHOP_LOG_FILE=%s", log);
    const char *env[] = {env_file, "ICESHOP_ACCESS_LOG_SAMPLE=0", NULL};
    struct server s;
    assert_int_equal(server_start(&s, url, env), 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(get_status(&s, "/health"), 200);
    for (int i = 0; i < 3; i++)
        assert_int_equal(get_status(&s, "/no/such/page"), 404);
    /* sample 0: no successful request is logged, every error is */
    WAIT_FOR(occurrences(log, "\"status\":404") >= 3, 10000);
    assert_int_equal(occurrences(log, "\"status\":404"), 3);
    assert_int_equal(occurrences(log, "\"status\":200"), 0);
    assert_true(occurrences(log, "msg=\"listening\"") == 1);
    /* the lines went to the file, not to stderr */
    assert_false(server_log_contains(&s, "\"status\":404"));

    /* logrotate: move the file away, SIGHUP, and the server writes to a new one */
    snprintf(rotated, sizeof(rotated), "%s.1", log);
    assert_int_equal(rename(log, rotated), 0);
    assert_int_equal(kill(s.pid, SIGHUP), 0);
    WAIT_FOR(occurrences(log, "log file reopened") == 1, 10000);
    assert_int_equal(occurrences(log, "log file reopened"), 1);
    assert_int_equal(get_status(&s, "/no/such/page/after"), 404);
    WAIT_FOR(occurrences(log, "/no/such/page/after") == 1, 10000);
    assert_int_equal(occurrences(log, "/no/such/page/after"), 1);
    assert_int_equal(occurrences(rotated, "/no/such/page/after"), 0);
    assert_int_equal(occurrences(rotated, "\"status\":404"), 3);
    assert_int_equal(server_stop(&s), 0);
    assert_int_equal(occurrences(log, "msg=\"stopped\""), 1);

    /* sample 0.5: about half of the successful requests */
    harness_fresh_db(url, sizeof(url));
    tmp_path(log, sizeof(log), "half.log");
    snprintf(env_file, sizeof(env_file), "ICESHOP_LOG_FILE=%s", log);
    const char *half[] = {env_file, "ICESHOP_ACCESS_LOG_SAMPLE=0.5", NULL};
    assert_int_equal(server_start(&s, url, half), 0);
    int before = occurrences(log, "\"status\":200");
    for (int i = 0; i < 200; i++)
        assert_int_equal(get_status(&s, "/health"), 200);
    assert_int_equal(server_stop(&s), 0);
    int kept = occurrences(log, "\"status\":200") - before;
    fprintf(stderr, "sampling 0.5 kept %d of 200 access lines\n", kept);
    /* binomial(200, 0.5): outside 40..160 happens with probability below 1e-17 */
    assert_true(kept >= 40 && kept <= 160);

    /* a malformed sample is refused at start, naming the variable */
    char out[2048];
    snprintf(out, sizeof(out),
             "ICESHOP_ACCESS_LOG_SAMPLE=1.5 ICESHOP_DATABASE_URL='%s' %s migrate 2>&1", url,
             getenv("ICESHOP_BIN") ? getenv("ICESHOP_BIN") : "build/debug/iceshop");
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "%s", out);
    assert_int_equal(harness_sh(cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "ICESHOP_ACCESS_LOG_SAMPLE"));
}

#define S_WA_APP   "wa-app-secret-7f3a9c1e5b"
#define S_WA_TOKEN "EAAGwhatsapptoken9d8c7b6a5f4e"
#define S_VERIFY   "verify-token-2b4d6f8h0j"
#define S_VAPI     "vapi-secret-1q2w3e4r5t6y"
#define S_SMTP     "smtp-password-z9x8c7v6b5"
#define S_STRIPE   "whsec_stripe0a1b2c3d4e5f6a7b"
#define S_USERPW   "user-password-m1n2b3v4c5"

static long post_raw(const struct server *s, const char *path, const char *auth, const char *body,
                     const char *const *headers)
{
    struct resp r;
    assert_int_equal(
        http_req(s, "POST", path, auth, "application/json", body, strlen(body), headers, &r), 0);
    long st = r.status;
    resp_free(&r);
    return st;
}

/* Known secrets go through requests that log (at debug level); none of them is in the log. */
static void test_secrets_never_logged(void **state)
{
    (void)state;
    struct fake_whatsapp *wa = fake_whatsapp_start(S_WA_TOKEN, "1234567890");
    char url[600], log[512], env_file[600], env_api[300], env_smtp[100];
    harness_fresh_db(url, sizeof(url));
    tmp_path(log, sizeof(log), "secrets.log");
    snprintf(env_file, sizeof(env_file), "ICESHOP_LOG_FILE=%s", log);
    snprintf(env_api, sizeof(env_api), "ICESHOP_WHATSAPP_API_URL=%s", fake_whatsapp_url(wa));
    snprintf(env_smtp, sizeof(env_smtp), "ICESHOP_SMTP_URL=smtp://127.0.0.1:%d",
             harness_free_port());
    const char *env[] = {env_file,
                         "ICESHOP_LOG_LEVEL=debug",
                         "ICESHOP_WHATSAPP_APP_SECRET=" S_WA_APP,
                         "ICESHOP_WHATSAPP_VERIFY_TOKEN=" S_VERIFY,
                         "ICESHOP_VAPI_SECRET=" S_VAPI,
                         "ICESHOP_WHATSAPP_TOKEN=" S_WA_TOKEN,
                         "ICESHOP_WHATSAPP_PHONE_NUMBER_ID=1234567890",
                         env_api,
                         env_smtp,
                         "ICESHOP_SMTP_USER=mailer",
                         "ICESHOP_SMTP_PASSWORD=" S_SMTP,
                         "ICESHOP_JOB_BACKOFF_MS=50",
                         NULL};
    struct server s;
    assert_int_equal(server_start(&s, url, env), 0);
    char out[4096], cmd[1200];

    /* the admin key, a wrong key, a key on an unknown path */
    struct resp r;
    assert_int_equal(http_get(&s, "/health/detailed", ADMIN, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(http_get(&s, "/api/jobs", "isk_0123456789ab_wrongsecretvalue", &r), 0);
    assert_int_equal(r.status, 401);
    resp_free(&r);
    assert_int_equal(http_get(&s, "/no/such", ADMIN, &r), 0);
    resp_free(&r);

    /* a user: its password at login, its token in a header and in ?access_token= */
    snprintf(cmd, sizeof(cmd),
             "ICESHOP_PASSWORD='%s' ICESHOP_DATABASE_URL='%s' %s users create --tenant default "
             "--email ops@example.com --role admin 2>&1",
             S_USERPW, url, getenv("ICESHOP_BIN") ? getenv("ICESHOP_BIN") : "build/debug/iceshop");
    assert_int_equal(harness_sh(cmd, out, sizeof(out)), 0);
    assert_int_equal(post_raw(&s, "/api/auth/login", NULL,
                              "{\"email\":\"ops@example.com\",\"password\":\"wrong-" S_USERPW "\"}",
                              NULL),
                     401);
    assert_int_equal(http_post_json(&s, "/api/auth/login", NULL,
                                    "{\"email\":\"ops@example.com\",\"password\":\"" S_USERPW "\"}",
                                    &r),
                     0);
    assert_int_equal(r.status, 200);
    char token[1024];
    snprintf(token, sizeof(token), "%s",
             json_string_value(json_object_get(r.json, "token"))
                 ? json_string_value(json_object_get(r.json, "token"))
                 : "");
    resp_free(&r);
    assert_true(strlen(token) > 20);
    assert_int_equal(http_get(&s, "/api/jobs", token, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    char path[1200];
    snprintf(path, sizeof(path), "/api/jobs?access_token=%s", token);
    assert_int_equal(http_get(&s, path, NULL, &r), 0);
    resp_free(&r);

    /* the WhatsApp handshake, right and wrong */
    assert_int_equal(
        get_status(&s, "/api/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=" S_VERIFY
                       "&hub.challenge=12345"),
        200);
    assert_int_equal(
        get_status(&s, "/api/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=x" S_VERIFY
                       "&hub.challenge=12345"),
        403);

    /* webhooks: VAPI with the right and a wrong secret, Meta with a forged signature */
    const char *vapi = "{\"event_type\":\"message\",\"channel\":\"whatsapp\",\"from\":"
                       "\"+999000111222\",\"text\":\"Latte istiyorum\",\"metadata\":{}}";
    const char *good[] = {"x-vapi-secret: " S_VAPI, NULL};
    const char *bad[] = {"x-vapi-secret: not-" S_VAPI, NULL};
    long st = post_raw(&s, "/api/whatsapp/webhook", NULL, vapi, good);
    assert_true(st == 200 || st == 202);
    assert_int_equal(post_raw(&s, "/api/whatsapp/webhook", NULL, vapi, bad), 401);
    char sig[SEC_HMAC_SHA256_HEX_SIZE], header[128];
    const char *meta = "{\"object\":\"whatsapp_business_account\",\"entry\":[]}";
    sec_hmac_sha256_hex(sig, "another-key", 11, meta, strlen(meta));
    snprintf(header, sizeof(header), "X-Hub-Signature-256: sha256=%s", sig);
    const char *forged[] = {header, NULL};
    assert_int_equal(post_raw(&s, "/api/whatsapp/webhook", NULL, meta, forged), 401);

    /* a provider's webhook secret, and a webhook signed with another */
    struct resp pr;
    const char *stripe_cfg = "{\"webhook_secret\":\"" S_STRIPE "\"}";
    assert_int_equal(http_req(&s, "PUT", "/api/integrations/stripe", ADMIN, "application/json",
                              stripe_cfg, strlen(stripe_cfg), NULL, &pr),
                     0);
    assert_int_equal(pr.status, 200);
    resp_free(&pr);
    const char *bad_stripe[] = {"Stripe-Signature: t=1,v1=00", NULL};
    assert_int_equal(post_raw(&s, "/api/webhooks/stripe", NULL, "{\"id\":\"evt_1\"}", bad_stripe),
                     401);

    /* an outbound webhook endpoint: its signing secret is answered once */
    assert_int_equal(http_post_json(&s, "/api/webhook-endpoints", ADMIN,
                                    "{\"url\":\"http://127.0.0.1:9/hook\",\"events\":[\"window."
                                    "created\"]}",
                                    &r),
                     0);
    assert_int_equal(r.status, 201);
    char endpoint_secret[256];
    snprintf(endpoint_secret, sizeof(endpoint_secret), "%s",
             json_string_value(json_object_get(r.json, "secret")));
    resp_free(&r);
    assert_true(strlen(endpoint_secret) > 10);

    /* outbound: a WhatsApp message through the Cloud API (refused once with 401), an email
     * to an SMTP server that is not there */
    register_buyer(&s, ADMIN, "B7");
    fake_whatsapp_fail_next_status(wa, 190, 401, 1);
    assert_int_equal(post_raw(&s, "/api/whatsapp/test-notification", ADMIN,
                              "{\"to\":\"B7\",\"message\":\"merhaba\"}", NULL),
                     202);
    WAIT_FOR(fake_whatsapp_accepted(wa) >= 1, 20000);
    assert_true(fake_whatsapp_accepted(wa) >= 1);
    assert_int_equal(http_post_json(&s, "/api/messages/email", ADMIN,
                                    "{\"to\":\"someone@example.com\",\"subject\":\"hi\","
                                    "\"text\":\"x\"}",
                                    &r),
                     0);
    assert_int_equal(r.status, 202);
    long long mail = (long long)json_integer_value(json_object_get(r.json, "id"));
    resp_free(&r);
    char sql[300];
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM jobs WHERE name = 'notify.deliver' AND attempts >= 2 AND "
             "payload LIKE '%%\"message\":%lld%%'",
             mail);
    WAIT_FOR(harness_db_i64(url, sql) == 1, 20000);
    assert_int_equal(harness_db_i64(url, sql), 1);
    assert_int_equal(server_stop(&s), 0);
    fake_whatsapp_stop(wa);

    /* the log saw all of this (and is not empty) ... */
    assert_true(occurrences(log, "\"type\":\"access\"") >= 15);
    assert_true(occurrences(log, "/api/whatsapp/webhook") >= 4);
    /* ... and none of the secrets */
    const char *secrets[] = {ADMIN,           S_WA_APP, S_WA_TOKEN,        S_VERIFY,
                             S_VAPI,          S_SMTP,   S_STRIPE,          S_USERPW,
                             endpoint_secret, token,    "wrongsecretvalue"};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        if (occurrences(log, secrets[i]))
            fail_msg("secret #%zu (%.6s...) appears in the log %s", i, secrets[i], log);
        if (server_log_contains(&s, secrets[i]))
            fail_msg("secret #%zu (%.6s...) appears on stderr", i, secrets[i]);
    }
}

/* ======================== reverse proxies and IPv6 ======================== */

/* GET an unknown path (an anonymous request, counted per client address) with X-Forwarded-For. */
static long get_forwarded(const struct server *s, const char *xff)
{
    char h[200];
    snprintf(h, sizeof(h), "X-Forwarded-For: %s", xff);
    const char *headers[] = {h, NULL};
    struct resp r;
    assert_int_equal(http_req(s, "GET", "/no/such/thing", NULL, NULL, NULL, 0, headers, &r), 0);
    long st = r.status;
    resp_free(&r);
    return st;
}

static void test_forwarded_for_only_from_trusted_proxies(void **state)
{
    (void)state;
    char url[600];
    struct server s;
    /* no trusted proxy: a client cannot pick its address, nor escape the per-address limit */
    harness_fresh_db(url, sizeof(url));
    const char *plain[] = {"ICESHOP_RATE_LIMIT_IP=1", NULL};
    assert_int_equal(server_start(&s, url, plain), 0);
    int refused = 0;
    for (int i = 0; i < 10; i++) {
        char xff[64];
        snprintf(xff, sizeof(xff), "203.0.113.%d", i + 1);
        refused += get_forwarded(&s, xff) == 429;
    }
    assert_true(refused >= 1);
    assert_int_equal(server_stop(&s), 0);
    assert_false(server_log_contains(&s, "\"ip\":\"203.0.113."));
    assert_true(server_log_contains(&s, "\"ip\":\"127.0.0.1\""));

    /* loopback is a trusted proxy: the right-most untrusted address is the client */
    harness_fresh_db(url, sizeof(url));
    const char *proxied[] = {"ICESHOP_RATE_LIMIT_IP=1", "ICESHOP_TRUSTED_PROXIES=127.0.0.1, ::1",
                             NULL};
    assert_int_equal(server_start(&s, url, proxied), 0);
    refused = 0;
    for (int i = 0; i < 10; i++)
        refused += get_forwarded(&s, "198.51.100.1, 203.0.113.7") == 429;
    assert_true(refused >= 1); /* one client, however the proxy chain starts */
    /* another client behind the same proxy has its own allowance */
    assert_int_equal(get_forwarded(&s, "203.0.113.8"), 404);
    /* a trusted hop on the right is skipped */
    assert_int_equal(get_forwarded(&s, "203.0.113.9, 127.0.0.1"), 404);
    assert_int_equal(server_stop(&s), 0);
    assert_true(server_log_contains(&s, "\"ip\":\"203.0.113.7\""));
    assert_true(server_log_contains(&s, "\"ip\":\"203.0.113.8\""));
    assert_true(server_log_contains(&s, "\"ip\":\"203.0.113.9\""));
    assert_false(server_log_contains(&s, "\"ip\":\"198.51.100.1\""));

    /* a malformed list is refused at start, naming the variable */
    char cmd[1200], out[2048];
    snprintf(cmd, sizeof(cmd),
             "ICESHOP_TRUSTED_PROXIES='10.0.0.1/8' ICESHOP_DATABASE_URL='%s' %s migrate 2>&1", url,
             getenv("ICESHOP_BIN") ? getenv("ICESHOP_BIN") : "build/debug/iceshop");
    assert_int_equal(harness_sh(cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "ICESHOP_TRUSTED_PROXIES"));
}

static bool have_ipv6_loopback(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = in6addr_loopback;
    bool ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

static void test_listens_on_ipv6(void **state)
{
    (void)state;
    if (!have_ipv6_loopback()) {
        fprintf(stderr, "skip: this machine has no IPv6 loopback (::1), so ICESHOP_LISTEN=[::] "
                        "cannot be checked here\n");
        skip();
        return;
    }
    char url[600];
    harness_fresh_db(url, sizeof(url));
    const char *env[] = {"HARNESS_LISTEN_HOST=[::]", NULL};
    struct server s;
    /* server_start waits on 127.0.0.1: the dual-stack socket answers IPv4 too */
    assert_int_equal(server_start(&s, url, env), 0);
    struct server v6 = s;
    snprintf(v6.base, sizeof(v6.base), "http://[::1]:%d", s.port);
    struct resp r;
    assert_int_equal(http_get(&v6, "/health", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(http_get(&s, "/health", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(server_stop(&s), 0);
    assert_true(server_log_contains(&s, "\"ip\":\"::1\""));
    /* IPv4 clients of the dual-stack socket are logged as IPv4, not ::ffff:127.0.0.1 */
    assert_true(server_log_contains(&s, "\"ip\":\"127.0.0.1\""));
    assert_true(server_log_contains(&s, "url=\"http://[::]:"));
}

/* ======================== doctor ======================== */

static int doctor(const char *env, const char *url, char *out, size_t n)
{
    char cmd[2048];
    /* only the variables given: the runner's own ICESHOP_* settings stay out */
    snprintf(cmd, sizeof(cmd),
             "env $(env | sed -n 's/^\\(ICESHOP_[A-Z0-9_]*\\)=.*/-u \\1/p') %s "
             "ICESHOP_DATABASE_URL='%s' %s doctor 2>&1",
             env, url, getenv("ICESHOP_BIN") ? getenv("ICESHOP_BIN") : "build/debug/iceshop");
    return harness_sh(cmd, out, n);
}

static void test_doctor(void **state)
{
    (void)state;
    char url[600], out[8192];
    harness_fresh_db(url, sizeof(url));
    assert_int_equal(harness_cli(url, "migrate", out, sizeof(out)), 0);
    const char *good = "ICESHOP_SECRET_KEY="
                       "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff "
                       "ICESHOP_LISTEN=[::]:8080 ICESHOP_PUBLIC_URL=https://shop.example.com "
                       "ICESHOP_SMTP_URL=smtps://mail.example.com:465 ICESHOP_SMTP_USER=m "
                       "ICESHOP_SMTP_PASSWORD=p";
    int rc = doctor(good, url, out, sizeof(out));
    if (rc != 0)
        fail_msg("doctor on a good configuration: exit %d\n%s", rc, out);
    assert_non_null(strstr(out, "doctor: 0 to fix, 0 warnings"));
    assert_non_null(strstr(out, "schema version"));

    const char *broken = "ICESHOP_SECRET_KEY=short ICESHOP_WORKRES=2 ICESHOP_SMTP_USER=m "
                         "ICESHOP_LISTEN=localhost:8080";
    assert_int_equal(doctor(broken, url, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "did you mean ICESHOP_WORKERS"));
    assert_non_null(strstr(out, "ICESHOP_SMTP_PASSWORD"));
    assert_non_null(strstr(out, "ICESHOP_LISTEN host localhost"));
    assert_non_null(strstr(out, "ICESHOP_SECRET_KEY"));
    assert_non_null(strstr(out, "doctor: 3 to fix"));
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backup_under_load_and_restore),
        cmocka_unit_test(test_backup_takes_the_schema_as_found),
        cmocka_unit_test(test_restore_refuses_what_is_not_iceshop),
        cmocka_unit_test(test_reset_tenant),
        cmocka_unit_test(test_log_file_reopen_and_sampling),
        cmocka_unit_test(test_secrets_never_logged),
        cmocka_unit_test(test_forwarded_for_only_from_trusted_proxies),
        cmocka_unit_test(test_listens_on_ipv6),
        cmocka_unit_test(test_doctor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
