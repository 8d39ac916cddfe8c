/* SPDX-License-Identifier: MIT */
/*
 * Observability endpoints: /health (liveness), /health/detailed (database, job backlog, workers,
 * scheduler leadership, version, uptime), /metrics (Prometheus text format) and the
 * Server-Sent Events stream /api/events. Tests: tests/integration/0001-platform.c.
 */
#include "core/clock.h"
#include "http/handlers.h"
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
        rc = jobs_count_by_state(c, counts, &e);
    *ms = (double)(clock_mono_ns() - t0) / 1e6;
    if (rc)
        snprintf(why, why_len, "%s", e.msg);
    return rc == 0;
}

/* Open operator alerts (e.g. a rejected WhatsApp token): how many, and the latest. */
static json_t *alerts_json(struct http_req *r)
{
    struct err e;
    err_init(&e);
    struct db_conn *c;
    struct db_stmt *s;
    if (http_req_db(r, &c, &e) || db_prepare(c, &s,
                                             "SELECT source, code, message, created_at FROM alerts "
                                             "WHERE resolved_at IS NULL ORDER BY id DESC",
                                             &e))
        return json_null();
    json_int_t open = 0;
    json_t *latest = json_null();
    while (db_step(s, &e) == DB_ROW) {
        if (open++ == 0) {
            char ts[CLOCK_ISO_LEN];
            clock_format_iso(db_col_time(s, 3), ts);
            json_decref(latest);
            latest = json_pack("{s:s, s:s, s:s, s:s}", "source", db_col_text(s, 0), "code",
                               db_col_text(s, 1), "message", db_col_text(s, 2), "created_at", ts);
        }
    }
    db_stmt_done(s);
    return json_pack("{s:I, s:o}", "open", open, "latest", latest);
}

int h_health_detailed(struct http_req *r, struct err *e)
{
    (void)e;
    struct app *app = r->app;
    int64_t counts[JOB_STATE_COUNT];
    double db_ms = 0;
    char why[256] = "";
    bool db_ok = probe_db(r, counts, &db_ms, why, sizeof(why));

    json_t *database = json_pack("{s:s, s:b, s:f}", "backend", db_backend_name(app->db), "ok",
                                 db_ok, "latency_ms", db_ms);
    if (!db_ok)
        json_object_set_new(database, "error", json_string(why));
    json_t *backlog = json_object();
    for (int i = 0; i < JOB_STATE_COUNT; i++)
        json_object_set_new(backlog, job_state_name((enum job_state)i),
                            counts[i] < 0 ? json_null() : json_integer(counts[i]));
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
    json_t *checks =
        json_pack("{s:o, s:o, s:o, s:o, s:o}", "database", database, "jobs", backlog, "workers",
                  workers, "scheduler", sched, "alerts", db_ok ? alerts_json(r) : json_null());
    json_t *body = json_pack("{s:s, s:o, s:s, s:s, s:I}", "status", db_ok ? "healthy" : "unhealthy",
                             "checks", checks, "version", app->version, "timestamp", ts, "uptime_s",
                             (json_int_t)((clock_mono_ms() - app->started_ms) / 1000));
    return http_reply_json(r, db_ok ? 200 : 503, body);
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
    rc |= buf_appendf(&b,
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
                      sse_hub_subscribers(app->hub),
                      app->sched && sched_is_leader(app->sched) ? 1 : 0,
                      (long long)((clock_mono_ms() - app->started_ms) / 1000), app->version);
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

int h_events(struct http_req *r, struct err *e)
{
    (void)e;
    return http_reply_sse(r, r->who.tenant_id);
}
