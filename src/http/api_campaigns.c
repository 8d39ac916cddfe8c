/* SPDX-License-Identifier: MIT */
/*
 * HTTP for the campaign planner (domain/intel/planner_service.h): personal and company
 * generation, near campaigns, the decision log; sending a campaign and its uplift
 * (campaign_delivery.h); the intelligence settings (intel_config.h). Decode and answer only; the
 * rules are in the domain. Tests: tests/integration/0026-campaigns.c.
 */
#include "core/clock.h"
#include "domain/intel/campaign_delivery.h"
#include "domain/intel/intel_config.h"
#include "domain/intel/planner_service.h"
#include "json/json.h"
#include "net/llm.h"
#include "http/app.h"
#include "http/handlers.h"

#include <stdio.h>
#include <string.h>

/* The tenant's model (its `llm` integration; the default tenant falls back to ICESHOP_LLM_*). */
static int tenant_llm(struct http_req *r, struct db_conn *c, struct llm_config *llm, struct err *e)
{
    return llm_config_for_tenant(c, r->app->secret_key, r->who.tenant_id,
                                 r->who.tenant_id == r->app->default_tenant_id, &r->arena, llm, e);
}

/*
 * How long a request waits for its plan before it is answered 202 with the job: the model's
 * three calls and pause (planner_service.h) and a margin for the lane's queue.
 */
static int64_t plan_wait_ms(const struct llm_config *llm)
{
    int64_t call = llm->timeout_ms > 0 ? llm->timeout_ms : LLM_DEFAULT_TIMEOUT_MS;
    return 3 * call + PLANNER_RETRY_MAX_MS + 5000;
}

/* The plan's job and reserved id, for the answer once it has run. */
struct plan_wait {
    int64_t job_id;
    const char *id;
};

/* 202 {"job_id", "id", "status"}: the plan is still under way; GET /api/campaigns/{id} once done.
 */
static int reply_planning(struct http_req *r, const struct plan_wait *w, enum job_state state)
{
    char loc[96];
    snprintf(loc, sizeof(loc), "/api/campaigns/%s", w->id);
    http_reply_header(r, "Location", loc);
    return http_reply_json(r, 202,
                           json_pack("{s:I, s:s, s:s}", "job_id", (json_int_t)w->job_id, "id",
                                     w->id, "status", job_state_name(state)));
}

/* The wait for a queued plan is over (http_req_defer). */
static int plan_finished(struct http_req *r, enum job_state state, struct err *e)
{
    const struct plan_wait *w = r->defer_ctx;
    if (state == JOB_STATE_DEAD)
        return err_set(e, ERR_UPSTREAM, "the plan failed; its job %lld says why",
                       (long long)w->job_id);
    if (state != JOB_STATE_DONE)
        return reply_planning(r, w, state);
    struct db_conn *c = NULL;
    int rc = http_req_db(r, &c, e);
    json_t *out = NULL;
    if (!rc)
        rc = planner_answer(c, r->who.tenant_id, w->id, &r->arena, &out, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, json_incref(out));
}

/*
 * A plan `q` that asks the tenant's model runs on the planner's lane: answered 202 at once
 * under Prefer: respond-async, else once it has run (the connection waits, not a thread).
 * Without a model the rules answer on the spot (*queued false: the caller plans).
 */
static int plan_on_lane(struct http_req *r, struct db_conn *c, const struct llm_config *llm,
                        const struct planner_request *q, bool *queued, struct err *e)
{
    *queued = llm_configured(llm);
    if (!*queued)
        return 0;
    struct plan_wait *w = arena_alloc(&r->arena, sizeof(*w));
    int rc = planner_enqueue(c, r->who.tenant_id, q, clock_now_ms(r->app->clock), &r->arena,
                             &w->job_id, &w->id, e);
    if (rc)
        return rc;
    if (http_req_prefers(r, "respond-async")) {
        http_reply_header(r, "Preference-Applied", "respond-async");
        return reply_planning(r, w, JOB_STATE_PENDING);
    }
    http_req_defer(r, w->job_id, plan_wait_ms(llm), plan_finished, w);
    return 0;
}

/* POST /api/campaigns/generate/personal {customerId, cartId?} */
int h_campaigns_personal(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"customerId", "cartId", NULL};
    const char *customer = NULL, *cart = NULL;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = json_get_strn(r->json, "customerId", true, 100, &customer, e);
    if (!rc)
        rc = json_get_strn(r->json, "cartId", false, 100, &cart, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct llm_config llm;
    if (!rc)
        rc = tenant_llm(r, c, &llm, e);
    struct planner_request q = {.customer_id = customer, .cart_id = cart};
    bool queued = false;
    if (!rc)
        rc = plan_on_lane(r, c, &llm, &q, &queued, e);
    if (rc || queued)
        return rc;
    struct planner_result p;
    rc = planner_personal_generate(c, r->who.tenant_id, NULL, customer, cart, NULL,
                                   clock_now_ms(r->app->clock), &r->arena, &p, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200,
                           json_pack("{s:O, s:O, s:s, s:s}", "signals", p.signals, "campaign",
                                     p.campaign, "id", p.id, "planner", p.planner));
}

/* POST /api/campaigns/generate/company {goal, constraints?, target?} */
int h_campaigns_company(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"goal", "constraints", "target", NULL};
    const char *goal = NULL;
    json_t *constraints = NULL, *target = NULL;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = json_get_strn(r->json, "goal", true, 100, &goal, e);
    if (!rc)
        rc = json_get_object(r->json, "constraints", false, &constraints, e);
    if (!rc)
        rc = json_get_object(r->json, "target", false, &target, e);
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct llm_config llm;
    if (!rc)
        rc = tenant_llm(r, c, &llm, e);
    struct planner_request q = {
        .company = true, .goal = goal, .constraints = constraints, .target = target};
    bool queued = false;
    if (!rc)
        rc = plan_on_lane(r, c, &llm, &q, &queued, e);
    if (rc || queued)
        return rc;
    struct planner_result p;
    rc = planner_company_generate(c, r->who.tenant_id, NULL, goal, constraints, target, NULL,
                                  clock_now_ms(r->app->clock), &r->arena, &p, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200,
                           json_pack("{s:O, s:s, s:s}", "proposals",
                                     json_object_get(p.campaign, "proposals"), "id", p.id,
                                     "planner", p.planner));
}

/* GET /api/campaigns/near/{id}[?cartId=] */
int h_campaigns_near(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    int rc = http_req_db(r, &c, e);
    json_t *out = NULL;
    if (!rc)
        rc = planner_near(c, r->who.tenant_id, http_req_param(r, "id"), http_req_query(r, "cartId"),
                          clock_now_ms(r->app->clock), &r->arena, &out, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, json_incref(out));
}

/* GET /api/campaigns/{id}: one decision-log row */
int h_campaigns_get(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    int rc = http_req_db(r, &c, e);
    json_t *out = NULL;
    if (!rc)
        rc = planner_log_get(c, r->who.tenant_id, http_req_param(r, "id"), &r->arena, &out, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, json_incref(out));
}

/* GET /api/campaigns[?kind=&customerId=&after=&limit=]: the decision log, oldest first */
int h_campaigns_list(struct http_req *r, struct err *e)
{
    struct page p;
    int rc = http_req_page(r, 50, 500, &p, e);
    const char *kind = http_req_query(r, "kind");
    if (!rc && kind && strcmp(kind, "personal") != 0 && strcmp(kind, "company") != 0)
        rc = err_set_field(e, ERR_INVALID, "kind", "kind is personal or company");
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    json_t *rows = NULL;
    size_t n = 0;
    int64_t last = 0;
    if (!rc)
        rc = planner_log_list(c, r->who.tenant_id, kind, http_req_query(r, "customerId"), p.after,
                              p.limit, &r->arena, &rows, &n, &last, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, http_page_body("campaigns", json_incref(rows), &p, n, last));
}

/* POST /api/campaigns/{id}/send {channel?, proposal?, holdout_pct?, message?} */
int h_campaigns_send(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"channel", "proposal", "holdout_pct", "message", NULL};
    struct campaign_send_req req = {.campaign_id = http_req_param(r, "id"), .holdout_pct = -1};
    int64_t proposal = 0, holdout = -1;
    int rc = 0;
    if (r->json) {
        rc = json_reject_unknown(r->json, "", fields, e);
        if (!rc)
            rc = json_get_strn(r->json, "channel", false, 16, &req.channel, e);
        if (!rc)
            rc = json_get_i64(r->json, "proposal", false, 0, 4, &proposal, e);
        if (!rc)
            rc = json_get_i64(r->json, "holdout_pct", false, 0, 50, &holdout, e);
        if (!rc)
            rc =
                json_get_strn(r->json, "message", false, 4 * CAMPAIGN_MESSAGE_MAX, &req.message, e);
    }
    req.proposal = (int)proposal;
    req.holdout_pct = (int)holdout;
    struct db_conn *c = NULL;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct campaign_send_row out;
    if (!rc)
        rc = campaign_send(c, r->who.tenant_id, &req, clock_now_ms(r->app->clock), &r->arena, &out,
                           e);
    if (rc)
        return rc;
    return http_reply_json(r, 202, campaign_send_json(&out));
}

/* GET /api/campaigns/{id}/send */
int h_campaigns_send_get(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    int rc = http_req_db(r, &c, e);
    struct campaign_send_row out;
    if (!rc)
        rc = campaign_send_get(c, r->who.tenant_id, http_req_param(r, "id"), &r->arena, &out, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, campaign_send_json(&out));
}

/* GET /api/campaigns/{id}/uplift */
int h_campaigns_uplift(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    int rc = http_req_db(r, &c, e);
    json_t *out = NULL;
    if (!rc)
        rc = campaign_uplift(c, r->who.tenant_id, http_req_param(r, "id"),
                             clock_now_ms(r->app->clock), &r->arena, &out, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, out);
}

/* GET /api/intel/config */
int h_intel_config_get(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    struct intel_config cfg;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = intel_config_get(c, r->who.tenant_id, &cfg, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, intel_config_to_json(&cfg));
}

/* PUT /api/intel/config: any subset of the settings; the profile batch reads them next run */
int h_intel_config_put(struct http_req *r, struct err *e)
{
    struct db_conn *c = NULL;
    struct intel_config cfg;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = intel_config_get(c, r->who.tenant_id, &cfg, e);
    if (!rc)
        rc = intel_config_merge(&cfg, r->json, e);
    if (!rc)
        rc = intel_config_put(c, r->who.tenant_id, &cfg, clock_now_ms(r->app->clock), e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, intel_config_to_json(&cfg));
}
