/* `kazu run` on one machine: the manifest is the shard source and the record
 * sink of the supervisor; the closing summary. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "run_int.h"

static void run_log(kz_log_level level, const char *msg, void *user) {
    (void)user;
    fprintf(stderr, "kazu: %s: %s\n", level >= KZ_LOG_ERROR ? "error" : "warning", msg);
}

int run_load_pipeline(run_ctx *c) {
    kz_log_set_sink(run_log, NULL, KZ_LOG_ERROR);
    c->pipeline = cli_load_pipeline(c->o->config);
    return c->pipeline ? 0 : CLI_FATAL;
}

typedef struct local_src {
    run_ctx *c;
    run_manifest *m;
    size_t next;
    run_progress pr;
} local_src;

static int local_next(void *u, size_t *shard) {
    local_src *l = u;
    while (l->next < l->c->plan->n && l->c->plan->v[l->next].done) l->next++;
    if (l->next >= l->c->plan->n) return 0;
    *shard = l->next++;
    return 1;
}

static int local_record(void *u, const char *json) {
    local_src *l = u;
    return run_manifest_append(l->m, json);
}

static void local_tick(void *u, const run_stats *s, bool final) {
    local_src *l = u;
    run_progress_show(&l->pr, s, s->done_file_bytes, final);
}

int run_finish(const run_ctx *c, const run_stats *s, double seconds, size_t n_before, int code) {
    size_t left = 0, quarantined = 0;
    for (size_t i = 0; i < c->plan->n; i++) {
        left += !c->plan->v[i].done;
        quarantined += c->plan->v[i].skip.n;
    }
    if (code == CLI_OK && (left || s->shards_failed)) code = CLI_PARTIAL;
    if (code == CLI_OK && (quarantined || s->failed || s->rejected)) code = CLI_PARTIAL;
    if (c->o->quiet) return code;
    double el = seconds > 1e-6 ? seconds : 1e-6;
    fprintf(
        stderr,
        "kazu run: %llu shards done now, %zu before, %zu left; %llu documents read, %llu written, "
        "%llu failed processing, %llu quarantined, %llu records rejected; %llu sentences; %.2f s processing "
        "(%.1f docs/s, %.1f sentences/s, %.2f MB/s); %llu worker restarts; peak worker RSS %.1f MB "
        "(private %.1f MB)\n",
        (unsigned long long)s->shards_done, n_before, left, (unsigned long long)s->docs_done,
        (unsigned long long)s->written, (unsigned long long)s->failed, (unsigned long long)s->quarantined,
        (unsigned long long)s->rejected, (unsigned long long)s->sentences_done, seconds,
        (double)s->docs_done / el, (double)s->sentences_done / el, (double)s->bytes_done / el / 1e6,
        (unsigned long long)s->restarts, (double)s->peak_hwm_kb / 1024, (double)s->peak_private_kb / 1024);
    if (left)
        fprintf(stderr, "kazu run: %zu shard(s) not finished; run the same command again to resume\n", left);
    if (quarantined)
        fprintf(stderr, "kazu run: %zu quarantined document(s) in all, listed in %s/failures.jsonl\n",
                quarantined, c->o->outdir);
    return code;
}

int run_local_main(run_ctx *c) {
    double t0 = run_now();
    run_manifest m;
    int rc = run_manifest_open(&m, c->plan, c->o);
    if (rc) {
        run_manifest_close(&m);
        return rc;
    }
    size_t before = 0;
    for (size_t i = 0; i < c->plan->n; i++) before += c->plan->v[i].done;
    if (before < c->plan->n) rc = run_load_pipeline(c);
    double t_load = run_now() - t0;
    if (!rc && !c->o->quiet && before < c->plan->n)
        fprintf(stderr, "kazu run: pipeline loaded in %.2f s; %zu of %zu shards to do with %d worker(s)\n",
                t_load, c->plan->n - before, c->plan->n, c->o->workers);
    if (!rc) {
        local_src l = {0};
        l.c = c;
        l.m = &m;
        run_progress_init(&l.pr, c->o, c->plan);
        run_source src = {local_next, local_record, local_tick, &l};
        rc = run_supervise(c, &src);
    }
    if (rc != CLI_FATAL && run_write_failures(&m, c->plan, c->o)) {
        fprintf(stderr, "kazu run: %s/failures.jsonl: cannot write (%s)\n", c->o->outdir, strerror(errno));
        rc = CLI_FATAL;
    }
    run_manifest_close(&m);
    return run_finish(c, &c->stats, run_now() - t0 - t_load, before, rc);
}
