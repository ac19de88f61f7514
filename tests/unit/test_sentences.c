/* Sentence splitter: boundaries, biomedical abbreviations and notation, spans
 * on non-ASCII text, and the SentenceSplitter step (set-once). */
#include "kz_test.h"
#include "kazu/kazu.h"
#include "kazu/text.h"

/* Sentences joined by " | " (static buffer: one call per check). */
static const char *split(const char *text) {
    static char out[4096];
    kz_span spans[64];
    size_t n = kz_sentences_split(text, strlen(text), spans, 64);
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && i < 64; i++)
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%.*s", i ? " | " : "",
                              (int)(spans[i].end - spans[i].start), text + spans[i].start);
    return out;
}

KZ_TEST(sentences_basic_terminators) {
    KZ_CHECK_STR(split("EGFR is mutated. Osimertinib helps! Does it last? Yes."),
                 "EGFR is mutated. | Osimertinib helps! | Does it last? | Yes.");
    KZ_CHECK_STR(split("  Leading and trailing space.  \n"), "Leading and trailing space.");
    KZ_CHECK_STR(split("No terminator at the end"), "No terminator at the end");
    KZ_CHECK_STR(split(""), "");
    KZ_CHECK_STR(split(" \n\t "), "");
    KZ_CHECK_STR(split("Really?! Yes."), "Really?! | Yes.");
}

KZ_TEST(sentences_abbreviations_do_not_split) {
    KZ_CHECK_STR(split("Cytokines, e.g. IL-6 and TNF, were raised. Levels fell."),
                 "Cytokines, e.g. IL-6 and TNF, were raised. | Levels fell.");
    KZ_CHECK_STR(split("Two drugs, i.e. A and B, were used."), "Two drugs, i.e. A and B, were used.");
    KZ_CHECK_STR(split("Drug vs. placebo. Next."), "Drug vs. placebo. | Next.");
    KZ_CHECK_STR(split("As shown in Fig. 2 and Figs. 3-4, it rose."),
                 "As shown in Fig. 2 and Figs. 3-4, it rose.");
    KZ_CHECK_STR(split("It rose approx. 2-fold (ca. 30%). Then it fell."),
                 "It rose approx. 2-fold (ca. 30%). | Then it fell.");
    KZ_CHECK_STR(split("Dr. Smith treated patient No. 5. It worked."),
                 "Dr. Smith treated patient No. 5. | It worked.");
    KZ_CHECK_STR(split("See Eq. 3 and Ref. 12, cf. Table 1. Done."),
                 "See Eq. 3 and Ref. 12, cf. Table 1. | Done.");
    KZ_CHECK_STR(split("Costs, incl. VAT, and risks (resp. 5 and 10) were low."),
                 "Costs, incl. VAT, and risks (resp. 5 and 10) were low.");
    KZ_CHECK_STR(split("Samples from the U.S. Food and Drug Administration were used."),
                 "Samples from the U.S. Food and Drug Administration were used.");
}

KZ_TEST(sentences_initials_and_species) {
    KZ_CHECK_STR(split("J. R. Smith described E. coli and S. aureus strains. They grew."),
                 "J. R. Smith described E. coli and S. aureus strains. | They grew.");
    KZ_CHECK_STR(split("Streptococcus sp. strain X was isolated. Bacillus spp. The rest grew."),
                 "Streptococcus sp. strain X was isolated. | Bacillus spp. | The rest grew.");
}

KZ_TEST(sentences_units_are_not_initials) {
    KZ_CHECK_STR(split("Apoptosis began within 48 h. Resistance arose later."),
                 "Apoptosis began within 48 h. | Resistance arose later.");
    KZ_CHECK_STR(split("See p. 12 and pp. 3-5 of the supplement."),
                 "See p. 12 and pp. 3-5 of the supplement.");
}

KZ_TEST(sentences_et_al_and_etc) {
    KZ_CHECK_STR(split("Smith et al. reported this. Jones et al. (2005) disagreed."),
                 "Smith et al. reported this. | Jones et al. (2005) disagreed.");
    KZ_CHECK_STR(split("As shown by Lee et al. The effect was large."),
                 "As shown by Lee et al. | The effect was large.");
    KZ_CHECK_STR(split("Genes, proteins, etc. were measured. Lipids, etc. These too."),
                 "Genes, proteins, etc. were measured. | Lipids, etc. | These too.");
}

KZ_TEST(sentences_numbers_and_notation) {
    KZ_CHECK_STR(split("The dose was 2.5 mg. Survival improved (p<0.05). The p.R123H variant was rare."),
                 "The dose was 2.5 mg. | Survival improved (p<0.05). | The p.R123H variant was rare.");
    KZ_CHECK_STR(split("The median was 18.9. 12 patients relapsed."),
                 "The median was 18.9. | 12 patients relapsed.");
    KZ_CHECK_STR(split("Carriers of p.R123H. The variant is rare."),
                 "Carriers of p.R123H. | The variant is rare.");
}

KZ_TEST(sentences_lowercase_gene_names_start_sentences) {
    KZ_CHECK_STR(
        split("Apoptosis increased. p53 was stabilised. mTOR was inhibited. siRNA knock-down worked."),
        "Apoptosis increased. | p53 was stabilised. | mTOR was inhibited. | siRNA knock-down worked.");
    /* An ordinary lower-case word after a period is not a new sentence. */
    KZ_CHECK_STR(split("The level was 5 mg/dl. in serum and urine."),
                 "The level was 5 mg/dl. in serum and urine.");
}

KZ_TEST(sentences_ellipses_quotes_brackets_citations) {
    KZ_CHECK_STR(split("It was unclear... Then it cleared. It was odd… later it was not."),
                 "It was unclear... | Then it cleared. | It was odd… later it was not.");
    KZ_CHECK_STR(split("He said \"stop.\" Then he left. (This was rare.) It resumed."),
                 "He said \"stop.\" | Then he left. | (This was rare.) | It resumed.");
    KZ_CHECK_STR(split("Resistance arose in cancer.[12,13] Next came therapy. Done [3]. Yes."),
                 "Resistance arose in cancer.[12,13] | Next came therapy. | Done [3]. | Yes.");
    KZ_CHECK_STR(split("It is ‘effective.’ “Really?” Yes."), "It is ‘effective.’ | “Really?” | Yes.");
}

KZ_TEST(sentences_blank_line_is_a_hard_break) {
    KZ_CHECK_STR(split("Title without a period\n\nBody starts here. Ends."),
                 "Title without a period | Body starts here. | Ends.");
    KZ_CHECK_STR(split("Wrapped line\ncontinues here."), "Wrapped line\ncontinues here.");
    KZ_CHECK_STR(split("Heading\n  \t\r\nText."), "Heading | Text.");
}

KZ_TEST(sentences_non_ascii_spans_are_bytes_on_boundaries) {
    const char *t = "Sjögren’s syndrome is rare. β-catenin rose ≥ 2-fold. Über alles.";
    kz_span s[8];
    size_t n = kz_sentences_split(t, strlen(t), s, 8);
    KZ_CHECK_INT(n, 3);
    for (size_t i = 0; i < n; i++) {
        KZ_CHECK(kz_utf8_is_boundary(t, strlen(t), (size_t)s[i].start));
        KZ_CHECK(kz_utf8_is_boundary(t, strlen(t), (size_t)s[i].end));
    }
    KZ_CHECK_INT(s[0].start, 0);
    KZ_CHECK_INT(s[0].end, (int64_t)strlen("Sjögren’s syndrome is rare."));
    KZ_CHECK_STR(split(t), "Sjögren’s syndrome is rare. | β-catenin rose ≥ 2-fold. | Über alles.");
}

KZ_TEST(sentences_count_exceeds_cap) {
    const char *t = "One. Two. Three. Four.";
    kz_span s[2];
    KZ_CHECK_INT(kz_sentences_split(t, strlen(t), NULL, 0), 4);
    KZ_CHECK_INT(kz_sentences_split(t, strlen(t), s, 2), 4);
    KZ_CHECK_INT(s[1].start, 5);
    KZ_CHECK_INT(s[1].end, 9);
}

KZ_TEST(sentences_invalid_utf8_does_not_crash) {
    const char t[] = "Bad \xff\xfe bytes. Next \xc3 one.";
    kz_span s[4];
    KZ_CHECK_INT(kz_sentences_split(t, sizeof t - 1, s, 4), 2);
}

static kz_pipeline *pipeline_from(const char *yaml) {
    kz_config *cfg;
    kz_error err;
    if (kz_config_load_string(&cfg, yaml, strlen(yaml), "test", NULL, &err)) return NULL;
    kz_pipeline *p = NULL;
    kz_pipeline_new(kz_config_root(cfg), &p, &err);
    kz_config_free(cfg);
    return p;
}

KZ_TEST(sentence_step_sets_spans_once) {
    kz_pipeline *p = pipeline_from("pipeline:\n  steps: [SentenceSplitter]\n");
    KZ_CHECK(p != NULL);
    kz_doc *d = kz_doc_new("d1", 2);
    kz_section *a, *b;
    KZ_CHECK_INT(
        kz_doc_add_section(d, "title", 5, "Über EGFR. Next one.", strlen("Über EGFR. Next one."), &a, NULL),
        0);
    KZ_CHECK_INT(kz_doc_add_section(d, "abstract", 8, "Kept. As is.", 12, &b, NULL), 0);
    kz_span preset = {0, 12};
    KZ_CHECK_INT(kz_section_set_sentence_spans(d, b, &preset, 1, NULL), 0);
    KZ_CHECK_INT(kz_pipeline_run(p, &d, 1, NULL, NULL), 0);
    KZ_CHECK(!kz_doc_failed(d));
    KZ_CHECK_INT(a->n_sentence_spans, 2);
    KZ_CHECK_INT(a->sentence_spans[0].end, (int64_t)strlen("Über EGFR."));
    KZ_CHECK_INT(b->n_sentence_spans, 1); /* already set: left alone */
    KZ_CHECK_INT(b->sentence_spans[0].end, 12);
    kz_doc_free(d);
    kz_pipeline_free(p);
}

KZ_TEST(sentence_step_refuses_params) {
    kz_config *cfg;
    kz_error err;
    const char *y = "pipeline:\n  steps:\n    - type: SentenceSplitter\n      params: {lang: en}\n";
    KZ_CHECK_INT(kz_config_load_string(&cfg, y, strlen(y), "s.yaml", NULL, &err), 0);
    kz_pipeline *p = NULL;
    KZ_CHECK_INT(kz_pipeline_new(kz_config_root(cfg), &p, &err), KZ_ECONFIG);
    KZ_CHECK(p == NULL);
    char buf[600];
    KZ_CHECK_STR(kz_error_format(&err, buf, sizeof buf),
                 "s.yaml:4:16: SentenceSplitter: unknown key 'lang' (no keys are accepted here) [invalid "
                 "configuration]");
    kz_config_free(cfg);
}
