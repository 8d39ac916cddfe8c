/* SPDX-License-Identifier: MIT */
/*
 * A local OpenAI-compatible chat-completions server for tests: POST <url>/chat/completions with
 * "Authorization: Bearer <key>" and a body with "model" and "messages" (a request that breaks
 * this is answered 400 and remembered). Answers are scripted in order: a message content, a raw
 * body, an error status, optionally after a delay; with none scripted the answer is a 500.
 * Answers carry "usage" token counts. Used by tests/integration/0005-whatsapp.c and
 * tests/unit/net/test_llm.c.
 */
#ifndef ICESHOP_TESTS_FAKE_LLM_H
#define ICESHOP_TESTS_FAKE_LLM_H

#include <stdbool.h>
#include <stddef.h>

struct fake_llm;

struct fake_llm *fake_llm_start(const char *key);
void fake_llm_stop(struct fake_llm *f);
/* "http://127.0.0.1:<port>/v1" */
const char *fake_llm_url(const struct fake_llm *f);
/* The next answer: 200 with choices[0].message.content = content. */
void fake_llm_answer(struct fake_llm *f, const char *content);
/* The next answer: 200 with this body as is (e.g. not JSON). */
void fake_llm_raw(struct fake_llm *f, const char *body);
/* The next answer: `status` with an OpenAI-style error body (429 also sends Retry-After: 1). */
void fake_llm_fail(struct fake_llm *f, unsigned status);
/* The next answer waits this long first (then follows the next scripted one). */
void fake_llm_delay(struct fake_llm *f, unsigned ms);
/* Requests received so far; the user message of the last one into out (false: none). */
size_t fake_llm_count(struct fake_llm *f);
bool fake_llm_last_user(struct fake_llm *f, char *out, size_t n);
/* Whether a request broke the protocol; why into out (may be NULL). */
bool fake_llm_rejected(struct fake_llm *f, char *why, size_t n);

#endif
