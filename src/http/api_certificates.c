/* SPDX-License-Identifier: MIT */
/*
 * Certificates over HTTP: request one for a paid order, read it, list the caller's, download
 * its PDF, revoke it; the public verification page (HTML, or JSON) and the published signing
 * keys. Thin: the rules live in domain/certificates. Tests: tests/integration/0024-certificates.c.
 */
#include "core/clock.h"
#include "core/money.h"
#include "core/str.h"
#include "domain/account/account.h"
#include "domain/certificates/certificates_service.h"
#include "http/handlers.h"
#include "net/storage.h"

#include <stdio.h>
#include <string.h>

static int64_t now_ms(struct http_req *r)
{
    return clock_now_ms(r->app->clock);
}

static json_t *cert_json(struct http_req *r, const struct cert *c)
{
    char amount[64] = "";
    struct money m;
    struct err e;
    err_init(&e);
    if (!money_from_minor(c->amount, c->currency, &m, &e))
        money_format(&m, amount, sizeof(amount), &e);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s*, s:o, s:o, s:o, s:s*, s:s*, s:s*, s:s*, "
        "s:o, s:s*}",
        "id", c->id, "order_id", c->order_id, "status", cert_status_name(c->status), "issuer",
        c->issuer, "owner_name", c->owner_name, "place", c->place, "amount", amount, "currency",
        c->currency, "owner_email", c->owner_email, "issued_at", http_json_time(c->issued_at),
        "expires_at", http_json_time(c->expires_at), "revoked_at", http_json_time(c->revoked_at),
        "revoke_reason", c->revoke_reason, "file_key", c->file_key, "kid", c->kid, "signature",
        c->signature, "created_at", http_json_time(c->created_at), "error", c->error);
    json_object_set_new(o, "revoked", json_boolean(cert_is_revoked(c)));
    if (c->status == CERT_READY) {
        json_object_set_new(
            o, "download_url",
            json_string(arena_printf(&r->arena, "/api/certificates/%s/download", c->id)));
        json_object_set_new(o, "verify_url",
                            json_string(cert_verify_url(&r->arena, r->app->cfg.public_url, c)));
    } else {
        json_object_set_new(o, "download_url", json_null());
        json_object_set_new(o, "verify_url", json_null());
    }
    return o;
}

/* The caller's certificate `{id}` of its tenant; ERR_NOT_FOUND naming "id" otherwise. */
static int get_own(struct http_req *r, struct db_conn *c, struct cert *out, struct err *e)
{
    const char *id = http_req_param(r, "id");
    bool found = false;
    int rc = cert_store_get(c, r->who.tenant_id, id, 0, &r->arena, out, &found, e);
    if (!rc && !found)
        rc = err_set_field(e, ERR_NOT_FOUND, "id", "no certificate %s in this tenant", id);
    return rc;
}

int h_certificates_request(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"owner_name", NULL};
    const char *owner = NULL;
    int rc = 0;
    if (r->json) {
        rc = json_reject_unknown(r->json, "", fields, e);
        if (!rc)
            rc = json_get_strn(r->json, "owner_name", false, CERT_OWNER_MAX, &owner, e);
    }
    struct db_conn *c;
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (rc)
        return rc;
    struct cert out;
    bool created = false;
    rc = cert_request(c, r->who.tenant_id, http_req_param(r, "id"), 0, owner, r->who.subject,
                      now_ms(r), &r->arena, &out, &created, e);
    if (rc)
        return rc;
    return http_reply_json(r, created ? 202 : 200, cert_json(r, &out));
}

int h_certificates_get(struct http_req *r, struct err *e)
{
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    struct cert out;
    if (!rc)
        rc = get_own(r, c, &out, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, cert_json(r, &out));
}

int h_certificates_mine(struct http_req *r, struct err *e)
{
    struct page p;
    int rc = http_req_page(r, CERT_LIST_DEFAULT, CERT_LIST_MAX, &p, e);
    struct db_conn *c;
    if (!rc)
        rc = http_req_db(r, &c, e);
    if (rc)
        return rc;
    const char *email = NULL;
    if (r->who.user_id)
        rc = account_user_email(c, r->who.tenant_id, r->who.user_id, &r->arena, &email, e);
    struct cert *rows = NULL;
    size_t n = 0;
    /* a key or a user without an address is no customer: nothing is theirs */
    if (!rc && email && *email)
        rc = cert_store_list(c, r->who.tenant_id, email, &p, &r->arena, &rows, &n, e);
    if (rc)
        return rc;
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, cert_json(r, &rows[i]));
    return http_reply_json(r, 200,
                           http_page_body("certificates", items, &p, n, n ? rows[n - 1].pk : 0));
}

int h_certificates_download(struct http_req *r, struct err *e)
{
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    struct cert ce;
    if (!rc)
        rc = get_own(r, c, &ce, e);
    if (rc)
        return rc;
    if (ce.status != CERT_READY)
        return err_set_field(e, ERR_CONFLICT, "id", "certificate %s is %s, not ready yet", ce.id,
                             cert_status_name(ce.status));
    if (!ce.file_key)
        return err_set_field(e, ERR_NOT_FOUND, "id",
                             "the PDF of certificate %s was removed (its owner was erased)", ce.id);
    int fd = -1;
    int64_t size = 0;
    struct storage *st = NULL;
    rc = http_req_storage(r, r->who.tenant_id, &st, e);
    if (!rc)
        rc = storage_open_read(st, ce.file_key, &fd, &size, e);
    if (rc == ERR_NOT_IMPLEMENTED) {
        err_init(e);
        struct buf url;
        buf_init(&url, 8192);
        rc = storage_presign(st, "GET", ce.file_key, now_ms(r) / 1000, 600, &url, e);
        if (!rc) {
            http_reply_header(r, "Location", buf_str(&url));
            rc = http_reply_json(r, 302, json_pack("{s:s}", "url", buf_str(&url)));
        }
        buf_release(&url);
        return rc;
    }
    if (rc == ERR_NOT_FOUND)
        return err_set_field(e, ERR_NOT_FOUND, "id", "the PDF of certificate %s is missing", ce.id);
    if (rc)
        return rc;
    http_reply_header(r, "Content-Disposition",
                      arena_printf(&r->arena, "attachment; filename=\"sertifika-%s.pdf\"", ce.id));
    return http_reply_file(r, 200, "application/pdf", fd, size);
}

int h_certificates_revoke(struct http_req *r, struct err *e)
{
    static const char *const fields[] = {"reason", NULL};
    const char *reason = NULL;
    int rc = 0;
    if (r->json) {
        rc = json_reject_unknown(r->json, "", fields, e);
        if (!rc)
            rc = json_get_strn(r->json, "reason", false, 200, &reason, e);
    }
    struct db_conn *c;
    if (!rc)
        rc = http_req_db(r, &c, e);
    struct cert out;
    if (!rc)
        rc = cert_revoke(c, r->who.tenant_id, http_req_param(r, "id"), reason, now_ms(r), &r->arena,
                         &out, e);
    if (rc)
        return rc;
    return http_reply_json(r, 200, cert_json(r, &out));
}

/* ---------------------------------------------------------------- public */

static void html_text(struct buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            buf_appends(b, "&lt;");
            break;
        case '>':
            buf_appends(b, "&gt;");
            break;
        case '&':
            buf_appends(b, "&amp;");
            break;
        case '"':
            buf_appends(b, "&quot;");
            break;
        case '\'':
            buf_appends(b, "&#39;");
            break;
        default:
            buf_append(b, s, 1);
        }
    }
}

static void row(struct buf *b, const char *label, const char *value)
{
    buf_appends(b, "<tr><th>");
    buf_appends(b, label);
    buf_appends(b, "</th><td>");
    html_text(b, value);
    buf_appends(b, "</td></tr>");
}

int h_verify_page(struct http_req *r, struct err *e)
{
    const char *id = http_req_param(r, "id");
    const char *sig = http_req_query(r, "s");
    bool json = http_req_wants_json(r);
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    struct cert ce;
    enum cert_verdict v = CERT_VERDICT_FORGED;
    if (!rc)
        rc = cert_verify(c, id, sig, now_ms(r), &r->arena, &ce, &v, e);
    if (rc && rc != ERR_NOT_FOUND)
        return rc;
    bool found = !rc;
    if (json) {
        if (!found)
            return rc;
        /* only what the certificate states, and only once it was issued */
        json_t *o = json_pack("{s:s, s:s}", "id", ce.id, "status", cert_verdict_name(v));
        if (ce.status == CERT_READY && v != CERT_VERDICT_FORGED) {
            char amount[64] = "";
            struct money m;
            struct err e2;
            err_init(&e2);
            if (!money_from_minor(ce.amount, ce.currency, &m, &e2))
                money_format(&m, amount, sizeof(amount), &e2);
            json_object_set_new(o, "issuer", json_string(ce.issuer));
            json_object_set_new(o, "order_id", json_string(ce.order_id));
            json_object_set_new(o, "owner_name", json_string(ce.owner_name));
            json_object_set_new(o, "place", json_string(ce.place));
            json_object_set_new(o, "amount", json_string(amount));
            json_object_set_new(o, "currency", json_string(ce.currency));
            json_object_set_new(o, "issued_at", http_json_time(ce.issued_at));
            json_object_set_new(o, "expires_at", http_json_time(ce.expires_at));
            json_object_set_new(o, "revoked_at", http_json_time(ce.revoked_at));
            json_object_set_new(o, "kid", json_string(ce.kid ? ce.kid : ""));
            json_object_set_new(o, "signature", json_string(ce.signature ? ce.signature : ""));
            json_object_set_new(o, "alg", json_string("Ed25519"));
        }
        return http_reply_json(r, 200, o);
    }
    static const char *const titles[] = {"Geçersiz · Not genuine", "İptal edildi · Revoked",
                                         "Süresi doldu · Expired", "Geçerli · Valid",
                                         "Henüz düzenlenmedi · Not issued yet"};
    static const char *const colours[] = {"#b42318", "#b54708", "#6b7280", "#067647", "#6b7280"};
    struct buf b;
    buf_init(&b, 64 * 1024);
    buf_appends(&b, "<!doctype html><html lang=\"tr\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    "<title>Sertifika doğrulama · Certificate verification</title><style>"
                    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;"
                    "padding:0 1rem;color:#1f2328}h1{font-size:1.3rem}.v{padding:1rem;"
                    "border-radius:.5rem;color:#fff;font-weight:600;font-size:1.2rem}"
                    "th{text-align:left;color:#57606a;font-weight:400;padding:.3rem 1rem .3rem 0}"
                    "td{padding:.3rem 0}</style></head><body>"
                    "<h1>Sertifika doğrulama · Certificate verification</h1>");
    int status = 200;
    if (!found) {
        status = 404;
        buf_appends(&b, "<p class=\"v\" style=\"background:#b42318\">Bulunamadı · Not found</p>"
                        "<p>Bu adreste bir sertifika yok. There is no certificate here.</p>");
    } else {
        buf_appendf(
            &b, "<p class=\"v\" id=\"verdict\" data-status=\"%s\" style=\"background:%s\">%s</p>",
            cert_verdict_name(v), colours[v], titles[v]);
        if (ce.status == CERT_READY && v != CERT_VERDICT_FORGED) {
            char issued[64], expires[64], amount[64] = "";
            cert_date_tr(ce.issued_at, issued, sizeof(issued));
            cert_date_tr(ce.expires_at, expires, sizeof(expires));
            struct money m;
            struct err e2;
            err_init(&e2);
            if (!money_from_minor(ce.amount, ce.currency, &m, &e2))
                money_format(&m, amount, sizeof(amount), &e2);
            buf_appends(&b, "<table>");
            row(&b, "Sertifika · Certificate", ce.id);
            row(&b, "Düzenleyen · Issuer", ce.issuer);
            row(&b, "Sahibi · Owner", ce.owner_name);
            if (*ce.place)
                row(&b, "Yer · Place", ce.place);
            row(&b, "Sipariş · Order", ce.order_id);
            row(&b, "Tutar · Amount", arena_printf(&r->arena, "%s %s", amount, ce.currency));
            row(&b, "Düzenlenme · Issued", issued);
            row(&b, "Geçerlilik · Valid until", expires);
            row(&b, "Anahtar · Key", ce.kid);
            buf_appends(&b, "</table>");
        } else {
            buf_appends(&b, "<p>İmza bu sertifikayla eşleşmiyor. The signature does not match "
                            "this certificate.</p>");
        }
    }
    buf_appends(&b, "<p><small>Ed25519 · <a href=\"/.well-known/iceshop-certificate-keys\">"
                    "keys</a></small></p></body></html>");
    http_reply_header(r, "Cache-Control", "no-store");
    rc = http_reply_bytes(r, status, "text/html; charset=utf-8", b.data ? b.data : "", b.len);
    buf_release(&b);
    return rc;
}

int h_certificate_keys(struct http_req *r, struct err *e)
{
    struct db_conn *c;
    int rc = http_req_db(r, &c, e);
    struct cert_key *keys = NULL;
    size_t n = 0;
    if (!rc)
        rc = cert_store_keys_all(c, &r->arena, &keys, &n, e);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "kid", keys[i].kid,
                                        "alg", "Ed25519", "kty", "OKP", "crv", "Ed25519",
                                        "public_key", keys[i].public_key, "x", keys[i].public_key,
                                        "created", http_json_time(keys[i].created_at)));
    http_reply_header(r, "Cache-Control", "public, max-age=300");
    return http_reply_json(r, 200, json_pack("{s:o}", "keys", arr));
}
