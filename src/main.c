/* SPDX-License-Identifier: MIT */
/*
 * iceshop: parse the command line, load configuration, wire the modules together and run.
 * No business logic lives here. Subcommands: serve, migrate, keys, tenants, users, backup,
 * restore, reset, version.
 */
#include "core/clock.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/events.h"
#include "core/keyfile.h"
#include "core/log.h"
#include "core/str.h"
#include "db/db.h"
#include "db/migrate.h"
#include "demo/demo.h"
#include "demo/sim.h"
#include "domain/account/account.h"
#include "domain/commerce/import.h"
#include "domain/intel/campaign_delivery.h"
#include "domain/intel/planner_service.h"
#include "domain/intel/profile_batch.h"
#include "domain/intel/profile_store.h"
#include "domain/chat/dialog.h"
#include "domain/certificates/certificates_service.h"
#include "domain/files/files_service.h"
#include "domain/understand/understand_json.h"
#include "domain/understand/understand_model.h"
#include "domain/flash/flash_service.h"
#include "domain/flash/links.h"
#include "domain/flash/live_index.h"
#include "domain/notify/notify_jobs.h"
#include "domain/recovery/recovery.h"
#include "domain/payments/payments_jobs.h"
#include "domain/payments/payments_service.h"
#include "domain/webhooks/webhooks.h"
#include "http/app.h"
#include "http/assets.h"
#include "http/metrics.h"
#include "http/ratelimit.h"
#include "http/routes.h"
#include "http/server.h"
#include "domain/account/login_throttle.h"
#include "http/sse.h"
#include "integrations/inbound_ledger.h"
#include "integrations/integration_store.h"
#include "platform/backup.h"
#include "platform/dblock.h"
#include "platform/doctor.h"
#include "platform/migrate_data.h"
#include "platform/purge.h"
#include "platform/tasks.h"
#include "jobs/queue.h"
#include "jobs/worker.h"
#include "net/httpc.h"
#include "net/storage.h"
#include "sched/sched.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ICESHOP_VERSION
#define ICESHOP_VERSION "0.1.0"
#endif

static const char usage[] =
    "usage: iceshop <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve                      run the HTTP API, job workers and scheduler\n"
    "  migrate                    apply database migrations and exit\n"
    "  migrate-data --from sqlite://PATH --to postgres://...\n"
    "                             copy an installation into an empty PostgreSQL database\n"
    "  tenants create NAME        create a tenant\n"
    "  tenants list               list tenants\n"
    "  tenants delete NAME        remove a tenant and everything it owns (not the default)\n"
    "  keys create --tenant NAME --role admin|operator|viewer [--name LABEL] [--rate N]\n"
    "                             create an API key; the key is printed once. --rate: its\n"
    "                             requests per second (0 = unlimited; default\n"
    "                             ICESHOP_RATE_LIMIT_KEY)\n"
    "  keys list --tenant NAME    list a tenant's keys (never the secrets)\n"
    "  keys revoke --tenant NAME ID\n"
    "                             revoke a key\n"
    "  users create --tenant NAME --email EMAIL --role ROLE\n"
    "                             create a dashboard user; the password is read from\n"
    "                             ICESHOP_PASSWORD or the first line of standard input\n"
    "  integrations set --tenant NAME PROVIDER FIELD=VALUE...\n"
    "                             set a tenant's provider settings (FIELD= removes one);\n"
    "                             secrets are sealed with the server's secret key\n"
    "  integrations show --tenant NAME PROVIDER\n"
    "                             the settings, secrets as names only\n"
    "  integrations delete --tenant NAME PROVIDER\n"
    "  backup FILE                a consistent copy of the SQLite database, taken while it runs\n"
    "  restore FILE               replace the SQLite database with a backup (every iceshop\n"
    "                             process on it must be stopped; the old file is kept)\n"
    "  reset --tenant NAME --yes  empty a tenant's business data; keeps the tenant, its users,\n"
    "                             API keys and settings\n"
    "  doctor                     check configuration, database, secrets, disk and clock;\n"
    "                             prints what to fix; exit status 1 when something must be\n"
    "                             fixed\n"
    "  import --tenant NAME --kind customers|products|orders [--format ndjson|csv]\n"
    "         [--source NAME] FILE\n"
    "                             bulk import as POST /api/import/{kind} does (FILE - is\n"
    "                             standard input; the format follows a .csv name otherwise);\n"
    "                             progress on stderr when it is a terminal\n"
    "  profiles recompute --tenant NAME [--as-of YYYY-MM-DD]\n"
    "                             compute every customer's profiles, RFM and predictions now\n"
    "                             (as the nightly batch does), progress on stderr when it is a\n"
    "                             terminal; --as-of uses only orders placed up to that day\n"
    "  understand [--role buyer|seller] TEXT\n"
    "                             show what a chat message is understood as (JSON)\n"
    "  demo [--url URL] [--key KEY] [--seed N] [--sellers N] [--buyers N]\n"
    "       [--speed X] [--duration S]\n"
    "                             simulate a city against a running server (demo --help)\n"
    "  simulate [--seed N] [--seeds K] [--days D] [--json]\n"
    "                             A/B of the city with and without windows, virtual clock\n"
    "  version                    print the version\n"
    "  --help                     this text\n"
    "\n"
    "Configuration comes from ICESHOP_* environment variables; see README.md.\n";

static volatile sig_atomic_t stop_signal;
/* SIGHUP: reopen the log file (done by the serve loop, not in the handler). */
static volatile sig_atomic_t reopen_logs;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static void on_hup(int sig)
{
    (void)sig;
    reopen_logs = 1;
}

static int die(const struct err *e)
{
    fprintf(stderr, "iceshop: %s\n", e->msg[0] ? e->msg : err_code_name(e->code));
    return 1;
}

/* The shared database lock this process holds (platform/dblock.h), taken by open_db. */
static int db_lock_fd = -1;

/* Open the configured database; migrate it when asked (everything but backup). */
static int open_db_with(const struct config *cfg, struct db **out, bool migrate, struct err *e)
{
    char path[1024];
    if (db_lock_fd < 0 && dblock_sqlite_path(cfg->database_url, path, sizeof(path))) {
        int rc = dblock_take(path, false, &db_lock_fd, e);
        if (rc)
            return rc;
    }
    struct db_options o = {.pool_size = cfg->db_pool,
                           .busy_timeout_ms = 5000,
                           .sqlite_sync_full = cfg->sqlite_sync_full,
                           .group_commit_off = cfg->group_commit_off};
    int rc = db_open(out, cfg->database_url, &o, e);
    if (rc || !migrate)
        return rc;
    int applied = 0;
    rc = db_migrate(*out, &applied, e);
    if (rc) {
        db_close(*out);
        *out = NULL;
        return rc;
    }
    if (applied)
        log_info("msg=\"migrations applied\" count=%d backend=%s", applied, db_backend_name(*out));
    return 0;
}

/* Open and migrate the configured database. */
static int open_db(const struct config *cfg, struct db **out, struct err *e)
{
    return open_db_with(cfg, out, true, e);
}

/* The key that seals integration secrets: ICESHOP_SECRET_KEY, or the key file (made once). */
static int load_secret_key(const struct config *cfg, unsigned char key[SEC_BOX_KEY_LEN],
                           struct err *e)
{
    char path[600];
    if (cfg->secret_key_file[0])
        snprintf(path, sizeof(path), "%s", cfg->secret_key_file);
    else
        keyfile_default_path(cfg->database_url, path, sizeof(path));
    bool created = false;
    int rc = keyfile_load(cfg->secret_key, path, key, &created, e);
    if (!rc && created)
        log_info("msg=\"secret key created\" path=\"%s\" hint=\"back it up with the database; "
                 "integration secrets cannot be opened without it\"",
                 path);
    return rc;
}

/* ======================== serve ======================== */

/* Domain events become Server-Sent Events on /api/events. */
static void publish_event(void *ctx, int64_t tenant, const char *type, const char *json)
{
    sse_hub_publish(ctx, tenant, type, json);
}

#define MAX_LANES    8 /* job lanes besides the default one */
#define LANE_THREADS 2 /* handler threads of each such lane's pool */

/* The per-tenant storages, with the server's own (ICESHOP_STORAGE_URL) as the fallback. */
static int open_storages(const struct config *cfg, const unsigned char key[SEC_BOX_KEY_LEN],
                         int64_t default_tenant, struct storage_tenants **out, struct err *e)
{
    const struct storage_config sc = {
        .url = cfg->storage_url,
        .staging = cfg->storage_staging,
        .access_key = cfg->s3_access_key,
        .secret_key = cfg->s3_secret_key,
    };
    return storage_tenants_new(&sc, key, default_tenant, out, e);
}

/*
 * For a command that removes a tenant's stored objects: the storage the server would use for
 * `tenant` (its storage integration, else the server's), through *set (caller frees it after
 * `a` is released).
 */
static int open_tenant_storage(const struct config *cfg, struct db_conn *c, int64_t tenant,
                               struct arena *a, struct storage_tenants **set, struct storage **out,
                               struct err *e)
{
    unsigned char key[SEC_BOX_KEY_LEN];
    struct account_tenant dt = {0};
    struct err nf;
    err_init(&nf);
    /* no default tenant yet: no tenant falls back to the server's keys */
    if (account_tenant_find(c, ACCOUNT_DEFAULT_TENANT, a, &dt, &nf))
        dt.id = 0;
    int rc = load_secret_key(cfg, key, e);
    if (!rc)
        rc = open_storages(cfg, key, dt.id, set, e);
    if (!rc)
        rc = storage_for_tenant(*set, c, tenant, a, out, e);
    sec_wipe(key, sizeof(key));
    return rc;
}

static int serve(struct config *cfg)
{
    struct err e;
    err_init(&e);
    struct app app;
    memset(&app, 0, sizeof(app));
    app.cfg = *cfg;
    app.clock = clock_system();
    app.version = ICESHOP_VERSION;
    app.started_ms = clock_mono_ms();
    struct http_server *srv = NULL;
    struct flash_live *live = NULL;
    struct job_workers *lane_pools[MAX_LANES] = {0};
    const char *lanes[MAX_LANES];
    size_t n_lanes = 0;
    int rc = open_db(cfg, &app.db, &e);
    if (rc)
        return die(&e);

    struct db_conn *c;
    rc = db_conn_acquire(app.db, &c, &e);
    if (!rc) {
        rc = account_tenant_ensure(c, ACCOUNT_DEFAULT_TENANT, clock_now_ms(app.clock),
                                   &app.default_tenant_id, &e);
        if (!rc)
            rc = account_server_secret(c, "token_key", app.token_key, &e);
        db_conn_release(c);
    }
    if (!rc)
        rc = load_secret_key(cfg, app.secret_key, &e);
    if (!rc)
        rc = open_storages(cfg, app.secret_key, app.default_tenant_id, &app.storages, &e);
    if (rc)
        goto out;
    flash_links_configure(app.token_key, cfg->public_url);
    /* scans read sellers, buyers and demand from memory while they are current */
    live = flash_live_new();
    flash_live_install(live);
    payments_configure(&(struct payments_options){.secret_key = app.secret_key,
                                                  .default_tenant = app.default_tenant_id,
                                                  .public_url = cfg->public_url,
                                                  .pending_after_s = cfg->payments_pending_s});

    app.jobs = job_registry_new();
    rc = platform_tasks_register(app.jobs, &app.cfg, &e);
    if (!rc)
        rc = notify_jobs_register(app.jobs, app.secret_key, app.default_tenant_id, &e);
    if (!rc)
        rc = flash_jobs_register(app.jobs, &e);
    if (!rc)
        rc = chat_jobs_register(app.jobs, app.secret_key, app.default_tenant_id, &e);
    if (!rc)
        rc = files_jobs_register(app.jobs, app.storages, &e);
    if (!rc)
        rc = intel_profiles_jobs_register(app.jobs, &e);
    if (!rc)
        rc = campaign_delivery_jobs_register(app.jobs, &e);
    if (!rc) /* plans that ask a model run on a lane of their own */
        rc = planner_jobs_register(app.jobs, app.secret_key, app.default_tenant_id, &e);
    /* the certificate of a paid order: its job (slow lane), its email, the order-paid hook */
    static struct cert_env cert_env;
    cert_env = (struct cert_env){app.storages, app.secret_key, cfg->public_url, app.clock};
    if (!rc)
        rc = certificates_jobs_register(app.jobs, &cert_env, &e);
    /*
     * Providers whose verified webhook events are acted on; a provider without a row has its
     * events kept in the ledger and marked ignored (payments and cart recovery add theirs).
     */
    static const struct inbound_handler inbound_handlers[] = {
        {"stripe", payments_stripe_event},
        {"iyzico", payments_iyzico_event},
    };
    if (!rc)
        rc = inbound_jobs_register(app.jobs, inbound_handlers,
                                   sizeof(inbound_handlers) / sizeof(inbound_handlers[0]), &e);
    if (!rc)
        rc = payments_jobs_register(app.jobs, &e);
    if (!rc)
        rc = webhooks_jobs_register(app.jobs, &e);
    if (!rc)
        rc = recovery_jobs_register(app.jobs, app.secret_key, &e);
    if (rc)
        goto out;
    app.metrics = metrics_new(http_routes, http_routes_count);
    app.hub = sse_hub_new();
    events_set_sink(publish_event, app.hub);
    /* always: a key may carry its own rate even when the default is off */
    app.rl_key = ratelimit_new(cfg->rate_limit_key, cfg->rate_limit_key * 2.0);
    if (cfg->rate_limit_ip)
        app.rl_ip = ratelimit_new(cfg->rate_limit_ip, cfg->rate_limit_ip * 2.0);
    struct login_throttle_limits ll;
    login_throttle_limits_default(&ll);
    ll.account_free = cfg->login_free_failures;
    /* half the HTTP threads, at most two at once (each Argon2id hash takes 256 MB) */
    ll.max_hashing = cfg->http_threads >= 4 ? 2 : 1;
    app.logins = login_throttle_new(&ll);

    if (cfg->workers > 0) {
        struct job_workers_options wo = {.threads = cfg->workers,
                                         .lease_ms = (int64_t)cfg->job_lease_s * 1000,
                                         .backoff_base_ms = cfg->job_backoff_ms};
        rc = job_workers_start(app.db, app.jobs, app.clock, &wo, &app.workers, &e);
        if (rc)
            goto out;
        /* One more pool per lane that has jobs, so slow lanes never hold the default one. */
        n_lanes = job_registry_lanes(app.jobs, lanes, MAX_LANES);
        if (n_lanes > MAX_LANES)
            n_lanes = MAX_LANES;
        for (size_t i = 0; i < n_lanes; i++) {
            wo.lane = lanes[i];
            wo.threads = LANE_THREADS;
            rc = job_workers_start(app.db, app.jobs, app.clock, &wo, &lane_pools[i], &e);
            if (rc)
                goto out;
        }
    }
    if (cfg->scheduler) {
        rc = sched_new(app.db, app.clock, NULL, &app.sched, &e);
        if (!rc)
            rc = platform_tasks_schedule(app.sched, cfg, &e);
        if (!rc)
            rc = flash_jobs_schedule(app.sched, &e);
        if (!rc)
            rc = recovery_jobs_schedule(app.sched, &e);
        if (!rc)
            rc = files_jobs_schedule(app.sched, &e);
        if (!rc)
            rc = intel_profiles_schedule(app.sched, &e);
        if (!rc)
            rc = certificates_jobs_schedule(app.sched, &e);
        if (!rc)
            rc = payments_jobs_schedule(app.sched, cfg->payments_reconcile_s, &e);
        if (!rc)
            rc = sched_start(app.sched, &e);
        if (rc)
            goto out;
    }
    assets_init();
    {
        struct err we;
        err_init(&we);
        if (understand_models_warm(&we))
            log_warn("msg=\"%s; the models train on the first message\"", we.msg);
    }
    rc = http_server_start(&app, http_routes, http_routes_count, &srv, &e);
    if (rc)
        goto out;
    log_info("msg=\"listening\" url=\"http://%s:%d\" backend=%s workers=%d version=%s",
             cfg->listen_host, http_server_port(srv), db_backend_name(app.db), cfg->workers,
             app.version);

    int64_t last_beat = clock_mono_ms();
    while (!stop_signal) {
        usleep(100 * 1000);
        if (reopen_logs) {
            reopen_logs = 0;
            struct err le;
            err_init(&le);
            if (log_reopen(&le))
                log_error("msg=\"cannot reopen the log file; still writing to the old one\" "
                          "error=\"%s\"",
                          le.msg);
            else
                log_info("msg=\"log file reopened\"");
        }
        if (clock_mono_ms() - last_beat >= 15000) {
            sse_hub_heartbeat(app.hub);
            last_beat = clock_mono_ms();
        }
    }
    log_info("msg=\"shutting down\" signal=%d grace_s=%d", (int)stop_signal, cfg->shutdown_grace_s);

out:
    /* Order: stop taking requests, then periodic work, then jobs, then the database. */
    http_server_stop(srv, cfg->shutdown_grace_s * 1000);
    if (app.sched) {
        sched_stop(app.sched);
        sched_free(app.sched);
    }
    for (size_t i = 0; i < n_lanes; i++)
        job_workers_stop(lane_pools[i], cfg->shutdown_grace_s * 1000);
    if (app.workers)
        job_workers_stop(app.workers, cfg->shutdown_grace_s * 1000);
    understand_models_warm_join();
    events_set_sink(NULL, NULL);
    sse_hub_free(app.hub);
    ratelimit_free(app.rl_key);
    ratelimit_free(app.rl_ip);
    login_throttle_free(app.logins);
    metrics_free(app.metrics);
    job_registry_free(app.jobs);
    flash_live_install(NULL);
    flash_live_free(live);
    storage_tenants_free(app.storages);
    db_close(app.db);
    explicit_bzero(app.token_key, sizeof(app.token_key));
    explicit_bzero(app.secret_key, sizeof(app.secret_key));
    if (rc)
        return die(&e);
    log_info("msg=\"stopped\"");
    return 0;
}

/* ======================== admin commands ======================== */

static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++) {
        if (str_eq(argv[i], name))
            return argv[i + 1];
    }
    return NULL;
}

static int with_conn(const struct config *cfg, struct db **db, struct db_conn **c, struct err *e)
{
    int rc = open_db(cfg, db, e);
    if (rc)
        return rc;
    rc = db_conn_acquire(*db, c, e);
    if (rc) {
        db_close(*db);
        *db = NULL;
    }
    return rc;
}

static void done_conn(struct db *db, struct db_conn *c)
{
    db_conn_release(c);
    db_close(db);
}

static int find_tenant(struct db_conn *c, const char *name, struct arena *a, int64_t *id,
                       struct err *e)
{
    struct account_tenant t;
    if (!name)
        return err_set(e, ERR_INVALID, "--tenant NAME is required");
    /* The default tenant always exists; others are created with `iceshop tenants create`. */
    if (str_eq(name, ACCOUNT_DEFAULT_TENANT))
        return account_tenant_ensure(c, name, clock_now_ms(NULL), id, e);
    int rc = account_tenant_find(c, name, a, &t, e);
    if (rc == ERR_NOT_FOUND) {
        err_init(e);
        return err_set(e, ERR_NOT_FOUND,
                       "no tenant named %s; create it with: iceshop tenants create %s", name, name);
    }
    if (!rc)
        *id = t.id;
    return rc;
}

static int cmd_tenants(const struct config *cfg, int argc, char **argv)
{
    struct err e;
    err_init(&e);
    struct db *db;
    struct db_conn *c;
    struct arena a;
    arena_init(&a);
    if (argc < 1 ||
        (!str_eq(argv[0], "create") && !str_eq(argv[0], "list") && !str_eq(argv[0], "delete"))) {
        fputs(usage, stderr);
        return 2;
    }
    if (with_conn(cfg, &db, &c, &e))
        return die(&e);
    int rc;
    if (str_eq(argv[0], "delete")) {
        struct account_tenant t = {0};
        int64_t rows = 0;
        rc = argc < 2 ? err_set(&e, ERR_INVALID, "tenants delete NAME: name missing")
                      : account_tenant_find(c, argv[1], &a, &t, &e);
        /* the stored objects first: once the rows are gone nothing names them */
        struct storage_tenants *set = NULL;
        struct storage *st = NULL;
        struct arena sa;
        arena_init(&sa);
        size_t removed = 0, failed = 0;
        if (!rc)
            rc = open_tenant_storage(cfg, c, t.id, &sa, &set, &st, &e);
        if (!rc)
            rc = files_purge_objects(c, st, t.id, &removed, &failed, &e);
        if (!rc && failed)
            rc = err_set(&e, ERR_UPSTREAM,
                         "%zu stored file(s) of tenant %s could not be removed; nothing was "
                         "purged, try again",
                         failed, argv[1]);
        arena_release(&sa); /* drops st before its set goes */
        storage_tenants_free(set);
        if (!rc)
            rc = purge_tenant(c, t.id, &rows, &e);
        if (!rc)
            printf("tenant %s removed with its %lld rows and %zu stored files\n", argv[1],
                   (long long)rows, removed);
    } else if (str_eq(argv[0], "create")) {
        int64_t id;
        rc = argc < 2 ? err_set(&e, ERR_INVALID, "tenants create NAME: name missing")
                      : account_tenant_create(c, argv[1], clock_now_ms(NULL), &id, &e);
        if (!rc)
            printf("tenant %s created (id %lld)\n", argv[1], (long long)id);
    } else {
        struct account_tenant *rows;
        size_t n;
        rc = account_tenant_list(c, &a, &rows, &n, &e);
        for (size_t i = 0; !rc && i < n; i++)
            printf("%lld\t%s\n", (long long)rows[i].id, rows[i].name);
    }
    done_conn(db, c);
    arena_release(&a);
    return rc ? die(&e) : 0;
}

#define IMPORT_READ (256 * 1024)

static void import_progress(const struct import_result *r, int64_t done, int64_t size)
{
    if (size > 0)
        fprintf(stderr, "\rimport: %3d%%  %lld lines  %lld inserted  %lld updated  %lld rejected ",
                (int)(done * 100 / size), (long long)r->lines, (long long)r->inserted,
                (long long)r->updated, (long long)r->rejected);
    else
        fprintf(stderr, "\rimport: %lld lines  %lld inserted  %lld updated  %lld rejected ",
                (long long)r->lines, (long long)r->inserted, (long long)r->updated,
                (long long)r->rejected);
}

/* iceshop import --tenant NAME --kind KIND [--format F] [--source S] FILE */
static int cmd_import(const struct config *cfg, int argc, char **argv)
{
    const char *tenant = opt(argc, argv, "--tenant");
    const char *kind_name = opt(argc, argv, "--kind");
    const char *format_name = opt(argc, argv, "--format");
    const char *source = opt(argc, argv, "--source");
    /* FILE comes last, and is not the value of a flag */
    const char *path =
        argc > 0 && !(argc > 1 && str_has_prefix(argv[argc - 2], "--")) ? argv[argc - 1] : NULL;
    int kind = -1;
    for (int i = 0; kind_name && import_kind_names[i]; i++) {
        if (str_eq(kind_name, import_kind_names[i]))
            kind = i;
    }
    size_t plen = path ? strlen(path) : 0;
    enum import_format format =
        plen > 4 && str_eq(path + plen - 4, ".csv") ? IMPORT_CSV : IMPORT_NDJSON;
    if (format_name)
        format = str_eq(format_name, "csv") ? IMPORT_CSV : IMPORT_NDJSON;
    if (!tenant || kind < 0 || !path || str_has_prefix(path, "--") ||
        (format_name && !str_eq(format_name, "csv") && !str_eq(format_name, "ndjson"))) {
        fputs(usage, stderr);
        return 2;
    }
    FILE *in = str_eq(path, "-") ? stdin : fopen(path, "rb");
    if (!in) {
        fprintf(stderr, "iceshop: cannot open %s\n", path);
        return 1;
    }
    int64_t size = 0;
    if (in != stdin && fseek(in, 0, SEEK_END) == 0) {
        size = ftell(in);
        rewind(in);
    }
    struct err e;
    err_init(&e);
    struct db *db;
    struct db_conn *c;
    struct arena a;
    arena_init(&a);
    int64_t tenant_id = 0;
    struct import *im = NULL;
    int rc = with_conn(cfg, &db, &c, &e);
    if (rc) {
        if (in != stdin)
            fclose(in);
        return die(&e);
    }
    rc = find_tenant(c, tenant, &a, &tenant_id, &e);
    if (!rc)
        rc = import_new(c, tenant_id, (enum import_kind)kind, format, source, clock_now_ms(NULL),
                        &im, &e);
    bool tty = isatty(2);
    char *chunk = malloc(IMPORT_READ);
    int64_t done = 0, shown = 0;
    while (!rc && chunk) {
        size_t n = fread(chunk, 1, IMPORT_READ, in);
        if (n == 0)
            break;
        done += (int64_t)n;
        rc = import_feed(im, chunk, n, &e);
        if (tty && clock_mono_ms() - shown >= 200) {
            import_progress(import_result(im), done, size);
            shown = clock_mono_ms();
        }
    }
    if (!rc && !chunk)
        rc = err_set(&e, ERR_NOMEM, "out of memory");
    if (!rc && ferror(in))
        rc = err_set(&e, ERR_INTERNAL, "cannot read %s", path);
    if (!rc)
        rc = import_finish(im, &e);
    free(chunk);
    if (in != stdin)
        fclose(in);
    if (!rc) {
        const struct import_result *r = import_result(im);
        if (tty) {
            import_progress(r, done, size);
            fputc('\n', stderr);
        }
        printf("%s: %lld lines, %lld inserted, %lld updated, %lld rejected\n",
               import_kind_names[kind], (long long)r->lines, (long long)r->inserted,
               (long long)r->updated, (long long)r->rejected);
        for (size_t i = 0; i < r->n_rejects; i++)
            printf("line %lld: %s: %s\n", (long long)r->rejects[i].line, r->rejects[i].field,
                   r->rejects[i].reason);
    }
    import_free(im);
    done_conn(db, c);
    arena_release(&a);
    return rc ? die(&e) : 0;
}

static void profiles_progress(void *ctx, int64_t done, int64_t total)
{
    int64_t *shown = ctx;
    if (clock_mono_ms() - *shown < 200 && done < total)
        return;
    *shown = clock_mono_ms();
    fprintf(stderr, "\rprofiles: %3d%%  %lld of %lld customers ",
            total > 0 ? (int)(done * 100 / total) : 100, (long long)done, (long long)total);
}

/* iceshop profiles recompute --tenant NAME [--as-of YYYY-MM-DD] */
static int cmd_profiles(const struct config *cfg, int argc, char **argv)
{
    const char *tenant = opt(argc, argv, "--tenant");
    const char *as_of_text = opt(argc, argv, "--as-of");
    if (argc < 1 || !str_eq(argv[0], "recompute") || !tenant) {
        fputs(usage, stderr);
        return 2;
    }
    int64_t now = clock_now_ms(NULL), as_of = now;
    if (as_of_text) {
        char iso[48];
        snprintf(iso, sizeof(iso), "%.10sT23:59:59Z", as_of_text);
        if (strlen(as_of_text) != 10 || clock_parse_iso(iso, &as_of) || as_of > now + 86400000) {
            fprintf(stderr, "iceshop: --as-of is a date like 2026-12-01, not in the future\n");
            return 2;
        }
    }
    struct err e;
    err_init(&e);
    struct db *db;
    struct db_conn *c;
    struct arena a;
    arena_init(&a);
    int64_t tenant_id = 0, batch = 0, shown = 0;
    int rc = with_conn(cfg, &db, &c, &e);
    if (rc)
        return die(&e);
    rc = find_tenant(c, tenant, &a, &tenant_id, &e);
    if (!rc)
        rc = profile_store_batch_create(c, tenant_id, as_of, 0, now, &batch, &e);
    if (!rc)
        rc = intel_profiles_run(c, tenant_id, batch, 0, now, isatty(2) ? profiles_progress : NULL,
                                NULL, &shown, &e);
    if (isatty(2))
        fputc('\n', stderr);
    struct profile_batch_row b;
    bool found = false;
    if (!rc)
        rc = profile_store_batch_get(c, tenant_id, batch, &a, &b, &found, &e);
    if (!rc)
        printf("profiles: %lld customers as of %.10s%s%s\n", (long long)b.processed,
               as_of_text ? as_of_text : "today", b.currency[0] ? " in " : "", b.currency);
    else if (batch) {
        struct err fe;
        err_init(&fe);
        profile_store_fail(c, batch, now, &fe);
    }
    done_conn(db, c);
    arena_release(&a);
    return rc ? die(&e) : 0;
}

/* A key's rate for `keys list`: "rate=default", "rate=unlimited" or "rate=N/s". */
static const char *rate_text(int rate_limit, char *buf, size_t n)
{
    if (rate_limit == ACCOUNT_RATE_DEFAULT)
        return "rate=default";
    if (rate_limit == ACCOUNT_RATE_UNLIMITED)
        return "rate=unlimited";
    snprintf(buf, n, "rate=%d/s", rate_limit);
    return buf;
}

static int cmd_keys(const struct config *cfg, int argc, char **argv)
{
    char rate_buf[2][32];
    struct err e;
    err_init(&e);
    if (argc < 1 ||
        (!str_eq(argv[0], "create") && !str_eq(argv[0], "list") && !str_eq(argv[0], "revoke"))) {
        fputs(usage, stderr);
        return 2;
    }
    struct db *db;
    struct db_conn *c;
    struct arena a;
    arena_init(&a);
    if (with_conn(cfg, &db, &c, &e))
        return die(&e);
    int64_t tenant_id = 0;
    int rc = find_tenant(c, opt(argc, argv, "--tenant"), &a, &tenant_id, &e);
    if (rc)
        goto out;
    if (str_eq(argv[0], "create")) {
        enum account_role role;
        const char *role_s = opt(argc, argv, "--role");
        if (!role_s || account_role_parse(role_s, &role)) {
            rc = err_set(&e, ERR_INVALID, "--role must be admin, operator or viewer");
            goto out;
        }
        int rate_limit = ACCOUNT_RATE_DEFAULT;
        const char *rate_s = opt(argc, argv, "--rate");
        int64_t rate = 0;
        if (rate_s && (str_to_i64(rate_s, &rate) || rate < 0 || rate > ACCOUNT_RATE_MAX)) {
            rc = err_set(&e, ERR_INVALID, "--rate must be 0 (unlimited) to %d requests per second",
                         ACCOUNT_RATE_MAX);
            goto out;
        }
        if (rate_s)
            rate_limit = rate == 0 ? ACCOUNT_RATE_UNLIMITED : (int)rate;
        struct account_key k;
        const char *plain;
        rc = account_key_issue(c, tenant_id, role, opt(argc, argv, "--name"), rate_limit,
                               clock_now_ms(NULL), &a, &k, &plain, &e);
        if (!rc) {
            printf("%s\n", plain);
            fprintf(stderr, "key %lld (%s) created; this is the only time it is shown\n",
                    (long long)k.id, account_role_name(role));
        }
    } else if (str_eq(argv[0], "list")) {
        struct account_key *rows;
        size_t n;
        rc = account_key_list(c, tenant_id, NULL, &a, &rows, &n, &e);
        for (size_t i = 0; !rc && i < n; i++)
            printf("%lld\t%s\t%s\t%s\t%s\t%s\n", (long long)rows[i].id, rows[i].prefix,
                   account_role_name(rows[i].role), rows[i].revoked_at ? "revoked" : "active",
                   rate_text(rows[i].rate_limit, rate_buf[i % 2], sizeof(rate_buf[0])),
                   rows[i].name);
    } else {
        int64_t id;
        if (argc < 2 || str_to_i64(argv[argc - 1], &id)) {
            rc = err_set(&e, ERR_INVALID, "keys revoke --tenant NAME ID: key id missing");
            goto out;
        }
        rc = account_key_revoke(c, tenant_id, id, clock_now_ms(NULL), &e);
        if (!rc)
            printf("key %lld revoked\n", (long long)id);
    }
out:
    done_conn(db, c);
    arena_release(&a);
    return rc ? die(&e) : 0;
}

static int cmd_users(const struct config *cfg, int argc, char **argv)
{
    struct err e;
    err_init(&e);
    if (argc < 1 || !str_eq(argv[0], "create")) {
        fputs(usage, stderr);
        return 2;
    }
    char line[300];
    const char *password = getenv("ICESHOP_PASSWORD");
    if (!password || !*password) {
        if (!fgets(line, sizeof(line), stdin)) {
            fprintf(stderr, "iceshop: no password: set ICESHOP_PASSWORD or pipe it on stdin\n");
            return 1;
        }
        line[strcspn(line, "\r\n")] = '\0';
        password = line;
    }
    enum account_role role;
    const char *role_s = opt(argc, argv, "--role");
    if (!role_s || account_role_parse(role_s, &role)) {
        fprintf(stderr, "iceshop: --role must be admin, operator or viewer\n");
        return 2;
    }
    struct db *db;
    struct db_conn *c;
    struct arena a;
    arena_init(&a);
    if (with_conn(cfg, &db, &c, &e))
        return die(&e);
    int64_t tenant_id = 0, id = 0;
    int rc = find_tenant(c, opt(argc, argv, "--tenant"), &a, &tenant_id, &e);
    if (!rc)
        rc = account_user_create(c, tenant_id, opt(argc, argv, "--email"), password, role,
                                 clock_now_ms(NULL), &id, &e);
    if (!rc)
        printf("user %lld created\n", (long long)id);
    done_conn(db, c);
    arena_release(&a);
    return rc ? die(&e) : 0;
}

/* iceshop integrations set|show|delete --tenant NAME PROVIDER [FIELD=VALUE...] */
static int cmd_integrations(const struct config *cfg, int argc, char **argv)
{
    struct err e;
    err_init(&e);
    if (argc < 1 ||
        (!str_eq(argv[0], "set") && !str_eq(argv[0], "show") && !str_eq(argv[0], "delete"))) {
        fputs(usage, stderr);
        return 2;
    }
    /* the words that are not options: PROVIDER, then FIELD=VALUE pairs */
    const char *provider = NULL;
    struct integration_kv kv[32];
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        if (str_eq(argv[i], "--tenant")) {
            i++;
            continue;
        }
        char *eq = strchr(argv[i], '=');
        if (!provider && !eq) {
            provider = argv[i];
        } else if (eq && n < sizeof(kv) / sizeof(kv[0])) {
            *eq = '\0';
            kv[n].name = argv[i];
            kv[n].value = eq[1] ? eq + 1 : NULL;
            n++;
        } else {
            fprintf(stderr, "iceshop: unexpected argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!provider) {
        fputs(usage, stderr);
        return 2;
    }
    struct db *db;
    struct db_conn *c;
    struct arena a;
    arena_init(&a);
    if (with_conn(cfg, &db, &c, &e))
        return die(&e);
    unsigned char key[SEC_BOX_KEY_LEN];
    int64_t tenant_id = 0;
    int rc = find_tenant(c, opt(argc, argv, "--tenant"), &a, &tenant_id, &e);
    if (!rc)
        rc = load_secret_key(cfg, key, &e);
    if (rc)
        goto out;
    if (str_eq(argv[0], "set") && str_eq(provider, "storage")) {
        /* the same check as PUT /api/integrations/storage: a directory is the default tenant's */
        int64_t dflt = 0;
        rc = find_tenant(c, ACCOUNT_DEFAULT_TENANT, &a, &dflt, &e);
        for (size_t i = 0; !rc && i < n; i++) {
            if (str_eq(kv[i].name, "url") && kv[i].value)
                rc = storage_url_check(kv[i].value, tenant_id == dflt, &e);
        }
        if (rc)
            goto out;
    }
    if (str_eq(argv[0], "set")) {
        rc = integration_put(c, key, tenant_id, provider, kv, n, clock_now_ms(NULL), &e);
        if (!rc)
            fprintf(stderr, "%s: %zu field(s) set\n", provider, n);
    } else if (str_eq(argv[0], "show")) {
        struct integration it;
        rc = integration_get(c, NULL, tenant_id, provider, false, &a, &it, &e);
        for (size_t i = 0; !rc && i < it.n_fields; i++)
            printf("%s\t%s\n", it.fields[i].name,
                   it.fields[i].secret ? "(secret, set)" : it.fields[i].value);
    } else {
        int64_t removed = 0;
        rc = integration_delete(c, tenant_id, provider, &removed, &e);
        if (!rc)
            fprintf(stderr, "%s: %lld field(s) removed\n", provider, (long long)removed);
    }
out:
    sec_wipe(key, sizeof(key));
    arena_release(&a);
    done_conn(db, c);
    return rc ? die(&e) : 0;
}

/* iceshop backup FILE */
static int cmd_backup(const struct config *cfg, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: iceshop backup FILE\n");
        return 2;
    }
    struct err e;
    err_init(&e);
    struct db *db;
    /* as it is: a backup taken before an upgrade must be of the old schema, not migrate it */
    if (open_db_with(cfg, &db, false, &e))
        return die(&e);
    int rc = backup_make(db, argv[0], &e);
    db_close(db);
    if (rc)
        return die(&e);
    fprintf(stderr, "backup written to %s; keep the secret key file with it\n", argv[0]);
    return 0;
}

/* iceshop restore FILE */
static int cmd_restore(const struct config *cfg, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: iceshop restore FILE\n");
        return 2;
    }
    struct err e;
    err_init(&e);
    int version = 0;
    char previous[1100];
    if (backup_restore(cfg->database_url, argv[0], &version, previous, sizeof(previous), &e))
        return die(&e);
    fprintf(stderr, "restored %s (schema version %d)%s%s\n", argv[0], version,
            previous[0] ? "; the previous database is at " : "", previous);
    return 0;
}

/* iceshop reset --tenant NAME --yes */
static int cmd_reset(const struct config *cfg, int argc, char **argv)
{
    const char *tenant = opt(argc, argv, "--tenant");
    bool yes = false;
    for (int i = 0; i < argc; i++)
        yes = yes || str_eq(argv[i], "--yes");
    if (!tenant) {
        fprintf(stderr, "usage: iceshop reset --tenant NAME --yes\n");
        return 2;
    }
    if (!yes) {
        fprintf(stderr,
                "iceshop: reset deletes every buyer, seller, signal, window, message, contact, "
                "event and job of tenant %s and cannot be undone; it keeps the tenant, its "
                "users, API keys and settings. Take a backup first (iceshop backup FILE), then "
                "run it again with --yes\n",
                tenant);
        return 2;
    }
    struct err e;
    err_init(&e);
    struct db *db;
    struct db_conn *c;
    struct arena a;
    arena_init(&a);
    if (with_conn(cfg, &db, &c, &e))
        return die(&e);
    int64_t tenant_id = 0, rows = 0;
    int rc = find_tenant(c, tenant, &a, &tenant_id, &e);
    /* uploaded files are business data too: their stored objects go before their rows */
    struct storage_tenants *set = NULL;
    struct storage *st = NULL;
    struct arena sa;
    arena_init(&sa);
    size_t removed = 0, failed = 0;
    if (!rc)
        rc = open_tenant_storage(cfg, c, tenant_id, &sa, &set, &st, &e);
    if (!rc)
        rc = files_purge_objects(c, st, tenant_id, &removed, &failed, &e);
    if (!rc && failed)
        rc = err_set(&e, ERR_UPSTREAM,
                     "%zu stored file(s) of tenant %s could not be removed; nothing was reset, "
                     "try again",
                     failed, tenant);
    arena_release(&sa); /* drops st before its set goes */
    storage_tenants_free(set);
    if (!rc)
        rc = purge_tenant_reset(c, tenant_id, &rows, &e);
    if (!rc)
        printf("tenant %s reset: %lld rows and %zu stored files removed\n", tenant, (long long)rows,
               removed);
    done_conn(db, c);
    arena_release(&a);
    return rc ? die(&e) : 0;
}

/* iceshop doctor: the report of platform/doctor.h; 1 when anything must be fixed. */
static int cmd_doctor(void)
{
    extern char **environ;
    struct err e;
    err_init(&e);
    log_set_level(LOG_ERROR);
    if (sec_init(&e))
        return die(&e);
    struct doctor_options o = {
        .envp = environ, .now_ms = clock_now_ms(NULL), .min_free_bytes = 100ull * 1024 * 1024};
    struct doctor_report *r = calloc(1, sizeof(*r));
    if (!r)
        return 1;
    doctor_run(&o, r);
    static const char *tags[] = {"ok", "WARN", "FAIL"};
    for (size_t i = 0; i < r->n; i++)
        printf("%-4s  %-8s  %s\n", tags[r->items[i].level], r->items[i].area, r->items[i].msg);
    printf("doctor: %d to fix, %d warning%s\n", r->fails, r->warns, r->warns == 1 ? "" : "s");
    int rc = r->fails ? 1 : 0;
    free(r);
    return rc;
}

static int cmd_understand(int argc, char **argv)
{
    enum understand_role role = UNDERSTAND_ROLE_BUYER;
    char text[UNDERSTAND_TEXT_MAX + 1] = "";
    size_t used = 0;
    for (int i = 0; i < argc; i++) {
        if (str_eq(argv[i], "--role") && i + 1 < argc) {
            i++;
            if (str_eq(argv[i], "seller"))
                role = UNDERSTAND_ROLE_SELLER;
            else if (!str_eq(argv[i], "buyer")) {
                fprintf(stderr, "iceshop: --role must be buyer or seller\n");
                return 2;
            }
            continue;
        }
        int n = snprintf(text + used, sizeof(text) - used, "%s%s", used ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= sizeof(text) - used) {
            fprintf(stderr, "iceshop: text is longer than %d bytes\n", UNDERSTAND_TEXT_MAX);
            return 2;
        }
        used += (size_t)n;
    }
    if (!used) {
        fprintf(stderr, "usage: iceshop understand [--role buyer|seller] TEXT\n");
        return 2;
    }
    struct err e;
    err_init(&e);
    struct understanding u;
    if (understand_text(text, role, &u, &e))
        return die(&e);
    json_t *j = understanding_json(&u);
    char *out = json_dumps(j, JSON_COMPACT);
    printf("%s\n", out);
    free(out);
    json_decref(j);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || str_eq(argv[1], "--help") || str_eq(argv[1], "-h") || str_eq(argv[1], "help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (str_eq(cmd, "version") || str_eq(cmd, "--version")) {
        printf("iceshop %s\n", ICESHOP_VERSION);
        return 0;
    }
    if (str_eq(cmd, "understand"))
        return cmd_understand(argc - 2, argv + 2);
    if (str_eq(cmd, "doctor"))
        return cmd_doctor();
    if (str_eq(cmd, "demo") && argc == 3 && str_eq(argv[2], "--reset")) {
        /* the demo's tenant and everything the demo made in it */
        struct err de;
        err_init(&de);
        struct config dcfg;
        if (config_load(&dcfg, &de))
            return die(&de);
        char *args[] = {"delete", "demo", NULL};
        return cmd_tenants(&dcfg, 2, args);
    }
    if (str_eq(cmd, "demo"))
        return demo_run(argc - 2, argv + 2);
    if (str_eq(cmd, "simulate"))
        return sim_main(argc - 2, argv + 2);
    struct err e;
    err_init(&e);
    struct config cfg;
    if (config_load(&cfg, &e))
        return die(&e);
    log_set_level(cfg.log_level);
    if (cfg.log_file[0] && log_open_file(cfg.log_file, &e))
        return die(&e);
    if (sec_init(&e))
        return die(&e);
    if (httpc_global_init(&e))
        return die(&e);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (str_eq(cmd, "serve"))
        return serve(&cfg);
    if (str_eq(cmd, "migrate")) {
        struct db *db;
        if (open_db(&cfg, &db, &e))
            return die(&e);
        int version = 0;
        db_schema_version(db, &version, &e);
        printf("database at schema version %d (%s)\n", version, db_backend_name(db));
        db_close(db);
        return 0;
    }
    if (str_eq(cmd, "migrate-data"))
        return migrate_data_main(argc - 2, argv + 2);
    if (str_eq(cmd, "tenants"))
        return cmd_tenants(&cfg, argc - 2, argv + 2);
    if (str_eq(cmd, "keys"))
        return cmd_keys(&cfg, argc - 2, argv + 2);
    if (str_eq(cmd, "users"))
        return cmd_users(&cfg, argc - 2, argv + 2);
    if (str_eq(cmd, "integrations"))
        return cmd_integrations(&cfg, argc - 2, argv + 2);
    if (str_eq(cmd, "backup"))
        return cmd_backup(&cfg, argc - 2, argv + 2);
    if (str_eq(cmd, "restore"))
        return cmd_restore(&cfg, argc - 2, argv + 2);
    if (str_eq(cmd, "reset"))
        return cmd_reset(&cfg, argc - 2, argv + 2);
    if (str_eq(cmd, "profiles"))
        return cmd_profiles(&cfg, argc - 2, argv + 2);
    if (str_eq(cmd, "import"))
        return cmd_import(&cfg, argc - 2, argv + 2);
    fprintf(stderr, "iceshop: unknown command %s\n\n%s", cmd, usage);
    return 2;
}
