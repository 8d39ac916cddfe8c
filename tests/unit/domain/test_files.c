/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/files: magic-byte detection (allowed types, executables and other
 * known formats refused by name, short and empty content), name sanitising (paths, control
 * bytes, quotes, UTF-8, length), the upload scan (limit, SHA-256, type decided across pieces),
 * and the store and service over a local storage directory (owner access, presigned local
 * links, limits, purge), on SQLite and, with TEST_PG_DSN, PostgreSQL.
 */
#include "domain/files/files.h"
#include "domain/files/files_service.h"
#include "domain/account/account.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "support/check.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOW 1795252200000 /* 2026-11-21T09:10:00Z */

/* ---------------------------------------------------------------- pure rules */

static void sniff_types(void **state)
{
    (void)state;
    struct {
        const char *bytes;
        size_t n;
        const char *mime;
        bool allowed;
    } cases[] = {
        {"%PDF-1.7\n", 9, "application/pdf", true},
        {"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, "image/png", true},
        {"\xff\xd8\xff\xe0\0\x10JFIF", 10, "image/jpeg", true},
        {"RIFF\x24\0\0\0WEBPVP8 ", 16, "image/webp", true},
        {"MZ\x90\0\x03\0\0\0", 8, "application/x-msdownload", false},
        {"\x7f"
         "ELF\x02\x01\x01",
         7, "application/x-executable", false},
        {"\xcf\xfa\xed\xfe\x07\0\0\x01", 8, "application/x-mach-binary", false},
        {"#!/bin/sh\nrm -rf /", 18, "text/x-shellscript", false},
        {"PK\x03\x04\x14\0", 6, "application/zip", false},
        {"GIF89a\x01\0", 8, "image/gif", false},
        {"RIFF\x24\0\0\0WAVEfmt ", 16, "application/octet-stream", false},
        {"%PD", 3, "application/octet-stream", false},         /* too short to be a PDF */
        {"\x89PNG\r\n", 6, "application/octet-stream", false}, /* truncated signature */
        {"", 0, "application/octet-stream", false},
        {"hello, world", 12, "application/octet-stream", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct files_kind *k = files_sniff(cases[i].bytes, cases[i].n);
        if (strcmp(k->mime, cases[i].mime) != 0 || k->allowed != cases[i].allowed)
            fail_msg("case %zu: got %s (%d), want %s", i, k->mime, k->allowed, cases[i].mime);
    }
}

static void name_sanitising(void **state)
{
    (void)state;
    struct {
        const char *in, *out;
    } cases[] = {
        {"report.pdf", "report.pdf"},
        {"../../etc/passwd", "passwd"},
        {"C:\\Users\\x\\evil.exe.pdf", "evil.exe.pdf"},
        {".htaccess", "htaccess"},
        {"...", "file"},
        {"", "file"},
        {NULL, "file"},
        {"a\"b'c<d>.png", "a_b_c_d_.png"},
        {"new\r\nline\t.pdf", "new__line_.pdf"},
        {"şğıİ çöü.pdf", "şğıİ çöü.pdf"},
        {"bad\xff\xfeutf8.pdf", "bad__utf8.pdf"},
        {"  spaced .pdf. ", "spaced .pdf"},
        {"dir/", "file"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[FILES_NAME_MAX + 1];
        files_name_sanitize(cases[i].in, out);
        if (strcmp(out, cases[i].out) != 0)
            fail_msg("case %zu: '%s' → '%s', want '%s'", i, cases[i].in ? cases[i].in : "NULL", out,
                     cases[i].out);
    }
    /* long names are cut at a character boundary and keep their extension */
    char longname[600];
    size_t o = 0;
    for (int i = 0; i < 100; i++) {
        memcpy(longname + o, "ş", 2);
        o += 2;
    }
    memcpy(longname + o, "x.pdf", 6);
    char out[FILES_NAME_MAX + 1];
    files_name_sanitize(longname, out);
    assert_true(strlen(out) <= FILES_NAME_MAX);
    assert_true(str_utf8_valid(out, strlen(out)));
    assert_string_equal(out + strlen(out) - 4, ".pdf");
}

static void scan_limits_and_hash(void **state)
{
    (void)state;
    struct files_scan s;
    struct err e;
    char hex[SEC_HEX_SIZE(SEC_SHA256_LEN)];
    /* the type is decided across pieces of one byte */
    files_scan_init(&s, 100);
    const char *pdf = "%PDF-1.4 body";
    for (size_t i = 0; i < strlen(pdf); i++) {
        err_init(&e);
        assert_int_equal(files_scan_update(&s, pdf + i, 1, &e), 0);
    }
    err_init(&e);
    assert_int_equal(files_scan_finish(&s, hex, &e), 0);
    assert_string_equal(s.kind->mime, "application/pdf");
    assert_int_equal(s.size, 13);
    /* sha256("%PDF-1.4 body") computed independently */
    unsigned char d[SEC_SHA256_LEN];
    char want[SEC_HEX_SIZE(SEC_SHA256_LEN)];
    sec_sha256(d, pdf, strlen(pdf));
    sec_hex_encode(want, sizeof(want), d, sizeof(d), &e);
    assert_string_equal(hex, want);

    /* one byte over the limit */
    files_scan_init(&s, 12);
    err_init(&e);
    assert_int_equal(files_scan_update(&s, pdf, 12, &e), 0);
    assert_int_equal(files_scan_update(&s, "y", 1, &e), ERR_TOO_LARGE);
    assert_string_equal(e.field, "file");
    sec_sha256_final(&s.sha, d);

    /* an executable is refused as soon as its first bytes are in, naming the type */
    files_scan_init(&s, 100);
    err_init(&e);
    assert_int_equal(files_scan_update(&s, "MZ\x90\0\x03\0\0\0\x04\0\0\0\xff", 13, &e),
                     ERR_UNSUPPORTED);
    assert_non_null(strstr(e.msg, "Windows executable"));
    sec_sha256_final(&s.sha, d);

    /* short files are decided at the end; empty ones refused */
    files_scan_init(&s, 100);
    err_init(&e);
    assert_int_equal(files_scan_update(&s, "\xff\xd8\xff", 3, &e), 0);
    assert_int_equal(files_scan_finish(&s, hex, &e), 0);
    assert_string_equal(s.kind->mime, "image/jpeg");
    files_scan_init(&s, 100);
    err_init(&e);
    assert_int_equal(files_scan_finish(&s, hex, &e), ERR_INVALID);
}

/* ---------------------------------------------------------------- store and service */

struct fixture {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    struct arena a;
    struct storage_tenants *ss;
    struct storage *st; /* the server's, which both tenants use (borrowed from ss) */
    char dir[256];
    int64_t t1, t2;
};

static enum db_backend backend;
static const unsigned char link_key[32] = "0123456789abcdef0123456789abcdef";

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    f->db = testdb_open_migrated(&f->t, backend, "files", NULL);
    f->c = testdb_acquire(f->db);
    arena_init(&f->a);
    OK(account_tenant_create(f->c, "one", NOW, &f->t1, e));
    OK(account_tenant_create(f->c, "two", NOW, &f->t2, e));
    const char *tmp = getenv("TEST_TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/files-unit-%d-%s", tmp && *tmp ? tmp : "/tmp",
             (int)getpid(), f->t.name);
    char url[300];
    snprintf(url, sizeof(url), "file://%s", f->dir);
    struct storage_config sc = {.url = url};
    OK(storage_tenants_new(&sc, link_key, 0, &f->ss, e));
    f->st = storage_tenants_server(f->ss);
    return 0;
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char p[600];
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        struct stat sb;
        if (!lstat(p, &sb) && S_ISDIR(sb.st_mode))
            rm_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* Files (not directories) under dir, recursively. */
static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char p[600];
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        struct stat sb;
        if (!lstat(p, &sb) && S_ISDIR(sb.st_mode))
            n += count_files(p);
        else
            n++;
    }
    closedir(d);
    return n;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    storage_tenants_free(f->ss);
    rm_tree(f->dir);
    arena_release(&f->a);
    db_conn_release(f->c);
    db_close(f->db);
    testdb_remove(&f->t);
    free(f);
    return 0;
}

static int64_t upload(struct fixture *f, const struct files_caller *who, const char *name,
                      const char *bytes, size_t n, int64_t limit, int want)
{
    struct files_upload u;
    struct files_file out;
    struct err e;
    err_init(&e);
    int rc = files_upload_begin(&u, f->st, name, limit, &e);
    for (size_t i = 0; !rc && i < n; i += 5)
        rc = files_upload_write(&u, bytes + i, n - i < 5 ? n - i : 5, &e);
    if (!rc)
        rc = files_upload_commit(&u, f->c, who, NOW, &f->a, &out, &e);
    files_upload_abort(&u);
    if (rc != want)
        fail_msg("upload %s: rc %d (%s), want %d", name, rc, e.msg, want);
    return rc ? 0 : out.id;
}

static void upload_read_delete(void **state)
{
    struct fixture *f = *state;
    struct files_caller alice = {f->t1, "key:1", false};
    struct files_caller bob = {f->t1, "key:2", false};
    struct files_caller admin = {f->t1, "admin-key", true};
    struct files_caller other = {f->t2, "key:1", true};
    const char *png = "\x89PNG\r\n\x1a\n0123456789abcdef";
    int64_t id = upload(f, &alice, "../a\"b.png", png, 24, 1000, 0);
    assert_true(id > 0);
    assert_int_equal(count_files(f->dir), 1);

    struct files_file got;
    OK(files_get(f->c, &alice, id, &f->a, &got, e));
    assert_string_equal(got.name, "a_b.png");
    assert_string_equal(got.mime, "image/png");
    assert_int_equal(got.size, 24);
    assert_int_equal(strlen(got.sha256), 64);
    assert_int_equal(got.state, FILES_STATE_READY);
    OK(files_get(f->c, &admin, id, &f->a, &got, e));
    /* another owner of the tenant, and the same subject in another tenant: 404 */
    FAILS(ERR_NOT_FOUND, files_get(f->c, &bob, id, &f->a, &got, e));
    FAILS(ERR_NOT_FOUND, files_get(f->c, &other, id, &f->a, &got, e));
    FAILS(ERR_NOT_FOUND, files_delete(f->c, f->st, &bob, id, e));
    FAILS(ERR_NOT_FOUND, files_delete(f->c, f->st, &other, id, e));

    /* refusals leave nothing behind: no row, no object, no staged file */
    upload(f, &alice, "big.pdf", "%PDF-0123456789", 15, 10, ERR_TOO_LARGE);
    upload(f, &alice, "x.pdf", "MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff", 14, 1000, ERR_UNSUPPORTED);
    upload(f, &alice, "empty.pdf", "", 0, 1000, ERR_INVALID);
    assert_int_equal(count_files(f->dir), 1);
    struct files_file *rows;
    size_t n;
    OK(files_store_list(f->c, f->t1, NULL, NULL, &f->a, &rows, &n, e));
    assert_int_equal(n, 1);

    OK(files_delete(f->c, f->st, &alice, id, e));
    assert_int_equal(count_files(f->dir), 0);
    FAILS(ERR_NOT_FOUND, files_get(f->c, &alice, id, &f->a, &got, e));
}

static void local_presigned_link(void **state)
{
    struct fixture *f = *state;
    struct files_caller alice = {f->t1, "key:1", false};
    struct files_presigned p;
    FAILS(ERR_INVALID, files_presign_upload(f->c, f->st, link_key, &alice, "", NOW, &f->a, &p, e));
    assert_string_equal(check_last.field, "name");
    OK(files_presign_upload(f->c, f->st, link_key, &alice, "scan.pdf", NOW, &f->a, &p, e));
    assert_true(p.local);
    assert_int_equal(p.file.state, FILES_STATE_PENDING);
    assert_int_equal(p.file.expires_at, NOW + FILES_PRESIGN_TTL_S * 1000);
    const char *prefix = "/api/files/uploads/";
    assert_true(strncmp(p.url, prefix, strlen(prefix)) == 0);
    const char *token = p.url + strlen(prefix);
    int64_t tenant = 0, id = 0;
    OK(files_upload_link_check(link_key, token, NOW + 1000, &f->a, &tenant, &id, e));
    assert_int_equal(tenant, f->t1);
    assert_int_equal(id, p.file.id);
    /* expired, forged, or signed with another key: refused */
    FAILS(ERR_UNAUTHORIZED,
          files_upload_link_check(link_key, token, NOW + FILES_PRESIGN_TTL_S * 1000 + 1000, &f->a,
                                  &tenant, &id, e));
    unsigned char other[32];
    memcpy(other, link_key, 32);
    other[0] ^= 1;
    FAILS(ERR_UNAUTHORIZED,
          files_upload_link_check(other, token, NOW + 1000, &f->a, &tenant, &id, e));
    char *forged = arena_strdup(&f->a, token);
    forged[strlen(forged) - 2] = forged[strlen(forged) - 2] == 'A' ? 'B' : 'A';
    FAILS(ERR_UNAUTHORIZED,
          files_upload_link_check(link_key, forged, NOW + 1000, &f->a, &tenant, &id, e));
    /* the PUT through the link fills the pending row */
    struct files_upload u;
    struct files_file out;
    OK(files_upload_begin(&u, f->st, p.file.name, 1000, e));
    u.pending_id = id;
    OK(files_upload_write(&u, "%PDF-1.4 x", 10, e));
    OK(files_upload_commit(&u, f->c, &alice, NOW, &f->a, &out, e));
    files_upload_abort(&u);
    assert_int_equal(out.state, FILES_STATE_READY);
    assert_string_equal(out.mime, "application/pdf");
    /* completing it (as an S3 client would) reads the object back: already ready */
    struct files_file got;
    OK(files_get(f->c, &alice, id, &f->a, &got, e));
    assert_int_equal(got.state, FILES_STATE_READY);
    assert_int_equal(got.expires_at, 0);
    FAILS(ERR_CONFLICT, files_complete(f->c, f->st, &alice, id, 1000, &f->a, &got, e));
}

static void complete_refuses_and_cleans(void **state)
{
    struct fixture *f = *state;
    struct files_caller alice = {f->t1, "key:1", false};
    struct files_presigned p;
    OK(files_presign_upload(f->c, f->st, link_key, &alice, "x.png", NOW, &f->a, &p, e));
    struct files_file got;
    /* nothing arrived yet */
    FAILS(ERR_NOT_FOUND, files_complete(f->c, f->st, &alice, p.file.id, 1000, &f->a, &got, e));
    /* an executable arrives under the key (as a PUT to a bucket would put it) */
    char path[STORAGE_PATH_MAX];
    int fd;
    OK(storage_stage(f->st, path, &fd, e));
    assert_int_equal(write(fd,
                           "\x7f"
                           "ELF\x02\x01\x01\0\0\0\0\0\0",
                           13),
                     13);
    close(fd);
    OK(storage_put_file(f->st, p.file.storage_key, path, 13, "", "", e));
    assert_int_equal(count_files(f->dir), 1);
    FAILS(ERR_UNSUPPORTED, files_complete(f->c, f->st, &alice, p.file.id, 1000, &f->a, &got, e));
    assert_non_null(strstr(check_last.msg, "ELF executable"));
    assert_int_equal(count_files(f->dir), 0);
    FAILS(ERR_NOT_FOUND, files_get(f->c, &alice, p.file.id, &f->a, &got, e));
}

static void sweep_expired_uploads(void **state)
{
    struct fixture *f = *state;
    struct files_caller alice = {f->t1, "key:1", false};
    struct files_caller bob = {f->t2, "key:2", false};
    struct files_presigned old1, old2, fresh;
    OK(files_presign_upload(f->c, f->st, link_key, &alice, "a.pdf", NOW, &f->a, &old1, e));
    OK(files_presign_upload(f->c, f->st, link_key, &bob, "b.pdf", NOW, &f->a, &old2, e));
    int64_t later = NOW + (FILES_PRESIGN_TTL_S + FILES_SWEEP_GRACE_S) * 1000 + 1;
    OK(files_presign_upload(f->c, f->st, link_key, &alice, "c.pdf", later, &f->a, &fresh, e));
    /* one of the old ones had its bytes PUT but was never completed */
    char path[STORAGE_PATH_MAX];
    int fd;
    OK(storage_stage(f->st, path, &fd, e));
    assert_int_equal(write(fd, "%PDF-1", 6), 6);
    close(fd);
    OK(storage_put_file(f->st, old1.file.storage_key, path, 6, "", "", e));
    int64_t ready = upload(f, &alice, "r.pdf", "%PDF-r", 6, 100, 0);
    assert_int_equal(count_files(f->dir), 2);

    size_t removed = 0;
    /* within the grace nothing goes */
    OK(files_sweep_expired(f->c, f->ss, later - 2, &removed, e));
    assert_int_equal(removed, 0);
    OK(files_sweep_expired(f->c, f->ss, later, &removed, e));
    assert_int_equal(removed, 2);
    assert_int_equal(count_files(f->dir), 1); /* the ready file's object stays */
    struct files_file got;
    FAILS(ERR_NOT_FOUND, files_get(f->c, &alice, old1.file.id, &f->a, &got, e));
    FAILS(ERR_NOT_FOUND, files_get(f->c, &bob, old2.file.id, &f->a, &got, e));
    OK(files_get(f->c, &alice, fresh.file.id, &f->a, &got, e));
    OK(files_get(f->c, &alice, ready, &f->a, &got, e));
    OK(files_sweep_expired(f->c, f->ss, later, &removed, e));
    assert_int_equal(removed, 0);
}

static void limits_and_purge(void **state)
{
    struct fixture *f = *state;
    int64_t limit = 0;
    OK(files_store_limit(f->c, f->t1, 777, &limit, e));
    assert_int_equal(limit, 777);
    OK(files_store_set_limit(f->c, f->t1, 20, e));
    OK(files_store_set_limit(f->c, f->t1, 30, e));
    OK(files_store_limit(f->c, f->t1, 777, &limit, e));
    assert_int_equal(limit, 30);
    OK(files_store_limit(f->c, f->t2, 777, &limit, e));
    assert_int_equal(limit, 777);
    FAILS(ERR_INVALID, files_store_set_limit(f->c, f->t1, 0, e));
    assert_string_equal(check_last.field, "max_bytes");

    struct files_caller a1 = {f->t1, "key:1", false};
    struct files_caller a2 = {f->t2, "key:9", false};
    upload(f, &a1, "1.pdf", "%PDF-1", 6, 100, 0);
    upload(f, &a1, "2.pdf", "%PDF-2", 6, 100, 0);
    upload(f, &a2, "3.pdf", "%PDF-3", 6, 100, 0);
    assert_int_equal(count_files(f->dir), 3);
    size_t removed = 0, failed = 0;
    OK(files_purge_objects(f->c, f->st, f->t1, &removed, &failed, e));
    assert_int_equal(removed, 2);
    assert_int_equal(failed, 0);
    assert_int_equal(count_files(f->dir), 1);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(sniff_types),
        cmocka_unit_test(name_sanitising),
        cmocka_unit_test(scan_limits_and_hash),
    };
    int failed = cmocka_run_group_tests_name("files_rules", pure, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(upload_read_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(local_presigned_link, setup, teardown),
        cmocka_unit_test_setup_teardown(complete_refuses_and_cleans, setup, teardown),
        cmocka_unit_test_setup_teardown(sweep_expired_uploads, setup, teardown),
        cmocka_unit_test_setup_teardown(limits_and_purge, setup, teardown),
    };
    failed += TESTDB_RUN_GROUPS("files", tests, &backend);
    return failed ? 1 : 0;
}
