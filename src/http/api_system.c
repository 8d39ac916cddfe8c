/* SPDX-License-Identifier: MIT */
/*
 * Observability endpoints: /health (liveness), /health/detailed (the server's health in public;
 * a credential adds its tenant's backlog and alerts), /metrics (Prometheus text format) and the
 * Server-Sent Events stream /api/events.
 * Tests: tests/integration/0001-http.c, 0011-alerts.c.
 */
#include "core/clock.h"
#include "core/log.h"
#include "domain/account/login_throttle.h"
#include "domain/alerts/alerts.h"
#include "domain/intel/planner_service.h"
#include "domain/recovery/recovery.h"
#include "domain/payments/payments_jobs.h"
#include "domain/payments/payments_store.h"
#include "http/auth.h"
#include "http/handlers.h"
#include "net/storage.h"
#include "http/metrics.h"
#include "http/sse.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "sched/sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int h_health(struct http_req *r, struct err *e)
{
    (void)e;
    char ts[CLOCK_ISO_LEN];
    clock_format_iso(clock_now_ms(r->app->clock), ts);
    return http_reply_json(r, 200,
                           json_pack("{s:s, s:s, s:s}", "status", "healthy", "timestamp", ts,
                                     "version", r->app->version));
}

/* Database round trip and job counts; on failure the counts stay -1. */
static bool probe_db(struct http_req *r, int64_t counts[JOB_STATE_COUNT], double *ms, char *why,
                     size_t why_len)
{
    struct err e;
    err_init(&e);
    for (int i = 0; i < JOB_STATE_COUNT; i++)
        counts[i] = -1;
    int64_t t0 = clock_mono_ns();
    struct db_conn *c;
    int rc = http_req_db(r, &c, &e);
    if (!rc)
        rc = db_exec(c, "SELECT 1", &e);
    if (!rc)
        rc = jobs_count_by_state(c, JOBS_ALL_TENANTS, counts, &e);
    *ms = (double)(clock_mono_ns() - t0) / 1e6;
    if (rc)
        snprintf(why, why_len, "%s", e.msg);
    return rc == 0;
}

static json_t *backlog_json(const int64_t counts[JOB_STATE_COUNT])
{
    json_t *backlog = json_object();
    for (int i = 0; i < JOB_STATE_COUNT; i++)
        json_object_set_new(backlog, job_state_name((enum job_state)i),
                            counts[i] < 0 ? json_null() : json_integer(counts[i]));
    return backlog;
}

/*
 * What only the caller's tenant may see: its job backlog and its open alerts (how many, and
 * the latest, whose message may name provider detail).
 */
/*
 * The tenant's storage: its own (the `storage` integration) or the server's ("own": false),
 * probed like the server's; settings that cannot work are "down" with the reason.
 */
static json_t *tenant_storage_json(struct http_req *r, int64_t tenant)
{
    struct storage *st = NULL;
    struct err se;
    err_init(&se);
    int rc = r->app->storages ? http_req_storage(r, tenant, &st, &se) : ERR_INTERNAL;
    if (!rc)
        rc = storage_health(st, &se);
    json_t *o = json_pack("{s:s, s:b}", "status", rc ? "down" : "up", "own",
                          st && st != storage_tenants_server(r->app->storages));
    if (st)
        json_object_set_new(o, "kind", json_string(storage_kind(st)));
    if (rc)
        json_object_set_new(o, "error", json_string(se.msg));
    return o;
}

static int tenant_json(struct http_req *r, json_t **out, struct err *e)
{
    int64_t tenant = r->who.tenant_id;
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    int64_t counts[JOB_STATE_COUNT];
    int64_t open = 0;
    struct alert *latest = NULL;
    size_t n = 0;
    struct alert_filter f = {.state = ALERTS_OPEN, .page = {.limit = 1}};
    if (!rc)
        rc = jobs_count_by_state(c, tenant, counts, e);
    if (!rc)
        rc = alerts_count_open(c, tenant, &open, e);
    if (!rc)
        rc = alerts_list(c, tenant, &f, &r->arena, &latest, &n, e);
    if (rc)
        return rc;
    json_t *last = json_null();
    if (n)
        last = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:o, s:o}", "id", (json_int_t)latest->id,
                         "kind", latest->kind, "source", latest->source, "code", latest->code,
                         "message", latest->message, "occurrences", (json_int_t)latest->occurrences,
                         "created_at", http_json_time(latest->created_at_ms), "last_seen_at",
                         http_json_time(latest->last_seen_at_ms));
    *out = json_pack("{s:I, s:o, s:{s:I, s:o}, s:o}", "id", (json_int_t)tenant, "jobs",
                     backlog_json(counts), "alerts", "open", (json_int_t)open, "latest", last,
                     "storage", tenant_storage_json(r, tenant));
    return 0;
}

/*
 * Public: the server's own health (each dependency up or down, queue totals, workers,
 * scheduler leadership), nothing of any tenant. With a credential (any role) the answer adds
 * "tenant": that tenant's backlog, alerts and storage, and the database error text when it is
 * down.
 */
int h_health_detailed(struct http_req *r, struct err *e)
{
    struct app *app = r->app;
    const char *authz = http_req_header(r, "Authorization");
    bool authed = authz && *authz;
    if (authed) {
        int rc = auth_request(r, e);
        if (rc)
            return rc;
    }
    int64_t counts[JOB_STATE_COUNT];
    double db_ms = 0;
    char why[256] = "";
    bool db_ok = probe_db(r, counts, &db_ms, why, sizeof(why));

    json_t *database = json_pack("{s:s, s:b, s:f}", "backend", db_backend_name(app->db), "ok",
                                 db_ok, "latency_ms", db_ms);
    if (!db_ok && authed)
        json_object_set_new(database, "error", json_string(why));
    struct job_worker_stats ws;
    memset(&ws, 0, sizeof(ws));
    if (app->workers)
        job_workers_stats(app->workers, &ws);
    json_t *workers =
        json_pack("{s:b, s:i, s:i, s:I, s:I, s:I}", "enabled", app->workers != NULL, "threads",
                  ws.threads, "running", ws.running, "succeeded", (json_int_t)ws.succeeded,
                  "retried", (json_int_t)ws.retried, "dead", (json_int_t)ws.dead);
    json_t *sched = json_pack("{s:b, s:b}", "enabled", app->sched != NULL, "leader",
                              app->sched ? sched_is_leader(app->sched) : false);
    char ts[CLOCK_ISO_LEN];
    int64_t now = clock_now_ms(app->clock);
    clock_format_iso(now, ts);
    /*
     * storage: the server's own (ICESHOP_STORAGE_URL, what tenants without a storage integration
     * use); up or down for everyone, which kind and why only with a credential
     */
    struct err se;
    err_init(&se);
    struct storage *server_st = app->storages ? storage_tenants_server(app->storages) : NULL;
    bool storage_ok = server_st && storage_health(server_st, &se) == 0;
    json_t *storage = json_pack("{s:s}", "status", storage_ok ? "up" : "down");
    if (authed && server_st) {
        json_object_set_new(storage, "kind", json_string(storage_kind(server_st)));
        if (!storage_ok)
            json_object_set_new(storage, "error", json_string(se.msg));
    }
    json_t *checks =
        json_pack("{s:o, s:o, s:o, s:o, s:o}", "database", database, "jobs", backlog_json(counts),
                  "workers", workers, "scheduler", sched, "storage", storage);
    json_t *body = json_pack("{s:s, s:o, s:s, s:s, s:I}", "status", db_ok ? "healthy" : "unhealthy",
                             "checks", checks, "version", app->version, "timestamp", ts, "uptime_s",
                             (json_int_t)((clock_mono_ms() - app->started_ms) / 1000));
    if (authed && db_ok) {
        json_t *tenant = NULL;
        struct err te;
        err_init(&te);
        if (tenant_json(r, &tenant, &te) == 0)
            json_object_set_new(body, "tenant", tenant);
        else
            log_warn("msg=\"tenant health not available\" request_id=%s error=\"%s\"",
                     r->request_id, te.msg);
    }
    return http_reply_json(r, db_ok ? 200 : 503, body);
}

static int recovery_metrics_render(struct buf *b);
static int planner_metrics_render(struct buf *b);
/* Payments by provider and status reached (all tenants), and the webhook latency histograms. */
static int payments_metrics(struct http_req *r, struct buf *b)
{
    static const char *const providers[] = {"stripe", "iyzico"};
    int64_t counts[2][PAYMENT_REFUNDED + 1];
    struct db_conn *c;
    struct err e;
    err_init(&e);
    int rc = 0;
    bool ok = http_req_db(r, &c, &e) == 0 && payments_store_status_counts(c, counts, &e) == 0;
    rc |= buf_appends(b, "# HELP iceshop_payments_total Payments that reached each status, by "
                         "provider.\n"
                         "# TYPE iceshop_payments_total counter\n");
    for (int p = 0; p < 2 && ok; p++) {
        for (int s = PAYMENT_PENDING; s <= PAYMENT_REFUNDED; s++)
            rc |= buf_appendf(b, "iceshop_payments_total{provider=\"%s\",status=\"%s\"} %lld\n",
                              providers[p], payment_status_name((enum payment_status)s),
                              (long long)counts[p][s]);
    }
    rc |= buf_appends(b, "# HELP iceshop_payments_webhook_latency_seconds From a provider "
                         "event's receipt to payments acting on it, in this process.\n"
                         "# TYPE iceshop_payments_webhook_latency_seconds histogram\n");
    for (int p = 0; p < 2; p++) {
        struct payments_latency l;
        payments_latency_snapshot(p, &l);
        for (int i = 0; i < PAYMENTS_LATENCY_BOUNDS; i++)
            rc |= buf_appendf(b,
                              "iceshop_payments_webhook_latency_seconds_bucket{provider=\"%s\","
                              "le=\"%g\"} %llu\n",
                              providers[p], payments_latency_bounds[i],
                              (unsigned long long)l.buckets[i]);
        rc |= buf_appendf(b,
                          "iceshop_payments_webhook_latency_seconds_bucket{provider=\"%s\","
                          "le=\"+Inf\"} %llu\n"
                          "iceshop_payments_webhook_latency_seconds_sum{provider=\"%s\"} %.3f\n"
                          "iceshop_payments_webhook_latency_seconds_count{provider=\"%s\"} %llu\n",
                          providers[p], (unsigned long long)l.buckets[PAYMENTS_LATENCY_BOUNDS],
                          providers[p], l.sum_s, providers[p],
                          (unsigned long long)l.buckets[PAYMENTS_LATENCY_BOUNDS]);
    }
    return rc;
}

int h_metrics(struct http_req *r, struct err *e)
{
    struct app *app = r->app;
    struct buf b;
    buf_init(&b, BUF_MAX_METRICS);
    int rc = metrics_render(app->metrics, &b);

    int64_t counts[JOB_STATE_COUNT];
    double db_ms;
    char why[256];
    bool db_ok = probe_db(r, counts, &db_ms, why, sizeof(why));
    rc |= buf_appends(&b, "# HELP iceshop_jobs Jobs in the queue by state.\n"
                          "# TYPE iceshop_jobs gauge\n");
    for (int i = 0; i < JOB_STATE_COUNT && db_ok; i++)
        rc |= buf_appendf(&b, "iceshop_jobs{state=\"%s\"} %lld\n",
                          job_state_name((enum job_state)i), (long long)counts[i]);
    struct job_worker_stats ws;
    memset(&ws, 0, sizeof(ws));
    if (app->workers)
        job_workers_stats(app->workers, &ws);
    rc |= buf_appendf(&b,
                      "# HELP iceshop_job_runs_total Job runs in this process by outcome.\n"
                      "# TYPE iceshop_job_runs_total counter\n"
                      "iceshop_job_runs_total{outcome=\"succeeded\"} %llu\n"
                      "iceshop_job_runs_total{outcome=\"retried\"} %llu\n"
                      "iceshop_job_runs_total{outcome=\"dead\"} %llu\n"
                      "iceshop_job_runs_total{outcome=\"unknown_handler\"} %llu\n"
                      "# HELP iceshop_jobs_running Job handlers running now in this process.\n"
                      "# TYPE iceshop_jobs_running gauge\n"
                      "iceshop_jobs_running %d\n",
                      (unsigned long long)ws.succeeded, (unsigned long long)ws.retried,
                      (unsigned long long)ws.dead, (unsigned long long)ws.unknown_handler,
                      ws.running);
    rc |= buf_appendf(&b,
                      "# HELP iceshop_db_errors_total Database errors since start.\n"
                      "# TYPE iceshop_db_errors_total counter\n"
                      "iceshop_db_errors_total{backend=\"%s\"} %llu\n"
                      "# HELP iceshop_db_up Whether the last database probe succeeded.\n"
                      "# TYPE iceshop_db_up gauge\n"
                      "iceshop_db_up %d\n",
                      db_backend_name(app->db), (unsigned long long)db_error_count(app->db),
                      db_ok ? 1 : 0);
    rc |= payments_metrics(r, &b);
    rc |= buf_appendf(&b,
                      "# HELP iceshop_login_failures_total Failed logins since start.\n"
                      "# TYPE iceshop_login_failures_total counter\n"
                      "iceshop_login_failures_total %llu\n"
                      "# HELP iceshop_login_throttled_total Logins refused by the failed-login "
                      "throttle since start.\n"
                      "# TYPE iceshop_login_throttled_total counter\n"
                      "iceshop_login_throttled_total %llu\n"
                      "# HELP iceshop_sse_subscribers Open Server-Sent Events streams.\n"
                      "# TYPE iceshop_sse_subscribers gauge\n"
                      "iceshop_sse_subscribers %zu\n"
                      "# HELP iceshop_scheduler_leader Whether this process runs periodic tasks.\n"
                      "# TYPE iceshop_scheduler_leader gauge\n"
                      "iceshop_scheduler_leader %d\n"
                      "# HELP iceshop_uptime_seconds Seconds since this process started.\n"
                      "# TYPE iceshop_uptime_seconds gauge\n"
                      "iceshop_uptime_seconds %lld\n"
                      "# HELP iceshop_build_info Build version.\n"
                      "# TYPE iceshop_build_info gauge\n"
                      "iceshop_build_info{version=\"%s\"} 1\n",
                      (unsigned long long)login_throttle_failures(app->logins),
                      (unsigned long long)login_throttle_refusals(app->logins),
                      sse_hub_subscribers(app->hub),
                      app->sched && sched_is_leader(app->sched) ? 1 : 0,
                      (long long)((clock_mono_ms() - app->started_ms) / 1000), app->version);
    rc |= recovery_metrics_render(&b);
    rc |= planner_metrics_render(&b);
    if (rc) {
        buf_release(&b);
        return err_set(e, ERR_INTERNAL, "metrics exposition exceeds its buffer");
    }
    size_t len;
    char *text = buf_detach(&b, &len);
    http_reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
    return 0;
}

/* The campaign planner: this process's plans by kind and planner, and its model calls. */
static int planner_metrics_render(struct buf *b)
{
    struct planner_metrics m;
    planner_metrics_read(&m);
    return buf_appendf(
        b,
        "# HELP iceshop_campaign_plans_total Campaign plans by kind and the planner that "
        "answered.\n"
        "# TYPE iceshop_campaign_plans_total counter\n"
        "iceshop_campaign_plans_total{kind=\"personal\",planner=\"llm\"} %llu\n"
        "iceshop_campaign_plans_total{kind=\"personal\",planner=\"rules\"} %llu\n"
        "iceshop_campaign_plans_total{kind=\"company\",planner=\"llm\"} %llu\n"
        "iceshop_campaign_plans_total{kind=\"company\",planner=\"rules\"} %llu\n"
        "# HELP iceshop_campaign_model_answers_refused_total Model answers the checks refused.\n"
        "# TYPE iceshop_campaign_model_answers_refused_total counter\n"
        "iceshop_campaign_model_answers_refused_total %llu\n"
        "# HELP iceshop_campaign_model_unreachable_total Model calls that failed.\n"
        "# TYPE iceshop_campaign_model_unreachable_total counter\n"
        "iceshop_campaign_model_unreachable_total %llu\n"
        "# HELP iceshop_campaign_model_seconds_total Time spent waiting for the model.\n"
        "# TYPE iceshop_campaign_model_seconds_total counter\n"
        "iceshop_campaign_model_seconds_total %.3f\n"
        "# HELP iceshop_campaign_model_tokens_total Model tokens by direction.\n"
        "# TYPE iceshop_campaign_model_tokens_total counter\n"
        "iceshop_campaign_model_tokens_total{direction=\"prompt\"} %llu\n"
        "iceshop_campaign_model_tokens_total{direction=\"completion\"} %llu\n",
        (unsigned long long)m.plans[0][0], (unsigned long long)m.plans[0][1],
        (unsigned long long)m.plans[1][0], (unsigned long long)m.plans[1][1],
        (unsigned long long)m.refused, (unsigned long long)m.unreachable,
        (double)m.model_latency_ms / 1000.0, (unsigned long long)m.prompt_tokens,
        (unsigned long long)m.completion_tokens);
}

/* Abandoned-cart recovery: this process's polls, carts, deliveries and cycle durations. */
static int recovery_metrics_render(struct buf *b)
{
    struct recovery_metrics m;
    recovery_metrics_read(&m);
    int rc = buf_appendf(
        b,
        "# HELP iceshop_recovery_polls_total Integration polls by outcome.\n"
        "# TYPE iceshop_recovery_polls_total counter\n"
        "iceshop_recovery_polls_total{outcome=\"ok\"} %llu\n"
        "iceshop_recovery_polls_total{outcome=\"failed\"} %llu\n"
        "# HELP iceshop_recovery_carts_fetched_total Carts fetched from shops.\n"
        "# TYPE iceshop_recovery_carts_fetched_total counter\n"
        "iceshop_recovery_carts_fetched_total %llu\n"
        "# HELP iceshop_recovery_deliveries_queued_total Recovery deliveries queued to agents.\n"
        "# TYPE iceshop_recovery_deliveries_queued_total counter\n"
        "iceshop_recovery_deliveries_queued_total %llu\n"
        "# HELP iceshop_recovery_cycle_duration_seconds Polling cycles, start to last report.\n"
        "# TYPE iceshop_recovery_cycle_duration_seconds histogram\n",
        (unsigned long long)m.polls_ok, (unsigned long long)m.polls_failed,
        (unsigned long long)m.carts_fetched, (unsigned long long)m.deliveries_queued);
    uint64_t cum = 0;
    for (size_t i = 0; i < 7; i++) {
        cum += m.duration_buckets[i];
        rc |= buf_appendf(b, "iceshop_recovery_cycle_duration_seconds_bucket{le=\"%g\"} %llu\n",
                          recovery_duration_bounds[i], (unsigned long long)cum);
    }
    rc |= buf_appendf(b,
                      "iceshop_recovery_cycle_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                      "iceshop_recovery_cycle_duration_seconds_sum %.3f\n"
                      "iceshop_recovery_cycle_duration_seconds_count %llu\n",
                      (unsigned long long)m.cycles, m.duration_sum_s, (unsigned long long)m.cycles);
    return rc;
}

int h_events(struct http_req *r, struct err *e)
{
    (void)e;
    return http_reply_sse(r, r->who.tenant_id);
}
