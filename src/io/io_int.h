/* Internals shared by readers and writers: the byte-stream input (file, stdin
 * or memory; gzip decoded transparently), the reader/writer objects and their
 * per-format vtables, and Python-compatible JSON emission helpers. */
#ifndef KZ_IO_INT_H
#define KZ_IO_INT_H

#include <zlib.h>
#include "../core/core_int.h"
#include "kazu/io.h"
#include "kazu/utf8.h"

/* ---- input stream ---------------------------------------------------------- */
typedef struct kz_input {
    gzFile gz;                /* file/stdin stream (plain files pass through) */
    int fd;                   /* owned fd, -1 if none */
    const unsigned char *mem; /* memory source (borrowed) */
    size_t mem_len, mem_pos;
    z_stream zs; /* memory gzip decoding */
    bool mem_gz, zs_init, zs_end;
    unsigned char *zbuf; /* decompressed-memory staging buffer */
    size_t zbuf_len, zbuf_pos;
    unsigned char *rbuf; /* read-ahead buffer for getline */
    size_t rbuf_len, rbuf_pos;
    int64_t offset; /* bytes consumed by the caller so far */
    int64_t line;   /* lines completed by getline so far */
    bool eof, error;
    char errmsg[160];
} kz_input;

int kz__input_open_path(kz_input *in, const char *path, kz_error *err);
int kz__input_open_mem(kz_input *in, const void *data, size_t len);
void kz__input_close(kz_input *in);
/* Read up to n bytes; returns bytes read (0 at EOF) or <0 on error. */
ptrdiff_t kz__input_read(kz_input *in, void *buf, size_t n);
/* Read one line (without the trailing \n or \r\n) into line. Returns 1 for a
 * line, 0 at EOF, KZ_ELIMIT if the line exceeds cap (the rest of that line
 * is skipped, so the caller can continue), <0 on I/O error. */
int kz__input_getline(kz_input *in, kz_buf *line, size_t cap);
/* Peek the first bytes after opening (for format guessing). */
size_t kz__input_peek(kz_input *in, void *buf, size_t n);

/* ---- readers ----------------------------------------------------------------- */
typedef struct kz_reader_vt {
    /* Same contract as kz_reader_next. */
    int (*next)(kz_reader *r, kz_doc **out, kz_error *err);
    void (*close)(kz_reader *r); /* free r->state; NULL = nothing */
} kz_reader_vt;

struct kz_reader {
    const kz_reader_vt *vt;
    kz_input in;
    kz_format fmt;
    kz_reader_params p;
    char name[256];    /* path or label for errors */
    void *state;       /* format-specific */
    bool done;         /* unrecoverable: next returns 0 */
    int64_t ndocs;     /* documents yielded so far */
    int64_t nwarnings; /* problems recorded in documents' "reader_warnings" metadata */
};

/* Fill err's location fields: path = r->name, line and byte offset. */
void kz__reader_locate(const kz_reader *r, kz_error *err, int64_t line, int64_t offset);

/* Each readable format provides an init that sets r->vt and r->state. */
int kz__reader_init_text(kz_reader *r, kz_error *err);
int kz__reader_init_jsonl(kz_reader *r, kz_error *err); /* jsonl + kazu-json (both per line) */
int kz__reader_init_pubtator(kz_reader *r, kz_error *err);
int kz__reader_init_bioc_xml(kz_reader *r, kz_error *err);
int kz__reader_init_bioc_json(kz_reader *r, kz_error *err);
int kz__reader_init_pubmed_xml(kz_reader *r, kz_error *err);

/* ---- writers ----------------------------------------------------------------- */
typedef struct kz_writer_vt {
    int (*begin)(kz_writer *w, kz_error *err); /* may be NULL */
    int (*write)(kz_writer *w, const kz_doc *doc, kz_error *err);
    int (*finish)(kz_writer *w, kz_error *err); /* may be NULL */
    void (*close)(kz_writer *w);                /* free state; may be NULL */
} kz_writer_vt;

struct kz_writer {
    const kz_writer_vt *vt;
    FILE *f; /* output stream (NULL for brat) */
    bool own_f;
    kz_format fmt;
    kz_writer_params p;
    char name[256]; /* path/dir or label */
    void *state;
    int64_t ndocs;
    kz_buf out; /* per-document staging buffer, flushed with kz__writer_flush */
};

/* Write w->out to w->f and clear it; KZ_EIO on failure. */
int kz__writer_flush(kz_writer *w, kz_error *err);

int kz__writer_init_kazu_json(kz_writer *w, kz_error *err);
int kz__writer_init_pubtator(kz_writer *w, kz_error *err);
int kz__writer_init_bioc_xml(kz_writer *w, kz_error *err);
int kz__writer_init_bioc_json(kz_writer *w, kz_error *err);
int kz__writer_init_brat(kz_writer *w, kz_error *err);
int kz__writer_init_conll(kz_writer *w, kz_error *err);
int kz__writer_init_label_studio(kz_writer *w, kz_error *err);

/* ---- JSON emission in Python json.dumps style --------------------------------- */
/* Quoted JSON string; ascii_only escapes non-ASCII as \uXXXX (surrogate pairs
 * above the BMP) exactly like Python's json.dumps(ensure_ascii=True). Input
 * must be valid UTF-8. */
int kz__json_put_string(kz_buf *b, const char *s, size_t len, bool ascii_only);
/* A double as Python's repr(float) prints it ("1.0", "0.1", "1e-05", "inf" is not JSON:
 * non-finite values are written as Python does: NaN, Infinity, -Infinity). */
int kz__json_put_double(kz_buf *b, double v);
/* Re-emit a compact raw JSON value with Python's ", " / ": " separators
 * (and ascii escaping). The value must be valid JSON (kz_meta guarantees it). */
int kz__json_put_raw(kz_buf *b, kz_str raw, bool ascii_only);
/* Emit a kz_meta object ({"k": v, ...}). */
int kz__json_put_meta(kz_buf *b, const kz_meta *m, bool ascii_only);

#endif
