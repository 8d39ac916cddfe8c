/* SPDX-License-Identifier: MIT */
/*
 * The notification outbox in the database (see outbox.h): store a rendered message as pending
 * and enqueue its delivery job in the same transaction; list, read and advance statuses (never
 * backwards). Templates live in messages.c; delivery lives in the job handler, not here.
 * Table: `messages` in src/db/sql/<backend>/0004_flash.sql. Tests: tests/unit/domain/test_outbox.c.
 */
#include "domain/notify/outbox.h"
#include "db/store.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/xalloc.h"
#include "core/str.h"
#include "domain/webhooks/webhooks.h"
#include "jobs/queue.h"
#include "json/json.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define NOTIFY_BODY_MAX     2048 /* bytes of a rendered message */
#define NOTIFY_LIST_MAX     500
#define NOTIFY_LIST_DEFAULT 50
#define SQL_MAX             2048

const char *const notify_status_names[] = {"pending", "sent", "delivered", "read", "failed", NULL};

static const char *nz(const char *s)
{
    return s ? s : "";
}

static int name_index(const char *const *names, const char *s, int dflt)
{
    for (int i = 0; s && names[i]; i++) {
        if (str_eq(names[i], s))
            return i;
    }
    return dflt;
}

/* ======================== storing ======================== */

static int insert_message(struct db_conn *c, int64_t tenant, struct notify_message *m,
                          const char *body, int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO messages (tenant_id, recipient_kind, recipient_pk, "
                        "recipient_id, phone, language, kind, body, about_kind, about_pk, status, "
                        "created_at, updated_at, channel, email, subject) VALUES (?, ?, ?, ?, ?, "
                        "?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?) RETURNING id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, m->recipient_kind);
    db_bind_i64(s, 3, m->recipient_pk);
    db_bind_text(s, 4, nz(m->recipient_id));
    db_bind_text(s, 5, nz(m->phone));
    db_bind_text(s, 6, str_eq(m->language, "en") ? "en" : "tr");
    db_bind_text(s, 7, m->kind);
    db_bind_text(s, 8, body);
    db_bind_text(s, 9, m->about_pk > 0 ? nz(m->about_kind) : "");
    if (m->about_pk > 0)
        db_bind_i64(s, 10, m->about_pk);
    else
        db_bind_null(s, 10);
    db_bind_time(s, 11, now_ms);
    db_bind_time(s, 12, now_ms);
    db_bind_text(s, 13, str_eq(m->channel, "email") ? "email" : "whatsapp");
    db_bind_text(s, 14, nz(m->email));
    db_bind_text(s, 15, nz(m->subject));
    int st = db_step(s, e);
    if (st == DB_ROW)
        m->pk = db_col_i64(s, 0);
    else if (st == DB_DONE)
        rc = err_set(e, ERR_DB, "message insert returned no id");
    else
        rc = db_step_error(e);
    db_stmt_done(s);
    return rc;
}

static int enqueue_delivery(struct db_conn *c, int64_t tenant, int64_t pk, int64_t now_ms,
                            struct err *e)
{
    char payload[64], key[64];
    snprintf(payload, sizeof(payload), "{\"message\":%lld}", (long long)pk);
    snprintf(key, sizeof(key), "notify:%lld", (long long)pk);
    struct job_spec spec = {
        .name = NOTIFY_DELIVER_JOB,
        .payload_json = payload,
        .tenant_id = tenant,
        .unique_key = key,
    };
    return jobs_enqueue(c, &spec, now_ms, NULL, NULL, e);
}

int notify_enqueue(struct db_conn *c, int64_t tenant, const struct notify_kind *kind,
                   struct notify_message *m, const void *vars, int64_t now_ms, struct err *e)
{
    int rc = notify_kind_register(kind, e);
    if (rc)
        return rc;
    m->kind = kind->name;
    if (m->about_pk > 0 && !notify_kind_name_ok(m->about_kind))
        return err_set_field(e, ERR_INVALID, "about_kind",
                             "a message about something names its kind, like \"window\"");
    if (!str_eq(m->recipient_kind, "buyer") && !str_eq(m->recipient_kind, "seller") &&
        !str_eq(m->recipient_kind, "contact"))
        return err_set_field(e, ERR_INVALID, "recipient_kind",
                             "recipient_kind must be buyer, seller or contact");
    char rendered[NOTIFY_BODY_MAX];
    const char *body = m->body;
    if (vars && kind->render) {
        if (kind->render(m->language, vars, rendered, sizeof(rendered)) < 0)
            return err_set_field(e, ERR_TOO_LARGE, "body", "message longer than %d bytes",
                                 NOTIFY_BODY_MAX - 1);
        body = rendered;
    }
    if (!body || !*body)
        return err_set_field(e, ERR_INVALID, "body", "message body is empty");
    /* Message and job commit together; open a transaction when the caller has none. */
    bool own;
    rc = db_begin_own(c, &own, e);
    if (rc)
        return rc;
    rc = insert_message(c, tenant, m, body, now_ms, e);
    if (!rc)
        rc = enqueue_delivery(c, tenant, m->pk, now_ms, e);
    rc = db_end_own(c, own, rc, e);
    if (!rc)
        db_on_commit_event(c, tenant, "message", m->pk, m->kind);
    if (rc) {
        m->pk = 0;
        return rc;
    }
    m->status = NOTIFY_PENDING;
    m->error = "";
    m->provider_id = "";
    m->created_at = now_ms;
    m->updated_at = now_ms;
    return 0;
}

/* ======================== email ======================== */

static bool email_ok(const char *a)
{
    size_t n = a ? strlen(a) : 0;
    const char *at = n ? strchr(a, '@') : NULL;
    if (!at || at == a || !at[1] || n > 254 || strchr(at + 1, '@'))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)a[i];
        if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';')
            return false;
    }
    return true;
}

static bool filename_ok(const char *f)
{
    size_t n = f ? strlen(f) : 0;
    if (n < 1 || n > 100 || f[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = f[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int check_email(const struct notify_message *m, const char *subject,
                       const struct notify_attachment *att, size_t n_att, struct err *e)
{
    if (!email_ok(m->email))
        return err_set_field(e, ERR_INVALID, "email", "email must be one address like name@host");
    size_t sl = subject ? strlen(subject) : 0;
    if (!sl || sl > NOTIFY_SUBJECT_MAX || strpbrk(subject, "\r\n"))
        return err_set_field(e, ERR_INVALID, "subject",
                             "subject is required: one line of at most %d bytes",
                             NOTIFY_SUBJECT_MAX);
    if (n_att > NOTIFY_ATTACHMENTS_MAX)
        return err_set_field(e, ERR_INVALID, "attachments", "at most %d attachments",
                             NOTIFY_ATTACHMENTS_MAX);
    for (size_t i = 0; i < n_att; i++) {
        char field[64];
        if (!filename_ok(att[i].filename)) {
            snprintf(field, sizeof(field), "attachments[%zu].filename", i);
            return err_set_field(e, ERR_INVALID, field,
                                 "%s: letters, digits, '.', '_' and '-' only", field);
        }
        if (!att[i].content_type || !*att[i].content_type || strpbrk(att[i].content_type, "\r\n")) {
            snprintf(field, sizeof(field), "attachments[%zu].content_type", i);
            return err_set_field(e, ERR_INVALID, field, "%s is required", field);
        }
        if (att[i].len > NOTIFY_ATTACHMENT_MAX || (!att[i].data && att[i].len)) {
            snprintf(field, sizeof(field), "attachments[%zu].content", i);
            return err_set_field(e, ERR_TOO_LARGE, field, "%s is over %d bytes", field,
                                 NOTIFY_ATTACHMENT_MAX);
        }
    }
    return 0;
}

static int insert_attachment(struct db_conn *c, int64_t tenant, int64_t pk, size_t pos,
                             const struct notify_attachment *att, struct err *e)
{
    size_t cap = SEC_B64_SIZE(att->len);
    char *b64 = xmalloc(cap);
    int rc = sec_b64_encode(b64, cap, SEC_B64_STD, att->data ? att->data : "", att->len, e);
    struct db_stmt *s = NULL;
    if (!rc)
        rc = db_prepare(c, &s,
                        "INSERT INTO message_attachments (tenant_id, message_id, position, "
                        "filename, content_type, size, content) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        e);
    if (!rc) {
        db_bind_i64(s, 1, tenant);
        db_bind_i64(s, 2, pk);
        db_bind_i64(s, 3, (int64_t)pos);
        db_bind_text(s, 4, att->filename);
        db_bind_text(s, 5, att->content_type);
        db_bind_i64(s, 6, (int64_t)att->len);
        db_bind_text(s, 7, b64);
        rc = db_exec_write(s, NULL, e);
    }
    free(b64);
    return rc;
}

int notify_enqueue_email(struct db_conn *c, int64_t tenant, const struct notify_kind *kind,
                         struct notify_message *m, const void *vars, const char *subject,
                         const struct notify_attachment *att, size_t n_att, int64_t now_ms,
                         struct err *e)
{
    m->channel = "email";
    m->subject = subject;
    if (!m->recipient_kind)
        m->recipient_kind = "contact";
    int rc = check_email(m, subject, att, n_att, e);
    if (rc)
        return rc;
    bool own;
    rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = notify_enqueue(c, tenant, kind, m, vars, now_ms, e);
    for (size_t i = 0; !rc && i < n_att; i++)
        rc = insert_attachment(c, tenant, m->pk, i, &att[i], e);
    rc = db_end_own(c, own, rc, e);
    if (rc)
        m->pk = 0;
    return rc;
}

struct att_row {
    struct notify_attachment att;
    const char *b64;
};

static void read_attachment(struct db_stmt *s, struct arena *a, void *out)
{
    struct att_row *r = out;
    r->att.filename = db_col_str(s, 0, a);
    r->att.content_type = db_col_str(s, 1, a);
    r->b64 = db_col_str(s, 2, a);
}

int notify_attachments(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                       struct notify_attachment **out, size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT filename, content_type, content FROM message_attachments "
                        "WHERE tenant_id = ? AND message_id = ? ORDER BY position",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, pk);
    void *rows;
    size_t count;
    rc = db_list(s, read_attachment, sizeof(struct att_row), a, &rows, &count, e);
    if (rc)
        return rc;
    struct att_row *r = rows;
    struct notify_attachment *atts = arena_alloc(a, (count ? count : 1) * sizeof(*atts));
    for (size_t i = 0; !rc && i < count; i++) {
        size_t len = strlen(r[i].b64), got = 0;
        size_t cap = SEC_B64_DECODED_MAX(len) + 1;
        unsigned char *data = arena_alloc(a, cap);
        rc = sec_b64_decode(data, cap, &got, SEC_B64_STD, r[i].b64, len, e);
        atts[i] = r[i].att;
        atts[i].data = data;
        atts[i].len = got;
    }
    if (!rc) {
        *out = atts;
        *n = count;
    }
    return rc;
}

/* ======================== reading ======================== */

#define MESSAGE_COLS                                                                               \
    "id, recipient_kind, recipient_pk, recipient_id, phone, language, kind, body, about_kind, "    \
    "about_pk, status, error, provider_id, created_at, updated_at, channel, email, subject"

static void read_message(struct db_stmt *s, struct arena *a, void *out)
{
    struct notify_message *m = out;
    memset(m, 0, sizeof(*m));
    m->pk = db_col_i64(s, 0);
    m->recipient_kind = db_col_str(s, 1, a);
    m->recipient_pk = db_col_i64(s, 2);
    m->recipient_id = db_col_str(s, 3, a);
    m->phone = db_col_str(s, 4, a);
    m->language = db_col_str(s, 5, a);
    m->kind = db_col_str(s, 6, a);
    m->body = db_col_str(s, 7, a);
    m->about_kind = db_col_str(s, 8, a);
    m->about_pk = db_col_is_null(s, 9) ? 0 : db_col_i64(s, 9);
    m->status =
        (enum notify_status)name_index(notify_status_names, db_col_text(s, 10), NOTIFY_PENDING);
    m->error = db_col_str(s, 11, a);
    m->provider_id = db_col_str(s, 12, a);
    m->created_at = db_col_time(s, 13);
    m->updated_at = db_col_time(s, 14);
    m->channel = db_col_str(s, 15, a);
    m->email = db_col_str(s, 16, a);
    m->subject = db_col_str(s, 17, a);
}

int notify_list(struct db_conn *c, int64_t tenant, const struct notify_filter *f, struct arena *a,
                struct notify_message **rows, size_t *n, struct err *e)
{
    struct notify_filter none = {.status = -1};
    if (!f)
        f = &none;
    bool by_kind = f->kind != NULL;
    bool by_about = f->about_pk > 0 && f->about_kind;
    bool by_status = f->status >= 0 && f->status <= NOTIFY_FAILED;
    struct buf q;
    buf_init(&q, SQL_MAX);
    buf_appends(&q, "SELECT " MESSAGE_COLS " FROM messages WHERE tenant_id = ?");
    if (f->recipient_id)
        buf_appends(&q, " AND recipient_id = ?");
    if (by_kind)
        buf_appends(&q, " AND kind = ?");
    if (by_status)
        buf_appends(&q, " AND status = ?");
    if (by_about)
        buf_appends(&q, " AND about_kind = ? AND about_pk = ?");
    if (f->after_pk > 0)
        buf_appends(&q, " AND id < ?");
    buf_appends(&q, " ORDER BY id DESC LIMIT ?");
    struct db_stmt *s;
    int rc = db_prepare(c, &s, buf_str(&q), e);
    buf_release(&q);
    if (rc)
        return rc;
    int i = 1;
    db_bind_i64(s, i++, tenant);
    if (f->recipient_id)
        db_bind_text(s, i++, f->recipient_id);
    if (by_kind)
        db_bind_text(s, i++, f->kind);
    if (by_status)
        db_bind_text(s, i++, notify_status_names[f->status]);
    if (by_about) {
        db_bind_text(s, i++, f->about_kind);
        db_bind_i64(s, i++, f->about_pk);
    }
    if (f->after_pk > 0)
        db_bind_i64(s, i++, f->after_pk);
    db_bind_i64(s, i, db_page_limit(f->limit, NOTIFY_LIST_DEFAULT, NOTIFY_LIST_MAX));
    void *out;
    rc = db_list(s, read_message, sizeof(struct notify_message), a, &out, n, e);
    *rows = out;
    return rc;
}

int notify_get(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
               struct notify_message *out, struct err *e)
{
    bool found;
    int rc = db_get_one(c, "SELECT " MESSAGE_COLS " FROM messages WHERE tenant_id = ? AND id = ?",
                        tenant, NULL, pk, read_message, a, out, &found, e);
    if (!rc && !found)
        rc = err_set_field(e, ERR_NOT_FOUND, "message", "no message %lld in this tenant",
                           (long long)pk);
    return rc;
}

/* ======================== status ======================== */

/* The statuses a message may move to `to` from, as an SQL list; NULL for none. */
static const char *allowed_from(enum notify_status to)
{
    switch (to) {
    case NOTIFY_SENT:
        return "('pending')";
    case NOTIFY_DELIVERED:
        return "('pending', 'sent')";
    case NOTIFY_READ:
        return "('pending', 'sent', 'delivered')";
    case NOTIFY_FAILED:
        return "('pending', 'sent')";
    default:
        return NULL;
    }
}

/*
 * Provider status reports arrive out of order ("read" before "delivered"): a move that would
 * go backwards, or stay, is ignored and succeeds, so webhooks need not care.
 */
static int set_status(struct db_conn *c, int64_t tenant, int64_t pk, enum notify_status status,
                      const char *error, const char *provider_id, int64_t now_ms, int64_t *moved,
                      struct err *e)
{
    const char *from = allowed_from(status);
    int64_t changed = 0;
    if (from) {
        char sql[SQL_MAX];
        snprintf(sql, sizeof(sql),
                 "UPDATE messages SET status = ?, error = COALESCE(?, error), "
                 "provider_id = COALESCE(?, provider_id), updated_at = ? "
                 "WHERE tenant_id = ? AND id = ? AND status IN %s",
                 from);
        struct db_stmt *s;
        int rc = db_prepare(c, &s, sql, e);
        if (rc)
            return rc;
        db_bind_text(s, 1, notify_status_names[status]);
        db_bind_text(s, 2, error);
        db_bind_text(s, 3, provider_id);
        db_bind_time(s, 4, now_ms);
        db_bind_i64(s, 5, tenant);
        db_bind_i64(s, 6, pk);
        rc = db_exec_write(s, &changed, e);
        if (rc)
            return rc;
    }
    *moved = changed;
    if (changed) {
        db_on_commit_event(c, tenant, "message", pk, notify_status_names[status]);
        return 0;
    }
    struct arena a;
    arena_init(&a);
    struct notify_message m;
    int rc = notify_get(c, tenant, pk, &a, &m, e);
    arena_release(&a);
    return rc;
}

static json_t *iso(int64_t ms)
{
    if (!ms)
        return json_null();
    char ts[CLOCK_ISO_LEN];
    clock_format_iso(ms, ts);
    return json_string(ts);
}

json_t *notify_message_json(const struct notify_message *m)
{
    bool about = m->about_pk > 0 && m->about_kind && *m->about_kind;
    bool window = about && str_eq(m->about_kind, "window");
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:o, s:o}", "id",
        (json_int_t)m->pk, "recipient_kind", nz(m->recipient_kind), "recipient_id",
        nz(m->recipient_id), "language", nz(m->language), "kind", nz(m->kind), "body", nz(m->body),
        "about",
        about ? json_pack("{s:s, s:I}", "kind", m->about_kind, "id", (json_int_t)m->about_pk)
              : json_null(),
        "window_id", window ? json_integer(m->about_pk) : json_null(), "status",
        notify_status_names[(unsigned)m->status <= NOTIFY_FAILED ? m->status : 0], "error",
        nz(m->error), "channel", str_eq(m->channel, "email") ? "email" : "whatsapp", "created_at",
        iso(m->created_at), "updated_at", iso(m->updated_at));
    if (str_eq(m->channel, "email")) {
        json_object_set_new(o, "email", json_string(nz(m->email)));
        json_object_set_new(o, "subject", json_string(nz(m->subject)));
    }
    return o;
}

/* "message.failed" for outbound webhooks, in the transaction that marked it failed. */
static int emit_failed(struct db_conn *c, int64_t tenant, int64_t pk, int64_t now_ms, struct err *e)
{
    bool wanted = false;
    int rc = webhooks_wanted(c, tenant, "message.failed", &wanted, e);
    if (rc || !wanted)
        return rc;
    struct arena a;
    arena_init(&a);
    struct notify_message m;
    rc = notify_get(c, tenant, pk, &a, &m, e);
    if (!rc) {
        json_t *data = json_pack("{s:o}", "message", notify_message_json(&m));
        char *text = json_dump_compact(data);
        json_decref(data);
        rc = webhooks_emit(c, tenant, "message.failed", text, now_ms, e);
        free(text);
    }
    arena_release(&a);
    return rc;
}

int notify_set_status(struct db_conn *c, int64_t tenant, int64_t pk, enum notify_status status,
                      const char *error, const char *provider_id, int64_t now_ms, struct err *e)
{
    if ((unsigned)status > NOTIFY_FAILED)
        return err_set_field(e, ERR_INVALID, "status", "unknown message status");
    bool own = false;
    int64_t moved = 0;
    /* A failure is announced to webhook subscribers in the same transaction. */
    int rc = status == NOTIFY_FAILED ? db_begin_own(c, &own, e) : 0;
    if (!rc)
        rc = set_status(c, tenant, pk, status, error, provider_id, now_ms, &moved, e);
    if (!rc && moved && status == NOTIFY_FAILED)
        rc = emit_failed(c, tenant, pk, now_ms, e);
    if (status == NOTIFY_FAILED)
        rc = db_end_own(c, own, rc, e);
    return rc;
}

int notify_set_status_by_provider(struct db_conn *c, int64_t tenant, const char *provider_id,
                                  enum notify_status status, const char *error, int64_t now_ms,
                                  bool *found, struct err *e)
{
    *found = false;
    if (!provider_id || !*provider_id)
        return 0;
    int64_t pk = 0;
    int rc = db_find_pk(c, "SELECT id FROM messages WHERE tenant_id = ? AND provider_id = ?",
                        tenant, provider_id, &pk, e);
    if (rc)
        return rc;
    if (!pk)
        return 0;
    *found = true;
    return notify_set_status(c, tenant, pk, status, error, NULL, now_ms, e);
}
