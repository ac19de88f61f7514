/* DictionaryEntityLinkingStep over a tiny pack built from a recipe in the test:
 * exact key first (per parser), else TF-IDF with Kazu's boolean scorers; the
 * string-matching namespaces skipped; grouping and the cache; the scorers. */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kz_test.h"
#include "kazu/kazu.h"
#include "kazu/kb.h"
#include "kazu/pipeline.h"
#include "link/tfidf_int.h"

static char g_dir[64];
static char g_pack[128];

static void write_file(const char *name, const char *text) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static int build_pack(kz_error *err) {
    strcpy(g_dir, "/tmp/kz_test_search.XXXXXX");
    if (!mkdtemp(g_dir)) return KZ_EIO;
    write_file("d1.tsv", "id\tname\tsyn\n"
                         "D:1\ttype 2 diabetes mellitus\t\n"
                         "D:2\ttype 1 diabetes mellitus\t\n"
                         "D:3\tdiabetes mellitus\t\n"
                         "D:4\tbreast cancer\t\n"
                         "D:5\tlung cancer\t\n");
    write_file("d2.tsv", "id\tname\tsyn\n"
                         "E:1\tdiabetes\t\n"
                         "E:2\tbreast carcinoma\t\n");
    write_file("g.tsv", "id\tname\tsyn\n"
                        "G:1\tepidermal growth factor receptor\t\n"
                        "G:2\tepidermal growth factor\t\n");
    static const char *src = "  - name: %s\n    entity_class: %s\n    format: tabular\n    path: %s\n"
                             "    id_col: id\n    label_col: name\n    syn_cols: [syn]\n"
                             "    synonym_generation: none\n    autocurator: none\n    id_grouping: per_id\n";
    char recipe[2048];
    int w = snprintf(recipe, sizeof recipe, "kb:\n  name: search-test\n  sources:\n");
    w += snprintf(recipe + w, sizeof recipe - (size_t)w, src, "D1", "disease", "d1.tsv");
    w += snprintf(recipe + w, sizeof recipe - (size_t)w, src, "D2", "disease", "d2.tsv");
    snprintf(recipe + w, sizeof recipe - (size_t)w, src, "G", "gene", "g.tsv");
    write_file("recipe.yaml", recipe);
    char rpath[128];
    snprintf(rpath, sizeof rpath, "%s/recipe.yaml", g_dir);
    snprintf(g_pack, sizeof g_pack, "%s/p.kzkb", g_dir);
    kz_kb_build_opts opts = {.force = true, .allow_conflicts = true};
    kz_kb_build_report rep;
    return kz_kb_build(rpath, g_pack, &opts, &rep, err);
}

static void cleanup_dir(void) {
    static const char *files[] = {"d1.tsv", "d2.tsv", "g.tsv", "recipe.yaml", "p.kzkb"};
    char p[256];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, files[i]);
        unlink(p);
    }
    rmdir(g_dir);
}

static const char *TEXT =
    "type 2 diabetes mellitis, breast cancer, lung cancer, epidermal growth-factor receptr "
    "and type 2 diabetes mellitis again.";

typedef struct ent_spec {
    const char *match, *cls, *ns;
} ent_spec;

static const ent_spec ENTS[] = {
    {"type 2 diabetes mellitis", "disease", "TransformersModelForTokenClassificationNerStep"},
    {"breast cancer", "disease", "TransformersModelForTokenClassificationNerStep"},
    {"lung cancer", "disease", "MemoryEfficientStringMatchingStep"},
    {"epidermal growth-factor receptr", "gene", "TransformersModelForTokenClassificationNerStep"},
    {"type 2 diabetes mellitis again", "disease", "X"},
};

static kz_doc *make_doc(void) {
    kz_error err;
    kz_doc *doc = kz_doc_new("d", 1);
    kz_section *sec;
    if (kz_doc_add_section(doc, "text", 4, TEXT, strlen(TEXT), &sec, &err)) return NULL;
    for (size_t i = 0; i < sizeof ENTS / sizeof ENTS[0]; i++) {
        const char *at = strstr(TEXT, ENTS[i].match);
        if (i == 4) at = strstr(strstr(TEXT, "again") - 25, "type");
        size_t len = i == 4 ? strlen("type 2 diabetes mellitis") : strlen(ENTS[i].match);
        kz_span sp = {at - TEXT, at - TEXT + (int64_t)len};
        kz_entity_init init = {.spans = &sp,
                               .n_spans = 1,
                               .entity_class = kz_str_c(ENTS[i].cls),
                               .namespace_ = kz_str_c(ENTS[i].ns),
                               .mention_confidence = KZ_MENTION_HIGHLY_LIKELY};
        if (kz_section_add_entity(doc, sec, &init, NULL, &err)) return NULL;
    }
    return doc;
}

static void *step_init(const char *extra, kz_error *err) {
    const kz_step_type *t = kz_step_find("DictionaryEntityLinkingStep");
    if (!t) return NULL;
    char yaml[512];
    snprintf(yaml, sizeof yaml, "kb: %s\n%s", g_pack, extra ? extra : "");
    kz_config *cfg;
    if (kz_config_load_string(&cfg, yaml, strlen(yaml), "params", NULL, err)) return NULL;
    void *state = NULL;
    int rc = t->init(&state, kz_config_root(cfg), err);
    kz_config_free(cfg);
    return rc ? NULL : state;
}

static const kz_candidate_metrics *find_cand(const kz_entity *e, const char *parser, const char *norm) {
    for (uint32_t i = 0; i < e->n_candidates; i++) {
        const kz_candidate *c = e->candidates[i].candidate;
        if (c->parser_name.len == strlen(parser) && !memcmp(c->parser_name.ptr, parser, c->parser_name.len) &&
            c->synonym_norm.len == strlen(norm) && !memcmp(c->synonym_norm.ptr, norm, c->synonym_norm.len))
            return &e->candidates[i];
    }
    return NULL;
}

static void check_doc(kz_doc *doc) {
    kz_entity **e = doc->sections[0]->entities;
    KZ_CHECK_INT(doc->sections[0]->n_entities, 5);
    /* misspelt type 2 diabetes: D1 TF-IDF keeps only the type 2 term (NumberMatch drops
     * "type 1" and the unnumbered ones); D2 has nothing with a 2 */
    const kz_entity *diab = NULL, *breast = NULL, *lung = NULL, *gene = NULL;
    for (int i = 0; i < 5; i++) {
        if (e[i]->namespace_.len == 1) continue;
        if (e[i]->match.len == strlen(ENTS[0].match) &&
            !memcmp(e[i]->match.ptr, ENTS[0].match, e[i]->match.len))
            diab = e[i];
        if (!memcmp(e[i]->match.ptr, "breast", 6)) breast = e[i];
        if (!memcmp(e[i]->match.ptr, "lung", 4)) lung = e[i];
        if (!memcmp(e[i]->match.ptr, "epidermal", 9)) gene = e[i];
    }
    KZ_CHECK(diab && breast && lung && gene);
    KZ_CHECK_INT(diab->n_candidates, 1);
    const kz_candidate_metrics *cm = find_cand(diab, "D1", "TYPE 2 DIABETES MELLITU");
    KZ_CHECK(cm != NULL);
    KZ_CHECK(!cm->metrics.exact_match);
    KZ_CHECK(cm->metrics.present & KZ_METRIC_SEARCH);
    KZ_CHECK(cm->metrics.search_score > 50 && cm->metrics.search_score < 100);
    KZ_CHECK(cm->metrics.bool_score == 1.0 && (cm->metrics.present & KZ_METRIC_BOOL_IS_BOOL));
    /* the same (match, class) from another step gets the same candidates */
    for (int i = 0; i < 5; i++)
        if (e[i]->namespace_.len == 1) {
            KZ_CHECK_INT(e[i]->n_candidates, 1);
            KZ_CHECK(e[i]->candidates[0].metrics.search_score == cm->metrics.search_score);
        }
    /* exact key in D1 -> only that candidate from D1, exact_match, no score;
     * D2 has no exact key -> its TF-IDF hits */
    cm = find_cand(breast, "D1", "BREAST CANCER");
    KZ_CHECK(cm && cm->metrics.exact_match && cm->metrics.present == KZ_METRIC_EXACT);
    for (uint32_t i = 0; i < breast->n_candidates; i++) {
        const kz_candidate *c = breast->candidates[i].candidate;
        if (c->parser_name.len == 2 && !memcmp(c->parser_name.ptr, "D1", 2))
            KZ_CHECK(breast->candidates[i].metrics.exact_match);
    }
    cm = find_cand(breast, "D2", "BREAST CARCINOMA");
    KZ_CHECK(cm && !cm->metrics.exact_match && cm->metrics.search_score > 0);
    /* string-matching namespace: skipped */
    KZ_CHECK_INT(lung->n_candidates, 0);
    /* EntityNounModifier: the query lacks RECEPTOR, so the receptor is filtered */
    KZ_CHECK(find_cand(gene, "G", "EPIDERMAL GROWTH FACTOR") != NULL);
    KZ_CHECK(find_cand(gene, "G", "EPIDERMAL GROWTH FACTOR RECEPTOR") == NULL);
}

KZ_TEST(search_step_links_like_kazu) {
    kz_error err;
    kz_error_clear(&err);
    KZ_CHECK_INT(build_pack(&err), 0);
    /* the pack carries the KZTF section */
    kz_kb *kb;
    KZ_CHECK_INT(kz_kb_open(g_pack, &kb, &err), 0);
    const void *blob;
    size_t len;
    KZ_CHECK_INT(kz_kb_section(kb, KZ_KB_TAG('K', 'Z', 'T', 'F'), &blob, &len), 0);
    kz_tfidf *ix;
    KZ_CHECK_INT(kz__tfidf_open(blob, len, &ix, &err), 0);
    KZ_CHECK_INT(kz__tfidf_n_indexes(ix), 3);
    kz__tfidf_close(ix);
    kz_kb_close(kb);
    const kz_step_type *t = kz_step_find("DictionaryEntityLinkingStep");
    KZ_CHECK(t != NULL);
    static const char *const params[] = {NULL, "lookup_cache_size: 0\n", "top_n: 5\nlookup_cache_size: 1\n"};
    for (int p = 0; p < 3; p++) {
        void *st = step_init(params[p], &err);
        KZ_CHECK(st != NULL);
        for (int round = 0; round < 2; round++) { /* the second round reads the cache */
            kz_doc *doc = make_doc();
            KZ_CHECK(doc != NULL);
            kz_step_ctx ctx = {.step_name = t->name};
            KZ_CHECK_INT(t->process(st, &doc, 1, &ctx, &err), 0);
            KZ_CHECK(!kz_doc_failed(doc));
            check_doc(doc);
            kz_doc_free(doc);
            if (kz_test_current_failed) break;
        }
        t->free(st);
        if (kz_test_current_failed) break;
    }
    /* bad params */
    KZ_CHECK(step_init("top_n: 0\n", &err) == NULL);
    KZ_CHECK(step_init("bogus: 1\n", &err) == NULL);
    cleanup_dir();
}

/* A pack whose KZTF section has another format version (built by an older
 * kazu-c): the step builds the index at init, as for a pack without one. */
KZ_TEST(search_step_rebuilds_an_older_index) {
    kz_error err;
    kz_error_clear(&err);
    KZ_CHECK_INT(build_pack(&err), 0);
    size_t len = 0;
    char *pack = kz_test_read_file(g_pack, &len);
    KZ_CHECK(pack != NULL);
    char *at = memmem(pack, len, KZ_TFIDF_MAGIC, 8);
    KZ_CHECK(at != NULL && at + 12 <= pack + len);
    uint32_t v = 1; /* the first KZTF format */
    memcpy(at + 8, &v, 4);
    FILE *fp = fopen(g_pack, "wb");
    KZ_CHECK(fp != NULL);
    KZ_CHECK(fwrite(pack, 1, len, fp) == len);
    fclose(fp);
    free(pack);
    kz_kb *kb;
    KZ_CHECK_INT(kz_kb_open(g_pack, &kb, &err), 0);
    const void *blob;
    size_t blen;
    KZ_CHECK_INT(kz_kb_section(kb, KZ_KB_TAG('K', 'Z', 'T', 'F'), &blob, &blen), 0);
    kz_tfidf *ix = NULL;
    KZ_CHECK_INT(kz__tfidf_open(blob, blen, &ix, &err), KZ_EFORMAT);
    kz_kb_close(kb);
    const kz_step_type *t = kz_step_find("DictionaryEntityLinkingStep");
    void *st = step_init(NULL, &err);
    KZ_CHECK(t && st);
    kz_doc *doc = make_doc();
    KZ_CHECK(doc != NULL);
    kz_step_ctx ctx = {.step_name = t->name};
    KZ_CHECK_INT(t->process(st, &doc, 1, &ctx, &err), 0);
    check_doc(doc);
    kz_doc_free(doc);
    t->free(st);
    cleanup_dir();
}

typedef struct thread_arg {
    const kz_step_type *t;
    void *st;
    int ok;
} thread_arg;

static void *thread_main(void *p) {
    thread_arg *a = p;
    for (int i = 0; i < 20; i++) {
        kz_error err;
        kz_doc *doc = make_doc();
        kz_step_ctx ctx = {.step_name = a->t->name};
        if (!doc || a->t->process(a->st, &doc, 1, &ctx, &err) || kz_doc_failed(doc)) {
            kz_doc_free(doc);
            return NULL;
        }
        /* the misspelt diabetes entity and its twin got exactly one candidate each */
        const kz_section *sec = doc->sections[0];
        int n1 = 0;
        for (uint32_t e = 0; e < sec->n_entities; e++) n1 += sec->entities[e]->n_candidates == 1;
        kz_doc_free(doc);
        if (n1 < 2) return NULL;
    }
    a->ok = 1;
    return NULL;
}

/* process() from several threads on one state (shared cache of one slot, scratch pool) */
KZ_TEST(search_step_concurrent) {
    kz_error err;
    kz_error_clear(&err);
    KZ_CHECK_INT(build_pack(&err), 0);
    const kz_step_type *t = kz_step_find("DictionaryEntityLinkingStep");
    void *st = step_init("lookup_cache_size: 1\n", &err);
    KZ_CHECK(t && st);
    pthread_t th[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thread_arg){t, st, 0};
        KZ_CHECK_INT(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    t->free(st);
    for (int i = 0; i < 4; i++) KZ_CHECK_INT(args[i].ok, 1);
    cleanup_dir();
}

/* Kazu's tests/test_string_similarity_scorers.py cases */
KZ_TEST(search_boolean_scorers) {
    KZ_CHECK(kz__scorer_number_match(kz_str_c("TYPE 2 DIABETES"), kz_str_c("DIABETES TYPE 2")));
    KZ_CHECK(!kz__scorer_number_match(kz_str_c("TYPE 2 DIABETES"), kz_str_c("TYPE 1 DIABETES")));
    KZ_CHECK(!kz__scorer_number_match(kz_str_c("IL 1"), kz_str_c("IL 10")));
    KZ_CHECK(!kz__scorer_number_match(kz_str_c("2 2"), kz_str_c("2")));
    KZ_CHECK(!kz__scorer_number_match(kz_str_c("01"), kz_str_c("1")));
    KZ_CHECK(kz__scorer_number_match(kz_str_c("A1B2"), kz_str_c("2 X 1")));
    /* EntitySubtype: every TYPE x of the reference in the query (query may have more) */
    KZ_CHECK(kz__scorer_entity_subtype(kz_str_c("DIABETES"), kz_str_c("DIABETES TYPE I")));
    KZ_CHECK(kz__scorer_entity_subtype(kz_str_c("DIABETES TYPE 2"), kz_str_c("TYPE 2 DIABETES")));
    KZ_CHECK(!kz__scorer_entity_subtype(kz_str_c("DIABETES TYPE 2"), kz_str_c("TYPE 1 DIABETES")));
    KZ_CHECK(!kz__scorer_entity_subtype(kz_str_c("TYPE I DIABETES"), kz_str_c("DIABETES")));
    KZ_CHECK(!kz__scorer_entity_subtype(kz_str_c("TYPE 2 TYPE 2"), kz_str_c("TYPE 2")));
    KZ_CHECK(kz__scorer_entity_subtype(kz_str_c("GENOTYPE 12"), kz_str_c("TYPE 12")));
    KZ_CHECK(!kz__scorer_entity_subtype(kz_str_c("TYPE 12"), kz_str_c("TYPE 1")));
    /* "TYPE II" is "TYPE I" to the regex (I is tried first) */
    KZ_CHECK(kz__scorer_entity_subtype(kz_str_c("TYPE II"), kz_str_c("TYPE I")));
    /* EntityNounModifier: each phrase in both or neither */
    KZ_CHECK(kz__scorer_noun_modifier(kz_str_c("EGF RECEPTOR"), kz_str_c("RECEPTOR OF EGF")));
    KZ_CHECK(!kz__scorer_noun_modifier(kz_str_c("EGF RECEPTOR"), kz_str_c("EGF")));
    KZ_CHECK(!kz__scorer_noun_modifier(kz_str_c("EGF"), kz_str_c("EGF LIKE")));
    KZ_CHECK(kz__scorer_noun_modifier(kz_str_c("GENE PSEUDOGENE 1"), kz_str_c("PSEUDOGENE X")));
    /* per class */
    KZ_CHECK(kz__scorers_pass(kz_str_c("drug"), kz_str_c("EGF RECEPTOR"), kz_str_c("EGF")));
    KZ_CHECK(!kz__scorers_pass(kz_str_c("gene"), kz_str_c("EGF RECEPTOR"), kz_str_c("EGF")));
    KZ_CHECK(kz__scorers_pass(kz_str_c("drug"), kz_str_c("TYPE I X"), kz_str_c("X")));
    KZ_CHECK(!kz__scorers_pass(kz_str_c("disease"), kz_str_c("TYPE I X"), kz_str_c("X")));
    KZ_CHECK(!kz__scorers_pass(kz_str_c("anatomy"), kz_str_c("X 1"), kz_str_c("X")));
}
