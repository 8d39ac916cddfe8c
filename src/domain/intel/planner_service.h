/* SPDX-License-Identifier: MIT */
/*
 * The campaign planner at work (rules and checks in planner.h): collects what a plan needs,
 * asks the language model when one is configured, refuses an answer that fails the checks and
 * asks once more, then lets the rules answer; every plan, believed or not, is one row of the
 * tenant's decision log (table campaigns), which the near-campaigns rule reads back.
 * Tests: tests/integration/0026-campaigns.c.
 *
 * The model: a 429 or 5xx is asked once more after a pause (its Retry-After, else
 * PLANNER_RETRY_MIN_MS; at most PLANNER_RETRY_MAX_MS); a call that fails otherwise (network,
 * timeout, a body that is no chat completion), or fails again, lets the rules answer at once and
 * the log says why. An answer that is not a JSON object or fails the checks is refused and the
 * model asked once more with the same prompts; a second refusal lets the rules answer. The log
 * keeps the last raw answer, every refusal and failure in `outcome`, the attempts, summed
 * latency and token counts, and the sha256 of the prompts as sent. A plan that asks the model
 * takes at most three calls of the configured timeout and one pause.
 *
 * On its own lane: a plan that will ask a model is queued as job PLANNER_JOB on lane
 * PLANNER_LANE (planner_enqueue), so model calls never run on an HTTP thread and at most that
 * lane's pool size of them run at once; its decision-log id is reserved when it is queued and
 * the job writes the row under it (a run repeated after a crash finds the row and stops). A plan
 * by the rules alone costs no call and is answered on the spot (planner_*_generate).
 *
 * Near campaigns (GET /api/campaigns/near): the customer's stored personal THRESHOLD, GIFT or
 * BUNDLE campaigns, newest first (at most PLANNER_NEAR_MAX looked at), whose targetAmount the
 * customer's current amount (the given cart's total, else their average order value) has not
 * reached but is at least PLANNER_NEAR_SHARE of; gap = targetAmount - current.
 */
#ifndef ICESHOP_DOMAIN_INTEL_PLANNER_SERVICE_H
#define ICESHOP_DOMAIN_INTEL_PLANNER_SERVICE_H

#define PLANNER_RETRY_MIN_MS 250  /* pause before the retry of a 429/5xx without Retry-After */
#define PLANNER_RETRY_MAX_MS 2000 /* the longest Retry-After a request waits for */

#include "core/arena.h"
#include "core/crypto.h"
#include "core/err.h"
#include "db/db.h"
#include "jobs/worker.h"
#include "json/json.h"
#include "net/llm.h"

#include <stdint.h>

#define PLANNER_NEAR_MAX   50
#define PLANNER_NEAR_SHARE 0.5
#define PLANNER_GOAL_MAX   100
#define PLANNER_ID_SIZE    SEC_RANDOM_ID_SIZE(4, 12) /* "cmp_" + 16, with its NUL */
#define PLANNER_JOB        "campaign.plan"
#define PLANNER_LANE       "planner"

struct planner_result {
    const char *id;      /* the decision-log row's public id */
    const char *planner; /* "llm" or "rules" */
    json_t *signals;     /* personal only; NULL for company */
    json_t *campaign;    /* the campaign, or {"proposals": [...]} */
};

/*
 * A personal campaign for customer `customer_id` (public id) with cart `cart_id` (may be NULL)
 * of `tenant`, logged under `id` (NULL: a new id). `llm` may be NULL or unconfigured (the rules
 * answer). JSON in *out is borrowed until `a` is released. ERR_NOT_FOUND naming "customerId" or
 * "cartId".
 */
int planner_personal_generate(struct db_conn *c, int64_t tenant, const struct llm_config *llm,
                              const char *customer_id, const char *cart_id, const char *id,
                              int64_t now_ms, struct arena *a, struct planner_result *out,
                              struct err *e);

/*
 * Company proposals for `goal` (1..PLANNER_GOAL_MAX chars) with `constraints` and `target`
 * (objects or NULL), logged. A constraints.maxDiscount below the tenant's campaigns.max_discount
 * (intel_config.h) bounds the proposals' discount instead (for the model's as for the rules').
 * Logged under `id` (NULL: a new id). ERR_INVALID naming "goal" for a bad goal.
 */
int planner_company_generate(struct db_conn *c, int64_t tenant, const struct llm_config *llm,
                             const char *goal, json_t *constraints, json_t *target, const char *id,
                             int64_t now_ms, struct arena *a, struct planner_result *out,
                             struct err *e);

/* What a queued plan is for: a customer (company false) or a goal (company true). */
struct planner_request {
    bool company;
    const char *customer_id, *cart_id; /* personal; cart_id may be NULL */
    const char *goal;                  /* company */
    json_t *constraints, *target;      /* company; objects or NULL */
};

/*
 * Queue `q` for `tenant` as PLANNER_JOB, after the checks its plan would fail at once (the
 * customer and cart exist, the goal is 1..PLANNER_GOAL_MAX characters; errors as the
 * generate functions'), in its own committed transaction. *job_id is the job, *id the
 * decision-log id the plan will be logged under (from `a`).
 */
int planner_enqueue(struct db_conn *c, int64_t tenant, const struct planner_request *q,
                    int64_t now_ms, struct arena *a, int64_t *job_id, const char **id,
                    struct err *e);

/*
 * The answer of the seed's routes for the logged plan `id`: personal {"signals", "campaign",
 * "id", "planner"}, company {"proposals", "id", "planner"}; borrowed until `a` is released.
 * ERR_NOT_FOUND naming "id" when it is not (yet) logged.
 */
int planner_answer(struct db_conn *c, int64_t tenant, const char *id, struct arena *a, json_t **out,
                   struct err *e);

/*
 * Register PLANNER_JOB on PLANNER_LANE. Its runs find the tenant's model as the routes do
 * (llm_config_for_tenant with `secret_key`; the default tenant falls back to ICESHOP_LLM_*).
 * Call once before the pools start.
 */
int planner_jobs_register(struct job_registry *reg, const unsigned char *secret_key,
                          int64_t default_tenant, struct err *e);

/* One decision-log row as JSON (borrowed until `a` is released); ERR_NOT_FOUND naming "id". */
int planner_log_get(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                    json_t **out, struct err *e);

/*
 * Rows of `tenant` with an internal id above `after`, oldest first (as other lists), at
 * most `limit`, without their prompts' answers and signals; *last_pk is the last row's id.
 * `kind` ("personal" or "company") and `customer_id` (public id) filter when not NULL.
 */
int planner_log_list(struct db_conn *c, int64_t tenant, const char *kind, const char *customer_id,
                     int64_t after, int64_t limit, struct arena *a, json_t **out, size_t *n,
                     int64_t *last_pk, struct err *e);

/* This process's plans since it started, for /metrics. */
struct planner_metrics {
    uint64_t plans[2][2]; /* [personal, company][llm, rules] */
    uint64_t refused;     /* answers the checks refused */
    uint64_t unreachable; /* model calls that failed (network, timeout, 429, 5xx...) */
    uint64_t model_latency_ms, prompt_tokens, completion_tokens;
};
void planner_metrics_read(struct planner_metrics *out);

/* {"customerId", "currentAmount", "currency", "nearCampaigns": [...]}: the rule above. */
int planner_near(struct db_conn *c, int64_t tenant, const char *customer_id, const char *cart_id,
                 int64_t now_ms, struct arena *a, json_t **out, struct err *e);

#endif
