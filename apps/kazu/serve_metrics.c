/* Prometheus metrics of `kazu serve`: requests by route and status, latency
 * histograms, documents (and docs/s over the last 10 s), per-step counters
 * from the pipeline, queue and process gauges. Lock-free counters. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "serve.h"

const char *const serve_route_names[R_COUNT] = {
    "/",
    "asset",
    "/api",
    "/health",
    "/ready",
    "/metrics",
    "/openapi.json",
    "/api/steps",
    "/api/step_groups",
    "/api/kazu/ner_and_linking",
    "/api/kazu/ner_only",
    "/api/kazu/linking_only",
    "/api/kazu/custom_pipeline_steps",
    "/api/kazu/{step_group}",
    "/api/kazu",
    "/api/kazu/batch",
    "/api/kazu/ls-annotations",
    "not_found",
};

static const int k_codes[] = {200, 400, 401, 404, 405, 413, 422, 500, 503, 504};
#define N_CODES (sizeof k_codes / sizeof *k_codes)
static const double k_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                   0.25,  0.5,    1,     2.5,  5,     10,   30};
#define N_BUCKETS (sizeof k_buckets / sizeof *k_buckets)

static _Atomic uint64_t g_req[R_COUNT][N_CODES + 1]; /* last column: other codes */
static _Atomic uint64_t g_hist[R_COUNT][N_BUCKETS + 1];
static _Atomic uint64_t g_sum_us[R_COUNT];
static _Atomic uint64_t g_docs, g_docs_failed, g_queue_full, g_timeouts, g_draining_refused;
/* Documents finished per second, in a ring of 16 one-second slots. */
static _Atomic uint64_t g_ring[16], g_ring_sec[16];

static uint64_t now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec;
}

void serve_metrics_request(int route, int status, double seconds) {
    if (route < 0 || route >= R_COUNT) route = R_NOT_FOUND;
    size_t c = N_CODES;
    for (size_t i = 0; i < N_CODES; i++)
        if (k_codes[i] == status) c = i;
    atomic_fetch_add(&g_req[route][c], 1);
    size_t b = 0;
    while (b < N_BUCKETS && seconds > k_buckets[b]) b++;
    atomic_fetch_add(&g_hist[route][b], 1);
    atomic_fetch_add(&g_sum_us[route], (uint64_t)(seconds * 1e6));
}

void serve_metrics_docs(uint64_t docs, uint64_t failed) {
    atomic_fetch_add(&g_docs, docs);
    atomic_fetch_add(&g_docs_failed, failed);
    uint64_t s = now_sec(), slot = s % 16;
    uint64_t old = atomic_load(&g_ring_sec[slot]);
    if (old != s && atomic_compare_exchange_strong(&g_ring_sec[slot], &old, s))
        atomic_store(&g_ring[slot], 0);
    atomic_fetch_add(&g_ring[slot], docs);
}

void serve_metrics_event(const char *what) {
    if (!strcmp(what, "queue_full"))
        atomic_fetch_add(&g_queue_full, 1);
    else if (!strcmp(what, "timeout"))
        atomic_fetch_add(&g_timeouts, 1);
    else if (!strcmp(what, "draining"))
        atomic_fetch_add(&g_draining_refused, 1);
}

static double docs_per_second(void) {
    uint64_t s = now_sec(), total = 0;
    /* The 10 complete seconds before this one. */
    for (uint64_t k = 1; k <= 10; k++) {
        uint64_t slot = (s - k) % 16;
        if (atomic_load(&g_ring_sec[slot]) == s - k) total += atomic_load(&g_ring[slot]);
    }
    return (double)total / 10.0;
}

static long rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    fclose(f);
    return rss * sysconf(_SC_PAGESIZE);
}

/* Prometheus label value: escape \ " and newline. */
static void label(sbuf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') sb_put(b, "\\", 1);
        if (*s == '\n') {
            sb_puts(b, "\\n");
            continue;
        }
        sb_put(b, s, 1);
    }
}

void serve_metrics_render(sbuf *b, const kz_pipeline *p, int inflight, int queued) {
    sb_puts(b, "# HELP kazu_http_requests_total HTTP requests by route and status code.\n"
               "# TYPE kazu_http_requests_total counter\n");
    for (int r = 0; r < R_COUNT; r++)
        for (size_t c = 0; c <= N_CODES; c++) {
            uint64_t v = atomic_load(&g_req[r][c]);
            if (!v) continue;
            if (c < N_CODES)
                sb_printf(b, "kazu_http_requests_total{route=\"%s\",code=\"%d\"} %lu\n", serve_route_names[r],
                          k_codes[c], (unsigned long)v);
            else
                sb_printf(b, "kazu_http_requests_total{route=\"%s\",code=\"other\"} %lu\n",
                          serve_route_names[r], (unsigned long)v);
        }
    sb_puts(b,
            "# HELP kazu_http_request_duration_seconds Request latency (receipt of the body to response).\n"
            "# TYPE kazu_http_request_duration_seconds histogram\n");
    for (int r = 0; r < R_COUNT; r++) {
        uint64_t cum = 0, all = 0;
        for (size_t k = 0; k <= N_BUCKETS; k++) all += atomic_load(&g_hist[r][k]);
        if (!all) continue;
        for (size_t k = 0; k < N_BUCKETS; k++) {
            cum += atomic_load(&g_hist[r][k]);
            sb_printf(b, "kazu_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lu\n",
                      serve_route_names[r], k_buckets[k], (unsigned long)cum);
        }
        sb_printf(b, "kazu_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lu\n",
                  serve_route_names[r], (unsigned long)all);
        sb_printf(b, "kazu_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", serve_route_names[r],
                  (double)atomic_load(&g_sum_us[r]) / 1e6);
        sb_printf(b, "kazu_http_request_duration_seconds_count{route=\"%s\"} %lu\n", serve_route_names[r],
                  (unsigned long)all);
    }
    sb_printf(b,
              "# HELP kazu_documents_total Documents processed by the pipeline.\n"
              "# TYPE kazu_documents_total counter\nkazu_documents_total %lu\n"
              "# HELP kazu_documents_failed_total Documents returned with PROCESSING_EXCEPTION.\n"
              "# TYPE kazu_documents_failed_total counter\nkazu_documents_failed_total %lu\n"
              "# HELP kazu_documents_per_second Documents finished per second over the last 10 s.\n"
              "# TYPE kazu_documents_per_second gauge\nkazu_documents_per_second %.1f\n",
              (unsigned long)atomic_load(&g_docs), (unsigned long)atomic_load(&g_docs_failed),
              docs_per_second());
    sb_printf(b,
              "# HELP kazu_rejected_total Requests refused before processing.\n"
              "# TYPE kazu_rejected_total counter\n"
              "kazu_rejected_total{reason=\"queue_full\"} %lu\n"
              "kazu_rejected_total{reason=\"draining\"} %lu\n"
              "# HELP kazu_timeouts_total Requests answered 504 (pipeline cancelled).\n"
              "# TYPE kazu_timeouts_total counter\nkazu_timeouts_total %lu\n",
              (unsigned long)atomic_load(&g_queue_full), (unsigned long)atomic_load(&g_draining_refused),
              (unsigned long)atomic_load(&g_timeouts));
    sb_printf(b,
              "# HELP kazu_inflight_requests Pipeline requests queued or running.\n"
              "# TYPE kazu_inflight_requests gauge\nkazu_inflight_requests %d\n"
              "# HELP kazu_queue_depth Pipeline requests waiting for a worker.\n"
              "# TYPE kazu_queue_depth gauge\nkazu_queue_depth %d\n"
              "# HELP kazu_process_resident_memory_bytes Resident set size.\n"
              "# TYPE kazu_process_resident_memory_bytes gauge\nkazu_process_resident_memory_bytes %ld\n",
              inflight, queued, rss_bytes());
    sb_puts(b, "# HELP kazu_step_documents_total Documents passed to each step.\n"
               "# TYPE kazu_step_documents_total counter\n");
    size_t ns = kz_pipeline_n_steps(p);
    kz_step_stats st;
    for (size_t i = 0; i < ns; i++)
        if (!kz_pipeline_stats(p, i, &st)) {
            sb_puts(b, "kazu_step_documents_total{step=\"");
            label(b, st.name);
            sb_printf(b, "\"} %lu\n", (unsigned long)st.docs);
        }
    sb_puts(b, "# HELP kazu_step_failures_total Documents each step marked failed.\n"
               "# TYPE kazu_step_failures_total counter\n");
    for (size_t i = 0; i < ns; i++)
        if (!kz_pipeline_stats(p, i, &st)) {
            sb_puts(b, "kazu_step_failures_total{step=\"");
            label(b, st.name);
            sb_printf(b, "\"} %lu\n", (unsigned long)st.failures);
        }
    sb_puts(b, "# HELP kazu_step_seconds_total Wall time inside each step.\n"
               "# TYPE kazu_step_seconds_total counter\n");
    for (size_t i = 0; i < ns; i++)
        if (!kz_pipeline_stats(p, i, &st)) {
            sb_puts(b, "kazu_step_seconds_total{step=\"");
            label(b, st.name);
            sb_printf(b, "\"} %.6f\n", (double)st.total_ns / 1e9);
        }
    sb_printf(b,
              "# HELP kazu_skipped_documents_total Documents refused by skip_doc_len.\n"
              "# TYPE kazu_skipped_documents_total counter\nkazu_skipped_documents_total %lu\n",
              (unsigned long)kz_pipeline_skipped_docs(p));
}
