/* Internals of the transformer NER step (Kazu's
 * TransformersModelForTokenClassificationNerStep): frame geometry, words,
 * span finders and the numerical-list splitter. Not part of the public API. */
#ifndef KZ_NER_INT_H
#define KZ_NER_INT_H

#include <regex.h>
#include "kazu/doc.h"
#include "kazu/nn.h"
#include "kazu/pipeline.h"

/* ---- windows (windows.c) ------------------------------------------------------
 * A section of n content tokens is cut into frames of at most w = max_len - 2
 * content tokens ([CLS] + tokens + [SEP]), consecutive frames overlapping by
 * `stride` tokens, as the HF fast tokenizer does with
 * return_overflowing_tokens. Each frame keeps the token range Kazu keeps
 * (slices [1:-1], [1:-(h+1)], [h+1:-1], [h+1:-(h+1)] with h = stride/2 of the
 * padded frame), so the kept ranges of a section's frames partition [0, n). */
typedef struct kz_ner_frame {
    uint32_t start;      /* first content token of the frame (section token index) */
    uint32_t len;        /* content tokens in the frame, <= max_len - 2 */
    uint32_t keep_start; /* kept section token range [keep_start, keep_end) */
    uint32_t keep_end;
} kz_ner_frame;

/* Check max_len/stride: both even, max_len >= 4, stride <= max_len - 4 (so
 * frames advance). 0 or KZ_EINVAL with err set. */
int kz__ner_check_geometry(uint32_t max_len, uint32_t stride, kz_error *err);
/* Number of frames for n tokens (1 for n <= max_len - 2, including n = 0). */
size_t kz__ner_n_frames(size_t n_tokens, uint32_t max_len, uint32_t stride);
/* Geometry of frame i (< kz__ner_n_frames). */
kz_ner_frame kz__ner_frame_at(size_t n_tokens, uint32_t max_len, uint32_t stride, size_t i);

/* A word (HF word_ids group) of a section: consecutive tokens [tok0,
 * tok0+n_tok) with the same word index. Byte offsets into the section text,
 * end exclusive (Kazu's word_char_end + 1, made consistent). A word cut by a
 * frame boundary stays one word. */
typedef struct kz_ner_word {
    int64_t start, end;
    uint32_t tok0, n_tok;
} kz_ner_word;

/* Group tokens into words (tokens of one word are consecutive). *words is
 * malloc'd (free()); *n_words receives the count. KZ_ENOMEM. */
int kz__ner_words(const kz_wp_token *toks, size_t n, kz_ner_word **words, size_t *n_words);

/* ---- labels and span finders (span_finder.c) ------------------------------------ */
enum { KZ_NER_BIO_O = 0, KZ_NER_BIO_B = 1, KZ_NER_BIO_OTHER = 2 };

typedef struct kz_ner_labels {
    uint32_t n_labels;
    uint8_t *bio;   /* per label: KZ_NER_BIO_* (multilabel: O or OTHER) */
    int32_t *cls;   /* per label: class index, -1 for "O" */
    char **classes; /* distinct classes in order of first appearance */
    uint32_t n_classes;
    bool multilabel;
    float logit_threshold; /* multilabel: a label is on when its logit > this (0 = sigmoid > 0.5);
                            * kz__ner_labels_init sets 0, the step's `threshold` param changes it */
} kz_ner_labels;

/* Parse label strings. BIO mode: "O", or "<prefix>-<class>" split at the
 * first '-' (prefix "B" starts spans). Multilabel: "O" is ignored, every other
 * label is a class. KZ_EINVAL (with err) for an empty label or a BIO label
 * without '-' (Kazu fails on such a label when it is predicted). */
int kz__ner_labels_init(kz_ner_labels *l, const char *const *labels, size_t n, bool multilabel,
                        kz_error *err);
void kz__ner_labels_free(kz_ner_labels *l);

/* A found span: class index and byte range (min word start, max word end). */
typedef struct kz_ner_span {
    uint32_t cls;
    int64_t start, end;
} kz_ner_span;

/* Run SimpleSpanFinder (BIO: argmax label of each sub-token) or
 * MultilabelSpanFinder (labels with activation > l->logit_threshold, by default 0, i.e. sigmoid > 0.5;
 * pass logits) over words. act holds one row of l->n_labels floats per token
 * (row = token index used by the words). Spans are appended to the caller's
 * growable array (*spans, *n, *cap; realloc'd, free()). Returns 0 or KZ_ENOMEM. */
int kz__ner_find_spans(const kz_ner_labels *l, const char *text, size_t text_len, const kz_ner_word *words,
                       size_t n_words, const float *act, kz_ner_span **spans, size_t *n, size_t *cap);

/* Kazu's spans_to_entities offset clean-up: drop one trailing space when the
 * match has more than one character and any alphabetic one. Returns the new end. */
int64_t kz__ner_trim_end(const char *text, int64_t start, int64_t end);

/* ---- numerical list splitter (noncontig.c) ---------------------------------------
 * SplitOnNumericalListPatternWithPrefix(pattern) inside
 * NonContiguousEntitySplitter: for entity e of the section, append the split
 * entities ("BRCA1/2/3" -> "BRCA1", "BRCA"+"2", "BRCA"+"3") to the section,
 * each a copy of e (class, namespace, confidence, metadata) with
 * metadata.split_rule = "SplitOnNumericalListPatternWithPrefix", skipping
 * those whose spans are all already among the spans seen. *n_added (may be
 * NULL) receives the count. 0, or the kz_section_add_entity error. */
int kz__ner_split_numerical_list(kz_doc *doc, kz_section *sec, const kz_entity *e, const char *pattern,
                                 size_t *n_added, kz_error *err);
/* SplitOnConjunctionPattern without a parser: for a single-span entity whose
 * match holds " and ", " or " or " nor ", append one entity per conjunct
 * ("skin, lung and breast cancer" -> skin+cancer, lung+cancer, breast cancer;
 * "BRCA1 and BRCA2"; "type 1 and 2 diabetes" -> type 1+diabetes, type+2
 * diabetes), copies of e with metadata.split_rule =
 * "SplitOnConjunctionPattern" (rules in noncontig.c, docs/postprocessing.md).
 * *n_added (may be NULL) receives the count. 0, or the kz_section_add_entity error. */
int kz__ner_split_conjunction(kz_doc *doc, kz_section *sec, const kz_entity *e, size_t *n_added,
                              kz_error *err);
/* Python str.isdigit() for one code point. */
bool kz__ner_cp_isdigit(int32_t cp);

/* Python re.sub(pattern, "", s) with a POSIX extended regex (Kazu's strip_re).
 * Returns a malloc'd NUL-terminated string (length in *out_len) or NULL on OOM. */
char *kz__ner_regex_strip(const regex_t *r, const char *s, size_t len, size_t *out_len);

/* The step type (ner_step.c). */
extern const kz_step_type kz__step_transformers_ner;

#endif
