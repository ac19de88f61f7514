/* `kazu run` worker process: reads one shard at a time, runs the pipeline in
 * batches, writes the shard's output to a temporary file and renames it into
 * place. It reports to its supervisor over a pipe, one line per event:
 *   B\t<idx>:<id>\t...   a batch starts (document indices within the shard)
 *   P\t<docs>\t<sentences>\t<bytes>     the batch was written
 *   L\t<private kB>      the batch pushed the worker over its memory limit;
 *                        nothing of it was written and the worker exits
 *   D\t<docs>\t<written>\t<failed>\t<rejected>\t<sentences>\t<bytes>\t<hwm kB>\t<private kB>
 *                        the shard is finished and renamed into place
 *   E\t<message>         the shard cannot be done (unreadable input, write error)
 * Tasks arrive as "T\t<shard>\t<skip,...>\t<solo,...>\n".
 *
 * Test-only fault injection: KAZU_FAULT_INJECT="crash:ID,hang:ID,leak:ID"
 * makes the document with that id crash the worker (SIGSEGV), hang it, or
 * leak KAZU_FAULT_LEAK_MB (default 512) MiB of touched memory, right before
 * its batch enters the pipeline. Inert unless the variable is set. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include "run_int.h"

double run_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int64_t read_kb_field(const char *file, const char *field) {
    FILE *f = fopen(file, "r");
    if (!f) return -1;
    char line[256];
    size_t fl = strlen(field);
    int64_t v = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, fl)) {
            v = strtoll(line + fl, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

int64_t run_private_kb(int pid) {
    char path[64];
    snprintf(path, sizeof path, pid ? "/proc/%d/smaps_rollup" : "/proc/self/smaps_rollup", pid);
    int64_t v = read_kb_field(path, "Private_Dirty:");
    if (v < 0) {
        snprintf(path, sizeof path, pid ? "/proc/%d/status" : "/proc/self/status", pid);
        v = read_kb_field(path, "RssAnon:");
    }
    return v;
}

int64_t run_hwm_kb(int pid) {
    char path[64];
    snprintf(path, sizeof path, pid ? "/proc/%d/status" : "/proc/self/status", pid);
    return read_kb_field(path, "VmHWM:");
}

/* ---- fault injection ---------------------------------------------------------- */
typedef struct fault {
    char kind; /* 'c' crash, 'h' hang, 'l' leak */
    char *id;
} fault;
static fault *g_faults;
static size_t g_n_faults;
static void *g_leaked[64]; /* reachable on purpose: this is a simulated leak, not a real one */
static size_t g_n_leaked;

static void faults_load(void) {
    const char *env = getenv("KAZU_FAULT_INJECT");
    if (!env || !*env) return;
    char *s = strdup(env);
    if (!s) return;
    char *save = NULL;
    for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon) continue;
        *colon = 0;
        char kind = !strcmp(tok, "crash") ? 'c' : !strcmp(tok, "hang") ? 'h' : !strcmp(tok, "leak") ? 'l' : 0;
        if (!kind) continue;
        fault *v = realloc(g_faults, (g_n_faults + 1) * sizeof *v);
        if (!v) break;
        g_faults = v;
        g_faults[g_n_faults].kind = kind;
        if ((g_faults[g_n_faults].id = strdup(colon + 1))) g_n_faults++;
    }
    free(s);
}

static void faults_apply(const kz_doc *doc) {
    for (size_t i = 0; i < g_n_faults; i++) {
        const fault *f = &g_faults[i];
        if (strlen(f->id) != doc->idx.len || memcmp(f->id, doc->idx.ptr, doc->idx.len)) continue;
        if (f->kind == 'c') {
            signal(SIGSEGV, SIG_DFL); /* a real crash even where a sanitizer handles SIGSEGV */
            raise(SIGSEGV);
        }
        if (f->kind == 'h')
            for (;;) pause();
        if (f->kind == 'l' && g_n_leaked < 64) {
            const char *mb = getenv("KAZU_FAULT_LEAK_MB");
            size_t n = (size_t)(mb ? atol(mb) : 512) << 20;
            char *p = malloc(n);
            if (p) {
                memset(p, 0x5a, n);
                g_leaked[g_n_leaked++] = p;
            }
        }
    }
}

/* ---- pipe I/O ------------------------------------------------------------------ */
static int g_out = -1;

static void send_line(const char *s, size_t n) {
    while (n) {
        ssize_t w = write(g_out, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) _exit(5); /* the supervisor is gone */
        s += w;
        n -= (size_t)w;
    }
}

static void sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sendf(const char *fmt, ...) {
    char buf[9000];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof buf) {
        n = (int)sizeof buf - 1;
        buf[n - 1] = '\n';
    }
    send_line(buf, (size_t)n);
}

/* One line from fd (blocking), into a static buffer; NULL at EOF. */
static char *read_task(int fd) {
    static char *buf;
    static size_t cap, len;
    for (;;) {
        char *nl = len ? memchr(buf, '\n', len) : NULL;
        if (nl) {
            static char *line;
            size_t n = (size_t)(nl - buf);
            free(line);
            if (!(line = malloc(n + 1))) _exit(5);
            memcpy(line, buf, n);
            line[n] = 0;
            memmove(buf, nl + 1, len - n - 1);
            len -= n + 1;
            return line;
        }
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            char *b = realloc(buf, cap);
            if (!b) _exit(5);
            buf = b;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return NULL;
        len += (size_t)r;
    }
}

static void parse_list(const char *s, run_idx *l) {
    while (*s && *s != '\t') {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s) break;
        run_idx_add(l, (uint32_t)v);
        s = *end == ',' ? end + 1 : end;
    }
}

/* ---- one shard ------------------------------------------------------------------ */
typedef struct shard_run {
    run_ctx *c;
    kz_writer *w;
    kz_doc **docs;
    uint32_t *idx;
    size_t n, cap;
    uint64_t docs_n, written, failed, rejected, sentences;
    int64_t bytes_reported;
    kz_reader *r;
    bool error;
    char errmsg[8800];
} shard_run;

static void flush(shard_run *s) {
    if (!s->n) return;
    /* Announce the batch: the supervisor blames it if we die. */
    char *line = NULL;
    size_t cap = 0, len = 0;
    FILE *m = open_memstream(&line, &cap);
    if (!m) _exit(5);
    fputc('B', m);
    for (size_t i = 0; i < s->n; i++) {
        fprintf(m, "\t%u:", s->idx[i]);
        const kz_doc *d = s->docs[i];
        size_t k = d->idx.len < 200 ? d->idx.len : 200;
        for (size_t j = 0; j < k; j++) {
            char ch = d->idx.ptr[j];
            fputc(ch == '\t' || ch == '\n' || ch == '\r' ? ' ' : ch, m);
        }
    }
    fputc('\n', m);
    fclose(m);
    len = strlen(line);
    send_line(line, len);
    free(line);
    for (size_t i = 0; i < s->n; i++) faults_apply(s->docs[i]);
    const run_opts *o = s->c->o;
    if (s->c->pipeline) {
        kz_error err;
        kz_str *prev = malloc(s->n * sizeof *prev);
        if (!prev) _exit(5);
        for (size_t i = 0; i < s->n; i++)
            prev[i] = kz_meta_get(&s->docs[i]->metadata, KZ_PROCESSING_EXCEPTION);
        if (kz_pipeline_run(s->c->pipeline, s->docs, s->n, NULL, &err)) {
            char b[1400];
            fprintf(stderr, "kazu run: %s\n", kz_error_format(&err, b, sizeof b));
        }
        for (size_t i = 0; i < s->n; i++) {
            kz_str after = kz_meta_get(&s->docs[i]->metadata, KZ_PROCESSING_EXCEPTION);
            if (after.ptr && (after.ptr != prev[i].ptr || after.len != prev[i].len)) s->failed++;
        }
        free(prev);
    }
    if (o->rss_limit_kb > 0) {
        int64_t priv = run_private_kb(0);
        if (priv > o->rss_limit_kb) {
            sendf("L\t%lld\n", (long long)priv);
            _exit(4);
        }
    }
    uint64_t sents = 0;
    for (size_t i = 0; i < s->n; i++) {
        kz_doc *d = s->docs[i];
        for (uint32_t k = 0; k < d->n_sections; k++) sents += d->sections[k]->n_sentence_spans;
        if (!s->error) {
            kz_error err;
            int rc = kz_writer_write(s->w, d, &err);
            if (rc == KZ_EIO || rc == KZ_ENOMEM) {
                s->error = true;
                kz_error_format(&err, s->errmsg, sizeof s->errmsg);
            } else if (rc) {
                char b[1400];
                fprintf(stderr, "kazu run: %s\n", kz_error_format(&err, b, sizeof b));
            } else {
                s->written++;
            }
        }
        kz_doc_free(d);
    }
    s->sentences += sents;
    int64_t bytes = kz_reader_bytes(s->r);
    sendf("P\t%zu\t%llu\t%lld\n", s->n, (unsigned long long)sents, (long long)(bytes - s->bytes_reported));
    s->bytes_reported = bytes;
    s->n = 0;
}

static void sanitize(char *s) {
    for (; *s; s++)
        if (*s == '\t' || *s == '\n' || *s == '\r') *s = ' ';
}

static void do_shard(run_ctx *c, char *task) {
    const run_opts *o = c->o;
    /* T \t shard \t skip \t solo */
    char *f1 = strchr(task, '\t');
    if (!f1) _exit(5);
    size_t si = strtoul(f1 + 1, NULL, 10);
    if (si >= c->plan->n) _exit(5);
    run_shard *sh = &c->plan->v[si];
    char *f2 = strchr(f1 + 1, '\t');
    char *f3 = f2 ? strchr(f2 + 1, '\t') : NULL;
    run_idx skip = {0}, solo = {0};
    if (f2) parse_list(f2 + 1, &skip);
    if (f3) parse_list(f3 + 1, &solo);

    shard_run s = {0};
    s.c = c;
    s.cap = o->batch_size ? o->batch_size : c->pipeline ? kz_pipeline_batch_size(c->pipeline) : 64;
    if (!s.cap) s.cap = 64;
    s.docs = malloc(s.cap * sizeof *s.docs);
    s.idx = malloc(s.cap * sizeof *s.idx);
    if (!s.docs || !s.idx) _exit(5);

    char final[4096], tmp[4200];
    snprintf(final, sizeof final, "%s/%s", o->outdir, sh->name);
    snprintf(tmp, sizeof tmp, "%s/.%s.part", o->outdir, sh->name);
    kz_error err;
    kz_reader_params rp = kz_reader_default_params();
    rp.text_one_per_line = o->lines;
    kz_writer_params wp = kz_writer_default_params();
    wp.omit_linking_candidates = o->omit_candidates;
    wp.ascii_only = !o->no_ascii;
    FILE *out = NULL;
    if (kz_reader_open_path(&s.r, sh->in, o->in_fmt, &rp, &err)) {
        kz_error_format(&err, s.errmsg, sizeof s.errmsg);
        s.error = true;
    } else if (!(out = fopen(tmp, "w"))) {
        snprintf(s.errmsg, sizeof s.errmsg, "%s: %s", tmp, strerror(errno));
        s.error = true;
    } else if (kz_writer_open_file(&s.w, out, tmp, o->out_fmt, &wp, &err)) {
        kz_error_format(&err, s.errmsg, sizeof s.errmsg);
        s.error = true;
    }
    uint32_t di = 0;
    kz_doc *doc;
    int rc;
    while (!s.error && (rc = kz_reader_next(s.r, &doc, &err)) != 0) {
        if (rc < 0) {
            char b[1400];
            fprintf(stderr, "kazu run: %s\n", kz_error_format(&err, b, sizeof b));
            s.rejected++;
            continue;
        }
        uint32_t my = di++;
        if (run_idx_has(&skip, my)) {
            kz_doc_free(doc);
            continue;
        }
        s.docs_n++;
        if (run_idx_has(&solo, my)) {
            flush(&s); /* earlier documents first, then this one alone */
            s.docs[0] = doc;
            s.idx[0] = my;
            s.n = 1;
            flush(&s);
            continue;
        }
        s.docs[s.n] = doc;
        s.idx[s.n++] = my;
        if (s.n == s.cap) flush(&s);
    }
    if (!s.error) flush(&s);
    for (size_t i = 0; i < s.n; i++) kz_doc_free(s.docs[i]);
    s.n = 0;
    if (s.w && kz_writer_close(s.w, &err) && !s.error) {
        kz_error_format(&err, s.errmsg, sizeof s.errmsg);
        s.error = true;
    }
    if (out) {
        if (!s.error && (fflush(out) || fsync(fileno(out)))) {
            snprintf(s.errmsg, sizeof s.errmsg, "%s: %s", tmp, strerror(errno));
            s.error = true;
        }
        if (fclose(out) && !s.error) {
            snprintf(s.errmsg, sizeof s.errmsg, "%s: %s", tmp, strerror(errno));
            s.error = true;
        }
    }
    if (!s.error && rename(tmp, final)) {
        snprintf(s.errmsg, sizeof s.errmsg, "%s: %s", final, strerror(errno));
        s.error = true;
    }
    if (!s.error) {
        int dfd = open(o->outdir, O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        sendf("D\t%llu\t%llu\t%llu\t%llu\t%llu\t%lld\t%lld\t%lld\n", (unsigned long long)s.docs_n,
              (unsigned long long)s.written, (unsigned long long)s.failed, (unsigned long long)s.rejected,
              (unsigned long long)s.sentences, (long long)kz_reader_bytes(s.r), (long long)run_hwm_kb(0),
              (long long)run_private_kb(0));
    } else {
        if (out) unlink(tmp);
        sanitize(s.errmsg);
        sendf("E\t%s\n", s.errmsg);
    }
    kz_reader_close(s.r);
    free(s.docs);
    free(s.idx);
    run_idx_free(&skip);
    run_idx_free(&solo);
}

void run_worker_main(run_ctx *c, int fd_in, int fd_out) {
    pid_t parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(5);
    signal(SIGINT, SIG_IGN); /* the supervisor decides when workers stop */
    signal(SIGPIPE, SIG_DFL);
    g_out = fd_out;
    faults_load();
    char *task;
    while ((task = read_task(fd_in)) && task[0] == 'T') do_shard(c, task);
    for (size_t i = 0; i < g_n_faults; i++) free(g_faults[i].id);
    free(g_faults);
    for (size_t i = 0; i < g_n_leaked; i++) free(g_leaked[i]);
    exit(0); /* a normal exit, so that LeakSanitizer checks workers too */
}
