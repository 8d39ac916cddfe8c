/* SPDX-License-Identifier: MIT */
/*
 * Asking a language model about a message the rules and the model were unsure of: the request
 * body for an OpenAI-compatible chat-completions endpoint (ICESHOP_LLM_URL), and the answer
 * checked against the intent schema before it is believed. Pure: the caller sends and receives
 * (the dialog's "chat.model" job, through net/llm.h).
 * Tests: tests/unit/domain/test_understand.c (test_llm_*).
 */
#ifndef ICESHOP_DOMAIN_UNDERSTAND_UNDERSTAND_LLM_H
#define ICESHOP_DOMAIN_UNDERSTAND_UNDERSTAND_LLM_H

#include "core/err.h"
#include "domain/understand/understand.h"

#include <stddef.h>

/*
 * The chat-completions request (caller frees with free()): a system message that names the
 * intents a sender of `role` can have and asks for {"intent": NAME, "confidence": 0..1} only,
 * JSON mode, temperature 0, and the message as the user turn. `model` may be NULL ("gpt-4o-mini").
 */
char *understand_llm_request(const char *text, enum understand_role role, const char *model);

/*
 * Read the model's answer: the message content of the chat completion (net/llm.h reads it out
 * of the response). It is believed only when it is a JSON object with exactly "intent" (an
 * intent a sender of `role` can have) and "confidence" (a number in 0..1). Then out->intent and
 * out->confidence are set (the entities found by the rules are kept) and 0 is returned;
 * otherwise ERR_UPSTREAM naming what was wrong, and `out` is untouched.
 */
int understand_llm_answer(const char *content, enum understand_role role, struct understanding *out,
                          struct err *e);

#endif
