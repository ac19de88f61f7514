/* Shared body of the XML fuzz targets: read with the format under test, write
 * BioC XML, read that back and check it writes identically. */
#ifndef KZ_FUZZ_XML_H
#define KZ_FUZZ_XML_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kazu/kazu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read all of `data` as fmt (record cap `cap`); write each doc as BioC into
 * *out. Returns the number of documents; *errors counts the bad records. */
static int convert(const uint8_t *data, size_t size, kz_format fmt, size_t cap, char **out, size_t *out_len,
                   int *errors) {
    kz_reader_params p = kz_reader_default_params();
    p.max_record_bytes = cap;
    kz_reader *r;
    kz_writer *w;
    kz_error e;
    if (kz_reader_open_mem(&r, data, size, "fuzz", fmt, &p, &e)) abort();
    FILE *f = open_memstream(out, out_len);
    if (!f || kz_writer_open_file(&w, f, "fuzz-out", KZ_FORMAT_BIOC_XML, NULL, &e)) abort();
    int n = 0;
    *errors = 0;
    for (;;) {
        kz_doc *d;
        int rc = kz_reader_next(r, &d, &e);
        if (rc == 0) break;
        if (rc < 0) {
            if (!e.msg[0] || e.code != rc) abort(); /* an error always says what and where */
            ++*errors;
            continue;
        }
        if (kz_writer_write(w, d, &e)) abort();
        kz_doc_free(d);
        n++;
    }
    kz_reader_close(r);
    if (kz_writer_close(w, &e)) abort();
    fclose(f);
    return n;
}

static int fuzz_xml_roundtrip(const uint8_t *data, size_t size, kz_format fmt) {
    char *out = NULL, *again = NULL;
    size_t len = 0, len2 = 0;
    int errors;
    int n = convert(data, size, fmt, 1u << 20, &out, &len, &errors);
    if (convert((const uint8_t *)out, len, KZ_FORMAT_BIOC_XML, 1u << 24, &again, &len2, &errors) != n ||
        errors)
        abort();
    /* doc -> BioC -> doc -> BioC is a fixed point (compared after the dated header). */
    if (strcmp(strstr(out, "</key>"), strstr(again, "</key>")) != 0) abort();
    free(out);
    free(again);
    return 0;
}
#endif
