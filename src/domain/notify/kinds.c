/* SPDX-License-Identifier: MIT */
/*
 * The registry of message kinds (see kinds.h): a fixed array filled as modules register, guarded
 * by a mutex; entries are never removed. Tests: tests/unit/domain/test_outbox.c.
 */
#include "domain/notify/kinds.h"
#include "core/str.h"

#include <pthread.h>
#include <string.h>

const struct notify_kind notify_kind_reply = {.name = "reply", .purpose = NOTIFY_TRANSACTIONAL};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const struct notify_kind *kinds[NOTIFY_KINDS_MAX];
static size_t n_kinds;

bool notify_kind_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > NOTIFY_KIND_NAME_MAX || name[0] < 'a' || name[0] > 'z')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static const struct notify_kind *find_locked(const char *name)
{
    for (size_t i = 0; i < n_kinds; i++) {
        if (str_eq(kinds[i]->name, name))
            return kinds[i];
    }
    return NULL;
}

int notify_kind_register(const struct notify_kind *k, struct err *e)
{
    if (!k || !notify_kind_name_ok(k->name))
        return err_set_field(e, ERR_INVALID, "kind",
                             "a message kind needs a name of 1 to %d characters [a-z0-9_.] "
                             "starting with a letter",
                             NOTIFY_KIND_NAME_MAX);
    for (int i = 0; i < NOTIFY_BUTTONS_MAX && k->buttons[i].action; i++) {
        if (!k->buttons[i].title_tr || !k->buttons[i].title_en)
            return err_set_field(e, ERR_INVALID, "kind",
                                 "button %d of message kind %s has no title", i + 1, k->name);
    }
    int rc = 0;
    pthread_mutex_lock(&lock);
    const struct notify_kind *old = find_locked(k->name);
    if (old && old != k)
        rc = err_set_field(e, ERR_CONFLICT, "kind", "message kind %s is already registered",
                           k->name);
    else if (!old && n_kinds == NOTIFY_KINDS_MAX)
        rc = err_set_field(e, ERR_INVALID, "kind", "more than %d message kinds", NOTIFY_KINDS_MAX);
    else if (!old)
        kinds[n_kinds++] = k;
    pthread_mutex_unlock(&lock);
    return rc;
}

const struct notify_kind *notify_kind_find(const char *name)
{
    if (!name)
        return NULL;
    pthread_mutex_lock(&lock);
    const struct notify_kind *k = find_locked(name);
    pthread_mutex_unlock(&lock);
    return k;
}

size_t notify_kinds_list(const struct notify_kind **out, size_t max)
{
    pthread_mutex_lock(&lock);
    size_t n = n_kinds < max ? n_kinds : max;
    memcpy(out, kinds, n * sizeof(*out));
    pthread_mutex_unlock(&lock);
    return n;
}
