/* BERT model loading: safetensors, torch zip + safe pickle, .kzm, config.json,
 * name/shape resolution; every validation branch, truncation at many points,
 * lying headers, refused globals and opcodes. Fixtures: tests/golden/nn_load/
 * (tools/make_loader_fixtures.py). */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>
#include "kz_test.h"
#include "nn/load_int.h"

#define GOLD KZ_SOURCE_DIR "/tests/golden/nn_load"
#define H    8
#define NL   2
#define FF   16
#define VR   40
#define PR   16
#define TR   2

/* ---- helpers ------------------------------------------------------------------------ */
static int silence_n;
static void count_log(kz_log_level l, const char *msg, void *u) {
    (void)l;
    (void)msg;
    (void)u;
    silence_n++;
}
static void quiet(void) { kz_log_set_sink(count_log, NULL, KZ_LOG_DEBUG); }

static bool has(const kz_error *e, const char *needle) { return strstr(e->msg, needle) != NULL; }
#define CHECK_MSG(e, needle)                                                                                 \
    do {                                                                                                     \
        if (!has(&(e), (needle))) {                                                                          \
            kz_test_fail(__FILE__, __LINE__, "message lacks \"%s\": %s", (needle), (e).msg);                 \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)

static float *g_expected; /* tiny_expected.f32 */
static size_t g_expected_n;
static const float *expected(void) {
    if (!g_expected) {
        size_t len;
        g_expected = (float *)kz_test_read_file(GOLD "/tiny_expected.f32", &len);
        g_expected_n = g_expected ? len / 4 : 0;
    }
    return g_expected;
}

typedef enum { EXACT, ROUND_F16, ROUND_BF16, INT8 } cmp_mode;

static float rounded(float v, cmp_mode m) {
    if (m == ROUND_F16) return kz__f16_to_f32(kz__f32_to_f16(v));
    if (m == ROUND_BF16) return kz__bf16_to_f32(kz__f32_to_bf16(v));
    return v;
}

/* Compare n values at *at of the expected blob; int8 mode checks the per-row bound for matrices. */
static bool cmp_block(const float *got, size_t n, size_t cols, size_t *at, cmp_mode m, bool dense,
                      char *why) {
    const float *e = expected() + *at;
    if (*at + n > g_expected_n) {
        sprintf(why, "expected blob too short");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        bool ok;
        if (m == INT8 && dense) {
            size_t r = i / cols;
            float mx = 0;
            for (size_t c = 0; c < cols; c++) mx = fmaxf(mx, fabsf(e[r * cols + c]));
            ok = fabsf(got[i] - e[i]) <= mx / 127.0f * 0.5f * 1.0001f + 1e-7f;
        } else {
            cmp_mode mm = (m == INT8) ? EXACT : m;
            /* fp16/bf16 storage keeps LayerNorm and biases (1-D) exact in .kzm; HF files round everything */
            ok = got[i] == rounded(e[i], mm) || (dense == false && cols == 0 && got[i] == e[i]);
        }
        if (!ok) {
            sprintf(why, "value %zu of block at %zu: got %.9g expected %.9g", i, *at, (double)got[i],
                    (double)e[i]);
            return false;
        }
    }
    *at += n;
    return true;
}

/* The model's fp32 weights in canonical order against tiny_expected.f32. */
static bool model_matches(const kz_bert *m, cmp_mode mode, bool with_classifier, char *why) {
    size_t at = 0;
    const kz_bert_config *c = &m->cfg;
    cmp_mode emb = mode == INT8 ? EXACT : mode;
    if (!cmp_block(m->word_emb, (size_t)c->vocab_size * H, H, &at, emb, false, why) ||
        !cmp_block(m->pos_emb, PR * H, H, &at, emb, false, why) ||
        !cmp_block(m->type_emb, TR * H, H, &at, emb, false, why) ||
        !cmp_block(m->emb_ln_g, H, 0, &at, mode, false, why) ||
        !cmp_block(m->emb_ln_b, H, 0, &at, mode, false, why))
        return false;
    for (uint32_t l = 0; l < c->layers; l++) {
        const kz_bert_layer *y = &m->layers[l];
        const kz_bert_linear *lin[6] = {&y->q, &y->k, &y->v, &y->attn_out, &y->ffn_in, &y->ffn_out};
        for (int i = 0; i < 4; i++)
            if (!cmp_block(lin[i]->w, H * H, H, &at, mode, true, why) ||
                !cmp_block(lin[i]->b, H, 0, &at, mode, false, why))
                return false;
        if (!cmp_block(y->ln1_g, H, 0, &at, mode, false, why) ||
            !cmp_block(y->ln1_b, H, 0, &at, mode, false, why) ||
            !cmp_block(y->ffn_in.w, FF * H, H, &at, mode, true, why) ||
            !cmp_block(y->ffn_in.b, FF, 0, &at, mode, false, why) ||
            !cmp_block(y->ffn_out.w, H * FF, FF, &at, mode, true, why) ||
            !cmp_block(y->ffn_out.b, H, 0, &at, mode, false, why) ||
            !cmp_block(y->ln2_g, H, 0, &at, mode, false, why) ||
            !cmp_block(y->ln2_b, H, 0, &at, mode, false, why))
            return false;
    }
    if (with_classifier && (!cmp_block(m->classifier.w, 3 * H, H, &at, mode, true, why) ||
                            !cmp_block(m->classifier.b, 3, 0, &at, mode, false, why)))
        return false;
    return true;
}

#define CHECK_MODEL(m, mode, cls)                                                                            \
    do {                                                                                                     \
        char why_[256] = "";                                                                                 \
        if (!model_matches((m), (mode), (cls), why_)) {                                                      \
            kz_test_fail(__FILE__, __LINE__, "weights differ: %s", why_);                                    \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)

static char g_tmpdir[256];
static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}
static void rm_tmpdir(void) {
    if (g_tmpdir[0]) nftw(g_tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(g_expected);
}
static const char *tmpdir(void) {
    if (!g_tmpdir[0]) {
        snprintf(g_tmpdir, sizeof g_tmpdir, "/tmp/kz_nn_load_XXXXXX");
        if (!mkdtemp(g_tmpdir))
            g_tmpdir[0] = 0;
        else
            atexit(rm_tmpdir);
    }
    return g_tmpdir;
}

static void write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(p, 1, n, f);
        fclose(f);
    }
}

static void copy_file(const char *from, const char *to) {
    size_t n;
    char *b = kz_test_read_file(from, &n);
    if (b) write_file(to, b, n);
    free(b);
}

/* A fresh directory under the temp dir. */
static const char *newdir(const char *name, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/%s", tmpdir(), name);
    mkdir(buf, 0755);
    return buf;
}

static int load(const char *path, kz_bert **m, kz_error *e) {
    kz_error_clear(e);
    quiet();
    return kz_bert_load(path, m, e);
}

/* ---- numbers ------------------------------------------------------------------------ */
KZ_TEST(nn_f16_roundtrip_exhaustive) {
    for (uint32_t h = 0; h < 65536; h++) {
        float f = kz__f16_to_f32((uint16_t)h);
        if (isnan(f)) {
            KZ_CHECK((kz__f32_to_f16(f) & 0x7c00u) == 0x7c00u && (kz__f32_to_f16(f) & 0x3ffu));
            continue;
        }
        KZ_CHECK_INT(kz__f32_to_f16(f), h);
#ifdef __FLT16_MAX__ /* the compiler's _Float16 as a second reference (gcc; clang >= 15 on x86) */
        _Float16 ref;
        uint16_t rb = (uint16_t)h;
        memcpy(&ref, &rb, 2);
        KZ_CHECK((float)ref == f || (isnan((float)ref) && isnan(f)));
#endif
    }
}

#ifdef __FLT16_MAX__ /* needs the compiler's _Float16 (gcc; clang >= 15 on x86) */
KZ_TEST(nn_f32_to_f16_matches_compiler_rounding) {
    uint32_t s = 12345;
    for (int i = 0; i < 2000000; i++) {
        s = s * 1664525u + 1013904223u;
        uint32_t bits = s ^ (s >> 7);
        float f;
        memcpy(&f, &bits, 4);
        if (isnan(f)) continue;
        _Float16 r = (_Float16)f;
        uint16_t want;
        memcpy(&want, &r, 2);
        if (kz__f32_to_f16(f) != want) {
            kz_test_fail(__FILE__, __LINE__, "%a: got 0x%04x want 0x%04x", (double)f, kz__f32_to_f16(f),
                         want);
            return;
        }
    }
    KZ_CHECK_INT(kz__f32_to_f16(65519.0f), 0x7bff); /* rounds down to 65504 */
    KZ_CHECK_INT(kz__f32_to_f16(65520.0f), 0x7c00); /* ties to even: infinity */
    KZ_CHECK_INT(kz__f32_to_f16(-0.0f), 0x8000);
    KZ_CHECK_INT(kz__f32_to_bf16(1.0f), 0x3f80);
    KZ_CHECK_INT(kz__f32_to_bf16(1.00390625f), 0x3f80); /* tie -> even */
    KZ_CHECK_INT(kz__f32_to_bf16(1.01171875f), 0x3f82);
}
#endif

KZ_TEST(nn_dtype_and_precision_names) {
    kz_dtype d;
    KZ_CHECK_INT(kz__dtype_size(KZ_DT_F32), 4);
    KZ_CHECK_INT(kz__dtype_size(KZ_DT_BF16), 2);
    KZ_CHECK_INT(kz__dtype_size(KZ_DT_I64), 8);
    KZ_CHECK_INT(kz__dtype_parse("BF16", &d), 0);
    KZ_CHECK_INT(d, KZ_DT_BF16);
    KZ_CHECK_INT(kz__dtype_parse("F64", &d), KZ_EFORMAT);
    KZ_CHECK_INT(kz__dtype_parse("f32", &d), KZ_EPARSE);
    KZ_CHECK_STR(kz__dtype_name(KZ_DT_I8), "I8");
    kz_precision p;
    KZ_CHECK_INT(kz_precision_parse("INT8", &p), 0);
    KZ_CHECK_INT(p, KZ_PREC_INT8);
    KZ_CHECK_INT(kz_precision_parse("bfloat16", &p), 0);
    KZ_CHECK_INT(p, KZ_PREC_BF16);
    KZ_CHECK_INT(kz_precision_parse("fp8", &p), KZ_EINVAL);
    KZ_CHECK_STR(kz_precision_name(KZ_PREC_FP16), "fp16");
    KZ_CHECK_STR(kz_precision_name((kz_precision)9), "unknown");
    int64_t sh[3] = {2, 3, 4};
    uint64_t n;
    KZ_CHECK(kz__shape_numel(sh, 3, &n) && n == 24);
    sh[1] = -1;
    KZ_CHECK(!kz__shape_numel(sh, 3, &n));
    int64_t big[3] = {1 << 20, 1 << 20, 1 << 20};
    KZ_CHECK(!kz__shape_numel(big, 3, &n));
}

/* ---- Hugging Face directories ---------------------------------------------------------- */
KZ_TEST(nn_load_torch_zip_token_classifier) {
    kz_bert *m;
    kz_error e;
    KZ_CHECK_INT(load(GOLD "/tiny_tc", &m, &e), 0);
    const kz_bert_config *c = kz_bert_get_config(m);
    KZ_CHECK_INT(c->hidden, H);
    KZ_CHECK_INT(c->layers, NL);
    KZ_CHECK_INT(c->heads, 2);
    KZ_CHECK_INT(c->intermediate, FF);
    KZ_CHECK_INT(c->vocab_size, VR);
    KZ_CHECK_INT(c->max_positions, PR);
    KZ_CHECK_INT(c->type_vocab, TR);
    KZ_CHECK(c->layer_norm_eps == 1e-12f);
    KZ_CHECK_INT(c->act, KZ_ACT_GELU);
    KZ_CHECK_INT(c->head, KZ_HEAD_TOKEN_CLS);
    KZ_CHECK(!c->multilabel);
    KZ_CHECK_INT(c->num_labels, 3);
    KZ_CHECK_STR(c->id2label[1], "B-gene");
    KZ_CHECK_INT(m->stored, KZ_PREC_FP32);
    KZ_CHECK(kz_bert_tokenizer(m) != NULL);
    KZ_CHECK_INT(kz_wordpiece_vocab_size(kz_bert_tokenizer(m)), 36);
    KZ_CHECK_INT(m->classifier.out, 3);
    KZ_CHECK_INT(m->classifier.in, H);
    KZ_CHECK_INT(m->layers[1].ffn_in.out, FF);
    KZ_CHECK_INT(m->layers[1].ffn_out.in, FF);
    KZ_CHECK(m->layers[0].q.w_q8 == NULL && m->layers[0].q.w_bf16 == NULL);
    CHECK_MODEL(m, EXACT, true);
    kz_bert_stats s;
    kz_bert_get_stats(m, &s);
    KZ_CHECK_STR(s.format, "torch-zip");
    KZ_CHECK_INT(s.n_tensors, 39);
    KZ_CHECK_INT(s.n_params, 1707);
    KZ_CHECK_INT(s.n_params_used, 1707);
    KZ_CHECK(s.lowercase);
    kz_bert_free(m);
    kz_bert_free(NULL);
}

KZ_TEST(nn_load_torch_zip_half_and_bf16_storages) {
    kz_bert *m;
    kz_error e;
    KZ_CHECK_INT(load(GOLD "/tiny_tc/model_f16.bin", &m, &e), 0);
    KZ_CHECK_INT(m->stored, KZ_PREC_FP16);
    CHECK_MODEL(m, ROUND_F16, true); /* torch's .half() rounding == ours */
    kz_bert_free(m);
    KZ_CHECK_INT(load(GOLD "/tiny_tc/model_bf16.bin", &m, &e), 0);
    KZ_CHECK_INT(m->stored, KZ_PREC_BF16);
    CHECK_MODEL(m, ROUND_BF16, true);
    KZ_CHECK(m->layers[1].ffn_out.w_bf16 != NULL && m->classifier.w_bf16 != NULL);
    KZ_CHECK(kz__bf16_to_f32(m->layers[1].ffn_out.w_bf16[5]) == m->layers[1].ffn_out.w[5]);
    kz_bert_free(m);
}

KZ_TEST(nn_load_safetensors_encoder) {
    kz_bert *m;
    kz_error e;
    KZ_CHECK_INT(load(GOLD "/tiny_st", &m, &e), 0);
    KZ_CHECK_INT(m->cfg.head, KZ_HEAD_NONE);
    KZ_CHECK_INT(m->cfg.num_labels, 0);
    KZ_CHECK(m->cfg.id2label == NULL);
    KZ_CHECK(m->classifier.w == NULL);
    CHECK_MODEL(m, EXACT, false);
    /* fp32 weights are used in place: they point into the mapping */
    const char *base = m->tensors.map;
    KZ_CHECK(base && (const char *)m->layers[1].q.w > base &&
             (const char *)m->layers[1].q.w < base + m->tensors.map_len);
    kz_bert_stats s;
    kz_bert_get_stats(m, &s);
    KZ_CHECK_STR(s.format, "safetensors");
    KZ_CHECK_INT(s.n_tensors, 40);
    KZ_CHECK_INT(s.n_ignored, 3); /* pooler.dense.{weight,bias}, position_ids */
    KZ_CHECK_INT(s.n_by_dtype[KZ_DT_I64], 1);
    kz_bert_free(m);
    KZ_CHECK_INT(load(GOLD "/tiny_st/model_f16.safetensors", &m, &e), 0);
    CHECK_MODEL(m, ROUND_F16, false);
    kz_bert_free(m);
    KZ_CHECK_INT(load(GOLD "/tiny_st/model_bf16.safetensors", &m, &e), 0);
    CHECK_MODEL(m, ROUND_BF16, false);
    KZ_CHECK(m->layers[0].v.w_bf16 != NULL);
    kz_bert_free(m);
}

KZ_TEST(nn_load_tied_pretraining_heads_ignored) {
    kz_bert *m;
    kz_error e;
    KZ_CHECK_INT(load(GOLD "/tiny_mlm", &m, &e), 0);
    KZ_CHECK_INT(m->cfg.head, KZ_HEAD_NONE);
    KZ_CHECK(kz_bert_tokenizer(m) == NULL); /* no vocab.txt */
    CHECK_MODEL(m, EXACT, false);
    kz_bert_stats s;
    kz_bert_get_stats(m, &s);
    KZ_CHECK_INT(s.n_ignored, 7); /* 6 cls.* (decoder tied to the embeddings) + position_ids */
    /* the tied decoder shares the word embeddings' storage: same bytes */
    const kz_tensor *dec = kz__tensor_find(&m->tensors, "cls.predictions.decoder.weight");
    KZ_CHECK(dec && dec->data == (const void *)m->word_emb);
    kz_bert_free(m);
}

KZ_TEST(nn_load_refuses_noncontiguous_legacy_and_globals) {
    kz_bert *m;
    kz_error e;
    KZ_CHECK_INT(load(GOLD "/tiny_tc/noncontig.bin", &m, &e), KZ_EFORMAT);
    CHECK_MSG(e, "not contiguous");
    CHECK_MSG(e, "bert.encoder.layer.0.intermediate.dense.weight");
    KZ_CHECK(strstr(e.path, "noncontig.bin") != NULL);
    KZ_CHECK_INT(load(GOLD "/tiny_tc/legacy.bin", &m, &e), KZ_EFORMAT);
    CHECK_MSG(e, "legacy");
    unlink("/tmp/kazu_c_pwned");
    KZ_CHECK_INT(load(GOLD "/tiny_tc/evil_os_system.bin", &m, &e), KZ_EFORMAT);
    CHECK_MSG(e, "refusing global");
    KZ_CHECK(has(&e, "posix.system") || has(&e, "os.system"));
    KZ_CHECK(access("/tmp/kazu_c_pwned", F_OK) != 0);
    KZ_CHECK(m == NULL);
}

/* A scratch HF directory: config text, weights copied from a fixture, optional vocab. */
static const char *hf_dir(const char *name, const char *config, const char *weights_from,
                          const char *weights_as, const char *vocab, char *buf, size_t cap) {
    char p[512];
    newdir(name, buf, cap);
    if (config) {
        snprintf(p, sizeof p, "%s/config.json", buf);
        write_file(p, config, strlen(config));
    }
    if (weights_from) {
        snprintf(p, sizeof p, "%s/%s", buf, weights_as);
        copy_file(weights_from, p);
    }
    if (vocab) {
        snprintf(p, sizeof p, "%s/vocab.txt", buf);
        write_file(p, vocab, strlen(vocab));
    }
    return buf;
}

#define TINY_CFG(extra)                                                                                      \
    "{\"hidden_size\": 8, \"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"intermediate_size\": 16, " \
    "\"max_position_embeddings\": 16, \"type_vocab_size\": 2, \"vocab_size\": 40" extra "}"

KZ_TEST(nn_load_directory_errors) {
    kz_bert *m;
    kz_error e;
    char d[512];
    KZ_CHECK_INT(load(hf_dir("noweights", TINY_CFG(""), NULL, NULL, NULL, d, sizeof d), &m, &e),
                 KZ_ENOTFOUND);
    CHECK_MSG(e, "no model.safetensors or pytorch_model.bin");
    hf_dir("sharded", TINY_CFG(""), GOLD "/tiny_tc/config.json", "model.safetensors.index.json", NULL, d,
           sizeof d);
    KZ_CHECK_INT(load(d, &m, &e), KZ_EFORMAT);
    CHECK_MSG(e, "sharded");
    hf_dir("noconfig", NULL, GOLD "/tiny_st/model.safetensors", "model.safetensors", NULL, d, sizeof d);
    KZ_CHECK_INT(load(d, &m, &e), KZ_ENOTFOUND);
    KZ_CHECK(strstr(e.path, "config.json") != NULL);
    hf_dir("badjson", "{\"hidden_size\": 8,,}", GOLD "/tiny_st/model.safetensors", "model.safetensors", NULL,
           d, sizeof d);
    KZ_CHECK_INT(load(d, &m, &e), KZ_EPARSE);
    KZ_CHECK(e.line == 1 && e.column > 0);
    KZ_CHECK_INT(load(GOLD "/tiny_tc/vocab.txt", &m, &e), KZ_EFORMAT);
    CHECK_MSG(e, "not a model");
    KZ_CHECK_INT(load("/nonexistent/kz/model", &m, &e), KZ_EIO);
    KZ_CHECK_INT(kz_bert_load(NULL, &m, &e), KZ_EINVAL);
    /* Architecture absent: classifier.* present decides the head. */
    hf_dir("autohead", TINY_CFG(", \"id2label\": {\"0\": \"O\", \"1\": \"B\", \"2\": \"I\"}"),
           GOLD "/tiny_tc/pytorch_model.bin", "pytorch_model.bin", NULL, d, sizeof d);
    KZ_CHECK_INT(load(d, &m, &e), 0);
    KZ_CHECK_INT(m->cfg.head, KZ_HEAD_TOKEN_CLS);
    KZ_CHECK_STR(m->cfg.id2label[2], "I");
    kz_bert_free(m);
    /* Absent architecture and the HF default of 2 labels: the 3-row classifier disagrees. */
    hf_dir("labels2", TINY_CFG(""), GOLD "/tiny_tc/pytorch_model.bin", "pytorch_model.bin", NULL, d,
           sizeof d);
    KZ_CHECK_INT(load(d, &m, &e), KZ_EFORMAT);
    CHECK_MSG(e, "has 3 rows but the config has 2 labels");
    /* An encoder architecture with classifier tensors: they are ignored. */
    hf_dir("enc_with_cls", TINY_CFG(", \"architectures\": [\"BertModel\"]"),
           GOLD "/tiny_tc/pytorch_model.bin", "pytorch_model.bin", NULL, d, sizeof d);
    KZ_CHECK_INT(load(d, &m, &e), 0);
    KZ_CHECK_INT(m->cfg.head, KZ_HEAD_NONE);
    kz_bert_free(m);
    /* Kazu's multilabel model class */
    hf_dir(
        "multilabel",
        TINY_CFG(
            ", \"architectures\": [\"BertForMultiLabelTokenClassification\"], \"id2label\": {\"0\": \"O\", "
            "\"1\": \"gene\", \"2\": \"drug\"}"),
        GOLD "/tiny_tc/pytorch_model.bin", "pytorch_model.bin", NULL, d, sizeof d);
    KZ_CHECK_INT(load(d, &m, &e), 0);
    KZ_CHECK(m->cfg.multilabel);
    kz_bert_free(m);
    /* config says 3 layers, the file has 2 */
    hf_dir("layers3",
           "{\"hidden_size\": 8, \"num_hidden_layers\": 3, \"num_attention_heads\": 2, "
           "\"intermediate_size\": 16, \"max_position_embeddings\": 16, \"architectures\": [\"BertModel\"]}",
           GOLD "/tiny_st/model.safetensors", "model.safetensors", NULL, d, sizeof d);
    KZ_CHECK_INT(load(d, &m, &e), KZ_EFORMAT);
    CHECK_MSG(e, "missing tensor 'encoder.layer.2.attention.self.query.weight' and 15 more");
    KZ_CHECK(strstr(e.path, "model.safetensors") != NULL);
    /* config says 1 layer, the file has 2 */
    hf_dir("layers1",
           "{\"hidden_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, "
           "\"intermediate_size\": 16, \"max_position_embeddings\": 16, \"architectures\": [\"BertModel\"]}",
           GOLD "/tiny_st/model.safetensors", "model.safetensors", NULL, d, sizeof d);
    KZ_CHECK_INT(load(d, &m, &e), KZ_EFORMAT);
    CHECK_MSG(e, "the config has 1 layers");
    /* wrong intermediate size */
    hf_dir("ffn",
           "{\"hidden_size\": 8, \"num_hidden_layers\": 2, \"num_attention_heads\": 2, "
           "\"intermediate_size\": 32, \"max_position_embeddings\": 16, \"architectures\": [\"BertModel\"]}",
           GOLD "/tiny_st/model.safetensors", "model.safetensors", NULL, d, sizeof d);
    KZ_CHECK_INT(load(d, &m, &e), KZ_EFORMAT);
    CHECK_MSG(e, "expected [32, 8] (intermediate_size x hidden_size)");
    /* wrong max positions */
    hf_dir("pos",
           "{\"hidden_size\": 8, \"num_hidden_layers\": 2, \"num_attention_heads\": 2, "
           "\"intermediate_size\": 16, \"max_position_embeddings\": 512, \"architectures\": [\"BertModel\"]}",
           GOLD "/tiny_st/model.safetensors", "model.safetensors", NULL, d, sizeof d);
    KZ_CHECK_INT(load(d, &m, &e), KZ_EFORMAT);
    CHECK_MSG(e, "embeddings.position_embeddings.weight");
    /* a vocabulary larger than the embedding matrix is an error; smaller a warning */
    char vocab[2048] = "";
    for (int i = 0; i < 41; i++) snprintf(vocab + strlen(vocab), sizeof vocab - strlen(vocab), "tok%d\n", i);
    hf_dir("bigvocab", TINY_CFG(", \"architectures\": [\"BertModel\"]"), GOLD "/tiny_st/model.safetensors",
           "model.safetensors", vocab, d, sizeof d);
    KZ_CHECK_INT(load(d, &m, &e), KZ_EFORMAT);
    CHECK_MSG(e, "41 tokens but the word-embedding matrix only 40 rows");
    KZ_CHECK(strstr(e.path, "vocab.txt") != NULL);
    silence_n = 0;
    vocab[0] = 0;
    for (int i = 0; i < 40; i++) snprintf(vocab + strlen(vocab), sizeof vocab - strlen(vocab), "tok%d\n", i);
    hf_dir("fullvocab", TINY_CFG(", \"architectures\": [\"BertModel\"]"), GOLD "/tiny_st/model.safetensors",
           "model.safetensors", vocab, d, sizeof d);
    KZ_CHECK_INT(load(d, &m, &e), 0);
    KZ_CHECK_INT(silence_n, 1); /* only the "ignored pooler/position_ids" note */
    kz_bert_free(m);
    /* a bad tokenizer_config.json */
    char p[600];
    snprintf(p, sizeof p, "%s/tokenizer_config.json", d);
    write_file(p, "{\"do_lower_case\": \"yes\"}", 24);
    KZ_CHECK_INT(load(d, &m, &e), KZ_EPARSE);
    CHECK_MSG(e, "do_lower_case");
    static const char tc[] =
        "{\"do_lower_case\": false, \"strip_accents\": true, \"never_split\": [\"[X]\"], "
        "\"unk_token\": {\"content\": \"tok3\", \"__type\": \"AddedToken\"}}";
    write_file(p, tc, sizeof tc - 1);
    KZ_CHECK_INT(load(d, &m, &e), 0);
    const kz_bert_x *x = kz__bert_cx(m);
    KZ_CHECK(!x->tok.lowercase && x->tok.strip_accents == 1 && x->tok.n_never_split == 1);
    KZ_CHECK_STR(x->tok.unk_token, "tok3");
    kz_bert_free(m);
}

/* ---- config.json ---------------------------------------------------------------------- */
static int cfg_parse(const char *json, kz_bert_config *c, kz_error *e) {
    kz_error_clear(e);
    quiet();
    return kz__bert_config_parse(json, strlen(json), "config.json", c, e);
}

KZ_TEST(nn_config_defaults_and_labels) {
    kz_bert_config c;
    kz_error e;
    KZ_CHECK_INT(cfg_parse("{}", &c, &e), 0);
    KZ_CHECK_INT(c.hidden, 768);
    KZ_CHECK_INT(c.layers, 12);
    KZ_CHECK_INT(c.heads, 12);
    KZ_CHECK_INT(c.intermediate, 3072);
    KZ_CHECK_INT(c.max_positions, 512);
    KZ_CHECK_INT(c.vocab_size, 30522);
    KZ_CHECK_INT(c.num_labels, 2);
    KZ_CHECK_STR(c.id2label[1], "LABEL_1");
    KZ_CHECK_INT(c.head, KZ__HEAD_AUTO);
    kz__bert_config_free(&c);
    KZ_CHECK_INT(cfg_parse("{\"label2id\": {\"B\": 1, \"O\": 0}, \"hidden_act\": \"gelu_pytorch_tanh\", "
                           "\"problem_type\": \"multi_label_classification\", \"layer_norm_eps\": 1e-5}",
                           &c, &e),
                 0);
    KZ_CHECK_STR(c.id2label[0], "O");
    KZ_CHECK_STR(c.id2label[1], "B");
    KZ_CHECK_INT(c.act, KZ_ACT_GELU_TANH);
    KZ_CHECK(c.multilabel);
    KZ_CHECK(c.layer_norm_eps == 1e-5f);
    kz__bert_config_free(&c);
    KZ_CHECK_INT(cfg_parse("{\"num_labels\": 4, \"hidden_act\": \"relu\", \"use_multilabel\": true, "
                           "\"architectures\": [\"BertForTokenClassification\"]}",
                           &c, &e),
                 0);
    KZ_CHECK_INT(c.num_labels, 4);
    KZ_CHECK_STR(c.id2label[3], "LABEL_3");
    KZ_CHECK_INT(c.act, KZ_ACT_RELU);
    KZ_CHECK(c.multilabel);
    KZ_CHECK_INT(c.head, KZ_HEAD_TOKEN_CLS);
    kz__bert_config_free(&c);
    /* id2label wins over a disagreeing label2id (warning) */
    silence_n = 0;
    KZ_CHECK_INT(
        cfg_parse("{\"id2label\": {\"0\": \"A\", \"1\": \"B\"}, \"label2id\": {\"A\": 1, \"B\": 0}}", &c, &e),
        0);
    KZ_CHECK_STR(c.id2label[0], "A");
    KZ_CHECK_INT(silence_n, 1);
    kz__bert_config_free(&c);
    /* round trip through the .kzm form */
    KZ_CHECK_INT(
        cfg_parse(
            "{\"id2label\": {\"0\": \"O\", \"1\": \"gene\"}, \"architectures\": "
            "[\"BertForMultiLabelTokenClassification\"], \"hidden_size\": 16, \"num_attention_heads\": 4}",
            &c, &e),
        0);
    json_t *j = kz__bert_config_to_json(&c);
    kz_bert_config c2;
    KZ_CHECK_INT(kz__bert_config_from_json(j, NULL, &c2, &e), 0);
    json_decref(j);
    KZ_CHECK(c2.multilabel && c2.head == KZ_HEAD_TOKEN_CLS && c2.hidden == 16 && c2.heads == 4);
    KZ_CHECK_STR(c2.id2label[1], "gene");
    kz__bert_config_free(&c);
    kz__bert_config_free(&c2);
}

KZ_TEST(nn_config_refusals) {
    static const struct {
        const char *json;
        int code;
        const char *needle;
    } cases[] = {
        {"[]", KZ_EPARSE, "not a JSON object"},
        {"{\"model_type\": \"roberta\"}", KZ_EFORMAT, "model_type 'roberta'"},
        {"{\"position_embedding_type\": \"relative_key\"}", KZ_EFORMAT, "relative_key"},
        {"{\"is_decoder\": true}", KZ_EFORMAT, "decoder"},
        {"{\"add_cross_attention\": 1}", KZ_EPARSE, "add_cross_attention"},
        {"{\"hidden_size\": 10, \"num_attention_heads\": 4}", KZ_EPARSE, "not a multiple"},
        {"{\"hidden_size\": 0}", KZ_EPARSE, "hidden_size = 0"},
        {"{\"num_hidden_layers\": 100000}", KZ_EPARSE, "num_hidden_layers"},
        {"{\"hidden_size\": \"8\"}", KZ_EPARSE, "not an integer"},
        {"{\"vocab_size\": 1e9}", KZ_EPARSE, "vocab_size"},
        {"{\"hidden_act\": \"swish\"}", KZ_EFORMAT, "hidden_act 'swish'"},
        {"{\"layer_norm_eps\": 0}", KZ_EPARSE, "layer_norm_eps"},
        {"{\"layer_norm_eps\": \"1e-12\"}", KZ_EPARSE, "layer_norm_eps"},
        {"{\"architectures\": [\"BertForSequenceClassification\"]}", KZ_EFORMAT,
         "BertForSequenceClassification"},
        {"{\"architectures\": \"BertModel\"}", KZ_EPARSE, "architectures"},
        {"{\"id2label\": {\"0\": \"O\", \"2\": \"B\"}}", KZ_EPARSE, "id2label key '2'"},
        {"{\"id2label\": {\"00\": \"O\"}}", KZ_EPARSE, "id2label key '00'"},
        {"{\"id2label\": {\"-0\": \"O\"}}", KZ_EPARSE, "id2label key"},
        {"{\"id2label\": {\"0\": 5}}", KZ_EPARSE, "id2label[0]"},
        {"{\"id2label\": {}}", KZ_EPARSE, "0 labels"},
        {"{\"label2id\": {\"O\": 0, \"B\": 0}}", KZ_EPARSE, "label2id"},
        {"{\"label2id\": {\"O\": 3}}", KZ_EPARSE, "label2id"},
        {"{\"num_labels\": 0}", KZ_EPARSE, "num_labels"},
        {"{\"use_multilabel\": \"yes\"}", KZ_EPARSE, "use_multilabel"},
        {"{\"pad_token_id\": -1}", KZ_EPARSE, "pad_token_id"},
        {"{\"a\": 1, \"a\": 2}", KZ_EPARSE, "duplicate"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        kz_bert_config c;
        kz_error e;
        int rc = cfg_parse(cases[i].json, &c, &e);
        if (rc != cases[i].code || !has(&e, cases[i].needle)) {
            kz_test_fail(__FILE__, __LINE__, "case %zu %s: rc %d msg '%s'", i, cases[i].json, rc, e.msg);
            return;
        }
        KZ_CHECK(c.id2label == NULL);
        KZ_CHECK_STR(e.path, "config.json");
    }
}

/* ---- resolution from a tensor table -------------------------------------------------------- */
/* The tiny model's table built by hand from tiny_expected.f32 (prefix "bert." or not). */
static void tiny_table(kz_tensor_table *tt, const char *prefix, bool classifier) {
    memset(tt, 0, sizeof *tt);
    const float *e = expected();
    size_t at = 0;
    char nm[256];
#define ADD(name, d0, d1)                                                                                    \
    do {                                                                                                     \
        snprintf(nm, sizeof nm, "%s%s", prefix, name);                                                       \
        kz_tensor *t_ = kz__tensor_table_add(tt, nm, strlen(nm));                                            \
        t_->dtype = KZ_DT_F32;                                                                               \
        t_->ndim = (d1) ? 2 : 1;                                                                             \
        t_->shape[0] = (d0);                                                                                 \
        t_->shape[1] = (d1);                                                                                 \
        t_->data = e + at;                                                                                   \
        t_->nbytes = (size_t)(d0) * ((d1) ? (d1) : 1) * 4;                                                   \
        at += t_->nbytes / 4;                                                                                \
    } while (0)
    ADD("embeddings.word_embeddings.weight", VR, H);
    ADD("embeddings.position_embeddings.weight", PR, H);
    ADD("embeddings.token_type_embeddings.weight", TR, H);
    ADD("embeddings.LayerNorm.gamma", H, 0); /* TF-era names are mapped */
    ADD("embeddings.LayerNorm.beta", H, 0);
    static const char *const sfx[16] = {"attention.self.query.weight",
                                        "attention.self.query.bias",
                                        "attention.self.key.weight",
                                        "attention.self.key.bias",
                                        "attention.self.value.weight",
                                        "attention.self.value.bias",
                                        "attention.output.dense.weight",
                                        "attention.output.dense.bias",
                                        "attention.output.LayerNorm.weight",
                                        "attention.output.LayerNorm.bias",
                                        "intermediate.dense.weight",
                                        "intermediate.dense.bias",
                                        "output.dense.weight",
                                        "output.dense.bias",
                                        "output.LayerNorm.weight",
                                        "output.LayerNorm.bias"};
    static const int dims[16][2] = {{H, H}, {H, 0}, {H, H},  {H, 0},  {H, H},  {H, 0}, {H, H}, {H, 0},
                                    {H, 0}, {H, 0}, {FF, H}, {FF, 0}, {H, FF}, {H, 0}, {H, 0}, {H, 0}};
    for (int l = 0; l < NL; l++)
        for (int i = 0; i < 16; i++) {
            char n2[128];
            snprintf(n2, sizeof n2, "encoder.layer.%d.%s", l, sfx[i]);
            ADD(n2, dims[i][0], dims[i][1]);
        }
    if (classifier) {
        snprintf(nm, sizeof nm, "classifier.weight");
        kz_tensor *t = kz__tensor_table_add(tt, nm, strlen(nm));
        *t = (kz_tensor){t->name, KZ_DT_F32, 2, {3, H}, e + at, 3 * H * 4, NULL};
        at += 3 * H;
        t = kz__tensor_table_add(tt, "classifier.bias", 15);
        *t = (kz_tensor){t->name, KZ_DT_F32, 1, {3}, e + at, 12, NULL};
    }
#undef ADD
}

static kz_bert_config tiny_cfg(kz_bert_head head) {
    kz_bert_config c;
    kz_error e;
    cfg_parse(TINY_CFG(", \"id2label\": {\"0\": \"O\", \"1\": \"B\", \"2\": \"I\"}"), &c, &e);
    c.head = head;
    return c;
}

static kz_tensor *find_mut(kz_tensor_table *tt, const char *name) {
    for (size_t i = 0; i < tt->n; i++)
        if (strcmp(tt->t[i].name, name) == 0) return &tt->t[i];
    return NULL;
}

KZ_TEST(nn_from_tensors_prefixes_and_tf_names) {
    kz_tensor_table tt;
    kz_bert *m;
    kz_error e;
    tiny_table(&tt, "bert.", true);
    kz_bert_config c = tiny_cfg(KZ_HEAD_TOKEN_CLS);
    KZ_CHECK_INT(kz__bert_from_tensors(&c, &tt, &m, &e), 0);
    KZ_CHECK(c.id2label == NULL && tt.n == 0); /* both moved into the model */
    CHECK_MODEL(m, EXACT, true);
    KZ_CHECK(m->word_emb == expected()); /* aligned fp32: aliased, not copied */
    kz_bert_free(m);
    tiny_table(&tt, "", false);
    c = tiny_cfg(KZ__HEAD_AUTO);
    KZ_CHECK_INT(kz__bert_from_tensors(&c, &tt, &m, &e), 0);
    KZ_CHECK_INT(m->cfg.head, KZ_HEAD_NONE);
    kz_bert_free(m);
}

typedef void (*table_edit)(kz_tensor_table *tt);
static void ed_drop_bias(kz_tensor_table *tt) {
    kz_tensor *t = find_mut(tt, "encoder.layer.1.output.dense.bias");
    free(t->name);
    *t = tt->t[--tt->n];
}
static void ed_extra(kz_tensor_table *tt) {
    kz_tensor *t = kz__tensor_table_add(tt, "encoder.layer.0.attention.self.rotary.weight", 44);
    t->dtype = KZ_DT_F32;
    t->ndim = 1;
}
static void ed_dup(kz_tensor_table *tt) {
    kz_tensor *t = kz__tensor_table_add(tt, "bert.embeddings.LayerNorm.bias", 30);
    *t = (kz_tensor){t->name, KZ_DT_F32, 1, {H}, expected(), H * 4, NULL};
}
static void ed_shape(kz_tensor_table *tt) {
    find_mut(tt, "encoder.layer.0.attention.self.key.weight")->shape[0] = 4;
}
static void ed_ndim(kz_tensor_table *tt) {
    find_mut(tt, "encoder.layer.0.output.LayerNorm.weight")->ndim = 2;
}
static void ed_i64(kz_tensor_table *tt) {
    kz_tensor *t = find_mut(tt, "encoder.layer.1.attention.self.value.bias");
    t->dtype = KZ_DT_I64;
    t->nbytes = H * 8;
}
static void ed_i8_noscale(kz_tensor_table *tt) {
    kz_tensor *t = find_mut(tt, "encoder.layer.1.attention.self.value.weight");
    t->dtype = KZ_DT_I8;
    t->nbytes = H * H;
}
static void ed_layer9(kz_tensor_table *tt) {
    kz_tensor *t = kz__tensor_table_add(tt, "encoder.layer.9.output.dense.bias", 33);
    *t = (kz_tensor){t->name, KZ_DT_F32, 1, {H}, expected(), H * 4, NULL};
}
static void ed_cls_rows(kz_tensor_table *tt) {
    kz_tensor *t = find_mut(tt, "classifier.weight");
    t->shape[0] = 2;
    t->nbytes = 2 * H * 4;
}
static void ed_emb_width(kz_tensor_table *tt) {
    kz_tensor *t = find_mut(tt, "embeddings.word_embeddings.weight");
    t->shape[0] = VR * 2;
    t->shape[1] = H / 2;
}
static void ed_drop_classifier(kz_tensor_table *tt) {
    for (int k = 0; k < 2; k++) {
        free(tt->t[tt->n - 1].name);
        tt->n--;
    }
}

KZ_TEST(nn_from_tensors_refusals) {
    static const struct {
        table_edit fn;
        const char *needle;
    } cases[] = {
        {ed_drop_bias, "missing tensor 'encoder.layer.1.output.dense.bias'"},
        {ed_extra, "unexpected tensor 'encoder.layer.0.attention.self.rotary.weight'"},
        {ed_dup, "given twice (as 'embeddings.LayerNorm.beta' and 'bert.embeddings.LayerNorm.bias')"},
        {ed_shape, "'encoder.layer.0.attention.self.key.weight' has shape [4, 8], expected [8, 8]"},
        {ed_ndim, "'encoder.layer.0.output.LayerNorm.weight' has shape [8, 0], expected [8] (hidden_size)"},
        {ed_i64, "has dtype I64 where a float tensor is expected"},
        {ed_i8_noscale, "int8 without scales"},
        {ed_layer9, "the config has 2 layers (0..1)"},
        {ed_cls_rows, "'classifier.weight' has 2 rows but the config has 3 labels"},
        {ed_emb_width, "embeddings.word_embeddings.weight' has shape [80, 4]"},
        {ed_drop_classifier, "missing tensor 'classifier.weight' and 1 more"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        kz_tensor_table tt;
        kz_bert *m = (kz_bert *)1;
        kz_error e;
        kz_error_clear(&e);
        tiny_table(&tt, "", true);
        cases[i].fn(&tt);
        kz_bert_config c = tiny_cfg(KZ_HEAD_TOKEN_CLS);
        int rc = kz__bert_from_tensors(&c, &tt, &m, &e);
        if (rc != KZ_EFORMAT || !has(&e, cases[i].needle) || m != NULL || tt.n != 0) {
            kz_test_fail(__FILE__, __LINE__, "case %zu: rc %d msg '%s'", i, rc, e.msg);
            return;
        }
    }
    /* pad id beyond the vocabulary */
    kz_tensor_table tt;
    kz_bert *m;
    kz_error e;
    tiny_table(&tt, "", true);
    kz_bert_config c = tiny_cfg(KZ_HEAD_TOKEN_CLS);
    c.pad_token_id = VR;
    KZ_CHECK_INT(kz__bert_from_tensors(&c, &tt, &m, &e), KZ_EFORMAT);
    CHECK_MSG(e, "pad_token_id 40");
}

/* ---- safetensors -------------------------------------------------------------------------- */
/* Build "8-byte length + header + data" with the header text given. */
static size_t st_build(uint8_t *out, size_t cap, const char *header, const void *data, size_t dlen) {
    size_t hl = strlen(header);
    if (8 + hl + dlen > cap) return 0;
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(out + 8, header, hl);
    if (dlen) memcpy(out + 8 + hl, data, dlen);
    return 8 + hl + dlen;
}

static int st_try(const char *header, size_t dlen, kz_tensor_table *tt, kz_error *e) {
    static _Alignas(64) uint8_t buf[4096];
    float data[64];
    for (int i = 0; i < 64; i++) data[i] = (float)i;
    size_t n = st_build(buf, sizeof buf, header, data, dlen);
    kz_error_clear(e);
    return kz__safetensors_read_mem(buf, n, tt, e);
}

KZ_TEST(nn_safetensors_good_and_misaligned) {
    kz_tensor_table tt;
    kz_error e;
    /* header of 89 bytes (trailing space): data starts at 97, misaligned for F32 -> copied */
    const char *h = "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_"
                    "offsets\":[0,16]}} ";
    KZ_CHECK_INT(st_try(h, 16, &tt, &e), 0);
    KZ_CHECK_INT(tt.n, 1);
    KZ_CHECK_STR(tt.t[0].name, "a");
    KZ_CHECK_INT(tt.t[0].ndim, 2);
    KZ_CHECK(((uintptr_t)tt.t[0].data % 4) == 0);
    KZ_CHECK(((const float *)tt.t[0].data)[3] == 3.0f);
    KZ_CHECK_INT(tt.n_owned, 1);
    kz__tensor_table_free(&tt);
    /* scalar and empty tensors, I64 and I8 */
    h = "{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},\"z\":{\"dtype\":\"F16\",\"shape\":["
        "0,3],"
        "\"data_offsets\":[4,4]},\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[4,12]},\"q\":{"
        "\"dtype\":"
        "\"I8\",\"shape\":[4],\"data_offsets\":[12,16]}}";
    KZ_CHECK_INT(st_try(h, 16, &tt, &e), 0);
    KZ_CHECK_INT(tt.n, 4);
    KZ_CHECK(kz__tensor_find(&tt, "z")->nbytes == 0);
    KZ_CHECK(kz__tensor_find(&tt, "q")->dtype == KZ_DT_I8);
    kz__tensor_table_free(&tt);
    /* empty file of tensors */
    KZ_CHECK_INT(st_try("{}", 0, &tt, &e), 0);
    KZ_CHECK_INT(tt.n, 0);
    kz__tensor_table_free(&tt);
}

KZ_TEST(nn_safetensors_refusals) {
    static const struct {
        const char *header;
        size_t dlen;
        int code;
        const char *needle;
    } cases[] = {
        {"[]", 0, KZ_EPARSE, "does not start with '{'"},
        {"{\"a\":1", 0, KZ_EPARSE, "header JSON"},
        {"{\"a\":1}", 0, KZ_EPARSE, "'a' is not an object"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, KZ_EPARSE, "needs string dtype"},
        {"{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, KZ_EFORMAT, "dtype F64"},
        {"{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, KZ_EPARSE,
         "unknown dtype 'Q4'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, KZ_EFORMAT,
         "5 dimensions"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, KZ_EPARSE, "bad shape"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, KZ_EPARSE, "bad shape"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, KZ_EPARSE, "[begin, end]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, KZ_EPARSE, "lie outside"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}", 4, KZ_EPARSE, "lie outside"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, KZ_EPARSE, "span 4 bytes"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,4]}}", 4,
         KZ_ELIMIT, "too large"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":"
         "[2],"
         "\"data_offsets\":[4,12]}}",
         12, KZ_EPARSE, "overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, KZ_EPARSE,
         "4 unclaimed bytes"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, KZ_EPARSE, "cover 4"},
        {"{\"__metadata__\":{\"k\":1}}", 0, KZ_EPARSE, "not a string"},
        {"{\"__metadata__\":[]}", 0, KZ_EPARSE, "__metadata__"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{}}", 4, KZ_EPARSE,
         "duplicate"},
        {"{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, KZ_EPARSE, "tensor name of 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        kz_tensor_table tt;
        kz_error e;
        int rc = st_try(cases[i].header, cases[i].dlen, &tt, &e);
        if (rc != cases[i].code || !has(&e, cases[i].needle) || tt.n != 0) {
            kz_test_fail(__FILE__, __LINE__, "case %zu: rc %d msg '%s'", i, rc, e.msg);
            return;
        }
    }
    /* lengths: short file, header longer than the file, header over the cap */
    kz_tensor_table tt;
    kz_error e;
    uint8_t b[16] = {4, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    KZ_CHECK_INT(kz__safetensors_read_mem(b, 7, &tt, &e), KZ_EPARSE);
    CHECK_MSG(e, "truncated");
    KZ_CHECK_INT(kz__safetensors_read_mem(b, 10, &tt, &e), KZ_EPARSE);
    CHECK_MSG(e, "header of 4 bytes but only 2 follow");
    uint8_t big[16] = {0, 0, 0, 0x10, 0, 0, 0, 0, '{', '}'};
    KZ_CHECK_INT(kz__safetensors_read_mem(big, 16, &tt, &e), KZ_ELIMIT);
    uint8_t huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{'};
    KZ_CHECK_INT(kz__safetensors_read_mem(huge, 16, &tt, &e), KZ_ELIMIT);
}

KZ_TEST(nn_safetensors_truncated_everywhere) {
    size_t len;
    char *f = kz_test_read_file(GOLD "/tiny_st/model.safetensors", &len);
    KZ_CHECK(f != NULL);
    for (size_t cut = 0; cut < len; cut++) {
        kz_tensor_table tt;
        kz_error e;
        kz_error_clear(&e);
        char *copy = malloc(cut ? cut : 1); /* exact size: ASan sees any overread */
        memcpy(copy, f, cut);
        int rc = kz__safetensors_read_mem(copy, cut, &tt, &e);
        free(copy);
        if (rc == 0) {
            kz_test_fail(__FILE__, __LINE__, "truncated at %zu of %zu accepted", cut, len);
            free(f);
            return;
        }
    }
    free(f);
}

/* ---- pickle ---------------------------------------------------------------------------------- */
typedef struct pb {
    uint8_t b[4096];
    size_t n;
} pb;
static void pb_raw(pb *p, const void *s, size_t n) {
    memcpy(p->b + p->n, s, n);
    p->n += n;
}
static void pb_op(pb *p, uint8_t op) { p->b[p->n++] = op; }
static void pb_str(pb *p, const char *s) {
    size_t n = strlen(s);
    pb_op(p, 'X');
    uint8_t l[4] = {(uint8_t)n, (uint8_t)(n >> 8), 0, 0};
    pb_raw(p, l, 4);
    pb_raw(p, s, n);
}
static void pb_int(pb *p, uint32_t v) {
    pb_op(p, 'J');
    uint8_t l[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    pb_raw(p, l, 4);
}
static void pb_global(pb *p, const char *mod, const char *name) {
    pb_op(p, 'c');
    pb_raw(p, mod, strlen(mod));
    pb_op(p, '\n');
    pb_raw(p, name, strlen(name));
    pb_op(p, '\n');
}
/* One tensor: _rebuild_tensor_v2((storage, type, key, 'cpu', numel), offset, (d0,[d1]), stride, False,
 * OrderedDict()) */
static void pb_tensor(pb *p, const char *type, const char *key, uint32_t numel, uint32_t off, uint32_t d0,
                      uint32_t d1, uint32_t s0, uint32_t s1) {
    pb_global(p, "torch._utils", "_rebuild_tensor_v2");
    pb_op(p, '(');
    pb_op(p, '(');
    pb_str(p, "storage");
    pb_global(p, "torch", type);
    pb_str(p, key);
    pb_str(p, "cpu");
    pb_int(p, numel);
    pb_op(p, 't');
    pb_op(p, 'Q');
    pb_int(p, off);
    pb_op(p, '(');
    pb_int(p, d0);
    if (d1) pb_int(p, d1);
    pb_op(p, 't');
    pb_op(p, '(');
    pb_int(p, s0);
    if (d1) pb_int(p, s1);
    pb_op(p, 't');
    pb_op(p, 0x89);
    pb_global(p, "collections", "OrderedDict");
    pb_op(p, ')');
    pb_op(p, 'R');
    pb_op(p, 't');
    pb_op(p, 'R');
}
static void pb_begin(pb *p) {
    p->n = 0;
    pb_raw(p, "\x80\x02", 2);
    pb_global(p, "collections", "OrderedDict");
    pb_op(p, ')');
    pb_op(p, 'R');
}

static int pkl_run(const pb *p, kz_tensor_table *tt, kz_error *e) {
    kz_error_clear(e);
    return kz__torch_pickle_read_mem(p->b, p->n, NULL, tt, e);
}

KZ_TEST(nn_pickle_state_dict_shapes) {
    pb p;
    kz_tensor_table tt;
    kz_error e;
    pb_begin(&p);
    pb_op(&p, '(');
    pb_str(&p, "w");
    pb_tensor(&p, "FloatStorage", "0", 12, 0, 3, 4, 4, 1);
    pb_str(&p, "b");
    pb_tensor(&p, "HalfStorage", "1", 8, 5, 3, 0, 1, 0);
    pb_str(&p, "col");
    pb_tensor(&p, "BFloat16Storage", "2", 4, 0, 4, 1, 1, 7); /* size-1 dim: any stride */
    pb_str(&p, "ids");
    pb_tensor(&p, "LongStorage", "3", 4, 0, 1, 4, 4, 1);
    pb_op(&p, 'u');
    pb_op(&p, '.');
    KZ_CHECK_INT(pkl_run(&p, &tt, &e), 0);
    KZ_CHECK_INT(tt.n, 4);
    KZ_CHECK_STR(tt.t[0].name, "w");
    KZ_CHECK(tt.t[0].dtype == KZ_DT_F32 && tt.t[0].ndim == 2 && tt.t[0].shape[1] == 4 &&
             tt.t[0].nbytes == 48);
    KZ_CHECK(tt.t[1].dtype == KZ_DT_F16 && tt.t[1].nbytes == 6);
    KZ_CHECK(tt.t[2].dtype == KZ_DT_BF16);
    KZ_CHECK(tt.t[3].dtype == KZ_DT_I64 && tt.t[3].nbytes == 32);
    KZ_CHECK(tt.t[0].data == NULL); /* no zip: parse only */
    kz__tensor_table_free(&tt);
    /* the fixture's data.pkl (protocol 2, BINPUT/LONG_BINPUT/BINGET, BUILD of _metadata) */
    size_t len;
    char *pkl = kz_test_read_file(KZ_SOURCE_DIR "/tests/fuzz/corpus/torch_pickle/tiny_tc.pkl", &len);
    KZ_CHECK(pkl != NULL);
    KZ_CHECK_INT(kz__torch_pickle_read_mem(pkl, len, NULL, &tt, &e), 0);
    KZ_CHECK_INT(tt.n, 39);
    KZ_CHECK_STR(tt.t[0].name, "bert.embeddings.word_embeddings.weight");
    KZ_CHECK(tt.t[0].shape[0] == VR && tt.t[0].shape[1] == H);
    kz__tensor_table_free(&tt);
    /* every truncation fails cleanly */
    for (size_t cut = 0; cut < len; cut++) {
        char *c = malloc(cut ? cut : 1);
        memcpy(c, pkl, cut);
        int rc = kz__torch_pickle_read_mem(c, cut, NULL, &tt, &e);
        free(c);
        if (rc == 0) {
            kz_test_fail(__FILE__, __LINE__, "data.pkl cut at %zu accepted", cut);
            break;
        }
    }
    free(pkl);
}

KZ_TEST(nn_pickle_refuses_globals_and_opcodes) {
    pb p;
    kz_tensor_table tt;
    kz_error e;
    static const char *const evil[][2] = {{"os", "system"},         {"posix", "system"},
                                          {"builtins", "eval"},     {"subprocess", "Popen"},
                                          {"torch", "load"},        {"torch._utils", "_rebuild_parameter"},
                                          {"torch", "CharStorage"}, {"collections", "OrderedDict "}};
    for (size_t i = 0; i < sizeof evil / sizeof *evil; i++) {
        p.n = 0;
        pb_raw(&p, "\x80\x02", 2);
        pb_global(&p, evil[i][0], evil[i][1]);
        pb_str(&p, "echo pwned");
        pb_op(&p, 0x85);
        pb_op(&p, 'R');
        pb_op(&p, '.');
        KZ_CHECK_INT(pkl_run(&p, &tt, &e), KZ_EFORMAT);
        CHECK_MSG(e, "refusing global");
        CHECK_MSG(e, evil[i][0]);
    }
    /* STACK_GLOBAL (protocol 4) is held to the same list */
    p.n = 0;
    pb_raw(&p, "\x80\x04", 2);
    pb_op(&p, 0x8c);
    pb_op(&p, 2);
    pb_raw(&p, "os", 2);
    pb_op(&p, 0x8c);
    pb_op(&p, 6);
    pb_raw(&p, "system", 6);
    pb_op(&p, 0x93);
    pb_op(&p, '.');
    KZ_CHECK_INT(pkl_run(&p, &tt, &e), KZ_EFORMAT);
    CHECK_MSG(e, "os.system");
    /* opcodes outside the state_dict subset */
    static const uint8_t ops[] = {']', 'G', 'i', 'o', 0x81, 0x82, 'P', 'I', 'V', 'l', 0x92, 'B', 0xff};
    for (size_t i = 0; i < sizeof ops; i++) {
        p.n = 0;
        pb_raw(&p, "\x80\x02", 2);
        pb_op(&p, ops[i]);
        pb_raw(&p, "\0\0\0\0\0\0\0\0.", 9);
        KZ_CHECK_INT(pkl_run(&p, &tt, &e), KZ_EFORMAT);
        CHECK_MSG(e, "unsupported pickle opcode");
    }
    /* the known globals cannot be misused */
    pb_begin(&p); /* OrderedDict(...) with arguments */
    p.n = 0;
    pb_raw(&p, "\x80\x02", 2);
    pb_global(&p, "collections", "OrderedDict");
    pb_op(&p, '}');
    pb_op(&p, 0x85);
    pb_op(&p, 'R');
    pb_op(&p, '.');
    KZ_CHECK_INT(pkl_run(&p, &tt, &e), KZ_EFORMAT);
    CHECK_MSG(e, "OrderedDict with arguments");
    p.n = 0;
    pb_raw(&p, "\x80\x02", 2);
    pb_global(&p, "torch", "FloatStorage");
    pb_op(&p, ')');
    pb_op(&p, 'R');
    pb_op(&p, '.');
    KZ_CHECK_INT(pkl_run(&p, &tt, &e), KZ_EFORMAT);
    CHECK_MSG(e, "cannot be called");
    p.n = 0;
    pb_raw(&p, "\x80\x06", 2);
    pb_op(&p, '.');
    KZ_CHECK_INT(pkl_run(&p, &tt, &e), KZ_EFORMAT);
    CHECK_MSG(e, "protocol");
}

KZ_TEST(nn_pickle_malformed_and_lying) {
    static const struct {
        const char *bytes;
        size_t n;
        int code;
        const char *needle;
    } raw[] = {
#define RAW(x) x, sizeof(x) - 1
        {RAW(""), KZ_EPARSE, "no STOP"},
        {RAW("\x80\x02."), KZ_EPARSE, "stack underflow"},
        {RAW("\x80\x02}s."), KZ_EPARSE, "stack underflow"},
        {RAW("\x80\x02h\x05."), KZ_EPARSE, "memo key not found"},
        {RAW("\x80\x02j\x00\x00\x01\x00."), KZ_EPARSE, "memo key not found"},
        {RAW("\x80\x02}r\x00\x00\x00\x01."), KZ_ELIMIT, "memo index"},
        {RAW("\x80\x02t."), KZ_EPARSE, "no MARK"},
        {RAW("\x80\x02X\xff\x00\x00\x00"
             "ab."),
         KZ_EPARSE, "runs past the end"},
        {RAW("\x80\x02X\x02\x00\x00\x00\xff\xfe."), KZ_EPARSE, "UTF-8"},
        {RAW("\x80\x02}K\x01."), KZ_EPARSE, "values left on the stack"},
        {RAW("\x80\x02K\x01."), KZ_EFORMAT, "not a dict of tensors"},
        {RAW("\x80\x02}K\x01K\x02s."), KZ_EFORMAT, "key is not a string"},
        {RAW("\x80\x02}X\x01\x00\x00\x00"
             "aK\x02s."),
         KZ_EFORMAT, "entry 'a' is not a tensor"},
        {RAW("\x80\x02}(K\x01u."), KZ_EPARSE, "SETITEMS"},
        {RAW("\x80\x02(K\x01"
             "d."),
         KZ_EPARSE, "odd number"},
        {RAW("\x80\x02K\x01}b."), KZ_EFORMAT, "BUILD"},
        {RAW("\x80\x02\x8a\x09"), KZ_EFORMAT, "wider than 8"},
        {RAW("\x80\x02"
             "ccollections\nOrderedDict"),
         KZ_EPARSE, "GLOBAL without"},
        {RAW("\x80\x02(X\x01\x00\x00\x00"
             "xQ."),
         KZ_EFORMAT, "5-tuple"},
        {RAW("\x80\x02\x95\x01\x00"), KZ_EPARSE, "truncated"},
#undef RAW
    };
    for (size_t i = 0; i < sizeof raw / sizeof *raw; i++) {
        kz_tensor_table tt;
        kz_error e;
        kz_error_clear(&e);
        int rc = kz__torch_pickle_read_mem(raw[i].bytes, raw[i].n, NULL, &tt, &e);
        if (rc != raw[i].code || !has(&e, raw[i].needle)) {
            kz_test_fail(__FILE__, __LINE__, "case %zu: rc %d msg '%s'", i, rc, e.msg);
            return;
        }
    }
    pb p;
    kz_tensor_table tt;
    kz_error e;
    /* tensor past the end of its storage */
    pb_begin(&p);
    pb_str(&p, "w");
    pb_tensor(&p, "FloatStorage", "0", 10, 4, 2, 4, 4, 1);
    pb_op(&p, 's');
    pb_op(&p, '.');
    KZ_CHECK_INT(pkl_run(&p, &tt, &e), KZ_EFORMAT);
    CHECK_MSG(e, "'w' ([2, 4] at element 4) runs past its storage '0' of 10 elements");
    /* non-contiguous */
    pb_begin(&p);
    pb_str(&p, "t");
    pb_tensor(&p, "FloatStorage", "0", 12, 0, 3, 4, 1, 3);
    pb_op(&p, 's');
    pb_op(&p, '.');
    KZ_CHECK_INT(pkl_run(&p, &tt, &e), KZ_EFORMAT);
    CHECK_MSG(e, "'t' is not contiguous (stride [1, 3] for shape [3, 4])");
    /* one storage key with two sizes */
    pb_begin(&p);
    pb_op(&p, '(');
    pb_str(&p, "a");
    pb_tensor(&p, "FloatStorage", "0", 12, 0, 12, 0, 1, 0);
    pb_str(&p, "b");
    pb_tensor(&p, "FloatStorage", "0", 13, 0, 12, 0, 1, 0);
    pb_op(&p, 'u');
    pb_op(&p, '.');
    KZ_CHECK_INT(pkl_run(&p, &tt, &e), KZ_EFORMAT);
    CHECK_MSG(e, "declared twice");
    /* a storage key that would walk out of data/ */
    pb_begin(&p);
    pb_str(&p, "a");
    pb_tensor(&p, "FloatStorage", "../x", 1, 0, 1, 0, 1, 0);
    pb_op(&p, 's');
    pb_op(&p, '.');
    KZ_CHECK_INT(pkl_run(&p, &tt, &e), KZ_EFORMAT);
    CHECK_MSG(e, "[A-Za-z0-9_]");
    /* duplicate names */
    pb_begin(&p);
    pb_op(&p, '(');
    pb_str(&p, "a");
    pb_tensor(&p, "FloatStorage", "0", 1, 0, 1, 0, 1, 0);
    pb_str(&p, "a");
    pb_tensor(&p, "FloatStorage", "0", 1, 0, 1, 0, 1, 0);
    pb_op(&p, 'u');
    pb_op(&p, '.');
    KZ_CHECK_INT(pkl_run(&p, &tt, &e), KZ_EFORMAT);
    CHECK_MSG(e, "'a' appears twice");
    /* 5-D tensors */
    pb_begin(&p);
    pb_str(&p, "a");
    pb_global(&p, "torch._utils", "_rebuild_tensor_v2");
    static const char head[] = "((X\x07\x00\x00\x00storage";
    pb_raw(&p, head, sizeof head - 1);
    pb_global(&p, "torch", "FloatStorage");
    static const char tail[] = "X\x01\x00\x00\x00"
                               "0X\x03\x00\x00\x00"
                               "cpuK\x01tQK\x00(K\x01K\x01K\x01K\x01K\x01t(K\x01K"
                               "\x01K\x01K\x01K\x01t\x89}tR";
    pb_raw(&p, tail, sizeof tail - 1);
    pb_op(&p, 's');
    pb_op(&p, '.');
    KZ_CHECK_INT(pkl_run(&p, &tt, &e), KZ_EFORMAT);
    CHECK_MSG(e, "more than 4 dimensions");
}

/* ---- torch zip containers ------------------------------------------------------------------------ */
static int make_zip(const char *path, const char *const *names, const void *const *data, const size_t *lens,
                    int n) {
    int zerr;
    unlink(path);
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!z) return -1;
    for (int i = 0; i < n; i++) {
        zip_source_t *s = zip_source_buffer(z, data[i], lens[i], 0);
        if (!s || zip_file_add(z, names[i], s, ZIP_FL_OVERWRITE) < 0) {
            zip_source_free(s);
            zip_discard(z);
            return -1;
        }
    }
    return zip_close(z);
}

KZ_TEST(nn_torch_zip_container_refusals) {
    pb p;
    pb_begin(&p);
    pb_str(&p, "w");
    pb_tensor(&p, "FloatStorage", "0", 4, 0, 4, 0, 1, 0);
    pb_op(&p, 's');
    pb_op(&p, '.');
    float four[4] = {1, 2, 3, 4};
    char path[512];
    snprintf(path, sizeof path, "%s/t.bin", tmpdir());
    kz_tensor_table tt;
    kz_error e;
    {
        const char *n[] = {"mymodel/data.pkl", "mymodel/data/0", "mymodel/version", "mymodel/byteorder"};
        const void *d[] = {p.b, four, "3\n", "little"};
        size_t l[] = {p.n, 16, 2, 6};
        KZ_CHECK_INT(make_zip(path, n, d, l, 4), 0);
        kz_error_clear(&e);
        KZ_CHECK_INT(kz__torch_zip_read(path, &tt, &e), 0);
        KZ_CHECK(tt.n == 1 && ((const float *)tt.t[0].data)[3] == 4.0f);
        kz__tensor_table_free(&tt);
    }
    static const struct {
        int n;
        const char *names[3];
        size_t storage_len;
        const char *needle;
    } cases[] = {
        {1, {"archive/data.pkl"}, 0, "storage record 'archive/data/0' is missing"},
        {2, {"archive/data.pkl", "archive/data/0"}, 12, "has 12 bytes but data.pkl declares 16"},
        {2, {"archive/other.pkl", "archive/data/0"}, 16, "no <folder>/data.pkl"},
        {3, {"a/data.pkl", "b/data.pkl", "a/data/0"}, 16, "more than one data.pkl"},
        {3, {"archive/data.pkl", "archive/data/0", "archive/byteorder"}, 16, "big-endian"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const void *d[3];
        size_t l[3];
        for (int k = 0; k < cases[i].n; k++) {
            const char *nm = cases[i].names[k];
            bool pkl = strstr(nm, ".pkl") != NULL, bo = strstr(nm, "byteorder") != NULL;
            d[k] = pkl ? (const void *)p.b : bo ? (const void *)"big" : (const void *)four;
            l[k] = pkl ? p.n : bo ? 3 : cases[i].storage_len;
        }
        KZ_CHECK_INT(make_zip(path, cases[i].names, d, l, cases[i].n), 0);
        kz_error_clear(&e);
        int rc = kz__torch_zip_read(path, &tt, &e);
        if (rc != KZ_EFORMAT || !has(&e, cases[i].needle)) {
            kz_test_fail(__FILE__, __LINE__, "case %zu: rc %d msg '%s'", i, rc, e.msg);
            return;
        }
    }
    /* not a zip at all; a zip truncated at many points */
    write_file(path, "hello world", 11);
    KZ_CHECK_INT(kz__torch_zip_read(path, &tt, &e), KZ_EFORMAT);
    size_t len;
    char *z = kz_test_read_file(GOLD "/tiny_tc/pytorch_model.bin", &len);
    KZ_CHECK(z != NULL);
    for (size_t cut = 0; cut < len; cut += 97) {
        write_file(path, z, cut);
        kz_error_clear(&e);
        if (kz__torch_zip_read(path, &tt, &e) == 0) {
            kz_test_fail(__FILE__, __LINE__, "zip cut at %zu accepted", cut);
            break;
        }
    }
    /* a flipped byte inside a storage: the CRC catches it */
    char *w0 = memmem(z, len, expected(), 16);
    KZ_CHECK(w0 != NULL);
    w0[5] ^= 0x10;
    write_file(path, z, len);
    kz_error_clear(&e);
    KZ_CHECK(kz__torch_zip_read(path, &tt, &e) != 0);
    free(z);
}

/* ---- .kzm --------------------------------------------------------------------------------------- */
static char *kzm_path(const char *name, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/%s", tmpdir(), name);
    return buf;
}

static int save(const kz_bert *m, const char *path, kz_precision p) {
    kz_error e;
    kz_error_clear(&e);
    int rc = kz_bert_save(m, path, p, &e);
    if (rc) fprintf(stderr, "save: %s\n", e.msg);
    return rc;
}

KZ_TEST(nn_kzm_roundtrip_all_storages) {
    kz_bert *src, *m;
    kz_error e;
    char p1[512], p2[512];
    KZ_CHECK_INT(load(GOLD "/tiny_tc", &src, &e), 0);
    /* fp32: identical weights, deterministic bytes, tokenizer and labels kept */
    KZ_CHECK_INT(save(src, kzm_path("a.kzm", p1, sizeof p1), KZ_PREC_FP32), 0);
    KZ_CHECK_INT(save(src, kzm_path("b.kzm", p2, sizeof p2), KZ_PREC_FP32), 0);
    size_t l1, l2;
    char *b1 = kz_test_read_file(p1, &l1), *b2 = kz_test_read_file(p2, &l2);
    KZ_CHECK(b1 && b2 && l1 == l2 && memcmp(b1, b2, l1) == 0);
    KZ_CHECK(memcmp(b1, KZM_MAGIC, 8) == 0);
    free(b1);
    free(b2);
    KZ_CHECK_INT(load(p1, &m, &e), 0);
    CHECK_MODEL(m, EXACT, true);
    KZ_CHECK_INT(m->stored, KZ_PREC_FP32);
    KZ_CHECK_INT(m->cfg.num_labels, 3);
    KZ_CHECK_STR(m->cfg.id2label[2], "I-gene");
    KZ_CHECK(kz_bert_tokenizer(m) && kz_wordpiece_vocab_size(kz_bert_tokenizer(m)) == 36);
    kz_str t = kz_wordpiece_token(kz_bert_tokenizer(m), 8);
    KZ_CHECK_KSTR(t, "egfr");
    const char *base = m->tensors.map;
    KZ_CHECK(base && (const char *)m->word_emb > base && ((uintptr_t)m->word_emb % 64) == 0);
    kz_bert_stats s;
    kz_bert_get_stats(m, &s);
    KZ_CHECK_STR(s.format, "kzm");
    KZ_CHECK_STR(s.file, "a.kzm");
    KZ_CHECK_INT(s.n_tensors, 39);
    KZ_CHECK_INT(kz_bert_verify_file(p1, &e), 0);
    /* kzm -> kzm is byte-identical except the recorded source */
    KZ_CHECK_INT(save(m, kzm_path("c.kzm", p2, sizeof p2), KZ_PREC_FP32), 0);
    kz_bert_free(m);
    KZ_CHECK_INT(load(p2, &m, &e), 0);
    CHECK_MODEL(m, EXACT, true);
    kz_bert_free(m);

    /* fp16 / bf16: dense and embedding matrices rounded, 1-D tensors exact */
    KZ_CHECK_INT(save(src, kzm_path("h.kzm", p1, sizeof p1), KZ_PREC_FP16), 0);
    KZ_CHECK_INT(load(p1, &m, &e), 0);
    KZ_CHECK_INT(m->stored, KZ_PREC_FP16);
    CHECK_MODEL(m, ROUND_F16, true);
    kz_bert_free(m);
    KZ_CHECK_INT(save(src, kzm_path("bf.kzm", p1, sizeof p1), KZ_PREC_BF16), 0);
    KZ_CHECK_INT(load(p1, &m, &e), 0);
    KZ_CHECK_INT(m->stored, KZ_PREC_BF16);
    CHECK_MODEL(m, ROUND_BF16, true);
    KZ_CHECK(m->layers[0].ffn_in.w_bf16 &&
             (const char *)m->layers[0].ffn_in.w_bf16 > (const char *)m->tensors.map);
    kz_bert_free(m);

    /* int8: per-row bound, quantised copies exposed, re-saving keeps them exactly */
    KZ_CHECK_INT(save(src, kzm_path("q.kzm", p1, sizeof p1), KZ_PREC_INT8), 0);
    KZ_CHECK_INT(load(p1, &m, &e), 0);
    KZ_CHECK_INT(m->stored, KZ_PREC_INT8);
    CHECK_MODEL(m, INT8, true);
    const kz_bert_linear *q = &m->layers[1].ffn_out;
    KZ_CHECK(q->w_q8 && q->w_q8_scale);
    KZ_CHECK(q->w[3] == (float)q->w_q8[3] * q->w_q8_scale[0]);
    int maxq = 0;
    for (int i = 0; i < FF; i++) maxq = abs(q->w_q8[i]) > maxq ? abs(q->w_q8[i]) : maxq;
    KZ_CHECK_INT(maxq, 127);
    KZ_CHECK(m->word_emb[5] == expected()[5]); /* embeddings stay fp32 */
    KZ_CHECK_INT(save(m, kzm_path("q2.kzm", p2, sizeof p2), KZ_PREC_INT8), 0);
    kz_bert_free(m);
    b1 = kz_test_read_file(p1, &l1);
    b2 = kz_test_read_file(p2, &l2);
    /* the data sections match exactly (the recorded source differs in the header) */
    KZ_CHECK(b1 && b2);
    uint64_t d1 = 0, d2 = 0;
    for (int i = 7; i >= 0; i--) {
        d1 = (d1 << 8) | (uint8_t)b1[56 + i];
        d2 = (d2 << 8) | (uint8_t)b2[56 + i];
    }
    KZ_CHECK(d1 < l1 && d2 < l2 && l1 - d1 == l2 - d2 && memcmp(b1 + d1, b2 + d2, l1 - d1) == 0);
    free(b1);
    free(b2);

    /* encoder without tokenizer */
    kz_bert_free(src);
    KZ_CHECK_INT(load(GOLD "/tiny_mlm", &src, &e), 0);
    KZ_CHECK_INT(save(src, kzm_path("enc.kzm", p1, sizeof p1), KZ_PREC_FP32), 0);
    kz_bert_free(src);
    KZ_CHECK_INT(load(p1, &m, &e), 0);
    KZ_CHECK(kz_bert_tokenizer(m) == NULL && m->cfg.head == KZ_HEAD_NONE);
    CHECK_MODEL(m, EXACT, false);
    kz_bert_free(m);
    /* errors */
    KZ_CHECK_INT(kz_bert_save(NULL, p1, KZ_PREC_FP32, &e), KZ_EINVAL);
    KZ_CHECK_INT(load(GOLD "/tiny_tc", &src, &e), 0);
    KZ_CHECK_INT(kz_bert_save(src, "/nonexistent/dir/x.kzm", KZ_PREC_FP32, &e), KZ_EIO);
    KZ_CHECK_INT(kz_bert_save(src, p1, (kz_precision)7, &e), KZ_EINVAL);
    kz_bert_free(src);
}

KZ_TEST(nn_kzm_fp16_overflow_refused) {
    kz_tensor_table tt;
    kz_bert *m;
    kz_error e;
    tiny_table(&tt, "", true);
    float *big = malloc(VR * H * 4);
    memcpy(big, expected(), VR * H * 4);
    big[17] = 70000.0f;
    find_mut(&tt, "embeddings.word_embeddings.weight")->data = big;
    kz_bert_config c = tiny_cfg(KZ_HEAD_TOKEN_CLS);
    KZ_CHECK_INT(kz__bert_from_tensors(&c, &tt, &m, &e), 0);
    char p[512];
    kz_error_clear(&e);
    KZ_CHECK_INT(kz_bert_save(m, kzm_path("ovf.kzm", p, sizeof p), KZ_PREC_FP16, &e), KZ_ERANGE);
    CHECK_MSG(e, "embeddings.word_embeddings.weight");
    KZ_CHECK(access(p, F_OK) != 0);
    KZ_CHECK_INT(save(m, p, KZ_PREC_BF16), 0); /* bf16 has the range */
    kz_bert_free(m);
    free(big);
}

/* A valid tiny .kzm in memory (caller frees). */
static uint8_t *tiny_kzm(kz_precision p, size_t *len) {
    kz_bert *m;
    kz_error e;
    char path[512];
    if (load(GOLD "/tiny_tc", &m, &e)) return NULL;
    int rc = save(m, kzm_path("mut.kzm", path, sizeof path), p);
    kz_bert_free(m);
    return rc ? NULL : (uint8_t *)kz_test_read_file(path, len);
}

static void put(uint8_t *b, size_t off, uint64_t v, int n) {
    for (int i = 0; i < n; i++) b[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get(const uint8_t *b, size_t off, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | b[off + (size_t)i];
    return v;
}
static void rehash(uint8_t *b, size_t len) {
    uint8_t sha[32];
    kz__kzm_header_hash(b, len, sha);
    memcpy(b + 96, sha, 32);
}

static int kzm_try(const uint8_t *b, size_t len, kz_error *e) {
    kz_bert *m = NULL;
    kz_error_clear(e);
    quiet();
    int rc = kz__kzm_read_mem(b, len, &m, e);
    kz_bert_free(m);
    return rc;
}

KZ_TEST(nn_kzm_truncated_and_fixed_header_lies) {
    size_t len;
    uint8_t *good = tiny_kzm(KZ_PREC_INT8, &len);
    KZ_CHECK(good != NULL);
    kz_error e;
    KZ_CHECK_INT(kzm_try(good, len, &e), 0);
    uint8_t *b = malloc(len + 64);
    for (size_t cut = 0; cut < len; cut += (cut < 512 ? 1 : 61)) {
        uint8_t *c = malloc(cut ? cut : 1);
        memcpy(c, good, cut);
        int rc = kzm_try(c, cut, &e);
        free(c);
        if (rc == 0) {
            kz_test_fail(__FILE__, __LINE__, "cut at %zu accepted", cut);
            break;
        }
    }
    static const struct {
        size_t off;
        uint64_t v;
        int n;
        bool rehash;
        int code;
        const char *needle;
    } cases[] = {
        {0, 'X', 1, false, KZ_EFORMAT, "bad magic"},
        {8, 2, 4, false, KZ_EFORMAT, "version 2 is not supported"},
        {12, 1, 4, false, KZ_EFORMAT, "unknown .kzm flags"},
        {16, 12345, 8, false, KZ_EPARSE, "header says 12345"},
        {80, 1, 1, false, KZ_EFORMAT, "reserved header byte 80"},
        {24, 1, 4, false, KZ_ELIMIT, "JSON header of 1 bytes"},
        {24, (uint64_t)KZM_MAX_HEADER + 1, 4, false, KZ_ELIMIT, "JSON header"},
        {28, 70000, 4, false, KZ_ELIMIT, "70000 tensors"},
        {32, (uint64_t)1 << 40, 8, false, KZ_ELIMIT, "vocabulary of"},
        {40, (uint64_t)1 << 40, 8, false, KZ_ELIMIT, "name table"},
        {48, 8, 8, false, KZ_EPARSE, "do not follow"},
        {56, 64, 8, false, KZ_EPARSE, "do not follow"},
        {64, 1, 8, false, KZ_EPARSE, "does not end"},
        {100, 0, 1, false, KZ_EPARSE, "checksum"},
        {200, 'x', 1, false, KZ_EPARSE, "checksum"},
        {128, '[', 1, true, KZ_EPARSE, "JSON header"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memcpy(b, good, len);
        put(b, cases[i].off, cases[i].v, cases[i].n);
        if (cases[i].off == 100) b[100] ^= 0xff;
        if (cases[i].rehash) rehash(b, len);
        int rc = kzm_try(b, len, &e);
        if (rc != cases[i].code || !has(&e, cases[i].needle)) {
            kz_test_fail(__FILE__, __LINE__, "case %zu: rc %d msg '%s'", i, rc, e.msg);
            break;
        }
    }
    /* the data is not hashed at load (that would cost the mmap): verify finds it */
    memcpy(b, good, len);
    b[len - 70] ^= 0x40;
    KZ_CHECK_INT(kzm_try(b, len, &e), 0);
    KZ_CHECK_INT(kz__kzm_verify_mem(b, len, &e), KZ_EPARSE);
    CHECK_MSG(e, "data checksum");
    KZ_CHECK_INT(kz__kzm_verify_mem(good, len, &e), 0);
    free(b);
    free(good);
}

/* Replace the JSON header with text of the same length (padded with spaces), rehash. */
static bool swap_json(uint8_t *b, size_t len, const char *from, const char *to) {
    uint64_t jl = get(b, 24, 4);
    char *j = (char *)b + 128;
    char *at = memmem(j, jl, from, strlen(from));
    size_t fl = strlen(from), tl = strlen(to);
    if (!at || tl > fl) return false;
    memcpy(at, to, tl);
    memset(at + tl, ' ', fl - tl);
    rehash(b, len);
    return true;
}

KZ_TEST(nn_kzm_json_and_directory_lies) {
    size_t len;
    uint8_t *good = tiny_kzm(KZ_PREC_INT8, &len);
    KZ_CHECK(good != NULL);
    uint8_t *b = malloc(len);
    kz_error e;
    static const struct {
        const char *from, *to;
        int code;
        const char *needle;
    } js[] = {
        {"\"storage\":\"int8\"", "\"storage\":\"fp32\"", KZ_EFORMAT,
         "header says storage fp32 but the weights are int8"},
        {"\"storage\":\"int8\"", "\"storage\":\"int4\"", KZ_EFORMAT, "unknown storage"},
        {"\"format\":\"kazu-c-bert\"", "\"format\":\"other\"", KZ_EFORMAT, "not a kazu-c-bert header"},
        {"\"hidden_size\":8", "\"hidden_size\":4", KZ_EFORMAT, "has shape"},
        {"\"num_hidden_layers\":2", "\"num_hidden_layers\":3", KZ_EFORMAT, "missing tensor"},
        {"\"hidden_act\":\"gelu\"", "\"hidden_act\":\"tanh\"", KZ_EFORMAT, "hidden_act"},
        {"\"do_lower_case\":true", "\"do_lower_case\":1", KZ_EPARSE, "do_lower_case"},
    };
    for (size_t i = 0; i < sizeof js / sizeof *js; i++) {
        memcpy(b, good, len);
        if (!swap_json(b, len, js[i].from, js[i].to)) {
            kz_test_fail(__FILE__, __LINE__, "case %zu: '%s' not in the header", i, js[i].from);
            break;
        }
        int rc = kzm_try(b, len, &e);
        if (rc != js[i].code || !has(&e, js[i].needle)) {
            kz_test_fail(__FILE__, __LINE__, "json case %zu: rc %d msg '%s'", i, rc, e.msg);
            break;
        }
    }
    KZ_CHECK(memmem(good + 128, get(good, 24, 4), "\"tokenizer\":{", 13) != NULL);
    /* directory entries: tensor 0 is the word embeddings (F32), tensor 5 layer 0's query weight (I8) */
    uint64_t dir = get(good, 48, 8), dlen = get(good, 64, 8);
    static const struct {
        int entry;
        size_t field;
        uint64_t v;
        int n;
        int code;
        const char *needle;
    } dcases[] = {
        {0, 0, 1u << 30, 4, KZ_EPARSE, "bad name reference"},
        {0, 4, 0, 2, KZ_EPARSE, "bad name reference"},
        {0, 6, 9, 1, KZ_EFORMAT, "unknown dtype code 9"},
        {0, 7, 5, 1, KZ_EPARSE, "5 dimensions"},
        {0, 7, 0, 1, KZ_EPARSE, "0 dimensions"},
        {0, 24, 3, 8, KZ_EPARSE, "bad dimension 2"},
        {0, 8, 41, 8, KZ_EPARSE, "do not match its shape"},
        {0, 40, 32, 8, KZ_EPARSE, "misaligned"},
        {1, 40, 0, 8, KZ_EPARSE, "overlapping"},
        {38, 40, 1u << 30, 8, KZ_EPARSE, "past the"},
        {0, 56, 64, 8, KZ_EPARSE, "scale table on a non-int8"},
        {5, 56, 0, 8, KZ_EPARSE, "bad int8 scale table"},
        {5, 56, 1u << 30, 8, KZ_EPARSE, "bad int8 scale table"},
        {5, 6, 0, 1, KZ_EPARSE, "do not match its shape"},
    };
    for (size_t i = 0; i < sizeof dcases / sizeof *dcases; i++) {
        memcpy(b, good, len);
        put(b, dir + (size_t)dcases[i].entry * 64 + dcases[i].field, dcases[i].v, dcases[i].n);
        rehash(b, len);
        int rc = kzm_try(b, len, &e);
        if (rc != dcases[i].code || !has(&e, dcases[i].needle)) {
            kz_test_fail(__FILE__, __LINE__, "dir case %zu: rc %d msg '%s'", i, rc, e.msg);
            break;
        }
    }
    KZ_CHECK(dlen > 0);
    /* a NaN scale */
    memcpy(b, good, len);
    uint64_t soff = get(good, dir + 5 * 64 + 56, 8), doff = get(good, 56, 8);
    float nan = NAN;
    memcpy(b + doff + soff, &nan, 4);
    KZ_CHECK_INT(kzm_try(b, len, &e), KZ_EFORMAT);
    CHECK_MSG(e, "bad scale");
    free(b);
    free(good);
}

KZ_TEST(nn_kzm_file_errors) {
    kz_bert *m;
    kz_error e;
    char p[512];
    kzm_path("short.kzm", p, sizeof p);
    write_file(p, KZM_MAGIC "abc", 11);
    KZ_CHECK_INT(load(p, &m, &e), KZ_EPARSE);
    CHECK_MSG(e, "truncated");
    KZ_CHECK(strstr(e.path, "short.kzm") != NULL);
    KZ_CHECK_INT(kz_bert_verify_file(p, &e), KZ_EPARSE);
    KZ_CHECK_INT(kz_bert_verify_file("/nonexistent.kzm", &e), KZ_EIO);
}
