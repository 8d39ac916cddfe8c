/* SPDX-License-Identifier: MIT */
/*
 * Cart recovery's rules: agent and integration checks, when a cart is abandoned, the cooldown
 * and consent, the WhatsApp sequence, recovered revenue, the connection test's stages and the
 * payload an agent receives. Pure: no I/O, no clock reads. Tests:
 * tests/unit/domain/test_recovery.c.
 */
#include "domain/recovery/recovery.h"
#include "core/clock.h"
#include "core/money.h"
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const recovery_platform_names[] = {"shopify", "woocommerce", "custom", NULL};

static bool http_url(const char *u)
{
    if (!u)
        return false;
    size_t skip = strncmp(u, "https://", 8) == 0 ? 8 : strncmp(u, "http://", 7) == 0 ? 7 : 0;
    return skip && u[skip] && u[skip] != '/' && strlen(u) <= RECOVERY_URL_MAX &&
           !strpbrk(u, " \r\n\t");
}

static bool loopback(const char *u)
{
    return strncmp(u, "http://127.0.0.1", 16) == 0 || strncmp(u, "http://localhost", 16) == 0 ||
           strncmp(u, "http://[::1]", 12) == 0;
}

static int text_check(const char *s, const char *field, size_t max, struct err *e)
{
    if (!s || !s[0])
        return err_set_field(e, ERR_INVALID, field, "%s is required", field);
    if (strlen(s) > max)
        return err_set_field(e, ERR_INVALID, field, "%s is longer than %zu bytes", field, max);
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p < 0x20)
            return err_set_field(e, ERR_INVALID, field, "%s has a control character", field);
    }
    return 0;
}

int recovery_agent_check(const struct recovery_agent *ag, struct err *e)
{
    int rc = text_check(ag->name, "name", RECOVERY_NAME_MAX, e);
    if (!rc)
        rc = text_check(ag->company, "company", RECOVERY_NAME_MAX, e);
    if (!rc)
        rc = text_check(ag->template_slug, "template_slug", 64, e);
    if (rc)
        return rc;
    if (!http_url(ag->recovery_url))
        return err_set_field(e, ERR_INVALID, "settings.recovery_url",
                             "settings.recovery_url must be an http:// or https:// URL");
    if (ag->cutoff_minutes < 1 || ag->cutoff_minutes > RECOVERY_CUTOFF_MAX_MIN)
        return err_set_field(e, ERR_INVALID, "settings.cutoff_minutes",
                             "settings.cutoff_minutes must be 1..%d", RECOVERY_CUTOFF_MAX_MIN);
    if (ag->cooldown_days < 0 || ag->cooldown_days > RECOVERY_COOLDOWN_MAX_D)
        return err_set_field(e, ERR_INVALID, "settings.cooldown_days",
                             "settings.cooldown_days must be 0..%d", RECOVERY_COOLDOWN_MAX_D);
    if (ag->n_sequence > RECOVERY_SEQUENCE_MAX)
        return err_set_field(e, ERR_INVALID, "settings.sequence",
                             "settings.sequence has more than %d steps", RECOVERY_SEQUENCE_MAX);
    for (size_t i = 0; i < ag->n_sequence; i++) {
        int prev = i ? ag->sequence[i - 1] : -1;
        if (ag->sequence[i] < 0 || ag->sequence[i] > RECOVERY_STEP_MAX_MIN ||
            ag->sequence[i] <= prev) {
            char field[40];
            snprintf(field, sizeof(field), "settings.sequence[%zu]", i);
            return err_set_field(e, ERR_INVALID, field,
                                 "%s must be 0..%d minutes and after the step before", field,
                                 RECOVERY_STEP_MAX_MIN);
        }
    }
    return 0;
}

int recovery_platform_parse(const char *text, enum recovery_platform *out, struct err *e)
{
    for (int i = 0; text && recovery_platform_names[i]; i++) {
        if (strcmp(text, recovery_platform_names[i]) == 0) {
            *out = (enum recovery_platform)i;
            return 0;
        }
    }
    return err_set_field(e, ERR_INVALID, "platform",
                         "platform must be one of: shopify, woocommerce, custom");
}

static bool host_like(const char *s)
{
    if (!s || !s[0] || strlen(s) > 255 || !strchr(s, '.'))
        return false;
    for (const char *p = s; *p; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'))
            return false;
    }
    return true;
}

static int secret_check(const char *s, const char *field, bool required, struct err *e)
{
    if (!s)
        return required ? err_set_field(e, ERR_INVALID, field, "%s is required", field) : 0;
    return text_check(s, field, 255, e);
}

int recovery_integration_check(enum recovery_platform p, const struct recovery_integration_in *in,
                               bool creating, struct err *e)
{
    if (in->base_url && !http_url(in->base_url))
        return err_set_field(e, ERR_INVALID, "base_url",
                             "base_url must be an http:// or https:// URL");
    int rc = 0;
    switch (p) {
    case RECOVERY_SHOPIFY:
        if ((creating || in->shop_domain) && !host_like(in->shop_domain))
            return err_set_field(e, ERR_INVALID, "shop_domain",
                                 "shop_domain must be the shop's host, e.g. acme.myshopify.com");
        rc = secret_check(in->access_token, "access_token", creating, e);
        break;
    case RECOVERY_WOOCOMMERCE:
        if ((creating || in->site_url) &&
            (!http_url(in->site_url) ||
             (strncmp(in->site_url, "https://", 8) != 0 && !loopback(in->site_url))))
            return err_set_field(e, ERR_INVALID, "site_url",
                                 "site_url must be the shop's https:// address");
        rc = secret_check(in->consumer_key, "consumer_key", creating, e);
        if (!rc)
            rc = secret_check(in->consumer_secret, "consumer_secret", creating, e);
        break;
    case RECOVERY_CUSTOM:
        if ((creating || in->feed_url) && !http_url(in->feed_url))
            return err_set_field(e, ERR_INVALID, "feed_url",
                                 "feed_url must be an http:// or https:// URL");
        rc = secret_check(in->access_token, "access_token", false, e);
        break;
    }
    return rc;
}

enum recovery_verdict recovery_cart_decide(const struct recovery_cart_facts *f, int cutoff_minutes,
                                           int cooldown_days, int64_t now_ms)
{
    if (f->completed_ms || f->ordered_since)
        return RECOVERY_COMPLETED;
    if (now_ms - f->updated_ms < (int64_t)cutoff_minutes * 60000)
        return RECOVERY_WAIT;
    if (!f->marketing_consent)
        return RECOVERY_NO_CONSENT;
    if (f->last_recovered_ms &&
        now_ms - f->last_recovered_ms < (int64_t)cooldown_days * 24 * 3600 * 1000)
        return RECOVERY_COOLDOWN;
    return RECOVERY_SEND;
}

bool recovery_message_due(const int *sequence, size_t n, int sent, int64_t abandoned_ms,
                          int64_t now_ms)
{
    if (sent < 0 || (size_t)sent >= n)
        return false;
    return now_ms >= abandoned_ms + (int64_t)sequence[sent] * 60000;
}

bool recovery_is_recovered(int64_t sent_ms, int64_t completed_ms)
{
    return sent_ms > 0 && completed_ms >= sent_ms &&
           completed_ms - sent_ms <= RECOVERY_ATTRIBUTION_MS;
}

static bool has(const char *s, const char *needle)
{
    return s && strstr(s, needle);
}

const char *recovery_probe_stage(long status, const char *code, const char *error)
{
    if (status == 0) {
        if (has(error, "timed out"))
            return "timeout";
        if (has(error, "resolve"))
            return "dns";
        if (has(error, "SSL") || has(error, "TLS") || has(error, "certificate"))
            return "tls";
        return "connect";
    }
    if (status == 401)
        return "unauthorized";
    if (status == 403)
        return "forbidden";
    if (status == 404)
        return "wrong_shop";
    if (status == 429 || (code && strcmp(code, "THROTTLED") == 0))
        return "throttled";
    if (status >= 500)
        return "server_error";
    if (code && strcmp(code, "ACCESS_DENIED") == 0)
        return "missing_scope";
    if (status == 200)
        return "bad_response";
    return "http";
}

static json_t *amount(int64_t minor, const char *currency)
{
    struct money m;
    char text[MONEY_TEXT_MAX];
    struct err e;
    err_init(&e);
    if (money_from_minor(minor, currency, &m, &e) || money_format(&m, text, sizeof(text), &e))
        return NULL;
    return json_string(text);
}

static json_t *str_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

char *recovery_payload(const struct recovery_agent *ag, const char *platform,
                       int64_t integration_id, int64_t cycle_id,
                       const struct recovery_payload_cart *carts, size_t n, struct arena *a)
{
    json_t *list = json_array();
    json_t *totals = json_object();
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        const struct recovery_payload_cart *c = &carts[i];
        json_t *items = json_array();
        for (size_t k = 0; ok && k < c->n_lines; k++) {
            json_t *price = amount(c->lines[k].unit_price, c->currency);
            ok = price != NULL;
            if (ok)
                json_array_append_new(items, json_pack("{s:o, s:o, s:I, s:o}", "title",
                                                       str_or_null(c->lines[k].title), "sku",
                                                       str_or_null(c->lines[k].sku), "quantity",
                                                       (json_int_t)c->lines[k].quantity,
                                                       "unit_price", price));
        }
        json_t *total = ok ? amount(c->total, c->currency) : NULL;
        ok = ok && total;
        if (!ok) {
            json_decref(items);
            break;
        }
        char at[CLOCK_ISO_LEN];
        clock_format_iso(c->abandoned_ms, at);
        json_array_append_new(list, json_pack("{s:s, s:s, s:{s:o, s:o}, s:o, s:s, s:o, s:s, s:o}",
                                              "cart_id", c->cart_id, "platform_id", c->platform_id,
                                              "customer", "email", str_or_null(c->email), "phone",
                                              str_or_null(c->phone), "items", items, "currency",
                                              c->currency, "total_value", total, "abandoned_at", at,
                                              "checkout_url", str_or_null(c->checkout_url)));
        json_int_t sum = json_integer_value(json_object_get(totals, c->currency));
        json_object_set_new(totals, c->currency, json_integer(sum + c->total));
    }
    /* total_value: decimal text per currency; most shops have one, so it is also given alone */
    json_t *currency_totals = json_object();
    json_t *single = json_null();
    const char *cur;
    json_t *v;
    json_object_foreach(totals, cur, v)
    {
        json_t *t = ok ? amount(json_integer_value(v), cur) : NULL;
        ok = ok && t;
        if (!ok)
            break;
        if (json_object_size(totals) == 1)
            single = json_copy(t);
        json_object_set_new(currency_totals, cur, t);
    }
    json_decref(totals);
    if (!ok) {
        json_decref(list);
        json_decref(currency_totals);
        json_decref(single);
        return NULL;
    }
    json_t *root =
        json_pack("{s:{s:I, s:s, s:s}, s:o, s:{s:I, s:o, s:o, s:s, s:I, s:I}}", "agent_info", "id",
                  (json_int_t)ag->id, "name", ag->name, "company", ag->company, "abandoned_carts",
                  list, "recovery_analytics", "total_carts", (json_int_t)n, "total_value", single,
                  "currency_totals", currency_totals, "platform", platform, "integration_id",
                  (json_int_t)integration_id, "cycle_id", (json_int_t)cycle_id);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text)
        return NULL;
    char *out = arena_strdup(a, text);
    free(text);
    return out;
}
