/* SPDX-License-Identifier: MIT */
/*
 * `iceshop demo`: registers the city's sellers and buyers over the REST API, plays the seeded
 * plan (wishes and seller reports as signed WhatsApp webhooks or panel signals), reacts to what
 * the server sends (offers, approval questions) with seeded decisions, joins, walks over and
 * redeems codes, and at the end prints the summary (report.c). Only public interfaces: HTTP.
 */
#include "demo/demo.h"

#include "core/clock.h"
#include "core/crypto.h"
#include "core/str.h"
#include "demo/demo_internal.h"
#include "demo/shop.h"
#include "net/httpc.h"

#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS          250 /* wall milliseconds between two looks at the server */
#define HTTP_RETRIES     6   /* attempts of a request answered 429 */
#define MAX_FAILED_TICKS 40  /* consecutive rounds with an error (~10 s) end the run */
/* Wall seconds before a code sent by message and not yet confirmed is typed into the panel. */
#define VERIFY_TIMEOUT_S 15

static const char usage[] =
    "usage: iceshop demo [--url URL] [--key KEY] [--seed N] [--sellers N] [--buyers N]\n"
    "                    [--speed X] [--duration S] [--no-config] [--plan N] [--quiet]\n"
    "                    [--shop-customers N] [--shop-only]\n"
    "\n"
    "Simulates a city against a running server through its public interfaces: sellers in\n"
    "Istanbul neighbourhoods report idle hours and surplus, buyers send wishes in Turkish as\n"
    "signed WhatsApp webhooks, answer offers, join, come over and redeem their codes.\n"
    "\n"
    "  --url URL       server (default http://127.0.0.1:8080)\n"
    "  --key KEY       admin key (default $ICESHOP_ADMIN_KEY)\n"
    "  --seed N        the same seed gives the same city, plan and decisions (default 1)\n"
    "  --sellers N     shops (default 20)\n"
    "  --buyers N      people (default 150)\n"
    "  --speed X       city seconds per wall second (default 1); above 1 the windows'\n"
    "                  start and end are fast-forwarded with the server's own jobs\n"
    "  --duration S    stop after S wall seconds (default 0: until Ctrl-C)\n"
    "  --no-config     leave the campaign configuration alone (otherwise: scans every 10 s,\n"
    "                  5-minute lead, 10-minute windows, 8 offers per buyer a day)\n"
    "  --plan N        print the city and its first N planned events, without a server\n"
    "  --quiet         only the summary\n"
    "  --shop-customers N  customers of the shop seeded first, with a year of orders and\n"
    "                  their profiles (default 3000; 0: no shop); a tenant whose profiles\n"
    "                  were already computed is left alone\n"
    "  --shop-only     seed the shop and exit, without the city\n"
    "\n"
    "Webhooks are signed with ICESHOP_WHATSAPP_APP_SECRET, which must match the server's.\n";

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

enum wstatus { W_PROPOSED = 0, W_SCHEDULED, W_ACTIVE, W_EXPIRED, W_CANCELLED };
static const char *const wstatus_names[] = {"PROPOSED", "SCHEDULED", "ACTIVE",
                                            "EXPIRED",  "CANCELLED", NULL};

struct target {
    int buyer;
    int discount;
    double distance_m;
};

struct win {
    int64_t id;
    int seller;
    enum wstatus status;
    int64_t start_ms, end_ms; /* server wall clock */
    int64_t seen_mono, seen_wall;
    bool ff_activate, ff_expire;
    int committed, joined, redeemed, targeted;
    int discount;
    char title[160];
    struct target *targets;
    size_t n_targets;
};

enum act_kind { A_KATIL = 0, A_DECLINE, A_JOIN, A_COME, A_ANSWER };

struct action {
    double due; /* city seconds */
    enum act_kind kind;
    int buyer, seller;
    int64_t window;
    int nth; /* the buyer's offer number the decision belongs to */
    bool yes;
    char code[16];
};

struct commit {
    int64_t window;
    int buyer;
    int nth;
};

struct pending {
    int seller, buyer;
    int64_t window;
    char code[16];
    double t;
    int64_t sent_mono;
};

struct demo {
    struct demo_state s;
    const struct demo_opts *o;
    const char *secret;
    char auth[300];
    int64_t t0_mono;
    double sim; /* city seconds now */
    int64_t window_floor, msg_floor;
    int64_t last_offer, last_question;
    uint64_t nonce;
    unsigned long msg_seq;
    DEMO_VEC(struct win) wins;
    DEMO_VEC(struct action) actions;
    DEMO_VEC(struct commit) commits;
    DEMO_VEC(struct pending) pending;
    int *offers_of;        /* per buyer: offers received so far */
    int *wishes_of;        /* per buyer: wishes sent so far */
    int64_t *latest_offer; /* per buyer: window of the newest offer */
    int *questions_of;     /* per seller */
    bool fatal;
};

/* ======================== output ======================== */

static void vsay(const struct demo_opts *o, double at, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void vsay(const struct demo_opts *o, double at, const char *fmt, va_list ap)
{
    if (o->quiet)
        return;
    int t = (int)at;
    printf("[%02d:%02d:%02d] ", t / 3600, t / 60 % 60, t % 60);
    vprintf(fmt, ap);
    putchar('\n');
}

/* One line of the live log, stamped with the city time. */
static void say_line(struct demo *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say_line(struct demo *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(d->o, d->sim, fmt, ap);
    va_end(ap);
}

/*
 * A planned event, stamped with its planned time: the live run and --plan print the same line,
 * so a run can be checked against its plan.
 */
static void say_event(const struct demo_opts *o, const struct demo_city *c,
                      const struct demo_event *ev)
{
    if (o->quiet)
        return;
    int t = (int)ev->t;
    printf("[%02d:%02d:%02d] ", t / 3600, t / 60 % 60, t % 60);
    if (ev->kind == DEMO_EV_WISH) {
        const struct demo_buyer *y = &c->buyers[ev->actor];
        printf("wish %s %s (%s): \"%s\"\n", y->id, y->name, demo_hoods[y->hood].name, ev->text);
    } else {
        const struct demo_seller *x = &c->sellers[ev->actor];
        printf("report %s %s: \"%s\"%s\n", x->id, x->name, ev->text,
               ev->via_panel ? " (panel)" : "");
    }
}

/* ======================== HTTP ======================== */

/*
 * One call to the server. `body` (may be NULL) is sent as JSON; *out (may be NULL) gets the
 * parsed reply or NULL. 429 answers are retried after Retry-After. Returns 0 when an answer
 * arrived (*status has it), or the httpc error.
 */
static int api(struct demo *d, const char *method, const char *path, json_t *body, long *status,
               json_t **out, struct err *e)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", d->o->url, path);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct httpc_header h[] = {{"Authorization", d->auth},
                               {"Content-Type", "application/json"},
                               {"Accept", "application/json"}};
    struct httpc_request req = {.method = method,
                                .url = url,
                                .headers = h,
                                .nheaders = 3,
                                .body = text,
                                .body_len = text ? strlen(text) : 0};
    if (out)
        *out = NULL;
    int rc = 0;
    for (int attempt = 0; attempt < HTTP_RETRIES; attempt++) {
        struct httpc_response r;
        httpc_response_init(&r);
        rc = httpc_do(&req, &r, e);
        *status = r.status;
        if (!rc && r.status == 429 && attempt + 1 < HTTP_RETRIES) {
            const char *ra = httpc_response_header(&r, "Retry-After");
            int64_t wait_s = 1;
            if (ra && (str_to_i64_range(ra, 1, 5, &wait_s) != 0))
                wait_s = 1;
            httpc_response_release(&r);
            usleep((useconds_t)(wait_s * 1000 * 1000));
            continue;
        }
        if (!rc && out && r.body.len)
            *out = json_loads(buf_str(&r.body), 0, NULL);
        httpc_response_release(&r);
        break;
    }
    free(text);
    return rc;
}

/* A call that must succeed with one of two statuses; anything else is an error naming it. */
static int api_ok(struct demo *d, const char *method, const char *path, json_t *body, long ok1,
                  long ok2, json_t **out, struct err *e)
{
    long st = 0;
    json_t *j = NULL;
    int rc = api(d, method, path, body, &st, &j, e);
    if (rc)
        return rc;
    if (st != ok1 && st != ok2) {
        const char *msg =
            json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        err_set(e, st == 401 || st == 403 ? ERR_FORBIDDEN : ERR_UPSTREAM, "%s %s: HTTP %ld%s%s",
                method, path, st, msg ? ": " : "", msg ? msg : "");
        json_decref(j);
        return e->code;
    }
    if (out)
        *out = j;
    else
        json_decref(j);
    return 0;
}

/*
 * A WhatsApp message from `phone` as Meta delivers it, signed with the app secret. A text when
 * `button` is NULL, otherwise a tap on the reply button with that id (e.g. "join:42").
 */
static int webhook(struct demo *d, const char *phone, const char *name, const char *text,
                   const char *button, struct err *e)
{
    const char *from = phone[0] == '+' ? phone + 1 : phone;
    char id[96], ts[24];
    snprintf(id, sizeof(id), "wamid.demo.%llu.%llu.%lu", (unsigned long long)d->o->seed,
             (unsigned long long)d->nonce, ++d->msg_seq);
    snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
    json_t *msg = json_pack("{s:s, s:s, s:s, s:s}", "from", from, "id", id, "timestamp", ts, "type",
                            button ? "interactive" : "text");
    if (button)
        json_object_set_new(msg, "interactive",
                            json_pack("{s:s, s:{s:s, s:s}}", "type", "button_reply", "button_reply",
                                      "id", button, "title", text));
    else
        json_object_set_new(msg, "text", json_pack("{s:s}", "body", text));
    json_t *value = json_pack("{s:s, s:{s:s, s:s}, s:[{s:{s:s}, s:s}], s:[o]}", "messaging_product",
                              "whatsapp", "metadata", "display_phone_number", "908501234567",
                              "phone_number_id", "1122334455", "contacts", "profile", "name", name,
                              "wa_id", from, "messages", msg);
    json_t *root =
        json_pack("{s:s, s:[{s:s, s:[{s:s, s:o}]}]}", "object", "whatsapp_business_account",
                  "entry", "id", "1029384756", "changes", "field", "messages", "value", value);
    char *body = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (!body)
        return err_set(e, ERR_NOMEM, "cannot build a webhook body");
    char hex[SEC_HMAC_SHA256_HEX_SIZE], sig[100], url[1024];
    sec_hmac_sha256_hex(hex, d->secret, strlen(d->secret), body, strlen(body));
    snprintf(sig, sizeof(sig), "sha256=%s", hex);
    snprintf(url, sizeof(url), "%s/api/whatsapp/webhook", d->o->url);
    struct httpc_header h[] = {{"Content-Type", "application/json"}, {"X-Hub-Signature-256", sig}};
    struct httpc_request req = {.method = "POST",
                                .url = url,
                                .headers = h,
                                .nheaders = 2,
                                .body = body,
                                .body_len = strlen(body)};
    int rc = 0;
    long st = 0;
    for (int attempt = 0; attempt < HTTP_RETRIES; attempt++) {
        struct httpc_response r;
        httpc_response_init(&r);
        rc = httpc_do(&req, &r, e);
        st = r.status;
        httpc_response_release(&r);
        if (rc || st != 429)
            break;
        usleep(1000 * 1000);
    }
    free(body);
    if (rc)
        return rc;
    if (st == 401) {
        d->fatal = true;
        return err_set(e, ERR_UNAUTHORIZED,
                       "the server refused the webhook signature (401): "
                       "ICESHOP_WHATSAPP_APP_SECRET here must be the same as the server's");
    }
    if (st != 200)
        return err_set(e, ERR_UPSTREAM, "POST /api/whatsapp/webhook: HTTP %ld", st);
    return 0;
}

/* ======================== ids ======================== */

static int index_of(const char *id, const char *prefix, int n)
{
    int64_t v;
    if (!id || !str_has_prefix(id, prefix) || str_to_i64_range(id + strlen(prefix), 1, n, &v))
        return -1;
    return (int)v - 1;
}

static int buyer_of(struct demo *d, const char *id)
{
    return index_of(id, "demo-b", d->s.city.n_buyers);
}

static int seller_of(struct demo *d, const char *id)
{
    return index_of(id, "demo-s", d->s.city.n_sellers);
}

static struct win *find_win(struct demo *d, int64_t id)
{
    for (size_t i = 0; i < d->wins.n; i++) {
        if (d->wins.v[i].id == id)
            return &d->wins.v[i];
    }
    return NULL;
}

static const struct target *target_of(const struct win *w, int buyer)
{
    for (size_t i = 0; i < w->n_targets; i++) {
        if (w->targets[i].buyer == buyer)
            return &w->targets[i];
    }
    return NULL;
}

static int schedule(struct demo *d, struct action a)
{
    return DEMO_PUSH(d->actions, a);
}

/* ======================== setup ======================== */

static json_t *location(double lat, double lng, const struct demo_hood *h)
{
    return json_pack("{s:f, s:f, s:s, s:s}", "lat", lat, "lng", lng, "district", h->district,
                     "neighborhood", h->name);
}

static int register_city(struct demo *d, struct err *e)
{
    const struct demo_city *c = &d->s.city;
    for (int i = 0; i < c->n_sellers && !stop_flag; i++) {
        const struct demo_seller *x = &c->sellers[i];
        json_t *b = json_pack(
            "{s:s, s:s, s:s, s:s, s:o, s:s, s:{s:I, s:I, s:s}, s:i, s:i, s:b}", "id", x->id,
            "phone_number", x->phone, "name", x->name, "category", demo_cat_names[x->cat],
            "location", location(x->lat, x->lng, &demo_hoods[x->hood]), "density_status", "medium",
            "price_range", "min", (json_int_t)x->price_min, "max", (json_int_t)x->price_max,
            "currency", "TRY", "max_discount", x->max_discount, "capacity", x->capacity,
            "auto_approve", x->auto_approve);
        int rc = api_ok(d, "POST", "/api/sellers/register", b, 200, 201, NULL, e);
        json_decref(b);
        if (rc)
            return rc;
    }
    for (int i = 0; i < c->n_buyers && !stop_flag; i++) {
        const struct demo_buyer *y = &c->buyers[i];
        json_t *cats = json_array();
        for (int k = 0; k < y->n_cats; k++)
            json_array_append_new(cats, json_string(demo_cat_names[y->cats[k]]));
        json_t *b = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:b, s:s}", "id", y->id,
                              "phone_number", y->phone, "name", y->name, "location",
                              location(y->lat, y->lng, &demo_hoods[y->hood]), "categories", cats,
                              "price_sensitivity", demo_price_names[y->price], "consent", 1,
                              "language", "tr");
        int rc = api_ok(d, "POST", "/api/buyers/register", b, 200, 201, NULL, e);
        json_decref(b);
        if (rc)
            return rc;
    }
    return 0;
}

/*
 * Windows a previous run left open would keep its sellers out of the engine (one open window
 * per seller): the sellers cancel them.
 */
static int close_leftovers(struct demo *d, struct err *e)
{
    static const char *const open[] = {"PROPOSED", "SCHEDULED", "ACTIVE"};
    int closed = 0;
    for (int k = 0; k < 3; k++) {
        char path[128];
        snprintf(path, sizeof(path), "/api/flash-windows?status=%s&limit=200", open[k]);
        json_t *j = NULL;
        int rc = api_ok(d, "GET", path, NULL, 200, 200, &j, e);
        if (rc)
            return rc;
        size_t i;
        json_t *row;
        json_array_foreach(json_object_get(j, "windows"), i, row)
        {
            if (seller_of(d, json_string_value(json_object_get(row, "seller_id"))) < 0)
                continue;
            snprintf(path, sizeof(path), "/api/flash-windows/%lld/seller-cancel",
                     (long long)json_integer_value(json_object_get(row, "id")));
            json_t *b = json_pack("{s:s}", "reason", "an earlier demo run ended");
            long st = 0;
            rc = api(d, "POST", path, b, &st, NULL, e);
            json_decref(b);
            if (rc)
                break;
            closed += st == 200;
        }
        json_decref(j);
        if (rc)
            return rc;
    }
    if (closed && !d->o->quiet)
        printf("iceshop demo: closed %d window(s) an earlier run left open\n", closed);
    return 0;
}

/* The newest id of a list reply ("windows" or "messages"), 0 when empty. */
static int64_t newest_id(json_t *j, const char *key)
{
    json_t *first = json_array_get(json_object_get(j, key), 0);
    return first ? (int64_t)json_integer_value(json_object_get(first, "id")) : 0;
}

/* The server answers /health, or ERR_UPSTREAM saying how to start one. */
static int reach(struct demo *d, struct err *e)
{
    long st = 0;
    char url[1024];
    snprintf(url, sizeof(url), "%s/health", d->o->url);
    struct httpc_request req = {.url = url, .timeout_ms = 5000};
    struct httpc_response r;
    httpc_response_init(&r);
    int rc = httpc_do(&req, &r, e);
    st = r.status;
    httpc_response_release(&r);
    if (rc || st != 200) {
        err_init(e);
        return err_set(e, ERR_UPSTREAM,
                       "no Iceshop server answers at %s (start one with `iceshop serve` or "
                       "`make run`, or pass --url)",
                       d->o->url);
    }
    return 0;
}

static int setup(struct demo *d, struct err *e)
{
    json_t *j = NULL;
    int rc = reach(d, e);
    if (!rc)
        rc = api_ok(d, "GET", "/api/me", NULL, 200, 200, &j, e);
    if (rc)
        return rc;
    const char *role = json_string_value(json_object_get(j, "role"));
    bool admin = role && str_eq(role, "admin");
    json_decref(j);
    if (!admin && (!d->o->no_config || d->o->speed > 1))
        return err_set(e, ERR_FORBIDDEN,
                       "the key is not an admin key: the demo configures campaigns and "
                       "fast-forwards windows (use an admin key, or --no-config --speed 1)");
    if (!d->o->no_config) {
        /*
         * Windows people can walk to: 5 minutes' notice and 10 minutes open reach buyers a
         * 15-minute walk away (the engine's arrival rule, 80 m/min with a 1.3 detour).
         */
        json_t *cfg = json_pack("{s:i, s:i, s:i, s:i}", "scan_interval_s", 10, "lead_minutes", 5,
                                "window_minutes", 10, "max_offers_per_buyer_per_day", 8);
        rc = api_ok(d, "PUT", "/api/campaigns/config", cfg, 200, 200, NULL, e);
        json_decref(cfg);
        if (rc)
            return rc;
    }
    rc = close_leftovers(d, e);
    if (rc)
        return rc;
    rc = api_ok(d, "GET", "/api/flash-windows?limit=1", NULL, 200, 200, &j, e);
    if (rc)
        return rc;
    d->window_floor = newest_id(j, "windows");
    json_decref(j);
    rc = api_ok(d, "GET", "/api/messages?limit=1", NULL, 200, 200, &j, e);
    if (rc)
        return rc;
    d->msg_floor = d->last_offer = d->last_question = newest_id(j, "messages");
    json_decref(j);
    return register_city(d, e);
}

/* ======================== the plan ======================== */

static int fire(struct demo *d, const struct demo_event *ev, struct err *e)
{
    struct demo_city *c = &d->s.city;
    if (ev->kind == DEMO_EV_WISH) {
        const struct demo_buyer *y = &c->buyers[ev->actor];
        int rc = webhook(d, y->phone, y->name, ev->text, NULL, e);
        if (rc)
            return rc;
        struct demo_wish w = {
            .buyer = ev->actor, .nth = d->wishes_of[ev->actor]++, .cat = ev->cat, .t = ev->t};
        d->s.st.wishes++;
        say_event(d->o, c, ev);
        return DEMO_PUSH(d->s.wishes, w) ? err_set(e, ERR_NOMEM, "out of memory") : 0;
    }
    const struct demo_seller *x = &c->sellers[ev->actor];
    int rc;
    if (ev->via_panel) {
        json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "seller_id", x->id, "signal_type",
                              ev->kind == DEMO_EV_IDLE ? "idle" : "surplus", "text", ev->text,
                              "product", ev->product);
        rc = api_ok(d, "POST", "/api/sellers/signal", b, 200, 201, NULL, e);
        json_decref(b);
    } else {
        rc = webhook(d, x->phone, x->name, ev->text, NULL, e);
    }
    if (rc)
        return rc;
    say_event(d->o, c, ev);
    if (ev->kind == DEMO_EV_BUSY) {
        d->s.st.busy_reports++;
        return 0;
    }
    d->s.st.idle_reports++;
    struct demo_report r = {.seller = ev->actor, .t = ev->t};
    return DEMO_PUSH(d->s.reports, r) ? err_set(e, ERR_NOMEM, "out of memory") : 0;
}

/* Send every planned event due by city time `until`. */
static int play(struct demo *d, double until, struct err *e)
{
    while (!d->fatal && demo_city_peek(&d->s.city) <= until) {
        struct demo_event ev;
        demo_city_next(&d->s.city, &ev);
        int rc = fire(d, &ev, e);
        if (rc && d->fatal)
            return rc;
        if (rc) {
            fprintf(stderr, "iceshop demo: %s\n", e->msg);
            err_init(e);
        }
    }
    return 0;
}

/* ======================== windows ======================== */

static int load_targets(struct demo *d, struct win *w, struct err *e)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld", (long long)w->id);
    json_t *j = NULL;
    int rc = api_ok(d, "GET", path, NULL, 200, 200, &j, e);
    if (rc)
        return rc;
    json_t *arr = json_object_get(j, "targets");
    size_t n = json_array_size(arr);
    w->targets = n ? calloc(n, sizeof(*w->targets)) : NULL;
    w->n_targets = 0;
    for (size_t i = 0; i < n && w->targets; i++) {
        json_t *t = json_array_get(arr, i);
        int b = buyer_of(d, json_string_value(json_object_get(t, "buyer_id")));
        if (b < 0)
            continue;
        w->targets[w->n_targets++] =
            (struct target){.buyer = b,
                            .discount = (int)json_integer_value(json_object_get(t, "discount")),
                            .distance_m = json_number_value(json_object_get(t, "distance_m"))};
    }
    json_decref(j);
    return 0;
}

static void join_committed(struct demo *d, const struct win *w)
{
    for (size_t i = 0; i < d->commits.n; i++) {
        const struct commit *k = &d->commits.v[i];
        if (k->window != w->id)
            continue;
        double u = demo_u01(d->o->seed, DEMO_TAG_JOIN, (uint64_t)k->buyer, (uint64_t)k->nth);
        if (u >= 0.9) /* forgot, changed plans */
            continue;
        double delay = 5 + 45 * demo_u01(d->o->seed, DEMO_TAG_DELAY, (uint64_t)k->buyer,
                                         (uint64_t)k->nth * 7 + 1);
        struct action a = {.due = d->sim + delay,
                           .kind = A_JOIN,
                           .buyer = k->buyer,
                           .seller = w->seller,
                           .window = w->id,
                           .nth = k->nth};
        schedule(d, a);
    }
}

static enum wstatus status_of(json_t *row)
{
    const char *s = json_string_value(json_object_get(row, "status"));
    for (int i = 0; s && wstatus_names[i]; i++) {
        if (str_eq(s, wstatus_names[i]))
            return (enum wstatus)i;
    }
    return W_PROPOSED;
}

/* Update a tracked window from a list row; announce changes and plan the joins. */
static void update_win(struct demo *d, struct win *w, json_t *row)
{
    enum wstatus status = status_of(row);
    json_t *counts = json_object_get(row, "counts");
    w->committed = (int)json_integer_value(json_object_get(counts, "committed"));
    w->joined = (int)json_integer_value(json_object_get(counts, "joined"));
    w->redeemed = (int)json_integer_value(json_object_get(counts, "redeemed"));
    w->targeted = (int)json_integer_value(json_object_get(counts, "targeted"));
    if (status == w->status)
        return;
    enum wstatus old = w->status;
    w->status = status;
    const char *name = d->s.city.sellers[w->seller].name;
    switch (w->status) {
    case W_SCHEDULED:
        if (old == W_PROPOSED)
            say_line(d, "window #%lld at %s approved", (long long)w->id, name);
        break;
    case W_ACTIVE:
        say_line(d, "window #%lld at %s is ACTIVE: %d pre-commit(s) of %d invited",
                 (long long)w->id, name, w->committed, w->targeted);
        join_committed(d, w);
        break;
    case W_EXPIRED:
        say_line(d, "window #%lld at %s ended: %d joined, %d redeemed", (long long)w->id, name,
                 w->joined, w->redeemed);
        break;
    case W_CANCELLED: {
        const char *why = json_string_value(json_object_get(row, "cancel_reason"));
        say_line(d, "window #%lld at %s cancelled (%s)", (long long)w->id, name,
                 why && *why ? why : "no reason");
        break;
    }
    default:
        break;
    }
}

static int track(struct demo *d, json_t *row, struct err *e)
{
    int64_t id = (int64_t)json_integer_value(json_object_get(row, "id"));
    struct win *w = find_win(d, id);
    if (w) {
        update_win(d, w, row);
        return 0;
    }
    int seller = seller_of(d, json_string_value(json_object_get(row, "seller_id")));
    if (seller < 0 || id <= d->window_floor)
        return 0;
    struct win nw;
    memset(&nw, 0, sizeof(nw));
    nw.id = id;
    nw.seller = seller;
    nw.status = status_of(row);
    nw.seen_mono = clock_mono_ms();
    nw.seen_wall = clock_now_ms(NULL);
    const char *start = json_string_value(json_object_get(row, "start_time"));
    const char *end = json_string_value(json_object_get(row, "end_time"));
    if (!start || clock_parse_iso(start, &nw.start_ms))
        nw.start_ms = nw.seen_wall;
    if (!end || clock_parse_iso(end, &nw.end_ms))
        nw.end_ms = nw.start_ms;
    nw.discount = (int)json_integer_value(json_object_get(row, "discount_percent"));
    const char *title = json_string_value(json_object_get(row, "title"));
    snprintf(nw.title, sizeof(nw.title), "%s", title ? title : "");
    int rc = load_targets(d, &nw, e);
    if (rc)
        return rc;
    if (DEMO_PUSH(d->wins, nw)) {
        free(nw.targets);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    d->s.st.windows++;
    w = &d->wins.v[d->wins.n - 1];
    update_win(d, w, row); /* the counts; the status is already this row's */
    say_line(d, "window #%lld opened at %s (%s): \"%s\", %zu invited, starts in %lld s, %s",
             (long long)id, d->s.city.sellers[seller].name,
             demo_hoods[d->s.city.sellers[seller].hood].name, w->title, w->n_targets,
             (long long)((w->start_ms - w->seen_wall) / 1000), wstatus_names[w->status]);
    if (w->status == W_ACTIVE)
        join_committed(d, w);
    return 0;
}

/* The lowest window id still worth reading: open windows must be followed to their end. */
static int64_t window_horizon(struct demo *d)
{
    int64_t floor = d->window_floor;
    int64_t newest = floor, oldest_open = 0;
    for (size_t i = 0; i < d->wins.n; i++) {
        const struct win *w = &d->wins.v[i];
        if (w->id > newest)
            newest = w->id;
        if (w->status <= W_ACTIVE && (!oldest_open || w->id < oldest_open))
            oldest_open = w->id;
    }
    if (oldest_open)
        return oldest_open - 1 > floor ? oldest_open - 1 : floor;
    return newest;
}

static int poll_windows(struct demo *d, bool everything, struct err *e)
{
    int64_t horizon = everything ? d->window_floor : window_horizon(d);
    int64_t after = 0;
    for (int page = 0; page < 50; page++) {
        char path[128];
        if (after)
            snprintf(path, sizeof(path), "/api/flash-windows?limit=200&after=%lld",
                     (long long)after);
        else
            snprintf(path, sizeof(path), "/api/flash-windows?limit=200");
        json_t *j = NULL;
        int rc = api_ok(d, "GET", path, NULL, 200, 200, &j, e);
        if (rc)
            return rc;
        json_t *arr = json_object_get(j, "windows");
        size_t n = json_array_size(arr);
        bool more = n == 200;
        /* oldest first, so windows are announced in the order they opened */
        for (size_t i = n; i-- > 0;) {
            json_t *row = json_array_get(arr, i);
            int64_t id = (int64_t)json_integer_value(json_object_get(row, "id"));
            if (id <= horizon) {
                more = false;
                continue;
            }
            rc = track(d, row, e);
            if (rc)
                break;
        }
        after =
            n ? (int64_t)json_integer_value(json_object_get(json_array_get(arr, n - 1), "id")) : 0;
        json_decref(j);
        if (rc)
            return rc;
        if (!more || !after)
            break;
    }
    return 0;
}

/* Above speed 1 the city runs faster than the server's clock: start and end windows early. */
static int fast_forward(struct demo *d, struct err *e)
{
    if (d->o->speed <= 1.0)
        return 0;
    int64_t now = clock_mono_ms();
    for (size_t i = 0; i < d->wins.n; i++) {
        struct win *w = &d->wins.v[i];
        const char *job = NULL;
        bool *flag = NULL;
        int64_t until = 0;
        if (w->status <= W_SCHEDULED && !w->ff_activate) {
            job = "flash.activate";
            flag = &w->ff_activate;
            until = w->start_ms;
        } else if (w->status == W_ACTIVE && !w->ff_expire) {
            job = "flash.expire";
            flag = &w->ff_expire;
            until = w->end_ms;
        } else {
            continue;
        }
        double wait_ms = (double)(until - w->seen_wall) / d->o->speed;
        if (now < w->seen_mono + (int64_t)(wait_ms > 0 ? wait_ms : 0))
            continue;
        char key[64];
        snprintf(key, sizeof(key), "demo.%s:%lld", job, (long long)w->id);
        json_t *b = json_pack("{s:s, s:{s:I}, s:s}", "name", job, "payload", "window",
                              (json_int_t)w->id, "unique_key", key);
        int rc = api_ok(d, "POST", "/api/jobs", b, 202, 200, NULL, e);
        json_decref(b);
        if (rc)
            return rc;
        *flag = true;
    }
    return 0;
}

/* ======================== what the server sends ======================== */

/* New messages of `kind` since *last, oldest first, through `fn`. */
static int poll_messages(struct demo *d, const char *kind, int64_t *last,
                         int (*fn)(struct demo *, json_t *, struct err *), struct err *e)
{
    json_t *pages[20];
    int np = 0;
    int64_t after = 0, newest = *last;
    int rc = 0;
    while (np < 20) {
        char path[160];
        snprintf(path, sizeof(path), "/api/messages?kind=%s&limit=200", kind);
        if (after)
            snprintf(path + strlen(path), sizeof(path) - strlen(path), "&after=%lld",
                     (long long)after);
        json_t *j = NULL;
        rc = api_ok(d, "GET", path, NULL, 200, 200, &j, e);
        if (rc)
            break;
        pages[np++] = j;
        json_t *arr = json_object_get(j, "messages");
        size_t n = json_array_size(arr);
        if (n && newest_id(j, "messages") > newest)
            newest = newest_id(j, "messages");
        int64_t oldest =
            n ? (int64_t)json_integer_value(json_object_get(json_array_get(arr, n - 1), "id")) : 0;
        if (n < 200 || oldest <= *last)
            break;
        after = oldest;
    }
    for (int p = np; p-- > 0;) {
        json_t *arr = json_object_get(pages[p], "messages");
        for (size_t i = json_array_size(arr); !rc && i-- > 0;) {
            json_t *m = json_array_get(arr, i);
            if ((int64_t)json_integer_value(json_object_get(m, "id")) > *last)
                rc = fn(d, m, e);
        }
    }
    for (int p = 0; p < np; p++)
        json_decref(pages[p]);
    if (!rc)
        *last = newest;
    return rc;
}

static int on_offer(struct demo *d, json_t *m, struct err *e)
{
    int b = buyer_of(d, json_string_value(json_object_get(m, "recipient_id")));
    int64_t wid = (int64_t)json_integer_value(json_object_get(m, "window_id"));
    if (b < 0 || !wid)
        return 0;
    struct win *w = find_win(d, wid);
    if (!w) {
        int rc = poll_windows(d, false, e);
        if (rc)
            return rc;
        w = find_win(d, wid);
        if (!w)
            return 0;
    }
    const struct demo_buyer *y = &d->s.city.buyers[b];
    const struct target *t = target_of(w, b);
    int discount = t && t->discount ? t->discount : w->discount;
    double dist = t ? t->distance_m
                    : demo_distance_m(y->lat, y->lng, d->s.city.sellers[w->seller].lat,
                                      d->s.city.sellers[w->seller].lng);
    int nth = d->offers_of[b]++;
    d->latest_offer[b] = wid;
    d->s.st.offers++;
    double p = demo_attraction(y->price, discount) * demo_walk_factor(dist);
    /* people are consistent: the same shop offering again for the same wish gets the same
     * answer */
    uint64_t key = (uint64_t)w->seller * 100000 + (uint64_t)d->wishes_of[b];
    double u = demo_u01(d->o->seed, DEMO_TAG_ACCEPT, (uint64_t)b, key);
    double delay = 5 + 40 * demo_u01(d->o->seed, DEMO_TAG_DELAY, (uint64_t)b, (uint64_t)nth * 7);
    struct action a = {
        .due = d->sim + delay, .buyer = b, .seller = w->seller, .window = wid, .nth = nth};
    say_line(d, "%s %s got an offer: %s, %d%% off, %.0f m away", y->id, y->name,
             d->s.city.sellers[w->seller].name, discount, dist);
    if (u < p) {
        a.kind = A_KATIL;
        return schedule(d, a) ? err_set(e, ERR_NOMEM, "out of memory") : 0;
    }
    if (demo_u01(d->o->seed, DEMO_TAG_DECLINE, (uint64_t)b, key) < 0.3) {
        a.kind = A_DECLINE;
        return schedule(d, a) ? err_set(e, ERR_NOMEM, "out of memory") : 0;
    }
    return 0;
}

static int on_question(struct demo *d, json_t *m, struct err *e)
{
    int s = seller_of(d, json_string_value(json_object_get(m, "recipient_id")));
    int64_t wid = (int64_t)json_integer_value(json_object_get(m, "window_id"));
    if (s < 0 || !wid)
        return 0;
    int nth = d->questions_of[s]++;
    bool yes = demo_u01(d->o->seed, DEMO_TAG_APPROVE, (uint64_t)s, (uint64_t)nth) < 0.9;
    double delay =
        5 + 35 * demo_u01(d->o->seed, DEMO_TAG_DELAY, (uint64_t)s + 1000000, (uint64_t)nth);
    struct action a = {.due = d->sim + delay,
                       .kind = A_ANSWER,
                       .buyer = -1,
                       .seller = s,
                       .window = wid,
                       .nth = nth,
                       .yes = yes};
    say_line(d, "%s %s is asked to approve window #%lld", d->s.city.sellers[s].id,
             d->s.city.sellers[s].name, (long long)wid);
    return schedule(d, a) ? err_set(e, ERR_NOMEM, "out of memory") : 0;
}

/* ======================== people acting ======================== */

static const char *pick_text(struct demo *d, int who, int nth, const char *const *texts, int n)
{
    double u = demo_u01(d->o->seed, DEMO_TAG_STYLE, (uint64_t)who, (uint64_t)nth);
    return texts[(int)(u * n)];
}

static bool newer_window_of_seller(struct demo *d, int seller, int64_t window)
{
    for (size_t i = 0; i < d->wins.n; i++) {
        if (d->wins.v[i].seller == seller && d->wins.v[i].id > window)
            return true;
    }
    return false;
}

static void redeemed(struct demo *d, int seller, int buyer, const char *code, double t)
{
    d->s.st.redeemed++;
    struct demo_visit v = {.seller = seller, .buyer = buyer, .t = t};
    if (DEMO_PUSH(d->s.visits, v))
        fprintf(stderr, "iceshop demo: out of memory\n");
    say_line(d, "%s redeemed %s's code %s", d->s.city.sellers[seller].name,
             d->s.city.buyers[buyer].id, code);
}

/* The seller confirms a code on the panel (REST). */
static int redeem_panel(struct demo *d, int seller, int buyer, int64_t window, const char *code,
                        double t, struct err *e)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/flash-windows/%lld/redeem", (long long)window);
    json_t *b = json_pack("{s:s}", "code", code);
    long st = 0;
    json_t *j = NULL;
    int rc = api(d, "POST", path, b, &st, &j, e);
    json_decref(b);
    if (rc)
        return rc;
    /* 409 on the code: our own message redeemed it after all, just later than we looked */
    const char *field = json_string_value(json_object_get(json_object_get(j, "error"), "field"));
    if (st == 200 || (st == 409 && field && str_eq(field, "code")))
        redeemed(d, seller, buyer, code, t);
    else
        d->s.st.redeem_failed++;
    json_decref(j);
    return 0;
}

static int act(struct demo *d, const struct action *a, struct err *e)
{
    struct demo_city *c = &d->s.city;
    struct win *w = find_win(d, a->window);
    const struct demo_seller *x = &c->sellers[a->seller];
    if (a->kind == A_ANSWER) {
        static const char *const yes[] = {"evet", "Evet, açalım", "Evet"};
        static const char *const no[] = {"hayır", "Hayır"};
        if (w && w->status != W_PROPOSED) {
            d->s.st.too_late++;
            return 0;
        }
        const char *text = a->yes ? pick_text(d, a->seller, a->nth, yes, 3)
                                  : pick_text(d, a->seller, a->nth, no, 2);
        int rc = webhook(d, x->phone, x->name, text, NULL, e);
        if (!rc) {
            if (a->yes)
                d->s.st.approvals++;
            else
                d->s.st.rejections++;
            say_line(d, "%s %s: \"%s\"", x->id, x->name, text);
        }
        return rc;
    }
    const struct demo_buyer *y = &c->buyers[a->buyer];
    switch (a->kind) {
    case A_KATIL: {
        if (!w || w->status >= W_EXPIRED) {
            d->s.st.too_late++;
            return 0;
        }
        if (w->status == W_ACTIVE) {
            /* the window opened while they were thinking: they join straight away */
            struct action j = *a;
            j.kind = A_JOIN;
            j.due = d->sim;
            d->s.st.katil++;
            return schedule(d, j) ? err_set(e, ERR_NOMEM, "out of memory") : 0;
        }
        static const char *const texts[] = {"katıl", "Katıl", "katil", "KATIL"};
        bool latest = d->latest_offer[a->buyer] == a->window;
        bool button = !latest || demo_u01(d->o->seed, DEMO_TAG_STYLE, (uint64_t)a->buyer,
                                          (uint64_t)a->nth + 5000) < 0.4;
        char payload[40];
        snprintf(payload, sizeof(payload), "join:%lld", (long long)a->window);
        const char *text = button ? "Katıl" : pick_text(d, a->buyer, a->nth, texts, 4);
        int rc = webhook(d, y->phone, y->name, text, button ? payload : NULL, e);
        if (rc)
            return rc;
        d->s.st.katil++;
        say_line(d, "%s %s: \"%s\"%s (window #%lld)", y->id, y->name, text,
                 button ? " [button]" : "", (long long)a->window);
        struct commit k = {.window = a->window, .buyer = a->buyer, .nth = a->nth};
        return DEMO_PUSH(d->commits, k) ? err_set(e, ERR_NOMEM, "out of memory") : 0;
    }
    case A_DECLINE: {
        static const char *const texts[] = {"hayır", "Hayır teşekkürler"};
        if (d->latest_offer[a->buyer] != a->window)
            return 0; /* "hayır" would answer a newer offer */
        const char *text = pick_text(d, a->buyer, a->nth + 9000, texts, 2);
        int rc = webhook(d, y->phone, y->name, text, NULL, e);
        if (!rc)
            d->s.st.declines++;
        return rc;
    }
    case A_JOIN: {
        char path[96];
        snprintf(path, sizeof(path), "/api/flash-windows/%lld/join", (long long)a->window);
        json_t *b = json_pack("{s:s}", "buyer_id", y->id);
        long st = 0;
        json_t *j = NULL;
        int rc = api(d, "POST", path, b, &st, &j, e);
        json_decref(b);
        if (rc)
            return rc;
        const char *code = json_string_value(json_object_get(j, "code"));
        if ((st != 200 && st != 201) || !code) {
            d->s.st.join_refused++;
            json_decref(j);
            return 0;
        }
        d->s.st.joins++;
        struct action come = *a;
        str_copy(come.code, sizeof(come.code), code);
        json_decref(j);
        const struct target *t = w ? target_of(w, a->buyer) : NULL;
        double dist = t ? t->distance_m : 500;
        double p = y->reliability * (0.8 + 0.2 * demo_walk_factor(dist));
        if (demo_u01(d->o->seed, DEMO_TAG_COME, (uint64_t)a->buyer, (uint64_t)a->nth) >= p) {
            d->s.st.no_shows++;
            say_line(d, "%s %s joined window #%lld (code %s) but will not show up", y->id, y->name,
                     (long long)a->window, come.code);
            return 0;
        }
        come.kind = A_COME;
        come.due = d->sim + demo_walk_s(dist, demo_u01(d->o->seed, DEMO_TAG_WALK,
                                                       (uint64_t)a->buyer, (uint64_t)a->nth));
        say_line(d, "%s %s joined window #%lld, code %s, walking %.0f m", y->id, y->name,
                 (long long)a->window, come.code, dist);
        return schedule(d, come) ? err_set(e, ERR_NOMEM, "out of memory") : 0;
    }
    case A_COME: {
        d->s.st.came++;
        /* a code for an older window than the seller's newest goes through the panel: the
         * message form always means the seller's current window */
        if (newer_window_of_seller(d, a->seller, a->window))
            return redeem_panel(d, a->seller, a->buyer, a->window, a->code, d->sim, e);
        char text[40];
        snprintf(text, sizeof(text), "kod %s", a->code);
        int rc = webhook(d, x->phone, x->name, text, NULL, e);
        if (rc)
            return rc;
        struct pending p = {.seller = a->seller,
                            .buyer = a->buyer,
                            .window = a->window,
                            .t = d->sim,
                            .sent_mono = clock_mono_ms()};
        str_copy(p.code, sizeof(p.code), a->code);
        return DEMO_PUSH(d->pending, p) ? err_set(e, ERR_NOMEM, "out of memory") : 0;
    }
    default:
        return 0;
    }
}

static int run_actions(struct demo *d, struct err *e)
{
    /* actions may schedule more; only those due now run, in the order they were planned */
    size_t n = d->actions.n;
    for (size_t i = 0; i < n && !d->fatal; i++) {
        if (d->actions.v[i].due > d->sim)
            continue;
        struct action a = d->actions.v[i];
        d->actions.v[i].due = INFINITY; /* done */
        int rc = act(d, &a, e);
        if (rc && d->fatal)
            return rc;
        if (rc) {
            fprintf(stderr, "iceshop demo: %s\n", e->msg);
            err_init(e);
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < d->actions.n; i++) {
        if (d->actions.v[i].due != INFINITY)
            d->actions.v[k++] = d->actions.v[i];
    }
    d->actions.n = k;
    return 0;
}

/* Codes sent by message are confirmed by the server's reply to the seller. */
static int verify(struct demo *d, bool final, struct err *e)
{
    int64_t now = clock_mono_ms();
    for (size_t i = 0; i < d->pending.n; i++) {
        struct pending *p = &d->pending.v[i];
        if (!p->code[0])
            continue;
        char path[160];
        snprintf(path, sizeof(path), "/api/messages?recipient_id=%s&kind=reply&limit=50",
                 d->s.city.sellers[p->seller].id);
        json_t *j = NULL;
        int rc = api_ok(d, "GET", path, NULL, 200, 200, &j, e);
        if (rc)
            return rc;
        /* one read answers every pending code of this seller */
        for (size_t k = i; k < d->pending.n; k++) {
            struct pending *q = &d->pending.v[k];
            if (!q->code[0] || q->seller != p->seller)
                continue;
            size_t m;
            json_t *msg;
            int verdict = 0;
            json_array_foreach(json_object_get(j, "messages"), m, msg)
            {
                const char *body = json_string_value(json_object_get(msg, "body"));
                if ((int64_t)json_integer_value(json_object_get(msg, "id")) <= d->msg_floor ||
                    !body || !strstr(body, q->code))
                    continue;
                verdict = strstr(body, "onaylandı") ? 1 : -1;
                break;
            }
            if (verdict > 0) {
                redeemed(d, q->seller, q->buyer, q->code, q->t);
            } else if (verdict < 0 || final ||
                       now - q->sent_mono > (int64_t)VERIFY_TIMEOUT_S * 1000) {
                /* refused or unanswered: the seller types it into the panel instead */
                rc = redeem_panel(d, q->seller, q->buyer, q->window, q->code, q->t, e);
                if (rc) {
                    json_decref(j);
                    return rc;
                }
            } else {
                continue;
            }
            q->code[0] = '\0';
        }
        json_decref(j);
    }
    size_t k = 0;
    for (size_t i = 0; i < d->pending.n; i++) {
        if (d->pending.v[i].code[0])
            d->pending.v[k++] = d->pending.v[i];
    }
    d->pending.n = k;
    return 0;
}

/* ======================== the run ======================== */

static double sim_now(const struct demo *d)
{
    return (double)(clock_mono_ms() - d->t0_mono) / 1000.0 * d->o->speed;
}

static int tick(struct demo *d, int64_t *next_generate, struct err *e)
{
    d->sim = sim_now(d);
    int rc = play(d, d->sim, e);
    if (!rc && clock_mono_ms() >= *next_generate) {
        json_t *j = NULL;
        rc = api_ok(d, "POST", "/api/campaigns/generate", NULL, 200, 200, &j, e);
        json_decref(j);
        /* a round every 20 city seconds, at most one a second */
        double every = 20000.0 / d->o->speed;
        *next_generate = clock_mono_ms() + (int64_t)(every < 1000 ? 1000 : every);
    }
    if (!rc)
        rc = poll_windows(d, false, e);
    if (!rc)
        rc = poll_messages(d, "question", &d->last_question, on_question, e);
    if (!rc)
        rc = poll_messages(d, "offer", &d->last_offer, on_offer, e);
    if (!rc)
        rc = fast_forward(d, e);
    if (!rc)
        rc = run_actions(d, e);
    if (!rc && d->pending.n)
        rc = verify(d, false, e);
    return rc;
}

static int finish(struct demo *d, bool by_duration, struct err *e)
{
    int rc = 0;
    if (by_duration) {
        /* the plan up to the end is sent in full, so a seed always makes the same wishes */
        d->sim = d->o->duration * d->o->speed;
        rc = play(d, d->sim, e);
    }
    d->s.sim_end = d->sim;
    /* let the last redemptions be confirmed */
    int64_t until = clock_mono_ms() + 5000;
    while (!rc && d->pending.n && !stop_flag && clock_mono_ms() < until) {
        rc = verify(d, false, e);
        usleep(200 * 1000);
    }
    if (!rc && d->pending.n)
        rc = verify(d, true, e);
    if (!rc)
        rc = poll_windows(d, true, e);
    for (size_t i = 0; i < d->wins.n; i++) {
        d->s.st.by_status[d->wins.v[i].status]++;
        d->s.st.precommits += d->wins.v[i].committed;
    }
    return rc;
}

static int live(struct demo *d, struct err *e)
{
    int rc = setup(d, e);
    if (rc)
        return rc;
    const struct demo_opts *o = d->o;
    if (!o->quiet) {
        printf("iceshop demo: %d sellers and %d buyers registered at %s; seed %llu, speed %gx, "
               "%s\n",
               o->sellers, o->buyers, o->url, (unsigned long long)o->seed, o->speed,
               o->duration > 0 ? "timed" : "until Ctrl-C");
        if (o->speed > 1)
            printf("(windows' starts and ends are fast-forwarded %gx with POST /api/jobs)\n",
                   o->speed);
    }
    d->t0_mono = clock_mono_ms();
    int64_t next_generate = d->t0_mono;
    bool by_duration = false;
    int failures = 0;
    while (!stop_flag && !d->fatal) {
        int64_t started = clock_mono_ms();
        if (o->duration > 0 && (double)(started - d->t0_mono) >= o->duration * 1000.0) {
            by_duration = true;
            break;
        }
        rc = tick(d, &next_generate, e);
        if (rc && d->fatal)
            return rc;
        failures = rc ? failures + 1 : 0;
        if (rc && failures >= MAX_FAILED_TICKS) {
            fprintf(stderr, "iceshop demo: giving up after %d failed rounds: %s\n", failures,
                    e->msg);
            err_init(e);
            break;
        }
        if (rc) {
            fprintf(stderr, "iceshop demo: %s\n", e->msg);
            err_init(e);
        }
        int64_t spent = clock_mono_ms() - started;
        if (spent < TICK_MS)
            usleep((useconds_t)(TICK_MS - spent) * 1000);
    }
    if (!by_duration)
        d->sim = sim_now(d);
    d->s.wall_s = (double)(clock_mono_ms() - d->t0_mono) / 1000.0;
    rc = finish(d, by_duration, e);
    demo_report_print(&d->s);
    return rc;
}

/* ======================== the plan without a server ======================== */

/* Print `s` left-aligned in `width` columns, counting UTF-8 characters, not bytes. */
static void put_padded(const char *s, int width)
{
    int chars = 0;
    for (const char *p = s; *p; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    fputs(s, stdout);
    for (int i = chars; i < width; i++)
        putchar(' ');
}

static void print_plan(struct demo_state *s)
{
    const struct demo_opts *o = s->o;
    struct demo_city *c = &s->city;
    printf("iceshop demo plan: seed %llu, %d sellers, %d buyers\n", (unsigned long long)o->seed,
           c->n_sellers, c->n_buyers);
    for (int i = 0; i < c->n_sellers; i++) {
        const struct demo_seller *x = &c->sellers[i];
        printf("seller %s ", x->id);
        put_padded(x->name, 30);
        put_padded(demo_hoods[x->hood].name, 17);
        printf("%-11s capacity %d, up to %d%% off, %s\n", demo_cat_names[x->cat], x->capacity,
               x->max_discount, x->auto_approve ? "standing approval" : "asks first");
    }
    int wishes_in = 0;
    double horizon = o->duration * o->speed;
    for (int i = 0; i < o->plan || (horizon > 0 && demo_city_peek(c) <= horizon); i++) {
        struct demo_event ev;
        demo_city_next(c, &ev);
        if (horizon > 0 && ev.t <= horizon && ev.kind == DEMO_EV_WISH)
            wishes_in++;
        if (i >= o->plan)
            continue;
        say_event(o, c, &ev);
    }
    if (horizon > 0)
        printf("planned wishes in %g s at speed %g: %d\n", o->duration, o->speed, wishes_in);
}

/* ======================== entry ======================== */

/* The shop with a year of orders and its profiles, before the city starts. */
static int seed_shop(const struct demo_opts *o, const char *auth, struct err *e)
{
    struct demo_shop_opts so = {.url = o->url,
                                .auth = auth,
                                .seed = o->seed,
                                .customers = o->shop_customers,
                                .now_ms = clock_now_ms(NULL),
                                .quiet = o->quiet};
    struct demo_shop_result r;
    if (!o->quiet)
        printf("shop: seeding %d customers with a year of orders, then their profiles...\n",
               o->shop_customers);
    int rc = demo_shop_seed(&so, &r, e);
    if (!rc && r.skipped)
        printf("shop: already seeded (its profiles were computed before), left as it is\n");
    else if (!rc)
        printf("shop: %d customers, %d products, %d orders (%d items) imported in %.1f s; "
               "profiles computed in %.1f s; %d personal campaigns planned; %.1f s in all\n",
               r.customers, r.products, r.orders, r.items, r.import_s, r.profiles_s, r.campaigns,
               r.total_s);
    return rc;
}

static int parse(int argc, char **argv, struct demo_opts *o)
{
    o->url = "http://127.0.0.1:8080";
    o->key = getenv("ICESHOP_ADMIN_KEY");
    o->seed = 1;
    o->sellers = 20;
    o->buyers = 150;
    o->speed = 1;
    o->shop_customers = DEMO_SHOP_CUSTOMERS;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t n;
        char *end;
        if (str_eq(a, "--no-config")) {
            o->no_config = true;
            continue;
        }
        if (str_eq(a, "--quiet")) {
            o->quiet = true;
            continue;
        }
        if (str_eq(a, "--shop-only")) {
            o->shop_only = true;
            continue;
        }
        if (str_eq(a, "--help") || str_eq(a, "-h")) {
            fputs(usage, stdout);
            return 1;
        }
        if (!v) {
            fprintf(stderr, "iceshop demo: %s needs a value\n\n%s", a, usage);
            return 2;
        }
        i++;
        if (str_eq(a, "--url")) {
            o->url = v;
        } else if (str_eq(a, "--key")) {
            o->key = v;
        } else if (str_eq(a, "--seed") && !str_to_i64_range(v, 0, INT64_MAX, &n)) {
            o->seed = (uint64_t)n;
        } else if (str_eq(a, "--sellers") && !str_to_i64_range(v, 1, DEMO_MAX_SELLERS, &n)) {
            o->sellers = (int)n;
        } else if (str_eq(a, "--buyers") && !str_to_i64_range(v, 1, DEMO_MAX_BUYERS, &n)) {
            o->buyers = (int)n;
        } else if (str_eq(a, "--shop-customers") &&
                   !str_to_i64_range(v, 0, DEMO_SHOP_MAX_CUSTOMERS, &n)) {
            o->shop_customers = (int)n;
        } else if (str_eq(a, "--plan") && !str_to_i64_range(v, 0, 1000000, &n)) {
            o->plan = (int)n;
        } else if (str_eq(a, "--speed") && (o->speed = strtod(v, &end), *end == '\0') &&
                   o->speed >= 0.1 && o->speed <= 1000) {
            continue;
        } else if (str_eq(a, "--duration") && (o->duration = strtod(v, &end), *end == '\0') &&
                   o->duration >= 0 && o->duration <= 7 * 86400) {
            continue;
        } else {
            fprintf(stderr,
                    "iceshop demo: bad option %s %s (sellers 1..%d, buyers 1..%d, speed "
                    "0.1..1000, duration >= 0, shop customers 0..%d)\n\n%s",
                    a, v, DEMO_MAX_SELLERS, DEMO_MAX_BUYERS, DEMO_SHOP_MAX_CUSTOMERS, usage);
            return 2;
        }
    }
    size_t len = strlen(o->url);
    if (len && o->url[len - 1] == '/') {
        fprintf(stderr, "iceshop demo: --url without a trailing slash, e.g. %.*s\n", (int)len - 1,
                o->url);
        return 2;
    }
    return 0;
}

int demo_run(int argc, char **argv)
{
    struct demo_opts o;
    memset(&o, 0, sizeof(o));
    int prc = parse(argc, argv, &o);
    if (prc)
        return prc == 1 ? 0 : prc;
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct err e;
    err_init(&e);
    struct demo *d = calloc(1, sizeof(*d));
    if (!d) {
        fprintf(stderr, "iceshop demo: out of memory\n");
        return 1;
    }
    d->o = &o;
    d->s.o = &o;
    int rc = demo_city_init(&d->s.city, o.seed, o.sellers, o.buyers, &e);
    if (!rc && o.plan > 0) {
        print_plan(&d->s);
        goto out;
    }
    if (!rc) {
        d->secret = getenv("ICESHOP_WHATSAPP_APP_SECRET");
        if ((!d->secret || !*d->secret) && !o.shop_only)
            rc = err_set(&e, ERR_INVALID,
                         "ICESHOP_WHATSAPP_APP_SECRET is not set. The demo's buyers and sellers "
                         "write as signed WhatsApp webhooks, so it needs the same Meta app secret "
                         "as the server: e.g. export ICESHOP_WHATSAPP_APP_SECRET=demo-secret "
                         "before both `iceshop serve` and `iceshop demo`");
        else if (!o.key || strlen(o.key) < 8)
            rc = err_set(&e, ERR_INVALID,
                         "no admin key: pass --key KEY or set ICESHOP_ADMIN_KEY (make run "
                         "writes it to var/admin.key)");
    }
    if (!rc)
        rc = sec_init(&e);
    if (!rc)
        rc = httpc_global_init(&e);
    if (rc)
        goto out;
    snprintf(d->auth, sizeof(d->auth), "Bearer %s", o.key);
    d->nonce = (uint64_t)clock_now_ms(NULL);
    size_t nb = (size_t)o.buyers, ns = (size_t)o.sellers;
    d->offers_of = calloc(nb, sizeof(int));
    d->wishes_of = calloc(nb, sizeof(int));
    d->latest_offer = calloc(nb, sizeof(int64_t));
    d->questions_of = calloc(ns, sizeof(int));
    if (!d->offers_of || !d->wishes_of || !d->latest_offer || !d->questions_of) {
        rc = err_set(&e, ERR_NOMEM, "out of memory");
        goto out;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (o.shop_customers > 0 || o.shop_only)
        rc = reach(d, &e);
    if (!rc && (o.shop_customers > 0 || o.shop_only))
        rc = seed_shop(&o, d->auth, &e);
    if (!rc && !o.shop_only)
        rc = live(d, &e);
out:
    if (rc)
        fprintf(stderr, "iceshop demo: %s\n", e.msg[0] ? e.msg : err_code_name(e.code));
    for (size_t i = 0; i < d->wins.n; i++)
        free(d->wins.v[i].targets);
    free(d->wins.v);
    free(d->actions.v);
    free(d->commits.v);
    free(d->pending.v);
    free(d->offers_of);
    free(d->wishes_of);
    free(d->latest_offer);
    free(d->questions_of);
    free(d->s.wishes.v);
    free(d->s.reports.v);
    free(d->s.visits.v);
    demo_city_free(&d->s.city);
    free(d);
    return rc ? 1 : 0;
}
