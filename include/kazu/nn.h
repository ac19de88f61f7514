/* kazu-c neural engine: Hugging Face-exact WordPiece tokenisation, BERT model
 * loading (HF directories with model.safetensors or pytorch_model.bin, and our
 * own mmap-able .kzm file), and the encoder forward pass in fp32 / int8 / bf16
 * on the CPU (docs/nn.md).
 *
 * Ownership and threads:
 *  - kz_wordpiece, kz_bert and kz_bert_engine are immutable after creation and
 *    may be shared by any number of threads.
 *  - kz_bert_ctx holds per-thread scratch buffers: one per thread.
 *  - A kz_bert_engine borrows its kz_bert (free the engine first). */
#ifndef KAZU_NN_H
#define KAZU_NN_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- WordPiece tokenizer ---------------------------------------------------- */
typedef struct kz_wordpiece kz_wordpiece;

typedef struct kz_wordpiece_opts {
    bool lowercase;                 /* BasicTokenizer do_lower_case */
    int strip_accents;              /* -1: follow lowercase (HF default None), 0: no, 1: yes */
    bool tokenize_chinese_chars;    /* HF default true */
    const char *const *never_split; /* tokens kept whole (special tokens are always) */
    size_t n_never_split;
    uint32_t max_input_chars_per_word; /* 0 = 100 (HF default) */
    const char *unk_token;             /* NULL = "[UNK]" */
} kz_wordpiece_opts;
/* HF defaults for an uncased (lowercase) or cased model. */
KZ_API kz_wordpiece_opts kz_wordpiece_default_opts(bool lowercase);

/* Load vocab.txt (one token per line, id = line number); opts NULL = uncased
 * defaults. KZ_EIO / KZ_EPARSE (invalid UTF-8, duplicate token: message has
 * path:line) / KZ_ELIMIT (> 256 MiB or > 2^24 tokens). */
KZ_API int kz_wordpiece_load(const char *vocab_path, const kz_wordpiece_opts *opts, kz_wordpiece **out,
                             kz_error *err);
/* Same from memory (tokens separated by '\n'; a trailing '\r' is stripped). */
KZ_API int kz_wordpiece_from_buffer(const char *vocab, size_t len, const kz_wordpiece_opts *opts,
                                    kz_wordpiece **out, kz_error *err);
KZ_API void kz_wordpiece_free(kz_wordpiece *wp);
KZ_API uint32_t kz_wordpiece_vocab_size(const kz_wordpiece *wp);
KZ_API int32_t kz_wordpiece_token_id(const kz_wordpiece *wp, kz_str token); /* -1 if absent */
KZ_API kz_str kz_wordpiece_token(const kz_wordpiece *wp, int32_t id);       /* NULL ptr if out of range */
/* Ids of [CLS] [SEP] [PAD] [UNK] [MASK] (-1 when the vocab lacks one). */
typedef struct kz_wordpiece_special {
    int32_t cls, sep, pad, unk, mask;
} kz_wordpiece_special;
KZ_API kz_wordpiece_special kz_wordpiece_specials(const kz_wordpiece *wp);

/* One token of the output. Offsets are BYTE offsets into the input text and
 * cover the original characters (before lowercasing/accent stripping), as HF's
 * fast tokenizer offset_mapping does (in code points) for the same text. */
typedef struct kz_wp_token {
    int32_t id;
    int32_t word;  /* index of the pre-tokenised word (HF word_ids) */
    int64_t start; /* byte offset, inclusive */
    int64_t end;   /* byte offset, exclusive */
} kz_wp_token;

/* Tokenise text (valid UTF-8; KZ_EUTF8 otherwise) WITHOUT special tokens.
 * Special-token strings in the text ([CLS] [SEP] [PAD] [MASK], unk; those in
 * the vocab) are matched verbatim as HF does. KZ_ENOTFOUND if a word needs
 * the unk token and the vocabulary lacks it.
 * Appends to the caller's growable array (*toks, *n, *cap; realloc'd; free()
 * when done). Linear in the input length. Thread-safe. */
KZ_API int kz_wordpiece_encode(const kz_wordpiece *wp, const char *text, size_t len, kz_wp_token **toks,
                               size_t *n, size_t *cap, kz_error *err);

/* ---- BERT models --------------------------------------------------------------- */
typedef enum kz_bert_act { KZ_ACT_GELU = 0, KZ_ACT_GELU_TANH = 1, KZ_ACT_RELU = 2 } kz_bert_act;

typedef enum kz_bert_head {
    KZ_HEAD_NONE = 0,      /* bare encoder (embeddings / pooling) */
    KZ_HEAD_TOKEN_CLS = 1, /* classifier.weight/bias on every token */
} kz_bert_head;

typedef struct kz_bert_config {
    uint32_t vocab_size, hidden, layers, heads, intermediate, max_positions, type_vocab;
    float layer_norm_eps;
    kz_bert_act act;
    kz_bert_head head;
    uint32_t num_labels;
    bool multilabel; /* sigmoid multi-label head (Kazu use_multilabel) vs softmax */
    char **id2label; /* num_labels strings (owned by the model) */
    int32_t pad_token_id;
} kz_bert_config;

typedef struct kz_bert kz_bert;

/* Load a model from:
 *  - a Hugging Face directory: config.json + vocab.txt + model.safetensors or
 *    pytorch_model.bin (torch zip + pickle, read natively; only a plain
 *    state_dict of tensors is accepted, anything else is refused);
 *  - a .kzm file written by kz_bert_save (memory-mapped, no copy for fp32/bf16/int8
 *    tensors stored in their final layout).
 * Tensor names follow HF's BertModel / BertForTokenClassification ("bert." prefix
 * optional). Missing/extra/mis-shaped tensors, truncated or lying files give
 * KZ_EPARSE/KZ_EFORMAT with the file and tensor named; never a crash. */
KZ_API int kz_bert_load(const char *path, kz_bert **out, kz_error *err);
KZ_API void kz_bert_free(kz_bert *m);
KZ_API const kz_bert_config *kz_bert_get_config(const kz_bert *m);
/* The model's tokenizer (from vocab.txt / embedded vocab), or NULL if none. */
KZ_API const kz_wordpiece *kz_bert_tokenizer(const kz_bert *m);

typedef enum kz_precision {
    KZ_PREC_FP32 = 0,
    KZ_PREC_INT8 = 1,
    KZ_PREC_BF16 = 2,
    KZ_PREC_FP16 = 3
} kz_precision;
KZ_API const char *kz_precision_name(kz_precision p);
KZ_API int kz_precision_parse(const char *name, kz_precision *out);

/* Write a .kzm file (config, vocab, tokenizer options and tensors) with
 * weights stored as `storage` (FP32, FP16, BF16, or INT8 = per-output-channel
 * symmetric int8 for the dense layers, fp32 elsewhere). Written to a temporary
 * name and renamed. */
KZ_API int kz_bert_save(const kz_bert *m, const char *path, kz_precision storage, kz_error *err);

/* What a loaded model came from (for `kazu model info`). Strings are static or
 * owned by the model. */
typedef struct kz_bert_stats {
    const char *format;  /* "safetensors", "torch-zip", "kzm", "memory" */
    const char *file;    /* weights file basename ("" if none) */
    uint64_t file_bytes; /* its size */
    uint32_t n_tensors;  /* tensors in the file, ignored ones included */
    uint32_t n_ignored;  /* pooler.*, position_ids, cls.* (not used) */
    uint64_t n_params;   /* elements over all those tensors */
    uint64_t n_params_used;
    uint32_t n_by_dtype[5]; /* tensors stored as F32, F16, BF16, I8, I64 */
    kz_precision stored;
    bool has_tokenizer, lowercase, tokenize_chinese_chars;
    int strip_accents; /* -1 follow lowercase, 0, 1 */
} kz_bert_stats;
KZ_API void kz_bert_get_stats(const kz_bert *m, kz_bert_stats *out);
/* Check a .kzm file's data checksum (reads the whole file). 0 or KZ_EPARSE/KZ_EIO/KZ_EFORMAT. */
KZ_API int kz_bert_verify_file(const char *path, kz_error *err);

/* ---- inference ------------------------------------------------------------------
 * An engine holds weights prepared for one compute precision (packed /
 * quantised once) and picks kernels for this CPU at run time (AVX-512, AVX2,
 * portable). */
typedef struct kz_bert_engine kz_bert_engine;
typedef struct kz_bert_engine_opts {
    kz_precision precision;
    int threads; /* intra-op threads per forward call; 0 = 1 */
} kz_bert_engine_opts;
KZ_API int kz_bert_engine_new(const kz_bert *m, const kz_bert_engine_opts *opts, kz_bert_engine **out,
                              kz_error *err);
KZ_API void kz_bert_engine_free(kz_bert_engine *e);
/* Which kernels were chosen ("onednn-avx2", "avx512-vnni", "portable", ...). */
KZ_API const char *kz_bert_engine_backend(const kz_bert_engine *e);

typedef struct kz_bert_ctx kz_bert_ctx; /* per-thread scratch */
KZ_API kz_bert_ctx *kz_bert_ctx_new(const kz_bert_engine *e);
KZ_API void kz_bert_ctx_free(kz_bert_ctx *c);

/* A batch of already-tokenised sequences (with [CLS]/[SEP] if the caller wants them).
 * Sequence b has lens[b] tokens ids[b*stride ...]; positions beyond lens[b] are
 * padding and are masked in attention. type_ids may be NULL (all 0). */
typedef struct kz_bert_batch {
    const int32_t *ids;
    const int32_t *type_ids;
    const int32_t *lens;
    uint32_t batch;
    uint32_t stride; /* >= max(lens) */
} kz_bert_batch;

/* Outputs: any pointer may be NULL to skip that output.
 *  logits: batch*stride*num_labels (rows past lens[b] are left untouched)
 *  hidden: batch*stride*hidden, the last layer's output
 *  pooled: batch*hidden, CLS (pool_mean = false) or mean over real tokens. */
typedef struct kz_bert_out {
    float *logits;
    float *hidden;
    float *pooled;
    bool pool_mean;
} kz_bert_out;

/* Run the encoder (and head). KZ_EINVAL on ids out of range or lens > max_positions. */
KZ_API int kz_bert_forward(const kz_bert_engine *e, kz_bert_ctx *c, const kz_bert_batch *in, kz_bert_out *out,
                           kz_error *err);

#ifdef __cplusplus
}
#endif
#endif
