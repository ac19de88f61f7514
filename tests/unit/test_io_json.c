/* The JSON formats: Kazu JSON byte-for-byte against tools/kazu_json_reference.py,
 * round trips, the JSONL/array/pretty reader and its errors, BioC JSON, Label Studio. */
#include <jansson.h>
#include "kz_test.h"
#include "kazu/kazu.h"
#include "io/io_int.h"

#define GOLDEN KZ_SOURCE_DIR "/tests/golden/kazu_json/"

/* A fixture file without its final newline. */
static char *fixture(const char *name, size_t *len) {
    char path[512];
    snprintf(path, sizeof path, GOLDEN "%s", name);
    size_t n = 0;
    char *s = kz_test_read_file(path, &n);
    if (s && n && s[n - 1] == '\n') s[--n] = 0;
    if (len) *len = n;
    return s;
}

/* Kazu reads "sentence_spans": [] as None, so a read-back document drops it. */
static char *as_read_back(char *s) {
    const char *pat = ", \"sentence_spans\": []";
    for (char *p; (p = strstr(s, pat)) != NULL;) memmove(p, p + strlen(pat), strlen(p + strlen(pat)) + 1);
    return s;
}

static char *to_json(const kz_doc *doc, bool ascii) {
    kz_writer_params p = kz_writer_default_params();
    p.ascii_only = ascii;
    char *s = NULL;
    return kz_doc_to_kazu_json(doc, &p, &s, NULL) == 0 ? s : NULL;
}

/* ---- rebuilding the reference documents through the C API ------------------------ */
static kz_str jstr(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    return v ? (kz_str){json_string_value(v), json_string_length(v)} : KZ_STR_NULL;
}

/* Recipe metadata values are JSON texts, stored as they are. */
static int set_meta(kz_doc *doc, kz_meta *m, const json_t *raw) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)raw, k, v) {
        int rc = kz_meta_set_json(doc, m, kz_str_c(k), kz_str_c(json_string_value(v)));
        if (rc) return rc;
    }
    return 0;
}

static kz_span cp_span(const kz_offset_map *m, const json_t *pair) {
    return (kz_span){kz_offset_map_to_byte(m, json_integer_value(json_array_get(pair, 0))),
                     kz_offset_map_to_byte(m, json_integer_value(json_array_get(pair, 1)))};
}

static const kz_str *str_list(kz_doc *doc, const json_t *arr, uint32_t *n) {
    *n = (uint32_t)json_array_size(arr);
    kz_str *s = kz_arena_calloc(doc->arena, *n + 1, sizeof *s);
    for (uint32_t i = 0; i < *n; i++) s[i] = kz_str_c(json_string_value(json_array_get(arr, i)));
    return s;
}

static int add_candidate(kz_doc *doc, kz_entity *ent, const json_t *rc) {
    kz_candidate c = {0};
    c.raw_synonyms = str_list(doc, json_object_get(rc, "raw_synonyms"), &c.n_raw_synonyms);
    c.mapping_types = str_list(doc, json_object_get(rc, "mapping_types"), &c.n_mapping_types);
    c.synonym_norm = jstr(rc, "synonym_norm");
    c.parser_name = jstr(rc, "parser_name");
    c.is_symbolic = json_is_true(json_object_get(rc, "is_symbolic"));
    if (kz_aggregation_parse(jstr(rc, "aggregated_by"), &c.aggregated_by)) return KZ_EPARSE;
    const json_t *sets = json_object_get(rc, "associated_id_sets");
    kz_equiv_id_set *es = kz_arena_calloc(doc->arena, json_array_size(sets) + 1, sizeof *es);
    for (size_t i = 0; i < json_array_size(sets); i++) {
        const json_t *set = json_array_get(sets, i);
        kz_id_source *ids = kz_arena_calloc(doc->arena, json_array_size(set) + 1, sizeof *ids);
        for (size_t j = 0; j < json_array_size(set); j++) {
            ids[j].idx = kz_str_c(json_string_value(json_array_get(json_array_get(set, j), 0)));
            ids[j].source = kz_str_c(json_string_value(json_array_get(json_array_get(set, j), 1)));
        }
        es[i] = (kz_equiv_id_set){ids, (uint32_t)json_array_size(set)};
    }
    c.id_sets = es;
    c.n_id_sets = (uint32_t)json_array_size(sets);
    const kz_candidate *copy = kz_doc_copy_candidate(doc, &c);
    const json_t *mj = json_object_get(rc, "metrics"), *v;
    kz_metrics m = {0};
    if ((v = json_object_get(mj, "search_score")))
        m.present |= KZ_METRIC_SEARCH, m.search_score = json_number_value(v);
    if ((v = json_object_get(mj, "embed_score")))
        m.present |= KZ_METRIC_EMBED, m.embed_score = json_number_value(v);
    if ((v = json_object_get(mj, "bool_score"))) {
        m.present |= KZ_METRIC_BOOL;
        if (json_is_boolean(v))
            m.present |= KZ_METRIC_BOOL_IS_BOOL, m.bool_score = json_is_true(v);
        else
            m.bool_score = json_number_value(v);
    }
    if ((v = json_object_get(mj, "exact_match")))
        m.present |= KZ_METRIC_EXACT, m.exact_match = json_is_true(v);
    return copy ? kz_entity_add_candidate(doc, ent, copy, &m) : KZ_ENOMEM;
}

static int add_entity(kz_doc *doc, kz_section *sec, const kz_offset_map *map, const json_t *re) {
    const json_t *spans = json_object_get(re, "spans");
    kz_span sp[8];
    size_t n = json_array_size(spans);
    for (size_t i = 0; i < n && i < 8; i++) sp[i] = cp_span(map, json_array_get(spans, i));
    kz_entity_init in = {0};
    in.spans = sp;
    in.n_spans = n;
    in.match = jstr(re, "match");
    in.join_str = json_string_value(json_object_get(re, "join_str"));
    in.entity_class = jstr(re, "entity_class");
    in.namespace_ = jstr(re, "namespace");
    in.match_norm = jstr(re, "match_norm");
    in.mention_confidence = KZ_MENTION_HIGHLY_LIKELY;
    kz_str mc = jstr(re, "mention_confidence");
    if (mc.ptr && kz_mention_confidence_parse(mc, &in.mention_confidence)) return KZ_EPARSE;
    kz_entity *ent;
    int rc = kz_section_add_entity(doc, sec, &in, &ent, NULL);
    if (!rc) rc = set_meta(doc, &ent->metadata, json_object_get(re, "metadata"));
    const json_t *maps = json_object_get(re, "mappings"), *cands = json_object_get(re, "candidates");
    for (size_t i = 0; !rc && i < json_array_size(maps); i++) {
        const json_t *rm = json_array_get(maps, i);
        kz_mapping m = {0};
        m.default_label = jstr(rm, "default_label");
        m.source = jstr(rm, "source");
        m.parser_name = jstr(rm, "parser_name");
        m.idx = jstr(rm, "idx");
        m.string_match_strategy = jstr(rm, "string_match_strategy");
        m.disambiguation_strategy = jstr(rm, "disambiguation_strategy");
        m.xref_source_parser_name = jstr(rm, "xref_source_parser_name");
        rc =
            kz_string_match_confidence_parse(jstr(rm, "string_match_confidence"), &m.string_match_confidence);
        kz_str dc = jstr(rm, "disambiguation_confidence");
        if (!rc && dc.ptr) rc = kz_disambiguation_confidence_parse(dc, &m.disambiguation_confidence);
        if (!rc) rc = set_meta(doc, &m.metadata, json_object_get(rm, "metadata"));
        if (!rc) rc = kz_entity_add_mapping(doc, ent, &m);
    }
    for (size_t i = 0; !rc && i < json_array_size(cands); i++)
        rc = add_candidate(doc, ent, json_array_get(cands, i));
    return rc;
}

static kz_doc *build_recipe(const json_t *r) {
    kz_str idx = jstr(r, "idx");
    kz_doc *doc = kz_doc_new(idx.ptr, idx.len);
    int rc = set_meta(doc, &doc->metadata, json_object_get(r, "metadata"));
    const json_t *secs = json_object_get(r, "sections");
    for (size_t i = 0; !rc && i < json_array_size(secs); i++) {
        const json_t *rs = json_array_get(secs, i), *ents = json_object_get(rs, "entities");
        const json_t *sents = json_object_get(rs, "sentence_spans");
        kz_str text = jstr(rs, "text"), name = jstr(rs, "name");
        kz_section *sec;
        rc = kz_doc_add_section(doc, name.ptr, name.len, text.ptr, text.len, &sec, NULL);
        if (rc) break;
        kz_offset_map *map = kz_offset_map_new(doc->arena, sec->text.ptr, sec->text.len);
        rc = set_meta(doc, &sec->metadata, json_object_get(rs, "metadata"));
        for (size_t j = 0; !rc && j < json_array_size(ents); j++)
            rc = add_entity(doc, sec, map, json_array_get(ents, j));
        if (!rc && sents) {
            kz_span sp[8];
            size_t n = json_array_size(sents);
            for (size_t j = 0; j < n && j < 8; j++) sp[j] = cp_span(map, json_array_get(sents, j));
            rc = kz_section_set_sentence_spans(doc, sec, sp, n, NULL);
        }
    }
    if (rc) {
        kz_doc_free(doc);
        return NULL;
    }
    return doc;
}

static json_t *load_recipes(void) {
    json_error_t je;
    json_t *r = json_load_file(GOLDEN "recipes.json", 0, &je);
    if (!r) fprintf(stderr, "recipes.json: %s\n", je.text);
    return r;
}

KZ_TEST(golden_writer_matches_reference) {
    json_t *recipes = load_recipes();
    KZ_CHECK(recipes && json_array_size(recipes) >= 4);
    for (size_t i = 0; i < json_array_size(recipes); i++) {
        const json_t *r = json_array_get(recipes, i);
        char name[128];
        kz_doc *doc = build_recipe(json_object_get(r, "doc"));
        KZ_CHECK(doc != NULL);
        snprintf(name, sizeof name, "%s.json", json_string_value(json_object_get(r, "name")));
        char *want = fixture(name, NULL), *got = to_json(doc, true);
        KZ_CHECK(want && got);
        KZ_CHECK_STR(got, want);
        free(want);
        free(got);
        if (json_is_true(json_object_get(r, "utf8"))) {
            snprintf(name, sizeof name, "%s.utf8.json", json_string_value(json_object_get(r, "name")));
            want = fixture(name, NULL);
            got = to_json(doc, false);
            KZ_CHECK(want && got);
            KZ_CHECK_STR(got, want);
            free(want);
            free(got);
        }
        kz_doc_free(doc);
    }
    json_decref(recipes);
}

KZ_TEST(golden_round_trip) {
    const char *names[] = {"simple.json", "unicode.json", "sections.json", "empty.json", "unicode.utf8.json"};
    char *ascii = as_read_back(fixture("unicode.json", NULL));
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t len;
        char *want = fixture(names[i], &len);
        kz_doc *doc = NULL;
        kz_error err;
        KZ_CHECK(want != NULL);
        KZ_CHECK_INT(kz_doc_from_kazu_json(want, len, &doc, &err), 0);
        as_read_back(want);
        bool utf8 = strstr(names[i], "utf8") != NULL;
        char *got = to_json(doc, !utf8);
        KZ_CHECK_STR(got, want);
        free(got);
        if (utf8) { /* the same document, escaped */
            got = to_json(doc, true);
            KZ_CHECK_STR(got, ascii);
            free(got);
        }
        kz_doc_free(doc);
        free(want);
    }
    free(ascii);
}

KZ_TEST(read_converts_code_points_to_bytes) {
    size_t len;
    char *s = fixture("unicode.json", &len);
    kz_doc *doc;
    kz_error err;
    KZ_CHECK_INT(kz_doc_from_kazu_json(s, len, &doc, &err), 0);
    KZ_CHECK_KSTR(doc->idx, "doc-\xc3\xbcn\xc3\xaf-\xf0\x9f\x98\x80");
    const kz_section *sec = doc->sections[0];
    KZ_CHECK_KSTR(sec->name, "t\xc3\xadtle");
    KZ_CHECK_INT(sec->n_entities, 7);
    const kz_entity *lc = sec->entities[0];
    KZ_CHECK_INT(lc->n_spans, 2);
    KZ_CHECK(memcmp(sec->text.ptr + lc->spans[0].start, "lung", 4) == 0);
    KZ_CHECK(memcmp(sec->text.ptr + lc->spans[1].start, "cancer", 6) == 0);
    KZ_CHECK_INT(lc->mention_confidence, KZ_MENTION_PROBABLE);
    const kz_entity *gene = sec->entities[5];
    KZ_CHECK_INT(gene->end - gene->start, 12); /* "α-synuclein": 11 characters, 12 bytes */
    KZ_CHECK(memcmp(sec->text.ptr + gene->start, "\xce\xb1-synuclein", 12) == 0);
    KZ_CHECK_INT(sec->n_sentence_spans, 2);
    KZ_CHECK_INT(sec->sentence_spans[1].start, 0);
    KZ_CHECK(doc->sections[1]->sentence_spans == NULL); /* [] reads as None */
    const kz_entity *drug = sec->entities[4];
    KZ_CHECK_INT(drug->n_candidates, 3); /* the duplicate candidate merged its metrics */
    KZ_CHECK(drug->candidates[0].metrics.present & KZ_METRIC_BOOL_IS_BOOL);
    KZ_CHECK_INT(drug->candidates[1].metrics.present & (KZ_METRIC_SEARCH | KZ_METRIC_BOOL | KZ_METRIC_EXACT),
                 KZ_METRIC_SEARCH | KZ_METRIC_BOOL | KZ_METRIC_EXACT);
    KZ_CHECK_KSTR(kz_meta_get(&doc->metadata, "weights"),
                  "[0.1,1e-05,100.0,-0.0,1e+16,1.5e-07,123456789.125,3,-7]");
    KZ_CHECK(kz_doc_failed(doc));
    kz_doc_free(doc);
    free(s);
}

/* ---- the stream reader -------------------------------------------------------------- */
static kz_reader *open_mem(const char *data, size_t len, const kz_reader_params *p) {
    kz_reader *r = NULL;
    kz_error err;
    int rc = kz_reader_open_mem(&r, data, len, "mem.jsonl", KZ_FORMAT_JSONL, p, &err);
    return rc ? NULL : r;
}

/* Next document's Kazu JSON (or NULL with *rc the reader's answer). */
static char *next_json(kz_reader *r, int *rc, kz_error *err) {
    kz_doc *doc = NULL;
    *rc = kz_reader_next(r, &doc, err);
    if (*rc != 1) return NULL;
    char *s = to_json(doc, true);
    kz_doc_free(doc);
    return s;
}

KZ_TEST(reader_pretty_and_array_inputs) {
    const char *order[] = {"simple.json", "unicode.json", "sections.json", "empty.json"};
    size_t len;
    char *pretty = fixture("unicode.pretty.json", &len), *want = as_read_back(fixture("unicode.json", NULL));
    kz_reader *r = open_mem(pretty, len, NULL);
    kz_error err;
    int rc;
    char *got = next_json(r, &rc, &err);
    KZ_CHECK_STR(got, want);
    free(got);
    KZ_CHECK(next_json(r, &rc, &err) == NULL && rc == 0);
    kz_reader_close(r);
    free(pretty);
    free(want);

    char *arr = fixture("all.array.json", &len);
    r = open_mem(arr, len, NULL);
    for (int i = 0; i < 4; i++) {
        want = as_read_back(fixture(order[i], NULL));
        got = next_json(r, &rc, &err);
        KZ_CHECK_STR(got, want);
        free(got);
        free(want);
    }
    KZ_CHECK(next_json(r, &rc, &err) == NULL && rc == 0);
    kz_reader_close(r);
    free(arr);
}

KZ_TEST(reader_jsonl_forms_and_bad_lines) {
    const char *in =
        "\xEF\xBB\xBF{\"id\": \"a\", \"text\": \"caf\\u00e9 \xf0\x9f\x98\x80 x\", \"pmid\": 17, "
        "\"metadata\": {\"w\": 1.50}}\n"
        "\n"
        "{\"id\": \"b\", \"text\": 5}\n"
        "{\"id\": 7, \"sections\": {\"title\": \"T\", \"abstract\": \"A b\"}}\r\n"
        "{\"id\": \"c\", \"text\": \"x\"\n"
        "[1, 2]\n"
        "{\"idx\": \"k\", \"sections\": [{\"text\": \"ab\", \"name\": \"n\", \"entities\": [{\"match\": "
        "\"ab\", "
        "\"entity_class\": \"x\", \"spans\": [{\"start\": 0, \"end\": 3}], \"namespace\": \"n\"}]}]}\n"
        "{\"idx\": \"k2\", \"sections\": [{\"text\": \"ab\", \"name\": \"n\", \"extra\": 1}]}\n"
        "{\"text\": \"no id\"}\n"
        "{\"id\": \"bad\xff\", \"text\": \"x\"}\n"
        "{\"idx\": \"last\", \"sections\": []}";
    kz_reader_params p = kz_reader_default_params();
    p.section_name = "body";
    kz_reader *r = open_mem(in, strlen(in), &p);
    KZ_CHECK(r != NULL);
    kz_doc *doc;
    kz_error err;
    char buf[800];

    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 1);
    KZ_CHECK_KSTR(doc->idx, "a");
    KZ_CHECK_INT(doc->n_sections, 1);
    KZ_CHECK_KSTR(doc->sections[0]->name, "body");
    KZ_CHECK_KSTR(doc->sections[0]->text, "caf\xc3\xa9 \xf0\x9f\x98\x80 x");
    KZ_CHECK_KSTR(kz_meta_get(&doc->metadata, "pmid"), "17");
    KZ_CHECK_KSTR(kz_meta_get(&doc->metadata, "w"), "1.5");
    kz_doc_free(doc);

    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), KZ_EPARSE);
    KZ_CHECK_INT(err.line, 3);
    KZ_CHECK_STR(err.doc_id, "b");
    KZ_CHECK(strstr(err.msg, "\"text\" must be a string") != NULL);

    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 1);
    KZ_CHECK_KSTR(doc->idx, "7");
    KZ_CHECK_INT(doc->n_sections, 2);
    KZ_CHECK_KSTR(doc->sections[0]->name, "title");
    KZ_CHECK_KSTR(doc->sections[1]->text, "A b");
    kz_doc_free(doc);

    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), KZ_EPARSE); /* truncated object */
    KZ_CHECK_INT(err.line, 5);
    KZ_CHECK(err.column > 0 && err.offset > 0);
    KZ_CHECK(strstr(kz_error_format(&err, buf, sizeof buf), "mem.jsonl:5:") == buf);

    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), KZ_EPARSE);
    KZ_CHECK(strstr(err.msg, "expected a JSON object, got an array") != NULL);

    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), KZ_ERANGE);
    KZ_CHECK_STR(err.doc_id, "k");
    KZ_CHECK_INT(err.line, 7);
    KZ_CHECK(
        strstr(err.msg,
               "sections[0].entities[0].spans[0]: span [0, 3) is outside the section text of 2 characters"));

    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), KZ_EPARSE);
    KZ_CHECK(strstr(err.msg, "sections[0]: unknown key \"extra\"") != NULL);

    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 1);
    KZ_CHECK_INT(doc->idx.len, 32); /* random uuid4().hex */
    kz_doc_free(doc);

    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), KZ_EUTF8);
    KZ_CHECK_INT(err.line, 10);

    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 1);
    KZ_CHECK_KSTR(doc->idx, "last");
    KZ_CHECK_INT(doc->n_sections, 0);
    kz_doc_free(doc);
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 0);
    kz_reader_close(r);
}

KZ_TEST(reader_record_limit_and_recovery) {
    kz_reader_params p = kz_reader_default_params();
    p.max_record_bytes = 64;
    char in[512];
    snprintf(in, sizeof in, "{\"id\": \"long\", \"text\": \"%0100d\"}\n{\"id\": \"ok\", \"text\": \"t\"}\n",
             0);
    kz_reader *r = open_mem(in, strlen(in), &p);
    kz_doc *doc;
    kz_error err;
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), KZ_ELIMIT);
    KZ_CHECK(strstr(err.msg, "64 bytes") != NULL);
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 1);
    KZ_CHECK_KSTR(doc->idx, "ok");
    kz_doc_free(doc);
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 0);
    kz_reader_close(r);

    /* The same in an array: the big element is skipped, the next one is read. */
    snprintf(in, sizeof in,
             "[\n{\"id\": \"long\", \"text\": \"%0100d\"},\n {\"id\": \"ok\", \"text\": \"]}\"}\n]", 0);
    r = open_mem(in, strlen(in), &p);
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), KZ_ELIMIT);
    KZ_CHECK_INT(err.line, 2);
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 1);
    KZ_CHECK_KSTR(doc->sections[0]->text, "]}");
    kz_doc_free(doc);
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 0);
    kz_reader_close(r);
}

KZ_TEST(reader_value_mode_errors) {
    /* A bad element is skipped; broken array structure ends the stream. */
    const char *in = "[{\"id\": \"a\", \"text\": \"x\"}, {\"id\": \"b\", \"text\": 1}, {\"id\": \"c\", "
                     "\"text\": \"y\"} {\"id\": \"d\"}]";
    kz_reader *r = open_mem(in, strlen(in), NULL);
    kz_doc *doc;
    kz_error err;
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 1);
    kz_doc_free(doc);
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), KZ_EPARSE);
    KZ_CHECK_STR(err.doc_id, "b");
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 1);
    kz_doc_free(doc);
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), KZ_EPARSE);
    KZ_CHECK(strstr(err.msg, "expected ',' or ']'") != NULL);
    KZ_CHECK_INT(err.offset, (int64_t)(strstr(in, "} {") - in) + 2);
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 0);
    kz_reader_close(r);

    /* A pretty-printed document cut short. */
    const char *cut = "{\n  \"idx\": \"t\",\n  \"sections\": [\n    {\"text\": \"a\"";
    r = open_mem(cut, strlen(cut), NULL);
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), KZ_EPARSE);
    KZ_CHECK(strstr(err.msg, "input ends inside") != NULL);
    KZ_CHECK_INT(err.line, 1);
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 0);
    kz_reader_close(r);
}

KZ_TEST(from_kazu_json_errors) {
    struct {
        const char *json;
        int code;
        const char *msg;
    } cases[] = {
        {"{\"idx\": \"d\", \"sections\": [{\"text\": \"ab\", \"name\": \"n\", \"entities\": [{\"match\": "
         "\"a\", "
         "\"entity_class\": \"g\", \"spans\": [{\"start\": 0, \"end\": 1}], \"namespace\": \"n\", \"foo\": "
         "1}]}]}",
         KZ_EPARSE, "sections[0].entities[0]: unknown key \"foo\""},
        {"{\"idx\": \"d\", \"sections\": [{\"text\": \"ab\", \"name\": \"n\", \"entities\": [{\"match\": "
         "\"a\", "
         "\"entity_class\": \"g\", \"spans\": [{\"start\": 0, \"end\": 1}], \"namespace\": \"n\", "
         "\"mention_confidence\": \"SURE\"}]}]}",
         KZ_EPARSE, "unknown mention_confidence \"SURE\""},
        {"{\"idx\": \"d\", \"sections\": [{\"text\": \"ab\", \"name\": \"n\", \"entities\": [{\"match\": "
         "\"a\", "
         "\"entity_class\": \"g\", \"spans\": [{\"start\": 0, \"end\": 1}], \"namespace\": \"n\", \"start\": "
         "0, "
         "\"end\": 2}]}]}",
         KZ_ERANGE, "disagree with the spans"},
        {"{\"idx\": \"d\", \"sections\": [{\"text\": \"ab\", \"name\": \"n\", \"entities\": [{\"match\": "
         "\"a\", "
         "\"entity_class\": \"g\", \"spans\": [], \"namespace\": \"n\"}]}]}",
         KZ_EPARSE, "at least one span"},
        {"{\"idx\": \"d\", \"sections\": [{\"text\": \"ab\", \"name\": \"n\", \"entities\": [{\"match\": "
         "\"a\", "
         "\"entity_class\": \"g\", \"spans\": [{\"start\": 0, \"end\": 1}], \"namespace\": \"n\", "
         "\"mappings\": [{\"default_label\": \"a\", \"source\": \"s\", \"parser_name\": \"p\", \"idx\": "
         "\"i\", "
         "\"string_match_strategy\": \"x\"}]}]}]}",
         KZ_EPARSE, "mappings[0]: missing \"string_match_confidence\""},
        {"{\"idx\": \"d\", \"sections\": [{\"text\": \"ab\", \"name\": \"n\", \"entities\": [{\"match\": "
         "\"a\", "
         "\"entity_class\": \"g\", \"spans\": [{\"start\": 0, \"end\": 1}], \"namespace\": \"n\", "
         "\"linking_candidates\": [[{\"raw_synonyms\": [], \"synonym_norm\": \"A\", \"parser_name\": \"p\", "
         "\"is_symbolic\": 1, \"associated_id_sets\": [], \"aggregated_by\": \"CUSTOM\"}, {}]]}]}]}",
         KZ_EPARSE, "linking_candidates[0]: \"is_symbolic\" must be a boolean"},
        {"{\"idx\": \"d\", \"sections\": [{\"text\": \"ab\", \"name\": \"n\", \"sentence_spans\": "
         "[{\"start\": 1, "
         "\"end\": 9}]}]}",
         KZ_ERANGE, "sections[0].sentence_spans[0]: span [1, 9)"},
        {"{\"idx\": \"d\", \"sections\": {\"a\": \"b\"}}", KZ_EPARSE, "\"sections\" must be a list"},
        {"{\"idx\": 5}", KZ_EPARSE, "\"idx\" must be a string"},
        {"[]", KZ_EPARSE, "expected an object"},
        {"{\"idx\": \"d\",\n \"sections\": [}", KZ_EPARSE, "malformed JSON"},
        {"{\"idx\": \"d\xc3\"}", KZ_EUTF8, "malformed JSON"},
        {"{\"idx\": \"d\", \"metadata\": {\"n\": 123456789012345678901234567890}}", KZ_ERANGE,
         "malformed JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kz_doc *doc = (kz_doc *)1;
        kz_error err;
        int rc = kz_doc_from_kazu_json(cases[i].json, strlen(cases[i].json), &doc, &err);
        if (rc != cases[i].code || !strstr(err.msg, cases[i].msg)) {
            kz_test_fail(__FILE__, __LINE__, "case %zu: rc %d, msg \"%s\"; want %d \"%s\"", i, rc, err.msg,
                         cases[i].code, cases[i].msg);
            return;
        }
        KZ_CHECK(doc == NULL);
        if (strncmp(cases[i].json, "{\"idx\": \"d\"", 11) == 0 && !strstr(err.msg, "malformed"))
            KZ_CHECK_STR(err.doc_id, "d");
    }
    kz_doc *doc;
    kz_error err;
    const char *bad = "{\"idx\": \"d\",\n \"sections\": [}";
    KZ_CHECK_INT(kz_doc_from_kazu_json(bad, strlen(bad), &doc, &err), KZ_EPARSE);
    KZ_CHECK_INT(err.line, 2);
    KZ_CHECK_INT(err.column, 15);
    KZ_CHECK_INT(err.offset, 27); /* the '}' */
}

KZ_TEST(writer_options_and_stream) {
    kz_doc *doc;
    size_t len;
    char *s = fixture("simple.json", &len);
    kz_error err;
    KZ_CHECK_INT(kz_doc_from_kazu_json(s, len, &doc, &err), 0);
    kz_writer_params p = kz_writer_default_params();
    p.omit_linking_candidates = true;
    char *out;
    KZ_CHECK_INT(kz_doc_to_kazu_json(doc, &p, &out, &len), 0);
    KZ_CHECK(strstr(out, "linking_candidates") == NULL && strstr(out, "\"match_norm\": \"EGFR\"}") != NULL);
    KZ_CHECK_INT(strlen(out), len);
    free(out);

    /* The stream writer: one document per line, for both format names. */
    char *mem = NULL;
    size_t mlen = 0;
    FILE *f = open_memstream(&mem, &mlen);
    kz_writer *w;
    KZ_CHECK_INT(kz_writer_open_file(&w, f, "mem", KZ_FORMAT_JSONL, NULL, &err), 0);
    KZ_CHECK_INT(kz_writer_write(w, doc, &err), 0);
    KZ_CHECK_INT(kz_writer_write(w, doc, &err), 0);
    KZ_CHECK_INT(kz_writer_close(w, &err), 0);
    fclose(f);
    KZ_CHECK_INT(mlen, 2 * (strlen(s) + 1));
    KZ_CHECK(memcmp(mem, s, strlen(s)) == 0 && mem[strlen(s)] == '\n');
    free(mem);

    /* Invalid enum values are refused, not written. */
    doc->sections[0]->entities[0]->mention_confidence = 42;
    KZ_CHECK_INT(kz_doc_to_kazu_json(doc, NULL, &out, NULL), KZ_EINVAL);
    KZ_CHECK(out == NULL);
    kz_doc_free(doc);
    free(s);
}

/* ---- BioC JSON --------------------------------------------------------------------------- */
static const char k_bioc[] =
    "{\"source\": \"PubTator\", \"date\": \"2024\", \"key\": \"BioC.key\", \"infons\": {}, \"documents\": [\n"
    "{\"id\": \"111\", \"infons\": {\"journal\": \"J\"}, \"passages\": [\n"
    " {\"infons\": {\"type\": \"title\"}, \"offset\": 0, \"text\": \"\xc3\x89tude of BRCA1 and TP53.\", "
    "\"annotations\": [\n"
    "  {\"id\": \"1\", \"infons\": {\"identifier\": \"672\", \"type\": \"Gene\", \"valid\": true}, \"text\": "
    "\"BRCA1\", "
    "\"locations\": [{\"offset\": 9, \"length\": 5}]},\n"
    "  {\"id\": \"2\", \"infons\": {\"identifier\": \"MESH:D001; MESH:D002,-\", \"type\": \"Disease\"}, "
    "\"text\": \"bad\", "
    "\"locations\": [{\"offset\": 40, \"length\": 5}]}]},\n"
    " {\"infons\": {\"type\": \"abstract\", \"section_type\": \"ABSTRACT\"}, \"offset\": 25, \"text\": "
    "\"\xf0\x9f\x98\x80 lung and liver cancer\", "
    "\"annotations\": [\n"
    "  {\"id\": \"3\", \"infons\": {\"identifier\": \"MESH:D008175\", \"type\": \"Disease\"}, \"text\": "
    "\"lung cancer\", "
    "\"locations\": [{\"offset\": 27, \"length\": 4}, {\"offset\": 42, \"length\": 6}]}],\n"
    "  \"relations\": [{\"id\": \"R1\", \"infons\": {\"type\": \"Association\"}, \"nodes\": []}],\n"
    "  \"sentences\": [{\"offset\": 25, \"text\": \"\xf0\x9f\x98\x80 lung\"}, {\"offset\": 99, \"text\": "
    "\"z\"}]},\n"
    " {\"infons\": {\"section_type\": \"METHODS\"}, \"offset\": 60, \"sentences\": [{\"offset\": 60, "
    "\"text\": \"A b.\"}, "
    "{\"offset\": 66, \"text\": \"C.\", \"annotations\": [{\"id\": \"5\", \"infons\": {\"type\": \"X\", "
    "\"NCBI Gene\": "
    "\"7157\"}, \"text\": \"C\", \"locations\": [{\"offset\": 66, \"length\": 1}]}]}]}],\n"
    " \"annotations\": [{\"id\": \"4\", \"infons\": {\"type\": \"Gene\"}, \"text\": \"TP53\", "
    "\"locations\": [{\"offset\": 19, \"length\": 4}]}]},\n"
    "{\"id\": \"222\", \"passages\": [{\"offset\": 0, \"text\": \"x\"}]},\n"
    "{\"id\": \"333\"}\n"
    "]}\n";

/* Read all of data as BioC JSON and write it back; returns the output. */
static char *bioc_rewrite(const char *data, size_t len, size_t *out_len, int64_t *warnings) {
    kz_reader *r;
    kz_writer *w;
    kz_error err;
    char *mem = NULL;
    FILE *f = open_memstream(&mem, out_len);
    if (kz_reader_open_mem(&r, data, len, "in.json", KZ_FORMAT_UNKNOWN, NULL, &err) ||
        kz_reader_format(r) != KZ_FORMAT_BIOC_JSON ||
        kz_writer_open_file(&w, f, "mem", KZ_FORMAT_BIOC_JSON, NULL, &err))
        return NULL;
    kz_doc *doc;
    int rc;
    while ((rc = kz_reader_next(r, &doc, &err)) != 0) {
        if (rc == 1 && kz_writer_write(w, doc, &err)) return NULL;
        kz_doc_free(doc);
    }
    *warnings = kz_reader_warnings(r);
    kz_reader_close(r);
    if (kz_writer_close(w, &err)) return NULL;
    fclose(f);
    return mem;
}

KZ_TEST(bioc_json_read_write_read) {
    kz_reader *r;
    kz_error err;
    KZ_CHECK_INT(kz_reader_open_mem(&r, k_bioc, strlen(k_bioc), "c.json", KZ_FORMAT_BIOC_JSON, NULL, &err),
                 0);
    kz_doc *doc;
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 1);
    KZ_CHECK_KSTR(doc->idx, "111");
    KZ_CHECK_INT(doc->n_sections, 3);
    KZ_CHECK_KSTR(doc->sections[0]->name, "title");
    KZ_CHECK_KSTR(kz_meta_get(&doc->metadata, "infons"), "{\"journal\":\"J\"}");
    KZ_CHECK_KSTR(kz_meta_get(&doc->sections[1]->metadata, "section_type"), "\"ABSTRACT\"");
    /* Annotation 2 and the sentence at 99 lie outside their passage: dropped with warnings. */
    KZ_CHECK_INT(kz_reader_warnings(r), 2);
    kz_str warns = kz_meta_get(&doc->metadata, "reader_warnings");
    KZ_CHECK(warns.ptr && strstr(warns.ptr, "annotation \\\"2\\\"") && strstr(warns.ptr, "sentence 1"));
    KZ_CHECK(strstr(kz_meta_get(&doc->metadata, "relations").ptr, "Association") != NULL);
    const kz_section *t = doc->sections[0], *a = doc->sections[1], *m = doc->sections[2];
    KZ_CHECK_INT(t->n_entities, 2);
    const kz_entity *brca = t->entities[0];
    KZ_CHECK_KSTR(brca->match, "BRCA1");
    KZ_CHECK(memcmp(t->text.ptr + brca->start, "BRCA1", 5) == 0); /* É is 2 bytes */
    KZ_CHECK_KSTR(brca->entity_class, "Gene");
    KZ_CHECK_INT(brca->n_mappings, 1);
    KZ_CHECK_KSTR(brca->mappings[0].source, "BioC");
    KZ_CHECK_KSTR(brca->mappings[0].idx, "672");
    KZ_CHECK_KSTR(kz_meta_get(&brca->metadata, "valid"), "true");
    KZ_CHECK_KSTR(kz_meta_get(&brca->metadata, "bioc_id"), "\"1\"");
    KZ_CHECK_KSTR(t->entities[1]->match, "TP53"); /* document-level annotation */
    KZ_CHECK_INT(a->n_entities, 1);
    const kz_entity *lc = a->entities[0];
    KZ_CHECK_INT(lc->n_spans, 2);
    KZ_CHECK(memcmp(a->text.ptr + lc->spans[1].start, "cancer", 6) == 0);
    KZ_CHECK_KSTR(lc->mappings[0].source, "MESH");
    KZ_CHECK_KSTR(lc->mappings[0].idx, "MESH:D008175");
    KZ_CHECK_INT(a->n_sentence_spans, 1);
    KZ_CHECK_INT(a->sentence_spans[0].end, 9); /* the emoji is 4 bytes */
    /* A passage made of sentences only: text rebuilt at their offsets. */
    KZ_CHECK_KSTR(m->name, "METHODS");
    KZ_CHECK_KSTR(m->text, "A b.  C.");
    KZ_CHECK_INT(m->n_sentence_spans, 2);
    KZ_CHECK_INT(m->sentence_spans[1].start, 6);
    KZ_CHECK_INT(m->n_entities, 1);
    KZ_CHECK_KSTR(m->entities[0]->mappings[0].source, "NCBI Gene");
    KZ_CHECK_KSTR(m->entities[0]->mappings[0].idx, "7157");
    kz_doc_free(doc);
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 1);
    KZ_CHECK_KSTR(doc->idx, "222");
    KZ_CHECK_KSTR(doc->sections[0]->name, "passage0");
    kz_doc_free(doc);
    /* The collection streams: each document is a record with its own line. */
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), KZ_EPARSE);
    KZ_CHECK_STR(err.doc_id, "333");
    KZ_CHECK_STR(err.msg, "a BioC document needs a \"passages\" list");
    KZ_CHECK_INT(err.line, 13);
    KZ_CHECK_INT(err.offset, (int64_t)(strstr(k_bioc, "{\"id\": \"333\"") - k_bioc));
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 0);
    kz_reader_close(r);

    size_t len, len2;
    int64_t warnings;
    char *out = bioc_rewrite(k_bioc, strlen(k_bioc), &len, &warnings);
    KZ_CHECK(out != NULL);
    const char *want =
        "{\"source\": \"kazu-c\", \"date\": \"\", \"key\": \"\", \"infons\": {}, \"documents\": [\n"
        "{\"id\": \"111\", \"infons\": {\"journal\": \"J\"}, \"passages\": ["
        "{\"infons\": {\"type\": \"title\"}, \"offset\": 0, \"text\": \"\\u00c9tude of BRCA1 and TP53.\", "
        "\"sentences\": [], "
        "\"annotations\": [{\"id\": \"1\", \"infons\": {\"type\": \"Gene\", \"identifier\": \"672\", "
        "\"valid\": true}, "
        "\"text\": \"BRCA1\", \"locations\": [{\"offset\": 9, \"length\": 5}]}, {\"id\": \"4\", \"infons\": "
        "{\"type\": "
        "\"Gene\"}, \"text\": \"TP53\", \"locations\": [{\"offset\": 19, \"length\": 4}]}], \"relations\": "
        "[]}, "
        "{\"infons\": {\"type\": \"abstract\", \"section_type\": \"ABSTRACT\"}, \"offset\": 25, \"text\": "
        "\"\\ud83d\\ude00 lung and liver cancer\", \"sentences\": [{\"infons\": {}, \"offset\": 25, "
        "\"text\": "
        "\"\\ud83d\\ude00 lung\", \"annotations\": [], \"relations\": []}], \"annotations\": [{\"id\": "
        "\"3\", \"infons\": "
        "{\"type\": \"Disease\", \"identifier\": \"MESH:D008175\"}, \"text\": \"lung cancer\", "
        "\"locations\": "
        "[{\"offset\": 27, \"length\": 4}, {\"offset\": 42, \"length\": 6}]}], \"relations\": []}, "
        "{\"infons\": {\"type\": \"METHODS\"}, \"offset\": 49, \"text\": \"A b.  C.\", \"sentences\": "
        "[{\"infons\": {}, "
        "\"offset\": 49, \"text\": \"A b.\", \"annotations\": [], \"relations\": []}, {\"infons\": {}, "
        "\"offset\": 55, "
        "\"text\": \"C.\", \"annotations\": [], \"relations\": []}], \"annotations\": [{\"id\": \"5\", "
        "\"infons\": "
        "{\"type\": \"X\", \"NCBI Gene\": \"7157\"}, \"text\": \"C\", \"locations\": [{\"offset\": 55, "
        "\"length\": 1}]}], "
        "\"relations\": []}], \"annotations\": [], \"relations\": [{\"id\": \"R1\", \"infons\": {\"type\": "
        "\"Association\"}, \"nodes\": []}]},\n"
        "{\"id\": \"222\", \"infons\": {}, \"passages\": [{\"infons\": {\"type\": \"passage0\"}, \"offset\": "
        "0, \"text\": "
        "\"x\", \"sentences\": [], \"annotations\": [], \"relations\": []}], \"annotations\": [], "
        "\"relations\": []}\n"
        "]}\n";
    KZ_CHECK_STR(out, want);
    /* Our own output is a fixed point: read and written again, byte for byte. */
    char *again = bioc_rewrite(out, len, &len2, &warnings);
    KZ_CHECK(again != NULL);
    KZ_CHECK_INT(warnings, 0);
    KZ_CHECK_STR(again, out);
    free(again);
    free(out);
}

KZ_TEST(bioc_json_documents_per_line) {
    const char *in =
        "{\"id\": \"1\", \"passages\": [{\"offset\": 0, \"text\": \"ab\", \"infons\": {\"type\": \"t\"}}]}\n"
        "not json\n"
        "{\"id\": \"2\", \"passages\": []}\n";
    kz_reader *r;
    kz_error err;
    kz_doc *doc;
    KZ_CHECK_INT(kz_reader_open_mem(&r, in, strlen(in), "d.jsonl", KZ_FORMAT_BIOC_JSON, NULL, &err), 0);
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 1);
    KZ_CHECK_KSTR(doc->sections[0]->text, "ab");
    kz_doc_free(doc);
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), KZ_EPARSE);
    KZ_CHECK_INT(err.line, 2);
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 1);
    KZ_CHECK_KSTR(doc->idx, "2");
    kz_doc_free(doc);
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 0);
    kz_reader_close(r);
}

KZ_TEST(bioc_json_collection_streams_under_the_cap) {
    /* The whole collection is far over the cap; each document is under it. */
    kz_buf in;
    kz__buf_init(&in, 0);
    kz__buf_puts(&in, "{\"source\": \"s\", \"date\": \"d\", \"key\": \"k\", \"infons\": {\"a\": [1, "
                      "{\"documents\": []}]},\n"
                      " \"documents\": [\n");
    for (int i = 0; i < 50; i++)
        kz__buf_printf(&in,
                       "%s{\"id\": \"d%d\", \"passages\": [{\"offset\": 0, \"text\": \"doc %d \\u00e9\", "
                       "\"annotations\": []}]}\n",
                       i ? "," : "", i, i);
    kz__buf_puts(&in,
                 "], \"extra\": {\"x\": \"]}\"}}\n{\"PubTator3\": [{\"id\": \"last\", \"passages\": []}]}\n");
    kz_reader_params p = kz_reader_default_params();
    p.max_record_bytes = 200;
    kz_reader *r;
    kz_error err;
    KZ_CHECK_INT(kz_reader_open_mem(&r, in.data, in.len, "big.json", KZ_FORMAT_BIOC_JSON, &p, &err), 0);
    kz_doc *doc;
    for (int i = 0; i < 50; i++) {
        char id[16];
        snprintf(id, sizeof id, "d%d", i);
        KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 1);
        KZ_CHECK_KSTR(doc->idx, id);
        KZ_CHECK_INT(kz_doc_char_len(doc), (i < 10 ? 7 : 8)); /* "doc N é" */
        kz_doc_free(doc);
    }
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 1);
    KZ_CHECK_KSTR(doc->idx, "last");
    kz_doc_free(doc);
    KZ_CHECK_INT(kz_reader_next(r, &doc, &err), 0);
    kz_reader_close(r);
    kz__buf_free(&in);
}

/* ---- Label Studio ------------------------------------------------------------------------ */
KZ_TEST(label_studio_tasks) {
    size_t len;
    char *s = fixture("unicode.json", &len);
    kz_doc *doc;
    kz_error err;
    KZ_CHECK_INT(kz_doc_from_kazu_json(s, len, &doc, &err), 0);
    free(s);
    char *mem = NULL;
    size_t mlen = 0;
    FILE *f = open_memstream(&mem, &mlen);
    kz_writer *w;
    KZ_CHECK_INT(kz_writer_open_file(&w, f, "mem", KZ_FORMAT_LABEL_STUDIO, NULL, &err), 0);
    KZ_CHECK_INT(kz_writer_write(w, doc, &err), 0);
    KZ_CHECK_INT(kz_writer_close(w, &err), 0);
    fclose(f);
    kz_doc_free(doc);
    json_error_t je;
    json_t *tasks = json_loadb(mem, mlen, 0, &je);
    KZ_CHECK(tasks && json_array_size(tasks) == 2);
    json_t *t0 = json_array_get(tasks, 0), *data = json_object_get(t0, "data");
    KZ_CHECK_STR(json_string_value(json_object_get(data, "id")),
                 "doc-\xc3\xbcn\xc3\xaf-\xf0\x9f\x98\x80_t\xc3\xadtle_0");
    KZ_CHECK_STR(json_string_value(json_object_get(data, "section")), "t\xc3\xadtle");
    json_t *pred = json_array_get(json_object_get(t0, "predictions"), 0);
    KZ_CHECK_STR(json_string_value(json_object_get(pred, "model_version")), "kazu-c");
    json_t *res = json_object_get(pred, "result");
    /* 8 spans x (labels + taxonomy) + 1 relation for the two-span "lung cancer". */
    KZ_CHECK_INT(json_array_size(res), 17);
    json_t *r0 = json_array_get(res, 0), *v0 = json_object_get(r0, "value");
    KZ_CHECK_STR(json_string_value(json_object_get(r0, "type")), "labels");
    KZ_CHECK_INT(json_integer_value(json_object_get(v0, "start")), 31);
    KZ_CHECK_STR(json_string_value(json_object_get(v0, "text")), "lung");
    KZ_CHECK_STR(json_string_value(json_array_get(json_object_get(v0, "labels"), 0)), "disease");
    json_t *tax = json_object_get(json_object_get(json_array_get(res, 1), "value"), "taxonomy");
    KZ_CHECK_STR(json_string_value(json_array_get(json_array_get(tax, 0), 1)), "unmapped|unmapped");
    json_t *rel = json_array_get(res, 4);
    KZ_CHECK_STR(json_string_value(json_object_get(rel, "type")), "relation");
    KZ_CHECK_STR(json_string_value(json_object_get(rel, "from_id")), "e0-s0");
    KZ_CHECK_STR(json_string_value(json_object_get(rel, "to_id")), "e0-s1");
    /* NSCLC: two mappings, sorted by source. */
    json_t *ntax = json_object_get(json_object_get(json_array_get(res, 10), "value"), "taxonomy");
    KZ_CHECK_INT(json_array_size(ntax), 2);
    KZ_CHECK_STR(json_string_value(json_array_get(json_array_get(ntax, 0), 0)), "EFO");
    KZ_CHECK_STR(json_string_value(json_array_get(json_array_get(ntax, 1), 1)),
                 "non-small cell lung carcinoma|http://purl.obolibrary.org/obo/MONDO_0005233");
    json_decref(tasks);
    free(mem);
}
