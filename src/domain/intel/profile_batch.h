/* SPDX-License-Identifier: MIT */
/*
 * The profile batch: every customer of a tenant gets the five profiles (profiles.h), RFM scores
 * (rfm.h) and the model's predictions (intel_model.h) as of one instant, stored through
 * profile_store.h. Tests: tests/unit/domain/test_profile_batch.c (SQLite, and PostgreSQL with
 * TEST_PG_DSN), tests/integration/0022-profiles.c.
 *
 * Exactly:
 *   input     the tenant's orders in its main currency (the one most of its counted orders are
 *             in; orders in other currencies are left out of profiles and predictions alike),
 *             with their items; a product's current price (when in that currency) stands for
 *             its list price. Every active customer of the tenant gets a row, with or without
 *             orders; inactive ones (erased ones among them) get none.
 *   rfm       scored among the customers with a counted order up to as_of: recency = days from
 *             the last counted order to as_of, frequency = counted orders, monetary = their
 *             spend; customers without one have no RFM scores.
 *   reads     the orders of a range of customers holding about INTEL_PROFILE_PASS_ORDERS
 *             counted orders are read in one sequential scan of the orders table (not through
 *             the customer index, whose random reads cost more than the whole scan), joined with
 *             their items (the products come from one read of the tenant's products, not a
 *             join) and sorted in memory (about 84 bytes an order item: the rows and an index
 *             of them by customer and time), then computed chunk by chunk; a tenant of
 *             2,000,000 orders takes two scans besides the model's one.
 *   chunks    customers are written in customer order, INTEL_PROFILE_CHUNK at a time, each chunk
 *             in one transaction together with the batch's resume point and the job's progress,
 *             so the SQLite writer lock is never held for a whole tenant and a batch stopped
 *             anywhere (a crash, a shutdown) resumes after the last chunk it committed. The
 *             model fit and the RFM quintiles are computed again on resume (a read of the
 *             orders up to as_of, which gives the same result unless orders dated before as_of
 *             were imported in between).
 *   switch    the last chunk is followed by one transaction that marks the batch done and makes
 *             it the tenant's current one; only then are older batches' rows deleted. Readers
 *             see one whole batch.
 *   one       a single customer (POST /api/profiles/calculate/{id}) is computed as of now and
 *             replaces that customer's rows in the current batch in one transaction (a tenant
 *             without a finished batch gets a batch holding that customer).
 *   nightly   every hour on the hour the scheduler runs INTEL_JOB_NIGHTLY, which starts a batch
 *             for each tenant with customers whose local time (the tenant's tz_offset_min
 *             setting) is between 02:00 and 02:59.
 * A second recompute while a batch of the tenant is pending or running joins it.
 */
#ifndef ICESHOP_DOMAIN_INTEL_PROFILE_BATCH_H
#define ICESHOP_DOMAIN_INTEL_PROFILE_BATCH_H

#include "core/err.h"
#include "db/db.h"
#include "jobs/worker.h"
#include "sched/sched.h"

#include <stdbool.h>
#include <stdint.h>

#define INTEL_PROFILE_CHUNK 500
/* About this many orders are read per sequential scan of the orders (see "reads"). */
#define INTEL_PROFILE_PASS_ORDERS 1000000
#define INTEL_JOB_PROFILES        "intel.profiles"    /* {"batch_id": N}, slow lane */
#define INTEL_JOB_PROFILE_ONE     "intel.profile_one" /* {"customer": pk}, slow lane */
#define INTEL_JOB_NIGHTLY         "intel.nightly"
#define INTEL_NIGHTLY_HOUR        2

/*
 * Start a batch of `tenant` as of `as_of_ms`: a running batch and its job, in the caller's
 * transaction when one is open. *job_id gets the job; *joined is true when a batch of the tenant
 * was already pending or running and its job is returned instead (nothing is added).
 */
int intel_profiles_recompute(struct db_conn *c, int64_t tenant, int64_t as_of_ms, int64_t now_ms,
                             int64_t *job_id, bool *joined, struct err *e);

/* Queue the computation of one customer (pk of the tenant's customer). *job_id gets the job. */
int intel_profiles_calculate(struct db_conn *c, int64_t tenant, int64_t customer_pk, int64_t now_ms,
                             int64_t *job_id, struct err *e);

/* Called after each chunk with customers done so far and in all; may be NULL. */
typedef void intel_progress_fn(void *ctx, int64_t done, int64_t total);
/* Asked between chunks: true stops the run (it resumes later); may be NULL. */
typedef bool intel_stop_fn(void *ctx);

/*
 * Run (or resume) batch `batch_id` of `tenant` to the end on `c` (no transaction open):
 * chunks, switch, prune. job_id > 0 records progress on that job. A batch already done or
 * failed is left alone (0). Stopped by `stop`: ERR_TIMEOUT, the batch resumes on the next run.
 */
int intel_profiles_run(struct db_conn *c, int64_t tenant, int64_t batch_id, int64_t job_id,
                       int64_t now_ms, intel_progress_fn *progress, intel_stop_fn *stop, void *ctx,
                       struct err *e);

/*
 * Read about `orders` counted orders per scan instead of INTEL_PROFILE_PASS_ORDERS (≤ 0: that
 * again), for the whole process: less memory for more scans. Tests use it to cross passes.
 */
void intel_profiles_set_pass_orders(int64_t orders);

/* Compute customer `customer_pk` as of now_ms into the tenant's current batch (see "one"). */
int intel_profiles_run_one(struct db_conn *c, int64_t tenant, int64_t customer_pk, int64_t now_ms,
                           struct err *e);

/* The three jobs above, the first two on the "slow" lane. */
int intel_profiles_jobs_register(struct job_registry *reg, struct err *e);
/* The hourly INTEL_JOB_NIGHTLY. */
int intel_profiles_schedule(struct sched *s, struct err *e);

#endif
