/* SPDX-License-Identifier: MIT */
/*
 * Tenants, API keys and users: who may call Iceshop and as what role. Keys are shown once and
 * stored as SHA-256 hashes; user passwords as argon2id hashes. Every query is scoped by tenant.
 * Store functions take a connection; callers own transactions. Tests: tests/unit/domain/
 * test_account.c and the access tests in tests/integration/.
 */
#ifndef ICESHOP_DOMAIN_ACCOUNT_H
#define ICESHOP_DOMAIN_ACCOUNT_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "db/store.h"

#include <stdbool.h>
#include <stdint.h>

/* Ordered: a higher role may do everything a lower one may. */
enum account_role {
    ROLE_NONE = 0, /* public route: no credentials needed */
    ROLE_VIEWER = 1,
    ROLE_OPERATOR = 2,
    ROLE_ADMIN = 3,
};

#define ACCOUNT_DEFAULT_TENANT "default"
#define ACCOUNT_KEY_PREFIX     "isk_"
#define ACCOUNT_KEY_MAX        128
#define ACCOUNT_LIST_DEFAULT   50 /* keys or users per page */
#define ACCOUNT_LIST_MAX       200

/*
 * A credential's request rate, per second (burst twice that). In C: ACCOUNT_RATE_DEFAULT (0,
 * what a zeroed struct says) means the server's ICESHOP_RATE_LIMIT_KEY, ACCOUNT_RATE_UNLIMITED
 * means no limit, N > 0 is N. In the API and the CLI: absent/null = default, 0 = unlimited.
 */
#define ACCOUNT_RATE_DEFAULT   0
#define ACCOUNT_RATE_UNLIMITED (-1)
#define ACCOUNT_RATE_MAX       1000000

/* "viewer" | "operator" | "admin" → role; 0 or ERR_INVALID. */
int account_role_parse(const char *s, enum account_role *out);
const char *account_role_name(enum account_role role);
/* NULL-terminated list of role names usable as an enum for json_get_enum (index + 1 = role). */
extern const char *const account_role_names[];

struct account_tenant {
    int64_t id;
    const char *name;
    int64_t created_at;
};

struct account_key {
    int64_t id;
    int64_t tenant_id;
    const char *name;
    enum account_role role;
    const char *prefix;
    int64_t created_at;
    int64_t revoked_at; /* 0 = active */
    int64_t last_used_at;
    int rate_limit; /* ACCOUNT_RATE_DEFAULT, ACCOUNT_RATE_UNLIMITED or N per second */
};

struct account_user {
    int64_t id;
    int64_t tenant_id;
    const char *email;
    enum account_role role;
    int64_t created_at;
};

/* Who is calling: filled by authentication, read by handlers. */
struct account_principal {
    int64_t tenant_id;
    enum account_role role;
    int64_t key_id;   /* 0 unless authenticated by an API key */
    int64_t user_id;  /* 0 unless authenticated by a login token */
    char subject[96]; /* "key:12", "user:3", "admin-key": for logs and rate limiting */
    int rate_limit;   /* ACCOUNT_RATE_DEFAULT, ACCOUNT_RATE_UNLIMITED or N per second */
};

/* Tenant names: 1..64 of [a-z0-9-_.]; ERR_INVALID otherwise. */
int account_tenant_name_check(const char *name, struct err *e);
/* Look up by name; ERR_NOT_FOUND when absent. Strings live in `a`. */
int account_tenant_find(struct db_conn *c, const char *name, struct arena *a,
                        struct account_tenant *out, struct err *e);
/* Create (ERR_CONFLICT when the name is taken). */
int account_tenant_create(struct db_conn *c, const char *name, int64_t now_ms, int64_t *id,
                          struct err *e);
/* Find or create; used for the default tenant at start-up. */
int account_tenant_ensure(struct db_conn *c, const char *name, int64_t now_ms, int64_t *id,
                          struct err *e);
int account_tenant_list(struct db_conn *c, struct arena *a, struct account_tenant **rows, size_t *n,
                        struct err *e);

/*
 * Create an API key; *plaintext (allocated in `a`) is the only time the secret exists outside
 * the caller's hands: "isk_<12 hex id>_<43 chars>". Only its SHA-256 is stored.
 */
int account_key_create(struct db_conn *c, int64_t tenant_id, enum account_role role,
                       const char *name, int64_t now_ms, struct arena *a, struct account_key *out,
                       const char **plaintext, struct err *e);
/* account_key_create with a request rate (as for account_key_set_rate), in one transaction. */
int account_key_issue(struct db_conn *c, int64_t tenant_id, enum account_role role,
                      const char *name, int rate_limit, int64_t now_ms, struct arena *a,
                      struct account_key *out, const char **plaintext, struct err *e);
/*
 * Set a key's request rate (ACCOUNT_RATE_DEFAULT, ACCOUNT_RATE_UNLIMITED or 1..ACCOUNT_RATE_MAX);
 * ERR_INVALID naming "rate_limit" out of range, ERR_NOT_FOUND when the key is not the tenant's.
 * Processes that cached the key see the change within a second.
 */
int account_key_set_rate(struct db_conn *c, int64_t tenant_id, int64_t key_id, int rate_limit,
                         struct err *e);
/*
 * Resolve a presented key to its principal (with the key's rate_limit); ERR_UNAUTHORIZED when
 * unknown, malformed or revoked (one message for all, so callers learn nothing about which).
 */
int account_key_authenticate(struct db_conn *c, const char *presented,
                             struct account_principal *out, struct err *e);
/* Record that a key was used at `now_ms` (callers throttle; this always writes). */
int account_key_touch(struct db_conn *c, int64_t key_id, int64_t now_ms, struct err *e);
/* Revoke a key of this tenant; ERR_NOT_FOUND when it is not theirs. Idempotent. */
int account_key_revoke(struct db_conn *c, int64_t tenant_id, int64_t key_id, int64_t now_ms,
                       struct err *e);
/*
 * The tenant's keys, oldest first, one page: ids above p->after, at most p->limit
 * (ACCOUNT_LIST_DEFAULT when 0, capped at ACCOUNT_LIST_MAX). `p` NULL lists every key.
 * Rows and strings from `a`.
 */
int account_key_list(struct db_conn *c, int64_t tenant_id, const struct page *p, struct arena *a,
                     struct account_key **rows, size_t *n, struct err *e);

/*
 * Email: a plausible address of 3..254 bytes, unique within the tenant (another tenant may
 * have a user with the same address, and nothing here says so); password: 10..256 bytes.
 */
int account_user_create(struct db_conn *c, int64_t tenant_id, const char *email,
                        const char *password, enum account_role role, int64_t now_ms, int64_t *id,
                        struct err *e);
/*
 * Check email + password, within tenant `tenant` (its name) when not NULL. ERR_UNAUTHORIZED
 * "invalid email or password" on any mismatch. An address used in several tenants signs in to
 * the one whose password matches; when the same password matches in more than one, ERR_INVALID
 * (field "tenant") asks for the tenant's name.
 */
int account_user_login(struct db_conn *c, const char *email, const char *tenant,
                       const char *password, struct account_principal *out, struct err *e);
/* The tenant's users, oldest first, one page as account_key_list. */
int account_user_list(struct db_conn *c, int64_t tenant_id, const struct page *p, struct arena *a,
                      struct account_user **rows, size_t *n, struct err *e);
/* Principal for a user id (token verification): ERR_UNAUTHORIZED when gone or disabled. */
int account_user_principal(struct db_conn *c, int64_t user_id, struct account_principal *out,
                           struct err *e);

/*
 * The email of user `user_id` of `tenant` into *email (from `a`; NULL when there is no such
 * user): what a signed-in person's own views (/api/me/...) match their records by.
 */
int account_user_email(struct db_conn *c, int64_t tenant, int64_t user_id, struct arena *a,
                       const char **email, struct err *e);

/* A shared server secret (token signing), created on first use and stored in `settings`. */
int account_server_secret(struct db_conn *c, const char *name, unsigned char out[32],
                          struct err *e);

#endif
