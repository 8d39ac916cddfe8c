/* SPDX-License-Identifier: MIT */
/* The customer-profile SQL (see profile_store.h). */
#include "domain/intel/profile_store.h"
#include "core/buf.h"
#include "db/store.h"

#include <stdio.h>
#include <string.h>

/* The profile tables, each with batch_id, tenant_id and customer_id. */
static const char *const profile_tables[] = {
    "customer_budget_profile",        "customer_loyalty_profile", "customer_category_affinity",
    "customer_replenishment_profile", "customer_variety_profile", "customer_prediction",
};
#define N_TABLES (sizeof(profile_tables) / sizeof(profile_tables[0]))

int profile_store_batch_create(struct db_conn *c, int64_t tenant, int64_t as_of_ms, int64_t job_id,
                               int64_t now_ms, int64_t *id, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO profile_batch (tenant_id, as_of, status, job_id, created_at) "
                        "VALUES (?, ?, 'running', ?, ?) RETURNING batch_id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_time(s, 2, as_of_ms);
    if (job_id > 0)
        db_bind_i64(s, 3, job_id);
    else
        db_bind_null(s, 3);
    db_bind_time(s, 4, now_ms);
    bool found = false;
    rc = db_one_i64(s, id, &found, e);
    if (!rc && !found)
        rc = err_set(e, ERR_DB, "profile batch insert returned no id");
    return rc;
}

int profile_store_batch_set_job(struct db_conn *c, int64_t id, int64_t job_id, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "UPDATE profile_batch SET job_id = ? WHERE batch_id = ?", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, job_id);
    db_bind_i64(s, 2, id);
    return db_exec_write(s, NULL, e);
}

#define BATCH_COLUMNS                                                                              \
    "b.batch_id, b.tenant_id, b.as_of, b.status, b.job_id, b.currency, b.resume_after, "           \
    "b.processed, b.total, b.model, b.created_at, b.finished_at"

static void read_batch(struct db_stmt *s, struct arena *a, void *out)
{
    struct profile_batch_row *b = out;
    b->id = db_col_i64(s, 0);
    b->tenant_id = db_col_i64(s, 1);
    b->as_of_ms = db_col_time(s, 2);
    b->status = db_col_str(s, 3, a);
    b->job_id = db_col_is_null(s, 4) ? 0 : db_col_i64(s, 4);
    b->currency = db_col_str(s, 5, a);
    b->resume_after = db_col_i64(s, 6);
    b->processed = db_col_i64(s, 7);
    b->total = db_col_i64(s, 8);
    b->model_json = db_col_dup(s, 9, a);
    b->created_at_ms = db_col_time(s, 10);
    b->finished_at_ms = db_col_time(s, 11);
}

int profile_store_batch_get(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                            struct profile_batch_row *out, bool *found, struct err *e)
{
    memset(out, 0, sizeof(*out));
    return db_get_one(
        c, "SELECT " BATCH_COLUMNS " FROM profile_batch b WHERE b.tenant_id = ? AND b.batch_id = ?",
        tenant, NULL, id, read_batch, a, out, found, e);
}

int profile_store_current(struct db_conn *c, int64_t tenant, struct arena *a,
                          struct profile_batch_row *out, bool *found, struct err *e)
{
    memset(out, 0, sizeof(*out));
    return db_get_one(c,
                      "SELECT " BATCH_COLUMNS " FROM profile_current p JOIN profile_batch b ON "
                      "b.batch_id = p.batch_id WHERE p.tenant_id = ? AND ? = 0",
                      tenant, NULL, 0, read_batch, a, out, found, e);
}

int profile_store_running_job(struct db_conn *c, int64_t tenant, int64_t *job_id, struct err *e)
{
    *job_id = 0;
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT b.job_id FROM profile_batch b JOIN jobs j ON j.id = b.job_id "
                        "WHERE b.tenant_id = ? AND b.status = 'running' AND j.state IN "
                        "('pending', 'running') ORDER BY b.batch_id DESC LIMIT 1",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    bool found;
    return db_one_i64(s, job_id, &found, e);
}

int profile_store_batch_begin_run(struct db_conn *c, int64_t id, const char *currency,
                                  const char *model_json, int64_t total, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE profile_batch SET currency = ?, model = ?, total = ? WHERE "
                        "batch_id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, currency);
    db_bind_text(s, 2, model_json);
    db_bind_i64(s, 3, total);
    db_bind_i64(s, 4, id);
    return db_exec_write(s, NULL, e);
}

int profile_store_batch_advance(struct db_conn *c, int64_t id, int64_t resume_after,
                                int64_t processed, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE profile_batch SET resume_after = ?, processed = ? WHERE "
                        "batch_id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, resume_after);
    db_bind_i64(s, 2, processed);
    db_bind_i64(s, 3, id);
    return db_exec_write(s, NULL, e);
}

static int set_status(struct db_conn *c, int64_t id, const char *status, int64_t now_ms,
                      struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s, "UPDATE profile_batch SET status = ?, finished_at = ? WHERE batch_id = ?", e);
    if (rc)
        return rc;
    db_bind_text(s, 1, status);
    db_bind_time(s, 2, now_ms);
    db_bind_i64(s, 3, id);
    return db_exec_write(s, NULL, e);
}

int profile_store_finish(struct db_conn *c, int64_t tenant, int64_t id, int64_t now_ms,
                         struct err *e)
{
    bool own;
    int rc = db_begin_own(c, &own, e);
    if (rc)
        return rc;
    rc = set_status(c, id, "done", now_ms, e);
    struct db_stmt *s = NULL;
    if (!rc)
        rc = db_prepare(c, &s,
                        "INSERT INTO profile_current (tenant_id, batch_id) VALUES (?, ?) ON "
                        "CONFLICT (tenant_id) DO UPDATE SET batch_id = excluded.batch_id",
                        e);
    if (!rc) {
        db_bind_i64(s, 1, tenant);
        db_bind_i64(s, 2, id);
        rc = db_exec_write(s, NULL, e);
    }
    return db_end_own(c, own, rc, e);
}

int profile_store_fail(struct db_conn *c, int64_t id, int64_t now_ms, struct err *e)
{
    return set_status(c, id, "failed", now_ms, e);
}

int profile_store_prune(struct db_conn *c, int64_t tenant, int64_t *deleted, struct err *e)
{
    if (deleted)
        *deleted = 0;
    bool own;
    int rc = db_begin_own(c, &own, e);
    if (rc)
        return rc;
    char sql[512];
    /* stale: the tenant's batches neither running nor current */
#define STALE                                                                                      \
    "SELECT b.batch_id FROM profile_batch b WHERE b.tenant_id = ? AND b.status <> 'running' AND "  \
    "NOT EXISTS (SELECT 1 FROM profile_current p WHERE p.batch_id = b.batch_id)"
    for (size_t i = 0; i < N_TABLES && !rc; i++) {
        snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE batch_id IN (" STALE ")",
                 profile_tables[i]);
        struct db_stmt *s;
        rc = db_prepare(c, &s, sql, e);
        if (rc)
            break;
        db_bind_i64(s, 1, tenant);
        int64_t n = 0;
        rc = db_exec_write(s, &n, e);
        if (deleted)
            *deleted += n;
    }
    if (!rc) {
        struct db_stmt *s;
        rc = db_prepare(c, &s, "DELETE FROM profile_batch WHERE batch_id IN (" STALE ")", e);
        if (!rc) {
            db_bind_i64(s, 1, tenant);
            rc = db_exec_write(s, NULL, e);
        }
    }
#undef STALE
    return db_end_own(c, own, rc, e);
}

/* ------------------------------------------------------------------ one customer's rows */

static int delete_customer(struct db_conn *c, int64_t batch, int64_t customer, struct err *e)
{
    char sql[160];
    for (size_t i = 0; i < N_TABLES; i++) {
        snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE batch_id = ? AND customer_id = ?",
                 profile_tables[i]);
        struct db_stmt *s;
        int rc = db_prepare(c, &s, sql, e);
        if (rc)
            return rc;
        db_bind_i64(s, 1, batch);
        db_bind_i64(s, 2, customer);
        rc = db_exec_write(s, NULL, e);
        if (rc)
            return rc;
    }
    return 0;
}

/* Prepare `sql` and bind batch, tenant, customer as its first three parameters. */
static int prep3(struct db_conn *c, struct db_stmt **s, const char *sql, int64_t batch,
                 int64_t tenant, int64_t customer, struct err *e)
{
    int rc = db_prepare(c, s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(*s, 1, batch);
    db_bind_i64(*s, 2, tenant);
    db_bind_i64(*s, 3, customer);
    return 0;
}

static void bind_opt_f64(struct db_stmt *s, int idx, bool has, double v)
{
    if (has)
        db_bind_f64(s, idx, v);
    else
        db_bind_null(s, idx);
}

static int write_rows(struct db_conn *c, int64_t tenant, int64_t batch, int64_t customer,
                      const struct intel_profiles *p, const struct profile_prediction_row *pred,
                      int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    const struct intel_budget_profile *b = &p->budget;
    int rc = prep3(c, &s,
                   "INSERT INTO customer_budget_profile (batch_id, tenant_id, customer_id, "
                   "spend_last_30, spend_last_90, orders_last_90, avg_order_value, "
                   "predicted_monthly_budget, budget_tier, price_sensitivity_score, "
                   "discounted_share, campaign_share, promo_order_share, updated_at) VALUES (?, "
                   "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   batch, tenant, customer, e);
    if (rc)
        return rc;
    db_bind_i64(s, 4, b->spend_last_30);
    db_bind_i64(s, 5, b->spend_last_90);
    db_bind_i64(s, 6, b->orders_last_90);
    db_bind_i64(s, 7, b->avg_order_value);
    db_bind_i64(s, 8, b->predicted_monthly_budget);
    db_bind_text(s, 9, b->budget_tier);
    bind_opt_f64(s, 10, b->has_price_sensitivity, b->price_sensitivity_score);
    db_bind_f64(s, 11, b->discounted_share);
    db_bind_f64(s, 12, b->campaign_share);
    db_bind_f64(s, 13, b->promo_order_share);
    db_bind_time(s, 14, now_ms);
    if ((rc = db_exec_write(s, NULL, e)))
        return rc;

    const struct intel_loyalty_profile *l = &p->loyalty;
    rc = prep3(c, &s,
               "INSERT INTO customer_loyalty_profile (batch_id, tenant_id, customer_id, "
               "loyalty_tier, loyalty_score, lifetime_orders, lifetime_spent, last_order_at, "
               "days_since_last_order, reward_multiplier, updated_at) VALUES (?, ?, ?, ?, ?, ?, "
               "?, ?, ?, ?, ?)",
               batch, tenant, customer, e);
    if (rc)
        return rc;
    db_bind_text(s, 4, l->loyalty_tier);
    db_bind_f64(s, 5, l->loyalty_score);
    db_bind_i64(s, 6, l->lifetime_orders);
    db_bind_i64(s, 7, l->lifetime_spent);
    if (l->has_last_order) {
        db_bind_time(s, 8, l->last_order_at_ms);
        db_bind_i64(s, 9, l->days_since_last_order);
    } else {
        db_bind_null(s, 8);
        db_bind_null(s, 9);
    }
    db_bind_f64(s, 10, l->reward_multiplier);
    db_bind_time(s, 11, now_ms);
    if ((rc = db_exec_write(s, NULL, e)))
        return rc;

    for (size_t i = 0; i < p->n_categories; i++) {
        const struct intel_category_affinity *a = &p->categories[i];
        rc = prep3(c, &s,
                   "INSERT INTO customer_category_affinity (batch_id, tenant_id, customer_id, "
                   "category_id, affinity_score, orders_count, spend_total, last_purchased_at, "
                   "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   batch, tenant, customer, e);
        if (rc)
            return rc;
        db_bind_i64(s, 4, a->category_id);
        db_bind_f64(s, 5, a->affinity_score);
        db_bind_i64(s, 6, a->orders_count);
        db_bind_i64(s, 7, a->spend_total);
        db_bind_time(s, 8, a->last_purchased_at_ms);
        db_bind_time(s, 9, now_ms);
        if ((rc = db_exec_write(s, NULL, e)))
            return rc;
    }

    for (size_t i = 0; i < p->n_replenishment; i++) {
        const struct intel_replenishment *r = &p->replenishment[i];
        rc = prep3(c, &s,
                   "INSERT INTO customer_replenishment_profile (batch_id, tenant_id, "
                   "customer_id, product_id, purchases, replenishment_cycle_days, gap_cv, "
                   "is_recurring, last_purchased_at, previous_purchased_at, current_cycle_start, "
                   "current_cycle_end, purchased_in_current_cycle, next_expected_purchase_at, "
                   "confidence_score, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                   "?, ?, ?, ?)",
                   batch, tenant, customer, e);
        if (rc)
            return rc;
        db_bind_i64(s, 4, r->product_id);
        db_bind_i64(s, 5, r->purchases);
        db_bind_i64(s, 6, r->cycle_days);
        db_bind_f64(s, 7, r->gap_cv);
        db_bind_bool(s, 8, r->is_recurring);
        db_bind_time(s, 9, r->last_purchased_at_ms);
        db_bind_time(s, 10, r->previous_purchased_at_ms);
        db_bind_time(s, 11, r->current_cycle_start_ms);
        db_bind_time(s, 12, r->current_cycle_end_ms);
        db_bind_bool(s, 13, r->purchased_in_current_cycle);
        db_bind_time(s, 14, r->next_expected_purchase_at_ms);
        db_bind_f64(s, 15, r->confidence_score);
        db_bind_time(s, 16, now_ms);
        if ((rc = db_exec_write(s, NULL, e)))
            return rc;
    }

    const struct intel_variety_profile *v = &p->variety;
    rc = prep3(c, &s,
               "INSERT INTO customer_variety_profile (batch_id, tenant_id, customer_id, "
               "variety_index, repeat_ratio, unique_sku_last_90, total_items_last_90, "
               "explorer_type, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               batch, tenant, customer, e);
    if (rc)
        return rc;
    db_bind_f64(s, 4, v->variety_index);
    db_bind_f64(s, 5, v->repeat_ratio);
    db_bind_i64(s, 6, v->unique_sku_last_90);
    db_bind_i64(s, 7, v->total_items_last_90);
    db_bind_text(s, 8, v->explorer_type);
    db_bind_time(s, 9, now_ms);
    if ((rc = db_exec_write(s, NULL, e)))
        return rc;

    rc = prep3(c, &s,
               "INSERT INTO customer_prediction (batch_id, tenant_id, customer_id, "
               "recency_score, frequency_score, monetary_score, rfm_segment, p_alive, "
               "churn_probability, expected_purchases_90, expected_order_value, predicted_clv, "
               "expected_date_of_next_order, reason, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
               "?, ?, ?, ?, ?, ?, ?, ?)",
               batch, tenant, customer, e);
    if (rc)
        return rc;
    if (pred->has_rfm) {
        db_bind_i64(s, 4, pred->r);
        db_bind_i64(s, 5, pred->f);
        db_bind_i64(s, 6, pred->m);
        db_bind_text(s, 7, pred->segment);
    } else {
        for (int i = 4; i <= 7; i++)
            db_bind_null(s, i);
    }
    bool h = pred->has_prediction;
    bind_opt_f64(s, 8, h, pred->p_alive);
    bind_opt_f64(s, 9, h, pred->churn_probability);
    bind_opt_f64(s, 10, h, pred->expected_purchases_90);
    bind_opt_f64(s, 11, h, pred->expected_order_value);
    bind_opt_f64(s, 12, h, pred->predicted_clv);
    if (h && pred->has_next_order)
        db_bind_time(s, 13, pred->expected_next_order_ms);
    else
        db_bind_null(s, 13);
    db_bind_text(s, 14, pred->reason && pred->reason[0] ? pred->reason : NULL);
    db_bind_time(s, 15, now_ms);
    return db_exec_write(s, NULL, e);
}

/* ------------------------------------------------------------------ many customers' rows */

/* One table's rows of one customer, bound from parameter base + 1 on (batch, tenant, customer
 * first). */
typedef void row_binder(struct db_stmt *s, int base, int64_t tenant, int64_t batch,
                        const struct profile_store_row *row, size_t sub, int64_t now_ms);
typedef size_t row_counter(const struct profile_store_row *row);

static void bind_key(struct db_stmt *s, int base, int64_t tenant, int64_t batch,
                     const struct profile_store_row *row)
{
    db_bind_i64(s, base + 1, batch);
    db_bind_i64(s, base + 2, tenant);
    db_bind_i64(s, base + 3, row->customer);
}

static size_t one_row(const struct profile_store_row *row)
{
    (void)row;
    return 1;
}

static size_t category_rows(const struct profile_store_row *row)
{
    return row->profiles->n_categories;
}

static size_t replenishment_rows(const struct profile_store_row *row)
{
    return row->profiles->n_replenishment;
}

static void bind_budget(struct db_stmt *s, int base, int64_t tenant, int64_t batch,
                        const struct profile_store_row *row, size_t sub, int64_t now_ms)
{
    (void)sub;
    const struct intel_budget_profile *b = &row->profiles->budget;
    bind_key(s, base, tenant, batch, row);
    db_bind_i64(s, base + 4, b->spend_last_30);
    db_bind_i64(s, base + 5, b->spend_last_90);
    db_bind_i64(s, base + 6, b->orders_last_90);
    db_bind_i64(s, base + 7, b->avg_order_value);
    db_bind_i64(s, base + 8, b->predicted_monthly_budget);
    db_bind_text(s, base + 9, b->budget_tier);
    bind_opt_f64(s, base + 10, b->has_price_sensitivity, b->price_sensitivity_score);
    db_bind_f64(s, base + 11, b->discounted_share);
    db_bind_f64(s, base + 12, b->campaign_share);
    db_bind_f64(s, base + 13, b->promo_order_share);
    db_bind_time(s, base + 14, now_ms);
}

static void bind_loyalty(struct db_stmt *s, int base, int64_t tenant, int64_t batch,
                         const struct profile_store_row *row, size_t sub, int64_t now_ms)
{
    (void)sub;
    const struct intel_loyalty_profile *l = &row->profiles->loyalty;
    bind_key(s, base, tenant, batch, row);
    db_bind_text(s, base + 4, l->loyalty_tier);
    db_bind_f64(s, base + 5, l->loyalty_score);
    db_bind_i64(s, base + 6, l->lifetime_orders);
    db_bind_i64(s, base + 7, l->lifetime_spent);
    if (l->has_last_order) {
        db_bind_time(s, base + 8, l->last_order_at_ms);
        db_bind_i64(s, base + 9, l->days_since_last_order);
    } else {
        db_bind_null(s, base + 8);
        db_bind_null(s, base + 9);
    }
    db_bind_f64(s, base + 10, l->reward_multiplier);
    db_bind_time(s, base + 11, now_ms);
}

static void bind_category(struct db_stmt *s, int base, int64_t tenant, int64_t batch,
                          const struct profile_store_row *row, size_t sub, int64_t now_ms)
{
    const struct intel_category_affinity *a = &row->profiles->categories[sub];
    bind_key(s, base, tenant, batch, row);
    db_bind_i64(s, base + 4, a->category_id);
    db_bind_f64(s, base + 5, a->affinity_score);
    db_bind_i64(s, base + 6, a->orders_count);
    db_bind_i64(s, base + 7, a->spend_total);
    db_bind_time(s, base + 8, a->last_purchased_at_ms);
    db_bind_time(s, base + 9, now_ms);
}

static void bind_replenishment(struct db_stmt *s, int base, int64_t tenant, int64_t batch,
                               const struct profile_store_row *row, size_t sub, int64_t now_ms)
{
    const struct intel_replenishment *r = &row->profiles->replenishment[sub];
    bind_key(s, base, tenant, batch, row);
    db_bind_i64(s, base + 4, r->product_id);
    db_bind_i64(s, base + 5, r->purchases);
    db_bind_i64(s, base + 6, r->cycle_days);
    db_bind_f64(s, base + 7, r->gap_cv);
    db_bind_bool(s, base + 8, r->is_recurring);
    db_bind_time(s, base + 9, r->last_purchased_at_ms);
    db_bind_time(s, base + 10, r->previous_purchased_at_ms);
    db_bind_time(s, base + 11, r->current_cycle_start_ms);
    db_bind_time(s, base + 12, r->current_cycle_end_ms);
    db_bind_bool(s, base + 13, r->purchased_in_current_cycle);
    db_bind_time(s, base + 14, r->next_expected_purchase_at_ms);
    db_bind_f64(s, base + 15, r->confidence_score);
    db_bind_time(s, base + 16, now_ms);
}

static void bind_variety(struct db_stmt *s, int base, int64_t tenant, int64_t batch,
                         const struct profile_store_row *row, size_t sub, int64_t now_ms)
{
    (void)sub;
    const struct intel_variety_profile *v = &row->profiles->variety;
    bind_key(s, base, tenant, batch, row);
    db_bind_f64(s, base + 4, v->variety_index);
    db_bind_f64(s, base + 5, v->repeat_ratio);
    db_bind_i64(s, base + 6, v->unique_sku_last_90);
    db_bind_i64(s, base + 7, v->total_items_last_90);
    db_bind_text(s, base + 8, v->explorer_type);
    db_bind_time(s, base + 9, now_ms);
}

static void bind_prediction(struct db_stmt *s, int base, int64_t tenant, int64_t batch,
                            const struct profile_store_row *row, size_t sub, int64_t now_ms)
{
    (void)sub;
    const struct profile_prediction_row *pred = row->pred;
    bind_key(s, base, tenant, batch, row);
    if (pred->has_rfm) {
        db_bind_i64(s, base + 4, pred->r);
        db_bind_i64(s, base + 5, pred->f);
        db_bind_i64(s, base + 6, pred->m);
        db_bind_text(s, base + 7, pred->segment);
    } else {
        for (int i = 4; i <= 7; i++)
            db_bind_null(s, base + i);
    }
    bool h = pred->has_prediction;
    bind_opt_f64(s, base + 8, h, pred->p_alive);
    bind_opt_f64(s, base + 9, h, pred->churn_probability);
    bind_opt_f64(s, base + 10, h, pred->expected_purchases_90);
    bind_opt_f64(s, base + 11, h, pred->expected_order_value);
    bind_opt_f64(s, base + 12, h, pred->predicted_clv);
    if (h && pred->has_next_order)
        db_bind_time(s, base + 13, pred->expected_next_order_ms);
    else
        db_bind_null(s, base + 13);
    db_bind_text(s, base + 14, pred->reason && pred->reason[0] ? pred->reason : NULL);
    db_bind_time(s, base + 15, now_ms);
}

static const struct {
    const char *insert; /* up to VALUES */
    int columns;
    row_counter *count;
    row_binder *bind;
} many_tables[] = {
    {"INSERT INTO customer_budget_profile (batch_id, tenant_id, customer_id, spend_last_30, "
     "spend_last_90, orders_last_90, avg_order_value, predicted_monthly_budget, budget_tier, "
     "price_sensitivity_score, discounted_share, campaign_share, promo_order_share, updated_at) "
     "VALUES ",
     14, one_row, bind_budget},
    {"INSERT INTO customer_loyalty_profile (batch_id, tenant_id, customer_id, loyalty_tier, "
     "loyalty_score, lifetime_orders, lifetime_spent, last_order_at, days_since_last_order, "
     "reward_multiplier, updated_at) VALUES ",
     11, one_row, bind_loyalty},
    {"INSERT INTO customer_category_affinity (batch_id, tenant_id, customer_id, category_id, "
     "affinity_score, orders_count, spend_total, last_purchased_at, updated_at) VALUES ",
     9, category_rows, bind_category},
    {"INSERT INTO customer_replenishment_profile (batch_id, tenant_id, customer_id, product_id, "
     "purchases, replenishment_cycle_days, gap_cv, is_recurring, last_purchased_at, "
     "previous_purchased_at, current_cycle_start, current_cycle_end, "
     "purchased_in_current_cycle, next_expected_purchase_at, confidence_score, updated_at) "
     "VALUES ",
     16, replenishment_rows, bind_replenishment},
    {"INSERT INTO customer_variety_profile (batch_id, tenant_id, customer_id, variety_index, "
     "repeat_ratio, unique_sku_last_90, total_items_last_90, explorer_type, updated_at) VALUES ",
     9, one_row, bind_variety},
    {"INSERT INTO customer_prediction (batch_id, tenant_id, customer_id, recency_score, "
     "frequency_score, monetary_score, rfm_segment, p_alive, churn_probability, "
     "expected_purchases_90, expected_order_value, predicted_clv, expected_date_of_next_order, "
     "reason, updated_at) VALUES ",
     15, one_row, bind_prediction},
};

/* Rows per statement: a few fixed sizes, so each table has at most three cached statements. */
static const size_t many_sizes[] = {64, 8, 1};

/* The INSERT of `rows` rows of table t into sql (its size: room for 64 rows of 16 columns). */
static void many_sql(size_t t, size_t rows, struct buf *sql)
{
    buf_reset(sql);
    buf_appends(sql, many_tables[t].insert);
    for (size_t r = 0; r < rows; r++) {
        buf_appends(sql, r ? ", (" : "(");
        for (int k = 0; k < many_tables[t].columns; k++)
            buf_appends(sql, k ? ", ?" : "?");
        buf_appends(sql, ")");
    }
}

int profile_store_insert_many(struct db_conn *c, int64_t tenant, int64_t batch,
                              const struct profile_store_row *rows, size_t n, int64_t now_ms,
                              struct err *e)
{
    enum { SIZES = sizeof(many_sizes) / sizeof(many_sizes[0]) };
    struct buf sql[SIZES]; /* this table's statement of each size, once built */
    for (size_t z = 0; z < SIZES; z++)
        buf_init(&sql[z], 8192);
    int rc = 0;
    for (size_t t = 0; t < sizeof(many_tables) / sizeof(many_tables[0]) && !rc; t++) {
        size_t cust = 0, sub = 0; /* the next row to write: rows[cust]'s sub-th */
        for (size_t z = 0; z < SIZES; z++)
            buf_reset(&sql[z]);
        size_t left = 0; /* rows left in this table */
        for (size_t k = 0; k < n; k++)
            left += many_tables[t].count(&rows[k]);
        while (left > 0) {
            size_t z = 0;
            while (z + 1 < SIZES && many_sizes[z] > left)
                z++;
            size_t size = many_sizes[z];
            left -= size;
            if (sql[z].len == 0)
                many_sql(t, size, &sql[z]);
            struct db_stmt *s;
            rc = db_prepare(c, &s, buf_str(&sql[z]), e);
            if (rc)
                break;
            for (size_t r = 0; r < size; r++) {
                while (sub >= many_tables[t].count(&rows[cust])) {
                    cust++;
                    sub = 0;
                }
                many_tables[t].bind(s, (int)r * many_tables[t].columns, tenant, batch, &rows[cust],
                                    sub, now_ms);
                sub++;
            }
            rc = db_exec_write(s, NULL, e);
            if (rc)
                break;
        }
    }
    for (size_t z = 0; z < SIZES; z++)
        buf_release(&sql[z]);
    return rc;
}

int profile_store_write(struct db_conn *c, int64_t tenant, int64_t batch, int64_t customer,
                        const struct intel_profiles *p, const struct profile_prediction_row *pred,
                        int64_t now_ms, struct err *e)
{
    bool own;
    int rc = db_begin_own(c, &own, e);
    if (rc)
        return rc;
    rc = delete_customer(c, batch, customer, e);
    if (!rc)
        rc = write_rows(c, tenant, batch, customer, p, pred, now_ms, e);
    return db_end_own(c, own, rc, e);
}

int profile_store_insert(struct db_conn *c, int64_t tenant, int64_t batch, int64_t customer,
                         const struct intel_profiles *p, const struct profile_prediction_row *pred,
                         int64_t now_ms, struct err *e)
{
    return write_rows(c, tenant, batch, customer, p, pred, now_ms, e);
}

/* ------------------------------------------------------------------ reading */

/* Prepare `sql` and bind batch, tenant, customer (in that order). */
static int prep_read(struct db_conn *c, struct db_stmt **s, const char *sql, int64_t tenant,
                     int64_t batch, int64_t customer, struct err *e)
{
    return prep3(c, s, sql, batch, tenant, customer, e);
}

static void read_affinity(struct db_stmt *s, struct arena *a, void *out)
{
    struct profile_affinity_view *v = out;
    v->a.category_id = db_col_i64(s, 0);
    v->a.affinity_score = db_col_f64(s, 1);
    v->a.orders_count = db_col_i64(s, 2);
    v->a.spend_total = db_col_i64(s, 3);
    v->a.last_purchased_at_ms = db_col_time(s, 4);
    v->category_id = db_col_str(s, 5, a);
    v->name = db_col_str(s, 6, a);
}

static void read_replenishment(struct db_stmt *s, struct arena *a, void *out)
{
    struct profile_replenishment_view *v = out;
    struct intel_replenishment *r = &v->r;
    r->product_id = db_col_i64(s, 0);
    r->purchases = db_col_i64(s, 1);
    r->cycle_days = db_col_i64(s, 2);
    r->gap_cv = db_col_f64(s, 3);
    r->is_recurring = db_col_bool(s, 4);
    r->last_purchased_at_ms = db_col_time(s, 5);
    r->previous_purchased_at_ms = db_col_time(s, 6);
    r->current_cycle_start_ms = db_col_time(s, 7);
    r->current_cycle_end_ms = db_col_time(s, 8);
    r->purchased_in_current_cycle = db_col_bool(s, 9);
    r->next_expected_purchase_at_ms = db_col_time(s, 10);
    r->confidence_score = db_col_f64(s, 11);
    v->product_id = db_col_str(s, 12, a);
    v->name = db_col_dup(s, 13, a);
}

int profile_store_read(struct db_conn *c, int64_t tenant, int64_t batch, int64_t customer,
                       struct arena *a, struct profile_view *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct db_stmt *s;
    int rc = prep_read(c, &s,
                       "SELECT b.spend_last_30, b.spend_last_90, b.orders_last_90, "
                       "b.avg_order_value, b.predicted_monthly_budget, b.budget_tier, "
                       "b.price_sensitivity_score, b.discounted_share, b.campaign_share, "
                       "b.promo_order_share, b.updated_at, l.loyalty_tier, l.loyalty_score, "
                       "l.lifetime_orders, l.lifetime_spent, l.last_order_at, "
                       "l.days_since_last_order, l.reward_multiplier, v.variety_index, "
                       "v.repeat_ratio, v.unique_sku_last_90, v.total_items_last_90, "
                       "v.explorer_type, p.recency_score, p.frequency_score, p.monetary_score, "
                       "p.rfm_segment, p.p_alive, p.churn_probability, p.expected_purchases_90, "
                       "p.expected_order_value, p.predicted_clv, p.expected_date_of_next_order, "
                       "p.reason FROM customer_budget_profile b JOIN customer_loyalty_profile l "
                       "ON l.batch_id = b.batch_id AND l.customer_id = b.customer_id JOIN "
                       "customer_variety_profile v ON v.batch_id = b.batch_id AND v.customer_id "
                       "= b.customer_id JOIN customer_prediction p ON p.batch_id = b.batch_id "
                       "AND p.customer_id = b.customer_id WHERE b.batch_id = ? AND b.tenant_id = "
                       "? AND b.customer_id = ?",
                       tenant, batch, customer, e);
    if (rc)
        return rc;
    int st = db_step(s, e);
    if (st == DB_ROW) {
        out->found = true;
        struct intel_budget_profile *b = &out->budget;
        b->spend_last_30 = db_col_i64(s, 0);
        b->spend_last_90 = db_col_i64(s, 1);
        b->orders_last_90 = db_col_i64(s, 2);
        b->avg_order_value = db_col_i64(s, 3);
        b->predicted_monthly_budget = db_col_i64(s, 4);
        b->budget_tier = db_col_str(s, 5, a);
        b->has_price_sensitivity = !db_col_is_null(s, 6);
        b->price_sensitivity_score = b->has_price_sensitivity ? db_col_f64(s, 6) : 50;
        b->discounted_share = db_col_f64(s, 7);
        b->campaign_share = db_col_f64(s, 8);
        b->promo_order_share = db_col_f64(s, 9);
        out->updated_at_ms = db_col_time(s, 10);
        struct intel_loyalty_profile *l = &out->loyalty;
        l->loyalty_tier = db_col_str(s, 11, a);
        l->loyalty_score = db_col_f64(s, 12);
        l->lifetime_orders = db_col_i64(s, 13);
        l->lifetime_spent = db_col_i64(s, 14);
        l->has_last_order = !db_col_is_null(s, 15);
        l->last_order_at_ms = db_col_time(s, 15);
        l->days_since_last_order = db_col_i64(s, 16);
        l->reward_multiplier = db_col_f64(s, 17);
        struct intel_variety_profile *v = &out->variety;
        v->variety_index = db_col_f64(s, 18);
        v->repeat_ratio = db_col_f64(s, 19);
        v->unique_sku_last_90 = db_col_i64(s, 20);
        v->total_items_last_90 = db_col_i64(s, 21);
        v->explorer_type = db_col_str(s, 22, a);
        struct profile_prediction_row *p = &out->prediction;
        p->has_rfm = !db_col_is_null(s, 23);
        p->r = (int)db_col_i64(s, 23);
        p->f = (int)db_col_i64(s, 24);
        p->m = (int)db_col_i64(s, 25);
        p->segment = db_col_dup(s, 26, a);
        p->has_prediction = !db_col_is_null(s, 27);
        p->p_alive = db_col_f64(s, 27);
        p->churn_probability = db_col_f64(s, 28);
        p->expected_purchases_90 = db_col_f64(s, 29);
        p->expected_order_value = db_col_f64(s, 30);
        p->predicted_clv = db_col_f64(s, 31);
        p->has_next_order = !db_col_is_null(s, 32);
        p->expected_next_order_ms = db_col_time(s, 32);
        p->reason = db_col_dup(s, 33, a);
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    if (!out->found)
        return 0;
    rc = prep_read(c, &s,
                   "SELECT a.category_id, a.affinity_score, a.orders_count, a.spend_total, "
                   "a.last_purchased_at, c.public_id, c.name FROM customer_category_affinity a "
                   "JOIN category c ON c.category_id = a.category_id WHERE a.batch_id = ? AND "
                   "a.tenant_id = ? AND a.customer_id = ? ORDER BY a.affinity_score DESC, "
                   "a.spend_total DESC, a.category_id",
                   tenant, batch, customer, e);
    if (!rc)
        rc = db_list(s, read_affinity, sizeof(struct profile_affinity_view), a,
                     (void **)&out->categories, &out->n_categories, e);
    if (!rc)
        rc = prep_read(c, &s,
                       "SELECT r.product_id, r.purchases, r.replenishment_cycle_days, r.gap_cv, "
                       "r.is_recurring, r.last_purchased_at, r.previous_purchased_at, "
                       "r.current_cycle_start, r.current_cycle_end, "
                       "r.purchased_in_current_cycle, r.next_expected_purchase_at, "
                       "r.confidence_score, p.public_id, p.name FROM "
                       "customer_replenishment_profile r JOIN product p ON p.product_id = "
                       "r.product_id WHERE r.batch_id = ? AND r.tenant_id = ? AND r.customer_id "
                       "= ? ORDER BY r.next_expected_purchase_at, r.product_id",
                       tenant, batch, customer, e);
    if (!rc)
        rc = db_list(s, read_replenishment, sizeof(struct profile_replenishment_view), a,
                     (void **)&out->replenishment, &out->n_replenishment, e);
    return rc;
}

struct segment_count {
    const char *name;
    int64_t count;
};

static void read_segment(struct db_stmt *s, struct arena *a, void *out)
{
    struct segment_count *sc = out;
    sc->name = db_col_str(s, 0, a);
    sc->count = db_col_i64(s, 1);
}

int profile_store_segments(struct db_conn *c, int64_t tenant, int64_t batch, struct arena *a,
                           const char ***names, int64_t **counts, size_t *n, struct err *e)
{
    *names = NULL;
    *counts = NULL;
    *n = 0;
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT rfm_segment, count(*) FROM customer_prediction WHERE batch_id = "
                        "? AND tenant_id = ? AND rfm_segment IS NOT NULL GROUP BY rfm_segment "
                        "ORDER BY rfm_segment",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, batch);
    db_bind_i64(s, 2, tenant);
    struct segment_count *rows = NULL;
    rc = db_list(s, read_segment, sizeof(*rows), a, (void **)&rows, n, e);
    if (rc)
        return rc;
    *names = arena_alloc(a, (*n + 1) * sizeof(**names));
    *counts = arena_alloc(a, (*n + 1) * sizeof(**counts));
    for (size_t i = 0; i < *n; i++) {
        (*names)[i] = rows[i].name;
        (*counts)[i] = rows[i].count;
    }
    return 0;
}
