/* Fuzz target for the TF-IDF candidate index (src/link/tfidf.c). First byte:
 *   0: the rest is a KZTF blob: open it and, if accepted, search every index;
 *   1: lines of the rest are documents, the first line also the query: build,
 *      open and check that the pruned top-k equals the brute force exactly;
 *   2: a valid blob from fixed documents, then overwritten by the rest (bytes
 *      at positions taken from the input), then opened and searched.
 * Nothing may crash, hang or leak; mode 1 aborts on any mismatch. */
#include <stdlib.h>
#include <string.h>
#include "../../src/link/tfidf_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void search_all(const kz_tfidf *ix, const char *q, size_t ql) {
    kz_tfidf_scratch *s = kz__tfidf_scratch_new();
    kz_tfidf_hit h[8];
    uint32_t n;
    kz_error err;
    for (uint32_t i = 0; s && i < kz__tfidf_n_indexes(ix); i++) {
        kz__tfidf_search(ix, i, q, ql, 8, s, h, &n, &err);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > (1u << 20)) return 0;
    uint8_t mode = data[0] % 3;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    if (mode == 0) {
        open_and_search(data + 1, n);
        return 0;
    }
    kz_str docs[256];
    uint32_t nd = 0;
    if (mode == 1) {
        for (size_t i = 0; i <= n && nd < 256;) {
            const char *nl = memchr(p + i, '\n', n - i);
            size_t e = nl ? (size_t)(nl - p) : n;
            docs[nd++] = (kz_str){p + i, e - i};
            i = e + 1;
        }
    } else {
        static const char *fixed[] = {"ALPHA", "BETA 2", "GAMMA DELTA", "\xce\x91 ALPHA", "A", ""};
        for (; nd < 6; nd++) docs[nd] = kz_str_c(fixed[nd]);
    }
    kz_tfidf_input in[2] = {{docs, nd / 2, 0, 0}, {docs + nd / 2, nd - nd / 2, nd / 2, 1}};
    void *blob = NULL;
    size_t len = 0;
    kz_error err;
    if (kz__tfidf_blob_build(in, 2, &blob, &len, &err) != 0) return 0;
    if (mode == 2) {
        uint8_t *b = blob;
        for (size_t i = 0; i + 3 <= n; i += 3) {
            size_t at = ((size_t)(uint8_t)p[i] << 8 | (uint8_t)p[i + 1]) % len;
            b[at] = (uint8_t)p[i + 2];
        }
        open_and_search(blob, len);
        free(blob);
        return 0;
    }
    kz_tfidf *ix = NULL;
    if (kz__tfidf_open(blob, len, &ix, &err) != 0) abort(); /* a fresh build must open */
    kz_tfidf_scratch *s = kz__tfidf_scratch_new();
    kz_tfidf_hit a[8], b[8];
    uint32_t na, nb;
    for (uint32_t slot = 0; slot < 2; slot++)
        for (uint32_t k = 1; k <= 8; k += 7) {
            if (kz__tfidf_search(ix, slot, docs[0].ptr, docs[0].len, k, s, a, &na, &err) ||
                kz__tfidf_search_brute(ix, slot, docs[0].ptr, docs[0].len, k, s, b, &nb, &err))
                abort();
            if (na != nb) abort();
            for (uint32_t i = 0; i < na; i++)
                if (a[i].doc != b[i].doc || a[i].score != b[i].score) abort();
        }
    kz__tfidf_scratch_free(s);
    kz__tfidf_close(ix);
    free(blob);
    return 0;
}
