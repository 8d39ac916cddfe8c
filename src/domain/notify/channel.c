/* SPDX-License-Identifier: MIT */
/*
 * The provider adapters behind struct channel_provider (see channel.h): Meta's WhatsApp Cloud API
 * (text, reply buttons, templates, location requests; its error codes mapped to outcomes), a
 * small VAPI outbound adapter, and the console adapter. The Meta and VAPI adapters share an
 * in-memory limiter per provider: a token bucket for the sending number and a minimum gap per
 * recipient; a send that would wait longer than a second comes back as CHANNEL_RETRY instead.
 */
#include "domain/notify/channel.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "net/httpc.h"

#include <ctype.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern char **environ; /* POSIX */

#define DEFAULT_API_URL     "https://graph.facebook.com/v21.0"
#define DEFAULT_RATE        80
#define DEFAULT_GAP_MS      1000
#define DEFAULT_TZ_OFFSET   180
#define MAX_WAIT_NS         (1000LL * 1000000) /* longest a send waits for the limiter */
#define PACE_SLOTS          4096               /* recipients remembered by the pace limiter */
#define PACE_PROBE          8
#define SEND_TIMEOUT_MS     15000
#define RESPONSE_MAX        (256u * 1024)
#define REQUEST_MAX         (64u * 1024)
#define NS_PER_MS           1000000LL
#define DAY_MS              (24LL * 3600 * 1000)
#define RETRY_THROUGHPUT_MS 2000  /* 130429: Cloud API throughput reached */
#define RETRY_PAIR_MS       6000  /* 131056: about one message per 6 s to one person */
#define RETRY_ACCOUNT_MS    60000 /* 80007, 4, 131048: account-level limits */
#define RETRY_TRANSIENT_MS  2000  /* 5xx, unknown transient codes */
#define RETRY_AUTH_MS       60000 /* 190: until an operator replaces the token */

/* ======================== configuration ======================== */

/* The variable's value, or NULL when unset or empty. */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int env_int(const char *name, int lo, int hi, int dflt)
{
    const char *v = env(name);
    int64_t n;
    if (!v)
        return dflt;
    if (str_to_i64_range(v, lo, hi, &n)) {
        log_warn("msg=\"ignoring bad setting\" var=%s default=%d", name, dflt);
        return dflt;
    }
    return (int)n;
}

void channel_config_from_env(struct channel_config *c)
{
    memset(c, 0, sizeof(*c));
    c->api_url = env("ICESHOP_WHATSAPP_API_URL");
    if (!c->api_url)
        c->api_url = DEFAULT_API_URL;
    c->token = env("ICESHOP_WHATSAPP_TOKEN");
    c->phone_number_id = env("ICESHOP_WHATSAPP_PHONE_NUMBER_ID");
    c->vapi_url = env("ICESHOP_VAPI_URL");
    c->vapi_key = env("ICESHOP_VAPI_KEY");
    /* 0 lifts the per-number limit (benchmarks against a fake provider). */
    c->rate_per_s = env_int("ICESHOP_WHATSAPP_RATE", 0, 1000000, DEFAULT_RATE);
    c->recipient_gap_ms = env_int("ICESHOP_WHATSAPP_RECIPIENT_GAP_MS", 0, 3600000, DEFAULT_GAP_MS);
    c->quiet_hours = env("ICESHOP_QUIET_HOURS");
    if (!c->quiet_hours)
        c->quiet_hours = "";
    c->tz_offset_min = env_int("ICESHOP_TZ_OFFSET_MIN", -720, 840, DEFAULT_TZ_OFFSET);
    static const char prefix[] = "ICESHOP_WHATSAPP_TEMPLATE_";
    for (char **v = environ; *v && c->n_templates < NOTIFY_KINDS_MAX; v++) {
        const char *eq = strchr(*v, '=');
        size_t klen = eq ? (size_t)(eq - *v) - (sizeof(prefix) - 1) : 0;
        if (!eq || strncmp(*v, prefix, sizeof(prefix) - 1) != 0 || klen < 1 ||
            klen > NOTIFY_KIND_NAME_MAX || !eq[1])
            continue;
        memcpy(c->templates[c->n_templates].kind, *v + sizeof(prefix) - 1, klen);
        c->templates[c->n_templates].kind[klen] = '\0';
        c->templates[c->n_templates].name = eq + 1;
        c->n_templates++;
    }
    c->smtp_url = env("ICESHOP_SMTP_URL");
    c->smtp_from = env("ICESHOP_SMTP_FROM");
    if (!c->smtp_from)
        c->smtp_from = "Iceshop <no-reply@iceshop.invalid>";
    c->smtp_user = env("ICESHOP_SMTP_USER");
    c->smtp_password = env("ICESHOP_SMTP_PASSWORD");
    c->smtp_require_tls = env_int("ICESHOP_SMTP_REQUIRE_TLS", 0, 1, 0) == 1;
}

/* ======================== policy ======================== */

const char *channel_template_name(const struct channel_config *c, const struct notify_kind *kind)
{
    char key[NOTIFY_KIND_NAME_MAX + 1];
    size_t n = 0;
    for (const char *p = kind->name; *p && n + 1 < sizeof(key); p++)
        key[n++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
    key[n] = '\0';
    for (size_t i = 0; i < c->n_templates; i++) {
        if (str_eq(c->templates[i].kind, key))
            return c->templates[i].name;
    }
    return kind->template_name ? kind->template_name : "";
}

/* "HH:MM" at *p → minutes since midnight; advances *p. */
static bool parse_hhmm(const char **p, int *out)
{
    const char *s = *p;
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
        !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
        return false;
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0))
        return false;
    *out = h * 60 + m;
    *p = s + 5;
    return true;
}

/* "22:00-08:00" → start and end minutes; false when malformed or empty. */
static bool parse_quiet_hours(const char *s, int *start, int *end)
{
    if (!s)
        return false;
    while (*s == ' ')
        s++;
    if (!parse_hhmm(&s, start))
        return false;
    while (*s == ' ')
        s++;
    if (*s++ != '-')
        return false;
    while (*s == ' ')
        s++;
    if (!parse_hhmm(&s, end))
        return false;
    while (*s == ' ')
        s++;
    return *s == '\0' && *start != *end;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool channel_in_quiet_hours(const char *quiet_hours, int tz_offset_min, int64_t now_ms,
                            int64_t *until_ms)
{
    int start, end;
    if (!parse_quiet_hours(quiet_hours, &start, &end))
        return false;
    int64_t local = now_ms + (int64_t)tz_offset_min * 60000;
    int64_t day = floor_div(local, DAY_MS) * DAY_MS;
    int minute = (int)((local - day) / 60000);
    bool in = start < end ? (minute >= start && minute < end) : (minute >= start || minute < end);
    if (!in)
        return false;
    if (until_ms) {
        int64_t end_local = day + (int64_t)end * 60000;
        if (end_local <= local)
            end_local += DAY_MS;
        *until_ms = end_local - (int64_t)tz_offset_min * 60000;
    }
    return true;
}

/* ======================== limiter ======================== */

struct pace_slot {
    uint64_t hash;   /* 0 = free */
    int64_t next_ns; /* the earliest next send to this recipient */
};

/*
 * Per sending number: a GCRA token bucket (rate_per_s, bursts of rate/10) and a gap per
 * recipient. Monotonic time; one mutex; the caller sleeps outside it.
 */
struct limiter {
    pthread_mutex_t mu;
    int64_t interval_ns; /* 0 = no rate limit */
    int64_t tolerance_ns;
    int64_t tat_ns;
    int64_t gap_ns;
    struct pace_slot *slots;
};

static void limiter_init(struct limiter *l, int rate_per_s, int gap_ms)
{
    memset(l, 0, sizeof(*l));
    pthread_mutex_init(&l->mu, NULL);
    if (rate_per_s > 0) {
        l->interval_ns = 1000000000LL / rate_per_s;
        int burst = rate_per_s / 10 > 1 ? rate_per_s / 10 : 1;
        l->tolerance_ns = (int64_t)(burst - 1) * l->interval_ns;
    }
    l->gap_ns = (int64_t)gap_ms * NS_PER_MS;
    if (l->gap_ns > 0)
        l->slots = xcalloc(PACE_SLOTS, sizeof(*l->slots));
}

static void limiter_release(struct limiter *l)
{
    pthread_mutex_destroy(&l->mu);
    free(l->slots);
}

static uint64_t hash_phone(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

/* The slot remembering `phone`, or a free/expired one for it; NULL when the probe is full. */
static struct pace_slot *pace_slot(struct limiter *l, const char *phone, int64_t now)
{
    uint64_t h = hash_phone(phone);
    struct pace_slot *spare = NULL;
    for (int i = 0; i < PACE_PROBE; i++) {
        struct pace_slot *s = &l->slots[(h + (uint64_t)i) % PACE_SLOTS];
        if (s->hash == h)
            return s;
        if (!spare && (s->hash == 0 || s->next_ns <= now))
            spare = s;
    }
    if (spare) {
        spare->hash = h;
        spare->next_ns = 0;
    }
    return spare;
}

/*
 * Reserve a send to `phone`. Returns the nanoseconds to sleep first (>= 0), or -1 with
 * *retry_ms set when the wait would exceed MAX_WAIT_NS (nothing is reserved then).
 */
static int64_t limiter_reserve(struct limiter *l, const char *phone, int64_t *retry_ms)
{
    pthread_mutex_lock(&l->mu);
    int64_t now = clock_mono_ns();
    struct pace_slot *slot = l->slots ? pace_slot(l, phone, now) : NULL;
    int64_t wait = 0;
    if (slot && slot->next_ns > now)
        wait = slot->next_ns - now;
    int64_t tat = l->tat_ns > now ? l->tat_ns : now;
    if (l->interval_ns) {
        int64_t w = tat - l->tolerance_ns - now;
        if (w > wait)
            wait = w;
    }
    if (wait > MAX_WAIT_NS) {
        pthread_mutex_unlock(&l->mu);
        *retry_ms = (wait + NS_PER_MS - 1) / NS_PER_MS;
        return -1;
    }
    int64_t at = now + wait;
    if (l->interval_ns)
        l->tat_ns = (tat > at ? tat : at) + l->interval_ns;
    if (slot)
        slot->next_ns = at + l->gap_ns;
    pthread_mutex_unlock(&l->mu);
    return wait;
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Wait for the limiter; false (and `r` filled as CHANNEL_RETRY) when the send must be rescheduled.
 */
static bool limiter_pass(struct limiter *l, const char *phone, struct channel_result *r)
{
    int64_t retry_ms = 0;
    int64_t wait = limiter_reserve(l, phone ? phone : "", &retry_ms);
    if (wait < 0) {
        r->outcome = CHANNEL_RETRY;
        r->provider_code = 0; /* ours, not the provider's: the caller reschedules */
        r->retry_after_ms = retry_ms;
        snprintf(r->error, sizeof(r->error), "local send rate reached, retry in %lld ms",
                 (long long)retry_ms);
        return false;
    }
    if (wait > 0)
        sleep_ns(wait);
    return true;
}

/* ======================== shared helpers ======================== */

static void result_init(struct channel_result *r)
{
    memset(r, 0, sizeof(*r));
    r->outcome = CHANNEL_PERMANENT_FAILURE;
}

/* POST `body` as JSON with a bearer credential; the response is the caller's to release. */
static int post_json(const char *url, const char *bearer, json_t *body, struct httpc_response *resp,
                     struct err *e)
{
    char *text = json_dumps(body, JSON_COMPACT);
    if (!text)
        return err_set(e, ERR_INTERNAL, "cannot serialise the request");
    char auth[1024];
    snprintf(auth, sizeof(auth), "Bearer %s", bearer ? bearer : "");
    struct httpc_header h[] = {{"Authorization", auth},
                               {"Content-Type", "application/json"},
                               {"Accept", "application/json"}};
    struct httpc_request req = {.method = "POST",
                                .url = url,
                                .headers = h,
                                .nheaders = sizeof(h) / sizeof(h[0]),
                                .body = text,
                                .body_len = strlen(text),
                                .timeout_ms = SEND_TIMEOUT_MS,
                                .max_response = RESPONSE_MAX};
    int rc = httpc_do(&req, resp, e);
    explicit_bzero(auth, sizeof(auth));
    free(text);
    return rc;
}

static char *url_join(const char *base, const char *a, const char *b)
{
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    struct buf u;
    buf_init(&u, 4096);
    buf_append(&u, base, n);
    if (a)
        buf_appendf(&u, "/%s", a);
    if (b)
        buf_appendf(&u, "/%s", b);
    char *s = xstrdup(buf_str(&u));
    buf_release(&u);
    return s;
}

/* ======================== Meta WhatsApp Cloud API ======================== */

struct meta {
    char *url; /* {api_url}/{phone_number_id}/messages */
    char *token;
    struct limiter lim;
};

/* E.164 "+90..." → the digits the Cloud API wants in "to". */
static void phone_digits(const char *phone, char *out, size_t n)
{
    size_t j = 0;
    for (const char *p = phone ? phone : ""; *p && j + 1 < n; p++) {
        if (isdigit((unsigned char)*p))
            out[j++] = *p;
    }
    out[j] = '\0';
}

static const char *lang_code(const char *language)
{
    return str_eq(language, "en") ? "en" : "tr";
}

static json_t *meta_template(const struct channel_message *m)
{
    json_t *t = json_pack("{s:s, s:{s:s}}", "name", m->template_name, "language", "code",
                          lang_code(m->language));
    if (m->n_template_params) {
        json_t *params = json_array();
        for (size_t i = 0; i < m->n_template_params; i++)
            json_array_append_new(params,
                                  json_pack("{s:s, s:s}", "type", "text", "text",
                                            m->template_params[i] ? m->template_params[i] : ""));
        json_object_set_new(t, "components",
                            json_pack("[{s:s, s:o}]", "type", "body", "parameters", params));
    }
    return t;
}

static json_t *meta_buttons(const struct channel_message *m)
{
    json_t *buttons = json_array();
    for (size_t i = 0; i < m->n_buttons && i < NOTIFY_BUTTONS_MAX; i++)
        json_array_append_new(buttons,
                              json_pack("{s:s, s:{s:s, s:s}}", "type", "reply", "reply", "id",
                                        m->buttons[i].id, "title", m->buttons[i].title));
    return json_pack("{s:s, s:{s:s}, s:{s:o}}", "type", "button", "body", "text", m->body, "action",
                     "buttons", buttons);
}

/* The request body for `m`: a template, a location request, reply buttons, or plain text. */
static json_t *meta_body(const struct channel_message *m, const char *to)
{
    json_t *root = json_pack("{s:s, s:s, s:s}", "messaging_product", "whatsapp", "recipient_type",
                             "individual", "to", to);
    if (m->use_template) {
        json_object_set_new(root, "type", json_string("template"));
        json_object_set_new(root, "template", meta_template(m));
    } else if (m->location_request) {
        json_object_set_new(root, "type", json_string("interactive"));
        json_object_set_new(root, "interactive",
                            json_pack("{s:s, s:{s:s}, s:{s:s}}", "type", "location_request_message",
                                      "body", "text", m->body, "action", "name", "send_location"));
    } else if (m->n_buttons > 0) {
        json_object_set_new(root, "type", json_string("interactive"));
        json_object_set_new(root, "interactive", meta_buttons(m));
    } else {
        json_object_set_new(root, "type", json_string("text"));
        json_object_set_new(root, "text",
                            json_pack("{s:b, s:s}", "preview_url", 0, "body", m->body));
    }
    return root;
}

/* What an error code from the Cloud API means (the code table in channel.h's spec). */
static void meta_classify(long status, int code, struct channel_result *r)
{
    r->retry_after_ms = 0;
    switch (code) {
    case 130429: /* Cloud API throughput reached */
        r->outcome = CHANNEL_RETRY;
        r->retry_after_ms = RETRY_THROUGHPUT_MS;
        return;
    case 131056: /* too many messages to this recipient */
        r->outcome = CHANNEL_RETRY;
        r->retry_after_ms = RETRY_PAIR_MS;
        return;
    case 80007:  /* WABA rate limit */
    case 4:      /* app API-call rate limit */
    case 131048: /* spam rate limit */
        r->outcome = CHANNEL_RETRY;
        r->retry_after_ms = RETRY_ACCOUNT_MS;
        return;
    case 1:      /* unknown API error */
    case 2:      /* service temporarily unavailable */
    case 131000: /* something went wrong */
    case 133004: /* server temporarily unavailable */
        r->outcome = CHANNEL_RETRY;
        r->retry_after_ms = RETRY_TRANSIENT_MS;
        return;
    case 131047: /* more than 24 h since the person last wrote */
        r->outcome = CHANNEL_NEEDS_TEMPLATE;
        return;
    case 190: /* access token expired or invalid */
        r->outcome = CHANNEL_AUTH_FAILED;
        r->retry_after_ms = RETRY_AUTH_MS;
        return;
    case 131026: /* undeliverable */
    case 131051: /* unsupported message type */
    case 100:    /* invalid parameter */
    case 131009: /* parameter value not valid */
        r->outcome = CHANNEL_PERMANENT_FAILURE;
        return;
    default:
        break;
    }
    if (status >= 500 || status == 429 || status == 408) {
        r->outcome = CHANNEL_RETRY;
        r->retry_after_ms = RETRY_TRANSIENT_MS;
    } else if (status == 401 && code == 0) {
        r->outcome = CHANNEL_AUTH_FAILED;
        r->retry_after_ms = RETRY_AUTH_MS;
    } else {
        r->outcome = CHANNEL_PERMANENT_FAILURE;
    }
}

/* Fill `r` from a Cloud API response (success or error envelope). */
static void meta_parse(const struct httpc_response *resp, struct channel_result *r)
{
    json_t *root = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
    if (resp->status >= 200 && resp->status < 300) {
        json_t *id = json_object_get(json_array_get(json_object_get(root, "messages"), 0), "id");
        r->outcome = CHANNEL_SENT;
        if (json_is_string(id)) {
            str_copy(r->provider_id, sizeof(r->provider_id), json_string_value(id));
        } else {
            str_copy(r->provider_id, sizeof(r->provider_id), "unknown");
            log_warn("msg=\"whatsapp accepted a message without an id\" status=%ld", resp->status);
        }
        json_decref(root);
        return;
    }
    json_t *err = json_object_get(root, "error");
    json_t *code = json_object_get(err, "code");
    const char *message = json_string_value(json_object_get(err, "message"));
    const char *details =
        json_string_value(json_object_get(json_object_get(err, "error_data"), "details"));
    r->provider_code = json_is_integer(code) ? (int)json_integer_value(code) : 0;
    meta_classify(resp->status, r->provider_code, r);
    if (r->provider_code == 0 && resp->status >= 500)
        r->provider_code = (int)resp->status;
    if (message || details)
        snprintf(r->error, sizeof(r->error), "whatsapp error %d: %s%s%s%s", r->provider_code,
                 message ? message : "", details ? " (" : "", details ? details : "",
                 details ? ")" : "");
    else
        snprintf(r->error, sizeof(r->error), "whatsapp answered HTTP %ld", resp->status);
    json_decref(root);
}

static int meta_send(struct channel_provider *p, const struct channel_message *m,
                     struct channel_result *r, struct err *e)
{
    struct meta *st = p->state;
    result_init(r);
    char to[32];
    phone_digits(m->to_phone, to, sizeof(to));
    if (strlen(to) < 8) {
        snprintf(r->error, sizeof(r->error), "recipient has no valid phone number");
        return 0;
    }
    if (m->use_template && (!m->template_name || !*m->template_name)) {
        snprintf(r->error, sizeof(r->error), "no template configured for %s",
                 m->kind ? m->kind : "?");
        return 0;
    }
    if (!m->use_template && (!m->body || !*m->body)) {
        snprintf(r->error, sizeof(r->error), "empty message body");
        return 0;
    }
    if (!limiter_pass(&st->lim, to, r))
        return 0;
    json_t *body = meta_body(m, to);
    struct httpc_response resp;
    httpc_response_init(&resp);
    int rc = post_json(st->url, st->token, body, &resp, e);
    json_decref(body);
    if (!rc)
        meta_parse(&resp, r);
    httpc_response_release(&resp);
    return rc;
}

static void meta_free(struct channel_provider *p)
{
    struct meta *st = p->state;
    limiter_release(&st->lim);
    free(st->url);
    explicit_bzero(st->token, strlen(st->token));
    free(st->token);
    free(st);
    free(p);
}

/* ======================== VAPI ======================== */

struct vapi {
    char *url;
    char *key;
    struct limiter lim;
    atomic_ullong seq;
};

static int vapi_send(struct channel_provider *p, const struct channel_message *m,
                     struct channel_result *r, struct err *e)
{
    struct vapi *st = p->state;
    result_init(r);
    if (!m->to_phone || !*m->to_phone || !m->body || !*m->body) {
        snprintf(r->error, sizeof(r->error), "vapi message needs a phone number and a body");
        return 0;
    }
    if (!limiter_pass(&st->lim, m->to_phone, r))
        return 0;
    json_t *body = json_pack("{s:s, s:s}", "to", m->to_phone, "message", m->body);
    struct httpc_response resp;
    httpc_response_init(&resp);
    int rc = post_json(st->url, st->key, body, &resp, e);
    json_decref(body);
    if (rc)
        goto out;
    r->provider_code = (int)resp.status;
    if (resp.status >= 200 && resp.status < 300) {
        json_t *root = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
        const char *id = json_string_value(json_object_get(root, "id"));
        r->outcome = CHANNEL_SENT;
        r->provider_code = 0;
        if (id)
            snprintf(r->provider_id, sizeof(r->provider_id), "%s", id);
        else
            snprintf(r->provider_id, sizeof(r->provider_id), "vapi:%llu",
                     (unsigned long long)atomic_fetch_add(&st->seq, 1) + 1);
        json_decref(root);
        goto out;
    }
    if (resp.status == 401 || resp.status == 403) {
        r->outcome = CHANNEL_AUTH_FAILED;
        r->retry_after_ms = RETRY_AUTH_MS;
    } else if (resp.status == 429 || resp.status == 408 || resp.status >= 500) {
        r->outcome = CHANNEL_RETRY;
        r->retry_after_ms = RETRY_TRANSIENT_MS;
    }
    snprintf(r->error, sizeof(r->error), "vapi answered HTTP %ld", resp.status);
out:
    httpc_response_release(&resp);
    return rc;
}

static void vapi_free(struct channel_provider *p)
{
    struct vapi *st = p->state;
    limiter_release(&st->lim);
    free(st->url);
    explicit_bzero(st->key, strlen(st->key));
    free(st->key);
    free(st);
    free(p);
}

/* ======================== console ======================== */

struct console {
    atomic_ullong seq;
};

static int console_send(struct channel_provider *p, const struct channel_message *m,
                        struct channel_result *r, struct err *e)
{
    (void)e;
    struct console *st = p->state;
    result_init(r);
    unsigned long long n = atomic_fetch_add(&st->seq, 1) + 1;
    r->outcome = CHANNEL_SENT;
    snprintf(r->provider_id, sizeof(r->provider_id), "console:%llu", n);
    log_info("msg=\"message sent (console)\" provider_id=%s kind=%s lang=%s template=%s",
             r->provider_id, m->kind ? m->kind : "?", lang_code(m->language),
             m->use_template && m->template_name ? m->template_name : "-");
    return 0;
}

static void console_free(struct channel_provider *p)
{
    free(p->state);
    free(p);
}

struct channel_provider *channel_provider_console(void)
{
    struct channel_provider *p = xcalloc(1, sizeof(*p));
    p->name = "console";
    p->alert_source = "console";
    p->caps = CHANNEL_CAP_DELIVERS_NOW;
    p->send = console_send;
    p->free = console_free;
    p->state = xcalloc(1, sizeof(struct console));
    return p;
}

struct channel_provider *channel_provider_new(const struct channel_config *c)
{
    struct channel_provider *p;
    if (c->token && *c->token && c->phone_number_id && *c->phone_number_id) {
        struct meta *st = xcalloc(1, sizeof(*st));
        st->url = url_join(c->api_url && *c->api_url ? c->api_url : DEFAULT_API_URL,
                           c->phone_number_id, "messages");
        st->token = xstrdup(c->token);
        limiter_init(&st->lim, c->rate_per_s, c->recipient_gap_ms);
        p = xcalloc(1, sizeof(*p));
        p->name = "meta";
        p->alert_source = "whatsapp";
        p->caps = CHANNEL_CAP_TEMPLATES | CHANNEL_CAP_BUTTONS | CHANNEL_CAP_LOCATION;
        p->send = meta_send;
        p->free = meta_free;
        p->state = st;
        return p;
    }
    if (c->vapi_url && *c->vapi_url && c->vapi_key && *c->vapi_key) {
        struct vapi *st = xcalloc(1, sizeof(*st));
        st->url = url_join(c->vapi_url, NULL, NULL);
        st->key = xstrdup(c->vapi_key);
        limiter_init(&st->lim, c->rate_per_s, c->recipient_gap_ms);
        p = xcalloc(1, sizeof(*p));
        p->name = "vapi";
        p->alert_source = "vapi";
        p->caps = 0;
        p->send = vapi_send;
        p->free = vapi_free;
        p->state = st;
        return p;
    }
    return channel_provider_console();
}
