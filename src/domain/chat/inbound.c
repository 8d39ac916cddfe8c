/* SPDX-License-Identifier: MIT */
/*
 * Inbound chat events (see inbound.h): parsing Meta and VAPI bodies into one shape, storing each
 * once with its processing job, and applying delivery statuses to the outbox.
 * Tests: tests/unit/domain/test_inbound.c, tests/integration/0005-whatsapp.c.
 */
#include "domain/chat/inbound.h"
#include "db/store.h"
#include "core/crypto.h"
#include "core/str.h"
#include "domain/notify/contacts.h"
#include "domain/notify/outbox.h"
#include "jobs/queue.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUTURE_SLACK_MS (5 * 60 * 1000)

static void decref(void *p)
{
    json_decref((json_t *)p);
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *dup_or_empty(struct arena *a, const char *s)
{
    return s ? arena_strdup(a, s) : "";
}

/* "905321234567" or "+905321234567" → "+905321234567"; NULL when it is not a phone. */
static const char *e164(struct arena *a, const char *raw)
{
    if (!raw)
        return NULL;
    const char *d = raw[0] == '+' ? raw + 1 : raw;
    size_t n = strlen(d);
    if (n < 8 || n > 15)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (d[i] < '0' || d[i] > '9')
            return NULL;
    }
    return arena_printf(a, "+%s", d);
}

/*
 * A Meta message must carry its time: without one (absent, empty, not unix seconds) a replayed
 * body could never be told stale, so it is refused like a stale one.
 */
static int check_time(int64_t ts_ms, int64_t now_ms, struct err *e)
{
    if (!ts_ms)
        return err_set_field(e, ERR_INVALID, "timestamp",
                             "stale event check impossible: timestamp is missing or not unix "
                             "seconds");
    if (ts_ms < now_ms - CHAT_STALE_AFTER_MS || ts_ms > now_ms + FUTURE_SLACK_MS)
        return err_set_field(e, ERR_INVALID, "timestamp",
                             "stale event: its timestamp is more than 24 hours old or in the "
                             "future");
    return 0;
}

/* Seconds beyond this cannot be milliseconds in an int64; they are clamped, hence stale. */
#define TS_MAX_S (INT64_MAX / 1000)

/* The item's "timestamp" (unix seconds, string or integer) in ms; 0 when absent. */
static int64_t ts_of(json_t *o)
{
    const char *ts = jstr(o, "timestamp");
    json_t *v = json_object_get(o, "timestamp");
    int64_t secs = 0;
    if (ts && str_to_i64(ts, &secs))
        return 0;
    if (!ts && !json_is_integer(v))
        return 0;
    if (!ts)
        secs = (int64_t)json_integer_value(v);
    /* a forged or broken number must not overflow: far away is still far away (refused) */
    if (secs > TS_MAX_S)
        secs = TS_MAX_S;
    if (secs < -TS_MAX_S)
        secs = -TS_MAX_S;
    return secs * 1000;
}

/* ======================== Meta ======================== */

static int meta_message(json_t *m, json_t *contacts, struct arena *a, struct chat_event *ev,
                        struct err *e)
{
    memset(ev, 0, sizeof(*ev));
    ev->provider = "meta";
    ev->kind = "message";
    ev->text = ev->payload = ev->name = ev->status = ev->message_id = ev->error = ev->buyer_id = "";
    const char *id = jstr(m, "id"), *type = jstr(m, "type");
    ev->from = e164(a, jstr(m, "from"));
    if (!id || !*id || !type || !ev->from)
        return err_set_field(e, ERR_INVALID, "entry.changes.value.messages",
                             "a message needs id, from (a phone number) and type");
    ev->key = arena_strdup(a, id);
    ev->timestamp_ms = ts_of(m);
    /* the sender's profile name, when the contact list names them */
    size_t i;
    json_t *ct;
    json_array_foreach(contacts, i, ct)
    {
        const char *wa = jstr(ct, "wa_id");
        if (wa && strcmp(wa, ev->from + 1) == 0)
            ev->name = dup_or_empty(a, jstr(json_object_get(ct, "profile"), "name"));
    }
    if (strcmp(type, "text") == 0) {
        ev->type = "text";
        ev->text = dup_or_empty(a, jstr(json_object_get(m, "text"), "body"));
    } else if (strcmp(type, "button") == 0) { /* a template's quick-reply button */
        json_t *b = json_object_get(m, "button");
        ev->type = "button";
        ev->text = dup_or_empty(a, jstr(b, "text"));
        ev->payload = dup_or_empty(a, jstr(b, "payload"));
    } else if (strcmp(type, "interactive") == 0) {
        json_t *in = json_object_get(m, "interactive");
        json_t *r = json_object_get(in, "button_reply");
        if (!r)
            r = json_object_get(in, "list_reply");
        ev->type = "interactive";
        ev->text = dup_or_empty(a, jstr(r, "title"));
        ev->payload = dup_or_empty(a, jstr(r, "id"));
    } else if (strcmp(type, "location") == 0) {
        json_t *l = json_object_get(m, "location");
        json_t *lat = json_object_get(l, "latitude"), *lng = json_object_get(l, "longitude");
        if (!json_is_number(lat) || !json_is_number(lng) || fabs(json_number_value(lat)) > 90 ||
            fabs(json_number_value(lng)) > 180)
            return err_set_field(e, ERR_INVALID, "location",
                                 "a location message needs latitude and longitude in range");
        ev->type = "location";
        ev->has_location = true;
        ev->lat = json_number_value(lat);
        ev->lng = json_number_value(lng);
        ev->text = dup_or_empty(a, jstr(l, "name"));
    } else if (strcmp(type, "audio") == 0) {
        ev->type = "audio";
        ev->voice = json_is_true(json_object_get(json_object_get(m, "audio"), "voice"));
    } else {
        ev->type = "other";
    }
    return 0;
}

static int meta_status(json_t *st, struct arena *a, struct chat_event *ev, struct err *e)
{
    memset(ev, 0, sizeof(*ev));
    ev->provider = "meta";
    ev->kind = "status";
    ev->type = "status";
    ev->text = ev->payload = ev->name = ev->buyer_id = ev->error = "";
    const char *id = jstr(st, "id"), *status = jstr(st, "status");
    if (!id || !status)
        return err_set_field(e, ERR_INVALID, "entry.changes.value.statuses",
                             "a status needs id and status");
    if (strcmp(status, "sent") && strcmp(status, "delivered") && strcmp(status, "read") &&
        strcmp(status, "failed"))
        return err_set_field(e, ERR_INVALID, "entry.changes.value.statuses.status",
                             "unknown status %s", status);
    ev->message_id = arena_strdup(a, id);
    ev->status = arena_strdup(a, status);
    ev->key = arena_printf(a, "%s:%s", id, status);
    const char *to = e164(a, jstr(st, "recipient_id"));
    ev->from = to ? to : "";
    ev->timestamp_ms = ts_of(st);
    json_t *err0 = json_array_get(json_object_get(st, "errors"), 0);
    if (err0) {
        const char *title = jstr(err0, "title");
        json_t *code = json_object_get(err0, "code");
        ev->error =
            arena_printf(a, "%lld %s", (long long)json_integer_value(code), title ? title : "");
    }
    return 0;
}

int chat_parse_meta(const char *body, size_t len, int64_t now_ms, struct arena *a,
                    struct chat_event **events, size_t *n, struct err *e)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    if (!root)
        return err_set(e, ERR_INVALID, "malformed JSON at line %d column %d: %s", je.line,
                       je.column, je.text);
    arena_defer(a, decref, root);
    const char *object = jstr(root, "object");
    json_t *entries = json_object_get(root, "entry");
    if (!object || strcmp(object, "whatsapp_business_account") != 0 || !json_is_array(entries))
        return err_set_field(e, ERR_INVALID, "object",
                             "expected a WhatsApp Business Account webhook "
                             "(object \"whatsapp_business_account\" with entry[])");
    size_t cap = 0, used = 0, messages = 0;
    struct chat_event *out = NULL;
    size_t i, j, k;
    json_t *entry, *change, *item;
    json_array_foreach(entries, i,
                       entry){json_array_foreach(json_object_get(entry, "changes"), j, change){
        json_t *value = json_object_get(change, "value");
    const char *field = jstr(change, "field");
    if (!field || strcmp(field, "messages") != 0 || !json_is_object(value))
        continue; /* other subscriptions carry nothing for us */
    json_t *contacts = json_object_get(value, "contacts");
    json_array_foreach(json_object_get(value, "messages"), k, item)
    {
        if (++messages > CHAT_META_MAX_MESSAGES)
            return err_set_field(e, ERR_INVALID, "entry.changes.value.messages",
                                 "more than %d messages in one body", CHAT_META_MAX_MESSAGES);
        out = arena_grow(a, out, used, &cap, sizeof(*out));
        int rc = meta_message(item, contacts, a, &out[used], e);
        if (!rc)
            rc = check_time(out[used].timestamp_ms, now_ms, e);
        if (rc)
            return rc;
        used++;
    }
    json_array_foreach(json_object_get(value, "statuses"), k, item)
    {
        out = arena_grow(a, out, used, &cap, sizeof(*out));
        int rc = meta_status(item, a, &out[used], e);
        if (rc)
            return rc;
        used++;
    }
}
}
*events = out;
*n = used;
return 0;
}

/* ======================== VAPI ======================== */

static void body_key(const char *body, size_t len, struct arena *a, const char **key)
{
    unsigned char d[SEC_SHA256_LEN];
    char hex[SEC_HEX_SIZE(SEC_SHA256_LEN)];
    sec_sha256(d, body, len);
    sec_hex_encode(hex, sizeof(hex), d, sizeof(d), NULL);
    *key = arena_printf(a, "sha256:%s", hex);
}

int chat_parse_vapi(const char *body, size_t len, int64_t now_ms, struct arena *a,
                    struct chat_event **events, size_t *n, struct err *e)
{
    (void)now_ms;
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    if (!root)
        return err_set(e, ERR_INVALID, "malformed JSON at line %d column %d: %s", je.line,
                       je.column, je.text);
    arena_defer(a, decref, root);
    if (!json_is_object(root))
        return err_set(e, ERR_INVALID, "body must be a JSON object");
    *n = 0;
    struct chat_event *ev = arena_alloc(a, sizeof(*ev));
    ev->provider = "vapi";
    ev->text = ev->payload = ev->name = ev->status = ev->message_id = ev->error = ev->buyer_id = "";
    json_t *msg = json_object_get(root, "message");
    if (json_is_object(msg)) {
        /* a VAPI server message: act on final user transcripts, keep nothing else */
        const char *type = jstr(msg, "type");
        const char *role = jstr(msg, "role");
        const char *tt = jstr(msg, "transcriptType");
        if (!type)
            return err_set_field(e, ERR_INVALID, "message.type", "message.type is required");
        bool final_transcript =
            (strcmp(type, "transcript") == 0 && tt && strcmp(tt, "final") == 0) ||
            strcmp(type, "transcript[transcriptType=\"final\"]") == 0;
        if (!final_transcript || !role || strcmp(role, "user") != 0) {
            *events = NULL;
            return 0;
        }
        json_t *customer = json_object_get(msg, "customer");
        if (!customer)
            customer = json_object_get(json_object_get(msg, "call"), "customer");
        ev->from = e164(a, jstr(customer, "number"));
        const char *t = jstr(msg, "transcript");
        if (!ev->from || !t)
            return err_set_field(e, ERR_INVALID, "message.customer.number",
                                 "a transcript needs the caller's number and the transcript");
        ev->kind = "transcript";
        ev->type = "text";
        ev->text = arena_strdup(a, t);
        body_key(body, len, a, &ev->key);
    } else {
        /* the seed's shape: {"event_type","channel","from","text","metadata"} */
        const char *type = jstr(root, "event_type"), *from = jstr(root, "from");
        const char *text = jstr(root, "text");
        if (!type || strcmp(type, "message") != 0)
            return err_set_field(e, ERR_INVALID, "event_type", "event_type must be \"message\"");
        ev->from = e164(a, from);
        if (!ev->from)
            return err_set_field(e, ERR_INVALID, "from", "from must be a phone number");
        if (!text)
            return err_set_field(e, ERR_INVALID, "text", "text is required");
        ev->kind = "message";
        ev->type = "text";
        ev->text = arena_strdup(a, text);
        json_t *meta = json_object_get(root, "metadata");
        ev->buyer_id = dup_or_empty(a, jstr(meta, "buyer_id"));
        /* the seed's window ids look like "P45": keep the digits */
        const char *w = jstr(meta, "proposed_window_id");
        json_t *wi = json_object_get(meta, "proposed_window_id");
        if (json_is_integer(wi))
            ev->window_id = (int64_t)json_integer_value(wi);
        else if (w) {
            while (*w && (*w < '0' || *w > '9'))
                w++;
            int64_t v;
            if (*w && !str_to_i64(w, &v))
                ev->window_id = v;
        }
        const char *mid = jstr(root, "message_id");
        if (mid && *mid)
            ev->key = arena_strdup(a, mid);
        else
            body_key(body, len, a, &ev->key);
    }
    *events = ev;
    *n = 1;
    return 0;
}

/* ======================== storage ======================== */

static char *event_json(const struct chat_event *ev)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:f, s:f, s:I, s:s, "
                          "s:s, s:s, s:s, s:I}",
                          "kind", ev->kind, "from", ev->from, "name", ev->name, "type", ev->type,
                          "text", ev->text, "payload", ev->payload, "key", ev->key, "voice",
                          ev->voice, "has_location", ev->has_location, "lat", ev->lat, "lng",
                          ev->lng, "timestamp_ms", (json_int_t)ev->timestamp_ms, "status",
                          ev->status, "message_id", ev->message_id, "error", ev->error, "buyer_id",
                          ev->buyer_id, "window_id", (json_int_t)ev->window_id);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static int apply_status(struct db_conn *c, int64_t tenant, const struct chat_event *ev,
                        int64_t now_ms, struct err *e)
{
    int st = -1;
    for (int i = 0; notify_status_names[i]; i++) {
        if (strcmp(notify_status_names[i], ev->status) == 0)
            st = i;
    }
    if (st < 0)
        return 0;
    bool found;
    return notify_set_status_by_provider(c, tenant, ev->message_id, (enum notify_status)st,
                                         *ev->error ? ev->error : NULL, now_ms, &found, e);
}

int chat_inbound_store(struct db_conn *c, int64_t tenant, struct chat_event *events, size_t n,
                       int64_t now_ms, size_t *fresh, struct err *e)
{
    bool own;
    int rc = db_begin_own(c, &own, e);
    *fresh = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        struct chat_event *ev = &events[i];
        char *payload = event_json(ev);
        struct db_stmt *s;
        rc = db_prepare(c, &s,
                        "INSERT INTO chat_events (tenant_id, provider, event_key, kind, "
                        "from_phone, payload, received_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (tenant_id, provider, event_key) DO NOTHING RETURNING id",
                        e);
        if (!rc) {
            db_bind_i64(s, 1, tenant);
            db_bind_text(s, 2, ev->provider);
            db_bind_text(s, 3, ev->key);
            db_bind_text(s, 4, ev->kind);
            db_bind_text(s, 5, ev->from);
            db_bind_text(s, 6, payload);
            db_bind_time(s, 7, now_ms);
            int st = db_step(s, e);
            ev->pk = st == DB_ROW ? db_col_i64(s, 0) : 0;
            if (st == DB_ERROR)
                rc = e->code;
            db_stmt_done(s);
        }
        free(payload);
        if (rc || !ev->pk)
            continue; /* seen before: acknowledged, not processed again */
        (*fresh)++;
        db_on_commit_event(c, tenant, "message", ev->pk, "received");
        if (strcmp(ev->kind, "status") == 0) {
            rc = apply_status(c, tenant, ev, now_ms, e);
            continue;
        }
        rc = contacts_touch_inbound(c, tenant, ev->from, now_ms, e);
        char job_payload[64], key[64];
        snprintf(job_payload, sizeof(job_payload), "{\"event\":%lld}", (long long)ev->pk);
        snprintf(key, sizeof(key), "chat:%lld", (long long)ev->pk);
        struct job_spec spec = {.name = CHAT_JOB_PROCESS,
                                .payload_json = job_payload,
                                .tenant_id = tenant,
                                .unique_key = key,
                                .max_attempts = 5};
        int64_t job_id;
        bool dedup;
        if (!rc)
            rc = jobs_enqueue(c, &spec, now_ms, &job_id, &dedup, e);
    }
    return db_end_own(c, own, rc, e);
}

int chat_event_list(struct db_conn *c, int64_t tenant, int64_t after_pk, int limit, struct arena *a,
                    struct chat_event_row **rows, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc =
        db_prepare(c, &s,
                   "SELECT id, provider, kind, from_phone, payload, received_at, processed_at, "
                   "outcome FROM chat_events WHERE tenant_id = ? AND (? = 0 OR id < ?) "
                   "ORDER BY id DESC LIMIT ?",
                   e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, after_pk);
    db_bind_i64(s, 3, after_pk);
    db_bind_i64(s, 4, limit < 1 ? 50 : limit > 500 ? 500 : limit);
    size_t cap = 0, used = 0;
    struct chat_event_row *out = NULL;
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        out = arena_grow(a, out, used, &cap, sizeof(*out));
        struct chat_event_row *r = &out[used++];
        r->pk = db_col_i64(s, 0);
        r->provider = dup_or_empty(a, db_col_text(s, 1));
        r->kind = dup_or_empty(a, db_col_text(s, 2));
        r->from = dup_or_empty(a, db_col_text(s, 3));
        json_t *o = json_loads(db_col_text(s, 4) ? db_col_text(s, 4) : "{}", 0, NULL);
        r->type = dup_or_empty(a, jstr(o, "type"));
        r->text = dup_or_empty(a, jstr(o, "text"));
        if (!*r->text && strcmp(r->kind, "status") == 0)
            r->text = arena_printf(a, "%s → %s", jstr(o, "message_id") ? jstr(o, "message_id") : "",
                                   jstr(o, "status") ? jstr(o, "status") : "");
        json_decref(o);
        r->received_at = db_col_time(s, 5);
        r->processed_at = db_col_is_null(s, 6) ? 0 : db_col_time(s, 6);
        r->outcome = dup_or_empty(a, db_col_text(s, 7));
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return e->code;
    *rows = out;
    *n = used;
    return 0;
}

int chat_event_load(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                    struct chat_event *out, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s, "SELECT provider, payload FROM chat_events WHERE tenant_id = ? AND id = ?", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, pk);
    int st = db_step(s, e);
    json_t *o = NULL;
    const char *provider = "";
    if (st == DB_ROW) {
        provider = arena_strdup(a, db_col_text(s, 0));
        o = json_loads(db_col_text(s, 1), 0, NULL);
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return e->code;
    if (!o)
        return err_set(e, ERR_NOT_FOUND, "no chat event %lld", (long long)pk);
    arena_defer(a, decref, o);
    memset(out, 0, sizeof(*out));
    out->pk = pk;
    out->provider = provider;
    out->kind = dup_or_empty(a, jstr(o, "kind"));
    out->from = dup_or_empty(a, jstr(o, "from"));
    out->name = dup_or_empty(a, jstr(o, "name"));
    out->type = dup_or_empty(a, jstr(o, "type"));
    out->text = dup_or_empty(a, jstr(o, "text"));
    out->payload = dup_or_empty(a, jstr(o, "payload"));
    out->key = dup_or_empty(a, jstr(o, "key"));
    out->voice = json_is_true(json_object_get(o, "voice"));
    out->has_location = json_is_true(json_object_get(o, "has_location"));
    out->lat = json_number_value(json_object_get(o, "lat"));
    out->lng = json_number_value(json_object_get(o, "lng"));
    out->timestamp_ms = (int64_t)json_integer_value(json_object_get(o, "timestamp_ms"));
    out->status = dup_or_empty(a, jstr(o, "status"));
    out->message_id = dup_or_empty(a, jstr(o, "message_id"));
    out->error = dup_or_empty(a, jstr(o, "error"));
    out->buyer_id = dup_or_empty(a, jstr(o, "buyer_id"));
    out->window_id = (int64_t)json_integer_value(json_object_get(o, "window_id"));
    return 0;
}

int chat_event_done(struct db_conn *c, int64_t tenant, int64_t pk, const char *outcome,
                    int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE chat_events SET processed_at = ?, outcome = ? "
                        "WHERE tenant_id = ? AND id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_time(s, 1, now_ms);
    db_bind_text(s, 2, outcome);
    db_bind_i64(s, 3, tenant);
    db_bind_i64(s, 4, pk);
    rc = db_step(s, e) == DB_ERROR ? (int)e->code : 0;
    db_stmt_done(s);
    return rc;
}

int chat_sender_recent(struct db_conn *c, int64_t tenant, const char *phone, int64_t since_ms,
                       int64_t up_to_pk, int64_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT COUNT(*) FROM chat_events WHERE tenant_id = ? AND from_phone = ? "
                        "AND kind <> 'status' AND received_at >= ? AND id <= ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, phone);
    db_bind_time(s, 3, since_ms);
    db_bind_i64(s, 4, up_to_pk);
    bool found = false;
    *n = 0;
    return db_one_i64(s, n, &found, e);
}
