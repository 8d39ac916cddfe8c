/* SPDX-License-Identifier: MIT */
/*
 * Exponential backoff with equal jitter for job retries (formula in retry.h).
 * Pure; no I/O. Tests: tests/unit/jobs/test_jobs.c.
 */
#include "jobs/retry.h"

int64_t job_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint32_t rnd)
{
    if (base_ms <= 0)
        return 0;
    if (cap_ms < 0)
        cap_ms = 0;
    if (attempt < 1)
        attempt = 1;
    /* Double until the cap, stopping early so the product never overflows. */
    int64_t d = base_ms;
    for (int i = 1; i < attempt && d < cap_ms; i++) {
        if (d > INT64_MAX / 2) {
            d = cap_ms;
            break;
        }
        d *= 2;
    }
    if (d > cap_ms)
        d = cap_ms;
    int64_t half = d / 2;
    return d - half + (int64_t)(rnd % (uint64_t)(half + 1));
}
