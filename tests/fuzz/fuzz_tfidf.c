/* Fuzz target for the TF-IDF candidate index (src/link/tfidf.c). First byte:
 *   0: the rest is a KZTF blob: open it and, if accepted, search every index;
 *   1: lines of the rest are documents, the first line also the query: build,
 *      open and check that the pruned top-k (AVX2 and portable bound passes)
 *      equals the brute force exactly;
 *   2: a valid blob from fixed documents, then overwritten by the rest (bytes
 *      at positions taken from the input), then opened and searched;
 *   3: the rest seeds a generator of 600 to 2000 documents over a few letters
 *      (many 256-document groups, bitmaps and postings) and of queries; checked
 *      as in mode 1.
 * Nothing may crash, hang or leak; modes 1 and 3 abort on any mismatch. */
#include <stdlib.h>
#include <string.h>
#include "../../src/link/tfidf_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void search_all(const kz_tfidf *ix, const char *q, size_t ql) {
    kz_tfidf_scratch *s = kz__tfidf_scratch_new();
    kz_tfidf_hit h[8];
    uint32_t n;
    kz_error err;
    for (uint32_t i = 0; s && i < kz__tfidf_n_indexes(ix); i++)
        for (int v = 0; v < 2; v++) {
            kz__tfidf_scratch_set_portable(s, v == 1);
            kz__tfidf_search(ix, i, q, ql, 8, s, h, &n, &err);
            kz__tfidf_search(ix, i, q, ql, 1, s, h, &n, &err);
            kz__tfidf_search_brute(ix, i, q, ql, 8, s, h, &n, &err);
        }
    kz__tfidf_scratch_free(s);
}

static void open_and_search(const uint8_t *blob, size_t len) {
    uint64_t *copy = malloc(len + 8); /* 8-byte aligned, as a pack section is */
    if (!copy) return;
    memcpy(copy, blob, len);
    kz_tfidf *ix = NULL;
    kz_error err;
    if (kz__tfidf_open(copy, len, &ix, &err) == 0) {
        search_all(ix, "ALPHA BETA", 10);
        search_all(ix, "\xce\x91X", 3);
        kz__tfidf_close(ix);
    }
    free(copy);
}

/* Pruned (both passes) against brute force for query q on every index; abort on a difference. */
static void check_equal(const kz_tfidf *ix, kz_tfidf_scratch *s, const char *q, size_t ql) {
    static const uint32_t ks[] = {1, 20};
    kz_tfidf_hit a[20], b[20];
    uint32_t na, nb;
    kz_error err;
    for (uint32_t slot = 0; slot < kz__tfidf_n_indexes(ix); slot++)
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
            for (int v = 0; v < 2; v++) {
                kz__tfidf_scratch_set_portable(s, v == 1);
                if (kz__tfidf_search(ix, slot, q, ql, ks[ki], s, a, &na, &err) ||
                    kz__tfidf_search_brute(ix, slot, q, ql, ks[ki], s, b, &nb, &err))
                    abort();
                if (na != nb) abort();
                for (uint32_t i = 0; i < na; i++)
                    if (a[i].doc != b[i].doc || a[i].score != b[i].score) abort();
            }
}

static void build_and_check(const kz_str *docs, uint32_t nd, const kz_str *queries, uint32_t n_queries) {
    kz_tfidf_input in[2] = {{docs, nd / 2, 0, 0}, {docs + nd / 2, nd - nd / 2, nd / 2, 1}};
    void *blob = NULL;
    size_t len = 0;
    kz_error err;
    if (kz__tfidf_blob_build(in, 2, &blob, &len, &err) != 0) return;
    kz_tfidf *ix = NULL;
    if (kz__tfidf_open(blob, len, &ix, &err) != 0) abort(); /* a fresh build must open */
    kz_tfidf_scratch *s = kz__tfidf_scratch_new();
    for (uint32_t i = 0; s && i < n_queries; i++) check_equal(ix, s, queries[i].ptr, queries[i].len);
    kz__tfidf_scratch_free(s);
    kz__tfidf_close(ix);
    free(blob);
}

/* Mode 3: documents and queries from a generator seeded by the input. */
static void synthetic(const uint8_t *p, size_t n) {
    uint64_t st = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) st = (st ^ p[i]) * 0x100000001B3ull;
    static const char alpha[] = "AAABBCDEEIN  12";
    uint32_t nd = 600 + (uint32_t)(st % 1400), n_alpha = 2 + (uint32_t)(st >> 20) % (sizeof alpha - 2);
    char *text = malloc((size_t)nd * 24);
    kz_str *docs = malloc(nd * sizeof *docs);
    if (!text || !docs) {
        free(text);
        free(docs);
        return;
    }
    for (uint32_t d = 0; d < nd; d++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t len = (uint32_t)(st >> 59) + 1; /* 1..32, capped at 24 */
        if (len > 24) len = 24;
        for (uint32_t i = 0; i < len; i++) {
            st = st * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t r = (uint32_t)(st >> 33);
            text[(size_t)d * 24 + i] = r % 50 == 0 ? (char)('F' + r % 20) : alpha[r % n_alpha];
        }
        docs[d] = (kz_str){text + (size_t)d * 24, len};
    }
    kz_str queries[3] = {docs[0], docs[nd / 2], {(const char *)p, n < 40 ? n : 40}};
    build_and_check(docs, nd, queries, 3);
    free(text);
    free(docs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > (1u << 20)) return 0;
    uint8_t mode = data[0] % 4;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    if (mode == 0) {
        open_and_search(data + 1, n);
        return 0;
    }
    if (mode == 3) {
        synthetic(data + 1, n);
        return 0;
    }
    kz_str docs[512];
    uint32_t nd = 0;
    if (mode == 1) {
        for (size_t i = 0; i <= n && nd < 512;) {
            const char *nl = memchr(p + i, '\n', n - i);
            size_t e = nl ? (size_t)(nl - p) : n;
            docs[nd++] = (kz_str){p + i, e - i};
            i = e + 1;
        }
        build_and_check(docs, nd, docs, 1);
        return 0;
    }
    static const char *fixed[] = {"ALPHA", "BETA 2", "GAMMA DELTA", "\xce\x91 ALPHA", "A", ""};
    for (; nd < 6; nd++) docs[nd] = kz_str_c(fixed[nd]);
    kz_tfidf_input in[2] = {{docs, 3, 0, 0}, {docs + 3, 3, 3, 1}};
    void *blob = NULL;
    size_t len = 0;
    kz_error err;
    if (kz__tfidf_blob_build(in, 2, &blob, &len, &err) != 0) return 0;
    uint8_t *b = blob;
    for (size_t i = 0; i + 3 <= n; i += 3) {
        size_t at = ((size_t)(uint8_t)p[i] << 8 | (uint8_t)p[i + 1]) % len;
        b[at] = (uint8_t)p[i + 2];
    }
    open_and_search(blob, len);
    free(blob);
    return 0;
}
