/* SPDX-License-Identifier: MIT */
/*
 * Understanding a chat message: text (and the sender's role) → an intent with entities and a
 * confidence. Rules over Unicode-normalised, Turkish-aware case-folded text (utf8proc) and
 * Snowball stems (libstemmer, Turkish and English), so "Latte istiyorum", "kahveler",
 * "simitten", "KATIL", "katil", "yogunluk dusuk" and "I want a latte" are understood.
 * Pure apart from the stemmer objects it keeps per thread; thread-safe.
 * Tests: tests/unit/domain/test_understand.c (a labelled corpus; accuracy printed).
 */
#ifndef ICESHOP_DOMAIN_UNDERSTAND_UNDERSTAND_H
#define ICESHOP_DOMAIN_UNDERSTAND_UNDERSTAND_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UNDERSTAND_TEXT_MAX 4096 /* longer messages are refused: ERR_INVALID */

enum understand_role { UNDERSTAND_ROLE_BUYER = 0, UNDERSTAND_ROLE_SELLER };
extern const char *const understand_role_names[]; /* "buyer", "seller", NULL */

enum understand_intent {
    /* buyer */
    UNDERSTAND_DEMAND = 0,  /* "Latte istiyorum", "Tost lazım", "Uygun fiyatlı kahve arıyorum" */
    UNDERSTAND_JOIN,        /* "katıl", "evet", "1" for the latest offer */
    UNDERSTAND_DECLINE,     /* "hayır", "istemiyorum" */
    UNDERSTAND_CANCEL,      /* "iptal", "gelemiyorum": take back a pre-commit */
    UNDERSTAND_DEALS_QUERY, /* "Market indirimi var mı?", "fırsat var mı" */
    UNDERSTAND_OPT_OUT,     /* "dur", "stop", "abonelikten çık" */
    UNDERSTAND_OPT_IN,      /* "başla", "start" */
    UNDERSTAND_LOCATION,    /* a shared location, or "konumum Moda" */
    UNDERSTAND_HELP,        /* "yardım", "help", "nasıl çalışıyor" */
    UNDERSTAND_GREETING,    /* "merhaba", "selam", "hi" */
    /* seller */
    UNDERSTAND_SELLER_IDLE,    /* "Bu saat boşum", "Yoğunluk düşük", "müşteri yok" */
    UNDERSTAND_SELLER_BUSY,    /* "çok yoğunuz", "dolu" */
    UNDERSTAND_SELLER_SURPLUS, /* "Stok fazlası ürün var", "elimde çok simit kaldı" */
    UNDERSTAND_SELLER_REDEEM,  /* "kod K7M2PX", "K7M2PX geldi" */
    UNDERSTAND_SELLER_APPROVE, /* "evet", "onaylıyorum", "tamam aç" to a proposed window */
    UNDERSTAND_SELLER_REJECT,  /* "hayır", "açma" */
    UNDERSTAND_UNKNOWN,
    UNDERSTAND_INTENT_COUNT
};
extern const char
    *const understand_intent_names[]; /* "demand", "join", ..., "seller_idle", ..., NULL */

struct understanding {
    enum understand_intent intent;
    double confidence; /* 0..1; below UNDERSTAND_CONFIDENT the caller asks instead of acting */
    char product[64];  /* normalised lemma, e.g. "latte", "tost", "simit"; "" when none */
    char category[32]; /* canonical flash category ("coffee", "bakery", ...) or "" */
    int64_t budget;    /* minor units (kuruş/cents): "50 TL" → 5000; 0 when none */
    char currency[4];  /* "TRY" (TL, lira, ₺) or "USD"/"EUR"; "" when no budget */
    int quantity;      /* "2 simit" → 2; 0 when none */
    char code[16];     /* a redemption code (6 chars, A-Z 2-9) in upper case; "" when none */
    int choice;        /* a numbered choice "1".."9" on its own; 0 when none */
};

/*
 * Redemption codes as people type them: UNDERSTAND_CODE_LEN characters of this alphabet (no
 * 0/O, 1/I, so a code reads aloud without doubt); all letters, all digits or both. The flash
 * module draws its codes from the same definition (flash.h).
 */
#define UNDERSTAND_CODE_LEN      6
#define UNDERSTAND_CODE_ALPHABET "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

/*
 * Confidence thresholds. The confidence is calibrated on held-out messages (a message read at
 * 0.9 is right about 90 % of the time; the unit test prints the table on the blind split).
 * Below UNDERSTAND_CONFIDENT the dialog asks what was meant; an intent that commits a person
 * (understand_intent_commits) needs UNDERSTAND_COMMIT, else the dialog asks back first.
 */
#define UNDERSTAND_CONFIDENT 0.6
#define UNDERSTAND_COMMIT    0.9

/* Joining an offer (a pre-commit), opting out or in, a seller approving a window. */
bool understand_intent_commits(enum understand_intent intent);

/* What the dialog may do with an understanding. */
enum understand_gate {
    UNDERSTAND_GATE_ACT = 0, /* act on the intent */
    UNDERSTAND_GATE_CONFIRM, /* a committing intent below UNDERSTAND_COMMIT: ask back first */
    UNDERSTAND_GATE_ASK,     /* below UNDERSTAND_CONFIDENT (or unknown): ask what was meant */
};
enum understand_gate understand_gate(const struct understanding *u);

/*
 * Understand `text` (UTF-8, at most UNDERSTAND_TEXT_MAX bytes) from a sender of `role`: the rules
 * (lexicons, entities) and the statistical layer (understand_model.h) together.
 * ERR_INVALID for invalid UTF-8 or oversized text. Empty or meaningless text is UNDERSTAND_UNKNOWN
 * with confidence 0, not an error.
 */
int understand_text(const char *text, enum understand_role role, struct understanding *out,
                    struct err *e);

/* The rules alone (no statistical layer): for tests that compare the two. */
int understand_rules(const char *text, enum understand_role role, struct understanding *out,
                     struct err *e);

/*
 * The normalised form the rules see: NFKC, Turkish case folding (İ→i, I→ı), diacritics kept
 * in a second, ASCII-folded form (ş→s, ğ→g, ı→i, ö→o, ü→u, ç→c) used for matching, emoji and
 * punctuation removed. Writes the ASCII-folded form into out (size n). For tests and the CLI.
 */
int understand_normalise(const char *text, char *out, size_t n, struct err *e);

#endif
