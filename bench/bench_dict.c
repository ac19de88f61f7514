/* Benchmark: the dictionary-NER automaton of a kb pack (its KZAC section):
 * size per million synonyms, build time, and scan speed over corpus text, raw
 * (every hit, as pyahocorasick reports) and as the step uses it (Kazu's token
 * boundaries). bench/dict_vs_python.sh runs it beside bench/peer_dict.py. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "bench_util.h"
#include "kazu/kazu.h"
#include "kazu/kb.h"
#include "kazu/match.h"
#include "kazu/text.h"
#include "../src/link/dict_int.h"

typedef struct sections {
    char **s;
    size_t *len, n, cap, bytes;
} sections;

/* One section per line (bench/dict_vs_python.sh writes them). */
static void load_lines(sections *secs, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) die("cannot read %s", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        size_t l = (size_t)n;
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r')) l--;
        if (!l) continue;
        if (secs->n == secs->cap) {
            secs->cap = secs->cap ? secs->cap * 2 : 1024;
            secs->s = realloc(secs->s, secs->cap * sizeof *secs->s);
            secs->len = realloc(secs->len, secs->cap * sizeof *secs->len);
        }
        secs->s[secs->n] = strndup(line, l);
        secs->len[secs->n++] = l;
        secs->bytes += l;
    }
    free(line);
    fclose(f);
}

typedef struct counts {
    uint64_t hits, hash;
    const uint8_t *starts, *ends; /* step mode: token maps */
} counts;

static int count_hit(void *user, const kz_match_hit *h) {
    counts *c = user;
    if (c->starts && !c->starts[h->start]) return 0;
    if (c->ends && !c->ends[h->end]) return 0;
    c->hits++;
    uint64_t x = (h->start * 0x9e3779b97f4a7c15ull) ^ (h->end * 0xc2b2ae3d27d4eb4full) ^ h->payload;
    x ^= x >> 29, x *= 0xbf58476d1ce4e5b9ull, x ^= x >> 32;
    c->hash += x; /* order-independent: the anchored scan reports in another order */
    return 0;
}

static void scan(const kz_matcher *m, const sections *secs, int runs, bool step, kz_span *toks,
                 uint8_t *marks, size_t *starts) {
    double t[16];
    counts c = {0};
    for (int r = 0; r < runs; r++) {
        memset(&c, 0, sizeof c);
        double t0 = thread_cpu_s();
        for (size_t i = 0; i < secs->n; i++) {
            if (step) {
                size_t len = secs->len[i];
                size_t nt = kz_word_tokenize(secs->s[i], len, toks, len + 1);
                memset(marks, 0, len + 1);
                for (size_t k = 0; k < nt; k++) starts[k] = (size_t)toks[k].start, marks[toks[k].end] = 1;
                c.ends = marks;
                kz_matcher_scan_anchored(m, secs->s[i], len, starts, nt, marks, count_hit, &c);
            } else if (marks) { /* raw scan filtered by token boundaries afterwards (cross-check) */
                size_t len = secs->len[i];
                size_t nt = kz_word_tokenize(secs->s[i], len, toks, len + 1);
                memset(marks, 0, 2 * (len + 1));
                for (size_t k = 0; k < nt; k++) marks[toks[k].start] = 1, marks[len + 1 + toks[k].end] = 1;
                c.starts = marks, c.ends = marks + len + 1;
                kz_matcher_scan(m, secs->s[i], len, 0, count_hit, &c);
            } else {
                kz_matcher_scan(m, secs->s[i], secs->len[i], 0, count_hit, &c);
            }
        }
        t[r] = thread_cpu_s() - t0;
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp_double);
    double med = t[runs / 2];
    printf("scan %-22s: median %.3f s of %d (min %.3f max %.3f), %.1f MB/s, %llu hits, hash %016llx\n",
           step    ? "step (tok+anchored)"
           : marks ? "raw+tok filter (check)"
                   : "raw (every hit)",
           med, runs, t[0], t[runs - 1], (double)secs->bytes / med / 1e6, (unsigned long long)c.hits,
           (unsigned long long)c.hash);
}

static void tok_only(const sections *secs, int runs, kz_span *toks) {
    double t[16];
    uint64_t n = 0;
    for (int r = 0; r < runs; r++) {
        n = 0;
        double t0 = thread_cpu_s();
        for (size_t i = 0; i < secs->n; i++)
            n += kz_word_tokenize(secs->s[i], secs->len[i], toks, secs->len[i] + 1);
        t[r] = thread_cpu_s() - t0;
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp_double);
    printf("tokenize only               : median %.3f s, %.1f MB/s, %llu tokens\n", t[runs / 2],
           (double)secs->bytes / t[runs / 2] / 1e6, (unsigned long long)n);
}

int main(int argc, char **argv) {
    const char *kb_path = NULL, *terms_out = NULL;
    const char *texts[16];
    int n_texts = 0, runs = 5;
    bool build = true, huge = false, raw = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--kb") && i + 1 < argc)
            kb_path = argv[++i];
        else if (!strcmp(argv[i], "--text") && i + 1 < argc && n_texts < 16)
            texts[n_texts++] = argv[++i];
        else if (!strcmp(argv[i], "--terms-out") && i + 1 < argc)
            terms_out = argv[++i];
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-build"))
            build = false;
        else if (!strcmp(argv[i], "--huge"))
            huge = true;
        else if (!strcmp(argv[i], "--no-raw"))
            raw = false;
        else {
            fprintf(stderr,
                    "usage: bench_dict --kb PACK --text LINES... [--terms-out F] [--runs N] [--no-build] "
                    "[--no-raw]\n"
                    "  LINES: one text section per line; F: CASE_SENSITIVE<TAB>TERM per NER resource\n");
            return 2;
        }
    }
    if (!kb_path || !n_texts || runs < 1 || runs > 15) die("need --kb and --text (runs 1..15)");
    sections secs = {0};
    for (int i = 0; i < n_texts; i++) load_lines(&secs, texts[i]);
    printf("text: %zu sections, %.2f MB from %d file(s)\n", secs.n, (double)secs.bytes / 1e6, n_texts);
    kz_error err;
    kz_kb *kb;
    double t0 = thread_cpu_s();
    if (kz_kb_open(kb_path, &kb, &err)) die("%s: %s", kb_path, err.msg);
    const void *sec = NULL, *stored = NULL;
    size_t sec_len = 0, stored_len = 0;
    void *built = NULL;
    size_t built_len = 0;
    kz_matcher *m = NULL;
    if (kz_kb_section(kb, KZ_DICT_SECTION_TAG, &stored, &stored_len) == 0 &&
        kz_matcher_open(stored, stored_len, &m, &err) == 0) {
        sec = stored, sec_len = stored_len;
    } else {
        printf("pack: no usable KZAC section (%s): scanning the automaton built here\n",
               stored ? err.msg : "absent");
        build = true;
    }
    double t1 = thread_cpu_s();
    if (build) {
        double b0 = thread_cpu_s();
        if (kz__dict_build(kb, &built, &built_len, NULL, NULL, &err)) die("%s", err.msg);
        double b1 = thread_cpu_s();
        printf("build from the pack: %.2f s CPU (%s the stored section)\n", b1 - b0,
               stored && built_len == stored_len && !memcmp(built, stored, built_len) ? "byte-identical to"
                                                                                      : "differs from");
        if (!m) {
            sec = built, sec_len = built_len;
            if (kz_matcher_open(sec, sec_len, &m, &err)) die("%s", err.msg);
        }
    }
    void *copy = NULL;
    if (huge) { /* the automaton copied into transparent huge pages (fewer TLB misses) */
        if (posix_memalign(&copy, 1 << 21, sec_len)) die("oom");
        madvise(copy, sec_len, MADV_HUGEPAGE);
        memcpy(copy, sec, sec_len);
        kz_matcher_close(m);
        if (kz_matcher_open(copy, sec_len, &m, &err)) die("%s", err.msg);
    }
    kz_matcher_info info;
    kz_matcher_get_info(m, &info);
    uint64_t n_ner = 0, ner_bytes = 0;
    FILE *tf = terms_out ? fopen(terms_out, "w") : NULL;
    if (terms_out && !tf) die("cannot write %s", terms_out);
    for (uint64_t i = 0; i < kz_kb_n_resources(kb); i++) {
        kz_kb_resource r;
        if (kz_kb_resource_at(kb, i, &r) || !kz__dict_resource_is_ner(&r)) continue;
        n_ner++;
        ner_bytes += r.text.len;
        if (tf) fprintf(tf, "%d\t%.*s\n", r.case_sensitive, (int)r.text.len, r.text.ptr);
    }
    if (tf) fclose(tf);
    printf("pack: %s, %llu resources, %llu NER synonyms (%.1f MB of text)\n", kb_path,
           (unsigned long long)kz_kb_n_resources(kb), (unsigned long long)n_ner, (double)ner_bytes / 1e6);
    printf("automaton: %u byte-trie states, %u double-array units, %u keys, %u patterns, %.1f MiB = %.1f MiB "
           "per million synonyms; open %.3f ms\n",
           info.n_states, info.n_units, info.n_keys, info.n_patterns, (double)info.blob_bytes / 1048576.0,
           (double)info.blob_bytes / 1048576.0 / ((double)info.n_patterns / 1e6), (t1 - t0) * 1e3);
    size_t maxlen = 0;
    for (size_t i = 0; i < secs.n; i++)
        if (secs.len[i] > maxlen) maxlen = secs.len[i];
    kz_span *toks = malloc((maxlen + 1) * sizeof *toks);
    uint8_t *marks = malloc(2 * (maxlen + 1));
    size_t *starts = malloc((maxlen + 1) * sizeof *starts);
    if (!toks || !marks || !starts) die("oom");
    if (raw) {
        double p0 = thread_cpu_s();
        if (kz_matcher_prepare_scan(m, &err)) die("%s", err.msg);
        printf("full-scan automaton (failure links, built in memory): %.2f s CPU\n", thread_cpu_s() - p0);
        scan(m, &secs, runs, false, NULL, NULL, NULL);
        scan(m, &secs, 1, false, toks, marks, NULL);
    }
    scan(m, &secs, runs, true, toks, marks, starts);
    tok_only(&secs, runs, toks);
    printf("peak RSS: %.1f MiB\n", peak_rss_kib() / 1024.0);
    free(toks), free(marks), free(starts);
    kz_matcher_close(m);
    free(copy);
    free(built);
    kz_kb_close(kb);
    for (size_t i = 0; i < secs.n; i++) free(secs.s[i]);
    free(secs.s), free(secs.len);
    return 0;
}
