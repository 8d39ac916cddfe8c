/* SPDX-License-Identifier: MIT */
/*
 * Commerce data shared by customer intelligence, payments and cart recovery: cities with their
 * monthly climate, customers, categories, products, orders with items, carts with items. This
 * header holds the types and the pure rules (validation, order status, totals); no I/O, no clock.
 * SQL is in commerce_store.h, bulk import in import.h. Tests: tests/unit/domain/test_commerce.c.
 */
#ifndef ICESHOP_DOMAIN_COMMERCE_H
#define ICESHOP_DOMAIN_COMMERCE_H

#include "core/err.h"
#include "core/money.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COMMERCE_TEXT_MAX       256 /* names, emails, external ids ... (bytes) */
#define COMMERCE_ITEMS_MAX      500 /* items in one order or cart */
#define COMMERCE_QUANTITY_MAX   100000
#define COMMERCE_LIST_DEFAULT   50
#define COMMERCE_LIST_MAX       500
#define COMMERCE_SOURCE_DEFAULT "api" /* source of rows created through the API */

/*
 * Order status. An order is pending until paid, then paid → fulfilled; or cancelled, refunded,
 * partially_refunded (payments moves it, recording each change with its cause in
 * order_status_history). "placed", the status before payments existed, means pending: it is
 * accepted on input (API, imports) and stored as pending. Cancelled and refunded orders never
 * count as spend (commerce_order_status_counts); a partially refunded one does.
 */
enum commerce_order_status {
    COMMERCE_ORDER_PENDING = 0,
    COMMERCE_ORDER_PAID,
    COMMERCE_ORDER_CANCELLED,
    COMMERCE_ORDER_REFUNDED,
    COMMERCE_ORDER_FULFILLED,
    COMMERCE_ORDER_PARTIALLY_REFUNDED,
    COMMERCE_ORDER_PLACED = COMMERCE_ORDER_PENDING, /* the old name of pending */
};
/* "pending", "paid", "cancelled", "refunded", "fulfilled", "partially_refunded", NULL: indexed
 * by the enum. */
extern const char *const commerce_order_status_names[];

/*
 * Every resource has an internal key `pk` (the list cursor, never shown as an id) and a public
 * `id` ("cus_…", "prd_…"); `source` and `external_id` name the row in the system it came from
 * (external_id NULL for rows made here). Strings are borrowed from the arena they were read
 * into or from the caller.
 */
struct commerce_city {
    int64_t pk;
    const char *id, *source, *external_id;
    const char *country_code; /* ISO 3166-1 alpha-2 */
    const char *name, *region_code;
    bool has_location;
    double latitude, longitude;
    int64_t created_at;
};

/* One month of a city's climate; a `has_` false means unknown (NULL). */
struct commerce_climate {
    int month; /* 1..12 */
    bool has_avg_temp_c, has_rainfall_mm, has_humidity_pct;
    double avg_temp_c, rainfall_mm, humidity_pct;
    const char *season_tag; /* may be NULL */
};

struct commerce_customer {
    int64_t pk;
    const char *id, *source, *external_id;
    const char *name;                                /* the person's name, or NULL */
    const char *email, *phone, *birth_date, *gender; /* each may be NULL; birth_date YYYY-MM-DD */
    const char *city_id;                             /* the city's public id, or NULL */
    int64_t city_pk;
    bool is_active;
    int64_t created_at, updated_at;
};

struct commerce_category {
    int64_t pk;
    const char *id, *source, *external_id;
    const char *name;
    int64_t created_at;
};

struct commerce_product {
    int64_t pk;
    const char *id, *source, *external_id;
    const char *category_id; /* public id, or NULL */
    int64_t category_pk;
    const char *name;   /* NULL for a product an import created from an order line */
    bool has_price;     /* false: price unknown (same case) */
    struct money price; /* minor units + currency */
    int64_t stock;
    int64_t created_at, updated_at;
};

/* An order or cart line. The product is named by `product_id` (public) or, in imports, by
 * `product_external_id`; stores fill `product_pk`. `unit_price` is in the minor units of the
 * order's currency. */
struct commerce_item {
    const char *product_id, *product_external_id;
    int64_t product_pk;
    int64_t quantity;
    int64_t unit_price;
    int64_t list_price; /* the undiscounted unit price, minor units; 0 = not known */
};

struct commerce_order {
    int64_t pk;
    const char *id, *source, *external_id;
    const char *customer_id, *customer_external_id; /* as for items */
    int64_t customer_pk;
    enum commerce_order_status status;
    const struct money_currency *currency;
    int64_t total_amount; /* minor units; the sum of the items */
    struct commerce_item *items;
    size_t n_items;
    int64_t created_at, updated_at;
    /* the campaign it was placed under (an Iceshop campaign id or an outside code); NULL none */
    const char *campaign;
};

/* A cart has no status yet: cart recovery decides what an abandoned cart is. */
struct commerce_cart {
    int64_t pk;
    const char *id, *source, *external_id;
    const char *customer_id, *customer_external_id;
    int64_t customer_pk;
    const struct money_currency *currency;
    int64_t total_amount;
    struct commerce_item *items;
    size_t n_items;
    int64_t created_at, updated_at;
};

/* "pending" … (or "placed", read as pending) into *out; ERR_INVALID naming `field` otherwise. */
int commerce_order_status_parse(const char *text, const char *field,
                                enum commerce_order_status *out, struct err *e);
/* Whether an order in this status counts as the customer's spend (pending, paid, fulfilled,
 * partially_refunded). */
bool commerce_order_status_counts(enum commerce_order_status s);
/* The same rule in SQL: `status NOT IN` this list is an order that counts as spend. */
#define COMMERCE_ORDER_NOT_SPEND_SQL "('cancelled', 'refunded')"

/*
 * Text field checks, each ERR_INVALID naming `field`: commerce_text_check wants 1 to
 * COMMERCE_TEXT_MAX bytes of valid UTF-8 without control characters (NULL is fine unless
 * `required`); commerce_date_check a calendar date "YYYY-MM-DD"; commerce_country_check two
 * upper-case letters; commerce_email_check one '@' with text on both sides.
 */
int commerce_text_check(const char *s, const char *field, bool required, struct err *e);
int commerce_date_check(const char *s, const char *field, struct err *e);
int commerce_country_check(const char *s, const char *field, struct err *e);
int commerce_email_check(const char *s, const char *field, struct err *e);

/* A source name: 1..64 of a-z 0-9 _ - . ; ERR_INVALID naming `field`. */
int commerce_source_check(const char *s, const char *field, struct err *e);

/*
 * The items' total into *total (minor units): quantity in 1..COMMERCE_QUANTITY_MAX, unit price
 * >= 0, 1..COMMERCE_ITEMS_MAX items, no overflow. Errors name "items[i].quantity" and so on.
 */
int commerce_items_total(const struct commerce_item *items, size_t n, int64_t *total,
                         struct err *e);

/*
 * Everything about a customer / product / order / cart that needs no database: text fields,
 * dates, currencies, items (fills total_amount of orders and carts). Errors name the field.
 */
int commerce_customer_check(const struct commerce_customer *c, struct err *e);
int commerce_product_check(const struct commerce_product *p, struct err *e);
int commerce_order_check(struct commerce_order *o, struct err *e);
int commerce_cart_check(struct commerce_cart *c, struct err *e);

/*
 * A city's climate: exactly 12 entries, months 1..12 each once, humidity in 0..100, rainfall
 * >= 0, temperature in -90..60. Errors name "months[i].<field>".
 */
int commerce_climate_check(const struct commerce_climate *m, size_t n, struct err *e);

#endif
