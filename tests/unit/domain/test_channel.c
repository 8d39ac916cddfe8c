/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/notify/channel.c and the delivery job (notify_jobs.c): quiet-hours
 * math, marketing kinds, configuration; the Meta adapter against the fake Cloud API
 * (tests/support/fake_whatsapp.c: text, buttons, templates, location requests, every error code);
 * and delivery end to end through real workers on SQLite and, with TEST_PG_DSN, PostgreSQL.
 */
#include "domain/notify/channel.h"
#include "domain/notify/contacts.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "domain/account/account.h"
#include "domain/flash/flash_messages.h"
#include "domain/flash/flash_store.h"
#include "domain/notify/notify_jobs.h"
#include "domain/notify/outbox.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "net/httpc.h"
#include "support/fake_whatsapp.h"
#include "support/check.h"
#include "support/testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOW      1795252200000LL /* 2026-11-21T09:10:00Z, 12:10 in Istanbul */
#define HOUR_MS  3600000LL
#define TOKEN    "test-token-abc"
#define PHONE_ID "1122334455"
#define PHONE1   "+905320000001"
#define PHONE2   "+905320000002"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ======================== policy ======================== */

/* 2026-11-21 at hh:mm in Istanbul (UTC+3), as UTC ms. */
static int64_t local_at(int hh, int mm)
{
    return 1795219200000LL /* 2026-11-21T00:00Z */ + ((int64_t)(hh - 3) * 60 + mm) * 60000;
}

static void test_quiet_hours(void **state)
{
    (void)state;
    int64_t until = 0;
    /* Across midnight. */
    assert_true(channel_in_quiet_hours("22:00-08:00", 180, local_at(23, 10), &until));
    assert_int_equal(until, local_at(32, 0)); /* 08:00 the next day */
    assert_true(channel_in_quiet_hours("22:00-08:00", 180, local_at(22, 0), &until));
    assert_int_equal(until, local_at(32, 0));
    assert_true(channel_in_quiet_hours("22:00-08:00", 180, local_at(7, 59), &until));
    assert_int_equal(until, local_at(8, 0));
    assert_true(channel_in_quiet_hours("22:00-08:00", 180, local_at(3, 0), &until)); /* 00:00Z */
    assert_int_equal(until, local_at(8, 0));
    assert_false(channel_in_quiet_hours("22:00-08:00", 180, local_at(8, 0), &until));
    assert_false(channel_in_quiet_hours("22:00-08:00", 180, local_at(12, 10), &until));
    assert_false(channel_in_quiet_hours("22:00-08:00", 180, local_at(21, 59), &until));
    /* Within one day, and another offset. */
    assert_true(channel_in_quiet_hours("13:00-14:30", 180, local_at(14, 0), &until));
    assert_int_equal(until, local_at(14, 30));
    assert_false(channel_in_quiet_hours("13:00-14:30", 180, local_at(14, 30), &until));
    assert_true(channel_in_quiet_hours(" 09:00 - 10:00 ", 0, 1795251600000LL /* 09:00Z */, &until));
    assert_int_equal(until, 1795255200000LL);
    /* Before 1970 still works (floor, not truncation). */
    assert_true(channel_in_quiet_hours("22:00-08:00", 0, -3600000LL, &until));
    assert_int_equal(until, 8 * HOUR_MS);
    assert_true(channel_in_quiet_hours("00:00-24:00", 0, NOW, NULL));
    /* None or malformed: never quiet. */
    const char *bad[] = {"",          "22:00",        "22:00-22:00", "25:00-08:00", "22:60-08:00",
                         "2200-0800", "22:00-08:00x", "aa:bb-cc:dd"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (channel_in_quiet_hours(bad[i], 180, local_at(23, 0), &until))
            fail_msg("\"%s\" should not be quiet", bad[i]);
    }
    assert_false(channel_in_quiet_hours(NULL, 180, local_at(23, 0), &until));
}

/* A kind's template: the configured override (its name upper-cased, '.' as '_'), else its own. */
static void test_template_names(void **state)
{
    (void)state;
    static const struct notify_kind receipt = {
        .name = "order.receipt", .purpose = NOTIFY_TRANSACTIONAL, .template_name = "receipt_v1"};
    static const struct notify_kind plain = {.name = "plain_note"};
    struct channel_config c;
    memset(&c, 0, sizeof(c));
    assert_string_equal(channel_template_name(&c, &receipt), "receipt_v1");
    assert_string_equal(channel_template_name(&c, &plain), "");
    setenv("ICESHOP_WHATSAPP_TEMPLATE_ORDER_RECEIPT", "receipt_v2", 1);
    setenv("ICESHOP_WHATSAPP_TEMPLATE_PLAIN_NOTE", "note_v1", 1);
    setenv("ICESHOP_WHATSAPP_TEMPLATE_", "nameless", 1); /* no kind: ignored */
    channel_config_from_env(&c);
    assert_string_equal(channel_template_name(&c, &receipt), "receipt_v2");
    assert_string_equal(channel_template_name(&c, &plain), "note_v1");
    assert_string_equal(channel_template_name(&c, &notify_kind_reply), "");
    unsetenv("ICESHOP_WHATSAPP_TEMPLATE_ORDER_RECEIPT");
    unsetenv("ICESHOP_WHATSAPP_TEMPLATE_PLAIN_NOTE");
    unsetenv("ICESHOP_WHATSAPP_TEMPLATE_");
}

static void test_config_env(void **state)
{
    (void)state;
    static const char *const vars[] = {"ICESHOP_WHATSAPP_TOKEN",
                                       "ICESHOP_WHATSAPP_PHONE_NUMBER_ID",
                                       "ICESHOP_WHATSAPP_API_URL",
                                       "ICESHOP_VAPI_URL",
                                       "ICESHOP_VAPI_KEY",
                                       "ICESHOP_QUIET_HOURS",
                                       "ICESHOP_WHATSAPP_RATE",
                                       "ICESHOP_WHATSAPP_TEMPLATE_OFFER",
                                       "ICESHOP_WHATSAPP_TEMPLATE_WINDOW_OPEN"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    struct channel_config c;
    channel_config_from_env(&c);
    assert_string_equal(c.api_url, "https://graph.facebook.com/v21.0");
    assert_null(c.token);
    assert_int_equal(c.rate_per_s, 80);
    assert_int_equal(c.recipient_gap_ms, 1000);
    assert_int_equal(c.tz_offset_min, 180);
    assert_string_equal(c.quiet_hours, "");
    assert_string_equal(channel_template_name(&c, &flash_msg_offer), "");
    struct channel_provider *p = channel_provider_new(&c);
    assert_string_equal(p->name, "console");
    assert_int_equal(p->caps, CHANNEL_CAP_DELIVERS_NOW); /* no templates, buttons, locations */
    p->free(p);

    setenv("ICESHOP_VAPI_URL", "http://127.0.0.1:9/messages", 1);
    setenv("ICESHOP_VAPI_KEY", "vk", 1);
    channel_config_from_env(&c);
    p = channel_provider_new(&c);
    assert_string_equal(p->name, "vapi");
    assert_int_equal(p->caps & (CHANNEL_CAP_TEMPLATES | CHANNEL_CAP_BUTTONS), 0);
    p->free(p);

    setenv("ICESHOP_WHATSAPP_TOKEN", "t", 1);
    setenv("ICESHOP_WHATSAPP_PHONE_NUMBER_ID", "123", 1);
    setenv("ICESHOP_WHATSAPP_API_URL", "http://127.0.0.1:9/v21.0/", 1);
    setenv("ICESHOP_QUIET_HOURS", "22:00-08:00", 1);
    setenv("ICESHOP_WHATSAPP_RATE", "250", 1);
    setenv("ICESHOP_WHATSAPP_TEMPLATE_OFFER", "iceshop_offer", 1);
    setenv("ICESHOP_WHATSAPP_TEMPLATE_WINDOW_OPEN", "iceshop_open", 1);
    channel_config_from_env(&c);
    assert_string_equal(c.token, "t");
    assert_string_equal(c.phone_number_id, "123");
    assert_string_equal(c.quiet_hours, "22:00-08:00");
    assert_int_equal(c.rate_per_s, 250);
    assert_string_equal(channel_template_name(&c, &flash_msg_offer), "iceshop_offer");
    assert_string_equal(channel_template_name(&c, &flash_msg_window_open), "iceshop_open");
    assert_string_equal(channel_template_name(&c, &flash_msg_reminder), "");
    p = channel_provider_new(&c);
    assert_string_equal(p->name, "meta"); /* Meta wins over VAPI */
    assert_int_equal(p->caps, CHANNEL_CAP_TEMPLATES | CHANNEL_CAP_BUTTONS | CHANNEL_CAP_LOCATION);
    assert_string_equal(p->alert_source, "whatsapp");
    p->free(p);
    setenv("ICESHOP_WHATSAPP_RATE", "lots", 1); /* bad: the default stays */
    channel_config_from_env(&c);
    assert_int_equal(c.rate_per_s, 80);
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
}

static void test_console(void **state)
{
    (void)state;
    struct channel_provider *p = channel_provider_console();
    assert_string_equal(p->name, "console");
    struct channel_message m = {
        .to_phone = PHONE1, .body = "hi", .language = "tr", .kind = "confirmation"};
    struct channel_result r;
    OK(p->send(p, &m, &r, e));
    assert_int_equal(r.outcome, CHANNEL_SENT);
    assert_string_equal(r.provider_id, "console:1");
    OK(p->send(p, &m, &r, e));
    assert_string_equal(r.provider_id, "console:2");
    p->free(p);
}

/* ======================== the Meta adapter against the fake ======================== */

struct afx {
    struct fake_whatsapp *fake;
    struct channel_config cfg;
    struct channel_provider *p;
};

static int afx_setup(void **state)
{
    struct afx *f = xcalloc(1, sizeof(*f));
    f->fake = fake_whatsapp_start(TOKEN, PHONE_ID);
    f->cfg.api_url = fake_whatsapp_url(f->fake);
    f->cfg.token = TOKEN;
    f->cfg.phone_number_id = PHONE_ID;
    f->cfg.rate_per_s = 0;
    f->cfg.recipient_gap_ms = 0;
    f->p = channel_provider_new(&f->cfg);
    *state = f;
    return 0;
}

static int afx_teardown(void **state)
{
    struct afx *f = *state;
    f->p->free(f->p);
    fake_whatsapp_stop(f->fake);
    free(f);
    return 0;
}

static struct fake_wa_request last_request(struct fake_whatsapp *fake)
{
    size_t n = fake_whatsapp_count(fake);
    struct fake_wa_request q;
    if (!n || !fake_whatsapp_get(fake, n - 1, &q))
        fail_msg("the fake saw no request");
    return q;
}

static void assert_no_rejects(struct fake_whatsapp *fake)
{
    char why[256];
    if (fake_whatsapp_rejected(fake, why, sizeof(why)))
        fail_msg("the fake rejected a request: %s", why);
}

static void test_meta_text(void **state)
{
    struct afx *f = *state;
    assert_string_equal(f->p->name, "meta");
    struct channel_message m = {
        .to_phone = PHONE1, .body = "Kodunuz: K7P2QX", .language = "tr", .kind = "confirmation"};
    struct channel_result r;
    OK(f->p->send(f->p, &m, &r, e));
    assert_int_equal(r.outcome, CHANNEL_SENT);
    assert_string_equal(r.provider_id, "wamid.1");
    assert_int_equal(r.provider_code, 0);
    struct fake_wa_request q = last_request(f->fake);
    assert_string_equal(q.to, "905320000001");
    assert_string_equal(q.type, "text");
    assert_string_equal(q.text, "Kodunuz: K7P2QX");
    OK(f->p->send(f->p, &m, &r, e));
    assert_string_equal(r.provider_id, "wamid.2");
    assert_no_rejects(f->fake);
}

static void test_meta_buttons(void **state)
{
    struct afx *f = *state;
    struct channel_message m = {.to_phone = PHONE1,
                                .body = "Merhaba, latte %20 indirim",
                                .language = "tr",
                                .kind = "offer",
                                .n_buttons = 2,
                                .buttons = {{"join:42", "Katıl"}, {"decline:42", "Hayır"}}};
    struct channel_result r;
    OK(f->p->send(f->p, &m, &r, e));
    assert_int_equal(r.outcome, CHANNEL_SENT);
    struct fake_wa_request q = last_request(f->fake);
    assert_string_equal(q.type, "interactive");
    assert_string_equal(q.interactive_type, "button");
    assert_string_equal(q.text, "Merhaba, latte %20 indirim");
    assert_string_equal(q.button_ids[0], "join:42");
    assert_string_equal(q.button_ids[1], "decline:42");
    assert_string_equal(q.button_titles[0], "Katıl");
    assert_string_equal(q.button_titles[1], "Hayır");
    m.n_buttons = 1; /* as many buttons as the message has */
    m.buttons[0].title = "Join";
    OK(f->p->send(f->p, &m, &r, e));
    q = last_request(f->fake);
    assert_string_equal(q.button_titles[0], "Join");
    assert_string_equal(q.button_ids[0], "join:42");
    assert_string_equal(q.button_ids[1], ""); /* the fake keeps what it saw: one button */
    assert_no_rejects(f->fake);
}

static void test_meta_template(void **state)
{
    struct afx *f = *state;
    const char *params[] = {"Merhaba Ayşe, latte %20 indirim"};
    struct channel_message m = {.to_phone = PHONE2,
                                .body = "ignored for templates",
                                .language = "en",
                                .kind = "offer",
                                .use_template = true,
                                .template_name = "iceshop_offer",
                                .template_params = params,
                                .n_template_params = 1,
                                .n_buttons = 1, /* a template carries its own buttons, if any */
                                .buttons = {{"join:1", "Katıl"}}};
    struct channel_result r;
    OK(f->p->send(f->p, &m, &r, e));
    assert_int_equal(r.outcome, CHANNEL_SENT);
    struct fake_wa_request q = last_request(f->fake);
    assert_string_equal(q.to, "905320000002");
    assert_string_equal(q.type, "template");
    assert_string_equal(q.template_name, "iceshop_offer");
    assert_string_equal(q.template_lang, "en");
    assert_int_equal(q.n_template_params, 1);
    assert_string_equal(q.template_param, "Merhaba Ayşe, latte %20 indirim");
    /* A template without a name is refused before any request. */
    size_t before = fake_whatsapp_count(f->fake);
    m.template_name = "";
    OK(f->p->send(f->p, &m, &r, e));
    assert_int_equal(r.outcome, CHANNEL_PERMANENT_FAILURE);
    assert_int_equal(fake_whatsapp_count(f->fake), before);
    assert_no_rejects(f->fake);
}

static void test_meta_location(void **state)
{
    struct afx *f = *state;
    struct channel_message m = {.to_phone = PHONE1,
                                .body = "Konumunuzu paylaşın",
                                .language = "tr",
                                .kind = "location_request",
                                .location_request = true};
    struct channel_result r;
    OK(f->p->send(f->p, &m, &r, e));
    assert_int_equal(r.outcome, CHANNEL_SENT);
    struct fake_wa_request q = last_request(f->fake);
    assert_string_equal(q.type, "interactive");
    assert_string_equal(q.interactive_type, "location_request_message");
    assert_string_equal(q.text, "Konumunuzu paylaşın");
    assert_no_rejects(f->fake);
}

static void test_meta_errors(void **state)
{
    struct afx *f = *state;
    static const struct {
        int code;
        long status;
        enum channel_outcome want;
    } cases[] = {
        {130429, 400, CHANNEL_RETRY},
        {131056, 400, CHANNEL_RETRY},
        {80007, 400, CHANNEL_RETRY},
        {4, 400, CHANNEL_RETRY},
        {131048, 400, CHANNEL_RETRY},
        {131000, 500, CHANNEL_RETRY},
        {131047, 400, CHANNEL_NEEDS_TEMPLATE},
        {190, 401, CHANNEL_AUTH_FAILED},
        {131026, 400, CHANNEL_PERMANENT_FAILURE},
        {131051, 400, CHANNEL_PERMANENT_FAILURE},
        {100, 400, CHANNEL_PERMANENT_FAILURE},
        {131009, 400, CHANNEL_PERMANENT_FAILURE},
        {132000, 400, CHANNEL_PERMANENT_FAILURE}, /* any other 4xx */
        {7, 503, CHANNEL_RETRY},                  /* any 5xx */
    };
    struct channel_message m = {
        .to_phone = PHONE1, .body = "x", .language = "tr", .kind = "confirmation"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fake_whatsapp_fail_next_status(f->fake, cases[i].code, cases[i].status, 1);
        struct channel_result r;
        OK(f->p->send(f->p, &m, &r, e));
        if (r.outcome != cases[i].want)
            fail_msg("code %d: outcome %d, want %d", cases[i].code, r.outcome, cases[i].want);
        assert_int_equal(r.provider_code, cases[i].code);
        if (r.outcome == CHANNEL_RETRY && r.retry_after_ms <= 0)
            fail_msg("code %d: no retry_after", cases[i].code);
        char code_s[32];
        snprintf(code_s, sizeof(code_s), "%d", cases[i].code);
        if (!strstr(r.error, code_s))
            fail_msg("code %d: error \"%s\" does not name it", cases[i].code, r.error);
    }
    /* The message and details of the envelope reach the error text. */
    fake_whatsapp_fail_next(f->fake, 131047, 1);
    struct channel_result r;
    OK(f->p->send(f->p, &m, &r, e));
    assert_non_null(strstr(r.error, "Re-engagement message"));
    assert_non_null(strstr(r.error, "24 hours"));
    /* After the script, success again. */
    OK(f->p->send(f->p, &m, &r, e));
    assert_int_equal(r.outcome, CHANNEL_SENT);
    assert_no_rejects(f->fake);
}

static void test_meta_bad_token_and_network(void **state)
{
    struct afx *f = *state;
    struct channel_config c = f->cfg;
    c.token = "wrong";
    struct channel_provider *p = channel_provider_new(&c);
    struct channel_message m = {
        .to_phone = PHONE1, .body = "x", .language = "tr", .kind = "confirmation"};
    struct channel_result r;
    OK(p->send(p, &m, &r, e));
    assert_int_equal(r.outcome, CHANNEL_AUTH_FAILED);
    assert_int_equal(r.provider_code, 190);
    assert_int_equal(fake_whatsapp_rejected(f->fake, NULL, 0), 1);
    p->free(p);

    /* Nobody listening: the attempt itself fails. */
    int port = fake_whatsapp_port(f->fake);
    fake_whatsapp_stop(f->fake);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v21.0", port);
    c = f->cfg;
    c.api_url = url;
    p = channel_provider_new(&c);
    struct err e;
    err_init(&e);
    assert_int_not_equal(p->send(p, &m, &r, &e), 0);
    p->free(p);
    f->fake = fake_whatsapp_start(TOKEN, PHONE_ID); /* for the teardown */
}

static void test_meta_pace(void **state)
{
    struct afx *f = *state;
    struct channel_config c = f->cfg;
    c.recipient_gap_ms = 60000;
    c.rate_per_s = 80;
    struct channel_provider *p = channel_provider_new(&c);
    struct channel_message m = {
        .to_phone = PHONE1, .body = "x", .language = "tr", .kind = "confirmation"};
    struct channel_result r;
    OK(p->send(p, &m, &r, e));
    assert_int_equal(r.outcome, CHANNEL_SENT);
    /* The same person a moment later: too soon, rescheduled, nothing sent. */
    OK(p->send(p, &m, &r, e));
    assert_int_equal(r.outcome, CHANNEL_RETRY);
    assert_int_equal(r.provider_code, 0);
    assert_true(r.retry_after_ms > 1000 && r.retry_after_ms <= 60000);
    assert_int_equal(fake_whatsapp_count(f->fake), 1);
    /* Someone else is not held up. */
    m.to_phone = PHONE2;
    OK(p->send(p, &m, &r, e));
    assert_int_equal(r.outcome, CHANNEL_SENT);
    p->free(p);
}

/* ======================== VAPI, through a fake httpc backend ======================== */

struct vapi_seen {
    char url[128];
    char auth[128];
    char body[512];
    long answer;
};

static int vapi_do(void *ctx, const struct httpc_request *req, struct httpc_response *resp,
                   struct err *e)
{
    (void)e;
    struct vapi_seen *v = ctx;
    snprintf(v->url, sizeof(v->url), "%s", req->url);
    for (size_t i = 0; i < req->nheaders; i++) {
        if (str_eq(req->headers[i].name, "Authorization"))
            snprintf(v->auth, sizeof(v->auth), "%s", req->headers[i].value);
    }
    snprintf(v->body, sizeof(v->body), "%.*s", (int)req->body_len, (const char *)req->body);
    resp->status = v->answer;
    buf_appends(&resp->body, v->answer == 200 ? "{\"id\":\"vapi-msg-1\"}" : "{}");
    return 0;
}

static void test_vapi(void **state)
{
    (void)state;
    struct vapi_seen v = {.answer = 200};
    struct httpc_ops ops = {.do_request = vapi_do, .ctx = &v};
    httpc_set_ops(&ops);
    struct channel_config c = {.vapi_url = "http://vapi.test/messages", .vapi_key = "vk"};
    struct channel_provider *p = channel_provider_new(&c);
    assert_string_equal(p->name, "vapi");
    struct channel_message m = {
        .to_phone = PHONE1, .body = "Merhaba", .language = "tr", .kind = "reply"};
    struct channel_result r;
    OK(p->send(p, &m, &r, e));
    assert_int_equal(r.outcome, CHANNEL_SENT);
    assert_string_equal(r.provider_id, "vapi-msg-1");
    assert_string_equal(v.url, "http://vapi.test/messages");
    assert_string_equal(v.auth, "Bearer vk");
    assert_string_equal(v.body, "{\"to\":\"" PHONE1 "\",\"message\":\"Merhaba\"}");
    v.answer = 429;
    OK(p->send(p, &m, &r, e));
    assert_int_equal(r.outcome, CHANNEL_RETRY);
    v.answer = 401;
    OK(p->send(p, &m, &r, e));
    assert_int_equal(r.outcome, CHANNEL_AUTH_FAILED);
    v.answer = 400;
    OK(p->send(p, &m, &r, e));
    assert_int_equal(r.outcome, CHANNEL_PERMANENT_FAILURE);
    httpc_set_ops(NULL);
    p->free(p);
}

/* ======================== delivery end to end ======================== */

/* A manual clock that worker threads may read while the test moves it. */
struct tclock {
    struct clock base;
    _Atomic int64_t now;
};

static int64_t tclock_now(struct clock *c)
{
    return atomic_load(&((struct tclock *)c)->now);
}

struct fx {
    struct testdb t;
    struct db *db;
    struct db_conn *c;
    struct arena a;
    struct tclock clk;
    struct fake_whatsapp *fake;
    struct channel_provider *p;
    struct notify_delivery d;
    struct job_registry *reg;
    struct job_workers *w;
    int64_t tenant, b1, b2, window;
};

static enum db_backend backend;

static int fx_setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    *state = f;
    struct db_options opts = {.pool_size = 16};
    f->db = testdb_open_migrated(&f->t, backend, "channel", &opts);
    f->c = testdb_acquire(f->db);
    arena_init(&f->a);
    f->clk.base.now_ms = tclock_now;
    atomic_store(&f->clk.now, NOW);
    OK(account_tenant_create(f->c, "shop", NOW, &f->tenant, e));
    bool created;
    struct flash_buyer b = {.id = "B1",
                            .phone = PHONE1,
                            .name = "Ayşe",
                            .loc = {41.0, 29.0, "", ""},
                            .consent = true,
                            .language = "tr"};
    OK(flash_store_buyer_upsert(f->c, f->tenant, &b, NOW, &f->a, &created, e));
    f->b1 = b.pk;
    struct flash_buyer b2 = {.id = "B2",
                             .phone = PHONE2,
                             .name = "John",
                             .loc = {41.0, 29.0, "", ""},
                             .consent = true,
                             .language = "en"};
    OK(flash_store_buyer_upsert(f->c, f->tenant, &b2, NOW, &f->a, &created, e));
    f->b2 = b2.pk;
    struct flash_seller s = {.id = "S1",
                             .phone = "+905550000001",
                             .name = "M Coffee",
                             .category = "coffee",
                             .loc = {41.0, 29.0, "", ""},
                             .capacity = 3};
    OK(flash_store_seller_upsert(f->c, f->tenant, &s, NOW, &f->a, &created, e));
    struct flash_window w = {.seller_pk = s.pk,
                             .title = "latte",
                             .start_ms = NOW,
                             .end_ms = NOW + 600000,
                             .status = FLASH_WINDOW_SCHEDULED,
                             .capacity = 3};
    OK(flash_store_window_insert(f->c, f->tenant, &w, NULL, 0, NOW, e));
    f->window = w.pk;

    f->fake = fake_whatsapp_start(TOKEN, PHONE_ID);
    struct channel_config *cfg = &f->d.cfg;
    cfg->api_url = fake_whatsapp_url(f->fake);
    cfg->token = TOKEN;
    cfg->phone_number_id = PHONE_ID;
    cfg->rate_per_s = 0;
    cfg->recipient_gap_ms = 0;
    cfg->quiet_hours = "";
    cfg->tz_offset_min = 180;
    cfg->n_templates = 2;
    str_copy(cfg->templates[0].kind, sizeof(cfg->templates[0].kind), "OFFER");
    cfg->templates[0].name = "iceshop_offer";
    str_copy(cfg->templates[1].kind, sizeof(cfg->templates[1].kind), "CONFIRMATION");
    cfg->templates[1].name = "iceshop_confirmation";
    f->p = channel_provider_new(cfg);
    f->d.provider = f->p;
    f->reg = job_registry_new();
    OK(notify_jobs_register_with(f->reg, &f->d, e));
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    job_workers_stop(f->w, 5000);
    job_registry_free(f->reg);
    f->p->free(f->p);
    fake_whatsapp_stop(f->fake);
    arena_release(&f->a);
    db_conn_release(f->c);
    db_close(f->db);
    testdb_remove(&f->t);
    free(f);
    return 0;
}

static void start_workers(struct fx *f)
{
    struct job_workers_options o = {
        .threads = 2, .poll_ms = 10, .backoff_base_ms = 1000, .backoff_cap_ms = 60000};
    OK(job_workers_start(f->db, f->reg, &f->clk.base, &o, &f->w, e));
}

static void set_clock(struct fx *f, int64_t ms)
{
    atomic_store(&f->clk.now, ms);
    job_workers_wake(f->w);
}

static int64_t enqueue(struct fx *f, int64_t buyer, const struct notify_kind *kind,
                       const char *lang)
{
    struct flash_msg_vars v = {.name = "Ayşe",
                               .seller_name = "M Coffee",
                               .title = "latte",
                               .product = "latte",
                               .discount = 20,
                               .minutes = 10,
                               .start_hhmm = "12:10",
                               .end_hhmm = "12:20",
                               .code = "K7P2QX"};
    struct notify_message m = {.recipient_kind = "buyer",
                               .recipient_pk = buyer,
                               .recipient_id = buyer == f->b1 ? "B1" : "B2",
                               .phone = buyer == f->b1 ? PHONE1 : PHONE2,
                               .language = lang,
                               .about_kind = "window",
                               .about_pk = f->window};
    OK(notify_enqueue(f->c, f->tenant, kind, &m, &v, tclock_now(&f->clk.base), e));
    if (f->w)
        job_workers_wake(f->w);
    return m.pk;
}

/* The person wrote to us at `at` (what the inbound side records). */
static void wrote_at(struct fx *f, const char *phone, int64_t at)
{
    OK(contacts_touch_inbound(f->c, f->tenant, phone, at, e));
}

static struct notify_message message(struct fx *f, int64_t pk)
{
    struct notify_message m;
    OK(notify_get(f->c, f->tenant, pk, &f->a, &m, e));
    return m;
}

/* Wait (real time) for the message to leave pending. */
static struct notify_message wait_message(struct fx *f, int64_t pk)
{
    for (int i = 0; i < 4000; i++) {
        struct notify_message m = message(f, pk);
        if (m.status != NOTIFY_PENDING)
            return m;
        sleep_ms(5);
    }
    fail_msg("message %lld stayed pending", (long long)pk);
    return message(f, pk);
}

static struct job_row job_by_key(struct fx *f, const char *key)
{
    struct db_stmt *s;
    OK(db_prepare(f->c, &s, "SELECT id FROM jobs WHERE unique_key = ?", e));
    db_bind_text(s, 1, key);
    struct err se;
    err_init(&se);
    int st = db_step(s, &se);
    int64_t id = st == DB_ROW ? db_col_i64(s, 0) : 0;
    db_stmt_done(s);
    if (!id)
        fail_msg("no job %s", key);
    struct job_row r;
    OK(jobs_get(f->c, JOBS_ALL_TENANTS, true, id, &f->a, &r, e));
    return r;
}

/* Wait for the message's first delivery job to reach `state` with `attempts`. */
static struct job_row wait_job(struct fx *f, int64_t pk, enum job_state state, int attempts)
{
    char key[64];
    snprintf(key, sizeof(key), "notify:%lld", (long long)pk);
    for (int i = 0; i < 4000; i++) {
        struct job_row r = job_by_key(f, key);
        if (r.state == state && r.attempts >= attempts)
            return r;
        sleep_ms(5);
    }
    fail_msg("job %s never reached %s", key, job_state_name(state));
    return job_by_key(f, key);
}

static int64_t count(struct fx *f, const char *sql)
{
    struct db_stmt *s;
    OK(db_prepare(f->c, &s, sql, e));
    struct err se;
    err_init(&se);
    int st = db_step(s, &se);
    int64_t n = st == DB_ROW ? db_col_i64(s, 0) : -1;
    db_stmt_done(s);
    return n;
}

static struct fake_wa_request request(struct fx *f, size_t i)
{
    struct fake_wa_request q;
    if (!fake_whatsapp_get(f->fake, i, &q))
        fail_msg("the fake has no request %zu", i);
    return q;
}

static void test_deliver_inside_window(void **state)
{
    struct fx *f = *state;
    wrote_at(f, PHONE1, NOW - 2 * HOUR_MS);
    start_workers(f);
    int64_t conf = enqueue(f, f->b1, &flash_msg_confirmation, "tr");
    struct notify_message m = wait_message(f, conf);
    assert_int_equal(m.status, NOTIFY_SENT);
    assert_string_equal(m.provider_id, "wamid.1");
    struct fake_wa_request q = request(f, 0);
    assert_string_equal(q.to, "905320000001");
    assert_string_equal(q.type, "text");
    assert_string_equal(q.text, m.body);
    /* An offer inside the window: free text with the reply buttons. */
    int64_t offer = enqueue(f, f->b1, &flash_msg_offer, "tr");
    m = wait_message(f, offer);
    assert_int_equal(m.status, NOTIFY_SENT);
    q = request(f, 1);
    assert_string_equal(q.type, "interactive");
    assert_string_equal(q.interactive_type, "button");
    char join[32];
    snprintf(join, sizeof(join), "join:%lld", (long long)f->window);
    assert_string_equal(q.button_ids[0], join);
    assert_string_equal(q.button_titles[0], "Katıl");
    assert_int_equal(fake_whatsapp_count(f->fake), 2);
    assert_int_equal(fake_whatsapp_rejected(f->fake, NULL, 0), 0);
}

static void test_deliver_outside_window(void **state)
{
    struct fx *f = *state;
    wrote_at(f, PHONE2, NOW - 25 * HOUR_MS); /* B2 wrote, but too long ago; B1 never did */
    start_workers(f);
    int64_t offer = enqueue(f, f->b1, &flash_msg_offer, "tr");
    struct notify_message m = wait_message(f, offer);
    assert_int_equal(m.status, NOTIFY_SENT);
    struct fake_wa_request q = request(f, 0);
    assert_string_equal(q.type, "template");
    assert_string_equal(q.template_name, "iceshop_offer");
    assert_string_equal(q.template_lang, "tr");
    assert_string_equal(q.template_param, m.body);

    int64_t conf = enqueue(f, f->b2, &flash_msg_confirmation, "en");
    m = wait_message(f, conf);
    assert_int_equal(m.status, NOTIFY_SENT);
    q = request(f, 1);
    assert_string_equal(q.to, "905320000002");
    assert_string_equal(q.template_name, "iceshop_confirmation");
    assert_string_equal(q.template_lang, "en");

    /* No template for this kind: never free text outside the window. */
    int64_t open = enqueue(f, f->b1, &flash_msg_window_open, "tr");
    m = wait_message(f, open);
    assert_int_equal(m.status, NOTIFY_FAILED);
    assert_string_equal(m.error, "no template for window_open outside the 24-hour window");
    assert_int_equal(fake_whatsapp_count(f->fake), 2);
}

static void test_deliver_rate_limited_then_sent(void **state)
{
    struct fx *f = *state;
    wrote_at(f, PHONE1, NOW - HOUR_MS);
    fake_whatsapp_fail_next(f->fake, 130429, 1);
    start_workers(f);
    int64_t pk = enqueue(f, f->b1, &flash_msg_confirmation, "tr");
    struct job_row j = wait_job(f, pk, JOB_STATE_PENDING, 1);
    assert_non_null(strstr(j.last_error, "130429"));
    assert_int_equal(message(f, pk).status, NOTIFY_PENDING);
    set_clock(f, NOW + HOUR_MS); /* past the backoff */
    struct notify_message m = wait_message(f, pk);
    assert_int_equal(m.status, NOTIFY_SENT);
    assert_string_equal(m.provider_id, "wamid.1");
    wait_job(f, pk, JOB_STATE_DONE, 2);
    assert_int_equal(fake_whatsapp_count(f->fake), 2);
    assert_int_equal(request(f, 0).answered_code, 130429);
    assert_int_equal(request(f, 1).answered_code, 0);
}

/* The network fails the first `fail` requests (nothing reaches the provider), then passes. */
struct flaky_net {
    _Atomic int calls;
    int fail;
};

static int flaky_do(void *ctx, const struct httpc_request *req, struct httpc_response *resp,
                    struct err *e)
{
    struct flaky_net *n = ctx;
    if (atomic_fetch_add(&n->calls, 1) < n->fail)
        return err_set(e, ERR_UPSTREAM, "connection refused");
    return httpc_ops_curl()->do_request(httpc_ops_curl()->ctx, req, resp, e);
}

/* A send that never reached the provider is retried and sent once; nothing is lost. */
static void test_deliver_network_down_then_sent(void **state)
{
    struct fx *f = *state;
    wrote_at(f, PHONE1, NOW - HOUR_MS);
    struct flaky_net net = {.fail = 2};
    struct httpc_ops ops = {.do_request = flaky_do, .ctx = &net};
    httpc_set_ops(&ops);
    start_workers(f);
    int64_t pk = enqueue(f, f->b1, &flash_msg_confirmation, "tr");
    struct job_row j = wait_job(f, pk, JOB_STATE_PENDING, 1);
    assert_non_null(strstr(j.last_error, "connection refused"));
    assert_int_equal(message(f, pk).status, NOTIFY_PENDING);
    set_clock(f, NOW + HOUR_MS);
    wait_job(f, pk, JOB_STATE_PENDING, 2);
    set_clock(f, NOW + 2 * HOUR_MS);
    struct notify_message m = wait_message(f, pk);
    assert_int_equal(m.status, NOTIFY_SENT);
    wait_job(f, pk, JOB_STATE_DONE, 3);
    assert_int_equal(fake_whatsapp_count(f->fake), 1); /* sent once */
    assert_int_equal(atomic_load(&net.calls), 3);
    job_workers_stop(f->w, 5000); /* no worker uses the flaky network after this */
    f->w = NULL;
    httpc_set_ops(NULL);
}

static void test_deliver_reengagement_template(void **state)
{
    struct fx *f = *state;
    wrote_at(f, PHONE1, NOW - HOUR_MS); /* we think the window is open; Meta disagrees */
    fake_whatsapp_fail_next(f->fake, 131047, 1);
    start_workers(f);
    int64_t pk = enqueue(f, f->b1, &flash_msg_offer, "tr");
    struct notify_message m = wait_message(f, pk);
    assert_int_equal(m.status, NOTIFY_SENT);
    wait_job(f, pk, JOB_STATE_DONE, 1);
    assert_int_equal(fake_whatsapp_count(f->fake), 2);
    assert_string_equal(request(f, 0).type, "interactive");
    assert_int_equal(request(f, 0).answered_code, 131047);
    assert_string_equal(request(f, 1).type, "template");
    assert_string_equal(request(f, 1).template_name, "iceshop_offer");
}

static void test_deliver_auth_alert(void **state)
{
    struct fx *f = *state;
    wrote_at(f, PHONE1, NOW - HOUR_MS);
    fake_whatsapp_fail_next(f->fake, 190, 2);
    start_workers(f);
    int64_t pk = enqueue(f, f->b1, &flash_msg_confirmation, "tr");
    struct job_row j = wait_job(f, pk, JOB_STATE_PENDING, 1);
    assert_non_null(strstr(j.last_error, "190"));
    assert_int_equal(message(f, pk).status, NOTIFY_PENDING);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM alerts WHERE source = 'whatsapp' AND "
                              "code = '190' AND resolved_at IS NULL"),
                     1);
    /* A second failure does not pile up alerts. */
    set_clock(f, NOW + HOUR_MS);
    wait_job(f, pk, JOB_STATE_PENDING, 2);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM alerts"), 1);
    assert_int_equal(count(f, "SELECT occurrences FROM alerts WHERE kind = 'whatsapp.auth'"), 2);
    assert_int_equal(message(f, pk).status, NOTIFY_PENDING);
    /* The token works again: the message goes out and the alert is resolved. */
    set_clock(f, NOW + 4 * HOUR_MS);
    assert_int_equal(wait_message(f, pk).status, NOTIFY_SENT);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM alerts WHERE resolved_at IS NULL"), 0);
}

static void test_deliver_permanent(void **state)
{
    struct fx *f = *state;
    wrote_at(f, PHONE1, NOW - HOUR_MS);
    fake_whatsapp_fail_next(f->fake, 131026, 1);
    start_workers(f);
    int64_t pk = enqueue(f, f->b1, &flash_msg_confirmation, "tr");
    struct notify_message m = wait_message(f, pk);
    assert_int_equal(m.status, NOTIFY_FAILED);
    assert_non_null(strstr(m.error, "131026"));
    assert_non_null(strstr(m.error, "undeliverable"));
    wait_job(f, pk, JOB_STATE_DONE, 1);
    assert_int_equal(fake_whatsapp_count(f->fake), 1);
}

static void test_deliver_opt_out(void **state)
{
    struct fx *f = *state;
    wrote_at(f, PHONE1, NOW - HOUR_MS);
    OK(flash_store_buyer_set_consent(f->c, f->tenant, f->b1, false, NOW, e));
    start_workers(f);
    int64_t offer = enqueue(f, f->b1, &flash_msg_offer, "tr");
    int64_t reminder = enqueue(f, f->b1, &flash_msg_reminder, "tr");
    int64_t conf = enqueue(f, f->b1, &flash_msg_confirmation, "tr");
    struct notify_message m = wait_message(f, offer);
    assert_int_equal(m.status, NOTIFY_FAILED);
    assert_string_equal(m.error, "opted out");
    m = wait_message(f, reminder);
    assert_int_equal(m.status, NOTIFY_FAILED);
    assert_string_equal(m.error, "opted out");
    m = wait_message(f, conf);
    assert_int_equal(m.status, NOTIFY_SENT);
    assert_int_equal(fake_whatsapp_count(f->fake), 1);
    assert_string_equal(request(f, 0).type, "text");
    /* Opted in again: offers flow. */
    OK(flash_store_buyer_set_consent(f->c, f->tenant, f->b1, true, NOW, e));
    int64_t again = enqueue(f, f->b1, &flash_msg_offer, "tr");
    m = wait_message(f, again);
    assert_int_equal(m.status, NOTIFY_SENT);
    assert_int_equal(fake_whatsapp_count(f->fake), 2);
}

static void test_deliver_quiet_hours(void **state)
{
    struct fx *f = *state;
    f->d.cfg.quiet_hours = "22:00-08:00";
    int64_t night = local_at(23, 10);
    int64_t morning = local_at(32, 0);
    atomic_store(&f->clk.now, night);
    wrote_at(f, PHONE1, night - HOUR_MS);
    start_workers(f);
    int64_t offer = enqueue(f, f->b1, &flash_msg_offer, "tr");
    int64_t conf = enqueue(f, f->b1, &flash_msg_confirmation, "tr");
    /* Transactional messages do not wait. */
    struct notify_message m = wait_message(f, conf);
    assert_int_equal(m.status, NOTIFY_SENT);
    /* The offer's job is done, a new one waits for the morning, nothing was sent. */
    wait_job(f, offer, JOB_STATE_DONE, 1);
    assert_int_equal(message(f, offer).status, NOTIFY_PENDING);
    char key[96];
    snprintf(key, sizeof(key), "notify:%lld:q%lld", (long long)offer, (long long)morning);
    struct job_row later = job_by_key(f, key);
    assert_int_equal(later.state, JOB_STATE_PENDING);
    assert_int_equal(later.run_at_ms, morning);
    assert_int_equal(fake_whatsapp_count(f->fake), 1);
    /* Morning: it goes, still inside the window (the buyer wrote 10 hours before). */
    set_clock(f, morning);
    m = wait_message(f, offer);
    assert_int_equal(m.status, NOTIFY_SENT);
    assert_int_equal(fake_whatsapp_count(f->fake), 2);
    assert_string_equal(request(f, 1).type, "interactive");
}

static void test_deliver_console(void **state)
{
    struct fx *f = *state;
    struct channel_provider *console = channel_provider_console();
    struct notify_delivery d = {.provider = console, .cfg = f->d.cfg};
    struct job_registry *reg = job_registry_new();
    OK(notify_jobs_register_with(reg, &d, e));
    job_registry_free(f->reg);
    f->reg = reg;
    start_workers(f);
    /* Outside the window and without a template, the console still delivers. */
    int64_t open = enqueue(f, f->b1, &flash_msg_window_open, "tr");
    struct notify_message m = wait_message(f, open);
    assert_int_equal(m.status, NOTIFY_DELIVERED);
    assert_true(str_has_prefix(m.provider_id, "console:"));
    assert_int_equal(fake_whatsapp_count(f->fake), 0);
    job_workers_stop(f->w, 5000);
    f->w = NULL;
    console->free(console);
}

int main(void)
{
    struct err e;
    err_init(&e);
    if (httpc_global_init(&e))
        return 1;
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_quiet_hours), cmocka_unit_test(test_template_names),
        cmocka_unit_test(test_config_env),  cmocka_unit_test(test_console),
        cmocka_unit_test(test_vapi),
    };
    const struct CMUnitTest adapter[] = {
        cmocka_unit_test_setup_teardown(test_meta_text, afx_setup, afx_teardown),
        cmocka_unit_test_setup_teardown(test_meta_buttons, afx_setup, afx_teardown),
        cmocka_unit_test_setup_teardown(test_meta_template, afx_setup, afx_teardown),
        cmocka_unit_test_setup_teardown(test_meta_location, afx_setup, afx_teardown),
        cmocka_unit_test_setup_teardown(test_meta_errors, afx_setup, afx_teardown),
        cmocka_unit_test_setup_teardown(test_meta_bad_token_and_network, afx_setup, afx_teardown),
        cmocka_unit_test_setup_teardown(test_meta_pace, afx_setup, afx_teardown),
    };
    const struct CMUnitTest db_tests[] = {
        cmocka_unit_test_setup_teardown(test_deliver_inside_window, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_deliver_outside_window, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_deliver_rate_limited_then_sent, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_deliver_network_down_then_sent, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_deliver_reengagement_template, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_deliver_auth_alert, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_deliver_permanent, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_deliver_opt_out, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_deliver_quiet_hours, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_deliver_console, fx_setup, fx_teardown),
    };
    int failed = cmocka_run_group_tests_name("channel_policy", pure, NULL, NULL);
    failed += cmocka_run_group_tests_name("channel_meta", adapter, NULL, NULL);
    failed += TESTDB_RUN_GROUPS("channel_delivery", db_tests, &backend);
    httpc_global_cleanup();
    return failed ? 1 : 0;
}
