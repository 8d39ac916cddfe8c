/* SPDX-License-Identifier: MIT */
/*
 * The test S3 server (see s3_server.h): s3rver in a child process behind a SigV4-verifying
 * proxy (libmicrohttpd, one thread per connection; forwards with libcurl). The proxy buffers
 * bodies: test objects are small.
 */
#include "support/s3_server.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/sigv4.h"

#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    socklen_t len = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    int port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

/* ---------------------------------------------------------------- verification */

struct pending {
    struct buf body;
};

static void pct_decode(const char *in, char *out, size_t n)
{
    size_t o = 0;
    for (; *in && o + 1 < n; in++) {
        unsigned v;
        if (*in == '%' && in[1] && in[2] && sscanf(in + 1, "%2x", &v) == 1) {
            out[o++] = (char)v;
            in += 2;
        } else {
            out[o++] = *in;
        }
    }
    out[o] = '\0';
}

/* "20261203T134148Z" → Unix seconds; -1 when malformed. */
static long long amz_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (!s || strlen(s) != 16 || !strptime(s, "%Y%m%dT%H%M%SZ", &tm))
        return -1;
    return (long long)timegm(&tm);
}

/* Copy the value after `key` in `s` up to one of `stops` into out. */
static bool field(const char *s, const char *key, const char *stops, char *out, size_t n)
{
    const char *p = strstr(s, key);
    if (!p)
        return false;
    p += strlen(key);
    size_t len = strcspn(p, stops);
    if (len >= n)
        return false;
    memcpy(out, p, len);
    out[len] = '\0';
    return true;
}

/* The accounts: each key pair may use one bucket only. */
struct account {
    const char *access, *secret, *bucket;
};
static const struct account accounts[] = {
    {S3_TEST_ACCESS_KEY, S3_TEST_SECRET_KEY, S3_TEST_BUCKET},
    {S3_TEST_ACCESS_KEY_B, S3_TEST_SECRET_KEY_B, S3_TEST_BUCKET_B},
};

/*
 * Credential "ACCESS/DATE/REGION/SERVICE/aws4_request" into its parts, and the account of its
 * access key, which must own the bucket `path` names (its first segment).
 */
static const struct account *credential(const char *cred, const char *path, char *region,
                                        char *service)
{
    char access[64], date[16], term[32];
    if (sscanf(cred, "%63[^/]/%15[^/]/%63[^/]/%31[^/]/%31s", access, date, region, service, term) !=
            5 ||
        strcmp(term, "aws4_request") != 0)
        return NULL;
    const char *b = path[0] == '/' ? path + 1 : path;
    size_t blen = strcspn(b, "/?");
    for (size_t i = 0; i < sizeof(accounts) / sizeof(accounts[0]); i++) {
        if (strcmp(access, accounts[i].access) == 0)
            return strlen(accounts[i].bucket) == blen && !strncmp(b, accounts[i].bucket, blen)
                       ? &accounts[i]
                       : NULL;
    }
    return NULL;
}

static int verify_header(struct MHD_Connection *c, const char *method, const char *path,
                         const struct buf *body, const char *authz, char *why, size_t whyn)
{
    char cred[256], signed_h[512], sig[128], region[64], service[32];
    if (!field(authz, "Credential=", ",", cred, sizeof(cred)) ||
        !field(authz, "SignedHeaders=", ",", signed_h, sizeof(signed_h)) ||
        !field(authz, "Signature=", ", ", sig, sizeof(sig))) {
        snprintf(why, whyn, "malformed Authorization");
        return -1;
    }
    const struct account *acct = credential(cred, path, region, service);
    if (!acct) {
        snprintf(why, whyn, "unknown access key, or not this bucket's");
        return -1;
    }
    struct sigv4_header hs[SIGV4_MAX_HEADERS];
    size_t n = 0;
    char names[512];
    snprintf(names, sizeof(names), "%s", signed_h);
    for (char *save = NULL, *h = strtok_r(names, ";", &save); h; h = strtok_r(NULL, ";", &save)) {
        const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, h);
        if (!v || n == SIGV4_MAX_HEADERS) {
            snprintf(why, whyn, "signed header %s missing", h);
            return -1;
        }
        hs[n].name = h;
        hs[n].value = v;
        n++;
    }
    const char *payload = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-amz-content-sha256");
    const char *date = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-amz-date");
    long long t = amz_time(date);
    if (!payload || t < 0) {
        snprintf(why, whyn, "x-amz-content-sha256 or x-amz-date missing");
        return -1;
    }
    if (strcmp(payload, SIGV4_UNSIGNED_PAYLOAD) != 0) {
        unsigned char d[SEC_SHA256_LEN];
        char hex[SEC_HEX_SIZE(SEC_SHA256_LEN)];
        struct err e;
        err_init(&e);
        sec_sha256(d, body->data ? body->data : "", body->len);
        sec_hex_encode(hex, sizeof(hex), d, sizeof(d), &e);
        if (strcmp(hex, payload) != 0) {
            snprintf(why, whyn, "body does not match its signed SHA-256");
            return -1;
        }
    }
    const struct sigv4_key k = {acct->access, acct->secret, region, service};
    char want[512];
    struct err e;
    err_init(&e);
    if (sigv4_authorization(&k, method, path, "", hs, n, payload, t, want, sizeof(want), &e)) {
        snprintf(why, whyn, "cannot recompute: %.200s", e.msg);
        return -1;
    }
    char want_sig[128];
    field(want, "Signature=", ", ", want_sig, sizeof(want_sig));
    if (strcmp(want_sig, sig) != 0) {
        snprintf(why, whyn, "header signature mismatch");
        return -1;
    }
    return 0;
}

static int verify_query(struct MHD_Connection *c, const char *method, const char *path, char *why,
                        size_t whyn)
{
    const char *alg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "X-Amz-Algorithm");
    const char *cred_raw =
        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "X-Amz-Credential");
    const char *date = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "X-Amz-Date");
    const char *exp = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "X-Amz-Expires");
    const char *sh = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "X-Amz-SignedHeaders");
    const char *sig = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "X-Amz-Signature");
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    char cred[256], region[64], service[32];
    if (!alg || strcmp(alg, "AWS4-HMAC-SHA256") != 0 || !cred_raw || !date || !exp || !sh ||
        strcmp(sh, "host") != 0 || !sig || !host) {
        snprintf(why, whyn, "presigned query incomplete");
        return -1;
    }
    pct_decode(cred_raw, cred, sizeof(cred));
    long long t = amz_time(date);
    long long expires = atoll(exp);
    const struct account *acct = credential(cred, path, region, service);
    if (!acct || t < 0 || expires < 1) {
        snprintf(why, whyn, "presigned query malformed, or not this bucket's key");
        return -1;
    }
    if ((long long)time(NULL) > t + expires) {
        snprintf(why, whyn, "presigned URL expired");
        return -1;
    }
    const struct sigv4_key k = {acct->access, acct->secret, region, service};
    struct buf url;
    buf_init(&url, 8192);
    struct err e;
    err_init(&e);
    int rc = sigv4_presign(&k, "http", method, host, path, t, expires, &url, &e);
    char want[128] = "";
    if (!rc)
        field(buf_str(&url), "X-Amz-Signature=", "&", want, sizeof(want));
    buf_release(&url);
    if (rc || strcmp(want, sig) != 0) {
        snprintf(why, whyn, "presigned signature mismatch");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- forwarding */

struct fwd {
    struct buf query;
    struct curl_slist *headers;
};

/*
 * s3rver knows only its built-in account (it checks that the key exists, not the signature,
 * which this proxy already did): the second account's key id is forwarded as the first's.
 */
static const char *as_s3rver(const char *v, char *out, size_t n)
{
    const char *at = v ? strstr(v, S3_TEST_ACCESS_KEY_B) : NULL;
    if (!at)
        return v;
    snprintf(out, n, "%.*s%s%s", (int)(at - v), v, S3_TEST_ACCESS_KEY,
             at + strlen(S3_TEST_ACCESS_KEY_B));
    return out;
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    (void)kind;
    struct fwd *f = cls;
    char swapped[4096];
    v = as_s3rver(v, swapped, sizeof(swapped));
    buf_appendf(&f->query, "%s%s%s%s", f->query.len ? "&" : "?", k, v ? "=" : "", v ? v : "");
    return MHD_YES;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    (void)kind;
    struct fwd *f = cls;
    static const char *skip[] = {"Host", "Content-Length", "Transfer-Encoding", "Expect",
                                 "Connection"};
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
        if (strcasecmp(k, skip[i]) == 0)
            return MHD_YES;
    }
    char line[4096], swapped[4096];
    v = as_s3rver(v, swapped, sizeof(swapped));
    snprintf(line, sizeof(line), "%s: %s", k, v ? v : "");
    f->headers = curl_slist_append(f->headers, line);
    return MHD_YES;
}

struct answer {
    struct buf body;
    char etag[128];
    char ctype[128];
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct answer *a = ud;
    return buf_append(&a->body, p, size * n) ? 0 : size * n;
}

static size_t on_head(char *p, size_t size, size_t n, void *ud)
{
    struct answer *a = ud;
    size_t len = size * n;
    char line[512];
    size_t l = len < sizeof(line) - 1 ? len : sizeof(line) - 1;
    memcpy(line, p, l);
    line[l] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strncasecmp(line, "ETag: ", 6) == 0)
        snprintf(a->etag, sizeof(a->etag), "%.120s", line + 6);
    if (strncasecmp(line, "Content-Type: ", 14) == 0)
        snprintf(a->ctype, sizeof(a->ctype), "%.120s", line + 14);
    return len;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *ctype,
                             const char *etag, const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (ctype && *ctype)
        MHD_add_response_header(r, "Content-Type", ctype);
    if (etag && *etag)
        MHD_add_response_header(r, "ETag", etag);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result forward(struct s3_server *s, struct MHD_Connection *c, const char *method,
                               const char *path, const struct buf *body)
{
    struct fwd f = {.headers = NULL};
    buf_init(&f.query, 65536);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &f);
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, &f);
    f.headers = curl_slist_append(f.headers, "Expect:");
    char url[8192];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s%s", s->s3rver_port, path, buf_str(&f.query));
    struct answer a;
    memset(&a, 0, sizeof(a));
    buf_init(&a.body, 64u << 20);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, f.headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_head);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data ? body->data : "");
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode cc = curl_easy_perform(h);
    long status = 502;
    if (cc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    curl_slist_free_all(f.headers);
    buf_release(&f.query);
    enum MHD_Result ret =
        reply(c, (unsigned)status, a.ctype, a.etag, a.body.data ? a.body.data : "", a.body.len);
    buf_release(&a.body);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    (void)version;
    struct s3_server *s = cls;
    struct pending *p = *con_cls;
    if (!p) {
        p = calloc(1, sizeof(*p));
        buf_init(&p->body, 64u << 20);
        *con_cls = p;
        return MHD_YES;
    }
    if (*size) {
        buf_append(&p->body, data, *size);
        *size = 0;
        return MHD_YES;
    }
    char why[256] = "";
    const char *authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    int rc;
    if (authz && strncmp(authz, "AWS4-HMAC-SHA256 ", 17) == 0)
        rc = verify_header(c, method, url, &p->body, authz, why, sizeof(why));
    else if (MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "X-Amz-Signature"))
        rc = verify_query(c, method, url, why, sizeof(why));
    else {
        snprintf(why, sizeof(why), "request not signed with SigV4");
        rc = -1;
    }
    if (rc) {
        atomic_fetch_add(&s->rejected, 1);
        snprintf(s->last_reject, sizeof(s->last_reject), "%.16s %.400s: %.300s", method, url, why);
        char xml[512];
        int n = snprintf(xml, sizeof(xml),
                         "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code>"
                         "<Message>%s</Message></Error>",
                         why);
        return reply(c, 403, "application/xml", NULL, xml, (size_t)n);
    }
    atomic_fetch_add(&s->verified, 1);
    return forward(s, c, method, url, &p->body);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct pending *p = *con_cls;
    if (p) {
        buf_release(&p->body);
        free(p);
        *con_cls = NULL;
    }
}

static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

/* ---------------------------------------------------------------- lifecycle */

int s3_server_start(struct s3_server *s)
{
    memset(s, 0, sizeof(*s));
    const char *script = getenv("TEST_S3RVER");
    if (!script || !*script)
        script = "tests/s3/node_modules/s3rver/bin/s3rver.js";
    if (access(script, R_OK)) {
        fprintf(stderr, "s3rver is not installed at %s: run scripts/deps.sh test\n", script);
        return -1;
    }
    const char *tmp = getenv("TEST_TMPDIR");
    s->s3rver_port = free_port();
    snprintf(s->dir, sizeof(s->dir), "%s/s3rver-%d-%d", tmp && *tmp ? tmp : "/tmp", (int)getpid(),
             s->s3rver_port);
    mkdir(s->dir, 0700);
    char port[16];
    snprintf(port, sizeof(port), "%d", s->s3rver_port);
    s->pid = fork();
    if (s->pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 1);
        execlp("node", "node", script, "-d", s->dir, "-a", "127.0.0.1", "-p", port, "--silent",
               "--configure-bucket", S3_TEST_BUCKET, "--configure-bucket", S3_TEST_BUCKET_B,
               (char *)NULL);
        _exit(127);
    }
    bool up = false;
    for (long long end = mono_ms() + 20000; !up && mono_ms() < end;) {
        up = port_open(s->s3rver_port);
        if (!up)
            usleep(50 * 1000);
    }
    if (!up) {
        fprintf(stderr, "s3rver did not start on port %d\n", s->s3rver_port);
        s3_server_stop(s);
        return -1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    s->port = free_port();
    s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                                 (uint16_t)s->port, NULL, NULL, on_request, s,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
                                 MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL, MHD_OPTION_END);
    if (!s->daemon) {
        fprintf(stderr, "the verifying S3 proxy did not start\n");
        s3_server_stop(s);
        return -1;
    }
    snprintf(s->url, sizeof(s->url), "s3://%s?endpoint=http://127.0.0.1:%d&region=us-east-1",
             S3_TEST_BUCKET, s->port);
    snprintf(s->url_b, sizeof(s->url_b), "s3://%s?endpoint=http://127.0.0.1:%d&region=eu-west-1",
             S3_TEST_BUCKET_B, s->port);
    return 0;
}

void s3_server_stop(struct s3_server *s)
{
    if (s->daemon) {
        MHD_stop_daemon(s->daemon);
        s->daemon = NULL;
    }
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

static int count_objects(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char p[1024];
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        struct stat sb;
        if (!lstat(p, &sb) && S_ISDIR(sb.st_mode))
            n += count_objects(p);
        else if (strstr(de->d_name, "._S3rver_object") && !strstr(de->d_name, "._S3rver_object."))
            n++;
    }
    closedir(d);
    return n;
}

int s3_server_bucket_count(const struct s3_server *s, const char *bucket)
{
    char p[600];
    snprintf(p, sizeof(p), "%s/%s", s->dir, bucket);
    return count_objects(p);
}

int s3_server_object_count(const struct s3_server *s)
{
    return s3_server_bucket_count(s, S3_TEST_BUCKET);
}
