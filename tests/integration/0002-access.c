/* SPDX-License-Identifier: MIT */
/*
 * Tenancy and access over real HTTP and the real CLI: keys created with `iceshop keys create`,
 * shown once and revocable; users logging in for tokens; roles enforced; and no route ever
 * showing or touching another tenant's rows. Runs on the backend TEST_BACKEND selects.
 */
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

static struct server srv;
#define ADMIN HARNESS_ADMIN_KEY

static int setup(void **state)
{
    (void)state;
    char url[600];
    harness_fresh_db(url, sizeof(url));
    return server_start(&srv, url, NULL);
}

static int teardown(void **state)
{
    (void)state;
    return server_stop(&srv) == 0 ? 0 : -1;
}

static void trim(char *s)
{
    s[strcspn(s, "\r\n")] = '\0';
}

static void test_cli_keys_and_foreign_tenant(void **state)
{
    (void)state;
    char out[512];
    assert_int_equal(harness_cli(srv.db_url, "tenants create acme", out, sizeof(out)), 0);
    assert_int_not_equal(harness_cli(srv.db_url, "tenants create acme", out, sizeof(out)), 0);
    assert_int_not_equal(
        harness_cli(srv.db_url, "keys create --tenant nosuch --role admin", out, sizeof(out)), 0);
    assert_int_not_equal(
        harness_cli(srv.db_url, "keys create --tenant acme --role king", out, sizeof(out)), 0);
    char acme[200];
    assert_int_equal(harness_cli(srv.db_url, "keys create --tenant acme --role admin --name ops",
                                 acme, sizeof(acme)),
                     0);
    trim(acme);
    assert_true(strncmp(acme, "isk_", 4) == 0);

    /* acme sees only its own key; the secret is never listed */
    struct resp r;
    assert_int_equal(http_get(&srv, "/api/keys", acme, &r), 0);
    assert_int_equal(r.status, 200);
    json_t *keys = json_object_get(r.json, "keys");
    assert_int_equal(json_array_size(keys), 1);
    assert_null(json_object_get(json_array_get(keys, 0), "key"));
    assert_null(strstr(r.body, acme + 17));
    resp_free(&r);

    /* a key and a job of the default tenant */
    assert_int_equal(http_post_json(&srv, "/api/keys", ADMIN, "{\"role\":\"viewer\"}", &r), 0);
    assert_int_equal(r.status, 201);
    long long dkey = (long long)json_integer_value(json_object_get(r.json, "id"));
    char dkey_secret[200];
    snprintf(dkey_secret, sizeof(dkey_secret), "%s",
             json_string_value(json_object_get(r.json, "key")));
    resp_free(&r);
    assert_int_equal(
        http_post_json(&srv, "/api/jobs", ADMIN, "{\"name\":\"test.fail\",\"max_attempts\":1}", &r),
        0);
    assert_int_equal(r.status, 202);
    long long djob = (long long)json_integer_value(json_object_get(r.json, "id"));
    resp_free(&r);

    char path[128];
    snprintf(path, sizeof(path), "/api/keys/%lld", dkey);
    assert_int_equal(http_req(&srv, "DELETE", path, acme, NULL, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/me", dkey_secret, &r), 0);
    assert_int_equal(r.status, 200); /* untouched */
    resp_free(&r);

    snprintf(path, sizeof(path), "/api/jobs/%lld", djob);
    assert_int_equal(http_get(&srv, path, acme, &r), 0);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    snprintf(path, sizeof(path), "/api/jobs/%lld/retry", djob);
    assert_int_equal(http_req(&srv, "POST", path, acme, NULL, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 404);
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/jobs", acme, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "jobs")), 0);
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/users", acme, &r), 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "users")), 0);
    resp_free(&r);

    /* revocation from the CLI takes effect at once */
    char args[300], listing[2048];
    assert_int_equal(harness_cli(srv.db_url, "keys list --tenant acme", listing, sizeof(listing)),
                     0);
    long long acme_id = strtoll(listing, NULL, 10);
    assert_true(acme_id > 0);
    snprintf(args, sizeof(args), "keys revoke --tenant acme %lld", acme_id);
    assert_int_equal(harness_cli(srv.db_url, args, out, sizeof(out)), 0);
    /* another process revoked it: the server may trust its lookup for up to a second */
    long status = 0;
    for (int i = 0; i < 40 && status != 401; i++) {
        assert_int_equal(http_get(&srv, "/api/me", acme, &r), 0);
        status = r.status;
        resp_free(&r);
        if (status != 401)
            harness_sleep_ms(50);
    }
    assert_int_equal(status, 401);
}

static void test_api_key_revoke(void **state)
{
    (void)state;
    struct resp r;
    assert_int_equal(
        http_post_json(&srv, "/api/keys", ADMIN, "{\"role\":\"operator\",\"name\":\"ci\"}", &r), 0);
    assert_int_equal(r.status, 201);
    long long id = (long long)json_integer_value(json_object_get(r.json, "id"));
    char key[200];
    snprintf(key, sizeof(key), "%s", json_string_value(json_object_get(r.json, "key")));
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/jobs", key, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    /* its use is recorded */
    assert_int_equal(http_get(&srv, "/api/keys", ADMIN, &r), 0);
    json_t *k;
    size_t i;
    bool found = false;
    json_array_foreach(json_object_get(r.json, "keys"), i, k)
    {
        if (json_integer_value(json_object_get(k, "id")) == id) {
            found = true;
            assert_true(json_is_string(json_object_get(k, "last_used_at")));
        }
    }
    assert_true(found);
    resp_free(&r);
    /* operator: may retry jobs, may not manage keys */
    assert_int_equal(http_get(&srv, "/api/keys", key, &r), 0);
    assert_int_equal(r.status, 403);
    resp_free(&r);
    char path[64];
    snprintf(path, sizeof(path), "/api/keys/%lld", id);
    assert_int_equal(http_req(&srv, "DELETE", path, ADMIN, NULL, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/jobs", key, &r), 0);
    assert_int_equal(r.status, 401);
    resp_free(&r);
    /* a key with a valid prefix and a forged secret */
    key[strlen(key) - 1] = key[strlen(key) - 1] == 'A' ? 'B' : 'A';
    assert_int_equal(http_get(&srv, "/api/jobs", key, &r), 0);
    assert_int_equal(r.status, 401);
    resp_free(&r);
}

static void test_users_and_tokens(void **state)
{
    (void)state;
    struct resp r;
    assert_int_equal(http_post_json(&srv, "/api/users", ADMIN,
                                    "{\"email\":\"Ayse@Example.com\",\"password\":\"short\","
                                    "\"role\":\"viewer\"}",
                                    &r),
                     0);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "password");
    resp_free(&r);
    assert_int_equal(http_post_json(&srv, "/api/users", ADMIN,
                                    "{\"email\":\"not-an-email\",\"password\":\"long enough pw\","
                                    "\"role\":\"viewer\"}",
                                    &r),
                     0);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "email");
    resp_free(&r);
    const char *user = "{\"email\":\"Ayse@Example.com\",\"password\":\"correct horse 42\","
                       "\"role\":\"viewer\"}";
    assert_int_equal(http_post_json(&srv, "/api/users", ADMIN, user, &r), 0);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    assert_int_equal(http_post_json(&srv, "/api/users", ADMIN, user, &r), 0);
    assert_int_equal(r.status, 409);
    resp_free(&r);
    /* another tenant may have its own Ayşe: 201, and nothing says the address exists elsewhere */
    char out[256], other[200];
    assert_int_equal(harness_cli(srv.db_url, "tenants create mugla", out, sizeof(out)), 0);
    assert_int_equal(
        harness_cli(srv.db_url, "keys create --tenant mugla --role admin", other, sizeof(other)),
        0);
    trim(other);
    assert_int_equal(http_post_json(&srv, "/api/users", other,
                                    "{\"email\":\"ayse@example.com\",\"password\":\"mugla "
                                    "password 7\",\"role\":\"viewer\"}",
                                    &r),
                     0);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    /* her password picks her tenant; naming the other tenant does not let it in */
    assert_int_equal(http_post_json(&srv, "/api/auth/login", NULL,
                                    "{\"email\":\"ayse@example.com\",\"password\":\"mugla "
                                    "password 7\"}",
                                    &r),
                     0);
    assert_int_equal(r.status, 200);
    long long mugla_tenant = (long long)json_integer_value(json_object_get(r.json, "tenant_id"));
    resp_free(&r);
    assert_int_equal(http_post_json(&srv, "/api/auth/login", NULL,
                                    "{\"email\":\"ayse@example.com\",\"password\":\"correct "
                                    "horse 42\",\"tenant\":\"default\"}",
                                    &r),
                     0);
    assert_int_equal(r.status, 200);
    assert_true((long long)json_integer_value(json_object_get(r.json, "tenant_id")) !=
                mugla_tenant);
    resp_free(&r);
    assert_int_equal(http_post_json(&srv, "/api/auth/login", NULL,
                                    "{\"email\":\"ayse@example.com\",\"password\":\"correct "
                                    "horse 42\",\"tenant\":\"mugla\"}",
                                    &r),
                     0);
    assert_int_equal(r.status, 401);
    resp_free(&r);

    assert_int_equal(http_post_json(&srv, "/api/auth/login", NULL,
                                    "{\"email\":\"ayse@example.com\",\"password\":\"wrong pass!\"}",
                                    &r),
                     0);
    assert_int_equal(r.status, 401);
    resp_free(&r);
    assert_int_equal(http_post_json(&srv, "/api/auth/login", NULL,
                                    "{\"email\":\"nobody@example.com\",\"password\":\"whatever1\"}",
                                    &r),
                     0);
    assert_int_equal(r.status, 401);
    resp_free(&r);
    assert_int_equal(http_post_json(&srv, "/api/auth/login", NULL,
                                    "{\"email\":\"ayse@example.com\",\"password\":\"correct horse "
                                    "42\"}",
                                    &r),
                     0);
    assert_int_equal(r.status, 200);
    char token[1024];
    snprintf(token, sizeof(token), "%s", json_string_value(json_object_get(r.json, "token")));
    assert_non_null(json_object_get(r.json, "expires_at"));
    resp_free(&r);

    assert_int_equal(http_get(&srv, "/api/me", token, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "role")), "viewer");
    assert_non_null(json_object_get(r.json, "user_id"));
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/keys", token, &r), 0);
    assert_int_equal(r.status, 403);
    resp_free(&r);
    /* tampered token */
    size_t n = strlen(token);
    token[n - 2] = token[n - 2] == 'x' ? 'y' : 'x';
    assert_int_equal(http_get(&srv, "/api/me", token, &r), 0);
    assert_int_equal(r.status, 401);
    resp_free(&r);
}

/* ======================== rate limits ======================== */

/*
 * Requests with `cred` as fast as they go until `want_429` refusals came back (or a deadline);
 * returns how many were refused, and copies the first refusal's message.
 */
static int ok_before_429; /* of the latest hammer() */

static int hammer(const struct server *s, const char *path, const char *cred, int tries,
                  int want_429, char *msg, size_t msg_len)
{
    int limited = 0;
    ok_before_429 = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < tries && limited < want_429; i++) {
        struct resp r;
        assert_int_equal(http_get(s, path, cred, &r), 0);
        if (r.status == 429) {
            if (!limited && msg)
                snprintf(msg, msg_len, "%s",
                         json_string_value(
                             json_object_get(json_object_get(r.json, "error"), "message")));
            char ra[16];
            assert_true(resp_header(&r, "Retry-After", ra, sizeof(ra)));
            limited++;
        } else {
            assert_int_equal(r.status, 200);
            ok_before_429 += !limited;
        }
        resp_free(&r);
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 30)
            break;
    }
    return limited;
}

static const char *create_key(const struct server *s, const char *body, char *out, size_t n)
{
    struct resp r;
    assert_int_equal(http_post_json(s, "/api/keys", ADMIN, body, &r), 0);
    if (r.status != 201)
        fprintf(stderr, "POST /api/keys %s -> %ld %s\n", body, r.status, r.body);
    assert_int_equal(r.status, 201);
    snprintf(out, n, "%s", json_string_value(json_object_get(r.json, "key")));
    resp_free(&r);
    return out;
}

/*
 * The default per-key limit is 2/s here: keys without a rate of their own meet it, a key with
 * rate_limit 0 and the admin key do not; a key's own rate (API or CLI) replaces it; each 429
 * names the limit. Anonymous requests meet the per-address limit, authenticated ones do not.
 */
static void test_rate_limits(void **state)
{
    (void)state;
    struct server s2;
    char url[600], msg[256];
    harness_fresh_db(url, sizeof(url));
    const char *env[] = {"ICESHOP_RATE_LIMIT_KEY=2", "ICESHOP_RATE_LIMIT_IP=3", NULL};
    assert_int_equal(server_start(&s2, url, env), 0);

    /* the admin key: unlimited by default */
    assert_int_equal(hammer(&s2, "/api/me", ADMIN, 40, 1, NULL, 0), 0);

    char plain[200], unlimited[200], fast[200];
    create_key(&s2, "{\"role\":\"viewer\"}", plain, sizeof(plain));
    create_key(&s2, "{\"role\":\"viewer\",\"rate_limit\":0}", unlimited, sizeof(unlimited));
    create_key(&s2, "{\"role\":\"viewer\",\"rate_limit\":1000}", fast, sizeof(fast));
    assert_int_equal(hammer(&s2, "/api/me", plain, 200, 1, msg, sizeof(msg)), 1);
    assert_non_null(strstr(msg, "2 requests/s"));
    assert_non_null(strstr(msg, "credential"));
    assert_int_equal(hammer(&s2, "/api/me", unlimited, 40, 1, NULL, 0), 0);
    assert_int_equal(hammer(&s2, "/api/me", fast, 40, 1, NULL, 0), 0);

    /* listed with their rates: null = the default */
    struct resp r;
    assert_int_equal(http_get(&s2, "/api/keys", ADMIN, &r), 0);
    json_t *keys = json_object_get(r.json, "keys");
    assert_int_equal(json_array_size(keys), 3);
    assert_true(json_is_null(json_object_get(json_array_get(keys, 0), "rate_limit")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(keys, 1), "rate_limit")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(keys, 2), "rate_limit")),
                     1000);
    resp_free(&r);
    /* a bad rate names the field */
    const char *bad[] = {"{\"role\":\"viewer\",\"rate_limit\":-1}",
                         "{\"role\":\"viewer\",\"rate_limit\":\"fast\"}",
                         "{\"role\":\"viewer\",\"rate_limit\":2000000}"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(http_post_json(&s2, "/api/keys", ADMIN, bad[i], &r), 0);
        assert_int_equal(r.status, 400);
        assert_string_equal(resp_error_field(&r), "rate_limit");
        resp_free(&r);
    }

    /* the CLI's --rate */
    char cli[200], out[2048];
    assert_int_equal(
        harness_cli(url, "keys create --tenant default --role viewer --rate 5", cli, sizeof(cli)),
        0);
    trim(cli);
    assert_int_not_equal(
        harness_cli(url, "keys create --tenant default --role viewer --rate -3", out, sizeof(out)),
        0);
    assert_int_equal(harness_cli(url, "keys list --tenant default", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "rate=5/s"));
    assert_non_null(strstr(out, "rate=unlimited"));
    assert_non_null(strstr(out, "rate=default"));
    assert_int_equal(hammer(&s2, "/api/me", cli, 200, 1, msg, sizeof(msg)), 1);
    assert_non_null(strstr(msg, "5 requests/s"));

    /*
     * Anonymous requests are limited per address, and say so. The hundred-odd authenticated
     * requests above took nothing from that budget: the burst (2 x 3, less the start-up's
     * health checks) is still there.
     */
    assert_int_equal(hammer(&s2, "/health", NULL, 200, 1, msg, sizeof(msg)), 1);
    if (ok_before_429 < 4)
        fail_msg("only %d anonymous requests before a 429: %s", ok_before_429, msg);
    assert_non_null(strstr(msg, "per address"));
    assert_non_null(strstr(msg, "3 requests/s"));
    /* an address that used up its anonymous budget is refused before any key is looked up */
    assert_int_equal(hammer(&s2, "/api/me", unlimited, 1, 1, msg, sizeof(msg)), 1);
    assert_non_null(strstr(msg, "per address"));
    /* a wrong key costs from the address's budget (401s until it is used up, then 429s) */
    harness_sleep_ms(2500); /* refill */
    int unauthorized = 0, limited = 0;
    for (int i = 0; i < 50 && !limited; i++) {
        assert_int_equal(http_get(&s2, "/api/me", "isk_000000000000_nope", &r), 0);
        unauthorized += r.status == 401;
        limited += r.status == 429;
        resp_free(&r);
    }
    assert_true(unauthorized >= 6 && limited == 1);
    assert_int_equal(server_stop(&s2), 0);
}

/* Keys and users come a page at a time: limit, after and next_after, as every list route. */
static void test_lists_page(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(harness_cli(srv.db_url, "tenants create pager", out, sizeof(out)), 0);
    char key[200];
    assert_int_equal(
        harness_cli(srv.db_url, "keys create --tenant pager --role admin", key, sizeof(key)), 0);
    trim(key);
    for (int i = 0; i < 4; i++) {
        struct resp r;
        assert_int_equal(
            http_post_json(&srv, "/api/keys", key, "{\"role\":\"viewer\",\"name\":\"p\"}", &r), 0);
        assert_int_equal(r.status, 201);
        resp_free(&r);
    }
    /* five keys in pages of two: 2, 2, 1, each after the last */
    char path[96] = "/api/keys?limit=2";
    long long last = 0;
    int seen = 0, pages = 0;
    for (;;) {
        struct resp r;
        assert_int_equal(http_get(&srv, path, key, &r), 0);
        assert_int_equal(r.status, 200);
        json_t *keys = json_object_get(r.json, "keys");
        for (size_t i = 0; i < json_array_size(keys); i++) {
            long long id =
                (long long)json_integer_value(json_object_get(json_array_get(keys, i), "id"));
            assert_true(id > last);
            last = id;
            seen++;
        }
        pages++;
        json_t *next = json_object_get(r.json, "next_after");
        bool more = json_is_integer(next);
        if (more)
            assert_int_equal(json_integer_value(next), last);
        resp_free(&r);
        if (!more)
            break;
        snprintf(path, sizeof(path), "/api/keys?limit=2&after=%lld", last);
    }
    assert_int_equal(seen, 5);
    assert_int_equal(pages, 3);

    struct resp r;
    assert_int_equal(http_get(&srv, "/api/users?limit=201", key, &r), 0);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "limit");
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/keys?after=0", key, &r), 0);
    assert_int_equal(r.status, 400);
    assert_string_equal(resp_error_field(&r), "after");
    resp_free(&r);
    assert_int_equal(http_get(&srv, "/api/users", key, &r), 0);
    assert_int_equal(r.status, 200);
    assert_true(json_is_null(json_object_get(r.json, "next_after")));
    resp_free(&r);
}

int main(void)
{
    if (!harness_backend_available())
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_keys_and_foreign_tenant),
        cmocka_unit_test(test_api_key_revoke),
        cmocka_unit_test(test_users_and_tokens),
        cmocka_unit_test(test_rate_limits),
        cmocka_unit_test(test_lists_page),
    };
    return cmocka_run_group_tests_name(harness_backend(), tests, setup, teardown);
}
