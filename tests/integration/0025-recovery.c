/* SPDX-License-Identifier: MIT */
/*
 * Abandoned-cart recovery through the real binary: agents and their integrations (secret shown
 * once, credentials never returned, another tenant gets 404 everywhere); test-once against the
 * Shopify and WooCommerce fakes (tests/support/fake_shopify.c, fake_woocommerce.c) and a custom
 * feed, with deliveries to a verifying receiver (tests/support/fake_receiver.c): the payload,
 * a 500 retried, a hand replay; the watermark, a completed cart, cooldown and consent; the
 * connection test; malformed JSON, 500 and 401 upstream visible in the status with nothing sent;
 * start → cycles on the interval → restart resumes → stop. Runs on TEST_BACKEND.
 */
#include "support/fake_http.h"
#include "support/fake_receiver.h"
#include "support/fake_shopify.h"
#include "support/fake_whatsapp.h"
#include "support/fake_woocommerce.h"
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

#define ADMIN HARNESS_ADMIN_KEY

static struct server srv;
static struct fake_receiver *rcv;
static struct fake_shopify *shop;
static struct fake_woo *woo;
static struct fake_http *feed;
static struct fake_whatsapp *wa;
static char other_key[200]; /* an admin of another tenant */
static char wa_api[256];
static const char *const env[] = {"ICESHOP_WEBHOOK_RETRY_SCALE=0.00001",
                                  wa_api,
                                  "ICESHOP_WHATSAPP_TOKEN=wa-token",
                                  "ICESHOP_WHATSAPP_PHONE_NUMBER_ID=1122334455",
                                  "ICESHOP_WHATSAPP_APP_SECRET=wa-app-secret",
                                  "ICESHOP_WHATSAPP_RECIPIENT_GAP_MS=0",
                                  NULL};

/* The custom feed: what it answers next. */
static int feed_mode; /* 0 good, 1 malformed JSON, 2 500, 3 401, 4 many carts (feed_many) */
static char feed_updated[32];

/*
 * 70 carts of 70 customers (more than one batched run of 64), M-5 listed twice: the second time
 * at 2.50 instead of 1.00, and that one must win.
 */
#define MANY_CARTS 70
static char *feed_many(void)
{
    size_t cap = 256 + (MANY_CARTS + 1) * 320, len = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    len += (size_t)snprintf(b + len, cap - len, "{\"carts\":[");
    for (int i = 0; i <= MANY_CARTS; i++) {
        int id = i < MANY_CARTS ? i : 5;
        len += (size_t)snprintf(
            b + len, cap - len,
            "%s{\"id\":\"M-%d\",\"updated_at\":\"%s\",\"currency\":\"TRY\","
            "\"total\":\"%s\",\"checkout_url\":\"https://feed.example/c/M-%d\","
            "\"customer\":{\"email\":\"many%d@example.com\"},\"items\":[{\"title\":"
            "\"Simit\",\"sku\":\"S-1\",\"quantity\":1,\"unit_price\":\"%s\"}]}",
            i ? "," : "", id, feed_updated, i < MANY_CARTS ? "1.00" : "2.50", id, id,
            i < MANY_CARTS ? "1.00" : "2.50");
    }
    snprintf(b + len, cap - len, "]}");
    return b;
}

static void feed_serve(void *cls, const struct fake_http_request *q, struct fake_http_answer *a)
{
    (void)cls;
    (void)q;
    char body[1024];
    if (feed_mode == 4) {
        a->body = feed_many();
        return;
    }
    switch (feed_mode) {
    case 1:
        snprintf(body, sizeof(body), "{\"carts\": [{\"id\": ");
        break;
    case 2:
        a->status = 500;
        snprintf(body, sizeof(body), "{\"error\":\"boom\"}");
        break;
    case 3:
        a->status = 401;
        snprintf(body, sizeof(body), "{\"error\":\"no\"}");
        break;
    default:
        snprintf(body, sizeof(body),
                 "{\"carts\":[{\"id\":\"F-1\",\"updated_at\":\"%s\",\"currency\":\"TRY\","
                 "\"total\":\"30.00\",\"checkout_url\":\"https://feed.example/c/F-1\","
                 "\"customer\":{\"email\":\"feed@example.com\"},\"items\":[{\"title\":\"Simit\","
                 "\"sku\":\"S-1\",\"quantity\":3,\"unit_price\":\"10.00\"}]}]}",
                 feed_updated);
    }
    a->body = strdup(body);
}

static void iso_ago(int minutes, char out[32])
{
    time_t t = time(NULL) - (time_t)minutes * 60;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int setup(void **state)
{
    (void)state;
    rcv = fake_receiver_start();
    shop = fake_shopify_start("shpat_good");
    woo = fake_woo_start("ck_good", "cs_good");
    feed = fake_http_start(feed_serve, NULL);
    wa = fake_whatsapp_start("wa-token", "1122334455");
    if (!rcv || !shop || !woo || !feed || !wa)
        return -1;
    snprintf(wa_api, sizeof(wa_api), "ICESHOP_WHATSAPP_API_URL=%s", fake_whatsapp_url(wa));
    char url[600];
    harness_fresh_db(url, sizeof(url));
    if (server_start(&srv, url, env) != 0)
        return -1;
    char out[512];
    if (harness_cli(srv.db_url, "tenants create other", out, sizeof(out)) != 0 ||
        harness_cli(srv.db_url, "keys create --tenant other --role admin", other_key,
                    sizeof(other_key)) != 0)
        return -1;
    other_key[strcspn(other_key, "\r\n")] = '\0';
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int rc = server_stop(&srv);
    fake_receiver_stop(rcv);
    fake_shopify_stop(shop);
    fake_woo_stop(woo);
    fake_http_stop(feed);
    fake_whatsapp_stop(wa);
    return rc == 0 ? 0 : -1;
}

static json_t *call(const char *method, const char *path, const char *key, const char *body,
                    long want)
{
    struct resp r;
    assert_int_equal(http_req(&srv, method, path, key, body ? "application/json" : NULL, body,
                              body ? strlen(body) : 0, NULL, &r),
                     0);
    if (r.status != want)
        fprintf(stderr, "%s %s -> %ld: %s\n", method, path, r.status, r.body);
    assert_int_equal(r.status, want);
    json_t *j = json_incref(r.json);
    resp_free(&r);
    return j;
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static long long num(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* An agent delivering to receiver path `path`; its id. */
static long long agent_new(const char *name, const char *path, int cutoff, int cooldown)
{
    char body[768];
    snprintf(body, sizeof(body),
             "{\"name\":\"%s\",\"company\":\"Acme\",\"template_slug\":\"ecommerce-abandoned-cart\","
             "\"settings\":{\"recovery_url\":\"%s%s\",\"cutoff_minutes\":%d,\"cooldown_days\":%d,"
             "\"sequence\":[]}}",
             name, fake_receiver_url(rcv), path, cutoff, cooldown);
    json_t *ag = call("POST", "/api/agents", ADMIN, body, 201);
    assert_int_equal(strncmp(str(ag, "secret"), "whsec_", 6), 0);
    fake_receiver_route(rcv, path, str(ag, "secret"));
    long long id = num(ag, "id");
    json_decref(ag);
    return id;
}

static void agent_off(long long id)
{
    char path[64];
    snprintf(path, sizeof(path), "/api/agents/%lld", id);
    json_decref(call("PUT", path, ADMIN, "{\"is_active\":false}", 200));
}

static long long integration_new(long long agent, const char *json)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/agents/%lld/integrations", agent);
    json_t *in = call("POST", path, ADMIN, json, 201);
    long long id = num(in, "id");
    json_decref(in);
    return id;
}

/*
 * Run a test-once cycle and wait for it to finish; its entry in the status. The last cycle's poll
 * jobs are waited for first (bounded): a cycle reports finished from inside its last job, just
 * before that job is marked done, and a poll still queued or running keeps its integration out
 * of the next cycle (which then finished at once, with nothing fetched, under load).
 */
static json_t *cycle_once(void)
{
    long long idle = harness_deadline(15000);
    while (harness_db_i64(srv.db_url, "SELECT count(*) FROM jobs WHERE name = 'recovery.poll' "
                                      "AND state IN ('pending', 'running')") > 0 &&
           harness_before(idle))
        harness_sleep_ms(20);
    json_t *t = call("POST", "/polling/abandoned-cart/test-once", ADMIN, NULL, 202);
    long long cycle = num(t, "cycle_id");
    json_decref(t);
    for (int i = 0; i < 300; i++) {
        json_t *st = call("GET", "/polling/status", ADMIN, NULL, 200);
        json_t *cycles = json_object_get(st, "cycles");
        for (size_t k = 0; k < json_array_size(cycles); k++) {
            json_t *cy = json_array_get(cycles, k);
            if (num(cy, "id") == cycle && json_is_true(json_object_get(cy, "finished"))) {
                json_incref(cy);
                json_decref(st);
                return cy;
            }
        }
        json_decref(st);
        harness_sleep_ms(50);
    }
    fail_msg("cycle %lld did not finish", cycle);
    return NULL;
}

/* Whether `j`'s text contains `needle`. */
static bool json_has(json_t *j, const char *needle)
{
    char *text = json_dumps(j, 0);
    bool found = text && strstr(text, needle);
    free(text);
    return found;
}

static bool wait_count(const char *path, size_t n)
{
    for (int i = 0; i < 200 && fake_receiver_count(rcv, path) < n; i++)
        harness_sleep_ms(50);
    return fake_receiver_count(rcv, path) >= n;
}

static void test_agents_and_integrations(void **state)
{
    (void)state;
    json_t *r = call("POST", "/api/agents", ADMIN,
                     "{\"name\":\"A\",\"company\":\"C\",\"settings\":{\"recovery_url\":"
                     "\"ftp://x\"}}",
                     400);
    assert_string_equal(str(json_object_get(r, "error"), "field"), "settings.recovery_url");
    json_decref(r);
    r = call("POST", "/api/agents", ADMIN,
             "{\"name\":\"A\",\"company\":\"C\",\"settings\":{\"recovery_url\":"
             "\"https://x.example/h\",\"sequence\":[60,30]}}",
             400);
    assert_string_equal(str(json_object_get(r, "error"), "field"), "settings.sequence[1]");
    json_decref(r);

    json_t *ag = call("POST", "/api/agents", ADMIN,
                      "{\"name\":\"Sepet\",\"company\":\"Acme\",\"settings\":{\"recovery_url\":"
                      "\"https://x.example/h\"}}",
                      201);
    long long id = num(ag, "id");
    json_t *settings = json_object_get(ag, "settings");
    assert_int_equal(num(settings, "cutoff_minutes"), 60);
    assert_int_equal(num(settings, "cooldown_days"), 7);
    assert_string_equal(str(ag, "template_slug"), "ecommerce-abandoned-cart");
    json_decref(ag);
    char path[128], ipath[160];
    snprintf(path, sizeof(path), "/api/agents/%lld", id);
    ag = call("GET", path, ADMIN, NULL, 200);
    assert_null(json_object_get(ag, "secret"));
    json_decref(ag);
    ag = call("PUT", path, ADMIN, "{\"settings\":{\"cutoff_minutes\":5}}", 200);
    assert_int_equal(num(json_object_get(ag, "settings"), "cutoff_minutes"), 5);
    json_decref(ag);
    /* the agent's endpoint is its own: not among the tenant's subscriptions */
    json_t *eps = call("GET", "/api/webhook-endpoints", ADMIN, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(eps, "endpoints")), 0);
    json_decref(eps);

    snprintf(ipath, sizeof(ipath), "/api/agents/%lld/integrations", id);
    r = call("POST", ipath, ADMIN, "{\"platform\":\"shopify\",\"shop_domain\":\"acme\"}", 400);
    assert_string_equal(str(json_object_get(r, "error"), "field"), "shop_domain");
    json_decref(r);
    r = call("POST", ipath, ADMIN,
             "{\"platform\":\"woocommerce\",\"site_url\":\"http://shop.example\","
             "\"consumer_key\":\"k\",\"consumer_secret\":\"s\"}",
             400);
    assert_string_equal(str(json_object_get(r, "error"), "field"), "site_url");
    json_decref(r);
    json_t *in = call("POST", ipath, ADMIN,
                      "{\"platform\":\"shopify\",\"shop_domain\":\"acme.myshopify.com\","
                      "\"access_token\":\"shpat_secret_value\"}",
                      201);
    assert_true(json_is_true(json_object_get(in, "has_credentials")));
    assert_null(json_object_get(in, "access_token"));
    long long iid = num(in, "id");
    json_decref(in);
    char one[200], test[220];
    snprintf(one, sizeof(one), "%s/%lld", ipath, iid);
    snprintf(test, sizeof(test), "%s/test", one);
    json_t *list = call("GET", ipath, ADMIN, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(list, "integrations")), 1);
    assert_false(json_has(list, "shpat_secret_value"));
    json_decref(list);

    /* another tenant: 404 on every route with an id */
    json_decref(call("GET", path, other_key, NULL, 404));
    json_decref(call("PUT", path, other_key, "{\"name\":\"x\"}", 404));
    json_decref(call("DELETE", path, other_key, NULL, 404));
    json_decref(call("GET", ipath, other_key, NULL, 404));
    json_decref(call("POST", ipath, other_key,
                     "{\"platform\":\"custom\",\"feed_url\":\"https://f.example\"}", 404));
    json_decref(call("GET", one, other_key, NULL, 404));
    json_decref(call("PUT", one, other_key, "{\"access_token\":\"x\"}", 404));
    json_decref(call("POST", test, other_key, NULL, 404));
    json_decref(call("DELETE", one, other_key, NULL, 404));
    list = call("GET", "/api/agents", other_key, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(list, "agents")), 0);
    json_decref(list);

    json_decref(call("DELETE", one, ADMIN, NULL, 200));
    json_decref(call("GET", one, ADMIN, NULL, 404));
    json_decref(call("DELETE", path, ADMIN, NULL, 200));
    json_decref(call("GET", path, ADMIN, NULL, 404));

    /* only abandoned-cart agents are polled, and only the caller's tenant's */
    ag = call("POST", "/api/agents", ADMIN,
              "{\"name\":\"Support\",\"company\":\"Acme\",\"template_slug\":\"support-bot\","
              "\"settings\":{\"recovery_url\":\"https://x.example/h\"}}",
              201);
    id = num(ag, "id");
    json_decref(ag);
    snprintf(path, sizeof(path), "/api/agents/%lld", id);
    snprintf(ipath, sizeof(ipath), "/api/agents/%lld/integrations", id);
    json_decref(call("POST", ipath, ADMIN,
                     "{\"platform\":\"custom\",\"feed_url\":\"http://127.0.0.1:9/feed\"}", 201));
    json_t *t = call("POST", "/polling/abandoned-cart/test-once", ADMIN, NULL, 202);
    assert_int_equal(num(t, "jobs"), 0);
    json_decref(t);
    json_t *st = call("GET", "/polling/status", ADMIN, NULL, 200);
    json_t *cy = json_array_get(json_object_get(st, "cycles"), 0);
    assert_int_equal(num(cy, "agents_found"), 0);
    assert_true(json_is_true(json_object_get(cy, "finished")));
    json_decref(st);
    json_decref(call("PUT", path, ADMIN, "{\"template_slug\":\"ecommerce-abandoned-cart\"}", 200));
    t = call("POST", "/polling/abandoned-cart/test-once", other_key, NULL, 202);
    assert_int_equal(num(t, "jobs"), 0);
    json_decref(t);
    st = call("GET", "/polling/status", other_key, NULL, 200);
    assert_int_equal(num(json_array_get(json_object_get(st, "cycles"), 0), "agents_found"), 0);
    json_decref(st);
    json_decref(call("DELETE", path, ADMIN, NULL, 200));
}

static void test_shopify(void **state)
{
    (void)state;
    char old[32], recent[32], done[32];
    iso_ago(120, old);
    iso_ago(10, recent);
    iso_ago(100, done);
    fake_shopify_add(shop, 1, old, NULL, "ayse@example.com", "+905320000001", "120.50", "TRY");
    fake_shopify_add(shop, 2, recent, NULL, "bora@example.com", "+905320000002", "40.00", "TRY");
    fake_shopify_add(shop, 3, done, done, "cem@example.com", NULL, "75.00", "TRY");
    long long ag = agent_new("Shopify agent", "/s", 60, 7);
    char body[512];
    snprintf(body, sizeof(body),
             "{\"platform\":\"shopify\",\"shop_domain\":\"acme.myshopify.com\","
             "\"access_token\":\"shpat_bad\",\"base_url\":\"%s\"}",
             fake_shopify_url(shop));
    long long in = integration_new(ag, body);
    char path[160];
    snprintf(path, sizeof(path), "/api/agents/%lld/integrations/%lld", ag, in);
    char test[200];
    snprintf(test, sizeof(test), "%s/test", path);

    /* the connection test says what failed, then that it works */
    json_t *t = call("POST", test, ADMIN, NULL, 200);
    assert_false(json_is_true(json_object_get(t, "ok")));
    assert_string_equal(str(t, "stage"), "unauthorized");
    assert_int_equal(num(t, "status"), 401);
    json_decref(t);
    json_decref(call("PUT", path, ADMIN, "{\"access_token\":\"shpat_good\"}", 200));
    t = call("POST", test, ADMIN, NULL, 200);
    assert_true(json_is_true(json_object_get(t, "ok")));
    assert_int_equal(num(t, "carts_seen"), 3);
    json_decref(t);

    /* the first delivery is answered 500, then retried */
    fake_receiver_fail(rcv, "/s", 500, 1);
    json_t *cy = cycle_once();
    assert_int_equal(num(cy, "carts_fetched"), 3);
    assert_int_equal(num(cy, "agents_found"), 1);
    assert_int_equal(num(cy, "platforms_processed"), 1);
    assert_int_equal(num(cy, "deliveries_queued"), 1);
    assert_int_equal(num(cy, "errors"), 0);
    json_decref(cy);
    assert_true(wait_count("/s", 2));
    struct fake_hook h1, h2;
    assert_true(fake_receiver_get(rcv, "/s", 0, &h1));
    assert_true(fake_receiver_get(rcv, "/s", 1, &h2));
    assert_int_equal(h1.answered, 500);
    assert_int_equal(h2.answered, 200);
    assert_true(h2.verified);
    assert_string_equal(h1.id, h2.id);
    assert_string_equal(h2.type, "cart.recovery");
    json_t *payload = json_loads(h2.body, 0, NULL);
    assert_non_null(payload);
    json_t *data = json_object_get(payload, "data");
    assert_int_equal(num(json_object_get(data, "agent_info"), "id"), ag);
    assert_string_equal(str(json_object_get(data, "agent_info"), "company"), "Acme");
    json_t *carts = json_object_get(data, "abandoned_carts");
    assert_int_equal(json_array_size(carts), 1); /* the recent one waits, the completed left */
    json_t *c0 = json_array_get(carts, 0);
    assert_string_equal(str(json_object_get(c0, "customer"), "email"), "ayse@example.com");
    assert_string_equal(str(c0, "total_value"), "120.50");
    assert_int_equal(strncmp(str(c0, "cart_id"), "crt_", 4), 0);
    assert_true(strlen(str(c0, "checkout_url")) > 0);
    assert_true(json_array_size(json_object_get(c0, "items")) >= 1);
    json_t *an = json_object_get(data, "recovery_analytics");
    assert_int_equal(num(an, "total_carts"), 1);
    assert_string_equal(str(an, "platform"), "shopify");
    json_decref(payload);
    assert_int_equal(harness_db_i64(srv.db_url, "SELECT count(*) FROM recovery_carts WHERE "
                                                "state = 'completed'"),
                     1);
    assert_int_equal(harness_db_i64(srv.db_url, "SELECT count(*) FROM cart"), 3);

    /* the watermark: the next poll asks only for newer checkouts and sends nothing again */
    cy = cycle_once();
    json_decref(cy);
    char filter[256];
    fake_shopify_last_filter(shop, filter, sizeof(filter));
    assert_non_null(strstr(filter, "updated_at:>"));
    harness_sleep_ms(300);
    assert_int_equal(fake_receiver_count(rcv, "/s"), 2);

    /* replayed by hand: the same delivery again */
    json_t *ds = call("GET", "/api/webhook-deliveries", ADMIN, NULL, 200);
    json_t *d = json_array_get(json_object_get(ds, "deliveries"), 0);
    assert_string_equal(str(d, "type"), "cart.recovery");
    assert_string_equal(str(d, "status"), "succeeded");
    char retry[96];
    snprintf(retry, sizeof(retry), "/api/webhook-deliveries/%lld/retry", num(d, "id"));
    json_decref(ds);
    json_decref(call("POST", retry, ADMIN, NULL, 202));
    json_decref(call("POST", retry, other_key, NULL, 404));
    assert_true(wait_count("/s", 3));
    struct fake_hook h3;
    assert_true(fake_receiver_get(rcv, "/s", 2, &h3));
    assert_string_equal(h3.id, h1.id);
    assert_true(h3.verified);

    /* cooldown and consent: a cut-off of one minute makes the recent carts abandoned */
    char newer[32];
    iso_ago(5, newer);
    fake_shopify_add(shop, 4, newer, NULL, "ayse@example.com", NULL, "10.00", "TRY");
    fake_shopify_add(shop, 5, newer, NULL, "dilek@example.com", "+905320000005", "20.00", "TRY");
    harness_db_exec(srv.db_url,
                    "INSERT INTO contacts (tenant_id, phone, email, language, marketing_consent, "
                    "created_at, updated_at) VALUES (1, '+905320000005', 'dilek@example.com', "
                    "'tr', 0, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')");
    char agent_path[64];
    snprintf(agent_path, sizeof(agent_path), "/api/agents/%lld", ag);
    json_decref(call("PUT", agent_path, ADMIN, "{\"settings\":{\"cutoff_minutes\":1}}", 200));
    cy = cycle_once();
    json_decref(cy);
    assert_true(wait_count("/s", 4));
    struct fake_hook h4;
    assert_true(fake_receiver_get(rcv, "/s", 3, &h4));
    payload = json_loads(h4.body, 0, NULL);
    carts = json_object_get(json_object_get(payload, "data"), "abandoned_carts");
    /* only bora's: ayse was recovered within the cooldown, dilek withdrew consent */
    assert_int_equal(json_array_size(carts), 1);
    assert_string_equal(str(json_object_get(json_array_get(carts, 0), "customer"), "email"),
                        "bora@example.com");
    json_decref(payload);
    assert_int_equal(harness_db_i64(srv.db_url, "SELECT count(*) FROM recovery_carts WHERE "
                                                "state = 'skipped'"),
                     2);
    agent_off(ag);
}

static void test_woocommerce(void **state)
{
    (void)state;
    char old[32];
    iso_ago(120, old);
    old[19] = '\0'; /* WooCommerce's GMT times carry no zone */
    fake_woo_add(woo, 501, "pending", old, "emre@example.com", "55.25");
    long long ag = agent_new("Woo agent", "/w", 60, 7);
    char body[512];
    snprintf(body, sizeof(body),
             "{\"platform\":\"woocommerce\",\"site_url\":\"%s\",\"consumer_key\":\"ck_good\","
             "\"consumer_secret\":\"cs_good\"}",
             fake_woo_url(woo));
    long long in = integration_new(ag, body);
    char test[200];
    snprintf(test, sizeof(test), "/api/agents/%lld/integrations/%lld/test", ag, in);
    json_t *t = call("POST", test, ADMIN, NULL, 200);
    assert_true(json_is_true(json_object_get(t, "ok")));
    json_decref(t);
    json_t *cy = cycle_once();
    assert_int_equal(num(cy, "errors"), 0);
    assert_true(num(cy, "carts_fetched") >= 1);
    json_decref(cy);
    assert_true(wait_count("/w", 1));
    struct fake_hook h;
    assert_true(fake_receiver_get(rcv, "/w", 0, &h));
    assert_true(h.verified);
    assert_non_null(strstr(h.body, "emre@example.com"));
    assert_non_null(strstr(h.body, "\"platform\":\"woocommerce\""));
    char q[512];
    fake_woo_last_query(woo, q, sizeof(q));
    assert_non_null(strstr(q, "modified_after"));
    agent_off(ag);
}

static void test_upstream_failures(void **state)
{
    (void)state;
    iso_ago(120, feed_updated);
    long long ag = agent_new("Feed agent", "/f", 60, 7);
    char body[512];
    snprintf(body, sizeof(body), "{\"platform\":\"custom\",\"feed_url\":\"%s/carts\"}",
             fake_http_url(feed));
    long long in = integration_new(ag, body);
    char path[160];
    snprintf(path, sizeof(path), "/api/agents/%lld/integrations/%lld", ag, in);

    feed_mode = 1; /* malformed JSON */
    json_t *cy = cycle_once();
    assert_int_equal(num(cy, "errors"), 1);
    assert_true(strlen(str(cy, "last_error")) > 0);
    json_decref(cy);
    feed_mode = 2; /* 500 */
    cy = cycle_once();
    assert_int_equal(num(cy, "errors"), 1);
    assert_non_null(strstr(str(cy, "last_error"), "500"));
    json_decref(cy);
    feed_mode = 3; /* 401: polling the integration stops until its credentials change */
    cy = cycle_once();
    assert_int_equal(num(cy, "errors"), 1);
    json_decref(cy);
    json_t *in_json = call("GET", path, ADMIN, NULL, 200);
    assert_string_equal(str(in_json, "state"), "unauthorized");
    assert_int_equal(num(in_json, "failures"), 3);
    json_decref(in_json);
    json_t *alerts = call("GET", "/api/alerts", ADMIN, NULL, 200);
    assert_true(json_has(alerts, "recovery.integration"));
    json_decref(alerts);
    json_t *t = call("POST", "/polling/abandoned-cart/test-once", ADMIN, NULL, 202);
    assert_int_equal(num(t, "jobs"), 0);
    json_decref(t);
    harness_sleep_ms(200);
    assert_int_equal(fake_receiver_count(rcv, "/f"), 0);

    /* new credentials: active again, and the feed's cart arrives once */
    feed_mode = 0;
    json_decref(call("PUT", path, ADMIN, "{\"access_token\":\"feed-token\"}", 200));
    cy = cycle_once();
    assert_int_equal(num(cy, "errors"), 0);
    assert_int_equal(num(cy, "carts_fetched"), 1);
    json_decref(cy);
    assert_true(wait_count("/f", 1));
    cy = cycle_once();
    json_decref(cy);
    harness_sleep_ms(300);
    assert_int_equal(fake_receiver_count(rcv, "/f"), 1);
    struct fake_hook h;
    assert_true(fake_receiver_get(rcv, "/f", 0, &h));
    assert_non_null(strstr(h.body, "\"total_value\":\"30.00\""));
    agent_off(ag);
}

/*
 * One poll of more carts than one batched run holds, with a cart listed twice: every cart lands
 * once, the later copy wins, all go out in one delivery and are listed as sent.
 */
static void test_many_carts(void **state)
{
    (void)state;
    iso_ago(120, feed_updated);
    long long ag = agent_new("Many agent", "/many", 60, 7);
    char body[512];
    snprintf(body, sizeof(body), "{\"platform\":\"custom\",\"feed_url\":\"%s/carts\"}",
             fake_http_url(feed));
    long long in = integration_new(ag, body);
    feed_mode = 4;
    json_t *cy = cycle_once();
    feed_mode = 0;
    assert_int_equal(num(cy, "errors"), 0);
    assert_int_equal(num(cy, "carts_fetched"), MANY_CARTS + 1);
    json_decref(cy);
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM recovery_carts WHERE integration_id = %lld",
             in);
    assert_int_equal(harness_db_i64(srv.db_url, sql), MANY_CARTS);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM recovery_carts r JOIN cart k ON k.cart_id = r.cart_id WHERE "
             "r.integration_id = %lld AND r.platform_id = 'M-5' AND k.total_amount = 250",
             in);
    assert_int_equal(harness_db_i64(srv.db_url, sql), 1);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM cart_item i JOIN recovery_carts r ON r.cart_id = i.cart_id "
             "WHERE r.integration_id = %lld",
             in);
    assert_int_equal(harness_db_i64(srv.db_url, sql), MANY_CARTS);
    assert_true(wait_count("/many", 1));
    /* one delivery carried them all */
    snprintf(sql, sizeof(sql),
             "SELECT count(DISTINCT delivery_id) * 1000 + count(delivery_id) FROM recovery_carts "
             "WHERE integration_id = %lld",
             in);
    assert_int_equal(harness_db_i64(srv.db_url, sql), 1000 + MANY_CARTS);
    size_t sent = 0;
    long long after = 0;
    for (;;) {
        char path[128], cursor[40] = "";
        if (after)
            snprintf(cursor, sizeof(cursor), "&after=%lld", after);
        snprintf(path, sizeof(path), "/api/recovery/carts?state=sent&limit=50%s", cursor);
        json_t *page = call("GET", path, ADMIN, NULL, 200);
        json_t *carts = json_object_get(page, "carts");
        for (size_t i = 0; i < json_array_size(carts); i++)
            sent += num(json_array_get(carts, i), "integration_id") == in;
        json_t *next = json_object_get(page, "next_after");
        after = json_is_integer(next) ? (long long)json_integer_value(next) : 0;
        json_decref(page);
        if (!after)
            break;
    }
    assert_int_equal(sent, MANY_CARTS);
    agent_off(ag);
}

/* WhatsApp requests to `to` so far, the last into *last. */
static size_t wa_to(const char *to, struct fake_wa_request *last)
{
    size_t n = 0;
    for (size_t i = 0; i < fake_whatsapp_count(wa); i++) {
        struct fake_wa_request q;
        if (fake_whatsapp_get(wa, i, &q) && strcmp(q.to, to) == 0) {
            n++;
            *last = q;
        }
    }
    return n;
}

static size_t wait_wa(const char *to, size_t n, struct fake_wa_request *last)
{
    for (int i = 0; i < 200 && wa_to(to, last) < n; i++)
        harness_sleep_ms(50);
    return wa_to(to, last);
}

/* The recovered value in `currency` of a status answer (0 when it has none). */
static long long recovered_in(json_t *st, const char *currency)
{
    json_t *by = json_object_get(json_object_get(st, "recovered"), "by_currency");
    for (size_t i = 0; i < json_array_size(by); i++)
        if (strcmp(str(json_array_get(by, i), "currency"), currency) == 0)
            return num(json_array_get(by, i), "value");
    return 0;
}

/* The integration's one cart in `state` from GET /api/recovery/carts (paged), or NULL. */
static json_t *recovery_cart_of(long long integration, const char *state)
{
    json_t *found = NULL;
    long long after = 0;
    for (;;) {
        char path[128], cursor[40] = "";
        if (after)
            snprintf(cursor, sizeof(cursor), "&after=%lld", after);
        snprintf(path, sizeof(path), "/api/recovery/carts?state=%s&limit=2%s", state, cursor);
        json_t *page = call("GET", path, ADMIN, NULL, 200);
        json_t *carts = json_object_get(page, "carts");
        for (size_t i = 0; i < json_array_size(carts); i++) {
            json_t *x = json_array_get(carts, i);
            assert_string_equal(str(x, "state"), state);
            if (num(x, "integration_id") == integration) {
                assert_null(found);
                found = json_incref(x);
            }
        }
        json_t *next = json_object_get(page, "next_after");
        after = json_is_integer(next) ? (long long)json_integer_value(next) : 0;
        json_decref(page);
        if (!after)
            return found;
    }
}

static void test_whatsapp(void **state)
{
    (void)state;
    struct fake_shopify *own = fake_shopify_start("shpat_wa");
    assert_non_null(own);
    char updated[32];
    iso_ago(5, updated);
    fake_shopify_add(own, 61, updated, NULL, "fatma@example.com", "+905320000061", "99.90", "TRY");
    /* a cut-off of one minute; a message at once and a reminder a minute later */
    long long ag = agent_new("WhatsApp agent", "/wa", 1, 7);
    char agent_path[64];
    snprintf(agent_path, sizeof(agent_path), "/api/agents/%lld", ag);
    json_decref(call("PUT", agent_path, ADMIN, "{\"settings\":{\"sequence\":[0,1]}}", 200));
    char body[512];
    snprintf(body, sizeof(body),
             "{\"platform\":\"shopify\",\"shop_domain\":\"wa.myshopify.com\","
             "\"access_token\":\"shpat_wa\",\"base_url\":\"%s\"}",
             fake_shopify_url(own));
    long long integ = integration_new(ag, body);
    json_decref(cycle_once());
    assert_true(wait_count("/wa", 1));
    struct fake_wa_request q;
    assert_int_equal(wait_wa("905320000061", 1, &q), 1);
    /* never wrote to us: outside the 24-hour window, so the template carries the text */
    assert_string_equal(q.type, "template");
    assert_string_equal(q.template_name, "cart_recovery");
    assert_non_null(strstr(q.template_param, "Merhaba"));
    assert_non_null(strstr(q.template_param, "99.90 TRY"));
    assert_non_null(strstr(q.template_param, "https://"));
    /* the reminder, once, then the sequence has ended */
    json_decref(cycle_once());
    assert_int_equal(wait_wa("905320000061", 2, &q), 2);
    assert_non_null(strstr(q.template_param, "Hatırlatma"));
    json_decref(cycle_once());
    harness_sleep_ms(300);
    assert_int_equal(wa_to("905320000061", &q), 2);
    assert_int_equal(fake_receiver_count(rcv, "/wa"), 1); /* one delivery for the cart */
    json_t *st = call("GET", "/polling/status", ADMIN, NULL, 200);
    long long succeeded = 0;
    json_t *cycles = json_object_get(st, "cycles");
    for (size_t i = 0; i < json_array_size(cycles); i++)
        succeeded += num(json_array_get(cycles, i), "deliveries_succeeded");
    assert_true(succeeded >= 1);
    long long recovered = num(json_object_get(st, "recovered"), "value");
    long long recovered_try = recovered_in(st, "TRY");
    json_decref(st);
    /* the carts listing shows it sent, with both messages and its value */
    json_t *cart = recovery_cart_of(integ, "sent");
    assert_non_null(cart);
    assert_string_equal(str(cart, "currency"), "TRY");
    assert_string_equal(str(cart, "total"), "99.90");
    assert_string_equal(str(cart, "recovered_value"), "0.00");
    assert_string_equal(str(cart, "platform"), "shopify");
    assert_int_equal(num(cart, "messages_sent"), 2);
    assert_non_null(json_string_value(json_object_get(cart, "delivered_at")));
    json_decref(cart);

    /* the customer finishes the checkout: it leaves recovery as recovered revenue */
    char later[32];
    iso_ago(-1, later);
    fake_shopify_add(own, 61, later, later, "fatma@example.com", "+905320000061", "99.90", "TRY");
    json_decref(cycle_once());
    st = call("GET", "/polling/status", ADMIN, NULL, 200);
    assert_int_equal(num(json_object_get(st, "recovered"), "value"), recovered + 9990);
    /* per currency: TRY grew by the cart's value, with its decimal text */
    assert_int_equal(recovered_in(st, "TRY"), recovered_try + 9990);
    json_t *by = json_object_get(json_object_get(st, "recovered"), "by_currency");
    for (size_t i = 0; i < json_array_size(by); i++)
        if (strcmp(str(json_array_get(by, i), "currency"), "TRY") == 0)
            assert_non_null(json_string_value(json_object_get(json_array_get(by, i), "amount")));
    json_decref(st);
    assert_null(recovery_cart_of(integ, "sent"));
    cart = recovery_cart_of(integ, "completed");
    assert_non_null(cart);
    assert_string_equal(str(cart, "recovered_value"), "99.90");
    assert_non_null(json_string_value(json_object_get(cart, "completed_at")));
    json_decref(cart);
    /* another tenant lists none of them; an unknown state is refused by name */
    json_t *r = call("GET", "/api/recovery/carts", other_key, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(r, "carts")), 0);
    json_decref(r);
    r = call("GET", "/api/recovery/carts?state=lost", ADMIN, NULL, 400);
    assert_string_equal(str(json_object_get(r, "error"), "field"), "state");
    json_decref(r);
    agent_off(ag);
    fake_shopify_stop(own);
}

/*
 * A customer who ordered after abandoning the cart leaves recovery: the first message went out,
 * then an order is placed through the API, and the reminder never comes.
 */
static void test_later_order_leaves_recovery(void **state)
{
    (void)state;
    struct fake_shopify *own = fake_shopify_start("shpat_lo");
    assert_non_null(own);
    char updated[32];
    iso_ago(5, updated);
    fake_shopify_add(own, 71, updated, NULL, "ali@example.com", "+905320000071", "45.00", "TRY");
    long long ag = agent_new("Order agent", "/lo", 1, 7);
    char agent_path[64];
    snprintf(agent_path, sizeof(agent_path), "/api/agents/%lld", ag);
    json_decref(call("PUT", agent_path, ADMIN, "{\"settings\":{\"sequence\":[0,1]}}", 200));
    char body[512];
    snprintf(body, sizeof(body),
             "{\"platform\":\"shopify\",\"shop_domain\":\"lo.myshopify.com\","
             "\"access_token\":\"shpat_lo\",\"base_url\":\"%s\"}",
             fake_shopify_url(own));
    integration_new(ag, body);
    json_decref(cycle_once());
    assert_true(wait_count("/lo", 1));
    struct fake_wa_request q;
    assert_int_equal(wait_wa("905320000071", 1, &q), 1);

    /* the cart's customer orders something through the API */
    json_t *list = call("GET", "/api/customers?limit=200", ADMIN, NULL, 200);
    char customer[64] = "";
    json_t *arr = json_object_get(list, "data");
    if (!arr)
        arr = json_object_get(list, "customers");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *cu = json_array_get(arr, i);
        const char *email = json_string_value(json_object_get(cu, "email"));
        if (email && strcmp(email, "ali@example.com") == 0)
            snprintf(customer, sizeof(customer), "%s", str(cu, "id"));
    }
    json_decref(list);
    assert_true(customer[0] != '\0');
    json_t *prod = call("POST", "/api/products", ADMIN,
                        "{\"name\":\"Lokum\",\"price\":\"45\",\"currency\":\"TRY\"}", 201);
    snprintf(body, sizeof(body),
             "{\"customer_id\":\"%s\",\"currency\":\"TRY\",\"items\":[{\"product_id\":\"%s\","
             "\"quantity\":1,\"unit_price\":\"45\"}]}",
             customer, str(prod, "id"));
    json_decref(prod);
    json_decref(call("POST", "/api/orders", ADMIN, body, 201));

    /* the reminder is due (a minute after abandonment): nothing is sent, the cart left recovery */
    json_decref(cycle_once());
    json_decref(cycle_once());
    harness_sleep_ms(300);
    assert_int_equal(wa_to("905320000071", &q), 1);
    assert_int_equal(fake_receiver_count(rcv, "/lo"), 1);
    agent_off(ag);
    fake_shopify_stop(own);
}

/*
 * A WooCommerce order left pending is recovered, then paid at the shop: it is no longer among the
 * unfinished orders, so the next cycle learns it from the paid ones (modified since the
 * watermark), completes the cart as recovered revenue, and the due reminder never goes out. A
 * paid order that was never an unfinished cart lands nothing.
 */
static void test_woo_paid_later(void **state)
{
    (void)state;
    struct fake_woo *own = fake_woo_start("ck_paid", "cs_paid");
    assert_non_null(own);
    char updated[32];
    iso_ago(5, updated);
    updated[19] = '\0';
    fake_woo_add(own, 701, "pending", updated, "paid.later@example.com", "42.50");
    fake_woo_add(own, 702, "completed", updated, "never.cart@example.com", "19.00");
    long long ag = agent_new("Woo paid agent", "/wp", 1, 7);
    char agent_path[64];
    snprintf(agent_path, sizeof(agent_path), "/api/agents/%lld", ag);
    json_decref(call("PUT", agent_path, ADMIN, "{\"settings\":{\"sequence\":[0,1]}}", 200));
    char body[512];
    snprintf(body, sizeof(body),
             "{\"platform\":\"woocommerce\",\"site_url\":\"%s\",\"consumer_key\":\"ck_paid\","
             "\"consumer_secret\":\"cs_paid\"}",
             fake_woo_url(own));
    long long in = integration_new(ag, body);
    struct fake_wa_request q;
    size_t before = wa_to("905330000002", &q);
    json_t *cy = cycle_once();
    assert_int_equal(num(cy, "carts_fetched"), 1);
    json_decref(cy);
    assert_true(wait_count("/wp", 1));
    assert_int_equal(wait_wa("905330000002", before + 1, &q), before + 1);
    json_t *st = call("GET", "/polling/status", ADMIN, NULL, 200);
    long long recovered = num(json_object_get(st, "recovered"), "value");
    json_decref(st);

    /* paid at the shop a moment later */
    char paid[32];
    iso_ago(-1, paid);
    paid[19] = '\0';
    assert_true(fake_woo_set_status(own, 701, "processing", paid));
    json_decref(cycle_once());
    char query[512];
    fake_woo_last_query(own, query, sizeof(query));
    assert_non_null(strstr(query, "status=processing,completed"));
    assert_non_null(strstr(query, "modified_after="));
    st = call("GET", "/polling/status", ADMIN, NULL, 200);
    assert_int_equal(num(json_object_get(st, "recovered"), "value"), recovered + 4250);
    json_decref(st);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM recovery_carts WHERE integration_id = %lld AND "
             "platform_id = '701' AND state = 'completed' AND recovered_value = 4250",
             in);
    assert_int_equal(harness_db_i64(srv.db_url, sql), 1);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM recovery_carts WHERE integration_id = %lld",
             in);
    assert_int_equal(harness_db_i64(srv.db_url, sql), 1); /* 702 landed nothing */

    /* the reminder was due a minute after abandonment: it never comes, nor a second delivery */
    json_decref(cycle_once());
    harness_sleep_ms(300);
    assert_int_equal(wa_to("905330000002", &q), before + 1);
    assert_int_equal(fake_receiver_count(rcv, "/wp"), 1);
    agent_off(ag);
    fake_woo_stop(own);
}

static long long scheduled_cycles(const char *key)
{
    json_t *st = call("GET", "/api/polling/status", key, NULL, 200);
    long long n = 0;
    json_t *cycles = json_object_get(st, "cycles");
    for (size_t i = 0; i < json_array_size(cycles); i++)
        n += strcmp(str(json_array_get(cycles, i), "kind"), "schedule") == 0;
    json_decref(st);
    return n;
}

static void test_start_restart_stop(void **state)
{
    (void)state;
    json_t *r = call("POST", "/polling/start-abandoned-cart?interval=0", ADMIN, NULL, 400);
    assert_string_equal(str(json_object_get(r, "error"), "field"), "interval");
    json_decref(r);
    json_t *st = call("POST", "/polling/start-abandoned-cart?interval=1", ADMIN, NULL, 200);
    assert_string_equal(str(st, "state"), "running");
    assert_int_equal(num(st, "interval_s"), 1);
    json_decref(st);
    long long deadline = harness_deadline(15000);
    while (scheduled_cycles(ADMIN) < 2 && harness_before(deadline))
        harness_sleep_ms(100);
    assert_true(scheduled_cycles(ADMIN) >= 2);
    /* another tenant's poller is its own */
    st = call("GET", "/polling/status", other_key, NULL, 200);
    assert_string_equal(str(st, "state"), "stopped");
    json_decref(st);
    assert_int_equal(scheduled_cycles(other_key), 0);

    /* a restart resumes */
    assert_int_equal(server_stop(&srv), 0);
    long long before = harness_db_i64(srv.db_url, "SELECT count(*) FROM recovery_cycles WHERE "
                                                  "kind = 'schedule'");
    char url[600];
    snprintf(url, sizeof(url), "%s", srv.db_url);
    assert_int_equal(server_start(&srv, url, env), 0);
    st = call("GET", "/polling/status", ADMIN, NULL, 200);
    assert_string_equal(str(st, "state"), "running");
    json_decref(st);
    deadline = harness_deadline(15000);
    while (harness_db_i64(srv.db_url,
                          "SELECT count(*) FROM recovery_cycles WHERE kind = 'schedule'") <=
               before &&
           harness_before(deadline))
        harness_sleep_ms(100);
    assert_true(
        harness_db_i64(srv.db_url, "SELECT count(*) FROM recovery_cycles WHERE kind = 'schedule'") >
        before);

    st = call("POST", "/api/polling/stop", ADMIN, NULL, 200);
    assert_string_equal(str(st, "state"), "stopped");
    json_decref(st);
    harness_sleep_ms(1500);
    long long stopped = harness_db_i64(srv.db_url, "SELECT count(*) FROM recovery_cycles");
    harness_sleep_ms(2000);
    assert_int_equal(harness_db_i64(srv.db_url, "SELECT count(*) FROM recovery_cycles"), stopped);

    /* the metrics carry the poller's counters */
    struct resp m;
    assert_int_equal(http_get(&srv, "/metrics", NULL, &m), 0);
    assert_non_null(strstr(m.body, "iceshop_recovery_cycle_duration_seconds_bucket"));
    resp_free(&m);
}

int main(void)
{
    if (!harness_backend_available()) {
        printf("skipped: backend %s not available\n", harness_backend());
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agents_and_integrations),
        cmocka_unit_test(test_shopify),
        cmocka_unit_test(test_woocommerce),
        cmocka_unit_test(test_upstream_failures),
        cmocka_unit_test(test_many_carts),
        cmocka_unit_test(test_whatsapp),
        cmocka_unit_test(test_later_order_leaves_recovery),
        cmocka_unit_test(test_woo_paid_later),
        cmocka_unit_test(test_start_restart_stop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
