/* SPDX-License-Identifier: MIT */
/*
 * The statistical layer of understanding: a linear classifier (multinomial logistic regression)
 * over hashed character n-grams and words of the ASCII-folded text, trained deterministically
 * from the labelled corpus in data/understand/train.tsv, which the build embeds
 * (scripts/embed_corpus.sh). The blind split (data/understand/blind.tsv) is embedded for the
 * tests only; nothing trains on it. Tests: tests/unit/domain/test_understand.c.
 */
#ifndef ICESHOP_DOMAIN_UNDERSTAND_UNDERSTAND_MODEL_H
#define ICESHOP_DOMAIN_UNDERSTAND_UNDERSTAND_MODEL_H

#include "domain/understand/understand.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One labelled row of a split, as written in the TSV: names, not enum values. */
struct understand_row {
    const char *role;     /* "buyer" | "seller" */
    const char *intent;   /* an understand_intent_names[] entry */
    const char *category; /* a flash category, or "-" when the row does not say */
    const char *text;
};
extern const struct understand_row understand_corpus_train[];
extern const size_t understand_corpus_train_len;
extern const struct understand_row understand_corpus_blind[];
extern const size_t understand_corpus_blind_len;

/* The categories the category model tells apart; NULL-terminated. */
extern const char *const understand_model_categories[];

/* Feature buckets of the hashed feature space. */
#define UNDERSTAND_MODEL_BUCKETS (1u << 15)

/*
 * A trained model: weights per (bucket, class). Training takes the rows in order with a fixed
 * schedule, so the same rows always give the same weights (bit for bit).
 */
struct understand_model {
    int n_class;
    float *w;           /* UNDERSTAND_MODEL_BUCKETS * n_class, owned */
    float *bias;        /* n_class, owned */
    double temperature; /* softmax temperature, from cross-validation on the training rows */
    uint64_t sum;       /* a checksum of the weights, to compare two trainings */
};

/*
 * Train the intent model (n_class = UNDERSTAND_INTENT_COUNT) or, with `category` true, the
 * category model (classes understand_model_categories[]; rows with category "-" are skipped),
 * from `rows`. ERR_INVALID names the first row whose role, intent or category is unknown, or
 * whose text is not valid UTF-8. Release with understand_model_release().
 */
int understand_model_train(struct understand_model *m, const struct understand_row *rows, size_t n,
                           bool category, struct err *e);
void understand_model_release(struct understand_model *m);

/*
 * Class probabilities for `folded` (the understand_normalise() form) from a sender of `role`.
 * For the intent model, classes the role cannot have (a buyer's seller_idle) get 0 and the rest
 * sum to 1. `p` has m->n_class entries.
 */
void understand_model_predict(const struct understand_model *m, const char *folded,
                              enum understand_role role, double *p);

/* The process-wide models trained once from understand_corpus_train (thread-safe). */
const struct understand_model *understand_model_intents(void);
const struct understand_model *understand_model_category(void);
/*
 * Train the process-wide models now, on a thread of their own, so the first message a server
 * reads does not wait for training inside its transaction (one that arrives meanwhile waits
 * only for what is left of it). understand_models_warm_join waits for that thread (call it
 * before exiting; harmless when warm-up never started). Not thread-safe itself: call both from
 * the thread that starts and stops the server. Errors: ERR_INTERNAL when the thread cannot
 * start (the models then train on first use).
 */
int understand_models_warm(struct err *e);
void understand_models_warm_join(void);

/*
 * understand_text() with the given models instead of the process-wide ones: for cross-validation,
 * which trains on part of the corpus and reads the rest. A NULL model leaves that part to the rules
 * (NULL `mi`: the rules alone). The models are borrowed; same errors as understand_text().
 */
int understand_text_models(const char *text, enum understand_role role,
                           const struct understand_model *mi, const struct understand_model *mc,
                           struct understanding *out, struct err *e);

/* An intent or role by name: the index, or -1. */
int understand_intent_find(const char *name);
int understand_role_find(const char *name);

#endif
