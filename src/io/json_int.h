/* Plumbing shared by the JSON formats (Kazu JSON / JSONL, BioC JSON, Label
 * Studio): a record source that cuts a stream into JSON values, and helpers
 * that move jansson values into the data model. */
#ifndef KZ_IO_JSON_INT_H
#define KZ_IO_JSON_INT_H

#include <jansson.h>
#include "io_int.h"

/* Return the error of a fallible step (the JSON emitters chain many). */
#define TRY(x)                                                                                               \
    do {                                                                                                     \
        int rc_ = (x);                                                                                       \
        if (rc_) return rc_;                                                                                 \
    } while (0)

/* Cuts a reader's stream into JSON values. Line mode (JSONL): one value per
 * line, blank lines skipped, a bad line costs only that line. Value mode,
 * chosen when the stream starts with '[' or its first line is not a complete
 * JSON value: whitespace-separated values, any top-level array unwrapped into
 * its elements (Kazu's web API returns an array of documents). Each record is
 * capped at r->p.max_record_bytes. */
typedef struct kz_json_src {
    kz_reader *r;
    bool value_mode;
    kz_buf rec;         /* text of the current record */
    int64_t rec_line;   /* 1-based line where the record starts */
    int64_t rec_offset; /* byte offset where the record starts */
    /* value mode */
    char *chunk; /* read-ahead window over the stream */
    size_t chunk_len, chunk_pos;
    int64_t line, offset; /* position of chunk[chunk_pos] */
    int array_depth;      /* 1 inside a top-level (or unwrapped) array */
    bool array_first;     /* no element read yet in that array */
    bool wrapper;         /* that array is a member of a top-level object */
    bool eof;
    const char *const *unwrap; /* member names whose list is streamed (NULL-terminated) */
} kz_json_src;

/* unwrap (may be NULL) forces value mode and streams the elements of a list
 * under one of these names in a top-level object ({"documents": [...]}), so a
 * collection costs one document of memory; other members are skipped. */
int kz__json_src_init(kz_json_src *s, kz_reader *r, const char *const *unwrap);
void kz__json_src_free(kz_json_src *s);
/* 1: *out is the next value (caller json_decref's it); 0: end of input;
 * <0: the record was unusable (too long, malformed JSON, ...), err is located
 * and the next call continues after it, unless r->done was set. */
int kz__json_src_next(kz_json_src *s, json_t **out, kz_error *err);
/* Locate err at the current record (line, byte offset, no column). */
void kz__json_src_locate(const kz_json_src *s, kz_error *err);

/* Where a jansson parse error sits, turned into kz_error fields relative to
 * the parsed text that starts at (line, offset) of the stream. */
void kz__json_locate_parse_error(kz_error *err, const json_error_t *je, const char *text, size_t len,
                                 int64_t line, int64_t offset);
/* kz error code for a jansson parse error (KZ_EUTF8, KZ_ERANGE, KZ_ENOMEM or KZ_EPARSE). */
int kz__json_parse_code(const json_error_t *je);

/* One JSON value as compact text in Python's normal form (shortest float
 * repr, strings escaped as json.dumps(ensure_ascii=False)), the form kz_meta
 * stores so that writers re-emit floats as Kazu would. */
int kz__json_put_compact(kz_buf *b, const json_t *v);
/* m[key] = v in that form (tmp is scratch); _from_object does it for every member. */
int kz__json_meta_set(kz_doc *doc, kz_meta *m, const char *key, size_t key_len, const json_t *v, kz_buf *tmp);
int kz__json_meta_from_object(kz_doc *doc, kz_meta *m, const json_t *obj, kz_buf *tmp);

/* A JSON string member as a view (NULL ptr when absent, not a string or null). */
kz_str kz__json_str(const json_t *obj, const char *key);
/* "an object", "a string", ... for error messages. */
const char *kz__json_type_name(const json_t *v);
/* True if the member name k (kl bytes) is name. */
bool kz__json_key_is(const char *k, size_t kl, const char *name);

/* Full Kazu Document object -> document. tmp is a scratch arena the caller
 * resets; err gets "<path in the document>: reason" and the doc id. */
int kz__kazu_json_to_doc(const json_t *v, kz_arena *tmp, kz_doc **out, kz_error *err);
/* Serialise one document as Kazu's Document.to_json() would (no newline). */
int kz__kazu_json_put_doc(kz_buf *b, const kz_doc *doc, const kz_writer_params *p, kz_arena *tmp,
                          kz_error *err);

#endif
