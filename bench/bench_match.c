/* Benchmark: dictionary matching automaton built from every string resource of
 * a kb pack (or synthetic terms), its blob size, load time and scan speed over
 * PubTator titles/abstracts. bench/match_vs_python.sh runs it beside pyahocorasick. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "bench_util.h"
#include "kazu/kazu.h"
#include "kazu/kb.h"
#include "kazu/match.h"

static void usage(void) {
    fprintf(stderr,
            "usage: bench_match [--kb PACK | --synthetic N] --text PUBTATOR... [--terms-out FILE]\n"
            "                   [--blob-out FILE] [--runs N]\n"
            "       bench_match --blob FILE --text PUBTATOR...   (scan only: mmap a saved blob)\n"
            "  --kb PACK        build from every resource of this pack\n"
            "  --synthetic N    build from N generated terms instead\n"
            "  --terms-out F    write the terms (CASE_SENSITIVE<TAB>TERM a line) for bench/peer_match.py\n"
            "  --blob-out F     keep the blob in F\n");
    exit(2);
}

/* ---- text: title and abstract lines of PubTator files ------------------ */
typedef struct sections {
    char **s;
    size_t *len, n, cap, bytes;
} sections;

static void load_pubtator(sections *secs, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) die("cannot read %s", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        char *bar = strchr(line, '|');
        if (!bar || (strncmp(bar, "|t|", 3) && strncmp(bar, "|a|", 3))) continue;
        char *t = bar + 3;
        size_t l = (size_t)(line + n - t);
        while (l && (t[l - 1] == '\n' || t[l - 1] == '\r')) l--;
        if (secs->n == secs->cap) {
            secs->cap = secs->cap ? secs->cap * 2 : 1024;
            secs->s = realloc(secs->s, secs->cap * sizeof *secs->s);
            secs->len = realloc(secs->len, secs->cap * sizeof *secs->len);
        }
        secs->s[secs->n] = strndup(t, l);
        secs->len[secs->n++] = l;
        secs->bytes += l;
    }
    free(line);
    fclose(f);
}

typedef struct counts {
    uint64_t hits, key_hits;
    size_t last_start, last_end;
    uint64_t hash;
} counts;

static int count_hit(void *user, const kz_match_hit *h) {
    counts *c = user;
    c->hits++;
    if (h->start != c->last_start || h->end != c->last_end) c->key_hits++;
    c->last_start = h->start, c->last_end = h->end;
    c->hash = (c->hash ^ (h->start * 31 + h->end * 7 + h->payload)) * 1099511628211ull;
    return 0;
}

static int dump_hit(void *user, const kz_match_hit *h) {
    const char *t = user;
    printf("hit %zu %zu %u %.*s\n", h->start, h->end, h->payload, (int)(h->end - h->start), t + h->start);
    return 0;
}

/* The full scan's failure automaton is built in memory on first use: build it
 * outside the timed scans and report its cost. */
static void prepare(const kz_matcher *m) {
    kz_error err;
    double t0 = thread_cpu_s();
    if (kz_matcher_prepare_scan(m, &err)) die("%s", err.msg);
    printf("full-scan automaton built in memory: %.3f s CPU\n", thread_cpu_s() - t0);
}

static void scan_report(const kz_matcher *m, const sections *secs, int runs, unsigned flags,
                        const char *what) {
    double t[16];
    counts c = {0};
    for (int r = 0; r < runs; r++) {
        memset(&c, 0, sizeof c);
        c.hash = 14695981039346656037ull;
        double t0 = wall_s();
        for (size_t i = 0; i < secs->n; i++) {
            c.last_start = c.last_end = (size_t)-1;
            kz_matcher_scan(m, secs->s[i], secs->len[i], flags, count_hit, &c);
        }
        t[r] = wall_s() - t0;
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp_double);
    double med = t[runs / 2];
    printf("scan %-9s: median %.3f s of %d (min %.3f max %.3f), %.1f MB/s, %llu hits (%llu key hits), "
           "%.2f M hits/s, hash %016llx\n",
           what, med, runs, t[0], t[runs - 1], (double)secs->bytes / med / 1e6, (unsigned long long)c.hits,
           (unsigned long long)c.key_hits, (double)c.hits / med / 1e6, (unsigned long long)c.hash);
}

int main(int argc, char **argv) {
    const char *kb_path = NULL, *terms_out = NULL, *blob_out = NULL, *blob_in = NULL;
    const char *texts[8];
    int n_texts = 0, runs = 5;
    long dump = -1; /* debugging: print the raw hits of this section */
    long synthetic = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--kb") && i + 1 < argc)
            kb_path = argv[++i];
        else if (!strcmp(argv[i], "--synthetic") && i + 1 < argc)
            synthetic = atol(argv[++i]);
        else if (!strcmp(argv[i], "--text") && i + 1 < argc && n_texts < 8)
            texts[n_texts++] = argv[++i];
        else if (!strcmp(argv[i], "--terms-out") && i + 1 < argc)
            terms_out = argv[++i];
        else if (!strcmp(argv[i], "--blob-out") && i + 1 < argc)
            blob_out = argv[++i];
        else if (!strcmp(argv[i], "--blob") && i + 1 < argc)
            blob_in = argv[++i];
        else if (!strcmp(argv[i], "--dump-section") && i + 1 < argc)
            dump = atol(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else
            usage();
    }
    if (runs < 1 || runs > 15 || !n_texts || (!kb_path && !synthetic && !blob_in)) usage();
    sections secs = {0};
    for (int i = 0; i < n_texts; i++) load_pubtator(&secs, texts[i]);
    printf("text: %zu sections, %.2f MB from %d file(s)\n", secs.n, (double)secs.bytes / 1e6, n_texts);
    kz_error err;

    if (blob_in) { /* scan-only process: its peak RSS is the matcher's working set */
        long rss0 = peak_rss_kib();
        double t0 = wall_s();
        int fd = open(blob_in, O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st)) die("cannot open %s", blob_in);
        void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) die("mmap failed");
        kz_matcher *m;
        if (kz_matcher_open(map, (size_t)st.st_size, &m, &err)) die("%s", err.msg);
        double t1 = wall_s();
        printf("load (mmap + open): %.3f ms for %.1f MiB\n", (t1 - t0) * 1e3, (double)st.st_size / 1048576.0);
        if (dump >= 0 && (size_t)dump < secs.n)
            kz_matcher_scan(m, secs.s[dump], secs.len[dump], 0, dump_hit, secs.s[dump]);
        prepare(m);
        scan_report(m, &secs, runs, 0, "raw");
        scan_report(m, &secs, runs, KZ_MATCH_WORD_BOUNDARY, "boundary");
        printf("scan-only process peak RSS: %.1f MiB (%.1f MiB before mapping)\n", peak_rss_kib() / 1024.0,
               rss0 / 1024.0);
        kz_matcher_close(m);
        munmap(map, (size_t)st.st_size);
        close(fd);
        return 0;
    }

    kz_match_builder *b;
    if (kz_match_builder_new(&b)) die("oom");
    FILE *tf = terms_out ? fopen(terms_out, "w") : NULL;
    if (terms_out && !tf) die("cannot write %s", terms_out);
    uint64_t pat_bytes = 0, skipped = 0;
    double t0 = wall_s();
    kz_kb *kb = NULL;
    if (kb_path) {
        if (kz_kb_open(kb_path, &kb, &err)) die("%s: %s", kb_path, err.msg);
        uint64_t n = kz_kb_n_resources(kb);
        for (uint64_t i = 0; i < n; i++) {
            kz_kb_resource r;
            if (kz_kb_resource_at(kb, i, &r)) continue;
            if (memchr(r.text.ptr, '\n', r.text.len) ||
                kz_match_builder_add(b, r.text.ptr, r.text.len, (uint32_t)i, r.case_sensitive)) {
                skipped++;
                continue;
            }
            pat_bytes += r.text.len;
            if (tf) fprintf(tf, "%d\t%.*s\n", r.case_sensitive, (int)r.text.len, r.text.ptr);
        }
    } else {
        static const char *syl[] = {"ka", "zu", "lo", "mi", "ne", "ra", "to", "ph", "yl", "ase", "in", "ox",
                                    "ci", "dr", "ge", "ne", " ",  "-",  "1",  "2",  "α",  "β",   "γ",  "ine"};
        uint64_t x = 88172645463325252ull;
        char term[128];
        for (long i = 0; i < synthetic; i++) {
            size_t l = 0;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int ns = 3 + (int)(x % 8);
            for (int k = 0; k < ns; k++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                const char *s = syl[x % (sizeof syl / sizeof syl[0])];
                size_t sl = strlen(s);
                memcpy(term + l, s, sl), l += sl;
            }
            int cs = (x >> 20) % 10 == 0;
            kz_match_builder_add(b, term, l, (uint32_t)i, cs);
            pat_bytes += l;
            if (tf) fprintf(tf, "%d\t%.*s\n", cs, (int)l, term);
        }
    }
    if (tf) fclose(tf);
    double t1 = wall_s();
    void *blob;
    size_t blen;
    if (kz_match_builder_finish(b, &blob, &blen, &err)) die("%s", err.msg);
    double t2 = wall_s();
    uint64_t npat = kz_match_builder_count(b);
    kz_match_builder_free(b);
    kz_kb_close(kb);
    kz_matcher *m;
    double t3 = wall_s();
    if (kz_matcher_open(blob, blen, &m, &err)) die("%s", err.msg);
    double t4 = wall_s();
    kz_matcher_info info;
    kz_matcher_get_info(m, &info);
    printf("source: %s\n", kb_path ? kb_path : "synthetic");
    printf("patterns: %llu (%llu skipped), %.1f MB of pattern text, %u keys, %u states\n",
           (unsigned long long)npat, (unsigned long long)skipped, (double)pat_bytes / 1e6, info.n_keys,
           info.n_states);
    printf("collect: %.2f s, build: %.2f s\n", t1 - t0, t2 - t1);
    printf("blob: %.1f MiB (%.2f bytes per pattern byte)\n", (double)blen / 1048576.0,
           (double)blen / (double)(pat_bytes ? pat_bytes : 1));
    printf("open (in memory): %.3f ms\n", (t4 - t3) * 1e3);
    if (blob_out) {
        FILE *f = fopen(blob_out, "wb");
        if (!f || fwrite(blob, 1, blen, f) != blen || fclose(f)) die("cannot write %s", blob_out);
    }
    prepare(m);
    scan_report(m, &secs, runs, 0, "raw");
    scan_report(m, &secs, runs, KZ_MATCH_WORD_BOUNDARY, "boundary");
    printf("build process peak RSS: %.1f MiB\n", peak_rss_kib() / 1024.0);
    kz_matcher_close(m);
    free(blob);
    for (size_t i = 0; i < secs.n; i++) free(secs.s[i]);
    free(secs.s), free(secs.len);
    return 0;
}
