/* SPDX-License-Identifier: MIT */
/*
 * Customer intelligence's per-tenant settings: GET|PUT /api/intel/config. Ranges and defaults
 * are not written here but in intel_settings[] (intel_config.c), the one declaration of each
 * setting, read through json/settings.h; tests/unit/http/test_openapi.c checks the OpenAPI
 * schema against the same table.
 *
 *   budget_tiers.mid|high|premium  the seed's monthly-budget thresholds (500, 1000, 2000) in
 *                                  major units of the tenant's order currency; they must ascend.
 *                                  The profile batch reads them (intel_config_profile).
 *   campaigns.max_discount         percent: no planned campaign (rules or model) offers more.
 *   campaigns.holdout_pct          share of a company campaign's audience kept out (default 10).
 *   campaigns.attribution_days     orders this many days after a send are attributed (7).
 *
 * Storage: table intel_config (migration 0032), one JSON row per tenant; a tenant without a row
 * has the defaults. Tests: tests/unit/domain/test_intel_config.c,
 * tests/integration/0026-campaigns.c.
 */
#ifndef ICESHOP_DOMAIN_INTEL_INTEL_CONFIG_H
#define ICESHOP_DOMAIN_INTEL_INTEL_CONFIG_H

#include "core/err.h"
#include "db/db.h"
#include "domain/intel/profiles.h"
#include "json/settings.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct intel_config {
    int budget_mid, budget_high, budget_premium; /* major units */
    int max_discount;                            /* percent */
    int holdout_pct;                             /* percent of a company campaign's audience */
    int attribution_days;
};

extern const struct settings_field intel_settings[];
extern const size_t intel_settings_count;

/* Every setting at its default (the seed's thresholds, a 30 % cap, 10 % holdout, 7 days). */
void intel_config_default(struct intel_config *c);
/* ERR_INVALID naming the field when out of range or the budget tiers do not ascend. */
int intel_config_validate(const struct intel_config *c, struct err *e);
/* The configuration as JSON (the body of GET /api/intel/config and the stored form). */
json_t *intel_config_to_json(const struct intel_config *c);
/*
 * Merge `patch` (any subset of that JSON) over *c and validate the whole. Unknown fields, wrong
 * types and values out of range are ERR_INVALID naming the field ("budget_tiers.high").
 * *c changes only on success.
 */
int intel_config_merge(struct intel_config *c, json_t *patch, struct err *e);

/*
 * The profile rules' configuration for a currency with `exponent` decimals: the seed's defaults
 * (intel_profile_config_default) with this tenant's budget tiers.
 */
void intel_config_profile(const struct intel_config *c, int exponent,
                          struct intel_profile_config *out);

/* The tenant's configuration (defaults when none is stored; stored values read leniently). */
int intel_config_get(struct db_conn *conn, int64_t tenant, struct intel_config *out, struct err *e);
/* Validate and store (insert or replace) on the caller's connection and transaction. */
int intel_config_put(struct db_conn *conn, int64_t tenant, const struct intel_config *c,
                     int64_t now_ms, struct err *e);

#endif
