/* SPDX-License-Identifier: MIT */
/* The order-paid hook registry (see order_hooks.h). */
#include "domain/commerce/order_hooks.h"

#include <string.h>

static struct {
    const char *name;
    order_paid_hook_fn *fn;
} hooks[ORDER_HOOKS_MAX];
static int n_hooks;

int order_hooks_add_paid(const char *name, order_paid_hook_fn *fn, struct err *e)
{
    if (!name || !fn)
        return err_set(e, ERR_INVALID, "order hook: a name and a function are required");
    for (int i = 0; i < n_hooks; i++)
        if (strcmp(hooks[i].name, name) == 0)
            return err_set(e, ERR_INVALID, "order hook %s is already registered", name);
    if (n_hooks == ORDER_HOOKS_MAX)
        return err_set(e, ERR_INVALID, "order hook %s: registry full (%d)", name, ORDER_HOOKS_MAX);
    hooks[n_hooks].name = name;
    hooks[n_hooks].fn = fn;
    n_hooks++;
    return 0;
}

int order_hooks_run_paid(struct db_conn *conn, int64_t tenant, int64_t order_pk, struct err *e)
{
    for (int i = 0; i < n_hooks; i++) {
        int rc = hooks[i].fn(conn, tenant, order_pk, e);
        if (rc) {
            if (e && e->code == ERR_OK)
                err_set(e, (enum err_code)rc, "order hook %s failed", hooks[i].name);
            return rc;
        }
    }
    return 0;
}

void order_hooks_reset(void)
{
    memset(hooks, 0, sizeof hooks);
    n_hooks = 0;
}
