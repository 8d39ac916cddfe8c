/* SPDX-License-Identifier: MIT */
/*
 * The payment rules (payments.h): statuses, the forward-only state machine, refund amounts and
 * the idempotency hash. Pure: no I/O, no clock. Tests: tests/unit/domain/test_payments.c.
 */
#include "domain/payments/payments.h"

#include "core/crypto.h"

#include <ctype.h>
#include <string.h>

static const char *const status_names[] = {
    "created", "pending", "failed", "canceled", "succeeded", "partially_refunded", "refunded",
};
#define N_STATUS (sizeof(status_names) / sizeof(status_names[0]))

static const int status_ranks[] = {0, 1, 2, 2, 3, 4, 5};

const char *payment_status_name(enum payment_status s)
{
    return (size_t)s < N_STATUS ? status_names[s] : "unknown";
}

int payment_status_parse(const char *name, const char *field, enum payment_status *out,
                         struct err *e)
{
    for (size_t i = 0; name && i < N_STATUS; i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *out = (enum payment_status)i;
            return 0;
        }
    }
    return err_set_field(e, ERR_INVALID, field, "%s is not a payment status", field);
}

int payment_status_rank(enum payment_status s)
{
    return (size_t)s < N_STATUS ? status_ranks[s] : -1;
}

const char *payment_provider_name(enum payment_provider p)
{
    return p == PAYMENT_IYZICO ? "iyzico" : "stripe";
}

int payment_provider_parse(const char *name, const char *field, enum payment_provider *out,
                           struct err *e)
{
    if (name && strcmp(name, "stripe") == 0) {
        *out = PAYMENT_STRIPE;
        return 0;
    }
    if (name && strcmp(name, "iyzico") == 0) {
        *out = PAYMENT_IYZICO;
        return 0;
    }
    return err_set_field(e, ERR_INVALID, field, "%s must be stripe or iyzico", field);
}

/* The order's status for a payment that reached `s` (only for succeeded and beyond). */
static enum commerce_order_status order_for(enum payment_status s)
{
    switch (s) {
    case PAYMENT_REFUNDED:
        return COMMERCE_ORDER_REFUNDED;
    case PAYMENT_PARTIALLY_REFUNDED:
        return COMMERCE_ORDER_PARTIALLY_REFUNDED;
    default:
        return COMMERCE_ORDER_PAID;
    }
}

void payment_apply(const struct payment_state *cur, const struct payment_event *ev,
                   struct payment_step *out)
{
    memset(out, 0, sizeof(*out));
    out->next = *cur;
    enum payment_status to;
    int64_t refunded = cur->refunded;
    switch (ev->kind) {
    case PAYMENT_EV_OPENED:
        to = PAYMENT_PENDING;
        break;
    case PAYMENT_EV_FAILED:
        to = PAYMENT_FAILED;
        break;
    case PAYMENT_EV_CANCELED:
        to = PAYMENT_CANCELED;
        break;
    case PAYMENT_EV_SUCCEEDED:
        to = PAYMENT_SUCCEEDED;
        break;
    case PAYMENT_EV_REFUNDED:
        refunded = ev->refunded > cur->amount ? cur->amount : ev->refunded;
        if (refunded <= cur->refunded)
            return; /* an older or repeated refund total */
        to = refunded >= cur->amount ? PAYMENT_REFUNDED : PAYMENT_PARTIALLY_REFUNDED;
        break;
    default:
        return; /* not an event this machine knows: no change */
    }
    if (payment_status_rank(to) <= payment_status_rank(cur->status)) {
        /* a partial refund growing while already partially refunded still counts */
        if (!(ev->kind == PAYMENT_EV_REFUNDED && refunded > cur->refunded))
            return;
    }
    bool was_paid = payment_status_rank(cur->status) >= payment_status_rank(PAYMENT_SUCCEEDED);
    bool is_paid = payment_status_rank(to) >= payment_status_rank(PAYMENT_SUCCEEDED);
    out->next.status = to;
    out->next.refunded = refunded;
    out->changed = true;
    out->became_paid = is_paid && !was_paid;
    if (is_paid) {
        out->order_change = true;
        out->order_status = order_for(to);
    }
}

int payments_order_payable(enum commerce_order_status order_status, struct err *e)
{
    if (order_status == COMMERCE_ORDER_PENDING)
        return 0;
    return err_set_field(e, ERR_CONFLICT, "status", "the order is %s: only a pending order is paid",
                         commerce_order_status_names[order_status]);
}

int payments_order_next(enum commerce_order_status from, enum payments_order_action action,
                        enum commerce_order_status *to, struct err *e)
{
    if (action == PAYMENTS_ORDER_FULFIL &&
        (from == COMMERCE_ORDER_PAID || from == COMMERCE_ORDER_PARTIALLY_REFUNDED)) {
        *to = COMMERCE_ORDER_FULFILLED;
        return 0;
    }
    if (action == PAYMENTS_ORDER_CANCEL && from == COMMERCE_ORDER_PENDING) {
        *to = COMMERCE_ORDER_CANCELLED;
        return 0;
    }
    return err_set_field(e, ERR_CONFLICT, "status", "the order is %s: it cannot be %s",
                         commerce_order_status_names[from],
                         action == PAYMENTS_ORDER_FULFIL ? "fulfilled" : "cancelled");
}

int payments_refund_amount(const struct payment_state *st, const struct money_currency *currency,
                           const struct money *requested, struct money *out, struct err *e)
{
    if (st->status != PAYMENT_SUCCEEDED && st->status != PAYMENT_PARTIALLY_REFUNDED)
        return err_set_field(e, ERR_CONFLICT, "status", "the payment is %s: nothing to refund",
                             payment_status_name(st->status));
    int64_t left = st->amount - st->refunded;
    if (!requested) {
        out->minor = left;
        out->currency = currency;
        return 0;
    }
    if (requested->currency != currency)
        return err_set_field(e, ERR_INVALID, "amount", "amount must be in %s", currency->code);
    if (requested->minor <= 0)
        return err_set_field(e, ERR_INVALID, "amount", "amount must be more than zero");
    if (requested->minor > left) {
        struct money l = {left, currency};
        char text[MONEY_TEXT_MAX] = "";
        (void)money_format(&l, text, sizeof(text), &(struct err){0});
        return err_set_field(e, ERR_INVALID, "amount", "amount is more than what is left (%s %s)",
                             text, currency->code);
    }
    *out = *requested;
    return 0;
}

bool payments_amount_matches(int64_t amount, const struct money_currency *currency,
                             int64_t seen_amount, const char *seen_currency)
{
    if (!currency || !seen_currency || strlen(seen_currency) != 3 || amount != seen_amount)
        return false;
    for (int i = 0; i < 3; i++) {
        if (toupper((unsigned char)seen_currency[i]) != currency->code[i])
            return false;
    }
    return true;
}

void payments_request_hash(const char *method, const char *path, const char *body, size_t len,
                           char out[65])
{
    struct sec_sha256_state st;
    unsigned char d[SEC_SHA256_LEN];
    sec_sha256_init(&st);
    sec_sha256_update(&st, method, strlen(method) + 1); /* the NULs keep the parts apart */
    sec_sha256_update(&st, path, strlen(path) + 1);
    sec_sha256_update(&st, body ? body : "", body ? len : 0);
    sec_sha256_final(&st, d);
    (void)sec_hex_encode(out, 65, d, sizeof(d), &(struct err){0});
}
