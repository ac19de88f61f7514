/* Knowledge-base internals shared by the ontology parsers (src/kb/onto_*.c),
 * the model builder (src/kb/build_*.c) and the pack writer/reader
 * (src/kb/pack_*.c). Not public API.
 *
 * Flow: recipe YAML -> kz_onto_spec per source -> kz__onto_parse streams
 * kz_onto_term records to the builder -> the builder normalises, groups ids,
 * generates synonyms, auto-curates, applies curations and global actions ->
 * kz_kb_model (in memory) -> kz__kb_pack_write -> pack file -> kz_kb_open. */
#ifndef KZ_KB_INT_H
#define KZ_KB_INT_H

#include "kazu/kb.h"
#include "kazu/config.h"

/* ---- parser output ---------------------------------------------------------
 * One ontology term. Everything is borrowed and valid only during the emit
 * callback (the parser reuses its buffers). Strings are UTF-8 (parsers validate
 * or repair: invalid UTF-8 in a record is a warning and the record is skipped). */
typedef struct kz_onto_syn {
    kz_str text;
    /* OBO/OWL/JSON scope ("EXACT", "RELATED", "NARROW", "BROAD") or the
     * source column / mapping type ("alias", "prev_symbol", ...); may be NULL ptr. */
    kz_str scope;
} kz_onto_syn;

typedef struct kz_onto_kv {
    kz_str key, value; /* value is plain text (not JSON) */
} kz_onto_kv;

typedef struct kz_onto_term {
    kz_str id;               /* after the spec's id_prefix: "MONDO:0000001", "GO:0008150", "NCBITaxon:9606" */
    kz_str label;            /* default label; NULL ptr if the record has none */
    const kz_onto_syn *syns; /* NOT including the label */
    uint32_t n_syns;
    const kz_str *xrefs; /* "MESH:D003920", "OMIM:222100", "ENSEMBL:ENSG..." */
    uint32_t n_xrefs;
    const kz_str *alt_ids;
    uint32_t n_alt_ids;
    const kz_str *parents; /* is_a / subClassOf ids */
    uint32_t n_parents;
    kz_str ns; /* OBO namespace, GO aspect, ...; may be NULL ptr */
    bool obsolete;
    const kz_onto_kv *meta; /* extra columns/fields the spec asked to keep */
    uint32_t n_meta;
    int64_t line; /* 1-based line where the record starts (0 if unknown) */
} kz_onto_term;

/* Return 0 to continue; a negative KZ_E* aborts the parse with that code. */
typedef int (*kz_onto_emit_fn)(void *user, const kz_onto_term *t);
/* A malformed record that was skipped (or repaired): err has path, line and
 * reason. Parsers also count them. May be NULL (warnings are then only counted). */
typedef void (*kz_onto_warn_fn)(void *user, const kz_error *warning);

typedef enum kz_onto_format {
    KZ_ONTO_UNKNOWN = 0,
    KZ_ONTO_OBO,           /* OBO 1.2/1.4 flat file */
    KZ_ONTO_OBOGRAPH_JSON, /* OBO Graphs JSON (mondo.json shape) */
    KZ_ONTO_OWL,           /* OWL RDF/XML (go.owl, cl.owl, uberon.owl, hp.owl) */
    KZ_ONTO_TABULAR,       /* generic TSV/CSV, columns configured */
    KZ_ONTO_SQLITE,        /* SQLite database + configured query */
    KZ_ONTO_CELLOSAURUS,   /* cellosaurus.txt (ID/AC/SY/DR lines) */
    KZ_ONTO_HGNC_TSV,      /* HGNC custom download / complete set TSV */
    KZ_ONTO_HGNC_JSON,     /* hgnc_complete_set.json */
    KZ_ONTO_MESH_XML,      /* MeSH descriptor XML (desc20xx.xml) */
    KZ_ONTO_DRUGBANK_CSV,  /* DrugBank open vocabulary CSV (',' or ';') */
    KZ_ONTO_CTD_TSV,       /* CTD_diseases.tsv(.gz) / CTD_chemicals */
    KZ_ONTO_NCBI_TAXONOMY, /* names.dmp ("\t|\t" separated) or the binomial TSV */
    KZ_ONTO_RDA_TABLE      /* a data.frame inside an R .rda/.rds (XDR; gzip/bzip2/xz) */
} kz_onto_format;

/* Name <-> enum ("obo", "obograph-json", "owl", "tabular", "sqlite",
 * "cellosaurus", "hgnc-tsv", "hgnc-json", "mesh-xml", "drugbank-csv", "ctd-tsv",
 * "ncbi-taxonomy", "rda-table"). */
const char *kz__onto_format_name(kz_onto_format f);
kz_onto_format kz__onto_format_parse(const char *name);

/* Options of one source. Unused fields stay zero/NULL. String arrays are
 * borrowed for the duration of kz__onto_parse. */
typedef struct kz_onto_spec {
    kz_onto_format format;
    const char *path; /* input file; gzip detected from the bytes */
    const char *name; /* parser name, for messages */

    /* common filters */
    const char *id_regex;          /* POSIX ERE the id must match (after id_prefix); NULL = all */
    const char *const *namespaces; /* keep only terms in these namespaces; n = 0: all */
    size_t n_namespaces;
    const char *const *syn_scopes; /* keep only synonyms with these scopes; n = 0: all */
    size_t n_syn_scopes;
    bool include_obsolete; /* default false: obsolete terms are skipped */
    const char *id_prefix; /* prepended to raw ids (e.g. "NCBITaxon:"); NULL = none */

    /* tabular (TABULAR; also refines HGNC_TSV / CTD_TSV / DRUGBANK_CSV when set) */
    char delimiter; /* '\t' default for TSV, ',' for CSV */
    char quote;     /* '"' for CSV quoting; 0 = no quoting */
    bool no_header; /* columns are then named by 0-based index: "0", "1", ... */
    int skip_lines; /* lines to skip before the header */
    char comment;   /* lines starting with this are skipped; 0 = none */
    const char *id_col;
    const char *label_col;
    const char *const *syn_cols; /* each column may hold a list split by list_sep */
    size_t n_syn_cols;
    const char *const *xref_cols;
    size_t n_xref_cols;
    const char *const *meta_cols;
    size_t n_meta_cols;
    const char *list_sep; /* e.g. "|"; NULL = no splitting */

    /* SQLITE: the query returns rows (id, label, synonym[, scope]); rows of one
     * id may be spread out (the parser groups them). NULL values are skipped. */
    const char *query;

    /* OWL: synonym predicates as full IRIs or CURIEs ("oboInOwl:hasExactSynonym");
     * n = 0: hasExactSynonym, hasRelatedSynonym, hasNarrowSynonym, hasBroadSynonym */
    const char *const *syn_predicates;
    size_t n_syn_predicates;

    /* RDA_TABLE: object name of the data.frame in the .rda ("specData"). */
    const char *rda_object;

    /* Tabular family (tabular, sqlite, rda-table, ctd-tsv, hgnc-tsv, drugbank-csv, ncbi-taxonomy):
     * "COLREF =~ ERE" keeps a row whose column value matches the POSIX ERE, "COLREF !~ ERE" one
     * whose value does not; every filter must hold. Applied to each row before rows of one id are
     * merged. COLREF as in the column map ("genus+species"); for sqlite a result column name. */
    const char *const *row_filters;
    size_t n_row_filters;
} kz_onto_spec;

/* Parse spec->path and emit every kept term. Per-record problems are
 * warnings (record skipped, parse goes on); whole-file problems (cannot open,
 * not this format, truncated gzip, SQL error) are errors with path and line.
 * *n_warnings (may be NULL) gets the warning count. Dispatches on format to the
 * per-format functions below (src/kb/onto.c). */
int kz__onto_parse(const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                   uint64_t *n_warnings, kz_error *err);

/* Per-format entry points (same contract as kz__onto_parse). */
typedef int (*kz_onto_parse_fn)(const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn,
                                void *user, uint64_t *n_warnings, kz_error *err);
int kz__onto_parse_obo(const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *, uint64_t *,
                       kz_error *);
int kz__onto_parse_obograph(const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *, uint64_t *,
                            kz_error *);
int kz__onto_parse_owl(const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *, uint64_t *,
                       kz_error *);
int kz__onto_parse_tabular(const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *, uint64_t *,
                           kz_error *);
int kz__onto_parse_sqlite(const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *, uint64_t *,
                          kz_error *);
int kz__onto_parse_cellosaurus(const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *, uint64_t *,
                               kz_error *);
int kz__onto_parse_hgnc_tsv(const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *, uint64_t *,
                            kz_error *);
int kz__onto_parse_hgnc_json(const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *, uint64_t *,
                             kz_error *);
int kz__onto_parse_mesh_xml(const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *, uint64_t *,
                            kz_error *);
int kz__onto_parse_drugbank(const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *, uint64_t *,
                            kz_error *);
int kz__onto_parse_ctd(const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *, uint64_t *,
                       kz_error *);
int kz__onto_parse_taxonomy(const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *, uint64_t *,
                            kz_error *);
int kz__onto_parse_rda(const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *, uint64_t *,
                       kz_error *);

/* Parse OBO text from memory (fuzz targets and unit tests use these; path is for
 * messages). Same for OBO Graphs JSON. */
int kz__onto_parse_obo_mem(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                           kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err);
int kz__onto_parse_obograph_mem(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                                kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err);

/* ---- the in-memory model the builder produces and the pack writer stores --
 * All strings and arrays live in model->arena. Order does not matter: the pack
 * writer sorts everything (parsers by position in the recipe; ids by (parser,
 * idx); candidates by (parser, synonym_norm); resources by (text, candidate);
 * id sets by content) so the pack is deterministic. */
typedef struct kz_kbm_parser {
    kz_str name, entity_class, source, data_origin;
} kz_kbm_parser;

typedef struct kz_kbm_id {
    uint32_t parser;
    kz_str idx, default_label, source;
    const kz_str *xrefs;
    uint32_t n_xrefs;
    kz_str metadata_json; /* compact JSON object or NULL ptr */
} kz_kbm_id;

typedef struct kz_kbm_id_set { /* Kazu EquivalentIdSet: (idx, source) pairs, sorted */
    const kz_id_source *ids;
    uint32_t n_ids;
} kz_kbm_id_set;

typedef struct kz_kbm_candidate {
    uint32_t parser;
    kz_str synonym_norm;
    const kz_str *raw_synonyms; /* sorted, unique */
    uint32_t n_raw_synonyms;
    const kz_str *mapping_types; /* sorted, unique */
    uint32_t n_mapping_types;
    bool is_symbolic;
    int aggregated_by;       /* kz_aggregation */
    const uint32_t *id_sets; /* indices into model->id_sets */
    uint32_t n_id_sets;
} kz_kbm_candidate;

typedef struct kz_kbm_resource {
    kz_str text;
    uint32_t candidate; /* index into model->candidates */
    bool case_sensitive;
    int mention_confidence;
    int behaviour;
    bool generated;
} kz_kbm_resource;

typedef struct kz_kb_model {
    kz_arena *arena;
    kz_str name;
    kz_kbm_parser *parsers;
    uint32_t n_parsers;
    kz_kbm_id *ids;
    uint64_t n_ids;
    kz_kbm_id_set *id_sets;
    uint64_t n_id_sets;
    kz_kbm_candidate *candidates;
    uint64_t n_candidates;
    kz_kbm_resource *resources;
    uint64_t n_resources;
    /* build statistics for the report */
    uint64_t n_terms_parsed, n_warnings, n_conflicts;
} kz_kb_model;

/* Read the recipe, run every source's parser and the whole Kazu resource
 * pipeline, and fill *out (caller frees with kz__kb_model_free). Input files
 * are hashed as they are listed: *input_hash gets SHA-256 over the recipe bytes,
 * each input's bytes (in recipe order) and KZ_KB_FORMAT_VERSION. When
 * hash_only is true nothing is parsed (used to decide whether the pack is up to
 * date). Unresolved conflicts are written to opts->report_path and counted. */
int kz__kb_model_build(const char *recipe_path, const kz_kb_build_opts *opts, bool hash_only,
                       uint8_t input_hash[32], kz_kb_model *out, kz_error *err);
void kz__kb_model_free(kz_kb_model *m);

/* Serialise a model into a pack at path (written in full, fsync'd, then renamed
 * from a temporary name). Extension sections (tag, bytes) are appended as given. */
typedef struct kz_kb_ext_section {
    uint32_t tag;
    const void *data;
    size_t len;
} kz_kb_ext_section;
int kz__kb_pack_write(const kz_kb_model *m, const uint8_t input_hash[32], const kz_kb_ext_section *ext,
                      size_t n_ext, const char *path, kz_error *err);
/* Extension-section builders (kb_ext.c): run over the finished base pack;
 * out receives up to cap sections with malloc'd data (kz__kb_ext_free). */
#define KZ_KB_MAX_EXT 8
int kz__kb_ext_build_all(const kz_kb *kb, kz_kb_ext_section *out, size_t cap, size_t *n, int verbose,
                         kz_error *err);
void kz__kb_ext_free(kz_kb_ext_section *s, size_t n);
/* Mix the extension sections' format versions into an input hash (kb_ext.c). */
void kz__kb_ext_salt(uint8_t hash[32]);
/* The builders (each owned by its module): the dictionary automaton over the
 * pack's NER resources (src/link/dict_section.c) and the TF-IDF candidate index
 * (src/link/tfidf_section.c). KZ_ENOTFOUND = nothing to store. */
int kz__dict_build_section(const kz_kb *kb, void **blob, size_t *len, kz_error *err);
int kz__tfidf_build_section(const kz_kb *kb, void **blob, size_t *len, kz_error *err);
/* The input hash stored in an existing pack (0), or KZ_ENOTFOUND / KZ_EFORMAT. */
int kz__kb_pack_read_input_hash(const char *path, uint8_t out[32], kz_error *err);

/* SHA-256 helpers (OpenSSL libcrypto EVP). */
typedef struct kz_sha256 kz_sha256;
kz_sha256 *kz__sha256_new(void);
void kz__sha256_update(kz_sha256 *h, const void *data, size_t len);
void kz__sha256_final(kz_sha256 *h, uint8_t out[32]); /* also frees h */
int kz__sha256_file(const char *path, uint8_t out[32], kz_error *err);
void kz__hex(const uint8_t *bytes, size_t n, char *out /* 2n+1 */);

#endif
