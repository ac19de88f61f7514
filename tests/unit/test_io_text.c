/* Line-oriented formats: plain-text and PubTator readers, PubTator, brat and
 * CoNLL writers, and the word tokenizer, against golden files in tests/golden/pubtator. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "kz_test.h"
#include "kazu/kazu.h"
#include "io/wordtok.h"

#define GOLDEN KZ_SOURCE_DIR "/tests/golden/pubtator/"

/* ---- helpers ------------------------------------------------------------------ */
typedef struct docs {
    kz_doc *d[64];
    int n;
} docs;

static void docs_free(docs *ds) {
    for (int i = 0; i < ds->n; i++) kz_doc_free(ds->d[i]);
    ds->n = 0;
}

/* Read every document of a file; errors are counted, not kept. */
static int read_all(const char *path, kz_format fmt, docs *ds) {
    kz_reader *r;
    kz_error err;
    ds->n = 0;
    if (kz_reader_open_path(&r, path, fmt, NULL, &err)) return -1;
    int rc, errors = 0;
    kz_doc *d;
    while ((rc = kz_reader_next(r, &d, &err)) != 0) {
        if (rc < 0)
            errors++;
        else if (ds->n < 64)
            ds->d[ds->n++] = d;
        else
            kz_doc_free(d);
    }
    kz_reader_close(r);
    return errors;
}

/* Write documents with a stream writer into a malloc'd string. */
static char *write_all(const docs *ds, kz_format fmt, const kz_writer_params *p) {
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    kz_writer *w;
    kz_error err;
    int rc = kz_writer_open_file(&w, f, "mem", fmt, p, &err);
    for (int i = 0; !rc && i < ds->n; i++) rc = kz_writer_write(w, ds->d[i], &err);
    if (!rc) rc = kz_writer_close(w, &err);
    fclose(f);
    if (rc) {
        free(out);
        return NULL;
    }
    return out;
}

static char *read_golden(const char *name) { return kz_test_read_file(name, NULL); }

static kz_doc *doc_by_id(const docs *ds, const char *id) {
    for (int i = 0; i < ds->n; i++)
        if (kz_str_eq_c(ds->d[i]->idx, id)) return ds->d[i];
    return NULL;
}

/* The entity of a section whose text at its span is `text`. */
static const kz_entity *entity_with_text(const kz_section *s, const char *text) {
    for (uint32_t i = 0; i < s->n_entities; i++)
        if (kz_str_eq_c(s->entities[i]->match, text)) return s->entities[i];
    return NULL;
}

/* ---- word tokenizer ------------------------------------------------------------ */
KZ_TEST(wordtok_splits_words_punctuation_and_symbols) {
    const char *s = "Na\xc3\xafve \xce\xb1\xce\xb2-cells cost \xe2\x82\xac"
                    "5\xf0\x9f\x98\x80 (IL-6)\xc2\xa0ok.";
    const char *want[] = {"Na\xc3\xafve",
                          "\xce\xb1\xce\xb2",
                          "-",
                          "cells",
                          "cost",
                          "\xe2\x82\xac",
                          "5",
                          "\xf0\x9f\x98\x80",
                          "(",
                          "IL",
                          "-",
                          "6",
                          ")",
                          "ok",
                          "."};
    size_t pos = 0, n = 0, len = strlen(s);
    kz_span t;
    while (kz__wordtok_next(s, len, &pos, &t)) {
        KZ_CHECK(n < sizeof want / sizeof want[0]);
        char tok[32];
        snprintf(tok, sizeof tok, "%.*s", (int)(t.end - t.start), s + t.start);
        KZ_CHECK_STR(tok, want[n]);
        n++;
    }
    KZ_CHECK_INT(n, sizeof want / sizeof want[0]);
    KZ_CHECK_INT(pos, len);
    KZ_CHECK(kz__wordtok_is_upper("\xce\x91x", 3, 0)); /* Greek capital alpha */
    KZ_CHECK(!kz__wordtok_is_upper("\xce\xb1x", 3, 0));
}

/* ---- plain text reader ------------------------------------------------------------ */
KZ_TEST(text_whole_input_is_one_document) {
    const char *in = "\xEF\xBB\xBF"
                     "Caf\xc3\xa9 costs \xe2\x82\xac"
                     "5.\r\nSecond line.\n";
    kz_reader *r;
    kz_error err;
    kz_reader_params p = kz_reader_default_params();
    p.section_name = "body";
    KZ_CHECK_INT(kz_reader_open_mem(&r, in, strlen(in), "some/dir/notes.txt.gz", KZ_FORMAT_TEXT, &p, &err),
                 0);
    kz_doc *d;
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 1);
    KZ_CHECK_KSTR(d->idx, "notes");
    KZ_CHECK_INT(d->n_sections, 1);
    KZ_CHECK_KSTR(d->sections[0]->name, "body");
    /* BOM dropped, everything else (CRLF included) kept byte for byte. */
    KZ_CHECK_KSTR(d->sections[0]->text, "Caf\xc3\xa9 costs \xe2\x82\xac"
                                        "5.\r\nSecond line.\n");
    kz_doc_free(d);
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 0);
    kz_reader_close(r);
}

KZ_TEST(text_empty_input_yields_one_empty_document) {
    kz_reader *r;
    kz_error err;
    KZ_CHECK_INT(kz_reader_open_mem(&r, "", 0, "empty.txt", KZ_FORMAT_TEXT, NULL, &err), 0);
    kz_doc *d;
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 1);
    KZ_CHECK_KSTR(d->idx, "empty");
    KZ_CHECK_KSTR(d->sections[0]->name, "na");
    KZ_CHECK_INT(d->sections[0]->text.len, 0);
    kz_doc_free(d);
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 0);
    kz_reader_close(r);
}

KZ_TEST(text_over_the_cap_is_an_error_then_end) {
    kz_reader *r;
    kz_error err;
    kz_reader_params p = kz_reader_default_params();
    p.max_record_bytes = 10;
    KZ_CHECK_INT(kz_reader_open_mem(&r, "0123456789A", 11, "big.txt", KZ_FORMAT_TEXT, &p, &err), 0);
    kz_doc *d;
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), KZ_ELIMIT);
    KZ_CHECK(strstr(err.msg, "10-byte") != NULL);
    KZ_CHECK_STR(err.path, "big.txt");
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 0);
    kz_reader_close(r);
    /* Exactly at the cap is fine. */
    KZ_CHECK_INT(kz_reader_open_mem(&r, "0123456789", 10, "ok.txt", KZ_FORMAT_TEXT, &p, &err), 0);
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 1);
    KZ_CHECK_INT(d->sections[0]->text.len, 10);
    kz_doc_free(d);
    kz_reader_close(r);
}

KZ_TEST(text_invalid_utf8_names_line_and_byte) {
    const char *in = "fine\nbad \xc3( here\n";
    kz_reader *r;
    kz_error err;
    KZ_CHECK_INT(kz_reader_open_mem(&r, in, strlen(in), "x.txt", KZ_FORMAT_TEXT, NULL, &err), 0);
    kz_doc *d;
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), KZ_EUTF8);
    KZ_CHECK_INT(err.line, 2);
    KZ_CHECK_INT(err.column, 5);
    KZ_CHECK_INT(err.offset, 9);
    KZ_CHECK_STR(err.doc_id, "x");
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 0);
    kz_reader_close(r);
}

KZ_TEST(text_one_document_per_line) {
    const char *in = "\xEF\xBB\xBF"
                     "first \xce\xb1\n\n   \nbad \xff line\nlast\r\n";
    kz_reader *r;
    kz_error err;
    kz_reader_params p = kz_reader_default_params();
    p.text_one_per_line = true;
    KZ_CHECK_INT(kz_reader_open_mem(&r, in, strlen(in), "lines.txt", KZ_FORMAT_TEXT, &p, &err), 0);
    kz_doc *d;
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 1);
    KZ_CHECK_KSTR(d->idx, "lines:1");
    KZ_CHECK_KSTR(d->sections[0]->text, "first \xce\xb1");
    kz_doc_free(d);
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), KZ_EUTF8);
    KZ_CHECK_INT(err.line, 4);
    KZ_CHECK_INT(err.offset, 17 + 4); /* line 4 starts at byte 17 */
    KZ_CHECK_STR(err.doc_id, "lines:4");
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 1);
    KZ_CHECK_KSTR(d->idx, "lines:5");
    KZ_CHECK_KSTR(d->sections[0]->text, "last");
    kz_doc_free(d);
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 0);
    kz_reader_close(r);

    /* A line over the cap is one error; reading goes on. */
    p.max_record_bytes = 4;
    KZ_CHECK_INT(kz_reader_open_mem(&r, "abcdefgh\nabc\n", 13, "-", KZ_FORMAT_TEXT, &p, &err), 0);
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), KZ_ELIMIT);
    KZ_CHECK_INT(err.line, 1);
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 1);
    KZ_CHECK_KSTR(d->idx, "stdin:2");
    kz_doc_free(d);
    kz_reader_close(r);
}

KZ_TEST(text_gzip_file_id_from_name) {
    char dir[] = "/tmp/kz_text_XXXXXX";
    KZ_CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/sample.txt.gz", dir);
    gzFile gz = gzopen(path, "wb");
    KZ_CHECK(gz != NULL);
    gzputs(gz, "Compressed \xce\xb2 text.");
    gzclose(gz);
    kz_reader *r;
    kz_error err;
    KZ_CHECK_INT(kz_reader_open_path(&r, path, KZ_FORMAT_TEXT, NULL, &err), 0);
    kz_doc *d;
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 1);
    KZ_CHECK_KSTR(d->idx, "sample");
    KZ_CHECK_KSTR(d->sections[0]->text, "Compressed \xce\xb2 text.");
    kz_doc_free(d);
    kz_reader_close(r);
    unlink(path);
    rmdir(dir);
}

/* ---- PubTator reader ---------------------------------------------------------------- */
KZ_TEST(pubtator_reads_all_variants) {
    docs ds;
    KZ_CHECK_INT(read_all(GOLDEN "mixed.txt", KZ_FORMAT_UNKNOWN, &ds), 0);
    KZ_CHECK_INT(ds.n, 5);

    /* NCBI-disease: original type kept, '+' composite split, OMIM source. */
    kz_doc *d = doc_by_id(&ds, "1000001");
    KZ_CHECK(d != NULL);
    KZ_CHECK_INT(d->n_sections, 2);
    KZ_CHECK_KSTR(d->sections[0]->name, "title");
    KZ_CHECK_KSTR(d->sections[1]->name, "abstract");
    const kz_entity *e = entity_with_text(d->sections[1], "Breast and ovarian cancer");
    KZ_CHECK(e != NULL);
    KZ_CHECK_KSTR(e->entity_class, "disease");
    KZ_CHECK_KSTR(kz_meta_get(&e->metadata, "pubtator_type"), "\"CompositeMention\"");
    KZ_CHECK_INT(e->start, 0);
    KZ_CHECK_INT(e->n_mappings, 2);
    KZ_CHECK_KSTR(e->mappings[0].idx, "D001943");
    KZ_CHECK_KSTR(e->mappings[0].source, "MESH");
    KZ_CHECK_KSTR(e->mappings[1].idx, "D010051");
    KZ_CHECK_KSTR(e->mappings[0].parser_name, "PubTator");
    KZ_CHECK_KSTR(e->mappings[0].default_label, "Breast and ovarian cancer");
    KZ_CHECK_KSTR(e->mappings[0].string_match_strategy, "gold");
    KZ_CHECK_INT(e->mappings[0].string_match_confidence, KZ_SMC_HIGHLY_LIKELY);
    KZ_CHECK_KSTR(e->namespace_, "PubTator");
    e = entity_with_text(d->sections[1], "ataxia-telangiectasia");
    KZ_CHECK(e != NULL);
    KZ_CHECK_KSTR(e->mappings[0].source, "OMIM");
    KZ_CHECK_KSTR(e->mappings[0].idx, "OMIM:208900");

    /* BC5CDR: "-1" means no id, extra columns and CID relations kept. */
    d = doc_by_id(&ds, "1000002");
    KZ_CHECK(d != NULL);
    e = entity_with_text(d->sections[1], "nalozone");
    KZ_CHECK(e != NULL);
    KZ_CHECK_KSTR(e->entity_class, "drug");
    KZ_CHECK_INT(e->n_mappings, 0);
    e = entity_with_text(d->sections[1], "renal and hepatic toxicity");
    KZ_CHECK(e != NULL);
    KZ_CHECK_INT(e->n_mappings, 2);
    KZ_CHECK_KSTR(kz_meta_get(&e->metadata, "pubtator_extra"), "[\"renal toxicity|hepatic toxicity\"]");
    KZ_CHECK_KSTR(kz_meta_get(&e->metadata, "pubtator_type"), "\"Disease\"");
    KZ_CHECK_KSTR(kz_meta_get(&d->metadata, "relations"),
                  "[[\"CID\",\"D008094\",\"D014202\"],[\"CID\",\"D016651\",\"D007674\"]]");
    KZ_CHECK(kz_meta_get(&d->metadata, "reader_warnings").ptr == NULL);

    /* BioRED: tmVar ids stay whole, comma lists split, prefixed ids. */
    d = doc_by_id(&ds, "1000003");
    KZ_CHECK(d != NULL);
    e = entity_with_text(d->sections[0], "p.V600E");
    KZ_CHECK(e != NULL);
    KZ_CHECK_KSTR(e->entity_class, "mutation");
    KZ_CHECK_INT(e->n_mappings, 1);
    KZ_CHECK_KSTR(e->mappings[0].idx, "p|SUB|V|600|E");
    KZ_CHECK_KSTR(e->mappings[0].source, "PubTator");
    e = entity_with_text(d->sections[0], "HeLa");
    KZ_CHECK(e != NULL);
    KZ_CHECK_KSTR(e->entity_class, "cell_line");
    e = entity_with_text(d->sections[0], "vemurafenib");
    KZ_CHECK(e != NULL);
    KZ_CHECK_KSTR(e->mappings[0].source, "MESH");
    KZ_CHECK_KSTR(e->mappings[0].idx, "MESH:D000077484");
    KZ_CHECK_INT(d->sections[1]->entities[0]->n_mappings, 2); /* "673,109880" */
    KZ_CHECK_KSTR(d->sections[1]->entities[0]->mappings[1].idx, "109880");
    e = entity_with_text(d->sections[1], "skin lesions");
    KZ_CHECK(e != NULL);
    KZ_CHECK_INT(e->n_mappings, 0);
    KZ_CHECK_KSTR(kz_meta_get(&d->metadata, "relations"),
                  "[[\"Association\",\"673\",\"MESH:D008545\",\"Novel\"],"
                  "[\"Positive_Correlation\",\"p|SUB|V|600|E\",\"MESH:D008545\",\"No\"]]");

    /* Annotation-free. */
    d = doc_by_id(&ds, "1000004");
    KZ_CHECK(d != NULL);
    KZ_CHECK_INT(kz_doc_n_entities(d), 0);
    KZ_CHECK_KSTR(d->sections[1]->text, "Its abstract has none either.");

    /* Non-ASCII: code-point offsets became byte offsets in the right section. */
    d = doc_by_id(&ds, "1000005");
    KZ_CHECK(d != NULL);
    e = entity_with_text(d->sections[0], "TNF-\xce\xb1");
    KZ_CHECK(e != NULL);
    KZ_CHECK_KSTR(e->entity_class, "gene");
    KZ_CHECK_KSTR(kz_meta_get(&e->metadata, "pubtator_type"), "\"Gene\"");
    const char *title = d->sections[0]->text.ptr;
    KZ_CHECK_INT(e->start, strstr(title, "TNF-") - title);
    KZ_CHECK_INT(e->end - e->start, 6);
    e = entity_with_text(d->sections[1], "IL-6");
    KZ_CHECK(e != NULL);
    const char *abs = d->sections[1]->text.ptr;
    KZ_CHECK_INT(e->start, strstr(abs, "IL-6") - abs);
    e = entity_with_text(d->sections[1], "\xce\xb2-cells");
    KZ_CHECK(e != NULL);
    KZ_CHECK_KSTR(e->entity_class, "CellType"); /* unknown types are kept verbatim */
    KZ_CHECK(kz_meta_get(&e->metadata, "pubtator_type").ptr == NULL);
    KZ_CHECK_INT(kz_doc_n_entities(d), 7);
    docs_free(&ds);
}

KZ_TEST(pubtator_malformed_lines_are_reported_and_skipped) {
    kz_reader *r;
    kz_error err;
    KZ_CHECK_INT(kz_reader_open_path(&r, GOLDEN "malformed.txt", KZ_FORMAT_PUBTATOR, NULL, &err), 0);
    kz_doc *d;
    /* An annotation before any title line: an error for that line. */
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), KZ_EPARSE);
    KZ_CHECK_INT(err.line, 1);
    KZ_CHECK(strstr(err.msg, "outside a document") != NULL);

    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 1);
    KZ_CHECK_KSTR(d->idx, "2000001");
    KZ_CHECK_INT(kz_doc_n_entities(d), 3);
    const kz_entity *e = entity_with_text(d->sections[0], "Z\xc3\xbcrich");
    KZ_CHECK(e != NULL);
    KZ_CHECK_KSTR(e->entity_class, "GeographicalFeature");
    KZ_CHECK_INT(e->start, 19);
    KZ_CHECK_INT(e->end, 26);
    /* A mention that differs from the text is kept at its offsets, with a warning. */
    KZ_CHECK(entity_with_text(d->sections[0], "cough") != NULL);
    e = entity_with_text(d->sections[1], "fever");
    KZ_CHECK(e != NULL);
    KZ_CHECK_INT(e->start, 17);
    kz_str w = kz_meta_get(&d->metadata, "reader_warnings");
    KZ_CHECK(w.ptr != NULL);
    const int lines[] = {5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
    const char *p = w.ptr;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char key[32];
        snprintf(key, sizeof key, "\"line %d: ", lines[i]);
        const char *hit = strstr(p, key);
        if (!hit) kz_test_fail(__FILE__, __LINE__, "no warning for line %d in %s", lines[i], w.ptr);
        KZ_CHECK(hit != NULL);
        p = hit + 1;
    }
    KZ_CHECK(strstr(w.ptr, "bad start offset 'abc'") != NULL);
    KZ_CHECK(strstr(w.ptr, "end 5 is not after its start 10") != NULL);
    KZ_CHECK(strstr(w.ptr, "beyond the document text (78 characters)") != NULL);
    KZ_CHECK(strstr(w.ptr, "for document '2000002', not '2000001'") != NULL);
    KZ_CHECK(strstr(w.ptr, "crosses from the title") != NULL);
    KZ_CHECK(strstr(w.ptr, "mention 'coffs' differs from the text 'cough'") != NULL);
    KZ_CHECK(strstr(w.ptr, "bad start offset '-5'") != NULL);
    KZ_CHECK(strstr(w.ptr, "bad end offset '99999999999999999999'") != NULL);
    KZ_CHECK(strstr(w.ptr, "invalid UTF-8 at byte 13") != NULL);
    KZ_CHECK(strstr(w.ptr, "empty type") != NULL);
    kz_doc_free(d);
    KZ_CHECK_INT(kz_reader_warnings(r), 13);

    /* Invalid UTF-8 in a title: the whole document is an error. */
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), KZ_EUTF8);
    KZ_CHECK_INT(err.line, 21);
    KZ_CHECK_STR(err.doc_id, "2000002");
    KZ_CHECK(strstr(err.msg, "title") != NULL);

    /* Next document starts without a blank line; CRLF line ends. */
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 1);
    KZ_CHECK_KSTR(d->idx, "2000003");
    KZ_CHECK_KSTR(d->sections[0]->text, "CRLF title");
    KZ_CHECK_KSTR(d->sections[1]->text, "An abstract.");
    KZ_CHECK_INT(kz_doc_n_entities(d), 1);
    KZ_CHECK_KSTR(d->sections[0]->entities[0]->mappings[0].source, "MESH");
    kz_doc_free(d);

    /* Abstract only: empty title, offsets still count its separator. */
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 1);
    KZ_CHECK_KSTR(d->idx, "2000004");
    KZ_CHECK_KSTR(d->sections[0]->text, "");
    KZ_CHECK_KSTR(d->sections[1]->entities[0]->match, "Only");
    KZ_CHECK_KSTR(d->sections[1]->entities[0]->entity_class, "species");
    kz_doc_free(d);
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 0);
    kz_reader_close(r);
}

KZ_TEST(pubtator_document_over_the_cap_is_skipped) {
    const char *in = "1|t|A title that is long enough.\n1|a|And an abstract.\n\n2|t|Short.\n2|a|\n";
    kz_reader *r;
    kz_error err;
    kz_reader_params p = kz_reader_default_params();
    p.max_record_bytes = 40;
    KZ_CHECK_INT(kz_reader_open_mem(&r, in, strlen(in), "cap", KZ_FORMAT_PUBTATOR, &p, &err), 0);
    kz_doc *d;
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), KZ_ELIMIT);
    KZ_CHECK_STR(err.doc_id, "1");
    KZ_CHECK_INT(err.line, 1);
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 1);
    KZ_CHECK_KSTR(d->idx, "2");
    KZ_CHECK_KSTR(d->sections[1]->text, "");
    kz_doc_free(d);
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 0);
    kz_reader_close(r);
}

/* ---- PubTator writer ------------------------------------------------------------------ */
KZ_TEST(pubtator_writer_matches_golden_and_is_stable) {
    docs ds;
    KZ_CHECK_INT(read_all(GOLDEN "mixed.txt", KZ_FORMAT_PUBTATOR, &ds), 0);
    char *got = write_all(&ds, KZ_FORMAT_PUBTATOR, NULL);
    char *want = read_golden(GOLDEN "mixed.expected.pubtator");
    KZ_CHECK(got && want);
    KZ_CHECK_STR(got, want);
    docs_free(&ds);
    /* Reading the output back and writing again changes nothing. */
    KZ_CHECK_INT(read_all(GOLDEN "mixed.expected.pubtator", KZ_FORMAT_PUBTATOR, &ds), 0);
    char *again = write_all(&ds, KZ_FORMAT_PUBTATOR, NULL);
    KZ_CHECK(again != NULL);
    KZ_CHECK_STR(again, want);
    docs_free(&ds);
    free(got);
    free(want);
    free(again);
}

static kz_doc *hand_doc(void) {
    kz_doc *d = kz_doc_new("a|b\tc", 5);
    kz_section *s1, *s2, *s3;
    kz_doc_add_section(d, "t", 1, "Caf\xc3\xa9\tbar\nbaz", 13, &s1, NULL);
    kz_doc_add_section(d, "p1", 2,
                       "\xe2\x82\xac"
                       "5 gene",
                       9, &s2, NULL);
    kz_doc_add_section(d, "p2", 2, "left and right lung", 19, &s3, NULL);
    kz_span sp1 = {0, 6}; /* "Café\t" */
    kz_entity_init in = {.spans = &sp1,
                         .n_spans = 1,
                         .entity_class = kz_str_c("drug"),
                         .namespace_ = kz_str_c("test"),
                         .mention_confidence = KZ_MENTION_HIGHLY_LIKELY};
    kz_entity *e;
    kz_section_add_entity(d, s1, &in, &e, NULL);
    kz_mapping m = {
        .idx = kz_str_c("CHEBI:1"), .source = kz_str_c("CHEBI"), .default_label = kz_str_c("caf")};
    kz_entity_add_mapping(d, e, &m);
    kz_entity_add_mapping(d, e, &m); /* duplicate id written once */
    m.idx = kz_str_c("X|Y");         /* needs ',' joining */
    kz_entity_add_mapping(d, e, &m);
    kz_span sp2 = {5, 9};
    in.spans = &sp2;
    in.entity_class = kz_str_c("gene");
    kz_section_add_entity(d, s2, &in, &e, NULL);
    m.idx = kz_str_c("A|B"); /* a single id holding '|': trailing ',' */
    kz_entity_add_mapping(d, e, &m);
    kz_span nc[2] = {{0, 4}, {15, 19}}; /* "left ... lung" */
    in.spans = nc;
    in.n_spans = 2;
    in.entity_class = kz_str_c("anatomy");
    kz_section_add_entity(d, s3, &in, &e, NULL);
    return d;
}

KZ_TEST(pubtator_writer_sections_non_contiguous_and_escaping) {
    docs ds = {.n = 1};
    ds.d[0] = hand_doc();
    char *got = write_all(&ds, KZ_FORMAT_PUBTATOR, NULL);
    KZ_CHECK(got != NULL);
    /* Title 12 code points; sections 2 and 3 joined by one space. */
    KZ_CHECK_STR(got, "a_b_c|t|Caf\xc3\xa9 bar baz\n"
                      "a_b_c|a|\xe2\x82\xac"
                      "5 gene left and right lung\n"
                      "a_b_c\t0\t5\tCaf\xc3\xa9 \tdrug\tCHEBI:1,X|Y\n"
                      "a_b_c\t16\t20\tgene\tgene\tA|B,\n"
                      "a_b_c\t21\t25\tleft\tanatomy\t\n"
                      "a_b_c\t36\t40\tlung\tanatomy\t\n"
                      "\n");
    /* And it reads back: ids split as written, offsets on the same text. */
    kz_reader *r;
    kz_error err;
    KZ_CHECK_INT(kz_reader_open_mem(&r, got, strlen(got), "rt", KZ_FORMAT_PUBTATOR, NULL, &err), 0);
    kz_doc *d;
    KZ_CHECK_INT(kz_reader_next(r, &d, &err), 1);
    KZ_CHECK_INT(kz_reader_warnings(r), 0);
    KZ_CHECK_INT(kz_doc_n_entities(d), 4);
    const kz_entity *e = d->sections[0]->entities[0];
    KZ_CHECK_INT(e->n_mappings, 2);
    KZ_CHECK_KSTR(e->mappings[1].idx, "X|Y");
    e = entity_with_text(d->sections[1], "gene");
    KZ_CHECK(e != NULL);
    KZ_CHECK_INT(e->n_mappings, 1);
    KZ_CHECK_KSTR(e->mappings[0].idx, "A|B");
    kz_doc_free(d);
    kz_reader_close(r);
    free(got);
    docs_free(&ds);
}

/* ---- brat -------------------------------------------------------------------------------- */
static int count_dir(const char *dir, int *hidden) {
    DIR *dp = opendir(dir);
    int n = 0;
    *hidden = 0;
    struct dirent *de;
    while (dp && (de = readdir(dp))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (de->d_name[0] == '.') ++*hidden;
        n++;
    }
    if (dp) closedir(dp);
    return n;
}

static void remove_dir(const char *dir) {
    DIR *dp = opendir(dir);
    struct dirent *de;
    char p[512];
    while (dp && (de = readdir(dp))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    if (dp) closedir(dp);
    rmdir(dir);
}

KZ_TEST(brat_writer_matches_golden) {
    docs ds;
    KZ_CHECK_INT(read_all(GOLDEN "mixed.txt", KZ_FORMAT_PUBTATOR, &ds), 0);
    char dir[] = "/tmp/kz_brat_XXXXXX";
    KZ_CHECK(mkdtemp(dir) != NULL);
    char out[300];
    snprintf(out, sizeof out, "%s/out", dir); /* created by the writer */
    kz_writer *w;
    kz_error err;
    KZ_CHECK_INT(kz_writer_open_path(&w, out, KZ_FORMAT_BRAT, NULL, &err), 0);
    for (int i = 0; i < ds.n; i++) KZ_CHECK_INT(kz_writer_write(w, ds.d[i], &err), 0);
    KZ_CHECK_INT(kz_writer_close(w, &err), 0);
    int hidden;
    KZ_CHECK_INT(count_dir(out, &hidden), 2 * ds.n);
    KZ_CHECK_INT(hidden, 0); /* no temporary files left */
    for (int i = 0; i < ds.n; i++) {
        for (int k = 0; k < 2; k++) {
            const char *ext = k ? ".ann" : ".txt";
            char a[512], b[512];
            snprintf(a, sizeof a, "%s/%s%s", out, ds.d[i]->idx.ptr, ext);
            snprintf(b, sizeof b, GOLDEN "brat/%s%s", ds.d[i]->idx.ptr, ext);
            char *got = kz_test_read_file(a, NULL), *want = kz_test_read_file(b, NULL);
            KZ_CHECK(got && want);
            KZ_CHECK_STR(got, want);
            free(got);
            free(want);
        }
    }
    remove_dir(out);
    rmdir(dir);
    docs_free(&ds);
}

KZ_TEST(brat_writer_names_fragments_and_sections) {
    char dir[] = "/tmp/kz_brat_XXXXXX";
    KZ_CHECK(mkdtemp(dir) != NULL);
    kz_writer *w;
    kz_error err;
    KZ_CHECK_INT(kz_writer_open_path(&w, dir, KZ_FORMAT_BRAT, NULL, &err), 0);
    kz_doc *d = hand_doc();
    char long_id[301];
    memset(long_id, 'x', 300);
    long_id[300] = 0;
    const char *ids[] = {"../etc/passwd", ".hidden", "", "same", "same", long_id};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        d->idx = kz_str_c(ids[i]);
        KZ_CHECK_INT(kz_writer_write(w, d, &err), 0);
    }
    KZ_CHECK_INT(kz_writer_close(w, &err), 0);
    const char *names[] = {"_._etc_passwd", "_hidden", "doc", "same", "same-2"};
    char p[600];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s.ann", dir, names[i]);
        KZ_CHECK(access(p, R_OK) == 0);
    }
    snprintf(p, sizeof p, "%s/%.200s.txt", dir, long_id);
    KZ_CHECK(access(p, R_OK) == 0);
    int hidden;
    KZ_CHECK_INT(count_dir(dir, &hidden), 12);
    KZ_CHECK_INT(hidden, 0);

    snprintf(p, sizeof p, "%s/same-2.txt", dir);
    char *txt = kz_test_read_file(p, NULL);
    KZ_CHECK(txt != NULL);
    KZ_CHECK_STR(txt, "Caf\xc3\xa9\tbar\nbaz\n\xe2\x82\xac"
                      "5 gene\nleft and right lung");
    free(txt);
    snprintf(p, sizeof p, "%s/same-2.ann", dir);
    char *ann = kz_test_read_file(p, NULL);
    KZ_CHECK(ann != NULL);
    KZ_CHECK_STR(ann, "T1\tdrug 0 5\tCaf\xc3\xa9 \n"
                      "N1\tReference T1 CHEBI:1\tcaf\n"
                      "N2\tReference T1 CHEBI:X|Y\tcaf\n"
                      "T2\tgene 16 20\tgene\n"
                      "N3\tReference T2 CHEBI:A|B\tcaf\n"
                      "T3\tanatomy 21 25;36 40\tleft lung\n");
    free(ann);
    remove_dir(dir);
    kz_doc_free(d);
}

/* ---- CoNLL --------------------------------------------------------------------------------- */
KZ_TEST(conll_writer_matches_golden) {
    docs ds;
    KZ_CHECK_INT(read_all(GOLDEN "mixed.txt", KZ_FORMAT_PUBTATOR, &ds), 0);
    static const char *const classes[] = {"disease", "drug", "gene", "mutation"};
    kz_writer_params p = kz_writer_default_params();
    p.conll_classes = classes;
    p.n_conll_classes = 4;
    char *got = write_all(&ds, KZ_FORMAT_CONLL, &p);
    char *want = read_golden(GOLDEN "mixed.expected.conll");
    KZ_CHECK(got && want);
    KZ_CHECK_STR(got, want);
    free(got);
    free(want);
    docs_free(&ds);
}

static kz_doc *conll_doc(const char *text, kz_section **sec) {
    kz_doc *d = kz_doc_new("c", 1);
    kz_doc_add_section(d, "s", 1, text, strlen(text), sec, NULL);
    return d;
}

static void add_ent(kz_doc *d, kz_section *s, const char *cls, const kz_span *sp, size_t n) {
    kz_entity_init in = {.spans = sp,
                         .n_spans = n,
                         .entity_class = kz_str_c(cls),
                         .mention_confidence = KZ_MENTION_HIGHLY_LIKELY};
    kz_section_add_entity(d, s, &in, NULL, NULL);
}

KZ_TEST(conll_sentences_multilabel_and_fragments) {
    kz_section *s;
    /* "sat. Dr" splits; "e.g. the" does not (lowercase); a newline splits. */
    kz_doc *d = conll_doc("A cat sat. Dr Li, e.g. the left and right lung!\nEGFR", &s);
    add_ent(d, s, "species", (kz_span[]){{3, 5}}, 1);             /* "at": part of "cat" */
    add_ent(d, s, "anatomy", (kz_span[]){{27, 31}, {42, 46}}, 2); /* left ... lung */
    add_ent(d, s, "gene", (kz_span[]){{48, 52}}, 1);
    add_ent(d, s, "disease", (kz_span[]){{48, 52}}, 1); /* same span, two classes */
    add_ent(d, s, "disease", (kz_span[]){{48, 50}}, 1); /* overlaps: earlier/longer wins */
    add_ent(d, s, "unlisted", (kz_span[]){{0, 1}}, 1);
    static const char *const classes[] = {"gene", "disease", "species", "anatomy"};
    kz_writer_params p = kz_writer_default_params();
    p.conll_classes = classes;
    p.n_conll_classes = 4;
    docs ds = {.n = 1};
    ds.d[0] = d;
    char *got = write_all(&ds, KZ_FORMAT_CONLL, &p);
    KZ_CHECK(got != NULL);
    KZ_CHECK_STR(got, "# columns: token gene disease species anatomy\n\n"
                      "-DOCSTART-\tO\tO\tO\tO\n\n"
                      "A\tO\tO\tO\tO\n"
                      "cat\tO\tO\tB-species\tO\n"
                      "sat\tO\tO\tO\tO\n"
                      ".\tO\tO\tO\tO\n"
                      "\n"
                      "Dr\tO\tO\tO\tO\n"
                      "Li\tO\tO\tO\tO\n"
                      ",\tO\tO\tO\tO\n"
                      "e\tO\tO\tO\tO\n"
                      ".\tO\tO\tO\tO\n"
                      "g\tO\tO\tO\tO\n"
                      ".\tO\tO\tO\tO\n"
                      "the\tO\tO\tO\tO\n"
                      "left\tO\tO\tO\tB-anatomy\n"
                      "and\tO\tO\tO\tO\n"
                      "right\tO\tO\tO\tO\n"
                      "lung\tO\tO\tO\tI-anatomy\n"
                      "!\tO\tO\tO\tO\n"
                      "\n"
                      "EGFR\tB-gene\tB-disease\tO\tO\n"
                      "\n");
    free(got);

    /* Sentence spans, when set, decide the breaks instead of the rule. */
    kz_span sents[2] = {{0, 17}, {18, 52}};
    KZ_CHECK_INT(kz_section_set_sentence_spans(d, s, sents, 2, NULL), 0);
    got = write_all(&ds, KZ_FORMAT_CONLL, &p);
    KZ_CHECK(got != NULL);
    KZ_CHECK(strstr(got, "Li\tO\tO\tO\tO\n,\tO\tO\tO\tO\n\ne\tO") != NULL);
    KZ_CHECK(strstr(got, ".\tO\tO\tO\tO\n\nDr") == NULL);
    KZ_CHECK(strstr(got, "!\tO\tO\tO\tO\nEGFR") != NULL);
    free(got);
    docs_free(&ds);
}

KZ_TEST(conll_rejects_bad_class_names) {
    static const char *const classes[] = {"gene", "two words"};
    kz_writer_params p = kz_writer_default_params();
    p.conll_classes = classes;
    p.n_conll_classes = 2;
    kz_writer *w;
    kz_error err;
    KZ_CHECK_INT(kz_writer_open_file(&w, stdout, "out", KZ_FORMAT_CONLL, &p, &err), KZ_EINVAL);
    KZ_CHECK(strstr(err.msg, "whitespace") != NULL);
}
