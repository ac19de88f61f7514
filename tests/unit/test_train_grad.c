/* The trainer: gradients against PyTorch 1.13 (tests/golden/train, made by
 * tools/train_reference.py) and against finite differences for every parameter
 * group, with dropout on; loss going down on a small synthetic task; same seed ->
 * identical weights; stop + resume from a checkpoint -> byte-identical weights. */
#include <math.h>
#include <unistd.h>
#include "kz_test.h"
#include "kazu/train.h"
#include "nn/load_int.h"
#include "train/train_int.h"

#define GOLD KZ_SOURCE_DIR "/tests/golden/train"

/* ---- the fixture batch ----------------------------------------------------------- */
enum { MAXB = 4, MAXT = 16, NL = 5 };
typedef struct fx {
    int nb;
    double loss_bce, loss_ce;
    int32_t ids[MAXB][MAXT];
    uint8_t tm[MAXB][MAXT], lm[MAXB][NL];
    float tg[MAXB][MAXT * NL], tce[MAXB][MAXT * NL];
    kz_train_example ex[MAXB], exce[MAXB];
} fx;

static bool read_fx(fx *f) {
    memset(f, 0, sizeof *f);
    char *txt = kz_test_read_file(GOLD "/batch.txt", NULL);
    if (!txt) return false;
    char *save = NULL;
    int b = -1, T = 0;
    for (char *line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *p = line, *end;
        if (!strncmp(p, "loss_bce ", 9)) f->loss_bce = strtod(p + 9, NULL);
        if (!strncmp(p, "loss_ce ", 8)) f->loss_ce = strtod(p + 8, NULL);
        if (!strncmp(p, "seq ", 4)) {
            b++;
            T = atoi(p + 4);
            if (b >= MAXB || T > MAXT) break;
            f->ex[b].n_tokens = (uint32_t)T;
            f->nb = b + 1;
        }
        if (b < 0) continue;
        int n = 0;
        if (!strncmp(p, "ids ", 4))
            for (p += 4; n < T; n++, p = end) f->ids[b][n] = (int32_t)strtol(p, &end, 10);
        else if (!strncmp(p, "tmask ", 6))
            for (p += 6; n < T; n++, p = end) f->tm[b][n] = (uint8_t)strtol(p, &end, 10);
        else if (!strncmp(p, "lmask ", 6))
            for (p += 6; n < NL; n++, p = end) f->lm[b][n] = (uint8_t)strtol(p, &end, 10);
        else if (!strncmp(p, "targets ", 8))
            for (p += 8; n < T * NL; n++, p = end) f->tg[b][n] = strtof(p, &end);
        else if (!strncmp(p, "targets_ce ", 11))
            for (p += 11; n < T * NL; n++, p = end) f->tce[b][n] = strtof(p, &end);
    }
    free(txt);
    for (int i = 0; i < f->nb; i++) {
        f->ex[i].input_ids = f->ids[i];
        f->ex[i].token_mask = f->tm[i];
        f->ex[i].label_mask = f->lm[i];
        f->ex[i].targets = f->tg[i];
        f->exce[i] = f->ex[i];
        f->exce[i].targets = f->tce[i];
    }
    return f->nb == 3;
}

static double batch_loss(kz_trainer *t, const kz_train_example *ex, int nb, bool grad, uint64_t rng) {
    const kz_train_example *px[MAXB];
    double denom = 0, loss = 0;
    for (int i = 0; i < nb; i++) {
        px[i] = &ex[i];
        denom += kz__trainer_cells(t, &ex[i]);
    }
    kz_error err;
    if (kz__trainer_step_batch(t, px, (size_t)nb, denom, rng, grad, &loss, NULL, &err)) return NAN;
    return loss;
}

static void check_vs_torch(bool multilabel) {
    fx f;
    KZ_CHECK(read_fx(&f));
    kz_error err;
    kz_bert *m = NULL;
    KZ_CHECK_INT(kz_bert_load(GOLD "/model", &m, &err), 0);
    m->cfg.multilabel = multilabel;
    kz_train_opts o = kz_train_default_opts();
    o.dropout = 0;
    kz_trainer *t = NULL;
    KZ_CHECK_INT(kz__trainer_new(m, &o, &t, &err), 0);
    kz__trainer_zero_grad(t);
    double loss = batch_loss(t, multilabel ? f.ex : f.exce, f.nb, true, 0);
    double want = multilabel ? f.loss_bce : f.loss_ce;
    if (fabs(loss - want) > 1e-5 * fabs(want))
        kz_test_fail(__FILE__, __LINE__, "loss %.9g vs torch %.9g", loss, want);
    kz_tensor_table tt;
    memset(&tt, 0, sizeof tt);
    KZ_CHECK_INT(kz__safetensors_read(
                     multilabel ? GOLD "/grads_bce.safetensors" : GOLD "/grads_ce.safetensors", &tt, &err),
                 0);
    size_t np;
    const kz_tparam *pt = kz__trainer_tensors(t, &np);
    const float *g = kz__trainer_grads(t);
    KZ_CHECK_INT(np, tt.n);
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
    }
    kz__tensor_table_free(&tt);
    kz__trainer_free(t);
    kz_bert_free(m);
}

KZ_TEST(train_grad_matches_torch_bce) { check_vs_torch(true); }
KZ_TEST(train_grad_matches_torch_softmax_ce) { check_vs_torch(false); }

/* Central differences on the largest gradient entries of every tensor (plus one
 * random entry), with dropout 0.2 (the masks are fixed by the rng step). */
static void check_fd(bool multilabel) {
    fx f;
    KZ_CHECK(read_fx(&f));
    kz_error err;
    kz_bert *m = NULL;
    KZ_CHECK_INT(kz_bert_load(GOLD "/model", &m, &err), 0);
    m->cfg.multilabel = multilabel;
    kz_train_opts o = kz_train_default_opts();
    o.dropout = 0.2;
    kz_trainer *t = NULL;
    KZ_CHECK_INT(kz__trainer_new(m, &o, &t, &err), 0);
    const kz_train_example *ex = multilabel ? f.ex : f.exce;
    kz__trainer_zero_grad(t);
    batch_loss(t, ex, f.nb, true, 77);
    size_t np;
    const kz_tparam *pt = kz__trainer_tensors(t, &np);
    float *w = kz__trainer_params(t);
    float *g = malloc(kz__trainer_n_params(t) * 4);
    memcpy(g, kz__trainer_grads(t), kz__trainer_n_params(t) * 4);
    int checked = 0, bad = 0;
    for (size_t i = 0; i < np; i++) {
        size_t pick[4] = {0, 0, 0, 0};
        for (int r = 0; r < 3; r++) { /* three largest distinct entries */
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
            double lp = batch_loss(t, ex, f.nb, false, 77);
            w[k] = w0 - h;
            double lm = batch_loss(t, ex, f.nb, false, 77);
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
    free(g);
    kz__trainer_free(t);
    kz_bert_free(m);
}

KZ_TEST(train_grad_finite_differences_bce_dropout) { check_fd(true); }
KZ_TEST(train_grad_finite_differences_ce_dropout) { check_fd(false); }

/* ---- a synthetic task --------------------------------------------------------------- */
/* Token ids 5..29; label "B-x" (0) when id < 12, "I-x" (1) when id >= 24; label 2 is
 * never supervised (masked) and its random targets must not matter. */
typedef struct syn {
    kz_train_data d;
    kz_train_example ex[96];
    int32_t ids[96][12];
    float tg[96][12 * 3];
    uint8_t tm[96][12], lm[3];
    char *labels[3];
} syn;

static void make_syn(syn *s, size_t n) {
    memset(s, 0, sizeof *s);
    uint64_t st = 12345;
    static char l0[] = "B-x", l1[] = "I-x", l2[] = "B-y";
    s->labels[0] = l0, s->labels[1] = l1, s->labels[2] = l2;
    s->lm[0] = s->lm[1] = 1;
    for (size_t i = 0; i < n; i++) {
        uint32_t T = 4 + (uint32_t)(i % 8);
        s->ids[i][0] = 2;
        for (uint32_t k = 1; k + 1 < T; k++) {
            st = st * 6364136223846793005ull + 1442695040888963407ull;
            int32_t id = 5 + (int32_t)((st >> 33) % 25);
            s->ids[i][k] = id;
            s->tm[i][k] = 1;
            s->tg[i][k * 3 + 0] = id < 12;
            s->tg[i][k * 3 + 1] = id >= 24 ? 0.9f : 0.f; /* soft */
            s->tg[i][k * 3 + 2] = (float)((st >> 20) & 1);
        }
        s->ids[i][T - 1] = 3;
        s->ex[i] = (kz_train_example){T, s->ids[i], s->tg[i], s->tm[i], s->lm, 0};
    }
    s->d.ex = s->ex;
    s->d.n = n;
    s->d.labels = s->labels;
    s->d.n_labels = 3;
}

static kz_bert *tiny_random(uint64_t seed) {
    kz_error err;
    kz_wordpiece *wp = NULL;
    if (kz_wordpiece_load(GOLD "/model/vocab.txt", NULL, &wp, &err)) return NULL;
    char *names[3] = {"B-x", "I-x", "B-y"};
    kz_bert_config c;
    memset(&c, 0, sizeof c);
    c.hidden = 16, c.layers = 2, c.heads = 4, c.intermediate = 32, c.max_positions = 16, c.type_vocab = 2;
    c.layer_norm_eps = 1e-12f, c.act = KZ_ACT_GELU, c.num_labels = 3, c.multilabel = true, c.id2label = names;
    kz_bert *m = NULL;
    int rc = kz_bert_new_random(&c, wp, seed, &m, &err);
    kz_wordpiece_free(wp);
    return rc ? NULL : m;
}

static double data_loss(kz_bert *m, const kz_train_data *d) {
    kz_trainer *t = NULL;
    kz_error err;
    kz_train_opts o = kz_train_default_opts();
    o.dropout = 0;
    if (kz__trainer_new(m, &o, &t, &err)) return NAN;
    const kz_train_example *px[96];
    double denom = 0, loss = 0;
    for (size_t i = 0; i < d->n; i++) px[i] = &d->ex[i], denom += kz__trainer_cells(t, &d->ex[i]);
    int rc = kz__trainer_step_batch(t, px, d->n, denom, KZ_TRAIN_EVAL, false, &loss, NULL, &err);
    kz__trainer_free(t);
    return rc ? NAN : loss;
}

static float *weights_of(kz_bert *m, size_t *n) {
    kz_trainer *t = NULL;
    kz_error err;
    if (kz__trainer_new(m, NULL, &t, &err)) return NULL;
    *n = kz__trainer_n_params(t);
    float *w = malloc(*n * 4);
    memcpy(w, kz__trainer_params(t), *n * 4);
    kz__trainer_free(t);
    return w;
}

KZ_TEST(train_random_model_shape_and_save) {
    kz_bert *m = tiny_random(1);
    KZ_CHECK(m != NULL);
    KZ_CHECK_INT(kz_bert_get_config(m)->vocab_size, 30);
    KZ_CHECK(kz_bert_tokenizer(m) != NULL);
    char path[] = "/tmp/kz_train_test_XXXXXX";
    int fd = mkstemp(path);
    KZ_CHECK(fd >= 0);
    close(fd);
    kz_error err;
    KZ_CHECK_INT(kz_bert_save(m, path, KZ_PREC_FP32, &err), 0);
    kz_bert *r = NULL;
    KZ_CHECK_INT(kz_bert_load(path, &r, &err), 0);
    KZ_CHECK(memcmp(kz_bert_get_config(r), kz_bert_get_config(m), offsetof(kz_bert_config, layer_norm_eps)) ==
             0);
    KZ_CHECK_INT(kz_wordpiece_vocab_size(kz_bert_tokenizer(r)), 30);
    KZ_CHECK_STR(kz_bert_get_config(r)->id2label[1], "I-x");
    unlink(path);
    kz_bert_free(r);
    kz_bert_free(m);
}

KZ_TEST(train_loss_decreases_and_is_deterministic) {
    static syn s;
    make_syn(&s, 64);
    kz_bert *a = tiny_random(7), *b = tiny_random(7);
    KZ_CHECK(a && b);
    double l0 = data_loss(a, &s.d);
    kz_train_opts o = kz_train_default_opts();
    o.epochs = 40, o.batch_size = 8, o.grad_accum = 2, o.lr = 5e-3, o.verbose = 0, o.seed = 99;
    kz_error err;
    KZ_CHECK_INT(kz_train_ner(a, &s.d, &o, &err), 0);
    KZ_CHECK_INT(kz_train_ner(b, &s.d, &o, &err), 0);
    double l1 = data_loss(a, &s.d);
    if (!(l1 < 0.3 * l0)) kz_test_fail(__FILE__, __LINE__, "loss %.4f -> %.4f: not learning", l0, l1);
    size_t na, nb;
    float *wa = weights_of(a, &na), *wb = weights_of(b, &nb);
    KZ_CHECK(wa && wb && na == nb);
    KZ_CHECK(memcmp(wa, wb, na * 4) == 0);
    /* another seed gives other weights */
    kz_bert *c = tiny_random(7);
    o.seed = 100;
    KZ_CHECK_INT(kz_train_ner(c, &s.d, &o, &err), 0);
    size_t nc;
    float *wc = weights_of(c, &nc);
    KZ_CHECK(wc && memcmp(wa, wc, na * 4) != 0);
    free(wa), free(wb), free(wc);
    kz_bert_free(a), kz_bert_free(b), kz_bert_free(c);
}

KZ_TEST(train_checkpoint_resume_is_byte_identical) {
    static syn s;
    make_syn(&s, 40);
    char dir[] = "/tmp/kz_train_ck_XXXXXX";
    KZ_CHECK(mkdtemp(dir) != NULL);
    char pa[128], pb[128];
    snprintf(pa, sizeof pa, "%s/a.ckpt", dir);
    snprintf(pb, sizeof pb, "%s/b.ckpt", dir);
    kz_train_opts o = kz_train_default_opts();
    o.epochs = 3, o.batch_size = 4, o.grad_accum = 2, o.lr = 2e-3, o.verbose = 0, o.seed = 5;
    o.checkpoint_every = 4, o.dropout = 0.1;
    kz_error err;
    kz_bert *a = tiny_random(3);
    o.checkpoint_path = pa;
    KZ_CHECK_INT(kz_train_ner(a, &s.d, &o, &err), 0); /* uninterrupted: 15 steps */
    /* interrupted twice (after 5, then 4 more steps), each time resumed into a fresh model */
    kz_bert *b = tiny_random(3);
    o.checkpoint_path = pb;
    o.stop_after = 5;
    KZ_CHECK_INT(kz_train_ner(b, &s.d, &o, &err), 0);
    kz_bert_free(b);
    b = tiny_random(11); /* other initial weights: the checkpoint must replace them */
    o.resume = true;
    o.stop_after = 4;
    KZ_CHECK_INT(kz_train_ner(b, &s.d, &o, &err), 0);
    kz_bert_free(b);
    b = tiny_random(12);
    o.stop_after = 0;
    KZ_CHECK_INT(kz_train_ner(b, &s.d, &o, &err), 0);
    size_t na, nb;
    float *wa = weights_of(a, &na), *wb = weights_of(b, &nb);
    KZ_CHECK(wa && wb && na == nb);
    KZ_CHECK(memcmp(wa, wb, na * 4) == 0);
    /* both final checkpoints are identical files */
    size_t la, lb;
    char *ca = kz_test_read_file(pa, &la), *cb = kz_test_read_file(pb, &lb);
    KZ_CHECK(ca && cb && la == lb && memcmp(ca, cb, la) == 0);
    kz_train_ckpt_hdr h;
    KZ_CHECK_INT(kz__trainer_ckpt_parse(NULL, ca, la, &h, &err), 0);
    KZ_CHECK_INT(h.step, 15);
    /* damaged images are refused */
    KZ_CHECK(kz__trainer_ckpt_parse(NULL, ca, la - 1, &h, &err) != 0);
    ca[la / 2] ^= 1;
    KZ_CHECK(kz__trainer_ckpt_parse(NULL, ca, la, &h, &err) != 0);
    /* a checkpoint from other settings is refused on resume */
    o.batch_size = 5;
    KZ_CHECK(kz_train_ner(b, &s.d, &o, &err) != 0);
    free(ca), free(cb), free(wa), free(wb);
    unlink(pa), unlink(pb), rmdir(dir);
    kz_bert_free(a), kz_bert_free(b);
}
