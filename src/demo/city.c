/* SPDX-License-Identifier: MIT */
/*
 * The demo city: neighbourhoods with real coordinates, sellers and buyers drawn from the seed,
 * the per-person plan of wishes and seller reports (each person has their own random stream,
 * so the plan does not depend on how long a run lasts), and the behaviour model.
 */
#include "demo/city.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const demo_cat_names[] = {"coffee", "bakery", "dessert", "restaurant", NULL};
const char *const demo_price_names[] = {"low", "balanced", "premium", NULL};

/* In the order a growing city fills them. */
const struct demo_hood demo_hoods[] = {
    {"Moda", "Kadıköy", 40.98640, 29.02640},
    {"Kadıköy Çarşı", "Kadıköy", 40.99060, 29.02500},
    {"Beşiktaş Çarşı", "Beşiktaş", 41.04290, 29.00690},
    {"Üsküdar Meydanı", "Üsküdar", 41.02630, 29.01540},
    {"Şişli", "Şişli", 41.06010, 28.98770},
    {"Cihangir", "Beyoğlu", 41.03150, 28.98290},
    {"Nişantaşı", "Şişli", 41.05210, 28.99370},
    {"Bağdat Caddesi", "Kadıköy", 40.96620, 29.06230},
    {"Yeldeğirmeni", "Kadıköy", 40.99500, 29.03050},
    {"Kuzguncuk", "Üsküdar", 41.03660, 29.03190},
};
#define N_HOODS ((int)(sizeof(demo_hoods) / sizeof(demo_hoods[0])))

/* Short names for shop signs. */
static const char *const hood_short[N_HOODS] = {"Moda",         "Kadıköy",  "Beşiktaş",  "Üsküdar",
                                                "Şişli",        "Cihangir", "Nişantaşı", "Bağdat",
                                                "Yeldeğirmeni", "Kuzguncuk"};

/* Shop signs: what comes before and after the neighbourhood's name. */
static const char *const shop_names[DEMO_N_CATS][4][2] = {
    {{"", " Kahve Evi"}, {"Kahve Durağı ", ""}, {"", " Espresso Bar"}, {"Çekirdek ", ""}},
    {{"", " Fırını"}, {"", " Simit Sarayı"}, {"Taze Fırın ", ""}, {"", " Pastanesi"}},
    {{"", " Tatlıcısı"}, {"", " Baklavacısı"}, {"Dondurmacı ", ""}, {"", " Muhallebicisi"}},
    {{"", " Lokantası"}, {"", " Döner"}, {"Esnaf Lokantası ", ""}, {"", " Pide Salonu"}},
};

static const char *const first_names[] = {
    "Ayşe",  "Mehmet", "Zeynep", "Can",   "Elif",  "Emre",    "Deniz", "Burak", "Selin",
    "Mert",  "Ece",    "Cem",    "Defne", "Kerem", "Naz",     "Barış", "İrem",  "Onur",
    "Melis", "Efe",    "Berkin", "Ceren", "Oğuz",  "Yasemin", "Tolga", "Pınar", "Arda",
    "Gizem", "Serkan", "Buse",   "Hakan", "Derya", "Kaan",    "Sevgi", "Umut",  "Aslı"};
#define N_FIRST ((int)(sizeof(first_names) / sizeof(first_names[0])))

/* Wishes as buyers write them; each is understood as demand in its category. */
static const char *const wishes[DEMO_N_CATS][7] = {
    {"Latte istiyorum", "Uygun fiyatlı kahve arıyorum", "Bir filtre kahve lazım",
     "Türk kahvesi içmek istiyorum", "Cappuccino lazım", "50 TL'ye kahve", NULL},
    {"Simit lazım", "Kahvaltılık poğaça", "Taze ekmek arıyorum", "Açma istiyorum",
     "Börek istiyorum", "Kruvasan arıyorum", "Tost lazım"},
    {"tatlı bir şey olsa", "Baklava istiyorum", "Sütlaç canım çekti", "Dondurma arıyorum",
     "Künefe istiyorum", "Profiterol olsa", NULL},
    {"Döner istiyorum", "Lahmacun yemek istiyorum", "Ev yemeği arıyorum",
     "Mercimek çorbası içmek istiyorum", NULL, NULL, NULL},
};

static const char *const idle_texts[] = {"Bu saat boşum", "Yoğunluk düşük",
                                         "Dükkan boş, müşteri bekliyoruz", "Şu an sakiniz"};
static const char *const busy_texts[] = {"Çok yoğunuz", "Şu an çok kalabalık"};
/* text, product */
static const char *const surplus[DEMO_N_CATS][2][2] = {
    {{"Stok fazlası kurabiye var", "kurabiye"}, {"Fazla kruvasan kaldı", "kruvasan"}},
    {{"Stok fazlası simit var", "simit"}, {"Stok fazlası poğaça var", "poğaça"}},
    {{"Stok fazlası baklava var", "baklava"}, {"Elimizde fazla sütlaç var", "sütlaç"}},
    {{"Stok fazlası döner var", "döner"}, {"Fazla mercimek çorbası kaldı", "çorba"}},
};

/* ======================== randomness ======================== */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* splitmix64: a small, well-mixed stream. */
static uint64_t next64(uint64_t *s)
{
    *s += 0x9E3779B97F4A7C15ULL;
    return mix64(*s);
}

static double unit(uint64_t *s)
{
    return (double)(next64(s) >> 11) * (1.0 / 9007199254740992.0);
}

static int pick(uint64_t *s, int n)
{
    return (int)(unit(s) * n);
}

static double uniform(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * unit(s);
}

static double exponential(uint64_t *s, double mean)
{
    return -mean * log(1.0 - unit(s));
}

double demo_u01(uint64_t seed, uint64_t tag, uint64_t a, uint64_t b)
{
    uint64_t z = mix64(seed ^ 0xD1B54A32D192ED03ULL);
    z = mix64(z ^ tag);
    z = mix64(z ^ (a * 0x9E3779B97F4A7C15ULL));
    z = mix64(z ^ (b + 0x632BE59BD9B4E019ULL));
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

/* ======================== geometry and behaviour ======================== */

double demo_distance_m(double lat1, double lng1, double lat2, double lng2)
{
    const double r = 6371000.0, rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlng = (lng2 - lng1) * rad;
    double h = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlng / 2) * sin(dlng / 2);
    return 2 * r * asin(fmin(1.0, sqrt(h)));
}

/* A point `m` metres at most from (lat, lng), uniform over the disc. */
static void scatter(uint64_t *s, double lat, double lng, double m, double *olat, double *olng)
{
    double r = m * sqrt(unit(s)), a = uniform(s, 0, 2 * M_PI);
    *olat = lat + r * sin(a) / 111320.0;
    *olng = lng + r * cos(a) / (111320.0 * cos(lat * M_PI / 180.0));
}

double demo_attraction(enum demo_price p, int discount)
{
    /* at full price: price-sensitive buyers rarely go, premium ones more often; a discount
     * moves the price-sensitive most */
    static const double base[] = {0.15, 0.25, 0.35};
    static const double gain[] = {3.0, 2.2, 1.2};
    double v = base[p] + gain[p] * (double)discount / 100.0;
    return v > 0.95 ? 0.95 : v;
}

double demo_walk_factor(double d)
{
    double f = 1.0 - d / 1500.0;
    return f < 0.1 ? 0.1 : (f > 1.0 ? 1.0 : f);
}

double demo_walk_s(double d, double u)
{
    /* the engine's walking model (80 m/min, detour 1.3): 0.975 s a metre, plus setting off */
    return 15 + d * 1.3 / 80.0 * 60.0 + 30 * u;
}

int demo_nearest_seller(const struct demo_city *c, int b, enum demo_cat cat, double *dist)
{
    int best = -1;
    double bd = 0;
    for (int i = 0; i < c->n_sellers; i++) {
        if (c->sellers[i].cat != cat)
            continue;
        double d = demo_distance_m(c->buyers[b].lat, c->buyers[b].lng, c->sellers[i].lat,
                                   c->sellers[i].lng);
        if (best < 0 || d < bd) {
            best = i;
            bd = d;
        }
    }
    *dist = bd;
    return best;
}

/* ======================== the city ======================== */

static void make_seller(struct demo_city *c, int i, uint64_t *s)
{
    struct demo_seller *x = &c->sellers[i];
    int hood = i % c->n_hoods, slot = i / c->n_hoods;
    x->hood = hood;
    x->cat = (enum demo_cat)((slot + hood) % DEMO_N_CATS);
    snprintf(x->id, sizeof(x->id), "demo-s%03d", i + 1);
    /* country code 999 is unassigned (ITU-T E.164): no demo number can reach a person */
    snprintf(x->phone, sizeof(x->phone), "+9991%07d", 5550000 + i + 1);
    char name[64];
    const char *const *sign = shop_names[x->cat][(slot + pick(s, 2)) % 4];
    snprintf(name, sizeof(name), "%s%s%s", sign[0], hood_short[hood], sign[1]);
    if (slot >= 4)
        snprintf(x->name, sizeof(x->name), "%s %d", name, slot / 4 + 1);
    else
        snprintf(x->name, sizeof(x->name), "%s", name);
    scatter(s, demo_hoods[hood].lat, demo_hoods[hood].lng, 250, &x->lat, &x->lng);
    x->capacity = 4 + pick(s, 5);
    x->max_discount = 20 + 5 * pick(s, 3);
    x->auto_approve = unit(s) < 0.6;
    static const int64_t lo[] = {6000, 1500, 8000, 15000};
    x->price_min = lo[x->cat];
    x->price_max = lo[x->cat] * (2 + pick(s, 2));
}

static void make_buyer(struct demo_city *c, int i, uint64_t *s)
{
    struct demo_buyer *b = &c->buyers[i];
    /* neighbourhoods with more shops have more people around */
    const struct demo_seller *near = &c->sellers[pick(s, c->n_sellers)];
    b->hood = near->hood;
    snprintf(b->id, sizeof(b->id), "demo-b%04d", i + 1);
    snprintf(b->phone, sizeof(b->phone), "+9992%07d", 7000000 + i + 1);
    snprintf(b->name, sizeof(b->name), "%s", first_names[pick(s, N_FIRST)]);
    scatter(s, demo_hoods[b->hood].lat, demo_hoods[b->hood].lng, 850, &b->lat, &b->lng);
    double u = unit(s);
    b->price = u < 0.35 ? DEMO_PRICE_LOW : (u < 0.8 ? DEMO_PRICE_BALANCED : DEMO_PRICE_PREMIUM);
    b->cats[0] = near->cat;
    b->n_cats = 1;
    if (unit(s) < 0.5) {
        enum demo_cat other = (enum demo_cat)pick(s, DEMO_N_CATS);
        if (other != b->cats[0])
            b->cats[b->n_cats++] = other;
    }
    b->reliability = uniform(s, 0.6, 0.95);
}

int demo_city_init(struct demo_city *c, uint64_t seed, int n_sellers, int n_buyers, struct err *e)
{
    memset(c, 0, sizeof(*c));
    if (n_sellers < 1 || n_sellers > DEMO_MAX_SELLERS)
        return err_set(e, ERR_INVALID, "--sellers must be 1..%d", DEMO_MAX_SELLERS);
    if (n_buyers < 1 || n_buyers > DEMO_MAX_BUYERS)
        return err_set(e, ERR_INVALID, "--buyers must be 1..%d", DEMO_MAX_BUYERS);
    c->seed = seed;
    c->n_sellers = n_sellers;
    c->n_buyers = n_buyers;
    c->n_hoods = (2 * n_sellers + 4) / 5;
    if (c->n_hoods < 1)
        c->n_hoods = 1;
    if (c->n_hoods > N_HOODS)
        c->n_hoods = N_HOODS;
    size_t actors = (size_t)n_sellers + (size_t)n_buyers;
    c->sellers = calloc((size_t)n_sellers, sizeof(*c->sellers));
    c->buyers = calloc((size_t)n_buyers, sizeof(*c->buyers));
    c->rng = calloc(actors, sizeof(*c->rng));
    c->next_t = calloc(actors, sizeof(*c->next_t));
    if (!c->sellers || !c->buyers || !c->rng || !c->next_t) {
        demo_city_free(c);
        return err_set(e, ERR_NOMEM, "out of memory for the demo city");
    }
    uint64_t s = mix64(seed ^ 0xC17C17C17ULL);
    for (int i = 0; i < n_sellers; i++)
        make_seller(c, i, &s);
    for (int i = 0; i < n_buyers; i++)
        make_buyer(c, i, &s);
    /* first events: most shops report early, buyers wish over the first five minutes */
    for (size_t a = 0; a < actors; a++) {
        c->rng[a] = mix64(seed + 0x5EED0000ULL + a * 0x9E3779B97F4A7C15ULL);
        if ((int)a < n_sellers)
            c->next_t[a] = unit(&c->rng[a]) < 0.75 ? uniform(&c->rng[a], 0, 120)
                                                   : uniform(&c->rng[a], 120, 900);
        else
            c->next_t[a] = uniform(&c->rng[a], 0, 300);
    }
    return 0;
}

void demo_city_free(struct demo_city *c)
{
    free(c->sellers);
    free(c->buyers);
    free(c->rng);
    free(c->next_t);
    memset(c, 0, sizeof(*c));
}

static size_t earliest(const struct demo_city *c)
{
    size_t n = (size_t)c->n_sellers + (size_t)c->n_buyers, best = 0;
    for (size_t a = 1; a < n; a++) {
        if (c->next_t[a] < c->next_t[best])
            best = a;
    }
    return best;
}

double demo_city_peek(const struct demo_city *c)
{
    return c->next_t[earliest(c)];
}

void demo_city_next(struct demo_city *c, struct demo_event *ev)
{
    size_t a = earliest(c);
    uint64_t *s = &c->rng[a];
    memset(ev, 0, sizeof(*ev));
    ev->t = c->next_t[a];
    ev->product = "";
    if ((int)a < c->n_sellers) {
        const struct demo_seller *x = &c->sellers[a];
        ev->actor = (int)a;
        ev->cat = x->cat;
        double u = unit(s);
        if (u < 0.55) {
            ev->kind = DEMO_EV_IDLE;
            ev->text = idle_texts[pick(s, 4)];
        } else if (u < 0.92) {
            ev->kind = DEMO_EV_SURPLUS;
            int k = pick(s, 2);
            ev->text = surplus[x->cat][k][0];
            ev->product = surplus[x->cat][k][1];
        } else {
            ev->kind = DEMO_EV_BUSY;
            ev->text = busy_texts[pick(s, 2)];
        }
        ev->via_panel = ev->kind != DEMO_EV_BUSY && unit(s) < 0.25;
        /* reports come roughly every twenty minutes */
        c->next_t[a] += 300 + exponential(s, 1200);
        return;
    }
    int b = (int)a - c->n_sellers;
    const struct demo_buyer *y = &c->buyers[b];
    ev->kind = DEMO_EV_WISH;
    ev->actor = b;
    ev->cat = y->cats[pick(s, y->n_cats)];
    int n = 0;
    while (n < 7 && wishes[ev->cat][n])
        n++;
    ev->text = wishes[ev->cat][pick(s, n)];
    /* a wish lasts an hour on the server; people wish again now and then */
    c->next_t[a] += 600 + exponential(s, 1800);
}
