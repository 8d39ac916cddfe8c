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

#include <string.h>

/* The tenant's model (its `llm` integration; the default tenant falls back to ICESHOP_LLM_*). */
static int tenant_llm(struct http_req *r, struct db_conn *c, struct llm_config *llm, struct err *e)
{
    return llm_config_for_tenant(c, r->app->secret_key, r->who.tenant_id,
                                 r->who.tenant_id == r->app->default_tenant_id, &r->arena, llm, e);
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
    struct planner_result p;
    if (!rc)
        rc = planner_personal_generate(c, r->who.tenant_id, &llm, customer, cart,
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
    struct planner_result p;
    if (!rc)
        rc = planner_company_generate(c, r->who.tenant_id, &llm, goal, constraints, target,
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
