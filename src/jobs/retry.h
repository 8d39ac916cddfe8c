/* SPDX-License-Identifier: MIT */
/*
 * Retry delay for failed jobs: a pure function (no clock, no random source of its own), so
 * the worker and the tests agree on it exactly. Tests: tests/unit/jobs/test_jobs.c.
 */
#ifndef ICESHOP_JOBS_RETRY_H
#define ICESHOP_JOBS_RETRY_H

#include <stdint.h>

/*
 * Delay before retrying after failed attempt number `attempt` (1 = the first run failed),
 * exponential with "equal jitter", capped:
 *
 *     d     = min(cap_ms, base_ms * 2^(attempt - 1))
 *     delay = d - d/2 + (rnd % (d/2 + 1))        which lies in [d - d/2, d]
 *
 * `rnd` is any 32-bit random value supplied by the caller. Because the lower bound for attempt
 * n+1 equals the upper bound for attempt n (until the cap), delays never shrink as attempts
 * grow, while jitter still spreads retries of jobs that failed together.
 * attempt < 1 counts as 1; base_ms <= 0 gives 0; cap_ms < base_ms caps at cap_ms (>= 0).
 */
int64_t job_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint32_t rnd);

#endif
