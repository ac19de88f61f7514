/* kazu-c: biomedical NER and entity linking in C (a rebuild of AstraZeneca's Kazu).
 *
 * The happy path (examples/happy_path.c, compiled and run in CI):
 *
 *   kz_reader *r; kz_writer *w; kz_doc *doc; kz_error err;
 *   kz_reader_open_path(&r, "examples/abstracts.jsonl", KZ_FORMAT_UNKNOWN, NULL, &err);
 *   kz_writer_open_file(&w, stdout, "stdout", KZ_FORMAT_KAZU_JSON, NULL, &err);
 *   while (kz_reader_next(r, &doc, &err) != 0) {      // <0: bad record, err says where
 *       if (doc) { kz_writer_write(w, doc, &err); kz_doc_free(doc); }
 *   }
 *   kz_writer_close(w, &err); kz_reader_close(r);
 *
 * Headers: core.h (errors, strings, arenas, logging), utf8.h (offsets),
 * doc.h (data model), io.h (readers/writers). */
#ifndef KAZU_KAZU_H
#define KAZU_KAZU_H

#include "core.h"
#include "utf8.h"
#include "doc.h"
#include "io.h"

#endif
