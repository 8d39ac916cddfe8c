/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for a language model's campaign answer (src/domain/intel/planner.h): any
 * bytes, read as the model's message content, parsed and checked as a personal campaign and as
 * company proposals. Aborts when an outcome is incoherent: a refusal that is not ERR_INVALID or
 * lacks a message or a field, or a parse that succeeds without an object. Built and run by
 * scripts/fuzz.sh; seeds in fuzz/corpus/fuzz_planner_answer/.
 */
#include "core/err.h"
#include "domain/intel/planner.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct planner_product products[] = {
    {"p_latte", "Latte", "c_coffee", 50.0, 10},
    {"p_simit", "Simit", "c_bakery", 15.0, 5},
};
static const struct planner_catalog catalog = {products, 2, PLANNER_MAX_DISCOUNT};

static void check_refusal(int rc, const struct err *e)
{
    if (rc && (rc != ERR_INVALID || e->code != ERR_INVALID || !e->msg[0] || !e->field[0]))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct intel_signals s;
    memset(&s, 0, sizeof(s));
    s.customer_id = "cu_1";
    s.avg_order_value = 90;
    json_t *j = NULL;
    struct err e;
    err_init(&e);
    int rc = planner_answer_parse(text, &j, &e);
    check_refusal(rc, &e);
    if (!rc) {
        if (!json_is_object(j))
            abort();
        err_init(&e);
        check_refusal(planner_personal_check(j, &s, &catalog, &e), &e);
        err_init(&e);
        check_refusal(planner_company_check(j, PLANNER_MAX_DISCOUNT, &e), &e);
    } else if (j) {
        abort();
    }
    json_decref(j);
    free(text);
    return 0;
}
