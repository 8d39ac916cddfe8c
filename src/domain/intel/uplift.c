/* SPDX-License-Identifier: MIT */
/* Treatment against holdout: see uplift.h. */
#include "domain/intel/uplift.h"

#include <math.h>
#include <string.h>

static struct uplift_diff interval(double estimate, double se)
{
    return (struct uplift_diff){.defined = true,
                                .estimate = estimate,
                                .low = estimate - UPLIFT_Z95 * se,
                                .high = estimate + UPLIFT_Z95 * se};
}

static double variance(const struct uplift_arm *a, double mean)
{
    double v = (a->revenue_sq - (double)a->customers * mean * mean) / (double)(a->customers - 1);
    return v > 0 ? v : 0;
}

void uplift_compare(const struct uplift_arm *t, const struct uplift_arm *h,
                    struct uplift_result *out)
{
    memset(out, 0, sizeof(*out));
    if (t->customers > 0) {
        out->rate_t = (double)t->converted / (double)t->customers;
        out->per_cust_t = t->revenue / (double)t->customers;
    }
    if (h->customers > 0) {
        out->rate_h = (double)h->converted / (double)h->customers;
        out->per_cust_h = h->revenue / (double)h->customers;
    }
    if (t->customers >= 1 && h->customers >= 1) {
        double se = sqrt(out->rate_t * (1 - out->rate_t) / (double)t->customers +
                         out->rate_h * (1 - out->rate_h) / (double)h->customers);
        out->conversion = interval(out->rate_t - out->rate_h, se);
    }
    if (t->customers >= 2 && h->customers >= 2) {
        double se = sqrt(variance(t, out->per_cust_t) / (double)t->customers +
                         variance(h, out->per_cust_h) / (double)h->customers);
        out->revenue = interval(out->per_cust_t - out->per_cust_h, se);
    }
}
