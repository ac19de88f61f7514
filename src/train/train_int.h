/* Trainer internals (src/train/trainer*.c) shared with the unit tests and the
 * benchmark: the flat parameter layout, one forward + backward over a list of
 * examples, the optimiser step and the checkpoint file (docs/train.md). Not
 * public API. */
#ifndef KZ_TRAIN_INT_H
#define KZ_TRAIN_INT_H

#include "kazu/train.h"

typedef struct kz_trainer kz_trainer;

#define KZ_TRAIN_EVAL UINT64_MAX /* rng_step of a pass without dropout */

/* One named parameter tensor inside the flat buffer. */
typedef struct kz_tparam {
    char name[96]; /* HF name, e.g. "encoder.layer.0.attention.self.query.weight" */
    size_t off, n; /* float offset and element count */
    bool decay;    /* AdamW weight decay applies (not LayerNorm, not biases) */
} kz_tparam;

/* Prepare model for training: its weights are copied into one flat fp32
 * buffer owned by the model and its tensor pointers re-aimed there (int8/bf16
 * copies dropped), so the model always shows the current weights. dropout and
 * seed come from o (NULL: defaults). KZ_EINVAL for an unsupported model
 * (no token-classification head, activation other than gelu / relu). */
int kz__trainer_new(kz_bert *model, const kz_train_opts *o, kz_trainer **out, kz_error *err);

/* Objectives of a trainer. KZ__OBJ_MLM: the flat buffer holds the encoder and
 * BERT's MLM prediction head ("cls.predictions.transform.dense.weight/bias",
 * "cls.predictions.transform.LayerNorm.weight/bias", "cls.predictions.bias";
 * decoder tied to the word embeddings), initialised from o->seed; any
 * classifier of the model stays outside (untouched). */
enum { KZ__OBJ_NER = 0, KZ__OBJ_MLM = 1 };
int kz__trainer_new_obj(kz_bert *model, const kz_train_opts *o, int objective, kz_trainer **out,
                        kz_error *err);
int kz__trainer_objective(const kz_trainer *t);
void kz__trainer_free(kz_trainer *t);

float *kz__trainer_params(kz_trainer *t);
float *kz__trainer_grads(kz_trainer *t);
size_t kz__trainer_n_params(const kz_trainer *t);
const kz_tparam *kz__trainer_tensors(const kz_trainer *t, size_t *n);
void kz__trainer_zero_grad(kz_trainer *t);

/* Supervised cells of ex: (token, label) pairs with token_mask and label_mask
 * set (multi-label), or supervised tokens (softmax head). */
double kz__trainer_cells(const kz_trainer *t, const kz_train_example *ex);

/* Forward (and, with grad, backward) over n examples as one packed batch.
 * Returns in *loss the summed loss of the batch divided by denom (the
 * supervised cells of the whole optimiser step); gradients of that quantity
 * are ADDED to the gradient buffer. rng_step selects the dropout masks
 * (deterministic, independent of threads); KZ_TRAIN_EVAL = no dropout. logits_out (optional): the
 * packed [sum n_tokens][num_labels] logits. */
int kz__trainer_step_batch(kz_trainer *t, const kz_train_example *const *ex, size_t n, double denom,
                           uint64_t rng_step, bool grad, double *loss, float *logits_out, kz_error *err);

/* One masked-LM sequence: input ids (already masked) and, per token, the id to
 * predict or -1 (not predicted). */
typedef struct kz_mlm_seq {
    uint32_t n_tokens;
    const int32_t *input_ids;
    const int32_t *labels;
} kz_mlm_seq;

/* kz__trainer_step_batch for a KZ__OBJ_MLM trainer: softmax cross-entropy over
 * the vocabulary at the predicted positions, summed and divided by denom (the
 * predicted tokens of the whole optimiser step). logits_out (optional): the
 * [predicted tokens][vocab] logits in batch order. */
int kz__trainer_step_mlm(kz_trainer *t, const kz_mlm_seq *s, size_t n, double denom, uint64_t rng_step,
                         bool grad, double *loss, float *logits_out, kz_error *err);

/* BERT masking of window w for (seed, epoch, index): writes ids (the masked
 * input) and labels (original id at predicted positions, else -1), both
 * w->n_tokens long; returns the number of predicted positions (0 only when
 * the window has no maskable token). Random replacements are uniform over
 * [0, vocab) minus the special ids of sp. */
uint32_t kz__mlm_mask(const kz_mlm_window *w, uint64_t seed, uint64_t epoch, uint64_t index, double prob,
                      bool whole_word, uint32_t vocab, const kz_wordpiece_special *sp, int32_t *ids,
                      int32_t *labels);

/* Pre-training windows from one text image in memory (the text-file format of
 * kz_mlm_data_load; gzip decoded). Fuzzed. */
int kz__mlm_data_from_mem(const void *data, size_t len, const kz_wordpiece *tok, uint32_t max_len,
                          uint64_t max_tokens, kz_mlm_data *out, kz_error *err);

/* n values ~ N(0, 0.02): Box-Muller over splitmix64 seeded with seed ^ fnv1a64(name)
 * (what kz_bert_new_random draws for the tensor called name). */
void kz__train_randn(float *p, size_t n, uint64_t seed, const char *name);

/* Global-norm clipping (clip <= 0: none) then one AdamW update at learning rate lr.
 * Returns the gradient norm before clipping. */
double kz__trainer_optimizer_step(kz_trainer *t, double lr, double clip);

/* Adam step counter and moments (which 0: m, 1: v), for checkpoints. */
uint64_t kz__trainer_adam_t(const kz_trainer *t);
void kz__trainer_set_adam_t(kz_trainer *t, uint64_t v);
float *kz__trainer_moments(kz_trainer *t, int which);

/* Learning rate after `step` optimiser steps (linear warm-up, linear decay). */
double kz__train_lr(double lr, uint64_t step, uint64_t total, uint64_t warmup);

/* Checkpoint image of the trainer state: header + weights + Adam moments.
 * kz__trainer_ckpt_read validates length, checksum and shapes (fuzzed). */
typedef struct kz_train_ckpt_hdr {
    uint64_t n_params, step, seed, total_steps, n_examples;
    uint32_t batch, accum, epochs, layers, hidden, heads, intermediate, vocab, max_pos, type_vocab, labels;
    /* the header's word at offset 64 (once "reserved"): 0 = NER; masked LM:
       1 | whole_word << 8 | (IEEE bits of (float)mlm_prob) << 32 */
    uint64_t objective;
} kz_train_ckpt_hdr;
/* Fill the shape fields (n_params, layers ... labels) of h from t. */
void kz__trainer_shape(const kz_trainer *t, kz_train_ckpt_hdr *h);
int kz__trainer_ckpt_write(kz_trainer *t, const char *path, uint64_t step, const kz_train_ckpt_hdr *h,
                           kz_error *err);
/* Parse an image in memory; on success *h is filled, and when t is non-NULL and the
 * shapes match t's model, weights and moments are copied into t. */
/* The trailer checksum over data[0, len) (the image minus its last 8 bytes). */
uint64_t kz__train_ckpt_checksum(const void *data, size_t len);
/* The header of a checkpoint file (magic, version and header fields only; no checksum). */
int kz__train_ckpt_peek(const char *path, kz_train_ckpt_hdr *h, kz_error *err);
int kz__trainer_ckpt_parse(kz_trainer *t, const void *data, size_t len, kz_train_ckpt_hdr *h, kz_error *err);

#endif
