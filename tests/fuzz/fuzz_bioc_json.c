/* Fuzz target: the BioC JSON reader. Every document it yields must serialise
 * as BioC JSON and Kazu JSON, and the BioC output must be a fixed point: read
 * back without errors or warnings and written again byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kazu/kazu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read data as BioC JSON (record cap `cap`), write every document to *out. */
static void rewrite(const uint8_t *data, size_t size, size_t cap, char **out, size_t *out_len, int *errors,
                    int64_t *warnings) {
    kz_reader_params p = kz_reader_default_params();
    p.max_record_bytes = cap;
    kz_reader *r;
    kz_writer *w;
    kz_error e;
    if (kz_reader_open_mem(&r, data, size, "fuzz", KZ_FORMAT_BIOC_JSON, &p, &e)) abort();
    FILE *f = open_memstream(out, out_len);
    if (!f || kz_writer_open_file(&w, f, "fuzz-out", KZ_FORMAT_BIOC_JSON, NULL, &e)) abort();
    *errors = 0;
    for (size_t calls = 0;; calls++) {
        if (calls > size + 1) abort(); /* every answer consumes input */
        kz_doc *d;
        int rc = kz_reader_next(r, &d, &e);
        if (rc == 0) break;
        if (rc < 0) {
            if (d || !e.msg[0] || e.code != rc) abort();
            ++*errors;
            continue;
        }
        char *js;
        if (kz_writer_write(w, d, &e) || kz_doc_to_kazu_json(d, NULL, &js, NULL)) abort();
        free(js);
        kz_doc_free(d);
    }
    *warnings = kz_reader_warnings(r);
    kz_reader_close(r);
    if (kz_writer_close(w, &e)) abort();
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *once = NULL, *twice = NULL;
    size_t n1 = 0, n2 = 0;
    int errors;
    int64_t warnings;
    rewrite(data, size, 1u << 20, &once, &n1, &errors, &warnings);
    rewrite((const uint8_t *)once, n1, 1u << 30, &twice, &n2, &errors, &warnings);
    if (errors || warnings || n1 != n2 || memcmp(once, twice, n1)) abort();
    free(once);
    free(twice);
    once = NULL;
    rewrite(data, size, 64, &once, &n1, &errors, &warnings); /* the record cap paths */
    free(once);
    return 0;
}
