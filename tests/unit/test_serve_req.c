/* `kazu serve` request parsing and response building (apps/kazu/serve_req.c
 * and serve_api.c, compiled in): shapes, type errors, limits, UTF-8, the
 * linking-only conversion and the Label Studio view with mappings. */
#include "kz_test.h"
#include "../apps/kazu/serve_api.c"
#include "../apps/kazu/serve_req.c"

static int parse(const char *body, serve_shape shape, size_t max_doc, size_t max_docs, kz_doc ***docs,
                 size_t *n, bool *list, char *msg) {
    serve_limits lim = {max_doc, max_docs};
    return serve_parse_docs(body, strlen(body), shape, &lim, docs, n, list, msg, 640);
}

KZ_TEST(serve_parse_text_and_sections) {
    kz_doc **d;
    size_t n;
    bool list;
    char msg[640];
    KZ_CHECK_INT(parse("{\"text\": \"Hello. World.\"}", SERVE_ONE_OR_LIST, 0, 0, &d, &n, &list, msg), 0);
    KZ_CHECK_INT(n, 1);
    KZ_CHECK(!list);
    KZ_CHECK_INT(d[0]->n_sections, 1);
    KZ_CHECK_KSTR(d[0]->sections[0]->name, "na");
    KZ_CHECK_KSTR(d[0]->sections[0]->text, "Hello. World.");
    KZ_CHECK_INT(d[0]->idx.len, 32);
    serve_docs_free(d, n);
    KZ_CHECK_INT(
        parse("[{\"sections\": {\"title\": \"T\", \"abstract\": \"A\"}}, {\"text\": \"x\", \"extra\": 1}]",
              SERVE_LIST, 0, 0, &d, &n, &list, msg),
        0);
    KZ_CHECK_INT(n, 2);
    KZ_CHECK(list);
    KZ_CHECK_INT(d[0]->n_sections, 2);
    KZ_CHECK_KSTR(d[0]->sections[0]->name, "title");
    KZ_CHECK_KSTR(d[0]->sections[1]->name, "abstract");
    KZ_CHECK_KSTR(d[1]->sections[0]->text, "x");
    serve_docs_free(d, n);
}

KZ_TEST(serve_parse_errors_name_the_problem) {
    kz_doc **d;
    size_t n;
    bool list;
    char msg[640];
    KZ_CHECK_INT(parse("{\"text\": 5}", SERVE_ONE_OR_LIST, 0, 0, &d, &n, &list, msg), 400);
    KZ_CHECK_STR(msg, "the body: \"text\" must be a string, got an integer");
    KZ_CHECK(d == NULL);
    KZ_CHECK_INT(
        parse("[{\"text\": \"a\"}, {\"sections\": {\"s\": [1]}}]", SERVE_LIST, 0, 0, &d, &n, &list, msg),
        400);
    KZ_CHECK_STR(msg, "document 1: section \"s\" must be a string, got an array");
    KZ_CHECK_INT(parse("{\"text\": \"a\"", SERVE_ONE, 0, 0, &d, &n, &list, msg), 400);
    KZ_CHECK(strstr(msg, "malformed JSON at line 1") != NULL);
    KZ_CHECK_INT(parse("{\"text\": \"\xe2\x82\"}", SERVE_ONE, 0, 0, &d, &n, &list, msg), 400);
    KZ_CHECK_STR(msg, "invalid UTF-8 in the body at byte 10");
    KZ_CHECK_INT(parse("", SERVE_ONE, 0, 0, &d, &n, &list, msg), 400);
    KZ_CHECK_INT(parse("[{\"text\": \"a\"}]", SERVE_ONE, 0, 0, &d, &n, &list, msg), 422);
    KZ_CHECK_INT(parse("{\"text\": \"a\"}", SERVE_LIST, 0, 0, &d, &n, &list, msg), 422);
    KZ_CHECK_INT(parse("{\"text\": \"abcdef\"}", SERVE_ONE, 5, 0, &d, &n, &list, msg), 413);
    KZ_CHECK_STR(msg, "the body has 6 bytes of text; the limit is 5");
    KZ_CHECK_INT(
        parse("{\"sections\": {\"a\": \"abc\", \"b\": \"abc\"}}", SERVE_ONE, 5, 0, &d, &n, &list, msg), 413);
    KZ_CHECK_INT(parse("[{\"text\": \"a\"}, {\"text\": \"b\"}, {\"text\": \"c\"}]", SERVE_LIST, 0, 2, &d, &n,
                       &list, msg),
                 413);
    KZ_CHECK_STR(msg, "3 documents in one request; the limit is 2");
    KZ_CHECK(d == NULL);
}

KZ_TEST(serve_linking_only_entities_and_json) {
    kz_doc **d;
    size_t n;
    bool list;
    char msg[640];
    KZ_CHECK_INT(
        parse("{\"sections\": {\"a\": \"paracetamol\", \"b\": \"\"}}", SERVE_ONE, 0, 0, &d, &n, &list, msg),
        0);
    KZ_CHECK_INT(serve_add_whole_section_entities(d[0], "drug"), 0);
    KZ_CHECK_INT(d[0]->sections[0]->n_entities, 1);
    KZ_CHECK_INT(d[0]->sections[1]->n_entities, 0);
    const kz_entity *e = d[0]->sections[0]->entities[0];
    KZ_CHECK_KSTR(e->entity_class, "drug");
    KZ_CHECK_KSTR(e->namespace_, "KAZUAPILinkingOnlyRequest");
    KZ_CHECK_INT(e->start, 0);
    KZ_CHECK_INT(e->end, 11);
    sbuf b = {0};
    KZ_CHECK_INT(serve_docs_json(d, n, true, &b), 0);
    KZ_CHECK(b.p[0] == '[' && b.p[b.n - 1] == ']');
    KZ_CHECK(strstr(b.p, "\"namespace\": \"KAZUAPILinkingOnlyRequest\"") != NULL);
    sb_free(&b);
    KZ_CHECK_INT(serve_docs_json(d, n, false, &b), 0);
    KZ_CHECK(b.p[0] == '{' && b.p[b.n - 1] == '}');
    sb_free(&b);
    serve_docs_free(d, n);
}

KZ_TEST(serve_ls_view_taxonomy) {
    kz_doc **d;
    size_t n;
    bool list;
    char msg[640];
    KZ_CHECK_INT(parse("{\"text\": \"EGFR & HER2\"}", SERVE_ONE, 0, 0, &d, &n, &list, msg), 0);
    kz_section *s = d[0]->sections[0];
    kz_span sp1 = {0, 4}, sp2 = {7, 11};
    kz_entity_init in = {0};
    in.n_spans = 1;
    in.entity_class = kz_str_c("gene");
    in.namespace_ = kz_str_c("Test");
    in.mention_confidence = KZ_MENTION_HIGHLY_LIKELY;
    kz_entity *e1, *e2;
    in.spans = &sp1;
    KZ_CHECK_INT(kz_section_add_entity(d[0], s, &in, &e1, NULL), 0);
    in.spans = &sp2;
    KZ_CHECK_INT(kz_section_add_entity(d[0], s, &in, &e2, NULL), 0);
    kz_mapping m = {0};
    m.default_label = kz_str_c("EGFR");
    m.source = kz_str_c("HGNC");
    m.idx = kz_str_c("HGNC:3236");
    m.parser_name = kz_str_c("HGNC");
    m.string_match_strategy = kz_str_c("Exact");
    m.string_match_confidence = KZ_SMC_HIGHLY_LIKELY;
    KZ_CHECK_INT(kz_entity_add_mapping(d[0], e1, &m), 0);
    m.default_label = kz_str_c("A<B\"");
    m.idx = kz_str_c("HGNC:1");
    KZ_CHECK_INT(kz_entity_add_mapping(d[0], e1, &m), 0);
    sbuf b = {0};
    KZ_CHECK_INT(serve_ls_json(d[0], &b), 0);
    KZ_CHECK(
        strstr(b.p,
               "<Taxonomy visibleWhen=\\\"region-selected\\\" name=\\\"taxonomy\\\" toName=\\\"text\\\" "
               "perRegion=\\\"true\\\"><Choice value=\\\"HGNC\\\"><Choice value=\\\"A&lt;B&quot;|HGNC:1\\\"/>"
               "<Choice value=\\\"EGFR|HGNC:3236\\\"/></Choice><Choice value=\\\"None\\\"><Choice "
               "value=\\\"unmapped|unmapped\\\"/></Choice></Taxonomy>") != NULL);
    KZ_CHECK(strstr(b.p, "\"ls_tasks\": [") != NULL);
    KZ_CHECK(strstr(b.p, "\"doc\": {\"idx\": ") != NULL);
    sb_free(&b);
    serve_docs_free(d, n);
}

KZ_TEST(serve_openapi_is_json) {
    sbuf b = {0};
    serve_openapi_json(&b, true);
    json_error_t je;
    json_t *j = json_loadb(b.p, b.n, 0, &je);
    KZ_CHECK(j != NULL);
    KZ_CHECK(json_object_get(json_object_get(j, "paths"), "/api/kazu/ls-annotations") != NULL);
    KZ_CHECK(
        json_object_get(json_object_get(json_object_get(j, "components"), "securitySchemes"), "HTTPBearer"));
    json_decref(j);
    sb_free(&b);
    serve_openapi_json(&b, false);
    j = json_loadb(b.p, b.n, 0, &je);
    KZ_CHECK(j != NULL && !json_object_get(json_object_get(j, "components"), "securitySchemes"));
    json_decref(j);
    sb_free(&b);
}

KZ_TEST(serve_sbuf_json_escapes) {
    sbuf b = {0};
    sb_json_str(&b, "a\"\\\n\x01z", 6);
    KZ_CHECK_STR(b.p, "\"a\\\"\\\\\\n\\u0001z\"");
    sb_free(&b);
}
