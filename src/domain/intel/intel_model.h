/* SPDX-License-Identifier: MIT */
/*
 * A tenant's customer model, fitted from its orders (the commerce store): each customer's
 * purchase history reduced to BG/NBD's (x, t_x, T) and Gamma-Gamma's mean repeat value, then
 * both models fitted (bgnbd.h), in days. Counting as the literature does: purchase occasions are
 * days with at least one order (placed or paid; cancelled and refunded ones never count), x the
 * occasions after the first, t_x and T from the first occasion to the last and to `as_of`, the
 * repeat value the mean of the repeat occasions' spend in major units. Only orders in the
 * tenant's most used currency (the most counted orders up to as_of; ties: the first by code)
 * are summed; one scan of the orders finds it and reads them. Below DATA_SUFFICIENCY the fit is not
 * attempted and the reason says why. Tests: tests/unit/domain/test_intel_model.c,
 * tests/integration/0018-commerce.c.
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
 * One customer as of the model's as_of, from the same pass (counted orders in the model's
 * currency only): what RFM scoring and the per-customer predictions need.
 */
struct intel_customer_summary {
    int64_t customer_pk;
    int64_t orders;        /* counted orders: RFM frequency */
    double spend;          /* Σ their totals, major units: RFM monetary */
    int64_t last_order_ms; /* RFM recency is as_of − this */
    struct intel_rfm rfm;  /* x, t_x, T, zbar in days */
    bool observed;         /* T > 0 (first purchase before as_of's day): part of the fit */
};

/*
 * As intel_model_fit, and also every customer with a counted order, in customer_pk order, in
 * *rows (malloc'd, the caller frees; NULL when none) and *n.
 */
int intel_model_fit_customers(struct db_conn *c, int64_t tenant, int64_t as_of_ms,
                              struct intel_model *out, struct intel_customer_summary **rows,
                              size_t *n, struct err *e);

/*
 * What the fitted model predicts for one customer, as of the model's as_of:
 *   p_alive               BG/NBD P(alive | x, t_x, T)
 *   churn_probability     1 − p_alive
 *   expected_purchases_90 E[X(90)], purchase occasions in the next 90 days
 *   expected_order_value  Gamma-Gamma E[value | x, z̄], major units (the population mean for a
 *                         customer without repeats)
 *   predicted_clv         E[X(365)] · expected_order_value, major units, undiscounted
 *   next order            for a customer more likely alive than not (p_alive ≥ 0.5): as_of +
 *                         (α + T) / (r + x) days, the mean gap between purchases at the
 *                         customer's posterior mean purchase rate (r + x) / (α + T), rounded
 *                         to whole days (at least 1); none otherwise
 * Without a fitted model, or for a customer not observed (no purchase, or the first one on
 * as_of's day) or out of the model's currency, has is false and `reason` says why.
 */
struct intel_prediction {
    bool has;
    char reason[160];
    double p_alive, churn_probability, expected_purchases_90, expected_order_value, predicted_clv;
    bool has_next_order;
    int64_t next_order_ms;
};

/* `s` may be NULL (no counted order). Pure. */
void intel_model_predict(const struct intel_model *m, const struct intel_customer_summary *s,
                         struct intel_prediction *out);

/*
 * Fit tenant `tenant`'s model on its orders created up to `as_of_ms` (a read on the caller's
 * connection). Not enough data is not an error: out->fitted is false with the reason.
 */
int intel_model_fit(struct db_conn *c, int64_t tenant, int64_t as_of_ms, struct intel_model *out,
                    struct err *e);

#endif
