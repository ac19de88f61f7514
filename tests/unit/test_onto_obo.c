/* OBO-family ontology parsers (OBO flat files, OBO Graphs JSON, OWL RDF/XML,
 * MeSH XML, cellosaurus.txt) on small inline fixtures shaped like the real files. */
#include <unistd.h>
#include <zlib.h>
#include "kz_test.h"
#include "kb/onto_obo_int.h"

/* ---- collecting terms and warnings as one-line renderings -------------------- */
#define MAXC 64
typedef struct coll {
    char *t[MAXC];
    int n;
    char *w[MAXC];
    int nw;
    int stop_after; /* > 0: emit returns KZ_ECANCELLED after that many terms */
} coll;

static void put_list(FILE *f, const char *name, const kz_str *v, uint32_t n) {
    if (!n) return;
    fprintf(f, " %s=[", name);
    for (uint32_t i = 0; i < n; i++) fprintf(f, "%s%.*s", i ? ";" : "", (int)v[i].len, v[i].ptr);
    fputc(']', f);
}

static int on_term(void *u, const kz_onto_term *t) {
    coll *c = u;
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    fprintf(f, "%.*s", (int)t->id.len, t->id.ptr);
    if (t->label.ptr) fprintf(f, " \"%.*s\"", (int)t->label.len, t->label.ptr);
    if (t->ns.ptr) fprintf(f, " ns=%.*s", (int)t->ns.len, t->ns.ptr);
    if (t->obsolete) fprintf(f, " OBSOLETE");
    if (t->n_syns) {
        fprintf(f, " syn=[");
        for (uint32_t i = 0; i < t->n_syns; i++)
            fprintf(f, "%s%.*s:%.*s", i ? ";" : "", (int)t->syns[i].scope.len,
                    t->syns[i].scope.ptr ? t->syns[i].scope.ptr : "", (int)t->syns[i].text.len,
                    t->syns[i].text.ptr);
        fputc(']', f);
    }
    put_list(f, "xref", t->xrefs, t->n_xrefs);
    put_list(f, "alt", t->alt_ids, t->n_alt_ids);
    put_list(f, "isa", t->parents, t->n_parents);
    if (t->n_meta) {
        fprintf(f, " meta=[");
        for (uint32_t i = 0; i < t->n_meta; i++)
            fprintf(f, "%s%.*s=%.*s", i ? ";" : "", (int)t->meta[i].key.len, t->meta[i].key.ptr,
                    (int)t->meta[i].value.len, t->meta[i].value.ptr);
        fputc(']', f);
    }
    fprintf(f, " @%lld", (long long)t->line);
    fclose(f);
    if (c->n < MAXC)
        c->t[c->n++] = s;
    else
        free(s);
    if (c->stop_after && c->n >= c->stop_after) return KZ_ECANCELLED;
    return 0;
}

static void on_warn(void *u, const kz_error *e) {
    coll *c = u;
    char *s = NULL;
    if (asprintf(&s, "%lld:%s", (long long)e->line, e->msg) < 0) return;
    if (c->nw < MAXC && e->path[0])
        c->w[c->nw++] = s;
    else
        free(s);
}

static void coll_free(coll *c) {
    for (int i = 0; i < c->n; i++) free(c->t[i]);
    for (int i = 0; i < c->nw; i++) free(c->w[i]);
    memset(c, 0, sizeof *c);
}

static kz_onto_spec spec_of(kz_onto_format f) {
    kz_onto_spec s;
    memset(&s, 0, sizeof s);
    s.format = f;
    s.name = "test";
    return s;
}

static int parse_obo(const char *text, const kz_onto_spec *sp, coll *c, uint64_t *nw, kz_error *e) {
    return kz__onto_parse_obo_mem(text, strlen(text), sp, on_term, on_warn, c, nw, e);
}

/* Write bytes to a fresh temporary file; returns its path (static buffer per call site). */
static bool write_tmp(char *path, const void *data, size_t len) {
    int fd = mkstemp(path);
    if (fd < 0) return false;
    bool ok = write(fd, data, len) == (ssize_t)len;
    close(fd);
    return ok;
}

/* ---- OBO ------------------------------------------------------------------------ */
static const char k_obo[] =
    "format-version: 1.2\n"
    "data-version: test/releases/2024-01-01\n"
    "default-namespace: cell\n"
    "synonymtypedef: abbreviation \"abbreviation\"\n"
    "ontology: test\n"
    "\n"
    "[Term]\n"
    "id: CL:0000000\n"
    "name: cell\n"
    "def: \"A material entity of anatomical origin.\" [GOC:tfm] {comment=\"x ! y\"}\n"
    "synonym: \"cellula\" EXACT LATIN []\n"
    "synonym: \"a \\\"quoted\\\" \\\\ thing\" RELATED [PMID:1 \"desc with ] bracket\"] {source=\"X:1\"}\n"
    "synonym: \"NK\\nline\\Wtwo\" NARROW abbreviation [] ! a comment\n"
    "synonym: \"broad one\" BROAD []\n"
    "synonym: \"no scope\" []\n"
    "xref: FMA:68646 \"cell description\" {source=\"MONDO:equivalentTo\"}\n"
    "xref: http\\://example.org/x\n"
    "alt_id: CL:0000001\n"
    "is_a: BFO:0000040 {is_inferred=\"true\"} ! material entity\n"
    "relationship: part_of UBERON:0000000\n"
    "! a comment line\n"
    "\n"
    "[Typedef]\n"
    "id: part_of\n"
    "name: part of\n"
    "is_a: overlaps\n"
    "\n"
    "[Term]\n"
    "id: CL:0000002\n"
    "name: Hello! weird {brace} name\n"
    "namespace: other_ns\n"
    "is_a: CL:0000000 ! cell\n"
    "is_a: CL:0000003\n"
    "\n"
    "[Instance]\n"
    "id: inst1\n"
    "instance_of: CL:0000000\n"
    "\n"
    "[Term]\n"
    "id: CL:0000009\n"
    "name: obsolete thing\n"
    "is_obsolete: true\n"
    "replaced_by: CL:0000000\n";

KZ_TEST(obo_terms_synonyms_escapes_and_modifiers) {
    kz_onto_spec sp = spec_of(KZ_ONTO_OBO);
    coll c = {0};
    uint64_t nw = 99;
    kz_error e;
    KZ_CHECK_INT(parse_obo(k_obo, &sp, &c, &nw, &e), 0);
    KZ_CHECK_INT(nw, 0);
    KZ_CHECK_INT(c.n, 2);
    KZ_CHECK_STR(c.t[0], "CL:0000000 \"cell\" ns=cell syn=[EXACT:cellula;RELATED:a \"quoted\" \\ thing;"
                         "NARROW:NK\nline two;BROAD:broad one;RELATED:no scope] "
                         "xref=[FMA:68646;http://example.org/x] alt=[CL:0000001] isa=[BFO:0000040] @7");
    KZ_CHECK_STR(c.t[1],
                 "CL:0000002 \"Hello! weird {brace} name\" ns=other_ns isa=[CL:0000000;CL:0000003] @28");
    coll_free(&c);
}

KZ_TEST(obo_filters_obsolete_namespace_scope_regex_prefix) {
    kz_onto_spec sp = spec_of(KZ_ONTO_OBO);
    coll c = {0};
    kz_error e;
    sp.include_obsolete = true;
    KZ_CHECK_INT(parse_obo(k_obo, &sp, &c, NULL, &e), 0);
    KZ_CHECK_INT(c.n, 3);
    KZ_CHECK_STR(c.t[2], "CL:0000009 \"obsolete thing\" ns=cell OBSOLETE @39");
    coll_free(&c);

    const char *ns[] = {"other_ns"};
    sp = spec_of(KZ_ONTO_OBO);
    sp.namespaces = ns;
    sp.n_namespaces = 1;
    KZ_CHECK_INT(parse_obo(k_obo, &sp, &c, NULL, &e), 0);
    KZ_CHECK_INT(c.n, 1);
    KZ_CHECK(strncmp(c.t[0], "CL:0000002 ", 11) == 0);
    coll_free(&c);

    const char *scopes[] = {"exact", "BROAD"};
    sp = spec_of(KZ_ONTO_OBO);
    sp.syn_scopes = scopes;
    sp.n_syn_scopes = 2;
    sp.id_regex = "^CL:000000[0-1]$";
    KZ_CHECK_INT(parse_obo(k_obo, &sp, &c, NULL, &e), 0);
    KZ_CHECK_INT(c.n, 1);
    KZ_CHECK(strstr(c.t[0], " syn=[EXACT:cellula;BROAD:broad one] ") != NULL);
    coll_free(&c);

    /* id_prefix applies to ids, alt ids and parents, before id_regex */
    sp = spec_of(KZ_ONTO_OBO);
    sp.id_prefix = "X/";
    sp.id_regex = "^X/CL:0000002$";
    KZ_CHECK_INT(parse_obo(k_obo, &sp, &c, NULL, &e), 0);
    KZ_CHECK_INT(c.n, 1);
    KZ_CHECK_STR(
        c.t[0], "X/CL:0000002 \"Hello! weird {brace} name\" ns=other_ns isa=[X/CL:0000000;X/CL:0000003] @28");
    coll_free(&c);

    sp = spec_of(KZ_ONTO_OBO);
    sp.id_regex = "([";
    KZ_CHECK_INT(parse_obo(k_obo, &sp, &c, NULL, &e), KZ_ECONFIG);
    KZ_CHECK(strstr(e.msg, "id_regex") != NULL);
    KZ_CHECK_INT(c.n, 0);
}

KZ_TEST(obo_malformed_lines_are_located_warnings) {
    const char *text = "format-version: 1.4\n"                 /* 1 */
                       "[Term]\n"                              /* 2 */
                       "id: T:1\n"                             /* 3 */
                       "name: good one\n"                      /* 4 */
                       "synonym: \"unterminated EXACT []\n"    /* 5 */
                       "synonym: \"odd scope\" EXACTISH []\n"  /* 6 */
                       "synonym: \"bad \xff utf8\" EXACT []\n" /* 7 */
                       "synonym: \"kept\" EXACT []\n"          /* 8 */
                       "this line has no tag\n"                /* 9 */
                       "synonym: no quotes EXACT\n"            /* 10 */
                       "\n"                                    /* 11 */
                       "[Term]\n"                              /* 12 */
                       "id: T:\xc3\x28\n"                      /* 13 */
                       "name: skipped stanza\n"                /* 14 */
                       "\n"                                    /* 15 */
                       "[Term]\n"                              /* 16 */
                       "name: no id\n"                         /* 17 */
                       "\n"                                    /* 18 */
                       "[Term]\n"                              /* 19 */
                       "id: T:3\n"                             /* 20 */
                       "name: \xe2\x82\xac euro\n";            /* 21 */
    kz_onto_spec sp = spec_of(KZ_ONTO_OBO);
    coll c = {0};
    uint64_t nw = 0;
    kz_error e;
    KZ_CHECK_INT(parse_obo(text, &sp, &c, &nw, &e), 0);
    KZ_CHECK_INT(c.n, 2);
    KZ_CHECK_STR(c.t[0], "T:1 \"good one\" syn=[EXACT:kept] @2");
    KZ_CHECK_STR(c.t[1], "T:3 \"\xe2\x82\xac euro\" @19");
    KZ_CHECK_INT(nw, 7);
    KZ_CHECK_INT(c.nw, 7);
    KZ_CHECK_STR(c.w[0], "5:unterminated quote in synonym; line skipped");
    KZ_CHECK_STR(c.w[1], "6:unknown synonym scope \"EXACTISH\"; line skipped");
    KZ_CHECK_STR(c.w[2], "7:invalid UTF-8; line skipped");
    KZ_CHECK_STR(c.w[3], "9:not a \"tag: value\" line; line skipped");
    KZ_CHECK_STR(c.w[4], "10:synonym without a quoted text; line skipped");
    KZ_CHECK_STR(c.w[5], "13:invalid UTF-8 in the id line; stanza skipped");
    KZ_CHECK_STR(c.w[6], "16:record without an id; skipped");
    coll_free(&c);
}

KZ_TEST(obo_whole_file_errors_and_limits) {
    kz_onto_spec sp = spec_of(KZ_ONTO_OBO);
    coll c = {0};
    kz_error e;
    /* not OBO at all */
    KZ_CHECK_INT(parse_obo("{\"graphs\": []}\n", &sp, &c, NULL, &e), KZ_EFORMAT);
    KZ_CHECK_INT(e.line, 1);
    /* empty input: nothing, no complaint */
    KZ_CHECK_INT(parse_obo("", &sp, &c, NULL, &e), 0);
    KZ_CHECK_INT(c.n, 0);
    /* a missing file names itself */
    sp.path = "/nonexistent/dir/x.obo";
    KZ_CHECK_INT(kz__onto_parse_obo(&sp, on_term, on_warn, &c, NULL, &e), KZ_EIO);
    KZ_CHECK_STR(e.path, "/nonexistent/dir/x.obo");
    /* the consumer can stop the parse */
    sp = spec_of(KZ_ONTO_OBO);
    c.stop_after = 1;
    KZ_CHECK_INT(parse_obo(k_obo, &sp, &c, NULL, &e), KZ_ECANCELLED);
    KZ_CHECK_INT(c.n, 1);
    coll_free(&c);
    /* a line past the cap is skipped with a warning; the next term still comes out */
    size_t big = KZ_ONTO_MAX_LINE + 100;
    char *text = malloc(big + 200);
    int n = sprintf(text, "[Term]\nid: A:1\nname: a\ncomment: ");
    memset(text + n, 'x', big);
    sprintf(text + n + big, "\n[Term]\nid: A:2\nname: b\n");
    KZ_CHECK_INT(parse_obo(text, &sp, &c, NULL, &e), 0);
    free(text);
    KZ_CHECK_INT(c.n, 2);
    KZ_CHECK_INT(c.nw, 1);
    KZ_CHECK(strncmp(c.w[0], "4:line longer than", 18) == 0);
    coll_free(&c);
}

KZ_TEST(obo_gzip_file_and_dispatch) {
    char path[] = "/tmp/kz_onto_obo_XXXXXX";
    int fd = mkstemp(path);
    KZ_CHECK(fd >= 0);
    gzFile gz = gzdopen(fd, "wb");
    KZ_CHECK(gz != NULL);
    KZ_CHECK_INT(gzwrite(gz, k_obo, (unsigned)strlen(k_obo)), (int)strlen(k_obo));
    KZ_CHECK_INT(gzclose(gz), Z_OK);
    kz_onto_spec sp = spec_of(KZ_ONTO_OBO);
    sp.path = path;
    coll c = {0};
    kz_error e;
    uint64_t nw = 9;
    KZ_CHECK_INT(kz__onto_parse(&sp, on_term, on_warn, &c, &nw, &e), 0);
    KZ_CHECK_INT(nw, 0);
    KZ_CHECK_INT(c.n, 2);
    KZ_CHECK(strncmp(c.t[1], "CL:0000002 \"Hello! weird", 24) == 0);
    coll_free(&c);
    /* the same gzip bytes from memory */
    size_t len;
    char *bytes = kz_test_read_file(path, &len);
    KZ_CHECK(bytes && len > 2 && (unsigned char)bytes[0] == 0x1f);
    KZ_CHECK_INT(kz__onto_parse_obo_mem(bytes, len, &sp, on_term, on_warn, &c, NULL, &e), 0);
    KZ_CHECK_INT(c.n, 2);
    coll_free(&c);
    /* truncated gzip from memory is a whole-file error, after what could be read */
    int rc = kz__onto_parse_obo_mem(bytes, len - 12, &sp, on_term, on_warn, &c, NULL, &e);
    KZ_CHECK_INT(rc, KZ_EIO);
    KZ_CHECK(strstr(e.msg, "compressed") != NULL);
    free(bytes);
    coll_free(&c);
    unlink(path);
}

/* ---- OBO Graphs JSON --------------------------------------------------------------- */
static const char k_obograph[] =
    "{\n"
    "  \"graphs\" : [ {\n"
    "    \"id\" : \"http://purl.obolibrary.org/obo/mondo.owl\",\n"
    "    \"meta\" : { \"version\" : \"http://purl.obolibrary.org/obo/mondo/releases/2024-10-15/mondo.owl\" "
    "},\n"
    "    \"edges\" : [ {\n"
    "      \"sub\" : \"http://purl.obolibrary.org/obo/MONDO_0000002\",\n"
    "      \"pred\" : \"is_a\",\n"
    "      \"obj\" : \"http://purl.obolibrary.org/obo/MONDO_0000001\"\n"
    "    } ],\n"
    "    \"nodes\" : [ {\n" /* line 10 */
    "      \"id\" : \"http://purl.obolibrary.org/obo/IAO_0100001\",\n"
    "      \"type\" : \"PROPERTY\",\n"
    "      \"lbl\" : \"term replaced by\"\n"
    "    }, {\n" /* line 14 */
    "      \"id\" : \"http://purl.obolibrary.org/obo/MONDO_0000001\",\n"
    "      \"lbl\" : \"disease\",\n"
    "      \"type\" : \"CLASS\",\n"
    "      \"meta\" : {\n"
    "        \"definition\" : { \"val\" : \"A disposition ...\", \"xrefs\" : [ \"NCIT:C2991\" ] },\n"
    "        \"synonyms\" : [ { \"pred\" : \"hasExactSynonym\", \"val\" : \"diseases\", \"xrefs\" : [ ] },\n"
    "                       { \"pred\" : \"hasRelatedSynonym\", \"val\" : \"condition\" },\n"
    "                       { \"pred\" : \"hasNarrowSynonym\", \"val\" : \"disease or disorder\" },\n"
    "                       { \"pred\" : \"hasBroadSynonym\", \"val\" : \"disorder \\u00e9\\\"x\\\"\" } ],\n"
    "        \"xrefs\" : [ { \"val\" : \"DOID:4\" }, { \"val\" : \"MESH:D004194\" } ],\n"
    "        \"basicPropertyValues\" : [ {\n"
    "          \"pred\" : \"http://www.geneontology.org/formats/oboInOwl#hasOBONamespace\",\n"
    "          \"val\" : \"disease\"\n"
    "        }, {\n"
    "          \"pred\" : \"http://www.geneontology.org/formats/oboInOwl#hasAlternativeId\",\n"
    "          \"val\" : \"MONDO:0000009\"\n"
    "        } ]\n"
    "      }\n"
    "    }, {\n" /* line 33 */
    "      \"id\" : \"http://purl.obolibrary.org/obo/MONDO_0000002\",\n"
    "      \"lbl\" : \"obsolete thing\",\n"
    "      \"type\" : \"CLASS\",\n"
    "      \"meta\" : { \"deprecated\" : true }\n"
    "    }, {\n" /* line 38 */
    "      \"id\" : \"http://purl.obolibrary.org/obo/NCBITaxon_9606\"\n"
    "    }, {\n" /* line 40 */
    "      \"id\" : \"http://example.org/custom#X1\",\n"
    "      \"lbl\" : \"custom\",\n"
    "      \"type\" : \"CLASS\"\n"
    "    } ]\n"
    "  }, {\n"
    "    \"nodes\" : [ { \"id\" : \"http://purl.obolibrary.org/obo/HP_0000118\", \"lbl\" : \"Phenotypic "
    "abnormality\" } ],\n"
    "    \"edges\" : [ { \"sub\" : \"http://purl.obolibrary.org/obo/HP_0000118\", \"pred\" : \"is_a\", "
    "\"obj\" : "
    "\"http://purl.obolibrary.org/obo/HP_0000001\" },\n"
    "                { \"sub\" : \"http://purl.obolibrary.org/obo/HP_0000118\", \"pred\" : \"part_of\", "
    "\"obj\" : "
    "\"http://purl.obolibrary.org/obo/HP_0000002\" } ]\n"
    "  } ]\n"
    "}\n";

KZ_TEST(obograph_nodes_edges_synonyms_and_curies) {
    kz_onto_spec sp = spec_of(KZ_ONTO_OBOGRAPH_JSON);
    coll c = {0};
    kz_error e;
    uint64_t nw = 9;
    int rc = kz__onto_parse_obograph_mem(k_obograph, strlen(k_obograph), &sp, on_term, on_warn, &c, &nw, &e);
    KZ_CHECK_INT(rc, 0);
    KZ_CHECK_INT(nw, 0);
    KZ_CHECK_INT(c.n, 3);
    KZ_CHECK_STR(c.t[0],
                 "MONDO:0000001 \"disease\" ns=disease syn=[EXACT:diseases;RELATED:condition;"
                 "NARROW:disease or disorder;BROAD:disorder \xc3\xa9\"x\"] xref=[DOID:4;MESH:D004194] "
                 "alt=[MONDO:0000009] @14");
    KZ_CHECK_STR(c.t[1], "http://example.org/custom#X1 \"custom\" @40");
    KZ_CHECK_STR(c.t[2], "HP:0000118 \"Phenotypic abnormality\" isa=[HP:0000001] @46");
    coll_free(&c);
    /* obsolete kept on request, with its parent from the edge list */
    sp.include_obsolete = true;
    const char *ex[] = {"EXACT"};
    sp.syn_scopes = ex;
    sp.n_syn_scopes = 1;
    sp.id_regex = "^MONDO:";
    rc = kz__onto_parse_obograph_mem(k_obograph, strlen(k_obograph), &sp, on_term, on_warn, &c, NULL, &e);
    KZ_CHECK_INT(rc, 0);
    KZ_CHECK_INT(c.n, 2);
    KZ_CHECK(strstr(c.t[0], " syn=[EXACT:diseases] ") != NULL);
    KZ_CHECK_STR(c.t[1], "MONDO:0000002 \"obsolete thing\" OBSOLETE isa=[MONDO:0000001] @33");
    coll_free(&c);
}

KZ_TEST(obograph_malformed_nodes_and_documents) {
    kz_onto_spec sp = spec_of(KZ_ONTO_OBOGRAPH_JSON);
    coll c = {0};
    kz_error e;
    uint64_t nw = 0;
    const char *j = "{\"graphs\": [{\"nodes\": [\n"
                    "{\"id\": \"http://purl.obolibrary.org/obo/X_1\", \"lbl\": 5, \"type\": \"CLASS\"},\n"
                    "{\"id\": \"http://purl.obolibrary.org/obo/X_2\", \"lbl\": nope},\n"
                    "{\"lbl\": \"no id\", \"type\": \"CLASS\"},\n"
                    "[1, 2],\n"
                    "{\"id\": \"http://purl.obolibrary.org/obo/X_3\", \"lbl\": \"fine\"}\n"
                    "]}]}";
    KZ_CHECK_INT(kz__onto_parse_obograph_mem(j, strlen(j), &sp, on_term, on_warn, &c, &nw, &e), 0);
    KZ_CHECK_INT(c.n, 1);
    KZ_CHECK_STR(c.t[0], "X:3 \"fine\" @6");
    KZ_CHECK_INT(nw, 4);
    KZ_CHECK_STR(c.w[0], "2:node http://purl.obolibrary.org/obo/X_1: \"lbl\" is not a string; skipped");
    KZ_CHECK(strncmp(c.w[1], "3:malformed node:", 17) == 0);
    KZ_CHECK_STR(c.w[2], "4:node without a string \"id\"; skipped");
    KZ_CHECK_STR(c.w[3], "5:node is not an object; skipped");
    coll_free(&c);

    /* truncated document: a located whole-file error */
    const char *t =
        "{\"graphs\": [{\"nodes\": [\n{\"id\": \"http://purl.obolibrary.org/obo/X_1\",\n \"lbl\": \"a";
    KZ_CHECK_INT(kz__onto_parse_obograph_mem(t, strlen(t), &sp, on_term, on_warn, &c, NULL, &e), KZ_EPARSE);
    KZ_CHECK_INT(e.line, 3);
    KZ_CHECK(strstr(e.msg, "malformed JSON") != NULL);
    KZ_CHECK_INT(c.n, 0);
    /* unbalanced brackets */
    const char *u = "{\"graphs\": [{\"nodes\": [{\"id\": \"a\"]]}]}";
    KZ_CHECK_INT(kz__onto_parse_obograph_mem(u, strlen(u), &sp, on_term, on_warn, &c, NULL, &e), KZ_EPARSE);
    /* JSON, but not OBO Graphs */
    const char *o = "{\"response\": {\"docs\": []}}";
    KZ_CHECK_INT(kz__onto_parse_obograph_mem(o, strlen(o), &sp, on_term, on_warn, &c, NULL, &e), KZ_EFORMAT);
    KZ_CHECK_INT(kz__onto_parse_obograph_mem("[1]", 3, &sp, on_term, on_warn, &c, NULL, &e), KZ_EFORMAT);
    KZ_CHECK_INT(kz__onto_parse_obograph_mem("{\"graphs\": []} x", 16, &sp, on_term, on_warn, &c, NULL, &e),
                 KZ_EPARSE);
    /* nesting cap */
    char deep[4200];
    int n = sprintf(deep, "{\"graphs\": [{\"meta\": ");
    for (int i = 0; i < 2000; i++) deep[n++] = '[';
    deep[n] = 0;
    KZ_CHECK_INT(kz__onto_parse_obograph_mem(deep, (size_t)n, &sp, on_term, on_warn, &c, NULL, &e),
                 KZ_ELIMIT);
    coll_free(&c);
}

/* ---- OWL RDF/XML ---------------------------------------------------------------------- */
static const char k_owl[] =
    "<?xml version=\"1.0\"?>\n"
    "<rdf:RDF xmlns=\"http://purl.obolibrary.org/obo/go.owl#\"\n"
    "     xml:base=\"http://purl.obolibrary.org/obo/go.owl\"\n"
    "     xmlns:obo=\"http://purl.obolibrary.org/obo/\"\n"
    "     xmlns:owl=\"http://www.w3.org/2002/07/owl#\"\n"
    "     xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"\n"
    "     xmlns:xml=\"http://www.w3.org/XML/1998/namespace\"\n"
    "     xmlns:xsd=\"http://www.w3.org/2001/XMLSchema#\"\n"
    "     xmlns:rdfs=\"http://www.w3.org/2000/01/rdf-schema#\"\n"
    "     xmlns:oboInOwl=\"http://www.geneontology.org/formats/oboInOwl#\">\n" /* 10 */
    "    <owl:Ontology rdf:about=\"http://purl.obolibrary.org/obo/go.owl\">\n"
    "        <owl:versionIRI "
    "rdf:resource=\"http://purl.obolibrary.org/obo/go/releases/2024-09-08/go.owl\"/>\n"
    "        <rdfs:label>should not be a term</rdfs:label>\n"
    "    </owl:Ontology>\n"
    "    <owl:AnnotationProperty "
    "rdf:about=\"http://www.geneontology.org/formats/oboInOwl#hasExactSynonym\">\n"
    "        <rdfs:label "
    "rdf:datatype=\"http://www.w3.org/2001/XMLSchema#string\">has_exact_synonym</rdfs:label>\n"
    "    </owl:AnnotationProperty>\n"
    "    <!-- http://purl.obolibrary.org/obo/GO_0000001 -->\n"
    "    <owl:Class rdf:about=\"http://purl.obolibrary.org/obo/GO_0000001\">\n" /* 19 */
    "        <rdfs:subClassOf rdf:resource=\"http://purl.obolibrary.org/obo/GO_0048308\"/>\n"
    "        <rdfs:subClassOf>\n"
    "            <owl:Restriction>\n"
    "                <owl:onProperty rdf:resource=\"http://purl.obolibrary.org/obo/BFO_0000050\"/>\n"
    "                <owl:someValuesFrom rdf:resource=\"http://purl.obolibrary.org/obo/GO_0000002\"/>\n"
    "                <rdfs:label>nested label is not the class's</rdfs:label>\n"
    "            </owl:Restriction>\n"
    "        </rdfs:subClassOf>\n"
    "        <obo:IAO_0000115 rdf:datatype=\"http://www.w3.org/2001/XMLSchema#string\">The distribution of "
    "mitochondria.</obo:IAO_0000115>\n"
    "        <oboInOwl:hasDbXref "
    "rdf:datatype=\"http://www.w3.org/2001/XMLSchema#string\">Wikipedia:Mitochondrion"
    "</oboInOwl:hasDbXref>\n"
    "        <oboInOwl:hasAlternativeId rdf:datatype=\"http://www.w3.org/2001/XMLSchema#string\">GO:0000099"
    "</oboInOwl:hasAlternativeId>\n"
    "        <oboInOwl:hasExactSynonym "
    "rdf:datatype=\"http://www.w3.org/2001/XMLSchema#string\">mitochondrial "
    "inheritance</oboInOwl:hasExactSynonym>\n"
    "        <oboInOwl:hasRelatedSynonym>mito &amp; &lt;inheritance&gt; &#233;</oboInOwl:hasRelatedSynonym>\n"
    "        <oboInOwl:hasNarrowSynonym><![CDATA[narrow <cdata>]]></oboInOwl:hasNarrowSynonym>\n"
    "        <oboInOwl:hasBroadSynonym>  broad one  </oboInOwl:hasBroadSynonym>\n"
    "        <obo:IAO_0000118>alternative term</obo:IAO_0000118>\n"
    "        <oboInOwl:hasOBONamespace "
    "rdf:datatype=\"http://www.w3.org/2001/XMLSchema#string\">biological_process"
    "</oboInOwl:hasOBONamespace>\n"
    "        <oboInOwl:id rdf:datatype=\"http://www.w3.org/2001/XMLSchema#string\">GO:0000001</oboInOwl:id>\n"
    "        <rdfs:label xml:lang=\"fr\">h\xc3\xa9ritage mitochondrial</rdfs:label>\n"
    "        <rdfs:label rdf:datatype=\"http://www.w3.org/2001/XMLSchema#string\">mitochondrion inheritance"
    "</rdfs:label>\n"
    "    </owl:Class>\n"
    "    <owl:Axiom>\n"
    "        <owl:annotatedSource rdf:resource=\"http://purl.obolibrary.org/obo/GO_0000001\"/>\n"
    "        <owl:annotatedProperty "
    "rdf:resource=\"http://www.geneontology.org/formats/oboInOwl#hasExactSynonym\"/>\n"
    "        <owl:annotatedTarget rdf:datatype=\"http://www.w3.org/2001/XMLSchema#string\">mitochondrial "
    "inheritance</owl:annotatedTarget>\n"
    "        <oboInOwl:hasDbXref "
    "rdf:datatype=\"http://www.w3.org/2001/XMLSchema#string\">GOC:mcc</oboInOwl:hasDbXref>\n"
    "    </owl:Axiom>\n"
    "    <owl:Class rdf:about=\"http://purl.obolibrary.org/obo/GO_0000005\">\n" /* 47 */
    "        <oboInOwl:hasOBONamespace>molecular_function</oboInOwl:hasOBONamespace>\n"
    "        <rdfs:label xml:lang=\"de\">veraltet</rdfs:label>\n"
    "        <owl:deprecated "
    "rdf:datatype=\"http://www.w3.org/2001/XMLSchema#boolean\">true</owl:deprecated>\n"
    "    </owl:Class>\n"
    "    <owl:Class>\n"
    "        <owl:unionOf rdf:parseType=\"Collection\">\n"
    "            <rdf:Description rdf:about=\"http://purl.obolibrary.org/obo/GO_0000006\"/>\n"
    "        </owl:unionOf>\n"
    "    </owl:Class>\n"
    "    <rdf:Description rdf:about=\"http://purl.obolibrary.org/obo/GO_0000007\">\n"
    "        <rdfs:label>description, not a class</rdfs:label>\n"
    "    </rdf:Description>\n"
    "    <owl:Class rdf:about=\"http://purl.obolibrary.org/obo/CL_0000000?a=1&amp;b=2\">\n" /* 60 */
    "        <rdfs:label>cell</rdfs:label>\n"
    "    </owl:Class>\n"
    "</rdf:RDF>\n";

KZ_TEST(owl_classes_synonyms_and_structure) {
    kz_onto_spec sp = spec_of(KZ_ONTO_OWL);
    coll c = {0};
    kz_error e;
    uint64_t nw = 9;
    KZ_CHECK_INT(kz__onto_parse_owl_mem(k_owl, strlen(k_owl), &sp, on_term, on_warn, &c, &nw, &e), 0);
    KZ_CHECK_INT(nw, 0);
    KZ_CHECK_INT(c.n, 2);
    KZ_CHECK_STR(c.t[0],
                 "GO:0000001 \"mitochondrion inheritance\" ns=biological_process syn=[EXACT:mitochondrial "
                 "inheritance;RELATED:mito & <inheritance> \xc3\xa9;NARROW:narrow <cdata>;BROAD:broad one] "
                 "xref=[Wikipedia:Mitochondrion] alt=[GO:0000099] isa=[GO:0048308] @19");
    /* the '&' of an IRI comes back whole; not an OBO id shape, so kept as an IRI */
    KZ_CHECK_STR(c.t[1], "http://purl.obolibrary.org/obo/CL_0000000?a=1&b=2 \"cell\" @60");
    coll_free(&c);
    /* obsolete classes on request (label in another language as the fallback);
     * custom synonym predicates, as a CURIE */
    sp.include_obsolete = true;
    const char *preds[] = {"IAO:0000118", "http://www.geneontology.org/formats/oboInOwl#hasExactSynonym"};
    sp.syn_predicates = preds;
    sp.n_syn_predicates = 2;
    const char *ns[] = {"biological_process", "molecular_function"};
    sp.namespaces = ns;
    sp.n_namespaces = 2;
    KZ_CHECK_INT(kz__onto_parse_owl_mem(k_owl, strlen(k_owl), &sp, on_term, on_warn, &c, NULL, &e), 0);
    KZ_CHECK_INT(c.n, 2);
    KZ_CHECK(strstr(c.t[0], " syn=[EXACT:mitochondrial inheritance;IAO_0000118:alternative term] ") != NULL);
    KZ_CHECK_STR(c.t[1], "GO:0000005 \"veraltet\" ns=molecular_function OBSOLETE @47");
    coll_free(&c);
}

KZ_TEST(owl_refuses_other_xml_malformed_xml_and_entities) {
    kz_onto_spec sp = spec_of(KZ_ONTO_OWL);
    coll c = {0};
    kz_error e;
    const char *notowl = "<?xml version=\"1.0\"?>\n<DescriptorRecordSet/>\n";
    KZ_CHECK_INT(kz__onto_parse_owl_mem(notowl, strlen(notowl), &sp, on_term, on_warn, &c, NULL, &e),
                 KZ_EFORMAT);
    KZ_CHECK(strstr(e.msg, "rdf:RDF") != NULL);
    KZ_CHECK_INT(kz__onto_parse_owl_mem("", 0, &sp, on_term, on_warn, &c, NULL, &e), KZ_EFORMAT);
    /* a class, then broken XML: the class comes out, then a located error */
    const char *broken =
        "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"\n"
        " xmlns:owl=\"http://www.w3.org/2002/07/owl#\"\n"
        " xmlns:rdfs=\"http://www.w3.org/2000/01/rdf-schema#\">\n"
        "<owl:Class rdf:about=\"http://purl.obolibrary.org/obo/X_1\"><rdfs:label>a</rdfs:label>"
        "</owl:Class>\n"
        "<owl:Class rdf:about=\"http://purl.obolibrary.org/obo/X_2\">\n"
        "<rdfs:label>b</rdfs:labl>\n"
        "</owl:Class></rdf:RDF>\n";
    KZ_CHECK_INT(kz__onto_parse_owl_mem(broken, strlen(broken), &sp, on_term, on_warn, &c, NULL, &e),
                 KZ_EPARSE);
    KZ_CHECK_INT(e.line, 6);
    KZ_CHECK_INT(c.n, 1);
    KZ_CHECK_STR(c.t[0], "X:1 \"a\" @4");
    coll_free(&c);
    /* DTD entities are never expanded: an old-style &obo; file is refused, not fetched or expanded */
    const char *ent = "<?xml version=\"1.0\"?>\n"
                      "<!DOCTYPE rdf:RDF [ <!ENTITY obo \"http://purl.obolibrary.org/obo/\" > ]>\n"
                      "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"\n"
                      " xmlns:owl=\"http://www.w3.org/2002/07/owl#\">\n"
                      "<owl:Class rdf:about=\"&obo;X_1\"/>\n"
                      "</rdf:RDF>\n";
    int rc = kz__onto_parse_owl_mem(ent, strlen(ent), &sp, on_term, on_warn, &c, NULL, &e);
    KZ_CHECK(rc < 0);
    KZ_CHECK_INT(c.n, 0);
    coll_free(&c);
}

/* ---- MeSH XML -------------------------------------------------------------------------- */
static const char k_mesh[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE DescriptorRecordSet SYSTEM \"https://www.nlm.nih.gov/databases/dtd/"
    "nlmdescriptorrecordset_20240101.dtd\">\n"
    "<DescriptorRecordSet LanguageCode = \"eng\">\n"
    "<DescriptorRecord DescriptorClass = \"1\">\n" /* 4 */
    " <DescriptorUI>D000001</DescriptorUI>\n"
    " <DescriptorName>\n  <String>Calcimycin</String>\n </DescriptorName>\n"
    " <DateCreated>\n  <Year>1974</Year>\n  <Month>11</Month>\n  <Day>19</Day>\n </DateCreated>\n"
    " <AllowableQualifiersList>\n  <AllowableQualifier>\n   <QualifierReferredTo>\n"
    "    <QualifierUI>Q000302</QualifierUI>\n"
    "    <QualifierName>\n     <String>isolation &amp; purification</String>\n    </QualifierName>\n"
    "   </QualifierReferredTo>\n   <Abbreviation>IP</Abbreviation>\n  </AllowableQualifier>\n"
    " </AllowableQualifiersList>\n"
    " <PharmacologicalActionList>\n  <PharmacologicalAction>\n   <DescriptorReferredTo>\n"
    "    <DescriptorUI>D000900</DescriptorUI>\n"
    "    <DescriptorName>\n     <String>Anti-Bacterial Agents</String>\n    </DescriptorName>\n"
    "   </DescriptorReferredTo>\n  </PharmacologicalAction>\n </PharmacologicalActionList>\n"
    " <TreeNumberList>\n  <TreeNumber>D03.633.100.221.173</TreeNumber>\n </TreeNumberList>\n"
    " <ConceptList>\n"
    "  <Concept PreferredConceptYN=\"Y\">\n"
    "   <ConceptUI>M0000001</ConceptUI>\n"
    "   <ConceptName>\n    <String>Calcimycin</String>\n   </ConceptName>\n"
    "   <RegistryNumber>37H9VM9WZL</RegistryNumber>\n"
    "   <ScopeNote>An ionophorous, polyether antibiotic from Streptomyces chartreusensis.\n   </ScopeNote>\n"
    "   <ConceptRelationList>\n"
    "    <ConceptRelation RelationName=\"NRW\">\n"
    "     <Concept1UI>M0000001</Concept1UI>\n     <Concept2UI>M0353609</Concept2UI>\n"
    "    </ConceptRelation>\n"
    "   </ConceptRelationList>\n"
    "   <TermList>\n"
    "    <Term  ConceptPreferredTermYN=\"Y\"  IsPermutedTermYN=\"N\"  LexicalTag=\"NON\"  "
    "RecordPreferredTermYN=\"Y\">\n"
    "     <TermUI>T000002</TermUI>\n     <String>Calcimycin</String>\n"
    "     <ThesaurusIDlist>\n      <ThesaurusID>NLM (1975)</ThesaurusID>\n     </ThesaurusIDlist>\n"
    "    </Term>\n"
    "    <Term  ConceptPreferredTermYN=\"N\"  IsPermutedTermYN=\"N\"  LexicalTag=\"NON\"  "
    "RecordPreferredTermYN=\"N\">\n"
    "     <TermUI>T000001</TermUI>\n     <String>A-23187</String>\n"
    "    </Term>\n"
    "   </TermList>\n"
    "  </Concept>\n"
    "  <Concept PreferredConceptYN=\"N\">\n"
    "   <ConceptUI>M0353609</ConceptUI>\n"
    "   <ConceptName>\n    <String>A-23187</String>\n   </ConceptName>\n"
    "   <TermList>\n"
    "    <Term ConceptPreferredTermYN=\"Y\" IsPermutedTermYN=\"N\" LexicalTag=\"LAB\" "
    "RecordPreferredTermYN=\"N\">\n"
    "     <TermUI>T000003</TermUI>\n     <String>Antibiotic A23187</String>\n"
    "    </Term>\n"
    "   </TermList>\n"
    "  </Concept>\n"
    "  <Concept PreferredConceptYN=\"N\">\n"
    "   <ConceptUI>M0999999</ConceptUI>\n"
    "   <TermList>\n    <Term><String>Unrelated concept term</String></Term>\n   </TermList>\n"
    "  </Concept>\n"
    " </ConceptList>\n"
    "</DescriptorRecord>\n"
    "<DescriptorRecord DescriptorClass = \"1\">\n" /* 87 */
    " <DescriptorUI>D003920</DescriptorUI>\n"
    " <DescriptorName>\n  <String>Diabetes Mellitus</String>\n </DescriptorName>\n"
    " <TreeNumberList>\n  <TreeNumber>C18.452.394.750</TreeNumber>\n  <TreeNumber>C19.246</TreeNumber>\n"
    " </TreeNumberList>\n"
    " <ConceptList>\n  <Concept PreferredConceptYN=\"Y\">\n   <ConceptUI>M0006155</ConceptUI>\n"
    "   <TermList>\n    <Term><String>Diabetes Mellitus</String></Term>\n"
    "   </TermList>\n  </Concept>\n </ConceptList>\n"
    "</DescriptorRecord>\n"
    "</DescriptorRecordSet>\n";

KZ_TEST(mesh_descriptors_concepts_and_tree_filter) {
    kz_onto_spec sp = spec_of(KZ_ONTO_MESH_XML);
    coll c = {0};
    kz_error e;
    uint64_t nw = 9;
    KZ_CHECK_INT(kz__onto_parse_mesh_xml_mem(k_mesh, strlen(k_mesh), &sp, on_term, on_warn, &c, &nw, &e), 0);
    KZ_CHECK_INT(nw, 0);
    KZ_CHECK_INT(c.n, 2);
    KZ_CHECK_STR(c.t[0], "MESH:D000001 \"Calcimycin\" ns=D syn=[EXACT:A-23187;NARROW:Antibiotic A23187;"
                         "RELATED:Unrelated concept term] meta=[tree_numbers=D03.633.100.221.173] @4");
    KZ_CHECK_STR(c.t[1],
                 "MESH:D003920 \"Diabetes Mellitus\" ns=C meta=[tree_numbers=C18.452.394.750|C19.246] @87");
    coll_free(&c);
    /* namespaces are tree-number prefixes; id_prefix replaces "MESH:" */
    const char *ns[] = {"C19"};
    sp.namespaces = ns;
    sp.n_namespaces = 1;
    sp.id_prefix = "";
    KZ_CHECK_INT(kz__onto_parse_mesh_xml_mem(k_mesh, strlen(k_mesh), &sp, on_term, on_warn, &c, NULL, &e), 0);
    KZ_CHECK_INT(c.n, 1);
    KZ_CHECK(strncmp(c.t[0], "D003920 \"Diabetes Mellitus\"", 27) == 0);
    coll_free(&c);
}

KZ_TEST(mesh_supplementary_records_and_errors) {
    const char *scr =
        "<?xml version=\"1.0\"?>\n"
        "<SupplementalRecordSet LanguageCode = \"eng\">\n"
        "<SupplementalRecord SCRClass = \"1\">\n"
        " <SupplementalRecordUI>C000002</SupplementalRecordUI>\n"
        " <SupplementalRecordName>\n  <String>bevonium</String>\n </SupplementalRecordName>\n"
        " <HeadingMappedToList>\n  <HeadingMappedTo>\n   <DescriptorReferredTo>\n"
        "    <DescriptorUI>*D001561</DescriptorUI>\n"
        "    <DescriptorName>\n     <String>Benzilates</String>\n    </DescriptorName>\n"
        "   </DescriptorReferredTo>\n  </HeadingMappedTo>\n </HeadingMappedToList>\n"
        " <ConceptList>\n  <Concept PreferredConceptYN=\"Y\">\n   <ConceptUI>M0000002</ConceptUI>\n"
        "   <TermList>\n    <Term><String>bevonium</String></Term>\n"
        "    <Term><String>bevonium methyl sulfate</String></Term>\n"
        "   </TermList>\n  </Concept>\n </ConceptList>\n"
        "</SupplementalRecord>\n"
        "</SupplementalRecordSet>\n";
    kz_onto_spec sp = spec_of(KZ_ONTO_MESH_XML);
    coll c = {0};
    kz_error e;
    KZ_CHECK_INT(kz__onto_parse_mesh_xml_mem(scr, strlen(scr), &sp, on_term, on_warn, &c, NULL, &e), 0);
    KZ_CHECK_INT(c.n, 1);
    KZ_CHECK_STR(c.t[0],
                 "MESH:C000002 \"bevonium\" syn=[EXACT:bevonium methyl sulfate] isa=[MESH:D001561] @3");
    coll_free(&c);
    const char *owl = "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"/>";
    KZ_CHECK_INT(kz__onto_parse_mesh_xml_mem(owl, strlen(owl), &sp, on_term, on_warn, &c, NULL, &e),
                 KZ_EFORMAT);
    const char *cut = "<DescriptorRecordSet>\n<DescriptorRecord>\n <DescriptorUI>D1</DescriptorUI>\n";
    KZ_CHECK_INT(kz__onto_parse_mesh_xml_mem(cut, strlen(cut), &sp, on_term, on_warn, &c, NULL, &e),
                 KZ_EPARSE);
    KZ_CHECK_INT(c.n, 0);
    /* entities are never expanded, nor external ones fetched: that record is skipped */
    const char *xxe = "<?xml version=\"1.0\"?>\n"
                      "<!DOCTYPE DescriptorRecordSet SYSTEM \"x.dtd\" [<!ENTITY x SYSTEM \"/etc/passwd\">]>\n"
                      "<DescriptorRecordSet>\n"
                      "<DescriptorRecord><DescriptorUI>D1</DescriptorUI>\n"
                      "<DescriptorName><String>&x;</String></DescriptorName></DescriptorRecord>\n"
                      "<DescriptorRecord><DescriptorUI>D2</DescriptorUI>\n"
                      "<DescriptorName><String>ok &#x1F600;</String></DescriptorName></DescriptorRecord>\n"
                      "</DescriptorRecordSet>\n";
    uint64_t nw = 0;
    KZ_CHECK_INT(kz__onto_parse_mesh_xml_mem(xxe, strlen(xxe), &sp, on_term, on_warn, &c, &nw, &e), 0);
    KZ_CHECK_INT(c.n, 1);
    KZ_CHECK_STR(c.t[0], "MESH:D2 \"ok \xf0\x9f\x98\x80\" @6");
    KZ_CHECK_INT(nw, 1);
    KZ_CHECK_STR(c.w[0], "5:entity reference &x; is not expanded; record skipped");
    coll_free(&c);
    /* from a file, through the dispatcher */
    char path[] = "/tmp/kz_onto_mesh_XXXXXX";
    KZ_CHECK(write_tmp(path, k_mesh, strlen(k_mesh)));
    sp = spec_of(KZ_ONTO_MESH_XML);
    sp.path = path;
    KZ_CHECK_INT(kz__onto_parse(&sp, on_term, on_warn, &c, NULL, &e), 0);
    KZ_CHECK_INT(c.n, 2);
    unlink(path);
    coll_free(&c);
}

/* ---- cellosaurus.txt --------------------------------------------------------------------- */
static const char k_cello[] =
    " ----------------------------------------------------------------------------\n"
    "        CALIPHO group at the SIB - Swiss Institute of Bioinformatics\n"
    " ----------------------------------------------------------------------------\n"
    " Description: Cellosaurus: a knowledge resource on cell lines\n"
    " Version: 48.0\n"
    "\n"
    " ---------  ------------------------------  -----------------------\n"
    " Line code  Content                         Occurrence in an entry\n"
    " ---------  ------------------------------  -----------------------\n"
    " ID         Identifier (cell line name)     Once; starts an entry\n"
    " AC         Accession (CVCL_xxxx)           Once\n"
    " //         Terminator                      Once; ends an entry\n"
    "CC   Part of\n"
    "____________________________________________________________________________\n"
    "ID   HEp-2\n" /* 15 */
    "AC   CVCL_1906\n"
    "AS   CVCL_A1B2; CVCL_C3D4\n"
    "SY   Hep-2; HEP-2; Hep2 (HeLa derivative); HEp-2/HeLa\n"
    "DR   ATCC; CCL-23\n"
    "DR   Cell_Model_Passport; SIDM01208\n"
    "DR   Wikidata; Q54398957\n"
    "CC   Problematic cell line: Contaminated. Shown to be a HeLa derivative (PubMed=4864103).\n"
    "DI   NCIt; C27677; Human papillomavirus-related endocervical adenocarcinoma\n"
    "OX   NCBI_TaxID=9606; ! Homo sapiens (Human)\n"
    "HI   CVCL_0030 ! HeLa\n"
    "SX   Female\n"
    "AG   30Y6M\n"
    "CA   Cancer cell line\n"
    "DT   Created: 04-04-12; Last updated: 05-10-23; Version: 36\n"
    "//\n"
    "ID   #15310-LN\n" /* 31 */
    "AC   CVCL_E548\n"
    "this is not a field line\n"
    "OX   NCBI_TaxID=10090; ! Mus musculus (Mouse)\n"
    "OX   NCBI_TaxID=10116; ! Rattus norvegicus (Rat)\n"
    "CA   Hybrid cell line\n"
    "//\n"
    "ID   no accession\n" /* 38 */
    "SY   x\n"
    "//\n"
    "ID   truncated\n" /* 41 */
    "AC   CVCL_ZZZZ\n";

KZ_TEST(cellosaurus_records_fields_and_warnings) {
    kz_onto_spec sp = spec_of(KZ_ONTO_CELLOSAURUS);
    coll c = {0};
    kz_error e;
    uint64_t nw = 0;
    KZ_CHECK_INT(kz__onto_parse_cellosaurus_mem(k_cello, strlen(k_cello), &sp, on_term, on_warn, &c, &nw, &e),
                 0);
    KZ_CHECK_INT(c.n, 2);
    KZ_CHECK_STR(c.t[0],
                 "CVCL_1906 \"HEp-2\" syn=[RELATED:Hep-2;RELATED:HEP-2;RELATED:Hep2 (HeLa derivative);"
                 "RELATED:HEp-2/HeLa] xref=[ATCC:CCL-23;Cell_Model_Passport:SIDM01208;Wikidata:Q54398957] "
                 "alt=[CVCL_A1B2;CVCL_C3D4] isa=[CVCL_0030] meta=[sex=Female;category=Cancer cell line;"
                 "ncbi_taxid=9606;species=Homo sapiens (Human)] @15");
    KZ_CHECK_STR(c.t[1], "CVCL_E548 \"#15310-LN\" meta=[category=Hybrid cell line;ncbi_taxid=10090|10116;"
                         "species=Mus musculus (Mouse)|Rattus norvegicus (Rat)] @31");
    KZ_CHECK_INT(nw, 3);
    KZ_CHECK_STR(c.w[0], "33:not a \"XX   value\" line; line skipped");
    KZ_CHECK_STR(c.w[1], "38:record without an id; skipped");
    KZ_CHECK_STR(c.w[2], "41:last record not terminated by \"//\"; skipped");
    coll_free(&c);
    /* not Cellosaurus */
    KZ_CHECK_INT(kz__onto_parse_cellosaurus_mem(k_obo, strlen(k_obo), &sp, on_term, on_warn, &c, NULL, &e),
                 KZ_EFORMAT);
    /* from a file through the dispatcher, with id_regex */
    char path[] = "/tmp/kz_onto_cello_XXXXXX";
    KZ_CHECK(write_tmp(path, k_cello, strlen(k_cello)));
    sp.path = path;
    sp.id_regex = "^CVCL_E";
    KZ_CHECK_INT(kz__onto_parse(&sp, on_term, NULL, &c, &nw, &e), 0);
    KZ_CHECK_INT(nw, 3);
    KZ_CHECK_INT(c.n, 1);
    KZ_CHECK(strncmp(c.t[0], "CVCL_E548 ", 10) == 0);
    unlink(path);
    coll_free(&c);
}

KZ_TEST(cellosaurus_obo_goes_through_the_obo_parser) {
    const char *obo = "format-version: 1.2\n"
                      "data-version: 48.0\n"
                      "ontology: Cellosaurus\n"
                      "\n"
                      "[Term]\n"
                      "id: CVCL_0030\n"
                      "name: HeLa\n"
                      "synonym: \"HELA\" RELATED []\n"
                      "synonym: \"Henrietta Lacks cells\" RELATED []\n"
                      "subset: Cancer_cell_line\n"
                      "subset: Female\n"
                      "xref: ATCC:CCL-2\n"
                      "xref: NCBI_TaxID:9606 ! Homo sapiens (Human)\n"
                      "comment: \"Problematic cell line: Contaminated.\"\n"
                      "creation_date: 2012-04-04T00:00:00Z\n";
    kz_onto_spec sp = spec_of(KZ_ONTO_OBO);
    coll c = {0};
    kz_error e;
    KZ_CHECK_INT(parse_obo(obo, &sp, &c, NULL, &e), 0);
    KZ_CHECK_INT(c.n, 1);
    KZ_CHECK_STR(c.t[0], "CVCL_0030 \"HeLa\" syn=[RELATED:HELA;RELATED:Henrietta Lacks cells] "
                         "xref=[ATCC:CCL-2;NCBI_TaxID:9606] @5");
    coll_free(&c);
}

KZ_TEST(onto_iri_to_curie) {
    kz_buf b;
    kz__buf_init(&b, 0);
    KZ_CHECK_INT(kz__onto_iri_to_curie("http://purl.obolibrary.org/obo/MONDO_0000001", 44, &b), 0);
    KZ_CHECK_STR(b.data, "MONDO:0000001");
    const char *t = "http://purl.obolibrary.org/obo/NCBITaxon_9606";
    KZ_CHECK_INT(kz__onto_iri_to_curie(t, strlen(t), &b), 0);
    KZ_CHECK_STR(b.data, "NCBITaxon:9606");
    t = "http://www.ebi.ac.uk/efo/EFO_0000400";
    KZ_CHECK_INT(kz__onto_iri_to_curie(t, strlen(t), &b), 0);
    KZ_CHECK_STR(b.data, "EFO:0000400");
    t = "http://www.orpha.net/ORDO/Orphanet_558";
    KZ_CHECK_INT(kz__onto_iri_to_curie(t, strlen(t), &b), 0);
    KZ_CHECK_STR(b.data, "Orphanet:558");
    const char *keep[] = {"http://purl.obolibrary.org/obo/uberon/core#part_of",
                          "http://purl.obolibrary.org/obo/X_", "http://purl.obolibrary.org/obo/_1",
                          "GO:0008150", ""};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        KZ_CHECK_INT(kz__onto_iri_to_curie(keep[i], strlen(keep[i]), &b), 0);
        KZ_CHECK_STR(b.data, keep[i]);
    }
    kz__buf_free(&b);
}
