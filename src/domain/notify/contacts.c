/* SPDX-License-Identifier: MIT */
/*
 * The contacts store (see contacts.h). Never logs a phone number or an address.
 * Tests: tests/unit/domain/test_contacts.c.
 */
#include "domain/notify/contacts.h"
#include "core/str.h"

#include <stdio.h>
#include <string.h>

bool contacts_phone_norm(const char *raw, char out[20])
{
    out[0] = '\0';
    if (!raw)
        return false;
    const char *d = raw[0] == '+' ? raw + 1 : raw;
    size_t n = strlen(d);
    if (n < 8 || n > 15)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (d[i] < '0' || d[i] > '9')
            return false;
    }
    snprintf(out, 20, "+%s", d);
    return true;
}

static int norm_or_fail(const char *raw, char out[20], struct err *e)
{
    if (!contacts_phone_norm(raw, out))
        return err_set_field(e, ERR_INVALID, "phone", "not a phone number in E.164 form");
    return 0;
}

static int exec(struct db_stmt *s, struct err *e)
{
    int rc = db_step(s, e) == DB_ERROR ? db_step_error(e) : 0;
    db_stmt_done(s);
    return rc;
}

static const char *dup(struct arena *a, const char *s)
{
    return arena_strdup(a, s ? s : "");
}

#define CONTACT_COLS                                                                               \
    "id, phone, email, language, marketing_consent, transactional_consent, last_inbound_at, "      \
    "state"

static int get_by(struct db_conn *c, const char *sql, int64_t tenant, const char *key,
                  struct arena *a, struct contact *out, bool *found, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, key);
    int st = db_step(s, e);
    if (st == DB_ROW) {
        *found = true;
        out->id = db_col_i64(s, 0);
        out->phone = dup(a, db_col_text(s, 1));
        out->email = dup(a, db_col_text(s, 2));
        out->language = dup(a, db_col_text(s, 3));
        out->marketing_consent = db_col_i64(s, 4) != 0;
        out->transactional_consent = db_col_i64(s, 5) != 0;
        out->last_inbound_at = db_col_is_null(s, 6) ? 0 : db_col_time(s, 6);
        out->state = dup(a, db_col_text(s, 7));
    } else if (st == DB_ERROR) {
        rc = db_step_error(e);
    }
    db_stmt_done(s);
    return rc;
}

int contacts_get_by_phone(struct db_conn *c, int64_t tenant, const char *phone, struct arena *a,
                          struct contact *out, bool *found, struct err *e)
{
    memset(out, 0, sizeof(*out));
    *found = false;
    char p[20];
    if (!contacts_phone_norm(phone, p))
        return 0; /* not a phone: nobody */
    return get_by(c, "SELECT " CONTACT_COLS " FROM contacts WHERE tenant_id = ? AND phone = ?",
                  tenant, p, a, out, found, e);
}

int contacts_get_by_email(struct db_conn *c, int64_t tenant, const char *email, struct arena *a,
                          struct contact *out, bool *found, struct err *e)
{
    memset(out, 0, sizeof(*out));
    *found = false;
    if (!email || !*email)
        return 0;
    return get_by(c,
                  "SELECT " CONTACT_COLS " FROM contacts WHERE tenant_id = ? AND "
                  "LOWER(email) = LOWER(?)",
                  tenant, email, a, out, found, e);
}

int contacts_upsert_phone(struct db_conn *c, int64_t tenant, const char *phone,
                          const char *language, int marketing, int64_t now_ms, struct err *e)
{
    char p[20];
    int rc = norm_or_fail(phone, p, e);
    if (rc)
        return rc;
    const char *lang = language ? (str_eq(language, "en") ? "en" : "tr") : NULL;
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "INSERT INTO contacts (tenant_id, phone, language, marketing_consent, "
                    "created_at, updated_at) VALUES (?, ?, COALESCE(?, 'tr'), COALESCE(?, 1), ?, "
                    "?) ON CONFLICT (tenant_id, phone) DO UPDATE SET language = COALESCE(?, "
                    "contacts.language), marketing_consent = COALESCE(?, "
                    "contacts.marketing_consent), updated_at = excluded.updated_at",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, p);
    db_bind_text(s, 3, lang);
    if (marketing < 0)
        db_bind_null(s, 4);
    else
        db_bind_i64(s, 4, marketing ? 1 : 0);
    db_bind_time(s, 5, now_ms);
    db_bind_time(s, 6, now_ms);
    db_bind_text(s, 7, lang);
    if (marketing < 0)
        db_bind_null(s, 8);
    else
        db_bind_i64(s, 8, marketing ? 1 : 0);
    return exec(s, e);
}

int contacts_set_consent(struct db_conn *c, int64_t tenant, const char *phone,
                         enum contact_purpose purpose, bool on, int64_t now_ms, struct err *e)
{
    char p[20];
    int rc = norm_or_fail(phone, p, e);
    if (rc)
        return rc;
    /* the column name comes from this switch, never from input */
    const char *sql =
        purpose == CONTACT_MARKETING
            ? "INSERT INTO contacts (tenant_id, phone, marketing_consent, created_at, updated_at) "
              "VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, phone) DO UPDATE SET "
              "marketing_consent = excluded.marketing_consent, updated_at = excluded.updated_at"
            : "INSERT INTO contacts (tenant_id, phone, transactional_consent, created_at, "
              "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, phone) DO UPDATE SET "
              "transactional_consent = excluded.transactional_consent, updated_at = "
              "excluded.updated_at";
    struct db_stmt *s;
    rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, p);
    db_bind_i64(s, 3, on ? 1 : 0);
    db_bind_time(s, 4, now_ms);
    db_bind_time(s, 5, now_ms);
    return exec(s, e);
}

int contacts_touch_inbound(struct db_conn *c, int64_t tenant, const char *phone, int64_t now_ms,
                           struct err *e)
{
    char p[20];
    int rc = norm_or_fail(phone, p, e);
    if (rc)
        return rc;
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "INSERT INTO contacts (tenant_id, phone, last_inbound_at, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, phone) DO UPDATE "
                    "SET last_inbound_at = excluded.last_inbound_at",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, p);
    db_bind_time(s, 3, now_ms);
    db_bind_time(s, 4, now_ms);
    db_bind_time(s, 5, now_ms);
    return exec(s, e);
}

int contacts_state(struct db_conn *c, int64_t tenant, const char *phone, struct arena *a,
                   const char **state, struct err *e)
{
    struct contact ct;
    bool found = false;
    int rc = contacts_get_by_phone(c, tenant, phone, a, &ct, &found, e);
    *state = !rc && found ? ct.state : "";
    return rc;
}

int contacts_set_state(struct db_conn *c, int64_t tenant, const char *phone, const char *state,
                       int64_t now_ms, struct err *e)
{
    char p[20];
    int rc = norm_or_fail(phone, p, e);
    if (rc)
        return rc;
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "INSERT INTO contacts (tenant_id, phone, state, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, phone) DO UPDATE SET state = "
                    "excluded.state, updated_at = excluded.updated_at",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_text(s, 2, p);
    db_bind_text(s, 3, state ? state : "");
    db_bind_time(s, 4, now_ms);
    db_bind_time(s, 5, now_ms);
    return exec(s, e);
}
