/* Char-bigram TF-IDF candidate index (Kazu's DictionaryIndex without the brute
 * force): one index per parser over its candidates' synonym_norms, stored as
 * the flat relocatable pack section KZTF (docs/linking-search.md). */
#ifndef KZ_TFIDF_INT_H
#define KZ_TFIDF_INT_H

#include "kazu/core.h"
#include "kazu/kb.h"

#define KZ_TFIDF_MAGIC   "KZTFIDF\x1a"
#define KZ_TFIDF_VERSION 2u
/* Packed forward entries: term id in the low 22 bits, tf in the high 10 (a
 * larger tf is split over consecutive entries with the same term). */
#define KZ_TFIDF_MAX_TERMS  (1u << 22)
#define KZ_TFIDF_FWD_TF_MAX 1023u
/* Packed postings: document in the low 27 bits, tf in the high 5. */
#define KZ_TFIDF_MAX_DOCS    (1u << 27)
#define KZ_TFIDF_POST_TF_MAX 31u
/* A term's documents with tf >= j are a bitmap when they are at least
 * n_docs / KZ_TFIDF_DENSE_DIV (j <= KZ_TFIDF_MAX_LEVELS); the tf beyond the
 * bitmaps is in postings. */
#define KZ_TFIDF_DENSE_DIV  64u
#define KZ_TFIDF_MAX_LEVELS 8u
/* Largest top-k a search accepts. */
#define KZ_TFIDF_MAX_K 4096u

/* One parser's documents: n strings, document i is candidate first + i. */
typedef struct kz_tfidf_input {
    const kz_str *docs;
    uint32_t n_docs;
    uint64_t first_candidate;
    uint32_t parser; /* pack parser index */
} kz_tfidf_input;

/* Build a blob over n parsers' documents (malloc'd; *len bytes). Documents are
 * UTF-8 normalised strings (invalid bytes count as U+FFFD). Deterministic.
 * Errors: KZ_ENOMEM, KZ_ELIMIT (too many documents or distinct bigrams). */
int kz__tfidf_blob_build(const kz_tfidf_input *in, uint32_t n, void **blob, size_t *len, kz_error *err);

/* An opened blob (borrowed: the blob must outlive it). Validation is
 * O(parsers + terms); postings, bitmaps and forward entries are bounds-checked
 * as they are read, so a corrupt blob gives wrong results, never a crash.
 * Errors: KZ_EFORMAT (not KZTF, or another version: callers rebuild),
 * KZ_EPARSE (corrupt), KZ_EINVAL, KZ_ENOMEM. */
typedef struct kz_tfidf kz_tfidf;
int kz__tfidf_open(const void *blob, size_t len, kz_tfidf **out, kz_error *err);
void kz__tfidf_close(kz_tfidf *ix); /* NULL ok */

uint32_t kz__tfidf_n_indexes(const kz_tfidf *ix);
/* Slot of pack parser p, or -1. */
int32_t kz__tfidf_find_parser(const kz_tfidf *ix, uint32_t parser);
typedef struct kz_tfidf_index_info {
    uint32_t parser, n_docs, n_terms, n_dense; /* n_dense: bitmaps (one per term and tf level) */
    uint64_t first_candidate, n_postings, n_forward;
} kz_tfidf_index_info;
int kz__tfidf_index_info(const kz_tfidf *ix, uint32_t slot, kz_tfidf_index_info *out);

typedef struct kz_tfidf_hit {
    uint32_t doc; /* within the index: candidate = first_candidate + doc */
    double score; /* cosine in (0, 1] */
} kz_tfidf_hit;

/* Per-thread search buffers (about 12 KiB, plus query-sized arrays and at
 * most 1 MiB of pending candidates; independent of the index size). */
typedef struct kz_tfidf_scratch kz_tfidf_scratch;
kz_tfidf_scratch *kz__tfidf_scratch_new(void);
void kz__tfidf_scratch_free(kz_tfidf_scratch *s); /* NULL ok */
/* Use the portable bound pass even where AVX2 is available (tests, benchmarks):
 * results are identical either way. */
void kz__tfidf_scratch_set_portable(kz_tfidf_scratch *s, bool portable);

/* The k best documents of index slot for the normalised query q (by score
 * descending, then doc ascending), keeping only scores > 0. Exactly the
 * brute-force top-k under kz__tfidf_score (same score bits). *n_out <= k.
 * Errors: KZ_EINVAL (bad slot, k > KZ_TFIDF_MAX_K), KZ_ENOMEM. */
int kz__tfidf_search(const kz_tfidf *ix, uint32_t slot, const char *q, size_t qlen, uint32_t k,
                     kz_tfidf_scratch *s, kz_tfidf_hit *out, uint32_t *n_out, kz_error *err);
/* Brute force over every document (reference for tests and benchmarks). */
int kz__tfidf_search_brute(const kz_tfidf *ix, uint32_t slot, const char *q, size_t qlen, uint32_t k,
                           kz_tfidf_scratch *s, kz_tfidf_hit *out, uint32_t *n_out, kz_error *err);

/* Search statistics of the scratch's last kz__tfidf_search (for benchmarks). */
typedef struct kz_tfidf_stats {
    uint64_t postings_read;  /* rare-term postings and tf excess entries added */
    uint64_t docs_flagged;   /* documents whose quantised bound reached their threshold */
    uint64_t docs_seeded;    /* exact scores of the prefix seeds and of groups seeded before k were known */
    uint64_t docs_rescored;  /* exact scores computed from the forward index (all) */
    uint64_t terms_dense;    /* bitmaps read (per query term and tf level) */
    uint64_t terms_total;    /* distinct query terms known to the index */
    uint64_t groups_scanned; /* 256-document groups given the bound pass */
    uint64_t groups_total;   /* groups of the index */
    uint64_t groups_cut;     /* groups left early: no document could reach the bound */
} kz_tfidf_stats;
void kz__tfidf_last_stats(const kz_tfidf_scratch *s, kz_tfidf_stats *out);

/* ---- boolean scorers (src/link/scorers.c): Kazu's string_similarity_scorers,
 * reference = the query's norm, query = the candidate's synonym_norm. */
bool kz__scorer_number_match(kz_str reference, kz_str query);
bool kz__scorer_entity_subtype(kz_str reference, kz_str query);
/* EntityNounModifier with Kazu's gene phrases LIKE, SUBUNIT, PSEUDOGENE, RECEPTOR. */
bool kz__scorer_noun_modifier(kz_str reference, kz_str query);
/* Every boolean scorer Kazu configures for entity_class (NumberMatch for all;
 * gene adds EntityNounModifier and EntitySubtype; disease adds EntitySubtype). */
bool kz__scorers_pass(kz_str entity_class, kz_str reference, kz_str query);

#endif
