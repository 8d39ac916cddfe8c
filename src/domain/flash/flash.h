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
#define FLASH_WINDOW_MAX_MINUTES   240 /* the longest window, engine's or an operator's */

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

/* Per-tenant engine settings; GET|PUT /api/campaigns/config. */
struct flash_config {
    double weights[FLASH_N_COMPONENTS];       /* each 0..10; normalised by their sum when scoring */
    double threshold;                         /* 0..1: windows open at score >= threshold */
    double radius_m;                          /* eligibility radius, default 1000 */
    struct flash_tier tiers[FLASH_MAX_TIERS]; /* ascending max_m */
    int n_tiers;
    int window_minutes;   /* default 10 */
    int lead_minutes;     /* default 5: start = now + lead */
    int min_participants; /* default 2 */
    int scan_interval_s;  /* default 60; 0 = no automatic scans */
    int demand_target;    /* matching buyers at which the demand component saturates, default 5 */
    int max_offers_per_buyer_per_day; /* default 3 */
    int tz_offset_min;
    /* local time of the city, minutes east of UTC; default 180 */ /* the tenant's own
                                                                      categories, [a-z_]{1,32},
                                                                      none canonical, none
                                                                      repeated */
    char extra_categories[FLASH_MAX_EXTRA_CATEGORIES][FLASH_CATEGORY_MAX + 1];
    int n_extra_categories;
};

/* Whether `category` is canonical or one of the configuration's extra categories. */
bool flash_config_category_known(const struct flash_config *c, const char *category);

/* The defaults of seed 000: radius 1 km, tiers 300/600/900 m at 15/20/30 %, 10-minute windows. */
void flash_config_default(struct flash_config *c);
/* ERR_INVALID naming the field ("tiers[1].max_m") when out of range or inconsistent. */
int flash_config_validate(const struct flash_config *c, struct err *e);

/* Whether `category` is canonical or in `extra` (NULL-terminated, may be NULL). */
bool flash_category_known(const char *category, const char *const *extra);
/* Public ids: 1..FLASH_ID_MAX of [A-Za-z0-9_-]. */
bool flash_id_valid(const char *id);
/* Phones: E.164-ish "+905321234567" (8..16 digits after an optional '+'). */
bool flash_phone_valid(const char *phone);
int flash_enum_parse(const char *const *names, const char *s, int *out);

#endif
