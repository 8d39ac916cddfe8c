/* SPDX-License-Identifier: MIT */
/*
 * The conversation (see dialog.h). Each turn: who is writing (seller, buyer or a new number),
 * what they mean (understand.c), the action through the flash service, and a reply in their
 * language. Refusals become friendly answers; storage errors fail the job so it is retried.
 * Tests: tests/integration/0005-whatsapp.c.
 */
#include "domain/chat/dialog.h"
#include "core/log.h"
#include "core/str.h"
#include "domain/understand/understand.h"
#include "domain/flash/flash_messages.h"
#include "domain/flash/flash_service.h"
#include "domain/notify/contacts.h"
#include "domain/notify/outbox.h"
#include "domain/understand/understand_llm.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "net/llm.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMAND_TTL_MS (60LL * 60 * 1000) /* a wish said in chat stays active for an hour */
#define MAX_LISTED    5                  /* deals listed in one reply */

struct party {
    const char *kind; /* "buyer", "seller", "contact" */
    int64_t pk;
    const char *id;
    const char *phone;
    const char *language;
    struct flash_buyer buyer;
    struct flash_seller seller;
};

struct turn {
    struct db_conn *c;
    int64_t tenant;
    int64_t now;
    struct arena *a;
    struct party who;
    const struct chat_event *ev;
    struct err *e;
};

static bool en(const struct turn *t)
{
    return str_eq(t->who.language, "en");
}

/* Write a reply to the outbox in the person's language. */
static int reply(struct turn *t, const char *tr, const char *english)
{
    struct notify_message m;
    memset(&m, 0, sizeof(m));
    m.recipient_kind = t->who.kind;
    m.recipient_pk = t->who.pk;
    m.recipient_id = t->who.id ? t->who.id : "";
    m.phone = t->who.phone;
    m.language = en(t) ? "en" : "tr";
    m.body = en(t) ? english : tr;
    return notify_enqueue(t->c, t->tenant, &notify_kind_reply, &m, NULL, t->now, t->e);
}

static int replyf(struct turn *t, const char *tr, const char *english, ...)
    __attribute__((format(printf, 2, 0)));

/* The same, with the same printf arguments for both languages. */
static int replyf(struct turn *t, const char *tr, const char *english, ...)
{
    va_list ap;
    va_start(ap, english);
    char *a = arena_vprintf(t->a, tr, ap);
    va_end(ap);
    va_start(ap, english);
    char *b = arena_vprintf(t->a, english, ap);
    va_end(ap);
    return reply(t, a, b);
}

/* A business refusal from the service: tell the person, keep the turn going. */
static bool refused(int rc)
{
    return rc == ERR_CONFLICT || rc == ERR_NOT_FOUND || rc == ERR_FORBIDDEN || rc == ERR_INVALID;
}

static int identify(struct turn *t)
{
    struct err e2;
    err_init(&e2);
    const struct chat_event *ev = t->ev;
    struct party *p = &t->who;
    memset(p, 0, sizeof(*p));
    p->phone = ev->from;
    p->language = "tr";
    int rc = flash_store_seller_get(t->c, t->tenant, ev->from, true, t->a, &p->seller, &e2);
    if (!rc) {
        p->kind = "seller";
        p->pk = p->seller.pk;
        p->id = p->seller.id;
        return 0;
    }
    if (rc != ERR_NOT_FOUND)
        return err_set(t->e, (enum err_code)rc, "%s", e2.msg);
    err_init(&e2);
    /* the seed's VAPI metadata may name the buyer directly */
    if (ev->buyer_id && *ev->buyer_id)
        rc = flash_store_buyer_get(t->c, t->tenant, ev->buyer_id, false, t->a, &p->buyer, &e2);
    else
        rc = ERR_NOT_FOUND;
    if (rc == ERR_NOT_FOUND) {
        err_init(&e2);
        rc = flash_store_buyer_get(t->c, t->tenant, ev->from, true, t->a, &p->buyer, &e2);
    }
    if (!rc) {
        p->kind = "buyer";
        p->pk = p->buyer.pk;
        p->id = p->buyer.id;
        p->language = p->buyer.language && *p->buyer.language ? p->buyer.language : "tr";
        return 0;
    }
    if (rc != ERR_NOT_FOUND)
        return err_set(t->e, (enum err_code)rc, "%s", e2.msg);
    p->kind = "contact";
    return 0;
}

/* Onboarding: asks a new person to share their location (a location-request message). */
const struct notify_kind chat_msg_location_request = {
    .name = "location_request", .purpose = NOTIFY_TRANSACTIONAL, .location_request = true};

/* "join:42" / "decline:42" from a reply button (flash_msg_offer's buttons). */
static int64_t payload_window(const char *payload, const char *verb)
{
    size_t n = strlen(verb);
    int64_t pk;
    if (payload && strncmp(payload, verb, n) == 0 && payload[n] == ':' &&
        !str_to_i64(payload + n + 1, &pk))
        return pk;
    return 0;
}

static int ask_location(struct turn *t)
{
    struct notify_message m;
    memset(&m, 0, sizeof(m));
    m.recipient_kind = t->who.kind;
    m.recipient_pk = t->who.pk;
    m.recipient_id = t->who.id ? t->who.id : "";
    m.phone = t->who.phone;
    m.language = en(t) ? "en" : "tr";
    m.body = en(t) ? "Welcome to Iceshop! Share your location and we will tell you about flash "
                     "deals within walking distance."
                   : "Iceshop'a hoş geldiniz! Konumunuzu paylaşın, yürüme mesafesindeki anlık "
                     "fırsatları size haber verelim.";
    return notify_enqueue(t->c, t->tenant, &chat_msg_location_request, &m, NULL, t->now, t->e);
}

/* ======================== buyers ======================== */

static int buyer_join(struct turn *t, int64_t window, const char **outcome)
{
    if (!window) {
        int rc = flash_store_latest_offer(t->c, t->tenant, t->who.pk, &window, t->e);
        if (rc)
            return rc;
    }
    if (!window) {
        *outcome = "join:no_offer";
        return reply(t,
                     "Şu an size açık bir teklif yok. Ne istediğinizi yazın (ör. \"Latte "
                     "istiyorum\"), yakınınızda fırsat açılınca haber vereyim.",
                     "There is no open offer for you right now. Tell me what you would like "
                     "(e.g. \"I want a latte\") and I will let you know when a deal opens nearby.");
    }
    struct flash_window w;
    int rc = flash_store_window_get(t->c, t->tenant, window, t->a, &w, t->e);
    if (rc == ERR_NOT_FOUND) {
        err_init(t->e);
        *outcome = "join:no_offer";
        return reply(t, "Bu teklifi bulamadım.", "I could not find that offer.");
    }
    if (rc)
        return rc;
    /*
     * A prepaid window is joined by paying for it: the order is placed and the link to the
     * provider's payment page comes in a message of its own (a job, after this turn commits); a
     * second "katıl" sends the same link again.
     */
    if (w.prepay) {
        struct flash_joined j;
        rc = flash_prepay_join(t->c, t->tenant, window, t->who.id, true, t->now, t->a, &j, t->e);
        if (rc == ERR_CONFLICT && str_eq(t->e->field, "provider")) {
            err_init(t->e);
            *outcome = arena_printf(t->a, "join:prepay_unavailable:%lld", (long long)window);
            return reply(t,
                         "Bu teklif ön ödemeli: yeriniz ödemeyle ayrılır, ama bu dükkân henüz "
                         "çevrimiçi ödeme almıyor. Ödeme için dükkânla görüşün.",
                         "This offer is prepaid: a place is held once it is paid, but this shop "
                         "takes no online payments yet. Please ask the shop how to pay.");
        }
        if (!rc && str_eq(j.prepay_status, "pending")) {
            *outcome = arena_printf(t->a, "join:prepay:%lld", (long long)window);
            return 0;
        }
        if (!rc && str_eq(j.prepay_status, "paid")) {
            *outcome = arena_printf(t->a, "join:prepay_paid:%lld", (long long)window);
            if (j.code)
                return replyf(t, "Ödemeniz alındı, yeriniz ayrıldı. Kodunuz: %s",
                              "Your payment has arrived and your place is held. Your code: %s",
                              j.code);
            return reply(t, "Ödemeniz alındı, yeriniz ayrıldı; pencere açılınca haber vereceğim.",
                         "Your payment has arrived and your place is held; I will tell you when "
                         "it opens.");
        }
        if (!rc)
            rc = err_set(t->e, ERR_CONFLICT, "the order of this offer is %s", j.prepay_status);
    }
    bool created = false;
    if (w.prepay) {
        /* refused above: answered below */
    } else if (w.status == FLASH_WINDOW_ACTIVE) {
        const char *code = NULL;
        rc = flash_join(t->c, t->tenant, window, t->who.id, t->now, t->a, &code, &created, t->e);
        if (!rc) {
            *outcome = arena_printf(t->a, "join:%lld", (long long)window);
            /* the service confirms a new join with the code; repeat it for a second "katıl" */
            return created ? 0
                           : replyf(t, "Zaten katıldınız. Kodunuz: %s",
                                    "You have joined already. "
                                    "Your code: %s",
                                    code);
        }
    } else {
        rc = flash_precommit(t->c, t->tenant, window, t->who.id, t->now, &created, t->e);
        if (!rc) {
            *outcome = arena_printf(t->a, "precommit:%lld", (long long)window);
            return created ? 0
                           : reply(t, "Kaydınız zaten alındı; pencere açılınca haber vereceğim.",
                                   "You are already in; I will tell you when it opens.");
        }
    }
    if (!refused(rc))
        return rc;
    char why[256];
    snprintf(why, sizeof(why), "%s", t->e->msg);
    err_init(t->e);
    *outcome = "join:refused";
    log_debug("msg=\"join refused\" window=%lld why=\"%s\"", (long long)window, why);
    return reply(t, "Bu teklife artık katılınamıyor (süresi dolmuş ya da dolu olabilir).",
                 "This offer can no longer be joined (it may be over or full).");
}

static int buyer_decline(struct turn *t, int64_t window, const char **outcome)
{
    if (!window) {
        int rc = flash_store_latest_offer(t->c, t->tenant, t->who.pk, &window, t->e);
        if (rc)
            return rc;
    }
    if (window) {
        int rc = flash_precommit_cancel(t->c, t->tenant, window, t->who.id, t->now, t->e);
        if (rc && !refused(rc))
            return rc;
        err_init(t->e);
    }
    *outcome = "decline";
    return reply(t, "Tamam, bu fırsatı geçiyorum. İstediğiniz bir şey olursa yazmanız yeterli.",
                 "OK, I will skip this one. Just write when you want something.");
}

static int buyer_demand(struct turn *t, const struct understanding *u, const char **outcome)
{
    struct flash_demand_in d = {.text = t->ev->text,
                                .product = u->product,
                                .category = u->category,
                                .budget = u->budget,
                                .currency = *u->currency ? u->currency : "TRY",
                                .expires_at = t->now + DEMAND_TTL_MS};
    int64_t pk;
    int rc = flash_buyer_signal(t->c, t->tenant, t->who.id, &d, t->now, &pk, t->e);
    if (rc)
        return rc;
    *outcome = "demand";
    const char *what = *u->product ? u->product : (*u->category ? u->category : t->ev->text);
    return replyf(t, "Not aldım: %s. Yakınınızda uygun bir fırsat açılınca size haber vereceğim.",
                  "Noted: %s. I will let you know when a matching deal opens nearby.", what);
}

static int buyer_deals(struct turn *t, const char **outcome)
{
    struct flash_window_filter f = {
        .status = -1, .buyer_pk = t->who.pk, .open_only = true, .limit = MAX_LISTED};
    struct flash_window *w;
    size_t n;
    int rc = flash_store_window_list(t->c, t->tenant, &f, t->a, &w, &n, t->e);
    if (rc)
        return rc;
    *outcome = "deals";
    char list[1024] = "", ids[128] = "deals:";
    size_t used = 0, iu = strlen(ids);
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i].status != FLASH_WINDOW_SCHEDULED && w[i].status != FLASH_WINDOW_ACTIVE)
            continue;
        shown++;
        int k = snprintf(list + used, sizeof(list) - used, "\n%zu) %s", shown, w[i].title);
        used += k > 0 && (size_t)k < sizeof(list) - used ? (size_t)k : 0;
        k = snprintf(ids + iu, sizeof(ids) - iu, "%s%lld", shown > 1 ? "," : "",
                     (long long)w[i].pk);
        iu += k > 0 && (size_t)k < sizeof(ids) - iu ? (size_t)k : 0;
    }
    if (!shown)
        return reply(t,
                     "Şu an size yakın açık fırsat yok. Ne istediğinizi yazın, açılınca haber "
                     "vereyim.",
                     "No open deals near you right now. Tell me what you want and I will let "
                     "you know.");
    rc = contacts_set_state(t->c, t->tenant, t->who.phone, ids, t->now, t->e);
    if (rc)
        return rc;
    return replyf(t, "Yakınınızdaki fırsatlar:%s\nKatılmak için numarasını yazın.",
                  "Deals near you:%s\nReply with a number to join.", list);
}

/* A lone number picks from the last list of deals we sent. */
static int buyer_choice(struct turn *t, int choice, const char **outcome)
{
    const char *state;
    int rc = contacts_state(t->c, t->tenant, t->who.phone, t->a, &state, t->e);
    if (rc)
        return rc;
    int64_t window = 0;
    if (str_has_prefix(state, "deals:")) {
        const char *p = state + 6;
        for (int i = 1; *p && i <= choice; i++) {
            char *end;
            long long v = strtoll(p, &end, 10);
            if (i == choice)
                window = v;
            p = *end == ',' ? end + 1 : end;
        }
    }
    return buyer_join(t, window, outcome);
}

static int set_consent(struct turn *t, bool on, const char **outcome)
{
    int rc =
        contacts_set_consent(t->c, t->tenant, t->who.phone, CONTACT_MARKETING, on, t->now, t->e);
    if (rc)
        return rc;
    *outcome = on ? "opt_in" : "opt_out";
    return on ? reply(t, "Tekrar hoş geldiniz! Yakındaki fırsatları yine haber vereceğim.",
                      "Welcome back! I will tell you about nearby deals again.")
              : reply(t,
                      "Tamam, artık size teklif göndermeyeceğim. Tekrar başlamak için BAŞLA "
                      "yazmanız yeterli.",
                      "OK, I will not send you offers any more. Write START to begin again.");
}

static int buyer_location(struct turn *t, const char **outcome)
{
    if (!t->ev->has_location) {
        *outcome = "asked_location";
        return ask_location(t);
    }
    struct flash_buyer b = t->who.buyer;
    b.loc.lat = t->ev->lat;
    b.loc.lng = t->ev->lng;
    bool created;
    int rc = flash_buyer_register(t->c, t->tenant, &b, t->now, t->a, &created, t->e);
    if (rc)
        return rc;
    *outcome = "location";
    return reply(t, "Konumunuz güncellendi. Yakınınızdaki fırsatları haber vereceğim.",
                 "Your location is updated. I will tell you about deals nearby.");
}

static int help(struct turn *t, bool seller, const char **outcome)
{
    *outcome = "help";
    if (seller)
        return reply(t,
                     "Iceshop satıcı asistanı: boş olduğunuzda \"Bu saat boşum\", stok fazlası "
                     "olduğunda \"Stok fazlası simit var\", müşterinin kodunu onaylamak için "
                     "kodu yazın. Önerdiğim pencereye \"evet\" ya da \"hayır\" diyebilirsiniz.",
                     "Iceshop for sellers: write \"we are quiet now\" when idle, \"surplus "
                     "bagels\" for extra stock, send a customer's code to confirm a visit, and "
                     "answer my proposals with \"yes\" or \"no\".");
    return reply(t,
                 "Iceshop: ne istediğinizi yazın (ör. \"Latte istiyorum\"), yakınınızda bir "
                 "fırsat açılınca haber veririm. Teklife katılmak için KATIL, fırsatları görmek "
                 "için \"fırsat var mı?\", mesajları durdurmak için DUR yazın.",
                 "Iceshop: tell me what you want (e.g. \"I want a latte\") and I will tell you "
                 "when a deal opens nearby. Write JOIN to take an offer, \"any deals?\" to see "
                 "them, STOP to stop messages.");
}

static int unclear(struct turn *t, bool seller, const char **outcome)
{
    *outcome = "unclear";
    if (seller)
        return reply(t,
                     "Tam anlayamadım. Boş musunuz (\"boşum\"), stok fazlası mı var, yoksa bir "
                     "müşteri kodu mu onaylıyorsunuz?",
                     "I did not quite get that. Are you quiet (\"we are quiet\"), do you have "
                     "surplus stock, or are you confirming a customer's code?");
    return reply(t,
                 "Tam anlayamadım. Bir şey mi arıyorsunuz (ör. \"Latte istiyorum\"), yoksa "
                 "teklife katılmak mı istiyorsunuz (KATIL)?",
                 "I did not quite get that. Are you looking for something (e.g. \"I want a "
                 "latte\") or do you want to join an offer (JOIN)?");
}

/*
 * An action that commits the person (joining, opting out or in, approving a window) read with
 * less than UNDERSTAND_COMMIT confidence: ask back with the exact word that does it, do nothing.
 */
static int confirm_first(struct turn *t, enum understand_intent intent, const char **outcome)
{
    *outcome = arena_printf(t->a, "confirm:%s", understand_intent_names[intent]);
    switch (intent) {
    case UNDERSTAND_JOIN:
        return reply(t, "Teklife katılmak mı istiyorsunuz? Katılmak için KATIL yazın.",
                     "Do you want to join the offer? Write JOIN to join.");
    case UNDERSTAND_OPT_OUT:
        return reply(t, "Mesajları durdurmamı mı istiyorsunuz? Durdurmak için DUR yazın.",
                     "Do you want me to stop messages? Write STOP to stop them.");
    case UNDERSTAND_OPT_IN:
        return reply(t, "Fırsat mesajlarını yeniden almak mı istiyorsunuz? Bunun için BAŞLA yazın.",
                     "Do you want to receive offers again? Write START to receive them.");
    default:
        return reply(t,
                     "Bu pencereyi açmamı onaylıyor musunuz? Onay için EVET, ret için HAYIR yazın.",
                     "Do you approve this window? Write YES to open it or NO to decline.");
    }
}

static int buyer_turn(struct turn *t, const struct understanding *u, const char **outcome)
{
    const struct chat_event *ev = t->ev;
    int64_t w;
    if ((w = payload_window(ev->payload, FLASH_ACTION_JOIN)) != 0)
        return buyer_join(t, w, outcome);
    if ((w = payload_window(ev->payload, FLASH_ACTION_DECLINE)) != 0)
        return buyer_decline(t, w, outcome);
    if (ev->has_location)
        return buyer_location(t, outcome);
    if (u->choice)
        return buyer_choice(t, u->choice, outcome);
    if (u->confidence < UNDERSTAND_CONFIDENT && u->intent != UNDERSTAND_UNKNOWN)
        return unclear(t, false, outcome);
    if (understand_gate(u) == UNDERSTAND_GATE_CONFIRM)
        return confirm_first(t, u->intent, outcome);
    switch (u->intent) {
    case UNDERSTAND_DEMAND:
        return buyer_demand(t, u, outcome);
    case UNDERSTAND_JOIN:
        return buyer_join(t, ev->window_id, outcome);
    case UNDERSTAND_DECLINE:
    case UNDERSTAND_CANCEL:
        return buyer_decline(t, ev->window_id, outcome);
    case UNDERSTAND_DEALS_QUERY:
        return buyer_deals(t, outcome);
    case UNDERSTAND_OPT_OUT:
        return set_consent(t, false, outcome);
    case UNDERSTAND_OPT_IN:
        return set_consent(t, true, outcome);
    case UNDERSTAND_LOCATION:
        return buyer_location(t, outcome);
    case UNDERSTAND_HELP:
    case UNDERSTAND_GREETING:
        return help(t, false, outcome);
    default:
        return unclear(t, false, outcome);
    }
}

/* ======================== sellers ======================== */

static int seller_signal(struct turn *t, enum flash_supply_kind kind, int density,
                         const struct understanding *u, const char **outcome)
{
    struct flash_supply_in s = {.kind = kind,
                                .has_density = density >= 0,
                                .density =
                                    density >= 0 ? (enum flash_density)density : FLASH_DENSITY_LOW,
                                .text = t->ev->text,
                                .product = u->product,
                                .expires_at = t->now + DEMAND_TTL_MS};
    int64_t pk;
    int rc = flash_seller_signal(t->c, t->tenant, t->who.id, &s, t->now, &pk, t->e);
    if (rc)
        return rc;
    *outcome = flash_supply_names[kind];
    if (density == FLASH_DENSITY_HIGH)
        return reply(t, "Anlaşıldı, yoğunsunuz; şimdilik pencere önermeyeceğim.",
                     "Got it, you are busy; I will not propose a window for now.");
    return reply(t,
                 "Teşekkürler! Yakındaki talebe bakıp size uygun bir fırsat penceresi "
                 "hazırlayacağım.",
                 "Thanks! I will look at demand nearby and prepare a flash window for you.");
}

static int seller_redeem(struct turn *t, const char *code, const char **outcome)
{
    struct flash_window_filter f = {
        .status = FLASH_WINDOW_ACTIVE, .seller_pk = t->who.pk, .limit = 1};
    struct flash_window *w;
    size_t n;
    int rc = flash_store_window_list(t->c, t->tenant, &f, t->a, &w, &n, t->e);
    if (!rc && n == 0) {
        /* a code handed over just after the end still counts */
        f.status = FLASH_WINDOW_EXPIRED;
        rc = flash_store_window_list(t->c, t->tenant, &f, t->a, &w, &n, t->e);
    }
    if (rc)
        return rc;
    if (!n) {
        *outcome = "redeem:no_window";
        return reply(t, "Şu an açık bir pencereniz yok; kod onaylanamadı.",
                     "You have no open window right now; the code cannot be confirmed.");
    }
    const char *buyer_id = NULL;
    rc = flash_redeem(t->c, t->tenant, w[0].pk, code, t->now, t->a, &buyer_id, t->e);
    if (!rc) {
        *outcome = arena_printf(t->a, "redeem:%lld", (long long)w[0].pk);
        return replyf(t, "Kod onaylandı (%s). Teşekkürler!", "Code confirmed (%s). Thank you!",
                      code);
    }
    if (!refused(rc))
        return rc;
    bool used = rc == ERR_CONFLICT;
    err_init(t->e);
    *outcome = used ? "redeem:used" : "redeem:unknown";
    return used ? replyf(t, "%s kodu zaten kullanılmış.", "Code %s was already used.", code)
                : replyf(t, "%s kodu bu pencerede bulunamadı.",
                         "Code %s is not valid for this window.", code);
}

static int seller_decide(struct turn *t, int64_t window, bool approve, const char **outcome)
{
    int rc = 0;
    if (!window) {
        rc = flash_store_latest_proposal(t->c, t->tenant, t->who.pk, &window, t->e);
    } else {
        /* a window named by the message must be this seller's own */
        struct flash_window fw;
        rc = flash_store_window_get(t->c, t->tenant, window, t->a, &fw, t->e);
        if (rc == ERR_NOT_FOUND || (!rc && fw.seller_pk != t->who.pk)) {
            err_init(t->e);
            rc = 0;
            window = 0;
        }
    }
    if (rc)
        return rc;
    if (!window) {
        *outcome = "decide:none";
        return reply(t, "Onayınızı bekleyen bir pencere yok.",
                     "There is no window waiting for your answer.");
    }
    rc = approve ? flash_seller_approve(t->c, t->tenant, window, t->now, t->e)
                 : flash_seller_reject(t->c, t->tenant, window, t->now, t->e);
    if (rc && !refused(rc))
        return rc;
    if (rc) {
        err_init(t->e);
        *outcome = "decide:too_late";
        return reply(t, "Bu pencere için artık karar verilemiyor.",
                     "It is too late to decide on this window.");
    }
    *outcome = arena_printf(t->a, "%s:%lld", approve ? "approve" : "reject", (long long)window);
    return approve ? reply(t, "Harika! Pencere açıldı, yakındaki alıcılara haber veriyorum.",
                           "Great! The window is on; I am telling buyers nearby.")
                   : reply(t, "Tamam, bu pencereyi açmıyorum.", "OK, I will not open it.");
}

static int seller_turn(struct turn *t, const struct understanding *u, const char **outcome)
{
    /* the "Hayır" button under a window opened on the seller's own call for customers */
    int64_t w = payload_window(t->ev->payload, FLASH_ACTION_DECLINE);
    if (w)
        return seller_decide(t, w, false, outcome);
    if (*u->code &&
        (u->intent == UNDERSTAND_SELLER_REDEEM || u->confidence >= UNDERSTAND_CONFIDENT))
        return seller_redeem(t, u->code, outcome);
    if (u->confidence < UNDERSTAND_CONFIDENT)
        return unclear(t, true, outcome);
    if (understand_gate(u) == UNDERSTAND_GATE_CONFIRM)
        return confirm_first(t, u->intent, outcome);
    switch (u->intent) {
    case UNDERSTAND_SELLER_IDLE:
        return seller_signal(t, FLASH_SUPPLY_IDLE, FLASH_DENSITY_LOW, u, outcome);
    case UNDERSTAND_SELLER_BUSY:
        return seller_signal(t, FLASH_SUPPLY_DENSITY, FLASH_DENSITY_HIGH, u, outcome);
    case UNDERSTAND_SELLER_SURPLUS:
        return seller_signal(t, FLASH_SUPPLY_SURPLUS, -1, u, outcome);
    case UNDERSTAND_SELLER_APPROVE:
        return seller_decide(t, t->ev->window_id, true, outcome);
    case UNDERSTAND_SELLER_REJECT:
        return seller_decide(t, t->ev->window_id, false, outcome);
    case UNDERSTAND_HELP:
    case UNDERSTAND_GREETING:
        return help(t, true, outcome);
    default:
        return unclear(t, true, outcome);
    }
}

/* ======================== new numbers ======================== */

/* A first message: ask where they are, remembering what they wanted. */
static int contact_turn(struct turn *t, const struct understanding *u, const char **outcome)
{
    const struct chat_event *ev = t->ev;
    if (!ev->has_location) {
        const char *pending = u->intent == UNDERSTAND_DEMAND ? ev->text : "";
        char *state = arena_printf(t->a, "awaiting_location|%s", pending);
        int rc = contacts_set_state(t->c, t->tenant, ev->from, state, t->now, t->e);
        if (!rc)
            rc = ask_location(t);
        *outcome = "asked_location";
        return rc;
    }
    struct flash_buyer b;
    memset(&b, 0, sizeof(b));
    b.phone = ev->from;
    b.name = ev->name && *ev->name ? ev->name : NULL;
    b.loc.lat = ev->lat;
    b.loc.lng = ev->lng;
    b.loc.district = "";
    b.loc.neighborhood = ev->text ? ev->text : "";
    b.consent = true;
    b.language = "tr";
    b.price_sensitivity = FLASH_PRICE_BALANCED;
    bool created;
    int rc = flash_buyer_register(t->c, t->tenant, &b, t->now, t->a, &created, t->e);
    if (rc)
        return rc;
    t->who.kind = "buyer";
    t->who.pk = b.pk;
    t->who.id = b.id;
    t->who.buyer = b;
    *outcome = "registered";
    const char *state;
    rc = contacts_state(t->c, t->tenant, ev->from, t->a, &state, t->e);
    if (!rc)
        rc = contacts_set_state(t->c, t->tenant, ev->from, "", t->now, t->e);
    if (!rc)
        rc = reply(t,
                   "Teşekkürler, kaydınız tamam! Ne istediğinizi yazın (ör. \"Latte istiyorum\"), "
                   "yakınınızda fırsat açılınca haber vereyim.",
                   "Thanks, you are registered! Tell me what you want (e.g. \"I want a latte\") "
                   "and I will let you know when a deal opens nearby.");
    /* what they asked for before we knew where they were */
    const char *bar = strchr(state, '|');
    if (!rc && str_has_prefix(state, "awaiting_location") && bar && bar[1]) {
        struct understanding pu;
        struct err ue;
        err_init(&ue);
        if (!understand_text(bar + 1, UNDERSTAND_ROLE_BUYER, &pu, &ue) &&
            pu.intent == UNDERSTAND_DEMAND) {
            struct chat_event pending = *ev;
            pending.text = bar + 1;
            t->ev = &pending;
            const char *o2;
            rc = buyer_demand(t, &pu, &o2);
            t->ev = ev;
            *outcome = "registered+demand";
        }
    }
    return rc;
}

/* ======================== the turn ======================== */

/*
 * What finds the tenant's model (net/llm.h llm_config_for_tenant), set once by
 * chat_jobs_register() before workers start: the key that opens sealed integration secrets and
 * the default tenant, whose model falls back to ICESHOP_LLM_*.
 */
static const unsigned char *model_secret_key;
static int64_t model_default_tenant;

static int tenant_model(struct db_conn *c, int64_t tenant, struct arena *a, struct llm_config *out,
                        struct err *e)
{
    if (!model_secret_key) { /* registered without a key (tests): the environment's model */
        llm_config_from_env(out);
        return 0;
    }
    return llm_config_for_tenant(c, model_secret_key, tenant, tenant == model_default_tenant, a,
                                 out, e);
}

/* Send an unsure reading to the model: the turn continues in CHAT_JOB_MODEL. */
static int ask_model_later(struct turn *t, bool seller)
{
    char payload[96], key[64];
    snprintf(payload, sizeof(payload), "{\"event\":%lld,\"role\":\"%s\"}", (long long)t->ev->pk,
             seller ? "seller" : "buyer");
    snprintf(key, sizeof(key), "chat.model:%lld", (long long)t->ev->pk);
    struct job_spec spec = {.name = CHAT_JOB_MODEL,
                            .payload_json = payload,
                            .tenant_id = t->tenant,
                            .unique_key = key,
                            .max_attempts = 3};
    return jobs_enqueue(t->c, &spec, t->now, NULL, NULL, t->e);
}

int chat_dialog_handle(struct db_conn *c, int64_t tenant, const struct chat_event *ev,
                       const struct chat_reading *how, int64_t now_ms, struct arena *a,
                       const char **outcome, struct err *e)
{
    struct turn t = {.c = c, .tenant = tenant, .now = now_ms, .a = a, .ev = ev, .e = e};
    *outcome = "";
    int rc = identify(&t);
    if (rc)
        return rc;
    bool seller = str_eq(t.who.kind, "seller");
    if (seller && str_eq(ev->provider, "vapi")) {
        /*
         * A VAPI message is authenticated by a shared secret only: no signature over the body,
         * no timestamp, so its "from" number is the sender's word. Seller actions (redeeming
         * codes, approving windows) need a number Meta has vouched for.
         */
        *outcome = "refused:seller-by-vapi";
        return reply(&t, "Satıcı işlemleri yalnızca kayıtlı numaranızdan WhatsApp ile yapılabilir.",
                     "Seller actions can only be taken on WhatsApp from your registered number.");
    }
    if (str_eq(ev->type, "audio")) {
        *outcome = "voice";
        return reply(&t,
                     "Sesli mesajınızı aldım ama henüz dinleyemiyorum. Lütfen yazarak iletin ya "
                     "da sesli asistanımızı arayın.",
                     "I got your voice message but cannot listen to it yet. Please write, or "
                     "call our voice assistant.");
    }
    if (str_eq(ev->type, "other")) {
        *outcome = "unsupported";
        return reply(&t, "Bu mesaj türünü anlayamıyorum; lütfen yazarak iletin.",
                     "I cannot read this kind of message; please write to me.");
    }
    struct understanding u;
    memset(&u, 0, sizeof(u));
    if (how && how->given) {
        u = *how->given;
    } else if (ev->text && *ev->text) {
        struct err ue;
        err_init(&ue);
        if (understand_text(ev->text, seller ? UNDERSTAND_ROLE_SELLER : UNDERSTAND_ROLE_BUYER, &u,
                            &ue))
            u.intent = UNDERSTAND_UNKNOWN;
    } else {
        u.intent = ev->has_location ? UNDERSTAND_LOCATION : UNDERSTAND_UNKNOWN;
        u.confidence = ev->has_location ? 1.0 : 0.0;
    }
    if (str_eq(t.who.kind, "contact"))
        return contact_turn(&t, &u, outcome);
    if (how && how->model_may_be_asked && !how->given && ev->text && *ev->text &&
        !(ev->payload && *ev->payload) && understand_gate(&u) != UNDERSTAND_GATE_ACT) {
        *outcome = "asked_model";
        return ask_model_later(&t, seller);
    }
    return seller ? seller_turn(&t, &u, outcome) : buyer_turn(&t, &u, outcome);
}

/* ======================== the job ======================== */

static int process(struct job_ctx *ctx, struct err *e)
{
    json_t *root = json_loads(ctx->payload ? ctx->payload : "", 0, NULL);
    int64_t pk = (int64_t)json_integer_value(json_object_get(root, "event"));
    json_decref(root);
    if (pk <= 0 || ctx->tenant_id <= 0)
        return err_set(e, ERR_INVALID, "job %lld: payload needs {\"event\": id} and a tenant",
                       (long long)ctx->job_id);
    struct chat_event ev;
    int rc = chat_event_load(ctx->conn, ctx->tenant_id, pk, ctx->arena, &ev, e);
    if (rc)
        return rc;
    const char *outcome = "";
    int64_t recent = 0;
    if (!str_eq(ev.kind, "status") && ev.from && *ev.from)
        rc = chat_sender_recent(ctx->conn, ctx->tenant_id, ev.from, ctx->now_ms - 60 * 1000, pk,
                                &recent, e);
    if (rc)
        return rc;
    if (recent > CHAT_SENDER_MAX_PER_MINUTE)
        outcome = "rate_limited"; /* kept, not acted on: one number cannot make us send a flood */
    else {
        struct llm_config model = {0};
        rc = tenant_model(ctx->conn, ctx->tenant_id, ctx->arena, &model, e);
        struct chat_reading how = {.model_may_be_asked = llm_configured(&model)};
        if (!rc)
            rc = chat_dialog_handle(ctx->conn, ctx->tenant_id, &ev, &how, ctx->now_ms, ctx->arena,
                                    &outcome, e);
    }
    if (!rc)
        rc = chat_event_done(ctx->conn, ctx->tenant_id, pk, outcome, ctx->now_ms, e);
    if (!rc)
        log_info("msg=\"chat turn\" tenant=%lld event=%lld outcome=%s", (long long)ctx->tenant_id,
                 (long long)pk, outcome);
    return rc;
}

/*
 * CHAT_JOB_MODEL: ask the model, outside any transaction (the call may take seconds), then take
 * the turn in one transaction with its reading; when the model cannot be reached it is retried
 * with backoff, and on the last attempt (or when its answer is not believed) the rules' reading
 * is used, so the person is always answered.
 */
static int ask_model(struct job_ctx *ctx, struct err *e)
{
    json_t *root = json_loads(ctx->payload ? ctx->payload : "", 0, NULL);
    int64_t pk = (int64_t)json_integer_value(json_object_get(root, "event"));
    bool seller = str_eq(json_string_value(json_object_get(root, "role")), "seller");
    json_decref(root);
    if (pk <= 0 || ctx->tenant_id <= 0)
        return err_set(e, ERR_INVALID, "job %lld: payload needs {\"event\": id} and a tenant",
                       (long long)ctx->job_id);
    struct chat_event ev;
    int rc = chat_event_load(ctx->conn, ctx->tenant_id, pk, ctx->arena, &ev, e);
    if (rc)
        return rc;
    enum understand_role role = seller ? UNDERSTAND_ROLE_SELLER : UNDERSTAND_ROLE_BUYER;
    struct understanding u;
    memset(&u, 0, sizeof(u));
    struct err ue;
    err_init(&ue);
    if (understand_text(ev.text, role, &u, &ue))
        u.intent = UNDERSTAND_UNKNOWN;
    struct llm_config model;
    rc = tenant_model(ctx->conn, ctx->tenant_id, ctx->arena, &model, e);
    if (rc)
        return rc;
    char *req = understand_llm_request(ev.text, role, model.model);
    struct llm_reply r = {0};
    struct err me;
    err_init(&me);
    int mrc = req ? llm_chat(&model, req, &r, &me) : err_set(&me, ERR_NOMEM, "no request");
    free(req);
    bool believed = false;
    if (!mrc) {
        believed = understand_llm_answer(r.content, role, &u, &me) == 0;
        log_info("msg=\"language model answered\" tenant=%lld event=%lld believed=%s intent=%s "
                 "confidence=%.2f prompt_tokens=%lld completion_tokens=%lld latency_ms=%lld%s%s",
                 (long long)ctx->tenant_id, (long long)pk, believed ? "yes" : "no",
                 understand_intent_names[u.intent], u.confidence, (long long)r.prompt_tokens,
                 (long long)r.completion_tokens, (long long)r.latency_ms,
                 believed ? "" : " why=", believed ? "" : me.msg);
    } else if (r.retryable && ctx->attempt < ctx->max_attempts) {
        llm_reply_release(&r);
        return err_set(e, ERR_UPSTREAM, "%s", me.msg); /* the job's backoff tries again */
    } else {
        log_warn("msg=\"language model not reached; the rules decide\" tenant=%lld event=%lld "
                 "error=\"%s\"",
                 (long long)ctx->tenant_id, (long long)pk, me.msg);
    }
    llm_reply_release(&r);
    /* the rules' reading again when the model's was not believed */
    if (!believed) {
        err_init(&ue);
        memset(&u, 0, sizeof(u));
        if (understand_text(ev.text, role, &u, &ue))
            u.intent = UNDERSTAND_UNKNOWN;
    }
    struct chat_reading how = {.given = &u};
    const char *outcome = "";
    rc = db_begin(ctx->conn, e);
    if (!rc)
        rc = chat_dialog_handle(ctx->conn, ctx->tenant_id, &ev, &how, ctx->now_ms, ctx->arena,
                                &outcome, e);
    const char *done = arena_printf(ctx->arena, "%s:%s", believed ? "model" : "rules", outcome);
    if (!rc)
        rc = chat_event_done(ctx->conn, ctx->tenant_id, pk, done, ctx->now_ms, e);
    rc = rc ? (db_rollback(ctx->conn), rc) : db_commit(ctx->conn, e);
    if (!rc)
        log_info("msg=\"chat turn\" tenant=%lld event=%lld outcome=%s", (long long)ctx->tenant_id,
                 (long long)pk, done);
    return rc;
}

int chat_jobs_register(struct job_registry *reg, const unsigned char *secret_key,
                       int64_t default_tenant, struct err *e)
{
    model_secret_key = secret_key;
    model_default_tenant = default_tenant;
    int rc = notify_kind_register(&chat_msg_location_request, e);
    if (!rc)
        rc = notify_kind_register(&notify_kind_reply, e);
    if (!rc)
        rc = job_registry_add(reg, CHAT_JOB_PROCESS, process, NULL, JOB_IN_TX, e);
    if (!rc)
        rc = job_registry_add(reg, CHAT_JOB_MODEL, ask_model, NULL, 0, e);
    if (!rc)
        rc = job_registry_set_lane(reg, CHAT_JOB_MODEL, CHAT_LANE_MODEL, e);
    return rc;
}
