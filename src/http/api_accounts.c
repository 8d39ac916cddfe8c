/* SPDX-License-Identifier: MIT */
/*
 * Access endpoints: password login for a short-lived token, who-am-I, API keys (create once-shown,
 * list, revoke) and users. Everything is scoped to the caller's tenant.
 * Tests: tests/integration/0002-access.c.
 */
#include "core/clock.h"
#include "core/log.h"
#include "domain/account/login_throttle.h"
#include "http/auth.h"
#include "http/handlers.h"

/* How long a login waits for a free password-hash slot before a 429. */
#define LOGIN_HASH_WAIT_MS 2000

static int64_t now_ms(struct http_req *r)
{
    return clock_now_ms(r->app->clock);
}

int h_login(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"email", "password", "tenant", NULL};
    const char *email = NULL, *password = NULL, *tenant = NULL;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = json_get_strn(r->json, "email", true, 254, &email, e);
    if (!rc)
        rc = json_get_strn(r->json, "password", true, 256, &password, e);
    if (!rc)
        rc = json_get_strn(r->json, "tenant", false, 64, &tenant, e);
    if (rc)
        return rc;
    struct login_throttle *lt = r->app->logins;
    int retry = 1;
    rc = login_throttle_check(lt, email, r->client_ip, now_ms(r), &retry, e);
    if (!rc)
        rc = login_throttle_hash_enter(lt, LOGIN_HASH_WAIT_MS, e);
    if (rc) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", retry);
        http_reply_header(r, "Retry-After", ra);
        log_warn("msg=\"login refused\" request_id=%s ip=%s reason=\"%s\"", r->request_id,
                 r->client_ip, e->msg);
        return rc;
    }
    struct db_conn *c;
    struct account_principal who;
    rc = http_req_db(r, &c, e);
    if (!rc)
        rc = account_user_login(c, email, tenant, password, &who, e);
    login_throttle_hash_leave(lt);
    if (rc == ERR_UNAUTHORIZED) {
        login_throttle_fail(lt, email, r->client_ip, now_ms(r));
        log_warn("msg=\"login failed\" request_id=%s ip=%s", r->request_id, r->client_ip);
    }
    if (rc)
        return rc;
    login_throttle_success(lt, email);
    const char *token;
    int64_t exp;
    rc = auth_token_issue(r, &who, &token, &exp, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200,
                           json_pack("{s:s, s:s, s:o, s:I, s:s}", "token", token, "token_type",
                                     "Bearer", "expires_at", http_json_time(exp), "tenant_id",
                                     (json_int_t)who.tenant_id, "role",
                                     account_role_name(who.role)));
}

int h_me(struct http_req *r, struct err *e)
{
    (void)e;
    json_t *body = json_pack("{s:I, s:s, s:s}", "tenant_id", (json_int_t)r->who.tenant_id, "role",
                             account_role_name(r->who.role), "subject", r->who.subject);
    if (r->who.key_id)
        json_object_set_new(body, "key_id", json_integer(r->who.key_id));
    if (r->who.user_id)
        json_object_set_new(body, "user_id", json_integer(r->who.user_id));
    return http_reply_json(r, 200, body);
}

/* null = the server's default rate, 0 = unlimited, N requests per second */
static json_t *rate_json(int rate_limit)
{
    if (rate_limit == ACCOUNT_RATE_DEFAULT)
        return json_null();
    return json_integer(rate_limit == ACCOUNT_RATE_UNLIMITED ? 0 : rate_limit);
}

static json_t *key_json(const struct account_key *k)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "id", (json_int_t)k->id, "name",
                     k->name, "role", account_role_name(k->role), "prefix", k->prefix, "created_at",
                     http_json_time(k->created_at), "revoked_at", http_json_time(k->revoked_at),
                     "last_used_at", http_json_time(k->last_used_at), "rate_limit",
                     rate_json(k->rate_limit));
}

int h_keys_list(struct http_req *r, struct err *e)
{
    struct page p;
    int rc = http_req_page(r, ACCOUNT_LIST_DEFAULT, ACCOUNT_LIST_MAX, &p, e);
    struct db_conn *c;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct account_key *rows = NULL;
    size_t n = 0;
    if (!rc)
        rc = account_key_list(c, r->who.tenant_id, &p, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, key_json(&rows[i]));
    return http_reply_json(r, 200, http_page_body("keys", arr, &p, n, n ? rows[n - 1].id : 0));
}

int h_keys_create(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"role", "name", "rate_limit", NULL};
    int role_idx = -1;
    const char *name = "";
    int64_t rate = -1; /* absent or null: the server's default */
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = json_get_enum(r->json, "role", true, account_role_names, &role_idx, e);
    if (!rc)
        rc = json_get_strn(r->json, "name", false, 100, &name, e);
    if (!rc)
        rc = json_get_i64(r->json, "rate_limit", false, 0, ACCOUNT_RATE_MAX, &rate, e);
    if (rc)
        return rc;
    struct db_conn *c;
    rc = http_req_db(r, &c, e);
    if (rc)
        return rc;
    struct account_key k;
    const char *plain;
    int rate_limit = rate < 0    ? ACCOUNT_RATE_DEFAULT
                     : rate == 0 ? ACCOUNT_RATE_UNLIMITED
                                 : (int)rate;
    rc = account_key_issue(c, r->who.tenant_id, (enum account_role)(role_idx + 1), name, rate_limit,
                           now_ms(r), &r->arena, &k, &plain, e);
    if (rc)
        return rc;
    json_t *body = key_json(&k);
    json_object_set_new(body, "key", json_string(plain));
    json_object_set_new(body, "note", json_string("store this key now; it is not shown again"));
    return http_reply_json(r, 201, body);
}

int h_keys_revoke(struct http_req *r, struct err *e)
{
    int64_t id;
    int rc = http_req_param_id(r, "id", &id, e);
    if (rc)
        return rc;
    struct db_conn *c;
    rc = http_req_db(r, &c, e);
    if (!rc)
        rc = account_key_revoke(c, r->who.tenant_id, id, now_ms(r), e);
    if (rc)
        return rc;
    auth_key_cache_clear();
    return http_reply_json(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "revoked", 1));
}

int h_users_list(struct http_req *r, struct err *e)
{
    struct page p;
    int rc = http_req_page(r, ACCOUNT_LIST_DEFAULT, ACCOUNT_LIST_MAX, &p, e);
    struct db_conn *c;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct account_user *rows = NULL;
    size_t n = 0;
    if (!rc)
        rc = account_user_list(c, r->who.tenant_id, &p, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)rows[i].id,
                                             "email", rows[i].email, "role",
                                             account_role_name(rows[i].role), "created_at",
                                             http_json_time(rows[i].created_at)));
    return http_reply_json(r, 200, http_page_body("users", arr, &p, n, n ? rows[n - 1].id : 0));
}

int h_users_create(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"email", "password", "role", NULL};
    const char *email = NULL, *password = NULL;
    int role_idx = -1;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = json_get_strn(r->json, "email", true, 254, &email, e);
    if (!rc)
        rc = json_get_strn(r->json, "password", true, 256, &password, e);
    if (!rc)
        rc = json_get_enum(r->json, "role", true, account_role_names, &role_idx, e);
    if (rc)
        return rc;
    struct db_conn *c;
    rc = http_req_db(r, &c, e);
    if (rc)
        return rc;
    int64_t id;
    rc = account_user_create(c, r->who.tenant_id, email, password,
                             (enum account_role)(role_idx + 1), now_ms(r), &id, e);
    if (rc)
        return rc;
    return http_reply_json(r, 201,
                           json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "email", email,
                                     "role", account_role_names[role_idx]));
}
