/* SPDX-License-Identifier: MIT */
/*
 * The flash module's outbound webhook events: payload builders that read the window in the
 * caller's transaction and hand it to webhooks_emit(), so each hook in flash_service.c is one
 * line and a rolled-back change emits nothing. Tests: tests/integration/0009-webhooks-out.c,
 * tests/unit/domain/test_webhooks.c.
 */
#ifndef ICESHOP_DOMAIN_FLASH_WEBHOOKS_H
#define ICESHOP_DOMAIN_FLASH_WEBHOOKS_H

#include "core/err.h"
#include "db/db.h"
#include "domain/flash/flash.h"

#include <stdint.h>

/* "window.created" with the window as data. */
int flash_webhooks_window_created(struct db_conn *c, int64_t tenant, int64_t window_pk,
                                  int64_t now_ms, struct err *e);
/* "window.activated" / "window.cancelled" / "window.expired" for a move to `to`; others: none. */
int flash_webhooks_window_moved(struct db_conn *c, int64_t tenant, int64_t window_pk,
                                enum flash_window_status to, int64_t now_ms, struct err *e);
/* "precommit.created" / "redemption.created": the window and the buyer's public id. */
int flash_webhooks_precommit(struct db_conn *c, int64_t tenant, int64_t window_pk,
                             const char *buyer_id, int64_t now_ms, struct err *e);
int flash_webhooks_redemption(struct db_conn *c, int64_t tenant, int64_t window_pk,
                              const char *buyer_id, int64_t now_ms, struct err *e);

#endif
