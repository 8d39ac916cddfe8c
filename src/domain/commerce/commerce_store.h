/* SPDX-License-Identifier: MIT */
/*
 * The commerce SQL (tables of migration 0015): cities and their climate, customers,
 * categories, products, orders and carts with their items, all scoped by tenant. Single
 * statements join the caller's transaction; functions that write several rows (an order and its
 * items) run in their own transaction unless the caller holds one (db_begin_own). Strings read
 * come from the arena `a`. Tests: tests/unit/domain/test_commerce_store.c (SQLite, and
 * PostgreSQL with TEST_PG_DSN).
 */
#ifndef ICESHOP_DOMAIN_COMMERCE_STORE_H
#define ICESHOP_DOMAIN_COMMERCE_STORE_H

#include "core/arena.h"
#include "core/err.h"
#include "db/store.h"
#include "domain/commerce/commerce.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Creating: the row is validated (commerce_*_check), given a new public id (cty_, cus_, cat_,
 * prd_, ord_, crt_ followed by 12 url-safe characters) and inserted with created_at/updated_at
 * = now_ms; on success the struct holds the row as stored (pk, id, references' public ids).
 * Errors: ERR_INVALID naming the field; ERR_CONFLICT naming "external_id" when (source,
 * external_id) is already taken in the tenant; ERR_NOT_FOUND naming "city_id", "category_id",
 * "customer_id" or "items[i].product_id" for a reference that is not this tenant's.
 *
 * Getting by public id: ERR_NOT_FOUND naming "id" when the tenant has no such row.
 * Listing: oldest first, rows with pk above p->after, at most p->limit; `after` of the next
 * page is the last row's pk.
 */
int commerce_store_city_create(struct db_conn *c, int64_t tenant, struct commerce_city *city,
                               int64_t now_ms, struct arena *a, struct err *e);
int commerce_store_city_get(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                            struct commerce_city *out, struct err *e);
int commerce_store_city_list(struct db_conn *c, int64_t tenant, const struct page *p,
                             struct arena *a, struct commerce_city **rows, size_t *n,
                             struct err *e);
/* Replace the city's 12 months (commerce_climate_check first). */
int commerce_store_climate_put(struct db_conn *c, int64_t tenant, int64_t city_pk,
                               const struct commerce_climate *months, size_t n, struct err *e);
/* The months known for the city, January first (none: *n 0). */
int commerce_store_climate_get(struct db_conn *c, int64_t tenant, int64_t city_pk, struct arena *a,
                               struct commerce_climate **rows, size_t *n, struct err *e);

int commerce_store_customer_create(struct db_conn *c, int64_t tenant, struct commerce_customer *cu,
                                   int64_t now_ms, struct arena *a, struct err *e);
int commerce_store_customer_get(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                                struct commerce_customer *out, struct err *e);
int commerce_store_customer_list(struct db_conn *c, int64_t tenant, const struct page *p,
                                 struct arena *a, struct commerce_customer **rows, size_t *n,
                                 struct err *e);
/*
 * Customers whose email, name, phone, external id or public id contains `q` (case-insensitive
 * for ASCII letters; % and _ are plain characters), paged as commerce_store_customer_list.
 * Every row of the tenant is read (no index serves a substring): fine at a shop's size.
 */
int commerce_store_customer_search(struct db_conn *c, int64_t tenant, const char *q,
                                   const struct page *p, struct arena *a,
                                   struct commerce_customer **rows, size_t *n, struct err *e);

int commerce_store_category_create(struct db_conn *c, int64_t tenant, struct commerce_category *cat,
                                   int64_t now_ms, struct arena *a, struct err *e);
int commerce_store_category_get(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                                struct commerce_category *out, struct err *e);
int commerce_store_category_list(struct db_conn *c, int64_t tenant, const struct page *p,
                                 struct arena *a, struct commerce_category **rows, size_t *n,
                                 struct err *e);

int commerce_store_product_create(struct db_conn *c, int64_t tenant, struct commerce_product *pr,
                                  int64_t now_ms, struct arena *a, struct err *e);
int commerce_store_product_get(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                               struct commerce_product *out, struct err *e);
int commerce_store_product_list(struct db_conn *c, int64_t tenant, const struct page *p,
                                struct arena *a, struct commerce_product **rows, size_t *n,
                                struct err *e);

/* Orders: created_at is the order's own time when not 0, else now_ms. */
int commerce_store_order_create(struct db_conn *c, int64_t tenant, struct commerce_order *o,
                                int64_t now_ms, struct arena *a, struct err *e);
/* With its items. */
int commerce_store_order_get(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                             struct commerce_order *out, struct err *e);
/*
 * Move order `order_pk` from `from` to `to` and record the change with its cause ("payment",
 * "refund", "reconciliation", ...) and the payment behind it (0: none) in order_status_history.
 * ERR_CONFLICT (field "status") when the order is no longer in `from`; ERR_NOT_FOUND when the
 * tenant has no such order.
 */
int commerce_store_order_set_status(struct db_conn *c, int64_t tenant, int64_t order_pk,
                                    enum commerce_order_status from, enum commerce_order_status to,
                                    const char *cause, int64_t payment_pk, int64_t now_ms,
                                    struct err *e);
/* One change of an order's status (order_status_history). */
struct commerce_status_change {
    const char *from_status, *to_status, *cause;
    const char *payment_id; /* the payment's public id, or NULL */
    int64_t at;
};
/* Every status change of order `order_pk`, oldest first. */
int commerce_store_order_history(struct db_conn *c, int64_t tenant, int64_t order_pk,
                                 struct arena *a, struct commerce_status_change **rows, size_t *n,
                                 struct err *e);
/* The status of order `order_pk`; ERR_NOT_FOUND when the tenant has no such order. */
int commerce_store_order_status(struct db_conn *c, int64_t tenant, int64_t order_pk,
                                enum commerce_order_status *out, struct err *e);
/* Without items (n_items is their count); customer_pk 0 = every customer's. */
int commerce_store_order_list(struct db_conn *c, int64_t tenant, int64_t customer_pk,
                              const struct page *p, struct arena *a, struct commerce_order **rows,
                              size_t *n, struct err *e);

/*
 * The orders of every customer of the tenant whose email is `email` (case-insensitive), as
 * commerce_store_order_list pages them: what a signed-in person's GET /api/me/orders shows.
 */
int commerce_store_order_list_by_email(struct db_conn *c, int64_t tenant, const char *email,
                                       const struct page *p, struct arena *a,
                                       struct commerce_order **rows, size_t *n, struct err *e);

int commerce_store_cart_create(struct db_conn *c, int64_t tenant, struct commerce_cart *cart,
                               int64_t now_ms, struct arena *a, struct err *e);
int commerce_store_cart_get(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                            struct commerce_cart *out, struct err *e);
int commerce_store_cart_list(struct db_conn *c, int64_t tenant, int64_t customer_pk,
                             const struct page *p, struct arena *a, struct commerce_cart **rows,
                             size_t *n, struct err *e);

/* ---- for imports: rows named by (source, external_id) ---- */

/* The pk of the row of `table` ("city", "customer", "category", "product", "orders", "cart") with
 * this key; 0 when none (not an error). */
int commerce_store_find_external(struct db_conn *c, const char *table, int64_t tenant,
                                 const char *source, const char *external_id, int64_t *pk,
                                 struct err *e);
/*
 * One person, one customer: the pk of the tenant's customer whose phone is exactly `phone`
 * (E.164, as WhatsApp gives it), the oldest when several share it; *pk 0 when none.
 */
int commerce_store_customer_by_phone(struct db_conn *c, int64_t tenant, const char *phone,
                                     int64_t *pk, struct err *e);

/* The public id (arena) of row `pk` of `table` (as commerce_store_find_external names them);
 * ERR_NOT_FOUND naming "id" when the tenant has no such row. */
int commerce_store_public_id(struct db_conn *c, const char *table, int64_t tenant, int64_t pk,
                             struct arena *a, const char **id, struct err *e);

/*
 * The city with this external id, the one of `source` first, else one of another source (cities
 * are few and usually made through the API, whose source is "api"); *pk 0 when none.
 */
int commerce_store_city_by_external(struct db_conn *c, int64_t tenant, const char *source,
                                    const char *external_id, int64_t *pk, struct err *e);
/*
 * The pk of the customer / product / category with this key, creating it when missing with
 * nothing but its key (a category's name is `name`, or the external id); *created tells.
 */
int commerce_store_customer_ensure(struct db_conn *c, int64_t tenant, const char *source,
                                   const char *external_id, int64_t now_ms, int64_t *pk,
                                   bool *created, struct err *e);
int commerce_store_product_ensure(struct db_conn *c, int64_t tenant, const char *source,
                                  const char *external_id, int64_t now_ms, int64_t *pk,
                                  bool *created, struct err *e);
/*
 * The same for n distinct external ids at once (pks[i] for external_ids[i]), in a few
 * statements per 64 ids; *created counts the rows made. Run it inside a transaction.
 */
int commerce_store_customer_ensure_many(struct db_conn *c, int64_t tenant, const char *source,
                                        const char *const *external_ids, size_t n, int64_t now_ms,
                                        int64_t *pks, size_t *created, struct err *e);
int commerce_store_product_ensure_many(struct db_conn *c, int64_t tenant, const char *source,
                                       const char *const *external_ids, size_t n, int64_t now_ms,
                                       int64_t *pks, size_t *created, struct err *e);
int commerce_store_category_ensure(struct db_conn *c, int64_t tenant, const char *source,
                                   const char *external_id, const char *name, int64_t now_ms,
                                   int64_t *pk, bool *created, struct err *e);
/*
 * Insert the row, or update the row with the same (source, external_id) (keeping its public
 * id and created_at); *inserted tells which. References must be resolved by the caller
 * (city_pk, category_pk, customer_pk, items[i].product_pk); checks are the caller's too.
 * An order's items are replaced on update.
 */
int commerce_store_customer_upsert(struct db_conn *c, int64_t tenant,
                                   const struct commerce_customer *cu, int64_t now_ms,
                                   bool *inserted, struct err *e);
int commerce_store_product_upsert(struct db_conn *c, int64_t tenant,
                                  const struct commerce_product *pr, int64_t now_ms, bool *inserted,
                                  struct err *e);
int commerce_store_order_upsert(struct db_conn *c, int64_t tenant, const struct commerce_order *o,
                                int64_t now_ms, bool *inserted, struct err *e);
/* As the order upsert, for a cart (cart recovery's polls); cart->pk gets the row's pk. */
int commerce_store_cart_upsert(struct db_conn *c, int64_t tenant, struct commerce_cart *cart,
                               int64_t now_ms, bool *inserted, struct err *e);
/*
 * commerce_store_cart_upsert for n carts at once, with the same result as n calls in order
 * (a later cart of the same source and external_id wins), each cart's pk set; every cart needs
 * an external_id. A run of up to 64 carts of one source costs three or four statements
 * (multi-row INSERT ... ON CONFLICT DO UPDATE, the pks by external id, the old items of the carts
 * already there deleted, the items inserted in multi-row statements) instead of three to five per
 * cart: one round trip per statement is what PostgreSQL's polls spend their time on.
 */
int commerce_store_cart_upsert_many(struct db_conn *c, int64_t tenant, struct commerce_cart *carts,
                                    size_t n, int64_t now_ms, struct err *e);
/*
 * commerce_store_order_upsert for n orders at once (a bulk import's batch), with the same result
 * as n calls in order (a later order of the same source and external_id wins), each order's pk
 * set and inserted[i] (n of them, the caller's) telling whether order i was new; every order needs
 * an external_id. Runs as commerce_store_cart_upsert_many's: for a run of 64 new orders, one
 * multi-row INSERT ... ON CONFLICT DO UPDATE, one SELECT of the pks and the items in multi-row
 * INSERTs; orders already there also have their old items deleted (one statement per run).
 * New orders' public ids carry `id_ms` as their time instead of now_ms: a bulk import, whose rows
 * are all stamped with the session's now_ms, gives each batch a later one, so that a batch's new
 * ids land together after the previous batch's in the public id index instead of among them all
 * (where every commit rewrote most of the session's part of that index).
 */
int commerce_store_order_upsert_many(struct db_conn *c, int64_t tenant,
                                     struct commerce_order *orders, size_t n, int64_t now_ms,
                                     int64_t id_ms, bool *inserted, struct err *e);

#endif
