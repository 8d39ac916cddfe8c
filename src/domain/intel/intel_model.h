/* SPDX-License-Identifier: MIT */
/*
 * A tenant's customer model, fitted from its orders (the commerce store): each customer's
 * purchase history reduced to BG/NBD's (x, t_x, T) and Gamma-Gamma's mean repeat value, then
 * both models fitted (bgnbd.h), in days. Counting as the literature does: purchase occasions are
 * days with at least one order (placed or paid; cancelled and refunded ones never count), x the
 * occasions after the first, t_x and T from the first occasion to the last and to `as_of`, the
 * repeat value the mean of the repeat occasions' spend in major units. Only orders in the
 * tenant's most used currency are read. Below DATA_SUFFICIENCY the fit is not attempted and the
 * reason says why. Tests: tests/unit/domain/test_intel_model.c, tests/integration/0018-commerce.c.
 */
#ifndef ICESHOP_DOMAIN_INTEL_INTEL_MODEL_H
#define ICESHOP_DOMAIN_INTEL_INTEL_MODEL_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "domain/intel/bgnbd.h"

#include <stdbool.h>
#include <stdint.h>

/* The data-sufficiency gate: customers observed, and customers who came back. */
#define INTEL_MIN_CUSTOMERS        50
#define INTEL_MIN_REPEAT_CUSTOMERS 20

struct intel_model {
    int64_t as_of_ms;
    char currency[8];     /* "" when the tenant has no orders */
    int customers;        /* with a first purchase before as_of */
    int repeat_customers; /* with at least one repeat occasion */
    bool fitted;          /* both models fitted; else `reason` */
    char reason[160];
    struct intel_bgnbd bgnbd;             /* per day */
    struct intel_gamma_gamma gamma_gamma; /* in the currency's major units */
};

/*
 * Fit tenant `tenant`'s model on its orders created up to `as_of_ms` (a read on the caller's
 * connection). Not enough data is not an error: out->fitted is false with the reason.
 */
int intel_model_fit(struct db_conn *c, int64_t tenant, int64_t as_of_ms, struct intel_model *out,
                    struct err *e);

#endif
