/* SPDX-License-Identifier: MIT */
/*
 * Flash windows: name tables, the default configuration and its validation, and the small
 * input predicates (ids, phones, categories) declared in flash.h. Pure: no I/O, no clock.
 * Tests: tests/unit/domain/test_flash_engine.c.
 */
#include "domain/flash/flash.h"

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

void flash_config_default(struct flash_config *c)
{
    static const double weights[FLASH_N_COMPONENTS] = {0.35, 0.2, 0.15, 0.15, 0.15};
    static const struct flash_tier tiers[] = {{300, 15}, {600, 20}, {900, 30}};

    memset(c, 0, sizeof(*c));
    memcpy(c->weights, weights, sizeof(weights));
    c->threshold = 0.5;
    c->radius_m = 1000;
    c->n_tiers = (int)(sizeof(tiers) / sizeof(tiers[0]));
    memcpy(c->tiers, tiers, sizeof(tiers));
    c->window_minutes = 10;
    c->lead_minutes = 5;
    c->min_participants = 2;
    c->scan_interval_s = 60;
    c->demand_target = 5;
    c->max_offers_per_buyer_per_day = 3;
    c->tz_offset_min = 180;
}

/* Ranges of the integer settings; the field names are the JSON keys of the config API. */
struct int_range {
    const char *field;
    size_t off;
    int lo;
    int hi;
};

static const struct int_range int_ranges[] = {
    {"window_minutes", offsetof(struct flash_config, window_minutes), 1, 240},
    {"lead_minutes", offsetof(struct flash_config, lead_minutes), 0, 1440},
    {"min_participants", offsetof(struct flash_config, min_participants), 1, 1000},
    {"scan_interval_s", offsetof(struct flash_config, scan_interval_s), 0, 86400},
    {"demand_target", offsetof(struct flash_config, demand_target), 1, 10000},
    {"max_offers_per_buyer_per_day", offsetof(struct flash_config, max_offers_per_buyer_per_day), 0,
     100},
    {"tz_offset_min", offsetof(struct flash_config, tz_offset_min), -720, 840},
};

#define RADIUS_MIN_M 10.0
#define RADIUS_MAX_M 50000.0
#define WEIGHT_MAX   10.0
#define DISCOUNT_MAX 90

static bool in_range(double v, double lo, double hi)
{
    return isfinite(v) && v >= lo && v <= hi;
}

int flash_config_validate(const struct flash_config *c, struct err *e)
{
    for (int i = 0; i < c->n_extra_categories; i++) {
        char field[48];
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
    char field[64];
    double wsum = 0;
    for (int i = 0; i < FLASH_N_COMPONENTS; i++) {
        snprintf(field, sizeof(field), "weights.%s", flash_component_names[i]);
        if (!in_range(c->weights[i], 0, WEIGHT_MAX))
            return err_set_field(e, ERR_INVALID, field, "%s must be between 0 and %g", field,
                                 WEIGHT_MAX);
        wsum += c->weights[i];
    }
    if (wsum <= 0)
        return err_set_field(e, ERR_INVALID, "weights", "weights must not all be 0");
    if (!in_range(c->threshold, 0, 1))
        return err_set_field(e, ERR_INVALID, "threshold", "threshold must be between 0 and 1");
    if (!in_range(c->radius_m, RADIUS_MIN_M, RADIUS_MAX_M))
        return err_set_field(e, ERR_INVALID, "radius_m", "radius_m must be between %g and %g",
                             RADIUS_MIN_M, RADIUS_MAX_M);
    if (c->n_tiers < 0 || c->n_tiers > FLASH_MAX_TIERS)
        return err_set_field(e, ERR_INVALID, "tiers", "at most %d tiers", FLASH_MAX_TIERS);
    for (int i = 0; i < c->n_tiers; i++) {
        const struct flash_tier *t = &c->tiers[i];
        snprintf(field, sizeof(field), "tiers[%d].max_m", i);
        if (!in_range(t->max_m, 1, RADIUS_MAX_M))
            return err_set_field(e, ERR_INVALID, field, "%s must be between 1 and %g", field,
                                 RADIUS_MAX_M);
        if (i > 0 && t->max_m <= c->tiers[i - 1].max_m)
            return err_set_field(e, ERR_INVALID, field, "%s must be greater than tiers[%d].max_m",
                                 field, i - 1);
        snprintf(field, sizeof(field), "tiers[%d].discount", i);
        if (t->discount < 0 || t->discount > DISCOUNT_MAX)
            return err_set_field(e, ERR_INVALID, field, "%s must be between 0 and %d", field,
                                 DISCOUNT_MAX);
    }
    for (size_t i = 0; i < sizeof(int_ranges) / sizeof(int_ranges[0]); i++) {
        const struct int_range *r = &int_ranges[i];
        int v;
        memcpy(&v, (const char *)c + r->off, sizeof(v));
        if (v < r->lo || v > r->hi)
            return err_set_field(e, ERR_INVALID, r->field, "%s must be between %d and %d", r->field,
                                 r->lo, r->hi);
    }
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
