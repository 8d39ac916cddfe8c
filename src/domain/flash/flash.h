/* SPDX-License-Identifier: MIT */
/*
 * Flash windows: the shared types of the engine (buyers, sellers, signals, windows, the
 * per-tenant configuration) and the pure helpers that validate and name them. Rules live in
 * engine.h (pure), storage in flash_store.h, transactions and jobs in flash_service.h.
 * Tests: tests/unit/domain/test_flash_engine.c, test_flash_store.c, tests/integration/0004-flash.c.
 */
#ifndef ICESHOP_DOMAIN_FLASH_H
#define ICESHOP_DOMAIN_FLASH_H

#include "core/err.h"
#include "domain/understand/understand.h"
#include "json/settings.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLASH_ID_MAX               64 /* public ids ("B123", "s_9f2c..."): [A-Za-z0-9_-], 1..64 */
#define FLASH_NAME_MAX             120
#define FLASH_TEXT_MAX             1000
#define FLASH_CATEGORY_MAX         32
#define FLASH_MAX_CATEGORIES       16 /* per buyer */
#define FLASH_MAX_EXTRA_CATEGORIES 16 /* a tenant's own categories beyond the canonical ones */
#define FLASH_MAX_TIERS            8
/* categories with their own micro-traffic fee: every canonical and extra one at most */
#define FLASH_MAX_CATEGORY_FEES 32
/* Redemption codes: the shape message understanding recognises (understand.h). */
#define FLASH_CODE_LEN             UNDERSTAND_CODE_LEN
#define FLASH_CODE_ALPHABET        UNDERSTAND_CODE_ALPHABET
#define FLASH_WINDOW_MAX_MINUTES   240 /* the longest window, engine's or an operator's */
#define FLASH_WINDOW_MAX_LEAD_DAYS 365 /* how far ahead an operator's window may start */

/* The canonical categories; a tenant may add more in its configuration. */
extern const char *const flash_categories[]; /* NULL-terminated */

enum flash_price_sensitivity { FLASH_PRICE_LOW = 0, FLASH_PRICE_BALANCED, FLASH_PRICE_PREMIUM };
extern const char *const flash_price_names[]; /* "low", "balanced", "premium", NULL */

enum flash_density { FLASH_DENSITY_LOW = 0, FLASH_DENSITY_MEDIUM, FLASH_DENSITY_HIGH };
extern const char *const flash_density_names[]; /* "low", "medium", "high", NULL */

/* What a seller's supply signal says. */
enum flash_supply_kind {
    FLASH_SUPPLY_IDLE = 0,  /* "Bu saat boşum" */
    FLASH_SUPPLY_DENSITY,   /* a density report: "Yoğunluk düşük" */
    FLASH_SUPPLY_SURPLUS,   /* "Stok fazlası ürün var" */
    FLASH_SUPPLY_PROMOTION, /* the seller wants to run a promotion */
};
extern const char *const flash_supply_names[]; /* "idle", "density", "surplus", "promotion", NULL */

/* A seller's stock, as the seed names it (fazla / kritik / promosyon, and back to normal). */
extern const char *const flash_stock_names[]; /* "surplus", "critical", "promotion", "normal" */

enum flash_window_status {
    FLASH_WINDOW_PROPOSED = 0, /* waiting for an ask-first seller's yes */
    FLASH_WINDOW_SCHEDULED,
    FLASH_WINDOW_ACTIVE,
    FLASH_WINDOW_EXPIRED,
    FLASH_WINDOW_CANCELLED,
};
extern const char *const flash_status_names[]; /* "PROPOSED", ..., "CANCELLED", NULL */

struct flash_location {
    double lat;               /* -90..90 */
    double lng;               /* -180..180 */
    const char *district;     /* may be "" */
    const char *neighborhood; /* may be "" */
};

struct flash_buyer {
    int64_t pk;     /* database row id */
    const char *id; /* public id */
    const char *phone;
    const char *name;
    struct flash_location loc;
    const char *categories[FLASH_MAX_CATEGORIES];
    int n_categories;
    enum flash_price_sensitivity price_sensitivity;
    bool consent;         /* may receive offers */
    const char *language; /* "tr" (default) or "en" */
    int commits;          /* windows committed to that reached their start */
    int shows;            /* of those, redeemed */
    int64_t created_at;
    int64_t updated_at;
};

/* Share of commitments the buyer honoured, with a prior of 0.7 over 3 virtual commits. */
double flash_buyer_reliability(const struct flash_buyer *b);

struct flash_seller {
    int64_t pk;
    const char *id;
    const char *phone;
    const char *name;
    const char *category;
    struct flash_location loc;
    enum flash_density density;
    const char *stock_status; /* free text: "surplus", "critical", ... or "" */
    int64_t price_min;        /* minor units */
    int64_t price_max;
    const char *currency;      /* "TRY" */
    int max_discount;          /* percent the seller accepts, 0..90 */
    int capacity;              /* people per window, >= 1 */
    bool auto_approve;         /* standing approval within max_discount */
    const char *opening_hours; /* JSON {"mon":["08:00","20:00"],...} or "" = always open */
    int64_t supply_until;      /* latest supply signal's expiry (ms), 0 = none active */
    enum flash_supply_kind supply_kind;
    int64_t created_at;
    int64_t updated_at;
};

/* A buyer's active wish, joined with the buyer's location and language for the engine. */
struct flash_demand {
    int64_t pk;
    int64_t buyer_pk;
    const char *buyer_id;
    struct flash_location loc; /* the buyer's */
    const char *text;
    const char *product;  /* may be "" */
    const char *category; /* may be "" (matches any seller) */
    int64_t budget;       /* minor units, 0 = none */
    int64_t expires_at;
    double reliability;
    bool consent;
};

/* The micro-traffic fee of a visit in one category, overriding the tenant's traffic_fee. */
struct flash_category_fee {
    char category[FLASH_CATEGORY_MAX + 1];
    int fee; /* minor units of the seller's currency, 0..FLASH_FEE_MAX */
};
#define FLASH_FEE_MAX 100000000

/* One distance tier: buyers closer than max_m get `discount` percent. */
struct flash_tier {
    double max_m;
    int discount;
};

#define FLASH_N_COMPONENTS 5
enum flash_component {
    FLASH_C_DEMAND = 0, /* active matching demand nearby */
    FLASH_C_DENSITY,    /* how idle the seller is */
    FLASH_C_PRECOMMIT,  /* pre-commits already given */
    FLASH_C_CATEGORY,   /* share of nearby demand in the seller's category */
    FLASH_C_DISTANCE,   /* how close the matching buyers are */
};
extern const char *const flash_component_names[]; /* "demand", "density", ... */

/*
 * Per-tenant engine settings; GET|PUT /api/campaigns/config. Ranges and defaults are not
 * written here but in flash_settings[] (flash.c), the one declaration of each setting.
 */
struct flash_config {
    double weights[FLASH_N_COMPONENTS];       /* normalised by their sum when scoring */
    double threshold;                         /* windows open at score >= threshold */
    double radius_m;                          /* eligibility radius */
    struct flash_tier tiers[FLASH_MAX_TIERS]; /* ascending max_m */
    int n_tiers;
    int window_minutes;
    int lead_minutes; /* start = now + lead */
    int min_participants;
    int scan_interval_s; /* 0 = no automatic scans */
    int demand_target;   /* matching buyers at which the demand component saturates */
    int max_offers_per_buyer_per_day;
    int tz_offset_min;           /* local time of the city, minutes east of UTC */
    double walk_m_per_min;       /* walking speed of a buyer, straight-line metres per minute */
    double walk_detour;          /* street distance / straight-line distance */
    int seller_cooldown_minutes; /* no new question after a seller's "no" for this long */
    int max_questions_per_seller_per_day; /* engine questions to one seller in 24 h */
    int learning;               /* FLASH_LEARNING_*: how an engine window's discount is chosen */
    double learning_max_regret; /* exploration never costs more than this expected value */
    int traffic_fee;            /* per redeemed visit, minor units of the seller's currency */
    int prepay_default;         /* 0/1: windows created without "prepay" require prepayment */
    /* the tenant's own categories: [a-z_]{1,32}, none canonical, none repeated */
    char extra_categories[FLASH_MAX_EXTRA_CATEGORIES][FLASH_CATEGORY_MAX + 1];
    int n_extra_categories;
    /* per category fees ({"coffee": 120}); a category not listed pays traffic_fee */
    struct flash_category_fee category_fees[FLASH_MAX_CATEGORY_FEES];
    int n_category_fees;
};

/* flash_config.learning */
enum {
    FLASH_LEARNING_OFF = 0,     /* the distance tiers (seed 000): closer buyers, smaller discount */
    FLASH_LEARNING_EXPLORE = 1, /* the learning policy, Thompson sampling with bounded regret */
    FLASH_LEARNING_EXPLOIT = 2, /* the learning policy, best posterior mean only */
};

/*
 * The settings, declared once. Each row: the name (its JSON path in the config API and in
 * storage: "radius_m", "weights.demand"), its type, its inclusive range, its default, and where
 * it lives in struct flash_config (json/settings.h). Defaults, validation, storage encode/decode,
 * GET and PUT /api/campaigns/config read this table through json/settings.h, and
 * tests/unit/http/test_openapi.c checks the OpenAPI schema against it. The two lists, tiers and
 * extra_categories, are declared beside it: flash_tier_fields[] (offsets into struct flash_tier),
 * FLASH_MAX_TIERS, FLASH_MAX_EXTRA_CATEGORIES.
 */
extern const struct settings_field flash_settings[];
extern const size_t flash_settings_count;
extern const struct settings_field flash_tier_fields[]; /* "max_m", "discount" */
extern const size_t flash_tier_fields_count;
extern const struct flash_tier flash_default_tiers[]; /* 300/600/900 m at 15/20/30 % */
extern const size_t flash_default_tiers_count;

/*
 * The micro-traffic fee of one visit to a seller of `category`: the category's own fee when the
 * configuration names one, else traffic_fee.
 */
int flash_config_fee(const struct flash_config *c, const char *category);

/* Whether `category` is canonical or one of the configuration's extra categories. */
bool flash_config_category_known(const struct flash_config *c, const char *category);

/* Every setting at its default (seed 000's: radius 1 km, three tiers, 10-minute windows). */
void flash_config_default(struct flash_config *c);
/* ERR_INVALID naming the field ("tiers[1].max_m") when out of range or inconsistent. */
int flash_config_validate(const struct flash_config *c, struct err *e);
/* The configuration as JSON: the body of GET /api/campaigns/config and the stored form. */
json_t *flash_config_to_json(const struct flash_config *c);
/*
 * Merge `patch` (any subset of that JSON) over *c and validate the whole. Weights merge member
 * by member; tiers, extra_categories and category_fees replace theirs. Unknown fields, wrong types
 * and values out of range are ERR_INVALID naming the field ("weights.demand", "tiers[1].max_m"). *c
 * changes only on success.
 */
int flash_config_merge(struct flash_config *c, json_t *patch, struct err *e);
/*
 * The stored JSON over the defaults, leniently: a setting it lacks (added later), or holds with
 * the wrong type or outside today's range, keeps its default; tiers that are not a valid list
 * keep the default tiers. ERR_INVALID only when `text` is not a JSON object ("" = defaults).
 */
int flash_config_decode(const char *text, struct flash_config *out, struct err *e);

/* Whether `category` is canonical or in `extra` (NULL-terminated, may be NULL). */
bool flash_category_known(const char *category, const char *const *extra);
/* Public ids: 1..FLASH_ID_MAX of [A-Za-z0-9_-]. */
bool flash_id_valid(const char *id);
/* Phones: E.164-ish "+905321234567" (8..16 digits after an optional '+'). */
bool flash_phone_valid(const char *phone);
int flash_enum_parse(const char *const *names, const char *s, int *out);

#endif
