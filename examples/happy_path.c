/* The happy path from kazu.h: read examples/abstracts.jsonl, run the default
 * pipeline, write Kazu JSON to stdout. Compiled and run by CTest from the repo root. */
#include <stdio.h>
#include "kazu/kazu.h"

static int fail(const kz_error *err) {
    char buf[1024];
    fprintf(stderr, "happy_path: %s\n", kz_error_format(err, buf, sizeof buf));
    return 1;
}

int main(void) {
    kz_reader *r;
    kz_writer *w;
    kz_pipeline *p;
    kz_doc *doc;
    kz_error err;
    if (kz_pipeline_new_default(&p, &err)) return fail(&err);
    if (kz_reader_open_path(&r, "examples/abstracts.jsonl", KZ_FORMAT_UNKNOWN, NULL, &err)) return fail(&err);
    if (kz_writer_open_file(&w, stdout, "stdout", KZ_FORMAT_KAZU_JSON, NULL, &err)) return fail(&err);
    int rc, status = 0;
    while ((rc = kz_reader_next(r, &doc, &err)) != 0) { /* <0: one bad record; err says where */
        if (rc < 0) {
            status = fail(&err);
            continue;
        }
        kz_pipeline_run(p, &doc, 1, NULL, &err); /* per-document failures land in doc metadata */
        if (kz_writer_write(w, doc, &err)) status = fail(&err);
        kz_doc_free(doc);
    }
    if (kz_writer_close(w, &err)) status = fail(&err);
    kz_reader_close(r);
    kz_pipeline_free(p);
    return status;
}
