/* SPDX-License-Identifier: MIT */
/*
 * The flash window story over real HTTP: register sellers and buyers (with validation), signal
 * demand and idleness, scan, generate (standing approval and ask-first), pre-commit, approve,
 * activate on time (and cancel under the minimum), join, redeem, seller summaries in the
 * outbox, tenant isolation, and a restart in the middle of a window's life that loses nothing
 * and activates nothing twice. Runs on the backend TEST_BACKEND selects.
 */
#include "support/harness.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <zlib.h>

#define ADMIN HARNESS_ADMIN_KEY

static struct server srv;

static int setup(void **state)
{
    (void)state;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    if (server_start(&srv, url, NULL) != 0)
        return -1;
    /* windows open only when a test asks: no automatic scans */
    return harness_manual_scans(&srv);
}

static int teardown(void **state)
{
    (void)state;
    return server_stop(&srv) == 0 ? 0 : -1;
}

/* POST and expect a status; returns the parsed body (caller json_decref). */
static json_t *post(const char *path, const char *body, long want)
{
    struct resp r;
    assert_int_equal(http_post_json(&srv, path, ADMIN, body, &r), 0);
    if (r.status != want)
        fprintf(stderr, "POST %s -> %ld (want %ld): %s\n", path, r.status, want, r.body);
    assert_int_equal(r.status, want);
    json_t *j = json_incref(r.json);
    resp_free(&r);
    return j;
}

static json_t *get(const char *path, long want)
{
    struct resp r;
    assert_int_equal(http_get(&srv, path, ADMIN, &r), 0);
    if (r.status != want)
        fprintf(stderr, "GET %s -> %ld (want %ld): %s\n", path, r.status, want, r.body);
    assert_int_equal(r.status, want);
    json_t *j = json_incref(r.json);
    resp_free(&r);
    return j;
}

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static long long num(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

static void seller(const char *id, const char *phone, const char *cat, double lat, double lng,
                   bool auto_approve)
{
    char body[600];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"phone_number\":\"%s\",\"name\":\"%s Dükkan\",\"category\":\"%s\","
             "\"location\":{\"lat\":%.6f,\"lng\":%.6f,\"district\":\"Kadıköy\","
             "\"neighborhood\":\"Moda\"},\"max_discount\":25,\"capacity\":5,"
             "\"auto_approve\":%s}",
             id, phone, id, cat, lat, lng, auto_approve ? "true" : "false");
    json_decref(post("/api/sellers/register", body, 201));
}

static void buyer(const char *id, const char *phone, double lat, double lng)
{
    char body[600];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"phone_number\":\"%s\",\"name\":\"%s\",\"location\":{\"lat\":%.6f,"
             "\"lng\":%.6f,\"district\":\"Kadıköy\",\"neighborhood\":\"Moda\"},"
             "\"categories\":[\"coffee\",\"bakery\"],\"price_sensitivity\":\"balanced\"}",
             id, phone, id, lat, lng);
    json_decref(post("/api/buyers/register", body, 201));
}

static void wish(const char *buyer_id, const char *product, const char *category)
{
    char body[300];
    snprintf(body, sizeof(body),
             "{\"buyer_id\":\"%s\",\"text\":\"%s istiyorum\",\"product\":\"%s\","
             "\"category\":\"%s\"}",
             buyer_id, product, product, category);
    json_decref(post("/api/buyers/signal", body, 201));
}

static char *iso_in(int seconds)
{
    static char buf[40];
    time_t t = time(NULL) + seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

static json_t *window(long long id)
{
    char path[64];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld", id);
    return get(path, 200);
}

static const char *wait_status(long long id, const char *want, int ms)
{
    static char last[32];
    for (long long end = harness_deadline(ms);; harness_sleep_ms(100)) {
        json_t *w = window(id);
        snprintf(last, sizeof(last), "%s", str(w, "status"));
        json_decref(w);
        if (strcmp(last, want) == 0 || !harness_before(end))
            break;
    }
    return last;
}

static int count_messages(long long window_id, const char *kind)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/messages?window_id=%lld&kind=%s&limit=500", window_id, kind);
    json_t *m = get(path, 200);
    int n = (int)json_array_size(json_object_get(m, "messages"));
    json_decref(m);
    return n;
}

/* Moda, Kadıköy: the coffee shop and four buyers 100-700 m away; one buyer far off. */
#define MODA_LAT 40.98700
#define MODA_LNG 29.02600

/* Inflate a gzip body as a client would; returns its length, the bytes in *out (malloc'd). */
static size_t gunzip(const char *in, size_t len, char **out)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    size_t cap = len * 20 + 4096;
    char *buf = malloc(cap);
    assert_non_null(buf);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)buf;
    z.avail_out = (uInt)cap;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = cap - z.avail_out;
    inflateEnd(&z);
    *out = buf;
    return n;
}

static void test_register_and_validate(void **state)
{
    (void)state;
    seller("S1", "+905320000001", "coffee", MODA_LAT, MODA_LNG, true);
    buyer("B1", "+905330000001", MODA_LAT + 0.0009, MODA_LNG);          /* ~100 m */
    buyer("B2", "+905330000002", MODA_LAT + 0.0030, MODA_LNG);          /* ~330 m */
    buyer("B3", "+905330000003", MODA_LAT, MODA_LNG + 0.0050);          /* ~420 m */
    buyer("B4", "+905330000004", MODA_LAT - 0.0063, MODA_LNG);          /* ~700 m */
    buyer("B5", "+905330000005", MODA_LAT + 0.0500, MODA_LNG + 0.0200); /* ~5.8 km */

    /* re-registering by phone updates the same buyer */
    json_t *b = post("/api/buyers/register",
                     "{\"phone_number\":\"+905330000001\",\"name\":\"Ayşe\",\"location\":"
                     "{\"lat\":40.9879,\"lng\":29.026},\"language\":\"en\"}",
                     200);
    assert_string_equal(str(b, "id"), "B1");
    assert_string_equal(str(b, "name"), "Ayşe");
    assert_string_equal(str(b, "language"), "en");
    json_decref(b);

    struct resp r;
    const struct {
        const char *path, *body, *field;
    } bad[] = {
        {"/api/buyers/register",
         "{\"phone_number\":\"+905339999999\",\"location\":{\"lat\":95,\"lng\":29}}",
         "location.lat"},
        {"/api/buyers/register", "{\"phone_number\":\"+905339999999\",\"location\":{\"lat\":41}}",
         "location.lng"},
        {"/api/buyers/register",
         "{\"phone_number\":\"call me\",\"location\":{\"lat\":41,\"lng\":29}}", "phone_number"},
        {"/api/buyers/register",
         "{\"phone_number\":\"+905339999999\",\"location\":{\"lat\":41,\"lng\":29},"
         "\"price_sensitivity\":\"cheap\"}",
         "price_sensitivity"},
        {"/api/buyers/register",
         "{\"phone_number\":\"+905339999999\",\"location\":{\"lat\":41,\"lng\":29},"
         "\"categories\":[\"coffee\",\"spaceships\"]}",
         "categories[1]"},
        {"/api/sellers/register",
         "{\"phone_number\":\"+905329999999\",\"name\":\"X\",\"category\":\"shoes\","
         "\"location\":{\"lat\":41,\"lng\":29}}",
         "category"},
        {"/api/sellers/register",
         "{\"phone_number\":\"+905329999999\",\"name\":\"X\",\"category\":\"coffee\","
         "\"location\":{\"lat\":41,\"lng\":29},\"max_discount\":95}",
         "max_discount"},
        {"/api/sellers/register",
         "{\"phone_number\":\"+905329999999\",\"name\":\"X\",\"category\":\"coffee\","
         "\"location\":{\"lat\":41,\"lng\":29},\"price_range\":{\"min\":100,\"max\":900,"
         "\"currency\":\"XYZ\"}}",
         "price_range.currency"},
        {"/api/sellers/register",
         "{\"phone_number\":\"+905329999999\",\"name\":\"X\",\"category\":\"coffee\","
         "\"location\":{\"lat\":41,\"lng\":29},\"price_range\":{\"min\":900,\"max\":100}}",
         "price_range.min"},
        {"/api/buyers/signal",
         "{\"buyer_id\":\"B1\",\"text\":\"kahve\",\"budget\":5000,\"currency\":\"tl\"}",
         "currency"},
        {"/api/buyers/signal", "{\"buyer_id\":\"B1\"}", "text"},
        {"/api/sellers/signal", "{\"seller_id\":\"S1\",\"signal_type\":\"sleepy\"}", "signal_type"},
        {"/api/sellers/signal", "{\"seller_id\":\"S1\",\"signal_type\":\"density\"}",
         "density_status"},
        /* far-future windows would block their seller (year 9999 once wrapped to 1970) */
        {"/api/flash-windows/create",
         "{\"seller_id\":\"S1\",\"discount_percent\":10,\"start_time\":\"9999-12-31T23:59:00Z\"}",
         "start_time"},
        {"/api/flash-windows/create",
         "{\"seller_id\":\"S1\",\"discount_percent\":10,\"start_time\":\"2100-01-01T00:00:00Z\"}",
         "start_time"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(http_post_json(&srv, bad[i].path, ADMIN, bad[i].body, &r), 0);
        if (r.status != 400 || strcmp(resp_error_field(&r), bad[i].field) != 0)
            fprintf(stderr, "case %zu: %ld %s\n", i, r.status, r.body);
        assert_int_equal(r.status, 400);
        assert_string_equal(resp_error_field(&r), bad[i].field);
        resp_free(&r);
    }
    /* unknown buyer for a signal */
    assert_int_equal(http_post_json(&srv, "/api/buyers/signal", ADMIN,
                                    "{\"buyer_id\":\"NOPE\",\"text\":\"kahve\"}", &r),
                     0);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    json_t *list = get("/api/buyers?limit=2", 200);
    assert_int_equal(json_array_size(json_object_get(list, "buyers")), 2);
    assert_true(json_is_integer(json_object_get(list, "next_after")));
    json_decref(list);
}

static json_t *put_config(const char *body, long want)
{
    struct resp r;
    assert_int_equal(http_req(&srv, "PUT", "/api/campaigns/config", ADMIN, "application/json", body,
                              strlen(body), NULL, &r),
                     0);
    if (r.status != want)
        fprintf(stderr, "PUT config -> %ld (want %ld): %s\n", r.status, want, r.body);
    assert_int_equal(r.status, want);
    json_t *j = json_incref(r.json);
    resp_free(&r);
    return j;
}

static void test_config_and_categories(void **state)
{
    (void)state;
    json_t *c = get("/api/campaigns/config", 200);
    assert_true(json_real_value(json_object_get(c, "radius_m")) == 1000.0);
    assert_int_equal(json_array_size(json_object_get(c, "tiers")), 3);
    assert_int_equal(num(c, "window_minutes"), 10);
    json_decref(c);
    const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"threshold\":1.5}", "threshold"},
        {"{\"weights\":{\"demand\":\"high\"}}", "weights.demand"},
        {"{\"weights\":{\"luck\":1}}", "weights.luck"},
        {"{\"tiers\":[{\"max_m\":600,\"discount\":20},{\"max_m\":300,\"discount\":15}]}",
         "tiers[1].max_m"},
        {"{\"extra_categories\":[\"coffee\"]}", "extra_categories[0]"},
        {"{\"extra_categories\":[\"Çiçek!\"]}", "extra_categories[0]"},
        {"{\"colour\":\"blue\"}", "colour"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct resp r;
        assert_int_equal(http_req(&srv, "PUT", "/api/campaigns/config", ADMIN, "application/json",
                                  bad[i].body, strlen(bad[i].body), NULL, &r),
                         0);
        if (r.status != 400 || strcmp(resp_error_field(&r), bad[i].field) != 0)
            fprintf(stderr, "config case %zu: %ld %s\n", i, r.status, r.body);
        assert_int_equal(r.status, 400);
        assert_string_equal(resp_error_field(&r), bad[i].field);
        resp_free(&r);
    }
    /* a refused change leaves the configuration as it was */
    c = get("/api/campaigns/config", 200);
    assert_true(json_real_value(json_object_get(c, "threshold")) == 0.5);
    json_decref(c);

    /* a tenant's own category */
    const char *florist = "{\"id\":\"F1\",\"phone_number\":\"+905320000099\",\"name\":\"Çiçekçi\","
                          "\"category\":\"florist\",\"location\":{\"lat\":40.99,\"lng\":29.03}}";
    json_decref(post("/api/sellers/register", florist, 400));
    c = put_config("{\"extra_categories\":[\"florist\"],\"window_minutes\":15}", 200);
    assert_int_equal(num(c, "window_minutes"), 15);
    assert_int_equal(num(c, "min_participants"), 2); /* untouched fields keep their value */
    json_decref(c);
    json_decref(post("/api/sellers/register", florist, 201));
    c = put_config("{\"window_minutes\":10}", 200);
    json_decref(c);
}

static long long s1_window;

#define GENERATE_RACERS 6

struct gen_call {
    long status;
    long long opened, window_id;
    char state[32], body[512];
};

static void *generate_call(void *arg)
{
    struct gen_call *g = arg;
    struct resp r;
    if (http_post_json(&srv, "/api/campaigns/generate", ADMIN, NULL, &r) != 0)
        return NULL;
    g->status = r.status;
    snprintf(g->body, sizeof(g->body), "%s", r.body ? r.body : "");
    g->opened = (long long)json_integer_value(json_object_get(r.json, "opened"));
    json_t *w0 = json_array_get(json_object_get(r.json, "windows"), 0);
    g->window_id = (long long)json_integer_value(json_object_get(w0, "window_id"));
    snprintf(g->state, sizeof(g->state), "%s",
             json_string_value(json_object_get(w0, "status"))
                 ? json_string_value(json_object_get(w0, "status"))
                 : "");
    resp_free(&r);
    return NULL;
}

static void test_scan_and_generate(void **state)
{
    (void)state;
    wish("B1", "latte", "coffee");
    wish("B2", "latte", "coffee");
    wish("B3", "latte", "coffee");
    wish("B4", "filtre kahve", "coffee");
    wish("B5", "latte", "coffee"); /* too far from S1 */
    json_decref(post("/api/sellers/signal",
                     "{\"seller_id\":\"S1\",\"signal_type\":\"idle\",\"text\":\"Bu saat boşum\"}",
                     201));

    /* the buyer list says who has a wish (the dashboard's demand map) */
    json_t *bl = get("/api/buyers?limit=100", 200);
    size_t bi;
    json_t *bb;
    json_array_foreach(json_object_get(bl, "buyers"), bi, bb)
    {
        if (strcmp(str(bb, "id"), "B1") == 0)
            assert_int_equal(num(bb, "active_demand"), 1);
    }
    json_decref(bl);
    json_t *scan = post("/api/campaigns/scan", NULL, 200);
    json_t *top = json_array_get(json_object_get(scan, "scores"), 0);
    assert_string_equal(str(top, "seller_id"), "S1");
    assert_true(json_is_true(json_object_get(top, "eligible")));
    assert_int_equal(num(top, "matching"), 4);
    json_t *comp = json_object_get(top, "components");
    assert_true(json_real_value(json_object_get(comp, "density")) == 1.0);
    assert_true(json_real_value(json_object_get(comp, "category")) == 1.0);
    size_t all = json_array_size(json_object_get(scan, "scores"));
    double best = json_real_value(json_object_get(top, "score"));
    json_decref(scan);
    /* only the best, or those from a score: the same order, fewer rows */
    assert_true(all > 1);
    scan = post("/api/campaigns/scan?limit=1", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(scan, "scores")), 1);
    assert_string_equal(str(json_array_get(json_object_get(scan, "scores"), 0), "seller_id"), "S1");
    json_decref(scan);
    char qpath[96];
    snprintf(qpath, sizeof(qpath), "/api/campaigns/scan?min_score=%.6f", best - 1e-6);
    scan = post(qpath, NULL, 200);
    json_t *kept = json_object_get(scan, "scores");
    assert_true(json_array_size(kept) >= 1 && json_array_size(kept) < all);
    json_decref(scan);
    json_t *bad = post("/api/campaigns/scan?min_score=2", NULL, 400);
    assert_string_equal(str(json_object_get(bad, "error"), "field"), "min_score");
    json_decref(bad);
    bad = post("/api/campaigns/scan?limit=0", NULL, 400);
    assert_string_equal(str(json_object_get(bad, "error"), "field"), "limit");
    json_decref(bad);

    /*
     * Concurrent calls answer like repeated ones (idempotent): all 200, one window opened, every
     * answer naming the same window.
     */
    pthread_t th[GENERATE_RACERS];
    struct gen_call calls[GENERATE_RACERS];
    memset(calls, 0, sizeof(calls));
    for (int k = 0; k < GENERATE_RACERS; k++)
        assert_int_equal(pthread_create(&th[k], NULL, generate_call, &calls[k]), 0);
    long long opened = 0;
    s1_window = 0;
    for (int k = 0; k < GENERATE_RACERS; k++) {
        pthread_join(th[k], NULL);
        if (calls[k].status != 200)
            fail_msg("concurrent generate %d answered %ld: %s", k, calls[k].status, calls[k].body);
        opened += calls[k].opened;
        if (!s1_window)
            s1_window = calls[k].window_id;
        assert_int_equal(calls[k].window_id, s1_window);
        if (calls[k].opened)
            assert_string_equal(calls[k].state, "SCHEDULED");
    }
    assert_int_equal(opened, 1);
    json_t *gen;

    /* idempotent: nothing new for the same seller */
    gen = post("/api/campaigns/generate", NULL, 200);
    assert_int_equal(num(gen, "opened"), 0);
    json_decref(gen);

    json_t *w = window(s1_window);
    assert_string_equal(str(w, "status"), "SCHEDULED");
    assert_int_equal(json_array_size(json_object_get(w, "targets")), 4);
    json_t *t;
    size_t i;
    json_array_foreach(json_object_get(w, "targets"), i, t)
    {
        long long d = num(t, "distance_m"), disc = num(t, "discount");
        assert_true(d < 1000);
        assert_int_equal(disc, d < 300 ? 15 : d < 600 ? 20 : 25); /* 30 % capped at 25 */
    }
    json_t *trace = json_object_get(w, "decision_trace");
    assert_non_null(json_object_get(json_object_get(trace, "score"), "components"));
    assert_non_null(json_object_get(trace, "timing"));
    json_decref(w);
    /* every target got an offer */
    assert_int_equal(count_messages(s1_window, "offer"), 4);
    /* the offer names the product once and the seller once (not the title repeating both) */
    json_t *w2 = window(s1_window);
    assert_string_equal(str(w2, "product"), "latte");
    json_decref(w2);
    json_t *offers = get("/api/messages?recipient_id=B2&kind=offer", 200);
    const char *body = str(json_array_get(json_object_get(offers, "messages"), 0), "body");
    assert_non_null(strstr(body, "latte"));
    const char *first = strstr(body, "S1 Dükkan");
    assert_non_null(first);
    assert_null(strstr(first + 1, "S1 Dükkan"));
    json_decref(offers);
}

static void test_precommit_rules(void **state)
{
    (void)state;
    char path[96];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/precommit", s1_window);
    json_decref(post(path, "{\"buyer_id\":\"B1\"}", 201));
    json_decref(post(path, "{\"buyer_id\":\"B1\"}", 200)); /* idempotent */
    json_decref(post(path, "{\"buyer_id\":\"B2\"}", 201));
    json_decref(post(path, "{\"buyer_id\":\"B5\"}", 403)); /* not offered */
    json_decref(post(path, "{\"buyer_id\":\"NOPE\"}", 404));
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/cancel", s1_window);
    json_decref(post(path, "{\"buyer_id\":\"B2\"}", 200));
    json_decref(post(path, "{\"buyer_id\":\"B2\"}", 404));
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/join", s1_window);
    json_decref(post(path, "{\"buyer_id\":\"B1\"}", 409)); /* not active yet */
    json_decref(post("/api/flash-windows/999999/precommit", "{\"buyer_id\":\"B1\"}", 404));
    json_t *w = window(s1_window);
    assert_int_equal(num(json_object_get(w, "counts"), "committed"), 1);
    json_decref(w);
    assert_int_equal(count_messages(s1_window, "confirmation"), 2);
}

static void test_ask_first_seller(void **state)
{
    (void)state;
    /* Beşiktaş: an ask-first bakery with two wishes nearby */
    seller("S2", "+905320000002", "bakery", 41.0430, 29.0070, false);
    buyer("B6", "+905330000006", 41.0440, 29.0070);
    buyer("B7", "+905330000007", 41.0430, 29.0090);
    wish("B6", "simit", "bakery");
    wish("B7", "poğaça", "bakery");
    json_t *gen = post("/api/campaigns/generate", NULL, 200);
    long long pk = 0;
    json_t *g;
    size_t i;
    json_array_foreach(json_object_get(gen, "windows"), i, g)
    {
        if (strcmp(str(g, "seller_id"), "S2") == 0) {
            assert_string_equal(str(g, "status"), "PROPOSED");
            pk = num(g, "window_id");
        }
    }
    json_decref(gen);
    assert_true(pk > 0);
    assert_int_equal(count_messages(pk, "question"), 1);
    assert_int_equal(count_messages(pk, "offer"), 0); /* no offers before the seller's yes */
    char path[96];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/approve", pk);
    json_t *w = post(path, NULL, 200);
    assert_string_equal(str(w, "status"), "SCHEDULED");
    json_decref(w);
    json_decref(post(path, NULL, 200)); /* a second yes changes nothing */
    assert_int_equal(count_messages(pk, "offer"), 2);
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/precommit", pk);
    json_decref(post(path, "{\"buyer_id\":\"B6\"}", 201));
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/seller-cancel", pk);
    w = post(path, "{\"reason\":\"fırın arızalı\"}", 200);
    assert_string_equal(str(w, "status"), "CANCELLED");
    assert_string_equal(str(w, "cancel_reason"), "fırın arızalı");
    json_decref(w);
    assert_int_equal(count_messages(pk, "cancelled"), 1); /* B6 was told */
}

/*
 * An operator's window starting in ten minutes; tests act before the start (pre-commits), then
 * start it with harness_window_start_now() instead of racing a start a few seconds ahead.
 */
static long long manual(const char *seller_id, int min_participants, const char *buyers)
{
    char body[400];
    snprintf(body, sizeof(body),
             "{\"seller_id\":\"%s\",\"discount_percent\":20,\"start_time\":\"%s\","
             "\"duration_minutes\":10,\"min_participants\":%d,\"buyer_ids\":%s}",
             seller_id, iso_in(600), min_participants, buyers);
    json_t *w = post("/api/flash-windows/create", body, 201);
    assert_string_equal(str(w, "status"), "SCHEDULED");
    long long pk = num(w, "id");
    json_decref(w);
    return pk;
}

#define RACERS 6

struct race_call {
    const char *path, *body;
    long status;
    char code[16], body_out[512];
};

static void *race_run(void *arg)
{
    struct race_call *c = arg;
    struct resp r;
    if (http_post_json(&srv, c->path, ADMIN, c->body, &r) != 0)
        return NULL;
    c->status = r.status;
    snprintf(c->body_out, sizeof(c->body_out), "%s", r.body ? r.body : "");
    const char *code = json_string_value(json_object_get(r.json, "code"));
    snprintf(c->code, sizeof(c->code), "%s", code ? code : "");
    resp_free(&r);
    return NULL;
}

/* RACERS identical POSTs at once, each on its own connection. */
static void race(const char *path, const char *body, struct race_call calls[RACERS])
{
    pthread_t th[RACERS];
    memset(calls, 0, sizeof(struct race_call) * RACERS);
    for (int k = 0; k < RACERS; k++) {
        calls[k].path = path;
        calls[k].body = body;
        assert_int_equal(pthread_create(&th[k], NULL, race_run, &calls[k]), 0);
    }
    for (int k = 0; k < RACERS; k++)
        pthread_join(th[k], NULL);
}

static void test_activate_join_redeem(void **state)
{
    (void)state;
    seller("S3", "+905320000003", "coffee", MODA_LAT + 0.002, MODA_LNG, true);
    long long pk = manual("S3", 1, "[\"B1\",\"B3\"]");
    char path[96];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/precommit", pk);
    json_decref(post(path, "{\"buyer_id\":\"B3\"}", 201));
    harness_window_start_now(srv.db_url, pk);
    assert_string_equal(wait_status(pk, "ACTIVE", 15000), "ACTIVE");
    json_decref(post(path, "{\"buyer_id\":\"B1\"}", 409)); /* pre-commits closed */

    /* the seller heard who is coming */
    char mpath[128];
    snprintf(mpath, sizeof(mpath), "/api/messages?window_id=%lld&kind=seller_summary", pk);
    json_t *m = get(mpath, 200);
    json_t *msg = json_array_get(json_object_get(m, "messages"), 0);
    assert_non_null(msg);
    assert_non_null(strstr(str(msg, "body"), "1 kişi geliyor"));
    assert_string_equal(str(msg, "recipient_id"), "S3");
    /* what it is about, generically and as the window */
    json_t *about = json_object_get(msg, "about");
    assert_string_equal(str(about, "kind"), "window");
    assert_int_equal(json_integer_value(json_object_get(about, "id")), pk);
    assert_int_equal(json_integer_value(json_object_get(msg, "window_id")), pk);
    json_decref(m);
    assert_int_equal(count_messages(pk, "window_open"), 1);
    snprintf(mpath, sizeof(mpath), "/api/messages?about_kind=window&about_id=%lld&kind=window_open",
             pk);
    m = get(mpath, 200);
    assert_int_equal(json_array_size(json_object_get(m, "messages")), 1);
    json_decref(m);
    /* a kind nobody registered, and half a subject, are named */
    m = get("/api/messages?kind=no_such_kind", 400);
    assert_string_equal(str(json_object_get(m, "error"), "field"), "kind");
    json_decref(m);
    m = get("/api/messages?about_kind=window", 400);
    assert_string_equal(str(json_object_get(m, "error"), "field"), "about_id");
    json_decref(m);

    snprintf(path, sizeof(path), "/api/flash-windows/%lld/join", pk);
    /* concurrent joins of one buyer: one 201, the rest 200, all with the same code */
    struct race_call joins[RACERS];
    race(path, "{\"buyer_id\":\"B3\"}", joins);
    int created = 0;
    char code[16] = "";
    for (int k = 0; k < RACERS; k++) {
        if (joins[k].status != 201 && joins[k].status != 200)
            fail_msg("concurrent join %d answered %ld: %s", k, joins[k].status, joins[k].body_out);
        created += joins[k].status == 201;
        if (!code[0])
            snprintf(code, sizeof(code), "%s", joins[k].code);
        assert_string_equal(joins[k].code, code);
    }
    assert_int_equal(created, 1);
    json_t *j;
    assert_int_equal(strlen(code), 6);
    j = post(path, "{\"buyer_id\":\"B3\"}", 200); /* same code again */
    assert_string_equal(str(j, "code"), code);
    json_decref(j);
    json_decref(post(path, "{\"buyer_id\":\"B5\"}", 403));

    snprintf(path, sizeof(path), "/api/flash-windows/%lld/redeem", pk);
    json_decref(post(path, "{\"code\":\"ZZZZZZ\"}", 404));
    char body[96];
    /* what the buyer paid, if the seller says it, is a decimal amount of the window's currency */
    snprintf(body, sizeof(body), "{\"code\":\"%s\",\"amount\":\"45,50\"}", code);
    j = post(path, body, 400);
    assert_string_equal(str(json_object_get(j, "error"), "field"), "amount");
    json_decref(j);
    snprintf(body, sizeof(body), "{\"code\":\"%s\",\"amount\":\"45.50\"}", code);
    /* concurrent redemptions of one code: exactly one succeeds, the others are told it is used */
    struct race_call redeems[RACERS];
    race(path, body, redeems);
    int redeemed = 0;
    json_t *won = NULL;
    for (int k = 0; k < RACERS; k++) {
        if (redeems[k].status != 200 && redeems[k].status != 409)
            fail_msg("concurrent redeem %d answered %ld: %s", k, redeems[k].status,
                     redeems[k].body_out);
        redeemed += redeems[k].status == 200;
        if (redeems[k].status == 200)
            won = json_loads(redeems[k].body_out, 0, NULL);
    }
    assert_int_equal(redeemed, 1);
    /* one person, one customer: the visit is an order of the buyer's customer, found by phone */
    assert_non_null(won);
    char opath[96];
    snprintf(opath, sizeof(opath), "/api/orders/%s", str(won, "order_id"));
    json_t *order = get(opath, 200);
    assert_string_equal(str(order, "status"), "fulfilled");
    assert_string_equal(str(order, "total_amount"), "45.50");
    assert_string_equal(str(order, "customer_id"), str(won, "customer_id"));
    json_decref(order);
    snprintf(opath, sizeof(opath), "/api/customers/%s", str(won, "customer_id"));
    json_t *cust = get(opath, 200);
    assert_string_equal(str(cust, "phone"), "+905330000003");
    json_decref(cust);
    json_decref(won);
    json_decref(post(path, body, 409)); /* single use */
    json_t *w = window(pk);
    json_t *counts = json_object_get(w, "counts");
    assert_int_equal(num(counts, "joined"), 1);
    assert_int_equal(num(counts, "redeemed"), 1);
    json_decref(w);
    json_t *b = get("/api/buyers/B3", 200);
    assert_int_equal(num(b, "shows"), 1);
    json_decref(b);

    json_t *active = get("/api/flash-windows/active", 200);
    bool listed = false;
    size_t i;
    json_t *aw;
    json_array_foreach(json_object_get(active, "windows"), i, aw)
    {
        listed = listed || num(aw, "id") == pk;
    }
    assert_true(listed);
    json_decref(active);

    /* polling: the ETag comes back as 304 until something about a window changes */
    struct resp r1, r2, r3;
    assert_int_equal(http_get(&srv, "/api/flash-windows/active", ADMIN, &r1), 0);
    assert_int_equal(r1.status, 200);
    char etag[96], again[96], hdr[160];
    assert_true(resp_header(&r1, "ETag", etag, sizeof(etag)));
    snprintf(hdr, sizeof(hdr), "If-None-Match: %s", etag);
    const char *inm[] = {hdr, NULL};
    assert_int_equal(
        http_req(&srv, "GET", "/api/flash-windows/active", ADMIN, NULL, NULL, 0, inm, &r2), 0);
    assert_int_equal(r2.status, 304);
    assert_int_equal(r2.len, 0);
    assert_true(resp_header(&r2, "ETag", again, sizeof(again)));
    assert_string_equal(again, etag);
    resp_free(&r2);
    /* a cached body is the same body */
    assert_int_equal(http_get(&srv, "/api/flash-windows/active", ADMIN, &r2), 0);
    assert_int_equal(r2.len, r1.len);
    assert_memory_equal(r2.body, r1.body, r1.len);
    resp_free(&r2);
    /* gzip for a client that accepts it: its own ETag, the same list, twice (then cached) */
    const char *gzh[] = {"Accept-Encoding: br;q=1.0, gzip;q=0.8", NULL};
    char gz_etag[96], coding[32], vary[64];
    for (int round = 0; round < 2; round++) {
        assert_int_equal(
            http_req(&srv, "GET", "/api/flash-windows/active", ADMIN, NULL, NULL, 0, gzh, &r2), 0);
        assert_int_equal(r2.status, 200);
        assert_true(resp_header(&r2, "Content-Encoding", coding, sizeof(coding)));
        assert_string_equal(coding, "gzip");
        assert_true(resp_header(&r2, "Vary", vary, sizeof(vary)));
        assert_string_equal(vary, "Accept-Encoding");
        assert_true(resp_header(&r2, "ETag", gz_etag, sizeof(gz_etag)));
        assert_string_not_equal(gz_etag, etag);
        char *plain;
        size_t plain_len = gunzip(r2.body, r2.len, &plain);
        assert_int_equal(plain_len, r1.len);
        assert_memory_equal(plain, r1.body, r1.len);
        free(plain);
        resp_free(&r2);
    }
    char gz_inm[160];
    snprintf(gz_inm, sizeof(gz_inm), "If-None-Match: %s", gz_etag);
    const char *gz_poll[] = {"Accept-Encoding: gzip", gz_inm, NULL};
    assert_int_equal(
        http_req(&srv, "GET", "/api/flash-windows/active", ADMIN, NULL, NULL, 0, gz_poll, &r2), 0);
    assert_int_equal(r2.status, 304);
    resp_free(&r2);
    /* refused by q=0: the plain list */
    const char *no_gz[] = {"Accept-Encoding: gzip;q=0, identity", NULL};
    assert_int_equal(
        http_req(&srv, "GET", "/api/flash-windows/active", ADMIN, NULL, NULL, 0, no_gz, &r2), 0);
    assert_false(resp_header(&r2, "Content-Encoding", coding, sizeof(coding)));
    assert_int_equal(r2.len, r1.len);
    resp_free(&r2);
    /* a seller's change moves the version: the next poll gets the list again */
    char spath[96];
    snprintf(spath, sizeof(spath), "/api/flash-windows/%lld/join", pk);
    json_decref(post(spath, "{\"buyer_id\":\"B1\"}", 201));
    assert_int_equal(
        http_req(&srv, "GET", "/api/flash-windows/active", ADMIN, NULL, NULL, 0, inm, &r3), 0);
    assert_int_equal(r3.status, 200);
    assert_true(resp_header(&r3, "ETag", again, sizeof(again)));
    assert_string_not_equal(again, etag);
    json_t *aw3;
    bool joined_two = false;
    json_array_foreach(json_object_get(r3.json, "windows"), i, aw3)
    {
        if (num(aw3, "id") == pk)
            joined_two = num(json_object_get(aw3, "counts"), "joined") == 2;
    }
    assert_true(joined_two);
    resp_free(&r3);
    resp_free(&r1);
}

static void test_cancel_under_minimum(void **state)
{
    (void)state;
    seller("S4", "+905320000004", "coffee", MODA_LAT - 0.002, MODA_LNG, true);
    long long pk = manual("S4", 2, "[\"B1\",\"B2\"]");
    char path[96];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/precommit", pk);
    json_decref(post(path, "{\"buyer_id\":\"B2\"}", 201));
    harness_window_start_now(srv.db_url, pk);
    assert_string_equal(wait_status(pk, "CANCELLED", 15000), "CANCELLED");
    json_t *w = window(pk);
    assert_non_null(strstr(str(w, "cancel_reason"), "minimum"));
    json_decref(w);
    assert_int_equal(count_messages(pk, "cancelled"), 1);
    assert_int_equal(count_messages(pk, "seller_summary"), 0);
}

static void test_other_tenant_sees_nothing(void **state)
{
    (void)state;
    char out[256], key[200];
    assert_int_equal(harness_cli(srv.db_url, "tenants create izmir", out, sizeof(out)), 0);
    assert_int_equal(
        harness_cli(srv.db_url, "keys create --tenant izmir --role admin", key, sizeof(key)), 0);
    key[strcspn(key, "\r\n")] = '\0';
    struct resp r;
    char path[64];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld", s1_window);
    assert_int_equal(http_get(&srv, path, key, &r), 0);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/buyers/B1", key, &r), 0);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/sellers/S1/statement", key, &r), 0);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/messages", key, &r), 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "messages")), 0);
    resp_free(&r);
    /* the same public id may exist in two tenants */
    assert_int_equal(http_post_json(&srv, "/api/buyers/register", key,
                                    "{\"id\":\"B1\",\"phone_number\":\"+905330000001\","
                                    "\"location\":{\"lat\":38.42,\"lng\":27.14}}",
                                    &r),
                     0);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    json_t *b = get("/api/buyers/B1", 200);
    assert_true(json_real_value(json_object_get(json_object_get(b, "location"), "lat")) < 41);
    assert_true(json_real_value(json_object_get(json_object_get(b, "location"), "lat")) > 40.9);
    json_decref(b);
}

static void test_restart_activates_once(void **state)
{
    (void)state;
    seller("S5", "+905320000005", "coffee", MODA_LAT, MODA_LNG + 0.002, true);
    long long pk = manual("S5", 1, "[\"B4\"]");
    char path[96];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/precommit", pk);
    json_decref(post(path, "{\"buyer_id\":\"B4\"}", 201));
    server_kill(&srv);                        /* dies before the start */
    harness_window_start_now(srv.db_url, pk); /* the start passes while it is down */
    assert_int_equal(server_start(&srv, srv.db_url, NULL), 0);
    assert_string_equal(wait_status(pk, "ACTIVE", 15000), "ACTIVE");
    harness_sleep_ms(500);
    assert_int_equal(count_messages(pk, "seller_summary"), 1);
    assert_int_equal(count_messages(pk, "window_open"), 1);
    json_t *w = window(pk);
    assert_int_equal(num(json_object_get(w, "counts"), "committed"), 1);
    json_decref(w);
}

/*
 * What the learning policy learned, over HTTP: an engine window cancelled for want of pre-commits
 * is an outcome (its offers brought nobody); the setting switches the policy; another tenant
 * sees nothing.
 */
static void test_learning_api(void **state)
{
    (void)state;
    json_t *l = get("/api/campaigns/learning", 200);
    assert_string_equal(str(l, "mode"), "off");
    assert_int_equal(json_array_size(json_object_get(l, "arms")), 0);
    json_decref(l);
    char path[96];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/cancel", s1_window);
    json_decref(post(path, "{\"buyer_id\":\"B1\"}", 200)); /* no pre-commit left */
    harness_window_start_now(srv.db_url, s1_window);
    assert_string_equal(wait_status(s1_window, "CANCELLED", 15000), "CANCELLED");
    json_t *w = window(s1_window);
    long long discount = num(w, "discount_percent");
    long long targeted = num(json_object_get(w, "counts"), "targeted");
    json_decref(w);
    l = get("/api/campaigns/learning", 200);
    json_t *arms = json_object_get(l, "arms");
    assert_int_equal(json_array_size(arms), 1);
    json_t *a = json_array_get(arms, 0);
    assert_string_equal(str(a, "seller_id"), "S1");
    assert_string_equal(str(a, "category"), "coffee");
    assert_int_equal(num(a, "discount"), discount);
    assert_int_equal(num(a, "offers"), targeted);
    assert_int_equal(num(a, "visits"), 0);
    assert_true(json_real_value(json_object_get(a, "posterior_mean")) < 0.3);
    json_decref(l);
    json_decref(put_config("{\"learning\":1}", 200));
    l = get("/api/campaigns/learning", 200);
    assert_string_equal(str(l, "mode"), "explore");
    json_decref(l);
    json_t *bad = put_config("{\"learning\":3}", 400);
    assert_string_equal(str(json_object_get(bad, "error"), "field"), "learning");
    json_decref(bad);
    json_decref(put_config("{\"learning\":0}", 200));
    /* another tenant learned nothing */
    char out[256], key[200];
    assert_int_equal(harness_cli(srv.db_url, "tenants create bursa", out, sizeof(out)), 0);
    assert_int_equal(
        harness_cli(srv.db_url, "keys create --tenant bursa --role viewer", key, sizeof(key)), 0);
    key[strcspn(key, "\r\n")] = '\0';
    struct resp r;
    assert_int_equal(http_get(&srv, "/api/campaigns/learning", key, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "arms")), 0);
    resp_free(&r);
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_and_validate),
        cmocka_unit_test(test_config_and_categories),
        cmocka_unit_test(test_scan_and_generate),
        cmocka_unit_test(test_precommit_rules),
        cmocka_unit_test(test_ask_first_seller),
        cmocka_unit_test(test_activate_join_redeem),
        cmocka_unit_test(test_cancel_under_minimum),
        cmocka_unit_test(test_other_tenant_sees_nothing),
        cmocka_unit_test(test_restart_activates_once),
        cmocka_unit_test(test_learning_api),
    };
    return cmocka_run_group_tests_name(harness_backend(), tests, setup, teardown);
}
