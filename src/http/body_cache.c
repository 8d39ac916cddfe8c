/* SPDX-License-Identifier: MIT */
/*
 * The body cache (body_cache.h): a fixed array of slots under one mutex, least recently used
 * replaced first. Tests: tests/unit/http/test_body_cache.c.
 */
#include "http/body_cache.h"
#include "core/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    int64_t tenant;
    char name[BODY_CACHE_NAME];
    int64_t version;
    char *body;
    size_t len;
    uint64_t used; /* the clock of its last use; 0 = empty */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[BODY_CACHE_SLOTS];
static uint64_t ticks;

static struct slot *find(int64_t tenant, const char *name)
{
    for (int i = 0; i < BODY_CACHE_SLOTS; i++) {
        if (slots[i].used && slots[i].tenant == tenant && strcmp(slots[i].name, name) == 0)
            return &slots[i];
    }
    return NULL;
}

bool body_cache_get(int64_t tenant, const char *name, int64_t version, char **body, size_t *len)
{
    *body = NULL;
    *len = 0;
    pthread_mutex_lock(&lock);
    struct slot *s = find(tenant, name);
    bool hit = s && s->version == version;
    if (hit) {
        s->used = ++ticks;
        *body = xmalloc(s->len + 1);
        memcpy(*body, s->body, s->len);
        (*body)[s->len] = '\0';
        *len = s->len;
    }
    pthread_mutex_unlock(&lock);
    return hit;
}

void body_cache_put(int64_t tenant, const char *name, int64_t version, const char *body, size_t len)
{
    char *copy = xmalloc(len + 1);
    memcpy(copy, body, len);
    copy[len] = '\0';
    pthread_mutex_lock(&lock);
    struct slot *s = find(tenant, name);
    if (!s) {
        s = &slots[0];
        for (int i = 0; i < BODY_CACHE_SLOTS; i++) {
            if (slots[i].used < s->used)
                s = &slots[i];
        }
    }
    if (s->used && s->tenant == tenant && strcmp(s->name, name) == 0 && s->version > version) {
        pthread_mutex_unlock(&lock); /* a newer body is already here */
        free(copy);
        return;
    }
    free(s->body);
    s->tenant = tenant;
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->version = version;
    s->body = copy;
    s->len = len;
    s->used = ++ticks;
    pthread_mutex_unlock(&lock);
}

void body_cache_clear(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < BODY_CACHE_SLOTS; i++) {
        free(slots[i].body);
        memset(&slots[i], 0, sizeof(slots[i]));
    }
    pthread_mutex_unlock(&lock);
}
