/* Model-loading benchmark: writes a synthetic TinyBERT-sized model (4 layers,
 * hidden 312, 12 heads, intermediate 1200, vocab 30,522: 14.4 M parameters)
 * as a Hugging Face directory with model.safetensors, converts it to .kzm in
 * each storage, and times kz_bert_load of each file (warm page cache).
 *
 *   bench_nn_load [--vocab vocab.txt] [--runs N] [--dir DIR]
 *
 * Without --vocab the model has no tokenizer, so the figure is the loader's
 * own cost; with it, building the WordPiece tokenizer is included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "kazu/kazu.h"
#include "kazu/nn.h"

enum { V = 30522, P = 512, T = 2, H = 312, L = 4, I = 1200, HEADS = 12 };

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct ent {
    char name[96];
    long d0, d1;
} ent;

static int n_ents;
static ent ents[8 + 16 * L];

static void add(const char *name, long d0, long d1) {
    ent *e = &ents[n_ents++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->d0 = d0;
    e->d1 = d1;
}

/* model.safetensors with N(0, 0.02)-ish weights from a fixed LCG. */
static int write_safetensors(const char *path, uint64_t *params) {
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
    static const long dims[16][2] = {{H, H}, {H, 0}, {H, H}, {H, 0}, {H, H}, {H, 0}, {H, H}, {H, 0},
                                     {H, 0}, {H, 0}, {I, H}, {I, 0}, {H, I}, {H, 0}, {H, 0}, {H, 0}};
    add("embeddings.word_embeddings.weight", V, H);
    add("embeddings.position_embeddings.weight", P, H);
    add("embeddings.token_type_embeddings.weight", T, H);
    add("embeddings.LayerNorm.weight", H, 0);
    add("embeddings.LayerNorm.bias", H, 0);
    for (int l = 0; l < L; l++)
        for (int i = 0; i < 16; i++) {
            char nm[96];
            snprintf(nm, sizeof nm, "encoder.layer.%d.%s", l, sfx[i]);
            add(nm, dims[i][0], dims[i][1]);
        }
    char *hdr = malloc(1 << 16);
    size_t o = (size_t)snprintf(hdr, 1 << 16, "{");
    uint64_t at = 0;
    *params = 0;
    for (int i = 0; i < n_ents; i++) {
        uint64_t n = (uint64_t)ents[i].d0 * (uint64_t)(ents[i].d1 ? ents[i].d1 : 1);
        if (ents[i].d1)
            o += (size_t)snprintf(hdr + o, (1 << 16) - o,
                                  "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%ld,%ld],"
                                  "\"data_offsets\":[%llu,%llu]}",
                                  i ? "," : "", ents[i].name, ents[i].d0, ents[i].d1, (unsigned long long)at,
                                  (unsigned long long)(at + 4 * n));
        else
            o += (size_t)snprintf(hdr + o, (1 << 16) - o,
                                  "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%ld],"
                                  "\"data_offsets\":[%llu,%llu]}",
                                  i ? "," : "", ents[i].name, ents[i].d0, (unsigned long long)at,
                                  (unsigned long long)(at + 4 * n));
        at += 4 * n;
        *params += n;
    }
    o += (size_t)snprintf(hdr + o, (1 << 16) - o, "}");
    while (o % 8) hdr[o++] = ' ';
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)((uint64_t)o >> (8 * i));
    fwrite(len, 1, 8, f);
    fwrite(hdr, 1, o, f);
    free(hdr);
    uint32_t s = 42;
    float buf[4096];
    for (uint64_t done = 0; done < at / 4;) {
        size_t k = 0;
        for (; k < 4096 && done < at / 4; k++, done++) {
            s = s * 1664525u + 1013904223u;
            buf[k] = ((float)(s >> 8) / 16777216.0f - 0.5f) * 0.07f;
        }
        fwrite(buf, 4, k, f);
    }
    return fclose(f);
}

static void copy(const char *from, const char *to) {
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[65536];
    size_t n;
    while (a && b && (n = fread(buf, 1, sizeof buf, a)) > 0) fwrite(buf, 1, n, b);
    if (a) fclose(a);
    if (b) fclose(b);
}

static int time_loads(const char *path, int runs, double *first, double *median, double *best) {
    double *t = malloc(sizeof(double) * (size_t)runs);
    for (int r = 0; r < runs; r++) {
        kz_bert *m;
        kz_error e;
        kz_error_clear(&e);
        double t0 = now_ms();
        int rc = kz_bert_load(path, &m, &e);
        t[r] = now_ms() - t0;
        if (rc) {
            char b[1024];
            fprintf(stderr, "load %s: %s\n", path, kz_error_format(&e, b, sizeof b));
            free(t);
            return rc;
        }
        kz_bert_free(m);
    }
    *first = t[0];
    qsort(t, (size_t)runs, sizeof *t, cmp_d);
    *median = t[runs / 2];
    *best = t[0];
    free(t);
    return 0;
}

int main(int argc, char **argv) {
    const char *vocab = NULL, *dir = NULL;
    int runs = 21;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--vocab") && i + 1 < argc)
            vocab = argv[++i];
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else {
            fprintf(stderr, "usage: bench_nn_load [--vocab vocab.txt] [--runs N] [--dir DIR]\n");
            return 2;
        }
    }
    if (runs < 1) runs = 1;
    char tmpl[] = "/tmp/kz_bench_nn_load_XXXXXX", path[4096], hf[2048];
    if (!dir) dir = mkdtemp(tmpl);
    if (!dir) return 1;
    snprintf(hf, sizeof hf, "%.1000s/hf", dir);
    mkdir(hf, 0755);
    snprintf(path, sizeof path, "%s/config.json", hf);
    FILE *f = fopen(path, "w");
    fprintf(f,
            "{\"architectures\": [\"BertModel\"], \"hidden_size\": %d, \"num_hidden_layers\": %d, "
            "\"num_attention_heads\": %d, \"intermediate_size\": %d, \"max_position_embeddings\": %d, "
            "\"type_vocab_size\": %d, \"vocab_size\": %d}\n",
            H, L, HEADS, I, P, T, V);
    fclose(f);
    uint64_t params;
    snprintf(path, sizeof path, "%s/model.safetensors", hf);
    if (write_safetensors(path, &params)) return 1;
    if (vocab) {
        snprintf(path, sizeof path, "%s/vocab.txt", hf);
        copy(vocab, path);
    }
    printf("model: %d layers, hidden %d, intermediate %d, vocab %d: %llu parameters; tokenizer: %s\n", L, H,
           I, V, (unsigned long long)params, vocab ? vocab : "none");
    double first, med, best;
    if (time_loads(hf, runs, &first, &med, &best)) return 1;
    printf("%-28s first %8.2f ms  median %8.2f ms  best %8.2f ms\n", "HF dir (safetensors)", first, med,
           best);
    kz_bert *m;
    kz_error e;
    kz_error_clear(&e);
    if (kz_bert_load(hf, &m, &e)) return 1;
    static const kz_precision ps[] = {KZ_PREC_FP32, KZ_PREC_FP16, KZ_PREC_BF16, KZ_PREC_INT8};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%.1000s/model_%.8s.kzm", dir, kz_precision_name(ps[i]));
        if (kz_bert_save(m, path, ps[i], &e)) {
            fprintf(stderr, "save: %s\n", e.msg);
            return 1;
        }
        struct stat st;
        stat(path, &st);
        if (time_loads(path, runs, &first, &med, &best)) return 1;
        char label[64];
        snprintf(label, sizeof label, ".kzm %.8s (%.1f MB)", kz_precision_name(ps[i]),
                 (double)st.st_size / 1e6);
        printf("%-28s first %8.2f ms  median %8.2f ms  best %8.2f ms\n", label, first, med, best);
        unlink(path);
    }
    kz_bert_free(m);
    static const char *const files[] = {"config.json", "model.safetensors", "vocab.txt"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", hf, files[i]);
        unlink(path);
    }
    rmdir(hf);
    if (dir == tmpl) rmdir(dir);
    return 0;
}
