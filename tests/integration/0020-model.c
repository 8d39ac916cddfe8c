/* SPDX-License-Identifier: MIT */
/*
 * The language model beside the rules, over real HTTP: a buyer's message the rules are unsure of
 * ("bu aralar pek mesaj istemiyorum galiba": an opt-out at 0.7, which alone would be asked back)
 * goes to a local OpenAI-compatible fake (tests/support/fake_llm.c); its checked answer decides.
 * A model that fails (5xx until the job gives up), or answers outside the intent schema, leaves
 * the decision to the rules, and the person is asked back as without a model. The model is the
 * tenant's: another tenant uses its own llm integration, or none.
 * Runs on the backend TEST_BACKEND selects.
 */
#include "support/fake_llm.h"
#include "support/harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define ADMIN      HARNESS_ADMIN_KEY
#define APP_SECRET "meta-app-secret-for-model-tests"
#define LLM_KEY    "sk-model-tests"
#define PHONE      "905330000071"
#define UNSURE     "bu aralar pek mesaj istemiyorum galiba"

static struct server srv;
static struct fake_llm *llm;
static int seq;

static int setup(void **state)
{
    (void)state;
    llm = fake_llm_start(LLM_KEY);
    if (!llm)
        return -1;
    char url[600], llm_url[160];
    harness_fresh_db(url, sizeof(url));
    snprintf(llm_url, sizeof(llm_url), "ICESHOP_LLM_URL=%s", fake_llm_url(llm));
    const char *env[] = {"ICESHOP_WHATSAPP_APP_SECRET=" APP_SECRET,
                         llm_url,
                         "ICESHOP_LLM_KEY=" LLM_KEY,
                         "ICESHOP_LLM_TIMEOUT_MS=3000",
                         "ICESHOP_JOB_BACKOFF_MS=50",
                         NULL};
    if (server_start(&srv, url, env) != 0)
        return -1;
    if (harness_manual_scans(&srv))
        return -1;
    struct resp r;
    int rc = http_post_json(&srv, "/api/buyers/register", ADMIN,
                            "{\"id\":\"M1\",\"phone_number\":\"+" PHONE "\",\"consent\":true,"
                            "\"location\":{\"lat\":40.987,\"lng\":29.026}}",
                            &r);
    long status = r.status;
    resp_free(&r);
    return rc == 0 && status == 201 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    int rc = server_stop(&srv) == 0 ? 0 : -1;
    fake_llm_stop(llm);
    return rc;
}

/* Send a signed Cloud API text message from PHONE. */
static void say(const char *text)
{
    char id[64];
    snprintf(id, sizeof(id), "wamid.model.%d.%d", (int)getpid(), ++seq);
    assert_int_equal(harness_meta_text(&srv, APP_SECRET, PHONE, id, text), 200);
}

static json_t *get(const char *path)
{
    struct resp r;
    assert_int_equal(http_get(&srv, path, ADMIN, &r), 0);
    assert_int_equal(r.status, 200);
    json_t *j = json_incref(r.json);
    resp_free(&r);
    return j;
}

static size_t replies(void)
{
    json_t *m = get("/api/messages?recipient_id=M1&kind=reply&limit=100");
    size_t n = json_array_size(json_object_get(m, "messages"));
    json_decref(m);
    return n;
}

/* The newest reply's body (static storage). */
static const char *last_reply(void)
{
    static char body[1024];
    json_t *m = get("/api/messages?recipient_id=M1&kind=reply&limit=1");
    snprintf(body, sizeof(body), "%s",
             json_string_value(
                 json_object_get(json_array_get(json_object_get(m, "messages"), 0), "body")));
    json_decref(m);
    return body;
}

static bool consent(void)
{
    json_t *b = get("/api/buyers/M1");
    bool c = json_is_true(json_object_get(b, "consent"));
    json_decref(b);
    return c;
}

/* The model reads the unsure message as an opt-out with confidence: it is acted on. */
static void test_model_decides(void **state)
{
    (void)state;
    fake_llm_answer(llm, "{\"intent\":\"opt_out\",\"confidence\":0.96}");
    size_t before = replies();
    say(UNSURE);
    WAIT_FOR(!consent(), 20000);
    assert_false(consent());
    WAIT_FOR(replies() > before, 20000);
    assert_non_null(strstr(last_reply(), "göndermeyeceğim"));
    assert_int_equal(fake_llm_count(llm), 1);
    char user[256];
    assert_true(fake_llm_last_user(llm, user, sizeof(user)));
    assert_string_equal(user, UNSURE);
    char why[128];
    if (fake_llm_rejected(llm, why, sizeof(why)))
        fail_msg("the model's fake refused a request: %s", why);
    /* a clear message never goes to the model */
    say("başla");
    WAIT_FOR(consent(), 20000);
    assert_true(consent());
    assert_int_equal(fake_llm_count(llm), 1);
}

/* The model fails every time: after the job's attempts the rules decide (asked back). */
static void test_model_down_rules_decide(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++)
        fake_llm_fail(llm, 503);
    size_t calls = fake_llm_count(llm), before = replies();
    say(UNSURE);
    WAIT_FOR(replies() > before, 30000);
    assert_non_null(strstr(last_reply(), "DUR yazın")); /* "write STOP to stop them" */
    assert_true(consent());
    assert_int_equal(fake_llm_count(llm), calls + 3);
}

/* An answer outside the intent schema is not believed: the rules decide at once. */
static void test_model_answer_not_believed(void **state)
{
    (void)state;
    fake_llm_answer(llm, "{\"intent\":\"buy_everything\",\"confidence\":1}");
    size_t calls = fake_llm_count(llm), before = replies();
    say(UNSURE);
    WAIT_FOR(replies() > before, 20000);
    assert_non_null(strstr(last_reply(), "DUR yazın"));
    assert_true(consent());
    assert_int_equal(fake_llm_count(llm), calls + 1);
}

/* As get(), with another tenant's key. */
static json_t *get_as(const char *key, const char *path)
{
    struct resp r;
    assert_int_equal(http_get(&srv, path, key, &r), 0);
    if (r.status != 200)
        fail_msg("GET %s -> %ld: %.300s", path, r.status, r.body);
    json_t *j = json_incref(r.json);
    resp_free(&r);
    return j;
}

static size_t replies_as(const char *key)
{
    json_t *m = get_as(key, "/api/messages?recipient_id=M1&kind=reply&limit=100");
    size_t n = json_array_size(json_object_get(m, "messages"));
    json_decref(m);
    return n;
}

static bool consent_as(const char *key)
{
    json_t *b = get_as(key, "/api/buyers/M1");
    bool c = json_is_true(json_object_get(b, "consent"));
    json_decref(b);
    return c;
}

static void send_as(const char *key, const char *method, const char *path, const char *body,
                    long want)
{
    struct resp r;
    assert_int_equal(
        http_req(&srv, method, path, key, "application/json", body, strlen(body), NULL, &r), 0);
    if (r.status != want)
        fail_msg("%s %s -> %ld (want %ld): %.300s", method, path, r.status, want, r.body);
    resp_free(&r);
}

/*
 * The model is the tenant's: another tenant (whose WhatsApp number this now is) has none, so its
 * buyer's unsure message is asked back at once without a call; once it stores its own model in
 * the llm integration, that model decides. Runs last: it moves the number to that tenant.
 */
static void test_model_per_tenant(void **state)
{
    (void)state;
    char out[400], key[200];
    assert_int_equal(harness_cli(srv.db_url, "tenants create modeltwo", out, sizeof(out)), 0);
    assert_int_equal(harness_cli(srv.db_url, "keys create --tenant modeltwo --role admin --name m",
                                 key, sizeof(key)),
                     0);
    key[strcspn(key, " \r\n")] = '\0';
    send_as(key, "PUT", "/api/integrations/whatsapp",
            "{\"phone_number_id\":\"1122334455\",\"app_secret\":\"" APP_SECRET "\"}", 200);
    send_as(key, "POST", "/api/buyers/register",
            "{\"id\":\"M1\",\"phone_number\":\"+" PHONE "\",\"consent\":true,"
            "\"location\":{\"lat\":38.42,\"lng\":27.14}}",
            201);
    size_t calls = fake_llm_count(llm), before = replies_as(key);
    say(UNSURE);
    WAIT_FOR(replies_as(key) > before, 20000);
    assert_true(replies_as(key) > before);
    assert_true(consent_as(key));
    assert_int_equal(fake_llm_count(llm), calls); /* the server's model is not this tenant's */

    char body[400];
    snprintf(body, sizeof(body), "{\"url\":\"%s\",\"api_key\":\"%s\"}", fake_llm_url(llm), LLM_KEY);
    send_as(key, "PUT", "/api/integrations/llm", body, 200);
    fake_llm_answer(llm, "{\"intent\":\"opt_out\",\"confidence\":0.96}");
    say(UNSURE);
    WAIT_FOR(!consent_as(key), 20000);
    assert_false(consent_as(key));
    assert_int_equal(fake_llm_count(llm), calls + 1);
    assert_true(consent()); /* the default tenant's buyer with that phone is untouched */
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_decides),
        cmocka_unit_test(test_model_down_rules_decide),
        cmocka_unit_test(test_model_answer_not_believed),
        cmocka_unit_test(test_model_per_tenant),
    };
    return cmocka_run_group_tests_name(harness_backend(), tests, setup, teardown);
}
