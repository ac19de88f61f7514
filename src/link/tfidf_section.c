/* The KZTF pack section: one char-bigram TF-IDF index per parser over its
 * candidates' synonym_norms, built by kz_kb_build over the finished base pack. */
#include <stdlib.h>
#include "kb/kb_int.h"
#include "tfidf_int.h"

int kz__tfidf_build_section(const kz_kb *kb, void **blob, size_t *len, kz_error *err) {
    *blob = NULL;
    *len = 0;
    uint64_t nc = kz_kb_n_candidates(kb);
    uint32_t np = kz_kb_n_parsers(kb);
    if (nc == 0 || np == 0) return KZ_ENOTFOUND;
    kz_str *docs = malloc(nc * sizeof *docs);
    kz_tfidf_input *in = calloc(np, sizeof *in);
    kz_arena *a = kz_arena_new(0);
    int rc = 0;
    if (!docs || !in || !a) {
        rc = kz_error_set(err, KZ_ENOMEM, "tfidf: out of memory");
        goto done;
    }
    uint32_t n_in = 0;
    for (uint64_t i = 0; i < nc; i++) {
        if ((i & 4095) == 0) kz_arena_reset(a);
        kz_candidate c;
        if ((rc = kz_kb_candidate_at(kb, i, a, &c))) {
            rc = kz_error_set(err, rc, "tfidf: candidate %llu unreadable", (unsigned long long)i);
            goto done;
        }
        docs[i] = c.synonym_norm;
        uint32_t p = kz_kb_candidate_parser(kb, i);
        if (n_in == 0 || in[n_in - 1].parser != p) {
            if (n_in == np) {
                rc = kz_error_set(err, KZ_EPARSE, "tfidf: candidates are not grouped by parser");
                goto done;
            }
            in[n_in].parser = p;
            in[n_in].first_candidate = i;
            in[n_in].docs = docs + i;
            n_in++;
        }
        in[n_in - 1].n_docs++;
    }
    rc = kz__tfidf_blob_build(in, n_in, blob, len, err);
done:
    kz_arena_free(a);
    free(docs);
    free(in);
    return rc;
}
