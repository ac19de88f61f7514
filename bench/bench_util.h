/* Helpers shared by the benchmarks (bench/bench_*.c): fatal errors, clocks,
 * sorting doubles, peak RSS. Header-only (static inline) so each bench stays
 * one translation unit. */
#ifndef KZ_BENCH_UTIL_H
#define KZ_BENCH_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Print "<program>: message" on stderr and exit 1. */
static inline void __attribute__((format(printf, 1, 2), noreturn)) die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", program_invocation_short_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static inline double bench_clock(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
/* Wall time, and CPU time of this thread (the "per core" figure that holds on a busy machine). */
static inline double wall_s(void) { return bench_clock(CLOCK_MONOTONIC); }
static inline double thread_cpu_s(void) { return bench_clock(CLOCK_THREAD_CPUTIME_ID); }

static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v in place; the upper median for even n, 0 for n = 0. */
static inline double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n ? v[n / 2] : 0;
}

/* VmHWM of this process in KiB, or -1. */
static inline long peak_rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld", &v) == 1) break;
    if (f) fclose(f);
    return v;
}

#endif
