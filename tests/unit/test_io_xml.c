/* XML formats: PubMed/MEDLINE reader, BioC reader and writer, hostile input
 * (truncation, XXE, entity bombs), gzip input and the BioC round trip. */
#include <zlib.h>
#include "kz_test.h"
#include "kazu/kazu.h"
#include "io/xml_int.h"

#define GOLD KZ_SOURCE_DIR "/tests/golden/xml/"

/* Everything a reader yields: documents and errors, in order. */
typedef struct {
    kz_doc *docs[64];
    int n_docs;
    kz_error errs[16];
    int err_after[16]; /* number of docs read before each error */
    int n_errs;
} results;

static void drain(kz_reader *r, results *res) {
    memset(res, 0, sizeof *res);
    for (int guard = 0; guard < 1000; guard++) {
        kz_doc *d = NULL;
        kz_error e;
        int rc = kz_reader_next(r, &d, &e);
        if (rc == 0) break;
        if (rc == 1) {
            if (res->n_docs < 64)
                res->docs[res->n_docs++] = d;
            else
                kz_doc_free(d);
        } else if (res->n_errs < 16) {
            res->err_after[res->n_errs] = res->n_docs;
            res->errs[res->n_errs++] = e;
        }
    }
}

static void free_results(results *res) {
    for (int i = 0; i < res->n_docs; i++) kz_doc_free(res->docs[i]);
    res->n_docs = 0;
}

static int read_mem(const char *data, size_t len, kz_format fmt, const kz_reader_params *p, results *res) {
    kz_reader *r;
    kz_error e;
    int rc = kz_reader_open_mem(&r, data, len, "mem.xml", fmt, p, &e);
    if (rc) return rc;
    drain(r, res);
    kz_reader_close(r);
    return 0;
}

static int read_path(const char *path, kz_format fmt, results *res, int64_t *n_deleted) {
    kz_reader *r;
    kz_error e;
    int rc = kz_reader_open_path(&r, path, fmt, NULL, &e);
    if (rc) return rc;
    drain(r, res);
    if (n_deleted) *n_deleted = kz__pubmed_xml_n_deleted(r);
    kz_reader_close(r);
    return 0;
}

static const kz_section *section(const kz_doc *d, const char *name) {
    for (uint32_t i = 0; i < d->n_sections; i++)
        if (kz_str_eq_c(d->sections[i]->name, name)) return d->sections[i];
    return NULL;
}

static bool contains(kz_str s, const char *needle) {
    return s.ptr && memmem(s.ptr, s.len, needle, strlen(needle)) != NULL;
}

/* gzip-compress with zlib (windowBits 31 = gzip wrapper); malloc'd. */
static unsigned char *gzip_mem(const char *data, size_t len, size_t *out_len) {
    z_stream zs = {0};
    if (deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t cap = deflateBound(&zs, (uLong)len) + 64;
    unsigned char *out = malloc(cap);
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

/* ---- PubMed ------------------------------------------------------------------ */

static const char *k_title1 = "Effect of BRCA1 on Ca2+ signalling in Müller cells & the β-cell.";
static const char *k_abstract1 = "BACKGROUND: Straße cells express TP53 (p<0.05).\n"
                                 "METHODS: We measured H2O and α levels 😀.\n"
                                 "CONCLUSIONS: Café-au-lait spots were rare.";

static void check_sample_docs(results *res) {
    KZ_CHECK_INT(res->n_errs, 0);
    KZ_CHECK_INT(res->n_docs, 3);
    const kz_doc *d = res->docs[0];
    KZ_CHECK_KSTR(d->idx, "10000001");
    KZ_CHECK_INT(d->n_sections, 2);
    KZ_CHECK_KSTR(d->sections[0]->name, "title");
    KZ_CHECK_KSTR(d->sections[0]->text, k_title1);
    KZ_CHECK_KSTR(d->sections[1]->name, "abstract");
    KZ_CHECK_KSTR(d->sections[1]->text, k_abstract1);
    KZ_CHECK_KSTR(kz_meta_get(&d->metadata, "journal"), "\"Journal of Invented Results\"");
    KZ_CHECK_KSTR(kz_meta_get(&d->metadata, "year"), "1998");
    KZ_CHECK_KSTR(kz_meta_get(&d->metadata, "pmid_version"), "1");
    KZ_CHECK_KSTR(kz_meta_get(&d->metadata, "language"), "\"eng\"");
    KZ_CHECK_KSTR(kz_meta_get(&d->metadata, "doi"), "\"10.1000/xyz.1\"");

    d = res->docs[1]; /* no abstract: a title-only document */
    KZ_CHECK_KSTR(d->idx, "10000002");
    KZ_CHECK_INT(d->n_sections, 1);
    KZ_CHECK_KSTR(d->sections[0]->text, "A title-only article about κ-opioid receptors.");
    KZ_CHECK_KSTR(kz_meta_get(&d->metadata, "year"), "2001");
    KZ_CHECK_KSTR(kz_meta_get(&d->metadata, "pmid_version"), "2");
    KZ_CHECK_KSTR(kz_meta_get(&d->metadata, "language"), "\"ger\"");
    KZ_CHECK(kz_meta_get(&d->metadata, "doi").ptr == NULL);

    d = res->docs[2];
    KZ_CHECK_KSTR(d->idx, "10000003");
    KZ_CHECK_KSTR(section(d, "abstract")->text, "First paragraph.\nSecond <raw> & cdata paragraph.");
    KZ_CHECK_KSTR(kz_meta_get(&d->metadata, "year"), "2020");
}

KZ_TEST(pubmed_sample) {
    results res;
    int64_t deleted = -1;
    KZ_CHECK_INT(read_path(GOLD "medline_sample.xml", KZ_FORMAT_UNKNOWN, &res, &deleted), 0);
    check_sample_docs(&res);
    KZ_CHECK_INT(deleted, 2);
    free_results(&res);
}

KZ_TEST(pubmed_gzip_mem_and_file) {
    size_t len, zlen;
    char *xml = kz_test_read_file(GOLD "medline_sample.xml", &len);
    KZ_CHECK(xml != NULL);
    unsigned char *gz = gzip_mem(xml, len, &zlen);
    KZ_CHECK(gz != NULL);
    results res;
    KZ_CHECK_INT(read_mem((const char *)gz, zlen, KZ_FORMAT_PUBMED_XML, NULL, &res), 0);
    check_sample_docs(&res);
    free_results(&res);

    char path[] = "/tmp/kz_test_medline_XXXXXX";
    int fd = mkstemp(path);
    KZ_CHECK(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    fwrite(gz, 1, zlen, f);
    fclose(f);
    KZ_CHECK_INT(read_path(path, KZ_FORMAT_PUBMED_XML, &res, NULL), 0);
    check_sample_docs(&res);
    free_results(&res);
    unlink(path);
    free(gz);
    free(xml);
}

KZ_TEST(pubmed_malformed_keeps_earlier_docs) {
    results res;
    KZ_CHECK_INT(read_path(GOLD "medline_malformed.xml", KZ_FORMAT_PUBMED_XML, &res, NULL), 0);
    KZ_CHECK_INT(res.n_docs, 2);
    KZ_CHECK_KSTR(res.docs[0]->idx, "1");
    KZ_CHECK_KSTR(res.docs[1]->idx, "2");
    KZ_CHECK_INT(res.n_errs, 1);
    KZ_CHECK_INT(res.err_after[0], 2);
    const kz_error *e = &res.errs[0];
    KZ_CHECK_INT(e->code, KZ_EPARSE);
    KZ_CHECK(strstr(e->path, "medline_malformed.xml") != NULL);
    KZ_CHECK_INT(e->line, 5);
    KZ_CHECK(e->column > 0);
    KZ_CHECK(strstr(e->msg, "mismatch") != NULL); /* libxml2's own words */
    char buf[800];
    kz_error_format(e, buf, sizeof buf);
    KZ_CHECK(strstr(buf, "medline_malformed.xml:5:") != NULL);
    free_results(&res);
}

/* Every prefix of the sample: never a crash, docs are a prefix of the full
 * list, and a cut inside the document always ends with a located error. */
KZ_TEST(pubmed_truncated_prefixes) {
    size_t len;
    char *xml = kz_test_read_file(GOLD "medline_sample.xml", &len);
    KZ_CHECK(xml != NULL);
    const char *ids[] = {"10000001", "10000002", "10000003"};
    const char *end2 = strstr(strstr(xml, "10000002"), "</PubmedArticle>") + strlen("</PubmedArticle>");
    int prev = 0;
    for (size_t cut = 1; cut < len - 2; cut += 7) {
        results res;
        KZ_CHECK_INT(read_mem(xml, cut, KZ_FORMAT_PUBMED_XML, NULL, &res), 0);
        KZ_CHECK(res.n_docs >= prev);
        prev = res.n_docs;
        for (int i = 0; i < res.n_docs; i++) KZ_CHECK_KSTR(res.docs[i]->idx, ids[i]);
        KZ_CHECK_INT(res.n_errs, 1);
        KZ_CHECK(res.errs[0].line > 0);
        if (xml + cut >= end2) KZ_CHECK(res.n_docs >= 2); /* complete articles are never lost */
        free_results(&res);
    }
    free(xml);
}

KZ_TEST(pubmed_bare_medline_citation) {
    results res;
    int64_t deleted = 0;
    KZ_CHECK_INT(read_path(GOLD "medline_bare.xml", KZ_FORMAT_UNKNOWN, &res, &deleted), 0);
    KZ_CHECK_INT(res.n_errs, 0);
    KZ_CHECK_INT(res.n_docs, 1);
    KZ_CHECK_KSTR(res.docs[0]->idx, "42");
    KZ_CHECK_KSTR(section(res.docs[0], "title")->text, "Bare citation.");
    KZ_CHECK_KSTR(section(res.docs[0], "abstract")->text, "Old format.");
    KZ_CHECK_INT(deleted, 1);
    free_results(&res);
}

KZ_TEST(pubmed_record_cap) {
    size_t len;
    char *xml = kz_test_read_file(GOLD "medline_sample.xml", &len);
    kz_reader_params p = kz_reader_default_params();
    p.max_record_bytes = 150; /* article 1 holds ~250 bytes of text, the others less */
    results res;
    KZ_CHECK_INT(read_mem(xml, len, KZ_FORMAT_PUBMED_XML, &p, &res), 0);
    KZ_CHECK_INT(res.n_errs, 1);
    KZ_CHECK_INT(res.errs[0].code, KZ_ELIMIT);
    KZ_CHECK_STR(res.errs[0].doc_id, "10000001");
    KZ_CHECK_INT(res.n_docs, 2);
    KZ_CHECK_KSTR(res.docs[0]->idx, "10000002");
    KZ_CHECK_KSTR(res.docs[1]->idx, "10000003");
    free_results(&res);
    free(xml);
}

static void check_no_secret(const results *res) {
    for (int i = 0; i < res->n_docs; i++)
        for (uint32_t k = 0; k < res->docs[i]->n_sections; k++)
            if (contains(res->docs[i]->sections[k]->text, "TOP-SECRET"))
                kz_test_fail(__FILE__, __LINE__, "XXE leaked a file");
}

KZ_TEST(pubmed_xxe_internal_subset) {
    results res;
    KZ_CHECK_INT(read_path(GOLD "xxe.xml", KZ_FORMAT_PUBMED_XML, &res, NULL), 0);
    check_no_secret(&res);
    KZ_CHECK_INT(res.n_docs, 1); /* an undeclared entity is fatal in XML: the stream ends */
    KZ_CHECK_KSTR(res.docs[0]->idx, "1");
    KZ_CHECK_INT(res.n_errs, 1);
    KZ_CHECK(strstr(res.errs[0].msg, "xxe") != NULL);
    KZ_CHECK_INT(res.errs[0].line, 7);
    free_results(&res);
}

KZ_TEST(pubmed_xxe_external_dtd) {
    results res;
    KZ_CHECK_INT(read_path(GOLD "xxe_extdtd.xml", KZ_FORMAT_PUBMED_XML, &res, NULL), 0);
    check_no_secret(&res);
    KZ_CHECK_INT(res.n_docs, 2); /* only the article using the entity is refused */
    KZ_CHECK_KSTR(res.docs[0]->idx, "1");
    KZ_CHECK_KSTR(res.docs[1]->idx, "3");
    KZ_CHECK_KSTR(res.docs[1]->sections[0]->text, "After & fine.");
    KZ_CHECK_INT(res.n_errs, 1);
    KZ_CHECK_STR(res.errs[0].doc_id, "2");
    KZ_CHECK(strstr(res.errs[0].msg, "&xxe;") != NULL);
    free_results(&res);
}

KZ_TEST(pubmed_empty_input) {
    results res;
    KZ_CHECK_INT(read_mem("", 0, KZ_FORMAT_PUBMED_XML, NULL, &res), 0);
    KZ_CHECK_INT(res.n_docs, 0);
    KZ_CHECK_INT(res.n_errs, 0);
}

/* ---- BioC reader ---------------------------------------------------------------- */

static void check_bioc_sample(results *res) {
    KZ_CHECK_INT(res->n_errs, 0);
    KZ_CHECK_INT(res->n_docs, 2);
    const kz_doc *d = res->docs[0];
    KZ_CHECK_KSTR(d->idx, "PMC1");
    KZ_CHECK_KSTR(kz_meta_get(&d->metadata, "infons"), "{\"journal\":\"Fictional Reports\"}");
    KZ_CHECK_KSTR(
        kz_meta_get(&d->metadata, "relations"),
        "[{\"id\":\"R1\",\"infons\":{\"type\":\"Association\"},\"nodes\":[{\"refid\":\"1\",\"role\":"
        "\"Disease\"},"
        "{\"refid\":\"2\",\"role\":\"Gene\"}]},{\"id\":\"R2\",\"infons\":{\"type\":\"Bind\"},\"nodes\":[]}]");
    KZ_CHECK(kz_meta_get(&d->metadata, "reader_warnings").ptr == NULL);
    KZ_CHECK_INT(d->n_sections, 2);
    const kz_section *t = d->sections[0], *a = d->sections[1];
    KZ_CHECK_KSTR(t->name, "title");
    KZ_CHECK_KSTR(t->text, "Café ß-thalassemia and BRCA1 in mice");
    KZ_CHECK_INT(t->n_entities, 2);
    const kz_entity *e = t->entities[0];
    KZ_CHECK_KSTR(e->match, "ß-thalassemia");
    KZ_CHECK_KSTR(e->entity_class, "Disease");
    KZ_CHECK_KSTR(e->namespace_, "BioC");
    KZ_CHECK_INT(e->n_spans, 1);
    KZ_CHECK_INT(e->spans[0].start, 6); /* "Café " is 5 code points, 6 bytes */
    KZ_CHECK_INT(e->spans[0].end, 20);
    KZ_CHECK_INT(e->n_mappings, 1);
    KZ_CHECK_KSTR(e->mappings[0].idx, "MESH:D013789");
    KZ_CHECK_KSTR(e->mappings[0].source, "MESH");
    KZ_CHECK_KSTR(e->mappings[0].parser_name, "BioC");
    KZ_CHECK_KSTR(e->mappings[0].string_match_strategy, "gold");
    KZ_CHECK_INT(e->mappings[0].string_match_confidence, KZ_SMC_HIGHLY_LIKELY);
    KZ_CHECK_KSTR(kz_meta_get(&e->metadata, "bioc_id"), "\"1\"");
    e = t->entities[1];
    KZ_CHECK_KSTR(e->match, "BRCA1");
    KZ_CHECK_KSTR(e->mappings[0].source, "NCBI Gene");
    KZ_CHECK_KSTR(e->mappings[0].idx, "672");
    KZ_CHECK_KSTR(kz_meta_get(&e->metadata, "note"), "\"R&D \\\"quoted\\\"\"");

    KZ_CHECK_KSTR(a->name, "abstract");
    KZ_CHECK_KSTR(kz_meta_get(&a->metadata, "section_type"), "\"ABSTRACT\"");
    KZ_CHECK_KSTR(a->text, "Breast and ovarian cancer 😀 risk: α-synuclein <high>.");
    KZ_CHECK_INT(a->n_sentence_spans, 2);
    KZ_CHECK_INT(a->sentence_spans[0].start, 0);
    KZ_CHECK_INT(a->sentence_spans[0].end, 36); /* 33 code points, the emoji is 4 bytes */
    KZ_CHECK_INT(a->sentence_spans[1].start, 37);
    KZ_CHECK_INT(a->sentence_spans[1].end, (int64_t)a->text.len);
    KZ_CHECK_INT(a->n_entities, 2);
    e = a->entities[0]; /* annotation inside a sentence, first in the file */
    KZ_CHECK_KSTR(e->match, "α-synuclein");
    KZ_CHECK_INT(e->n_mappings, 0); /* identifier "-" means none */
    e = a->entities[1];             /* non-contiguous: two locations */
    KZ_CHECK_KSTR(e->match, "Breast cancer");
    KZ_CHECK_INT(e->n_spans, 2);
    KZ_CHECK_INT(e->spans[0].start, 0);
    KZ_CHECK_INT(e->spans[0].end, 6);
    KZ_CHECK_INT(e->spans[1].start, 19);
    KZ_CHECK_INT(e->spans[1].end, 25);
    KZ_CHECK_INT(e->n_mappings, 2);
    KZ_CHECK_KSTR(e->mappings[1].idx, "MESH:D010051");

    d = res->docs[1]; /* passage given only as sentences */
    KZ_CHECK_KSTR(d->idx, "sentences-only");
    const kz_section *s = d->sections[0];
    KZ_CHECK_KSTR(s->name, "passage0");
    KZ_CHECK_KSTR(s->text, "Ein Satz.   Zwei €.");
    KZ_CHECK_INT(s->n_sentence_spans, 2);
    KZ_CHECK_INT(s->sentence_spans[1].start, 12);
    KZ_CHECK_INT(s->sentence_spans[1].end, 21);
    KZ_CHECK_INT(s->n_entities, 1);
    KZ_CHECK_KSTR(s->entities[0]->match, "€");
    KZ_CHECK_INT(s->entities[0]->spans[0].start, 17);
    KZ_CHECK_INT(s->entities[0]->n_mappings, 2);
    KZ_CHECK_KSTR(s->entities[0]->mappings[1].source, "CHEBI");
    KZ_CHECK_KSTR(s->entities[0]->mappings[1].idx, "CHEBI:2");
}

KZ_TEST(bioc_sample) {
    results res;
    KZ_CHECK_INT(read_path(GOLD "bioc_sample.xml", KZ_FORMAT_UNKNOWN, &res, NULL), 0);
    check_bioc_sample(&res);
    free_results(&res);
}

static const char *k_bioc_head =
    "<?xml version=\"1.0\"?><collection><source>s</source><date>d</date><key>k</key>";

KZ_TEST(bioc_bad_annotations_and_documents) {
    char xml[4096];
    snprintf(xml, sizeof xml,
             "%s<document><id>a</id><passage><offset>0</offset><text>abc</text></passage></document>\n"
             /* annotations that cannot be placed are dropped with a warning; the document stays */
             "<document><id>b</id><passage><offset>10</offset><text>abc</text>\n"
             "<annotation id=\"7\"><infon key=\"type\">X</infon><location offset=\"12\" "
             "length=\"2\"/></annotation>\n"
             "<annotation id=\"8\"><location offset=\"10\" length=\"1\"/></annotation>\n"
             "<annotation id=\"9\"><infon key=\"type\">X</infon><location offset=\"10\" "
             "length=\"1\"/><text>z</text></annotation>\n"
             "<annotation id=\"10\"><infon key=\"type\">X</infon><location offset=\"x\" "
             "length=\"1\"/></annotation>\n"
             "<annotation id=\"11\"><infon key=\"type\">X</infon><location offset=\"11\" "
             "length=\"2\"/><text>bc</text></annotation>\n"
             "</passage></document>\n"
             /* a passage offset that is not a number spoils the whole document */
             "<document><id>d</id><passage><offset>zero</offset></passage></document>\n"
             "<document><id>e</id><passage><text>ok</text></passage><passage><text>next</text>"
             "<annotation><infon key=\"type\">Y</infon><location offset=\"3\" "
             "length=\"4\"/></annotation></passage></document></collection>",
             k_bioc_head);
    results res;
    kz_reader *r;
    kz_error e;
    KZ_CHECK_INT(kz_reader_open_mem(&r, xml, strlen(xml), "mem.xml", KZ_FORMAT_BIOC_XML, NULL, &e), 0);
    drain(r, &res);
    KZ_CHECK_INT(kz_reader_warnings(r), 4);
    kz_reader_close(r);
    KZ_CHECK_INT(res.n_docs, 3);
    KZ_CHECK_KSTR(res.docs[0]->idx, "a");
    const kz_doc *b = res.docs[1];
    KZ_CHECK_KSTR(b->idx, "b");
    KZ_CHECK_INT(b->sections[0]->n_entities, 1);
    KZ_CHECK_KSTR(b->sections[0]->entities[0]->match, "bc");
    kz_str w = kz_meta_get(&b->metadata, "reader_warnings");
    KZ_CHECK(contains(w, "line 3: annotation \\\"7\\\": location [12, +2) is outside passage"));
    KZ_CHECK(contains(w, "line 4: annotation \\\"8\\\" has no <infon key=\\\"type\\\">"));
    KZ_CHECK(contains(w, "text \\\"z\\\" differs from the passage text \\\"a\\\""));
    KZ_CHECK(contains(w, "needs integer offset and length"));
    KZ_CHECK_INT(res.n_errs, 1);
    KZ_CHECK_INT(res.errs[0].code, KZ_EPARSE);
    KZ_CHECK_STR(res.errs[0].doc_id, "d");
    KZ_CHECK(strstr(res.errs[0].msg, "'zero'") != NULL);
    KZ_CHECK_INT(res.errs[0].line, 9);
    KZ_CHECK(res.errs[0].column > 0);
    const kz_doc *d = res.docs[2]; /* passages without <offset> follow each other, one apart */
    KZ_CHECK_KSTR(d->idx, "e");
    KZ_CHECK_INT(d->sections[1]->n_entities, 1);
    KZ_CHECK_KSTR(d->sections[1]->entities[0]->match, "next");
    free_results(&res);
}

KZ_TEST(bioc_truncated_and_not_bioc) {
    size_t len;
    char *xml = kz_test_read_file(GOLD "bioc_sample.xml", &len);
    const char *cut = strstr(xml, "<id>sentences-only</id>");
    results res;
    KZ_CHECK_INT(read_mem(xml, (size_t)(cut - xml), KZ_FORMAT_BIOC_XML, NULL, &res), 0);
    KZ_CHECK_INT(res.n_docs, 1);
    KZ_CHECK_KSTR(res.docs[0]->idx, "PMC1");
    KZ_CHECK_INT(res.n_errs, 1);
    KZ_CHECK_INT(res.errs[0].code, KZ_EPARSE);
    KZ_CHECK(res.errs[0].line > 60);
    free_results(&res);
    free(xml);

    const char *other = "<?xml version=\"1.0\"?><html><body>hi</body></html>";
    KZ_CHECK_INT(read_mem(other, strlen(other), KZ_FORMAT_BIOC_XML, NULL, &res), 0);
    KZ_CHECK_INT(res.n_docs, 0);
    KZ_CHECK_INT(res.n_errs, 1);
    KZ_CHECK_INT(res.errs[0].code, KZ_EFORMAT);
}

KZ_TEST(bioc_billion_laughs_not_expanded) {
    results res;
    KZ_CHECK_INT(read_path(GOLD "billion_laughs.xml", KZ_FORMAT_BIOC_XML, &res, NULL), 0);
    KZ_CHECK_INT(res.n_docs, 1);
    KZ_CHECK_KSTR(res.docs[0]->idx, "ok1");
    KZ_CHECK_INT(res.n_errs, 1);
    KZ_CHECK(strstr(res.errs[0].msg, "lol9") != NULL);
    free_results(&res);
}

/* ---- BioC writer ---------------------------------------------------------------- */

/* Write docs as BioC into a malloc'd string, with the date replaced by
 * 00000000 so outputs compare across days. */
static char *write_bioc(kz_doc *const *docs, int n, size_t *len) {
    char *out = NULL;
    FILE *f = open_memstream(&out, len);
    kz_writer *w;
    kz_error e;
    if (kz_writer_open_file(&w, f, "mem", KZ_FORMAT_BIOC_XML, NULL, &e)) return NULL;
    for (int i = 0; i < n; i++)
        if (kz_writer_write(w, docs[i], &e)) return NULL;
    if (kz_writer_close(w, &e)) return NULL;
    fclose(f);
    char *date = strstr(out, "<date>");
    if (date) memset(date + 6, '0', 8);
    return out;
}

static bool same_meta(const kz_meta *a, const kz_meta *b) {
    if (a->n != b->n) return false;
    for (uint32_t i = 0; i < a->n; i++)
        if (!kz_str_eq(a->items[i].key, b->items[i].key) || !kz_str_eq(a->items[i].value, b->items[i].value))
            return false;
    return true;
}

/* What BioC carries must survive doc -> BioC -> doc. */
static bool same_doc(const kz_doc *a, const kz_doc *b) {
    if (!kz_str_eq(a->idx, b->idx) || a->n_sections != b->n_sections ||
        !same_meta(&a->metadata, &b->metadata))
        return false;
    for (uint32_t i = 0; i < a->n_sections; i++) {
        const kz_section *x = a->sections[i], *y = b->sections[i];
        if (!kz_str_eq(x->text, y->text) || !kz_str_eq(x->name, y->name) ||
            !same_meta(&x->metadata, &y->metadata) || x->n_entities != y->n_entities ||
            x->n_sentence_spans != y->n_sentence_spans)
            return false;
        for (uint32_t k = 0; k < x->n_sentence_spans; k++)
            if (x->sentence_spans[k].start != y->sentence_spans[k].start ||
                x->sentence_spans[k].end != y->sentence_spans[k].end)
                return false;
        for (uint32_t k = 0; k < x->n_entities; k++) {
            const kz_entity *p = x->entities[k], *q = y->entities[k];
            if (!kz_str_eq(p->match, q->match) || !kz_str_eq(p->entity_class, q->entity_class) ||
                p->n_spans != q->n_spans || p->n_mappings != q->n_mappings ||
                !same_meta(&p->metadata, &q->metadata))
                return false;
            for (uint32_t j = 0; j < p->n_spans; j++)
                if (p->spans[j].start != q->spans[j].start || p->spans[j].end != q->spans[j].end)
                    return false;
            for (uint32_t j = 0; j < p->n_mappings; j++)
                if (!kz_str_eq(p->mappings[j].idx, q->mappings[j].idx) ||
                    !kz_str_eq(p->mappings[j].source, q->mappings[j].source))
                    return false;
        }
    }
    return true;
}

KZ_TEST(bioc_round_trip_and_golden) {
    results a, b;
    KZ_CHECK_INT(read_path(GOLD "bioc_sample.xml", KZ_FORMAT_BIOC_XML, &a, NULL), 0);
    size_t len1, len2;
    char *out1 = write_bioc(a.docs, a.n_docs, &len1);
    KZ_CHECK(out1 != NULL);
    size_t glen;
    char *gold = kz_test_read_file(GOLD "bioc_sample.expected.xml", &glen);
    KZ_CHECK(gold != NULL);
    KZ_CHECK_STR(out1, gold);
    KZ_CHECK_INT(read_mem(out1, len1, KZ_FORMAT_UNKNOWN, NULL, &b), 0);
    KZ_CHECK_INT(b.n_errs, 0);
    KZ_CHECK_INT(b.n_docs, a.n_docs);
    for (int i = 0; i < a.n_docs; i++) KZ_CHECK(same_doc(a.docs[i], b.docs[i]));
    check_bioc_sample(&b);
    char *out2 = write_bioc(b.docs, b.n_docs, &len2);
    KZ_CHECK_STR(out2, out1); /* BioC -> doc -> BioC is a fixed point */
    free(out1);
    free(out2);
    free(gold);
    free_results(&a);
    free_results(&b);
}

KZ_TEST(bioc_writer_escapes_and_keeps_offsets) {
    /* Controls and U+FFFE cannot appear in XML 1.0; CR must survive parsing. */
    const char text[] = "a\x01"
                        "b\r\nc & <d> \"]]>\" \t\xEF\xBF\xBE"
                        "BRCA1 é";
    kz_doc *d = kz_doc_new("id<&>\"", 6);
    kz_section *sec;
    kz_error e;
    KZ_CHECK_INT(kz_doc_add_section(d, "we\"ird <name>", 13, text, sizeof text - 1, &sec, &e), 0);
    KZ_CHECK_INT(kz_meta_set_string(d, &d->metadata, kz_str_c("k\"ey"), kz_str_c("v\x02")), 0);
    KZ_CHECK_INT(kz_meta_set_json(d, &sec->metadata, kz_str_c("n"), kz_str_c("[1, 2]")), 0);
    const char *gene = strstr(text, "BRCA1");
    kz_span sp[2] = {{gene - text, gene - text + 5}, {0, 1}};
    kz_entity *ent;
    kz_entity_init init = {.spans = sp,
                           .n_spans = 2,
                           .join_str = " ",
                           .entity_class = kz_str_c("gene&co"),
                           .namespace_ = kz_str_c("t"),
                           .mention_confidence = KZ_MENTION_HIGHLY_LIKELY};
    KZ_CHECK_INT(kz_section_add_entity(d, sec, &init, &ent, &e), 0);
    kz_mapping m = {.idx = kz_str_c("HGNC:1100"),
                    .source = kz_str_c("HGNC"),
                    .default_label = kz_str_c("x"),
                    .parser_name = kz_str_c("p"),
                    .string_match_strategy = kz_str_c("s")};
    KZ_CHECK_INT(kz_entity_add_mapping(d, ent, &m), 0);
    kz_span ss = {0, 5};
    KZ_CHECK_INT(kz_section_set_sentence_spans(d, sec, &ss, 1, &e), 0);

    size_t len;
    char *out = write_bioc(&d, 1, &len);
    KZ_CHECK(out != NULL);
    KZ_CHECK(strstr(out, "&#13;") != NULL);
    KZ_CHECK(memchr(out, '\x01', len) == NULL && memchr(out, '\x02', len) == NULL);
    results res;
    KZ_CHECK_INT(read_mem(out, len, KZ_FORMAT_BIOC_XML, NULL, &res), 0);
    KZ_CHECK_INT(res.n_errs, 0);
    KZ_CHECK_INT(res.n_docs, 1);
    const kz_doc *r = res.docs[0];
    KZ_CHECK_KSTR(r->idx, "id<&>\"");
    KZ_CHECK_KSTR(r->sections[0]->name, "we\"ird <name>");
    /* Each replaced character is still one code point: offsets hold. */
    KZ_CHECK_KSTR(r->sections[0]->text, "a\xEF\xBF\xBD"
                                        "b\r\nc & <d> \"]]>\" \t\xEF\xBF\xBD"
                                        "BRCA1 é");
    KZ_CHECK_KSTR(kz_meta_get(&r->metadata, "infons"), "{\"k\\\"ey\":\"v\xEF\xBF\xBD\"}");
    KZ_CHECK_KSTR(kz_meta_get(&r->sections[0]->metadata, "n"),
                  "\"[1,2]\""); /* non-strings come back as text */
    const kz_entity *re = r->sections[0]->entities[0];
    KZ_CHECK_KSTR(re->entity_class, "gene&co");
    KZ_CHECK_INT(re->n_spans, 2);
    const char *rt = r->sections[0]->text.ptr;
    KZ_CHECK(memcmp(rt + re->spans[1].start, "BRCA1", 5) == 0);
    KZ_CHECK_KSTR(re->match, "a BRCA1");
    KZ_CHECK_KSTR(re->mappings[0].idx, "HGNC:1100");
    KZ_CHECK_KSTR(re->mappings[0].source, "HGNC");
    KZ_CHECK_INT(r->sections[0]->n_sentence_spans, 1);
    KZ_CHECK_INT(r->sections[0]->sentence_spans[0].end, 7); /* 5 code points, 7 bytes after U+FFFD */
    free_results(&res);
    free(out);
    kz_doc_free(d);
}
