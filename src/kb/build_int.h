/* Internals of the knowledge-base model builder (src/kb/build_*.c,
 * synonyms.c, curation.c): Kazu's OntologyStringResource pipeline in C.
 * Not public API; unit tests and fuzz targets include it. */
#ifndef KZ_KB_BUILD_INT_H
#define KZ_KB_BUILD_INT_H

#include "../core/core_int.h"
#include "kb_int.h"

/* ---- small shared helpers (build_model.c) ---------------------------------- */

uint64_t kz__kbb_hash(const void *p, size_t n);

/* Open-addressing map from borrowed byte strings to uint32 values. Keys are
 * not copied: the caller keeps them alive. */
typedef struct kz_strmap {
    kz_str *keys;
    uint32_t *vals;
    size_t cap, n; /* cap is 0 or a power of two */
} kz_strmap;
void kz__strmap_free(kz_strmap *m);
/* Pointer to the value of key, or NULL. */
uint32_t *kz__strmap_get(const kz_strmap *m, kz_str key);
/* Insert key -> val if absent. *slot (may be NULL) points at the stored value.
 * Returns 1 when inserted, 0 when the key was there, KZ_ENOMEM. */
int kz__strmap_put(kz_strmap *m, kz_str key, uint32_t val, uint32_t **slot);

/* Growable array of string views (malloc-backed; strings are borrowed). */
typedef struct kz_strvec {
    kz_str *v;
    size_t n, cap;
} kz_strvec;
int kz__strvec_push(kz_strvec *s, kz_str x);
void kz__strvec_free(kz_strvec *s);
int kz__kbb_str_cmp(const void *a, const void *b); /* qsort on kz_str by bytes */

/* Python str semantics Kazu relies on (curation.c). Strings are valid UTF-8. */
bool kz__py_isspace(uint32_t cp);
size_t kz__py_len(kz_str s); /* code points */
bool kz__py_isupper(kz_str s);
bool kz__py_isalpha(kz_str s);
bool kz__py_char_islower(uint32_t cp);
bool kz__py_char_isupper(uint32_t cp);
/* str.lower() into the arena (ASCII fast path; full Unicode mapping incl. U+0130
 * and the final-sigma rule). ptr NULL on OOM. */
kz_str kz__py_lower(kz_arena *a, kz_str s);
/* str.strip() as a view into s. */
kz_str kz__py_strip(kz_str s);

/* Cache of kz_normalise / kz_normalise_is_symbolic results for one entity
 * class (the builder's hot spot). Results live until kz__ncache_free. */
typedef struct kz_ncache kz_ncache;
kz_ncache *kz__ncache_new(const char *entity_class);
void kz__ncache_free(kz_ncache *c);
const char *kz__ncache_class(const kz_ncache *c);
int kz__ncache_norm(kz_ncache *c, kz_str s, kz_str *norm, kz_error *err);
int kz__ncache_symbolic(kz_ncache *c, kz_str s, bool *symbolic, kz_error *err);

/* ---- Kazu data types ----------------------------------------------------- */

typedef struct kz_kbb_syn { /* Kazu Synonym */
    kz_str text;
    bool case_sensitive;
    int mention_confidence; /* kz_mention_confidence */
} kz_kbb_syn;

typedef struct kz_kbb_idset { /* Kazu EquivalentIdSet, ids sorted by (idx, source), unique */
    kz_id_source *ids;
    uint32_t n;
} kz_kbb_idset;

typedef struct kz_kbb_res { /* Kazu OntologyStringResource */
    kz_kbb_syn *orig;       /* original_synonyms, unique by (text, cs, conf), sorted */
    uint32_t n_orig;
    kz_kbb_syn *alt; /* alternative_synonyms (generated), same rules */
    uint32_t n_alt;
    int behaviour;         /* kz_kb_behaviour */
    bool has_id_sets;      /* associated_id_sets is not None */
    kz_kbb_idset *id_sets; /* sorted by content, unique */
    uint32_t n_id_sets;
    kz_str syn_norm; /* syn_norm_for_linking; NULL ptr until computed */
    kz_str comment;  /* NULL ptr = None */
    kz_str origin;   /* "file:line" for human curations, NULL ptr for defaults */
} kz_kbb_res;

typedef struct kz_resvec {
    kz_kbb_res *v;
    size_t n, cap;
} kz_resvec;
int kz__resvec_push(kz_resvec *r, const kz_kbb_res *x);
void kz__resvec_free(kz_resvec *r);

/* Sort and deduplicate a synonym array in place (returns the new count). */
uint32_t kz__kbb_syns_normalise(kz_kbb_syn *s, uint32_t n);
/* Sort and deduplicate id sets in place (each set already sorted). */
uint32_t kz__kbb_idsets_normalise(kz_kbb_idset *s, uint32_t n);
int kz__kbb_idset_cmp(const kz_kbb_idset *a, const kz_kbb_idset *b);
/* Total order on resources by content (for deterministic sets). */
int kz__kbb_res_cmp(const kz_kbb_res *a, const kz_kbb_res *b);

/* Context of one parser's curation work. */
typedef struct kz_kbb_ctx {
    kz_arena *arena;          /* work arena: everything below lives here */
    const char *parser;       /* parser name (for messages and reports) */
    const char *entity_class; /* parser entity class */
    kz_ncache *norm;          /* normaliser cache for entity_class */
    kz_ncache *aux[4];        /* caches for the autocurator's symbolic classes */
    kz_buf *report;           /* JSONL conflict report sink (NULL = none) */
    uint64_t n_conflicts;     /* unresolved conflicts reported */
} kz_kbb_ctx;
/* Normaliser cache for another class (autocurator); NULL on OOM. */
kz_ncache *kz__kbb_ctx_cache(kz_kbb_ctx *ctx, const char *entity_class);
/* syn_norm_for_linking: every original normalises to one value; otherwise
 * KZ_ECONFIG ("multiple synonym norms"). Sets r->syn_norm. */
int kz__kbb_res_syn_norm(kz_kbb_ctx *ctx, kz_kbb_res *r, kz_error *err);

/* ---- synonym generation (synonyms.c) --------------------------------------- */

enum { KZ_SYNGEN_NONE = 0, KZ_SYNGEN_DEFAULT, KZ_SYNGEN_GENE, KZ_SYNGEN_CHEMICAL, KZ_SYNGEN_DISEASE };
int kz__syngen_config_parse(const char *name, int *out);
const char *kz__syngen_config_name(int v);

/* Caps (Kazu has none; see docs/kb.md): strings one StringReplacement call may
 * produce from Greek substitution, and generated strings kept per resource. */
#define KZ_SYNGEN_MAX_GREEK        256
#define KZ_SYNGEN_MAX_PER_RESOURCE 512

typedef struct kz_syngen_repl { /* one replacement_dict entry */
    const char *from;
    const char *const *to;
    size_t n_to;
} kz_syngen_repl;

typedef struct kz_syngen kz_syngen;
/* An empty CombinatorialSynonymGenerator; add generators, then run. */
kz_syngen *kz__syngen_new(void);
/* One of Kazu's configs (conf/SynonymGeneration): NONE gives an empty one. */
kz_syngen *kz__syngen_new_config(int config);
void kz__syngen_free(kz_syngen *g);
/* Every variant the generator makes of s (without s itself); *out points into
 * g's scratch, valid until the next call. 0 or KZ_ENOMEM. */
int kz__syngen_variants(kz_syngen *g, kz_str s, const kz_str **out, size_t *n);
int kz__syngen_add_stopwords(kz_syngen *g);
int kz__syngen_add_ngram_hyphenation(kz_syngen *g, int ngram);
int kz__syngen_add_replacement(kz_syngen *g, const kz_syngen_repl *repl, size_t n_repl,
                               const kz_syngen_repl *digit_repl, size_t n_digit_repl, bool include_greek);
size_t kz__syngen_count(const kz_syngen *g);
/* Run generator i on one string: *out (valid until the next call or free) gets
 * the unique generated strings in first-produced order. Cached like Kazu's
 * functools.cache. */
int kz__syngen_call(kz_syngen *g, size_t i, kz_str s, const kz_str **out, size_t *n, kz_error *err);
/* CombinatorialSynonymGenerator over resources: sets each resource's alt
 * synonyms (ci/conf inherited from the source synonym) in arena.
 * *n_capped (may be NULL) counts resources whose output hit a cap. */
int kz__syngen_run(kz_syngen *g, kz_kbb_res *res, size_t n, kz_arena *arena, uint64_t *n_capped,
                   kz_error *err);
/* Drop the string caches (Kazu clears them after each parser). */
void kz__syngen_clear_cache(kz_syngen *g);

/* ---- auto-curation, conflicts, curations, processor (curation.c) ---------- */

enum { KZ_CURATOR_NONE = 0, KZ_CURATOR_BASIC, KZ_CURATOR_GENE, KZ_CURATOR_CHEMBL, KZ_CURATOR_CELL };
int kz__curator_parse(const char *name, int *out);
const char *kz__curator_name(int v);

enum {
    KZ_AC_SYMBOLIC_TO_CS = 0,  /* SymbolicToCaseSensitiveAction(class) */
    KZ_AC_LIKELY_ACRONYM,      /* LikelyAcronym(5) */
    KZ_AC_COMMON_WORD,         /* IsCommmonWord(word list) */
    KZ_AC_MULTIWORD,           /* multiword */
    KZ_AC_MIN_LENGTH,          /* MinLength(2) */
    KZ_AC_MAX_LENGTH,          /* MaxLength(60) */
    KZ_AC_INITIAL_LOWER_UPPER, /* initial_lowercase_then_upper_to_case_sensitive */
    KZ_AC_UPPER_WORD_TO_CI     /* is_upper_case_word_to_case_insensitive */
};
/* One action on one resource (cls: SymbolicToCaseSensitive's class). */
int kz__autocurate_action(kz_kbb_ctx *ctx, int action, const char *cls, kz_kbb_res *r, kz_error *err);
/* Every action of a curator set, in Kazu's order. */
int kz__autocurate(kz_kbb_ctx *ctx, int curator, kz_kbb_res *r, kz_error *err);
/* The common-word list (lower case); true if w is in it. */
bool kz__common_word(kz_str w);

enum { KZ_AUTOFIX_NONE = 0, KZ_AUTOFIX_OPTIMISTIC, KZ_AUTOFIX_PESSIMISTIC };
/* OntologyStringConflictAnalyser.verify_resource_set_integrity: clean gets
 * the clean resources (copies sharing arena memory with the input). With
 * autofix NONE, conflicts are left out of clean, written to ctx->report
 * (stage names the set: "curations", "combined") and counted in
 * ctx->n_conflicts. A resource whose originals normalise to more than one
 * value is always a conflict (Kazu raises CurationError). */
int kz__conflicts_verify(kz_kbb_ctx *ctx, const kz_kbb_res *in, size_t n, int autofix, const char *stage,
                         kz_resvec *clean, kz_error *err);
/* merge_human_and_auto_resources: effective = defaults with the human
 * resource of the same syn_norm instead, plus additional_to_source humans. */
int kz__curations_merge(kz_kbb_ctx *ctx, const kz_kbb_res *human, size_t n_human, const kz_kbb_res *autos,
                        size_t n_auto, kz_resvec *effective, uint64_t *n_obsolete, kz_error *err);

/* Kazu OntologyStringResource JSONL (one object a line; blank lines skipped).
 * A malformed line is an error naming path:line. Strings go to ctx->arena. */
int kz__curations_load(kz_kbb_ctx *ctx, const char *path, kz_resvec *out, kz_error *err);
int kz__curations_load_mem(kz_kbb_ctx *ctx, const char *data, size_t len, const char *name, kz_resvec *out,
                           kz_error *err);

/* Kazu GlobalParserActions JSON. */
typedef struct kz_kbb_gaction {
    int behaviour; /* 0 = DROP_IDS_FROM_PARSER (the only one) */
    kz_str parser;
    kz_str *ids;
    uint32_t n_ids;
} kz_kbb_gaction;
typedef struct kz_kbb_gactions {
    kz_kbb_gaction *v; /* one per (action, parser) in file order */
    size_t n;
} kz_kbb_gactions;
int kz__global_actions_load(kz_arena *a, const char *path, kz_kbb_gactions *out, kz_error *err);
int kz__global_actions_load_mem(kz_arena *a, const char *data, size_t len, const char *name,
                                kz_kbb_gactions *out, kz_error *err);

/* A linking candidate during the build (Kazu LinkingCandidate). */
typedef struct kz_kbb_cand {
    kz_str syn_norm;
    kz_str *raw; /* sorted unique */
    uint32_t n_raw;
    kz_str *mtypes; /* sorted unique */
    uint32_t n_mtypes;
    bool is_symbolic;
    int aggregated_by;
    kz_kbb_idset *sets; /* sorted unique */
    uint32_t n_sets;
} kz_kbb_cand;

typedef struct kz_candvec {
    kz_kbb_cand *v;
    size_t n, cap;
} kz_candvec;
int kz__candvec_push(kz_candvec *c, const kz_kbb_cand *x);
void kz__candvec_free(kz_candvec *c);

/* OntologyResourceProcessor: global actions for ctx->parser, then the
 * resources in order ADD_FOR_NER_AND_LINKING, ADD_FOR_LINKING_ONLY,
 * DROP_FOR_LINKING (overrides after plain ones; ties by content). cands is
 * replaced by the final candidates (sorted by syn_norm); kept gets the
 * resources Kazu returns for NER (those whose candidate exists at the end). */
int kz__process_resources(kz_kbb_ctx *ctx, const kz_kbb_gactions *ga, kz_candvec *cands, kz_resvec *res,
                          kz_resvec *kept, kz_error *err);

/* Default resources (linking_candidates_to_ontology_string_resources). */
int kz__default_resources(kz_kbb_ctx *ctx, const kz_candvec *cands, kz_resvec *out, kz_error *err);

/* ---- recipe (build_recipe.c) ----------------------------------------------- */

enum { KZ_IDGROUP_DEFAULT = 0, KZ_IDGROUP_XREF, KZ_IDGROUP_PER_ID };

typedef struct kz_recipe_source {
    kz_onto_spec spec; /* spec.path is the resolved input path */
    const char *name, *entity_class, *source, *data_origin;
    bool required, skipped; /* skipped: required false and the file is missing */
    int synonym_generation; /* KZ_SYNGEN_* */
    int autocurator;        /* KZ_CURATOR_* */
    int id_grouping;        /* KZ_IDGROUP_* */
    const char *curations;  /* resolved path or NULL */
    int64_t line;           /* position of the source in the recipe */
} kz_recipe_source;

typedef struct kz_recipe {
    kz_arena *arena;
    const char *path;
    const char *name;
    kz_recipe_source *sources;
    size_t n_sources;
    const char *global_actions; /* resolved path or NULL */
} kz_recipe;

/* Parse the recipe text (path: for messages and relative paths). Checks that
 * input files exist (required ones) but reads none of them. */
int kz__recipe_parse(const char *text, size_t len, const char *path, kz_recipe *out, kz_error *err);
int kz__recipe_load(const char *path, kz_recipe *out, char **text, size_t *text_len, kz_error *err);
void kz__recipe_free(kz_recipe *r);
/* SHA-256 of recipe bytes, each input (sources in order: data file, then its
 * curations; then the global actions file) and KZ_KB_FORMAT_VERSION (uint32 LE). */
int kz__recipe_hash(const kz_recipe *r, const char *text, size_t len, uint8_t out[32], kz_error *err);
/* ${VAR} / ${VAR:-default} expansion into the arena. */
int kz__recipe_expand(kz_arena *a, const char *in, const char **out, kz_error *err);

#endif
