/* SPDX-License-Identifier: MIT */
/*
 * Understanding chat messages (understand.h): utf8proc NFKC with Turkish case folding, an
 * ASCII-folded token stream, Snowball stems (one Turkish and one English stemmer per thread) and
 * static lexicons of cues, products, shops, currencies, numbers and places. No I/O, no clock.
 * Tests: tests/unit/domain/test_understand.c (a labelled corpus; accuracy printed).
 */
#include "domain/understand/understand.h"
#include "core/xalloc.h"
#include "domain/understand/understand_model.h"

#include <libstemmer.h>
#include <utf8proc.h>

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const understand_role_names[] = {"buyer", "seller", NULL};

const char *const understand_intent_names[] = {
    "demand",         "join",          "decline",
    "cancel",         "deals_query",   "opt_out",
    "opt_in",         "location",      "help",
    "greeting",       "seller_idle",   "seller_busy",
    "seller_surplus", "seller_redeem", "seller_approve",
    "seller_reject",  "unknown",       NULL,
};
_Static_assert(sizeof(understand_intent_names) / sizeof(understand_intent_names[0]) ==
                   UNDERSTAND_INTENT_COUNT + 1,
               "understand_intent_names out of step with enum understand_intent");

/* ================================ lexicons ================================ */

/*
 * Everything below is written as people type it (UTF-8, diacritics where Turkish has them) and
 * goes through the same normaliser as messages when the vocabulary is built, so "lazım" also
 * covers "lazim" and "LAZIM". A leading '=' marks a word that must match exactly (no stem,
 * suffix or typo match): short words that are prefixes of unrelated ones ("dur" / "durum",
 * "pas" / "pasta", "et" / "etmek", "aç" / "açık").
 */
#define R_B  1 /* buyer */
#define R_S  2 /* seller */
#define R_BS 3

#define F_SHORT        1 /* the cue counts only in a message of at most 3 words ("açma", "aç") */
#define F_AFTER_CUE_NO 2 /* the product does not count right after a cue word ("iptal et") */

struct cue_src {
    const char *text;
    unsigned char roles;
    unsigned char intent;
    unsigned char flags;
    float weight; /* how strongly the words alone say the intent */
};

static const struct cue_src cue_src[] = {
    /* buyer: demand */
    {"istiyorum", R_B, UNDERSTAND_DEMAND, 0, 0.9f},
    {"istiyoruz", R_B, UNDERSTAND_DEMAND, 0, 0.9f},
    {"istiyom", R_B, UNDERSTAND_DEMAND, 0, 0.85f},
    {"isterim", R_B, UNDERSTAND_DEMAND, 0, 0.85f},
    {"isterdim", R_B, UNDERSTAND_DEMAND, 0, 0.85f},
    {"istedim", R_B, UNDERSTAND_DEMAND, 0, 0.75f},
    {"lazım", R_B, UNDERSTAND_DEMAND, 0, 0.9f},
    {"gerek", R_B, UNDERSTAND_DEMAND, 0, 0.6f},
    {"arıyorum", R_B, UNDERSTAND_DEMAND, 0, 0.9f},
    {"arıyoruz", R_B, UNDERSTAND_DEMAND, 0, 0.9f},
    {"bakıyorum", R_B, UNDERSTAND_DEMAND, 0, 0.7f},
    {"çekti", R_B, UNDERSTAND_DEMAND, 0, 0.8f},
    {"canım çekti", R_B, UNDERSTAND_DEMAND, 0, 0.9f},
    {"alabilir miyim", R_B, UNDERSTAND_DEMAND, 0, 0.85f},
    {"alayım", R_B, UNDERSTAND_DEMAND, 0, 0.8f},
    {"alırım", R_B, UNDERSTAND_DEMAND, 0, 0.75f},
    {"alacağım", R_B, UNDERSTAND_DEMAND, 0, 0.75f},
    {"almak", R_B, UNDERSTAND_DEMAND, 0, 0.7f},
    {"içmek", R_B, UNDERSTAND_DEMAND, 0, 0.75f},
    {"içesim", R_B, UNDERSTAND_DEMAND, 0, 0.85f},
    {"yiyesim", R_B, UNDERSTAND_DEMAND, 0, 0.85f},
    {"yemek istiyorum", R_B, UNDERSTAND_DEMAND, 0, 0.9f},
    {"acıktım", R_B, UNDERSTAND_DEMAND, 0, 0.8f},
    {"açım", R_B, UNDERSTAND_DEMAND, 0, 0.7f},
    {"susadım", R_B, UNDERSTAND_DEMAND, 0, 0.7f},
    {"sipariş", R_B, UNDERSTAND_DEMAND, 0, 0.75f},
    {"önerir misin", R_B, UNDERSTAND_DEMAND, 0, 0.8f},
    {"tavsiye", R_B, UNDERSTAND_DEMAND, 0, 0.7f},
    {"nerede", R_B, UNDERSTAND_DEMAND, 0, 0.6f},
    {"ucuz", R_B, UNDERSTAND_DEMAND, 0, 0.6f},
    {"uygun fiyatlı", R_B, UNDERSTAND_DEMAND, 0, 0.7f},
    {"ekonomik", R_B, UNDERSTAND_DEMAND, 0, 0.6f},
    {"yok mu", R_B, UNDERSTAND_DEMAND, 0, 0.7f}, /* "tatlı yok mu?": a question, not a no */
    {"want", R_B, UNDERSTAND_DEMAND, 0, 0.85f},
    {"wanna", R_B, UNDERSTAND_DEMAND, 0, 0.8f},
    {"need", R_B, UNDERSTAND_DEMAND, 0, 0.85f},
    {"craving", R_B, UNDERSTAND_DEMAND, 0, 0.9f},
    {"looking for", R_B, UNDERSTAND_DEMAND, 0, 0.9f},
    {"would like", R_B, UNDERSTAND_DEMAND, 0, 0.85f},
    {"i'd like", R_B, UNDERSTAND_DEMAND, 0, 0.85f},
    {"can i get", R_B, UNDERSTAND_DEMAND, 0, 0.85f},
    {"can i have", R_B, UNDERSTAND_DEMAND, 0, 0.85f},
    {"get me", R_B, UNDERSTAND_DEMAND, 0, 0.8f},
    {"hungry", R_B, UNDERSTAND_DEMAND, 0, 0.75f},
    {"thirsty", R_B, UNDERSTAND_DEMAND, 0, 0.7f},
    {"buy", R_B, UNDERSTAND_DEMAND, 0, 0.7f},
    {"cheap", R_B, UNDERSTAND_DEMAND, 0, 0.6f},
    {"affordable", R_B, UNDERSTAND_DEMAND, 0, 0.65f},
    /* buyer: join */
    {"katıl", R_B, UNDERSTAND_JOIN, 0, 0.95f},
    {"katılıyorum", R_B, UNDERSTAND_JOIN, 0, 0.95f},
    {"katılıyom", R_B, UNDERSTAND_JOIN, 0, 0.9f},
    {"katılırım", R_B, UNDERSTAND_JOIN, 0, 0.9f},
    {"katılmak", R_B, UNDERSTAND_JOIN, 0, 0.9f},
    {"katılacağım", R_B, UNDERSTAND_JOIN, 0, 0.9f},
    {"katılıcam", R_B, UNDERSTAND_JOIN, 0, 0.85f},
    {"varım", R_B, UNDERSTAND_JOIN, 0, 0.9f},
    {"geliyorum", R_B, UNDERSTAND_JOIN, 0, 0.9f},
    {"geliyoruz", R_B, UNDERSTAND_JOIN, 0, 0.9f},
    {"gelicem", R_B, UNDERSTAND_JOIN, 0, 0.85f},
    {"geleceğim", R_B, UNDERSTAND_JOIN, 0, 0.85f},
    {"gelirim", R_B, UNDERSTAND_JOIN, 0, 0.85f},
    {"evet", R_B, UNDERSTAND_JOIN, 0, 0.85f},
    {"tamam", R_B, UNDERSTAND_JOIN, 0, 0.8f},
    {"tamamdır", R_B, UNDERSTAND_JOIN, 0, 0.85f},
    {"tmm", R_B, UNDERSTAND_JOIN, 0, 0.8f},
    {"evt", R_B, UNDERSTAND_JOIN, 0, 0.8f},
    {"olur", R_B, UNDERSTAND_JOIN, 0, 0.8f},
    {"ok", R_B, UNDERSTAND_JOIN, 0, 0.8f},
    {"okay", R_B, UNDERSTAND_JOIN, 0, 0.8f},
    {"okey", R_B, UNDERSTAND_JOIN, 0, 0.8f},
    {"tabii", R_B, UNDERSTAND_JOIN, 0, 0.8f},
    {"tabi", R_B, UNDERSTAND_JOIN, 0, 0.8f},
    {"kabul", R_B, UNDERSTAND_JOIN, 0, 0.8f},
    {"kabul ediyorum", R_B, UNDERSTAND_JOIN, 0, 0.85f},
    {"kabul et", R_B, UNDERSTAND_JOIN, 0, 0.85f},
    {"ayır", R_B, UNDERSTAND_JOIN, 0, 0.7f},
    {"yes", R_B, UNDERSTAND_JOIN, 0, 0.85f},
    {"yep", R_B, UNDERSTAND_JOIN, 0, 0.8f},
    {"yeah", R_B, UNDERSTAND_JOIN, 0, 0.8f},
    {"sure", R_B, UNDERSTAND_JOIN, 0, 0.8f},
    {"join", R_B, UNDERSTAND_JOIN, 0, 0.9f},
    {"i'm in", R_B, UNDERSTAND_JOIN, 0, 0.9f},
    {"count me in", R_B, UNDERSTAND_JOIN, 0, 0.95f},
    {"sign me up", R_B, UNDERSTAND_JOIN, 0, 0.9f},
    {"i'll come", R_B, UNDERSTAND_JOIN, 0, 0.85f},
    {"i'll be there", R_B, UNDERSTAND_JOIN, 0, 0.9f},
    {"i'm coming", R_B, UNDERSTAND_JOIN, 0, 0.85f},
    {"let's go", R_B, UNDERSTAND_JOIN, 0, 0.8f},
    /* buyer: decline */
    {"hayır", R_B, UNDERSTAND_DECLINE, 0, 0.9f},
    {"istemiyorum", R_B, UNDERSTAND_DECLINE, 0, 0.9f},
    {"istemiyoruz", R_B, UNDERSTAND_DECLINE, 0, 0.9f},
    {"istemem", R_B, UNDERSTAND_DECLINE, 0, 0.9f},
    {"gerek yok", R_B, UNDERSTAND_DECLINE, 0, 0.9f},
    {"kalsın", R_B, UNDERSTAND_DECLINE, 0, 0.8f},
    {"=pas", R_B, UNDERSTAND_DECLINE, 0, 0.8f},
    {"pas geçiyorum", R_B, UNDERSTAND_DECLINE, 0, 0.9f},
    {"katılmıyorum", R_B, UNDERSTAND_DECLINE, 0, 0.9f},
    {"katılmayacağım", R_B, UNDERSTAND_DECLINE, 0, 0.9f},
    {"ilgilenmiyorum", R_B, UNDERSTAND_DECLINE, 0, 0.95f},
    {"olmaz", R_B, UNDERSTAND_DECLINE, 0, 0.8f},
    {"=yok", R_B, UNDERSTAND_DECLINE, 0, 0.65f},
    {"başka zaman", R_B, UNDERSTAND_DECLINE, 0, 0.8f},
    {"belki sonra", R_B, UNDERSTAND_DECLINE, 0, 0.8f},
    {"no", R_B, UNDERSTAND_DECLINE, 0, 0.85f},
    {"nope", R_B, UNDERSTAND_DECLINE, 0, 0.85f},
    {"nah", R_B, UNDERSTAND_DECLINE, 0, 0.8f},
    {"no thanks", R_B, UNDERSTAND_DECLINE, 0, 0.95f},
    {"not interested", R_B, UNDERSTAND_DECLINE, 0, 0.95f},
    {"maybe later", R_B, UNDERSTAND_DECLINE, 0, 0.8f},
    {"pass", R_B, UNDERSTAND_DECLINE, 0, 0.8f},
    {"geçelim", R_B, UNDERSTAND_DECLINE, 0, 0.75f},
    /* buyer: cancel a pre-commit */
    {"iptal", R_B, UNDERSTAND_CANCEL, 0, 0.9f},
    {"iptal et", R_B, UNDERSTAND_CANCEL, 0, 0.9f},
    {"iptal etmek", R_B, UNDERSTAND_CANCEL, 0, 0.95f},
    {"iptal ediyorum", R_B, UNDERSTAND_CANCEL, 0, 0.95f},
    {"vazgeçtim", R_B, UNDERSTAND_CANCEL, 0, 0.95f},
    {"vazgeçiyorum", R_B, UNDERSTAND_CANCEL, 0, 0.95f},
    {"gelemiyorum", R_B, UNDERSTAND_CANCEL, 0, 0.95f},
    {"gelemeyeceğim", R_B, UNDERSTAND_CANCEL, 0, 0.95f},
    {"gelemem", R_B, UNDERSTAND_CANCEL, 0, 0.9f},
    {"gelmiyorum", R_B, UNDERSTAND_CANCEL, 0, 0.9f},
    {"gelmeyeceğim", R_B, UNDERSTAND_CANCEL, 0, 0.9f},
    {"katılamıyorum", R_B, UNDERSTAND_CANCEL, 0, 0.9f},
    {"katılamayacağım", R_B, UNDERSTAND_CANCEL, 0, 0.9f},
    {"yetişemiyorum", R_B, UNDERSTAND_CANCEL, 0, 0.85f},
    {"yetişemem", R_B, UNDERSTAND_CANCEL, 0, 0.85f},
    {"geri al", R_B, UNDERSTAND_CANCEL, 0, 0.8f},
    {"cancel", R_B, UNDERSTAND_CANCEL, 0, 0.9f},
    {"can't make it", R_B, UNDERSTAND_CANCEL, 0, 0.95f},
    {"can't come", R_B, UNDERSTAND_CANCEL, 0, 0.9f},
    {"cannot come", R_B, UNDERSTAND_CANCEL, 0, 0.9f},
    {"not coming", R_B, UNDERSTAND_CANCEL, 0, 0.9f},
    {"won't make it", R_B, UNDERSTAND_CANCEL, 0, 0.9f},
    {"changed my mind", R_B, UNDERSTAND_CANCEL, 0, 0.9f},
    /* buyer: deals */
    {"indirim", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.85f},
    {"indirimli", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.75f},
    {"indirim var mı", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.95f},
    {"fırsat", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.85f},
    {"kampanya", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.85f},
    {"teklif", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.75f},
    {"neler var", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.8f},
    {"ne var", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.7f},
    {"deal", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.9f},
    {"offer", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.85f},
    {"any offers", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.95f},
    {"discount", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.85f},
    {"promo", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.8f},
    {"what's on", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.75f},
    {"fiyat", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.6f},
    {"ne kadar", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.6f},
    {"price", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.6f},
    {"how much", R_B, UNDERSTAND_DEALS_QUERY, 0, 0.6f},
    /* buyer: opt out / in */
    {"=dur", R_B, UNDERSTAND_OPT_OUT, F_SHORT, 0.8f},
    {"durdur", R_B, UNDERSTAND_OPT_OUT, 0, 0.9f},
    {"stop", R_B, UNDERSTAND_OPT_OUT, 0, 0.95f},
    {"unsubscribe", R_B, UNDERSTAND_OPT_OUT, 0, 0.95f},
    {"abonelik iptal", R_B, UNDERSTAND_OPT_OUT, 0, 0.95f},
    {"aboneliğimi iptal", R_B, UNDERSTAND_OPT_OUT, 0, 0.95f},
    {"abonelikten çık", R_B, UNDERSTAND_OPT_OUT, 0, 0.95f},
    {"listeden çıkar", R_B, UNDERSTAND_OPT_OUT, 0, 0.95f},
    {"beni çıkar", R_B, UNDERSTAND_OPT_OUT, 0, 0.9f},
    {"çıkar", R_B, UNDERSTAND_OPT_OUT, 0, 0.6f},
    {"mesaj atma", R_B, UNDERSTAND_OPT_OUT, 0, 0.9f},
    {"mesaj atmayın", R_B, UNDERSTAND_OPT_OUT, 0, 0.9f},
    {"mesaj gönderme", R_B, UNDERSTAND_OPT_OUT, 0, 0.9f},
    {"mesaj istemiyorum", R_B, UNDERSTAND_OPT_OUT, 0, 0.95f},
    {"bildirim istemiyorum", R_B, UNDERSTAND_OPT_OUT, 0, 0.95f},
    {"mesaj gelmesin", R_B, UNDERSTAND_OPT_OUT, 0, 0.9f},
    {"rahatsız etme", R_B, UNDERSTAND_OPT_OUT, 0, 0.9f},
    {"rahatsız etmeyin", R_B, UNDERSTAND_OPT_OUT, 0, 0.9f},
    {"bildirimleri kapat", R_B, UNDERSTAND_OPT_OUT, 0, 0.9f},
    {"opt out", R_B, UNDERSTAND_OPT_OUT, 0, 0.95f},
    {"no more messages", R_B, UNDERSTAND_OPT_OUT, 0, 0.95f},
    {"remove me", R_B, UNDERSTAND_OPT_OUT, 0, 0.9f},
    {"başla", R_B, UNDERSTAND_OPT_IN, 0, 0.9f},
    {"başlat", R_B, UNDERSTAND_OPT_IN, 0, 0.85f},
    {"tekrar aç", R_B, UNDERSTAND_OPT_IN, 0, 0.9f},
    {"tekrar başla", R_B, UNDERSTAND_OPT_IN, 0, 0.95f},
    {"yeniden başla", R_B, UNDERSTAND_OPT_IN, 0, 0.95f},
    {"abone ol", R_B, UNDERSTAND_OPT_IN, 0, 0.9f},
    {"kaydol", R_B, UNDERSTAND_OPT_IN, 0, 0.85f},
    {"kayıt ol", R_B, UNDERSTAND_OPT_IN, 0, 0.85f},
    {"bildirimleri aç", R_B, UNDERSTAND_OPT_IN, 0, 0.9f},
    {"mesajları aç", R_B, UNDERSTAND_OPT_IN, 0, 0.9f},
    {"devam", R_B, UNDERSTAND_OPT_IN, 0, 0.7f},
    {"start", R_B, UNDERSTAND_OPT_IN, 0, 0.9f},
    {"subscribe", R_B, UNDERSTAND_OPT_IN, 0, 0.9f},
    {"resume", R_B, UNDERSTAND_OPT_IN, 0, 0.85f},
    {"opt in", R_B, UNDERSTAND_OPT_IN, 0, 0.9f},
    /* buyer: location */
    {"konum", R_B, UNDERSTAND_LOCATION, 0, 0.85f},
    {"konumum", R_B, UNDERSTAND_LOCATION, 0, 0.9f},
    {"lokasyon", R_B, UNDERSTAND_LOCATION, 0, 0.85f},
    {"adres", R_B, UNDERSTAND_LOCATION, 0, 0.8f},
    {"adresim", R_B, UNDERSTAND_LOCATION, 0, 0.85f},
    {"buradayım", R_B, UNDERSTAND_LOCATION, 0, 0.75f},
    {"evdeyim", R_B, UNDERSTAND_LOCATION, 0, 0.7f},
    {"mahalle", R_B, UNDERSTAND_LOCATION, 0, 0.6f},
    {"semt", R_B, UNDERSTAND_LOCATION, 0, 0.6f},
    {"location", R_B, UNDERSTAND_LOCATION, 0, 0.85f},
    {"my location", R_B, UNDERSTAND_LOCATION, 0, 0.9f},
    {"i'm at", R_B, UNDERSTAND_LOCATION, 0, 0.8f},
    {"i'm near", R_B, UNDERSTAND_LOCATION, 0, 0.8f},
    {"neighborhood", R_B, UNDERSTAND_LOCATION, 0, 0.7f},
    {"neighbourhood", R_B, UNDERSTAND_LOCATION, 0, 0.7f},
    /* both: help, greeting */
    {"yardım", R_BS, UNDERSTAND_HELP, 0, 0.95f},
    {"yardım et", R_BS, UNDERSTAND_HELP, 0, 0.95f},
    {"=nasıl", R_BS, UNDERSTAND_HELP, 0, 0.6f},
    {"nasıl çalışıyor", R_BS, UNDERSTAND_HELP, 0, 0.95f},
    {"nasıl çalışır", R_BS, UNDERSTAND_HELP, 0, 0.95f},
    {"nasıl kullanılır", R_BS, UNDERSTAND_HELP, 0, 0.95f},
    {"ne yapabilirim", R_BS, UNDERSTAND_HELP, 0, 0.85f},
    {"ne işe yarıyor", R_BS, UNDERSTAND_HELP, 0, 0.9f},
    {"komutlar", R_BS, UNDERSTAND_HELP, 0, 0.85f},
    {"menü", R_BS, UNDERSTAND_HELP, 0, 0.8f},
    {"bilgi", R_BS, UNDERSTAND_HELP, 0, 0.7f},
    {"destek", R_BS, UNDERSTAND_HELP, 0, 0.8f},
    {"anlamadım", R_BS, UNDERSTAND_HELP, 0, 0.8f},
    {"help", R_BS, UNDERSTAND_HELP, 0, 0.95f},
    {"how does it work", R_BS, UNDERSTAND_HELP, 0, 0.95f},
    {"how it works", R_BS, UNDERSTAND_HELP, 0, 0.95f},
    {"what can you do", R_BS, UNDERSTAND_HELP, 0, 0.9f},
    {"=how", R_BS, UNDERSTAND_HELP, 0, 0.5f},
    {"info", R_BS, UNDERSTAND_HELP, 0, 0.75f},
    {"commands", R_BS, UNDERSTAND_HELP, 0, 0.85f},
    {"support", R_BS, UNDERSTAND_HELP, 0, 0.8f},
    {"merhaba", R_BS, UNDERSTAND_GREETING, 0, 0.9f},
    {"merhabalar", R_BS, UNDERSTAND_GREETING, 0, 0.9f},
    {"meraba", R_BS, UNDERSTAND_GREETING, 0, 0.85f},
    {"mrb", R_BS, UNDERSTAND_GREETING, 0, 0.85f},
    {"mrhb", R_BS, UNDERSTAND_GREETING, 0, 0.85f},
    {"selam", R_BS, UNDERSTAND_GREETING, 0, 0.9f},
    {"selamlar", R_BS, UNDERSTAND_GREETING, 0, 0.9f},
    {"slm", R_BS, UNDERSTAND_GREETING, 0, 0.85f},
    {"=sa", R_BS, UNDERSTAND_GREETING, 0, 0.7f},
    {"selamün aleyküm", R_BS, UNDERSTAND_GREETING, 0, 0.9f},
    {"selamünaleyküm", R_BS, UNDERSTAND_GREETING, 0, 0.9f},
    {"aleyküm selam", R_BS, UNDERSTAND_GREETING, 0, 0.85f},
    {"günaydın", R_BS, UNDERSTAND_GREETING, 0, 0.9f},
    {"tünaydın", R_BS, UNDERSTAND_GREETING, 0, 0.85f},
    {"iyi akşamlar", R_BS, UNDERSTAND_GREETING, 0, 0.85f},
    {"iyi günler", R_BS, UNDERSTAND_GREETING, 0, 0.85f},
    {"iyi geceler", R_BS, UNDERSTAND_GREETING, 0, 0.8f},
    {"nasılsın", R_BS, UNDERSTAND_GREETING, 0, 0.8f},
    {"naber", R_BS, UNDERSTAND_GREETING, 0, 0.85f},
    {"nbr", R_BS, UNDERSTAND_GREETING, 0, 0.8f},
    {"hi", R_BS, UNDERSTAND_GREETING, 0, 0.85f},
    {"=hey", R_BS, UNDERSTAND_GREETING, 0, 0.8f},
    {"hello", R_BS, UNDERSTAND_GREETING, 0, 0.9f},
    {"hola", R_BS, UNDERSTAND_GREETING, 0, 0.7f},
    {"good morning", R_BS, UNDERSTAND_GREETING, 0, 0.9f},
    {"good afternoon", R_BS, UNDERSTAND_GREETING, 0, 0.9f},
    {"good evening", R_BS, UNDERSTAND_GREETING, 0, 0.9f},
    {"how are you", R_BS, UNDERSTAND_GREETING, 0, 0.85f},
    /* seller: idle */
    {"boşum", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.95f},
    {"boşuz", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.95f},
    {"boş", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.85f},
    {"boşta", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.85f},
    {"bomboş", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.95f},
    {"müşteri yok", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.95f},
    {"kimse yok", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.9f},
    {"kimse gelmiyor", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.95f},
    {"müşteri gelmiyor", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.95f},
    {"az müşteri", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.9f},
    {"müşteri az", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.9f},
    {"sakin", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.85f},
    {"sakiniz", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.9f},
    {"durgun", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.85f},
    {"durgunuz", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.9f},
    {"kesat", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.85f},
    {"ölü", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.7f},
    {"yoğunluk düşük", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.95f},
    {"yoğunluk az", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.9f},
    {"yoğun değil", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.95f},
    {"yoğun değiliz", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.95f},
    {"kalabalık değil", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.95f},
    {"trafik düşük", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.9f},
    {"düşük", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.6f},
    {"kapasite var", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.85f},
    {"yer var", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.8f},
    {"masa var", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.75f},
    {"masalar boş", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.95f},
    {"idle", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.9f},
    {"quiet", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.9f},
    {"slow", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.8f},
    {"empty", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.85f},
    {"dead", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.7f},
    {"no customers", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.95f},
    {"not busy", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.95f},
    {"free", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.6f},
    {"available", R_S, UNDERSTAND_SELLER_IDLE, 0, 0.7f},
    /* seller: busy */
    {"yoğun", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.9f},
    {"yoğunuz", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.95f},
    {"çok yoğun", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.95f},
    {"yoğunluk yüksek", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.95f},
    {"yoğunluk fazla", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.9f},
    {"dolu", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.9f},
    {"doluyuz", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.95f},
    {"kalabalık", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.9f},
    {"kalabalığız", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.95f},
    {"yer yok", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.9f},
    {"yetişemiyoruz", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.9f},
    {"sıra var", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.8f},
    {"kuyruk", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.75f},
    {"tıklım tıklım", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.95f},
    {"yüksek", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.5f},
    {"busy", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.95f},
    {"full", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.85f},
    {"packed", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.9f},
    {"crowded", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.9f},
    {"slammed", R_S, UNDERSTAND_SELLER_BUSY, 0, 0.9f},
    /* seller: surplus */
    {"stok fazlası", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.95f},
    {"stok fazla", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.95f},
    {"fazla stok", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.95f},
    {"fazla ürün", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.9f},
    {"ürün fazlası", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.9f},
    {"fazlam var", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.9f},
    {"fazlası", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.7f},
    {"fazla", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.6f},
    {"stok", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.6f},
    {"elimde", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.6f},
    {"kaldı", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.6f},
    {"elimde kaldı", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.9f},
    {"çok kaldı", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.85f},
    {"satılmadı", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.8f},
    {"satamadım", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.8f},
    {"bozulacak", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.8f},
    {"artacak", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.7f},
    {"artıyor", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.7f},
    {"son kullanma", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.8f},
    {"elden çıkarmak", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.85f},
    {"indirim yapabilirim", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.85f},
    {"indirim yapalım", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.85f},
    {"kampanya yapalım", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.85f},
    {"kampanya açalım", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.85f},
    {"surplus", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.95f},
    {"leftover", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.9f},
    {"left over", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.9f},
    {"overstock", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.95f},
    {"excess", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.9f},
    {"extra", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.7f},
    {"too much", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.8f},
    {"too many", R_S, UNDERSTAND_SELLER_SURPLUS, 0, 0.8f},
    /* seller: redeem (the code itself is found by shape) */
    {"kod", R_S, UNDERSTAND_SELLER_REDEEM, 0, 0.55f},
    {"code", R_S, UNDERSTAND_SELLER_REDEEM, 0, 0.55f},
    {"redeem", R_S, UNDERSTAND_SELLER_REDEEM, 0, 0.75f},
    /* seller: approve / reject a proposed window */
    {"evet", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.9f},
    {"onay", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.9f},
    {"onayla", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.9f},
    {"onaylıyorum", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.95f},
    {"onayladım", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.95f},
    {"tamam", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.85f},
    {"tamamdır", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.85f},
    {"tmm", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.8f},
    {"evt", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.8f},
    {"olur", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.85f},
    {"=aç", R_S, UNDERSTAND_SELLER_APPROVE, F_SHORT, 0.85f},
    {"açalım", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.9f},
    {"açabilirsin", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.9f},
    {"açabilirsiniz", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.9f},
    {"açın", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.85f},
    {"kabul", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.9f},
    {"kabul ediyorum", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.95f},
    {"kabul et", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.9f},
    {"anlaştık", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.9f},
    {"tabii", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.8f},
    {"tabi", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.8f},
    {"başlat", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.8f},
    {"yayınla", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.8f},
    {"uygun", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.6f},
    {"yes", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.9f},
    {"ok", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.85f},
    {"okay", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.85f},
    {"okey", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.85f},
    {"sure", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.8f},
    {"approve", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.95f},
    {"go ahead", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.9f},
    {"deal", R_S, UNDERSTAND_SELLER_APPROVE, 0, 0.7f},
    {"hayır", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.9f},
    {"=açma", R_S, UNDERSTAND_SELLER_REJECT, F_SHORT, 0.85f},
    {"açmayalım", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.9f},
    {"açmayın", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.9f},
    {"istemiyorum", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.85f},
    {"istemiyoruz", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.85f},
    {"olmaz", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.9f},
    {"kabul etmiyorum", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.95f},
    {"reddet", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.95f},
    {"reddediyorum", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.95f},
    {"iptal", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.75f},
    {"vazgeçtim", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.85f},
    {"=yok", R_S, UNDERSTAND_SELLER_REJECT, F_SHORT, 0.6f},
    {"şimdi değil", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.85f},
    {"geçelim", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.75f},
    {"gerek yok", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.85f},
    {"no", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.9f},
    {"nope", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.85f},
    {"no thanks", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.9f},
    {"not now", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.85f},
    {"reject", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.95f},
    {"decline", R_S, UNDERSTAND_SELLER_REJECT, 0, 0.9f},
};

/*
 * Products → (lemma, category). The lemma is the Turkish name as a shop would write it, so
 * "coffee" and "kahveler" both give "kahve". "tost" is bakery: in Turkey it is sold by
 * fırın/büfe/café counters far more than by restaurants, and the bakery bucket is where
 * sellers with spare tost capacity register.
 */
struct prod_src {
    const char *text;
    const char *lemma; /* NULL: the text itself */
    const char *category;
};

static const struct prod_src prod_src[] = {
    {"latte", NULL, "coffee"},
    {"americano", NULL, "coffee"},
    {"espresso", NULL, "coffee"},
    {"kahve", NULL, "coffee"},
    {"coffee", "kahve", "coffee"},
    {"filtre kahve", NULL, "coffee"},
    {"filter coffee", "filtre kahve", "coffee"},
    {"türk kahvesi", NULL, "coffee"},
    {"turkish coffee", "türk kahvesi", "coffee"},
    {"cappuccino", NULL, "coffee"},
    {"kapuçino", "cappuccino", "coffee"},
    {"mocha", NULL, "coffee"},
    {"macchiato", NULL, "coffee"},
    {"flat white", NULL, "coffee"},
    {"cold brew", NULL, "coffee"},
    {"frappe", NULL, "coffee"},
    {"çay", NULL, "coffee"},
    {"tea", "çay", "coffee"},
    {"sahlep", NULL, "coffee"},
    {"simit", NULL, "bakery"},
    {"poğaça", NULL, "bakery"},
    {"açma", NULL, "bakery"},
    {"börek", NULL, "bakery"},
    {"ekmek", NULL, "bakery"},
    {"bread", "ekmek", "bakery"},
    {"tost", NULL, "bakery"},
    {"toast", "tost", "bakery"},
    {"sandviç", NULL, "bakery"},
    {"sandwich", "sandviç", "bakery"},
    {"croissant", NULL, "bakery"},
    {"kruvasan", "croissant", "bakery"},
    {"çörek", NULL, "bakery"},
    {"bagel", NULL, "bakery"},
    {"pastry", "börek", "bakery"},
    {"döner", NULL, "restaurant"},
    {"lahmacun", NULL, "restaurant"},
    {"pide", NULL, "restaurant"},
    {"kebap", NULL, "restaurant"},
    {"kebab", "kebap", "restaurant"},
    {"köfte", NULL, "restaurant"},
    {"yemek", NULL, "restaurant"},
    {"food", "yemek", "restaurant"},
    {"meal", "yemek", "restaurant"},
    {"lunch", "yemek", "restaurant"},
    {"burger", NULL, "restaurant"},
    {"hamburger", "burger", "restaurant"},
    {"pizza", NULL, "restaurant"},
    {"dürüm", NULL, "restaurant"},
    {"mantı", NULL, "restaurant"},
    {"çorba", NULL, "restaurant"},
    {"soup", "çorba", "restaurant"},
    {"iskender", NULL, "restaurant"},
    {"süt", NULL, "grocery"},
    {"milk", "süt", "grocery"},
    {"yumurta", NULL, "grocery"},
    {"egg", "yumurta", "grocery"},
    {"meyve", NULL, "grocery"},
    {"fruit", "meyve", "grocery"},
    {"sebze", NULL, "grocery"},
    {"vegetable", "sebze", "grocery"},
    {"peynir", NULL, "grocery"},
    {"cheese", "peynir", "grocery"},
    {"zeytin", NULL, "grocery"},
    {"groceries", "market", "grocery"},
    {"=et", NULL, "butcher"},
    {"eti", "et", "butcher"},
    {"dana eti", "et", "butcher"},
    {"kırmızı et", "et", "butcher"},
    {"meat", "et", "butcher"},
    {"kıyma", NULL, "butcher"},
    {"tavuk", NULL, "butcher"},
    {"chicken", "tavuk", "butcher"},
    {"pirzola", NULL, "butcher"},
    {"sucuk", NULL, "butcher"},
    {"biftek", NULL, "butcher"},
    {"steak", "biftek", "butcher"},
    {"kuzu", NULL, "butcher"},
    {"tıraş", NULL, "barber"},
    {"traş", "tıraş", "barber"},
    {"shave", "tıraş", "barber"},
    {"saç", NULL, "barber"},
    {"saç kesimi", "saç", "barber"},
    {"haircut", "saç", "barber"},
    {"sakal", NULL, "barber"},
    {"baklava", NULL, "dessert"},
    {"künefe", NULL, "dessert"},
    {"tatlı", NULL, "dessert"},
    {"dondurma", NULL, "dessert"},
    {"ice cream", "dondurma", "dessert"},
    {"pasta", NULL, "dessert"},
    {"cake", "pasta", "dessert"},
    {"kek", NULL, "dessert"},
    {"waffle", NULL, "dessert"},
    {"sütlaç", NULL, "dessert"},
    {"profiterol", NULL, "dessert"},
    {"cheesecake", NULL, "dessert"},
    {"kurabiye", NULL, "dessert"},
    {"cookie", "kurabiye", "dessert"},
    {"dessert", "tatlı", "dessert"},
};

/* Shop kinds: they give a category but no product ("Market indirimi var mı?"). */
struct shop_src {
    const char *text;
    const char *category;
};

static const struct shop_src shop_src[] = {
    {"kahveci", "coffee"},      {"kafe", "coffee"},          {"cafe", "coffee"},
    {"fırın", "bakery"},        {"bakery", "bakery"},        {"simitçi", "bakery"},
    {"pastane", "dessert"},     {"tatlıcı", "dessert"},      {"lokanta", "restaurant"},
    {"restoran", "restaurant"}, {"restorant", "restaurant"}, {"restaurant", "restaurant"},
    {"dönerci", "restaurant"},  {"market", "grocery"},       {"süpermarket", "grocery"},
    {"supermarket", "grocery"}, {"bakkal", "grocery"},       {"manav", "grocery"},
    {"grocery", "grocery"},     {"kasap", "butcher"},        {"butcher", "butcher"},
    {"berber", "barber"},       {"kuaför", "barber"},        {"barber", "barber"},
    {"hairdresser", "barber"},
};

enum currency { CUR_NONE = 0, CUR_TRY, CUR_USD, CUR_EUR };
static const char *const currency_codes[] = {"", "TRY", "USD", "EUR"};

enum tag {
    TAG_NONE = 0,
    TAG_KOD,    /* "kod 7K..." */
    TAG_UNIT,   /* "2 tane simit" */
    TAG_PEOPLE, /* "3 kişiyiz" */
    TAG_BUDGET, /* "bütçem 100" */
    TAG_VARMI,  /* "var mı": availability of a product, or a deals question */
};

struct word_src {
    const char *text;
    int value; /* enum currency, a number, or enum tag */
};

static const struct word_src currency_src[] = {
    {"=tl", CUR_TRY},   {"tlye", CUR_TRY},    {"tllik", CUR_TRY}, {"tlden", CUR_TRY},
    {"lira", CUR_TRY},  {"liralık", CUR_TRY}, {"=try", CUR_TRY},  {"₺", CUR_TRY},
    {"$", CUR_USD},     {"usd", CUR_USD},     {"dolar", CUR_USD}, {"dollar", CUR_USD},
    {"bucks", CUR_USD}, {"€", CUR_EUR},       {"euro", CUR_EUR},  {"=eur", CUR_EUR},
    {"avro", CUR_EUR},
};

/* Number words; "bir"/"a" are articles far more often than counts, so they are left out. */
static const struct word_src number_src[] = {
    {"iki", 2},   {"üç", 3},    {"dört", 4},  {"beş", 5},  {"altı", 6},  {"yedi", 7},  {"sekiz", 8},
    {"dokuz", 9}, {"=on", 10},  {"one", 1},   {"two", 2},  {"three", 3}, {"four", 4},  {"five", 5},
    {"six", 6},   {"seven", 7}, {"eight", 8}, {"nine", 9}, {"ten", 10},  {"yarım", 0},
};

static const struct word_src tag_src[] = {
    {"kod", TAG_KOD},        {"kodu", TAG_KOD},        {"kodum", TAG_KOD},
    {"code", TAG_KOD},       {"tane", TAG_UNIT},       {"adet", TAG_UNIT},
    {"porsiyon", TAG_UNIT},  {"kişi", TAG_PEOPLE},     {"kişiyiz", TAG_PEOPLE},
    {"kişilik", TAG_PEOPLE}, {"people", TAG_PEOPLE},   {"person", TAG_PEOPLE},
    {"bütçe", TAG_BUDGET},   {"bütçem", TAG_BUDGET},   {"budget", TAG_BUDGET},
    {"max", TAG_BUDGET},     {"maksimum", TAG_BUDGET}, {"en fazla", TAG_BUDGET},
    {"under", TAG_BUDGET},   {"var mı", TAG_VARMI},    {"varmı", TAG_VARMI},
    {"var mi", TAG_VARMI},
};

/*
 * Common words that are one edit away from a lexicon word ("etmek" / "ekmek", "bunu" / "bunu"):
 * known, so they never become a typo match, and meaning nothing on their own.
 */
static const char *const stop_src[] = {
    "etmek",  "etmem",       "ederim", "ediyorum", "edelim", "olmak",   "olsun",   "olarak",
    "lütfen", "please",      "şimdi",  "bugün",    "yarın",  "akşam",   "sabah",   "burada",
    "orada",  "teşekkürler", "thanks", "today",    "there",  "where",   "which",   "about",
    "sonra",  "kadar",       "değil",  "birşey",   "şeyler", "arkadaş", "tamamen", "güzel",
};

/* Neighbourhoods buyers name ("Moda'dayım", "Kadıköy"): a location hint. */
static const char *const place_src[] = {
    "moda",      "kadıköy", "beşiktaş",  "bornova",     "üsküdar",  "şişli",       "bebek",
    "cihangir",  "karaköy", "nişantaşı", "ataşehir",    "bakırköy", "beyoğlu",     "taksim",
    "levent",    "maslak",  "sarıyer",   "etiler",      "ortaköy",  "galata",      "alsancak",
    "karşıyaka", "çankaya", "kızılay",   "caddebostan", "göztepe",  "mecidiyeköy", "maltepe",
    "kartal",    "pendik",  "ümraniye",  "fatih",       "istanbul", "izmir",       "ankara",
};

/*
 * Turkish noun suffixes (folded) a word may carry after a lexicon word: case, plural,
 * possessive, "-ci" (seller of), "-li" (with) and locative+copula ("Moda'dayım"). Derivational
 * "-lik/-luk" is deliberately absent: "yoğunluk" (density) is not "yoğun" (busy).
 */
static const char *const suffixes[] = {
    "i",     "u",     "a",     "e",     "yi",    "yu",    "ya",     "ye",     "si",
    "su",    "m",     "im",    "um",    "in",    "un",    "nin",    "nun",    "ni",
    "nu",    "na",    "ne",    "da",    "de",    "ta",    "te",     "dan",    "den",
    "tan",   "ten",   "nda",   "nde",   "ndan",  "nden",  "la",     "le",     "yla",
    "yle",   "ler",   "lar",   "leri",  "lari",  "lerde", "larda",  "lere",   "lara",
    "lerin", "larin", "lerim", "larim", "imi",   "umu",   "ini",    "unu",    "imiz",
    "umuz",  "ci",    "cu",    "li",    "lu",    "dayim", "deyim",  "tayim",  "teyim",
    "dayiz", "deyiz", "yim",   "yiz",   "cilar", "ciler", "lerden", "lardan",
};

/* ============================ normalisation ============================ */

#define MAX_TOKENS  48
#define MAX_MATCH   6
#define SMALL_CPS   256
#define LOW_PER_CP  5  /* UTF-8 bytes of a lowered code point + a NUL per token */
#define FOLD_PER_CP 13 /* a folded code point may decompose into 3 (Hangul) */

struct tmatch {
    int vid;
    float strength;
};

struct token {
    const char *low;  /* Turkish lower case, diacritics kept; NUL-terminated */
    const char *fold; /* ASCII-folded; NUL-terminated */
    size_t low_len;
    size_t fold_len;
    bool alpha;  /* has a letter */
    bool digit;  /* has a digit */
    bool symbol; /* a currency symbol */
    bool lower;  /* a letter was written in lower case ("kjdchg", "Kod") */
    int cue;     /* 1 + the intent of the cue that used the token, 0 when none */
    bool used;   /* used by the chosen product */
    int n_m;
    struct tmatch m[MAX_MATCH];
};

struct prep {
    int32_t small_cp[SMALL_CPS];
    char small_low[SMALL_CPS * LOW_PER_CP + 8];
    char small_fold[SMALL_CPS * FOLD_PER_CP + 8];
    void *heap;
    int32_t *cp;
    char *low;
    char *fold;
    size_t n_cp;
    size_t low_cap;
    size_t fold_cap;
    size_t fold_used; /* bytes of fold written, tokens NUL-separated */
    bool code_named;  /* the code found was named ("kod ...") rather than alone */
    int n_all;        /* tokens in the message, also beyond MAX_TOKENS */
    int n_tok;
    struct token tok[MAX_TOKENS];
};

static void prep_release(struct prep *p)
{
    free(p->heap);
    p->heap = NULL;
}

static size_t utf8_put(char *dst, int32_t c)
{
    return (size_t)utf8proc_encode_char(c, (utf8proc_uint8_t *)dst);
}

/* Turkish lower case: I → ı and İ → i; utf8proc would give i for both. */
static int32_t tr_lower(int32_t c)
{
    if (c == 'I')
        return 0x131;
    if (c == 0x130)
        return 'i';
    return utf8proc_tolower(c);
}

static bool is_letter(utf8proc_category_t k)
{
    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

static bool is_alnum_cp(int32_t c)
{
    utf8proc_category_t k = utf8proc_category(c);
    return is_letter(k) || k == UTF8PROC_CATEGORY_ND;
}

static bool is_mark(utf8proc_category_t k)
{
    return k >= UTF8PROC_CATEGORY_MN && k <= UTF8PROC_CATEGORY_ME;
}

static bool is_apostrophe(int32_t c)
{
    return c == '\'' || c == 0x2019 || c == 0x2018 || c == 0x02BC || c == '`' || c == 0xB4;
}

/* 👍 👌 ✅ ✔ ☑ answer "ok"; 👎 ❌ ❎ 🚫 answer "no" (only when understanding, not normalising). */
static const char *emoji_word(int32_t c)
{
    switch (c) {
    case 0x1F44D:
    case 0x1F44C:
    case 0x2705:
    case 0x2714:
    case 0x2611:
        return "ok";
    case 0x1F44E:
    case 0x274C:
    case 0x274E:
    case 0x1F6AB:
        return "no";
    default:
        return NULL;
    }
}

/* Append the ASCII fold of a lower-case code point: marks stripped, ı → i. */
static size_t fold_put(char *dst, int32_t c)
{
    if (c < 0x80) {
        dst[0] = (char)c;
        return 1;
    }
    if (c == 0x131) {
        dst[0] = 'i';
        return 1;
    }
    int32_t d[4];
    int bc = 0;
    utf8proc_ssize_t n =
        utf8proc_decompose_char(c, d, 4, UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK, &bc);
    if (n <= 0 || n > 3)
        return utf8_put(dst, c);
    size_t w = 0;
    for (utf8proc_ssize_t i = 0; i < n; i++)
        w += utf8_put(dst + w, d[i]);
    return w;
}

/*
 * Whether cp[i..j) looks like a redemption code as written: UNDERSTAND_CODE_LEN characters of the
 * code alphabet with a digit or without a lower-case letter ("DDDKFP", "AAA2BC"). Its runs are
 * kept: a code is not an elongated word.
 */
static bool code_shaped(const int32_t *cp, size_t i, size_t j)
{
    if (j - i != UNDERSTAND_CODE_LEN)
        return false;
    bool digit = false, lower = false;
    for (size_t k = i; k < j; k++) {
        int32_t c = cp[k];
        int32_t up = c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
        if (up >= 0x80 || !up || !strchr(UNDERSTAND_CODE_ALPHABET, (int)up))
            return false;
        digit |= c >= '0' && c <= '9';
        lower |= c >= 'a' && c <= 'z';
    }
    return digit || !lower;
}

/*
 * Collapse runs of three or more of the same letter ("merhabaaa", "yesss") to one, except in
 * code-shaped words when keep_codes.
 */
static size_t squeeze_runs(int32_t *cp, size_t n, bool keep_codes)
{
    size_t w = 0;
    size_t word_end = 0; /* end of a code-shaped word being copied as is */
    for (size_t i = 0; i < n;) {
        if (keep_codes && i >= word_end && (i == 0 || !is_alnum_cp(cp[i - 1]))) {
            size_t e = i;
            while (e < n && is_alnum_cp(cp[e]))
                e++;
            if (code_shaped(cp, i, e))
                word_end = e;
        }
        size_t j = i + 1;
        while (j < n && cp[j] == cp[i])
            j++;
        bool letter = is_letter(utf8proc_category(cp[i]));
        size_t keep = (letter && j - i >= 3 && i >= word_end) ? 1 : j - i;
        for (size_t k = 0; k < keep; k++)
            cp[w++] = cp[i];
        i = j;
    }
    return w;
}

struct tok_state {
    struct prep *p;
    size_t low_w;
    size_t fold_w;
    bool open;
    struct token cur;
};

static void tok_begin(struct tok_state *s)
{
    if (s->open)
        return;
    memset(&s->cur, 0, sizeof(s->cur));
    s->cur.low = s->p->low + s->low_w;
    s->cur.fold = s->p->fold + s->fold_w;
    s->open = true;
}

static void tok_end(struct tok_state *s)
{
    if (!s->open)
        return;
    struct prep *p = s->p;
    s->cur.low_len = (size_t)(p->low + s->low_w - s->cur.low);
    s->cur.fold_len = (size_t)(p->fold + s->fold_w - s->cur.fold);
    p->low[s->low_w++] = '\0';
    p->fold[s->fold_w++] = '\0';
    s->open = false;
    if (!s->cur.fold_len)
        return;
    p->n_all++;
    if (p->n_tok < MAX_TOKENS)
        p->tok[p->n_tok++] = s->cur;
}

static void tok_put(struct tok_state *s, int32_t low)
{
    struct prep *p = s->p;
    /* Room for this code point plus the token's NULs, else the rest is dropped. */
    if (s->low_w + 6 >= p->low_cap || s->fold_w + 14 >= p->fold_cap)
        return;
    tok_begin(s);
    s->low_w += utf8_put(p->low + s->low_w, low);
    s->fold_w += fold_put(p->fold + s->fold_w, low);
}

static void tok_word(struct tok_state *s, const char *w, bool symbol)
{
    tok_end(s);
    tok_begin(s);
    size_t n = strlen(w);
    memcpy(s->p->low + s->low_w, w, n);
    memcpy(s->p->fold + s->fold_w, w, n);
    s->low_w += n;
    s->fold_w += n;
    s->cur.symbol = symbol;
    tok_end(s);
}

/* Split the normalised code points into tokens (see understand_normalise for the rules). */
static void tokenize(struct prep *p, bool emoji_words)
{
    struct tok_state s = {.p = p};
    const int32_t *cp = p->cp;
    size_t n = p->n_cp;
    for (size_t i = 0; i < n; i++) {
        int32_t c = cp[i];
        utf8proc_category_t k = utf8proc_category(c);
        utf8proc_category_t next = i + 1 < n ? utf8proc_category(cp[i + 1]) : UTF8PROC_CATEGORY_CN;
        if (is_letter(k)) {
            tok_put(&s, tr_lower(c));
            s.cur.alpha = true;
            s.cur.lower |= k == UTF8PROC_CATEGORY_LL;
        } else if (k == UTF8PROC_CATEGORY_ND) {
            tok_put(&s, c);
            s.cur.digit = true;
        } else if (is_mark(k) || (is_apostrophe(c) && s.open && is_letter(next))) {
            /*
             * After NFKC only stray marks are left: drop them. An apostrophe inside a word
             * joins it: "Moda'dayım" → "modadayim", "I'm" → "im".
             */
            continue;
        } else if ((c == '.' || c == ',') && s.open && i > 0 && cp[i - 1] < 0x80 &&
                   cp[i - 1] >= '0' && cp[i - 1] <= '9' && next == UTF8PROC_CATEGORY_ND) {
            tok_put(&s, c); /* "12,50" and "1.000" stay one number */
        } else if (k == UTF8PROC_CATEGORY_SC) {
            char sym[8];
            sym[utf8_put(sym, c)] = '\0';
            tok_word(&s, sym, true);
        } else if (emoji_words && emoji_word(c)) {
            tok_word(&s, emoji_word(c), false);
        } else {
            tok_end(&s);
        }
    }
    tok_end(&s);
    p->fold_used = s.fold_w;
}

/*
 * NFKC (utf8proc), then Turkish lower case, fold and tokens. ERR_INVALID for invalid UTF-8 or
 * text over UNDERSTAND_TEXT_MAX bytes. Messages up to SMALL_CPS code points use p's own arrays.
 */
static int prep_text(struct prep *p, const char *text, bool emoji_words, bool keep_codes,
                     struct err *e)
{
    const utf8proc_option_t opts = UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
    p->heap = NULL;
    p->n_tok = 0;
    p->n_all = 0;
    p->fold_used = 0;
    p->code_named = false;
    if (!text)
        return err_set(e, ERR_INVALID, "text is missing");
    size_t len = strnlen(text, UNDERSTAND_TEXT_MAX + 1);
    if (len > UNDERSTAND_TEXT_MAX)
        return err_set(e, ERR_INVALID, "text is longer than %d bytes", UNDERSTAND_TEXT_MAX);
    p->cp = p->small_cp;
    p->low = p->small_low;
    p->fold = p->small_fold;
    p->low_cap = sizeof(p->small_low);
    p->fold_cap = sizeof(p->small_fold);
    utf8proc_ssize_t n = utf8proc_decompose((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len,
                                            p->cp, SMALL_CPS, opts);
    if (n < 0)
        return err_set(e, ERR_INVALID, "text is not valid UTF-8");
    if (n > SMALL_CPS) {
        size_t ncp = (size_t)n;
        p->heap = xmalloc(ncp * (sizeof(int32_t) + LOW_PER_CP + FOLD_PER_CP) + 16);
        p->cp = p->heap;
        p->low = (char *)(p->cp + ncp);
        p->low_cap = ncp * LOW_PER_CP + 8;
        p->fold = p->low + p->low_cap;
        p->fold_cap = ncp * FOLD_PER_CP + 8;
        n = utf8proc_decompose((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, p->cp,
                               (utf8proc_ssize_t)ncp, opts);
        if (n < 0 || (size_t)n > ncp) {
            prep_release(p);
            return err_set(e, ERR_INVALID, "text is not valid UTF-8");
        }
    }
    n = utf8proc_normalize_utf32(p->cp, n, opts);
    if (n < 0) {
        prep_release(p);
        return err_set(e, ERR_INVALID, "text cannot be normalised");
    }
    p->n_cp = squeeze_runs(p->cp, (size_t)n, keep_codes);
    tokenize(p, emoji_words);
    return 0;
}

/* ============================ stemmers ============================ */

/*
 * Snowball stemmers keep state, so each thread has its own pair, made on first use and freed
 * by the pthread key destructor at thread exit; the main thread's pair (which no key
 * destructor sees) is freed by a library destructor so LeakSanitizer stays quiet.
 */
struct stemmers {
    struct sb_stemmer *tr;
    struct sb_stemmer *en;
};

static _Thread_local struct stemmers *tls_stemmers;
static pthread_key_t stemmers_key;
static pthread_once_t stemmers_once = PTHREAD_ONCE_INIT;
static bool stemmers_key_ok;

static void stemmers_free(void *v)
{
    struct stemmers *s = v;
    if (!s)
        return;
    if (s->tr)
        sb_stemmer_delete(s->tr);
    if (s->en)
        sb_stemmer_delete(s->en);
    free(s);
}

static void stemmers_key_make(void)
{
    stemmers_key_ok = pthread_key_create(&stemmers_key, stemmers_free) == 0;
}

static struct stemmers *stemmers_get(void)
{
    if (tls_stemmers)
        return tls_stemmers;
    pthread_once(&stemmers_once, stemmers_key_make);
    struct stemmers *s = xcalloc(1, sizeof(*s));
    s->tr = sb_stemmer_new("turkish", "UTF_8");
    s->en = sb_stemmer_new("english", "UTF_8");
    if (stemmers_key_ok)
        pthread_setspecific(stemmers_key, s);
    tls_stemmers = s;
    return s;
}

__attribute__((destructor)) static void stemmers_at_exit(void)
{
    struct stemmers *s = tls_stemmers;
    if (!s)
        return;
    tls_stemmers = NULL;
    if (stemmers_key_ok)
        pthread_setspecific(stemmers_key, NULL);
    stemmers_free(s);
}

#define VW_MAX 32 /* longest word the matcher looks at, in bytes */

/* Stem (s, n) with `st` into out (ASCII-folded); false when there is no usable stem. */
static bool stem_into(struct sb_stemmer *st, const char *s, size_t n, char out[VW_MAX])
{
    if (!st || n < 3 || n >= VW_MAX)
        return false;
    const sb_symbol *r = sb_stemmer_stem(st, (const sb_symbol *)s, (int)n);
    if (!r)
        return false;
    int rn = sb_stemmer_length(st);
    size_t w = 0;
    for (int i = 0; i < rn;) {
        int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(r + i, rn - i, &c);
        if (k <= 0)
            return false;
        char tmp[16];
        size_t t = fold_put(tmp, c);
        if (w + t >= VW_MAX)
            return false;
        memcpy(out + w, tmp, t);
        w += t;
        i += (int)k;
    }
    out[w] = '\0';
    return w >= 3;
}

/* ============================ vocabulary ============================ */

/*
 * Every distinct word of the lexicons, with its folded form and stems, built once (pthread_once)
 * and read-only afterwards. Patterns (one to four words) refer to words by index.
 */
#define VOCAB_MAX 2048
#define PAT_MAX   2048
#define PAT_WORDS 4
#define HASH_SIZE 8192 /* power of two, > 2 * the keys of either table */

struct vword {
    char low[VW_MAX];
    char fold[VW_MAX];
    char stem[3][VW_MAX]; /* Turkish stem of low, of fold, English stem of fold ("" = none) */
    size_t fold_len;
    bool exact_only;
    uint32_t letters; /* bit per a..z, for the typo filter */
};

enum pkind { P_CUE, P_PRODUCT, P_SHOP, P_CURRENCY, P_NUMBER, P_PLACE, P_TAG, P_STOP };

struct pattern {
    int vid[PAT_WORDS];
    int n;
    enum pkind kind;
    unsigned char roles;
    unsigned char intent;
    unsigned char flags;
    float weight;
    int value;
    const char *lemma;
    const char *category;
};

static struct {
    struct vword w[VOCAB_MAX];
    int n_w;
    struct pattern p[PAT_MAX];
    int n_p;
    int first[VOCAB_MAX];    /* first pattern starting with the word, -1 */
    int next[PAT_MAX];       /* next pattern with the same first word */
    int fold_tab[HASH_SIZE]; /* fold → vid + 1 */
    struct {
        const char *key;
        int vid;
    } stem_tab[HASH_SIZE]; /* stem → vids (a key may repeat) */
    int typo[VOCAB_MAX];   /* words eligible for typo matches */
    int n_typo;
    int n_stems;
    int dropped; /* lexicon entries that did not fit: a programming error */
    bool ok;
} V;

static pthread_once_t vocab_once = PTHREAD_ONCE_INIT;

static uint32_t hash_str(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int fold_find(const char *s, size_t n)
{
    for (uint32_t h = hash_str(s, n) & (HASH_SIZE - 1);; h = (h + 1) & (HASH_SIZE - 1)) {
        int v = V.fold_tab[h] - 1;
        if (v < 0)
            return -1;
        if (V.w[v].fold_len == n && memcmp(V.w[v].fold, s, n) == 0)
            return v;
    }
}

static void stem_add(const char *key, int vid)
{
    uint32_t h = hash_str(key, strlen(key)) & (HASH_SIZE - 1);
    while (V.stem_tab[h].key)
        h = (h + 1) & (HASH_SIZE - 1);
    V.stem_tab[h].key = key;
    V.stem_tab[h].vid = vid;
}

static uint32_t letter_mask(const char *s, size_t n)
{
    uint32_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'a' && s[i] <= 'z')
            m |= 1u << (s[i] - 'a');
    return m;
}

/* Add (or find) the word of token t; -1 when the vocabulary is full or the word too long. */
static int vocab_add(const struct token *t, bool exact_only, struct stemmers *st)
{
    if (t->fold_len >= VW_MAX || t->low_len >= VW_MAX)
        return -1;
    int v = fold_find(t->fold, t->fold_len);
    if (v >= 0) {
        V.w[v].exact_only |= exact_only;
        return v;
    }
    if (V.n_w >= VOCAB_MAX)
        return -1;
    v = V.n_w++;
    struct vword *w = &V.w[v];
    memcpy(w->low, t->low, t->low_len + 1);
    memcpy(w->fold, t->fold, t->fold_len + 1);
    w->fold_len = t->fold_len;
    w->exact_only = exact_only;
    w->letters = letter_mask(w->fold, w->fold_len);
    uint32_t h = hash_str(w->fold, w->fold_len) & (HASH_SIZE - 1);
    while (V.fold_tab[h])
        h = (h + 1) & (HASH_SIZE - 1);
    V.fold_tab[h] = v + 1;
    if (t->alpha) {
        stem_into(st->tr, w->low, t->low_len, w->stem[0]);
        stem_into(st->tr, w->fold, w->fold_len, w->stem[1]);
        stem_into(st->en, w->fold, w->fold_len, w->stem[2]);
    }
    return v;
}

static void pattern_add(const char *text, struct pattern proto, struct stemmers *st)
{
    bool exact = text[0] == '=';
    struct prep prep;
    struct err e;
    err_init(&e);
    if (prep_text(&prep, exact ? text + 1 : text, false, false, &e)) {
        V.dropped++;
        return;
    }
    if (prep.n_tok < 1 || prep.n_tok > PAT_WORDS || V.n_p >= PAT_MAX) {
        prep_release(&prep);
        V.dropped++;
        return;
    }
    proto.n = prep.n_tok;
    for (int i = 0; i < prep.n_tok; i++) {
        proto.vid[i] = vocab_add(&prep.tok[i], exact, st);
        if (proto.vid[i] < 0) {
            prep_release(&prep);
            V.dropped++;
            return;
        }
    }
    prep_release(&prep);
    int id = V.n_p++;
    V.p[id] = proto;
    V.next[id] = V.first[proto.vid[0]];
    V.first[proto.vid[0]] = id;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void vocab_build(void)
{
    struct stemmers st = {sb_stemmer_new("turkish", "UTF_8"), sb_stemmer_new("english", "UTF_8")};
    for (int i = 0; i < VOCAB_MAX; i++)
        V.first[i] = -1;
    for (size_t i = 0; i < COUNT(cue_src); i++) {
        const struct cue_src *c = &cue_src[i];
        pattern_add(c->text,
                    (struct pattern){.kind = P_CUE,
                                     .roles = c->roles,
                                     .intent = c->intent,
                                     .flags = c->flags,
                                     .weight = c->weight},
                    &st);
    }
    for (size_t i = 0; i < COUNT(prod_src); i++) {
        const struct prod_src *c = &prod_src[i];
        bool exact = c->text[0] == '=';
        const char *lemma = c->lemma ? c->lemma : (exact ? c->text + 1 : c->text);
        pattern_add(c->text,
                    (struct pattern){.kind = P_PRODUCT,
                                     .roles = R_BS,
                                     .weight = 1.0f,
                                     .flags = exact ? F_AFTER_CUE_NO : 0,
                                     .lemma = lemma,
                                     .category = c->category},
                    &st);
    }
    for (size_t i = 0; i < COUNT(shop_src); i++)
        pattern_add(
            shop_src[i].text,
            (struct pattern){
                .kind = P_SHOP, .roles = R_BS, .weight = 1.0f, .category = shop_src[i].category},
            &st);
    for (size_t i = 0; i < COUNT(currency_src); i++)
        pattern_add(
            currency_src[i].text,
            (struct pattern){
                .kind = P_CURRENCY, .roles = R_BS, .weight = 1.0f, .value = currency_src[i].value},
            &st);
    for (size_t i = 0; i < COUNT(number_src); i++)
        pattern_add(
            number_src[i].text,
            (struct pattern){
                .kind = P_NUMBER, .roles = R_BS, .weight = 1.0f, .value = number_src[i].value},
            &st);
    for (size_t i = 0; i < COUNT(tag_src); i++)
        pattern_add(tag_src[i].text,
                    (struct pattern){
                        .kind = P_TAG, .roles = R_BS, .weight = 1.0f, .value = tag_src[i].value},
                    &st);
    for (size_t i = 0; i < COUNT(stop_src); i++)
        pattern_add(stop_src[i], (struct pattern){.kind = P_STOP, .roles = R_BS}, &st);
    for (size_t i = 0; i < COUNT(place_src); i++)
        pattern_add(place_src[i], (struct pattern){.kind = P_PLACE, .roles = R_BS, .weight = 1.0f},
                    &st);
    for (int v = 0; v < V.n_w; v++) {
        struct vword *w = &V.w[v];
        for (int k = 0; k < 3; k++) {
            bool dup = false;
            for (int j = 0; j < k; j++)
                dup |= strcmp(w->stem[j], w->stem[k]) == 0;
            if (w->stem[k][0] && !dup && V.n_stems < HASH_SIZE / 2) {
                stem_add(w->stem[k], v);
                V.n_stems++;
            }
        }
        if (!w->exact_only && w->fold_len >= 5)
            V.typo[V.n_typo++] = v;
    }
    if (st.tr)
        sb_stemmer_delete(st.tr);
    if (st.en)
        sb_stemmer_delete(st.en);
    /* the tables are sized for the lexicons with room to spare; grow them if this fires */
    assert(V.dropped == 0 && V.n_w < VOCAB_MAX && V.n_stems < HASH_SIZE / 2);
    V.ok = true;
}

/* ============================ word matching ============================ */

#define S_EXACT 1.0f
#define S_FOLD  0.95f
#define S_STEM  0.85f
#define S_TYPO  0.7f

static void match_add(struct token *t, int vid, float s)
{
    for (int i = 0; i < t->n_m; i++) {
        if (t->m[i].vid == vid) {
            if (s > t->m[i].strength)
                t->m[i].strength = s;
            return;
        }
    }
    if (t->n_m < MAX_MATCH)
        t->m[t->n_m++] = (struct tmatch){vid, s};
}

static bool is_suffix(const char *s)
{
    for (size_t i = 0; i < COUNT(suffixes); i++)
        if (strcmp(suffixes[i], s) == 0)
            return true;
    return false;
}

static bool has_prefix(const char *w, const char *pre)
{
    return strncmp(w, pre, strlen(pre)) == 0;
}

/* Optimal string alignment distance, capped: true when a and b are at most one edit apart. */
static bool within_one_edit(const char *a, size_t na, const char *b, size_t nb)
{
    if (na > nb + 1 || nb > na + 1)
        return false;
    size_t i = 0;
    while (i < na && i < nb && a[i] == b[i])
        i++;
    if (i == na && i == nb)
        return true;
    const char *ra = a + i, *rb = b + i;
    size_t la = na - i, lb = nb - i;
    if (la == lb) {
        if (strcmp(ra + 1, rb + 1) == 0)
            return true; /* substitution */
        return la >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && strcmp(ra + 2, rb + 2) == 0;
    }
    if (la > lb)
        return strcmp(ra + 1, rb) == 0; /* deletion from a */
    return strcmp(ra, rb + 1) == 0;     /* insertion into a */
}

static void stem_lookup(struct token *t, const char *key)
{
    if (!has_prefix(t->fold, key))
        return; /* a stem that is not a prefix of the word ("yoğunuz" → "yok") misleads */
    int v = fold_find(key, strlen(key));
    if (v >= 0 && !V.w[v].exact_only && V.w[v].fold_len >= 4)
        match_add(t, v, S_STEM);
    for (uint32_t h = hash_str(key, strlen(key)) & (HASH_SIZE - 1); V.stem_tab[h].key;
         h = (h + 1) & (HASH_SIZE - 1)) {
        int sv = V.stem_tab[h].vid;
        /* Only towards a shorter word: "var" is not "varım" although they share a stem. */
        if (strcmp(V.stem_tab[h].key, key) == 0 && !V.w[sv].exact_only && V.w[sv].fold_len >= 4 &&
            V.w[sv].fold_len <= t->fold_len)
            match_add(t, sv, S_STEM);
    }
}

/*
 * The lexicon words a token may be: the same fold (exact when the diacritics agree too), a
 * Snowball stem that is a lexicon word or shares a lexicon word's stem, a lexicon word plus
 * Turkish suffixes (with the b/d/ğ → p/t/k softening undone: "kebabı", "simidi"), or, when
 * nothing else matched, one edit away from a lexicon word of five letters or more.
 */
static void token_match(struct token *t, struct stemmers *st)
{
    if (t->fold_len >= VW_MAX || t->low_len >= VW_MAX)
        return;
    int v = fold_find(t->fold, t->fold_len);
    if (v >= 0)
        match_add(t, v, strcmp(V.w[v].low, t->low) == 0 ? S_EXACT : S_FOLD);
    if (!t->alpha)
        return;

    char buf[VW_MAX];
    size_t n = t->fold_len;
    for (size_t p = n > 7 ? n - 6 : 3; p + 1 <= n && n >= 4; p++) {
        if (!is_suffix(t->fold + p))
            continue;
        v = fold_find(t->fold, p);
        if (v >= 0 && !V.w[v].exact_only)
            match_add(t, v, S_STEM);
        char last = t->fold[p - 1];
        char hard = last == 'b' ? 'p' : last == 'd' ? 't' : last == 'g' ? 'k' : 0;
        if (hard && strchr("aeiou", t->fold[p])) {
            memcpy(buf, t->fold, p);
            buf[p - 1] = hard;
            v = fold_find(buf, p);
            if (v >= 0 && !V.w[v].exact_only)
                match_add(t, v, S_STEM);
        }
    }

    char k0[VW_MAX], k1[VW_MAX], k2[VW_MAX];
    bool h0 = stem_into(st->tr, t->low, t->low_len, k0);
    bool h1 = strcmp(t->low, t->fold) != 0 && stem_into(st->tr, t->fold, t->fold_len, k1);
    bool h2 = stem_into(st->en, t->fold, t->fold_len, k2);
    if (h0)
        stem_lookup(t, k0);
    if (h1 && !(h0 && strcmp(k0, k1) == 0))
        stem_lookup(t, k1);
    if (h2 && !(h0 && strcmp(k0, k2) == 0) && !(h1 && strcmp(k1, k2) == 0))
        stem_lookup(t, k2);

    if (t->n_m || n < 5)
        return;
    uint32_t mask = letter_mask(t->fold, n);
    for (int i = 0; i < V.n_typo; i++) {
        const struct vword *w = &V.w[V.typo[i]];
        if (w->fold_len + 1 < n || w->fold_len > n + 1)
            continue;
        if (__builtin_popcount(w->letters ^ mask) > 2)
            continue;
        if (within_one_edit(t->fold, n, w->fold, w->fold_len))
            match_add(t, V.typo[i], S_TYPO);
    }
}

static float token_has(const struct token *t, int vid)
{
    for (int i = 0; i < t->n_m; i++)
        if (t->m[i].vid == vid)
            return t->m[i].strength;
    return 0;
}

/* ============================ understanding ============================ */

struct occ {
    const struct pattern *p;
    int pos;
    float s;
};

#define MAX_OCC 192

static int occ_cmp(const void *a, const void *b)
{
    const struct occ *x = a, *y = b;
    if (x->p->n != y->p->n)
        return y->p->n - x->p->n;
    if (x->s != y->s)
        return x->s < y->s ? 1 : -1;
    return x->pos - y->pos;
}

static int find_occurrences(const struct prep *p, struct occ *occ)
{
    int n = 0;
    for (int i = 0; i < p->n_tok; i++) {
        const struct token *t = &p->tok[i];
        for (int m = 0; m < t->n_m; m++) {
            for (int id = V.first[t->m[m].vid]; id >= 0; id = V.next[id]) {
                const struct pattern *pat = &V.p[id];
                if (i + pat->n > p->n_tok)
                    continue;
                float s = t->m[m].strength;
                for (int k = 1; k < pat->n && s > 0; k++) {
                    float sk = token_has(&p->tok[i + k], pat->vid[k]);
                    s = sk < s ? sk : s;
                }
                if (s > 0 && n < MAX_OCC)
                    occ[n++] = (struct occ){pat, i, s};
            }
        }
    }
    qsort(occ, (size_t)n, sizeof(*occ), occ_cmp);
    return n;
}

struct scores {
    float best[UNDERSTAND_INTENT_COUNT]; /* strongest signal per intent */
    float cue[UNDERSTAND_INTENT_COUNT];  /* strongest explicit cue (words, not inferred) */
    int n[UNDERSTAND_INTENT_COUNT];
};

static void score_add(struct scores *sc, enum understand_intent i, float s, bool cue)
{
    if (s > sc->best[i])
        sc->best[i] = s;
    if (cue && s > sc->cue[i])
        sc->cue[i] = s;
    sc->n[i]++;
}

static float score_of(const struct scores *sc, int i)
{
    if (!sc->n[i])
        return 0;
    float s = sc->best[i] + 0.05f * (float)(sc->n[i] - 1);
    return s > 0.97f ? 0.97f : s;
}

/* Whether tokens [pos, pos + n) are not used by a cue (other than one for `intent`, if >= 0). */
static bool span_free(const struct prep *p, int pos, int n, bool product, int intent)
{
    for (int k = pos; k < pos + n; k++)
        if ((p->tok[k].cue && p->tok[k].cue != intent + 1) || (product && p->tok[k].used))
            return false;
    return true;
}

/* Parse "50", "12,50", "1.000", "2.500,75" into minor units; false if not a plain amount. */
static bool parse_amount(const char *s, size_t n, int64_t *minor)
{
    if (!n || s[0] < '0' || s[0] > '9')
        return false;
    int64_t units = 0;
    int64_t frac = 0;
    size_t i = 0;
    size_t last_sep = n;
    for (size_t j = 0; j < n; j++)
        if (s[j] == '.' || s[j] == ',')
            last_sep = j;
    size_t int_end = n;
    if (last_sep < n && n - last_sep - 1 <= 2)
        int_end = last_sep; /* a decimal part of 1-2 digits */
    for (i = 0; i < int_end; i++) {
        if (s[i] == '.' || s[i] == ',')
            continue;
        if (s[i] < '0' || s[i] > '9' || units > 100000000000LL)
            return false;
        units = units * 10 + (s[i] - '0');
    }
    if (int_end < n) {
        size_t fd = n - int_end - 1;
        for (i = int_end + 1; i < n; i++) {
            if (s[i] < '0' || s[i] > '9')
                return false;
            frac = frac * 10 + (s[i] - '0');
        }
        if (fd == 1)
            frac *= 10;
    }
    *minor = units * 100 + frac;
    return true;
}

/* The number at the start of a token: its length, or 0 when it does not start with a digit. */
static size_t number_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == ','))
        i++;
    while (i > 0 && (s[i - 1] == '.' || s[i - 1] == ','))
        i--;
    return i;
}

/* A token of UNDERSTAND_CODE_LEN characters of the code alphabet (compared on the folded form). */
static bool is_code(const struct token *t, bool *mixed)
{
    if (t->fold_len != UNDERSTAND_CODE_LEN)
        return false;
    bool letter = false, digit = false;
    for (size_t i = 0; i < UNDERSTAND_CODE_LEN; i++) {
        char c = t->fold[i];
        char up = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
        if (!c || !strchr(UNDERSTAND_CODE_ALPHABET, up))
            return false;
        if (c >= '0' && c <= '9')
            digit = true;
        else
            letter = true;
    }
    *mixed = letter && digit;
    return true;
}

struct annot {
    int cur[MAX_TOKENS];    /* enum currency of a currency word */
    int num[MAX_TOKENS];    /* value of a number word, 0 none */
    int tag[MAX_TOKENS];    /* enum tag */
    bool place[MAX_TOKENS]; /* a neighbourhood */
    bool prod[MAX_TOKENS];  /* a token of any product mention */
};

/* Budget: "50 TL", "50tl", "₺50", "$5", "5 dollars", "bütçem 100"; marks the amount's token. */
static void find_budget(const struct prep *p, const struct annot *an, bool *budget_tok,
                        struct understanding *out)
{
    for (int i = 0; i < p->n_tok && !out->budget; i++) {
        const struct token *t = &p->tok[i];
        size_t nl = number_len(t->fold, t->fold_len);
        if (!nl)
            continue;
        int64_t minor;
        if (!parse_amount(t->fold, nl, &minor) || minor <= 0)
            continue;
        int cur = CUR_NONE;
        if (nl < t->fold_len) {
            /* "50tl", "50TL'ye"; "80'e" is a number with a case suffix */
            int v = fold_find(t->fold + nl, t->fold_len - nl);
            for (int id = v >= 0 ? V.first[v] : -1; id >= 0 && !cur; id = V.next[id])
                if (V.p[id].kind == P_CURRENCY && V.p[id].n == 1)
                    cur = V.p[id].value;
            if (!cur && !is_suffix(t->fold + nl))
                continue;
        }
        if (!cur && i + 1 < p->n_tok && an->cur[i + 1])
            cur = an->cur[i + 1];
        if (!cur && i > 0 && an->cur[i - 1] && p->tok[i - 1].symbol)
            cur = an->cur[i - 1];
        if (!cur && i > 0 && an->tag[i - 1] == TAG_BUDGET)
            cur = CUR_TRY;
        if (!cur)
            continue;
        out->budget = minor;
        snprintf(out->currency, sizeof(out->currency), "%s", currency_codes[cur]);
        budget_tok[i] = true;
    }
}

/* Quantity: "2 simit", "iki simit", "two lattes", "3 tane", "4 kişiyiz". */
static void find_quantity(const struct prep *p, const struct annot *an, const bool *budget_tok,
                          struct understanding *out)
{
    for (int i = 0; i + 1 < p->n_tok && !out->quantity; i++) {
        const struct token *t = &p->tok[i];
        int q = an->num[i];
        if (!q && !budget_tok[i] && t->digit && !t->alpha && t->fold_len <= 3) {
            bool digits = true;
            for (size_t k = 0; k < t->fold_len; k++)
                digits &= t->fold[k] >= '0' && t->fold[k] <= '9';
            q = digits ? (int)strtol(t->fold, NULL, 10) : 0;
        }
        /* "50 TL altı kahve": a number word after an amount is "under", not six. */
        if (q <= 0 || (an->num[i] && i > 0 && (budget_tok[i - 1] || an->cur[i - 1])))
            continue;
        int j = i + 1;
        if (an->tag[j] == TAG_UNIT || an->tag[j] == TAG_PEOPLE) {
            out->quantity = q;
            break;
        }
        if (an->prod[j])
            out->quantity = q;
    }
}

/*
 * A redemption code: UNDERSTAND_CODE_LEN characters of the code alphabet. Codes are random, so a
 * third of them are all letters or all digits; such a token is a code when the message names
 * it ("kod KJDCHG", "KJDCHG geldi": "kod" or another redeem cue next to it), or when it is the
 * whole message, written as codes are shown (no lower-case letter: "KJDCHG", "234567"), and means
 * nothing else. A mixed token ("K7M2PX", "k7m2px") needs neither. Words of the alphabet's shape
 * ("thanks", "gelsek") are kept out by requiring that the token is no cue and no product, and,
 * alone, upper case.
 */
static bool names_code(const struct prep *p, const struct annot *an, int i)
{
    if (i < 0 || i >= p->n_tok)
        return false;
    return an->tag[i] == TAG_KOD || p->tok[i].cue == UNDERSTAND_SELLER_REDEEM + 1;
}

static void find_code(struct prep *p, const struct annot *an, struct understanding *out)
{
    for (int i = 0; i < p->n_tok && !out->code[0]; i++) {
        bool mixed;
        if (!is_code(&p->tok[i], &mixed))
            continue;
        bool free_word = !p->tok[i].cue && !an->prod[i];
        bool named = names_code(p, an, i - 1) || names_code(p, an, i + 1);
        bool alone = p->n_tok == 1 && !p->tok[i].lower;
        if (!mixed && !(free_word && (named || alone)))
            continue;
        for (int k = 0; k < UNDERSTAND_CODE_LEN; k++) {
            char c = p->tok[i].fold[k];
            out->code[k] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
        }
        out->code[UNDERSTAND_CODE_LEN] = '\0';
        p->code_named = named;
    }
}

/* The opposing intents: a cue for one lowers the confidence of the other. */
static bool opposed(int a, int b)
{
    static const int pairs[][2] = {
        {UNDERSTAND_JOIN, UNDERSTAND_DECLINE},
        {UNDERSTAND_JOIN, UNDERSTAND_CANCEL},
        {UNDERSTAND_DEMAND, UNDERSTAND_DECLINE},
        {UNDERSTAND_OPT_IN, UNDERSTAND_OPT_OUT},
        {UNDERSTAND_SELLER_IDLE, UNDERSTAND_SELLER_BUSY},
        {UNDERSTAND_SELLER_APPROVE, UNDERSTAND_SELLER_REJECT},
    };
    for (size_t i = 0; i < COUNT(pairs); i++)
        if ((pairs[i][0] == a && pairs[i][1] == b) || (pairs[i][0] == b && pairs[i][1] == a))
            return true;
    return false;
}

/* Order of preference when two intents score the same: the more consequential reading first. */
static const int tie_order[] = {
    UNDERSTAND_CANCEL,         UNDERSTAND_OPT_OUT,       UNDERSTAND_DECLINE,
    UNDERSTAND_SELLER_REDEEM,  UNDERSTAND_SELLER_REJECT, UNDERSTAND_JOIN,
    UNDERSTAND_SELLER_APPROVE, UNDERSTAND_DEALS_QUERY,   UNDERSTAND_DEMAND,
    UNDERSTAND_SELLER_SURPLUS, UNDERSTAND_SELLER_BUSY,   UNDERSTAND_SELLER_IDLE,
    UNDERSTAND_OPT_IN,         UNDERSTAND_LOCATION,      UNDERSTAND_HELP,
};

/*
 * Confidence. Each cue scores weight (how much its words alone say the intent, 0.5-0.95) times
 * match strength (exact 1.0, same fold without diacritics 0.95, stem or suffix 0.85, one-edit
 * typo 0.7). Cues come only from the sender's role lexicon. An intent's score is its best
 * signal plus 0.05 per further signal (capped at 0.97); inferred signals (a product alone 0.65,
 * or 0.5 in a longer message; a budget 0.6; a place 0.7) are weaker than words. The best intent
 * wins (ties: the more consequential reading, tie_order); greetings only when nothing else
 * reaches 0.5. Confidence is that score minus 0.4 times the strongest cue for an opposed
 * intent ("tamam açma": approve against reject), so mixed messages fall below UNDERSTAND_CONFIDENT
 * and the dialog asks. No signal at all is UNDERSTAND_UNKNOWN with confidence 0.
 */
static void understand_tokens(struct prep *p, enum understand_role role, struct understanding *out)
{
    unsigned char rbit = role == UNDERSTAND_ROLE_SELLER ? R_S : R_B;
    bool buyer = role != UNDERSTAND_ROLE_SELLER;
    struct stemmers *st = stemmers_get();
    for (int i = 0; i < p->n_tok; i++)
        token_match(&p->tok[i], st);

    struct occ occ[MAX_OCC];
    int n_occ = find_occurrences(p, occ);
    struct scores sc;
    memset(&sc, 0, sizeof(sc));
    struct annot an;
    memset(&an, 0, sizeof(an));

    /* Intent cues, longest first: a phrase ("gerek yok") takes its words from shorter cues. */
    for (int i = 0; i < n_occ; i++) {
        const struct pattern *pat = occ[i].p;
        if (pat->kind != P_CUE || !(pat->roles & rbit))
            continue;
        if ((pat->flags & F_SHORT) && p->n_tok > 3)
            continue;
        if (!span_free(p, occ[i].pos, pat->n, false, pat->intent))
            continue;
        /*
         * Words already taken by a cue for the same intent ("çok yoğun" / "yoğunuz") may still
         * raise its score, but do not count as a second cue.
         */
        bool fresh = true;
        for (int k = occ[i].pos; k < occ[i].pos + pat->n; k++) {
            fresh &= !p->tok[k].cue;
            p->tok[k].cue = pat->intent + 1;
        }
        float s = pat->weight * occ[i].s;
        if (fresh)
            score_add(&sc, pat->intent, s, true);
        else if (s > sc.best[pat->intent])
            sc.best[pat->intent] = sc.cue[pat->intent] = s;
    }

    /* The product: the longest, strongest, earliest mention not used as a cue. */
    const struct pattern *prod = NULL;
    float prod_s = 0;
    const char *shop_cat = NULL;
    for (int i = 0; i < n_occ; i++) {
        const struct pattern *pat = occ[i].p;
        int pos = occ[i].pos;
        /* "iptal et", "kabul et": "et" (meat) after a cue word is the verb "etmek". */
        bool verb = (pat->flags & F_AFTER_CUE_NO) && pos > 0 && p->tok[pos - 1].cue;
        if (pat->kind == P_PRODUCT && !verb && span_free(p, pos, pat->n, true, -1)) {
            for (int k = pos; k < pos + pat->n; k++)
                an.prod[k] = true;
            if (!prod) {
                prod = pat;
                prod_s = occ[i].s;
                for (int k = pos; k < pos + pat->n; k++)
                    p->tok[k].used = true;
            }
        } else if (pat->kind == P_SHOP && !shop_cat && span_free(p, pos, pat->n, false, -1)) {
            shop_cat = pat->category;
        } else if (pat->kind == P_CURRENCY && pat->n == 1 && !an.cur[pos]) {
            an.cur[pos] = pat->value;
        } else if (pat->kind == P_NUMBER && pat->n == 1 && occ[i].s >= S_FOLD) {
            an.num[pos] = pat->value;
        } else if (pat->kind == P_TAG && !an.tag[pos] &&
                   (span_free(p, pos, pat->n, false, -1) || pat->value == TAG_KOD)) {
            /* "kod" is also the redeem cue; as a tag it still marks the code beside it */
            an.tag[pos] = pat->value;
        } else if (pat->kind == P_PLACE && occ[i].s >= S_STEM) {
            an.place[pos] = true;
        }
    }
    if (prod) {
        snprintf(out->product, sizeof(out->product), "%s", prod->lemma);
        snprintf(out->category, sizeof(out->category), "%s", prod->category);
    } else if (shop_cat) {
        snprintf(out->category, sizeof(out->category), "%s", shop_cat);
    }

    bool budget_tok[MAX_TOKENS] = {false};
    find_budget(p, &an, budget_tok, out);
    find_quantity(p, &an, budget_tok, out);
    find_code(p, &an, out);

    /* A lone "1".."9". */
    if (p->n_all == 1 && p->tok[0].fold_len == 1 && p->tok[0].fold[0] >= '1' &&
        p->tok[0].fold[0] <= '9')
        out->choice = p->tok[0].fold[0] - '0';

    bool varmi = false, place = false;
    for (int i = 0; i < p->n_tok; i++) {
        varmi |= an.tag[i] == TAG_VARMI;
        place |= an.place[i];
    }
    bool short_msg = p->n_tok <= 4;
    if (buyer) {
        if (prod)
            score_add(&sc, UNDERSTAND_DEMAND, (short_msg ? 0.65f : 0.5f) * prod_s, false);
        else if (shop_cat)
            score_add(&sc, UNDERSTAND_DEMAND, short_msg ? 0.55f : 0.45f, false);
        if (varmi) {
            if (sc.cue[UNDERSTAND_DEALS_QUERY] > 0 || !prod)
                score_add(&sc, UNDERSTAND_DEALS_QUERY, 0.7f, true);
            else
                score_add(&sc, UNDERSTAND_DEMAND, 0.75f, true);
        }
        if (out->budget)
            score_add(&sc, UNDERSTAND_DEMAND, 0.6f, false);
        if (out->quantity && prod)
            score_add(&sc, UNDERSTAND_DEMAND, 0.7f, false);
        /* a place named with a product or shop is where the buyer wants it, not a move */
        if (place && (prod || shop_cat))
            score_add(&sc, UNDERSTAND_LOCATION, 0.4f, false);
        else if (place)
            score_add(&sc, UNDERSTAND_LOCATION, p->n_tok <= 3 ? 0.7f : 0.55f, false);
        if (out->choice)
            score_add(&sc, UNDERSTAND_JOIN, 0.9f, true);
    } else {
        if (prod && sc.n[UNDERSTAND_SELLER_SURPLUS])
            score_add(&sc, UNDERSTAND_SELLER_SURPLUS, 0.85f, false);
        else if (prod && out->quantity && short_msg)
            score_add(&sc, UNDERSTAND_SELLER_SURPLUS, 0.55f, false);
        if (out->code[0])
            score_add(&sc, UNDERSTAND_SELLER_REDEEM, 0.9f, true);
    }

    /* The strongest intent; greeting only when nothing else says much. */
    int best = UNDERSTAND_UNKNOWN;
    float best_s = 0;
    for (size_t k = 0; k < COUNT(tie_order); k++) {
        int i = tie_order[k];
        float s = score_of(&sc, i);
        if (s > best_s + 1e-6f) {
            best = i;
            best_s = s;
        }
    }
    /* "nasıl katılırım?", "how do I cancel": a question about the command, not the command */
    bool how = false;
    for (int i = 0; i < p->n_tok; i++)
        how |= strcmp(p->tok[i].fold, "nasil") == 0 || strcmp(p->tok[i].fold, "how") == 0;
    if (how && (best == UNDERSTAND_JOIN || best == UNDERSTAND_CANCEL || best == UNDERSTAND_OPT_IN ||
                best == UNDERSTAND_OPT_OUT)) {
        best = UNDERSTAND_HELP;
        best_s = 0.8f;
    }
    float greet = score_of(&sc, UNDERSTAND_GREETING);
    if (greet > 0 && best_s < 0.5f) {
        best = UNDERSTAND_GREETING;
        best_s = greet;
    }
    if (best == UNDERSTAND_UNKNOWN) {
        out->intent = UNDERSTAND_UNKNOWN;
        out->confidence = 0;
        return;
    }
    float opp = 0;
    for (int i = 0; i < UNDERSTAND_INTENT_COUNT; i++)
        if (opposed(best, i) && sc.cue[i] > opp)
            opp = sc.cue[i];
    float conf = best_s - 0.4f * opp;
    out->intent = (enum understand_intent)best;
    out->confidence = conf < 0 ? 0 : conf;
}

/* Three or more of the same letter in a row. */
static bool has_letter_run(const char *s)
{
    for (size_t i = 0; s[i] && s[i + 1] && s[i + 2]; i++)
        if (s[i] == s[i + 1] && s[i] == s[i + 2] && !(s[i] >= '0' && s[i] <= '9'))
            return true;
    return false;
}

int understand_rules(const char *text, enum understand_role role, struct understanding *out,
                     struct err *e)
{
    memset(out, 0, sizeof(*out));
    out->intent = UNDERSTAND_UNKNOWN;
    if (role != UNDERSTAND_ROLE_BUYER && role != UNDERSTAND_ROLE_SELLER)
        return err_set(e, ERR_INVALID, "unknown role %d", (int)role);
    pthread_once(&vocab_once, vocab_build);
    struct prep p;
    int rc = prep_text(&p, text, true, true, e);
    if (rc)
        return rc;
    if (V.ok && p.n_tok)
        understand_tokens(&p, role, out);
    prep_release(&p);
    /*
     * A code-shaped word keeps its letter runs ("DDDKFP"); an elongated word in capitals
     * ("EVETTT") has the same shape. When the runs made a code nobody named ("kod ..."), read
     * the text again with them collapsed, and take that reading if it is confident of
     * something else.
     */
    if (out->code[0] && !p.code_named && has_letter_run(out->code)) {
        struct understanding alt;
        memset(&alt, 0, sizeof(alt));
        alt.intent = UNDERSTAND_UNKNOWN;
        rc = prep_text(&p, text, true, false, e);
        if (rc)
            return rc;
        if (V.ok && p.n_tok)
            understand_tokens(&p, role, &alt);
        prep_release(&p);
        if (alt.intent != UNDERSTAND_UNKNOWN && alt.intent != UNDERSTAND_SELLER_REDEEM &&
            alt.confidence >= UNDERSTAND_CONFIDENT)
            *out = alt;
    }
    return 0;
}

bool understand_intent_commits(enum understand_intent intent)
{
    return intent == UNDERSTAND_JOIN || intent == UNDERSTAND_OPT_OUT ||
           intent == UNDERSTAND_OPT_IN || intent == UNDERSTAND_SELLER_APPROVE;
}

enum understand_gate understand_gate(const struct understanding *u)
{
    if (u->intent == UNDERSTAND_UNKNOWN || u->confidence < UNDERSTAND_CONFIDENT)
        return UNDERSTAND_GATE_ASK;
    if (understand_intent_commits(u->intent) && u->confidence < UNDERSTAND_COMMIT)
        return UNDERSTAND_GATE_CONFIRM;
    return UNDERSTAND_GATE_ACT;
}

/*
 * The least probability at which the model alone names an intent the rules saw nothing of, chosen
 * by 5-fold cross-validation on the training split (0.5 over 0.6: more right than wrong readings
 * gained); below UNDERSTAND_CONFIDENT the dialog still asks before acting on it.
 */
#define MODEL_ALONE_MIN    0.5
#define BARE_DEMAND_WEIGHT 0.7

/*
 * The rules' reading (r, rc) and the model's (m, pm), one answer:
 * - a code the rules found for a redemption, or a numbered choice, stands (exact patterns);
 * - both agree: the model's probability, raised towards 1 by half the rules' confidence;
 * - the rules saw nothing: the model alone, when it is at least MODEL_ALONE_MIN (below, the
 *   message stays unknown: "hmm", "lol", a word the model half-recognises);
 * - they disagree: the model's intent when it is the likelier (pm > rc, with a bare demand's rc
 *   weighed down), else the rules', at a confidence lowered by the other side's belief, so a
 *   committing action asks back.
 * An unknown intent keeps confidence 0 (nothing to act on).
 */
static void combine(const char *folded, enum understand_role role,
                    const struct understand_model *mi, const struct understand_model *mc,
                    struct understanding *out)
{
    if (!mi || !*folded || out->choice || (out->code[0] && out->intent == UNDERSTAND_SELLER_REDEEM))
        return;
    double p[UNDERSTAND_INTENT_COUNT];
    understand_model_predict(mi, folded, role, p);
    int m = 0;
    for (int c = 1; c < UNDERSTAND_INTENT_COUNT; c++)
        if (p[c] > p[m])
            m = c;
    double pm = p[m], rc = out->confidence;
    int r = (int)out->intent;
    /*
     * A demand the rules read from a verb alone ("mesaj almak istiyorum": no product, category,
     * budget or quantity) is weaker evidence than its score says; weighed at 0.7 by the 5-fold
     * cross-validation on the training split (opt-ins and joins phrased with "istiyorum").
     */
    if (r == UNDERSTAND_DEMAND && !out->product[0] && !out->category[0] && !out->budget &&
        !out->quantity)
        rc *= BARE_DEMAND_WEIGHT;
    int intent;
    double conf;
    if (r == m) {
        intent = m;
        conf = pm + (1 - pm) * 0.5 * rc;
    } else if (r == UNDERSTAND_UNKNOWN) {
        intent = pm >= MODEL_ALONE_MIN ? m : UNDERSTAND_UNKNOWN;
        conf = pm;
    } else if (pm > rc) {
        intent = m;
        conf = pm * (1 - 0.5 * rc);
    } else {
        intent = r;
        conf = rc * (1 - 0.5 * pm) * (0.5 + 0.5 * p[r]);
    }
    out->intent = (enum understand_intent)intent;
    out->confidence = intent == UNDERSTAND_UNKNOWN ? 0 : (conf > 0.99 ? 0.99 : conf);
    /* a category the product lexicon did not give, from the category model when it is sure */
    if (!out->category[0] && mc &&
        (intent == UNDERSTAND_DEMAND || intent == UNDERSTAND_DEALS_QUERY ||
         intent == UNDERSTAND_SELLER_SURPLUS)) {
        double q[UNDERSTAND_INTENT_COUNT];
        understand_model_predict(mc, folded, role, q);
        int b = 0;
        for (int c = 1; c < mc->n_class; c++)
            if (q[c] > q[b])
                b = c;
        if (q[b] >= 0.6)
            snprintf(out->category, sizeof(out->category), "%s", understand_model_categories[b]);
    }
}

int understand_text_models(const char *text, enum understand_role role,
                           const struct understand_model *mi, const struct understand_model *mc,
                           struct understanding *out, struct err *e)
{
    int rc = understand_rules(text, role, out, e);
    if (rc)
        return rc;
    char *folded = xmalloc(2 * UNDERSTAND_TEXT_MAX + 1);
    rc = understand_normalise(text, folded, 2 * UNDERSTAND_TEXT_MAX + 1, e);
    if (!rc)
        combine(folded, role, mi, mc, out);
    free(folded);
    return rc;
}

int understand_text(const char *text, enum understand_role role, struct understanding *out,
                    struct err *e)
{
    return understand_text_models(text, role, understand_model_intents(),
                                  understand_model_category(), out, e);
}

int understand_normalise(const char *text, char *out, size_t n, struct err *e)
{
    if (!out || !n)
        return err_set(e, ERR_INVALID, "no room for the normalised text");
    out[0] = '\0';
    struct prep p;
    int rc = prep_text(&p, text, false, false, e);
    if (rc)
        return rc;
    size_t w = 0;
    for (size_t i = 0; i < p.fold_used;) {
        size_t len = strlen(p.fold + i);
        if (len) {
            if (w + (w ? 1 : 0) + len + 1 > n) {
                prep_release(&p);
                out[0] = '\0';
                return err_set(e, ERR_INVALID, "normalised text is longer than %zu bytes", n - 1);
            }
            if (w)
                out[w++] = ' ';
            memcpy(out + w, p.fold + i, len);
            w += len;
        }
        i += len + 1;
    }
    out[w] = '\0';
    prep_release(&p);
    return 0;
}
