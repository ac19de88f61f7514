/* Fuzz target for the knowledge-base pack reader: open the bytes as a pack
 * (as they are, then with the header checksum recomputed so mutations reach
 * the section checks) and exercise every accessor. Nothing may crash, hang or
 * leak; a pack that opens must answer every call with data or an error. */
#include <stdlib.h>
#include <string.h>
#include "kazu/kazu.h"
#include "kazu/kb.h"
#include "../../src/kb/pack_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 4096 /* records visited per table, so big counts stay fast */

static void exercise(kz_kb *kb) {
    kz_arena *a = kz_arena_new(0);
    kz_kb_info info;
    kz_kb_get_info(kb, &info);
    if (info.name.len != strlen(info.name.ptr)) abort();
    for (uint32_t i = 0; i <= kz_kb_n_parsers(kb) && i < CAP; i++) {
        kz_kb_parser p;
        if (kz_kb_parser_at(kb, i, &p) == 0 && kz_kb_parser_find(kb, p.name) < 0) abort();
    }
    for (uint64_t i = 0; i <= kz_kb_n_ids(kb) && i < CAP; i++) {
        kz_kb_id id;
        kz_arena_reset(a);
        if (kz_kb_id_at(kb, i, a, &id) == 0) {
            kz_kb_id_find(kb, id.parser, id.idx);
            for (uint32_t k = 0; k < id.n_xrefs; k++)
                if (!id.xrefs[k].ptr || id.xrefs[k].ptr[id.xrefs[k].len] != 0) abort();
        }
    }
    for (uint64_t i = 0; i <= kz_kb_n_candidates(kb) && i < CAP; i++) {
        kz_candidate c;
        kz_kb_candidate_parser(kb, i);
        kz_arena_reset(a);
        if (kz_kb_candidate_at(kb, i, a, &c) != 0) continue;
        for (uint32_t s = 0; s < c.n_id_sets; s++)
            for (uint32_t k = 0; k < c.id_sets[s].n_ids; k++)
                if (!c.id_sets[s].ids[k].idx.ptr) abort();
        const uint32_t *ids;
        size_t n;
        if (kz_kb_lookup_norm(kb, KZ_STR_NULL, c.synonym_norm, &ids, &n) == 0)
            for (size_t k = 0; k < n; k++) kz_kb_candidate_parser(kb, ids[k]);
        kz_kb_parser p;
        if (kz_kb_parser_at(kb, kz_kb_candidate_parser(kb, i), &p) == 0)
            kz_kb_lookup_norm(kb, p.entity_class, c.synonym_norm, &ids, &n);
    }
    for (uint64_t i = 0; i <= kz_kb_n_resources(kb) && i < CAP / 8; i++) {
        kz_kb_resource r;
        if (kz_kb_resource_at(kb, i, &r) != 0) continue;
        kz_kb_hit *hits = NULL;
        size_t n = 0;
        kz_arena_reset(a);
        if (kz_kb_lookup(kb, r.text.ptr, r.text.len, NULL, a, &hits, &n, NULL) == 0)
            for (size_t k = 0; k < n; k++) kz_kb_candidate_parser(kb, hits[k].candidate);
    }
    const void *d;
    size_t len;
    kz_kb_section(kb, KZ_KB_TAG('A', 'U', 'T', 'O'), &d, &len);
    if (kz_kb_section(kb, KZ_SEC_KEYS, &d, &len) == 0 && ((uintptr_t)d & 63)) abort();
    kz_kb_verify(kb, NULL);
    kz_arena_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kz_kb *kb = NULL;
    kz_error err;
    if (kz__kb_open_mem(data, size, "fuzz", &kb, &err) == 0) {
        exercise(kb);
        kz_kb_close(kb);
    } else if (kb || !err.msg[0]) {
        abort();
    }
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    kz__pack_fix_header_sum(copy, size);
    if (kz__kb_open_mem(copy, size, "fuzz", &kb, &err) == 0) {
        exercise(kb);
        kz_kb_close(kb);
    }
    free(copy);
    return 0;
}
