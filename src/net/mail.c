/* SPDX-License-Identifier: MIT */
/*
 * SMTP delivery with libcurl's smtp and mime APIs (the MIME structure, base64 of attachments,
 * dot-stuffing and STARTTLS are libcurl's). Tests: tests/unit/net/test_mail.c.
 */
#include "net/mail.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/xalloc.h"

#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool has_crlf(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}

static int check_address(const char *field, const char *a, struct err *e)
{
    if (!a || !*a || has_crlf(a) || !strchr(a, '@') || strlen(a) > 254)
        return err_set_field(e, ERR_INVALID, field, "%s is not an email address", field);
    return 0;
}

static int check_message(const struct mail_message *m, struct err *e)
{
    if (!m->n_to || m->n_to > MAIL_MAX_RECIPIENTS)
        return err_set_field(e, ERR_INVALID, "to", "between 1 and %d recipients",
                             MAIL_MAX_RECIPIENTS);
    int rc = check_address("from", m->from, e);
    for (size_t i = 0; !rc && i < m->n_to; i++)
        rc = check_address("to", m->to[i], e);
    if (!rc && (!m->subject || has_crlf(m->subject)))
        rc = err_set_field(e, ERR_INVALID, "subject", "subject is missing or holds a line break");
    if (!rc && !m->text)
        rc = err_set_field(e, ERR_INVALID, "text", "text is missing");
    if (!rc && m->n_attachments > MAIL_MAX_ATTACHMENTS)
        rc = err_set_field(e, ERR_INVALID, "attachments", "at most %d attachments",
                           MAIL_MAX_ATTACHMENTS);
    for (size_t i = 0; !rc && i < m->n_attachments; i++) {
        const struct mail_attachment *a = &m->attachments[i];
        size_t n = a->filename ? strlen(a->filename) : 0;
        bool ok = n >= 1 && n <= 100 && a->filename[0] != '.';
        for (size_t k = 0; ok && k < n; k++) {
            char c = a->filename[k];
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        }
        if (!ok)
            rc = err_set_field(e, ERR_INVALID, "attachments", "attachment %zu has a bad filename",
                               i);
        else if (a->len > MAIL_ATTACHMENT_MAX || (!a->data && a->len))
            rc = err_set_field(e, ERR_INVALID, "attachments", "attachment %s is too large",
                               a->filename);
        else if (!a->content_type || has_crlf(a->content_type))
            rc = err_set_field(e, ERR_INVALID, "attachments", "attachment %s has no content type",
                               a->filename);
    }
    return rc;
}

/* "Subject: ..." with RFC 2047 base64 when the subject is not plain ASCII. */
static char *subject_header(const char *subject)
{
    bool ascii = true;
    for (const char *p = subject; *p; p++)
        ascii &= (unsigned char)*p < 0x80;
    struct buf b;
    buf_init(&b, 4096);
    if (ascii) {
        buf_appendf(&b, "Subject: %s", subject);
    } else {
        size_t len = strlen(subject);
        char *enc = xmalloc(SEC_B64_SIZE(len));
        struct err ignored;
        err_init(&ignored);
        sec_b64_encode(enc, SEC_B64_SIZE(len), SEC_B64_STD, subject, len, &ignored);
        buf_appendf(&b, "Subject: =?UTF-8?B?%s?=", enc);
        free(enc);
    }
    return buf_detach(&b, NULL);
}

/* The address inside "Name <addr>", or the whole text. */
static char *bare_address(const char *s)
{
    const char *lt = strrchr(s, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    if (lt && gt && gt > lt + 1) {
        size_t n = (size_t)(gt - lt - 1);
        char *out = xmalloc(n + 1);
        memcpy(out, lt + 1, n);
        out[n] = '\0';
        return out;
    }
    return xstrdup(s);
}

static int add_part(curl_mime *mime, const char *data, size_t len, const char *type)
{
    curl_mimepart *p = curl_mime_addpart(mime);
    if (!p)
        return -1;
    CURLcode cc = curl_mime_data(p, data, len);
    if (cc == CURLE_OK)
        cc = curl_mime_type(p, type);
    if (cc == CURLE_OK)
        cc = curl_mime_encoder(p, "quoted-printable");
    return cc == CURLE_OK ? 0 : -1;
}

int mail_send(const struct mail_server *srv, const struct mail_message *m, bool *permanent,
              struct err *e)
{
    if (permanent)
        *permanent = false;
    if (!srv || !srv->url || (strncmp(srv->url, "smtp://", 7) && strncmp(srv->url, "smtps://", 8)))
        return err_set_field(e, ERR_INVALID, "url",
                             "the mail server URL must be smtp:// or smtps://");
    int rc = check_message(m, e);
    if (rc)
        return rc;
    CURL *c = curl_easy_init();
    if (!c)
        return err_set(e, ERR_INTERNAL, "cannot start libcurl");
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *rcpt = NULL, *hdrs = NULL;
    curl_mime *mime = curl_mime_init(c);
    char *from = bare_address(m->from);
    char *subj = subject_header(m->subject);
    char line[512];

    for (size_t i = 0; i < m->n_to; i++)
        rcpt = curl_slist_append(rcpt, m->to[i]);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(line, sizeof(line), "Date: %a, %d %b %Y %H:%M:%S +0000", &tm);
    hdrs = curl_slist_append(hdrs, line);
    snprintf(line, sizeof(line), "From: %s", m->from);
    hdrs = curl_slist_append(hdrs, line);
    struct buf to;
    buf_init(&to, 64 * 1024);
    buf_appendf(&to, "To: ");
    for (size_t i = 0; i < m->n_to; i++)
        buf_appendf(&to, "%s%s", i ? ", " : "", m->to[i]);
    char *to_line = buf_detach(&to, NULL);
    hdrs = curl_slist_append(hdrs, to_line);
    hdrs = curl_slist_append(hdrs, subj);
    if (m->message_id && !has_crlf(m->message_id)) {
        snprintf(line, sizeof(line), "Message-ID: %s", m->message_id);
        hdrs = curl_slist_append(hdrs, line);
    }

    /* text (and HTML) as multipart/alternative inside the mixed message */
    int bad = 0;
    if (m->html) {
        curl_mime *alt = curl_mime_init(c);
        bad |= add_part(alt, m->text, CURL_ZERO_TERMINATED, "text/plain; charset=utf-8");
        bad |= add_part(alt, m->html, CURL_ZERO_TERMINATED, "text/html; charset=utf-8");
        curl_mimepart *p = curl_mime_addpart(mime);
        bad |= !p || curl_mime_subparts(p, alt) != CURLE_OK;
        bad |= !p || curl_mime_type(p, "multipart/alternative") != CURLE_OK;
    } else {
        bad |= add_part(mime, m->text, CURL_ZERO_TERMINATED, "text/plain; charset=utf-8");
    }
    for (size_t i = 0; !bad && i < m->n_attachments; i++) {
        const struct mail_attachment *a = &m->attachments[i];
        curl_mimepart *p = curl_mime_addpart(mime);
        bad |= !p || curl_mime_data(p, a->data, a->len) != CURLE_OK;
        bad |= !p || curl_mime_type(p, a->content_type) != CURLE_OK;
        bad |= !p || curl_mime_filename(p, a->filename) != CURLE_OK;
        bad |= !p || curl_mime_encoder(p, "base64") != CURLE_OK;
    }

    CURLcode cc = CURLE_OK;
    cc |= curl_easy_setopt(c, CURLOPT_URL, srv->url);
    cc |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    cc |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    cc |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, srv->timeout_ms > 0 ? srv->timeout_ms : 30000L);
    cc |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
#if LIBCURL_VERSION_NUM >= 0x075500
    cc |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
    cc |= curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
    cc |= curl_easy_setopt(c, CURLOPT_USE_SSL,
                           srv->require_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
    if (srv->username && *srv->username) {
        cc |= curl_easy_setopt(c, CURLOPT_USERNAME, srv->username);
        cc |= curl_easy_setopt(c, CURLOPT_PASSWORD, srv->password ? srv->password : "");
    }
    cc |= curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    cc |= curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    cc |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    cc |= curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    if (cc != CURLE_OK || bad) {
        rc = err_set(e, ERR_INTERNAL, "cannot set up the mail transfer");
        goto out;
    }
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        long reply = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
        if (permanent)
            *permanent = reply >= 500 && reply < 600;
        rc = err_set(e, cc == CURLE_OPERATION_TIMEDOUT ? ERR_TIMEOUT : ERR_UPSTREAM,
                     "smtp: %s (reply %ld)", errbuf[0] ? errbuf : curl_easy_strerror(cc), reply);
    }
out:
    curl_mime_free(mime);
    curl_slist_free_all(rcpt);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    free(from);
    free(subj);
    free(to_line);
    return rc;
}
