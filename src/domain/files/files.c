/* SPDX-License-Identifier: MIT */
/*
 * The pure rules of files (see files.h): magic-byte sniffing, name sanitising, the upload scan.
 * No I/O, no clock. Tests: tests/unit/domain/test_files.c.
 */
#include "domain/files/files.h"
#include "core/str.h"

#include <string.h>

static const struct files_kind kinds[] = {
    {"application/pdf", "PDF document", true},
    {"image/png", "PNG image", true},
    {"image/jpeg", "JPEG image", true},
    {"image/webp", "WebP image", true},
    {"application/x-msdownload", "Windows executable", false},
    {"application/x-executable", "ELF executable", false},
    {"application/x-mach-binary", "Mach-O executable", false},
    {"text/x-shellscript", "script", false},
    {"application/zip", "ZIP archive", false},
    {"image/gif", "GIF image", false},
    {"application/octet-stream", "unknown binary data", false},
};

enum { K_PDF, K_PNG, K_JPEG, K_WEBP, K_EXE, K_ELF, K_MACHO, K_SCRIPT, K_ZIP, K_GIF, K_UNKNOWN };

static bool starts(const unsigned char *p, size_t n, const void *magic, size_t len)
{
    return n >= len && memcmp(p, magic, len) == 0;
}

const struct files_kind *files_sniff(const void *data, size_t n)
{
    const unsigned char *p = data;
    if (starts(p, n, "%PDF-", 5))
        return &kinds[K_PDF];
    if (starts(p, n, "\x89PNG\r\n\x1a\n", 8))
        return &kinds[K_PNG];
    if (starts(p, n, "\xff\xd8\xff", 3))
        return &kinds[K_JPEG];
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return &kinds[K_WEBP];
    if (starts(p, n, "MZ", 2))
        return &kinds[K_EXE];
    if (starts(p, n,
               "\x7f"
               "ELF",
               4))
        return &kinds[K_ELF];
    if (starts(p, n, "\xcf\xfa\xed\xfe", 4) || starts(p, n, "\xce\xfa\xed\xfe", 4) ||
        starts(p, n, "\xfe\xed\xfa\xcf", 4) || starts(p, n, "\xfe\xed\xfa\xce", 4))
        return &kinds[K_MACHO];
    if (starts(p, n, "#!", 2))
        return &kinds[K_SCRIPT];
    if (starts(p, n, "PK\x03\x04", 4))
        return &kinds[K_ZIP];
    if (starts(p, n, "GIF87a", 6) || starts(p, n, "GIF89a", 6))
        return &kinds[K_GIF];
    return &kinds[K_UNKNOWN];
}

/* Length of the well-formed UTF-8 sequence at p (n bytes left), 0 when malformed. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t k = p[0] < 0x80             ? 1
               : (p[0] & 0xe0) == 0xc0 ? 2
               : (p[0] & 0xf0) == 0xe0 ? 3
               : (p[0] & 0xf8) == 0xf0 ? 4
                                       : 0;
    if (!k || k > n)
        return 0;
    return str_utf8_valid((const char *)p, k) ? k : 0;
}

static bool safe_ascii(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_' || c == ' ' || c == '(' || c == ')' || c == '+';
}

void files_name_sanitize(const char *in, char out[FILES_NAME_MAX + 1])
{
    const char *base = in ? in : "";
    for (const char *s = base; *s; s++) {
        if (*s == '/' || *s == '\\')
            base = s + 1;
    }
    /* one pass into a scratch buffer: safe bytes kept, everything else '_' */
    char tmp[4 * FILES_NAME_MAX + 8] = "";
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)base;
    size_t n = strlen(base);
    for (size_t i = 0; i < n && o + 4 < sizeof(tmp);) {
        size_t k = utf8_len(p + i, n - i);
        if (k > 1) {
            memcpy(tmp + o, p + i, k);
            o += k;
            i += k;
            continue;
        }
        tmp[o++] = (k == 1 && safe_ascii(p[i])) ? (char)p[i] : '_';
        i += k ? k : 1;
    }
    tmp[o] = '\0';
    /* no hidden files, no "..": drop leading dots and spaces; trailing ones too */
    char *s = tmp;
    while (*s == '.' || *s == ' ')
        s++;
    size_t len = strlen(s);
    while (len && (s[len - 1] == '.' || s[len - 1] == ' '))
        s[--len] = '\0';
    if (!len) {
        memcpy(out, "file", 5);
        return;
    }
    if (len <= FILES_NAME_MAX) {
        memcpy(out, s, len + 1);
        return;
    }
    /* too long: keep a short extension, cut the stem at a character boundary */
    const char *dot = strrchr(s, '.');
    size_t ext = dot && (size_t)(s + len - dot) <= 10 ? (size_t)(s + len - dot) : 0;
    size_t stem = FILES_NAME_MAX - ext;
    while (stem && ((unsigned char)s[stem] & 0xc0) == 0x80)
        stem--;
    memcpy(out, s, stem);
    memcpy(out + stem, s + len - ext, ext);
    out[stem + ext] = '\0';
}

void files_scan_init(struct files_scan *s, int64_t limit)
{
    memset(s, 0, sizeof(*s));
    s->limit = limit;
    sec_sha256_init(&s->sha);
}

static int decide(struct files_scan *s, struct err *e)
{
    s->kind = files_sniff(s->head, s->head_len);
    if (!s->kind->allowed)
        return err_set_field(e, ERR_UNSUPPORTED, "file",
                             "file type %s (%s) is not accepted; allowed: PDF, PNG, JPEG, WebP",
                             s->kind->label, s->kind->mime);
    return 0;
}

int files_scan_update(struct files_scan *s, const void *p, size_t n, struct err *e)
{
    if (s->size + (int64_t)n > s->limit)
        return err_set_field(e, ERR_TOO_LARGE, "file", "file exceeds the limit of %lld bytes",
                             (long long)s->limit);
    s->size += (int64_t)n;
    sec_sha256_update(&s->sha, p, n);
    if (!s->kind && s->head_len < FILES_SNIFF_LEN) {
        size_t take = FILES_SNIFF_LEN - s->head_len;
        if (take > n)
            take = n;
        memcpy(s->head + s->head_len, p, take);
        s->head_len += take;
        if (s->head_len == FILES_SNIFF_LEN)
            return decide(s, e);
    }
    return 0;
}

int files_scan_finish(struct files_scan *s, char sha256_hex[SEC_HEX_SIZE(SEC_SHA256_LEN)],
                      struct err *e)
{
    unsigned char d[SEC_SHA256_LEN];
    sec_sha256_final(&s->sha, d);
    sec_hex_encode(sha256_hex, SEC_HEX_SIZE(SEC_SHA256_LEN), d, sizeof(d), e);
    if (s->size == 0)
        return err_set_field(e, ERR_INVALID, "file", "file is empty");
    if (!s->kind)
        return decide(s, e);
    return 0;
}

const char *files_state_name(enum files_state st)
{
    return st == FILES_STATE_READY ? "ready" : "pending";
}

const char *files_storage_key(struct arena *a, int64_t tenant_id, const char *rand)
{
    return arena_printf(a, "t%lld/%s", (long long)tenant_id, rand);
}

bool files_is_internal(const struct files_file *f)
{
    return f->owner && strcmp(f->owner, FILES_OWNER_CERTIFICATES) == 0;
}

bool files_may_access(const struct files_file *f, const char *subject, bool is_admin)
{
    if (files_is_internal(f))
        return false;
    return is_admin || (subject && f->owner && strcmp(subject, f->owner) == 0);
}
