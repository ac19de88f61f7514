/* Entity-level strict P/R/F1 as seqeval computes it, on hand-computed cases:
 * exact matches, boundary errors, type mismatches, nested and overlapping
 * same-class spans (read back from their per-class IOB2 tagging), classes
 * scored independently (the multi-label protocol), micro/macro averages. */
#include <math.h>
#include "eval/eval_int.h"
#include "kazu/kazu.h"
#include "kz_test.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static kz_doc *mk(const char *text, const char *const *cls, const int64_t (*sp)[2], size_t n) {
    kz_doc *d = kz_doc_new("d", 1);
    kz_section *sec;
    kz_doc_add_section(d, "text", 4, text, strlen(text), &sec, NULL);
    for (size_t i = 0; i < n; i++) {
        kz_span s = {sp[i][0], sp[i][1]};
        kz_entity_init init = {.spans = &s,
                               .n_spans = 1,
                               .entity_class = kz_str_c(cls[i]),
                               .namespace_ = kz_str_c("t"),
                               .mention_confidence = KZ_MENTION_HIGHLY_LIKELY};
        kz_section_add_entity(d, sec, &init, NULL, NULL);
    }
    return d;
}

static kz__prf_counts cell(const kz__ner_eval *ev, int corpus, const char *cls) {
    for (uint32_t c = 0; c < ev->n_classes; c++)
        if (!strcmp(ev->classes[c], cls)) return ev->c[(size_t)corpus * ev->cap_classes + c];
    return (kz__prf_counts){999, 999, 999};
}

KZ_TEST(test_chunks_from_tagging) {
    /* "lung cancer risk": gold disease "lung cancer" [0,11) and nested "cancer" [5,11):
     * tags B B O -> chunks "lung" [0,4) and "cancer" [5,11) */
    const char *t = "lung cancer risk";
    kz_span s[3] = {{5, 11}, {0, 11}}, c[3];
    KZ_CHECK_INT(kz__ner_chunks(s, 2, c, t, strlen(t)), 2);
    KZ_CHECK_INT(c[0].start, 0);
    KZ_CHECK_INT(c[0].end, 4);
    KZ_CHECK_INT(c[1].start, 5);
    KZ_CHECK_INT(c[1].end, 11);
    /* overlap [0,11) and [5,16): B B I -> [0,4) [5,16) */
    kz_span o[2] = {{0, 11}, {5, 16}};
    KZ_CHECK_INT(kz__ner_chunks(o, 2, c, t, strlen(t)), 2);
    KZ_CHECK_INT(c[0].end, 4);
    KZ_CHECK_INT(c[1].start, 5);
    KZ_CHECK_INT(c[1].end, 16);
    /* duplicates and same start: one chunk covering the union: B I */
    kz_span u[3] = {{0, 4}, {0, 11}, {0, 4}};
    KZ_CHECK_INT(kz__ner_chunks(u, 3, c, t, strlen(t)), 1);
    KZ_CHECK_INT(c[0].end, 11);
    /* adjacent [0,4) [5,11): two chunks, untouched */
    kz_span a[2] = {{5, 11}, {0, 4}};
    KZ_CHECK_INT(kz__ner_chunks(a, 2, c, t, strlen(t)), 2);
    KZ_CHECK_INT(c[0].end, 4);
    KZ_CHECK_INT(c[1].end, 11);
    KZ_CHECK_INT(kz__ner_chunks(a, 0, c, t, strlen(t)), 0);
}

KZ_TEST(test_score_cases) {
    /* seqeval by hand on "EGFR and HER2 cause lung cancer in mice":
     *  0 EGFR 4, 9 HER2 13, 20 lung 24, 25 cancer 31, 35 mice 39 */
    const char *t = "EGFR and HER2 cause lung cancer in mice";
    static const char *gc[] = {"gene", "gene", "disease", "species"};
    static const int64_t gs[][2] = {{0, 4}, {9, 13}, {20, 31}, {35, 39}};
    /* pred: EGFR ok; "HER2 cause" boundary error; "cancer" boundary error;
     * "mice" as gene: type mismatch (fp gene, fn species) */
    static const char *pc[] = {"gene", "gene", "disease", "gene"};
    static const int64_t ps[][2] = {{0, 4}, {9, 19}, {25, 31}, {35, 39}};
    kz_doc *g = mk(t, gc, gs, 4), *p = mk(t, pc, ps, 4);
    kz__ner_eval ev;
    kz__ner_eval_init(&ev);
    int k = kz__ner_eval_corpus(&ev, "C");
    KZ_CHECK_INT(kz__ner_eval_doc(&ev, (uint32_t)k, g, p, NULL, 0, NULL), 0);
    kz__prf_counts gene = cell(&ev, k, "gene"), dis = cell(&ev, k, "disease"), sp = cell(&ev, k, "species");
    KZ_CHECK_INT(gene.tp, 1);
    KZ_CHECK_INT(gene.fp, 2);
    KZ_CHECK_INT(gene.fn, 1);
    KZ_CHECK_INT(dis.tp, 0);
    KZ_CHECK_INT(dis.fp, 1);
    KZ_CHECK_INT(dis.fn, 1);
    KZ_CHECK_INT(sp.tp, 0);
    KZ_CHECK_INT(sp.fp, 0);
    KZ_CHECK_INT(sp.fn, 1);
    /* gene: P = 1/3, R = 1/2, F1 = 2*(1/3)(1/2)/(5/6) = 0.4 */
    kz__prf pg = kz__prf_of(gene);
    KZ_CHECK(NEAR(pg.p, 1.0 / 3) && NEAR(pg.r, 0.5) && NEAR(pg.f1, 0.4));
    /* micro: tp 1, fp 3, fn 3 -> P = R = F1 = 0.25 (seqeval's micro avg) */
    kz__prf m = kz__prf_of(kz__ner_eval_micro(&ev, k));
    KZ_CHECK(NEAR(m.p, 0.25) && NEAR(m.r, 0.25) && NEAR(m.f1, 0.25));
    /* macro F1: (0.4 + 0 + 0) / 3 */
    KZ_CHECK(NEAR(kz__ner_eval_macro(&ev, k).f1, 0.4 / 3));
    /* restricted to the corpus's classes: the gene prediction on "mice" is ignored
     * when only species is scored, and still a miss for species */
    kz__ner_eval e2;
    kz__ner_eval_init(&e2);
    int k2 = kz__ner_eval_corpus(&e2, "C");
    static const char *only[] = {"species", "drug"};
    KZ_CHECK_INT(kz__ner_eval_doc(&e2, (uint32_t)k2, g, p, only, 2, NULL), 0);
    KZ_CHECK_INT(cell(&e2, k2, "species").fn, 1);
    KZ_CHECK_INT(cell(&e2, k2, "drug").tp + cell(&e2, k2, "drug").fp + cell(&e2, k2, "drug").fn, 0);
    KZ_CHECK_INT(cell(&e2, k2, "gene").tp, 999); /* never scored */
    KZ_CHECK_INT(kz__ner_eval_micro(&e2, k2).fn, 1);
    kz__ner_eval_free(&e2);
    kz__ner_eval_free(&ev);
    kz_doc_free(g);
    kz_doc_free(p);
}

KZ_TEST(test_nested_and_multilabel) {
    /* gold: disease "lung cancer" + nested disease "cancer" (tags B B -> "lung",
     * "cancer"), and gene "cancer" on the same words (another class's rows) */
    const char *t = "lung cancer";
    static const char *gc[] = {"disease", "disease", "gene"};
    static const int64_t gs[][2] = {{0, 11}, {5, 11}, {5, 11}};
    /* pred 1: the outer span only -> disease chunk "lung cancer": tp 0 fp 1 fn 2 */
    static const char *p1c[] = {"disease", "gene"};
    static const int64_t p1s[][2] = {{0, 11}, {5, 11}};
    /* pred 2: "lung" and "cancer" -> tp 2 */
    static const char *p2c[] = {"disease", "disease"};
    static const int64_t p2s[][2] = {{0, 4}, {5, 11}};
    kz_doc *g = mk(t, gc, gs, 3), *p1 = mk(t, p1c, p1s, 2), *p2 = mk(t, p2c, p2s, 2);
    kz__ner_eval ev;
    kz__ner_eval_init(&ev);
    int a = kz__ner_eval_corpus(&ev, "A"), b = kz__ner_eval_corpus(&ev, "B");
    KZ_CHECK_INT(kz__ner_eval_doc(&ev, (uint32_t)a, g, p1, NULL, 0, NULL), 0);
    KZ_CHECK_INT(kz__ner_eval_doc(&ev, (uint32_t)b, g, p2, NULL, 0, NULL), 0);
    kz__prf_counts d1 = cell(&ev, a, "disease"), d2 = cell(&ev, b, "disease");
    KZ_CHECK_INT(d1.tp, 0);
    KZ_CHECK_INT(d1.fp, 1);
    KZ_CHECK_INT(d1.fn, 2);
    KZ_CHECK_INT(d2.tp, 2);
    KZ_CHECK_INT(d2.fp, 0);
    KZ_CHECK_INT(d2.fn, 0);
    KZ_CHECK_INT(cell(&ev, a, "gene").tp, 1); /* scored on its own rows */
    KZ_CHECK_INT(cell(&ev, b, "gene").fn, 1);
    /* totals over corpora: disease tp 2 fp 1 fn 2 */
    for (uint32_t c = 0; c < ev.n_classes; c++)
        if (!strcmp(ev.classes[c], "disease")) {
            kz__prf_counts t2 = kz__ner_eval_class_total(&ev, c);
            KZ_CHECK_INT(t2.tp, 2);
            KZ_CHECK_INT(t2.fp, 1);
            KZ_CHECK_INT(t2.fn, 2);
        }
    /* a text mismatch is an error */
    kz_doc *x = mk("lung cancez", p2c, p2s, 2);
    KZ_CHECK(kz__ner_eval_doc(&ev, (uint32_t)a, g, x, NULL, 0, NULL) == KZ_EINVAL);
    kz_doc_free(x);
    kz__ner_eval_free(&ev);
    kz_doc_free(g);
    kz_doc_free(p1);
    kz_doc_free(p2);
}

KZ_TEST(test_empty_and_many_classes) {
    kz__prf z = kz__prf_of((kz__prf_counts){0, 0, 0});
    KZ_CHECK(z.p == 0 && z.r == 0 && z.f1 == 0);
    kz__ner_eval ev;
    kz__ner_eval_init(&ev);
    /* classes before corpora, and enough of both to grow the tables */
    char name[16];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "c%d", i);
        KZ_CHECK_INT(kz__ner_eval_class(&ev, name, strlen(name)), i);
    }
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "k%d", i);
        KZ_CHECK_INT(kz__ner_eval_corpus(&ev, name), i);
    }
    const char *t = "ab";
    kz_span g = {0, 1}, p = {0, 1};
    kz__prf_counts *c = &ev.c[(size_t)19 * ev.cap_classes + 39];
    KZ_CHECK_INT(kz__ner_score_class(&g, 1, &p, 1, t, 2, c), 0);
    ev.scored[(size_t)19 * ev.cap_classes + 39] = 1;
    KZ_CHECK_INT(kz__ner_eval_micro(&ev, 19).tp, 1);
    KZ_CHECK_INT(kz__ner_eval_micro(&ev, -1).tp, 1);
    KZ_CHECK(NEAR(kz__ner_eval_macro(&ev, -1).f1, 1.0));
    kz__ner_eval_free(&ev);
}
