/* Curation (src/kb/curation.c): the AutoCurator sets, the conflict analyser
 * (cases of Kazu's test_conflict_analyser.py and the docstring examples of
 * _resource_set_has_case_conflicts, expectations per Kazu 2.x's code), human
 * curation merging, global actions, the resource processor, the JSONL report. */
#include <jansson.h>
#include "kz_test.h"
#include "kazu/kazu.h"
#include "kb/build_int.h"

typedef struct {
    kz_arena *a;
    kz_kbb_ctx ctx;
    kz_buf report;
} fixture;

static void fx_init(fixture *f, const char *cls) {
    memset(f, 0, sizeof *f);
    f->a = kz_arena_new(0);
    kz__buf_init(&f->report, 0);
    f->ctx.arena = f->a;
    f->ctx.parser = "TEST";
    f->ctx.entity_class = cls;
    f->ctx.norm = kz__ncache_new(cls);
    f->ctx.report = &f->report;
}

static void fx_free(fixture *f) {
    kz__ncache_free(f->ctx.norm);
    for (int i = 0; i < 4; i++) kz__ncache_free(f->ctx.aux[i]);
    kz__buf_free(&f->report);
    kz_arena_free(f->a);
}

/* A resource from "text/cs/CONF" items (cs: 1 or 0). */
static kz_kbb_res mk(fixture *f, int behaviour, const char *const *items, int n) {
    kz_kbb_res r = {0};
    r.orig = kz_arena_calloc(f->a, (size_t)n, sizeof *r.orig);
    for (int i = 0; i < n; i++) {
        char text[128], conf[32];
        int cs;
        sscanf(items[i], "%127[^/]/%d/%31s", text, &cs, conf);
        r.orig[i].text = kz_arena_strdup(f->a, text, strlen(text));
        r.orig[i].case_sensitive = cs != 0;
        kz_mention_confidence_parse(kz_str_c(conf), &r.orig[i].mention_confidence);
    }
    r.n_orig = kz__kbb_syns_normalise(r.orig, (uint32_t)n);
    r.behaviour = behaviour;
    return r;
}

static kz_kbb_res curate(fixture *f, int curator, const char *text) {
    const char *item[1];
    char buf[160];
    snprintf(buf, sizeof buf, "%s/0/PROBABLE", text);
    item[0] = buf;
    kz_kbb_res r = mk(f, KZ_KB_ADD_FOR_NER_AND_LINKING, item, 1);
    kz_error err;
    if (kz__autocurate(&f->ctx, curator, &r, &err)) r.behaviour = -1;
    return r;
}

KZ_TEST(autocurator_basic) {
    fixture f;
    fx_init(&f, "disease");
    kz_kbb_res r = curate(&f, KZ_CURATOR_BASIC, "EGFR"); /* symbolic, short, upper: cs + POSSIBLE */
    KZ_CHECK(r.orig[0].case_sensitive);
    KZ_CHECK_INT(r.orig[0].mention_confidence, KZ_MENTION_POSSIBLE);
    KZ_CHECK_INT(r.behaviour, KZ_KB_ADD_FOR_NER_AND_LINKING);
    r = curate(&f, KZ_CURATOR_BASIC, "lung cancer"); /* noun phrase, multiword: ci PROBABLE */
    KZ_CHECK(!r.orig[0].case_sensitive);
    KZ_CHECK_INT(r.orig[0].mention_confidence, KZ_MENTION_PROBABLE);
    r = curate(&f, KZ_CURATOR_BASIC, "ability"); /* a common word */
    KZ_CHECK(kz__common_word(kz_str_c("ability")));
    KZ_CHECK_INT(r.orig[0].mention_confidence, KZ_MENTION_POSSIBLE);
    r = curate(&f, KZ_CURATOR_BASIC, "the ability"); /* common, but multiword puts PROBABLE back */
    KZ_CHECK_INT(r.orig[0].mention_confidence, KZ_MENTION_PROBABLE);
    r = curate(&f, KZ_CURATOR_BASIC, "X"); /* MinLength(2) */
    KZ_CHECK_INT(r.behaviour, KZ_KB_DROP_FOR_LINKING);
    r = curate(&f, KZ_CURATOR_BASIC, "a very long disease name that goes on and on and on past sixty chars");
    KZ_CHECK_INT(r.behaviour, KZ_KB_DROP_FOR_LINKING);
    r = curate(&f, KZ_CURATOR_BASIC, "eGFR"); /* initial lower then upper */
    KZ_CHECK(r.orig[0].case_sensitive);
    r = curate(&f, KZ_CURATOR_BASIC, "Parkinson disease");
    KZ_CHECK(!r.orig[0].case_sensitive);
    KZ_CHECK_INT(r.orig[0].mention_confidence, KZ_MENTION_PROBABLE);
    fx_free(&f);
}

KZ_TEST(autocurator_gene_chembl_cell) {
    fixture f;
    fx_init(&f, "gene");
    kz_kbb_res r = curate(&f, KZ_CURATOR_GENE, "BRCA1"); /* gene: no LikelyAcronym */
    KZ_CHECK(r.orig[0].case_sensitive);
    KZ_CHECK_INT(r.orig[0].mention_confidence, KZ_MENTION_PROBABLE);
    r = curate(&f, KZ_CURATOR_GENE, "kinase"); /* -ase: not a gene symbol */
    KZ_CHECK(!r.orig[0].case_sensitive);
    r = curate(&f, KZ_CURATOR_CHEMBL, "DMSO"); /* cs, POSSIBLE, then all-caps word -> ci */
    KZ_CHECK(!r.orig[0].case_sensitive);
    KZ_CHECK_INT(r.orig[0].mention_confidence, KZ_MENTION_POSSIBLE);
    r = curate(&f, KZ_CURATOR_CHEMBL, "ASPIRIN");
    KZ_CHECK(!r.orig[0].case_sensitive);
    KZ_CHECK_INT(r.orig[0].mention_confidence, KZ_MENTION_PROBABLE);
    r = curate(&f, KZ_CURATOR_CHEMBL, "AZD-9291"); /* symbolic, not alphabetic: stays cs */
    KZ_CHECK(r.orig[0].case_sensitive);
    r = curate(&f, KZ_CURATOR_CELL, "HeLa");
    KZ_CHECK(r.orig[0].case_sensitive);
    KZ_CHECK_INT(r.orig[0].mention_confidence, KZ_MENTION_PROBABLE);
    r = curate(&f, KZ_CURATOR_NONE, "HeLa");
    KZ_CHECK(!r.orig[0].case_sensitive);
    int v;
    KZ_CHECK_INT(kz__curator_parse("cell_line_or_type", &v), 0);
    KZ_CHECK_INT(v, KZ_CURATOR_CELL);
    KZ_CHECK(kz__curator_parse("meddra", &v) != 0);
    fx_free(&f);
}

KZ_TEST(python_string_predicates) {
    KZ_CHECK(kz__py_isupper(kz_str_c("EGFR-2")));
    KZ_CHECK(!kz__py_isupper(kz_str_c("123")));
    KZ_CHECK(!kz__py_isupper(kz_str_c("ǅA"))); /* title case is not upper */
    KZ_CHECK(kz__py_isalpha(kz_str_c("Αβγ")));
    KZ_CHECK(!kz__py_isalpha(kz_str_c("")));
    kz_arena *a = kz_arena_new(0);
    KZ_CHECK_KSTR(kz__py_lower(a, kz_str_c("ΟΔΟΣ")), "οδος"); /* final sigma */
    KZ_CHECK_KSTR(kz__py_lower(a, kz_str_c("İx")), "i\xcc\x87x");
    KZ_CHECK_KSTR(kz__py_strip(kz_str_c("\xe2\x80\x83 a b\t")), "a b");
    kz_arena_free(a);
}

static int verify(fixture *f, kz_kbb_res *r, size_t n, int autofix, kz_resvec *clean) {
    kz_error err;
    return kz__conflicts_verify(&f->ctx, r, n, autofix, "curations", clean, &err);
}

/* test_should_cause_intracuration_case_conflict: one resource, a case-sensitive
 * form not above the case-insensitive one. */
KZ_TEST(conflict_intra_resource_case) {
    fixture f;
    fx_init(&f, "test");
    const char *items[] = {"hello/1/POSSIBLE", "Hello/0/PROBABLE"};
    kz_kbb_res r = mk(&f, KZ_KB_ADD_FOR_NER_AND_LINKING, items, 2);
    kz_resvec clean = {0};
    KZ_CHECK_INT(verify(&f, &r, 1, KZ_AUTOFIX_NONE, &clean), 0);
    KZ_CHECK_INT(clean.n, 0);
    KZ_CHECK_INT(f.ctx.n_conflicts, 1);
    KZ_CHECK(strstr(f.report.data, "\"kind\":\"case\"") != NULL);
    KZ_CHECK(strstr(f.report.data, "\"string\":\"hello\"") != NULL);
    kz__resvec_free(&clean);
    fx_free(&f);
}

/* test_should_merge: same syn_norm, same behaviour -> one resource; the
 * case-sensitive form is strictly above the case-insensitive one: clean. */
KZ_TEST(conflict_should_merge) {
    fixture f;
    fx_init(&f, "test");
    const char *a[] = {"hello/1/PROBABLE"}, *b[] = {"Hello/0/POSSIBLE"};
    kz_kbb_res r[2] = {mk(&f, KZ_KB_ADD_FOR_NER_AND_LINKING, a, 1),
                       mk(&f, KZ_KB_ADD_FOR_NER_AND_LINKING, b, 1)};
    kz_resvec clean = {0};
    KZ_CHECK_INT(verify(&f, r, 2, KZ_AUTOFIX_NONE, &clean), 0);
    KZ_CHECK_INT(clean.n, 1);
    KZ_CHECK_INT(clean.v[0].n_orig, 2);
    KZ_CHECK_KSTR(clean.v[0].syn_norm, "HELLO");
    KZ_CHECK_INT(f.ctx.n_conflicts, 0);
    kz__resvec_free(&clean);
    fx_free(&f);
}

/* Merged first, then a case conflict inside the merged resource. */
KZ_TEST(conflict_inter_resource_case_after_merge) {
    fixture f;
    fx_init(&f, "test");
    const char *a[] = {"hello/1/POSSIBLE"}, *b[] = {"Hello/0/PROBABLE"};
    kz_kbb_res r[2] = {mk(&f, KZ_KB_ADD_FOR_NER_AND_LINKING, a, 1),
                       mk(&f, KZ_KB_ADD_FOR_NER_AND_LINKING, b, 1)};
    kz_resvec clean = {0};
    KZ_CHECK_INT(verify(&f, r, 2, KZ_AUTOFIX_NONE, &clean), 0);
    KZ_CHECK_INT(clean.n, 0);
    KZ_CHECK_INT(f.ctx.n_conflicts, 1);
    /* OPTIMISTIC autofix: case-insensitive wins, confidence max */
    kz__resvec_free(&clean);
    KZ_CHECK_INT(verify(&f, r, 2, KZ_AUTOFIX_OPTIMISTIC, &clean), 0);
    KZ_CHECK_INT(clean.n, 1);
    for (uint32_t i = 0; i < clean.v[0].n_orig; i++) {
        KZ_CHECK(!clean.v[0].orig[i].case_sensitive);
        KZ_CHECK_INT(clean.v[0].orig[i].mention_confidence, KZ_MENTION_PROBABLE);
    }
    KZ_CHECK_INT(f.ctx.n_conflicts, 1); /* autofix reports nothing */
    /* PESSIMISTIC: case-sensitive, confidence min */
    kz__resvec_free(&clean);
    KZ_CHECK_INT(verify(&f, r, 2, KZ_AUTOFIX_PESSIMISTIC, &clean), 0);
    KZ_CHECK_INT(clean.n, 1);
    KZ_CHECK(clean.v[0].orig[0].case_sensitive);
    KZ_CHECK_INT(clean.v[0].orig[0].mention_confidence, KZ_MENTION_POSSIBLE);
    kz__resvec_free(&clean);
    fx_free(&f);
}

/* The docstring of _resource_set_has_case_conflicts. */
KZ_TEST(conflict_docstring_examples) {
    fixture f;
    fx_init(&f, "gene");
    const char *ok[] = {"eGFR/0/IGNORE", "EGFR/1/POSSIBLE", "Egfr/1/PROBABLE"};
    kz_kbb_res r = mk(&f, KZ_KB_ADD_FOR_NER_AND_LINKING, ok, 3);
    kz_resvec clean = {0};
    KZ_CHECK_INT(verify(&f, &r, 1, KZ_AUTOFIX_NONE, &clean), 0);
    KZ_CHECK_INT(clean.n, 1);
    kz__resvec_free(&clean);
    const char *bad1[] = {"eGFR/0/PROBABLE", "Egfr/1/POSSIBLE"};
    const char *bad2[] = {"EGFR/0/PROBABLE", "Egfr/0/POSSIBLE"};
    const char *const *bads[] = {bad1, bad2};
    for (int i = 0; i < 2; i++) {
        r = mk(&f, KZ_KB_ADD_FOR_NER_AND_LINKING, bads[i], 2);
        KZ_CHECK_INT(verify(&f, &r, 1, KZ_AUTOFIX_NONE, &clean), 0);
        KZ_CHECK_INT(clean.n, 0);
    }
    KZ_CHECK_INT(f.ctx.n_conflicts, 2);
    fx_free(&f);
}

KZ_TEST(conflict_normalisation) {
    fixture f;
    fx_init(&f, "disease");
    const char *a[] = {"lung cancer/0/PROBABLE"}, *b[] = {"Lung Cancer/0/PROBABLE"};
    kz_kbb_res r[2] = {mk(&f, KZ_KB_ADD_FOR_NER_AND_LINKING, a, 1), mk(&f, KZ_KB_DROP_FOR_LINKING, b, 1)};
    kz_resvec clean = {0};
    KZ_CHECK_INT(verify(&f, r, 2, KZ_AUTOFIX_NONE, &clean), 0);
    KZ_CHECK_INT(clean.n, 0);
    KZ_CHECK_INT(f.ctx.n_conflicts, 1);
    KZ_CHECK(strstr(f.report.data, "\"kind\":\"normalisation\"") != NULL);
    KZ_CHECK(strstr(f.report.data, "\"syn_norm\":\"LUNG CANCER\"") != NULL);
    KZ_CHECK(strstr(f.report.data, "\"suggested_fix\":[{") != NULL);
    /* OPTIMISTIC: DROP_FOR_LINKING wins */
    KZ_CHECK_INT(verify(&f, r, 2, KZ_AUTOFIX_OPTIMISTIC, &clean), 0);
    KZ_CHECK_INT(clean.n, 1);
    KZ_CHECK_INT(clean.v[0].behaviour, KZ_KB_DROP_FOR_LINKING);
    KZ_CHECK_INT(clean.v[0].n_orig, 2);
    kz__resvec_free(&clean);
    /* originals that normalise differently: Kazu's CurationError */
    const char *c[] = {"lung cancer/0/PROBABLE", "EGFR/1/PROBABLE"};
    kz_kbb_res bad = mk(&f, KZ_KB_ADD_FOR_NER_AND_LINKING, c, 2);
    KZ_CHECK_INT(verify(&f, &bad, 1, KZ_AUTOFIX_NONE, &clean), 0);
    KZ_CHECK_INT(clean.n, 0);
    KZ_CHECK_INT(f.ctx.n_conflicts, 2);
    KZ_CHECK(strstr(f.report.data, "\"kind\":\"inconsistent_normalisation\"") != NULL);
    kz__resvec_free(&clean);
    fx_free(&f);
}

KZ_TEST(report_lines_are_json) {
    fixture f;
    fx_init(&f, "test");
    const char *a[] = {"hello/1/POSSIBLE", "Hello/0/PROBABLE"};
    kz_kbb_res r = mk(&f, KZ_KB_ADD_FOR_LINKING_ONLY, a, 2);
    r.behaviour = KZ_KB_ADD_FOR_NER_AND_LINKING;
    r.comment = kz_str_c("quote \" and \\ backslash");
    kz_resvec clean = {0};
    KZ_CHECK_INT(verify(&f, &r, 1, KZ_AUTOFIX_NONE, &clean), 0);
    json_error_t je;
    json_t *o = json_loadb(f.report.data, f.report.len, JSON_DISABLE_EOF_CHECK, &je);
    KZ_CHECK(o != NULL);
    KZ_CHECK_STR(json_string_value(json_object_get(o, "parser")), "TEST");
    KZ_CHECK_STR(json_string_value(json_object_get(o, "stage")), "curations");
    KZ_CHECK_INT(json_array_size(json_object_get(o, "resources")), 1);
    json_t *fix = json_array_get(json_object_get(o, "suggested_fix"), 0);
    json_t *syn = json_array_get(json_object_get(fix, "original_synonyms"), 0);
    KZ_CHECK(json_is_false(json_object_get(syn, "case_sensitive")));
    KZ_CHECK_STR(json_string_value(json_object_get(syn, "mention_confidence")), "PROBABLE");
    json_decref(o);
    kz__resvec_free(&clean);
    fx_free(&f);
}

static const char curations_jsonl[] =
    "{\"original_synonyms\":[{\"text\":\"ALL\",\"case_sensitive\":true,\"mention_confidence\":\"POSSIBLE\"}],"
    "\"behaviour\":\"ADD_FOR_LINKING_ONLY\",\"_id\":{\"$oid\":\"65f0\"}}\n"
    "\n"
    "{\"original_synonyms\":[{\"text\":\"breast carcinoma\",\"case_sensitive\":false,\"mention_confidence\":"
    "\"HIGHLY_LIKELY\"}],\"behaviour\":\"ADD_FOR_NER_AND_LINKING\",\"associated_id_sets\":[{\"ids_and_"
    "source\":"
    "[[\"D2\",\"TEST\"]]}],\"comment\":\"new string\"}\n"
    "{\"original_synonyms\":[{\"text\":\"gone\",\"case_sensitive\":false,\"mention_confidence\":\"PROBABLE\"}"
    "],"
    "\"behaviour\":\"DROP_FOR_LINKING\"}\n";

KZ_TEST(curations_load_and_merge) {
    fixture f;
    fx_init(&f, "disease");
    kz_resvec human = {0}, clean = {0}, eff = {0};
    kz_error err;
    KZ_CHECK_INT(
        kz__curations_load_mem(&f.ctx, curations_jsonl, sizeof curations_jsonl - 1, "c.jsonl", &human, &err),
        0);
    KZ_CHECK_INT(human.n, 3);
    KZ_CHECK_KSTR(human.v[0].origin, "c.jsonl:1");
    KZ_CHECK_KSTR(human.v[1].origin, "c.jsonl:3");
    KZ_CHECK(human.v[1].has_id_sets);
    KZ_CHECK_KSTR(human.v[1].comment, "new string");
    KZ_CHECK_INT(verify(&f, human.v, human.n, KZ_AUTOFIX_NONE, &clean), 0);
    KZ_CHECK_INT(clean.n, 3);
    /* defaults: "all" (auto: ci PROBABLE) and "lung cancer" */
    const char *d1[] = {"all/0/PROBABLE"}, *d2[] = {"lung cancer/0/PROBABLE"};
    kz_kbb_res defs[2] = {mk(&f, KZ_KB_ADD_FOR_NER_AND_LINKING, d1, 1),
                          mk(&f, KZ_KB_ADD_FOR_NER_AND_LINKING, d2, 1)};
    for (int i = 0; i < 2; i++) KZ_CHECK_INT(kz__kbb_res_syn_norm(&f.ctx, &defs[i], &err), 0);
    uint64_t obsolete = 0;
    KZ_CHECK_INT(kz__curations_merge(&f.ctx, clean.v, clean.n, defs, 2, &eff, &obsolete, &err), 0);
    /* human "ALL" replaces the default of the same syn_norm; "breast carcinoma" is
     * additional_to_source; "gone" matches nothing and is obsolete */
    KZ_CHECK_INT(eff.n, 3);
    KZ_CHECK_INT(obsolete, 1);
    bool saw_all = false, saw_lung = false, saw_breast = false;
    for (size_t i = 0; i < eff.n; i++) {
        if (kz_str_eq_c(eff.v[i].orig[0].text, "ALL"))
            saw_all = eff.v[i].behaviour == KZ_KB_ADD_FOR_LINKING_ONLY;
        if (kz_str_eq_c(eff.v[i].orig[0].text, "lung cancer")) saw_lung = true;
        if (kz_str_eq_c(eff.v[i].orig[0].text, "breast carcinoma")) saw_breast = true;
        KZ_CHECK(!kz_str_eq_c(eff.v[i].orig[0].text, "all"));
    }
    KZ_CHECK(saw_all && saw_lung && saw_breast);
    kz__resvec_free(&human);
    kz__resvec_free(&clean);
    kz__resvec_free(&eff);
    fx_free(&f);
}

KZ_TEST(curations_errors_name_the_line) {
    fixture f;
    fx_init(&f, "disease");
    kz_resvec out = {0};
    kz_error err;
    const char bad_json[] = "{\"original_synonyms\":[],\"behaviour\":\"DROP_FOR_LINKING\"}\n";
    KZ_CHECK(kz__curations_load_mem(&f.ctx, bad_json, sizeof bad_json - 1, "c.jsonl", &out, &err) != 0);
    KZ_CHECK_INT(err.line, 1);
    const char two[] =
        "{\"original_synonyms\":[{\"text\":\"a\",\"case_sensitive\":false,\"mention_confidence\":"
        "\"PROBABLE\"}],\"behaviour\":\"DROP_FOR_LINKING\"}\n{\"original_synonyms\":[{\"text\":\"b\","
        "\"case_sensitive\":false,\"mention_confidence\":\"SURE\"}],\"behaviour\":\"DROP_FOR_LINKING\"}\n";
    out.n = 0;
    KZ_CHECK_INT(kz__curations_load_mem(&f.ctx, two, sizeof two - 1, "c.jsonl", &out, &err), KZ_EPARSE);
    KZ_CHECK_INT(err.line, 2);
    KZ_CHECK_STR(err.path, "c.jsonl");
    KZ_CHECK(strstr(err.msg, "mention_confidence") != NULL);
    const char unk[] =
        "{\"original_synonyms\":[{\"text\":\"a\",\"case_sensitive\":false,\"mention_confidence\":"
        "\"PROBABLE\"}],\"behaviour\":\"DROP_FOR_LINKING\",\"colour\":1}\n";
    KZ_CHECK_INT(kz__curations_load_mem(&f.ctx, unk, sizeof unk - 1, "c.jsonl", &out, &err), KZ_EPARSE);
    KZ_CHECK(strstr(err.msg, "colour") != NULL);
    const char notjson[] = "{nope\n";
    KZ_CHECK_INT(kz__curations_load_mem(&f.ctx, notjson, sizeof notjson - 1, "c.jsonl", &out, &err),
                 KZ_EPARSE);
    kz__resvec_free(&out);
    fx_free(&f);
}

/* A candidate with the given ids (one set each when split, else one set). */
static kz_kbb_cand cand(fixture *f, const char *norm, const char *const *ids, int n, bool split) {
    kz_kbb_cand c = {0};
    c.syn_norm = kz_str_c(norm);
    c.raw = kz_arena_calloc(f->a, 1, sizeof *c.raw);
    c.raw[0] = kz_str_c(norm);
    c.n_raw = 1;
    c.sets = kz_arena_calloc(f->a, (size_t)n, sizeof *c.sets);
    for (int i = 0; i < n; i++) {
        kz_id_source *x = kz_arena_calloc(f->a, 1, sizeof *x);
        x->idx = kz_str_c(ids[i]);
        x->source = kz_str_c("TEST");
        if (split || i == 0)
            c.sets[c.n_sets++] = (kz_kbb_idset){x, 1};
        else {
            kz_id_source *y = kz_arena_calloc(f->a, c.sets[0].n + 1, sizeof *y);
            memcpy(y, c.sets[0].ids, c.sets[0].n * sizeof *y);
            y[c.sets[0].n] = *x;
            c.sets[0] = (kz_kbb_idset){y, c.sets[0].n + 1};
        }
    }
    c.n_sets = kz__kbb_idsets_normalise(c.sets, c.n_sets);
    c.aggregated_by = n == 1 ? KZ_AGG_UNAMBIGUOUS : KZ_AGG_SYNONYM_IS_AMBIGUOUS;
    return c;
}

static const kz_kbb_cand *find(const kz_candvec *c, const char *norm) {
    for (size_t i = 0; i < c->n; i++)
        if (kz_str_eq_c(c->v[i].syn_norm, norm)) return &c->v[i];
    return NULL;
}

KZ_TEST(global_actions_drop_ids) {
    fixture f;
    fx_init(&f, "disease");
    const char js[] =
        "{\"actions\":[{\"behaviour\":\"DROP_IDS_FROM_PARSER\",\"parser_to_target_id_mappings\":"
        "{\"TEST\":[\"D1\"],\"OTHER\":[\"D2\"]}}]}";
    kz_kbb_gactions ga;
    kz_error err;
    KZ_CHECK_INT(kz__global_actions_load_mem(f.a, js, sizeof js - 1, "ga.json", &ga, &err), 0);
    KZ_CHECK_INT(ga.n, 2);
    const char *both[] = {"D1", "D2"}, *one[] = {"D1"}, *two[] = {"D2"};
    kz_candvec cands = {0};
    kz_kbb_cand c1 = cand(&f, "ALL", both, 2, true), c2 = cand(&f, "ROOT", one, 1, false),
                c3 = cand(&f, "OTHER", two, 1, false);
    kz__candvec_push(&cands, &c1);
    kz__candvec_push(&cands, &c2);
    kz__candvec_push(&cands, &c3);
    /* an override resource mentioning D1 and D2: loses D1 */
    const char *item[] = {"other/0/PROBABLE"};
    kz_kbb_res r = mk(&f, KZ_KB_ADD_FOR_NER_AND_LINKING, item, 1);
    r.has_id_sets = true;
    r.id_sets = c1.sets;
    r.n_id_sets = c1.n_sets;
    KZ_CHECK_INT(kz__kbb_res_syn_norm(&f.ctx, &r, &err), 0);
    kz_resvec res = {0}, kept = {0};
    kz__resvec_push(&res, &r);
    KZ_CHECK_INT(kz__process_resources(&f.ctx, &ga, &cands, &res, &kept, &err), 0);
    KZ_CHECK(find(&cands, "ROOT") == NULL); /* its only id dropped */
    const kz_kbb_cand *a = find(&cands, "ALL");
    KZ_CHECK(a != NULL);
    KZ_CHECK_INT(a->n_sets, 1);
    KZ_CHECK_KSTR(a->sets[0].ids[0].idx, "D2");
    KZ_CHECK_INT(a->aggregated_by, KZ_AGG_MODIFIED_BY_CURATION);
    const kz_kbb_cand *o = find(&cands, "OTHER"); /* overridden by the resource, minus D1 */
    KZ_CHECK(o != NULL);
    KZ_CHECK_INT(o->n_sets, 1);
    KZ_CHECK_KSTR(o->sets[0].ids[0].idx, "D2");
    KZ_CHECK_INT(kept.n, 1);
    /* bad files */
    const char bad[] =
        "{\"actions\":[{\"behaviour\":\"RENAME\",\"parser_to_target_id_mappings\":{\"P\":[\"x\"]}}]}";
    KZ_CHECK_INT(kz__global_actions_load_mem(f.a, bad, sizeof bad - 1, "ga.json", &ga, &err), KZ_EPARSE);
    const char empty[] =
        "{\"actions\":[{\"behaviour\":\"DROP_IDS_FROM_PARSER\",\"parser_to_target_id_mappings\":"
        "{\"P\":[]}}]}";
    KZ_CHECK_INT(kz__global_actions_load_mem(f.a, empty, sizeof empty - 1, "ga.json", &ga, &err), KZ_EPARSE);
    kz__candvec_free(&cands);
    kz__resvec_free(&res);
    kz__resvec_free(&kept);
    fx_free(&f);
}

KZ_TEST(resource_processor_order_and_overrides) {
    fixture f;
    fx_init(&f, "disease");
    kz_error err;
    const char *i1[] = {"D1"}, *i2[] = {"D2"};
    kz_candvec cands = {0};
    kz_kbb_cand c1 = cand(&f, "LUNG CANCER", i1, 1, false), c2 = cand(&f, "ASTHMA", i2, 1, false);
    kz__candvec_push(&cands, &c1);
    kz__candvec_push(&cands, &c2);
    kz_resvec res = {0}, kept = {0};
    const char *lung[] = {"lung cancer/0/PROBABLE"}, *asthma[] = {"asthma/0/PROBABLE"},
               *newr[] = {"lung carcinoma/0/PROBABLE"}, *orphan[] = {"nothing/0/PROBABLE"};
    kz_kbb_res r[4] = {mk(&f, KZ_KB_ADD_FOR_NER_AND_LINKING, lung, 1),
                       mk(&f, KZ_KB_DROP_FOR_LINKING, asthma, 1), mk(&f, KZ_KB_ADD_FOR_LINKING_ONLY, newr, 1),
                       mk(&f, KZ_KB_ADD_FOR_NER_AND_LINKING, orphan, 1)};
    /* "lung carcinoma" gets ids D1 (known) and D9 (unknown: ignored) */
    r[2].has_id_sets = true;
    r[2].id_sets = kz_arena_calloc(f.a, 1, sizeof *r[2].id_sets);
    kz_id_source *ids = kz_arena_calloc(f.a, 2, sizeof *ids);
    ids[0] = (kz_id_source){kz_str_c("D1"), kz_str_c("TEST")};
    ids[1] = (kz_id_source){kz_str_c("D9"), kz_str_c("TEST")};
    r[2].id_sets[0] = (kz_kbb_idset){ids, 2};
    r[2].n_id_sets = 1;
    for (int i = 0; i < 4; i++) {
        KZ_CHECK_INT(kz__kbb_res_syn_norm(&f.ctx, &r[i], &err), 0);
        kz__resvec_push(&res, &r[i]);
    }
    KZ_CHECK_INT(kz__process_resources(&f.ctx, NULL, &cands, &res, &kept, &err), 0);
    KZ_CHECK(find(&cands, "ASTHMA") == NULL); /* DROP_FOR_LINKING */
    KZ_CHECK(find(&cands, "LUNG CANCER") != NULL);
    const kz_kbb_cand *n = find(&cands, "LUNG CARCINOMA");
    KZ_CHECK(n != NULL);
    KZ_CHECK_INT(n->aggregated_by, KZ_AGG_MODIFIED_BY_CURATION);
    KZ_CHECK_INT(n->sets[0].n, 1);
    KZ_CHECK_KSTR(n->sets[0].ids[0].idx, "D1");
    KZ_CHECK_KSTR(n->mtypes[0], "kazu_curated");
    /* kept: lung cancer and lung carcinoma; the orphan has no candidate */
    KZ_CHECK_INT(kept.n, 2);
    KZ_CHECK_INT(cands.n, 2);
    KZ_CHECK(kz_str_cmp(cands.v[0].syn_norm, cands.v[1].syn_norm) < 0); /* sorted */
    kz__candvec_free(&cands);
    kz__resvec_free(&res);
    kz__resvec_free(&kept);
    fx_free(&f);
}
