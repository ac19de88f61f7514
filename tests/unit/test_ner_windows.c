/* Frame arithmetic of the transformer NER step against a brute-force model of
 * the HF overflow loop and Kazu's slices of the padded frames; word grouping. */
#include "kz_test.h"
#include "ner/ner_int.h"

/* Python's a[start:stop] bounds for a list of length len. */
static long py_index(long i, long len) { return i < 0 ? len + i : i; }

/* Brute force: returns 1 if the frames of n tokens match kz__ner_frame_at. */
static int check_geometry(size_t n, uint32_t L, uint32_t stride) {
    long w = L - 2, h = stride / 2;
    long starts[4096], stops[4096];
    size_t nf = 0;
    /* tokenizers' Encoding::truncate: (0..n).step_by(w - stride) until a frame reaches the end */
    if (n == 0) {
        starts[0] = stops[0] = 0;
        nf = 1;
    }
    for (long st = 0; st < (long)n && nf < 4096; st += w - (long)stride) {
        long stop = st + w < (long)n ? st + w : (long)n;
        starts[nf] = st;
        stops[nf++] = stop;
        if (stop == (long)n) break;
    }
    if (nf != kz__ner_n_frames(n, L, stride)) return 0;
    long next = 0; /* kept tokens must come out as 0, 1, ..., n-1 */
    for (size_t f = 0; f < nf; f++) {
        long padded[1024]; /* [CLS] toks [SEP] [PAD]...: -1 for special tokens */
        for (long k = 0; k < (long)L; k++) padded[k] = -1;
        for (long k = starts[f]; k < stops[f]; k++) padded[1 + k - starts[f]] = k;
        long a, b;
        if (nf == 1)
            a = 1, b = -1;
        else if (f == 0)
            a = 1, b = -(h + 1);
        else if (f == nf - 1)
            a = h + 1, b = -1;
        else
            a = h + 1, b = -(h + 1);
        a = py_index(a, L);
        b = py_index(b, L);
        kz_ner_frame fr = kz__ner_frame_at(n, L, stride, f);
        if ((long)fr.start != starts[f] || (long)fr.len != stops[f] - starts[f]) return 0;
        long first = -1, cnt = 0;
        for (long k = a; k < b; k++) {
            if (padded[k] < 0) continue;
            if (padded[k] != next) return 0;
            if (first < 0) first = padded[k];
            next++;
            cnt++;
        }
        if (cnt == 0 && fr.keep_start != fr.keep_end) return 0;
        if (cnt && ((long)fr.keep_start != first || (long)fr.keep_end != first + cnt)) return 0;
    }
    return next == (long)n;
}

KZ_TEST(test_frames_match_brute_force) {
    uint64_t x = 0x9E3779B97F4A7C15ull;
    int checked = 0;
    for (int it = 0; it < 20000; it++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t L = 4 + 2 * (uint32_t)(x % 40);                  /* 4 .. 82 */
        uint32_t stride = 2 * (uint32_t)((x >> 8) % (L / 2 - 1)); /* 0 .. L-4 */
        size_t n = (size_t)((x >> 20) % 700);
        if (kz__ner_check_geometry(L, stride, NULL)) continue;
        if (!check_geometry(n, L, stride)) {
            kz_test_fail(__FILE__, __LINE__, "frames differ for n=%zu L=%u stride=%u", n, L, stride);
            return;
        }
        checked++;
    }
    KZ_CHECK(checked > 15000);
}

KZ_TEST(test_frames_kazu_defaults) {
    /* TinyBERN2: 128 / 16: w = 126, step = 110 */
    KZ_CHECK_INT(kz__ner_n_frames(0, 128, 16), 1);
    KZ_CHECK_INT(kz__ner_n_frames(126, 128, 16), 1);
    KZ_CHECK_INT(kz__ner_n_frames(127, 128, 16), 2);
    KZ_CHECK_INT(kz__ner_n_frames(236, 128, 16), 2);
    KZ_CHECK_INT(kz__ner_n_frames(237, 128, 16), 3);
    kz_ner_frame f0 = kz__ner_frame_at(300, 128, 16, 0), f1 = kz__ner_frame_at(300, 128, 16, 1),
                 f2 = kz__ner_frame_at(300, 128, 16, 2);
    KZ_CHECK_INT(f0.keep_start, 0);
    KZ_CHECK_INT(f0.keep_end, 118);
    KZ_CHECK_INT(f1.start, 110);
    KZ_CHECK_INT(f1.keep_start, 118);
    KZ_CHECK_INT(f1.keep_end, 228);
    KZ_CHECK_INT(f2.start, 220);
    KZ_CHECK_INT(f2.len, 80);
    KZ_CHECK_INT(f2.keep_start, 228);
    KZ_CHECK_INT(f2.keep_end, 300);
}

KZ_TEST(test_geometry_checks) {
    KZ_CHECK_INT(kz__ner_check_geometry(128, 16, NULL), 0);
    KZ_CHECK_INT(kz__ner_check_geometry(127, 16, NULL), KZ_EINVAL);
    KZ_CHECK_INT(kz__ner_check_geometry(128, 15, NULL), KZ_EINVAL);
    KZ_CHECK_INT(kz__ner_check_geometry(8, 4, NULL), 0);
    KZ_CHECK_INT(kz__ner_check_geometry(8, 6, NULL), KZ_EINVAL);
    KZ_CHECK_INT(kz__ner_check_geometry(2, 0, NULL), KZ_EINVAL);
}

/* A word whose sub-tokens fall in two frames' kept ranges stays one word
 * (Kazu splits it in two), with its full byte range. */
KZ_TEST(test_word_across_frame_cut_not_split) {
    /* 30 tokens, words of 3 sub-tokens each: word k = tokens 3k..3k+2, bytes 4k..4k+3 */
    kz_wp_token t[30];
    for (int i = 0; i < 30; i++) {
        t[i].id = 7;
        t[i].word = i / 3;
        t[i].start = (i / 3) * 4 + i % 3;
        t[i].end = t[i].start + 1;
    }
    /* L=8 (w=6), stride 2: cuts at 5, 9, 13, ... fall inside words */
    size_t nf = kz__ner_n_frames(30, 8, 2);
    KZ_CHECK(nf > 3);
    int cuts_inside = 0;
    for (size_t f = 0; f + 1 < nf; f++) {
        kz_ner_frame fr = kz__ner_frame_at(30, 8, 2, f);
        if (fr.keep_end % 3) cuts_inside++;
    }
    KZ_CHECK(cuts_inside > 0);
    kz_ner_word *w;
    size_t nw;
    KZ_CHECK_INT(kz__ner_words(t, 30, &w, &nw), 0);
    KZ_CHECK_INT(nw, 10);
    for (size_t k = 0; k < nw; k++) {
        KZ_CHECK_INT(w[k].tok0, 3 * k);
        KZ_CHECK_INT(w[k].n_tok, 3);
        KZ_CHECK_INT(w[k].start, 4 * k);
        KZ_CHECK_INT(w[k].end, 4 * k + 3);
    }
    free(w);
    KZ_CHECK_INT(kz__ner_words(t, 0, &w, &nw), 0);
    KZ_CHECK_INT(nw, 0);
    KZ_CHECK(w == NULL);
}
