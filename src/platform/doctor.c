/* SPDX-License-Identifier: MIT */
/*
 * The installation checks of `iceshop doctor` (see doctor.h). Each check adds lines to the
 * report; a failure says what to change. Tests: tests/unit/platform/test_doctor.c.
 */
#include "platform/doctor.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/keyfile.h"
#include "core/str.h"
#include "db/db.h"
#include "db/migrate.h"
#include "platform/dblock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

const char *const doctor_known_vars[] = {
    /* server configuration (core/config.c) */
    "ICESHOP_LISTEN", "ICESHOP_DATABASE_URL", "ICESHOP_SQLITE_SYNC", "ICESHOP_GROUP_COMMIT",
    "ICESHOP_WORKERS", "ICESHOP_HTTP_THREADS", "ICESHOP_DB_POOL", "ICESHOP_SCHEDULER",
    "ICESHOP_ADMIN_KEY", "ICESHOP_LOG_LEVEL", "ICESHOP_LOG_FILE", "ICESHOP_ACCESS_LOG",
    "ICESHOP_ACCESS_LOG_SAMPLE", "ICESHOP_MAX_CONNECTIONS", "ICESHOP_MAX_CONNECTIONS_PER_IP",
    "ICESHOP_IDLE_TIMEOUT", "ICESHOP_HEADER_TIMEOUT", "ICESHOP_BODY_MIN_RATE",
    "ICESHOP_LOGIN_FREE_FAILURES", "ICESHOP_RATE_LIMIT_KEY", "ICESHOP_RATE_LIMIT_ADMIN",
    "ICESHOP_RATE_LIMIT_IP", "ICESHOP_SHUTDOWN_GRACE", "ICESHOP_TOKEN_TTL", "ICESHOP_JOB_LEASE",
    "ICESHOP_JOB_BACKOFF_MS", "ICESHOP_JOB_RETENTION_DAYS", "ICESHOP_MESSAGE_RETENTION_DAYS",
    "ICESHOP_INBOUND_RETENTION_DAYS", "ICESHOP_WEBHOOK_RETRY_SCALE", "ICESHOP_TEST_JOBS",
    "ICESHOP_PUBLIC_URL", "ICESHOP_TRUSTED_PROXIES", "ICESHOP_SECRET_KEY",
    "ICESHOP_SECRET_KEY_FILE", "ICESHOP_ASSETS_DIR", "ICESHOP_PASSWORD",
    /* messaging */
    "ICESHOP_WHATSAPP_APP_SECRET", "ICESHOP_WHATSAPP_VERIFY_TOKEN", "ICESHOP_WHATSAPP_TOKEN",
    "ICESHOP_WHATSAPP_PHONE_NUMBER_ID", "ICESHOP_WHATSAPP_API_URL", "ICESHOP_WHATSAPP_TEMPLATE_",
    "ICESHOP_WHATSAPP_RATE", "ICESHOP_WHATSAPP_RECIPIENT_GAP_MS", "ICESHOP_QUIET_HOURS",
    "ICESHOP_TZ_OFFSET_MIN", "ICESHOP_VAPI_SECRET", "ICESHOP_VAPI_URL", "ICESHOP_VAPI_KEY",
    "ICESHOP_SMTP_URL", "ICESHOP_SMTP_FROM", "ICESHOP_SMTP_USER", "ICESHOP_SMTP_PASSWORD",
    "ICESHOP_SMTP_REQUIRE_TLS",
    /* the language model the dialog may ask (net/llm.h) */
    "ICESHOP_LLM_URL", "ICESHOP_LLM_KEY", "ICESHOP_LLM_MODEL", "ICESHOP_LLM_TIMEOUT_MS",
    /* uploaded files */
    "ICESHOP_STORAGE_URL", "ICESHOP_STORAGE_STAGING", "ICESHOP_S3_ACCESS_KEY",
    "ICESHOP_S3_SECRET_KEY", "ICESHOP_FILES_MAX_BYTES", "ICESHOP_PAYMENTS_RECONCILE_INTERVAL",
    "ICESHOP_PAYMENTS_PENDING_AFTER",
    /* payment providers */
    "ICESHOP_STRIPE_API_URL", "ICESHOP_STRIPE_SECRET_KEY", "ICESHOP_STRIPE_WEBHOOK_SECRET",
    "ICESHOP_IYZICO_API_URL", "ICESHOP_IYZICO_API_KEY", "ICESHOP_IYZICO_SECRET_KEY",
    /* scripts/run.sh and the test runner */
    "ICESHOP_DEMO", "ICESHOP_DEMO_ARGS", "ICESHOP_BIN", "ICESHOP_OPENAPI_CHECK", NULL};

bool doctor_var_known(const char *name)
{
    for (size_t i = 0; doctor_known_vars[i]; i++) {
        const char *k = doctor_known_vars[i];
        size_t n = strlen(k);
        if (k[n - 1] == '_' ? strncmp(name, k, n) == 0 && name[n] : strcmp(name, k) == 0)
            return true;
    }
    return false;
}

static void add(struct doctor_report *r, enum doctor_level level, const char *area, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

static void add(struct doctor_report *r, enum doctor_level level, const char *area, const char *fmt,
                ...)
{
    if (level == DOCTOR_FAIL)
        r->fails++;
    else if (level == DOCTOR_WARN)
        r->warns++;
    if (r->n == DOCTOR_MAX_ITEMS)
        return;
    struct doctor_item *it = &r->items[r->n++];
    it->level = level;
    str_copy(it->area, sizeof(it->area), area);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->msg, sizeof(it->msg), fmt, ap);
    va_end(ap);
    /* one line per finding, whatever a library's message holds */
    for (char *p = it->msg; *p; p++) {
        if (*p == '\n' || *p == '\t' || *p == '\r')
            *p = ' ';
    }
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* Edit distance of two short names, capped at 3 (enough to suggest a near miss). */
static int distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63 || (la > lb ? la - lb : lb - la) > 3)
        return 3;
    int prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb] < 3 ? prev[lb] : 3;
}

static void check_names(const struct doctor_options *o, struct doctor_report *r)
{
    int seen = 0;
    for (size_t i = 0; o->envp && o->envp[i]; i++)
        seen += str_has_prefix(o->envp[i], "ICESHOP_");
    add(r, DOCTOR_OK, "config", "%d ICESHOP_* variables set", seen);
    for (size_t i = 0; o->envp && o->envp[i]; i++) {
        const char *kv = o->envp[i];
        if (!str_has_prefix(kv, "ICESHOP_"))
            continue;
        char name[128];
        size_t n = strcspn(kv, "=");
        snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1), kv);
        if (doctor_var_known(name))
            continue;
        const char *best = NULL;
        int best_d = 3;
        for (size_t k = 0; doctor_known_vars[k]; k++) {
            int d = distance(name, doctor_known_vars[k]);
            if (d < best_d) {
                best_d = d;
                best = doctor_known_vars[k];
            }
        }
        if (best)
            add(r, DOCTOR_WARN, "config", "%s is not a variable iceshop reads: did you mean %s?",
                name, best);
        else
            add(r, DOCTOR_WARN, "config",
                "%s is not a variable iceshop reads (misspelt, or from another version?); see the "
                "configuration table in README.md",
                name);
    }
}

/* What config_load accepts but the server or its users would still trip over. */
static void check_values(const struct config *cfg, struct doctor_report *r)
{
    const char *host = cfg->listen_host;
    size_t hl = strlen(host);
    unsigned char buf[16];
    char v6[64];
    bool v6ok = hl >= 2 && host[0] == '[' && host[hl - 1] == ']' &&
                snprintf(v6, sizeof(v6), "%.*s", (int)(hl - 2), host + 1) > 0 &&
                inet_pton(AF_INET6, v6, buf) == 1;
    if (!v6ok && inet_pton(AF_INET, host, buf) != 1)
        add(r, DOCTOR_FAIL, "config",
            "ICESHOP_LISTEN host %s is not an IP address: use e.g. 127.0.0.1:8080, 0.0.0.0:8080 "
            "or [::]:8080",
            host);
    if (!str_has_prefix(cfg->public_url, "http://") && !str_has_prefix(cfg->public_url, "https://"))
        add(r, DOCTOR_FAIL, "config",
            "ICESHOP_PUBLIC_URL must start with https:// (or http://), got \"%s\"",
            cfg->public_url);
    else if (env("ICESHOP_PUBLIC_URL") && str_has_prefix(cfg->public_url, "http://") &&
             !strstr(cfg->public_url, "://127.") && !strstr(cfg->public_url, "://localhost") &&
             !strstr(cfg->public_url, "://[::1]"))
        add(r, DOCTOR_WARN, "config",
            "ICESHOP_PUBLIC_URL is plain http (%s): links people open should be https",
            cfg->public_url);
    if (!env("ICESHOP_PUBLIC_URL") && !str_has_prefix(cfg->listen_host, "127.") &&
        strcmp(cfg->listen_host, "[::1]") != 0)
        add(r, DOCTOR_WARN, "config",
            "ICESHOP_PUBLIC_URL is not set: links in messages will point to %s; set it to the "
            "address people reach",
            cfg->public_url);
    for (size_t i = 0; i < cfg->trusted_proxies.n; i++) {
        if (cfg->trusted_proxies.items[i].bits == 0)
            add(r, DOCTOR_FAIL, "config",
                "ICESHOP_TRUSTED_PROXIES trusts every address (a /0 block): any client could "
                "choose its address with X-Forwarded-For; list only your proxies");
    }
    if (cfg->test_jobs)
        add(r, DOCTOR_WARN, "config", "ICESHOP_TEST_JOBS=1 is for tests only; unset it");
    if (env("ICESHOP_WEBHOOK_RETRY_SCALE"))
        add(r, DOCTOR_WARN, "config", "ICESHOP_WEBHOOK_RETRY_SCALE is for tests only; unset it");
}

static void need_both(struct doctor_report *r, const char *a, const char *b, const char *what)
{
    if (!!env(a) != !!env(b))
        add(r, DOCTOR_FAIL, "secrets", "%s is set but %s is not: %s needs both", env(a) ? a : b,
            env(a) ? b : a, what);
}

static void check_secrets(const struct config *cfg, struct doctor_report *r)
{
    int before = r->fails;
    need_both(r, "ICESHOP_WHATSAPP_TOKEN", "ICESHOP_WHATSAPP_PHONE_NUMBER_ID",
              "sending through the WhatsApp Cloud API");
    if (env("ICESHOP_WHATSAPP_TOKEN") && !cfg->whatsapp_app_secret[0])
        add(r, DOCTOR_WARN, "secrets",
            "WhatsApp sending is configured but ICESHOP_WHATSAPP_APP_SECRET is not: incoming "
            "WhatsApp webhooks will be refused");
    if (cfg->whatsapp_app_secret[0] && !cfg->whatsapp_verify_token[0])
        add(r, DOCTOR_WARN, "secrets",
            "ICESHOP_WHATSAPP_VERIFY_TOKEN is not set: Meta's webhook verification handshake "
            "will be refused");
    need_both(r, "ICESHOP_VAPI_URL", "ICESHOP_VAPI_KEY", "sending through VAPI");
    need_both(r, "ICESHOP_SMTP_USER", "ICESHOP_SMTP_PASSWORD", "SMTP AUTH");
    const char *smtp = env("ICESHOP_SMTP_URL");
    if (smtp && !str_has_prefix(smtp, "smtp://") && !str_has_prefix(smtp, "smtps://"))
        add(r, DOCTOR_FAIL, "secrets",
            "ICESHOP_SMTP_URL must be smtp://host:587 or "
            "smtps://host:465");
    if (env("ICESHOP_SMTP_USER") && smtp && str_has_prefix(smtp, "smtp://") &&
        !(env("ICESHOP_SMTP_REQUIRE_TLS") && strcmp(env("ICESHOP_SMTP_REQUIRE_TLS"), "1") == 0))
        add(r, DOCTOR_WARN, "secrets",
            "SMTP credentials over smtp:// without ICESHOP_SMTP_REQUIRE_TLS=1 may be sent "
            "unencrypted when the server offers no STARTTLS");

    /* the key that seals provider secrets */
    unsigned char key[SEC_BOX_KEY_LEN];
    struct err e;
    err_init(&e);
    char path[600];
    if (cfg->secret_key_file[0])
        snprintf(path, sizeof(path), "%s", cfg->secret_key_file);
    else
        keyfile_default_path(cfg->database_url, path, sizeof(path));
    struct stat st;
    bool created = false;
    if (cfg->secret_key[0]) {
        if (keyfile_load(cfg->secret_key, path, key, &created, &e))
            add(r, DOCTOR_FAIL, "secrets", "%s", e.msg);
        else
            add(r, DOCTOR_OK, "secrets", "secret key from ICESHOP_SECRET_KEY");
    } else if (stat(path, &st)) {
        add(r, DOCTOR_WARN, "secrets",
            "no secret key file at %s yet: iceshop serve creates it; back it up with the "
            "database%s",
            path,
            str_has_prefix(cfg->database_url, "sqlite://")
                ? ""
                : " (with several machines on one PostgreSQL, set the same ICESHOP_SECRET_KEY "
                  "on each instead)");
    } else if (keyfile_load("", path, key, &created, &e)) {
        add(r, DOCTOR_FAIL, "secrets", "%s", e.msg);
    } else {
        add(r, DOCTOR_OK, "secrets", "secret key file %s", path);
    }
    explicit_bzero(key, sizeof(key));
    if (r->fails == before)
        add(r, DOCTOR_OK, "secrets", "every configured provider has the settings it needs");
}

static void check_disk(const char *dir, const struct doctor_options *o, struct doctor_report *r)
{
    struct statvfs vfs;
    if (statvfs(dir, &vfs)) {
        add(r, DOCTOR_FAIL, "disk", "cannot inspect %s: %s", dir, strerror(errno));
        return;
    }
    uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    uint64_t total = (uint64_t)vfs.f_blocks * vfs.f_frsize;
    double mb = (double)avail / (1024.0 * 1024.0);
    if (avail < o->min_free_bytes)
        add(r, DOCTOR_FAIL, "disk",
            "only %.0f MB free in %s: SQLite needs room for its WAL and backups; free space or "
            "move the database",
            mb, dir);
    else if (total && avail < total / 20)
        add(r, DOCTOR_WARN, "disk", "%.0f MB free in %s (under 5 %%)", mb, dir);
    else
        add(r, DOCTOR_OK, "disk", "%.0f MB free in %s", mb, dir);
}

/* The newest row time the database holds, to catch a clock that went back. */
static void check_db_clock(struct db_conn *c, const struct doctor_options *o,
                           struct doctor_report *r)
{
    struct err e;
    err_init(&e);
    struct db_stmt *s;
    if (db_backend(db_conn_db(c)) == DB_POSTGRES && !db_prepare(c, &s, "SELECT now()", &e)) {
        if (db_step(s, &e) == DB_ROW) {
            int64_t skew = db_col_time(s, 0) - o->now_ms;
            if (skew > 5000 || skew < -5000)
                add(r, DOCTOR_WARN, "clock",
                    "this machine's clock and PostgreSQL's differ by %.1f s: run NTP "
                    "(systemd-timesyncd or chrony) on both",
                    (double)skew / 1000.0);
        }
        db_stmt_done(s);
    }
    err_init(&e);
    if (!db_prepare(c, &s, "SELECT MAX(created_at) FROM jobs", &e)) {
        if (db_step(s, &e) == DB_ROW && !db_col_is_null(s, 0)) {
            int64_t newest = db_col_time(s, 0);
            if (newest > o->now_ms + 60000)
                add(r, DOCTOR_FAIL, "clock",
                    "the database holds a job created %.0f s in the future: this machine's clock "
                    "is behind (or was set back); fix the time before serving",
                    (double)(newest - o->now_ms) / 1000.0);
        }
        db_stmt_done(s);
    }
}

static void check_database(const struct config *cfg, const struct doctor_options *o,
                           struct doctor_report *r)
{
    char path[1024];
    bool sqlite = dblock_sqlite_path(cfg->database_url, path, sizeof(path));
    char dir[1024] = ".";
    if (sqlite) {
        char tmp[1024];
        snprintf(tmp, sizeof(tmp), "%s", path);
        snprintf(dir, sizeof(dir), "%s", dirname(tmp));
        struct stat st;
        if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
            add(r, DOCTOR_FAIL, "database",
                "the directory %s of the SQLite database does not exist: create it (owned by the "
                "user that runs iceshop)",
                dir);
            return;
        }
        if (access(dir, W_OK))
            add(r, DOCTOR_FAIL, "database",
                "the directory %s is not writable by this user: SQLite needs it for its WAL and "
                "lock files",
                dir);
        check_disk(dir, o, r);
        if (stat(path, &st)) {
            add(r, DOCTOR_WARN, "database",
                "no database at %s yet: iceshop migrate (or serve) creates it", path);
            return;
        }
    }
    struct db_options dopt = {.pool_size = 1, .busy_timeout_ms = 5000};
    struct db *db = NULL;
    struct err e;
    err_init(&e);
    if (db_open(&db, cfg->database_url, &dopt, &e)) {
        add(r, DOCTOR_FAIL, "database", "cannot open the database: %s", e.msg);
        return;
    }
    struct db_conn *c = NULL;
    int version = 0;
    /* the schema version takes the pool's one connection for itself: ask it first */
    if (db_schema_version(db, &version, &e) || db_conn_acquire(db, &c, &e)) {
        add(r, DOCTOR_FAIL, "database",
            "cannot reach the database: %s (check ICESHOP_DATABASE_URL, the server, the network "
            "and the credentials)",
            e.msg);
        db_conn_release(c);
        db_close(db);
        return;
    }
    int latest = db_migrate_latest(db);
    if (version < latest)
        add(r, DOCTOR_WARN, "database",
            "%s database at schema version %d, this binary has migrations up to %d: run iceshop "
            "migrate (serve also applies them)",
            db_backend_name(db), version, latest);
    else if (version > latest)
        add(r, DOCTOR_FAIL, "database",
            "%s database at schema version %d, newer than this binary (%d): run the iceshop that "
            "migrated it",
            db_backend_name(db), version, latest);
    else
        add(r, DOCTOR_OK, "database", "%s database reachable, schema version %d (current)",
            db_backend_name(db), version);
    if (version > 0)
        check_db_clock(c, o, r);
    db_conn_release(c);
    db_close(db);
}

/* 2026-01-01T00:00:00Z: no clock that runs this binary reads earlier. */
#define CLOCK_FLOOR_MS 1767225600000LL
/* 2100-01-01T00:00:00Z */
#define CLOCK_CEILING_MS 4102444800000LL

static void check_clock(const struct doctor_options *o, struct doctor_report *r)
{
    char ts[CLOCK_ISO_LEN];
    clock_format_iso(o->now_ms, ts);
    if (o->now_ms < CLOCK_FLOOR_MS || o->now_ms > CLOCK_CEILING_MS)
        add(r, DOCTOR_FAIL, "clock",
            "the system clock reads %s, which cannot be right: set the time (NTP) before "
            "serving; schedules, tokens and webhook signatures depend on it",
            ts);
    else
        add(r, DOCTOR_OK, "clock", "system clock %s (UTC)", ts);
}

void doctor_run(const struct doctor_options *o, struct doctor_report *r)
{
    memset(r, 0, sizeof(*r));
    check_names(o, r);
    struct config cfg;
    struct err e;
    err_init(&e);
    if (config_load(&cfg, &e)) {
        add(r, DOCTOR_FAIL, "config", "%s", e.msg);
        check_clock(o, r);
        return; /* the rest depends on a configuration that loads */
    }
    check_values(&cfg, r);
    check_secrets(&cfg, r);
    check_clock(o, r);
    check_database(&cfg, o, r);
    explicit_bzero(&cfg, sizeof(cfg));
}
