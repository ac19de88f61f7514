/* Dictionary matching automaton: nested/overlapping hits, case folding with
 * original offsets, case-sensitive patterns, word boundaries, determinism, the
 * blob loader's checks, and a randomised comparison with a naive matcher. */
#include <stdlib.h>
#include <string.h>
#include "kz_test.h"
#include "kazu/match.h"
#include "kazu/utf8.h"
#include "match/match_int.h"

typedef struct hits {
    kz_match_hit h[4096];
    size_t n;
} hits;

static int collect(void *user, const kz_match_hit *hit) {
    hits *hs = user;
    if (hs->n < 4096) hs->h[hs->n++] = *hit;
    return 0;
}

static int cmp_hit(const void *x, const void *y) {
    const kz_match_hit *a = x, *b = y;
    if (a->start != b->start) return a->start < b->start ? -1 : 1;
    if (a->end != b->end) return a->end < b->end ? -1 : 1;
    if (a->payload != b->payload) return a->payload < b->payload ? -1 : 1;
    return (int)a->case_sensitive - (int)b->case_sensitive;
}

typedef struct spec {
    const char *s;
    uint32_t payload;
    bool cs;
} spec;

static void *build(const spec *sp, size_t n, size_t *len) {
    kz_match_builder *b;
    if (kz_match_builder_new(&b)) return NULL;
    for (size_t i = 0; i < n; i++)
        if (kz_match_builder_add(b, sp[i].s, strlen(sp[i].s), sp[i].payload, sp[i].cs)) {
            kz_match_builder_free(b);
            return NULL;
        }
    void *blob = NULL;
    kz_error err;
    int rc = kz_match_builder_finish(b, &blob, len, &err);
    kz_match_builder_free(b);
    return rc ? NULL : blob;
}

static void scan(const void *blob, size_t len, const char *text, unsigned flags, hits *hs) {
    kz_matcher *m = NULL;
    hs->n = 0;
    if (kz_matcher_open(blob, len, &m, NULL)) return;
    kz_matcher_scan(m, text, strlen(text), flags, collect, hs);
    kz_matcher_close(m);
}

KZ_TEST(match_nested_and_overlapping) {
    spec sp[] = {
        {"lung cancer", 1, false}, {"cancer", 2, false}, {"lung", 3, false}, {"cancer cell", 4, false}};
    size_t len;
    void *blob = build(sp, 4, &len);
    KZ_CHECK(blob != NULL);
    hits hs;
    scan(blob, len, "Lung Cancer cells and cancers.", KZ_MATCH_WORD_BOUNDARY, &hs);
    KZ_CHECK_INT(hs.n, 3);
    /* reported by end, longest first */
    KZ_CHECK_INT(hs.h[0].start, 0);
    KZ_CHECK_INT(hs.h[0].end, 4);
    KZ_CHECK_INT(hs.h[0].payload, 3);
    KZ_CHECK_INT(hs.h[1].start, 0);
    KZ_CHECK_INT(hs.h[1].end, 11);
    KZ_CHECK_INT(hs.h[1].payload, 1);
    KZ_CHECK_INT(hs.h[2].start, 5);
    KZ_CHECK_INT(hs.h[2].end, 11);
    KZ_CHECK_INT(hs.h[2].payload, 2);
    /* without the boundary rule "cancer cell" inside "cells" and "cancer" in "cancers" appear */
    scan(blob, len, "Lung Cancer cells and cancers.", 0, &hs);
    KZ_CHECK_INT(hs.n, 5);
    KZ_CHECK_INT(hs.h[3].start, 5);
    KZ_CHECK_INT(hs.h[3].end, 16);
    KZ_CHECK_INT(hs.h[3].payload, 4);
    KZ_CHECK_INT(hs.h[4].start, 22);
    KZ_CHECK_INT(hs.h[4].end, 28);
    KZ_CHECK_INT(hs.h[4].payload, 2);
    free(blob);
}

KZ_TEST(match_case_sensitive_exact_bytes) {
    spec sp[] = {{"ALK", 10, true}, {"alk", 11, false}, {"ALK", 12, true}};
    size_t len;
    void *blob = build(sp, 3, &len);
    KZ_CHECK(blob != NULL);
    hits hs;
    scan(blob, len, "alk ALK Alk", KZ_MATCH_WORD_BOUNDARY, &hs);
    KZ_CHECK_INT(hs.n, 5);
    int cs_hits = 0;
    for (size_t i = 0; i < hs.n; i++)
        if (hs.h[i].case_sensitive) {
            cs_hits++;
            KZ_CHECK_INT(hs.h[i].start, 4);
            KZ_CHECK(hs.h[i].payload == 10 || hs.h[i].payload == 12);
        }
    KZ_CHECK_INT(cs_hits, 2);
    free(blob);
}

KZ_TEST(match_unicode_fold_keeps_original_offsets) {
    spec sp[] = {{"istanbul", 1, false}, {"σας", 2, false}, {"straße", 3, false}, {"ÉTÉ", 4, false}};
    size_t len;
    void *blob = build(sp, 4, &len);
    KZ_CHECK(blob != NULL);
    hits hs;
    /* İ (2 bytes) folds to i; Python's lower() would make it 2 code points */
    const char *t = "x İstanbul İSTANBUL ΣΑΣ STRASSE Straße été";
    scan(blob, len, t, KZ_MATCH_WORD_BOUNDARY, &hs);
    KZ_CHECK_INT(hs.n, 5);
    KZ_CHECK_INT(hs.h[0].start, 2);
    KZ_CHECK_INT(hs.h[0].end, 2 + strlen("İstanbul"));
    KZ_CHECK_INT(hs.h[0].payload, 1);
    size_t p = strstr(t, "İSTANBUL") - t;
    KZ_CHECK_INT(hs.h[1].start, p);
    KZ_CHECK_INT(hs.h[1].end, p + strlen("İSTANBUL"));
    p = strstr(t, "ΣΑΣ") - t;
    KZ_CHECK_INT(hs.h[2].start, p);
    KZ_CHECK_INT(hs.h[2].payload, 2);
    p = strstr(t, "Straße") - t; /* no full folding: STRASSE does not match */
    KZ_CHECK_INT(hs.h[3].start, p);
    KZ_CHECK_INT(hs.h[3].payload, 3);
    p = strstr(t, "été") - t;
    KZ_CHECK_INT(hs.h[4].start, p);
    KZ_CHECK_INT(hs.h[4].end, strlen(t));
    KZ_CHECK_INT(hs.h[4].payload, 4);
    KZ_CHECK_INT(kz_match_fold(0x130), 'i');
    KZ_CHECK_INT(kz_match_fold(0x3c2), 0x3c3);
    KZ_CHECK_INT(kz_match_fold(0x17f), 's');
    KZ_CHECK_INT(kz_match_fold(0x212a), 'k');
    free(blob);
}

KZ_TEST(match_word_boundaries) {
    spec sp[] = {{"ALK", 1, false}, {"IL-2", 2, false}, {"β-catenin", 3, false}};
    size_t len;
    void *blob = build(sp, 3, &len);
    KZ_CHECK(blob != NULL);
    hits hs;
    scan(blob, len, "ALK-Abello xALK ALKy (ALK) IL-2/β-catenin,Î ALK", KZ_MATCH_WORD_BOUNDARY, &hs);
    /* ALK before '-', ALK in parens, IL-2, β-catenin, the last ALK; not xALK / ALKy */
    KZ_CHECK_INT(hs.n, 5);
    KZ_CHECK_INT(hs.h[0].start, 0);
    KZ_CHECK_INT(hs.h[1].start, 22);
    KZ_CHECK_INT(hs.h[2].payload, 2);
    KZ_CHECK_INT(hs.h[3].payload, 3);
    /* a combining mark is a word character: "ALK" + U+0301 is not a hit */
    scan(blob, len, "ALK\xcc\x81 x", KZ_MATCH_WORD_BOUNDARY, &hs);
    KZ_CHECK_INT(hs.n, 0);
    /* invalid UTF-8 separates and never matches */
    scan(blob, len,
         "\xff"
         "ALK\xfe",
         KZ_MATCH_WORD_BOUNDARY, &hs);
    KZ_CHECK_INT(hs.n, 1);
    KZ_CHECK_INT(hs.h[0].start, 1);
    KZ_CHECK_INT(hs.h[0].end, 4);
    free(blob);
}

KZ_TEST(match_deterministic_and_relocatable) {
    spec a[] = {{"b", 1, false}, {"ab", 2, true}, {"abc", 3, false}, {"b", 1, false}, {"bc", 4, false}};
    spec b[] = {{"bc", 4, false}, {"abc", 3, false}, {"b", 1, false}, {"ab", 2, true}};
    size_t la, lb;
    void *ba = build(a, 5, &la), *bb = build(b, 4, &lb);
    KZ_CHECK(ba && bb);
    KZ_CHECK_INT(la, lb);
    KZ_CHECK(memcmp(ba, bb, la) == 0);
    KZ_CHECK_INT(la % 64, 0);
    kz_matcher *m;
    KZ_CHECK_INT(kz_matcher_open(ba, la, &m, NULL), 0);
    kz_matcher_info info;
    kz_matcher_get_info(m, &info);
    KZ_CHECK_INT(info.n_patterns, 4); /* duplicate "b"/1 merged */
    KZ_CHECK_INT(info.n_keys, 4);
    KZ_CHECK_INT(info.n_states, 6); /* root a ab abc b bc */
    KZ_CHECK_INT(info.blob_bytes, la);
    kz_matcher_close(m);
    hits h1, h2;
    scan(ba, la, "xabc abc", 0, &h1);
    void *moved = aligned_alloc(64, la);
    memcpy(moved, ba, la);
    memset(ba, 0xAB, la); /* nothing may still point into the old copy */
    scan(moved, la, "xabc abc", 0, &h2);
    KZ_CHECK_INT(h1.n, 8);
    KZ_CHECK_INT(h2.n, h1.n);
    KZ_CHECK(memcmp(h1.h, h2.h, h1.n * sizeof h1.h[0]) == 0);
    free(ba), free(bb), free(moved);
}

KZ_TEST(match_loader_rejects_bad_blobs) {
    spec sp[] = {{"abc", 1, false}, {"Abd", 2, true}};
    size_t len;
    uint8_t *blob = build(sp, 2, &len);
    KZ_CHECK(blob != NULL);
    kz_matcher *m = (kz_matcher *)1;
    kz_error err;
    KZ_CHECK_INT(kz_matcher_open(blob, len - 1, &m, &err), KZ_EPARSE);
    KZ_CHECK(m == NULL);
    KZ_CHECK_INT(kz_matcher_open(blob, 100, &m, &err), KZ_EPARSE);
    KZ_CHECK_INT(kz_matcher_open(blob + 1, len - 1, &m, &err), KZ_EINVAL);
    kz__ac_header *h = (kz__ac_header *)blob;
    h->version = 2; /* the format before the double array: refused, so packs rebuild it */
    KZ_CHECK_INT(kz_matcher_open(blob, len, &m, &err), KZ_EFORMAT);
    KZ_CHECK(strstr(err.msg, "2") != NULL);
    h->version = KZ_MATCH_FORMAT_VERSION;
    h->magic ^= 1;
    KZ_CHECK_INT(kz_matcher_open(blob, len, &m, &err), KZ_EFORMAT);
    h->magic ^= 1;
    uint64_t pool_at = h->off_pool;
    h->off_pool = h->total_bytes; /* the pool (bytes of "Abd") would run past the end */
    KZ_CHECK_INT(kz_matcher_open(blob, len, &m, &err), KZ_EPARSE);
    KZ_CHECK(strstr(err.msg, "pool") != NULL);
    h->off_pool = pool_at;
    h->n_units = 300; /* not a multiple of 256 */
    KZ_CHECK_INT(kz_matcher_open(blob, len, &m, &err), KZ_EPARSE);
    h->n_units = 256;
    blob[h->off_tail + h->tail_bytes - 1] = 1; /* the tail padding must be zero */
    KZ_CHECK_INT(kz_matcher_open(blob, len, &m, &err), KZ_EPARSE);
    blob[h->off_tail + h->tail_bytes - 1] = 0;
    KZ_CHECK_INT(kz_matcher_open(blob, len, &m, &err), 0);
    /* a header claiming more byte-trie states than the trie can hold: the full
     * scan's automaton is refused, the anchored walk still works */
    h->n_states = 0xfffffff0u;
    kz_matcher *m2;
    KZ_CHECK_INT(kz_matcher_open(blob, len, &m2, &err), 0);
    KZ_CHECK_INT(kz_matcher_prepare_scan(m2, &err), KZ_EPARSE);
    static hits none;
    KZ_CHECK_INT(kz_matcher_scan(m2, "abc", 3, 0, collect, &none), KZ_EPARSE);
    kz_matcher_close(m2);
    kz_matcher_close(m);
    free(blob);
}

KZ_TEST(match_builder_errors_and_empty) {
    kz_match_builder *b;
    KZ_CHECK_INT(kz_match_builder_new(&b), 0);
    KZ_CHECK_INT(kz_match_builder_add(b, "", 0, 1, false), KZ_EINVAL);
    KZ_CHECK_INT(kz_match_builder_add(b, "a\xff", 2, 1, false), KZ_EUTF8);
    char big[KZ_MATCH_MAX_PATTERN + 1];
    memset(big, 'a', sizeof big);
    KZ_CHECK_INT(kz_match_builder_add(b, big, sizeof big, 1, false), KZ_ELIMIT);
    KZ_CHECK_INT(kz_match_builder_add(b, big, sizeof big - 1, 1, false), 0);
    KZ_CHECK_INT(kz_match_builder_count(b), 1);
    kz_match_builder_free(b);
    size_t len;
    void *blob = build(NULL, 0, &len);
    KZ_CHECK(blob != NULL);
    hits hs;
    scan(blob, len, "anything", 0, &hs);
    KZ_CHECK_INT(hs.n, 0);
    free(blob);
}

static int stop_after_two(void *user, const kz_match_hit *hit) {
    (void)hit;
    return ++*(int *)user == 2 ? 7 : 0;
}

KZ_TEST(match_callback_stops_scan) {
    spec sp[] = {{"a", 1, false}};
    size_t len;
    void *blob = build(sp, 1, &len);
    kz_matcher *m;
    KZ_CHECK_INT(kz_matcher_open(blob, len, &m, NULL), 0);
    int count = 0;
    KZ_CHECK_INT(kz_matcher_scan(m, "a a a a", 7, KZ_MATCH_WORD_BOUNDARY, stop_after_two, &count), 7);
    KZ_CHECK_INT(count, 2);
    kz_matcher_close(m);
    free(blob);
}

/* ---- randomised comparison with a naive matcher ---------------------------- */

static const char *ALPHA[] = {"a", "b", "A", "B", " ", "-", "é", "É", "İ", "i", "ß"};
#define NALPHA (sizeof ALPHA / sizeof ALPHA[0])

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(uint32_t n) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static void rand_str(char *out, int min, int max) {
    int n = min + (int)rnd((uint32_t)(max - min + 1));
    out[0] = 0;
    for (int i = 0; i < n; i++) strcat(out, ALPHA[rnd(NALPHA)]);
}

static bool word_cp(int32_t cp) { return cp != ' ' && cp != '-' && cp >= 0; }

static void naive(const spec *sp, size_t n, const char *t, unsigned flags, hits *hs) {
    size_t tl = strlen(t), off[256], ncp = 0;
    int32_t cps[256];
    for (size_t i = 0; i < tl;) off[ncp] = i, cps[ncp++] = kz_utf8_decode(t, tl, &i);
    off[ncp] = tl;
    hs->n = 0;
    for (size_t p = 0; p < n; p++) {
        size_t pl = strlen(sp[p].s), pn = 0;
        int32_t pc[256];
        for (size_t i = 0; i < pl;) pc[pn++] = kz_utf8_decode(sp[p].s, pl, &i);
        for (size_t st = 0; st + pn <= ncp; st++) {
            bool ok = true;
            for (size_t j = 0; j < pn && ok; j++)
                ok = kz_match_fold((uint32_t)cps[st + j]) == kz_match_fold((uint32_t)pc[j]);
            if (!ok) continue;
            size_t bs = off[st], be = off[st + pn];
            if (sp[p].cs && (be - bs != pl || memcmp(t + bs, sp[p].s, pl))) continue;
            if ((flags & KZ_MATCH_WORD_BOUNDARY) &&
                ((st > 0 && word_cp(cps[st - 1])) || (st + pn < ncp && word_cp(cps[st + pn]))))
                continue;
            bool dup = false;
            for (size_t q = 0; q < hs->n; q++)
                dup |= hs->h[q].start == bs && hs->h[q].end == be && hs->h[q].payload == sp[p].payload &&
                       hs->h[q].case_sensitive == sp[p].cs;
            if (!dup) hs->h[hs->n++] = (kz_match_hit){bs, be, sp[p].payload, sp[p].cs};
        }
    }
}

KZ_TEST(match_random_vs_naive) {
    static char strs[40][64];
    spec sp[40];
    static hits a, b;
    static char text[512];
    int bad = 0;
    size_t total = 0;
    for (int round = 0; round < 300 && !bad; round++) {
        size_t n = 1 + rnd(40);
        for (size_t i = 0; i < n; i++) {
            rand_str(strs[i], 1, 5);
            sp[i] = (spec){strs[i], rnd(8), rnd(3) == 0};
        }
        size_t len;
        void *blob = build(sp, n, &len);
        KZ_CHECK(blob != NULL);
        for (int t = 0; t < 5; t++) {
            rand_str(text, 0, 60);
            unsigned flags = rnd(2) ? KZ_MATCH_WORD_BOUNDARY : 0;
            scan(blob, len, text, flags, &a);
            naive(sp, n, text, flags, &b);
            total += b.n;
            qsort(a.h, a.n, sizeof a.h[0], cmp_hit);
            qsort(b.h, b.n, sizeof b.h[0], cmp_hit);
            bool same = a.n == b.n;
            for (size_t q = 0; q < a.n && same; q++) same = cmp_hit(&a.h[q], &b.h[q]) == 0;
            if (!same) {
                bad = 1;
                kz_test_fail(__FILE__, __LINE__, "round %d text '%s': %zu hits vs naive %zu", round, text,
                             a.n, b.n);
                break;
            }
        }
        free(blob);
    }
    KZ_CHECK(total > 1000); /* the comparison saw real hits */
}

KZ_TEST(match_section_tag_spells_kzac) {
    KZ_CHECK_INT(KZ_MATCH_KB_SECTION_TAG,
                 (uint32_t)'K' | (uint32_t)'Z' << 8 | (uint32_t)'A' << 16 | (uint32_t)'C' << 24);
}

/* ---- anchored walks ------------------------------------------------------- */

/* Anchored hits from every code point start (end_ok: NULL or a byte map), and
 * the full scan's hits filtered the same way; both sorted. */
static void anchored_vs_full(const kz_matcher *m, const char *t, size_t tl, const uint8_t *end_ok, hits *a,
                             hits *b) {
    size_t starts[1024], ns = 0;
    for (size_t i = 0; i < tl && ns < 1024; i++)
        if (((unsigned char)t[i] & 0xc0) != 0x80) starts[ns++] = i;
    a->n = b->n = 0;
    kz_matcher_scan_anchored(m, t, tl, starts, ns, end_ok, collect, a);
    hits all;
    all.n = 0;
    kz_matcher_scan(m, t, tl, 0, collect, &all);
    for (size_t i = 0; i < all.n; i++)
        if (!end_ok || end_ok[all.h[i].end]) b->h[b->n++] = all.h[i];
    qsort(a->h, a->n, sizeof a->h[0], cmp_hit);
    qsort(b->h, b->n, sizeof b->h[0], cmp_hit);
}

static bool same_hits(const hits *a, const hits *b) {
    if (a->n != b->n) return false;
    for (size_t i = 0; i < a->n; i++)
        if (cmp_hit(&a->h[i], &b->h[i])) return false;
    return true;
}

KZ_TEST(match_anchored_nested_single_char_and_long_keys) {
    char longkey[700], longtext[720];
    memset(longkey, 'q', 600);
    memcpy(longkey + 600, "rst", 4); /* a tail record longer than 255 bytes */
    spec sp[] = {{"a", 1, false},         {"ab", 2, false},   {"abc", 3, false},   {"lung cancer", 4, false},
                 {"cancer", 5, false},    {"A", 6, true},     {longkey, 7, false}, {"Lung", 8, true},
                 {"b\xc3\xa9", 9, false}, {"x\0y", 10, false}};
    sp[9].s = "x"; /* strlen-based build(): NUL patterns are added below */
    size_t len;
    kz_match_builder *bld;
    KZ_CHECK_INT(kz_match_builder_new(&bld), 0);
    for (size_t i = 0; i < 9; i++)
        KZ_CHECK_INT(kz_match_builder_add(bld, sp[i].s, strlen(sp[i].s), sp[i].payload, sp[i].cs), 0);
    KZ_CHECK_INT(kz_match_builder_add(bld, "x\0y", 3, 10, false), 0);
    void *blob;
    KZ_CHECK_INT(kz_match_builder_finish(bld, &blob, &len, NULL), 0);
    kz_match_builder_free(bld);
    kz_matcher *m;
    KZ_CHECK_INT(kz_matcher_open(blob, len, &m, NULL), 0);
    static hits a, b;
    const char t1[] = "A ab abc Lung Cancer B\xc3\x89 x\0y x\xffy";
    size_t t1l = sizeof t1 - 1;
    anchored_vs_full(m, t1, t1l, NULL, &a, &b);
    KZ_CHECK(same_hits(&a, &b));
    /* A(1,6) ab(1,2) abc(1,2,3) Lung(8) lung cancer(4) cancer(5) the a of Cancer(1) bÉ(9) x\0y(10) */
    KZ_CHECK_INT(a.n, 13);
    bool nul_hit = false, cs_lung = false;
    for (size_t i = 0; i < a.n; i++) {
        nul_hit |= a.h[i].payload == 10 && a.h[i].start == 25 && a.h[i].end == 28;
        cs_lung |= a.h[i].payload == 8 && a.h[i].case_sensitive;
    }
    KZ_CHECK(nul_hit);
    KZ_CHECK(cs_lung);
    /* end_ok: only hits ending at a listed end */
    uint8_t ends[sizeof t1] = {0};
    ends[4] = ends[20] = 1; /* "ab", "Lung Cancer" / "Cancer" */
    anchored_vs_full(m, t1, t1l, ends, &a, &b);
    KZ_CHECK(same_hits(&a, &b));
    KZ_CHECK_INT(a.n, 3);
    /* the long key through its u16-length tail */
    memcpy(longtext, "  ", 2);
    for (size_t i = 0; i < 600; i++) longtext[2 + i] = (i % 2) ? 'q' : 'Q';
    memcpy(longtext + 602, "RST.", 5);
    anchored_vs_full(m, longtext, strlen(longtext), NULL, &a, &b);
    KZ_CHECK(same_hits(&a, &b));
    KZ_CHECK_INT(a.n, 1);
    KZ_CHECK_INT(a.h[0].start, 2);
    KZ_CHECK_INT(a.h[0].end, 605);
    longtext[500] = 'x'; /* a mismatch inside the tail */
    anchored_vs_full(m, longtext, strlen(longtext), NULL, &a, &b);
    KZ_CHECK_INT(a.n, 0);
    KZ_CHECK_INT(b.n, 0);
    kz_matcher_close(m);
    free(blob);
}

/* Many keys (so the double array closes blocks and opens fresh ones), random
 * texts over the same alphabet: anchored walks from every start give exactly
 * the full scan's hits, with and without an end filter. */
KZ_TEST(match_anchored_random_large) {
    static const char *AL[] = {"a", "b", "c", "d", "e", "A", "B", " ", "-", "\xc3\xa9", "\xc3\x89", "1"};
    const size_t nal = sizeof AL / sizeof AL[0];
    kz_match_builder *bld;
    KZ_CHECK_INT(kz_match_builder_new(&bld), 0);
    char buf[64];
    for (uint32_t i = 0; i < 60000; i++) {
        buf[0] = 0;
        int n = 3 + (int)rnd(10);
        for (int k = 0; k < n; k++) strcat(buf, AL[rnd((uint32_t)nal)]);
        KZ_CHECK_INT(kz_match_builder_add(bld, buf, strlen(buf), i % 97, rnd(5) == 0), 0);
    }
    void *blob;
    size_t len;
    KZ_CHECK_INT(kz_match_builder_finish(bld, &blob, &len, NULL), 0);
    kz_match_builder_free(bld);
    kz_matcher *m;
    KZ_CHECK_INT(kz_matcher_open(blob, len, &m, NULL), 0);
    kz_matcher_info info;
    kz_matcher_get_info(m, &info);
    KZ_CHECK(info.n_units > 16 * 256);                       /* more blocks than the builder keeps open */
    KZ_CHECK(((const kz__ac_header *)blob)->off_root2 != 0); /* large enough for the two-byte table */
    static hits a, b;
    size_t total = 0;
    int bad = 0;
    for (int round = 0; round < 200 && !bad; round++) {
        char text[400];
        text[0] = 0;
        int n = (int)rnd(80);
        for (int k = 0; k < n; k++) strcat(text, AL[rnd((uint32_t)nal)]);
        size_t tl = strlen(text);
        uint8_t ends[400];
        for (size_t i = 0; i <= tl; i++) ends[i] = (uint8_t)(rnd(3) != 0);
        anchored_vs_full(m, text, tl, (round & 1) ? ends : NULL, &a, &b);
        total += a.n;
        KZ_CHECK(b.n < 4096); /* not truncated */
        if (!same_hits(&a, &b)) {
            bad = 1;
            kz_test_fail(__FILE__, __LINE__, "round %d text '%s': %zu anchored hits vs %zu", round, text, a.n,
                         b.n);
        }
    }
    KZ_CHECK(total > 1000);
    kz_matcher_close(m);
    free(blob);
}

static int stop_at_first(void *user, const kz_match_hit *hit) {
    (void)hit;
    ++*(int *)user;
    return 5;
}

KZ_TEST(match_anchored_stops_and_rejects_null) {
    spec sp[] = {{"ab", 1, false}, {"b", 2, false}};
    size_t len;
    void *blob = build(sp, 2, &len);
    kz_matcher *m;
    KZ_CHECK_INT(kz_matcher_open(blob, len, &m, NULL), 0);
    size_t starts[] = {0, 1, 3, 4, 100};
    int count = 0;
    KZ_CHECK_INT(kz_matcher_scan_anchored(m, "ab ab", 5, starts, 5, NULL, stop_at_first, &count), 5);
    KZ_CHECK_INT(count, 1);
    KZ_CHECK_INT(kz_matcher_scan_anchored(NULL, "ab", 2, starts, 1, NULL, stop_at_first, &count), KZ_EINVAL);
    KZ_CHECK_INT(kz_matcher_scan_anchored(m, NULL, 2, starts, 1, NULL, stop_at_first, &count), KZ_EINVAL);
    /* a long text (the folded copy is allocated, not on the stack) */
    size_t big = 100000;
    char *t = malloc(big);
    memset(t, ' ', big);
    memcpy(t + big - 2, "ab", 2);
    size_t st2[] = {0, big - 2, big - 1};
    static hits h;
    h.n = 0;
    KZ_CHECK_INT(kz_matcher_scan_anchored(m, t, big, st2, 3, NULL, collect, &h), 0);
    KZ_CHECK_INT(h.n, 2);
    free(t);
    kz_matcher_close(m);
    free(blob);
}
