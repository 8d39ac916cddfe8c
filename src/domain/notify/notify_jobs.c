/* SPDX-License-Identifier: MIT */
/*
 * The "notify.deliver" job (see notify_jobs.h): load the message, apply opt-out, quiet hours and
 * the 24-hour window, send through the provider, and record what happened. It runs outside a
 * transaction (an HTTP call must not hold the database), so a crash between the send and the
 * status update may send a message twice; everything else is idempotent.
 */
#include "domain/notify/notify_jobs.h"
#include "core/log.h"
#include "core/str.h"
#include "domain/alerts/alerts.h"
#include "domain/notify/contacts.h"
#include "core/crypto.h"
#include "core/xalloc.h"
#include "integrations/integration_store.h"
#include "net/mail.h"
#include "domain/notify/outbox.h"
#include "jobs/queue.h"
#include "jobs/worker.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define WINDOW_MS (24LL * 3600 * 1000) /* the customer-service window */

/* Whether the recipient last wrote to us more than 24 hours ago, or never. */
static bool outside_window(const struct job_ctx *ctx, const struct contact *ct, bool found)
{
    return !found || !ct->last_inbound_at || ct->last_inbound_at < ctx->now_ms - WINDOW_MS;
}

/*
 * Whether a buyer withdrew consent for offers ("dur"/"stop"). Buyers get a contact when they
 * register, so a buyer without one counts as opted out.
 */
static bool opted_out(const struct notify_message *m, const struct contact *ct, bool found)
{
    if (!str_eq(m->recipient_kind, "buyer"))
        return false;
    return !found || !ct->marketing_consent;
}

/* A new delivery job for the message at `run_at` (unique per message and time). */
static int reschedule(struct job_ctx *ctx, int64_t pk, char tag, int64_t run_at, struct err *e)
{
    char key[96];
    snprintf(key, sizeof(key), "notify:%lld:%c%lld", (long long)pk, tag, (long long)run_at);
    struct job_spec spec = {.name = NOTIFY_DELIVER_JOB,
                            .payload_json = ctx->payload,
                            .tenant_id = ctx->tenant_id,
                            .run_at_ms = run_at,
                            .unique_key = key};
    return jobs_enqueue(ctx->conn, &spec, ctx->now_ms, NULL, NULL, e);
}

static int mark_failed(struct job_ctx *ctx, const struct notify_message *m, const char *why,
                       struct err *e)
{
    log_warn("msg=\"message not delivered\" tenant=%lld message=%lld to=%s:%s kind=%s error=\"%s\"",
             (long long)ctx->tenant_id, (long long)m->pk, m->recipient_kind, m->recipient_id,
             m->kind, why);
    return notify_set_status(ctx->conn, ctx->tenant_id, m->pk, NOTIFY_FAILED, why, NULL,
                             ctx->now_ms, e);
}

/* The alert kind for a provider that rejected our credentials, e.g. "whatsapp.auth". */
static void auth_alert_kind(const char *source, char *out, size_t n)
{
    snprintf(out, n, "%s.auth", source);
}

/* A template parameter may not hold newlines or tabs. */
static void flatten(char *s)
{
    for (; *s; s++) {
        if (*s == '\n' || *s == '\r' || *s == '\t')
            *s = ' ';
    }
}

static int64_t message_pk(const char *payload)
{
    json_t *root = json_loads(payload ? payload : "", 0, NULL);
    json_t *m = json_object_get(root, "message");
    int64_t pk = json_is_integer(m) ? (int64_t)json_integer_value(m) : 0;
    json_decref(root);
    return pk;
}

/* ======================== per-tenant senders ======================== */

#define SENDERS_MAX 256

struct sender {
    int64_t tenant;
    unsigned char fingerprint[SEC_SHA256_LEN]; /* of the settings it was made from */
    struct channel_config cfg;
    char *token, *phone_number_id, *api_url;
    struct channel_provider *p;
};

struct notify_senders {
    pthread_mutex_t mu;
    struct sender s[SENDERS_MAX];
    size_t n;
};

static pthread_mutex_t senders_init_mu = PTHREAD_MUTEX_INITIALIZER;

/*
 * The provider for this message's tenant (see notify_delivery). Providers keep their rate
 * limiter, so one is made per tenant and settings and then reused; when a tenant's settings
 * change a new one is made and the old one is kept until exit (another thread may be using it).
 */
static int sender_for(struct job_ctx *ctx, struct notify_delivery *d, struct channel_provider **out,
                      struct err *e)
{
    static struct channel_provider *console;
    *out = d->provider;
    if (!d->secret_key)
        return 0;
    struct integration it;
    int rc = integration_get(ctx->conn, d->secret_key, ctx->tenant_id, "whatsapp", false,
                             ctx->arena, &it, e);
    if (rc)
        return rc;
    const char *token = integration_value(&it, "access_token");
    const char *pnid = integration_value(&it, "phone_number_id");
    const char *api = integration_value(&it, "api_url");
    if (!token || !pnid) {
        if (ctx->tenant_id == d->default_tenant)
            return 0;
        pthread_mutex_lock(&senders_init_mu);
        if (!console)
            console = channel_provider_console();
        pthread_mutex_unlock(&senders_init_mu);
        *out = console;
        return 0;
    }
    if (!api)
        api = d->cfg.api_url;
    struct sec_slice parts[] = {
        {token, strlen(token) + 1}, {pnid, strlen(pnid) + 1}, {api, strlen(api) + 1}};
    unsigned char fp[SEC_SHA256_LEN];
    sec_hmac_sha256_v(fp, "sender", 6, parts, 3);
    pthread_mutex_lock(&senders_init_mu);
    if (!d->senders) {
        d->senders = xcalloc(1, sizeof(*d->senders));
        pthread_mutex_init(&d->senders->mu, NULL);
    }
    pthread_mutex_unlock(&senders_init_mu);
    struct notify_senders *ss = d->senders;
    pthread_mutex_lock(&ss->mu);
    struct sender *hit = NULL;
    for (size_t i = 0; i < ss->n && !hit; i++) {
        if (ss->s[i].tenant == ctx->tenant_id && !memcmp(ss->s[i].fingerprint, fp, sizeof(fp)))
            hit = &ss->s[i];
    }
    if (!hit && ss->n < SENDERS_MAX) {
        hit = &ss->s[ss->n++];
        hit->tenant = ctx->tenant_id;
        memcpy(hit->fingerprint, fp, sizeof(fp));
        hit->cfg = d->cfg;
        hit->token = xstrdup(token);
        hit->phone_number_id = xstrdup(pnid);
        hit->api_url = xstrdup(api);
        hit->cfg.token = hit->token;
        hit->cfg.phone_number_id = hit->phone_number_id;
        hit->cfg.api_url = hit->api_url;
        hit->p = channel_provider_new(&hit->cfg);
        log_info("msg=\"tenant messaging provider\" tenant=%lld provider=%s",
                 (long long)ctx->tenant_id, hit->p->name);
    }
    pthread_mutex_unlock(&ss->mu);
    if (!hit)
        return err_set(e, ERR_INTERNAL, "too many tenant messaging providers (%d)", SENDERS_MAX);
    *out = hit->p;
    return 0;
}

/*
 * An email message: through SMTP when ICESHOP_SMTP_URL is set (SMTP accepting it is "sent";
 * mail has no delivery reports), else the console adapter's way (logged, delivered). A 5xx
 * reply fails the message; anything else is retried with the job's backoff, and fails it on
 * the last attempt. The Message-ID is the message's own, so a resend after a crash is
 * recognisable.
 */
static int deliver_email(struct job_ctx *ctx, const struct channel_config *cfg,
                         const struct notify_message *msg, struct err *e)
{
    if (!cfg->smtp_url) {
        log_info("msg=\"email delivered by the console adapter\" tenant=%lld message=%lld "
                 "kind=%s",
                 (long long)ctx->tenant_id, (long long)msg->pk, msg->kind);
        return notify_set_status(ctx->conn, ctx->tenant_id, msg->pk, NOTIFY_DELIVERED, NULL,
                                 "console", ctx->now_ms, e);
    }
    struct notify_attachment *att;
    size_t n_att;
    int rc = notify_attachments(ctx->conn, ctx->tenant_id, msg->pk, ctx->arena, &att, &n_att, e);
    if (rc)
        return rc;
    struct mail_attachment *ma = arena_alloc(ctx->arena, (n_att ? n_att : 1) * sizeof(*ma));
    for (size_t i = 0; i < n_att; i++)
        ma[i] =
            (struct mail_attachment){att[i].filename, att[i].content_type, att[i].data, att[i].len};
    char message_id[96];
    snprintf(message_id, sizeof(message_id), "<message-%lld-%lld@iceshop>",
             (long long)ctx->tenant_id, (long long)msg->pk);
    const char *to[] = {msg->email};
    struct mail_message mm = {.from = cfg->smtp_from,
                              .to = to,
                              .n_to = 1,
                              .subject = msg->subject,
                              .text = msg->body,
                              .attachments = ma,
                              .n_attachments = n_att,
                              .message_id = message_id};
    struct mail_server srv = {.url = cfg->smtp_url,
                              .username = cfg->smtp_user,
                              .password = cfg->smtp_password,
                              .require_tls = cfg->smtp_require_tls};
    bool permanent = false;
    struct err se;
    err_init(&se);
    rc = mail_send(&srv, &mm, &permanent, &se);
    if (!rc) {
        log_info("msg=\"email sent\" tenant=%lld message=%lld kind=%s attachments=%zu",
                 (long long)ctx->tenant_id, (long long)msg->pk, msg->kind, n_att);
        return notify_set_status(ctx->conn, ctx->tenant_id, msg->pk, NOTIFY_SENT, NULL, message_id,
                                 ctx->now_ms, e);
    }
    if (permanent || rc == ERR_INVALID || ctx->attempt >= ctx->max_attempts)
        return mark_failed(ctx, msg, se.msg, e);
    return err_set(e, se.code, "%s", se.msg);
}

static int deliver(struct job_ctx *ctx, struct err *e)
{
    struct notify_delivery *d = ctx->userdata;
    const struct channel_config *cfg = &d->cfg;
    struct channel_provider *provider = d->provider;
    int64_t pk = message_pk(ctx->payload);
    if (pk <= 0)
        return err_set(e, ERR_INVALID, "job %lld: payload needs {\"message\": id}",
                       (long long)ctx->job_id);
    struct notify_message msg;
    int rc = notify_get(ctx->conn, ctx->tenant_id, pk, ctx->arena, &msg, e);
    if (rc || msg.status != NOTIFY_PENDING)
        return rc; /* already handled: delivery is idempotent */
    const char *kind = msg.kind;
    const struct notify_kind *def = notify_kind_find(kind);
    if (!def)
        return mark_failed(ctx, &msg, "this server does not know the message kind", e);
    bool email = str_eq(msg.channel, "email");
    struct contact ct;
    bool known = false;
    rc = email ? contacts_get_by_email(ctx->conn, ctx->tenant_id, msg.email, ctx->arena, &ct,
                                       &known, e)
               : contacts_get_by_phone(ctx->conn, ctx->tenant_id, msg.phone, ctx->arena, &ct,
                                       &known, e);
    if (rc)
        return rc;

    if (def->purpose == NOTIFY_MARKETING) {
        if (opted_out(&msg, &ct, known) || (email && (!known || !ct.marketing_consent)))
            return mark_failed(ctx, &msg, "opted out", e);
        int64_t until;
        if (channel_in_quiet_hours(cfg->quiet_hours, cfg->tz_offset_min, ctx->now_ms, &until)) {
            log_info("msg=\"message waits for the end of quiet hours\" tenant=%lld message=%lld "
                     "kind=%s until=%lld",
                     (long long)ctx->tenant_id, (long long)pk, kind, (long long)until);
            return reschedule(ctx, pk, 'q', until, e);
        }
    }

    if (email)
        return deliver_email(ctx, cfg, &msg, e);

    rc = sender_for(ctx, d, &provider, e);
    if (rc)
        return rc;
    bool templates = provider->caps & CHANNEL_CAP_TEMPLATES;
    const char *source = provider->alert_source;
    char kind_auth[ALERT_KIND_MAX + 1];
    auth_alert_kind(source, kind_auth, sizeof(kind_auth));
    const char *tpl = channel_template_name(cfg, def);
    bool outside = outside_window(ctx, &ct, known);
    char no_template[128];
    snprintf(no_template, sizeof(no_template), "no template for %s outside the 24-hour window",
             kind);
    if (outside && !*tpl && templates)
        return mark_failed(ctx, &msg, no_template, e);

    char param[2048];
    str_copy(param, sizeof(param), msg.body);
    flatten(param);
    const char *params[] = {param};
    struct channel_message m = {
        .to_phone = msg.phone,
        .body = msg.body,
        .language = msg.language,
        .kind = kind,
        .use_template = outside && *tpl,
        .template_name = tpl,
        .template_params = params,
        .n_template_params = 1,
        .location_request = (provider->caps & CHANNEL_CAP_LOCATION) && def->location_request,
    };
    char button_ids[NOTIFY_BUTTONS_MAX][NOTIFY_KIND_NAME_MAX + 24];
    bool en = str_eq(msg.language, "en");
    for (int i = 0; (provider->caps & CHANNEL_CAP_BUTTONS) && msg.about_pk > 0 &&
                    i < NOTIFY_BUTTONS_MAX && def->buttons[i].action;
         i++) {
        snprintf(button_ids[i], sizeof(button_ids[i]), "%s:%lld", def->buttons[i].action,
                 (long long)msg.about_pk);
        m.buttons[i].id = button_ids[i];
        m.buttons[i].title = en ? def->buttons[i].title_en : def->buttons[i].title_tr;
        m.n_buttons++;
    }

    struct channel_result r;
    struct err se;
    err_init(&se);
    rc = provider->send(provider, &m, &r, &se);
    if (!rc && r.outcome == CHANNEL_NEEDS_TEMPLATE && !m.use_template && *tpl) {
        m.use_template = true; /* the window closed after all: once more, as the template */
        rc = provider->send(provider, &m, &r, &se);
    }
    bool last = ctx->attempt >= ctx->max_attempts;
    if (rc) {
        if (last)
            return mark_failed(ctx, &msg, se.msg, e);
        return err_set(e, se.code, "%s", se.msg);
    }

    switch (r.outcome) {
    case CHANNEL_SENT: {
        bool delivered = provider->caps & CHANNEL_CAP_DELIVERS_NOW;
        /*
         * The provider took our credentials again: an open auth alert is over. The message is
         * gone already, so failing to say so must not fail (and resend) it.
         */
        struct err ae;
        err_init(&ae);
        if (alerts_resolve_kind(ctx->conn, ctx->tenant_id, kind_auth, ctx->now_ms, NULL, &ae))
            log_warn("msg=\"cannot resolve alert\" tenant=%lld kind=%s error=\"%s\"",
                     (long long)ctx->tenant_id, kind_auth, ae.msg);
        log_info("msg=\"message sent\" tenant=%lld message=%lld to=%s:%s kind=%s lang=%s "
                 "provider=%s provider_id=%s template=%s",
                 (long long)ctx->tenant_id, (long long)pk, msg.recipient_kind, msg.recipient_id,
                 kind, msg.language, provider->name, r.provider_id, m.use_template ? "yes" : "no");
        return notify_set_status(ctx->conn, ctx->tenant_id, pk,
                                 delivered ? NOTIFY_DELIVERED : NOTIFY_SENT, NULL, r.provider_id,
                                 ctx->now_ms, e);
    }
    case CHANNEL_RETRY:
        if (r.provider_code == 0 && r.retry_after_ms > 0) /* our own limiter: not a failure */
            return reschedule(ctx, pk, 'p', ctx->now_ms + r.retry_after_ms, e);
        if (last)
            return mark_failed(ctx, &msg, r.error, e);
        return err_set(e, ERR_UPSTREAM, "%s", r.error);
    case CHANNEL_NEEDS_TEMPLATE:
        return mark_failed(ctx, &msg, m.use_template ? r.error : no_template, e);
    case CHANNEL_AUTH_FAILED:
        log_error("msg=\"messaging provider rejected our credentials\" provider=%s code=%d "
                  "tenant=%lld message=%lld",
                  provider->name, r.provider_code, (long long)ctx->tenant_id, (long long)pk);
        char code[24];
        snprintf(code, sizeof(code), "%d", r.provider_code);
        struct alert_spec spec = {.kind = kind_auth,
                                  .source = source,
                                  .code = code,
                                  .message = r.error[0] ? r.error : "credentials rejected"};
        rc = alerts_raise(ctx->conn, ctx->tenant_id, &spec, ctx->now_ms, NULL, e);
        if (rc)
            return rc;
        return err_set(e, ERR_UPSTREAM, "%s", r.error);
    case CHANNEL_PERMANENT_FAILURE:
    default:
        return mark_failed(ctx, &msg, r.error[0] ? r.error : "undeliverable", e);
    }
}

int notify_jobs_register_with(struct job_registry *reg, struct notify_delivery *d, struct err *e)
{
    if (!d || !d->provider)
        return err_set(e, ERR_INVALID, "delivery needs a provider");
    return job_registry_add(reg, NOTIFY_DELIVER_JOB, deliver, d, 0, e);
}

/* The process's delivery setup from the environment; made once, kept until exit. */
static struct notify_delivery env_delivery;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void env_setup(void)
{
    channel_config_from_env(&env_delivery.cfg);
    env_delivery.provider = channel_provider_new(&env_delivery.cfg);
    log_info("msg=\"messaging provider\" provider=%s rate_per_s=%d quiet_hours=\"%s\"",
             env_delivery.provider->name, env_delivery.cfg.rate_per_s,
             env_delivery.cfg.quiet_hours);
}

int notify_jobs_register(struct job_registry *reg, const unsigned char *secret_key,
                         int64_t default_tenant, struct err *e)
{
    pthread_once(&env_once, env_setup);
    env_delivery.secret_key = secret_key;
    env_delivery.default_tenant = default_tenant;
    return notify_jobs_register_with(reg, &env_delivery, e);
}
