/* SPDX-License-Identifier: MIT */
/* Environment configuration (see config.h). */
#include "core/config.h"
#include "core/str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int config_parse_listen(struct config *cfg, const char *s, struct err *e)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return err_set_field(e, ERR_INVALID, "ICESHOP_LISTEN",
                             "ICESHOP_LISTEN must be host:port, got \"%s\"", s);
    size_t hn = (size_t)(colon - s);
    if (hn >= sizeof(cfg->listen_host))
        return err_set_field(e, ERR_INVALID, "ICESHOP_LISTEN", "ICESHOP_LISTEN host too long");
    int64_t port;
    if (str_to_i64_range(colon + 1, 0, 65535, &port))
        return err_set_field(e, ERR_INVALID, "ICESHOP_LISTEN",
                             "ICESHOP_LISTEN port must be 0..65535, got \"%s\"", colon + 1);
    memcpy(cfg->listen_host, s, hn);
    cfg->listen_host[hn] = '\0';
    cfg->listen_port = (int)port;
    return 0;
}

static int env_int(const char *name, int lo, int hi, int *out, struct err *e)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    int64_t x;
    if (str_to_i64_range(v, lo, hi, &x))
        return err_set_field(e, ERR_INVALID, name, "%s must be an integer in %d..%d, got \"%s\"",
                             name, lo, hi, v);
    *out = (int)x;
    return 0;
}

static int env_f64(const char *name, double lo, double hi, double *out, struct err *e)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    char *end = NULL;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !(x >= lo && x <= hi))
        return err_set_field(e, ERR_INVALID, name, "%s must be a number in %g..%g, got \"%s\"",
                             name, lo, hi, v);
    *out = x;
    return 0;
}

static int env_str(const char *name, char *dst, size_t n, struct err *e)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    if (!str_copy(dst, n, v))
        return err_set_field(e, ERR_INVALID, name, "%s is longer than %zu bytes", name, n - 1);
    return 0;
}

int config_load(struct config *cfg, struct err *e)
{
    memset(cfg, 0, sizeof(*cfg));
    str_copy(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
    cfg->listen_port = 8080;
    str_copy(cfg->database_url, sizeof(cfg->database_url), "sqlite://var/iceshop.db");
    cfg->workers = 4;
    cfg->http_threads = 0; /* unset: chosen with group commit below */
    cfg->db_pool = 0;
    cfg->log_level = LOG_INFO;
    cfg->access_log = 1;
    cfg->access_log_sample = 1.0;
    cfg->max_connections = 1024;
    cfg->max_connections_per_ip = 64;
    cfg->idle_timeout_s = 30;
    cfg->header_timeout_s = 10;
    cfg->body_min_rate = 500;
    cfg->login_free_failures = 5;
    cfg->rate_limit_key = 100;
    cfg->rate_limit_ip = 200;
    cfg->shutdown_grace_s = 10;
    cfg->token_ttl_s = 3600;
    cfg->job_prune_days = 7;
    cfg->message_retention_days = 180;
    cfg->inbound_retention_days = 180;
    cfg->job_lease_s = 30;
    cfg->job_backoff_ms = 1000;
    cfg->scheduler = 1;
    str_copy(cfg->storage_url, sizeof(cfg->storage_url), "file://var/files");
    cfg->files_max_bytes = 10 * 1024 * 1024;
    cfg->payments_reconcile_s = 300;
    cfg->payments_pending_s = 900;

    const char *listen = getenv("ICESHOP_LISTEN");
    int rc = 0;
    if (listen && *listen)
        rc = config_parse_listen(cfg, listen, e);
    if (rc)
        return rc;
    const char *sync = getenv("ICESHOP_SQLITE_SYNC");
    if (sync && *sync) {
        if (strcmp(sync, "full") == 0)
            cfg->sqlite_sync_full = true;
        else if (strcmp(sync, "normal") != 0)
            return err_set_field(e, ERR_INVALID, "ICESHOP_SQLITE_SYNC",
                                 "ICESHOP_SQLITE_SYNC must be normal or full, got \"%s\"", sync);
    }
    const char *lvl = getenv("ICESHOP_LOG_LEVEL");
    if (lvl && *lvl && log_level_parse(lvl, &cfg->log_level))
        return err_set_field(e, ERR_INVALID, "ICESHOP_LOG_LEVEL",
                             "ICESHOP_LOG_LEVEL must be error, warn, info or debug, got \"%s\"",
                             lvl);
    if (env_str("ICESHOP_DATABASE_URL", cfg->database_url, sizeof(cfg->database_url), e) ||
        env_str("ICESHOP_ADMIN_KEY", cfg->admin_key, sizeof(cfg->admin_key), e) ||
        env_str("ICESHOP_WHATSAPP_APP_SECRET", cfg->whatsapp_app_secret,
                sizeof(cfg->whatsapp_app_secret), e) ||
        env_str("ICESHOP_WHATSAPP_VERIFY_TOKEN", cfg->whatsapp_verify_token,
                sizeof(cfg->whatsapp_verify_token), e) ||
        env_str("ICESHOP_VAPI_SECRET", cfg->vapi_secret, sizeof(cfg->vapi_secret), e) ||
        env_str("ICESHOP_PUBLIC_URL", cfg->public_url, sizeof(cfg->public_url), e) ||
        env_str("ICESHOP_SECRET_KEY", cfg->secret_key, sizeof(cfg->secret_key), e) ||
        env_str("ICESHOP_SECRET_KEY_FILE", cfg->secret_key_file, sizeof(cfg->secret_key_file), e) ||
        env_str("ICESHOP_STORAGE_URL", cfg->storage_url, sizeof(cfg->storage_url), e) ||
        env_str("ICESHOP_STORAGE_STAGING", cfg->storage_staging, sizeof(cfg->storage_staging), e) ||
        env_str("ICESHOP_S3_ACCESS_KEY", cfg->s3_access_key, sizeof(cfg->s3_access_key), e) ||
        env_str("ICESHOP_S3_SECRET_KEY", cfg->s3_secret_key, sizeof(cfg->s3_secret_key), e) ||
        env_int("ICESHOP_FILES_MAX_BYTES", 1, 1024 * 1024 * 1024, &cfg->files_max_bytes, e) ||
        env_int("ICESHOP_PAYMENTS_RECONCILE_INTERVAL", 1, 86400, &cfg->payments_reconcile_s, e) ||
        env_int("ICESHOP_PAYMENTS_PENDING_AFTER", 1, 30 * 86400, &cfg->payments_pending_s, e) ||
        env_int("ICESHOP_WORKERS", 0, 256, &cfg->workers, e) ||
        env_int("ICESHOP_HTTP_THREADS", 1, 256, &cfg->http_threads, e) ||
        env_int("ICESHOP_DB_POOL", 0, 1024, &cfg->db_pool, e) ||
        env_int("ICESHOP_ACCESS_LOG", 0, 1, &cfg->access_log, e) ||
        env_f64("ICESHOP_ACCESS_LOG_SAMPLE", 0.0, 1.0, &cfg->access_log_sample, e) ||
        env_str("ICESHOP_LOG_FILE", cfg->log_file, sizeof(cfg->log_file), e) ||
        env_int("ICESHOP_MAX_CONNECTIONS", 1, 100000, &cfg->max_connections, e) ||
        env_int("ICESHOP_MAX_CONNECTIONS_PER_IP", 0, 100000, &cfg->max_connections_per_ip, e) ||
        env_int("ICESHOP_IDLE_TIMEOUT", 1, 3600, &cfg->idle_timeout_s, e) ||
        env_int("ICESHOP_HEADER_TIMEOUT", 1, 3600, &cfg->header_timeout_s, e) ||
        env_int("ICESHOP_BODY_MIN_RATE", 0, 100000000, &cfg->body_min_rate, e) ||
        env_int("ICESHOP_LOGIN_FREE_FAILURES", 1, 1000, &cfg->login_free_failures, e) ||
        env_int("ICESHOP_RATE_LIMIT_KEY", 0, 1000000, &cfg->rate_limit_key, e) ||
        env_int("ICESHOP_RATE_LIMIT_IP", 0, 1000000, &cfg->rate_limit_ip, e) ||
        env_int("ICESHOP_RATE_LIMIT_ADMIN", 0, 1000000, &cfg->rate_limit_admin, e) ||
        env_int("ICESHOP_SHUTDOWN_GRACE", 0, 3600, &cfg->shutdown_grace_s, e) ||
        env_int("ICESHOP_TOKEN_TTL", 60, 86400 * 30, &cfg->token_ttl_s, e) ||
        env_int("ICESHOP_JOB_RETENTION_DAYS", 1, 3650, &cfg->job_prune_days, e) ||
        env_int("ICESHOP_MESSAGE_RETENTION_DAYS", 0, 36500, &cfg->message_retention_days, e) ||
        env_int("ICESHOP_INBOUND_RETENTION_DAYS", 0, 36500, &cfg->inbound_retention_days, e) ||
        env_int("ICESHOP_JOB_LEASE", 1, 3600, &cfg->job_lease_s, e) ||
        env_int("ICESHOP_JOB_BACKOFF_MS", 1, 3600000, &cfg->job_backoff_ms, e) ||
        env_int("ICESHOP_SCHEDULER", 0, 1, &cfg->scheduler, e) ||
        env_int("ICESHOP_TEST_JOBS", 0, 1, &cfg->test_jobs, e))
        return e->code;
    if (ipnet_list_parse(&cfg->trusted_proxies, getenv("ICESHOP_TRUSTED_PROXIES"),
                         "ICESHOP_TRUSTED_PROXIES", e))
        return e->code;
    if (cfg->admin_key[0] && strlen(cfg->admin_key) < 16)
        return err_set_field(e, ERR_INVALID, "ICESHOP_ADMIN_KEY",
                             "ICESHOP_ADMIN_KEY must be at least 16 characters");
    if (!str_has_prefix(cfg->database_url, "sqlite://") &&
        !str_has_prefix(cfg->database_url, "postgres://") &&
        !str_has_prefix(cfg->database_url, "postgresql://"))
        return err_set_field(e, ERR_INVALID, "ICESHOP_DATABASE_URL",
                             "ICESHOP_DATABASE_URL must start with sqlite:// or postgres://");
    /*
     * Group commit by default on SQLite only: PostgreSQL already combines the WAL flushes of
     * concurrent commits, and a leader running a batch's statements one by one on its connection
     * was slower there in make bench (README, Durability).
     */
    cfg->group_commit_off = !str_has_prefix(cfg->database_url, "sqlite://");
    const char *group = getenv("ICESHOP_GROUP_COMMIT");
    if (group && *group) {
        if (strcmp(group, "off") == 0)
            cfg->group_commit_off = true;
        else if (strcmp(group, "on") == 0)
            cfg->group_commit_off = false;
        else
            return err_set_field(e, ERR_INVALID, "ICESHOP_GROUP_COMMIT",
                                 "ICESHOP_GROUP_COMMIT must be on or off, got \"%s\"", group);
    }
    if (!cfg->public_url[0])
        snprintf(cfg->public_url, sizeof(cfg->public_url), "http://%s:%d", cfg->listen_host,
                 cfg->listen_port);
    /*
     * With group commit on, every HTTP thread can hold a write waiting for the commit in
     * progress, so the threads bound how many writes share a commit: 16 then (make bench's
     * signals: more throughput and a lower p99 than 4 on two cores; 32 was no better), 4 else.
     */
    if (cfg->http_threads == 0)
        cfg->http_threads = cfg->group_commit_off ? HTTP_THREADS_DEFAULT : HTTP_THREADS_GROUP;
    if (cfg->db_pool == 0)
        cfg->db_pool = cfg->http_threads + cfg->workers + 4;
    return 0;
}
