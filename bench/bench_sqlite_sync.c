/* SPDX-License-Identifier: MIT */
/*
 * The cost of ICESHOP_SQLITE_SYNC=full for `make bench`: N small single-row transactions on a
 * fresh SQLite file in DIR, once with synchronous=NORMAL and once with FULL (fsync per commit).
 * Prints one "key=value" line per mode.
 * Usage: bench_sqlite_sync DIR [N=2000]
 */
#include "core/clock.h"
#include "core/err.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int run(const char *dir, bool full, long n)
{
    char path[1024], url[1100];
    snprintf(path, sizeof(path), "%s/sync-%s.db", dir, full ? "full" : "normal");
    unlink(path);
    snprintf(url, sizeof(url), "sqlite://%s", path);
    struct err e;
    err_init(&e);
    struct db *db = NULL;
    struct db_options o = {.pool_size = 1, .sqlite_sync_full = full};
    struct db_conn *c = NULL;
    int rc = db_open(&db, url, &o, &e);
    if (!rc)
        rc = db_conn_acquire(db, &c, &e);
    if (!rc)
        rc = db_exec(c, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)", &e);
    int64_t t0 = clock_mono_ns();
    for (long i = 0; !rc && i < n; i++) {
        rc = db_begin(c, &e);
        if (!rc)
            rc = db_exec(c, "INSERT INTO t (v) VALUES ('a committed write')", &e);
        if (!rc)
            rc = db_commit(c, &e);
    }
    double secs = (double)(clock_mono_ns() - t0) / 1e9;
    if (c)
        db_conn_release(c);
    db_close(db);
    if (rc) {
        fprintf(stderr, "bench_sqlite_sync: %s\n", e.msg);
        return 1;
    }
    printf("mode=%s commits=%ld commits_per_s=%.0f\n", full ? "full" : "normal", n,
           secs > 0 ? (double)n / secs : 0.0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_sqlite_sync DIR [N]\n");
        return 2;
    }
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 2000;
    if (n <= 0)
        n = 2000;
    return run(argv[1], false, n) || run(argv[1], true, n);
}
