/* SPDX-License-Identifier: MIT */
/*
 * Flash windows in the database (see flash_store.h): configuration, buyers, sellers, signals,
 * windows, targets, pre-commits, participants. SQL through db/db.h only, every statement scoped
 * by tenant; multi-statement writes open their own transaction when the caller has none.
 * Tables: src/db/sql/<backend>/0004_flash.sql. Tests: tests/unit/domain/test_flash_store.c.
 */
#include "domain/flash/flash_store.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "db/store.h"
#include "domain/notify/contacts.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SQL_MAX       4096 /* longest dynamically built statement */
#define RANDOM_ID_LEN 9    /* random bytes in a generated public id: 12 characters */

/* ======================== helpers ======================== */

static const char *nz(const char *s)
{
    return s ? s : "";
}

static bool empty(const char *s)
{
    return !s || !*s;
}

/* Index of `s` in a NULL-terminated name list, or `dflt`. */
static int name_index(const char *const *names, const char *s, int dflt)
{
    for (int i = 0; s && names[i]; i++) {
        if (str_eq(names[i], s))
            return i;
    }
    return dflt;
}

#define OWNED_BUYER  "SELECT 1 FROM buyers WHERE id = ? AND tenant_id = ?"
#define OWNED_SELLER "SELECT 1 FROM sellers WHERE id = ? AND tenant_id = ?"
#define OWNED_WINDOW "SELECT 1 FROM flash_windows WHERE id = ? AND tenant_id = ?"

static int random_public_id(const char *prefix, char *out, size_t n, struct err *e)
{
    return sec_random_id(out, n, prefix, RANDOM_ID_LEN, e);
}

/* Validate what the CHECK constraints would otherwise reject with a less helpful error. */
static int check_location(const struct flash_location *l, struct err *e)
{
    if (!(l->lat >= -90 && l->lat <= 90))
        return err_set_field(e, ERR_INVALID, "location.lat", "lat must be in -90..90");
    if (!(l->lng >= -180 && l->lng <= 180))
        return err_set_field(e, ERR_INVALID, "location.lng", "lng must be in -180..180");
    return 0;
}

static int check_public_id(const char *id, struct err *e)
{
    if (!empty(id) && !flash_id_valid(id))
        return err_set_field(e, ERR_INVALID, "id", "id must be 1..64 of A-Z a-z 0-9 _ -");
    return 0;
}

/*
 * The row to update for an upsert: by id when given, else by phone; an id and a phone that
 * name two different rows is a conflict. `by_id`/`by_phone` take (tenant, key).
 */
static int upsert_target(struct db_conn *c, int64_t tenant, const char *id, const char *phone,
                         const char *by_id, const char *by_phone, const char *what, int64_t *pk,
                         struct err *e)
{
    int64_t id_pk = 0, phone_pk = 0;
    int rc = 0;
    if (!empty(id))
        rc = db_find_pk(c, by_id, tenant, id, &id_pk, e);
    if (!rc && !empty(phone))
        rc = db_find_pk(c, by_phone, tenant, phone, &phone_pk, e);
    if (rc)
        return rc;
    if (!empty(id) && phone_pk && phone_pk != id_pk)
        return err_set_field(e, ERR_CONFLICT, "phone", "phone %s belongs to another %s", phone,
                             what);
    *pk = empty(id) ? phone_pk : id_pk;
    return 0;
}

/* ======================== configuration ======================== */

/* Stored as the JSON of flash_config_to_json; read back over the defaults (flash.h). */
static int config_from_text(const char *text, struct flash_config *out, struct err *e)
{
    struct err de;
    err_init(&de);
    if (flash_config_decode(text, out, &de))
        return err_set(e, ERR_INTERNAL, "%s", de.msg); /* our own data: not the caller's fault */
    return 0;
}

int flash_store_config_get(struct db_conn *c, int64_t tenant, struct flash_config *out,
                           struct err *e)
{
    struct arena a;
    arena_init(&a);
    const char *text = NULL;
    int rc = db_settings_get(c, "flash_config", tenant, &a, &text, e);
    if (!rc)
        rc = config_from_text(text, out, e);
    arena_release(&a);
    return rc;
}

/*
 * Recently read configurations, one slot per tenant (modulo). An entry holds while it is younger
 * than FLASH_CONFIG_RECENT_MS and no save happened since it was read: a save bumps config_gen
 * when it is written and again once it is committed, and a reader keeps what it read only if
 * the generation did not move meanwhile, so nothing read before a commit outlives it.
 */
#define CONFIG_SLOTS 64

static pthread_mutex_t config_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint_fast64_t config_gen;
static struct {
    int64_t tenant;
    uint64_t gen;
    int64_t expires_ms; /* monotonic; 0 = empty */
    struct flash_config cfg;
} config_recent[CONFIG_SLOTS];

static void config_gen_bump(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&config_gen, 1);
}

int flash_store_config_get_recent(struct db_conn *c, int64_t tenant, struct flash_config *out,
                                  struct err *e)
{
    size_t i = (size_t)tenant % CONFIG_SLOTS;
    uint64_t gen = atomic_load(&config_gen);
    pthread_mutex_lock(&config_mu);
    bool hit = config_recent[i].expires_ms > clock_mono_ms() && config_recent[i].tenant == tenant &&
               config_recent[i].gen == gen;
    if (hit)
        *out = config_recent[i].cfg;
    pthread_mutex_unlock(&config_mu);
    if (hit)
        return 0;
    int rc = flash_store_config_get(c, tenant, out, e);
    if (rc)
        return rc;
    pthread_mutex_lock(&config_mu);
    if (atomic_load(&config_gen) == gen) {
        config_recent[i].tenant = tenant;
        config_recent[i].gen = gen;
        config_recent[i].expires_ms = clock_mono_ms() + FLASH_CONFIG_RECENT_MS;
        config_recent[i].cfg = *out;
    }
    pthread_mutex_unlock(&config_mu);
    return 0;
}

int flash_store_config_put(struct db_conn *c, int64_t tenant, const struct flash_config *cfg,
                           int64_t now_ms, struct err *e)
{
    int rc = flash_config_validate(cfg, e);
    if (rc)
        return rc;
    json_t *j = flash_config_to_json(cfg);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text)
        return err_set(e, ERR_INTERNAL, "cannot encode flash configuration");
    config_gen_bump(NULL);
    rc = db_settings_put(c, "flash_config", tenant, text, now_ms, e);
    free(text);
    if (!rc)
        db_on_commit(c, config_gen_bump, NULL);
    return rc;
}

int flash_store_scan_due(struct db_conn *c, int64_t now_ms, struct arena *a, int64_t **tenants,
                         size_t *n, struct err *e)
{
    /* Only tenants with sellers: an empty tenant has nothing to scan. */
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT t.id, f.config, f.last_scan_at FROM tenants t "
                        "LEFT JOIN flash_config f ON f.tenant_id = t.id "
                        "WHERE EXISTS (SELECT 1 FROM sellers s WHERE s.tenant_id = t.id) "
                        "ORDER BY t.id",
                        e);
    if (rc)
        return rc;
    size_t cap = 0, used = 0;
    int64_t *out = NULL;
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        struct flash_config cfg;
        struct err ce;
        err_init(&ce);
        if (config_from_text(db_col_text(s, 1), &cfg, &ce))
            flash_config_default(&cfg); /* a corrupt config is still scanned, with the defaults */
        if (cfg.scan_interval_s <= 0)
            continue;
        int64_t last = db_col_is_null(s, 2) ? 0 : db_col_time(s, 2);
        if (last && last + (int64_t)cfg.scan_interval_s * 1000 > now_ms)
            continue;
        out = arena_grow(a, out, used, &cap, sizeof(*out));
        out[used++] = db_col_i64(s, 0);
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    *tenants = out;
    *n = used;
    return 0;
}

int flash_store_scan_mark(struct db_conn *c, int64_t tenant, int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO flash_config (tenant_id, last_scan_at, updated_at) "
                        "VALUES (?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET "
                        "last_scan_at = excluded.last_scan_at",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_time(s, 2, now_ms);
    db_bind_time(s, 3, now_ms);
    return db_exec_write(s, NULL, e);
}

/* ======================== buyers ======================== */

#define BUYER_COLS                                                                                 \
    "id, public_id, phone, name, lat, lng, district, neighborhood, categories, "                   \
    "price_sensitivity, " CONTACTS_MARKETING_SQL(                                                  \
        "buyers.tenant_id", "buyers.phone") ", language, commits, shows, created_at, updated_at"

static void read_buyer(struct db_stmt *s, struct arena *a, void *out)
{
    struct flash_buyer *b = out;
    memset(b, 0, sizeof(*b));
    b->pk = db_col_i64(s, 0);
    b->id = db_col_str(s, 1, a);
    b->phone = db_col_str(s, 2, a);
    b->name = db_col_str(s, 3, a);
    b->loc.lat = db_col_f64(s, 4);
    b->loc.lng = db_col_f64(s, 5);
    b->loc.district = db_col_str(s, 6, a);
    b->loc.neighborhood = db_col_str(s, 7, a);
    json_t *cats = json_loads(nz(db_col_text(s, 8)), 0, NULL);
    size_t i;
    json_t *v;
    json_array_foreach(cats, i, v)
    {
        if (b->n_categories < FLASH_MAX_CATEGORIES && json_is_string(v))
            b->categories[b->n_categories++] = arena_strdup(a, json_string_value(v));
    }
    json_decref(cats);
    b->price_sensitivity = (enum flash_price_sensitivity)name_index(
        flash_price_names, db_col_text(s, 9), FLASH_PRICE_BALANCED);
    b->consent = db_col_bool(s, 10);
    b->language = db_col_str(s, 11, a);
    b->commits = (int)db_col_i64(s, 12);
    b->shows = (int)db_col_i64(s, 13);
    b->created_at = db_col_time(s, 14);
    b->updated_at = db_col_time(s, 15);
}

/* The buyer's categories as a JSON array; caller frees. */
static char *categories_json(const struct flash_buyer *b)
{
    json_t *arr = json_array();
    for (int i = 0; i < b->n_categories && i < FLASH_MAX_CATEGORIES; i++) {
        if (b->categories[i])
            json_array_append_new(arr, json_string(b->categories[i]));
    }
    char *out = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return out;
}

static const char *language_of(const char *l)
{
    return str_eq(l, "en") ? "en" : "tr";
}

static int buyer_row_write(struct db_conn *c, int64_t tenant, struct flash_buyer *b, int64_t pk,
                           int64_t now_ms, struct arena *a, bool *created, struct err *e);

/*
 * A buyer's consent and language live on their contact (notify/contacts.h), the one place that
 * says who may get offers; written before the buyer row so the row read back carries them.
 */
static int buyer_contact(struct db_conn *c, int64_t tenant, const struct flash_buyer *b, int64_t pk,
                         struct err *e, int64_t now_ms)
{
    const char *phone = b->phone;
    struct arena a;
    arena_init(&a);
    int rc = 0;
    if (empty(phone) && pk) {
        struct db_stmt *s;
        rc = db_prepare(c, &s, "SELECT phone FROM buyers WHERE id = ? AND tenant_id = ?", e);
        if (!rc) {
            db_bind_i64(s, 1, pk);
            db_bind_i64(s, 2, tenant);
            int st = db_step(s, e);
            if (st == DB_ROW && db_col_text(s, 0))
                phone = arena_strdup(&a, db_col_text(s, 0));
            else if (st == DB_ERROR)
                rc = db_step_error(e);
            db_stmt_done(s);
        }
    }
    if (!rc && !empty(phone))
        rc = contacts_upsert_phone(c, tenant, phone, language_of(b->language), b->consent ? 1 : 0,
                                   now_ms, e);
    arena_release(&a);
    if (rc == ERR_INVALID)
        rc = err_replace(e, ERR_INVALID, "phone_number", "phone_number must be in E.164 form");
    return rc;
}

static int buyer_write(struct db_conn *c, int64_t tenant, struct flash_buyer *b, int64_t pk,
                       int64_t now_ms, struct arena *a, bool *created, struct err *e)
{
    bool own;
    int rc = db_begin_own(c, &own, e);
    if (!rc)
        rc = buyer_contact(c, tenant, b, pk, e, now_ms);
    if (!rc)
        rc = buyer_row_write(c, tenant, b, pk, now_ms, a, created, e);
    return db_end_own(c, own, rc, e);
}

static int buyer_row_write(struct db_conn *c, int64_t tenant, struct flash_buyer *b, int64_t pk,
                           int64_t now_ms, struct arena *a, bool *created, struct err *e)
{
    char *cats = categories_json(b);
    if (!cats)
        return err_set_field(e, ERR_INVALID, "categories", "categories must be UTF-8 strings");
    char gen[SEC_RANDOM_ID_SIZE(2, RANDOM_ID_LEN)];
    const char *id = b->id;
    int rc = 0;
    if (!pk && empty(id)) {
        rc = random_public_id("b_", gen, sizeof(gen), e);
        id = gen;
    }
    struct db_stmt *s = NULL;
    if (!rc && pk) {
        /* An update keeps the public id, the phone when none is given and the record. */
        rc = db_prepare(c, &s,
                        "UPDATE buyers SET phone = COALESCE(?, phone), name = ?, lat = ?, "
                        "lng = ?, district = ?, neighborhood = ?, categories = ?, "
                        "price_sensitivity = ?, language = ?, updated_at = ? "
                        "WHERE id = ? AND tenant_id = ? RETURNING " BUYER_COLS,
                        e);
    } else if (!rc) {
        rc = db_prepare(c, &s,
                        "INSERT INTO buyers (phone, name, lat, lng, district, neighborhood, "
                        "categories, price_sensitivity, language, updated_at, "
                        "public_id, tenant_id, commits, shows, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        "RETURNING " BUYER_COLS,
                        e);
    }
    if (rc) {
        free(cats);
        return rc;
    }
    if (empty(b->phone))
        db_bind_null(s, 1);
    else
        db_bind_text(s, 1, b->phone);
    db_bind_text(s, 2, nz(b->name));
    db_bind_f64(s, 3, b->loc.lat);
    db_bind_f64(s, 4, b->loc.lng);
    db_bind_text(s, 5, nz(b->loc.district));
    db_bind_text(s, 6, nz(b->loc.neighborhood));
    db_bind_text(s, 7, cats);
    db_bind_text(
        s, 8,
        flash_price_names[b->price_sensitivity <= FLASH_PRICE_PREMIUM ? b->price_sensitivity
                                                                      : FLASH_PRICE_BALANCED]);
    db_bind_text(s, 9, language_of(b->language));
    db_bind_time(s, 10, now_ms);
    if (pk) {
        db_bind_i64(s, 11, pk);
        db_bind_i64(s, 12, tenant);
    } else {
        db_bind_text(s, 11, id);
        db_bind_i64(s, 12, tenant);
        db_bind_i64(s, 13, b->commits > 0 ? b->commits : 0);
        db_bind_i64(s, 14, b->shows > 0 ? b->shows : 0);
        db_bind_time(s, 15, now_ms);
    }
    free(cats);
    int st = db_step(s, e);
    if (st == DB_ROW) {
        read_buyer(s, a, b);
        *created = !pk;
    } else if (st == DB_DONE) {
        rc = err_set_field(e, ERR_NOT_FOUND, "id", "buyer vanished during the update");
    } else {
        rc = db_step_error(e);
    }
    db_stmt_done(s);
    if (rc == ERR_CONFLICT)
        rc = err_replace(e, ERR_CONFLICT, "id", "a buyer with this id or phone already exists");
    return rc;
}

int flash_store_buyer_upsert(struct db_conn *c, int64_t tenant, struct flash_buyer *b,
                             int64_t now_ms, struct arena *a, bool *created, struct err *e)
{
    int rc = check_public_id(b->id, e);
    if (!rc)
        rc = check_location(&b->loc, e);
    if (!rc && (b->n_categories < 0 || b->n_categories > FLASH_MAX_CATEGORIES))
        rc = err_set_field(e, ERR_INVALID, "categories", "at most %d categories",
                           FLASH_MAX_CATEGORIES);
    if (rc)
        return rc;
    bool own;
    rc = db_begin_own(c, &own, e);
    if (rc)
        return rc;
    int64_t pk = 0;
    rc = upsert_target(c, tenant, b->id, b->phone,
                       "SELECT id FROM buyers WHERE tenant_id = ? AND public_id = ?",
                       "SELECT id FROM buyers WHERE tenant_id = ? AND phone = ?", "buyer", &pk, e);
    if (!rc)
        rc = buyer_write(c, tenant, b, pk, now_ms, a, created, e);
    return db_end_own(c, own, rc, e);
}

static void buyer_row(struct db_stmt *s, struct arena *a, void *out)
{
    read_buyer(s, a, out);
}

static int buyer_get_by(struct db_conn *c, const char *sql, int64_t tenant, const char *key,
                        int64_t pk, struct arena *a, struct flash_buyer *out, struct err *e)
{
    bool found;
    int rc = db_get_one(c, sql, tenant, key, pk, buyer_row, a, out, &found, e);
    if (!rc && !found)
        rc = err_set_field(e, ERR_NOT_FOUND, "buyer", "no such buyer");
    return rc;
}

int flash_store_buyer_get(struct db_conn *c, int64_t tenant, const char *key, bool by_phone,
                          struct arena *a, struct flash_buyer *out, struct err *e)
{
    return buyer_get_by(c,
                        by_phone ? "SELECT " BUYER_COLS " FROM buyers WHERE tenant_id = ? AND "
                                   "phone = ?"
                                 : "SELECT " BUYER_COLS " FROM buyers WHERE tenant_id = ? AND "
                                   "public_id = ?",
                        tenant, nz(key), 0, a, out, e);
}

int flash_store_buyer_get_pk(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                             struct flash_buyer *out, struct err *e)
{
    return buyer_get_by(c, "SELECT " BUYER_COLS " FROM buyers WHERE tenant_id = ? AND id = ?",
                        tenant, NULL, pk, a, out, e);
}

/* A LIKE pattern matching the JSON string of `cat` anywhere in a categories array. */
static char *category_pattern(const char *cat, struct arena *a)
{
    json_t *j = json_string(cat);
    char *enc = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    json_decref(j);
    if (!enc)
        return arena_strdup(a, "\x01"); /* invalid UTF-8 matches nothing */
    struct buf b;
    buf_init(&b, SQL_MAX);
    buf_appends(&b, "%");
    for (const char *p = enc; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            buf_appends(&b, "\\");
        buf_append(&b, p, 1);
    }
    buf_appends(&b, "%");
    char *out = arena_strdup(a, buf_str(&b));
    buf_release(&b);
    free(enc);
    return out;
}

int flash_store_buyer_list(struct db_conn *c, int64_t tenant, const struct flash_list_filter *f,
                           struct arena *a, struct flash_buyer **rows, size_t *n, struct err *e)
{
    struct flash_list_filter none = {0};
    if (!f)
        f = &none;
    struct buf q;
    buf_init(&q, SQL_MAX);
    buf_appends(&q, "SELECT " BUYER_COLS " FROM buyers WHERE tenant_id = ? AND id > ?");
    if (!empty(f->category))
        buf_appends(&q, " AND categories LIKE ? ESCAPE '\\'");
    if (!empty(f->district))
        buf_appends(&q, " AND district = ?");
    buf_appends(&q, " ORDER BY id LIMIT ?");
    struct db_stmt *s;
    int rc = db_prepare(c, &s, buf_str(&q), e);
    buf_release(&q);
    if (rc)
        return rc;
    int i = 1;
    db_bind_i64(s, i++, tenant);
    db_bind_i64(s, i++, f->after_pk > 0 ? f->after_pk : 0);
    if (!empty(f->category))
        db_bind_text(s, i++, category_pattern(f->category, a));
    if (!empty(f->district))
        db_bind_text(s, i++, f->district);
    db_bind_i64(s, i, db_page_limit(f->limit, FLASH_LIST_DEFAULT, FLASH_LIST_MAX));
    void *out;
    int rc_list = db_list(s, read_buyer, sizeof(struct flash_buyer), a, &out, n, e);
    *rows = out;
    return rc_list;
}

int flash_store_buyer_record(struct db_conn *c, int64_t tenant, int64_t buyer_pk, int commits,
                             int shows, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE buyers SET commits = commits + ?, shows = shows + ? "
                        "WHERE id = ? AND tenant_id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, commits);
    db_bind_i64(s, 2, shows);
    db_bind_i64(s, 3, buyer_pk);
    db_bind_i64(s, 4, tenant);
    int64_t changed = 0;
    rc = db_exec_write(s, &changed, e);
    if (rc == ERR_CONFLICT)
        return err_replace(e, ERR_INVALID, "commits", "commitment record cannot go below zero");
    if (!rc && !changed)
        rc = err_set_field(e, ERR_NOT_FOUND, "buyer", "no buyer %lld in this tenant",
                           (long long)buyer_pk);
    return rc;
}

int flash_store_buyer_set_consent(struct db_conn *c, int64_t tenant, int64_t buyer_pk, bool consent,
                                  int64_t now_ms, struct err *e)
{
    struct flash_buyer b;
    struct arena a;
    arena_init(&a);
    int rc = flash_store_buyer_get_pk(c, tenant, buyer_pk, &a, &b, e);
    if (!rc && empty(b.phone))
        rc = err_set_field(e, ERR_INVALID, "buyer", "buyer %lld has no phone to reach",
                           (long long)buyer_pk);
    if (!rc)
        rc = contacts_set_consent(c, tenant, b.phone, CONTACT_MARKETING, consent, now_ms, e);
    arena_release(&a);
    return rc;
}

/* ======================== sellers ======================== */

#define SELLER_COLS                                                                                \
    "id, public_id, phone, name, category, lat, lng, district, neighborhood, density, "            \
    "stock_status, price_min, price_max, currency, max_discount, capacity, auto_approve, "         \
    "opening_hours, supply_kind, supply_until, created_at, updated_at"

static void read_seller(struct db_stmt *s, struct arena *a, void *row)
{
    struct flash_seller *out = row;
    memset(out, 0, sizeof(*out));
    out->pk = db_col_i64(s, 0);
    out->id = db_col_str(s, 1, a);
    out->phone = db_col_str(s, 2, a);
    out->name = db_col_str(s, 3, a);
    out->category = db_col_str(s, 4, a);
    out->loc.lat = db_col_f64(s, 5);
    out->loc.lng = db_col_f64(s, 6);
    out->loc.district = db_col_str(s, 7, a);
    out->loc.neighborhood = db_col_str(s, 8, a);
    out->density = (enum flash_density)name_index(flash_density_names, db_col_text(s, 9),
                                                  FLASH_DENSITY_MEDIUM);
    out->stock_status = db_col_str(s, 10, a);
    out->price_min = db_col_i64(s, 11);
    out->price_max = db_col_i64(s, 12);
    out->currency = db_col_str(s, 13, a);
    out->max_discount = (int)db_col_i64(s, 14);
    out->capacity = (int)db_col_i64(s, 15);
    out->auto_approve = db_col_bool(s, 16);
    out->opening_hours = db_col_str(s, 17, a);
    out->supply_kind = (enum flash_supply_kind)name_index(flash_supply_names, db_col_text(s, 18),
                                                          FLASH_SUPPLY_IDLE);
    out->supply_until = db_col_is_null(s, 19) ? 0 : db_col_time(s, 19);
    out->created_at = db_col_time(s, 20);
    out->updated_at = db_col_time(s, 21);
}

static int check_seller(const struct flash_seller *sl, struct err *e)
{
    int rc = check_public_id(sl->id, e);
    if (!rc)
        rc = check_location(&sl->loc, e);
    if (rc)
        return rc;
    if (empty(sl->category))
        return err_set_field(e, ERR_INVALID, "category", "category is required");
    if (sl->max_discount < 0 || sl->max_discount > 90)
        return err_set_field(e, ERR_INVALID, "max_discount", "max_discount must be in 0..90");
    if (sl->capacity < 1)
        return err_set_field(e, ERR_INVALID, "capacity", "capacity must be at least 1");
    if (sl->price_min < 0 || sl->price_max < 0)
        return err_set_field(e, ERR_INVALID, "price_min", "prices cannot be negative");
    if ((unsigned)sl->density > FLASH_DENSITY_HIGH)
        return err_set_field(e, ERR_INVALID, "density", "unknown density");
    if ((unsigned)sl->supply_kind > FLASH_SUPPLY_PROMOTION)
        return err_set_field(e, ERR_INVALID, "supply_kind", "unknown supply kind");
    return 0;
}

static int seller_write(struct db_conn *c, int64_t tenant, struct flash_seller *sl, int64_t pk,
                        int64_t now_ms, struct arena *a, bool *created, struct err *e)
{
    char gen[SEC_RANDOM_ID_SIZE(2, RANDOM_ID_LEN)];
    const char *id = sl->id;
    int rc = 0;
    if (!pk && empty(id)) {
        rc = random_public_id("s_", gen, sizeof(gen), e);
        id = gen;
    }
    struct db_stmt *s = NULL;
    /* The supply state belongs to supply signals: an update leaves it alone. */
    if (!rc && pk)
        rc = db_prepare(c, &s,
                        "UPDATE sellers SET phone = COALESCE(?, phone), name = ?, category = ?, "
                        "lat = ?, lng = ?, district = ?, neighborhood = ?, density = ?, "
                        "stock_status = ?, price_min = ?, price_max = ?, currency = ?, "
                        "max_discount = ?, capacity = ?, auto_approve = ?, opening_hours = ?, "
                        "updated_at = ? WHERE id = ? AND tenant_id = ? RETURNING " SELLER_COLS,
                        e);
    else if (!rc)
        rc = db_prepare(c, &s,
                        "INSERT INTO sellers (phone, name, category, lat, lng, district, "
                        "neighborhood, density, stock_status, price_min, price_max, currency, "
                        "max_discount, capacity, auto_approve, opening_hours, updated_at, "
                        "public_id, tenant_id, supply_kind, supply_until, created_at) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        "RETURNING " SELLER_COLS,
                        e);
    if (rc)
        return rc;
    if (empty(sl->phone))
        db_bind_null(s, 1);
    else
        db_bind_text(s, 1, sl->phone);
    db_bind_text(s, 2, nz(sl->name));
    db_bind_text(s, 3, sl->category);
    db_bind_f64(s, 4, sl->loc.lat);
    db_bind_f64(s, 5, sl->loc.lng);
    db_bind_text(s, 6, nz(sl->loc.district));
    db_bind_text(s, 7, nz(sl->loc.neighborhood));
    db_bind_text(s, 8, flash_density_names[sl->density]);
    db_bind_text(s, 9, nz(sl->stock_status));
    db_bind_i64(s, 10, sl->price_min);
    db_bind_i64(s, 11, sl->price_max);
    db_bind_text(s, 12, empty(sl->currency) ? "TRY" : sl->currency);
    db_bind_i64(s, 13, sl->max_discount);
    db_bind_i64(s, 14, sl->capacity);
    db_bind_bool(s, 15, sl->auto_approve);
    db_bind_text(s, 16, nz(sl->opening_hours));
    db_bind_time(s, 17, now_ms);
    if (pk) {
        db_bind_i64(s, 18, pk);
        db_bind_i64(s, 19, tenant);
    } else {
        db_bind_text(s, 18, id);
        db_bind_i64(s, 19, tenant);
        db_bind_text(s, 20, flash_supply_names[sl->supply_kind]);
        if (sl->supply_until)
            db_bind_time(s, 21, sl->supply_until);
        else
            db_bind_null(s, 21);
        db_bind_time(s, 22, now_ms);
    }
    int st = db_step(s, e);
    if (st == DB_ROW) {
        read_seller(s, a, sl);
        *created = !pk;
    } else if (st == DB_DONE) {
        rc = err_set_field(e, ERR_NOT_FOUND, "id", "seller vanished during the update");
    } else {
        rc = db_step_error(e);
    }
    db_stmt_done(s);
    if (rc == ERR_CONFLICT)
        rc = err_replace(e, ERR_CONFLICT, "id", "a seller with this id or phone already exists");
    return rc;
}

int flash_store_seller_upsert(struct db_conn *c, int64_t tenant, struct flash_seller *sl,
                              int64_t now_ms, struct arena *a, bool *created, struct err *e)
{
    int rc = check_seller(sl, e);
    if (rc)
        return rc;
    bool own;
    rc = db_begin_own(c, &own, e);
    if (rc)
        return rc;
    int64_t pk = 0;
    rc =
        upsert_target(c, tenant, sl->id, sl->phone,
                      "SELECT id FROM sellers WHERE tenant_id = ? AND public_id = ?",
                      "SELECT id FROM sellers WHERE tenant_id = ? AND phone = ?", "seller", &pk, e);
    if (!rc)
        rc = seller_write(c, tenant, sl, pk, now_ms, a, created, e);
    return db_end_own(c, own, rc, e);
}

static void seller_row(struct db_stmt *s, struct arena *a, void *out)
{
    read_seller(s, a, out);
}

static int seller_get_by(struct db_conn *c, const char *sql, int64_t tenant, const char *key,
                         int64_t pk, struct arena *a, struct flash_seller *out, struct err *e)
{
    bool found;
    int rc = db_get_one(c, sql, tenant, key, pk, seller_row, a, out, &found, e);
    if (!rc && !found)
        rc = err_set_field(e, ERR_NOT_FOUND, "seller", "no such seller");
    return rc;
}

int flash_store_seller_get(struct db_conn *c, int64_t tenant, const char *key, bool by_phone,
                           struct arena *a, struct flash_seller *out, struct err *e)
{
    return seller_get_by(c,
                         by_phone ? "SELECT " SELLER_COLS " FROM sellers WHERE tenant_id = ? "
                                    "AND phone = ?"
                                  : "SELECT " SELLER_COLS " FROM sellers WHERE tenant_id = ? "
                                    "AND public_id = ?",
                         tenant, nz(key), 0, a, out, e);
}

int flash_store_seller_get_pk(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                              struct flash_seller *out, struct err *e)
{
    return seller_get_by(c, "SELECT " SELLER_COLS " FROM sellers WHERE tenant_id = ? AND id = ?",
                         tenant, NULL, pk, a, out, e);
}

static int seller_rows(struct db_stmt *s, struct arena *a, struct flash_seller **rows, size_t *n,
                       struct err *e)
{
    void *out;
    int rc_list = db_list(s, read_seller, sizeof(struct flash_seller), a, &out, n, e);
    *rows = out;
    return rc_list;
}

int flash_store_seller_list(struct db_conn *c, int64_t tenant, const struct flash_list_filter *f,
                            struct arena *a, struct flash_seller **rows, size_t *n, struct err *e)
{
    struct flash_list_filter none = {0};
    if (!f)
        f = &none;
    struct buf q;
    buf_init(&q, SQL_MAX);
    buf_appends(&q, "SELECT " SELLER_COLS " FROM sellers WHERE tenant_id = ? AND id > ?");
    if (!empty(f->category))
        buf_appends(&q, " AND category = ?");
    if (!empty(f->district))
        buf_appends(&q, " AND district = ?");
    buf_appends(&q, " ORDER BY id LIMIT ?");
    struct db_stmt *s;
    int rc = db_prepare(c, &s, buf_str(&q), e);
    buf_release(&q);
    if (rc)
        return rc;
    int i = 1;
    db_bind_i64(s, i++, tenant);
    db_bind_i64(s, i++, f->after_pk > 0 ? f->after_pk : 0);
    if (!empty(f->category))
        db_bind_text(s, i++, f->category);
    if (!empty(f->district))
        db_bind_text(s, i++, f->district);
    db_bind_i64(s, i, db_page_limit(f->limit, FLASH_LIST_DEFAULT, FLASH_LIST_MAX));
    return seller_rows(s, a, rows, n, e);
}

int flash_store_seller_all(struct db_conn *c, int64_t tenant, struct arena *a,
                           struct flash_seller **rows, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc =
        db_prepare(c, &s, "SELECT " SELLER_COLS " FROM sellers WHERE tenant_id = ? ORDER BY id", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    return seller_rows(s, a, rows, n, e);
}

/* ======================== signals ======================== */

/* The insert of flash_store_demand_add, once the buyer is known to be the tenant's. */
static int demand_insert(struct db_conn *c, int64_t tenant, const struct flash_demand_in *d,
                         int64_t now_ms, int64_t *pk, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO demand_signals (tenant_id, buyer_id, text, product, category, "
                        "budget, currency, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                        "?) RETURNING id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, d->buyer_pk);
    db_bind_text(s, 3, nz(d->text));
    db_bind_text(s, 4, nz(d->product));
    db_bind_text(s, 5, nz(d->category));
    db_bind_i64(s, 6, d->budget);
    db_bind_text(s, 7, empty(d->currency) ? "TRY" : d->currency);
    db_bind_time(s, 8, d->expires_at);
    db_bind_time(s, 9, now_ms);
    bool found = false;
    int64_t id = 0;
    rc = db_one_i64(s, &id, &found, e);
    if (!rc && !found)
        rc = err_set(e, ERR_DB, "demand insert returned no id");
    if (!rc && pk)
        *pk = id;
    return rc;
}

int flash_store_demand_add(struct db_conn *c, int64_t tenant, const struct flash_demand_in *d,
                           int64_t now_ms, int64_t *pk, struct err *e)
{
    if (d->budget < 0)
        return err_set_field(e, ERR_INVALID, "budget", "budget cannot be negative");
    int rc = db_check_owned(c, OWNED_BUYER, tenant, d->buyer_pk, "buyer", e);
    return rc ? rc : demand_insert(c, tenant, d, now_ms, pk, e);
}

int flash_store_demand_add_for(struct db_conn *c, int64_t tenant, const char *buyer_id,
                               struct flash_demand_in *d, int64_t now_ms, int64_t *pk,
                               struct err *e)
{
    if (d->budget < 0)
        return err_set_field(e, ERR_INVALID, "budget", "budget cannot be negative");
    int64_t buyer_pk = 0;
    int rc = db_find_pk(c, "SELECT id FROM buyers WHERE tenant_id = ? AND public_id = ?", tenant,
                        nz(buyer_id), &buyer_pk, e);
    if (rc)
        return rc;
    if (!buyer_pk)
        return err_set_field(e, ERR_NOT_FOUND, "buyer_id", "no buyer %s", nz(buyer_id));
    d->buyer_pk = buyer_pk;
    return demand_insert(c, tenant, d, now_ms, pk, e);
}

#define DEMAND_SELECT                                                                              \
    "SELECT d.id, d.buyer_id, b.public_id, b.lat, b.lng, b.district, b.neighborhood, d.text, "     \
    "d.product, d.category, d.budget, d.expires_at, b.commits, b.shows, " CONTACTS_MARKETING_SQL(  \
        "b.tenant_id", "b.phone") " "                                                              \
                                  "FROM demand_signals d JOIN buyers b ON b.id = d.buyer_id "

static int demand_rows(struct db_stmt *s, struct arena *a, struct flash_demand **rows, size_t *n,
                       struct err *e)
{
    size_t cap = 0, used = 0;
    struct flash_demand *out = NULL;
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        out = arena_grow(a, out, used, &cap, sizeof(*out));
        struct flash_demand *d = &out[used++];
        d->pk = db_col_i64(s, 0);
        d->buyer_pk = db_col_i64(s, 1);
        d->buyer_id = db_col_str(s, 2, a);
        d->loc.lat = db_col_f64(s, 3);
        d->loc.lng = db_col_f64(s, 4);
        d->loc.district = db_col_str(s, 5, a);
        d->loc.neighborhood = db_col_str(s, 6, a);
        d->text = db_col_str(s, 7, a);
        d->product = db_col_str(s, 8, a);
        d->category = db_col_str(s, 9, a);
        d->budget = db_col_i64(s, 10);
        d->expires_at = db_col_time(s, 11);
        struct flash_buyer b = {0};
        b.commits = (int)db_col_i64(s, 12);
        b.shows = (int)db_col_i64(s, 13);
        d->reliability = flash_buyer_reliability(&b);
        d->consent = db_col_bool(s, 14);
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    *rows = out;
    *n = used;
    return 0;
}

int flash_store_demand_active(struct db_conn *c, int64_t tenant, int64_t now_ms, struct arena *a,
                              struct flash_demand **rows, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(
        c, &s, DEMAND_SELECT "WHERE d.tenant_id = ? AND d.expires_at > ? ORDER BY d.id", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_time(s, 2, now_ms);
    return demand_rows(s, a, rows, n, e);
}

int flash_store_demand_of_buyer(struct db_conn *c, int64_t tenant, int64_t buyer_pk, int64_t now_ms,
                                struct arena *a, struct flash_demand **rows, size_t *n,
                                struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        DEMAND_SELECT "WHERE d.tenant_id = ? AND d.buyer_id = ? AND "
                                      "d.expires_at > ? ORDER BY d.id DESC",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, buyer_pk);
    db_bind_time(s, 3, now_ms);
    return demand_rows(s, a, rows, n, e);
}

int flash_store_supply_add(struct db_conn *c, int64_t tenant, const struct flash_supply_in *in,
                           int64_t now_ms, int64_t *pk, struct err *e)
{
    if ((unsigned)in->kind > FLASH_SUPPLY_PROMOTION)
        return err_set_field(e, ERR_INVALID, "kind", "unknown supply kind");
    if (in->has_density && (unsigned)in->density > FLASH_DENSITY_HIGH)
        return err_set_field(e, ERR_INVALID, "density", "unknown density");
    bool own;
    int rc = db_begin_own(c, &own, e);
    if (rc)
        return rc;
    /*
     * The latest state on the seller: kind and expiry always, density when reported, and a
     * surplus signal marks the stock.
     */
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "UPDATE sellers SET supply_kind = ?, supply_until = ?, "
                    "density = COALESCE(?, density), stock_status = COALESCE(?, stock_status), "
                    "updated_at = ? WHERE id = ? AND tenant_id = ?",
                    e);
    if (rc)
        return db_end_own(c, own, rc, e);
    db_bind_text(s, 1, flash_supply_names[in->kind]);
    db_bind_time(s, 2, in->expires_at);
    if (in->has_density)
        db_bind_text(s, 3, flash_density_names[in->density]);
    else
        db_bind_null(s, 3);
    if (in->stock_status && *in->stock_status)
        db_bind_text(s, 4, in->stock_status);
    else if (in->kind == FLASH_SUPPLY_SURPLUS)
        db_bind_text(s, 4, "surplus");
    else
        db_bind_null(s, 4);
    db_bind_time(s, 5, now_ms);
    db_bind_i64(s, 6, in->seller_pk);
    db_bind_i64(s, 7, tenant);
    int64_t changed = 0;
    rc = db_exec_write(s, &changed, e);
    if (!rc && !changed)
        rc = err_set_field(e, ERR_NOT_FOUND, "seller", "no seller %lld in this tenant",
                           (long long)in->seller_pk);
    if (rc)
        return db_end_own(c, own, rc, e);
    rc = db_prepare(c, &s,
                    "INSERT INTO supply_signals (tenant_id, seller_id, kind, density, text, "
                    "product, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "RETURNING id",
                    e);
    if (rc)
        return db_end_own(c, own, rc, e);
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, in->seller_pk);
    db_bind_text(s, 3, flash_supply_names[in->kind]);
    if (in->has_density)
        db_bind_text(s, 4, flash_density_names[in->density]);
    else
        db_bind_null(s, 4);
    db_bind_text(s, 5, nz(in->text));
    db_bind_text(s, 6, nz(in->product));
    db_bind_time(s, 7, in->expires_at);
    db_bind_time(s, 8, now_ms);
    bool found = false;
    int64_t id = 0;
    rc = db_one_i64(s, &id, &found, e);
    if (!rc && !found)
        rc = err_set(e, ERR_DB, "supply insert returned no id");
    if (!rc && pk)
        *pk = id;
    return db_end_own(c, own, rc, e);
}

/* Hour of the week (0 = Monday 00:00) of a UTC time seen at `tz_offset_min`. */
static int hour_of_week(int64_t ms, int tz_offset_min)
{
    int64_t local = ms + (int64_t)tz_offset_min * 60000;
    int64_t hours = local / 3600000;
    if (local % 3600000 < 0)
        hours--;
    /* 1970-01-01 00:00 was a Thursday: hour 3 * 24 of the week. */
    int64_t h = (hours + 3 * 24) % 168;
    return (int)(h < 0 ? h + 168 : h);
}

int flash_store_busy_profile(struct db_conn *c, int64_t tenant, int64_t seller_pk, int64_t since_ms,
                             int tz_offset_min, struct flash_busy_profile *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    /* Date functions differ between the backends, so the hours are computed here. */
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT created_at, density FROM supply_signals WHERE tenant_id = ? AND "
                        "seller_id = ? AND density IS NOT NULL AND created_at >= ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, seller_pk);
    db_bind_time(s, 3, since_ms);
    double sum[168] = {0};
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        int h = hour_of_week(db_col_time(s, 0), tz_offset_min);
        int d = name_index(flash_density_names, db_col_text(s, 1), FLASH_DENSITY_MEDIUM);
        sum[h] += d == FLASH_DENSITY_HIGH ? 1.0 : d == FLASH_DENSITY_MEDIUM ? 0.5 : 0.0;
        out->samples[h]++;
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    for (int h = 0; h < 168; h++)
        out->busy[h] = out->samples[h] ? (float)(sum[h] / out->samples[h]) : 0.0f;
    return 0;
}

/* ======================== windows ======================== */

#define WINDOW_SELECT                                                                              \
    "SELECT w.id, w.seller_id, s.public_id, s.name, s.lat, s.lng, s.district, s.neighborhood, "    \
    "w.title, w.description, w.discount_percent, w.static_price, w.bundle_info, w.currency, "      \
    "w.start_at, w.end_at, w.status, w.capacity, w.min_participants, w.score, w.trace, "           \
    "w.cancel_reason, w.analytics, w.origin, "                                                     \
    "(SELECT COUNT(*) FROM window_targets t WHERE t.window_id = w.id), "                           \
    "(SELECT COUNT(*) FROM precommits p WHERE p.window_id = w.id AND p.status = 'active'), "       \
    "(SELECT COUNT(*) FROM participants q WHERE q.window_id = w.id), "                             \
    "(SELECT COUNT(*) FROM participants q WHERE q.window_id = w.id AND "                           \
    "q.redeemed_at IS NOT NULL), "                                                                 \
    "w.created_at, w.updated_at, w.product, w.prepay FROM flash_windows w JOIN sellers s ON "      \
    "s.id = "                                                                                      \
    "w.seller_id "

#define OPEN_STATUSES "('PROPOSED', 'SCHEDULED', 'ACTIVE')"

static void read_window(struct db_stmt *s, struct arena *a, void *out)
{
    struct flash_window *w = out;
    memset(w, 0, sizeof(*w));
    w->pk = db_col_i64(s, 0);
    w->seller_pk = db_col_i64(s, 1);
    w->seller_id = db_col_str(s, 2, a);
    w->seller_name = db_col_str(s, 3, a);
    w->seller_loc.lat = db_col_f64(s, 4);
    w->seller_loc.lng = db_col_f64(s, 5);
    w->seller_loc.district = db_col_str(s, 6, a);
    w->seller_loc.neighborhood = db_col_str(s, 7, a);
    w->title = db_col_str(s, 8, a);
    w->description = db_col_str(s, 9, a);
    w->discount_percent = (int)db_col_i64(s, 10);
    w->static_price = db_col_i64(s, 11);
    w->bundle_info = db_col_str(s, 12, a);
    w->currency = db_col_str(s, 13, a);
    w->start_ms = db_col_time(s, 14);
    w->end_ms = db_col_time(s, 15);
    w->status = (enum flash_window_status)name_index(flash_status_names, db_col_text(s, 16),
                                                     FLASH_WINDOW_CANCELLED);
    w->capacity = (int)db_col_i64(s, 17);
    w->min_participants = (int)db_col_i64(s, 18);
    w->score = db_col_f64(s, 19);
    w->trace_json = db_col_str(s, 20, a);
    w->cancel_reason = db_col_str(s, 21, a);
    w->analytics_json = db_col_str(s, 22, a);
    w->origin = db_col_str(s, 23, a);
    w->targeted = (int)db_col_i64(s, 24);
    w->committed = (int)db_col_i64(s, 25);
    w->joined = (int)db_col_i64(s, 26);
    w->redeemed = (int)db_col_i64(s, 27);
    w->created_at = db_col_time(s, 28);
    w->updated_at = db_col_time(s, 29);
    w->product = db_col_str(s, 30, a);
    w->prepay = db_col_i64(s, 31) != 0;
}

static int check_window(const struct flash_window *w, const struct flash_window_target *targets,
                        size_t n_targets, struct err *e)
{
    if (empty(w->title))
        return err_set_field(e, ERR_INVALID, "title", "title is required");
    if (w->end_ms <= w->start_ms)
        return err_set_field(e, ERR_INVALID, "end", "a window must end after it starts");
    if (w->capacity < 1)
        return err_set_field(e, ERR_INVALID, "capacity", "capacity must be at least 1");
    if (w->min_participants < 0)
        return err_set_field(e, ERR_INVALID, "min_participants",
                             "min_participants cannot be negative");
    if (w->discount_percent < 0 || w->discount_percent > 100)
        return err_set_field(e, ERR_INVALID, "discount_percent",
                             "discount_percent must be in 0..100");
    if (w->static_price < 0)
        return err_set_field(e, ERR_INVALID, "static_price", "static_price cannot be negative");
    if ((unsigned)w->status > FLASH_WINDOW_CANCELLED)
        return err_set_field(e, ERR_INVALID, "status", "unknown window status");
    if (!empty(w->origin) && !str_eq(w->origin, "engine") && !str_eq(w->origin, "manual"))
        return err_set_field(e, ERR_INVALID, "origin", "origin must be engine or manual");
    for (size_t i = 0; i < n_targets; i++) {
        if (!(targets[i].distance_m >= 0) || targets[i].discount < 0 || targets[i].discount > 100)
            return err_set_field(e, ERR_INVALID, "targets",
                                 "target %zu: distance must be >= 0, discount 0..100", i);
    }
    return 0;
}

static int insert_targets(struct db_conn *c, int64_t tenant, int64_t window_pk,
                          const struct flash_window_target *targets, size_t n, int64_t now_ms,
                          struct err *e)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = db_check_owned(c, OWNED_BUYER, tenant, targets[i].buyer_pk, "buyer", e);
    if (rc || n == 0)
        return rc;
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "INSERT INTO window_targets (tenant_id, window_id, buyer_id, distance_m, "
                    "discount, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, window_pk);
    db_bind_time(s, 6, now_ms);
    for (size_t i = 0; i < n; i++) {
        db_bind_i64(s, 3, targets[i].buyer_pk);
        db_bind_f64(s, 4, targets[i].distance_m);
        db_bind_i64(s, 5, targets[i].discount);
        if (db_step(s, e) == DB_ERROR) {
            rc = db_step_error(e);
            break;
        }
    }
    db_stmt_done(s);
    if (rc == ERR_CONFLICT)
        rc = err_replace(e, ERR_CONFLICT, "targets", "a buyer is targeted twice");
    return rc;
}

int flash_store_window_insert(struct db_conn *c, int64_t tenant, struct flash_window *w,
                              const struct flash_window_target *targets, size_t n_targets,
                              int64_t now_ms, struct err *e)
{
    int rc = check_window(w, targets, n_targets, e);
    if (rc)
        return rc;
    bool own;
    rc = db_begin_own(c, &own, e);
    if (rc)
        return rc;
    rc = db_check_owned(c, OWNED_SELLER, tenant, w->seller_pk, "seller", e);
    struct db_stmt *s = NULL;
    if (!rc)
        rc = db_prepare(c, &s,
                        "INSERT INTO flash_windows (tenant_id, seller_id, title, description, "
                        "discount_percent, static_price, bundle_info, currency, start_at, "
                        "end_at, status, capacity, min_participants, score, trace, "
                        "cancel_reason, analytics, origin, created_at, updated_at, product, "
                        "prepay) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        "RETURNING id",
                        e);
    if (rc)
        return db_end_own(c, own, rc, e);
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, w->seller_pk);
    db_bind_text(s, 3, w->title);
    db_bind_text(s, 4, nz(w->description));
    db_bind_i64(s, 5, w->discount_percent);
    db_bind_i64(s, 6, w->static_price);
    db_bind_text(s, 7, nz(w->bundle_info));
    db_bind_text(s, 8, empty(w->currency) ? "TRY" : w->currency);
    db_bind_time(s, 9, w->start_ms);
    db_bind_time(s, 10, w->end_ms);
    db_bind_text(s, 11, flash_status_names[w->status]);
    db_bind_i64(s, 12, w->capacity);
    db_bind_i64(s, 13, w->min_participants);
    db_bind_f64(s, 14, w->score);
    db_bind_text(s, 15, nz(w->trace_json));
    db_bind_text(s, 16, w->status == FLASH_WINDOW_CANCELLED ? nz(w->cancel_reason) : "");
    db_bind_text(s, 17, nz(w->analytics_json));
    db_bind_text(s, 18, empty(w->origin) ? "engine" : w->origin);
    db_bind_time(s, 19, now_ms);
    db_bind_time(s, 20, now_ms);
    db_bind_text(s, 21, nz(w->product));
    db_bind_i64(s, 22, w->prepay ? 1 : 0);
    bool found = false;
    int64_t pk = 0;
    rc = db_one_i64(s, &pk, &found, e);
    if (!rc && !found)
        rc = err_set(e, ERR_DB, "window insert returned no id");
    if (!rc)
        rc = insert_targets(c, tenant, pk, targets, n_targets, now_ms, e);
    rc = db_end_own(c, own, rc, e);
    if (!rc) {
        w->pk = pk;
        w->created_at = now_ms;
        w->updated_at = now_ms;
    }
    return rc;
}

static void window_row(struct db_stmt *s, struct arena *a, void *out)
{
    read_window(s, a, out);
}

int flash_store_window_get(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                           struct flash_window *out, struct err *e)
{
    bool found;
    int rc = db_get_one(c, WINDOW_SELECT "WHERE w.tenant_id = ? AND w.id = ?", tenant, NULL, pk,
                        window_row, a, out, &found, e);
    if (!rc && !found)
        rc = err_set_field(e, ERR_NOT_FOUND, "window", "no window %lld in this tenant",
                           (long long)pk);
    return rc;
}

int flash_store_window_list(struct db_conn *c, int64_t tenant, const struct flash_window_filter *f,
                            struct arena *a, struct flash_window **rows, size_t *n, struct err *e)
{
    struct flash_window_filter none = {.status = -1};
    if (!f)
        f = &none;
    bool by_status = f->status >= 0 && f->status <= FLASH_WINDOW_CANCELLED;
    struct buf q;
    buf_init(&q, SQL_MAX);
    buf_appends(&q, WINDOW_SELECT "WHERE w.tenant_id = ?");
    if (by_status)
        buf_appends(&q, " AND w.status = ?");
    if (f->seller_pk > 0)
        buf_appends(&q, " AND w.seller_id = ?");
    if (f->buyer_pk > 0)
        buf_appends(&q, " AND EXISTS (SELECT 1 FROM window_targets t2 "
                        "WHERE t2.window_id = w.id AND t2.buyer_id = ?)");
    if (f->open_only)
        buf_appends(&q, " AND w.status IN " OPEN_STATUSES);
    if (f->after_pk > 0)
        buf_appends(&q, " AND w.id < ?");
    buf_appends(&q, " ORDER BY w.id DESC LIMIT ?");
    struct db_stmt *s;
    int rc = db_prepare(c, &s, buf_str(&q), e);
    buf_release(&q);
    if (rc)
        return rc;
    int i = 1;
    db_bind_i64(s, i++, tenant);
    if (by_status)
        db_bind_text(s, i++, flash_status_names[f->status]);
    if (f->seller_pk > 0)
        db_bind_i64(s, i++, f->seller_pk);
    if (f->buyer_pk > 0)
        db_bind_i64(s, i++, f->buyer_pk);
    if (f->after_pk > 0)
        db_bind_i64(s, i++, f->after_pk);
    db_bind_i64(s, i, db_page_limit(f->limit, FLASH_LIST_DEFAULT, FLASH_LIST_MAX));
    void *out;
    int rc_list = db_list(s, read_window, sizeof(struct flash_window), a, &out, n, e);
    *rows = out;
    return rc_list;
}

/* The newest window id from a statement taking (tenant, owner pk); 0 when none. */
static int latest_id(struct db_conn *c, const char *sql, int64_t tenant, int64_t owner, int64_t *pk,
                     struct err *e)
{
    *pk = 0;
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, owner);
    bool found = false;
    return db_one_i64(s, pk, &found, e);
}

int flash_store_window_open_of_seller(struct db_conn *c, int64_t tenant, int64_t seller_pk,
                                      int64_t *pk, struct err *e)
{
    return latest_id(c,
                     "SELECT id FROM flash_windows WHERE tenant_id = ? AND seller_id = ? AND "
                     "status IN " OPEN_STATUSES " ORDER BY id DESC LIMIT 1",
                     tenant, seller_pk, pk, e);
}

int flash_store_window_transition(struct db_conn *c, int64_t tenant, int64_t pk, unsigned from_mask,
                                  enum flash_window_status to, const char *reason, int64_t now_ms,
                                  bool *changed, struct err *e)
{
    *changed = false;
    if ((unsigned)to > FLASH_WINDOW_CANCELLED)
        return err_set_field(e, ERR_INVALID, "status", "unknown window status");
    /* The guard is a literal IN list of the allowed names, so the update is one statement. */
    struct buf q;
    buf_init(&q, SQL_MAX);
    buf_appends(&q, "UPDATE flash_windows SET status = ?, cancel_reason = ?, updated_at = ? "
                    "WHERE tenant_id = ? AND id = ? AND status IN (");
    int n = 0;
    for (int i = 0; i <= FLASH_WINDOW_CANCELLED; i++) {
        if (from_mask & (1u << i))
            buf_appendf(&q, "%s'%s'", n++ ? ", " : "", flash_status_names[i]);
    }
    buf_appends(&q, ")");
    int rc = 0;
    int64_t done = 0;
    if (n > 0) {
        struct db_stmt *s;
        rc = db_prepare(c, &s, buf_str(&q), e);
        if (!rc) {
            db_bind_text(s, 1, flash_status_names[to]);
            db_bind_text(s, 2, to == FLASH_WINDOW_CANCELLED ? nz(reason) : "");
            db_bind_time(s, 3, now_ms);
            db_bind_i64(s, 4, tenant);
            db_bind_i64(s, 5, pk);
            rc = db_exec_write(s, &done, e);
        }
    }
    buf_release(&q);
    if (rc)
        return rc;
    *changed = done > 0;
    /* Not changed: a window in another state is fine, a missing one is an error. */
    return done ? 0 : db_check_owned(c, OWNED_WINDOW, tenant, pk, "window", e);
}

int flash_store_window_set_analytics(struct db_conn *c, int64_t tenant, int64_t pk,
                                     const char *json, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE flash_windows SET analytics = ? WHERE tenant_id = ? AND id = ?", e);
    if (rc)
        return rc;
    db_bind_text(s, 1, nz(json));
    db_bind_i64(s, 2, tenant);
    db_bind_i64(s, 3, pk);
    int64_t changed = 0;
    rc = db_exec_write(s, &changed, e);
    if (!rc && !changed)
        rc = err_set_field(e, ERR_NOT_FOUND, "window", "no window %lld in this tenant",
                           (long long)pk);
    return rc;
}

int flash_store_window_targets(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                               struct flash_window_target **rows, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT t.buyer_id, b.public_id, t.distance_m, t.discount "
                        "FROM window_targets t JOIN buyers b ON b.id = t.buyer_id "
                        "WHERE t.tenant_id = ? AND t.window_id = ? "
                        "ORDER BY t.distance_m, t.buyer_id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, pk);
    size_t cap = 0, used = 0;
    struct flash_window_target *out = NULL;
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        out = arena_grow(a, out, used, &cap, sizeof(*out));
        out[used].buyer_pk = db_col_i64(s, 0);
        out[used].buyer_id = db_col_str(s, 1, a);
        out[used].distance_m = db_col_f64(s, 2);
        out[used].discount = (int)db_col_i64(s, 3);
        used++;
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    *rows = out;
    *n = used;
    return 0;
}

int flash_store_window_target_of(struct db_conn *c, int64_t tenant, int64_t pk, int64_t buyer_pk,
                                 bool *is_target, int *discount, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT discount FROM window_targets WHERE tenant_id = ? AND "
                        "window_id = ? AND buyer_id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, pk);
    db_bind_i64(s, 3, buyer_pk);
    int64_t d = 0;
    rc = db_one_i64(s, &d, is_target, e);
    if (discount)
        *discount = *is_target ? (int)d : 0;
    return rc;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

int flash_store_precommit_counts(struct db_conn *c, int64_t tenant, const int64_t *seller_pks,
                                 size_t n, int *counts, struct err *e)
{
    if (n == 0)
        return 0;
    memset(counts, 0, n * sizeof(*counts));
    struct db_stmt *s;
    int rc =
        db_prepare(c, &s,
                   "SELECT w.seller_id, COUNT(*) FROM precommits p "
                   "JOIN flash_windows w ON w.id = p.window_id "
                   "WHERE p.tenant_id = ? AND p.status = 'active' AND w.status IN " OPEN_STATUSES
                   " GROUP BY w.seller_id ORDER BY w.seller_id",
                   e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    /* Sorted (pk, index) pairs so each group finds its seller by binary search. */
    int64_t(*idx)[2] = xmalloc(n * sizeof(*idx));
    for (size_t i = 0; i < n; i++) {
        idx[i][0] = seller_pks[i];
        idx[i][1] = (int64_t)i;
    }
    qsort(idx, n, sizeof(*idx), cmp_i64);
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        int64_t key[2] = {db_col_i64(s, 0), 0};
        int64_t(*hit)[2] = bsearch(key, idx, n, sizeof(*idx), cmp_i64);
        /* A seller may be listed more than once: fill every copy. */
        while (hit && hit > idx && hit[-1][0] == key[0])
            hit--;
        for (; hit && hit < idx + n && (*hit)[0] == key[0]; hit++)
            counts[(*hit)[1]] = (int)db_col_i64(s, 1);
    }
    db_stmt_done(s);
    free(idx);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

int flash_store_latest_offer(struct db_conn *c, int64_t tenant, int64_t buyer_pk,
                             int64_t *window_pk, struct err *e)
{
    /*
     * Offers go out once a window is SCHEDULED; a PROPOSED window was never offered, and a
     * buyer who declined (a cancelled pre-commit) is not asked again.
     */
    return latest_id(c,
                     "SELECT w.id FROM window_targets t JOIN flash_windows w ON w.id = t.window_id "
                     "WHERE t.tenant_id = ? AND t.buyer_id = ? AND "
                     "w.status IN ('SCHEDULED', 'ACTIVE') AND NOT EXISTS (SELECT 1 FROM "
                     "precommits p WHERE p.window_id = w.id AND p.buyer_id = t.buyer_id AND "
                     "p.status = 'cancelled') ORDER BY w.id DESC LIMIT 1",
                     tenant, buyer_pk, window_pk, e);
}

bool flash_window_on_signal(const struct flash_window *w)
{
    return w->origin && strcmp(w->origin, "engine") == 0 && w->trace_json &&
           strstr(w->trace_json, "\"approval\":\"signal\"") != NULL;
}

int flash_store_latest_proposal(struct db_conn *c, int64_t tenant, int64_t seller_pk,
                                int64_t *window_pk, struct err *e)
{
    return latest_id(c,
                     "SELECT id FROM flash_windows WHERE tenant_id = ? AND seller_id = ? AND "
                     "(status = 'PROPOSED' OR (status = 'SCHEDULED' AND "
                     "trace LIKE '" FLASH_TRACE_ON_SIGNAL "')) ORDER BY id DESC LIMIT 1",
                     tenant, seller_pk, window_pk, e);
}

int flash_store_seller_respect(struct db_conn *c, int64_t tenant, int64_t seller_pk,
                               int64_t since_ms, int64_t declined_since_ms, int *asked,
                               bool *cooling, bool *unanswered, struct err *e)
{
    *asked = 0;
    *cooling = false;
    *unanswered = false;
    struct db_stmt *s;
    /* The draft's trace records how the seller was approached (engine.h). */
    int rc = db_prepare(c, &s,
                        "SELECT COUNT(*) FROM flash_windows WHERE tenant_id = ? AND seller_id = ? "
                        "AND origin = 'engine' AND created_at >= ? AND "
                        "trace LIKE '%\"approval\":\"ask-first\"%'",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, seller_pk);
    db_bind_time(s, 3, since_ms);
    int64_t n = 0;
    bool found = false;
    rc = db_one_i64(s, &n, &found, e);
    if (rc)
        return rc;
    *asked = (int)n;
    rc = db_prepare(c, &s,
                    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN w.updated_at >= ? THEN 1 ELSE 0 "
                    "END), 0) FROM flash_windows w WHERE w.tenant_id = ? AND "
                    "w.seller_id = ? AND w.status = 'CANCELLED' AND "
                    "w.cancel_reason = 'seller declined' AND NOT EXISTS "
                    "(SELECT 1 FROM supply_signals g WHERE g.tenant_id = w.tenant_id AND "
                    "g.seller_id = w.seller_id AND g.created_at > w.updated_at AND "
                    "(g.kind IN ('idle', 'surplus', 'promotion') OR g.density = 'low'))",
                    e);
    if (rc)
        return rc;
    db_bind_time(s, 1, declined_since_ms);
    db_bind_i64(s, 2, tenant);
    db_bind_i64(s, 3, seller_pk);
    rc = db_step(s, e);
    if (rc == DB_ROW) {
        *unanswered = db_col_i64(s, 0) > 0;
        *cooling = db_col_i64(s, 1) > 0;
        rc = 0;
    } else if (rc == DB_DONE) {
        rc = 0;
    } else {
        rc = e->code;
    }
    db_stmt_done(s);
    return rc;
}

int flash_store_buyer_overlaps(struct db_conn *c, int64_t tenant, int64_t buyer_pk,
                               int64_t start_ms, int64_t end_ms, bool *overlaps, struct err *e)
{
    *overlaps = false;
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT COUNT(*) FROM window_targets t JOIN flash_windows w ON "
                        "w.id = t.window_id WHERE t.tenant_id = ? AND t.buyer_id = ? AND "
                        "w.status IN " OPEN_STATUSES " AND w.start_at < ? AND w.end_at > ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, buyer_pk);
    db_bind_time(s, 3, end_ms);
    db_bind_time(s, 4, start_ms);
    int64_t n = 0;
    bool found = false;
    rc = db_one_i64(s, &n, &found, e);
    *overlaps = n > 0;
    return rc;
}

/* ======================== pre-commits, participants, redemption ======================== */

static int check_window_buyer(struct db_conn *c, int64_t tenant, int64_t window_pk,
                              int64_t buyer_pk, struct err *e)
{
    int rc = db_check_owned(c, OWNED_WINDOW, tenant, window_pk, "window", e);
    if (!rc)
        rc = db_check_owned(c, OWNED_BUYER, tenant, buyer_pk, "buyer", e);
    return rc;
}

int flash_store_precommit_add(struct db_conn *c, int64_t tenant, int64_t window_pk,
                              int64_t buyer_pk, int64_t now_ms, bool *created, struct err *e)
{
    *created = false;
    int rc = check_window_buyer(c, tenant, window_pk, buyer_pk, e);
    if (rc)
        return rc;
    /* New, or a cancelled one revived; an active one is left as it is. */
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "INSERT INTO precommits (tenant_id, window_id, buyer_id, status, created_at, "
                    "updated_at) VALUES (?, ?, ?, 'active', ?, ?) "
                    "ON CONFLICT (window_id, buyer_id) DO UPDATE SET status = 'active', "
                    "updated_at = excluded.updated_at WHERE precommits.status <> 'active'",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, window_pk);
    db_bind_i64(s, 3, buyer_pk);
    db_bind_time(s, 4, now_ms);
    db_bind_time(s, 5, now_ms);
    int64_t changes = 0;
    rc = db_exec_write(s, &changes, e);
    *created = !rc && changes > 0;
    return rc;
}

int flash_store_precommit_cancel(struct db_conn *c, int64_t tenant, int64_t window_pk,
                                 int64_t buyer_pk, int64_t now_ms, bool *changed, struct err *e)
{
    *changed = false;
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE precommits SET status = 'cancelled', updated_at = ? "
                        "WHERE tenant_id = ? AND window_id = ? AND buyer_id = ? AND "
                        "status = 'active'",
                        e);
    if (rc)
        return rc;
    db_bind_time(s, 1, now_ms);
    db_bind_i64(s, 2, tenant);
    db_bind_i64(s, 3, window_pk);
    db_bind_i64(s, 4, buyer_pk);
    int64_t n = 0;
    rc = db_exec_write(s, &n, e);
    if (rc || n > 0) {
        *changed = n > 0;
        return rc;
    }
    /* No active pre-commit: remember the refusal, so the offer is not asked again. */
    rc = check_window_buyer(c, tenant, window_pk, buyer_pk, e);
    if (rc)
        return rc;
    rc = db_prepare(c, &s,
                    "INSERT INTO precommits (tenant_id, window_id, buyer_id, status, created_at, "
                    "updated_at) VALUES (?, ?, ?, 'cancelled', ?, ?) "
                    "ON CONFLICT (window_id, buyer_id) DO NOTHING",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, window_pk);
    db_bind_i64(s, 3, buyer_pk);
    db_bind_time(s, 4, now_ms);
    db_bind_time(s, 5, now_ms);
    return db_exec_write(s, NULL, e);
}

int flash_store_precommit_buyers(struct db_conn *c, int64_t tenant, int64_t window_pk,
                                 struct arena *a, int64_t **buyer_pks, size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT buyer_id FROM precommits WHERE tenant_id = ? AND window_id = ? "
                        "AND status = 'active' ORDER BY id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, window_pk);
    size_t cap = 0, used = 0;
    int64_t *out = NULL;
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        out = arena_grow(a, out, used, &cap, sizeof(*out));
        out[used++] = db_col_i64(s, 0);
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    *buyer_pks = out;
    *n = used;
    return 0;
}

/* The participant row of (window, buyer) or of (window, code): pk, buyer, code, redeemed_at. */
struct participant {
    bool found;
    int64_t pk;
    int64_t buyer_pk;
    const char *code;
    int64_t redeemed_at;
};

static int participant_find(struct db_conn *c, const char *sql, int64_t tenant, int64_t window_pk,
                            const char *code, int64_t buyer_pk, struct arena *a,
                            struct participant *p, struct err *e)
{
    memset(p, 0, sizeof(*p));
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, window_pk);
    if (code)
        db_bind_text(s, 3, code);
    else
        db_bind_i64(s, 3, buyer_pk);
    int st = db_step(s, e);
    if (st == DB_ROW) {
        p->found = true;
        p->pk = db_col_i64(s, 0);
        p->buyer_pk = db_col_i64(s, 1);
        p->code = a ? db_col_str(s, 2, a) : NULL;
        p->redeemed_at = db_col_is_null(s, 3) ? 0 : db_col_time(s, 3);
    }
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

#define PARTICIPANT_BY_BUYER                                                                       \
    "SELECT id, buyer_id, code, redeemed_at FROM participants WHERE tenant_id = ? AND "            \
    "window_id = ? AND buyer_id = ?"
#define PARTICIPANT_BY_CODE                                                                        \
    "SELECT id, buyer_id, code, redeemed_at FROM participants WHERE tenant_id = ? AND "            \
    "window_id = ? AND code = ?"

int flash_store_join(struct db_conn *c, int64_t tenant, int64_t window_pk, int64_t buyer_pk,
                     const char *code, int64_t now_ms, struct arena *a, const char **code_out,
                     bool *created, struct err *e)
{
    *created = false;
    if (empty(code))
        return err_set_field(e, ERR_INVALID, "code", "a redemption code is required");
    int rc = check_window_buyer(c, tenant, window_pk, buyer_pk, e);
    if (rc)
        return rc;
    struct participant p;
    rc = participant_find(c, PARTICIPANT_BY_BUYER, tenant, window_pk, NULL, buyer_pk, a, &p, e);
    if (rc)
        return rc;
    if (p.found) {
        *code_out = p.code;
        return 0;
    }
    /*
     * Check the code first: on PostgreSQL a unique violation would abort the caller's
     * transaction, and the caller only needs to draw another code.
     */
    rc = participant_find(c, PARTICIPANT_BY_CODE, tenant, window_pk, code, 0, NULL, &p, e);
    if (rc)
        return rc;
    if (p.found)
        return err_set_field(e, ERR_CONFLICT, "code", "code already used in this window");
    struct db_stmt *s;
    rc = db_prepare(c, &s,
                    "INSERT INTO participants (tenant_id, window_id, buyer_id, code, joined_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (window_id, buyer_id) DO NOTHING",
                    e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, window_pk);
    db_bind_i64(s, 3, buyer_pk);
    db_bind_text(s, 4, code);
    db_bind_time(s, 5, now_ms);
    int64_t changes = 0;
    rc = db_exec_write(s, &changes, e);
    if (rc == ERR_CONFLICT)
        return err_replace(e, ERR_CONFLICT, "code", "code already used in this window");
    if (rc)
        return rc;
    if (changes > 0) {
        *created = true;
        *code_out = arena_strdup(a, code);
        return 0;
    }
    /* Joined concurrently: report the code that won. */
    rc = participant_find(c, PARTICIPANT_BY_BUYER, tenant, window_pk, NULL, buyer_pk, a, &p, e);
    if (!rc && !p.found)
        rc = err_set(e, ERR_DB, "participant vanished after join");
    if (!rc)
        *code_out = p.code;
    return rc;
}

int flash_store_redeem(struct db_conn *c, int64_t tenant, int64_t window_pk, const char *code,
                       int64_t now_ms, int64_t *buyer_pk, struct err *e)
{
    struct participant p;
    int rc = participant_find(c, PARTICIPANT_BY_CODE, tenant, window_pk, nz(code), 0, NULL, &p, e);
    if (rc)
        return rc;
    if (!p.found)
        return err_set_field(e, ERR_NOT_FOUND, "code", "no participant has this code");
    if (buyer_pk)
        *buyer_pk = p.buyer_pk;
    if (p.redeemed_at)
        return err_set_field(e, ERR_CONFLICT, "code", "code already redeemed");
    struct db_stmt *s;
    rc = db_prepare(
        c, &s, "UPDATE participants SET redeemed_at = ? WHERE id = ? AND redeemed_at IS NULL", e);
    if (rc)
        return rc;
    db_bind_time(s, 1, now_ms);
    db_bind_i64(s, 2, p.pk);
    int64_t changes = 0;
    rc = db_exec_write(s, &changes, e);
    if (!rc && !changes)
        rc = err_set_field(e, ERR_CONFLICT, "code", "code already redeemed");
    return rc;
}

int flash_store_fee_add(struct db_conn *c, int64_t tenant, int64_t seller_pk, int64_t window_pk,
                        int64_t buyer_pk, const char *code, const char *category, int64_t fee,
                        const char *currency, int64_t at_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO seller_fees (tenant_id, seller_id, window_id, buyer_id, code, "
                        "category, fee, currency, visited_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (window_id, code) DO NOTHING",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, seller_pk);
    db_bind_i64(s, 3, window_pk);
    if (buyer_pk)
        db_bind_i64(s, 4, buyer_pk);
    else
        db_bind_null(s, 4);
    db_bind_text(s, 5, nz(code));
    db_bind_text(s, 6, nz(category));
    db_bind_i64(s, 7, fee);
    db_bind_text(s, 8, currency && *currency ? currency : "TRY");
    db_bind_time(s, 9, at_ms);
    return db_exec_write(s, NULL, e);
}

static void read_statement_line(struct db_stmt *s, struct arena *a, void *out)
{
    struct flash_statement_line *l = out;
    l->window_pk = db_col_i64(s, 0);
    l->title = db_col_str(s, 1, a);
    l->currency = db_col_str(s, 2, a);
    l->visits = db_col_i64(s, 3);
    l->fees = db_col_i64(s, 4);
}

int flash_store_statement(struct db_conn *c, int64_t tenant, int64_t seller_pk, int64_t from_ms,
                          int64_t to_ms, struct arena *a, struct flash_statement_line **lines,
                          size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT f.window_id, w.title, f.currency, COUNT(*), SUM(f.fee) FROM "
                        "seller_fees f JOIN flash_windows w ON w.id = f.window_id AND w.tenant_id "
                        "= f.tenant_id WHERE f.tenant_id = ? AND f.seller_id = ? AND "
                        "f.visited_at >= ? AND f.visited_at < ? GROUP BY f.window_id, w.title, "
                        "f.currency ORDER BY f.window_id, f.currency",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, seller_pk);
    db_bind_time(s, 3, from_ms);
    db_bind_time(s, 4, to_ms);
    void *rows;
    rc = db_list(s, read_statement_line, sizeof(struct flash_statement_line), a, &rows, n, e);
    *lines = rows;
    return rc;
}

int flash_store_offers_since(struct db_conn *c, int64_t tenant, int64_t buyer_pk, int64_t since_ms,
                             int *count, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT COUNT(*) FROM window_targets WHERE tenant_id = ? AND "
                        "buyer_id = ? AND created_at >= ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, buyer_pk);
    db_bind_time(s, 3, since_ms);
    int64_t n = 0;
    bool found = false;
    rc = db_one_i64(s, &n, &found, e);
    *count = (int)n;
    return rc;
}

int flash_store_buyer_state(struct db_conn *c, int64_t tenant, int64_t window_pk, int64_t buyer_pk,
                            struct arena *a, bool *committed, const char **code, bool *redeemed,
                            struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT (SELECT COUNT(*) FROM precommits WHERE tenant_id = ? AND "
                        "window_id = ? AND buyer_id = ? AND status = 'active'), q.code, "
                        "q.redeemed_at FROM (SELECT 1 AS one) x LEFT JOIN participants q ON "
                        "q.tenant_id = ? AND q.window_id = ? AND q.buyer_id = ?",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, window_pk);
    db_bind_i64(s, 3, buyer_pk);
    db_bind_i64(s, 4, tenant);
    db_bind_i64(s, 5, window_pk);
    db_bind_i64(s, 6, buyer_pk);
    int st = db_step(s, e);
    *committed = false;
    *code = "";
    *redeemed = false;
    if (st == DB_ROW) {
        *committed = db_col_i64(s, 0) > 0;
        *code = db_col_str(s, 1, a);
        *redeemed = !db_col_is_null(s, 2);
    }
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

int flash_store_version(struct db_conn *c, int64_t tenant, int64_t *version, struct err *e)
{
    *version = 0;
    struct db_stmt *s;
    int rc = db_prepare(c, &s, "SELECT version FROM flash_versions WHERE tenant_id = ?", e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    bool found;
    return db_one_i64(s, version, &found, e);
}

int flash_store_scan_version(struct db_conn *c, int64_t tenant, int64_t *scan, int64_t *windows,
                             struct err *e)
{
    *scan = *windows = 0;
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "SELECT COALESCE((SELECT version FROM flash_scan_versions WHERE tenant_id "
                        "= ?), 0), COALESCE((SELECT version FROM flash_versions WHERE tenant_id "
                        "= ?), 0)",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, tenant);
    int st = db_step(s, e);
    if (st == DB_ROW) {
        *scan = db_col_i64(s, 0);
        *windows = db_col_i64(s, 1);
    }
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

/* ======================== prepaid windows ======================== */

#define PREPAY_SELECT                                                                              \
    "SELECT p.id, p.window_id, p.buyer_id, p.order_id, o.public_id, p.amount, p.currency, "        \
    "p.status FROM flash_prepay p JOIN orders o ON o.order_id = p.order_id "

static void read_prepay(struct db_stmt *s, struct arena *a, void *out)
{
    struct flash_prepay *p = out;
    p->pk = db_col_i64(s, 0);
    p->window_pk = db_col_i64(s, 1);
    p->buyer_pk = db_col_is_null(s, 2) ? 0 : db_col_i64(s, 2);
    p->order_pk = db_col_i64(s, 3);
    p->order_id = db_col_str(s, 4, a);
    p->amount = db_col_i64(s, 5);
    p->currency = db_col_str(s, 6, a);
    p->status = db_col_str(s, 7, a);
}

int flash_store_prepay_insert(struct db_conn *c, int64_t tenant, struct flash_prepay *p,
                              int64_t now_ms, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "INSERT INTO flash_prepay (tenant_id, window_id, buyer_id, order_id, "
                        "amount, currency, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, "
                        "?, 'pending', ?, ?) RETURNING id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, p->window_pk);
    db_bind_i64(s, 3, p->buyer_pk);
    db_bind_i64(s, 4, p->order_pk);
    db_bind_i64(s, 5, p->amount);
    db_bind_text(s, 6, p->currency);
    db_bind_time(s, 7, now_ms);
    db_bind_time(s, 8, now_ms);
    bool found = false;
    rc = db_one_i64(s, &p->pk, &found, e);
    if (!rc && !found)
        rc = err_set(e, ERR_DB, "prepay insert returned no id");
    if (!rc)
        p->status = "pending";
    return rc;
}

static int prepay_one(struct db_conn *c, const char *where, int64_t tenant, int64_t a1, int64_t a2,
                      bool two, struct arena *a, struct flash_prepay *out, bool *found,
                      struct err *e)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "%s WHERE p.tenant_id = ? AND %s", PREPAY_SELECT, where);
    struct db_stmt *s;
    int rc = db_prepare(c, &s, sql, e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, a1);
    if (two)
        db_bind_i64(s, 3, a2);
    *found = false;
    int st = db_step(s, e);
    if (st == DB_ROW) {
        memset(out, 0, sizeof(*out));
        read_prepay(s, a, out);
        *found = true;
    }
    db_stmt_done(s);
    return st == DB_ERROR ? db_step_error(e) : 0;
}

int flash_store_prepay_of_buyer(struct db_conn *c, int64_t tenant, int64_t window_pk,
                                int64_t buyer_pk, struct arena *a, struct flash_prepay *out,
                                bool *found, struct err *e)
{
    return prepay_one(c, "p.window_id = ? AND p.buyer_id = ?", tenant, window_pk, buyer_pk, true, a,
                      out, found, e);
}

int flash_store_prepay_of_order(struct db_conn *c, int64_t tenant, int64_t order_pk,
                                struct arena *a, struct flash_prepay *out, bool *found,
                                struct err *e)
{
    return prepay_one(c, "p.order_id = ?", tenant, order_pk, 0, false, a, out, found, e);
}

int flash_store_prepay_get(struct db_conn *c, int64_t tenant, int64_t pk, struct arena *a,
                           struct flash_prepay *out, bool *found, struct err *e)
{
    return prepay_one(c, "p.id = ?", tenant, pk, 0, false, a, out, found, e);
}

int flash_store_prepay_list(struct db_conn *c, int64_t tenant, int64_t window_pk,
                            const char *status, struct arena *a, struct flash_prepay **rows,
                            size_t *n, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        PREPAY_SELECT "WHERE p.tenant_id = ? AND p.window_id = ? AND p.status = ? "
                                      "ORDER BY p.id",
                        e);
    if (rc)
        return rc;
    db_bind_i64(s, 1, tenant);
    db_bind_i64(s, 2, window_pk);
    db_bind_text(s, 3, status);
    size_t cap = 0, used = 0;
    struct flash_prepay *out = NULL;
    int st;
    while ((st = db_step(s, e)) == DB_ROW) {
        out = arena_grow(a, out, used, &cap, sizeof(*out));
        memset(&out[used], 0, sizeof(*out));
        read_prepay(s, a, &out[used++]);
    }
    db_stmt_done(s);
    if (st == DB_ERROR)
        return db_step_error(e);
    *rows = out;
    *n = used;
    return 0;
}

int flash_store_prepay_set_status(struct db_conn *c, int64_t tenant, int64_t pk, const char *from,
                                  const char *to, int64_t now_ms, bool *changed, struct err *e)
{
    struct db_stmt *s;
    int rc = db_prepare(c, &s,
                        "UPDATE flash_prepay SET status = ?, updated_at = ? WHERE tenant_id = ? "
                        "AND id = ? AND status = ?",
                        e);
    if (rc)
        return rc;
    db_bind_text(s, 1, to);
    db_bind_time(s, 2, now_ms);
    db_bind_i64(s, 3, tenant);
    db_bind_i64(s, 4, pk);
    db_bind_text(s, 5, from);
    int64_t changes = 0;
    rc = db_exec_write(s, &changes, e);
    *changed = !rc && changes > 0;
    return rc;
}
