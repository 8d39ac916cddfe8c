/* SPDX-License-Identifier: MIT */
/*
 * The WhatsApp channel over real HTTP with bodies signed the way Meta and VAPI sign them: the
 * verification handshake, forged / missing / stale signatures refused with nothing stored, a
 * message delivered twice acted on once, onboarding of a new number, wishes becoming demand,
 * "katıl" with and without an open offer (and by reply button), opt-out and opt-in, a seller's
 * idle message, approval and code redemption by message, and the understanding endpoint.
 * Runs on the backend TEST_BACKEND selects; replies go through the console adapter.
 */
#include "core/crypto.h"
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

#define ADMIN       HARNESS_ADMIN_KEY
#define APP_SECRET  "meta-app-secret-for-tests"
#define VERIFY      "verify-token-for-tests"
#define VAPI_SECRET "vapi-secret-for-tests"

static struct server srv;
static int seq;

static int setup(void **state)
{
    (void)state;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    const char *env[] = {"ICESHOP_WHATSAPP_APP_SECRET=" APP_SECRET,
                         "ICESHOP_WHATSAPP_VERIFY_TOKEN=" VERIFY,
                         "ICESHOP_VAPI_SECRET=" VAPI_SECRET, NULL};
    if (server_start(&srv, url, env) != 0)
        return -1;
    /* windows open only when a test asks: no automatic scans */
    return harness_manual_scans(&srv);
}

static int teardown(void **state)
{
    (void)state;
    return server_stop(&srv) == 0 ? 0 : -1;
}

/* A Cloud API webhook body with one inbound message. `inner` is the message's type object. */
static char *meta_body(const char *from, const char *id, long long ts, const char *type,
                       const char *inner)
{
    char *b = malloc(4096);
    snprintf(b, 4096,
             "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1029384756\","
             "\"changes\":[{\"field\":\"messages\",\"value\":{\"messaging_product\":\"whatsapp\","
             "\"metadata\":{\"display_phone_number\":\"908501234567\",\"phone_number_id\":"
             "\"1122334455\"},\"contacts\":[{\"profile\":{\"name\":\"Zeynep\"},\"wa_id\":\"%s\"}],"
             "\"messages\":[{\"from\":\"%s\",\"id\":\"%s\",\"timestamp\":\"%lld\",\"type\":\"%s\","
             "\"%s\":%s}]}}]}]}",
             from, from, id, ts, type, type, inner);
    return b;
}

static long post_meta(const char *body, const char *signature_override, struct resp *r)
{
    char sig[128];
    char hex[SEC_HMAC_SHA256_HEX_SIZE];
    sec_hmac_sha256_hex(hex, APP_SECRET, strlen(APP_SECRET), body, strlen(body));
    snprintf(sig, sizeof(sig), "X-Hub-Signature-256: %s",
             signature_override ? signature_override : "");
    if (!signature_override)
        snprintf(sig, sizeof(sig), "X-Hub-Signature-256: sha256=%s", hex);
    const char *hdr[] = {sig, NULL};
    assert_int_equal(http_req(&srv, "POST", "/api/whatsapp/webhook", NULL, "application/json", body,
                              strlen(body), hdr, r),
                     0);
    return r->status;
}

/* Send a signed text message from `from`; returns the webhook status. */
static long say(const char *from, const char *text)
{
    char id[64], inner[600];
    snprintf(id, sizeof(id), "wamid.test.%d.%d", (int)getpid(), ++seq);
    snprintf(inner, sizeof(inner), "{\"body\":\"%s\"}", text);
    char *body = meta_body(from, id, (long long)time(NULL), "text", inner);
    struct resp r;
    long st = post_meta(body, NULL, &r);
    resp_free(&r);
    free(body);
    return st;
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

/* Wait until the outbox holds `want` replies of `kind` to `recipient_id`; returns the last body. */
static char *wait_reply(const char *recipient_id, const char *kind, int want)
{
    static char last[2048];
    char path[256];
    snprintf(path, sizeof(path), "/api/messages?recipient_id=%s&kind=%s&limit=100", recipient_id,
             kind);
    int n = 0;
    for (long long end = harness_deadline(20000);; harness_sleep_ms(100)) {
        json_t *m = get(path);
        json_t *arr = json_object_get(m, "messages");
        n = (int)json_array_size(arr);
        if (n >= want) {
            snprintf(last, sizeof(last), "%s",
                     json_string_value(json_object_get(json_array_get(arr, 0), "body")));
            json_decref(m);
            return last;
        }
        json_decref(m);
        if (!harness_before(end))
            break;
    }
    fprintf(stderr, "waited for %d %s message(s) to %s, saw %d\n", want, kind, recipient_id, n);
    fail();
    return NULL;
}

static void test_handshake(void **state)
{
    (void)state;
    struct resp r;
    assert_int_equal(http_get(&srv,
                              "/api/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=" VERIFY
                              "&hub.challenge=1158201444",
                              NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "1158201444");
    resp_free(&r);
    assert_int_equal(http_get(&srv,
                              "/api/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=nope"
                              "&hub.challenge=1158201444",
                              NULL, &r),
                     0);
    assert_int_equal(r.status, 403);
    assert_string_equal(resp_error_field(&r), "hub.verify_token");
    resp_free(&r);
}

static int count_events(void)
{
    json_t *m = get("/api/messages?limit=500");
    int n = (int)json_array_size(json_object_get(m, "messages"));
    json_decref(m);
    return n;
}

static void test_refusals_store_nothing(void **state)
{
    (void)state;
    int before = count_events();
    char *body = meta_body("905551112233", "wamid.forged", (long long)time(NULL), "text",
                           "{\"body\":\"merhaba\"}");
    struct resp r;
    assert_int_equal(post_meta(body,
                               "sha256=0000000000000000000000000000000000000000000000000000"
                               "000000000000",
                               &r),
                     401);
    resp_free(&r);
    assert_int_equal(post_meta(body, "md5=abc", &r), 401);
    resp_free(&r);
    /* no signature header at all */
    assert_int_equal(http_req(&srv, "POST", "/api/whatsapp/webhook", NULL, "application/json", body,
                              strlen(body), NULL, &r),
                     0);
    assert_int_equal(r.status, 401);
    resp_free(&r);
    free(body);
    /* stale: two days old */
    body = meta_body("905551112233", "wamid.stale", (long long)time(NULL) - 2 * 86400, "text",
                     "{\"body\":\"merhaba\"}");
    assert_int_equal(post_meta(body, NULL, &r), 400);
    assert_string_equal(resp_error_field(&r), "timestamp");
    resp_free(&r);
    free(body);
    /* signed but malformed */
    const char *junk = "{\"object\":\"page\",\"entry\":[]}";
    assert_int_equal(post_meta(junk, NULL, &r), 400);
    resp_free(&r);
    /* VAPI with a wrong secret */
    const char *vapi = "{\"event_type\":\"message\",\"channel\":\"whatsapp\",\"from\":"
                       "\"+905551112233\",\"text\":\"katıl\"}";
    const char *bad[] = {"X-Vapi-Secret: wrong", NULL};
    assert_int_equal(http_req(&srv, "POST", "/api/whatsapp/webhook", NULL, "application/json", vapi,
                              strlen(vapi), bad, &r),
                     0);
    assert_int_equal(r.status, 401);
    resp_free(&r);
    harness_sleep_ms(300);
    assert_int_equal(count_events(), before); /* nothing was acted on */
}

static void register_moda(void)
{
    struct resp r;
    const char *seller = "{\"id\":\"S1\",\"phone_number\":\"+905320000001\",\"name\":\"M Coffee\","
                         "\"category\":\"coffee\",\"location\":{\"lat\":40.987,\"lng\":29.026},"
                         "\"max_discount\":25,\"capacity\":5,\"auto_approve\":false,"
                         "\"density_status\":\"low\"}";
    assert_int_equal(http_post_json(&srv, "/api/sellers/register", ADMIN, seller, &r), 0);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    const char *buyer = "{\"id\":\"B1\",\"phone_number\":\"+905330000001\",\"name\":\"Ayşe\","
                        "\"location\":{\"lat\":40.9879,\"lng\":29.026}}";
    assert_int_equal(http_post_json(&srv, "/api/buyers/register", ADMIN, buyer, &r), 0);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    const char *buyer2 = "{\"id\":\"B2\",\"phone_number\":\"+905330000002\",\"name\":\"Can\","
                         "\"location\":{\"lat\":40.9885,\"lng\":29.027}}";
    assert_int_equal(http_post_json(&srv, "/api/buyers/register", ADMIN, buyer2, &r), 0);
    resp_free(&r);
}

static void test_duplicate_delivery_acts_once(void **state)
{
    (void)state;
    register_moda();
    char *body = meta_body("905330000001", "wamid.dup.1", (long long)time(NULL), "text",
                           "{\"body\":\"Latte istiyorum\"}");
    struct resp r;
    assert_int_equal(post_meta(body, NULL, &r), 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "new")), 1);
    resp_free(&r);
    assert_int_equal(post_meta(body, NULL, &r), 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "new")), 0);
    resp_free(&r);
    free(body);
    char *reply = wait_reply("B1", "reply", 1);
    assert_non_null(strstr(reply, "latte"));
    harness_sleep_ms(500);
    wait_reply("B1", "reply", 1);
    json_t *m = get("/api/messages?recipient_id=B1&kind=reply");
    assert_int_equal(json_array_size(json_object_get(m, "messages")), 1); /* acted on once */
    json_decref(m);
    /* the operator sees what was written, once, and what was done with it */
    json_t *evs = get("/api/chat/events?limit=50");
    int seen = 0;
    size_t k;
    json_t *ev;
    json_array_foreach(json_object_get(evs, "events"), k, ev)
    {
        if (strcmp(json_string_value(json_object_get(ev, "text")), "Latte istiyorum") == 0) {
            seen++;
            assert_string_equal(json_string_value(json_object_get(ev, "outcome")), "demand");
            assert_string_equal(json_string_value(json_object_get(ev, "from")), "+905330000001");
        }
    }
    json_decref(evs);
    assert_int_equal(seen, 1);
    /* the wish became demand */
    json_t *b = get("/api/buyers/B1");
    json_t *d = json_array_get(json_object_get(b, "active_demand"), 0);
    assert_string_equal(json_string_value(json_object_get(d, "product")), "latte");
    assert_string_equal(json_string_value(json_object_get(d, "category")), "coffee");
    json_decref(b);
}

static void test_join_without_and_with_offer(void **state)
{
    (void)state;
    assert_int_equal(say("905330000002", "katıl"), 200);
    char *reply = wait_reply("B2", "reply", 1);
    assert_non_null(strstr(reply, "açık bir teklif yok"));

    /*
     * B2 wishes too; the seller (quiet since registering, but it has not asked for customers)
     * is asked and approves the proposal by message
     */
    assert_int_equal(say("905330000002", "Bir latte lazim"), 200);
    wait_reply("B2", "reply", 2);
    struct resp r;
    assert_int_equal(http_post_json(&srv, "/api/campaigns/generate", ADMIN, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    json_t *g = json_array_get(json_object_get(r.json, "windows"), 0);
    assert_string_equal(json_string_value(json_object_get(g, "status")), "PROPOSED");
    long long window = (long long)json_integer_value(json_object_get(g, "window_id"));
    resp_free(&r);
    wait_reply("S1", "question", 1);
    assert_int_equal(say("905320000001", "evet"), 200);
    wait_reply("S1", "reply", 1);
    char path[64];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld", window);
    json_t *w = get(path);
    assert_string_equal(json_string_value(json_object_get(w, "status")), "SCHEDULED");
    json_decref(w);
    wait_reply("B2", "offer", 1);

    /* a hedged join is read with less than UNDERSTAND_COMMIT: asked back, nothing committed */
    assert_int_equal(say("905330000002", "katılabilirim belki"), 200);
    char *ask = wait_reply("B2", "reply", 3);
    assert_non_null(strstr(ask, "Katılmak için KATIL yazın"));
    w = get(path);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(w, "counts"), "committed")),
                     0);
    json_decref(w);

    /* "katil" without the dotless ı, now with an offer: a pre-commit */
    assert_int_equal(say("905330000002", "KATIL"), 200);
    wait_reply("B2", "confirmation", 1);
    w = get(path);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(w, "counts"), "committed")),
                     1);
    json_decref(w);

    /* B1 taps the "Katıl" reply button of the offer */
    char payload[64], inner[200], id[64];
    snprintf(payload, sizeof(payload), "join:%lld", window);
    snprintf(inner, sizeof(inner),
             "{\"type\":\"button_reply\",\"button_reply\":{\"id\":\"%s\",\"title\":\"Katıl\"}}",
             payload);
    snprintf(id, sizeof(id), "wamid.button.%d", (int)getpid());
    char *body = meta_body("905330000001", id, (long long)time(NULL), "interactive", inner);
    assert_int_equal(post_meta(body, NULL, &r), 200);
    resp_free(&r);
    free(body);
    wait_reply("B1", "confirmation", 1);
    w = get(path);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(w, "counts"), "committed")),
                     2);
    json_decref(w);
}

static void test_opt_out_and_in(void **state)
{
    (void)state;
    assert_int_equal(say("905330000002", "DUR"), 200);
    char *reply = wait_reply("B2", "reply", 4);
    assert_non_null(strstr(reply, "göndermeyeceğim"));
    json_t *b = get("/api/buyers/B2");
    assert_true(json_is_false(json_object_get(b, "consent")));
    json_decref(b);
    assert_int_equal(say("905330000002", "başla"), 200);
    wait_reply("B2", "reply", 5);
    b = get("/api/buyers/B2");
    assert_true(json_is_true(json_object_get(b, "consent")));
    json_decref(b);
}

static void test_onboarding_new_number(void **state)
{
    (void)state;
    assert_int_equal(say("905559998877", "Simit istiyorum"), 200);
    /* unknown numbers are asked where they are */
    for (int i = 0; i < 100; i++) {
        json_t *m = get("/api/messages?kind=location_request");
        size_t n = json_array_size(json_object_get(m, "messages"));
        json_decref(m);
        if (n)
            break;
        harness_sleep_ms(100);
    }
    json_t *m = get("/api/messages?kind=location_request");
    assert_int_equal(json_array_size(json_object_get(m, "messages")), 1);
    json_decref(m);
    char *body = meta_body("905559998877", "wamid.loc.1", (long long)time(NULL), "location",
                           "{\"latitude\":40.9872,\"longitude\":29.0265,\"name\":\"Moda\"}");
    struct resp r;
    assert_int_equal(post_meta(body, NULL, &r), 200);
    resp_free(&r);
    free(body);
    /* registered as a buyer, and the wish said before the location was kept */
    json_t *list = NULL;
    const char *id = NULL;
    for (int i = 0; i < 100 && !id; i++) {
        json_decref(list);
        list = get("/api/buyers?limit=100");
        size_t k;
        json_t *b;
        json_array_foreach(json_object_get(list, "buyers"), k, b)
        {
            if (strcmp(json_string_value(json_object_get(b, "phone_number")), "+905559998877") == 0)
                id = json_string_value(json_object_get(b, "id"));
        }
        if (!id)
            harness_sleep_ms(100);
    }
    assert_non_null(id);
    char path[128];
    snprintf(path, sizeof(path), "/api/buyers/%s", id);
    json_decref(list);
    for (int i = 0; i < 50; i++) {
        json_t *b = get(path);
        size_t n = json_array_size(json_object_get(b, "active_demand"));
        json_decref(b);
        if (n)
            break;
        harness_sleep_ms(100);
    }
    json_t *b = get(path);
    json_t *d = json_array_get(json_object_get(b, "active_demand"), 0);
    assert_non_null(d);
    assert_string_equal(json_string_value(json_object_get(d, "category")), "bakery");
    assert_string_equal(json_string_value(json_object_get(b, "name")), "Zeynep");
    json_decref(b);
}

static void test_vapi_seed_message(void **state)
{
    (void)state;
    const char *body = "{\"event_type\":\"message\",\"channel\":\"whatsapp\",\"from\":"
                       "\"+905330000001\",\"text\":\"Market indirimi var mı?\",\"metadata\":"
                       "{\"buyer_id\":\"B1\"}}";
    const char *hdr[] = {"X-Vapi-Secret: " VAPI_SECRET, NULL};
    struct resp r;
    assert_int_equal(http_req(&srv, "POST", "/api/whatsapp/webhook", NULL, "application/json", body,
                              strlen(body), hdr, &r),
                     0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    /* the same delivery again is acknowledged and ignored */
    assert_int_equal(http_req(&srv, "POST", "/api/whatsapp/webhook", NULL, "application/json", body,
                              strlen(body), hdr, &r),
                     0);
    assert_int_equal(json_integer_value(json_object_get(r.json, "new")), 0);
    resp_free(&r);
    char *reply = wait_reply("B1", "reply", 2);
    assert_non_null(strstr(reply, "M Coffee")); /* the deals near B1 */

    /* a voice transcript from the VAPI agent */
    const char *transcript = "{\"message\":{\"type\":\"transcript\",\"role\":\"user\","
                             "\"transcriptType\":\"final\",\"transcript\":\"yardım\","
                             "\"customer\":{\"number\":\"+905330000001\"}}}";
    assert_int_equal(http_req(&srv, "POST", "/api/whatsapp/webhook", NULL, "application/json",
                              transcript, strlen(transcript), hdr, &r),
                     0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    reply = wait_reply("B1", "reply", 3);
    assert_non_null(strstr(reply, "Iceshop"));
}

static bool window_is(const char *path, const char *status)
{
    json_t *j = get(path);
    bool is = strcmp(json_string_value(json_object_get(j, "status")), status) == 0;
    json_decref(j);
    return is;
}

/*
 * An ask-first seller who says "Bu saat boşum" asked for customers: the window opens without a
 * question, the seller is told, and the "Hayır" button under that message cancels it. A button
 * naming another seller's window changes nothing.
 */
static void test_seller_signal_opens_window(void **state)
{
    (void)state;
    struct resp r;
    const char *seller = "{\"id\":\"S3\",\"phone_number\":\"+905320000003\",\"name\":\"Kahve 3\","
                         "\"category\":\"coffee\",\"location\":{\"lat\":41.0430,\"lng\":29.0090},"
                         "\"max_discount\":20,\"capacity\":5,\"auto_approve\":false}";
    assert_int_equal(http_post_json(&srv, "/api/sellers/register", ADMIN, seller, &r), 0);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    const char *buyer = "{\"id\":\"B9\",\"phone_number\":\"+905330000009\",\"name\":\"Can\","
                        "\"location\":{\"lat\":41.0433,\"lng\":29.0093}}";
    assert_int_equal(http_post_json(&srv, "/api/buyers/register", ADMIN, buyer, &r), 0);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    assert_int_equal(say("905330000009", "Latte istiyorum"), 200);
    wait_reply("B9", "reply", 1);
    assert_int_equal(say("905320000003", "Bu saat boşum"), 200);
    wait_reply("S3", "reply", 1);
    assert_int_equal(
        http_post_json(&srv, "/api/campaigns/generate", ADMIN, "{\"seller_ids\":[\"S3\"]}", &r), 0);
    assert_int_equal(r.status, 200);
    json_t *g = json_array_get(json_object_get(r.json, "windows"), 0);
    assert_string_equal(json_string_value(json_object_get(g, "status")), "SCHEDULED");
    long long window = (long long)json_integer_value(json_object_get(g, "window_id"));
    resp_free(&r);
    char *opened = wait_reply("S3", "opened", 1);
    assert_non_null(strstr(opened, "müşteri beklediğinizi söylediniz"));
    wait_reply("B9", "offer", 1);
    char path[64];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld", window);
    json_t *w = get(path);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(w, "decision_trace"), "approval")),
        "signal");
    json_decref(w);

    /* a "Hayır" button naming S1's window: not S3's to decide */
    json_t *list = get("/api/flash-windows?seller_id=S1&limit=1");
    long long other = (long long)json_integer_value(
        json_object_get(json_array_get(json_object_get(list, "windows"), 0), "id"));
    json_decref(list);
    assert_true(other > 0);
    char payload[64], inner[200];
    snprintf(payload, sizeof(payload), "decline:%lld", other);
    snprintf(inner, sizeof(inner),
             "{\"type\":\"button_reply\",\"button_reply\":{\"id\":\"%s\",\"title\":\"Hayır\"}}",
             payload);
    char *body = meta_body("905320000003", "wamid.s3.decline.1", (long long)time(NULL),
                           "interactive", inner);
    assert_int_equal(post_meta(body, NULL, &r), 200);
    resp_free(&r);
    free(body);
    char *reply = wait_reply("S3", "reply", 2);
    assert_non_null(strstr(reply, "bekleyen bir pencere yok"));

    /* its own window's button: cancelled */
    snprintf(payload, sizeof(payload), "decline:%lld", window);
    snprintf(inner, sizeof(inner),
             "{\"type\":\"button_reply\",\"button_reply\":{\"id\":\"%s\",\"title\":\"Hayır\"}}",
             payload);
    body = meta_body("905320000003", "wamid.s3.decline.2", (long long)time(NULL), "interactive",
                     inner);
    assert_int_equal(post_meta(body, NULL, &r), 200);
    resp_free(&r);
    free(body);
    reply = wait_reply("S3", "reply", 3);
    assert_non_null(strstr(reply, "açmıyorum"));
    w = get(path);
    assert_string_equal(json_string_value(json_object_get(w, "status")), "CANCELLED");
    json_decref(w);
}

/*
 * "Katıl" on a prepaid window: paying is the way in and this chat takes no payment, so the buyer
 * is told that (not that the offer is over) and nothing is placed or counted.
 */
static void test_join_prepaid_window(void **state)
{
    (void)state;
    struct resp r;
    const char *seller = "{\"id\":\"S4\",\"phone_number\":\"+905320000004\",\"name\":\"Kahve\","
                         "\"category\":\"coffee\",\"location\":{\"lat\":40.9875,\"lng\":29.026},"
                         "\"price_range\":{\"min\":4000,\"max\":6000}}";
    assert_int_equal(http_post_json(&srv, "/api/sellers/register", ADMIN, seller, &r), 0);
    resp_free(&r);
    /* a buyer of its own, so the other tests' counts of replies stay theirs */
    const char *buyer = "{\"id\":\"B7\",\"phone_number\":\"+905330000007\",\"consent\":true,"
                        "\"location\":{\"lat\":40.9876,\"lng\":29.026}}";
    assert_int_equal(http_post_json(&srv, "/api/buyers/register", ADMIN, buyer, &r), 0);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    char body[400], start[40];
    time_t t = time(NULL) + 600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(body, sizeof(body),
             "{\"seller_id\":\"S4\",\"discount_percent\":10,\"start_time\":\"%s\","
             "\"min_participants\":1,\"buyer_ids\":[\"B7\"],\"prepay\":true}",
             start);
    assert_int_equal(http_post_json(&srv, "/api/flash-windows/create", ADMIN, body, &r), 0);
    if (r.status != 201)
        fail_msg("create -> %ld: %s", r.status, r.body);
    long long w = (long long)json_integer_value(json_object_get(r.json, "id"));
    resp_free(&r);
    char payload[64], inner[200], id[64];
    snprintf(payload, sizeof(payload), "join:%lld", w);
    snprintf(inner, sizeof(inner),
             "{\"type\":\"button_reply\",\"button_reply\":{\"id\":\"%s\",\"title\":\"Katıl\"}}",
             payload);
    snprintf(id, sizeof(id), "wamid.prepay.%d", (int)getpid());
    json_t *before = get("/api/messages?recipient_id=B7&kind=reply&limit=100");
    size_t n = json_array_size(json_object_get(before, "messages"));
    json_decref(before);
    char *meta = meta_body("905330000007", id, (long long)time(NULL), "interactive", inner);
    assert_int_equal(post_meta(meta, NULL, &r), 200);
    resp_free(&r);
    free(meta);
    char *reply = wait_reply("B7", "reply", (int)n + 1);
    assert_non_null(strstr(reply, "ön ödemeli"));
    char path[64];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld", w);
    json_t *win = get(path);
    json_t *counts = json_object_get(win, "counts");
    assert_int_equal(json_integer_value(json_object_get(counts, "committed")), 0);
    assert_int_equal(json_integer_value(json_object_get(counts, "joined")), 0);
    json_decref(win);
}

static void test_seller_redeems_by_message(void **state)
{
    (void)state;
    /* an active window for S2 with B1 in it */
    struct resp r;
    const char *seller = "{\"id\":\"S2\",\"phone_number\":\"+905320000002\",\"name\":\"Fırın\","
                         "\"category\":\"bakery\",\"location\":{\"lat\":40.9875,\"lng\":29.026}}";
    assert_int_equal(http_post_json(&srv, "/api/sellers/register", ADMIN, seller, &r), 0);
    resp_free(&r);
    /* the window starts well ahead; once B1 has said "katıl", it is started without a race */
    char body[400], start[40];
    time_t t = time(NULL) + 600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(body, sizeof(body),
             "{\"seller_id\":\"S2\",\"discount_percent\":10,\"start_time\":\"%s\","
             "\"min_participants\":1,\"buyer_ids\":[\"B1\"]}",
             start);
    assert_int_equal(http_post_json(&srv, "/api/flash-windows/create", ADMIN, body, &r), 0);
    assert_int_equal(r.status, 201);
    long long w = (long long)json_integer_value(json_object_get(r.json, "id"));
    resp_free(&r);
    char path[96];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/precommit", w);
    assert_int_equal(http_post_json(&srv, path, ADMIN, "{\"buyer_id\":\"B1\"}", &r), 0);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    harness_window_start_now(srv.db_url, w);
    snprintf(path, sizeof(path), "/api/flash-windows/%lld", w);
    WAIT_FOR(window_is(path, "ACTIVE"), 20000);
    assert_true(window_is(path, "ACTIVE"));
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/join", w);
    assert_int_equal(http_post_json(&srv, path, ADMIN, "{\"buyer_id\":\"B1\"}", &r), 0);
    assert_int_equal(r.status, 201);
    char code[16], msg[64];
    snprintf(code, sizeof(code), "%s", json_string_value(json_object_get(r.json, "code")));
    resp_free(&r);
    snprintf(msg, sizeof(msg), "kod %s", code);
    assert_int_equal(say("905320000002", msg), 200);
    char *reply = wait_reply("S2", "reply", 1);
    assert_non_null(strstr(reply, "onaylandı"));
    json_t *j = get("/api/buyers/B1");
    assert_int_equal(json_integer_value(json_object_get(j, "shows")), 1);
    json_decref(j);
    /* the same code again is refused politely */
    assert_int_equal(say("905320000002", msg), 200);
    reply = wait_reply("S2", "reply", 2);
    assert_non_null(strstr(reply, "kullanılmış"));
    /*
     * The same from VAPI, whose "from" is only the sender's word: no seller action, whatever the
     * number claims.
     */
    snprintf(body, sizeof(body),
             "{\"event_type\":\"message\",\"channel\":\"whatsapp\",\"from\":\"+905320000002\","
             "\"text\":\"%s\"}",
             msg);
    const char *hdr[] = {"X-Vapi-Secret: " VAPI_SECRET, NULL};
    assert_int_equal(http_req(&srv, "POST", "/api/whatsapp/webhook", NULL, "application/json", body,
                              strlen(body), hdr, &r),
                     0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    reply = wait_reply("S2", "reply", 3);
    assert_non_null(strstr(reply, "yalnızca kayıtlı numaranızdan WhatsApp"));
}

/* Outcomes of the events from `from` (+E.164) among the newest 500: processed and limited. */
static void flood_outcomes(const char *from, int *processed, int *limited)
{
    json_t *j = get("/api/chat/events?limit=500");
    *processed = *limited = 0;
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(j, "events"), i, ev)
    {
        const char *f = json_string_value(json_object_get(ev, "from"));
        const char *o = json_string_value(json_object_get(ev, "outcome"));
        if (!f || strcmp(f, from) != 0 || !o || !*o)
            continue;
        (*processed)++;
        *limited += strcmp(o, "rate_limited") == 0;
    }
    json_decref(j);
}

/*
 * One number writing 25 messages within a minute: the first CHAT_SENDER_MAX_PER_MINUTE (20) are
 * acted on, the rest kept but not answered.
 */
static void test_sender_flood(void **state)
{
    (void)state;
    for (int i = 0; i < 25; i++)
        assert_int_equal(say("905339990077", "merhaba"), 200);
    int processed = 0, limited = 0;
    WAIT_FOR((flood_outcomes("+905339990077", &processed, &limited), processed == 25), 30000);
    assert_int_equal(processed, 25);
    assert_int_equal(limited, 5);
}

static void test_understand_endpoint(void **state)
{
    (void)state;
    struct resp r;
    assert_int_equal(http_post_json(&srv, "/api/chat/understand", ADMIN,
                                    "{\"text\":\"Uygun fiyatlı kahve arıyorum, 50 TL\"}", &r),
                     0);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "intent")), "demand");
    assert_string_equal(json_string_value(json_object_get(r.json, "category")), "coffee");
    assert_int_equal(json_integer_value(json_object_get(r.json, "budget")), 5000);
    resp_free(&r);
    assert_int_equal(http_post_json(&srv, "/api/chat/understand", ADMIN,
                                    "{\"text\":\"Yoğunluk düşük\",\"role\":\"seller\"}", &r),
                     0);
    assert_string_equal(json_string_value(json_object_get(r.json, "intent")), "seller_idle");
    resp_free(&r);
    assert_int_equal(http_post_json(&srv, "/api/chat/understand", ADMIN,
                                    "{\"text\":\"x\",\"role\":\"manager\"}", &r),
                     0);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "role");
    resp_free(&r);
    /* the CLI says the same */
    char out[512];
    assert_int_equal(harness_cli(srv.db_url, "understand --role seller 'Stok fazlası ürün var'",
                                 out, sizeof(out)),
                     0);
    assert_non_null(strstr(out, "\"intent\":\"seller_surplus\""));
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_refusals_store_nothing),
        cmocka_unit_test(test_duplicate_delivery_acts_once),
        cmocka_unit_test(test_join_without_and_with_offer),
        cmocka_unit_test(test_join_prepaid_window),
        cmocka_unit_test(test_opt_out_and_in),
        cmocka_unit_test(test_onboarding_new_number),
        cmocka_unit_test(test_vapi_seed_message),
        cmocka_unit_test(test_sender_flood),
        cmocka_unit_test(test_seller_redeems_by_message),
        cmocka_unit_test(test_seller_signal_opens_window),
        cmocka_unit_test(test_understand_endpoint),
    };
    return cmocka_run_group_tests_name(harness_backend(), tests, setup, teardown);
}
