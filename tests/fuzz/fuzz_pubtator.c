/* Fuzz target for the PubTator reader: every document it returns must be
 * written by the PubTator and CoNLL writers, and read back to the same shape. */
#include <stdio.h>
#include <stdlib.h>
#include "kazu/kazu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Write one document; any failure is a finding. Returns the malloc'd output. */
static char *write_doc(const kz_doc *d, kz_format fmt, size_t *len) {
    char *out = NULL;
    FILE *f = open_memstream(&out, len);
    if (!f) abort();
    kz_writer *w;
    kz_error err;
    if (kz_writer_open_file(&w, f, "fuzz-out", fmt, NULL, &err) || kz_writer_write(w, d, &err) ||
        kz_writer_close(w, &err))
        abort();
    fclose(f);
    return out;
}

static void check_round_trip(const kz_doc *d) {
    size_t len;
    char *out = write_doc(d, KZ_FORMAT_PUBTATOR, &len);
    kz_reader *r;
    kz_error err;
    kz_doc *back;
    if (kz_reader_open_mem(&r, out, len, "fuzz-rt", KZ_FORMAT_PUBTATOR, NULL, &err)) abort();
    /* Same sections (by code points), same entities, nothing to warn about. */
    if (kz_reader_next(r, &back, &err) != 1 || kz_reader_warnings(r) != 0) abort();
    if (back->n_sections != 2 || kz_doc_n_entities(back) != kz_doc_n_entities(d)) abort();
    for (uint32_t s = 0; s < 2; s++)
        if (kz_utf8_count(back->sections[s]->text.ptr, back->sections[s]->text.len) !=
            kz_utf8_count(d->sections[s]->text.ptr, d->sections[s]->text.len))
            abort();
    kz_doc_free(back);
    if (kz_reader_next(r, &back, &err) != 0) abort();
    kz_reader_close(r);
    free(out);
    free(write_doc(d, KZ_FORMAT_CONLL, &len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kz_reader_params p = kz_reader_default_params();
    p.max_record_bytes = 1 << 16; /* small enough for the caps to be reached */
    kz_reader *r;
    kz_error err;
    if (kz_reader_open_mem(&r, data, size, "fuzz", KZ_FORMAT_PUBTATOR, &p, &err)) return 0;
    kz_doc *d;
    int rc;
    while ((rc = kz_reader_next(r, &d, &err)) != 0) {
        if (rc < 0) {
            if (!err.msg[0]) abort(); /* every error says what went wrong */
            continue;
        }
        check_round_trip(d);
        kz_doc_free(d);
    }
    kz_reader_close(r);
    return 0;
}
