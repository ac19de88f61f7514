/* kazu-c dictionary matching automaton (Kazu's MemoryEfficientStringMatchingStep
 * core): every (overlapping, nested) occurrence of a set of strings in text,
 * matched on case-folded UTF-8, with byte offsets into the ORIGINAL text
 * (docs/match.md).
 *
 * Build with kz_match_builder_*, serialise to a flat relocatable blob (a
 * double-array trie with tails; indexes, not pointers; arrays 64-byte aligned)
 * that can live in an mmap'd pack section, open it with kz_matcher_open (O(1)
 * validation) and walk it from chosen starts (kz_matcher_scan_anchored: what
 * dictionary NER needs) or scan all of a text (kz_matcher_scan: an Aho-Corasick
 * automaton built in memory on first use). Every index read from the blob is
 * bounds-checked. */
#ifndef KAZU_MATCH_H
#define KAZU_MATCH_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KZ_MATCH_FORMAT_VERSION 3
/* Longest pattern accepted, in bytes of UTF-8 (after case folding as well). */
#define KZ_MATCH_MAX_PATTERN 1024
/* Blob magic ("KZAC" little-endian); also the suggested kb pack section tag
 * (equal to KZ_KB_TAG('K','Z','A','C')) under which kz_kb_section finds it. */
#define KZ_MATCH_MAGIC          0x43415a4bu
#define KZ_MATCH_KB_SECTION_TAG KZ_MATCH_MAGIC

typedef struct kz_match_builder kz_match_builder;

/* New empty builder; *out owned by the caller (kz_match_builder_free). KZ_ENOMEM. */
KZ_API int kz_match_builder_new(kz_match_builder **out);
KZ_API void kz_match_builder_free(kz_match_builder *b); /* NULL ok */

/* Add one pattern: valid UTF-8 s[0..len), 1 <= len <= KZ_MATCH_MAX_PATTERN.
 * case_sensitive: the hit's original bytes must equal s exactly; otherwise
 * both sides are compared after per-code-point simple case folding. The same
 * string may be added any number of times with different payloads / flags;
 * every (string, payload, case_sensitive) triple is reported once per hit
 * (exact duplicates are merged). Errors: KZ_EINVAL (empty / NULL),
 * KZ_ELIMIT (too long, or more than 2^31 patterns), KZ_EUTF8, KZ_ENOMEM. */
KZ_API int kz_match_builder_add(kz_match_builder *b, const char *s, size_t len, uint32_t payload,
                                bool case_sensitive);
/* Number of patterns added so far. */
KZ_API uint64_t kz_match_builder_count(const kz_match_builder *b);

/* Build the automaton and serialise it. *blob is malloc'd with 64-byte
 * alignment (free with free()), *len its size. Deterministic: the same set of
 * patterns gives byte-identical blobs whatever the insertion order. The builder
 * may be freed afterwards. Errors: KZ_ENOMEM, KZ_ELIMIT (beyond the format's
 * limits: 2^30 double-array units or tail bytes, 2^32-2 byte-trie states). */
KZ_API int kz_match_builder_finish(kz_match_builder *b, void **blob, size_t *len, kz_error *err);

/* A read-only view over a blob (borrowed: the blob must outlive the matcher
 * and stay unchanged). Thread-safe: any number of threads may scan with one
 * matcher at once. */
typedef struct kz_matcher kz_matcher;

/* Validate the header in O(1): magic, version, byte order, counts against caps
 * and every array's offset/size/alignment against len. blob must be 8-byte
 * aligned. Errors: KZ_EINVAL (NULL / misaligned), KZ_EFORMAT (not a matcher blob
 * or unknown version; the message names both versions), KZ_EPARSE (truncated or
 * inconsistent: the message names the field), KZ_ENOMEM. */
KZ_API int kz_matcher_open(const void *blob, size_t len, kz_matcher **out, kz_error *err);
KZ_API void kz_matcher_close(kz_matcher *m); /* NULL ok */

typedef struct kz_matcher_info {
    uint32_t n_states;   /* states of the equivalent byte trie, root included */
    uint32_t n_keys;     /* distinct folded strings */
    uint32_t n_patterns; /* (string, payload, case_sensitive) records */
    uint64_t blob_bytes;
    uint32_t n_units; /* units of the stored double-array trie */
} kz_matcher_info;
KZ_API void kz_matcher_get_info(const kz_matcher *m, kz_matcher_info *out);

typedef struct kz_match_hit {
    size_t start, end; /* byte span [start, end) in the original text */
    uint32_t payload;
    bool case_sensitive;
} kz_match_hit;

/* Called for every hit, in order of end offset (then longest first, then
 * payload order). Return nonzero to stop the scan (kz_matcher_scan then returns
 * that value). */
typedef int (*kz_match_fn)(void *user, const kz_match_hit *hit);

/* Scan flags. */
#define KZ_MATCH_WORD_BOUNDARY 1u /* keep hits whose neighbours are not word chars (see docs/match.md) */

/* Report every hit of the automaton in text[0..len). Invalid UTF-8 bytes never
 * match (each acts as a non-word separator). Needs the failure automaton: the
 * first call builds it in memory (as kz_matcher_prepare_scan). Returns 0, the
 * callback's nonzero value, KZ_EINVAL for NULL arguments, or the error of
 * kz_matcher_prepare_scan. A corrupt blob yields wrong hits, none, or
 * KZ_EPARSE, never a crash or an endless loop. */
KZ_API int kz_matcher_scan(const kz_matcher *m, const char *text, size_t len, unsigned flags, kz_match_fn fn,
                           void *user);

/* Build the Aho-Corasick automaton (failure links over the blob's trie, about
 * 13 bytes per byte-trie state: n_states of kz_matcher_info) that
 * kz_matcher_scan needs, unless it exists; it lives until kz_matcher_close.
 * Thread-safe (one build; other callers wait). Anchored walks never need it.
 * Returns 0, KZ_ENOMEM (may be retried), KZ_EPARSE (inconsistent blob). */
KZ_API int kz_matcher_prepare_scan(const kz_matcher *m, kz_error *err);

/* Report the hits that START at one of the byte offsets starts[0..n_starts)
 * (any order; offsets past len or inside a code point find nothing): a plain
 * trie walk from each start over the stored double array, no failure links.
 * Gives exactly the hits of kz_matcher_scan (flags 0) whose start is listed,
 * in NO particular order (walks advance in batches so their cache misses
 * overlap; sort the hits if order matters). end_ok: NULL, or len + 1 bytes:
 * only hits [start, end) with end_ok[end] != 0 are reported (checked before any
 * key or record is read). This is what dictionary NER needs: a hit must begin
 * at a token start and end at a token end. Texts over 4 KiB get a folded copy
 * on the heap (len + 16 bytes). Returns 0, the callback's nonzero value,
 * KZ_EINVAL for NULL arguments or KZ_ENOMEM. */
KZ_API int kz_matcher_scan_anchored(const kz_matcher *m, const char *text, size_t len, const size_t *starts,
                                    size_t n_starts, const uint8_t *end_ok, kz_match_fn fn, void *user);

/* The per-code-point case folding used by the matcher (exposed for callers that
 * need the same key space): simple lowercase of simple uppercase, so e.g.
 * 'İ'->'i', 'ς'->'σ', 'ſ'->'s', 'K' (Kelvin)->'k'. Never changes the number of
 * code points. */
KZ_API uint32_t kz_match_fold(uint32_t cp);

#ifdef __cplusplus
}
#endif
#endif
