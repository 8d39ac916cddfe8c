/* SPDX-License-Identifier: MIT */
/*
 * The platform's own job handlers and periodic tasks, wired by main.c: pruning of old finished
 * jobs (daily at 03:30 UTC) and, only when ICESHOP_TEST_JOBS=1, the test.* handlers the
 * integration tests drive (test.ok, test.tick every second, test.fail, test.flaky, test.switch
 * which fails until the setting "test.switch" is "on", and test.record which counts its runs in
 * `settings` inside its own transaction). Sits above jobs/ and sched/, which it both uses.
 * Tests: tests/integration/0003-jobs.c.
 */
#ifndef ICESHOP_PLATFORM_TASKS_H
#define ICESHOP_PLATFORM_TASKS_H

#include "core/config.h"
#include "core/err.h"
#include "jobs/worker.h"
#include "sched/sched.h"

int platform_tasks_register(struct job_registry *reg, struct config *cfg, struct err *e);
int platform_tasks_schedule(struct sched *s, const struct config *cfg, struct err *e);

#endif
