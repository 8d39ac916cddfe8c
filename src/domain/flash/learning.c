/* SPDX-License-Identifier: MIT */
/*
 * The learned outcomes of flash windows (learning.h): one row per tenant, seller, category and
 * discount, counts added in the caller's transaction. Table: flash_learning
 * (src/db/sql/<backend>/0018_flash_learning.sql). Tests: tests/unit/domain/test_flash_service.c.
 */
#include "domain/flash/learning.h"
#include "core/str.h"

#include <string.h>

int flash_learning_record(struct db_conn *c, int64_t tenant, int64_t seller_pk,
                          const char *category, int discount, int offers, int visits,
                          int64_t now_ms, struct err *e)
{
    if (offers <= 0)
        return 0; /* nothing was offered: nothing to learn */
    if (visits < 0 || visits > offers || discount < 0 || discount > 100)
        return err_set(e, ERR_INVALID, "an outcome of %d visits from %d offers at %d%%", visits,
                       offers, discount);
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO flash_learning (tenant_id, seller_id, category, discount, "
                        "offers, visits, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (tenant_id, seller_id, category, discount) DO UPDATE SET "
                        "offers = flash_learning.offers + excluded.offers, "
                        "visits = flash_learning.visits + excluded.visits, "
                        "updated_at = excluded.updated_at",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, seller_pk);
    db_bind_text(s, 3, category ? category : "");
    db_bind_i64(s, 4, discount);
    db_bind_i64(s, 5, offers);
    db_bind_i64(s, 6, visits);
    db_bind_time(s, 7, now_ms);
    return db_exec_write(s, NULL, e);
}

int flash_learning_prior(struct db_conn *c, int64_t tenant, double *rate, int64_t *offers,
                         struct err *e)
{
    *rate = FLASH_LEARNING_PRIOR_RATE;
    *offers = 0;
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT coalesce(sum(offers), 0), coalesce(sum(visits), 0) "
                        "FROM flash_learning WHERE tenant_id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    int st = db_step(s, e);
    int64_t n = 0, v = 0;
    if (st == DB_ROW) {
        n = db_col_i64(s, 0);
        v = db_col_i64(s, 1);
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    *offers = n;
    if (n >= FLASH_LEARNING_PRIOR_MIN)
        *rate = (double)v / (double)n;
    return 0;
}

double flash_learning_mean(double prior_rate, int64_t offers, int64_t visits)
{
    double w = FLASH_LEARNING_PRIOR_WEIGHT;
    return (prior_rate * w + (double)visits) / (w + (double)offers);
}

struct outcome {
    int discount;
    int64_t offers, visits;
};

static void read_outcome(struct db_stmt *s, struct arena *a, void *out)
{
    (void)a;
    struct outcome *o = out;
    o->discount = (int)db_col_i64(s, 0);
    o->offers = db_col_i64(s, 1);
    o->visits = db_col_i64(s, 2);
}

int flash_learning_policy(struct db_conn *c, int64_t tenant, int64_t seller_pk,
                          const char *category, const struct flash_config *cfg, int seller_max,
                          struct flash_policy *out, double *prior_rate, struct err *e)
{
    double rate;
    int64_t total;
    int rc = flash_learning_prior(c, tenant, &rate, &total, e);
    if (rc)
        return rc;
    if (prior_rate)
        *prior_rate = rate;
    flash_policy_init(out, cfg, seller_max, rate, FLASH_LEARNING_PRIOR_WEIGHT);
    struct arena a;
    arena_init(&a);
    /* the prior pooled from the tenant's other sellers of the category, then the seller's own */
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "SELECT discount, SUM(offers), SUM(visits) FROM flash_learning "
                    "WHERE tenant_id = ? AND category = ? AND seller_id <> ? GROUP BY discount",
                    e);
    void *rows = NULL;
    size_t n = 0;
    if (!rc) {
        db_bind_i64(s, 1, tenant);
        db_bind_text(s, 2, category ? category : "");
        db_bind_i64(s, 3, seller_pk);
        rc = db_list(s, read_outcome, sizeof(struct outcome), &a, &rows, &n, e);
    }
    if (!rc && n) {
        const struct outcome *o = rows;
        struct flash_policy_evidence *ev = arena_alloc(&a, n * sizeof(*ev));
        for (size_t i = 0; i < n; i++)
            ev[i] = (struct flash_policy_evidence){o[i].discount, (double)o[i].offers,
                                                   (double)o[i].visits};
        flash_policy_pool(out, ev, n, rate, FLASH_LEARNING_PRIOR_WEIGHT, FLASH_POLICY_POOL_MAX);
    }
    if (!rc)
        rc = db_prepare(c, &s,
                        "SELECT discount, offers, visits FROM flash_learning "
                        "WHERE tenant_id = ? AND seller_id = ? AND category = ?",
                        e);
    if (!rc) {
        db_bind_i64(s, 1, tenant);
        db_bind_i64(s, 2, seller_pk);
        db_bind_text(s, 3, category ? category : "");
        rc = db_list(s, read_outcome, sizeof(struct outcome), &a, &rows, &n, e);
    }
    const struct outcome *o = rows;
    for (size_t i = 0; !rc && i < n; i++)
        flash_policy_update(out, o[i].discount, (int)o[i].offers, (int)o[i].visits);
    arena_release(&a);
    return rc;
}

static void read_row(struct db_stmt *s, struct arena *a, void *out)
{
    struct flash_learning_row *r = out;
    r->pk = db_col_i64(s, 0);
    r->seller_pk = db_col_i64(s, 1);
    r->seller_id = db_col_str(s, 2, a);
    r->category = db_col_str(s, 3, a);
    r->discount = (int)db_col_i64(s, 4);
    r->offers = db_col_i64(s, 5);
    r->visits = db_col_i64(s, 6);
    r->updated_at = db_col_time(s, 7);
}

int flash_learning_list(struct db_conn *c, int64_t tenant, const struct page *p, struct arena *a,
                        struct flash_learning_row **rows, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT l.id, l.seller_id, s.public_id, l.category, l.discount, l.offers, "
                        "l.visits, l.updated_at FROM flash_learning l JOIN sellers s ON s.id = "
                        "l.seller_id AND s.tenant_id = l.tenant_id WHERE l.tenant_id = ? AND "
                        "l.id > ? ORDER BY l.id LIMIT ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, p->after);
    db_bind_i64(s, 3, db_page_limit(p->limit, 100, 500));
    void *out;
    rc = db_list(s, read_row, sizeof(struct flash_learning_row), a, &out, n, e);
    *rows = out;
    return rc;
}
