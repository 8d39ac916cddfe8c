/* SPDX-License-Identifier: MIT */
/*
 * The demo's shop (see shop.h): the history is drawn in memory as NDJSON, one customer at a
 * time from the customer's own random stream (so a customer does not change when the number of
 * customers does), and sent through the import. Only public interfaces: HTTP.
 */
#include "demo/shop.h"

#include "core/buf.h"
#include "core/clock.h"
#include "net/httpc.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DAY_MS        86400000LL
#define HISTORY_DAYS  365
#define ORDERS_MAX    160 /* per customer */
#define IMPORT_MAX    (96u * 1024 * 1024)
#define BATCH_WAIT_MS (10 * 60 * 1000)
#define CAMPAIGNS     10 /* personal campaigns planned for the first customers */
#define SOURCE        "demo-shop"
#define CURRENCY      "TRY"

/* ======================== the catalogue ======================== */

struct city {
    const char *ext, *name;
    double lat, lng;
    double share; /* of the customers */
    double temp[12], rain[12];
};

static const struct city cities[] = {
    {"shop-ist",
     "İstanbul",
     41.0082,
     28.9784,
     0.50,
     {6, 6, 8, 12, 17, 22, 24, 24, 21, 16, 12, 8},
     {105, 80, 70, 45, 35, 25, 20, 25, 45, 80, 100, 120}},
    {"shop-ank",
     "Ankara",
     39.9334,
     32.8597,
     0.20,
     {0, 1, 5, 11, 16, 20, 24, 23, 19, 13, 6, 2},
     {40, 35, 40, 45, 50, 35, 15, 10, 20, 30, 35, 45}},
    {"shop-izm",
     "İzmir",
     38.4237,
     27.1428,
     0.18,
     {9, 10, 12, 16, 21, 26, 28, 28, 24, 19, 14, 10},
     {135, 100, 80, 45, 25, 8, 2, 3, 15, 45, 95, 140}},
    {"shop-ant",
     "Antalya",
     36.8969,
     30.7133,
     0.12,
     {10, 11, 13, 16, 20, 25, 28, 28, 25, 20, 15, 12},
     {230, 150, 100, 50, 30, 10, 3, 3, 15, 80, 170, 250}},
};
#define N_CITIES (sizeof(cities) / sizeof(cities[0]))

struct category {
    const char *ext, *name;
    double popularity;
};

enum cat { KAHVE, CAY, KAHVALTI, DONDURMA, TEMIZLIK, BEBEK, BAKIM, KIRTASIYE, TEKSTIL, N_CATS };

static const struct category categories[N_CATS] = {
    [KAHVE] = {"shop-cat-kahve", "Kahve", 1.2},
    [CAY] = {"shop-cat-cay", "Çay", 1.0},
    [KAHVALTI] = {"shop-cat-kahvalti", "Kahvaltılık", 1.4},
    [DONDURMA] = {"shop-cat-dondurma", "Dondurma ve içecek", 0.8},
    [TEMIZLIK] = {"shop-cat-temizlik", "Temizlik", 1.0},
    [BEBEK] = {"shop-cat-bebek", "Bebek", 0.4},
    [BAKIM] = {"shop-cat-bakim", "Kişisel bakım", 0.9},
    [KIRTASIYE] = {"shop-cat-kirtasiye", "Kırtasiye", 0.35},
    [TEKSTIL] = {"shop-cat-tekstil", "Ev tekstili", 0.3},
};

struct product {
    const char *ext, *name;
    enum cat cat;
    int64_t price; /* kuruş */
    int peak;      /* month of the season's peak, 0: all year */
    double amp;    /* how much the season matters, 0..0.9 */
    int cycle;     /* days between two purchases of a staple, 0: not a staple */
};

static const struct product products[] = {
    {"shop-p-filtre", "Filtre kahve 250 g", KAHVE, 18990, 0, 0, 0},
    {"shop-p-turkkahvesi", "Türk kahvesi 100 g", KAHVE, 7450, 1, 0.2, 0},
    {"shop-p-espresso", "Espresso çekirdek 1 kg", KAHVE, 64900, 0, 0, 30},
    {"shop-p-sogukkahve", "Soğuk kahve 250 ml", KAHVE, 5490, 7, 0.85, 0},
    {"shop-p-rize", "Rize çayı 1 kg", CAY, 21900, 1, 0.3, 35},
    {"shop-p-ihlamur", "Ihlamur 50 g", CAY, 6490, 1, 0.85, 0},
    {"shop-p-buzlucay", "Buzlu şeftali çayı 1 L", CAY, 3990, 7, 0.85, 0},
    {"shop-p-peynir", "Beyaz peynir 600 g", KAHVALTI, 16490, 0, 0, 0},
    {"shop-p-zeytin", "Siyah zeytin 1 kg", KAHVALTI, 18900, 0, 0, 0},
    {"shop-p-bal", "Çiçek balı 460 g", KAHVALTI, 22900, 1, 0.3, 0},
    {"shop-p-tereyag", "Tereyağı 500 g", KAHVALTI, 25900, 0, 0, 0},
    {"shop-p-dondurma", "Maraş dondurması 1 L", DONDURMA, 14990, 7, 0.9, 0},
    {"shop-p-limonata", "Limonata 1 L", DONDURMA, 4490, 7, 0.8, 0},
    {"shop-p-madensuyu", "Maden suyu 6'lı", DONDURMA, 5990, 7, 0.4, 0},
    {"shop-p-deterjan", "Çamaşır deterjanı 4 kg", TEMIZLIK, 32900, 0, 0, 45},
    {"shop-p-tablet", "Bulaşık makinesi tableti 60'lı", TEMIZLIK, 28900, 0, 0, 40},
    {"shop-p-yuzey", "Yüzey temizleyici 1 L", TEMIZLIK, 6990, 0, 0, 0},
    {"shop-p-bez", "Bebek bezi 4 numara 90'lı", BEBEK, 59900, 0, 0, 21},
    {"shop-p-mendil", "Islak mendil 3'lü", BEBEK, 11900, 0, 0, 25},
    {"shop-p-bebeksampuan", "Bebek şampuanı 400 ml", BEBEK, 8990, 0, 0, 0},
    {"shop-p-sampuan", "Şampuan 500 ml", BAKIM, 11990, 0, 0, 0},
    {"shop-p-guneskremi", "Güneş kremi SPF 50", BAKIM, 38900, 7, 0.9, 0},
    {"shop-p-elkremi", "El kremi 75 ml", BAKIM, 9990, 1, 0.7, 0},
    {"shop-p-dismacunu", "Diş macunu 100 ml", BAKIM, 7490, 0, 0, 0},
    {"shop-p-defter", "Çizgili defter 5'li", KIRTASIYE, 14900, 9, 0.9, 0},
    {"shop-p-kalem", "Kurşun kalem seti 12'li", KIRTASIYE, 8990, 9, 0.9, 0},
    {"shop-p-battaniye", "Polar battaniye", TEKSTIL, 44900, 12, 0.9, 0},
    {"shop-p-havlu", "Plaj havlusu", TEKSTIL, 27900, 7, 0.9, 0},
    {"shop-p-nevresim", "Nevresim takımı", TEKSTIL, 89900, 0, 0, 0},
};
#define N_PRODUCTS (sizeof(products) / sizeof(products[0]))

/* The whole shop's traffic by month: December, November's sales and the summer are busier. */
static const double shop_season[12] = {1.0, 0.85, 0.9, 0.95, 1.0,  1.1,
                                       1.2, 1.15, 1.0, 0.95, 1.15, 1.35};

static const char *season_tag(int month)
{
    if (month == 12 || month <= 2)
        return "winter";
    if (month <= 5)
        return "spring";
    if (month <= 8)
        return "summer";
    return "autumn";
}

/* ======================== a seeded random stream ======================== */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double u01(uint64_t *s)
{
    return (double)(splitmix(s) >> 11) * (1.0 / 9007199254740992.0);
}

static double normal(uint64_t *s)
{
    double u = u01(s), v = u01(s);
    return sqrt(-2 * log(u > 0 ? u : 1e-300)) * cos(2 * M_PI * v);
}

static double expo(uint64_t *s, double mean)
{
    double u = u01(s);
    return -log(u > 0 ? u : 1e-300) * mean;
}

/* ======================== drawing the history ======================== */

static double product_weight(const struct product *p, int month)
{
    if (!p->peak)
        return 1;
    return 1 + p->amp * cos(2 * M_PI * (month - p->peak) / 12.0);
}

/* Month 1..12 of day `d` of the history (day 0 is HISTORY_DAYS before `end_day`). */
static int month_of(int64_t day0_ms, double d)
{
    char iso[CLOCK_ISO_LEN];
    clock_format_iso(day0_ms + (int64_t)(d * DAY_MS), iso);
    return (iso[5] - '0') * 10 + (iso[6] - '0');
}

static int pick_product(uint64_t *s, enum cat cat, int month)
{
    double total = 0;
    for (size_t i = 0; i < N_PRODUCTS; i++)
        if (products[i].cat == cat)
            total += product_weight(&products[i], month);
    double x = u01(s) * total;
    int last = 0;
    for (size_t i = 0; i < N_PRODUCTS; i++) {
        if (products[i].cat != cat)
            continue;
        last = (int)i;
        x -= product_weight(&products[i], month);
        if (x < 0)
            return (int)i;
    }
    return last;
}

static enum cat pick_category(uint64_t *s, int month)
{
    double w[N_CATS], total = 0;
    for (int c = 0; c < N_CATS; c++) {
        /* a category is as seasonal as its products on average */
        double pw = 0;
        int n = 0;
        for (size_t i = 0; i < N_PRODUCTS; i++)
            if (products[i].cat == (enum cat)c) {
                pw += product_weight(&products[i], month);
                n++;
            }
        w[c] = categories[c].popularity * (n ? pw / n : 1);
        total += w[c];
    }
    double x = u01(s) * total;
    for (int c = 0; c < N_CATS; c++) {
        x -= w[c];
        if (x < 0)
            return (enum cat)c;
    }
    return KAHVALTI;
}

struct customer {
    int city;
    double rate;    /* orders a day while active */
    double dropout; /* chance to stop after an order */
    double level;   /* spending level: more and larger items */
    double promo;   /* share of orders with a discount */
    enum cat fav[3];
    int n_fav;
    int staple; /* product index, -1: none */
    double cycle;
};

struct order {
    double day;
    bool staple;
};

static int cmp_order(const void *a, const void *b)
{
    double x = ((const struct order *)a)->day, y = ((const struct order *)b)->day;
    return (x > y) - (x < y);
}

static void draw_customer(uint64_t *s, struct customer *cu)
{
    double u = u01(s), acc = 0;
    cu->city = (int)N_CITIES - 1;
    for (size_t i = 0; i < N_CITIES; i++) {
        acc += cities[i].share;
        if (u < acc) {
            cu->city = (int)i;
            break;
        }
    }
    cu->rate = exp(log(1.0 / 32) + 0.75 * normal(s));
    cu->rate = fmin(fmax(cu->rate, 1.0 / 240), 1.0 / 5);
    double v = u01(s);
    cu->dropout = 0.02 + 0.3 * v * v;
    cu->level = exp(0.45 * normal(s));
    cu->promo = u01(s) < 0.3 ? 0.45 : 0.07;
    cu->n_fav = 2 + (u01(s) < 0.4);
    for (int i = 0; i < cu->n_fav; i++)
        cu->fav[i] = pick_category(s, 1 + (int)(u01(s) * 12));
    cu->staple = -1;
    if (u01(s) < 0.35) {
        int staples[N_PRODUCTS] = {0}, n = 0;
        for (size_t i = 0; i < N_PRODUCTS; i++)
            if (products[i].cycle)
                staples[n++] = (int)i;
        cu->staple = staples[(int)(u01(s) * n) % n];
        cu->cycle = products[cu->staple].cycle * (0.8 + 0.5 * u01(s));
        cu->fav[0] = products[cu->staple].cat;
    }
}

/* The days (from the history's start) of the customer's orders, sorted; returns how many. */
static int draw_orders(uint64_t *s, const struct customer *cu, int64_t day0_ms,
                       struct order out[ORDERS_MAX])
{
    int n = 0;
    /* a third were customers before the history starts; the others arrive during the year */
    double t = u01(s) < 0.33 ? u01(s) * fmin(1 / cu->rate, HISTORY_DAYS / 2.0)
                             : u01(s) * (HISTORY_DAYS - 7);
    double end = HISTORY_DAYS;
    bool alive = true;
    while (alive && t < HISTORY_DAYS && n < ORDERS_MAX) {
        out[n++] = (struct order){t, false};
        if (u01(s) < cu->dropout) {
            alive = false;
            end = fmin(HISTORY_DAYS, t + 1.5 / cu->rate);
            break;
        }
        /* thinning: a busier month shortens the wait */
        double gap;
        do {
            gap = expo(s, 1 / (cu->rate * 1.35));
        } while (u01(s) >
                     shop_season[month_of(day0_ms, fmin(t + gap, HISTORY_DAYS - 1)) - 1] / 1.35 &&
                 gap < HISTORY_DAYS);
        t += gap;
    }
    if (cu->staple >= 0 && n) {
        double st = out[0].day + cu->cycle * (0.5 + 0.5 * u01(s));
        while (st < end && n < ORDERS_MAX) {
            out[n++] = (struct order){st, true};
            st += cu->cycle * (0.85 + 0.3 * u01(s));
        }
    }
    qsort(out, (size_t)n, sizeof(*out), cmp_order);
    return n;
}

static int money(struct buf *b, int64_t kurus)
{
    return buf_appendf(b, "\"%lld.%02lld\"", (long long)(kurus / 100), (long long)(kurus % 100));
}

static int item(struct buf *b, bool first, int p, int qty, bool discounted)
{
    int64_t price = products[p].price;
    if (discounted)
        price = price * 85 / 100;
    int rc = buf_appendf(b, "%s{\"product_external_id\":\"%s\",\"quantity\":%d,\"unit_price\":",
                         first ? "" : ",", products[p].ext, qty);
    if (!rc)
        rc = money(b, price);
    if (!rc && discounted)
        rc = buf_appends(b, ",\"list_price\":");
    if (!rc && discounted)
        rc = money(b, products[p].price);
    if (!rc)
        rc = buf_appends(b, "}");
    return rc;
}

/* One customer's line and order lines; `orders` has room for ORDERS_MAX. ERR_TOO_LARGE. */
static int draw_history(uint64_t seed, int idx, int64_t day0_ms, int64_t end_ms,
                        struct order *orders, struct buf *cust, struct buf *ord,
                        struct demo_shop_result *res)
{
    uint64_t s = seed ^ (0xA24BAED4963EE407ULL * (uint64_t)(idx + 1));
    (void)splitmix(&s);
    struct customer cu;
    draw_customer(&s, &cu);
    int year = 1960 + (int)(u01(&s) * 45), bm = 1 + (int)(u01(&s) * 12),
        bd = 1 + (int)(u01(&s) * 28);
    int rc = buf_appendf(cust,
                         "{\"external_id\":\"shop-c%05d\",\"email\":\"musteri%05d@ornek.test\","
                         "\"phone\":\"+90532%07d\",\"birth_date\":\"%04d-%02d-%02d\","
                         "\"gender\":\"%s\",\"city_external_id\":\"%s\"}\n",
                         idx + 1, idx + 1, idx + 1, year, bm, bd, u01(&s) < 0.55 ? "F" : "M",
                         cities[cu.city].ext);
    int n = draw_orders(&s, &cu, day0_ms, orders);
    for (int k = 0; !rc && k < n; k++) {
        int64_t at = day0_ms + (int64_t)(orders[k].day * DAY_MS);
        /* shopping hours, 08:00 to 23:00 */
        at = at - at % DAY_MS + (8 * 3600 + (int64_t)(u01(&s) * 15 * 3600)) * 1000LL;
        if (at > end_ms)
            at = end_ms - (int64_t)(u01(&s) * 3600000);
        char iso[CLOCK_ISO_LEN];
        clock_format_iso(at, iso);
        int month = (iso[5] - '0') * 10 + (iso[6] - '0');
        double st = u01(&s);
        const char *status = st < 0.03 ? "cancelled" : st < 0.05 ? "refunded" : "paid";
        bool discounted = u01(&s) < cu.promo;
        rc = buf_appendf(ord,
                         "{\"external_id\":\"shop-o%05d-%03d\",\"customer_external_id\":"
                         "\"shop-c%05d\",\"created_at\":\"%s\",\"currency\":\"" CURRENCY "\","
                         "\"status\":\"%s\",\"items\":[",
                         idx + 1, k + 1, idx + 1, iso, status);
        int items = 0;
        if (!rc && orders[k].staple) {
            rc = item(ord, true, cu.staple, 1, discounted);
            items++;
        }
        int extra = orders[k].staple ? (u01(&s) < 0.3)
                                     : 1 + (u01(&s) < 0.45 * cu.level) + (u01(&s) < 0.2 * cu.level);
        for (int x = 0; !rc && x < extra && x < 4; x++) {
            enum cat c = u01(&s) < 0.8 ? cu.fav[(int)(u01(&s) * cu.n_fav) % cu.n_fav]
                                       : pick_category(&s, month);
            int p = pick_product(&s, c, month);
            int qty = 1 + (u01(&s) < 0.2 * cu.level);
            rc = item(ord, items == 0, p, qty, discounted);
            items++;
        }
        if (!rc)
            rc = buf_appends(ord, "]}\n");
        res->items += items;
        res->orders++;
    }
    return rc;
}

/* ======================== HTTP ======================== */

/*
 * One call: `body` (NULL: none) sent with `ctype`; *out (may be NULL) gets the parsed answer.
 * Fails with ERR_UPSTREAM unless the status is `ok` (or 201/202 for a 200).
 */
static int call(const struct demo_shop_opts *o, const char *method, const char *path,
                const char *ctype, const char *body, size_t len, long ok, json_t **out,
                struct err *e)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", o->url, path);
    struct httpc_header h[] = {{"Authorization", o->auth},
                               {"Content-Type", ctype ? ctype : "application/json"},
                               {"Accept", "application/json"}};
    struct httpc_request req = {.method = method,
                                .url = url,
                                .headers = h,
                                .nheaders = 3,
                                .body = body,
                                .body_len = len,
                                .timeout_ms = 300000};
    struct httpc_response r;
    httpc_response_init(&r);
    if (out)
        *out = NULL;
    int rc = httpc_do(&req, &r, e);
    if (!rc && r.status != ok) {
        json_t *j = json_loads(buf_str(&r.body), 0, NULL);
        const char *msg =
            json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        rc = err_set(e, ERR_UPSTREAM, "%s %s: HTTP %ld%s%s", method, path, r.status,
                     msg ? ": " : "", msg ? msg : "");
        json_decref(j);
    }
    if (!rc && out)
        *out = json_loads(buf_str(&r.body), 0, NULL);
    httpc_response_release(&r);
    return rc;
}

static int json_call(const struct demo_shop_opts *o, const char *method, const char *path,
                     json_t *body, long ok, json_t **out, struct err *e)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    int rc = call(o, method, path, NULL, text, text ? strlen(text) : 0, ok, out, e);
    free(text);
    return rc;
}

static int import(const struct demo_shop_opts *o, const char *kind, const struct buf *b,
                  struct err *e)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/import/%s?source=" SOURCE, kind);
    json_t *j = NULL;
    int rc = call(o, "POST", path, "application/x-ndjson", buf_str(b), b->len, 200, &j, e);
    if (!rc && json_integer_value(json_object_get(j, "rejected")) > 0) {
        json_t *r0 = json_array_get(json_object_get(j, "rejects"), 0);
        rc = err_set(e, ERR_UPSTREAM, "import of %s: %lld lines refused, line %lld: %s", kind,
                     (long long)json_integer_value(json_object_get(j, "rejected")),
                     (long long)json_integer_value(json_object_get(r0, "line")),
                     json_string_value(json_object_get(r0, "reason")));
    }
    json_decref(j);
    return rc;
}

/* The cities with their climate; a city already there (by external id) keeps its id. */
static int seed_cities(const struct demo_shop_opts *o, struct err *e)
{
    json_t *list = NULL;
    int rc = json_call(o, "GET", "/api/cities?limit=200", NULL, 200, &list, e);
    for (size_t i = 0; !rc && i < N_CITIES; i++) {
        const struct city *c = &cities[i];
        const char *id = NULL;
        size_t k;
        json_t *row;
        json_array_foreach(json_object_get(list, "cities"), k, row)
        {
            const char *ext = json_string_value(json_object_get(row, "external_id"));
            if (ext && strcmp(ext, c->ext) == 0)
                id = json_string_value(json_object_get(row, "id"));
        }
        json_t *made = NULL;
        if (!id) {
            rc = json_call(o, "POST", "/api/cities",
                           json_pack("{s:s, s:s, s:s, s:s, s:f, s:f}", "source", SOURCE,
                                     "external_id", c->ext, "country_code", "TR", "name", c->name,
                                     "latitude", c->lat, "longitude", c->lng),
                           201, &made, e);
            id = json_string_value(json_object_get(made, "id"));
            if (!rc && !id)
                rc = err_set(e, ERR_UPSTREAM, "POST /api/cities answered no id");
        }
        json_t *months = json_array();
        for (int m = 0; m < 12; m++)
            json_array_append_new(months, json_pack("{s:i, s:f, s:f, s:s}", "month", m + 1,
                                                    "avg_temp_c", c->temp[m], "rainfall_mm",
                                                    c->rain[m], "season_tag", season_tag(m + 1)));
        char path[256];
        snprintf(path, sizeof(path), "/api/cities/%s/climate", id ? id : "");
        if (!rc)
            rc = json_call(o, "PUT", path, json_pack("{s:o}", "months", months), 200, NULL, e);
        else
            json_decref(months);
        json_decref(made);
    }
    json_decref(list);
    return rc;
}

static int wait_job(const struct demo_shop_opts *o, int64_t job, struct err *e)
{
    char path[64];
    snprintf(path, sizeof(path), "/api/jobs/%lld", (long long)job);
    int64_t deadline = clock_mono_ms() + BATCH_WAIT_MS;
    for (;;) {
        json_t *j = NULL;
        int rc = json_call(o, "GET", path, NULL, 200, &j, e);
        if (rc)
            return rc;
        const char *state = json_string_value(json_object_get(j, "state"));
        if (state && strcmp(state, "done") == 0) {
            json_decref(j);
            return 0;
        }
        if (state && strcmp(state, "dead") == 0) {
            const char *why = json_string_value(json_object_get(j, "last_error"));
            rc = err_set(e, ERR_UPSTREAM, "the profile batch (job %lld) failed: %s", (long long)job,
                         why ? why : "no reason given");
            json_decref(j);
            return rc;
        }
        json_decref(j);
        if (clock_mono_ms() > deadline)
            return err_set(e, ERR_TIMEOUT, "the profile batch (job %lld) did not end within %d s",
                           (long long)job, BATCH_WAIT_MS / 1000);
        usleep(200 * 1000);
    }
}

/* Personal campaigns for the first customers, so their pages show the decision log. */
static int plan_campaigns(const struct demo_shop_opts *o, struct demo_shop_result *res,
                          struct err *e)
{
    json_t *list = NULL;
    char path[64];
    snprintf(path, sizeof(path), "/api/customers?limit=%d", CAMPAIGNS);
    int rc = json_call(o, "GET", path, NULL, 200, &list, e);
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(list, "customers"), i, row)
    {
        if (rc)
            break;
        const char *id = json_string_value(json_object_get(row, "id"));
        if (!id)
            continue;
        rc = json_call(o, "POST", "/api/campaigns/generate/personal",
                       json_pack("{s:s}", "customerId", id), 200, NULL, e);
        if (!rc)
            res->campaigns++;
    }
    json_decref(list);
    return rc;
}

static bool already_seeded(const struct demo_shop_opts *o, struct err *e, int *rc)
{
    json_t *j = NULL;
    *rc = json_call(o, "GET", "/api/intel/segments", NULL, 200, &j, e);
    bool seeded = !*rc && json_is_integer(json_object_get(j, "batch_id"));
    json_decref(j);
    return seeded;
}

int demo_shop_seed(const struct demo_shop_opts *o, struct demo_shop_result *res, struct err *e)
{
    memset(res, 0, sizeof(*res));
    int64_t t0 = clock_mono_ms();
    int rc = 0;
    if (already_seeded(o, e, &rc) || rc) {
        res->skipped = !rc;
        return rc;
    }
    int64_t end_ms = o->now_ms;
    int64_t day0_ms = end_ms - end_ms % DAY_MS - (int64_t)HISTORY_DAYS * DAY_MS;
    struct buf prod, cust, ord;
    buf_init(&prod, IMPORT_MAX);
    buf_init(&cust, IMPORT_MAX);
    buf_init(&ord, IMPORT_MAX);
    for (size_t i = 0; !rc && i < N_PRODUCTS; i++) {
        const struct product *p = &products[i];
        rc = buf_appendf(&prod,
                         "{\"external_id\":\"%s\",\"name\":\"%s\",\"category_external_id\":\"%s\","
                         "\"category_name\":\"%s\",\"price\":",
                         p->ext, p->name, categories[p->cat].ext, categories[p->cat].name);
        if (!rc)
            rc = money(&prod, p->price);
        if (!rc)
            rc = buf_appends(&prod, ",\"currency\":\"" CURRENCY "\",\"stock\":500}\n");
    }
    if (rc)
        rc = err_set(e, ERR_TOO_LARGE, "the shop's products are too large");
    struct order *orders = rc ? NULL : malloc(ORDERS_MAX * sizeof(*orders));
    if (!rc && !orders)
        rc = err_set(e, ERR_NOMEM, "out of memory");
    for (int i = 0; !rc && i < o->customers; i++)
        if (draw_history(o->seed, i, day0_ms, end_ms, orders, &cust, &ord, res))
            rc = err_set(e, ERR_TOO_LARGE, "the shop's import is larger than %u bytes", IMPORT_MAX);
    free(orders);
    res->customers = o->customers;
    res->products = (int)N_PRODUCTS;
    if (!rc)
        rc = seed_cities(o, e);
    if (!rc)
        rc = import(o, "products", &prod, e);
    if (!rc)
        rc = import(o, "customers", &cust, e);
    if (!rc)
        rc = import(o, "orders", &ord, e);
    buf_release(&prod);
    buf_release(&cust);
    buf_release(&ord);
    int64_t t1 = clock_mono_ms();
    res->import_s = (double)(t1 - t0) / 1000;
    json_t *j = NULL;
    if (!rc)
        rc = json_call(o, "POST", "/api/profiles/recompute", json_object(), 202, &j, e);
    if (!rc)
        rc = wait_job(o, json_integer_value(json_object_get(j, "job_id")), e);
    json_decref(j);
    res->profiles_s = (double)(clock_mono_ms() - t1) / 1000;
    if (!rc)
        rc = plan_campaigns(o, res, e);
    res->total_s = (double)(clock_mono_ms() - t0) / 1000;
    return rc;
}
