/* Benchmark: candidate search (DictionaryEntityLinkingStep's TF-IDF top-k) on a
 * kb pack: index build time and size, pruned search queries/s on one core
 * (median of runs, CPU time), per-parser cost, and recall against the
 * brute-force scorer on the same queries. */
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
    bool force_build = false, portable = false;
    const char *only_parser = NULL;
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
        else if (!strcmp(argv[i], "--build"))
            force_build = true;
        else if (!strcmp(argv[i], "--portable"))
            portable = true;
        else if (!strcmp(argv[i], "--parser") && i + 1 < argc)
            only_parser = argv[++i];
        else
            die("usage: bench_search --kb PACK [--queries N] [--runs N] [--k K] [--recall N] [--build] "
                "[--portable] [--parser NAME]");
    }
    if (!kb_path || n_queries <= 0 || runs <= 0 || k <= 0 || k > (int)KZ_TFIDF_MAX_K) die("bad arguments");
    if (n_recall > n_queries) n_recall = n_queries;
    kz_error err;
    kz_error_clear(&err);
    kz_kb *kb;
    if (kz_kb_open(kb_path, &kb, &err)) die("%s: %s", kb_path, err.msg);
    const void *blob = NULL;
    void *own = NULL;
    size_t len = 0;
    double build_s = 0;
    kz_tfidf *ix = NULL;
    const char *why = "forced by --build";
    if (!force_build) {
        why = "the pack has no KZTF section";
        if (kz_kb_section(kb, KZ_KB_TAG('K', 'Z', 'T', 'F'), &blob, &len) == 0) {
            int orc = kz__tfidf_open(blob, len, &ix, &err);
            if (orc && orc != KZ_EFORMAT) die("index open: %s", err.msg);
            if (orc) why = "the pack's KZTF section has another version";
        }
    }
    if (!ix) { /* what DictionaryEntityLinkingStep does at init */
        double t0 = now();
        if (kz__tfidf_build_section(kb, &own, &len, &err)) die("index build: %s", err.msg);
        build_s = now() - t0;
        blob = own;
        if (kz__tfidf_open(blob, len, &ix, &err)) die("index open: %s", err.msg);
    }
    uint32_t ns = kz__tfidf_n_indexes(ix);
    uint64_t total_docs = 0, total_post = 0, total_dense = 0, total_terms = 0;
    for (uint32_t s = 0; s < ns; s++) {
        kz_tfidf_index_info info;
        kz__tfidf_index_info(ix, s, &info);
        total_docs += info.n_docs;
        total_post += info.n_postings;
        total_dense += info.n_dense;
        total_terms += info.n_terms;
    }
    printf("pack            %s\n", kb_path);
    printf(
        "index           %u parsers, %llu documents, %llu bigrams (%llu as bitmaps), %llu postings, %.1f MiB",
        ns, (unsigned long long)total_docs, (unsigned long long)total_terms, (unsigned long long)total_dense,
        (unsigned long long)total_post, (double)len / 1048576.0);
    if (own)
        printf(", built in %.2f s CPU (%s)\n", build_s, why);
    else
        printf(" (KZTF section)\n");

    /* queries: uniform over parsers, then a random candidate, perturbed once */
    query *qs = calloc((size_t)n_queries, sizeof *qs);
    kz_arena *a = kz_arena_new(0);
    char buf[4096];
    for (int i = 0; i < n_queries; i++) {
        kz_tfidf_index_info info;
        uint32_t slot;
        int tries = 0;
        do {
            slot = rnd(ns);
            kz__tfidf_index_info(ix, slot, &info);
            if (only_parser && info.n_docs) {
                kz_kb_parser pp;
                kz_kb_parser_at(kb, info.parser, &pp);
                if (strcmp(pp.name.ptr, only_parser) != 0) info.n_docs = 0;
            }
            if (++tries > 100000) die("no parser %s with documents", only_parser ? only_parser : "");
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
    kz__tfidf_scratch_set_portable(s, portable);
    kz_tfidf_hit *hits = malloc((size_t)k * sizeof *hits), *bh = malloc((size_t)k * sizeof *bh);
    double *qps = malloc((size_t)runs * sizeof *qps);
    uint64_t hash = 1469598103934665603ull, post = 0, resc = 0, tdense = 0, ttot = 0, nhits = 0, gscan = 0,
             gtot = 0, gcut = 0, flagged = 0, seeded = 0;
    double *slot_s = calloc(ns, sizeof *slot_s);
    uint64_t *slot_n = calloc(ns, sizeof *slot_n), *slot_post = calloc(ns, sizeof *slot_post),
             *slot_resc = calloc(ns, sizeof *slot_resc), *slot_gscan = calloc(ns, sizeof *slot_gscan),
             *slot_gtot = calloc(ns, sizeof *slot_gtot);
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
                flagged += st.docs_flagged;
                seeded += st.docs_seeded;
                tdense += st.terms_dense;
                ttot += st.terms_total;
                gscan += st.groups_scanned;
                gtot += st.groups_total;
                gcut += st.groups_cut;
                nhits += n;
                slot_s[qs[i].slot] += now() - tq;
                slot_n[qs[i].slot]++;
                slot_post[qs[i].slot] += st.postings_read;
                slot_resc[qs[i].slot] += st.docs_rescored;
                slot_gscan[qs[i].slot] += st.groups_scanned;
                slot_gtot[qs[i].slot] += st.groups_total;
                for (uint32_t j = 0; j < n; j++) hash = (hash ^ hits[j].doc) * 1099511628211ull;
            }
        }
        qps[r] = n_queries / (now() - t);
    }
    qsort(qps, (size_t)runs, sizeof *qps, cmp_double);
    printf("queries         %d (perturbed synonym norms, uniform over %s), top-%d\n", n_queries,
           only_parser ? only_parser : "parsers", k);
    printf("pruned search   %.0f queries/s per core (CPU time) (median of %d runs; min %.0f, max %.0f)%s\n",
           qps[runs / 2], runs, qps[0], qps[runs - 1], portable ? " [portable pass]" : "");
    printf("per query       %.1f of %.1f terms as bitmaps, %.0f postings read, %.1f%% of groups scanned "
           "(%.1f%% of those cut early), %.1f documents flagged, %.1f rescored (%.1f while seeding), %.1f "
           "hits\n",
           (double)tdense / n_queries, (double)ttot / n_queries, (double)post / n_queries,
           gtot ? 100.0 * (double)gscan / (double)gtot : 0.0,
           gscan ? 100.0 * (double)gcut / (double)gscan : 0.0, (double)flagged / n_queries,
           (double)resc / n_queries, (double)seeded / n_queries, (double)nhits / n_queries);

    printf("per parser (first run)        docs  queries  us/query  postings/q  groups%%  rescored/q\n");
    for (uint32_t sl = 0; sl < ns; sl++) {
        kz_tfidf_index_info info;
        kz__tfidf_index_info(ix, sl, &info);
        kz_kb_parser p;
        kz_kb_parser_at(kb, info.parser, &p);
        if (slot_n[sl])
            printf("  %-26s %7u %6llu %9.1f %10.0f %7.1f %10.1f\n", p.name.ptr, info.n_docs,
                   (unsigned long long)slot_n[sl], slot_s[sl] / (double)slot_n[sl] * 1e6,
                   (double)slot_post[sl] / (double)slot_n[sl],
                   slot_gtot[sl] ? 100.0 * (double)slot_gscan[sl] / (double)slot_gtot[sl] : 0.0,
                   (double)slot_resc[sl] / (double)slot_n[sl]);
    }
    free(slot_s);
    free(slot_n);
    free(slot_post);
    free(slot_resc);
    free(slot_gscan);
    free(slot_gtot);

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
