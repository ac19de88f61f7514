/* The dictionary automaton as a pack extension section: kz_kb_build stores it
 * under "KZAC" so MemoryEfficientStringMatchingStep opens it in O(1). */
#include <stdlib.h>
#include "kb/kb_int.h"
#include "link/dict_int.h"

bool kz__dict_resource_is_ner(const kz_kb_resource *r) {
    return r->behaviour == KZ_KB_ADD_FOR_NER_AND_LINKING && r->mention_confidence != KZ_MENTION_IGNORE;
}

int kz__dict_build(const kz_kb *kb, void **blob, size_t *len, uint64_t *n_patterns, uint64_t *n_skipped,
                   kz_error *err) {
    *blob = NULL;
    *len = 0;
    if (n_patterns) *n_patterns = 0;
    if (n_skipped) *n_skipped = 0;
    uint64_t n = kz_kb_n_resources(kb), skipped = 0;
    if (n > 0xffffffffu)
        return kz_error_set(err, KZ_ELIMIT, "dict: %llu resources exceed 2^32", (unsigned long long)n);
    kz_match_builder *b;
    int rc = kz_match_builder_new(&b);
    if (rc) return kz_error_set(err, rc, "dict: out of memory");
    for (uint64_t i = 0; i < n; i++) {
        kz_kb_resource r;
        if (kz_kb_resource_at(kb, i, &r) || !kz__dict_resource_is_ner(&r)) continue;
        rc = kz_match_builder_add(b, r.text.ptr, r.text.len, (uint32_t)i, r.case_sensitive);
        if (rc == KZ_ENOMEM) {
            kz_match_builder_free(b);
            return kz_error_set(err, rc, "dict: out of memory");
        }
        if (rc) skipped++; /* too long, empty or invalid UTF-8: never matchable */
    }
    uint64_t added = kz_match_builder_count(b);
    if (skipped)
        kz_log(KZ_LOG_WARN, "dict: %llu NER resources not matchable (empty, invalid or > %d bytes)",
               (unsigned long long)skipped, KZ_MATCH_MAX_PATTERN);
    if (added == 0) {
        kz_match_builder_free(b);
        return kz_error_set(err, KZ_ENOTFOUND, "dict: the pack has no NER string resources");
    }
    rc = kz_match_builder_finish(b, blob, len, err);
    kz_match_builder_free(b);
    if (rc) return rc;
    if (n_patterns) *n_patterns = added;
    if (n_skipped) *n_skipped = skipped;
    return 0;
}

int kz__dict_build_section(const kz_kb *kb, void **blob, size_t *len, kz_error *err) {
    return kz__dict_build(kb, blob, len, NULL, NULL, err);
}
