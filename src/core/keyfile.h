/* SPDX-License-Identifier: MIT */
/*
 * The server's key for secrets at rest (SEC_BOX_KEY_LEN bytes): from ICESHOP_SECRET_KEY, or
 * from a key file that is created on first start with mode 0600. The key never goes into the
 * database it protects. Pure file and text handling; no globals.
 * Tests: tests/unit/core/test_crypto.c.
 */
#ifndef ICESHOP_CORE_KEYFILE_H
#define ICESHOP_CORE_KEYFILE_H

#include "core/crypto.h"
#include "core/err.h"

#include <stdbool.h>

/*
 * Load the key into `key`. When `text` is non-empty it is the key: 64 hex digits or the
 * base64 (standard or url-safe) of 32 bytes; anything else is ERR_INVALID naming
 * ICESHOP_SECRET_KEY. Otherwise the key is read from `path` (the same text, one line); when
 * the file does not exist a fresh random key is written there with mode 0600 and *created is
 * set. A file readable by others is refused (ERR_FORBIDDEN), as ssh refuses such keys.
 */
int keyfile_load(const char *text, const char *path, unsigned char key[SEC_BOX_KEY_LEN],
                 bool *created, struct err *e);

/*
 * The default key file for a database URL: next to a SQLite file ("sqlite://var/x.db" →
 * "var/x.db.key"), else "var/iceshop.key". Written into out (n bytes).
 */
void keyfile_default_path(const char *database_url, char *out, size_t n);

#endif
