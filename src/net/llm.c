/* SPDX-License-Identifier: MIT */
/*
 * The chat-completions client (llm.h) over httpc: the POST, the status classification, and the
 * answer's content and usage read with jansson. Tests: tests/unit/net/test_llm.c.
 */
#include "net/llm.h"
#include "core/clock.h"
#include "core/str.h"
#include "integrations/integration_store.h"
#include "net/httpc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

void llm_config_from_env(struct llm_config *c)
{
    memset(c, 0, sizeof(*c));
    c->url = env("ICESHOP_LLM_URL");
    c->key = env("ICESHOP_LLM_KEY");
    c->model = env("ICESHOP_LLM_MODEL");
    const char *t = env("ICESHOP_LLM_TIMEOUT_MS");
    int64_t ms = 0;
    if (t && !str_to_i64(t, &ms) && ms >= 100 && ms <= 120000)
        c->timeout_ms = (long)ms;
}

int llm_config_for_tenant(struct db_conn *c, const unsigned char *secret_key, int64_t tenant,
                          bool is_default, struct arena *a, struct llm_config *out, struct err *e)
{
    struct llm_config server;
    llm_config_from_env(&server);
    memset(out, 0, sizeof(*out));
    out->timeout_ms = server.timeout_ms;
    struct integration it;
    int rc = integration_get(c, secret_key, tenant, "llm", is_default, a, &it, e);
    if (rc)
        return rc;
    out->url = integration_value(&it, "url");
    out->key = integration_value(&it, "api_key");
    out->model = integration_value(&it, "model");
    return 0;
}

bool llm_configured(const struct llm_config *c)
{
    return c && c->url &&
           (strncmp(c->url, "http://", 7) == 0 || strncmp(c->url, "https://", 8) == 0);
}

void llm_reply_release(struct llm_reply *r)
{
    if (!r)
        return;
    free(r->content);
    r->content = NULL;
}

/* The answer's content and usage; false when it is not a chat completion with a content. */
static bool read_answer(const char *body, size_t len, struct llm_reply *out)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *msg = json_object_get(json_array_get(json_object_get(root, "choices"), 0), "message");
    const char *content = json_string_value(json_object_get(msg, "content"));
    json_t *usage = json_object_get(root, "usage");
    out->prompt_tokens = json_integer_value(json_object_get(usage, "prompt_tokens"));
    out->completion_tokens = json_integer_value(json_object_get(usage, "completion_tokens"));
    if (content)
        out->content = strdup(content);
    json_decref(root);
    return out->content != NULL;
}

int llm_chat(const struct llm_config *c, const char *request_json, struct llm_reply *out,
             struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (!llm_configured(c))
        return err_set_field(e, ERR_INVALID, "ICESHOP_LLM_URL", "no language model is configured");
    char url[1024];
    size_t n = strlen(c->url);
    while (n && c->url[n - 1] == '/')
        n--;
    if (n + sizeof("/chat/completions") > sizeof(url))
        return err_set_field(e, ERR_INVALID, "ICESHOP_LLM_URL", "the model URL is too long");
    snprintf(url, sizeof(url), "%.*s/chat/completions", (int)n, c->url);
    char auth[600];
    struct httpc_header h[2] = {{"Content-Type", "application/json"}};
    size_t nh = 1;
    if (c->key) {
        snprintf(auth, sizeof(auth), "Bearer %s", c->key);
        h[nh++] = (struct httpc_header){"Authorization", auth};
    }
    struct httpc_request req = {.method = "POST",
                                .url = url,
                                .headers = h,
                                .nheaders = nh,
                                .body = request_json,
                                .body_len = strlen(request_json),
                                .timeout_ms =
                                    c->timeout_ms ? c->timeout_ms : LLM_DEFAULT_TIMEOUT_MS,
                                .max_response = 1024 * 1024};
    struct httpc_response resp;
    httpc_response_init(&resp);
    int64_t t0 = clock_now_ms(NULL);
    struct err he;
    err_init(&he);
    int rc = httpc_do(&req, &resp, &he);
    out->latency_ms = clock_now_ms(NULL) - t0;
    out->status = resp.status;
    if (rc) {
        out->retryable = true; /* the network, a timeout: the model may answer later */
        rc = err_set(e, ERR_UPSTREAM, "language model unreachable: %s", he.msg);
    } else if (resp.status == 200) {
        if (!read_answer(buf_str(&resp.body), resp.body.len, out))
            rc = err_set(e, ERR_UPSTREAM, "the language model's answer has no message content");
    } else {
        long s = resp.status;
        out->retryable = s == 408 || s == 429 || s >= 500;
        const char *ra = httpc_response_header(&resp, "Retry-After");
        int64_t secs = 0;
        if (ra && !str_to_i64(ra, &secs) && secs > 0 && secs <= 3600)
            out->retry_after_ms = secs * 1000;
        rc = err_set(e, ERR_UPSTREAM, "the language model answered %ld%s", s,
                     out->retryable ? " (worth retrying)" : "");
    }
    httpc_response_release(&resp);
    return rc;
}
