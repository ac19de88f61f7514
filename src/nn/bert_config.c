/* Hugging Face config.json -> kz_bert_config (HF defaults for absent keys, caps
 * on every size, unsupported variants refused), tokenizer_config.json ->
 * WordPiece options, and both back to JSON for the .kzm header. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "nn/load_int.h"

#define MAX_HIDDEN       65536
#define MAX_LAYERS       1024
#define MAX_INTERMEDIATE (1 << 20)
#define MAX_POSITIONS    (1 << 20)
#define MAX_TYPE_VOCAB   65536
#define MAX_VOCAB        (1 << 24)
#define MAX_LABELS       65536
#define MAX_LABEL_LEN    1024

int kz__read_small_file(const char *path, size_t cap, char **out, size_t *len, kz_error *err) {
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kz_error_set(err, errno == ENOENT ? KZ_ENOTFOUND : KZ_EIO, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return kz_error_set(err, KZ_EIO, "not a regular file");
    }
    if ((uint64_t)st.st_size > cap) {
        close(fd);
        return kz_error_set(err, KZ_ELIMIT, "%lld bytes (limit %zu)", (long long)st.st_size, cap);
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        close(fd);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        free(buf);
        return kz_error_set(err, KZ_EIO, "short read");
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
}

/* ---- helpers ------------------------------------------------------------------- */
static int get_u32(json_t *root, const char *key, uint32_t def, uint32_t min, uint32_t max, uint32_t *out,
                   kz_error *err) {
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v)) return kz_error_set(err, KZ_EPARSE, "config: %s is not an integer", key);
    json_int_t i = json_integer_value(v);
    if (i < (json_int_t)min || i > (json_int_t)max)
        return kz_error_set(err, KZ_EPARSE, "config: %s = %lld is outside %u..%u", key, (long long)i, min,
                            max);
    *out = (uint32_t)i;
    return 0;
}

static int get_bool(json_t *root, const char *key, bool def, bool *out, kz_error *err) {
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return 0;
    }
    if (!json_is_boolean(v)) return kz_error_set(err, KZ_EPARSE, "config: %s is not true/false", key);
    *out = json_is_true(v);
    return 0;
}

static const char *get_str(json_t *root, const char *key) {
    json_t *v = json_object_get(root, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *kz__bert_act_name(kz_bert_act a) {
    switch (a) {
    case KZ_ACT_GELU: return "gelu";
    case KZ_ACT_GELU_TANH: return "gelu_new";
    case KZ_ACT_RELU: return "relu";
    }
    return "?";
}

void kz__bert_config_free(kz_bert_config *cfg) {
    if (!cfg) return;
    if (cfg->id2label)
        for (uint32_t i = 0; i < cfg->num_labels; i++) free(cfg->id2label[i]);
    free(cfg->id2label);
    cfg->id2label = NULL;
}

/* id2label {"0": "O", ...}: keys exactly 0..n-1. */
static int parse_id2label(json_t *v, kz_bert_config *cfg, kz_error *err) {
    if (!json_is_object(v)) return kz_error_set(err, KZ_EPARSE, "config: id2label is not an object");
    size_t n = json_object_size(v);
    if (n == 0 || n > MAX_LABELS)
        return kz_error_set(err, KZ_EPARSE, "config: id2label has %zu labels (1..%d allowed)", n, MAX_LABELS);
    char **labels = calloc(n, sizeof *labels);
    if (!labels) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    const char *k;
    json_t *lv;
    int rc = 0;
    json_object_foreach(v, k, lv) {
        char *end;
        errno = 0;
        unsigned long id = strtoul(k, &end, 10);
        if (!*k || *end || errno || k[0] == '-' || k[0] == '+' || (k[0] == '0' && k[1]) || id >= n) {
            rc =
                kz_error_set(err, KZ_EPARSE, "config: id2label key '%.40s' is not an id in 0..%zu", k, n - 1);
            break;
        }
        if (!json_is_string(lv) || json_string_length(lv) > MAX_LABEL_LEN) {
            rc = kz_error_set(err, KZ_EPARSE, "config: id2label[%lu] is not a string of at most %d bytes", id,
                              MAX_LABEL_LEN);
            break;
        }
        if (labels[id]) {
            rc = kz_error_set(err, KZ_EPARSE, "config: id2label repeats id %lu", id);
            break;
        }
        if (!(labels[id] = strdup(json_string_value(lv)))) {
            rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
            break;
        }
    }
    if (rc) {
        for (size_t i = 0; i < n; i++) free(labels[i]);
        free(labels);
        return rc;
    }
    cfg->id2label = labels;
    cfg->num_labels = (uint32_t)n;
    return 0;
}

/* label2id {"O": 0, ...} -> id2label, when id2label is absent. */
static int parse_label2id(json_t *v, kz_bert_config *cfg, kz_error *err) {
    if (!json_is_object(v)) return kz_error_set(err, KZ_EPARSE, "config: label2id is not an object");
    size_t n = json_object_size(v);
    if (n == 0 || n > MAX_LABELS)
        return kz_error_set(err, KZ_EPARSE, "config: label2id has %zu labels (1..%d allowed)", n, MAX_LABELS);
    char **labels = calloc(n, sizeof *labels);
    if (!labels) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    const char *k;
    json_t *iv;
    int rc = 0;
    json_object_foreach(v, k, iv) {
        json_int_t id = json_is_integer(iv) ? json_integer_value(iv) : -1;
        if (id < 0 || (size_t)id >= n || labels[id] || strlen(k) > MAX_LABEL_LEN) {
            rc = kz_error_set(err, KZ_EPARSE, "config: label2id['%.60s'] is not a distinct id in 0..%zu", k,
                              n - 1);
            break;
        }
        if (!(labels[id] = strdup(k))) {
            rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
            break;
        }
    }
    if (rc) {
        for (size_t i = 0; i < n; i++) free(labels[i]);
        free(labels);
        return rc;
    }
    cfg->id2label = labels;
    cfg->num_labels = (uint32_t)n;
    return 0;
}

static int default_labels(kz_bert_config *cfg, uint32_t n, kz_error *err) {
    cfg->id2label = calloc(n ? n : 1, sizeof *cfg->id2label);
    if (!cfg->id2label) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    cfg->num_labels = n;
    for (uint32_t i = 0; i < n; i++) {
        char b[32];
        snprintf(b, sizeof b, "LABEL_%u", i);
        if (!(cfg->id2label[i] = strdup(b))) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    return 0;
}

/* architectures[0] -> head. Absent: decided from the tensors. */
static int parse_arch(json_t *root, kz_bert_config *cfg, kz_error *err) {
    json_t *a = json_object_get(root, "architectures");
    cfg->head = KZ__HEAD_AUTO;
    if (!a || json_is_null(a)) return 0;
    if (!json_is_array(a) || json_array_size(a) == 0 || !json_is_string(json_array_get(a, 0)))
        return kz_error_set(err, KZ_EPARSE, "config: architectures is not a list of names");
    const char *name = json_string_value(json_array_get(a, 0));
    static const char *const encoders[] = {"BertModel", "BertForMaskedLM", "BertForPreTraining"};
    for (size_t i = 0; i < sizeof encoders / sizeof *encoders; i++)
        if (strcmp(name, encoders[i]) == 0) {
            cfg->head = KZ_HEAD_NONE;
            return 0;
        }
    if (strcmp(name, "BertForTokenClassification") == 0) {
        cfg->head = KZ_HEAD_TOKEN_CLS;
        return 0;
    }
    /* Kazu's multilabel NER model class (kazu/training/modelling.py): sigmoid per label. */
    if (strcmp(name, "BertForMultiLabelTokenClassification") == 0) {
        cfg->head = KZ_HEAD_TOKEN_CLS;
        cfg->multilabel = true;
        return 0;
    }
    return kz_error_set(
        err, KZ_EFORMAT,
        "config: architecture '%.80s' is not supported (kazu-c runs BertModel, BertForMaskedLM, "
        "BertForPreTraining as encoders and BertForTokenClassification / "
        "BertForMultiLabelTokenClassification)",
        name);
}

int kz__bert_config_from_json(json_t *root, const char *path, kz_bert_config *cfg, kz_error *err) {
    memset(cfg, 0, sizeof *cfg);
    if (err && path && !err->path[0]) kz__err_path(err, path);
    if (!json_is_object(root)) return kz_error_set(err, KZ_EPARSE, "config: not a JSON object");
    const char *mt = get_str(root, "model_type");
    if (json_object_get(root, "model_type") && (!mt || strcmp(mt, "bert") != 0))
        return kz_error_set(err, KZ_EFORMAT, "config: model_type '%.60s' is not supported (only 'bert')",
                            mt ? mt : "(not a string)");
    const char *pe = get_str(root, "position_embedding_type");
    if (json_object_get(root, "position_embedding_type") && (!pe || strcmp(pe, "absolute") != 0))
        return kz_error_set(err, KZ_EFORMAT,
                            "config: position_embedding_type '%.60s' is not supported "
                            "(only 'absolute')",
                            pe ? pe : "(not a string)");
    bool dec = false, cross = false;
    int rc = get_bool(root, "is_decoder", false, &dec, err);
    if (!rc) rc = get_bool(root, "add_cross_attention", false, &cross, err);
    if (rc) return rc;
    if (dec || cross)
        return kz_error_set(err, KZ_EFORMAT, "config: decoder / cross-attention BERT is not supported");

    /* Hugging Face BertConfig defaults for absent keys. */
    if ((rc = get_u32(root, "vocab_size", 30522, 1, MAX_VOCAB, &cfg->vocab_size, err)) ||
        (rc = get_u32(root, "hidden_size", 768, 1, MAX_HIDDEN, &cfg->hidden, err)) ||
        (rc = get_u32(root, "num_hidden_layers", 12, 1, MAX_LAYERS, &cfg->layers, err)) ||
        (rc = get_u32(root, "num_attention_heads", 12, 1, MAX_HIDDEN, &cfg->heads, err)) ||
        (rc = get_u32(root, "intermediate_size", 3072, 1, MAX_INTERMEDIATE, &cfg->intermediate, err)) ||
        (rc = get_u32(root, "max_position_embeddings", 512, 1, MAX_POSITIONS, &cfg->max_positions, err)) ||
        (rc = get_u32(root, "type_vocab_size", 2, 1, MAX_TYPE_VOCAB, &cfg->type_vocab, err)))
        return rc;
    if (cfg->hidden % cfg->heads)
        return kz_error_set(err, KZ_EPARSE,
                            "config: hidden_size %u is not a multiple of num_attention_heads %u", cfg->hidden,
                            cfg->heads);
    uint32_t pad;
    if ((rc = get_u32(root, "pad_token_id", 0, 0, MAX_VOCAB, &pad, err))) return rc;
    cfg->pad_token_id = (int32_t)pad;

    json_t *eps = json_object_get(root, "layer_norm_eps");
    cfg->layer_norm_eps = 1e-12f;
    if (eps && !json_is_null(eps)) {
        double e = json_is_number(eps) ? json_number_value(eps) : -1;
        if (!(e > 0 && e < 1))
            return kz_error_set(err, KZ_EPARSE, "config: layer_norm_eps is not a number in (0, 1)");
        cfg->layer_norm_eps = (float)e;
    }
    json_t *act = json_object_get(root, "hidden_act");
    cfg->act = KZ_ACT_GELU;
    if (act && !json_is_null(act)) {
        const char *a = json_is_string(act) ? json_string_value(act) : "";
        if (strcmp(a, "gelu") == 0)
            cfg->act = KZ_ACT_GELU;
        else if (strcmp(a, "gelu_new") == 0 || strcmp(a, "gelu_pytorch_tanh") == 0 ||
                 strcmp(a, "gelu_fast") == 0)
            cfg->act = KZ_ACT_GELU_TANH;
        else if (strcmp(a, "relu") == 0)
            cfg->act = KZ_ACT_RELU;
        else
            return kz_error_set(err, KZ_EFORMAT,
                                "config: hidden_act '%.40s' is not supported (gelu, gelu_new, "
                                "gelu_pytorch_tanh, gelu_fast, relu)",
                                a);
    }
    if ((rc = parse_arch(root, cfg, err))) return rc;
    /* Multilabel marks besides the architecture: HF's problem_type and Kazu's use_multilabel. */
    const char *pt = get_str(root, "problem_type");
    if (pt && strcmp(pt, "multi_label_classification") == 0) cfg->multilabel = true;
    bool ml = false;
    if ((rc = get_bool(root, "use_multilabel", cfg->multilabel, &ml, err))) return rc;
    cfg->multilabel = ml;

    json_t *i2l = json_object_get(root, "id2label"), *l2i = json_object_get(root, "label2id");
    uint32_t nl = 0;
    if ((rc = get_u32(root, "num_labels", 0, 1, MAX_LABELS, &nl, err))) return rc;
    if (i2l && !json_is_null(i2l))
        rc = parse_id2label(i2l, cfg, err);
    else if (l2i && !json_is_null(l2i))
        rc = parse_label2id(l2i, cfg, err);
    else
        rc = default_labels(cfg, nl ? nl : 2, err); /* HF's default: LABEL_0, LABEL_1 */
    if (rc) {
        kz__bert_config_free(cfg);
        return rc;
    }
    if (nl && nl != cfg->num_labels)
        kz_log(KZ_LOG_WARN, "%s: num_labels %u differs from the %u labels of id2label; id2label wins",
               path ? path : "config", nl, cfg->num_labels);
    if (i2l && !json_is_null(i2l) && json_is_object(l2i)) {
        /* HF keeps both maps as written; ours follow id2label. Say so if they disagree. */
        for (uint32_t i = 0; i < cfg->num_labels; i++) {
            json_t *id = json_object_get(l2i, cfg->id2label[i]);
            if (!json_is_integer(id) || json_integer_value(id) != (json_int_t)i) {
                kz_log(KZ_LOG_WARN, "%s: label2id disagrees with id2label at '%s'; using id2label",
                       path ? path : "config", cfg->id2label[i]);
                break;
            }
        }
    }
    return 0;
}

int kz__bert_config_parse(const char *json, size_t len, const char *path, kz_bert_config *cfg,
                          kz_error *err) {
    memset(cfg, 0, sizeof *cfg);
    if (err && path && !err->path[0]) kz__err_path(err, path);
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (err) {
            err->line = je.line > 0 ? je.line : 0;
            err->column = je.column > 0 ? je.column : 0;
        }
        return kz_error_set(err, KZ_EPARSE, "config: %s", je.text);
    }
    int rc = kz__bert_config_from_json(root, path, cfg, err);
    json_decref(root);
    return rc;
}

json_t *kz__bert_config_to_json(const kz_bert_config *cfg) {
    json_t *o = json_object();
    if (!o) return NULL;
    const char *arch =
        cfg->head == KZ_HEAD_TOKEN_CLS
            ? (cfg->multilabel ? "BertForMultiLabelTokenClassification" : "BertForTokenClassification")
            : "BertModel";
    int bad = 0;
    bad |= json_object_set_new(o, "model_type", json_string("bert"));
    bad |= json_object_set_new(o, "architectures", json_pack("[s]", arch));
    bad |= json_object_set_new(o, "vocab_size", json_integer(cfg->vocab_size));
    bad |= json_object_set_new(o, "hidden_size", json_integer(cfg->hidden));
    bad |= json_object_set_new(o, "num_hidden_layers", json_integer(cfg->layers));
    bad |= json_object_set_new(o, "num_attention_heads", json_integer(cfg->heads));
    bad |= json_object_set_new(o, "intermediate_size", json_integer(cfg->intermediate));
    bad |= json_object_set_new(o, "max_position_embeddings", json_integer(cfg->max_positions));
    bad |= json_object_set_new(o, "type_vocab_size", json_integer(cfg->type_vocab));
    char eps[32]; /* the float's shortest decimal form ("1e-12"), which reads back to the same float */
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(eps, sizeof eps, "%.*g", prec, (double)cfg->layer_norm_eps);
        if ((float)strtod(eps, NULL) == cfg->layer_norm_eps) break;
    }
    bad |= json_object_set_new(o, "layer_norm_eps", json_real(strtod(eps, NULL)));
    bad |= json_object_set_new(o, "hidden_act", json_string(kz__bert_act_name(cfg->act)));
    bad |= json_object_set_new(o, "pad_token_id", json_integer(cfg->pad_token_id));
    bad |= json_object_set_new(o, "position_embedding_type", json_string("absolute"));
    if (cfg->head == KZ_HEAD_TOKEN_CLS) {
        json_t *i2l = json_object(), *l2i = json_object();
        bad |= json_object_set_new(o, "id2label", i2l);
        bad |= json_object_set_new(o, "label2id", l2i);
        for (uint32_t i = 0; i < cfg->num_labels && i2l && l2i; i++) {
            char k[16];
            snprintf(k, sizeof k, "%u", i);
            bad |= json_object_set_new(i2l, k, json_string(cfg->id2label[i]));
            bad |= json_object_set_new(l2i, cfg->id2label[i], json_integer(i));
        }
        if (cfg->multilabel) bad |= json_object_set_new(o, "use_multilabel", json_true());
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- tokenizer options ------------------------------------------------------------ */
void kz__tok_spec_default(kz_tok_spec *s) {
    memset(s, 0, sizeof *s);
    s->lowercase = true;
    s->strip_accents = -1;
    s->tokenize_chinese_chars = true;
}

void kz__tok_spec_free(kz_tok_spec *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n_never_split; i++) free(s->never_split[i]);
    free(s->never_split);
    free(s->unk_token);
    kz__tok_spec_default(s);
}

/* A token given as "text" or as HF's AddedToken {"content": "text", ...}. */
static const char *token_text(json_t *v) {
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_object(v)) return get_str(v, "content");
    return NULL;
}

int kz__tok_spec_from_json(json_t *root, const char *path, kz_tok_spec *s, kz_error *err) {
    if (err && path && !err->path[0]) kz__err_path(err, path);
    if (!json_is_object(root)) return kz_error_set(err, KZ_EPARSE, "tokenizer config: not a JSON object");
    const char *cls = get_str(root, "tokenizer_class");
    if (cls && strcmp(cls, "BertTokenizer") != 0 && strcmp(cls, "BertTokenizerFast") != 0)
        kz_log(KZ_LOG_WARN, "%s: tokenizer_class %s; reading vocab.txt as a BERT WordPiece vocabulary",
               path ? path : "tokenizer config", cls);
    int rc = get_bool(root, "do_lower_case", s->lowercase, &s->lowercase, err);
    if (!rc)
        rc = get_bool(root, "tokenize_chinese_chars", s->tokenize_chinese_chars, &s->tokenize_chinese_chars,
                      err);
    if (rc) return rc;
    json_t *sa = json_object_get(root, "strip_accents");
    if (sa && !json_is_null(sa)) {
        if (!json_is_boolean(sa))
            return kz_error_set(err, KZ_EPARSE, "tokenizer config: strip_accents is not null/true/false");
        s->strip_accents = json_is_true(sa) ? 1 : 0;
    }
    uint32_t mc;
    if ((rc = get_u32(root, "max_input_chars_per_word", s->max_input_chars_per_word, 0, 1u << 20, &mc, err)))
        return rc;
    s->max_input_chars_per_word = mc;
    json_t *unk = json_object_get(root, "unk_token");
    if (unk && !json_is_null(unk)) {
        const char *u = token_text(unk);
        if (!u || !*u || strlen(u) > 256)
            return kz_error_set(err, KZ_EPARSE, "tokenizer config: bad unk_token");
        free(s->unk_token);
        if (!(s->unk_token = strdup(u))) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    json_t *ns = json_object_get(root, "never_split");
    if (ns && !json_is_null(ns)) {
        if (!json_is_array(ns) || json_array_size(ns) > 4096)
            return kz_error_set(err, KZ_EPARSE,
                                "tokenizer config: never_split is not a list of at most 4096 tokens");
        size_t n = json_array_size(ns);
        char **v = calloc(n ? n : 1, sizeof *v);
        if (!v) return kz_error_set(err, KZ_ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            const char *t = token_text(json_array_get(ns, i));
            if (!t || !*t || strlen(t) > 256 || !(v[i] = strdup(t))) {
                for (size_t j = 0; j < i; j++) free(v[j]);
                free(v);
                return kz_error_set(err, t ? KZ_ENOMEM : KZ_EPARSE,
                                    "tokenizer config: bad never_split entry %zu", i);
            }
        }
        for (size_t i = 0; i < s->n_never_split; i++) free(s->never_split[i]);
        free(s->never_split);
        s->never_split = v;
        s->n_never_split = n;
    }
    return 0;
}

json_t *kz__tok_spec_to_json(const kz_tok_spec *s) {
    json_t *o = json_object(), *ns = json_array();
    int bad = !o || !ns;
    for (size_t i = 0; ns && i < s->n_never_split; i++)
        bad |= json_array_append_new(ns, json_string(s->never_split[i]));
    if (o) {
        bad |= json_object_set_new(o, "do_lower_case", json_boolean(s->lowercase));
        bad |= json_object_set_new(o, "strip_accents",
                                   s->strip_accents < 0 ? json_null() : json_boolean(s->strip_accents));
        bad |= json_object_set_new(o, "tokenize_chinese_chars", json_boolean(s->tokenize_chinese_chars));
        bad |= json_object_set_new(
            o, "max_input_chars_per_word",
            json_integer(s->max_input_chars_per_word ? s->max_input_chars_per_word : 100));
        bad |= json_object_set_new(o, "unk_token", json_string(s->unk_token ? s->unk_token : "[UNK]"));
        bad |= json_object_set_new(o, "never_split", ns);
        ns = NULL;
    }
    json_decref(ns);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

kz_wordpiece_opts kz__tok_spec_opts(const kz_tok_spec *s) {
    kz_wordpiece_opts o = kz_wordpiece_default_opts(s->lowercase);
    o.lowercase = s->lowercase;
    o.strip_accents = s->strip_accents;
    o.tokenize_chinese_chars = s->tokenize_chinese_chars;
    o.never_split = (const char *const *)s->never_split;
    o.n_never_split = s->n_never_split;
    o.max_input_chars_per_word = s->max_input_chars_per_word;
    o.unk_token = s->unk_token;
    return o;
}
