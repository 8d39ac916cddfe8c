/* SPDX-License-Identifier: MIT */
/*
 * Live events for dashboards: domain code announces that something changed ("window", "message",
 * "job") for a tenant; the HTTP layer installs the sink that fans it out as Server-Sent Events.
 * With no sink installed (CLI, tests) publishing does nothing. Thread-safe. Domain code publishes
 * from inside transactions only through db_on_commit (db.h), so a rolled-back change is never
 * announced.
 * Tests: tests/integration/0001-http.c (the stream), 0008-pages.c.
 */
#ifndef ICESHOP_CORE_EVENTS_H
#define ICESHOP_CORE_EVENTS_H

#include <stdint.h>

typedef void events_sink_fn(void *ctx, int64_t tenant, const char *type, const char *json);

/* Install (or with NULL remove) the process's sink; call before threads start. */
void events_set_sink(events_sink_fn *fn, void *ctx);
/* `json` is a one-line JSON object; tenant 0 = every tenant. */
void events_publish(int64_t tenant, const char *type, const char *json);
/* Convenience: {"id": id, "status": status} (status may be NULL). */
void events_publish_id(int64_t tenant, const char *type, int64_t id, const char *status);

/*
 * An events_publish_id() kept for later, e.g. until a database transaction commits: fill it
 * with events_pending_init() and hand events_pending_publish (shaped as a db_commit_fn) and the
 * struct to db_on_commit_copy(). Type and status are copied, cut to fit.
 */
struct events_pending {
    int64_t tenant;
    int64_t id;
    char type[32];
    char status[48]; /* "" = no status */
};
void events_pending_init(struct events_pending *p, int64_t tenant, const char *type, int64_t id,
                         const char *status);
/* Publish a `struct events_pending *` passed as void *. */
void events_pending_publish(void *pending);

#endif
