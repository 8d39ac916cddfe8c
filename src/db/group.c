/* SPDX-License-Identifier: MIT */
/*
 * Group commit (db_group_write in db.h): a queue of writers per database, whose head leads. The
 * leader runs the queued writes in one transaction on its own connection and wakes each member
 * with its result; nothing here sleeps on a timer or touches a backend directly.
 * Tests: tests/unit/db/test_group.c.
 */
#include "db/db.h"
#include "db/db_internal.h"

#include <assert.h>
#include <pthread.h>
#include <string.h>

/* One waiting writer; lives on its caller's stack until db_group_write returns. */
struct db_write {
    db_write_fn *fn;
    void *ctx;
    struct db_write *next;
    pthread_cond_t cv;
    bool done;
    bool failed; /* its own fn failed: left out of the batch's later runs */
    int rc;
    struct err err;
};

static void fail_rest(struct db_write **batch, size_t n, int rc, const struct err *e)
{
    for (size_t i = 0; i < n; i++) {
        if (batch[i]->failed)
            continue;
        batch[i]->failed = true;
        batch[i]->rc = rc;
        batch[i]->err = *e;
    }
}

/*
 * Run the batch on `c` until the members left commit together or the transaction itself fails.
 * A member whose fn fails is rolled back with everyone and left out of the next run, so a
 * member is acknowledged only by the commit of a transaction it ran in without a failure.
 */
static void run_batch(struct db_conn *c, struct db_write **batch, size_t n)
{
    for (;;) {
        struct err e;
        err_init(&e);
        int rc = db_begin(c, &e);
        if (rc) {
            fail_rest(batch, n, rc, &e);
            return;
        }
        size_t ran = 0;
        bool member_failed = false;
        for (size_t i = 0; i < n && !member_failed; i++) {
            struct db_write *w = batch[i];
            if (w->failed)
                continue;
            err_init(&w->err);
            rc = w->fn(c, w->ctx, &w->err);
            if (rc) {
                w->failed = true;
                w->rc = rc;
                if (w->err.code == ERR_OK)
                    err_set(&w->err, rc, "write failed");
                member_failed = true;
            }
            ran++;
        }
        if (member_failed) {
            db_rollback(c);
            continue;
        }
        if (!ran) {
            db_rollback(c);
            return;
        }
        rc = db_commit(c, &e);
        if (rc) {
            fail_rest(batch, n, rc, &e);
            return;
        }
        atomic_fetch_add(&c->db->group_batches, 1);
        atomic_fetch_add(&c->db->group_writes, ran);
        return;
    }
}

int db_group_write(struct db_conn *c, db_write_fn *fn, void *ctx, struct err *e)
{
    if (db_in_transaction(c))
        return fn(c, ctx, e);
    struct db *db = c->db;
    if (db->group_commit_off) {
        bool own;
        int rc = db_begin_own(c, &own, e);
        if (!rc)
            rc = fn(c, ctx, e);
        return db_end_own(c, own, rc, e);
    }
    struct db_write me = {.fn = fn, .ctx = ctx};
    err_init(&me.err);
    pthread_cond_init(&me.cv, NULL);

    pthread_mutex_lock(&db->group_mu);
    if (db->group_tail)
        db->group_tail->next = &me;
    else
        db->group_head = &me;
    db->group_tail = &me;
    db->group_len++;
    while (!me.done && db->group_head != &me)
        pthread_cond_wait(&me.cv, &db->group_mu);
    if (!me.done) {
        /* Leader: take what is queued now; later arrivals wait for the next leader. */
        struct db_write *batch[DB_GROUP_MAX];
        size_t n = 0;
        for (struct db_write *w = &me; w && n < DB_GROUP_MAX; w = w->next)
            batch[n++] = w;
        pthread_mutex_unlock(&db->group_mu);

        run_batch(c, batch, n);

        pthread_mutex_lock(&db->group_mu);
        db->group_head = batch[n - 1]->next;
        if (!db->group_head)
            db->group_tail = NULL;
        db->group_len -= n;
        for (size_t i = 0; i < n; i++) {
            batch[i]->done = true;
            if (batch[i] != &me)
                pthread_cond_signal(&batch[i]->cv);
        }
        if (db->group_head)
            pthread_cond_signal(&db->group_head->cv);
    }
    pthread_mutex_unlock(&db->group_mu);
    pthread_cond_destroy(&me.cv);
    if (me.failed) {
        if (e && e->code == ERR_OK)
            *e = me.err;
        return me.rc;
    }
    return 0;
}

void db_group_counts(const struct db *db, uint64_t *batches, uint64_t *writes)
{
    *batches = atomic_load(&db->group_batches);
    *writes = atomic_load(&db->group_writes);
}
