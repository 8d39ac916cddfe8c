/* SPDX-License-Identifier: MIT */
/*
 * Flash windows: name tables, the settings table (defaults, validation, JSON in and out of the
 * configuration), and the small input predicates (ids, phones, categories) declared in flash.h.
 * Pure: no I/O, no clock. Tests: tests/unit/domain/test_flash_settings.c, test_flash_engine.c.
 */
#include "domain/flash/flash.h"
#include "json/json.h"
#include "json/settings.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/*
 * Canonical categories, from the shop kinds of the product brief: kahveci, lokanta/restoran,
 * döner, fırın, tatlıcı/waffle, bakkal, market, kasap, kuaför.
 */
const char *const flash_categories[] = {
    "coffee", "bakery", "restaurant", "grocery", "butcher", "barber", "dessert", NULL,
};

const char *const flash_price_names[] = {"low", "balanced", "premium", NULL};
const char *const flash_density_names[] = {"low", "medium", "high", NULL};
const char *const flash_supply_names[] = {"idle", "density", "surplus", "promotion", NULL};
const char *const flash_stock_names[] = {"surplus", "critical", "promotion", "normal", NULL};
const char *const flash_status_names[] = {"PROPOSED", "SCHEDULED", "ACTIVE",
                                          "EXPIRED",  "CANCELLED", NULL};
const char *const flash_component_names[] = {"demand",   "density",  "precommit",
                                             "category", "distance", NULL};

/* The prior: a new buyer is assumed to honour 70 % of commitments, weighted as 3 commits. */
#define RELIABILITY_PRIOR   0.7
#define RELIABILITY_VIRTUAL 3.0

double flash_buyer_reliability(const struct flash_buyer *b)
{
    double commits = b->commits > 0 ? b->commits : 0;
    double shows = b->shows > 0 ? b->shows : 0;
    if (shows > commits)
        shows = commits;
    return (shows + RELIABILITY_PRIOR * RELIABILITY_VIRTUAL) / (commits + RELIABILITY_VIRTUAL);
}

/* ======================== the settings ======================== */

#define CFG(field) offsetof(struct flash_config, field)
#define W(i)       (offsetof(struct flash_config, weights) + (i) * sizeof(double))

/*
 * One row per setting. Ranges: weights are relative (normalised by their sum), 0..10; a walking
 * radius of 50 m..20 km; windows of at most FLASH_WINDOW_MAX_MINUTES, starting up to a day
 * ahead; time zones from UTC-12 to UTC+14.
 */
const struct settings_field flash_settings[] = {
    {"weights.demand", SETTINGS_NUMBER, 0, 10, 0.35, W(FLASH_C_DEMAND),
     "weight of active matching demand nearby"},
    {"weights.density", SETTINGS_NUMBER, 0, 10, 0.2, W(FLASH_C_DENSITY),
     "weight of how idle the seller is"},
    {"weights.precommit", SETTINGS_NUMBER, 0, 10, 0.15, W(FLASH_C_PRECOMMIT),
     "weight of pre-commits already given"},
    {"weights.category", SETTINGS_NUMBER, 0, 10, 0.15, W(FLASH_C_CATEGORY),
     "weight of the share of nearby demand in the seller's category"},
    {"weights.distance", SETTINGS_NUMBER, 0, 10, 0.15, W(FLASH_C_DISTANCE),
     "weight of how close the matching buyers are"},
    {"threshold", SETTINGS_NUMBER, 0, 1, 0.5, CFG(threshold),
     "windows open at a score at or above this"},
    {"radius_m", SETTINGS_NUMBER, 50, 20000, 1000, CFG(radius_m),
     "buyers within this many metres are eligible"},
    {"window_minutes", SETTINGS_INT, 1, FLASH_WINDOW_MAX_MINUTES, 10, CFG(window_minutes),
     "length of an engine's window"},
    {"lead_minutes", SETTINGS_INT, 0, 1440, 5, CFG(lead_minutes),
     "a window starts this long after it is generated"},
    {"min_participants", SETTINGS_INT, 1, 10000, 2, CFG(min_participants),
     "pre-commits a window needs at its start, or it is cancelled"},
    {"scan_interval_s", SETTINGS_INT, 0, 86400, 60, CFG(scan_interval_s),
     "seconds between automatic scans; 0 turns them off"},
    {"demand_target", SETTINGS_INT, 1, 10000, 5, CFG(demand_target),
     "matching buyers at which the demand component is full"},
    {"max_offers_per_buyer_per_day", SETTINGS_INT, 0, 100, 3, CFG(max_offers_per_buyer_per_day),
     "offers one buyer receives a day at most"},
    {"tz_offset_min", SETTINGS_INT, -720, 840, 180, CFG(tz_offset_min),
     "local time of the city, minutes east of UTC"},
    {"walk_m_per_min", SETTINGS_NUMBER, 20, 200, 80, CFG(walk_m_per_min),
     "walking speed in metres per minute (80 = 4.8 km/h) for arrival times"},
    {"walk_detour", SETTINGS_NUMBER, 1, 3, 1.3, CFG(walk_detour),
     "street distance over straight-line distance for arrival times"},
    {"seller_cooldown_minutes", SETTINGS_INT, 0, 10080, 120, CFG(seller_cooldown_minutes),
     "after a seller declines, no new question for this long unless they report idle again"},
    {"max_questions_per_seller_per_day", SETTINGS_INT, 0, 100, 4,
     CFG(max_questions_per_seller_per_day), "engine questions one seller receives a day at most"},
    {"learning", SETTINGS_INT, 0, 2, FLASH_LEARNING_OFF, CFG(learning),
     "how an engine window's discount is chosen: 0 the distance tiers, 1 the learning policy "
     "(learns per seller and category which tier discount brings visits, exploring within "
     "learning_max_regret), 2 the learning policy without exploring"},
    {"learning_max_regret", SETTINGS_NUMBER, 0, 1, 0.05, CFG(learning_max_regret),
     "the learning policy never tries a discount whose expected value (visit rate x margin) is "
     "more than this below the best one's"},
    {"traffic_fee", SETTINGS_INT, 0, 100000000, 0, CFG(traffic_fee),
     "the micro-traffic fee a seller owes per redeemed visit, in minor units of the seller's "
     "currency (150 = 1.50 TRY); 0 charges nothing; the default of categories that "
     "category_fees does not name"},
    {"prepay_default", SETTINGS_BOOL, 0, 1, 0, CFG(prepay_default),
     "windows created without a prepay choice require prepayment: joining one places an order "
     "for the discounted price and the buyer takes part once it is paid"},
};
const size_t flash_settings_count = sizeof(flash_settings) / sizeof(flash_settings[0]);

const struct settings_field flash_tier_fields[] = {
    {"max_m", SETTINGS_NUMBER, 1, 20000, 0, offsetof(struct flash_tier, max_m),
     "buyers closer than this many metres get the tier's discount"},
    {"discount", SETTINGS_INT, 0, 90, 0, offsetof(struct flash_tier, discount), "percent"},
};
const size_t flash_tier_fields_count = sizeof(flash_tier_fields) / sizeof(flash_tier_fields[0]);

const struct flash_tier flash_default_tiers[] = {{300, 15}, {600, 20}, {900, 30}};
const size_t flash_default_tiers_count =
    sizeof(flash_default_tiers) / sizeof(flash_default_tiers[0]);

void flash_config_default(struct flash_config *c)
{
    memset(c, 0, sizeof(*c));
    settings_defaults(flash_settings, flash_settings_count, c);
    c->n_tiers = (int)flash_default_tiers_count;
    memcpy(c->tiers, flash_default_tiers, sizeof(flash_default_tiers));
}

int flash_config_validate(const struct flash_config *c, struct err *e)
{
    int rc = settings_check(flash_settings, flash_settings_count, c, NULL, e);
    if (rc)
        return rc;
    double wsum = 0;
    for (int i = 0; i < FLASH_N_COMPONENTS; i++)
        wsum += c->weights[i];
    if (wsum <= 0)
        return err_set_field(e, ERR_INVALID, "weights", "weights must not all be 0");
    if (c->n_tiers < 1 || c->n_tiers > FLASH_MAX_TIERS)
        return err_set_field(e, ERR_INVALID, "tiers", "tiers must have 1..%d entries",
                             FLASH_MAX_TIERS);
    char field[64];
    for (int i = 0; i < c->n_tiers; i++) {
        snprintf(field, sizeof(field), "tiers[%d].", i);
        rc = settings_check(flash_tier_fields, flash_tier_fields_count, &c->tiers[i], field, e);
        if (rc)
            return rc;
        snprintf(field, sizeof(field), "tiers[%d].max_m", i);
        if (i > 0 && c->tiers[i].max_m <= c->tiers[i - 1].max_m)
            return err_set_field(e, ERR_INVALID, field, "%s must be greater than tiers[%d].max_m",
                                 field, i - 1);
    }
    if (c->n_extra_categories < 0 || c->n_extra_categories > FLASH_MAX_EXTRA_CATEGORIES)
        return err_set_field(e, ERR_INVALID, "extra_categories", "at most %d extra categories",
                             FLASH_MAX_EXTRA_CATEGORIES);
    for (int i = 0; i < c->n_extra_categories; i++) {
        snprintf(field, sizeof(field), "extra_categories[%d]", i);
        const char *cat = c->extra_categories[i];
        size_t n = strlen(cat);
        bool ok = n >= 1 && n <= FLASH_CATEGORY_MAX;
        for (size_t k = 0; ok && k < n; k++)
            ok = (cat[k] >= 'a' && cat[k] <= 'z') || cat[k] == '_';
        if (!ok)
            return err_set_field(e, ERR_INVALID, field,
                                 "%s must be 1..%d characters of a-z and '_'", field,
                                 FLASH_CATEGORY_MAX);
        if (flash_category_known(cat, NULL))
            return err_set_field(e, ERR_INVALID, field, "%s: %s is already a category", field, cat);
        for (int k = 0; k < i; k++) {
            if (strcmp(c->extra_categories[k], cat) == 0)
                return err_set_field(e, ERR_INVALID, field, "%s: %s is listed twice", field, cat);
        }
    }
    if (c->n_category_fees < 0 || c->n_category_fees > FLASH_MAX_CATEGORY_FEES)
        return err_set_field(e, ERR_INVALID, "category_fees", "at most %d category fees",
                             FLASH_MAX_CATEGORY_FEES);
    for (int i = 0; i < c->n_category_fees; i++) {
        const struct flash_category_fee *f = &c->category_fees[i];
        snprintf(field, sizeof(field), "category_fees.%s", f->category);
        if (!flash_config_category_known(c, f->category))
            return err_set_field(e, ERR_INVALID, field,
                                 "%s: %s is neither a canonical nor an extra category", field,
                                 f->category);
        if (f->fee < 0 || f->fee > FLASH_FEE_MAX)
            return err_set_field(e, ERR_INVALID, field, "%s must be between 0 and %d", field,
                                 FLASH_FEE_MAX);
    }
    return 0;
}

int flash_config_fee(const struct flash_config *c, const char *category)
{
    for (int i = 0; category && i < c->n_category_fees; i++) {
        if (strcmp(c->category_fees[i].category, category) == 0)
            return c->category_fees[i].fee;
    }
    return c->traffic_fee;
}

json_t *flash_config_to_json(const struct flash_config *c)
{
    json_t *root = json_object();
    settings_to_json(flash_settings, flash_settings_count, c, root);
    json_t *tiers = json_array();
    for (int i = 0; i < c->n_tiers && i < FLASH_MAX_TIERS; i++) {
        json_t *t = json_object();
        settings_to_json(flash_tier_fields, flash_tier_fields_count, &c->tiers[i], t);
        json_array_append_new(tiers, t);
    }
    json_object_set_new(root, "tiers", tiers);
    json_t *extra = json_array();
    for (int i = 0; i < c->n_extra_categories && i < FLASH_MAX_EXTRA_CATEGORIES; i++)
        json_array_append_new(extra, json_string(c->extra_categories[i]));
    json_object_set_new(root, "extra_categories", extra);
    json_t *fees = json_object();
    for (int i = 0; i < c->n_category_fees && i < FLASH_MAX_CATEGORY_FEES; i++)
        json_object_set_new(fees, c->category_fees[i].category,
                            json_integer(c->category_fees[i].fee));
    json_object_set_new(root, "category_fees", fees);
    return root;
}

static int merge_tiers(json_t *patch, struct flash_config *c, struct err *e)
{
    json_t *tiers = NULL;
    int rc = json_get_array(patch, "tiers", false, &tiers, e);
    if (rc || !tiers)
        return rc;
    size_t n = json_array_size(tiers);
    if (n < 1 || n > FLASH_MAX_TIERS)
        return err_set_field(e, ERR_INVALID, "tiers", "tiers must have 1..%d entries",
                             FLASH_MAX_TIERS);
    const char *names[8];
    for (size_t k = 0; k < flash_tier_fields_count; k++)
        names[k] = flash_tier_fields[k].name;
    names[flash_tier_fields_count] = NULL;
    memset(c->tiers, 0, sizeof(c->tiers));
    c->n_tiers = (int)n;
    for (size_t i = 0; !rc && i < n; i++) {
        /* wrapped under its own name, so the getters' errors say "tiers[1].max_m" */
        char key[32], path[64];
        snprintf(key, sizeof(key), "tiers[%zu]", i);
        json_t *wrap = json_pack("{s:O}", key, json_array_get(tiers, i));
        rc = json_get_object(wrap, key, true, &(json_t *){NULL}, e);
        if (!rc)
            rc = json_reject_unknown(wrap, key, names, e);
        for (size_t k = 0; !rc && k < flash_tier_fields_count; k++) {
            snprintf(path, sizeof(path), "%s.%s", key, flash_tier_fields[k].name);
            if (!json_object_get(json_array_get(tiers, i), flash_tier_fields[k].name))
                rc = err_set_field(e, ERR_INVALID, path, "%s is required", path);
            else
                rc = settings_merge_one(wrap, path, &flash_tier_fields[k], &c->tiers[i], e);
        }
        json_decref(wrap);
    }
    return rc;
}

static int merge_extra(json_t *patch, struct flash_config *c, struct err *e)
{
    json_t *extra = NULL;
    int rc = json_get_array(patch, "extra_categories", false, &extra, e);
    if (rc || !extra)
        return rc;
    if (json_array_size(extra) > FLASH_MAX_EXTRA_CATEGORIES)
        return err_set_field(e, ERR_INVALID, "extra_categories", "at most %d extra categories",
                             FLASH_MAX_EXTRA_CATEGORIES);
    c->n_extra_categories = 0;
    for (size_t i = 0; i < json_array_size(extra); i++) {
        json_t *v = json_array_get(extra, i);
        if (!json_is_string(v) || json_string_length(v) > FLASH_CATEGORY_MAX) {
            char field[48];
            snprintf(field, sizeof(field), "extra_categories[%zu]", i);
            return err_set_field(e, ERR_INVALID, field,
                                 "%s must be a string of at most %d characters", field,
                                 FLASH_CATEGORY_MAX);
        }
        snprintf(c->extra_categories[c->n_extra_categories++], FLASH_CATEGORY_MAX + 1, "%s",
                 json_string_value(v));
    }
    return 0;
}

/* category_fees replaces the map; its keys are checked against the categories in validate */
static int merge_fees(json_t *patch, struct flash_config *c, struct err *e)
{
    json_t *fees = NULL;
    int rc = json_get_object(patch, "category_fees", false, &fees, e);
    if (rc || !fees)
        return rc;
    if (json_object_size(fees) > FLASH_MAX_CATEGORY_FEES)
        return err_set_field(e, ERR_INVALID, "category_fees", "at most %d category fees",
                             FLASH_MAX_CATEGORY_FEES);
    c->n_category_fees = 0;
    const char *cat;
    json_t *v;
    json_object_foreach(fees, cat, v)
    {
        char field[64];
        snprintf(field, sizeof(field), "category_fees.%.40s", cat);
        if (strlen(cat) > FLASH_CATEGORY_MAX)
            return err_set_field(e, ERR_INVALID, field, "%s: at most %d characters", field,
                                 FLASH_CATEGORY_MAX);
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > FLASH_FEE_MAX)
            return err_set_field(e, ERR_INVALID, field,
                                 "%s must be an integer between 0 and %d (minor units)", field,
                                 FLASH_FEE_MAX);
        struct flash_category_fee *f = &c->category_fees[c->n_category_fees++];
        snprintf(f->category, sizeof(f->category), "%s", cat);
        f->fee = (int)json_integer_value(v);
    }
    return 0;
}

int flash_config_merge(struct flash_config *c, json_t *patch, struct err *e)
{
    if (!json_is_object(patch))
        return err_set(e, ERR_INVALID, "the configuration must be a JSON object");
    struct flash_config next = *c;
    static const char *const lists[] = {"tiers", "extra_categories", "category_fees", NULL};
    int rc = settings_merge(flash_settings, flash_settings_count, patch, lists, &next, e);
    if (!rc)
        rc = merge_tiers(patch, &next, e);
    if (!rc)
        rc = merge_extra(patch, &next, e);
    if (!rc)
        rc = merge_fees(patch, &next, e);
    if (!rc)
        rc = flash_config_validate(&next, e);
    if (!rc)
        *c = next;
    return rc;
}

int flash_config_decode(const char *text, struct flash_config *out, struct err *e)
{
    flash_config_default(out);
    if (!text || !*text)
        return 0;
    json_t *root = json_loads(text, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return err_set(e, ERR_INVALID, "stored flash configuration is not a JSON object");
    }
    settings_decode(flash_settings, flash_settings_count, root, out);
    json_t *tiers = json_object_get(root, "tiers");
    size_t n = json_array_size(tiers);
    struct flash_config t = *out;
    memset(t.tiers, 0, sizeof(t.tiers));
    bool ok = n >= 1 && n <= FLASH_MAX_TIERS;
    for (size_t i = 0; ok && i < n; i++) {
        for (size_t k = 0; ok && k < flash_tier_fields_count; k++) {
            json_t *v = json_object_get(json_array_get(tiers, i), flash_tier_fields[k].name);
            ok = settings_json_fits(v, &flash_tier_fields[k]);
            if (ok)
                settings_set(&t.tiers[i], &flash_tier_fields[k], json_number_value(v));
        }
    }
    if (ok) {
        t.n_tiers = (int)n;
        ok = flash_config_validate(&t, NULL) == 0;
    }
    if (ok) {
        memcpy(out->tiers, t.tiers, sizeof(out->tiers));
        out->n_tiers = t.n_tiers;
    }
    json_t *extra = json_object_get(root, "extra_categories");
    size_t k;
    json_t *cat;
    json_array_foreach(extra, k, cat)
    {
        if (out->n_extra_categories < FLASH_MAX_EXTRA_CATEGORIES && json_is_string(cat) &&
            json_string_length(cat) <= FLASH_CATEGORY_MAX)
            snprintf(out->extra_categories[out->n_extra_categories++], FLASH_CATEGORY_MAX + 1, "%s",
                     json_string_value(cat));
    }
    /* fees of categories no longer known, or out of range, are dropped (traffic_fee applies) */
    json_t *fee;
    const char *name;
    json_object_foreach(json_object_get(root, "category_fees"), name, fee)
    {
        if (out->n_category_fees < FLASH_MAX_CATEGORY_FEES && json_is_integer(fee) &&
            json_integer_value(fee) >= 0 && json_integer_value(fee) <= FLASH_FEE_MAX &&
            strlen(name) <= FLASH_CATEGORY_MAX && flash_config_category_known(out, name)) {
            struct flash_category_fee *f = &out->category_fees[out->n_category_fees++];
            snprintf(f->category, sizeof(f->category), "%s", name);
            f->fee = (int)json_integer_value(fee);
        }
    }
    json_decref(root);
    return 0;
}

bool flash_category_known(const char *category, const char *const *extra)
{
    if (!category)
        return false;
    for (const char *const *p = flash_categories; *p; p++) {
        if (strcmp(*p, category) == 0)
            return true;
    }
    for (const char *const *p = extra; p && *p; p++) {
        if (strcmp(*p, category) == 0)
            return true;
    }
    return false;
}

bool flash_id_valid(const char *id)
{
    if (!id)
        return false;
    size_t n = 0;
    for (const char *p = id; *p; p++, n++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
        if (!ok || n >= FLASH_ID_MAX)
            return false;
    }
    return n > 0;
}

bool flash_phone_valid(const char *phone)
{
    if (!phone)
        return false;
    const char *p = phone[0] == '+' ? phone + 1 : phone;
    size_t digits = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        digits++;
    }
    return digits >= 8 && digits <= 16;
}

int flash_enum_parse(const char *const *names, const char *s, int *out)
{
    if (!names || !s)
        return ERR_INVALID;
    for (int i = 0; names[i]; i++) {
        if (strcmp(names[i], s) == 0) {
            *out = i;
            return 0;
        }
    }
    return ERR_INVALID;
}

bool flash_config_category_known(const struct flash_config *c, const char *category)
{
    if (flash_category_known(category, NULL))
        return true;
    for (int i = 0; c && i < c->n_extra_categories; i++) {
        if (strcmp(c->extra_categories[i], category) == 0)
            return true;
    }
    return false;
}
