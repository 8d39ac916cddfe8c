/* SPDX-License-Identifier: MIT */
/*
 * A real S3-compatible server for integration tests, with every signature checked. s3rver (npm,
 * installed into tests/s3/node_modules by scripts/deps.sh) runs in a child process and stores
 * the objects; it checks only that the access key exists, not AWS Signature V4, so the tests
 * talk to it through a proxy in this process that recomputes the SigV4 signature of every
 * request that arrives (Authorization header, or presigned query), checks a signed payload's
 * SHA-256 against the body, refuses expired links, and only then forwards the request.
 * Two accounts, each confined to its own bucket: the server's (S3_TEST_*) and a tenant's
 * (S3_TEST_*_B); a request signed with one account's key for the other's bucket is refused.
 */
#ifndef ICESHOP_TESTS_S3_SERVER_H
#define ICESHOP_TESTS_S3_SERVER_H

#include <stdatomic.h>
#include <sys/types.h>

#define S3_TEST_BUCKET       "iceshop"
#define S3_TEST_ACCESS_KEY   "S3RVER" /* s3rver's built-in account */
#define S3_TEST_SECRET_KEY   "S3RVER"
#define S3_TEST_BUCKET_B     "tenant-b-files"
#define S3_TEST_ACCESS_KEY_B "TENANTBKEY"
#define S3_TEST_SECRET_KEY_B "tenant-b-secret-7f3a9c"

struct s3_server {
    pid_t pid; /* s3rver */
    int s3rver_port;
    int port;               /* the verifying proxy: what clients and the server use */
    char url[256];          /* ICESHOP_STORAGE_URL for the server */
    char url_b[256];        /* the second account's bucket, same endpoint */
    char dir[512];          /* s3rver's data directory */
    void *daemon;           /* the proxy */
    _Atomic int verified;   /* requests whose signature matched */
    _Atomic int rejected;   /* requests refused (bad, missing or expired signature) */
    char last_reject[1024]; /* why the last one was refused */
};

/* Start both; 0, or -1 with the reason printed (s3rver missing: run scripts/deps.sh test). */
int s3_server_start(struct s3_server *s);
void s3_server_stop(struct s3_server *s);
/* How many objects s3rver holds in the test bucket (files in its data directory). */
int s3_server_object_count(const struct s3_server *s);
/* The same for any bucket (S3_TEST_BUCKET_B). */
int s3_server_bucket_count(const struct s3_server *s, const char *bucket);

#endif
