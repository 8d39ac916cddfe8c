/* SPDX-License-Identifier: MIT */
/*
 * The platform's own job handlers and periodic tasks: pruning of old finished jobs (daily), and,
 * only when ICESHOP_TEST_JOBS=1, the test.* handlers the integration tests drive (deliberate
 * failures, flaky jobs, recorded runs for exactly-once checks, a periodic tick).
 * Tests: tests/integration/0003-jobs.c.
 */
#ifndef ICESHOP_JOBS_BUILTIN_H
#define ICESHOP_JOBS_BUILTIN_H

#include "core/config.h"
#include "core/err.h"
#include "jobs/worker.h"
#include "sched/sched.h"

int jobs_builtin_register(struct job_registry *reg, struct config *cfg, struct err *e);
int jobs_builtin_schedule(struct sched *s, const struct config *cfg, struct err *e);

#endif
