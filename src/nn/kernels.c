/* Portable C kernels of the BERT engine, CPU feature detection, weight packing and the
 * thread fan-out. The AVX2 table (kernels_avx2.c) uses the same packed layouts. */
#include <cpuid.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "kernels_int.h"

/* ---- CPU features -------------------------------------------------------------- */
static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static unsigned detect_features(void) {
    unsigned a, b, c, d, f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28), f16c = c & (1u << 29);
    if (!osxsave || !avx) return 0;
    uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0; /* OS does not save ymm state */
    bool zmm_os = (xcr0 & 0xe0) == 0xe0;
    if (f16c) f |= KZ_CPU_F16C;
    if (__get_cpuid_max(0, NULL) < 7) return f;
    __cpuid_count(7, 0, a, b, c, d);
    if ((b & (1u << 5)) && fma) f |= KZ_CPU_AVX2;
    if (zmm_os && (b & (1u << 16))) f |= KZ_CPU_AVX512F;
    if (zmm_os && (b & (1u << 30))) f |= KZ_CPU_AVX512BW;
    if (zmm_os && (c & (1u << 11))) f |= KZ_CPU_AVX512VNNI;
    unsigned max_sub = a;
    if (max_sub >= 1) {
        __cpuid_count(7, 1, a, b, c, d);
        if (a & (1u << 4)) f |= KZ_CPU_AVXVNNI;
        if (zmm_os && (a & (1u << 5))) f |= KZ_CPU_AVX512BF16;
    }
    return f;
}

static unsigned g_features;
static pthread_once_t g_features_once = PTHREAD_ONCE_INIT;
static void features_init(void) { g_features = detect_features(); }
unsigned kz__nn_cpu_features(void) {
    pthread_once(&g_features_once, features_init);
    return g_features;
}

bool kz__nn_force_portable(void) {
    const char *s = getenv("KZ_NN_FORCE_PORTABLE");
    return s && *s && strcmp(s, "0") != 0;
}

const kz_nn_kern *kz__nn_kern_best(void) {
    const kz_nn_kern *k = kz__nn_force_portable() ? NULL : kz__nn_kern_avx2();
    return k ? k : kz__nn_kern_portable();
}

/* ---- memory --------------------------------------------------------------------- */
void *kz__nn_alloc(size_t n) {
    void *p = NULL;
    if (n > SIZE_MAX - 64) return NULL;
    if (posix_memalign(&p, 64, n ? (n + 63) & ~(size_t)63 : 64)) return NULL;
    return p;
}
void kz__nn_free(void *p) { free(p); }

/* ---- oneDNN's OpenMP runtime: per-call thread count ------------------------------- */
static void (*g_omp_set_num_threads)(int);
static int (*g_omp_get_max_threads)(void);
static pthread_once_t g_omp_once = PTHREAD_ONCE_INIT;

static void omp_resolve(void) {
    /* dlsym returns void *; the union keeps the function-pointer conversion well defined. */
    union {
        void *p;
        int (*geti)(void);
        void (*seti)(int);
    } u;
    u.p = dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    g_omp_set_num_threads = u.p ? u.seti : NULL;
    u.p = dlsym(RTLD_DEFAULT, "omp_get_max_threads");
    g_omp_get_max_threads = u.p ? u.geti : NULL;
}

int kz__nn_omp_set_threads(int threads) {
    pthread_once(&g_omp_once, omp_resolve);
    if (!g_omp_set_num_threads || !g_omp_get_max_threads) return 0;
    int old = g_omp_get_max_threads();
    if (threads > 0) g_omp_set_num_threads(threads);
    return old;
}

/* ---- a small thread pool for the own kernels -------------------------------------
 * Workers spin briefly for the next job and then sleep on a condition variable, so an
 * idle pool costs nothing on a busy machine (OpenMP's default spinning made 2-thread runs
 * 30x slower here when other processes competed for the two vCPUs). */
enum { KZ_POOL_SPIN = 2000 };

struct kz_nn_pool {
    int nworkers;
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    _Atomic uint64_t gen;
    _Atomic uint32_t next, active;
    kz_nn_task fn;
    void *arg;
    uint32_t ntask;
    bool quit;
};

typedef struct pool_worker_arg {
    kz_nn_pool *p;
    uint32_t id;
} pool_worker_arg;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("pause");
#endif
}

static void pool_run_tasks(kz_nn_pool *p, uint32_t id) {
    for (;;) {
        uint32_t i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (i >= p->ntask) break;
        p->fn(p->arg, i, id);
    }
}

static void *pool_worker(void *v) {
    pool_worker_arg wa = *(pool_worker_arg *)v;
    free(v);
    kz_nn_pool *p = wa.p;
    uint64_t seen = 0;
    for (;;) {
        uint64_t g = seen;
        for (int s = 0; s < KZ_POOL_SPIN && (g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen;
             s++)
            cpu_relax();
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while ((g = atomic_load(&p->gen)) == seen && !p->quit) pthread_cond_wait(&p->cv_work, &p->mu);
            bool quit = p->quit;
            pthread_mutex_unlock(&p->mu);
            if (quit) return NULL;
        }
        seen = g;
        pool_run_tasks(p, wa.id);
        if (atomic_fetch_sub_explicit(&p->active, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->cv_done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

kz_nn_pool *kz__nn_pool_new(int threads) {
    if (threads <= 1) return NULL;
    kz_nn_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->tid = calloc((size_t)threads - 1, sizeof *p->tid);
    if (!p->tid || pthread_mutex_init(&p->mu, NULL)) {
        free(p->tid);
        free(p);
        return NULL;
    }
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    for (int i = 0; i < threads - 1; i++) {
        pool_worker_arg *wa = malloc(sizeof *wa);
        if (!wa) break;
        wa->p = p;
        wa->id = (uint32_t)i + 1;
        if (pthread_create(&p->tid[i], NULL, pool_worker, wa)) {
            free(wa);
            break;
        }
        p->nworkers++;
    }
    return p;
}

void kz__nn_pool_free(kz_nn_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nworkers; i++) pthread_join(p->tid[i], NULL);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
    pthread_mutex_destroy(&p->mu);
    free(p->tid);
    free(p);
}

int kz__nn_pool_threads(const kz_nn_pool *p) { return p ? p->nworkers + 1 : 1; }

void kz__nn_parallel(kz_nn_pool *p, uint32_t n, kz_nn_task fn, void *arg) {
    if (!p || p->nworkers == 0 || n < 2) {
        for (uint32_t i = 0; i < n; i++) fn(arg, i, 0);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->ntask = n;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    atomic_store_explicit(&p->active, (uint32_t)p->nworkers, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    pool_run_tasks(p, 0);
    for (int s = 0; s < KZ_POOL_SPIN && atomic_load_explicit(&p->active, memory_order_acquire); s++)
        cpu_relax();
    if (atomic_load_explicit(&p->active, memory_order_acquire)) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->active)) pthread_cond_wait(&p->cv_done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

/* ---- packing --------------------------------------------------------------------- */
float kz__nn_quant_row_s8(const float *w, uint32_t k, int8_t *q) {
    float mx = 0.0f;
    for (uint32_t i = 0; i < k; i++) {
        float a = w[i] < 0.0f ? -w[i] : w[i];
        mx = a > mx ? a : mx;
    }
    if (!(mx > 0.0f) || !isfinite(mx)) {
        memset(q, 0, k);
        return 0.0f;
    }
    float s = mx / 127.0f, inv = 127.0f / mx;
    for (uint32_t i = 0; i < k; i++) {
        float v = nearbyintf(w[i] * inv);
        q[i] = (int8_t)(v > 127.0f ? 127 : v < -127.0f ? -127 : (int)v);
    }
    return s;
}

void kz__nn_packed_free(kz_nn_packed *p) {
    if (!p) return;
    kz__nn_free(p->w);
    kz__nn_free(p->bias);
    kz__nn_free(p->wscale);
    kz__nn_free(p->colsum);
    memset(p, 0, sizeof *p);
}

int kz__nn_pack(const kz_nn_src *src, size_t nsrc, uint32_t k, kz_nn_wfmt fmt, kz_nn_packed *out) {
    memset(out, 0, sizeof *out);
    uint64_t n = 0;
    for (size_t s = 0; s < nsrc; s++) n += src[s].n;
    if (n == 0 || k == 0 || n > (1u << 24) || k > (1u << 24)) return KZ_EINVAL;
    const uint32_t NR = KZ_NN_NR;
    out->fmt = fmt;
    out->n = (uint32_t)n;
    out->k = k;
    out->n_pad = (uint32_t)((n + NR - 1) / NR * NR);
    out->k_pad = fmt == KZ_NN_W_S8 ? (k + 3u) & ~3u : k;
    size_t esz = fmt == KZ_NN_W_F32 ? 4 : fmt == KZ_NN_W_BF16 ? 2 : 1;
    size_t wbytes = (size_t)out->n_pad * out->k_pad * esz;
    out->w = kz__nn_alloc(wbytes);
    out->bias = kz__nn_alloc((size_t)out->n_pad * sizeof(float));
    if (fmt == KZ_NN_W_S8) {
        out->wscale = kz__nn_alloc((size_t)out->n_pad * sizeof(float));
        out->colsum = kz__nn_alloc((size_t)out->n_pad * sizeof(int32_t));
    }
    int8_t *qrow = fmt == KZ_NN_W_S8 ? malloc(k) : NULL;
    if (!out->w || !out->bias || (fmt == KZ_NN_W_S8 && (!out->wscale || !out->colsum || !qrow))) {
        free(qrow);
        kz__nn_packed_free(out);
        return KZ_ENOMEM;
    }
    memset(out->w, 0, wbytes);
    memset(out->bias, 0, (size_t)out->n_pad * sizeof(float));
    if (fmt == KZ_NN_W_S8) {
        memset(out->wscale, 0, (size_t)out->n_pad * sizeof(float));
        memset(out->colsum, 0, (size_t)out->n_pad * sizeof(int32_t));
    }
    uint32_t j = 0; /* output column across the stacked sources */
    for (size_t s = 0; s < nsrc; s++) {
        for (uint32_t r = 0; r < src[s].n; r++, j++) {
            const float *wr = src[s].w ? src[s].w + (size_t)r * k : NULL;
            out->bias[j] = src[s].b ? src[s].b[r] : 0.0f;
            size_t panel = j / NR, col = j % NR;
            if (fmt == KZ_NN_W_F32) {
                float *dst = (float *)out->w + panel * k * NR + col;
                for (uint32_t i = 0; i < k; i++) dst[(size_t)i * NR] = wr[i];
            } else if (fmt == KZ_NN_W_BF16) {
                uint16_t *dst = (uint16_t *)out->w + panel * k * NR + col;
                const uint16_t *hb = src[s].w_bf16 ? src[s].w_bf16 + (size_t)r * k : NULL;
                for (uint32_t i = 0; i < k; i++) dst[(size_t)i * NR] = hb ? hb[i] : kz__f32_to_bf16(wr[i]);
            } else {
                const int8_t *q;
                float sc;
                if (src[s].w_q8 && src[s].w_q8_scale) {
                    q = src[s].w_q8 + (size_t)r * k;
                    sc = src[s].w_q8_scale[r];
                } else {
                    sc = kz__nn_quant_row_s8(wr, k, qrow);
                    q = qrow;
                }
                int8_t *dst = (int8_t *)out->w + panel * out->k_pad * NR + col * 4;
                int32_t sum = 0;
                for (uint32_t i = 0; i < k; i++) {
                    dst[(size_t)(i / 4) * NR * 4 + i % 4] = q[i];
                    sum += q[i];
                }
                out->wscale[j] = sc;
                out->colsum[j] = sum;
            }
        }
    }
    free(qrow);
    return 0;
}

size_t kz__nn_attn_scratch(uint32_t T, uint32_t dh) {
    (void)dh;
    size_t Tp = ((size_t)T + 7) & ~(size_t)7;
    return 4 * Tp + 16;
}

/* ---- portable kernels -------------------------------------------------------------- */
static inline float gelu1(float x) { return 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2)); }
static inline float gelu_tanh1(float x) {
    const float c = 0.7978845608028654f; /* sqrt(2/pi) */
    return 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x)));
}
static inline float epi1(float x, kz_nn_epi e) {
    switch (e) {
    case KZ_NN_EPI_GELU: return gelu1(x);
    case KZ_NN_EPI_GELU_TANH: return gelu_tanh1(x);
    case KZ_NN_EPI_RELU: return x > 0.0f ? x : 0.0f;
    default: return x;
    }
}

static void p_gemm_f32(const kz_nn_gemm *g) {
    const kz_nn_packed *w = g->w;
    const uint32_t NR = KZ_NN_NR, k = w->k;
    uint32_t p1 = g->p1 ? g->p1 : w->n_pad / NR;
    for (uint32_t p = g->p0; p < p1; p++) {
        const float *bp = (const float *)w->w + (size_t)p * k * NR;
        uint32_t nc = w->n - p * NR < NR ? w->n - p * NR : NR;
        for (uint32_t m = 0; m < g->rows; m++) {
            float acc[KZ_NN_NR];
            memcpy(acc, w->bias + (size_t)p * NR, sizeof acc);
            const float *a = g->a + (size_t)m * g->lda;
            for (uint32_t i = 0; i < k; i++) {
                float av = a[i];
                const float *b = bp + (size_t)i * NR;
                for (uint32_t j = 0; j < NR; j++) acc[j] += av * b[j];
            }
            float *c = g->c + (size_t)m * g->ldc + (size_t)p * NR;
            for (uint32_t j = 0; j < nc; j++) c[j] = epi1(acc[j], g->epi);
        }
    }
}

static void p_gemm_bf16(const kz_nn_gemm *g) {
    const kz_nn_packed *w = g->w;
    const uint32_t NR = KZ_NN_NR, k = w->k;
    uint32_t p1 = g->p1 ? g->p1 : w->n_pad / NR;
    for (uint32_t p = g->p0; p < p1; p++) {
        const uint16_t *bp = (const uint16_t *)w->w + (size_t)p * k * NR;
        uint32_t nc = w->n - p * NR < NR ? w->n - p * NR : NR;
        for (uint32_t m = 0; m < g->rows; m++) {
            float acc[KZ_NN_NR];
            memcpy(acc, w->bias + (size_t)p * NR, sizeof acc);
            const float *a = g->a + (size_t)m * g->lda;
            for (uint32_t i = 0; i < k; i++) {
                float av = a[i];
                const uint16_t *b = bp + (size_t)i * NR;
                for (uint32_t j = 0; j < NR; j++) acc[j] += av * kz__bf16_to_f32(b[j]);
            }
            float *c = g->c + (size_t)m * g->ldc + (size_t)p * NR;
            for (uint32_t j = 0; j < nc; j++) c[j] = epi1(acc[j], g->epi);
        }
    }
}

static void p_gemm_s8(const kz_nn_gemm *g) {
    const kz_nn_packed *w = g->w;
    const uint32_t NR = KZ_NN_NR, kg = w->k_pad / 4;
    uint32_t p1 = g->p1 ? g->p1 : w->n_pad / NR;
    for (uint32_t p = g->p0; p < p1; p++) {
        const int8_t *bp = (const int8_t *)w->w + (size_t)p * w->k_pad * NR;
        uint32_t nc = w->n - p * NR < NR ? w->n - p * NR : NR;
        for (uint32_t m = 0; m < g->rows; m++) {
            int32_t acc[KZ_NN_NR] = {0};
            const uint8_t *a = g->aq + (size_t)m * g->ldaq;
            for (uint32_t q = 0; q < kg; q++) {
                const int8_t *b = bp + (size_t)q * NR * 4;
                int32_t a0 = a[4 * q], a1 = a[4 * q + 1], a2 = a[4 * q + 2], a3 = a[4 * q + 3];
                for (uint32_t j = 0; j < NR; j++)
                    acc[j] += a0 * b[4 * j] + a1 * b[4 * j + 1] + a2 * b[4 * j + 2] + a3 * b[4 * j + 3];
            }
            float *c = g->c + (size_t)m * g->ldc + (size_t)p * NR;
            float as = g->ascale[m];
            int32_t zp = g->azp[m];
            for (uint32_t j = 0; j < nc; j++) {
                size_t col = (size_t)p * NR + j;
                float v = (float)(acc[j] - zp * w->colsum[col]) * (as * w->wscale[col]) + w->bias[col];
                c[j] = epi1(v, g->epi);
            }
        }
    }
}

static void p_add_ln(float *x, const float *res, uint32_t n, const float *g, const float *b, float eps) {
    float sum = 0.0f;
    for (uint32_t i = 0; i < n; i++) {
        if (res) x[i] += res[i];
        sum += x[i];
    }
    float mean = sum / (float)n, var = 0.0f;
    for (uint32_t i = 0; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
    float rstd = 1.0f / sqrtf(var / (float)n + eps);
    for (uint32_t i = 0; i < n; i++) x[i] = (x[i] - mean) * rstd * g[i] + b[i];
}

static void p_epi_f32(float *c, size_t ldc, uint32_t rows, const kz_nn_packed *w, kz_nn_epi epi) {
    for (uint32_t m = 0; m < rows; m++)
        for (uint32_t j = 0; j < w->n; j++) c[m * ldc + j] = epi1(c[m * ldc + j] + w->bias[j], epi);
}

static void p_epi_s32(const int32_t *acc, size_t ldacc, float *c, size_t ldc, uint32_t rows,
                      const float *ascale, const int32_t *azp, const kz_nn_packed *w, kz_nn_epi epi) {
    for (uint32_t m = 0; m < rows; m++)
        for (uint32_t j = 0; j < w->n; j++) {
            float v =
                (float)(acc[m * ldacc + j] - azp[m] * w->colsum[j]) * (ascale[m] * w->wscale[j]) + w->bias[j];
            c[m * ldc + j] = epi1(v, epi);
        }
}

static void p_quant_u7(const float *x, uint32_t n, uint32_t n_pad, uint8_t *q, float *scale, int32_t *zp) {
    float mn = 0.0f, mx = 0.0f;
    for (uint32_t i = 0; i < n; i++) {
        mn = x[i] < mn ? x[i] : mn;
        mx = x[i] > mx ? x[i] : mx;
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
    for (uint32_t i = 0; i < n; i++) {
        int32_t v = (int32_t)nearbyintf(x[i] * inv) + z;
        q[i] = (uint8_t)(v < 0 ? 0 : v > 127 ? 127 : v);
    }
    memset(q + n, 0, n_pad - n);
    *scale = s;
    *zp = z;
}

static void p_softmax(float *x, uint32_t n) {
    float mx = -INFINITY;
    for (uint32_t i = 0; i < n; i++) mx = fmaxf(mx, x[i]);
    if (mx == -INFINITY || isnan(mx)) {
        for (uint32_t i = 0; i < n; i++) x[i] = 0.0f;
        return;
    }
    float sum = 0.0f;
    for (uint32_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - mx);
        sum += x[i];
    }
    float inv = 1.0f / sum;
    for (uint32_t i = 0; i < n; i++) x[i] *= inv;
}

static void p_attn(const kz_nn_attn *a) {
    float *s = a->scratch;
    for (uint32_t i = 0; i < a->T; i++) {
        const float *q = a->q + (size_t)i * a->ld;
        for (uint32_t j = 0; j < a->T; j++) {
            const float *kr = a->k + (size_t)j * a->ld;
            float d = 0.0f;
            for (uint32_t t = 0; t < a->dh; t++) d += q[t] * kr[t];
            s[j] = d * a->scale;
        }
        p_softmax(s, a->T);
        float *o = a->ctx + (size_t)i * a->ldc;
        for (uint32_t t = 0; t < a->dh; t++) o[t] = 0.0f;
        for (uint32_t j = 0; j < a->T; j++) {
            const float *vr = a->v + (size_t)j * a->ld;
            for (uint32_t t = 0; t < a->dh; t++) o[t] += s[j] * vr[t];
        }
    }
}

static void p_transpose(const float *src, size_t lds, uint32_t rows, uint32_t cols, float *dst, size_t ldd) {
    uint32_t rp = (rows + 7) & ~7u;
    for (uint32_t c = 0; c < cols; c++) {
        for (uint32_t r = 0; r < rows; r++) dst[(size_t)c * ldd + r] = src[(size_t)r * lds + c];
        for (uint32_t r = rows; r < rp; r++) dst[(size_t)c * ldd + r] = 0.0f;
    }
}

static void p_gelu(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = gelu1(x[i]);
}
static void p_gelu_tanh(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = gelu_tanh1(x[i]);
}
static void p_erf(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = erff(x[i]);
}
static void p_exp(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = expf(x[i]);
}

static const kz_nn_kern g_portable = {
    .name = "portable",
    .gemm_f32 = p_gemm_f32,
    .gemm_bf16 = p_gemm_bf16,
    .gemm_s8 = p_gemm_s8,
    .add_ln = p_add_ln,
    .epi_f32 = p_epi_f32,
    .epi_s32 = p_epi_s32,
    .quant_u7 = p_quant_u7,
    .attn = p_attn,
    .transpose = p_transpose,
    .gelu = p_gelu,
    .gelu_tanh = p_gelu_tanh,
    .erf = p_erf,
    .exp = p_exp,
    .softmax = p_softmax,
};

const kz_nn_kern *kz__nn_kern_portable(void) { return &g_portable; }
