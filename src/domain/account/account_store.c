/* SPDX-License-Identifier: MIT */
/*
 * Tenants, API keys, users and shared secrets in the database (see account.h). SQL through
 * db/db.h only; every read of keys and users is scoped by tenant.
 * Tests: tests/unit/domain/test_account.c.
 */
#include "domain/account/account.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/str.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

const char *const account_role_names[] = {"viewer", "operator", "admin", NULL};

int account_role_parse(const char *s, enum account_role *out)
{
    for (int i = 0; account_role_names[i]; i++) {
        if (str_eq(s, account_role_names[i])) {
            *out = (enum account_role)(i + 1);
            return 0;
        }
    }
    return ERR_INVALID;
}

const char *account_role_name(enum account_role role)
{
    if (role >= ROLE_VIEWER && role <= ROLE_ADMIN)
        return account_role_names[role - 1];
    return "none";
}

static enum account_role role_or_viewer(const char *s)
{
    enum account_role r = ROLE_VIEWER;
    if (s)
        account_role_parse(s, &r);
    return r;
}

/* ======================== tenants ======================== */

int account_tenant_name_check(const char *name, struct err *e)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > 64)
        return err_set_field(e, ERR_INVALID, "tenant", "tenant name must be 1..64 characters");
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '-' || c == '_' ||
              c == '.'))
            return err_set_field(e, ERR_INVALID, "tenant",
                                 "tenant name may contain only a-z, 0-9, '-', '_' and '.'");
    }
    return 0;
}

int account_tenant_find(struct db_conn *c, const char *name, struct arena *a,
                        struct account_tenant *out, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "SELECT id, name, created_at FROM tenants WHERE name = ?", e);
    if (rc)
        return rc;
    db_bind_text(s, 1, name);
    int st = db_step(s, e);
    if (st == DB_ROW) {
        out->id = db_col_i64(s, 0);
        out->name = arena_strdup(a, db_col_text(s, 1));
        out->created_at = db_col_time(s, 2);
        rc = 0;
    } else if (st == DB_DONE) {
        rc = err_set_field(e, ERR_NOT_FOUND, "tenant", "no tenant named %s", name);
    } else {
        rc = e->code;
    }
    db_stmt_done(s);
    return rc;
}

int account_tenant_create(struct db_conn *c, const char *name, int64_t now_ms, int64_t *id,
                          struct err *e)
{
    int rc = account_tenant_name_check(name, e);
    if (rc)
        return rc;
    struct db_stmt *s;
    rc = db_prepare(c, &s, "INSERT INTO tenants (name, created_at) VALUES (?, ?) RETURNING id", e);
    if (rc)
        return rc;
    db_bind_text(s, 1, name);
    db_bind_time(s, 2, now_ms);
    int st = db_step(s, e);
    if (st == DB_ROW) {
        *id = db_col_i64(s, 0);
        rc = 0;
    } else {
        rc = e->code ? (int)e->code : err_set(e, ERR_DB, "tenant insert returned no id");
    }
    db_stmt_done(s);
    if (rc == ERR_CONFLICT)
        rc = err_replace(e, ERR_CONFLICT, "tenant", "tenant %s already exists", name);
    return rc;
}

int account_tenant_ensure(struct db_conn *c, const char *name, int64_t now_ms, int64_t *id,
                          struct err *e)
{
    struct arena a;
    arena_init(&a);
    struct account_tenant t;
    struct err e2;
    err_init(&e2);
    int rc = account_tenant_find(c, name, &a, &t, &e2);
    if (rc == 0) {
        *id = t.id;
    } else if (rc == ERR_NOT_FOUND) {
        err_init(&e2);
        rc = account_tenant_create(c, name, now_ms, id, &e2);
        if (rc == ERR_CONFLICT) { /* another process created it meanwhile */
            err_init(&e2);
            rc = account_tenant_find(c, name, &a, &t, &e2);
            if (!rc)
                *id = t.id;
        }
    }
    if (rc)
        err_set(e, (enum err_code)rc, "%s", e2.msg);
    arena_release(&a);
    return rc;
}

static void read_tenant_row(struct db_stmt *s, struct arena *a, void *out)
{
    struct account_tenant *t = out;
    t->id = db_col_i64(s, 0);
    t->name = db_col_str(s, 1, a);
    t->created_at = db_col_time(s, 2);
}

int account_tenant_list(struct db_conn *c, struct arena *a, struct account_tenant **rows, size_t *n,
                        struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "SELECT id, name, created_at FROM tenants ORDER BY id", e);
    if (rc)
        return rc;
    void *out;
    rc = db_list(s, read_tenant_row, sizeof(struct account_tenant), a, &out, n, e);
    *rows = out;
    return rc;
}

/* LIMIT for an optional page: every row without one. */
static int64_t page_limit(const struct page *p)
{
    return p ? db_page_limit(p->limit, ACCOUNT_LIST_DEFAULT, ACCOUNT_LIST_MAX) : INT64_MAX;
}

/* ======================== API keys ======================== */

#define KEY_ID_HEX     12 /* public part, stored in clear as the lookup prefix */
#define KEY_SECRET_B64 32 /* 24 random bytes, url-safe base64 */

static void key_hash(const char *key, char out[SEC_HEX_SIZE(SEC_SHA256_LEN)])
{
    unsigned char d[SEC_SHA256_LEN];
    sec_sha256(d, key, strlen(key));
    sec_hex_encode(out, SEC_HEX_SIZE(SEC_SHA256_LEN), d, sizeof(d), NULL);
}

/* The stored rate (NULL = default, 0 = unlimited, N) in the C encoding of account.h. */
static int rate_from_column(struct db_stmt *s, int col)
{
    if (db_col_is_null(s, col))
        return ACCOUNT_RATE_DEFAULT;
    int64_t v = db_col_i64(s, col);
    return v <= 0 ? ACCOUNT_RATE_UNLIMITED : v > ACCOUNT_RATE_MAX ? ACCOUNT_RATE_MAX : (int)v;
}

static void read_key_row(struct db_stmt *s, struct arena *a, void *out)
{
    struct account_key *k = out;
    k->id = db_col_i64(s, 0);
    k->tenant_id = db_col_i64(s, 1);
    k->name = db_col_str(s, 2, a);
    k->role = role_or_viewer(db_col_text(s, 3));
    k->prefix = db_col_str(s, 4, a);
    k->created_at = db_col_time(s, 5);
    k->revoked_at = db_col_is_null(s, 6) ? 0 : db_col_time(s, 6);
    k->last_used_at = db_col_is_null(s, 7) ? 0 : db_col_time(s, 7);
    k->rate_limit = rate_from_column(s, 8);
}

#define KEY_COLUMNS                                                                                \
    "id, tenant_id, name, role, prefix, created_at, revoked_at, last_used_at, rate_limit"

int account_key_create(struct db_conn *c, int64_t tenant_id, enum account_role role,
                       const char *name, int64_t now_ms, struct arena *a, struct account_key *out,
                       const char **plaintext, struct err *e)
{
    if (role < ROLE_VIEWER || role > ROLE_ADMIN)
        return err_set_field(e, ERR_INVALID, "role", "role must be admin, operator or viewer");
    if (name && strlen(name) > 100)
        return err_set_field(e, ERR_INVALID, "name", "key name is longer than 100 bytes");
    unsigned char idb[KEY_ID_HEX / 2];
    char prefix[KEY_ID_HEX + 1];
    sec_random_bytes(idb, sizeof(idb));
    sec_hex_encode(prefix, sizeof(prefix), idb, sizeof(idb), NULL);
    char secret[SEC_RANDOM_ID_SIZE(0, 24)];
    int rc = sec_random_id(secret, sizeof(secret), "", 24, e);
    if (rc)
        return rc;
    char *key = arena_printf(a, ACCOUNT_KEY_PREFIX "%s_%s", prefix, secret);
    char hash[SEC_HEX_SIZE(SEC_SHA256_LEN)];
    key_hash(key, hash);
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "INSERT INTO api_keys (tenant_id, name, role, prefix, secret_hash, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) RETURNING " KEY_COLUMNS,
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant_id);
    db_bind_text(s, 2, name ? name : "");
    db_bind_text(s, 3, account_role_name(role));
    db_bind_text(s, 4, prefix);
    db_bind_text(s, 5, hash);
    db_bind_time(s, 6, now_ms);
    int st = db_step(s, e);
    if (st == DB_ROW) {
        read_key_row(s, a, out);
        *plaintext = key;
        rc = 0;
    } else {
        rc = e->code ? (int)e->code : err_set(e, ERR_DB, "key insert returned no row");
    }
    db_stmt_done(s);
    return rc;
}

int account_key_authenticate(struct db_conn *c, const char *presented,
                             struct account_principal *out, struct err *e)
{
    static const char *bad = "invalid or revoked API key";
    size_t plen = strlen(ACCOUNT_KEY_PREFIX);
    size_t n = strlen(presented);
    if (n > ACCOUNT_KEY_MAX || n < plen + KEY_ID_HEX + 2 ||
        !str_has_prefix(presented, ACCOUNT_KEY_PREFIX) || presented[plen + KEY_ID_HEX] != '_')
        return err_set(e, ERR_UNAUTHORIZED, "%s", bad);
    char prefix[KEY_ID_HEX + 1];
    memcpy(prefix, presented + plen, KEY_ID_HEX);
    prefix[KEY_ID_HEX] = '\0';
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT id, tenant_id, role, secret_hash, rate_limit FROM api_keys "
                        "WHERE prefix = ? AND revoked_at IS NULL",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, prefix);
    int st = db_step(s, e);
    if (st == DB_ERROR) {
        db_stmt_done(s);
        return e->code;
    }
    rc = ERR_UNAUTHORIZED;
    if (st == DB_ROW) {
        char hash[SEC_HEX_SIZE(SEC_SHA256_LEN)];
        key_hash(presented, hash);
        const char *stored = db_col_text(s, 3);
        if (stored && sec_equal(hash, strlen(hash), stored, strlen(stored))) {
            memset(out, 0, sizeof(*out));
            out->key_id = db_col_i64(s, 0);
            out->tenant_id = db_col_i64(s, 1);
            out->role = role_or_viewer(db_col_text(s, 2));
            snprintf(out->subject, sizeof(out->subject), "key:%lld", (long long)out->key_id);
            out->rate_limit = rate_from_column(s, 4);
            rc = 0;
        }
    }
    db_stmt_done(s);
    if (rc)
        return err_set(e, ERR_UNAUTHORIZED, "%s", bad);
    return 0;
}

int account_key_issue(struct db_conn *c, int64_t tenant_id, enum account_role role,
                      const char *name, int rate_limit, int64_t now_ms, struct arena *a,
                      struct account_key *out, const char **plaintext, struct err *e)
{
    bool own;
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = account_key_create(c, tenant_id, role, name, now_ms, a, out, plaintext, e);
    if (!rc && rate_limit != ACCOUNT_RATE_DEFAULT) {
        rc = account_key_set_rate(c, tenant_id, out->id, rate_limit, e);
        out->rate_limit = rate_limit;
    }
    return db_end_own(c, own, rc, e);
}

int account_key_set_rate(struct db_conn *c, int64_t tenant_id, int64_t key_id, int rate_limit,
                         struct err *e)
{
    if (rate_limit < ACCOUNT_RATE_UNLIMITED || rate_limit > ACCOUNT_RATE_MAX)
        return err_set_field(e, ERR_INVALID, "rate_limit",
                             "rate_limit must be 0 (unlimited) to %d requests per second",
                             ACCOUNT_RATE_MAX);
    struct db_stmt *s;
    int rc =
        db_prepare(c, &s, "UPDATE api_keys SET rate_limit = ? WHERE id = ? AND tenant_id = ?", e);
    if (rc)
        return rc;
    if (rate_limit == ACCOUNT_RATE_DEFAULT)
        db_bind_null(s, 1);
    else
        db_bind_i64(s, 1, rate_limit == ACCOUNT_RATE_UNLIMITED ? 0 : rate_limit);
    db_bind_i64(s, 2, key_id);
    db_bind_i64(s, 3, tenant_id);
    int st = db_step(s, e);
    int64_t changed = db_changes(s);
    db_stmt_done(s);
    if (st == DB_ERROR)
        return e->code;
    if (changed == 0)
        return err_set_field(e, ERR_NOT_FOUND, "id", "no API key %lld in this tenant",
                             (long long)key_id);
    return 0;
}

int account_key_touch(struct db_conn *c, int64_t key_id, int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "UPDATE api_keys SET last_used_at = ? WHERE id = ?", e);
    if (rc)
        return rc;
    db_bind_time(s, 1, now_ms);
    db_bind_i64(s, 2, key_id);
    rc = db_step(s, e) == DB_ERROR ? (int)e->code : 0;
    db_stmt_done(s);
    return rc;
}

int account_key_revoke(struct db_conn *c, int64_t tenant_id, int64_t key_id, int64_t now_ms,
                       struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) "
                        "WHERE id = ? AND tenant_id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_time(s, 1, now_ms);
    db_bind_i64(s, 2, key_id);
    db_bind_i64(s, 3, tenant_id);
    int st = db_step(s, e);
    int64_t changed = db_changes(s);
    db_stmt_done(s);
    if (st == DB_ERROR)
        return e->code;
    if (changed == 0)
        return err_set_field(e, ERR_NOT_FOUND, "id", "no API key %lld in this tenant",
                             (long long)key_id);
    return 0;
}

int account_key_list(struct db_conn *c, int64_t tenant_id, const struct page *p, struct arena *a,
                     struct account_key **rows, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT " KEY_COLUMNS " FROM api_keys WHERE tenant_id = ? AND id > ? "
                        "ORDER BY id LIMIT ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant_id);
    db_bind_i64(s, 2, p ? p->after : 0);
    db_bind_i64(s, 3, page_limit(p));
    void *out;
    rc = db_list(s, read_key_row, sizeof(struct account_key), a, &out, n, e);
    *rows = out;
    return rc;
}

/* ======================== users ======================== */

static int check_email(const char *email, struct err *e)
{
    size_t n = email ? strlen(email) : 0;
    const char *at = email ? strchr(email, '@') : NULL;
    if (n < 3 || n > 254 || !at || at == email || !at[1] || strchr(at + 1, '@') ||
        strpbrk(email, " \t\r\n<>\"'"))
        return err_set_field(e, ERR_INVALID, "email", "email must be an address like a@b.c");
    return 0;
}

int account_user_create(struct db_conn *c, int64_t tenant_id, const char *email,
                        const char *password, enum account_role role, int64_t now_ms, int64_t *id,
                        struct err *e)
{
    int rc = check_email(email, e);
    if (rc)
        return rc;
    size_t pl = password ? strlen(password) : 0;
    if (pl < 10 || pl > 256)
        return err_set_field(e, ERR_INVALID, "password", "password must be 10..256 characters");
    if (role < ROLE_VIEWER || role > ROLE_ADMIN)
        return err_set_field(e, ERR_INVALID, "role", "role must be admin, operator or viewer");
    char hash[SEC_PASSWORD_HASH_SIZE];
    rc = sec_password_hash(hash, password, pl, e);
    if (rc)
        return rc;
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "INSERT INTO users (tenant_id, email, password_hash, role, created_at) "
                    "VALUES (?, lower(?), ?, ?, ?) RETURNING id",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant_id);
    db_bind_text(s, 2, email);
    db_bind_text(s, 3, hash);
    db_bind_text(s, 4, account_role_name(role));
    db_bind_time(s, 5, now_ms);
    int st = db_step(s, e);
    if (st == DB_ROW) {
        *id = db_col_i64(s, 0);
        rc = 0;
    } else {
        rc = e->code ? (int)e->code : ERR_DB;
    }
    db_stmt_done(s);
    if (rc == ERR_CONFLICT) {
        e->code = ERR_OK;
        rc = err_set_field(e, ERR_CONFLICT, "email", "a user with this email already exists");
    }
    return rc;
}

static char dummy_hash[SEC_PASSWORD_HASH_SIZE];

static void make_dummy_hash(void)
{
    static const char pw[] = "not a real password";
    if (sec_password_hash(dummy_hash, pw, sizeof(pw) - 1, NULL))
        dummy_hash[0] = '\0';
}

int account_user_login(struct db_conn *c, const char *email, const char *tenant,
                       const char *password, struct account_principal *out, struct err *e)
{
    static const char *bad = "invalid email or password";
    enum { MAX_SAME_EMAIL = 8 };
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        tenant ? "SELECT u.id, u.tenant_id, u.role, u.password_hash FROM users u "
                                 "JOIN tenants t ON t.id = u.tenant_id WHERE u.email = lower(?) "
                                 "AND u.disabled_at IS NULL AND t.name = ? ORDER BY u.id"
                               : "SELECT id, tenant_id, role, password_hash FROM users "
                                 "WHERE email = lower(?) AND disabled_at IS NULL ORDER BY id",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, email);
    if (tenant)
        db_bind_text(s, 2, tenant);
    struct account_principal cand[MAX_SAME_EMAIL];
    char hash[MAX_SAME_EMAIL][SEC_PASSWORD_HASH_SIZE];
    int n = 0, st;
    while (n < MAX_SAME_EMAIL && (st = db_step(s, e)) == DB_ROW) {
        memset(&cand[n], 0, sizeof(cand[n]));
        cand[n].user_id = db_col_i64(s, 0);
        cand[n].tenant_id = db_col_i64(s, 1);
        cand[n].role = role_or_viewer(db_col_text(s, 2));
        str_copy(hash[n], sizeof(hash[n]), db_col_text(s, 3) ? db_col_text(s, 3) : "");
        n++;
    }
    db_stmt_done(s);
    if (n < MAX_SAME_EMAIL && st == DB_ERROR)
        return db_step_error(e);
    memset(out, 0, sizeof(*out));
    struct err pe;
    if (n == 0) {
        /* Spend the same time as a real check, so response times do not reveal which emails
         * exist. */
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, make_dummy_hash);
        err_init(&pe);
        sec_password_verify(dummy_hash, password, strlen(password), &pe);
        return err_set(e, ERR_UNAUTHORIZED, "%s", bad);
    }
    /* The same address may be a user of several tenants; the password picks among them. */
    int matches = 0;
    for (int i = 0; i < n; i++) {
        err_init(&pe);
        if (!sec_password_verify(hash[i], password, strlen(password), &pe)) {
            if (!matches)
                *out = cand[i];
            matches++;
        }
    }
    sec_wipe(hash, sizeof(hash));
    if (!matches)
        return err_set(e, ERR_UNAUTHORIZED, "%s", bad);
    if (matches > 1) {
        memset(out, 0, sizeof(*out));
        return err_set_field(e, ERR_INVALID, "tenant",
                             "this email and password sign in to several tenants: name the "
                             "tenant");
    }
    snprintf(out->subject, sizeof(out->subject), "user:%lld", (long long)out->user_id);
    return 0;
}

static void read_email(struct db_stmt *s, struct arena *a, void *out)
{
    *(const char **)out = db_col_dup(s, 0, a);
}

int account_user_email(struct db_conn *c, int64_t tenant, int64_t user_id, struct arena *a,
                       const char **email, struct err *e)
{
    *email = NULL;
    bool found = false;
    return db_get_one(c, "SELECT email FROM users WHERE tenant_id = ? AND id = ?", tenant, NULL,
                      user_id, read_email, a, email, &found, e);
}

int account_user_principal(struct db_conn *c, int64_t user_id, struct account_principal *out,
                           struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s, "SELECT tenant_id, role FROM users WHERE id = ? AND disabled_at IS NULL", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, user_id);
    int st = db_step(s, e);
    if (st == DB_ROW) {
        memset(out, 0, sizeof(*out));
        out->user_id = user_id;
        out->tenant_id = db_col_i64(s, 0);
        out->role = role_or_viewer(db_col_text(s, 1));
        snprintf(out->subject, sizeof(out->subject), "user:%lld", (long long)user_id);
        rc = 0;
    } else if (st == DB_DONE) {
        rc = err_set(e, ERR_UNAUTHORIZED, "user no longer exists or is disabled");
    } else {
        rc = e->code;
    }
    db_stmt_done(s);
    return rc;
}

static void read_user_row(struct db_stmt *s, struct arena *a, void *out)
{
    struct account_user *u = out;
    u->id = db_col_i64(s, 0);
    u->tenant_id = db_col_i64(s, 1);
    u->email = db_col_str(s, 2, a);
    u->role = role_or_viewer(db_col_text(s, 3));
    u->created_at = db_col_time(s, 4);
}

int account_user_list(struct db_conn *c, int64_t tenant_id, const struct page *p, struct arena *a,
                      struct account_user **rows, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT id, tenant_id, email, role, created_at FROM users "
                        "WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant_id);
    db_bind_i64(s, 2, p ? p->after : 0);
    db_bind_i64(s, 3, page_limit(p));
    void *out;
    rc = db_list(s, read_user_row, sizeof(struct account_user), a, &out, n, e);
    *rows = out;
    return rc;
}

/* ======================== shared secrets ======================== */

static int secret_read(struct db_conn *c, const char *name, unsigned char out[32], bool *found,
                       struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "SELECT value FROM settings WHERE name = ?", e);
    if (rc)
        return rc;
    db_bind_text(s, 1, name);
    int st = db_step(s, e);
    *found = false;
    rc = 0;
    if (st == DB_ROW) {
        size_t len = 0;
        const char *v = db_col_text(s, 0);
        if (v && !sec_hex_decode(out, 32, &len, v, strlen(v), NULL) && len == 32)
            *found = true;
        else
            rc = err_set(e, ERR_INTERNAL, "setting %s is not a 32-byte hex secret", name);
    } else if (st == DB_ERROR) {
        rc = e->code;
    }
    db_stmt_done(s);
    return rc;
}

int account_server_secret(struct db_conn *c, const char *name, unsigned char out[32], struct err *e)
{
    bool found;
    int rc = secret_read(c, name, out, &found, e);
    if (rc || found)
        return rc;
    unsigned char fresh[32];
    char hex[SEC_HEX_SIZE(32)];
    sec_random_bytes(fresh, sizeof(fresh));
    sec_hex_encode(hex, sizeof(hex), fresh, sizeof(fresh), NULL);
    struct db_stmt *s;
    /* Several processes may race here: the first insert wins and everyone reads it back. */
    rc = db_prepare(c, &s,
                    "INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO NOTHING",
                    e);
    if (rc)
        return rc;
    db_bind_text(s, 1, name);
    db_bind_text(s, 2, hex);
    db_bind_time(s, 3, clock_now_ms(NULL));
    int st = db_step(s, e);
    db_stmt_done(s);
    if (st == DB_ERROR)
        return e->code;
    rc = secret_read(c, name, out, &found, e);
    if (!rc && !found)
        rc = err_set(e, ERR_INTERNAL, "secret %s vanished after insert", name);
    return rc;
}
