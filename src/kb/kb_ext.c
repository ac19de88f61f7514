/* Extension sections of a pack: indexes that other modules build from the
 * finished pack (the dictionary automaton, the TF-IDF candidate index).
 * kz_kb_build writes the base pack, opens it, runs every builder below over it
 * and rewrites the pack with the sections appended. */
#include <stdlib.h>
#include "kb_int.h"
#include "kazu/kb.h"

/* Builders: each returns 0 with a malloc'd blob (64-byte aligned is best), or
 * KZ_ENOTFOUND when it has nothing to store, or an error. */
typedef int (*ext_build_fn)(const kz_kb *kb, void **blob, size_t *len, kz_error *err);

static const struct {
    uint32_t tag;
    const char *what;
    ext_build_fn build;
} k_builders[] = {
    {KZ_KB_TAG('K', 'Z', 'A', 'C'), "dictionary automaton", kz__dict_build_section},
    {KZ_KB_TAG('K', 'Z', 'T', 'F'), "TF-IDF candidate index", kz__tfidf_build_section},
};
#define N_BUILDERS (sizeof k_builders / sizeof k_builders[0])

int kz__kb_ext_build_all(const kz_kb *kb, kz_kb_ext_section *out, size_t cap, size_t *n, int verbose,
                         kz_error *err) {
    *n = 0;
    for (size_t i = 0; i < N_BUILDERS && *n < cap; i++) {
        void *blob = NULL;
        size_t len = 0;
        int rc = k_builders[i].build(kb, &blob, &len, err);
        if (rc == KZ_ENOTFOUND) {
            kz_error_clear(err);
            continue;
        }
        if (rc) {
            kz__kb_ext_free(out, *n);
            *n = 0;
            return rc;
        }
        if (verbose) kz_log(KZ_LOG_INFO, "kb build: %s: %zu bytes", k_builders[i].what, len);
        out[*n].tag = k_builders[i].tag;
        out[*n].data = blob;
        out[*n].len = len;
        (*n)++;
    }
    return 0;
}

/* Versions of the extension sections' formats, mixed into the pack's input
 * hash: a pack built before a section existed, or with an older format of
 * it, is rebuilt by the next `kb build` instead of being kept as up to date. */
static const char k_ext_versions[] = "KZAC:3 KZTF:2";

void kz__kb_ext_salt(uint8_t hash[32]) {
    kz_sha256 *h = kz__sha256_new();
    if (!h) return;
    kz__sha256_update(h, hash, 32);
    kz__sha256_update(h, k_ext_versions, sizeof k_ext_versions - 1);
    kz__sha256_final(h, hash);
}

void kz__kb_ext_free(kz_kb_ext_section *s, size_t n) {
    for (size_t i = 0; i < n; i++) free((void *)s[i].data);
}
