/* SPDX-License-Identifier: MIT */
/*
 * Outbound WhatsApp through the real binary against a local fake Cloud API: an offer to a buyer
 * who has not written for 24 hours goes out as the approved template, to one who has as text
 * with "Katıl" / "Hayır" buttons; a rate-limited send (130429) is retried until it succeeds;
 * delivery statuses from Meta's webhook move the outbox forward. Runs on TEST_BACKEND.
 */
#include "core/crypto.h"
#include "support/fake_whatsapp.h"
#include "support/harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#define ADMIN      HARNESS_ADMIN_KEY
#define TOKEN      "fake-cloud-api-token"
#define PHONE_ID   "1122334455"
#define APP_SECRET "meta-app-secret-for-tests"

static struct server srv;
static struct fake_whatsapp *fake;

static int setup(void **state)
{
    (void)state;
    fake = fake_whatsapp_start(TOKEN, PHONE_ID);
    if (!fake)
        return -1;
    static char api[256];
    snprintf(api, sizeof(api), "ICESHOP_WHATSAPP_API_URL=%s", fake_whatsapp_url(fake));
    const char *env[] = {api,
                         "ICESHOP_WHATSAPP_TOKEN=" TOKEN,
                         "ICESHOP_WHATSAPP_PHONE_NUMBER_ID=" PHONE_ID,
                         "ICESHOP_WHATSAPP_APP_SECRET=" APP_SECRET,
                         "ICESHOP_WHATSAPP_TEMPLATE_OFFER=flash_offer",
                         "ICESHOP_JOB_BACKOFF_MS=200",
                         "ICESHOP_WHATSAPP_RECIPIENT_GAP_MS=0",
                         NULL};
    char url[600];
    harness_fresh_db(url, sizeof(url));
    if (server_start(&srv, url, env) != 0)
        return -1;
    /* windows open only when a test asks: no automatic scans */
    return harness_manual_scans(&srv);
}

static int teardown(void **state)
{
    (void)state;
    int rc = server_stop(&srv);
    fake_whatsapp_stop(fake);
    return rc == 0 ? 0 : -1;
}

static void post(const char *path, const char *body, long want)
{
    struct resp r;
    assert_int_equal(http_post_json(&srv, path, ADMIN, body, &r), 0);
    if (r.status != want)
        fprintf(stderr, "POST %s -> %ld: %s\n", path, r.status, r.body);
    assert_int_equal(r.status, want);
    resp_free(&r);
}

static long webhook(const char *body)
{
    char hex[SEC_HMAC_SHA256_HEX_SIZE], sig[128];
    sec_hmac_sha256_hex(hex, APP_SECRET, strlen(APP_SECRET), body, strlen(body));
    snprintf(sig, sizeof(sig), "X-Hub-Signature-256: sha256=%s", hex);
    const char *hdr[] = {sig, NULL};
    struct resp r;
    assert_int_equal(http_req(&srv, "POST", "/api/whatsapp/webhook", NULL, "application/json", body,
                              strlen(body), hdr, &r),
                     0);
    long st = r.status;
    resp_free(&r);
    return st;
}

/* Wait until the fake has seen `n` requests to `to` (digits, no '+'); fills the last one. */
static bool wait_requests(const char *to, size_t n, struct fake_wa_request *last)
{
    for (int i = 0; i < 150; i++) {
        size_t seen = 0;
        for (size_t k = 0; k < fake_whatsapp_count(fake); k++) {
            struct fake_wa_request q;
            if (fake_whatsapp_get(fake, k, &q) && strcmp(q.to, to) == 0) {
                seen++;
                *last = q;
            }
        }
        if (seen >= n)
            return true;
        harness_sleep_ms(100);
    }
    return false;
}

static void test_window_decides_text_or_template(void **state)
{
    (void)state;
    post("/api/sellers/register",
         "{\"id\":\"S1\",\"phone_number\":\"+905320000001\",\"name\":\"M Coffee\",\"category\":"
         "\"coffee\",\"location\":{\"lat\":40.987,\"lng\":29.026},\"max_discount\":25,"
         "\"auto_approve\":true}",
         201);
    post("/api/buyers/register",
         "{\"id\":\"B1\",\"phone_number\":\"+905330000001\",\"location\":{\"lat\":40.9879,"
         "\"lng\":29.026}}",
         201);
    post("/api/buyers/register",
         "{\"id\":\"B2\",\"phone_number\":\"+905330000002\",\"language\":\"tr\",\"location\":"
         "{\"lat\":40.9885,\"lng\":29.027}}",
         201);
    /* B2 writes to us (opening the 24-hour window); B1 never has */
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{"
             "\"field\":\"messages\",\"value\":{\"messaging_product\":\"whatsapp\",\"messages\":"
             "[{\"from\":\"905330000002\",\"id\":\"wamid.in.1\",\"timestamp\":\"%lld\",\"type\":"
             "\"text\",\"text\":{\"body\":\"Latte istiyorum\"}}]}}]}]}",
             (long long)time(NULL));
    assert_int_equal(webhook(body), 200);
    post("/api/buyers/signal",
         "{\"buyer_id\":\"B1\",\"text\":\"latte\",\"product\":\"latte\","
         "\"category\":\"coffee\"}",
         201);
    struct fake_wa_request q;
    assert_true(wait_requests("905330000002", 1, &q)); /* the reply to B2's wish */
    assert_string_equal(q.type, "text");

    post("/api/campaigns/generate", NULL, 200);
    assert_true(wait_requests("905330000001", 1, &q));
    assert_string_equal(q.type, "template");
    assert_string_equal(q.template_name, "flash_offer");
    assert_string_equal(q.template_lang, "tr");
    assert_true(strlen(q.template_param) > 10);
    assert_true(wait_requests("905330000002", 2, &q));
    assert_string_equal(q.type, "interactive");
    assert_string_equal(q.interactive_type, "button");
    assert_string_equal(q.button_titles[0], "Katıl");
    assert_true(strncmp(q.button_ids[0], "join:", 5) == 0);
    assert_true(strncmp(q.button_ids[1], "decline:", 8) == 0);
}

static void test_rate_limited_then_sent(void **state)
{
    (void)state;
    size_t before = fake_whatsapp_count(fake);
    fake_whatsapp_fail_next(fake, 130429, 1);
    post("/api/whatsapp/test-notification", "{\"to\":\"B2\",\"message\":\"Deneme mesajı\"}", 202);
    struct fake_wa_request q;
    bool ok = false;
    for (int i = 0; i < 100 && !ok; i++) {
        ok = fake_whatsapp_count(fake) >= before + 2;
        if (!ok)
            harness_sleep_ms(100);
    }
    assert_true(ok);
    assert_true(fake_whatsapp_get(fake, before, &q));
    assert_int_equal(q.answered_code, 130429);
    assert_true(fake_whatsapp_get(fake, before + 1, &q));
    assert_int_equal(q.answered_code, 0);
    assert_string_equal(q.text, "Deneme mesajı");
}

static int count_status(const char *status)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/messages?status=%s&limit=500", status);
    struct resp r;
    assert_int_equal(http_get(&srv, path, ADMIN, &r), 0);
    int n = (int)json_array_size(json_object_get(r.json, "messages"));
    resp_free(&r);
    return n;
}

static void test_statuses_move_the_outbox(void **state)
{
    (void)state;
    int delivered = count_status("delivered");
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{"
             "\"field\":\"messages\",\"value\":{\"messaging_product\":\"whatsapp\",\"statuses\":"
             "[{\"id\":\"wamid.1\",\"status\":\"delivered\",\"timestamp\":\"%lld\","
             "\"recipient_id\":\"905330000002\"}]}}]}]}",
             (long long)time(NULL));
    assert_int_equal(webhook(body), 200);
    assert_int_equal(count_status("delivered"), delivered + 1);
    /* "read" before "delivered" would not move it back; a later "read" moves it on */
    snprintf(body, sizeof(body),
             "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{"
             "\"field\":\"messages\",\"value\":{\"messaging_product\":\"whatsapp\",\"statuses\":"
             "[{\"id\":\"wamid.1\",\"status\":\"read\",\"timestamp\":\"%lld\","
             "\"recipient_id\":\"905330000002\"}]}}]}]}",
             (long long)time(NULL));
    assert_int_equal(webhook(body), 200);
    assert_int_equal(count_status("delivered"), delivered);
    assert_true(count_status("read") >= 1);
}

static void test_bad_token_raises_an_alert(void **state)
{
    (void)state;
    fake_whatsapp_fail_next_status(fake, 190, 401, 1000);
    post("/api/whatsapp/test-notification", "{\"to\":\"B2\",\"message\":\"Token testi\"}", 202);
    json_t *alerts = NULL;
    for (int i = 0; i < 100; i++) {
        struct resp r;
        assert_int_equal(http_get(&srv, "/health/detailed", HARNESS_ADMIN_KEY, &r), 0);
        json_decref(alerts);
        alerts = json_incref(json_object_get(json_object_get(r.json, "tenant"), "alerts"));
        resp_free(&r);
        if (json_integer_value(json_object_get(alerts, "open")) >= 1)
            break;
        harness_sleep_ms(100);
    }
    assert_true(json_integer_value(json_object_get(alerts, "open")) >= 1);
    json_t *latest = json_object_get(alerts, "latest");
    assert_string_equal(json_string_value(json_object_get(latest, "code")), "190");
    assert_string_equal(json_string_value(json_object_get(latest, "source")), "whatsapp");
    assert_string_equal(json_string_value(json_object_get(latest, "kind")), "whatsapp.auth");
    json_decref(alerts);
    fake_whatsapp_reset(fake); /* the token works again */
}

static long call_as(const char *key, const char *method, const char *path, const char *body)
{
    struct resp r;
    assert_int_equal(http_req(&srv, method, path, key, "application/json", body,
                              body ? strlen(body) : 0, NULL, &r),
                     0);
    long st = r.status;
    if (st >= 300)
        fprintf(stderr, "%s %s -> %ld: %s\n", method, path, st, r.body);
    resp_free(&r);
    return st;
}

/*
 * A tenant with its own WhatsApp settings sends through its own number and token; a tenant
 * without them never sends through the default tenant's number (the console takes it).
 */
static void test_tenant_sends_through_its_own_number(void **state)
{
    (void)state;
    struct fake_whatsapp *own = fake_whatsapp_start("izmir-token", "9988776655");
    assert_non_null(own);
    char out[256], izmir[200], ankara[200];
    assert_int_equal(harness_cli(srv.db_url, "tenants create izmir", out, sizeof(out)), 0);
    assert_int_equal(harness_cli(srv.db_url, "tenants create ankara", out, sizeof(out)), 0);
    assert_int_equal(
        harness_cli(srv.db_url, "keys create --tenant izmir --role admin", izmir, sizeof(izmir)),
        0);
    assert_int_equal(
        harness_cli(srv.db_url, "keys create --tenant ankara --role admin", ankara, sizeof(ankara)),
        0);
    izmir[strcspn(izmir, "\r\n")] = '\0';
    ankara[strcspn(ankara, "\r\n")] = '\0';
    char settings[512];
    snprintf(settings, sizeof(settings),
             "{\"access_token\":\"izmir-token\",\"phone_number_id\":\"9988776655\","
             "\"app_secret\":\"izmir-app-secret\",\"api_url\":\"%s\"}",
             fake_whatsapp_url(own));
    assert_int_equal(call_as(izmir, "PUT", "/api/integrations/whatsapp", settings), 200);
    const char *buyer = "{\"id\":\"T1\",\"phone_number\":\"+905337770001\",\"location\":{"
                        "\"lat\":38.42,\"lng\":27.14}}";
    assert_int_equal(call_as(izmir, "POST", "/api/buyers/register", buyer), 201);
    assert_int_equal(call_as(ankara, "POST", "/api/buyers/register", buyer), 201);
    size_t default_before = fake_whatsapp_count(fake);
    /* the buyer writes to izmir's number (routed by its phone_number_id): the window opens */
    char body[1200], hex[SEC_HMAC_SHA256_HEX_SIZE], sig[128];
    snprintf(body, sizeof(body),
             "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{"
             "\"field\":\"messages\",\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":"
             "{\"display_phone_number\":\"902320000000\",\"phone_number_id\":\"9988776655\"},"
             "\"messages\":[{\"from\":\"905337770001\",\"id\":\"wamid.izmir.out.1\","
             "\"timestamp\":\"%lld\",\"type\":\"text\",\"text\":{\"body\":\"merhaba\"}}]}}]}]}",
             (long long)time(NULL));
    sec_hmac_sha256_hex(hex, "izmir-app-secret", 16, body, strlen(body));
    snprintf(sig, sizeof(sig), "X-Hub-Signature-256: sha256=%s", hex);
    const char *hdr[] = {sig, NULL};
    struct resp r;
    assert_int_equal(http_req(&srv, "POST", "/api/whatsapp/webhook", NULL, "application/json", body,
                              strlen(body), hdr, &r),
                     0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    /* its answer goes out through izmir's number */
    WAIT_FOR(fake_whatsapp_accepted(own) >= 1, 20000);
    assert_int_equal(fake_whatsapp_accepted(own), 1);
    assert_int_equal(call_as(izmir, "POST", "/api/whatsapp/test-notification",
                             "{\"to\":\"T1\",\"message\":\"izmir says hi\"}"),
                     202);
    assert_int_equal(call_as(ankara, "POST", "/api/whatsapp/test-notification",
                             "{\"to\":\"T1\",\"message\":\"ankara says hi\"}"),
                     202);
    /* and so does the notification */
    WAIT_FOR(fake_whatsapp_accepted(own) >= 2, 20000);
    assert_int_equal(fake_whatsapp_accepted(own), 2);
    bool said = false;
    for (size_t k = 0; k < 2; k++) {
        struct fake_wa_request q;
        assert_true(fake_whatsapp_get(own, k, &q));
        assert_string_equal(q.to, "905337770001");
        said |= strstr(q.text, "izmir says hi") != NULL;
    }
    assert_true(said);
    /* ankara's message was delivered by the console, not through the default number */
    WAIT_FOR(harness_db_i64(srv.db_url, "SELECT COUNT(*) FROM messages m JOIN tenants t ON "
                                        "t.id = m.tenant_id WHERE t.name = 'ankara' AND "
                                        "m.status = 'delivered'") == 1,
             20000);
    assert_int_equal(harness_db_i64(srv.db_url, "SELECT COUNT(*) FROM messages m JOIN tenants t "
                                                "ON t.id = m.tenant_id WHERE t.name = 'ankara' "
                                                "AND m.status = 'delivered'"),
                     1);
    /* and nothing for this person ever reached the default tenant's number */
    for (size_t k = default_before; k < fake_whatsapp_count(fake); k++) {
        struct fake_wa_request q;
        if (fake_whatsapp_get(fake, k, &q))
            assert_string_not_equal(q.to, "905337770001");
    }
    fake_whatsapp_stop(own);
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_decides_text_or_template),
        cmocka_unit_test(test_rate_limited_then_sent),
        cmocka_unit_test(test_statuses_move_the_outbox),
        cmocka_unit_test(test_bad_token_raises_an_alert),
        cmocka_unit_test(test_tenant_sends_through_its_own_number),
    };
    return cmocka_run_group_tests_name(harness_backend(), tests, setup, teardown);
}
