/* Multi-label BIO decoding (labels "B-<class>"/"I-<class>" with sigmoid
 * outputs, the models `kazu train` makes): per class, B starts (closing the
 * open span), I continues, neither closes; orphan I ignored; Kazu's ( ) ;
 * rule; only the first sub-token of a word is read. */
#include <math.h>

#include "kazu/doc.h"
#include "kz_test.h"
#include "ner/ner_int.h"

typedef struct fx {
    kz_ner_labels l;
    kz_ner_word w[16];
    float act[64 * 8];
    size_t nw, ntok;
    kz_ner_span *sp;
    size_t nsp, cap;
} fx;

/* labels: B-gene I-gene B-disease I-disease (logits: > 0 is on) */
static const char *k_labels[] = {"B-gene", "I-gene", "B-disease", "I-disease"};

static void word(fx *f, int64_t s, int64_t e, int bits, int ntok) {
    f->w[f->nw++] = (kz_ner_word){s, e, (uint32_t)f->ntok, (uint32_t)ntok};
    for (int t = 0; t < ntok; t++, f->ntok++)
        for (int j = 0; j < 4; j++)
            f->act[f->ntok * 4 + (size_t)j] =
                t == 0 ? ((bits >> j) & 1 ? 2.0f : -2.0f) : 2.0f; /* later sub-tokens: noise */
}
enum { BG = 1, IG = 2, BD = 4, ID = 8 };

static int run(fx *f, const char *text) {
    return kz__ner_find_spans(&f->l, text, strlen(text), f->w, f->nw, f->act, &f->sp, &f->nsp, &f->cap);
}

static bool has(const fx *f, const char *cls, int64_t s, int64_t e) {
    for (size_t i = 0; i < f->nsp; i++)
        if (!strcmp(f->l.classes[f->sp[i].cls], cls) && f->sp[i].start == s && f->sp[i].end == e) return true;
    return false;
}

KZ_TEST(test_mlbio_labels) {
    fx f = {0};
    KZ_CHECK_INT(kz__ner_labels_init(&f.l, k_labels, 4, true, NULL), 0);
    KZ_CHECK_INT(f.l.n_classes, 2);
    KZ_CHECK_STR(f.l.classes[0], "gene");
    KZ_CHECK_STR(f.l.classes[1], "disease");
    KZ_CHECK_INT(f.l.bio[0], KZ_NER_BIO_B);
    KZ_CHECK_INT(f.l.bio[1], KZ_NER_BIO_OTHER);
    kz__ner_labels_free(&f.l);
    /* class-named multilabel labels keep their meaning ("B-cell" is not BIO when others are not) */
    static const char *named[] = {"gene", "B-cell"};
    KZ_CHECK_INT(kz__ner_labels_init(&f.l, named, 2, true, NULL), 0);
    KZ_CHECK_STR(f.l.classes[1], "B-cell");
    kz__ner_labels_free(&f.l);
}

KZ_TEST(test_mlbio_spans) {
    /* "BRCA1 gene causes breast cancer BRCA1 BRCA2"
     *  0 BRCA1 5, 6 gene 10, 11 causes 17, 18 breast 24, 25 cancer 31, 32 BRCA1 37, 38 BRCA2 43 */
    const char *t = "BRCA1 gene causes breast cancer BRCA1 BRCA2";
    fx f = {0};
    KZ_CHECK_INT(kz__ner_labels_init(&f.l, k_labels, 4, true, NULL), 0);
    word(&f, 0, 5, BG, 2);        /* BRCA ##1: the second sub-token's outputs are ignored */
    word(&f, 6, 10, IG, 1);       /* continues the gene */
    word(&f, 11, 17, 0, 1);       /* closes */
    word(&f, 18, 24, BD | ID, 1); /* B wins: starts disease (I alone would be an orphan) */
    word(&f, 25, 31, ID | BG, 1); /* continues disease; gene starts */
    word(&f, 32, 37, BG | ID, 1); /* gene: B closes "cancer" and starts; disease continues */
    word(&f, 38, 43, BG, 1);      /* gene: B closes and starts; disease closes */
    KZ_CHECK_INT(run(&f, t), 0);
    KZ_CHECK_INT(f.nsp, 5);
    KZ_CHECK(has(&f, "gene", 0, 10));
    KZ_CHECK(has(&f, "disease", 18, 37));
    KZ_CHECK(has(&f, "gene", 25, 31));
    KZ_CHECK(has(&f, "gene", 32, 37));
    KZ_CHECK(has(&f, "gene", 38, 43));
    free(f.sp);
    kz__ner_labels_free(&f.l);
}

KZ_TEST(test_mlbio_orphan_and_breaks) {
    /* "x (HNF)-6 y": 0 x 1, 2 ( 3, 3 HNF 6, 6 ) 7, 7 - 8, 8 6 9, 10 y 11 */
    const char *t = "x (HNF)-6 y";
    fx f = {0};
    KZ_CHECK_INT(kz__ner_labels_init(&f.l, k_labels, 4, true, NULL), 0);
    word(&f, 0, 1, IG, 1); /* orphan I: ignored */
    word(&f, 2, 3, BG, 1); /* "(" starts */
    word(&f, 3, 6, IG, 1); /* after "(": breaks, the I is then an orphan */
    word(&f, 6, 7, BG, 1); /* ")" starts */
    word(&f, 7, 8, IG, 1); /* after ")": breaks */
    word(&f, 8, 9, IG, 1); /* orphan */
    word(&f, 10, 11, 0, 1);
    KZ_CHECK_INT(run(&f, t), 0);
    KZ_CHECK_INT(f.nsp, 2);
    KZ_CHECK(has(&f, "gene", 2, 3));
    KZ_CHECK(has(&f, "gene", 6, 7));
    free(f.sp);
    kz__ner_labels_free(&f.l);
}

KZ_TEST(test_mlbio_threshold) {
    /* "a b": logits B-gene 0.5 then I-gene -0.5 (sigmoid 0.62, 0.38): at the
     * default threshold 0.5 only "a" is a gene; at 0.3 (logit -0.85) "a b". */
    const char *t = "a b";
    for (int pass = 0; pass < 2; pass++) {
        fx f = {0};
        KZ_CHECK_INT(kz__ner_labels_init(&f.l, k_labels, 4, true, NULL), 0);
        KZ_CHECK(f.l.logit_threshold == 0.0f);
        if (pass) f.l.logit_threshold = (float)log(0.3 / 0.7);
        word(&f, 0, 1, 0, 1);
        word(&f, 2, 3, 0, 1);
        for (int j = 0; j < 4; j++) f.act[j] = f.act[4 + j] = -3.0f;
        f.act[0] = 0.5f;  /* B-gene on word 0 */
        f.act[5] = -0.5f; /* I-gene on word 1 */
        KZ_CHECK_INT(run(&f, t), 0);
        KZ_CHECK_INT(f.nsp, 1);
        KZ_CHECK(has(&f, "gene", 0, pass ? 3 : 1));
        free(f.sp);
        kz__ner_labels_free(&f.l);
    }
}
