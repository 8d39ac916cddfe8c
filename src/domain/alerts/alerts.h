/* SPDX-License-Identifier: MIT */
/*
 * Operator alerts: something a person must fix (a provider rejected our credentials, a poller
 * keeps failing). Every alert belongs to one tenant; raising an alert of a kind that is already
 * open for that tenant bumps the open one (occurrences, last_seen_at, latest message) instead of
 * adding a row. Storage only through db.h; table `alerts` (migrations 0005 and 0008).
 * Tests: tests/unit/domain/test_alerts.c, tests/integration/0011-alerts.c.
 */
#ifndef ICESHOP_DOMAIN_ALERTS_ALERTS_H
#define ICESHOP_DOMAIN_ALERTS_ALERTS_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "db/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ALERT_KIND_MAX    64   /* bytes of a kind: [a-z0-9._-], e.g. "whatsapp.auth" */
#define ALERT_SOURCE_MAX  64   /* bytes of a source: who reported it, e.g. "whatsapp" */
#define ALERT_CODE_MAX    64   /* bytes of the source's own error code, e.g. "190" */
#define ALERT_MESSAGE_MAX 1024 /* longer messages are cut (at a UTF-8 boundary) */

#define ALERTS_LIST_DEFAULT 50
#define ALERTS_LIST_MAX     200

struct alert_spec {
    const char *kind;    /* required; the dedupe key within a tenant */
    const char *source;  /* required */
    const char *code;    /* NULL → "" */
    const char *message; /* required; may name provider detail, so it is shown to the tenant only */
};

/* One row; strings from the caller's arena; times in ms, 0 when NULL. */
struct alert {
    int64_t id;
    int64_t tenant_id;
    const char *kind;
    const char *source;
    const char *code;
    const char *message;
    int64_t occurrences;
    int64_t created_at_ms;
    int64_t last_seen_at_ms;
    int64_t resolved_at_ms;
};

/*
 * Raise an alert for `tenant` (> 0): a new open alert, or, when one of the same kind is open,
 * that one with occurrences + 1, last_seen_at = now and the new code and message. One
 * statement, so it joins the caller's transaction when one is open. *id (may be NULL) gets the
 * alert's id. Errors: ERR_INVALID naming the field (kind, source, code, message, tenant_id),
 * ERR_CONFLICT (unknown tenant), ERR_DB.
 */
int alerts_raise(struct db_conn *c, int64_t tenant, const struct alert_spec *spec, int64_t now_ms,
                 int64_t *id, struct err *e);

/*
 * Resolve alert `id` of `tenant`. Resolving a resolved alert changes nothing and is not an
 * error. ERR_NOT_FOUND (field "id") when the tenant has no such alert.
 */
int alerts_resolve(struct db_conn *c, int64_t tenant, int64_t id, int64_t now_ms, struct err *e);

/* Resolve the open alert of `kind` for `tenant`, if any; *resolved (may be NULL) tells. */
int alerts_resolve_kind(struct db_conn *c, int64_t tenant, const char *kind, int64_t now_ms,
                        bool *resolved, struct err *e);

enum alert_state { ALERTS_ANY = 0, ALERTS_OPEN, ALERTS_RESOLVED };

struct alert_filter {
    enum alert_state state;
    /*
     * Keyset pagination, newest first: page.after = the last id seen (0 = from the newest);
     * page.limit 0 → ALERTS_LIST_DEFAULT, capped at ALERTS_LIST_MAX.
     */
    struct page page;
};

/*
 * The tenant's alerts, newest first (id desc). *rows is an array of *n rows from `a`.
 * `f` may be NULL. Errors: ERR_DB.
 */
int alerts_list(struct db_conn *c, int64_t tenant, const struct alert_filter *f, struct arena *a,
                struct alert **rows, size_t *n, struct err *e);

/* How many alerts of the tenant are open. */
int alerts_count_open(struct db_conn *c, int64_t tenant, int64_t *open, struct err *e);

#endif
