/* Dictionary NER internals: the automaton over a pack's NER string resources
 * (Kazu's MemoryEfficientStringMatchingStep), shared by the pack section
 * builder (dict_section.c) and the step (dict_step.c). */
#ifndef KZ_DICT_INT_H
#define KZ_DICT_INT_H

#include "kazu/kb.h"
#include "kazu/match.h"

/* Section tag of the automaton blob in a pack ("KZAC"). */
#define KZ_DICT_SECTION_TAG KZ_KB_TAG('K', 'Z', 'A', 'C')

/* True for the resources Kazu's step matches: behaviour ADD_FOR_NER_AND_LINKING
 * and mention confidence other than IGNORE. */
bool kz__dict_resource_is_ner(const kz_kb_resource *r);

/* Build the automaton over kb's NER resources (payload = resource index,
 * case_sensitive as stored). *blob is malloc'd (free()), *len its size;
 * *n_patterns (may be NULL) the number added, *n_skipped (may be NULL) the
 * resources refused by the builder (too long for KZ_MATCH_MAX_PATTERN).
 * KZ_ENOTFOUND when the pack has no NER resource. */
int kz__dict_build(const kz_kb *kb, void **blob, size_t *len, uint64_t *n_patterns, uint64_t *n_skipped,
                   kz_error *err);

#endif
