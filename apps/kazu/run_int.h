/* `kazu run` internals: shard plan, manifest, worker processes, supervisor,
 * MPI coordination. See docs/run.md for the behaviour and the formats. */
#ifndef KAZU_RUN_INT_H
#define KAZU_RUN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cli.h"

/* Options of one run (cmd_run.c fills it). */
typedef struct run_opts {
    kz_format in_fmt, out_fmt;
    const char *outdir;
    const char *config; /* NULL = built-in pipeline */
    int workers;
    size_t batch_size;     /* 0 = the pipeline's */
    double doc_timeout;    /* seconds per document; 0 = none */
    int64_t rss_limit_kb;  /* private (dirty) memory per worker; 0 = none */
    int max_attempts;      /* worker failures per shard before the shard is given up */
    double progress_every; /* seconds between log lines when stderr is no TTY */
    bool lines, omit_candidates, no_ascii, quiet, mpi;
} run_opts;

/* Growable list of document indices within a shard. */
typedef struct run_idx {
    uint32_t *v;
    size_t n, cap;
} run_idx;
int run_idx_add(run_idx *l, uint32_t x); /* keeps it sorted and unique; -1 on OOM */
bool run_idx_has(const run_idx *l, uint32_t x);
void run_idx_free(run_idx *l);

/* One input file = one shard = one output file. */
typedef struct run_shard {
    char *in;   /* input path as expanded */
    char *name; /* output file name inside outdir */
    int64_t size;
    bool done;
    run_idx skip; /* quarantined documents (never processed again) */
    run_idx solo; /* suspects: processed one at a time */
    int attempts;
} run_shard;

typedef struct run_plan {
    run_shard *v;
    size_t n;
    int64_t total_bytes;
} run_plan;

/* Expand files, directories (regular files, sorted, hidden skipped) and
 * globs; name the outputs. Prints the reason and returns CLI_USAGE/CLI_FATAL
 * on failure, 0 on success. */
int run_plan_build(run_plan *p, char **inputs, int n, const run_opts *o);
void run_plan_free(run_plan *p);
/* Shard by input path, or NULL. */
run_shard *run_plan_find(run_plan *p, const char *in);
const char *run_out_ext(kz_format f);

/* The append-only manifest: <outdir>/kazu-run.manifest.jsonl. */
typedef struct run_manifest {
    int fd;
    char *path;
} run_manifest;
/* Open (create) under an exclusive lock, drop a torn last line, apply done
 * and quarantine records to the plan, check the start record against o.
 * Prints the reason and returns CLI_FATAL/CLI_USAGE on failure. */
int run_manifest_open(run_manifest *m, run_plan *p, const run_opts *o);
/* Append one JSON object (no newline) and fsync. 0 or -1 (errno). */
int run_manifest_append(run_manifest *m, const char *json);
/* The parsing half of run_manifest_open, over text buf (modified; NUL-
 * terminated). name for messages. Returns 0 or CLI_USAGE/CLI_FATAL. */
int run_manifest_apply(run_plan *p, const run_opts *o, char *buf, const char *name, bool *have_start);
void run_manifest_close(run_manifest *m);
/* Rewrite <outdir>/failures.jsonl (atomically) from the manifest's
 * quarantine records, in shard and document order. */
int run_write_failures(const run_manifest *m, const run_plan *p, const run_opts *o);

/* Counters, summed over workers (and ranks). */
typedef struct run_stats {
    uint64_t docs, sentences, bytes; /* live, retried work included (progress) */
    uint64_t written, failed, rejected, quarantined;
    uint64_t shards_done, shards_failed, restarts;
    int64_t peak_hwm_kb, peak_private_kb;           /* per worker, max over workers */
    int64_t done_file_bytes;                        /* input bytes of the shards finished */
    uint64_t docs_done, sentences_done, bytes_done; /* of the shards finished */
} run_stats;

/* Where a supervisor gets shards and sends its records. */
typedef struct run_source {
    /* 1: *shard is the next shard to do (its skip list up to date); 0: none left. */
    int (*next)(void *u, size_t *shard);
    /* A manifest record (JSON object text, no newline). Returns 0 or -1. */
    int (*record)(void *u, const char *json);
    /* Called often with the supervisor's totals so far. */
    void (*tick)(void *u, const run_stats *s, bool final);
    void *u;
} run_source;

typedef struct run_ctx {
    const run_opts *o;
    run_plan *plan;
    kz_pipeline *pipeline;
    run_stats stats;
} run_ctx;

/* Run shards from src with o->workers forked workers until src has none
 * left. Returns CLI_OK, CLI_PARTIAL (some shard given up) or CLI_FATAL. */
int run_supervise(run_ctx *c, const run_source *src);

/* The worker side (run_worker.c): serve tasks read from fd_in, reporting on
 * fd_out; never returns. */
void run_worker_main(run_ctx *c, int fd_in, int fd_out) __attribute__((noreturn));

/* Private dirty memory and peak RSS of a process (pid 0 = self), in kB; -1 if unknown. */
int64_t run_private_kb(int pid);
int64_t run_hwm_kb(int pid);
double run_now(void);

/* Progress display (run_progress.c). */
typedef struct run_progress {
    double t0, last;
    bool tty, quiet;
    double every;
    int64_t total_bytes;
    size_t total_shards;
    bool drawn;
} run_progress;
void run_progress_init(run_progress *pr, const run_opts *o, const run_plan *p);
void run_progress_show(run_progress *pr, const run_stats *s, int64_t bytes_done_files, bool final);

/* One machine: manifest, pipeline, supervisor (run_local.c). Exit code. */
int run_local_main(run_ctx *c);
/* Load the pipeline into c->pipeline (before any fork). 0 or CLI_FATAL. */
int run_load_pipeline(run_ctx *c);
/* The closing summary line(s) and the exit code for these totals. */
int run_finish(const run_ctx *c, const run_stats *s, double seconds, size_t n_before, int code);

/* MPI mode (run_mpi.c): exit code. */
int run_mpi_main(run_ctx *c, int *argc, char ***argv);

#endif
