/* SPDX-License-Identifier: MIT */
/*
 * Every HTTP handler, referenced from the route table in routes.c. Handlers stay thin: decode
 * and validate, call the module, reply. Tests: tests/integration/.
 */
#ifndef ICESHOP_HTTP_HANDLERS_H
#define ICESHOP_HTTP_HANDLERS_H

#include "http/request.h"

/* api_system.c: liveness, detailed health, Prometheus metrics */
int h_health(struct http_req *r, struct err *e);
int h_health_detailed(struct http_req *r, struct err *e);
int h_metrics(struct http_req *r, struct err *e);
int h_events(struct http_req *r, struct err *e);

/* api_accounts.c: login, who am I, API keys, users */
int h_login(struct http_req *r, struct err *e);
int h_me(struct http_req *r, struct err *e);
int h_keys_list(struct http_req *r, struct err *e);
int h_keys_create(struct http_req *r, struct err *e);
int h_keys_revoke(struct http_req *r, struct err *e);
int h_users_list(struct http_req *r, struct err *e);
int h_users_create(struct http_req *r, struct err *e);

/* api_jobs.c: the durable job queue */
int h_jobs_list(struct http_req *r, struct err *e);
int h_jobs_get(struct http_req *r, struct err *e);
int h_jobs_create(struct http_req *r, struct err *e);
int h_jobs_retry(struct http_req *r, struct err *e);


#endif
