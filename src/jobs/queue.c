/* SPDX-License-Identifier: MIT */
/*
 * The durable job table (see queue.h): enqueue with dedupe, listing, retry, counts, pruning.
 * Portable SQL through db.h only; claiming and completion live in worker.c.
 * Tests: tests/unit/jobs/test_jobs.c.
 */
#include "jobs/queue.h"
#include "db/store.h"
#include "jobs/worker.h"
#include "core/buf.h"
#include "core/str.h"

#include <stdlib.h>
#include <string.h>

static const char *const state_names[JOB_STATE_COUNT] = {"pending", "running", "done", "dead"};

const char *job_state_name(enum job_state s)
{
    if ((int)s < 0 || s >= JOB_STATE_COUNT)
        return "unknown";
    return state_names[s];
}

int job_state_parse(const char *s, enum job_state *out)
{
    if (!s)
        return ERR_INVALID;
    for (int i = 0; i < JOB_STATE_COUNT; i++) {
        if (strcmp(s, state_names[i]) == 0) {
            *out = (enum job_state)i;
            return 0;
        }
    }
    return ERR_INVALID;
}

/* Id of the live (pending/running) job holding `key`, 0 when none. */
static int find_live_key(struct db_conn *c, const char *key, int64_t *id, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT id FROM jobs WHERE unique_key = ? AND state IN "
                        "('pending', 'running')",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, key);
    *id = 0;
    bool found;
    return db_one_i64(s, id, &found, e);
}

static int validate_spec(const struct job_spec *spec, struct err *e)
{
    if (!spec->name || !spec->name[0] || strlen(spec->name) > JOB_NAME_MAX)
        return err_set_field(e, ERR_INVALID, "name", "job name must be 1..%d bytes", JOB_NAME_MAX);
    if (spec->max_attempts < 0)
        return err_set_field(e, ERR_INVALID, "max_attempts", "max_attempts must be >= 0");
    if (spec->tenant_id < 0)
        return err_set_field(e, ERR_INVALID, "tenant_id", "tenant_id must be >= 0");
    if (spec->unique_key && !spec->unique_key[0])
        return err_set_field(e, ERR_INVALID, "unique_key", "unique_key must not be empty");
    return 0;
}

/*
 * The insert skips silently when a live job holds the key (ON CONFLICT on the partial unique
 * index, same predicate on both backends), so a concurrent duplicate never aborts the
 * caller's PostgreSQL transaction; we then look the holder up. The holder may finish between
 * the two statements, hence the short loop.
 */
static int enqueue_in_tx(struct db_conn *c, const struct job_spec *spec, int64_t now_ms,
                         int64_t *id, bool *deduped, struct err *e)
{
    int64_t run_at = spec->run_at_ms ? spec->run_at_ms : now_ms;
    int max_attempts = spec->max_attempts ? spec->max_attempts : JOB_DEFAULT_MAX_ATTEMPTS;
    for (int tries = 0; tries < 3; tries++) {
        struct db_stmt *s;
        int rc = db_prepare(c, &s,
                            "INSERT INTO jobs (tenant_id, name, payload, state, unique_key, "
                            "attempts, max_attempts, run_at, created_at, updated_at) "
                            "VALUES (?, ?, ?, 'pending', ?, 0, ?, ?, ?, ?) "
                            "ON CONFLICT (unique_key) WHERE state IN ('pending', 'running') "
                            "DO NOTHING RETURNING id",
                            e);
        if (rc)
            return rc;
        if (spec->tenant_id)
            db_bind_i64(s, 1, spec->tenant_id);
        else
            db_bind_null(s, 1);
        db_bind_text(s, 2, spec->name);
        db_bind_text(s, 3, spec->payload_json ? spec->payload_json : "{}");
        db_bind_text(s, 4, spec->unique_key);
        db_bind_i64(s, 5, max_attempts);
        db_bind_time(s, 6, run_at);
        db_bind_time(s, 7, now_ms);
        db_bind_time(s, 8, now_ms);
        int st = db_step(s, e);
        int64_t new_id = st == DB_ROW ? db_col_i64(s, 0) : 0;
        if (st == DB_ROW)
            st = db_step(s, e);
        db_stmt_done(s);
        if (st == DB_ERROR)
            return e->code;
        if (new_id) {
            *id = new_id;
            *deduped = false;
            return 0;
        }
        /* Skipped: only possible with a unique key. */
        rc = find_live_key(c, spec->unique_key, id, e);
        if (rc)
            return rc;
        if (*id) {
            *deduped = true;
            return 0;
        }
    }
    return err_set(e, ERR_CONFLICT, "unique key %s is contended, try again", spec->unique_key);
}

int jobs_enqueue(struct db_conn *c, const struct job_spec *spec, int64_t now_ms, int64_t *id_out,
                 bool *deduped_out, struct err *e)
{
    int rc = validate_spec(spec, e);
    if (rc)
        return rc;
    bool own;
    rc = db_begin_own(c, &own, e);
    if (rc)
        return rc;
    int64_t id = 0;
    bool deduped = false;
    rc = enqueue_in_tx(c, spec, now_ms, &id, &deduped, e);
    if (!rc && !deduped) /* idle workers claim it as soon as it is visible */
        db_on_commit(c, job_workers_wake_db, db_conn_db(c));
    rc = db_end_own(c, own, rc, e);
    if (rc)
        return rc;
    if (id_out)
        *id_out = id;
    if (deduped_out)
        *deduped_out = deduped;
    return 0;
}

/*
 * INSERT of `rows` keyless jobs, 7 parameters a row. The ids come back in RETURNING order,
 * which PostgreSQL and SQLite do not promise to be the VALUES order; they are sorted instead:
 * one statement draws its ids from the identity (rowid) in row order, so ascending ids follow
 * the VALUES rows.
 */
static char *insert_many_sql(int rows)
{
    struct buf b;
    buf_init(&b, 64 * 1024);
    int rc = buf_appends(&b, "INSERT INTO jobs (tenant_id, name, payload, state, unique_key, "
                             "attempts, max_attempts, run_at, created_at, updated_at) VALUES ");
    for (int i = 0; i < rows; i++)
        rc |= buf_appends(&b, i ? ", (?, ?, ?, 'pending', NULL, 0, ?, ?, ?, ?)"
                                : "(?, ?, ?, 'pending', NULL, 0, ?, ?, ?, ?)");
    rc |= buf_appends(&b, " RETURNING id");
    if (rc)
        return NULL;
    return buf_detach(&b, NULL);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Insert the keyless specs[idx[0..k)] (k a power of two ≤ JOBS_ENQUEUE_CHUNK) in one statement. */
static int insert_keyless(struct db_conn *c, const struct job_spec *specs, const size_t *idx, int k,
                          int64_t now_ms, int64_t *ids_out, struct err *e)
{
    char *sql = insert_many_sql(k);
    if (!sql)
        return err_set(e, ERR_INTERNAL, "job insert statement too long");
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    free(sql);
    if (rc)
        return rc;
    for (int i = 0; i < k; i++) {
        const struct job_spec *sp = &specs[idx[i]];
        int p = 1 + 7 * i;
        if (sp->tenant_id)
            db_bind_i64(s, p, sp->tenant_id);
        else
            db_bind_null(s, p);
        db_bind_text(s, p + 1, sp->name);
        db_bind_text(s, p + 2, sp->payload_json ? sp->payload_json : "{}");
        db_bind_i64(s, p + 3, sp->max_attempts ? sp->max_attempts : JOB_DEFAULT_MAX_ATTEMPTS);
        db_bind_time(s, p + 4, sp->run_at_ms ? sp->run_at_ms : now_ms);
        db_bind_time(s, p + 5, now_ms);
        db_bind_time(s, p + 6, now_ms);
    }
    int64_t got[JOBS_ENQUEUE_CHUNK];
    int n = 0;
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        if (n < k)
            got[n] = db_col_i64(s, 0);
        n++;
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return e->code;
    if (n != k)
        return err_set(e, ERR_DB, "job insert returned %d ids for %d jobs", n, k);
    qsort(got, (size_t)k, sizeof(got[0]), cmp_i64);
    for (int i = 0; ids_out && i < k; i++)
        ids_out[idx[i]] = got[i];
    return 0;
}

static int enqueue_many_in_tx(struct db_conn *c, const struct job_spec *specs, size_t n,
                              int64_t now_ms, int64_t *ids_out, bool *added, struct err *e)
{
    size_t idx[JOBS_ENQUEUE_CHUNK];
    int k = 0;
    for (size_t i = 0; i <= n; i++) {
        bool keyed = i < n && specs[i].unique_key;
        if (keyed) {
            int64_t id = 0;
            bool deduped = false;
            int rc = enqueue_in_tx(c, &specs[i], now_ms, &id, &deduped, e);
            if (rc)
                return rc;
            *added = *added || !deduped;
            if (ids_out)
                ids_out[i] = id;
            continue;
        }
        if (i < n)
            idx[k++] = i;
        /* Flush a full chunk, and at the end the rest in power-of-two pieces (few shapes). */
        while (k == JOBS_ENQUEUE_CHUNK || (i == n && k > 0)) {
            int piece = JOBS_ENQUEUE_CHUNK;
            while (piece > k)
                piece /= 2;
            int rc = insert_keyless(c, specs, idx, piece, now_ms, ids_out, e);
            if (rc)
                return rc;
            *added = true;
            memmove(idx, idx + piece, (size_t)(k - piece) * sizeof(idx[0]));
            k -= piece;
        }
    }
    return 0;
}

int jobs_enqueue_many(struct db_conn *c, const struct job_spec *specs, size_t n, int64_t now_ms,
                      int64_t *ids_out, struct err *e)
{
    for (size_t i = 0; i < n; i++) {
        int rc = validate_spec(&specs[i], e);
        if (rc)
            return rc;
    }
    if (n == 0)
        return 0;
    bool own;
    int rc = db_begin_own(c, &own, e);
    if (rc)
        return rc;
    bool added = false;
    rc = enqueue_many_in_tx(c, specs, n, now_ms, ids_out, &added, e);
    if (!rc && added)
        db_on_commit(c, job_workers_wake_db, db_conn_db(c));
    return db_end_own(c, own, rc, e);
}

int jobs_set_progress(struct db_conn *c, int64_t id, int64_t done, int64_t total, struct err *e)
{
    if (done < 0 || total < 0 || done > total)
        return err_set_field(e, ERR_INVALID, "progress", "progress %lld of %lld is not a fraction",
                             (long long)done, (long long)total);
    struct db_stmt *s;
    int rc =
        db_prepare(c, &s, "UPDATE jobs SET progress_done = ?, progress_total = ? WHERE id = ?", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, done);
    db_bind_i64(s, 2, total);
    db_bind_i64(s, 3, id);
    return db_exec_write(s, NULL, e);
}

/* ---------------------------------------------------------------- reading rows */

#define ROW_COLUMNS                                                                                \
    "id, tenant_id, name, payload, state, unique_key, attempts, max_attempts, run_at, "            \
    "lease_until, locked_by, last_error, created_at, updated_at, finished_at, progress_done, "     \
    "progress_total"

static void read_row(struct db_stmt *s, struct arena *a, void *out)
{
    struct job_row *r = out;
    memset(r, 0, sizeof(*r));
    r->id = db_col_i64(s, 0);
    r->tenant_id = db_col_is_null(s, 1) ? 0 : db_col_i64(s, 1);
    r->name = db_col_dup(s, 2, a);
    r->payload = db_col_dup(s, 3, a);
    enum job_state st = JOB_STATE_PENDING;
    job_state_parse(db_col_text(s, 4), &st);
    r->state = st;
    r->unique_key = db_col_dup(s, 5, a);
    r->attempts = (int)db_col_i64(s, 6);
    r->max_attempts = (int)db_col_i64(s, 7);
    r->run_at_ms = db_col_time(s, 8);
    r->lease_until_ms = db_col_time(s, 9);
    r->locked_by = db_col_dup(s, 10, a);
    r->last_error = db_col_dup(s, 11, a);
    r->created_at_ms = db_col_time(s, 12);
    r->updated_at_ms = db_col_time(s, 13);
    r->finished_at_ms = db_col_time(s, 14);
    r->progress_done = db_col_is_null(s, 15) ? -1 : db_col_i64(s, 15);
    r->progress_total = db_col_is_null(s, 16) ? -1 : db_col_i64(s, 16);
}

/*
 * Append the tenant scope condition to `sql` and return how many parameters it uses (0 or 1,
 * always the tenant id).
 */
static int append_scope(struct buf *sql, int64_t tenant_id, bool include_system)
{
    if (tenant_id == JOBS_ALL_TENANTS) {
        buf_appends(sql, "1 = 1");
        return 0;
    }
    if (include_system)
        buf_appends(sql, "(tenant_id = ? OR tenant_id IS NULL)");
    else
        buf_appends(sql, "tenant_id = ?");
    return 1;
}

int jobs_list(struct db_conn *c, int64_t tenant_id, bool include_system, const struct job_filter *f,
              struct arena *a, struct job_row **rows, size_t *n, struct err *e)
{
    static const struct job_filter none;
    if (!f)
        f = &none;
    enum job_state want;
    if (f->state && job_state_parse(f->state, &want))
        return err_set_field(e, ERR_INVALID, "state",
                             "state must be pending, running, done or dead");
    int limit = db_page_limit(f->page.limit, JOBS_LIST_DEFAULT_LIMIT, JOBS_LIST_MAX_LIMIT);

    /* A handful of filter combinations, so the statement cache stays small. */
    struct buf sql;
    buf_init(&sql, 1024);
    buf_appends(&sql, "SELECT " ROW_COLUMNS " FROM jobs WHERE ");
    int scope = append_scope(&sql, tenant_id, include_system);
    if (f->state)
        buf_appends(&sql, " AND state = ?");
    if (f->name)
        buf_appends(&sql, " AND name = ?");
    if (f->page.after > 0)
        buf_appends(&sql, " AND id < ?");
    buf_appends(&sql, " ORDER BY id DESC LIMIT ?");

    struct db_stmt *s;
    int rc = db_prepare(c, &s, buf_str(&sql), e);
    buf_release(&sql);
    if (rc)
        return rc;
    int idx = 1;
    if (scope)
        db_bind_i64(s, idx++, tenant_id);
    if (f->state)
        db_bind_text(s, idx++, f->state);
    if (f->name)
        db_bind_text(s, idx++, f->name);
    if (f->page.after > 0)
        db_bind_i64(s, idx++, f->page.after);
    db_bind_i64(s, idx, limit);
    void *out;
    rc = db_list(s, read_row, sizeof(struct job_row), a, &out, n, e);
    *rows = out;
    return rc;
}

int jobs_get(struct db_conn *c, int64_t tenant_id, bool include_system, int64_t id, struct arena *a,
             struct job_row *out, struct err *e)
{
    struct buf sql;
    buf_init(&sql, 1024);
    buf_appends(&sql, "SELECT " ROW_COLUMNS " FROM jobs WHERE id = ? AND ");
    int scope = append_scope(&sql, tenant_id, include_system);
    struct db_stmt *s;
    int rc = db_prepare(c, &s, buf_str(&sql), e);
    buf_release(&sql);
    if (rc)
        return rc;
    db_bind_i64(s, 1, id);
    if (scope)
        db_bind_i64(s, 2, tenant_id);
    int st = db_step(s, e);
    if (st == DB_ROW)
        read_row(s, a, out);
    db_stmt_done(s);
    if (st == DB_ERROR)
        return e->code;
    if (st != DB_ROW)
        return err_set(e, ERR_NOT_FOUND, "job %lld not found", (long long)id);
    return 0;
}

static int retry_in_tx(struct db_conn *c, int64_t tenant_id, bool include_system, int64_t id,
                       int64_t now_ms, struct err *e)
{
    struct arena a;
    arena_init(&a);
    struct job_row row;
    int rc = jobs_get(c, tenant_id, include_system, id, &a, &row, e);
    arena_release(&a);
    if (rc)
        return rc;
    enum job_state st = row.state;
    if (st != JOB_STATE_DEAD)
        return err_set(e, ERR_CONFLICT, "job %lld is %s, only dead jobs can be retried",
                       (long long)id, job_state_name(st));
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "UPDATE jobs SET state = 'pending', attempts = 0, run_at = ?, "
                    "lease_until = NULL, locked_by = NULL, finished_at = NULL, updated_at = ? "
                    "WHERE id = ? AND state = 'dead'",
                    e);
    if (rc)
        return rc;
    db_bind_time(s, 1, now_ms);
    db_bind_time(s, 2, now_ms);
    db_bind_i64(s, 3, id);
    struct err inner;
    err_init(&inner);
    int r = db_step(s, &inner);
    int64_t changed = r == DB_DONE ? db_changes(s) : 0;
    db_stmt_done(s);
    if (r == DB_ERROR) {
        if (inner.code == ERR_CONFLICT)
            return err_set(e, ERR_CONFLICT, "job %lld: a live job already holds its unique key",
                           (long long)id);
        return err_set(e, inner.code, "%s", inner.msg);
    }
    if (changed != 1)
        return err_set(e, ERR_CONFLICT, "job %lld changed state, try again", (long long)id);
    return 0;
}

int jobs_retry(struct db_conn *c, int64_t tenant_id, bool include_system, int64_t id,
               int64_t now_ms, struct err *e)
{
    bool own;
    int rc = db_begin_own(c, &own, e);
    if (rc)
        return rc;
    rc = retry_in_tx(c, tenant_id, include_system, id, now_ms, e);
    if (!rc)
        db_on_commit(c, job_workers_wake_db, db_conn_db(c));
    return db_end_own(c, own, rc, e);
}

int jobs_count_by_state(struct db_conn *c, int64_t tenant_id, int64_t counts[JOB_STATE_COUNT],
                        struct err *e)
{
    for (int i = 0; i < JOB_STATE_COUNT; i++)
        counts[i] = 0;
    struct db_stmt *s;
    bool all = tenant_id == JOBS_ALL_TENANTS;
    int rc = db_prepare(c, &s,
                        all ? "SELECT state, COUNT(*) FROM jobs GROUP BY state"
                            : "SELECT state, COUNT(*) FROM jobs WHERE tenant_id = ? GROUP BY state",
                        e);
    if (rc)
        return rc;
    if (!all)
        db_bind_i64(s, 1, tenant_id);
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        enum job_state js;
        if (job_state_parse(db_col_text(s, 0), &js) == 0)
            counts[js] = db_col_i64(s, 1);
    }
    db_stmt_done(s);
    return st == DB_ERROR ? e->code : 0;
}

int jobs_prune(struct db_conn *c, int64_t older_than_ms, int64_t *deleted, struct err *e)
{
    bool own;
    int rc = db_begin_own(c, &own, e);
    if (rc)
        return rc;
    struct db_stmt *s;
    rc = db_prepare(c, &s, "DELETE FROM jobs WHERE state IN ('done', 'dead') AND finished_at < ?",
                    e);
    int64_t n = 0;
    if (!rc) {
        db_bind_time(s, 1, older_than_ms);
        if (db_step(s, e) == DB_ERROR)
            rc = e->code;
        else
            n = db_changes(s);
        db_stmt_done(s);
    }
    rc = db_end_own(c, own, rc, e);
    if (rc)
        return rc;
    if (deleted)
        *deleted = n;
    return 0;
}
