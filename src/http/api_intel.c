/* SPDX-License-Identifier: MIT */
/*
 * HTTP for customer intelligence (domain/intel): the tenant's fitted customer model.
 * Tests: tests/integration/0018-commerce.c.
 */
#include "core/clock.h"
#include "domain/intel/intel_model.h"
#include "http/app.h"
#include "http/handlers.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static json_t *num(double v)
{
    return json_real(round(v * 1e6) / 1e6);
}

/* GET /api/intel/model[?as_of=YYYY-MM-DD]: BG/NBD and Gamma-Gamma in days, or why not. */
int h_intel_model(struct http_req *r, struct err *e)
{
    int64_t as_of = clock_now_ms(r->app->clock);
    const char *q = http_req_query(r, "as_of");
    if (q) {
        char iso[40];
        snprintf(iso, sizeof(iso), "%.10sT23:59:59Z", q);
        if (strlen(q) != 10 || clock_parse_iso(iso, &as_of))
            return err_set_field(e, ERR_INVALID, "as_of", "as_of is a date like 2026-12-01");
    }
    struct db_conn *c = NULL;
    struct intel_model m;
    int rc = http_req_db(r, &c, e);
    if (!rc)
        rc = intel_model_fit(c, r->who.tenant_id, as_of, &m, e);
    if (rc)
        return rc;
    char ts[CLOCK_ISO_LEN];
    clock_format_iso(as_of, ts);
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:i, s:i}", "as_of", ts, "time_unit", "day", "currency",
                  m.currency, "customers", m.customers, "repeat_customers", m.repeat_customers);
    if (m.fitted) {
        json_object_set_new(body, "bgnbd",
                            json_pack("{s:o, s:o, s:o, s:o, s:o}", "r", num(m.bgnbd.r), "alpha",
                                      num(m.bgnbd.alpha), "a", num(m.bgnbd.a), "b", num(m.bgnbd.b),
                                      "log_likelihood", num(m.bgnbd.log_likelihood)));
        json_object_set_new(body, "gamma_gamma",
                            json_pack("{s:o, s:o, s:o}", "p", num(m.gamma_gamma.p), "q",
                                      num(m.gamma_gamma.q), "gamma", num(m.gamma_gamma.gamma)));
        json_object_set_new(body, "reason", json_null());
    } else {
        json_object_set_new(body, "bgnbd", json_null());
        json_object_set_new(body, "gamma_gamma", json_null());
        json_object_set_new(body, "reason", json_string(m.reason));
    }
    return http_reply_json(r, 200, body);
}
