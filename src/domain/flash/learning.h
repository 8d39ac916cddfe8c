/* SPDX-License-Identifier: MIT */
/*
 * What the flash system has learned about discounts, per seller and category: for each discount
 * a window was offered at, how many offers went out and how many visits (redemptions) came back.
 * Windows record their outcome when they end (expired, or cancelled for want of pre-commits);
 * the learning policy (policy.h) reads it back as posteriors: the tenant's overall visit rate as
 * the first prior, pooled with what the tenant's other sellers of the category saw at each
 * discount (flash_policy_pool, at most FLASH_POLICY_POOL_MAX offers of theirs), then the
 * seller's own outcomes. Tests: tests/unit/domain/test_flash_service.c,
 * tests/integration/0004-flash.c.
 *
 * Transactions: every function runs on the caller's connection and joins its transaction.
 */
#ifndef ICESHOP_DOMAIN_FLASH_LEARNING_H
#define ICESHOP_DOMAIN_FLASH_LEARNING_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "db/store.h"
#include "domain/flash/policy.h"

#include <stdint.h>

/* The prior: Beta(rate·weight, (1 − rate)·weight), the tenant's own rate once it has this many
 * offers on record, FLASH_LEARNING_PRIOR_RATE before. */
#define FLASH_LEARNING_PRIOR_RATE   0.3
#define FLASH_LEARNING_PRIOR_WEIGHT 2.0
#define FLASH_LEARNING_PRIOR_MIN    20

/* Add one outcome: `offers` offers and `visits` visits at `discount` percent. */
int flash_learning_record(struct db_conn *c, int64_t tenant, int64_t seller_pk,
                          const char *category, int discount, int offers, int visits,
                          int64_t now_ms, struct err *e);

/*
 * The policy for one seller and category: arms from cfg's tiers capped at seller_max, the
 * tenant's prior pooled with the category's other sellers, and every recorded outcome of the
 * seller at an arm's discount. *prior_rate gets the first prior's rate (may be NULL).
 */
int flash_learning_policy(struct db_conn *c, int64_t tenant, int64_t seller_pk,
                          const char *category, const struct flash_config *cfg, int seller_max,
                          struct flash_policy *out, double *prior_rate, struct err *e);

/* One row of what has been learned: a seller, a category, a discount. */
struct flash_learning_row {
    int64_t pk;
    const char *seller_id;
    int64_t seller_pk;
    const char *category;
    int discount;
    int64_t offers;
    int64_t visits;
    int64_t updated_at;
};

/* The tenant's rows, oldest seller first, keyset-paged by pk (ascending). */
int flash_learning_list(struct db_conn *c, int64_t tenant, const struct page *p, struct arena *a,
                        struct flash_learning_row **rows, size_t *n, struct err *e);

/* The posterior mean visit rate of `visits` from `offers` over the prior `prior_rate`. */
double flash_learning_mean(double prior_rate, int64_t offers, int64_t visits);

/* The tenant's prior visit rate (see above) and how many offers it rests on. */
int flash_learning_prior(struct db_conn *c, int64_t tenant, double *rate, int64_t *offers,
                         struct err *e);

#endif
