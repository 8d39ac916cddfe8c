/* SPDX-License-Identifier: MIT */
/*
 * The flash system's message kinds (flash_messages.h) and their texts: every kind in Turkish
 * (the default) and English, UTF-8, tolerant of missing fields (a NULL or zero field drops its
 * phrase). Rendering is pure: no I/O. Tests: tests/unit/domain/test_flash_messages.c.
 */
#include "domain/flash/flash_messages.h"
#include "core/str.h"

#include <stdarg.h>
#include <stdio.h>

/* A bounded writer: remembers when something did not fit, keeps `out` terminated. */
struct writer {
    char *out;
    size_t n;
    size_t len;
    bool over;
};

static void put(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct writer *w, const char *fmt, ...)
{
    if (w->over || w->n == 0) {
        w->over = true;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(w->out + w->len, w->n - w->len, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)r >= w->n - w->len) {
        w->over = true;
        w->len = w->n - 1;
        return;
    }
    w->len += (size_t)r;
}

static bool has(const char *s)
{
    return s && *s;
}

static const char *fallback(const char *s, const char *dflt)
{
    return has(s) ? s : dflt;
}

/* "Merhaba Ayşe, " / "Hi Ayşe, " or without the name. */
static void greet(struct writer *w, bool en, const char *name)
{
    if (has(name))
        put(w, en ? "Hi %s, " : "Merhaba %s, ", name);
    else
        put(w, en ? "Hi, " : "Merhaba, ");
}

/* ", 14:00-14:10" when both times are known, ", until 14:10" with only the end. */
static void span(struct writer *w, bool en, const struct flash_msg_vars *v)
{
    if (has(v->start_hhmm) && has(v->end_hhmm))
        put(w, ", %s-%s", v->start_hhmm, v->end_hhmm);
    else if (has(v->end_hhmm))
        put(w, en ? ", until %s" : ", bitiş %s", v->end_hhmm);
}

static void code(struct writer *w, bool en, const char *c)
{
    if (has(c))
        put(w, en ? " Your code: %s." : " Kodunuz: %s.", c);
}

static void offer(struct writer *w, bool en, const struct flash_msg_vars *v)
{
    greet(w, en, v->name);
    const char *seller =
        fallback(v->seller_name, en ? "A shop nearby" : "Yakınınızdaki bir işletme");
    if (en)
        put(w, "%s has %s", seller, fallback(v->title, "a flash offer"));
    else
        put(w, "%s şu an %s", seller, fallback(v->title, "kampanyada"));
    if (v->discount > 0)
        put(w, en ? ": %d%% off" : ": %%%d indirim", v->discount);
    span(w, en, v);
    put(w, en ? ". Reply JOIN to take part." : ". Katılmak için KATIL yaz.");
}

static void question(struct writer *w, bool en, const struct flash_msg_vars *v)
{
    greet(w, en, v->name);
    if (v->count > 0) {
        if (en)
            put(w, "%d %s nearby %s interested. ", v->count, v->count == 1 ? "person" : "people",
                v->count == 1 ? "is" : "are");
        else
            put(w, "yakınınızda %d kişi ilgileniyor. ", v->count);
    }
    if (en) {
        put(w, "%shall we open a flash window", v->count > 0 ? "S" : "s");
        if (has(v->start_hhmm) && has(v->end_hhmm))
            put(w, " from %s to %s", v->start_hhmm, v->end_hhmm);
        if (v->discount > 0)
            put(w, " with %d%% off", v->discount);
        put(w, "?");
        if (has(v->title))
            put(w, " Proposal: %s.", v->title);
        put(w, " Reply YES to approve or NO to decline.");
    } else {
        if (has(v->start_hhmm) && has(v->end_hhmm))
            put(w, "%s-%s arasında ", v->start_hhmm, v->end_hhmm);
        if (v->discount > 0)
            put(w, "%%%d indirimle ", v->discount);
        put(w, "bir kampanya açalım mı?");
        if (has(v->title))
            put(w, " Öneri: %s.", v->title);
        put(w, " Onaylamak için EVET, istemiyorsanız HAYIR yazın.");
    }
}

/* To an ask-first seller who had asked for customers: opened without a question; NO undoes it. */
static void opened(struct writer *w, bool en, const struct flash_msg_vars *v)
{
    greet(w, en, v->name);
    if (en) {
        put(w, "you said you wanted customers, so I opened a flash window");
        if (has(v->start_hhmm) && has(v->end_hhmm))
            put(w, " from %s to %s", v->start_hhmm, v->end_hhmm);
        if (v->discount > 0)
            put(w, " with %d%% off", v->discount);
        if (v->count > 0)
            put(w, " and am offering it to %d %s nearby", v->count,
                v->count == 1 ? "person" : "people");
        put(w, ". Reply NO before it starts if you do not want it.");
    } else {
        put(w, "müşteri beklediğinizi söylediniz; ");
        if (has(v->start_hhmm) && has(v->end_hhmm))
            put(w, "%s-%s arasında ", v->start_hhmm, v->end_hhmm);
        if (v->discount > 0)
            put(w, "%%%d indirimli ", v->discount);
        put(w, "bir kampanya açtım");
        if (v->count > 0)
            put(w, ", yakınınızdaki %d kişiye teklif gidiyor", v->count);
        put(w, ". İstemiyorsanız başlamadan HAYIR yazın.");
    }
}

static void window_open(struct writer *w, bool en, const struct flash_msg_vars *v)
{
    greet(w, en, v->name);
    put(w, en ? "it has started!" : "kampanya başladı!");
    /* " M Coffee: latte, %20 indirim, bitiş 14:10." with whatever is known */
    const char *sep = " ";
    if (has(v->seller_name)) {
        put(w, " %s", v->seller_name);
        sep = ": ";
    }
    if (has(v->title)) {
        put(w, "%s%s", sep, v->title);
        sep = ", ";
    }
    if (v->discount > 0) {
        put(w, en ? "%s%d%% off" : "%s%%%d indirim", sep, v->discount);
        sep = ", ";
    }
    if (has(v->end_hhmm)) {
        put(w, en ? "%suntil %s" : "%sbitiş %s", sep, v->end_hhmm);
        sep = ", ";
    }
    if (sep[0] != ' ')
        put(w, ".");
    code(w, en, v->code);
    put(w, en ? " Come now!" : " Şimdi gelin!");
}

static void seller_summary(struct writer *w, bool en, const struct flash_msg_vars *v)
{
    if (v->count <= 0) {
        put(w, en ? "Nobody has committed yet." : "Henüz katılan yok.");
        return;
    }
    if (en)
        put(w, "%d %s coming, average distance %d m. Based on reliability, %d %s expected.",
            v->count, v->count == 1 ? "person is" : "people are", v->avg_distance_m, v->expected,
            v->expected == 1 ? "is" : "are");
    else
        put(w, "%d kişi geliyor, ortalama mesafe %d m. Güvenilirliğe göre %d kişi bekleniyor.",
            v->count, v->avg_distance_m, v->expected);
}

static void cancelled(struct writer *w, bool en, const struct flash_msg_vars *v)
{
    greet(w, en, v->name);
    const char *seller = fallback(v->seller_name, NULL);
    if (en)
        put(w, "sorry, the %s%sflash window", seller ? seller : "", seller ? " " : "");
    else if (seller)
        put(w, "üzgünüz, %s kampanyası", seller);
    else
        put(w, "üzgünüz, kampanya");
    if (has(v->title))
        put(w, " (%s)", v->title);
    put(w, en ? " was cancelled" : " iptal edildi");
    if (has(v->reason))
        put(w, ": %s", v->reason);
    put(w, ".");
}

static void reminder(struct writer *w, bool en, const struct flash_msg_vars *v)
{
    const char *seller = fallback(v->seller_name, NULL);
    if (en)
        put(w, "Reminder: the %s%sflash window starts", seller ? seller : "", seller ? " " : "");
    else if (seller)
        put(w, "Hatırlatma: %s kampanyası", seller);
    else
        put(w, "Hatırlatma: kampanya");
    if (en) {
        if (v->minutes > 0)
            put(w, " in %d minute%s", v->minutes, v->minutes == 1 ? "" : "s");
        if (has(v->start_hhmm))
            put(w, " at %s", v->start_hhmm);
    } else {
        if (v->minutes > 0)
            put(w, " %d dakika sonra", v->minutes);
        put(w, " başlıyor");
        if (has(v->start_hhmm))
            put(w, ", saat %s", v->start_hhmm);
    }
    if (has(v->title))
        put(w, " (%s)", v->title);
    put(w, ".");
    code(w, en, v->code);
}

static void confirmation(struct writer *w, bool en, const struct flash_msg_vars *v)
{
    if (has(v->name))
        put(w, en ? "Thanks %s! " : "Teşekkürler %s! ", v->name);
    else
        put(w, en ? "Thanks! " : "Teşekkürler! ");
    put(w, en ? "Your place is reserved" : "Yeriniz ayrıldı");
    if (has(v->seller_name))
        put(w, ": %s", v->seller_name);
    if (has(v->title))
        put(w, has(v->seller_name) ? ", %s" : ": %s", v->title);
    span(w, en, v);
    put(w, ".");
    if (has(v->code))
        put(w, en ? " Your code: %s. Show it at the counter." : " Kodunuz: %s. Kasada gösterin.",
            v->code);
}

/* A prepaid window was cancelled and the buyer's payment went back. */
static void refunded(struct writer *w, bool en, const struct flash_msg_vars *v)
{
    if (has(v->name))
        put(w, en ? "Hi %s, " : "Merhaba %s, ", v->name);
    const char *seller = fallback(v->seller_name, NULL);
    if (en)
        put(w, "the %s%sflash window", seller ? seller : "", seller ? " " : "");
    else if (seller)
        put(w, "%s kampanyası", seller);
    else
        put(w, "kampanya");
    if (has(v->title))
        put(w, " (%s)", v->title);
    put(w, en ? " was cancelled" : " iptal edildi");
    if (has(v->reason))
        put(w, " (%s)", v->reason);
    if (has(v->amount))
        put(w, en ? "; your payment of %s has been refunded." : "; ödediğiniz %s iade edildi.",
            v->amount);
    else
        put(w, en ? "; your payment has been refunded." : "; ödemeniz iade edildi.");
}

/* A prepaid window's order to pay, and the provider's page where it is paid. */
static void pay(struct writer *w, bool en, const struct flash_msg_vars *v)
{
    if (has(v->name))
        put(w, en ? "Hi %s, " : "Merhaba %s, ", v->name);
    const char *seller = fallback(v->seller_name, NULL);
    if (en)
        put(w, "the %s%sflash window", seller ? seller : "", seller ? " " : "");
    else if (seller)
        put(w, "%s kampanyası", seller);
    else
        put(w, "kampanya");
    if (has(v->title))
        put(w, " (%s)", v->title);
    span(w, en, v);
    if (en)
        put(w, "%s is prepaid: your place is held once you have paid%s%s.",
            has(v->start_hhmm) || has(v->end_hhmm) ? "," : "", has(v->amount) ? " " : "",
            has(v->amount) ? v->amount : "");
    else
        put(w, ": ön ödemeli; yeriniz%s%s ödeyince ayrılır.", has(v->amount) ? " " : "",
            has(v->amount) ? v->amount : "");
    if (has(v->pay_url))
        put(w, en ? " Pay securely here: %s" : " Güvenli ödeme sayfası: %s", v->pay_url);
}

enum which {
    OFFER,
    QUESTION,
    OPENED,
    WINDOW_OPEN,
    SELLER_SUMMARY,
    CANCELLED,
    REMINDER,
    CONFIRMATION,
    REFUNDED,
    PAY
};

static int render(enum which kind, const char *language, const void *vars, char *out, size_t n)
{
    static const struct flash_msg_vars none;
    const struct flash_msg_vars *v = vars ? vars : &none;
    struct writer w = {.out = out, .n = n};
    bool en = str_eq(language, "en");
    if (n > 0)
        out[0] = '\0';
    switch (kind) {
    case OFFER:
        offer(&w, en, v);
        break;
    case QUESTION:
        question(&w, en, v);
        break;
    case OPENED:
        opened(&w, en, v);
        break;
    case WINDOW_OPEN:
        window_open(&w, en, v);
        break;
    case SELLER_SUMMARY:
        seller_summary(&w, en, v);
        break;
    case CANCELLED:
        cancelled(&w, en, v);
        break;
    case REMINDER:
        reminder(&w, en, v);
        break;
    case CONFIRMATION:
        confirmation(&w, en, v);
        break;
    case REFUNDED:
        refunded(&w, en, v);
        break;
    case PAY:
        pay(&w, en, v);
        break;
    }
    if (has(v->link))
        put(&w, " %s", v->link);
    return w.over ? -1 : (int)w.len;
}

#define RENDERER(fn, which)                                                                        \
    static int fn(const char *language, const void *vars, char *out, size_t n)                     \
    {                                                                                              \
        return render(which, language, vars, out, n);                                              \
    }
RENDERER(render_offer, OFFER)
RENDERER(render_question, QUESTION)
RENDERER(render_opened, OPENED)
RENDERER(render_window_open, WINDOW_OPEN)
RENDERER(render_seller_summary, SELLER_SUMMARY)
RENDERER(render_cancelled, CANCELLED)
RENDERER(render_reminder, REMINDER)
RENDERER(render_confirmation, CONFIRMATION)
RENDERER(render_refunded, REFUNDED)
RENDERER(render_pay, PAY)

const struct notify_kind flash_msg_offer = {
    .name = "offer",
    .purpose = NOTIFY_MARKETING,
    .render = render_offer,
    .buttons = {{FLASH_ACTION_JOIN, "Katıl", "Join"}, {FLASH_ACTION_DECLINE, "Hayır", "No"}},
};
const struct notify_kind flash_msg_question = {
    .name = "question", .purpose = NOTIFY_TRANSACTIONAL, .render = render_question};
const struct notify_kind flash_msg_opened = {
    .name = "opened",
    .purpose = NOTIFY_TRANSACTIONAL,
    .render = render_opened,
    .buttons = {{FLASH_ACTION_DECLINE, "Hayır", "No"}},
};
const struct notify_kind flash_msg_window_open = {
    .name = "window_open", .purpose = NOTIFY_TRANSACTIONAL, .render = render_window_open};
const struct notify_kind flash_msg_seller_summary = {
    .name = "seller_summary", .purpose = NOTIFY_TRANSACTIONAL, .render = render_seller_summary};
const struct notify_kind flash_msg_cancelled = {
    .name = "cancelled", .purpose = NOTIFY_TRANSACTIONAL, .render = render_cancelled};
const struct notify_kind flash_msg_reminder = {
    .name = "reminder", .purpose = NOTIFY_MARKETING, .render = render_reminder};
const struct notify_kind flash_msg_confirmation = {
    .name = "confirmation", .purpose = NOTIFY_TRANSACTIONAL, .render = render_confirmation};
const struct notify_kind flash_msg_refunded = {
    .name = "prepay_refunded", .purpose = NOTIFY_TRANSACTIONAL, .render = render_refunded};
const struct notify_kind flash_msg_pay = {
    .name = "prepay_pay", .purpose = NOTIFY_TRANSACTIONAL, .render = render_pay};

int flash_messages_register(struct err *e)
{
    static const struct notify_kind *const all[] = {
        &flash_msg_offer,        &flash_msg_question,
        &flash_msg_window_open,  &flash_msg_seller_summary,
        &flash_msg_cancelled,    &flash_msg_reminder,
        &flash_msg_confirmation, &flash_msg_opened,
        &flash_msg_refunded,     &flash_msg_pay};
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof(all) / sizeof(all[0]); i++)
        rc = notify_kind_register(all[i], e);
    return rc;
}
