/* SPDX-License-Identifier: MIT */
/* Integration-test support (see harness.h). */
#include "support/harness.h"
#include "db/db.h"
#include "core/clock.h"
#include "core/crypto.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

const char *harness_backend(void)
{
    const char *b = getenv("TEST_BACKEND");
    return b && strcmp(b, "pg") == 0 ? "pg" : "sqlite";
}

bool harness_backend_available(void)
{
    if (strcmp(harness_backend(), "pg") == 0 && !getenv("TEST_PG_DSN")) {
        printf("skip: TEST_BACKEND=pg but TEST_PG_DSN is not set\n");
        return false;
    }
    return true;
}

void harness_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int seq;

void harness_fresh_db(char *url, size_t n)
{
    char name[64];
    snprintf(name, sizeof(name), "t%d_%d_%ld", (int)getpid(), seq++, (long)time(NULL) % 100000);
    if (strcmp(harness_backend(), "sqlite") == 0) {
        const char *dir = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
        snprintf(url, n, "sqlite://%s/iceshop-%s.db", dir, name);
        return;
    }
    const char *dsn = getenv("TEST_PG_DSN");
    struct err e;
    err_init(&e);
    struct db *db;
    struct db_conn *c;
    char sql[128];
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    if (db_open(&db, dsn, NULL, &e) || db_conn_acquire(db, &c, &e)) {
        fprintf(stderr, "harness: cannot reach %s: %s\n", dsn, e.msg);
        abort();
    }
    if (db_exec(c, sql, &e)) {
        fprintf(stderr, "harness: %s: %s\n", sql, e.msg);
        abort();
    }
    db_conn_release(c);
    db_close(db);
    /* Replace the database name (the path after the last '/') of the DSN. */
    const char *slash = strrchr(dsn, '/');
    const char *q = strchr(dsn, '?');
    size_t keep = slash ? (size_t)(slash - dsn) : strlen(dsn);
    snprintf(url, n, "%.*s/%s%s", (int)keep, dsn, name, q ? q : "");
}

/*
 * A port free on every address: asked of a dual-stack socket on [::] (so a server may listen on
 * [::] too, HARNESS_LISTEN_HOST), or of 127.0.0.1 on a machine without IPv6. A port the kernel
 * gives for 127.0.0.1 alone can be in use on [::] by another process.
 */
int harness_free_port(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd >= 0) {
        int off = 0;
        struct sockaddr_in6 sa6;
        memset(&sa6, 0, sizeof(sa6));
        sa6.sin6_family = AF_INET6;
        sa6.sin6_addr = in6addr_any;
        socklen_t len6 = sizeof(sa6);
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) == 0 &&
            bind(fd, (struct sockaddr *)&sa6, sizeof(sa6)) == 0 &&
            getsockname(fd, (struct sockaddr *)&sa6, &len6) == 0) {
            int port = ntohs(sa6.sin6_port);
            close(fd);
            return port;
        }
        close(fd);
    }
    fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    socklen_t len = sizeof(sa);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
        getsockname(fd, (struct sockaddr *)&sa, &len)) {
        perror("harness: free port");
        abort();
    }
    int port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/* Servers still running when the test process exits (a failed assertion) are killed. */
static pid_t live[16];

static void kill_leftovers(void)
{
    for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
        if (live[i] > 0) {
            kill(live[i], SIGKILL);
            waitpid(live[i], NULL, 0);
        }
    }
}

static void track(pid_t pid, pid_t replace)
{
    static bool registered;
    if (!registered) {
        atexit(kill_leftovers);
        registered = true;
    }
    for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
        if (live[i] == replace) {
            live[i] = pid;
            return;
        }
    }
}

static void print_log(const struct server *s)
{
    FILE *f = fopen(s->log_path, "r");
    if (!f)
        return;
    char line[1024];
    fprintf(stderr, "---- server log %s ----\n", s->log_path);
    while (fgets(line, sizeof(line), f))
        fputs(line, stderr);
    fclose(f);
}

bool server_log_contains(const struct server *s, const char *needle)
{
    FILE *f = fopen(s->log_path, "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

int server_start(struct server *s, const char *db_url_in, const char *const *extra_env)
{
    char db_url[sizeof(s->db_url)]; /* may point into *s, which is reset below */
    snprintf(db_url, sizeof(db_url), "%s", db_url_in);
    memset(s, 0, sizeof(*s));
    s->port = harness_free_port();
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
    snprintf(s->db_url, sizeof(s->db_url), "%s", db_url);
    const char *dir = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
    snprintf(s->log_path, sizeof(s->log_path), "%s/server-%d-%d.log", dir, (int)getpid(), s->port);
    const char *bin = getenv("ICESHOP_BIN") ? getenv("ICESHOP_BIN") : "build/debug/iceshop";
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char listen[64], dburl[600];
        snprintf(listen, sizeof(listen), "127.0.0.1:%d", s->port);
        snprintf(dburl, sizeof(dburl), "%s", db_url);
        setenv("ICESHOP_LISTEN", listen, 1);
        setenv("ICESHOP_DATABASE_URL", dburl, 1);
        setenv("ICESHOP_ADMIN_KEY", HARNESS_ADMIN_KEY, 1);
        setenv("ICESHOP_TEST_JOBS", "1", 1);
        setenv("ICESHOP_WORKERS", "2", 0);
        setenv("ICESHOP_HTTP_THREADS", "2", 0);
        setenv("ICESHOP_RATE_LIMIT_KEY", "0", 0);
        setenv("ICESHOP_RATE_LIMIT_IP", "0", 0);
        /* uploaded files go to the test's directory, not ./var/files */
        char storage[600];
        snprintf(storage, sizeof(storage), "file://%s/files-%d-%d", dir, (int)getpid(), s->port);
        setenv("ICESHOP_STORAGE_URL", storage, 0);
        for (int i = 0; extra_env && extra_env[i]; i++)
            putenv((char *)(uintptr_t)extra_env[i]);
        /* HARNESS_LISTEN_HOST=[::] listens there on the same port (dual stack keeps base) */
        const char *host = getenv("HARNESS_LISTEN_HOST");
        if (host && *host) {
            snprintf(listen, sizeof(listen), "%s:%d", host, s->port);
            setenv("ICESHOP_LISTEN", listen, 1);
        }
        int fd = open(s->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
            close(fd);
        }
        execl(bin, bin, "serve", (char *)NULL);
        perror("exec iceshop");
        _exit(127);
    }
    s->pid = pid;
    track(pid, 0);
    for (int i = 0; i < 300; i++) {
        struct resp r;
        if (http_get(s, "/health", NULL, &r) == 0 && r.status == 200) {
            resp_free(&r);
            return 0;
        }
        resp_free(&r);
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            track(0, pid);
            s->pid = 0;
            print_log(s);
            return -1;
        }
        harness_sleep_ms(50);
    }
    print_log(s);
    server_kill(s);
    return -1;
}

int server_stop(struct server *s)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 600; i++) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            track(0, s->pid);
            s->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        harness_sleep_ms(50);
    }
    fprintf(stderr, "harness: server did not stop within 30 s; killing\n");
    server_kill(s);
    return -1;
}

void server_kill(struct server *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    track(0, s->pid);
    s->pid = 0;
}

struct sink {
    char *p;
    size_t len;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;
    s->p = realloc(s->p, s->len + n + 1);
    memcpy(s->p + s->len, ptr, n);
    s->len += n;
    s->p[s->len] = '\0';
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct resp *r = ud;
    size_t n = size * nmemb;
    size_t used = strlen(r->headers);
    if (used + n + 1 < sizeof(r->headers)) {
        memcpy(r->headers + used, ptr, n);
        r->headers[used + n] = '\0';
    }
    return n;
}

int http_req(const struct server *s, const char *method, const char *path, const char *auth,
             const char *content_type, const char *body, size_t body_len,
             const char *const *extra_headers, struct resp *out)
{
    memset(out, 0, sizeof(*out));
    CURL *c = curl_easy_init();
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", s->base, path);
    struct curl_slist *h = NULL;
    char line[1024];
    if (auth) {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", auth);
        h = curl_slist_append(h, line);
    }
    if (content_type) {
        snprintf(line, sizeof(line), "Content-Type: %s", content_type);
        h = curl_slist_append(h, line);
    }
    h = curl_slist_append(h, "Expect:");
    for (int i = 0; extra_headers && extra_headers[i]; i++)
        h = curl_slist_append(h, extra_headers[i]);
    struct sink sk = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sk);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    out->body = sk.p ? sk.p : calloc(1, 1);
    out->len = sk.len;
    if (out->len)
        out->json = json_loadb(out->body, out->len, 0, NULL);
    return cc == CURLE_OK ? 0 : -1;
}

int http_get(const struct server *s, const char *path, const char *auth, struct resp *out)
{
    return http_req(s, "GET", path, auth, NULL, NULL, 0, NULL, out);
}

int http_post_json(const struct server *s, const char *path, const char *auth, const char *json,
                   struct resp *out)
{
    return http_req(s, "POST", path, auth, "application/json", json, json ? strlen(json) : 0, NULL,
                    out);
}

void resp_free(struct resp *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

bool resp_header(const struct resp *r, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    const char *p = r->headers;
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(out, n, "%.*s", (int)(len - (size_t)(v - p)), v);
            return true;
        }
        if (!eol)
            break;
        p = eol + 2;
    }
    return false;
}

const char *resp_error_code(const struct resp *r)
{
    json_t *c = json_object_get(json_object_get(r->json, "error"), "code");
    return json_is_string(c) ? json_string_value(c) : "";
}

const char *resp_error_field(const struct resp *r)
{
    json_t *c = json_object_get(json_object_get(r->json, "error"), "field");
    return json_is_string(c) ? json_string_value(c) : "";
}

int harness_sh(const char *cmd, char *out, size_t n)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t used = 0;
    char tmp[1024];
    size_t got;
    while ((got = fread(tmp, 1, sizeof(tmp), p)) > 0) {
        if (out && used + got < n) {
            memcpy(out + used, tmp, got);
            used += got;
        }
    }
    if (out && n)
        out[used < n ? used : n - 1] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void open_conn(const char *db_url, struct db **db, struct db_conn **c)
{
    struct err e;
    err_init(&e);
    struct db_options o = {.pool_size = 1, .busy_timeout_ms = 10000};
    if (db_open(db, db_url, &o, &e) || db_conn_acquire(*db, c, &e)) {
        fprintf(stderr, "harness: cannot open %s: %s\n", db_url, e.msg);
        abort();
    }
}

long long harness_db_i64(const char *db_url, const char *sql)
{
    struct db *db;
    struct db_conn *c;
    struct db_stmt *s;
    struct err e;
    err_init(&e);
    open_conn(db_url, &db, &c);
    if (db_prepare(c, &s, sql, &e)) {
        fprintf(stderr, "harness: %s: %s\n", sql, e.msg);
        abort();
    }
    long long v = 0;
    int st = db_step(s, &e);
    if (st == DB_ERROR) {
        fprintf(stderr, "harness: %s: %s\n", sql, e.msg);
        abort();
    }
    if (st == DB_ROW && !db_col_is_null(s, 0))
        v = (long long)db_col_i64(s, 0);
    db_stmt_done(s);
    db_conn_release(c);
    db_close(db);
    return v;
}

long long harness_deadline(int timeout_ms)
{
    double scale = 1;
    const char *env = getenv("TEST_TIME_SCALE");
    if (env && strtod(env, NULL) >= 1)
        scale = strtod(env, NULL);
    return (long long)clock_mono_ms() + (long long)(timeout_ms * scale);
}

bool harness_before(long long deadline)
{
    return (long long)clock_mono_ms() < deadline;
}

void harness_window_start_now(const char *db_url, long long window_id)
{
    char now[CLOCK_ISO_LEN], sql[256];
    clock_format_iso(clock_now_ms(NULL), now);
    snprintf(sql, sizeof(sql), "UPDATE flash_windows SET start_at = '%s' WHERE id = %lld", now,
             window_id);
    harness_db_exec(db_url, sql);
    snprintf(sql, sizeof(sql),
             "UPDATE jobs SET run_at = '%s' WHERE unique_key = 'flash.activate:%lld' AND "
             "state = 'pending'",
             now, window_id);
    harness_db_exec(db_url, sql);
}

void harness_db_exec(const char *db_url, const char *sql)
{
    struct db *db;
    struct db_conn *c;
    struct err e;
    err_init(&e);
    open_conn(db_url, &db, &c);
    if (db_exec(c, sql, &e)) {
        fprintf(stderr, "harness: %s: %s\n", sql, e.msg);
        abort();
    }
    db_conn_release(c);
    db_close(db);
}

int harness_cli(const char *db_url, const char *args, char *out, size_t n)
{
    const char *bin = getenv("ICESHOP_BIN") ? getenv("ICESHOP_BIN") : "build/debug/iceshop";
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "ICESHOP_DATABASE_URL='%s' ICESHOP_LOG_LEVEL=warn %s %s", db_url,
             bin, args);
    return harness_sh(cmd, out, n);
}

int harness_manual_scans(const struct server *s)
{
    static const char body[] = "{\"scan_interval_s\":0}";
    struct resp r;
    int rc = http_req(s, "PUT", "/api/campaigns/config", HARNESS_ADMIN_KEY, "application/json",
                      body, sizeof(body) - 1, NULL, &r);
    long status = r.status;
    resp_free(&r);
    return rc == 0 && status == 200 ? 0 : -1;
}

long harness_meta_text(const struct server *s, const char *app_secret, const char *from,
                       const char *id, const char *text)
{
    char body[4096];
    snprintf(body, sizeof(body),
             "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1029384756\","
             "\"changes\":[{\"field\":\"messages\",\"value\":{\"messaging_product\":"
             "\"whatsapp\",\"metadata\":{\"display_phone_number\":\"908501234567\","
             "\"phone_number_id\":\"1122334455\"},\"contacts\":[{\"profile\":{\"name\":"
             "\"Test\"},\"wa_id\":\"%s\"}],\"messages\":[{\"from\":\"%s\",\"id\":\"%s\","
             "\"timestamp\":\"%lld\",\"type\":\"text\",\"text\":{\"body\":\"%s\"}}]}}]}]}",
             from, from, id, (long long)time(NULL), text);
    char hex[SEC_HMAC_SHA256_HEX_SIZE], sig[128];
    sec_hmac_sha256_hex(hex, app_secret, strlen(app_secret), body, strlen(body));
    snprintf(sig, sizeof(sig), "X-Hub-Signature-256: sha256=%s", hex);
    const char *hdr[] = {sig, NULL};
    struct resp r;
    if (http_req(s, "POST", "/api/whatsapp/webhook", NULL, "application/json", body, strlen(body),
                 hdr, &r))
        return -1;
    long status = r.status;
    resp_free(&r);
    return status;
}

int harness_stripe_post(const struct server *s, const char *path, const char *secret, long long ts,
                        const char *body, struct resp *r)
{
    if (!ts)
        ts = (long long)time(NULL);
    size_t n = strlen(body) + 32;
    char *signed_payload = malloc(n);
    if (!signed_payload)
        return -1;
    snprintf(signed_payload, n, "%lld.%s", ts, body);
    char mac[SEC_HMAC_SHA256_HEX_SIZE], header[200];
    sec_hmac_sha256_hex(mac, secret, strlen(secret), signed_payload, strlen(signed_payload));
    free(signed_payload);
    snprintf(header, sizeof(header), "Stripe-Signature: t=%lld,v1=%s", ts, mac);
    const char *const headers[] = {header, NULL};
    return http_req(s, "POST", path, NULL, "application/json", body, strlen(body), headers, r);
}
