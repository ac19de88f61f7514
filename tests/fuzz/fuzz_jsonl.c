/* Fuzz target: the JSONL / Kazu JSON stream reader (lines, pretty-printed
 * values, arrays). Every document it yields must serialise as Kazu JSON that
 * reads back identically, and as BioC JSON and Label Studio tasks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kazu/kazu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_as(const kz_doc *doc, kz_format fmt) {
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    kz_writer *w;
    kz_error e;
    if (!f || kz_writer_open_file(&w, f, "fuzz-out", fmt, NULL, &e)) abort();
    if (kz_writer_write(w, doc, &e) || kz_writer_close(w, &e)) abort();
    fclose(f);
    free(mem);
}

static void check_doc(const kz_doc *doc) {
    char *a, *b;
    size_t na, nb;
    kz_doc *again;
    kz_error e;
    if (kz_doc_to_kazu_json(doc, NULL, &a, &na)) abort();
    if (kz_doc_from_kazu_json(a, na, &again, &e)) abort();
    if (kz_doc_to_kazu_json(again, NULL, &b, &nb) || na != nb || memcmp(a, b, na)) abort();
    kz_doc_free(again);
    free(a);
    free(b);
    write_as(doc, KZ_FORMAT_BIOC_JSON);
    write_as(doc, KZ_FORMAT_LABEL_STUDIO);
}

static void read_all(const uint8_t *data, size_t size, size_t cap) {
    kz_reader_params p = kz_reader_default_params();
    p.max_record_bytes = cap;
    kz_reader *r;
    kz_error e;
    if (kz_reader_open_mem(&r, data, size, "fuzz", KZ_FORMAT_JSONL, &p, &e)) abort();
    /* Each call consumes input, so more answers than bytes means a stall. */
    for (size_t calls = 0;; calls++) {
        if (calls > size + 1) abort();
        kz_doc *d;
        int rc = kz_reader_next(r, &d, &e);
        if (rc == 0) break;
        if (rc < 0) {
            if (d || !e.msg[0] || e.code != rc || !e.path[0]) abort();
            continue;
        }
        check_doc(d);
        kz_doc_free(d);
    }
    kz_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    read_all(data, size, 1u << 20);
    read_all(data, size, 64); /* the record cap paths */
    return 0;
}
