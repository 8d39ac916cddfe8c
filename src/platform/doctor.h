/* SPDX-License-Identifier: MIT */
/*
 * `iceshop doctor`: what is wrong with this installation and how to fix it, before serving.
 * Checks the ICESHOP_* variables (unknown names, with the known one they resemble; values
 * config_load or the server would refuse), the database (reachable, migrations pending or from
 * a newer binary), the secrets each configured provider needs and the secret key, free disk
 * space where the database lives, and the clock (plausible, not behind the database's rows or
 * PostgreSQL's clock). Reads only: never migrates, never creates the database or the key file.
 * Tests: tests/unit/platform/test_doctor.c, tests/integration/0017-ops.c.
 */
#ifndef ICESHOP_PLATFORM_DOCTOR_H
#define ICESHOP_PLATFORM_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum doctor_level { DOCTOR_OK = 0, DOCTOR_WARN, DOCTOR_FAIL };

#define DOCTOR_MAX_ITEMS 64

struct doctor_item {
    enum doctor_level level;
    char area[16]; /* "config", "database", "secrets", "disk", "clock" */
    char msg[600]; /* what was found and, for a problem, what to do */
};

struct doctor_report {
    struct doctor_item items[DOCTOR_MAX_ITEMS];
    size_t n;
    int fails, warns;
};

struct doctor_options {
    char *const *envp;       /* the environment to check (NAME=value, NULL-terminated) */
    int64_t now_ms;          /* the clock to judge */
    uint64_t min_free_bytes; /* less free space than this where the database lives: a failure */
};

/*
 * Every ICESHOP_* variable the binary, scripts/run.sh or the test runner reads; an entry ending
 * in '_' is a prefix (ICESHOP_WHATSAPP_TEMPLATE_<KIND>). tests/unit/platform/test_doctor.c
 * fails when src/ or README.md names one that is missing here. NULL-terminated.
 */
extern const char *const doctor_known_vars[];
bool doctor_var_known(const char *name);

/*
 * Run every check with the configuration the environment gives (config_load reads the process
 * environment: o->envp is what is scanned for unknown names). Fills `r`; never fails itself.
 */
void doctor_run(const struct doctor_options *o, struct doctor_report *r);

#endif
