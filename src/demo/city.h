/* SPDX-License-Identifier: MIT */
/*
 * The demo's simulated Istanbul: sellers in real neighbourhoods, buyers around them, and the
 * plan of what they say and when (wishes, idle and surplus reports), all drawn from one seed
 * so the same seed gives the same city and the same plan. Pure: no I/O, no clock. Also the
 * behaviour model shared by the live run and the "without windows" baseline.
 */
#ifndef ICESHOP_DEMO_CITY_H
#define ICESHOP_DEMO_CITY_H

#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

#define DEMO_MAX_SELLERS 500
#define DEMO_MAX_BUYERS  20000
#define DEMO_REPORT_S    3600.0 /* an idle/surplus report covers an hour of city time */

enum demo_cat { DEMO_COFFEE = 0, DEMO_BAKERY, DEMO_DESSERT, DEMO_RESTAURANT, DEMO_N_CATS };
extern const char *const demo_cat_names[]; /* the server's category names */

enum demo_price { DEMO_PRICE_LOW = 0, DEMO_PRICE_BALANCED, DEMO_PRICE_PREMIUM };
extern const char *const demo_price_names[]; /* "low", "balanced", "premium" */

struct demo_hood {
    const char *name;     /* "Moda" */
    const char *district; /* "Kadıköy" */
    double lat, lng;
};

/* Demo phone numbers are "+9991…" (sellers) and "+9992…" (buyers): country code 999 is
 * unassigned in E.164, so no message meant for the demo can reach a real person. */
struct demo_seller {
    char id[24];
    char phone[24];
    char name[80];
    int hood;
    enum demo_cat cat;
    double lat, lng;
    int capacity;
    int max_discount;
    bool auto_approve;
    int64_t price_min, price_max; /* kuruş */
};

struct demo_buyer {
    char id[24];
    char phone[24];
    char name[32];
    int hood;
    double lat, lng;
    enum demo_price price;
    enum demo_cat cats[2];
    int n_cats;
    double reliability; /* chance of actually coming after taking a code */
};

enum demo_event_kind { DEMO_EV_WISH = 0, DEMO_EV_IDLE, DEMO_EV_SURPLUS, DEMO_EV_BUSY };

/* One planned event. Texts are static. */
struct demo_event {
    double t; /* city seconds since the start */
    enum demo_event_kind kind;
    int actor;           /* buyer index for wishes, seller index otherwise */
    enum demo_cat cat;   /* what is wished or offered */
    const char *text;    /* what the person writes */
    const char *product; /* for REST surplus signals; may be "" */
    bool via_panel;      /* sellers: POST /api/sellers/signal instead of a WhatsApp message */
};

struct demo_city {
    uint64_t seed;
    int n_sellers, n_buyers, n_hoods;
    struct demo_seller *sellers;
    struct demo_buyer *buyers;
    /* the plan: one random stream and the next event time per actor (sellers, then buyers) */
    uint64_t *rng;
    double *next_t;
};

extern const struct demo_hood demo_hoods[];

/* Build the city. ERR_INVALID when the sizes are out of range; ERR_NOMEM. */
int demo_city_init(struct demo_city *c, uint64_t seed, int n_sellers, int n_buyers, struct err *e);
void demo_city_free(struct demo_city *c);
/* City time of the next planned event. */
double demo_city_peek(const struct demo_city *c);
/* Take the next planned event (the plan never ends). */
void demo_city_next(struct demo_city *c, struct demo_event *ev);

/* A uniform number in [0,1) that depends only on its arguments: decisions stay seeded. */
double demo_u01(uint64_t seed, uint64_t tag, uint64_t a, uint64_t b);
/* Great-circle distance in metres. */
double demo_distance_m(double lat1, double lng1, double lat2, double lng2);
/*
 * The behaviour model. attraction: the chance a buyer of this price sensitivity acts on a wish
 * at `discount` percent off (0 = full price); walk: how much distance discourages (1 next door,
 * 0.1 beyond 1.35 km). Both the live run and the baseline use them.
 */
double demo_attraction(enum demo_price p, int discount);
double demo_walk_factor(double distance_m);
/* City seconds from deciding to go until arriving, `u` uniform in [0,1). */
double demo_walk_s(double distance_m, double u);
/* The nearest seller of `cat` to buyer `b`, or -1; *dist gets its distance. */
int demo_nearest_seller(const struct demo_city *c, int b, enum demo_cat cat, double *dist);

#endif
