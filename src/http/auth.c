/* SPDX-License-Identifier: MIT */
/*
 * Bearer authentication and role checks (see auth.h). Three kinds of credential: the operator's
 * ICESHOP_ADMIN_KEY (admin of the default tenant), API keys ("isk_..."), and login tokens
 * (HS256 JWT signed with the server secret). Tests: tests/integration/0002-access.c.
 */
#include "http/auth.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/str.h"
#include "core/token.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/*
 * last_used_at is worth knowing to the minute, not worth a write per request: remember per key
 * slot when we last wrote it. A collision between two keys only causes an extra write.
 */
#define TOUCH_SLOTS       1024
#define TOUCH_INTERVAL_MS 60000

static pthread_mutex_t touch_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int64_t key_id;
    int64_t at_ms;
} touched[TOUCH_SLOTS];

static void touch_key(struct http_req *r, struct db_conn *c)
{
    int64_t now = clock_now_ms(r->app->clock);
    size_t slot = (size_t)r->who.key_id % TOUCH_SLOTS;
    pthread_mutex_lock(&touch_mu);
    bool due =
        touched[slot].key_id != r->who.key_id || now - touched[slot].at_ms >= TOUCH_INTERVAL_MS;
    if (due) {
        touched[slot].key_id = r->who.key_id;
        touched[slot].at_ms = now;
    }
    pthread_mutex_unlock(&touch_mu);
    if (!due)
        return;
    struct err e;
    err_init(&e);
    if (account_key_touch(c, r->who.key_id, now, &e))
        log_warn("msg=\"cannot record key use\" key_id=%lld error=\"%s\"", (long long)r->who.key_id,
                 e.msg);
}

/*
 * Successful API-key lookups are remembered for a second, keyed by the key's SHA-256, so a
 * client making many requests costs one database read per second instead of one per request.
 * Revoking through this process clears the cache at once; a revocation made elsewhere (another
 * process, the CLI) takes effect here within KEY_CACHE_TTL_MS.
 */
#define KEY_CACHE_SLOTS  256
#define KEY_CACHE_TTL_MS 1000

/* Read-mostly: a reader lock lets every thread hit the same entry without queueing. */
static pthread_rwlock_t key_cache_mu = PTHREAD_RWLOCK_INITIALIZER;
static struct {
    unsigned char digest[SEC_SHA256_LEN];
    struct account_principal who;
    int64_t expires_ms; /* monotonic; 0 = empty */
} key_cache[KEY_CACHE_SLOTS];

static size_t key_cache_slot(const unsigned char *digest)
{
    return ((size_t)digest[0] | (size_t)digest[1] << 8) % KEY_CACHE_SLOTS;
}

static bool key_cache_get(const unsigned char *digest, struct account_principal *who)
{
    size_t i = key_cache_slot(digest);
    bool hit = false;
    pthread_rwlock_rdlock(&key_cache_mu);
    if (key_cache[i].expires_ms > clock_mono_ms() &&
        sec_equal(key_cache[i].digest, SEC_SHA256_LEN, digest, SEC_SHA256_LEN)) {
        *who = key_cache[i].who;
        hit = true;
    }
    pthread_rwlock_unlock(&key_cache_mu);
    return hit;
}

static void key_cache_put(const unsigned char *digest, const struct account_principal *who)
{
    size_t i = key_cache_slot(digest);
    pthread_rwlock_wrlock(&key_cache_mu);
    memcpy(key_cache[i].digest, digest, SEC_SHA256_LEN);
    key_cache[i].who = *who;
    key_cache[i].expires_ms = clock_mono_ms() + KEY_CACHE_TTL_MS;
    pthread_rwlock_unlock(&key_cache_mu);
}

void auth_key_cache_clear(void)
{
    pthread_rwlock_wrlock(&key_cache_mu);
    memset(key_cache, 0, sizeof(key_cache));
    pthread_rwlock_unlock(&key_cache_mu);
}

static int from_api_key(struct http_req *r, const char *cred, size_t n, struct err *e)
{
    unsigned char digest[SEC_SHA256_LEN];
    sec_sha256(digest, cred, n);
    if (key_cache_get(digest, &r->who))
        return 0;
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = account_key_authenticate(c, cred, &r->who, e);
    if (rc)
        return rc;
    key_cache_put(digest, &r->who);
    touch_key(r, c);
    return 0;
}

static int from_token(struct http_req *r, const char *token, struct err *e)
{
    struct app *app = r->app;
    char *claims = NULL;
    struct err te;
    err_init(&te);
    int64_t now_s = clock_now_ms(app->clock) / 1000;
    if (token_verify(&r->arena, app->token_key, sizeof(app->token_key), token, now_s, &claims, &te))
        return err_set(e, ERR_UNAUTHORIZED, "invalid or expired token");
    json_error_t je;
    json_t *root = json_loads(claims, 0, &je);
    json_int_t uid = 0;
    if (!root || json_unpack(root, "{s:I}", "uid", &uid) || uid <= 0) {
        json_decref(root);
        return err_set(e, ERR_UNAUTHORIZED, "invalid or expired token");
    }
    json_decref(root);
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    if (rc)
        return rc;
    /* The user's current role and status win over what the token says. */
    return account_user_principal(c, (int64_t)uid, &r->who, e);
}

int auth_request(struct http_req *r, struct err *e)
{
    struct app *app = r->app;
    const char *h = http_req_header(r, "Authorization");
    const char *cred = NULL;
    if ((!h || !*h) && (r->route->flags & HTTP_SSE)) {
        /* browsers' EventSource cannot send headers: streams take ?access_token= */
        cred = http_req_query(r, "access_token");
        if (!cred || !*cred)
            return err_set(e, ERR_UNAUTHORIZED,
                           "missing credentials: send Authorization: Bearer <token> or "
                           "?access_token=<token>");
    } else if (!h || !*h) {
        return err_set(e, ERR_UNAUTHORIZED,
                       "missing credentials: send Authorization: Bearer <API key or token>");
    } else if (strncasecmp(h, "Bearer ", 7) != 0) {
        return err_set(e, ERR_UNAUTHORIZED, "Authorization must use the Bearer scheme");
    } else {
        cred = h + 7;
    }
    while (*cred == ' ')
        cred++;
    size_t n = strlen(cred);
    if (n == 0 || n > TOKEN_MAX_LEN)
        return err_set(e, ERR_UNAUTHORIZED, "empty or oversized bearer credential");
    int rc;
    size_t ak = strlen(app->cfg.admin_key);
    if (ak && sec_equal(cred, n, app->cfg.admin_key, ak)) {
        memset(&r->who, 0, sizeof(r->who));
        r->who.tenant_id = app->default_tenant_id;
        r->who.role = ROLE_ADMIN;
        str_copy(r->who.subject, sizeof(r->who.subject), "admin-key");
        /* the operator's own key is unlimited unless ICESHOP_RATE_LIMIT_ADMIN says otherwise */
        r->who.rate_limit =
            app->cfg.rate_limit_admin > 0 ? app->cfg.rate_limit_admin : ACCOUNT_RATE_UNLIMITED;
        rc = 0;
    } else if (str_has_prefix(cred, ACCOUNT_KEY_PREFIX)) {
        rc = from_api_key(r, cred, n, e);
    } else if (strchr(cred, '.')) {
        rc = from_token(r, cred, e);
    } else {
        rc = err_set(e, ERR_UNAUTHORIZED, "unrecognised bearer credential");
    }
    if (rc)
        return rc;
    if (r->who.role < r->route->role)
        return err_set(e, ERR_FORBIDDEN, "%s %s needs the %s role; this credential is %s",
                       r->method, r->route->pattern, account_role_name(r->route->role),
                       account_role_name(r->who.role));
    return 0;
}

int auth_token_issue(struct http_req *r, const struct account_principal *who, const char **token,
                     int64_t *expires_ms, struct err *e)
{
    struct app *app = r->app;
    int64_t now_s = clock_now_ms(app->clock) / 1000;
    int64_t exp = now_s + app->cfg.token_ttl_s;
    char *claims = arena_printf(&r->arena,
                                "{\"uid\":%lld,\"tid\":%lld,\"role\":\"%s\",\"iat\":%lld,"
                                "\"exp\":%lld}",
                                (long long)who->user_id, (long long)who->tenant_id,
                                account_role_name(who->role), (long long)now_s, (long long)exp);
    char *out;
    int rc = token_sign(&r->arena, app->token_key, sizeof(app->token_key), claims, &out, e);
    if (rc)
        return rc;
    *token = out;
    *expires_ms = exp * 1000;
    return 0;
}
