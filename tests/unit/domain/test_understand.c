/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/understand/understand.c: normalisation (NFKC, Turkish case, ASCII
 * fold), input limits, per-thread stemmers, and a labelled corpus of WhatsApp-style Turkish and
 * English messages whose intent and entity accuracy is printed. The corpus fails the run only below
 * 90 % intent accuracy or when a "must" row (seed examples, core commands) is wrong.
 */
#include "domain/understand/understand.h"
#include "domain/understand/understand_llm.h"
#include "domain/understand/understand_model.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B UNDERSTAND_ROLE_BUYER
#define S UNDERSTAND_ROLE_SELLER

/* One labelled message. NULL/0 entity fields are not checked; "" checks for "none". */
struct labelled {
    const char *text;
    enum understand_role role;
    enum understand_intent intent;
    const char *product;
    const char *category;
    int64_t budget; /* minor units */
    const char *currency;
    int quantity;
    const char *code;
    int choice;
    int must;
};

#define MUST  .must = 1
#define PLAIN .must = 0 /* no entity to check */

static const struct labelled corpus[] = {
    /* ---- buyer: demand (seed examples first) ---- */
    {"Latte istiyorum", B, UNDERSTAND_DEMAND, .product = "latte", .category = "coffee", MUST},
    {"Tost lazım", B, UNDERSTAND_DEMAND, .product = "tost", .category = "bakery", MUST},
    {"Uygun fiyatlı kahve arıyorum", B, UNDERSTAND_DEMAND, .product = "kahve", .category = "coffee",
     MUST},
    {"Kahve içmek istiyorum", B, UNDERSTAND_DEMAND, .product = "kahve", MUST},
    {"latte istiyom", B, UNDERSTAND_DEMAND, .product = "latte"},
    {"tost lazim", B, UNDERSTAND_DEMAND, .product = "tost", MUST},
    {"TOST LAZIM", B, UNDERSTAND_DEMAND, .product = "tost"},
    {"uygun fiyatli kahve ariyorum", B, UNDERSTAND_DEMAND, .product = "kahve"},
    {"LATTE İSTİYORUM", B, UNDERSTAND_DEMAND, .product = "latte"},
    {"LATTE ISTIYORUM", B, UNDERSTAND_DEMAND, .product = "latte"},
    {"Latte istiyorum ☕️", B, UNDERSTAND_DEMAND, .product = "latte"},
    {"latteee istiyorummm", B, UNDERSTAND_DEMAND, .product = "latte"},
    {"istiyorum latte", B, UNDERSTAND_DEMAND, .product = "latte"},
    {"Bir latte alabilir miyim?", B, UNDERSTAND_DEMAND, .product = "latte"},
    {"bi kahve lazım ya", B, UNDERSTAND_DEMAND, .product = "kahve"},
    {"kahve lazımmm", B, UNDERSTAND_DEMAND, .product = "kahve"},
    {"kahvee istiyorum", B, UNDERSTAND_DEMAND, .product = "kahve"},
    {"kahveler ne kadar? bir tane istiyorum", B, UNDERSTAND_DEMAND, .product = "kahve"},
    {"tostu olan var mı? çok acıktım", B, UNDERSTAND_DEMAND, .product = "tost"},
    {"tostlardan bir tane alayım", B, UNDERSTAND_DEMAND, .product = "tost"},
    {"simitten 2 tane alabilir miyim", B, UNDERSTAND_DEMAND, .product = "simit", .quantity = 2},
    {"2 simit lazım", B, UNDERSTAND_DEMAND, .product = "simit", .quantity = 2},
    {"iki simit istiyorum", B, UNDERSTAND_DEMAND, .product = "simit", .quantity = 2},
    {"simitler taze mi? 3 tane alırım", B, UNDERSTAND_DEMAND, .product = "simit", .quantity = 3},
    {"3 poğaça alayım", B, UNDERSTAND_DEMAND, .product = "poğaça", .category = "bakery",
     .quantity = 3},
    {"pogaca lazim", B, UNDERSTAND_DEMAND, .product = "poğaça"},
    {"Poğaçalar sıcak mı, 4 tane alırım", B, UNDERSTAND_DEMAND, .product = "poğaça", .quantity = 4},
    {"50 TL altı kahve arıyorum", B, UNDERSTAND_DEMAND, .product = "kahve", .budget = 5000,
     .currency = "TRY"},
    {"100 lira bütçem var, döner yemek istiyorum", B, UNDERSTAND_DEMAND, .product = "döner",
     .category = "restaurant", .budget = 10000, .currency = "TRY"},
    {"₺80'e kadar lahmacun", B, UNDERSTAND_DEMAND, .product = "lahmacun", .budget = 8000,
     .currency = "TRY"},
    {"kahve 30tl olsun", B, UNDERSTAND_DEMAND, .product = "kahve", .budget = 3000,
     .currency = "TRY"},
    {"12,50 TL'ye tost var mı", B, UNDERSTAND_DEMAND, .product = "tost", .budget = 1250,
     .currency = "TRY"},
    {"en fazla 60₺ verip pide yemek istiyorum", B, UNDERSTAND_DEMAND, .product = "pide",
     .budget = 6000, .currency = "TRY"},
    {"bütçem 200, 4 kişilik pide lazım", B, UNDERSTAND_DEMAND, .product = "pide", .budget = 20000,
     .currency = "TRY", .quantity = 4},
    {"I want a latte", B, UNDERSTAND_DEMAND, .product = "latte"},
    {"I need coffee", B, UNDERSTAND_DEMAND, .product = "kahve", .category = "coffee"},
    {"craving a cappuccino rn", B, UNDERSTAND_DEMAND, .product = "cappuccino"},
    {"looking for cheap burgers", B, UNDERSTAND_DEMAND, .product = "burger",
     .category = "restaurant"},
    {"two lattes please", B, UNDERSTAND_DEMAND, .product = "latte", .quantity = 2},
    {"can i get a croissant for $5", B, UNDERSTAND_DEMAND, .product = "croissant", .budget = 500,
     .currency = "USD"},
    {"need 2 sandwiches under 10 dollars", B, UNDERSTAND_DEMAND, .product = "sandviç",
     .quantity = 2, .budget = 1000, .currency = "USD"},
    {"I'd like a tea", B, UNDERSTAND_DEMAND, .product = "çay"},
    {"any pizza nearby? so hungry", B, UNDERSTAND_DEMAND, .product = "pizza"},
    {"want a burger now", B, UNDERSTAND_DEMAND, .product = "burger"},
    {"Coffee please", B, UNDERSTAND_DEMAND, .product = "kahve"},
    {"latte bi tane lütfen, 5 euro max", B, UNDERSTAND_DEMAND, .product = "latte", .budget = 500,
     .currency = "EUR"},
    {"canım baklava çekti", B, UNDERSTAND_DEMAND, .product = "baklava", .category = "dessert"},
    {"künefe yiyesim var", B, UNDERSTAND_DEMAND, .product = "künefe", .category = "dessert"},
    {"dondurma istiyorum 🍦", B, UNDERSTAND_DEMAND, .product = "dondurma"},
    {"pizza lazım acil", B, UNDERSTAND_DEMAND, .product = "pizza", .category = "restaurant"},
    {"öğle yemeği için köfte arıyorum", B, UNDERSTAND_DEMAND, .product = "köfte"},
    {"Çay var mı?", B, UNDERSTAND_DEMAND, .product = "çay", .category = "coffee"},
    {"cay var mi", B, UNDERSTAND_DEMAND, .product = "çay"},
    {"çaylar kaç para, bir çay alayım", B, UNDERSTAND_DEMAND, .product = "çay"},
    {"filtre kahve istiyorum", B, UNDERSTAND_DEMAND, .product = "filtre kahve",
     .category = "coffee"},
    {"Türk kahvesi lazım", B, UNDERSTAND_DEMAND, .product = "türk kahvesi"},
    {"ekmek lazım", B, UNDERSTAND_DEMAND, .product = "ekmek", .category = "bakery"},
    {"taze ekmek arıyorum", B, UNDERSTAND_DEMAND, .product = "ekmek"},
    {"süt ve yumurta lazım", B, UNDERSTAND_DEMAND, .product = "süt", .category = "grocery"},
    {"meyve sebze nerede ucuz", B, UNDERSTAND_DEMAND, .product = "meyve", .category = "grocery"},
    {"1 kg kıyma lazım", B, UNDERSTAND_DEMAND, .product = "kıyma", .category = "butcher"},
    {"tavuk arıyorum", B, UNDERSTAND_DEMAND, .product = "tavuk", .category = "butcher"},
    {"Saç tıraşı olmak istiyorum", B, UNDERSTAND_DEMAND, .category = "barber"},
    {"sakal tıraşı lazım", B, UNDERSTAND_DEMAND, .category = "barber"},
    {"haircut needed today", B, UNDERSTAND_DEMAND, .product = "saç", .category = "barber"},
    {"berber arıyorum", B, UNDERSTAND_DEMAND, .product = "", .category = "barber"},
    {"kasap lazım", B, UNDERSTAND_DEMAND, .product = "", .category = "butcher"},
    {"americano var mı acaba", B, UNDERSTAND_DEMAND, .product = "americano"},
    {"espresso içmek istiyorum", B, UNDERSTAND_DEMAND, .product = "espresso"},
    {"Sıcak bir çorba içmek istiyorum", B, UNDERSTAND_DEMAND, .product = "çorba",
     .category = "restaurant"},
    {"mantı yiyesim var", B, UNDERSTAND_DEMAND, .product = "mantı"},
    {"pide istiyoruz 3 kişiyiz", B, UNDERSTAND_DEMAND, .product = "pide", .quantity = 3},
    {"lahmcun istiyorum", B, UNDERSTAND_DEMAND, .product = "lahmacun"},
    {"waffle lazım 🧇", B, UNDERSTAND_DEMAND, .product = "waffle", .category = "dessert"},
    {"kek var mı", B, UNDERSTAND_DEMAND, .product = "kek", .category = "dessert"},
    {"tatlı bir şeyler arıyorum", B, UNDERSTAND_DEMAND, .product = "tatlı", .category = "dessert"},
    {"latte", B, UNDERSTAND_DEMAND, .product = "latte"},
    {"simit", B, UNDERSTAND_DEMAND, .product = "simit"},
    {"ucuz döner", B, UNDERSTAND_DEMAND, .product = "döner"},
    {"sütlaç var mı", B, UNDERSTAND_DEMAND, .product = "sütlaç"},
    {"kebabı olan yer var mı", B, UNDERSTAND_DEMAND, .product = "kebap"},
    {"simidi var mı", B, UNDERSTAND_DEMAND, .product = "simit"},
    {"fırında poğaça var mı", B, UNDERSTAND_DEMAND, .product = "poğaça"},
    {"Moda'da latte istiyorum", B, UNDERSTAND_DEMAND, .product = "latte"},
    {"börekçiden su böreği istiyorum", B, UNDERSTAND_DEMAND, .category = "bakery"},
    {"croissant lazım, kruvasan yani 😅", B, UNDERSTAND_DEMAND, .product = "croissant"},
    {"açma istiyorum", B, UNDERSTAND_DEMAND, .product = "açma", .category = "bakery"},

    /* ---- buyer: join ---- */
    {"katıl", B, UNDERSTAND_JOIN, MUST},
    {"Katıl", B, UNDERSTAND_JOIN, PLAIN},
    {"KATIL", B, UNDERSTAND_JOIN, MUST},
    {"katil", B, UNDERSTAND_JOIN, MUST},
    {"katılıyorum", B, UNDERSTAND_JOIN, PLAIN},
    {"katiliyorum", B, UNDERSTAND_JOIN, PLAIN},
    {"katılmak istiyorum", B, UNDERSTAND_JOIN, PLAIN},
    {"ben de varım", B, UNDERSTAND_JOIN, PLAIN},
    {"varım!", B, UNDERSTAND_JOIN, PLAIN},
    {"geliyorum", B, UNDERSTAND_JOIN, PLAIN},
    {"10 dk içinde geliyorum", B, UNDERSTAND_JOIN, PLAIN},
    {"tamamdır geliyorum", B, UNDERSTAND_JOIN, PLAIN},
    {"evet", B, UNDERSTAND_JOIN, MUST},
    {"Evet!", B, UNDERSTAND_JOIN, PLAIN},
    {"EVET", B, UNDERSTAND_JOIN, PLAIN},
    {"tamam", B, UNDERSTAND_JOIN, MUST},
    {"olur", B, UNDERSTAND_JOIN, PLAIN},
    {"1", B, UNDERSTAND_JOIN, .choice = 1, MUST},
    {"2", B, UNDERSTAND_JOIN, .choice = 2},
    {"3.", B, UNDERSTAND_JOIN, .choice = 3},
    {"👍", B, UNDERSTAND_JOIN, PLAIN},
    {"evet katılıyorum 👍", B, UNDERSTAND_JOIN, PLAIN},
    {"I'm in", B, UNDERSTAND_JOIN, PLAIN},
    {"count me in!", B, UNDERSTAND_JOIN, PLAIN},
    {"yes", B, UNDERSTAND_JOIN, PLAIN},
    {"ok", B, UNDERSTAND_JOIN, PLAIN},
    {"join", B, UNDERSTAND_JOIN, PLAIN},
    {"sure, I'll come", B, UNDERSTAND_JOIN, PLAIN},
    {"kabul", B, UNDERSTAND_JOIN, PLAIN},
    {"katılıyorum 2 kişiyiz", B, UNDERSTAND_JOIN, .quantity = 2},
    {"evet 3 kişi geliyoruz", B, UNDERSTAND_JOIN, .quantity = 3},
    {"katilyorum", B, UNDERSTAND_JOIN, PLAIN},

    /* ---- buyer: decline ---- */
    {"hayır", B, UNDERSTAND_DECLINE, MUST},
    {"Hayır teşekkürler", B, UNDERSTAND_DECLINE, PLAIN},
    {"hayir", B, UNDERSTAND_DECLINE, PLAIN},
    {"HAYIR", B, UNDERSTAND_DECLINE, PLAIN},
    {"istemiyorum", B, UNDERSTAND_DECLINE, PLAIN},
    {"yok istemem", B, UNDERSTAND_DECLINE, PLAIN},
    {"gerek yok", B, UNDERSTAND_DECLINE, PLAIN},
    {"kalsın sağol", B, UNDERSTAND_DECLINE, PLAIN},
    {"no", B, UNDERSTAND_DECLINE, PLAIN},
    {"no thanks", B, UNDERSTAND_DECLINE, PLAIN},
    {"not interested", B, UNDERSTAND_DECLINE, PLAIN},
    {"ilgilenmiyorum", B, UNDERSTAND_DECLINE, PLAIN},
    {"katılmıyorum", B, UNDERSTAND_DECLINE, PLAIN},
    {"olmaz", B, UNDERSTAND_DECLINE, PLAIN},
    {"👎", B, UNDERSTAND_DECLINE, PLAIN},
    {"pas geçiyorum", B, UNDERSTAND_DECLINE, PLAIN},
    {"bu sefer pas", B, UNDERSTAND_DECLINE, PLAIN},
    {"nope", B, UNDERSTAND_DECLINE, PLAIN},
    {"latte istemiyorum", B, UNDERSTAND_DECLINE, PLAIN},

    /* ---- buyer: cancel ---- */
    {"iptal", B, UNDERSTAND_CANCEL, MUST},
    {"iptal et", B, UNDERSTAND_CANCEL, PLAIN},
    {"İPTAL", B, UNDERSTAND_CANCEL, PLAIN},
    {"vazgeçtim", B, UNDERSTAND_CANCEL, PLAIN},
    {"vazgectim", B, UNDERSTAND_CANCEL, PLAIN},
    {"gelemiyorum", B, UNDERSTAND_CANCEL, MUST},
    {"gelemiyorum kusura bakma", B, UNDERSTAND_CANCEL, PLAIN},
    {"yetişemiyorum 😞", B, UNDERSTAND_CANCEL, PLAIN},
    {"cancel", B, UNDERSTAND_CANCEL, PLAIN},
    {"sorry can't make it", B, UNDERSTAND_CANCEL, PLAIN},
    {"planım değişti gelemeyeceğim", B, UNDERSTAND_CANCEL, PLAIN},
    {"vazgeçtim, iptal edin", B, UNDERSTAND_CANCEL, PLAIN},
    {"evet dedim ama gelemiyorum", B, UNDERSTAND_CANCEL, PLAIN},

    /* ---- buyer: deals ---- */
    {"Market indirimi var mı?", B, UNDERSTAND_DEALS_QUERY, .category = "grocery", MUST},
    {"market indirimi var mi", B, UNDERSTAND_DEALS_QUERY, .category = "grocery"},
    {"indirim var mı", B, UNDERSTAND_DEALS_QUERY, PLAIN},
    {"bugün fırsat var mı?", B, UNDERSTAND_DEALS_QUERY, PLAIN},
    {"kampanya var mı", B, UNDERSTAND_DEALS_QUERY, PLAIN},
    {"neler var bugün", B, UNDERSTAND_DEALS_QUERY, PLAIN},
    {"fırsatlar neler", B, UNDERSTAND_DEALS_QUERY, PLAIN},
    {"kahve indirimi var mı", B, UNDERSTAND_DEALS_QUERY, .product = "kahve"},
    {"any deals?", B, UNDERSTAND_DEALS_QUERY, PLAIN},
    {"any offers near me", B, UNDERSTAND_DEALS_QUERY, PLAIN},
    {"discounts today?", B, UNDERSTAND_DEALS_QUERY, PLAIN},
    {"yakında indirimli kahve var mı", B, UNDERSTAND_DEALS_QUERY, .product = "kahve"},
    {"Bugünkü kampanyalar", B, UNDERSTAND_DEALS_QUERY, PLAIN},
    {"what deals do you have", B, UNDERSTAND_DEALS_QUERY, PLAIN},
    {"döner fırsatı var mı", B, UNDERSTAND_DEALS_QUERY, .product = "döner"},
    {"INDIRIM VAR MI", B, UNDERSTAND_DEALS_QUERY, PLAIN},

    /* ---- buyer: opt out / opt in ---- */
    {"dur", B, UNDERSTAND_OPT_OUT, MUST},
    {"DUR", B, UNDERSTAND_OPT_OUT, PLAIN},
    {"stop", B, UNDERSTAND_OPT_OUT, MUST},
    {"STOP", B, UNDERSTAND_OPT_OUT, PLAIN},
    {"durdur", B, UNDERSTAND_OPT_OUT, PLAIN},
    {"abonelikten çık", B, UNDERSTAND_OPT_OUT, PLAIN},
    {"aboneliğimi iptal et", B, UNDERSTAND_OPT_OUT, PLAIN},
    {"bana mesaj atmayın", B, UNDERSTAND_OPT_OUT, PLAIN},
    {"beni listeden çıkarın", B, UNDERSTAND_OPT_OUT, PLAIN},
    {"unsubscribe", B, UNDERSTAND_OPT_OUT, PLAIN},
    {"please stop messaging me", B, UNDERSTAND_OPT_OUT, PLAIN},
    {"mesaj istemiyorum artık", B, UNDERSTAND_OPT_OUT, PLAIN},
    {"başla", B, UNDERSTAND_OPT_IN, MUST},
    {"basla", B, UNDERSTAND_OPT_IN, PLAIN},
    {"BAŞLA", B, UNDERSTAND_OPT_IN, PLAIN},
    {"start", B, UNDERSTAND_OPT_IN, PLAIN},
    {"tekrar aç", B, UNDERSTAND_OPT_IN, PLAIN},
    {"yeniden başla", B, UNDERSTAND_OPT_IN, PLAIN},
    {"abone ol", B, UNDERSTAND_OPT_IN, PLAIN},
    {"subscribe", B, UNDERSTAND_OPT_IN, PLAIN},

    /* ---- buyer: location ---- */
    {"konumum Moda", B, UNDERSTAND_LOCATION, PLAIN},
    {"Moda'dayım", B, UNDERSTAND_LOCATION, PLAIN},
    {"Kadıköy'deyim", B, UNDERSTAND_LOCATION, PLAIN},
    {"Beşiktaş", B, UNDERSTAND_LOCATION, PLAIN},
    {"adresim Bornova", B, UNDERSTAND_LOCATION, PLAIN},
    {"konum: Üsküdar", B, UNDERSTAND_LOCATION, PLAIN},
    {"I'm at Moda", B, UNDERSTAND_LOCATION, PLAIN},
    {"my location is Karaköy", B, UNDERSTAND_LOCATION, PLAIN},

    /* ---- both: help, greeting ---- */
    {"yardım", B, UNDERSTAND_HELP, MUST},
    {"yardim", B, UNDERSTAND_HELP, PLAIN},
    {"YARDIM", B, UNDERSTAND_HELP, PLAIN},
    {"help", B, UNDERSTAND_HELP, MUST},
    {"nasıl çalışıyor?", B, UNDERSTAND_HELP, PLAIN},
    {"bu nasıl çalışır", B, UNDERSTAND_HELP, PLAIN},
    {"how does it work?", B, UNDERSTAND_HELP, PLAIN},
    {"ne yapabilirim burada", B, UNDERSTAND_HELP, PLAIN},
    {"komutlar", B, UNDERSTAND_HELP, PLAIN},
    {"yardım edebilir misin", B, UNDERSTAND_HELP, PLAIN},
    {"merhaba", B, UNDERSTAND_GREETING, MUST},
    {"Merhabaaa", B, UNDERSTAND_GREETING, PLAIN},
    {"selam", B, UNDERSTAND_GREETING, PLAIN},
    {"slm", B, UNDERSTAND_GREETING, PLAIN},
    {"mrb", B, UNDERSTAND_GREETING, PLAIN},
    {"günaydın", B, UNDERSTAND_GREETING, PLAIN},
    {"Günaydın ☀️", B, UNDERSTAND_GREETING, PLAIN},
    {"hi", B, UNDERSTAND_GREETING, PLAIN},
    {"hello there", B, UNDERSTAND_GREETING, PLAIN},
    {"iyi akşamlar", B, UNDERSTAND_GREETING, PLAIN},
    {"selamün aleyküm", B, UNDERSTAND_GREETING, PLAIN},
    {"Hey 👋", B, UNDERSTAND_GREETING, PLAIN},
    {"merhaba latte istiyorum", B, UNDERSTAND_DEMAND, .product = "latte"},
    {"selam, indirim var mı?", B, UNDERSTAND_DEALS_QUERY, PLAIN},

    /* ---- buyer: nothing to act on ---- */
    {"", B, UNDERSTAND_UNKNOWN, PLAIN},
    {"😀😀😀", B, UNDERSTAND_UNKNOWN, PLAIN},
    {"asdfgh", B, UNDERSTAND_UNKNOWN, PLAIN},
    {"hava bugün çok güzel", B, UNDERSTAND_UNKNOWN, PLAIN},
    {"teşekkürler", B, UNDERSTAND_UNKNOWN, PLAIN},
    {"...", B, UNDERSTAND_UNKNOWN, PLAIN},
    {"12345", B, UNDERSTAND_UNKNOWN, PLAIN},
    {"Bu saat boşum", B, UNDERSTAND_UNKNOWN, PLAIN},

    /* ---- seller: idle ---- */
    {"Bu saat boşum", S, UNDERSTAND_SELLER_IDLE, MUST},
    {"Yoğunluk düşük", S, UNDERSTAND_SELLER_IDLE, MUST},
    {"yogunluk dusuk", S, UNDERSTAND_SELLER_IDLE, MUST},
    {"YOĞUNLUK DÜŞÜK", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"Yoğunluk DÜŞÜK 😊", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"şu an boşuz", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"bosuz", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"dükkan bomboş", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"müşteri yok", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"musteri yok", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"hiç müşteri yok bugün", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"kimse gelmiyor", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"çok sakin", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"sakiniz şu an", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"ortalık durgun", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"yoğun değiliz", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"masalar boş", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"it's quiet now", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"we're idle", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"no customers right now", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"not busy at all", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"slow afternoon", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"14:00-15:00 arası boşum", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"yer var, müşteri gönderin", S, UNDERSTAND_SELLER_IDLE, PLAIN},

    /* ---- seller: busy ---- */
    {"çok yoğunuz", S, UNDERSTAND_SELLER_BUSY, PLAIN},
    {"yoğunuz", S, UNDERSTAND_SELLER_BUSY, PLAIN},
    {"yogunuz", S, UNDERSTAND_SELLER_BUSY, PLAIN},
    {"dolu", S, UNDERSTAND_SELLER_BUSY, PLAIN},
    {"doluyuz", S, UNDERSTAND_SELLER_BUSY, PLAIN},
    {"şu an kalabalık", S, UNDERSTAND_SELLER_BUSY, PLAIN},
    {"kalabalığız", S, UNDERSTAND_SELLER_BUSY, PLAIN},
    {"yer yok", S, UNDERSTAND_SELLER_BUSY, PLAIN},
    {"yoğunluk yüksek", S, UNDERSTAND_SELLER_BUSY, PLAIN},
    {"we're busy", S, UNDERSTAND_SELLER_BUSY, PLAIN},
    {"full right now", S, UNDERSTAND_SELLER_BUSY, PLAIN},
    {"packed!", S, UNDERSTAND_SELLER_BUSY, PLAIN},
    {"çok yoğun şu an, sonra yazarım", S, UNDERSTAND_SELLER_BUSY, PLAIN},

    /* ---- seller: surplus ---- */
    {"Stok fazlası ürün var", S, UNDERSTAND_SELLER_SURPLUS, MUST},
    {"stok fazlasi urun var", S, UNDERSTAND_SELLER_SURPLUS, PLAIN},
    {"elimde çok simit kaldı", S, UNDERSTAND_SELLER_SURPLUS, .product = "simit",
     .category = "bakery"},
    {"20 poğaça kaldı", S, UNDERSTAND_SELLER_SURPLUS, .product = "poğaça", .quantity = 20},
    {"fazla ürün var indirim yapabilirim", S, UNDERSTAND_SELLER_SURPLUS, PLAIN},
    {"5 kg kıyma fazlası var", S, UNDERSTAND_SELLER_SURPLUS, .product = "kıyma"},
    {"bugün çok börek kaldı", S, UNDERSTAND_SELLER_SURPLUS, .product = "börek"},
    {"akşama kadar bozulacak 10 ekmek var", S, UNDERSTAND_SELLER_SURPLUS, .product = "ekmek",
     .quantity = 10},
    {"surplus croissants today", S, UNDERSTAND_SELLER_SURPLUS, .product = "croissant"},
    {"we have leftover bagels", S, UNDERSTAND_SELLER_SURPLUS, .product = "bagel"},
    {"stok fazla", S, UNDERSTAND_SELLER_SURPLUS, PLAIN},
    {"elimde fazla süt var", S, UNDERSTAND_SELLER_SURPLUS, .product = "süt", .category = "grocery"},
    {"elimde çok açma kaldı", S, UNDERSTAND_SELLER_SURPLUS, PLAIN},
    {"15 tane baklava satılmadı", S, UNDERSTAND_SELLER_SURPLUS, .product = "baklava",
     .quantity = 15},

    /* ---- seller: redeem ---- */
    {"kod K7M2PX", S, UNDERSTAND_SELLER_REDEEM, .code = "K7M2PX", MUST},
    {"K7M2PX", S, UNDERSTAND_SELLER_REDEEM, .code = "K7M2PX"},
    {"k7m2px", S, UNDERSTAND_SELLER_REDEEM, .code = "K7M2PX"},
    {"Kod: 9XHT3A", S, UNDERSTAND_SELLER_REDEEM, .code = "9XHT3A"},
    {"müşteri geldi kodu 4RTY7P", S, UNDERSTAND_SELLER_REDEEM, .code = "4RTY7P"},
    {"code ABC234 redeemed", S, UNDERSTAND_SELLER_REDEEM, .code = "ABC234"},
    {"H2J8KM kodlu müşteri geldi", S, UNDERSTAND_SELLER_REDEEM, .code = "H2J8KM"},
    {"K7M2PX geldi", S, UNDERSTAND_SELLER_REDEEM, .code = "K7M2PX"},

    /* ---- seller: approve / reject ---- */
    {"evet", S, UNDERSTAND_SELLER_APPROVE, MUST},
    {"Evet", S, UNDERSTAND_SELLER_APPROVE, PLAIN},
    {"onaylıyorum", S, UNDERSTAND_SELLER_APPROVE, PLAIN},
    {"onayliyorum", S, UNDERSTAND_SELLER_APPROVE, PLAIN},
    {"tamam aç", S, UNDERSTAND_SELLER_APPROVE, MUST},
    {"olur açalım", S, UNDERSTAND_SELLER_APPROVE, PLAIN},
    {"ok", S, UNDERSTAND_SELLER_APPROVE, PLAIN},
    {"yes", S, UNDERSTAND_SELLER_APPROVE, PLAIN},
    {"👍", S, UNDERSTAND_SELLER_APPROVE, PLAIN},
    {"onay", S, UNDERSTAND_SELLER_APPROVE, PLAIN},
    {"kabul", S, UNDERSTAND_SELLER_APPROVE, PLAIN},
    {"tamam, açabilirsin", S, UNDERSTAND_SELLER_APPROVE, PLAIN},
    {"approve", S, UNDERSTAND_SELLER_APPROVE, PLAIN},
    {"go ahead", S, UNDERSTAND_SELLER_APPROVE, PLAIN},
    {"tamamdır", S, UNDERSTAND_SELLER_APPROVE, PLAIN},
    {"hayır", S, UNDERSTAND_SELLER_REJECT, MUST},
    {"açma", S, UNDERSTAND_SELLER_REJECT, MUST},
    {"hayir", S, UNDERSTAND_SELLER_REJECT, PLAIN},
    {"şimdi değil", S, UNDERSTAND_SELLER_REJECT, PLAIN},
    {"istemiyorum", S, UNDERSTAND_SELLER_REJECT, PLAIN},
    {"olmaz", S, UNDERSTAND_SELLER_REJECT, PLAIN},
    {"no", S, UNDERSTAND_SELLER_REJECT, PLAIN},
    {"reddet", S, UNDERSTAND_SELLER_REJECT, PLAIN},
    {"not now", S, UNDERSTAND_SELLER_REJECT, PLAIN},
    {"hayır açmayalım", S, UNDERSTAND_SELLER_REJECT, PLAIN},
    {"kabul etmiyorum", S, UNDERSTAND_SELLER_REJECT, PLAIN},
    {"👎", S, UNDERSTAND_SELLER_REJECT, PLAIN},

    /* ---- seller: help, greeting, nothing ---- */
    {"yardım", S, UNDERSTAND_HELP, PLAIN},
    {"help", S, UNDERSTAND_HELP, PLAIN},
    {"merhaba", S, UNDERSTAND_GREETING, PLAIN},
    {"günaydın", S, UNDERSTAND_GREETING, PLAIN},
    {"latte istiyorum", S, UNDERSTAND_UNKNOWN, PLAIN},
    {"katıl", S, UNDERSTAND_UNKNOWN, PLAIN},
    {"hava çok güzel", S, UNDERSTAND_UNKNOWN, PLAIN},
    {"", S, UNDERSTAND_UNKNOWN, PLAIN},

    /* ---- written after the lexicons were settled, to keep the figure honest ---- */
    {"Moda'da uygun bir kahveci biliyor musun?", B, UNDERSTAND_DEMAND, .category = "coffee"},
    {"acil 2 tost 1 çay", B, UNDERSTAND_DEMAND, .product = "tost", .quantity = 2},
    {"bana 1 latte ayarla", B, UNDERSTAND_DEMAND, .product = "latte", .quantity = 1},
    {"şu an açık kahveci var mı", B, UNDERSTAND_DEMAND, .category = "coffee"},
    {"kahve molası vermek istiyorum", B, UNDERSTAND_DEMAND, .product = "kahve"},
    {"bugün tatlı yok mu?", B, UNDERSTAND_DEMAND, .product = "tatlı"},
    {"yarın sabah simit alırım", B, UNDERSTAND_DEMAND, .product = "simit"},
    {"Evet, 2 kişi katılıyoruz", B, UNDERSTAND_JOIN, .quantity = 2},
    {"gelcem", B, UNDERSTAND_JOIN, PLAIN},
    {"katılcam", B, UNDERSTAND_JOIN, PLAIN},
    {"hayır ya sonra bakarım", B, UNDERSTAND_DECLINE, PLAIN},
    {"bu akşam gelemem", B, UNDERSTAND_CANCEL, PLAIN},
    {"sipariş iptal", B, UNDERSTAND_CANCEL, PLAIN},
    {"artık mesaj gelmesin", B, UNDERSTAND_OPT_OUT, PLAIN},
    {"bildirim istemiyorum", B, UNDERSTAND_OPT_OUT, PLAIN},
    {"nasıl katılırım?", B, UNDERSTAND_HELP, PLAIN},
    {"fiyatlar ne kadar", B, UNDERSTAND_DEALS_QUERY, PLAIN},
    {"kampanyalı dönerci var mı", B, UNDERSTAND_DEALS_QUERY, .category = "restaurant"},
    {"hi, do you have any coffee deals", B, UNDERSTAND_DEALS_QUERY, .product = "kahve"},
    {"I'd love a flat white", B, UNDERSTAND_DEMAND, .product = "flat white"},
    {"Cheap lunch around Kadıköy?", B, UNDERSTAND_DEMAND, .product = "yemek"},
    {"kadıköydeyim latte lazım", B, UNDERSTAND_DEMAND, .product = "latte"},
    {"is there a barber open now", B, UNDERSTAND_DEMAND, .category = "barber"},
    {"teşekkürler, görüşürüz", B, UNDERSTAND_UNKNOWN, PLAIN},
    {"tamam teşekkürler", B, UNDERSTAND_JOIN, PLAIN},
    {"yok sağol", B, UNDERSTAND_DECLINE, PLAIN},
    {"Günaydın, bugün simit fırsatı var mı?", B, UNDERSTAND_DEALS_QUERY, .product = "simit"},
    {"iptal etmek istiyorum", B, UNDERSTAND_CANCEL, PLAIN},
    {"tmm", B, UNDERSTAND_JOIN, PLAIN},
    {"evt", B, UNDERSTAND_JOIN, PLAIN},
    {"şu saatler çok ölü", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"öğleden sonra boş oluyoruz", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"masa çok, müşteri yok", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"bugün işler kesat", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"içerisi tıklım tıklım", S, UNDERSTAND_SELLER_BUSY, PLAIN},
    {"sıra var şu an", S, UNDERSTAND_SELLER_BUSY, PLAIN},
    {"30 simit elimizde kaldı", S, UNDERSTAND_SELLER_SURPLUS, .product = "simit", .quantity = 30},
    {"Akşam 10 porsiyon mantı artacak", S, UNDERSTAND_SELLER_SURPLUS, .product = "mantı"},
    {"Kod 7KQ2MX", S, UNDERSTAND_SELLER_REDEEM, .code = "7KQ2MX"},
    {"müşteri kodu: PX4K9R", S, UNDERSTAND_SELLER_REDEEM, .code = "PX4K9R"},
    {"olur, 15 dk açalım", S, UNDERSTAND_SELLER_APPROVE, PLAIN},
    {"bu sefer geçelim", S, UNDERSTAND_SELLER_REJECT, PLAIN},
    {"Onaylıyorum 👍", S, UNDERSTAND_SELLER_APPROVE, PLAIN},
    {"bugün açmayalım", S, UNDERSTAND_SELLER_REJECT, PLAIN},
    {"stokta çok fazla yumurta var", S, UNDERSTAND_SELLER_SURPLUS, .product = "yumurta"},
    {"tmm", S, UNDERSTAND_SELLER_APPROVE, PLAIN},

    /* ---- a second sample, written blind and left as it scored (misses are real gaps) ---- */
    {"Selam, bugün latte indirimi olan yer var mı?", B, UNDERSTAND_DEALS_QUERY, .product = "latte"},
    {"2 tane çay 1 simit alıcam", B, UNDERSTAND_DEMAND, .product = "çay", .quantity = 2},
    {"Akşam yemeği için ucuz bir yer lazım", B, UNDERSTAND_DEMAND, .product = "yemek"},
    {"hamburger yiyebilir miyim 40 tl'ye", B, UNDERSTAND_DEMAND, .product = "burger",
     .budget = 4000, .currency = "TRY"},
    {"ben gelemicem", B, UNDERSTAND_CANCEL, PLAIN},
    {"sayılmaz, vazgeçiyorum", B, UNDERSTAND_CANCEL, PLAIN},
    {"Tekrar mesaj almak istiyorum", B, UNDERSTAND_OPT_IN, PLAIN},
    {"dondurmacı var mı yakında", B, UNDERSTAND_DEMAND, .category = "dessert"},
    {"Kahvaltılık bir şeyler lazım", B, UNDERSTAND_DEMAND, PLAIN},
    {"I'll pass", B, UNDERSTAND_DECLINE, PLAIN},
    {"nope, not today", B, UNDERSTAND_DECLINE, PLAIN},
    {"Where can I get cheap coffee?", B, UNDERSTAND_DEMAND, .product = "kahve"},
    {"is there any discount on pizza", B, UNDERSTAND_DEALS_QUERY, .product = "pizza"},
    {"çıkmak istiyorum listeden", B, UNDERSTAND_OPT_OUT, PLAIN},
    {"yardım lazım", B, UNDERSTAND_HELP, PLAIN},
    {"Konumumu paylaştım", B, UNDERSTAND_LOCATION, PLAIN},
    {"bugün öğlen çok boştuk", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"şu an dükkan dolu, yarım saat sonra yazarım", S, UNDERSTAND_SELLER_BUSY, PLAIN},
    {"10 tane pasta elde kaldı", S, UNDERSTAND_SELLER_SURPLUS, .product = "pasta", .quantity = 10},
    {"fazladan 3 kilo tavuk var", S, UNDERSTAND_SELLER_SURPLUS, .product = "tavuk"},
    {"kodu 6MN3QW", S, UNDERSTAND_SELLER_REDEEM, .code = "6MN3QW"},
    {"tamamdır kampanyayı açın", S, UNDERSTAND_SELLER_APPROVE, PLAIN},
    {"yok şu an istemiyorum", S, UNDERSTAND_SELLER_REJECT, PLAIN},
    {"müşterim yok hiç", S, UNDERSTAND_SELLER_IDLE, PLAIN},
    {"stoklarımız fazla", S, UNDERSTAND_SELLER_SURPLUS, PLAIN},
};

static int entities_checked(const struct labelled *c)
{
    return c->product || c->category || c->budget || c->quantity || c->code || c->choice;
}

static int entities_match(const struct labelled *c, const struct understanding *u)
{
    if (c->product && strcmp(c->product, u->product) != 0)
        return 0;
    if (c->category && strcmp(c->category, u->category) != 0)
        return 0;
    if (c->budget && (c->budget != u->budget || strcmp(c->currency, u->currency) != 0))
        return 0;
    if (c->quantity && c->quantity != u->quantity)
        return 0;
    if (c->code && strcmp(c->code, u->code) != 0)
        return 0;
    if (c->choice && c->choice != u->choice)
        return 0;
    return 1;
}

static void test_corpus(void **state)
{
    (void)state;
    size_t n = sizeof(corpus) / sizeof(corpus[0]);
    int intent_ok = 0, ent_n = 0, ent_ok = 0, must_bad = 0;
    for (size_t i = 0; i < n; i++) {
        const struct labelled *c = &corpus[i];
        struct understanding u;
        struct err e;
        err_init(&e);
        assert_int_equal(understand_text(c->text, c->role, &u, &e), 0);
        assert_true(u.confidence >= 0 && u.confidence <= 1);
        int ok_i = u.intent == c->intent;
        int ok_e = 1;
        intent_ok += ok_i;
        if (entities_checked(c)) {
            ent_n++;
            ok_e = entities_match(c, &u);
            ent_ok += ok_e;
        }
        if (!ok_i || !ok_e) {
            printf("  %s %-7s \"%s\": want %s got %s %.2f product=\"%s\" category=\"%s\" "
                   "budget=%lld%s quantity=%d code=\"%s\" choice=%d\n",
                   c->must ? "MUST" : "miss", understand_role_names[c->role], c->text,
                   understand_intent_names[c->intent], understand_intent_names[u.intent],
                   u.confidence, u.product, u.category, (long long)u.budget, u.currency, u.quantity,
                   u.code, u.choice);
            must_bad += c->must;
        }
    }
    double pct = 100.0 * intent_ok / (double)n;
    printf("understand: tuning corpus (the rules were tuned on it, the model trains on it; not a "
           "measurement): intent %d/%zu = %.1f%%, entities %d/%d\n",
           intent_ok, n, pct, ent_ok, ent_n);
    assert_true(n >= 220);
    assert_int_equal(must_bad, 0);
    assert_true(pct >= 90.0);
}

/* The rules' confidence: exact cues are confident, typos less so, nothing is 0, conflicts lower it.
 */
static void test_confidence(void **state)
{
    (void)state;
    struct understanding u;
    struct err e;
    err_init(&e);
    assert_int_equal(understand_rules("katıl", B, &u, &e), 0);
    assert_true(u.confidence >= 0.9);
    assert_int_equal(understand_rules("katil", B, &u, &e), 0);
    double fold = u.confidence;
    assert_true(fold >= UNDERSTAND_CONFIDENT && fold < 0.95);
    assert_int_equal(understand_rules("istiyrum", B, &u, &e), 0);
    assert_int_equal(u.intent, UNDERSTAND_DEMAND);
    assert_true(u.confidence < fold);
    assert_int_equal(understand_rules("tamam açma", S, &u, &e), 0);
    assert_true(u.confidence < UNDERSTAND_CONFIDENT);
    assert_int_equal(understand_rules("hmm", B, &u, &e), 0);
    assert_int_equal(u.intent, UNDERSTAND_UNKNOWN);
    assert_true(u.confidence == 0);
    assert_int_equal(
        understand_rules("dün akşam arkadaşlarla çok güzel bir kahve içtik", B, &u, &e), 0);
    assert_true(u.confidence < UNDERSTAND_CONFIDENT);
}

static void test_normalise(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"İSTANBUL", "istanbul"},
        {"KATIL", "katil"},
        {"Yoğunluk DÜŞÜK 😊", "yogunluk dusuk"},
        {"  Merhaba,   dünya!! ", "merhaba dunya"},
        {"ŞĞÜÖÇIİ şğüöçıi âîû", "sguocii sguocii aiu"},
        {"ＬＡＴＴＥ", "latte"},          /* NFKC: full-width letters */
        {"I\xcc\x87stanbul", "istanbul"}, /* I + combining dot above = İ */
        {"Moda'dayım", "modadayim"},
        {"12,50 TL", "12,50 tl"},
        {"merhabaaaa", "merhaba"},
        {"👍", ""},
        {"", ""},
    };
    char out[128];
    struct err e;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err_init(&e);
        assert_int_equal(understand_normalise(cases[i].in, out, sizeof(out), &e), 0);
        assert_string_equal(out, cases[i].out);
    }
    err_init(&e);
    assert_int_equal(understand_normalise("merhaba dünya", out, 5, &e), ERR_INVALID);
}

static void test_invalid_input(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\xff\xfe",
        "kahve \xc3",             /* truncated sequence */
        "\xc0\xaf",               /* overlong '/' */
        "\xed\xa0\x80",           /* UTF-16 surrogate */
        "latte \xf4\x90\x80\x80", /* above U+10FFFF */
    };
    struct understanding u;
    char out[64];
    struct err e;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_init(&e);
        assert_int_equal(understand_text(bad[i], B, &u, &e), ERR_INVALID);
        assert_int_equal(e.code, ERR_INVALID);
        err_init(&e);
        assert_int_equal(understand_normalise(bad[i], out, sizeof(out), &e), ERR_INVALID);
    }

    char *big = malloc(UNDERSTAND_TEXT_MAX + 2);
    assert_non_null(big);
    memset(big, 'a', UNDERSTAND_TEXT_MAX + 1);
    big[UNDERSTAND_TEXT_MAX + 1] = '\0';
    err_init(&e);
    assert_int_equal(understand_text(big, B, &u, &e), ERR_INVALID);
    big[UNDERSTAND_TEXT_MAX] = '\0'; /* exactly the limit is fine */
    err_init(&e);
    assert_int_equal(understand_text(big, B, &u, &e), 0);
    free(big);

    err_init(&e);
    assert_int_equal(understand_text("katıl", (enum understand_role)7, &u, &e), ERR_INVALID);
}

static void test_empty(void **state)
{
    (void)state;
    struct understanding u;
    struct err e;
    err_init(&e);
    assert_int_equal(understand_text("", B, &u, &e), 0);
    assert_int_equal(u.intent, UNDERSTAND_UNKNOWN);
    assert_true(u.confidence == 0);
    assert_string_equal(u.product, "");
    assert_string_equal(u.currency, "");
    assert_int_equal(u.budget, 0);
    assert_int_equal(understand_text(" \t\n ?! ", S, &u, &e), 0);
    assert_int_equal(u.intent, UNDERSTAND_UNKNOWN);
}

/* A long message (more code points than the on-stack buffers hold) still works. */
static void test_long_message(void **state)
{
    (void)state;
    size_t n = 0;
    char *text = malloc(UNDERSTAND_TEXT_MAX + 1);
    assert_non_null(text);
    while (n + 3 < 1200) {
        memcpy(text + n, "ş ", 3);
        n += 3;
    }
    const char *tail = "latte istiyorum";
    memcpy(text + n, tail, strlen(tail) + 1);
    struct understanding u;
    struct err e;
    err_init(&e);
    assert_int_equal(understand_text(tail, B, &u, &e), 0);
    assert_int_equal(u.intent, UNDERSTAND_DEMAND);
    /* the words past the first 48 are not read for intent, but normalising keeps them all */
    char *out = malloc(2 * UNDERSTAND_TEXT_MAX);
    assert_non_null(out);
    assert_int_equal(understand_normalise(text, out, 2 * UNDERSTAND_TEXT_MAX, &e), 0);
    assert_non_null(strstr(out, "latte istiyorum"));
    assert_int_equal(understand_text(text, B, &u, &e), 0);
    free(out);
    free(text);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(understand_role_names[UNDERSTAND_ROLE_SELLER], "seller");
    assert_null(understand_role_names[2]);
    assert_string_equal(understand_intent_names[UNDERSTAND_DEALS_QUERY], "deals_query");
    assert_string_equal(understand_intent_names[UNDERSTAND_SELLER_REJECT], "seller_reject");
    assert_string_equal(understand_intent_names[UNDERSTAND_UNKNOWN], "unknown");
    assert_null(understand_intent_names[UNDERSTAND_INTENT_COUNT]);
}

/* Each thread makes its own stemmers; they are freed at thread exit (LeakSanitizer checks). */
static void *thread_main(void *arg)
{
    int *ok = arg;
    for (int i = 0; i < 50; i++) {
        struct understanding u;
        struct err e;
        err_init(&e);
        int rc = understand_text(i % 2 ? "simitleri istiyorum" : "Yoğunluk düşük", i % 2 ? B : S,
                                 &u, &e);
        if (rc || u.intent != (i % 2 ? UNDERSTAND_DEMAND : UNDERSTAND_SELLER_IDLE))
            *ok = 0;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t th[4];
    int ok[4] = {1, 1, 1, 1};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, &ok[i]), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(ok[i], 1);
    }
}

/*
 * Redemption codes of every class the generator can draw (all letters, all digits, mixed) are
 * understood in every way a seller writes them. Codes come from a seeded generator over the
 * same alphabet as flash_join's, so a failure names a reproducible code.
 */
enum code_class { CODE_LETTERS, CODE_DIGITS, CODE_MIXED };

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64* */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void make_code(uint64_t *seed, enum code_class cls, char out[UNDERSTAND_CODE_LEN + 1])
{
    static const char alphabet[] = UNDERSTAND_CODE_ALPHABET;
    const size_t n_letters = 24, n_all = sizeof(alphabet) - 1;
    for (;;) {
        bool letter = false, digit = false;
        for (int i = 0; i < UNDERSTAND_CODE_LEN; i++) {
            size_t k = cls == CODE_LETTERS  ? rng_next(seed) % n_letters
                       : cls == CODE_DIGITS ? n_letters + rng_next(seed) % (n_all - n_letters)
                                            : rng_next(seed) % n_all;
            out[i] = alphabet[k];
            letter |= k < n_letters;
            digit |= k >= n_letters;
        }
        out[UNDERSTAND_CODE_LEN] = '\0';
        if (cls != CODE_MIXED || (letter && digit))
            return;
    }
}

static void test_codes_every_class(void **state)
{
    (void)state;
    static const char *const forms[][2] = {
        {"kod ", ""},
        {"Kod: ", ""},
        {"", ""},
        {"müşteri kodu ", ""},
        {"", " kodlu müşteri geldi"},
        {"code ", ""},
        {"kodu ", " lütfen"},
        {"KOD ", ""},
    };
    uint64_t seed = 0x1ce5b0b5eedULL;
    int checked = 0;
    for (int cls = CODE_LETTERS; cls <= CODE_MIXED; cls++) {
        for (int n = 0; n < 200; n++) {
            char code[UNDERSTAND_CODE_LEN + 1];
            make_code(&seed, (enum code_class)cls, code);
            for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
                char text[96];
                snprintf(text, sizeof(text), "%s%s%s", forms[f][0], code, forms[f][1]);
                struct understanding u;
                struct err e;
                err_init(&e);
                assert_int_equal(understand_text(text, S, &u, &e), 0);
                if (strcmp(u.code, code) != 0 || u.intent != UNDERSTAND_SELLER_REDEEM)
                    fail_msg("class %d: \"%s\" understood as %s code \"%s\"", cls, text,
                             understand_intent_names[u.intent], u.code);
                checked++;
            }
        }
    }
    assert_int_equal(checked, 3 * 200 * 8);
    /* runs of one letter are part of a code, not an elongated word */
    static const char *const runs[] = {"DDDKFP", "ABCDDD", "AAA2BC", "222345", "KKKKKK"};
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
            char text[96];
            snprintf(text, sizeof(text), "%s%s%s", forms[f][0], runs[i], forms[f][1]);
            struct understanding u;
            struct err e;
            err_init(&e);
            assert_int_equal(understand_text(text, S, &u, &e), 0);
            if (strcmp(u.code, runs[i]) != 0)
                fail_msg("\"%s\" understood with code \"%s\"", text, u.code);
        }
    }
    /* "kod" named: lower case is fine too */
    struct understanding u;
    struct err e;
    err_init(&e);
    assert_int_equal(understand_text("kod kjdchg", S, &u, &e), 0);
    assert_string_equal(u.code, "KJDCHG");
}

/* Words of the code alphabet's shape are not codes unless named or written like one. */
static void test_code_lookalikes(void **state)
{
    (void)state;
    static const char *const words[] = {"thanks", "gelsek", "Thanks", "bekle", "tamam"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        struct understanding u;
        struct err e;
        err_init(&e);
        assert_int_equal(understand_text(words[i], S, &u, &e), 0);
        if (u.code[0])
            fail_msg("\"%s\" taken for code %s", words[i], u.code);
    }
    /* an elongated word in capitals is still the word; named, the same letters are a code */
    struct understanding u;
    struct err e;
    err_init(&e);
    assert_int_equal(understand_text("EVETTT", S, &u, &e), 0);
    assert_int_equal(u.intent, UNDERSTAND_SELLER_APPROVE);
    assert_string_equal(u.code, "");
    assert_int_equal(understand_text("kod EVETTT", S, &u, &e), 0);
    assert_string_equal(u.code, "EVETTT");
}

/*
 * The blind split (data/understand/blind.tsv): written before the statistical layer existed and
 * never used to tune the rules or the model; measured here only. Prints intent and category
 * accuracy of the rules alone and of rules + model, and the calibration table (confidence bucket
 * → observed accuracy) of the combined reading.
 */
static void test_blind_split(void **state)
{
    (void)state;
    size_t n = understand_corpus_blind_len;
    int ok = 0, rules_ok = 0, cat_n = 0, cat_ok = 0;
    int bucket_n[10] = {0}, bucket_ok[10] = {0};
    double bucket_conf[10] = {0};
    int unk_n = 0, unk_ok = 0;
    for (size_t i = 0; i < n; i++) {
        const struct understand_row *row = &understand_corpus_blind[i];
        int role = understand_role_find(row->role), want = understand_intent_find(row->intent);
        assert_true(role >= 0 && want >= 0);
        struct understanding u, r;
        struct err e;
        err_init(&e);
        assert_int_equal(understand_text(row->text, (enum understand_role)role, &u, &e), 0);
        assert_int_equal(understand_rules(row->text, (enum understand_role)role, &r, &e), 0);
        int good = (int)u.intent == want;
        ok += good;
        rules_ok += (int)r.intent == want;
        if (strcmp(row->category, "-") != 0) {
            cat_n++;
            int cgood = strcmp(u.category, row->category) == 0;
            cat_ok += cgood;
            if (!cgood)
                printf("  category %-7s \"%s\": want %s got \"%s\"\n", row->role, row->text,
                       row->category, u.category);
        }
        if (!good)
            printf("  blind miss %-7s \"%s\": want %s got %s %.2f (rules %s %.2f)\n", row->role,
                   row->text, row->intent, understand_intent_names[u.intent], u.confidence,
                   understand_intent_names[r.intent], r.confidence);
        if (u.intent == UNDERSTAND_UNKNOWN) {
            unk_n++;
            unk_ok += good;
            continue;
        }
        int b = (int)(u.confidence * 10);
        b = b > 9 ? 9 : b;
        bucket_n[b]++;
        bucket_ok[b] += good;
        bucket_conf[b] += u.confidence;
    }
    double pct = 100.0 * ok / (double)n, cpct = cat_n ? 100.0 * cat_ok / cat_n : 0;
    printf("understand: blind split (%zu messages written before the model, kept out of training, "
           "never used to tune the rules; one combination rule changed after the first look: "
           "data/understand/README.md):\n",
           n);
    printf("understand:   intent accuracy: rules alone %d/%zu = %.1f%%, rules + model %d/%zu = "
           "%.1f%%\n",
           rules_ok, n, 100.0 * rules_ok / (double)n, ok, n, pct);
    printf("understand:   category accuracy: %d/%d = %.1f%%\n", cat_ok, cat_n, cpct);
    printf("understand:   calibration (confidence bucket: messages, mean confidence, observed "
           "accuracy):\n");
    for (int b = 0; b < 10; b++)
        if (bucket_n[b])
            printf("understand:     %.1f-%.1f: %3d  %.2f  %.2f\n", b / 10.0, (b + 1) / 10.0,
                   bucket_n[b], bucket_conf[b] / bucket_n[b], (double)bucket_ok[b] / bucket_n[b]);
    printf("understand:     read as unknown (confidence 0, no action): %d, of which labelled "
           "unknown %d\n",
           unk_n, unk_ok);
    /* committing actions are only taken at UNDERSTAND_COMMIT: how often are those wrong? */
    int commit_n = 0, commit_bad = 0;
    for (size_t i = 0; i < n; i++) {
        const struct understand_row *row = &understand_corpus_blind[i];
        struct understanding u;
        struct err e;
        err_init(&e);
        assert_int_equal(understand_text(row->text,
                                         (enum understand_role)understand_role_find(row->role), &u,
                                         &e),
                         0);
        if (understand_intent_commits(u.intent) && u.confidence >= UNDERSTAND_COMMIT) {
            commit_n++;
            commit_bad += (int)u.intent != understand_intent_find(row->intent);
        }
    }
    printf("understand:   committing actions taken without asking: %d, wrong %d\n", commit_n,
           commit_bad);
    assert_true(n >= 150);
    assert_true(pct >= 85.0);
    assert_true(cpct >= 80.0);
}

/*
 * K-fold cross-validation on the training split (data/understand/train.tsv), the figure to study
 * and tune on: row i is in fold i % KFOLDS; each fold is read by rules + models trained on the
 * other folds. The rules were tuned on these rows, so the combined figure flatters them; the
 * model-alone figure does not. Misreadings are printed (training rows, not the blind split).
 */
#define KFOLDS 5

static void test_kfold(void **state)
{
    (void)state;
    size_t n = understand_corpus_train_len;
    struct understand_row *tr = calloc(n, sizeof(*tr));
    char *folded = malloc(2 * UNDERSTAND_TEXT_MAX + 1);
    assert_non_null(tr);
    assert_non_null(folded);
    int ok = 0, model_ok = 0, cat_n = 0, cat_ok = 0, unk_n = 0, unk_ok = 0;
    int commit_n = 0, commit_bad = 0;
    int bucket_n[10] = {0}, bucket_ok[10] = {0};
    double bucket_conf[10] = {0};
    for (int fold = 0; fold < KFOLDS; fold++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if ((int)(i % KFOLDS) != fold)
                tr[k++] = understand_corpus_train[i];
        struct understand_model mi, mc;
        struct err e;
        err_init(&e);
        assert_int_equal(understand_model_train(&mi, tr, k, false, &e), 0);
        assert_int_equal(understand_model_train(&mc, tr, k, true, &e), 0);
        for (size_t i = (size_t)fold; i < n; i += KFOLDS) {
            const struct understand_row *row = &understand_corpus_train[i];
            int role = understand_role_find(row->role), want = understand_intent_find(row->intent);
            struct understanding u;
            assert_int_equal(
                understand_text_models(row->text, (enum understand_role)role, &mi, &mc, &u, &e), 0);
            int good = (int)u.intent == want;
            ok += good;
            assert_int_equal(
                understand_normalise(row->text, folded, 2 * UNDERSTAND_TEXT_MAX + 1, &e), 0);
            double p[UNDERSTAND_INTENT_COUNT];
            understand_model_predict(&mi, folded, (enum understand_role)role, p);
            int m = 0;
            for (int c = 1; c < UNDERSTAND_INTENT_COUNT; c++)
                if (p[c] > p[m])
                    m = c;
            model_ok += m == want;
            if (strcmp(row->category, "-") != 0) {
                cat_n++;
                int cgood = strcmp(u.category, row->category) == 0;
                cat_ok += cgood;
                if (!cgood)
                    printf("  kfold category %-7s \"%s\": want %s got \"%s\"\n", row->role,
                           row->text, row->category, u.category);
            }
            if (!good)
                printf("  kfold miss %-7s \"%s\": want %s got %s %.2f (model %s %.2f)\n", row->role,
                       row->text, row->intent, understand_intent_names[u.intent], u.confidence,
                       understand_intent_names[m], p[m]);
            if (understand_intent_commits(u.intent) && u.confidence >= UNDERSTAND_COMMIT) {
                commit_n++;
                commit_bad += !good;
            }
            if (u.intent == UNDERSTAND_UNKNOWN) {
                unk_n++;
                unk_ok += good;
                continue;
            }
            int b = (int)(u.confidence * 10);
            b = b > 9 ? 9 : b;
            bucket_n[b]++;
            bucket_ok[b] += good;
            bucket_conf[b] += u.confidence;
        }
        understand_model_release(&mi);
        understand_model_release(&mc);
    }
    printf("understand: %d-fold cross-validation on the training split (%zu messages):\n", KFOLDS,
           n);
    printf("understand:   intent accuracy: model alone %d/%zu = %.1f%%, rules + model %d/%zu = "
           "%.1f%%\n",
           model_ok, n, 100.0 * model_ok / (double)n, ok, n, 100.0 * ok / (double)n);
    printf("understand:   category accuracy: %d/%d = %.1f%%\n", cat_ok, cat_n,
           cat_n ? 100.0 * cat_ok / cat_n : 0);
    printf("understand:   calibration (confidence bucket: messages, mean confidence, observed "
           "accuracy):\n");
    for (int b = 0; b < 10; b++)
        if (bucket_n[b])
            printf("understand:     %.1f-%.1f: %3d  %.2f  %.2f\n", b / 10.0, (b + 1) / 10.0,
                   bucket_n[b], bucket_conf[b] / bucket_n[b], (double)bucket_ok[b] / bucket_n[b]);
    printf("understand:     read as unknown: %d, of which labelled unknown %d\n", unk_n, unk_ok);
    printf("understand:   committing actions taken without asking: %d, wrong %d\n", commit_n,
           commit_bad);
    free(folded);
    free(tr);
    assert_true(100.0 * ok / (double)n >= 85.0);
}

/* The same rows give the same weights, bit for bit; other rows give others. */
static void test_training_deterministic(void **state)
{
    (void)state;
    struct understand_model a, b, c;
    struct err e;
    err_init(&e);
    assert_int_equal(
        understand_model_train(&a, understand_corpus_train, understand_corpus_train_len, false, &e),
        0);
    assert_int_equal(
        understand_model_train(&b, understand_corpus_train, understand_corpus_train_len, false, &e),
        0);
    assert_int_equal(understand_model_train(&c, understand_corpus_train,
                                            understand_corpus_train_len - 1, false, &e),
                     0);
    assert_true(a.sum == b.sum);
    assert_true(a.temperature == b.temperature);
    assert_true(a.sum != c.sum);
    assert_memory_equal(a.w, b.w, (size_t)UNDERSTAND_MODEL_BUCKETS * (size_t)a.n_class * 4);
    /* the process-wide model is the same training */
    assert_true(understand_model_intents()->sum == a.sum);
    understand_model_release(&a);
    understand_model_release(&b);
    understand_model_release(&c);
    /* a row naming an unknown intent is refused, naming the row */
    static const struct understand_row bad[] = {{"buyer", "demand", "-", "latte"},
                                                {"buyer", "dance", "-", "hop"}};
    err_init(&e);
    assert_int_equal(understand_model_train(&a, bad, 2, false, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "row 2"));
    /* every embedded row names a known role, intent and category */
    err_init(&e);
    assert_int_equal(
        understand_model_train(&a, understand_corpus_blind, understand_corpus_blind_len, true, &e),
        0);
    understand_model_release(&a);
}

/* The messages the rules alone got wrong in the issue: no committing action from them. */
static void test_issue_examples(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum understand_intent want;
    } cases[] = {
        {"I'm in Beşiktaş", UNDERSTAND_LOCATION},
        {"tekrar mesaj almak istiyorum", UNDERSTAND_OPT_IN},
        {"not today", UNDERSTAND_DECLINE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct understanding u;
        struct err e;
        err_init(&e);
        assert_int_equal(understand_text(cases[i].text, B, &u, &e), 0);
        if (u.intent != cases[i].want)
            fail_msg("\"%s\" read as %s %.2f", cases[i].text, understand_intent_names[u.intent],
                     u.confidence);
    }
    /* "I'm in Beşiktaş" must never join */
    struct understanding u;
    struct err e;
    err_init(&e);
    assert_int_equal(understand_text("I'm in Beşiktaş", B, &u, &e), 0);
    assert_false(u.intent == UNDERSTAND_JOIN && u.confidence >= UNDERSTAND_COMMIT);
    assert_int_equal(understand_text("katıl", B, &u, &e), 0);
    assert_int_equal(u.intent, UNDERSTAND_JOIN);
    assert_true(u.confidence >= UNDERSTAND_COMMIT);
}

/* Committing actions need UNDERSTAND_COMMIT; others UNDERSTAND_CONFIDENT; unknown never acts. */
static void test_gate(void **state)
{
    (void)state;
    static const struct {
        enum understand_intent intent;
        double confidence;
        enum understand_gate want;
    } cases[] = {
        {UNDERSTAND_JOIN, 0.95, UNDERSTAND_GATE_ACT},
        {UNDERSTAND_JOIN, UNDERSTAND_COMMIT, UNDERSTAND_GATE_ACT},
        {UNDERSTAND_JOIN, 0.89, UNDERSTAND_GATE_CONFIRM},
        {UNDERSTAND_JOIN, 0.61, UNDERSTAND_GATE_CONFIRM},
        {UNDERSTAND_JOIN, 0.59, UNDERSTAND_GATE_ASK},
        {UNDERSTAND_OPT_OUT, 0.8, UNDERSTAND_GATE_CONFIRM},
        {UNDERSTAND_OPT_IN, 0.8, UNDERSTAND_GATE_CONFIRM},
        {UNDERSTAND_SELLER_APPROVE, 0.8, UNDERSTAND_GATE_CONFIRM},
        {UNDERSTAND_SELLER_APPROVE, 0.97, UNDERSTAND_GATE_ACT},
        {UNDERSTAND_DEMAND, 0.7, UNDERSTAND_GATE_ACT},
        {UNDERSTAND_DECLINE, 0.7, UNDERSTAND_GATE_ACT},
        {UNDERSTAND_SELLER_REJECT, 0.7, UNDERSTAND_GATE_ACT},
        {UNDERSTAND_LOCATION, 0.57, UNDERSTAND_GATE_ASK},
        {UNDERSTAND_UNKNOWN, 0.99, UNDERSTAND_GATE_ASK},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct understanding u;
        memset(&u, 0, sizeof(u));
        u.intent = cases[i].intent;
        u.confidence = cases[i].confidence;
        if (understand_gate(&u) != cases[i].want)
            fail_msg("%s at %.2f: gate %d, want %d", understand_intent_names[u.intent],
                     u.confidence, (int)understand_gate(&u), (int)cases[i].want);
    }
    /* read from text: exact commands act, the issue's misreadings never commit */
    static const struct {
        const char *text;
        enum understand_role role;
    } act[] = {{"katıl", B}, {"KATIL", B}, {"DUR", B}, {"başla", B}, {"evet", S}},
      never[] = {{"I'm in Beşiktaş", B}, {"tekrar mesaj almak istiyorum", B}, {"not today", B}};
    for (size_t i = 0; i < sizeof(act) / sizeof(act[0]); i++) {
        struct understanding u;
        struct err e;
        err_init(&e);
        assert_int_equal(understand_text(act[i].text, act[i].role, &u, &e), 0);
        if (understand_gate(&u) != UNDERSTAND_GATE_ACT)
            fail_msg("\"%s\" does not act (%s %.2f)", act[i].text,
                     understand_intent_names[u.intent], u.confidence);
    }
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        struct understanding u;
        struct err e;
        err_init(&e);
        assert_int_equal(understand_text(never[i].text, never[i].role, &u, &e), 0);
        if (u.intent == UNDERSTAND_JOIN && understand_gate(&u) == UNDERSTAND_GATE_ACT)
            fail_msg("\"%s\" joins", never[i].text);
    }
}

/* The request names only the role's intents and carries the message as the user turn. */
static void test_llm_request(void **state)
{
    (void)state;
    char *body = understand_llm_request("I'm in \"Beşiktaş\"", B, NULL);
    assert_non_null(body);
    assert_non_null(strstr(body, "\"model\":\"gpt-4o-mini\""));
    assert_non_null(strstr(body, "\"json_object\""));
    assert_non_null(strstr(body, " location"));
    assert_null(strstr(body, "seller_idle"));
    assert_non_null(strstr(body, "I'm in \\\"Beşiktaş\\\""));
    free(body);
    body = understand_llm_request("boşuz", S, "local-model");
    assert_non_null(strstr(body, "seller_idle"));
    assert_null(strstr(body, " demand"));
    assert_non_null(strstr(body, "\"local-model\""));
    free(body);
}

/* Only an answer of the intent schema is believed; anything else leaves the reading alone. */
static void test_llm_answer(void **state)
{
    (void)state;
    static const struct {
        const char *body; /* the message content of the completion */
        enum understand_role role;
        int ok;
        enum understand_intent intent;
    } cases[] = {
        {"{\"intent\":\"location\",\"confidence\":0.93}", B, 1, UNDERSTAND_LOCATION},
        {"{\"intent\":\"seller_approve\",\"confidence\":1}", S, 1, UNDERSTAND_SELLER_APPROVE},
        /* a seller intent for a buyer */
        {"{\"intent\":\"seller_approve\",\"confidence\":0.9}", B, 0, 0},
        /* not an intent */
        {"{\"intent\":\"buy\",\"confidence\":0.9}", B, 0, 0},
        /* confidence out of range, or text */
        {"{\"intent\":\"join\",\"confidence\":1.5}", B, 0, 0},
        {"{\"intent\":\"join\",\"confidence\":\"high\"}", B, 0, 0},
        /* an extra key, prose, nothing, not JSON at all */
        {"{\"intent\":\"join\",\"confidence\":0.9,\"why\":\"x\"}", B, 0, 0},
        {"Sure! The intent is join.", B, 0, 0},
        {NULL, B, 0, 0},
        {"<html>502</html>", B, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct understanding u;
        memset(&u, 0, sizeof(u));
        u.intent = UNDERSTAND_JOIN;
        u.confidence = 0.42;
        snprintf(u.product, sizeof(u.product), "latte");
        struct err e;
        err_init(&e);
        int rc = understand_llm_answer(cases[i].body, cases[i].role, &u, &e);
        if (cases[i].ok) {
            if (rc)
                fail_msg("case %zu refused: %s", i, e.msg);
            assert_int_equal(u.intent, cases[i].intent);
            assert_true(u.confidence >= 0.9);
            assert_string_equal(u.product, "latte"); /* the rules' entities stay */
        } else {
            if (rc != ERR_UPSTREAM)
                fail_msg("case %zu believed: %s", i, cases[i].body);
            assert_int_equal(u.intent, UNDERSTAND_JOIN);
            assert_true(u.confidence == 0.42);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_invalid_input),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_long_message),
        cmocka_unit_test(test_confidence),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_codes_every_class),
        cmocka_unit_test(test_code_lookalikes),
        cmocka_unit_test(test_gate),
        cmocka_unit_test(test_llm_request),
        cmocka_unit_test(test_llm_answer),
        cmocka_unit_test(test_training_deterministic),
        cmocka_unit_test(test_issue_examples),
        cmocka_unit_test(test_kfold),
        cmocka_unit_test(test_blind_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
