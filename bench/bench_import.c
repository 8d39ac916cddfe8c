/* SPDX-License-Identifier: MIT */
/*
 * Bulk import throughput for `make bench`: N NDJSON order lines (1-3 items each, over 5,000
 * customers and 500 products that the first lines create) fed to an import session in 64 KiB
 * pieces, as POST /api/import/orders and `iceshop import` do; then the same file again, which
 * updates every order. Prints order lines per second for both. Aim: >= 100,000 lines/s into SQLite.
 * Usage: bench_import DB_URL [N=200000]
 */
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "db/migrate.h"
#include "domain/account/account.h"
#include "domain/commerce/import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIECE (64 * 1024)

static int die(const char *what, const struct err *e)
{
    fprintf(stderr, "bench_import: %s: %s\n", what, e->msg);
    return 1;
}

/* One pass over the text; returns seconds, fills *r. */
static int run(struct db_conn *c, int64_t tenant, const char *text, size_t len,
               struct import_result *r, double *secs, struct err *e)
{
    struct import *im;
    int64_t t0 = clock_mono_ns();
    int rc =
        import_new(c, tenant, IMPORT_ORDERS, IMPORT_NDJSON, "bench", clock_now_ms(NULL), &im, e);
    for (size_t i = 0; !rc && i < len; i += PIECE)
        rc = import_feed(im, text + i, len - i < PIECE ? len - i : PIECE, e);
    if (!rc)
        rc = import_finish(im, e);
    if (!rc)
        *r = *import_result(im);
    import_free(im);
    *secs = (double)(clock_mono_ns() - t0) / 1e9;
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DB_URL [N]\n", argv[0]);
        return 2;
    }
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 200000;
    log_set_level(LOG_WARN);
    struct err e;
    err_init(&e);
    struct db *db;
    struct db_conn *c;
    if (db_open(&db, argv[1], NULL, &e) || db_migrate(db, NULL, &e))
        return die("open", &e);
    if (db_conn_acquire(db, &c, &e))
        return die("connection", &e);
    int64_t tenant;
    if (account_tenant_ensure(c, "default", clock_now_ms(NULL), &tenant, &e))
        return die("tenant", &e);

    struct buf text;
    buf_init(&text, (size_t)n * 400 + 1024);
    unsigned seed = 12345;
    int64_t items = 0;
    for (long i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        int k = 1 + (int)((seed >> 16) % 3);
        buf_appendf(&text,
                    "{\"external_id\":\"ord-%ld\",\"customer_external_id\":\"cus-%ld\","
                    "\"created_at\":\"2026-%02ld-%02ldT10:%02ld:00Z\",\"currency\":\"TRY\","
                    "\"status\":\"%s\",\"items\":[",
                    i, (long)((seed >> 8) % 5000), 1 + i % 12, 1 + i % 28, i % 60,
                    i % 10 == 0 ? "refunded" : "paid");
        for (int j = 0; j < k; j++) {
            seed = seed * 1103515245u + 12345u;
            buf_appendf(&text,
                        "%s{\"product_external_id\":\"prd-%u\",\"quantity\":%u,"
                        "\"unit_price\":\"%u.%02u\"}",
                        j ? "," : "", (seed >> 8) % 500, 1 + (seed >> 4) % 4, 1 + (seed >> 12) % 90,
                        (seed >> 3) % 100);
        }
        buf_appends(&text, "]}\n");
        items += k;
    }
    printf("%ld order lines (%lld items, %.1f MB) into %s, pieces of %d KiB\n", n, (long long)items,
           (double)text.len / 1e6, db_backend_name(db), PIECE / 1024);
    struct import_result r;
    double secs;
    if (run(c, tenant, buf_str(&text), text.len, &r, &secs, &e))
        return die("import", &e);
    printf("first import: %lld inserted, %lld rejected in %.2f s: %.0f lines/s\n",
           (long long)r.inserted, (long long)r.rejected, secs, (double)n / secs);
    if (run(c, tenant, buf_str(&text), text.len, &r, &secs, &e))
        return die("re-import", &e);
    printf("re-import:    %lld updated, %lld inserted in %.2f s: %.0f lines/s\n",
           (long long)r.updated, (long long)r.inserted, secs, (double)n / secs);
    buf_release(&text);
    db_conn_release(c);
    db_close(db);
    return 0;
}
