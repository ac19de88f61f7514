/* Benchmark: single-thread WordPiece throughput (tokens/s, MB/s, median of N runs)
 * on real PubTator titles/abstracts (synthetic text if the data is absent), with
 * the cased BERT and the uncased SciBERT vocabularies. Prints a hash of the output. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include "kazu/kazu.h"
#include "kazu/nn.h"

static void usage(void) {
    fprintf(stderr,
            "usage: bench_wordpiece [--data DIR] [--runs N] [--min-mb M]\n"
            "  --data DIR  shared data folder (default ../shared/data, run from the repository root)\n"
            "  --runs N    timed runs per configuration, median reported (default 5)\n"
            "  --min-mb M  repeat the corpus until a run covers M MB (default 16)\n");
    exit(2);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CPU time of this thread: on a shared machine the wall clock also counts the
 * time other processes held the core. */
static double cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct {
    char **s;
    size_t *len;
    size_t n, cap, bytes;
} texts;

static void add(texts *t, const char *s, size_t len) {
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 1024;
        t->s = realloc(t->s, t->cap * sizeof *t->s);
        t->len = realloc(t->len, t->cap * sizeof *t->len);
        if (!t->s || !t->len) exit(1);
    }
    t->s[t->n] = malloc(len + 1);
    memcpy(t->s[t->n], s, len);
    t->s[t->n][len] = 0;
    t->len[t->n++] = len;
    t->bytes += len;
}

static char *read_any(const char *path, size_t *len) {
    gzFile g = gzopen(path, "rb");
    if (!g) return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap + 1);
    int got;
    while (buf && (got = gzread(g, buf + n, (unsigned)(cap - n))) > 0) {
        n += (size_t)got;
        if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
    }
    gzclose(g);
    if (!buf) return NULL;
    buf[n] = 0;
    *len = n;
    return buf;
}

/* PubTator "PMID|t|..." and "PMID|a|..." lines. */
static void load_pubtator(texts *t, const char *path) {
    size_t len;
    char *buf = read_any(path, &len);
    if (!buf) return;
    for (char *p = buf, *nl; *p; p = nl ? nl + 1 : p + strlen(p)) {
        nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        char *bar = memchr(p, '|', ll);
        if (bar && ll > (size_t)(bar - p) + 3 && (bar[1] == 't' || bar[1] == 'a') && bar[2] == '|')
            add(t, bar + 3, ll - (size_t)(bar + 3 - p));
    }
    free(buf);
}

/* Non-ASCII lines of a file (the general, Unicode path). */
static void load_unicode_lines(texts *t, const char *path) {
    size_t len;
    char *buf = read_any(path, &len);
    if (!buf) return;
    for (char *p = buf, *nl; *p; p = nl ? nl + 1 : p + strlen(p)) {
        nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        bool hi = false;
        for (size_t k = 0; k < ll && !hi; k++) hi = (unsigned char)p[k] >= 0x80;
        if (hi && kz_utf8_valid(p, ll, NULL)) add(t, p, ll);
    }
    free(buf);
}

static void synthetic(texts *t) {
    static const char *const w[] = {
        "patients", "with", "acute",  "myeloid", "leukemia",  "were",   "treated", "by", "IL-2", "(10",
        "mg/kg)",   "and",  "showed", "reduced", "TNF-alpha", "levels", "p<0.05",  "in", "vivo", "."};
    uint32_t x = 12345;
    char buf[2048];
    for (int d = 0; d < 2000; d++) {
        size_t n = 0;
        for (int k = 0; k < 200 && n < sizeof buf - 32; k++) {
            x = x * 1103515245u + 12345u;
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s ", w[(x >> 16) % 20]);
        }
        add(t, buf, n);
    }
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void run(const char *label, const char *vocab, bool lower, const texts *t, int runs, double min_mb) {
    kz_wordpiece_opts o = kz_wordpiece_default_opts(lower);
    kz_wordpiece *wp = NULL;
    kz_error err;
    kz_error_clear(&err);
    if (kz_wordpiece_load(vocab, &o, &wp, &err)) {
        fprintf(stderr, "bench_wordpiece: %s: %s\n", vocab, err.msg);
        exit(1);
    }
    int reps = 1;
    while ((double)t->bytes * reps < min_mb * 1e6) reps++;
    kz_wp_token *tok = NULL;
    size_t cap = 0;
    double secs[64], cpus[64];
    size_t ntok = 0;
    uint64_t hash = 1469598103934665603ull;
    for (int r = 0; r < runs + 1; r++) { /* run 0 warms up and hashes */
        size_t total = 0;
        double t0 = now_s(), c0 = cpu_s();
        for (int rep = 0; rep < reps; rep++) {
            for (size_t k = 0; k < t->n; k++) {
                size_t n = 0;
                if (kz_wordpiece_encode(wp, t->s[k], t->len[k], &tok, &n, &cap, NULL)) exit(1);
                total += n;
                if (r == 0 && rep == 0)
                    for (size_t q = 0; q < n; q++) {
                        uint64_t v[3] = {(uint64_t)tok[q].id, (uint64_t)tok[q].start, (uint64_t)tok[q].end};
                        const unsigned char *b = (const unsigned char *)v;
                        for (size_t i = 0; i < sizeof v; i++) hash = (hash ^ b[i]) * 1099511628211ull;
                    }
            }
        }
        double dt = now_s() - t0, dc = cpu_s() - c0;
        if (r > 0) {
            secs[r - 1] = dt;
            cpus[r - 1] = dc;
        }
        ntok = total;
    }
    qsort(secs, (size_t)runs, sizeof *secs, cmp_d);
    qsort(cpus, (size_t)runs, sizeof *cpus, cmp_d);
    double med = secs[runs / 2], cmed = cpus[runs / 2];
    double mb = (double)t->bytes * reps / 1e6;
    printf("%-34s wall: %6.2f M tokens/s %6.1f MB/s | cpu: %6.2f M tokens/s %6.1f MB/s  (%zu tokens, %.1f MB "
           "per "
           "run; median of %d: wall %.3f s, cpu %.3f s)  hash %016llx\n",
           label, (double)ntok / med / 1e6, mb / med, (double)ntok / cmed / 1e6, mb / cmed, ntok, mb, runs,
           med, cmed, (unsigned long long)hash);
    free(tok);
    kz_wordpiece_free(wp);
}

int main(int argc, char **argv) {
    const char *data = "../shared/data";
    int runs = 5;
    double min_mb = 16;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc)
            data = argv[++i];
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-mb") && i + 1 < argc)
            min_mb = atof(argv[++i]);
        else
            usage();
    }
    if (runs < 1 || runs > 64) usage();
    static const char *const files[] = {
        "benchmarks/bc5cdr_pubtator/CDR_TrainingSet.PubTator.txt",
        "benchmarks/bc5cdr_pubtator/CDR_DevelopmentSet.PubTator.txt",
        "benchmarks/biored_pubtator/Train.PubTator",
        "benchmarks/biored_pubtator/Dev.PubTator",
        "benchmarks/ncbi_disease_original/NCBItrainset_corpus.txt",
        "benchmarks/ncbi_disease_original/NCBIdevelopset_corpus.txt",
    };
    char path[2048], vc[2048], vu[2048];
    texts t = {0}, u = {0};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        snprintf(path, sizeof path, "%s/%s", data, files[f]);
        load_pubtator(&t, path);
    }
    snprintf(path, sizeof path, "%s/ontologies/drugbank/drugbank_vocabulary.csv", data);
    load_unicode_lines(&u, path);
    const char *src = "PubTator titles+abstracts";
    if (!t.n) {
        synthetic(&t);
        src = "synthetic text (no shared data)";
    }
    snprintf(vc, sizeof vc, "%s/models/vocabs/bert_base_cased_vocab.txt", data);
    snprintf(vu, sizeof vu, "%s/models/vocabs/scibert_scivocab_uncased_vocab.txt", data);
    printf("bench_wordpiece: %s: %zu texts, %.2f MB; single thread\n", src, t.n, (double)t.bytes / 1e6);
    run("bert-base-cased (no lowercase)", vc, false, &t, runs, min_mb);
    run("scibert uncased (lowercase+strip)", vu, true, &t, runs, min_mb);
    if (u.n) {
        printf("non-ASCII lines of drugbank_vocabulary.csv: %zu lines, %.2f MB\n", u.n,
               (double)u.bytes / 1e6);
        run("bert-base-cased, non-ASCII lines", vc, false, &u, runs, min_mb / 4);
        run("scibert uncased, non-ASCII lines", vu, true, &u, runs, min_mb / 4);
    }
    for (size_t k = 0; k < t.n; k++) free(t.s[k]);
    for (size_t k = 0; k < u.n; k++) free(u.s[k]);
    free(t.s);
    free(t.len);
    free(u.s);
    free(u.len);
    return 0;
}
