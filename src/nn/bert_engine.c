/* BERT inference engine: prepares a kz_bert's weights once for one compute precision
 * (packed panels for the own kernels, or oneDNN matmul primitives with weights reordered
 * into oneDNN's preferred layout), and the per-thread scratch contexts (docs/nn.md). */
#include <dnnl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernels_int.h"

/* ---- oneDNN ------------------------------------------------------------------------ */
static int dnn_fail(kz_error *err, dnnl_status_t st, const char *what) {
    return kz_error_set(err, KZ_ESTATE, "oneDNN %s failed (status %d)", what, (int)st);
}

/* Weights as oneDNN sees them: a K x N matrix; ours is W[n][k], i.e. tag "ba". */
static int dnn_linear(kz_bert_engine *e, kz_eng_linear *l, const kz_nn_src *src, size_t nsrc, uint32_t k,
                      bool int8, kz_error *err) {
    dnnl_engine_t eng = e->dnn_engine;
    dnnl_status_t st;
    /* Bias / scales / colsums (and, for int8, the quantised rows) come from the
     * packer; oneDNN gets its own copy of the weights. */
    int rc = kz__nn_pack(src, nsrc, k, int8 ? KZ_NN_W_S8 : KZ_NN_W_F32, &l->pk);
    if (rc) return kz_error_set(err, rc, "out of memory packing weights");
    const uint32_t n = l->pk.n, NR = KZ_NN_NR;
    size_t esz = int8 ? 1 : 4;
    void *plain = malloc((size_t)n * k * esz); /* [n][k] */
    if (!plain) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    for (uint32_t j = 0; j < n; j++) { /* unpack the panels back into rows: one source of truth */
        size_t panel = j / NR, col = j % NR;
        for (uint32_t i = 0; i < k; i++) {
            if (int8)
                ((int8_t *)plain)[(size_t)j * k + i] =
                    ((const int8_t *)
                         l->pk.w)[panel * l->pk.k_pad * NR + (size_t)(i / 4) * NR * 4 + col * 4 + i % 4];
            else
                ((float *)plain)[(size_t)j * k + i] =
                    ((const float *)l->pk.w)[panel * k * NR + (size_t)i * NR + col];
        }
    }
    kz__nn_free(l->pk.w); /* the own-kernel panels are not needed on this path */
    l->pk.w = NULL;

    dnnl_memory_desc_t src_md, w_md, w_user_md, dst_md, bias_md;
    dnnl_dims_t sd = {DNNL_RUNTIME_DIM_VAL, k}, wd = {k, n}, dd = {DNNL_RUNTIME_DIM_VAL, n}, bd = {1, n};
    dnnl_dims_t ss = {DNNL_RUNTIME_DIM_VAL, 1}, ds = {DNNL_RUNTIME_DIM_VAL, 1};
    dnnl_data_type_t sdt = int8 ? dnnl_u8 : dnnl_f32, wdt = int8 ? dnnl_s8 : dnnl_f32,
                     ddt = int8 ? dnnl_s32 : dnnl_f32;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_memory_t wmem = NULL;
    rc = 0;
    if ((st = dnnl_memory_desc_init_by_strides(&src_md, 2, sd, sdt, ss)) ||
        (st = dnnl_memory_desc_init_by_strides(&dst_md, 2, dd, ddt, ds)) ||
        (st = dnnl_memory_desc_init_by_tag(&w_user_md, 2, wd, wdt, dnnl_ba)) ||
        (st = dnnl_memory_desc_init_by_tag(&bias_md, 2, bd, dnnl_f32, dnnl_ab))) {
        rc = dnn_fail(err, st, "memory descriptor");
        goto done;
    }
    if ((st = dnnl_primitive_attr_create(&attr)) ||
        (st = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user))) {
        rc = dnn_fail(err, st, "attributes");
        goto done;
    }
    /* Let oneDNN pick the weights layout (format "any") for a representative M, then
     * build the runtime-M primitive on that layout. */
    {
        dnnl_memory_desc_t s64, d64;
        dnnl_dims_t s64d = {64, k}, d64d = {64, n};
        dnnl_matmul_desc_t md;
        dnnl_primitive_desc_t pd64 = NULL;
        if ((st = dnnl_memory_desc_init_by_tag(&s64, 2, s64d, sdt, dnnl_ab)) ||
            (st = dnnl_memory_desc_init_by_tag(&d64, 2, d64d, ddt, dnnl_ab)) ||
            (st = dnnl_memory_desc_init_by_tag(&w_md, 2, wd, wdt, dnnl_format_tag_any)) ||
            (st = dnnl_matmul_desc_init(&md, &s64, &w_md, int8 ? NULL : &bias_md, &d64)) ||
            (st = dnnl_primitive_desc_create(&pd64, &md, attr, eng, NULL))) {
            rc = dnn_fail(err, st, "matmul (layout query)");
            goto done;
        }
        w_md = *dnnl_primitive_desc_query_md(pd64, dnnl_query_weights_md, 0);
        dnnl_primitive_desc_destroy(pd64);
    }
    {
        dnnl_matmul_desc_t md;
        if ((st = dnnl_matmul_desc_init(&md, &src_md, &w_md, int8 ? NULL : &bias_md, &dst_md)) ||
            (st = dnnl_primitive_desc_create(&pd, &md, attr, eng, NULL)) ||
            (st = dnnl_primitive_create(&prim, pd))) {
            rc = dnn_fail(err, st, "matmul (runtime M)");
            goto done;
        }
        const dnnl_memory_desc_t *sp = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        l->dnn_scratch = sp ? dnnl_memory_desc_get_size(sp) : 0;
    }
    /* Reorder the plain weights into the chosen layout. */
    {
        dnnl_memory_t umem = NULL;
        dnnl_primitive_desc_t rpd = NULL;
        dnnl_primitive_t rprim = NULL;
        dnnl_stream_t s = NULL;
        if ((st = dnnl_memory_create(&wmem, &w_md, eng, DNNL_MEMORY_ALLOCATE)) ||
            (st = dnnl_memory_create(&umem, &w_user_md, eng, plain)) ||
            (st = dnnl_reorder_primitive_desc_create(&rpd, &w_user_md, eng, &w_md, eng, NULL)) ||
            (st = dnnl_primitive_create(&rprim, rpd)) ||
            (st = dnnl_stream_create(&s, eng, dnnl_stream_default_flags))) {
            rc = dnn_fail(err, st, "weights reorder");
        } else {
            dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, umem}, {DNNL_ARG_TO, wmem}};
            if ((st = dnnl_primitive_execute(rprim, s, 2, args)) || (st = dnnl_stream_wait(s)))
                rc = dnn_fail(err, st, "weights reorder");
        }
        if (s) dnnl_stream_destroy(s);
        if (rprim) dnnl_primitive_destroy(rprim);
        if (rpd) dnnl_primitive_desc_destroy(rpd);
        if (umem) dnnl_memory_destroy(umem);
        if (rc) goto done;
    }
    l->dnn_prim = prim;
    l->dnn_w = wmem;
    e->weight_bytes += dnnl_memory_desc_get_size(&w_md);
    prim = NULL;
    wmem = NULL;
done:
    free(plain);
    if (wmem) dnnl_memory_destroy(wmem);
    if (prim) dnnl_primitive_destroy(prim);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return rc;
}

int kz__eng_dnn_exec(const kz_bert_engine *e, void *stream, const kz_eng_linear *l, const void *src,
                     size_t lds, void *dst, size_t ldd, uint32_t rows, void *scratch) {
    bool int8 = e->prec == KZ_PREC_INT8;
    dnnl_memory_desc_t smd, dmd, bmd, spmd;
    dnnl_dims_t sd = {rows, l->pk.k}, dd = {rows, l->pk.n}, bd = {1, l->pk.n},
                spd = {(dnnl_dim_t)l->dnn_scratch};
    dnnl_dims_t ss = {(dnnl_dim_t)lds, 1}, ds = {(dnnl_dim_t)ldd, 1};
    dnnl_memory_t sm = NULL, dm = NULL, bm = NULL, spm = NULL;
    dnnl_status_t st;
    int rc = KZ_ESTATE;
    dnnl_engine_t eng = e->dnn_engine;
    if (dnnl_memory_desc_init_by_strides(&smd, 2, sd, int8 ? dnnl_u8 : dnnl_f32, ss) ||
        dnnl_memory_desc_init_by_strides(&dmd, 2, dd, int8 ? dnnl_s32 : dnnl_f32, ds) ||
        dnnl_memory_desc_init_by_tag(&bmd, 2, bd, dnnl_f32, dnnl_ab) ||
        dnnl_memory_desc_init_by_tag(&spmd, 1, spd, dnnl_u8, dnnl_a))
        return KZ_ESTATE;
    if (dnnl_memory_create(&sm, &smd, eng, (void *)src) || dnnl_memory_create(&dm, &dmd, eng, dst) ||
        (!int8 && dnnl_memory_create(&bm, &bmd, eng, l->pk.bias)) ||
        (l->dnn_scratch && dnnl_memory_create(&spm, &spmd, eng, scratch)))
        goto done;
    dnnl_exec_arg_t args[5];
    int na = 0;
    args[na++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, sm};
    args[na++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, (dnnl_memory_t)l->dnn_w};
    args[na++] = (dnnl_exec_arg_t){DNNL_ARG_DST, dm};
    if (bm) args[na++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, bm};
    if (spm) args[na++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, spm};
    st = dnnl_primitive_execute((dnnl_primitive_t)l->dnn_prim, (dnnl_stream_t)stream, na, args);
    if (!st) st = dnnl_stream_wait((dnnl_stream_t)stream);
    rc = st ? KZ_ESTATE : 0;
done:
    if (sm) dnnl_memory_destroy(sm);
    if (dm) dnnl_memory_destroy(dm);
    if (bm) dnnl_memory_destroy(bm);
    if (spm) dnnl_memory_destroy(spm);
    return rc;
}

/* ---- engine -------------------------------------------------------------------------- */
static void linear_free(kz_eng_linear *l) {
    kz__nn_packed_free(&l->pk);
    if (l->dnn_prim) dnnl_primitive_destroy((dnnl_primitive_t)l->dnn_prim);
    if (l->dnn_w) dnnl_memory_destroy((dnnl_memory_t)l->dnn_w);
    memset(l, 0, sizeof *l);
}

static kz_nn_src src_of(const kz_bert_linear *b) {
    return (kz_nn_src){
        .w = b->w, .b = b->b, .w_bf16 = b->w_bf16, .w_q8 = b->w_q8, .w_q8_scale = b->w_q8_scale, .n = b->out};
}

static int prep_linear(kz_bert_engine *e, kz_eng_linear *l, const kz_nn_src *src, size_t nsrc, uint32_t k,
                       kz_error *err) {
    if (e->gemm == KZ_NN_GEMM_DNNL) return dnn_linear(e, l, src, nsrc, k, e->prec == KZ_PREC_INT8, err);
    int rc = kz__nn_pack(src, nsrc, k, e->wfmt, &l->pk);
    if (rc) return kz_error_set(err, rc, "out of memory packing weights");
    size_t esz = e->wfmt == KZ_NN_W_F32 ? 4 : e->wfmt == KZ_NN_W_BF16 ? 2 : 1;
    e->weight_bytes += (size_t)l->pk.n_pad * l->pk.k_pad * esz;
    return 0;
}

static bool env_is(const char *name, const char *val) {
    const char *s = getenv(name);
    return s && strcmp(s, val) == 0;
}

void kz_bert_engine_free(kz_bert_engine *e) {
    if (!e) return;
    if (e->layers)
        for (uint32_t i = 0; i < e->m->cfg.layers; i++) {
            linear_free(&e->layers[i].qkv);
            linear_free(&e->layers[i].ao);
            linear_free(&e->layers[i].fi);
            linear_free(&e->layers[i].fo);
        }
    free(e->layers);
    linear_free(&e->cls);
    if (e->dnn_engine) dnnl_engine_destroy((dnnl_engine_t)e->dnn_engine);
    free(e);
}

static int check_model(const kz_bert *m, kz_error *err) {
    const kz_bert_config *c = &m->cfg;
    if (!c->hidden || !c->layers || !c->heads || c->hidden % c->heads || !c->intermediate || !c->vocab_size ||
        !c->max_positions || !c->type_vocab)
        return kz_error_set(err, KZ_EINVAL, "BERT config: zero size or hidden %u not divisible by heads %u",
                            c->hidden, c->heads);
    if (c->hidden > (1u << 16) || c->intermediate > (1u << 18) || c->layers > 1024 ||
        c->max_positions > (1u << 20))
        return kz_error_set(err, KZ_ELIMIT, "BERT config: sizes beyond the engine's limits");
    if (!m->word_emb || !m->pos_emb || !m->type_emb || !m->emb_ln_g || !m->emb_ln_b || !m->layers)
        return kz_error_set(err, KZ_EINVAL, "BERT model: missing embedding tensors");
    for (uint32_t i = 0; i < c->layers; i++) {
        const kz_bert_layer *L = &m->layers[i];
        const kz_bert_linear *ls[6] = {&L->q, &L->k, &L->v, &L->attn_out, &L->ffn_in, &L->ffn_out};
        const uint32_t in[6] = {c->hidden, c->hidden, c->hidden, c->hidden, c->hidden, c->intermediate};
        const uint32_t out[6] = {c->hidden, c->hidden, c->hidden, c->hidden, c->intermediate, c->hidden};
        for (int j = 0; j < 6; j++)
            if (!ls[j]->w || ls[j]->in != in[j] || ls[j]->out != out[j])
                return kz_error_set(err, KZ_EINVAL, "BERT model: layer %u linear %d missing or mis-shaped", i,
                                    j);
        if (!L->ln1_g || !L->ln1_b || !L->ln2_g || !L->ln2_b)
            return kz_error_set(err, KZ_EINVAL, "BERT model: layer %u LayerNorm missing", i);
    }
    if (c->head == KZ_HEAD_TOKEN_CLS && (!m->classifier.w || !c->num_labels ||
                                         m->classifier.out != c->num_labels || m->classifier.in != c->hidden))
        return kz_error_set(err, KZ_EINVAL, "BERT model: token-classification head missing or mis-shaped");
    return 0;
}

int kz_bert_engine_new(const kz_bert *m, const kz_bert_engine_opts *opts, kz_bert_engine **out,
                       kz_error *err) {
    if (!m || !out) return kz_error_set(err, KZ_EINVAL, "kz_bert_engine_new: NULL argument");
    *out = NULL;
    kz_bert_engine_opts o = opts ? *opts : (kz_bert_engine_opts){KZ_PREC_FP32, 1};
    if (o.precision != KZ_PREC_FP32 && o.precision != KZ_PREC_INT8 && o.precision != KZ_PREC_BF16)
        return kz_error_set(err, KZ_EINVAL, "engine precision %d not supported (fp32, int8, bf16)",
                            (int)o.precision);
    if (o.threads < 0 || o.threads > 256)
        return kz_error_set(err, KZ_EINVAL, "threads %d out of range", o.threads);
    int rc = check_model(m, err);
    if (rc) return rc;
    kz_bert_engine *e = calloc(1, sizeof *e);
    if (!e) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    const kz_bert_config *c = &m->cfg;
    e->m = m;
    e->prec = o.precision;
    e->threads = o.threads ? o.threads : 1;
    e->k = kz__nn_kern_best();
    e->H = c->hidden;
    e->I = c->intermediate;
    e->heads = c->heads;
    e->dh = c->hidden / c->heads;
    e->wfmt = o.precision == KZ_PREC_INT8   ? KZ_NN_W_S8
              : o.precision == KZ_PREC_BF16 ? KZ_NN_W_BF16
                                            : KZ_NN_W_F32;
    /* GEMM implementation (docs/nn.md): fp32 -> oneDNN (it also brings AVX-512 where the CPU
     * has it); int8 -> oneDNN only on CPUs with VNNI, else the own AVX2 kernels (faster on
     * AVX2 without VNNI, and exact); bf16 -> own kernels (oneDNN 2.6 has no AVX2 bf16 matmul).
     * KZ_NN_GEMM=own|onednn overrides; KZ_NN_FORCE_PORTABLE=1 means portable C everywhere. */
    bool portable = kz__nn_force_portable();
    bool vnni = kz__nn_cpu_features() & (KZ_CPU_AVX512VNNI | KZ_CPU_AVXVNNI);
    e->gemm = o.precision == KZ_PREC_FP32 || (o.precision == KZ_PREC_INT8 && vnni) ? KZ_NN_GEMM_DNNL
                                                                                   : KZ_NN_GEMM_OWN;
    if (env_is("KZ_NN_GEMM", "own")) e->gemm = KZ_NN_GEMM_OWN;
    if (env_is("KZ_NN_GEMM", "onednn") && o.precision != KZ_PREC_BF16) e->gemm = KZ_NN_GEMM_DNNL;
    if (portable) e->gemm = KZ_NN_GEMM_OWN;
    if (e->gemm == KZ_NN_GEMM_DNNL) {
        dnnl_engine_t de;
        dnnl_status_t st = dnnl_engine_create(&de, dnnl_cpu, 0);
        if (st) {
            e->gemm = KZ_NN_GEMM_OWN; /* no oneDNN CPU engine: own kernels */
        } else {
            e->dnn_engine = de;
        }
    }
    snprintf(e->backend, sizeof e->backend, "%s%s", e->gemm == KZ_NN_GEMM_DNNL ? "onednn-" : "", e->k->name);
    e->layers = calloc(c->layers, sizeof *e->layers);
    if (!e->layers) {
        kz_bert_engine_free(e);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    /* oneDNN's reorders run here: with the engine's thread count, not the process default
     * (idle OpenMP workers would spin on the other core afterwards). */
    int omp_saved = e->gemm == KZ_NN_GEMM_DNNL ? kz__nn_omp_set_threads(e->threads) : 0;
    for (uint32_t i = 0; i < c->layers && !rc; i++) {
        const kz_bert_layer *L = &m->layers[i];
        kz_eng_layer *El = &e->layers[i];
        kz_nn_src qkv[3] = {src_of(&L->q), src_of(&L->k), src_of(&L->v)};
        kz_nn_src ao = src_of(&L->attn_out), fi = src_of(&L->ffn_in), fo = src_of(&L->ffn_out);
        if (!rc) rc = prep_linear(e, &El->qkv, qkv, 3, c->hidden, err);
        if (!rc) rc = prep_linear(e, &El->ao, &ao, 1, c->hidden, err);
        if (!rc) rc = prep_linear(e, &El->fi, &fi, 1, c->hidden, err);
        if (!rc) rc = prep_linear(e, &El->fo, &fo, 1, c->intermediate, err);
        El->ln1_g = L->ln1_g;
        El->ln1_b = L->ln1_b;
        El->ln2_g = L->ln2_g;
        El->ln2_b = L->ln2_b;
    }
    if (!rc && c->head == KZ_HEAD_TOKEN_CLS) {
        kz_nn_src cs = {.w = m->classifier.w, .b = m->classifier.b, .n = m->classifier.out};
        rc = kz__nn_pack(&cs, 1, c->hidden, KZ_NN_W_F32, &e->cls.pk);
        if (rc)
            rc = kz_error_set(err, rc, "out of memory packing the classifier");
        else
            e->nl = c->num_labels;
    }
    if (omp_saved > 0) kz__nn_omp_set_threads(omp_saved);
    if (rc) {
        kz_bert_engine_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

const char *kz_bert_engine_backend(const kz_bert_engine *e) { return e ? e->backend : ""; }

/* ---- per-thread context ---------------------------------------------------------- */
kz_bert_ctx *kz_bert_ctx_new(const kz_bert_engine *e) {
    if (!e) return NULL;
    kz_bert_ctx *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->e = e;
    if (e->threads > 1 && !(c->pool = kz__nn_pool_new(e->threads))) {
        free(c);
        return NULL;
    }
    const char *pe = getenv("KZ_NN_PROFILE");
    c->profile = pe && *pe && strcmp(pe, "0") != 0;
    if (e->dnn_engine) {
        dnnl_stream_t s;
        if (dnnl_stream_create(&s, (dnnl_engine_t)e->dnn_engine, dnnl_stream_default_flags)) {
            kz__nn_pool_free(c->pool);
            free(c);
            return NULL;
        }
        c->stream = s;
    }
    return c;
}

void kz__bert_ctx_release(kz_bert_ctx *c) {
    kz__nn_free(c->x);
    kz__nn_free(c->x1);
    kz__nn_free(c->cb);
    kz__nn_free(c->qkv);
    kz__nn_free(c->f);
    kz__nn_free(c->logit);
    kz__nn_free(c->q1);
    kz__nn_free(c->q2);
    kz__nn_free(c->s1);
    kz__nn_free(c->s2);
    kz__nn_free(c->z1);
    kz__nn_free(c->z2);
    kz__nn_free(c->acc);
    kz__nn_free(c->attn);
    kz__nn_free(c->dnn_scratch);
    kz__nn_free(c->rows);
    kz__nn_free(c->kt);
    kz__nn_free(c->ktoff);
    c->kt = NULL;
    c->ktoff = NULL;
    c->cap_kt = 0;
    c->cap_rows = c->cap_T = c->cap_batch = c->dnn_scratch_cap = 0;
    c->x = c->x1 = c->cb = c->qkv = c->f = c->logit = c->attn = NULL;
    c->s1 = c->s2 = NULL;
    c->q1 = c->q2 = NULL;
    c->z1 = c->z2 = c->acc = NULL;
    c->dnn_scratch = NULL;
    c->rows = NULL;
}

void kz_bert_ctx_free(kz_bert_ctx *c) {
    if (!c) return;
    kz__bert_ctx_release(c);
    if (c->stream) dnnl_stream_destroy((dnnl_stream_t)c->stream);
    kz__nn_pool_free(c->pool);
    free(c);
}
