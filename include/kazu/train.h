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
} kz_train_opts;
KZ_API kz_train_opts kz_train_default_opts(void);

/* Create a randomly initialised model (BERT init, seeded) with cfg's shape,
 * tokenizer tok (copied) and label names. */
KZ_API int kz_bert_new_random(const kz_bert_config *cfg, const kz_wordpiece *tok, uint64_t seed,
                              kz_bert **out, kz_error *err);

/* Fine-tune model in place on train (multi-label BCE with soft labels and
 * label masks). Deterministic for a given seed and thread count. */
KZ_API int kz_train_ner(kz_bert *model, const kz_train_data *train, const kz_train_opts *opts, kz_error *err);

#ifdef __cplusplus
}
#endif
#endif
