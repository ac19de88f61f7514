/* Kazu's BERT test checkpoint (../shared/data/models/kazu_bert_test_model,
 * torch zip): tensor names, shapes and counts, values against torch, and the
 * round trip HF -> .kzm -> load in every storage precision. */
#include <math.h>
#include <time.h>
#include <unistd.h>
#include "kz_test.h"
#include "nn/load_int.h"

#define MODEL KZ_SHARED_DATA "/models/kazu_bert_test_model"

static void quiet_sink(kz_log_level l, const char *m, void *u) {
    (void)l;
    (void)m;
    (void)u;
}

static kz_bert *load_or_fail(const char *path) {
    kz_bert *m = NULL;
    kz_error e;
    kz_error_clear(&e);
    kz_log_set_sink(quiet_sink, NULL, KZ_LOG_DEBUG);
    if (kz_bert_load(path, &m, &e)) {
        char buf[1024];
        fprintf(stderr, "  load %s: %s\n", path, kz_error_format(&e, buf, sizeof buf));
        return NULL;
    }
    return m;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

KZ_TEST(data_kazu_test_model_structure) {
    if (!kz_test_have_shared_data()) {
        printf("  (skipped: no ../shared/data)\n");
        return;
    }
    kz_bert *m = load_or_fail(MODEL);
    KZ_CHECK(m != NULL);
    const kz_bert_config *c = kz_bert_get_config(m);
    KZ_CHECK_INT(c->hidden, 8);
    KZ_CHECK_INT(c->layers, 12);
    KZ_CHECK_INT(c->heads, 4);
    KZ_CHECK_INT(c->intermediate, 3072);
    KZ_CHECK_INT(c->max_positions, 256);
    KZ_CHECK_INT(c->type_vocab, 2);
    KZ_CHECK_INT(c->vocab_size, 30522); /* the embedding matrix decides */
    KZ_CHECK_INT(c->act, KZ_ACT_GELU);
    KZ_CHECK_INT(c->head, KZ_HEAD_NONE); /* BertModel */
    KZ_CHECK(c->layer_norm_eps == 1e-12f);
    /* vocab.txt has 28,996 tokens for 30,522 rows: loaded, with a warning */
    KZ_CHECK(kz_bert_tokenizer(m) != NULL);
    KZ_CHECK_INT(kz_wordpiece_vocab_size(kz_bert_tokenizer(m)), 28996);
    kz_bert_stats s;
    kz_bert_get_stats(m, &s);
    KZ_CHECK_INT(s.n_tensors, 200);
    KZ_CHECK_INT(s.n_params, 877208);
    KZ_CHECK_INT(s.n_params_used, 877208 - 256 - 72); /* position_ids and pooler skipped */
    KZ_CHECK_INT(s.n_ignored, 3);
    KZ_CHECK_INT(s.n_by_dtype[KZ_DT_F32], 199);
    KZ_CHECK_INT(s.n_by_dtype[KZ_DT_I64], 1);
    KZ_CHECK_INT(s.file_bytes, 3580593);
    KZ_CHECK_STR(m->tensors.t[0].name, "embeddings.position_ids");
    KZ_CHECK_STR(m->tensors.t[199].name, "pooler.dense.bias");
    const kz_tensor *t = kz__tensor_find(&m->tensors, "encoder.layer.7.intermediate.dense.weight");
    KZ_CHECK(t && t->ndim == 2 && t->shape[0] == 3072 && t->shape[1] == 8 && t->dtype == KZ_DT_F32);
    KZ_CHECK_INT(m->layers[7].ffn_in.out, 3072);
    KZ_CHECK_INT(m->layers[7].ffn_out.in, 3072);
    /* values as torch.load gives them */
    double sum = 0, asum = 0;
    for (size_t i = 0; i < (size_t)30522 * 8; i++) {
        sum += m->word_emb[i];
        asum += fabs(m->word_emb[i]);
    }
    KZ_CHECK(fabs(sum - 10.575746687421827) < 1e-9 && fabs(asum - 3900.343669897431) < 1e-8);
    KZ_CHECK(m->word_emb[30522 * 8 - 1] == (float)-0.00983200129121542);
    const float *w = m->layers[11].ffn_out.w;
    KZ_CHECK(w[0] == (float)-0.0514351986348629 && w[1] == (float)0.0034962231293320656 &&
             w[2] == (float)-0.012755031697452068);
    sum = 0;
    for (size_t i = 0; i < (size_t)8 * 3072; i++) sum += w[i];
    KZ_CHECK(fabs(sum - 3.0344926953797255) < 1e-9);
    KZ_CHECK(m->emb_ln_g[3] == 1.0f && m->layers[5].ffn_in.b[100] == 0.0f);
    kz_bert_free(m);
}

typedef enum { SAME, F16, BF16, Q8 } mode;

/* b's fp32 view of every weight against a's, within the storage's precision. */
static bool block_ok(const float *a, const float *b, size_t rows, size_t cols, mode md, bool reduced,
                     char *why) {
    for (size_t r = 0; r < rows; r++) {
        float mx = 0;
        if (md == Q8 && reduced)
            for (size_t c = 0; c < cols; c++) mx = fmaxf(mx, fabsf(a[r * cols + c]));
        for (size_t c = 0; c < cols; c++) {
            float x = a[r * cols + c], y = b[r * cols + c];
            bool ok = !reduced || md == SAME ? x == y
                      : md == F16            ? y == kz__f16_to_f32(kz__f32_to_f16(x))
                      : md == BF16           ? y == kz__bf16_to_f32(kz__f32_to_bf16(x))
                                             : fabsf(x - y) <= mx / 254.0f * 1.0001f + 1e-9f;
            if (!ok) {
                sprintf(why, "row %zu col %zu: %.9g vs %.9g", r, c, (double)x, (double)y);
                return false;
            }
        }
    }
    return true;
}

static bool models_match(const kz_bert *a, const kz_bert *b, mode md, char *why) {
    const kz_bert_config *c = &a->cfg;
    size_t H = c->hidden, I = c->intermediate;
    bool emb = md == F16 || md == BF16; /* embeddings reduced only in fp16/bf16 storage */
    if (!block_ok(a->word_emb, b->word_emb, c->vocab_size, H, md, emb, why) ||
        !block_ok(a->pos_emb, b->pos_emb, c->max_positions, H, md, emb, why) ||
        !block_ok(a->type_emb, b->type_emb, c->type_vocab, H, md, emb, why) ||
        !block_ok(a->emb_ln_g, b->emb_ln_g, 1, H, md, false, why) ||
        !block_ok(a->emb_ln_b, b->emb_ln_b, 1, H, md, false, why))
        return false;
    for (uint32_t l = 0; l < c->layers; l++) {
        const kz_bert_layer *x = &a->layers[l], *y = &b->layers[l];
        const kz_bert_linear *lx[6] = {&x->q, &x->k, &x->v, &x->attn_out, &x->ffn_in, &x->ffn_out};
        const kz_bert_linear *ly[6] = {&y->q, &y->k, &y->v, &y->attn_out, &y->ffn_in, &y->ffn_out};
        for (int i = 0; i < 6; i++) {
            if (!block_ok(lx[i]->w, ly[i]->w, lx[i]->out, lx[i]->in, md, true, why) ||
                !block_ok(lx[i]->b, ly[i]->b, 1, lx[i]->out, md, false, why))
                return false;
            if (md == Q8 && (!ly[i]->w_q8 || !ly[i]->w_q8_scale)) return sprintf(why, "no int8 copy"), false;
            if (md == BF16 && !ly[i]->w_bf16) return sprintf(why, "no bf16 copy"), false;
        }
        if (!block_ok(x->ln1_g, y->ln1_g, 1, H, md, false, why) ||
            !block_ok(x->ln1_b, y->ln1_b, 1, H, md, false, why) ||
            !block_ok(x->ln2_g, y->ln2_g, 1, H, md, false, why) ||
            !block_ok(x->ln2_b, y->ln2_b, 1, H, md, false, why))
            return false;
    }
    (void)I;
    return true;
}

KZ_TEST(data_kazu_test_model_kzm_roundtrip) {
    if (!kz_test_have_shared_data()) {
        printf("  (skipped: no ../shared/data)\n");
        return;
    }
    kz_bert *hf = load_or_fail(MODEL);
    KZ_CHECK(hf != NULL);
    char dir[] = "/tmp/kz_nn_data_XXXXXX";
    KZ_CHECK(mkdtemp(dir) != NULL);
    static const struct {
        kz_precision p;
        mode md;
    } runs[] = {{KZ_PREC_FP32, SAME}, {KZ_PREC_FP16, F16}, {KZ_PREC_BF16, BF16}, {KZ_PREC_INT8, Q8}};
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        char path[256], why[256] = "";
        snprintf(path, sizeof path, "%s/m_%s.kzm", dir, kz_precision_name(runs[i].p));
        kz_error e;
        kz_error_clear(&e);
        KZ_CHECK_INT(kz_bert_save(hf, path, runs[i].p, &e), 0);
        KZ_CHECK_INT(kz_bert_verify_file(path, &e), 0);
        double t0 = now_ms();
        kz_bert *k = load_or_fail(path);
        double ms = now_ms() - t0;
        KZ_CHECK(k != NULL);
        KZ_CHECK_INT(k->stored, runs[i].p);
        if (!models_match(hf, k, runs[i].md, why)) {
            kz_test_fail(__FILE__, __LINE__, "%s: %s", kz_precision_name(runs[i].p), why);
            kz_bert_free(k);
            break;
        }
        KZ_CHECK_INT(kz_wordpiece_vocab_size(kz_bert_tokenizer(k)), 28996);
        KZ_CHECK_INT(k->cfg.vocab_size, 30522);
        kz_bert_stats s;
        kz_bert_get_stats(k, &s);
        KZ_CHECK_INT(s.n_tensors, 5 + 16 * 12);
        printf("  %s: %llu bytes, loaded in %.2f ms (tokenizer included)\n", kz_precision_name(runs[i].p),
               (unsigned long long)s.file_bytes, ms);
        kz_bert_free(k);
        unlink(path);
    }
    rmdir(dir);
    kz_bert_free(hf);
}
