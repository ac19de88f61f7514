/* kazu-c data model: Document -> Section -> Entity -> Mapping / LinkingCandidate,
 * with Kazu's semantics (see docs/datamodel.md). All offsets are BYTE offsets
 * into the section's UTF-8 text; writers convert to code points at the edges. */
#ifndef KAZU_DOC_H
#define KAZU_DOC_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Kazu's metadata key for a document that failed in some step. */
#define KZ_PROCESSING_EXCEPTION "PROCESSING_EXCEPTION"

/* ---- confidence enums (values are stable; names are Kazu's) ---------------- */
typedef enum kz_mention_confidence {
    KZ_MENTION_IGNORE = 0,
    KZ_MENTION_POSSIBLE = 10,
    KZ_MENTION_PROBABLE = 50,
    KZ_MENTION_HIGHLY_LIKELY = 100
} kz_mention_confidence;

typedef enum kz_string_match_confidence {
    KZ_SMC_HIGHLY_LIKELY = 1,
    KZ_SMC_PROBABLE = 2,
    KZ_SMC_POSSIBLE = 3
} kz_string_match_confidence;

typedef enum kz_disambiguation_confidence {
    KZ_DC_NONE = 0, /* Kazu's None: omitted in JSON */
    KZ_DC_HIGHLY_LIKELY = 1,
    KZ_DC_PROBABLE = 2,
    KZ_DC_POSSIBLE = 3,
    KZ_DC_AMBIGUOUS = 4
} kz_disambiguation_confidence;

typedef enum kz_aggregation {
    KZ_AGG_NO_STRATEGY = 0,
    KZ_AGG_RESOLVED_BY_SIMILARITY = 1,
    KZ_AGG_SYNONYM_IS_AMBIGUOUS = 2,
    KZ_AGG_CUSTOM = 3,
    KZ_AGG_UNAMBIGUOUS = 4,
    KZ_AGG_MERGED_AS_NON_SYMBOLIC = 5,
    KZ_AGG_MODIFIED_BY_CURATION = 6,
    KZ_AGG_RESOLVED_BY_XREF = 7
} kz_aggregation;

/* Kazu's enum member names ("HIGHLY_LIKELY", ...); NULL for invalid values. */
KZ_API const char *kz_mention_confidence_name(int v);
KZ_API const char *kz_string_match_confidence_name(int v);
KZ_API const char *kz_disambiguation_confidence_name(int v); /* NULL for NONE */
KZ_API const char *kz_aggregation_name(int v);
/* Parse a member name; 0 ok, KZ_EPARSE if unknown. */
KZ_API int kz_mention_confidence_parse(kz_str name, int *out);
KZ_API int kz_string_match_confidence_parse(kz_str name, int *out);
KZ_API int kz_disambiguation_confidence_parse(kz_str name, int *out);
KZ_API int kz_aggregation_parse(kz_str name, int *out);

/* ---- metadata ---------------------------------------------------------------
 * Kazu metadata is an arbitrary JSON object. We keep it as an ordered list of
 * (key, raw JSON value text) pairs; values are validated JSON on insertion. */
typedef struct kz_meta_entry {
    kz_str key;   /* UTF-8, NUL-terminated */
    kz_str value; /* one JSON value, compact text, NUL-terminated */
} kz_meta_entry;

typedef struct kz_meta {
    kz_meta_entry *items;
    uint32_t n, cap;
} kz_meta;

/* ---- spans --------------------------------------------------------------- */
typedef struct kz_span {
    int64_t start; /* byte offset, inclusive */
    int64_t end;   /* byte offset, exclusive */
} kz_span;

/* ---- linking ----------------------------------------------------------------- */
typedef struct kz_id_source {
    kz_str idx;
    kz_str source;
} kz_id_source;

/* Ids that "mean the same thing" for one synonym (Kazu EquivalentIdSet). */
typedef struct kz_equiv_id_set {
    const kz_id_source *ids;
    uint32_t n_ids;
} kz_equiv_id_set;

/* Kazu LinkingCandidate: immutable once built. Candidates may live in a
 * knowledge-base pack (mmap'd) or in a document arena. */
typedef struct kz_candidate {
    const kz_str *raw_synonyms;
    uint32_t n_raw_synonyms;
    kz_str synonym_norm;
    kz_str parser_name;
    bool is_symbolic;
    const kz_equiv_id_set *id_sets; /* associated_id_sets */
    uint32_t n_id_sets;
    int aggregated_by; /* kz_aggregation */
    const kz_str *mapping_types;
    uint32_t n_mapping_types;
} kz_candidate;

/* Kazu LinkingMetrics: every field optional (flag bit set = present). */
enum {
    KZ_METRIC_SEARCH = 1u << 0,
    KZ_METRIC_EMBED = 1u << 1,
    KZ_METRIC_BOOL = 1u << 2,
    KZ_METRIC_EXACT = 1u << 3,
    KZ_METRIC_BOOL_IS_BOOL = 1u << 4 /* bool_score was a JSON true/false */
};
typedef struct kz_metrics {
    uint32_t present; /* KZ_METRIC_* bits */
    double search_score;
    double embed_score;
    double bool_score; /* 1.0/0.0 when KZ_METRIC_BOOL_IS_BOOL */
    bool exact_match;
} kz_metrics;

typedef struct kz_candidate_metrics {
    const kz_candidate *candidate; /* borrowed: must outlive the document */
    kz_metrics metrics;
} kz_candidate_metrics;

/* Kazu Mapping. String fields with ptr == NULL are Kazu's None (omitted). */
typedef struct kz_mapping {
    kz_str default_label;
    kz_str source;
    kz_str parser_name;
    kz_str idx;
    kz_str string_match_strategy;
    int string_match_confidence;   /* kz_string_match_confidence */
    int disambiguation_confidence; /* kz_disambiguation_confidence, NONE = omitted */
    kz_str disambiguation_strategy;
    kz_str xref_source_parser_name;
    kz_meta metadata;
} kz_mapping;

/* ---- entities, sections, documents --------------------------------------- */
typedef struct kz_entity {
    kz_str match; /* surface text (pieces joined for non-contiguous) */
    kz_str entity_class;
    kz_span *spans; /* sorted by (start,end), unique, >= 1 */
    uint32_t n_spans;
    kz_str namespace_;      /* the step that produced it */
    int mention_confidence; /* kz_mention_confidence */
    kz_mapping *mappings;
    uint32_t n_mappings, cap_mappings;
    kz_meta metadata;
    int64_t start, end; /* min span start, max span end (bytes) */
    kz_str match_norm;  /* normalised match; NULL ptr = not computed yet */
    kz_candidate_metrics *candidates;
    uint32_t n_candidates, cap_candidates;
} kz_entity;

typedef struct kz_section {
    kz_str text; /* valid UTF-8 (checked on insertion), NUL-terminated */
    kz_str name;
    kz_meta metadata;
    kz_entity **entities; /* stable pointers, arena-owned */
    uint32_t n_entities, cap_entities;
    kz_span *sentence_spans; /* NULL = not set (Kazu None) */
    uint32_t n_sentence_spans;
} kz_section;

typedef struct kz_doc {
    kz_arena *arena; /* owns every string and struct reachable from the doc */
    kz_str idx;
    kz_section **sections;
    uint32_t n_sections, cap_sections;
    kz_meta metadata;
} kz_doc;

/* New empty document. id NULL generates a random 32-hex-digit id (Kazu's
 * uuid4().hex). Returns NULL on OOM. Free with kz_doc_free. */
KZ_API kz_doc *kz_doc_new(const char *id, size_t id_len);
/* Free the document and its arena. NULL is a no-op. */
KZ_API void kz_doc_free(kz_doc *doc);
/* Total characters (code points) over all sections, as Kazu's len(doc). */
KZ_API int64_t kz_doc_char_len(const kz_doc *doc);
/* Total entities over all sections. */
KZ_API size_t kz_doc_n_entities(const kz_doc *doc);

/* Append a section; text and name are copied into the doc arena. The text
 * must be valid UTF-8 (KZ_EUTF8 otherwise, with the byte offset in err).
 * *out (may be NULL) receives the new section, valid until kz_doc_free. */
KZ_API int kz_doc_add_section(kz_doc *doc, const char *name, size_t name_len, const char *text,
                              size_t text_len, kz_section **out, kz_error *err);

/* Set sentence spans once (Kazu's set-once property): KZ_ESTATE if already
 * set, KZ_ERANGE if a span is out of the text or not on a char boundary. */
KZ_API int kz_section_set_sentence_spans(kz_doc *doc, kz_section *sec, const kz_span *spans, size_t n,
                                         kz_error *err);

/* Parameters to create an entity. */
typedef struct kz_entity_init {
    const kz_span *spans; /* >= 1 byte spans into sec->text */
    size_t n_spans;
    kz_str match;         /* NULL ptr: pieces of the text joined by join_str */
    const char *join_str; /* NULL = "" (Kazu's from_spans default) */
    kz_str entity_class;
    kz_str namespace_;
    int mention_confidence; /* 0 is IGNORE; use KZ_MENTION_HIGHLY_LIKELY for Kazu's default */
    kz_str match_norm;      /* optional */
} kz_entity_init;

/* Add an entity to a section. Spans are validated (0 <= start < end <=
 * text.len, on UTF-8 boundaries; else KZ_ERANGE), sorted and deduplicated;
 * strings are copied. *out (may be NULL) valid until kz_doc_free. */
KZ_API int kz_section_add_entity(kz_doc *doc, kz_section *sec, const kz_entity_init *init, kz_entity **out,
                                 kz_error *err);
/* Remove entities for which keep() returns false, preserving order. */
KZ_API void kz_section_filter_entities(kz_section *sec, bool (*keep)(const kz_entity *e, void *user),
                                       void *user);

/* Copy a mapping (all strings and metadata) into the doc arena and append it. */
KZ_API int kz_entity_add_mapping(kz_doc *doc, kz_entity *ent, const kz_mapping *m);
/* Attach a linking candidate (borrowed pointer: must outlive doc; use
 * kz_doc_copy_candidate for an arena copy). If the same candidate (pointer or
 * equal content) is already attached, metrics are merged field-wise as Kazu's
 * add_or_update_linking_candidate does. Content equality is Kazu's: every
 * field but aggregated_by, with sets compared in their stored (sorted) order. */
KZ_API int kz_entity_add_candidate(kz_doc *doc, kz_entity *ent, const kz_candidate *c,
                                   const kz_metrics *metrics);
/* Deep copy of a candidate into the doc arena; NULL on OOM. */
KZ_API const kz_candidate *kz_doc_copy_candidate(kz_doc *doc, const kz_candidate *c);
/* Set the normalised match (copied). */
KZ_API int kz_entity_set_match_norm(kz_doc *doc, kz_entity *ent, kz_str norm);

/* Kazu's CharSpan/Entity overlap predicates (Kazu's inclusive-bound quirk kept
 * in kz_span_partially_overlaps). */
KZ_API bool kz_span_completely_overlapped(kz_span a, kz_span by);
KZ_API bool kz_span_partially_overlaps(kz_span a, kz_span other);
KZ_API bool kz_entity_completely_overlapped(const kz_entity *a, const kz_entity *by);
KZ_API bool kz_entity_partially_overlapped(const kz_entity *a, const kz_entity *other);

/* ---- metadata helpers (all copy into the doc arena) ------------------------ */
/* Set key to a raw JSON value (validated; KZ_EPARSE if not exactly one JSON
 * value). Replaces an existing key in place (order kept). */
KZ_API int kz_meta_set_json(kz_doc *doc, kz_meta *m, kz_str key, kz_str json_value);
/* Set key to a JSON string holding the given UTF-8 text (escaped for you). */
KZ_API int kz_meta_set_string(kz_doc *doc, kz_meta *m, kz_str key, kz_str value);
KZ_API int kz_meta_set_int(kz_doc *doc, kz_meta *m, kz_str key, int64_t value);
/* Raw JSON text of the value for key, or KZ_STR_NULL. */
KZ_API kz_str kz_meta_get(const kz_meta *m, const char *key);
/* Remove key if present; returns true if removed. */
KZ_API bool kz_meta_remove(kz_meta *m, const char *key);

/* Record a processing failure on the document as Kazu does:
 * metadata["PROCESSING_EXCEPTION"] = "<step>: <message>". If a failure is
 * already recorded, the new one is appended on a new line. */
KZ_API int kz_doc_set_failure(kz_doc *doc, const char *step, const char *message);
/* True if the document carries PROCESSING_EXCEPTION. */
KZ_API bool kz_doc_failed(const kz_doc *doc);

#ifdef __cplusplus
}
#endif
#endif
