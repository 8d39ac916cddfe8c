/* SPDX-License-Identifier: MIT */
/*
 * Injectable clock. Code that needs "now" takes a `struct clock *` (or a `now` value) so tests
 * can drive time. Times are int64 milliseconds since the Unix epoch, UTC.
 * Tests: tests/unit/core/test_core.c.
 */
#ifndef ICESHOP_CORE_CLOCK_H
#define ICESHOP_CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

struct clock {
    int64_t (*now_ms)(struct clock *c);
    int64_t fixed_ms; /* used by the manual clock */
};

/* The process-wide real clock. */
struct clock *clock_system(void);
/* A manual clock starting at `start_ms`; advance it with clock_manual_advance(). */
void clock_manual_init(struct clock *c, int64_t start_ms);
void clock_manual_advance(struct clock *c, int64_t delta_ms);

int64_t clock_now_ms(struct clock *c);
/* Monotonic milliseconds, for measuring durations only. */
int64_t clock_mono_ms(void);
/* Monotonic nanoseconds, for latency measurement. */
int64_t clock_mono_ns(void);

/* "2026-11-21T09:10:00.123Z" into out (at least 25 bytes). */
#define CLOCK_ISO_LEN 25
void clock_format_iso(int64_t ms, char out[CLOCK_ISO_LEN]);
/*
 * Parse an ISO-8601 / RFC 3339 UTC-or-offset time ("2026-11-21T09:10:00Z",
 * "2026-11-21 09:10:00.5+03", "2026-11-21T09:10:00.123+00:00") into ms. 0 or ERR_INVALID.
 */
int clock_parse_iso(const char *s, int64_t *out_ms);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, day 1..31). Pure. */
int64_t clock_days_from_civil(int64_t y, int m, int d);

#endif
