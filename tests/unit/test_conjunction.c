/* Parser-free SplitOnConjunctionPattern (src/ner/noncontig.c): Kazu's
 * example "skin, lung and breast cancer" and the coordination shapes the rules
 * cover (shared head, shared prefix+label, symbols, in-word digits), plus the
 * cases left alone. */
#include "ner/ner_int.h"
#include "post_test.h"

int kz__ner_split_conjunction(kz_doc *doc, kz_section *sec, const kz_entity *e, size_t *n_added,
                              kz_error *err);

/* Split the entity covering all of `text` (class cls); returns the count added
 * and leaves the section in *out. */
static size_t split(const char *text, const char *cls, kz_doc **d, kz_section **out) {
    *d = kz_doc_new("t", 1);
    kz_section *s = pt_section(*d, text);
    *out = s;
    kz_entity *e = pt_ent(*d, s, 0, (int64_t)strlen(text), cls,
                          "TransformersModelForTokenClassificationNerStep", KZ_MENTION_HIGHLY_LIKELY);
    if (!e) return 999;
    size_t added = 0;
    if (kz__ner_split_conjunction(*d, s, e, &added, NULL)) return 998;
    if (s->n_entities != added + 1) return 997;
    return added;
}

/* The i-th added entity's match. */
static kz_str added_match(const kz_section *s, size_t i) { return s->entities[1 + i]->match; }

KZ_TEST(conj_kazu_example_shared_head) {
    kz_doc *d;
    kz_section *s;
    KZ_CHECK_INT(split("skin, lung and breast cancer", "disease", &d, &s), 3);
    KZ_CHECK_KSTR(added_match(s, 0), "skin cancer");
    KZ_CHECK_KSTR(added_match(s, 1), "lung cancer");
    KZ_CHECK_KSTR(added_match(s, 2), "breast cancer");
    const kz_entity *e = s->entities[1];
    KZ_CHECK_INT(e->n_spans, 2);
    KZ_CHECK_INT(e->spans[0].start, 0);
    KZ_CHECK_INT(e->spans[0].end, 4);
    KZ_CHECK_INT(e->spans[1].start, 22);
    KZ_CHECK_INT(e->spans[1].end, 28);
    KZ_CHECK_KSTR(e->entity_class, "disease");
    KZ_CHECK_KSTR(e->namespace_, "TransformersModelForTokenClassificationNerStep");
    KZ_CHECK_KSTR(kz_meta_get(&e->metadata, "split_rule"), "\"SplitOnConjunctionPattern\"");
    KZ_CHECK_INT(s->entities[3]->n_spans, 1);
    KZ_CHECK(s->entities[1]->match_norm.ptr != NULL);
    kz_doc_free(d);

    KZ_CHECK_INT(split("small cell and non-small cell lung cancer", "disease", &d, &s), 2);
    KZ_CHECK_KSTR(added_match(s, 0), "small cell lung cancer");
    KZ_CHECK_KSTR(added_match(s, 1), "non-small cell lung cancer");
    kz_doc_free(d);
    KZ_CHECK_INT(split("both breast and ovarian cancer", "disease", &d, &s), 2);
    KZ_CHECK_KSTR(added_match(s, 0), "breast cancer");
    KZ_CHECK_KSTR(added_match(s, 1), "ovarian cancer");
    kz_doc_free(d);
    KZ_CHECK_INT(split("acute or chronic myeloid leukaemia", "disease", &d, &s), 2);
    KZ_CHECK_KSTR(added_match(s, 0), "acute myeloid leukaemia");
    kz_doc_free(d);
    KZ_CHECK_INT(split("type 1 and type 2 diabetes", "disease", &d, &s), 2);
    KZ_CHECK_KSTR(added_match(s, 0), "type 1 diabetes");
    KZ_CHECK_KSTR(added_match(s, 1), "type 2 diabetes");
    kz_doc_free(d);
}

KZ_TEST(conj_symbols_and_standalone_conjuncts) {
    kz_doc *d;
    kz_section *s;
    KZ_CHECK_INT(split("BRCA1 and BRCA2", "gene", &d, &s), 2);
    KZ_CHECK_KSTR(added_match(s, 0), "BRCA1");
    KZ_CHECK_KSTR(added_match(s, 1), "BRCA2");
    KZ_CHECK_INT(s->entities[2]->start, 10);
    kz_doc_free(d);
    KZ_CHECK_INT(split("BRCA1, BRCA2, and BRCA3", "gene", &d, &s), 3);
    KZ_CHECK_KSTR(added_match(s, 2), "BRCA3");
    kz_doc_free(d);
    /* Kazu's trigger needs " and ", " or " or " nor ": "and/or" alone is not one */
    KZ_CHECK_INT(split("BRCA1 and/or BRCA2", "gene", &d, &s), 0);
    kz_doc_free(d);
    KZ_CHECK_INT(split("BRCA1 and/or BRCA2 or BRCA3", "gene", &d, &s), 3);
    kz_doc_free(d);
    KZ_CHECK_INT(split("Crohn's disease and ulcerative colitis", "disease", &d, &s), 2);
    KZ_CHECK_KSTR(added_match(s, 0), "Crohn's disease");
    KZ_CHECK_KSTR(added_match(s, 1), "ulcerative colitis");
    kz_doc_free(d);
    /* a symbol in an earlier conjunct: no shared head */
    KZ_CHECK_INT(split("IL-6 and TNF alpha", "gene", &d, &s), 2);
    KZ_CHECK_KSTR(added_match(s, 0), "IL-6");
    KZ_CHECK_KSTR(added_match(s, 1), "TNF alpha");
    kz_doc_free(d);
    KZ_CHECK_INT(split("non-Hodgkin and Hodgkin lymphoma", "disease", &d, &s), 2);
    KZ_CHECK_KSTR(added_match(s, 0), "non-Hodgkin lymphoma");
    kz_doc_free(d);
    KZ_CHECK_INT(split("diabetes mellitus or obesity", "disease", &d, &s), 2);
    KZ_CHECK_KSTR(added_match(s, 1), "obesity");
    kz_doc_free(d);
}

KZ_TEST(conj_labels_share_prefix_and_suffix) {
    kz_doc *d;
    kz_section *s;
    KZ_CHECK_INT(split("type 1 and 2 diabetes", "disease", &d, &s), 2);
    KZ_CHECK_KSTR(added_match(s, 0), "type 1 diabetes");
    KZ_CHECK_KSTR(added_match(s, 1), "type 2 diabetes");
    KZ_CHECK_INT(s->entities[2]->n_spans, 2); /* "type" + "2 diabetes" */
    KZ_CHECK_INT(s->entities[2]->spans[1].start, 11);
    kz_doc_free(d);
    KZ_CHECK_INT(split("type 1, 2 and 3 diabetes", "disease", &d, &s), 3);
    KZ_CHECK_KSTR(added_match(s, 1), "type 2 diabetes");
    KZ_CHECK_INT(s->entities[2]->n_spans, 3);
    KZ_CHECK_KSTR(added_match(s, 2), "type 3 diabetes");
    kz_doc_free(d);
    KZ_CHECK_INT(split("hepatitis B and C", "disease", &d, &s), 2);
    KZ_CHECK_KSTR(added_match(s, 0), "hepatitis B");
    KZ_CHECK_KSTR(added_match(s, 1), "hepatitis C");
    kz_doc_free(d);
    KZ_CHECK_INT(split("BRCA1 and 2", "gene", &d, &s), 2);
    KZ_CHECK_KSTR(added_match(s, 0), "BRCA1");
    KZ_CHECK_KSTR(added_match(s, 1), "BRCA2");
    KZ_CHECK_INT(s->entities[2]->n_spans, 2);
    kz_doc_free(d);
}

KZ_TEST(conj_left_alone) {
    static const char *const keep[] = {
        "breast cancer",                 /* no conjunction */
        "cancer of the breast and lung", /* prepositional: needs a parser */
        "and breast cancer",             /* empty first conjunct */
        "breast cancer and",             /* empty last conjunct */
        "breast and and lung cancer",    /* empty middle conjunct */
        "lung,breast cancer",            /* commas alone are not Kazu's trigger */
        "a and b and c and d and e and f and g and h and i and j and k and l and m and n and o and p and q",
    };
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) {
        kz_doc *d;
        kz_section *s;
        size_t n = split(keep[i], "disease", &d, &s);
        if (n) fprintf(stderr, "split: %s\n", keep[i]);
        KZ_CHECK_INT(n, 0);
        kz_doc_free(d);
    }
    /* a non-contiguous entity is not split */
    kz_doc *d = kz_doc_new("t", 1);
    kz_section *s = pt_section(d, "lung and breast cancer");
    kz_span sp[2] = {{0, 4}, {9, 22}};
    kz_entity_init in = {0};
    in.spans = sp;
    in.n_spans = 2;
    in.join_str = " and ";
    in.entity_class = kz_str_c("disease");
    in.namespace_ = kz_str_c("t");
    kz_entity *e = NULL;
    KZ_CHECK_INT(kz_section_add_entity(d, s, &in, &e, NULL), 0);
    size_t added = 9;
    KZ_CHECK_INT(kz__ner_split_conjunction(d, s, e, &added, NULL), 0);
    KZ_CHECK_INT(added, 0);
    kz_doc_free(d);
}
