/* BERT trainer: flat fp32 parameters, a forward pass that keeps what the
 * backward pass needs, the backward pass (embeddings, LayerNorm, multi-head
 * attention over packed sequences, GELU FFN, classifier or MLM prediction head),
 * the losses (multi-label BCE with soft targets and label masks; softmax CE;
 * masked-LM CE over the vocabulary), AdamW. GEMMs go to oneDNN's dnnl_sgemm
 * (row-major). docs/train.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <oneapi/dnnl/dnnl.h>
#include "nn/kernels_int.h"
#include "nn/load_int.h"
#include "train/train_int.h"

/* ---- layout of one layer inside the flat buffer ---------------------------------- */
typedef struct lay_off {
    size_t qkv_w, qkv_b, o_w, o_b, ln1_g, ln1_b, f1_w, f1_b, f2_w, f2_b, ln2_g, ln2_b, size;
} lay_off;

/* Saved activations of one layer. */
typedef struct lact {
    float *qkv, *P, *ctx, *xh1, *rs1, *h1, *f, *ga, *xh2, *rs2;
    uint8_t *mP, *ma, *mo;
} lact;

struct kz_trainer {
    kz_bert *m;
    int obj; /* KZ__OBJ_NER | KZ__OBJ_MLM */
    uint32_t H, I, L, NH, dh, C, V, P, TV;
    bool multilabel;
    kz_bert_act act;
    float eps;
    float *w, *g, *am, *av; /* params (model-owned), grads, Adam m, v */
    size_t n;
    uint64_t adam_t;
    kz_tparam *pt;
    size_t npt;
    size_t o_word, o_pos, o_type, o_eg, o_eb, o_cw, o_cb, o_layers;
    size_t o_mw, o_mb, o_mg, o_mbb, o_mdb; /* MLM head: dense W, b, LayerNorm g, b, decoder bias */
    lay_off lo;
    float dropout;
    double wd;
    uint64_t seed;
    const kz_nn_kern *kern;
    /* activations, grown on demand */
    size_t cap_M, cap_P;
    float **X; /* L + 1 buffers [M][H] */
    lact *la;
    float *xhe, *rse, *hd, *logits;
    uint8_t *me, *mc;
    /* backward scratch */
    float *dX, *dT, *dH1, *dI, *dC, *dQKV, *tI1, *tI2, *dS, *Pd, *ones;
    size_t cap_S;
    /* batch geometry */
    uint32_t *r0, *len;
    size_t *poff;
    const int32_t **ids;
    size_t cap_b;
    bool drop; /* dropout on in the current pass */
    float dscale;
    /* MLM head, rows = predicted positions */
    size_t cap_mm;
    uint32_t *mrow;
    int32_t *mtgt;
    float *mx, *mf, *mga, *mxh, *mrs, *my, *mlog, *md1, *md2;
};

/* ---- small helpers ---------------------------------------------------------------- */
static void gemm(char ta, char tb, long M, long N, long K, float alpha, const float *A, long lda,
                 const float *B, long ldb, float beta, float *C, long ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (long i = 0; i < M; i++)
            for (long j = 0; j < N; j++) C[i * ldc + j] = beta == 0.f ? 0.f : C[i * ldc + j] * beta;
        return;
    }
    dnnl_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Y[M][N] = X[M][K] W[N][K]^T + b (bias rows copied in, the GEMM accumulates) */
static void lin_fwd(const float *X, uint32_t M, uint32_t K, const float *W, const float *b, uint32_t N,
                    float *Y) {
    for (uint32_t i = 0; i < M; i++) memcpy(Y + (size_t)i * N, b, (size_t)N * sizeof *b);
    gemm('N', 'T', M, N, K, 1.f, X, K, W, K, 1.f, Y, N);
}

/* dW += dY^T X; db += dY^T 1 (ones: M floats of 1); dX = dY W (+ dX when acc). dX may be NULL. */
static void lin_bwd(const float *X, const float *dY, uint32_t M, uint32_t K, uint32_t N, const float *W,
                    float *dW, float *db, float *dX, bool acc, const float *ones) {
    gemm('T', 'N', N, K, M, 1.f, dY, N, X, K, 1.f, dW, K);
    gemm('T', 'N', N, 1, M, 1.f, dY, N, ones, 1, 1.f, db, 1);
    if (dX) gemm('N', 'N', M, K, N, 1.f, dY, N, W, K, acc ? 1.f : 0.f, dX, K);
}

static void ln_fwd(const float *x, uint32_t n, const float *g, const float *b, float eps, float *xh,
                   float *rs, float *y) {
    double s = 0;
    for (uint32_t i = 0; i < n; i++) s += x[i];
    float mean = (float)(s / n);
    double v = 0;
    for (uint32_t i = 0; i < n; i++) {
        float c = x[i] - mean;
        v += (double)c * c;
    }
    float r = 1.f / sqrtf((float)(v / n) + eps);
    *rs = r;
    for (uint32_t i = 0; i < n; i++) {
        float h = (x[i] - mean) * r;
        xh[i] = h;
        y[i] = h * g[i] + b[i];
    }
}

/* dx = LN backward of dy (dx may alias dy). */
static void ln_bwd(const float *dy, const float *xh, float rs, uint32_t n, const float *g, float *dg,
                   float *db, float *dx) {
    double s1 = 0, s2 = 0;
    for (uint32_t i = 0; i < n; i++) {
        float d = dy[i] * g[i];
        s1 += d;
        s2 += (double)d * xh[i];
        dg[i] += dy[i] * xh[i];
        db[i] += dy[i];
    }
    float m1 = (float)(s1 / n), m2 = (float)(s2 / n);
    for (uint32_t i = 0; i < n; i++) dx[i] = rs * (dy[i] * g[i] - m1 - xh[i] * m2);
}

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Dropout masks: counter-based, so they depend only on (seed, step, site, index). */
static void drop_mask(uint8_t *mask, size_t n, float p, uint64_t seed, uint64_t step, uint32_t site) {
    uint64_t base = mix64(seed ^ mix64(step * 0x9e3779b97f4a7c15ull + site * 0xd1b54a32d192ed03ull + 1));
    uint32_t thr = (uint32_t)((double)p * 16777216.0);
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)(mix64(base + i * 0x9e3779b97f4a7c15ull) >> 40);
        mask[i] = u >= thr;
    }
}

static void drop_apply(float *restrict x, const uint8_t *restrict mask, size_t n, float scale) {
    for (size_t i = 0; i < n; i++) x[i] *= (float)mask[i] * scale;
}

static void *xrealloc_f(void *p, size_t bytes, bool *ok) {
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q) *ok = false;
    return q ? q : p;
}

/* ---- construction ------------------------------------------------------------------- */
static int add_pt(kz_trainer *t, size_t *cap, const char *name, size_t off, size_t n, bool decay) {
    if (t->npt == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        kz_tparam *p = realloc(t->pt, nc * sizeof *p);
        if (!p) return KZ_ENOMEM;
        t->pt = p;
        *cap = nc;
    }
    kz_tparam *p = &t->pt[t->npt++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->off = off;
    p->n = n;
    p->decay = decay;
    return 0;
}

static void set_lin(kz_bert_linear *l, float *w, float *b, uint32_t in, uint32_t out) {
    l->w = w;
    l->b = b;
    l->in = in;
    l->out = out;
    l->w_q8 = NULL;
    l->w_q8_scale = NULL;
    l->w_bf16 = NULL;
}

int kz__trainer_new(kz_bert *model, const kz_train_opts *o, kz_trainer **out, kz_error *err) {
    return kz__trainer_new_obj(model, o, KZ__OBJ_NER, out, err);
}

int kz__trainer_objective(const kz_trainer *t) { return t->obj; }

int kz__trainer_new_obj(kz_bert *model, const kz_train_opts *o, int objective, kz_trainer **out,
                        kz_error *err) {
    *out = NULL;
    if (!model) return kz_error_set(err, KZ_EINVAL, "trainer: NULL model");
    if (objective != KZ__OBJ_NER && objective != KZ__OBJ_MLM)
        return kz_error_set(err, KZ_EINVAL, "trainer: unknown objective %d", objective);
    const bool mlm = objective == KZ__OBJ_MLM;
    const kz_bert_config *c = &model->cfg;
    if (!mlm && (c->head != KZ_HEAD_TOKEN_CLS || c->num_labels == 0 || !model->classifier.w))
        return kz_error_set(err, KZ_EINVAL, "trainer: the model has no token-classification head");
    if (c->act != KZ_ACT_GELU && c->act != KZ_ACT_RELU)
        return kz_error_set(err, KZ_EINVAL, "trainer: activation %s is not supported (gelu, relu)",
                            kz__bert_act_name(c->act));
    if (!c->heads || c->hidden % c->heads)
        return kz_error_set(err, KZ_EINVAL, "trainer: hidden %u is not a multiple of heads %u", c->hidden,
                            c->heads);
    kz_train_opts d = kz_train_default_opts();
    if (!o) o = &d;
    kz_trainer *t = calloc(1, sizeof *t);
    if (!t) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    t->m = model;
    t->obj = objective;
    t->H = c->hidden, t->I = c->intermediate, t->L = c->layers, t->NH = c->heads,
    t->dh = c->hidden / c->heads;
    t->C = mlm ? 0 : c->num_labels, t->V = c->vocab_size, t->P = c->max_positions, t->TV = c->type_vocab;
    t->multilabel = c->multilabel;
    t->act = c->act;
    t->eps = c->layer_norm_eps;
    t->dropout = (float)o->dropout;
    t->wd = o->weight_decay;
    t->seed = o->seed;
    t->kern = kz__nn_kern_best();
    const size_t H = t->H, I = t->I;
    lay_off *lo = &t->lo;
    lo->qkv_w = 0;
    lo->qkv_b = lo->qkv_w + 3 * H * H;
    lo->o_w = lo->qkv_b + 3 * H;
    lo->o_b = lo->o_w + H * H;
    lo->ln1_g = lo->o_b + H;
    lo->ln1_b = lo->ln1_g + H;
    lo->f1_w = lo->ln1_b + H;
    lo->f1_b = lo->f1_w + I * H;
    lo->f2_w = lo->f1_b + I;
    lo->f2_b = lo->f2_w + H * I;
    lo->ln2_g = lo->f2_b + H;
    lo->ln2_b = lo->ln2_g + H;
    lo->size = lo->ln2_b + H;
    size_t at = 0, cap = 0;
    int rc = 0;
#define PT(nm, field, cnt, dec)                                                                              \
    do {                                                                                                     \
        t->field = at;                                                                                       \
        if (!rc) rc = add_pt(t, &cap, nm, at, cnt, dec);                                                     \
        at += (cnt);                                                                                         \
    } while (0)
    PT("embeddings.word_embeddings.weight", o_word, (size_t)t->V * H, true);
    PT("embeddings.position_embeddings.weight", o_pos, (size_t)t->P * H, true);
    PT("embeddings.token_type_embeddings.weight", o_type, (size_t)t->TV * H, true);
    PT("embeddings.LayerNorm.weight", o_eg, H, false);
    PT("embeddings.LayerNorm.bias", o_eb, H, false);
#undef PT
    t->o_layers = at;
    static const char *const qkv[3] = {"query", "key", "value"};
    for (uint32_t l = 0; l < t->L && !rc; l++) {
        size_t b = at + (size_t)l * lo->size;
        char nm[96];
        for (int j = 0; j < 3 && !rc; j++) {
            snprintf(nm, sizeof nm, "encoder.layer.%u.attention.self.%s.weight", l, qkv[j]);
            rc = add_pt(t, &cap, nm, b + lo->qkv_w + j * H * H, H * H, true);
        }
        for (int j = 0; j < 3 && !rc; j++) {
            snprintf(nm, sizeof nm, "encoder.layer.%u.attention.self.%s.bias", l, qkv[j]);
            rc = add_pt(t, &cap, nm, b + lo->qkv_b + j * H, H, false);
        }
        const struct {
            const char *s;
            size_t off, n;
            bool dec;
        } rest[10] = {{"attention.output.dense.weight", lo->o_w, H * H, true},
                      {"attention.output.dense.bias", lo->o_b, H, false},
                      {"attention.output.LayerNorm.weight", lo->ln1_g, H, false},
                      {"attention.output.LayerNorm.bias", lo->ln1_b, H, false},
                      {"intermediate.dense.weight", lo->f1_w, I * H, true},
                      {"intermediate.dense.bias", lo->f1_b, I, false},
                      {"output.dense.weight", lo->f2_w, H * I, true},
                      {"output.dense.bias", lo->f2_b, H, false},
                      {"output.LayerNorm.weight", lo->ln2_g, H, false},
                      {"output.LayerNorm.bias", lo->ln2_b, H, false}};
        for (int j = 0; j < 10 && !rc; j++) {
            snprintf(nm, sizeof nm, "encoder.layer.%u.%s", l, rest[j].s);
            rc = add_pt(t, &cap, nm, b + rest[j].off, rest[j].n, rest[j].dec);
        }
    }
    at += (size_t)t->L * lo->size;
    if (mlm) {
        t->o_mw = at;
        if (!rc) rc = add_pt(t, &cap, "cls.predictions.transform.dense.weight", at, H * H, true);
        at += H * H;
        t->o_mb = at;
        if (!rc) rc = add_pt(t, &cap, "cls.predictions.transform.dense.bias", at, H, false);
        at += H;
        t->o_mg = at;
        if (!rc) rc = add_pt(t, &cap, "cls.predictions.transform.LayerNorm.weight", at, H, false);
        at += H;
        t->o_mbb = at;
        if (!rc) rc = add_pt(t, &cap, "cls.predictions.transform.LayerNorm.bias", at, H, false);
        at += H;
        t->o_mdb = at;
        if (!rc) rc = add_pt(t, &cap, "cls.predictions.bias", at, t->V, false);
        at += t->V;
    } else {
        t->o_cw = at;
        if (!rc) rc = add_pt(t, &cap, "classifier.weight", at, (size_t)t->C * H, true);
        at += (size_t)t->C * H;
        t->o_cb = at;
        if (!rc) rc = add_pt(t, &cap, "classifier.bias", at, t->C, false);
        at += t->C;
    }
    t->n = at;
    if (rc) {
        kz__trainer_free(t);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    float *W = kz__nn_alloc(t->n * sizeof(float));
    t->g = kz__nn_alloc(t->n * sizeof(float));
    t->am = kz__nn_alloc(t->n * sizeof(float));
    t->av = kz__nn_alloc(t->n * sizeof(float));
    if (!W || !t->g || !t->am || !t->av) {
        kz__nn_free(W);
        kz__trainer_free(t);
        return kz_error_set(err, KZ_ENOMEM, "out of memory (%zu parameters)", t->n);
    }
    memset(t->g, 0, t->n * sizeof(float));
    memset(t->am, 0, t->n * sizeof(float));
    memset(t->av, 0, t->n * sizeof(float));
    /* copy the model's weights in and re-aim its pointers */
    kz_bert *m = model;
    memcpy(W + t->o_word, m->word_emb, (size_t)t->V * H * 4);
    memcpy(W + t->o_pos, m->pos_emb, (size_t)t->P * H * 4);
    memcpy(W + t->o_type, m->type_emb, (size_t)t->TV * H * 4);
    memcpy(W + t->o_eg, m->emb_ln_g, H * 4);
    memcpy(W + t->o_eb, m->emb_ln_b, H * 4);
    m->word_emb = W + t->o_word, m->pos_emb = W + t->o_pos, m->type_emb = W + t->o_type;
    m->emb_ln_g = W + t->o_eg, m->emb_ln_b = W + t->o_eb;
    for (uint32_t l = 0; l < t->L; l++) {
        float *b = W + t->o_layers + (size_t)l * lo->size;
        kz_bert_layer *ly = &m->layers[l];
        memcpy(b + lo->qkv_w, ly->q.w, H * H * 4);
        memcpy(b + lo->qkv_w + H * H, ly->k.w, H * H * 4);
        memcpy(b + lo->qkv_w + 2 * H * H, ly->v.w, H * H * 4);
        memcpy(b + lo->qkv_b, ly->q.b, H * 4);
        memcpy(b + lo->qkv_b + H, ly->k.b, H * 4);
        memcpy(b + lo->qkv_b + 2 * H, ly->v.b, H * 4);
        memcpy(b + lo->o_w, ly->attn_out.w, H * H * 4);
        memcpy(b + lo->o_b, ly->attn_out.b, H * 4);
        memcpy(b + lo->ln1_g, ly->ln1_g, H * 4);
        memcpy(b + lo->ln1_b, ly->ln1_b, H * 4);
        memcpy(b + lo->f1_w, ly->ffn_in.w, I * H * 4);
        memcpy(b + lo->f1_b, ly->ffn_in.b, I * 4);
        memcpy(b + lo->f2_w, ly->ffn_out.w, H * I * 4);
        memcpy(b + lo->f2_b, ly->ffn_out.b, H * 4);
        memcpy(b + lo->ln2_g, ly->ln2_g, H * 4);
        memcpy(b + lo->ln2_b, ly->ln2_b, H * 4);
        set_lin(&ly->q, b + lo->qkv_w, b + lo->qkv_b, t->H, t->H);
        set_lin(&ly->k, b + lo->qkv_w + H * H, b + lo->qkv_b + H, t->H, t->H);
        set_lin(&ly->v, b + lo->qkv_w + 2 * H * H, b + lo->qkv_b + 2 * H, t->H, t->H);
        set_lin(&ly->attn_out, b + lo->o_w, b + lo->o_b, t->H, t->H);
        ly->ln1_g = b + lo->ln1_g, ly->ln1_b = b + lo->ln1_b;
        set_lin(&ly->ffn_in, b + lo->f1_w, b + lo->f1_b, t->H, t->I);
        set_lin(&ly->ffn_out, b + lo->f2_w, b + lo->f2_b, t->I, t->H);
        ly->ln2_g = b + lo->ln2_g, ly->ln2_b = b + lo->ln2_b;
    }
    if (mlm) {
        /* a new prediction head, BERT's init; the checkpoint carries it across a resume */
        kz__train_randn(W + t->o_mw, H * H, t->seed, "cls.predictions.transform.dense.weight");
        memset(W + t->o_mb, 0, H * 4);
        for (size_t i = 0; i < H; i++) W[t->o_mg + i] = 1.f;
        memset(W + t->o_mbb, 0, H * 4);
        memset(W + t->o_mdb, 0, (size_t)t->V * 4);
    } else {
        memcpy(W + t->o_cw, m->classifier.w, (size_t)t->C * H * 4);
        memcpy(W + t->o_cb, m->classifier.b, (size_t)t->C * 4);
        set_lin(&m->classifier, W + t->o_cw, W + t->o_cb, t->H, t->C);
    }
    m->stored = KZ_PREC_FP32;
    /* the model frees W with itself (kz__nn_alloc is aligned_alloc: free() releases it) */
    if (kz__tensor_table_own(&m->tensors, W)) {
        kz__trainer_free(t);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    t->w = W;
    t->la = calloc(t->L, sizeof *t->la);
    t->X = calloc(t->L + 1, sizeof *t->X);
    if (!t->la || !t->X) {
        kz__trainer_free(t);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    *out = t;
    return 0;
}

static void free_acts(kz_trainer *t) {
    if (t->X)
        for (uint32_t l = 0; l <= t->L; l++) free(t->X[l]);
    if (t->la)
        for (uint32_t l = 0; l < t->L; l++) {
            lact *a = &t->la[l];
            free(a->qkv), free(a->P), free(a->ctx), free(a->xh1), free(a->rs1), free(a->h1), free(a->f);
            free(a->ga), free(a->xh2), free(a->rs2), free(a->mP), free(a->ma), free(a->mo);
        }
    free(t->xhe), free(t->rse), free(t->hd), free(t->logits), free(t->me), free(t->mc);
    free(t->dX), free(t->dT), free(t->dH1), free(t->dI), free(t->dC), free(t->dQKV), free(t->tI1),
        free(t->tI2);
    free(t->dS), free(t->Pd), free(t->ones);
    free(t->mrow), free(t->mtgt), free(t->mx), free(t->mf), free(t->mga), free(t->mxh), free(t->mrs);
    free(t->my), free(t->mlog), free(t->md1), free(t->md2);
}

void kz__trainer_free(kz_trainer *t) {
    if (!t) return;
    free_acts(t);
    free(t->X);
    free(t->la);
    free(t->pt);
    free(t->r0), free(t->len), free(t->poff), free((void *)t->ids);
    kz__nn_free(t->g);
    kz__nn_free(t->am);
    kz__nn_free(t->av);
    free(t);
}

float *kz__trainer_params(kz_trainer *t) { return t->w; }
float *kz__trainer_grads(kz_trainer *t) { return t->g; }
size_t kz__trainer_n_params(const kz_trainer *t) { return t->n; }
const kz_tparam *kz__trainer_tensors(const kz_trainer *t, size_t *n) {
    *n = t->npt;
    return t->pt;
}
void kz__trainer_zero_grad(kz_trainer *t) { memset(t->g, 0, t->n * sizeof(float)); }

double kz__trainer_cells(const kz_trainer *t, const kz_train_example *ex) {
    if (t->obj != KZ__OBJ_NER) return 0;
    size_t tok = 0;
    for (uint32_t i = 0; i < ex->n_tokens; i++) tok += ex->token_mask[i] != 0;
    if (!t->multilabel) return (double)tok;
    size_t lab = 0;
    for (uint32_t j = 0; j < t->C; j++) lab += ex->label_mask[j] != 0;
    return (double)tok * (double)lab;
}

/* Grow activations to M rows and Ptot attention entries. */
static int grow(kz_trainer *t, size_t M, size_t Ptot, size_t Tmax) {
    bool ok = true;
    const size_t H = t->H, I = t->I, C = t->C;
    if (M > t->cap_M) {
        size_t nm = KZ_MAX(M, t->cap_M * 3 / 2);
        for (uint32_t l = 0; l <= t->L; l++) t->X[l] = xrealloc_f(t->X[l], nm * H * 4, &ok);
        for (uint32_t l = 0; l < t->L; l++) {
            lact *a = &t->la[l];
            a->qkv = xrealloc_f(a->qkv, nm * 3 * H * 4, &ok);
            a->ctx = xrealloc_f(a->ctx, nm * H * 4, &ok);
            a->xh1 = xrealloc_f(a->xh1, nm * H * 4, &ok);
            a->rs1 = xrealloc_f(a->rs1, nm * 4, &ok);
            a->h1 = xrealloc_f(a->h1, nm * H * 4, &ok);
            a->f = xrealloc_f(a->f, nm * I * 4, &ok);
            a->ga = xrealloc_f(a->ga, nm * I * 4, &ok);
            a->xh2 = xrealloc_f(a->xh2, nm * H * 4, &ok);
            a->rs2 = xrealloc_f(a->rs2, nm * 4, &ok);
            a->ma = xrealloc_f(a->ma, nm * H, &ok);
            a->mo = xrealloc_f(a->mo, nm * H, &ok);
        }
        t->xhe = xrealloc_f(t->xhe, nm * H * 4, &ok);
        t->rse = xrealloc_f(t->rse, nm * 4, &ok);
        t->hd = xrealloc_f(t->hd, nm * H * 4, &ok);
        t->logits = xrealloc_f(t->logits, nm * C * 4, &ok);
        t->me = xrealloc_f(t->me, nm * H, &ok);
        t->mc = xrealloc_f(t->mc, nm * H, &ok);
        t->dX = xrealloc_f(t->dX, nm * H * 4, &ok);
        t->dT = xrealloc_f(t->dT, nm * H * 4, &ok);
        t->dH1 = xrealloc_f(t->dH1, nm * H * 4, &ok);
        t->dC = xrealloc_f(t->dC, nm * H * 4, &ok);
        t->dI = xrealloc_f(t->dI, nm * I * 4, &ok);
        t->tI1 = xrealloc_f(t->tI1, nm * I * 4, &ok);
        t->tI2 = xrealloc_f(t->tI2, nm * I * 4, &ok);
        t->dQKV = xrealloc_f(t->dQKV, nm * 3 * H * 4, &ok);
        t->ones = xrealloc_f(t->ones, nm * 4, &ok);
        if (!ok) return KZ_ENOMEM;
        for (size_t i = 0; i < nm; i++) t->ones[i] = 1.f;
        t->cap_M = nm;
    }
    if (Ptot > t->cap_P) {
        size_t np = KZ_MAX(Ptot, t->cap_P * 3 / 2);
        for (uint32_t l = 0; l < t->L; l++) {
            t->la[l].P = xrealloc_f(t->la[l].P, np * 4, &ok);
            t->la[l].mP = xrealloc_f(t->la[l].mP, np, &ok);
        }
        if (!ok) return KZ_ENOMEM;
        t->cap_P = np;
    }
    if (Tmax * Tmax > t->cap_S) {
        t->dS = xrealloc_f(t->dS, Tmax * Tmax * 4, &ok);
        t->Pd = xrealloc_f(t->Pd, Tmax * Tmax * 4, &ok);
        if (!ok) return KZ_ENOMEM;
        t->cap_S = Tmax * Tmax;
    }
    return 0;
}

static void softmax_row(const kz_nn_kern *k, float *x, uint32_t n) {
    float mx = x[0];
    for (uint32_t i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    for (uint32_t i = 0; i < n; i++) x[i] -= mx;
    k->exp(x, x, n); /* vectorised; max |rel. error| 1.2e-7 (docs/nn.md) */
    float s = 0;
    for (uint32_t i = 0; i < n; i++) s += x[i];
    float r = 1.f / s;
    for (uint32_t i = 0; i < n; i++) x[i] *= r;
}

/* ---- forward + backward ------------------------------------------------------------------ */
enum { SITE_EMB = 0, SITE_CLS = 1, SITE_LAYER = 8 }; /* layer l: 8 + 4l + {0 attn, 1 a, 2 o} */

static int ensure_batch(kz_trainer *t, size_t nb, kz_error *err) {
    if (nb <= t->cap_b) return 0;
    uint32_t *r0 = realloc(t->r0, nb * sizeof *r0);
    if (r0) t->r0 = r0;
    uint32_t *len = realloc(t->len, nb * sizeof *len);
    if (len) t->len = len;
    size_t *po = realloc(t->poff, nb * sizeof *po);
    if (po) t->poff = po;
    const int32_t **ids = realloc((void *)t->ids, nb * sizeof *ids);
    if (ids) t->ids = ids;
    if (!r0 || !len || !po || !ids) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    t->cap_b = nb;
    return 0;
}

/* Encoder forward over the nb sequences of t->ids / t->len; the last layer's
 * output lands in t->X[L] (*Mout rows). */
static int enc_forward(kz_trainer *t, size_t nb, uint64_t rng_step, size_t *Mout, kz_error *err) {
    const uint32_t H = t->H, I = t->I, NH = t->NH, dh = t->dh;
    size_t M = 0, Ptot = 0, Tmax = 0;
    *Mout = 0;
    for (size_t b = 0; b < nb; b++) {
        uint32_t T = t->len[b];
        if (T > t->P)
            return kz_error_set(err, KZ_EINVAL, "example of %u tokens exceeds max_positions %u", T, t->P);
        for (uint32_t i = 0; i < T; i++)
            if (t->ids[b][i] < 0 || (uint32_t)t->ids[b][i] >= t->V)
                return kz_error_set(err, KZ_EINVAL, "token id %d outside the %u-row vocabulary", t->ids[b][i],
                                    t->V);
        t->r0[b] = (uint32_t)M;
        t->poff[b] = Ptot;
        M += T;
        Ptot += (size_t)NH * T * T;
        Tmax = KZ_MAX(Tmax, T);
    }
    if (M == 0) return 0;
    if (grow(t, M, Ptot, Tmax)) return kz_error_set(err, KZ_ENOMEM, "out of memory (%zu tokens)", M);
    *Mout = M;
    const float p = t->dropout;
    const bool drop = p > 0.f && rng_step != KZ_TRAIN_EVAL;
    const float dscale = drop ? 1.f / (1.f - p) : 1.f;
    t->drop = drop;
    t->dscale = dscale;
    const float *W = t->w;
    const lay_off *lo = &t->lo;

    /* embeddings */
    for (size_t b = 0; b < nb; b++)
        for (uint32_t i = 0; i < t->len[b]; i++) {
            size_t r = t->r0[b] + i;
            float *x = t->X[0] + r * H;
            const float *we = W + t->o_word + (size_t)t->ids[b][i] * H;
            const float *pe = W + t->o_pos + (size_t)i * H, *te = W + t->o_type;
            for (uint32_t h = 0; h < H; h++) x[h] = we[h] + pe[h] + te[h];
            ln_fwd(x, H, W + t->o_eg, W + t->o_eb, t->eps, t->xhe + r * H, &t->rse[r], x);
        }
    if (drop) {
        drop_mask(t->me, M * H, p, t->seed, rng_step, SITE_EMB);
        drop_apply(t->X[0], t->me, M * H, dscale);
    }
    const float scale = 1.f / sqrtf((float)dh);
    for (uint32_t l = 0; l < t->L; l++) {
        const float *B = W + t->o_layers + (size_t)l * lo->size;
        lact *a = &t->la[l];
        const float *X = t->X[l];
        lin_fwd(X, (uint32_t)M, H, B + lo->qkv_w, B + lo->qkv_b, 3 * H, a->qkv);
        if (drop) drop_mask(a->mP, Ptot, p, t->seed, rng_step, SITE_LAYER + 4 * l);
        for (size_t b = 0; b < nb; b++) {
            const uint32_t T = t->len[b];
            const float *qb = a->qkv + (size_t)t->r0[b] * 3 * H;
            for (uint32_t h = 0; h < NH; h++) {
                float *Pm = a->P + t->poff[b] + (size_t)h * T * T;
                const float *q = qb + h * dh, *k = qb + H + h * dh, *v = qb + 2 * H + h * dh;
                gemm('N', 'T', T, T, dh, scale, q, 3 * H, k, 3 * H, 0.f, Pm, T);
                for (uint32_t i = 0; i < T; i++) softmax_row(t->kern, Pm + (size_t)i * T, T);
                const float *Pu = Pm;
                if (drop) {
                    memcpy(t->Pd, Pm, (size_t)T * T * 4);
                    drop_apply(t->Pd, a->mP + t->poff[b] + (size_t)h * T * T, (size_t)T * T, dscale);
                    Pu = t->Pd;
                }
                gemm('N', 'N', T, dh, T, 1.f, Pu, T, v, 3 * H, 0.f, a->ctx + (size_t)t->r0[b] * H + h * dh,
                     H);
            }
        }
        /* attention output + residual + LN */
        lin_fwd(a->ctx, (uint32_t)M, H, B + lo->o_w, B + lo->o_b, H, a->h1);
        if (drop) {
            drop_mask(a->ma, M * H, p, t->seed, rng_step, SITE_LAYER + 4 * l + 1);
            drop_apply(a->h1, a->ma, M * H, dscale);
        }
        for (size_t r = 0; r < M; r++) {
            float *y = a->h1 + r * H;
            for (uint32_t h = 0; h < H; h++) y[h] += X[r * H + h];
            ln_fwd(y, H, B + lo->ln1_g, B + lo->ln1_b, t->eps, a->xh1 + r * H, &a->rs1[r], y);
        }
        /* FFN */
        lin_fwd(a->h1, (uint32_t)M, H, B + lo->f1_w, B + lo->f1_b, I, a->f);
        memcpy(a->ga, a->f, M * I * 4);
        if (t->act == KZ_ACT_RELU) {
            for (size_t i = 0; i < M * I; i++) a->ga[i] = a->ga[i] > 0 ? a->ga[i] : 0.f;
        } else {
            t->kern->gelu(a->ga, M * I);
        }
        float *Y = t->X[l + 1];
        lin_fwd(a->ga, (uint32_t)M, I, B + lo->f2_w, B + lo->f2_b, H, Y);
        if (drop) {
            drop_mask(a->mo, M * H, p, t->seed, rng_step, SITE_LAYER + 4 * l + 2);
            drop_apply(Y, a->mo, M * H, dscale);
        }
        for (size_t r = 0; r < M; r++) {
            float *y = Y + r * H;
            for (uint32_t h = 0; h < H; h++) y[h] += a->h1[r * H + h];
            ln_fwd(y, H, B + lo->ln2_g, B + lo->ln2_b, t->eps, a->xh2 + r * H, &a->rs2[r], y);
        }
    }
    return 0;
}

/* Activation derivative, in place: d *= act'(x) (n values; uses t->tI1/tI2 of >= n floats). */
static void act_bwd(kz_trainer *t, const float *x, float *d, size_t n, float *s1, float *s2) {
    if (t->act == KZ_ACT_RELU) {
        for (size_t i = 0; i < n; i++)
            if (x[i] <= 0) d[i] = 0;
        return;
    }
    /* gelu'(x) = Phi(x) + x phi(x) */
    for (size_t i = 0; i < n; i++) {
        s1[i] = x[i] * 0.70710678118654752f;
        s2[i] = -0.5f * x[i] * x[i];
    }
    t->kern->erf(s1, s1, n);
    t->kern->exp(s2, s2, n);
    for (size_t i = 0; i < n; i++) d[i] *= 0.5f * (1.f + s1[i]) + x[i] * s2[i] * 0.39894228040143268f;
}

/* Encoder backward: t->dX holds d loss / d X[L] (M rows); gradients are added to t->g. */
static void enc_backward(kz_trainer *t, size_t nb, size_t M) {
    const uint32_t H = t->H, I = t->I, NH = t->NH, dh = t->dh;
    const bool drop = t->drop;
    const float dscale = t->dscale;
    const float scale = 1.f / sqrtf((float)dh);
    const float *W = t->w;
    float *G = t->g;
    const lay_off *lo = &t->lo;
    float *dX = t->dX;
    for (uint32_t l = t->L; l-- > 0;) {
        const float *B = W + t->o_layers + (size_t)l * lo->size;
        float *GB = G + t->o_layers + (size_t)l * lo->size;
        lact *a = &t->la[l];
        /* LN2 */
        for (size_t r = 0; r < M; r++)
            ln_bwd(dX + r * H, a->xh2 + r * H, a->rs2[r], H, B + lo->ln2_g, GB + lo->ln2_g, GB + lo->ln2_b,
                   t->dT + r * H);
        memcpy(t->dH1, t->dT, M * H * 4);
        if (drop) drop_apply(t->dT, a->mo, M * H, dscale);
        lin_bwd(a->ga, t->dT, (uint32_t)M, I, H, B + lo->f2_w, GB + lo->f2_w, GB + lo->f2_b, t->dI, false,
                t->ones);
        act_bwd(t, a->f, t->dI, M * I, t->tI1, t->tI2);
        lin_bwd(a->h1, t->dI, (uint32_t)M, H, I, B + lo->f1_w, GB + lo->f1_w, GB + lo->f1_b, t->dH1, true,
                t->ones);
        /* LN1: dH1 -> dX (residual into the layer input) */
        for (size_t r = 0; r < M; r++)
            ln_bwd(t->dH1 + r * H, a->xh1 + r * H, a->rs1[r], H, B + lo->ln1_g, GB + lo->ln1_g,
                   GB + lo->ln1_b, dX + r * H);
        memcpy(t->dT, dX, M * H * 4);
        if (drop) drop_apply(t->dT, a->ma, M * H, dscale);
        lin_bwd(a->ctx, t->dT, (uint32_t)M, H, H, B + lo->o_w, GB + lo->o_w, GB + lo->o_b, t->dC, false,
                t->ones);
        /* attention */
        for (size_t b = 0; b < nb; b++) {
            const uint32_t T = t->len[b];
            const float *qb = a->qkv + (size_t)t->r0[b] * 3 * H;
            float *dqb = t->dQKV + (size_t)t->r0[b] * 3 * H;
            for (uint32_t h = 0; h < NH; h++) {
                const float *Pm = a->P + t->poff[b] + (size_t)h * T * T;
                const uint8_t *mk = a->mP + t->poff[b] + (size_t)h * T * T;
                const float *q = qb + h * dh, *k = qb + H + h * dh, *v = qb + 2 * H + h * dh;
                const float *dctx = t->dC + (size_t)t->r0[b] * H + h * dh;
                float *dq = dqb + h * dh, *dk = dqb + H + h * dh, *dv = dqb + 2 * H + h * dh;
                const float *Pu = Pm;
                if (drop) {
                    memcpy(t->Pd, Pm, (size_t)T * T * 4);
                    drop_apply(t->Pd, mk, (size_t)T * T, dscale);
                    Pu = t->Pd;
                }
                gemm('T', 'N', T, dh, T, 1.f, Pu, T, dctx, H, 0.f, dv, 3 * H);
                float *dS = t->dS;
                gemm('N', 'T', T, T, dh, 1.f, dctx, H, v, 3 * H, 0.f, dS, T);
                if (drop) drop_apply(dS, mk, (size_t)T * T, dscale);
                for (uint32_t i = 0; i < T; i++) {
                    float *ds = dS + (size_t)i * T;
                    const float *pr = Pm + (size_t)i * T;
                    double s = 0;
                    for (uint32_t j = 0; j < T; j++) s += (double)ds[j] * pr[j];
                    float fs = (float)s;
                    for (uint32_t j = 0; j < T; j++) ds[j] = pr[j] * (ds[j] - fs);
                }
                gemm('N', 'N', T, dh, T, scale, dS, T, k, 3 * H, 0.f, dq, 3 * H);
                gemm('T', 'N', T, dh, T, scale, dS, T, q, 3 * H, 0.f, dk, 3 * H);
            }
        }
        lin_bwd(t->X[l], t->dQKV, (uint32_t)M, H, 3 * H, B + lo->qkv_w, GB + lo->qkv_w, GB + lo->qkv_b, dX,
                true, t->ones);
    }
    /* embeddings */
    if (drop) drop_apply(dX, t->me, M * H, dscale);
    for (size_t b = 0; b < nb; b++)
        for (uint32_t i = 0; i < t->len[b]; i++) {
            size_t r = t->r0[b] + i;
            float *d = dX + r * H;
            ln_bwd(d, t->xhe + r * H, t->rse[r], H, W + t->o_eg, G + t->o_eg, G + t->o_eb, d);
            float *gw = G + t->o_word + (size_t)t->ids[b][i] * H;
            float *gp = G + t->o_pos + (size_t)i * H, *gt = G + t->o_type;
            for (uint32_t h = 0; h < H; h++) {
                gw[h] += d[h];
                gp[h] += d[h];
                gt[h] += d[h];
            }
        }
}

int kz__trainer_step_batch(kz_trainer *t, const kz_train_example *const *ex, size_t nb, double denom,
                           uint64_t rng_step, bool grad, double *loss, float *logits_out, kz_error *err) {
    *loss = 0;
    if (t->obj != KZ__OBJ_NER)
        return kz_error_set(err, KZ_EINVAL, "trainer: not a token-classification trainer");
    const uint32_t H = t->H, C = t->C;
    int rc = ensure_batch(t, nb, err);
    if (rc) return rc;
    for (size_t b = 0; b < nb; b++) t->ids[b] = ex[b]->input_ids, t->len[b] = ex[b]->n_tokens;
    size_t M = 0;
    if ((rc = enc_forward(t, nb, rng_step, &M, err)) || M == 0) return rc;
    const float *W = t->w;
    float *G = t->g;
    const bool drop = t->drop;
    const float dscale = t->dscale;

    /* classifier */
    const float *hd = t->X[t->L];
    if (drop) {
        memcpy(t->hd, hd, M * H * 4);
        drop_mask(t->mc, M * H, t->dropout, t->seed, rng_step, SITE_CLS);
        drop_apply(t->hd, t->mc, M * H, dscale);
        hd = t->hd;
    }
    lin_fwd(hd, (uint32_t)M, H, W + t->o_cw, W + t->o_cb, C, t->logits);
    if (logits_out) memcpy(logits_out, t->logits, M * C * 4);

    /* loss; dlogits overwrite logits */
    double lsum = 0;
    const double inv = denom > 0 ? 1.0 / denom : 0.0;
    for (size_t b = 0; b < nb; b++) {
        const kz_train_example *e = ex[b];
        for (uint32_t i = 0; i < t->len[b]; i++) {
            float *z = t->logits + ((size_t)t->r0[b] + i) * C;
            const float *y = e->targets + (size_t)i * C;
            if (!e->token_mask[i]) {
                memset(z, 0, C * 4);
                continue;
            }
            if (t->multilabel) {
                for (uint32_t j = 0; j < C; j++) {
                    if (!e->label_mask[j]) {
                        z[j] = 0;
                        continue;
                    }
                    double x = z[j], yy = y[j];
                    lsum += (x > 0 ? x : 0) - x * yy + log1p(exp(-fabs(x)));
                    double s = 1.0 / (1.0 + exp(-x));
                    z[j] = (float)((s - yy) * inv);
                }
            } else {
                double mx = z[0], ys = 0;
                for (uint32_t j = 1; j < C; j++) mx = z[j] > mx ? z[j] : mx;
                double se = 0;
                for (uint32_t j = 0; j < C; j++) se += exp(z[j] - mx);
                double lse = mx + log(se);
                for (uint32_t j = 0; j < C; j++) {
                    lsum -= (double)y[j] * (z[j] - lse);
                    ys += y[j];
                }
                for (uint32_t j = 0; j < C; j++) z[j] = (float)((exp(z[j] - lse) * ys - y[j]) * inv);
            }
        }
    }
    *loss = lsum * inv;
    if (!grad || denom <= 0) return 0;

    /* ---- backward ---- */
    lin_bwd(hd, t->logits, (uint32_t)M, H, C, W + t->o_cw, G + t->o_cw, G + t->o_cb, t->dX, false, t->ones);
    if (drop) drop_apply(t->dX, t->mc, M * H, dscale);
    enc_backward(t, nb, M);
    return 0;
}

/* ---- masked-LM head --------------------------------------------------------------------------- */
static int grow_mlm(kz_trainer *t, size_t R) {
    if (R <= t->cap_mm) return 0;
    bool ok = true;
    const size_t H = t->H, V = t->V, nm = KZ_MAX(R, t->cap_mm * 3 / 2);
    t->mrow = xrealloc_f(t->mrow, nm * sizeof *t->mrow, &ok);
    t->mtgt = xrealloc_f(t->mtgt, nm * sizeof *t->mtgt, &ok);
    t->mx = xrealloc_f(t->mx, nm * H * 4, &ok);
    t->mf = xrealloc_f(t->mf, nm * H * 4, &ok);
    t->mga = xrealloc_f(t->mga, nm * H * 4, &ok);
    t->mxh = xrealloc_f(t->mxh, nm * H * 4, &ok);
    t->mrs = xrealloc_f(t->mrs, nm * 4, &ok);
    t->my = xrealloc_f(t->my, nm * H * 4, &ok);
    t->md1 = xrealloc_f(t->md1, nm * H * 4, &ok);
    t->md2 = xrealloc_f(t->md2, nm * H * 4, &ok);
    t->mlog = xrealloc_f(t->mlog, nm * V * 4, &ok);
    if (!ok) return KZ_ENOMEM;
    t->cap_mm = nm;
    return 0;
}

/* BertOnlyMLMHead on the R predicted rows only (the other rows get no loss and
 * no gradient, as with HF's ignore_index): x -> dense -> act -> LayerNorm -> y;
 * logits = y E^T + bias with E the word embeddings. */
int kz__trainer_step_mlm(kz_trainer *t, const kz_mlm_seq *s, size_t nb, double denom, uint64_t rng_step,
                         bool grad, double *loss, float *logits_out, kz_error *err) {
    *loss = 0;
    if (t->obj != KZ__OBJ_MLM) return kz_error_set(err, KZ_EINVAL, "trainer: not a masked-LM trainer");
    const uint32_t H = t->H, V = t->V;
    int rc = ensure_batch(t, nb, err);
    if (rc) return rc;
    size_t R = 0;
    for (size_t b = 0; b < nb; b++) {
        t->ids[b] = s[b].input_ids, t->len[b] = s[b].n_tokens;
        for (uint32_t i = 0; i < s[b].n_tokens; i++) {
            int32_t y = s[b].labels[i];
            if (y < -1 || y >= (int32_t)V)
                return kz_error_set(err, KZ_EINVAL, "masked-LM label %d outside the %u-row vocabulary", y, V);
            R += y >= 0;
        }
    }
    size_t M = 0;
    if ((rc = enc_forward(t, nb, rng_step, &M, err)) || M == 0) return rc;
    if (grow_mlm(t, R ? R : 1)) return kz_error_set(err, KZ_ENOMEM, "out of memory (%zu masked tokens)", R);
    const float *W = t->w;
    float *G = t->g;
    const float *E = W + t->o_word;
    /* gather the predicted rows */
    size_t k = 0;
    for (size_t b = 0; b < nb; b++)
        for (uint32_t i = 0; i < s[b].n_tokens; i++)
            if (s[b].labels[i] >= 0) {
                t->mrow[k] = t->r0[b] + i;
                t->mtgt[k] = s[b].labels[i];
                memcpy(t->mx + k * H, t->X[t->L] + (size_t)t->mrow[k] * H, (size_t)H * 4);
                k++;
            }
    if (R) {
        lin_fwd(t->mx, (uint32_t)R, H, W + t->o_mw, W + t->o_mb, H, t->mf);
        memcpy(t->mga, t->mf, R * H * 4);
        if (t->act == KZ_ACT_RELU) {
            for (size_t i = 0; i < R * H; i++) t->mga[i] = t->mga[i] > 0 ? t->mga[i] : 0.f;
        } else {
            t->kern->gelu(t->mga, R * H);
        }
        for (size_t r = 0; r < R; r++)
            ln_fwd(t->mga + r * H, H, W + t->o_mg, W + t->o_mbb, t->eps, t->mxh + r * H, &t->mrs[r],
                   t->my + r * H);
        lin_fwd(t->my, (uint32_t)R, H, E, W + t->o_mdb, V, t->mlog);
        if (logits_out) memcpy(logits_out, t->mlog, R * V * 4);
    }
    /* loss; dlogits overwrite logits */
    double lsum = 0;
    const double inv = denom > 0 ? 1.0 / denom : 0.0;
    for (size_t r = 0; r < R; r++) {
        float *z = t->mlog + r * V;
        float mx = z[0];
        for (uint32_t j = 1; j < V; j++) mx = z[j] > mx ? z[j] : mx;
        const float zt = z[t->mtgt[r]] - mx;
        for (uint32_t j = 0; j < V; j++) z[j] -= mx;
        t->kern->exp(z, z, V);
        double se = 0;
        for (uint32_t j = 0; j < V; j++) se += z[j];
        lsum += log(se) - (double)zt;
        const float f = (float)(inv / se);
        for (uint32_t j = 0; j < V; j++) z[j] *= f;
        z[t->mtgt[r]] -= (float)inv;
    }
    *loss = lsum * inv;
    if (!grad || denom <= 0 || R == 0) return 0;

    /* ---- backward ---- */
    memset(t->dX, 0, M * H * 4);
    {
        /* decoder: bias, tied word embeddings, dy */
        lin_bwd(t->my, t->mlog, (uint32_t)R, H, V, E, G + t->o_word, G + t->o_mdb, t->md1, false, t->ones);
        for (size_t r = 0; r < R; r++)
            ln_bwd(t->md1 + r * H, t->mxh + r * H, t->mrs[r], H, W + t->o_mg, G + t->o_mg, G + t->o_mbb,
                   t->md1 + r * H);
        act_bwd(t, t->mf, t->md1, R * H, t->md2, t->my); /* my is free now: scratch */
        lin_bwd(t->mx, t->md1, (uint32_t)R, H, H, W + t->o_mw, G + t->o_mw, G + t->o_mb, t->md2, false,
                t->ones);
        for (size_t r = 0; r < R; r++) {
            float *d = t->dX + (size_t)t->mrow[r] * H;
            const float *src = t->md2 + r * H;
            for (uint32_t h = 0; h < H; h++) d[h] += src[h];
        }
    }
    enc_backward(t, nb, M);
    return 0;
}

/* ---- optimiser ------------------------------------------------------------------------------ */
double kz__train_lr(double lr, uint64_t step, uint64_t total, uint64_t warmup) {
    if (warmup && step < warmup) return lr * (double)(step + 1) / (double)warmup;
    if (total <= warmup) return lr;
    double f = (double)(total - KZ_MIN(step, total)) / (double)(total - warmup);
    return lr * f;
}

double kz__trainer_optimizer_step(kz_trainer *t, double lr, double clip) {
    double ss = 0;
    for (size_t i = 0; i < t->n; i++) ss += (double)t->g[i] * t->g[i];
    double norm = sqrt(ss);
    float gs = 1.f;
    if (clip > 0 && norm > clip) gs = (float)(clip / (norm + 1e-6));
    t->adam_t++;
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const double bc1 = 1.0 - pow(b1, (double)t->adam_t), bc2 = 1.0 - pow(b2, (double)t->adam_t);
    const float step = (float)(lr / bc1), rbc2 = (float)(1.0 / sqrt(bc2));
    for (size_t k = 0; k < t->npt; k++) {
        const kz_tparam *p = &t->pt[k];
        float *w = t->w + p->off, *g = t->g + p->off, *m = t->am + p->off, *v = t->av + p->off;
        const float decay = p->decay ? (float)(1.0 - lr * t->wd) : 1.f;
        for (size_t i = 0; i < p->n; i++) {
            float gi = g[i] * gs;
            m[i] = 0.9f * m[i] + 0.1f * gi;
            v[i] = 0.999f * v[i] + 0.001f * gi * gi;
            w[i] = w[i] * decay - step * m[i] / (sqrtf(v[i]) * rbc2 + (float)eps);
        }
    }
    return norm;
}

uint64_t kz__trainer_adam_t(const kz_trainer *t) { return t->adam_t; }
void kz__trainer_set_adam_t(kz_trainer *t, uint64_t v) { t->adam_t = v; }
float *kz__trainer_moments(kz_trainer *t, int which) { return which ? t->av : t->am; }
void kz__trainer_shape(const kz_trainer *t, kz_train_ckpt_hdr *h) {
    h->n_params = t->n;
    h->layers = t->L, h->hidden = t->H, h->heads = t->NH, h->intermediate = t->I;
    h->vocab = t->V, h->max_pos = t->P, h->type_vocab = t->TV, h->labels = t->C;
}
