/* AbbreviationFinderStep: Kazu's kazu/tests/test_abbreviation_finder_step.py
 * ported (copy long-form entities to every short form; delete short forms
 * without a long-form entity; exclude_abbrvs) plus the long-form-inside case,
 * the uniqueness rule, what is copied, keep_unlinked_short_forms, the
 * short-form filter and long_form_match: covering. */
#include "post_test.h"

#define STEP "AbbreviationFinderStep"

static const kz_candidate k_cand = {.synonym_norm = {"ACUTE MYELOID LEUKAEMIA", 23}, .parser_name = {"p", 1}};

KZ_TEST(abbrev_kazu_copy_ents) {
    kz_doc *d = kz_doc_new("test copy of entity data", 24);
    kz_section *s1 = pt_section(d, "Acute Mylenoid Leukaemia (AML) is a form of cancer");
    kz_section *s2 = pt_section(d, "AML is a serious disease");
    kz_entity *lf = pt_ent(d, s1, 0, 24, "disease", "test", KZ_MENTION_PROBABLE);
    KZ_CHECK(lf);
    KZ_CHECK(pt_ent(d, s1, 26, 29, "gene", "test", KZ_MENTION_HIGHLY_LIKELY));
    KZ_CHECK(pt_ent(d, s2, 0, 3, "gene", "test", KZ_MENTION_HIGHLY_LIKELY));
    KZ_CHECK_INT(pt_mapping(d, lf, "MONDO", "MONDO_0018874", KZ_SMC_HIGHLY_LIKELY, KZ_DC_HIGHLY_LIKELY), 0);
    kz_metrics m = {KZ_METRIC_SEARCH, 91.5, 0, 0, false};
    KZ_CHECK_INT(kz_entity_add_candidate(d, lf, &k_cand, &m), 0);
    KZ_CHECK_INT(kz_meta_set_int(d, &lf->metadata, kz_str_c("k"), 7), 0);
    kz_error err;
    KZ_CHECK_INT(pt_run(STEP, NULL, &d, 1, &err), 0);
    KZ_CHECK(!kz_doc_failed(d));
    KZ_CHECK_INT(kz_doc_n_entities(d), 3);
    for (uint32_t s = 0; s < d->n_sections; s++)
        for (uint32_t i = 0; i < d->sections[s]->n_entities; i++) {
            const kz_entity *e = d->sections[s]->entities[i];
            KZ_CHECK(kz_str_eq_c(e->match, "AML") || kz_str_eq_c(e->match, "Acute Mylenoid Leukaemia"));
            KZ_CHECK_KSTR(e->entity_class, "disease");
        }
    const kz_entity *c = pt_find(s2, 0, 3, "disease");
    KZ_CHECK(c);
    KZ_CHECK_KSTR(c->namespace_, STEP);
    KZ_CHECK_INT(c->mention_confidence, KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK_INT(c->n_mappings, 1);
    KZ_CHECK_KSTR(c->mappings[0].idx, "MONDO_0018874");
    KZ_CHECK_INT(c->n_candidates, 1);
    KZ_CHECK(c->candidates[0].metrics.search_score == 91.5);
    KZ_CHECK_KSTR(kz_meta_get(&c->metadata, "k"), "7");
    KZ_CHECK(pt_find(s1, 26, 29, "disease"));
    KZ_CHECK(!pt_find(s1, 26, 29, "gene"));
    /* the long form itself is untouched */
    KZ_CHECK(pt_find(s1, 0, 24, "disease") == lf);
    KZ_CHECK_INT(lf->mention_confidence, KZ_MENTION_PROBABLE);
    kz_doc_free(d);
}

static kz_doc *removal_doc(void) {
    kz_doc *d = kz_doc_new("test removal of entity data", 27);
    kz_section *s3 = pt_section(d, "Auto Mega Liquid (AML) is not form of cancer");
    kz_section *s4 = pt_section(d, "AML something I just made up");
    pt_ent(d, s3, 18, 21, "disease", "test", KZ_MENTION_HIGHLY_LIKELY);
    pt_ent(d, s4, 0, 3, "gene", "test", KZ_MENTION_HIGHLY_LIKELY);
    return d;
}

KZ_TEST(abbrev_kazu_remove_ents) {
    kz_error err;
    kz_doc *d = removal_doc();
    KZ_CHECK_INT(pt_run(STEP, "exclude_abbrvs: []", &d, 1, &err), 0);
    KZ_CHECK_INT(kz_doc_n_entities(d), 0);
    kz_doc_free(d);
    d = removal_doc();
    KZ_CHECK_INT(pt_run(STEP, "exclude_abbrvs: [AML]", &d, 1, &err), 0);
    KZ_CHECK_INT(kz_doc_n_entities(d), 2);
    kz_doc_free(d);
    /* Kazu issue #21: keep short forms that have no long-form entity */
    d = removal_doc();
    KZ_CHECK_INT(pt_run(STEP, "keep_unlinked_short_forms: true", &d, 1, &err), 0);
    KZ_CHECK_INT(kz_doc_n_entities(d), 2);
    kz_doc_free(d);
}

KZ_TEST(abbrev_default_exclude_list) {
    kz_error err;
    kz_doc *d = kz_doc_new("x", 1);
    kz_section *s = pt_section(d, "patients with non-small cell lung cancer (NSCLC) and NSCLC relapse");
    pt_ent(d, s, 42, 47, "disease", "test", KZ_MENTION_HIGHLY_LIKELY);
    pt_ent(d, s, 53, 58, "disease", "test", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK_INT(pt_run(STEP, NULL, &d, 1, &err), 0);
    KZ_CHECK_INT(s->n_entities, 2); /* NSCLC is in the default exclude_abbrvs */
    kz_doc_free(d);
    d = kz_doc_new("x", 1);
    s = pt_section(d, "patients with non-small cell lung cancer (NSCLC) and NSCLC relapse");
    kz_entity *lf = pt_ent(d, s, 14, 40, "disease", "test", KZ_MENTION_HIGHLY_LIKELY);
    pt_ent(d, s, 42, 47, "disease", "test", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK(lf);
    KZ_CHECK_KSTR(lf->match, "non-small cell lung cancer");
    KZ_CHECK_INT(pt_run(STEP, NULL, &d, 1, &err), 0);
    /* excluded short-form entities stay; copies are added at both occurrences */
    KZ_CHECK_INT(s->n_entities, 4);
    KZ_CHECK(pt_find(s, 53, 58, "disease"));
    KZ_CHECK_KSTR(pt_find(s, 53, 58, "disease")->namespace_, STEP);
    kz_doc_free(d);
}

KZ_TEST(abbrev_long_form_inside_parentheses) {
    kz_error err;
    kz_doc *d = kz_doc_new("x", 1);
    kz_section *s = pt_section(d, "Risk of AML (acute myeloid leukaemia subtype) rose. AML was treated.");
    /* inner span > 3 tokens: the short form is the token before "(" */
    pt_ent(d, s, 13, 44, "disease", "test", KZ_MENTION_HIGHLY_LIKELY);
    pt_ent(d, s, 8, 11, "gene", "test", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK_INT(pt_run(STEP, NULL, &d, 1, &err), 0);
    KZ_CHECK(pt_find(s, 8, 11, "disease"));
    KZ_CHECK(!pt_find(s, 8, 11, "gene"));
    KZ_CHECK(pt_find(s, 52, 55, "disease"));
    KZ_CHECK_INT(s->n_entities, 3);
    kz_doc_free(d);
}

KZ_TEST(abbrev_definitions_unique_per_document) {
    kz_error err;
    kz_doc *d = kz_doc_new("x", 1);
    /* the second definition of ABC is ignored: every ABC takes the first one's entity */
    kz_section *s = pt_section(d, "Alpha Beta Cell (ABC) and Another Big Cat (ABC) and ABC.");
    pt_ent(d, s, 0, 15, "cell_type", "test", KZ_MENTION_HIGHLY_LIKELY);
    pt_ent(d, s, 26, 41, "species", "test", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK_INT(pt_run(STEP, NULL, &d, 1, &err), 0);
    KZ_CHECK(pt_find(s, 17, 20, "cell_type"));
    KZ_CHECK(pt_find(s, 43, 46, "cell_type"));
    KZ_CHECK(pt_find(s, 52, 55, "cell_type"));
    KZ_CHECK(!pt_find(s, 43, 46, "species"));
    KZ_CHECK_INT(s->n_entities, 5);
    kz_doc_free(d);
}

KZ_TEST(abbrev_short_form_filter_and_alignment) {
    kz_error err;
    kz_doc *d = kz_doc_new("x", 1);
    /* (2020): first char not alpha; (p<0.05): not a short form; (HR) does not
     * align with "cardiac beat" (no H); (BP) does */
    kz_section *s =
        pt_section(d, "In 2020 (2020) blood pressure (BP) rose (p<0.05) but cardiac beat (HR) not. BP HR");
    pt_ent(d, s, 15, 29, "disease", "test", KZ_MENTION_HIGHLY_LIKELY); /* blood pressure */
    pt_ent(d, s, 9, 13, "gene", "test", KZ_MENTION_HIGHLY_LIKELY);     /* 2020 inside () */
    pt_ent(d, s, 67, 69, "gene", "test", KZ_MENTION_HIGHLY_LIKELY);    /* HR */
    pt_ent(d, s, 79, 81, "gene", "test", KZ_MENTION_HIGHLY_LIKELY);    /* HR */
    KZ_CHECK_INT(pt_run(STEP, NULL, &d, 1, &err), 0);
    KZ_CHECK(pt_find(s, 9, 13, "gene"));
    KZ_CHECK(pt_find(s, 31, 33, "disease"));
    KZ_CHECK(pt_find(s, 76, 78, "disease"));
    KZ_CHECK(pt_find(s, 67, 69, "gene"));
    KZ_CHECK(pt_find(s, 79, 81, "gene"));
    kz_doc_free(d);
}

KZ_TEST(abbrev_config_errors_and_empty_docs) {
    kz_error err;
    kz_doc *d = kz_doc_new("x", 1);
    KZ_CHECK_INT(pt_run(STEP, "exclude: [x]", &d, 1, &err), KZ_ECONFIG);
    KZ_CHECK_INT(pt_run(STEP, NULL, &d, 1, &err), 0); /* no sections */
    pt_section(d, "");
    pt_section(d, "( ) (( )) (a) (");
    KZ_CHECK_INT(pt_run(STEP, NULL, &d, 1, &err), 0);
    KZ_CHECK(!kz_doc_failed(d));
    kz_doc_free(d);
}

/* S&H's long form of "X-linked adrenoleukodystrophy (ALD)" is its last word; the
 * entity is the whole name. long_form_match: covering copies it (exact: no copy). */
static kz_doc *covering_doc(kz_entity **lf) {
    kz_doc *d = kz_doc_new("covering", 8);
    kz_section *s = pt_section(d, "X-linked adrenoleukodystrophy (ALD) is rare. ALD is X-linked.");
    *lf = pt_ent(d, s, 0, 29, "disease", "test", KZ_MENTION_HIGHLY_LIKELY);
    pt_mapping(d, *lf, "MEDIC", "MESH:D000326", KZ_SMC_HIGHLY_LIKELY, KZ_DC_NONE);
    pt_ent(d, s, 31, 34, "disease", "test", KZ_MENTION_HIGHLY_LIKELY); /* ALD, unmapped */
    pt_ent(d, s, 45, 48, "disease", "test", KZ_MENTION_HIGHLY_LIKELY);
    return d;
}

KZ_TEST(abbrev_long_form_match_covering) {
    kz_entity *lf;
    kz_error err;
    kz_doc *d = covering_doc(&lf);
    KZ_CHECK_INT(pt_run(STEP, NULL, &d, 1, &err), 0);
    /* exact (Kazu): no entity has the long form's span, so the short forms go */
    KZ_CHECK(!pt_find(d->sections[0], 31, 34, "disease"));
    KZ_CHECK(!pt_find(d->sections[0], 45, 48, "disease"));
    kz_doc_free(d);
    d = covering_doc(&lf);
    KZ_CHECK_INT(pt_run(STEP, "long_form_match: covering", &d, 1, &err), 0);
    for (int64_t at = 31; at <= 45; at += 14) {
        const kz_entity *c = pt_find(d->sections[0], at, at + 3, "disease");
        KZ_CHECK(c != NULL);
        if (!c) continue;
        KZ_CHECK_KSTR(c->namespace_, STEP);
        KZ_CHECK_INT(c->n_mappings, 1);
        if (c->n_mappings) KZ_CHECK_KSTR(c->mappings[0].idx, "MESH:D000326");
    }
    KZ_CHECK(pt_find(d->sections[0], 0, 29, "disease") == lf);
    KZ_CHECK_INT(kz_doc_n_entities(d), 3);
    kz_doc_free(d);
    /* an entity with the exact span is preferred over a covering one */
    d = kz_doc_new("both", 4);
    kz_section *s = pt_section(d, "X-linked adrenoleukodystrophy (ALD); ALD");
    kz_entity *wide = pt_ent(d, s, 0, 29, "disease", "test", KZ_MENTION_HIGHLY_LIKELY);
    kz_entity *narrow = pt_ent(d, s, 9, 29, "disease", "test", KZ_MENTION_HIGHLY_LIKELY);
    pt_mapping(d, wide, "MEDIC", "WIDE", KZ_SMC_HIGHLY_LIKELY, KZ_DC_NONE);
    pt_mapping(d, narrow, "MEDIC", "NARROW", KZ_SMC_HIGHLY_LIKELY, KZ_DC_NONE);
    KZ_CHECK_INT(pt_run(STEP, "long_form_match: covering", &d, 1, &err), 0);
    const kz_entity *c = pt_find(s, 37, 40, "disease");
    KZ_CHECK(c && c->n_mappings == 1 && kz_str_eq_c(c->mappings[0].idx, "NARROW"));
    kz_doc_free(d);
    /* bad values are configuration errors */
    d = kz_doc_new("x", 1);
    KZ_CHECK_INT(pt_run(STEP, "long_form_match: longest", &d, 1, &err), KZ_ECONFIG);
    KZ_CHECK(strstr(err.msg, "long_form_match") != NULL);
    kz_doc_free(d);
}
