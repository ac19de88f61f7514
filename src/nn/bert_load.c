/* BERT model loading: find the files of a Hugging Face directory (or a .kzm),
 * read the tensors, match them by name to the encoder / token-classification
 * layout with every shape checked, convert to fp32 [out][in], attach the
 * tokenizer. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "nn/load_int.h"

/* ---- precision names ------------------------------------------------------------ */
const char *kz_precision_name(kz_precision p) {
    switch (p) {
    case KZ_PREC_FP32: return "fp32";
    case KZ_PREC_INT8: return "int8";
    case KZ_PREC_BF16: return "bf16";
    case KZ_PREC_FP16: return "fp16";
    }
    return "unknown";
}

int kz_precision_parse(const char *name, kz_precision *out) {
    static const struct {
        const char *name;
        kz_precision p;
    } names[] = {{"fp32", KZ_PREC_FP32},     {"float32", KZ_PREC_FP32}, {"f32", KZ_PREC_FP32},
                 {"int8", KZ_PREC_INT8},     {"i8", KZ_PREC_INT8},      {"bf16", KZ_PREC_BF16},
                 {"bfloat16", KZ_PREC_BF16}, {"fp16", KZ_PREC_FP16},    {"float16", KZ_PREC_FP16},
                 {"f16", KZ_PREC_FP16},      {"half", KZ_PREC_FP16}};
    if (!name || !out) return KZ_EINVAL;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].p;
            return 0;
        }
    return KZ_EINVAL;
}

/* ---- tensor names ----------------------------------------------------------------- */
enum { E_WORD, E_POS, E_TYPE, E_LN_W, E_LN_B, N_EMB };
static const char *const EMB_NAMES[N_EMB] = {
    "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
    "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"};
#define N_LAYER_T 16
static const char *const LAYER_NAMES[N_LAYER_T] = {"attention.self.query.weight",
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
static const char *const CLS_NAMES[2] = {"classifier.weight", "classifier.bias"};

/* Expected shape of a layer tensor: 0 = hidden, 1 = intermediate. */
static const int8_t LAYER_SHAPE[N_LAYER_T][2] = {{0, 0}, {0, -1}, {0, 0},  {0, -1}, {0, 0}, {0, -1},
                                                 {0, 0}, {0, -1}, {0, -1}, {0, -1}, {1, 0}, {1, -1},
                                                 {0, 1}, {0, -1}, {0, -1}, {0, -1}};

/* HF name -> canonical: drop one "bert." prefix, TF-era LayerNorm gamma/beta -> weight/bias. */
static void canonical(const char *in, char *out, size_t cap) {
    if (strncmp(in, "bert.", 5) == 0) in += 5;
    snprintf(out, cap, "%s", in);
    size_t n = strlen(out);
    if (n > 6 && strcmp(out + n - 6, ".gamma") == 0 && strstr(out, "LayerNorm"))
        snprintf(out + n - 6, cap - (n - 6), ".weight");
    else if (n > 5 && strcmp(out + n - 5, ".beta") == 0 && strstr(out, "LayerNorm"))
        snprintf(out + n - 5, cap - (n - 5), ".bias");
}

static bool ignorable(const char *c) {
    return strcmp(c, "embeddings.position_ids") == 0 || strncmp(c, "pooler.", 7) == 0 ||
           strncmp(c, "cls.", 4) == 0;
}

/* Slot of a canonical name, or -1 (unknown), -2 (layer index out of range). */
static long slot_of(const char *c, uint32_t layers, uint32_t *bad_layer) {
    for (int i = 0; i < N_EMB; i++)
        if (strcmp(c, EMB_NAMES[i]) == 0) return i;
    for (int i = 0; i < 2; i++)
        if (strcmp(c, CLS_NAMES[i]) == 0) return N_EMB + (long)N_LAYER_T * layers + i;
    if (strncmp(c, "encoder.layer.", 14) != 0) return -1;
    const char *p = c + 14;
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9')) return -1;
    unsigned long l = 0;
    while (*p >= '0' && *p <= '9' && l < 100000) l = l * 10 + (unsigned long)(*p++ - '0');
    if (*p++ != '.') return -1;
    for (int i = 0; i < N_LAYER_T; i++) {
        if (strcmp(p, LAYER_NAMES[i]) == 0) {
            if (l >= layers) {
                *bad_layer = (uint32_t)KZ_MIN(l, UINT32_MAX);
                return -2;
            }
            return N_EMB + (long)N_LAYER_T * (long)l + i;
        }
    }
    return -1;
}

static void slot_name(long s, uint32_t layers, char *buf, size_t cap) {
    if (s < N_EMB)
        snprintf(buf, cap, "%s", EMB_NAMES[s]);
    else if (s >= N_EMB + (long)N_LAYER_T * layers)
        snprintf(buf, cap, "%s", CLS_NAMES[s - N_EMB - N_LAYER_T * (long)layers]);
    else
        snprintf(buf, cap, "encoder.layer.%ld.%s", (s - N_EMB) / N_LAYER_T,
                 LAYER_NAMES[(s - N_EMB) % N_LAYER_T]);
}

/* ---- conversions ------------------------------------------------------------------- */
static int f32_of(kz_bert_x *x, const kz_tensor *t, const float **out, kz_error *err) {
    uint64_t n = t->nbytes / kz__dtype_size(t->dtype);
    if (t->dtype == KZ_DT_F32 && ((uintptr_t)t->data % 4) == 0) {
        *out = t->data;
        return 0;
    }
    if (t->dtype == KZ_DT_I8 && !t->scales)
        return kz_error_set(err, KZ_EFORMAT,
                            "tensor '%s' is int8 without scales; only .kzm int8 files carry them", t->name);
    if (t->dtype == KZ_DT_I64 || (t->dtype == KZ_DT_I8 && t->ndim != 2))
        return kz_error_set(err, KZ_EFORMAT, "tensor '%s' has dtype %s where a float tensor is expected",
                            t->name, kz__dtype_name(t->dtype));
    if (!t->data && n) return kz_error_set(err, KZ_EFORMAT, "tensor '%s' has no data", t->name);
    float *f = malloc((size_t)(n ? n : 1) * sizeof *f);
    if (!f || kz__tensor_table_own(&x->m.tensors, f)) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    const uint8_t *p = t->data;
    switch (t->dtype) {
    case KZ_DT_F32: memcpy(f, p, (size_t)n * 4); break;
    case KZ_DT_F16: kz__f16_to_f32_n(p, f, (size_t)n); break;
    case KZ_DT_BF16: kz__bf16_to_f32_n(p, f, (size_t)n); break;
    case KZ_DT_I8: {
        uint64_t cols = (uint64_t)t->shape[1];
        for (uint64_t r = 0; r < (uint64_t)t->shape[0]; r++) {
            float s = t->scales[r];
            if (!isfinite(s) || s < 0)
                return kz_error_set(err, KZ_EFORMAT, "tensor '%s' row %llu has a bad scale", t->name,
                                    (unsigned long long)r);
            for (uint64_t c = 0; c < cols; c++)
                f[r * cols + c] = (float)((const int8_t *)p)[r * cols + c] * s;
        }
        break;
    }
    default: break;
    }
    *out = f;
    return 0;
}

static int make_linear(kz_bert_x *x, const kz_tensor *w, const kz_tensor *b, kz_bert_linear *L,
                       kz_error *err) {
    int rc = f32_of(x, w, &L->w, err);
    if (!rc) rc = f32_of(x, b, &L->b, err);
    if (rc) return rc;
    L->out = (uint32_t)w->shape[0];
    L->in = (uint32_t)w->shape[1];
    if (w->dtype == KZ_DT_I8) {
        L->w_q8 = w->data;
        L->w_q8_scale = w->scales;
    } else if (w->dtype == KZ_DT_BF16 && ((uintptr_t)w->data % 2) == 0) {
        L->w_bf16 = w->data;
    }
    return 0;
}

static int check_shape(const kz_tensor *t, const char *want_name, uint32_t ndim, int64_t d0, int64_t d1,
                       const char *what, kz_error *err) {
    bool ok = t->ndim == ndim && t->shape[0] == d0 && (ndim < 2 || t->shape[1] == d1);
    if (ok) return 0;
    char got[96], exp[96];
    int64_t e[2] = {d0, d1};
    return kz_error_set(err, KZ_EFORMAT, "tensor '%s' has shape %s, expected %s (%s)", want_name,
                        kz__shape_str(t->shape, t->ndim, got, sizeof got),
                        kz__shape_str(e, ndim, exp, sizeof exp), what);
}

static void free_model(kz_bert_x *x) {
    if (!x) return;
    kz_wordpiece_free(x->m.tokenizer);
    free(x->m.layers);
    kz__bert_config_free(&x->m.cfg);
    kz__tensor_table_free(&x->m.tensors);
    kz__tok_spec_free(&x->tok);
    free(x->vocab_owned);
    free(x);
}

void kz_bert_free(kz_bert *m) { free_model(m ? kz__bert_x(m) : NULL); }

static kz_precision precision_of(kz_dtype t) {
    switch (t) {
    case KZ_DT_F16: return KZ_PREC_FP16;
    case KZ_DT_BF16: return KZ_PREC_BF16;
    case KZ_DT_I8: return KZ_PREC_INT8;
    default: return KZ_PREC_FP32;
    }
}

static int resolve(kz_bert_x *x, kz_error *err) {
    kz_bert *m = &x->m;
    kz_bert_config *cfg = &m->cfg;
    const uint32_t L = cfg->layers, H = cfg->hidden, I = cfg->intermediate;
    const size_t n_slots = N_EMB + (size_t)N_LAYER_T * L + 2;
    const kz_tensor **slot = calloc(n_slots, sizeof *slot);
    const char **given = calloc(n_slots, sizeof *given);
    int rc = 0;
    char cn[KZ_NN_MAX_NAME + 16], nm[KZ_NN_MAX_NAME + 16];
    size_t n_pooler = 0, n_cls = 0, n_pos = 0;
    if (!slot || !given) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < m->tensors.n; i++) {
        const kz_tensor *t = &m->tensors.t[i];
        canonical(t->name, cn, sizeof cn);
        if (ignorable(cn)) {
            if (cn[0] == 'p')
                n_pooler++;
            else if (cn[0] == 'c')
                n_cls++;
            else
                n_pos++;
            continue;
        }
        uint32_t bad_layer = 0;
        long s = slot_of(cn, L, &bad_layer);
        if (s == -2) {
            rc = kz_error_set(err, KZ_EFORMAT, "unexpected tensor '%s': the config has %u layers (0..%u)",
                              t->name, L, L - 1);
            goto done;
        }
        if (s < 0) {
            rc = kz_error_set(
                err, KZ_EFORMAT,
                "unexpected tensor '%s' (not part of a BERT encoder or token-classification head)", t->name);
            goto done;
        }
        if (slot[s]) {
            rc = kz_error_set(err, KZ_EFORMAT, "tensor '%s' is given twice (as '%s' and '%s')", cn, given[s],
                              t->name);
            goto done;
        }
        slot[s] = t;
        given[s] = t->name;
    }
    const size_t cls_w = n_slots - 2;
    if (cfg->head == KZ__HEAD_AUTO)
        cfg->head = slot[cls_w] || slot[cls_w + 1] ? KZ_HEAD_TOKEN_CLS : KZ_HEAD_NONE;
    if (cfg->head == KZ_HEAD_NONE && (slot[cls_w] || slot[cls_w + 1])) {
        kz_log(KZ_LOG_WARN,
               "classifier.* tensors ignored: the config's architecture is an encoder without a head");
        n_cls += (slot[cls_w] != NULL) + (slot[cls_w + 1] != NULL);
        slot[cls_w] = slot[cls_w + 1] = NULL;
    }
    size_t missing = 0, first_missing = 0;
    for (size_t s = 0; s < n_slots; s++) {
        if (slot[s] || (s >= cls_w && cfg->head == KZ_HEAD_NONE)) continue;
        if (!missing++) first_missing = s;
    }
    if (missing) {
        slot_name((long)first_missing, L, nm, sizeof nm);
        rc = missing > 1 ? kz_error_set(err, KZ_EFORMAT, "missing tensor '%s' and %zu more", nm, missing - 1)
                         : kz_error_set(err, KZ_EFORMAT, "missing tensor '%s'", nm);
        goto done;
    }
    if (n_pooler + n_cls + n_pos)
        kz_log(KZ_LOG_INFO,
               "ignored %zu tensors not used for token outputs: %zu pooler.*, %zu cls.* (pretraining "
               "heads, decoder tied to the word embeddings), %zu position_ids",
               n_pooler + n_cls + n_pos, n_pooler, n_cls, n_pos);
    x->n_ignored = n_pooler + n_cls + n_pos;

    /* Shapes. The word-embedding matrix decides the vocabulary size. */
    const kz_tensor *we = slot[E_WORD];
    if (we->ndim != 2 || we->shape[1] != H || we->shape[0] < 1 || we->shape[0] > (1 << 24)) {
        rc = check_shape(we, EMB_NAMES[E_WORD], 2, we->ndim == 2 ? we->shape[0] : cfg->vocab_size, H,
                         "vocab x hidden_size", err);
        if (!rc)
            rc = kz_error_set(err, KZ_EFORMAT, "tensor '%s' has an unusable row count", EMB_NAMES[E_WORD]);
        goto done;
    }
    if ((uint32_t)we->shape[0] != cfg->vocab_size)
        kz_log(KZ_LOG_WARN,
               "config vocab_size %u differs from the %lld rows of the word embeddings; using %lld",
               cfg->vocab_size, (long long)we->shape[0], (long long)we->shape[0]);
    cfg->vocab_size = (uint32_t)we->shape[0];
    if (cfg->pad_token_id >= (int32_t)cfg->vocab_size) {
        rc = kz_error_set(err, KZ_EFORMAT, "pad_token_id %d is outside the %u-row vocabulary",
                          cfg->pad_token_id, cfg->vocab_size);
        goto done;
    }
    if ((rc = check_shape(slot[E_POS], EMB_NAMES[E_POS], 2, cfg->max_positions, H,
                          "max_position_embeddings x hidden_size", err)) ||
        (rc = check_shape(slot[E_TYPE], EMB_NAMES[E_TYPE], 2, cfg->type_vocab, H,
                          "type_vocab_size x hidden_size", err)) ||
        (rc = check_shape(slot[E_LN_W], EMB_NAMES[E_LN_W], 1, H, 0, "hidden_size", err)) ||
        (rc = check_shape(slot[E_LN_B], EMB_NAMES[E_LN_B], 1, H, 0, "hidden_size", err)))
        goto done;
    for (uint32_t l = 0; l < L; l++) {
        for (int j = 0; j < N_LAYER_T; j++) {
            const kz_tensor *t = slot[N_EMB + N_LAYER_T * l + j];
            int64_t d0 = LAYER_SHAPE[j][0] ? I : H;
            int64_t d1 = LAYER_SHAPE[j][1] < 0 ? 0 : LAYER_SHAPE[j][1] ? I : H;
            uint32_t nd = LAYER_SHAPE[j][1] < 0 ? 1 : 2;
            snprintf(nm, sizeof nm, "encoder.layer.%u.%s", l, LAYER_NAMES[j]);
            const char *what = nd == 1   ? (d0 == H ? "hidden_size" : "intermediate_size")
                               : j == 10 ? "intermediate_size x hidden_size"
                               : j == 12 ? "hidden_size x intermediate_size"
                                         : "hidden_size x hidden_size";
            if ((rc = check_shape(t, nm, nd, d0, d1, what, err))) goto done;
        }
    }
    if (cfg->head == KZ_HEAD_TOKEN_CLS) {
        const kz_tensor *cw = slot[cls_w], *cb = slot[cls_w + 1];
        if (cw->ndim == 2 && cw->shape[1] == H && cw->shape[0] != (int64_t)cfg->num_labels) {
            rc = kz_error_set(
                err, KZ_EFORMAT,
                "tensor 'classifier.weight' has %lld rows but the config has %u labels (id2label)",
                (long long)cw->shape[0], cfg->num_labels);
            goto done;
        }
        if ((rc = check_shape(cw, CLS_NAMES[0], 2, cfg->num_labels, H, "num_labels x hidden_size", err)) ||
            (rc = check_shape(cb, CLS_NAMES[1], 1, cfg->num_labels, 0, "num_labels", err)))
            goto done;
    } else {
        kz__bert_config_free(cfg);
        cfg->num_labels = 0;
        cfg->multilabel = false;
    }

    /* Pointers (aliasing fp32 data, converting the rest). */
    if ((rc = f32_of(x, slot[E_WORD], &m->word_emb, err)) ||
        (rc = f32_of(x, slot[E_POS], &m->pos_emb, err)) ||
        (rc = f32_of(x, slot[E_TYPE], &m->type_emb, err)) ||
        (rc = f32_of(x, slot[E_LN_W], &m->emb_ln_g, err)) ||
        (rc = f32_of(x, slot[E_LN_B], &m->emb_ln_b, err)))
        goto done;
    m->layers = calloc(L, sizeof *m->layers);
    if (!m->layers) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t l = 0; l < L && !rc; l++) {
        const kz_tensor **s = slot + N_EMB + N_LAYER_T * l;
        kz_bert_layer *ly = &m->layers[l];
        if ((rc = make_linear(x, s[0], s[1], &ly->q, err)) ||
            (rc = make_linear(x, s[2], s[3], &ly->k, err)) ||
            (rc = make_linear(x, s[4], s[5], &ly->v, err)) ||
            (rc = make_linear(x, s[6], s[7], &ly->attn_out, err)) ||
            (rc = f32_of(x, s[8], &ly->ln1_g, err)) || (rc = f32_of(x, s[9], &ly->ln1_b, err)) ||
            (rc = make_linear(x, s[10], s[11], &ly->ffn_in, err)) ||
            (rc = make_linear(x, s[12], s[13], &ly->ffn_out, err)) ||
            (rc = f32_of(x, s[14], &ly->ln2_g, err)) || (rc = f32_of(x, s[15], &ly->ln2_b, err)))
            goto done;
    }
    if (cfg->head == KZ_HEAD_TOKEN_CLS &&
        (rc = make_linear(x, slot[cls_w], slot[cls_w + 1], &m->classifier, err)))
        goto done;
    m->stored = precision_of(slot[N_EMB]->dtype); /* layer 0's query weight */
    x->params_used = 0;
    for (size_t s = 0; s < n_slots; s++)
        if (slot[s]) x->params_used += slot[s]->nbytes / kz__dtype_size(slot[s]->dtype);
done:
    free(slot);
    free(given);
    return rc;
}

int kz__bert_from_tensors(kz_bert_config *cfg, kz_tensor_table *tt, kz_bert **out, kz_error *err) {
    *out = NULL;
    kz_bert_x *x = calloc(1, sizeof *x);
    if (!x) {
        kz__bert_config_free(cfg);
        kz__tensor_table_free(tt);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    x->m.cfg = *cfg;
    cfg->id2label = NULL; /* moved */
    x->m.tensors = *tt;
    memset(tt, 0, sizeof *tt);
    kz__tok_spec_default(&x->tok);
    x->format = "memory";
    int rc = resolve(x, err);
    if (rc) {
        free_model(x);
        return rc;
    }
    *out = &x->m;
    return 0;
}

int kz__bert_attach_tokenizer(kz_bert_x *x, const char *vocab_path, kz_error *err) {
    if (!x->vocab) return 0;
    if (err && vocab_path) kz__err_path(err, vocab_path);
    kz_wordpiece_opts o = kz__tok_spec_opts(&x->tok);
    int rc = kz_wordpiece_from_buffer(x->vocab, x->vocab_len, &o, &x->m.tokenizer, err);
    if (rc) return rc;
    uint32_t n = kz_wordpiece_vocab_size(x->m.tokenizer), rows = x->m.cfg.vocab_size;
    if (n > rows)
        return kz_error_set(
            err, KZ_EFORMAT,
            "the vocabulary has %u tokens but the word-embedding matrix only %u rows: ids %u..%u "
            "would index past it",
            n, rows, rows, n - 1);
    if (n < rows)
        kz_log(KZ_LOG_WARN, "%s: %u vocabulary tokens for %u embedding rows: ids %u..%u are never produced",
               vocab_path ? vocab_path : "vocab", n, rows, n, rows - 1);
    return 0;
}

/* ---- Hugging Face directories ----------------------------------------------------- */
/* err->path = dir[/file], keeping the end of a path too long for the field. */
static void set_path(kz_error *err, const char *dir, const char *file) {
    if (!err) return;
    char full[8192];
    snprintf(full, sizeof full, "%s%s%s", dir, file ? "/" : "", file ? file : "");
    kz__err_path(err, full);
    err->line = err->column = 0;
    err->offset = -1;
}

static bool exists(const char *dir, const char *file) {
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, file);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int read_json_file(const char *path, json_t **out, kz_error *err) {
    char *text;
    size_t len;
    int rc = kz__read_small_file(path, KZ_NN_MAX_CONFIG, &text, &len, err);
    if (rc) return rc;
    json_error_t je;
    *out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!*out) {
        if (err) {
            err->line = je.line > 0 ? je.line : 0;
            err->column = je.column > 0 ? je.column : 0;
        }
        return kz_error_set(err, KZ_EPARSE, "%s", je.text);
    }
    return 0;
}

/* weights: a file inside dir, or NULL to look for the usual names. */
static int load_hf(const char *dir, const char *weights, kz_bert **out, kz_error *err) {
    char wpath[4096], cpath[4096];
    const char *wname = weights;
    if (!wname) {
        if (exists(dir, "model.safetensors"))
            wname = "model.safetensors";
        else if (exists(dir, "pytorch_model.bin"))
            wname = "pytorch_model.bin";
        else if (exists(dir, "model.safetensors.index.json") || exists(dir, "pytorch_model.bin.index.json")) {
            set_path(err, dir, NULL);
            return kz_error_set(err, KZ_EFORMAT,
                                "sharded checkpoints are not supported: merge the shards into one "
                                "model.safetensors");
        } else {
            set_path(err, dir, NULL);
            return kz_error_set(err, KZ_ENOTFOUND, "no model.safetensors or pytorch_model.bin%s",
                                exists(dir, "tf_model.h5") || exists(dir, "flax_model.msgpack")
                                    ? " (TensorFlow / Flax weights are not read)"
                                    : "");
        }
    }
    snprintf(wpath, sizeof wpath, "%s/%s", dir, wname);
    snprintf(cpath, sizeof cpath, "%s/config.json", dir);

    kz_bert_config cfg;
    memset(&cfg, 0, sizeof cfg);
    json_t *cj = NULL;
    set_path(err, cpath, NULL);
    int rc = read_json_file(cpath, &cj, err);
    if (!rc) rc = kz__bert_config_from_json(cj, cpath, &cfg, err);
    json_decref(cj);
    if (rc) return rc;

    kz_tok_spec tok;
    kz__tok_spec_default(&tok);
    char *vocab = NULL;
    size_t vocab_len = 0;
    char tpath[4096], vpath[4096];
    snprintf(tpath, sizeof tpath, "%s/tokenizer_config.json", dir);
    snprintf(vpath, sizeof vpath, "%s/vocab.txt", dir);
    if (exists(dir, "tokenizer_config.json")) {
        json_t *tj = NULL;
        set_path(err, tpath, NULL);
        rc = read_json_file(tpath, &tj, err);
        if (!rc) rc = kz__tok_spec_from_json(tj, tpath, &tok, err);
        json_decref(tj);
    }
    if (!rc && exists(dir, "vocab.txt")) {
        set_path(err, vpath, NULL);
        rc = kz__read_small_file(vpath, KZ_NN_MAX_VOCAB_BYTES, &vocab, &vocab_len, err);
    } else if (!rc && exists(dir, "tokenizer.json")) {
        kz_log(KZ_LOG_WARN, "%s: tokenizer.json without vocab.txt is not read; the model has no tokenizer",
               dir);
    }
    if (rc) {
        kz__bert_config_free(&cfg);
        kz__tok_spec_free(&tok);
        free(vocab);
        return rc;
    }

    kz_tensor_table tt;
    set_path(err, wpath, NULL);
    struct stat st;
    uint64_t wbytes = stat(wpath, &st) == 0 ? (uint64_t)st.st_size : 0;
    const char *format = "safetensors";
    unsigned char magic[4] = {0};
    FILE *f = fopen(wpath, "rb");
    if (f) {
        if (fread(magic, 1, 4, f) != 4) memset(magic, 0, 4);
        fclose(f);
    }
    if (memcmp(magic, "PK\x03\x04", 4) == 0 || (magic[0] == 0x80 && magic[1] <= 5)) {
        format = "torch-zip";
        rc = kz__torch_zip_read(wpath, &tt, err);
    } else {
        rc = kz__safetensors_read(wpath, &tt, err);
    }
    kz_bert *m = NULL;
    if (!rc) rc = kz__bert_from_tensors(&cfg, &tt, &m, err);
    kz__bert_config_free(&cfg);
    if (rc) {
        kz__tok_spec_free(&tok);
        free(vocab);
        return rc;
    }
    kz_bert_x *x = kz__bert_x(m);
    x->format = format;
    snprintf(x->file, sizeof x->file, "%s", wname);
    x->file_bytes = wbytes;
    kz__tok_spec_free(&x->tok);
    x->tok = tok;
    x->vocab_owned = vocab;
    x->vocab = vocab;
    x->vocab_len = vocab_len;
    x->have_tok = vocab != NULL;
    if ((rc = kz__bert_attach_tokenizer(x, vpath, err))) {
        kz_bert_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int kz_bert_load(const char *path, kz_bert **out, kz_error *err) {
    if (!out) return kz_error_set(err, KZ_EINVAL, "kz_bert_load: out is NULL");
    *out = NULL;
    if (!path) return kz_error_set(err, KZ_EINVAL, "kz_bert_load: path is NULL");
    if (strlen(path) > 3000) return kz_error_set(err, KZ_EINVAL, "path too long");
    set_path(err, path, NULL);
    struct stat st;
    if (stat(path, &st) != 0) return kz_error_set(err, KZ_EIO, "cannot open: %s", strerror(errno));
    if (S_ISDIR(st.st_mode)) return load_hf(path, NULL, out, err);
    if (!S_ISREG(st.st_mode)) return kz_error_set(err, KZ_EIO, "not a file or directory");
    unsigned char head[9] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return kz_error_set(err, KZ_EIO, "cannot open: %s", strerror(errno));
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    if (got >= 8 && memcmp(head, KZM_MAGIC, 8) == 0) return kz__kzm_read(path, out, err);
    bool zip =
        (got >= 4 && memcmp(head, "PK\x03\x04", 4) == 0) || (got >= 2 && head[0] == 0x80 && head[1] <= 5);
    bool st_like = got == 9 && head[8] == '{';
    if (!zip && !st_like)
        return kz_error_set(err, KZ_EFORMAT,
                            "not a model: expected a Hugging Face directory, a .kzm, a "
                            "model.safetensors or a pytorch_model.bin");
    /* A weights file: its directory holds config.json and the tokenizer files. */
    char dirbuf[4096], basebuf[4096];
    snprintf(dirbuf, sizeof dirbuf, "%s", path);
    snprintf(basebuf, sizeof basebuf, "%s", path);
    return load_hf(dirname(dirbuf), basename(basebuf), out, err);
}

const kz_bert_config *kz_bert_get_config(const kz_bert *m) { return m ? &m->cfg : NULL; }
const kz_wordpiece *kz_bert_tokenizer(const kz_bert *m) { return m ? m->tokenizer : NULL; }

void kz_bert_get_stats(const kz_bert *m, kz_bert_stats *out) {
    memset(out, 0, sizeof *out);
    if (!m) return;
    const kz_bert_x *x = kz__bert_cx(m);
    out->format = x->format;
    out->file = x->file;
    out->file_bytes = x->file_bytes;
    out->n_tensors = (uint32_t)m->tensors.n;
    out->n_ignored = (uint32_t)x->n_ignored;
    for (size_t i = 0; i < m->tensors.n; i++) {
        const kz_tensor *t = &m->tensors.t[i];
        uint64_t n = 0;
        kz__shape_numel(t->shape, t->ndim, &n);
        out->n_params += n;
        if ((unsigned)t->dtype < KZ_DT_COUNT) out->n_by_dtype[t->dtype]++;
    }
    out->n_params_used = x->params_used;
    out->stored = m->stored;
    out->has_tokenizer = m->tokenizer != NULL;
    out->lowercase = x->tok.lowercase;
    out->tokenize_chinese_chars = x->tok.tokenize_chinese_chars;
    out->strip_accents = x->tok.strip_accents;
}
