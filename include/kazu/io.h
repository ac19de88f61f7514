/* Document readers and writers: streaming, format-tagged, with precise errors.
 * One reader yields documents one at a time in constant memory (gzip input is
 * detected transparently); one writer appends documents to a stream. */
#ifndef KAZU_IO_H
#define KAZU_IO_H

#include <stdio.h>
#include "doc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kz_format {
    KZ_FORMAT_UNKNOWN = 0,
    KZ_FORMAT_TEXT = 1,      /* read: one doc per file (or per line, see params) */
    KZ_FORMAT_JSONL = 2,     /* read: {"id","text"} | {"id","sections":{name:text}}; write = kazu-json */
    KZ_FORMAT_KAZU_JSON = 3, /* Kazu Document JSON; one document per line when streaming */
    KZ_FORMAT_PUBTATOR = 4,
    KZ_FORMAT_BIOC_XML = 5,
    KZ_FORMAT_BIOC_JSON = 6,
    KZ_FORMAT_PUBMED_XML = 7,   /* read only: PubMed/MEDLINE citation XML, .gz ok */
    KZ_FORMAT_BRAT = 8,         /* write: <dir>/<id>.txt + .ann */
    KZ_FORMAT_CONLL = 9,        /* write: token + one BIO column per class */
    KZ_FORMAT_LABEL_STUDIO = 10 /* write: JSON array of Label Studio tasks */
} kz_format;

/* Names as used by the CLI: "text", "jsonl", "kazu-json", "pubtator",
 * "bioc-xml", "bioc-json", "pubmed-xml", "brat", "conll", "label-studio". */
KZ_API const char *kz_format_name(kz_format f);
KZ_API kz_format kz_format_parse(const char *name); /* UNKNOWN if not a name */
KZ_API bool kz_format_can_read(kz_format f);
KZ_API bool kz_format_can_write(kz_format f);
/* Guess from a file name (".json", ".jsonl", ".xml", ".gz", ".txt", ...) and
 * optionally the first bytes (head may be NULL). UNKNOWN if no idea. */
KZ_API kz_format kz_format_guess(const char *path, const void *head, size_t head_len);

/* ---- readers ------------------------------------------------------------- */
typedef struct kz_reader_params {
    size_t max_record_bytes;  /* cap on one record/document; 0 = 64 MiB */
    bool text_one_per_line;   /* KZ_FORMAT_TEXT: each non-empty line is a document */
    const char *section_name; /* section name for text/jsonl "text"; NULL = "na" */
} kz_reader_params;
KZ_API kz_reader_params kz_reader_default_params(void);

typedef struct kz_reader kz_reader;

/* Open a file ("-" = stdin). gzip is detected by magic bytes. fmt UNKNOWN
 * guesses from name and content. Returns 0 or KZ_EIO/KZ_EFORMAT. */
KZ_API int kz_reader_open_path(kz_reader **out, const char *path, kz_format fmt,
                               const kz_reader_params *params, kz_error *err);
/* Read from memory (borrowed: data must stay valid until kz_reader_close);
 * name is used in error messages (may be NULL). gzip detected too. */
KZ_API int kz_reader_open_mem(kz_reader **out, const void *data, size_t len, const char *name, kz_format fmt,
                              const kz_reader_params *params, kz_error *err);
/* Next document.
 *   1: *out is a new document owned by the caller (kz_doc_free);
 *   0: end of input;
 *  <0: one record was bad; err names file, line/byte and reason. Call again:
 *      the reader resumes at the next record, or returns 0 when the rest of
 *      the stream cannot be recovered (e.g. malformed XML). */
KZ_API int kz_reader_next(kz_reader *r, kz_doc **out, kz_error *err);
/* Problems a reader recovered from inside documents it still returned (e.g.
 * a PubTator annotation dropped for bad offsets); each one is also listed in
 * that document's metadata "reader_warnings" (a JSON list of strings). */
KZ_API int64_t kz_reader_warnings(const kz_reader *r);
/* Bytes consumed so far from the (decompressed) stream; for progress. */
KZ_API int64_t kz_reader_bytes(const kz_reader *r);
KZ_API kz_format kz_reader_format(const kz_reader *r);
/* NULL is a no-op. */
KZ_API void kz_reader_close(kz_reader *r);

/* ---- writers ------------------------------------------------------------- */
typedef struct kz_writer_params {
    bool omit_linking_candidates;     /* drop "linking_candidates" (Kazu writes them all) */
    bool ascii_only;                  /* \uXXXX-escape non-ASCII as Python's json.dumps; default true */
    const char *const *conll_classes; /* CoNLL columns; NULL = default 8 classes */
    size_t n_conll_classes;
} kz_writer_params;
KZ_API kz_writer_params kz_writer_default_params(void);

typedef struct kz_writer kz_writer;

/* Write to a borrowed FILE (not closed by the writer). name for errors. Not
 * for KZ_FORMAT_BRAT, which needs a directory. */
KZ_API int kz_writer_open_file(kz_writer **out, FILE *f, const char *name, kz_format fmt,
                               const kz_writer_params *params, kz_error *err);
/* Write to a path ("-" = stdout). For KZ_FORMAT_BRAT the path is a directory
 * (created if missing) receiving <id>.txt and <id>.ann per document. */
KZ_API int kz_writer_open_path(kz_writer **out, const char *path, kz_format fmt,
                               const kz_writer_params *params, kz_error *err);
/* Append one document. The writer does not keep the pointer. */
KZ_API int kz_writer_write(kz_writer *w, const kz_doc *doc, kz_error *err);
/* Finish (closing brackets/tags), flush and free. Returns the first write
 * error if flushing failed. NULL is a no-op returning 0. */
KZ_API int kz_writer_close(kz_writer *w, kz_error *err);

/* ---- one-shot Kazu JSON (server, tests) ------------------------------------ */
/* Serialise to a malloc'd NUL-terminated string (caller frees with free()). */
KZ_API int kz_doc_to_kazu_json(const kz_doc *doc, const kz_writer_params *params, char **out,
                               size_t *out_len);
/* Parse one Kazu Document JSON object. *out owned by caller. */
KZ_API int kz_doc_from_kazu_json(const char *json, size_t len, kz_doc **out, kz_error *err);

#ifdef __cplusplus
}
#endif
#endif
