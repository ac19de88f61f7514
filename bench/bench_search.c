/* Benchmark: candidate search (DictionaryEntityLinkingStep's TF-IDF top-k) on a
 * kb pack: index build time and size, pruned search queries/s on one core
 * (median of runs), and recall against the brute-force scorer on the same queries. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_util.h"
#include "kazu/kazu.h"
#include "kazu/kb.h"
#include "kazu/normalise.h"
#include "../src/link/tfidf_int.h"

int kz__tfidf_build_section(const kz_kb *kb, void **blob, size_t *len, kz_error *err);

/* CPU time of this (single-threaded) process: "per core" even on a loaded machine. */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t g_rng = 42;
static uint32_t rnd(uint32_t n) {
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((g_rng >> 33) % n);
}

typedef struct query {
    char *text; /* normalised-looking query (a perturbed synonym_norm) */
    size_t len;
    uint32_t slot;
    const char *cls;
} query;

/* One edit of a synonym norm: what a mention that missed the exact key looks like. */
static size_t perturb(const char *s, size_t len, char *out) {
    memcpy(out, s, len);
    size_t n = len;
    switch (rnd(5)) {
    case 0: /* delete an ASCII char */
    {
        size_t i = rnd((uint32_t)n);
        if ((unsigned char)out[i] < 0x80) memmove(out + i, out + i + 1, n - i - 1), n--;
        break;
    }
    case 1: /* substitute */
    {
        size_t i = rnd((uint32_t)n);
        if ((unsigned char)out[i] < 0x80) out[i] = (char)('A' + rnd(26));
        break;
    }
    case 2: /* insert a letter */
    {
        size_t i = rnd((uint32_t)n + 1);
        memmove(out + i + 1, out + i, n - i);
        out[i] = (char)('A' + rnd(26));
        n++;
        break;
    }
    case 3: /* drop the last word */
    {
        char *sp = memrchr(out, ' ', n);
        if (sp && sp != out) n = (size_t)(sp - out);
        break;
    }
    default: /* add a word */
        memcpy(out + n, " DISEASE", 8);
        n += 8;
        break;
    }
    out[n] = 0;
    return n;
}

int main(int argc, char **argv) {
    const char *kb_path = NULL;
    int n_queries = 20000, runs = 3, k = 20, n_recall = 300;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--kb") && i + 1 < argc)
            kb_path = argv[++i];
        else if (!strcmp(argv[i], "--queries") && i + 1 < argc)
            n_queries = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--k") && i + 1 < argc)
            k = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--recall") && i + 1 < argc)
            n_recall = atoi(argv[++i]);
        else
            die("usage: bench_search --kb PACK [--queries N] [--runs N] [--k K] [--recall N]");
    }
    if (!kb_path || n_queries <= 0 || runs <= 0 || k <= 0 || k > (int)KZ_TFIDF_MAX_K) die("bad arguments");
    if (n_recall > n_queries) n_recall = n_queries;
    kz_error err;
    kz_error_clear(&err);
    kz_kb *kb;
    if (kz_kb_open(kb_path, &kb, &err)) die("%s: %s", kb_path, err.msg);
    const void *blob;
    void *own = NULL;
    size_t len;
    double t0 = now(), build_s = 0;
    if (kz_kb_section(kb, KZ_KB_TAG('K', 'Z', 'T', 'F'), &blob, &len) != 0) {
        if (kz__tfidf_build_section(kb, &own, &len, &err)) die("index build: %s", err.msg);
        blob = own;
        build_s = now() - t0;
    }
    kz_tfidf *ix;
    if (kz__tfidf_open(blob, len, &ix, &err)) die("index open: %s", err.msg);
    uint32_t ns = kz__tfidf_n_indexes(ix);
    uint64_t total_docs = 0, total_post = 0;
    for (uint32_t s = 0; s < ns; s++) {
        kz_tfidf_index_info info;
        kz__tfidf_index_info(ix, s, &info);
        total_docs += info.n_docs;
        total_post += info.n_postings;
    }
    printf("pack            %s\n", kb_path);
    printf("index           %u parsers, %llu documents, %llu postings, %.1f MiB%s", ns,
           (unsigned long long)total_docs, (unsigned long long)total_post, (double)len / 1048576.0,
           own ? "" : " (KZTF section)\n");
    if (own) printf(", built in %.2f s\n", build_s);

    /* queries: uniform over parsers, then a random candidate, perturbed once */
    query *qs = calloc((size_t)n_queries, sizeof *qs);
    kz_arena *a = kz_arena_new(0);
    char buf[4096];
    for (int i = 0; i < n_queries; i++) {
        kz_tfidf_index_info info;
        uint32_t slot;
        do {
            slot = rnd(ns);
            kz__tfidf_index_info(ix, slot, &info);
        } while (info.n_docs == 0);
        kz_candidate c;
        kz_arena_reset(a);
        if (kz_kb_candidate_at(kb, info.first_candidate + rnd(info.n_docs), a, &c)) die("candidate");
        size_t l = c.synonym_norm.len < 4000 ? c.synonym_norm.len : 4000;
        if (l == 0) {
            i--;
            continue;
        }
        l = perturb(c.synonym_norm.ptr, l, buf);
        qs[i].text = malloc(l + 1);
        memcpy(qs[i].text, buf, l + 1);
        qs[i].len = l;
        qs[i].slot = slot;
        kz_kb_parser p;
        kz_kb_parser_at(kb, info.parser, &p);
        qs[i].cls = p.entity_class.ptr;
    }
    kz_arena_free(a);

    kz_tfidf_scratch *s = kz__tfidf_scratch_new();
    kz_tfidf_hit *hits = malloc((size_t)k * sizeof *hits), *bh = malloc((size_t)k * sizeof *bh);
    double *qps = malloc((size_t)runs * sizeof *qps);
    uint64_t hash = 1469598103934665603ull, post = 0, resc = 0, tproc = 0, ttot = 0, nhits = 0;
    double *slot_s = calloc(ns, sizeof *slot_s);
    uint64_t *slot_n = calloc(ns, sizeof *slot_n), *slot_post = calloc(ns, sizeof *slot_post);
    for (int r = 0; r < runs; r++) {
        double t = now();
        for (int i = 0; i < n_queries; i++) {
            uint32_t n;
            double tq = r == 0 ? now() : 0;
            if (kz__tfidf_search(ix, qs[i].slot, qs[i].text, qs[i].len, (uint32_t)k, s, hits, &n, &err))
                die("search: %s", err.msg);
            if (r == 0) {
                kz_tfidf_stats st;
                kz__tfidf_last_stats(s, &st);
                post += st.postings_read;
                resc += st.docs_rescored;
                tproc += st.terms_processed;
                ttot += st.terms_total;
                nhits += n;
                slot_s[qs[i].slot] += now() - tq;
                slot_n[qs[i].slot]++;
                slot_post[qs[i].slot] += st.postings_read;
                for (uint32_t j = 0; j < n; j++) hash = (hash ^ hits[j].doc) * 1099511628211ull;
            }
        }
        qps[r] = n_queries / (now() - t);
    }
    qsort(qps, (size_t)runs, sizeof *qps, cmp_double);
    printf("queries         %d (perturbed synonym norms, uniform over parsers), top-%d\n", n_queries, k);
    printf("pruned search   %.0f queries/s per core (CPU time) (median of %d runs; min %.0f, max %.0f)\n",
           qps[runs / 2], runs, qps[0], qps[runs - 1]);
    printf("per query       %.0f postings read, %.1f documents rescored, %.1f of %.1f terms processed, %.1f "
           "hits\n",
           (double)post / n_queries, (double)resc / n_queries, (double)tproc / n_queries,
           (double)ttot / n_queries, (double)nhits / n_queries);

    printf("per parser      docs  queries  us/query  postings/query\n");
    for (uint32_t sl = 0; sl < ns; sl++) {
        kz_tfidf_index_info info;
        kz__tfidf_index_info(ix, sl, &info);
        kz_kb_parser p;
        kz_kb_parser_at(kb, info.parser, &p);
        if (slot_n[sl])
            printf("  %-26s %7u %6llu %9.1f %10.0f\n", p.name.ptr, info.n_docs,
                   (unsigned long long)slot_n[sl], slot_s[sl] / (double)slot_n[sl] * 1e6,
                   (double)slot_post[sl] / (double)slot_n[sl]);
    }
    free(slot_s);
    free(slot_n);
    free(slot_post);

    /* recall against brute force on the first n_recall queries */
    uint64_t want = 0, found = 0;
    int identical = 0;
    double tb = now();
    for (int i = 0; i < n_recall; i++) {
        uint32_t n, nb;
        kz__tfidf_search(ix, qs[i].slot, qs[i].text, qs[i].len, (uint32_t)k, s, hits, &n, &err);
        kz__tfidf_search_brute(ix, qs[i].slot, qs[i].text, qs[i].len, (uint32_t)k, s, bh, &nb, &err);
        want += nb;
        bool same = n == nb;
        for (uint32_t j = 0; j < nb; j++) {
            bool in = false;
            for (uint32_t m = 0; m < n; m++) in = in || hits[m].doc == bh[j].doc;
            found += in;
            same = same && j < n && hits[j].doc == bh[j].doc && hits[j].score == bh[j].score;
        }
        identical += same;
    }
    double brute_s = now() - tb;
    printf("brute force     %.0f queries/s per core (CPU time) (full scan of the parser's documents)\n",
           n_recall / brute_s * 1.0);
    printf("recall@%d       %.6f over %d queries (%llu/%llu brute-force hits found; %d/%d lists identical)\n",
           k, want ? (double)found / (double)want : 1.0, n_recall, (unsigned long long)found,
           (unsigned long long)want, identical, n_recall);

    /* what the step adds per query: kz_normalise of a mention */
    double tn = now();
    uint64_t nh = 1469598103934665603ull;
    for (int r = 0; r < 5; r++)
        for (int i = 0; i < n_queries; i++) {
            char *o;
            size_t ol;
            if (kz_normalise(qs[i].text, qs[i].len, qs[i].cls, &o, &ol, &err) == 0) {
                for (size_t j = 0; j < ol; j++) nh = (nh ^ (uint8_t)o[j]) * 1099511628211ull;
                free(o);
            }
        }
    printf("kz_normalise    %.2f us per query string (CPU time; output hash %016llx)\n",
           (now() - tn) / (5.0 * n_queries) * 1e6, (unsigned long long)nh);
    printf("output hash     %016llx\n", (unsigned long long)hash);

    for (int i = 0; i < n_queries; i++) free(qs[i].text);
    free(qs);
    free(hits);
    free(bh);
    free(qps);
    kz__tfidf_scratch_free(s);
    kz__tfidf_close(ix);
    free(own);
    kz_kb_close(kb);
    return 0;
}
