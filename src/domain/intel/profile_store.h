/* SPDX-License-Identifier: MIT */
/*
 * The customer-profile SQL (tables of migration 0022): profile batches, the pointer to each
 * tenant's current batch, and one customer's five profiles with RFM and predictions.
 *
 * Batches. Every profile row belongs to one batch. A batch is `running` while it is written,
 * then `done`; finishing it moves profile_current to it in the same transaction, so readers
 * (who always read the current batch) see either the whole previous batch or the whole new one,
 * never a mixture. Afterwards the rows of the tenant's other finished batches are deleted.
 *
 * Transactions: each function is one statement and joins the caller's transaction, except
 * profile_store_write (several statements, its own transaction unless the caller holds one) and
 * profile_store_finish / profile_store_prune (likewise). Strings read come from the arena `a`.
 * Tests: tests/unit/domain/test_profile_batch.c (SQLite, and PostgreSQL with TEST_PG_DSN),
 * tests/integration/0022-profiles.c.
 */
#ifndef ICESHOP_DOMAIN_INTEL_PROFILE_STORE_H
#define ICESHOP_DOMAIN_INTEL_PROFILE_STORE_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "domain/intel/intel_model.h"
#include "domain/intel/profiles.h"

#include <stdbool.h>
#include <stdint.h>

struct profile_batch_row {
    int64_t id;
    int64_t tenant_id;
    int64_t as_of_ms;
    const char *status; /* "running" | "done" | "failed" */
    int64_t job_id;     /* 0 for a batch run outside the job queue (the CLI) */
    const char *currency;
    int64_t resume_after; /* the last customer pk written */
    int64_t processed, total;
    const char *model_json; /* NULL until the batch's first run fitted the model */
    int64_t created_at_ms, finished_at_ms;
};

/* A new running batch; *id gets its id. */
int profile_store_batch_create(struct db_conn *c, int64_t tenant, int64_t as_of_ms, int64_t job_id,
                               int64_t now_ms, int64_t *id, struct err *e);
/* Set the job that runs batch `id` (after enqueueing it). */
int profile_store_batch_set_job(struct db_conn *c, int64_t id, int64_t job_id, struct err *e);
/* Batch `id` of `tenant`; *found false when there is none. */
int profile_store_batch_get(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                            struct profile_batch_row *out, bool *found, struct err *e);
/* The tenant's current (last finished) batch; *found false when none finished yet. */
int profile_store_current(struct db_conn *c, int64_t tenant, struct arena *a,
                          struct profile_batch_row *out, bool *found, struct err *e);
/*
 * The job of the tenant's running batch whose job is still pending or running (*job_id 0 when
 * none): a second recompute joins it instead of starting another.
 */
int profile_store_running_job(struct db_conn *c, int64_t tenant, int64_t *job_id, struct err *e);
/* Record what the batch's run found: its currency, the model as JSON, customers in all. */
int profile_store_batch_begin_run(struct db_conn *c, int64_t id, const char *currency,
                                  const char *model_json, int64_t total, struct err *e);
/* Record that every customer up to pk `resume_after` is written, `processed` in all. */
int profile_store_batch_advance(struct db_conn *c, int64_t id, int64_t resume_after,
                                int64_t processed, struct err *e);
/* Mark batch `id` done and make it the tenant's current one, in one transaction. */
int profile_store_finish(struct db_conn *c, int64_t tenant, int64_t id, int64_t now_ms,
                         struct err *e);
/* Mark batch `id` failed (its rows are pruned later). */
int profile_store_fail(struct db_conn *c, int64_t id, int64_t now_ms, struct err *e);
/*
 * Delete the rows of the tenant's batches that are neither current nor running, and those
 * batches; *deleted (may be NULL) gets the profile rows deleted.
 */
int profile_store_prune(struct db_conn *c, int64_t tenant, int64_t *deleted, struct err *e);

/* RFM and the model's predictions for one customer (intel_model.h computes them). */
struct profile_prediction_row {
    bool has_rfm;
    int r, f, m;
    const char *segment;
    bool has_prediction; /* else `reason` says why */
    double p_alive, churn_probability, expected_purchases_90, expected_order_value, predicted_clv;
    bool has_next_order;
    int64_t expected_next_order_ms;
    const char *reason;
};

/*
 * Replace customer `customer`'s rows in batch `batch` by `p` and `pred` (delete, then insert),
 * atomically. `now_ms` is their updated_at.
 */
int profile_store_write(struct db_conn *c, int64_t tenant, int64_t batch, int64_t customer,
                        const struct intel_profiles *p, const struct profile_prediction_row *pred,
                        int64_t now_ms, struct err *e);

/*
 * Insert customer `customer`'s rows into batch `batch`, which must hold none of its rows yet (a
 * batch being written in customer order): profile_store_write without the delete. Joins the
 * caller's transaction (one is expected: a chunk).
 */
int profile_store_insert(struct db_conn *c, int64_t tenant, int64_t batch, int64_t customer,
                         const struct intel_profiles *p, const struct profile_prediction_row *pred,
                         int64_t now_ms, struct err *e);

/* One customer's profiles and prediction, for profile_store_insert_many. */
struct profile_store_row {
    int64_t customer;
    const struct intel_profiles *profiles;
    const struct profile_prediction_row *pred;
};

/*
 * profile_store_insert for rows[0..n) (a batch being written holds no row of them yet), each
 * table's rows in multi-row INSERTs of up to 64 rows: far fewer statements, and on PostgreSQL
 * far fewer round trips. Joins the caller's transaction (there must be one).
 */
int profile_store_insert_many(struct db_conn *c, int64_t tenant, int64_t batch,
                              const struct profile_store_row *rows, size_t n, int64_t now_ms,
                              struct err *e);

/* What profile_store_read returns: the rows of one customer in one batch, with public ids. */
struct profile_affinity_view {
    struct intel_category_affinity a;
    const char *category_id; /* public id */
    const char *name;
};
struct profile_replenishment_view {
    struct intel_replenishment r;
    const char *product_id; /* public id */
    const char *name;       /* NULL for a product known only by an import's external id */
};
struct profile_view {
    bool found; /* the customer has rows in the batch */
    int64_t updated_at_ms;
    struct intel_budget_profile budget; /* budget_tier etc. point into the arena */
    struct intel_loyalty_profile loyalty;
    struct intel_variety_profile variety;
    struct profile_affinity_view *categories;
    size_t n_categories;
    struct profile_replenishment_view *replenishment;
    size_t n_replenishment;
    struct profile_prediction_row prediction;
};

/* Customer `customer`'s rows in batch `batch`; out->found false when it has none. */
int profile_store_read(struct db_conn *c, int64_t tenant, int64_t batch, int64_t customer,
                       struct arena *a, struct profile_view *out, struct err *e);

/* Rows of the batch per RFM segment, for the segment overview: names and counts in `a`. */
int profile_store_segments(struct db_conn *c, int64_t tenant, int64_t batch, struct arena *a,
                           const char ***names, int64_t **counts, size_t *n, struct err *e);

#endif
