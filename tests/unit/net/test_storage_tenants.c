/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/net/storage_tenants.c, the per-tenant storage resolver: a tenant without
 * a `storage` integration gets the server's storage; the default tenant may name a directory
 * and borrows the server's S3 keys; another tenant may only name a bucket, with its own keys;
 * opened storages are reused while the settings stay the same and replaced when they change
 * (also when changed behind the resolver's back); a storage in use survives its replacement;
 * errors name the field and never hold a secret. Runs on SQLite and, with TEST_PG_DSN, on
 * PostgreSQL.
 */
#include "net/storage.h"
#include "domain/account/account.h"
#include "integrations/integration_store.h"
#include "core/xalloc.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOW        1795252200000 /* 2026-11-21T09:10:00Z */
#define BUCKET_URL "s3://tenant-two?endpoint=http://127.0.0.1:9&region=eu-west-1"
#define SECRET     "secret-of-tenant-two-4411"

struct fixture {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    struct arena a;
    int64_t dflt, two;
    unsigned char key[SEC_BOX_KEY_LEN];
    char dir[256], dir2[300];
    struct storage_tenants *ss;
};

static enum db_backend backend;
static struct err err_;
static struct err *const e = &err_;

#define OK(call)                                                                                   \
    do {                                                                                           \
        err_init(e);                                                                               \
        int rc_ = (call);                                                                          \
        if (rc_)                                                                                   \
            fail_msg("%s: %d %s", #call, rc_, e->msg);                                             \
    } while (0)

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->db = testdb_open_migrated(&f->t, backend, "stten", NULL);
    f->c = testdb_acquire(f->db);
    arena_init(&f->a);
    OK(account_tenant_create(f->c, "dflt", NOW, &f->dflt, e));
    OK(account_tenant_create(f->c, "two", NOW, &f->two, e));
    sec_random_bytes(f->key, sizeof(f->key));
    const char *tmp = getenv("TEST_TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/stten-%d-%s", tmp && *tmp ? tmp : "/tmp", (int)getpid(),
             f->t.name);
    snprintf(f->dir2, sizeof(f->dir2), "%s-own", f->dir);
    char url[300];
    snprintf(url, sizeof(url), "file://%s", f->dir);
    const struct storage_config sc = {
        .url = url, .access_key = "SERVERKEY", .secret_key = "server-secret-9"};
    OK(storage_tenants_new(&sc, f->key, f->dflt, &f->ss, e));
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    arena_release(&f->a);
    storage_tenants_free(f->ss);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", f->dir, f->dir2);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", f->dir);
    db_conn_release(f->c);
    db_close(f->db);
    testdb_remove(&f->t);
    free(f);
    return 0;
}

static void set(struct fixture *f, int64_t tenant, const char *name, const char *value)
{
    const struct integration_kv kv = {name, value};
    OK(integration_put(f->c, f->key, tenant, "storage", &kv, 1, NOW, e));
}

/* storage_for_tenant's error code, with the message in `e` */
static int resolve_err(struct fixture *f, int64_t tenant)
{
    struct storage *st = NULL;
    err_init(e);
    int rc = storage_for_tenant(f->ss, f->c, tenant, &f->a, &st, e);
    if (!rc)
        fail_msg("tenant %lld resolved, want an error", (long long)tenant);
    assert_null(strstr(e->msg, SECRET));
    assert_null(strstr(e->msg, "server-secret-9"));
    return rc;
}

static struct storage *resolve(struct fixture *f, int64_t tenant)
{
    struct storage *st = NULL;
    OK(storage_for_tenant(f->ss, f->c, tenant, &f->a, &st, e));
    assert_non_null(st);
    return st;
}

/* Without settings every tenant has the server's storage. */
static void unset_is_server(void **state)
{
    struct fixture *f = *state;
    assert_ptr_equal(resolve(f, f->dflt), storage_tenants_server(f->ss));
    assert_ptr_equal(resolve(f, f->two), storage_tenants_server(f->ss));
    /* keys without a url choose nothing */
    set(f, f->two, "access_key_id", "AKIDTWO");
    assert_ptr_equal(resolve(f, f->two), storage_tenants_server(f->ss));
}

/* The default tenant may name its own directory; the objects go there. */
static void default_tenant_directory(void **state)
{
    struct fixture *f = *state;
    char url[400];
    snprintf(url, sizeof(url), "file://%s", f->dir2);
    set(f, f->dflt, "url", url);
    struct storage *st = resolve(f, f->dflt);
    assert_ptr_not_equal(st, storage_tenants_server(f->ss));
    assert_string_equal(storage_kind(st), "file");
    char path[STORAGE_PATH_MAX];
    int fd;
    OK(storage_stage(st, path, &fd, e));
    assert_int_equal(write(fd, "abc", 3), 3);
    close(fd);
    OK(storage_put_file(st, "t1/own", path, 3, "", "text/plain", e));
    char want[600];
    snprintf(want, sizeof(want), "%s/t1/own", f->dir2);
    struct stat sb;
    assert_int_equal(stat(want, &sb), 0);
    assert_int_equal(sb.st_size, 3);
    /* the default tenant's bucket borrows the server's keys */
    set(f, f->dflt, "url", BUCKET_URL);
    assert_string_equal(storage_kind(resolve(f, f->dflt)), "s3");
}

/* Another tenant names a bucket with its own keys; never a directory, never the server's keys. */
static void other_tenant_bucket(void **state)
{
    struct fixture *f = *state;
    char url[400];
    snprintf(url, sizeof(url), "file://%s", f->dir2);
    set(f, f->two, "url", url);
    assert_int_equal(resolve_err(f, f->two), ERR_INVALID);
    assert_string_equal(e->field, "url");
    assert_int_equal(storage_url_check(url, false, e), ERR_INVALID);
    OK(storage_url_check(url, true, e));
    assert_int_equal(storage_url_check("s3://x?endpoint=ftp://h", false, e), ERR_INVALID);
    assert_int_equal(storage_url_check("http://h/b", false, e), ERR_INVALID);

    set(f, f->two, "url", BUCKET_URL);
    assert_int_equal(resolve_err(f, f->two), ERR_INVALID);
    assert_string_equal(e->field, "access_key_id");
    set(f, f->two, "access_key_id", "AKIDTWO");
    assert_int_equal(resolve_err(f, f->two), ERR_INVALID);
    assert_string_equal(e->field, "secret_access_key");
    set(f, f->two, "secret_access_key", SECRET);
    struct storage *st = resolve(f, f->two);
    assert_string_equal(storage_kind(st), "s3");
    /* its presigned links are signed with its own key */
    struct buf url2;
    buf_init(&url2, 8192);
    OK(storage_presign(st, "GET", "t2/x", NOW / 1000, 600, &url2, e));
    assert_non_null(strstr(buf_str(&url2), "X-Amz-Credential=AKIDTWO%2F"));
    assert_non_null(strstr(buf_str(&url2), "/tenant-two/t2/x"));
    assert_null(strstr(buf_str(&url2), SECRET));
    buf_release(&url2);
}

/* Same settings, same storage; changed settings, a new one; the old one lives while in use. */
static void cached_and_replaced(void **state)
{
    struct fixture *f = *state;
    set(f, f->two, "url", BUCKET_URL);
    set(f, f->two, "access_key_id", "AKIDTWO");
    set(f, f->two, "secret_access_key", SECRET);
    struct storage *first = resolve(f, f->two);
    assert_ptr_equal(resolve(f, f->two), first);
    /* changed in the database (another process, the CLI): noticed at the next call */
    set(f, f->two, "secret_access_key", "another-secret");
    struct storage *second = resolve(f, f->two);
    assert_ptr_not_equal(second, first);
    assert_ptr_equal(resolve(f, f->two), second);
    /* `first` is still held by f->a: usable after its replacement (ASan would object) */
    assert_string_equal(storage_kind(first), "s3");
    struct buf u;
    buf_init(&u, 8192);
    OK(storage_presign(first, "GET", "t2/y", NOW / 1000, 60, &u, e));
    buf_release(&u);
    /* forgetting drops the cached one; the next call opens a fresh one */
    storage_tenants_forget(f->ss, f->two);
    assert_string_equal(storage_kind(second), "s3");
    struct storage *third = resolve(f, f->two);
    assert_string_equal(storage_kind(third), "s3");
    /* removing the url returns the tenant to the server's storage */
    set(f, f->two, "url", NULL);
    assert_ptr_equal(resolve(f, f->two), storage_tenants_server(f->ss));
    /* the default tenant naming the server's own url is the server's storage */
    char url[300];
    snprintf(url, sizeof(url), "file://%s", f->dir);
    set(f, f->dflt, "url", url);
    assert_ptr_equal(resolve(f, f->dflt), storage_tenants_server(f->ss));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(unset_is_server, setup, teardown),
        cmocka_unit_test_setup_teardown(default_tenant_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(other_tenant_bucket, setup, teardown),
        cmocka_unit_test_setup_teardown(cached_and_replaced, setup, teardown),
    };
    return TESTDB_RUN_GROUPS("storage_tenants", tests, &backend) ? 1 : 0;
}
