/* SPDX-License-Identifier: MIT */
/*
 * The language-model fallback's request and the schema check of its answer
 * (understand_llm.h). Tests: tests/unit/domain/test_understand.c (test_llm_*).
 */
#include "domain/understand/understand_llm.h"
#include "core/buf.h"

#include <jansson.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Same split as the statistical model: which intents a sender of `role` can have. */
static bool role_allows(enum understand_role role, int intent)
{
    switch (intent) {
    case UNDERSTAND_HELP:
    case UNDERSTAND_GREETING:
    case UNDERSTAND_UNKNOWN:
        return true;
    default:
        return (intent >= UNDERSTAND_SELLER_IDLE) == (role == UNDERSTAND_ROLE_SELLER);
    }
}

char *understand_llm_request(const char *text, enum understand_role role, const char *model)
{
    struct buf b;
    buf_init(&b, 4096);
    buf_appendf(&b,
                "You classify one WhatsApp message (Turkish or English) sent by a %s of a local "
                "flash-deals service. Answer only with a JSON object {\"intent\": NAME, "
                "\"confidence\": NUMBER between 0 and 1}, where NAME is one of:",
                understand_role_names[role]);
    for (int i = 0; i < UNDERSTAND_INTENT_COUNT; i++)
        if (role_allows(role, i))
            buf_appendf(&b, " %s", understand_intent_names[i]);
    buf_appendf(&b, ". Use unknown when the message asks for none of them.");
    size_t n;
    char *system = buf_detach(&b, &n);
    json_t *req = json_pack("{s:s, s:f, s:{s:s}, s:[{s:s, s:s}, {s:s, s:s}]}", "model",
                            model && *model ? model : "gpt-4o-mini", "temperature", 0.0,
                            "response_format", "type", "json_object", "messages", "role", "system",
                            "content", system, "role", "user", "content", text ? text : "");
    free(system);
    char *out = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    return out;
}

int understand_llm_answer(const char *content, enum understand_role role, struct understanding *out,
                          struct err *e)
{
    json_error_t je;
    json_t *ans = NULL;
    int rc = 0;
    if (!content) {
        rc = err_set(e, ERR_UPSTREAM, "llm: the answer has no message content");
        goto out;
    }
    ans = json_loads(content, 0, &je);
    if (!json_is_object(ans) || json_object_size(ans) != 2) {
        rc = err_set(e, ERR_UPSTREAM, "llm: the content is not {\"intent\", \"confidence\"}");
        goto out;
    }
    const char *name = json_string_value(json_object_get(ans, "intent"));
    json_t *conf = json_object_get(ans, "confidence");
    int intent = -1;
    for (int i = 0; name && i < UNDERSTAND_INTENT_COUNT; i++)
        if (strcmp(understand_intent_names[i], name) == 0)
            intent = i;
    if (intent < 0 || !role_allows(role, intent)) {
        rc = err_set(e, ERR_UPSTREAM, "llm: intent %s%s%s is not one a %s can have",
                     name ? "\"" : "", name ? name : "(missing)", name ? "\"" : "",
                     understand_role_names[role]);
        goto out;
    }
    if (!json_is_number(conf) || json_number_value(conf) < 0 || json_number_value(conf) > 1) {
        rc = err_set(e, ERR_UPSTREAM, "llm: confidence must be a number between 0 and 1");
        goto out;
    }
    out->intent = (enum understand_intent)intent;
    out->confidence = intent == UNDERSTAND_UNKNOWN ? 0 : json_number_value(conf);
out:
    json_decref(ans);
    return rc;
}
