/* SPDX-License-Identifier: MIT */
/* THE route table (routes.c): every endpoint, its role and its body limit, in one place. */
#ifndef ICESHOP_HTTP_ROUTES_H
#define ICESHOP_HTTP_ROUTES_H

#include "http/router.h"

#include <stddef.h>

extern const struct http_route http_routes[];
extern const size_t http_routes_count;

#endif
