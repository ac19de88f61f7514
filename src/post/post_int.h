/* Internals of the post-processing steps (Kazu's AbbreviationFinderStep,
 * RulesBasedEntityClassDisambiguationFilterStep, CleanupStep). Not public. */
#ifndef KZ_POST_INT_H
#define KZ_POST_INT_H

#include "kazu/pipeline.h"

extern const kz_step_type kz__step_abbreviation; /* abbrev_step.c: AbbreviationFinderStep */
extern const kz_step_type
    kz__step_rules_filter;                  /* rules_step.c: RulesBasedEntityClassDisambiguationFilterStep */
extern const kz_step_type kz__step_cleanup; /* cleanup_step.c: CleanupStep */

/* ---- helpers (post_util.c) ------------------------------------------------- */

/* A malloc'd list of malloc'd NUL-terminated strings. */
typedef struct kz_post_strs {
    char **v;
    size_t n;
} kz_post_strs;

/* Copy a config string sequence at map[key] (absent/null: def[0..n_def)).
 * 0, KZ_ECONFIG (err located) or KZ_ENOMEM. */
int kz__post_strs_get(const kz_config_node *map, const char *key, const char *const *def, size_t n_def,
                      kz_post_strs *out, kz_error *err);
/* Copy the strings of a sequence node (a scalar counts as a one-item list;
 * null as empty). */
int kz__post_strs_from_node(const kz_config_node *seq, kz_post_strs *out, kz_error *err);
void kz__post_strs_free(kz_post_strs *s);
bool kz__post_strs_has(const kz_post_strs *s, kz_str x);

/* Sentence span of the section holding byte offset `at` (Kazu's span.sent):
 * the section's sentence_spans when set, else kz_sentences_split. Falls back to
 * the whole text when no sentence holds `at`. */
kz_span kz__post_sentence_of(const kz_section *sec, const kz_span *sents, size_t n_sents, int64_t at);

/* Add a copy of src over spans (pieces joined with ""): class, mappings,
 * linking candidates (same borrowed candidate pointers) and metadata; the
 * given namespace and mention confidence; match_norm recomputed. */
int kz__post_copy_entity(kz_doc *doc, kz_section *sec, const kz_entity *src, const kz_span *spans, size_t n,
                         kz_str namespace_, int mention_confidence, kz_entity **out, kz_error *err);

/* StripMappingURIsAction on one id (cleanup_step.c): Python's
 * urlparse(idx).path.split("/")[-1] when idx has a URL scheme (note: a CURIE
 * such as "MONDO:0004979" parses as scheme "mondo", as in Kazu); KZ_STR_NULL
 * when the id has no scheme and stays as it is. Borrows idx. */
kz_str kz__post_strip_uri(kz_str idx);

#endif
