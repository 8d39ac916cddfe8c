/* SPDX-License-Identifier: MIT */
/*
 * Server configuration from ICESHOP_* environment variables, validated once at start-up.
 * The README's configuration table lists every variable; keep them in step.
 * Tests: tests/unit/core/test_core.c.
 */
#ifndef ICESHOP_CORE_CONFIG_H
#define ICESHOP_CORE_CONFIG_H

#include "core/err.h"
#include "core/ipnet.h"
#include "core/log.h"

#include <stdbool.h>
#include <stdint.h>

/* HTTP threads when ICESHOP_HTTP_THREADS is unset: with group commit on, and without. */
#define HTTP_THREADS_GROUP   16
#define HTTP_THREADS_DEFAULT 4

struct config {
    char listen_host[64];     /* ICESHOP_LISTEN host part, default 127.0.0.1; "[v6]" */
    int listen_port;          /* ICESHOP_LISTEN port part, default 8080; 0 = any free */
    char database_url[1024];  /* ICESHOP_DATABASE_URL, default sqlite://var/iceshop.db */
    int workers;              /* ICESHOP_WORKERS job worker threads, default 4; 0 = none */
    int http_threads;         /* ICESHOP_HTTP_THREADS; default 16 with group commit on, 4 without */
    int db_pool;              /* ICESHOP_DB_POOL connections, default http+workers+4 */
    char admin_key[256];      /* ICESHOP_ADMIN_KEY, "" = none */
    enum log_level log_level; /* ICESHOP_LOG_LEVEL error|warn|info|debug, default info */
    int access_log;           /* ICESHOP_ACCESS_LOG 1|0, default 1 */
    double access_log_sample; /* ICESHOP_ACCESS_LOG_SAMPLE 0..1 of 1xx-3xx lines kept, 1 */
    char log_file[512];       /* ICESHOP_LOG_FILE, "" = stderr; reopened on SIGHUP */
    int max_connections;      /* ICESHOP_MAX_CONNECTIONS, default 1024 */
    int max_connections_per_ip; /* ICESHOP_MAX_CONNECTIONS_PER_IP, default 64 */
    int idle_timeout_s;         /* ICESHOP_IDLE_TIMEOUT seconds, default 30 */
    int header_timeout_s;  /* ICESHOP_HEADER_TIMEOUT seconds for a whole request head, default 10 */
    int body_min_rate;     /* ICESHOP_BODY_MIN_RATE bytes/s a body keeps up after that, 0 = off */
    bool sqlite_sync_full; /* ICESHOP_SQLITE_SYNC=full|normal (default normal) */
    bool group_commit_off; /* ICESHOP_GROUP_COMMIT=on|off (default on for SQLite only) */
    int login_free_failures; /* ICESHOP_LOGIN_FREE_FAILURES per account before waits, default 5 */
    int rate_limit_key;      /* ICESHOP_RATE_LIMIT_KEY requests/s per key, 0 = off */
    int rate_limit_ip;       /* ICESHOP_RATE_LIMIT_IP requests/s per IP, 0 = off */
    int rate_limit_admin; /* ICESHOP_RATE_LIMIT_ADMIN requests/s for ICESHOP_ADMIN_KEY, 0 = off */
    int shutdown_grace_s; /* ICESHOP_SHUTDOWN_GRACE seconds, default 10 */
    int token_ttl_s;      /* ICESHOP_TOKEN_TTL seconds for login tokens, default 3600 */
    int job_prune_days;   /* ICESHOP_JOB_RETENTION_DAYS, default 7 */
    int message_retention_days; /* ICESHOP_MESSAGE_RETENTION_DAYS, default 180, 0 = for ever */
    int inbound_retention_days; /* ICESHOP_INBOUND_RETENTION_DAYS, default 180, 0 = for ever */
    int job_backoff_ms;         /* ICESHOP_JOB_BACKOFF_MS first retry delay, default 1000 */
    int job_lease_s;            /* ICESHOP_JOB_LEASE seconds a claimed job is held, default 30 */
    int scheduler;              /* ICESHOP_SCHEDULER 1|0: take part in periodic tasks, default 1 */
    int test_jobs;              /* ICESHOP_TEST_JOBS=1 registers test.* job handlers */
    char whatsapp_app_secret[256];   /* ICESHOP_WHATSAPP_APP_SECRET: X-Hub-Signature-256 key */
    char whatsapp_verify_token[256]; /* ICESHOP_WHATSAPP_VERIFY_TOKEN: the GET handshake */
    char vapi_secret[256];           /* ICESHOP_VAPI_SECRET: the x-vapi-secret header */
    char public_url[256];            /* ICESHOP_PUBLIC_URL: base of links in messages */
    char secret_key[256];            /* ICESHOP_SECRET_KEY: key for secrets at rest, "" = file */
    char secret_key_file[512];       /* ICESHOP_SECRET_KEY_FILE, default next to the database */
    /* ICESHOP_TRUSTED_PROXIES: peers whose X-Forwarded-For names the client; empty = none */
    struct ipnet_list trusted_proxies;
    char storage_url[1024];    /* ICESHOP_STORAGE_URL file://DIR | s3://BUCKET?endpoint=… */
    char storage_staging[512]; /* ICESHOP_STORAGE_STAGING: staged uploads, "" = default */
    char s3_access_key[256];   /* ICESHOP_S3_ACCESS_KEY for s3:// storage */
    char s3_secret_key[256];   /* ICESHOP_S3_SECRET_KEY */
    int files_max_bytes;       /* ICESHOP_FILES_MAX_BYTES per upload unless a tenant sets its own */
    int payments_reconcile_s;  /* ICESHOP_PAYMENTS_RECONCILE_INTERVAL seconds, default 300 */
    int payments_pending_s;    /* ICESHOP_PAYMENTS_PENDING_AFTER: seconds before reconciliation
                                  asks about a pending payment, default 900 */
};

/* Defaults, then every ICESHOP_* variable present; ERR_INVALID names the bad variable. */
int config_load(struct config *cfg, struct err *e);
/* Parse "host:port" (port 0..65535) into cfg; ERR_INVALID when malformed. */
int config_parse_listen(struct config *cfg, const char *s, struct err *e);

#endif
