/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/account (account.h): tenants, API keys, users and server secrets
 * against a migrated database. The same cases run on SQLite (a temp file per test) and, when
 * TEST_PG_DSN is set, on PostgreSQL (a fresh schema per test via the URI's search_path).
 */
#include "domain/account/account.h"
#include "core/crypto.h"
#include "core/xalloc.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1795252200000 /* 2026-11-21T09:10:00Z */

struct fixture {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    struct arena a;
};

static enum db_backend backend; /* set by testdb_run_groups */

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->db = testdb_open_migrated(&f->t, backend, "acct", NULL);
    f->c = testdb_acquire(f->db);
    arena_init(&f->a);
    sec_password_set_cost(SEC_PWHASH_MIN);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    arena_release(&f->a);
    db_conn_release(f->c);
    db_close(f->db);
    testdb_remove(&f->t);
    free(f);
    return 0;
}

static int64_t tenant(struct fixture *f, const char *name)
{
    struct err e;
    err_init(&e);
    int64_t id = 0;
    if (account_tenant_create(f->c, name, NOW, &id, &e))
        fail_msg("tenant %s: %s", name, e.msg);
    return id;
}

static const char *new_key(struct fixture *f, int64_t tenant_id, enum account_role role,
                           struct account_key *out)
{
    struct err e;
    err_init(&e);
    const char *plain = NULL;
    if (account_key_create(f->c, tenant_id, role, "ci", NOW, &f->a, out, &plain, &e))
        fail_msg("key: %s", e.msg);
    return plain;
}

/* ======================== pure ======================== */

static void test_names(void **state)
{
    (void)state;
    struct {
        const char *name;
        int rc;
    } cases[] = {
        {"default", 0},
        {"a", 0},
        {"shop-1_eu.north", 0},
        {"0123456789012345678901234567890123456789012345678901234567890123", 0}, /* 64 */
        {"01234567890123456789012345678901234567890123456789012345678901234", ERR_INVALID},
        {"", ERR_INVALID},
        {NULL, ERR_INVALID},
        {"Shop", ERR_INVALID},
        {"shop one", ERR_INVALID},
        {"shop/one", ERR_INVALID},
        {"sh\xc3\xb6p", ERR_INVALID},
        {"shop\n", ERR_INVALID},
        {"shop'; drop", ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err e;
        err_init(&e);
        int rc = account_tenant_name_check(cases[i].name, &e);
        if (rc != cases[i].rc)
            fail_msg("tenant name \"%s\": rc %d, want %d", cases[i].name ? cases[i].name : "(null)",
                     rc, cases[i].rc);
        if (rc)
            assert_string_equal(e.field, "tenant");
    }

    struct {
        const char *s;
        int rc;
        enum account_role role;
    } roles[] = {
        {"viewer", 0, ROLE_VIEWER}, {"operator", 0, ROLE_OPERATOR}, {"admin", 0, ROLE_ADMIN},
        {"Admin", ERR_INVALID, 0},  {"none", ERR_INVALID, 0},       {"", ERR_INVALID, 0},
    };
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        enum account_role r = ROLE_NONE;
        assert_int_equal(account_role_parse(roles[i].s, &r), roles[i].rc);
        if (!roles[i].rc) {
            assert_int_equal(r, roles[i].role);
            assert_string_equal(account_role_name(r), roles[i].s);
        }
    }
    assert_string_equal(account_role_name(ROLE_NONE), "none");
    assert_string_equal(account_role_name((enum account_role)9), "none");
}

/* ======================== tenants ======================== */

static void test_tenants(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    int64_t a = tenant(f, "alpha");
    int64_t b = tenant(f, "beta");
    assert_true(a > 0 && b > 0 && a != b);

    int64_t dup = -1;
    assert_int_equal(account_tenant_create(f->c, "alpha", NOW, &dup, &e), ERR_CONFLICT);
    assert_string_equal(e.field, "tenant");
    assert_non_null(strstr(e.msg, "alpha"));
    assert_int_equal(dup, -1);
    err_init(&e);
    assert_int_equal(account_tenant_create(f->c, "Bad Name", NOW, &dup, &e), ERR_INVALID);

    struct account_tenant t;
    err_init(&e);
    assert_int_equal(account_tenant_find(f->c, "beta", &f->a, &t, &e), 0);
    assert_int_equal(t.id, b);
    assert_string_equal(t.name, "beta");
    assert_int_equal(t.created_at, NOW);
    assert_int_equal(account_tenant_find(f->c, "gamma", &f->a, &t, &e), ERR_NOT_FOUND);
    assert_string_equal(e.field, "tenant");

    /* ensure: finds an existing tenant, creates a missing one once. */
    int64_t id1 = 0, id2 = 0, id3 = 0;
    err_init(&e);
    assert_int_equal(account_tenant_ensure(f->c, "alpha", NOW, &id1, &e), 0);
    assert_int_equal(id1, a);
    assert_int_equal(account_tenant_ensure(f->c, ACCOUNT_DEFAULT_TENANT, NOW, &id2, &e), 0);
    assert_int_equal(account_tenant_ensure(f->c, ACCOUNT_DEFAULT_TENANT, NOW + 1, &id3, &e), 0);
    assert_true(id2 > 0);
    assert_int_equal(id2, id3);
    assert_int_equal(account_tenant_ensure(f->c, "NOPE", NOW, &id3, &e), ERR_INVALID);

    struct account_tenant *rows = NULL;
    size_t n = 0;
    err_init(&e);
    assert_int_equal(account_tenant_list(f->c, &f->a, &rows, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0].name, "alpha");
    assert_string_equal(rows[1].name, "beta");
    assert_string_equal(rows[2].name, ACCOUNT_DEFAULT_TENANT);

    /* More rows than the first allocation holds. */
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof(name), "t%02d", i);
        tenant(f, name);
    }
    assert_int_equal(account_tenant_list(f->c, &f->a, &rows, &n, &e), 0);
    assert_int_equal(n, 43);
    assert_string_equal(rows[42].name, "t39");
}

/* ======================== keys ======================== */

static void check_key_format(const char *k)
{
    size_t pl = strlen(ACCOUNT_KEY_PREFIX);
    assert_int_equal(strncmp(k, ACCOUNT_KEY_PREFIX, pl), 0);
    assert_int_equal(strlen(k), pl + 12 + 1 + 32);
    for (size_t i = pl; i < pl + 12; i++)
        assert_true(isdigit((unsigned char)k[i]) || (k[i] >= 'a' && k[i] <= 'f'));
    assert_int_equal(k[pl + 12], '_');
    for (size_t i = pl + 13; k[i]; i++)
        assert_true(isalnum((unsigned char)k[i]) || k[i] == '-' || k[i] == '_');
}

static void test_keys(void **state)
{
    struct fixture *f = *state;
    struct err e;
    int64_t ta = tenant(f, "alpha"), tb = tenant(f, "beta");
    struct account_key ka, ka2, kb;
    const char *pa = new_key(f, ta, ROLE_ADMIN, &ka);
    const char *pa2 = new_key(f, ta, ROLE_VIEWER, &ka2);
    const char *pb = new_key(f, tb, ROLE_OPERATOR, &kb);
    check_key_format(pa);
    check_key_format(pa2);
    check_key_format(pb);
    assert_string_not_equal(pa, pa2);
    assert_int_equal(ka.tenant_id, ta);
    assert_int_equal(ka.role, ROLE_ADMIN);
    assert_string_equal(ka.name, "ci");
    assert_int_equal(strncmp(ka.prefix, pa + strlen(ACCOUNT_KEY_PREFIX), 12), 0);
    assert_int_equal(ka.created_at, NOW);
    assert_int_equal(ka.revoked_at, 0);

    /* Authentication. */
    struct account_principal p;
    err_init(&e);
    assert_int_equal(account_key_authenticate(f->c, pa, &p, &e), 0);
    assert_int_equal(p.tenant_id, ta);
    assert_int_equal(p.role, ROLE_ADMIN);
    assert_int_equal(p.key_id, ka.id);
    assert_int_equal(p.user_id, 0);
    char subject[32];
    snprintf(subject, sizeof(subject), "key:%lld", (long long)ka.id);
    assert_string_equal(p.subject, subject);
    assert_int_equal(account_key_authenticate(f->c, pb, &p, &e), 0);
    assert_int_equal(p.tenant_id, tb);
    assert_int_equal(p.role, ROLE_OPERATOR);

    char wrong_secret[128], unknown_prefix[128], long_key[200];
    snprintf(wrong_secret, sizeof(wrong_secret), "%s", pa);
    wrong_secret[strlen(wrong_secret) - 1] ^= 1;
    snprintf(unknown_prefix, sizeof(unknown_prefix), "%s", pa);
    unknown_prefix[strlen(ACCOUNT_KEY_PREFIX)] =
        unknown_prefix[strlen(ACCOUNT_KEY_PREFIX)] == '0' ? '1' : '0';
    memset(long_key, 'a', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    memcpy(long_key, pa, strlen(pa));
    char mixed[128]; /* another key's prefix with this key's secret */
    snprintf(mixed, sizeof(mixed), "%.*s%s", (int)(strlen(ACCOUNT_KEY_PREFIX) + 12), pb,
             pa + strlen(ACCOUNT_KEY_PREFIX) + 12);
    const char *bad[] = {
        wrong_secret,
        unknown_prefix,
        long_key,
        mixed,
        "",
        "isk_",
        "isk_abc",
        "isk_0123456789ab",
        "isk_0123456789ab_",
        "xsk_0123456789ab_secret",
        pa + 1,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_init(&e);
        memset(&p, 0x5a, sizeof(p));
        int rc = account_key_authenticate(f->c, bad[i], &p, &e);
        if (rc != ERR_UNAUTHORIZED)
            fail_msg("key \"%s\": rc %d, want ERR_UNAUTHORIZED", bad[i], rc);
        assert_string_equal(e.msg, "invalid or revoked API key");
    }

    /* Revoking another tenant's key: not found, and the key keeps working. */
    err_init(&e);
    assert_int_equal(account_key_revoke(f->c, tb, ka.id, NOW, &e), ERR_NOT_FOUND);
    assert_string_equal(e.field, "id");
    err_init(&e);
    assert_int_equal(account_key_authenticate(f->c, pa, &p, &e), 0);
    assert_int_equal(account_key_revoke(f->c, ta, 999999, NOW, &e), ERR_NOT_FOUND);

    /* Revoke for real; idempotent, and the first time is kept. */
    err_init(&e);
    assert_int_equal(account_key_revoke(f->c, ta, ka.id, NOW + 5000, &e), 0);
    assert_int_equal(account_key_revoke(f->c, ta, ka.id, NOW + 9000, &e), 0);
    assert_int_equal(account_key_authenticate(f->c, pa, &p, &e), ERR_UNAUTHORIZED);
    assert_string_equal(e.msg, "invalid or revoked API key");
    err_init(&e);
    assert_int_equal(account_key_authenticate(f->c, pa2, &p, &e), 0); /* sibling unaffected */

    /* Touch records last use. */
    assert_int_equal(account_key_touch(f->c, ka2.id, NOW + 60000, &e), 0);

    /* Lists are scoped by tenant. */
    struct account_key *rows;
    size_t n;
    assert_int_equal(account_key_list(f->c, ta, NULL, &f->a, &rows, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].id, ka.id);
    assert_int_equal(rows[0].revoked_at, NOW + 5000);
    assert_int_equal(rows[0].role, ROLE_ADMIN);
    assert_int_equal(rows[1].id, ka2.id);
    assert_int_equal(rows[1].revoked_at, 0);
    assert_int_equal(rows[1].last_used_at, NOW + 60000);
    assert_int_equal(rows[1].role, ROLE_VIEWER);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rows[i].tenant_id, ta);
    assert_int_equal(account_key_list(f->c, tb, NULL, &f->a, &rows, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, kb.id);
    assert_int_equal(account_key_list(f->c, 424242, NULL, &f->a, &rows, &n, &e), 0);
    assert_int_equal(n, 0);

    /* Bad arguments. */
    struct account_key k;
    const char *plain = NULL;
    char longname[128];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    struct {
        enum account_role role;
        const char *name;
        const char *field;
    } badargs[] = {
        {ROLE_NONE, "x", "role"},
        {(enum account_role)7, "x", "role"},
        {ROLE_VIEWER, longname, "name"},
    };
    for (size_t i = 0; i < sizeof(badargs) / sizeof(badargs[0]); i++) {
        err_init(&e);
        assert_int_equal(account_key_create(f->c, ta, badargs[i].role, badargs[i].name, NOW, &f->a,
                                            &k, &plain, &e),
                         ERR_INVALID);
        assert_string_equal(e.field, badargs[i].field);
        assert_null(plain);
    }
    err_init(&e);
    assert_int_equal(account_key_create(f->c, ta, ROLE_VIEWER, NULL, NOW, &f->a, &k, &plain, &e),
                     0);
    assert_string_equal(k.name, "");
}

/* ======================== users ======================== */

static void test_users(void **state)
{
    struct fixture *f = *state;
    struct err e;
    int64_t ta = tenant(f, "alpha"), tb = tenant(f, "beta");
    int64_t u1 = 0, u2 = 0, u3 = 0;
    err_init(&e);
    assert_int_equal(
        account_user_create(f->c, ta, "Ada@Example.COM", "correct horse", ROLE_ADMIN, NOW, &u1, &e),
        0);
    assert_int_equal(
        account_user_create(f->c, ta, "bob@example.com", "0123456789", ROLE_VIEWER, NOW, &u2, &e),
        0);
    assert_int_equal(account_user_create(f->c, tb, "cy@example.com", "battery staple",
                                         ROLE_OPERATOR, NOW, &u3, &e),
                     0);
    assert_true(u1 > 0 && u2 > 0 && u3 > 0 && u1 != u2);

    char pw256[257], pw257[258];
    memset(pw256, 'p', 256);
    pw256[256] = '\0';
    memset(pw257, 'p', 257);
    pw257[257] = '\0';
    struct {
        int64_t tenant;
        const char *email, *password;
        enum account_role role;
        int rc;
        const char *field;
    } cases[] = {
        {ta, "ADA@example.com", "another password", ROLE_VIEWER, ERR_CONFLICT, "email"},
        {ta, "d@x.io", "short", ROLE_VIEWER, ERR_INVALID, "password"},
        {ta, "d@x.io", "123456789", ROLE_VIEWER, ERR_INVALID, "password"},
        {ta, "d@x.io", NULL, ROLE_VIEWER, ERR_INVALID, "password"},
        {ta, "d@x.io", pw257, ROLE_VIEWER, ERR_INVALID, "password"},
        {ta, "d@x.io", "long enough", ROLE_NONE, ERR_INVALID, "role"},
        {ta, "no-at-sign", "long enough", ROLE_VIEWER, ERR_INVALID, "email"},
        {ta, "@x.io", "long enough", ROLE_VIEWER, ERR_INVALID, "email"},
        {ta, "d@", "long enough", ROLE_VIEWER, ERR_INVALID, "email"},
        {ta, "d@@x.io", "long enough", ROLE_VIEWER, ERR_INVALID, "email"},
        {ta, "d e@x.io", "long enough", ROLE_VIEWER, ERR_INVALID, "email"},
        {ta, "", "long enough", ROLE_VIEWER, ERR_INVALID, "email"},
        {ta, NULL, "long enough", ROLE_VIEWER, ERR_INVALID, "email"},
        {ta, "e@x.io", pw256, ROLE_OPERATOR, 0, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err_init(&e);
        int64_t id = -1;
        int rc = account_user_create(f->c, cases[i].tenant, cases[i].email, cases[i].password,
                                     cases[i].role, NOW, &id, &e);
        if (rc != cases[i].rc)
            fail_msg("user case %zu (%s): rc %d, want %d (%s)", i,
                     cases[i].email ? cases[i].email : "(null)", rc, cases[i].rc, e.msg);
        if (rc) {
            assert_string_equal(e.field, cases[i].field);
            assert_int_equal(id, -1);
        }
    }

    /* Stored lowercased; lists scoped by tenant. */
    struct account_user *rows;
    size_t n;
    err_init(&e);
    assert_int_equal(account_user_list(f->c, ta, NULL, &f->a, &rows, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0].email, "ada@example.com");
    assert_int_equal(rows[0].role, ROLE_ADMIN);
    assert_int_equal(rows[0].created_at, NOW);
    assert_string_equal(rows[1].email, "bob@example.com");
    assert_string_equal(rows[2].email, "e@x.io");
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rows[i].tenant_id, ta);
    assert_int_equal(account_user_list(f->c, tb, NULL, &f->a, &rows, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].email, "cy@example.com");
    /* an address is unique per tenant: beta may have its own ada, and learns nothing of alpha's */
    int64_t u4 = 0;
    err_init(&e);
    assert_int_equal(account_user_create(f->c, tb, "ada@example.com", "beta password", ROLE_VIEWER,
                                         NOW, &u4, &e),
                     0);
    assert_true(u4 > 0 && u4 != u1);

    /* Login. */
    struct {
        const char *email, *tenant, *password;
        int rc;
        int64_t user, tenant_id;
        enum account_role role;
    } logins[] = {
        {"ada@example.com", NULL, "correct horse", 0, u1, ta, ROLE_ADMIN},
        {"ADA@EXAMPLE.COM", NULL, "correct horse", 0, u1, ta, ROLE_ADMIN},
        {"ada@example.com", NULL, "beta password", 0, u4, tb, ROLE_VIEWER}, /* the password picks */
        {"ada@example.com", "beta", "beta password", 0, u4, tb, ROLE_VIEWER},
        {"ada@example.com", "alpha", "correct horse", 0, u1, ta, ROLE_ADMIN},
        {"ada@example.com", "beta", "correct horse", ERR_UNAUTHORIZED, 0, 0, 0},
        {"ada@example.com", "gamma", "correct horse", ERR_UNAUTHORIZED, 0, 0, 0},
        {"cy@example.com", NULL, "battery staple", 0, u3, tb, ROLE_OPERATOR},
        {"ada@example.com", NULL, "Correct horse", ERR_UNAUTHORIZED, 0, 0, 0},
        {"ada@example.com", NULL, "correct horse ", ERR_UNAUTHORIZED, 0, 0, 0},
        {"ada@example.com", NULL, "", ERR_UNAUTHORIZED, 0, 0, 0},
        {"bob@example.com", NULL, "correct horse", ERR_UNAUTHORIZED, 0, 0, 0},
        {"nobody@example.com", NULL, "correct horse", ERR_UNAUTHORIZED, 0, 0, 0},
        {"", NULL, "", ERR_UNAUTHORIZED, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(logins) / sizeof(logins[0]); i++) {
        struct account_principal p;
        err_init(&e);
        int rc =
            account_user_login(f->c, logins[i].email, logins[i].tenant, logins[i].password, &p, &e);
        if (rc != logins[i].rc)
            fail_msg("login %s / %s: rc %d, want %d (%s)", logins[i].email, logins[i].password, rc,
                     logins[i].rc, e.msg);
        if (rc) {
            assert_string_equal(e.msg, "invalid email or password");
            continue;
        }
        assert_int_equal(p.user_id, logins[i].user);
        assert_int_equal(p.tenant_id, logins[i].tenant_id);
        assert_int_equal(p.role, logins[i].role);
        assert_int_equal(p.key_id, 0);
        char subject[32];
        snprintf(subject, sizeof(subject), "user:%lld", (long long)logins[i].user);
        assert_string_equal(p.subject, subject);
    }

    /* Principal by id (token verification). */
    struct account_principal p;
    err_init(&e);
    assert_int_equal(account_user_principal(f->c, u2, &p, &e), 0);
    assert_int_equal(p.user_id, u2);
    assert_int_equal(p.tenant_id, ta);
    assert_int_equal(p.role, ROLE_VIEWER);
    char subject[32];
    snprintf(subject, sizeof(subject), "user:%lld", (long long)u2);
    assert_string_equal(p.subject, subject);
    assert_int_equal(account_user_principal(f->c, 987654, &p, &e), ERR_UNAUTHORIZED);
    /* A disabled user can neither log in nor use a token. */
    char sql[128];
    snprintf(sql, sizeof(sql), "UPDATE users SET disabled_at = created_at WHERE id = %lld",
             (long long)u1);
    err_init(&e);
    assert_int_equal(db_exec(f->c, sql, &e), 0);
    assert_int_equal(account_user_principal(f->c, u1, &p, &e), ERR_UNAUTHORIZED);
    err_init(&e);
    assert_int_equal(account_user_login(f->c, "ada@example.com", NULL, "correct horse", &p, &e),
                     ERR_UNAUTHORIZED);
    /* the same address and password in two tenants: the tenant must be named */
    int64_t u5 = 0;
    assert_int_equal(account_user_create(f->c, tb, "dup@example.com", "same password", ROLE_VIEWER,
                                         NOW, &u5, &e),
                     0);
    assert_int_equal(account_user_create(f->c, ta, "dup@example.com", "same password", ROLE_VIEWER,
                                         NOW, &u5, &e),
                     0);
    err_init(&e);
    assert_int_equal(account_user_login(f->c, "dup@example.com", NULL, "same password", &p, &e),
                     ERR_INVALID);
    assert_string_equal(e.field, "tenant");
    err_init(&e);
    assert_int_equal(account_user_login(f->c, "dup@example.com", "alpha", "same password", &p, &e),
                     0);
    assert_int_equal(p.tenant_id, ta);
}

/* ======================== secrets ======================== */

static void test_server_secret(void **state)
{
    struct fixture *f = *state;
    struct err e;
    err_init(&e);
    unsigned char s1[32], s2[32], other[32], zero[32] = {0};
    assert_int_equal(account_server_secret(f->c, "token_key", s1, &e), 0);
    assert_int_equal(account_server_secret(f->c, "token_key", s2, &e), 0);
    assert_memory_equal(s1, s2, 32);
    assert_memory_not_equal(s1, zero, 32);
    assert_int_equal(account_server_secret(f->c, "other_key", other, &e), 0);
    assert_memory_not_equal(s1, other, 32);

    /* A second connection (another process, in effect) sees the same secret. */
    struct db_conn *c2;
    assert_int_equal(db_conn_acquire(f->db, &c2, &e), 0);
    assert_int_equal(account_server_secret(c2, "token_key", s2, &e), 0);
    assert_memory_equal(s1, s2, 32);
    db_conn_release(c2);

    /* A corrupt stored value is an error, not a silent new secret. */
    assert_int_equal(
        db_exec(f->c, "UPDATE settings SET value = 'xyz' WHERE name = 'other_key'", &e), 0);
    assert_int_equal(account_server_secret(f->c, "other_key", other, &e), ERR_INTERNAL);
}

/* Per-key request rates: stored, listed, authenticated with, changed, refused out of range. */
static void test_key_rates(void **state)
{
    struct fixture *f = *state;
    struct err e;
    int64_t ta = tenant(f, "alpha"), tb = tenant(f, "beta");
    const struct {
        int rate;
    } cases[] = {{ACCOUNT_RATE_DEFAULT}, {ACCOUNT_RATE_UNLIMITED}, {1}, {250}, {ACCOUNT_RATE_MAX}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct account_key k;
        const char *plain = NULL;
        err_init(&e);
        if (account_key_issue(f->c, ta, ROLE_OPERATOR, "rated", cases[i].rate, NOW, &f->a, &k,
                              &plain, &e))
            fail_msg("case %zu: %s", i, e.msg);
        assert_int_equal(k.rate_limit, cases[i].rate);
        struct account_principal p;
        assert_int_equal(account_key_authenticate(f->c, plain, &p, &e), 0);
        if (p.rate_limit != cases[i].rate)
            fail_msg("case %zu: principal rate %d, want %d", i, p.rate_limit, cases[i].rate);
        struct account_key *rows;
        size_t n;
        assert_int_equal(account_key_list(f->c, ta, NULL, &f->a, &rows, &n, &e), 0);
        assert_int_equal(rows[n - 1].id, k.id);
        assert_int_equal(rows[n - 1].rate_limit, cases[i].rate);
        /* and back to the default */
        assert_int_equal(account_key_set_rate(f->c, ta, k.id, ACCOUNT_RATE_DEFAULT, &e), 0);
        assert_int_equal(account_key_authenticate(f->c, plain, &p, &e), 0);
        assert_int_equal(p.rate_limit, ACCOUNT_RATE_DEFAULT);
    }
    struct account_key k;
    const char *plain = NULL;
    int bad[] = {ACCOUNT_RATE_UNLIMITED - 1, ACCOUNT_RATE_MAX + 1};
    for (size_t i = 0; i < 2; i++) {
        err_init(&e);
        assert_int_equal(
            account_key_issue(f->c, ta, ROLE_VIEWER, "bad", bad[i], NOW, &f->a, &k, &plain, &e),
            ERR_INVALID);
        assert_string_equal(e.field, "rate_limit");
    }
    /* the refused keys were not created: issue is one transaction */
    struct account_key *rows;
    size_t n;
    assert_int_equal(account_key_list(f->c, ta, NULL, &f->a, &rows, &n, &e), 0);
    assert_int_equal(n, sizeof(cases) / sizeof(cases[0]));
    /* another tenant's key cannot be changed */
    err_init(&e);
    assert_int_equal(account_key_set_rate(f->c, tb, rows[0].id, 5, &e), ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest common[] = {
        cmocka_unit_test(test_names),
    };
    const struct CMUnitTest db_tests[] = {
        cmocka_unit_test_setup_teardown(test_tenants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_rates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_secret, setup, teardown),
    };

    int failed = cmocka_run_group_tests_name("account_common", common, NULL, NULL);
    failed += TESTDB_RUN_GROUPS("account", db_tests, &backend);
    return failed ? 1 : 0;
}
