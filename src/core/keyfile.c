/* SPDX-License-Identifier: MIT */
/*
 * The key for secrets at rest: parse it from text, or read / create the key file (0600).
 * Tests: tests/unit/core/test_crypto.c.
 */
#include "core/keyfile.h"
#include "core/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Hex (64 digits) or base64 of exactly SEC_BOX_KEY_LEN bytes. */
static int parse_key(const char *text, size_t len, unsigned char key[SEC_BOX_KEY_LEN],
                     const char *what, struct err *e)
{
    unsigned char buf[SEC_B64_DECODED_MAX(128)];
    size_t n = 0;
    struct err ignored;
    err_init(&ignored);
    bool ok = false;
    if (len == SEC_BOX_KEY_LEN * 2)
        ok = !sec_hex_decode(buf, sizeof(buf), &n, text, len, &ignored) && n == SEC_BOX_KEY_LEN;
    if (!ok && len <= 128) {
        err_init(&ignored);
        ok = !sec_b64_decode(buf, sizeof(buf), &n, SEC_B64_STD, text, len, &ignored) &&
             n == SEC_BOX_KEY_LEN;
    }
    if (!ok && len <= 128) {
        err_init(&ignored);
        ok = !sec_b64_decode(buf, sizeof(buf), &n, SEC_B64_URL, text, len, &ignored) &&
             n == SEC_BOX_KEY_LEN;
    }
    if (ok)
        memcpy(key, buf, SEC_BOX_KEY_LEN);
    sec_wipe(buf, sizeof(buf));
    if (!ok)
        return err_set_field(e, ERR_INVALID, what,
                             "%s must be 64 hex digits or the base64 of 32 bytes", what);
    return 0;
}

static int create_key_file(const char *path, unsigned char key[SEC_BOX_KEY_LEN], struct err *e)
{
    sec_random_bytes(key, SEC_BOX_KEY_LEN);
    char text[SEC_B64_SIZE(SEC_BOX_KEY_LEN) + 1];
    int rc = sec_b64_encode(text, sizeof(text), SEC_B64_STD, key, SEC_BOX_KEY_LEN, e);
    if (rc)
        return rc;
    size_t len = strlen(text);
    text[len++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT) {
        /* "var/iceshop.key" on a fresh checkout: make the folder (only the last level) */
        char dir[512];
        snprintf(dir, sizeof(dir), "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = '\0';
            if (mkdir(dir, 0700) == 0 || errno == EEXIST)
                fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        }
    }
    if (fd < 0) {
        sec_wipe(text, sizeof(text));
        return err_set(e, ERR_INTERNAL, "cannot create key file %s: %s", path, strerror(errno));
    }
    ssize_t w = write(fd, text, len);
    int sync = fsync(fd);
    close(fd);
    sec_wipe(text, sizeof(text));
    if (w != (ssize_t)len || sync != 0) {
        unlink(path);
        return err_set(e, ERR_INTERNAL, "cannot write key file %s", path);
    }
    return 0;
}

int keyfile_load(const char *text, const char *path, unsigned char key[SEC_BOX_KEY_LEN],
                 bool *created, struct err *e)
{
    *created = false;
    if (text && *text)
        return parse_key(text, strlen(text), key, "ICESHOP_SECRET_KEY", e);
    if (!path || !*path)
        return err_set(e, ERR_INVALID, "no ICESHOP_SECRET_KEY and no key file path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        int rc = create_key_file(path, key, e);
        if (!rc)
            *created = true;
        /* two processes starting at once: the loser reads the winner's file */
        if (rc && access(path, F_OK) == 0) {
            err_init(e);
            return keyfile_load(NULL, path, key, created, e);
        }
        return rc;
    }
    if (fd < 0)
        return err_set(e, ERR_INTERNAL, "cannot open key file %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || (st.st_mode & 077)) {
        close(fd);
        return err_set(e, ERR_FORBIDDEN, "key file %s must not be readable by others (chmod 600)",
                       path);
    }
    char buf[256];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0) {
        sec_wipe(buf, sizeof(buf));
        return err_set(e, ERR_INTERNAL, "cannot read key file %s", path);
    }
    size_t len = (size_t)n;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
        len--;
    int rc = parse_key(buf, len, key, "key file", e);
    sec_wipe(buf, sizeof(buf));
    if (rc) {
        err_init(e);
        return err_set(e, ERR_INVALID, "key file %s must hold 64 hex digits or base64 of 32 bytes",
                       path);
    }
    return 0;
}

void keyfile_default_path(const char *database_url, char *out, size_t n)
{
    static const char scheme[] = "sqlite://";
    if (database_url && strncmp(database_url, scheme, sizeof(scheme) - 1) == 0) {
        const char *file = database_url + sizeof(scheme) - 1;
        size_t len = strcspn(file, "?");
        snprintf(out, n, "%.*s.key", (int)len, file);
        return;
    }
    snprintf(out, n, "var/iceshop.key");
}
