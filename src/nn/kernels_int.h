/* CPU kernels of the BERT engine (GEMMs on pre-packed weights, LayerNorm, GELU,
 * softmax attention, per-row int8 quantisation) and the engine's internal state.
 * One table of kernels per instruction set, chosen at engine creation (docs/nn.md). */
#ifndef KZ_NN_KERNELS_INT_H
#define KZ_NN_KERNELS_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "nn_int.h"

/* ---- packed weights ----------------------------------------------------------
 * A linear layer y = x W^T + b with W [n][k] is stored as panels of KZ_NN_NR
 * output columns (n padded with zero columns to a multiple of KZ_NN_NR):
 *   fp32: float    [n_pad/NR][k][NR]
 *   bf16: uint16_t [n_pad/NR][k][NR]          (bf16 bits, widened to fp32 in the kernel)
 *   int8: int8_t   [n_pad/NR][k_pad/4][NR][4] (4 consecutive k of one column together,
 *                                              the operand layout of vpmaddubsw)
 * The same layout feeds the portable and the AVX2 kernels. */
enum { KZ_NN_NR = 24, KZ_NN_KQ = 4 };

typedef enum kz_nn_wfmt { KZ_NN_W_F32 = 0, KZ_NN_W_BF16 = 1, KZ_NN_W_S8 = 2 } kz_nn_wfmt;

typedef struct kz_nn_packed {
    kz_nn_wfmt fmt;
    uint32_t n, k;         /* logical output / input sizes */
    uint32_t n_pad, k_pad; /* n_pad % NR == 0; k_pad % 4 == 0 (== k for fp32/bf16) */
    void *w;               /* panels (64-byte aligned, owned) */
    float *bias;           /* [n_pad], zero-padded (owned) */
    float *wscale;         /* int8: [n_pad] per-output-channel scale (owned) */
    int32_t *colsum;       /* int8: [n_pad] sum over k of the quantised weights (owned) */
} kz_nn_packed;

/* Epilogue applied to every output element after bias. */
typedef enum kz_nn_epi {
    KZ_NN_EPI_NONE = 0,
    KZ_NN_EPI_GELU = 1,
    KZ_NN_EPI_GELU_TANH = 2,
    KZ_NN_EPI_RELU = 3
} kz_nn_epi;

/* C[m][j] = epi(sum_k A[m][k] W[j][k] + bias[j]) for m < rows, j < w->n.
 * fp32/bf16: A is fp32 (a, lda). int8: A is u7 (aq, ldaq; values 0..127, row
 * stride >= k_pad, padding bytes 0) with per-row scale and zero point, and
 * the sum is ascale[m] * wscale[j] * (sum_k aq*wq - azp[m] * colsum[j]).
 * 7-bit activations keep vpmaddubsw's pairwise int16 sums exact
 * (2 * 127 * 128 < 32768): no saturation, so int32 sums are exact. */
typedef struct kz_nn_gemm {
    uint32_t rows;
    const float *a;
    size_t lda;
    const uint8_t *aq;
    size_t ldaq;
    const float *ascale;
    const int32_t *azp;
    const kz_nn_packed *w;
    float *c;
    size_t ldc;
    kz_nn_epi epi;
    uint32_t p0, p1; /* panel range [p0, p1) of KZ_NN_NR columns; p1 = 0: all panels */
} kz_nn_gemm;

/* One (sequence, head) of scaled dot-product attention over T real tokens:
 * q/k/v rows at stride ld floats; ctx rows at stride ldc; scale = 1/sqrt(dh).
 * kt: the same keys transposed ([dh] rows of ldkt >= round8(T) floats, zero past T;
 * see transpose). The AVX2 kernel reads V rows 8 floats at a time, up to 7 floats
 * past v + dh (the buffer needs that slack). scratch holds kz__nn_attn_scratch(T, dh)
 * floats, 32-byte aligned. */
typedef struct kz_nn_attn {
    const float *q, *k, *v;
    size_t ld;
    const float *kt;
    size_t ldkt;
    float *ctx;
    size_t ldc;
    uint32_t T, dh;
    float scale;
    float *scratch;
} kz_nn_attn;
size_t kz__nn_attn_scratch(uint32_t T, uint32_t dh);

typedef struct kz_nn_kern {
    const char *name; /* "avx2", "portable" */
    void (*gemm_f32)(const kz_nn_gemm *g);
    void (*gemm_bf16)(const kz_nn_gemm *g);
    void (*gemm_s8)(const kz_nn_gemm *g);
    /* x[0..n) = LN(x + res) * g + b (res may be NULL), biased variance as torch. */
    void (*add_ln)(float *x, const float *res, uint32_t n, const float *g, const float *b, float eps);
    /* Rows after an external GEMM: c = epi(c + bias) (fp32) or c = epi(dequant(acc) + bias) (int8,
     * acc int32 rows at stride ldacc). */
    void (*epi_f32)(float *c, size_t ldc, uint32_t rows, const kz_nn_packed *w, kz_nn_epi epi);
    void (*epi_s32)(const int32_t *acc, size_t ldacc, float *c, size_t ldc, uint32_t rows,
                    const float *ascale, const int32_t *azp, const kz_nn_packed *w, kz_nn_epi epi);
    /* Per-row asymmetric 7-bit quantisation: x ~= scale * (q - zp), q in 0..127,
     * 0 exactly representable; q[n..n_pad) = 0. */
    void (*quant_u7)(const float *x, uint32_t n, uint32_t n_pad, uint8_t *q, float *scale, int32_t *zp);
    void (*attn)(const kz_nn_attn *a);
    /* dst[c][r] = src[r][c] for r < rows, c < cols; dst[c][rows .. round8(rows)) = 0.
     * ldd >= round8(rows). */
    void (*transpose)(const float *src, size_t lds, uint32_t rows, uint32_t cols, float *dst, size_t ldd);
    /* Elementwise, in place (also exported for the tests). */
    void (*gelu)(float *x, size_t n);
    void (*gelu_tanh)(float *x, size_t n);
    void (*erf)(const float *x, float *y, size_t n);
    void (*exp)(const float *x, float *y, size_t n);
    /* Softmax of x[0..n) in place; max subtraction; entries of -inf get 0; a row of
     * only -inf (fully masked) becomes all zeros instead of NaN. */
    void (*softmax)(float *x, uint32_t n);
} kz_nn_kern;

/* CPU features (cached). */
enum {
    KZ_CPU_AVX2 = 1 << 0, /* avx2 + fma (+ OS ymm state) */
    KZ_CPU_F16C = 1 << 1,
    KZ_CPU_AVX512F = 1 << 2,
    KZ_CPU_AVX512BW = 1 << 3,
    KZ_CPU_AVX512VNNI = 1 << 4,
    KZ_CPU_AVXVNNI = 1 << 5,
    KZ_CPU_AVX512BF16 = 1 << 6,
};
unsigned kz__nn_cpu_features(void);
const kz_nn_kern *kz__nn_kern_portable(void);
const kz_nn_kern *kz__nn_kern_avx2(void); /* NULL when the CPU (or compiler) lacks AVX2+FMA */
/* The table an engine uses: AVX2 when available, unless KZ_NN_FORCE_PORTABLE=1. */
const kz_nn_kern *kz__nn_kern_best(void);
bool kz__nn_force_portable(void);

/* Packing (kernels.c). src: rows of [k] floats (or bf16 / int8) given as up to 3
 * stacked matrices (the fused Q/K/V projection). Returns 0 or KZ_ENOMEM. */
typedef struct kz_nn_src {
    const float *w;          /* [n][k] fp32 */
    const float *b;          /* [n] or NULL */
    const uint16_t *w_bf16;  /* optional [n][k] */
    const int8_t *w_q8;      /* optional [n][k] */
    const float *w_q8_scale; /* [n] with w_q8 */
    uint32_t n;
} kz_nn_src;
int kz__nn_pack(const kz_nn_src *src, size_t nsrc, uint32_t k, kz_nn_wfmt fmt, kz_nn_packed *out);
void kz__nn_packed_free(kz_nn_packed *p);
/* Quantise one fp32 row of k weights to int8 (symmetric, [-127, 127]); returns the scale. */
float kz__nn_quant_row_s8(const float *w, uint32_t k, int8_t *q);

/* Aligned allocation (64 bytes) that tolerates n == 0. */
void *kz__nn_alloc(size_t n);
void kz__nn_free(void *p);

/* A pool of threads - 1 workers for the own kernels (NULL when threads <= 1 or on
 * failure: everything then runs on the calling thread). kz__nn_parallel runs
 * fn(arg, i, tid) for i in [0, n); tasks are handed out one at a time (an atomic counter),
 * so a descheduled thread delays only its current task; tid < kz__nn_pool_threads(p)
 * identifies the thread (per-thread scratch). One caller at a time per pool. */
typedef struct kz_nn_pool kz_nn_pool;
typedef void (*kz_nn_task)(void *arg, uint32_t i, uint32_t tid);
kz_nn_pool *kz__nn_pool_new(int threads);
void kz__nn_pool_free(kz_nn_pool *p);
int kz__nn_pool_threads(const kz_nn_pool *p);
void kz__nn_parallel(kz_nn_pool *p, uint32_t n, kz_nn_task fn, void *arg);
/* Set the OpenMP thread count of the calling thread (oneDNN's intra-op threads) when
 * threads > 0; returns the previous value (0 when there is no OpenMP runtime), so that
 * callers restore the caller's setting afterwards. */
int kz__nn_omp_set_threads(int threads);

/* ---- engine internals (bert_engine.c, bert_forward.c) ------------------------ */
typedef enum kz_nn_gemm_impl { KZ_NN_GEMM_OWN = 0, KZ_NN_GEMM_DNNL = 1 } kz_nn_gemm_impl;

typedef struct kz_eng_linear {
    kz_nn_packed pk;    /* own kernels: panels; oneDNN: bias, scales, colsums (w NULL) */
    void *dnn_prim;     /* dnnl_primitive_t (runtime M) */
    void *dnn_w;        /* dnnl_memory_t, weights in oneDNN's preferred layout */
    size_t dnn_scratch; /* scratchpad bytes the primitive asks for */
} kz_eng_linear;

typedef struct kz_eng_layer {
    kz_eng_linear qkv, ao, fi, fo;
    const float *ln1_g, *ln1_b, *ln2_g, *ln2_b;
} kz_eng_layer;

struct kz_bert_engine {
    const kz_bert *m;
    kz_precision prec;
    int threads;
    const kz_nn_kern *k;
    kz_nn_gemm_impl gemm;
    kz_nn_wfmt wfmt;
    char backend[48];
    void *dnn_engine; /* dnnl_engine_t */
    kz_eng_layer *layers;
    kz_eng_linear cls; /* classifier, always fp32 own kernels */
    uint32_t H, I, heads, dh, nl;
    size_t weight_bytes; /* bytes of prepared weights held by the engine */
};

/* Stages timed when profiling (bench_bert --profile). */
enum {
    KZ_PROF_EMBED,
    KZ_PROF_QKV,
    KZ_PROF_ATTN,
    KZ_PROF_AO,
    KZ_PROF_FI,
    KZ_PROF_FO,
    KZ_PROF_HEAD,
    KZ_PROF_N
};

/* Per-thread scratch, grown on demand by the forward pass. */
struct kz_bert_ctx {
    const kz_bert_engine *e;
    void *stream; /* dnnl_stream_t */
    size_t cap_rows, cap_T, cap_batch, dnn_scratch_cap;
    float *x, *x1, *cb, *qkv, *f,
        *logit;       /* [rows][H], [rows][H], [rows][H], [rows][3H], [rows][I], [rows][nl_pad] */
    uint8_t *q1, *q2; /* int8 activations, row strides kq1 / kq2 */
    size_t kq1, kq2;
    float *s1, *s2;   /* per-row scales */
    int32_t *z1, *z2; /* per-row zero points */
    int32_t *acc;     /* oneDNN int8 output [rows][max(3H, I)] */
    float *attn;      /* attention scratch, one slot per thread */
    size_t attn_slot; /* floats per slot */
    float *kt;        /* transposed keys: per sequence [H][round8(len)] */
    size_t cap_kt;
    size_t *ktoff; /* [batch] offset of each sequence's block in kt */
    void *dnn_scratch;
    uint32_t *rows;   /* [batch + 1] first packed row of each sequence */
    bool profile;     /* KZ_NN_PROFILE=1 at creation: accumulate seconds per stage */
    kz_nn_pool *pool; /* engine threads > 1 */
    double prof[KZ_PROF_N];
};
void kz__bert_ctx_release(kz_bert_ctx *c);

/* oneDNN helpers (bert_engine.c) used by the forward pass. */
int kz__eng_dnn_exec(const kz_bert_engine *e, void *stream, const kz_eng_linear *l, const void *src,
                     size_t lds, void *dst, size_t ldd, uint32_t rows, void *scratch);

#endif
