/* Engine parity on the Kazu test checkpoint (../shared/data/models/kazu_bert_test_model:
 * hidden 8, 12 layers, 4 heads, torch zip pytorch_model.bin) loaded by kz_bert_load, with
 * the seeded random classifier head stored in tests/golden/bert/kazu_test_model.txt:
 * hidden states and logits against tools/bert_reference.py's PyTorch run. */
#include <math.h>
#include "kz_test.h"
#include "nn/nn_int.h"

#define MODEL   KZ_SHARED_DATA "/models/kazu_bert_test_model"
#define FIXTURE KZ_SOURCE_DIR "/tests/golden/bert/kazu_test_model.txt"

enum { MAXB = 4, MAXS = 16, MAXH = 8, MAXL = 8 };

typedef struct fixture {
    uint32_t hidden, labels, batch, stride;
    float head_w[MAXL * MAXH], head_b[MAXL];
    int32_t lens[MAXB], ids[MAXB * MAXS], types[MAXB * MAXS];
    float hid[MAXB * MAXS * MAXH], logits[MAXB * MAXS * MAXL];
} fixture;

static bool load_fixture(fixture *f) {
    memset(f, 0, sizeof *f);
    char *txt = kz_test_read_file(FIXTURE, NULL);
    if (!txt) return false;
    char *save = NULL;
    for (char *line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *s2 = NULL, *tok = strtok_r(line, " ", &s2);
        if (!tok || tok[0] == '#') continue;
        if (!strcmp(tok, "config")) {
            for (char *k = strtok_r(NULL, " ", &s2); k; k = strtok_r(NULL, " ", &s2)) {
                char *v = strtok_r(NULL, " ", &s2);
                if (!v) break;
                if (!strcmp(k, "hidden")) f->hidden = (uint32_t)atoi(v);
                if (!strcmp(k, "labels")) f->labels = (uint32_t)atoi(v);
            }
            if (f->hidden > MAXH || f->labels > MAXL) return false;
        } else if (!strcmp(tok, "head_weight")) {
            for (uint32_t i = 0; i < f->labels * f->hidden; i++)
                f->head_w[i] = strtof(strtok_r(NULL, " ", &s2), NULL);
        } else if (!strcmp(tok, "head_bias")) {
            for (uint32_t i = 0; i < f->labels; i++) f->head_b[i] = strtof(strtok_r(NULL, " ", &s2), NULL);
        } else if (!strcmp(tok, "batch")) {
            f->batch = (uint32_t)atoi(strtok_r(NULL, " ", &s2));
            strtok_r(NULL, " ", &s2);
            f->stride = (uint32_t)atoi(strtok_r(NULL, " ", &s2));
            if (f->batch > MAXB || f->stride > MAXS) return false;
        } else if (!strcmp(tok, "lens")) {
            for (uint32_t b = 0; b < f->batch; b++) f->lens[b] = atoi(strtok_r(NULL, " ", &s2));
        } else if (!strcmp(tok, "ids") || !strcmp(tok, "types")) {
            int32_t *dst = tok[0] == 'i' ? f->ids : f->types;
            uint32_t b = (uint32_t)atoi(strtok_r(NULL, " ", &s2));
            for (int32_t t = 0; t < f->lens[b]; t++) dst[b * f->stride + t] = atoi(strtok_r(NULL, " ", &s2));
        } else if (!strcmp(tok, "hidden") || !strcmp(tok, "logits")) {
            bool h = tok[0] == 'h';
            uint32_t b = (uint32_t)atoi(strtok_r(NULL, " ", &s2)),
                     t = (uint32_t)atoi(strtok_r(NULL, " ", &s2));
            uint32_t n = h ? f->hidden : f->labels;
            float *dst = (h ? f->hid : f->logits) + ((size_t)b * f->stride + t) * n;
            for (uint32_t i = 0; i < n; i++) dst[i] = strtof(strtok_r(NULL, " ", &s2), NULL);
        }
    }
    free(txt);
    return f->batch && f->hidden && f->labels;
}

static void set_env(const char *gemm, bool portable) {
    if (gemm)
        setenv("KZ_NN_GEMM", gemm, 1);
    else
        unsetenv("KZ_NN_GEMM");
    if (portable)
        setenv("KZ_NN_FORCE_PORTABLE", "1", 1);
    else
        unsetenv("KZ_NN_FORCE_PORTABLE");
}

KZ_TEST(kazu_test_checkpoint_matches_pytorch) {
    if (!kz_test_have_shared_data()) {
        printf("  SKIP: no shared data\n");
        return;
    }
    static fixture f;
    KZ_CHECK(load_fixture(&f));
    kz_bert *m = NULL;
    kz_error err = {0};
    int rc = kz_bert_load(MODEL, &m, &err);
    if (rc) fprintf(stderr, "  load: %s\n", err.msg);
    KZ_CHECK_INT(rc, 0);
    KZ_CHECK_INT(m->cfg.hidden, f.hidden);
    KZ_CHECK_INT(m->cfg.layers, 12);
    KZ_CHECK_INT(m->cfg.vocab_size, 30522); /* embedding rows, not the 28,996-token vocab.txt */
    /* attach the fixture's random token-classification head */
    m->cfg.head = KZ_HEAD_TOKEN_CLS;
    m->cfg.num_labels = f.labels;
    m->classifier = (kz_bert_linear){.w = f.head_w, .b = f.head_b, .in = f.hidden, .out = f.labels};
    static const struct {
        const char *label, *gemm;
        bool portable;
        kz_precision prec;
    } cfgs[] = {{"fp32 default", NULL, false, KZ_PREC_FP32},
                {"fp32 own", "own", false, KZ_PREC_FP32},
                {"fp32 portable", NULL, true, KZ_PREC_FP32},
                {"bf16", NULL, false, KZ_PREC_BF16},
                {"int8", NULL, false, KZ_PREC_INT8}};
    for (size_t ci = 0; ci < sizeof cfgs / sizeof cfgs[0]; ci++) {
        set_env(cfgs[ci].gemm, cfgs[ci].portable);
        kz_bert_engine *e = NULL;
        kz_bert_engine_opts o = {cfgs[ci].prec, 1};
        rc = kz_bert_engine_new(m, &o, &e, &err);
        KZ_CHECK_INT(rc, 0);
        kz_bert_ctx *c = kz_bert_ctx_new(e);
        float hid[MAXB * MAXS * MAXH], logits[MAXB * MAXS * MAXL];
        kz_bert_batch in = {f.ids, f.types, f.lens, f.batch, f.stride};
        kz_bert_out out = {logits, hid, NULL, false};
        rc = kz_bert_forward(e, c, &in, &out, &err);
        KZ_CHECK_INT(rc, 0);
        double dh = 0, dl = 0;
        for (uint32_t b = 0; b < f.batch; b++)
            for (int32_t t = 0; t < f.lens[b]; t++) {
                size_t r = (size_t)b * f.stride + (size_t)t;
                for (uint32_t i = 0; i < f.hidden; i++)
                    dh = fmax(dh, fabs(hid[r * f.hidden + i] - f.hid[r * f.hidden + i]));
                for (uint32_t i = 0; i < f.labels; i++)
                    dl = fmax(dl, fabs(logits[r * f.labels + i] - f.logits[r * f.labels + i]));
            }
        printf("  %-14s [%s] max|dhidden| %.3g  max|dlogit| %.3g\n", cfgs[ci].label,
               kz_bert_engine_backend(e), dh, dl);
        kz_bert_ctx_free(c);
        kz_bert_engine_free(e);
        double tol = cfgs[ci].prec == KZ_PREC_FP32 ? 1e-4 : cfgs[ci].prec == KZ_PREC_BF16 ? 5e-3 : 0.05;
        KZ_CHECK(dh <= tol && dl <= tol);
    }
    set_env(NULL, false);
    m->cfg.head = KZ_HEAD_NONE;
    m->cfg.num_labels = 0;
    memset(&m->classifier, 0, sizeof m->classifier);
    kz_bert_free(m);
}
