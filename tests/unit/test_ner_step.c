/* The transformer NER step end to end on the tiny token-classification model
 * committed in tests/golden/nn_load/tiny_tc (2 layers, 16 positions, labels
 * O/B-gene/I-gene): configuration checks, multi-frame sections batched across
 * documents, valid entity spans, batching invariance and failure isolation. */
#include "kazu/kazu.h"
#include "kz_test.h"
#include "ner/ner_int.h"

#define MODEL KZ_SOURCE_DIR "/tests/golden/nn_load/tiny_tc"
#define NS    "TransformersModelForTokenClassificationNerStep"

static kz_error g_err;

static kz_pipeline *mk(const char *params) {
    kz_step_register(&kz__step_transformers_ner); /* KZ_EINVAL once registered: fine */
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "pipeline:\n  steps:\n    - type: " NS "\n      params:\n        model_path: " MODEL "\n%s",
             params);
    kz_config *cfg = NULL;
    kz_error_clear(&g_err);
    if (kz_config_load_string(&cfg, yaml, strlen(yaml), "ner.yaml", NULL, &g_err)) return NULL;
    kz_pipeline *p = NULL;
    kz_pipeline_new(kz_config_root(cfg), &p, &g_err);
    kz_config_free(cfg);
    return p;
}

static const char *k_texts[] = {
    "egfr mutations in lung cancer patients and brca1 , brca2 protein in tumour cell",
    "the gene egfr is a drug target ( egfr ) ; lung cancer disease",
    "brca1 / 2 mutation",
    "",
};

static kz_doc *mkdoc(const char *text) {
    kz_doc *d = kz_doc_new(NULL, 0);
    kz_doc_add_section(d, "title", 5, text, strlen(text), NULL, NULL);
    kz_doc_add_section(d, "abstract", 8, text, strlen(text), NULL, NULL);
    return d;
}

KZ_TEST(test_config_errors) {
    kz_pipeline *p = mk("        stride: 3\n");
    KZ_CHECK(p == NULL);
    KZ_CHECK_INT(g_err.code, KZ_ECONFIG);
    KZ_CHECK(mk("        max_sequence_length: 32\n") == NULL); /* model has 16 positions */
    KZ_CHECK(mk("        precision: fp64\n") == NULL);
    KZ_CHECK(mk("        labels: [O, B-gene]\n") == NULL);
    KZ_CHECK(mk("        labels: [O, gene, I-gene]\n") == NULL);
    KZ_CHECK(mk("        colour: red\n") == NULL);
    KZ_CHECK(mk("        strip_re: {gene: \"(\"}\n") == NULL);
    kz_step_register(&kz__step_transformers_ner);
    kz_config *cfg = NULL;
    const char *y =
        "pipeline:\n  steps:\n    - type: " NS "\n      params:\n        model_path: /nonexistent\n";
    KZ_CHECK_INT(kz_config_load_string(&cfg, y, strlen(y), "x", NULL, &g_err), 0);
    kz_pipeline *q = NULL;
    KZ_CHECK(kz_pipeline_new(kz_config_root(cfg), &q, &g_err) != 0);
    kz_config_free(cfg);
}

/* With every label read as B-gene, each word starts or extends the gene span
 * and closes a copy, so a section of W words (no ( ) ; breaks) gives exactly
 * W entities, the last covering every word: a check of the windowing that
 * does not depend on the random weights. */
KZ_TEST(test_all_b_labels_cover_every_word) {
    const char *text = k_texts[0];
    for (int ms = 0; ms < 3; ms++) {
        static const char *geo[] = {"        max_sequence_length: 16\n        stride: 0\n",
                                    "        max_sequence_length: 8\n        stride: 2\n",
                                    "        max_sequence_length: 6\n        stride: 2\n"};
        char params[512];
        snprintf(params, sizeof params, "%s        labels: [B-gene, B-gene, B-gene]\n        batch_size: 2\n",
                 geo[ms]);
        kz_pipeline *p = mk(params);
        KZ_CHECK(p);
        kz_doc *d = mkdoc(text);
        KZ_CHECK_INT(kz_pipeline_run(p, &d, 1, NULL, &g_err), 0);
        KZ_CHECK(!kz_doc_failed(d));
        size_t words = 0;
        for (const char *c = text; *c; c++)
            if ((c == text || c[-1] == ' ') && *c != ' ') words++;
        for (uint32_t s = 0; s < 2; s++) {
            kz_section *sec = d->sections[s];
            KZ_CHECK_INT(sec->n_entities, words);
            kz_entity *last = sec->entities[sec->n_entities - 1];
            KZ_CHECK_INT(last->start, 0);
            KZ_CHECK_INT(last->end, strlen(text));
            KZ_CHECK_KSTR(last->namespace_, NS);
            KZ_CHECK_KSTR(last->entity_class, "gene");
            KZ_CHECK_INT(last->mention_confidence, KZ_MENTION_HIGHLY_LIKELY);
        }
        kz_doc_free(d);
        kz_pipeline_free(p);
    }
}

static bool spans_valid(const kz_doc *d) {
    for (uint32_t s = 0; s < d->n_sections; s++) {
        const kz_section *sec = d->sections[s];
        for (uint32_t i = 0; i < sec->n_entities; i++) {
            const kz_entity *e = sec->entities[i];
            if (e->n_spans < 1 || e->start < 0 || e->end > (int64_t)sec->text.len || e->start >= e->end)
                return false;
            if (!kz_str_eq_c(e->namespace_, NS) || !e->match_norm.ptr) return false;
            if (e->n_spans == 1 && (e->match.len != (size_t)(e->end - e->start) ||
                                    memcmp(e->match.ptr, sec->text.ptr + e->start, e->match.len)))
                return false;
            /* one trailing space is trimmed, except on split pieces ("brca1 / 2"
             * -> "brca1 ", as Kazu) */
            if (e->match.len && e->match.ptr[e->match.len - 1] == ' ' &&
                !kz_meta_get(&e->metadata, "split_rule").ptr)
                return false;
        }
    }
    return true;
}

static size_t dump(const kz_doc *d, char *buf, size_t cap) {
    size_t o = 0;
    for (uint32_t s = 0; s < d->n_sections; s++)
        for (uint32_t i = 0; i < d->sections[s]->n_entities && o < cap; i++) {
            const kz_entity *e = d->sections[s]->entities[i];
            o += (size_t)snprintf(buf + o, cap - o, "%u:%lld-%lld:%.*s;", s, (long long)e->start,
                                  (long long)e->end, (int)e->entity_class.len, e->entity_class.ptr);
        }
    return o;
}

/* Entities have valid spans, and batching across documents and the batch
 * size do not change the result. The random weights rarely predict B-gene
 * under the model's own label order, so the label order is permuted too. */
KZ_TEST(test_batching_invariance) {
    static const char *perms[] = {"[O, B-gene, I-gene]", "[B-gene, O, I-gene]", "[I-gene, B-gene, O]",
                                  "[O, I-gene, B-gene]", "[B-gene, I-gene, O]", "[I-gene, O, B-gene]"};
    static char out[2][8192];
    size_t with_entities = 0;
    for (size_t k = 0; k < 6; k++) {
        for (int v = 0; v < 2; v++) {
            char params[256];
            snprintf(params, sizeof params,
                     "        labels: %s\n        max_sequence_length: 8\n        stride: 2\n        "
                     "batch_size: %d\n",
                     perms[k], v ? 5 : 1);
            kz_pipeline *p = mk(params);
            KZ_CHECK(p);
            kz_doc *docs[4];
            for (int i = 0; i < 4; i++) docs[i] = mkdoc(k_texts[i]);
            size_t o = 0;
            out[v][0] = 0;
            if (v) {
                KZ_CHECK_INT(kz_pipeline_run(p, docs, 4, NULL, &g_err), 0);
            } else {
                for (int i = 0; i < 4; i++) KZ_CHECK_INT(kz_pipeline_run(p, &docs[i], 1, NULL, &g_err), 0);
            }
            for (int i = 0; i < 4; i++) {
                KZ_CHECK(!kz_doc_failed(docs[i]));
                KZ_CHECK(spans_valid(docs[i]));
                o += dump(docs[i], out[v] + o, sizeof out[v] - o);
                kz_doc_free(docs[i]);
            }
            kz_pipeline_free(p);
        }
        KZ_CHECK_STR(out[0], out[1]);
        if (out[0][0]) with_entities++;
    }
    KZ_CHECK(with_entities >= 2);
}

/* A document whose section is not valid UTF-8 (an earlier step broke it)
 * fails alone; the others in the same batch still get their entities. */
KZ_TEST(test_failing_document_isolated) {
    kz_pipeline *p =
        mk("        labels: [B-gene, I-gene, B-gene]\n        max_sequence_length: 8\n        stride: 2\n");
    KZ_CHECK(p);
    kz_doc *docs[3];
    for (int i = 0; i < 3; i++) docs[i] = mkdoc(k_texts[i]);
    ((char *)docs[1]->sections[1]->text.ptr)[3] = (char)0xFF;
    KZ_CHECK_INT(kz_pipeline_run(p, docs, 3, NULL, &g_err), 0);
    KZ_CHECK(!kz_doc_failed(docs[0]));
    KZ_CHECK(kz_doc_failed(docs[1]));
    KZ_CHECK(!kz_doc_failed(docs[2]));
    kz_str msg = kz_meta_get(&docs[1]->metadata, KZ_PROCESSING_EXCEPTION);
    KZ_CHECK(msg.ptr && strstr(msg.ptr, NS) && strstr(msg.ptr, "section 1"));
    KZ_CHECK(kz_doc_n_entities(docs[0]) > 0);
    KZ_CHECK(kz_doc_n_entities(docs[2]) > 0);
    KZ_CHECK_INT(kz_doc_n_entities(docs[1]), 0);
    for (int i = 0; i < 3; i++) kz_doc_free(docs[i]);
    kz_pipeline_free(p);
}

/* The numerical-list splitter runs on gene entities the model finds. */
KZ_TEST(test_splitter_in_step) {
    /* every label read as B-gene: "brca1/2" becomes one of the spans */
    kz_pipeline *p =
        mk("        labels: [B-gene, B-gene, B-gene]\n        max_sequence_length: 16\n        stride: 0\n");
    KZ_CHECK(p);
    kz_doc *d = kz_doc_new("x", 1);
    const char *t = "brca1/2";
    kz_doc_add_section(d, "na", 2, t, strlen(t), NULL, NULL);
    KZ_CHECK_INT(kz_pipeline_run(p, &d, 1, NULL, &g_err), 0);
    KZ_CHECK(!kz_doc_failed(d));
    kz_section *sec = d->sections[0];
    bool found = false;
    for (uint32_t i = 0; i < sec->n_entities; i++)
        if (kz_str_eq_c(sec->entities[i]->match, "brca2") && sec->entities[i]->n_spans == 2 &&
            kz_meta_get(&sec->entities[i]->metadata, "split_rule").ptr)
            found = true;
    KZ_CHECK(found);
    kz_doc_free(d);
    kz_pipeline_free(p);
}
