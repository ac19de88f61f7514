/* Internals shared by the dictionary-NER, candidate-search and mapping steps
 * (Kazu's MemoryEfficientStringMatchingStep, DictionaryEntityLinkingStep,
 * MappingStep). Not part of the public API. */
#ifndef KZ_LINK_INT_H
#define KZ_LINK_INT_H

#include "kazu/kb.h"
#include "kazu/pipeline.h"

/* Step types (registered as built-ins by src/pipeline/steps.c). */
extern const kz_step_type kz__step_string_matching;    /* dict_step.c: MemoryEfficientStringMatchingStep */
extern const kz_step_type kz__step_dictionary_linking; /* search_step.c: DictionaryEntityLinkingStep */
extern const kz_step_type kz__step_mapping;            /* mapping_step.c: MappingStep */

#endif
