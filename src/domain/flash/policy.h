/* SPDX-License-Identifier: MIT */
/*
 * The learning discount policy, pure: for one seller and category, Beta posteriors of the visit
 * rate of an offer at each discount the tiers allow, Thompson sampling over them with bounded
 * exploration, never above the seller's maximum. No I/O, no clock; randomness from the
 * caller's seed. Tests: tests/unit/domain/test_flash_policy.c; used by `iceshop simulate`.
 *
 * Exactly:
 *   arms        the distinct tier discounts of the configuration, each capped at the seller's
 *               maximum (so never above it), ascending
 *   posterior   visit rate of an offer at arm d ~ Beta(α_d, β_d); the prior is
 *               Beta(rate·w, (1 − rate)·w) from the tenant's history (rate, weight w), or,
 *               pooled (flash_policy_pool), what the tenant's other sellers of the category
 *               saw at d: Beta(m_d·w_d, (1 − m_d)·w_d), m_d their posterior mean at d over the
 *               first prior, w_d = w + min(their offers at d, pool_max): a new seller starts
 *               from what its peers learned, its own outcomes then count in full
 *   update      an outcome of `offers` offers and `visits` visits at d: α_d += visits,
 *               β_d += offers − visits
 *   value       visit rate × margin, margin = 1 − d/100 (what the seller keeps of the price)
 *   choose      explore: draw θ_d from each posterior and take the largest θ_d·margin; but an
 *               arm whose optimistic value (posterior mean + 2 sd, times margin) is more than
 *               max_regret below the best posterior-mean value is not taken (bounded
 *               exploration: an arm is shut out once measured poor, never on its prior alone).
 *               No exploration: the best posterior mean.
 */
#ifndef ICESHOP_DOMAIN_FLASH_POLICY_H
#define ICESHOP_DOMAIN_FLASH_POLICY_H

#include "domain/flash/flash.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLASH_POLICY_ARMS FLASH_MAX_TIERS
/* How many of the other sellers' offers at a discount a pooled prior counts at most. */
#define FLASH_POLICY_POOL_MAX 200.0

struct flash_policy_arm {
    int discount; /* percent */
    double alpha, beta;
};

struct flash_policy {
    int n_arms;
    struct flash_policy_arm arms[FLASH_POLICY_ARMS];
};

/* Arms from c's tiers capped at seller_max; prior Beta(rate·weight, (1 − rate)·weight). */
void flash_policy_init(struct flash_policy *p, const struct flash_config *c, int seller_max,
                       double prior_rate, double prior_weight);
/* Evidence at one discount: offers made and the visits they brought. */
struct flash_policy_evidence {
    int discount;
    double offers, visits;
};
/*
 * Pooled prior (see above): call right after flash_policy_init with the same rate and weight,
 * before the seller's own outcomes. `ev` (n entries; discounts without an arm are ignored,
 * several entries at one discount add up) is the other sellers' evidence; pool_max ≥ 0 bounds
 * how much of it counts.
 */
void flash_policy_pool(struct flash_policy *p, const struct flash_policy_evidence *ev, size_t n,
                       double prior_rate, double prior_weight, double pool_max);
/* Record an outcome at `discount` (the arm with that discount; none: ignored). */
void flash_policy_update(struct flash_policy *p, int discount, int offers, int visits);
/* Posterior mean visit rate of the arm at index i. */
double flash_policy_mean(const struct flash_policy *p, int i);
/*
 * The discount to offer (an arm's, ≤ seller_max; 0 when there are no arms). *rng is a
 * non-zero xorshift state the call advances. `why` (may be NULL) gets the trace's sentence:
 * "20% chosen: posterior mean visit rate 0.31 vs 0.22 at 15%".
 */
int flash_policy_choose(const struct flash_policy *p, int seller_max, bool explore,
                        double max_regret, uint64_t *rng, char *why, size_t why_len);

#endif
