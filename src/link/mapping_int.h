/* Kazu's MappingStep internals: the strategy table (mapping strategies with
 * their disambiguation lists per mention confidence x symbolic-ness x class),
 * the ConfidenceLevelStrategyExecution runner and the TF-IDF context model. */
#ifndef KZ_LINK_MAPPING_INT_H
#define KZ_LINK_MAPPING_INT_H

#include <pthread.h>
#include "../core/core_int.h"
#include "kazu/kb.h"
#include "kazu/pipeline.h"

/* Mapping strategies (Kazu class names in kz__map_strategy_name). */
enum {
    KZ__MS_EXACT = 0,        /* ExactMatchMappingStrategy */
    KZ__MS_SYMBOL = 1,       /* SymbolMatchMappingStrategy */
    KZ__MS_SUBSTRING = 2,    /* SynNormIsSubStringMappingStrategy */
    KZ__MS_STRONG = 3,       /* StrongMatchMappingStrategy */
    KZ__MS_STRONG_EMBED = 4, /* StrongMatchWithEmbeddingConfirmationStringMatchingStrategy */
    KZ__MS_VARIANT = 5,      /* VariantMatchMappingStrategy (ours, opt-in: mapping_variant.c) */
    KZ__MS_COUNT
};
/* Disambiguation strategies. */
enum {
    KZ__DS_DEFINED_ELSEWHERE = 0, /* DefinedElsewhereInDocumentDisambiguationStrategy */
    KZ__DS_TFIDF = 1,             /* TfIdfDisambiguationStrategy */
    KZ__DS_GILDA = 2,             /* GildaTfIdfDisambiguationStrategy: no data, always fails */
    KZ__DS_ANNOTATION = 3,        /* AnnotationLevelDisambiguationStrategy */
    KZ__DS_PREFER_DEFAULT = 4,    /* PreferDefaultLabelMatchDisambiguationStrategy */
    KZ__DS_BEST_SCORE = 5,        /* BestSearchScoreDisambiguationStrategy (ours, opt-in) */
    KZ__DS_COUNT
};
const char *kz__map_strategy_name(int kind);
const char *kz__dis_strategy_name(int kind);

#define KZ__DIS_MAX        8
#define KZ__STRAT_MAX      16
#define KZ__CLASSES_MAX    32
#define KZ__CLASS_NAME_MAX 64

typedef struct kz__dis {
    int kind;
    int confidence;    /* kz_disambiguation_confidence */
    double threshold;  /* TfIdf context_threshold (0.7) */
    uint32_t agg_mask; /* TfIdf: 1 << kz_aggregation for each relevant strategy */
} kz__dis;

typedef struct kz__strategy {
    int kind;
    int confidence; /* kz_string_match_confidence */
    kz__dis dis[KZ__DIS_MAX];
    uint32_t n_dis;
    bool essential;          /* disambiguation_essential */
    double search_threshold; /* StrongMatch: 80 */
    double differential;     /* StrongMatch: 2 */
    bool symbolic_only;      /* StrongMatch */
    uint32_t min_len;        /* SynNormIsSubString: 3 (code points) */
    double embed_threshold;  /* StrongMatchWithEmbeddingConfirmation: 0.60 */
    int variant;             /* VariantMatch: index into kz__mapper.variants, -1 = none */
} kz__strategy;

typedef struct kz__strategy_list {
    char cls[KZ__CLASS_NAME_MAX]; /* "" for the default list */
    kz__strategy s[KZ__STRAT_MAX];
    uint32_t n;
} kz__strategy_list;

/* One ConfidenceLevelStrategyExecution. */
typedef struct kz__level {
    bool present;
    bool stop_on_success;
    kz__strategy_list defaults;
    kz__strategy_list classes[KZ__CLASSES_MAX];
    uint32_t n_classes;
} kz__level;

/* Levels are indexed HIGHLY_LIKELY = 0, PROBABLE = 1, POSSIBLE = 2. */
#define KZ__LEVELS 3
int kz__level_index(int mention_confidence); /* -1 for IGNORE / unknown */

/* Embedding seam for StrongMatchWithEmbeddingConfirmation: similarity of the
 * entity match and a raw synonym (Kazu: SapBERT cosine); NAN means "no score".
 * A NULL scorer switches the strategy off: it then keeps no candidate. */
typedef double (*kz__embed_fn)(void *user, kz_str a, kz_str b);

typedef struct kz__tfidf_model kz__tfidf_model; /* mapping_tfidf.c */
typedef struct kz__variant kz__variant;         /* mapping_variant.c */
#define KZ__VARIANTS_MAX 8

typedef struct kz__mapper {
    kz_kb *kb;     /* borrowed; owned by the step (acquired) */
    bool kb_owned; /* release kb in kz__mapper_free */
    kz__level symbolic[KZ__LEVELS];
    kz__level non_symbolic[KZ__LEVELS];
    kz__embed_fn embed;
    void *embed_user;
    uint64_t tfidf_max_synonyms;             /* parsers with more synonym norms get no TF-IDF model */
    kz__tfidf_model *tfidf;                  /* lazily built per parser; thread-safe */
    kz__variant *variants[KZ__VARIANTS_MAX]; /* VariantMatch keys (owned); none by default */
    uint32_t n_variants;
} kz__mapper;

/* Fill m's levels with Kazu's default MappingStep table (conf/MappingStep/
 * default.yaml + conf/DisambiguationStrategies/default.yaml). */
void kz__mapper_default_table(kz__mapper *m);
/* A strategy with Kazu's constructor defaults. */
kz__strategy kz__strategy_make(int kind, int confidence);
/* Append a disambiguation list by name: "default", "gene", "cell_line",
 * "prefer_default_label", "none". KZ_EINVAL for other names / overflow. */
int kz__strategy_add_dis_list(kz__strategy *s, const char *name);

/* New mapper over kb with the default table (kb borrowed). NULL on OOM. */
kz__mapper *kz__mapper_new(kz_kb *kb);
void kz__mapper_free(kz__mapper *m);

/* Run the strategy runner over one document: every entity's candidates become
 * mappings (Kazu StrategyRunner.__call__). Entities without match_norm get it
 * computed (a match the normaliser refuses keeps its own text). Returns 0 or
 * KZ_ENOMEM. Thread-safe for different documents on the same mapper. */
int kz__mapper_run(const kz__mapper *m, kz_doc *doc, kz_error *err);

/* ---- TF-IDF context model (mapping_tfidf.c) -------------------------------- */
kz__tfidf_model *kz__tfidf_model_new(const kz_kb *kb, uint64_t max_synonyms);
void kz__tfidf_model_free(kz__tfidf_model *t);

/* Per-run document context: features of the concatenated match_norm strings. */
typedef struct kz__tfidf_doc kz__tfidf_doc;
kz__tfidf_doc *kz__tfidf_doc_new(const kz_doc *doc);
void kz__tfidf_doc_free(kz__tfidf_doc *d);

/* Kazu TfIdfScorer over synonyms syns[0..n) of parser p against the document:
 * scores[i] = cosine of the word 1-2-gram + char 2-3-gram TF-IDF vectors
 * (smooth idf fitted on every synonym norm of parser p, l2 norm). n == 1
 * gives 100 as Kazu does. Returns 0, KZ_ENOTFOUND (no model for p: too big
 * or empty) or KZ_ENOMEM. */
int kz__tfidf_score(const kz__mapper *m, kz__tfidf_doc *d, uint32_t parser, const kz_str *syns, size_t n,
                    double *scores);
/* Synonym norms of (parser, id) whose candidate's aggregated_by is in
 * agg_mask (Kazu SynonymDatabase.get_syns_for_id). Appended to *out (grown
 * with realloc; *n_out and *cap_out updated); strings point into the pack. */
int kz__tfidf_syns_for_id(const kz__mapper *m, uint32_t parser, kz_str idx, uint32_t agg_mask,
                          kz_arena *scratch, kz_str **out, size_t *n_out, size_t *cap_out);

/* Feature extraction shared with tests: hashes of the word 1-2-grams and
 * char 2-3-grams of s (with repeats, in Kazu's order). Returns the count
 * written (at most cap; the total needed is returned when larger). */
size_t kz__tfidf_features(const char *s, size_t len, uint64_t *out, size_t cap);

/* ---- VariantMatch (mapping_variant.c) --------------------------------------------
 * A key for a normalised string (kz_normalise output): tokens are the runs of
 * ASCII letters, digits and non-ASCII bytes (letters and digits apart), lower
 * case; roman numerals I..XII become digits; British spellings become American
 * (ae/oe -> e inside a word, -our -> -or, -isation -> -ization, -tre -> -ter);
 * a final s is dropped (-ies -> -y; -ss, -us, -is kept); then word_map rewrites
 * and stop words go; with word_order the tokens are sorted and repeats dropped.
 * Every candidate of a parser is indexed under its synonym_norm's key (built on
 * first use, 16 bytes per candidate, thread-safe). */
#define KZ__VARIANT_KEY_MAX 1024

typedef struct kz__variant_opts {
    bool spelling, singular, roman, word_order;
    bool drop_parenthesised;       /* tokens inside ( ) are left out (both sides) */
    bool split_conjunctions;       /* VariantMatch also maps composite mentions part by part */
    bool drop_one_word;            /* VariantMatch last resort: the mention less one word, first word first */
    const char *const *stop_words; /* dropped on both sides */
    size_t n_stop;
    const char *const *map_from, *const *map_to; /* word_map: to "" drops the word */
    size_t n_map;
    const char *const *mention_drop; /* dropped from mentions only */
    size_t n_mention_drop;
    const char *const *suffix_from, *const *suffix_to; /* suffix_alternatives (mentions only) */
    size_t n_suffix;
} kz__variant_opts;
/* spelling, singular, roman, word_order on; stop words of the a an in on with to
 * for by and or; nothing else. */
kz__variant_opts kz__variant_default_opts(void);
/* Options are copied. kb borrowed (NULL: keys only, lookups find nothing). NULL on OOM. */
kz__variant *kz__variant_new(const kz_kb *kb, const char *name, const kz__variant_opts *o);
void kz__variant_free(kz__variant *v);
const char *kz__variant_name(const kz__variant *v);
bool kz__variant_splits(const kz__variant *v);
/* Let v use other's index when both make the same keys on the synonym side
 * (spelling, singular, roman_numerals, word_order, drop_parenthesised, stop
 * words, word_map); other must outlive v's lookups. Returns whether it does. */
bool kz__variant_share_index(kz__variant *v, const kz__variant *other);
/* The k-th mention alternative (k = 0, 1, ...): norm with one word's suffix
 * replaced by a suffix_alternatives rule ("EPILEPTIC" -> "EPILEPSY"), words
 * in order, rules in order; written to out (cap bytes, NUL-terminated).
 * Returns its length, 0 when there is no k-th alternative. */
size_t kz__variant_alternative(const kz__variant *v, kz_str norm, size_t k, char *out, size_t cap);
/* The key of norm into out (KZ__VARIANT_KEY_MAX bytes, NUL-terminated, "" when none);
 * mention: also drop mention_drop words. Returns the length; 0 = no key (no
 * token left, or over 128 tokens / 95-byte tokens / the key cap). */
size_t kz__variant_key(const kz__variant *v, kz_str norm, bool mention, char *out);
/* The same without the skip-th kept token (in text order; SIZE_MAX: none).
 * Returns 0 also when skip is past the last token. */
size_t kz__variant_key_drop(const kz__variant *v, kz_str norm, bool mention, size_t skip, char *out);
bool kz__variant_drops_one(const kz__variant *v);
/* Candidates (pack indices) of parser whose key equals key[0..len): up to cap
 * in cands, the total in *n. 0 or KZ_ENOMEM (index build). Keys are compared
 * by a 64-bit hash (a collision has probability ~n^2/2^64). */
int kz__variant_lookup(const kz__variant *v, uint32_t parser, const char *key, size_t len, uint64_t *cands,
                       size_t cap, size_t *n);

/* Composite mentions: the strings to try for each conjunct of match, in order
 * (for "classical and Duarte galactosemia": "classical galactosemia",
 * "classical"; "Duarte galactosemia"). Conjuncts are separated by and, or,
 * nor, and/or, &, a trailing ',' or ';', or a '/' between letters. Strings are
 * NUL-terminated at b->data + off. *n_conj = 0 when match is not composite.
 * At most 64 words and 16 conjuncts; 0 or KZ_ENOMEM. */
typedef struct kz__conjunct_alt {
    uint32_t conjunct;
    size_t off, len;
} kz__conjunct_alt;
int kz__variant_conjuncts(kz_str match, kz_buf *b, kz__conjunct_alt *alts, size_t cap, size_t *n_alts,
                          uint32_t *n_conj);

#endif
