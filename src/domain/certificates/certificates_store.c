/* SPDX-License-Identifier: MIT */
/*
 * The certificates' SQL (see certificates.h), through db.h and the store toolkit only. Reads the
 * commerce tables (orders, customer, city, order_item, product) for what a certificate states
 * and the tenant's name for its issuer; writes only certificates and certificate_keys.
 */
#include "domain/certificates/certificates.h"

#include "core/str.h"

#include <string.h>

#define CERT_COLS                                                                                  \
    "ce.id, ce.tenant_id, ce.public_id, o.public_id, ce.order_id, ce.customer_id, ce.issuer, "     \
    "ce.owner_name, ce.owner_email, ce.place, ce.amount, ce.currency, ce.items, ce.status, "       \
    "ce.file_key, ce.kid, ce.signature, ce.error, ce.issued_at, ce.expires_at, ce.revoked_at, "    \
    "ce.revoke_reason, ce.requested_by, ce.created_at, ce.updated_at "                             \
    "FROM certificates ce JOIN orders o ON o.order_id = ce.order_id "

static void read_cert(struct db_stmt *s, struct arena *a, void *out)
{
    struct cert *c = out;
    c->pk = db_col_i64(s, 0);
    c->tenant_id = db_col_i64(s, 1);
    c->id = db_col_str(s, 2, a);
    c->order_id = db_col_str(s, 3, a);
    c->order_pk = db_col_i64(s, 4);
    c->customer_pk = db_col_i64(s, 5);
    c->issuer = db_col_str(s, 6, a);
    c->owner_name = db_col_str(s, 7, a);
    c->owner_email = db_col_dup(s, 8, a);
    c->place = db_col_str(s, 9, a);
    c->amount = db_col_i64(s, 10);
    c->currency = db_col_str(s, 11, a);
    c->items = db_col_str(s, 12, a);
    if (cert_status_parse(db_col_text(s, 13), &c->status))
        c->status = CERT_FAILED;
    c->file_key = db_col_dup(s, 14, a);
    c->kid = db_col_dup(s, 15, a);
    c->signature = db_col_dup(s, 16, a);
    c->error = db_col_dup(s, 17, a);
    c->issued_at = db_col_time(s, 18);
    c->expires_at = db_col_time(s, 19);
    c->revoked_at = db_col_time(s, 20);
    c->revoke_reason = db_col_dup(s, 21, a);
    c->requested_by = db_col_str(s, 22, a);
    c->created_at = db_col_time(s, 23);
    c->updated_at = db_col_time(s, 24);
}

static void read_order(struct db_stmt *s, struct arena *a, void *out)
{
    struct cert_order *o = out;
    o->pk = db_col_i64(s, 0);
    o->id = db_col_str(s, 1, a);
    o->status = db_col_str(s, 2, a);
    o->customer_pk = db_col_i64(s, 3);
    o->customer_id = db_col_str(s, 4, a);
    o->email = db_col_dup(s, 5, a);
    o->city = db_col_dup(s, 6, a);
    o->amount = db_col_i64(s, 7);
    o->currency = db_col_str(s, 8, a);
    o->customer_name = db_col_dup(s, 9, a);
}

static void read_item(struct db_stmt *s, struct arena *a, void *out)
{
    const char **line = out;
    *line = arena_printf(a, "%lld × %s", (long long)db_col_i64(s, 0), db_col_str(s, 1, a));
}

int cert_store_order(struct db_conn *c, int64_t tenant, const char *id, int64_t pk, struct arena *a,
                     struct cert_order *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT o.order_id, o.public_id, o.status, o.customer_id, cu.public_id, "
                        "cu.email, ci.name, o.total_amount, o.currency, cu.name FROM orders o "
                        "JOIN customer cu ON cu.customer_id = o.customer_id "
                        "LEFT JOIN city ci ON ci.city_id = cu.city_id "
                        "WHERE o.tenant_id = ? AND (o.public_id = ? OR o.order_id = ?)",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, id ? id : "");
    db_bind_i64(s, 3, id ? 0 : pk);
    void *found;
    size_t n;
    rc = db_list(s, read_order, sizeof(struct cert_order), a, &found, &n, e);
    if (rc)
        return rc;
    if (n != 1)
        return err_set_field(e, ERR_NOT_FOUND, "order_id", "no order %s in this tenant",
                             id ? id : "with that key");
    *out = *(struct cert_order *)found;
    rc = db_prepare(c, &s,
                    "SELECT i.quantity, coalesce(p.name, p.public_id) FROM order_item i "
                    "JOIN product p ON p.product_id = i.product_id "
                    "WHERE i.tenant_id = ? AND i.order_id = ? ORDER BY i.order_item_id",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, out->pk);
    void *rows;
    rc = db_list(s, read_item, sizeof(const char *), a, &rows, &n, e);
    if (rc)
        return rc;
    struct buf b;
    buf_init(&b, 64 * 1024);
    const char **lines = rows;
    for (size_t i = 0; i < n; i++)
        buf_appendf(&b, "%s%s", i ? "\n" : "", lines[i]);
    out->items = arena_strdup(a, buf_str(&b));
    buf_release(&b);
    return 0;
}

static void read_name(struct db_stmt *s, struct arena *a, void *out)
{
    *(const char **)out = db_col_str(s, 0, a);
}

int cert_store_issuer(struct db_conn *c, int64_t tenant, struct arena *a, const char **name,
                      struct err *e)
{
    bool found = false;
    *name = "";
    int rc = db_get_one(c, "SELECT name FROM tenants WHERE id = ? AND id = ?", tenant, NULL, tenant,
                        read_name, a, name, &found, e);
    if (!rc && !found)
        rc = err_set_field(e, ERR_NOT_FOUND, "tenant", "no tenant %lld", (long long)tenant);
    return rc;
}

int cert_store_insert(struct db_conn *c, struct cert *cert, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s,
        "INSERT INTO certificates (tenant_id, public_id, order_id, customer_id, issuer, "
        "owner_name, owner_email, place, amount, currency, items, status, issued_at, expires_at, "
        "requested_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "'PENDING', ?, ?, ?, ?, ?) RETURNING id",
        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, cert->tenant_id);
    db_bind_text(s, 2, cert->id);
    db_bind_i64(s, 3, cert->order_pk);
    db_bind_i64(s, 4, cert->customer_pk);
    db_bind_text(s, 5, cert->issuer);
    db_bind_text(s, 6, cert->owner_name);
    db_bind_text(s, 7, cert->owner_email);
    db_bind_text(s, 8, cert->place);
    db_bind_i64(s, 9, cert->amount);
    db_bind_text(s, 10, cert->currency);
    db_bind_text(s, 11, cert->items);
    db_bind_time(s, 12, cert->issued_at);
    db_bind_time(s, 13, cert->expires_at);
    db_bind_text(s, 14, cert->requested_by);
    db_bind_time(s, 15, cert->created_at);
    db_bind_time(s, 16, cert->created_at);
    bool found = false;
    rc = db_one_i64(s, &cert->pk, &found, e);
    if (rc == ERR_CONFLICT)
        return err_replace(e, ERR_CONFLICT, "order_id", "order %s already has a certificate",
                           cert->order_id);
    cert->status = CERT_PENDING;
    cert->updated_at = cert->created_at;
    return rc;
}

int cert_store_get(struct db_conn *c, int64_t tenant, const char *id, int64_t pk, struct arena *a,
                   struct cert *out, bool *found, struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT " CERT_COLS "WHERE (? = 0 OR ce.tenant_id = ?) AND "
                        "(ce.public_id = ? OR ce.id = ?)",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, tenant);
    db_bind_text(s, 3, id ? id : "");
    db_bind_i64(s, 4, id ? 0 : pk);
    void *rows;
    size_t n;
    rc = db_list(s, read_cert, sizeof(struct cert), a, &rows, &n, e);
    *found = !rc && n == 1;
    if (*found)
        *out = *(struct cert *)rows;
    return rc;
}

int cert_store_by_order(struct db_conn *c, int64_t tenant, int64_t order_pk, struct arena *a,
                        struct cert *out, bool *found, struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "SELECT " CERT_COLS "WHERE ce.tenant_id = ? AND ce.order_id = ?", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, order_pk);
    void *rows;
    size_t n;
    rc = db_list(s, read_cert, sizeof(struct cert), a, &rows, &n, e);
    *found = !rc && n == 1;
    if (*found)
        *out = *(struct cert *)rows;
    return rc;
}

int cert_store_list(struct db_conn *c, int64_t tenant, const char *email, const struct page *p,
                    struct arena *a, struct cert **rows, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s,
        "SELECT " CERT_COLS "WHERE ce.tenant_id = ? AND (? = 0 OR ce.id < ?) AND "
        "(CAST(? AS TEXT) IS NULL OR lower(ce.owner_email) = lower(?)) ORDER BY ce.id DESC "
        "LIMIT ?",
        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, p->after);
    db_bind_i64(s, 3, p->after);
    db_bind_text(s, 4, email);
    db_bind_text(s, 5, email);
    db_bind_i64(s, 6, db_page_limit(p->limit, CERT_LIST_DEFAULT, CERT_LIST_MAX));
    void *out;
    rc = db_list(s, read_cert, sizeof(struct cert), a, &out, n, e);
    *rows = out;
    return rc;
}

int cert_store_move(struct db_conn *c, int64_t tenant, int64_t pk, enum cert_status from,
                    enum cert_status to, const char *file_key, const char *kid,
                    const char *signature, const char *error, int64_t now_ms, bool *moved,
                    struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE certificates SET status = ?, file_key = coalesce(?, file_key), "
                        "kid = coalesce(?, kid), signature = coalesce(?, signature), error = ?, "
                        "updated_at = ? WHERE tenant_id = ? AND id = ? AND status = ?",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, cert_status_name(to));
    db_bind_text(s, 2, file_key);
    db_bind_text(s, 3, kid);
    db_bind_text(s, 4, signature);
    db_bind_text(s, 5, error);
    db_bind_time(s, 6, now_ms);
    db_bind_i64(s, 7, tenant);
    db_bind_i64(s, 8, pk);
    db_bind_text(s, 9, cert_status_name(from));
    int64_t changes = 0;
    rc = db_exec_write(s, &changes, e);
    *moved = !rc && changes == 1;
    return rc;
}

int cert_store_revoke(struct db_conn *c, int64_t tenant, int64_t pk, const char *reason,
                      int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE certificates SET revoked_at = coalesce(revoked_at, ?), "
                        "revoke_reason = coalesce(revoke_reason, ?), updated_at = ? "
                        "WHERE tenant_id = ? AND id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_time(s, 1, now_ms);
    db_bind_text(s, 2, reason);
    db_bind_time(s, 3, now_ms);
    db_bind_i64(s, 4, tenant);
    db_bind_i64(s, 5, pk);
    return db_exec_write(s, NULL, e);
}

int cert_store_erased_with_pdf(struct db_conn *c, int limit, struct arena *a, struct cert **rows,
                               size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT " CERT_COLS "WHERE ce.revoke_reason = 'erased' AND ce.file_key "
                        "IS NOT NULL ORDER BY ce.id LIMIT ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, limit);
    void *out;
    rc = db_list(s, read_cert, sizeof(struct cert), a, &out, n, e);
    *rows = out;
    return rc;
}

int cert_store_drop_pdf(struct db_conn *c, int64_t tenant, int64_t pk, const char *file_key,
                        struct err *e)
{
    bool own;
    int rc = db_begin_own(c, &own, e);
    struct db_stmt *s;
    if (!rc)
        rc = db_prepare(c, &s, "DELETE FROM files WHERE tenant_id = ? AND storage_key = ?", e);
    if (!rc) {
        db_bind_i64(s, 1, tenant);
        db_bind_text(s, 2, file_key);
        rc = db_exec_write(s, NULL, e);
    }
    if (!rc)
        rc = db_prepare(
            c, &s, "UPDATE certificates SET file_key = NULL WHERE tenant_id = ? AND id = ?", e);
    if (!rc) {
        db_bind_i64(s, 1, tenant);
        db_bind_i64(s, 2, pk);
        rc = db_exec_write(s, NULL, e);
    }
    return db_end_own(c, own, rc, e);
}

/* ---------------------------------------------------------------- keys */

struct key_row {
    struct cert_key k;
    const char *sealed;
};

static void read_key(struct db_stmt *s, struct arena *a, void *out)
{
    struct key_row *r = out;
    r->k.pk = db_col_i64(s, 0);
    r->k.tenant_id = db_col_i64(s, 1);
    r->k.kid = db_col_str(s, 2, a);
    r->k.public_key = db_col_str(s, 3, a);
    r->k.created_at = db_col_time(s, 4);
    r->sealed = db_col_str(s, 5, a);
}

#define KEY_COLS "id, tenant_id, kid, public_key, created_at, secret_sealed FROM certificate_keys "

static int one_key(struct db_stmt *s, struct arena *a, struct cert_key *out, const char **sealed,
                   bool *found, struct err *e)
{
    void *rows;
    size_t n;
    int rc = db_list(s, read_key, sizeof(struct key_row), a, &rows, &n, e);
    *found = !rc && n >= 1;
    if (*found) {
        struct key_row *r = rows;
        *out = r->k;
        if (sealed)
            *sealed = r->sealed;
    }
    return rc;
}

int cert_store_key_current(struct db_conn *c, int64_t tenant, struct arena *a, struct cert_key *out,
                           const char **sealed, bool *found, struct err *e)
{
    struct db_stmt *s;
    int rc =
        db_prepare(c, &s, "SELECT " KEY_COLS "WHERE tenant_id = ? ORDER BY id DESC LIMIT 1", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    return one_key(s, a, out, sealed, found, e);
}

int cert_store_key_get(struct db_conn *c, const char *kid, struct arena *a, struct cert_key *out,
                       bool *found, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "SELECT " KEY_COLS "WHERE kid = ?", e);
    if (rc)
        return rc;
    db_bind_text(s, 1, kid);
    return one_key(s, a, out, NULL, found, e);
}

int cert_store_key_insert(struct db_conn *c, const struct cert_key *k, const char *sealed,
                          struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO certificate_keys (tenant_id, kid, alg, public_key, "
                        "secret_sealed, created_at) VALUES (?, ?, 'Ed25519', ?, ?, ?)",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, k->tenant_id);
    db_bind_text(s, 2, k->kid);
    db_bind_text(s, 3, k->public_key);
    db_bind_text(s, 4, sealed);
    db_bind_time(s, 5, k->created_at);
    return db_exec_write(s, NULL, e);
}

int cert_store_keys_all(struct db_conn *c, struct arena *a, struct cert_key **rows, size_t *n,
                        struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "SELECT " KEY_COLS "ORDER BY id", e);
    if (rc)
        return rc;
    void *out;
    size_t count;
    rc = db_list(s, read_key, sizeof(struct key_row), a, &out, &count, e);
    if (rc)
        return rc;
    struct key_row *r = out;
    struct cert_key *keys = arena_alloc(a, (count ? count : 1) * sizeof(*keys));
    for (size_t i = 0; i < count; i++)
        keys[i] = r[i].k;
    *rows = keys;
    *n = count;
    return 0;
}
