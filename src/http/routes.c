/* SPDX-License-Identifier: MIT */
/*
 * THE route table. Each row: method, path pattern, handler, the least role that may call it
 * (ROLE_NONE = public), the largest body accepted (0 = none), flags. The router, auth, limits,
 * metrics and the API docs all read from here. Tests: tests/unit/http/test_routes.c.
 */
#include "http/routes.h"
#include "http/handlers.h"

#define KB 1024

const struct http_route http_routes[] = {
    /* observability */
    {"GET", "/health", h_health, ROLE_NONE, 0, 0},
    {"GET", "/health/detailed", h_health_detailed, ROLE_NONE, 0, 0},
    {"GET", "/metrics", h_metrics, ROLE_NONE, 0, 0},
    {"GET", "/api/events", h_events, ROLE_VIEWER, 0, HTTP_SSE},

    /* access */
    {"POST", "/api/auth/login", h_login, ROLE_NONE, 4 * KB, HTTP_BODY_JSON},
    {"GET", "/api/me", h_me, ROLE_VIEWER, 0, 0},
    {"GET", "/api/keys", h_keys_list, ROLE_ADMIN, 0, 0},
    {"POST", "/api/keys", h_keys_create, ROLE_ADMIN, 4 * KB, HTTP_BODY_JSON},
    {"DELETE", "/api/keys/{id}", h_keys_revoke, ROLE_ADMIN, 0, 0},
    {"GET", "/api/users", h_users_list, ROLE_ADMIN, 0, 0},
    {"POST", "/api/users", h_users_create, ROLE_ADMIN, 4 * KB, HTTP_BODY_JSON},

    /* durable jobs */
    {"GET", "/api/jobs", h_jobs_list, ROLE_VIEWER, 0, 0},
    {"POST", "/api/jobs", h_jobs_create, ROLE_ADMIN, 64 * KB, HTTP_BODY_JSON},
    {"GET", "/api/jobs/{id}", h_jobs_get, ROLE_VIEWER, 0, 0},
    {"POST", "/api/jobs/{id}/retry", h_jobs_retry, ROLE_OPERATOR, 0, 0},
};

const size_t http_routes_count = sizeof(http_routes) / sizeof(http_routes[0]);
