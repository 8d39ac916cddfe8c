/* SPDX-License-Identifier: MIT */
/*
 * The fake WhatsApp Cloud API (see fake_whatsapp.h). Request and answer shapes follow Meta's
 * documented send endpoint: success {messaging_product, contacts[{input, wa_id}], messages[{id}]},
 * errors {"error": {message, type, code, error_data{messaging_product, details}, fbtrace_id}}.
 * Also compiled into bench/bench_outbound.c, so it includes its header by a relative path.
 */
#include "fake_whatsapp.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX    (1u << 20)
#define SCRIPT_MAX  64
#define TITLE_MAX   20 /* characters in a reply button title */
#define BUTTONS_MAX 3

struct scripted {
    int code;
    long status;
};

struct fake_whatsapp {
    struct MHD_Daemon *daemon;
    int port;
    char url[96];
    char auth[512]; /* "Bearer <token>" */
    char phone_id[64];
    pthread_mutex_t mu;
    bool recording;
    struct fake_wa_request *reqs;
    size_t nreqs, cap;
    size_t count, accepted, rejected;
    char why[256];
    struct scripted script[SCRIPT_MAX];
    size_t script_head, script_len;
    unsigned long long next_id;
};

struct conn {
    char *body;
    size_t len;
    bool too_big;
};

/* ---------------------------------------------------------------- answers */

static enum MHD_Result answer(struct MHD_Connection *c, unsigned int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Our own wording for each code, after Meta's error-code table. */
static void describe(int code, const char **message, const char **type, const char **details)
{
    *type = "OAuthException";
    switch (code) {
    case 130429:
        *message = "(#130429) Rate limit hit";
        *details = "Cloud API message throughput has been reached.";
        return;
    case 131056:
        *message = "(#131056) (Business Account, Consumer Account) pair rate limit hit";
        *details = "Too many messages sent from this phone number to the same phone number in a "
                   "short period of time.";
        return;
    case 131047:
        *message = "(#131047) Re-engagement message";
        *details = "More than 24 hours have passed since the recipient last replied to the "
                   "sender number.";
        return;
    case 190:
        *message = "Error validating access token: the session has expired.";
        *details = NULL;
        return;
    case 131026:
        *message = "(#131026) Message undeliverable";
        *details = "Unable to deliver message.";
        return;
    case 131051:
        *message = "(#131051) Unsupported message type";
        *details = "Message type is not currently supported.";
        return;
    case 100:
        *message = "(#100) Invalid parameter";
        *details = "A parameter is missing or has a value that is not valid.";
        return;
    default:
        *message = "(#0) Error";
        *details = "Scripted error.";
        return;
    }
}

static enum MHD_Result answer_error(struct fake_whatsapp *f, struct MHD_Connection *c,
                                    unsigned int status, int code, const char *details_override)
{
    const char *message, *type, *details;
    describe(code, &message, &type, &details);
    if (details_override)
        details = details_override;
    json_t *err = json_pack("{s:s, s:s, s:i, s:s}", "message", message, "type", type, "code", code,
                            "fbtrace_id", "AfakeTraceId0123");
    if (details)
        json_object_set_new(
            err, "error_data",
            json_pack("{s:s, s:s}", "messaging_product", "whatsapp", "details", details));
    (void)f;
    return answer(c, status, json_pack("{s:o}", "error", err));
}

static enum MHD_Result reject(struct fake_whatsapp *f, struct MHD_Connection *c,
                              unsigned int status, int code, const char *why)
{
    pthread_mutex_lock(&f->mu);
    f->rejected++;
    snprintf(f->why, sizeof(f->why), "%s", why);
    pthread_mutex_unlock(&f->mu);
    return answer_error(f, c, status, code, why);
}

/* ---------------------------------------------------------------- validation */

static const char *str_at(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

/* UTF-8 characters in s. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* Check the body's shape and fill `q`; NULL when valid, else what is wrong. */
static const char *validate(json_t *root, struct fake_wa_request *q)
{
    if (!json_is_object(root))
        return "the body must be a JSON object";
    const char *mp = str_at(root, "messaging_product");
    if (!mp || strcmp(mp, "whatsapp") != 0)
        return "messaging_product must be \"whatsapp\"";
    const char *rt = str_at(root, "recipient_type");
    if (json_object_get(root, "recipient_type") && (!rt || strcmp(rt, "individual") != 0))
        return "recipient_type must be \"individual\"";
    const char *to = str_at(root, "to");
    if (!to || !*to || strlen(to) > 20 || strspn(to, "0123456789") != strlen(to))
        return "to must be a phone number in digits";
    copy(q->to, sizeof(q->to), to);
    const char *type = str_at(root, "type");
    if (!type)
        type = "text"; /* Meta's default */
    copy(q->type, sizeof(q->type), type);
    json_t *obj = json_object_get(root, type);
    if (!json_is_object(obj))
        return "the message type's object is missing";
    if (strcmp(type, "text") == 0) {
        const char *body = str_at(obj, "body");
        if (!body || !*body)
            return "text.body is required";
        copy(q->text, sizeof(q->text), body);
        return NULL;
    }
    if (strcmp(type, "template") == 0) {
        const char *name = str_at(obj, "name");
        const char *code = str_at(json_object_get(obj, "language"), "code");
        if (!name || !*name)
            return "template.name is required";
        if (!code || !*code)
            return "template.language.code is required";
        copy(q->template_name, sizeof(q->template_name), name);
        copy(q->template_lang, sizeof(q->template_lang), code);
        json_t *comps = json_object_get(obj, "components");
        size_t i;
        json_t *comp;
        json_array_foreach(comps, i, comp)
        {
            const char *ct = str_at(comp, "type");
            if (!ct)
                return "template.components[].type is required";
            if (strcmp(ct, "body") != 0)
                continue;
            json_t *params = json_object_get(comp, "parameters");
            if (!json_is_array(params))
                return "template body parameters must be an array";
            size_t j;
            json_t *p;
            json_array_foreach(params, j, p)
            {
                const char *pt = str_at(p, "type");
                const char *pv = str_at(p, "text");
                if (!pt || strcmp(pt, "text") != 0 || !pv)
                    return "template parameters must be {\"type\":\"text\",\"text\":...}";
                if (strchr(pv, '\n') || strchr(pv, '\t'))
                    return "template parameters may not contain newlines or tabs";
                if (j == 0)
                    copy(q->template_param, sizeof(q->template_param), pv);
                q->n_template_params++;
            }
        }
        return NULL;
    }
    if (strcmp(type, "interactive") == 0) {
        const char *it = str_at(obj, "type");
        if (!it)
            return "interactive.type is required";
        copy(q->interactive_type, sizeof(q->interactive_type), it);
        const char *text = str_at(json_object_get(obj, "body"), "text");
        if (!text || !*text)
            return "interactive.body.text is required";
        copy(q->text, sizeof(q->text), text);
        json_t *action = json_object_get(obj, "action");
        if (!json_is_object(action))
            return "interactive.action is required";
        if (strcmp(it, "location_request_message") == 0) {
            const char *name = str_at(action, "name");
            return name && strcmp(name, "send_location") == 0
                       ? NULL
                       : "action.name must be \"send_location\"";
        }
        if (strcmp(it, "button") == 0) {
            json_t *buttons = json_object_get(action, "buttons");
            size_t n = json_array_size(buttons);
            if (n < 1 || n > BUTTONS_MAX)
                return "action.buttons must hold 1 to 3 buttons";
            for (size_t i = 0; i < n; i++) {
                json_t *b = json_array_get(buttons, i);
                const char *bt = str_at(b, "type");
                json_t *reply = json_object_get(b, "reply");
                const char *id = str_at(reply, "id");
                const char *title = str_at(reply, "title");
                if (!bt || strcmp(bt, "reply") != 0 || !id || !*id || !title || !*title)
                    return "each button needs type \"reply\" and reply.id, reply.title";
                if (utf8_chars(title) > TITLE_MAX)
                    return "button titles are at most 20 characters";
                if (i < 2) {
                    copy(q->button_ids[i], sizeof(q->button_ids[i]), id);
                    copy(q->button_titles[i], sizeof(q->button_titles[i]), title);
                }
            }
            return NULL;
        }
        return NULL; /* other interactive types: accepted as they come */
    }
    return NULL; /* image, location, ...: only the object's presence is checked */
}

/* "/v21.0/<phone_id>/messages" with the configured phone id. */
static bool path_ok(const struct fake_whatsapp *f, const char *url)
{
    if (url[0] != '/' || url[1] != 'v')
        return false;
    const char *p = url + 2;
    size_t digits = strspn(p, "0123456789.");
    if (digits == 0 || p[digits] != '/')
        return false;
    p += digits + 1;
    size_t n = strlen(f->phone_id);
    return strncmp(p, f->phone_id, n) == 0 && strcmp(p + n, "/messages") == 0;
}

/* ---------------------------------------------------------------- handler */

static void record(struct fake_whatsapp *f, const struct fake_wa_request *q)
{
    if (!f->recording)
        return;
    if (f->nreqs == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 16;
        f->reqs = realloc(f->reqs, f->cap * sizeof(*f->reqs));
        if (!f->reqs)
            abort();
    }
    f->reqs[f->nreqs++] = *q;
}

static enum MHD_Result handle(struct fake_whatsapp *f, struct MHD_Connection *c, const char *url,
                              const char *method, struct conn *st)
{
    if (strcmp(method, "POST") != 0)
        return reject(f, c, 405, 100, "only POST is supported");
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!auth || strcmp(auth, f->auth) != 0)
        return reject(f, c, 401, 190, "Invalid OAuth access token.");
    if (!path_ok(f, url))
        return reject(f, c, 400, 100, "unsupported post request: unknown path or phone number id");
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (!ct || strncmp(ct, "application/json", 16) != 0)
        return reject(f, c, 400, 100, "Content-Type must be application/json");
    if (st->too_big)
        return reject(f, c, 413, 100, "body too large");
    json_t *root = json_loadb(st->body ? st->body : "", st->len, 0, NULL);
    struct fake_wa_request *q = calloc(1, sizeof(*q));
    if (!q)
        abort();
    const char *why = validate(root, q);
    if (why) {
        json_decref(root);
        free(q);
        return reject(f, c, 400, 100, why);
    }
    json_decref(root);

    pthread_mutex_lock(&f->mu);
    f->count++;
    struct scripted s = {0, 200};
    if (f->script_len) {
        s = f->script[f->script_head];
        f->script_head = (f->script_head + 1) % SCRIPT_MAX;
        f->script_len--;
    }
    unsigned long long id = 0;
    if (!s.code)
        id = ++f->next_id;
    if (!s.code)
        f->accepted++;
    q->answered_code = s.code;
    q->answered_status = s.status;
    record(f, q);
    pthread_mutex_unlock(&f->mu);

    enum MHD_Result ret;
    if (s.code) {
        ret = answer_error(f, c, (unsigned int)s.status, s.code, NULL);
    } else {
        char wamid[64];
        snprintf(wamid, sizeof(wamid), "wamid.%llu", id);
        ret =
            answer(c, 200,
                   json_pack("{s:s, s:[{s:s, s:s}], s:[{s:s}]}", "messaging_product", "whatsapp",
                             "contacts", "input", q->to, "wa_id", q->to, "messages", "id", wamid));
    }
    free(q);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct fake_whatsapp *f = cls;
    struct conn *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof(*st));
        if (!st)
            return MHD_NO;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size) {
        if (st->len + *upload_size > BODY_MAX) {
            st->too_big = true;
        } else {
            char *nb = realloc(st->body, st->len + *upload_size + 1);
            if (!nb)
                return MHD_NO;
            memcpy(nb + st->len, upload, *upload_size);
            st->len += *upload_size;
            nb[st->len] = '\0';
            st->body = nb;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    return handle(f, c, url, method, st);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct conn *st = *con_cls;
    if (st) {
        free(st->body);
        free(st);
        *con_cls = NULL;
    }
}

/* ---------------------------------------------------------------- lifecycle */

struct fake_whatsapp *fake_whatsapp_start(const char *token, const char *phone_number_id)
{
    struct fake_whatsapp *f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    pthread_mutex_init(&f->mu, NULL);
    f->recording = true;
    snprintf(f->auth, sizeof(f->auth), "Bearer %s", token);
    snprintf(f->phone_id, sizeof(f->phone_id), "%s", phone_number_id);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, on_request, f,
        MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_THREAD_POOL_SIZE, 4U, MHD_OPTION_CONNECTION_LIMIT, 1000U, MHD_OPTION_END);
    if (!f->daemon) {
        fprintf(stderr, "fake_whatsapp: cannot start the daemon\n");
        abort();
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || info->port == 0) {
        fprintf(stderr, "fake_whatsapp: no port\n");
        abort();
    }
    f->port = info->port;
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/%s", f->port, FAKE_WA_VERSION);
    return f;
}

void fake_whatsapp_stop(struct fake_whatsapp *f)
{
    if (!f)
        return;
    MHD_stop_daemon(f->daemon);
    pthread_mutex_destroy(&f->mu);
    free(f->reqs);
    free(f);
}

int fake_whatsapp_port(const struct fake_whatsapp *f)
{
    return f->port;
}

const char *fake_whatsapp_url(const struct fake_whatsapp *f)
{
    return f->url;
}

void fake_whatsapp_fail_next_status(struct fake_whatsapp *f, int code, long status, int n)
{
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < n && f->script_len < SCRIPT_MAX; i++) {
        f->script[(f->script_head + f->script_len) % SCRIPT_MAX] = (struct scripted){code, status};
        f->script_len++;
    }
    pthread_mutex_unlock(&f->mu);
}

void fake_whatsapp_fail_next(struct fake_whatsapp *f, int code, int n)
{
    fake_whatsapp_fail_next_status(f, code, code == 190 ? 401 : 400, n);
}

void fake_whatsapp_set_recording(struct fake_whatsapp *f, bool on)
{
    pthread_mutex_lock(&f->mu);
    f->recording = on;
    pthread_mutex_unlock(&f->mu);
}

size_t fake_whatsapp_count(struct fake_whatsapp *f)
{
    pthread_mutex_lock(&f->mu);
    size_t n = f->count;
    pthread_mutex_unlock(&f->mu);
    return n;
}

size_t fake_whatsapp_accepted(struct fake_whatsapp *f)
{
    pthread_mutex_lock(&f->mu);
    size_t n = f->accepted;
    pthread_mutex_unlock(&f->mu);
    return n;
}

size_t fake_whatsapp_rejected(struct fake_whatsapp *f, char *why, size_t n)
{
    pthread_mutex_lock(&f->mu);
    size_t r = f->rejected;
    if (why && n)
        snprintf(why, n, "%s", f->why);
    pthread_mutex_unlock(&f->mu);
    return r;
}

bool fake_whatsapp_get(struct fake_whatsapp *f, size_t i, struct fake_wa_request *out)
{
    pthread_mutex_lock(&f->mu);
    bool ok = i < f->nreqs;
    if (ok)
        *out = f->reqs[i];
    pthread_mutex_unlock(&f->mu);
    return ok;
}

void fake_whatsapp_reset(struct fake_whatsapp *f)
{
    pthread_mutex_lock(&f->mu);
    f->nreqs = 0;
    f->count = f->accepted = f->rejected = 0;
    f->why[0] = '\0';
    f->script_head = f->script_len = 0;
    pthread_mutex_unlock(&f->mu);
}
