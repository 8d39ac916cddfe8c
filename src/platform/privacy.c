/* SPDX-License-Identifier: MIT */
/*
 * Export and erasure of a person's data (see privacy.h): one table of the places a person is
 * held, read for the export and walked children first for the erasure.
 * Tests: tests/integration/0021-privacy.c, tests/unit/platform/test_privacy.c.
 */
#include "platform/privacy.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/str.h"
#include "db/store.h"
#include "json/json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Bindings a condition takes, in order: T the tenant, P the phone, E the email, D the phone's
 * digits as a LIKE pattern ("%905321234567%"), M the email as a LIKE pattern. An absent phone or
 * email binds NULL, which matches nothing.
 */
struct place {
    const char *table;
    const char *where; /* after "WHERE tenant_id = ? AND " */
    const char *binds;
    const char
        *erase; /* "DELETE", or an "UPDATE <table> SET ..." prefix; NULL: kept (export only) */
};

#define BUYERS_OF_PHONE "buyer_id IN (SELECT id FROM buyers WHERE tenant_id = ? AND phone = ?)"
#define CUSTOMERS_OF                                                                               \
    "customer_id IN (SELECT customer_id FROM customer WHERE tenant_id = ? AND (phone = ? OR "      \
    "lower(email) = ?))"

/* Children first: the order erasure walks (the export reads the same list). */
static const struct place places[] = {
    {"message_attachments",
     "message_id IN (SELECT id FROM messages WHERE tenant_id = ? AND (phone = ? OR lower(email) = "
     "?))",
     "TPE", "DELETE"},
    {"messages", "(phone = ? OR lower(email) = ?)", "PE", "DELETE"},
    {"chat_events", "from_phone = ?", "P",
     "UPDATE chat_events SET from_phone = '', payload = '{}'"},
    {"demand_signals", BUYERS_OF_PHONE, "TP", "DELETE"},
    {"window_targets", BUYERS_OF_PHONE, "TP", "DELETE"},
    {"precommits", BUYERS_OF_PHONE, "TP", "DELETE"},
    {"participants", BUYERS_OF_PHONE, "TP", "DELETE"},
    /* a prepaid window's order stays with the orders; its link forgets the buyer */
    {"flash_prepay", BUYERS_OF_PHONE, "TP", "UPDATE flash_prepay SET buyer_id = NULL"},
    /* the seller's bill keeps the visit, not the person */
    {"seller_fees", BUYERS_OF_PHONE, "TP", "UPDATE seller_fees SET buyer_id = NULL"},
    {"buyers", "phone = ?", "P", "DELETE"},
    {"contacts", "(phone = ? OR lower(email) = ?)", "PE", "DELETE"},
    {"inbound_events", "(lower(body) LIKE ? ESCAPE '\\' OR lower(body) LIKE ? ESCAPE '\\')", "DM",
     "UPDATE inbound_events SET body = '{\"erased\":true}'"},
    /* outbound webhook deliveries (message.failed carries the message, its phone and text) */
    {"webhook_deliveries",
     "(lower(body) LIKE ? ESCAPE '\\' OR lower(body) LIKE ? ESCAPE '\\' OR "
     "lower(coalesce(last_response, '')) LIKE ? ESCAPE '\\')",
     "DMD",
     "UPDATE webhook_deliveries SET body = '{\"erased\":true}', last_response = NULL, status = "
     "CASE WHEN status = 'pending' THEN 'dead' ELSE status END"},
    {"sellers", "phone = ?", "P", "UPDATE sellers SET phone = NULL"},
    /* cart recovery: a customer's carts' recovery state goes with the carts */
    {"recovery_carts", CUSTOMERS_OF, "TPE", "DELETE"},
    /* commerce: carts go; orders stay (the records the law keeps), their customer made anonymous */
    {"cart_item", "cart_id IN (SELECT cart_id FROM cart WHERE tenant_id = ? AND " CUSTOMERS_OF ")",
     "TTPE", "DELETE"},
    {"cart", CUSTOMERS_OF, "TPE", "DELETE"},
    /* what customer intelligence derived about the person: exported, then deleted */
    {"customer_budget_profile", CUSTOMERS_OF, "TPE", "DELETE"},
    /* campaigns sent to the person (and the sends of campaigns planned for them alone) */
    {"campaign_recipients", CUSTOMERS_OF, "TPE", "DELETE"},
    {"campaign_sends",
     "campaign_id IN (SELECT id FROM campaigns WHERE tenant_id = ? AND " CUSTOMERS_OF ")", "TTPE",
     "DELETE"},
    /* the campaigns planned for the person (their signals and the model's answer about them) */
    {"campaigns", CUSTOMERS_OF, "TPE", "DELETE"},
    {"customer_loyalty_profile", CUSTOMERS_OF, "TPE", "DELETE"},
    {"customer_category_affinity", CUSTOMERS_OF, "TPE", "DELETE"},
    {"customer_replenishment_profile", CUSTOMERS_OF, "TPE", "DELETE"},
    {"customer_variety_profile", CUSTOMERS_OF, "TPE", "DELETE"},
    {"customer_prediction", CUSTOMERS_OF, "TPE", "DELETE"},
    /*
     * certificates name their owner; erasure blanks the name, address and place and revokes
     * them (their signed data named the person, so they can no longer be verified as issued);
     * the stored PDFs, which name them too, are removed by the certificates.sweep job
     */
    {"certificates", "(" CUSTOMERS_OF " OR lower(owner_email) = ?)", "TPEE",
     "UPDATE certificates SET owner_name = '', owner_email = NULL, place = '', "
     "revoked_at = coalesce(revoked_at, updated_at), revoke_reason = 'erased'"},
    {"orders", CUSTOMERS_OF, "TPE", NULL},
    {"customer", "(phone = ? OR lower(email) = ?)", "PE",
     "UPDATE customer SET name = NULL, email = NULL, phone = NULL, birth_date = NULL, gender = "
     "NULL, "
     "city_id = NULL, is_active = (1 = 0), external_id = NULL"},
};
#define N_PLACES (sizeof(places) / sizeof(places[0]))

const char *privacy_table(size_t i)
{
    return i < N_PLACES ? places[i].table : NULL;
}

int privacy_subject_parse(const char *phone, const char *email, struct privacy_subject *out,
                          struct err *e)
{
    memset(out, 0, sizeof(*out));
    if ((!phone || !*phone) && (!email || !*email))
        return err_set_field(e, ERR_INVALID, "phone", "give phone or email (or both)");
    if (phone && *phone) {
        size_t n = 0;
        const char *p = phone[0] == '+' ? phone + 1 : phone;
        for (; p[n]; n++) {
            if (!isdigit((unsigned char)p[n]))
                return err_set_field(e, ERR_INVALID, "phone",
                                     "phone must be digits with an optional leading +");
        }
        if (n < 8 || n > 15)
            return err_set_field(e, ERR_INVALID, "phone", "phone must have 8 to 15 digits");
        snprintf(out->phone, sizeof(out->phone), "+%s", p);
    }
    if (email && *email) {
        size_t n = strlen(email);
        const char *at = strchr(email, '@');
        if (!at || at == email || !at[1] || strchr(at + 1, '@') || n >= sizeof(out->email))
            return err_set_field(e, ERR_INVALID, "email", "email must be one address like a@b.c");
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)email[i];
            if (ch <= ' ' || ch == 0x7f || ch == '"' || ch == '\\')
                return err_set_field(e, ERR_INVALID, "email", "email has a character it cannot");
            out->email[i] = (char)tolower(ch);
        }
    }
    return 0;
}

static int bind_all(struct db_stmt *s, int at, const char *binds, int64_t tenant,
                    const struct privacy_subject *p, const char *digits, const char *mail)
{
    int i = at;
    for (const char *b = binds; *b; b++, i++) {
        const char *v = *b == 'P' ? p->phone : *b == 'E' ? p->email : *b == 'D' ? digits : mail;
        if (*b == 'T')
            db_bind_i64(s, i, tenant);
        else if (v && *v)
            db_bind_text(s, i, v);
        else
            db_bind_null(s, i);
    }
    return i;
}

/*
 * "%905321234567%" (the digits, as Meta writes a number) and "%a\_b@c.d%" (the email, its LIKE
 * wildcards escaped with a backslash), or "" when absent.
 */
static void patterns(const struct privacy_subject *p, char *digits, size_t dn, char *mail,
                     size_t mn)
{
    digits[0] = mail[0] = '\0';
    if (p->phone[0])
        snprintf(digits, dn, "%%%s%%", p->phone + 1);
    if (p->email[0] && mn > 4) {
        size_t k = 0;
        mail[k++] = '%';
        for (const char *q = p->email; *q && k + 3 < mn; q++) {
            if (*q == '%' || *q == '_')
                mail[k++] = '\\';
            mail[k++] = *q;
        }
        mail[k++] = '%';
        mail[k] = '\0';
    }
}

static int record(struct db_conn *c, int64_t tenant, const char *kind,
                  const struct privacy_subject *p, json_t *summary, int64_t now_ms, struct err *e)
{
    char who[300];
    snprintf(who, sizeof(who), "%s|%s", p->phone, p->email);
    unsigned char h[SEC_SHA256_LEN];
    sec_sha256(h, who, strlen(who));
    char hex[2 * SEC_SHA256_LEN + 1];
    for (size_t i = 0; i < SEC_SHA256_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    char *text = json_dump_compact(summary);
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO privacy_requests (tenant_id, kind, subject_hash, summary, "
                        "created_at) VALUES (?, ?, ?, ?, ?)",
                        e);
    if (!rc) {
        db_bind_i64(s, 1, tenant);
        db_bind_text(s, 2, kind);
        db_bind_text(s, 3, hex);
        db_bind_text(s, 4, text ? text : "{}");
        db_bind_time(s, 5, now_ms);
        rc = db_exec_write(s, NULL, e);
    }
    free(text);
    return rc;
}

int privacy_export(struct db_conn *c, int64_t tenant, const struct privacy_subject *p,
                   int64_t now_ms, json_t **out, struct err *e)
{
    *out = NULL;
    char digits[32], mail[600];
    patterns(p, digits, sizeof(digits), mail, sizeof(mail));
    json_t *root = json_pack("{s:{s:s?, s:s?}}", "subject", "phone", p->phone[0] ? p->phone : NULL,
                             "email", p->email[0] ? p->email : NULL);
    json_t *summary = json_object();
    bool own;
    int rc = db_begin_own(c, &own, e);
    for (size_t k = 0; !rc && k < N_PLACES; k++) {
        char sql[512];
        snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE tenant_id = ? AND %s ORDER BY 1",
                 places[k].table, places[k].where);
        struct db_stmt *s;
        rc = db_prepare(c, &s, sql, e);
        if (rc)
            break;
        db_bind_i64(s, 1, tenant);
        bind_all(s, 2, places[k].binds, tenant, p, digits, mail);
        json_t *rows = json_array();
        int st;
        while ((st = db_step(s, e)) == DB_ROW) {
            json_t *row = json_object();
            for (int i = 0; i < db_col_count(s); i++) {
                const char *v = db_col_text(s, i);
                json_object_set_new(row, db_col_name(s, i), v ? json_string(v) : json_null());
            }
            json_array_append_new(rows, row);
        }
        db_stmt_done(s);
        if (st == DB_ERROR) {
            json_decref(rows);
            rc = db_step_error(e);
            break;
        }
        json_object_set_new(summary, places[k].table,
                            json_integer((json_int_t)json_array_size(rows)));
        json_object_set_new(root, places[k].table, rows);
    }
    if (!rc)
        rc = record(c, tenant, "export", p, summary, now_ms, e);
    rc = db_end_own(c, own, rc, e);
    json_decref(summary);
    if (rc) {
        json_decref(root);
        return rc;
    }
    *out = root;
    return 0;
}

int privacy_erase(struct db_conn *c, int64_t tenant, const struct privacy_subject *p,
                  int64_t now_ms, json_t **counts, struct err *e)
{
    *counts = NULL;
    char digits[32], mail[600];
    patterns(p, digits, sizeof(digits), mail, sizeof(mail));
    json_t *summary = json_object();
    bool own;
    int rc = db_begin_own(c, &own, e);
    for (size_t k = 0; !rc && k < N_PLACES; k++) {
        char sql[512];
        if (!places[k].erase)
            continue; /* kept as it is: read by the export only */
        if (strcmp(places[k].erase, "DELETE") == 0)
            snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE tenant_id = ? AND %s", places[k].table,
                     places[k].where);
        else
            snprintf(sql, sizeof(sql), "%s WHERE tenant_id = ? AND %s", places[k].erase,
                     places[k].where);
        struct db_stmt *s;
        rc = db_prepare(c, &s, sql, e);
        if (rc)
            break;
        db_bind_i64(s, 1, tenant);
        bind_all(s, 2, places[k].binds, tenant, p, digits, mail);
        int64_t n = 0;
        rc = db_exec_write(s, &n, e);
        if (!rc)
            json_object_set_new(summary, places[k].table, json_integer((json_int_t)n));
    }
    if (!rc)
        rc = record(c, tenant, "erase", p, summary, now_ms, e);
    rc = db_end_own(c, own, rc, e);
    if (rc) {
        json_decref(summary);
        return rc;
    }
    *counts = summary;
    return 0;
}

/*
 * One batch: the statements of `sql` (each takes the cutoff, then the batch size) in one
 * transaction; *n gets the rows the last one removed.
 */
static int retention_batch(struct db_conn *c, const char *const *sql, int64_t cutoff_ms, int64_t *n,
                           int64_t *total, struct err *e)
{
    int rc = db_begin(c, e);
    for (size_t i = 0; !rc && sql[i]; i++) {
        struct db_stmt *s;
        rc = db_prepare(c, &s, sql[i], e);
        if (rc)
            break;
        db_bind_time(s, 1, cutoff_ms);
        db_bind_i64(s, 2, PRIVACY_RETENTION_BATCH);
        int64_t k = 0;
        rc = db_exec_write(s, &k, e);
        *n = k;
        *total += k;
    }
    return rc ? (db_rollback(c), rc) : db_commit(c, e);
}

int privacy_retention(struct db_conn *c, int64_t messages_before_ms, int64_t inbound_before_ms,
                      int64_t *deleted, struct err *e)
{
#define SETTLED_MESSAGES                                                                           \
    "SELECT id FROM messages WHERE created_at < ? AND status <> 'pending' ORDER BY id LIMIT ?"
    /* a batch of settled messages: their attachments, then the same messages */
    static const char *const messages[] = {
        "DELETE FROM message_attachments WHERE message_id IN (" SETTLED_MESSAGES ")",
        "DELETE FROM messages WHERE id IN (" SETTLED_MESSAGES ")", NULL};
    static const char *const inbound[] = {
        "DELETE FROM inbound_events WHERE id IN (SELECT id FROM inbound_events WHERE received_at "
        "< ? AND status <> 'received' ORDER BY id LIMIT ?)",
        NULL};
    static const char *const chat[] = {
        "DELETE FROM chat_events WHERE id IN (SELECT id FROM chat_events WHERE received_at < ? "
        "AND processed_at IS NOT NULL ORDER BY id LIMIT ?)",
        NULL};
#undef SETTLED_MESSAGES
    const struct {
        const char *const *sql;
        int64_t cutoff;
    } steps[] = {
        {messages, messages_before_ms}, {inbound, inbound_before_ms}, {chat, inbound_before_ms}};
    int64_t total = 0;
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof(steps) / sizeof(steps[0]); i++) {
        if (steps[i].cutoff <= 0)
            continue;
        int64_t n;
        do {
            n = 0;
            rc = retention_batch(c, steps[i].sql, steps[i].cutoff, &n, &total, e);
        } while (!rc && n == PRIVACY_RETENTION_BATCH);
    }
    if (deleted)
        *deleted = total;
    return rc;
}
