/* MemoryEfficientStringMatchingStep over tiny packs built from a recipe in the
 * test: Kazu's test_memory_efficient_string_matching / string_matching_utils
 * cases, its case-sensitivity table, token boundaries, nested hits, exact
 * offsets after 'İ', max confidence over parsers, the class filter and the
 * pack section. */
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kz_test.h"
#include "kazu/kazu.h"
#include "kazu/kb.h"
#include "kazu/match.h"
#include "kazu/pipeline.h"
#include "link/dict_int.h"

static const char *EXAMPLE_TEXT =
    "There is a Q42_ID and Q42_syn in this sentence, as well as Q42_syn & Q8_syn synonyms.\n"
    "    This sentence is just to test when there are multiple synonyms for a single SynonymTerm,\n"
    "    like for complex 7 disease alpha a.k.a ComplexVII Disease\xce\xb1 amongst others.";

static char g_dir[64];
static char PACK[96]; /* a fresh path per build: packs are shared per path within a process */

static void write_file(const char *name, const char *fmt, ...) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

/* Parsers: first_mock_parser (ent_type_1), second_mock_parser (ent_type_2),
 * third_mock_parser (ent_type_1 again, for max-over-parsers); no synonym
 * generation, no auto-curation: every string starts case-insensitive,
 * PROBABLE, NER+linking; curations JSONL per parser override that. */
static int build_pack(const char *cur1, const char *cur2, kz_error *err) {
    if (PACK[0]) unlink(PACK);
    strcpy(g_dir, "/tmp/kz_test_dict.XXXXXX");
    if (!mkdtemp(g_dir)) return KZ_EIO;
    snprintf(PACK, sizeof PACK, "%s.kzkb", g_dir);
    const char *pack = PACK;
    write_file("p1.tsv",
               "id\tname\tsyn\n"
               "ST:123\tSynonymTerm\tSynonymTerm\n"
               "CD:123\tComplex Disease Alpha VII\tcomplexVII disease\xce\xb1|complex 7 disease alpha\n"
               "AM:123\tAmongst\tamongst\n"
               "AM:124\tAmongst Us\tamongst us\n"
               "LC:1\tlung cancer\tcancer\n"
               "EG:1\tEGFR\tEgfr|eGFR\n"
               "AL:1\tALK\t\n");
    write_file("p2.tsv", "id\tname\tsyn\n"
                         "ST:123\tSynonymTerm\t\n"
                         "ST:456\tSynonymTerm\t\n"
                         "CD:123\tComplex Disease Alpha VII\tcomplexVII disease\xce\xb1\n"
                         "AM:123\tAmongst\t\n");
    write_file("p3.tsv", "id\tname\tsyn\n"
                         "AM:9\tamongst\t\n");
    write_file("c1.jsonl", "%s", cur1);
    write_file("c2.jsonl", "%s", cur2);
    write_file("c3.jsonl", "%s",
               "{\"original_synonyms\":[{\"text\":\"amongst\",\"case_sensitive\":false,"
               "\"mention_confidence\":\"HIGHLY_LIKELY\"}],\"behaviour\":\"ADD_FOR_NER_AND_LINKING\"}\n");
    static const char *src = "  - name: %s\n    entity_class: %s\n    format: tabular\n    path: %s\n"
                             "    id_col: id\n    label_col: name\n    syn_cols: [syn]\n    list_sep: \"|\"\n"
                             "    synonym_generation: none\n    autocurator: none\n    id_grouping: per_id\n"
                             "    curations: %s\n";
    char recipe[4096];
    int w = snprintf(recipe, sizeof recipe, "kb:\n  name: dict-test\n  sources:\n");
    w += snprintf(recipe + w, sizeof recipe - (size_t)w, src, "first_mock_parser", "ent_type_1", "p1.tsv",
                  "c1.jsonl");
    w += snprintf(recipe + w, sizeof recipe - (size_t)w, src, "second_mock_parser", "ent_type_2", "p2.tsv",
                  "c2.jsonl");
    snprintf(recipe + w, sizeof recipe - (size_t)w, src, "third_mock_parser", "ent_type_1", "p3.tsv",
             "c3.jsonl");
    write_file("recipe.yaml", "%s", recipe);
    char rpath[128];
    snprintf(rpath, sizeof rpath, "%s/recipe.yaml", g_dir);
    kz_kb_build_opts opts = {.force = true, .allow_conflicts = true};
    kz_kb_build_report rep;
    return kz_kb_build(rpath, pack, &opts, &rep, err);
}

static void cleanup_dir(void) {
    static const char *files[] = {"p1.tsv",   "p2.tsv",   "p3.tsv",     "c1.jsonl",
                                  "c2.jsonl", "c3.jsonl", "recipe.yaml"};
    char p[256];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, files[i]);
        unlink(p);
    }
    rmdir(g_dir);
}

/* The step's state stays alive until done(): candidates borrow the pack mapping. */
static void *g_state[8];
static size_t g_n_state;

static void done(kz_doc *doc) {
    kz_doc_free(doc);
    const kz_step_type *t = kz_step_find("MemoryEfficientStringMatchingStep");
    for (size_t i = 0; i < g_n_state; i++) t->free(g_state[i]);
    g_n_state = 0;
}

/* Run the step over one text; returns the doc (free with done()) or NULL. */
static kz_doc *run_step(const char *pack, const char *extra_params, const char *text, kz_error *err) {
    const kz_step_type *t = kz_step_find("MemoryEfficientStringMatchingStep");
    if (!t) return NULL;
    char yaml[512];
    snprintf(yaml, sizeof yaml, "kb: %s\n%s", pack, extra_params ? extra_params : "");
    kz_config *cfg;
    if (kz_config_load_string(&cfg, yaml, strlen(yaml), "params", NULL, err)) return NULL;
    void *state = NULL;
    int rc = t->init(&state, kz_config_root(cfg), err);
    kz_config_free(cfg);
    if (rc) return NULL;
    kz_doc *doc = kz_doc_new("d", 1);
    kz_section *sec;
    kz_doc_add_section(doc, "text", 4, text, strlen(text), &sec, err);
    kz_step_ctx ctx = {.step_name = t->name};
    rc = t->process(state, &doc, 1, &ctx, err);
    if (g_n_state < 8)
        g_state[g_n_state++] = state;
    else
        t->free(state);
    if (rc || kz_doc_failed(doc)) {
        kz_doc_free(doc);
        return NULL;
    }
    if (getenv("KZ_TEST_DICT_DUMP")) {
        const kz_section *s = doc->sections[0];
        for (uint32_t i = 0; i < s->n_entities; i++)
            fprintf(stderr, "ent %lld-%lld '%.*s' %.*s conf=%d cands=%u\n", (long long)s->entities[i]->start,
                    (long long)s->entities[i]->end, (int)s->entities[i]->match.len, s->entities[i]->match.ptr,
                    (int)s->entities[i]->entity_class.len, s->entities[i]->entity_class.ptr,
                    s->entities[i]->mention_confidence, s->entities[i]->n_candidates);
    }
    return doc;
}

/* Entities of section 0 whose match is m (and class cls when not NULL). */
static size_t count_ents(const kz_doc *doc, const char *m, const char *cls, const kz_entity **first) {
    size_t n = 0;
    const kz_section *s = doc->sections[0];
    for (uint32_t i = 0; i < s->n_entities; i++) {
        const kz_entity *e = s->entities[i];
        if (m && !kz_str_eq_c(e->match, m)) continue;
        if (cls && !kz_str_eq_c(e->entity_class, cls)) continue;
        if (first && n == 0) *first = e;
        n++;
    }
    return n;
}

#define CUR_CI_HL(text)                                                                                      \
    "{\"original_synonyms\":[{\"text\":\"" text "\",\"case_sensitive\":false,"                               \
    "\"mention_confidence\":\"HIGHLY_LIKELY\"}],\"behaviour\":\"ADD_FOR_NER_AND_LINKING\"}\n"
#define CUR_CS_HL(text)                                                                                      \
    "{\"original_synonyms\":[{\"text\":\"" text "\",\"case_sensitive\":true,"                                \
    "\"mention_confidence\":\"HIGHLY_LIKELY\"}],\"behaviour\":\"ADD_FOR_NER_AND_LINKING\"}\n"
#define CUR_LINK_ONLY(text)                                                                                  \
    "{\"original_synonyms\":[{\"text\":\"" text "\",\"case_sensitive\":false,"                               \
    "\"mention_confidence\":\"HIGHLY_LIKELY\"}],\"behaviour\":\"ADD_FOR_LINKING_ONLY\"}\n"
/* Kazu's case table: for one lowercase string, case-sensitive confidences above the
 * case-insensitive one: eGFR ci IGNORE, EGFR cs POSSIBLE, Egfr cs PROBABLE. */
#define CUR_EGFR                                                                                             \
    "{\"original_synonyms\":[{\"text\":\"eGFR\",\"case_sensitive\":false,\"mention_confidence\":\"IGNORE\"}" \
    ","                                                                                                      \
    "{\"text\":\"EGFR\",\"case_sensitive\":true,\"mention_confidence\":\"POSSIBLE\"},"                       \
    "{\"text\":\"Egfr\",\"case_sensitive\":true,\"mention_confidence\":\"PROBABLE\"}],"                      \
    "\"behaviour\":\"ADD_FOR_NER_AND_LINKING\"}\n"

static const char *ALPHA = "ComplexVII Disease\xce\xb1";

static const kz_candidate *only_candidate(const kz_entity *e) {
    return e && e->n_candidates == 1 ? e->candidates[0].candidate : NULL;
}

KZ_TEST(
    dict_two_parsers_both_hit) { /* "Two curated case insensitive terms from two parsers Both should hit" */
    kz_error err;
    int rc =
        build_pack(CUR_CI_HL("complexVII disease\xce\xb1"), CUR_CI_HL("complexVII disease\xce\xb1"), &err);
    cleanup_dir();
    if (rc) kz_test_fail(__FILE__, __LINE__, "build: %s", err.msg);
    KZ_CHECK_INT(rc, 0);
    kz_doc *doc = run_step(PACK, NULL, EXAMPLE_TEXT, &err);
    if (!doc) kz_test_fail(__FILE__, __LINE__, "step: %s", err.msg);
    KZ_CHECK(doc != NULL);
    const kz_entity *e1 = NULL, *e2 = NULL;
    KZ_CHECK_INT(count_ents(doc, ALPHA, NULL, NULL), 2);
    KZ_CHECK_INT(count_ents(doc, ALPHA, "ent_type_1", &e1), 1);
    KZ_CHECK_INT(count_ents(doc, ALPHA, "ent_type_2", &e2), 1);
    KZ_CHECK_INT(e1->mention_confidence, KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK_INT(e2->mention_confidence, KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK_KSTR(e1->namespace_, "MemoryEfficientStringMatchingStep");
    const kz_candidate *c1 = only_candidate(e1), *c2 = only_candidate(e2);
    KZ_CHECK(c1 && c2);
    KZ_CHECK_KSTR(c1->parser_name, "first_mock_parser");
    KZ_CHECK_KSTR(c1->synonym_norm, "COMPLEX 7 DISEASE ALPHA");
    KZ_CHECK_KSTR(c2->parser_name, "second_mock_parser");
    KZ_CHECK(e1->candidates[0].metrics.exact_match && (e1->candidates[0].metrics.present & KZ_METRIC_EXACT));
    KZ_CHECK_KSTR(e1->match_norm, "COMPLEX 7 DISEASE ALPHA");
    /* exact byte offsets */
    const char *at = strstr(EXAMPLE_TEXT, ALPHA);
    KZ_CHECK_INT(e1->start, at - EXAMPLE_TEXT);
    KZ_CHECK_INT(e1->end, at - EXAMPLE_TEXT + (int64_t)strlen(ALPHA));
    /* the ontology strings with default PROBABLE hit too */
    const kz_entity *e = NULL;
    /* the curation replaced the auto resource of that norm: its other string is gone (Kazu: 2 matches) */
    KZ_CHECK_INT(count_ents(doc, "complex 7 disease alpha", NULL, NULL), 0);
    KZ_CHECK_INT(count_ents(doc, "amongst", "ent_type_1", &e), 1);
    KZ_CHECK_INT(e->mention_confidence, KZ_MENTION_HIGHLY_LIKELY); /* third_mock_parser's curation */
    KZ_CHECK_INT(count_ents(doc, "SynonymTerm", NULL, NULL), 2);   /* "SynonymTerm," ends at a token end */
    /* "This sentence" is no resource here */
    KZ_CHECK_INT(count_ents(doc, "This sentence is just to test", NULL, NULL), 0);
    done(doc);
}

KZ_TEST(dict_case_sensitive_one_hits) { /* "... One should hit to test case sensitivity" */
    kz_error err;
    int rc =
        build_pack(CUR_CI_HL("complexVII disease\xce\xb1"), CUR_CS_HL("complexVII disease\xce\xb1"), &err);
    cleanup_dir();
    KZ_CHECK_INT(rc, 0);
    kz_doc *doc = run_step(PACK, NULL, EXAMPLE_TEXT, &err);
    KZ_CHECK(doc != NULL);
    KZ_CHECK_INT(count_ents(doc, ALPHA, NULL, NULL), 1);
    KZ_CHECK_INT(count_ents(doc, ALPHA, "ent_type_1", NULL), 1);
    done(doc);
    /* with the exact surface it does hit */
    doc = run_step(PACK, NULL, "a complexVII disease\xce\xb1 b", &err);
    KZ_CHECK(doc != NULL);
    KZ_CHECK_INT(count_ents(doc, "complexVII disease\xce\xb1", "ent_type_2", NULL), 1);
    done(doc);
}

KZ_TEST(dict_linking_only_not_matched) { /* "... One should hit to test ignore logic" */
    kz_error err;
    int rc = build_pack(CUR_CI_HL("complexVII disease\xce\xb1"), CUR_LINK_ONLY("complexVII disease\xce\xb1"),
                        &err);
    cleanup_dir();
    KZ_CHECK_INT(rc, 0);
    kz_doc *doc = run_step(PACK, NULL, EXAMPLE_TEXT, &err);
    KZ_CHECK(doc != NULL);
    KZ_CHECK_INT(count_ents(doc, ALPHA, NULL, NULL), 1);
    KZ_CHECK_INT(count_ents(doc, ALPHA, "ent_type_1", NULL), 1);
    done(doc);
}

KZ_TEST(dict_novel_curated_synonym) { /* "One curated term with a novel synonym ..." */
    kz_error err;
    int rc = build_pack(
        "{\"original_synonyms\":[{\"text\":\"This sentence is just to test\",\"case_sensitive\":false,"
        "\"mention_confidence\":\"HIGHLY_LIKELY\"}],\"behaviour\":\"ADD_FOR_NER_AND_LINKING\","
        "\"associated_id_sets\":[{\"ids_and_source\":[[\"CD:123\",\"first_mock_parser\"]]}]}\n",
        "", &err);
    cleanup_dir();
    if (rc) kz_test_fail(__FILE__, __LINE__, "build: %s", err.msg);
    KZ_CHECK_INT(rc, 0);
    kz_doc *doc = run_step(PACK, NULL, EXAMPLE_TEXT, &err);
    KZ_CHECK(doc != NULL);
    const kz_entity *e = NULL;
    KZ_CHECK_INT(count_ents(doc, "This sentence is just to test", "ent_type_1", &e), 1);
    KZ_CHECK_INT(e->mention_confidence, KZ_MENTION_HIGHLY_LIKELY);
    const kz_candidate *c = only_candidate(e);
    KZ_CHECK(c != NULL);
    KZ_CHECK_KSTR(c->synonym_norm, "THIS SENTENCE IS JUST TO TEST");
    done(doc);
}

KZ_TEST(dict_case_table_boundaries_nesting_offsets) {
    kz_error err;
    int rc = build_pack(CUR_EGFR, "", &err);
    cleanup_dir();
    if (rc) kz_test_fail(__FILE__, __LINE__, "build: %s", err.msg);
    KZ_CHECK_INT(rc, 0);
    const char *text = "\xc4\xb0 EGFR egfr Egfr eGFR; ALK-Abello and ALK. lung cancer (amongst).";
    kz_doc *doc = run_step(PACK, NULL, text, &err);
    if (!doc) kz_test_fail(__FILE__, __LINE__, "step: %s", err.msg);
    KZ_CHECK(doc != NULL);
    const kz_entity *e = NULL;
    /* case table */
    KZ_CHECK_INT(count_ents(doc, "EGFR", NULL, &e), 1);
    KZ_CHECK_INT(e->mention_confidence, KZ_MENTION_POSSIBLE);
    KZ_CHECK_INT(e->start, 3); /* exact offsets after the 2-byte 'İ' */
    KZ_CHECK_INT(e->end, 7);
    KZ_CHECK_INT(count_ents(doc, "Egfr", NULL, &e), 1);
    KZ_CHECK_INT(e->mention_confidence, KZ_MENTION_PROBABLE);
    KZ_CHECK_INT(count_ents(doc, "egfr", NULL, NULL), 0);
    KZ_CHECK_INT(count_ents(doc, "eGFR", NULL, NULL), 0);
    /* token boundaries: ALK inside ALK-Abello is not a token; "ALK." is */
    KZ_CHECK_INT(count_ents(doc, "ALK", NULL, &e), 1);
    KZ_CHECK_INT(e->start, (int64_t)(strstr(text, "ALK.") - text));
    /* nested hits both kept */
    KZ_CHECK_INT(count_ents(doc, "lung cancer", NULL, NULL), 1);
    KZ_CHECK_INT(count_ents(doc, "cancer", NULL, NULL), 1);
    /* max confidence over two parsers of one class, both candidates attached */
    KZ_CHECK_INT(count_ents(doc, "amongst", "ent_type_1", &e), 1);
    KZ_CHECK_INT(e->mention_confidence, KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK_INT(e->n_candidates, 2);
    KZ_CHECK_INT(count_ents(doc, "amongst", "ent_type_2", &e), 1);
    KZ_CHECK_INT(e->mention_confidence, KZ_MENTION_PROBABLE);

    /* huge_pages: the same entities from a private copy of the automaton */
    uint32_t n_plain = doc->sections[0]->n_entities;
    int64_t spans_plain = 0;
    for (uint32_t i = 0; i < n_plain; i++)
        spans_plain += doc->sections[0]->entities[i]->start * 1000 + doc->sections[0]->entities[i]->end;
    done(doc);
    doc = run_step(PACK, "huge_pages: true\n", text, &err);
    KZ_CHECK(doc != NULL);
    KZ_CHECK_INT(doc->sections[0]->n_entities, n_plain);
    int64_t spans_huge = 0;
    for (uint32_t i = 0; i < n_plain; i++)
        spans_huge += doc->sections[0]->entities[i]->start * 1000 + doc->sections[0]->entities[i]->end;
    KZ_CHECK_INT(spans_huge, spans_plain);
    done(doc);
    KZ_CHECK(run_step(PACK, "huge_pages: maybe\n", text, &err) == NULL);

    /* entity_classes filter */
    doc = run_step(PACK, "entity_classes: [ent_type_2]\n", text, &err);
    KZ_CHECK(doc != NULL);
    KZ_CHECK_INT(count_ents(doc, NULL, "ent_type_1", NULL), 0);
    KZ_CHECK_INT(count_ents(doc, "amongst", "ent_type_2", NULL), 1);
    done(doc);

    /* the pack's KZAC section is the automaton kz__dict_build makes (deterministic) */
    kz_kb *kb;
    KZ_CHECK_INT(kz_kb_open(PACK, &kb, &err), 0);
    const void *sec;
    size_t sec_len;
    KZ_CHECK_INT(kz_kb_section(kb, KZ_DICT_SECTION_TAG, &sec, &sec_len), 0);
    void *blob;
    size_t len;
    uint64_t np = 0;
    KZ_CHECK_INT(kz__dict_build(kb, &blob, &len, &np, NULL, &err), 0);
    bool same = len == sec_len && memcmp(blob, sec, len) == 0;
    free(blob);
    kz_kb_close(kb);
    KZ_CHECK(same);
    KZ_CHECK(np > 5);
    /* unknown params are refused */
    KZ_CHECK(run_step(PACK, "bogus: 1\n", text, &err) == NULL);
    unlink(PACK);
}
