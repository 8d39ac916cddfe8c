/* SPDX-License-Identifier: MIT */
/* A redeemed flash visit as a commerce order: see visit_order.h for the rules. */

#include "domain/flash/visit_order.h"
#include "core/money.h"
#include "domain/commerce/commerce.h"
#include "domain/commerce/commerce_store.h"

#include <stdio.h>
#include <string.h>

#define VISIT_SOURCE "flash"

int visit_customer(struct db_conn *c, int64_t tenant, const struct flash_buyer *b, int64_t now_ms,
                   struct arena *a, int64_t *pk, const char **id, bool *created, struct err *e)
{
    *created = false;
    *pk = 0;
    int rc = commerce_store_find_external(c, "customer", tenant, VISIT_SOURCE, b->id, pk, e);
    if (!rc && !*pk && b->phone && b->phone[0])
        rc = commerce_store_customer_by_phone(c, tenant, b->phone, pk, e);
    if (!rc && !*pk) {
        struct commerce_customer cu = {
            .source = VISIT_SOURCE,
            .external_id = b->id,
            .name = b->name && b->name[0] ? b->name : NULL,
            .phone = b->phone && b->phone[0] ? b->phone : NULL,
            .is_active = true,
        };
        rc = commerce_store_customer_upsert(c, tenant, &cu, now_ms, created, e);
        if (!rc)
            rc = commerce_store_find_external(c, "customer", tenant, VISIT_SOURCE, b->id, pk, e);
        if (!rc && !*pk)
            rc = err_set(e, ERR_INTERNAL, "the customer of buyer %s was not created", b->id);
    }
    if (!rc)
        rc = commerce_store_public_id(c, "customer", tenant, *pk, a, id, e);
    return rc;
}

/* round(x * num / den) for non-negative x, num and den > 0, without overflow for prices. */
static int64_t scale_round(int64_t x, int64_t num, int64_t den)
{
    return (x * num + den / 2) / den;
}

void visit_price(const struct flash_window *w, const struct flash_seller *s, int64_t paid,
                 int64_t *unit, int64_t *list)
{
    int d = w->discount_percent > 0 && w->discount_percent < 100 ? w->discount_percent : 0;
    *unit = 0;
    *list = 0;
    if (paid >= 0 || w->static_price > 0) {
        *unit = paid >= 0 ? paid : w->static_price;
        *list = d ? scale_round(*unit, 100, 100 - d) : *unit;
        return;
    }
    int64_t lo = s->price_min > 0 ? s->price_min : s->price_max;
    int64_t hi = s->price_max > 0 ? s->price_max : s->price_min;
    if (lo <= 0)
        return; /* nobody knows the price */
    *list = (lo + hi + 1) / 2;
    *unit = d ? scale_round(*list, 100 - d, 100) : *list;
}

/* The seller's product the visit was about, created or renamed as the window names it. */
static int visit_product(struct db_conn *c, int64_t tenant, const struct flash_window *w,
                         const struct flash_seller *s, const struct money_currency *cur,
                         int64_t list, int64_t now_ms, struct arena *a, int64_t *pk, struct err *e)
{
    const char *what = w->product && w->product[0] ? w->product : w->title;
    const char *category = s->category && s->category[0] ? s->category : "flash";
    int64_t category_pk = 0;
    bool created = false;
    int rc = commerce_store_category_ensure(c, tenant, VISIT_SOURCE, category, category, now_ms,
                                            &category_pk, &created, e);
    if (rc)
        return rc;
    struct commerce_product p = {
        .source = VISIT_SOURCE,
        .external_id =
            arena_printf(a, "%s:%s", s->id, w->product && w->product[0] ? w->product : "-"),
        .category_pk = category_pk,
        .name = arena_printf(a, "%s · %s", what, s->name),
        .has_price = list > 0,
        .price = {.minor = list, .currency = cur},
    };
    rc = commerce_store_product_upsert(c, tenant, &p, now_ms, &created, e);
    if (!rc)
        rc = commerce_store_find_external(c, "product", tenant, VISIT_SOURCE, p.external_id, pk, e);
    if (!rc && !*pk)
        rc = err_set(e, ERR_INTERNAL, "product %s was not created", p.external_id);
    return rc;
}

int visit_order_put(struct db_conn *c, int64_t tenant, const struct flash_window *w,
                    const struct flash_seller *s, const struct flash_buyer *b,
                    enum commerce_order_status status, int64_t unit, int64_t list, int64_t now_ms,
                    struct arena *a, int64_t *order_pk, const char **order_id,
                    const char **customer_id, bool *inserted, struct err *e)
{
    const struct money_currency *cur = NULL;
    int rc =
        money_currency_find(w->currency && w->currency[0] ? w->currency : s->currency, &cur, e);
    int64_t customer_pk = 0, product_pk = 0;
    bool created = false;
    if (!rc)
        rc = visit_customer(c, tenant, b, now_ms, a, &customer_pk, customer_id, &created, e);
    if (!rc)
        rc = visit_product(c, tenant, w, s, cur, list, now_ms, a, &product_pk, e);
    if (rc)
        return rc;
    struct commerce_item item = {
        .product_pk = product_pk, .quantity = 1, .unit_price = unit, .list_price = list};
    struct commerce_order o = {
        .source = VISIT_SOURCE,
        .external_id = arena_printf(a, "window-%lld-%s", (long long)w->pk, b->id),
        .customer_pk = customer_pk,
        .status = status,
        .currency = cur,
        .total_amount = unit,
        .items = &item,
        .n_items = 1,
        .created_at = now_ms,
        .campaign = arena_printf(a, "flash-window-%lld", (long long)w->pk),
    };
    *order_pk = 0;
    rc = commerce_store_order_upsert(c, tenant, &o, now_ms, inserted, e);
    if (!rc)
        rc = commerce_store_find_external(c, "orders", tenant, VISIT_SOURCE, o.external_id,
                                          order_pk, e);
    if (!rc && !*order_pk)
        rc = err_set(e, ERR_INTERNAL, "order %s was not written", o.external_id);
    if (!rc)
        rc = commerce_store_public_id(c, "orders", tenant, *order_pk, a, order_id, e);
    return rc;
}

int visit_order_record(struct db_conn *c, int64_t tenant, const struct flash_window *w,
                       const struct flash_seller *s, const struct flash_buyer *b, int64_t paid,
                       int64_t now_ms, struct arena *a, const char **order_id,
                       const char **customer_id, struct err *e)
{
    int64_t unit = 0, list = 0, order_pk = 0;
    bool inserted = false;
    visit_price(w, s, paid, &unit, &list);
    return visit_order_put(c, tenant, w, s, b, COMMERCE_ORDER_FULFILLED, unit, list, now_ms, a,
                           &order_pk, order_id, customer_id, &inserted, e);
}
