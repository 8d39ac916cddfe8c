/* SPDX-License-Identifier: MIT */
/*
 * Flash events for outbound webhooks (see flash_webhooks.h): the window's public fields as the
 * event's data, emitted through src/domain/webhooks in the caller's transaction.
 * Tests: tests/integration/0009-webhooks-out.c, tests/unit/domain/test_webhooks.c.
 */
#include "domain/flash/flash_webhooks.h"
#include "core/clock.h"
#include "domain/flash/flash_store.h"
#include "domain/webhooks/webhooks.h"
#include "json/json.h"

#include <stdlib.h>

static json_t *iso(int64_t ms)
{
    char ts[CLOCK_ISO_LEN];
    clock_format_iso(ms, ts);
    return json_string(ts);
}

static json_t *window_json(const struct flash_window *w)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:i, s:I, s:s, s:i, s:i, s:i, s:s}", "id",
                     (json_int_t)w->pk, "status", flash_status_names[w->status], "seller_id",
                     w->seller_id ? w->seller_id : "", "title", w->title ? w->title : "", "product",
                     w->product ? w->product : "", "start_time", iso(w->start_ms), "end_time",
                     iso(w->end_ms), "discount_percent", w->discount_percent, "static_price",
                     (json_int_t)w->static_price, "currency", w->currency ? w->currency : "",
                     "capacity", w->capacity, "committed", w->committed, "redeemed", w->redeemed,
                     "cancel_reason", w->cancel_reason ? w->cancel_reason : "");
}

/* Emit `type` with {"window": ..., extra members}; `buyer_id` may be NULL. */
static int emit(struct db_conn *c, int64_t tenant, int64_t window_pk, const char *type,
                const char *buyer_id, int64_t now_ms, struct err *e)
{
    bool wanted = false;
    int rc = webhooks_wanted(c, tenant, type, &wanted, e);
    if (rc || !wanted)
        return rc;
    struct arena a;
    arena_init(&a);
    struct flash_window w;
    rc = flash_store_window_get(c, tenant, window_pk, &a, &w, e);
    if (!rc) {
        json_t *data = json_pack("{s:o}", "window", window_json(&w));
        if (buyer_id)
            json_object_set_new(data, "buyer_id", json_string(buyer_id));
        char *text = json_dump_compact(data);
        json_decref(data);
        rc = webhooks_emit(c, tenant, type, text, now_ms, e);
        free(text);
    }
    arena_release(&a);
    return rc;
}

int flash_webhooks_window_created(struct db_conn *c, int64_t tenant, int64_t window_pk,
                                  int64_t now_ms, struct err *e)
{
    return emit(c, tenant, window_pk, "window.created", NULL, now_ms, e);
}

int flash_webhooks_window_moved(struct db_conn *c, int64_t tenant, int64_t window_pk,
                                enum flash_window_status to, int64_t now_ms, struct err *e)
{
    switch (to) {
    case FLASH_WINDOW_ACTIVE:
        return emit(c, tenant, window_pk, "window.activated", NULL, now_ms, e);
    case FLASH_WINDOW_CANCELLED:
        return emit(c, tenant, window_pk, "window.cancelled", NULL, now_ms, e);
    case FLASH_WINDOW_EXPIRED:
        return emit(c, tenant, window_pk, "window.expired", NULL, now_ms, e);
    default:
        return 0;
    }
}

int flash_webhooks_precommit(struct db_conn *c, int64_t tenant, int64_t window_pk,
                             const char *buyer_id, int64_t now_ms, struct err *e)
{
    return emit(c, tenant, window_pk, "precommit.created", buyer_id, now_ms, e);
}

int flash_webhooks_redemption(struct db_conn *c, int64_t tenant, int64_t window_pk,
                              const char *buyer_id, int64_t now_ms, struct err *e)
{
    return emit(c, tenant, window_pk, "redemption.created", buyer_id, now_ms, e);
}
