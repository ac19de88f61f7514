/* The model builder end to end (src/kb/build_*.c) over the TSV fixtures in
 * tests/golden/kb_build/: parsing, id grouping, synonym generation,
 * curations, global actions, required:false, the input hash, recipe errors. */
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kz_test.h"
#include "kazu/kazu.h"
#include "kb/build_int.h"

#define FIX KZ_SOURCE_DIR "/tests/golden/kb_build/"

static int64_t find_parser(const kz_kb_model *m, const char *name) {
    for (uint32_t i = 0; i < m->n_parsers; i++)
        if (kz_str_eq_c(m->parsers[i].name, name)) return i;
    return -1;
}

static const kz_kbm_candidate *find_cand(const kz_kb_model *m, const char *parser, const char *norm,
                                         uint64_t *idx) {
    int64_t p = find_parser(m, parser);
    for (uint64_t i = 0; i < m->n_candidates; i++)
        if ((int64_t)m->candidates[i].parser == p && kz_str_eq_c(m->candidates[i].synonym_norm, norm)) {
            if (idx) *idx = i;
            return &m->candidates[i];
        }
    return NULL;
}

static const kz_kbm_resource *find_res(const kz_kb_model *m, const char *text, uint64_t cand) {
    for (uint64_t i = 0; i < m->n_resources; i++)
        if (kz_str_eq_c(m->resources[i].text, text) && m->resources[i].candidate == cand)
            return &m->resources[i];
    return NULL;
}

static const kz_kbm_id *find_id(const kz_kb_model *m, const char *idx) {
    for (uint64_t i = 0; i < m->n_ids; i++)
        if (kz_str_eq_c(m->ids[i].idx, idx)) return &m->ids[i];
    return NULL;
}

static const char *fmt(const kz_error *e) {
    static char buf[1024];
    return kz_error_format(e, buf, sizeof buf);
}

KZ_TEST(build_fixture_model) {
    setenv("KZ_TEST_GENES_DIR", KZ_SOURCE_DIR "/tests/golden/kb_build", 1);
    const char *report = "/tmp/kz_test_kb_build_report.jsonl";
    kz_kb_build_opts opts = {.report_path = report};
    kz_kb_model m;
    uint8_t hash[32];
    kz_error err;
    int rc = kz__kb_model_build(FIX "recipe.yaml", &opts, false, hash, &m, &err);
    if (rc) kz_test_fail(__FILE__, __LINE__, "build failed: %s", fmt(&err));
    KZ_CHECK_INT(rc, 0);
    KZ_CHECK_KSTR(m.name, "kb-build-fixture");
    KZ_CHECK_INT(m.n_parsers, 2); /* TEST_OPTIONAL skipped: its file is missing */
    KZ_CHECK_KSTR(m.parsers[0].source, "TESTDB");
    KZ_CHECK_KSTR(m.parsers[1].source, "TEST_GENE"); /* default source = name */
    KZ_CHECK_KSTR(m.parsers[0].data_origin, "fixture 1");
    KZ_CHECK_INT(m.n_terms_parsed, 10);
    KZ_CHECK_INT(m.n_conflicts, 0);

    /* ids: D:0001's two records merged */
    const kz_kbm_id *d1 = find_id(&m, "D:0001");
    KZ_CHECK(d1 != NULL);
    KZ_CHECK_KSTR(d1->default_label, "Lung Cancer");
    KZ_CHECK_INT(d1->n_xrefs, 1);
    KZ_CHECK_KSTR(d1->xrefs[0], "MESH:D008175");
    KZ_CHECK(strstr(d1->metadata_json.ptr, "\"definition\":\"A cancer of the lung\"") != NULL);
    KZ_CHECK(strstr(d1->metadata_json.ptr, "\"data_origin\":\"fixture 1\"") != NULL);
    KZ_CHECK(find_id(&m, "D:0004") != NULL); /* metadata stays after a global action */

    uint64_t ci;
    /* the second record's synonym joined D:0001 */
    const kz_kbm_candidate *c = find_cand(&m, "TEST_DISEASE", "PULMONARY CANCER", &ci);
    KZ_CHECK(c != NULL);
    KZ_CHECK_INT(c->aggregated_by, KZ_AGG_UNAMBIGUOUS);
    /* xref grouping: D:0001 and D:0005 share MESH:D008175 */
    c = find_cand(&m, "TEST_DISEASE", "LUNG CARCINOMA", &ci);
    KZ_CHECK(c != NULL);
    KZ_CHECK_INT(c->aggregated_by, KZ_AGG_RESOLVED_BY_XREF);
    KZ_CHECK_INT(c->n_id_sets, 1);
    KZ_CHECK_INT(m.id_sets[c->id_sets[0]].n_ids, 2);
    /* "ALL"/"All": D:0004 dropped by the global action; the human curation makes
     * "ALL" linking-only, case-sensitive, POSSIBLE */
    c = find_cand(&m, "TEST_DISEASE", "ALL", &ci);
    KZ_CHECK(c != NULL);
    KZ_CHECK_INT(c->aggregated_by, KZ_AGG_MODIFIED_BY_CURATION);
    KZ_CHECK_INT(c->n_id_sets, 1);
    KZ_CHECK_KSTR(m.id_sets[c->id_sets[0]].ids[0].idx, "D:0003");
    const kz_kbm_resource *r = find_res(&m, "ALL", ci);
    KZ_CHECK(r != NULL);
    KZ_CHECK_INT(r->behaviour, KZ_KB_ADD_FOR_LINKING_ONLY);
    KZ_CHECK(r->case_sensitive);
    KZ_CHECK_INT(r->mention_confidence, KZ_MENTION_POSSIBLE);
    KZ_CHECK(find_res(&m, "All", ci) == NULL);
    /* an additional curated string */
    c = find_cand(&m, "TEST_DISEASE", "SMALL CELL LUNG CANCER", &ci);
    KZ_CHECK(c != NULL);
    KZ_CHECK_INT(c->aggregated_by, KZ_AGG_MODIFIED_BY_CURATION);
    KZ_CHECK_KSTR(c->mapping_types[0], "kazu_curated");
    r = find_res(&m, "small cell lung cancer", ci);
    KZ_CHECK(r != NULL);
    KZ_CHECK_INT(r->mention_confidence, KZ_MENTION_HIGHLY_LIKELY);
    /* DROP_FOR_LINKING removed the candidate */
    KZ_CHECK(find_cand(&m, "TEST_DISEASE", "ASTHMATIC DISEASE", NULL) == NULL);
    KZ_CHECK(find_cand(&m, "TEST_DISEASE", "ASTHMA", NULL) != NULL);
    /* synonym generation (default config) */
    c = find_cand(&m, "TEST_DISEASE", "ALPHA THALASSAEMIA", &ci);
    KZ_CHECK(c != NULL);
    r = find_res(&m, "alpha-thalassaemia", ci);
    KZ_CHECK(r != NULL && !r->generated);
    r = find_res(&m, "α-thalassaemia", ci);
    KZ_CHECK(r != NULL && r->generated);
    KZ_CHECK(find_res(&m, "alpha thalassaemia", ci) != NULL);
    /* autocurator basic: "NSCLC" is never symbolic for diseases (Kazu's exception
     * list) so it stays case-insensitive; short and upper case -> POSSIBLE */
    KZ_CHECK(find_cand(&m, "TEST_DISEASE", "NSCLC", &ci) != NULL);
    r = find_res(&m, "NSCLC", ci);
    KZ_CHECK(r != NULL && !r->case_sensitive);
    KZ_CHECK_INT(r->mention_confidence, KZ_MENTION_POSSIBLE);
    /* gene parser: "ERBB" is an alias of two genes: symbolic -> one set per id */
    c = find_cand(&m, "TEST_GENE", "ERBB", &ci);
    KZ_CHECK(c != NULL);
    KZ_CHECK(c->is_symbolic);
    KZ_CHECK_INT(c->aggregated_by, KZ_AGG_SYNONYM_IS_AMBIGUOUS);
    KZ_CHECK_INT(c->n_id_sets, 2);
    r = find_res(&m, "ERBB", ci);
    KZ_CHECK(r != NULL && r->case_sensitive);
    c = find_cand(&m, "TEST_GENE", "EPIDERMAL GROWTH FACTOR RECEPTOR", &ci);
    KZ_CHECK(c != NULL);
    KZ_CHECK(find_res(&m, "epidermal-growth factor receptor", ci) == NULL); /* 3 words: no hyphenation */
    /* no DROP_FOR_LINKING resource is stored; every resource points at a candidate */
    for (uint64_t i = 0; i < m.n_resources; i++) {
        KZ_CHECK(m.resources[i].behaviour != KZ_KB_DROP_FOR_LINKING);
        KZ_CHECK(m.resources[i].candidate < m.n_candidates);
    }
    for (uint64_t i = 0; i < m.n_candidates; i++)
        for (uint32_t k = 0; k < m.candidates[i].n_id_sets; k++)
            KZ_CHECK(m.candidates[i].id_sets[k] < m.n_id_sets);
    struct stat st;
    KZ_CHECK(stat(report, &st) == 0 && st.st_size == 0);
    unlink(report);
    kz__kb_model_free(&m);
    kz__kb_model_free(&m); /* idempotent */
}

/* A digest of the whole model in its array order. */
static void model_digest(const kz_kb_model *m, uint8_t out[32]) {
    kz_sha256 *h = kz__sha256_new();
#define S(x) kz__sha256_update(h, (x).ptr ? (x).ptr : "", (x).len + 1)
    for (uint64_t i = 0; i < m->n_ids; i++) {
        S(m->ids[i].idx);
        S(m->ids[i].default_label);
        S(m->ids[i].metadata_json);
    }
    for (uint64_t i = 0; i < m->n_candidates; i++) {
        const kz_kbm_candidate *c = &m->candidates[i];
        S(c->synonym_norm);
        for (uint32_t k = 0; k < c->n_raw_synonyms; k++) S(c->raw_synonyms[k]);
        for (uint32_t k = 0; k < c->n_id_sets; k++) {
            const kz_kbm_id_set *s = &m->id_sets[c->id_sets[k]];
            for (uint32_t q = 0; q < s->n_ids; q++) S(s->ids[q].idx);
        }
        kz__sha256_update(h, &c->aggregated_by, sizeof c->aggregated_by);
    }
    for (uint64_t i = 0; i < m->n_resources; i++) {
        const kz_kbm_resource *r = &m->resources[i];
        S(r->text);
        int v[5] = {(int)r->candidate, r->case_sensitive, r->mention_confidence, r->behaviour, r->generated};
        kz__sha256_update(h, v, sizeof v);
    }
#undef S
    kz__sha256_final(h, out);
}

KZ_TEST(hash_only_and_determinism) {
    setenv("KZ_TEST_GENES_DIR", KZ_SOURCE_DIR "/tests/golden/kb_build", 1);
    uint8_t h1[32], h2[32], h3[32], d1[32], d2[32];
    kz_error err;
    KZ_CHECK_INT(kz__kb_model_build(FIX "recipe.yaml", NULL, true, h1, NULL, &err), 0);
    KZ_CHECK_INT(kz__kb_model_build(FIX "recipe.yaml", NULL, true, h2, NULL, &err), 0);
    KZ_CHECK(memcmp(h1, h2, 32) == 0);
    kz_kb_model a, b;
    KZ_CHECK_INT(kz__kb_model_build(FIX "recipe.yaml", NULL, false, h3, &a, &err), 0);
    KZ_CHECK(memcmp(h1, h3, 32) == 0);
    KZ_CHECK_INT(kz__kb_model_build(FIX "recipe.yaml", NULL, false, NULL, &b, &err), 0);
    model_digest(&a, d1);
    model_digest(&b, d2);
    KZ_CHECK(memcmp(d1, d2, 32) == 0);
    KZ_CHECK_INT(a.n_resources, b.n_resources);
    kz__kb_model_free(&a);
    kz__kb_model_free(&b);

    /* the hash covers the inputs; hash_only parses nothing (garbage input ok) */
    char dir[] = "/tmp/kz_kb_hash_XXXXXX";
    KZ_CHECK(mkdtemp(dir) != NULL);
    char recipe[256], input[256];
    snprintf(recipe, sizeof recipe, "%s/r.yaml", dir);
    snprintf(input, sizeof input, "%s/in.obo", dir);
    FILE *f = fopen(recipe, "w");
    fputs("kb:\n  sources:\n    - {name: X, entity_class: disease, format: obo, path: in.obo}\n", f);
    fclose(f);
    f = fopen(input, "w");
    fputs("\x01\x02 not an ontology", f);
    fclose(f);
    KZ_CHECK_INT(kz__kb_model_build(recipe, NULL, true, h1, NULL, &err), 0);
    f = fopen(input, "a");
    fputs("!", f);
    fclose(f);
    KZ_CHECK_INT(kz__kb_model_build(recipe, NULL, true, h2, NULL, &err), 0);
    KZ_CHECK(memcmp(h1, h2, 32) != 0);
    /* recipe bytes + input bytes + format version, as kb_int.h says */
    kz_sha256 *h = kz__sha256_new();
    size_t len;
    char *t = kz_test_read_file(recipe, &len);
    kz__sha256_update(h, t, len);
    free(t);
    t = kz_test_read_file(input, &len);
    kz__sha256_update(h, t, len);
    free(t);
    uint8_t ver[4] = {KZ_KB_FORMAT_VERSION, 0, 0, 0};
    kz__sha256_update(h, ver, 4);
    kz__sha256_final(h, h3);
    KZ_CHECK(memcmp(h2, h3, 32) == 0);
    unlink(recipe);
    unlink(input);
    rmdir(dir);
}

KZ_TEST(missing_required_file_is_an_error) {
    kz_kb_model m;
    kz_error err;
    uint8_t h[32];
    int rc = kz__kb_model_build(FIX "missing_required.yaml", NULL, true, h, &m, &err);
    KZ_CHECK_INT(rc, KZ_ENOTFOUND);
    KZ_CHECK(strstr(err.path, "missing_required.yaml") != NULL);
    KZ_CHECK_INT(err.line, 6);
    KZ_CHECK(strstr(err.msg, "'path'") != NULL);
    KZ_CHECK(strstr(err.msg, "does_not_exist.tsv") != NULL);
}

KZ_TEST(bad_key_names_line_and_key) {
    kz_kb_model m;
    kz_error err;
    int rc = kz__kb_model_build(FIX "bad_key.yaml", NULL, false, NULL, &m, &err);
    KZ_CHECK_INT(rc, KZ_ECONFIG);
    KZ_CHECK(strstr(err.path, "bad_key.yaml") != NULL);
    KZ_CHECK_INT(err.line, 9);
    KZ_CHECK_INT(err.column, 7);
    KZ_CHECK(strstr(err.msg, "synonym_generaton") != NULL);
    KZ_CHECK(strstr(err.msg, "kb.sources[0]") != NULL);
}

KZ_TEST(recipe_value_errors) {
    kz_recipe r;
    kz_error err;
    const char *cases[][2] = {
        {"kb:\n  sources:\n    - {name: A, entity_class: d, format: rdf, path: /etc/hostname}\n",
         "unknown format"},
        {"kb:\n  sources:\n    - {name: A, entity_class: d, format: obo}\n", "'path'"},
        {"kb:\n  sources: []\n", "non-empty"},
        {"kb:\n  sources:\n    - {name: A, entity_class: d, format: obo, path: /etc/hostname, autocurator: "
         "x}\n",
         "autocurator"},
        {"kb:\n  sources:\n    - {name: A, entity_class: d, format: obo, path: /etc/hostname, id_grouping: "
         "y}\n",
         "id_grouping"},
        {"kb:\n  sources:\n    - {name: A, entity_class: d, format: obo, path: /etc/hostname}\n    - {name: "
         "A, "
         "entity_class: d, format: obo, path: /etc/hostname}\n",
         "duplicate"},
        {"kb:\n  sources:\n    - {name: A, entity_class: d, format: obo, path: '${KZ_SURELY_UNSET_VAR}'}\n",
         "KZ_SURELY_UNSET_VAR"},
        {"kb:\n  sources:\n    - {name: A, entity_class: d, format: tabular, path: /etc/hostname, delimiter: "
         "ab}\n",
         "delimiter"},
        {"kb:\n  sources:\n    - {name: A, entity_class: d, format: obo, path: /etc/hostname, curations: "
         "nope.jsonl}\n",
         "curations"},
        {"kb: [1]\n", "'kb'"},
        {"kb:\n  sources:\n    - {name: A, entity_class: d, format: obo, path: /etc/hostname, row_filters: "
         "['id =~ x']}\n",
         "'row_filters' applies to row formats only"},
        {"kb:\n  sources:\n    - {name: A, entity_class: d, format: tabular, path: /etc/hostname, "
         "row_filters: "
         "'id =~ x'}\n",
         "row_filters"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = kz__recipe_parse(cases[i][0], strlen(cases[i][0]), "/tmp/r.yaml", &r, &err);
        if (rc == 0 || !strstr(err.msg, cases[i][1]))
            kz_test_fail(__FILE__, __LINE__, "case %zu: rc %d, message \"%s\"", i, rc, err.msg);
        KZ_CHECK(err.line > 0);
        kz__recipe_free(&r);
    }
    /* good: defaults, relative paths, tab delimiter */
    const char *ok =
        "kb:\n  sources:\n    - {name: A, entity_class: d, format: tabular, path: hostname, delimiter: "
        "\"\\t\", syn_cols: [a, b], required: false,\n       row_filters: ['genus+species =~ ^[A-Z]', 'x !~ "
        "y']}\n";
    KZ_CHECK_INT(kz__recipe_parse(ok, strlen(ok), "/etc/r.yaml", &r, &err), 0);
    KZ_CHECK_STR(r.name, "kazu-c");
    KZ_CHECK_STR(r.sources[0].spec.path, "/etc/hostname");
    KZ_CHECK_INT(r.sources[0].spec.delimiter, '\t');
    KZ_CHECK_INT(r.sources[0].spec.n_syn_cols, 2);
    KZ_CHECK_INT(r.sources[0].spec.n_row_filters, 2);
    KZ_CHECK_STR(r.sources[0].spec.row_filters[0], "genus+species =~ ^[A-Z]");
    KZ_CHECK_STR(r.sources[0].spec.row_filters[1], "x !~ y");
    KZ_CHECK_STR(r.sources[0].source, "A");
    KZ_CHECK_INT(r.sources[0].autocurator, KZ_CURATOR_BASIC);
    KZ_CHECK_INT(r.sources[0].synonym_generation, KZ_SYNGEN_NONE);
    kz__recipe_free(&r);
}

KZ_TEST(env_expansion) {
    kz_arena *a = kz_arena_new(0);
    const char *out;
    kz_error err;
    setenv("KZ_T_VAR", "/data", 1);
    unsetenv("KZ_T_UNSET");
    KZ_CHECK_INT(kz__recipe_expand(a, "${KZ_T_VAR}/x/${KZ_T_UNSET:-d}.obo", &out, &err), 0);
    KZ_CHECK_STR(out, "/data/x/d.obo");
    KZ_CHECK_INT(kz__recipe_expand(a, "${KZ_T_VAR:-z}$HOME", &out, &err), 0);
    KZ_CHECK_STR(out, "/data$HOME");
    KZ_CHECK(kz__recipe_expand(a, "${KZ_T_UNSET}", &out, &err) == KZ_ECONFIG);
    KZ_CHECK(kz__recipe_expand(a, "${KZ_T_VAR", &out, &err) == KZ_ECONFIG);
    KZ_CHECK(kz__recipe_expand(a, "${1X}", &out, &err) == KZ_ECONFIG);
    kz_arena_free(a);
}

KZ_TEST(unresolved_conflicts_are_reported) {
    const char *report = "/tmp/kz_test_kb_conflicts.jsonl";
    kz_kb_build_opts opts = {.report_path = report};
    kz_kb_model m;
    kz_error err;
    int rc = kz__kb_model_build(FIX "conflicts.yaml", &opts, false, NULL, &m, &err);
    if (rc) kz_test_fail(__FILE__, __LINE__, "build failed: %s", fmt(&err));
    KZ_CHECK_INT(m.n_conflicts, 1);
    size_t len;
    char *t = kz_test_read_file(report, &len);
    KZ_CHECK(t != NULL);
    json_error_t je;
    json_t *o = json_loadb(t, len, JSON_DISABLE_EOF_CHECK, &je);
    KZ_CHECK(o != NULL);
    KZ_CHECK_STR(json_string_value(json_object_get(o, "kind")), "case");
    KZ_CHECK_STR(json_string_value(json_object_get(o, "parser")), "TEST_DISEASE");
    KZ_CHECK_STR(json_string_value(json_object_get(o, "stage")), "curations");
    json_decref(o);
    free(t);
    /* the conflicted human curation is not used: the default "Asthma" stays */
    uint64_t ci;
    KZ_CHECK(find_cand(&m, "TEST_DISEASE", "ASTHMA", &ci) != NULL);
    const kz_kbm_resource *r = find_res(&m, "Asthma", ci);
    KZ_CHECK(r != NULL);
    KZ_CHECK_INT(r->mention_confidence, KZ_MENTION_PROBABLE);
    unlink(report);
    kz__kb_model_free(&m);
}
