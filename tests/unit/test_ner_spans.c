/* Kazu's span-finder, strip_re and numerical-list splitter test cases
 * (kazu/tests/test_tokenized_word_processor.py, test_entity_post_processing.py)
 * ported, plus nested copies, the ( ) ; rule, orphan I-, multi-label nesting
 * and UTF-8 offsets. Word ends are exclusive here (Kazu's inclusive/exclusive
 * mix at frame edges is fixed), so Kazu's "hello-" artefacts read "hello". */
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

/* Add a one-token word [s,e) whose token activations are row[]. */
static void word(fx *f, int64_t s, int64_t e, const float *row) {
    f->w[f->nw] = (kz_ner_word){s, e, (uint32_t)f->ntok, 1};
    memcpy(f->act + f->ntok * f->l.n_labels, row, f->l.n_labels * sizeof(float));
    f->nw++;
    f->ntok++;
}
/* Add a word of two tokens. */
static void word2(fx *f, int64_t s, int64_t e, const float *r1, const float *r2) {
    f->w[f->nw] = (kz_ner_word){s, e, (uint32_t)f->ntok, 2};
    memcpy(f->act + f->ntok * f->l.n_labels, r1, f->l.n_labels * sizeof(float));
    memcpy(f->act + (f->ntok + 1) * f->l.n_labels, r2, f->l.n_labels * sizeof(float));
    f->nw++;
    f->ntok += 2;
}

static int run(fx *f, const char *text) {
    return kz__ner_find_spans(&f->l, text, strlen(text), f->w, f->nw, f->act, &f->sp, &f->nsp, &f->cap);
}

static void done(fx *f) {
    free(f->sp);
    kz__ner_labels_free(&f->l);
}

/* The text of span i after Kazu's trailing-space trim. */
static const char *span_text(const fx *f, const char *text, size_t i) {
    static char buf[256];
    int64_t s = f->sp[i].start, e = kz__ner_trim_end(text, s, f->sp[i].end);
    snprintf(buf, sizeof buf, "%.*s", (int)(e - s), text + s);
    return buf;
}

KZ_TEST(test_kazu_single_label) {
    /* test_tokenized_word_processor_single_label */
    static const char *labels[] = {"B-class1", "O", "B-class2"};
    fx f = {0};
    KZ_CHECK_INT(kz__ner_labels_init(&f.l, labels, 3, false, NULL), 0);
    const char *text = "hello to you";
    word(&f, 0, 5, (float[]){0.70f, 0.20f, 0.10f});
    word(&f, 6, 8, (float[]){0.01f, 0.98f, 0.01f});
    word(&f, 9, 12, (float[]){0.01f, 0.01f, 0.98f});
    KZ_CHECK_INT(run(&f, text), 0);
    KZ_CHECK_INT(f.nsp, 2);
    KZ_CHECK_STR(f.l.classes[f.sp[0].cls], "class1");
    KZ_CHECK_STR(span_text(&f, text, 0), "hello");
    KZ_CHECK_STR(f.l.classes[f.sp[1].cls], "class2");
    KZ_CHECK_STR(span_text(&f, text, 1), "you");
    done(&f);
}

KZ_TEST(test_kazu_multi_label) {
    /* test_tokenized_word_processor_multi_label: "hello to" (class1) and "to" (class2) */
    static const char *labels[] = {"class1", "O", "class2"};
    fx f = {0};
    KZ_CHECK_INT(kz__ner_labels_init(&f.l, labels, 3, true, NULL), 0);
    const char *text = "hello to you";
    word(&f, 0, 5, (float[]){1, 0, 0});
    word(&f, 6, 8, (float[]){1, 0, 1});
    word(&f, 9, 12, (float[]){0, 0, 0});
    KZ_CHECK_INT(run(&f, text), 0);
    KZ_CHECK_INT(f.nsp, 2);
    KZ_CHECK_STR(f.l.classes[f.sp[0].cls], "class1");
    KZ_CHECK_STR(span_text(&f, text, 0), "hello to");
    KZ_CHECK_STR(f.l.classes[f.sp[1].cls], "class2");
    KZ_CHECK_STR(span_text(&f, text, 1), "to");
    done(&f);
}

KZ_TEST(test_kazu_hyphen_and_space) {
    /* ..._subspan_detection_3/4 with detect_subspans=False */
    static const char *labels[] = {"B-greeting", "O"};
    fx f = {0};
    KZ_CHECK_INT(kz__ner_labels_init(&f.l, labels, 2, false, NULL), 0);
    const char *text = "hello-to you";
    word(&f, 0, 5, (float[]){0.99f, 0.01f});
    word(&f, 5, 6, (float[]){0.01f, 0.99f});
    word(&f, 6, 8, (float[]){0.99f, 0.01f});
    word(&f, 9, 12, (float[]){0.01f, 0.99f});
    KZ_CHECK_INT(run(&f, text), 0);
    KZ_CHECK_INT(f.nsp, 2);
    KZ_CHECK_STR(span_text(&f, text, 0), "hello");
    KZ_CHECK_STR(span_text(&f, text, 1), "to");
    done(&f);
    fx g = {0};
    KZ_CHECK_INT(kz__ner_labels_init(&g.l, labels, 2, false, NULL), 0);
    text = "hello to you";
    word(&g, 0, 5, (float[]){0.99f, 0.01f});
    word(&g, 6, 8, (float[]){0.01f, 0.99f});
    word(&g, 9, 12, (float[]){0.99f, 0.01f});
    KZ_CHECK_INT(run(&g, text), 0);
    KZ_CHECK_INT(g.nsp, 2);
    KZ_CHECK_STR(span_text(&g, text, 0), "hello");
    KZ_CHECK_STR(span_text(&g, text, 1), "you");
    done(&g);
}

static const float O_[] = {1, 0, 0}, B_[] = {0, 1, 0}, I_[] = {0, 0, 1};

KZ_TEST(test_nested_copy_on_b_inside_span) {
    static const char *labels[] = {"O", "B-disease", "I-disease"};
    fx f = {0};
    KZ_CHECK_INT(kz__ner_labels_init(&f.l, labels, 3, false, NULL), 0);
    const char *text = "lung cancer risk";
    word(&f, 0, 4, B_);
    word(&f, 5, 11, B_); /* B of the active class: a copy "lung" is closed, the span goes on */
    word(&f, 12, 16, O_);
    KZ_CHECK_INT(run(&f, text), 0);
    KZ_CHECK_INT(f.nsp, 2);
    KZ_CHECK_STR(span_text(&f, text, 0), "lung");
    KZ_CHECK_STR(span_text(&f, text, 1), "lung cancer");
    done(&f);
}

KZ_TEST(test_word_with_b_and_i_subtokens) {
    /* a word whose sub-tokens are B- and I- of the active class: one copy
     * without the word, one extension */
    static const char *labels[] = {"O", "B-gene", "I-gene"};
    fx f = {0};
    KZ_CHECK_INT(kz__ner_labels_init(&f.l, labels, 3, false, NULL), 0);
    const char *text = "EGFR kinase";
    word(&f, 0, 4, B_);
    word2(&f, 5, 11, I_, B_);
    KZ_CHECK_INT(run(&f, text), 0);
    KZ_CHECK_INT(f.nsp, 2);
    KZ_CHECK_STR(span_text(&f, text, 0), "EGFR");
    KZ_CHECK_STR(span_text(&f, text, 1), "EGFR kinase");
    done(&f);
}

KZ_TEST(test_mixed_o_subtoken_breaks_span) {
    /* any O sub-token ends the active spans; a B among them starts a new one */
    static const char *labels[] = {"O", "B-gene", "I-gene"};
    fx f = {0};
    KZ_CHECK_INT(kz__ner_labels_init(&f.l, labels, 3, false, NULL), 0);
    const char *text = "EGFR kinase";
    word(&f, 0, 4, B_);
    word2(&f, 5, 11, O_, B_);
    KZ_CHECK_INT(run(&f, text), 0);
    KZ_CHECK_INT(f.nsp, 2);
    KZ_CHECK_STR(span_text(&f, text, 0), "EGFR");
    KZ_CHECK_STR(span_text(&f, text, 1), "kinase");
    done(&f);
}

KZ_TEST(test_breaking_chars) {
    static const char *labels[] = {"O", "B-x", "I-x"};
    fx f = {0};
    KZ_CHECK_INT(kz__ner_labels_init(&f.l, labels, 3, false, NULL), 0);
    /* ';' itself continues (the char before it is 'A'); the word after ';' breaks */
    const char *text = "A;B C";
    word(&f, 0, 1, B_);
    word(&f, 1, 2, I_);
    word(&f, 2, 3, I_); /* orphan I after the break: ignored */
    word(&f, 4, 5, B_);
    KZ_CHECK_INT(run(&f, text), 0);
    KZ_CHECK_INT(f.nsp, 2);
    KZ_CHECK_STR(span_text(&f, text, 0), "A;");
    KZ_CHECK_STR(span_text(&f, text, 1), "C");
    done(&f);
    fx g = {0};
    KZ_CHECK_INT(kz__ner_labels_init(&g.l, labels, 3, false, NULL), 0);
    text = "A (B)C";
    word(&g, 0, 1, B_);
    word(&g, 2, 3, I_); /* "(" after a space continues */
    word(&g, 3, 4, B_); /* after "(": breaks, then starts anew */
    word(&g, 4, 5, I_); /* ")" continues "B" */
    word(&g, 5, 6, I_); /* after ")": breaks; orphan I */
    KZ_CHECK_INT(run(&g, text), 0);
    KZ_CHECK_INT(g.nsp, 2);
    KZ_CHECK_STR(span_text(&g, text, 0), "A (");
    KZ_CHECK_STR(span_text(&g, text, 1), "B)");
    done(&g);
}

KZ_TEST(test_orphan_i_ignored) {
    static const char *labels[] = {"O", "B-x", "I-x"};
    fx f = {0};
    KZ_CHECK_INT(kz__ner_labels_init(&f.l, labels, 3, false, NULL), 0);
    const char *text = "a b c d";
    word(&f, 0, 1, I_);
    word(&f, 2, 3, I_);
    word(&f, 4, 5, B_);
    word(&f, 6, 7, I_);
    KZ_CHECK_INT(run(&f, text), 0);
    KZ_CHECK_INT(f.nsp, 1);
    KZ_CHECK_STR(span_text(&f, text, 0), "c d");
    done(&f);
}

KZ_TEST(test_two_classes_active) {
    /* spans of a class absent from a word stay open (not extended) */
    static const char *labels[] = {"O", "B-gene", "I-gene", "B-disease", "I-disease"};
    fx f = {0};
    KZ_CHECK_INT(kz__ner_labels_init(&f.l, labels, 5, false, NULL), 0);
    const char *text = "a b c";
    word2(&f, 0, 1, (float[]){0, 1, 0, 0, 0}, (float[]){0, 0, 0, 1, 0});
    word(&f, 2, 3, (float[]){0, 0, 1, 0, 0});
    word(&f, 4, 5, (float[]){0, 0, 0, 0, 1});
    KZ_CHECK_INT(run(&f, text), 0);
    KZ_CHECK_INT(f.nsp, 2);
    KZ_CHECK_STR(f.l.classes[f.sp[0].cls], "gene");
    KZ_CHECK_STR(span_text(&f, text, 0), "a b");
    KZ_CHECK_STR(f.l.classes[f.sp[1].cls], "disease");
    KZ_CHECK_STR(span_text(&f, text, 1), "a b c"); /* min/max over its words a, c */
    done(&f);
}

KZ_TEST(test_multilabel_nesting_and_breaks) {
    static const char *labels[] = {"O", "gene", "disease"};
    fx f = {0};
    KZ_CHECK_INT(kz__ner_labels_init(&f.l, labels, 3, true, NULL), 0);
    KZ_CHECK_INT(f.l.n_classes, 2);
    /* "a (b) c d": gene over a..), the "b" after "(" keeps the span open but
     * unextended; disease on c d nested in nothing */
    const char *text = "a (b) c d";
    word(&f, 0, 1, (float[]){5, 0.5f, -1});
    word(&f, 2, 3, (float[]){5, 0.5f, -1});
    word(&f, 3, 4, (float[]){5, 0.5f, -1});
    word(&f, 4, 5, (float[]){5, 0.5f, -1});
    word(&f, 6, 7, (float[]){5, -0.5f, 2});
    word(&f, 8, 9, (float[]){5, 0.0f, 2}); /* logit 0 is not > 0 */
    KZ_CHECK_INT(run(&f, text), 0);
    KZ_CHECK_INT(f.nsp, 2);
    KZ_CHECK_STR(f.l.classes[f.sp[0].cls], "gene");
    KZ_CHECK_STR(span_text(&f, text, 0), "a (b)");
    KZ_CHECK_STR(f.l.classes[f.sp[1].cls], "disease");
    KZ_CHECK_STR(span_text(&f, text, 1), "c d");
    done(&f);
}

KZ_TEST(test_labels_refused) {
    kz_ner_labels l;
    static const char *bad1[] = {"O", "gene"};
    static const char *bad2[] = {"O", ""};
    KZ_CHECK_INT(kz__ner_labels_init(&l, bad1, 2, false, NULL), KZ_EINVAL);
    KZ_CHECK_INT(kz__ner_labels_init(&l, bad2, 2, true, NULL), KZ_EINVAL);
    KZ_CHECK_INT(kz__ner_labels_init(&l, bad1, 2, true, NULL), 0);
    KZ_CHECK_INT(l.n_classes, 1);
    kz__ner_labels_free(&l);
}

KZ_TEST(test_trim_unicode) {
    /* one trailing space goes when the match has a letter (any script) */
    const char *t1 = "\xce\xb1\xce\xb2 x"; /* "αβ x" */
    KZ_CHECK_INT(kz__ner_trim_end(t1, 0, 5), 4);
    KZ_CHECK_INT(kz__ner_trim_end(t1, 0, 4), 4);
    KZ_CHECK_INT(kz__ner_trim_end("12 x", 0, 3), 3); /* no letter */
    KZ_CHECK_INT(kz__ner_trim_end("a x", 0, 1), 1);
    KZ_CHECK_INT(kz__ner_trim_end(" x", 0, 1), 1);   /* one character */
    KZ_CHECK_INT(kz__ner_trim_end("a  x", 0, 3), 2); /* only one space */
}

KZ_TEST(test_kazu_strip_re) {
    regex_t r;
    KZ_CHECK_INT(regcomp(&r, "( (gene|protein)s?)+$", REG_EXTENDED), 0);
    const char *q[] = {"COX2 protein", "COX2 gene", "COX2 gene protein protein gene", "COX2 genes"};
    for (size_t i = 0; i < 4; i++) {
        size_t n;
        char *s = kz__ner_regex_strip(&r, q[i], strlen(q[i]), &n);
        KZ_CHECK(s);
        KZ_CHECK_STR(s, "COX2");
        KZ_CHECK_INT(n, 4);
        free(s);
    }
    size_t n;
    char *s = kz__ner_regex_strip(&r, "gene therapy", 12, &n);
    KZ_CHECK_STR(s, "gene therapy");
    free(s);
    regfree(&r);
    /* re.sub removes every match, empty ones included */
    KZ_CHECK_INT(regcomp(&r, "a*", REG_EXTENDED), 0);
    s = kz__ner_regex_strip(&r, "baac", 4, &n);
    KZ_CHECK_STR(s, "bc");
    free(s);
    regfree(&r);
}

/* ---- SplitOnNumericalListPatternWithPrefix ------------------------------------------ */

static kz_entity *add_ent(kz_doc *d, kz_section *sec, int64_t s, int64_t e) {
    kz_span sp = {s, e};
    kz_entity_init in = {0};
    in.spans = &sp;
    in.n_spans = 1;
    in.entity_class = kz_str_c("gene");
    in.namespace_ = kz_str_c("test");
    in.mention_confidence = KZ_MENTION_HIGHLY_LIKELY;
    kz_entity *ent = NULL;
    kz_section_add_entity(d, sec, &in, &ent, NULL);
    return ent;
}

static kz_section *mk(kz_doc **d, const char *text) {
    kz_section *sec = NULL;
    *d = kz_doc_new("t", 1);
    kz_doc_add_section(*d, "na", 2, text, strlen(text), &sec, NULL);
    return sec;
}

KZ_TEST(test_kazu_split_brca) {
    kz_doc *d;
    kz_section *sec = mk(&d, "everyone knows BRCA1/2/3 are oncogenes");
    kz_entity *e = add_ent(d, sec, 15, 24);
    KZ_CHECK(e);
    KZ_CHECK_KSTR(e->match, "BRCA1/2/3");
    size_t added = 0;
    KZ_CHECK_INT(kz__ner_split_numerical_list(d, sec, e, "/", &added, NULL), 0);
    KZ_CHECK_INT(added, 3);
    KZ_CHECK_INT(sec->n_entities, 4);
    KZ_CHECK_KSTR(sec->entities[1]->match, "BRCA1");
    KZ_CHECK_INT(sec->entities[1]->n_spans, 1);
    KZ_CHECK_KSTR(sec->entities[2]->match, "BRCA2");
    KZ_CHECK_INT(sec->entities[2]->n_spans, 2);
    KZ_CHECK_INT(sec->entities[2]->spans[0].start, 15);
    KZ_CHECK_INT(sec->entities[2]->spans[0].end, 19);
    KZ_CHECK_INT(sec->entities[2]->spans[1].start, 21);
    KZ_CHECK_INT(sec->entities[2]->spans[1].end, 22);
    KZ_CHECK_KSTR(sec->entities[3]->match, "BRCA3");
    KZ_CHECK_KSTR(kz_meta_get(&sec->entities[3]->metadata, "split_rule"),
                  "\"SplitOnNumericalListPatternWithPrefix\"");
    KZ_CHECK_KSTR(sec->entities[3]->entity_class, "gene");
    KZ_CHECK_KSTR(sec->entities[3]->namespace_, "test");
    KZ_CHECK(sec->entities[3]->match_norm.ptr != NULL);
    KZ_CHECK(kz_meta_get(&e->metadata, "split_rule").ptr == NULL); /* the original is kept as is */
    kz_doc_free(d);
}

KZ_TEST(test_kazu_split_monoclonal) {
    kz_doc *d;
    kz_section *sec = mk(&d, "Monoclonal antibody D8/17 is a thing");
    kz_entity *e = add_ent(d, sec, 0, 25);
    KZ_CHECK_INT(kz__ner_split_numerical_list(d, sec, e, "/", NULL, NULL), 0);
    KZ_CHECK_INT(sec->n_entities, 3);
    KZ_CHECK_KSTR(sec->entities[1]->match, "Monoclonal antibody D8");
    KZ_CHECK_KSTR(sec->entities[2]->match, "Monoclonal antibody D17");
    kz_doc_free(d);
}

KZ_TEST(test_split_edge_cases) {
    kz_doc *d;
    size_t added;
    /* no pattern: nothing */
    kz_section *sec = mk(&d, "BRCA1 x");
    KZ_CHECK_INT(kz__ner_split_numerical_list(d, sec, add_ent(d, sec, 0, 5), "/", &added, NULL), 0);
    KZ_CHECK_INT(added, 0);
    kz_doc_free(d);
    /* first part without trailing digits: only the first part */
    sec = mk(&d, "BRCA/2");
    KZ_CHECK_INT(kz__ner_split_numerical_list(d, sec, add_ent(d, sec, 0, 6), "/", &added, NULL), 0);
    KZ_CHECK_INT(added, 1);
    KZ_CHECK_KSTR(sec->entities[1]->match, "BRCA");
    kz_doc_free(d);
    /* all-digit first part: Kazu's prefix is its first character */
    sec = mk(&d, "12/3");
    KZ_CHECK_INT(kz__ner_split_numerical_list(d, sec, add_ent(d, sec, 0, 4), "/", &added, NULL), 0);
    KZ_CHECK_INT(added, 2);
    KZ_CHECK_KSTR(sec->entities[1]->match, "12");
    KZ_CHECK_KSTR(sec->entities[2]->match, "13");
    kz_doc_free(d);
    /* a non-digit part is skipped and later spans stay on their digits */
    sec = mk(&d, "BRCA1/x/3");
    KZ_CHECK_INT(kz__ner_split_numerical_list(d, sec, add_ent(d, sec, 0, 9), "/", &added, NULL), 0);
    KZ_CHECK_INT(added, 2);
    KZ_CHECK_KSTR(sec->entities[2]->match, "BRCA3");
    KZ_CHECK_INT(sec->entities[2]->spans[1].start, 8);
    kz_doc_free(d);
    /* unicode: superscript digits are digits (str.isdigit), offsets in bytes */
    sec = mk(&d, "\xce\xb1"
                 "1/\xc2\xb2"); /* "α1/²" */
    KZ_CHECK_INT(kz__ner_split_numerical_list(d, sec, add_ent(d, sec, 0, 6), "/", &added, NULL), 0);
    KZ_CHECK_INT(added, 2);
    KZ_CHECK_KSTR(sec->entities[1]->match, "\xce\xb1"
                                           "1");
    KZ_CHECK_KSTR(sec->entities[2]->match, "\xce\xb1\xc2\xb2");
    kz_doc_free(d);
    /* leading pattern: Kazu's empty first part is skipped */
    sec = mk(&d, "/2");
    KZ_CHECK_INT(kz__ner_split_numerical_list(d, sec, add_ent(d, sec, 0, 2), "/", &added, NULL), 0);
    KZ_CHECK_INT(added, 0);
    kz_doc_free(d);
    KZ_CHECK(kz__ner_cp_isdigit('7'));
    KZ_CHECK(kz__ner_cp_isdigit(0x0663));  /* Arabic-Indic three */
    KZ_CHECK(!kz__ner_cp_isdigit(0x00BD)); /* ½ is numeric, not a digit */
    KZ_CHECK(!kz__ner_cp_isdigit('x'));
}
