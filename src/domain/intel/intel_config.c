/* SPDX-License-Identifier: MIT */
/* Customer intelligence's per-tenant settings: see intel_config.h. */
#include "domain/intel/intel_config.h"
#include "db/store.h"
#include "domain/intel/planner.h"

#include <stdlib.h>
#include <string.h>

#define CFG(field) offsetof(struct intel_config, field)

/* Thresholds up to 100 million major units; a discount cap up to 90 %; holdouts up to half. */
const struct settings_field intel_settings[] = {
    {"budget_tiers.mid", SETTINGS_INT, 0, 100000000, 500, CFG(budget_mid),
     "monthly budget (major units) above which a customer is MID"},
    {"budget_tiers.high", SETTINGS_INT, 0, 100000000, 1000, CFG(budget_high),
     "monthly budget (major units) above which a customer is HIGH"},
    {"budget_tiers.premium", SETTINGS_INT, 0, 100000000, 2000, CFG(budget_premium),
     "monthly budget (major units) above which a customer is PREMIUM"},
    {"campaigns.max_discount", SETTINGS_INT, 0, 90, PLANNER_MAX_DISCOUNT, CFG(max_discount),
     "no planned campaign offers a discount above this many percent"},
    {"campaigns.holdout_pct", SETTINGS_INT, 0, 50, 10, CFG(holdout_pct),
     "percent of a company campaign's audience kept out, to measure its uplift"},
    {"campaigns.attribution_days", SETTINGS_INT, 1, 90, 7, CFG(attribution_days),
     "orders placed this many days after a send are attributed to it"},
};
const size_t intel_settings_count = sizeof(intel_settings) / sizeof(intel_settings[0]);

void intel_config_default(struct intel_config *c)
{
    memset(c, 0, sizeof(*c));
    settings_defaults(intel_settings, intel_settings_count, c);
}

int intel_config_validate(const struct intel_config *c, struct err *e)
{
    int rc = settings_check(intel_settings, intel_settings_count, c, NULL, e);
    if (rc)
        return rc;
    if (c->budget_high < c->budget_mid)
        return err_set_field(e, ERR_INVALID, "budget_tiers.high",
                             "budget_tiers.high must not be below budget_tiers.mid");
    if (c->budget_premium < c->budget_high)
        return err_set_field(e, ERR_INVALID, "budget_tiers.premium",
                             "budget_tiers.premium must not be below budget_tiers.high");
    return 0;
}

json_t *intel_config_to_json(const struct intel_config *c)
{
    json_t *root = json_object();
    settings_to_json(intel_settings, intel_settings_count, c, root);
    return root;
}

int intel_config_merge(struct intel_config *c, json_t *patch, struct err *e)
{
    struct intel_config next = *c;
    int rc = settings_merge(intel_settings, intel_settings_count, patch, NULL, &next, e);
    if (!rc)
        rc = intel_config_validate(&next, e);
    if (!rc)
        *c = next;
    return rc;
}

void intel_config_profile(const struct intel_config *c, int exponent,
                          struct intel_profile_config *out)
{
    intel_profile_config_default(out, exponent);
    int64_t major = 1;
    for (int i = 0; i < exponent; i++)
        major *= 10;
    out->budget_mid_above = c->budget_mid * major;
    out->budget_high_above = c->budget_high * major;
    out->budget_premium_above = c->budget_premium * major;
}

int intel_config_get(struct db_conn *conn, int64_t tenant, struct intel_config *out, struct err *e)
{
    intel_config_default(out);
    struct arena a;
    arena_init(&a);
    const char *text = NULL;
    int rc = db_settings_get(conn, "intel_config", tenant, &a, &text, e);
    json_t *root = !rc && text ? json_loads(text, 0, NULL) : NULL;
    arena_release(&a);
    if (rc)
        return rc;
    struct intel_config stored = *out;
    settings_decode(intel_settings, intel_settings_count, root, &stored);
    json_decref(root);
    /* what no longer validates as a whole (tiers out of order) falls back to the defaults */
    if (intel_config_validate(&stored, NULL) == 0)
        *out = stored;
    return 0;
}

int intel_config_put(struct db_conn *conn, int64_t tenant, const struct intel_config *c,
                     int64_t now_ms, struct err *e)
{
    int rc = intel_config_validate(c, e);
    if (rc)
        return rc;
    json_t *j = intel_config_to_json(c);
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    if (!text)
        return err_set(e, ERR_INTERNAL, "cannot encode the intelligence settings");
    rc = db_settings_put(conn, "intel_config", tenant, text, now_ms, e);
    free(text);
    return rc;
}
