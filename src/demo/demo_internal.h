/* SPDX-License-Identifier: MIT */
/*
 * The demo's run state, shared by the live loop (demo.c) and the summary with its
 * "without windows" baseline (report.c). Not a public interface.
 */
#ifndef ICESHOP_DEMO_INTERNAL_H
#define ICESHOP_DEMO_INTERNAL_H

#include "demo/city.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Tags of the seeded decisions (demo_u01's `tag`). */
enum demo_tag {
    DEMO_TAG_ACCEPT = 1,
    DEMO_TAG_DECLINE,
    DEMO_TAG_DELAY,
    DEMO_TAG_JOIN,
    DEMO_TAG_COME,
    DEMO_TAG_WALK,
    DEMO_TAG_APPROVE,
    DEMO_TAG_BASE,
    DEMO_TAG_BASE_WALK,
    DEMO_TAG_STYLE,
};

struct demo_opts {
    const char *url;
    const char *key;
    uint64_t seed;
    int sellers, buyers;
    double speed;
    double duration; /* wall-clock seconds, 0 = until Ctrl-C */
    bool no_config;
    int plan; /* > 0: print the first N planned events and exit */
    bool quiet;
    int shop_customers; /* customers of the shop seeded before the city, 0: none */
    bool shop_only;     /* seed the shop and exit */
};

struct demo_wish {
    int buyer;
    int nth; /* the buyer's how-manieth wish */
    enum demo_cat cat;
    double t;
};

struct demo_report {
    int seller;
    double t;
    int fill_windows, fill_baseline;
};

struct demo_visit {
    int seller;
    int buyer;
    double t;
};

struct demo_stats {
    int wishes, idle_reports, busy_reports, windows, offers, katil, declines, precommits, joins,
        join_refused, no_shows, came, redeemed, redeem_failed, approvals, rejections, too_late;
    int by_status[5]; /* final status of the windows opened: PROPOSED..CANCELLED */
};

/* Growable arrays of plain structs; `spare` holds a grown block until it is typed again. */
#define DEMO_VEC(T)                                                                                \
    struct {                                                                                       \
        T *v;                                                                                      \
        size_t n, cap;                                                                             \
        void *spare;                                                                               \
    }

struct demo_state {
    const struct demo_opts *o;
    struct demo_city city;
    struct demo_stats st;
    double sim_end; /* city seconds when the run stopped */
    double wall_s;  /* wall seconds the run lasted (for a run stopped with Ctrl-C) */
    DEMO_VEC(struct demo_wish) wishes;
    DEMO_VEC(struct demo_report) reports;
    DEMO_VEC(struct demo_visit) visits; /* confirmed redemptions */
};

/*
 * Room for one more element of `elem` bytes in block `v` of *cap elements holding n: returns
 * the (possibly moved) block, or NULL when out of memory (then `v` is untouched).
 */
void *demo_vec_grow(void *v, size_t *cap, size_t n, size_t elem);
/* Append `x` to a DEMO_VEC: 0, or -1 when out of memory. */
#define DEMO_PUSH(vec, x)                                                                          \
    (((vec).n < (vec).cap ||                                                                       \
      (((vec).spare = demo_vec_grow((vec).v, &(vec).cap, (vec).n, sizeof(*(vec).v))) != NULL &&    \
       ((vec).v = (vec).spare, 1)))                                                                \
         ? ((vec).v[(vec).n++] = (x), 0)                                                           \
         : -1)

/* Print the summary table with the baseline and the line to repeat the run. */
void demo_report_print(struct demo_state *d);

#endif
