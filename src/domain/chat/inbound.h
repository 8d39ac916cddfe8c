/* SPDX-License-Identifier: MIT */
/*
 * Inbound chat events: Meta WhatsApp Cloud API webhooks and VAPI messages (the seed's JSON
 * and VAPI server messages with voice transcripts) parsed into one normalised event shape, then
 * stored once each (deduplicated on the provider's id) in the same transaction that enqueues
 * their processing and records when the person last wrote (the 24-hour window). Delivery
 * statuses update the outbox at once. Signatures are checked by the caller on the raw body
 * before anything here runs. Tests: tests/unit/domain/test_inbound.c,
 * tests/integration/0005-whatsapp.c.
 */
#ifndef ICESHOP_DOMAIN_CHAT_INBOUND_H
#define ICESHOP_DOMAIN_CHAT_INBOUND_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHAT_JOB_PROCESS           "chat.process"       /* payload {"event": id} */
#define CHAT_STALE_AFTER_MS        (24LL * 3600 * 1000) /* older events are refused as stale */
#define CHAT_META_MAX_MESSAGES     100 /* messages in one Meta body; Meta sends small batches */
#define CHAT_SENDER_MAX_PER_MINUTE 20  /* messages from one number acted on per minute */

struct chat_event {
    int64_t pk;           /* set once stored */
    const char *provider; /* "meta" | "vapi" */
    const char *kind;     /* "message" | "status" | "transcript" */
    const char *key;      /* dedupe key: the provider's message id ("<id>:<status>") */
    const char *from;     /* E.164 with '+' */
    const char *name;     /* WhatsApp profile name, "" when unknown */
    const char *type;     /* message type: "text", "button", "interactive", "location",
                             "audio", "other" */
    const char *text;     /* text body, button title or transcript; "" when none */
    const char *payload;  /* button / list reply id, e.g. "join:42"; "" when none */
    bool has_location;
    double lat, lng;
    bool voice;           /* an audio message recorded as a voice note */
    int64_t timestamp_ms; /* when the person sent it; 0 when unknown */
    /* statuses */
    const char *status;     /* "sent" | "delivered" | "read" | "failed" */
    const char *message_id; /* the provider id of our outbound message */
    const char *error;      /* failure reason for "failed" */
    /* the seed's VAPI metadata */
    const char *buyer_id;
    int64_t window_id;
};

/*
 * Parse a Meta webhook body (object "whatsapp_business_account"). *events (arena) gets every
 * message and status in it. ERR_INVALID naming what is malformed; events older than
 * CHAT_STALE_AFTER_MS (or more than 5 minutes in the future) relative to now_ms, or with no
 * numeric timestamp, are ERR_INVALID naming "timestamp"; more than CHAT_META_MAX_MESSAGES
 * messages in one body are ERR_INVALID. Unsupported message types become type "other" rather than
 * errors.
 */
int chat_parse_meta(const char *body, size_t len, int64_t now_ms, struct arena *a,
                    struct chat_event **events, size_t *n, struct err *e);
/*
 * Parse a VAPI body: the seed's {"event_type","channel","from","text","metadata":{...}} or a
 * server message {"message":{"type":"transcript",...}}. Only final user transcripts become
 * events; other server messages yield no event (n = 0), not an error. Dedupe keys come from
 * "message_id" when given, else from the SHA-256 of the body.
 */
int chat_parse_vapi(const char *body, size_t len, int64_t now_ms, struct arena *a,
                    struct chat_event **events, size_t *n, struct err *e);

/*
 * Store events not seen before, in one transaction with: a processing job per new message or
 * transcript, the sender's last-inbound time, and status updates applied to the outbox.
 * *fresh gets how many were new (the rest were duplicates, acknowledged and ignored).
 */
int chat_inbound_store(struct db_conn *c, int64_t tenant, struct chat_event *events, size_t n,
                       int64_t now_ms, size_t *fresh, struct err *e);

/* A stored event as listed to operators. */
struct chat_event_row {
    int64_t pk;
    const char *provider;
    const char *kind;
    const char *from;
    const char *type;
    const char *text;
    int64_t received_at;
    int64_t processed_at; /* 0 while pending */
    const char *outcome;
};
/* Newest first; keyset pagination: pk < after_pk when after_pk > 0; limit 1..500. */
int chat_event_list(struct db_conn *c, int64_t tenant, int64_t after_pk, int limit, struct arena *a,
                    struct chat_event_row **rows, size_t *n, struct err *e);

/* Load a stored event (for the processing job). */
int chat_event_load(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                    struct chat_event *out, struct err *e);
int chat_event_done(struct db_conn *c, int64_t tenant, int64_t pk, const char *outcome,
                    int64_t now_ms, struct err *e);
/*
 * Messages and transcripts from `phone` received at or after since_ms, up to and including
 * event `up_to_pk` (so a burst is counted the same however its jobs interleave).
 */
int chat_sender_recent(struct db_conn *c, int64_t tenant, const char *phone, int64_t since_ms,
                       int64_t up_to_pk, int64_t *n, struct err *e);

#endif
