/* SPDX-License-Identifier: MIT */
/*
 * Seed 000's whole flow, written only from the seed documents' shapes: sellers and buyers
 * register with the seed's fields, buyers and sellers signal in words (text alone, or with the
 * seller's own density_status / stock_status), scan, generate with a body, pre-commit, join,
 * redeem, and the analytics of the expired window. Also the seed-shaped requests that used to
 * be refused (end_time on create, campaign bodies), and the engine settings over HTTP with the
 * ranges of the one table that declares them. Runs on the backend TEST_BACKEND selects.
 */
#include "domain/flash/flash.h"
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

/* Moda, Kadıköy */
#define MODA_LAT 40.9840
#define MODA_LNG 29.0270
/* Beşiktaş, far from Moda: the single-request tests live there, out of the flow's way */
#define FAR_LAT 41.0430
#define FAR_LNG 29.0060

static struct server srv;

static int setup(void **state)
{
    (void)state;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    if (server_start(&srv, url, NULL) != 0)
        return -1;
    return harness_manual_scans(&srv); /* windows open only when a test asks */
}

static int teardown(void **state)
{
    (void)state;
    return server_stop(&srv) == 0 ? 0 : -1;
}

/* Milliseconds on the monotonic clock: deadlines that wall-clock steps cannot move. */
static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static json_t *request(const char *method, const char *path, const char *body, long want)
{
    struct resp r;
    assert_int_equal(http_req(&srv, method, path, ADMIN, body ? "application/json" : NULL, body,
                              body ? strlen(body) : 0, NULL, &r),
                     0);
    if (r.status != want)
        fprintf(stderr, "%s %s -> %ld (want %ld): %s\n", method, path, r.status, want, r.body);
    assert_int_equal(r.status, want);
    json_t *j = json_incref(r.json);
    resp_free(&r);
    return j;
}

static json_t *post(const char *path, const char *body, long want)
{
    return request("POST", path, body, want);
}

static json_t *get(const char *path)
{
    return request("GET", path, NULL, 200);
}

/* POST that must be refused with 400 (or `want`) naming `field`. */
static void refused(const char *path, const char *body, long want, const char *field)
{
    struct resp r;
    assert_int_equal(http_post_json(&srv, path, ADMIN, body, &r), 0);
    if (r.status != want || strcmp(resp_error_field(&r), field) != 0)
        fprintf(stderr, "POST %s %s -> %ld %s (want %ld naming %s)\n", path, body, r.status, r.body,
                want, field);
    assert_int_equal(r.status, want);
    assert_string_equal(resp_error_field(&r), field);
    resp_free(&r);
}

/* PUT /api/campaigns/config that must be refused with 400 naming `field`. */
static void refused_put(const char *body, const char *field)
{
    struct resp r;
    assert_int_equal(http_req(&srv, "PUT", "/api/campaigns/config", ADMIN, "application/json", body,
                              strlen(body), NULL, &r),
                     0);
    if (r.status != 400 || strcmp(resp_error_field(&r), field) != 0)
        fprintf(stderr, "PUT config %s -> %ld %s (want 400 naming %s)\n", body, r.status, r.body,
                field);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), field);
    resp_free(&r);
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

/* "2026-11-21T14:00:00Z" or with milliseconds → seconds since the epoch (UTC). */
static long long epoch_of(const char *iso)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    int y, mo, d, h, mi, s;
    assert_int_equal(sscanf(iso, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s), 6);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (long long)timegm(&tm);
}

static char *iso_in(char *buf, size_t n, long long seconds)
{
    time_t t = time(NULL) + (time_t)seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* The seed's Seller: id, phone_number, name, category, location, density_status, stock_status. */
static void seed_seller(const char *id, const char *phone, const char *category, double lat,
                        double lng)
{
    char body[600];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"phone_number\":\"%s\",\"name\":\"%s Kahve\",\"category\":\"%s\","
             "\"location\":{\"lat\":%.6f,\"lng\":%.6f,\"district\":\"Kadıköy\","
             "\"neighborhood\":\"Moda\"},\"density_status\":\"medium\",\"stock_status\":null}",
             id, phone, id, category, lat, lng);
    json_decref(post("/api/sellers/register", body, 201));
}

/* The seed's Buyer: id, phone_number, name, location, categories, price_sensitivity. */
static void seed_buyer(const char *id, const char *phone, double lat, double lng)
{
    char body[600];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"phone_number\":\"%s\",\"name\":\"Berkin\",\"location\":{\"lat\":"
             "%.6f,\"lng\":%.6f,\"district\":\"Kadıköy\",\"neighborhood\":\"Moda\"},"
             "\"categories\":[\"coffee\"],\"price_sensitivity\":\"balanced\"}",
             id, phone, lat, lng);
    json_decref(post("/api/buyers/register", body, 201));
}

static json_t *window_of(long long pk)
{
    char path[64];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld", pk);
    return get(path);
}

/* Poll the window until it reaches `want` or the deadline passes; returns the last status. */
static const char *wait_status(long long pk, const char *want, int ms)
{
    static char last[32];
    long long end = mono_ms() + ms;
    for (;;) {
        json_t *w = window_of(pk);
        snprintf(last, sizeof(last), "%s", str(w, "status"));
        json_decref(w);
        if (strcmp(last, want) == 0 || mono_ms() > end)
            return last;
        harness_sleep_ms(100);
    }
}

/* Run a lifecycle job now, through the public jobs API, instead of waiting for its time. */
static void run_job(const char *name, long long window_pk)
{
    char body[160];
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"payload\":{\"window\":%lld}}", name,
             window_pk);
    json_decref(post("/api/jobs", body, 202));
}

/* ======================== signals in words ======================== */

static void test_buyer_text_signal(void **state)
{
    (void)state;
    seed_buyer("B101", "+905310000101", FAR_LAT, FAR_LNG);
    json_t *s =
        post("/api/buyers/signal", "{\"buyer_id\":\"B101\",\"text\":\"Latte istiyorum\"}", 201);
    assert_string_equal(str(s, "category"), "coffee"); /* understood from the words */
    assert_string_equal(str(s, "product"), "latte");
    json_t *u = json_object_get(s, "understood");
    assert_true(json_is_object(u));
    assert_string_equal(json_string_value(json_object_get(u, "product")), "latte");
    assert_true(json_number_value(json_object_get(u, "confidence")) >= 0.6);
    json_decref(s);
    /* budget and quantity in the words: the budget is stored, both are shown */
    s = post("/api/buyers/signal",
             "{\"buyer_id\":\"B101\",\"text\":\"2 simit istiyorum, 50 TL bütçem var\"}", 201);
    assert_string_equal(str(s, "category"), "bakery");
    assert_int_equal(json_integer_value(json_object_get(s, "budget")), 5000);
    u = json_object_get(s, "understood");
    assert_int_equal(json_integer_value(json_object_get(u, "quantity")), 2);
    json_decref(s);
    /* what the buyer said explicitly wins over the words */
    s = post("/api/buyers/signal",
             "{\"buyer_id\":\"B101\",\"text\":\"Latte istiyorum\",\"category\":\"bakery\"}", 201);
    assert_string_equal(str(s, "category"), "bakery");
    json_decref(s);
}

static void test_seller_signal_shapes(void **state)
{
    (void)state;
    seed_seller("S101", "+902120000101", "coffee", FAR_LAT, FAR_LNG);
    /* the seed driver's shape: the seller's own fields with the words */
    json_t *s = post("/api/sellers/signal",
                     "{\"seller_id\":\"S101\",\"text\":\"Yoğunluk düşük, stok fazlası ürün var\","
                     "\"density_status\":\"low\",\"stock_status\":\"surplus\"}",
                     201);
    assert_string_equal(str(s, "signal_type"), "surplus");
    assert_string_equal(str(s, "density_status"), "low");
    assert_string_equal(str(s, "stock_status"), "surplus");
    json_decref(s);
    json_t *sl = get("/api/sellers/S101");
    assert_string_equal(str(sl, "density_status"), "low");
    assert_string_equal(str(sl, "stock_status"), "surplus");
    json_decref(sl);

    /* words alone */
    s = post("/api/sellers/signal", "{\"seller_id\":\"S101\",\"text\":\"Bu saat boşum\"}", 201);
    assert_string_equal(str(s, "signal_type"), "idle");
    assert_string_equal(str(s, "density_status"), "low");
    json_decref(s);
    s = post("/api/sellers/signal", "{\"seller_id\":\"S101\",\"text\":\"Şu an çok yoğunuz\"}", 201);
    assert_string_equal(str(s, "signal_type"), "density");
    assert_string_equal(str(s, "density_status"), "high");
    json_decref(s);
    s = post("/api/sellers/signal", "{\"seller_id\":\"S101\",\"text\":\"Stok fazlası simit var\"}",
             201);
    assert_string_equal(str(s, "signal_type"), "surplus");
    assert_string_equal(str(s, "product"), "simit");
    json_decref(s);

    /* fields alone */
    s = post("/api/sellers/signal",
             "{\"seller_id\":\"S101\",\"density_status\":\"high\",\"stock_status\":\"critical\"}",
             201);
    assert_string_equal(str(s, "signal_type"), "density");
    assert_string_equal(str(s, "stock_status"), "critical");
    json_decref(s);
    s = post("/api/sellers/signal", "{\"seller_id\":\"S101\",\"stock_status\":\"promotion\"}", 201);
    assert_string_equal(str(s, "signal_type"), "promotion");
    json_decref(s);
    /* an explicit signal_type still wins */
    s = post("/api/sellers/signal",
             "{\"seller_id\":\"S101\",\"signal_type\":\"idle\",\"text\":\"çok yoğunuz\"}", 201);
    assert_string_equal(str(s, "signal_type"), "idle");
    json_decref(s);

    /* nothing to go on, or nonsense */
    refused("/api/sellers/signal", "{\"seller_id\":\"S101\"}", 400, "signal_type");
    refused("/api/sellers/signal", "{\"seller_id\":\"S101\",\"text\":\"merhaba\"}", 400,
            "signal_type");
    refused("/api/sellers/signal", "{\"seller_id\":\"S101\",\"stock_status\":\"lots\"}", 400,
            "stock_status");
    refused("/api/sellers/signal", "{\"seller_id\":\"S101\",\"signal_type\":\"density\"}", 400,
            "density_status");
    refused("/api/sellers/signal", "{\"seller_id\":\"S101\",\"mood\":\"good\"}", 400, "mood");
}

/* ======================== create with the seed's end_time ======================== */

static void test_create_end_time(void **state)
{
    (void)state;
    seed_seller("S102", "+902120000102", "coffee", FAR_LAT + 0.003, FAR_LNG);
    char start[40], end[40], body[400];
    iso_in(start, sizeof(start), 3600);
    iso_in(end, sizeof(end), 3600 + 15 * 60);

    /* refusals first: none of them may leave a window behind */
    snprintf(body, sizeof(body),
             "{\"seller_id\":\"S102\",\"discount_percent\":10,\"start_time\":\"%s\","
             "\"end_time\":\"%s\",\"duration_minutes\":10}",
             start, end);
    refused("/api/flash-windows/create", body, 400, "end_time"); /* 15 min is not 10 */
    snprintf(body, sizeof(body),
             "{\"seller_id\":\"S102\",\"discount_percent\":10,\"start_time\":\"%s\","
             "\"end_time\":\"%s\"}",
             end, start);
    refused("/api/flash-windows/create", body, 400, "end_time"); /* before the start */
    snprintf(body, sizeof(body),
             "{\"seller_id\":\"S102\",\"discount_percent\":10,\"start_time\":\"%s\","
             "\"end_time\":\"yesterday\"}",
             start);
    refused("/api/flash-windows/create", body, 400, "end_time");

    snprintf(body, sizeof(body),
             "{\"seller_id\":\"S102\",\"title\":\"Moda latte\",\"description\":\"10 dk\","
             "\"discount_percent\":10,\"start_time\":\"%s\",\"end_time\":\"%s\"}",
             start, end);
    json_t *w = post("/api/flash-windows/create", body, 201);
    assert_int_equal(epoch_of(str(w, "start_time")), epoch_of(start));
    assert_int_equal(epoch_of(str(w, "end_time")), epoch_of(end));
    long long pk = num(w, "id");
    json_decref(w);
    json_decref(post("/api/flash-windows/1000000/seller-cancel", NULL, 404));
    char path[80];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/seller-cancel", pk);
    json_decref(post(path, NULL, 200));

    /* consistent end_time and duration_minutes together are fine */
    snprintf(body, sizeof(body),
             "{\"seller_id\":\"S102\",\"discount_percent\":10,\"start_time\":\"%s\","
             "\"end_time\":\"%s\",\"duration_minutes\":15}",
             start, end);
    w = post("/api/flash-windows/create", body, 201);
    assert_int_equal(epoch_of(str(w, "end_time")) - epoch_of(str(w, "start_time")), 15 * 60);
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/seller-cancel", num(w, "id"));
    json_decref(w);
    json_decref(post(path, NULL, 200));
}

/* ======================== campaign bodies ======================== */

static void test_campaign_bodies(void **state)
{
    (void)state;
    refused("/api/campaigns/generate", "{\"lead_seconds\":0,\"speed\":2}", 400, "speed");
    refused("/api/campaigns/generate", "{\"lead_seconds\":-1}", 400, "lead_seconds");
    refused("/api/campaigns/generate", "{\"duration_minutes\":0}", 400, "duration_minutes");
    refused("/api/campaigns/generate", "{\"seller_ids\":[\"S 1\"]}", 400, "seller_ids[0]");
    refused("/api/campaigns/generate", "{\"seller_ids\":[\"NOPE\"]}", 404, "seller_ids[0]");
    refused("/api/campaigns/scan", "{\"lead_seconds\":0}", 400, "lead_seconds");
    refused("/api/campaigns/scan", "{\"seller_ids\":\"S1\"}", 400, "seller_ids");
    /* no body at all is still fine */
    json_decref(post("/api/campaigns/scan", NULL, 200));
}

/* ======================== the engine settings ======================== */

static json_t *put_config(const char *body, long want)
{
    return request("PUT", "/api/campaigns/config", body, want);
}

/* The JSON value at a setting's dotted name. */
static double setting_in(json_t *cfg, const char *name)
{
    const char *dot = strchr(name, '.');
    json_t *v = json_object_get(cfg, name);
    if (dot) {
        char parent[64];
        snprintf(parent, sizeof(parent), "%.*s", (int)(dot - name), name);
        v = json_object_get(json_object_get(cfg, parent), dot + 1);
    }
    return json_is_boolean(v) ? (json_is_true(v) ? 1 : 0) : json_number_value(v);
}

/* A PUT body setting `name` to `v`: an integer when `integer`; a boolean setting's 0 and 1 as
 * false and true (other values as numbers, which it refuses). */
static void body_for(char *out, size_t n, const char *name, double v, bool integer, bool boolean)
{
    const char *dot = strchr(name, '.');
    char num[64];
    if (boolean && (v == 0 || v == 1))
        snprintf(num, sizeof(num), "%s", v == 1 ? "true" : "false");
    else
        snprintf(num, sizeof(num), integer ? "%.0f" : "%.17g", v);
    if (dot)
        snprintf(out, n, "{\"%.*s\":{\"%s\":%s}}", (int)(dot - name), name, dot + 1, num);
    else
        snprintf(out, n, "{\"%s\":%s}", name, num);
}

/*
 * Every declared setting over HTTP: GET shows its default; PUT at its maximum is kept; PUT just
 * past it is refused naming it, and leaves the stored value as it was. Same ranges everywhere.
 */
static void test_config_settings(void **state)
{
    (void)state;
    json_t *cfg = get("/api/campaigns/config");
    for (size_t i = 0; i < flash_settings_count; i++) {
        const struct settings_field *f = &flash_settings[i];
        if (strcmp(f->name, "scan_interval_s") == 0)
            continue; /* stays 0 here: windows open only when a test asks */
        if (setting_in(cfg, f->name) != f->def)
            fail_msg("GET shows %s = %g, default %g", f->name, setting_in(cfg, f->name), f->def);
    }
    json_decref(cfg);
    for (size_t i = 0; i < flash_settings_count; i++) {
        const struct settings_field *f = &flash_settings[i];
        if (strcmp(f->name, "scan_interval_s") == 0)
            continue;
        bool boolean = f->type == SETTINGS_BOOL;
        bool integer = f->type == SETTINGS_INT || boolean;
        char body[160];
        body_for(body, sizeof(body), f->name, f->max + (integer ? 1 : 0.5), integer, boolean);
        refused_put(body, f->name);
        body_for(body, sizeof(body), f->name, f->max, integer, boolean);
        json_t *c = put_config(body, 200);
        assert_true(setting_in(c, f->name) == f->max);
        json_decref(c);
        body_for(body, sizeof(body), f->name, f->min - (integer ? 1 : 0.5), integer, boolean);
        refused_put(body, f->name);
        c = get("/api/campaigns/config");
        assert_true(setting_in(c, f->name) == f->max); /* the refusal changed nothing */
        json_decref(c);
        body_for(body, sizeof(body), f->name, f->def, integer, boolean);
        json_decref(put_config(body, 200));
    }
    refused_put("{\"tiers\":[{\"max_m\":300,\"discount\":10},{\"max_m\":20001,"
                "\"discount\":20}]}",
                "tiers[1].max_m");
    refused_put("{\"tiers\":[]}", "tiers");
}

/* ======================== the whole flow ======================== */

static json_t *score_of(json_t *scan, const char *seller_id)
{
    json_t *scores = json_object_get(scan, "scores");
    for (size_t i = 0; i < json_array_size(scores); i++) {
        json_t *s = json_array_get(scores, i);
        if (strcmp(str(s, "seller_id"), seller_id) == 0)
            return s;
    }
    return NULL;
}

static void test_seed_flow(void **state)
{
    (void)state;
    /* two coffee shops in Moda, a few hundred metres apart; buyers around them */
    seed_seller("S201", "+902120000201", "coffee", MODA_LAT, MODA_LNG + 0.004);
    seed_seller("S202", "+902120000202", "coffee", MODA_LAT, MODA_LNG - 0.004);
    const char *buyers[] = {"B201", "B202", "B203", "B204"};
    for (int i = 0; i < 4; i++) {
        char phone[32];
        snprintf(phone, sizeof(phone), "+90531000020%d", i + 1);
        seed_buyer(buyers[i], phone, MODA_LAT + 0.0005 * i, MODA_LNG);
    }
    /* buyers in words (the seed's demand signals) */
    const char *wishes[] = {"Latte istiyorum", "Kahve içmek istiyorum",
                            "Uygun fiyatlı kahve arıyorum", "Bir espresso lazım"};
    for (int i = 0; i < 4; i++) {
        char body[200];
        snprintf(body, sizeof(body), "{\"buyer_id\":\"%s\",\"text\":\"%s\"}", buyers[i], wishes[i]);
        json_t *s = post("/api/buyers/signal", body, 201);
        assert_string_equal(str(s, "category"), "coffee");
        json_decref(s);
    }
    /* sellers in words (the seed's supply signals) */
    json_decref(
        post("/api/sellers/signal", "{\"seller_id\":\"S201\",\"text\":\"Bu saat boşum\"}", 201));
    json_decref(post("/api/sellers/signal",
                     "{\"seller_id\":\"S202\",\"text\":\"Yoğunluk düşük, stok fazlası ürün var\","
                     "\"density_status\":\"low\",\"stock_status\":\"surplus\"}",
                     201));

    /* scan: both score; a body restricts it to the sellers asked about */
    json_t *scan = post("/api/campaigns/scan", NULL, 200);
    assert_non_null(score_of(scan, "S201"));
    assert_non_null(score_of(scan, "S202"));
    assert_true(json_is_true(json_object_get(score_of(scan, "S201"), "eligible")));
    assert_true(json_is_true(json_object_get(score_of(scan, "S202"), "eligible")));
    assert_int_equal(num(score_of(scan, "S201"), "matching"), 4);
    assert_int_equal(num(scan, "opportunity_count"), num(scan, "eligible"));
    assert_true(num(scan, "opportunity_count") >= 2);
    json_decref(scan);
    scan = post("/api/campaigns/scan", "{\"seller_ids\":[\"S202\"]}", 200);
    assert_null(score_of(scan, "S201"));
    assert_non_null(score_of(scan, "S202"));
    json_decref(scan);

    /* generate for S201 only, starting in ten minutes, twelve minutes long */
    long long before = (long long)time(NULL);
    json_t *gen =
        post("/api/campaigns/generate",
             "{\"seller_ids\":[\"S201\"],\"lead_seconds\":600,\"duration_minutes\":12}", 200);
    long long after = (long long)time(NULL);
    json_t *ws = json_object_get(gen, "windows");
    assert_int_equal(json_array_size(ws), 1);
    assert_int_equal(num(gen, "opened"), 1);
    assert_int_equal(num(gen, "created_count"), 1);
    json_t *g = json_array_get(ws, 0);
    assert_string_equal(str(g, "seller_id"), "S201");
    /* an ask-first seller who said "Bu saat boşum" asked for customers: not asked again */
    assert_string_equal(str(g, "status"), "SCHEDULED");
    long long pk = num(g, "window_id");
    json_decref(gen);
    json_t *w = window_of(pk);
    long long start = epoch_of(str(w, "start_time")), end = epoch_of(str(w, "end_time"));
    assert_true(start >= before + 600 - 1 && start <= after + 600 + 1);
    assert_int_equal(end - start, 12 * 60);
    assert_int_equal(json_array_size(json_object_get(w, "buyer_ids")), 4);
    json_decref(w);
    /* S202 was left alone */
    json_t *s202 = get("/api/sellers/S202");
    assert_true(json_is_null(json_object_get(s202, "open_window_id")));
    json_decref(s202);

    /* a yes changes nothing (it is open already); buyers say "katıl" before the start */
    char path[96];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/approve", pk);
    json_t *ap = post(path, NULL, 200);
    assert_string_equal(str(ap, "status"), "SCHEDULED");
    json_decref(ap);
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/precommit", pk);
    json_decref(post(path, "{\"buyer_id\":\"B201\"}", 201));
    json_decref(post(path, "{\"buyer_id\":\"B202\"}", 201));
    json_decref(post(path, "{\"buyer_id\":\"B203\"}", 201));

    /* the start comes (its job, run now), the window is ACTIVE */
    run_job("flash.activate", pk);
    assert_string_equal(wait_status(pk, "ACTIVE", 15000), "ACTIVE");
    json_t *active = get("/api/flash-windows/active");
    bool listed = false;
    json_t *aw = json_object_get(active, "windows");
    for (size_t i = 0; i < json_array_size(aw); i++)
        listed |= num(json_array_get(aw, i), "id") == pk;
    assert_true(listed);
    json_decref(active);

    /* two buyers join and come over; one code is redeemed */
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/join", pk);
    json_t *j1 = post(path, "{\"buyer_id\":\"B201\"}", 201);
    json_decref(post(path, "{\"buyer_id\":\"B202\"}", 201));
    char redeem[160];
    snprintf(redeem, sizeof(redeem), "{\"code\":\"%s\"}", str(j1, "code"));
    json_decref(j1);
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/redeem", pk);
    json_t *red = post(path, redeem, 200);
    assert_string_equal(str(red, "buyer_id"), "B201");
    json_decref(red);
    json_decref(post(path, redeem, 409)); /* single use */

    /* the seller's statement: the visit is billed (no fee set: at 0.00), once */
    json_t *stm = get("/api/sellers/S201/statement");
    assert_int_equal(num(stm, "visits"), 1);
    json_t *tot = json_array_get(json_object_get(stm, "totals"), 0);
    assert_string_equal(str(tot, "currency"), "TRY");
    assert_string_equal(str(tot, "fees"), "0.00");
    assert_int_equal(num(json_array_get(json_object_get(stm, "windows"), 0), "window_id"), pk);
    json_decref(stm);
    json_decref(request("GET", "/api/sellers/S201/statement?month=2026-13", NULL, 400));
    json_decref(request("GET", "/api/sellers/S999/statement", NULL, 404));

    /* the end comes: analytics */
    run_job("flash.expire", pk);
    assert_string_equal(wait_status(pk, "EXPIRED", 15000), "EXPIRED");
    w = window_of(pk);
    json_t *an = json_object_get(w, "analytics");
    assert_int_equal(num(an, "targeted"), 4);
    assert_int_equal(num(an, "committed"), 3);
    assert_int_equal(num(an, "joined"), 2);
    assert_int_equal(num(an, "redeemed"), 1);
    assert_true(json_real_value(json_object_get(an, "conversion")) > 0.24 &&
                json_real_value(json_object_get(an, "conversion")) < 0.26);
    json_decref(w);

    /*
     * The seed driver's generate: lead_seconds 0, "windows go ACTIVE on the next tick". Nobody
     * could pre-commit, so there is no minimum: the window starts, buyers join while it runs.
     */
    gen = post("/api/campaigns/generate", "{\"seller_ids\":[\"S202\"],\"lead_seconds\":0}", 200);
    g = json_array_get(json_object_get(gen, "windows"), 0);
    assert_string_equal(str(g, "status"), "SCHEDULED");
    long long pk2 = num(g, "window_id");
    json_decref(gen);
    w = window_of(pk2);
    assert_int_equal(num(w, "min_participants"), 0);
    json_decref(w);
    run_job("flash.activate", pk2);
    assert_string_equal(wait_status(pk2, "ACTIVE", 15000), "ACTIVE");
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/join", pk2);
    json_decref(post(path, "{\"buyer_id\":\"B204\"}", 201));
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buyer_text_signal), cmocka_unit_test(test_seller_signal_shapes),
        cmocka_unit_test(test_create_end_time),   cmocka_unit_test(test_campaign_bodies),
        cmocka_unit_test(test_config_settings),   cmocka_unit_test(test_seed_flow),
    };
    return cmocka_run_group_tests_name(harness_backend(), tests, setup, teardown);
}
