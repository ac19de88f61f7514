/* Neural-engine internals shared by the checkpoint readers (src/nn/st_*.c,
 * torch_*.c, kzm.c, bert_load.c), the forward pass (src/nn/bert_*.c, kernels)
 * and the tokenizer. Not public API. */
#ifndef KZ_NN_INT_H
#define KZ_NN_INT_H

#include "kazu/nn.h"

/* ---- tensors as read from a checkpoint ------------------------------------- */
typedef enum kz_dtype { KZ_DT_F32 = 0, KZ_DT_F16 = 1, KZ_DT_BF16 = 2, KZ_DT_I8 = 3, KZ_DT_I64 = 4 } kz_dtype;
size_t kz__dtype_size(kz_dtype t);

#define KZ_TENSOR_MAX_DIMS 4
typedef struct kz_tensor {
    char *name; /* owned by the table */
    kz_dtype dtype;
    uint32_t ndim;
    int64_t shape[KZ_TENSOR_MAX_DIMS];
    const void *data; /* points into a mapping or into table-owned memory */
    size_t nbytes;
    const float *scales; /* INT8 only: one scale per output row (shape[0]); else NULL */
} kz_tensor;

/* A set of named tensors plus whatever backs them (mmap, malloc'd buffers). */
typedef struct kz_tensor_table {
    kz_tensor *t;
    size_t n, cap;
    void *map; /* mmap base or NULL */
    size_t map_len;
    void **owned; /* malloc'd blocks to free */
    size_t n_owned, cap_owned;
} kz_tensor_table;

void kz__tensor_table_free(kz_tensor_table *tt);
const kz_tensor *kz__tensor_find(const kz_tensor_table *tt, const char *name);

/* Readers. Each validates every header field against the file size and
 * refuses anything it does not understand (a clear KZ_EFORMAT/KZ_EPARSE with
 * the file and tensor named). */
int kz__safetensors_read(const char *path, kz_tensor_table *out, kz_error *err);
int kz__safetensors_read_mem(const void *data, size_t len, kz_tensor_table *out,
                             kz_error *err); /* borrows data */
int kz__torch_zip_read(const char *path, kz_tensor_table *out, kz_error *err);
/* The pickle part alone (data.pkl) with a resolver for storage records; fuzzed. */
int kz__torch_pickle_read_mem(const void *pkl, size_t len, const void *zip_ctx, kz_tensor_table *out,
                              kz_error *err);

/* ---- the model, resolved ------------------------------------------------------
 * Every weight as fp32 [out][in] row-major (HF nn.Linear layout: weight[out][in]),
 * converted at load time unless the source already is fp32 in that layout (then
 * the pointer aliases the mapping). int8 .kzm files also carry the quantised
 * copies (q8 + per-row scale) so engines need not re-quantise. */
typedef struct kz_bert_linear {
    const float *w; /* [out][in] */
    const float *b; /* [out] */
    uint32_t in, out;
    const int8_t *w_q8;      /* optional pre-quantised [out][in] */
    const float *w_q8_scale; /* [out] */
    const uint16_t *w_bf16;  /* optional [out][in] */
} kz_bert_linear;

typedef struct kz_bert_layer {
    kz_bert_linear q, k, v, attn_out, ffn_in, ffn_out;
    const float *ln1_g, *ln1_b; /* attention.output.LayerNorm */
    const float *ln2_g, *ln2_b; /* output.LayerNorm */
} kz_bert_layer;

struct kz_bert {
    kz_bert_config cfg;
    const float *word_emb; /* [vocab][hidden] */
    const float *pos_emb;  /* [max_positions][hidden] */
    const float *type_emb; /* [type_vocab][hidden] */
    const float *emb_ln_g, *emb_ln_b;
    kz_bert_layer *layers;     /* cfg.layers */
    kz_bert_linear classifier; /* w NULL when head == NONE */
    kz_tensor_table tensors;   /* backing storage */
    kz_wordpiece *tokenizer;   /* NULL if no vocab */
    kz_precision stored;       /* precision of the source weights */
};

/* Build the resolved model from a tensor table + config (takes ownership of tt's
 * contents). Checks every shape against cfg. */
int kz__bert_from_tensors(kz_bert_config *cfg, kz_tensor_table *tt, kz_bert **out, kz_error *err);
/* config.json text -> cfg (id2label malloc'd). */
int kz__bert_config_parse(const char *json, size_t len, const char *path, kz_bert_config *cfg, kz_error *err);
void kz__bert_config_free(kz_bert_config *cfg);

/* bf16 <-> fp32 (round to nearest even). */
static inline uint16_t kz__f32_to_bf16(float f) {
    union {
        float f;
        uint32_t u;
    } v = {f};
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x40); /* quiet NaN */
    v.u += 0x7fffu + ((v.u >> 16) & 1u);
    return (uint16_t)(v.u >> 16);
}
static inline float kz__bf16_to_f32(uint16_t h) {
    union {
        uint32_t u;
        float f;
    } v = {(uint32_t)h << 16};
    return v.f;
}
float kz__f16_to_f32(uint16_t h);
uint16_t kz__f32_to_f16(float f);

#endif
