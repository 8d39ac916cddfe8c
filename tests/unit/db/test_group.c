/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for group commit (db_group_write, src/db/group.c) on SQLite and, when TEST_PG_DSN is
 * set, on PostgreSQL: concurrent writers each acknowledged once and all durable; members failing
 * inside one batch get their own errors while the others commit; a failed COMMIT acknowledges
 * nobody; a process killed mid-stream never acknowledged a write the database does not hold.
 * Batches are formed deterministically by holding a leader inside its write; no timing thresholds.
 */
#include "db/db.h"
#include "db/db_internal.h"
#include "core/xalloc.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS    8
#define PER_THREAD 150

static enum db_backend backend;

struct fixture {
    struct testdb t;
    struct db *db;
};

static void exec_ok(struct db_conn *c, const char *sql)
{
    struct err e;
    err_init(&e);
    if (db_exec(c, sql, &e))
        fail_msg("exec %s: %s", sql, e.msg);
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    *state = f;
    testdb_fresh(&f->t, backend, "grp");
    struct db_options o = {.pool_size = THREADS + 4, .busy_timeout_ms = 20000};
    f->db = testdb_open(&f->t, &o);
    struct db_conn *c = testdb_acquire(f->db);
    exec_ok(c, "CREATE TABLE gc (k BIGINT PRIMARY KEY, v TEXT NOT NULL CHECK (v <> 'bad'))");
    db_conn_release(c);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    db_close(f->db);
    testdb_remove(&f->t);
    free(f);
    return 0;
}

static int64_t count_rows(struct db *db, const char *sql)
{
    struct db_conn *c = testdb_acquire(db);
    struct err e;
    err_init(&e);
    struct db_stmt *s;
    if (db_prepare(c, &s, sql, &e))
        fail_msg("prepare %s: %s", sql, e.msg);
    if (db_step(s, &e) != DB_ROW)
        fail_msg("step %s: %s", sql, e.msg);
    int64_t n = db_col_i64(s, 0);
    db_stmt_done(s);
    db_conn_release(c);
    return n;
}

static bool has_key(struct db *db, int64_t k)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM gc WHERE k = %lld", (long long)k);
    return count_rows(db, sql) == 1;
}

/* ------------------------------------------------------------------ one write */

struct write {
    int64_t k;
    const char *v;      /* "bad" breaks the CHECK constraint */
    bool refuse;        /* fail before writing, with a message naming k */
    _Atomic int *acked; /* incremented by the write's after-commit function */
    /* a gate that holds this write inside its transaction until opened */
    pthread_mutex_t *gate_mu;
    pthread_cond_t *gate_cv;
    bool *gate_open, *inside;
    /* results */
    int rc;
    struct err err;
    struct db *db;
};

static void on_acked(void *ctx)
{
    struct write *w = ctx;
    atomic_fetch_add(w->acked, 1);
}

static int write_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct write *w = ctx;
    if (w->gate_mu) {
        pthread_mutex_lock(w->gate_mu);
        *w->inside = true;
        pthread_cond_broadcast(w->gate_cv);
        while (!*w->gate_open)
            pthread_cond_wait(w->gate_cv, w->gate_mu);
        pthread_mutex_unlock(w->gate_mu);
    }
    if (w->refuse)
        return err_set_field(e, ERR_INVALID, "k", "write %lld refused", (long long)w->k);
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "INSERT INTO gc (k, v) VALUES (?, ?)", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, w->k);
    db_bind_text(s, 2, w->v ? w->v : "ok");
    if (db_step(s, e) == DB_ERROR)
        rc = db_step_error(e);
    db_stmt_done(s);
    if (!rc && w->acked)
        db_on_commit(c, on_acked, w);
    return rc;
}

static void *write_thread(void *arg)
{
    struct write *w = arg;
    struct db_conn *c = testdb_acquire(w->db);
    err_init(&w->err);
    w->rc = db_group_write(c, write_fn, w, &w->err);
    db_conn_release(c);
    return NULL;
}

/* Wait (bounded) until the queue holds `depth` writers. */
static void wait_queued(struct db *db, size_t depth)
{
    for (int i = 0; i < 60000; i++) {
        pthread_mutex_lock(&db->group_mu);
        size_t n = db->group_len;
        pthread_mutex_unlock(&db->group_mu);
        if (n >= depth)
            return;
        usleep(1000);
    }
    fail_msg("the group queue never reached %zu writers", depth);
}

/* ------------------------------------------------------------------ tests */

struct stream {
    struct db *db;
    int id;
    _Atomic int *acked; /* PER_THREAD counters of this thread */
    int returned;       /* successful db_group_write returns */
    int errors;
    char msg[256];
};

static void *stream_thread(void *arg)
{
    struct stream *st = arg;
    struct db_conn *c = testdb_acquire(st->db);
    for (int i = 0; i < PER_THREAD; i++) {
        struct write w = {.k = (int64_t)st->id * 100000 + i, .acked = &st->acked[i]};
        struct err e;
        err_init(&e);
        if (db_group_write(c, write_fn, &w, &e)) {
            st->errors++;
            snprintf(st->msg, sizeof(st->msg), "%s", e.msg);
        } else {
            st->returned++;
        }
    }
    db_conn_release(c);
    return NULL;
}

/* Many writers at once: every write returns once, is in the database, and its after-commit
 * function ran exactly once; batches formed (fewer transactions than writes is not required). */
static void test_concurrent(void **state)
{
    struct fixture *f = *state;
    pthread_t th[THREADS];
    struct stream st[THREADS];
    for (int t = 0; t < THREADS; t++) {
        st[t] = (struct stream){.db = f->db, .id = t};
        st[t].acked = xcalloc(PER_THREAD, sizeof(*st[t].acked));
        assert_int_equal(pthread_create(&th[t], NULL, stream_thread, &st[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < THREADS; t++) {
        if (st[t].errors)
            fail_msg("writer %d: %d errors, last: %s", t, st[t].errors, st[t].msg);
        assert_int_equal(st[t].returned, PER_THREAD);
        for (int i = 0; i < PER_THREAD; i++)
            assert_int_equal(atomic_load(&st[t].acked[i]), 1);
        free(st[t].acked);
    }
    assert_int_equal(count_rows(f->db, "SELECT count(*) FROM gc"), THREADS * PER_THREAD);
    uint64_t batches, writes;
    db_group_counts(f->db, &batches, &writes);
    assert_int_equal(writes, THREADS * PER_THREAD);
    assert_true(batches >= 1 && batches <= writes);
    assert_null(f->db->group_head);
}

/* A leader held inside its write, so that the writers started meanwhile form one batch. */
struct holder {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open, inside;
    struct write w;
    pthread_t th;
};

static void hold_start(struct fixture *f, struct holder *h, int64_t k)
{
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    h->open = h->inside = false;
    h->w = (struct write){.k = k,
                          .db = f->db,
                          .gate_mu = &h->mu,
                          .gate_cv = &h->cv,
                          .gate_open = &h->open,
                          .inside = &h->inside};
    assert_int_equal(pthread_create(&h->th, NULL, write_thread, &h->w), 0);
    pthread_mutex_lock(&h->mu);
    while (!h->inside)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

static void hold_release(struct holder *h)
{
    pthread_mutex_lock(&h->mu);
    h->open = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static void hold_join(struct holder *h)
{
    pthread_join(h->th, NULL);
    assert_int_equal(h->w.rc, 0);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
}

#define MEMBERS 6

/*
 * One batch of six whose first member (the next leader) breaks a constraint and whose fourth
 * refuses: each of them gets its own error, the other four commit in one transaction, and only
 * their after-commit functions run, once each.
 */
static void test_member_fails(void **state)
{
    struct fixture *f = *state;
    struct holder h;
    hold_start(f, &h, 1);
    _Atomic int acked[MEMBERS];
    struct write w[MEMBERS];
    pthread_t th[MEMBERS];
    for (int i = 0; i < MEMBERS; i++) {
        atomic_init(&acked[i], 0);
        w[i] = (struct write){.k = 100 + i, .acked = &acked[i], .db = f->db};
    }
    w[0].v = "bad";
    w[3].refuse = true;
    for (int i = 0; i < MEMBERS; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, write_thread, &w[i]), 0);
        wait_queued(f->db, 2 + (size_t)i); /* the holder, then these in order */
    }
    uint64_t b0, w0;
    db_group_counts(f->db, &b0, &w0);
    assert_int_equal(b0, 0);
    hold_release(&h);
    hold_join(&h);
    for (int i = 0; i < MEMBERS; i++)
        pthread_join(th[i], NULL);

    assert_int_equal(w[0].rc, ERR_CONFLICT);
    assert_int_equal(w[0].err.code, ERR_CONFLICT);
    assert_int_equal(w[3].rc, ERR_INVALID);
    assert_string_equal(w[3].err.msg, "write 103 refused");
    assert_string_equal(w[3].err.field, "k");
    for (int i = 0; i < MEMBERS; i++) {
        bool ok = i != 0 && i != 3;
        if (ok && w[i].rc)
            fail_msg("member %d: %s", i, w[i].err.msg);
        assert_int_equal(has_key(f->db, w[i].k), ok);
        assert_int_equal(atomic_load(&acked[i]), ok ? 1 : 0);
    }
    /* the holder's transaction, then the four survivors' single commit */
    uint64_t batches, writes;
    db_group_counts(f->db, &batches, &writes);
    assert_int_equal(batches, 2);
    assert_int_equal(writes, 5);
    assert_int_equal(count_rows(f->db, "SELECT count(*) FROM gc"), 5);
}

/* A COMMIT that fails acknowledges none of its batch, and none of its writes stay. */
static void test_commit_fails(void **state)
{
    struct fixture *f = *state;
    struct holder h;
    hold_start(f, &h, 1);
    _Atomic int acked[3];
    struct write w[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        atomic_init(&acked[i], 0);
        w[i] = (struct write){.k = 200 + i, .acked = &acked[i], .db = f->db};
        assert_int_equal(pthread_create(&th[i], NULL, write_thread, &w[i]), 0);
        wait_queued(f->db, 2 + (size_t)i);
    }
    /* counted calls: the holder's insert and commit, three inserts, then the batch's COMMIT */
    db_fault_after(f->db, 6);
    hold_release(&h);
    hold_join(&h);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    db_fault_after(f->db, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(w[i].rc, ERR_DB);
        assert_string_equal(w[i].err.msg, "injected fault (call 6)");
        assert_false(has_key(f->db, w[i].k));
        assert_int_equal(atomic_load(&acked[i]), 0);
    }
    assert_true(has_key(f->db, 1));
}

/* A caller that already holds a transaction is not queued: the write joins it. */
static void test_joins_transaction(void **state)
{
    struct fixture *f = *state;
    struct db_conn *c = testdb_acquire(f->db);
    struct err e;
    err_init(&e);
    _Atomic int acked;
    atomic_init(&acked, 0);
    struct write w = {.k = 7, .acked = &acked, .db = f->db};
    assert_int_equal(db_begin(c, &e), 0);
    assert_int_equal(db_group_write(c, write_fn, &w, &e), 0);
    assert_int_equal(atomic_load(&acked), 0);
    db_rollback(c);
    db_conn_release(c);
    assert_false(has_key(f->db, 7));
    assert_int_equal(atomic_load(&acked), 0);
}

/* Group commit off: each write commits alone, failures stay its own, nothing is counted. */
static void test_off(void **state)
{
    struct fixture *f = *state;
    db_close(f->db);
    struct db_options o = {.pool_size = 4, .busy_timeout_ms = 20000, .group_commit_off = true};
    f->db = testdb_open(&f->t, &o);
    struct db_conn *c = testdb_acquire(f->db);
    _Atomic int acked;
    atomic_init(&acked, 0);
    struct write good = {.k = 11, .acked = &acked}, bad = {.k = 12, .v = "bad"};
    struct err e;
    err_init(&e);
    assert_int_equal(db_group_write(c, write_fn, &good, &e), 0);
    assert_int_equal(db_group_write(c, write_fn, &bad, &e), ERR_CONFLICT);
    assert_false(db_in_transaction(c));
    db_conn_release(c);
    assert_int_equal(atomic_load(&acked), 1);
    assert_true(has_key(f->db, 11));
    assert_false(has_key(f->db, 12));
    uint64_t batches, writes;
    db_group_counts(f->db, &batches, &writes);
    assert_int_equal(batches + writes, 0);
}

/* ------------------------------------------------------------------ crash */

#define CRASH_THREADS 4
#define CRASH_ACKS    300

struct crash_writer {
    struct db *db;
    int id, fd;
};

static void *crash_thread(void *arg)
{
    struct crash_writer *cw = arg;
    struct err e;
    err_init(&e);
    struct db_conn *c;
    if (db_conn_acquire(cw->db, &c, &e))
        _exit(3);
    for (int64_t i = 0;; i++) {
        struct write w = {.k = (int64_t)cw->id * 10000000 + i};
        err_init(&e);
        if (db_group_write(c, write_fn, &w, &e))
            continue;
        /* acknowledged: say so (an 8-byte write to a pipe is atomic) */
        if (write(cw->fd, &w.k, sizeof(w.k)) != (ssize_t)sizeof(w.k))
            _exit(4);
    }
    return NULL;
}

static void crash_child(const char *url, int fd)
{
    struct err e;
    err_init(&e);
    struct db *db;
    struct db_options o = {.pool_size = CRASH_THREADS + 1, .busy_timeout_ms = 20000};
    if (db_open(&db, url, &o, &e))
        _exit(2);
    pthread_t th[CRASH_THREADS];
    struct crash_writer cw[CRASH_THREADS];
    for (int t = 0; t < CRASH_THREADS; t++) {
        cw[t] = (struct crash_writer){.db = db, .id = t + 1, .fd = fd};
        pthread_create(&th[t], NULL, crash_thread, &cw[t]);
    }
    for (;;)
        pause();
}

/*
 * A process writing through group commit is killed (SIGKILL) while its writers stream: every
 * write it acknowledged before dying is in the database afterwards.
 */
static void test_crash_acknowledged_are_durable(void **state)
{
    struct fixture *f = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        crash_child(f->t.url, p[1]);
    }
    close(p[1]);
    size_t cap = 4096, n = 0;
    int64_t *acks = xmalloc(cap * sizeof(*acks));
    bool killed = false;
    for (;;) {
        if (!killed && n >= CRASH_ACKS) {
            kill(pid, SIGKILL);
            killed = true;
        }
        struct pollfd pfd = {.fd = p[0], .events = POLLIN};
        int pr = poll(&pfd, 1, 60000);
        if (pr == 0) {
            kill(pid, SIGKILL);
            fail_msg("the writer process went quiet after %zu acknowledgements", n);
        }
        int64_t k;
        ssize_t got = read(p[0], &k, sizeof(k));
        if (got < 0 && errno == EINTR)
            continue;
        if (got == 0)
            break; /* the child is gone and everything it said has been read */
        assert_int_equal(got, sizeof(k));
        if (n == cap) {
            cap *= 2;
            acks = xrealloc(acks, cap * sizeof(*acks));
        }
        acks[n++] = k;
    }
    close(p[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_true(n >= CRASH_ACKS);
    /* reopen, as a restarted server would, and look for every acknowledged write */
    db_close(f->db);
    f->db = testdb_open(&f->t, NULL);
    for (size_t i = 0; i < n; i++)
        if (!has_key(f->db, acks[i]))
            fail_msg("write %lld was acknowledged but is not in the database", (long long)acks[i]);
    assert_true(count_rows(f->db, "SELECT count(*) FROM gc") >= (int64_t)n);
    free(acks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_member_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_joins_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_acknowledged_are_durable, setup, teardown),
    };
    return TESTDB_RUN_GROUPS("group", tests, &backend) ? 1 : 0;
}
