/* SPDX-License-Identifier: MIT */
/*
 * Seeds a database with N sellers, each with one ACTIVE flash window targeting a few buyers, so
 * `make bench` can load GET /api/flash-windows/active with wrk. Usage:
 *   bench_flash_active DB_URL N_WINDOWS
 * Writes through the project's own store; prints the tenant id it filled.
 */
#include "core/clock.h"
#include "core/crypto.h"
#include "db/migrate.h"
#include "domain/account/account.h"
#include "domain/flash/flash_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int die(const struct err *e)
{
    fprintf(stderr, "bench_flash_active: %s\n", e->msg);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s DB_URL N_WINDOWS\n", argv[0]);
        return 2;
    }
    int n = (int)strtol(argv[2], NULL, 10);
    struct err e;
    err_init(&e);
    struct db *db;
    struct db_conn *c;
    if (sec_init(&e) || db_open(&db, argv[1], NULL, &e) || db_migrate(db, NULL, &e) ||
        db_conn_acquire(db, &c, &e))
        return die(&e);
    int64_t now = clock_now_ms(NULL), tenant;
    if (account_tenant_ensure(c, ACCOUNT_DEFAULT_TENANT, now, &tenant, &e) || db_begin(c, &e))
        return die(&e);
    struct arena a;
    arena_init(&a);
    /* A 40 x 40 km city around Kadıköy, deterministic. */
    unsigned seed = 42;
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        double lat = 40.85 + (double)(seed % 10000) / 10000.0 * 0.35;
        seed = seed * 1103515245u + 12345u;
        double lng = 28.85 + (double)(seed % 10000) / 10000.0 * 0.45;
        struct flash_seller s;
        memset(&s, 0, sizeof(s));
        s.id = arena_printf(&a, "S%05d", i);
        s.phone = arena_printf(&a, "+90532%07d", i);
        s.name = arena_printf(&a, "Dükkan %d", i);
        s.category = "coffee";
        s.loc = (struct flash_location){lat, lng, "Kadıköy", "Moda"};
        s.stock_status = "";
        s.currency = "TRY";
        s.max_discount = 25;
        s.capacity = 8;
        s.opening_hours = "";
        bool created;
        struct flash_buyer b;
        memset(&b, 0, sizeof(b));
        b.id = arena_printf(&a, "B%05d", i);
        b.phone = arena_printf(&a, "+90533%07d", i);
        b.name = b.id;
        b.loc = (struct flash_location){lat + 0.002, lng, "", ""};
        b.consent = true;
        b.language = "tr";
        if (flash_store_seller_upsert(c, tenant, &s, now, &a, &created, &e) ||
            flash_store_buyer_upsert(c, tenant, &b, now, &a, &created, &e))
            return die(&e);
        struct flash_window w;
        memset(&w, 0, sizeof(w));
        w.seller_pk = s.pk;
        w.title = arena_printf(&a, "%s: latte %%20 indirim", s.name);
        w.description = "10 dakikalık fırsat penceresi.";
        w.discount_percent = 20;
        w.bundle_info = "";
        w.currency = "TRY";
        w.start_ms = now - 60000;
        w.end_ms = now + 3600000;
        w.status = FLASH_WINDOW_ACTIVE;
        w.capacity = 8;
        w.min_participants = 2;
        w.score = 0.8;
        w.trace_json = "{}";
        w.cancel_reason = "";
        w.analytics_json = "";
        w.origin = "engine";
        struct flash_window_target t = {
            .buyer_pk = b.pk, .buyer_id = b.id, .distance_m = 222, .discount = 15};
        if (flash_store_window_insert(c, tenant, &w, &t, 1, now, &e))
            return die(&e);
        if (i % 500 == 499) {
            arena_release(&a);
            arena_init(&a);
        }
    }
    if (db_commit(c, &e))
        return die(&e);
    arena_release(&a);
    db_conn_release(c);
    db_close(db);
    printf("%lld\n", (long long)tenant);
    return 0;
}
