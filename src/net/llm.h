/* SPDX-License-Identifier: MIT */
/*
 * A client for OpenAI-compatible chat-completions endpoints (OpenAI, Azure OpenAI, local
 * servers): one POST of a caller-built request body to <url>/chat/completions with a bearer key,
 * through httpc (so never on a request thread: call it from a job on a slow lane). It tells
 * what an answer means: the message content of choices[0], the token usage, or an error that is
 * worth retrying (network, 408, 429 with its Retry-After, 5xx) or not (other 4xx, a body that is
 * not a chat completion). Tests: tests/unit/net/test_llm.c against tests/support/fake_llm.c.
 */
#ifndef ICESHOP_NET_LLM_H
#define ICESHOP_NET_LLM_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LLM_DEFAULT_MODEL      "gpt-4o-mini"
#define LLM_DEFAULT_TIMEOUT_MS 15000

struct llm_config {
    const char *url;   /* base, e.g. "https://api.openai.com/v1"; NULL = no model configured */
    const char *key;   /* bearer key; may be NULL for local servers */
    const char *model; /* LLM_DEFAULT_MODEL when NULL */
    long timeout_ms;   /* whole call; LLM_DEFAULT_TIMEOUT_MS when 0 */
};

/* ICESHOP_LLM_URL, ICESHOP_LLM_KEY, ICESHOP_LLM_MODEL, ICESHOP_LLM_TIMEOUT_MS (100..120000). */
void llm_config_from_env(struct llm_config *c);
/*
 * The model of tenant `tenant`: its `llm` integration (url, api_key opened with `secret_key`,
 * model); the default tenant (`is_default`) falls back to ICESHOP_LLM_URL / _KEY / _MODEL for
 * fields it has not stored, other tenants have no model until they store one (the rules plan).
 * The timeout is the server's (ICESHOP_LLM_TIMEOUT_MS). Strings live in `a`.
 * Errors: as integration_get (a secret sealed under another server key → ERR_CONFLICT).
 */
int llm_config_for_tenant(struct db_conn *c, const unsigned char *secret_key, int64_t tenant,
                          bool is_default, struct arena *a, struct llm_config *out, struct err *e);

/* Whether a model is configured (an http:// or https:// URL). */
bool llm_configured(const struct llm_config *c);

struct llm_reply {
    char *content; /* choices[0].message.content (malloc'd), NULL unless the call worked */
    long status;   /* HTTP status, 0 when none arrived */
    int64_t prompt_tokens, completion_tokens;
    bool retryable;         /* on error: trying again later may work */
    int64_t retry_after_ms; /* on a 429/503 with Retry-After, else 0 */
    int64_t latency_ms;
};

/*
 * Send `request_json` (a chat-completions body; its "model" is the caller's) and read the
 * answer into *out (release with llm_reply_release). 0 when a message content came back;
 * ERR_UPSTREAM otherwise with out->retryable saying whether to try again; ERR_INVALID when the
 * configuration has no URL.
 */
int llm_chat(const struct llm_config *c, const char *request_json, struct llm_reply *out,
             struct err *e);
void llm_reply_release(struct llm_reply *r);

#endif
