/* SPDX-License-Identifier: MIT */
/*
 * Payment operations (payments_service.h). Provider requests happen between two transactions:
 * the first records the attempt (and its Idempotency-Key), the second what the provider said,
 * so no transaction waits on the network. Tests: tests/integration/0023-payments.c.
 */
#include "domain/payments/payments_service.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "domain/alerts/alerts.h"
#include "domain/commerce/commerce_store.h"
#include "domain/commerce/order_hooks.h"
#include "domain/payments/payments_jobs.h"
#include "integrations/integration_store.h"
#include "jobs/queue.h"
#include "net/iyzico.h"
#include "net/stripe.h"

#include <stdio.h>
#include <string.h>

static struct payments_options opts;
static char public_url[256];

void payments_configure(const struct payments_options *o)
{
    opts = *o;
    snprintf(public_url, sizeof(public_url), "%s", o->public_url ? o->public_url : "");
    opts.public_url = public_url;
    if (opts.pending_after_s <= 0)
        opts.pending_after_s = 900;
}

int payments_pending_after_s(void)
{
    return opts.pending_after_s > 0 ? opts.pending_after_s : 900;
}

/* ---- provider settings ---- */

static int settings(struct db_conn *c, int64_t tenant, const char *provider, struct arena *a,
                    struct integration *it, struct err *e)
{
    if (!opts.secret_key)
        return err_set(e, ERR_INTERNAL, "payments are not configured");
    return integration_get(c, opts.secret_key, tenant, provider, tenant == opts.default_tenant, a,
                           it, e);
}

static int stripe_settings(struct db_conn *c, int64_t tenant, struct arena *a,
                           struct stripe_config *out, struct err *e)
{
    struct integration it;
    memset(out, 0, sizeof(*out));
    int rc = settings(c, tenant, "stripe", a, &it, e);
    if (rc)
        return rc;
    out->secret_key = integration_value(&it, "secret_key");
    out->api_url = integration_value(&it, "api_url");
    if (!out->secret_key)
        return err_set_field(e, ERR_CONFLICT, "provider",
                             "stripe is not configured for this tenant (secret_key)");
    return 0;
}

static int iyzico_settings(struct db_conn *c, int64_t tenant, struct arena *a,
                           struct iyzico_config *out, struct err *e)
{
    struct integration it;
    memset(out, 0, sizeof(*out));
    int rc = settings(c, tenant, "iyzico", a, &it, e);
    if (rc)
        return rc;
    out->api_key = integration_value(&it, "api_key");
    out->secret_key = integration_value(&it, "secret_key");
    out->api_url = integration_value(&it, "api_url");
    if (!out->api_key || !out->secret_key)
        return err_set_field(e, ERR_CONFLICT, "provider",
                             "iyzico is not configured for this tenant (api_key, secret_key)");
    return 0;
}

/* ---- JSON ---- */

static json_t *money_json(int64_t minor, const struct money_currency *cur)
{
    struct money m = {minor, cur};
    char text[MONEY_TEXT_MAX];
    if (!cur || money_format(&m, text, sizeof(text), &(struct err){0}))
        return json_null();
    return json_string(text);
}

static json_t *opt_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *payments_json(struct db_conn *c, const struct payment *p, bool full, struct arena *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(p->id));
    json_object_set_new(o, "order_id", json_string(p->order_id));
    json_object_set_new(o, "provider", json_string(payment_provider_name(p->provider)));
    json_object_set_new(o, "status", json_string(payment_status_name(p->state.status)));
    json_object_set_new(o, "amount", money_json(p->state.amount, p->currency));
    json_object_set_new(o, "refunded_amount", money_json(p->state.refunded, p->currency));
    json_object_set_new(o, "currency", json_string(p->currency ? p->currency->code : ""));
    json_object_set_new(o, "provider_ref", opt_str(p->provider_ref));
    if (p->provider == PAYMENT_STRIPE)
        json_object_set_new(o, "client_secret", opt_str(p->client_secret));
    else
        json_object_set_new(o, "page_url", opt_str(p->page_url));
    json_object_set_new(o, "disputed", json_boolean(p->disputed));
    json_object_set_new(o, "error", opt_str(p->error));
    char t[CLOCK_ISO_LEN];
    clock_format_iso(p->created_at, t);
    json_object_set_new(o, "created_at", json_string(t));
    clock_format_iso(p->updated_at, t);
    json_object_set_new(o, "updated_at", json_string(t));
    if (!full || !c)
        return o;
    struct payment_history_row *h = NULL;
    size_t n = 0;
    json_t *arr = json_array();
    if (!payments_store_history(c, p->tenant_id, p->pk, a, &h, &n, &(struct err){0})) {
        for (size_t i = 0; i < n; i++) {
            clock_format_iso(h[i].at, t);
            json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:s, s:s, s:s}", "from",
                                                 h[i].from_status, "to", h[i].to_status,
                                                 "refunded_amount",
                                                 money_json(h[i].refunded, p->currency), "cause",
                                                 h[i].cause, "detail", h[i].detail, "at", t));
        }
    }
    json_object_set_new(o, "history", arr);
    struct payment_refund *r = NULL;
    arr = json_array();
    if (!payments_store_refund_list(c, p->tenant_id, p->pk, a, &r, &n, &(struct err){0})) {
        for (size_t i = 0; i < n; i++) {
            clock_format_iso(r[i].created_at, t);
            json_array_append_new(arr, json_pack("{s:s, s:o, s:s, s:o, s:o, s:s}", "id", r[i].id,
                                                 "amount", money_json(r[i].amount, p->currency),
                                                 "status", r[i].status, "provider_ref",
                                                 opt_str(r[i].provider_ref), "error",
                                                 opt_str(r[i].error), "created_at", t));
        }
    }
    json_object_set_new(o, "refunds", arr);
    return o;
}

int payments_get_json(struct db_conn *c, int64_t tenant, const char *payment_id, struct arena *a,
                      json_t **out, struct err *e)
{
    struct payment p;
    int rc = payments_store_get(c, tenant, payment_id, a, &p, e);
    if (!rc)
        *out = payments_json(c, &p, true, a);
    return rc;
}

int payments_list_json(struct db_conn *c, int64_t tenant, const char *order_id, struct arena *a,
                       json_t **out, struct err *e)
{
    struct commerce_order o;
    int rc = commerce_store_order_get(c, tenant, order_id, a, &o, e);
    if (rc == ERR_NOT_FOUND)
        return err_replace(e, ERR_NOT_FOUND, "id", "no order %s", order_id);
    struct payment *rows = NULL;
    size_t n = 0;
    if (!rc)
        rc = payments_store_list_order(c, tenant, o.pk, a, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, payments_json(c, &rows[i], false, a));
    *out = json_pack("{s:o}", "data", arr);
    return 0;
}

int payments_order_act(struct db_conn *c, int64_t tenant, const char *order_id,
                       enum payments_order_action action, int64_t now_ms, struct arena *a,
                       enum commerce_order_status *out, struct err *e)
{
    bool own;
    int rc = db_begin_own(c, &own, e);
    if (rc)
        return rc;
    struct commerce_order o;
    rc = commerce_store_order_get(c, tenant, order_id, a, &o, e);
    if (rc == ERR_NOT_FOUND)
        rc = err_replace(e, ERR_NOT_FOUND, "id", "no order %s", order_id);
    if (!rc)
        rc = payments_order_next(o.status, action, out, e);
    if (!rc)
        rc = commerce_store_order_set_status(c, tenant, o.pk, o.status, *out, "api", 0, now_ms, e);
    return db_end_own(c, own, rc, e);
}

int payments_iyzico_callback(struct db_conn *c, int64_t tenant, const char *payment_id,
                             int64_t now_ms, struct arena *a, struct err *e)
{
    struct payment p;
    int rc = payments_store_get(c, tenant, payment_id, a, &p, e);
    if (!rc && p.provider != PAYMENT_IYZICO)
        rc = err_set_field(e, ERR_NOT_FOUND, "id", "no iyzico payment %s", payment_id);
    if (!rc)
        rc = payments_jobs_enqueue_check(c, tenant, p.pk, "callback", now_ms, e);
    return rc;
}

int payments_order_history_json(struct db_conn *c, int64_t tenant, const char *order_id,
                                struct arena *a, json_t **out, struct err *e)
{
    struct commerce_order o;
    int rc = commerce_store_order_get(c, tenant, order_id, a, &o, e);
    if (rc == ERR_NOT_FOUND)
        return err_replace(e, ERR_NOT_FOUND, "id", "no order %s", order_id);
    struct commerce_status_change *rows = NULL;
    size_t n = 0;
    if (!rc)
        rc = commerce_store_order_history(c, tenant, o.pk, a, &rows, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char t[CLOCK_ISO_LEN];
        clock_format_iso(rows[i].at, t);
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:s, s:o, s:s}", "from", rows[i].from_status,
                                        "to", rows[i].to_status, "cause", rows[i].cause,
                                        "payment_id", opt_str(rows[i].payment_id), "at", t));
    }
    *out = json_pack("{s:o}", "data", arr);
    return 0;
}

static const char *dump(json_t *o, struct arena *a)
{
    char *s = json_dumps(o, JSON_COMPACT);
    const char *copy = arena_strdup(a, s ? s : "{}");
    free(s);
    json_decref(o);
    return copy;
}

/* ---- the state machine applied ---- */

int payments_apply(struct db_conn *c, int64_t tenant, int64_t pk, const struct payment_event *ev,
                   const char *cause, const char *detail, int64_t now_ms, struct arena *a,
                   struct err *e)
{
    struct payment p;
    int rc = payments_store_get_pk(c, tenant, pk, a, &p, e);
    if (rc)
        return rc;
    struct payment_step step;
    payment_apply(&p.state, ev, &step);
    if (!step.changed)
        return 0;
    rc = payments_store_transition(c, tenant, pk, &p.state, &step.next, cause, detail, now_ms, e);
    if (rc)
        return rc;
    log_info("msg=\"payment status\" tenant=%lld payment=%s from=%s to=%s refunded=%lld cause=%s",
             (long long)tenant, p.id, payment_status_name(p.state.status),
             payment_status_name(step.next.status), (long long)step.next.refunded, cause);
    if (!step.order_change)
        return 0;
    enum commerce_order_status cur;
    rc = commerce_store_order_status(c, tenant, p.order_pk, &cur, e);
    if (rc)
        return rc;
    if (step.became_paid && cur != COMMERCE_ORDER_PENDING && cur != COMMERCE_ORDER_CANCELLED) {
        /* the order was paid by another payment: this one took the money a second time */
        char msg[200];
        snprintf(msg, sizeof(msg), "order %s is %s and payment %s took its money again; refund it",
                 p.order_id, commerce_order_status_names[cur], p.id);
        struct alert_spec spec = {
            .kind = "payments.paid_twice", .source = cause, .code = p.id, .message = msg};
        return alerts_raise(c, tenant, &spec, now_ms, NULL, e);
    }
    if (step.became_paid && cur == COMMERCE_ORDER_CANCELLED) {
        char msg[200];
        snprintf(msg, sizeof(msg), "order %s was cancelled, then payment %s took its money",
                 p.order_id, p.id);
        struct alert_spec spec = {
            .kind = "payments.paid_after_cancel", .source = cause, .code = p.id, .message = msg};
        rc = alerts_raise(c, tenant, &spec, now_ms, NULL, e);
        if (rc)
            return rc;
    }
    if (step.became_paid) {
        /* pending (or cancelled meanwhile: the money was taken all the same) → paid */
        rc = commerce_store_order_set_status(c, tenant, p.order_pk, cur, COMMERCE_ORDER_PAID, cause,
                                             pk, now_ms, e);
        if (!rc)
            rc = order_hooks_run_paid(c, tenant, p.order_pk, e);
        if (!rc)
            rc = payments_jobs_enqueue_paid_notice(c, tenant, pk, now_ms, e);
        if (rc)
            return rc;
        cur = COMMERCE_ORDER_PAID;
        log_info("msg=\"order paid\" tenant=%lld order=%s payment=%s cause=%s", (long long)tenant,
                 p.order_id, p.id, cause);
    }
    if (step.order_status != cur && step.order_status != COMMERCE_ORDER_PAID &&
        cur != COMMERCE_ORDER_REFUNDED &&
        !(cur == COMMERCE_ORDER_PARTIALLY_REFUNDED &&
          step.order_status == COMMERCE_ORDER_PARTIALLY_REFUNDED))
        rc = commerce_store_order_set_status(c, tenant, p.order_pk, cur, step.order_status, cause,
                                             pk, now_ms, e);
    return rc;
}

int payments_check_amount(struct db_conn *c, const struct payment *p, int64_t amount,
                          const char *currency, const char *source, int64_t now_ms, bool *ok,
                          struct err *e)
{
    *ok = payments_amount_matches(p->state.amount, p->currency, amount, currency);
    if (*ok)
        return 0;
    char msg[256];
    snprintf(msg, sizeof(msg),
             "payment %s of order %s: the provider reports %lld %s, the order is %lld %s; "
             "nothing was changed",
             p->id, p->order_id, (long long)amount, currency ? currency : "?",
             (long long)p->state.amount, p->currency ? p->currency->code : "?");
    log_warn("msg=\"payment amount mismatch\" tenant=%lld payment=%s source=%s",
             (long long)p->tenant_id, p->id, source);
    struct alert_spec spec = {
        .kind = "payments.amount_mismatch", .source = source, .code = p->id, .message = msg};
    return alerts_raise(c, p->tenant_id, &spec, now_ms, NULL, e);
}

/* ---- starting a payment ---- */

static int idem_check(const struct payments_request *req, struct err *e)
{
    if (!req->idem_key || !*req->idem_key)
        return err_set_field(e, ERR_INVALID, "Idempotency-Key",
                             "the Idempotency-Key header is required");
    if (strlen(req->idem_key) > PAYMENTS_IDEM_KEY_MAX)
        return err_set_field(e, ERR_INVALID, "Idempotency-Key",
                             "Idempotency-Key is longer than %d bytes", PAYMENTS_IDEM_KEY_MAX);
    return 0;
}

/* The first transaction: the key, the order, the payment row. *answered when a replay. */
static int start_record(struct db_conn *c, int64_t tenant, const char *order_id,
                        enum payment_provider provider, const struct payments_request *req,
                        int64_t now_ms, struct arena *a, struct payment *p,
                        struct payments_answer *out, bool *answered, struct err *e)
{
    struct payments_idem idem;
    int rc = db_begin(c, e);
    if (rc)
        return rc;
    rc =
        payments_store_idem_begin(c, tenant, req->idem_key, req->request_hash, now_ms, a, &idem, e);
    if (!rc && idem.state == PAYMENTS_IDEM_MISMATCH)
        rc = err_set_field(e, ERR_CONFLICT, "Idempotency-Key",
                           "this Idempotency-Key was used for another request");
    if (!rc && idem.state == PAYMENTS_IDEM_REPLAY) {
        out->status = idem.status;
        out->body = idem.body ? idem.body : "{}";
        out->replayed = true;
        *answered = true;
    } else if (!rc && idem.state == PAYMENTS_IDEM_RESUME && idem.resource_pk > 0) {
        rc = payments_store_get_pk(c, tenant, idem.resource_pk, a, p, e);
    } else if (!rc) {
        struct commerce_order o;
        rc = commerce_store_order_get(c, tenant, order_id, a, &o, e);
        if (rc == ERR_NOT_FOUND)
            rc = err_replace(e, ERR_NOT_FOUND, "id", "no order %s", order_id);
        if (!rc)
            rc = payments_order_payable(o.status, e);
        if (!rc && o.total_amount <= 0)
            rc = err_set_field(e, ERR_CONFLICT, "total_amount", "the order has nothing to pay");
        struct money amount = {o.total_amount, o.currency};
        if (!rc)
            rc = payments_store_create(c, tenant, o.pk, provider, &amount, now_ms, a, p, e);
        if (!rc)
            rc = payments_store_idem_resource(c, tenant, req->idem_key, p->pk, e);
    }
    if (rc) {
        db_rollback(c);
        return rc;
    }
    return db_commit(c, e);
}

/* The Checkout Form of an order: one basket line for the order's total, the customer as buyer. */
static int iyzico_open(struct db_conn *c, const struct iyzico_config *cfg, const struct payment *p,
                       struct arena *a, struct iyzico_checkout *out, struct iyzico_failure *f,
                       struct err *e)
{
    struct commerce_order o;
    int rc = commerce_store_order_get(c, p->tenant_id, p->order_id, a, &o, e);
    if (rc)
        return rc;
    struct commerce_customer cu;
    rc = commerce_store_customer_get(c, p->tenant_id, o.customer_id, a, &cu, e);
    if (rc)
        return rc;
    char callback[512];
    snprintf(callback, sizeof(callback), "%s/api/public/iyzico/callback/%lld/%s", public_url,
             (long long)p->tenant_id, p->id);
    struct iyzico_buyer buyer = {
        .id = cu.id,
        .name = "Customer",
        .surname = cu.id,
        .email = cu.email && *cu.email ? cu.email : "customer@example.invalid",
        .phone = cu.phone,
    };
    struct money price = {p->state.amount, p->currency};
    struct iyzico_item item = {.id = o.id, .name = o.id, .category = "Order", .price = price};
    struct iyzico_checkout_request req = {.conversation_id = p->id,
                                          .basket_id = o.id,
                                          .price = price,
                                          .paid_price = price,
                                          .callback_url = callback,
                                          .buyer = &buyer,
                                          .items = &item,
                                          .n_items = 1};
    return iyzico_checkout_init(cfg, &req, out, f, e);
}

int payments_start(struct db *db, int64_t tenant, const char *order_id, const char *provider_name,
                   const struct payments_request *req, int64_t now_ms, struct arena *a,
                   struct payments_answer *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    enum payment_provider provider;
    int rc = idem_check(req, e);
    if (!rc)
        rc = payment_provider_parse(provider_name, "provider", &provider, e);
    if (rc)
        return rc;
    struct db_conn *c;
    rc = db_conn_acquire(db, &c, e);
    if (rc)
        return rc;
    struct payment p;
    bool answered = false;
    rc = start_record(c, tenant, order_id, provider, req, now_ms, a, &p, out, &answered, e);
    if (rc || answered)
        goto out;
    /* the provider, outside any transaction; our idempotency key per attempt is the payment's */
    char key[PAYMENTS_ID_MAX + 16];
    snprintf(key, sizeof(key), "iceshop-%s", p.id);
    const char *ref = NULL, *secret = NULL, *page = NULL;
    if (p.provider == PAYMENT_STRIPE) {
        struct stripe_config cfg;
        struct stripe_intent in;
        struct stripe_failure f;
        struct money amount = {p.state.amount, p.currency};
        rc = stripe_settings(c, tenant, a, &cfg, e);
        if (!rc)
            rc = stripe_intent_create(&cfg, &amount, p.order_id, key, &in, &f, e);
        if (!rc && !payments_amount_matches(p.state.amount, p.currency, in.amount, in.currency))
            rc = err_set(e, ERR_UPSTREAM, "stripe answered another amount");
        if (!rc) {
            ref = arena_strdup(a, in.id);
            secret = arena_strdup(a, in.client_secret);
        }
    } else {
        struct iyzico_config cfg;
        struct iyzico_checkout co;
        struct iyzico_failure f;
        rc = iyzico_settings(c, tenant, a, &cfg, e);
        if (!rc)
            rc = iyzico_open(c, &cfg, &p, a, &co, &f, e);
        if (!rc) {
            ref = arena_strdup(a, co.token);
            page = arena_strdup(a, co.page_url);
        }
    }
    if (rc) {
        log_warn("msg=\"payment not opened\" tenant=%lld payment=%s provider=%s error=\"%s\"",
                 (long long)tenant, p.id, payment_provider_name(p.provider), e->msg);
        (void)payments_store_set_error(c, tenant, p.pk, e->msg, now_ms, &(struct err){0});
        goto out;
    }
    rc = db_begin(c, e);
    if (rc)
        goto out;
    rc = payments_store_set_opened(c, tenant, p.pk, ref, secret, page, now_ms, e);
    if (!rc)
        rc = payments_apply(c, tenant, p.pk, &(struct payment_event){PAYMENT_EV_OPENED, 0}, "api",
                            ref, now_ms, a, e);
    if (!rc)
        rc = payments_store_get_pk(c, tenant, p.pk, a, &p, e);
    if (!rc) {
        out->status = 201;
        out->body = dump(payments_json(NULL, &p, false, a), a);
        rc = payments_store_idem_finish(c, tenant, req->idem_key, out->status, out->body, e);
    }
    if (rc)
        db_rollback(c);
    else
        rc = db_commit(c, e);
out:
    db_conn_release(c);
    return rc;
}

/* ---- hosted payment pages ---- */

/* Whether the tenant has set up `provider`: 0 with *ok, or an error other than "not set up". */
static int configured(struct db_conn *c, int64_t tenant, enum payment_provider provider,
                      struct arena *a, bool *ok, struct err *e)
{
    struct err why = {0};
    int rc;
    if (provider == PAYMENT_IYZICO) {
        struct iyzico_config cfg;
        rc = iyzico_settings(c, tenant, a, &cfg, &why);
    } else {
        struct stripe_config cfg;
        rc = stripe_settings(c, tenant, a, &cfg, &why);
    }
    *ok = rc == 0;
    if (rc == ERR_CONFLICT && str_eq(why.field, "provider"))
        return 0;
    if (rc)
        *e = why;
    return rc;
}

int payments_hosted_provider(struct db_conn *c, int64_t tenant, const char *currency,
                             struct arena *a, enum payment_provider *out, struct err *e)
{
    bool iyzico = false, stripe = false;
    int rc = configured(c, tenant, PAYMENT_IYZICO, a, &iyzico, e);
    if (!rc)
        rc = configured(c, tenant, PAYMENT_STRIPE, a, &stripe, e);
    if (rc)
        return rc;
    /* Stripe's hosted page is not built yet: only iyzico's Checkout Form takes such payments */
    (void)currency;
    if (iyzico) {
        *out = PAYMENT_IYZICO;
        return 0;
    }
    if (stripe)
        return err_set_field(e, ERR_CONFLICT, "provider",
                             "only iyzico's Checkout Form takes hosted payments, and this tenant "
                             "has set up stripe alone");
    return err_set_field(e, ERR_CONFLICT, "provider",
                         "no payment provider is set up for this tenant (stripe, iyzico)");
}

int payments_start_hosted(struct db *db, int64_t tenant, const char *order_id, const char *idem_key,
                          int64_t now_ms, struct arena *a, const char **url, struct err *e)
{
    *url = NULL;
    struct db_conn *c;
    int rc = db_conn_acquire(db, &c, e);
    if (rc)
        return rc;
    struct commerce_order o;
    enum payment_provider provider = PAYMENT_IYZICO;
    rc = commerce_store_order_get(c, tenant, order_id, a, &o, e);
    if (rc == ERR_NOT_FOUND)
        rc = err_replace(e, ERR_NOT_FOUND, "id", "no order %s", order_id);
    if (!rc)
        rc = payments_hosted_provider(c, tenant, o.currency ? o.currency->code : "", a, &provider,
                                      e);
    db_conn_release(c);
    if (rc)
        return rc;
    const char *name = payment_provider_name(provider);
    char path[PAYMENTS_ID_MAX + 64], hash[65];
    snprintf(path, sizeof(path), "hosted/%s", order_id);
    payments_request_hash("POST", path, name, strlen(name), hash);
    struct payments_request req = {.idem_key = idem_key, .request_hash = hash};
    struct payments_answer ans;
    rc = payments_start(db, tenant, order_id, name, &req, now_ms, a, &ans, e);
    if (rc)
        return rc;
    json_t *root = json_loads(ans.body ? ans.body : "", 0, NULL);
    const char *page = json_string_value(json_object_get(root, "page_url"));
    if (page && *page)
        *url = arena_strdup(a, page);
    json_decref(root);
    if (!*url)
        return err_set(e, ERR_UPSTREAM, "%s gave no payment page for order %s", name, order_id);
    return 0;
}

/* ---- refunds ---- */

int payments_refund(struct db *db, int64_t tenant, const char *payment_id, const char *amount_text,
                    const struct payments_request *req, int64_t now_ms, struct arena *a,
                    struct payments_answer *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    int rc = idem_check(req, e);
    if (rc)
        return rc;
    struct db_conn *c;
    rc = db_conn_acquire(db, &c, e);
    if (rc)
        return rc;
    struct payment p;
    struct payment_refund rf;
    struct payments_idem idem;
    memset(&rf, 0, sizeof(rf));
    memset(&idem, 0, sizeof(idem));
    rc = db_begin(c, e);
    if (rc)
        goto out;
    rc = payments_store_get(c, tenant, payment_id, a, &p, e);
    if (!rc)
        rc = payments_store_lock(c, tenant, p.pk, e); /* refunds of one payment, one at a time */
    if (!rc)
        rc = payments_store_get_pk(c, tenant, p.pk, a, &p, e); /* as of the lock */
    if (!rc)
        rc = payments_store_idem_begin(c, tenant, req->idem_key, req->request_hash, now_ms, a,
                                       &idem, e);
    if (!rc && idem.state == PAYMENTS_IDEM_MISMATCH)
        rc = err_set_field(e, ERR_CONFLICT, "Idempotency-Key",
                           "this Idempotency-Key was used for another request");
    if (!rc && idem.state == PAYMENTS_IDEM_REPLAY) {
        out->status = idem.status;
        out->body = idem.body ? idem.body : "{}";
        out->replayed = true;
        db_rollback(c);
        goto out;
    }
    if (!rc && idem.state == PAYMENTS_IDEM_RESUME && idem.resource_pk > 0) {
        bool found = false;
        struct payment_refund *rows = NULL;
        size_t n = 0;
        rc = payments_store_refund_list(c, tenant, p.pk, a, &rows, &n, e);
        for (size_t i = 0; !rc && i < n; i++) {
            if (rows[i].pk == idem.resource_pk) {
                rf = rows[i];
                found = true;
            }
        }
        if (!rc && !found)
            rc = err_set(e, ERR_INTERNAL, "refund %lld of this key is gone",
                         (long long)idem.resource_pk);
        /* iyzico takes no idempotency key: a refund sent once is never sent again blindly */
        if (!rc && p.provider == PAYMENT_IYZICO)
            rc = err_set_field(e, ERR_CONFLICT, "Idempotency-Key",
                               "refund %s was sent to iyzico and its answer was lost; check it "
                               "in iyzico's panel",
                               rf.id);
    } else if (!rc) {
        if (p.provider == PAYMENT_IYZICO && !p.provider_txn_id)
            rc = err_set_field(e, ERR_CONFLICT, "provider",
                               "iyzico has not told which transaction to refund yet");
        int64_t reserved = 0;
        if (!rc)
            rc = payments_store_refund_reserved(c, tenant, p.pk, &reserved, e);
        struct payment_state st = p.state;
        if (reserved > st.refunded)
            st.refunded = reserved;
        struct money req_amount = {0, NULL}, amount = {0, NULL};
        bool have = amount_text != NULL;
        if (!rc && have)
            rc = money_parse(amount_text, p.currency->code, 0, &req_amount, e);
        if (!rc && st.refunded >= st.amount && p.state.status == PAYMENT_PARTIALLY_REFUNDED)
            rc = err_set_field(e, ERR_CONFLICT, "amount",
                               "refunds already asked for cover the whole payment");
        if (!rc)
            rc = payments_refund_amount(&st, p.currency, have ? &req_amount : NULL, &amount, e);
        if (!rc)
            rc = payments_store_refund_create(c, tenant, p.pk, amount.minor, now_ms, a, &rf, e);
        if (!rc)
            rc = payments_store_idem_resource(c, tenant, req->idem_key, rf.pk, e);
    }
    if (rc) {
        db_rollback(c);
        goto out;
    }
    rc = db_commit(c, e);
    if (rc)
        goto out;

    struct money amount = {rf.amount, p.currency};
    const char *refund_ref = NULL;
    bool asked = false, refused = false;
    if (p.provider == PAYMENT_STRIPE) {
        struct stripe_config cfg;
        struct stripe_refund sr;
        struct stripe_failure f;
        memset(&f, 0, sizeof(f));
        char key[PAYMENTS_ID_MAX + 16];
        snprintf(key, sizeof(key), "iceshop-%s", rf.id);
        rc = stripe_settings(c, tenant, a, &cfg, e);
        asked = !rc;
        if (!rc)
            rc = stripe_refund_create(&cfg, p.provider_ref, &amount, key, &sr, &f, e);
        refused = !f.retryable && f.status >= 400 && f.status < 500;
        if (!rc)
            refund_ref = arena_strdup(a, sr.id);
    } else {
        struct iyzico_config cfg;
        struct iyzico_refund ir;
        struct iyzico_failure f;
        memset(&f, 0, sizeof(f));
        rc = iyzico_settings(c, tenant, a, &cfg, e);
        asked = !rc;
        if (!rc)
            rc = iyzico_refund_create(&cfg, rf.id, p.provider_txn_id, &amount, &ir, &f, e);
        /* iyzico refused (its error code, not a lost answer): nothing was refunded */
        refused = f.code[0] && !f.retryable && strcmp(f.code, "amount") != 0;
        if (!rc)
            refund_ref = arena_strdup(a, ir.payment_transaction_id);
    }
    if (rc && (!asked || refused)) {
        /* refused for good: the refund failed, what it held is free again */
        struct err keep = *e;
        (void)payments_store_refund_finish(c, tenant, rf.pk, "failed", NULL, keep.msg, now_ms,
                                           &(struct err){0});
        *e = keep;
    }
    if (rc)
        goto out;
    rc = db_begin(c, e);
    if (rc)
        goto out;
    rc = payments_store_refund_finish(c, tenant, rf.pk, "succeeded", refund_ref, NULL, now_ms, e);
    struct payment cur;
    if (!rc)
        rc = payments_store_get_pk(c, tenant, p.pk, a, &cur, e);
    int64_t done = 0;
    if (!rc) {
        /* what the provider has refunded in total: ours that succeeded */
        struct payment_refund *rows = NULL;
        size_t n = 0;
        rc = payments_store_refund_list(c, tenant, p.pk, a, &rows, &n, e);
        for (size_t i = 0; !rc && i < n; i++) {
            if (str_eq(rows[i].status, "succeeded"))
                done += rows[i].amount;
        }
    }
    if (!rc)
        rc = payments_apply(c, tenant, p.pk, &(struct payment_event){PAYMENT_EV_REFUNDED, done},
                            "refund", rf.id, now_ms, a, e);
    if (!rc) {
        json_t *o = json_pack("{s:s, s:s, s:o, s:s, s:s}", "id", rf.id, "payment_id", p.id,
                              "amount", money_json(rf.amount, p.currency), "status", "succeeded",
                              "provider_ref", refund_ref ? refund_ref : "");
        out->status = 201;
        out->body = dump(o, a);
        rc = payments_store_idem_finish(c, tenant, req->idem_key, out->status, out->body, e);
    }
    if (rc)
        db_rollback(c);
    else
        rc = db_commit(c, e);
out:
    db_conn_release(c);
    return rc;
}

/* ---- asking the provider ---- */

int payments_check(struct db *db, int64_t tenant, int64_t pk, const char *cause, int64_t now_ms,
                   struct arena *a, struct err *e)
{
    struct db_conn *c;
    int rc = db_conn_acquire(db, &c, e);
    if (rc)
        return rc;
    struct payment p;
    rc = payments_store_get_pk(c, tenant, pk, a, &p, e);
    if (rc || !p.provider_ref)
        goto out;
    struct payment_event ev = {PAYMENT_EV_OPENED, 0};
    int64_t seen_amount = 0;
    char seen_currency[8] = "";
    const char *detail = NULL, *iyzico_payment_id = NULL, *iyzico_txn_id = NULL;
    if (p.provider == PAYMENT_STRIPE) {
        struct stripe_config cfg;
        struct stripe_intent in;
        struct stripe_failure f;
        rc = stripe_settings(c, tenant, a, &cfg, e);
        if (!rc)
            rc = stripe_intent_get(&cfg, p.provider_ref, &in, &f, e);
        if (rc)
            goto out;
        seen_amount = in.amount;
        snprintf(seen_currency, sizeof(seen_currency), "%s", in.currency);
        if (str_eq(in.status, "succeeded"))
            ev.kind = PAYMENT_EV_SUCCEEDED;
        else if (str_eq(in.status, "canceled"))
            ev.kind = PAYMENT_EV_CANCELED;
        detail = arena_printf(a, "%s %s", p.provider_ref, in.status);
    } else {
        struct iyzico_config cfg;
        struct iyzico_payment ip;
        struct iyzico_failure f;
        rc = iyzico_settings(c, tenant, a, &cfg, e);
        if (!rc)
            rc = iyzico_checkout_retrieve(&cfg, p.id, p.provider_ref, &ip, &f, e);
        if (rc)
            goto out;
        seen_amount = ip.paid_price.minor;
        snprintf(seen_currency, sizeof(seen_currency), "%s",
                 ip.paid_price.currency ? ip.paid_price.currency->code : "");
        if (str_eq(ip.payment_status, "SUCCESS"))
            ev.kind = PAYMENT_EV_SUCCEEDED;
        else if (str_eq(ip.payment_status, "FAILURE"))
            ev.kind = PAYMENT_EV_FAILED;
        if (ip.payment_id[0])
            iyzico_payment_id = arena_strdup(a, ip.payment_id);
        if (ip.payment_transaction_id[0])
            iyzico_txn_id = arena_strdup(a, ip.payment_transaction_id);
        detail = arena_printf(a, "%s %s", p.provider_ref, ip.payment_status);
    }
    rc = db_begin(c, e);
    if (rc)
        goto out;
    bool ok = true;
    if (ev.kind != PAYMENT_EV_OPENED)
        rc = payments_check_amount(c, &p, seen_amount, seen_currency, cause, now_ms, &ok, e);
    if (!rc && ok && iyzico_payment_id)
        rc = payments_store_set_provider_payment_id(c, tenant, pk, iyzico_payment_id, iyzico_txn_id,
                                                    e);
    if (!rc && ok)
        rc = payments_apply(c, tenant, pk, &ev, cause, detail, now_ms, a, e);
    if (!rc && ok && ev.kind == PAYMENT_EV_OPENED)
        rc = payments_store_set_error(c, tenant, pk, NULL, now_ms, e); /* touched: asked now */
    if (rc)
        db_rollback(c);
    else
        rc = db_commit(c, e);
out:
    db_conn_release(c);
    return rc;
}
