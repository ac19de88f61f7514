/* kazu-c knowledge base: a compiled, memory-mapped, read-only "pack" of
 * ontology ids, synonyms and linking candidates (Kazu's SynonymDatabase +
 * MetadataDatabase + the dictionary-NER string resources), built from
 * ontology files by `kazu kb build RECIPE -o PACK` (docs/kb.md, docs/kb-pack.md).
 *
 * Ownership: a kz_kb owns its mapping. Every kz_str handed out by this API
 * points into the mapping (NUL-terminated) and stays valid until kz_kb_close.
 * Views that need arrays (kz_candidate) are built in a caller-supplied arena;
 * their strings still point into the mapping, so the kb must outlive them.
 * A kz_kb is immutable after open: any number of threads may use one kz_kb
 * concurrently; any number of processes may map the same file (the pages are
 * shared by the OS page cache). */
#ifndef KAZU_KB_H
#define KAZU_KB_H

#include "core.h"
#include "doc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Pack format version written by this library; open refuses others. */
#define KZ_KB_FORMAT_VERSION 1

/* Kazu's OntologyStringBehaviour. */
typedef enum kz_kb_behaviour {
    KZ_KB_ADD_FOR_NER_AND_LINKING = 0,
    KZ_KB_ADD_FOR_LINKING_ONLY = 1,
    KZ_KB_DROP_FOR_LINKING = 2
} kz_kb_behaviour;
KZ_API const char *kz_kb_behaviour_name(int v); /* Kazu's member name; NULL if invalid */
KZ_API int kz_kb_behaviour_parse(kz_str name, int *out);

typedef struct kz_kb kz_kb;

/* Map and validate a pack: magic, format version, header checksum, section
 * table and every section's bounds and internal offsets that open can check in
 * O(sections). The body checksum is checked by kz_kb_verify (O(file)). Every
 * accessor below is bounds-checked against the mapping, so a corrupt body gives
 * errors or wrong strings, never a crash. Errors: KZ_EIO (open/mmap),
 * KZ_EFORMAT (not a pack / wrong version: the message says which version was
 * found and which is supported), KZ_EPARSE (corrupt or truncated: the message
 * names the section and offset). */
KZ_API int kz_kb_open(const char *path, kz_kb **out, kz_error *err);
KZ_API void kz_kb_close(kz_kb *kb); /* NULL ok */
/* Recompute the body checksum and compare it with the header's (KZ_EPARSE on mismatch). */
KZ_API int kz_kb_verify(const kz_kb *kb, kz_error *err);

typedef struct kz_kb_info {
    uint32_t format_version;
    uint64_t file_bytes;
    kz_str name;     /* the recipe's kb name */
    kz_str built_by; /* "kazu-c 0.1.0" */
    uint32_t n_parsers;
    uint64_t n_ids;        /* (parser, id) pairs with metadata */
    uint64_t n_candidates; /* (parser, synonym_norm) linking candidates */
    uint64_t n_id_sets;
    uint64_t n_resources;   /* synonym strings for dictionary NER / linking */
    uint64_t n_keys;        /* (entity_class, synonym_norm) index entries */
    uint8_t input_hash[32]; /* SHA-256 over recipe + inputs + format version */
    uint8_t body_hash[32];  /* SHA-256 of everything after the header */
} kz_kb_info;
KZ_API void kz_kb_get_info(const kz_kb *kb, kz_kb_info *out);

/* ---- parsers (Kazu OntologyParser instances) ----------------------------- */
typedef struct kz_kb_parser {
    kz_str name;         /* unique, e.g. "MONDO" */
    kz_str entity_class; /* e.g. "disease" */
    kz_str source;       /* default kb source for ids, e.g. "MONDO" */
    kz_str data_origin;  /* version string of the input */
} kz_kb_parser;
KZ_API uint32_t kz_kb_n_parsers(const kz_kb *kb);
KZ_API int kz_kb_parser_at(const kz_kb *kb, uint32_t i, kz_kb_parser *out); /* KZ_ERANGE past the end */
/* Index of the parser with this name, or -1. */
KZ_API int32_t kz_kb_parser_find(const kz_kb *kb, kz_str name);

/* ---- ids (Kazu MetadataDatabase) ------------------------------------------ */
typedef struct kz_kb_id {
    uint32_t parser; /* index into parsers */
    kz_str idx;      /* the id, e.g. "MONDO:0005148" */
    kz_str default_label;
    kz_str source;       /* Kazu's find_kb(idx) */
    const kz_str *xrefs; /* arena array (may be NULL when n_xrefs == 0) */
    uint32_t n_xrefs;
    kz_str metadata_json; /* extra columns as one compact JSON object, or NULL ptr */
} kz_kb_id;
KZ_API uint64_t kz_kb_n_ids(const kz_kb *kb);
/* Ids are sorted by (parser, idx bytes). arena receives the xrefs array. */
KZ_API int kz_kb_id_at(const kz_kb *kb, uint64_t i, kz_arena *arena, kz_kb_id *out);
/* Find (parser, idx); returns the index or -1. O(log n). */
KZ_API int64_t kz_kb_id_find(const kz_kb *kb, uint32_t parser, kz_str idx);

/* ---- linking candidates (Kazu LinkingCandidate) ---------------------------- */
KZ_API uint64_t kz_kb_n_candidates(const kz_kb *kb);
/* Fill *out as a kz_candidate view (arrays in arena, strings in the mapping).
 * Candidates are sorted by (parser, synonym_norm bytes). */
KZ_API int kz_kb_candidate_at(const kz_kb *kb, uint64_t i, kz_arena *arena, kz_candidate *out);
/* Parser index of candidate i without building the view (cheap). */
KZ_API uint32_t kz_kb_candidate_parser(const kz_kb *kb, uint64_t i);

/* Exact lookup of an already-normalised key. entity_class NULL ptr = every
 * class. On success *ids points at candidate indices (inside the mapping or a
 * static empty array; no allocation) and *n their count (0 = not found).
 * O(1) expected: one hash probe per class. */
KZ_API int kz_kb_lookup_norm(const kz_kb *kb, kz_str entity_class, kz_str synonym_norm, const uint32_t **ids,
                             size_t *n);

/* Normalise text with kz_normalise for entity_class (or for each class in the
 * pack when entity_class is NULL) and look it up; the candidates found are
 * appended to *out (arena-allocated array, *n entries). */
typedef struct kz_kb_hit {
    uint64_t candidate;
    kz_str entity_class;
    kz_str synonym_norm; /* the key that matched (in the mapping) */
} kz_kb_hit;
KZ_API int kz_kb_lookup(const kz_kb *kb, const char *text, size_t len, const char *entity_class,
                        kz_arena *arena, kz_kb_hit **out, size_t *n, kz_error *err);

/* ---- string resources (what dictionary NER matches) ----------------------- */
typedef struct kz_kb_resource {
    kz_str text;        /* the surface string (original or generated synonym) */
    uint64_t candidate; /* the candidate (parser, synonym_norm) it links to */
    bool case_sensitive;
    int mention_confidence; /* kz_mention_confidence */
    int behaviour;          /* kz_kb_behaviour (DROP_FOR_LINKING ones are not stored) */
    bool generated;         /* produced by synonym generation, not in the ontology */
} kz_kb_resource;
KZ_API uint64_t kz_kb_n_resources(const kz_kb *kb);
KZ_API int kz_kb_resource_at(const kz_kb *kb, uint64_t i, kz_kb_resource *out);

/* ---- extension sections ----------------------------------------------------
 * Other modules store their indexes in the pack (dictionary automaton, TF-IDF
 * index) under a 4-byte tag. Returns KZ_ENOTFOUND if absent. The data is
 * 64-byte aligned in the mapping. */
#define KZ_KB_TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
KZ_API int kz_kb_section(const kz_kb *kb, uint32_t tag, const void **data, size_t *len);

/* ---- sharing one mapping between steps -----------------------------------
 * kz_kb_acquire opens path once per process and hands out counted references:
 * every step (dictionary NER, candidate search, mapping) that names the same
 * pack file shares one mapping. Paths are compared after realpath(). Each
 * successful acquire needs one kz_kb_release; the last release closes the pack.
 * Thread-safe. Errors as kz_kb_open. */
KZ_API int kz_kb_acquire(const char *path, kz_kb **out, kz_error *err);
KZ_API void kz_kb_release(kz_kb *kb); /* NULL ok */
/* The pack a pipeline step should use: the step's `kb` parameter when given
 * (a string; `${VAR}`/`${VAR:-default}` expanded), else the environment
 * variable KAZU_KB (set by `kazu annotate --kb`), else KZ_ECONFIG naming the
 * step. The path found is acquired (kz_kb_release it in the step's free).
 * params may be NULL. */
struct kz_config_node;
KZ_API int kz_kb_from_step_params(const struct kz_config_node *params, const char *step_name, kz_kb **out,
                                  kz_error *err);

/* ---- building ----------------------------------------------------------------
 * A recipe is a YAML file (docs/kb.md) listing sources (one parser each), their
 * formats and options, synonym generation, auto-curation, curation files and
 * global actions. The build is deterministic: the same recipe and inputs give a
 * byte-identical pack. The pack records the SHA-256 of the recipe bytes, every
 * input file's bytes and the format version; unless force is set, an existing
 * pack at out_path with the same hash is kept as is (report->up_to_date). */
typedef struct kz_kb_build_opts {
    bool force;              /* rebuild even when the input hash matches */
    bool allow_conflicts;    /* don't fail on unresolved curation conflicts */
    const char *report_path; /* conflict report (JSONL); NULL = none */
    int verbose;             /* progress via kz_log */
} kz_kb_build_opts;

typedef struct kz_kb_build_report {
    bool up_to_date;
    uint64_t n_terms_parsed;
    uint64_t n_warnings;  /* malformed records skipped (each logged with file:line) */
    uint64_t n_conflicts; /* unresolved conflicts (see report_path) */
    double seconds;
} kz_kb_build_report;

/* Build the pack. Writes to a temporary file beside out_path and renames it into
 * place, so a failed build never leaves a partial pack. Unresolved conflicts
 * give KZ_ECONFIG (after writing the report) unless allow_conflicts. */
KZ_API int kz_kb_build(const char *recipe_path, const char *out_path, const kz_kb_build_opts *opts,
                       kz_kb_build_report *report, kz_error *err);

#ifdef __cplusplus
}
#endif
#endif
