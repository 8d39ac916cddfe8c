/* SPDX-License-Identifier: MIT */
/*
 * Bulk import of customers, products and orders from NDJSON or CSV, fed in pieces of any size
 * (an HTTP upload as it arrives, a file read in blocks), never holding the whole input. Lines
 * are parsed by the pure parsers below and written in batches of IMPORT_BATCH records per
 * transaction, idempotent on (source, external_id): a known record is updated, not duplicated.
 * A bad line is rejected with its line number, field and reason; it writes nothing and the
 * others go on. Tests: tests/unit/domain/test_commerce_import.c (parsers, and the session on
 * SQLite and PostgreSQL), tests/integration/0018-commerce.c (over HTTP).
 *
 * Input formats, one record per line (CSV: per record; a quoted field may hold newlines):
 *   customers: external_id*, name, email, phone, birth_date (YYYY-MM-DD), gender, city_external_id,
 *              is_active (true/false/1/0)
 *   products:  external_id*, name, category_external_id, category_name, price (decimal text in
 *              the currency's major unit, "11.77"), currency (required with price), stock
 *   orders:    external_id*, customer_external_id*, created_at* (ISO-8601), currency*, status
 *              (placed|paid|cancelled|refunded; placed when absent), campaign (the campaign or
 *              discount code it was placed under), items* = [{product_external_id*, quantity*,
 *              unit_price* (decimal text), list_price (decimal text: before any discount)}]
 * NDJSON lines are objects with
 * those members (members not listed are ignored; numbers may also be given as JSON numbers except
 * prices, which are text). CSV starts with a header naming its columns (any order; unknown columns
 * are an error); an order in CSV is one row per item with columns product_external_id, quantity,
 * unit_price, list_price, and consecutive rows with the same external_id form one order. Customers,
 * products and categories that a line names but that do not exist yet are created with nothing but
 * their external id, in the import's source. Cities must exist: found by external id, of the
 * import's source first, else of any source.
 */
#ifndef ICESHOP_DOMAIN_COMMERCE_IMPORT_H
#define ICESHOP_DOMAIN_COMMERCE_IMPORT_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "domain/commerce/commerce.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMPORT_BODY_MAX       ((size_t)100 * 1024 * 1024) /* bytes in one import */
#define IMPORT_LINE_MAX       (64 * 1024)                 /* bytes in one line (CSV: one record) */
#define IMPORT_BATCH          4000                        /* records per transaction */
#define IMPORT_REJECTS_MAX    100                         /* rejected lines listed in the result */
#define IMPORT_SOURCE_DEFAULT "import"

enum import_kind { IMPORT_CUSTOMERS = 0, IMPORT_PRODUCTS, IMPORT_ORDERS };
enum import_format { IMPORT_NDJSON = 0, IMPORT_CSV };

/* "customers", "products", "orders", NULL; indexed by the enum. */
extern const char *const import_kind_names[];

struct import_reject {
    int64_t line; /* 1-based line of the input where the record starts */
    char field[64];
    char reason[200];
};

/*
 * Counts of records (an order in CSV spans several rows: it counts once) and the first
 * IMPORT_REJECTS_MAX rejects in input order.
 */
struct import_result {
    int64_t inserted, updated, rejected;
    int64_t lines; /* lines read */
    struct import_reject rejects[IMPORT_REJECTS_MAX];
    size_t n_rejects;
};

struct import;

/*
 * A session writing into `tenant` on `c` (borrowed; the caller holds it for the whole import
 * and has no transaction open on it). Rows it creates carry `source`; `now_ms` stamps
 * created_at/updated_at. Free with import_free(). ERR_INVALID naming "source".
 */
int import_new(struct db_conn *c, int64_t tenant, enum import_kind kind, enum import_format format,
               const char *source, int64_t now_ms, struct import **out, struct err *e);

/*
 * Feed the next `len` bytes. Complete lines are parsed; a batch is committed whenever
 * IMPORT_BATCH records are waiting. Bad lines only become rejects; the error returns are:
 * ERR_INVALID naming "header" (a CSV header with an unknown or missing column; nothing was
 * written) and database errors other than a record's own (then the session is finished: the
 * batches already committed stay, the rest is dropped).
 */
int import_feed(struct import *im, const char *data, size_t len, struct err *e);
/* The end of the input: the last line (without newline) and the last batch. */
int import_finish(struct import *im, struct err *e);
/* The counts so far; valid until import_free(). */
const struct import_result *import_result(const struct import *im);
/* NULL is allowed. An unfinished batch is dropped (never committed). */
void import_free(struct import *im);

/* ---- the pure line parsers (no I/O), for tests and the session ---- */

/*
 * One NDJSON line into a record; strings are copied into `a`. ERR_INVALID naming the field
 * ("items[1].unit_price", "currency", "created_at" ...) or "line" for malformed JSON.
 * Orders: total_amount is filled; items name products by product_external_id.
 */
int import_parse_customer_json(const char *line, size_t len, struct arena *a,
                               struct commerce_customer *out, const char **city_external_id,
                               struct err *e);
int import_parse_product_json(const char *line, size_t len, struct arena *a,
                              struct commerce_product *out, const char **category_external_id,
                              const char **category_name, struct err *e);
int import_parse_order_json(const char *line, size_t len, struct arena *a,
                            struct commerce_order *out, struct err *e);

/*
 * Split one CSV record (RFC 4180: comma separated, fields optionally in double quotes, "" for
 * a quote inside, newlines allowed inside quotes; no trailing newline) into fields copied into
 * `a`. ERR_INVALID naming "line" for a quote that is not closed or text after a closing quote.
 */
int import_csv_split(const char *rec, size_t len, struct arena *a, char ***fields, size_t *n,
                     struct err *e);

#endif
