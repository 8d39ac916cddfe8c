/* SPDX-License-Identifier: MIT */
/* The waiting room of deferred requests (see defer.h). */
#include "http/defer.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "http/request.h"
#include "jobs/queue.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

struct defer_room {
    struct db *db;
    defer_resume_fn *resume;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct http_req *parked; /* linked by defer_next */
    bool closing;
    bool started;
    pthread_t thread;
};

/* Hand `r` back: its wait is over with the job in `state`. Outside the room's lock. */
static void hand_back(struct defer_room *room, struct http_req *r, enum job_state state)
{
    r->defer_state = state;
    r->defer_phase = HTTP_DEFER_READY;
    room->resume(r->conn);
}

/* The state of each of n parked requests' jobs into states[] (left as is when unreadable). */
static void read_states(struct defer_room *room, struct http_req **rs, enum job_state *states,
                        size_t n)
{
    struct db_conn *c = NULL;
    struct err e;
    err_init(&e);
    if (db_conn_acquire(room->db, &c, &e)) {
        log_warn("msg=\"waiting room cannot read jobs\" error=\"%s\"", e.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct arena a;
        arena_init(&a);
        struct job_row row;
        err_init(&e);
        if (!jobs_get(c, rs[i]->who.tenant_id, false, rs[i]->defer_job, &a, &row, &e))
            states[i] = row.state;
        else if (e.code == ERR_NOT_FOUND)
            states[i] = JOB_STATE_DEAD; /* gone (tenant reset): nothing more will come */
        arena_release(&a);
    }
    db_conn_release(c);
}

static void *room_loop(void *arg)
{
    struct defer_room *room = arg;
    pthread_mutex_lock(&room->mu);
    while (!room->closing) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)DEFER_POLL_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&room->cv, &room->mu, &until);
        if (room->closing || !room->parked)
            continue;
        size_t n = 0;
        for (struct http_req *r = room->parked; r; r = r->defer_next)
            n++;
        struct http_req **rs = xcalloc(n, sizeof(*rs));
        enum job_state *states = xcalloc(n, sizeof(*states));
        n = 0;
        for (struct http_req *r = room->parked; r; r = r->defer_next) {
            states[n] = r->defer_state;
            rs[n++] = r;
        }
        pthread_mutex_unlock(&room->mu);
        read_states(room, rs, states, n);
        int64_t now = clock_mono_ms();
        pthread_mutex_lock(&room->mu);
        size_t k = 0; /* the requests handed back, gathered at the front of rs and states */
        for (size_t i = 0; i < n; i++) {
            rs[i]->defer_state = states[i];
            bool over = states[i] == JOB_STATE_DONE || states[i] == JOB_STATE_DEAD ||
                        now >= rs[i]->defer_deadline_ms;
            if (!over)
                continue;
            for (struct http_req **p = &room->parked; *p; p = &(*p)->defer_next) {
                if (*p == rs[i]) {
                    *p = rs[i]->defer_next;
                    break;
                }
            }
            rs[i]->defer_next = NULL;
            states[k] = states[i];
            rs[k++] = rs[i];
        }
        pthread_mutex_unlock(&room->mu);
        for (size_t i = 0; i < k; i++)
            hand_back(room, rs[i], states[i]);
        free(rs);
        free(states);
        pthread_mutex_lock(&room->mu);
    }
    /* closing: everyone still waiting goes back with what was last seen */
    struct http_req *r = room->parked;
    room->parked = NULL;
    pthread_mutex_unlock(&room->mu);
    while (r) {
        struct http_req *next = r->defer_next;
        r->defer_next = NULL;
        hand_back(room, r, r->defer_state);
        r = next;
    }
    return NULL;
}

struct defer_room *defer_room_new(struct db *db, defer_resume_fn *resume)
{
    struct defer_room *room = xcalloc(1, sizeof(*room));
    room->db = db;
    room->resume = resume;
    pthread_mutex_init(&room->mu, NULL);
    pthread_cond_init(&room->cv, NULL);
    if (pthread_create(&room->thread, NULL, room_loop, room)) {
        pthread_cond_destroy(&room->cv);
        pthread_mutex_destroy(&room->mu);
        free(room);
        return NULL;
    }
    room->started = true;
    return room;
}

void defer_room_park(struct defer_room *room, struct http_req *r)
{
    pthread_mutex_lock(&room->mu);
    bool closed = room->closing;
    if (!closed) {
        r->defer_phase = HTTP_DEFER_PARKED;
        r->defer_next = room->parked;
        room->parked = r;
    }
    pthread_mutex_unlock(&room->mu);
    if (closed)
        hand_back(room, r, r->defer_state);
}

void defer_room_close(struct defer_room *room)
{
    if (!room)
        return;
    pthread_mutex_lock(&room->mu);
    bool was = room->closing;
    room->closing = true;
    pthread_cond_signal(&room->cv);
    pthread_mutex_unlock(&room->mu);
    if (!was && room->started)
        pthread_join(room->thread, NULL);
}

void defer_room_free(struct defer_room *room)
{
    if (!room)
        return;
    defer_room_close(room);
    pthread_cond_destroy(&room->cv);
    pthread_mutex_destroy(&room->mu);
    free(room);
}
