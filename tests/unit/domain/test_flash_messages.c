/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/domain/flash/flash_messages.c: the Turkish and English texts of every flash
 * message kind (exact wording, every kind's numbers and codes, sparse and oversized inputs), and
 * what each kind declares to the outbox (purpose, buttons). Pure: no database.
 */
#include "domain/flash/flash_messages.h"
#include "core/str.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

static const struct flash_msg_vars full = {
    .name = "Ayşe",
    .seller_name = "M Coffee",
    .title = "latte",
    .product = "latte",
    .discount = 20,
    .count = 3,
    .expected = 2,
    .avg_distance_m = 350,
    .minutes = 10,
    .start_hhmm = "14:00",
    .end_hhmm = "14:10",
    .code = "K7P2QX",
    .reason = "yeterli katılım olmadı",
    .amount = "45.00 TRY",
    .pay_url = "https://pay.example/p?token=t1",
};

/* Valid UTF-8, no control characters. */
static void assert_clean_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int extra = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : -1;
        if (extra < 0)
            fail_msg("bad UTF-8 lead byte in \"%s\"", s);
        if (*p < 0x20)
            fail_msg("control character in \"%s\"", s);
        p++;
        for (int i = 0; i < extra; i++, p++) {
            if ((*p & 0xc0) != 0x80)
                fail_msg("bad UTF-8 continuation in \"%s\"", s);
        }
    }
}

static void test_render_exact(void **state)
{
    (void)state;
    char out[512];
    int n = flash_msg_offer.render("tr", &full, out, sizeof(out));
    assert_string_equal(out, "Merhaba Ayşe, M Coffee şu an latte: %20 indirim, 14:00-14:10. "
                             "Katılmak için KATIL yaz.");
    assert_int_equal(n, (int)strlen(out));
    flash_msg_seller_summary.render("tr", &full, out, sizeof(out));
    assert_string_equal(out, "3 kişi geliyor, ortalama mesafe 350 m. Güvenilirliğe göre 2 kişi "
                             "bekleniyor.");
    flash_msg_seller_summary.render("en", &full, out, sizeof(out));
    assert_string_equal(out, "3 people are coming, average distance 350 m. Based on reliability, "
                             "2 are expected.");
    flash_msg_offer.render("en", &full, out, sizeof(out));
    assert_string_equal(out, "Hi Ayşe, M Coffee has latte: 20% off, 14:00-14:10. Reply JOIN to "
                             "take part.");
    /* Unknown languages fall back to Turkish. */
    char tr[512];
    flash_msg_offer.render("de", &full, out, sizeof(out));
    flash_msg_offer.render(NULL, &full, tr, sizeof(tr));
    assert_string_equal(out, tr);
    assert_non_null(strstr(out, "Merhaba"));
}

/* Every flash kind, with the words each must contain given `full`. */
static const struct {
    const struct notify_kind *kind;
    const char *must[3];
} kinds[] = {
    {&flash_msg_offer, {"20", "14:00"}},
    {&flash_msg_question, {"20", "14:00"}},
    {&flash_msg_opened, {"20", "14:00", "3"}},
    {&flash_msg_window_open, {"K7P2QX", "14:10"}},
    {&flash_msg_seller_summary, {"3", "350 m", "2"}},
    {&flash_msg_cancelled, {"yeterli katılım olmadı", "M Coffee"}},
    {&flash_msg_reminder, {"10", "14:00", "K7P2QX"}},
    {&flash_msg_confirmation, {"K7P2QX", "M Coffee"}},
    {&flash_msg_refunded, {"45.00 TRY", "M Coffee", "yeterli katılım olmadı"}},
    {&flash_msg_pay, {"45.00 TRY", "https://pay.example/p?token=t1", "14:00"}},
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

static void test_render_all(void **state)
{
    (void)state;
    static const char *const langs[] = {"tr", "en"};
    for (size_t k = 0; k < N_KINDS; k++) {
        for (int l = 0; l < 2; l++) {
            char out[512];
            int n = kinds[k].kind->render(langs[l], &full, out, sizeof(out));
            if (n <= 0)
                fail_msg("%s/%s: rc %d", kinds[k].kind->name, langs[l], n);
            assert_int_equal(n, (int)strlen(out));
            assert_clean_utf8(out);
            /* The numbers and codes each kind is about. */
            for (int i = 0; i < 3 && kinds[k].must[i]; i++) {
                if (!strstr(out, kinds[k].must[i]))
                    fail_msg("%s/%s lacks \"%s\": %s", kinds[k].kind->name, langs[l],
                             kinds[k].must[i], out);
            }
            if (l == 1) {
                /* English has no Turkish words from the templates. */
                assert_null(strstr(out, "Merhaba"));
                assert_null(strstr(out, "Kodunuz"));
            }
        }
    }
    /* Turkish characters of the templates themselves. */
    char out[512];
    flash_msg_question.render("tr", &full, out, sizeof(out));
    assert_non_null(strstr(out, "yakınınızda 3 kişi ilgileniyor"));
    assert_non_null(strstr(out, "açalım mı?"));
    flash_msg_opened.render("tr", &full, out, sizeof(out));
    assert_string_equal(out, "Merhaba Ayşe, müşteri beklediğinizi söylediniz; 14:00-14:10 arasında "
                             "%20 indirimli bir kampanya açtım, yakınınızdaki 3 kişiye teklif "
                             "gidiyor. İstemiyorsanız başlamadan HAYIR yazın.");
    assert_string_equal(flash_msg_opened.buttons[0].action, FLASH_ACTION_DECLINE);
    flash_msg_window_open.render("tr", &full, out, sizeof(out));
    assert_non_null(strstr(out, "başladı"));
    flash_msg_reminder.render("tr", &full, out, sizeof(out));
    assert_non_null(strstr(out, "Hatırlatma: M Coffee kampanyası 10 dakika sonra başlıyor"));
    flash_msg_cancelled.render("tr", &full, out, sizeof(out));
    assert_non_null(strstr(out, "iptal edildi: yeterli katılım olmadı."));
    flash_msg_confirmation.render("tr", &full, out, sizeof(out));
    assert_non_null(strstr(out, "Kodunuz: K7P2QX"));
    flash_msg_refunded.render("tr", &full, out, sizeof(out));
    assert_string_equal(out, "Merhaba Ayşe, M Coffee kampanyası (latte) iptal edildi (yeterli "
                             "katılım olmadı); ödediğiniz 45.00 TRY iade edildi.");
    flash_msg_refunded.render("en", &full, out, sizeof(out));
    assert_string_equal(out, "Hi Ayşe, the M Coffee flash window (latte) was cancelled (yeterli "
                             "katılım olmadı); your payment of 45.00 TRY has been refunded.");
    flash_msg_pay.render("tr", &full, out, sizeof(out));
    assert_string_equal(out, "Merhaba Ayşe, M Coffee kampanyası (latte), 14:00-14:10: ön ödemeli; "
                             "yeriniz 45.00 TRY ödeyince ayrılır. Güvenli ödeme sayfası: "
                             "https://pay.example/p?token=t1");
    flash_msg_pay.render("en", &full, out, sizeof(out));
    assert_string_equal(out, "Hi Ayşe, the M Coffee flash window (latte), 14:00-14:10, is prepaid: "
                             "your place is held once you have paid 45.00 TRY. Pay securely here: "
                             "https://pay.example/p?token=t1");
}

static void test_render_sparse(void **state)
{
    (void)state;
    static const struct flash_msg_vars empty;
    static const char *const langs[] = {"tr", "en"};
    for (size_t k = 0; k < N_KINDS; k++) {
        for (int l = 0; l < 2; l++) {
            char out[512];
            int n = kinds[k].kind->render(langs[l], &empty, out, sizeof(out));
            if (n <= 0)
                fail_msg("%s/%s empty: rc %d", kinds[k].kind->name, langs[l], n);
            assert_null(strstr(out, "(null)"));
            assert_null(strstr(out, "%0"));
            assert_null(strstr(out, " 0%"));
            assert_clean_utf8(out);
            n = kinds[k].kind->render(langs[l], NULL, out, sizeof(out));
            assert_true(n > 0);
        }
    }
    char out[512];
    flash_msg_offer.render("tr", &empty, out, sizeof(out));
    assert_true(strncmp(out, "Merhaba, ", 9) == 0);
    /* A link is appended. */
    struct flash_msg_vars v = full;
    v.link = "https://shop.example/w/7";
    flash_msg_offer.render("tr", &v, out, sizeof(out));
    assert_non_null(strstr(out, " https://shop.example/w/7"));

    /* Too small: -1, truncated but terminated. */
    char small[16];
    assert_int_equal(flash_msg_offer.render("tr", &full, small, sizeof(small)), -1);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_int_equal(flash_msg_offer.render("tr", &full, small, 0), -1);
}

/*
 * What the kinds declare to the outbox: offers and reminders are marketing (consent, quiet
 * hours), the rest transactional; only offers (Katıl, Hayır) and the seller's "opened" (Hayır)
 * carry buttons, and their actions are the ones the dialog reads back ("join:42"); every kind
 * registers, twice without harm, and keeps its stored name.
 */
static void test_declarations(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_KINDS; k++) {
        const struct notify_kind *d = kinds[k].kind;
        bool marketing = d == &flash_msg_offer || d == &flash_msg_reminder;
        assert_int_equal(d->purpose, marketing ? NOTIFY_MARKETING : NOTIFY_TRANSACTIONAL);
        assert_true(d->buttons[0].action == NULL || d == &flash_msg_offer ||
                    d == &flash_msg_opened);
        assert_non_null(d->render);
        assert_false(d->location_request);
    }
    assert_string_equal(flash_msg_offer.buttons[0].action, FLASH_ACTION_JOIN);
    assert_string_equal(flash_msg_offer.buttons[0].title_tr, "Katıl");
    assert_string_equal(flash_msg_offer.buttons[1].action, FLASH_ACTION_DECLINE);
    assert_string_equal(flash_msg_offer.buttons[1].title_en, "No");
    /* The names are stored with every message: they never change. */
    assert_string_equal(flash_msg_seller_summary.name, "seller_summary");
    assert_string_equal(flash_msg_window_open.name, "window_open");
    assert_string_equal(flash_msg_opened.name, "opened");
    assert_null(flash_msg_opened.buttons[1].action);
    struct err e;
    err_init(&e);
    assert_int_equal(flash_messages_register(&e), 0);
    assert_int_equal(flash_messages_register(&e), 0);
    for (size_t k = 0; k < N_KINDS; k++)
        assert_ptr_equal(notify_kind_find(kinds[k].kind->name), kinds[k].kind);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_exact),
        cmocka_unit_test(test_render_all),
        cmocka_unit_test(test_render_sparse),
        cmocka_unit_test(test_declarations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
