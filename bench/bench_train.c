/* Training throughput of the C trainer: full optimiser steps (forward, multi-label
 * BCE, backward, global-norm clipping, AdamW) on a random model and random token
 * windows of exactly --seq tokens (no padding, so every framework does the same
 * work). Prints tokens/s per run and the median. Peer: bench/peer_train.py;
 * side by side: bench/train_vs_torch.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kazu/kazu.h"
#include "kazu/train.h"
#include "../src/train/train_int.h"

static void usage(void) {
    fprintf(stderr,
            "usage: bench_train [--layers 4] [--hidden 312] [--heads 12] [--inter 1200] [--vocab 30522]\n"
            "                   [--labels 13] [--seq 128] [--batch 16] [--steps 4] [--runs 3] [--threads 1]\n"
            "                   [--dropout 0.1]\n");
    exit(2);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    unsigned layers = 4, hidden = 312, heads = 12, inter = 1200, vocab = 30522, labels = 13, seq = 128,
             batch = 16, steps = 4, runs = 3, threads = 1;
    double dropout = 0.1;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc) usage();
        const char *a = argv[i];
        unsigned v = (unsigned)strtoul(argv[i + 1], NULL, 10);
        if (!strcmp(a, "--layers"))
            layers = v;
        else if (!strcmp(a, "--hidden"))
            hidden = v;
        else if (!strcmp(a, "--heads"))
            heads = v;
        else if (!strcmp(a, "--inter"))
            inter = v;
        else if (!strcmp(a, "--vocab"))
            vocab = v;
        else if (!strcmp(a, "--labels"))
            labels = v;
        else if (!strcmp(a, "--seq"))
            seq = v;
        else if (!strcmp(a, "--batch"))
            batch = v;
        else if (!strcmp(a, "--steps"))
            steps = v;
        else if (!strcmp(a, "--runs"))
            runs = v;
        else if (!strcmp(a, "--threads"))
            threads = v;
        else if (!strcmp(a, "--dropout"))
            dropout = strtod(argv[i + 1], NULL);
        else
            usage();
    }
    if (!layers || !hidden || !heads || hidden % heads || !inter || !vocab || !labels || seq < 3 || !batch ||
        !steps || !runs || runs > 100 || !threads)
        usage();
    char **names = calloc(labels, sizeof *names);
    for (unsigned i = 0; i < labels; i++) {
        names[i] = malloc(16);
        snprintf(names[i], 16, "L%u", i);
    }
    kz_bert_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.vocab_size = vocab, cfg.hidden = hidden, cfg.layers = layers, cfg.heads = heads;
    cfg.intermediate = inter, cfg.max_positions = seq, cfg.type_vocab = 2, cfg.layer_norm_eps = 1e-12f;
    cfg.act = KZ_ACT_GELU, cfg.num_labels = labels, cfg.multilabel = true, cfg.id2label = names;
    kz_error err;
    kz_bert *m = NULL;
    if (kz_bert_new_random(&cfg, NULL, 1, &m, &err)) {
        fprintf(stderr, "bench_train: %s\n", err.msg);
        return 1;
    }
    kz_train_opts o = kz_train_default_opts();
    o.dropout = dropout;
    o.threads = threads;
    kz_trainer *t = NULL;
    if (kz__trainer_new(m, &o, &t, &err)) {
        fprintf(stderr, "bench_train: %s\n", err.msg);
        return 1;
    }
    /* data */
    kz_train_example *ex = calloc(batch, sizeof *ex);
    const kz_train_example **px = calloc(batch, sizeof *px);
    int32_t *ids = malloc((size_t)batch * seq * sizeof *ids);
    float *tg = calloc((size_t)batch * seq * labels, sizeof *tg);
    uint8_t *tm = malloc((size_t)batch * seq), *lm = malloc(labels);
    uint64_t st = 42;
    for (size_t i = 0; i < (size_t)batch * seq; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        ids[i] = (int32_t)((st >> 33) % vocab);
        tm[i] = 1;
        tg[i * labels + (st >> 20) % labels] = 1.f;
    }
    memset(lm, 1, labels);
    double denom = 0;
    for (unsigned b = 0; b < batch; b++) {
        ex[b] = (kz_train_example){
            seq, ids + (size_t)b * seq, tg + (size_t)b * seq * labels, tm + (size_t)b * seq, lm, 0};
        px[b] = &ex[b];
        denom += kz__trainer_cells(t, &ex[b]);
    }
    extern int kz__nn_omp_set_threads(int threads);
    kz__nn_omp_set_threads((int)threads);
    printf("# bench_train: %uL-%u-%uh-%u, vocab %u, %u labels, seq %u, batch %u, threads %u, dropout %.2f\n",
           layers, hidden, heads, inter, vocab, labels, seq, batch, threads, dropout);
    double rate[100], crate[100];
    uint64_t rs = 0;
    for (unsigned r = 0; r <= runs; r++) { /* run 0 warms up */
        double t0 = now_s(), c0 = cpu_s(), loss = 0;
        for (unsigned s = 0; s < (r ? steps : 1); s++) {
            kz__trainer_zero_grad(t);
            if (kz__trainer_step_batch(t, px, batch, denom, rs++, true, &loss, NULL, &err)) {
                fprintf(stderr, "bench_train: %s\n", err.msg);
                return 1;
            }
            kz__trainer_optimizer_step(t, 5e-5, 1.0);
        }
        double dt = now_s() - t0, dc = cpu_s() - c0;
        if (!r) continue;
        rate[r - 1] = (double)steps * batch * seq / dt;
        crate[r - 1] = (double)steps * batch * seq / dc;
        printf("run %u: %u steps in %.2f s (%.2f CPU-s), %.1f tokens/s, %.1f tokens/CPU-s (loss %.4f)\n", r,
               steps, dt, dc, rate[r - 1], crate[r - 1], loss);
    }
    qsort(rate, runs, sizeof *rate, cmp_d);
    qsort(crate, runs, sizeof *crate, cmp_d);
    printf("median tokens/s %.1f tokens/CPU-s %.1f\n", rate[runs / 2], crate[runs / 2]);
    kz__trainer_free(t);
    kz_bert_free(m);
    for (unsigned i = 0; i < labels; i++) free(names[i]);
    free(names), free(ex), free(px), free(ids), free(tg), free(tm), free(lm);
    return 0;
}
