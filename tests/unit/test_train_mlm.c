/* Masked-LM pre-training: loss and gradients against PyTorch 1.13
 * (tests/golden/train/mlm_*, tools/train_reference.py) and finite differences;
 * BERT masking (count, 80/10/10, whole words, determinism); the raw-text
 * reader's windows; training that learns, is deterministic and resumes
 * byte-identically; an encoder getting a new token-classification head. */
#include <math.h>
#include <unistd.h>
#include "kz_test.h"
#include "kazu/train.h"
#include "nn/load_int.h"
#include "train/train_int.h"

#define GOLD KZ_SOURCE_DIR "/tests/golden/train"

/* ---- the fixture batch ------------------------------------------------------------ */
enum { MAXB = 4, MAXT = 16 };
typedef struct mfx {
    int nb;
    double loss;
    int32_t ids[MAXB][MAXT], lab[MAXB][MAXT];
    kz_mlm_seq s[MAXB];
} mfx;

static bool read_mfx(mfx *f) {
    memset(f, 0, sizeof *f);
    char *txt = kz_test_read_file(GOLD "/mlm_batch.txt", NULL);
    if (!txt) return false;
    char *save = NULL;
    int b = -1, T = 0;
    for (char *line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *p = line, *end;
        if (!strncmp(p, "loss_mlm ", 9)) f->loss = strtod(p + 9, NULL);
        if (!strncmp(p, "seq ", 4)) {
            b++;
            T = atoi(p + 4);
            if (b >= MAXB || T > MAXT) break;
            f->s[b].n_tokens = (uint32_t)T;
            f->nb = b + 1;
        }
        if (b < 0) continue;
        int n = 0;
        if (!strncmp(p, "ids ", 4))
            for (p += 4; n < T; n++, p = end) f->ids[b][n] = (int32_t)strtol(p, &end, 10);
        else if (!strncmp(p, "labels ", 7))
            for (p += 7; n < T; n++, p = end) f->lab[b][n] = (int32_t)strtol(p, &end, 10);
    }
    free(txt);
    for (int i = 0; i < f->nb; i++) f->s[i].input_ids = f->ids[i], f->s[i].labels = f->lab[i];
    return f->nb == 3;
}

static double mfx_denom(const mfx *f) {
    double d = 0;
    for (int b = 0; b < f->nb; b++)
        for (uint32_t i = 0; i < f->s[b].n_tokens; i++) d += f->lab[b][i] >= 0;
    return d;
}

/* A trainer on the fixture model with the fixture's MLM head weights. */
static kz_trainer *fixture_trainer(kz_bert **m, double dropout) {
    kz_error err;
    *m = NULL;
    if (kz_bert_load(GOLD "/model", m, &err)) return NULL;
    kz_train_opts o = kz_train_default_opts();
    o.dropout = dropout;
    kz_trainer *t = NULL;
    if (kz__trainer_new_obj(*m, &o, KZ__OBJ_MLM, &t, &err)) return NULL;
    kz_tensor_table tt;
    memset(&tt, 0, sizeof tt);
    if (kz__safetensors_read(GOLD "/mlm_head.safetensors", &tt, &err)) {
        kz__trainer_free(t);
        return NULL;
    }
    size_t np;
    const kz_tparam *pt = kz__trainer_tensors(t, &np);
    int got = 0;
    for (size_t i = 0; i < np; i++) {
        const kz_tensor *r = kz__tensor_find(&tt, pt[i].name);
        if (!r) continue;
        if (r->nbytes != pt[i].n * 4)
            kz_test_fail(__FILE__, __LINE__, "%s: %zu bytes in the fixture", pt[i].name, r->nbytes);
        else
            memcpy(kz__trainer_params(t) + pt[i].off, r->data, r->nbytes), got++;
    }
    kz__tensor_table_free(&tt);
    if (got != 5) {
        kz_test_fail(__FILE__, __LINE__, "%d of the 5 head tensors in the fixture", got);
        kz__trainer_free(t);
        return NULL;
    }
    return t;
}

static double mlm_loss(kz_trainer *t, const mfx *f, bool grad, uint64_t rng) {
    double loss = 0;
    kz_error err;
    if (kz__trainer_step_mlm(t, f->s, (size_t)f->nb, mfx_denom(f), rng, grad, &loss, NULL, &err)) return NAN;
    return loss;
}

KZ_TEST(mlm_grad_matches_torch) {
    mfx f;
    KZ_CHECK(read_mfx(&f));
    kz_bert *m = NULL;
    kz_trainer *t = fixture_trainer(&m, 0);
    KZ_CHECK(t != NULL);
    if (!t) return;
    KZ_CHECK_INT(kz__trainer_objective(t), KZ__OBJ_MLM);
    kz__trainer_zero_grad(t);
    double loss = mlm_loss(t, &f, true, 0);
    if (!(fabs(loss - f.loss) <= 1e-5 * fabs(f.loss)))
        kz_test_fail(__FILE__, __LINE__, "loss %.9g vs torch %.9g", loss, f.loss);
    kz_tensor_table tt;
    memset(&tt, 0, sizeof tt);
    kz_error err;
    KZ_CHECK_INT(kz__safetensors_read(GOLD "/grads_mlm.safetensors", &tt, &err), 0);
    size_t np;
    const kz_tparam *pt = kz__trainer_tensors(t, &np);
    const float *g = kz__trainer_grads(t);
    KZ_CHECK_INT(np, tt.n); /* encoder + 5 head tensors, no classifier */
    for (size_t i = 0; i < np; i++) {
        const kz_tensor *r = kz__tensor_find(&tt, pt[i].name);
        if (!r || r->nbytes != pt[i].n * 4) {
            kz_test_fail(__FILE__, __LINE__, "torch gradient for %s missing or mis-sized", pt[i].name);
            continue;
        }
        const float *rg = r->data;
        double mx = 0, md = 0;
        for (size_t k = 0; k < pt[i].n; k++) {
            mx = fmax(mx, fabs(rg[k]));
            md = fmax(md, fabs(rg[k] - g[pt[i].off + k]));
        }
        if (md > 1e-6 + 1e-4 * mx)
            kz_test_fail(__FILE__, __LINE__, "%s: max |grad - torch| %.3g (max |torch| %.3g)", pt[i].name, md,
                         mx);
        if (mx == 0 && strcmp(pt[i].name, "embeddings.token_type_embeddings.weight"))
            kz_test_fail(__FILE__, __LINE__, "%s: the torch gradient is all zero", pt[i].name);
    }
    /* a second accumulation doubles the gradients (they are added) */
    float w0 = g[pt[0].off + 100];
    mlm_loss(t, &f, true, 0);
    if (!(fabsf(g[pt[0].off + 100] - 2 * w0) <= 1e-6f + 1e-5f * fabsf(w0)))
        kz_test_fail(__FILE__, __LINE__, "accumulated %.9g vs 2 x %.9g", g[pt[0].off + 100], w0);
    kz__tensor_table_free(&tt);
    kz__trainer_free(t);
    kz_bert_free(m);
}

/* Central differences on the 3 largest and 1 arbitrary entry of every tensor, dropout 0.2. */
KZ_TEST(mlm_grad_finite_differences_dropout) {
    mfx f;
    KZ_CHECK(read_mfx(&f));
    kz_bert *m = NULL;
    kz_trainer *t = fixture_trainer(&m, 0.2);
    KZ_CHECK(t != NULL);
    if (!t) return;
    kz__trainer_zero_grad(t);
    double l0 = mlm_loss(t, &f, true, 31);
    KZ_CHECK(isfinite(l0));
    size_t np;
    const kz_tparam *pt = kz__trainer_tensors(t, &np);
    float *w = kz__trainer_params(t);
    size_t n = kz__trainer_n_params(t);
    float *g = malloc(n * 4);
    memcpy(g, kz__trainer_grads(t), n * 4);
    int checked = 0, bad = 0;
    for (size_t i = 0; i < np; i++) {
        size_t pick[4] = {0, 0, 0, 0};
        for (int r = 0; r < 3; r++) {
            double best = -1;
            for (size_t k = 0; k < pt[i].n; k++) {
                bool seen = false;
                for (int q = 0; q < r; q++) seen |= pick[q] == k;
                if (!seen && fabs(g[pt[i].off + k]) > best) best = fabs(g[pt[i].off + k]), pick[r] = k;
            }
        }
        pick[3] = (i * 7919) % pt[i].n;
        for (int r = 0; r < 4; r++) {
            size_t k = pt[i].off + pick[r];
            float w0 = w[k];
            const float h = 1e-2f;
            w[k] = w0 + h;
            double lp = mlm_loss(t, &f, false, 31);
            w[k] = w0 - h;
            double lm = mlm_loss(t, &f, false, 31);
            w[k] = w0;
            double fd = (lp - lm) / (2.0 * h), an = g[k];
            checked++;
            if (fabs(fd - an) > 2e-4 + 2e-2 * fabs(an)) {
                bad++;
                kz_test_fail(__FILE__, __LINE__, "%s[%zu]: analytic %.6g, finite difference %.6g", pt[i].name,
                             pick[r], an, fd);
            }
        }
    }
    KZ_CHECK_INT(bad, 0);
    KZ_CHECK(checked == (int)np * 4);
    /* dropout changes the loss; another rng step other masks */
    KZ_CHECK(fabs(mlm_loss(t, &f, false, KZ_TRAIN_EVAL) - l0) > 1e-6);
    KZ_CHECK(fabs(mlm_loss(t, &f, false, 32) - l0) > 1e-6);
    free(g);
    kz__trainer_free(t);
    kz_bert_free(m);
}

KZ_TEST(mlm_trainer_refuses_bad_labels_and_wrong_objective) {
    mfx f;
    KZ_CHECK(read_mfx(&f));
    kz_bert *m = NULL;
    kz_trainer *t = fixture_trainer(&m, 0);
    KZ_CHECK(t != NULL);
    if (!t) return;
    kz_error err;
    double loss;
    f.lab[0][1] = 30; /* vocabulary has 30 rows */
    KZ_CHECK_INT(kz__trainer_step_mlm(t, f.s, 3, 1, 0, true, &loss, NULL, &err), KZ_EINVAL);
    f.lab[0][1] = -2;
    KZ_CHECK_INT(kz__trainer_step_mlm(t, f.s, 3, 1, 0, true, &loss, NULL, &err), KZ_EINVAL);
    kz_train_example ex = {0};
    const kz_train_example *px = &ex;
    KZ_CHECK_INT(kz__trainer_step_batch(t, &px, 1, 1, 0, true, &loss, NULL, &err), KZ_EINVAL);
    kz__trainer_free(t);
    kz_bert_free(m);
}

/* ---- masking -------------------------------------------------------------------------- */
static const kz_wordpiece_special SP = {2, 3, 0, 1, 4};

/* A window of T tokens: [CLS] w... [SEP], words of 1..3 pieces, one [UNK]. */
static kz_mlm_window make_win(int32_t *ids, uint8_t *word, uint32_t T, uint32_t vocab, uint64_t seed) {
    uint64_t st = seed;
    ids[0] = SP.cls, word[0] = 0;
    uint32_t left = 0;
    for (uint32_t i = 1; i + 1 < T; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        ids[i] = 5 + (int32_t)((st >> 33) % (vocab - 5));
        if (left) {
            word[i] = 2, left--;
        } else {
            word[i] = 1, left = (uint32_t)((st >> 20) % 3);
        }
    }
    ids[5] = SP.unk, word[5] = 0, word[6] = 1;
    ids[T - 1] = SP.sep, word[T - 1] = 0;
    return (kz_mlm_window){T, ids, word};
}

KZ_TEST(mlm_mask_count_specials_and_determinism) {
    enum { T = 60, V = 1000 };
    int32_t ids[T], a[T], la[T], b[T], lb[T];
    uint8_t word[T];
    kz_mlm_window w = make_win(ids, word, T, V, 9);
    uint32_t cand = 0;
    for (uint32_t i = 0; i < T; i++) cand += word[i] != 0;
    KZ_CHECK_INT(cand, T - 3);
    uint32_t k = kz__mlm_mask(&w, 1, 0, 7, 0.15, false, V, &SP, a, la);
    KZ_CHECK_INT(k, (uint32_t)floor(0.15 * cand + 0.5)); /* 8.55 -> 9 */
    uint32_t got = 0;
    for (uint32_t i = 0; i < T; i++) {
        if (la[i] >= 0) {
            got++;
            KZ_CHECK(word[i] != 0);      /* never a special token */
            KZ_CHECK_INT(la[i], ids[i]); /* the label is the original */
        } else {
            KZ_CHECK_INT(a[i], ids[i]); /* untouched elsewhere */
        }
    }
    KZ_CHECK_INT(got, k);
    /* same arguments, same mask; another epoch or window index, another mask */
    kz__mlm_mask(&w, 1, 0, 7, 0.15, false, V, &SP, b, lb);
    KZ_CHECK(memcmp(a, b, sizeof a) == 0 && memcmp(la, lb, sizeof la) == 0);
    kz__mlm_mask(&w, 1, 1, 7, 0.15, false, V, &SP, b, lb);
    KZ_CHECK(memcmp(la, lb, sizeof la) != 0);
    kz__mlm_mask(&w, 1, 0, 8, 0.15, false, V, &SP, b, lb);
    KZ_CHECK(memcmp(la, lb, sizeof la) != 0);
    kz__mlm_mask(&w, 2, 0, 7, 0.15, false, V, &SP, b, lb);
    KZ_CHECK(memcmp(la, lb, sizeof la) != 0);
    /* at least one token even when 15 % rounds to 0; none without maskable tokens */
    int32_t s_ids[3] = {2, 17, 3}, s_a[3], s_l[3];
    uint8_t s_w[3] = {0, 1, 0};
    kz_mlm_window sw = {3, s_ids, s_w};
    KZ_CHECK_INT(kz__mlm_mask(&sw, 1, 0, 0, 0.15, false, V, &SP, s_a, s_l), 1);
    KZ_CHECK_INT(s_l[1], 17);
    s_w[1] = 0;
    KZ_CHECK_INT(kz__mlm_mask(&sw, 1, 0, 0, 0.15, false, V, &SP, s_a, s_l), 0);
    KZ_CHECK(s_l[0] == -1 && s_l[1] == -1 && s_l[2] == -1 && s_a[1] == 17);
}

KZ_TEST(mlm_mask_80_10_10) {
    enum { T = 128, V = 1000, N = 400 };
    int32_t ids[T], a[T], la[T];
    uint8_t word[T];
    kz_mlm_window w = make_win(ids, word, T, V, 3);
    size_t total = 0, masked = 0, kept = 0, rnd = 0, bad = 0;
    for (uint64_t idx = 0; idx < N; idx++) {
        kz__mlm_mask(&w, 5, 0, idx, 0.15, false, V, &SP, a, la);
        for (uint32_t i = 0; i < T; i++) {
            if (la[i] < 0) continue;
            total++;
            if (a[i] == SP.mask)
                masked++;
            else if (a[i] == ids[i])
                kept++;
            else if (a[i] >= 5 && a[i] < V)
                rnd++;
            else
                bad++;
        }
    }
    double fm = (double)masked / total, fk = (double)kept / total, fr = (double)rnd / total;
    /* 7,600 predicted tokens: a binomial's 4-sigma band is about +-0.02 */
    if (fabs(fm - 0.8) > 0.02 || fabs(fk - 0.1) > 0.015 || fabs(fr - 0.1) > 0.015 || bad)
        kz_test_fail(__FILE__, __LINE__, "[MASK] %.3f kept %.3f random %.3f (bad %zu) of %zu", fm, fk, fr,
                     bad, total);
    /* how often each maskable position is chosen: uniform (no position bias) */
    size_t first = 0, last = 0;
    for (uint64_t idx = 0; idx < N; idx++) {
        kz__mlm_mask(&w, 5, 0, idx, 0.15, false, V, &SP, a, la);
        first += la[1] >= 0;
        last += la[T - 2] >= 0;
    }
    KZ_CHECK(first > N * 0.15 * 0.5 && first < N * 0.15 * 1.5);
    KZ_CHECK(last > N * 0.15 * 0.5 && last < N * 0.15 * 1.5);
}

KZ_TEST(mlm_mask_whole_words) {
    enum { T = 90, V = 500 };
    int32_t ids[T], a[T], la[T];
    uint8_t word[T];
    kz_mlm_window w = make_win(ids, word, T, V, 21);
    uint32_t cand = 0;
    for (uint32_t i = 0; i < T; i++) cand += word[i] != 0;
    const uint32_t want = (uint32_t)floor(0.15 * cand + 0.5);
    int partial = 0;
    for (uint64_t idx = 0; idx < 50; idx++) {
        uint32_t k = kz__mlm_mask(&w, 8, 2, idx, 0.15, true, V, &SP, a, la);
        uint32_t got = 0;
        for (uint32_t i = 0; i < T; i++) got += la[i] >= 0;
        KZ_CHECK_INT(got, k);
        KZ_CHECK(k <= want + 2); /* a first word may overshoot by its extra pieces */
        KZ_CHECK(k + 2 >= want); /* BERT skips a word that would overshoot, then fills up */
        /* every chosen word is chosen with all its pieces */
        for (uint32_t i = 1; i + 1 < T; i++)
            if (word[i] == 2 && (la[i] >= 0) != (la[i - 1] >= 0)) partial++;
    }
    KZ_CHECK_INT(partial, 0);
}

/* ---- the raw-text reader ----------------------------------------------------------------- */
/* [PAD] [UNK] [CLS] [SEP] [MASK] a..z ##a..##z: a word of n letters is n pieces. */
static kz_wordpiece *letters_vocab(void) {
    char buf[512];
    size_t o = (size_t)snprintf(buf, sizeof buf, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
    for (char c = 'a'; c <= 'z'; c++) o += (size_t)snprintf(buf + o, sizeof buf - o, "%c\n", c);
    for (char c = 'a'; c <= 'z'; c++) o += (size_t)snprintf(buf + o, sizeof buf - o, "##%c\n", c);
    o += (size_t)snprintf(buf + o, sizeof buf - o, ".\n");
    kz_wordpiece *wp = NULL;
    kz_error err;
    return kz_wordpiece_from_buffer(buf, o, NULL, &wp, &err) ? NULL : wp;
}

static int win_tokens(const kz_mlm_data *d, size_t i) { return (int)d->w[i].n_tokens; }

KZ_TEST(mlm_text_windows) {
    kz_wordpiece *wp = letters_vocab();
    KZ_CHECK(wp != NULL);
    if (!wp) return;
    kz_error err;
    kz_mlm_data d;
    /* max_len 12: 10 body tokens. Doc 1: "ab c." (4 tokens) + "de f." (4) pack into one
       window; "ghijkl mn." (9) opens the next. Blank line, doc 2: a 14-piece word is cut
       hard (10 + 4), then "o p." (3) joins the 4. Invalid UTF-8 is skipped. */
    const char text[] = "ab c. de f.\nghijkl mn.\n\n  \nqrstuvwxyzabcd o p.\n\xff\xfe bad\nz.\n";
    KZ_CHECK_INT(kz__mlm_data_from_mem(text, sizeof text - 1, wp, 12, 0, &d, &err), 0);
    KZ_CHECK_INT(d.n, 4);
    KZ_CHECK_INT(d.n_docs, 2);
    KZ_CHECK_INT(d.n_skipped, 1);
    KZ_CHECK(!d.truncated);
    if (d.n == 4) {
        KZ_CHECK_INT(win_tokens(&d, 0), 2 + 8);
        KZ_CHECK_INT(win_tokens(&d, 1), 2 + 9);
        KZ_CHECK_INT(win_tokens(&d, 2), 2 + 10);
        KZ_CHECK_INT(win_tokens(&d, 3), 2 + 4 + 3 + 2); /* "abcd" "o" "p" "." then "z" "." */
        const kz_mlm_window *w = &d.w[0];
        KZ_CHECK_INT(w->input_ids[0], 2);
        KZ_CHECK_INT(w->input_ids[w->n_tokens - 1], 3);
        KZ_CHECK_INT(w->word[0], 0);
        KZ_CHECK_INT(w->word[1], 1); /* a */
        KZ_CHECK_INT(w->word[2], 2); /* ##b */
        KZ_CHECK_INT(w->word[3], 1); /* c */
        KZ_CHECK_INT(w->word[4], 1); /* . */
        /* the cut word's second part starts a word in its window */
        KZ_CHECK_INT(d.w[3].word[1], 1);
        KZ_CHECK_INT(d.w[3].word[2], 2);
        KZ_CHECK_INT(d.w[2].word[1], 1);
        KZ_CHECK_INT(d.w[2].word[10], 2);
    }
    uint64_t tot = 0;
    for (size_t i = 0; i < d.n; i++) tot += d.w[i].n_tokens;
    KZ_CHECK_INT(tot, d.n_tokens);
    kz_mlm_data_free(&d);
    /* the token cap: reading stops, what fits is kept */
    KZ_CHECK_INT(kz__mlm_data_from_mem(text, sizeof text - 1, wp, 12, 22, &d, &err), 0);
    KZ_CHECK(d.truncated);
    KZ_CHECK_INT(d.n, 2);
    KZ_CHECK(d.n_tokens <= 22);
    kz_mlm_data_free(&d);
    /* a vocabulary without [MASK] is refused */
    kz_wordpiece *nomask = NULL;
    KZ_CHECK_INT(kz_wordpiece_from_buffer("[PAD]\n[UNK]\n[CLS]\n[SEP]\na\n", 25, NULL, &nomask, &err), 0);
    KZ_CHECK_INT(kz__mlm_data_from_mem(text, sizeof text - 1, nomask, 12, 0, &d, &err), KZ_EINVAL);
    KZ_CHECK_INT(d.n, 0);
    kz_wordpiece_free(nomask);
    kz_wordpiece_free(wp);
}

KZ_TEST(mlm_text_files_and_corpus_list) {
    kz_wordpiece *wp = letters_vocab();
    KZ_CHECK(wp != NULL);
    if (!wp) return;
    char dir[] = "/tmp/kz_mlm_XXXXXX";
    KZ_CHECK(mkdtemp(dir) != NULL);
    char p_txt[128], p_tsv[128], p_yaml[128];
    snprintf(p_txt, sizeof p_txt, "%s/a.txt", dir);
    snprintf(p_tsv, sizeof p_tsv, "%s/c.tsv", dir);
    snprintf(p_yaml, sizeof p_yaml, "%s/c.yaml", dir);
    FILE *f = fopen(p_txt, "w");
    fputs("ab cd.\n\nef gh.\n", f);
    fclose(f);
    f = fopen(p_tsv, "w"); /* three CoNLL sentences of 2 tokens: one document, packed */
    fputs("x\tO\ny\tB-GENE\n\nz\tO\nw\tO\n\nv\tO\nu\tO\n\n", f);
    fclose(f);
    f = fopen(p_yaml, "w");
    fprintf(f,
            "corpora:\n  - name: tiny\n    split: train\n    format: conll\n    path: %s\n"
            "    labels: {GENE: gene}\n",
            p_tsv);
    fclose(f);
    kz_error err;
    kz_mlm_data d;
    const char *paths[1] = {p_txt};
    KZ_CHECK_INT(kz_mlm_data_load(paths, 1, p_yaml, "train", wp, 16, 0, &d, &err), 0);
    KZ_CHECK_INT(d.n, 3); /* two text documents, one CoNLL file */
    if (d.n == 3) {
        KZ_CHECK_INT(d.w[0].n_tokens, 2 + 5);
        KZ_CHECK_INT(d.w[1].n_tokens, 2 + 5);
        KZ_CHECK_INT(d.w[2].n_tokens, 2 + 6);
    }
    KZ_CHECK_INT(d.n_docs, 3);
    KZ_CHECK_INT(d.vocab_size, 58);
    KZ_CHECK_INT(d.special.mask, 4);
    kz_mlm_data_free(&d);
    /* only the corpus list; a missing file is an error naming it */
    KZ_CHECK_INT(kz_mlm_data_load(NULL, 0, p_yaml, "train", wp, 16, 0, &d, &err), 0);
    KZ_CHECK_INT(d.n, 1);
    kz_mlm_data_free(&d);
    const char *missing[1] = {"/nonexistent/kz_mlm.txt"};
    KZ_CHECK(kz_mlm_data_load(missing, 1, NULL, NULL, wp, 16, 0, &d, &err) < 0);
    KZ_CHECK(strstr(err.path, "kz_mlm.txt") != NULL);
    unlink(p_txt), unlink(p_tsv), unlink(p_yaml), rmdir(dir);
    kz_wordpiece_free(wp);
}

/* ---- training ---------------------------------------------------------------------------- */
/* Windows over a 30-token vocabulary where each token follows from its left
 * neighbour (t+1 = t + 1 over 5..29, wrapping): a masked token is predictable. */
typedef struct syn {
    kz_mlm_data d;
    kz_mlm_window w[64];
    int32_t ids[64][12];
    uint8_t word[64][12];
} syn;

static void make_syn(syn *s, size_t n) {
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < n; i++) {
        uint32_t T = 6 + (uint32_t)(i % 6);
        s->ids[i][0] = 2, s->word[i][0] = 0;
        int32_t v = 5 + (int32_t)((i * 7) % 25);
        for (uint32_t k = 1; k + 1 < T; k++) {
            s->ids[i][k] = v;
            s->word[i][k] = 1;
            v = v == 29 ? 5 : v + 1;
        }
        s->ids[i][T - 1] = 3, s->word[i][T - 1] = 0;
        s->w[i] = (kz_mlm_window){T, s->ids[i], s->word[i]};
    }
    s->d.w = s->w;
    s->d.n = n;
    s->d.special = SP;
    s->d.vocab_size = 30;
}

static kz_bert *tiny_encoder(uint64_t seed) {
    kz_error err;
    kz_wordpiece *wp = NULL;
    if (kz_wordpiece_load(GOLD "/model/vocab.txt", NULL, &wp, &err)) return NULL;
    kz_bert_config c;
    memset(&c, 0, sizeof c);
    c.hidden = 16, c.layers = 2, c.heads = 4, c.intermediate = 32, c.max_positions = 16, c.type_vocab = 2;
    c.layer_norm_eps = 1e-12f, c.act = KZ_ACT_GELU;
    kz_bert *m = NULL;
    int rc = kz_bert_new_random(&c, wp, seed, &m, &err);
    kz_wordpiece_free(wp);
    return rc ? NULL : m;
}

static float *enc_weights(kz_bert *m, size_t *n) {
    kz_trainer *t = NULL;
    kz_error err;
    if (kz__trainer_new_obj(m, NULL, KZ__OBJ_MLM, &t, &err)) return NULL;
    /* the encoder part only: the head is new in every trainer */
    size_t np;
    const kz_tparam *pt = kz__trainer_tensors(t, &np);
    *n = 0;
    for (size_t i = 0; i < np; i++)
        if (strncmp(pt[i].name, "cls.", 4)) *n = KZ_MAX(*n, pt[i].off + pt[i].n);
    float *w = malloc(*n * 4);
    memcpy(w, kz__trainer_params(t), *n * 4);
    kz__trainer_free(t);
    return w;
}

KZ_TEST(mlm_training_is_deterministic_and_resumes_byte_identically) {
    static syn s;
    make_syn(&s, 40);
    char dir[] = "/tmp/kz_mlm_ck_XXXXXX";
    KZ_CHECK(mkdtemp(dir) != NULL);
    char pa[128], pb[128];
    snprintf(pa, sizeof pa, "%s/a.ckpt", dir);
    snprintf(pb, sizeof pb, "%s/b.ckpt", dir);
    kz_train_opts o = kz_train_default_opts();
    o.epochs = 3, o.batch_size = 4, o.grad_accum = 2, o.lr = 2e-3, o.verbose = 0, o.seed = 5;
    o.checkpoint_every = 4, o.dropout = 0.1, o.mlm_prob = 0.3;
    kz_error err;
    kz_bert *a = tiny_encoder(3), *c = tiny_encoder(3);
    KZ_CHECK(a && c);
    o.checkpoint_path = pa;
    KZ_CHECK_INT(kz_train_mlm(a, &s.d, &o, &err), 0); /* uninterrupted: 15 steps */
    o.checkpoint_path = NULL;
    KZ_CHECK_INT(kz_train_mlm(c, &s.d, &o, &err), 0);
    size_t na, nb, nc;
    float *wa = enc_weights(a, &na), *wc = enc_weights(c, &nc);
    KZ_CHECK(wa && wc && na == nc && memcmp(wa, wc, na * 4) == 0); /* same seed, same weights */
    /* interrupted twice, each time resumed into a fresh model with other weights */
    kz_bert *b = tiny_encoder(3);
    o.checkpoint_path = pb;
    o.stop_after = 5;
    KZ_CHECK_INT(kz_train_mlm(b, &s.d, &o, &err), 0);
    kz_bert_free(b);
    b = tiny_encoder(11);
    o.resume = true;
    o.stop_after = 4;
    KZ_CHECK_INT(kz_train_mlm(b, &s.d, &o, &err), 0);
    kz_bert_free(b);
    b = tiny_encoder(12);
    o.stop_after = 0;
    KZ_CHECK_INT(kz_train_mlm(b, &s.d, &o, &err), 0);
    float *wb = enc_weights(b, &nb);
    KZ_CHECK(wb && na == nb && memcmp(wa, wb, na * 4) == 0);
    size_t la, lb;
    char *ca = kz_test_read_file(pa, &la), *cb = kz_test_read_file(pb, &lb);
    KZ_CHECK(ca && cb && la == lb && memcmp(ca, cb, la) == 0); /* head and Adam state included */
    kz_train_ckpt_hdr h;
    KZ_CHECK_INT(kz__trainer_ckpt_parse(NULL, ca, la, &h, &err), 0);
    KZ_CHECK_INT(h.step, 15);
    KZ_CHECK_INT(h.objective & 0xff, 1);
    KZ_CHECK_INT(h.labels, 0);
    /* resuming with other masking, or as NER training, is refused */
    o.mlm_whole_word = true;
    KZ_CHECK_INT(kz_train_mlm(b, &s.d, &o, &err), KZ_EINVAL);
    KZ_CHECK(strstr(err.msg, "objective") != NULL);
    o.mlm_whole_word = false;
    o.mlm_prob = 0.2;
    KZ_CHECK_INT(kz_train_mlm(b, &s.d, &o, &err), KZ_EINVAL);
    /* --max-steps caps the run (and its schedule) */
    kz_bert *e = tiny_encoder(3);
    o.resume = false, o.checkpoint_path = pa, o.mlm_prob = 0.3, o.max_steps = 6;
    KZ_CHECK_INT(kz_train_mlm(e, &s.d, &o, &err), 0);
    free(ca);
    ca = kz_test_read_file(pa, &la);
    KZ_CHECK(ca && kz__trainer_ckpt_parse(NULL, ca, la, &h, &err) == 0 && h.step == 6 && h.total_steps == 6);
    free(ca), free(cb), free(wa), free(wb), free(wc);
    unlink(pa), unlink(pb), rmdir(dir);
    kz_bert_free(a), kz_bert_free(b), kz_bert_free(c), kz_bert_free(e);
}

/* Mean MLM loss over all windows with the epoch-0 masks of seed 1, under the head of trainer t. */
static double eval_loss(kz_trainer *t, const syn *s) {
    static int32_t ids[64][12], lab[64][12];
    kz_mlm_seq q[64];
    double denom = 0, loss = 0;
    for (size_t i = 0; i < s->d.n; i++) {
        denom += kz__mlm_mask(&s->w[i], 1, 0, i, 0.3, false, 30, &SP, ids[i], lab[i]);
        q[i] = (kz_mlm_seq){s->w[i].n_tokens, ids[i], lab[i]};
    }
    kz_error err;
    if (kz__trainer_step_mlm(t, q, s->d.n, denom, KZ_TRAIN_EVAL, false, &loss, NULL, &err)) return NAN;
    return loss;
}

KZ_TEST(mlm_training_learns) {
    static syn s;
    make_syn(&s, 64);
    kz_bert *m = tiny_encoder(4);
    KZ_CHECK(m != NULL);
    kz_error err;
    /* before: the untrained model with a fresh head predicts ~uniformly: log 30 */
    kz_train_opts o = kz_train_default_opts();
    o.dropout = 0;
    kz_trainer *t = NULL;
    KZ_CHECK_INT(kz__trainer_new_obj(m, &o, KZ__OBJ_MLM, &t, &err), 0);
    double l0 = eval_loss(t, &s);
    kz__trainer_free(t);
    KZ_CHECK(fabs(l0 - log(30.0)) < 0.3);
    /* train through the trainer directly so that its head survives for the evaluation */
    KZ_CHECK_INT(kz__trainer_new_obj(m, &o, KZ__OBJ_MLM, &t, &err), 0);
    static int32_t ids[64][12], lab[64][12];
    kz_mlm_seq q[64];
    for (uint64_t step = 0; step < 300; step++) {
        double denom = 0, loss = 0;
        for (size_t i = 0; i < 16; i++) {
            size_t j = (step * 16 + i) % s.d.n;
            denom += kz__mlm_mask(&s.w[j], 9, step, j, 0.3, false, 30, &SP, ids[i], lab[i]);
            q[i] = (kz_mlm_seq){s.w[j].n_tokens, ids[i], lab[i]};
        }
        kz__trainer_zero_grad(t);
        KZ_CHECK_INT(kz__trainer_step_mlm(t, q, 16, denom, step, true, &loss, NULL, &err), 0);
        kz__trainer_optimizer_step(t, 1e-2, 1.0);
    }
    double l1 = eval_loss(t, &s);
    if (!(l1 < 0.35 * l0)) /* measured: 3.41 -> 0.51 */
        kz_test_fail(__FILE__, __LINE__, "masked-LM loss %.4f -> %.4f: not learning", l0, l1);
    kz__trainer_free(t);
    kz_bert_free(m);
}

/* ---- an encoder gets a classifier ------------------------------------------------------------- */
KZ_TEST(mlm_encoder_gets_new_token_head) {
    kz_bert *m = tiny_encoder(5);
    KZ_CHECK(m != NULL);
    if (!m) return;
    KZ_CHECK_INT(kz_bert_get_config(m)->head, KZ_HEAD_NONE);
    char dir[] = "/tmp/kz_mlm_head_XXXXXX";
    KZ_CHECK(mkdtemp(dir) != NULL);
    char pe[128], pn[128];
    snprintf(pe, sizeof pe, "%s/enc.kzm", dir);
    snprintf(pn, sizeof pn, "%s/ner.kzm", dir);
    kz_error err;
    KZ_CHECK_INT(kz_bert_save(m, pe, KZ_PREC_FP32, &err), 0);
    kz_bert *r = NULL;
    KZ_CHECK_INT(kz_bert_load(pe, &r, &err), 0);
    if (!r) return;
    KZ_CHECK_INT(kz_bert_get_config(r)->head, KZ_HEAD_NONE);
    const char *labels[3] = {"B-x", "I-x", "B-y"};
    KZ_CHECK_INT(kz_bert_add_token_head(r, labels, 3, true, 77, &err), 0);
    KZ_CHECK_INT(kz_bert_add_token_head(r, labels, 3, true, 77, &err), KZ_EINVAL); /* has one now */
    const kz_bert_config *c = kz_bert_get_config(r);
    KZ_CHECK_INT(c->head, KZ_HEAD_TOKEN_CLS);
    KZ_CHECK_INT(c->num_labels, 3);
    KZ_CHECK(c->multilabel);
    KZ_CHECK_STR(c->id2label[2], "B-y");
    /* the classifier is what kz_bert_new_random draws for the same seed */
    kz_wordpiece *wp = NULL;
    KZ_CHECK_INT(kz_wordpiece_load(GOLD "/model/vocab.txt", NULL, &wp, &err), 0);
    kz_bert_config rc = *kz_bert_get_config(m);
    rc.num_labels = 3, rc.multilabel = true, rc.id2label = (char **)labels;
    kz_bert *ref = NULL;
    KZ_CHECK_INT(kz_bert_new_random(&rc, wp, 77, &ref, &err), 0);
    if (ref) {
        KZ_CHECK(memcmp(r->classifier.w, ref->classifier.w, 3 * 16 * 4) == 0);
        KZ_CHECK(r->classifier.b[0] == 0.f && r->classifier.b[2] == 0.f);
    }
    /* it trains and saves like any token classifier */
    static int32_t ids[8][6];
    static float tg[8][6 * 3];
    static uint8_t tm[8][6], lm[3] = {1, 1, 0};
    kz_train_example ex[8];
    char *names[3] = {"B-x", "I-x", "B-y"};
    for (int i = 0; i < 8; i++) {
        for (int k = 0; k < 6; k++)
            ids[i][k] = k == 0 ? 2 : k == 5 ? 3 : 5 + (i + k) % 20, tm[i][k] = k && k < 5;
        tg[i][6] = 1.f;
        ex[i] = (kz_train_example){6, ids[i], tg[i], tm[i], lm, 0};
    }
    kz_train_data d = {ex, 8, names, 3, NULL, 0, NULL};
    kz_train_opts o = kz_train_default_opts();
    o.epochs = 2, o.batch_size = 4, o.verbose = 0;
    KZ_CHECK_INT(kz_train_ner(r, &d, &o, &err), 0);
    KZ_CHECK_INT(kz_bert_save(r, pn, KZ_PREC_FP32, &err), 0);
    kz_bert *back = NULL;
    KZ_CHECK_INT(kz_bert_load(pn, &back, &err), 0);
    if (back) {
        KZ_CHECK_INT(kz_bert_get_config(back)->num_labels, 3);
        KZ_CHECK(memcmp(back->classifier.w, r->classifier.w, 3 * 16 * 4) == 0);
        /* the encoder was fine-tuned along with the new head */
        KZ_CHECK(memcmp(back->layers[0].q.w, m->layers[0].q.w, 16 * 16 * 4) != 0);
    }
    unlink(pe), unlink(pn), rmdir(dir);
    kz_bert_free(back), kz_bert_free(ref), kz_bert_free(r), kz_bert_free(m);
    kz_wordpiece_free(wp);
}
