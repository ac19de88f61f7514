/* Entity-level NER evaluation as seqeval computes it (strict span + class
 * match), with the multi-label protocol of the Kazu paper (§4.2.1): every
 * class is scored on its own tag sequence (its B-/I- rows plus O), so
 * entities of different classes never interact. Not part of the public API. */
#ifndef KZ_EVAL_INT_H
#define KZ_EVAL_INT_H

#include "kazu/doc.h"

typedef struct kz__prf_counts {
    uint64_t tp, fp, fn;
} kz__prf_counts;

typedef struct kz__ner_eval {
    char **corpora;
    uint32_t n_corpora, cap_corpora;
    char **classes;
    uint32_t n_classes, cap_classes;
    kz__prf_counts *c; /* [corpus * cap_classes + class] */
    uint8_t *scored;   /* same shape: the pair was evaluated at least once */
} kz__ner_eval;

void kz__ner_eval_init(kz__ner_eval *ev);
void kz__ner_eval_free(kz__ner_eval *ev);
/* Index of a corpus / class name, added if new; -1 on OOM. */
int kz__ner_eval_corpus(kz__ner_eval *ev, const char *name);
int kz__ner_eval_class(kz__ner_eval *ev, const char *name, size_t len);

/* seqeval chunks of ONE class from its spans: the spans are written as that
 * class's IOB2 tags over the text (B where a span starts, I where one covers,
 * O elsewhere) and chunks are read back as seqeval does, so a same-class span
 * starting inside another cuts it (the cut chunk ends before the whitespace
 * preceding the cut, as a token sequence would; text may be NULL), and
 * overlapping/duplicate spans merge. spans is sorted in place; chunks (cap >=
 * n) receive sorted unique chunks. Returns the number of chunks. */
size_t kz__ner_chunks(kz_span *spans, size_t n, kz_span *chunks, const char *text, size_t text_len);

/* Score one class on one text: gold and predicted spans of that class. Adds
 * tp/fp/fn to *out. 0 or KZ_ENOMEM. */
int kz__ner_score_class(const kz_span *gold, size_t n_gold, const kz_span *pred, size_t n_pred,
                        const char *text, size_t text_len, kz__prf_counts *out);

/* Score a gold section against a predicted section over the same text:
 * for every class seen in either (restricted to classes[] when n_classes >
 * 0), entities (start/end covering span) grouped by class are scored with
 * kz__ner_score_class. Classes in classes[] are marked scored even with no
 * entity. 0, KZ_EINVAL (texts differ) or KZ_ENOMEM. */
int kz__ner_eval_section(kz__ner_eval *ev, uint32_t corpus, const kz_section *gold, const kz_section *pred,
                         const char *const *classes, size_t n_classes);
/* All sections, matched by index (both documents must have the same sections). */
int kz__ner_eval_doc(kz__ner_eval *ev, uint32_t corpus, const kz_doc *gold, const kz_doc *pred,
                     const char *const *classes, size_t n_classes, kz_error *err);

typedef struct kz__prf {
    double p, r, f1;
} kz__prf;
/* seqeval's precision/recall/F1 (0 when undefined). */
kz__prf kz__prf_of(kz__prf_counts c);
/* Counts of a corpus (micro over its scored classes; corpus < 0: over all
 * corpora) and the macro mean F1/P/R over its scored classes. */
kz__prf_counts kz__ner_eval_micro(const kz__ner_eval *ev, int corpus);
kz__prf kz__ner_eval_macro(const kz__ner_eval *ev, int corpus);
/* Counts of a class summed over corpora (class < n_classes). */
kz__prf_counts kz__ner_eval_class_total(const kz__ner_eval *ev, uint32_t cls);

#endif
