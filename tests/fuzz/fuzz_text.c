/* Fuzz target for the plain-text reader in both modes (whole input, one
 * document per line): every document must be writable as PubTator and CoNLL. */
#include <stdio.h>
#include <stdlib.h>
#include "kazu/kazu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_doc(const kz_doc *d, kz_format fmt) {
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f) abort();
    kz_writer *w;
    kz_error err;
    if (kz_writer_open_file(&w, f, "fuzz-out", fmt, NULL, &err) || kz_writer_write(w, d, &err) ||
        kz_writer_close(w, &err))
        abort();
    fclose(f);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    for (int per_line = 0; per_line < 2; per_line++) {
        kz_reader_params p = kz_reader_default_params();
        p.text_one_per_line = per_line;
        p.max_record_bytes = 1 << 12;
        kz_reader *r;
        kz_error err;
        if (kz_reader_open_mem(&r, data, size, "fuzz.txt", KZ_FORMAT_TEXT, &p, &err)) abort();
        kz_doc *d;
        int rc, ndocs = 0;
        while ((rc = kz_reader_next(r, &d, &err)) != 0) {
            if (rc < 0) {
                if (!err.msg[0]) abort();
                continue;
            }
            if (d->n_sections != 1 || d->sections[0]->text.len > p.max_record_bytes) abort();
            write_doc(d, KZ_FORMAT_PUBTATOR);
            write_doc(d, KZ_FORMAT_CONLL);
            kz_doc_free(d);
            ndocs++;
        }
        if (!per_line && ndocs > 1) abort(); /* whole-input mode yields at most one */
        kz_reader_close(r);
    }
    return 0;
}
