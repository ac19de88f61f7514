/* kazu-c NER training: token-classification examples built from annotated
 * corpora (src/train/data*.c) and the BERT trainer (src/train/trainer*.c).
 * CONTRACT between the two halves; see docs/train.md.
 *
 * Label scheme of the models we train (multi-label, Kazu's use_multilabel):
 * one sigmoid output per (class, B|I) pair plus nothing for O: labels are
 * "B-gene", "I-gene", "B-disease", ... in the order of kz_train_data.labels.
 * A token's target row holds 1 for the labels it carries (a token may carry
 * several classes: nested/multi-corpus entities), 0 otherwise; soft labels in
 * (0,1) are allowed (weak supervision). Only the first sub-token of a word
 * is trained (token_mask), as the span finder reads words. */
#ifndef KAZU_TRAIN_H
#define KAZU_TRAIN_H

#include "core.h"
#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One training window: [CLS] tokens [SEP], at most max_len ids. Arrays are
 * owned by the kz_train_data arena. */
typedef struct kz_train_example {
    uint32_t n_tokens;         /* including [CLS] and [SEP] */
    const int32_t *input_ids;  /* n_tokens */
    const float *targets;      /* n_tokens * n_labels row-major, values in [0,1] */
    const uint8_t *token_mask; /* n_tokens: 1 = the token's row enters the loss */
    const uint8_t *label_mask; /* n_labels: 1 = this example's corpus supervises the label (else masked) */
    uint32_t corpus;           /* index into kz_train_data.corpora */
} kz_train_example;

typedef struct kz_train_data {
    kz_train_example *ex;
    size_t n;
    char **labels; /* n_labels label names ("B-gene", ...) */
    uint32_t n_labels;
    char **corpora; /* corpus names, e.g. "BC2GM" */
    uint32_t n_corpora;
    kz_arena *arena; /* owns everything above */
} kz_train_data;

/* Build examples from a corpus list file (YAML, docs/train.md: each entry a
 * path, a format conll|pubtator|brat|brat-tar, a name and a label map from
 * the corpus's types to the default classes) tokenised with tok into windows
 * of at most max_len tokens (stride as the NER step). split selects "train"
 * or "devel" entries. Malformed records are skipped with a warning (kz_log)
 * naming file:line. */
KZ_API int kz_train_data_load(const char *corpora_yaml, const char *split, const kz_wordpiece *tok,
                              uint32_t max_len, kz_train_data *out, kz_error *err);
KZ_API void kz_train_data_free(kz_train_data *d);

/* Train a WordPiece vocabulary (BERT uncased normalisation) from text files. */
KZ_API int kz_wordpiece_train(const char *const *text_paths, size_t n_paths, uint32_t vocab_size,
                              const char *out_vocab_path, kz_error *err);

/* ---- the trainer ---------------------------------------------------------- */
typedef struct kz_train_opts {
    uint32_t epochs, batch_size, grad_accum;
    double lr, warmup_frac, weight_decay, dropout, clip_norm;
    uint64_t seed;
    uint32_t threads;
    const char *checkpoint_path; /* NULL = no checkpoints */
    uint32_t checkpoint_every;   /* optimizer steps between checkpoints */
    bool resume;                 /* continue from checkpoint_path if present */
    int verbose;                 /* progress lines via kz_log: loss, tokens/s, ETA */
    uint32_t stop_after;         /* stop after this many optimizer steps in this call (0 = run to the end);
                                    a checkpoint is written there: the kill-and-resume test uses it */
    /* added for masked-LM pre-training (zero-initialised fields keep the old behaviour) */
    uint64_t max_steps;  /* cap on the optimiser steps of the whole run (0 = epochs decide); the
                            schedule (warm-up, decay) spans the capped run */
    double mlm_prob;     /* kz_train_mlm: fraction of maskable tokens predicted (default 0.15) */
    bool mlm_whole_word; /* kz_train_mlm: select whole words (all their sub-tokens) */
} kz_train_opts;
KZ_API kz_train_opts kz_train_default_opts(void);

/* Create a randomly initialised model (BERT init, seeded) with cfg's shape,
 * tokenizer tok (copied) and label names. */
KZ_API int kz_bert_new_random(const kz_bert_config *cfg, const kz_wordpiece *tok, uint64_t seed,
                              kz_bert **out, kz_error *err);

/* Fine-tune model in place on train (multi-label BCE with soft labels and
 * label masks). Deterministic for a given seed and thread count. */
KZ_API int kz_train_ner(kz_bert *model, const kz_train_data *train, const kz_train_opts *opts, kz_error *err);

/* ---- masked-LM pre-training (docs/train.md) -------------------------------- */

/* One pre-training window: [CLS] tokens [SEP]. Owned by the kz_mlm_data. */
typedef struct kz_mlm_window {
    uint32_t n_tokens;        /* including [CLS] and [SEP] */
    const int32_t *input_ids; /* n_tokens */
    const uint8_t *word;      /* n_tokens: 0 never masked ([CLS], [SEP], [PAD], [UNK], [MASK]),
                                 1 first sub-token of a word, 2 continuation sub-token */
} kz_mlm_window;

typedef struct kz_mlm_data {
    kz_mlm_window *w;
    size_t n;
    uint64_t n_tokens;            /* over all windows, [CLS]/[SEP] included */
    uint64_t n_docs, n_sentences; /* read statistics */
    uint64_t n_skipped;           /* lines skipped (invalid UTF-8, over 1 MiB) */
    bool truncated;               /* max_tokens was reached: the rest of the input was not read */
    kz_wordpiece_special special; /* the tokenizer's special ids ([MASK] is what masking writes) */
    uint32_t vocab_size;          /* the tokenizer's */
    int32_t *ids_store;           /* owned storage behind the windows */
    uint8_t *word_store;
} kz_mlm_data;

/* Raw text for masked-LM pre-training, tokenised with tok into windows of at
 * most max_len tokens (even, >= 8; [CLS]/[SEP] included). Inputs, in this order:
 *  - text_paths (n_paths, may be 0): UTF-8 text files, gzip decoded
 *    transparently; each line is text (split into sentences with
 *    kz_sentences_split), a blank line ends a document; a line over 1 MiB or
 *    with invalid UTF-8 is skipped with a warning;
 *  - corpora_yaml (NULL = none): the section texts of the enabled entries of
 *    `split` ("train" or "devel") of a corpus list (docs/train-data.md);
 *    annotations are not used.
 * Whole sentences are packed greedily into windows in reading order; a window
 * never crosses a document (text block, PubTator/brat document; the CoNLL
 * sentences of one file count as one document) or a file; a sentence longer
 * than a window is cut at word boundaries where possible. Everything is held
 * in memory (5 bytes per token); reading stops with a warning (truncated)
 * once max_tokens (0 = 2^26) window tokens are stored. KZ_EINVAL when the
 * tokenizer lacks [CLS], [SEP] or [MASK]. On error *out is empty. */
KZ_API int kz_mlm_data_load(const char *const *text_paths, size_t n_paths, const char *corpora_yaml,
                            const char *split, const kz_wordpiece *tok, uint32_t max_len, uint64_t max_tokens,
                            kz_mlm_data *out, kz_error *err);
KZ_API void kz_mlm_data_free(kz_mlm_data *d); /* NULL or an empty struct: no-op */

/* Masked-LM pre-training of model's encoder in place: BERT's prediction head
 * (dense + activation + LayerNorm, decoder tied to the word embeddings, output
 * bias; created inside the trainer, seeded, and kept in the checkpoint but not
 * in the model), softmax cross-entropy over the vocabulary on the masked
 * positions only (mean over the masked tokens of an optimiser step). Masking
 * as BERT (opts->mlm_prob of the maskable tokens of each window, at least one;
 * 80 % [MASK], 10 % a random non-special token, 10 % unchanged), drawn anew
 * each epoch from (seed, epoch, window index): deterministic and resumable.
 * Everything else (dropout, AdamW, schedule, accumulation, checkpoints,
 * resume, progress) as kz_train_ner. A classifier head of model, if any, is
 * left as it is. */
KZ_API int kz_train_mlm(kz_bert *model, const kz_mlm_data *data, const kz_train_opts *opts, kz_error *err);

/* Give an encoder without a head (KZ_HEAD_NONE, e.g. one saved after
 * kz_train_mlm) a new token-classification head: n_labels labels (names
 * copied), classifier weight ~ N(0, 0.02) drawn as kz_bert_new_random draws
 * it for the same seed, bias 0. KZ_EINVAL if the model already has a head. */
KZ_API int kz_bert_add_token_head(kz_bert *model, const char *const *labels, uint32_t n_labels,
                                  bool multilabel, uint64_t seed, kz_error *err);

#ifdef __cplusplus
}
#endif
#endif
