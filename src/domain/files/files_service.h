/* SPDX-License-Identifier: MIT */
/*
 * The operations on files: an upload streamed through the scan into a staged file and then into
 * storage, presigned uploads (S3: the bucket's own URL; a local directory: a signed link to this
 * server) and their completion, reading and deleting with the owner check, and removing a
 * tenant's objects. Storage calls never run inside a database transaction: an object is put
 * before its row is written, and removed after its row's deletion commits.
 * Tests: tests/unit/domain/test_files.c and tests/integration/0019-files.c.
 */
#ifndef ICESHOP_DOMAIN_FILES_SERVICE_H
#define ICESHOP_DOMAIN_FILES_SERVICE_H

#include "domain/files/files.h"
#include "net/storage.h"

/* Who is asking: the tenant, the credential's subject, and whether it is the tenant's admin. */
struct files_caller {
    int64_t tenant_id;
    const char *subject;
    bool admin;
};

/* One upload in progress. Lives in the request's arena; files_upload_abort cleans up. */
struct files_upload {
    struct storage *storage;
    struct files_scan scan;
    char path[STORAGE_PATH_MAX]; /* the staged file; "" once consumed or removed */
    int fd;                      /* -1 once closed */
    char name[FILES_NAME_MAX + 1];
    int64_t pending_id; /* a presigned local upload fills this pending row; 0 for a new file */
};

/*
 * Start an upload of at most `limit` bytes named `name` (sanitised here): stages a temporary
 * file. Register files_upload_abort on the request's arena right after, so an error or a
 * dropped connection leaves no temporary file. ERR_INTERNAL when staging fails.
 */
int files_upload_begin(struct files_upload *u, struct storage *st, const char *name, int64_t limit,
                       struct err *e);
/* The next bytes: scanned (limit, type) and written to the staged file. Errors: as the scan. */
int files_upload_write(struct files_upload *u, const void *p, size_t n, struct err *e);
/*
 * The upload is complete: finish the scan, put the object, and record the ready file for the
 * caller (or fill u->pending_id's row) in one transaction; the object is removed again when the
 * row cannot be written. *out gets the row (strings from `a`). Errors: the scan's, storage's,
 * the database's; ERR_NOT_FOUND / ERR_CONFLICT when the pending row went away meanwhile.
 */
int files_upload_commit(struct files_upload *u, struct db_conn *c, const struct files_caller *who,
                        int64_t now_ms, struct arena *a, struct files_file *out, struct err *e);
/* Close and remove the staged file if still there. Idempotent; for arena_defer. */
void files_upload_abort(void *upload);

/* What a presigned upload gives the client. */
struct files_presigned {
    struct files_file file; /* the pending row */
    const char *url;        /* PUT here, within FILES_PRESIGN_TTL_S */
    bool local;             /* true: `url` is this server's own path (prefix it with its base) */
};

/*
 * Reserve a pending file named `name` for the caller and give a URL to PUT its bytes to:
 * storage's presigned URL, or, for a local directory, "/api/files/uploads/<token>" where the
 * token (HS256 under a key derived from `link_key`) names the tenant and file and expires with
 * it. ERR_INVALID naming "name" when it is missing.
 */
int files_presign_upload(struct db_conn *c, struct storage *st, const unsigned char link_key[32],
                         const struct files_caller *who, const char *name, int64_t now_ms,
                         struct arena *a, struct files_presigned *out, struct err *e);
/*
 * The pending file a local upload link names, if the link is genuine and unexpired and the
 * file still pending: *tenant and *id. ERR_UNAUTHORIZED otherwise (the message says why).
 */
int files_upload_link_check(const unsigned char link_key[32], const char *token, int64_t now_ms,
                            struct arena *a, int64_t *tenant, int64_t *id, struct err *e);
/*
 * Check a presigned upload that went to storage directly: stream the object through the scan
 * (the tenant's limit, type, SHA-256) and mark the file ready; when the scan refuses it, the
 * object and the row are removed and the scan's error returned (413 / 415 / 400).
 * ERR_NOT_FOUND when the object never arrived (the row stays pending until it expires).
 */
int files_complete(struct db_conn *c, struct storage *st, const struct files_caller *who,
                   int64_t id, int64_t limit, struct arena *a, struct files_file *out,
                   struct err *e);

/* The caller's file `id`; ERR_NOT_FOUND (naming "id") for another tenant's or owner's. */
int files_get(struct db_conn *c, const struct files_caller *who, int64_t id, struct arena *a,
              struct files_file *out, struct err *e);
/* Delete the caller's file: the row, then (after commit) the object. ERR_NOT_FOUND as above. */
int files_delete(struct db_conn *c, struct storage *st, const struct files_caller *who, int64_t id,
                 struct err *e);
/* Remove every stored object of the tenant (before its rows are purged); errors are counted. */
int files_purge_objects(struct db_conn *c, struct storage *st, int64_t tenant, size_t *removed,
                        size_t *failed, struct err *e);

/*
 * Forget presigned uploads nobody completed: pending files whose link expired more than
 * FILES_SWEEP_GRACE_S before `now_ms` lose their object (if one was PUT) and then their row; a
 * file whose object cannot be removed keeps its row for the next sweep. At most
 * FILES_SWEEP_BATCH per call; *removed counts the rows removed.
 */
#define FILES_SWEEP_GRACE_S 3600
#define FILES_SWEEP_BATCH   200
int files_sweep_expired(struct db_conn *c, struct storage_tenants *ss, int64_t now_ms,
                        size_t *removed, struct err *e);

/*
 * The sweep as a periodic job (files.sweep, every 10 minutes); each file's object is removed
 * from its tenant's storage; `ss` must outlive the workers.
 */
#define FILES_JOB_SWEEP "files.sweep"
struct job_registry;
struct sched;
int files_jobs_register(struct job_registry *reg, struct storage_tenants *ss, struct err *e);
int files_jobs_schedule(struct sched *s, struct err *e);

#endif
