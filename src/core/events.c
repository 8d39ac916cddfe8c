/* SPDX-License-Identifier: MIT */
/* The process-wide live-event sink (see events.h). */
#include "core/events.h"

#include "core/str.h"

#include <stdio.h>

static events_sink_fn *sink;
static void *sink_ctx;

void events_set_sink(events_sink_fn *fn, void *ctx)
{
    sink = fn;
    sink_ctx = ctx;
}

void events_publish(int64_t tenant, const char *type, const char *json)
{
    if (sink)
        sink(sink_ctx, tenant, type, json);
}

void events_publish_id(int64_t tenant, const char *type, int64_t id, const char *status)
{
    if (!sink)
        return;
    char json[160];
    if (status)
        snprintf(json, sizeof(json), "{\"id\":%lld,\"status\":\"%s\"}", (long long)id, status);
    else
        snprintf(json, sizeof(json), "{\"id\":%lld}", (long long)id);
    sink(sink_ctx, tenant, type, json);
}

void events_pending_init(struct events_pending *p, int64_t tenant, const char *type, int64_t id,
                         const char *status)
{
    p->tenant = tenant;
    p->id = id;
    str_copy(p->type, sizeof(p->type), type ? type : "");
    str_copy(p->status, sizeof(p->status), status ? status : "");
}

void events_pending_publish(void *pending)
{
    const struct events_pending *p = pending;
    events_publish_id(p->tenant, p->type, p->id, p->status[0] ? p->status : NULL);
}
