/* kazu-c: biomedical NER and entity linking in C (a rebuild of AstraZeneca's Kazu).
 *
 * The happy path (examples/happy_path.c, compiled and run in CI):
 *
 *   kz_reader *r; kz_writer *w; kz_pipeline *p; kz_doc *doc; kz_error err;
 *   kz_pipeline_new_default(&p, &err);                 // or a YAML file: config.h
 *   kz_reader_open_path(&r, "examples/abstracts.jsonl", KZ_FORMAT_UNKNOWN, NULL, &err);
 *   kz_writer_open_file(&w, stdout, "stdout", KZ_FORMAT_KAZU_JSON, NULL, &err);
 *   while (kz_reader_next(r, &doc, &err) != 0) {      // <0: bad record, err says where
 *       if (!doc) continue;
 *       kz_pipeline_run(p, &doc, 1, NULL, &err);        // failures land in doc metadata
 *       kz_writer_write(w, doc, &err); kz_doc_free(doc);
 *   }
 *   kz_writer_close(w, &err); kz_reader_close(r); kz_pipeline_free(p);
 *
 * Headers: core.h (errors, strings, arenas, logging), utf8.h (offsets),
 * doc.h (data model), io.h (readers/writers), config.h (YAML configuration),
 * pipeline.h (steps and the pipeline). */
#ifndef KAZU_KAZU_H
#define KAZU_KAZU_H

#include "core.h"
#include "utf8.h"
#include "doc.h"
#include "io.h"
#include "config.h"
#include "pipeline.h"
#include "normalise.h"
#include "text.h"
#include "kb.h"
#include "match.h"
#include "nn.h"

#endif
