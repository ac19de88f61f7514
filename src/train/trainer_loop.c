/* The training loop (epochs, shuffling, gradient accumulation, schedule,
 * progress) for both objectives (token classification, masked LM), random
 * model creation, new heads for encoders and the checkpoint file. docs/train.md. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "nn/kernels_int.h"
#include "nn/load_int.h"
#include "train/train_int.h"

kz_train_opts kz_train_default_opts(void) {
    kz_train_opts o;
    memset(&o, 0, sizeof o);
    o.epochs = 3;
    o.batch_size = 16;
    o.grad_accum = 1;
    o.lr = 5e-5;
    o.warmup_frac = 0.1;
    o.weight_decay = 0.01;
    o.dropout = 0.1;
    o.clip_norm = 1.0;
    o.seed = 42;
    o.threads = 1;
    o.checkpoint_every = 500;
    o.verbose = 1;
    o.mlm_prob = 0.15;
    return o;
}

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static uint64_t sm_next(uint64_t *st) { return mix64(*st += 0x9e3779b97f4a7c15ull); }

/* ---- random model ----------------------------------------------------------------------- */
typedef struct rspec {
    char name[96];
    int64_t d0, d1; /* d1 = 0: vector */
    int kind;       /* 0 normal(0, 0.02), 1 zeros, 2 ones */
} rspec;

static uint64_t fnv1a(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

void kz__train_randn(float *p, size_t cnt, uint64_t seed, const char *name) {
    uint64_t st = seed ^ fnv1a(name);
    for (size_t k = 0; k < cnt; k += 2) { /* Box-Muller */
        double u1 = ((double)(sm_next(&st) >> 11) + 1.0) * 0x1.0p-53;
        double u2 = (double)(sm_next(&st) >> 11) * 0x1.0p-53;
        double r = sqrt(-2.0 * log(u1)) * 0.02;
        p[k] = (float)(r * cos(2 * M_PI * u2));
        if (k + 1 < cnt) p[k + 1] = (float)(r * sin(2 * M_PI * u2));
    }
}

int kz_bert_new_random(const kz_bert_config *cfg, const kz_wordpiece *tok, uint64_t seed, kz_bert **out,
                       kz_error *err) {
    if (!out) return kz_error_set(err, KZ_EINVAL, "kz_bert_new_random: out is NULL");
    *out = NULL;
    if (!cfg) return kz_error_set(err, KZ_EINVAL, "kz_bert_new_random: cfg is NULL");
    kz_bert_config c = *cfg;
    c.id2label = NULL;
    uint32_t nv = tok ? kz_wordpiece_vocab_size(tok) : 0;
    if (!c.vocab_size) c.vocab_size = nv;
    if (!c.type_vocab) c.type_vocab = 2;
    if (c.layer_norm_eps <= 0) c.layer_norm_eps = 1e-12f;
    if (!c.hidden || !c.heads || c.hidden % c.heads || !c.intermediate || !c.max_positions || !c.vocab_size ||
        c.vocab_size < nv || c.hidden > 65536 || c.intermediate > 262144 || c.layers > 1024 ||
        c.max_positions > 65536 || c.vocab_size > (1u << 24) || c.type_vocab > 1024 || c.num_labels > 65536)
        return kz_error_set(err, KZ_EINVAL,
                            "kz_bert_new_random: bad shape (hidden %u, heads %u, intermediate %u, layers %u, "
                            "positions %u, vocab %u for a %u-token tokenizer)",
                            c.hidden, c.heads, c.intermediate, c.layers, c.max_positions, c.vocab_size, nv);
    if (c.num_labels && !cfg->id2label)
        return kz_error_set(err, KZ_EINVAL, "kz_bert_new_random: %u labels without names", c.num_labels);
    c.head = c.num_labels ? KZ_HEAD_TOKEN_CLS : KZ_HEAD_NONE;
    if (c.pad_token_id < 0 || (uint32_t)c.pad_token_id >= c.vocab_size) c.pad_token_id = 0;
    if (c.num_labels) {
        c.id2label = calloc(c.num_labels, sizeof *c.id2label);
        if (!c.id2label) return kz_error_set(err, KZ_ENOMEM, "out of memory");
        for (uint32_t i = 0; i < c.num_labels; i++)
            if (!(c.id2label[i] = strdup(cfg->id2label[i] ? cfg->id2label[i] : ""))) {
                kz__bert_config_free(&c);
                return kz_error_set(err, KZ_ENOMEM, "out of memory");
            }
    }
    const int64_t H = c.hidden, I = c.intermediate;
    size_t ns = 5 + (size_t)16 * c.layers + 2, n = 0;
    rspec *sp = calloc(ns, sizeof *sp);
    if (!sp) {
        kz__bert_config_free(&c);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
#define SP(nm, a, b, k)                                                                                      \
    do {                                                                                                     \
        snprintf(sp[n].name, sizeof sp[n].name, "%s", nm);                                                   \
        sp[n].d0 = (a), sp[n].d1 = (b), sp[n].kind = (k);                                                    \
        n++;                                                                                                 \
    } while (0)
    SP("embeddings.word_embeddings.weight", c.vocab_size, H, 0);
    SP("embeddings.position_embeddings.weight", c.max_positions, H, 0);
    SP("embeddings.token_type_embeddings.weight", c.type_vocab, H, 0);
    SP("embeddings.LayerNorm.weight", H, 0, 2);
    SP("embeddings.LayerNorm.bias", H, 0, 1);
    for (uint32_t l = 0; l < c.layers; l++) {
        static const char *const lin[6] = {"attention.self.query", "attention.self.key",
                                           "attention.self.value", "attention.output.dense",
                                           "intermediate.dense",   "output.dense"};
        for (int j = 0; j < 6; j++) {
            int64_t o = j == 4 ? I : H, i = j == 5 ? I : H;
            char nm[96];
            snprintf(nm, sizeof nm, "encoder.layer.%u.%s.weight", l, lin[j]);
            SP(nm, o, i, 0);
            snprintf(nm, sizeof nm, "encoder.layer.%u.%s.bias", l, lin[j]);
            SP(nm, o, 0, 1);
            if (j == 3 || j == 5) {
                snprintf(nm, sizeof nm, "encoder.layer.%u.%s.LayerNorm.weight", l,
                         j == 3 ? "attention.output" : "output");
                SP(nm, H, 0, 2);
                snprintf(nm, sizeof nm, "encoder.layer.%u.%s.LayerNorm.bias", l,
                         j == 3 ? "attention.output" : "output");
                SP(nm, H, 0, 1);
            }
        }
    }
    if (c.num_labels) {
        SP("classifier.weight", c.num_labels, H, 0);
        SP("classifier.bias", c.num_labels, 0, 1);
    }
#undef SP
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += (size_t)sp[i].d0 * (size_t)(sp[i].d1 ? sp[i].d1 : 1);
    kz_tensor_table tt;
    memset(&tt, 0, sizeof tt);
    float *W = malloc(total * sizeof *W);
    if (!W || kz__tensor_table_own(&tt, W)) {
        free(sp);
        kz__bert_config_free(&c);
        return kz_error_set(err, KZ_ENOMEM, "out of memory (%zu parameters)", total);
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t cnt = (size_t)sp[i].d0 * (size_t)(sp[i].d1 ? sp[i].d1 : 1);
        float *p = W + at;
        if (sp[i].kind == 0) {
            kz__train_randn(p, cnt, seed, sp[i].name);
            if (i == 0) memset(p + (size_t)c.pad_token_id * H, 0, (size_t)H * sizeof *p); /* HF padding_idx */
        } else {
            for (size_t k = 0; k < cnt; k++) p[k] = sp[i].kind == 2 ? 1.f : 0.f;
        }
        kz_tensor *t = kz__tensor_table_add(&tt, sp[i].name, strlen(sp[i].name));
        if (!t) {
            free(sp);
            kz__tensor_table_free(&tt);
            kz__bert_config_free(&c);
            return kz_error_set(err, KZ_ENOMEM, "out of memory");
        }
        t->dtype = KZ_DT_F32;
        t->ndim = sp[i].d1 ? 2 : 1;
        t->shape[0] = sp[i].d0;
        t->shape[1] = sp[i].d1;
        t->data = p;
        t->nbytes = cnt * sizeof(float);
        at += cnt;
    }
    free(sp);
    kz_bert *m = NULL;
    int rc = kz__bert_from_tensors(&c, &tt, &m, err);
    kz__bert_config_free(&c);
    if (rc) return rc;
    if (tok) {
        kz_bert_x *x = kz__bert_x(m);
        size_t len = 0;
        for (uint32_t i = 0; i < nv; i++) len += kz_wordpiece_token(tok, (int32_t)i).len + 1;
        char *v = malloc(len + 1);
        if (!v) {
            kz_bert_free(m);
            return kz_error_set(err, KZ_ENOMEM, "out of memory");
        }
        size_t o = 0;
        for (uint32_t i = 0; i < nv; i++) {
            kz_str s = kz_wordpiece_token(tok, (int32_t)i);
            memcpy(v + o, s.ptr, s.len);
            o += s.len;
            v[o++] = '\n';
        }
        x->vocab_owned = v;
        x->vocab = v;
        x->vocab_len = o;
        x->have_tok = true;
        if ((rc = kz__bert_attach_tokenizer(x, NULL, err))) {
            kz_bert_free(m);
            return rc;
        }
    }
    *out = m;
    return 0;
}

int kz_bert_add_token_head(kz_bert *m, const char *const *labels, uint32_t n, bool multilabel, uint64_t seed,
                           kz_error *err) {
    if (!m || (n && !labels)) return kz_error_set(err, KZ_EINVAL, "kz_bert_add_token_head: NULL argument");
    if (m->cfg.head != KZ_HEAD_NONE || m->classifier.w)
        return kz_error_set(err, KZ_EINVAL, "kz_bert_add_token_head: the model already has a head");
    if (n == 0 || n > 65536)
        return kz_error_set(err, KZ_EINVAL, "kz_bert_add_token_head: %u labels (1..65536)", n);
    const size_t H = m->cfg.hidden;
    char **names = calloc(n, sizeof *names);
    float *buf = malloc(((size_t)n * H + n) * sizeof *buf);
    bool ok = names && buf;
    for (uint32_t i = 0; ok && i < n; i++) ok = (names[i] = strdup(labels[i] ? labels[i] : "")) != NULL;
    if (!ok) {
        if (names)
            for (uint32_t i = 0; i < n; i++) free(names[i]);
        free(names);
        free(buf);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    kz__train_randn(buf, (size_t)n * H, seed, "classifier.weight");
    memset(buf + (size_t)n * H, 0, n * sizeof *buf);
    int rc = kz__tensor_table_own(&m->tensors, buf); /* frees buf on failure */
    static const char *const tn[2] = {"classifier.weight", "classifier.bias"};
    for (int j = 0; !rc && j < 2; j++) {
        kz_tensor *t = kz__tensor_table_add(&m->tensors, tn[j], strlen(tn[j]));
        if (!t) {
            rc = KZ_ENOMEM;
            break;
        }
        t->dtype = KZ_DT_F32;
        t->ndim = j ? 1 : 2;
        t->shape[0] = n;
        t->shape[1] = j ? 0 : (int64_t)H;
        t->data = j ? buf + (size_t)n * H : buf;
        t->nbytes = (j ? 1 : H) * n * sizeof(float);
    }
    if (rc) { /* buf stays owned by the table (or was freed) */
        for (uint32_t i = 0; i < n; i++) free(names[i]);
        free(names);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    m->classifier.w = buf;
    m->classifier.b = buf + (size_t)n * H;
    m->classifier.in = (uint32_t)H;
    m->classifier.out = n;
    m->classifier.w_q8 = NULL;
    m->classifier.w_q8_scale = NULL;
    m->classifier.w_bf16 = NULL;
    kz__bert_config_free(&m->cfg);
    m->cfg.id2label = names;
    m->cfg.num_labels = n;
    m->cfg.multilabel = multilabel;
    m->cfg.head = KZ_HEAD_TOKEN_CLS;
    return 0;
}

/* ---- checkpoint file ------------------------------------------------------------------------ */
#define CK_MAGIC "KZTRCKP1"
enum { CK_HDR = 120 };

/* 64-bit word-wise FNV-style hash; streaming (any chunking gives the same value). */
typedef struct ck_sum {
    uint64_t h;
    uint8_t pend[8];
    size_t np;
} ck_sum;
static void ck_word(ck_sum *s, const uint8_t *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    s->h = (s->h ^ w) * 0x100000001b3ull;
    s->h ^= s->h >> 29;
}
static void ck_add(ck_sum *s, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n && s->np) {
        s->pend[s->np++] = *b++, n--;
        if (s->np == 8) ck_word(s, s->pend), s->np = 0;
    }
    for (; n >= 8; n -= 8, b += 8) ck_word(s, b);
    while (n) s->pend[s->np++] = *b++, n--;
}
static uint64_t ck_final(ck_sum *s) {
    uint64_t h = s->h;
    for (size_t i = 0; i < s->np; i++) h = (h ^ s->pend[i]) * 0x100000001b3ull;
    return h;
}

uint64_t kz__train_ckpt_checksum(const void *data, size_t len) {
    ck_sum s = {0xcbf29ce484222325ull, {0}, 0};
    ck_add(&s, data, len);
    return ck_final(&s);
}

static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static uint32_t get32(const uint8_t *p) { return (uint32_t)get64(p) & 0xffffffffu; }

static void hdr_pack(uint8_t *b, const kz_train_ckpt_hdr *h, uint64_t adam_t) {
    memset(b, 0, CK_HDR);
    memcpy(b, CK_MAGIC, 8);
    put32(b + 8, 1);
    put32(b + 12, CK_HDR);
    const uint64_t v64[7] = {h->n_params,   h->step, h->seed,     h->total_steps,
                             h->n_examples, adam_t,  h->objective};
    for (int i = 0; i < 7; i++) put64(b + 16 + 8 * i, v64[i]);
    const uint32_t v32[11] = {h->batch,        h->accum, h->epochs,  h->layers,     h->hidden, h->heads,
                              h->intermediate, h->vocab, h->max_pos, h->type_vocab, h->labels};
    for (int i = 0; i < 11; i++) put32(b + 72 + 4 * i, v32[i]);
}

int kz__trainer_ckpt_write(kz_trainer *t, const char *path, uint64_t step, const kz_train_ckpt_hdr *h0,
                           kz_error *err) {
    kz_train_ckpt_hdr h = *h0;
    kz__trainer_shape(t, &h);
    h.step = step;
    uint8_t hb[CK_HDR];
    hdr_pack(hb, &h, kz__trainer_adam_t(t));
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    snprintf(tmp, plen + 32, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        int e = errno;
        free(tmp);
        return kz_error_set(err, KZ_EIO, "%s: cannot create checkpoint: %s", path, strerror(e));
    }
    ck_sum s = {0xcbf29ce484222325ull, {0}, 0};
    ck_add(&s, hb, CK_HDR);
    bool ok = fwrite(hb, 1, CK_HDR, f) == CK_HDR;
    const float *parts[3] = {kz__trainer_params(t), kz__trainer_moments(t, 0), kz__trainer_moments(t, 1)};
    for (int i = 0; i < 3 && ok; i++) {
        size_t nb = h.n_params * sizeof(float);
        ck_add(&s, parts[i], nb);
        ok = fwrite(parts[i], 1, nb, f) == nb;
    }
    uint8_t tail[8];
    put64(tail, ck_final(&s));
    ok = ok && fwrite(tail, 1, 8, f) == 8;
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return kz_error_set(err, KZ_EIO, "%s: cannot write checkpoint: %s", path, strerror(e));
    }
    free(tmp);
    return 0;
}

int kz__trainer_ckpt_parse(kz_trainer *t, const void *data, size_t len, kz_train_ckpt_hdr *h, kz_error *err) {
    const uint8_t *b = data;
    memset(h, 0, sizeof *h);
    if (len < CK_HDR + 8 || memcmp(b, CK_MAGIC, 8) != 0)
        return kz_error_set(err, KZ_EFORMAT, "not a kazu-c training checkpoint");
    if (get32(b + 8) != 1 || get32(b + 12) != CK_HDR)
        return kz_error_set(err, KZ_EFORMAT, "checkpoint version %u (header %u) is not supported",
                            get32(b + 8), get32(b + 12));
    h->n_params = get64(b + 16);
    h->step = get64(b + 24);
    h->seed = get64(b + 32);
    h->total_steps = get64(b + 40);
    h->n_examples = get64(b + 48);
    uint64_t adam_t = get64(b + 56);
    h->objective = get64(b + 64);
    uint32_t *v32[11] = {&h->batch,        &h->accum, &h->epochs,  &h->layers,     &h->hidden, &h->heads,
                         &h->intermediate, &h->vocab, &h->max_pos, &h->type_vocab, &h->labels};
    for (int i = 0; i < 11; i++) *v32[i] = get32(b + 72 + 4 * i);
    if (h->n_params > ((uint64_t)1 << 36) || (len - CK_HDR - 8) / 12 != h->n_params ||
        (len - CK_HDR - 8) % 12 != 0)
        return kz_error_set(err, KZ_EFORMAT, "checkpoint of %zu bytes cannot hold %llu parameters", len,
                            (unsigned long long)h->n_params);
    if (h->step > h->total_steps || adam_t > h->step)
        return kz_error_set(err, KZ_EFORMAT, "checkpoint step %llu is past its %llu total steps",
                            (unsigned long long)h->step, (unsigned long long)h->total_steps);
    if (kz__train_ckpt_checksum(b, len - 8) != get64(b + len - 8))
        return kz_error_set(err, KZ_EFORMAT, "checkpoint checksum mismatch (truncated or corrupt file)");
    if (!t) return 0;
    kz_train_ckpt_hdr me;
    memset(&me, 0, sizeof me);
    kz__trainer_shape(t, &me);
    if (me.n_params != h->n_params || me.layers != h->layers || me.hidden != h->hidden ||
        me.heads != h->heads || me.intermediate != h->intermediate || me.vocab != h->vocab ||
        me.max_pos != h->max_pos || me.type_vocab != h->type_vocab || me.labels != h->labels)
        return kz_error_set(
            err, KZ_EINVAL,
            "checkpoint is for another model shape (%u layers, hidden %u, %u labels, vocab %u)", h->layers,
            h->hidden, h->labels, h->vocab);
    float *dst[3] = {kz__trainer_params(t), kz__trainer_moments(t, 0), kz__trainer_moments(t, 1)};
    for (int i = 0; i < 3; i++)
        memcpy(dst[i], b + CK_HDR + (size_t)i * h->n_params * 4, (size_t)h->n_params * 4);
    kz__trainer_set_adam_t(t, adam_t);
    return 0;
}

int kz__train_ckpt_peek(const char *path, kz_train_ckpt_hdr *h, kz_error *err) {
    memset(h, 0, sizeof *h);
    FILE *f = fopen(path, "rb");
    if (!f) return kz_error_set(err, KZ_EIO, "%s: %s", path, strerror(errno));
    uint8_t b[CK_HDR];
    size_t got = fread(b, 1, CK_HDR, f);
    fclose(f);
    if (got != CK_HDR || memcmp(b, CK_MAGIC, 8) != 0 || get32(b + 8) != 1 || get32(b + 12) != CK_HDR)
        return kz_error_set(err, KZ_EFORMAT, "%s: not a kazu-c training checkpoint", path);
    h->n_params = get64(b + 16);
    h->step = get64(b + 24);
    h->seed = get64(b + 32);
    h->total_steps = get64(b + 40);
    h->n_examples = get64(b + 48);
    h->objective = get64(b + 64);
    return 0;
}

static int ckpt_load(kz_trainer *t, const char *path, kz_train_ckpt_hdr *h, bool *found, kz_error *err) {
    *found = false;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return 0;
        return kz_error_set(err, KZ_EIO, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > ((uint64_t)1 << 40)) {
        fclose(f);
        return kz_error_set(err, KZ_EIO, "%s: cannot size the file", path);
    }
    size_t len = (size_t)st.st_size;
    void *buf = malloc(len ? len : 1);
    if (!buf) {
        fclose(f);
        return kz_error_set(err, KZ_ENOMEM, "out of memory (%zu bytes)", len);
    }
    bool ok = fread(buf, 1, len, f) == len;
    fclose(f);
    if (!ok) {
        free(buf);
        return kz_error_set(err, KZ_EIO, "%s: read failed", path);
    }
    int rc = kz__trainer_ckpt_parse(t, buf, len, h, err);
    free(buf);
    if (rc) {
        if (err) kz__err_path(err, path);
        return rc;
    }
    *found = true;
    return 0;
}

/* ---- the loop ---------------------------------------------------------------------------------- */
static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void shuffle(size_t *perm, size_t n, uint64_t seed, uint64_t epoch) {
    for (size_t i = 0; i < n; i++) perm[i] = i;
    uint64_t st = mix64(seed ^ mix64(epoch + 0x5eed));
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(sm_next(&st) % i);
        size_t tmp = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = tmp;
    }
}

static void fmt_dur(double s, char *buf, size_t cap) {
    if (!(s >= 0) || s > 1e8) s = 0;
    unsigned long v = (unsigned long)(s + 0.5);
    snprintf(buf, cap, "%lu:%02lu:%02lu", v / 3600, v / 60 % 60, v % 60);
}

/* What a run trains on: token-classification examples or pre-training windows. */
typedef struct loop_src {
    const kz_train_data *ner;
    const kz_mlm_data *mlm;
    size_t n;
    uint64_t objective; /* the checkpoint's objective word */
} loop_src;

/* Masked copies of one optimiser step's windows (grown on demand). */
typedef struct mlm_scratch {
    int32_t *ids, *labels;
    size_t cap;
    kz_mlm_seq *seq;
} mlm_scratch;

static int run(kz_trainer *t, const loop_src *src, const kz_train_opts *o, kz_error *err) {
    const size_t n = src->n, per_step = (size_t)o->batch_size * o->grad_accum;
    const uint64_t spe = (n + per_step - 1) / per_step;
    uint64_t total = spe * o->epochs;
    if (o->max_steps && o->max_steps < total) total = o->max_steps;
    const uint64_t warmup = (uint64_t)(o->warmup_frac * (double)total);
    const bool mlm = src->mlm != NULL;
    const char *tag = mlm ? "mlm" : "train";
    kz_train_ckpt_hdr hdr;
    memset(&hdr, 0, sizeof hdr);
    hdr.seed = o->seed, hdr.total_steps = total, hdr.n_examples = n;
    hdr.batch = o->batch_size, hdr.accum = o->grad_accum, hdr.epochs = o->epochs;
    hdr.objective = src->objective;
    uint64_t step = 0;
    int rc = 0;
    if (o->resume && o->checkpoint_path) {
        kz_train_ckpt_hdr h;
        bool found = false;
        if ((rc = ckpt_load(t, o->checkpoint_path, &h, &found, err))) return rc;
        if (found) {
            if (h.objective != hdr.objective)
                return kz_error_set(err, KZ_EINVAL,
                                    "%s: the checkpoint is for another objective or masking (%s%s, "
                                    "word %#llx); resume needs the same options",
                                    o->checkpoint_path, h.objective ? "masked LM" : "NER",
                                    h.objective & 0x100 ? ", whole words" : "",
                                    (unsigned long long)h.objective);
            if (h.seed != hdr.seed || h.total_steps != total || h.n_examples != n || h.batch != hdr.batch ||
                h.accum != hdr.accum || h.epochs != hdr.epochs)
                return kz_error_set(
                    err, KZ_EINVAL,
                    "%s: the checkpoint was made with other settings (seed %llu, %llu examples, "
                    "batch %u x %u, %u epochs, %llu steps); resume needs the same data and "
                    "options",
                    o->checkpoint_path, (unsigned long long)h.seed, (unsigned long long)h.n_examples, h.batch,
                    h.accum, h.epochs, (unsigned long long)h.total_steps);
            step = h.step;
            if (o->verbose)
                kz_log(KZ_LOG_INFO, "%s: resumed from %s at step %llu/%llu", tag, o->checkpoint_path,
                       (unsigned long long)step, (unsigned long long)total);
        }
    }
    int omp_saved = kz__nn_omp_set_threads(o->threads ? (int)o->threads : 1);
    size_t *perm = malloc(n * sizeof *perm);
    const kz_train_example **bx = malloc(per_step * sizeof *bx);
    mlm_scratch ms = {NULL, NULL, 0, mlm ? malloc(per_step * sizeof *ms.seq) : NULL};
    if (!perm || !bx || (mlm && !ms.seq)) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    uint64_t cur_epoch = UINT64_MAX, done_here = 0, tokens = 0, tok_log = 0;
    const double t0 = now_s();
    double t_log = t0, loss_acc = 0;
    uint64_t loss_n = 0;
    while (step < total) {
        uint64_t e = step / spe;
        if (e != cur_epoch) {
            shuffle(perm, n, o->seed, e);
            cur_epoch = e;
        }
        size_t lo = (size_t)(step % spe) * per_step, hi = KZ_MIN(n, lo + per_step);
        double denom = 0;
        if (mlm) {
            size_t need = 0;
            for (size_t i = lo; i < hi; i++) need += src->mlm->w[perm[i]].n_tokens;
            if (need > ms.cap) {
                size_t c = KZ_MAX(need, ms.cap * 3 / 2);
                int32_t *a = realloc(ms.ids, c * sizeof *a);
                if (a) ms.ids = a;
                int32_t *b = realloc(ms.labels, c * sizeof *b);
                if (b) ms.labels = b;
                if (!a || !b) {
                    rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
                    break;
                }
                ms.cap = c;
            }
            size_t off = 0;
            for (size_t i = lo; i < hi; i++) {
                const kz_mlm_window *w = &src->mlm->w[perm[i]];
                uint32_t k =
                    kz__mlm_mask(w, o->seed, e, perm[i], o->mlm_prob, o->mlm_whole_word, src->mlm->vocab_size,
                                 &src->mlm->special, ms.ids + off, ms.labels + off);
                ms.seq[i - lo] = (kz_mlm_seq){w->n_tokens, ms.ids + off, ms.labels + off};
                off += w->n_tokens;
                denom += k;
                tokens += w->n_tokens;
            }
        } else {
            for (size_t i = lo; i < hi; i++) {
                bx[i - lo] = &src->ner->ex[perm[i]];
                denom += kz__trainer_cells(t, bx[i - lo]);
                tokens += bx[i - lo]->n_tokens;
            }
        }
        kz__trainer_zero_grad(t);
        double loss = 0;
        for (uint32_t u = 0; u < o->grad_accum && lo + (size_t)u * o->batch_size < hi; u++) {
            size_t a = (size_t)u * o->batch_size, cnt = KZ_MIN((size_t)o->batch_size, hi - lo - a);
            double l = 0;
            uint64_t rs = step * o->grad_accum + u;
            rc = mlm ? kz__trainer_step_mlm(t, ms.seq + a, cnt, denom, rs, true, &l, NULL, err)
                     : kz__trainer_step_batch(t, bx + a, cnt, denom, rs, true, &l, NULL, err);
            if (rc) break;
            loss += l;
        }
        if (rc) break;
        const double lr = kz__train_lr(o->lr, step, total, warmup);
        if (denom > 0) kz__trainer_optimizer_step(t, lr, o->clip_norm);
        step++;
        done_here++;
        loss_acc += loss;
        loss_n++;
        const bool stop = o->stop_after && done_here >= o->stop_after && step < total;
        double tn = now_s();
        if (o->verbose && (tn - t_log >= 10.0 || step == total || stop || step % spe == 0)) {
            double rate = (double)(tokens - tok_log) / KZ_MAX(tn - t_log, 1e-9);
            double per = (tn - t0) / (double)done_here;
            char eta[32];
            fmt_dur(per * (double)(total - step), eta, sizeof eta);
            kz_log(KZ_LOG_INFO, "%s: epoch %llu/%u step %llu/%llu loss %.5f lr %.3g tokens/s %.0f ETA %s",
                   tag, (unsigned long long)(e + 1), o->epochs, (unsigned long long)step,
                   (unsigned long long)total, loss_acc / (double)KZ_MAX(loss_n, 1), lr, rate, eta);
            t_log = tn;
            tok_log = tokens;
            loss_acc = 0;
            loss_n = 0;
        }
        if (o->checkpoint_path &&
            ((o->checkpoint_every && step % o->checkpoint_every == 0) || step == total || stop)) {
            if ((rc = kz__trainer_ckpt_write(t, o->checkpoint_path, step, &hdr, err))) break;
        }
        if (stop) break;
    }
out:
    free(perm);
    free(bx);
    free(ms.ids);
    free(ms.labels);
    free(ms.seq);
    if (omp_saved > 0) kz__nn_omp_set_threads(omp_saved);
    return rc;
}

static int check_opts(const char *fn, const kz_train_opts *o, kz_error *err) {
    if (!o->batch_size || !o->epochs || !o->grad_accum || o->dropout < 0 || o->dropout >= 1 ||
        !(o->lr >= 0) || o->warmup_frac < 0 || o->warmup_frac > 1)
        return kz_error_set(err, KZ_EINVAL,
                            "%s: batch, epochs and grad_accum must be >= 1, dropout in [0,1), "
                            "warmup_frac in [0,1]",
                            fn);
    return 0;
}

int kz_train_ner(kz_bert *model, const kz_train_data *train, const kz_train_opts *opts, kz_error *err) {
    if (!model || !train || !opts) return kz_error_set(err, KZ_EINVAL, "kz_train_ner: NULL argument");
    if (!train->n) return kz_error_set(err, KZ_EINVAL, "kz_train_ner: no training examples");
    if (train->n_labels != model->cfg.num_labels)
        return kz_error_set(err, KZ_EINVAL, "kz_train_ner: the data has %u labels, the model %u",
                            train->n_labels, model->cfg.num_labels);
    int rc = check_opts("kz_train_ner", opts, err);
    if (rc) return rc;
    kz_trainer *t = NULL;
    if ((rc = kz__trainer_new(model, opts, &t, err))) return rc;
    loop_src src = {train, NULL, train->n, 0};
    rc = run(t, &src, opts, err);
    kz__trainer_free(t);
    return rc;
}

int kz_train_mlm(kz_bert *model, const kz_mlm_data *data, const kz_train_opts *opts, kz_error *err) {
    if (!model || !data || !opts) return kz_error_set(err, KZ_EINVAL, "kz_train_mlm: NULL argument");
    if (!data->n) return kz_error_set(err, KZ_EINVAL, "kz_train_mlm: no pre-training windows");
    const uint32_t V = model->cfg.vocab_size;
    if (data->vocab_size > V || data->special.mask < 0 || (uint32_t)data->special.mask >= V)
        return kz_error_set(err, KZ_EINVAL,
                            "kz_train_mlm: the data's %u-token vocabulary (with [MASK]) does not fit the "
                            "model's %u rows",
                            data->vocab_size, V);
    if (!(opts->mlm_prob > 0 && opts->mlm_prob <= 1))
        return kz_error_set(err, KZ_EINVAL, "kz_train_mlm: mlm_prob %g not in (0, 1]", opts->mlm_prob);
    int rc = check_opts("kz_train_mlm", opts, err);
    if (rc) return rc;
    kz_trainer *t = NULL;
    if ((rc = kz__trainer_new_obj(model, opts, KZ__OBJ_MLM, &t, err))) return rc;
    float fp = (float)opts->mlm_prob;
    uint32_t bits;
    memcpy(&bits, &fp, 4);
    loop_src src = {NULL, data, data->n, 1u | (opts->mlm_whole_word ? 0x100u : 0u) | ((uint64_t)bits << 32)};
    rc = run(t, &src, opts, err);
    kz__trainer_free(t);
    return rc;
}
