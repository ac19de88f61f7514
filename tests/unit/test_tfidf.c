/* The TF-IDF candidate index against an independent brute-force scorer in this
 * file (sklearn TfidfVectorizer semantics: char bigrams, raw tf, smooth idf, l2
 * rows, cosine): identical top-k ids on random queries, scores within 1e-6,
 * with the AVX2 and the portable bound pass alike; ties, k beyond the index,
 * common-bigram-only queries; corrupt and other-version blobs refused or
 * survived. */
#include <math.h>
#include "kz_test.h"
#include "kazu/core.h"
#include "kazu/utf8.h"
#include "link/tfidf_int.h"

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng % n);
}

/* Random normalised-looking strings over a small alphabet (ASCII + two
 * 2-byte and one 3-byte character) so bigrams repeat and scores tie, plus
 * rare letters (1 in 40) whose bigrams stay postings rather than bitmaps. */
static const char *const ALPHA[] = {"A", "B", "C", "D", "E", "I",        "N",        "S",
                                    "T", " ", " ", "1", "2", "\xc3\x89", "\xce\x91", "\xe2\x80\x90"};
#define N_ALPHA (sizeof ALPHA / sizeof ALPHA[0])
static const char RARE[] = "FGHJKLMOPQRUVWXYZ";

static size_t rand_string(char *buf, size_t cap, uint32_t max_chars) {
    uint32_t n = rnd(max_chars + 1);
    size_t len = 0;
    for (uint32_t i = 0; i < n; i++) {
        char rare[2] = {RARE[rnd(sizeof RARE - 1)], 0};
        const char *a = rnd(40) == 0 ? rare : ALPHA[rnd(N_ALPHA)];
        size_t l = strlen(a);
        if (len + l + 1 > cap) break;
        memcpy(buf + len, a, l);
        len += l;
    }
    buf[len] = 0;
    return len;
}

/* ---- the independent reference ------------------------------------------------ */
typedef struct ref_doc {
    uint32_t *t, *tf; /* distinct terms ascending with counts */
    uint32_t n;
} ref_doc;

typedef struct ref_index {
    uint64_t *vocab;
    uint32_t nv;
    double *idf;
    ref_doc *docs;
    uint32_t nd;
} ref_index;

static uint32_t decode_cps(const char *s, size_t len, uint32_t *out) {
    uint32_t n = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        uint32_t cp;
        if (c < 0x80) {
            cp = c;
            i += 1;
        } else if (c < 0xE0) {
            cp = (uint32_t)(c & 0x1F) << 6 | ((unsigned char)s[i + 1] & 0x3F);
            i += 2;
        } else {
            cp = (uint32_t)(c & 0x0F) << 12 | (uint32_t)((unsigned char)s[i + 1] & 0x3F) << 6 |
                 ((unsigned char)s[i + 2] & 0x3F);
            i += 3;
        }
        out[n++] = cp;
    }
    return n;
}

static int cmp64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}
static int cmp32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int64_t vocab_find(const ref_index *r, uint64_t k) {
    for (uint32_t lo = 0, hi = r->nv; lo < hi;) {
        uint32_t m = (lo + hi) / 2;
        if (r->vocab[m] == k) return m;
        if (r->vocab[m] < k)
            lo = m + 1;
        else
            hi = m;
    }
    return -1;
}

/* Distinct known terms of s (ascending) with counts; returns n. */
static uint32_t terms_of(const ref_index *r, const char *s, size_t len, uint32_t *t, uint32_t *tf) {
    uint32_t cps[256];
    uint32_t n = decode_cps(s, len, cps), m = 0;
    uint64_t keys[256];
    for (uint32_t i = 0; i + 1 < n; i++) keys[m++] = (uint64_t)cps[i] << 32 | cps[i + 1];
    uint32_t ids[256], k = 0;
    for (uint32_t i = 0; i < m; i++) {
        int64_t id = vocab_find(r, keys[i]);
        if (id >= 0) ids[k++] = (uint32_t)id;
    }
    qsort(ids, k, sizeof *ids, cmp32);
    uint32_t nd = 0;
    for (uint32_t i = 0; i < k;) {
        uint32_t j = i;
        while (j < k && ids[j] == ids[i]) j++;
        t[nd] = ids[i];
        tf[nd++] = j - i;
        i = j;
    }
    return nd;
}

static void ref_build(ref_index *r, char **docs, size_t *lens, uint32_t nd) {
    uint64_t *all = malloc(nd * 256 * sizeof *all);
    uint32_t na = 0;
    for (uint32_t d = 0; d < nd; d++) {
        uint32_t cps[256];
        uint32_t n = decode_cps(docs[d], lens[d], cps);
        for (uint32_t i = 0; i + 1 < n; i++) all[na++] = (uint64_t)cps[i] << 32 | cps[i + 1];
    }
    qsort(all, na, sizeof *all, cmp64);
    uint32_t nv = 0;
    for (uint32_t i = 0; i < na; i++)
        if (nv == 0 || all[nv - 1] != all[i]) all[nv++] = all[i];
    r->vocab = all;
    r->nv = nv;
    r->nd = nd;
    r->docs = calloc(nd, sizeof *r->docs);
    uint32_t *df = calloc(nv + 1, sizeof *df);
    for (uint32_t d = 0; d < nd; d++) {
        uint32_t t[256], tf[256];
        uint32_t n = terms_of(r, docs[d], lens[d], t, tf);
        r->docs[d].t = malloc((n + 1) * sizeof *t);
        r->docs[d].tf = malloc((n + 1) * sizeof *tf);
        memcpy(r->docs[d].t, t, n * sizeof *t);
        memcpy(r->docs[d].tf, tf, n * sizeof *tf);
        r->docs[d].n = n;
        for (uint32_t i = 0; i < n; i++) df[t[i]]++;
    }
    r->idf = malloc((nv + 1) * sizeof *r->idf);
    /* sklearn smooth_idf: ln((1 + n) / (1 + df)) + 1 */
    for (uint32_t i = 0; i < nv; i++) r->idf[i] = log((1.0 + nd) / (1.0 + df[i])) + 1.0;
    free(df);
}

static void ref_free(ref_index *r) {
    for (uint32_t d = 0; d < r->nd; d++) free(r->docs[d].t), free(r->docs[d].tf);
    free(r->docs);
    free(r->vocab);
    free(r->idf);
}

typedef struct ref_hit {
    uint32_t doc;
    double score;
} ref_hit;

static int cmp_ref_hit(const void *a, const void *b) {
    const ref_hit *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->doc > y->doc) - (x->doc < y->doc);
}

/* Every document's cosine, full sort, positive scores only, first k. */
static uint32_t ref_search(const ref_index *r, const char *q, size_t qlen, uint32_t k, ref_hit *out) {
    uint32_t qt[256], qtf[256];
    uint32_t nq = terms_of(r, q, qlen, qt, qtf);
    double qv[256], ss = 0;
    for (uint32_t i = 0; i < nq; i++) {
        qv[i] = (double)qtf[i] * r->idf[qt[i]];
        ss += qv[i] * qv[i];
    }
    double qn = sqrt(ss);
    for (uint32_t i = 0; i < nq; i++) qv[i] = qv[i] / qn;
    ref_hit *all = malloc(r->nd * sizeof *all);
    uint32_t n = 0;
    for (uint32_t d = 0; d < r->nd && nq; d++) {
        const ref_doc *rd = &r->docs[d];
        double dss = 0;
        for (uint32_t i = 0; i < rd->n; i++) {
            double w = (double)rd->tf[i] * r->idf[rd->t[i]];
            dss += w * w;
        }
        double dn = sqrt(dss), dot = 0;
        if (!(dn > 0)) continue;
        for (uint32_t i = 0, j = 0; i < rd->n; i++) {
            while (j < nq && qt[j] < rd->t[i]) j++;
            if (j < nq && qt[j] == rd->t[i]) dot += qv[j] * (((double)rd->tf[i] * r->idf[rd->t[i]]) / dn);
        }
        if (dot > 0) all[n++] = (ref_hit){d, dot};
    }
    qsort(all, n, sizeof *all, cmp_ref_hit);
    if (n > k) n = k;
    memcpy(out, all, n * sizeof *out);
    free(all);
    return n;
}

/* ---- tests --------------------------------------------------------------------- */

#define N_DOCS 12000 /* two indexes of 6000: 24 groups of 256, several runs either side */

typedef struct fixture {
    char *docs[N_DOCS];
    size_t lens[N_DOCS];
    kz_str strs[N_DOCS];
    void *blob;
    size_t len;
    kz_tfidf *ix;
    ref_index ref;
} fixture;

static bool fixture_new(fixture *f) {
    memset(f, 0, sizeof *f);
    char buf[200];
    for (uint32_t d = 0; d < N_DOCS; d++) {
        size_t l;
        if (d > 10 && rnd(8) == 0) { /* duplicates and near-duplicates force ties */
            uint32_t src = rnd(d);
            l = f->lens[src];
            memcpy(buf, f->docs[src], l + 1);
        } else {
            l = rand_string(buf, sizeof buf, 1 + rnd(4) * 10);
        }
        f->docs[d] = malloc(l + 1);
        memcpy(f->docs[d], buf, l + 1);
        f->lens[d] = l;
        f->strs[d] = (kz_str){f->docs[d], l};
    }
    kz_tfidf_input in[2] = {{f->strs, N_DOCS / 2, 100, 3}, {f->strs + N_DOCS / 2, N_DOCS / 2, 7000, 5}};
    kz_error err;
    kz_error_clear(&err);
    if (kz__tfidf_blob_build(in, 2, &f->blob, &f->len, &err)) return false;
    if (kz__tfidf_open(f->blob, f->len, &f->ix, &err)) return false;
    ref_build(&f->ref, f->docs, f->lens, N_DOCS / 2);
    return true;
}

static void fixture_free(fixture *f) {
    kz__tfidf_close(f->ix);
    free(f->blob);
    ref_free(&f->ref);
    for (uint32_t d = 0; d < N_DOCS; d++) free(f->docs[d]);
}

/* One query on slot 0 of f: the pruned search (AVX2 and portable passes) and the
 * blob's brute force equal this file's reference; false after a failure. */
static bool check_query(const fixture *f, kz_tfidf_scratch *s, kz_tfidf_scratch *sp, const char *q, size_t ql,
                        uint32_t k, uint64_t *rescored) {
    static kz_tfidf_hit got[2][256], brute[256];
    static ref_hit want[256];
    uint32_t n[2] = {0, 0}, nb = 0;
    kz_error err;
    for (int v = 0; v < 2; v++) {
        if (kz__tfidf_search(f->ix, 0, q, ql, k, v ? sp : s, got[v], &n[v], &err)) {
            kz_test_fail(__FILE__, __LINE__, "search failed: %s", err.msg);
            return false;
        }
    }
    kz_tfidf_stats st;
    kz__tfidf_last_stats(s, &st);
    *rescored += st.docs_rescored;
    if (kz__tfidf_search_brute(f->ix, 0, q, ql, k, s, brute, &nb, &err)) return false;
    uint32_t nw = ref_search(&f->ref, q, ql, k, want);
    if (n[0] != nw || n[1] != nw || nb != nw) {
        kz_test_fail(__FILE__, __LINE__, "query \"%s\" k=%u: %u / %u (portable) / %u (brute) hits, want %u",
                     q, k, n[0], n[1], nb, nw);
        return false;
    }
    for (uint32_t i = 0; i < nw; i++) {
        for (int v = 0; v < 2; v++)
            if (got[v][i].doc != want[i].doc || fabs(got[v][i].score - want[i].score) > 1e-6 ||
                got[v][i].doc != brute[i].doc || got[v][i].score != brute[i].score) {
                kz_test_fail(__FILE__, __LINE__,
                             "query \"%s\" k=%u rank %u%s: doc %u score %.17g, want doc %u %.17g", q, k, i,
                             v ? " (portable)" : "", got[v][i].doc, got[v][i].score, want[i].doc,
                             want[i].score);
                return false;
            }
    }
    return true;
}

KZ_TEST(tfidf_random_queries_match_brute_force) {
    static fixture f;
    KZ_CHECK(fixture_new(&f));
    KZ_CHECK_INT(kz__tfidf_n_indexes(f.ix), 2);
    KZ_CHECK_INT(kz__tfidf_find_parser(f.ix, 5), 1);
    KZ_CHECK_INT(kz__tfidf_find_parser(f.ix, 4), -1);
    kz_tfidf_index_info info;
    KZ_CHECK_INT(kz__tfidf_index_info(f.ix, 1, &info), 0);
    KZ_CHECK_INT(info.first_candidate, 7000);
    KZ_CHECK_INT(info.n_docs, N_DOCS / 2);
    KZ_CHECK_INT(kz__tfidf_index_info(f.ix, 0, &info), 0);
    KZ_CHECK(info.n_dense > 0 && info.n_dense < info.n_terms); /* bitmaps and postings both used */
    KZ_CHECK(info.n_postings > 0);
    kz_tfidf_scratch *s = kz__tfidf_scratch_new(), *sp = kz__tfidf_scratch_new();
    kz__tfidf_scratch_set_portable(sp, true);
    static const uint32_t ks[] = {1, 3, 20, 100};
    char q[200];
    int checked = 0;
    uint64_t rescored = 0;
    for (int it = 0; it < 1000; it++) {
        size_t ql;
        if (it % 2 == 0) { /* a document with edits: strong near matches exist */
            uint32_t d = rnd(N_DOCS / 2);
            ql = f.lens[d];
            memcpy(q, f.docs[d], ql + 1);
            for (int e = rnd(3); e > 0 && ql > 0; e--) q[rnd((uint32_t)ql)] = "ABX 9"[rnd(5)];
            if (!kz_utf8_valid(q, ql, NULL)) ql = rand_string(q, sizeof q, 20);
        } else {
            ql = rand_string(q, sizeof q, 25);
        }
        if (!check_query(&f, s, sp, q, ql, ks[it % 4], &rescored)) break;
        checked++;
    }
    KZ_CHECK_INT(checked, 1000);
    /* pruning does work: far fewer exact scores than documents */
    KZ_CHECK(rescored < (uint64_t)checked * (N_DOCS / 2) / 10);
    kz__tfidf_scratch_free(s);
    kz__tfidf_scratch_free(sp);
    fixture_free(&f);
}

/* Exact ties, k beyond the index, queries of common bigrams only: the bound's
 * edge cases against the reference. */
KZ_TEST(tfidf_ties_large_k_and_common_bigrams) {
    static fixture f;
    KZ_CHECK(fixture_new(&f));
    kz_tfidf_scratch *s = kz__tfidf_scratch_new(), *sp = kz__tfidf_scratch_new();
    kz__tfidf_scratch_set_portable(sp, true);
    uint64_t rescored = 0;
    /* the most common bigrams: spaces and the first letters */
    static const char *const common[] = {"A A", "  ", "A", "AA", "A B C D E", "AB AB AB AB", " A ", "1 2"};
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        for (uint32_t k = 1; k <= 256; k *= 4)
            KZ_CHECK(check_query(&f, s, sp, common[i], strlen(common[i]), k, &rescored));
    /* duplicated documents: the fixture copies one document in eight, so any
     * document's own string ties with its copies (ranked by document) */
    for (uint32_t d = 0; d < 40; d++)
        KZ_CHECK(check_query(&f, s, sp, f.docs[d * 7], f.lens[d * 7], 20, &rescored));
    kz__tfidf_scratch_free(s);
    kz__tfidf_scratch_free(sp);
    fixture_free(&f);

    /* a small index: k beyond the documents, many exact ties */
    kz_str docs[40];
    char store[40][8];
    for (int i = 0; i < 40; i++) {
        snprintf(store[i], sizeof store[i], i % 3 ? "ABC" : "AB%c", 'A' + i % 5);
        docs[i] = kz_str_c(store[i]);
    }
    kz_tfidf_input in = {docs, 40, 0, 0};
    void *blob;
    size_t len;
    kz_error err;
    KZ_CHECK_INT(kz__tfidf_blob_build(&in, 1, &blob, &len, &err), 0);
    kz_tfidf *ix;
    KZ_CHECK_INT(kz__tfidf_open(blob, len, &ix, &err), 0);
    s = kz__tfidf_scratch_new();
    kz_tfidf_hit h[100], hb[100];
    uint32_t n, nb;
    for (int v = 0; v < 2; v++) {
        kz__tfidf_scratch_set_portable(s, v == 1);
        KZ_CHECK_INT(kz__tfidf_search(ix, 0, "ABC", 3, 100, s, h, &n, &err), 0);
        KZ_CHECK_INT(kz__tfidf_search_brute(ix, 0, "ABC", 3, 100, s, hb, &nb, &err), 0);
        KZ_CHECK_INT(n, 40); /* every document shares "AB" */
        KZ_CHECK_INT(nb, 40);
        for (uint32_t i = 0; i < n; i++) KZ_CHECK(h[i].doc == hb[i].doc && h[i].score == hb[i].score);
        /* the 26 "ABC" documents tie at 1 and come first, by document */
        for (uint32_t i = 0; i + 1 < 26; i++)
            KZ_CHECK(h[i].score == h[i + 1].score && h[i].doc < h[i + 1].doc);
        KZ_CHECK(fabs(h[0].score - 1.0) < 1e-12);
        KZ_CHECK_INT(kz__tfidf_search(ix, 0, "ABC", 3, 5, s, h, &n, &err), 0);
        KZ_CHECK_INT(n, 5);
        for (uint32_t i = 0; i < n; i++) KZ_CHECK(h[i].doc == hb[i].doc);
    }
    kz__tfidf_scratch_free(s);
    kz__tfidf_close(ix);
    free(blob);
}

KZ_TEST(tfidf_second_index_and_edge_queries) {
    static fixture f;
    KZ_CHECK(fixture_new(&f));
    kz_tfidf_scratch *s = kz__tfidf_scratch_new();
    kz_tfidf_hit got[20];
    uint32_t n = 99;
    kz_error err;
    /* empty, one character, unknown bigrams: nothing */
    KZ_CHECK_INT(kz__tfidf_search(f.ix, 1, "", 0, 20, s, got, &n, &err), 0);
    KZ_CHECK_INT(n, 0);
    KZ_CHECK_INT(kz__tfidf_search(f.ix, 1, "A", 1, 20, s, got, &n, &err), 0);
    KZ_CHECK_INT(n, 0);
    KZ_CHECK_INT(kz__tfidf_search(f.ix, 1, "zzqq", 4, 20, s, got, &n, &err), 0);
    KZ_CHECK_INT(n, 0);
    /* an exact document string scores 1 (within rounding) and ranks first among equals */
    uint32_t d = 0;
    while (f.lens[N_DOCS / 2 + d] < 6) d++;
    KZ_CHECK_INT(
        kz__tfidf_search(f.ix, 1, f.docs[N_DOCS / 2 + d], f.lens[N_DOCS / 2 + d], 20, s, got, &n, &err), 0);
    KZ_CHECK(n >= 1);
    KZ_CHECK(fabs(got[0].score - 1.0) < 1e-9);
    KZ_CHECK(strcmp(f.docs[N_DOCS / 2 + got[0].doc], f.docs[N_DOCS / 2 + d]) == 0);
    /* bad arguments */
    KZ_CHECK_INT(kz__tfidf_search(f.ix, 2, "AB", 2, 20, s, got, &n, &err), KZ_EINVAL);
    KZ_CHECK_INT(kz__tfidf_search(f.ix, 0, "AB", 2, KZ_TFIDF_MAX_K + 1, s, got, &n, &err), KZ_EINVAL);
    kz__tfidf_scratch_free(s);
    fixture_free(&f);
}

KZ_TEST(tfidf_build_is_deterministic_and_handles_huge_tf) {
    char big[3000];
    memset(big, 'A', sizeof big - 1); /* "AA" 2998 times: tf split over forward/postings entries */
    big[sizeof big - 1] = 0;
    kz_str docs[3] = {{"ABAB", 4}, {big, sizeof big - 1}, {"BA", 2}};
    kz_tfidf_input in = {docs, 3, 0, 0};
    void *b1, *b2;
    size_t l1, l2;
    kz_error err;
    KZ_CHECK_INT(kz__tfidf_blob_build(&in, 1, &b1, &l1, &err), 0);
    KZ_CHECK_INT(kz__tfidf_blob_build(&in, 1, &b2, &l2, &err), 0);
    KZ_CHECK(l1 == l2 && memcmp(b1, b2, l1) == 0);
    kz_tfidf *ix;
    KZ_CHECK_INT(kz__tfidf_open(b1, l1, &ix, &err), 0);
    kz_tfidf_scratch *s = kz__tfidf_scratch_new();
    kz_tfidf_hit h[3], hb[3];
    uint32_t n, nb;
    KZ_CHECK_INT(kz__tfidf_search(ix, 0, "AAAB", 4, 3, s, h, &n, &err), 0);
    KZ_CHECK_INT(kz__tfidf_search_brute(ix, 0, "AAAB", 4, 3, s, hb, &nb, &err), 0);
    KZ_CHECK_INT(n, 2); /* "BA" shares no bigram with the query */
    KZ_CHECK_INT(nb, 2);

    for (uint32_t i = 0; i < n; i++) KZ_CHECK(h[i].doc == hb[i].doc && h[i].score == hb[i].score);
    kz__tfidf_scratch_free(s);
    kz__tfidf_close(ix);
    free(b1);
    free(b2);
}

KZ_TEST(tfidf_other_versions_are_refused) {
    kz_str docs[2] = {{"ALPHA", 5}, {"BETA", 4}};
    kz_tfidf_input in = {docs, 2, 0, 0};
    void *blob;
    size_t len;
    kz_error err;
    KZ_CHECK_INT(kz__tfidf_blob_build(&in, 1, &blob, &len, &err), 0);
    kz_tfidf *ix = NULL;
    uint32_t v;
    memcpy(&v, (char *)blob + 8, 4);
    KZ_CHECK_INT(v, KZ_TFIDF_VERSION);
    for (uint32_t other = 1; other <= 3; other += 2) { /* the old format and a future one */
        memcpy((char *)blob + 8, &other, 4);
        KZ_CHECK_INT(kz__tfidf_open(blob, len, &ix, &err), KZ_EFORMAT);
        KZ_CHECK(ix == NULL);
    }
    memcpy((char *)blob + 8, &v, 4);
    KZ_CHECK_INT(kz__tfidf_open(blob, len, &ix, &err), 0);
    kz__tfidf_close(ix);
    free(blob);
}

KZ_TEST(tfidf_corrupt_blobs_never_crash) {
    kz_str docs[4] = {{"ALPHA", 5}, {"BETA", 4}, {"GAMMA 1", 7}, {"DELTA", 5}};
    kz_tfidf_input in = {docs, 4, 0, 0};
    void *blob;
    size_t len;
    kz_error err;
    KZ_CHECK_INT(kz__tfidf_blob_build(&in, 1, &blob, &len, &err), 0);
    uint64_t *copy = malloc(len + 8);
    kz_tfidf_scratch *s = kz__tfidf_scratch_new();
    int opened = 0, refused = 0;
    for (size_t cut = 0; cut < len; cut += 7) { /* truncations */
        memcpy(copy, blob, cut);
        kz_tfidf *ix = NULL;
        if (kz__tfidf_open(copy, cut, &ix, &err) == 0)
            opened++;
        else
            refused++;
        kz__tfidf_close(ix);
    }
    KZ_CHECK_INT(opened, 0);
    KZ_CHECK(refused > 0);
    for (int it = 0; it < 3000; it++) { /* random byte flips: open, then search if accepted */
        memcpy(copy, blob, len);
        for (int f = 1 + (int)rnd(4); f > 0; f--)
            ((uint8_t *)copy)[rnd((uint32_t)len)] ^= (uint8_t)(1 + rnd(255));
        kz_tfidf *ix = NULL;
        if (kz__tfidf_open(copy, len, &ix, &err) == 0) {
            kz_tfidf_hit h[4];
            uint32_t n;
            for (uint32_t sl = 0; sl < kz__tfidf_n_indexes(ix); sl++) {
                kz__tfidf_scratch_set_portable(s, it % 2);
                kz__tfidf_search(ix, sl, "ALPHA", 5, 4, s, h, &n, &err);
                kz__tfidf_search(ix, sl, "DELTA ALPHA", 11, 1, s, h, &n, &err);
                kz__tfidf_search_brute(ix, sl, "GAMMA", 5, 4, s, h, &n, &err);
            }
            kz__tfidf_close(ix);
        }
    }
    kz__tfidf_scratch_free(s);
    free(copy);
    free(blob);
}
