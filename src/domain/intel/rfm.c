/* SPDX-License-Identifier: MIT */
/*
 * RFM (see rfm.h): each measure sorted once, scores read off with binary searches, segments
 * from the table. Pure. Tests: tests/unit/domain/test_intel_rfm.c.
 */
#include "domain/intel/rfm.h"
#include "core/xalloc.h"

#include <stdlib.h>

const char *const intel_rfm_segments[] = {
    "champions",       "cannot_lose",    "loyal",          "at_risk", "new",         "promising",
    "potential_loyal", "need_attention", "about_to_sleep", "lost",    "hibernating", NULL};

const char *intel_rfm_segment(int r, int f, int m)
{
    if (r >= 4 && f >= 4 && m >= 4)
        return "champions";
    if (r <= 2 && f >= 4 && m >= 4)
        return "cannot_lose";
    if (r >= 3 && f >= 4)
        return "loyal";
    if (r <= 2 && f >= 3)
        return "at_risk";
    if (r == 5 && f == 1)
        return "new";
    if (r == 4 && f == 1)
        return "promising";
    if (r >= 4 && f <= 3)
        return "potential_loyal";
    if (r == 3 && f == 3)
        return "need_attention";
    if (r == 3 && f <= 2)
        return "about_to_sleep";
    if (r == 1 && f == 1)
        return "lost";
    return "hibernating";
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* #{sorted values < v} */
static size_t below(const double *sorted, size_t n, double v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* #{sorted values > v} */
static size_t above(const double *sorted, size_t n, double v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return n - lo;
}

static int quintile(size_t better_than, size_t n)
{
    size_t s = 1 + (5 * better_than) / n;
    return s > 5 ? 5 : (int)s;
}

void intel_rfm_score(const struct intel_rfm_input *in, size_t n, struct intel_rfm_score *out)
{
    if (n == 0)
        return;
    double *r = xmalloc(n * sizeof(double)), *f = xmalloc(n * sizeof(double)),
           *m = xmalloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        r[i] = in[i].recency_days;
        f[i] = in[i].frequency;
        m[i] = in[i].monetary;
    }
    qsort(r, n, sizeof(double), cmp_double);
    qsort(f, n, sizeof(double), cmp_double);
    qsort(m, n, sizeof(double), cmp_double);
    for (size_t i = 0; i < n; i++) {
        out[i].r = quintile(above(r, n, in[i].recency_days), n);
        out[i].f = quintile(below(f, n, in[i].frequency), n);
        out[i].m = quintile(below(m, n, in[i].monetary), n);
        out[i].segment = intel_rfm_segment(out[i].r, out[i].f, out[i].m);
    }
    free(m);
    free(f);
    free(r);
}
