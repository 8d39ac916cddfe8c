/* SPDX-License-Identifier: MIT */
/*
 * Job queue endpoints: list with filters and keyset pagination, one job, enqueue a registered
 * job by name (admin), retry a dead job. A tenant sees its own jobs; the default tenant also
 * sees system jobs. Tests: tests/integration/0003-jobs.c.
 */
#include "core/clock.h"
#include "core/str.h"
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

/*
 * The pieces of put_job, without printf: formatting was a sixth of the reply's cost. `key` is
 * the member's name with its quotes, comma and colon (",\"run_at\":").
 */
static int put_i64(struct buf *b, int64_t v)
{
    char text[24];
    size_t i = sizeof(text);
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        text[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        text[--i] = '-';
    return buf_append(b, text + i, sizeof(text) - i);
}

/* key then the ISO time, or null for 0 */
static int put_time(struct buf *b, const char *key, int64_t ms)
{
    int rc = buf_appends(b, key);
    if (!ms)
        return rc | buf_appends(b, "null");
    char ts[CLOCK_ISO_LEN + 2];
    ts[0] = '"';
    clock_format_iso(ms, ts + 1);
    ts[CLOCK_ISO_LEN] = '"';
    return rc | buf_append(b, ts, CLOCK_ISO_LEN + 1);
}

/* key then the text as a JSON string, or null */
static int put_text_or_null(struct buf *b, const char *key, const char *text)
{
    int rc = buf_appends(b, key);
    return rc | (text ? json_buf_string(b, text) : buf_appends(b, "null"));
}

/*
 * The payload as the JSON it holds (re-serialised compactly, so whatever a caller stored reads
 * the same), or as a string when it is not JSON. The empty object, the common case, is copied.
 */
static int put_payload(struct buf *b, const char *payload)
{
    if (!payload || str_eq(payload, "{}"))
        return buf_appends(b, "{}");
    json_t *v = json_loads(payload, JSON_DECODE_ANY, NULL);
    if (!v)
        return json_buf_string(b, payload);
    char *text = json_dump_compact(v);
    json_decref(v);
    int rc = buf_appends(b, text);
    free(text);
    return rc;
}

/*
 * One job as a JSON object, written straight into `b` (GET /api/jobs/{id} is the API's
 * hottest authenticated read; a jansson tree per reply was a tenth of its time).
 */
static int put_job(struct buf *b, const struct job_row *j)
{
    int rc = buf_appends(b, "{\"id\":");
    rc |= put_i64(b, j->id);
    rc |= buf_appends(b, ",\"tenant_id\":");
    rc |= j->tenant_id ? put_i64(b, j->tenant_id) : buf_appends(b, "null");
    rc |= put_text_or_null(b, ",\"name\":", j->name ? j->name : "");
    rc |= put_text_or_null(b, ",\"state\":", job_state_name(j->state));
    rc |= buf_appends(b, ",\"payload\":");
    rc |= put_payload(b, j->payload);
    rc |= put_text_or_null(b, ",\"unique_key\":", j->unique_key);
    rc |= buf_appends(b, ",\"attempts\":");
    rc |= put_i64(b, j->attempts);
    rc |= buf_appends(b, ",\"max_attempts\":");
    rc |= put_i64(b, j->max_attempts);
    rc |= put_time(b, ",\"run_at\":", j->run_at_ms);
    rc |= put_text_or_null(b, ",\"last_error\":", j->last_error);
    rc |= put_time(b, ",\"created_at\":", j->created_at_ms);
    rc |= put_time(b, ",\"updated_at\":", j->updated_at_ms);
    rc |= put_time(b, ",\"finished_at\":", j->finished_at_ms);
    rc |= put_time(b, ",\"lease_until\":", j->lease_until_ms);
    if (j->progress_total >= 0) {
        rc |= buf_appends(b, ",\"progress\":{\"done\":");
        rc |= put_i64(b, j->progress_done);
        rc |= buf_appends(b, ",\"total\":");
        rc |= put_i64(b, j->progress_total);
        rc |= buf_appends(b, "}}");
    } else {
        rc |= buf_appends(b, ",\"progress\":null}");
    }
    return rc;
}

/* Reply with one job. */
static int reply_job(struct http_req *r, const struct job_row *j, struct err *e)
{
    struct buf b;
    buf_init(&b, BUF_MAX_RESPONSE);
    int rc = put_job(&b, j);
    return http_reply_json_buf(r, 200, &b, rc, e);
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
    struct buf b;
    buf_init(&b, BUF_MAX_RESPONSE);
    rc = buf_appends(&b, "{\"jobs\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            rc |= buf_appends(&b, ",");
        rc |= put_job(&b, &rows[i]);
    }
    int64_t next = db_page_next(&f.page, n, n ? rows[n - 1].id : 0);
    rc |= buf_appends(&b, "],\"next_after\":");
    rc |= next ? put_i64(&b, next) : buf_appends(&b, "null");
    rc |= buf_appends(&b, "}");
    return http_reply_json_buf(r, 200, &b, rc, e);
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
    return reply_job(r, &j, e);
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
    return reply_job(r, &j, e);
}
