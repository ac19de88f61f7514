/* `kazu run --mpi`: rank 0 owns the manifest and hands out shards one at a
 * time to whichever rank asks; every other rank runs a local supervisor over
 * the shards it is given and sends back its manifest records and totals.
 * MPI itself lives in kazu_run_mpi.so, dlopened here, so that commands other
 * than `kazu run --mpi` never load it. */
#include <dlfcn.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "run_int.h"
#include "run_mpi.h"

enum { TAG_REQ = 1, TAG_TASK, TAG_END, TAG_REC, TAG_STATS, TAG_FAIL, TAG_BYE };

static const run_mpi_ops *load_module(void) {
    char path[PATH_MAX + 32];
    const char *env = getenv("KAZU_MPI_MODULE");
    if (env && *env) {
        snprintf(path, sizeof path, "%s", env);
    } else {
        ssize_t n = readlink("/proc/self/exe", path, PATH_MAX);
        if (n <= 0) return NULL;
        path[n] = 0;
        char *slash = strrchr(path, '/');
        snprintf(slash ? slash + 1 : path, 32, "kazu_run_mpi.so");
    }
    /* RTLD_GLOBAL: Open MPI's own plugins resolve symbols of libmpi. */
    void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
        fprintf(stderr, "kazu run: --mpi needs %s: %s\n", path, dlerror());
        return NULL;
    }
    run_mpi_entry_fn fn = (run_mpi_entry_fn)dlsym(h, RUN_MPI_ENTRY);
    const run_mpi_ops *ops = fn ? fn() : NULL;
    if (!ops || ops->abi != RUN_MPI_ABI) {
        fprintf(stderr, "kazu run: %s: not a kazu MPI module of this version\n", path);
        return NULL;
    }
    return ops;
}

#define N_STATS 16
static void stats_arr(const run_stats *s, long long *a) {
    const long long v[N_STATS] = {(long long)s->docs,
                                  (long long)s->sentences,
                                  (long long)s->bytes,
                                  (long long)s->written,
                                  (long long)s->failed,
                                  (long long)s->rejected,
                                  (long long)s->quarantined,
                                  (long long)s->shards_done,
                                  (long long)s->shards_failed,
                                  (long long)s->restarts,
                                  s->peak_hwm_kb,
                                  s->peak_private_kb,
                                  s->done_file_bytes,
                                  (long long)s->docs_done,
                                  (long long)s->sentences_done,
                                  (long long)s->bytes_done};
    memcpy(a, v, sizeof v);
}

static void stats_fmt(char *b, size_t n, const run_stats *s) {
    long long a[N_STATS];
    stats_arr(s, a);
    size_t off = 0;
    for (int i = 0; i < N_STATS && off < n; i++)
        off += (size_t)snprintf(b + off, n - off, "%s%lld", i ? " " : "", a[i]);
}

static void stats_parse(const char *b, run_stats *s) {
    long long a[N_STATS] = {0};
    char *end;
    for (int i = 0; i < N_STATS; i++) {
        a[i] = strtoll(b, &end, 10);
        if (end == b) break;
        b = end;
    }
    *s = (run_stats){(uint64_t)a[0], (uint64_t)a[1],  (uint64_t)a[2],  (uint64_t)a[3],
                     (uint64_t)a[4], (uint64_t)a[5],  (uint64_t)a[6],  (uint64_t)a[7],
                     (uint64_t)a[8], (uint64_t)a[9],  a[10],           a[11],
                     a[12],          (uint64_t)a[13], (uint64_t)a[14], (uint64_t)a[15]};
}

/* ---- rank 0 -------------------------------------------------------------------- */
static int coordinate(run_ctx *c, const run_mpi_ops *mpi, int size) {
    double t0 = run_now();
    run_manifest m;
    int rc = run_manifest_open(&m, c->plan, c->o);
    if (rc) {
        run_manifest_close(&m);
        return rc; /* the caller aborts the job */
    }
    size_t before = 0;
    for (size_t i = 0; i < c->plan->n; i++) before += c->plan->v[i].done;
    run_stats *per = calloc((size_t)size, sizeof *per);
    if (!per) return CLI_FATAL;
    run_progress pr;
    run_progress_init(&pr, c->o, c->plan);
    if (!c->o->quiet)
        fprintf(stderr, "kazu run: MPI with %d ranks (%d working); %zu of %zu shards to do\n", size, size - 1,
                c->plan->n - before, c->plan->n);
    size_t next = 0;
    double t_first = 0;
    int active = size - 1, failed_ranks = 0;
    bool fatal = false;
    while (active > 0) {
        int src, tag, len;
        char *buf;
        if (mpi->recv(&src, &tag, &buf, &len)) {
            fprintf(stderr, "kazu run: MPI receive failed\n");
            fatal = true;
            break;
        }
        if (tag == TAG_REQ) {
            if (t_first == 0) {
                t_first = run_now();
                if (!c->o->quiet) fprintf(stderr, "kazu run: first rank ready after %.2f s\n", t_first - t0);
            }
            while (next < c->plan->n && c->plan->v[next].done) next++;
            if (next < c->plan->n && !fatal) {
                run_shard *sh = &c->plan->v[next];
                char *line = NULL;
                size_t cap = 0;
                FILE *f = open_memstream(&line, &cap);
                if (!f) {
                    fatal = true;
                } else {
                    fprintf(f, "%zu\t%s\t", next, sh->in);
                    for (size_t i = 0; i < sh->skip.n; i++) fprintf(f, "%s%u", i ? "," : "", sh->skip.v[i]);
                    fclose(f);
                    mpi->send(src, TAG_TASK, line, (int)strlen(line));
                    free(line);
                }
                next++;
            } else {
                mpi->send(src, TAG_END, "", 0);
            }
        } else if (tag == TAG_REC) {
            if (run_manifest_append(&m, buf)) {
                fprintf(stderr, "kazu run: %s: cannot append (%s)\n", m.path, strerror(errno));
                fatal = true;
            }
            json_t *v = json_loads(buf, 0, NULL);
            const char *ev = json_string_value(json_object_get(v, "event"));
            const char *in = json_string_value(json_object_get(v, "shard"));
            run_shard *sh = in ? run_plan_find(c->plan, in) : NULL;
            if (sh && ev && !strcmp(ev, "done")) sh->done = true;
            if (sh && ev && !strcmp(ev, "quarantine"))
                run_idx_add(&sh->skip, (uint32_t)json_integer_value(json_object_get(v, "doc")));
            json_decref(v);
        } else if (tag == TAG_STATS || tag == TAG_BYE) {
            stats_parse(buf, &per[src]);
            if (tag == TAG_BYE) active--;
        } else if (tag == TAG_FAIL) {
            fprintf(stderr, "kazu run: rank %d failed: %s\n", src, buf);
            failed_ranks++;
        }
        free(buf);
        run_stats sum = {0};
        for (int r = 1; r < size; r++) {
            const run_stats *s = &per[r];
            sum.docs += s->docs, sum.sentences += s->sentences, sum.bytes += s->bytes;
            sum.written += s->written, sum.failed += s->failed, sum.rejected += s->rejected;
            sum.quarantined += s->quarantined, sum.shards_done += s->shards_done;
            sum.shards_failed += s->shards_failed, sum.restarts += s->restarts;
            sum.done_file_bytes += s->done_file_bytes;
            sum.docs_done += s->docs_done, sum.sentences_done += s->sentences_done,
                sum.bytes_done += s->bytes_done;
            if (s->peak_hwm_kb > sum.peak_hwm_kb) sum.peak_hwm_kb = s->peak_hwm_kb;
            if (s->peak_private_kb > sum.peak_private_kb) sum.peak_private_kb = s->peak_private_kb;
        }
        c->stats = sum;
        run_progress_show(&pr, &sum, sum.done_file_bytes, active == 0);
    }
    if (!fatal && run_write_failures(&m, c->plan, c->o)) {
        fprintf(stderr, "kazu run: %s/failures.jsonl: cannot write (%s)\n", c->o->outdir, strerror(errno));
        fatal = true;
    }
    run_manifest_close(&m);
    free(per);
    if (failed_ranks)
        fprintf(stderr, "kazu run: %d rank(s) failed; run the same command again to resume\n", failed_ranks);
    return run_finish(c, &c->stats, run_now() - (t_first ? t_first : t0), before, fatal ? CLI_FATAL : CLI_OK);
}

/* ---- ranks 1..N-1 ----------------------------------------------------------------- */
typedef struct rank_src {
    run_ctx *c;
    const run_mpi_ops *mpi;
    double last;
    bool bad;
} rank_src;

static int rank_next(void *u, size_t *shard) {
    rank_src *r = u;
    if (r->bad || r->mpi->send(0, TAG_REQ, "", 0)) return 0;
    int src, tag, len;
    char *buf;
    if (r->mpi->recv(&src, &tag, &buf, &len)) return 0;
    int got = 0;
    if (tag == TAG_TASK) {
        char *end;
        size_t idx = strtoul(buf, &end, 10);
        char *in = *end == '\t' ? end + 1 : NULL;
        char *tab = in ? strchr(in, '\t') : NULL;
        if (tab) *tab = 0;
        if (!tab || idx >= r->c->plan->n || strcmp(r->c->plan->v[idx].in, in)) {
            char msg[512];
            snprintf(msg, sizeof msg, "this rank's inputs differ from rank 0's (shard %zu: %s)", idx,
                     in ? in : "?");
            fprintf(stderr, "kazu run: %s\n", msg);
            r->mpi->send(0, TAG_FAIL, msg, (int)strlen(msg));
            r->bad = true;
        } else {
            run_shard *sh = &r->c->plan->v[idx];
            run_idx_free(&sh->skip);
            for (char *p = tab + 1; *p;) {
                unsigned long v = strtoul(p, &end, 10);
                if (end == p) break;
                run_idx_add(&sh->skip, (uint32_t)v);
                p = *end == ',' ? end + 1 : end;
            }
            *shard = idx;
            got = 1;
        }
    }
    free(buf);
    return got;
}

static int rank_record(void *u, const char *json) {
    rank_src *r = u;
    return r->mpi->send(0, TAG_REC, json, (int)strlen(json));
}

static void rank_tick(void *u, const run_stats *s, bool final) {
    rank_src *r = u;
    double now = run_now();
    if (!final && now - r->last < 1) return;
    r->last = now;
    char b[512];
    stats_fmt(b, sizeof b, s);
    r->mpi->send(0, TAG_STATS, b, (int)strlen(b));
}

int run_mpi_main(run_ctx *c, int *argc, char ***argv) {
    (void)argc, (void)argv;
    const run_mpi_ops *mpi = load_module();
    if (!mpi) return CLI_FATAL;
    int rank = 0, size = 1;
    if (mpi->init(&rank, &size)) {
        fprintf(stderr, "kazu run: MPI_Init failed\n");
        return CLI_FATAL;
    }
    int rc;
    if (size == 1) {
        rc = run_local_main(c);
    } else if (rank == 0) {
        rc = coordinate(c, mpi, size);
        if (rc == CLI_FATAL || rc == CLI_USAGE) {
            fprintf(stderr, "kazu run: rank 0 cannot coordinate; stopping every rank\n");
            mpi->abort(rc);
        }
    } else {
        run_opts o = *c->o;
        o.quiet = true; /* rank 0 reports */
        c->o = &o;
        rank_src r = {c, mpi, 0, false};
        rc = run_load_pipeline(c);
        if (!rc) {
            run_source src = {rank_next, rank_record, rank_tick, &r};
            rc = run_supervise(c, &src);
        }
        if (rc == CLI_FATAL) {
            char msg[256];
            snprintf(msg, sizeof msg,
                     "fatal error on this rank (see its messages above); its current shard is not done");
            mpi->send(0, TAG_FAIL, msg, (int)strlen(msg));
        }
        char b[512];
        stats_fmt(b, sizeof b, &c->stats);
        mpi->send(0, TAG_BYE, b, (int)strlen(b));
        c->o = NULL;
        rc = rc == CLI_FATAL ? CLI_FATAL : CLI_OK;
    }
    mpi->finalize();
    return rc;
}
