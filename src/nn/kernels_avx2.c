/* AVX2 + FMA kernels of the BERT engine: 4x24 register-blocked GEMMs on packed
 * panels (fp32, bf16 widened on the fly, u7 x s8 via vpmaddubsw), vectorised exp/erf,
 * LayerNorm, softmax attention and per-row quantisation. Compiled for AVX2 with
 * target pragmas and only called when the CPU has AVX2 + FMA (kernels.c). */
#include <math.h>
#include <string.h>
#include "kernels_int.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define KZ_AVX2_BUILD 1
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif
#include <immintrin.h>

#define AINL static inline __attribute__((always_inline))

/* Partial vectors through a stack buffer: vmaskmovps stores are slow on AMD cores. */
AINL __m256 load_tail(const float *p, uint32_t r, float fill) {
    float t[8] = {fill, fill, fill, fill, fill, fill, fill, fill};
    for (uint32_t i = 0; i < r; i++) t[i] = p[i];
    return _mm256_loadu_ps(t);
}
AINL void store_tail(float *p, __m256 v, uint32_t r) {
    float t[8];
    _mm256_storeu_ps(t, v);
    for (uint32_t i = 0; i < r; i++) p[i] = t[i];
}

AINL float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
AINL float hmax(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
AINL float hmin(__m256 v) {
    __m128 s = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_min_ps(s, _mm_movehl_ps(s, s));
    s = _mm_min_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* exp (Cephes expf polynomial; ~1 ulp on [-87, 88]; inputs clamped to that range). */
AINL __m256 exp8(__m256 x) {
    x = _mm256_min_ps(x, _mm256_set1_ps(88.0f));
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.33654f));
    __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

/* erf as x * P(x^2) / Q(x^2) on [-4, 4] (the rational form used by Eigen/XLA);
 * max |error| vs erff 3.6e-7 (checked on a 1e-5 grid by test_bert_kernels). */
AINL __m256 erf8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-4.0f)), _mm256_set1_ps(4.0f));
    __m256 x2 = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(-2.72614225801306e-10f);
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(2.77068142495902e-08f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-2.10102402082508e-06f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-5.69250639462346e-05f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-7.34990630326855e-04f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-2.95459980854025e-03f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-1.60960333262415e-02f));
    p = _mm256_mul_ps(p, x);
    __m256 q = _mm256_set1_ps(-1.45660718464996e-05f);
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-2.13374055278905e-04f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-1.68282697438203e-03f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-7.37332916720468e-03f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-1.42647390514189e-02f));
    return _mm256_div_ps(p, q);
}

AINL __m256 gelu8(__m256 x) {
    __m256 h = _mm256_mul_ps(x, _mm256_set1_ps(0.5f));
    __m256 e = erf8(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f)));
    return _mm256_fmadd_ps(h, e, h);
}

AINL __m256 gelu_tanh8(__m256 x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
    __m256 y =
        _mm256_mul_ps(_mm256_set1_ps(0.7978845608028654f), _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, x));
    __m256 e = exp8(_mm256_mul_ps(_mm256_set1_ps(-2.0f), _mm256_andnot_ps(sign, y))); /* exp(-2|y|) */
    __m256 one = _mm256_set1_ps(1.0f);
    __m256 t = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
    t = _mm256_or_ps(t, _mm256_and_ps(sign, y)); /* tanh(|y|) carries y's sign */
    __m256 h = _mm256_mul_ps(x, _mm256_set1_ps(0.5f));
    return _mm256_fmadd_ps(h, t, h);
}

AINL __m256 epi8(__m256 x, kz_nn_epi e) {
    switch (e) {
    case KZ_NN_EPI_GELU: return gelu8(x);
    case KZ_NN_EPI_GELU_TANH: return gelu_tanh8(x);
    case KZ_NN_EPI_RELU: return _mm256_max_ps(x, _mm256_setzero_ps());
    default: return x;
    }
}

/* Store one row of a 24-column tile: nc == 24 straight, else through a buffer. */
AINL void store_row(float *c, __m256 v0, __m256 v1, __m256 v2, uint32_t nc) {
    if (nc == KZ_NN_NR) {
        _mm256_storeu_ps(c, v0);
        _mm256_storeu_ps(c + 8, v1);
        _mm256_storeu_ps(c + 16, v2);
    } else {
        float t[KZ_NN_NR];
        _mm256_storeu_ps(t, v0);
        _mm256_storeu_ps(t + 8, v1);
        _mm256_storeu_ps(t + 16, v2);
        memcpy(c, t, nc * sizeof(float));
    }
}

/* ---- fp32 / bf16 GEMM: mr (1..4) rows x 24 columns, bias-initialised accumulators ---- */
AINL __m256 load_bf16x8(const uint16_t *p) {
    return _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_load_si128((const __m128i *)p)), 16));
}

#define MK_FMA_ROW(i)                                                                                        \
    if (mr > i) {                                                                                            \
        __m256 x = _mm256_broadcast_ss(a##i + kk);                                                           \
        c##i##0 = _mm256_fmadd_ps(x, w0, c##i##0);                                                           \
        c##i##1 = _mm256_fmadd_ps(x, w1, c##i##1);                                                           \
        c##i##2 = _mm256_fmadd_ps(x, w2, c##i##2);                                                           \
    }
#define MK_STORE_ROW(i)                                                                                      \
    if (mr > i) {                                                                                            \
        if (epi != KZ_NN_EPI_NONE) {                                                                         \
            c##i##0 = epi8(c##i##0, epi);                                                                    \
            c##i##1 = epi8(c##i##1, epi);                                                                    \
            c##i##2 = epi8(c##i##2, epi);                                                                    \
        }                                                                                                    \
        store_row(c + (size_t)i * ldc, c##i##0, c##i##1, c##i##2, nc);                                       \
    }

AINL void mk_f32(const int mr, const bool bf16, const float *a, size_t lda, const void *bw, uint32_t k,
                 const float *bias, float *c, size_t ldc, uint32_t nc, kz_nn_epi epi) {
    __m256 c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;
    c00 = c10 = c20 = c30 = _mm256_load_ps(bias);
    c01 = c11 = c21 = c31 = _mm256_load_ps(bias + 8);
    c02 = c12 = c22 = c32 = _mm256_load_ps(bias + 16);
    const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
    const float *bf = bw;
    const uint16_t *bh = bw;
    for (uint32_t kk = 0; kk < k; kk++) {
        __m256 w0, w1, w2;
        if (bf16) {
            w0 = load_bf16x8(bh);
            w1 = load_bf16x8(bh + 8);
            w2 = load_bf16x8(bh + 16);
            bh += KZ_NN_NR;
        } else {
            w0 = _mm256_load_ps(bf);
            w1 = _mm256_load_ps(bf + 8);
            w2 = _mm256_load_ps(bf + 16);
            bf += KZ_NN_NR;
        }
        MK_FMA_ROW(0)
        MK_FMA_ROW(1)
        MK_FMA_ROW(2)
        MK_FMA_ROW(3)
    }
    MK_STORE_ROW(0)
    MK_STORE_ROW(1)
    MK_STORE_ROW(2)
    MK_STORE_ROW(3)
}

AINL void gemm_fp(const kz_nn_gemm *g, const bool bf16) {
    const kz_nn_packed *w = g->w;
    const uint32_t NR = KZ_NN_NR, k = w->k, rows = g->rows;
    uint32_t p1 = g->p1 ? g->p1 : w->n_pad / NR;
    size_t esz = bf16 ? 2 : 4;
    for (uint32_t p = g->p0; p < p1; p++) {
        const char *bp = (const char *)w->w + (size_t)p * k * NR * esz;
        const float *bias = w->bias + (size_t)p * NR;
        uint32_t nc = w->n - p * NR < NR ? w->n - p * NR : NR;
        float *c = g->c + (size_t)p * NR;
        uint32_t m = 0;
        for (; m + 4 <= rows; m += 4)
            mk_f32(4, bf16, g->a + m * g->lda, g->lda, bp, k, bias, c + m * g->ldc, g->ldc, nc, g->epi);
        switch (rows - m) {
        case 3:
            mk_f32(3, bf16, g->a + m * g->lda, g->lda, bp, k, bias, c + m * g->ldc, g->ldc, nc, g->epi);
            break;
        case 2:
            mk_f32(2, bf16, g->a + m * g->lda, g->lda, bp, k, bias, c + m * g->ldc, g->ldc, nc, g->epi);
            break;
        case 1:
            mk_f32(1, bf16, g->a + m * g->lda, g->lda, bp, k, bias, c + m * g->ldc, g->ldc, nc, g->epi);
            break;
        default: break;
        }
    }
}

static void a_gemm_f32(const kz_nn_gemm *g) { gemm_fp(g, false); }
static void a_gemm_bf16(const kz_nn_gemm *g) { gemm_fp(g, true); }

/* ---- int8 GEMM: u7 activations x s8 weights, vpmaddubsw -> vpmaddwd -> int32 ---- */
#define MK8_ROW(i)                                                                                           \
    if (mr > i) {                                                                                            \
        int32_t v;                                                                                           \
        memcpy(&v, a##i + 4 * (size_t)q, 4);                                                                 \
        __m256i x = _mm256_set1_epi32(v);                                                                    \
        c##i##0 = _mm256_add_epi32(c##i##0, _mm256_madd_epi16(_mm256_maddubs_epi16(x, w0), ones));           \
        c##i##1 = _mm256_add_epi32(c##i##1, _mm256_madd_epi16(_mm256_maddubs_epi16(x, w1), ones));           \
        c##i##2 = _mm256_add_epi32(c##i##2, _mm256_madd_epi16(_mm256_maddubs_epi16(x, w2), ones));           \
    }
#define MK8_DQ(i, j)                                                                                         \
    _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(c##i##j, _mm256_mullo_epi32(zp, cs##j))),            \
                    _mm256_mul_ps(as, ws##j), bs##j)
#define MK8_STORE_ROW(i)                                                                                     \
    if (mr > i) {                                                                                            \
        __m256i zp = _mm256_set1_epi32(azp[i]);                                                              \
        __m256 as = _mm256_set1_ps(ascale[i]);                                                               \
        __m256 f0 = MK8_DQ(i, 0), f1 = MK8_DQ(i, 1), f2 = MK8_DQ(i, 2);                                      \
        if (epi != KZ_NN_EPI_NONE) {                                                                         \
            f0 = epi8(f0, epi);                                                                              \
            f1 = epi8(f1, epi);                                                                              \
            f2 = epi8(f2, epi);                                                                              \
        }                                                                                                    \
        store_row(c + (size_t)i * ldc, f0, f1, f2, nc);                                                      \
    }

AINL void mk_s8(const int mr, const uint8_t *a, size_t lda, const int8_t *b, uint32_t kg, const float *ascale,
                const int32_t *azp, const kz_nn_packed *w, size_t col0, float *c, size_t ldc, uint32_t nc,
                kz_nn_epi epi) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;
    c00 = c01 = c02 = c10 = c11 = c12 = c20 = c21 = c22 = c30 = c31 = c32 = _mm256_setzero_si256();
    const uint8_t *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
    for (uint32_t q = 0; q < kg; q++, b += KZ_NN_NR * 4) {
        __m256i w0 = _mm256_load_si256((const __m256i *)b);
        __m256i w1 = _mm256_load_si256((const __m256i *)(b + 32));
        __m256i w2 = _mm256_load_si256((const __m256i *)(b + 64));
        MK8_ROW(0)
        MK8_ROW(1)
        MK8_ROW(2)
        MK8_ROW(3)
    }
    const __m256i cs0 = _mm256_load_si256((const __m256i *)(w->colsum + col0));
    const __m256i cs1 = _mm256_load_si256((const __m256i *)(w->colsum + col0 + 8));
    const __m256i cs2 = _mm256_load_si256((const __m256i *)(w->colsum + col0 + 16));
    const __m256 ws0 = _mm256_load_ps(w->wscale + col0), ws1 = _mm256_load_ps(w->wscale + col0 + 8),
                 ws2 = _mm256_load_ps(w->wscale + col0 + 16);
    const __m256 bs0 = _mm256_load_ps(w->bias + col0), bs1 = _mm256_load_ps(w->bias + col0 + 8),
                 bs2 = _mm256_load_ps(w->bias + col0 + 16);
    MK8_STORE_ROW(0)
    MK8_STORE_ROW(1)
    MK8_STORE_ROW(2)
    MK8_STORE_ROW(3)
}

static void a_gemm_s8(const kz_nn_gemm *g) {
    const kz_nn_packed *w = g->w;
    const uint32_t NR = KZ_NN_NR, kg = w->k_pad / 4, rows = g->rows;
    uint32_t p1 = g->p1 ? g->p1 : w->n_pad / NR;
    for (uint32_t p = g->p0; p < p1; p++) {
        const int8_t *bp = (const int8_t *)w->w + (size_t)p * w->k_pad * NR;
        size_t col0 = (size_t)p * NR;
        uint32_t nc = w->n - p * NR < NR ? w->n - p * NR : NR;
        float *c = g->c + col0;
        const size_t la = g->ldaq, lc = g->ldc;
        uint32_t m = 0;
        for (; m + 4 <= rows; m += 4)
            mk_s8(4, g->aq + m * la, la, bp, kg, g->ascale + m, g->azp + m, w, col0, c + m * lc, lc, nc,
                  g->epi);
        switch (rows - m) {
        case 3:
            mk_s8(3, g->aq + m * la, la, bp, kg, g->ascale + m, g->azp + m, w, col0, c + m * lc, lc, nc,
                  g->epi);
            break;
        case 2:
            mk_s8(2, g->aq + m * la, la, bp, kg, g->ascale + m, g->azp + m, w, col0, c + m * lc, lc, nc,
                  g->epi);
            break;
        case 1:
            mk_s8(1, g->aq + m * la, la, bp, kg, g->ascale + m, g->azp + m, w, col0, c + m * lc, lc, nc,
                  g->epi);
            break;
        default: break;
        }
    }
}

/* ---- row operations ------------------------------------------------------------ */
static void a_add_ln(float *x, const float *res, uint32_t n, const float *g, const float *b, float eps) {
    __m256 s = _mm256_setzero_ps();
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        if (res) {
            v = _mm256_add_ps(v, _mm256_loadu_ps(res + i));
            _mm256_storeu_ps(x + i, v);
        }
        s = _mm256_add_ps(s, v);
    }
    float sum = hsum(s);
    for (uint32_t j = i; j < n; j++) {
        if (res) x[j] += res[j];
        sum += x[j];
    }
    float mean = sum / (float)n;
    __m256 mv = _mm256_set1_ps(mean), vs = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), mv);
        vs = _mm256_fmadd_ps(d, d, vs);
    }
    float var = hsum(vs);
    for (uint32_t j = i; j < n; j++) var += (x[j] - mean) * (x[j] - mean);
    float rstd = 1.0f / sqrtf(var / (float)n + eps);
    __m256 rv = _mm256_set1_ps(rstd);
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv), rv);
        _mm256_storeu_ps(x + i, _mm256_fmadd_ps(d, _mm256_loadu_ps(g + i), _mm256_loadu_ps(b + i)));
    }
    for (uint32_t j = i; j < n; j++) x[j] = (x[j] - mean) * rstd * g[j] + b[j];
}

static void a_epi_f32(float *c, size_t ldc, uint32_t rows, const kz_nn_packed *w, kz_nn_epi epi) {
    const uint32_t n = w->n;
    for (uint32_t m = 0; m < rows; m++) {
        float *r = c + m * ldc;
        uint32_t j = 0;
        for (; j + 8 <= n; j += 8)
            _mm256_storeu_ps(r + j,
                             epi8(_mm256_add_ps(_mm256_loadu_ps(r + j), _mm256_load_ps(w->bias + j)), epi));
        if (j < n)
            store_tail(r + j,
                       epi8(_mm256_add_ps(load_tail(r + j, n - j, 0.0f), _mm256_load_ps(w->bias + j)), epi),
                       n - j);
    }
}

static void a_epi_s32(const int32_t *acc, size_t ldacc, float *c, size_t ldc, uint32_t rows,
                      const float *ascale, const int32_t *azp, const kz_nn_packed *w, kz_nn_epi epi) {
    const uint32_t n = w->n;
    for (uint32_t m = 0; m < rows; m++) {
        const int32_t *ar = acc + m * ldacc;
        float *r = c + m * ldc;
        __m256i zp = _mm256_set1_epi32(azp[m]);
        __m256 as = _mm256_set1_ps(ascale[m]);
        for (uint32_t j = 0; j < n; j += 8) {
            uint32_t nr = n - j < 8 ? n - j : 8;
            __m256i a;
            if (nr == 8) {
                a = _mm256_loadu_si256((const __m256i *)(ar + j));
            } else {
                int32_t t[8] = {0};
                memcpy(t, ar + j, nr * sizeof(int32_t));
                a = _mm256_loadu_si256((const __m256i *)t);
            }
            __m256i cs = _mm256_load_si256((const __m256i *)(w->colsum + j));
            __m256 v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(a, _mm256_mullo_epi32(zp, cs))),
                                       _mm256_mul_ps(as, _mm256_load_ps(w->wscale + j)),
                                       _mm256_load_ps(w->bias + j));
            if (nr == 8)
                _mm256_storeu_ps(r + j, epi8(v, epi));
            else
                store_tail(r + j, epi8(v, epi), nr);
        }
    }
}

static void a_quant_u7(const float *x, uint32_t n, uint32_t n_pad, uint8_t *q, float *scale, int32_t *zp) {
    __m256 vmn = _mm256_setzero_ps(), vmx = _mm256_setzero_ps();
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        vmn = _mm256_min_ps(vmn, v);
        vmx = _mm256_max_ps(vmx, v);
    }
    float mn = hmin(vmn), mx = hmax(vmx);
    for (uint32_t j = i; j < n; j++) {
        mn = x[j] < mn ? x[j] : mn;
        mx = x[j] > mx ? x[j] : mx;
    }
    float range = mx - mn;
    if (!(range > 0.0f) || !isfinite(range)) {
        memset(q, 0, n_pad);
        *scale = 0.0f;
        *zp = 0;
        return;
    }
    float s = range / 127.0f, inv = 127.0f / range;
    int32_t z = (int32_t)nearbyintf(-mn * inv);
    z = z < 0 ? 0 : z > 127 ? 127 : z;
    const __m256 iv = _mm256_set1_ps(inv);
    const __m256i zv = _mm256_set1_epi32(z), lo = _mm256_setzero_si256(), hi = _mm256_set1_epi32(127);
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
#define Q8(off)                                                                                              \
    _mm256_min_epi32(                                                                                        \
        _mm256_max_epi32(                                                                                    \
            _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + off), iv)), zv), lo),  \
        hi)
    for (i = 0; i + 32 <= n; i += 32) {
        __m256i p01 = _mm256_packs_epi32(Q8(0), Q8(8)), p23 = _mm256_packs_epi32(Q8(16), Q8(24));
        __m256i b = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(p01, p23), perm);
        _mm256_storeu_si256((__m256i *)(q + i), b);
    }
#undef Q8
    for (; i < n; i++) {
        int32_t v = (int32_t)nearbyintf(x[i] * inv) + z;
        q[i] = (uint8_t)(v < 0 ? 0 : v > 127 ? 127 : v);
    }
    memset(q + n, 0, n_pad - n);
    *scale = s;
    *zp = z;
}

static void a_softmax(float *x, uint32_t n) {
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 vm = ninf;
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(x + i));
    if (i < n) vm = _mm256_max_ps(vm, load_tail(x + i, n - i, -INFINITY));
    float mx = hmax(vm);
    if (mx == -INFINITY || isnan(mx)) {
        memset(x, 0, n * sizeof(float));
        return;
    }
    /* exp(-inf) is forced to 0 (exp8 clamps its input) */
    __m256 mv = _mm256_set1_ps(mx), sv = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 e = _mm256_and_ps(exp8(_mm256_sub_ps(v, mv)), _mm256_cmp_ps(v, ninf, _CMP_NEQ_OQ));
        _mm256_storeu_ps(x + i, e);
        sv = _mm256_add_ps(sv, e);
    }
    __m256 et = _mm256_setzero_ps();
    if (i < n) {
        __m256 v = load_tail(x + i, n - i, -INFINITY);
        et = _mm256_and_ps(exp8(_mm256_sub_ps(v, mv)), _mm256_cmp_ps(v, ninf, _CMP_NEQ_OQ));
        sv = _mm256_add_ps(sv, et);
    }
    __m256 inv = _mm256_set1_ps(1.0f / hsum(sv));
    for (uint32_t j = 0; j + 8 <= n; j += 8)
        _mm256_storeu_ps(x + j, _mm256_mul_ps(_mm256_loadu_ps(x + j), inv));
    if (i < n) store_tail(x + i, _mm256_mul_ps(et, inv), n - i);
}

/* Softmax over n (a multiple of 8, >= 8) aligned floats with at least one finite entry. */
static inline void softmax_padded(float *x, uint32_t n) {
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 vm = _mm256_load_ps(x);
    for (uint32_t i = 8; i < n; i += 8) vm = _mm256_max_ps(vm, _mm256_load_ps(x + i));
    __m256 mv = _mm256_set1_ps(hmax(vm)), sv = _mm256_setzero_ps();
    for (uint32_t i = 0; i < n; i += 8) {
        __m256 v = _mm256_load_ps(x + i);
        __m256 e = _mm256_and_ps(exp8(_mm256_sub_ps(v, mv)), _mm256_cmp_ps(v, ninf, _CMP_NEQ_OQ));
        _mm256_store_ps(x + i, e);
        sv = _mm256_add_ps(sv, e);
    }
    __m256 inv = _mm256_set1_ps(1.0f / hsum(sv));
    for (uint32_t i = 0; i < n; i += 8) _mm256_store_ps(x + i, _mm256_mul_ps(_mm256_load_ps(x + i), inv));
}

/* 8 x 8 block transposes; rows past `rows` read as zeros. */
static void a_transpose(const float *src, size_t lds, uint32_t rows, uint32_t cols, float *dst, size_t ldd) {
    const uint32_t c8 = cols & ~7u;
    for (uint32_t r0 = 0; r0 < rows; r0 += 8) {
        const uint32_t nr = rows - r0 < 8 ? rows - r0 : 8;
        for (uint32_t c0 = 0; c0 < c8; c0 += 8) {
            __m256 x[8];
            for (uint32_t i = 0; i < 8; i++)
                x[i] = i < nr ? _mm256_loadu_ps(src + (size_t)(r0 + i) * lds + c0) : _mm256_setzero_ps();
            __m256 t0 = _mm256_unpacklo_ps(x[0], x[1]), t1 = _mm256_unpackhi_ps(x[0], x[1]);
            __m256 t2 = _mm256_unpacklo_ps(x[2], x[3]), t3 = _mm256_unpackhi_ps(x[2], x[3]);
            __m256 t4 = _mm256_unpacklo_ps(x[4], x[5]), t5 = _mm256_unpackhi_ps(x[4], x[5]);
            __m256 t6 = _mm256_unpacklo_ps(x[6], x[7]), t7 = _mm256_unpackhi_ps(x[6], x[7]);
            __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
            __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
            float *d = dst + (size_t)c0 * ldd + r0;
            _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
            _mm256_storeu_ps(d + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
            _mm256_storeu_ps(d + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
            _mm256_storeu_ps(d + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
            _mm256_storeu_ps(d + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
            _mm256_storeu_ps(d + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
            _mm256_storeu_ps(d + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
            _mm256_storeu_ps(d + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
        }
        for (uint32_t c = c8; c < cols; c++)
            for (uint32_t i = 0; i < 8; i++)
                dst[(size_t)c * ldd + r0 + i] = i < nr ? src[(size_t)(r0 + i) * lds + c] : 0.0f;
    }
}

/* Attention for one (sequence, head), four query rows at a time (eight independent FMA
 * chains, each K / V load used four times). Keys come transposed (kt, [dh][Tp]) so that
 * scores are 8-wide FMAs over keys; context rows are 8-wide FMAs over the head dimension
 * straight from the V rows (lanes past dh are computed and dropped). */
#define ATT_ROWS(X) X(0) X(1) X(2) X(3)
static void a_attn(const kz_nn_attn *at) {
    const uint32_t T = at->T, dh = at->dh, Tp = (T + 7) & ~7u;
    float *s = at->scratch;
    const __m256 scale = _mm256_set1_ps(at->scale), ninf = _mm256_set1_ps(-INFINITY),
                 tv = _mm256_set1_ps((float)T);
    for (uint32_t i0 = 0; i0 < T; i0 += 4) {
        const uint32_t r = T - i0 < 4 ? T - i0 : 4;
        /* rows past T repeat the last real row; their results are not stored */
        const float *q0 = at->q + (size_t)i0 * at->ld, *q1 = at->q + (size_t)(i0 + (r > 1)) * at->ld;
        const float *q2 = at->q + (size_t)(i0 + (r > 2) * 2) * at->ld,
                    *q3 = at->q + (size_t)(i0 + (r > 3) * 3) * at->ld;
        /* scores: 4 rows x 16 keys per pass */
        for (uint32_t j0 = 0; j0 < Tp; j0 += 16) {
            const bool two = j0 + 8 < Tp;
#define ATT_DECL(R) __m256 sa##R = _mm256_setzero_ps(), sb##R = _mm256_setzero_ps();
            ATT_ROWS(ATT_DECL)
            for (uint32_t d = 0; d < dh; d++) {
                const float *kr = at->kt + (size_t)d * at->ldkt + j0;
                __m256 k0 = _mm256_loadu_ps(kr), k1 = two ? _mm256_loadu_ps(kr + 8) : _mm256_setzero_ps();
#define ATT_S(R)                                                                                             \
    {                                                                                                        \
        __m256 qv = _mm256_broadcast_ss(q##R + d);                                                           \
        sa##R = _mm256_fmadd_ps(qv, k0, sa##R);                                                              \
        sb##R = _mm256_fmadd_ps(qv, k1, sb##R);                                                              \
    }
                ATT_ROWS(ATT_S)
            }
            /* keys past T (zero columns of kt) become -inf */
            const __m256 lane = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
            const __m256 ma = _mm256_cmp_ps(_mm256_add_ps(lane, _mm256_set1_ps((float)j0)), tv, _CMP_LT_OQ);
            const __m256 mb =
                _mm256_cmp_ps(_mm256_add_ps(lane, _mm256_set1_ps((float)(j0 + 8))), tv, _CMP_LT_OQ);
#define ATT_ST(R)                                                                                            \
    _mm256_store_ps(s + R * (size_t)Tp + j0, _mm256_blendv_ps(ninf, _mm256_mul_ps(sa##R, scale), ma));       \
    if (two)                                                                                                 \
        _mm256_store_ps(s + R * (size_t)Tp + j0 + 8, _mm256_blendv_ps(ninf, _mm256_mul_ps(sb##R, scale), mb));
            ATT_ROWS(ATT_ST)
        }
        for (uint32_t rr = 0; rr < r; rr++) softmax_padded(s + rr * (size_t)Tp, Tp);
        /* context: 4 rows x 16 head dimensions per pass */
        for (uint32_t d0 = 0; d0 < dh; d0 += 16) {
            const bool two = d0 + 8 < dh;
#define ATT_DECL2(R) __m256 oa##R = _mm256_setzero_ps(), ob##R = _mm256_setzero_ps();
            ATT_ROWS(ATT_DECL2)
            for (uint32_t j = 0; j < T; j++) {
                const float *vr = at->v + (size_t)j * at->ld + d0;
                __m256 v0 = _mm256_loadu_ps(vr), v1 = two ? _mm256_loadu_ps(vr + 8) : _mm256_setzero_ps();
#define ATT_O(R)                                                                                             \
    {                                                                                                        \
        __m256 pv = _mm256_broadcast_ss(s + R * (size_t)Tp + j);                                             \
        oa##R = _mm256_fmadd_ps(pv, v0, oa##R);                                                              \
        ob##R = _mm256_fmadd_ps(pv, v1, ob##R);                                                              \
    }
                ATT_ROWS(ATT_O)
            }
            __m256 ov[4][2] = {{oa0, ob0}, {oa1, ob1}, {oa2, ob2}, {oa3, ob3}};
            for (uint32_t rr = 0; rr < r; rr++) {
                float *o = at->ctx + (size_t)(i0 + rr) * at->ldc;
                for (uint32_t h = 0; h < 2; h++) {
                    uint32_t d = d0 + 8 * h;
                    if (d + 8 <= dh)
                        _mm256_storeu_ps(o + d, ov[rr][h]);
                    else if (d < dh)
                        store_tail(o + d, ov[rr][h], dh - d);
                }
            }
        }
    }
}
#undef ATT_DECL
#undef ATT_S
#undef ATT_ST
#undef ATT_DECL2
#undef ATT_O
#undef ATT_ROWS

AINL void map8(const float *x, float *y, size_t n, const int op) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        v = op == 0 ? gelu8(v) : op == 1 ? gelu_tanh8(v) : op == 2 ? erf8(v) : exp8(v);
        _mm256_storeu_ps(y + i, v);
    }
    if (i < n) {
        __m256 v = load_tail(x + i, (uint32_t)(n - i), 0.0f);
        v = op == 0 ? gelu8(v) : op == 1 ? gelu_tanh8(v) : op == 2 ? erf8(v) : exp8(v);
        store_tail(y + i, v, (uint32_t)(n - i));
    }
}
static void a_gelu(float *x, size_t n) { map8(x, x, n, 0); }
static void a_gelu_tanh(float *x, size_t n) { map8(x, x, n, 1); }
static void a_erf(const float *x, float *y, size_t n) { map8(x, y, n, 2); }
static void a_exp(const float *x, float *y, size_t n) { map8(x, y, n, 3); }

static const kz_nn_kern g_avx2 = {
    .name = "avx2",
    .gemm_f32 = a_gemm_f32,
    .gemm_bf16 = a_gemm_bf16,
    .gemm_s8 = a_gemm_s8,
    .add_ln = a_add_ln,
    .epi_f32 = a_epi_f32,
    .epi_s32 = a_epi_s32,
    .quant_u7 = a_quant_u7,
    .attn = a_attn,
    .transpose = a_transpose,
    .gelu = a_gelu,
    .gelu_tanh = a_gelu_tanh,
    .erf = a_erf,
    .exp = a_exp,
    .softmax = a_softmax,
};

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif /* x86-64 */

const kz_nn_kern *kz__nn_kern_avx2(void) {
#ifdef KZ_AVX2_BUILD
    if (kz__nn_cpu_features() & KZ_CPU_AVX2) return &g_avx2;
#endif
    return NULL;
}
