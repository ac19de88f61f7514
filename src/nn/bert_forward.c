/* The BERT encoder forward pass: the real tokens of all sequences are packed into one
 * M dimension (no GEMM work on padding), attention runs per (sequence, head) over real
 * tokens only, and bias / GELU / residual + LayerNorm / int8 quantisation are fused
 * into the GEMM epilogues or into one pass over each block of rows (docs/nn.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kernels_int.h"

enum { KZ_MB = 64 };                    /* rows per GEMM block for the own kernels */
#define KZ_MAX_TOKENS ((size_t)1 << 22) /* real tokens per forward call */

static size_t up(size_t x, size_t a) { return (x + a - 1) / a * a; }

/* Work split for kz__nn_parallel: up to 4 chunks per thread (dynamic balance on a busy
 * machine), 1 when single-threaded or when there are fewer than 2 items. */
static uint32_t chunks(size_t items, int threads) {
    if (threads <= 1 || items < 2) return 1;
    size_t c = (size_t)threads * 4;
    return (uint32_t)(items < c ? items : c);
}

static double mono_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
/* Adds the time since *t to stage s and restarts the clock (profiling contexts only). */
static void prof(kz_bert_ctx *c, int s, double *t) {
    if (!c->profile) return;
    double n = mono_s();
    c->prof[s] += n - *t;
    *t = n;
}

static int grow(void **p, size_t bytes) {
    kz__nn_free(*p);
    *p = kz__nn_alloc(bytes);
    return *p ? 0 : KZ_ENOMEM;
}

static int ensure(kz_bert_ctx *c, size_t rows, size_t T, size_t batch) {
    const kz_bert_engine *e = c->e;
    const size_t H = e->H, I = e->I;
    int rc = 0;
    if (rows > c->cap_rows) {
        size_t cap = rows < c->cap_rows * 3 / 2 ? c->cap_rows * 3 / 2 : rows;
        cap = up(cap, 16);
        c->kq1 = up(H, 32);
        c->kq2 = up(I, 32);
        size_t maxn = 3 * H > I ? 3 * H : I;
        rc |= grow((void **)&c->x, cap * H * sizeof(float));
        rc |= grow((void **)&c->x1, cap * H * sizeof(float));
        rc |= grow((void **)&c->cb, cap * H * sizeof(float));
        rc |= grow((void **)&c->qkv, (cap * 3 * H + 16) * sizeof(float)); /* +16: attention's V reads */
        rc |= grow((void **)&c->f, cap * I * sizeof(float));
        rc |= grow((void **)&c->logit, cap * (e->nl ? e->nl : 1) * sizeof(float));
        if (e->prec == KZ_PREC_INT8) {
            rc |= grow((void **)&c->q1, cap * c->kq1);
            rc |= grow((void **)&c->q2, cap * c->kq2);
            rc |= grow((void **)&c->s1, cap * sizeof(float));
            rc |= grow((void **)&c->s2, cap * sizeof(float));
            rc |= grow((void **)&c->z1, cap * sizeof(int32_t));
            rc |= grow((void **)&c->z2, cap * sizeof(int32_t));
            if (e->gemm == KZ_NN_GEMM_DNNL) rc |= grow((void **)&c->acc, cap * maxn * sizeof(int32_t));
        }
        if (rc) {
            kz__bert_ctx_release(c);
            return KZ_ENOMEM;
        }
        memset(c->qkv + cap * 3 * H, 0, 16 * sizeof(float));
        c->cap_rows = cap;
    }
    size_t ktn = H * (rows + 8 * batch);
    if (ktn > c->cap_kt) {
        if (grow((void **)&c->kt, ktn * sizeof(float))) {
            kz__bert_ctx_release(c);
            return KZ_ENOMEM;
        }
        c->cap_kt = ktn;
    }
    if (T > c->cap_T || !c->attn) {
        size_t slot = up(kz__nn_attn_scratch((uint32_t)T, e->dh), 16);
        if (grow((void **)&c->attn, slot * (size_t)e->threads * sizeof(float))) {
            kz__bert_ctx_release(c);
            return KZ_ENOMEM;
        }
        c->attn_slot = slot;
        c->cap_T = T;
    }
    if (batch + 1 > c->cap_batch) {
        if (grow((void **)&c->rows, (batch + 1) * sizeof(uint32_t)) ||
            grow((void **)&c->ktoff, (batch + 1) * sizeof(size_t))) {
            kz__bert_ctx_release(c);
            return KZ_ENOMEM;
        }
        c->cap_batch = batch + 1;
    }
    if (e->gemm == KZ_NN_GEMM_DNNL && !c->dnn_scratch_cap) {
        size_t need = 64;
        for (uint32_t i = 0; i < e->m->cfg.layers; i++) {
            const kz_eng_layer *L = &e->layers[i];
            const kz_eng_linear *ls[4] = {&L->qkv, &L->ao, &L->fi, &L->fo};
            for (int j = 0; j < 4; j++) need = ls[j]->dnn_scratch > need ? ls[j]->dnn_scratch : need;
        }
        if (grow(&c->dnn_scratch, need)) {
            kz__bert_ctx_release(c);
            return KZ_ENOMEM;
        }
        c->dnn_scratch_cap = need;
    }
    return 0;
}

/* ---- one linear layer over rows [r0, r0 + rows) with its row epilogue ------------ */
typedef struct lin_job {
    const kz_bert_engine *e;
    kz_bert_ctx *c;
    const kz_eng_linear *l;
    const float *a; /* fp32 input rows (fp32 / bf16 weights) */
    size_t lda;
    const uint8_t *aq; /* u7 input rows (int8 weights) */
    size_t ldaq;
    const float *as;
    const int32_t *az;
    float *out;
    size_t ldo;
    kz_nn_epi epi;
    const float *res, *g, *b; /* out = LN(out + res) when g */
    uint8_t *qo;              /* int8: quantise the final rows for the next GEMM */
    size_t ldqo;
    float *qs;
    int32_t *qz;
    uint32_t r0, rows;
    uint32_t npanel, nchunk;
} lin_job;

static void lin_gemm_task(void *arg, uint32_t i, uint32_t tid) {
    (void)tid;
    const lin_job *j = arg;
    uint32_t p0 = (uint32_t)((uint64_t)j->npanel * i / j->nchunk);
    uint32_t p1 = (uint32_t)((uint64_t)j->npanel * (i + 1) / j->nchunk);
    if (p0 == p1) return;
    kz_nn_gemm g = {.rows = j->rows,
                    .a = j->a ? j->a + (size_t)j->r0 * j->lda : NULL,
                    .lda = j->lda,
                    .aq = j->aq ? j->aq + (size_t)j->r0 * j->ldaq : NULL,
                    .ldaq = j->ldaq,
                    .ascale = j->as ? j->as + j->r0 : NULL,
                    .azp = j->az ? j->az + j->r0 : NULL,
                    .w = &j->l->pk,
                    .c = j->out + (size_t)j->r0 * j->ldo,
                    .ldc = j->ldo,
                    .epi = j->epi,
                    .p0 = p0,
                    .p1 = p1};
    const kz_nn_kern *k = j->e->k;
    if (j->l->pk.fmt == KZ_NN_W_S8)
        k->gemm_s8(&g);
    else if (j->l->pk.fmt == KZ_NN_W_BF16)
        k->gemm_bf16(&g);
    else
        k->gemm_f32(&g);
}

static void lin_post_task(void *arg, uint32_t i, uint32_t tid) {
    (void)tid;
    const lin_job *j = arg;
    uint32_t lo = j->r0 + (uint32_t)((uint64_t)j->rows * i / j->nchunk);
    uint32_t hi = j->r0 + (uint32_t)((uint64_t)j->rows * (i + 1) / j->nchunk);
    const kz_nn_kern *k = j->e->k;
    const uint32_t n = j->l->pk.n;
    const float eps = j->e->m->cfg.layer_norm_eps;
    for (uint32_t r = lo; r < hi; r++) {
        float *o = j->out + (size_t)r * j->ldo;
        if (j->g) k->add_ln(o, j->res ? j->res + (size_t)r * n : NULL, n, j->g, j->b, eps);
        if (j->qo) k->quant_u7(o, n, (uint32_t)j->ldqo, j->qo + (size_t)r * j->ldqo, j->qs + r, j->qz + r);
    }
}

/* Rows [rb, re) of one linear layer and its row epilogue. */
static int run_linear_rows(lin_job *j, uint32_t rb, uint32_t re, kz_error *err) {
    const kz_bert_engine *e = j->e;
    const uint32_t total = re - rb;
    const int threads = e->threads;
    const bool post = j->g || j->qo;
    if (j->l->dnn_prim) {
        bool int8 = e->prec == KZ_PREC_INT8;
        size_t n = j->l->pk.n;
        const void *src =
            int8 ? (const void *)(j->aq + (size_t)rb * j->ldaq) : (const void *)(j->a + (size_t)rb * j->lda);
        float *out = j->out + (size_t)rb * j->ldo;
        void *dst = int8 ? (void *)j->c->acc : (void *)out;
        int rc = kz__eng_dnn_exec(e, j->c->stream, j->l, src, int8 ? j->ldaq : j->lda, dst, int8 ? n : j->ldo,
                                  total, j->c->dnn_scratch);
        if (rc) return kz_error_set(err, rc, "oneDNN matmul execution failed");
        if (int8)
            e->k->epi_s32(j->c->acc, n, out, j->ldo, total, j->as + rb, j->az + rb, &j->l->pk, j->epi);
        else if (j->epi == KZ_NN_EPI_GELU && j->ldo == n)
            e->k->gelu(out, (size_t)total * n);
        else if (j->epi != KZ_NN_EPI_NONE) {
            /* bias already added by oneDNN: apply the activation alone */
            for (uint32_t r = 0; r < total; r++) {
                float *o = out + (size_t)r * j->ldo;
                if (j->epi == KZ_NN_EPI_GELU)
                    e->k->gelu(o, n);
                else if (j->epi == KZ_NN_EPI_GELU_TANH)
                    e->k->gelu_tanh(o, n);
                else
                    for (size_t t = 0; t < n; t++) o[t] = o[t] > 0.0f ? o[t] : 0.0f;
            }
        }
        if (post) {
            j->r0 = rb;
            j->rows = total;
            j->nchunk = chunks(total / 8, threads);
            kz__nn_parallel(j->c->pool, j->nchunk, lin_post_task, j);
        }
        return 0;
    }
    j->npanel = j->l->pk.n_pad / KZ_NN_NR;
    for (uint32_t r0 = rb; r0 < re; r0 += KZ_MB) {
        j->r0 = r0;
        j->rows = re - r0 < KZ_MB ? re - r0 : KZ_MB;
        j->nchunk = chunks(j->npanel, threads);
        if (j->nchunk <= 1)
            lin_gemm_task(j, 0, 0);
        else
            kz__nn_parallel(j->c->pool, j->nchunk, lin_gemm_task, j);
        if (post) {
            j->nchunk = chunks(j->rows / 8, threads);
            if (j->nchunk <= 1)
                lin_post_task(j, 0, 0);
            else
                kz__nn_parallel(j->c->pool, j->nchunk, lin_post_task, j);
        }
    }
    return 0;
}

static int run_linear(lin_job *j, uint32_t total, kz_error *err) { return run_linear_rows(j, 0, total, err); }

/* ---- attention over every (sequence, head) --------------------------------------- */
typedef struct attn_job {
    const kz_bert_engine *e;
    kz_bert_ctx *c;
    const int32_t *lens;
    uint32_t b0, batch, nchunk; /* sequences [b0, b0 + batch) */
} attn_job;

static void attn_task(void *arg, uint32_t i, uint32_t tid) {
    const attn_job *j = arg;
    const kz_bert_engine *e = j->e;
    kz_bert_ctx *c = j->c;
    const size_t H = e->H, ld = 3 * H;
    uint64_t n = (uint64_t)j->batch * e->heads;
    uint64_t lo = n * i / j->nchunk, hi = n * (i + 1) / j->nchunk;
    float *scratch = c->attn + (size_t)tid * c->attn_slot;
    const float scale = 1.0f / sqrtf((float)e->dh);
    for (uint64_t t = lo; t < hi; t++) {
        uint32_t b = j->b0 + (uint32_t)(t / e->heads), h = (uint32_t)(t % e->heads);
        uint32_t T = (uint32_t)j->lens[b];
        if (!T) continue;
        size_t r0 = c->rows[b];
        const float *base = c->qkv + r0 * ld + (size_t)h * e->dh;
        kz_nn_attn a = {.q = base,
                        .k = base + H,
                        .v = base + 2 * H,
                        .ld = ld,
                        .kt = c->kt + c->ktoff[b] + (size_t)h * e->dh * ((T + 7) & ~7u),
                        .ldkt = (T + 7) & ~7u,
                        .ctx = c->cb + r0 * H + (size_t)h * e->dh,
                        .ldc = H,
                        .T = T,
                        .dh = e->dh,
                        .scale = scale,
                        .scratch = scratch};
        e->k->attn(&a);
    }
}

/* Keys of each sequence transposed once for all heads: [H][round8(T)]. */
static void kt_task(void *arg, uint32_t i, uint32_t tid) {
    (void)tid;
    const attn_job *j = arg;
    const kz_bert_engine *e = j->e;
    kz_bert_ctx *c = j->c;
    const size_t H = e->H;
    uint32_t lo = (uint32_t)((uint64_t)j->batch * i / j->nchunk),
             hi = (uint32_t)((uint64_t)j->batch * (i + 1) / j->nchunk);
    for (uint32_t b = j->b0 + lo; b < j->b0 + hi; b++) {
        uint32_t T = (uint32_t)j->lens[b];
        if (T)
            e->k->transpose(c->qkv + (size_t)c->rows[b] * 3 * H + H, 3 * H, T, (uint32_t)H,
                            c->kt + c->ktoff[b], (T + 7) & ~7u);
    }
}

typedef struct quant_job {
    const kz_bert_engine *e;
    const float *x;
    size_t ldx, ldq;
    uint32_t n, rows, nchunk;
    uint8_t *q;
    float *s;
    int32_t *z;
} quant_job;

static void quant_task(void *arg, uint32_t i, uint32_t tid) {
    (void)tid;
    const quant_job *j = arg;
    uint32_t lo = (uint32_t)((uint64_t)j->rows * i / j->nchunk),
             hi = (uint32_t)((uint64_t)j->rows * (i + 1) / j->nchunk);
    for (uint32_t r = lo; r < hi; r++)
        j->e->k->quant_u7(j->x + (size_t)r * j->ldx, j->n, (uint32_t)j->ldq, j->q + (size_t)r * j->ldq,
                          j->s + r, j->z + r);
}

static void quant_rows(const kz_bert_engine *e, kz_nn_pool *pool, const float *x, size_t ldx, uint32_t n,
                       uint32_t rows, uint8_t *q, size_t ldq, float *s, int32_t *z) {
    quant_job j = {e, x, ldx, ldq, n, rows, chunks(rows / 8, e->threads), q, s, z};
    kz__nn_parallel(pool, j.nchunk, quant_task, &j);
}

static kz_nn_epi act_epi(kz_bert_act a) {
    return a == KZ_ACT_GELU_TANH ? KZ_NN_EPI_GELU_TANH : a == KZ_ACT_RELU ? KZ_NN_EPI_RELU : KZ_NN_EPI_GELU;
}

/* ---- the forward pass ----------------------------------------------------------- */
static int forward_packed(const kz_bert_engine *e, kz_bert_ctx *c, const kz_bert_batch *in, kz_bert_out *out,
                          size_t total, uint32_t maxT, kz_error *err);

int kz_bert_forward(const kz_bert_engine *e, kz_bert_ctx *c, const kz_bert_batch *in, kz_bert_out *out,
                    kz_error *err) {
    if (!e || !c || !in || !out) return kz_error_set(err, KZ_EINVAL, "kz_bert_forward: NULL argument");
    if (c->e != e) return kz_error_set(err, KZ_EINVAL, "kz_bert_forward: context belongs to another engine");
    if (in->batch == 0) return 0;
    if (!in->ids || !in->lens || in->stride == 0)
        return kz_error_set(err, KZ_EINVAL, "kz_bert_forward: batch without ids, lens or stride");
    const kz_bert *m = e->m;
    const kz_bert_config *cfg = &m->cfg;
    const uint32_t H = e->H, B = in->batch;
    size_t total = 0;
    uint32_t maxT = 0;
    for (uint32_t b = 0; b < B; b++) {
        int32_t len = in->lens[b];
        if (len < 0 || (uint32_t)len > in->stride)
            return kz_error_set(err, KZ_EINVAL, "lens[%u] = %d outside [0, stride %u]", b, len, in->stride);
        if ((uint32_t)len > cfg->max_positions)
            return kz_error_set(err, KZ_EINVAL, "lens[%u] = %d exceeds max_positions %u", b, len,
                                cfg->max_positions);
        total += (size_t)len;
        maxT = (uint32_t)len > maxT ? (uint32_t)len : maxT;
        const int32_t *ids = in->ids + (size_t)b * in->stride;
        const int32_t *tt = in->type_ids ? in->type_ids + (size_t)b * in->stride : NULL;
        for (int32_t t = 0; t < len; t++) {
            if (ids[t] < 0 || (uint32_t)ids[t] >= cfg->vocab_size)
                return kz_error_set(err, KZ_EINVAL, "ids[%u][%d] = %d outside the vocabulary (%u)", b, t,
                                    ids[t], cfg->vocab_size);
            if (tt && (tt[t] < 0 || (uint32_t)tt[t] >= cfg->type_vocab))
                return kz_error_set(err, KZ_EINVAL, "type_ids[%u][%d] = %d outside [0, %u)", b, t, tt[t],
                                    cfg->type_vocab);
        }
        if (total > KZ_MAX_TOKENS)
            return kz_error_set(err, KZ_ELIMIT, "more than %zu tokens in one forward call", KZ_MAX_TOKENS);
    }
    if (out->pooled) memset(out->pooled, 0, (size_t)B * H * sizeof(float));
    if (total == 0) return 0;
    if (ensure(c, total, maxT, B)) return kz_error_set(err, KZ_ENOMEM, "out of memory for %zu tokens", total);
    int omp_saved = e->gemm == KZ_NN_GEMM_DNNL ? kz__nn_omp_set_threads(e->threads) : 0;
    int rc = forward_packed(e, c, in, out, total, maxT, err);
    if (omp_saved > 0) kz__nn_omp_set_threads(omp_saved);
    return rc;
}

static int forward_packed(const kz_bert_engine *e, kz_bert_ctx *c, const kz_bert_batch *in, kz_bert_out *out,
                          size_t total, uint32_t maxT, kz_error *err) {
    const kz_bert *m = e->m;
    const kz_bert_config *cfg = &m->cfg;
    const uint32_t H = e->H, B = in->batch;
    (void)maxT;

    const kz_nn_kern *k = e->k;
    const bool int8 = e->prec == KZ_PREC_INT8;
    const uint32_t M = (uint32_t)total;
    double pt = c->profile ? mono_s() : 0.0;
    /* embeddings: word + position + token type, LayerNorm */
    uint32_t r = 0;
    size_t ko = 0;
    for (uint32_t b = 0; b < B; b++) {
        c->rows[b] = r;
        c->ktoff[b] = ko;
        ko += (size_t)H * (((uint32_t)in->lens[b] + 7) & ~7u);
        const int32_t *ids = in->ids + (size_t)b * in->stride;
        const int32_t *tt = in->type_ids ? in->type_ids + (size_t)b * in->stride : NULL;
        for (int32_t t = 0; t < in->lens[b]; t++, r++) {
            float *x = c->x + (size_t)r * H;
            const float *we = m->word_emb + (size_t)ids[t] * H, *pe = m->pos_emb + (size_t)t * H;
            const float *te = m->type_emb + (size_t)(tt ? tt[t] : 0) * H;
            for (uint32_t i = 0; i < H; i++) x[i] = we[i] + pe[i] + te[i];
            k->add_ln(x, NULL, H, m->emb_ln_g, m->emb_ln_b, cfg->layer_norm_eps);
        }
    }
    c->rows[B] = r;
    if (int8) quant_rows(e, c->pool, c->x, H, H, M, c->q1, c->kq1, c->s1, c->z1);
    prof(c, KZ_PROF_EMBED, &pt);

    const kz_nn_epi act = act_epi(cfg->act);
    for (uint32_t l = 0; l < cfg->layers; l++) {
        const kz_eng_layer *L = &e->layers[l];
        int rc;
        /* fused Q/K/V projection and attention, a group of whole sequences (<= KZ_MB rows,
         * or one longer sequence) at a time so that its Q/K/V rows are still in cache */
        for (uint32_t b0 = 0, b1; b0 < B; b0 = b1) {
            b1 = b0 + 1;
            while (b1 < B && c->rows[b1 + 1] - c->rows[b0] <= KZ_MB) b1++;
            uint32_t rb = c->rows[b0], re = c->rows[b1];
            if (rb == re) continue;
            lin_job j = {.e = e, .c = c, .l = &L->qkv, .out = c->qkv, .ldo = 3 * (size_t)H};
            if (int8)
                j.aq = c->q1, j.ldaq = c->kq1, j.as = c->s1, j.az = c->z1;
            else
                j.a = c->x, j.lda = H;
            if ((rc = run_linear_rows(&j, rb, re, err))) return rc;
            prof(c, KZ_PROF_QKV, &pt);
            attn_job aj = {e, c, in->lens, b0, b1 - b0, 1};
            aj.nchunk = chunks(b1 - b0, e->threads);
            kz__nn_parallel(c->pool, aj.nchunk, kt_task, &aj);
            aj.nchunk = chunks((b1 - b0) * e->heads, e->threads);
            kz__nn_parallel(c->pool, aj.nchunk, attn_task, &aj);
            if (int8)
                quant_rows(e, c->pool, c->cb + (size_t)rb * H, H, H, re - rb, c->q1 + (size_t)rb * c->kq1,
                           c->kq1, c->s1 + rb, c->z1 + rb);
            prof(c, KZ_PROF_ATTN, &pt);
        }
        lin_job j;
        /* attention output projection + residual + LayerNorm */
        j = (lin_job){
            .e = e, .c = c, .l = &L->ao, .out = c->x1, .ldo = H, .res = c->x, .g = L->ln1_g, .b = L->ln1_b};
        if (int8) {
            j.aq = c->q1, j.ldaq = c->kq1, j.as = c->s1, j.az = c->z1;
            j.qo = c->q1, j.ldqo = c->kq1, j.qs = c->s1, j.qz = c->z1;
        } else {
            j.a = c->cb, j.lda = H;
        }
        if ((rc = run_linear(&j, M, err))) return rc;
        prof(c, KZ_PROF_AO, &pt);
        /* FFN in + bias + GELU */
        j = (lin_job){.e = e, .c = c, .l = &L->fi, .out = c->f, .ldo = e->I, .epi = act};
        if (int8) {
            j.aq = c->q1, j.ldaq = c->kq1, j.as = c->s1, j.az = c->z1;
            j.qo = c->q2, j.ldqo = c->kq2, j.qs = c->s2, j.qz = c->z2;
        } else {
            j.a = c->x1, j.lda = H;
        }
        if ((rc = run_linear(&j, M, err))) return rc;
        prof(c, KZ_PROF_FI, &pt);
        /* FFN out + residual + LayerNorm */
        j = (lin_job){
            .e = e, .c = c, .l = &L->fo, .out = c->x, .ldo = H, .res = c->x1, .g = L->ln2_g, .b = L->ln2_b};
        if (int8) {
            j.aq = c->q2, j.ldaq = c->kq2, j.as = c->s2, j.az = c->z2;
            j.qo = c->q1, j.ldqo = c->kq1, j.qs = c->s1, j.qz = c->z1;
        } else {
            j.a = c->f, j.lda = e->I;
        }
        if ((rc = run_linear(&j, M, err))) return rc;
        prof(c, KZ_PROF_FO, &pt);
    }

    /* outputs, scattered back to the caller's [batch][stride] layout */
    if (out->logits && e->nl) {
        lin_job j = {.e = e, .c = c, .l = &e->cls, .a = c->x, .lda = H, .out = c->logit, .ldo = e->nl};
        int rc = run_linear(&j, M, err);
        if (rc) return rc;
    }
    for (uint32_t b = 0; b < B; b++) {
        uint32_t r0 = c->rows[b], len = (uint32_t)in->lens[b];
        size_t o = (size_t)b * in->stride;
        if (out->logits && e->nl)
            memcpy(out->logits + o * e->nl, c->logit + (size_t)r0 * e->nl,
                   (size_t)len * e->nl * sizeof(float));
        if (out->hidden) memcpy(out->hidden + o * H, c->x + (size_t)r0 * H, (size_t)len * H * sizeof(float));
        if (out->pooled && len) {
            float *p = out->pooled + (size_t)b * H;
            if (!out->pool_mean) {
                memcpy(p, c->x + (size_t)r0 * H, H * sizeof(float));
            } else {
                for (uint32_t t = 0; t < len; t++) {
                    const float *x = c->x + (size_t)(r0 + t) * H;
                    for (uint32_t i = 0; i < H; i++) p[i] += x[i];
                }
                float inv = 1.0f / (float)len;
                for (uint32_t i = 0; i < H; i++) p[i] *= inv;
            }
        }
    }
    prof(c, KZ_PROF_HEAD, &pt);
    return 0;
}
