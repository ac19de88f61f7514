/* Benchmark: BERT encoder + token-classification head throughput (sentences/s) on a
 * random TinyBERN2-shaped model (4 layers, hidden 312, FFN 1200, 12 heads, vocab 30522),
 * fp32 / int8 / bf16, batch 1 and 32, in one process or in N independent worker processes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "kazu/kazu.h"
#include "../src/nn/kernels_int.h"

static void usage(void) {
    fprintf(stderr,
            "usage: bench_bert [--prec fp32,int8,bf16] [--batch 1,32] [--seq 26] [--threads 1]\n"
            "                  [--workers 1] [--runs 5] [--seconds 1.0] [--layers 4] [--hidden 312]\n"
            "                  [--ffn 1200] [--heads 12] [--vocab 30522] [--labels 13] [--latency 1]\n"
            "  Prints one line per (precision, batch): median sentences/s over --runs runs of\n"
            "  --seconds each, the spread, the engine backend and a hash of the logits.\n"
            "  --workers N forks N processes (each --threads threads) and reports their sum.\n"
            "  --latency 1 also writes the model as an HF directory and as .kzm files and times\n"
            "  kz_bert_load -> engine -> first forward.\n"
            "  Environment: KZ_NN_GEMM=own|onednn, KZ_NN_FORCE_PORTABLE=1 select kernels;\n"
            "  KZ_NN_PROFILE=1 prints the share of each stage to stderr.\n");
    exit(2);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
static double cpu_s(void) { /* CPU time of this process, all threads */
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct shape {
    uint32_t layers, hidden, ffn, heads, vocab, labels, max_pos;
} shape;

/* ---- a random model in memory (xorshift; weights ~U(-0.0625, 0.0625)) ---------------- */
static uint64_t g_rng = 0x2545f4914f6cdd1dull;
static float frand(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (float)((int32_t)(g_rng >> 40) - (1 << 23)) / (float)(1 << 23);
}
static float *rnd(size_t n, float scale, float offset) {
    float *p = malloc(n * sizeof(float));
    if (!p) {
        fprintf(stderr, "bench_bert: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) p[i] = offset + scale * frand();
    return p;
}
static kz_bert_linear lin(uint32_t out, uint32_t in) {
    return (kz_bert_linear){
        .w = rnd((size_t)out * in, 0.0625f, 0), .b = rnd(out, 0.03f, 0), .in = in, .out = out};
}

static kz_bert *model_new(const shape *s) {
    kz_bert *m = calloc(1, sizeof *m);
    m->cfg = (kz_bert_config){.vocab_size = s->vocab,
                              .hidden = s->hidden,
                              .layers = s->layers,
                              .heads = s->heads,
                              .intermediate = s->ffn,
                              .max_positions = s->max_pos,
                              .type_vocab = 2,
                              .layer_norm_eps = 1e-12f,
                              .act = KZ_ACT_GELU,
                              .head = KZ_HEAD_TOKEN_CLS,
                              .num_labels = s->labels,
                              .multilabel = true};
    const uint32_t H = s->hidden;
    m->word_emb = rnd((size_t)s->vocab * H, 0.5f, 0);
    m->pos_emb = rnd((size_t)s->max_pos * H, 0.5f, 0);
    m->type_emb = rnd(2 * (size_t)H, 0.5f, 0);
    m->emb_ln_g = rnd(H, 0.1f, 1.0f);
    m->emb_ln_b = rnd(H, 0.05f, 0);
    m->layers = calloc(s->layers, sizeof *m->layers);
    for (uint32_t l = 0; l < s->layers; l++) {
        kz_bert_layer *L = &m->layers[l];
        L->q = lin(H, H), L->k = lin(H, H), L->v = lin(H, H), L->attn_out = lin(H, H);
        L->ffn_in = lin(s->ffn, H), L->ffn_out = lin(H, s->ffn);
        L->ln1_g = rnd(H, 0.1f, 1.0f), L->ln1_b = rnd(H, 0.05f, 0);
        L->ln2_g = rnd(H, 0.1f, 1.0f), L->ln2_b = rnd(H, 0.05f, 0);
    }
    m->classifier = lin(s->labels, H);
    m->stored = KZ_PREC_FP32;
    return m;
}

static void lin_free(kz_bert_linear *l) {
    free((void *)l->w);
    free((void *)l->b);
}
static void model_free(kz_bert *m) {
    free((void *)m->word_emb), free((void *)m->pos_emb), free((void *)m->type_emb);
    free((void *)m->emb_ln_g), free((void *)m->emb_ln_b);
    for (uint32_t l = 0; l < m->cfg.layers; l++) {
        kz_bert_layer *L = &m->layers[l];
        lin_free(&L->q), lin_free(&L->k), lin_free(&L->v), lin_free(&L->attn_out);
        lin_free(&L->ffn_in), lin_free(&L->ffn_out);
        free((void *)L->ln1_g), free((void *)L->ln1_b), free((void *)L->ln2_g), free((void *)L->ln2_b);
    }
    free(m->layers);
    lin_free(&m->classifier);
    free(m);
}

/* ---- the model as a Hugging Face directory (config.json + model.safetensors) ---------- */
typedef struct named {
    char name[96];
    const float *data;
    int64_t rows, cols; /* cols 0: vector */
} named;

static int cmp_named(const void *a, const void *b) {
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

static void write_hf_dir(const kz_bert *m, const char *dir) {
    const kz_bert_config *c = &m->cfg;
    named *t = calloc(16 + 16 * (size_t)c->layers, sizeof *t);
    size_t n = 0;
#define T2(nm, p, r, cc)                                                                                     \
    (snprintf(t[n].name, sizeof t[n].name, "%s", nm), t[n].data = p, t[n].rows = r, t[n].cols = cc, n++)
    T2("bert.embeddings.word_embeddings.weight", m->word_emb, c->vocab_size, c->hidden);
    T2("bert.embeddings.position_embeddings.weight", m->pos_emb, c->max_positions, c->hidden);
    T2("bert.embeddings.token_type_embeddings.weight", m->type_emb, c->type_vocab, c->hidden);
    T2("bert.embeddings.LayerNorm.weight", m->emb_ln_g, c->hidden, 0);
    T2("bert.embeddings.LayerNorm.bias", m->emb_ln_b, c->hidden, 0);
    char nm[96];
    for (uint32_t l = 0; l < c->layers; l++) {
        const kz_bert_layer *L = &m->layers[l];
        const kz_bert_linear *ls[6] = {&L->q, &L->k, &L->v, &L->attn_out, &L->ffn_in, &L->ffn_out};
        static const char *ln[6] = {"attention.self.query",   "attention.self.key", "attention.self.value",
                                    "attention.output.dense", "intermediate.dense", "output.dense"};
        for (int j = 0; j < 6; j++) {
            snprintf(nm, sizeof nm, "bert.encoder.layer.%u.%s.weight", l, ln[j]);
            T2(nm, ls[j]->w, ls[j]->out, ls[j]->in);
            snprintf(nm, sizeof nm, "bert.encoder.layer.%u.%s.bias", l, ln[j]);
            T2(nm, ls[j]->b, ls[j]->out, 0);
        }
        snprintf(nm, sizeof nm, "bert.encoder.layer.%u.attention.output.LayerNorm.weight", l);
        T2(nm, L->ln1_g, c->hidden, 0);
        snprintf(nm, sizeof nm, "bert.encoder.layer.%u.attention.output.LayerNorm.bias", l);
        T2(nm, L->ln1_b, c->hidden, 0);
        snprintf(nm, sizeof nm, "bert.encoder.layer.%u.output.LayerNorm.weight", l);
        T2(nm, L->ln2_g, c->hidden, 0);
        snprintf(nm, sizeof nm, "bert.encoder.layer.%u.output.LayerNorm.bias", l);
        T2(nm, L->ln2_b, c->hidden, 0);
    }
    T2("classifier.weight", m->classifier.w, c->num_labels, c->hidden);
    T2("classifier.bias", m->classifier.b, c->num_labels, 0);
#undef T2
    qsort(t, n, sizeof *t, cmp_named);
    size_t cap = 1 << 16, hl = 0, off = 0;
    char *h = malloc(cap);
    hl += (size_t)snprintf(h + hl, cap - hl, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (size_t i = 0; i < n; i++) {
        size_t nb = (size_t)t[i].rows * (size_t)(t[i].cols ? t[i].cols : 1) * 4;
        if (t[i].cols)
            hl += (size_t)snprintf(
                h + hl, cap - hl,
                ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld,%lld],\"data_offsets\":[%zu,%zu]}", t[i].name,
                (long long)t[i].rows, (long long)t[i].cols, off, off + nb);
        else
            hl += (size_t)snprintf(h + hl, cap - hl,
                                   ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld],\"data_offsets\":[%zu,%zu]}",
                                   t[i].name, (long long)t[i].rows, off, off + nb);
        off += nb;
    }
    hl += (size_t)snprintf(h + hl, cap - hl, "}");
    while (hl % 8) h[hl++] = ' ';
    char path[512];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "bench_bert: cannot write %s\n", path);
        exit(1);
    }
    uint64_t hl64 = hl;
    fwrite(&hl64, 8, 1, f);
    fwrite(h, 1, hl, f);
    for (size_t i = 0; i < n; i++)
        fwrite(t[i].data, 4, (size_t)t[i].rows * (size_t)(t[i].cols ? t[i].cols : 1), f);
    fclose(f);
    snprintf(path, sizeof path, "%s/config.json", dir);
    f = fopen(path, "w");
    fprintf(f,
            "{\"architectures\": [\"BertForTokenClassification\"], \"model_type\": \"bert\", \"hidden_act\": "
            "\"gelu\",\n"
            " \"hidden_size\": %u, \"num_hidden_layers\": %u, \"num_attention_heads\": %u, "
            "\"intermediate_size\": %u,\n"
            " \"max_position_embeddings\": %u, \"type_vocab_size\": %u, \"vocab_size\": %u, "
            "\"layer_norm_eps\": 1e-12,\n"
            " \"pad_token_id\": 0, \"id2label\": {",
            c->hidden, c->layers, c->heads, c->intermediate, c->max_positions, c->type_vocab, c->vocab_size);
    for (uint32_t i = 0; i < c->num_labels; i++) fprintf(f, "%s\"%u\": \"L%u\"", i ? ", " : "", i, i);
    fprintf(f, "}}\n");
    fclose(f);
    free(h);
    free(t);
}

/* ---- one measurement ---------------------------------------------------------------- */
typedef struct result {
    double sps;      /* sentences per second (wall clock) */
    double spc;      /* sentences per CPU-second (robust to other load on the machine) */
    double first_ms; /* engine creation + first forward */
    uint64_t hash;   /* FNV-1a over the logits' bits */
    char backend[48];
} result;

static void die_kz(const char *what, const kz_error *err) {
    fprintf(stderr, "bench_bert: %s: %s\n", what, err->msg);
    exit(1);
}

/* Runs forward passes for `seconds`, returns sentences/s. */
static result measure(const kz_bert *m, kz_precision prec, uint32_t batch, uint32_t seq, int threads,
                      double seconds) {
    result r = {0};
    kz_error err = {0};
    kz_bert_engine *e;
    kz_bert_engine_opts o = {prec, threads};
    int32_t *ids = malloc((size_t)batch * seq * sizeof(int32_t)), *lens = malloc(batch * sizeof(int32_t));
    for (uint32_t b = 0; b < batch; b++) {
        lens[b] = (int32_t)seq;
        for (uint32_t t = 0; t < seq; t++)
            ids[b * seq + t] = t == 0         ? 101
                               : t == seq - 1 ? 102
                                              : (int32_t)(1000 + (b * 7919u + t * 104729u) % 28000u);
    }
    float *logits = malloc((size_t)batch * seq * m->cfg.num_labels * sizeof(float));
    double t0 = now_s();
    if (kz_bert_engine_new(m, &o, &e, &err)) die_kz("engine", &err);
    kz_bert_ctx *c = kz_bert_ctx_new(e);
    kz_bert_batch in = {ids, NULL, lens, batch, seq};
    kz_bert_out out = {logits, NULL, NULL, false};
    if (kz_bert_forward(e, c, &in, &out, &err)) die_kz("forward", &err);
    r.first_ms = (now_s() - t0) * 1e3;
    snprintf(r.backend, sizeof r.backend, "%s", kz_bert_engine_backend(e));
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *p = (const unsigned char *)logits;
    for (size_t i = 0; i < (size_t)batch * seq * m->cfg.num_labels * sizeof(float); i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    r.hash = h;
    size_t n = 0;
    double start = now_s(), c0 = cpu_s(), el;
    do {
        if (kz_bert_forward(e, c, &in, &out, &err)) die_kz("forward", &err);
        n += batch;
        el = now_s() - start;
    } while (el < seconds);
    r.sps = (double)n / el;
    if (c->profile) {
        static const char *names[KZ_PROF_N] = {"embed",       "qkv",        "attn",    "attn_out+LN",
                                               "ffn_in+gelu", "ffn_out+LN", "head+out"};
        double tot = 0;
        for (int i = 0; i < KZ_PROF_N; i++) tot += c->prof[i];
        fprintf(stderr, "  profile (batch %u):", batch);
        for (int i = 0; i < KZ_PROF_N; i++) fprintf(stderr, " %s %.1f%%", names[i], 100.0 * c->prof[i] / tot);
        fprintf(stderr, "\n");
    }
    r.spc = (double)n / (cpu_s() - c0);
    kz_bert_ctx_free(c);
    kz_bert_engine_free(e);
    free(ids), free(lens), free(logits);
    return r;
}

/* N worker processes started together; each reports sentences/s through a pipe. */
static result measure_workers(const kz_bert *m, kz_precision prec, uint32_t batch, uint32_t seq, int threads,
                              double seconds, int workers) {
    if (workers <= 1) return measure(m, prec, batch, seq, threads, seconds);
    int fds[2];
    if (pipe(fds)) exit(1);
    for (int w = 0; w < workers; w++) {
        pid_t pid = fork();
        if (pid < 0) exit(1);
        if (pid == 0) {
            close(fds[0]);
            result r = measure(m, prec, batch, seq, threads, seconds);
            if (write(fds[1], &r, sizeof r) != (ssize_t)sizeof r) _exit(1);
            _exit(0);
        }
    }
    close(fds[1]);
    result sum = {0}, r;
    for (int w = 0; w < workers; w++) {
        if (read(fds[0], &r, sizeof r) != (ssize_t)sizeof r) {
            fprintf(stderr, "bench_bert: a worker failed\n");
            exit(1);
        }
        sum.sps += r.sps;
        sum.spc += r.spc;
        sum.first_ms = r.first_ms > sum.first_ms ? r.first_ms : sum.first_ms;
        sum.hash = r.hash;
        memcpy(sum.backend, r.backend, sizeof r.backend);
    }
    close(fds[0]);
    while (wait(NULL) > 0) {
    }
    return sum;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* kz_bert_load (HF directory or .kzm) -> engine -> first forward of one sentence. */
static double load_to_first(const char *path, kz_precision prec, uint32_t seq, double *load_ms,
                            char *backend) {
    kz_error err = {0};
    kz_bert *m = NULL;
    kz_bert_engine *e = NULL;
    int32_t ids[512], len = (int32_t)seq;
    for (uint32_t t = 0; t < seq; t++)
        ids[t] = t == 0 ? 101 : t == seq - 1 ? 102 : (int32_t)(1000 + t * 104729u % 28000u);
    float *logits = malloc((size_t)seq * 64 * sizeof(float));
    double t0 = now_s();
    if (kz_bert_load(path, &m, &err)) die_kz("load", &err);
    *load_ms = (now_s() - t0) * 1e3;
    kz_bert_engine_opts o = {prec, 1};
    if (kz_bert_engine_new(m, &o, &e, &err)) die_kz("engine", &err);
    kz_bert_ctx *c = kz_bert_ctx_new(e);
    kz_bert_batch in = {ids, NULL, &len, 1, seq};
    kz_bert_out out = {logits, NULL, NULL, false};
    if (kz_bert_forward(e, c, &in, &out, &err)) die_kz("forward", &err);
    double ms = (now_s() - t0) * 1e3;
    snprintf(backend, 48, "%s", kz_bert_engine_backend(e));
    kz_bert_ctx_free(c);
    kz_bert_engine_free(e);
    kz_bert_free(m);
    free(logits);
    return ms;
}

static void latency_report(const kz_bert *m, const char *precs, uint32_t seq) {
    char dir[] = "/tmp/kz_bench_bert_XXXXXX";
    if (!mkdtemp(dir)) return;
    write_hf_dir(m, dir);
    printf("\nload -> first forward (1 sentence, %u tokens; files in the page cache; median of 3):\n", seq);
    printf("  %-34s %-5s %10s %12s  %s\n", "file", "prec", "load ms", "to first ms", "backend");
    char pbuf[64], path[600];
    snprintf(pbuf, sizeof pbuf, "%s", precs);
    kz_error err = {0};
    kz_bert *lm = NULL;
    if (kz_bert_load(dir, &lm, &err)) die_kz("load", &err);
    for (char *ps = NULL, *pn = strtok_r(pbuf, ",", &ps); pn; pn = strtok_r(NULL, ",", &ps)) {
        kz_precision prec = !strcmp(pn, "int8")   ? KZ_PREC_INT8
                            : !strcmp(pn, "bf16") ? KZ_PREC_BF16
                                                  : KZ_PREC_FP32;
        char kzm[600];
        snprintf(kzm, sizeof kzm, "%s/model-%s.kzm", dir, pn);
        if (kz_bert_save(lm, kzm, prec, &err)) die_kz("save", &err);
        const char *paths[2] = {dir, kzm};
        const char *labels[2] = {"HF dir (model.safetensors, fp32)", NULL};
        char kl[64];
        snprintf(kl, sizeof kl, ".kzm (%s weights)", pn);
        labels[1] = kl;
        for (int k = 0; k < 2; k++) {
            double v[3], lv[3];
            char be[48];
            for (int r = 0; r < 3; r++) v[r] = load_to_first(paths[k], prec, seq, &lv[r], be);
            qsort(v, 3, sizeof v[0], cmp_d);
            qsort(lv, 3, sizeof lv[0], cmp_d);
            printf("  %-34s %-5s %10.1f %12.1f  %s\n", labels[k], pn, lv[1], v[1], be);
        }
        unlink(kzm);
    }
    kz_bert_free(lm);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/config.json", dir);
    unlink(path);
    rmdir(dir);
}

int main(int argc, char **argv) {
    const char *precs = "fp32,int8,bf16", *batches = "1,32";
    uint32_t seq = 26;
    int threads = 1, workers = 1, runs = 5;
    double seconds = 1.0;
    bool latency = true;
    shape s = {4, 312, 1200, 12, 30522, 13, 512};
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        if (!strcmp(a, "--prec"))
            precs = v;
        else if (!strcmp(a, "--batch"))
            batches = v;
        else if (!strcmp(a, "--seq"))
            seq = (uint32_t)atoi(v);
        else if (!strcmp(a, "--threads"))
            threads = atoi(v);
        else if (!strcmp(a, "--workers"))
            workers = atoi(v);
        else if (!strcmp(a, "--runs"))
            runs = atoi(v);
        else if (!strcmp(a, "--seconds"))
            seconds = atof(v);
        else if (!strcmp(a, "--layers"))
            s.layers = (uint32_t)atoi(v);
        else if (!strcmp(a, "--hidden"))
            s.hidden = (uint32_t)atoi(v);
        else if (!strcmp(a, "--ffn"))
            s.ffn = (uint32_t)atoi(v);
        else if (!strcmp(a, "--heads"))
            s.heads = (uint32_t)atoi(v);
        else if (!strcmp(a, "--vocab"))
            s.vocab = (uint32_t)atoi(v);
        else if (!strcmp(a, "--labels"))
            s.labels = (uint32_t)atoi(v);
        else if (!strcmp(a, "--latency"))
            latency = atoi(v) != 0;
        else
            usage();
    }
    if (seq < 2 || seq > s.max_pos || threads < 1 || workers < 1 || runs < 1 || runs > 99 || seconds <= 0)
        usage();
    double t0 = now_s();
    kz_bert *m = model_new(&s);
    double build_ms = (now_s() - t0) * 1e3;
    double flop =
        2.0 * seq * s.layers * ((4.0 * s.hidden * s.hidden + 2.0 * s.hidden * s.ffn) + 2.0 * seq * s.hidden) +
        2.0 * seq * s.hidden * s.labels;
    printf("model: %u layers, hidden %u, ffn %u, heads %u, vocab %u, %u labels; %u-token sentences; "
           "%.1f MFLOP/sentence; random weights built in %.0f ms\n",
           s.layers, s.hidden, s.ffn, s.heads, s.vocab, s.labels, seq, flop / 1e6, build_ms);
    printf("%-5s %5s %7s %7s | %10s %10s %10s | %10s | %9s %-14s %s\n", "prec", "batch", "threads", "workers",
           "sent/s", "min", "max", "sent/CPU-s", "first ms", "backend", "logits hash");
    char pbuf[64], bbuf[64];
    snprintf(pbuf, sizeof pbuf, "%s", precs);
    for (char *ps = NULL, *pn = strtok_r(pbuf, ",", &ps); pn; pn = strtok_r(NULL, ",", &ps)) {
        kz_precision prec = !strcmp(pn, "int8")   ? KZ_PREC_INT8
                            : !strcmp(pn, "bf16") ? KZ_PREC_BF16
                                                  : KZ_PREC_FP32;
        if (strcmp(pn, "fp32") && strcmp(pn, "int8") && strcmp(pn, "bf16")) usage();
        snprintf(bbuf, sizeof bbuf, "%s", batches);
        for (char *bs = NULL, *bn = strtok_r(bbuf, ",", &bs); bn; bn = strtok_r(NULL, ",", &bs)) {
            uint32_t batch = (uint32_t)atoi(bn);
            if (!batch) usage();
            double v[99], vc[99];
            result r = {0};
            for (int k = 0; k < runs; k++) {
                r = measure_workers(m, prec, batch, seq, threads, seconds, workers);
                v[k] = r.sps;
                vc[k] = r.spc;
            }
            qsort(v, (size_t)runs, sizeof v[0], cmp_d);
            qsort(vc, (size_t)runs, sizeof vc[0], cmp_d);
            double med = runs % 2 ? v[runs / 2] : 0.5 * (v[runs / 2 - 1] + v[runs / 2]);
            double medc = runs % 2 ? vc[runs / 2] : 0.5 * (vc[runs / 2 - 1] + vc[runs / 2]);
            printf("%-5s %5u %7d %7d | %10.1f %10.1f %10.1f | %10.1f | %9.1f %-14s %016llx\n", pn, batch,
                   threads, workers, med, v[0], v[runs - 1], medc, r.first_ms, r.backend,
                   (unsigned long long)r.hash);
            fflush(stdout);
        }
    }
    if (latency) latency_report(m, precs, seq);
    model_free(m);
    return 0;
}
