/* SPDX-License-Identifier: MIT */
/*
 * Outbound webhook rules (see webhooks.h): the retry schedule, when an endpoint is disabled,
 * what counts as success, URL and event validation, secrets and the delivery body. Pure: no
 * I/O and no clock reads (callers pass `now`). Tests: tests/unit/domain/test_webhooks.c.
 */
#include "domain/webhooks/webhooks.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/str.h"
#include "json/json.h"

#include <stdio.h>
#include <string.h>

const char *const webhooks_event_types[] = {
    "window.created",    "window.activated",   "window.cancelled", "window.expired",
    "precommit.created", "redemption.created", "message.failed",   NULL,
};

const char *const webhook_delivery_status_names[] = {"pending", "succeeded", "dead", NULL};

bool webhooks_event_known(const char *type)
{
    for (size_t i = 0; type && webhooks_event_types[i]; i++) {
        if (strcmp(type, webhooks_event_types[i]) == 0)
            return true;
    }
    return false;
}

#define SEC  1000LL
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)

int64_t webhooks_retry_delay_ms(int attempt, double scale)
{
    /* Svix: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
    static const int64_t schedule[WEBHOOKS_MAX_ATTEMPTS] = {
        0, 5 * SEC, 5 * MIN, 30 * MIN, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR,
    };
    if (attempt < 1 || attempt > WEBHOOKS_MAX_ATTEMPTS)
        return -1;
    if (!(scale > 0.0) || scale >= 1.0)
        return schedule[attempt - 1];
    return (int64_t)((double)schedule[attempt - 1] * scale);
}

bool webhooks_endpoint_should_disable(int64_t failing_since_ms, int64_t now_ms)
{
    return failing_since_ms > 0 && now_ms - failing_since_ms >= WEBHOOKS_DISABLE_AFTER_MS;
}

bool webhooks_status_ok(long status)
{
    return status >= 200 && status <= 299;
}

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

int webhooks_url_validate(const char *url, struct err *e)
{
    if (!url || !*url)
        return err_set_field(e, ERR_INVALID, "url", "url is required");
    size_t len = strlen(url);
    if (len > WEBHOOKS_URL_MAX)
        return err_set_field(e, ERR_INVALID, "url", "url is longer than %d bytes",
                             WEBHOOKS_URL_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= ' ' || c == 0x7f)
            return err_set_field(e, ERR_INVALID, "url",
                                 "url must not contain spaces or control characters");
    }
    const char *p;
    if (str_has_prefix(url, "https://"))
        p = url + 8;
    else if (str_has_prefix(url, "http://"))
        p = url + 7;
    else
        return err_set_field(e, ERR_INVALID, "url", "url must start with http:// or https://");
    size_t auth = strcspn(p, "/?#");
    if (memchr(p, '@', auth))
        return err_set_field(e, ERR_INVALID, "url", "url must not carry credentials");
    size_t host = 0;
    if (auth && p[0] == '[') {
        const char *close = memchr(p, ']', auth);
        if (!close || close == p + 1)
            return err_set_field(e, ERR_INVALID, "url", "url has a malformed IPv6 host");
        host = (size_t)(close - p) + 1;
    } else {
        while (host < auth && host_char(p[host]))
            host++;
    }
    if (host == 0)
        return err_set_field(e, ERR_INVALID, "url", "url has no host");
    if (host < auth) {
        if (p[host] != ':' || host + 1 == auth)
            return err_set_field(e, ERR_INVALID, "url", "url has a malformed host or port");
        int64_t port = 0;
        for (size_t i = host + 1; i < auth; i++) {
            if (p[i] < '0' || p[i] > '9' || port > 65535)
                return err_set_field(e, ERR_INVALID, "url", "url has a malformed port");
            port = port * 10 + (p[i] - '0');
        }
        if (port < 1 || port > 65535)
            return err_set_field(e, ERR_INVALID, "url", "url port must be 1..65535");
    }
    return 0;
}

int webhooks_events_validate(const char *const *events, size_t n, struct err *e)
{
    if (n == 0)
        return err_set_field(e, ERR_INVALID, "events", "events needs at least one event type");
    if (n > WEBHOOKS_MAX_EVENTS)
        return err_set_field(e, ERR_INVALID, "events", "events has more than %d entries",
                             WEBHOOKS_MAX_EVENTS);
    for (size_t i = 0; i < n; i++) {
        char field[32];
        snprintf(field, sizeof(field), "events[%zu]", i);
        if (!webhooks_event_known(events[i]))
            return err_set_field(e, ERR_INVALID, field, "%s is not a known event type", field);
        for (size_t k = 0; k < i; k++) {
            if (strcmp(events[k], events[i]) == 0)
                return err_set_field(e, ERR_INVALID, field, "%s repeats %s", field, events[i]);
        }
    }
    return 0;
}

void webhooks_secret_new(char out[WEBHOOKS_SECRET_SIZE])
{
    unsigned char key[WEBHOOKS_SECRET_BYTES];
    sec_random_bytes(key, sizeof(key));
    memcpy(out, "whsec_", sizeof("whsec_")); /* with its NUL; the key follows */
    struct err e;
    err_init(&e);
    /* The size is exact for 32 bytes, so encoding cannot fail. */
    int rc = sec_b64_encode(out + 6, WEBHOOKS_SECRET_SIZE - 6, SEC_B64_STD, key, sizeof(key), &e);
    (void)rc;
    explicit_bzero(key, sizeof(key));
}

char *webhooks_body(const char *type, const char *data_json, int64_t now_ms, struct arena *a)
{
    char ts[CLOCK_ISO_LEN];
    clock_format_iso(now_ms, ts);
    struct buf b;
    buf_init(&b, BUF_MAX_WEBHOOK);
    int rc = buf_appends(&b, "{\"type\":");
    if (!rc)
        rc = json_buf_string(&b, type);
    if (!rc)
        rc = buf_appendf(&b, ",\"timestamp\":\"%s\",\"data\":", ts);
    if (!rc)
        rc = buf_appends(&b, data_json && *data_json ? data_json : "{}");
    if (!rc)
        rc = buf_appends(&b, "}");
    char *out = rc ? NULL : arena_strdup(a, buf_str(&b));
    buf_release(&b);
    return out;
}
