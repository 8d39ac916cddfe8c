/* SPDX-License-Identifier: MIT */
/*
 * Job queue endpoints: list with filters and keyset pagination, one job, enqueue a registered
 * job by name (admin), retry a dead job. A tenant sees its own jobs; the default tenant also
 * sees system jobs. Tests: tests/integration/0003-jobs.c.
 */
#include "core/clock.h"
#include "http/handlers.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "http/sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool sees_system(struct http_req *r)
{
    return r->who.tenant_id == r->app->default_tenant_id;
}

static json_t *job_json(const struct job_row *j)
{
    json_t *payload = json_loads(j->payload ? j->payload : "{}", JSON_DECODE_ANY, NULL);
    json_t *progress = j->progress_total >= 0
                           ? json_pack("{s:I, s:I}", "done", (json_int_t)j->progress_done, "total",
                                       (json_int_t)j->progress_total)
                           : json_null();
    json_t *o = json_pack(
        "{s:I, s:o, s:s, s:s, s:o, s:o, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
        (json_int_t)j->id, "tenant_id", j->tenant_id ? json_integer(j->tenant_id) : json_null(),
        "name", j->name, "state", job_state_name(j->state), "payload",
        payload ? payload : json_string(j->payload ? j->payload : ""), "unique_key",
        j->unique_key ? json_string(j->unique_key) : json_null(), "attempts", j->attempts,
        "max_attempts", j->max_attempts, "run_at", http_json_time(j->run_at_ms), "last_error",
        j->last_error ? json_string(j->last_error) : json_null(), "created_at",
        http_json_time(j->created_at_ms), "updated_at", http_json_time(j->updated_at_ms),
        "finished_at", http_json_time(j->finished_at_ms), "lease_until",
        http_json_time(j->lease_until_ms));
    json_object_set_new(o, "progress", progress);
    return o;
}

int h_jobs_list(struct http_req *r, struct err *e)
{
    static const char *const states[] = {"pending", "running", "done", "dead", NULL};
    struct job_filter f;
    memset(&f, 0, sizeof(f));
    f.state = http_req_query(r, "state");
    f.name = http_req_query(r, "name");
    if (f.state) {
        bool ok = false;
        for (int i = 0; states[i]; i++)
            ok = ok || strcmp(states[i], f.state) == 0;
        if (!ok)
            return err_set_field(e, ERR_INVALID, "state",
                                 "state must be one of: pending, running, done, dead");
    }
    if (f.name && strlen(f.name) > JOB_NAME_MAX)
        return err_set_field(e, ERR_INVALID, "name", "name is longer than %d bytes", JOB_NAME_MAX);
    int rc = http_req_page(r, JOBS_LIST_DEFAULT_LIMIT, JOBS_LIST_MAX_LIMIT, &f.page, e);
    if (rc)
        return rc;
    struct db_conn *c;
    rc = http_req_db(r, &c, e);
    if (rc)
        return rc;
    struct job_row *rows;
    size_t n;
    rc = jobs_list(c, r->who.tenant_id, sees_system(r), &f, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, job_json(&rows[i]));
    return http_reply_json(r, 200, http_page_body("jobs", arr, &f.page, n, n ? rows[n - 1].id : 0));
}

int h_jobs_get(struct http_req *r, struct err *e)
{
    int64_t id;
    int rc = http_req_param_id(r, "id", &id, e);
    if (rc)
        return rc;
    struct db_conn *c;
    rc = http_req_db(r, &c, e);
    if (rc)
        return rc;
    struct job_row j;
    rc = jobs_get(c, r->who.tenant_id, sees_system(r), id, &r->arena, &j, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, job_json(&j));
}

int h_jobs_create(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"name",       "payload",      "run_at", "delay_s",
                                         "unique_key", "max_attempts", NULL};
    const char *name = NULL, *unique_key = NULL, *run_at = NULL;
    json_t *payload = NULL;
    int64_t max_attempts = 0, delay_s = 0;
    int rc = json_reject_unknown(r->json, "", fields, e);
    if (!rc)
        rc = json_get_strn(r->json, "name", true, JOB_NAME_MAX, &name, e);
    if (!rc)
        rc = json_get_object(r->json, "payload", false, &payload, e);
    if (!rc)
        rc = json_get_strn(r->json, "unique_key", false, 200, &unique_key, e);
    if (!rc)
        rc = json_get_i64(r->json, "max_attempts", false, 1, 100, &max_attempts, e);
    if (!rc)
        rc = json_get_i64(r->json, "delay_s", false, 0, 86400 * 365, &delay_s, e);
    if (!rc)
        rc = json_get_strn(r->json, "run_at", false, 64, &run_at, e);
    if (rc)
        return rc;
    if (!job_registry_has(r->app->jobs, name))
        return err_set_field(e, ERR_INVALID, "name", "no job handler named %s", name);
    int64_t now = clock_now_ms(r->app->clock);
    int64_t when = now + delay_s * 1000;
    if (run_at && clock_parse_iso(run_at, &when))
        return err_set_field(e, ERR_INVALID, "run_at",
                             "run_at must be an ISO-8601 time like 2026-11-21T09:00:00Z");
    char *payload_text = payload ? json_dump_compact(payload) : NULL;
    struct job_spec spec = {
        .name = name,
        .payload_json = payload_text,
        .tenant_id = r->who.tenant_id,
        .run_at_ms = when,
        .unique_key = unique_key,
        .max_attempts = (int)max_attempts,
    };
    struct db_conn *c;
    int64_t id = 0;
    bool deduped = false;
    rc = http_req_db(r, &c, e);
    if (!rc)
        rc = jobs_enqueue(c, &spec, now, &id, &deduped, e);
    free(payload_text);
    if (rc)
        return rc;
    return http_reply_json(r, deduped ? 200 : 202,
                           json_pack("{s:I, s:b}", "id", (json_int_t)id, "deduplicated", deduped));
}

int h_jobs_retry(struct http_req *r, struct err *e)
{
    int64_t id;
    int rc = http_req_param_id(r, "id", &id, e);
    if (rc)
        return rc;
    struct db_conn *c;
    rc = http_req_db(r, &c, e);
    if (!rc)
        rc = jobs_retry(c, r->who.tenant_id, sees_system(r), id, clock_now_ms(r->app->clock), e);
    if (rc)
        return rc;
    char data[96];
    snprintf(data, sizeof(data), "{\"id\":%lld,\"state\":\"pending\"}", (long long)id);
    sse_hub_publish(r->app->hub, r->who.tenant_id, "job.retried", data);
    struct job_row j;
    rc = jobs_get(c, r->who.tenant_id, sees_system(r), id, &r->arena, &j, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, job_json(&j));
}
