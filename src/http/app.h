/* SPDX-License-Identifier: MIT */
/*
 * The running server's shared state, wired by main.c and read by handlers: configuration,
 * database, job workers, scheduler, metrics, event hub, rate limiters. Long-lived, one owner
 * (main.c). Handlers treat it as read-only apart from the thread-safe objects it points to.
 */
#ifndef ICESHOP_HTTP_APP_H
#define ICESHOP_HTTP_APP_H

#include "core/clock.h"
#include "core/config.h"
#include "db/db.h"

#include <stdint.h>

struct job_registry;
struct job_workers;
struct sched;
struct metrics;
struct sse_hub;
struct ratelimit;
struct login_throttle;
struct storage_tenants;

struct app {
    struct config cfg;
    struct clock *clock;
    struct db *db;
    struct job_registry *jobs;
    struct job_workers *workers; /* NULL when ICESHOP_WORKERS=0 */
    struct sched *sched;
    struct metrics *metrics;
    struct sse_hub *hub;
    struct ratelimit *rl_key;
    struct ratelimit *rl_ip;
    struct login_throttle *logins; /* failed-login waits and the password-hash gate */
    /* where file bytes live: each tenant's, through storage_for_tenant (net/storage.h) */
    struct storage_tenants *storages;
    int64_t default_tenant_id;
    unsigned char token_key[32];  /* signs login tokens; shared by processes via the database */
    unsigned char secret_key[32]; /* seals integration secrets; never stored in the database */
    int64_t started_ms;
    const char *version;
};

#endif
