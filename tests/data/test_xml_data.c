/* Real corpora through BioC XML: every BC5CDR/BioRED PubTator document, with
 * its gold annotations, survives PubTator -> BioC XML -> document unchanged. */
#include "kz_test.h"
#include "kazu/kazu.h"

static const char *const k_files[] = {
    "benchmarks/bc5cdr_pubtator/CDR_TrainingSet.PubTator.txt",
    "benchmarks/bc5cdr_pubtator/CDR_DevelopmentSet.PubTator.txt",
    "benchmarks/biored_pubtator/Train.PubTator",
    "benchmarks/biored_pubtator/Dev.PubTator",
};

static bool same_entity(const kz_entity *a, const kz_entity *b) {
    if (!kz_str_eq(a->entity_class, b->entity_class) || !kz_str_eq(a->match, b->match) ||
        a->n_spans != b->n_spans || a->n_mappings != b->n_mappings)
        return false;
    for (uint32_t i = 0; i < a->n_spans; i++)
        if (a->spans[i].start != b->spans[i].start || a->spans[i].end != b->spans[i].end) return false;
    for (uint32_t i = 0; i < a->n_mappings; i++) {
        const kz_mapping *x = &a->mappings[i], *y = &b->mappings[i];
        /* BioC keeps a source only as the id's prefix or an identifier key
         * (MESH); any other one of an unprefixed id comes back as "BioC". */
        bool kept = memchr(x->idx.ptr, ':', x->idx.len) || kz_str_eq_c(x->source, "MESH");
        if (!kz_str_eq(x->idx, y->idx) || !kz_str_eq_c(y->source, kept ? x->source.ptr : "BioC"))
            return false;
    }
    return true;
}

static bool same_doc(const kz_doc *a, const kz_doc *b) {
    if (!kz_str_eq(a->idx, b->idx) || a->n_sections != b->n_sections) return false;
    for (uint32_t i = 0; i < a->n_sections; i++) {
        const kz_section *x = a->sections[i], *y = b->sections[i];
        if (!kz_str_eq(x->name, y->name) || !kz_str_eq(x->text, y->text) || x->n_entities != y->n_entities)
            return false;
        for (uint32_t k = 0; k < x->n_entities; k++)
            if (!same_entity(x->entities[k], y->entities[k])) return false;
    }
    return true;
}

KZ_TEST(pubtator_corpora_round_trip_through_bioc_xml) {
    if (!kz_test_have_shared_data()) return;
    for (size_t f = 0; f < sizeof k_files / sizeof k_files[0]; f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", KZ_SHARED_DATA, k_files[f]);
        kz_reader *r;
        kz_error e;
        KZ_CHECK_INT(kz_reader_open_path(&r, path, KZ_FORMAT_PUBTATOR, NULL, &e), 0);
        kz_doc **docs = NULL;
        size_t n = 0, n_ents = 0, n_maps = 0;
        char *xml = NULL;
        size_t xml_len = 0;
        FILE *mem = open_memstream(&xml, &xml_len);
        kz_writer *w;
        KZ_CHECK_INT(kz_writer_open_file(&w, mem, "mem", KZ_FORMAT_BIOC_XML, NULL, &e), 0);
        kz_doc *d;
        int rc;
        while ((rc = kz_reader_next(r, &d, &e)) != 0) {
            if (rc < 0) continue; /* the PubTator reader's own tests cover its errors */
            KZ_CHECK_INT(kz_writer_write(w, d, &e), 0);
            docs = realloc(docs, (n + 1) * sizeof *docs);
            docs[n++] = d;
            n_ents += kz_doc_n_entities(d);
            for (uint32_t i = 0; i < d->n_sections; i++)
                for (uint32_t j = 0; j < d->sections[i]->n_entities; j++)
                    n_maps += d->sections[i]->entities[j]->n_mappings;
        }
        kz_reader_close(r);
        KZ_CHECK_INT(kz_writer_close(w, &e), 0);
        fclose(mem);
        KZ_CHECK(n >= 100);
        KZ_CHECK(n_ents >= 1000);
        KZ_CHECK(n_maps >= n_ents / 2); /* gold ids travel as identifier infons */

        KZ_CHECK_INT(kz_reader_open_mem(&r, xml, xml_len, "bioc", KZ_FORMAT_UNKNOWN, NULL, &e), 0);
        KZ_CHECK_INT(kz_reader_format(r), KZ_FORMAT_BIOC_XML);
        size_t k = 0;
        while ((rc = kz_reader_next(r, &d, &e)) == 1) {
            if (k < n && !same_doc(docs[k], d))
                kz_test_fail(__FILE__, __LINE__, "%s: document %s differs after BioC XML", k_files[f],
                             d->idx.ptr);
            kz_doc_free(d);
            k++;
        }
        KZ_CHECK_INT(rc, 0);
        KZ_CHECK_INT(kz_reader_warnings(r), 0);
        KZ_CHECK_INT(k, n);
        kz_reader_close(r);
        for (size_t i = 0; i < n; i++) kz_doc_free(docs[i]);
        free(docs);
        free(xml);
        printf("%s: %zu documents, %zu entities, %zu mappings\n", k_files[f], n, n_ents, n_maps);
    }
}
