/* SPDX-License-Identifier: MIT */
/*
 * What was understood, as JSON: the one shape shared by POST /api/chat/understand and
 * `iceshop understand`: {"intent","confidence","product","category","budget","currency",
 * "quantity","code","choice"}, empty entities as null. Tests: tests/integration/0005-whatsapp.c.
 */
#ifndef ICESHOP_DOMAIN_UNDERSTAND_UNDERSTAND_JSON_H
#define ICESHOP_DOMAIN_UNDERSTAND_UNDERSTAND_JSON_H

#include "domain/understand/understand.h"

#include <jansson.h>

/* A new reference; the caller owns it. */
json_t *understanding_json(const struct understanding *u);

#endif
