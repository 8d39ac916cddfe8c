/* SPDX-License-Identifier: MIT */
/*
 * The seed's campaign planner (AIAgentService): a personal campaign for one customer from their
 * signals (signals.h), or 3 company proposals from a goal, constraints and a target. This file
 * holds the pure parts: the deterministic rules planner, the prompts a language model is asked
 * with and the validator its answers must pass. No I/O, no clock reads. The service that asks
 * the model, falls back to the rules and keeps the decision log is planner_service.h.
 * Tests: tests/unit/domain/test_planner.c, tests/integration/0026-campaigns.c.
 *
 * Personal rules (first that applies; money in the signals' major units):
 *   BUNDLE     the customer has replenishment gaps whose products are in stock: those products
 *              (at most 3, HIGH) at discountPercent min(10, max); targetAmount = their prices'
 *              sum rounded up to a whole unit
 *   GIFT       loyalty tier GOLD or PLATINUM: a gift over targetAmount = ceil10(1.2 x base)
 *   THRESHOLD  base > 0, where base = the cart's total when a cart was given, else the average
 *              order value: targetAmount = ceil10(1.25 x base) (ceil10: up to a multiple of 10)
 *   DISCOUNT   otherwise: discountPercent = min(max, 5 + round(price sensitivity / 10))
 * Recommended products, at most 3, all in stock: the gap products (HIGH), then products of the
 * top categories not in the cart (MEDIUM), then the cheapest other products (LOW).
 * confidence = min(95, 50 + 5 x lifetime orders) with profiles, else 30. The six reasoning
 * texts restate the signal each dimension rests on.
 *
 * Company rules: three proposals whose types' order follows the goal (STOCK_CLEARANCE: BUNDLE,
 * THRESHOLD, GIFT; LOYALTY_REWARD: GIFT, THRESHOLD, BUNDLE; any other goal, AOV_INCREASE
 * included: THRESHOLD, BUNDLE, GIFT); the target's budgetTier, loyaltyTier, ageRange and
 * cities are copied into each targetProfile (defaults MID, SILVER, [18, 65], []); expectedROI
 * falls 1.8, 1.5, 1.2 by rank and risk rises LOW, MEDIUM, HIGH; a discountPercent of
 * min(max, constraints.maxDiscount when given, 15) is proposed with each.
 *
 * Validation (an answer failing any check is refused, naming the field):
 *   personal  a JSON object; campaignType one of the four; title and description non-empty
 *             strings; reasoning an object with the six dimensions as strings; confidence a
 *             number 0..100; discountPercent (required for DISCOUNT and BUNDLE) in 1..max;
 *             targetAmount (required for THRESHOLD and GIFT) above 0 and at most 3 x the
 *             customer's reference amount (the larger of cart total and average order value,
 *             or predicted monthly budget when both are 0; unbounded when all are 0);
 *             recommendedProducts an array of at most 10 objects, each with a productId of a
 *             product of the catalogue (which holds only products in stock), a reason and a
 *             priority HIGH|MEDIUM|LOW
 *   company   {"proposals": [...]} with 3 to 5 objects, each with a name, a type
 *             BUNDLE|THRESHOLD|GIFT, a targetProfile object whose budgetTier and loyaltyTier
 *             are the seed's values, a productSelection object, an expectedROI number, a risk
 *             LOW|MEDIUM|HIGH, a reasoning string, a confidence 0..100 and, when given, a
 *             discountPercent in 0..max
 */
#ifndef ICESHOP_DOMAIN_INTEL_PLANNER_H
#define ICESHOP_DOMAIN_INTEL_PLANNER_H

#include "core/arena.h"
#include "core/err.h"
#include "domain/intel/signals.h"
#include "json/json.h"

#include <stddef.h>
#include <stdint.h>

/* The default of the tenant's campaigns.max_discount (intel_config.h). */
#define PLANNER_MAX_DISCOUNT 30
/* Products offered to the model and the rules. */
#define PLANNER_CATALOG_MAX 50

struct planner_product {
    const char *product_id, *name, *category_id; /* public ids; category "" without */
    double price;                                /* major units */
    int64_t stock;                               /* > 0 */
};

/* What a plan may name: products in stock, and the discount bound. */
struct planner_catalog {
    const struct planner_product *items;
    size_t n;
    int max_discount;
};

/* The rules' personal campaign (the seed's format, products with their productId and name). */
json_t *planner_personal_rules(const struct intel_signals *s, const struct planner_catalog *cat);
/* The rules' {"proposals": [...]}; constraints and target may be NULL. */
json_t *planner_company_rules(const char *goal, json_t *constraints, json_t *target,
                              int max_discount);

/* 0 when `campaign` passes the personal checks above; ERR_INVALID naming the field else. */
int planner_personal_check(json_t *campaign, const struct intel_signals *s,
                           const struct planner_catalog *cat, struct err *e);
/* 0 when `answer` passes the company checks above; ERR_INVALID naming the field else. */
int planner_company_check(json_t *answer, int max_discount, struct err *e);

/* Parse a model's answer (a JSON object, optionally in a ```json fence) into *out (caller
 * decrefs); ERR_INVALID naming "answer" when it is not one. */
int planner_answer_parse(const char *content, json_t **out, struct err *e);

/* The seed's prompts, with the catalogue and discount bound added; strings from `a`. */
const char *planner_personal_system(const struct planner_catalog *cat, struct arena *a);
const char *planner_personal_user(json_t *signals, struct arena *a);
const char *planner_company_system(int max_discount, struct arena *a);
const char *planner_company_user(const char *goal, json_t *constraints, json_t *target,
                                 struct arena *a);

#endif
