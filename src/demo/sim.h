/* SPDX-License-Identifier: MIT */
/*
 * `iceshop simulate`: an A/B of the demo city on a virtual clock, in process and deterministic.
 * The same buyers, wishes and behaviour draws run (a) with the flash engine's rules (scan,
 * targets, draft: engine.h) and (b) without; figures over several seeds with 95 % confidence
 * intervals. Tests: tests/unit/demo/test_sim.c. Speed: seconds for a week of a default city.
 *
 * The behaviour model, in one place (city.h gives attraction and walking):
 *   day          08:00-20:00, twelve hours; each seller is idle in an hour with p_idle, and
 *                then has `capacity` idle seats in it
 *   wish         each buyer wishes once a day with p_wish, at a uniform time, for one of their
 *                categories
 *   without      the buyer goes to the nearest seller of the category, full price, with
 *                p_base = demo_attraction(price, 0) · demo_walk_factor(distance), arriving
 *                after demo_walk_s
 *   with         the engine scans every 5 virtual minutes; a wish can be reached only by the
 *                first scan after it. A window's seller accepts (standing approval; an
 *                ask-first seller in an idle hour, whose idle signal asked for customers, as
 *                the live engine; otherwise a "yes" with p_accept; a "no" keeps the seller out
 *                for 120 min). A
 *                reached buyer commits with p_offer = demo_attraction(price, discount) ·
 *                demo_walk_factor(distance) while seats remain, then shows with their
 *                reliability (else a no-show: no visit). A wish not reached, or reached but
 *                not taken, behaves exactly as without, with the same random draw; every
 *                wish ends in at most one visit.
 *   learning     with --learn the window's discount comes from the learning policy
 *                (domain/flash/policy.h: Thompson sampling per seller, prior visit rate 0.3
 *                over 2 offers pooled with the other sellers of the category as the server
 *                does, max_regret 0.05) instead of the distance tiers, and every window's
 *                offers and visits are its evidence; "learning" reports the reward per offer
 *                (visit × margin, margin = 1 − discount) on day 1 and on the last day, and the
 *                like-for-like test of learning: the same city run again with a policy that
 *                forgets every night (it always knows what it knew on day 1), the learned and
 *                the forgetting policy's reward per offer compared on the last day, over seeds.
 *   counted      demand served = wishes that became a visit / wishes; idle capacity filled =
 *                visits in a seller's idle hour while its idle seats last / idle seats;
 *                revenue = price · (1 − discount) per visit (price = the seller's mid price);
 *                discount given = price · discount.
 */
#ifndef ICESHOP_DEMO_SIM_H
#define ICESHOP_DEMO_SIM_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct demo_city;

struct sim_opts {
    uint64_t seed; /* first seed; seeds seed .. seed + seeds − 1 */
    int seeds;     /* 1..1000 */
    int days;      /* 1..60 */
    int sellers;   /* 1..DEMO_MAX_SELLERS */
    int buyers;    /* 1..DEMO_MAX_BUYERS */
    double p_wish;
    double p_idle;
    double p_accept;
    /* tests: fixed probabilities instead of the model's (< 0 = the model) */
    double force_p_base;
    double force_p_offer;
    double force_reliability;
    bool learn; /* the learning policy chooses the discount (else the distance tiers) */
    bool
        forget_daily; /* with learn: the policy starts from its prior every day (day-1 knowledge) */
    double max_regret;                      /* its exploration bound */
    void (*edit_city)(struct demo_city *c); /* tests: adjust the built city; NULL = none */
};
/* The default city: seed 1, 20 seeds, 7 days, 12 sellers, 150 buyers, the model's numbers. */
void sim_opts_default(struct sim_opts *o);

/* One arm's totals over a run. Money in minor units. */
struct sim_arm {
    int64_t wishes, visits, served, idle_seats, idle_filled, revenue, discount;
    int64_t offers;    /* targets of windows */
    int64_t reward_bp; /* Σ over window visits of the margin, in basis points */
};
struct sim_run {
    struct sim_arm with, without;
    struct sim_arm first_day, last_day; /* the "with" arm on day 1 and on the last day */
    int windows, declined, commits, no_shows;
};
/* One city (seed) over o->days. ERR_INVALID for options out of range. */
int sim_city_run(const struct sim_opts *o, uint64_t seed, struct sim_run *out, struct err *e);

/* A figure over seeds: means, the mean uplift (with − without) and its 95 % interval. */
struct sim_stat {
    double with, without, uplift, lo, hi;
};
struct sim_report {
    int seeds, days;
    struct sim_stat demand_served; /* fractions 0..1 */
    struct sim_stat idle_filled;   /* fractions 0..1 */
    struct sim_stat visits;        /* per day */
    struct sim_stat revenue;       /* per day, major units (TRY) */
    struct sim_stat discount;      /* per day, major units */
    double first_day, last_day;    /* reward per offer with Iceshop, day 1 and the last day */
    /* with learn: last-day reward per offer, learned ("with") vs forgetting ("without") */
    struct sim_stat learned;
    double windows; /* per day */
    bool learn;
};
int sim_report_run(const struct sim_opts *o, struct sim_report *r, struct err *e);
/*
 * {"demand_served":{"with","without","uplift","ci95":[lo,hi]},...,"learning":{"first_day",
 * "last_day","learned_vs_day1":{"learned","day1","uplift","ci95"}}}; new ref.
 */
json_t *sim_report_json(const struct sim_report *r);

/* The subcommand: `iceshop simulate [--seed N] [--seeds K] [--days D] ... [--json]`. */
int sim_main(int argc, char **argv);

#endif
