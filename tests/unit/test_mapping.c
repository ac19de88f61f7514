/* MappingStep (src/link/mapping*.c): Kazu's mapping strategies, the tiered
 * breadth-first runner, disambiguation and the TF-IDF context scorer, over a
 * tiny pack built here (ports of test_mapping_strategies.py,
 * test_linking_strategy_runner.py, test_disambiguation_strategies.py). */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kz_test.h"
#include "kazu/kazu.h"
#include "link/mapping_int.h"

static char g_dir[128];
static char g_pack[192];
static kz_kb *g_kb;

static void write_file(const char *name, const char *fmt, ...) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    FILE *f = fopen(p, "w");
    if (!f) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

static void cleanup(void) {
    kz_kb_close(g_kb);
    g_kb = NULL;
    static const char *files[] = {"diseases.tsv", "genes.tsv", "recipe.yaml", "t.kzkb"};
    char p[256];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, files[i]);
        unlink(p);
    }
    rmdir(g_dir);
}

/* The pack every test uses (built once per process). */
static kz_kb *kb(void) {
    if (g_kb) return g_kb;
    snprintf(g_dir, sizeof g_dir, "/tmp/kz_test_mapping_%d", (int)getpid());
    mkdir(g_dir, 0700);
    write_file("diseases.tsv", "id\tname\tsynonyms\tdefinition\n"
                               "D:1\tLung Cancer\tlung carcinoma|LC\tA cancer of the lung\n"
                               "D:2\tLymphocytic Choriomeningitis\tLC\tA viral disease\n"
                               "D:3\tHeck's disease\tHeck disease\toral lesions\n"
                               "D:4\tNeck Disease\t\tneck\n");
    write_file("genes.tsv", "symbol\tname\talias\tannotation_score\n"
                            "EGFR\tepidermal growth factor receptor\tERBB1\t10\n"
                            "ERBB2\terb-b2 receptor tyrosine kinase 2\tERBB1|HER2\t5\n"
                            "TESTIN\ttestin LIM domain protein\t\t3\n"
                            "ABCD\tabcd protein\t\t1\n"
                            "WXYZ\twxyz protein\t\t1\n"
                            "KIT\tKIT proto-oncogene\t\t1\n");
    write_file(
        "recipe.yaml",
        "kb:\n  name: mapping-test\n  sources:\n"
        "  - name: TEST_DISEASE\n    entity_class: disease\n    format: tabular\n    path: diseases.tsv\n"
        "    source: TESTDB\n    data_origin: \"t1\"\n    id_col: id\n    label_col: name\n"
        "    syn_cols: [synonyms]\n    meta_cols: [definition]\n    list_sep: \"|\"\n"
        "    synonym_generation: none\n    autocurator: none\n    id_grouping: per_id\n"
        "  - name: TEST_GENE\n    entity_class: gene\n    format: tabular\n    path: genes.tsv\n"
        "    id_col: symbol\n    label_col: symbol\n    syn_cols: [name, alias]\n"
        "    meta_cols: [annotation_score]\n    list_sep: \"|\"\n"
        "    synonym_generation: none\n    autocurator: none\n    id_grouping: per_id\n");
    char recipe[256];
    snprintf(recipe, sizeof recipe, "%s/recipe.yaml", g_dir);
    snprintf(g_pack, sizeof g_pack, "%s/t.kzkb", g_dir);
    kz_kb_build_opts opts = {.force = true, .allow_conflicts = true};
    kz_kb_build_report rep;
    kz_error err;
    atexit(cleanup);
    int rc = kz_kb_build(recipe, g_pack, &opts, &rep, &err);
    if (!rc) rc = kz_kb_open(g_pack, &g_kb, &err);
    if (rc) {
        char buf[512];
        fprintf(stderr, "pack build failed: %s\n", kz_error_format(&err, buf, sizeof buf));
    }
    return g_kb;
}

/* ---- helpers ---------------------------------------------------------------------- */
static kz_doc *doc_of(const char *text, kz_section **sec) {
    kz_doc *d = kz_doc_new("d", 1);
    kz_doc_add_section(d, "na", 2, text, strlen(text), sec, NULL);
    return d;
}

/* Entity over the first occurrence of surface in the section text. */
static kz_entity *ent(kz_doc *d, kz_section *s, const char *surface, const char *cls, int conf) {
    const char *p = strstr(s->text.ptr, surface);
    if (!p) return NULL;
    kz_span sp = {p - s->text.ptr, p - s->text.ptr + (int64_t)strlen(surface)};
    kz_entity_init in = {.spans = &sp,
                         .n_spans = 1,
                         .entity_class = kz_str_c(cls),
                         .namespace_ = kz_str_c("test"),
                         .mention_confidence = conf};
    kz_entity *e = NULL;
    kz_section_add_entity(d, s, &in, &e, NULL);
    return e;
}

/* The pack candidate of parser for surface (normalised for cls), copied the
 * way the dictionary step does it: a view in the document arena. */
static const kz_candidate *cand(kz_doc *d, const char *cls, const char *surface, const char *parser) {
    char *norm = NULL;
    size_t nl = 0;
    if (kz_normalise(surface, strlen(surface), cls, &norm, &nl, NULL)) return NULL;
    const uint32_t *ids;
    size_t n = 0;
    kz_kb_lookup_norm(kb(), kz_str_c(cls), (kz_str){norm, nl}, &ids, &n);
    free(norm);
    for (size_t i = 0; i < n; i++) {
        kz_candidate *c = kz_arena_alloc(d->arena, sizeof *c);
        if (c && !kz_kb_candidate_at(kb(), ids[i], d->arena, c) && kz_str_eq_c(c->parser_name, parser))
            return c;
    }
    return NULL;
}

static kz_metrics exact(void) { return (kz_metrics){.present = KZ_METRIC_EXACT, .exact_match = true}; }
static kz_metrics search(double s) { return (kz_metrics){.present = KZ_METRIC_SEARCH, .search_score = s}; }

static bool attach(kz_doc *d, kz_entity *e, const kz_candidate *c, kz_metrics m) {
    return c && e && kz_entity_add_candidate(d, e, c, &m) == 0;
}

static const kz_mapping *mapping_of(const kz_entity *e, const char *idx) {
    for (uint32_t i = 0; i < e->n_mappings; i++)
        if (kz_str_eq_c(e->mappings[i].idx, idx)) return &e->mappings[i];
    return NULL;
}

/* Every level (symbolic and not) runs the same strategy list. */
static void table_all(kz__mapper *m, const kz__strategy *s, uint32_t n, bool stop) {
    for (int li = 0; li < KZ__LEVELS; li++)
        for (int sym = 0; sym < 2; sym++) {
            kz__level *lv = sym ? &m->symbolic[li] : &m->non_symbolic[li];
            memset(lv, 0, sizeof *lv);
            lv->present = true;
            lv->stop_on_success = stop;
            for (uint32_t i = 0; i < n; i++) lv->defaults.s[i] = s[i];
            lv->defaults.n = n;
        }
}

static kz__strategy strat(int kind, int conf, const char *dis) {
    kz__strategy s = kz__strategy_make(kind, conf);
    if (dis) kz__strategy_add_dis_list(&s, dis);
    return s;
}

/* ---- tests -------------------------------------------------------------------------- */
KZ_TEST(exact_match_prefers_default_label) {
    KZ_CHECK(kb() != NULL);
    kz__mapper *m = kz__mapper_new(kb());
    kz_section *s;
    kz_doc *d = doc_of("Lung Cancer is common. Lung Cancer kills.", &s);
    kz_entity *e1 = ent(d, s, "Lung Cancer", "disease", KZ_MENTION_HIGHLY_LIKELY);
    /* the second mention, at another offset, has the same key: one group */
    kz_span sp = {23, 34};
    kz_entity_init in = {.spans = &sp,
                         .n_spans = 1,
                         .entity_class = kz_str_c("disease"),
                         .namespace_ = kz_str_c("test"),
                         .mention_confidence = KZ_MENTION_HIGHLY_LIKELY};
    kz_entity *e2 = NULL;
    KZ_CHECK_INT(kz_section_add_entity(d, s, &in, &e2, NULL), 0);
    const kz_candidate *c = cand(d, "disease", "Lung Cancer", "TEST_DISEASE");
    KZ_CHECK(attach(d, e1, c, exact()));
    KZ_CHECK(attach(d, e2, c, exact()));
    KZ_CHECK(e1->match_norm.ptr == NULL); /* computed by the runner */
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_KSTR(e1->match_norm, "LUNG CANCER");
    for (int k = 0; k < 2; k++) {
        kz_entity *e = k ? e2 : e1;
        KZ_CHECK_INT(e->n_mappings, 1);
        const kz_mapping *mp = &e->mappings[0];
        KZ_CHECK_KSTR(mp->idx, "D:1");
        KZ_CHECK_KSTR(mp->source, "TESTDB");
        KZ_CHECK_KSTR(mp->parser_name, "TEST_DISEASE");
        KZ_CHECK_KSTR(mp->default_label, "Lung Cancer");
        KZ_CHECK_KSTR(mp->string_match_strategy, "ExactMatchMappingStrategy");
        KZ_CHECK_INT(mp->string_match_confidence, KZ_SMC_HIGHLY_LIKELY);
        KZ_CHECK_KSTR(mp->disambiguation_strategy, "PreferDefaultLabelMatchDisambiguationStrategy");
        KZ_CHECK_INT(mp->disambiguation_confidence, KZ_DC_HIGHLY_LIKELY);
        KZ_CHECK_KSTR(kz_meta_get(&mp->metadata, "data_origin"), "\"t1\"");
        KZ_CHECK_KSTR(kz_meta_get(&mp->metadata, "definition"), "\"A cancer of the lung\"");
    }
    /* running again adds nothing (mappings are a set) */
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(e1->n_mappings, 1);
    kz_doc_free(d);
    kz__mapper_free(m);
}

KZ_TEST(ambiguous_symbol_resolved_by_defined_elsewhere) {
    KZ_CHECK(kb() != NULL);
    kz__mapper *m = kz__mapper_new(kb());
    /* "LC" is symbolic and maps to D:1 and D:2 (one id set each). The
     * non-symbolic "lung carcinoma" runs first and maps D:1, so LC follows it. */
    kz_section *s;
    kz_doc *d = doc_of("LC (lung carcinoma) is bad", &s);
    kz_entity *lc = ent(d, s, "LC", "disease", KZ_MENTION_HIGHLY_LIKELY);
    kz_entity *full = ent(d, s, "lung carcinoma", "disease", KZ_MENTION_HIGHLY_LIKELY);
    const kz_candidate *clc = cand(d, "disease", "LC", "TEST_DISEASE");
    KZ_CHECK(clc != NULL);
    KZ_CHECK_INT(clc->n_id_sets, 2);
    KZ_CHECK(attach(d, lc, clc, exact()));
    KZ_CHECK(attach(d, full, cand(d, "disease", "lung carcinoma", "TEST_DISEASE"), exact()));
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(full->n_mappings, 1);
    /* not the default label: the essential PreferDefaultLabel fails, then plain exact */
    KZ_CHECK_KSTR(full->mappings[0].disambiguation_strategy, "disambiguation_not_required");
    KZ_CHECK_INT(full->mappings[0].disambiguation_confidence, KZ_DC_NONE);
    KZ_CHECK_INT(lc->n_mappings, 1);
    KZ_CHECK_KSTR(lc->mappings[0].idx, "D:1");
    KZ_CHECK_KSTR(lc->mappings[0].disambiguation_strategy,
                  "DefinedElsewhereInDocumentDisambiguationStrategy");
    KZ_CHECK_INT(lc->mappings[0].disambiguation_confidence, KZ_DC_HIGHLY_LIKELY);
    kz_doc_free(d);

    /* alone, LC stays ambiguous: TfIdf's default aggregations skip CUSTOM
     * synonyms, so every id is mapped and marked AMBIGUOUS */
    d = doc_of("LC is bad", &s);
    lc = ent(d, s, "LC", "disease", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK(attach(d, lc, cand(d, "disease", "LC", "TEST_DISEASE"), exact()));
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(lc->n_mappings, 2);
    KZ_CHECK(mapping_of(lc, "D:1") && mapping_of(lc, "D:2"));
    KZ_CHECK_INT(mapping_of(lc, "D:2")->disambiguation_confidence, KZ_DC_AMBIGUOUS);
    KZ_CHECK(mapping_of(lc, "D:2")->disambiguation_strategy.ptr == NULL);
    KZ_CHECK_KSTR(mapping_of(lc, "D:2")->default_label, "Lymphocytic Choriomeningitis");
    kz_doc_free(d);

    /* both ids defined elsewhere: DefinedElsewhere keeps two sets, which is no
     * decision (Kazu's test: {"3", "1"}), so LC stays AMBIGUOUS */
    d = doc_of("LC: Lung Cancer or Lymphocytic Choriomeningitis", &s);
    lc = ent(d, s, "LC", "disease", KZ_MENTION_HIGHLY_LIKELY);
    kz_entity *a = ent(d, s, "Lung Cancer", "disease", KZ_MENTION_HIGHLY_LIKELY);
    kz_entity *b = ent(d, s, "Lymphocytic Choriomeningitis", "disease", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK(attach(d, lc, cand(d, "disease", "LC", "TEST_DISEASE"), exact()));
    KZ_CHECK(attach(d, a, cand(d, "disease", "Lung Cancer", "TEST_DISEASE"), exact()));
    KZ_CHECK(attach(d, b, cand(d, "disease", "Lymphocytic Choriomeningitis", "TEST_DISEASE"), exact()));
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(a->n_mappings, 1);
    KZ_CHECK_INT(b->n_mappings, 1);
    KZ_CHECK_INT(lc->n_mappings, 2);
    KZ_CHECK_INT(lc->mappings[0].disambiguation_confidence, KZ_DC_AMBIGUOUS);
    kz_doc_free(d);
    kz__mapper_free(m);
}

KZ_TEST(possible_needs_defined_elsewhere) {
    KZ_CHECK(kb() != NULL);
    kz__mapper *m = kz__mapper_new(kb());
    kz_section *s;
    /* POSSIBLE: ExactMatch with essential DefinedElsewhere. HIGHLY_LIKELY
     * entities are mapped before (confidence groups run in descending order). */
    kz_doc *d = doc_of("Lung Cancer and LC", &s);
    kz_entity *full = ent(d, s, "Lung Cancer", "disease", KZ_MENTION_HIGHLY_LIKELY);
    kz_entity *lc = ent(d, s, "LC", "disease", KZ_MENTION_POSSIBLE);
    KZ_CHECK(attach(d, full, cand(d, "disease", "Lung Cancer", "TEST_DISEASE"), exact()));
    KZ_CHECK(attach(d, lc, cand(d, "disease", "LC", "TEST_DISEASE"), exact()));
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(lc->n_mappings, 1);
    KZ_CHECK_KSTR(lc->mappings[0].idx, "D:1");
    kz_doc_free(d);
    d = doc_of("LC only", &s);
    lc = ent(d, s, "LC", "disease", KZ_MENTION_POSSIBLE);
    KZ_CHECK(attach(d, lc, cand(d, "disease", "LC", "TEST_DISEASE"), exact()));
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(lc->n_mappings, 0);
    /* IGNORE has no strategies at all */
    kz_entity *ig = ent(d, s, "only", "disease", KZ_MENTION_IGNORE);
    KZ_CHECK(attach(d, ig, cand(d, "disease", "Lung Cancer", "TEST_DISEASE"), exact()));
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(ig->n_mappings, 0);
    kz_doc_free(d);
    kz__mapper_free(m);
}

KZ_TEST(gene_annotation_level_after_skipped_gilda) {
    KZ_CHECK(kb() != NULL);
    kz__mapper *m = kz__mapper_new(kb());
    kz_section *s;
    kz_doc *d = doc_of("ERBB1 signalling", &s);
    kz_entity *e = ent(d, s, "ERBB1", "gene", KZ_MENTION_HIGHLY_LIKELY);
    const kz_candidate *c = cand(d, "gene", "ERBB1", "TEST_GENE");
    KZ_CHECK(c != NULL);
    KZ_CHECK_INT(c->n_id_sets, 2);
    KZ_CHECK(attach(d, e, c, exact()));
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    /* gene list: E(prefer_default_label, essential) fails (no default label
     * ERBB1), E(gene): DefinedElsewhere fails, GildaTfIdf is skipped,
     * AnnotationLevel picks EGFR (10 > 5) */
    KZ_CHECK_INT(e->n_mappings, 1);
    KZ_CHECK_KSTR(e->mappings[0].idx, "EGFR");
    KZ_CHECK_KSTR(e->mappings[0].disambiguation_strategy, "AnnotationLevelDisambiguationStrategy");
    KZ_CHECK_INT(e->mappings[0].disambiguation_confidence, KZ_DC_POSSIBLE);
    KZ_CHECK_KSTR(kz_meta_get(&e->mappings[0].metadata, "annotation_score"), "\"10\"");
    kz_doc_free(d);
    kz__mapper_free(m);
}

KZ_TEST(symbol_match_and_substring) {
    KZ_CHECK(kb() != NULL);
    kz__mapper *m = kz__mapper_new(kb());
    kz__strategy sy = strat(KZ__MS_SYMBOL, KZ_SMC_PROBABLE, "none");
    table_all(m, &sy, 1, true);
    kz_section *s;
    kz_doc *d = doc_of("ERB B 2 and TESTIN gene", &s);
    kz_entity *e = ent(d, s, "ERB B 2", "gene", KZ_MENTION_HIGHLY_LIKELY);
    /* "ERB B 2" has more tokens than "ERBB 2" (the gene norm of ERBB2): each
     * of its tokens is taken out of "ERBB 2" once, leaving only a space */
    KZ_CHECK_INT(kz_entity_set_match_norm(d, e, kz_str_c("ERB B 2")), 0);
    KZ_CHECK(attach(d, e, cand(d, "gene", "ERBB2", "TEST_GENE"), search(70)));
    KZ_CHECK(attach(d, e, cand(d, "gene", "EGFR", "TEST_GENE"), search(60)));
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(e->n_mappings, 1);
    KZ_CHECK_KSTR(e->mappings[0].idx, "ERBB2");
    KZ_CHECK_KSTR(e->mappings[0].string_match_strategy, "SymbolMatchMappingStrategy");
    KZ_CHECK_INT(e->mappings[0].string_match_confidence, KZ_SMC_PROBABLE);

    /* SynNormIsSubString: "TESTIN gene" -> TESTIN (longest unique whole token) */
    kz__strategy sub = strat(KZ__MS_SUBSTRING, KZ_SMC_PROBABLE, "none");
    table_all(m, &sub, 1, true);
    kz_entity *t = ent(d, s, "TESTIN gene", "gene", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK_INT(kz_entity_set_match_norm(d, t, kz_str_c("TESTIN GENE")), 0);
    KZ_CHECK(attach(d, t, cand(d, "gene", "TESTIN", "TEST_GENE"), search(50)));
    KZ_CHECK(attach(d, t, cand(d, "gene", "EGFR", "TEST_GENE"), search(55)));
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(t->n_mappings, 1);
    KZ_CHECK_KSTR(t->mappings[0].idx, "TESTIN");
    KZ_CHECK_KSTR(t->mappings[0].string_match_strategy, "SynNormIsSubStringMappingStrategy");
    kz_doc_free(d);

    /* two tokens of the same length tie -> fall through to the next length;
     * all lengths tied -> nothing */
    const char *norms[2] = {"ABCD WXYZ KIT", "ABCD WXYZ"};
    for (int k = 0; k < 2; k++) {
        d = doc_of("some genes", &s);
        e = ent(d, s, "some genes", "gene", KZ_MENTION_HIGHLY_LIKELY);
        KZ_CHECK_INT(kz_entity_set_match_norm(d, e, kz_str_c(norms[k])), 0);
        KZ_CHECK(attach(d, e, cand(d, "gene", "ABCD", "TEST_GENE"), search(50)));
        KZ_CHECK(attach(d, e, cand(d, "gene", "WXYZ", "TEST_GENE"), search(50)));
        KZ_CHECK(attach(d, e, cand(d, "gene", "KIT", "TEST_GENE"), search(50)));
        KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
        KZ_CHECK_INT(e->n_mappings, k == 0 ? 1 : 0);
        if (k == 0) KZ_CHECK_KSTR(e->mappings[0].idx, "KIT");
        kz_doc_free(d);
    }
    /* min_syn_norm_len: a 3-letter token is too short at 4 */
    sub.min_len = 4;
    table_all(m, &sub, 1, true);
    d = doc_of("KIT gene", &s);
    e = ent(d, s, "KIT gene", "gene", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK_INT(kz_entity_set_match_norm(d, e, kz_str_c("KIT GENE")), 0);
    KZ_CHECK(attach(d, e, cand(d, "gene", "KIT", "TEST_GENE"), search(50)));
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(e->n_mappings, 0);
    kz_doc_free(d);
    kz__mapper_free(m);
}

/* Kazu's test_StrongMatchStringMatchingStrategy: scores 100, 88, 70. */
KZ_TEST(strong_match_threshold_and_differential) {
    KZ_CHECK(kb() != NULL);
    kz__mapper *m = kz__mapper_new(kb());
    const double params[2][2] = {{100.0, 0.0}, {85.0, 15.0}};
    for (int k = 0; k < 2; k++) {
        kz__strategy st = strat(KZ__MS_STRONG, KZ_SMC_POSSIBLE, "none");
        st.search_threshold = params[k][0];
        st.differential = params[k][1];
        table_all(m, &st, 1, true);
        kz_section *s;
        kz_doc *d = doc_of("p27 is often confused", &s);
        kz_entity *e = ent(d, s, "p27", "gene", KZ_MENTION_HIGHLY_LIKELY);
        KZ_CHECK(attach(d, e, cand(d, "gene", "EGFR", "TEST_GENE"), search(100)));
        KZ_CHECK(attach(d, e, cand(d, "gene", "HER2", "TEST_GENE"), search(88)));
        KZ_CHECK(attach(d, e, cand(d, "gene", "TESTIN", "TEST_GENE"), search(70)));
        KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
        KZ_CHECK(mapping_of(e, "EGFR") != NULL);
        KZ_CHECK_INT(e->n_mappings, k == 0 ? 1 : 2);
        KZ_CHECK((mapping_of(e, "ERBB2") != NULL) == (k == 1));
        KZ_CHECK(mapping_of(e, "TESTIN") == NULL);
        if (k == 1) KZ_CHECK_INT(mapping_of(e, "EGFR")->disambiguation_confidence, KZ_DC_AMBIGUOUS);
        kz_doc_free(d);
    }
    /* symbolic_only ignores non-symbolic candidates */
    kz__strategy st = strat(KZ__MS_STRONG, KZ_SMC_POSSIBLE, "none");
    st.symbolic_only = true;
    table_all(m, &st, 1, true);
    kz_section *s;
    kz_doc *d = doc_of("egf receptor", &s);
    kz_entity *e = ent(d, s, "egf receptor", "gene", KZ_MENTION_HIGHLY_LIKELY);
    const kz_candidate *c = cand(d, "gene", "epidermal growth factor receptor", "TEST_GENE");
    KZ_CHECK(c && !c->is_symbolic);
    KZ_CHECK(attach(d, e, c, search(95)));
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(e->n_mappings, 0);
    kz_doc_free(d);
    kz__mapper_free(m);
}

static double first_letter_scorer(void *user, kz_str a, kz_str b) {
    int *calls = user;
    (*calls)++;
    if (!a.len || !b.len) return 0;
    char x = a.ptr[0] | 0x20, y = b.ptr[0] | 0x20;
    return x == y ? 0.9 : 0.1;
}

/* Kazu's Neck/Heck disease case, with a toy scorer plugged into the seam. */
KZ_TEST(embedding_confirmation_seam) {
    KZ_CHECK(kb() != NULL);
    kz__mapper *m = kz__mapper_new(kb());
    kz__strategy ste = strat(KZ__MS_STRONG_EMBED, KZ_SMC_POSSIBLE, "none");
    ste.search_threshold = 90;
    ste.differential = 0;
    table_all(m, &ste, 1, true);
    for (int with = 0; with < 2; with++) {
        int calls = 0;
        m->embed = with ? first_letter_scorer : NULL;
        m->embed_user = &calls;
        kz_section *s;
        kz_doc *d = doc_of("Neck disease is often confused with Heck Disease", &s);
        kz_entity *e = ent(d, s, "Neck disease", "disease", KZ_MENTION_HIGHLY_LIKELY);
        KZ_CHECK(attach(d, e, cand(d, "disease", "Heck's disease", "TEST_DISEASE"), search(95)));
        KZ_CHECK(attach(d, e, cand(d, "disease", "Heck disease", "TEST_DISEASE"), search(95)));
        KZ_CHECK(attach(d, e, cand(d, "disease", "Neck Disease", "TEST_DISEASE"), search(95)));
        KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
        if (!with) {
            KZ_CHECK_INT(e->n_mappings, 0); /* off: no scorer, no mapping */
        } else {
            KZ_CHECK_INT(e->n_mappings, 1);
            KZ_CHECK_KSTR(e->mappings[0].idx, "D:4");
            KZ_CHECK_KSTR(e->mappings[0].string_match_strategy,
                          "StrongMatchWithEmbeddingConfirmationStringMatchingStrategy");
            /* one candidate per distinct id-set: the two Heck synonyms share D:3 */
            KZ_CHECK_INT(calls, 2);
        }
        kz_doc_free(d);
    }
    kz__mapper_free(m);
}

KZ_TEST(runner_stop_on_success_and_parsers) {
    KZ_CHECK(kb() != NULL);
    kz__mapper *m = kz__mapper_new(kb());
    kz__strategy list[2] = {strat(KZ__MS_EXACT, KZ_SMC_HIGHLY_LIKELY, "none"),
                            strat(KZ__MS_STRONG, KZ_SMC_POSSIBLE, "none")};
    for (int stop = 0; stop < 2; stop++) {
        table_all(m, list, 2, stop == 1);
        kz_section *s;
        kz_doc *d = doc_of("Lung Cancer", &s);
        kz_entity *e = ent(d, s, "Lung Cancer", "disease", KZ_MENTION_HIGHLY_LIKELY);
        /* parser 1 resolves with ExactMatch; parser 2 only by StrongMatch */
        KZ_CHECK(attach(d, e, cand(d, "disease", "Lung Cancer", "TEST_DISEASE"), exact()));
        KZ_CHECK(attach(d, e, cand(d, "gene", "TESTIN", "TEST_GENE"), search(99)));
        KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
        KZ_CHECK(mapping_of(e, "D:1") != NULL);
        KZ_CHECK_INT(e->n_mappings, stop ? 1 : 2);
        KZ_CHECK((mapping_of(e, "TESTIN") != NULL) == !stop);
        kz_doc_free(d);
    }
    /* both parsers resolved by the same strategy index: both mapped even with
     * stop_on_success (Kazu's test 3: one mapping per parser) */
    table_all(m, list, 2, true);
    kz_section *s;
    kz_doc *d = doc_of("x", &s);
    kz_entity *e = ent(d, s, "x", "disease", KZ_MENTION_PROBABLE);
    KZ_CHECK(attach(d, e, cand(d, "disease", "Lung Cancer", "TEST_DISEASE"), exact()));
    KZ_CHECK(attach(d, e, cand(d, "gene", "TESTIN", "TEST_GENE"), exact()));
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(e->n_mappings, 2);
    kz_doc_free(d);
    kz__mapper_free(m);
}

KZ_TEST(disambiguation_essential_without_winner_maps_nothing) {
    KZ_CHECK(kb() != NULL);
    kz__mapper *m = kz__mapper_new(kb());
    kz__strategy e1 = strat(KZ__MS_EXACT, KZ_SMC_HIGHLY_LIKELY, "prefer_default_label");
    e1.essential = true;
    table_all(m, &e1, 1, true);
    kz_section *s;
    kz_doc *d = doc_of("lung carcinoma", &s);
    kz_entity *e = ent(d, s, "lung carcinoma", "disease", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK(attach(d, e, cand(d, "disease", "lung carcinoma", "TEST_DISEASE"), exact()));
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(e->n_mappings, 0); /* single id set, but essential and no default-label match */
    kz_doc_free(d);
    kz__mapper_free(m);
}

/* ---- TF-IDF context ---------------------------------------------------------------------- */
KZ_TEST(tfidf_features_follow_kazu_analyzer) {
    uint64_t f[32];
    /* words: "AB","C"; bigram "AB C"; char 2: "AB","B "," C"; char 3: "AB ","B C" */
    KZ_CHECK_INT(kz__tfidf_features("AB C", 4, f, 32), 8);
    KZ_CHECK(f[0] == f[3]); /* word "AB" and char bigram "AB" are one feature (sklearn vocabulary) */
    KZ_CHECK_INT(kz__tfidf_features("", 0, f, 32), 1);                /* "".split(" ") == [""] */
    KZ_CHECK_INT(kz__tfidf_features("α", 2, f, 32), 1);               /* one code point: no char n-gram */
    KZ_CHECK_INT(kz__tfidf_features("αβ", 4, f, 32), 2);              /* word + one char bigram */
    KZ_CHECK_INT(kz__tfidf_features("ABCDEFGH", 8, f, 2), 1 + 7 + 6); /* count beyond cap */
}

/* brute force over feature strings: Kazu's vectoriser by the book */
typedef struct sfeat {
    char s[128];
    int n;
} sfeat;

static size_t str_feats(const char *s, sfeat *out, size_t cap) {
    size_t k = 0, len = strlen(s);
    const char *w[64];
    size_t wl[64], nw = 0, st = 0;
    for (size_t i = 0; i <= len; i++)
        if (i == len || s[i] == ' ') w[nw] = s + st, wl[nw++] = i - st, st = i + 1;
    for (size_t i = 0; i < nw && k < cap; i++) snprintf(out[k++].s, 128, "%.*s", (int)wl[i], w[i]);
    for (size_t i = 0; i + 1 < nw && k < cap; i++)
        snprintf(out[k++].s, 128, "%.*s", (int)(w[i + 1] + wl[i + 1] - w[i]), w[i]);
    for (size_t n = 2; n <= 3; n++)
        for (size_t i = 0; i + n <= len && k < cap; i++)
            snprintf(out[k++].s, 128, "%.*s", (int)n, s + i); /* ASCII */
    return k;
}

static bool has_feat(const sfeat *f, size_t n, const char *x) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(f[i].s, x)) return true;
    return false;
}

static double brute_cosine(const char *const *syns, size_t nsyn, const char *q, const char *doc) {
    static sfeat all[64][128];
    size_t nf[64];
    for (size_t i = 0; i < nsyn; i++) nf[i] = str_feats(syns[i], all[i], 128);
    sfeat qf[128], df_[512];
    size_t nq = str_feats(q, qf, 128), nd = str_feats(doc, df_, 512);
    /* vector entries keyed by distinct feature of q or doc */
    double dot = 0, qq = 0, dd = 0;
    sfeat uni[640];
    size_t nu = 0;
    for (size_t i = 0; i < nq; i++)
        if (!has_feat(uni, nu, qf[i].s)) uni[nu++] = qf[i];
    for (size_t i = 0; i < nd; i++)
        if (!has_feat(uni, nu, df_[i].s)) uni[nu++] = df_[i];
    for (size_t u = 0; u < nu; u++) {
        int dfc = 0;
        for (size_t i = 0; i < nsyn; i++) dfc += has_feat(all[i], nf[i], uni[u].s);
        if (!dfc) continue; /* not in the vocabulary */
        double idf = log((1.0 + nsyn) / (1.0 + dfc)) + 1.0;
        int cq = 0, cd = 0;
        for (size_t i = 0; i < nq; i++) cq += !strcmp(qf[i].s, uni[u].s);
        for (size_t i = 0; i < nd; i++) cd += !strcmp(df_[i].s, uni[u].s);
        dot += cq * idf * cd * idf;
        qq += (cq * idf) * (cq * idf);
        dd += (cd * idf) * (cd * idf);
    }
    return qq > 0 && dd > 0 ? dot / sqrt(qq * dd) : 0;
}

KZ_TEST(tfidf_disambiguation_by_document_context) {
    KZ_CHECK(kb() != NULL);
    kz__mapper *m = kz__mapper_new(kb());
    /* ExactMatch with [TfIdf over CUSTOM synonyms] only, as the cell_line list */
    kz__strategy e1 = kz__strategy_make(KZ__MS_EXACT, KZ_SMC_HIGHLY_LIKELY);
    e1.n_dis = 1;
    e1.dis[0] = (kz__dis){KZ__DS_TFIDF, KZ_DC_PROBABLE, 0.7, 1u << KZ_AGG_CUSTOM};
    table_all(m, &e1, 1, true);
    const char *ctx[2] = {"lymphocytic choriomeningitis", "lung carcinoma"};
    const char *want[2] = {"D:2", "D:1"};
    for (int k = 0; k < 2; k++) {
        char text[128];
        snprintf(text, sizeof text, "LC and %s", ctx[k]);
        kz_section *s;
        kz_doc *d = doc_of(text, &s);
        kz_entity *lc = ent(d, s, "LC", "disease", KZ_MENTION_HIGHLY_LIKELY);
        ent(d, s, ctx[k], "disease", KZ_MENTION_HIGHLY_LIKELY); /* context only: no candidates */
        KZ_CHECK(attach(d, lc, cand(d, "disease", "LC", "TEST_DISEASE"), exact()));
        KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
        KZ_CHECK_INT(lc->n_mappings, 1);
        KZ_CHECK_KSTR(lc->mappings[0].idx, want[k]);
        KZ_CHECK_KSTR(lc->mappings[0].disambiguation_strategy, "TfIdfDisambiguationStrategy");
        KZ_CHECK_INT(lc->mappings[0].disambiguation_confidence, KZ_DC_PROBABLE);

        /* the scores equal a by-the-book computation over the parser's synonyms */
        static const char *syns[] = {"HECK DISEASE", "HECKS DISEASE",  "LC",
                                     "LUNG CANCER",  "LUNG CARCINOMA", "LYMPHOCYTIC CHORIOMENINGITI",
                                     "NECK DISEASE"}; /* Kazu depluralises */
        /* the fixture's norms (checked here so the brute force uses the same set) */
        int32_t p = kz_kb_parser_find(kb(), kz_str_c("TEST_DISEASE"));
        KZ_CHECK(p >= 0);
        size_t npack = 0;
        kz_arena *a = kz_arena_new(0);
        for (uint64_t i = 0; i < kz_kb_n_candidates(kb()); i++) {
            kz_candidate c;
            if (kz_kb_candidate_parser(kb(), i) != (uint32_t)p || kz_kb_candidate_at(kb(), i, a, &c))
                continue;
            bool known = false;
            for (size_t j = 0; j < 7; j++) known |= kz_str_eq_c(c.synonym_norm, syns[j]);
            if (!known) fprintf(stderr, "unexpected norm %s\n", c.synonym_norm.ptr);
            KZ_CHECK(known);
            npack++;
        }
        kz_arena_free(a);
        KZ_CHECK_INT(npack, 7);
        kz__tfidf_doc *td = kz__tfidf_doc_new(d);
        KZ_CHECK(td != NULL);
        kz_str q[2] = {kz_str_c("LUNG CARCINOMA"), kz_str_c("LYMPHOCYTIC CHORIOMENINGITI")};
        double sc[2];
        KZ_CHECK_INT(kz__tfidf_score(m, td, (uint32_t)p, q, 2, sc), 0);
        char docstr[128];
        /* the document vector: every entity's match_norm joined by spaces */
        snprintf(docstr, sizeof docstr, "%s %s", s->entities[0]->match_norm.ptr,
                 s->entities[1]->match_norm.ptr);
        for (int j = 0; j < 2; j++) {
            double want_sc = brute_cosine(syns, 7, q[j].ptr, docstr);
            if (fabs(sc[j] - want_sc) > 1e-9)
                kz_test_fail(__FILE__, __LINE__, "score %f != %f", sc[j], want_sc);
        }
        KZ_CHECK(sc[k == 0 ? 1 : 0] >= 0.7);
        KZ_CHECK_INT(kz__tfidf_score(m, td, (uint32_t)p, q, 1, sc), 0);
        KZ_CHECK(sc[0] == 100.0); /* a single synonym scores 100 */
        kz__tfidf_doc_free(td);
        kz_doc_free(d);
    }
    kz__mapper_free(m);
}

/* ---- the pipeline step ---------------------------------------------------------------------- */
static kz_pipeline *pipe_from(const char *yaml, kz_error *err) {
    kz_config *cfg;
    if (kz_config_load_string(&cfg, yaml, strlen(yaml), "p.yaml", NULL, err)) return NULL;
    kz_pipeline *p = NULL;
    kz_pipeline_new(kz_config_root(cfg), &p, err);
    kz_config_free(cfg);
    return p;
}

KZ_TEST(step_runs_and_reads_overrides) {
    KZ_CHECK(kb() != NULL);
    char yaml[1024];
    kz_error err;
    snprintf(yaml, sizeof yaml,
             "pipeline:\n  steps:\n    - type: MappingStep\n      params:\n        kb: %s\n", g_pack);
    kz_pipeline *p = pipe_from(yaml, &err);
    KZ_CHECK(p != NULL);
    kz_section *s;
    kz_doc *d = doc_of("Lung Cancer", &s);
    kz_entity *e = ent(d, s, "Lung Cancer", "disease", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK(attach(d, e, cand(d, "disease", "Lung Cancer", "TEST_DISEASE"), exact()));
    KZ_CHECK_INT(kz_pipeline_run(p, &d, 1, NULL, &err), 0);
    KZ_CHECK(!kz_doc_failed(d));
    KZ_CHECK_INT(e->n_mappings, 1);
    kz_pipeline_free(p);
    kz_doc_free(d);

    /* override: disease HIGHLY_LIKELY non-symbolic = StrongMatch only */
    snprintf(yaml, sizeof yaml,
             "pipeline:\n  steps:\n    - type: MappingStep\n      params:\n        kb: %s\n"
             "        strategies:\n          non_symbolic:\n            HIGHLY_LIKELY:\n"
             "              default: []\n              classes:\n                disease:\n"
             "                  - {type: StrongMatch, confidence: POSSIBLE, search_threshold: 90,\n"
             "                     disambiguation: [{type: AnnotationLevel, confidence: POSSIBLE}]}\n",
             g_pack);
    p = pipe_from(yaml, &err);
    if (!p) {
        char buf[512];
        kz_test_fail(__FILE__, __LINE__, "%s", kz_error_format(&err, buf, sizeof buf));
        return;
    }
    d = doc_of("Lung Cancer", &s);
    e = ent(d, s, "Lung Cancer", "disease", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK(attach(d, e, cand(d, "disease", "Lung Cancer", "TEST_DISEASE"), exact()));
    KZ_CHECK_INT(kz_pipeline_run(p, &d, 1, NULL, &err), 0);
    KZ_CHECK_INT(e->n_mappings, 0); /* exact only, no search score: StrongMatch finds nothing */
    kz_pipeline_free(p);
    kz_doc_free(d);

    /* bad overrides are configuration errors with a place */
    snprintf(yaml, sizeof yaml,
             "pipeline:\n  steps:\n    - type: MappingStep\n      params:\n        kb: %s\n"
             "        strategies:\n          symbolic:\n            PROBABLE:\n"
             "              default: [{type: FuzzyMatch}]\n",
             g_pack);
    KZ_CHECK(pipe_from(yaml, &err) == NULL);
    KZ_CHECK_INT(err.code, KZ_ECONFIG);
    KZ_CHECK(strstr(err.msg, "unknown mapping strategy type") != NULL);
    snprintf(yaml, sizeof yaml,
             "pipeline:\n  steps:\n    - type: MappingStep\n      params:\n        kb: %s\n"
             "        strategies:\n          symbolic:\n            PROBABLE:\n"
             "              default: [{type: ExactMatch, essential: true}]\n",
             g_pack);
    KZ_CHECK(pipe_from(yaml, &err) == NULL);
    KZ_CHECK(strstr(err.msg, "essential") != NULL);
}

/* ---- VariantMatch (mapping_variant.c) -------------------------------------------------------- */
static char g_vdir[128];
static char g_vpack[192];
static kz_kb *g_vkb;

static void vcleanup(void) {
    kz_kb_close(g_vkb);
    g_vkb = NULL;
    static const char *files[] = {"d.tsv", "r.yaml", "v.kzkb"};
    char p[256];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s/%s", g_vdir, files[i]);
        unlink(p);
    }
    rmdir(g_vdir);
}

/* A second pack for the variant tests (the first one's TF-IDF figures stay as they are). */
static kz_kb *vkb(void) {
    if (g_vkb) return g_vkb;
    snprintf(g_vdir, sizeof g_vdir, "/tmp/kz_test_mapping_v_%d", (int)getpid());
    mkdir(g_vdir, 0700);
    char p[256];
    snprintf(p, sizeof p, "%s/d.tsv", g_vdir);
    FILE *f = fopen(p, "w");
    if (!f) return NULL;
    fputs("id\tname\tsynonyms\n"
          "V:1\tPancreatic Neoplasms\tPancreatic Tumors\n"
          "V:2\tBreast Neoplasms\tbreast cancer\n"
          "V:3\tOvarian Neoplasms\tovarian cancer\n"
          "V:4\tEpilepsy\t\n"
          "V:5\tG6PD Deficiency\tGlucose-6-Phosphate Dehydrogenase Deficiency\n"
          "V:6\tWolfram Syndrome\t\n"
          "V:7\tWolfram Disease\t\n",
          f);
    fclose(f);
    snprintf(p, sizeof p, "%s/r.yaml", g_vdir);
    if (!(f = fopen(p, "w"))) return NULL;
    fprintf(f, "kb:\n  name: variant-test\n  sources:\n"
               "  - name: V_DISEASE\n    entity_class: disease\n    format: tabular\n    path: d.tsv\n"
               "    source: VDB\n    id_col: id\n    label_col: name\n    syn_cols: [synonyms]\n"
               "    list_sep: \"|\"\n    synonym_generation: none\n    autocurator: none\n"
               "    id_grouping: per_id\n");
    fclose(f);
    snprintf(g_vpack, sizeof g_vpack, "%s/v.kzkb", g_vdir);
    kz_kb_build_opts opts = {.force = true, .allow_conflicts = true};
    kz_kb_build_report rep;
    kz_error err;
    atexit(vcleanup);
    int rc = kz_kb_build(p, g_vpack, &opts, &rep, &err);
    if (!rc) rc = kz_kb_open(g_vpack, &g_vkb, &err);
    if (rc) {
        char buf[512];
        fprintf(stderr, "variant pack build failed: %s\n", kz_error_format(&err, buf, sizeof buf));
    }
    return g_vkb;
}

/* The key of text after kz_normalise (disease rules), into out. */
static const char *vkey(const kz__variant *v, const char *text, bool mention, char *out) {
    char *norm = NULL;
    size_t nl = 0;
    out[0] = 0;
    if (kz_normalise(text, strlen(text), "disease", &norm, &nl, NULL)) return out;
    if (!kz__variant_key(v, (kz_str){norm, nl}, mention, out)) out[0] = 0;
    free(norm);
    return out;
}

KZ_TEST(variant_key_rules) {
    kz__variant_opts o = kz__variant_default_opts();
    static const char *const from[] = {"deficient"}, *const to[] = {"deficiency"};
    static const char *const mdrop[] = {"familial"};
    o.map_from = from, o.map_to = to, o.n_map = 1;
    o.mention_drop = mdrop, o.n_mention_drop = 1;
    o.drop_parenthesised = true;
    kz__variant *v = kz__variant_new(NULL, "t", &o);
    KZ_CHECK(v != NULL);
    if (!v) return;
    KZ_CHECK_STR(kz__variant_name(v), "t");
    char a[KZ__VARIANT_KEY_MAX], b[KZ__VARIANT_KEY_MAX];
    /* spelling, plural, case */
    KZ_CHECK_STR(vkey(v, "pancreatic tumours", false, a), "pancreatic tumor");
    KZ_CHECK_STR(vkey(v, "Pancreatic Tumors", false, b), a);
    KZ_CHECK_STR(vkey(v, "leukaemias", false, a), "leukemia");
    KZ_CHECK_STR(vkey(v, "diarrhoea", false, a), "diarrhea");
    KZ_CHECK_STR(vkey(v, "haemolysis", false, a), "hemolysis"); /* -sis is not a plural */
    KZ_CHECK_STR(vkey(v, "abnormalities", false, a), "abnormality");
    /* word order, stop words, letters apart from digits, word_map */
    KZ_CHECK_STR(vkey(v, "deficiency of G6PD", false, a), "6 deficiency g pd");
    KZ_CHECK_STR(vkey(v, "G6PD-deficient", false, b), a);
    /* roman numerals, also lower case ones the normaliser keeps */
    KZ_CHECK_STR(vkey(v, "type ii diabetes", false, a), vkey(v, "Type 2 diabetes", false, b));
    /* parenthesised words go */
    KZ_CHECK_STR(vkey(v, "glucose-6-phosphate dehydrogenase (G6PD) deficiency", false, a),
                 "6 deficiency dehydrogenase glucose phosphate");
    /* mention_drop_words only on the mention side */
    KZ_CHECK_STR(vkey(v, "familial breast cancer", true, a), "breast cancer");
    KZ_CHECK_STR(vkey(v, "familial breast cancer", false, a), "breast cancer familial");
    /* nothing left, and pathological input: no key */
    KZ_CHECK_STR(vkey(v, "of the", false, a), "");
    char big[4000];
    for (int i = 0; i < 1000; i++) memcpy(big + 4 * i, "ab c", 4); /* 2000 tokens */
    KZ_CHECK_INT(kz__variant_key(v, (kz_str){big, sizeof big}, false, a), 0);
    /* the key of the mention less one word */
    char *norm = NULL;
    size_t nl = 0;
    KZ_CHECK_INT(kz_normalise("Familial gastric cancer", 23, "disease", &norm, &nl, NULL), 0);
    kz_str ns = {norm, nl};
    KZ_CHECK(kz__variant_key_drop(v, ns, false, 0, a) > 0);
    KZ_CHECK_STR(a, "cancer gastric");
    KZ_CHECK(kz__variant_key_drop(v, ns, false, 2, a) > 0);
    KZ_CHECK_STR(a, "familial gastric");
    KZ_CHECK_INT(kz__variant_key_drop(v, ns, false, 3, a), 0);
    free(norm);
    kz__variant_free(v);

    /* word_order off keeps the text order; spelling off keeps British spelling */
    o = kz__variant_default_opts();
    o.word_order = false;
    o.spelling = false;
    v = kz__variant_new(NULL, "u", &o);
    KZ_CHECK_STR(vkey(v, "tumours of the pancreas", false, a), "tumour pancrea");
    kz__variant_free(v);
}

KZ_TEST(variant_suffix_alternatives) {
    kz__variant_opts o = kz__variant_default_opts();
    static const char *const from[] = {"ptic", "ic", "ic"}, *const to[] = {"psy", "ia", "y"};
    o.suffix_from = from, o.suffix_to = to, o.n_suffix = 3;
    kz__variant *v = kz__variant_new(NULL, "s", &o);
    KZ_CHECK(v != NULL);
    if (!v) return;
    char out[64];
    kz_str n = kz_str_c("EPILEPTIC MANIC");
    /* word by word, rules in order: EPILEPTIC -> PSY, IA, Y; MANIC -> IA, Y */
    KZ_CHECK(kz__variant_alternative(v, n, 0, out, sizeof out) > 0);
    KZ_CHECK_STR(out, "EPILEPSY MANIC");
    KZ_CHECK(kz__variant_alternative(v, n, 1, out, sizeof out) > 0);
    KZ_CHECK_STR(out, "EPILEPTIA MANIC");
    KZ_CHECK(kz__variant_alternative(v, n, 3, out, sizeof out) > 0);
    KZ_CHECK_STR(out, "EPILEPTIC MANIA");
    KZ_CHECK(kz__variant_alternative(v, n, 4, out, sizeof out) > 0);
    KZ_CHECK_STR(out, "EPILEPTIC MANY");
    KZ_CHECK_INT(kz__variant_alternative(v, n, 5, out, sizeof out), 0);
    /* a stem of at least 3 bytes; the output cap is respected */
    KZ_CHECK_INT(kz__variant_alternative(v, kz_str_c("TIC"), 0, out, sizeof out), 0);
    KZ_CHECK_INT(kz__variant_alternative(v, n, 0, out, 8), 0);
    kz__variant_free(v);
}

static bool alt_is(const kz_buf *b, const kz__conjunct_alt *a, uint32_t conj, const char *s) {
    return a->conjunct == conj && a->len == strlen(s) && !memcmp(b->data + a->off, s, a->len);
}

KZ_TEST(variant_conjuncts) {
    kz_buf b;
    kz__buf_init(&b, 0);
    kz__conjunct_alt a[32];
    size_t n = 0;
    uint32_t nc = 0;
    KZ_CHECK_INT(kz__variant_conjuncts(kz_str_c("classical and Duarte galactosemia"), &b, a, 32, &n, &nc), 0);
    KZ_CHECK_INT(nc, 2);
    KZ_CHECK_INT(n, 3);
    KZ_CHECK(alt_is(&b, &a[0], 0, "classical galactosemia"));
    KZ_CHECK(alt_is(&b, &a[1], 0, "classical"));
    KZ_CHECK(alt_is(&b, &a[2], 1, "Duarte galactosemia"));
    KZ_CHECK_INT(kz__variant_conjuncts(kz_str_c("skin, lung and breast cancer"), &b, a, 32, &n, &nc), 0);
    KZ_CHECK_INT(nc, 3);
    KZ_CHECK(alt_is(&b, &a[0], 0, "skin cancer"));
    KZ_CHECK(alt_is(&b, &a[2], 1, "lung cancer"));
    KZ_CHECK(alt_is(&b, &a[4], 2, "breast cancer"));
    KZ_CHECK_INT(kz__variant_conjuncts(kz_str_c("breast/ovarian cancer"), &b, a, 32, &n, &nc), 0);
    KZ_CHECK_INT(nc, 2);
    KZ_CHECK(alt_is(&b, &a[0], 0, "breast cancer"));
    KZ_CHECK(alt_is(&b, &a[2], 1, "ovarian cancer"));
    /* the first conjunct's leading words also go with the last one */
    KZ_CHECK_INT(
        kz__variant_conjuncts(kz_str_c("hereditary breast and/or ovarian cancer"), &b, a, 32, &n, &nc), 0);
    KZ_CHECK_INT(nc, 2);
    KZ_CHECK(alt_is(&b, &a[0], 0, "hereditary breast cancer"));
    KZ_CHECK(alt_is(&b, &a[n - 1], 1, "hereditary ovarian cancer"));
    /* not composite */
    const char *no[] = {"Crohn disease", "and", "cancer and", "and/or", "24/7 care", "both"};
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        KZ_CHECK_INT(kz__variant_conjuncts(kz_str_c(no[i]), &b, a, 32, &n, &nc), 0);
        KZ_CHECK_INT(nc, 0);
    }
    /* the alternatives array cap is respected */
    KZ_CHECK_INT(kz__variant_conjuncts(kz_str_c("a b, c d and e f g h"), &b, a, 2, &n, &nc), 0);
    KZ_CHECK_INT(n, 2);
    kz__buf_free(&b);
}

KZ_TEST(default_table_has_no_variant_match) {
    KZ_CHECK(kb() != NULL);
    kz__mapper *m = kz__mapper_new(kb());
    KZ_CHECK_INT(m->n_variants, 0);
    for (int sym = 0; sym < 2; sym++)
        for (int li = 0; li < KZ__LEVELS; li++) {
            const kz__level *lv = sym ? &m->symbolic[li] : &m->non_symbolic[li];
            for (uint32_t c = 0; c <= lv->n_classes; c++) {
                const kz__strategy_list *l = c < lv->n_classes ? &lv->classes[c] : &lv->defaults;
                for (uint32_t i = 0; i < l->n; i++) {
                    KZ_CHECK(l->s[i].kind != KZ__MS_VARIANT);
                    KZ_CHECK_INT(l->s[i].variant, -1);
                }
            }
        }
    kz__mapper_free(m);
}

static kz__mapper *variant_mapper(bool split) {
    kz__mapper *m = kz__mapper_new(vkb());
    if (!m) return NULL;
    kz__variant_opts o = kz__variant_default_opts();
    o.split_conjunctions = split;
    m->variants[0] = kz__variant_new(vkb(), "base", &o);
    m->n_variants = 1;
    kz__strategy s = strat(KZ__MS_VARIANT, KZ_SMC_PROBABLE, "default");
    s.variant = 0;
    table_all(m, &s, 1, true);
    return m;
}

KZ_TEST(variant_match_maps_without_candidates) {
    KZ_CHECK(vkb() != NULL);
    kz__mapper *m = variant_mapper(false);
    kz_section *s;
    kz_doc *d = doc_of("pancreatic tumours; deficiency of G6PD; Wolfram; lung", &s);
    kz_entity *e = ent(d, s, "pancreatic tumours", "disease", KZ_MENTION_HIGHLY_LIKELY);
    kz_entity *g = ent(d, s, "deficiency of G6PD", "disease", KZ_MENTION_HIGHLY_LIKELY);
    kz_entity *none = ent(d, s, "lung", "disease", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK_INT(e->n_candidates, 0);
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(e->n_mappings, 1);
    KZ_CHECK_KSTR(e->mappings[0].idx, "V:1");
    KZ_CHECK_KSTR(e->mappings[0].parser_name, "V_DISEASE");
    KZ_CHECK_KSTR(e->mappings[0].default_label, "Pancreatic Neoplasms");
    KZ_CHECK_KSTR(e->mappings[0].string_match_strategy, "VariantMatchMappingStrategy");
    KZ_CHECK_INT(e->mappings[0].string_match_confidence, KZ_SMC_PROBABLE);
    KZ_CHECK_KSTR(e->mappings[0].disambiguation_strategy, "disambiguation_not_required");
    KZ_CHECK_INT(g->n_mappings, 1);
    KZ_CHECK_KSTR(g->mappings[0].idx, "V:5");
    KZ_CHECK_INT(none->n_mappings, 0);
    /* a composite mention is not mapped without split_conjunctions */
    kz_doc_free(d);
    d = doc_of("breast and ovarian cancer", &s);
    e = ent(d, s, "breast and ovarian cancer", "disease", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(e->n_mappings, 0);
    kz_doc_free(d);
    kz__mapper_free(m);

    /* with it, each conjunct maps on its own, in text order */
    m = variant_mapper(true);
    d = doc_of("breast and ovarian cancer", &s);
    e = ent(d, s, "breast and ovarian cancer", "disease", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(e->n_mappings, 2);
    if (e->n_mappings == 2) {
        KZ_CHECK_KSTR(e->mappings[0].idx, "V:2");
        KZ_CHECK_KSTR(e->mappings[1].idx, "V:3");
        KZ_CHECK_KSTR(e->mappings[1].disambiguation_strategy, "disambiguation_not_required");
    }
    kz_doc_free(d);
    kz__mapper_free(m);
}

KZ_TEST(variant_match_ambiguity_and_generic_words) {
    KZ_CHECK(vkb() != NULL);
    /* without disease/syndrome as stop words "Wolfram" finds nothing; with them
     * it finds two concepts, which stay AMBIGUOUS without disambiguation */
    kz__mapper *m = kz__mapper_new(vkb());
    kz__variant_opts o = kz__variant_default_opts();
    static const char *const stop[] = {"of", "disease", "syndrome"};
    o.stop_words = stop, o.n_stop = 3;
    m->variants[0] = kz__variant_new(vkb(), "loose", &o);
    o = kz__variant_default_opts();
    m->variants[1] = kz__variant_new(vkb(), "base", &o);
    m->n_variants = 2;
    kz__strategy s[2] = {strat(KZ__MS_VARIANT, KZ_SMC_PROBABLE, "none"),
                         strat(KZ__MS_VARIANT, KZ_SMC_POSSIBLE, "none")};
    s[0].variant = 1;
    s[1].variant = 0;
    table_all(m, s, 2, true);
    kz_section *sec;
    kz_doc *d = doc_of("Wolfram", &sec);
    kz_entity *e = ent(d, sec, "Wolfram", "disease", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(e->n_mappings, 2);
    KZ_CHECK(mapping_of(e, "V:6") && mapping_of(e, "V:7"));
    KZ_CHECK_INT(e->mappings[0].disambiguation_confidence, KZ_DC_AMBIGUOUS);
    KZ_CHECK_INT(e->mappings[0].string_match_confidence, KZ_SMC_POSSIBLE);
    kz_doc_free(d);
    kz__mapper_free(m);
}

KZ_TEST(best_search_score_disambiguation) {
    KZ_CHECK(kb() != NULL);
    kz__mapper *m = kz__mapper_new(kb());
    kz__strategy st = strat(KZ__MS_STRONG, KZ_SMC_POSSIBLE, "none");
    st.search_threshold = 50;
    st.differential = 10;
    st.dis[0] = (kz__dis){.kind = KZ__DS_BEST_SCORE, .confidence = KZ_DC_POSSIBLE};
    st.n_dis = 1;
    table_all(m, &st, 1, true);
    kz_section *s;
    kz_doc *d = doc_of("lung tumour", &s);
    kz_entity *e = ent(d, s, "lung tumour", "disease", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK(attach(d, e, cand(d, "disease", "Lung Cancer", "TEST_DISEASE"), search(90)));
    KZ_CHECK(attach(d, e, cand(d, "disease", "Neck Disease", "TEST_DISEASE"), search(85)));
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(e->n_mappings, 1);
    KZ_CHECK_KSTR(e->mappings[0].idx, "D:1");
    KZ_CHECK_KSTR(e->mappings[0].disambiguation_strategy, "BestSearchScoreDisambiguationStrategy");
    KZ_CHECK_INT(e->mappings[0].disambiguation_confidence, KZ_DC_POSSIBLE);
    kz_doc_free(d);
    /* a tie at the top is no decision */
    d = doc_of("lung tumour", &s);
    e = ent(d, s, "lung tumour", "disease", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK(attach(d, e, cand(d, "disease", "Lung Cancer", "TEST_DISEASE"), search(90)));
    KZ_CHECK(attach(d, e, cand(d, "disease", "Neck Disease", "TEST_DISEASE"), search(90)));
    KZ_CHECK_INT(kz__mapper_run(m, d, NULL), 0);
    KZ_CHECK_INT(e->n_mappings, 2);
    KZ_CHECK_INT(e->mappings[0].disambiguation_confidence, KZ_DC_AMBIGUOUS);
    kz_doc_free(d);
    kz__mapper_free(m);
}

KZ_TEST(step_reads_variant_keys) {
    KZ_CHECK(vkb() != NULL);
    char yaml[2048];
    kz_error err;
    snprintf(
        yaml, sizeof yaml,
        "pipeline:\n  steps:\n    - type: MappingStep\n      params:\n        kb: %s\n"
        "        variant_keys:\n"
        "          adj: {suffix_alternatives: {ptic: [psy]}, word_map: {seizure: ''},\n"
        "                stop_words: [of], drop_one_word: true, mention_drop_words: [severe]}\n"
        "        strategies:\n          non_symbolic:\n            HIGHLY_LIKELY:\n"
        "              default:\n"
        "                - {type: ExactMatch, disambiguation: default}\n"
        "                - {type: VariantMatch, key: adj, confidence: PROBABLE, disambiguation: default}\n"
        "                - {type: VariantMatch, confidence: POSSIBLE, disambiguation: none}\n",
        g_vpack);
    kz_pipeline *p = pipe_from(yaml, &err);
    if (!p) {
        char buf[512];
        kz_test_fail(__FILE__, __LINE__, "%s", kz_error_format(&err, buf, sizeof buf));
        return;
    }
    kz_section *s;
    kz_doc *d = doc_of("severe epileptic seizures; ovarian cancers; pancreatic cancer tumour", &s);
    kz_entity *e = ent(d, s, "severe epileptic seizures", "disease", KZ_MENTION_HIGHLY_LIKELY);
    kz_entity *o = ent(d, s, "ovarian cancers", "disease", KZ_MENTION_HIGHLY_LIKELY);
    kz_entity *p2 = ent(d, s, "pancreatic cancer tumour", "disease", KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK_INT(kz_pipeline_run(p, &d, 1, NULL, &err), 0);
    KZ_CHECK(!kz_doc_failed(d));
    /* severe dropped (mention side), seizure mapped to nothing, EPILEPTIC -> EPILEPSY */
    KZ_CHECK_INT(e->n_mappings, 1);
    if (e->n_mappings) KZ_CHECK_KSTR(e->mappings[0].idx, "V:4");
    KZ_CHECK_INT(o->n_mappings, 1);
    if (o->n_mappings) KZ_CHECK_KSTR(o->mappings[0].idx, "V:3");
    /* drop_one_word: "cancer" left out gives "pancreatic tumor" */
    KZ_CHECK_INT(p2->n_mappings, 1);
    if (p2->n_mappings) KZ_CHECK_KSTR(p2->mappings[0].idx, "V:1");
    kz_pipeline_free(p);
    kz_doc_free(d);

    /* configuration errors */
    static const char *const bad_cfg[][2] = {
        {"        variant_keys: {x: {spelling: maybe}}\n", "spelling"},
        {"        variant_keys: {x: {colour: true}}\n", "colour"},
        {"        variant_keys: {x: {word_map: [a, b]}}\n", "word_map"},
        {"        variant_keys: {x: {suffix_alternatives: {ic: ia}}}\n", "suffix_alternatives"},
        {"        variant_keys: [x]\n", "variant_keys"},
        {"        strategies:\n          symbolic:\n            PROBABLE:\n"
         "              default: [{type: VariantMatch, key: nope}]\n",
         "unknown variant key"},
        {"        strategies:\n          symbolic:\n            PROBABLE:\n"
         "              default: [{type: ExactMatch, key: default}]\n",
         "VariantMatch"},
    };
    for (size_t i = 0; i < sizeof bad_cfg / sizeof *bad_cfg; i++) {
        snprintf(yaml, sizeof yaml,
                 "pipeline:\n  steps:\n    - type: MappingStep\n      params:\n        kb: %s\n%s", g_vpack,
                 bad_cfg[i][0]);
        kz_error_clear(&err);
        p = pipe_from(yaml, &err);
        KZ_CHECK(p == NULL);
        kz_pipeline_free(p);
        KZ_CHECK(strstr(err.msg, bad_cfg[i][1]) != NULL);
    }
}

KZ_TEST(variant_keys_share_an_index) {
    KZ_CHECK(vkb() != NULL);
    kz__variant_opts o = kz__variant_default_opts();
    kz__variant *a = kz__variant_new(vkb(), "a", &o);
    /* mention-side options only: the same synonym keys, so the same index */
    static const char *const md[] = {"severe"};
    o.mention_drop = md, o.n_mention_drop = 1;
    o.split_conjunctions = true;
    kz__variant *b = kz__variant_new(vkb(), "b", &o);
    /* another stop word: other keys */
    static const char *const stop[] = {"of", "disease"};
    o.stop_words = stop, o.n_stop = 2;
    kz__variant *c = kz__variant_new(vkb(), "c", &o);
    KZ_CHECK(a && b && c);
    if (!a || !b || !c) return;
    KZ_CHECK(kz__variant_share_index(b, a));
    KZ_CHECK(!kz__variant_share_index(c, a));
    KZ_CHECK(!kz__variant_share_index(a, a));
    char key[KZ__VARIANT_KEY_MAX];
    uint64_t ids[4];
    size_t n = 0;
    size_t kl = kz__variant_key(b, kz_str_c("SEVERE PANCREATIC TUMOUR"), true, key);
    KZ_CHECK_STR(key, "pancreatic tumor");
    KZ_CHECK_INT(kz__variant_lookup(b, 0, key, kl, ids, 4, &n), 0);
    KZ_CHECK_INT(n, 1);
    kz_arena *ar = kz_arena_new(0);
    kz_candidate cd;
    if (n == 1 && !kz_kb_candidate_at(vkb(), ids[0], ar, &cd)) KZ_CHECK_KSTR(cd.id_sets[0].ids[0].idx, "V:1");
    kz_arena_free(ar);
    /* "Wolfram" only has keys in c (disease and syndrome as stop words: "syndrome" is not one) */
    kl = kz__variant_key(c, kz_str_c("WOLFRAM DISEASE"), true, key);
    KZ_CHECK_STR(key, "wolfram");
    KZ_CHECK_INT(kz__variant_lookup(c, 0, key, kl, ids, 4, &n), 0);
    KZ_CHECK_INT(n, 1);
    KZ_CHECK_INT(kz__variant_lookup(a, 0, key, kl, ids, 4, &n), 0);
    KZ_CHECK_INT(n, 0);
    kz__variant_free(b);
    kz__variant_free(c);
    kz__variant_free(a);
}
