/* Internals of the post-processing steps (Kazu's AbbreviationFinderStep,
 * RulesBasedEntityClassDisambiguationFilterStep, CleanupStep). Not public. */
#ifndef KZ_POST_INT_H
#define KZ_POST_INT_H

#include "kazu/pipeline.h"

extern const kz_step_type kz__step_abbreviation; /* abbrev_step.c: AbbreviationFinderStep */
extern const kz_step_type kz__step_rules_filter; /* rules_step.c: RulesBasedEntityClassDisambiguationFilterStep */
extern const kz_step_type kz__step_cleanup;      /* cleanup_step.c: CleanupStep */

#endif
