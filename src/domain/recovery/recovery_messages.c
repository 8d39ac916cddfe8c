/* SPDX-License-Identifier: MIT */
/*
 * Cart recovery's WhatsApp message kind, "cart.recovery": a marketing message (consent and
 * quiet hours apply) in Turkish or English with the cart's value and the link that finishes the
 * checkout; the second step of an agent's sequence reads as a reminder. Outside the 24-hour
 * window the template "cart_recovery" carries the same text. Tests:
 * tests/unit/domain/test_recovery.c, tests/integration/0025-recovery.c.
 */
#include "domain/recovery/recovery.h"
#include "domain/notify/kinds.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int render(const char *language, const void *vars, char *out, size_t n)
{
    const struct recovery_msg_vars *v = vars;
    if (!v || !v->link || !v->link[0] || !v->total || !v->company)
        return -1;
    bool en = language && strcmp(language, "en") == 0;
    int len;
    if (en)
        len = snprintf(out, n,
                       v->step > 0 ? "Reminder: your cart at %s (%s) is still waiting. Finish "
                                     "your order here: %s"
                                   : "Hi! You left items worth %2$s in your cart at %1$s. Finish "
                                     "your order here: %3$s",
                       v->company, v->total, v->link);
    else
        len = snprintf(out, n,
                       v->step > 0 ? "Hatırlatma: %s sepetiniz (%s) hâlâ sizi bekliyor. "
                                     "Siparişinizi buradan tamamlayabilirsiniz: %s"
                                   : "Merhaba! %s sepetinizde %s tutarında ürün kaldı. "
                                     "Siparişinizi buradan tamamlayabilirsiniz: %s",
                       v->company, v->total, v->link);
    return len < 0 || (size_t)len >= n ? -1 : len;
}

const struct notify_kind recovery_msg_cart = {
    .name = "cart.recovery",
    .purpose = NOTIFY_MARKETING,
    .template_name = "cart_recovery",
    .render = render,
};

int recovery_messages_register(struct err *e)
{
    return notify_kind_register(&recovery_msg_cart, e);
}
