/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/net/llm.c against the fake chat-completions server
 * (tests/support/fake_llm.c): a good answer with its usage, and each way a call fails — 429 with
 * Retry-After, 5xx, a refused key, a body that is not a completion, a timeout, no server — with
 * whether it is worth retrying.
 */
#include "net/llm.h"
#include "net/httpc.h"
#include "support/fake_llm.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#define KEY "sk-test-123"
#define REQ "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"merhaba\"}]}"

static void test_answer_and_failures(void **state)
{
    (void)state;
    struct fake_llm *f = fake_llm_start(KEY);
    assert_non_null(f);
    struct llm_config c = {.url = fake_llm_url(f), .key = KEY, .timeout_ms = 2000};
    struct llm_reply r;
    struct err e;

    err_init(&e);
    fake_llm_answer(f, "{\"intent\":\"opt_in\",\"confidence\":0.97}");
    assert_int_equal(llm_chat(&c, REQ, &r, &e), 0);
    assert_string_equal(r.content, "{\"intent\":\"opt_in\",\"confidence\":0.97}");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.prompt_tokens, 42);
    assert_int_equal(r.completion_tokens, 9);
    llm_reply_release(&r);
    char user[64];
    assert_true(fake_llm_last_user(f, user, sizeof(user)));
    assert_string_equal(user, "merhaba");

    err_init(&e);
    fake_llm_fail(f, 429);
    assert_int_equal(llm_chat(&c, REQ, &r, &e), ERR_UPSTREAM);
    assert_true(r.retryable);
    assert_int_equal(r.retry_after_ms, 1000);
    assert_null(r.content);
    assert_non_null(strstr(e.msg, "429"));

    err_init(&e);
    fake_llm_fail(f, 503);
    assert_int_equal(llm_chat(&c, REQ, &r, &e), ERR_UPSTREAM);
    assert_true(r.retryable);

    err_init(&e);
    fake_llm_fail(f, 400);
    assert_int_equal(llm_chat(&c, REQ, &r, &e), ERR_UPSTREAM);
    assert_false(r.retryable);

    err_init(&e);
    fake_llm_raw(f, "<html>gateway</html>");
    assert_int_equal(llm_chat(&c, REQ, &r, &e), ERR_UPSTREAM);
    assert_false(r.retryable);
    assert_non_null(strstr(e.msg, "no message content"));

    /* too slow: the call gives up and may try again */
    err_init(&e);
    c.timeout_ms = 300;
    fake_llm_delay(f, 1500);
    fake_llm_answer(f, "late");
    assert_int_equal(llm_chat(&c, REQ, &r, &e), ERR_UPSTREAM);
    assert_true(r.retryable);
    c.timeout_ms = 2000;

    /* a wrong key is refused and not retried */
    err_init(&e);
    struct llm_config bad = c;
    bad.key = "sk-wrong";
    assert_int_equal(llm_chat(&bad, REQ, &r, &e), ERR_UPSTREAM);
    assert_int_equal(r.status, 400);
    assert_false(r.retryable);
    assert_true(fake_llm_rejected(f, NULL, 0));
    fake_llm_stop(f);

    /* nothing listening */
    err_init(&e);
    struct llm_config down = {.url = "http://127.0.0.1:9/v1", .timeout_ms = 1000};
    assert_int_equal(llm_chat(&down, REQ, &r, &e), ERR_UPSTREAM);
    assert_true(r.retryable);
    assert_int_equal(r.status, 0);

    /* not configured */
    err_init(&e);
    struct llm_config none = {0};
    assert_false(llm_configured(&none));
    assert_int_equal(llm_chat(&none, REQ, &r, &e), ERR_INVALID);
}

static void test_config_env(void **state)
{
    (void)state;
    unsetenv("ICESHOP_LLM_URL");
    struct llm_config c;
    llm_config_from_env(&c);
    assert_false(llm_configured(&c));
    setenv("ICESHOP_LLM_URL", "https://api.example.com/v1", 1);
    setenv("ICESHOP_LLM_MODEL", "small", 1);
    setenv("ICESHOP_LLM_TIMEOUT_MS", "5000", 1);
    llm_config_from_env(&c);
    assert_true(llm_configured(&c));
    assert_string_equal(c.model, "small");
    assert_int_equal(c.timeout_ms, 5000);
    setenv("ICESHOP_LLM_TIMEOUT_MS", "forever", 1);
    setenv("ICESHOP_LLM_URL", "ftp://x", 1);
    llm_config_from_env(&c);
    assert_int_equal(c.timeout_ms, 0);
    assert_false(llm_configured(&c));
    unsetenv("ICESHOP_LLM_URL");
    unsetenv("ICESHOP_LLM_MODEL");
    unsetenv("ICESHOP_LLM_TIMEOUT_MS");
}

int main(void)
{
    struct err ge;
    err_init(&ge);
    if (httpc_global_init(&ge))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer_and_failures),
        cmocka_unit_test(test_config_env),
    };
    int failed = cmocka_run_group_tests_name("llm", tests, NULL, NULL);
    httpc_global_cleanup();
    return failed ? 1 : 0;
}
