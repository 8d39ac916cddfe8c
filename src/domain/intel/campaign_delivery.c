/* SPDX-License-Identifier: MIT */
/* Delivering a planned campaign and measuring its uplift: see campaign_delivery.h. */
#include "domain/intel/campaign_delivery.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "db/store.h"
#include "domain/commerce/commerce.h"
#include "domain/intel/intel_config.h"
#include "domain/intel/uplift.h"
#include "domain/notify/contacts.h"
#include "domain/notify/outbox.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "json/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define LANE   "slow"
#define DAY_MS (24 * 3600 * 1000LL)

/* ------------------------------------------------------------------------ the message kind */

/* What a campaign.offer message says; `message` (the operator's own text) wins when set. */
struct offer_vars {
    const char *type; /* DISCOUNT, THRESHOLD, GIFT, BUNDLE */
    int discount;     /* percent, 0 = none */
    const char *target_text;
    const char *message;
};

static int render(const char *language, const void *vars, char *out, size_t n)
{
    const struct offer_vars *v = vars;
    if (!v || !v->type)
        return -1;
    bool en = language && strcmp(language, "en") == 0;
    const char *t = v->target_text ? v->target_text : "";
    int len;
    if (v->message && v->message[0])
        len = snprintf(out, n, "%s", v->message);
    else if (str_eq(v->type, "THRESHOLD") && t[0] && v->discount > 0)
        len = en ? snprintf(out, n, "Just for you: %d%% off when your order reaches %s.",
                            v->discount, t)
                 : snprintf(out, n, "Size özel: %s ve üzeri siparişinize %%%d indirim.", t,
                            v->discount);
    else if (str_eq(v->type, "THRESHOLD") && t[0])
        len = en ? snprintf(out, n, "Just for you: a reward when your order reaches %s.", t)
                 : snprintf(out, n, "Size özel: %s ve üzeri siparişinize hediye.", t);
    else if (str_eq(v->type, "GIFT"))
        len = en ? snprintf(out, n, "Just for you: a gift awaits you with your next order.")
                 : snprintf(out, n, "Size özel: bir sonraki siparişinizde hediyeniz var.");
    else if (str_eq(v->type, "BUNDLE") && v->discount > 0)
        len = en ? snprintf(out, n, "Just for you: %d%% off a bundle of your favourites.",
                            v->discount)
                 : snprintf(out, n, "Size özel: sevdiğiniz ürünlerden oluşan pakette %%%d indirim.",
                            v->discount);
    else if (v->discount > 0)
        len = en ? snprintf(out, n, "Just for you: %d%% off your next order.", v->discount)
                 : snprintf(out, n, "Size özel: bir sonraki siparişinizde %%%d indirim.",
                            v->discount);
    else
        len = en ? snprintf(out, n, "Just for you: a special offer on your next order.")
                 : snprintf(out, n, "Size özel: bir sonraki siparişinize özel bir fırsat.");
    return len < 0 || (size_t)len >= n ? -1 : len;
}

const struct notify_kind campaign_msg_offer = {
    .name = "campaign.offer",
    .purpose = NOTIFY_MARKETING,
    .template_name = "campaign_offer",
    .render = render,
};

/* ------------------------------------------------------------------------------- reading */

static json_t *iso(int64_t ms)
{
    char ts[CLOCK_ISO_LEN];
    clock_format_iso(ms, ts);
    return json_string(ts);
}

struct campaign_ref {
    int64_t pk;
    const char *kind;
    int64_t customer_pk;
    json_t *campaign; /* campaign_json, owned */
};

static int campaign_load(struct db_conn *c, int64_t tenant, const char *id, struct arena *a,
                         struct campaign_ref *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT id, kind, coalesce(customer_id, 0), campaign_json FROM campaigns "
                        "WHERE tenant_id = ? AND public_id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, id);
    int st = db_step(s, e);
    if (st == DB_ROW) {
        out->pk = db_col_i64(s, 0);
        out->kind = db_col_dup(s, 1, a);
        out->customer_pk = db_col_i64(s, 2);
        out->campaign = json_loads(db_col_text(s, 3) ? db_col_text(s, 3) : "", 0, NULL);
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    if (st != DB_ROW)
        return err_set_field(e, ERR_NOT_FOUND, "id", "no campaign %s in this tenant", id);
    if (!json_is_object(out->campaign)) {
        json_decref(out->campaign);
        out->campaign = NULL;
        return err_set(e, ERR_INTERNAL, "campaign %s has no stored plan", id);
    }
    return 0;
}

#define SEND_COLS                                                                                  \
    "m.public_id, m.kind, s.channel, s.status, s.offer_type, s.proposal, s.holdout_pct, "          \
    "s.attribution_days, s.discount, s.audience, s.treatment, s.holdout, s.queued, s.sent_at, "    \
    "s.id, s.target_text, s.message "                                                              \
    "FROM campaign_sends s JOIN campaigns m ON m.id = s.campaign_id "

static void read_send(struct db_stmt *s, struct arena *a, struct campaign_send_row *o)
{
    o->campaign_id = db_col_dup(s, 0, a);
    o->kind = db_col_dup(s, 1, a);
    o->channel = db_col_dup(s, 2, a);
    o->status = db_col_dup(s, 3, a);
    o->offer_type = db_col_dup(s, 4, a);
    o->proposal = (int)db_col_i64(s, 5);
    o->holdout_pct = (int)db_col_i64(s, 6);
    o->attribution_days = (int)db_col_i64(s, 7);
    o->discount = (int)db_col_i64(s, 8);
    o->audience = db_col_i64(s, 9);
    o->treatment = db_col_i64(s, 10);
    o->holdout = db_col_i64(s, 11);
    o->queued = db_col_i64(s, 12);
    o->sent_at_ms = db_col_time(s, 13);
}

int campaign_send_get(struct db_conn *c, int64_t tenant, const char *campaign_id, struct arena *a,
                      struct campaign_send_row *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "SELECT " SEND_COLS "WHERE s.tenant_id = ? AND m.public_id = ?", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, campaign_id);
    int st = db_step(s, e);
    if (st == DB_ROW)
        read_send(s, a, out);
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    if (st != DB_ROW) {
        /* a campaign of this tenant that was not sent, or none at all */
        int64_t pk = 0;
        rc = db_find_pk(c, "SELECT id FROM campaigns WHERE tenant_id = ? AND public_id = ?", tenant,
                        campaign_id, &pk, e);
        if (rc)
            return rc;
        return err_set_field(e, ERR_NOT_FOUND, "id",
                             pk ? "campaign %s was not sent" : "no campaign %s in this tenant",
                             campaign_id);
    }
    return 0;
}

json_t *campaign_send_json(const struct campaign_send_row *s)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:o}",
                     "campaign_id", s->campaign_id, "kind", s->kind, "channel", s->channel,
                     "status", s->status, "proposal", s->proposal, "offer_type", s->offer_type,
                     "discount", s->discount, "holdout_pct", s->holdout_pct, "attribution_days",
                     s->attribution_days, "audience", (json_int_t)s->audience, "treatment",
                     (json_int_t)s->treatment, "holdout", (json_int_t)s->holdout, "queued",
                     (json_int_t)s->queued, "sent_at", iso(s->sent_at_ms));
}

/* ------------------------------------------------------------------------------- sending */

struct member {
    int64_t pk;
    const char *public_id;
    const char *birth_date; /* "YYYY-MM-DD" or NULL */
    const char *city_name, *city_id;
    unsigned char key[SEC_SHA256_LEN];
};

/* The offer a send makes: the personal campaign, or the chosen company proposal. */
struct offer {
    const char *type;
    int discount;
    char target_text[32];
    json_t *profile; /* company: targetProfile (borrowed) */
};

static int offer_of(const struct campaign_ref *ref, int proposal, struct offer *o, struct err *e)
{
    memset(o, 0, sizeof(*o));
    json_t *src = ref->campaign;
    if (str_eq(ref->kind, "company")) {
        json_t *ps = json_object_get(ref->campaign, "proposals");
        if (proposal < 0 || (size_t)proposal >= json_array_size(ps))
            return err_set_field(e, ERR_INVALID, "proposal", "proposal must be between 0 and %zu",
                                 json_array_size(ps) ? json_array_size(ps) - 1 : 0);
        src = json_array_get(ps, (size_t)proposal);
        o->profile = json_object_get(src, "targetProfile");
        o->type = json_string_value(json_object_get(src, "type"));
    } else {
        if (proposal != 0)
            return err_set_field(e, ERR_INVALID, "proposal",
                                 "a personal campaign has no proposals to choose from");
        o->type = json_string_value(json_object_get(src, "campaignType"));
    }
    if (!o->type)
        o->type = "DISCOUNT";
    json_t *d = json_object_get(src, "discountPercent");
    if (json_is_number(d) && json_number_value(d) > 0 && json_number_value(d) <= 100)
        o->discount = (int)json_number_value(d);
    json_t *t = json_object_get(src, "targetAmount");
    if (json_is_number(t) && json_number_value(t) > 0)
        snprintf(o->target_text, sizeof(o->target_text), "%.2f", json_number_value(t));
    return 0;
}

/* Whole years between a "YYYY-MM-DD" birth date and now; -1 when the date does not parse. */
static int age_years(const char *birth, int64_t now_ms)
{
    int y, m, d;
    if (!birth || sscanf(birth, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return -1;
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    int age = tm.tm_year + 1900 - y;
    if (tm.tm_mon + 1 < m || (tm.tm_mon + 1 == m && tm.tm_mday < d))
        age--;
    return age;
}

/* Whether a company member fits targetProfile's ageRange and cities (see the header). */
static bool fits_profile(const struct member *m, json_t *profile, int64_t now_ms)
{
    json_t *ages = json_object_get(profile, "ageRange");
    int age = age_years(m->birth_date, now_ms);
    if (age >= 0 && json_array_size(ages) == 2) {
        json_t *lo = json_array_get(ages, 0), *hi = json_array_get(ages, 1);
        if (json_is_number(lo) && age < json_number_value(lo))
            return false;
        if (json_is_number(hi) && age > json_number_value(hi))
            return false;
    }
    json_t *cities = json_object_get(profile, "cities");
    if (json_array_size(cities) == 0)
        return true;
    size_t i;
    json_t *v;
    json_array_foreach(cities, i, v)
    {
        const char *cname = json_string_value(v);
        if (cname && ((m->city_name && strcasecmp(cname, m->city_name) == 0) ||
                      (m->city_id && strcmp(cname, m->city_id) == 0)))
            return true;
    }
    return false;
}

/* Reachable on `channel` with marketing consent; company: the proposal's tiers too. */
static int audience_load(struct db_conn *c, int64_t tenant, const struct campaign_ref *ref,
                         const struct offer *o, const char *channel, int64_t now_ms,
                         struct arena *a, struct member **out, size_t *n, struct err *e)
{
    bool company = str_eq(ref->kind, "company");
    const char *reach = str_eq(channel, "email") ? "cu.email IS NOT NULL AND cu.email <> '' "
                                                 : "cu.phone IS NOT NULL AND cu.phone <> '' ";
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "SELECT cu.customer_id, cu.public_id, cu.birth_date, ci.name, ci.public_id "
             "FROM customer cu LEFT JOIN city ci ON ci.city_id = cu.city_id "
             "%s"
             "WHERE cu.tenant_id = ? AND cu.is_active = (1 = 1) AND %s"
             "AND " CONTACTS_PERSON_MARKETING_SQL("cu.tenant_id", "cu.phone",
                                                  "cu.email") " = 1 "
                                                              "%s ORDER BY cu.customer_id",
             company ? "JOIN profile_current pc ON pc.tenant_id = cu.tenant_id "
                       "JOIN customer_budget_profile b ON b.batch_id = pc.batch_id "
                       "AND b.customer_id = cu.customer_id "
                       "JOIN customer_loyalty_profile l ON l.batch_id = pc.batch_id "
                       "AND l.customer_id = cu.customer_id "
                     : "",
             reach,
             company ? "AND b.budget_tier = ? AND l.loyalty_tier = ?" : "AND cu.customer_id = ?");
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    if (company) {
        const char *bt = json_string_value(json_object_get(o->profile, "budgetTier"));
        const char *lt = json_string_value(json_object_get(o->profile, "loyaltyTier"));
        db_bind_text(s, 2, bt ? bt : "");
        db_bind_text(s, 3, lt ? lt : "");
    } else {
        db_bind_i64(s, 2, ref->customer_pk);
    }
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        struct member m = {.pk = db_col_i64(s, 0),
                           .public_id = db_col_dup(s, 1, a),
                           .birth_date = db_col_dup(s, 2, a),
                           .city_name = db_col_dup(s, 3, a),
                           .city_id = db_col_dup(s, 4, a)};
        if (company && !fits_profile(&m, o->profile, now_ms))
            continue;
        *out = arena_grow(a, *out, *n, &cap, sizeof(**out));
        (*out)[(*n)++] = m;
    }
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

static int cmp_key(const void *x, const void *y)
{
    return memcmp(((const struct member *)x)->key, ((const struct member *)y)->key, SEC_SHA256_LEN);
}

/* Sort by SHA-256(campaign id ":" customer id); the first `holdout` are kept out. */
static void split(const char *campaign_id, struct member *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct sec_sha256_state st;
        sec_sha256_init(&st);
        sec_sha256_update(&st, campaign_id, strlen(campaign_id));
        sec_sha256_update(&st, ":", 1);
        sec_sha256_update(&st, m[i].public_id, strlen(m[i].public_id));
        sec_sha256_final(&st, m[i].key);
    }
    qsort(m, n, sizeof(*m), cmp_key);
}

static int enqueue_run(struct db_conn *c, int64_t tenant, int64_t send_pk, int64_t queued,
                       int64_t now_ms, struct err *e)
{
    char payload[64], key[96];
    snprintf(payload, sizeof(payload), "{\"send\":%lld}", (long long)send_pk);
    snprintf(key, sizeof(key), "%s:%lld:%lld", CAMPAIGN_SEND_JOB, (long long)send_pk,
             (long long)queued);
    struct job_spec spec = {
        .name = CAMPAIGN_SEND_JOB, .payload_json = payload, .tenant_id = tenant, .unique_key = key};
    return jobs_enqueue(c, &spec, now_ms, NULL, NULL, e);
}

static int insert_send(struct db_conn *c, int64_t tenant, const struct campaign_ref *ref,
                       const struct campaign_send_req *req, const char *channel,
                       const struct offer *o, int holdout_pct, int attribution_days, size_t n,
                       size_t n_hold, int64_t now_ms, int64_t *send_pk, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO campaign_sends (tenant_id, campaign_id, channel, proposal, "
                        "offer_type, discount, target_text, message, holdout_pct, "
                        "attribution_days, audience, treatment, holdout, queued, status, sent_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'sending', ?) "
                        "RETURNING id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, ref->pk);
    db_bind_text(s, 3, channel);
    db_bind_i64(s, 4, req->proposal);
    db_bind_text(s, 5, o->type);
    db_bind_i64(s, 6, o->discount);
    db_bind_text(s, 7, o->target_text);
    db_bind_text(s, 8, req->message ? req->message : "");
    db_bind_i64(s, 9, holdout_pct);
    db_bind_i64(s, 10, attribution_days);
    db_bind_i64(s, 11, (int64_t)n);
    db_bind_i64(s, 12, (int64_t)(n - n_hold));
    db_bind_i64(s, 13, (int64_t)n_hold);
    db_bind_time(s, 14, now_ms);
    bool found = false;
    rc = db_one_i64(s, send_pk, &found, e);
    if (!rc && !found)
        rc = err_set(e, ERR_INTERNAL, "campaign send was not stored");
    return rc;
}

static int insert_recipients(struct db_conn *c, int64_t tenant, int64_t send_pk,
                             const struct member *m, size_t n, size_t n_hold, struct err *e)
{
    struct db_stmt *s = NULL;
    int rc = db_prepare(c, &s,
                        "INSERT INTO campaign_recipients (send_id, tenant_id, customer_id, arm) "
                        "VALUES (?, ?, ?, ?)",
                        e);
    for (size_t i = 0; !rc && i < n; i++) {
        db_bind_i64(s, 1, send_pk);
        db_bind_i64(s, 2, tenant);
        db_bind_i64(s, 3, m[i].pk);
        db_bind_text(s, 4, i < n_hold ? "holdout" : "treatment");
        if (db_step(s, e) == DB_ERROR)
            rc = db_step_error(e);
    }
    if (s)
        db_stmt_done(s);
    return rc;
}

/* Characters (code points) of valid UTF-8. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

int campaign_send(struct db_conn *c, int64_t tenant, const struct campaign_send_req *req,
                  int64_t now_ms, struct arena *a, struct campaign_send_row *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    const char *channel = req->channel ? req->channel : "whatsapp";
    if (!str_eq(channel, "whatsapp") && !str_eq(channel, "email"))
        return err_set_field(e, ERR_INVALID, "channel", "channel must be whatsapp or email");
    if (req->message && (!str_utf8_valid(req->message, strlen(req->message)) ||
                         utf8_chars(req->message) > CAMPAIGN_MESSAGE_MAX))
        return err_set_field(e, ERR_INVALID, "message", "message must be at most %d characters",
                             CAMPAIGN_MESSAGE_MAX);
    if (req->holdout_pct < -1 || req->holdout_pct > 50)
        return err_set_field(e, ERR_INVALID, "holdout_pct", "holdout_pct must be between 0 and 50");
    struct campaign_ref ref;
    int rc = campaign_load(c, tenant, req->campaign_id, a, &ref, e);
    if (rc)
        return rc;
    bool company = str_eq(ref.kind, "company");
    struct intel_config cfg;
    struct offer o;
    struct member *m = NULL;
    size_t n = 0;
    rc = intel_config_get(c, tenant, &cfg, e);
    if (!rc && !company && req->holdout_pct > 0)
        rc = err_set_field(e, ERR_INVALID, "holdout_pct",
                           "a personal campaign goes to its one customer: no holdout");
    if (!rc)
        rc = offer_of(&ref, req->proposal, &o, e);
    if (!rc)
        rc = audience_load(c, tenant, &ref, &o, channel, now_ms, a, &m, &n, e);
    if (!rc && n == 0)
        rc = err_set_field(e, ERR_INVALID, "audience",
                           company ? "no customer fits the proposal's targetProfile, can be "
                                     "reached by %s and accepts marketing"
                                   : "the customer cannot be reached by %s or refused marketing",
                           channel);
    int holdout_pct = !company ? 0 : req->holdout_pct >= 0 ? req->holdout_pct : cfg.holdout_pct;
    size_t n_hold = (size_t)floor((double)n * holdout_pct / 100.0 + 0.5);
    if (!rc)
        split(req->campaign_id, m, n);
    int64_t send_pk = 0;
    if (!rc)
        rc = db_begin(c, e);
    if (!rc) {
        rc = insert_send(c, tenant, &ref, req, channel, &o, holdout_pct, cfg.attribution_days, n,
                         n_hold, now_ms, &send_pk, e);
        if (rc == ERR_CONFLICT)
            err_replace(e, ERR_CONFLICT, "id", "campaign %s was sent already", req->campaign_id);
        if (!rc)
            rc = insert_recipients(c, tenant, send_pk, m, n, n_hold, e);
        if (!rc && n > n_hold)
            rc = enqueue_run(c, tenant, send_pk, 0, now_ms, e);
        if (!rc && n == n_hold) {
            struct db_stmt *s;
            rc = db_prepare(c, &s, "UPDATE campaign_sends SET status = 'sent' WHERE id = ?", e);
            if (!rc) {
                db_bind_i64(s, 1, send_pk);
                rc = db_exec_write(s, NULL, e);
            }
        }
        if (rc)
            db_rollback(c);
        else
            rc = db_commit(c, e);
    }
    json_decref(ref.campaign);
    if (rc)
        return rc;
    log_info("msg=\"campaign sent\" tenant=%lld campaign=%s audience=%zu holdout=%zu channel=%s",
             (long long)tenant, req->campaign_id, n, n_hold, channel);
    return campaign_send_get(c, tenant, req->campaign_id, a, out, e);
}

/* ---------------------------------------------------------------------------------- the job */

/* One run: up to CAMPAIGN_SEND_CHUNK treatment messages, then the next run or "sent". */
static int send_run(struct job_ctx *ctx, struct err *e)
{
    json_t *p = json_loads(ctx->payload, 0, NULL);
    int64_t send_pk = json_integer_value(json_object_get(p, "send"));
    json_decref(p);
    struct db_conn *c = ctx->conn;
    struct arena *a = ctx->arena;
    struct db_stmt *s;
    int rc =
        db_prepare(c, &s,
                   "SELECT s.channel, s.offer_type, s.discount, s.target_text, s.message, "
                   "s.queued, s.status FROM campaign_sends s WHERE s.tenant_id = ? AND s.id = ?",
                   e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, ctx->tenant_id);
    db_bind_i64(s, 2, send_pk);
    int st = db_step(s, e);
    struct offer_vars v = {0};
    const char *channel = NULL, *status = NULL;
    int64_t queued = 0;
    if (st == DB_ROW) {
        channel = db_col_dup(s, 0, a);
        v.type = db_col_dup(s, 1, a);
        v.discount = (int)db_col_i64(s, 2);
        v.target_text = db_col_dup(s, 3, a);
        v.message = db_col_dup(s, 4, a);
        queued = db_col_i64(s, 5);
        status = db_col_dup(s, 6, a);
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    if (st != DB_ROW || str_eq(status, "sent"))
        return 0; /* erased with its tenant, or finished by an earlier run */

    rc = db_prepare(c, &s,
                    "SELECT r.customer_id, cu.public_id, cu.phone, cu.email, "
                    "COALESCE((SELECT ct.language FROM contacts ct WHERE ct.tenant_id = "
                    "cu.tenant_id AND ct.phone = cu.phone), 'tr') "
                    "FROM campaign_recipients r JOIN customer cu ON cu.customer_id = r.customer_id "
                    "WHERE r.send_id = ? AND r.arm = 'treatment' AND r.message_id IS NULL "
                    "ORDER BY r.customer_id LIMIT ?",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, send_pk);
    db_bind_i64(s, 2, CAMPAIGN_SEND_CHUNK);
    struct target {
        int64_t pk;
        const char *id, *phone, *email, *language;
    } *t = arena_alloc(a, CAMPAIGN_SEND_CHUNK * sizeof(*t));
    size_t n = 0;
    while ((st = db_step(s, e)) == DB_ROW && n < CAMPAIGN_SEND_CHUNK) {
        t[n].pk = db_col_i64(s, 0);
        t[n].id = db_col_dup(s, 1, a);
        t[n].phone = db_col_dup(s, 2, a);
        t[n].email = db_col_dup(s, 3, a);
        t[n].language = db_col_dup(s, 4, a);
        n++;
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    for (size_t i = 0; !rc && i < n; i++) {
        bool email = str_eq(channel, "email");
        struct notify_message msg = {.recipient_kind = "contact",
                                     .recipient_id = email ? t[i].email : t[i].phone,
                                     .phone = email ? "" : t[i].phone,
                                     .email = email ? t[i].email : "",
                                     .language = t[i].language,
                                     .about_kind = "campaign",
                                     .about_pk = send_pk,
                                     .channel = channel};
        if (email) {
            bool en = str_eq(t[i].language, "en");
            rc = notify_enqueue_email(c, ctx->tenant_id, &campaign_msg_offer, &msg, &v,
                                      en ? "An offer just for you" : "Size özel bir fırsat", NULL,
                                      0, ctx->now_ms, e);
        } else {
            rc = notify_enqueue(c, ctx->tenant_id, &campaign_msg_offer, &msg, &v, ctx->now_ms, e);
        }
        if (rc)
            break;
        rc = db_prepare(c, &s,
                        "UPDATE campaign_recipients SET message_id = ? WHERE send_id = ? AND "
                        "customer_id = ?",
                        e);
        if (!rc) {
            db_bind_i64(s, 1, msg.pk);
            db_bind_i64(s, 2, send_pk);
            db_bind_i64(s, 3, t[i].pk);
            rc = db_exec_write(s, NULL, e);
        }
    }
    if (rc)
        return rc;
    queued += (int64_t)n;
    bool more = n == CAMPAIGN_SEND_CHUNK;
    rc = db_prepare(
        c, &s, "UPDATE campaign_sends SET queued = ?, status = ? WHERE tenant_id = ? AND id = ?",
        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, queued);
    db_bind_text(s, 2, more ? "sending" : "sent");
    db_bind_i64(s, 3, ctx->tenant_id);
    db_bind_i64(s, 4, send_pk);
    rc = db_exec_write(s, NULL, e);
    if (!rc && more)
        rc = enqueue_run(c, ctx->tenant_id, send_pk, queued, ctx->now_ms, e);
    return rc;
}

int campaign_delivery_jobs_register(struct job_registry *reg, struct err *e)
{
    int rc = notify_kind_register(&campaign_msg_offer, e);
    if (!rc)
        rc = job_registry_add(reg, CAMPAIGN_SEND_JOB, send_run, NULL, JOB_IN_TX, e);
    if (!rc)
        rc = job_registry_set_lane(reg, CAMPAIGN_SEND_JOB, LANE, e);
    return rc;
}

/* ------------------------------------------------------------------------------ measuring */

/* Per currency: each arm's converted customers and the sums of their revenues. */
struct per_currency {
    char currency[8];
    struct uplift_arm arm[2]; /* [0] treatment, [1] holdout */
};

static json_t *arm_json(const struct uplift_arm *a, double rate, double per_cust)
{
    return json_pack("{s:I, s:I, s:f, s:f, s:f}", "customers", (json_int_t)a->customers,
                     "converted", (json_int_t)a->converted, "conversion_rate", rate, "revenue",
                     a->revenue, "revenue_per_customer", per_cust);
}

static json_t *diff_json(const struct uplift_diff *d)
{
    if (!d->defined)
        return json_null();
    return json_pack("{s:f, s:f, s:f}", "estimate", d->estimate, "ci95_low", d->low, "ci95_high",
                     d->high);
}

int campaign_uplift(struct db_conn *c, int64_t tenant, const char *campaign_id, int64_t now_ms,
                    struct arena *a, json_t **out, struct err *e)
{
    *out = NULL;
    struct campaign_send_row send;
    int rc = campaign_send_get(c, tenant, campaign_id, a, &send, e);
    if (rc)
        return rc;
    int64_t from = send.sent_at_ms, to = from + (int64_t)send.attribution_days * DAY_MS;
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "SELECT r.arm, r.customer_id, o.currency, sum(o.total_amount) "
                    "FROM campaign_recipients r JOIN campaign_sends cs ON cs.id = r.send_id "
                    "JOIN campaigns m ON m.id = cs.campaign_id "
                    "JOIN orders o ON o.tenant_id = r.tenant_id AND o.customer_id = r.customer_id "
                    "WHERE r.tenant_id = ? AND m.public_id = ? AND o.created_at >= ? "
                    "AND o.created_at < ? AND o.status NOT IN " COMMERCE_ORDER_NOT_SPEND_SQL " "
                    "GROUP BY r.arm, r.customer_id, o.currency ORDER BY o.currency",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, campaign_id);
    db_bind_time(s, 3, from);
    db_bind_time(s, 4, to);
    struct per_currency *pc = NULL;
    size_t npc = 0, cap = 0;
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        const char *cur = db_col_text(s, 2) ? db_col_text(s, 2) : "";
        if (npc == 0 || strcmp(pc[npc - 1].currency, cur) != 0) {
            pc = arena_grow(a, pc, npc, &cap, sizeof(*pc));
            memset(&pc[npc], 0, sizeof(pc[npc]));
            snprintf(pc[npc].currency, sizeof(pc[npc].currency), "%s", cur);
            pc[npc].arm[0].customers = send.treatment;
            pc[npc].arm[1].customers = send.holdout;
            npc++;
        }
        struct uplift_arm *arm = &pc[npc - 1].arm[str_eq(db_col_text(s, 0), "holdout") ? 1 : 0];
        double r = (double)db_col_i64(s, 3);
        arm->converted++;
        arm->revenue += r;
        arm->revenue_sq += r * r;
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    struct per_currency none = {
        .arm = {{.customers = send.treatment}, {.customers = send.holdout}}};
    json_t *results = json_array();
    for (size_t i = 0; i < (npc ? npc : 1); i++) {
        const struct per_currency *p = npc ? &pc[i] : &none;
        struct uplift_result u;
        uplift_compare(&p->arm[0], &p->arm[1], &u);
        json_array_append_new(results,
                              json_pack("{s:o, s:o, s:o, s:o, s:o}", "currency",
                                        p->currency[0] ? json_string(p->currency) : json_null(),
                                        "treatment", arm_json(&p->arm[0], u.rate_t, u.per_cust_t),
                                        "holdout", arm_json(&p->arm[1], u.rate_h, u.per_cust_h),
                                        "conversion_diff", diff_json(&u.conversion),
                                        "revenue_per_customer_diff", diff_json(&u.revenue)));
    }
    *out = json_pack("{s:s, s:o, s:{s:o, s:o, s:b}, s:s, s:o}", "campaign_id", campaign_id, "send",
                     campaign_send_json(&send), "window", "from", iso(from), "to", iso(to), "open",
                     now_ms < to, "money", "minor units of each currency", "results", results);
    return 0;
}
