/* SPDX-License-Identifier: MIT */
/*
 * Integration-test support: fresh databases (SQLite file or a new PostgreSQL database), the real
 * iceshop binary started on a free loopback port, and an HTTP client that returns status,
 * headers and parsed JSON. Backend from TEST_BACKEND=sqlite|pg (pg needs TEST_PG_DSN); binary
 * from ICESHOP_BIN (default build/debug/iceshop).
 */
#ifndef ICESHOP_TESTS_HARNESS_H
#define ICESHOP_TESTS_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define HARNESS_ADMIN_KEY "test-admin-key-0123456789abcdef"

struct server {
    pid_t pid;
    int port;
    char base[64]; /* http://127.0.0.1:PORT */
    char db_url[512];
    char log_path[256]; /* the server's stderr */
};

struct resp {
    long status;
    char *body; /* NUL-terminated; freed by resp_free */
    size_t len;
    json_t *json; /* parsed body or NULL */
    char headers[8192];
};

/* "sqlite" or "pg". */
const char *harness_backend(void);
/* True when the selected backend can run here (pg needs TEST_PG_DSN); prints why not. */
bool harness_backend_available(void);
/* A URL for a brand-new empty database of the selected backend. */
void harness_fresh_db(char *url, size_t n);
/* A free TCP port on 127.0.0.1. */
int harness_free_port(void);

/*
 * Start `iceshop serve` on db_url with ICESHOP_ADMIN_KEY=HARNESS_ADMIN_KEY, test jobs on, and
 * `extra_env` ("NAME=value" strings, NULL-terminated, may be NULL). Waits for /health on
 * s->base (127.0.0.1). HARNESS_LISTEN_HOST=[::] in extra_env listens on that host instead, on
 * the same port (a dual-stack address, so 127.0.0.1 still answers).
 * Returns 0, or -1 (with the server's log printed) when it did not come up.
 */
int server_start(struct server *s, const char *db_url, const char *const *extra_env);
/* SIGTERM and wait; returns the exit status (or -1). */
int server_stop(struct server *s);
/* SIGKILL and reap. */
void server_kill(struct server *s);
/* Whether the server's log contains `needle`. */
bool server_log_contains(const struct server *s, const char *needle);

/*
 * One HTTP request. `auth` is the bearer credential or NULL; `body` may be NULL; extra_headers
 * is NULL-terminated "Name: value" or NULL. Returns 0 when a response arrived.
 */
int http_req(const struct server *s, const char *method, const char *path, const char *auth,
             const char *content_type, const char *body, size_t body_len,
             const char *const *extra_headers, struct resp *out);
/* Shorthands with the admin key and JSON content type. */
int http_get(const struct server *s, const char *path, const char *auth, struct resp *out);
int http_post_json(const struct server *s, const char *path, const char *auth, const char *json,
                   struct resp *out);
void resp_free(struct resp *r);
/* Value of response header `name` (case-insensitive) copied into out; false when absent. */
bool resp_header(const struct resp *r, const char *name, char *out, size_t n);
/* The error code string of a JSON error reply, or "". */
const char *resp_error_code(const struct resp *r);
const char *resp_error_field(const struct resp *r);

/* Run a command through the shell; returns its exit status. Output goes to `out` if not NULL. */
int harness_sh(const char *cmd, char *out, size_t n);
/* Milliseconds sleep. */
void harness_sleep_ms(int ms);

/*
 * Waiting for the server without betting on how fast a loaded machine is. A deadline is
 * `timeout_ms` from now on the monotonic clock, times TEST_TIME_SCALE when set (e.g. 3 on a
 * slow machine); WAIT_FOR re-evaluates `cond` every 50 ms until it holds or the deadline
 * passes. The caller then asserts `cond` (or what it implies), so a timeout fails the test
 * with the real state rather than hanging:
 *     WAIT_FOR(job_state_is(&s, id, "done"), 20000);
 *     assert_true(job_state_is(&s, id, "done"));
 */
long long harness_deadline(int timeout_ms);
bool harness_before(long long deadline);
#define WAIT_FOR(cond, timeout_ms)                                                                 \
    for (long long wait_until_ = harness_deadline(timeout_ms);                                     \
         !(cond) && harness_before(wait_until_);)                                                  \
    harness_sleep_ms(50)

/*
 * Bring a SCHEDULED window's start to now, as if its lead time had passed: its start and its
 * activation job's run time are set to the current time in the database, so the server's
 * workers activate it on their next poll. Lets a test create a window well ahead, act before
 * the start (pre-commits), and then start it without racing the wall clock.
 */
void harness_window_start_now(const char *db_url, long long window_id);


/* Turn the periodic flash scan off for the server's tenant (PUT scan_interval_s 0); 0 or -1. */
int harness_manual_scans(const struct server *s);

/* Direct database access for assertions and setup, through the project's db API. */
/* First column of the first row as an integer (0 when no row); aborts on error. */
long long harness_db_i64(const char *db_url, const char *sql);
void harness_db_exec(const char *db_url, const char *sql);
/* Run the iceshop binary with ICESHOP_DATABASE_URL=db_url and `args`; stdout into out. */
int harness_cli(const char *db_url, const char *args, char *out, size_t n);

/*
 * A Cloud API webhook with one text message from `from` (digits, as Meta writes them) with id
 * `id`, signed with `app_secret` and posted to /api/whatsapp/webhook; returns the HTTP status.
 */
long harness_meta_text(const struct server *s, const char *app_secret, const char *from,
                       const char *id, const char *text);

/*
 * POST `body` to `path` (/api/webhooks/stripe or an alias) signed as Stripe signs: the header
 * Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256 under `secret` of "<ts>.<body>">, at `ts` (Unix
 * seconds; 0 = now). The answer goes to *r (resp_free it). Returns http_req's result.
 */
int harness_stripe_post(const struct server *s, const char *path, const char *secret, long long ts,
                        const char *body, struct resp *r);
#endif
