/* SPDX-License-Identifier: MIT */
/*
 * KVKK / GDPR requests over real HTTP: a buyer who registered, wished for something and wrote on
 * WhatsApp is exported (every place that holds them) and erased; afterwards no route returns
 * their phone or name, the same phone in another tenant is untouched, and each request is
 * recorded with only a hash. Runs on the backend TEST_BACKEND selects.
 */
#include "support/harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define ADMIN      HARNESS_ADMIN_KEY
#define APP_SECRET "meta-app-secret-for-privacy-tests"
#define PHONE      "905330000081"
#define NAME       "Şükrü Çağlar"

static struct server srv;
static char other_key[200], viewer_key[200];

static json_t *call(const char *method, const char *path, const char *key, const char *body,
                    long want)
{
    struct resp r;
    assert_int_equal(http_req(&srv, method, path, key, body ? "application/json" : NULL, body,
                              body ? strlen(body) : 0, NULL, &r),
                     0);
    if (r.status != want)
        fail_msg("%s %s: %ld, want %ld: %s", method, path, r.status, want, r.body);
    json_t *j = r.json ? json_incref(r.json) : NULL;
    resp_free(&r);
    return j;
}

static void cli_key(const char *args, char *out, size_t n)
{
    assert_int_equal(harness_cli(srv.db_url, args, out, n), 0);
    out[strcspn(out, "\r\n")] = '\0';
}

static int setup(void **state)
{
    (void)state;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    const char *env[] = {"ICESHOP_WHATSAPP_APP_SECRET=" APP_SECRET, NULL};
    if (server_start(&srv, url, env) != 0)
        return -1;
    return harness_manual_scans(&srv);
}

static int teardown(void **state)
{
    (void)state;
    return server_stop(&srv) == 0 ? 0 : -1;
}

static size_t rows(json_t *export, const char *table)
{
    return json_array_size(json_object_get(export, table));
}

/* Whether the documented GET operation `op` takes a `limit` query parameter. */
static bool takes_limit(json_t *op)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(op, "parameters"), i, p)
    {
        json_t *name = json_object_get(p, "name");
        if (json_is_string(name) && strcmp(json_string_value(name), "limit") == 0)
            return true;
    }
    return false;
}

/*
 * Every GET route the server documents (its own /openapi.json) without a path parameter, lists
 * at their largest page: none shows the phone or the name (the buyer's own route is 404 below).
 * Only the event stream is left out (it never ends; it carries events, not stored rows).
 */
static void no_route_shows_them(void)
{
    struct resp spec;
    assert_int_equal(http_get(&srv, "/openapi.json", ADMIN, &spec), 0);
    assert_int_equal(spec.status, 200);
    assert_non_null(spec.json);
    const char *path;
    json_t *ops;
    int checked = 0;
    json_object_foreach(json_object_get(spec.json, "paths"), path, ops)
    {
        json_t *get = json_object_get(ops, "get");
        if (!get || strchr(path, '{'))
            continue;
        json_t *content =
            json_object_get(json_object_get(json_object_get(get, "responses"), "200"), "content");
        if (json_object_get(content, "text/event-stream"))
            continue;
        char url[256];
        snprintf(url, sizeof(url), "%s%s", path, takes_limit(get) ? "?limit=500" : "");
        struct resp r;
        assert_int_equal(http_get(&srv, url, ADMIN, &r), 0);
        if (r.status >= 500)
            fail_msg("%s answered %ld", url, r.status);
        if (strstr(r.body, PHONE) || strstr(r.body, NAME))
            fail_msg("%s still shows the person: %.300s", url, r.body);
        resp_free(&r);
        checked++;
    }
    resp_free(&spec);
    assert_true(checked >= 30);
}

static void test_export_and_erase(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(harness_cli(srv.db_url, "tenants create other", out, sizeof(out)), 0);
    cli_key("keys create --tenant other --role admin", other_key, sizeof(other_key));
    cli_key("keys create --tenant default --role viewer", viewer_key, sizeof(viewer_key));
    const char *buyer = "{\"id\":\"P1\",\"phone_number\":\"+" PHONE "\",\"name\":\"" NAME "\","
                        "\"consent\":true,\"location\":{\"lat\":40.987,\"lng\":29.026}}";
    json_decref(call("POST", "/api/buyers/register", ADMIN, buyer, 201));
    json_decref(call("POST", "/api/buyers/register", other_key, buyer, 201));
    json_decref(call("POST", "/api/buyers/signal", ADMIN,
                     "{\"buyer_id\":\"P1\",\"text\":\"Latte istiyorum\"}", 201));
    char id[64];
    snprintf(id, sizeof(id), "wamid.privacy.%d", (int)getpid());
    assert_int_equal(harness_meta_text(&srv, APP_SECRET, PHONE, id, "merhaba, ne var ne yok"), 200);
    WAIT_FOR(harness_db_i64(srv.db_url, "SELECT count(*) FROM messages WHERE phone = '+" PHONE
                                        "' AND tenant_id = (SELECT id FROM tenants WHERE name = "
                                        "'default')") > 0,
             20000);

    /* a provider delivery kept in the ledger that names them (a Shopify order with their phone) */
    harness_db_exec(srv.db_url,
                    "INSERT INTO inbound_events (tenant_id, provider, event_id, body_sha256, body, "
                    "received_at) VALUES ((SELECT id FROM tenants WHERE name = 'default'), "
                    "'shopify', 'evt-privacy-1', 'x', '{\"phone\":\"+" PHONE
                    "\",\"total\":\"12.00\"}', "
                    "'2026-12-01T10:00:00Z')");

    /* an outbound webhook delivery that carried a message to them (message.failed) */
    json_t *ep = call(
        "POST", "/api/webhook-endpoints", ADMIN,
        "{\"url\":\"https://hooks.example.com/iceshop\",\"events\":[\"message.failed\"]}", 201);
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "INSERT INTO webhook_deliveries (tenant_id, endpoint_id, msg_id, event_type, body, "
             "status, attempts, created_at, updated_at) VALUES ((SELECT id FROM tenants WHERE "
             "name = 'default'), (SELECT max(id) FROM webhook_endpoints), 'msg_privacy_1', "
             "'message.failed', '{\"message\":{\"phone\":\"+" PHONE "\",\"body\":\"Merhaba " NAME
             "\"}}', 'dead', 8, '2026-12-01T10:00:00Z', '2026-12-01T10:00:00Z')");
    harness_db_exec(srv.db_url, sql);
    json_decref(ep);

    /* a shop customer with the same phone: an order (kept by erasure) and a cart (not) */
    json_t *cus = call("POST", "/api/customers", ADMIN,
                       "{\"email\":\"Sukru@Example.com\",\"phone\":\"+" PHONE "\"}", 201);
    json_t *prod = call("POST", "/api/products", ADMIN,
                        "{\"name\":\"Latte\",\"price\":\"85.50\",\"currency\":\"TRY\"}", 201);
    char order[512];
    snprintf(order, sizeof(order),
             "{\"customer_id\":\"%s\",\"currency\":\"TRY\",\"items\":[{\"product_id\":\"%s\","
             "\"quantity\":2,\"unit_price\":\"85.50\"}]}",
             json_string_value(json_object_get(cus, "id")),
             json_string_value(json_object_get(prod, "id")));
    json_decref(call("POST", "/api/orders", ADMIN, order, 201));
    json_decref(call("POST", "/api/carts", ADMIN, order, 201));
    char cus_path[128];
    snprintf(cus_path, sizeof(cus_path), "/api/customers/%s",
             json_string_value(json_object_get(cus, "id")));
    json_decref(cus);
    json_decref(prod);

    /* bad requests name the field; only an admin may ask */
    json_t *bad = call("GET", "/api/privacy/export", ADMIN, NULL, 400);
    assert_string_equal(json_string_value(json_object_get(json_object_get(bad, "error"), "field")),
                        "phone");
    json_decref(bad);
    json_decref(call("GET", "/api/privacy/export?phone=12ab", ADMIN, NULL, 400));
    json_decref(call("GET", "/api/privacy/export?email=x%20y@z", ADMIN, NULL, 400));
    json_decref(call("GET", "/api/privacy/export?phone=" PHONE, viewer_key, NULL, 403));
    json_decref(
        call("POST", "/api/privacy/erase", ADMIN, "{\"phone\":\"+" PHONE "\",\"x\":1}", 400));

    /* the export finds them everywhere */
    json_t *x = call("GET", "/api/privacy/export?phone=%2B" PHONE, ADMIN, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(json_object_get(x, "subject"), "phone")),
                        "+" PHONE);
    assert_int_equal(rows(x, "buyers"), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(x, "buyers"), 0), "name")),
        NAME);
    assert_true(rows(x, "demand_signals") >= 1);
    assert_true(rows(x, "messages") >= 1);
    assert_true(rows(x, "chat_events") >= 1);
    assert_true(rows(x, "inbound_events") >= 1);
    assert_int_equal(rows(x, "webhook_deliveries"), 1);
    assert_true(rows(x, "contacts") >= 1);
    assert_int_equal(rows(x, "customer"), 1);
    assert_int_equal(rows(x, "orders"), 1);
    assert_int_equal(rows(x, "cart"), 1);
    json_decref(x);
    /* the other tenant's export holds only its own buyer */
    x = call("GET", "/api/privacy/export?phone=" PHONE, other_key, NULL, 200);
    assert_int_equal(rows(x, "buyers"), 1);
    assert_int_equal(rows(x, "chat_events"), 0);
    json_decref(x);

    /* erased */
    json_t *er = call("POST", "/api/privacy/erase", ADMIN, "{\"phone\":\"" PHONE "\"}", 200);
    json_t *counts = json_object_get(er, "rows");
    assert_int_equal(json_integer_value(json_object_get(counts, "buyers")), 1);
    assert_true(json_integer_value(json_object_get(counts, "messages")) >= 1);
    assert_true(json_integer_value(json_object_get(counts, "chat_events")) >= 1);
    assert_int_equal(json_integer_value(json_object_get(counts, "webhook_deliveries")), 1);
    json_decref(er);
    /* the delivery stays in the ledger (its id), without the person */
    assert_int_equal(harness_db_i64(srv.db_url,
                                    "SELECT count(*) FROM webhook_deliveries WHERE "
                                    "msg_id = 'msg_privacy_1' AND body NOT LIKE '%" PHONE "%'"),
                     1);
    json_decref(call("GET", "/api/buyers/P1", ADMIN, NULL, 404));
    /* the customer stays for the order the law keeps, without anything that names them */
    json_t *anon = call("GET", cus_path, ADMIN, NULL, 200);
    assert_true(json_is_null(json_object_get(anon, "phone")));
    assert_true(json_is_null(json_object_get(anon, "email")));
    json_decref(anon);
    assert_int_equal(harness_db_i64(srv.db_url, "SELECT count(*) FROM orders"), 1);
    assert_int_equal(harness_db_i64(srv.db_url, "SELECT count(*) FROM cart"), 0);
    x = call("GET", "/api/privacy/export?phone=" PHONE, ADMIN, NULL, 200);
    static const char *const tables[] = {
        "buyers",         "demand_signals", "messages", "chat_events",
        "inbound_events", "contacts",       "customer", "cart"};
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        if (rows(x, tables[i]))
            fail_msg("%s still holds the person after erasure", tables[i]);
    json_decref(x);
    /* no route answers with their phone or name any more */
    no_route_shows_them();
    /* the ledger row stays (a redelivery is still recognised), without the person */
    assert_int_equal(harness_db_i64(srv.db_url,
                                    "SELECT count(*) FROM inbound_events WHERE "
                                    "event_id = 'evt-privacy-1' AND body NOT LIKE '%" PHONE "%'"),
                     1);
    /* by email too (its LIKE wildcards escaped): an email message to them is found, then erased */
    json_decref(call("POST", "/api/messages/email", ADMIN,
                     "{\"to\":\"First_Last@example.com\",\"subject\":\"Fiş\",\"text\":\"Merhaba\"}",
                     202));
    x = call("GET", "/api/privacy/export?email=first_last@example.com", ADMIN, NULL, 200);
    assert_int_equal(rows(x, "messages"), 1);
    json_decref(x);
    x = call("GET", "/api/privacy/export?email=firstxlast@example.com", ADMIN, NULL, 200);
    assert_int_equal(rows(x, "messages"), 0); /* "_" is not a wildcard */
    json_decref(x);
    er = call("POST", "/api/privacy/erase", ADMIN, "{\"email\":\"FIRST_LAST@example.com\"}", 200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(er, "rows"), "messages")),
                     1);
    json_decref(er);
    /* the other tenant keeps its buyer */
    json_t *kept = call("GET", "/api/buyers/P1", other_key, NULL, 200);
    json_decref(kept);
    /* recorded, without the number */
    assert_int_equal(harness_db_i64(srv.db_url, "SELECT count(*) FROM privacy_requests"), 7);
    assert_int_equal(
        harness_db_i64(srv.db_url,
                       "SELECT count(*) FROM privacy_requests WHERE summary LIKE '%" PHONE "%' "
                       "OR subject_hash LIKE '%" PHONE "%'"),
        0);
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_and_erase),
    };
    return cmocka_run_group_tests_name(harness_backend(), tests, setup, teardown);
}
