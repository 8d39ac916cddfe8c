/* SPDX-License-Identifier: MIT */
/*
 * The messages the flash system sends, as message kinds of the notification outbox
 * (domain/notify/kinds.h): offers with "Katıl" / "Hayır" buttons, the ask-first question (or,
 * when that seller had asked for customers, word that a window was opened for them), the
 * start and the seller's summary, cancellations, reminders and confirmations, in Turkish and
 * English. Each is about a window (about_kind "window"). Tests:
 * tests/unit/domain/test_flash_messages.c.
 */
#ifndef ICESHOP_DOMAIN_FLASH_MESSAGES_H
#define ICESHOP_DOMAIN_FLASH_MESSAGES_H

#include "core/err.h"
#include "domain/notify/kinds.h"

/* What the texts may mention; unused fields may stay zero/NULL (their phrase is left out). */
struct flash_msg_vars {
    const char *name; /* recipient's name, may be NULL */
    const char *seller_name;
    const char *title; /* the window's title */
    const char *product;
    int discount; /* percent */
    int count;    /* committed buyers */
    int expected; /* expected to come, given reliability */
    int avg_distance_m;
    int minutes;            /* window length, or minutes until the start */
    const char *start_hhmm; /* local "14:00" */
    const char *end_hhmm;
    const char *code;    /* redemption code */
    const char *reason;  /* why cancelled */
    const char *link;    /* a page for the window, may be NULL */
    const char *amount;  /* money refunded or to pay, as text ("45.00 TRY") */
    const char *pay_url; /* the hosted payment page of a prepaid window's order */
};

/* The "about" kind of every flash message, and the offer buttons' actions ("join:42"). */
#define FLASH_ABOUT_WINDOW   "window"
#define FLASH_ACTION_JOIN    "join"
#define FLASH_ACTION_DECLINE "decline"

extern const struct notify_kind flash_msg_offer;       /* to a buyer: marketing, buttons */
extern const struct notify_kind flash_msg_question;    /* to an ask-first seller: open it? */
extern const struct notify_kind flash_msg_opened;      /* to one who asked for customers: opened */
extern const struct notify_kind flash_msg_window_open; /* to committed buyers: come now */
extern const struct notify_kind flash_msg_seller_summary; /* "3 kişi geliyor, ortalama 350 m" */
extern const struct notify_kind flash_msg_cancelled;      /* it will not happen, and why */
extern const struct notify_kind flash_msg_reminder;       /* marketing: before the start */
extern const struct notify_kind flash_msg_confirmation;   /* your place, your code */
extern const struct notify_kind flash_msg_refunded; /* a prepaid window was cancelled: refunded */
extern const struct notify_kind flash_msg_pay;      /* a prepaid window: pay here to take part */

/* Registers the kinds above (idempotent); flash_jobs_register() calls it. */
int flash_messages_register(struct err *e);

#endif
