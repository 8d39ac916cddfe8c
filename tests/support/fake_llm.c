/* SPDX-License-Identifier: MIT */
/*
 * The fake chat-completions server (see fake_llm.h), on the fake_http skeleton: checks the
 * bearer key and the request's shape, then plays the script.
 */
#include "fake_llm.h"
#include "fake_http.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCRIPT_MAX 32

enum step_kind { STEP_ANSWER, STEP_RAW, STEP_FAIL };

struct step {
    enum step_kind kind;
    char text[2048];
    unsigned status;
    unsigned delay_ms;
};

struct fake_llm {
    struct fake_http *http;
    char url[96];
    char auth[256];
    pthread_mutex_t mu;
    struct step script[SCRIPT_MAX];
    size_t head, len;
    unsigned pending_delay;
    size_t count;
    char last_user[1024];
    bool rejected;
    char why[256];
};

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void error_body(struct fake_http_answer *a, unsigned status, const char *msg)
{
    a->status = status;
    json_t *b = json_pack("{s:{s:s, s:s}}", "error", "message", msg, "type",
                          status == 429 ? "rate_limit_exceeded" : "invalid_request_error");
    a->body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
}

static void handle(void *cls, const struct fake_http_request *q, struct fake_http_answer *a)
{
    struct fake_llm *f = cls;
    const char *auth = fake_http_header(q, "Authorization");
    json_t *root = json_loadb(q->body, q->len, 0, NULL);
    json_t *msgs = json_object_get(root, "messages");
    const char *why = NULL;
    if (strcmp(q->method, "POST") != 0 || strcmp(q->url, "/v1/chat/completions") != 0)
        why = "not POST /v1/chat/completions";
    else if (!auth || strcmp(auth, f->auth) != 0)
        why = "missing or wrong bearer key";
    else if (!json_is_string(json_object_get(root, "model")))
        why = "no model";
    else if (!json_is_array(msgs) || json_array_size(msgs) == 0)
        why = "no messages";
    const char *user = NULL;
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m)
    {
        const char *role = json_string_value(json_object_get(m, "role"));
        if (role && strcmp(role, "user") == 0)
            user = json_string_value(json_object_get(m, "content"));
    }
    pthread_mutex_lock(&f->mu);
    f->count++;
    snprintf(f->last_user, sizeof(f->last_user), "%s", user ? user : "");
    if (why && !f->rejected) {
        f->rejected = true;
        snprintf(f->why, sizeof(f->why), "%s", why);
    }
    struct step st = {.kind = STEP_FAIL, .status = 500};
    snprintf(st.text, sizeof(st.text), "no scripted answer");
    if (!why && f->len) {
        st = f->script[f->head];
        f->head = (f->head + 1) % SCRIPT_MAX;
        f->len--;
    }
    pthread_mutex_unlock(&f->mu);
    json_decref(root);
    if (why) {
        error_body(a, 400, why);
        return;
    }
    if (st.delay_ms)
        sleep_ms(st.delay_ms);
    if (st.kind == STEP_FAIL) {
        error_body(a, st.status, st.text);
        if (st.status == 429)
            snprintf(a->retry_after, sizeof(a->retry_after), "1");
        return;
    }
    if (st.kind == STEP_RAW) {
        a->body = strdup(st.text);
        return;
    }
    json_t *b =
        json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:{s:s, s:s}, s:s}], s:{s:i, s:i, s:i}}", "id",
                  "chatcmpl-fake", "object", "chat.completion", "created", (json_int_t)time(NULL),
                  "model", "fake-model", "choices", "index", 0, "message", "role", "assistant",
                  "content", st.text, "finish_reason", "stop", "usage", "prompt_tokens", 42,
                  "completion_tokens", 9, "total_tokens", 51);
    a->body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
}

struct fake_llm *fake_llm_start(const char *key)
{
    struct fake_llm *f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    pthread_mutex_init(&f->mu, NULL);
    snprintf(f->auth, sizeof(f->auth), "Bearer %s", key);
    f->http = fake_http_start(handle, f);
    if (!f->http) {
        fake_llm_stop(f);
        return NULL;
    }
    snprintf(f->url, sizeof(f->url), "%s/v1", fake_http_url(f->http));
    return f;
}

void fake_llm_stop(struct fake_llm *f)
{
    if (!f)
        return;
    fake_http_stop(f->http);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

const char *fake_llm_url(const struct fake_llm *f)
{
    return f->url;
}

static void push(struct fake_llm *f, enum step_kind kind, const char *text, unsigned status)
{
    pthread_mutex_lock(&f->mu);
    if (f->len < SCRIPT_MAX) {
        struct step *s = &f->script[(f->head + f->len) % SCRIPT_MAX];
        memset(s, 0, sizeof(*s));
        s->kind = kind;
        snprintf(s->text, sizeof(s->text), "%s", text ? text : "");
        s->status = status;
        s->delay_ms = f->pending_delay;
        f->pending_delay = 0;
        f->len++;
    }
    pthread_mutex_unlock(&f->mu);
}

void fake_llm_answer(struct fake_llm *f, const char *content)
{
    push(f, STEP_ANSWER, content, 200);
}

void fake_llm_raw(struct fake_llm *f, const char *body)
{
    push(f, STEP_RAW, body, 200);
}

void fake_llm_fail(struct fake_llm *f, unsigned status)
{
    push(f, STEP_FAIL, status == 429 ? "rate limited" : "upstream trouble", status);
}

void fake_llm_delay(struct fake_llm *f, unsigned ms)
{
    pthread_mutex_lock(&f->mu);
    f->pending_delay = ms;
    pthread_mutex_unlock(&f->mu);
}

size_t fake_llm_count(struct fake_llm *f)
{
    pthread_mutex_lock(&f->mu);
    size_t n = f->count;
    pthread_mutex_unlock(&f->mu);
    return n;
}

bool fake_llm_last_user(struct fake_llm *f, char *out, size_t n)
{
    pthread_mutex_lock(&f->mu);
    bool any = f->count > 0;
    snprintf(out, n, "%s", f->last_user);
    pthread_mutex_unlock(&f->mu);
    return any;
}

bool fake_llm_rejected(struct fake_llm *f, char *why, size_t n)
{
    pthread_mutex_lock(&f->mu);
    bool r = f->rejected;
    if (why && n)
        snprintf(why, n, "%s", f->why);
    pthread_mutex_unlock(&f->mu);
    return r;
}
