/* SPDX-License-Identifier: MIT */
/*
 * The storage of each tenant (see storage.h, "per tenant"): read the tenant's `storage`
 * integration, reuse the storage opened for the same settings, open a new one when they
 * changed. Secrets stay in memory only inside the opened backend; nothing here logs them.
 * Tests: tests/unit/net/test_storage_tenants.c, tests/integration/0019-files.c.
 */
#include "net/storage.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xalloc.h"
#include "integrations/integration_store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* One tenant's open storage and the digest of the settings it was opened with. */
struct entry {
    int64_t tenant;
    unsigned char digest[SEC_SHA256_LEN];
    struct storage *st; /* one reference held by the cache */
    struct entry *next;
};

struct storage_tenants {
    pthread_mutex_t mu;
    struct entry *entries;
    struct storage *server; /* one reference held here */
    int64_t default_tenant;
    unsigned char key[SEC_BOX_KEY_LEN];
    char *url, *staging, *access_key, *secret_key; /* the server's configuration */
};

static char *dup_or_empty(const char *s)
{
    return xstrdup(s ? s : "");
}

static void wipe_free(char *s)
{
    if (s) {
        sec_wipe(s, strlen(s));
        free(s);
    }
}

int storage_tenants_new(const struct storage_config *server,
                        const unsigned char key[SEC_BOX_KEY_LEN], int64_t default_tenant,
                        struct storage_tenants **out, struct err *e)
{
    *out = NULL;
    struct storage *st = NULL;
    int rc = storage_open(server, &st, e);
    if (rc)
        return rc;
    struct storage_tenants *t = xcalloc(1, sizeof(*t));
    pthread_mutex_init(&t->mu, NULL);
    t->server = st;
    t->default_tenant = default_tenant;
    memcpy(t->key, key, SEC_BOX_KEY_LEN);
    t->url = dup_or_empty(server->url);
    t->staging = dup_or_empty(server->staging);
    t->access_key = dup_or_empty(server->access_key);
    t->secret_key = dup_or_empty(server->secret_key);
    *out = t;
    return 0;
}

void storage_tenants_free(struct storage_tenants *t)
{
    if (!t)
        return;
    for (struct entry *n, *x = t->entries; x; x = n) {
        n = x->next;
        storage_free(x->st);
        free(x);
    }
    storage_free(t->server);
    wipe_free(t->url);
    wipe_free(t->staging);
    wipe_free(t->access_key);
    wipe_free(t->secret_key);
    sec_wipe(t->key, sizeof(t->key));
    pthread_mutex_destroy(&t->mu);
    free(t);
}

struct storage *storage_tenants_server(struct storage_tenants *t)
{
    return t->server;
}

void storage_tenants_forget(struct storage_tenants *t, int64_t tenant)
{
    struct entry *gone = NULL;
    pthread_mutex_lock(&t->mu);
    for (struct entry **p = &t->entries; *p; p = &(*p)->next) {
        if ((*p)->tenant == tenant) {
            gone = *p;
            *p = gone->next;
            break;
        }
    }
    pthread_mutex_unlock(&t->mu);
    if (gone) {
        storage_free(gone->st); /* a request still using it keeps its own reference */
        free(gone);
    }
}

int storage_url_check(const char *url, bool local_ok, struct err *e)
{
    if (!url || !*url)
        return err_set_field(e, ERR_INVALID, "url",
                             "storage.url must be file://DIR or s3://BUCKET?endpoint=…&region=…");
    if (str_has_prefix(url, "file://")) {
        if (!local_ok)
            return err_set_field(e, ERR_INVALID, "url",
                                 "storage.url: a local directory is the server's choice "
                                 "(ICESHOP_STORAGE_URL); a tenant names an s3:// bucket");
        const char *dir = url + 7;
        if (!*dir || strchr(dir, '?'))
            return err_set_field(e, ERR_INVALID, "url", "storage.url: file:// needs a directory");
        return 0;
    }
    if (!str_has_prefix(url, "s3://"))
        return err_set_field(e, ERR_INVALID, "url",
                             "storage.url must be file://DIR or s3://BUCKET?endpoint=…&region=…");
    /* parse it the way the backend will (no request is made); the keys are placeholders */
    struct storage s;
    memset(&s, 0, sizeof(s));
    struct err inner;
    err_init(&inner);
    int rc = storage_s3_new(url, "check", "check", &s, &inner);
    if (rc)
        return err_set_field(e, (enum err_code)rc, "url", "storage.url: %s", inner.msg);
    s.ops->free(s.ctx);
    return 0;
}

/* The configuration the tenant's settings give; *server true when it is the server's own. */
static int tenant_config(struct storage_tenants *t, struct db_conn *c, int64_t tenant,
                         struct arena *a, struct storage_config *cfg, bool *server, struct err *e)
{
    struct integration it;
    int rc = integration_get(c, t->key, tenant, "storage", false, a, &it, e);
    if (rc)
        return rc;
    const char *url = integration_value(&it, "url");
    const char *ak = integration_value(&it, "access_key_id");
    const char *sk = integration_value(&it, "secret_access_key");
    bool dflt = tenant == t->default_tenant;
    *server = !url || (dflt && str_eq(url, t->url) && !ak && !sk);
    if (*server)
        return 0;
    rc = storage_url_check(url, dflt, e);
    if (rc)
        return rc;
    if (dflt) {
        /* the default tenant's unset keys are the server's (ICESHOP_S3_*), as for Stripe */
        ak = ak ? ak : t->access_key;
        sk = sk ? sk : t->secret_key;
    }
    bool s3 = str_has_prefix(url, "s3://");
    if (s3 && (!ak || !*ak))
        return err_set_field(e, ERR_INVALID, "access_key_id",
                             "storage: an s3:// bucket needs access_key_id and "
                             "secret_access_key (PUT /api/integrations/storage)");
    if (s3 && (!sk || !*sk))
        return err_set_field(e, ERR_INVALID, "secret_access_key",
                             "storage: an s3:// bucket needs access_key_id and "
                             "secret_access_key (PUT /api/integrations/storage)");
    cfg->url = url;
    cfg->access_key = s3 ? ak : NULL;
    cfg->secret_key = s3 ? sk : NULL;
    /* a local directory stages inside itself (rename); a bucket where the server stages */
    cfg->staging = s3 ? t->staging : "";
    return 0;
}

static void config_digest(const struct storage_config *cfg, unsigned char d[SEC_SHA256_LEN])
{
    struct sec_sha256_state st;
    sec_sha256_init(&st);
    const char *parts[] = {cfg->url, cfg->staging, cfg->access_key, cfg->secret_key};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        const char *p = parts[i] ? parts[i] : "";
        sec_sha256_update(&st, p, strlen(p) + 1); /* the NUL separates the parts */
    }
    sec_sha256_final(&st, d);
}

static void release_ref(void *p)
{
    storage_free(p);
}

/* A new reference to `st`, dropped when `a` is released. */
static struct storage *hand_out(struct storage *st, struct arena *a)
{
    atomic_fetch_add(&st->refs, 1);
    arena_defer(a, release_ref, st);
    return st;
}

int storage_for_tenant(struct storage_tenants *t, struct db_conn *c, int64_t tenant,
                       struct arena *a, struct storage **out, struct err *e)
{
    *out = NULL;
    struct storage_config cfg = {0};
    bool server = false;
    int rc = tenant_config(t, c, tenant, a, &cfg, &server, e);
    if (rc)
        return rc;
    if (server) {
        *out = hand_out(t->server, a);
        return 0;
    }
    unsigned char d[SEC_SHA256_LEN];
    config_digest(&cfg, d);
    pthread_mutex_lock(&t->mu);
    for (struct entry *x = t->entries; x; x = x->next) {
        if (x->tenant == tenant && memcmp(x->digest, d, sizeof(d)) == 0) {
            *out = hand_out(x->st, a);
            break;
        }
    }
    pthread_mutex_unlock(&t->mu);
    if (*out)
        return 0;
    /* opened outside the lock: a local directory may be created on the way */
    struct storage *st = NULL;
    struct err inner;
    err_init(&inner);
    rc = storage_open(&cfg, &st, &inner);
    if (rc)
        return err_set_field(e, (enum err_code)rc, "url", "storage of tenant %lld: %s",
                             (long long)tenant, inner.msg);
    log_info("msg=\"tenant storage opened\" tenant=%lld kind=%s", (long long)tenant,
             storage_kind(st));
    struct entry *gone = NULL, *fresh = xcalloc(1, sizeof(*fresh));
    fresh->tenant = tenant;
    memcpy(fresh->digest, d, sizeof(d));
    fresh->st = st;
    pthread_mutex_lock(&t->mu);
    for (struct entry **p = &t->entries; *p; p = &(*p)->next) {
        if ((*p)->tenant == tenant) {
            gone = *p; /* settings changed (or another thread opened the same): replace */
            *p = gone->next;
            break;
        }
    }
    fresh->next = t->entries;
    t->entries = fresh;
    *out = hand_out(st, a);
    pthread_mutex_unlock(&t->mu);
    if (gone) {
        storage_free(gone->st);
        free(gone);
    }
    return 0;
}
