/* SPDX-License-Identifier: MIT */
/*
 * Files: what a tenant's people upload (PDF, PNG, JPEG, WebP). files.c holds the pure rules: the
 * type decided from the content's first bytes (never the name or the declared type), the name
 * made safe, and the scan an upload streams through (size limit, SHA-256, type). The rows live
 * in files_store.c, the operations in files_service.c, the bytes behind net/storage.h.
 * Tests: tests/unit/domain/test_files.c (rules and store, SQLite and PostgreSQL).
 */
#ifndef ICESHOP_DOMAIN_FILES_FILES_H
#define ICESHOP_DOMAIN_FILES_FILES_H

#include "core/arena.h"
#include "core/crypto.h"
#include "core/err.h"
#include "db/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FILES_DEFAULT_MAX_BYTES ((int64_t)10 * 1024 * 1024) /* per upload, unless configured */
#define FILES_NAME_MAX          128 /* bytes of a sanitised name, without the NUL */
#define FILES_SNIFF_LEN         12  /* bytes that decide the type (WebP needs 12) */
#define FILES_PRESIGN_TTL_S     600 /* presigned upload and download links live this long */
#define FILES_LIST_DEFAULT      50
#define FILES_LIST_MAX          200

/* A content type the sniffer knows. `allowed` says whether uploads of it are accepted. */
struct files_kind {
    const char *mime;  /* "application/pdf"; "application/octet-stream" when unknown */
    const char *label; /* what an error names: "PDF document", "Windows executable" */
    bool allowed;
};

/*
 * The kind of content starting with (p, n). Decides from magic bytes only: %PDF-, the PNG
 * signature, FF D8 FF, RIFF....WEBP are allowed; executables (MZ, ELF, Mach-O, "#!"), archives
 * and other known formats are named so a refusal can say what was sent. Never NULL.
 */
const struct files_kind *files_sniff(const void *p, size_t n);

/*
 * A name safe to store and to send back in Content-Disposition: the last path component only,
 * valid UTF-8 kept (Turkish letters), control characters, quotes, backslashes and other
 * punctuation replaced by '_', no leading dots or spaces, at most FILES_NAME_MAX bytes (cut at a
 * character boundary, the extension kept when it is short). "file" when nothing is left.
 * `out` needs FILES_NAME_MAX + 1 bytes.
 */
void files_name_sanitize(const char *in, char out[FILES_NAME_MAX + 1]);

/*
 * The scan one upload streams through: counts bytes against `limit`, hashes them and decides the
 * type as soon as FILES_SNIFF_LEN bytes (or the end) arrived. No I/O.
 */
struct files_scan {
    int64_t limit;
    int64_t size;
    struct sec_sha256_state sha;
    unsigned char head[FILES_SNIFF_LEN];
    size_t head_len;
    const struct files_kind *kind; /* NULL until decided */
};

void files_scan_init(struct files_scan *s, int64_t limit);
/*
 * Feed the next bytes. Returns 0; ERR_TOO_LARGE (field "file") once the total passes the limit;
 * ERR_UNSUPPORTED (field "file") when the first bytes are not an allowed type, naming the type
 * detected. After an error the scan must not be fed again.
 */
int files_scan_update(struct files_scan *s, const void *p, size_t n, struct err *e);
/*
 * The end of the content: decides the type of a short file and writes the SHA-256 as lowercase
 * hex. Returns 0; ERR_INVALID (field "file") for an empty file; ERR_UNSUPPORTED as above.
 */
int files_scan_finish(struct files_scan *s, char sha256_hex[SEC_HEX_SIZE(SEC_SHA256_LEN)],
                      struct err *e);

/* ---------------------------------------------------------------- rows */

enum files_state {
    FILES_STATE_PENDING = 0, /* presigned: waiting for the client's PUT and its completion */
    FILES_STATE_READY,       /* stored and checked */
};

struct files_file {
    int64_t id;
    int64_t tenant_id;
    const char *owner; /* the principal's subject: "key:12", "user:3", "admin-key" */
    const char *name;  /* sanitised */
    const char *mime;  /* detected; "" while pending */
    const char *sha256;
    const char *storage_key; /* the object's key in storage */
    int64_t size;
    enum files_state state;
    int64_t created_at;
    int64_t expires_at; /* pending rows: when the presigned upload stops being valid; else 0 */
};

const char *files_state_name(enum files_state s);

/*
 * The object key of a file: "t<tenant>/<random>" — never derived from the name, so nothing a
 * client sends reaches a storage path. `rand` is url-safe text from sec_random_id.
 */
const char *files_storage_key(struct arena *a, int64_t tenant_id, const char *rand);

/*
 * The owner of the files a module keeps for itself rather than for a person: a certificate's PDF.
 * The files API neither lists, reads nor deletes them (not even for an admin); the certificate
 * routes serve them. No principal's subject ("key:12", "user:3", "admin-key") takes this form.
 */
#define FILES_OWNER_CERTIFICATES "certificates"

/* True when `f` is kept by a module (FILES_OWNER_CERTIFICATES), not by a person. */
bool files_is_internal(const struct files_file *f);

/*
 * True when `who` (subject, admin or not) may read or delete `f` (already of their tenant)
 * through the files API: never an internal file.
 */
bool files_may_access(const struct files_file *f, const char *subject, bool is_admin);

/* ---------------------------------------------------------------- store (files_store.c) */

/*
 * Insert `f` (tenant, owner, name, mime, size, sha256, storage_key, state, created_at,
 * expires_at) and set *id. Joins the caller's transaction. ERR_CONFLICT on a duplicate key.
 */
int files_store_insert(struct db_conn *c, const struct files_file *f, int64_t *id, struct err *e);
/* The tenant's file `id` into *out (strings from `a`); ERR_NOT_FOUND naming "id" otherwise. */
int files_store_get(struct db_conn *c, int64_t tenant, int64_t id, struct arena *a,
                    struct files_file *out, struct err *e);
/*
 * A pending file becomes ready with what its scan found. ERR_CONFLICT when it is no longer
 * pending (completed twice, or deleted meanwhile).
 */
int files_store_mark_ready(struct db_conn *c, int64_t tenant, int64_t id, const char *mime,
                           int64_t size, const char *sha256, struct err *e);
/* Delete the row; ERR_NOT_FOUND naming "id" when it is not the tenant's. */
int files_store_delete(struct db_conn *c, int64_t tenant, int64_t id, struct err *e);
/*
 * The tenant's files, newest first, one page (ids below p->after); only `owner`'s when owner is
 * not NULL; never internal files (FILES_OWNER_CERTIFICATES). Rows and strings from `a`.
 */
int files_store_list(struct db_conn *c, int64_t tenant, const char *owner, const struct page *p,
                     struct arena *a, struct files_file **rows, size_t *n, struct err *e);
/*
 * Pending files of any tenant whose upload link expired before `before_ms`, oldest first, at
 * most `limit`. Rows and strings from `a`.
 */
int files_store_expired(struct db_conn *c, int64_t before_ms, int limit, struct arena *a,
                        struct files_file **rows, size_t *n, struct err *e);
/* Every storage key of the tenant's files (for purging its objects); strings from `a`. */
int files_store_keys(struct db_conn *c, int64_t tenant, struct arena *a, const char ***keys,
                     size_t *n, struct err *e);
/* The tenant's upload limit: its own, else `def`. */
int files_store_limit(struct db_conn *c, int64_t tenant, int64_t def, int64_t *out, struct err *e);
/* Set the tenant's upload limit (1..FILES_MAX_LIMIT); ERR_INVALID naming "max_bytes". */
int files_store_set_limit(struct db_conn *c, int64_t tenant, int64_t max_bytes, struct err *e);

#define FILES_MAX_LIMIT ((int64_t)1024 * 1024 * 1024) /* 1 GiB: the most a tenant may allow */

#endif
