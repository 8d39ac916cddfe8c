/* SPDX-License-Identifier: MIT */
/*
 * The statistical layer of understanding (understand_model.h): hashed character 2-5-grams of the
 * ASCII-folded text (with start and end marks), words and word pairs, trained as a multinomial
 * logistic regression by plain SGD in a fixed shuffled order with a fixed schedule; its softmax
 * temperature is chosen by 3-fold cross-validation on the training split, so the stated
 * probabilities are calibrated without looking at the blind split. Tests:
 * tests/unit/domain/test_understand.c.
 */
#include "domain/understand/understand_model.h"
#include "core/xalloc.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const char *const understand_model_categories[] = {
    "coffee", "bakery", "restaurant", "dessert", "grocery", "butcher", "barber", NULL,
};
#define N_CATEGORIES 7

#define EPOCHS     30
#define LR0        1.0
#define L2         1e-5
#define FEAT_MAX   512
#define TEXT_BYTES (UNDERSTAND_TEXT_MAX * 2)
#define FOLDS      3

int understand_intent_find(const char *name)
{
    for (int i = 0; understand_intent_names[i]; i++)
        if (strcmp(understand_intent_names[i], name) == 0)
            return i;
    return -1;
}

int understand_role_find(const char *name)
{
    for (int i = 0; understand_role_names[i]; i++)
        if (strcmp(understand_role_names[i], name) == 0)
            return i;
    return -1;
}

static int category_find(const char *name)
{
    for (int i = 0; understand_model_categories[i]; i++)
        if (strcmp(understand_model_categories[i], name) == 0)
            return i;
    return -1;
}

/* Which intents a sender of `role` can have. */
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

/* ================================ features ================================ */

struct feats {
    uint32_t idx[FEAT_MAX];
    int n;
};

static uint32_t fnv(uint32_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static void feat_add(struct feats *f, char kind, const char *s, size_t n)
{
    if (f->n >= FEAT_MAX)
        return;
    uint32_t h = fnv(2166136261u, &kind, 1);
    h = fnv(h, s, n);
    f->idx[f->n++] = h % UNDERSTAND_MODEL_BUCKETS;
}

/* Features of folded text: "\x02text\x03" character 2..5-grams, words, word pairs, length. */
static void featurise(const char *folded, struct feats *f)
{
    char buf[TEXT_BYTES + 3];
    size_t len = strlen(folded);
    if (len > TEXT_BYTES)
        len = TEXT_BYTES;
    buf[0] = '\x02';
    memcpy(buf + 1, folded, len);
    buf[len + 1] = '\x03';
    size_t n = len + 2;
    f->n = 0;
    for (size_t k = 2; k <= 5; k++)
        for (size_t i = 0; i + k <= n; i++)
            feat_add(f, (char)('0' + k), buf + i, k);
    /* words and pairs */
    size_t ws[64], we[64];
    int nw = 0;
    for (size_t i = 0; i < len && nw < 64;) {
        while (i < len && folded[i] == ' ')
            i++;
        if (i >= len)
            break;
        ws[nw] = i;
        while (i < len && folded[i] != ' ')
            i++;
        we[nw++] = i;
    }
    for (int i = 0; i < nw; i++) {
        feat_add(f, 'w', folded + ws[i], we[i] - ws[i]);
        if (i + 1 < nw)
            feat_add(f, 'p', folded + ws[i], we[i + 1] - ws[i]);
    }
    char nwc = (char)('0' + (nw > 6 ? 6 : nw));
    feat_add(f, 'n', &nwc, 1);
}

/* ================================ the model ================================ */

static void scores(const struct understand_model *m, const struct feats *f, const bool *allowed,
                   double temp, double *p)
{
    double scale = f->n ? 1.0 / sqrt((double)f->n) : 0;
    double max = -INFINITY;
    for (int c = 0; c < m->n_class; c++) {
        if (!allowed[c]) {
            p[c] = -INFINITY;
            continue;
        }
        double s = m->bias[c];
        for (int i = 0; i < f->n; i++)
            s += scale * m->w[(size_t)f->idx[i] * (size_t)m->n_class + (size_t)c];
        p[c] = s / temp;
        if (p[c] > max)
            max = p[c];
    }
    double z = 0;
    for (int c = 0; c < m->n_class; c++) {
        p[c] = allowed[c] ? exp(p[c] - max) : 0;
        z += p[c];
    }
    for (int c = 0; c < m->n_class; c++)
        p[c] = z > 0 ? p[c] / z : 0;
}

/* One example ready for training: features, label, allowed classes. */
struct example {
    struct feats f;
    int label;
    bool allowed[UNDERSTAND_INTENT_COUNT];
};

static int examples_make(const struct understand_row *rows, size_t n, bool category,
                         struct example **out, size_t *n_out, struct err *e)
{
    struct example *ex = xcalloc(n ? n : 1, sizeof(*ex));
    size_t k = 0;
    char *folded = xmalloc(TEXT_BYTES + 1);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        int role = understand_role_find(rows[i].role);
        int intent = understand_intent_find(rows[i].intent);
        int cat = strcmp(rows[i].category, "-") == 0 ? -2 : category_find(rows[i].category);
        if (role < 0 || intent < 0 || cat == -1) {
            rc =
                err_set(e, ERR_INVALID, "corpus row %zu (\"%s\"): unknown role, intent or category",
                        i + 1, rows[i].text);
            goto out;
        }
        if (category && cat < 0)
            continue;
        rc = understand_normalise(rows[i].text, folded, TEXT_BYTES + 1, e);
        if (rc)
            goto out;
        struct example *x = &ex[k++];
        featurise(folded, &x->f);
        x->label = category ? cat : intent;
        for (int c = 0; c < (category ? N_CATEGORIES : UNDERSTAND_INTENT_COUNT); c++)
            x->allowed[c] = category || role_allows((enum understand_role)role, c);
    }
out:
    free(folded);
    if (rc) {
        free(ex);
        return rc;
    }
    *out = ex;
    *n_out = k;
    return 0;
}

/*
 * SGD over the examples whose index % FOLDS != skip_fold (all when skip_fold < 0), in an order
 * shuffled each epoch by a fixed pseudo-random stream (deterministic). LR0 was chosen by the 5-fold
 * cross-validation in the unit test, on the training split only; EPOCHS is the fewest that lost
 * nothing on it (training runs at first use, inside the caller's transaction).
 */
static void fit(struct understand_model *m, const struct example *ex, size_t n, int skip_fold)
{
    size_t wn = (size_t)UNDERSTAND_MODEL_BUCKETS * (size_t)m->n_class;
    memset(m->w, 0, wn * sizeof(float));
    memset(m->bias, 0, (size_t)m->n_class * sizeof(float));
    double p[UNDERSTAND_INTENT_COUNT];
    size_t *order = xmalloc((n ? n : 1) * sizeof(*order));
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    uint64_t seed = 88172645463325252ULL; /* a fixed xorshift stream: the same order every run */
    for (int ep = 0; ep < EPOCHS; ep++) {
        double lr = LR0 / (1.0 + 0.1 * ep);
        for (size_t i = n; i > 1; i--) { /* the corpus is grouped by intent: shuffle each epoch */
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            size_t j = (size_t)(seed % i);
            size_t t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        for (size_t oi = 0; oi < n; oi++) {
            size_t i = order[oi];
            if (skip_fold >= 0 && (int)(i % FOLDS) == skip_fold)
                continue;
            const struct example *x = &ex[i];
            scores(m, &x->f, x->allowed, 1.0, p);
            double scale = x->f.n ? 1.0 / sqrt((double)x->f.n) : 0;
            for (int c = 0; c < m->n_class; c++) {
                if (!x->allowed[c])
                    continue;
                double g = p[c] - (c == x->label ? 1.0 : 0.0);
                m->bias[c] -= (float)(lr * g);
                if (g > -1e-3 && g < 1e-3)
                    continue; /* a class already ruled out: the update would be noise */
                for (int j = 0; j < x->f.n; j++) {
                    float *w = &m->w[(size_t)x->f.idx[j] * (size_t)m->n_class + (size_t)c];
                    *w -= (float)(lr * (g * scale + L2 * *w));
                }
            }
        }
    }
    free(order);
}

/* Negative log-likelihood of the held-out folds' labels at each temperature. */
static double choose_temperature(struct understand_model *m, const struct example *ex, size_t n)
{
    static const double temps[] = {0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.35,
                                   1.5, 1.7, 2.0, 2.3, 2.6, 3.0, 3.5, 4.0};
    enum { NT = sizeof(temps) / sizeof(temps[0]) };
    double nll[NT] = {0};
    double p[UNDERSTAND_INTENT_COUNT];
    for (int fold = 0; fold < FOLDS; fold++) {
        fit(m, ex, n, fold);
        for (size_t i = (size_t)fold; i < n; i += FOLDS)
            for (int t = 0; t < NT; t++) {
                scores(m, &ex[i].f, ex[i].allowed, temps[t], p);
                nll[t] -= log(p[ex[i].label] > 1e-12 ? p[ex[i].label] : 1e-12);
            }
    }
    int best = 0;
    for (int t = 1; t < NT; t++)
        if (nll[t] < nll[best])
            best = t;
    return temps[best];
}

int understand_model_train(struct understand_model *m, const struct understand_row *rows, size_t n,
                           bool category, struct err *e)
{
    memset(m, 0, sizeof(*m));
    struct example *ex;
    size_t nex;
    int rc = examples_make(rows, n, category, &ex, &nex, e);
    if (rc)
        return rc;
    m->n_class = category ? N_CATEGORIES : UNDERSTAND_INTENT_COUNT;
    m->w = xcalloc((size_t)UNDERSTAND_MODEL_BUCKETS * (size_t)m->n_class, sizeof(float));
    m->bias = xcalloc((size_t)m->n_class, sizeof(float));
    m->temperature = choose_temperature(m, ex, nex);
    fit(m, ex, nex, -1);
    free(ex);
    uint64_t h = 1469598103934665603ULL;
    size_t wn = (size_t)UNDERSTAND_MODEL_BUCKETS * (size_t)m->n_class;
    for (size_t i = 0; i < wn; i++) {
        uint32_t bits;
        memcpy(&bits, &m->w[i], sizeof(bits));
        h = (h ^ bits) * 1099511628211ULL;
    }
    m->sum = h;
    return 0;
}

void understand_model_release(struct understand_model *m)
{
    free(m->w);
    free(m->bias);
    memset(m, 0, sizeof(*m));
}

void understand_model_predict(const struct understand_model *m, const char *folded,
                              enum understand_role role, double *p)
{
    struct feats f;
    featurise(folded, &f);
    bool allowed[UNDERSTAND_INTENT_COUNT];
    for (int c = 0; c < m->n_class; c++)
        allowed[c] = m->n_class != UNDERSTAND_INTENT_COUNT || role_allows(role, c);
    scores(m, &f, allowed, m->temperature > 0 ? m->temperature : 1.0, p);
}

static struct understand_model intents_model, category_model;
static pthread_once_t models_once = PTHREAD_ONCE_INIT;

static void models_train(void)
{
    struct err e;
    err_init(&e);
    /* the embedded corpus is checked by the unit tests; a bad row leaves an empty model */
    if (understand_model_train(&intents_model, understand_corpus_train, understand_corpus_train_len,
                               false, &e))
        memset(&intents_model, 0, sizeof(intents_model));
    err_init(&e);
    if (understand_model_train(&category_model, understand_corpus_train,
                               understand_corpus_train_len, true, &e))
        memset(&category_model, 0, sizeof(category_model));
}

static pthread_t warm_thread;
static bool warm_started;

static void *warm_main(void *arg)
{
    (void)arg;
    pthread_once(&models_once, models_train);
    return NULL;
}

int understand_models_warm(struct err *e)
{
    if (warm_started)
        return 0;
    int rc = pthread_create(&warm_thread, NULL, warm_main, NULL);
    if (rc)
        return err_set(e, ERR_INTERNAL, "cannot start the model training thread: %s", strerror(rc));
    warm_started = true;
    return 0;
}

void understand_models_warm_join(void)
{
    if (warm_started) {
        pthread_join(warm_thread, NULL);
        warm_started = false;
    }
}

const struct understand_model *understand_model_intents(void)
{
    pthread_once(&models_once, models_train);
    return intents_model.w ? &intents_model : NULL;
}

const struct understand_model *understand_model_category(void)
{
    pthread_once(&models_once, models_train);
    return category_model.w ? &category_model : NULL;
}
