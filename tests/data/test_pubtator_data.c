/* Real PubTator corpora (BC5CDR, BioRED, NCBI-disease): every document and
 * annotation reads without error and survives a write/read round trip. */
#include <jansson.h>
#include "kz_test.h"
#include "kazu/kazu.h"

static const char *const k_files[] = {
    "benchmarks/bc5cdr_pubtator/CDR_TrainingSet.PubTator.txt",
    "benchmarks/bc5cdr_pubtator/CDR_DevelopmentSet.PubTator.txt",
    "benchmarks/biored_pubtator/Train.PubTator",
    "benchmarks/biored_pubtator/Dev.PubTator",
    "benchmarks/ncbi_disease_original/NCBItrainset_corpus.txt",
    "benchmarks/ncbi_disease_original/NCBIdevelopset_corpus.txt",
};

/* Annotation and relation lines in the raw file, counted independently of the reader. */
static void count_lines(const char *text, long *docs, long *anns, long *rels) {
    *docs = *anns = *rels = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *tab = memchr(p, '\t', len);
        if (tab) {
            if (tab[1] >= '0' && tab[1] <= '9')
                ++*anns;
            else
                ++*rels;
        } else if (len > 3 && memmem(p, len, "|t|", 3)) {
            ++*docs;
        }
        p = nl ? nl + 1 : p + len;
    }
}

static bool same_entity(const kz_entity *a, const kz_entity *b) {
    if (a->n_spans != b->n_spans || !kz_str_eq(a->entity_class, b->entity_class) ||
        a->n_mappings != b->n_mappings)
        return false;
    for (uint32_t i = 0; i < a->n_spans; i++)
        if (a->spans[i].start != b->spans[i].start || a->spans[i].end != b->spans[i].end) return false;
    for (uint32_t i = 0; i < a->n_mappings; i++)
        if (!kz_str_eq(a->mappings[i].idx, b->mappings[i].idx) ||
            !kz_str_eq(a->mappings[i].source, b->mappings[i].source))
            return false;
    kz_str ta = kz_meta_get(&a->metadata, "pubtator_type"), tb = kz_meta_get(&b->metadata, "pubtator_type");
    kz_str xa = kz_meta_get(&a->metadata, "pubtator_extra"), xb = kz_meta_get(&b->metadata, "pubtator_extra");
    return (ta.ptr ? tb.ptr && kz_str_eq(ta, tb) : !tb.ptr) &&
           (xa.ptr ? xb.ptr && kz_str_eq(xa, xb) : !xb.ptr);
}

static bool same_doc(const kz_doc *a, const kz_doc *b) {
    if (!kz_str_eq(a->idx, b->idx) || a->n_sections != b->n_sections) return false;
    kz_str ra = kz_meta_get(&a->metadata, "relations"), rb = kz_meta_get(&b->metadata, "relations");
    if (ra.ptr ? !rb.ptr || !kz_str_eq(ra, rb) : rb.ptr != NULL) return false;
    for (uint32_t s = 0; s < a->n_sections; s++) {
        const kz_section *x = a->sections[s], *y = b->sections[s];
        if (!kz_str_eq(x->name, y->name) || !kz_str_eq(x->text, y->text) || x->n_entities != y->n_entities)
            return false;
        for (uint32_t i = 0; i < x->n_entities; i++)
            if (!same_entity(x->entities[i], y->entities[i])) return false;
    }
    return true;
}

/* The writer orders lines by (start, end), keeping file order on ties: a
 * stable sort puts the first read's entities in the same order. */
static void sort_entities(kz_doc *d) {
    for (uint32_t s = 0; s < d->n_sections; s++) {
        kz_entity **e = d->sections[s]->entities;
        for (uint32_t i = 1; i < d->sections[s]->n_entities; i++) {
            kz_entity *x = e[i];
            uint32_t j = i;
            for (; j > 0 &&
                   (e[j - 1]->start > x->start || (e[j - 1]->start == x->start && e[j - 1]->end > x->end));
                 j--)
                e[j] = e[j - 1];
            e[j] = x;
        }
    }
}

static long n_relations(const kz_doc *d) {
    kz_str raw = kz_meta_get(&d->metadata, "relations");
    json_t *j = raw.ptr ? json_loadb(raw.ptr, raw.len, 0, NULL) : NULL;
    long n = j ? (long)json_array_size(j) : 0;
    json_decref(j);
    return n;
}

KZ_TEST(pubtator_corpora_read_and_round_trip) {
    if (!kz_test_have_shared_data()) {
        printf("SKIP: %s is absent; PubTator corpus test not run\n", KZ_SHARED_DATA);
        return;
    }
    for (size_t f = 0; f < sizeof k_files / sizeof k_files[0]; f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", KZ_SHARED_DATA, k_files[f]);
        size_t len;
        char *raw = kz_test_read_file(path, &len);
        KZ_CHECK(raw != NULL);
        long want_docs, want_anns, want_rels;
        count_lines(raw, &want_docs, &want_anns, &want_rels);

        kz_reader *r, *r2;
        kz_error err;
        KZ_CHECK_INT(kz_reader_open_mem(&r, raw, len, path, KZ_FORMAT_PUBTATOR, NULL, &err), 0);
        char *out = NULL;
        size_t out_len = 0;
        FILE *mf = open_memstream(&out, &out_len);
        kz_writer *w;
        KZ_CHECK_INT(kz_writer_open_file(&w, mf, "mem", KZ_FORMAT_PUBTATOR, NULL, &err), 0);
        long docs = 0, anns = 0, rels = 0, errors = 0;
        kz_doc **kept = NULL;
        kz_doc *d;
        int rc;
        while ((rc = kz_reader_next(r, &d, &err)) != 0) {
            if (rc < 0) {
                char buf[1024];
                fprintf(stderr, "  %s\n", kz_error_format(&err, buf, sizeof buf));
                errors++;
                continue;
            }
            kz_str warn = kz_meta_get(&d->metadata, "reader_warnings");
            if (warn.ptr) fprintf(stderr, "  warning in %s: %s\n", d->idx.ptr, warn.ptr);
            anns += (long)kz_doc_n_entities(d);
            rels += n_relations(d);
            KZ_CHECK_INT(kz_writer_write(w, d, &err), 0);
            kept = realloc(kept, (size_t)(docs + 1) * sizeof *kept);
            sort_entities(d);
            kept[docs++] = d;
        }
        int64_t warnings = kz_reader_warnings(r);
        kz_reader_close(r);
        KZ_CHECK_INT(kz_writer_close(w, &err), 0);
        fclose(mf);
        printf("%s: %ld docs, %ld annotations, %ld relations, %lld warnings\n", k_files[f], docs, anns, rels,
               (long long)warnings);
        KZ_CHECK_INT(errors, 0);
        KZ_CHECK_INT(docs, want_docs);
        KZ_CHECK_INT(anns, want_anns);
        KZ_CHECK_INT(rels, want_rels);
        KZ_CHECK_INT(warnings, 0);

        KZ_CHECK_INT(kz_reader_open_mem(&r2, out, out_len, "round-trip", KZ_FORMAT_PUBTATOR, NULL, &err), 0);
        long i = 0;
        while ((rc = kz_reader_next(r2, &d, &err)) == 1) {
            sort_entities(d);
            bool same = i < docs && same_doc(kept[i], d);
            if (!same) fprintf(stderr, "  round trip changed document %s\n", d->idx.ptr);
            kz_doc_free(d);
            KZ_CHECK(same);
            i++;
        }
        KZ_CHECK_INT(rc, 0);
        KZ_CHECK_INT(i, docs);
        KZ_CHECK_INT(kz_reader_warnings(r2), 0);
        kz_reader_close(r2);
        for (long k = 0; k < docs; k++) kz_doc_free(kept[k]);
        free(kept);
        free(out);
        free(raw);
    }
}
