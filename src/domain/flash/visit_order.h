/* SPDX-License-Identifier: MIT */
/*
 * One person, one customer: what a redeemed flash visit becomes in commerce, so the customer
 * profiles learn from Iceshop's own traffic.
 *
 * The buyer's customer is, in this order: the customer already linked to the buyer (source
 * "flash", external_id the buyer's public id); else the tenant's oldest customer with the buyer's
 * phone (E.164, exactly); else a new customer (source "flash", external_id the buyer's id, with
 * the buyer's name and phone). Privacy erasure of the phone therefore reaches the customer too.
 *
 * The visit becomes one fulfilled order of that customer (source "flash", external_id
 * "window-<window>-<buyer id>", so the same visit never makes two orders), placed under the
 * campaign "flash-window-<window>", with one item: the seller's product (source "flash",
 * external_id "<seller id>:<product>", named "<product> · <seller name>", in a category named as
 * the seller's). Its unit price is, first that is known: the amount the seller confirmed at
 * redemption; the window's fixed price; the middle of the seller's price range less the window's
 * discount. Its list price is the price before the window's discount (the unit price when the
 * window has none). A visit whose price nobody knows is still an order (recency, frequency,
 * category) with a unit price of 0 and no list price.
 *
 * Runs in the caller's transaction (the redemption's), writes rows only.
 * Tests: tests/unit/domain/test_flash_service.c (SQLite, and PostgreSQL with TEST_PG_DSN),
 * tests/integration/0004-flash.c (over HTTP).
 */
#ifndef ICESHOP_DOMAIN_FLASH_VISIT_ORDER_H
#define ICESHOP_DOMAIN_FLASH_VISIT_ORDER_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "domain/commerce/commerce.h"
#include "domain/flash/flash.h"
#include "domain/flash/flash_store.h"

#include <stdbool.h>
#include <stdint.h>

/* The customer of buyer `b` (found or created as above): *pk and *id (arena). */
int visit_customer(struct db_conn *c, int64_t tenant, const struct flash_buyer *b, int64_t now_ms,
                   struct arena *a, int64_t *pk, const char **id, bool *created, struct err *e);

/*
 * The unit and list price of one visit to window `w` of seller `s` in minor units of the
 * window's currency, by the rule above; `paid` is the seller's confirmed amount, or -1 when not
 * given. *list is 0 when not known. Pure.
 */
void visit_price(const struct flash_window *w, const struct flash_seller *s, int64_t paid,
                 int64_t *unit, int64_t *list);

/*
 * Write the order of buyer `b`'s visit to window `w` of seller `s` as above, with `status` and
 * one item at `unit` (list price `list`, 0 = not known): inserted, or updated when the visit's
 * order exists already (*inserted tells). *order_pk, *order_id and *customer_id (arena) get the
 * order's and customer's keys. Prepaid windows place it pending at join (flash_service.h).
 */
int visit_order_put(struct db_conn *c, int64_t tenant, const struct flash_window *w,
                    const struct flash_seller *s, const struct flash_buyer *b,
                    enum commerce_order_status status, int64_t unit, int64_t list, int64_t now_ms,
                    struct arena *a, int64_t *order_pk, const char **order_id,
                    const char **customer_id, bool *inserted, struct err *e);

/*
 * Record the visit of buyer `b` to window `w` of seller `s` as a fulfilled order of the buyer's
 * customer, priced by visit_price: *order_id and *customer_id (arena) get their public ids. `paid`
 * as for visit_price.
 */
int visit_order_record(struct db_conn *c, int64_t tenant, const struct flash_window *w,
                       const struct flash_seller *s, const struct flash_buyer *b, int64_t paid,
                       int64_t now_ms, struct arena *a, const char **order_id,
                       const char **customer_id, struct err *e);

#endif
