/* CleanupStep: Kazu's kazu/tests/test_cleanup.py ported (default mapping and
 * entity filters, URI stripping, parser-name rank, min length, class and
 * match-set filters) plus candidate removal and configuration errors. */
#include "post/post_int.h"
#include "post_test.h"

#define DOC_TEXT                                                                                             \
    "XYZ1 is picked up as entity by explosion step but not mapped to a kb."                                  \
    "ABC9 is picked up by a different NER step and also not mapped."                                         \
    "But EGFR was picked up by explosion step and mapped."

KZ_TEST(cleanup_default_drops_ambiguous_mappings) {
    kz_doc *d = kz_doc_new("t", 1);
    kz_section *sec = pt_section(d, DOC_TEXT);
    kz_entity *e = pt_ent(d, sec, 135, 139, "gene", "test", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK(e);
    KZ_CHECK_KSTR(e->match, "EGFR");
    KZ_CHECK_INT(pt_mapping(d, e, "test", "a", KZ_SMC_HIGHLY_LIKELY, KZ_DC_HIGHLY_LIKELY), 0);
    KZ_CHECK_INT(pt_mapping(d, e, "test", "b", KZ_SMC_HIGHLY_LIKELY, KZ_DC_AMBIGUOUS), 0);
    kz_error err;
    KZ_CHECK_INT(pt_run("CleanupStep", NULL, &d, 1, &err), 0);
    KZ_CHECK_INT(sec->n_entities, 1);
    KZ_CHECK_INT(e->n_mappings, 1);
    KZ_CHECK_KSTR(e->mappings[0].idx, "a");
    kz_doc_free(d);
}

static kz_doc *unmapped_doc(void) {
    kz_doc *d = kz_doc_new("t", 1);
    kz_section *sec = pt_section(d, DOC_TEXT);
    pt_ent(d, sec, 0, 4, "gene", "ExplosionStringMatchingStep", KZ_MENTION_POSSIBLE); /* dropped */
    pt_ent(d, sec, 0, 4, "gene", "ExplosionStringMatchingStep", KZ_MENTION_PROBABLE); /* kept: confident */
    pt_ent(d, sec, 69, 73, "gene", "mock_other_ner_namespace", KZ_MENTION_POSSIBLE);
    kz_entity *egfr = pt_ent(d, sec, 135, 139, "gene", "ExplosionStringMatchingStep", KZ_MENTION_POSSIBLE);
    pt_mapping(d, egfr, "test", "test", KZ_SMC_HIGHLY_LIKELY, KZ_DC_NONE); /* kept: mapped */
    return d;
}

KZ_TEST(cleanup_default_drops_unmapped_low_confidence_entities) {
    kz_doc *d = unmapped_doc();
    kz_error err;
    KZ_CHECK_INT(d->sections[0]->n_entities, 4);
    /* Kazu's default: from_ent_namespaces None, so ABC9 (POSSIBLE) goes too */
    KZ_CHECK_INT(pt_run("CleanupStep", NULL, &d, 1, &err), 0);
    KZ_CHECK_INT(d->sections[0]->n_entities, 2);
    KZ_CHECK_INT(d->sections[0]->entities[0]->mention_confidence, KZ_MENTION_PROBABLE);
    KZ_CHECK_KSTR(d->sections[0]->entities[1]->match, "EGFR");
    kz_doc_free(d);
}

KZ_TEST(cleanup_unmapped_filter_with_namespaces) {
    kz_doc *d = unmapped_doc();
    kz_error err;
    const char *yaml = "actions:\n"
                       "  - type: EntityFilterCleanupAction\n"
                       "    filters:\n"
                       "      - type: DropUnmappedEntityFilter\n"
                       "        from_ent_namespaces: [ExplosionStringMatchingStep]\n"
                       "        min_confidence_level: PROBABLE\n";
    KZ_CHECK_INT(pt_run("CleanupStep", yaml, &d, 1, &err), 0);
    KZ_CHECK_INT(d->sections[0]->n_entities, 3); /* test_cleanup.py's count */
    KZ_CHECK_KSTR(d->sections[0]->entities[1]->match, "ABC9");
    kz_doc_free(d);
    /* min_confidence_level null: every unmapped entity of those namespaces goes */
    d = unmapped_doc();
    yaml =
        "actions:\n  - {type: DropUnmappedEntityFilter, from_ent_namespaces: [ExplosionStringMatchingStep],"
        " min_confidence_level: null}\n";
    KZ_CHECK_INT(pt_run("CleanupStep", yaml, &d, 1, &err), 0);
    KZ_CHECK_INT(d->sections[0]->n_entities, 2);
    KZ_CHECK_KSTR(d->sections[0]->entities[0]->match, "ABC9");
    kz_doc_free(d);
}

KZ_TEST(cleanup_uri_stripping_all_parsers) {
    kz_doc *d = kz_doc_new("t", 1);
    kz_section *sec = pt_section(d, DOC_TEXT);
    kz_entity *e = pt_ent(d, sec, 135, 139, "gene", "test", KZ_MENTION_HIGHLY_LIKELY);
    pt_mapping(d, e, "opentargets_target", "OPENTARGETS_TARGET", KZ_SMC_HIGHLY_LIKELY, KZ_DC_HIGHLY_LIKELY);
    pt_mapping(d, e, "opentargets_target_but_long_ids", "http://identifiers.org/Ensembl:ENSG00000146648",
               KZ_SMC_HIGHLY_LIKELY, KZ_DC_AMBIGUOUS);
    kz_error err;
    KZ_CHECK_INT(pt_run("CleanupStep", "actions: [uri_stripping]", &d, 1, &err), 0);
    KZ_CHECK_INT(e->n_mappings, 2);
    KZ_CHECK_KSTR(e->mappings[0].idx, "OPENTARGETS_TARGET");
    KZ_CHECK_KSTR(e->mappings[1].idx, "Ensembl:ENSG00000146648");
    kz_doc_free(d);
}

/* test_cleanup.py's set_up_simple_cleanup_test_case */
static kz_doc *asthma_doc(void) {
    kz_doc *d = kz_doc_new("t", 1);
    kz_section *sec = pt_section(d, "Asthma is in mondo and HSC0054 is a cell line in CLO.");
    kz_entity *a = pt_ent(d, sec, 0, 6, "disease", "test", KZ_MENTION_HIGHLY_LIKELY);
    pt_mapping(d, a, "mondo", "http://purl.obolibrary.org/obo/MONDO_0004979", 1, 1);
    pt_mapping(d, a, "not_mondo", "http://purl.obolibrary.org/obo/MONDO_0004979", 1, 1);
    kz_entity *h = pt_ent(d, sec, 23, 30, "cell_line", "test", KZ_MENTION_HIGHLY_LIKELY);
    pt_mapping(d, h, "clo", "http://purl.obolibrary.org/obo/CLO_0051085", 1, 1);
    pt_mapping(d, h, "not_clo", "http://purl.obolibrary.org/obo/CLO_0051085", 1, 1);
    return d;
}

KZ_TEST(cleanup_uri_stripping_only_some_parsers) {
    kz_doc *d = asthma_doc();
    kz_error err;
    KZ_CHECK_INT(pt_run("CleanupStep",
                        "actions: [{type: StripMappingURIsAction, parsers_to_strip: [mondo, clo]}]", &d, 1,
                        &err),
                 0);
    const kz_section *sec = d->sections[0];
    KZ_CHECK_KSTR(sec->entities[0]->mappings[0].idx, "MONDO_0004979");
    KZ_CHECK_KSTR(sec->entities[0]->mappings[1].idx, "http://purl.obolibrary.org/obo/MONDO_0004979");
    KZ_CHECK_KSTR(sec->entities[1]->mappings[0].idx, "CLO_0051085");
    KZ_CHECK_KSTR(sec->entities[1]->mappings[1].idx, "http://purl.obolibrary.org/obo/CLO_0051085");
    kz_doc_free(d);
}

KZ_TEST(cleanup_strip_uri_is_pythons_urlparse) {
    KZ_CHECK_KSTR(kz__post_strip_uri(kz_str_c("http://purl.obolibrary.org/obo/MONDO_0004979")),
                  "MONDO_0004979");
    KZ_CHECK_KSTR(kz__post_strip_uri(kz_str_c("https://x.org/a/b?q=1#frag")), "b");
    KZ_CHECK_KSTR(kz__post_strip_uri(kz_str_c("http://x.org/dir/")), "");
    KZ_CHECK(kz__post_strip_uri(kz_str_c("EGFR_ID")).ptr == NULL);
    KZ_CHECK(kz__post_strip_uri(kz_str_c("1:23")).ptr == NULL); /* scheme must start with a letter */
    KZ_CHECK(kz__post_strip_uri(kz_str_c("a b:c")).ptr == NULL);
    /* Kazu quirk kept: a CURIE has a "scheme" */
    KZ_CHECK_KSTR(kz__post_strip_uri(kz_str_c("MONDO:0004979")), "0004979");
}

KZ_TEST(cleanup_drop_by_parser_name_rank) {
    kz_doc *d = asthma_doc();
    kz_error err;
    const char *yaml = "actions:\n"
                       "  - type: DropMappingsByParserNameRankAction\n"
                       "    entity_class_to_parser_name_rank:\n"
                       "      disease: [mondo, not_mondo]\n"
                       "      cell_line: [not_clo, clo]\n";
    KZ_CHECK_INT(pt_run("CleanupStep", yaml, &d, 1, &err), 0);
    const kz_section *sec = d->sections[0];
    KZ_CHECK_INT(sec->entities[0]->n_mappings, 1);
    KZ_CHECK_KSTR(sec->entities[0]->mappings[0].parser_name, "mondo");
    KZ_CHECK_INT(sec->entities[1]->n_mappings, 1);
    KZ_CHECK_KSTR(sec->entities[1]->mappings[0].parser_name, "not_clo");
    KZ_CHECK(!kz_doc_failed(d));
    kz_doc_free(d);
    /* a parser without a rank fails the document, as Kazu's list.index raises */
    d = asthma_doc();
    yaml = "actions:\n  - type: DropMappingsByParserNameRankAction\n"
           "    entity_class_to_parser_name_rank: {disease: [mondo]}\n";
    KZ_CHECK_INT(pt_run("CleanupStep", yaml, &d, 1, &err), 0);
    KZ_CHECK(kz_doc_failed(d));
    kz_doc_free(d);
}

static kz_doc *filter_doc(void) {
    kz_doc *d = kz_doc_new("t", 1);
    kz_section *sec = pt_section(d, "lo l abd def disease1 required");
    pt_ent(d, sec, 0, 2, "required1", "test", KZ_MENTION_HIGHLY_LIKELY); /* lo */
    pt_ent(d, sec, 3, 4, "required2", "test", KZ_MENTION_HIGHLY_LIKELY); /* l */
    pt_ent(d, sec, 5, 8, "gene", "test", KZ_MENTION_HIGHLY_LIKELY);      /* abd */
    pt_ent(d, sec, 9, 12, "disease", "test", KZ_MENTION_HIGHLY_LIKELY);  /* def: other class */
    pt_ent(d, sec, 13, 21, "disease", "test", KZ_MENTION_HIGHLY_LIKELY); /* disease1 */
    pt_ent(d, sec, 22, 30, "drug", "test", KZ_MENTION_HIGHLY_LIKELY);    /* required */
    return d;
}

KZ_TEST(cleanup_entity_filters) {
    kz_error err;
    kz_doc *d = filter_doc();
    KZ_CHECK_INT(pt_run("CleanupStep", "actions: [{type: DropByMinLenFilter, min_len: 2}]", &d, 1, &err), 0);
    KZ_CHECK_INT(d->sections[0]->n_entities, 5);
    KZ_CHECK(!pt_find(d->sections[0], 3, 4, NULL));
    kz_doc_free(d);

    d = filter_doc();
    KZ_CHECK_INT(
        pt_run(
            "CleanupStep",
            "actions: [{type: DropEntityIfClassNotMatchedFilter, required_classes: [required1, required2]}]",
            &d, 1, &err),
        0);
    KZ_CHECK_INT(d->sections[0]->n_entities, 2);
    kz_doc_free(d);

    d = filter_doc();
    const char *yaml = "actions:\n  - type: DropEntityIfMatchInSetFilter\n"
                       "    class_and_matches: {gene: [abd, def], disease: [disease1, disease1]}\n";
    KZ_CHECK_INT(pt_run("CleanupStep", yaml, &d, 1, &err), 0);
    KZ_CHECK_INT(d->sections[0]->n_entities, 4);
    KZ_CHECK(!pt_find(d->sections[0], 5, 8, NULL));
    KZ_CHECK(!pt_find(d->sections[0], 13, 21, NULL));
    KZ_CHECK(pt_find(d->sections[0], 9, 12, "disease")); /* "def" listed for gene only */
    kz_doc_free(d);
}

static const kz_candidate k_cand = {.synonym_norm = {"EGFR", 4}, .parser_name = {"p", 1}};

KZ_TEST(cleanup_linking_candidate_removal) {
    kz_doc *d = kz_doc_new("t", 1);
    kz_section *sec = pt_section(d, DOC_TEXT);
    kz_entity *e = pt_ent(d, sec, 135, 139, "gene", "test", KZ_MENTION_HIGHLY_LIKELY);
    kz_metrics m = {KZ_METRIC_EXACT, 0, 0, 0, true};
    KZ_CHECK_INT(kz_entity_add_candidate(d, e, &k_cand, &m), 0);
    kz_error err;
    KZ_CHECK_INT(pt_run("CleanupStep", "actions: [default]", &d, 1, &err), 0);
    KZ_CHECK_INT(e->n_candidates, 1); /* not a default action */
    KZ_CHECK_INT(
        pt_run("CleanupStep", "actions: [default, LinkingCandidateRemovalCleanupAction]", &d, 1, &err), 0);
    KZ_CHECK_INT(sec->n_entities, 1);
    KZ_CHECK_INT(e->n_candidates, 0);
    kz_doc_free(d);
}

KZ_TEST(cleanup_string_match_ranks) {
    kz_doc *d = kz_doc_new("t", 1);
    kz_section *sec = pt_section(d, DOC_TEXT);
    kz_entity *e = pt_ent(d, sec, 135, 139, "gene", "test", KZ_MENTION_HIGHLY_LIKELY);
    pt_mapping(d, e, "p", "a", KZ_SMC_POSSIBLE, KZ_DC_NONE);
    pt_mapping(d, e, "p", "b", KZ_SMC_HIGHLY_LIKELY, KZ_DC_PROBABLE);
    pt_mapping(d, e, "p", "c", KZ_SMC_PROBABLE, KZ_DC_NONE);
    kz_error err;
    const char *yaml = "actions:\n  - type: MappingFilterCleanupAction\n"
                       "    string_match_ranks_to_drop: [POSSIBLE]\n"
                       "    disambiguation_ranks_to_drop: [PROBABLE]\n";
    KZ_CHECK_INT(pt_run("CleanupStep", yaml, &d, 1, &err), 0);
    KZ_CHECK_INT(e->n_mappings, 1);
    KZ_CHECK_KSTR(e->mappings[0].idx, "c");
    kz_doc_free(d);
}

KZ_TEST(cleanup_config_errors) {
    kz_doc *d = kz_doc_new("t", 1);
    kz_error err;
    kz_error_clear(&err);
    KZ_CHECK_INT(pt_run("CleanupStep", "actions: [NoSuchAction]", &d, 1, &err), KZ_ECONFIG);
    KZ_CHECK(strstr(err.msg, "NoSuchAction") != NULL);
    KZ_CHECK_INT(pt_run("CleanupStep", "actions: [{type: DropByMinLenFilter, min_len: -1}]", &d, 1, &err),
                 KZ_ECONFIG);
    KZ_CHECK_INT(pt_run("CleanupStep",
                        "actions: [{type: MappingFilterCleanupAction, "
                        "disambiguation_ranks_to_drop: [SOMETIMES]}]",
                        &d, 1, &err),
                 KZ_ECONFIG);
    KZ_CHECK_INT(pt_run("CleanupStep", "actions: [{type: StripMappingURIsAction, typo: 1}]", &d, 1, &err),
                 KZ_ECONFIG);
    KZ_CHECK_INT(pt_run("CleanupStep", "actionz: []", &d, 1, &err), KZ_ECONFIG);
    kz_doc_free(d);
}
