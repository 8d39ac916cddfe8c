/* SPDX-License-Identifier: MIT */
/*
 * The campaign planner over HTTP against the real server, twice: without a language model (the
 * rules plan: personal campaigns, with and without a cart, and company proposals checked by
 * hand, near campaigns, the decision log, bad input named by field, another tenant seeing none
 * of it, privacy erasure removing a person's campaigns, the older /api/campaigns routes still
 * answering) and with a local fake model (a good answer is used;
 * an answer that is not JSON, breaks the format or offers too much discount is refused, asked
 * once more and then the rules plan; a 429 is asked once more, then the rules plan; each is
 * logged). A third server sends campaigns: the intelligence settings (named errors, budget
 * tiers read by the next batch, the discount cap read by the planner), a company campaign to its
 * target audience with an exact holdout recomputed here from the documented hash, messages
 * written by the job to the treatment only, orders after the send attributed, the uplift figures
 * checked by hand; a personal campaign by WhatsApp and by email; bad input and another tenant.
 * Runs on the backend TEST_BACKEND selects.
 */
#include "support/harness.h"
#include "support/fake_llm.h"
#include "core/crypto.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include <cmocka.h>

#define ADMIN   HARNESS_ADMIN_KEY
#define DAY_S   86400
#define LLM_KEY "sk-campaign-tests"

static struct server srv;
static struct fake_llm *llm;
static char other_key[200];
static char hand[64], late[64], quiet[64];

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

static double number(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        fail_msg("no number %s", key);
    return json_number_value(v);
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

static void days_ago(double days, char *out, size_t n)
{
    time_t t = time(NULL) - (time_t)(days * DAY_S);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void customer_id(const char *ext, char *out, size_t n)
{
    json_t *j = call("GET", "/api/customers?limit=500", NULL, 200);
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

/*
 * The shop: latte (50.00, 10 in stock, Kahve), simit (15.00, 5 in stock, Fırın), mug (80.00,
 * none in stock). "hand" bought 2 lattes at 45.00 80, 50 and 20 days ago (average order 90.00,
 * nothing due); "late" bought one latte 100, 70 and 40 days ago (due 10 days ago); "quiet"
 * bought nothing.
 */
static void import_shop(void)
{
    const char *products = "{\"external_id\":\"latte\",\"name\":\"Latte\",\"category_external_id\":"
                           "\"kahve\",\"category_name\":\"Kahve\",\"price\":\"50.00\","
                           "\"currency\":\"TRY\",\"stock\":10}\n"
                           "{\"external_id\":\"simit\",\"name\":\"Simit\",\"category_external_id\":"
                           "\"firin\",\"category_name\":\"Fırın\",\"price\":\"15.00\","
                           "\"currency\":\"TRY\",\"stock\":5}\n"
                           "{\"external_id\":\"mug\",\"name\":\"Mug\",\"category_external_id\":"
                           "\"kahve\",\"category_name\":\"Kahve\",\"price\":\"80.00\","
                           "\"currency\":\"TRY\",\"stock\":0}\n";
    json_decref(
        call_as(ADMIN, "POST", "/api/import/products", products, "application/x-ndjson", 200));
    const char *customers = "{\"external_id\":\"hand\",\"email\":\"hand@example.com\"}\n"
                            "{\"external_id\":\"late\",\"email\":\"late@example.com\"}\n"
                            "{\"external_id\":\"quiet\",\"email\":\"quiet@example.com\"}\n";
    json_decref(
        call_as(ADMIN, "POST", "/api/import/customers", customers, "application/x-ndjson", 200));
    char orders[4096], ts[40];
    size_t len = 0;
    const int hand_days[3] = {80, 50, 20}, late_days[3] = {100, 70, 40};
    for (int j = 0; j < 3; j++) {
        days_ago(hand_days[j], ts, sizeof(ts));
        len += (size_t)snprintf(orders + len, sizeof(orders) - len,
                                "{\"external_id\":\"h%d\",\"customer_external_id\":\"hand\","
                                "\"created_at\":\"%s\",\"currency\":\"TRY\",\"status\":\"paid\","
                                "\"items\":[{\"product_external_id\":\"latte\",\"quantity\":2,"
                                "\"unit_price\":\"45.00\"}]}\n",
                                j, ts);
        days_ago(late_days[j], ts, sizeof(ts));
        len += (size_t)snprintf(orders + len, sizeof(orders) - len,
                                "{\"external_id\":\"l%d\",\"customer_external_id\":\"late\","
                                "\"created_at\":\"%s\",\"currency\":\"TRY\",\"items\":[{"
                                "\"product_external_id\":\"latte\",\"quantity\":1,"
                                "\"unit_price\":\"50.00\"}]}\n",
                                j, ts);
    }
    json_t *j = call_as(ADMIN, "POST", "/api/import/orders", orders, "application/x-ndjson", 200);
    json_decref(j);
    customer_id("hand", hand, sizeof(hand));
    customer_id("late", late, sizeof(late));
    customer_id("quiet", quiet, sizeof(quiet));
    j = call("POST", "/api/profiles/recompute", NULL, 202);
    long long job = (long long)json_integer_value(json_object_get(j, "job_id"));
    json_decref(j);
    WAIT_FOR(job_done(job), 60000);
    assert_true(job_done(job));
}

static int start(bool with_model)
{
    char url[600], llm_url[160];
    harness_fresh_db(url, sizeof(url));
    const char *env[] = {NULL, NULL, NULL, NULL, NULL};
    if (with_model) {
        llm = fake_llm_start(LLM_KEY);
        if (!llm)
            return -1;
        snprintf(llm_url, sizeof(llm_url), "ICESHOP_LLM_URL=%s", fake_llm_url(llm));
        env[0] = llm_url;
        env[1] = "ICESHOP_LLM_KEY=" LLM_KEY;
        env[2] = "ICESHOP_LLM_TIMEOUT_MS=3000";
        /* one HTTP thread: a plan waiting for the model must not hold it (test_model_lane) */
        env[3] = "ICESHOP_HTTP_THREADS=1";
    }
    if (server_start(&srv, url, env))
        return -1;
    char out[400];
    if (harness_cli(srv.db_url, "tenants create other", out, sizeof(out)) ||
        harness_cli(srv.db_url, "keys create --tenant other --role admin --name b", other_key,
                    sizeof(other_key)))
        return -1;
    other_key[strcspn(other_key, " \r\n")] = '\0';
    return 0;
}

static int setup_rules(void **state)
{
    (void)state;
    return start(false);
}

static int setup_model(void **state)
{
    (void)state;
    return start(true);
}

static int teardown(void **state)
{
    (void)state;
    int rc = server_stop(&srv) == 0 ? 0 : -1;
    if (llm)
        fake_llm_stop(llm);
    llm = NULL;
    return rc;
}

static json_t *personal(const char *customer)
{
    char body[200];
    snprintf(body, sizeof(body), "{\"customerId\":\"%s\"}", customer);
    return call("POST", "/api/campaigns/generate/personal", body, 200);
}

static json_t *log_row(json_t *generated)
{
    char path[120];
    snprintf(path, sizeof(path), "/api/campaigns/%s", str(generated, "id"));
    return call("GET", path, NULL, 200);
}

static void check_reasoning(json_t *campaign)
{
    static const char *const dims[] = {"budget",        "loyalty", "category",
                                       "replenishment", "variety", "seasonal"};
    json_t *r = json_object_get(campaign, "reasoning");
    for (size_t i = 0; i < 6; i++)
        assert_true(strlen(str(r, dims[i])) > 0);
}

/* ------------------------------------------------------------------------------- the rules */

/* Without a model nothing is queued: Prefer: respond-async is answered at once, by the rules. */
static void test_rules_prefer_async(void **state)
{
    (void)state;
    char body[200];
    snprintf(body, sizeof(body), "{\"customerId\":\"%s\"}", hand);
    const char *prefer[] = {"Prefer: respond-async", NULL};
    struct resp r;
    assert_int_equal(http_req(&srv, "POST", "/api/campaigns/generate/personal", ADMIN,
                              "application/json", body, strlen(body), prefer, &r),
                     0);
    assert_int_equal(r.status, 200);
    assert_string_equal(str(r.json, "planner"), "rules");
    char applied[64];
    assert_false(resp_header(&r, "Preference-Applied", applied, sizeof(applied)));
    resp_free(&r);
}

static void test_rules_personal(void **state)
{
    (void)state;
    import_shop();
    /* hand: no gap, BRONZE, average order 90.00 → THRESHOLD at ceil10(1.25 × 90) = 120 */
    json_t *j = personal(hand);
    assert_string_equal(str(j, "planner"), "rules");
    json_t *c = json_object_get(j, "campaign");
    assert_string_equal(str(c, "campaignType"), "THRESHOLD");
    assert_float_equal(number(c, "targetAmount"), 120, 1e-9);
    check_reasoning(c);
    assert_float_equal(number(json_object_get(j, "signals"), "avgOrderValue"), 90, 1e-6);
    /* products: Kahve is the favourite (latte MEDIUM), then the cheapest other (simit); no mug */
    json_t *ps = json_object_get(c, "recommendedProducts");
    assert_int_equal(json_array_size(ps), 2);
    assert_string_equal(str(json_array_get(ps, 0), "name"), "Latte");
    assert_string_equal(str(json_array_get(ps, 0), "priority"), "MEDIUM");
    assert_string_equal(str(json_array_get(ps, 1), "name"), "Simit");
    assert_string_equal(str(json_array_get(ps, 1), "priority"), "LOW");
    json_t *row = log_row(j);
    assert_string_equal(str(row, "kind"), "personal");
    assert_string_equal(str(row, "customerId"), hand);
    assert_string_equal(str(row, "planner"), "rules");
    assert_string_equal(str(row, "validation"), "ok: no model configured");
    assert_string_equal(str(row, "campaignType"), "THRESHOLD");
    assert_true(json_is_null(json_object_get(row, "answer")));
    assert_true(json_equal(json_object_get(row, "campaign"), c));
    json_decref(row);
    json_decref(j);

    /* late: latte due 10 days ago → BUNDLE of the latte (HIGH), 10 % off, target 50 */
    j = personal(late);
    c = json_object_get(j, "campaign");
    assert_string_equal(str(c, "campaignType"), "BUNDLE");
    assert_float_equal(number(c, "discountPercent"), 10, 1e-9);
    assert_float_equal(number(c, "targetAmount"), 50, 1e-9);
    ps = json_object_get(c, "recommendedProducts");
    assert_string_equal(str(json_array_get(ps, 0), "name"), "Latte");
    assert_string_equal(str(json_array_get(ps, 0), "priority"), "HIGH");
    json_decref(j);

    /*
     * quiet: profiled without an order (no average order, sensitivity 50) → DISCOUNT
     * 5 + round(50 / 10) = 10 %, confidence 50 + 5 × 0 orders = 50
     */
    j = personal(quiet);
    c = json_object_get(j, "campaign");
    assert_string_equal(str(c, "campaignType"), "DISCOUNT");
    assert_float_equal(number(c, "discountPercent"), 10, 1e-9);
    assert_float_equal(number(c, "confidence"), 50, 1e-9);
    json_decref(j);
}

static void test_rules_company(void **state)
{
    (void)state;
    json_t *j = call("POST", "/api/campaigns/generate/company",
                     "{\"goal\":\"STOCK_CLEARANCE\",\"constraints\":{\"maxDiscount\":12},"
                     "\"target\":{\"budgetTier\":\"LOW\",\"cities\":[\"İzmir\"]}}",
                     200);
    assert_string_equal(str(j, "planner"), "rules");
    json_t *ps = json_object_get(j, "proposals");
    assert_int_equal(json_array_size(ps), 3);
    assert_string_equal(str(json_array_get(ps, 0), "type"), "BUNDLE");
    assert_string_equal(str(json_array_get(ps, 1), "type"), "THRESHOLD");
    assert_string_equal(str(json_array_get(ps, 2), "type"), "GIFT");
    json_t *p0 = json_array_get(ps, 0);
    assert_float_equal(number(p0, "discountPercent"), 12, 1e-9);
    assert_float_equal(number(p0, "expectedROI"), 1.8, 1e-9);
    assert_string_equal(str(p0, "risk"), "LOW");
    json_t *tp = json_object_get(p0, "targetProfile");
    assert_string_equal(str(tp, "budgetTier"), "LOW");
    assert_string_equal(str(tp, "loyaltyTier"), "SILVER");
    assert_string_equal(json_string_value(json_array_get(json_object_get(tp, "cities"), 0)),
                        "İzmir");
    json_t *row = log_row(j);
    assert_string_equal(str(row, "kind"), "company");
    assert_string_equal(str(row, "goal"), "STOCK_CLEARANCE");
    assert_true(json_is_null(json_object_get(row, "customerId")));
    assert_float_equal(number(json_object_get(row, "constraints"), "maxDiscount"), 12, 1e-9);
    json_decref(row);
    json_decref(j);
    /* LOYALTY_REWARD leads with a gift */
    j = call("POST", "/api/campaigns/generate/company", "{\"goal\":\"LOYALTY_REWARD\"}", 200);
    assert_string_equal(str(json_array_get(json_object_get(j, "proposals"), 0), "type"), "GIFT");
    json_decref(j);
}

static void test_rules_near_and_list(void **state)
{
    (void)state;
    /* hand's THRESHOLD of 120 against an average order of 90: 30 to go, 75 % there */
    char path[160];
    snprintf(path, sizeof(path), "/api/campaigns/near/%s", hand);
    json_t *j = call("GET", path, NULL, 200);
    assert_string_equal(str(j, "basis"), "avgOrderValue");
    assert_float_equal(number(j, "currentAmount"), 90, 1e-6);
    json_t *near = json_object_get(j, "nearCampaigns");
    assert_int_equal(json_array_size(near), 1);
    assert_float_equal(number(json_array_get(near, 0), "gap"), 30, 1e-6);
    assert_float_equal(number(json_array_get(near, 0), "progress"), 75, 1e-6);
    json_decref(j);
    /* late's bundle of 50 is already reached by its average order of 50: not near */
    snprintf(path, sizeof(path), "/api/campaigns/near/%s", late);
    j = call("GET", path, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "nearCampaigns")), 0);
    json_decref(j);
    /* the log: 3 personal + 2 company, oldest first, two to a page */
    j = call("GET", "/api/campaigns?limit=2", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "campaigns")), 2);
    assert_string_equal(str(json_array_get(json_object_get(j, "campaigns"), 0), "customerId"),
                        hand);
    json_decref(j);
    j = call("GET", "/api/campaigns?limit=500", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "campaigns")), 5);
    json_decref(j);
    /* filtered by kind and by customer */
    j = call("GET", "/api/campaigns?kind=company", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "campaigns")), 2);
    json_decref(j);
    snprintf(path, sizeof(path), "/api/campaigns?kind=personal&customerId=%s", late);
    j = call("GET", path, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "campaigns")), 1);
    assert_string_equal(str(json_array_get(json_object_get(j, "campaigns"), 0), "customerId"),
                        late);
    json_decref(j);
    refused(ADMIN, "GET", "/api/campaigns?kind=other", NULL, 400, "kind");
}

/* A cart of two lattes (100.00): the threshold rises over it, and near campaigns measure it. */
static void test_rules_cart(void **state)
{
    (void)state;
    char body[400], cart[64], path[200], latte[64] = "";
    json_t *j = call("GET", "/api/products?limit=50", NULL, 200), *p;
    size_t i;
    json_array_foreach(json_object_get(j, "products"), i, p)
    {
        if (strcmp(str(p, "name"), "Latte") == 0)
            snprintf(latte, sizeof(latte), "%s", str(p, "id"));
    }
    json_decref(j);
    snprintf(body, sizeof(body),
             "{\"customer_id\":\"%s\",\"currency\":\"TRY\",\"items\":[{\"product_id\":\"%s\","
             "\"quantity\":2,\"unit_price\":\"50.00\"}]}",
             hand, latte);
    j = call("POST", "/api/carts", body, 201);
    snprintf(cart, sizeof(cart), "%s", str(j, "id"));
    json_decref(j);
    snprintf(body, sizeof(body), "{\"customerId\":\"%s\",\"cartId\":\"%s\"}", hand, cart);
    j = call("POST", "/api/campaigns/generate/personal", body, 200);
    /* ceil10(1.25 × 100) = 130; the latte in the cart is not recommended again */
    json_t *c = json_object_get(j, "campaign");
    assert_string_equal(str(c, "campaignType"), "THRESHOLD");
    assert_float_equal(number(c, "targetAmount"), 130, 1e-9);
    assert_string_equal(str(json_object_get(json_object_get(j, "signals"), "cart"), "cartId"),
                        cart);
    assert_string_equal(str(json_array_get(json_object_get(c, "recommendedProducts"), 0), "name"),
                        "Simit");
    json_t *row = log_row(j);
    assert_string_equal(str(row, "cartId"), cart);
    json_decref(row);
    json_decref(j);
    /* against the cart's 100: 130 (30 to go) and 120 (20 to go), newest first */
    snprintf(path, sizeof(path), "/api/campaigns/near/%s?cartId=%s", hand, cart);
    j = call("GET", path, NULL, 200);
    assert_string_equal(str(j, "basis"), "cart");
    assert_float_equal(number(j, "currentAmount"), 100, 1e-6);
    json_t *near = json_object_get(j, "nearCampaigns");
    assert_int_equal(json_array_size(near), 2);
    assert_float_equal(number(json_array_get(near, 0), "gap"), 30, 1e-6);
    assert_float_equal(number(json_array_get(near, 1), "gap"), 20, 1e-6);
    json_decref(j);
    /* another tenant cannot name the cart either */
    snprintf(path, sizeof(path), "/api/campaigns/near/%s?cartId=%s", hand, cart);
    refused(other_key, "GET", path, NULL, 404, "customerId");
}

/* Erasing a person removes the campaigns planned for them. */
static void test_rules_privacy_erase(void **state)
{
    (void)state;
    json_t *mine = personal(late);
    json_decref(call("POST", "/api/privacy/erase", "{\"email\":\"late@example.com\"}", 200));
    char path[160];
    snprintf(path, sizeof(path), "/api/campaigns/%s", str(mine, "id"));
    refused(ADMIN, "GET", path, NULL, 404, "id");
    json_decref(mine);
}

static void test_rules_bad_input_and_tenants(void **state)
{
    (void)state;
    refused(ADMIN, "POST", "/api/campaigns/generate/personal", "{}", 400, "customerId");
    refused(ADMIN, "POST", "/api/campaigns/generate/personal", "{\"customerId\":5}", 400,
            "customerId");
    refused(ADMIN, "POST", "/api/campaigns/generate/personal", "{\"customerId\":\"nope\"}", 404,
            "customerId");
    char body[200];
    snprintf(body, sizeof(body), "{\"customerId\":\"%s\",\"cartId\":\"nope\"}", hand);
    refused(ADMIN, "POST", "/api/campaigns/generate/personal", body, 404, "cartId");
    refused(ADMIN, "POST", "/api/campaigns/generate/company", "{}", 400, "goal");
    refused(ADMIN, "POST", "/api/campaigns/generate/company", "{\"goal\":\"\"}", 400, "goal");
    refused(ADMIN, "POST", "/api/campaigns/generate/company",
            "{\"goal\":\"X\",\"constraints\":[1]}", 400, "constraints");
    refused(ADMIN, "GET", "/api/campaigns/cmp_nope", NULL, 404, "id");

    /* another tenant sees none of it */
    json_t *mine = personal(hand);
    char path[160];
    snprintf(path, sizeof(path), "/api/campaigns/%s", str(mine, "id"));
    refused(other_key, "GET", path, NULL, 404, "id");
    snprintf(path, sizeof(path), "/api/campaigns/near/%s", hand);
    refused(other_key, "GET", path, NULL, 404, "customerId");
    snprintf(body, sizeof(body), "{\"customerId\":\"%s\"}", hand);
    refused(other_key, "POST", "/api/campaigns/generate/personal", body, 404, "customerId");
    json_t *j = call_as(other_key, "GET", "/api/campaigns", NULL, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "campaigns")), 0);
    json_decref(j);
    j = call_as(other_key, "POST", "/api/campaigns/generate/company", "{\"goal\":\"AOV_INCREASE\"}",
                "application/json", 200);
    snprintf(path, sizeof(path), "/api/campaigns/%s", str(j, "id"));
    refused(ADMIN, "GET", path, NULL, 404, "id");
    json_decref(j);
    json_decref(mine);

    /* the older /api/campaigns routes are not taken for an id */
    json_decref(call("GET", "/api/campaigns/config", NULL, 200));
    json_decref(call("GET", "/api/campaigns/learning", NULL, 200));
    snprintf(path, sizeof(path), "/api/campaigns/decision-trace/%s", hand);
    json_decref(call("GET", path, NULL, 200));
}

/* ------------------------------------------------------------------------------- the model */

/* A good answer for hand: `pct` % off lattes (static buffer). */
static const char *good_personal(int pct)
{
    static char buf[1500];
    json_t *j = call("GET", "/api/products?limit=50", NULL, 200);
    json_t *arr = json_object_get(j, "products"), *p;
    size_t i;
    char latte[64] = "";
    json_array_foreach(arr, i, p)
    {
        if (strcmp(str(p, "name"), "Latte") == 0)
            snprintf(latte, sizeof(latte), "%s", str(p, "id"));
    }
    json_decref(j);
    assert_true(latte[0] != '\0');
    snprintf(buf, sizeof(buf),
             "```json\n{\"campaignType\":\"DISCOUNT\",\"title\":\"Latte week\",\"description\":"
             "\"lattes for less\",\"discountPercent\":%d,\"reasoning\":{\"budget\":\"b\","
             "\"loyalty\":\"l\",\"category\":\"c\",\"replenishment\":\"r\",\"variety\":\"v\","
             "\"seasonal\":\"s\"},\"recommendedProducts\":[{\"productId\":\"%s\",\"reason\":"
             "\"favourite\",\"priority\":\"HIGH\"}],\"confidence\":80,\"expectedImpact\":\"x\"}\n"
             "```",
             pct, latte);
    return buf;
}

static void test_model_good_answer(void **state)
{
    (void)state;
    import_shop();
    fake_llm_answer(llm, good_personal(15));
    size_t calls = fake_llm_count(llm);
    json_t *j = personal(hand);
    assert_int_equal(fake_llm_count(llm), calls + 1);
    assert_string_equal(str(j, "planner"), "llm");
    json_t *c = json_object_get(j, "campaign");
    assert_string_equal(str(c, "title"), "Latte week");
    assert_float_equal(number(c, "discountPercent"), 15, 1e-9);
    /* the model named the product by id; the answer carries its name */
    assert_string_equal(str(json_array_get(json_object_get(c, "recommendedProducts"), 0), "name"),
                        "Latte");
    /* the model was asked with the seed's prompt and the customer's signals */
    char user[8192];
    assert_true(fake_llm_last_user(llm, user, sizeof(user)));
    assert_non_null(strstr(user, "CUSTOMER SIGNALS"));
    assert_non_null(strstr(user, hand));
    json_t *row = log_row(j);
    assert_string_equal(str(row, "planner"), "llm");
    assert_string_equal(str(row, "validation"), "ok");
    assert_int_equal(json_integer_value(json_object_get(row, "attempts")), 1);
    assert_int_equal(strlen(str(row, "promptSha256")), 64);
    assert_non_null(strstr(str(row, "answer"), "Latte week"));
    assert_true(json_integer_value(json_object_get(json_object_get(row, "usage"), "promptTokens")) >
                0);
    json_decref(row);
    json_decref(j);
    assert_false(fake_llm_rejected(llm, NULL, 0));
}

/* Two refused answers: asked twice, then the rules; the log says why. */
static void refused_twice(const char *first, const char *second, const char *why)
{
    fake_llm_answer(llm, first);
    fake_llm_answer(llm, second);
    size_t calls = fake_llm_count(llm);
    json_t *j = personal(hand);
    assert_int_equal(fake_llm_count(llm), calls + 2);
    assert_string_equal(str(j, "planner"), "rules");
    assert_string_equal(str(json_object_get(j, "campaign"), "campaignType"), "THRESHOLD");
    json_t *row = log_row(j);
    assert_string_equal(str(row, "planner"), "rules");
    assert_int_equal(json_integer_value(json_object_get(row, "attempts")), 2);
    const char *v = str(row, "validation");
    if (!strstr(v, "answer 1 refused") || !strstr(v, "answer 2 refused") || !strstr(v, why))
        fail_msg("validation \"%s\" (want both refusals and %s)", v, why);
    assert_string_equal(str(row, "answer"), second);
    json_decref(row);
    json_decref(j);
}

static void test_model_invalid_json(void **state)
{
    (void)state;
    refused_twice("I think a discount would be nice.", "{\"campaignType\": ", "answer");
}

static void test_model_schema_violation(void **state)
{
    (void)state;
    refused_twice("{\"campaignType\":\"FREE_MONEY\",\"title\":\"t\"}",
                  "{\"campaignType\":\"DISCOUNT\",\"title\":\"t\",\"description\":\"d\","
                  "\"discountPercent\":5,\"confidence\":50,\"recommendedProducts\":[]}",
                  "reasoning");
}

static void test_model_discount_over_limit(void **state)
{
    (void)state;
    char a[1500], b[1500];
    snprintf(a, sizeof(a), "%s", good_personal(45));
    snprintf(b, sizeof(b), "%s", good_personal(31));
    refused_twice(a, b, "discountPercent");
}

static void test_model_retry_then_good(void **state)
{
    (void)state;
    fake_llm_answer(llm, "not json");
    fake_llm_answer(llm, good_personal(20));
    json_t *j = personal(hand);
    assert_string_equal(str(j, "planner"), "llm");
    json_t *row = log_row(j);
    assert_int_equal(json_integer_value(json_object_get(row, "attempts")), 2);
    assert_non_null(strstr(str(row, "validation"), "answer 1 refused"));
    json_decref(row);
    json_decref(j);
}

static void test_model_rate_limited(void **state)
{
    (void)state;
    /* a 429 (Retry-After: 1) is asked once more, and the second answer is used */
    fake_llm_fail(llm, 429);
    fake_llm_answer(llm, good_personal(15));
    size_t calls = fake_llm_count(llm);
    json_t *j = personal(hand);
    assert_int_equal(fake_llm_count(llm), calls + 2);
    assert_string_equal(str(j, "planner"), "llm");
    json_t *row = log_row(j);
    assert_int_equal(json_integer_value(json_object_get(row, "attempts")), 2);
    assert_non_null(strstr(str(row, "validation"), "model not reached (status 429)"));
    json_decref(row);
    json_decref(j);
    /* a 429 and then a 503: the rules answer, after one retry */
    fake_llm_fail(llm, 429);
    fake_llm_fail(llm, 503);
    calls = fake_llm_count(llm);
    j = personal(hand);
    assert_int_equal(fake_llm_count(llm), calls + 2);
    assert_string_equal(str(j, "planner"), "rules");
    row = log_row(j);
    assert_int_equal(json_integer_value(json_object_get(row, "attempts")), 2);
    assert_non_null(strstr(str(row, "validation"), "status 503"));
    json_decref(row);
    json_decref(j);
}

/* A model slower than ICESHOP_LLM_TIMEOUT_MS (3 s here): the rules answer, not the request. */
static void test_model_timeout(void **state)
{
    (void)state;
    fake_llm_delay(llm, 4000);
    fake_llm_answer(llm, good_personal(15));
    json_t *j = personal(hand);
    assert_string_equal(str(j, "planner"), "rules");
    json_t *row = log_row(j);
    assert_int_equal(json_integer_value(json_object_get(row, "attempts")), 1);
    assert_non_null(strstr(str(row, "validation"), "model not reached"));
    json_decref(row);
    json_decref(j);
}

/* A plan in another thread, told apart from the test's own requests. */
struct plan_call {
    long status;
    char planner[16];
    atomic_bool done;
};

static void *plan_in_thread(void *arg)
{
    struct plan_call *pc = arg;
    char body[200];
    snprintf(body, sizeof(body), "{\"customerId\":\"%s\"}", hand);
    struct resp r;
    if (!http_post_json(&srv, "/api/campaigns/generate/personal", ADMIN, body, &r)) {
        pc->status = r.status;
        const char *p = json_string_value(json_object_get(r.json, "planner"));
        snprintf(pc->planner, sizeof(pc->planner), "%s", p ? p : "");
        resp_free(&r);
    }
    atomic_store(&pc->done, true);
    return NULL;
}

/*
 * The model is asked on the planner's job lane, not on an HTTP thread: while it takes its time,
 * the server's only HTTP thread (ICESHOP_HTTP_THREADS=1 here) answers other requests, and the
 * plan's request is answered once the job has run.
 */
static void test_model_lane(void **state)
{
    (void)state;
    fake_llm_delay(llm, 2500);
    fake_llm_answer(llm, good_personal(15));
    size_t calls = fake_llm_count(llm);
    struct plan_call pc = {.status = 0};
    atomic_init(&pc.done, false);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, plan_in_thread, &pc), 0);
    WAIT_FOR(fake_llm_count(llm) > calls, 20000); /* the model is being asked */
    assert_true(fake_llm_count(llm) > calls);
    json_t *jobs = call("GET", "/api/jobs?name=campaign.plan&limit=1", NULL, 200);
    assert_false(atomic_load(&pc.done)); /* answered while the plan still waits */
    json_t *job = json_array_get(json_object_get(jobs, "jobs"), 0);
    assert_string_equal(str(job, "state"), "running");
    json_decref(jobs);
    pthread_join(t, NULL);
    assert_int_equal(pc.status, 200);
    assert_string_equal(pc.planner, "llm");
}

/* Prefer: respond-async: 202 with the job and the plan's id at once; the plan is logged later. */
static void test_model_respond_async(void **state)
{
    (void)state;
    fake_llm_answer(llm, good_personal(20));
    char body[200];
    snprintf(body, sizeof(body), "{\"customerId\":\"%s\"}", hand);
    const char *prefer[] = {"Prefer: respond-async, wait=5", NULL};
    struct resp r;
    assert_int_equal(http_req(&srv, "POST", "/api/campaigns/generate/personal", ADMIN,
                              "application/json", body, strlen(body), prefer, &r),
                     0);
    if (r.status != 202)
        fail_msg("-> %ld: %.300s", r.status, r.body);
    long long job = (long long)json_integer_value(json_object_get(r.json, "job_id"));
    char id[64], loc[128], applied[64], want[128];
    snprintf(id, sizeof(id), "%s", str(r.json, "id"));
    assert_true(resp_header(&r, "Location", loc, sizeof(loc)));
    snprintf(want, sizeof(want), "/api/campaigns/%s", id);
    assert_string_equal(loc, want);
    assert_true(resp_header(&r, "Preference-Applied", applied, sizeof(applied)));
    assert_string_equal(applied, "respond-async");
    resp_free(&r);
    WAIT_FOR(job_done(job), 30000);
    assert_true(job_done(job));
    json_t *row = call("GET", want, NULL, 200);
    assert_string_equal(str(row, "planner"), "llm");
    assert_string_equal(str(row, "customerId"), hand);
    assert_float_equal(number(json_object_get(row, "campaign"), "discountPercent"), 20, 1e-9);
    json_decref(row);
    /* a bad customer is refused at once, nothing queued */
    refused(ADMIN, "POST", "/api/campaigns/generate/personal", "{\"customerId\":\"cus_nobody\"}",
            404, "customerId");
}

/* Three proposals that pass the checks. */
static const char GOOD_COMPANY[] =
    "{\"proposals\":["
    "{\"name\":\"A\",\"type\":\"GIFT\",\"targetProfile\":{\"budgetTier\":\"HIGH\","
    "\"loyaltyTier\":\"GOLD\"},\"productSelection\":{},\"expectedROI\":2,\"risk\":\"LOW\","
    "\"reasoning\":\"r\",\"confidence\":70},"
    "{\"name\":\"B\",\"type\":\"BUNDLE\",\"targetProfile\":{\"budgetTier\":\"MID\","
    "\"loyaltyTier\":\"NEW\"},\"productSelection\":{},\"expectedROI\":1,\"risk\":\"HIGH\","
    "\"reasoning\":\"r\",\"confidence\":60},"
    "{\"name\":\"C\",\"type\":\"THRESHOLD\",\"targetProfile\":{\"budgetTier\":\"LOW\","
    "\"loyaltyTier\":\"BRONZE\"},\"productSelection\":{},\"expectedROI\":1.5,\"risk\":"
    "\"MEDIUM\",\"reasoning\":\"r\",\"confidence\":50}]}";

static void test_model_company(void **state)
{
    (void)state;
    fake_llm_answer(llm, GOOD_COMPANY);
    json_t *j = call("POST", "/api/campaigns/generate/company", "{\"goal\":\"AOV_INCREASE\"}", 200);
    assert_string_equal(str(j, "planner"), "llm");
    assert_string_equal(str(json_array_get(json_object_get(j, "proposals"), 0), "name"), "A");
    json_decref(j);
    /* two proposals only, twice: the rules' three */
    fake_llm_answer(llm, "{\"proposals\":[{},{}]}");
    fake_llm_answer(llm, "{\"proposals\":[]}");
    j = call("POST", "/api/campaigns/generate/company", "{\"goal\":\"AOV_INCREASE\"}", 200);
    assert_string_equal(str(j, "planner"), "rules");
    assert_int_equal(json_array_size(json_object_get(j, "proposals")), 3);
    json_t *row = log_row(j);
    assert_non_null(strstr(str(row, "validation"), "proposals"));
    json_decref(row);
    json_decref(j);
    /* constraints.maxDiscount 10 bounds the model's proposals too: 12 % is refused twice */
    char over[2048];
    const char *conf = strstr(GOOD_COMPANY, "\"confidence\":70");
    assert_non_null(conf);
    snprintf(over, sizeof(over), "%.*s\"discountPercent\":12,%s", (int)(conf - GOOD_COMPANY),
             GOOD_COMPANY, conf);
    fake_llm_answer(llm, over);
    fake_llm_answer(llm, over);
    j = call("POST", "/api/campaigns/generate/company",
             "{\"goal\":\"AOV_INCREASE\",\"constraints\":{\"maxDiscount\":10}}", 200);
    assert_string_equal(str(j, "planner"), "rules");
    assert_float_equal(
        number(json_array_get(json_object_get(j, "proposals"), 0), "discountPercent"), 10, 1e-9);
    row = log_row(j);
    assert_non_null(strstr(str(row, "validation"), "discountPercent"));
    json_decref(row);
    json_decref(j);
    /* the metrics count the plans and the refusals */
    struct resp m;
    assert_int_equal(http_get(&srv, "/metrics", NULL, &m), 0);
    assert_non_null(
        strstr(m.body, "iceshop_campaign_plans_total{kind=\"company\",planner=\"llm\"} 1\n"));
    assert_non_null(strstr(m.body, "iceshop_campaign_model_unreachable_total 2\n"));
    resp_free(&m);
    /* the other tenant's log holds none of this tenant's model answers */
    j = call_as(other_key, "GET", "/api/campaigns", NULL, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "campaigns")), 0);
    json_decref(j);
}

/* Each tenant plans with its own model: none until it stores one, and its key stays sealed. */
static void test_model_per_tenant(void **state)
{
    (void)state;
    size_t calls = fake_llm_count(llm);
    json_t *j = call_as(other_key, "POST", "/api/campaigns/generate/company",
                        "{\"goal\":\"AOV_INCREASE\"}", "application/json", 200);
    assert_string_equal(str(j, "planner"),
                        "rules"); /* the server's model is the default tenant's */
    json_decref(j);
    assert_int_equal(fake_llm_count(llm), calls);
    char body[400];
    snprintf(body, sizeof(body), "{\"url\":\"%s\",\"api_key\":\"%s\",\"model\":\"other-model\"}",
             fake_llm_url(llm), LLM_KEY);
    json_decref(call_as(other_key, "PUT", "/api/integrations/llm", body, "application/json", 200));
    j = call_as(other_key, "GET", "/api/integrations/llm", NULL, "application/json", 200);
    char *text = json_dumps(j, 0);
    assert_null(strstr(text, LLM_KEY)); /* the key is never shown */
    free(text);
    json_decref(j);
    fake_llm_answer(llm, GOOD_COMPANY);
    j = call_as(other_key, "POST", "/api/campaigns/generate/company", "{\"goal\":\"AOV_INCREASE\"}",
                "application/json", 200);
    assert_string_equal(str(j, "planner"), "llm");
    json_decref(j);
    assert_int_equal(fake_llm_count(llm), calls + 1);
    /* a wrong key: the model refuses it and the rules answer */
    json_decref(call_as(other_key, "PUT", "/api/integrations/llm", "{\"api_key\":\"sk-wrong\"}",
                        "application/json", 200));
    j = call_as(other_key, "POST", "/api/campaigns/generate/company", "{\"goal\":\"AOV_INCREASE\"}",
                "application/json", 200);
    assert_string_equal(str(j, "planner"), "rules");
    json_decref(j);
}

/* ------------------------------------------------------------------------------- delivery */

#define AUDIENCE 40 /* LOW budget, BRONZE loyalty customers with a phone */

static char aud_id[AUDIENCE][64], aud_phone[AUDIENCE][24], rich[64], mailonly[64], cay[64];

/* The public ids of customers a0..a(n-1), through the list. */
static void audience_ids(int n, char out[][64])
{
    json_t *j = call("GET", "/api/customers?limit=500", NULL, 200);
    json_t *arr = json_object_get(j, "customers"), *c;
    size_t i;
    for (int k = 0; k < n; k++)
        out[k][0] = '\0';
    json_array_foreach(arr, i, c)
    {
        const char *x = json_string_value(json_object_get(c, "external_id"));
        int k;
        if (x && sscanf(x, "a%d", &k) == 1 && k >= 0 && k < n)
            snprintf(out[k], 64, "%s", str(c, "id"));
    }
    json_decref(j);
    for (int k = 0; k < n; k++)
        if (!out[k][0])
            fail_msg("customer a%d not listed", k);
}

static void recompute(void)
{
    json_t *j = call("POST", "/api/profiles/recompute", NULL, 202);
    long long job = (long long)json_integer_value(json_object_get(j, "job_id"));
    json_decref(j);
    WAIT_FOR(job_done(job), 60000);
    assert_true(job_done(job));
}

/*
 * AUDIENCE customers a0..a39 (phones), each with two paid orders of 50.00 in the last 90 days:
 * 100.00 over 90 days is LOW, two orders BRONZE. "rich" has two orders of 100.00 (200.00),
 * "mailonly" has an email and no phone; both LOW/BRONZE as well at the seed's tiers.
 */
static void delivery_shop(void)
{
    char *customers = malloc(16384), *orders = malloc(65536), ts[40];
    size_t cl = 0, ol = 0;
    for (int k = 0; k < AUDIENCE; k++) {
        snprintf(aud_phone[k], sizeof(aud_phone[k]), "+90532100%04d", k);
        cl += (size_t)snprintf(customers + cl, 16384 - cl,
                               "{\"external_id\":\"a%d\",\"phone\":\"%s\"}\n", k, aud_phone[k]);
    }
    cl += (size_t)snprintf(customers + cl, 16384 - cl,
                           "{\"external_id\":\"rich\",\"phone\":\"+905329990000\"}\n"
                           "{\"external_id\":\"mailonly\",\"email\":\"mail@example.com\"}\n");
    json_decref(
        call_as(ADMIN, "POST", "/api/import/customers", customers, "application/x-ndjson", 200));
    for (int k = 0; k < AUDIENCE + 2; k++) {
        char who[16];
        snprintf(who, sizeof(who), k < AUDIENCE ? "a%d" : k == AUDIENCE ? "rich" : "mailonly", k);
        for (int j = 0; j < 2; j++) {
            days_ago(30 + 20 * j, ts, sizeof(ts));
            ol += (size_t)snprintf(orders + ol, 65536 - ol,
                                   "{\"external_id\":\"o%d_%d\",\"customer_external_id\":\"%s\","
                                   "\"created_at\":\"%s\",\"currency\":\"TRY\",\"status\":\"paid\","
                                   "\"items\":[{\"product_external_id\":\"cay\",\"quantity\":1,"
                                   "\"unit_price\":\"%s\"}]}\n",
                                   k, j, who, ts, k == AUDIENCE ? "100.00" : "50.00");
        }
    }
    json_decref(call_as(ADMIN, "POST", "/api/import/orders", orders, "application/x-ndjson", 200));
    free(customers);
    free(orders);
    audience_ids(AUDIENCE, aud_id);
    customer_id("rich", rich, sizeof(rich));
    customer_id("mailonly", mailonly, sizeof(mailonly));
    json_t *pl = call("GET", "/api/products?limit=500", NULL, 200), *p;
    size_t i;
    json_array_foreach(json_object_get(pl, "products"), i, p)
    {
        const char *x = json_string_value(json_object_get(p, "external_id"));
        if (x && strcmp(x, "cay") == 0)
            snprintf(cay, sizeof(cay), "%s", str(p, "id"));
    }
    json_decref(pl);
    assert_true(cay[0] != '\0');
    /* a0 refused marketing (a flash buyer with the same phone who did not consent) */
    char buyer[300];
    snprintf(buyer, sizeof(buyer),
             "{\"id\":\"B0\",\"phone_number\":\"%s\",\"consent\":false,"
             "\"location\":{\"lat\":40.987,\"lng\":29.026}}",
             aud_phone[0]);
    json_decref(call("POST", "/api/buyers/register", buyer, 201));
}

static const char *tier_of(const char *customer)
{
    static char tier[32];
    char path[160];
    snprintf(path, sizeof(path), "/api/profiles/%s", customer);
    json_t *j = call("GET", path, NULL, 200);
    snprintf(tier, sizeof(tier), "%s", str(json_object_get(j, "budget"), "budget_tier"));
    json_decref(j);
    return tier;
}

static void test_intel_config(void **state)
{
    (void)state;
    delivery_shop();
    json_t *j = call("GET", "/api/intel/config", NULL, 200);
    assert_float_equal(number(json_object_get(j, "budget_tiers"), "mid"), 500, 0);
    assert_float_equal(number(json_object_get(j, "campaigns"), "holdout_pct"), 10, 0);
    assert_float_equal(number(json_object_get(j, "campaigns"), "attribution_days"), 7, 0);
    json_decref(j);
    refused(ADMIN, "PUT", "/api/intel/config", "{\"campaigns\":{\"holdout_pct\":60}}", 400,
            "campaigns.holdout_pct");
    refused(ADMIN, "PUT", "/api/intel/config", "{\"budget_tiers\":{\"high\":100}}", 400,
            "budget_tiers.high");
    refused(ADMIN, "PUT", "/api/intel/config", "{\"budget\":1}", 400, "budget");

    /* the budget tiers are the tenant's: rich's 200.00 over 90 days is MID above 50 a month */
    recompute();
    assert_string_equal(tier_of(rich), "LOW");
    j = call("PUT", "/api/intel/config", "{\"budget_tiers\":{\"mid\":50}}", 200);
    assert_float_equal(number(json_object_get(j, "budget_tiers"), "mid"), 50, 0);
    assert_float_equal(number(json_object_get(j, "budget_tiers"), "high"), 1000, 0); /* kept */
    json_decref(j);
    recompute();
    assert_string_equal(tier_of(rich), "MID");
    assert_string_equal(tier_of(aud_id[1]), "LOW"); /* 100.00 is not above 3 x 50 */

    /* the discount cap is read by the planner */
    json_decref(call("PUT", "/api/intel/config", "{\"campaigns\":{\"max_discount\":5}}", 200));
    j = call("POST", "/api/campaigns/generate/company", "{\"goal\":\"AOV_INCREASE\"}", 200);
    assert_float_equal(
        number(json_array_get(json_object_get(j, "proposals"), 0), "discountPercent"), 5, 0);
    json_decref(j);
    json_decref(call("PUT", "/api/intel/config", "{\"campaigns\":{\"max_discount\":30}}", 200));

    /* another tenant keeps its own settings and cannot change ours */
    j = call_as(other_key, "GET", "/api/intel/config", NULL, NULL, 200);
    assert_float_equal(number(json_object_get(j, "budget_tiers"), "mid"), 500, 0);
    json_decref(j);
}

static bool send_is(const char *campaign, const char *status)
{
    char path[160];
    snprintf(path, sizeof(path), "/api/campaigns/%s/send", campaign);
    json_t *j = call("GET", path, NULL, 200);
    bool ok = strcmp(str(j, "status"), status) == 0;
    json_decref(j);
    return ok;
}

static int cmp_hash(const void *a, const void *b)
{
    return memcmp(a, b, SEC_SHA256_LEN);
}

/* The phones the documented holdout rule keeps out of `campaign` among `eligible`. */
static void expected_holdout(const char *campaign, const int *eligible, size_t n, size_t n_hold,
                             bool *held)
{
    struct {
        unsigned char key[SEC_SHA256_LEN];
        int k;
    } rows[AUDIENCE];
    for (size_t i = 0; i < n; i++) {
        char text[200];
        snprintf(text, sizeof(text), "%s:%s", campaign, aud_id[eligible[i]]);
        sec_sha256(rows[i].key, text, strlen(text));
        rows[i].k = eligible[i];
    }
    qsort(rows, n, sizeof(rows[0]), cmp_hash);
    for (size_t i = 0; i < AUDIENCE; i++)
        held[i] = false;
    for (size_t i = 0; i < n_hold; i++)
        held[rows[i].k] = true;
}

static void order_for(const char *customer, const char *amount, const char *key)
{
    char body[400];
    snprintf(body, sizeof(body),
             "{\"customer_id\":\"%s\",\"currency\":\"TRY\",\"items\":[{\"product_id\":\"%s\","
             "\"quantity\":1,\"unit_price\":\"%s\"}]}",
             customer, cay, amount);
    json_t *j = call_as(key, "POST", "/api/orders", body, "application/json", 201);
    json_decref(j);
}

static void test_company_send_and_uplift(void **state)
{
    (void)state;
    json_t *gen = call("POST", "/api/campaigns/generate/company",
                       "{\"goal\":\"LOYALTY_REWARD\",\"target\":{\"budgetTier\":\"LOW\","
                       "\"loyaltyTier\":\"BRONZE\"}}",
                       200);
    const char *id = str(gen, "id");
    char path[160], upath[160];
    snprintf(path, sizeof(path), "/api/campaigns/%s/send", id);
    snprintf(upath, sizeof(upath), "/api/campaigns/%s/uplift", id);
    refused(ADMIN, "GET", upath, NULL, 404, "id"); /* not sent yet */
    refused(ADMIN, "POST", path, "{\"channel\":\"sms\"}", 400, "channel");
    refused(ADMIN, "POST", path, "{\"proposal\":3}", 400, "proposal"); /* 3 proposals */
    refused(ADMIN, "POST", path, "{\"holdout_pct\":51}", 400, "holdout_pct");
    refused(ADMIN, "POST", path, "{\"colour\":1}", 400, "colour");
    char big[700] = "{\"message\":\"";
    size_t bl = strlen(big);
    for (int k = 0; k < 501; k++)
        big[bl++] = 'x'; /* one character over the limit */
    memcpy(big + bl, "\"}", 3);
    refused(ADMIN, "POST", path, big, 400, "message");
    refused(other_key, "POST", path, NULL, 404, "id");

    /* a0 refused marketing, rich is MID, mailonly has no phone: 39 chosen, 25 % = 10 kept out */
    json_t *j = call("POST", path, "{\"holdout_pct\":25}", 202);
    assert_string_equal(str(j, "kind"), "company");
    assert_string_equal(str(j, "offer_type"), "GIFT");
    assert_float_equal(number(j, "audience"), AUDIENCE - 1, 0);
    assert_float_equal(number(j, "holdout"), 10, 0);
    assert_float_equal(number(j, "treatment"), AUDIENCE - 11, 0);
    assert_float_equal(number(j, "attribution_days"), 7, 0);
    json_decref(j);
    refused(ADMIN, "POST", path, NULL, 409, "id"); /* sent once */
    WAIT_FOR(send_is(id, "sent"), 30000);
    assert_true(send_is(id, "sent"));

    /* the messages went to exactly the treatment the documented hash picks */
    int eligible[AUDIENCE];
    size_t n = 0;
    for (int k = 1; k < AUDIENCE; k++)
        eligible[n++] = k;
    bool held[AUDIENCE];
    expected_holdout(id, eligible, n, 10, held);
    j = call("GET", "/api/messages?kind=campaign.offer&limit=500", NULL, 200);
    json_t *msgs = json_object_get(j, "messages"), *m;
    size_t i;
    assert_int_equal(json_array_size(msgs), AUDIENCE - 11);
    json_array_foreach(msgs, i, m)
    {
        const char *to = str(m, "recipient_id");
        int k = -1;
        for (int x = 0; x < AUDIENCE; x++)
            if (strcmp(aud_phone[x], to) == 0)
                k = x;
        if (k < 1 || held[k])
            fail_msg("a campaign message went to %s (a%d), outside the treatment", to, k);
        assert_string_equal(str(m, "body"), "Size özel: bir sonraki siparişinizde hediyeniz var.");
    }
    json_decref(j);

    /* orders after the send: six treatment customers at 60.00, one held-out at 40.00, one
     * cancelled treatment order that never counts */
    int t_done = 0, h_done = 0;
    for (int k = 1; k < AUDIENCE && (t_done < 6 || h_done < 1); k++) {
        if (!held[k] && t_done < 6) {
            order_for(aud_id[k], "60.00", ADMIN);
            t_done++;
        } else if (held[k] && h_done < 1) {
            order_for(aud_id[k], "40.00", ADMIN);
            h_done++;
        }
    }
    for (int k = AUDIENCE - 1; k >= 1; k--) {
        if (held[k])
            continue;
        char body[300];
        snprintf(body, sizeof(body),
                 "{\"customer_id\":\"%s\",\"currency\":\"TRY\",\"status\":\"cancelled\","
                 "\"items\":[{\"product_id\":\"%s\",\"quantity\":1,\"unit_price\":\"99.00\"}]}",
                 aud_id[k], cay);
        json_t *o = call("POST", "/api/orders", body, 201);
        json_decref(o);
        break;
    }
    j = call("GET", upath, NULL, 200);
    assert_true(json_is_true(json_object_get(json_object_get(j, "window"), "open")));
    json_t *res = json_object_get(j, "results");
    assert_int_equal(json_array_size(res), 1);
    json_t *r0 = json_array_get(res, 0);
    assert_string_equal(str(r0, "currency"), "TRY");
    json_t *t = json_object_get(r0, "treatment"), *h = json_object_get(r0, "holdout");
    assert_float_equal(number(t, "customers"), 29, 0);
    assert_float_equal(number(t, "converted"), 6, 0);
    assert_float_equal(number(t, "revenue"), 36000, 0);
    assert_float_equal(number(h, "customers"), 10, 0);
    assert_float_equal(number(h, "converted"), 1, 0);
    assert_float_equal(number(h, "revenue_per_customer"), 400, 1e-9);
    /* by hand (uplift.h): rates 6/29 and 1/10; Wald se; revenue 36000/29 against 400, Welch se */
    double pt = 6.0 / 29, ph = 0.1;
    double se = sqrt(pt * (1 - pt) / 29 + ph * (1 - ph) / 10);
    json_t *cd = json_object_get(r0, "conversion_diff");
    assert_float_equal(number(cd, "estimate"), pt - ph, 1e-9);
    assert_float_equal(number(cd, "ci95_low"), pt - ph - 1.959964 * se, 1e-9);
    double mt = 36000.0 / 29, vt = (6 * 6000.0 * 6000 - 29 * mt * mt) / 28;
    double vh = (4000.0 * 4000 - 10 * 400.0 * 400) / 9;
    double rse = sqrt(vt / 29 + vh / 10);
    json_t *rd = json_object_get(r0, "revenue_per_customer_diff");
    assert_float_equal(number(rd, "estimate"), mt - 400, 1e-6);
    assert_float_equal(number(rd, "ci95_high"), mt - 400 + 1.959964 * rse, 1e-6);
    json_decref(j);
    refused(other_key, "GET", upath, NULL, 404, "id");
    refused(other_key, "GET", path, NULL, 404, "id");
    json_decref(gen);
}

static void test_personal_send(void **state)
{
    (void)state;
    json_t *gen = personal(aud_id[2]);
    char path[160];
    snprintf(path, sizeof(path), "/api/campaigns/%s/send", str(gen, "id"));
    refused(ADMIN, "POST", path, "{\"holdout_pct\":10}", 400, "holdout_pct");
    refused(ADMIN, "POST", path, "{\"channel\":\"email\"}", 400, "audience"); /* no email */
    json_t *j = call("POST", path, "{\"message\":\"Merhaba! Size özel bir çay.\"}", 202);
    assert_float_equal(number(j, "audience"), 1, 0);
    assert_float_equal(number(j, "holdout"), 0, 0);
    json_decref(j);
    WAIT_FOR(send_is(str(gen, "id"), "sent"), 30000);
    j = call("GET", "/api/messages?kind=campaign.offer&limit=500", NULL, 200);
    json_t *m0 = json_array_get(json_object_get(j, "messages"), 0); /* newest first */
    assert_string_equal(str(m0, "recipient_id"), aud_phone[2]);
    assert_string_equal(str(m0, "body"), "Merhaba! Size özel bir çay.");
    json_decref(j);
    json_decref(gen);

    /* by email to a customer who has only an email */
    gen = personal(mailonly);
    snprintf(path, sizeof(path), "/api/campaigns/%s/send", str(gen, "id"));
    refused(ADMIN, "POST", path, NULL, 400, "audience"); /* WhatsApp: no phone */
    json_decref(call("POST", path, "{\"channel\":\"email\"}", 202));
    WAIT_FOR(send_is(str(gen, "id"), "sent"), 30000);
    j = call("GET", "/api/messages?kind=campaign.offer&limit=1", NULL, 200);
    m0 = json_array_get(json_object_get(j, "messages"), 0);
    assert_string_equal(str(m0, "channel"), "email");
    assert_string_equal(str(m0, "email"), "mail@example.com");
    json_decref(j);
    json_decref(gen);

    /* erasing the person removes their campaign's send and their place in any audience */
    json_decref(call("POST", "/api/privacy/erase", "{\"email\":\"mail@example.com\"}", 200));
    refused(ADMIN, "GET", path, NULL, 404, "id");
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest rules[] = {
        cmocka_unit_test(test_rules_personal),
        cmocka_unit_test(test_rules_company),
        cmocka_unit_test(test_rules_near_and_list),
        cmocka_unit_test(test_rules_cart),
        cmocka_unit_test(test_rules_bad_input_and_tenants),
        cmocka_unit_test(test_rules_privacy_erase),
        cmocka_unit_test(test_rules_prefer_async),
    };
    const struct CMUnitTest model[] = {
        cmocka_unit_test(test_model_good_answer),
        cmocka_unit_test(test_model_invalid_json),
        cmocka_unit_test(test_model_schema_violation),
        cmocka_unit_test(test_model_discount_over_limit),
        cmocka_unit_test(test_model_retry_then_good),
        cmocka_unit_test(test_model_rate_limited),
        cmocka_unit_test(test_model_timeout),
        cmocka_unit_test(test_model_company),
        cmocka_unit_test(test_model_per_tenant),
        cmocka_unit_test(test_model_lane),
        cmocka_unit_test(test_model_respond_async),
    };
    const struct CMUnitTest delivery[] = {
        cmocka_unit_test(test_intel_config),
        cmocka_unit_test(test_company_send_and_uplift),
        cmocka_unit_test(test_personal_send),
    };
    int failed = cmocka_run_group_tests_name("rules", rules, setup_rules, teardown);
    failed += cmocka_run_group_tests_name("model", model, setup_model, teardown);
    failed += cmocka_run_group_tests_name("delivery", delivery, setup_rules, teardown);
    return failed;
}
