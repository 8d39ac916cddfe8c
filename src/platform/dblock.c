/* SPDX-License-Identifier: MIT */
/*
 * The database lock (see dblock.h): flock(2) on PATH.lock, never on the database file itself,
 * whose POSIX locks belong to SQLite. Tests: tests/unit/platform/test_backup.c.
 */
#include "platform/dblock.h"
#include "core/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

bool dblock_sqlite_path(const char *database_url, char *out, size_t n)
{
    static const char scheme[] = "sqlite://";
    if (!database_url || !str_has_prefix(database_url, scheme))
        return false;
    const char *file = database_url + sizeof(scheme) - 1;
    size_t len = strcspn(file, "?");
    if (len == 0 || len >= n || (len == 8 && strncmp(file, ":memory:", 8) == 0))
        return false;
    memcpy(out, file, len);
    out[len] = '\0';
    return true;
}

int dblock_take(const char *db_path, bool exclusive, int *fd, struct err *e)
{
    *fd = -1;
    char path[1100];
    int n = snprintf(path, sizeof(path), "%s.lock", db_path);
    if (n < 0 || (size_t)n >= sizeof(path))
        return err_set(e, ERR_INVALID, "database path too long: %s", db_path);
    int lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lfd < 0)
        return err_set(e, ERR_INTERNAL, "cannot open lock file %s: %s", path, strerror(errno));
    if (flock(lfd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB)) {
        int saved = errno;
        close(lfd);
        if (saved == EWOULDBLOCK)
            return exclusive ? err_set(e, ERR_CONFLICT,
                                       "%s is in use: a running iceshop holds %s; stop every "
                                       "iceshop process on this database first",
                                       db_path, path)
                             : err_set(e, ERR_CONFLICT,
                                       "%s is being restored (iceshop restore holds %s); "
                                       "try again when it has finished",
                                       db_path, path);
        return err_set(e, ERR_INTERNAL, "cannot lock %s: %s", path, strerror(saved));
    }
    *fd = lfd;
    return 0;
}

void dblock_release(int fd)
{
    if (fd >= 0)
        close(fd); /* closing the last descriptor drops the flock */
}
