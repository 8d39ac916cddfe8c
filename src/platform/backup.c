/* SPDX-License-Identifier: MIT */
/*
 * Backup and restore of a SQLite database (see backup.h): VACUUM INTO for the snapshot, file
 * copies and renames for the restore. Tests: tests/unit/platform/test_backup.c,
 * tests/integration/0017-ops.c.
 */
#include "platform/backup.h"
#include "db/migrate.h"
#include "db/store.h"
#include "platform/dblock.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_MAX_LEN 1100

/* fsync a file, or the directory holding `path` when dir is true. */
static int sync_path(const char *path, bool dir, struct err *e)
{
    char copy[PATH_MAX_LEN];
    snprintf(copy, sizeof(copy), "%s", path);
    const char *target = dir ? dirname(copy) : path;
    int fd = open(target, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, ERR_INTERNAL, "cannot open %s: %s", target, strerror(errno));
    int rc =
        fsync(fd) ? err_set(e, ERR_INTERNAL, "cannot sync %s: %s", target, strerror(errno)) : 0;
    close(fd);
    return rc;
}

static int with_suffix(char *out, size_t n, const char *path, const char *suffix, struct err *e)
{
    int w = snprintf(out, n, "%s%s", path, suffix);
    if (w < 0 || (size_t)w >= n)
        return err_set(e, ERR_INVALID, "path too long: %s", path);
    return 0;
}

int backup_make(struct db *db, const char *dest, struct err *e)
{
    if (db_backend(db) != DB_SQLITE)
        return err_set(e, ERR_INVALID,
                       "iceshop backup copies SQLite databases; back up PostgreSQL with pg_dump "
                       "(see docs/DEPLOY.md)");
    /* the database as it is (never migrated first): an empty one has nothing to back up */
    int version = 0;
    int rc = db_schema_version(db, &version, e);
    if (rc)
        return rc;
    if (version == 0)
        return err_set(e, ERR_INVALID,
                       "the database has no Iceshop schema (never served or migrated): nothing to "
                       "back up");
    char tmp[PATH_MAX_LEN];
    rc = with_suffix(tmp, sizeof(tmp), dest, ".tmp", e);
    if (rc)
        return rc;
    /* VACUUM INTO refuses an existing file: a stale temporary from a crashed run goes first */
    if (unlink(tmp) && errno != ENOENT)
        return err_set(e, ERR_INTERNAL, "cannot remove %s: %s", tmp, strerror(errno));
    struct db_conn *c;
    rc = db_conn_acquire(db, &c, e);
    if (rc)
        return rc;
    struct db_stmt *s;
    rc = db_prepare(c, &s, "VACUUM INTO ?", e);
    if (!rc) {
        db_bind_text(s, 1, tmp);
        if (db_step(s, e) == DB_ERROR)
            rc = db_step_error(e);
        db_stmt_done(s);
    }
    db_conn_release(c);
    /* a backup holds everything the database does: readable by its owner only */
    if (!rc && chmod(tmp, 0600))
        rc = err_set(e, ERR_INTERNAL, "cannot chmod %s: %s", tmp, strerror(errno));
    if (!rc)
        rc = sync_path(tmp, false, e);
    if (!rc && rename(tmp, dest))
        rc = err_set(e, ERR_INTERNAL, "cannot rename %s to %s: %s", tmp, dest, strerror(errno));
    if (!rc)
        rc = sync_path(dest, true, e);
    if (rc)
        unlink(tmp);
    return rc;
}

static int header_is_sqlite(const char *path, struct err *e)
{
    static const char magic[16] = "SQLite format 3";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, ERR_INVALID, "cannot read %s: %s", path, strerror(errno));
    char head[16];
    ssize_t got = read(fd, head, sizeof(head));
    close(fd);
    if (got != (ssize_t)sizeof(head) || memcmp(head, magic, sizeof(head)) != 0)
        return err_set(e, ERR_INVALID, "%s is not an Iceshop database: not a SQLite file", path);
    return 0;
}

/* Replace a raw database error with one that names the file. */
static int not_iceshop(struct err *e, const char *path)
{
    char why[sizeof(e->msg)];
    snprintf(why, sizeof(why), "%s", e->msg);
    return err_replace(e, ERR_INVALID, NULL, "%s is not an Iceshop database: %s", path, why);
}

int backup_check(const char *path, int *version, struct err *e)
{
    *version = 0;
    int rc = header_is_sqlite(path, e);
    if (rc)
        return rc;
    char url[PATH_MAX_LEN + 16];
    snprintf(url, sizeof(url), "sqlite://%s", path);
    struct db_options o = {.pool_size = 1};
    struct db *db;
    rc = db_open(&db, url, &o, e);
    if (rc)
        return not_iceshop(e, path);
    struct db_conn *c;
    rc = db_conn_acquire(db, &c, e);
    if (rc)
        goto out_close;
    struct db_stmt *s;
    rc = db_prepare(c, &s, "PRAGMA quick_check", e);
    if (!rc) {
        int r = db_step(s, e);
        if (r == DB_ERROR)
            rc = not_iceshop(e, path);
        else if (r != DB_ROW || !db_col_text(s, 0) || strcmp(db_col_text(s, 0), "ok") != 0)
            rc = err_set(e, ERR_INVALID, "%s is damaged: quick_check says %s", path,
                         r == DB_ROW && db_col_text(s, 0) ? db_col_text(s, 0) : "nothing");
        db_stmt_done(s);
    }
    int64_t tables = 0;
    if (!rc)
        rc = db_prepare(c, &s,
                        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                        "('schema_migrations', 'tenants')",
                        e);
    if (!rc) {
        bool found = false;
        rc = db_one_i64(s, &tables, &found, e);
    }
    db_conn_release(c);
    if (!rc && tables != 2)
        rc = err_set(e, ERR_INVALID,
                     "%s is not an Iceshop database: it has no schema_migrations or tenants table",
                     path);
    if (!rc)
        rc = db_schema_version(db, version, e);
    if (!rc && *version > db_migrate_latest(db))
        rc = err_set(e, ERR_INVALID,
                     "%s is at schema version %d, newer than this iceshop (%d): restore it with "
                     "the version that made it",
                     path, *version, db_migrate_latest(db));
out_close:
    db_close(db);
    return rc;
}

/* Copy src to dst (created, mode 0600), synced. */
static int copy_file(const char *src, const char *dst, struct err *e)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return err_set(e, ERR_INVALID, "cannot read %s: %s", src, strerror(errno));
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return err_set(e, ERR_INTERNAL, "cannot create %s: %s", dst, strerror(errno));
    }
    int rc = 0;
    char buf[65536];
    for (;;) {
        ssize_t got = read(in, buf, sizeof(buf));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = err_set(e, ERR_INTERNAL, "cannot read %s: %s", src, strerror(errno));
            break;
        }
        if (got == 0)
            break;
        for (ssize_t off = 0; off < got;) {
            ssize_t put = write(out, buf + off, (size_t)(got - off));
            if (put < 0 && errno == EINTR)
                continue;
            if (put < 0) {
                rc = err_set(e, ERR_INTERNAL, "cannot write %s: %s", dst, strerror(errno));
                break;
            }
            off += put;
        }
        if (rc)
            break;
    }
    if (!rc && fsync(out))
        rc = err_set(e, ERR_INTERNAL, "cannot sync %s: %s", dst, strerror(errno));
    close(in);
    close(out);
    return rc;
}

/* Move `from` to `to` when it exists; ENOENT is fine. */
static int move_if_there(const char *from, const char *to, struct err *e)
{
    if (rename(from, to) && errno != ENOENT)
        return err_set(e, ERR_INTERNAL, "cannot move %s to %s: %s", from, to, strerror(errno));
    return 0;
}

static void remove_sidecars(const char *path)
{
    char p[PATH_MAX_LEN + 8]; /* the path and a "-wal" or "-shm" suffix */
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

int backup_restore(const char *database_url, const char *src, int *version, char *previous,
                   size_t n, struct err *e)
{
    *version = 0;
    if (n)
        previous[0] = '\0';
    char path[PATH_MAX_LEN];
    if (!dblock_sqlite_path(database_url, path, sizeof(path)))
        return err_set(e, ERR_INVALID,
                       "iceshop restore replaces a SQLite database file; restore PostgreSQL with "
                       "pg_restore (see docs/DEPLOY.md)");
    int rc = header_is_sqlite(src, e);
    if (rc)
        return rc;
    int lock = -1;
    rc = dblock_take(path, true, &lock, e);
    if (rc)
        return rc;
    char tmp[PATH_MAX_LEN], before[PATH_MAX_LEN], from[PATH_MAX_LEN], to[PATH_MAX_LEN];
    rc = with_suffix(tmp, sizeof(tmp), path, ".restore", e);
    if (!rc)
        rc = with_suffix(before, sizeof(before), path, ".before-restore", e);
    if (rc)
        goto out_unlock;
    remove_sidecars(tmp);
    rc = copy_file(src, tmp, e);
    if (!rc)
        rc = backup_check(tmp, version, e);
    /* backup_check closed the copy: its WAL is checkpointed; nothing may stay beside it */
    remove_sidecars(tmp);
    if (rc)
        goto out_remove;
    struct stat st;
    if (stat(path, &st) == 0) {
        /* the old database keeps its WAL (committed data may sit there) under the new name */
        remove_sidecars(before);
        rc = move_if_there(path, before, e);
        if (!rc)
            rc = with_suffix(from, sizeof(from), path, "-wal", e);
        if (!rc)
            rc = with_suffix(to, sizeof(to), before, "-wal", e);
        if (!rc)
            rc = move_if_there(from, to, e);
        if (!rc && !with_suffix(from, sizeof(from), path, "-shm", e))
            unlink(from);
        if (rc)
            goto out_remove;
        if (n)
            snprintf(previous, n, "%s", before);
    }
    if (rename(tmp, path))
        rc = err_set(e, ERR_INTERNAL, "cannot move %s to %s: %s", tmp, path, strerror(errno));
    if (!rc)
        rc = sync_path(path, true, e);
out_remove:
    if (rc)
        unlink(tmp);
out_unlock:
    dblock_release(lock);
    return rc;
}
