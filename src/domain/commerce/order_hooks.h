/* SPDX-License-Identifier: MIT */
/*
 * What happens when an order becomes paid, registered by the modules that own each follow-up
 * (the certificate, the customer's notification) and run by the module that marks the order paid
 * (payments). The registry lives here, below both, so payments never includes the modules that
 * follow up and they never include payments.
 *
 * Contract: hooks are added at startup, before threads start (not thread-safe to add; safe to
 * run from any thread afterwards). order_hooks_run_paid() is called inside the transaction that
 * moves the order to paid, once per order (the caller guarantees the transition happens once);
 * each hook may only write rows in that transaction (typically enqueue a job, durable with the
 * payment), never talk to the network. The first hook that fails stops the rest and its error is
 * returned, so the caller rolls the whole transition back.
 * Tests: tests/unit/domain/test_order_hooks.c.
 */
#ifndef ICESHOP_DOMAIN_COMMERCE_ORDER_HOOKS_H
#define ICESHOP_DOMAIN_COMMERCE_ORDER_HOOKS_H

#include "core/err.h"
#include "db/db.h"

#include <stdint.h>

#define ORDER_HOOKS_MAX 8

typedef int order_paid_hook_fn(struct db_conn *conn, int64_t tenant, int64_t order_pk,
                               struct err *e);

/* Add a hook under a name used in logs and errors. ERR_INVALID when the registry is full or the
 * name is already taken (a module registering twice). */
int order_hooks_add_paid(const char *name, order_paid_hook_fn *fn, struct err *e);

/* Run every hook in the order added, in the caller's transaction. */
int order_hooks_run_paid(struct db_conn *conn, int64_t tenant, int64_t order_pk, struct err *e);

/* Forget every hook (tests). */
void order_hooks_reset(void);

#endif
