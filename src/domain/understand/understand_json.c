/* SPDX-License-Identifier: MIT */
/* The JSON form of an understanding (see understand_json.h). */
#include "domain/understand/understand_json.h"

#include <math.h>

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

json_t *understanding_json(const struct understanding *u)
{
    return json_pack(
        "{s:s, s:f, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "intent",
        understand_intent_names[u->intent], "confidence", round(u->confidence * 100.0) / 100.0,
        "product", str_or_null(u->product), "category", str_or_null(u->category), "budget",
        u->budget ? json_integer(u->budget) : json_null(), "currency",
        str_or_null(u->budget ? u->currency : NULL), "quantity",
        u->quantity ? json_integer(u->quantity) : json_null(), "code", str_or_null(u->code),
        "choice", u->choice ? json_integer(u->choice) : json_null());
}
