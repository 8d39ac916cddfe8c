/* SPDX-License-Identifier: MIT */
/*
 * Customer profiles over HTTP against the real server: orders imported, one customer computed
 * alone (POST /api/profiles/calculate/{id}), then every customer by the batch
 * (POST /api/profiles/recompute) with its progress on the job; the five profiles, RFM and the
 * model's predictions of a customer checked by hand; a backtest as_of; the segment counts; bad
 * input named by field; `iceshop profiles recompute`; privacy export and erase covering the
 * profiles; another tenant seeing none of it. Runs on the backend TEST_BACKEND selects.
 */
#include "support/harness.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#define ADMIN  HARNESS_ADMIN_KEY
#define DAY_S  86400
#define N_CUST 120

static struct server srv;
static char other_key[200];  /* admin of tenant "other" */
static char viewer_key[200]; /* viewer of the default tenant */

static int setup(void **state)
{
    (void)state;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    if (server_start(&srv, url, NULL))
        return -1;
    char out[400];
    if (harness_cli(srv.db_url, "tenants create other", out, sizeof(out)) ||
        harness_cli(srv.db_url, "keys create --tenant other --role admin --name b", other_key,
                    sizeof(other_key)) ||
        harness_cli(srv.db_url, "keys create --tenant default --role viewer --name v", viewer_key,
                    sizeof(viewer_key)))
        return -1;
    other_key[strcspn(other_key, " \r\n")] = '\0';
    viewer_key[strcspn(viewer_key, " \r\n")] = '\0';
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return server_stop(&srv) == 0 ? 0 : -1;
}

/* A request with a JSON body (or none); fails unless the status is `want`; the body (free it). */
static json_t *call_as(const char *key, const char *method, const char *path, const char *body,
                       const char *type, long want)
{
    struct resp r;
    assert_int_equal(http_req(&srv, method, path, key, body ? type : NULL, body,
                              body ? strlen(body) : 0, NULL, &r),
                     0);
    if (r.status != want)
        fail_msg("%s %s -> %ld (want %ld): %.500s", method, path, r.status, want, r.body);
    json_t *j = json_incref(r.json);
    resp_free(&r);
    return j;
}

static json_t *call(const char *method, const char *path, const char *body, long want)
{
    return call_as(ADMIN, method, path, body, "application/json", want);
}

/* The field a refused request names. */
static void refused(const char *key, const char *method, const char *path, const char *body,
                    long want, const char *field)
{
    struct resp r;
    assert_int_equal(http_req(&srv, method, path, key, body ? "application/json" : NULL, body,
                              body ? strlen(body) : 0, NULL, &r),
                     0);
    if (r.status != want || strcmp(resp_error_field(&r), field) != 0)
        fail_msg("%s %s -> %ld field \"%s\" (want %ld \"%s\"): %.300s", method, path, r.status,
                 resp_error_field(&r), want, field, r.body);
    resp_free(&r);
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s)
        fail_msg("no string %s", key);
    return s;
}

static long long integer(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_integer(v));
    return (long long)json_integer_value(v);
}

static bool job_done(long long id)
{
    char path[64];
    snprintf(path, sizeof(path), "/api/jobs/%lld", id);
    struct resp r;
    if (http_get(&srv, path, ADMIN, &r) || r.status != 200) {
        resp_free(&r);
        return false;
    }
    const char *st = json_string_value(json_object_get(r.json, "state"));
    bool done = st && strcmp(st, "done") == 0;
    if (st && strcmp(st, "dead") == 0)
        fail_msg("job %lld died: %.300s", id, r.body);
    resp_free(&r);
    return done;
}

static void wait_job(long long id)
{
    WAIT_FOR(job_done(id), 60000);
    assert_true(job_done(id));
}

/* An ISO time `days` days before now. */
static void days_ago(double days, char *out, size_t n)
{
    time_t t = time(NULL) - (time_t)(days * DAY_S);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * The shop: customer "hand" bought 2 lattes (45.00 each, list 50.00) 80, 50 and 20 days ago;
 * "quiet" has no order; N_CUST others bought 1..5 times at spread days (enough for the model).
 */
static char *shop_orders(void)
{
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    char ts[40];
    const int hand_days[3] = {80, 50, 20};
    for (int j = 0; j < 3; j++) {
        days_ago(hand_days[j], ts, sizeof(ts));
        len += (size_t)snprintf(buf + len, cap - len,
                                "{\"external_id\":\"h%d\",\"customer_external_id\":\"hand\","
                                "\"created_at\":\"%s\",\"currency\":\"TRY\",\"status\":\"paid\","
                                "\"items\":[{\"product_external_id\":\"latte\",\"quantity\":2,"
                                "\"unit_price\":\"45.00\"}]}\n",
                                j, ts);
    }
    /* "late" bought lattes 100, 70 and 40 days ago: its 30-day cycle expected one 10 days ago */
    const int late_days[3] = {100, 70, 40};
    for (int j = 0; j < 3; j++) {
        days_ago(late_days[j], ts, sizeof(ts));
        len += (size_t)snprintf(buf + len, cap - len,
                                "{\"external_id\":\"l%d\",\"customer_external_id\":\"late\","
                                "\"created_at\":\"%s\",\"currency\":\"TRY\",\"items\":[{"
                                "\"product_external_id\":\"latte\",\"quantity\":1,"
                                "\"unit_price\":\"50.00\"}]}\n",
                                j, ts);
    }
    uint64_t s = 12345;
    for (int k = 0; k < N_CUST; k++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        int orders = 1 + (int)((s >> 33) % 5);
        double back = 30 + (double)((s >> 20) % 300);
        for (int j = 0; j < orders && back > 1; j++) {
            days_ago(back, ts, sizeof(ts));
            len += (size_t)snprintf(
                buf + len, cap - len,
                "{\"external_id\":\"o%d_%d\",\"customer_external_id\":\"c%d\",\"created_at\":"
                "\"%s\",\"currency\":\"TRY\",\"items\":[{\"product_external_id\":\"%s\","
                "\"quantity\":1,\"unit_price\":\"%d.00\"}]}\n",
                k, j, k, ts, (k + j) % 3 ? "simit" : "latte", 10 + (k % 7) * 5);
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            back -= 1 + (double)((s >> 33) % 50);
        }
    }
    return buf;
}

static void import_shop(const char *key)
{
    const char *products = "{\"external_id\":\"latte\",\"name\":\"Latte\",\"category_external_id\":"
                           "\"kahve\",\"category_name\":\"Kahve\","
                           "\"price\":\"50.00\",\"currency\":\"TRY\"}\n"
                           "{\"external_id\":\"simit\",\"name\":\"Simit\",\"category_external_id\":"
                           "\"firin\",\"category_name\":\"Fırın\","
                           "\"price\":\"15.00\",\"currency\":\"TRY\"}\n";
    json_decref(
        call_as(key, "POST", "/api/import/products", products, "application/x-ndjson", 200));
    /* the hand customer lives in a city whose climate is known for every month */
    json_t *city = call_as(key, "POST", "/api/cities",
                           "{\"country_code\":\"TR\",\"name\":\"İzmir\"}", "application/json", 201);
    char path[160], months[2048], body[300];
    snprintf(path, sizeof(path), "/api/cities/%s/climate", str(city, "id"));
    size_t len = (size_t)snprintf(months, sizeof(months), "{\"months\":[");
    for (int m = 1; m <= 12; m++)
        len += (size_t)snprintf(months + len, sizeof(months) - len,
                                "%s{\"month\":%d,\"avg_temp_c\":%d,\"rainfall_mm\":%d,"
                                "\"humidity_pct\":60,\"season_tag\":\"%s\"}",
                                m > 1 ? "," : "", m, 10 + m, 100 - m, m % 2 ? "odd" : "even");
    snprintf(months + len, sizeof(months) - len, "]}");
    json_decref(call_as(key, "PUT", path, months, "application/json", 200));
    snprintf(body, sizeof(body),
             "{\"source\":\"import\",\"external_id\":\"hand\",\"email\":\"hand@example.com\","
             "\"city_id\":\"%s\"}",
             str(city, "id"));
    json_decref(call_as(key, "POST", "/api/customers", body, "application/json", 201));
    json_decref(city);
    const char *customers = "{\"external_id\":\"quiet\",\"email\":\"quiet@example.com\"}\n";
    json_decref(
        call_as(key, "POST", "/api/import/customers", customers, "application/x-ndjson", 200));
    char *orders = shop_orders();
    json_t *j = call_as(key, "POST", "/api/import/orders", orders, "application/x-ndjson", 200);
    assert_int_equal(integer(j, "rejected"), 0);
    json_decref(j);
    free(orders);
}

/* The public id of the customer with external id `ext` (of the key's tenant). */
static void customer_id(const char *key, const char *ext, char *out, size_t n)
{
    json_t *j = call_as(key, "GET", "/api/customers?limit=500", NULL, NULL, 200);
    json_t *arr = json_object_get(j, "customers"), *c;
    size_t i;
    out[0] = '\0';
    json_array_foreach(arr, i, c)
    {
        const char *x = json_string_value(json_object_get(c, "external_id"));
        if (x && strcmp(x, ext) == 0)
            snprintf(out, n, "%s", str(c, "id"));
    }
    json_decref(j);
    if (!out[0])
        fail_msg("no customer %s", ext);
}

static void check_hand(json_t *p)
{
    json_t *b = json_object_get(p, "budget");
    assert_string_equal(str(b, "spend_last_30"), "90.00");
    assert_string_equal(str(b, "spend_last_90"), "270.00");
    assert_int_equal(integer(b, "orders_last_90"), 3);
    assert_string_equal(str(b, "avg_order_value"), "90.00");
    assert_string_equal(str(b, "budget_tier"), "LOW");
    /* every item below its list price: D = 1, C = 0, P = 1 → 100·(0.4 + 0.3) */
    assert_float_equal(json_number_value(json_object_get(b, "price_sensitivity_score")), 70, 1e-6);
    json_t *l = json_object_get(p, "loyalty");
    assert_string_equal(str(l, "loyalty_tier"), "BRONZE");
    assert_int_equal(integer(l, "lifetime_orders"), 3);
    assert_string_equal(str(l, "lifetime_spent"), "270.00");
    assert_int_equal(integer(l, "days_since_last_order"), 20);
    json_t *cats = json_object_get(p, "category_affinity");
    assert_int_equal(json_array_size(cats), 1);
    assert_string_equal(str(json_array_get(cats, 0), "name"), "Kahve");
    json_t *rep = json_object_get(p, "replenishment");
    assert_int_equal(json_array_size(rep), 1);
    assert_int_equal(integer(json_array_get(rep, 0), "replenishment_cycle_days"), 30);
    assert_string_equal(str(json_array_get(rep, 0), "name"), "Latte");
    assert_string_equal(str(json_object_get(p, "variety"), "explorer_type"), "REPEAT_BUYER");
    json_t *rfm = json_object_get(p, "rfm");
    assert_true(json_is_object(rfm));
    json_t *pr = json_object_get(p, "predictions");
    double alive = json_number_value(json_object_get(pr, "p_alive"));
    if (!json_is_number(json_object_get(pr, "p_alive")))
        fail_msg("no prediction: %s", json_string_value(json_object_get(pr, "reason")));
    assert_true(alive > 0 && alive <= 1);
    assert_float_equal(json_number_value(json_object_get(pr, "churn_probability")), 1 - alive,
                       1e-5);
    assert_true(json_number_value(json_object_get(pr, "predicted_clv")) > 0);
}

static void test_profiles(void **state)
{
    (void)state;
    import_shop(ADMIN);
    char hand[64], quiet[64], path[160];
    customer_id(ADMIN, "hand", hand, sizeof(hand));
    customer_id(ADMIN, "quiet", quiet, sizeof(quiet));

    /* nothing computed yet: 404 naming profiles */
    snprintf(path, sizeof(path), "/api/profiles/%s", hand);
    refused(ADMIN, "GET", path, NULL, 404, "profiles");

    /* one customer alone */
    snprintf(path, sizeof(path), "/api/profiles/calculate/%s", hand);
    json_t *j = call("POST", path, NULL, 202);
    assert_string_equal(str(j, "customer_id"), hand);
    wait_job(integer(j, "job_id"));
    json_decref(j);
    snprintf(path, sizeof(path), "/api/profiles/%s", hand);
    j = call_as(viewer_key, "GET", path, NULL, NULL, 200);
    check_hand(j);
    json_decref(j);
    /* only that one so far */
    snprintf(path, sizeof(path), "/api/profiles/%s", quiet);
    refused(ADMIN, "GET", path, NULL, 404, "profiles");

    /* the batch: every customer, progress on the job */
    j = call("POST", "/api/profiles/recompute", NULL, 202);
    long long job = integer(j, "job_id");
    json_decref(j);
    wait_job(job);
    snprintf(path, sizeof(path), "/api/jobs/%lld", job);
    j = call("GET", path, NULL, 200);
    json_t *progress = json_object_get(j, "progress");
    assert_true(json_is_object(progress));
    assert_int_equal(integer(progress, "done"), integer(progress, "total"));
    assert_true(integer(progress, "total") >= N_CUST);
    json_decref(j);
    assert_int_equal(harness_db_i64(srv.db_url, "SELECT count(*) FROM profile_batch"), 1);
    snprintf(path, sizeof(path), "/api/profiles/%s", hand);
    j = call("GET", path, NULL, 200);
    check_hand(j);
    json_decref(j);
    snprintf(path, sizeof(path), "/api/profiles/%s", quiet);
    j = call("GET", path, NULL, 200);
    assert_string_equal(str(json_object_get(j, "loyalty"), "loyalty_tier"), "NEW");
    assert_true(json_is_null(json_object_get(j, "rfm")));
    assert_true(json_is_null(json_object_get(json_object_get(j, "predictions"), "p_alive")));
    assert_non_null(strstr(str(json_object_get(j, "predictions"), "reason"), "no purchase"));
    json_decref(j);

    /* segments: every customer with an order is in one */
    j = call("GET", "/api/intel/segments", NULL, 200);
    json_t *segs = json_object_get(j, "segments"), *sg;
    size_t i;
    long long total = 0;
    json_array_foreach(segs, i, sg) total += integer(sg, "customers");
    assert_int_equal(total, N_CUST + 2);
    json_decref(j);

    /* the seed's decision trace: signals from the profiles, the city's climate this month */
    snprintf(path, sizeof(path), "/api/campaigns/decision-trace/%s", hand);
    j = call_as(viewer_key, "GET", path, NULL, NULL, 200);
    json_t *sig = json_object_get(j, "signals");
    assert_string_equal(str(sig, "budgetTier"), "LOW");
    assert_float_equal(json_number_value(json_object_get(sig, "predictedMonthlyBudget")), 90, 1e-9);
    assert_int_equal(integer(sig, "lifetimeOrders"), 3);
    assert_string_equal(
        str(json_array_get(json_object_get(sig, "topCategories"), 0), "categoryName"), "Kahve");
    assert_int_equal(json_array_size(json_object_get(sig, "replenishmentGaps")), 0);
    json_t *city = json_object_get(sig, "city");
    assert_string_equal(str(city, "name"), "İzmir");
    time_t now_t = time(NULL);
    struct tm now_tm;
    gmtime_r(&now_t, &now_tm);
    int month = now_tm.tm_mon + 1;
    assert_int_equal(integer(city, "currentMonth"), month);
    assert_float_equal(json_number_value(json_object_get(city, "avgTempC")), 10 + month, 1e-9);
    assert_string_equal(str(city, "seasonTag"), month % 2 ? "odd" : "even");
    json_t *vis = json_object_get(j, "visualizations");
    assert_string_equal(str(json_object_get(vis, "budgetGauge"), "tier"), "LOW");
    assert_string_equal(str(json_object_get(vis, "loyaltyProgress"), "current"), "BRONZE");
    assert_string_equal(str(vis, "varietyType"), "REPEAT_BUYER");
    json_decref(j);
    char late[64];
    customer_id(ADMIN, "late", late, sizeof(late));
    snprintf(path, sizeof(path), "/api/campaigns/decision-trace/%s", late);
    j = call("GET", path, NULL, 200);
    json_t *gaps = json_object_get(json_object_get(j, "signals"), "replenishmentGaps");
    assert_int_equal(json_array_size(gaps), 1);
    assert_int_equal(integer(json_array_get(gaps, 0), "daysSinceExpected"), 10);
    assert_int_equal(integer(json_array_get(gaps, 0), "cycleDays"), 30);
    assert_string_equal(str(json_array_get(gaps, 0), "productName"), "Latte");
    assert_true(json_is_null(json_object_get(json_object_get(j, "signals"), "city")));
    json_decref(j);
    refused(ADMIN, "GET", "/api/campaigns/decision-trace/cus_doesnotexist", NULL, 404,
            "customerId");
    snprintf(path, sizeof(path), "/api/campaigns/decision-trace/%s", hand);
    refused(other_key, "GET", path, NULL, 404, "customerId");

    /* a backtest: as of 30 days ago the hand customer had two orders */
    char day[40], body[120];
    days_ago(30, day, sizeof(day));
    day[10] = '\0';
    snprintf(body, sizeof(body), "{\"as_of\":\"%s\"}", day);
    j = call("POST", "/api/profiles/recompute", body, 202);
    wait_job(integer(j, "job_id"));
    json_decref(j);
    snprintf(path, sizeof(path), "/api/profiles/%s", hand);
    j = call("GET", path, NULL, 200);
    assert_int_equal(integer(json_object_get(j, "loyalty"), "lifetime_orders"), 2);
    assert_int_equal(strncmp(str(j, "as_of"), day, 10), 0);
    json_decref(j);

    /* bad input, named */
    refused(ADMIN, "POST", "/api/profiles/recompute", "{\"as_of\":\"yesterday\"}", 400, "as_of");
    refused(ADMIN, "POST", "/api/profiles/recompute", "{\"as_of\":\"2999-01-01\"}", 400, "as_of");
    refused(ADMIN, "POST", "/api/profiles/recompute", "{\"asof\":\"2024-01-01\"}", 400, "asof");
    refused(viewer_key, "POST", "/api/profiles/recompute", NULL, 403, "");
    refused(ADMIN, "GET", "/api/profiles/cus_doesnotexist", NULL, 404, "customer_id");
    refused(ADMIN, "POST", "/api/profiles/calculate/cus_doesnotexist", NULL, 404, "customer_id");

    /* another tenant sees none of it, by id or in its segments */
    snprintf(path, sizeof(path), "/api/profiles/%s", hand);
    refused(other_key, "GET", path, NULL, 404, "customer_id");
    snprintf(path, sizeof(path), "/api/profiles/calculate/%s", hand);
    refused(other_key, "POST", path, NULL, 404, "customer_id");
    j = call_as(other_key, "GET", "/api/intel/segments", NULL, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "segments")), 0);
    assert_true(json_is_null(json_object_get(j, "batch_id")));
    json_decref(j);

    /* the CLI runs the same batch */
    char out[400];
    assert_int_equal(
        harness_cli(srv.db_url, "profiles recompute --tenant default", out, sizeof(out)), 0);
    char want[80];
    snprintf(want, sizeof(want), "profiles: %d customers", N_CUST + 3);
    if (!strstr(out, want))
        fail_msg("cli said: %s (want %s)", out, want);
    snprintf(path, sizeof(path), "/api/profiles/%s", hand);
    j = call("GET", path, NULL, 200);
    assert_int_equal(integer(json_object_get(j, "loyalty"), "lifetime_orders"), 3);
    json_decref(j);

    /* privacy: the export carries the profiles, the erasure removes them */
    j = call("GET", "/api/privacy/export?email=hand@example.com", NULL, 200);
    char *dump = json_dumps(j, JSON_COMPACT);
    assert_non_null(strstr(dump, "customer_loyalty_profile"));
    assert_non_null(strstr(dump, "BRONZE"));
    free(dump);
    json_decref(j);
    json_decref(call("POST", "/api/privacy/erase", "{\"email\":\"hand@example.com\"}", 200));
    snprintf(path, sizeof(path), "/api/profiles/%s", hand);
    refused(ADMIN, "GET", path, NULL, 404, "profiles");
    /* and the next batch leaves the erased (inactive) customer out */
    j = call("POST", "/api/profiles/recompute", NULL, 202);
    wait_job(integer(j, "job_id"));
    json_decref(j);
    refused(ADMIN, "GET", path, NULL, 404, "profiles");
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profiles),
    };
    return cmocka_run_group_tests_name("0022-profiles", tests, setup, teardown);
}
