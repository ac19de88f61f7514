/* `kazu run` supervisor: forks workers (after the pipeline and its KB
 * mappings are loaded, so every worker shares them copy-on-write), hands
 * them shards, watches their batches (time limit), their private memory
 * (RSS limit) and their deaths, retries a crashed batch one document at a
 * time and quarantines a document that fails alone. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "run_int.h"

/* ---- progress -------------------------------------------------------------------- */
void run_progress_init(run_progress *pr, const run_opts *o, const run_plan *p) {
    memset(pr, 0, sizeof *pr);
    pr->t0 = pr->last = run_now();
    pr->tty = isatty(2) && !getenv("KAZU_NO_TTY");
    pr->quiet = o->quiet;
    pr->every = o->progress_every > 0 ? o->progress_every : 10;
    for (size_t i = 0; i < p->n; i++)
        if (!p->v[i].done) {
            pr->total_bytes += p->v[i].size;
            pr->total_shards++;
        }
}

static void fmt_eta(char *b, size_t n, double s) {
    if (s < 0 || s > 1e8)
        snprintf(b, n, "?");
    else
        snprintf(b, n, "%d:%02d:%02d", (int)(s / 3600), (int)(s / 60) % 60, (int)s % 60);
}

void run_progress_show(run_progress *pr, const run_stats *s, int64_t bytes_done_files, bool final) {
    if (pr->quiet) return;
    double now = run_now();
    if (!final && now - pr->last < (pr->tty ? 0.2 : pr->every)) return;
    pr->last = now;
    double el = now - pr->t0 > 1e-6 ? now - pr->t0 : 1e-6;
    double frac = pr->total_bytes > 0 ? (double)bytes_done_files / (double)pr->total_bytes
                  : pr->total_shards  ? (double)s->shards_done / (double)pr->total_shards
                                      : 1;
    if (frac > 1) frac = 1;
    char eta[32];
    fmt_eta(eta, sizeof eta, frac > 0 ? el * (1 - frac) / frac : -1);
    double dps = (double)s->docs / el, mbps = (double)s->bytes / el / 1e6;
    uint64_t fails = s->quarantined + s->failed + s->rejected;
    if (pr->tty) {
        char bar[31];
        int k = (int)(frac * 30);
        for (int i = 0; i < 30; i++) bar[i] = i < k ? '#' : '-';
        bar[30] = 0;
        fprintf(stderr, "\r[%s] %5.1f%% %llu/%zu shards %8.0f docs/s %7.2f MB/s ETA %s failures %llu\033[K",
                bar, frac * 100, (unsigned long long)s->shards_done, pr->total_shards, dps, mbps, eta,
                (unsigned long long)fails);
        pr->drawn = true;
        if (final) fputc('\n', stderr);
    } else if (!final) {
        fprintf(
            stderr,
            "kazu run: %.1f%% shards %llu/%zu, %llu docs, %.0f docs/s, %.2f MB/s, ETA %s, failures %llu\n",
            frac * 100, (unsigned long long)s->shards_done, pr->total_shards, (unsigned long long)s->docs,
            dps, mbps, eta, (unsigned long long)fails);
    }
}

/* ---- supervisor ------------------------------------------------------------------- */
typedef struct wslot {
    pid_t pid;
    int to, from;
    char *buf;
    size_t len, cap;
    long shard; /* -1: idle */
    bool in_batch, killed, retiring;
    uint32_t *bidx;
    char **bids;
    size_t bn, bcap;
    double deadline, next_rss;
    char reason[512];
} wslot;

typedef struct sup {
    run_ctx *c;
    const run_source *src;
    wslot *w;
    int nw;
    long *retry; /* shards to redo here, LIFO */
    size_t nretry, cretry;
    bool src_empty, fatal;
    FILE *rss_log;
    double next_rss_log;
} sup;

static void batch_clear(wslot *w) {
    for (size_t i = 0; i < w->bn; i++) free(w->bids[i]);
    w->bn = 0;
    w->in_batch = false;
    w->deadline = 0;
}

static int spawn(sup *S, wslot *w) {
    int a[2], b[2];
    if (pipe2(a, O_CLOEXEC)) return -1;
    if (pipe2(b, O_CLOEXEC)) {
        close(a[0]), close(a[1]);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(a[0]), close(a[1]), close(b[0]), close(b[1]);
        return -1;
    }
    if (pid == 0) {
        /* Close the other workers' pipes. */
        for (int i = 0; i < S->nw; i++)
            if (&S->w[i] != w && S->w[i].pid > 0) {
                close(S->w[i].to);
                close(S->w[i].from);
            }
        close(a[1]);
        close(b[0]);
        run_worker_main(S->c, a[0], b[1]);
    }
    close(a[0]);
    close(b[1]);
    w->pid = pid;
    w->to = a[1];
    w->from = b[0];
    w->len = 0;
    w->shard = -1;
    w->killed = w->retiring = false;
    w->reason[0] = 0;
    w->next_rss = run_now() + 0.25;
    batch_clear(w);
    return 0;
}

static int push_retry(sup *S, long shard) {
    if (S->nretry == S->cretry) {
        size_t c = S->cretry ? S->cretry * 2 : 8;
        long *v = realloc(S->retry, c * sizeof *v);
        if (!v) return -1;
        S->retry = v;
        S->cretry = c;
    }
    S->retry[S->nretry++] = shard;
    return 0;
}

static void list_csv(FILE *m, const run_idx *l) {
    for (size_t i = 0; i < l->n; i++) fprintf(m, "%s%u", i ? "," : "", l->v[i]);
}

static int send_task(wslot *w, run_shard *sh, long si) {
    char *line = NULL;
    size_t cap = 0;
    FILE *m = open_memstream(&line, &cap);
    if (!m) return -1;
    fprintf(m, "T\t%ld\t", si);
    list_csv(m, &sh->skip);
    fputc('\t', m);
    list_csv(m, &sh->solo);
    fputc('\n', m);
    fclose(m);
    size_t n = strlen(line), off = 0;
    int rc = 0;
    while (off < n) {
        ssize_t k = write(w->to, line + off, n - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            rc = -1;
            break;
        }
        off += (size_t)k;
    }
    free(line);
    w->shard = si;
    return rc;
}

static int record(sup *S, json_t *v) {
    char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    int rc = s ? S->src->record(S->src->u, s) : -1;
    free(s);
    if (rc) {
        fprintf(stderr, "kazu run: cannot append to the manifest (%s)\n", strerror(errno));
        S->fatal = true;
    }
    return rc;
}

static void handle_line(sup *S, wslot *w, char *line) {
    run_stats *st = &S->c->stats;
    run_shard *sh = w->shard >= 0 ? &S->c->plan->v[w->shard] : NULL;
    const run_opts *o = S->c->o;
    if (line[0] == 'B') {
        batch_clear(w);
        for (char *p = strchr(line, '\t'); p; p = strchr(p + 1, '\t')) {
            if (w->bn == w->bcap) {
                size_t c = w->bcap ? w->bcap * 2 : 64;
                uint32_t *vi = realloc(w->bidx, c * sizeof *vi);
                if (vi) w->bidx = vi;
                char **vs = realloc(w->bids, c * sizeof *vs);
                if (vs) w->bids = vs;
                if (!vi || !vs) break;
                w->bcap = c;
            }
            char *colon;
            w->bidx[w->bn] = (uint32_t)strtoul(p + 1, &colon, 10);
            char *end = strchr(colon, '\t');
            size_t n = end ? (size_t)(end - colon - 1) : strlen(colon + 1);
            w->bids[w->bn] = strndup(colon + 1, n);
            w->bn++;
        }
        w->in_batch = true;
        if (o->doc_timeout > 0) w->deadline = run_now() + o->doc_timeout * (double)w->bn;
    } else if (line[0] == 'P') {
        unsigned long long d = 0, se = 0;
        long long by = 0;
        sscanf(line + 2, "%llu\t%llu\t%lld", &d, &se, &by);
        st->docs += d;
        st->sentences += se;
        st->bytes += (uint64_t)(by > 0 ? by : 0);
        batch_clear(w);
    } else if (line[0] == 'L') {
        long long kb = strtoll(line + 2, NULL, 10);
        snprintf(w->reason, sizeof w->reason, "memory limit exceeded: %.0f MB private > %.0f MB",
                 (double)kb / 1024, (double)o->rss_limit_kb / 1024);
    } else if (line[0] == 'D' && sh) {
        unsigned long long d, wr, fa, rj, se;
        long long by, hwm, priv;
        if (sscanf(line + 2, "%llu\t%llu\t%llu\t%llu\t%llu\t%lld\t%lld\t%lld", &d, &wr, &fa, &rj, &se, &by,
                   &hwm, &priv) != 8)
            return;
        st->docs_done += d;
        st->sentences_done += se;
        st->bytes_done += (uint64_t)(by > 0 ? by : 0);
        st->written += wr;
        st->failed += fa;
        st->rejected += rj;
        st->shards_done++;
        if (hwm > st->peak_hwm_kb) st->peak_hwm_kb = hwm;
        if (priv > st->peak_private_kb) st->peak_private_kb = priv;
        st->done_file_bytes += sh->size;
        record(S, json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I}", "event", "done", "shard", sh->in,
                            "output", sh->name, "docs", (json_int_t)d, "written", (json_int_t)wr, "failed",
                            (json_int_t)fa, "rejected", (json_int_t)rj, "quarantined", (json_int_t)sh->skip.n,
                            "sentences", (json_int_t)se));
        sh->done = true;
        w->shard = -1;
        batch_clear(w);
        /* Recycle a worker whose private memory has grown close to the limit. */
        if (o->rss_limit_kb > 0 && priv > o->rss_limit_kb * 8 / 10) {
            w->retiring = true;
            close(w->to);
            w->to = -1;
        }
    } else if (line[0] == 'E' && sh) {
        fprintf(stderr, "kazu run: %s: shard failed: %s\n", sh->in, line + 2);
        st->shards_failed++;
        w->shard = -1;
        batch_clear(w);
    }
}

static void reap(sup *S, wslot *w) {
    int status = 0;
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (w->to >= 0) close(w->to);
    close(w->from);
    w->to = w->from = -1;
    w->pid = 0;
    if (w->retiring && w->shard < 0) return;
    if (w->shard < 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    run_stats *st = &S->c->stats;
    st->restarts++;
    if (!w->reason[0]) {
        if (WIFSIGNALED(status))
            snprintf(w->reason, sizeof w->reason, "worker killed by signal %d (%s)", WTERMSIG(status),
                     strsignal(WTERMSIG(status)));
        else
            snprintf(w->reason, sizeof w->reason, "worker exited with status %d", WEXITSTATUS(status));
    }
    if (w->shard < 0) {
        fprintf(stderr, "kazu run: idle worker died: %s\n", w->reason);
        return;
    }
    run_shard *sh = &S->c->plan->v[w->shard];
    bool progress = false;
    if (w->in_batch && w->bn == 1 && run_idx_has(&sh->solo, w->bidx[0])) {
        fprintf(stderr, "kazu run: %s: document %u (id %s) quarantined: %s\n", sh->in, w->bidx[0], w->bids[0],
                w->reason);
        if (!record(S, json_pack("{s:s,s:s,s:I,s:s,s:s}", "event", "quarantine", "shard", sh->in, "doc",
                                 (json_int_t)w->bidx[0], "id", w->bids[0] ? w->bids[0] : "", "reason",
                                 w->reason))) {
            run_idx_add(&sh->skip, w->bidx[0]);
            st->quarantined++;
            progress = true;
        }
    } else if (w->in_batch) {
        for (size_t i = 0; i < w->bn; i++)
            if (!run_idx_has(&sh->solo, w->bidx[i])) {
                run_idx_add(&sh->solo, w->bidx[i]);
                progress = true;
            }
        fprintf(stderr, "kazu run: %s: %s during a batch of %zu document(s); retrying them one at a time\n",
                sh->in, w->reason, w->bn);
    } else {
        fprintf(stderr, "kazu run: %s: %s; restarting the shard\n", sh->in, w->reason);
    }
    if (!progress) sh->attempts++;
    if (sh->attempts >= S->c->o->max_attempts) {
        fprintf(stderr, "kazu run: %s: shard given up after %d worker failures without progress\n", sh->in,
                sh->attempts);
        st->shards_failed++;
    } else if (push_retry(S, w->shard)) {
        S->fatal = true;
    }
    w->shard = -1;
    batch_clear(w);
}

/* Read what a worker wrote; reap it at EOF. */
static void drain(sup *S, wslot *w) {
    for (;;) {
        if (w->cap - w->len < 4096) {
            size_t c = w->cap ? w->cap * 2 : 16384;
            char *b = realloc(w->buf, c);
            if (!b) {
                S->fatal = true;
                return;
            }
            w->buf = b;
            w->cap = c;
        }
        ssize_t r = read(w->from, w->buf + w->len, w->cap - w->len - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && errno == EAGAIN) break;
        if (r <= 0) {
            reap(S, w);
            return;
        }
        w->len += (size_t)r;
        char *start = w->buf, *nl;
        while ((nl = memchr(start, '\n', w->len - (size_t)(start - w->buf)))) {
            *nl = 0;
            handle_line(S, w, start);
            start = nl + 1;
        }
        w->len -= (size_t)(start - w->buf);
        memmove(w->buf, start, w->len);
        break;
    }
}

static void watch(sup *S, wslot *w, double now) {
    const run_opts *o = S->c->o;
    if (w->pid <= 0 || w->killed) return;
    if (w->in_batch && w->deadline > 0 && now > w->deadline) {
        int64_t priv = o->rss_limit_kb > 0 ? run_private_kb(w->pid) : -1;
        if (priv > o->rss_limit_kb) /* over both limits: memory is the likelier cause */
            snprintf(w->reason, sizeof w->reason, "memory limit exceeded: %.0f MB private > %.0f MB",
                     (double)priv / 1024, (double)o->rss_limit_kb / 1024);
        else
            snprintf(w->reason, sizeof w->reason, "timed out: no result after %.0f s for %zu document(s)",
                     o->doc_timeout * (double)w->bn, w->bn);
        kill(w->pid, SIGKILL);
        w->killed = true;
        return;
    }
    if (now >= w->next_rss) {
        w->next_rss = now + 0.25;
        int64_t priv = run_private_kb(w->pid), hwm = run_hwm_kb(w->pid);
        if (priv > S->c->stats.peak_private_kb) S->c->stats.peak_private_kb = priv;
        if (hwm > S->c->stats.peak_hwm_kb) S->c->stats.peak_hwm_kb = hwm;
        if (o->rss_limit_kb > 0 && priv > o->rss_limit_kb) {
            snprintf(w->reason, sizeof w->reason, "memory limit exceeded: %.0f MB private > %.0f MB",
                     (double)priv / 1024, (double)o->rss_limit_kb / 1024);
            kill(w->pid, SIGKILL);
            w->killed = true;
        }
    }
}

static void rss_log(sup *S, double now) {
    if (!S->rss_log || now < S->next_rss_log) return;
    S->next_rss_log = now + 1;
    for (int i = 0; i < S->nw; i++)
        if (S->w[i].pid > 0)
            fprintf(S->rss_log, "%.1f\t%d\t%lld\t%lld\n", now, (int)S->w[i].pid,
                    (long long)run_private_kb(S->w[i].pid), (long long)run_hwm_kb(S->w[i].pid));
    fflush(S->rss_log);
}

/* Give idle workers a shard (spawning them as needed). */
static void assign(sup *S) {
    for (int i = 0; i < S->nw && !S->fatal; i++) {
        wslot *w = &S->w[i];
        if (w->pid > 0 && (w->shard >= 0 || w->retiring)) continue;
        long si = -1;
        if (S->nretry)
            si = S->retry[--S->nretry];
        else if (!S->src_empty) {
            size_t got;
            if (S->src->next(S->src->u, &got) == 1)
                si = (long)got;
            else
                S->src_empty = true;
        }
        if (si < 0) return;
        if (w->pid <= 0 && spawn(S, w)) {
            fprintf(stderr, "kazu run: cannot start a worker (%s)\n", strerror(errno));
            S->fatal = true;
            return;
        }
        if (send_task(w, &S->c->plan->v[si], si)) {
            /* The worker died before taking it: its EOF will be seen; redo the shard. */
            w->shard = -1;
            push_retry(S, si);
        }
    }
}

int run_supervise(run_ctx *c, const run_source *src) {
    sup S = {0};
    S.c = c;
    S.src = src;
    S.nw = c->o->workers > 0 ? c->o->workers : 1;
    S.w = calloc((size_t)S.nw, sizeof *S.w);
    if (!S.w) return CLI_FATAL;
    for (int i = 0; i < S.nw; i++) {
        S.w[i].shard = -1;
        S.w[i].to = S.w[i].from = -1;
    }
    const char *log = getenv("KAZU_RUN_RSS_LOG");
    if (log && *log) S.rss_log = fopen(log, "a");
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        if (!S.fatal) assign(&S);
        int alive = 0, busy = 0;
        struct pollfd pf[256];
        int map[256];
        for (int i = 0; i < S.nw; i++)
            if (S.w[i].pid > 0 && alive < 256) {
                pf[alive] = (struct pollfd){.fd = S.w[i].from, .events = POLLIN};
                map[alive++] = i;
                if (S.w[i].shard >= 0 || S.w[i].retiring) busy++;
            }
        if (!busy && (S.fatal || (S.src_empty && !S.nretry))) break;
        if (!busy && !S.nretry && !S.src_empty) continue;
        int n = poll(pf, (nfds_t)alive, 100);
        if (n < 0 && errno != EINTR) break;
        for (int k = 0; k < alive && n > 0; k++)
            if (pf[k].revents) drain(&S, &S.w[map[k]]);
        double now = run_now();
        for (int i = 0; i < S.nw; i++) watch(&S, &S.w[i], now);
        rss_log(&S, now);
        src->tick(src->u, &c->stats, false);
    }
    /* Stop the idle workers: EOF on their task pipe. */
    for (int i = 0; i < S.nw; i++) {
        wslot *w = &S.w[i];
        if (w->pid <= 0) continue;
        if (S.fatal) kill(w->pid, SIGKILL);
        if (w->to >= 0) close(w->to);
        w->to = -1;
        int status;
        while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR) {
        }
        close(w->from);
        w->pid = 0;
    }
    for (int i = 0; i < S.nw; i++) {
        batch_clear(&S.w[i]);
        free(S.w[i].buf);
        free(S.w[i].bidx);
        free(S.w[i].bids);
    }
    free(S.w);
    free(S.retry);
    if (S.rss_log) fclose(S.rss_log);
    src->tick(src->u, &c->stats, true);
    if (S.fatal) return CLI_FATAL;
    return c->stats.shards_failed ? CLI_PARTIAL : CLI_OK;
}
