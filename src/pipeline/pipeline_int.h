/* Pipeline internals shared by the runner, the step registry and the
 * built-in steps. Not part of the public API. */
#ifndef KZ_PIPELINE_INT_H
#define KZ_PIPELINE_INT_H

#include "kazu/pipeline.h"

/* Built-in step types (registered by the registry on first use). */
extern const kz_step_type kz__step_sentence_splitter;
extern const kz_step_type kz__step_merge_overlapping;
extern const kz_step_type kz__step_transformers_ner; /* src/ner/ner_step.c */

#endif
