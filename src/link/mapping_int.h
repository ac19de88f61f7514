/* Kazu's MappingStep internals: the strategy table (mapping strategies with
 * their disambiguation lists per mention confidence x symbolic-ness x class),
 * the ConfidenceLevelStrategyExecution runner and the TF-IDF context model. */
#ifndef KZ_LINK_MAPPING_INT_H
#define KZ_LINK_MAPPING_INT_H

#include <pthread.h>
#include "kazu/kb.h"
#include "kazu/pipeline.h"

/* Mapping strategies (Kazu class names in kz__map_strategy_name). */
enum {
    KZ__MS_EXACT = 0,        /* ExactMatchMappingStrategy */
    KZ__MS_SYMBOL = 1,       /* SymbolMatchMappingStrategy */
    KZ__MS_SUBSTRING = 2,    /* SynNormIsSubStringMappingStrategy */
    KZ__MS_STRONG = 3,       /* StrongMatchMappingStrategy */
    KZ__MS_STRONG_EMBED = 4, /* StrongMatchWithEmbeddingConfirmationStringMatchingStrategy */
    KZ__MS_COUNT
};
/* Disambiguation strategies. */
enum {
    KZ__DS_DEFINED_ELSEWHERE = 0, /* DefinedElsewhereInDocumentDisambiguationStrategy */
    KZ__DS_TFIDF = 1,             /* TfIdfDisambiguationStrategy */
    KZ__DS_GILDA = 2,             /* GildaTfIdfDisambiguationStrategy: no data, always fails */
    KZ__DS_ANNOTATION = 3,        /* AnnotationLevelDisambiguationStrategy */
    KZ__DS_PREFER_DEFAULT = 4,    /* PreferDefaultLabelMatchDisambiguationStrategy */
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

typedef struct kz__mapper {
    kz_kb *kb;     /* borrowed; owned by the step (acquired) */
    bool kb_owned; /* release kb in kz__mapper_free */
    kz__level symbolic[KZ__LEVELS];
    kz__level non_symbolic[KZ__LEVELS];
    kz__embed_fn embed;
    void *embed_user;
    uint64_t tfidf_max_synonyms; /* parsers with more synonym norms get no TF-IDF model */
    kz__tfidf_model *tfidf;      /* lazily built per parser; thread-safe */
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

#endif
